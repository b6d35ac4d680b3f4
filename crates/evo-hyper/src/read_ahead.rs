//! Reading a connection's socket in large pieces ([`ReadAhead`]).
//!
//! rustls asks the stream under it for a TLS record a few KiB at a time (at most 4 KiB per
//! read while its buffer grows, and whatever is left of its 16 KiB record buffer after
//! that): a 256 MiB download over TLS made about 24,000 `recv` calls, each a system call, a
//! socket lock and a task poll for about 11 KiB. Reading ahead into a buffer of the
//! connection's own serves those small reads from memory and calls `recv` once per
//! [`READ_AHEAD`] bytes the socket holds. A caller that asks for at least as much (hyper on
//! a plain-HTTP connection, whose read buffer grows with the body) reads the socket directly,
//! without the copy.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How much is read from the socket at a time for small reads: four TLS records.
pub(crate) const READ_AHEAD: usize = 64 * 1024;

/// A stream whose small reads are served from a buffer filled [`READ_AHEAD`] bytes at a time
/// (writes go straight through).
#[derive(Debug)]
pub(crate) struct ReadAhead<T> {
    inner: T,
    /// Allocated on the first small read (a connection that only ever reads large pieces
    /// never needs it).
    buffer: Box<[u8]>,
    /// The bytes of `buffer` read from the socket and not yet handed out.
    start: usize,
    end: usize,
}

impl<T> ReadAhead<T> {
    pub(crate) fn new(inner: T) -> Self {
        ReadAhead {
            inner,
            buffer: Box::default(),
            start: 0,
            end: 0,
        }
    }

    pub(crate) fn get_ref(&self) -> &T {
        &self.inner
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ReadAhead<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if out.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        if this.start == this.end {
            if out.remaining() >= READ_AHEAD {
                return Pin::new(&mut this.inner).poll_read(cx, out);
            }
            if this.buffer.is_empty() {
                this.buffer = vec![0; READ_AHEAD].into_boxed_slice();
            }
            let mut ahead = ReadBuf::new(&mut this.buffer);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut ahead))?;
            // Nothing read is the end of the stream: `out` stays empty and says so.
            (this.start, this.end) = (0, ahead.filled().len());
        }
        let n = out.remaining().min(this.end - this.start);
        out.put_slice(&this.buffer[this.start..this.start + n]);
        this.start += n;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ReadAhead<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    /// A reader that counts the reads it serves.
    struct Counted<R> {
        inner: R,
        reads: usize,
    }

    impl<R: AsyncRead + Unpin> AsyncRead for Counted<R> {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            self.reads += 1;
            Pin::new(&mut self.inner).poll_read(cx, buf)
        }
    }

    /// Small reads (rustls's 4 KiB) are served from one read of the stream per
    /// [`READ_AHEAD`] bytes; then reads of every size, small and larger than the read-ahead,
    /// get the rest of the stream's bytes in order, and then its end.
    #[tokio::test]
    async fn small_reads_share_reads_of_the_stream_and_every_byte_comes_in_order() {
        let data: Vec<u8> = (0..5 * READ_AHEAD + 321).map(|i| (i % 251) as u8).collect();
        let counted = Counted {
            inner: &data[..],
            reads: 0,
        };
        let mut stream = ReadAhead::new(counted);
        let mut got = Vec::new();
        let mut piece = vec![0u8; 4096];
        while got.len() < 2 * READ_AHEAD {
            let n = stream.read(&mut piece).await.unwrap();
            got.extend_from_slice(&piece[..n]);
        }
        assert_eq!(
            stream.get_ref().reads,
            2,
            "32 reads of 4 KiB from two of the stream"
        );
        for size in [1, 100, 4096, READ_AHEAD, 17, 3 * READ_AHEAD / 2]
            .iter()
            .cycle()
        {
            let mut piece = vec![0u8; *size];
            let n = stream.read(&mut piece).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&piece[..n]);
        }
        assert!(got == data, "the bytes, in order");
        assert_eq!(
            stream.read(&mut [0u8; 16]).await.unwrap(),
            0,
            "still the end"
        );
    }

    /// Writes go through untouched, whole and vectored.
    #[tokio::test]
    async fn writes_go_straight_through() {
        let mut stream = ReadAhead::new(Vec::<u8>::new());
        stream.write_all(b"hello ").await.unwrap();
        let written = stream
            .write_vectored(&[io::IoSlice::new(b"wor"), io::IoSlice::new(b"ld")])
            .await
            .unwrap();
        assert_eq!(written, 5);
        stream.flush().await.unwrap();
        assert_eq!(stream.get_ref(), b"hello world");
    }
}
