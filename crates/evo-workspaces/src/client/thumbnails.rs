//! A workspace's thumbnail: get, put and delete.

use evo_core::Error;
use evo_core::bytes::Bytes;
use evo_core::uuid::Uuid;

use super::WorkspacesClient;
use crate::generated::endpoints as ep;
use crate::thumbnail::{ImageFormat, Thumbnail, check_upload};

impl WorkspacesClient {
    /// Downloads a workspace's thumbnail (a 404 error when it has none).
    ///
    /// See the example on [`put_thumbnail`](Self::put_thumbnail).
    pub async fn get_thumbnail(&self, workspace_id: Uuid) -> Result<Thumbnail, Error> {
        let body = ep::get_thumbnail(&self.connector, self.org_id, workspace_id).await?;
        Ok(Thumbnail {
            format: ImageFormat::detect(&body.data),
            content_type: body.content_type,
            data: body.data,
        })
    }

    /// Sets a workspace's thumbnail. The image must be a PNG or JPEG of at most
    /// [`MAX_THUMBNAIL_BYTES`](crate::MAX_THUMBNAIL_BYTES); both are checked before anything is
    /// sent, and the `Content-Type` is taken from the image bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let emulator = evo_emulator::Emulator::builder().start().await?;
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.workspace"]),
    /// #     )))
    /// #     .build()?;
    /// # let workspaces = evo_workspaces::WorkspacesClient::new(emulator.org_id(), connector);
    /// use evo_workspaces::{CreateWorkspaceRequest, ImageFormat};
    ///
    /// let created = workspaces.create_workspace(&CreateWorkspaceRequest::new("Pictures")).await?;
    /// // The first bytes of a PNG file (a real image in practice).
    /// let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    /// workspaces.put_thumbnail(created.id, png.clone()).await?;
    ///
    /// let thumbnail = workspaces.get_thumbnail(created.id).await?;
    /// assert_eq!((thumbnail.format, &thumbnail.data[..]), (Some(ImageFormat::Png), &png[..]));
    ///
    /// workspaces.delete_thumbnail(created.id).await?;
    /// assert!(workspaces.get_thumbnail(created.id).await.unwrap_err().is_not_found());
    /// # Ok(()) }
    /// ```
    pub async fn put_thumbnail(
        &self,
        workspace_id: Uuid,
        image: impl Into<Bytes>,
    ) -> Result<(), Error> {
        let image: Bytes = image.into();
        let format = check_upload(&image)?;
        ep::put_thumbnail(
            &self.connector,
            self.org_id,
            workspace_id,
            image,
            format.content_type(),
        )
        .await
    }

    /// Removes a workspace's thumbnail.
    ///
    /// See the example on [`put_thumbnail`](Self::put_thumbnail).
    pub async fn delete_thumbnail(&self, workspace_id: Uuid) -> Result<(), Error> {
        ep::delete_thumbnail(&self.connector, self.org_id, workspace_id).await
    }
}
