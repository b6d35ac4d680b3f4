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
        let connector = if self.connector.base_url() == &self.environment.hub_url {
            self.connector
        } else {
            self.connector
                .with_base_url(self.environment.hub_url.clone())?
        };
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
    pub async fn get_colormap(&self, id: Uuid) -> Result<ColormapMetadata, Error> {
        Self::send(
            self.request(Method::GET, "/colormaps/{colormap_id}")
                .path_param("colormap_id", id),
        )
        .await
    }

    /// Every colormap of the workspace.
    pub async fn list_colormaps(&self) -> Result<Vec<ColormapMetadata>, Error> {
        let list: ColormapList = Self::send(self.request(Method::GET, "/colormaps")).await?;
        Ok(list.colormaps)
    }

    /// Associates a colormap with an attribute of the object `object_id`.
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
