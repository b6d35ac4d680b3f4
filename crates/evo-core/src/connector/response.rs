//! Reading a response: its body (within a size limit), its status, and an [`Error::Api`] made
//! from it, with the request's method and URL the attempt tagged it with.

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use serde::de::DeserializeOwned;

use crate::body::Body;
use crate::error::{ApiError, DecodeError, Error, TransportError, TransportErrorKind};

/// The largest error body kept in an [`ApiError`] (1 MiB); the rest is dropped.
pub(super) const MAX_ERROR_BODY_BYTES: usize = 1024 * 1024;

/// Reads a body fully, mapping stream failures to transport errors and oversize to decode errors.
pub(super) async fn read_body(
    body: Body,
    limit: usize,
    status: StatusCode,
) -> Result<Bytes, Error> {
    body.collect(limit).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => {
            DecodeError::new("a body within the size limit", status, e.to_string(), b"").into()
        }
        std::io::ErrorKind::TimedOut => {
            TransportError::new(TransportErrorKind::Timeout, e.to_string()).into()
        }
        _ => TransportError::new(
            TransportErrorKind::Connection,
            format!("reading the response body failed: {e}"),
        )
        .with_source(e)
        .into(),
    })
}

/// Reads at most `limit` bytes of an error body, keeping what arrived when the body is longer
/// or breaks off (an error report should not be lost because its body was).
pub(super) async fn collect_prefix(body: Body, limit: usize) -> Bytes {
    use futures_util::StreamExt;
    if let Some(bytes) = body.as_bytes() {
        return bytes.slice(..bytes.len().min(limit));
    }
    let mut stream = body.into_stream();
    let mut buf = bytes::BytesMut::new();
    while let Some(Ok(chunk)) = stream.next().await {
        let room = limit - buf.len();
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if buf.len() >= limit {
            break;
        }
    }
    buf.freeze()
}

/// Decodes a JSON response body as `T`, with a typed error naming `T` on failure.
pub async fn decode_json<T: DeserializeOwned>(
    response: Response<Body>,
    limit: usize,
) -> Result<T, Error> {
    let status = response.status();
    let bytes = read_body(response.into_body(), limit, status).await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        DecodeError::new(std::any::type_name::<T>(), status, e.to_string(), &bytes).into()
    })
}

/// Turns a response whose status is not expected into [`Error::Api`] (body kept, up to 1 MiB).
pub async fn check_status(
    response: Response<Body>,
    expected: Option<&[StatusCode]>,
) -> Result<Response<Body>, Error> {
    let status = response.status();
    let ok = match expected {
        Some(list) => list.contains(&status),
        None => status.is_success(),
    };
    if ok {
        return Ok(response);
    }
    Err(api_error_from_response(response, None, None).await)
}

/// Builds an [`Error::Api`] from a response, reading up to 1 MiB of its body.
pub async fn api_error_from_response(
    response: Response<Body>,
    method: Option<Method>,
    url: Option<&url::Url>,
) -> Error {
    let (parts, body) = response.into_parts();
    let body = collect_prefix(body, MAX_ERROR_BODY_BYTES).await;
    let fallback: url::Url = "http://unknown.invalid/".parse().expect("static URL");
    let url = match url {
        Some(u) => u.clone(),
        None => parts
            .extensions
            .get::<RequestUrl>()
            .map(|u| u.0.clone())
            .unwrap_or(fallback),
    };
    let method = method
        .or_else(|| parts.extensions.get::<RequestMethod>().map(|m| m.0.clone()))
        .unwrap_or(Method::GET);
    ApiError::new(method, &url, parts.status, parts.headers, body).into()
}

pub(super) fn tag(mut response: Response<Body>, method: &Method, url: &url::Url) -> Response<Body> {
    response.extensions_mut().insert(RequestUrl(url.clone()));
    response
        .extensions_mut()
        .insert(RequestMethod(method.clone()));
    response
}

/// The URL of the request, kept in the response extensions for error messages.
#[derive(Debug, Clone)]
struct RequestUrl(url::Url);
/// The method of the request, kept in the response extensions for error messages.
#[derive(Debug, Clone)]
struct RequestMethod(Method);
