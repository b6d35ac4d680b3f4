//! The geoscience objects of a workspace, kept up to date by polling the Geoscience Object
//! API with its cheapest change detection:
//!
//! * changes: `deleted=false&modified_at=gte:<watermark - overlap>` (versions are
//!   `modified_at` in microseconds since the Unix epoch, the server's clock);
//! * deletions: one `PATCH .../objects` call per 500 known objects (the latest-versions call,
//!   whose answer has a `null` version for a deleted or missing object), instead of listing
//!   deleted objects. A deletion is applied at the version the replica holds, which wins.
//!
//! Same engine rules as [`LiveWorkspaces`](crate::evo::LiveWorkspaces): a first full
//! listing built aside and swapped in, duplicate re-reads ignored, a periodic full listing
//! ([`EvoPollOptions::reconcile_every`]) to catch anything the filters cannot show.

use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;
use std::sync::Mutex;

use async_trait::async_trait;
use evo_core::uuid::Uuid;
use evo_objects::{ListObjectsQuery, ListedObject, ObjectsClient, OrderBy, SortField, TimeFilter};
use futures_util::TryStreamExt;
use time::OffsetDateTime;

use super::{EvoPollOptions, api_error, timestamp_version};
use crate::error::Error;
use crate::poll::{Deleted, PollApi, PollOptions, Polled, Poller};
use crate::replica::Replica;
use crate::source::Live;

/// Polls the objects of the workspace an [`ObjectsClient`] is bound to.
pub struct ObjectsApi {
    client: ObjectsClient,
    /// The objects listed so far and the version each was listed at: what the latest-versions
    /// call asks about.
    known: Mutex<HashMap<Uuid, u64>>,
}

impl fmt::Debug for ObjectsApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectsApi")
            .field("environment", self.client.environment())
            .finish_non_exhaustive()
    }
}

impl ObjectsApi {
    /// Polls the workspace `client` is bound to.
    pub fn new(client: ObjectsClient) -> Self {
        Self {
            client,
            known: Mutex::new(HashMap::new()),
        }
    }

    fn known(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, u64>> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn list(
        &self,
        query: ListObjectsQuery,
    ) -> Result<Vec<Polled<Uuid, ListedObject>>, Error> {
        let objects: Vec<ListedObject> = self
            .client
            .list_all(
                query
                    .deleted(false)
                    .limit(evo_objects::MAX_PAGE_SIZE)
                    .order_by(OrderBy::asc(SortField::ModifiedAt)),
            )
            .try_collect()
            .await
            .map_err(|e| api_error("listing objects", e.status(), e))?;
        Ok(objects
            .into_iter()
            .map(|o| Polled {
                key: o.object_id,
                version: timestamp_version(o.modified_at),
                value: o,
            })
            .collect())
    }
}

fn source_error(message: String) -> Error {
    Error::Source { message }
}

#[async_trait]
impl PollApi<Uuid, ListedObject> for ObjectsApi {
    async fn list_all(&self) -> Result<Vec<Polled<Uuid, ListedObject>>, Error> {
        let items = self.list(ListObjectsQuery::new()).await?;
        *self.known() = items.iter().map(|i| (i.key, i.version)).collect();
        Ok(items)
    }

    async fn changed_since(&self, since: u64) -> Result<Vec<Polled<Uuid, ListedObject>>, Error> {
        let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(since) * 1000)
            .map_err(|e| source_error(format!("watermark out of range: {e}")))?;
        let items = self
            .list(ListObjectsQuery::new().modified(TimeFilter::since(at)))
            .await?;
        let mut known = self.known();
        for item in &items {
            let version = known.entry(item.key).or_insert(0);
            *version = (*version).max(item.version);
        }
        Ok(items)
    }

    async fn deleted_since(&self, _since: u64) -> Result<Vec<Deleted<Uuid>>, Error> {
        let ids: Vec<Uuid> = self.known().keys().copied().collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let latest = self
            .client
            .latest_versions(&ids)
            .await
            .map_err(|e| api_error("asking for the latest object versions", e.status(), e))?;
        let answered: std::collections::HashSet<Uuid> =
            latest.iter().map(|l| l.object_id).collect();
        let mut known = self.known();
        let mut gone = Vec::new();
        // Deleted or missing objects have no latest version; an object left out of the answer
        // is missing too.
        let missing = latest
            .iter()
            .filter(|l| l.version_id.is_none())
            .map(|l| l.object_id)
            .chain(ids.iter().copied().filter(|id| !answered.contains(id)));
        for key in missing {
            if let Some(version) = known.remove(&key) {
                gone.push(Deleted { key, version });
            }
        }
        Ok(gone)
    }
}

/// The geoscience objects of a workspace (their latest versions' metadata), kept up to date
/// by polling.
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
/// # let objects = evo_objects::ObjectsClient::new(environment, connector)?;
/// # let data = [evo_objects::DataFile::from_bytes(vec![1u8; 24])];
/// # objects.upload_data(&data, None).await?;
/// # let point_set = serde_json::json!({
/// #     "schema": "/objects/pointset/1.3.0/pointset.schema.json", "name": "Samples",
/// #     "bounding_box": {"min_x": 0.0, "max_x": 1.0, "min_y": 0.0, "max_y": 1.0, "min_z": 0.0, "max_z": 1.0},
/// #     "coordinate_reference_system": {"epsg_code": 32760},
/// #     "locations": {"coordinates": {"data": data[0].name(), "length": 1, "width": 3, "data_type": "float64"}}
/// # });
/// use std::time::Duration;
/// use evo_sync::Update;
/// use evo_sync::evo::{EvoPollOptions, LiveObjects};
///
/// let options = EvoPollOptions { interval: Duration::from_millis(50), ..EvoPollOptions::default() };
/// let live = LiveObjects::start(objects.clone(), options)?;
/// live.wait_until_ready().await?; // the first full listing
/// let (snapshot, mut updates) = live.subscribe_with_snapshot();
/// println!("{} objects", snapshot.len());
///
/// // `point_set`: the JSON of a point set whose data is uploaded.
/// let created = objects.create("samples/points.json", &point_set).await?;
/// tokio::time::timeout(Duration::from_secs(30), async {
///     while let Some(update) = updates.recv().await {
///         if let Update::Upserted { value, .. } = update {
///             println!("changed: {} (version {})", value.full_path(), value.version_id);
///             if value.version_id == created.version_id {
///                 break;
///             }
///         }
///     }
/// })
/// .await?;
/// live.stop().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct LiveObjects {
    live: Live<Uuid, ListedObject>,
}

impl LiveObjects {
    /// The cursor stream holding the objects watermark.
    pub const STREAM: &'static str = "objects";

    /// Starts polling the workspace `objects` is bound to, on the current tokio runtime.
    ///
    /// See the example on [`LiveObjects`].
    pub fn start(objects: ObjectsClient, options: EvoPollOptions) -> Result<Self, Error> {
        let poll = PollOptions {
            interval: options.interval,
            overlap: u64::try_from(options.overlap.as_micros()).unwrap_or(u64::MAX),
            reconcile_every: options.reconcile_every,
            stream: Self::STREAM.to_owned(),
        };
        let poller = Poller::new(ObjectsApi::new(objects), poll)?;
        Ok(Self {
            live: Live::start(poller, options.live),
        })
    }

    /// Stops polling.
    ///
    /// See the example on [`LiveObjects`].
    pub async fn stop(self) {
        self.live.stop().await;
    }
}

impl Deref for LiveObjects {
    type Target = Replica<Uuid, ListedObject>;

    fn deref(&self) -> &Self::Target {
        self.live.replica()
    }
}
