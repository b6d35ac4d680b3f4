//! A workspace's thumbnail: get, put, delete.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

use crate::http_util::{ApiError, no_content};
use crate::state::{Role, Shared};

use super::common::S;
use super::common::{API, not_found, respond, ws_mut};

pub(super) const THUMBNAIL_LIMIT: usize = 10 * 1024 * 1024;

pub(super) async fn get_thumbnail(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
        let mut model = shared.model();
        let w = ws_mut(&mut model, &c, Role::Viewer, false)?;
        let Some((bytes, ctype)) = w.thumbnail.clone() else {
            return Err(not_found("This workspace has no thumbnail."));
        };
        let mut resp = Response::new(Body::from(bytes));
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
        Ok(resp)
    })())
}

pub(super) async fn put_thumbnail(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let bytes = axum::body::to_bytes(body, THUMBNAIL_LIMIT + 1).await;
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
        let bytes = match bytes {
            Ok(b) if b.len() <= THUMBNAIL_LIMIT => b,
            _ => {
                return Err(ApiError::new(
                    S,
                    413,
                    "thumbnail/too-large",
                    "Payload Too Large.",
                    "Thumbnails are limited to 10 MB.",
                ));
            }
        };
        let ctype = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            "image/jpeg"
        } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            "image/png"
        } else {
            return Err(ApiError::new(
                S,
                400,
                "thumbnail/invalid-image",
                "Bad Request.",
                "The thumbnail must be a PNG or JPEG image.",
            ));
        };
        let now = shared.clock.now();
        let mut model = shared.model();
        let w = ws_mut(&mut model, &c, Role::Editor, false)?;
        w.thumbnail = Some((bytes.to_vec(), ctype));
        w.touch(now, c.user);
        Ok(no_content())
    })())
}

pub(super) async fn delete_thumbnail(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
        let now = shared.clock.now();
        let mut model = shared.model();
        let w = ws_mut(&mut model, &c, Role::Editor, false)?;
        if w.thumbnail.take().is_some() {
            w.touch(now, c.user);
        }
        Ok(no_content())
    })())
}
