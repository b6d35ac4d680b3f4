//! Registering an upload with the File API: where to upload a new file, or a new version of an
//! existing one (by path or id).

use uuid::Uuid;

use super::FilesClient;
use crate::error::Error;
use crate::generated::endpoints;
use crate::models::UploadTarget;
use crate::path::FilePath;

impl FilesClient {
    /// Registers a new file, or a new version of the file at `path`, and returns where to
    /// upload its bytes. With `version_id`, asks for a new URL for that unfinished version.
    /// The upload methods call this for you.
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
    /// // A new file: its id, its first version and a pre-signed blob URL to PUT the bytes to.
    /// let target = files.register_upload_by_path("raw/log.bin", None).await?;
    /// assert!(target.upload.starts_with("http"));
    /// // A new version of that file, by id.
    /// let next = files.register_upload_by_id(target.file_id, None).await?;
    /// assert_eq!(next.file_id, target.file_id);
    /// assert_ne!(next.version_id, target.version_id);
    /// # Ok(()) }
    /// ```
    pub async fn register_upload_by_path(
        &self,
        path: impl TryInto<FilePath, Error = Error>,
        version_id: Option<&str>,
    ) -> Result<UploadTarget, Error> {
        let path = path.try_into()?;
        let env = &self.environment;
        let params = endpoints::UpsertFileByPathParams {
            version_id: version_id.map(str::to_owned),
        };
        let answer = endpoints::upsert_file_by_path(
            &self.connector,
            env.org_id,
            env.workspace_id,
            path.as_str(),
            &params,
        )
        .await?;
        let target = UploadTarget::from(answer);
        check_target(&target, None, version_id)?;
        Ok(target)
    }

    /// Registers a new version of an existing file and returns where to upload its bytes.
    /// With `version_id`, asks for a new URL for that unfinished version.
    ///
    /// See the example on [`register_upload_by_path`](Self::register_upload_by_path).
    pub async fn register_upload_by_id(
        &self,
        file_id: Uuid,
        version_id: Option<&str>,
    ) -> Result<UploadTarget, Error> {
        let env = &self.environment;
        let params = endpoints::UpdateFileByIdParams {
            version_id: version_id.map(str::to_owned),
            deleted: None,
        };
        let answer = endpoints::update_file_by_id(
            &self.connector,
            env.org_id,
            env.workspace_id,
            file_id,
            &params,
        )
        .await?;
        let target = match answer {
            endpoints::UpdateFileByIdResponse::Ok(answer) => UploadTarget::from(answer),
            _ => {
                return Err(Error::Unexpected(format!(
                    "registering an upload for file {file_id} was answered like a restore"
                )));
            }
        };
        check_target(&target, Some(file_id), version_id)?;
        Ok(target)
    }
}

fn check_target(
    target: &UploadTarget,
    file_id: Option<Uuid>,
    version_id: Option<&str>,
) -> Result<(), Error> {
    if let Some(id) = file_id
        && id != target.file_id
    {
        return Err(Error::Unexpected(format!(
            "registering an upload for file {id} answered for file {}",
            target.file_id
        )));
    }
    if let Some(v) = version_id
        && v != target.version_id
    {
        return Err(Error::Unexpected(format!(
            "resuming version {v} answered with version {}",
            target.version_id
        )));
    }
    if url::Url::parse(&target.upload).is_err() {
        return Err(Error::Unexpected(
            "the upload URL the File API returned is not a URL".into(),
        ));
    }
    Ok(())
}
