//! Gzip for object JSON: request bodies above a threshold are compressed
//! (`Content-Encoding: gzip`), and compressed answers are inflated with a size limit, so a
//! small hostile body cannot expand without bound.

use std::io::{Read as _, Write as _};

use bytes::Bytes;

/// Bodies at least this large are compressed on the blocking thread pool.
const BLOCKING_THRESHOLD: usize = 1024 * 1024;

/// Runs `work` on the blocking pool when `large`, inline otherwise.
async fn run<T: Send + 'static>(
    large: bool,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    if large {
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| format!("the gzip task failed: {e}"))
    } else {
        Ok(work())
    }
}

/// Compresses `bytes` (fast level: object JSON compresses well even so).
pub(crate) async fn compress(bytes: Vec<u8>) -> Result<Bytes, evo_core::Error> {
    let large = bytes.len() >= BLOCKING_THRESHOLD;
    let work = move || -> std::io::Result<Bytes> {
        let mut encoder = flate2::write::GzEncoder::new(
            Vec::with_capacity(bytes.len() / 4 + 64),
            flate2::Compression::fast(),
        );
        encoder.write_all(&bytes)?;
        Ok(Bytes::from(encoder.finish()?))
    };
    run(large, work)
        .await
        .map_err(evo_core::Error::invalid_request)?
        .map_err(|e| evo_core::Error::io("compressing the request body", e))
}

/// Inflates a gzip body, failing when it inflates to more than `limit` bytes.
pub(crate) async fn decompress(body: Bytes, limit: usize) -> Result<Bytes, String> {
    let large = body.len() >= BLOCKING_THRESHOLD / 8;
    let work = move || -> Result<Bytes, String> {
        let mut out = Vec::with_capacity((body.len().saturating_mul(4)).min(limit));
        let read = flate2::read::MultiGzDecoder::new(&body[..])
            .take(limit as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("the gzip body is damaged: {e}"))?;
        if read > limit {
            return Err(format!(
                "the gzip body inflates to more than the limit of {limit} bytes"
            ));
        }
        Ok(Bytes::from(out))
    };
    run(large, work).await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trips_and_limits() {
        let text = br#"{"a": 1, "b": [1, 2, 3]}"#.repeat(1000);
        let packed = compress(text.clone()).await.unwrap();
        assert!(packed.len() < text.len() / 10);
        assert_eq!(
            decompress(packed.clone(), text.len()).await.unwrap(),
            &text[..]
        );
        let err = decompress(packed, text.len() - 1).await.unwrap_err();
        assert!(err.contains("limit"), "{err}");
        let err = decompress(Bytes::from_static(b"not gzip"), 100)
            .await
            .unwrap_err();
        assert!(err.contains("damaged"), "{err}");
    }
}
