//! A change source for APIs without push: poll for items changed since a watermark.
//!
//! Evo has no change feed, but its list endpoints filter by `updated_at` / `modified_at` /
//! `deleted_at`. The [`Poller`] keeps a watermark (the newest version it has seen, in the
//! server's own clock, so client clock skew does not matter) and on every poll asks only for
//! items changed or deleted at or after `watermark - overlap`. The overlap re-reads a short
//! window so equal timestamps and late commits are not missed; re-read items are duplicates the
//! replica ignores. The first poll is a full listing, built aside and swapped in. Optionally,
//! every `reconcile_every` polls a full listing is compared with the replica, catching anything
//! the filters cannot show (it produces ordinary upserts and removals, not a reset).

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::change::{Batch, Change, Cursors};
use crate::error::Error;
use crate::replica::{ChangeSink, ResetReason, Status};
use crate::source::ChangeSource;

/// An item as listed by the server, with its version (e.g. `updated_at` in microseconds since
/// the Unix epoch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Polled<K, V> {
    /// The item's key.
    pub key: K,
    /// The item's version.
    pub version: u64,
    /// The item.
    pub value: V,
}

/// A deletion as listed by the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deleted<K> {
    /// The deleted item's key.
    pub key: K,
    /// The version of the deletion (e.g. `deleted_at`), on the same scale as item versions.
    pub version: u64,
}

/// What a polled API must answer. Versions are on one scale per API (the server's timestamps).
#[async_trait]
pub trait PollApi<K, V>: Send + Sync {
    /// Every live item.
    async fn list_all(&self) -> Result<Vec<Polled<K, V>>, Error>;

    /// Live items changed at or after `since`.
    async fn changed_since(&self, since: u64) -> Result<Vec<Polled<K, V>>, Error>;

    /// Items deleted at or after `since`.
    async fn deleted_since(&self, since: u64) -> Result<Vec<Deleted<K>>, Error>;
}

/// How a [`Poller`] polls.
#[derive(Clone, Debug)]
pub struct PollOptions {
    /// Time between polls.
    pub interval: Duration,
    /// How far behind the watermark each poll starts (in the versions' unit, microseconds for
    /// timestamps).
    pub overlap: u64,
    /// Every this many polls, compare a full listing with the replica (0: never).
    pub reconcile_every: u32,
    /// The cursor stream that holds the watermark.
    pub stream: String,
}

impl Default for PollOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5),
            overlap: 5_000_000,
            reconcile_every: 60,
            stream: "items".to_owned(),
        }
    }
}

/// A [`ChangeSource`] that polls a [`PollApi`].
pub struct Poller<A> {
    api: A,
    options: PollOptions,
    polls_since_reconcile: u32,
}

impl<A> fmt::Debug for Poller<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poller")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<A> Poller<A> {
    /// A poller over `api`.
    pub fn new(api: A, options: PollOptions) -> Result<Self, Error> {
        if options.interval.is_zero() {
            return Err(Error::InvalidConfig {
                message: "the poll interval must be positive".to_owned(),
            });
        }
        Ok(Self {
            api,
            options,
            polls_since_reconcile: 0,
        })
    }

    /// The API polled.
    pub fn api(&self) -> &A {
        &self.api
    }

    /// Polls once: a full load if the replica has no watermark yet, a reconciliation if one is
    /// due, otherwise only the changes since the watermark. Nothing is applied if a request
    /// fails, so the watermark never passes changes that were not applied.
    pub async fn poll_once<K, V>(&mut self, sink: &mut ChangeSink<K, V>) -> Result<(), Error>
    where
        A: PollApi<K, V>,
        K: Ord + Clone + Send + Sync + 'static,
        V: Send + Sync + 'static,
    {
        let stream = self.options.stream.clone();
        let Some(watermark) = sink.cursors().get(&stream) else {
            let items = self.api.list_all().await?;
            let top = items.iter().map(|i| i.version).max().unwrap_or(0);
            sink.begin_resync(ResetReason::Initial);
            sink.resync_items(items.into_iter().map(|i| (i.key, i.version, i.value)));
            sink.finish_resync(Cursors::new().with(stream, top), 0);
            self.polls_since_reconcile = 0;
            sink.set_status(Status::Connected);
            return Ok(());
        };
        let reconcile = self.options.reconcile_every > 0
            && self.polls_since_reconcile >= self.options.reconcile_every;
        let mut batch = Batch::new();
        let mut top = watermark;
        if reconcile {
            let items = self.api.list_all().await?;
            let snapshot = sink.snapshot();
            let listed: BTreeSet<&K> = items.iter().map(|i| &i.key).collect();
            for (key, _) in snapshot.iter() {
                if !listed.contains(key) {
                    // Gone from the server: delete at the version we hold, which wins over it.
                    let version = snapshot.entry(key).map_or(0, |e| e.version);
                    batch.push(Change::delete(key.clone(), version));
                }
            }
            drop(listed);
            for item in items {
                top = top.max(item.version);
                batch.push(Change::upsert(item.key, item.version, item.value));
            }
            self.polls_since_reconcile = 0;
        } else {
            let since = watermark.saturating_sub(self.options.overlap);
            let changed = self.api.changed_since(since).await?;
            let deleted = self.api.deleted_since(since).await?;
            for item in changed {
                top = top.max(item.version);
                batch.push(Change::upsert(item.key, item.version, item.value));
            }
            for gone in deleted {
                top = top.max(gone.version);
                batch.push(Change::delete(gone.key, gone.version));
            }
            self.polls_since_reconcile = self.polls_since_reconcile.saturating_add(1);
        }
        batch.cursors = Cursors::new().with(stream, top);
        sink.apply(batch);
        // `top` is the watermark from now on, and it only moves forward: every later poll
        // starts at or after `top - overlap`, so no change below it can arrive any more and its
        // tombstones can go.
        let floor = top.saturating_sub(self.options.overlap);
        sink.prune_tombstones(floor.saturating_sub(1));
        sink.set_status(Status::Connected);
        Ok(())
    }
}

#[async_trait]
impl<K, V, A> ChangeSource<K, V> for Poller<A>
where
    A: PollApi<K, V>,
    K: Ord + Clone + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    async fn run(&mut self, _from: &Cursors, sink: &mut ChangeSink<K, V>) -> Result<(), Error> {
        // The sink's cursors (`_from`) hold the watermark; `poll_once` reads them directly.
        loop {
            self.poll_once(sink).await?;
            sink.mark_ready();
            tokio::time::sleep(self.options.interval).await;
        }
    }
}
