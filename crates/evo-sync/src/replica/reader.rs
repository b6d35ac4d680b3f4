//! Read handles: snapshots, subscriptions and waits.

use std::fmt;
use std::sync::Arc;

use tokio::sync::{broadcast, watch};

use super::{Envelope, Snapshot, Status, Subscription};
use crate::change::Cursors;
use crate::error::Error;

/// A read handle on a replica. Cheap to clone; never blocks the writer.
pub struct Replica<K, V> {
    pub(super) state: watch::Receiver<Arc<Snapshot<K, V>>>,
    pub(super) updates: broadcast::Sender<Envelope<K, V>>,
    pub(super) status: watch::Receiver<Status>,
}

impl<K, V> Clone for Replica<K, V> {
    fn clone(&self) -> Self {
        Self {
            state: self.state.clone(),
            updates: self.updates.clone(),
            status: self.status.clone(),
        }
    }
}

impl<K, V> fmt::Debug for Replica<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replica").finish_non_exhaustive()
    }
}

impl<K, V> Replica<K, V>
where
    K: Ord + Clone + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    /// The current state: an `Arc` clone, no copy.
    pub fn snapshot(&self) -> Arc<Snapshot<K, V>> {
        Arc::clone(&self.state.borrow())
    }

    /// The cursors applied so far.
    pub fn cursors(&self) -> Cursors {
        self.state.borrow().cursors.clone()
    }

    /// The source's connection state.
    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// A stream of updates from now on. Take a snapshot *after* subscribing, or use
    /// [`subscribe_with_snapshot`](Self::subscribe_with_snapshot), so nothing falls in between.
    pub fn subscribe(&self) -> Subscription<K, V> {
        Subscription {
            updates: self.updates.subscribe(),
            state: self.state.clone(),
            seen_through: 0,
        }
    }

    /// The current snapshot and a subscription that delivers exactly the updates after it.
    pub fn subscribe_with_snapshot(&self) -> (Arc<Snapshot<K, V>>, Subscription<K, V>) {
        let mut subscription = self.subscribe();
        let snapshot = self.snapshot();
        subscription.seen_through = snapshot.seq;
        (snapshot, subscription)
    }

    /// Waits until the source has caught up with the server once and returns the snapshot
    /// then. Fails with the source's error when the replica ended for good
    /// ([`Status::Failed`]: the server refused permanently), or with
    /// [`Error::Disconnected`] when the writer is gone before it was ready.
    pub async fn wait_until_ready(&self) -> Result<Arc<Snapshot<K, V>>, Error> {
        let mut state = self.state.clone();
        let mut status = self.status.clone();
        loop {
            {
                let snapshot = state.borrow_and_update();
                if snapshot.is_ready() {
                    return Ok(Arc::clone(&snapshot));
                }
            }
            if let Status::Failed { error } = &*status.borrow_and_update() {
                return Err(error.clone());
            }
            let gone = tokio::select! {
                changed = state.changed() => changed.is_err(),
                changed = status.changed() => changed.is_err(),
            };
            if gone {
                if let Some(error) = self.failure() {
                    return Err(error);
                }
                return Err(Error::Disconnected {
                    reason: "the replica's writer ended before it was ready".to_owned(),
                });
            }
        }
    }

    /// The error that ended the replica for good, if it did ([`Status::Failed`]).
    pub fn failure(&self) -> Option<Error> {
        match &*self.status.borrow() {
            Status::Failed { error } => Some(error.clone()),
            _ => None,
        }
    }

    /// Waits until `stream` has reached at least `cursor` (read-after-write).
    pub async fn wait_for_cursor(&self, stream: &str, cursor: u64) -> Option<Arc<Snapshot<K, V>>> {
        self.wait_for(|s| s.cursors.get(stream).is_some_and(|c| c >= cursor))
            .await
    }

    /// Waits until the replica satisfies `condition`; returns that snapshot, or `None` if the
    /// writer is gone before it does.
    pub async fn wait_for(
        &self,
        mut condition: impl FnMut(&Snapshot<K, V>) -> bool,
    ) -> Option<Arc<Snapshot<K, V>>> {
        let mut rx = self.state.clone();
        let result = rx.wait_for(|s| condition(s)).await;
        result.ok().map(|s| Arc::clone(&s))
    }
}
