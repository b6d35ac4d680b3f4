//! Deleting a file (by id or path) and restoring a deleted one.

use http::{Method, StatusCode};
use uuid::Uuid;

use super::{FilesClient, RestoreOutcome};
use crate::error::Error;
use crate::generated::endpoints;
use crate::models::FileMetadata;
use crate::path::FilePath;

impl FilesClient {
    /// Deletes a file and all its versions (soft: it can be restored), by id.
    ///
    /// See the example on [`restore`](Self::restore).
    pub async fn delete_by_id(&self, file_id: Uuid) -> Result<(), Error> {
        let env = &self.environment;
        endpoints::delete_file_by_id(&self.connector, env.org_id, env.workspace_id, file_id)
            .await?;
        Ok(())
    }

    /// Deletes a file and all its versions (soft: it can be restored), by path.
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
    /// #         emulator.issue_token(&["evo.file"]),
    /// #     )))
    /// #     .build()?;
    /// # let files = evo_files::FilesClient::new(environment, connector)?;
    /// use evo_files::GetOptions;
    ///
    /// files.upload_bytes("tmp/scratch.csv", "x").await?;
    /// files.delete_by_path("tmp/scratch.csv").await?;
    /// assert!(files.get_by_path("tmp/scratch.csv", &GetOptions::new()).await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn delete_by_path(
        &self,
        path: impl TryInto<FilePath, Error = Error>,
    ) -> Result<(), Error> {
        let path = path.try_into()?;
        let env = &self.environment;
        endpoints::delete_file_by_path(
            &self.connector,
            env.org_id,
            env.workspace_id,
            path.as_str(),
        )
        .await?;
        Ok(())
    }

    /// Restores a deleted file. 409 (`is_conflict`) when another file now has its path.
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
    /// #         emulator.issue_token(&["evo.file"]),
    /// #     )))
    /// #     .build()?;
    /// # let files = evo_files::FilesClient::new(environment, connector)?;
    /// use evo_files::{GetOptions, RestoreOutcome};
    ///
    /// let uploaded = files.upload_bytes("assays.csv", "x").await?;
    /// files.delete_by_id(uploaded.file_id).await?;
    /// let deleted = files.get_by_id(uploaded.file_id, &GetOptions::new().include_deleted(true)).await?;
    /// assert!(deleted.deleted_at.is_some());
    ///
    /// let outcome = files.restore(uploaded.file_id).await?;
    /// assert!(matches!(outcome, RestoreOutcome::Restored));
    /// assert!(files.get_by_path("assays.csv", &GetOptions::new()).await.is_ok());
    /// # Ok(()) }
    /// ```
    pub async fn restore(&self, file_id: Uuid) -> Result<RestoreOutcome, Error> {
        let request = self
            .by_id(Method::PUT, file_id)
            .query("deleted", "false")
            .expect_status(&[StatusCode::NO_CONTENT, StatusCode::SEE_OTHER]);
        let response = request.send().await?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect(evo_core::DEFAULT_MAX_RESPONSE_BYTES)
            .await
            .map_err(|e| {
                evo_core::Error::from(
                    evo_core::TransportError::new(
                        evo_core::TransportErrorKind::Connection,
                        format!("reading the body of a restore answer failed: {e}"),
                    )
                    .with_source(e),
                )
            })?;
        if parts.status == StatusCode::NO_CONTENT {
            if !body.is_empty() {
                return Err(Error::Unexpected(format!(
                    "restore answered {} with a {}-byte body; expected none",
                    parts.status,
                    body.len()
                )));
            }
            return Ok(RestoreOutcome::Restored);
        }
        let location = parts
            .headers
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let metadata: FileMetadata = serde_json::from_slice(&body).map_err(|e| {
            evo_core::Error::from(evo_core::DecodeError::new(
                "FileMetadata (the body of a 303 restore answer)",
                parts.status,
                e.to_string(),
                &body,
            ))
        })?;
        if metadata.file_id != file_id {
            return Err(Error::Unexpected(format!(
                "restoring {file_id} answered with the metadata of {}",
                metadata.file_id
            )));
        }
        Ok(RestoreOutcome::Moved {
            metadata: Box::new(metadata),
            location,
        })
    }
}
