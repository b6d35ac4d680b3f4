//! Request and response bodies: in memory (replayable) or streamed.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt;
use http_body::Frame;
use sync_wrapper::SyncWrapper;

/// A stream of body chunks. Errors are plain I/O errors so that any transport can produce them.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static>>;

/// Makes a fresh stream of the same content each time it is called (see
/// [`Body::from_stream_factory`]).
pub type StreamFactory = Arc<dyn Fn() -> BodyStream + Send + Sync + 'static>;

/// The body of a request or a response.
///
/// A body is either held in memory as [`Bytes`] (cheap to clone, so a retry or the re-send after a
/// 401 can send it again), a stream of chunks, which can be sent only once, or a stream made by
/// a factory, which can be made again for each attempt.
pub struct Body {
    inner: Inner,
}

enum Inner {
    Full(Bytes),
    // SyncWrapper makes `Body` (and so every request future holding one) `Sync` without asking
    // callers for `Sync` streams: the stream is only ever touched through `&mut`.
    Stream {
        stream: SyncWrapper<BodyStream>,
        length: Option<u64>,
    },
    Factory {
        factory: StreamFactory,
        current: SyncWrapper<Option<BodyStream>>,
        length: Option<u64>,
    },
}

impl Body {
    /// An empty body.
    pub fn empty() -> Self {
        Self::from_bytes(Bytes::new())
    }

    /// A body held in memory.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        Body {
            inner: Inner::Full(bytes.into()),
        }
    }

    /// A streamed body. `length`, when known, is sent as `Content-Length` by transports that can.
    pub fn from_stream<S>(stream: S, length: Option<u64>) -> Self
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    {
        Body {
            inner: Inner::Stream {
                stream: SyncWrapper::new(Box::pin(stream)),
                length,
            },
        }
    }

    /// A streamed body that can be sent again: `factory` makes a fresh stream of the same
    /// content for each attempt (e.g. by reopening a file region), so retries and the re-send
    /// after a 401 work without holding the content in memory. `length`, when known, is sent
    /// as `Content-Length`.
    pub fn from_stream_factory<F>(factory: F, length: Option<u64>) -> Self
    where
        F: Fn() -> BodyStream + Send + Sync + 'static,
    {
        Body {
            inner: Inner::Factory {
                factory: Arc::new(factory),
                current: SyncWrapper::new(None),
                length,
            },
        }
    }

    /// The bytes of an in-memory body; `None` for a stream.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match &self.inner {
            Inner::Full(bytes) => Some(bytes),
            Inner::Stream { .. } | Inner::Factory { .. } => None,
        }
    }

    /// True when the body can be sent again (held in memory, or made by a stream factory).
    pub fn is_replayable(&self) -> bool {
        matches!(self.inner, Inner::Full(_) | Inner::Factory { .. })
    }

    /// A copy of a replayable body (in memory, or a fresh stream from its factory); `None`
    /// for a plain stream, which can be read only once.
    pub fn try_clone(&self) -> Option<Body> {
        match &self.inner {
            Inner::Full(bytes) => Some(Body::from_bytes(bytes.clone())),
            Inner::Factory {
                factory, length, ..
            } => Some(Body {
                inner: Inner::Factory {
                    factory: factory.clone(),
                    current: SyncWrapper::new(None),
                    length: *length,
                },
            }),
            Inner::Stream { .. } => None,
        }
    }

    /// The exact length, when known.
    pub fn len_hint(&self) -> Option<u64> {
        match &self.inner {
            Inner::Full(bytes) => Some(bytes.len() as u64),
            Inner::Stream { length, .. } | Inner::Factory { length, .. } => *length,
        }
    }

    /// Turns the body into a stream of chunks (an in-memory body becomes one chunk).
    pub fn into_stream(self) -> BodyStream {
        match self.inner {
            Inner::Full(bytes) if bytes.is_empty() => Box::pin(futures_util::stream::empty()),
            Inner::Full(bytes) => Box::pin(futures_util::stream::once(async move { Ok(bytes) })),
            Inner::Stream { stream, .. } => stream.into_inner(),
            Inner::Factory {
                factory, current, ..
            } => current.into_inner().unwrap_or_else(|| factory()),
        }
    }

    /// Reads the whole body into memory, failing with [`std::io::ErrorKind::InvalidData`] once
    /// more than `limit` bytes arrived (a server cannot make the client buffer without bound).
    pub async fn collect(self, limit: usize) -> Result<Bytes, std::io::Error> {
        let mut stream = match self.inner {
            Inner::Full(bytes) if bytes.len() <= limit => return Ok(bytes),
            Inner::Full(bytes) => return Err(too_large(limit, bytes.len())),
            Inner::Stream { stream, .. } => stream.into_inner(),
            Inner::Factory {
                factory, current, ..
            } => current.into_inner().unwrap_or_else(|| factory()),
        };
        let mut buf = BytesMut::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            if buf.len() + chunk.len() > limit {
                return Err(too_large(limit, buf.len() + chunk.len()));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    }
}

fn too_large(limit: usize, seen: usize) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("body larger than the limit of {limit} bytes (at least {seen} bytes)"),
    )
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the content: it may hold tokens or secrets.
        match &self.inner {
            Inner::Full(bytes) => write!(f, "Body::Full({} bytes)", bytes.len()),
            Inner::Stream { length, .. } => write!(f, "Body::Stream(length: {length:?})"),
            Inner::Factory { length, .. } => {
                write!(f, "Body::StreamFactory(length: {length:?})")
            }
        }
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Body::from_bytes(bytes)
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Body::from_bytes(bytes)
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Body::from_bytes(text)
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Body::from_bytes(Bytes::from_static(text.as_bytes()))
    }
}

impl From<&'static [u8]> for Body {
    fn from(bytes: &'static [u8]) -> Self {
        Body::from_bytes(Bytes::from_static(bytes))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = self.get_mut();
        match &mut this.inner {
            Inner::Full(bytes) => {
                if bytes.is_empty() {
                    Poll::Ready(None)
                } else {
                    Poll::Ready(Some(Ok(Frame::data(std::mem::take(bytes)))))
                }
            }
            Inner::Stream { stream, .. } => stream
                .get_mut()
                .as_mut()
                .poll_next(cx)
                .map(|item| item.map(|res| res.map(Frame::data))),
            Inner::Factory {
                factory, current, ..
            } => current
                .get_mut()
                .get_or_insert_with(|| factory())
                .as_mut()
                .poll_next(cx)
                .map(|item| item.map(|res| res.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(&self.inner, Inner::Full(bytes) if bytes.is_empty())
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match self.len_hint() {
            Some(n) => http_body::SizeHint::with_exact(n),
            None => http_body::SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn collect_enforces_limit_for_streams() {
        let chunks = vec![
            Ok(Bytes::from_static(b"abc")),
            Ok(Bytes::from_static(b"def")),
        ];
        let body = Body::from_stream(futures_util::stream::iter(chunks), None);
        let err = body.collect(4).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    }

    #[tokio::test]
    async fn in_memory_bodies_are_replayable_streams_are_not() {
        let body = Body::from("hello");
        assert!(body.is_replayable());
        assert_eq!(
            body.try_clone().unwrap().collect(10).await.unwrap(),
            "hello"
        );
        let stream = Body::from_stream(futures_util::stream::empty(), Some(0));
        assert!(!stream.is_replayable());
        assert!(stream.try_clone().is_none());
    }

    #[tokio::test]
    async fn factory_bodies_are_replayable_streams() {
        let body = Body::from_stream_factory(
            || {
                let chunks = vec![Ok(Bytes::from_static(b"ab")), Ok(Bytes::from_static(b"c"))];
                Box::pin(futures_util::stream::iter(chunks))
            },
            Some(3),
        );
        assert!(body.is_replayable());
        assert!(body.as_bytes().is_none());
        let copy = body.try_clone().unwrap();
        assert_eq!(body.collect(10).await.unwrap(), "abc");
        assert_eq!(copy.len_hint(), Some(3));
        assert_eq!(copy.try_clone().unwrap().collect(10).await.unwrap(), "abc");
        assert_eq!(copy.collect(10).await.unwrap(), "abc");
    }

    #[test]
    fn bodies_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Body>();
    }

    #[test]
    fn debug_never_shows_content() {
        let body = Body::from("Bearer secret-token");
        assert!(!format!("{body:?}").contains("secret"));
    }
}
