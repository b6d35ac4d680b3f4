//! Finding a blob's size and version before the download: `HEAD`, or a first ranged `GET`, or
//! one whole `GET` when there is no ETag to pin ranges to.

use evo_core::Body;
use http::{Method, Request, Response, StatusCode, header};

use super::headers::{ContentRange, header_text, protocol, stored_md5};
use crate::blocks::MAX_BLOB_SIZE;
use crate::crc64;
use crate::digest::BlobDigest;
use crate::error::{Error, ErrorKind, Step};
use crate::request::Wire;

/// Size and version of a blob, and the body when the server ignored `Range`.
pub(super) struct Probe {
    pub(super) size: Option<u64>,
    pub(super) etag: Option<String>,
    /// The MD5 the blob service stores for the blob, when it says.
    pub(super) stored_md5: Option<BlobDigest>,
    /// The CRC-64 the blob's metadata holds (see [`crc64::METADATA_HEADER`]).
    pub(super) stored_crc64: Option<u64>,
    pub(super) whole: Option<Response<Body>>,
}

/// Finds size and ETag (see [`probe_claims`]); a size no blob can have is a protocol error,
/// so nothing is ever sized from it.
///
/// Ranges are pinned to the blob version with `If-Match`; without an ETag they could mix two
/// versions, so the blob is then fetched in one whole `GET` instead.
pub(super) async fn probe(wire: &Wire<'_>) -> Result<Probe, Error> {
    let probe = probe_claims(wire).await?;
    match probe.size {
        Some(size) if size > MAX_BLOB_SIZE => Err(Error::new(
            ErrorKind::Protocol,
            Step::Probe,
            format!(
                "the server claims the blob holds {size} bytes, more than any blob can ({MAX_BLOB_SIZE})"
            ),
        )),
        _ => Ok(probe),
    }
}

/// Without an ETag to pin ranges to, the blob is fetched in one whole `GET` (its answer
/// replaces the probe).
pub(super) async fn pinned_or_whole(wire: &Wire<'_>, probe: Probe) -> Result<Probe, Error> {
    if probe.etag.is_some() || probe.whole.is_some() || probe.size.is_none_or(|s| s == 0) {
        return Ok(probe);
    }
    tracing::debug!("no ETag to pin ranges to; fetching the blob in one GET");
    let whole = whole_get(wire).await?;
    match whole.size {
        Some(size) if size > MAX_BLOB_SIZE => Err(Error::new(
            ErrorKind::Protocol,
            Step::GetRange,
            format!("the server claims the blob holds {size} bytes, more than any blob can"),
        )),
        _ => Ok(whole),
    }
}

/// A plain `GET` of the whole blob (the answer's body is read by the caller).
async fn whole_get(wire: &Wire<'_>) -> Result<Probe, Error> {
    wire.retrying(Step::GetRange, None, |target| async move {
        let request = Request::builder()
            .method(Method::GET)
            .uri(target.url().as_str())
            .body(Body::empty())
            .map_err(|e| protocol(Step::GetRange, e.to_string()))?;
        let response = wire.send(request, Step::GetRange).await?;
        if response.status() != StatusCode::OK {
            return Err(wire
                .status_failure(Method::GET, &target, response, Step::GetRange)
                .await);
        }
        let headers = response.headers();
        Ok(Probe {
            size: header_text(headers, header::CONTENT_LENGTH).and_then(|v| v.trim().parse().ok()),
            etag: header_text(headers, header::ETAG),
            stored_md5: stored_md5(headers),
            stored_crc64: crc64::stored(headers),
            whole: Some(response),
        })
    })
    .await
}

/// What the server says of size and ETag: `HEAD`, or `GET bytes=0-0` when `HEAD` is refused
/// or not allowed.
async fn probe_claims(wire: &Wire<'_>) -> Result<Probe, Error> {
    let head = wire
        .retrying(Step::Probe, None, |target| async move {
            let request = Request::builder()
                .method(Method::HEAD)
                .uri(target.url().as_str())
                .body(Body::empty())
                .map_err(|e| protocol(Step::Probe, e.to_string()))?;
            let response = wire.send(request, Step::Probe).await?;
            let status = response.status();
            if status.is_success() {
                let headers = response.headers();
                let size = header_text(headers, header::CONTENT_LENGTH)
                    .ok_or_else(|| protocol(Step::Probe, "HEAD answered without Content-Length"))?
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| {
                        protocol(Step::Probe, "HEAD answered a malformed Content-Length")
                    })?;
                return Ok(Some((
                    size,
                    header_text(headers, header::ETAG),
                    stored_md5(headers),
                    crc64::stored(headers),
                )));
            }
            match status.as_u16() {
                // Not allowed, or this URL may not HEAD: ask with a ranged GET instead (which
                // renews the URL if it really expired).
                400 | 401 | 403 | 405 | 501 => Ok(None),
                _ => Err(wire
                    .status_failure(Method::HEAD, &target, response, Step::Probe)
                    .await),
            }
        })
        .await?;
    if let Some((size, etag, stored_md5, stored_crc64)) = head {
        return Ok(Probe {
            size: Some(size),
            etag,
            stored_md5,
            stored_crc64,
            whole: None,
        });
    }
    wire.retrying(Step::Probe, None, |target| async move {
        let request = Request::builder()
            .method(Method::GET)
            .uri(target.url().as_str())
            .header(header::RANGE, "bytes=0-0")
            .body(Body::empty())
            .map_err(|e| protocol(Step::Probe, e.to_string()))?;
        let response = wire.send(request, Step::Probe).await?;
        let etag = header_text(response.headers(), header::ETAG);
        let stored_md5 = stored_md5(response.headers());
        let stored_crc64 = crc64::stored(response.headers());
        match response.status() {
            StatusCode::PARTIAL_CONTENT => {
                let range = ContentRange::parse(response.headers())
                    .map_err(|m| protocol(Step::Probe, m))?;
                let total = range.total.ok_or_else(|| {
                    protocol(Step::Probe, "Content-Range of the probe has no total size")
                })?;
                if range.first != 0 || range.last != 0 || total == 0 {
                    return Err(protocol(
                        Step::Probe,
                        format!("asked for bytes 0-0, got {range:?}"),
                    ));
                }
                wire.read_exact(response.into_body(), 1, Step::Probe)
                    .await?;
                Ok(Probe {
                    size: Some(total),
                    etag,
                    stored_md5,
                    stored_crc64,
                    whole: None,
                })
            }
            StatusCode::OK => {
                // The server ignores Range: the body is the whole blob.
                let size = header_text(response.headers(), header::CONTENT_LENGTH)
                    .and_then(|v| v.trim().parse().ok());
                Ok(Probe {
                    size,
                    etag,
                    stored_md5,
                    stored_crc64,
                    whole: Some(response),
                })
            }
            StatusCode::RANGE_NOT_SATISFIABLE => {
                // Azure answers 416 to any range of an empty blob (`Content-Range: bytes */0`).
                let total = header_text(response.headers(), header::CONTENT_RANGE)
                    .and_then(|v| v.trim().strip_prefix("bytes */").map(str::to_owned))
                    .and_then(|v| v.parse::<u64>().ok());
                match total {
                    Some(0) => Ok(Probe {
                        size: Some(0),
                        etag,
                        stored_md5,
                        stored_crc64,
                        whole: None,
                    }),
                    _ => Err(wire
                        .status_failure(Method::GET, &target, response, Step::Probe)
                        .await),
                }
            }
            _ => Err(wire
                .status_failure(Method::GET, &target, response, Step::Probe)
                .await),
        }
    })
    .await
}
