//! Request and answer headers of the blob operations: the claimed checksums (`Content-MD5`,
//! `x-ms-content-crc64`) and user metadata (`x-ms-meta-*`).

// Helpers answer `Result<_, Response>`: the error *is* the finished Azure error response.
#![allow(clippy::result_large_err)]

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use base64::Engine;

use super::xml::error_response;
use crate::storage::checksum::Expected;
use crate::storage::store::Metadata;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Azure's limit on a blob's metadata: 8 KiB of names and values.
const MAX_METADATA: usize = 8 * 1024;

/// The checksums a Put Block or Put Blob claims for its body.
pub(crate) fn expected(headers: &HeaderMap) -> Result<Expected, Response> {
    Ok(Expected {
        md5: content_md5(headers, "content-md5")?,
        crc64: content_crc64(headers)?,
    })
}

/// An MD5 header (`Content-MD5`, `x-ms-blob-content-md5`): 16 bytes in base64.
pub(crate) fn content_md5(headers: &HeaderMap, name: &str) -> Result<Option<[u8; 16]>, Response> {
    let Some(v) = headers.get(name) else {
        return Ok(None);
    };
    let parsed = v
        .to_str()
        .ok()
        .and_then(|s| b64().decode(s.trim()).ok())
        .and_then(|b| <[u8; 16]>::try_from(b).ok());
    match parsed {
        Some(m) => Ok(Some(m)),
        None => Err(error_response(
            400,
            "InvalidMd5",
            "The MD5 value specified in the request is invalid.",
            None,
        )),
    }
}

/// `x-ms-content-crc64`: Azure's CRC-64 as 8 little-endian bytes in base64.
fn content_crc64(headers: &HeaderMap) -> Result<Option<u64>, Response> {
    let Some(v) = headers.get("x-ms-content-crc64") else {
        return Ok(None);
    };
    let parsed = v
        .to_str()
        .ok()
        .and_then(|s| b64().decode(s.trim()).ok())
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_le_bytes);
    match parsed {
        Some(c) => Ok(Some(c)),
        None => Err(error_response(
            400,
            "InvalidHeaderValue",
            "The value for one of the HTTP headers is not in the correct format: x-ms-content-crc64",
            None,
        )),
    }
}

/// The `x-ms-content-crc64` answer header for a computed CRC-64.
pub(crate) fn crc64_value(crc: u64) -> HeaderValue {
    HeaderValue::from_str(&b64().encode(crc.to_le_bytes())).unwrap_or(HeaderValue::from_static(""))
}

/// The user metadata of a Put Block List or Put Blob: every `x-ms-meta-NAME` header. Names must
/// be C# identifiers and values visible ASCII; names and values together at most 8 KiB.
pub(crate) fn metadata(headers: &HeaderMap) -> Result<Metadata, Response> {
    let mut metadata = Metadata::new();
    let mut total = 0;
    for (name, value) in headers {
        let Some(key) = name.as_str().strip_prefix("x-ms-meta-") else {
            continue;
        };
        let identifier = key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let value = value.to_str().ok().map(str::trim);
        let (true, Some(value)) = (identifier, value) else {
            return Err(error_response(
                400,
                "InvalidMetadata",
                "The metadata specified is invalid. It has characters that are not permitted.",
                None,
            ));
        };
        total += key.len() + value.len();
        if total > MAX_METADATA {
            return Err(error_response(
                400,
                "MetadataTooLarge",
                "The size of the specified metadata exceeds the maximum size permitted.",
                None,
            ));
        }
        if let Some(slot) = metadata.iter_mut().find(|(k, _)| k == key) {
            // A repeated header joins its values, as HTTP does.
            slot.1 = format!("{},{value}", slot.1);
        } else {
            metadata.push((key.to_owned(), value.to_owned()));
        }
    }
    Ok(metadata)
}

/// Adds a blob's metadata to a Get Blob or Get Blob Properties answer.
pub(crate) fn add_metadata(h: &mut HeaderMap, metadata: &Metadata) {
    for (key, value) in metadata {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(format!("x-ms-meta-{key}")),
            HeaderValue::from_str(value),
        ) {
            h.append(name, value);
        }
    }
}
