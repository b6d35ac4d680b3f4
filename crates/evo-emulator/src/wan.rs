//! The WAN profile: what a client far from the service sees, played on loopback. Each request
//! waits an added latency before it is handled (one round trip to a distant data centre), and
//! each connection moves at most a given number of bytes per second in each direction (a
//! long-haul TCP flow's share of the path), so benchmarks show the effect of concurrency, block
//! size and connection reuse as a user far from Azure would.
//!
//! The bandwidth cap is a pacing of the connection's own reads and writes: writes go out in
//! slices no faster than the cap, and the server reads no faster than the cap, so a client that
//! sends faster meets TCP back-pressure, as on a slow path. Both directions have their own
//! budget (the path is full duplex).

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// The largest slice read or written at once under a bandwidth cap, so the pacing is smooth
/// (about 1 ms of a 100 Mbit/s path).
const SLICE: usize = 16 * 1024;

/// A WAN profile: added latency per request and a bandwidth cap per connection. The default
/// adds nothing.
///
/// ```
/// use std::time::Duration;
/// use evo_emulator::WanProfile;
///
/// let far = WanProfile::new()
///     .latency(Duration::from_millis(40))
///     .bandwidth_per_connection(Some(12_500_000)); // 100 Mbit/s
/// assert_eq!(far.added_latency(), Duration::from_millis(40));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WanProfile {
    latency: Duration,
    bytes_per_second: Option<u64>,
}

impl WanProfile {
    /// No added latency, no cap (loopback speed).
    pub fn new() -> Self {
        WanProfile::default()
    }

    /// The time every request waits before it is handled (default none).
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// The most bytes per second each connection moves in each direction (default `None`: no
    /// cap). `Some(0)` is taken as no cap.
    pub fn bandwidth_per_connection(mut self, bytes_per_second: Option<u64>) -> Self {
        self.bytes_per_second = bytes_per_second.filter(|b| *b > 0);
        self
    }

    /// The latency added to each request.
    pub fn added_latency(&self) -> Duration {
        self.latency
    }

    /// The bandwidth cap per connection and direction, in bytes per second.
    pub fn bandwidth_cap(&self) -> Option<u64> {
        self.bytes_per_second
    }

    /// Whether the profile changes anything.
    pub fn is_active(&self) -> bool {
        !self.latency.is_zero() || self.bytes_per_second.is_some()
    }

    /// Waits the added latency (once per request).
    pub(crate) async fn delay_request(&self) {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
    }
}

/// One direction's pacing: when the next byte may move.
#[derive(Debug)]
struct Pace {
    bytes_per_second: u64,
    next: Option<Instant>,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl Pace {
    fn new(bytes_per_second: u64) -> Self {
        Pace {
            bytes_per_second,
            next: None,
            sleep: None,
        }
    }

    /// Ready when the budget allows the next slice to move.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(next) = self.next else {
            return Poll::Ready(());
        };
        if next <= Instant::now() {
            self.sleep = None;
            return Poll::Ready(());
        }
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(next)));
        if sleep.deadline() != next {
            sleep.as_mut().reset(next);
        }
        ready!(sleep.as_mut().poll(cx));
        self.sleep = None;
        Poll::Ready(())
    }

    /// Books `n` bytes that just moved.
    fn spend(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        let cost = Duration::from_secs_f64(n as f64 / self.bytes_per_second as f64);
        let now = Instant::now();
        // Idle time is not saved up beyond one slice: a quiet connection does not burst.
        let start = match self.next {
            Some(next) if next > now => next,
            _ => now,
        };
        self.next = Some(start + cost);
    }
}

/// A stream whose reads and writes are paced to a bandwidth cap (each direction on its own).
#[derive(Debug)]
pub(crate) struct Throttled<S> {
    inner: S,
    read: Option<Pace>,
    write: Option<Pace>,
}

impl<S> Throttled<S> {
    /// Paces `inner` as `profile` says (not at all without a cap).
    pub(crate) fn new(inner: S, profile: &WanProfile) -> Self {
        Throttled {
            inner,
            read: profile.bytes_per_second.map(Pace::new),
            write: profile.bytes_per_second.map(Pace::new),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Throttled<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let Some(pace) = this.read.as_mut() else {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        };
        ready!(pace.poll_ready(cx));
        let room = buf.remaining().min(SLICE);
        // A view of at most one slice of the unfilled part (initialised, so no unsafe code).
        let mut slice = ReadBuf::new(buf.initialize_unfilled_to(room));
        ready!(Pin::new(&mut this.inner).poll_read(cx, &mut slice))?;
        let n = slice.filled().len();
        buf.advance(n);
        pace.spend(n);
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Throttled<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let Some(pace) = this.write.as_mut() else {
            return Pin::new(&mut this.inner).poll_write(cx, data);
        };
        ready!(pace.poll_ready(cx));
        let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &data[..data.len().min(SLICE)]))?;
        pace.spend(n);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
