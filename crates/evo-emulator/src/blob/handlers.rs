//! The Azure block-blob operations: Put Block, Put Block List, Put Blob, Get Block List, Get
//! Blob (ranges, conditional headers), with Azure's XML errors.

// Helpers answer `Result<_, Response>`: the error *is* the finished Azure error response.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use futures_util::StreamExt;

use super::headers::{add_metadata, content_md5, crc64_value, expected, metadata};
use super::xml;
use super::xml::error_response;
use crate::http_util::Query;
use crate::state::Shared;
use crate::storage::sas::{self, SasError};
use crate::storage::store::{Props, StoreError};

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn store_error(e: StoreError) -> Response {
    error_response(e.status, e.code, &e.message, None)
}

fn auth_failed(detail: &str) -> Response {
    error_response(
        403,
        "AuthenticationFailed",
        "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
        Some(detail),
    )
}

fn sas_error(e: SasError) -> Response {
    match e {
        SasError::Malformed(m) => auth_failed(&m),
        SasError::BadSignature => {
            auth_failed("Signature did not match. String to sign used was <redacted>")
        }
        SasError::Expired { start, expiry, now } => auth_failed(&format!(
            "Signature not valid in the specified time frame: Start [{start}] - Expiry [{expiry}] - Current [{now}]"
        )),
    }
}

fn common_headers(h: &mut HeaderMap) {
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        h.insert("x-ms-request-id", v);
    }
    h.insert(
        "x-ms-version",
        HeaderValue::from_static(sas::SERVICE_VERSION),
    );
}

fn props_headers(h: &mut HeaderMap, p: &Props) {
    if let Ok(v) = HeaderValue::from_str(&p.etag) {
        h.insert(header::ETAG, v);
    }
    let lm = httpdate::fmt_http_date(std::time::SystemTime::from(p.last_modified));
    if let Ok(v) = HeaderValue::from_str(&lm) {
        h.insert(header::LAST_MODIFIED, v);
    }
}

type BodyStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<bytes::Bytes, String>> + Send>>;

fn body_stream(body: Body) -> BodyStream {
    Box::pin(
        body.into_data_stream()
            .map(|r| r.map_err(|e| format!("request body: {e}"))),
    )
}

/// Azure's largest block (service version 2019-12-12 and later): 4000 MiB.
const MAX_BLOCK: u64 = 4000 * 1024 * 1024;
/// Azure's largest single Put Blob: 5000 MiB.
const MAX_PUT_BLOB: u64 = 5000 * 1024 * 1024;

fn require_length(headers: &HeaderMap, max: u64) -> Result<u64, Response> {
    let len = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| {
            error_response(
                411,
                "MissingContentLengthHeader",
                "Content-Length HTTP header is missing.",
                None,
            )
        })?;
    if len > max {
        return Err(error_response(
            413,
            "RequestBodyTooLarge",
            "The request body is too large and exceeds the maximum permissible limit.",
            None,
        ));
    }
    Ok(len)
}

/// The single entry point of the blob service.
pub(crate) async fn handler(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path((container, blob)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let q = Query::parse(raw.as_deref());
    let perms = match sas::verify(&shared, &container, &blob, &q) {
        Ok(p) => p,
        Err(e) => return sas_error(e),
    };
    let key = format!("{container}/{blob}");
    // Azure discards uncommitted blocks a week after the last Put Block; applied lazily here.
    let now = shared.clock.now();
    shared.blobs.expire_uncommitted(&key, now);
    let comp =
        q.0.iter()
            .find(|(k, _)| k == "comp")
            .map(|(_, v)| v.as_str());
    let needs_write = method == Method::PUT;
    if (needs_write && !perms.write) || (!needs_write && !perms.read) {
        return error_response(
            403,
            "AuthorizationPermissionMismatch",
            "This request is not authorized to perform this operation using this permission.",
            None,
        );
    }
    let result = match (&method, comp) {
        (&Method::PUT, Some("block")) => put_block(&shared, &key, &q, &headers, body, now).await,
        (&Method::PUT, Some("blocklist")) => put_block_list(&shared, &key, &headers, body).await,
        (&Method::PUT, None) => put_blob(&shared, &key, &headers, body).await,
        (&Method::GET, Some("blocklist")) => get_block_list(&shared, &key, &q, now),
        (&Method::GET | &Method::HEAD, None) => get_blob(&shared, &key, &method, &headers),
        (_, Some(other)) => Err(error_response(
            400,
            "InvalidQueryParameterValue",
            &format!(
                "Value for one of the query parameters specified in the request URI is invalid: comp={other}"
            ),
            None,
        )),
        _ => Err(error_response(
            405,
            "UnsupportedHttpVerb",
            "The resource doesn't support specified Http Verb.",
            None,
        )),
    };
    result.unwrap_or_else(|e| e)
}

async fn put_block(
    shared: &Shared,
    key: &str,
    q: &Query,
    headers: &HeaderMap,
    body: Body,
    now: time::OffsetDateTime,
) -> Result<Response, Response> {
    let invalid_id = || {
        error_response(
            400,
            "InvalidQueryParameterValue",
            "Value for one of the query parameters specified in the request URI is invalid: blockid",
            None,
        )
    };
    let id =
        q.0.iter()
            .find(|(k, _)| k == "blockid")
            .map(|(_, v)| v.clone())
            .ok_or_else(|| {
                error_response(
                    400,
                    "MissingRequiredQueryParameter",
                    "A query parameter that's mandatory for this request is not specified: blockid",
                    None,
                )
            })?;
    let decoded = b64().decode(id.as_bytes()).map_err(|_| invalid_id())?;
    if decoded.is_empty() || decoded.len() > 64 {
        return Err(invalid_id());
    }
    let length = require_length(headers, MAX_BLOCK)?;
    let expected = expected(headers)?;
    let computed = shared
        .blobs
        .put_block(
            key,
            &id,
            decoded,
            (body_stream(body), length),
            expected,
            now,
        )
        .await
        .map_err(store_error)?;
    let mut resp = StatusCode::CREATED.into_response();
    common_headers(resp.headers_mut());
    if let Some(Ok(v)) = computed
        .md5
        .map(|m| HeaderValue::from_str(&b64().encode(m)))
    {
        resp.headers_mut().insert("content-md5", v);
    }
    if let Some(crc) = computed.crc64 {
        resp.headers_mut()
            .insert("x-ms-content-crc64", crc64_value(crc));
    }
    resp.headers_mut().insert(
        "x-ms-request-server-encrypted",
        HeaderValue::from_static("true"),
    );
    Ok(resp)
}

async fn put_block_list(
    shared: &Shared,
    key: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Response> {
    let bytes = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .map_err(|_| {
            error_response(
                413,
                "RequestBodyTooLarge",
                "The request body is too large.",
                None,
            )
        })?;
    let list = xml::parse_block_list(&bytes).map_err(|e| {
        error_response(
            400,
            "InvalidXmlDocument",
            &format!("XML specified is not syntactically valid: {e}"),
            None,
        )
    })?;
    let mut decoded = Vec::with_capacity(list.len());
    for (kind, id) in list {
        let d = b64().decode(id.as_bytes()).map_err(|_| {
            error_response(
                400,
                "InvalidBlockList",
                "The specified block list is invalid.",
                None,
            )
        })?;
        decoded.push((kind, d));
    }
    let md5 = content_md5(headers, "x-ms-blob-content-md5")?.map(|m| b64().encode(m));
    let ctype = headers
        .get("x-ms-blob-content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let metadata = metadata(headers)?;
    let props = shared
        .blobs
        .put_block_list(key, decoded, md5, ctype, metadata)
        .map_err(store_error)?;
    shared.blob_committed(key, &props);
    let mut resp = StatusCode::CREATED.into_response();
    common_headers(resp.headers_mut());
    props_headers(resp.headers_mut(), &props);
    Ok(resp)
}

async fn put_blob(
    shared: &Shared,
    key: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Response> {
    match headers.get("x-ms-blob-type").and_then(|v| v.to_str().ok()) {
        None => {
            return Err(error_response(
                400,
                "MissingRequiredHeader",
                "An HTTP header that's mandatory for this request is not specified: x-ms-blob-type",
                None,
            ));
        }
        Some("BlockBlob") => {}
        Some(_) => {
            return Err(error_response(
                400,
                "InvalidHeaderValue",
                "The value for one of the HTTP headers is not in the correct format: x-ms-blob-type (only BlockBlob is supported)",
                None,
            ));
        }
    }
    let length = require_length(headers, MAX_PUT_BLOB)?;
    let expected = expected(headers)?;
    let metadata = metadata(headers)?;
    let ctype = headers
        .get("x-ms-blob-content-type")
        .or_else(|| headers.get(header::CONTENT_TYPE))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (props, computed) = shared
        .blobs
        .put_blob(key, body_stream(body), length, expected, ctype, metadata)
        .await
        .map_err(store_error)?;
    shared.blob_committed(key, &props);
    let mut resp = StatusCode::CREATED.into_response();
    common_headers(resp.headers_mut());
    props_headers(resp.headers_mut(), &props);
    if let Some(m) = props
        .content_md5
        .as_deref()
        .and_then(|m| HeaderValue::from_str(m).ok())
    {
        resp.headers_mut().insert("content-md5", m);
    }
    if let Some(crc) = computed.crc64 {
        resp.headers_mut()
            .insert("x-ms-content-crc64", crc64_value(crc));
    }
    Ok(resp)
}

fn get_block_list(
    shared: &Shared,
    key: &str,
    q: &Query,
    now: time::OffsetDateTime,
) -> Result<Response, Response> {
    let which =
        q.0.iter()
            .find(|(k, _)| k == "blocklisttype")
            .map(|(_, v)| v.to_ascii_lowercase());
    let (committed, uncommitted) = match which.as_deref() {
        None | Some("committed") => (true, false),
        Some("uncommitted") => (false, true),
        Some("all") => (true, true),
        Some(_) => {
            return Err(error_response(
                400,
                "InvalidQueryParameterValue",
                "Value for one of the query parameters specified in the request URI is invalid: blocklisttype",
                None,
            ));
        }
    };
    let view = shared.blobs.block_list(key, now).ok_or_else(|| {
        error_response(
            404,
            "BlobNotFound",
            "The specified blob does not exist.",
            None,
        )
    })?;
    let body = xml::block_list_xml(&view, committed, uncommitted);
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    common_headers(h);
    if let Some(p) = &view.props {
        props_headers(h, p);
        h.insert("x-ms-blob-content-length", HeaderValue::from(p.size));
    }
    Ok(resp)
}

/// A parsed `Range` header.
enum RangeReq {
    Whole,
    From(u64, Option<u64>),
    Suffix(u64),
}

fn parse_range(headers: &HeaderMap) -> RangeReq {
    let Some(v) = headers
        .get("x-ms-range")
        .or_else(|| headers.get(header::RANGE))
        .and_then(|v| v.to_str().ok())
    else {
        return RangeReq::Whole;
    };
    let Some(spec) = v.trim().strip_prefix("bytes=") else {
        return RangeReq::Whole;
    };
    if spec.contains(',') {
        // Several ranges are not supported by Azure either; serve the whole blob.
        return RangeReq::Whole;
    }
    let Some((a, b)) = spec.split_once('-') else {
        return RangeReq::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        return b.parse().map(RangeReq::Suffix).unwrap_or(RangeReq::Whole);
    }
    let Ok(start) = a.parse::<u64>() else {
        return RangeReq::Whole;
    };
    if b.is_empty() {
        return RangeReq::From(start, None);
    }
    match b.parse::<u64>() {
        Ok(end) if end >= start => RangeReq::From(start, Some(end)),
        _ => RangeReq::Whole,
    }
}

fn etag_matches(list: &str, etag: &str) -> bool {
    list.split(',')
        .map(str::trim)
        .any(|t| t == "*" || t == etag || t.trim_start_matches("W/") == etag)
}

fn get_blob(
    shared: &Shared,
    key: &str,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response, Response> {
    let not_found = || {
        if method == Method::HEAD {
            let mut r = StatusCode::NOT_FOUND.into_response();
            r.headers_mut()
                .insert("x-ms-error-code", HeaderValue::from_static("BlobNotFound"));
            common_headers(r.headers_mut());
            r
        } else {
            error_response(
                404,
                "BlobNotFound",
                "The specified blob does not exist.",
                None,
            )
        }
    };
    let props = shared.blobs.props(key).ok_or_else(not_found)?;
    if let Some(im) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) {
        if !etag_matches(im, &props.etag) {
            return Err(error_response(
                412,
                "ConditionNotMet",
                "The condition specified using HTTP conditional header(s) is not met.",
                None,
            ));
        }
    }
    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        if etag_matches(inm, &props.etag) {
            let mut r = StatusCode::NOT_MODIFIED.into_response();
            props_headers(r.headers_mut(), &props);
            common_headers(r.headers_mut());
            return Ok(r);
        }
    }
    let size = props.size;
    let range = match parse_range(headers) {
        RangeReq::Whole => None,
        RangeReq::From(start, end) => {
            if start >= size {
                return Err(unsatisfiable(size));
            }
            Some((start, end.map_or(size - 1, |e| e.min(size - 1))))
        }
        RangeReq::Suffix(n) => {
            if n == 0 || size == 0 {
                return Err(unsatisfiable(size));
            }
            Some((size - n.min(size), size - 1))
        }
    };
    let (status, start, end_excl) = match range {
        None => (StatusCode::OK, 0, size),
        Some((a, b)) => (StatusCode::PARTIAL_CONTENT, a, b + 1),
    };
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        let stream = shared
            .blobs
            .read(key, &props.etag, start, end_excl)
            .ok_or_else(not_found)?;
        Body::from_stream(stream)
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    common_headers(h);
    props_headers(h, &props);
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(end_excl - start));
    h.insert("x-ms-blob-type", HeaderValue::from_static("BlockBlob"));
    add_metadata(h, &props.metadata);
    let ctype = props
        .content_type
        .as_deref()
        .unwrap_or("application/octet-stream");
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(ctype)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if status == StatusCode::PARTIAL_CONTENT {
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{size}", end_excl - 1)) {
            h.insert(header::CONTENT_RANGE, v);
        }
    } else if let Some(m) = props
        .content_md5
        .as_deref()
        .and_then(|m| HeaderValue::from_str(m).ok())
    {
        h.insert("content-md5", m);
    }
    Ok(resp)
}

fn unsatisfiable(size: u64) -> Response {
    let mut r = error_response(
        416,
        "InvalidRange",
        "The range specified is invalid for the current size of the resource.",
        None,
    );
    if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
        r.headers_mut().insert(header::CONTENT_RANGE, v);
    }
    r
}
