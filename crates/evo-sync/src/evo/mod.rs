//! Evo change sources: the workspaces of an organization and the files of a workspace, polled
//! with the APIs' time filters (Evo has no push API), and the [`LiveWorkspaces`] /
//! [`LiveFiles`] replicas built on them; [`LiveObjects`] (in `live_objects.rs`) does the same
//! for the objects of a workspace.
//!
//! Versions are the server's timestamps in microseconds since the Unix epoch:
//! * workspaces: `updated_at`. Changes are listed with `updated_at=gte:<watermark - overlap>`.
//!   The Workspaces API marks no deleted flag in listings, so deletions are the workspaces that
//!   `deleted=true` (which includes soft-deleted ones) lists in the window but `deleted=false`
//!   does not; this relies on deletion and restore updating `updated_at`, as the emulator does.
//! * files: `modified_at` for live files (`deleted=false&modified_at=gte:..`) and `deleted_at`
//!   for deletions (`deleted=true&deleted_at=gte:..`).
//!
//! A periodic full listing ([`EvoPollOptions::reconcile_every`]) catches whatever the filters
//! cannot show (for instance a row skipped by offset paging while the list changed).

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Deref;
use std::time::Duration;

use async_trait::async_trait;
use evo_core::ApiConnector;
use evo_core::uuid::Uuid;
use evo_workspaces::{
    ListWorkspacesQuery, SortDirection, TimeFilter, Workspace, WorkspaceSortField, WorkspacesClient,
};
use futures_util::{StreamExt, TryStreamExt};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::Error;
use crate::poll::{Deleted, PollApi, PollOptions, Polled, Poller};
use crate::replica::Replica;
use crate::source::{Live, LiveOptions};

pub use live_objects::{LiveObjects, ObjectsApi};

mod live_objects;

/// The Workspaces API documents limits above 100 as deprecated.
const WORKSPACE_PAGE: usize = 100;
/// A bound on pages per listing, so a misbehaving server cannot keep a poll going forever.
const MAX_PAGES: usize = 10_000;

/// How an Evo poller polls.
#[derive(Clone, Debug)]
pub struct EvoPollOptions {
    /// Time between polls (default 5 s).
    pub interval: Duration,
    /// How far behind the newest timestamp seen each poll starts again (default 5 s), to
    /// cover equal timestamps and late commits.
    pub overlap: Duration,
    /// Every this many polls, compare a full listing with the replica (default 60; 0: never).
    pub reconcile_every: u32,
    /// Replica queue sizes and reconnect backoff.
    pub live: LiveOptions,
}

impl Default for EvoPollOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5),
            overlap: Duration::from_secs(5),
            reconcile_every: 60,
            live: LiveOptions::default(),
        }
    }
}

impl EvoPollOptions {
    fn poll_options(&self, stream: &str) -> PollOptions {
        PollOptions {
            interval: self.interval,
            overlap: u64::try_from(self.overlap.as_micros()).unwrap_or(u64::MAX),
            reconcile_every: self.reconcile_every,
            stream: stream.to_owned(),
        }
    }
}

/// Microseconds since the Unix epoch of an RFC 3339 timestamp (0 for times before 1970).
#[cfg(test)]
fn micros(text: &str) -> Result<u64, String> {
    let at = OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| format!("bad timestamp {text:?}: {e}"))?;
    Ok(u64::try_from(at.unix_timestamp_nanos() / 1000).unwrap_or(0))
}

/// The `gte:<RFC 3339>` filter value for `since` (microseconds since the epoch).
fn since_filter(since: u64) -> Result<TimeFilter, Error> {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(since) * 1000)
        .map_err(|e| source_error(format!("watermark out of range: {e}")))?;
    // Years past 9999 have no RFC 3339 form: refuse them here rather than send a filter
    // the service cannot read.
    at.format(&Rfc3339)
        .map_err(|e| source_error(format!("cannot format the watermark: {e}")))?;
    Ok(TimeFilter::since(at))
}

fn source_error(message: impl Into<String>) -> Error {
    Error::Source {
        message: message.into(),
    }
}

/// An API failure: [`Error::Refused`] for what retrying cannot cure (403, 404), otherwise
/// [`Error::Source`].
pub(crate) fn api_error(
    context: &str,
    status: Option<evo_core::http::StatusCode>,
    error: impl fmt::Display,
) -> Error {
    let message = format!("{context}: {error}");
    match status.map(|s| s.as_u16()) {
        Some(status @ (403 | 404)) => Error::Refused { status, message },
        _ => source_error(message),
    }
}

/// Polls the workspaces of one organization through evo-workspaces' [`WorkspacesClient`];
/// items are [`Workspace`]s.
#[derive(Clone)]
pub struct WorkspacesApi {
    client: WorkspacesClient,
}

impl fmt::Debug for WorkspacesApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkspacesApi")
            .field("org_id", &self.client.org_id())
            .finish_non_exhaustive()
    }
}

impl WorkspacesApi {
    /// Polls the workspaces `client` lists.
    pub fn new(client: WorkspacesClient) -> Self {
        Self { client }
    }

    /// Every workspace (live only, or including soft-deleted ones) with an optional
    /// `updated_at` filter, oldest change first, with its version.
    async fn list(
        &self,
        deleted: bool,
        since: Option<u64>,
    ) -> Result<Vec<Polled<Uuid, Workspace>>, Error> {
        let mut query = ListWorkspacesQuery::new()
            .limit(WORKSPACE_PAGE as u64)
            .deleted(deleted)
            .order_by(WorkspaceSortField::UpdatedAt, SortDirection::Asc);
        if let Some(since) = since {
            query = query.updated(since_filter(since)?);
        }
        let workspaces: Vec<Workspace> = self
            .client
            .list_all_workspaces(query)
            .take(MAX_PAGES * WORKSPACE_PAGE)
            .try_collect()
            .await
            .map_err(|e| api_error("listing workspaces", e.status(), e))?;
        Ok(workspaces
            .into_iter()
            .map(|w| Polled {
                key: w.id,
                version: timestamp_version(w.updated_at),
                value: w,
            })
            .collect())
    }
}

#[async_trait]
impl PollApi<Uuid, Workspace> for WorkspacesApi {
    async fn list_all(&self) -> Result<Vec<Polled<Uuid, Workspace>>, Error> {
        self.list(false, None).await
    }

    async fn changed_since(&self, since: u64) -> Result<Vec<Polled<Uuid, Workspace>>, Error> {
        self.list(false, Some(since)).await
    }

    async fn deleted_since(&self, since: u64) -> Result<Vec<Deleted<Uuid>>, Error> {
        // Listed live ones are asked for second, so a workspace restored in between counts as
        // live (its upsert carries the newer version anyway).
        let including_deleted = self.list(true, Some(since)).await?;
        let live: BTreeSet<Uuid> = self
            .list(false, Some(since))
            .await?
            .into_iter()
            .map(|p| p.key)
            .collect();
        Ok(including_deleted
            .into_iter()
            .filter(|p| !live.contains(&p.key))
            .map(|p| Deleted {
                key: p.key,
                version: p.version,
            })
            .collect())
    }
}

/// Polls the files of one workspace.
#[derive(Clone)]
pub struct FilesApi {
    files: evo_files::FilesClient,
}

impl fmt::Debug for FilesApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilesApi").finish_non_exhaustive()
    }
}

impl FilesApi {
    /// Polls the workspace `files` is bound to.
    pub fn new(files: evo_files::FilesClient) -> Self {
        Self { files }
    }

    async fn list(
        &self,
        query: evo_files::ListFilesQuery,
    ) -> Result<Vec<evo_files::FileSummary>, Error> {
        self.files
            .list_all(query.limit(evo_files::MAX_PAGE_SIZE))
            .try_collect()
            .await
            .map_err(|e| api_error("listing files", e.status(), e))
    }

    fn since(since: u64) -> Result<evo_files::TimeFilter, Error> {
        let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(since) * 1000)
            .map_err(|e| source_error(format!("watermark out of range: {e}")))?;
        Ok(evo_files::TimeFilter::since(at))
    }
}

/// The version of a server timestamp: microseconds since the Unix epoch (0 before 1970).
pub(crate) fn timestamp_version(at: OffsetDateTime) -> u64 {
    u64::try_from(at.unix_timestamp_nanos() / 1000).unwrap_or(0)
}

fn polled_files(files: Vec<evo_files::FileSummary>) -> Vec<Polled<Uuid, evo_files::FileSummary>> {
    files
        .into_iter()
        .map(|f| Polled {
            key: f.file_id,
            version: timestamp_version(f.modified_at),
            value: f,
        })
        .collect()
}

#[async_trait]
impl PollApi<Uuid, evo_files::FileSummary> for FilesApi {
    async fn list_all(&self) -> Result<Vec<Polled<Uuid, evo_files::FileSummary>>, Error> {
        let query = evo_files::ListFilesQuery::new()
            .deleted(false)
            .order_by(evo_files::OrderBy::asc(evo_files::SortField::ModifiedAt));
        Ok(polled_files(self.list(query).await?))
    }

    async fn changed_since(
        &self,
        since: u64,
    ) -> Result<Vec<Polled<Uuid, evo_files::FileSummary>>, Error> {
        let query = evo_files::ListFilesQuery::new()
            .deleted(false)
            .modified(Self::since(since)?)
            .order_by(evo_files::OrderBy::asc(evo_files::SortField::ModifiedAt));
        Ok(polled_files(self.list(query).await?))
    }

    async fn deleted_since(&self, since: u64) -> Result<Vec<Deleted<Uuid>>, Error> {
        let query = evo_files::ListFilesQuery::new()
            .deleted(true)
            .deleted_time(Self::since(since)?)
            .order_by(evo_files::OrderBy::asc(evo_files::SortField::DeletedAt));
        Ok(self
            .list(query)
            .await?
            .into_iter()
            .map(|f| Deleted {
                key: f.file_id,
                version: timestamp_version(f.deleted_at.unwrap_or(f.modified_at)),
            })
            .collect())
    }
}

/// The workspaces of an organization, kept up to date by polling.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let seed = evo_emulator::Seed::from_json(
/// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
/// # )?;
/// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
/// # let (org_id, workspace_id) = (emulator.org_id(), emulator.organizations()[0].workspaces[0].0);
/// # let environment = evo_core::Environment::new(emulator.hub_url(), org_id, workspace_id);
/// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
/// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
/// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
/// #         emulator.issue_token(&["evo.workspace", "evo.file", "evo.object"]),
/// #     )))
/// #     .build()?;
/// use std::time::Duration;
/// use evo_sync::Update;
/// use evo_sync::evo::{EvoPollOptions, LiveWorkspaces};
/// use evo_workspaces::{CreateWorkspaceRequest, WorkspacesClient};
///
/// let options = EvoPollOptions { interval: Duration::from_millis(50), ..EvoPollOptions::default() };
/// let live = LiveWorkspaces::start(connector.clone(), org_id, options)?;
/// live.wait_until_ready().await?;
/// let (snapshot, mut updates) = live.subscribe_with_snapshot();
/// println!("{} workspaces", snapshot.len());
///
/// // Someone creates a workspace: the replica sees it at its next poll.
/// let workspaces = WorkspacesClient::new(org_id, connector);
/// let created = workspaces.create_workspace(&CreateWorkspaceRequest::new("Survey 2026")).await?;
/// tokio::time::timeout(Duration::from_secs(30), async {
///     while let Some(update) = updates.recv().await {
///         if let Update::Upserted { value, .. } = update {
///             println!("changed: {}", value.name);
///             if value.id == created.id {
///                 break;
///             }
///         }
///     }
/// })
/// .await?;
/// assert_eq!(live.snapshot().get(&created.id).map(|w| w.name.as_str()), Some("Survey 2026"));
/// live.stop().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct LiveWorkspaces {
    live: Live<Uuid, Workspace>,
}

impl LiveWorkspaces {
    /// The cursor stream holding the workspaces watermark.
    pub const STREAM: &'static str = "workspaces";

    /// Starts polling the workspaces of `org_id` (the connector must be based at the hub URL
    /// and carry the `evo.workspace` scope) on the current tokio runtime.
    ///
    /// See the example on [`LiveWorkspaces`].
    pub fn start(
        connector: ApiConnector,
        org_id: Uuid,
        options: EvoPollOptions,
    ) -> Result<Self, Error> {
        let poller = Poller::new(
            WorkspacesApi::new(WorkspacesClient::new(org_id, connector)),
            options.poll_options(Self::STREAM),
        )?;
        Ok(Self {
            live: Live::start(poller, options.live),
        })
    }

    /// Stops polling.
    ///
    /// See the example on [`LiveWorkspaces`].
    pub async fn stop(self) {
        self.live.stop().await;
    }
}

impl Deref for LiveWorkspaces {
    type Target = Replica<Uuid, Workspace>;

    fn deref(&self) -> &Self::Target {
        self.live.replica()
    }
}

/// The files of a workspace, kept up to date by polling.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let seed = evo_emulator::Seed::from_json(
/// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
/// # )?;
/// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
/// # let (org_id, workspace_id) = (emulator.org_id(), emulator.organizations()[0].workspaces[0].0);
/// # let environment = evo_core::Environment::new(emulator.hub_url(), org_id, workspace_id);
/// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
/// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
/// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
/// #         emulator.issue_token(&["evo.workspace", "evo.file", "evo.object"]),
/// #     )))
/// #     .build()?;
/// use std::time::Duration;
/// use evo_sync::evo::{EvoPollOptions, LiveFiles};
///
/// let files = evo_files::FilesClient::new(environment, connector)?;
/// let options = EvoPollOptions { interval: Duration::from_millis(50), ..EvoPollOptions::default() };
/// let live = LiveFiles::start(files.clone(), options)?;
/// live.wait_until_ready().await?;
/// let mut updates = live.subscribe();
///
/// let uploaded = files.upload_bytes("logs/today.csv", "a,b\n").await?;
/// tokio::time::timeout(Duration::from_secs(30), async {
///     while live.snapshot().get(&uploaded.file_id).is_none() {
///         updates.recv().await;
///     }
/// })
/// .await?;
/// assert_eq!(live.snapshot().get(&uploaded.file_id).unwrap().name, "today.csv");
/// live.stop().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct LiveFiles {
    live: Live<Uuid, evo_files::FileSummary>,
}

impl LiveFiles {
    /// The cursor stream holding the files watermark.
    pub const STREAM: &'static str = "files";

    /// Starts polling the workspace `files` is bound to, on the current tokio runtime.
    ///
    /// See the example on [`LiveFiles`].
    pub fn start(files: evo_files::FilesClient, options: EvoPollOptions) -> Result<Self, Error> {
        let poller = Poller::new(FilesApi::new(files), options.poll_options(Self::STREAM))?;
        Ok(Self {
            live: Live::start(poller, options.live),
        })
    }

    /// Stops polling.
    ///
    /// See the example on [`LiveFiles`].
    pub async fn stop(self) {
        self.live.stop().await;
    }
}

impl Deref for LiveFiles {
    type Target = Replica<Uuid, evo_files::FileSummary>;

    fn deref(&self) -> &Self::Target {
        self.live.replica()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_through_filters() {
        let v = micros("2026-11-22T10:49:11.123456+00:00").expect("parse");
        assert_eq!(
            since_filter(v).expect("format").to_string(),
            "gte:2026-11-22T10:49:11.123456Z"
        );
        assert!(micros("yesterday").is_err());
    }

    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn arbitrary_timestamps_never_panic(text in any::<String>(), tail in "[0-9T:.+Z-]{0,40}") {
                let _ = micros(&text);
                let _ = micros(&format!("2026-11-22T10:49:11{tail}"));
            }

            #[test]
            fn watermarks_round_trip_through_the_filter_text(since in prop_oneof![any::<u64>(), 0u64..=253_402_300_799_999_999]) {
                match since_filter(since) {
                    Ok(filter) => {
                        let text = filter.to_string();
                        let text = text.strip_prefix("gte:").expect("gte: prefix");
                        prop_assert_eq!(micros(text), Ok(since));
                    }
                    // Only times past year 9999 cannot be written as RFC 3339.
                    Err(e) => {
                        prop_assert!(since > 253_402_300_799_999_999, "{since}: {e}");
                        prop_assert!(matches!(e, Error::Source { .. }), "{:?}", e);
                    }
                }
            }
        }
    }
}
