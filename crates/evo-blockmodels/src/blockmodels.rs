//! The block model calls: list (workspace, organization), get, create, update metadata,
//! delete, restore; versions and deltas; units.

use evo_core::Page;
use evo_core::paging::OffsetPage;
use futures_core::Stream;
use http::{Method, StatusCode};
use serde::Serialize;
use uuid::Uuid;

use crate::client::{BlockModelsClient, MODELS, ORG_MODELS, UNITS, job_id_of};
use crate::error::Error;
use crate::jobs::JobHandle;
use crate::models::{
    BlockModel, CreatedModel, DeltaRequest, Deltas, ListPage, Location, Rotation, RotationAxis,
    SizeOptions, Unit, UpdateMetadata, Version,
};

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
    /// One page of the workspace's block models.
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
    /// use evo_blockmodels::ListQuery;
    ///
    /// client.create(&regular("North")).await?;
    /// client.create(&regular("South")).await?;
    /// let page = client.list_page(&ListQuery::new().limit(1)).await?;
    /// assert_eq!((page.items.len(), page.total), (1, Some(2)));
    /// # Ok(()) }
    /// ```
    pub async fn list_page(&self, query: &ListQuery) -> Result<Page<BlockModel>, Error> {
        let request = list_params(self.request(Method::GET, MODELS), query);
        self.send_page(request).await
    }

    /// Every block model of the workspace, page after page.
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
    /// use evo_blockmodels::ListQuery;
    /// use futures_util::TryStreamExt as _;
    ///
    /// for name in ["A", "B", "C"] {
    ///     client.create(&regular(name)).await?;
    /// }
    /// let all: Vec<_> = client.list_all(ListQuery::new().limit(2)).try_collect().await?;
    /// assert_eq!(all.len(), 3);
    /// # Ok(()) }
    /// ```
    pub fn list_all(
        &self,
        query: ListQuery,
    ) -> impl Stream<Item = Result<BlockModel, Error>> + Send + 'static {
        let client = self.clone();
        pages(query, move |q| {
            let client = client.clone();
            async move { client.list_page(&q).await }
        })
    }

    /// One page of the block models of every workspace of the organization.
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
    /// use evo_blockmodels::ListQuery;
    /// use futures_util::TryStreamExt as _;
    ///
    /// let (model, _) = client.create(&regular("Org-wide")).await?;
    /// let page = client.list_org_page(&ListQuery::new()).await?;
    /// assert_eq!(page.items[0].bm_uuid, model.bm_uuid);
    /// let all: Vec<_> = client.list_org_all(ListQuery::new()).try_collect().await?;
    /// assert_eq!(all.len(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn list_org_page(&self, query: &ListQuery) -> Result<Page<BlockModel>, Error> {
        let request = list_params(self.org_request(Method::GET, ORG_MODELS), query);
        self.send_page(request).await
    }

    /// Every block model of the organization, page after page.
    ///
    /// See the example on [`list_org_page`](Self::list_org_page).
    pub fn list_org_all(
        &self,
        query: ListQuery,
    ) -> impl Stream<Item = Result<BlockModel, Error>> + Send + 'static {
        let client = self.clone();
        pages(query, move |q| {
            let client = client.clone();
            async move { client.list_org_page(&q).await }
        })
    }

    /// A block model (a deleted one is [`Error::is_not_found`]; see [`Self::get_deleted`]).
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
    /// let (model, _) = client.create(&regular("Pit")).await?;
    /// let read = client.get(model.bm_uuid).await?;
    /// assert_eq!((read.name.as_str(), read.workspace_id), ("Pit", workspace_id));
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, bm_id: Uuid) -> Result<BlockModel, Error> {
        let request = self.model_request(Method::GET, bm_id, "");
        self.send_json(request, None::<&()>, &[StatusCode::OK])
            .await
    }

    /// A deleted block model.
    ///
    /// See the example on [`delete`](Self::delete).
    pub async fn get_deleted(&self, bm_id: Uuid) -> Result<BlockModel, Error> {
        let request = self
            .model_request(Method::GET, bm_id, "")
            .query("deleted", true);
        self.send_json(request, None::<&()>, &[StatusCode::OK])
            .await
    }

    /// Creates a block model and waits for its first version.
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
    /// use evo_blockmodels::{BlockSize, NewBlockModel, Size3, SizeOptions};
    ///
    /// let size = SizeOptions::Regular {
    ///     n_blocks: Size3::new(10, 8, 4),
    ///     block_size: BlockSize::new(5.0, 5.0, 2.5),
    /// };
    /// let new = NewBlockModel::new("Open pit", size).description("grade control").comment("empty");
    /// let (model, first) = client.create(&new).await?;
    /// assert_eq!(model.description.as_deref(), Some("grade control"));
    /// assert_eq!((first.bm_uuid, first.version_id, first.comment.as_str()), (model.bm_uuid, 1, "empty"));
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, model: &NewBlockModel) -> Result<(BlockModel, Version), Error> {
        let (created, job) = self.start_create(model).await?;
        Ok((created, job.wait().await?))
    }

    /// Creates a block model; the job that makes its first version is returned to wait on.
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
    /// let (model, job) = client.start_create(&regular("Later")).await?;
    /// assert_eq!(job.bm_id(), model.bm_uuid);
    /// // ... other work, then:
    /// let first = job.wait().await?;
    /// assert_eq!(first.version_id, 1);
    /// # Ok(()) }
    /// ```
    pub async fn start_create(
        &self,
        model: &NewBlockModel,
    ) -> Result<(BlockModel, JobHandle<Version>), Error> {
        model.validate()?;
        let request = self.request(Method::POST, MODELS);
        let created: CreatedModel = self
            .send_json(request, Some(model), &[StatusCode::CREATED])
            .await?;
        let job_id = job_id_of(&created.job_url)?;
        let job = JobHandle::new(self, created.model.bm_uuid, job_id);
        Ok((created.model, job))
    }

    /// Changes a block model's name, description, coordinate reference system, size unit or
    /// `fill_subblocks` (the members set in `update`).
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
    /// use evo_blockmodels::UpdateMetadata;
    ///
    /// let (model, _) = client.create(&regular("Draft")).await?;
    /// let update = UpdateMetadata::new().name("Final").description("reviewed");
    /// let updated = client.update_metadata(model.bm_uuid, &update).await?;
    /// assert_eq!((updated.name.as_str(), updated.description.as_deref()), ("Final", Some("reviewed")));
    /// # Ok(()) }
    /// ```
    pub async fn update_metadata(
        &self,
        bm_id: Uuid,
        update: &UpdateMetadata,
    ) -> Result<BlockModel, Error> {
        if update.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            return Err(Error::InvalidRequest(
                "a block model name must not be empty".to_owned(),
            ));
        }
        let request = self.model_request(Method::PATCH, bm_id, "");
        self.send_json(request, Some(update), &[StatusCode::OK])
            .await
    }

    /// Deletes a block model (it can be restored).
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
    /// let (model, _) = client.create(&regular("Old")).await?;
    /// client.delete(model.bm_uuid).await?;
    /// assert!(client.get(model.bm_uuid).await.unwrap_err().is_not_found());
    /// assert_eq!(client.get_deleted(model.bm_uuid).await?.name, "Old");
    ///
    /// let restored = client.restore(model.bm_uuid).await?;
    /// assert_eq!(restored.bm_uuid, model.bm_uuid);
    /// assert!(client.get(model.bm_uuid).await.is_ok());
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self, bm_id: Uuid) -> Result<(), Error> {
        self.model_request(Method::DELETE, bm_id, "")
            .expect_status(&[StatusCode::NO_CONTENT])
            .send_empty()
            .await?;
        Ok(())
    }

    /// Restores a deleted block model.
    ///
    /// See the example on [`delete`](Self::delete).
    pub async fn restore(&self, bm_id: Uuid) -> Result<BlockModel, Error> {
        let request = self
            .model_request(Method::POST, bm_id, "")
            .query("deleted", false);
        self.send_json(
            request,
            None::<&()>,
            &[StatusCode::ACCEPTED, StatusCode::OK],
        )
        .await
    }

    /// One page of a block model's versions, newest first.
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
    /// # let (model, _) = client.create(&regular("Pit")).await?;
    /// # let grades = evo_blockmodels::ColumnChanges::new()
    /// #     .add("Au", std::sync::Arc::new(evo_blockmodels::evo_tables::arrow_array::Float64Array::from(vec![0.5, 1.0, 1.5, 2.0])), Some("g/t".into()))
    /// #     .add("density", std::sync::Arc::new(evo_blockmodels::evo_tables::arrow_array::Float64Array::from(vec![2.5; 4])), Some("t/m3".into()));
    /// # let version = client.update_columns(model.bm_uuid, &grades).await?;
    /// // `model` has 4 blocks with columns "Au" (g/t) and "density" (t/m3), made by `version`.
    /// use evo_blockmodels::ListQuery;
    /// use futures_util::TryStreamExt as _;
    ///
    /// let page = client.list_versions_page(model.bm_uuid, &ListQuery::new()).await?;
    /// let ids: Vec<u64> = page.items.iter().map(|v| v.version_id).collect();
    /// assert_eq!(ids, [2, 1]); // newest first
    /// let all: Vec<_> = client.list_versions_all(model.bm_uuid).try_collect().await?;
    /// assert_eq!(all.len(), 2);
    ///
    /// let read = client.get_version(model.bm_uuid, version.version_uuid).await?;
    /// assert!(read.mapping.column("Au").is_some());
    /// # Ok(()) }
    /// ```
    pub async fn list_versions_page(
        &self,
        bm_id: Uuid,
        query: &ListQuery,
    ) -> Result<Page<Version>, Error> {
        let request = self
            .model_request(Method::GET, bm_id, "/versions")
            .query("offset", query.offset)
            .query("limit", query.limit);
        self.send_page(request).await
    }

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

    /// Every version of a block model, newest first.
    ///
    /// See the example on [`list_versions_page`](Self::list_versions_page).
    pub fn list_versions_all(
        &self,
        bm_id: Uuid,
    ) -> impl Stream<Item = Result<Version, Error>> + Send + 'static {
        let client = self.clone();
        pages(ListQuery::new(), move |q| {
            let client = client.clone();
            async move { client.list_versions_page(bm_id, &q).await }
        })
    }

    /// A version by its uuid, with what it changed.
    ///
    /// See the example on [`list_versions_page`](Self::list_versions_page).
    pub async fn get_version(&self, bm_id: Uuid, version_uuid: Uuid) -> Result<Version, Error> {
        let request = self
            .model_request(Method::GET, bm_id, "/versions/{version_id}")
            .path_param("version_id", version_uuid)
            .query("include_changes", true);
        let version: Version = self
            .send_json(request, None::<&()>, &[StatusCode::OK])
            .await?;
        if version.version_uuid != version_uuid || version.bm_uuid != bm_id {
            return Err(Error::Unexpected(format!(
                "asked for version {version_uuid} of {bm_id}, got {} of {}",
                version.version_uuid, version.bm_uuid
            )));
        }
        Ok(version)
    }

    /// Which versions after `version_uuid` changed `request.columns` in `request.bbox`;
    /// `None` when none did (304).
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
    /// # let (model, _) = client.create(&regular("Pit")).await?;
    /// # let grades = evo_blockmodels::ColumnChanges::new()
    /// #     .add("Au", std::sync::Arc::new(evo_blockmodels::evo_tables::arrow_array::Float64Array::from(vec![0.5, 1.0, 1.5, 2.0])), Some("g/t".into()))
    /// #     .add("density", std::sync::Arc::new(evo_blockmodels::evo_tables::arrow_array::Float64Array::from(vec![2.5; 4])), Some("t/m3".into()));
    /// # let version = client.update_columns(model.bm_uuid, &grades).await?;
    /// // `model` has 4 blocks with columns "Au" (g/t) and "density" (t/m3), made by `version`.
    /// use evo_blockmodels::{BBox, DeltaRequest};
    ///
    /// let first = client.list_versions_page(model.bm_uuid, &Default::default()).await?.items[1].version_uuid;
    /// let request = DeltaRequest {
    ///     bbox: BBox::indices((0, 1), (0, 1), (0, 0)),
    ///     columns: vec!["Au".into()],
    ///     end_version_uuid: None,
    ///     verbose: false,
    /// };
    /// // "Au" changed after the first version ...
    /// let since_first = client.deltas(model.bm_uuid, first, &request).await?;
    /// assert!(since_first.is_some());
    /// // ... and not after the latest one (the service answers 304).
    /// assert!(client.deltas(model.bm_uuid, version.version_uuid, &request).await?.is_none());
    /// # Ok(()) }
    /// ```
    pub async fn deltas(
        &self,
        bm_id: Uuid,
        version_uuid: Uuid,
        request: &DeltaRequest,
    ) -> Result<Option<Deltas>, Error> {
        let response = self
            .model_request(Method::POST, bm_id, "/versions/{version_id}/delta")
            .path_param("version_id", version_uuid)
            .json(request)
            .expect_status(&[StatusCode::OK, StatusCode::NOT_MODIFIED])
            .send()
            .await?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        Ok(Some(
            evo_core::decode_json(response, 64 * 1024 * 1024).await?,
        ))
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

fn list_params(request: evo_core::RequestBuilder, query: &ListQuery) -> evo_core::RequestBuilder {
    let request = request
        .query("offset", query.offset)
        .query("limit", query.limit);
    if query.deleted {
        request.query("deleted", true)
    } else {
        request
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
