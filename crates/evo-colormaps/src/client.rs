//! `ColormapsClient`: the Colormap API of one workspace.

use http::Method;
use serde::de::DeserializeOwned;
use serde_json::json;
use uuid::Uuid;

use evo_core::{ApiConnector, Environment, RequestBuilder};

use crate::error::Error;
use crate::models::{
    ASSOCIATION_BATCH, Association, AssociationList, AssociationMetadata, Colormap, ColormapList,
    ColormapMetadata, WorkspaceMetadata,
};

const WORKSPACE: &str = "colormap/orgs/{org_id}/workspaces/{workspace_id}";

/// The Colormap API client for one workspace. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ColormapsClient {
    connector: ApiConnector,
    environment: Environment,
}

/// Builds a [`ColormapsClient`].
#[derive(Debug)]
pub struct ColormapsClientBuilder {
    connector: ApiConnector,
    environment: Environment,
}

impl ColormapsClientBuilder {
    /// Builds the client. The connector is re-targeted at the environment's hub URL when its
    /// base URL differs.
    pub fn build(self) -> Result<ColormapsClient, Error> {
        let connector = self.connector.for_environment(&self.environment)?;
        Ok(ColormapsClient {
            connector,
            environment: self.environment,
        })
    }
}

impl ColormapsClient {
    /// A client for the workspace of `environment`, sending through `connector`.
    pub fn new(environment: Environment, connector: ApiConnector) -> Result<Self, Error> {
        Self::builder(environment, connector).build()
    }

    /// Starts building a client.
    pub fn builder(environment: Environment, connector: ApiConnector) -> ColormapsClientBuilder {
        ColormapsClientBuilder {
            connector,
            environment,
        }
    }

    /// The workspace this client works in.
    pub fn environment(&self) -> &Environment {
        &self.environment
    }

    fn request(&self, method: Method, tail: &str) -> RequestBuilder {
        self.connector
            .request(method, &format!("{WORKSPACE}{tail}"))
            .path_param("org_id", self.environment.org_id)
            .path_param("workspace_id", self.environment.workspace_id)
    }

    async fn send<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, Error> {
        Ok(request.send_json().await?)
    }

    /// Creates `colormap` under `name`, after checking it ([`Colormap::validate`]).
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
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let colormaps = evo_colormaps::ColormapsClient::new(environment, connector)?;
    /// # let heat = || evo_colormaps::Colormap::from(evo_colormaps::ContinuousColormap {
    /// #     colors: vec![[0, 0, 255], [255, 0, 0]],
    /// #     attribute_controls: vec![0.0, 10.0],
    /// #     gradient_controls: vec![0.0, 1.0],
    /// # });
    /// // `heat()`: a continuous colormap from blue (0) to red (10).
    /// use evo_colormaps::CategoryColormap;
    ///
    /// let stored = colormaps.create_colormap(&heat(), "grade heat").await?;
    /// assert_eq!(stored.name, "grade heat");
    ///
    /// // Checked before sending: a category colormap needs a name per color.
    /// let bad = CategoryColormap { colors: vec![[0, 0, 0]], map: vec![] };
    /// assert!(colormaps.create_colormap(&bad.into(), "broken").await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn create_colormap(
        &self,
        colormap: &Colormap,
        name: &str,
    ) -> Result<ColormapMetadata, Error> {
        colormap.validate()?;
        if name.trim().is_empty() {
            return Err(Error::Invalid("a colormap needs a name".into()));
        }
        let request = self
            .request(Method::POST, "/colormaps")
            .json(&colormap.to_request(name));
        Self::send(request).await
    }

    /// The colormap `id`.
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
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let colormaps = evo_colormaps::ColormapsClient::new(environment, connector)?;
    /// # let heat = || evo_colormaps::Colormap::from(evo_colormaps::ContinuousColormap {
    /// #     colors: vec![[0, 0, 255], [255, 0, 0]],
    /// #     attribute_controls: vec![0.0, 10.0],
    /// #     gradient_controls: vec![0.0, 1.0],
    /// # });
    /// // `heat()`: a continuous colormap from blue (0) to red (10).
    /// let stored = colormaps.create_colormap(&heat(), "heat").await?;
    /// let read = colormaps.get_colormap(stored.id).await?;
    /// assert_eq!((read.name.as_str(), &read.colormap), ("heat", &heat()));
    /// # Ok(()) }
    /// ```
    pub async fn get_colormap(&self, id: Uuid) -> Result<ColormapMetadata, Error> {
        Self::send(
            self.request(Method::GET, "/colormaps/{colormap_id}")
                .path_param("colormap_id", id),
        )
        .await
    }

    /// Every colormap of the workspace.
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
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let colormaps = evo_colormaps::ColormapsClient::new(environment, connector)?;
    /// # let heat = || evo_colormaps::Colormap::from(evo_colormaps::ContinuousColormap {
    /// #     colors: vec![[0, 0, 255], [255, 0, 0]],
    /// #     attribute_controls: vec![0.0, 10.0],
    /// #     gradient_controls: vec![0.0, 1.0],
    /// # });
    /// // `heat()`: a continuous colormap from blue (0) to red (10).
    /// colormaps.create_colormap(&heat(), "one").await?;
    /// colormaps.create_colormap(&heat(), "two").await?;
    /// let all = colormaps.list_colormaps().await?;
    /// assert_eq!(all.len(), 2);
    /// # Ok(()) }
    /// ```
    pub async fn list_colormaps(&self) -> Result<Vec<ColormapMetadata>, Error> {
        let list: ColormapList = Self::send(self.request(Method::GET, "/colormaps")).await?;
        Ok(list.colormaps)
    }

    /// Associates a colormap with an attribute of the object `object_id`.
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
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let colormaps = evo_colormaps::ColormapsClient::new(environment, connector)?;
    /// # let heat = || evo_colormaps::Colormap::from(evo_colormaps::ContinuousColormap {
    /// #     colors: vec![[0, 0, 255], [255, 0, 0]],
    /// #     attribute_controls: vec![0.0, 10.0],
    /// #     gradient_controls: vec![0.0, 1.0],
    /// # });
    /// // `heat()`: a continuous colormap from blue (0) to red (10).
    /// use evo_colormaps::Association;
    ///
    /// let stored = colormaps.create_colormap(&heat(), "heat").await?;
    /// let object_id = evo_core::uuid::Uuid::new_v4(); // a point set's id
    /// let made = colormaps.create_association(object_id, &Association::new("grade", stored.id)).await?;
    /// assert_eq!((made.attribute_id.as_str(), made.colormap_id), ("grade", stored.id));
    ///
    /// let read = colormaps.get_association(object_id, made.id).await?;
    /// assert_eq!(read.id, made.id);
    /// let all = colormaps.list_associations(object_id).await?;
    /// assert_eq!(all.len(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn create_association(
        &self,
        object_id: Uuid,
        association: &Association,
    ) -> Result<AssociationMetadata, Error> {
        check_attribute(association)?;
        let request = self
            .request(Method::POST, "/objects/{object_id}/associations")
            .path_param("object_id", object_id)
            .json(association);
        Self::send(request).await
    }

    /// Associates many colormaps with attributes of the object `object_id`, in requests of
    /// at most [`ASSOCIATION_BATCH`]; the answers in the order given. Batches already sent
    /// stay when a later one fails.
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
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let colormaps = evo_colormaps::ColormapsClient::new(environment, connector)?;
    /// # let heat = || evo_colormaps::Colormap::from(evo_colormaps::ContinuousColormap {
    /// #     colors: vec![[0, 0, 255], [255, 0, 0]],
    /// #     attribute_controls: vec![0.0, 10.0],
    /// #     gradient_controls: vec![0.0, 1.0],
    /// # });
    /// // `heat()`: a continuous colormap from blue (0) to red (10).
    /// use evo_colormaps::Association;
    ///
    /// let stored = colormaps.create_colormap(&heat(), "heat").await?;
    /// let object_id = evo_core::uuid::Uuid::new_v4();
    /// let wanted = [Association::new("grade", stored.id), Association::new("depth", stored.id)];
    /// let made = colormaps.create_associations(object_id, &wanted).await?;
    /// let attributes: Vec<&str> = made.iter().map(|a| a.attribute_id.as_str()).collect();
    /// assert_eq!(attributes, ["grade", "depth"]);
    /// # Ok(()) }
    /// ```
    pub async fn create_associations(
        &self,
        object_id: Uuid,
        associations: &[Association],
    ) -> Result<Vec<AssociationMetadata>, Error> {
        if associations.is_empty() {
            return Err(Error::Invalid("no associations to create".into()));
        }
        associations.iter().try_for_each(check_attribute)?;
        let mut out = Vec::with_capacity(associations.len());
        for chunk in associations.chunks(ASSOCIATION_BATCH) {
            let request = self
                .request(Method::POST, "/objects/{object_id}/associations/batch")
                .path_param("object_id", object_id)
                .json(&json!({ "associations": chunk }));
            let list: AssociationList = Self::send(request).await?;
            out.extend(list.associations);
        }
        Ok(out)
    }

    /// The association `association_id` of the object `object_id`.
    ///
    /// See the example on [`create_association`](Self::create_association).
    pub async fn get_association(
        &self,
        object_id: Uuid,
        association_id: Uuid,
    ) -> Result<AssociationMetadata, Error> {
        Self::send(
            self.request(
                Method::GET,
                "/objects/{object_id}/associations/{association_id}",
            )
            .path_param("object_id", object_id)
            .path_param("association_id", association_id),
        )
        .await
    }

    /// Every association of the object `object_id`.
    ///
    /// See the example on [`create_association`](Self::create_association).
    pub async fn list_associations(
        &self,
        object_id: Uuid,
    ) -> Result<Vec<AssociationMetadata>, Error> {
        let list: AssociationList = Self::send(
            self.request(Method::GET, "/objects/{object_id}/associations")
                .path_param("object_id", object_id),
        )
        .await?;
        Ok(list.associations)
    }

    /// What the Colormap API holds for the objects of the workspace.
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
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let colormaps = evo_colormaps::ColormapsClient::new(environment, connector)?;
    /// # let heat = || evo_colormaps::Colormap::from(evo_colormaps::ContinuousColormap {
    /// #     colors: vec![[0, 0, 255], [255, 0, 0]],
    /// #     attribute_controls: vec![0.0, 10.0],
    /// #     gradient_controls: vec![0.0, 1.0],
    /// # });
    /// // `heat()`: a continuous colormap from blue (0) to red (10).
    /// use evo_colormaps::Association;
    ///
    /// let stored = colormaps.create_colormap(&heat(), "heat").await?;
    /// let object_id = evo_core::uuid::Uuid::new_v4();
    /// colormaps.create_association(object_id, &Association::new("grade", stored.id)).await?;
    /// let metadata = colormaps.workspace_metadata().await?;
    /// assert_eq!(metadata.workspace_id, workspace_id);
    /// assert!(metadata.objects_metadata.contains_key(&object_id.to_string()));
    /// # Ok(()) }
    /// ```
    pub async fn workspace_metadata(&self) -> Result<WorkspaceMetadata, Error> {
        Self::send(self.request(Method::GET, "/metadata")).await
    }
}

fn check_attribute(association: &Association) -> Result<(), Error> {
    if association.attribute_id.is_empty() {
        return Err(Error::Invalid(
            "an association needs an attribute id".into(),
        ));
    }
    Ok(())
}
