//! The session: authenticating with the API key, loading the project (`init`), and
//! authenticating again when the JWT is rejected.

use std::sync::PoisonError;

use evo_core::Secret;
use http::StatusCode;
use serde_json::{Value, json};

use super::{Snapshot, UnicatClient};
use crate::error::Error;

impl UnicatClient {
    /// Authenticates with the project's secret API key (`POST /api/p/<project>/auth`): the JWT
    /// comes in the `Authorization` response header; the stores are replaced by the answer's
    /// data and the cursors by its cursors. Returns the result.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = unicat_emulator::UnicatEmulator::start().await?;
    /// # let (base_url, project) = (server.base_url().parse()?, server.project());
    /// # let (api_key, record) = (unicat_emulator::DEMO_API_KEY, unicat_emulator::DEMO_RECORD);
    /// # let assets = tempfile::tempdir()?;
    /// # let client = unicat::UnicatClient::builder(base_url, project)
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .asset_folder(assets.path())
    /// #     .build()?;
    /// // `client`: a client of a local Unicat server's demo project; `api_key`, `record`: its
    /// // secret API key and a record's gid.
    /// use unicat::DataType;
    ///
    /// let result = client.connect(api_key).await?;
    /// assert!(result["user"].is_string());
    /// assert!(client.authorizer().has_token());
    /// // The stores hold the project's initial data (definitions, assets, members, ...).
    /// assert!(client.with_stores(|s| s.get(DataType::Definitions, "d-article").is_some()));
    /// # Ok(()) }
    /// ```
    pub async fn connect(&self, api_key: &str) -> Result<Value, Error> {
        let result = self
            .post_envelope_once(
                self.api_path("/auth")?,
                &json!({"api_key": api_key}),
                true,
                Snapshot::Replace,
            )
            .await?;
        *self
            .inner
            .api_key
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Secret::from(api_key.to_owned()));
        if !self.inner.auth.has_token() {
            return Err(Error::InvalidResponse {
                status: StatusCode::OK,
                reason: "the auth answer carried no JWT in its Authorization header".to_owned(),
                snippet: String::new(),
            });
        }
        Ok(result)
    }

    /// Reloads the initial data (`POST /init`), replacing the stores and cursors.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = unicat_emulator::UnicatEmulator::start().await?;
    /// # let (base_url, project) = (server.base_url().parse()?, server.project());
    /// # let (api_key, record) = (unicat_emulator::DEMO_API_KEY, unicat_emulator::DEMO_RECORD);
    /// # let assets = tempfile::tempdir()?;
    /// # let client = unicat::UnicatClient::builder(base_url, project)
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .asset_folder(assets.path())
    /// #     .build()?;
    /// // `client`: a client of a local Unicat server's demo project; `api_key`, `record`: its
    /// // secret API key and a record's gid.
    /// # client.connect(api_key).await?;
    /// let result = client.init().await?;
    /// assert!(result.is_object());
    /// assert!(client.with_stores(|s| s.asset_by_pathname("/brand/logo.png").is_some()));
    /// # Ok(()) }
    /// ```
    pub async fn init(&self) -> Result<Value, Error> {
        self.post_envelope(self.api_path("/init")?, &json!({}), true, Snapshot::Replace)
            .await
    }

    /// Authenticates again with the API key given to [`connect`](Self::connect), keeping the
    /// stores (used when the JWT was cleared).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = unicat_emulator::UnicatEmulator::start().await?;
    /// # let (base_url, project) = (server.base_url().parse()?, server.project());
    /// # let (api_key, record) = (unicat_emulator::DEMO_API_KEY, unicat_emulator::DEMO_RECORD);
    /// # let assets = tempfile::tempdir()?;
    /// # let client = unicat::UnicatClient::builder(base_url, project)
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .asset_folder(assets.path())
    /// #     .build()?;
    /// // `client`: a client of a local Unicat server's demo project; `api_key`, `record`: its
    /// // secret API key and a record's gid.
    /// # client.connect(api_key).await?;
    /// // With the API key given to `connect`, keeping the stores.
    /// client.reauthenticate().await?;
    /// assert!(client.authorizer().has_token());
    /// client.call("/records/get", serde_json::json!({"record": record})).await?;
    /// # Ok(()) }
    /// ```
    pub async fn reauthenticate(&self) -> Result<(), Error> {
        let key = self
            .inner
            .api_key
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or(Error::NotAuthenticated)?;
        self.post_envelope_once(
            self.api_path("/auth")?,
            &json!({"api_key": key.expose()}),
            true,
            Snapshot::Merge,
        )
        .await?;
        if !self.inner.auth.has_token() {
            return Err(Error::NotAuthenticated);
        }
        Ok(())
    }

    /// Authenticates again unless another task did since `before` was the token (single
    /// flight: many requests rejected at once make one `/auth` call).
    pub(crate) async fn reauthenticate_after(&self, before: Option<Secret>) -> Result<(), Error> {
        let _flight = self.inner.reauth.lock().await;
        let current = self.inner.auth.token();
        let renewed = match (&current, &before) {
            (Some(now), Some(then)) => now.expose() != then.expose(),
            (Some(_), None) => true,
            (None, _) => false,
        };
        if renewed {
            return Ok(());
        }
        tracing::info!("the JWT was rejected or cleared; authenticating again with the API key");
        self.reauthenticate().await
    }

    /// Runs `send` (one REST exchange); when Unicat answers 401 (the JWT expired or was
    /// revoked) and [`connect`](Self::connect) stored an API key, authenticates again once and
    /// runs `send` once more. A second 401 is returned as it is.
    pub(crate) async fn with_reauth<F, Fut>(&self, send: F) -> Result<Value, Error>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Value, Error>>,
    {
        let before = self.inner.auth.token();
        match send().await {
            Err(e) if e.is_unauthorized() && self.has_api_key() => {
                tracing::debug!(error = %e, "401 from Unicat");
                self.reauthenticate_after(before).await?;
                send().await
            }
            other => other,
        }
    }

    fn has_api_key(&self) -> bool {
        self.inner
            .api_key
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }
}
