//! [`ServiceClient`]: any Evo service, including those without a crate of their own.

use evo_core::http::Method;
use evo_core::{ApiConnector, Environment, Error, RequestBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A client for any Evo service of a workspace (the Python SDK's `BaseAPIClient`): typed JSON
/// requests through the hub's connector, with its retries, timeouts, credentials, `User-Agent`
/// and typed errors ([`evo_core::Error`]: `is_not_found()`, `status()`, the problem details).
///
/// Paths are relative to the hub URL and may name `{org_id}` and `{workspace_id}`, which are
/// filled in from the [`Environment`]; other `{name}` placeholders are filled with
/// [`RequestBuilder::path_param`] on [`request`](Self::request).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use evo_sdk::prelude::*;
///
/// let emulator = Emulator::builder().start().await?;
/// let evo = emulator.client().await?;
/// let workspace = evo.workspaces().create_workspace(&CreateWorkspaceRequest::new("Any")).await?;
///
/// let service = evo.service_client(workspace.id);
/// let read: serde_json::Value = service
///     .get("/workspace/orgs/{org_id}/workspaces/{workspace_id}")
///     .await?;
/// assert_eq!(read["name"], "Any");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ServiceClient {
    environment: Environment,
    connector: ApiConnector,
}

impl ServiceClient {
    /// A client of the workspace `environment` names, sending through `connector` (whose base
    /// URL is the hub's), in the argument order of the other service clients.
    pub fn new(environment: Environment, connector: ApiConnector) -> Self {
        ServiceClient {
            environment,
            connector,
        }
    }

    /// The workspace this client works on.
    pub fn environment(&self) -> &Environment {
        &self.environment
    }

    /// The connector requests go through.
    pub fn connector(&self) -> &ApiConnector {
        &self.connector
    }

    /// A request to `path_template` with `{org_id}` and `{workspace_id}` filled in, to add
    /// query parameters, headers or a body to before sending.
    pub fn request(&self, method: Method, path_template: &str) -> RequestBuilder {
        let mut request = self.connector.request(method, path_template);
        if path_template.contains("{org_id}") {
            request = request.path_param("org_id", self.environment.org_id);
        }
        if path_template.contains("{workspace_id}") {
            request = request.path_param("workspace_id", self.environment.workspace_id);
        }
        request
    }

    /// `GET`s a JSON value.
    ///
    /// See the example on [`post`](Self::post).
    pub async fn get<T: DeserializeOwned>(&self, path_template: &str) -> Result<T, Error> {
        self.request(Method::GET, path_template).send_json().await
    }

    /// `POST`s `body` as JSON and decodes the JSON answer. Not retried after the request was
    /// sent (a `POST` may not be idempotent); [`request`](Self::request) with
    /// `.idempotent(true)` says otherwise.
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
    /// let workspace = evo.workspaces().create_workspace(&CreateWorkspaceRequest::new("Raw")).await?;
    /// let service = evo.service_client(workspace.id);
    /// // Any JSON endpoint; `{org_id}` and `{workspace_id}` are filled in.
    /// let created: serde_json::Value = service
    ///     .post("/workspace/orgs/{org_id}/workspaces", &serde_json::json!({"name": "Made raw"}))
    ///     .await?;
    /// assert_eq!(created["name"], "Made raw");
    /// let renamed: serde_json::Value = service
    ///     .patch("/workspace/orgs/{org_id}/workspaces/{workspace_id}", &serde_json::json!({"name": "Renamed"}))
    ///     .await?;
    /// assert_eq!(renamed["name"], "Renamed");
    /// let read: serde_json::Value = service.get("/workspace/orgs/{org_id}/workspaces/{workspace_id}").await?;
    /// assert_eq!(read["name"], "Renamed");
    /// service.delete("/workspace/orgs/{org_id}/workspaces/{workspace_id}").await?;
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub async fn post<B, T>(&self, path_template: &str, body: &B) -> Result<T, Error>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.request(Method::POST, path_template)
            .json(body)
            .send_json()
            .await
    }

    /// `PUT`s `body` as JSON and decodes the JSON answer.
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
    /// let workspace = evo.workspaces().create_workspace(&CreateWorkspaceRequest::new("Put")).await?;
    /// let service = evo.service_client(workspace.id);
    /// // The File API registers an upload with a PUT and answers where to send the bytes.
    /// let target: serde_json::Value = service
    ///     .put("/file/v2/orgs/{org_id}/workspaces/{workspace_id}/files/path/notes.txt", &serde_json::json!({}))
    ///     .await?;
    /// assert!(target["upload"].as_str().unwrap().starts_with("http"));
    /// # Ok(()) }
    /// # #[cfg(not(feature = "emulator"))]
    /// # fn main() {}
    /// ```
    pub async fn put<B, T>(&self, path_template: &str, body: &B) -> Result<T, Error>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.request(Method::PUT, path_template)
            .json(body)
            .send_json()
            .await
    }

    /// `PATCH`es with `body` as JSON and decodes the JSON answer.
    ///
    /// See the example on [`post`](Self::post).
    pub async fn patch<B, T>(&self, path_template: &str, body: &B) -> Result<T, Error>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.request(Method::PATCH, path_template)
            .json(body)
            .send_json()
            .await
    }

    /// `DELETE`s, expecting no body back (any 2xx).
    ///
    /// See the example on [`post`](Self::post).
    pub async fn delete(&self, path_template: &str) -> Result<(), Error> {
        self.request(Method::DELETE, path_template)
            .send_empty()
            .await
            .map(|_| ())
    }
}
