//! A block model's life: get it (deleted too), create it, update its metadata, delete and
//! restore it.

use http::{Method, StatusCode};
use uuid::Uuid;

use super::NewBlockModel;
use crate::client::{BlockModelsClient, MODELS, job_id_of};
use crate::error::Error;
use crate::jobs::JobHandle;
use crate::models::{BlockModel, CreatedModel, UpdateMetadata, Version};

impl BlockModelsClient {
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
}
