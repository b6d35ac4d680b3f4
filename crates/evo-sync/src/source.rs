//! The [`ChangeSource`] trait and the task that runs a source with reconnects.

use std::fmt;

use async_trait::async_trait;

use crate::backoff::{Backoff, BackoffPolicy};
use crate::change::Cursors;
use crate::error::Error;
use crate::replica::{ChangeSink, EngineOptions, Replica, Status, replica};

/// Something that produces changes for a replica: a push connection, a poller, a test feed.
///
/// [`run`](Self::run) is called for every (re)connection with the cursors applied so far; it feeds
/// the sink until the connection ends. Returning (with `Ok` or `Err`) means "reconnect after a
/// backoff delay"; the runner gives up only on a permanent error ([`Error::is_permanent`]:
/// the replica then ends with [`Status::Failed`]). Anything a source needs to remember across
/// connections (tokens, dedup sets) lives in `self`.
#[async_trait]
pub trait ChangeSource<K, V>: Send {
    /// Runs one connection: catch up from `from`, then follow changes until the connection ends.
    async fn run(&mut self, from: &Cursors, sink: &mut ChangeSink<K, V>) -> Result<(), Error>;
}

#[async_trait]
impl<K, V, S> ChangeSource<K, V> for Box<S>
where
    S: ChangeSource<K, V> + ?Sized,
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    async fn run(&mut self, from: &Cursors, sink: &mut ChangeSink<K, V>) -> Result<(), Error> {
        (**self).run(from, sink).await
    }
}

/// Options for [`Live::start`].
#[derive(Clone, Copy, Debug, Default)]
pub struct LiveOptions {
    /// Queue sizes of the replica.
    pub engine: EngineOptions,
    /// Delays between reconnects.
    pub backoff: BackoffPolicy,
}

/// A replica kept up to date by a background task that runs a [`ChangeSource`].
///
/// Dropping it stops the task (the replica handles handed out stay readable but stop changing).
pub struct Live<K, V> {
    replica: Replica<K, V>,
    task: tokio::task::JoinHandle<()>,
}

impl<K, V> fmt::Debug for Live<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Live")
            .field("finished", &self.task.is_finished())
            .finish_non_exhaustive()
    }
}

impl<K, V> Live<K, V>
where
    K: Ord + Clone + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    /// Spawns the task that runs `source` (on the current tokio runtime) into a new replica.
    pub fn start<S>(source: S, options: LiveOptions) -> Self
    where
        S: ChangeSource<K, V> + 'static,
    {
        let (sink, replica) = replica(options.engine);
        let task = tokio::spawn(run_forever(source, sink, Backoff::new(options.backoff)));
        Self { replica, task }
    }

    /// The replica (clone it to share).
    pub fn replica(&self) -> &Replica<K, V> {
        &self.replica
    }

    /// Stops the background task and waits until it has ended.
    pub async fn stop(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl<K, V> std::ops::Deref for Live<K, V> {
    type Target = Replica<K, V>;

    fn deref(&self) -> &Replica<K, V> {
        &self.replica
    }
}

impl<K, V> Drop for Live<K, V> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Runs `source` again and again, with a backoff delay between connections, until it fails
/// permanently.
pub async fn run_forever<K, V, S>(mut source: S, mut sink: ChangeSink<K, V>, mut backoff: Backoff)
where
    K: Ord + Clone + Send + Sync + 'static,
    V: Send + Sync + 'static,
    S: ChangeSource<K, V>,
{
    loop {
        sink.set_status(Status::Connecting);
        let from = sink.cursors();
        let result = source.run(&from, &mut sink).await;
        // A resync cut short must not leak into the next connection.
        sink.discard_resync();
        if sink.connected_for() >= backoff.policy().reset_after {
            backoff.reset();
        }
        let reason = match result {
            Ok(()) => "the source ended the connection".to_owned(),
            Err(error) if error.is_permanent() => {
                sink.fail(error);
                return;
            }
            Err(error) => {
                tracing::warn!(%error, "change source failed; reconnecting after a backoff delay");
                error.to_string()
            }
        };
        sink.set_status(Status::Disconnected { reason });
        tokio::time::sleep(backoff.next_delay()).await;
    }
}
