//! Read timeouts that restart on progress: a slow link that keeps moving is never cut off,
//! a stalled one is. The API connector and evo-io's blob transfers send through
//! [`send_with_read_timeout`].

use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use http::{Request, Response};

use crate::body::{Body, BodyStream};
use crate::error::{TransportError, TransportErrorKind};
use crate::transport::Transport;

/// Sends `request` through `transport` with `limit` as an idle timeout, not a total one.
///
/// - While the request is sent, the clock restarts whenever the transport takes another chunk
///   of the request body (an in-memory body over 1 MiB is handed over in 256 KiB slices for
///   this), so a long upload on a slow link is not cut off; a server that stops reading, or
///   that took the whole request and never answers, fails with a
///   [`TransportErrorKind::Timeout`] once nothing happened for `limit`.
/// - The response body is wrapped by [`with_idle_timeout`]: waiting longer than `limit` for
///   its next chunk fails that read with [`std::io::ErrorKind::TimedOut`].
pub async fn send_with_read_timeout(
    transport: &dyn Transport,
    request: Request<Body>,
    limit: Duration,
) -> Result<Response<Body>, TransportError> {
    let activity = Arc::new(Activity::new());
    let request = request.map(|body| track_upload(body, activity.clone()));
    let sending = transport.send(request);
    tokio::pin!(sending);
    loop {
        let deadline = activity.last() + limit;
        tokio::select! {
            result = &mut sending => {
                return Ok(result?.map(|body| with_idle_timeout(body, limit)));
            }
            () = tokio::time::sleep_until(deadline) => {
                if activity.last() + limit <= tokio::time::Instant::now() {
                    return Err(TransportError::new(
                        TransportErrorKind::Timeout,
                        format!("no response within the read timeout of {limit:?}"),
                    ));
                }
            }
        }
    }
}

/// When the request of one attempt last made progress (started, or a body chunk was taken).
struct Activity(std::sync::Mutex<tokio::time::Instant>);

impl Activity {
    fn new() -> Self {
        Activity(std::sync::Mutex::new(tokio::time::Instant::now()))
    }
    fn touch(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = tokio::time::Instant::now();
    }
    fn last(&self) -> tokio::time::Instant {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// In-memory request bodies up to this size are sent as they are; larger ones are handed to
/// the transport in slices of [`UPLOAD_SLICE`] so that upload progress is seen.
const UPLOAD_TRACKING_THRESHOLD: usize = 1024 * 1024;
const UPLOAD_SLICE: usize = 256 * 1024;

/// Marks `activity` whenever the transport takes a chunk of the request body.
fn track_upload(body: Body, activity: Arc<Activity>) -> Body {
    if let Some(bytes) = body.as_bytes()
        && bytes.len() <= UPLOAD_TRACKING_THRESHOLD
    {
        return body;
    }
    let length = body.len_hint();
    let stream: BodyStream = match body.as_bytes() {
        Some(bytes) => {
            let bytes = bytes.clone();
            let slices = (0..bytes.len())
                .step_by(UPLOAD_SLICE)
                .map(move |start| Ok(bytes.slice(start..(start + UPLOAD_SLICE).min(bytes.len()))))
                .collect::<Vec<_>>();
            Box::pin(futures_util::stream::iter(slices))
        }
        None => body.into_stream(),
    };
    let stream = futures_util::StreamExt::inspect(stream, move |_| activity.touch());
    Body::from_stream(stream, length)
}

/// Wraps a streamed body so that waiting longer than `limit` for its next chunk fails that
/// read with [`std::io::ErrorKind::TimedOut`]; the clock restarts with every chunk. A body held
/// in memory is returned as it is.
pub fn with_idle_timeout(body: Body, limit: Duration) -> Body {
    if body.is_replayable() {
        return body;
    }
    let len = body.len_hint();
    Body::from_stream(
        IdleTimeout {
            inner: body.into_stream(),
            limit,
            sleep: Box::pin(tokio::time::sleep(limit)),
        },
        len,
    )
}

struct IdleTimeout {
    inner: BodyStream,
    limit: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl Stream for IdleTimeout {
    type Item = Result<Bytes, std::io::Error>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(item) => {
                let deadline = tokio::time::Instant::now() + self.limit;
                self.sleep.as_mut().reset(deadline);
                Poll::Ready(item)
            }
            Poll::Pending => match self.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no body data within the read timeout of {:?}", self.limit),
                )))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}
