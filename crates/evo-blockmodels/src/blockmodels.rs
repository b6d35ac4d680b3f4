//! The block model calls: list (workspace, organization), get, create, update metadata,
//! delete, restore; versions and deltas; units.
//!
//! What lives where: this file holds the listing query ([`ListQuery`]), the new model
//! ([`NewBlockModel`]), units, jobs and the paging shared with reports; `listing` lists
//! block models, `lifecycle` gets, creates, updates, deletes and restores one, and `versions`
//! holds its versions and deltas.

mod lifecycle;
mod listing;
mod versions;

use evo_core::Page;
use evo_core::paging::OffsetPage;
use futures_core::Stream;
use http::{Method, StatusCode};
use serde::Serialize;
use uuid::Uuid;

use crate::client::{BlockModelsClient, UNITS};
use crate::error::Error;
use crate::jobs::JobHandle;
use crate::models::{ListPage, Location, Rotation, RotationAxis, SizeOptions, Unit};

/// The most items one page of a listing holds.
pub const MAX_PAGE_SIZE: u64 = 100;

/// Which page of a listing to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListQuery {
    pub(crate) offset: u64,
    pub(crate) limit: u64,
    pub(crate) deleted: bool,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            offset: 0,
            limit: MAX_PAGE_SIZE,
            deleted: false,
        }
    }
}

impl ListQuery {
    /// The first [`MAX_PAGE_SIZE`] live items.
    pub fn new() -> Self {
        Self::default()
    }
    /// Skip this many items.
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }
    /// At most this many items per page (1 to [`MAX_PAGE_SIZE`]).
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = limit.clamp(1, MAX_PAGE_SIZE);
        self
    }
    /// List deleted block models instead of live ones.
    pub fn deleted(mut self, deleted: bool) -> Self {
        self.deleted = deleted;
        self
    }
}

/// A new block model: its name, geometry, placement and metadata.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewBlockModel {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    coordinate_reference_system: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size_unit_id: Option<String>,
    fill_subblocks: bool,
    model_origin: Location,
    block_rotation: Vec<Rotation>,
    size_options: SizeOptions,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

impl NewBlockModel {
    /// A model named `name` with geometry `size_options`, at the origin, unrotated.
    pub fn new(name: impl Into<String>, size_options: SizeOptions) -> Self {
        NewBlockModel {
            name: name.into(),
            description: None,
            object_path: None,
            coordinate_reference_system: None,
            size_unit_id: None,
            fill_subblocks: false,
            model_origin: Location {
                x: 0.0,
                y: 0.0,
                z: 0.0,
            },
            block_rotation: Vec::new(),
            size_options,
            comment: None,
        }
    }
    /// The corner of block 0, 0, 0.
    pub fn origin(mut self, x: f64, y: f64, z: f64) -> Self {
        self.model_origin = Location { x, y, z };
        self
    }
    /// Adds a rotation of `angle` degrees about `axis` (applied in the order added).
    pub fn rotation(mut self, axis: RotationAxis, angle: f64) -> Self {
        self.block_rotation.push(Rotation { axis, angle });
        self
    }
    /// The coordinate reference system (e.g. `EPSG:32750`).
    pub fn coordinate_reference_system(mut self, crs: impl Into<String>) -> Self {
        self.coordinate_reference_system = Some(crs.into());
        self
    }
    /// The length unit of sizes and coordinates (e.g. `m`).
    pub fn size_unit(mut self, unit_id: impl Into<String>) -> Self {
        self.size_unit_id = Some(unit_id.into());
        self
    }
    /// A description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
    /// The folder of the geoscience object that will reference the model.
    pub fn object_path(mut self, path: impl Into<String>) -> Self {
        self.object_path = Some(path.into());
        self
    }
    /// The comment of the first version.
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }
    /// Whether merge updates that change the sub-blocking fill missing sub-blocks from their
    /// parent by default.
    pub fn fill_subblocks(mut self, fill: bool) -> Self {
        self.fill_subblocks = fill;
        self
    }

    fn validate(&self) -> Result<(), Error> {
        let name = self.name.trim();
        if name.is_empty() || self.name.contains(['/', '\\']) {
            return Err(Error::InvalidRequest(format!(
                "a block model name must not be empty nor contain '/' or '\\': {:?}",
                self.name
            )));
        }
        let o = &self.model_origin;
        let angles_ok = self.block_rotation.iter().all(|r| r.angle.is_finite());
        if ![o.x, o.y, o.z].iter().all(|v| v.is_finite()) || !angles_ok {
            return Err(Error::InvalidRequest(
                "the origin and rotation angles must be finite numbers".to_owned(),
            ));
        }
        self.size_options.validate().map_err(Error::InvalidRequest)
    }
}

impl BlockModelsClient {
    /// Sends a listing request and reads its page.
    pub(crate) async fn send_page<T: serde::de::DeserializeOwned>(
        &self,
        request: evo_core::RequestBuilder,
    ) -> Result<Page<T>, Error> {
        let page: ListPage<T> = self
            .send_json(request, None::<&()>, &[StatusCode::OK])
            .await?;
        Ok(page.into())
    }

    /// The units columns and sizes can have.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let seed = evo_emulator::Seed::from_json(
    /// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
    /// # )?;
    /// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
    /// # let workspace_id = emulator.organizations()[0].workspaces[0].0;
    /// # let environment = evo_core::Environment::new(emulator.hub_url(), emulator.org_id(), workspace_id);
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.blocksync"]),
    /// #     )))
    /// #     .build()?;
    /// # let client = evo_blockmodels::BlockModelsClient::new(environment, connector)?;
    /// # let regular = |name: &str| evo_blockmodels::NewBlockModel::new(name, evo_blockmodels::SizeOptions::Regular {
    /// #     n_blocks: evo_blockmodels::Size3::new(2, 2, 1),
    /// #     block_size: evo_blockmodels::BlockSize::new(10.0, 10.0, 5.0),
    /// # });
    /// // `regular(name)`: a new model of 2 x 2 x 1 blocks of 10 x 10 x 5 m.
    /// let units = client.units().await?;
    /// assert!(units.iter().any(|u| u.unit_id == "g/t"));
    /// # Ok(()) }
    /// ```
    pub async fn units(&self) -> Result<Vec<Unit>, Error> {
        let request = self.org_request(Method::GET, UNITS);
        self.send_json(request, None::<&()>, &[StatusCode::OK])
            .await
    }

    /// A handle on a job of a block model (for example one started elsewhere), whose result
    /// is a `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let seed = evo_emulator::Seed::from_json(
    /// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
    /// # )?;
    /// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
    /// # let workspace_id = emulator.organizations()[0].workspaces[0].0;
    /// # let environment = evo_core::Environment::new(emulator.hub_url(), emulator.org_id(), workspace_id);
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.blocksync"]),
    /// #     )))
    /// #     .build()?;
    /// # let client = evo_blockmodels::BlockModelsClient::new(environment, connector)?;
    /// # let regular = |name: &str| evo_blockmodels::NewBlockModel::new(name, evo_blockmodels::SizeOptions::Regular {
    /// #     n_blocks: evo_blockmodels::Size3::new(2, 2, 1),
    /// #     block_size: evo_blockmodels::BlockSize::new(10.0, 10.0, 5.0),
    /// # });
    /// // `regular(name)`: a new model of 2 x 2 x 1 blocks of 10 x 10 x 5 m.
    /// use evo_blockmodels::Version;
    ///
    /// let (model, started) = client.start_create(&regular("Elsewhere")).await?;
    /// // A job known only by its ids (say, from another process):
    /// let job = client.job::<Version>(model.bm_uuid, started.job_id());
    /// assert_eq!(job.wait().await?.bm_uuid, model.bm_uuid);
    /// # Ok(()) }
    /// ```
    pub fn job<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        bm_id: Uuid,
        job_id: Uuid,
    ) -> JobHandle<T> {
        JobHandle::new(self, bm_id, job_id)
    }
}

/// The items of every page from `query`'s offset on: a page is read when the previous one is
/// used up; the stream ends after the last page (or the first error).
pub(crate) fn pages<T, F, Fut>(
    query: ListQuery,
    fetch: F,
) -> impl Stream<Item = Result<T, Error>> + Send + 'static
where
    T: Send + 'static,
    F: Fn(ListQuery) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Page<T>, Error>> + Send,
{
    evo_core::paging::offset_pages(query.offset, move |offset| {
        let page = fetch(ListQuery { offset, ..query });
        async move {
            let page = page.await?;
            let end = offset + page.items.len() as u64;
            let more = page.total.is_some_and(|total| end < total);
            Ok::<_, Error>(OffsetPage {
                items: page.items,
                more,
            })
        }
    })
}
