//! A block model's versions (a page, every page, or one) and the deltas between them.

use evo_core::Page;
use futures_core::Stream;
use http::{Method, StatusCode};
use uuid::Uuid;

use super::{ListQuery, pages};
use crate::client::BlockModelsClient;
use crate::error::Error;
use crate::models::{DeltaRequest, Deltas, Version};

impl BlockModelsClient {
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
}
