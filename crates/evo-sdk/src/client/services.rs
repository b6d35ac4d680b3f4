//! The clients of Evo's services, made from an [`Evo`]: discovery, workspaces, any service
//! ([`ServiceClient`](crate::ServiceClient)), and by feature files, objects, block models,
//! compute and colormaps.

use evo_core::uuid::Uuid;
use evo_discovery::DiscoveryClient;
use evo_workspaces::WorkspacesClient;

use super::Evo;

impl Evo {
    /// A Discovery API client (to list organizations again).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use evo_sdk::prelude::*;
    /// # let emulator = Emulator::builder().start().await?;
    /// # let evo = emulator.client().await?;
    /// // `evo`: a session on the embedded emulator (`evo_sdk::load_from_env().await?` in practice).
    /// let organizations = evo.discovery().list_organizations().await?;
    /// assert_eq!(organizations[0].id, emulator.org_id());
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn discovery(&self) -> DiscoveryClient {
        DiscoveryClient::new(self.discovery.clone())
    }

    /// The Workspaces API client of the organization in use.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "emulator")]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use evo_sdk::prelude::*;
    /// # let emulator = Emulator::builder().start().await?;
    /// # let evo = emulator.client().await?;
    /// // `evo`: a session on the embedded emulator (`evo_sdk::load_from_env().await?` in practice).
    /// let created = evo.workspaces().create_workspace(&CreateWorkspaceRequest::new("Drilling")).await?;
    /// assert_eq!(evo.workspaces().get_workspace(created.id).await?.name, "Drilling");
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub fn workspaces(&self) -> WorkspacesClient {
        WorkspacesClient::new(self.org_id(), self.hub_connector.clone())
    }

    /// A client for any service of a workspace, through the hub's connector: typed JSON
    /// requests with this session's retries and credentials (for services without a crate of
    /// their own).
    ///
    /// See the example on [`ServiceClient`](crate::ServiceClient).
    pub fn service_client(&self, workspace_id: Uuid) -> crate::ServiceClient {
        crate::ServiceClient::new(self.environment(workspace_id), self.hub_connector.clone())
    }

    /// The File API client of a workspace.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(all(feature = "emulator", feature = "files"))]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use evo_sdk::prelude::*;
    /// # let emulator = Emulator::builder().start().await?;
    /// # let evo = emulator.client().await?;
    /// // `evo`: a session on the embedded emulator (`evo_sdk::load_from_env().await?` in practice).
    /// let workspace = evo.workspaces().create_workspace(&CreateWorkspaceRequest::new("Files")).await?;
    /// let files = evo.files(workspace.id)?;
    /// let uploaded = files.upload_bytes("notes/readme.txt", "hello").await?;
    /// assert_eq!(&files.download_to_memory(uploaded.file_id, None).await?[..], b"hello");
    /// # Ok(()) }
    /// # #[cfg(not(all(feature = "emulator", feature = "files")))]
    /// # fn main() {}
    /// ```
    #[cfg(feature = "files")]
    #[cfg_attr(docsrs, doc(cfg(feature = "files")))]
    pub fn files(&self, workspace_id: Uuid) -> Result<evo_files::FilesClient, evo_files::Error> {
        evo_files::FilesClient::new(self.environment(workspace_id), self.hub_connector.clone())
    }

    /// The Geoscience Object API client of a workspace.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(all(feature = "emulator", feature = "objects"))]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use evo_sdk::prelude::*;
    /// # let emulator = Emulator::builder().start().await?;
    /// # let evo = emulator.client().await?;
    /// // `evo`: a session on the embedded emulator (`evo_sdk::load_from_env().await?` in practice).
    /// let workspace = evo.workspaces().create_workspace(&CreateWorkspaceRequest::new("Objects")).await?;
    /// let objects = evo.objects(workspace.id)?;
    /// let page = objects.list_page(&ListObjectsQuery::new()).await?;
    /// assert!(page.items.is_empty()); // a new workspace
    /// # Ok(()) }
    /// # #[cfg(not(all(feature = "emulator", feature = "objects")))]
    /// # fn main() {}
    /// ```
    #[cfg(feature = "objects")]
    #[cfg_attr(docsrs, doc(cfg(feature = "objects")))]
    pub fn objects(
        &self,
        workspace_id: Uuid,
    ) -> Result<evo_objects::ObjectsClient, evo_objects::Error> {
        evo_objects::ObjectsClient::new(self.environment(workspace_id), self.hub_connector.clone())
    }

    /// The Block Model API client of a workspace.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(all(feature = "emulator", feature = "blockmodels"))]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use evo_sdk::prelude::*;
    /// # let emulator = Emulator::builder().start().await?;
    /// # let evo = emulator.client().await?;
    /// // `evo`: a session on the embedded emulator (`evo_sdk::load_from_env().await?` in practice).
    /// use evo_sdk::blockmodels::{BlockSize, NewBlockModel, Size3, SizeOptions};
    ///
    /// let workspace = evo.workspaces().create_workspace(&CreateWorkspaceRequest::new("Models")).await?;
    /// let blockmodels = evo.blockmodels(workspace.id)?;
    /// let size = SizeOptions::Regular { n_blocks: Size3::new(2, 2, 2), block_size: BlockSize::new(5.0, 5.0, 5.0) };
    /// let (model, first) = blockmodels.create(&NewBlockModel::new("Pit", size)).await?;
    /// assert_eq!((first.bm_uuid, first.version_id), (model.bm_uuid, 1));
    /// # Ok(()) }
    /// # #[cfg(not(all(feature = "emulator", feature = "blockmodels")))]
    /// # fn main() {}
    /// ```
    #[cfg(feature = "blockmodels")]
    #[cfg_attr(docsrs, doc(cfg(feature = "blockmodels")))]
    pub fn blockmodels(
        &self,
        workspace_id: Uuid,
    ) -> Result<evo_blockmodels::BlockModelsClient, evo_blockmodels::Error> {
        evo_blockmodels::BlockModelsClient::new(
            self.environment(workspace_id),
            self.hub_connector.clone(),
        )
    }

    /// The Compute Tasks API client of the organization in use.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(all(feature = "emulator", feature = "compute"))]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use evo_sdk::prelude::*;
    /// # let emulator = Emulator::builder().start().await?;
    /// # let evo = emulator.client().await?;
    /// // `evo`: a session on the embedded emulator (`evo_sdk::load_from_env().await?` in practice).
    /// use evo_sdk::compute::GenericTask;
    ///
    /// let compute = evo.compute()?;
    /// // The emulator runs `idw` and `knn`; a task it does not know is refused.
    /// let unknown = GenericTask::new("geostatistics", "no-such-task", serde_json::json!({}));
    /// assert!(compute.submit(&unknown).await.unwrap_err().is_not_found());
    /// # Ok(()) }
    /// # #[cfg(not(all(feature = "emulator", feature = "compute")))]
    /// # fn main() {}
    /// ```
    #[cfg(feature = "compute")]
    #[cfg_attr(docsrs, doc(cfg(feature = "compute")))]
    pub fn compute(&self) -> Result<evo_compute::ComputeClient, evo_compute::Error> {
        evo_compute::ComputeClient::new(self.org_id(), self.hub_connector.clone())
    }

    /// The Colormap API client of a workspace.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(all(feature = "emulator", feature = "colormaps"))]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use evo_sdk::prelude::*;
    /// # let emulator = Emulator::builder().start().await?;
    /// # let evo = emulator.client().await?;
    /// // `evo`: a session on the embedded emulator (`evo_sdk::load_from_env().await?` in practice).
    /// use evo_sdk::colormaps::{Colormap, ContinuousColormap};
    ///
    /// let workspace = evo.workspaces().create_workspace(&CreateWorkspaceRequest::new("Colours")).await?;
    /// let colormaps = evo.colormaps(workspace.id)?;
    /// let heat = Colormap::from(ContinuousColormap {
    ///     colors: vec![[0, 0, 255], [255, 0, 0]],
    ///     attribute_controls: vec![0.0, 1.0],
    ///     gradient_controls: vec![0.0, 1.0],
    /// });
    /// let stored = colormaps.create_colormap(&heat, "heat").await?;
    /// assert_eq!(colormaps.get_colormap(stored.id).await?.name, "heat");
    /// # Ok(()) }
    /// # #[cfg(not(all(feature = "emulator", feature = "colormaps")))]
    /// # fn main() {}
    /// ```
    #[cfg(feature = "colormaps")]
    #[cfg_attr(docsrs, doc(cfg(feature = "colormaps")))]
    pub fn colormaps(
        &self,
        workspace_id: Uuid,
    ) -> Result<evo_colormaps::ColormapsClient, evo_colormaps::Error> {
        evo_colormaps::ColormapsClient::new(
            self.environment(workspace_id),
            self.hub_connector.clone(),
        )
    }
}
