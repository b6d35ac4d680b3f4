//! What subscribers receive, and the subscription that hands a lagging subscriber a fresh
//! snapshot instead of the updates it missed.

use std::fmt;
use std::sync::Arc;

use tokio::sync::{broadcast, watch};

use super::Snapshot;
use crate::error::Error;

/// Why the whole replica was replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResetReason {
    /// The first full load.
    Initial,
    /// The server no longer has the changes after the local cursor.
    CursorExpired,
    /// The server's data was restored from a backup.
    Restored,
    /// The server's change log started over (e.g. a restart without persistence).
    EpochChanged,
    /// A periodic full reconciliation (polling sources).
    Reconciled,
}

/// Connection state of the change source.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// (Re)connecting, or waiting for the first response.
    Connecting,
    /// Connected and receiving changes.
    Connected,
    /// Building a full snapshot aside.
    Resyncing,
    /// Disconnected; a reconnect is scheduled after a backoff delay.
    Disconnected {
        /// Why the last connection ended.
        reason: String,
    },
    /// Ended for good: the server refused permanently (403, 404, a missing scope; see
    /// [`Error::is_permanent`]). The replica keeps its last state and no longer changes.
    Failed {
        /// What the server said.
        error: Error,
    },
}

/// Out-of-band news from the server that does not change items by itself.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// The server reported a new version of itself.
    ServerVersion {
        /// The version seen before, if any.
        previous: Option<String>,
        /// The version now reported.
        current: String,
    },
    /// A server-side job (backup, restore, ...) changed status.
    Job {
        /// The job's id (its token).
        id: String,
        /// The job's name, e.g. `restore_project`.
        name: String,
        /// The status, e.g. `processing` or `done`.
        status: String,
    },
}

/// What subscribers receive.
#[derive(Debug)]
#[non_exhaustive]
pub enum Update<K, V> {
    /// `key` was inserted or changed.
    Upserted {
        /// The key.
        key: K,
        /// Its new version.
        version: u64,
        /// Its new value.
        value: Arc<V>,
    },
    /// `key` was removed.
    Removed {
        /// The key.
        key: K,
        /// The version of the deletion.
        version: u64,
    },
    /// The whole replica was replaced; `snapshot` is the new state.
    Reset {
        /// Why.
        reason: ResetReason,
        /// The replica right after the swap.
        snapshot: Arc<Snapshot<K, V>>,
    },
    /// This subscriber fell too far behind and missed updates; `snapshot` is the current state,
    /// and the updates that follow continue from it.
    Lagged {
        /// The replica when the lag was detected.
        snapshot: Arc<Snapshot<K, V>>,
    },
    /// Out-of-band server news.
    Notice(Notice),
    /// The source's connection state changed.
    Status(Status),
}

impl<K: Clone, V> Clone for Update<K, V> {
    fn clone(&self) -> Self {
        match self {
            Self::Upserted {
                key,
                version,
                value,
            } => Self::Upserted {
                key: key.clone(),
                version: *version,
                value: Arc::clone(value),
            },
            Self::Removed { key, version } => Self::Removed {
                key: key.clone(),
                version: *version,
            },
            Self::Reset { reason, snapshot } => Self::Reset {
                reason: reason.clone(),
                snapshot: Arc::clone(snapshot),
            },
            Self::Lagged { snapshot } => Self::Lagged {
                snapshot: Arc::clone(snapshot),
            },
            Self::Notice(n) => Self::Notice(n.clone()),
            Self::Status(s) => Self::Status(s.clone()),
        }
    }
}

/// An update plus the snapshot sequence number it produced (0 for updates that do not change
/// items), so a subscriber that resnapshots can drop what its snapshot already contains.
#[derive(Debug)]
pub(super) struct Envelope<K, V> {
    pub(super) seq: u64,
    pub(super) update: Update<K, V>,
}

impl<K: Clone, V> Clone for Envelope<K, V> {
    fn clone(&self) -> Self {
        Self {
            seq: self.seq,
            update: self.update.clone(),
        }
    }
}

/// A subscriber's stream of [`Update`]s.
pub struct Subscription<K, V> {
    pub(super) updates: broadcast::Receiver<Envelope<K, V>>,
    pub(super) state: watch::Receiver<Arc<Snapshot<K, V>>>,
    /// Updates with a sequence number at or below this are already in a snapshot the subscriber
    /// holds, so they are skipped.
    pub(super) seen_through: u64,
}

impl<K, V> fmt::Debug for Subscription<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("seen_through", &self.seen_through)
            .finish_non_exhaustive()
    }
}

impl<K, V> Subscription<K, V>
where
    K: Clone + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    /// The next update, or `None` once the writer is gone and everything was delivered.
    ///
    /// If this subscriber fell behind by more than the channel capacity, it gets
    /// [`Update::Lagged`] with the current snapshot instead of the missed updates.
    pub async fn recv(&mut self) -> Option<Update<K, V>> {
        loop {
            match self.updates.recv().await {
                Ok(envelope) => {
                    if envelope.seq != 0 && envelope.seq <= self.seen_through {
                        continue;
                    }
                    if envelope.seq != 0 {
                        self.seen_through = envelope.seq;
                    }
                    return Some(envelope.update);
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "subscriber lagged; handing it a fresh snapshot");
                    let snapshot = Arc::clone(&self.state.borrow());
                    self.seen_through = snapshot.seq;
                    return Some(Update::Lagged { snapshot });
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next update if one is already queued, without waiting.
    pub fn try_recv(&mut self) -> Option<Update<K, V>> {
        loop {
            match self.updates.try_recv() {
                Ok(envelope) => {
                    if envelope.seq != 0 && envelope.seq <= self.seen_through {
                        continue;
                    }
                    if envelope.seq != 0 {
                        self.seen_through = envelope.seq;
                    }
                    return Some(envelope.update);
                }
                Err(broadcast::error::TryRecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "subscriber lagged; handing it a fresh snapshot");
                    let snapshot = Arc::clone(&self.state.borrow());
                    self.seen_through = snapshot.seq;
                    return Some(Update::Lagged { snapshot });
                }
                Err(_) => return None,
            }
        }
    }
}
