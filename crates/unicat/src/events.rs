//! Change notifications to the application.

use serde_json::Value;
use tokio::sync::broadcast;

use crate::stores::DataType;

/// Progress of a server job (backup, restore, …) as reported by the Sync API.
#[derive(Clone, Debug, PartialEq)]
pub struct JobProgress {
    /// The job's token (the sync item's `data_key`).
    pub gid: String,
    /// The job's name: `backup_project`, `restore_project`, …
    pub job: String,
    /// `queued`, `rejected`, `processing` or `done`.
    pub status: String,
    /// The job's `info` (e.g. `total` and `remaining`).
    pub info: Value,
    /// The project the job runs for, when given.
    pub project: Option<String>,
}

/// What changed, as seen by the auto-updating stores.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ChangeEvent {
    /// A record in the stores was fetched again after the server reported a change.
    RecordChanged {
        /// The record's gid.
        gid: String,
        /// The record as now stored.
        record: Value,
    },
    /// Another entity in the stores (asset, user, project, member, module) changed.
    Changed {
        /// Its type.
        data_type: DataType,
        /// Its key.
        key: String,
    },
    /// An entity was deleted on the server and dropped from the stores.
    Deleted {
        /// Its type.
        data_type: DataType,
        /// Its key (a gid, or `project/user` for members).
        key: String,
    },
    /// Schema data (definitions, classes, fields, layouts, queries) was inserted or changed.
    SchemaChanged {
        /// Its type.
        data_type: DataType,
        /// Its key.
        key: String,
    },
    /// The server reported a new version of itself (`cc.version`).
    ServerVersionChanged {
        /// The version known before, if any.
        previous: Option<String>,
        /// The new version.
        current: String,
    },
    /// A backup or restore job progressed.
    Job(JobProgress),
    /// A finished restore re-initialised the stores (everything may have changed).
    Reinitialized,
    /// The Sync API connection was re-established (after the first connect).
    Reconnected,
    /// This subscriber fell behind and missed `missed` events; re-read what it watches.
    Lagged {
        /// How many events were dropped for this subscriber.
        missed: u64,
    },
}

/// A subscriber's stream of [`ChangeEvent`]s.
#[derive(Debug)]
pub struct Subscription {
    pub(crate) rx: broadcast::Receiver<ChangeEvent>,
}

impl Subscription {
    /// The next event; [`ChangeEvent::Lagged`] when this subscriber missed some; `None` once
    /// the client is gone.
    pub async fn recv(&mut self) -> Option<ChangeEvent> {
        match self.rx.recv().await {
            Ok(event) => Some(event),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                Some(ChangeEvent::Lagged { missed })
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }

    /// The next event if one is queued, without waiting.
    pub fn try_recv(&mut self) -> Option<ChangeEvent> {
        match self.rx.try_recv() {
            Ok(event) => Some(event),
            Err(broadcast::error::TryRecvError::Lagged(missed)) => {
                Some(ChangeEvent::Lagged { missed })
            }
            Err(_) => None,
        }
    }
}
