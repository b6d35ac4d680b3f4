//! Waiting for something that is polled: a long-running job on a server (a compute task, a
//! block model update), until it is done, fails, is cancelled, or the caller's time runs out.
//!
//! A [`Poller`] calls a poll closure, first at once and then after capped, jittered,
//! exponentially growing intervals (the full-jitter backoff of [`RetryPolicy`], with a floor),
//! until the closure observes a terminal state or the caller's timeout passes. Each poll
//! returns an [`Observation`]:
//!
//! | observation                 | the poller                                              |
//! |-----------------------------|---------------------------------------------------------|
//! | [`Observation::Pending`]    | reports the state on the progress stream, waits, polls again |
//! | [`Observation::Done`]       | ends with [`Outcome::Done`] and the value               |
//! | [`Observation::Failed`]     | ends with [`Outcome::Failed`] and the failure payload   |
//! | [`Observation::Cancelled`]  | ends with [`Outcome::Cancelled`] (cancelled on the server) |
//!
//! The poller also ends with [`Outcome::TimedOut`] once its timeout has passed (a poll still
//! running then is abandoned), and with [`Outcome::Cancelled`] when the future given to
//! [`Poller::cancel_on`] completes. An error returned by the poll closure ends the wait with that
//! error: the closure's requests are already retried by the connector, so an error here is final.
//!
//! [`Poller::wait`] returns the outcome; [`Poller::wait_with`] also calls a closure with every
//! pending state; [`Poller::watch`] is the progress stream itself: one
//! [`Event::State`] per pending observation, then one [`Event::Finished`] (or an error), then the
//! end. The time is tokio's, so tests control it with a paused clock.
//!
//! ```
//! use std::time::Duration;
//! use evo_core::polling::{Observation, Outcome, Poller};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let mut calls = 0;
//! let outcome = Poller::new()
//!     .with_intervals(Duration::from_millis(1), Duration::from_millis(5))
//!     .with_timeout(Duration::from_secs(10))
//!     .wait(|| {
//!         calls += 1;
//!         let n = calls;
//!         async move {
//!             Ok::<_, std::io::Error>(if n < 3 {
//!                 Observation::Pending(n) // e.g. the job's progress
//!             } else {
//!                 Observation::<i32, &str, ()>::Done("result")
//!             })
//!         }
//!     })
//!     .await
//!     .unwrap();
//! assert_eq!(outcome, Outcome::Done("result"));
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures_core::Stream;
use tokio::time::Instant;

use crate::retry::RetryPolicy;

/// What one poll saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation<S, T, F> {
    /// Not finished yet; `S` is the observed state (status, progress), reported as an
    /// [`Event::State`].
    Pending(S),
    /// Finished successfully with this value.
    Done(T),
    /// Finished with a failure; `F` is what the server said about it.
    Failed(F),
    /// Cancelled on the server.
    Cancelled,
}

/// How a wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome<T, F> {
    /// The polled thing finished successfully.
    Done(T),
    /// The polled thing failed; the payload is the failure it reported.
    Failed(F),
    /// The caller's timeout passed before a terminal state was seen.
    TimedOut {
        /// The time waited.
        elapsed: Duration,
        /// How many polls completed.
        polls: u32,
    },
    /// Cancelled: the server reported it cancelled, or the caller's cancel signal
    /// ([`Poller::cancel_on`]) fired.
    Cancelled,
}

impl<T, F> Outcome<T, F> {
    /// The value, when done.
    pub fn done(self) -> Option<T> {
        match self {
            Outcome::Done(value) => Some(value),
            _ => None,
        }
    }
    /// True when done.
    pub fn is_done(&self) -> bool {
        matches!(self, Outcome::Done(_))
    }
}

/// One item of the progress stream of [`Poller::watch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<S, T, F> {
    /// A pending state was observed.
    State(S),
    /// The wait ended; this is the last item.
    Finished(Outcome<T, F>),
}

type CancelSignal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Polls until a terminal state, a timeout or a cancellation. See the [module](self) docs.
///
/// Defaults: the first poll at once, then intervals drawn at random up to `500 ms × 2^n`
/// (capped at 10 s) and never shorter than 100 ms; no timeout.
pub struct Poller {
    backoff: RetryPolicy,
    min_interval: Duration,
    /// Caps an interval at this fraction of the time waited so far.
    lag_fraction: Option<f64>,
    timeout: Option<Duration>,
    cancel: Option<CancelSignal>,
}

impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller")
            .field("backoff", &self.backoff)
            .field("min_interval", &self.min_interval)
            .field("lag_fraction", &self.lag_fraction)
            .field("timeout", &self.timeout)
            .field("cancel", &self.cancel.is_some())
            .finish()
    }
}

impl Default for Poller {
    fn default() -> Self {
        Poller {
            backoff: RetryPolicy::default()
                .with_initial_backoff(Duration::from_millis(500))
                .with_max_backoff(Duration::from_secs(10)),
            min_interval: Duration::from_millis(100),
            lag_fraction: None,
            timeout: None,
            cancel: None,
        }
    }
}

impl Poller {
    /// A poller with the default intervals and no timeout.
    pub fn new() -> Self {
        Poller::default()
    }
    /// The upper bound of the first interval (it doubles after each poll) and the cap of all
    /// intervals. Each interval is drawn at random below its bound (full jitter).
    pub fn with_intervals(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff = self
            .backoff
            .with_initial_backoff(initial)
            .with_max_backoff(max.max(initial));
        self.min_interval = self.min_interval.min(initial);
        self
    }
    /// The shortest interval between two polls (the floor under the jitter).
    pub fn with_min_interval(mut self, min: Duration) -> Self {
        self.min_interval = min;
        self
    }
    /// Caps each interval at `fraction` of the time waited so far (never below the floor of
    /// [`with_min_interval`](Self::with_min_interval)). With full jitter and doubling bounds
    /// alone, the poll after a short job's end can come as late again as the job took; with
    /// a fraction of 0.25, a job is seen done at most a quarter of its time (or the floor)
    /// after it ends, while a long job is still polled at the capped pace. A fraction that is
    /// not a positive finite number leaves the intervals uncapped.
    pub fn with_lag_fraction(mut self, fraction: f64) -> Self {
        self.lag_fraction = (fraction.is_finite() && fraction > 0.0).then_some(fraction);
        self
    }
    /// Gives up with [`Outcome::TimedOut`] once this much time has passed since the wait began.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
    /// Sets or clears the timeout.
    pub fn with_optional_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }
    /// Ends the wait with [`Outcome::Cancelled`] when `signal` completes (a
    /// `CancellationToken::cancelled_owned()`, a oneshot receiver, a Ctrl-C future).
    pub fn cancel_on(mut self, signal: impl Future<Output = ()> + Send + 'static) -> Self {
        self.cancel = Some(Box::pin(signal));
        self
    }
    /// The timeout, if any.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The interval before poll number `polls + 1`, `polls` polls having completed and
    /// `waited` having passed since the first.
    fn interval(&self, polls: u32, waited: Duration) -> Duration {
        let backoff = match self.lag_fraction {
            Some(fraction) => self
                .backoff
                .backoff(polls)
                .min(waited.mul_f64(fraction.min(1e6))),
            None => self.backoff.backoff(polls),
        };
        backoff.max(self.min_interval)
    }

    /// Polls until the end and returns how it ended; a poll error ends the wait with it.
    pub async fn wait<P, Fut, S, T, F, E>(self, poll: P) -> Result<Outcome<T, F>, E>
    where
        P: FnMut() -> Fut,
        Fut: Future<Output = Result<Observation<S, T, F>, E>>,
    {
        self.wait_with(poll, |_| {}).await
    }

    /// [`wait`](Self::wait), calling `on_state` with every pending state observed.
    pub async fn wait_with<P, Fut, S, T, F, E>(
        self,
        poll: P,
        mut on_state: impl FnMut(&S),
    ) -> Result<Outcome<T, F>, E>
    where
        P: FnMut() -> Fut,
        Fut: Future<Output = Result<Observation<S, T, F>, E>>,
    {
        let mut watch = Watch {
            poller: self,
            poll,
            polls: 0,
            started: None,
            finished: false,
        };
        loop {
            match watch.step().await? {
                Event::State(state) => on_state(&state),
                Event::Finished(outcome) => return Ok(outcome),
            }
        }
    }

    /// The progress stream: an [`Event::State`] per pending observation, then one
    /// [`Event::Finished`] (or the poll error), then the end. Nothing is polled until the
    /// stream is; dropping it stops polling.
    pub fn watch<P, Fut, S, T, F, E>(self, poll: P) -> impl Stream<Item = Result<Event<S, T, F>, E>>
    where
        P: FnMut() -> Fut,
        Fut: Future<Output = Result<Observation<S, T, F>, E>>,
    {
        let state = Watch {
            poller: self,
            poll,
            polls: 0,
            started: None,
            finished: false,
        };
        futures_util::stream::unfold(state, |mut w| async move {
            if w.finished {
                return None;
            }
            let item = w.step().await;
            w.finished = !matches!(item, Ok(Event::State(_)));
            Some((item, w))
        })
    }
}

/// The state of one [`Poller::watch`] stream.
struct Watch<P> {
    poller: Poller,
    poll: P,
    polls: u32,
    started: Option<Instant>,
    finished: bool,
}

/// Never completes when there is no cancel signal.
async fn cancelled(signal: &mut Option<CancelSignal>) {
    match signal {
        Some(signal) => signal.await,
        None => std::future::pending().await,
    }
}

/// Sleeps until `deadline`, or forever without one.
async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

impl<P> Watch<P> {
    /// Waits the interval (unless this is the first poll), polls once and says what it saw.
    async fn step<Fut, S, T, F, E>(&mut self) -> Result<Event<S, T, F>, E>
    where
        P: FnMut() -> Fut,
        Fut: Future<Output = Result<Observation<S, T, F>, E>>,
    {
        let started = *self.started.get_or_insert_with(Instant::now);
        let deadline = self.poller.timeout.map(|t| started + t);
        let timed_out = |polls| {
            Ok(Event::Finished(Outcome::TimedOut {
                elapsed: started.elapsed(),
                polls,
            }))
        };
        if self.polls > 0 {
            let next = Instant::now() + self.poller.interval(self.polls, started.elapsed());
            let wake = deadline.map_or(next, |d| d.min(next));
            tokio::select! {
                _ = tokio::time::sleep_until(wake) => {}
                _ = cancelled(&mut self.poller.cancel) => {
                    return Ok(Event::Finished(Outcome::Cancelled));
                }
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return timed_out(self.polls);
            }
        }
        let observation = tokio::select! {
            observation = (self.poll)() => observation?,
            _ = until(deadline) => return timed_out(self.polls),
            _ = cancelled(&mut self.poller.cancel) => {
                return Ok(Event::Finished(Outcome::Cancelled));
            }
        };
        self.polls += 1;
        Ok(match observation {
            Observation::Pending(state) => {
                tracing::trace!(polls = self.polls, "still pending");
                Event::State(state)
            }
            Observation::Done(value) => Event::Finished(Outcome::Done(value)),
            Observation::Failed(failure) => Event::Finished(Outcome::Failed(failure)),
            Observation::Cancelled => Event::Finished(Outcome::Cancelled),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use std::sync::{Arc, Mutex};

    type Obs = Observation<u32, &'static str, &'static str>;

    /// A poll closure replaying `script` (then repeating its last item), recording the
    /// (paused) time of each call since `t0`.
    fn scripted(
        script: Vec<Result<Obs, &'static str>>,
        t0: Instant,
        log: Arc<Mutex<Vec<Duration>>>,
    ) -> impl FnMut() -> std::future::Ready<Result<Obs, &'static str>> {
        let mut i = 0;
        move || {
            log.lock().unwrap().push(t0.elapsed());
            let item = script[i.min(script.len() - 1)].clone();
            i += 1;
            std::future::ready(item)
        }
    }

    fn poller() -> Poller {
        Poller::new().with_intervals(Duration::from_secs(1), Duration::from_secs(8))
    }

    #[tokio::test(start_paused = true)]
    async fn done_after_pending_states_reports_each_state() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let script = vec![
            Ok(Obs::Pending(10)),
            Ok(Obs::Pending(50)),
            Ok(Obs::Done("ok")),
        ];
        let mut seen = Vec::new();
        let outcome = poller()
            .wait_with(scripted(script, Instant::now(), log.clone()), |s| {
                seen.push(*s)
            })
            .await;
        assert_eq!(outcome, Ok(Outcome::Done("ok")));
        assert_eq!(seen, vec![10, 50]);
        assert_eq!(log.lock().unwrap().len(), 3);
        assert_eq!(
            log.lock().unwrap()[0],
            Duration::ZERO,
            "the first poll is at once"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_lag_fraction_caps_each_interval_at_that_share_of_the_wait_so_far() {
        // Intervals up to 1 s × 2^n (capped at 60 s), floor 50 ms, a quarter of the wait.
        let lagged = || {
            Poller::new()
                .with_intervals(Duration::from_secs(1), Duration::from_secs(60))
                .with_min_interval(Duration::from_millis(50))
                .with_lag_fraction(0.25)
        };
        let log = Arc::new(Mutex::new(Vec::new()));
        let script: Vec<Result<Obs, &str>> = (0..40)
            .map(|_| Ok(Obs::Pending(0)))
            .chain([Ok(Obs::Done("ok"))])
            .collect();
        let outcome = lagged()
            .wait(scripted(script, Instant::now(), log.clone()))
            .await;
        assert_eq!(outcome, Ok(Outcome::Done("ok")));
        let times = log.lock().unwrap().clone();
        for pair in times.windows(2) {
            let (before, after) = (pair[0], pair[1]);
            let cap = before
                .mul_f64(0.25)
                .max(Duration::from_millis(50))
                .max(Duration::from_millis(1));
            assert!(
                after - before <= cap + Duration::from_millis(1),
                "{:?} after {before:?}: more than a quarter of the wait",
                after - before
            );
        }
        // Without the fraction the same script waits far longer (the bounds double).
        let log = Arc::new(Mutex::new(Vec::new()));
        let script: Vec<Result<Obs, &str>> = (0..40)
            .map(|_| Ok(Obs::Pending(0)))
            .chain([Ok(Obs::Done("ok"))])
            .collect();
        let unlagged = Poller::new()
            .with_intervals(Duration::from_secs(1), Duration::from_secs(60))
            .with_min_interval(Duration::from_millis(50));
        unlagged
            .wait(scripted(script, Instant::now(), log.clone()))
            .await
            .unwrap();
        assert!(log.lock().unwrap().last() > times.last());
        // A fraction that is no positive finite number is ignored.
        assert_eq!(lagged().with_lag_fraction(f64::NAN).lag_fraction, None);
        assert_eq!(lagged().with_lag_fraction(-1.0).lag_fraction, None);
    }

    #[tokio::test(start_paused = true)]
    async fn failure_keeps_its_payload_and_errors_end_the_wait() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let script = vec![Ok(Obs::Pending(1)), Ok(Obs::Failed("bad input"))];
        let outcome = poller()
            .wait(scripted(script, Instant::now(), log.clone()))
            .await;
        assert_eq!(outcome, Ok(Outcome::Failed("bad input")));

        let script = vec![Ok(Obs::Pending(1)), Err("connection refused")];
        let outcome = poller().wait(scripted(script, Instant::now(), log)).await;
        assert_eq!(outcome, Err("connection refused"));
    }

    #[tokio::test(start_paused = true)]
    async fn server_side_cancellation() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let script = vec![Ok(Obs::Pending(1)), Ok(Obs::Cancelled)];
        let outcome = poller().wait(scripted(script, Instant::now(), log)).await;
        assert_eq!(outcome, Ok(Outcome::Cancelled));
    }

    #[tokio::test(start_paused = true)]
    async fn intervals_grow_within_the_cap_and_the_floor() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut script: Vec<Result<Obs, &str>> = (0..12).map(|n| Ok(Obs::Pending(n))).collect();
        script.push(Ok(Obs::Done("ok")));
        let outcome = poller()
            .with_min_interval(Duration::from_millis(200))
            .wait(scripted(script, Instant::now(), log.clone()))
            .await;
        assert!(outcome.unwrap().is_done());
        let times = log.lock().unwrap().clone();
        assert_eq!(times.len(), 13);
        for (n, pair) in times.windows(2).enumerate() {
            let gap = pair[1] - pair[0];
            let ceiling = Duration::from_secs(1 << n.min(3)); // 1, 2, 4, 8, 8, ...
            assert!(
                gap >= Duration::from_millis(200),
                "gap {n} {gap:?} under the floor"
            );
            assert!(gap <= ceiling, "gap {n} {gap:?} over {ceiling:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn times_out_at_the_deadline_not_at_the_next_poll() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let t0 = Instant::now();
        let outcome = poller()
            .with_timeout(Duration::from_secs(30))
            .wait(scripted(vec![Ok(Obs::Pending(0))], t0, log.clone()))
            .await
            .unwrap();
        let Outcome::TimedOut { elapsed, polls } = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(elapsed, Duration::from_secs(30));
        assert_eq!(t0.elapsed(), Duration::from_secs(30));
        assert_eq!(polls as usize, log.lock().unwrap().len());
        assert!(polls >= 4, "{polls}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_poll_is_abandoned_at_the_deadline() {
        let outcome = poller()
            .with_timeout(Duration::from_secs(5))
            .wait(std::future::pending::<Result<Obs, &str>>)
            .await
            .unwrap();
        assert_eq!(
            outcome,
            Outcome::TimedOut {
                elapsed: Duration::from_secs(5),
                polls: 0
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_caller_cancels() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let t0 = Instant::now();
        let wait = poller()
            .with_timeout(Duration::from_secs(600))
            .cancel_on(async move {
                let _ = rx.await;
            })
            .wait(scripted(vec![Ok(Obs::Pending(0))], t0, log));
        let cancel = async {
            tokio::time::sleep(Duration::from_secs(20)).await;
            tx.send(()).unwrap();
        };
        let (outcome, ()) = tokio::join!(wait, cancel);
        assert_eq!(outcome, Ok(Outcome::Cancelled));
        assert_eq!(t0.elapsed(), Duration::from_secs(20));
    }

    #[test]
    fn the_wait_and_the_stream_are_send() {
        fn assert_send<T: Send>(_: &T) {}
        let poll = || async { Ok::<Obs, &str>(Obs::Done("ok")) };
        let wait = poller().cancel_on(async {}).wait(poll);
        assert_send(&wait);
        assert_send(&poller().watch(poll));
    }

    #[tokio::test(start_paused = true)]
    async fn the_stream_ends_after_the_outcome() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let script = vec![Ok(Obs::Pending(7)), Ok(Obs::Done("ok"))];
        let events: Vec<_> = poller()
            .watch(scripted(script, Instant::now(), log))
            .collect()
            .await;
        assert_eq!(
            events,
            vec![
                Ok(Event::State(7)),
                Ok(Event::Finished(Outcome::Done("ok")))
            ]
        );
    }
}
