//! Reading metadata: list the workspace's files (a page, or every page) and get one file's
//! metadata by id or path.

use evo_core::Page;
use evo_core::paging::OffsetPage;
use futures_core::Stream;
use http::Method;
use uuid::Uuid;

use super::{FILES, FilesClient, GetOptions};
use crate::error::Error;
use crate::models::{FileMetadata, FileSummary, FilesPage};
use crate::path::FilePath;
use crate::query::ListFilesQuery;

impl FilesClient {
    /// One page of files matching `query`.
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
    /// use evo_files::ListFilesQuery;
    ///
    /// files.upload_bytes("logs/a.csv", "a").await?;
    /// files.upload_bytes("logs/b.txt", "b").await?;
    /// let page = files.list_page(&ListFilesQuery::new().file_name(".csv").limit(10)).await?;
    /// let names: Vec<&str> = page.items.iter().map(|f| f.name.as_str()).collect();
    /// assert_eq!(names, ["a.csv"]);
    /// # Ok(()) }
    /// ```
    pub async fn list_page(&self, query: &ListFilesQuery) -> Result<Page<FileSummary>, Error> {
        query.validate()?;
        let mut request = self.request(Method::GET, FILES);
        for (key, value) in query.to_pairs() {
            request = request.query(key, value);
        }
        let page: FilesPage = request.send_json().await?;
        Ok(page.into())
    }

    /// Every file matching `query`, page after page, starting at its offset. Stops after the
    /// page that has no `next` link, or an empty page; the offset advances by the files
    /// received, so a server repeating itself cannot make it loop forever.
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
    /// use evo_files::ListFilesQuery;
    /// use futures_util::TryStreamExt as _;
    ///
    /// for name in ["1.csv", "2.csv", "3.csv"] {
    ///     files.upload_bytes(name, "x").await?;
    /// }
    /// // Pages of two, followed to the end.
    /// let all: Vec<_> = files.list_all(ListFilesQuery::new().limit(2)).try_collect().await?;
    /// assert_eq!(all.len(), 3);
    /// # Ok(()) }
    /// ```
    pub fn list_all(
        &self,
        query: ListFilesQuery,
    ) -> impl Stream<Item = Result<FileSummary, Error>> + Send + 'static {
        let client = self.clone();
        evo_core::paging::offset_pages(query.offset, move |offset| {
            let client = client.clone();
            let mut at = query.clone();
            at.offset = offset;
            async move {
                let page = client.list_page(&at).await?;
                let end = offset + page.items.len() as u64;
                let more = page.next.is_some() && page.total.is_some_and(|total| end < total);
                Ok::<_, Error>(OffsetPage {
                    items: page.items,
                    more,
                })
            }
        })
    }

    /// A file's metadata (and download URL) by id.
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
    /// let first = files.upload_bytes("grades.csv", "v1").await?;
    /// let second = files.upload_bytes("grades.csv", "v2").await?;
    /// assert_eq!(first.file_id, second.file_id);
    ///
    /// let latest = files.get_by_id(first.file_id, &GetOptions::new()).await?;
    /// assert_eq!(latest.version_id, second.version_id);
    /// let older = files.get_by_id(first.file_id, &GetOptions::new().version(&first.version_id)).await?;
    /// assert_eq!(older.size, 2);
    /// let with_history = files.get_by_id(first.file_id, &GetOptions::new().include_versions(true)).await?;
    /// assert_eq!(with_history.versions_newest_first().len(), 2);
    /// # Ok(()) }
    /// ```
    pub async fn get_by_id(
        &self,
        file_id: Uuid,
        options: &GetOptions,
    ) -> Result<FileMetadata, Error> {
        let mut request = self.by_id(Method::GET, file_id);
        request = request.query_opt("version_id", options.version_id.as_deref());
        if options.include_versions {
            request = request.query("include_versions", "true");
        }
        if options.include_deleted {
            request = request.query("deleted", "true");
        }
        let metadata: FileMetadata = request.send_json().await?;
        check_version(&metadata, options.version_id.as_deref())?;
        Ok(metadata)
    }

    /// A file's metadata (and download URL) by path.
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
    /// let uploaded = files.upload_bytes("surveys/collars.csv", "hole,x,y\n").await?;
    /// let found = files.get_by_path("surveys/collars.csv", &GetOptions::new()).await?;
    /// assert_eq!((found.file_id, found.size), (uploaded.file_id, 9));
    /// assert!(files.get_by_path("surveys/none.csv", &GetOptions::new()).await.unwrap_err().is_not_found());
    /// # Ok(()) }
    /// ```
    pub async fn get_by_path(
        &self,
        path: impl TryInto<FilePath, Error = Error>,
        options: &GetOptions,
    ) -> Result<FileMetadata, Error> {
        let path = path.try_into()?;
        if options.include_deleted {
            return Err(Error::Service(evo_core::Error::invalid_request(
                "deleted files can only be fetched by id",
            )));
        }
        let mut request = self.by_path(Method::GET, &path);
        request = request.query_opt("version_id", options.version_id.as_deref());
        if options.include_versions {
            request = request.query("include_versions", "true");
        }
        let metadata: FileMetadata = request.send_json().await?;
        check_version(&metadata, options.version_id.as_deref())?;
        Ok(metadata)
    }
}

fn check_version(metadata: &FileMetadata, asked: Option<&str>) -> Result<(), Error> {
    match asked {
        Some(v) if v != metadata.version_id => Err(Error::Unexpected(format!(
            "asked for version {v} of file {} but got version {}",
            metadata.file_id, metadata.version_id
        ))),
        _ => Ok(()),
    }
}
