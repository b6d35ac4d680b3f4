//! Response bodies: hyper's `Incoming` as an [`evo_core::Body`] stream.

use bytes::Bytes;
use evo_core::Body;
use futures_util::StreamExt;
use http_body_util::BodyExt;

/// Streams a hyper response body, mapping its failures to I/O errors the connector
/// understands (`UnexpectedEof` for a body cut short, `TimedOut`, otherwise `Other`).
pub(crate) fn into_evo_body(body: hyper::body::Incoming) -> Body {
    let length = hyper::body::Body::size_hint(&body).exact();
    let stream = body
        .into_data_stream()
        .map(|chunk: Result<Bytes, hyper::Error>| chunk.map_err(crate::error::body_error));
    Body::from_stream(stream, length)
}
