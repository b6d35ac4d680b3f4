//! Queries: columns of a version within a bounding box, run as a job whose result is a
//! Parquet file, downloaded through evo-io and read back as Arrow record batches (a batch at a
//! time: the result is never wholly in memory), or kept as a file.

use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use futures_core::Stream;
use http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use evo_core::Feedback;
use evo_tables::{ReadOptions, TableReader};

use crate::client::{BlockModelsClient, job_id_of};
use crate::columns::renew_from_job;
use crate::error::Error;
use crate::jobs::{JobHandle, QueryDownload};
use crate::models::{BBox, Mapping};

/// Rows per record batch of a query result by default.
pub const DEFAULT_QUERY_BATCH_ROWS: usize = 64 * 1024;

/// Whether result rows carry the block's centroid (`x`, `y`, `z`) or indices (`i`, `j`, `k`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GeometryColumns {
    /// `x`, `y`, `z` of the block centroid.
    Coordinates,
    /// `i`, `j`, `k` block indices.
    Indices,
}

/// Whether result columns are named by column title or column id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnHeaders {
    /// The title.
    Name,
    /// The id.
    Id,
}

/// A query: which columns of which version, where, and how the result is written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Query {
    columns: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bbox: Option<BBox>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_uuid: Option<Uuid>,
    geometry_columns: GeometryColumns,
    output_options: OutputOptions,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct OutputOptions {
    file_format: &'static str,
    column_headers: ColumnHeaders,
    exclude_null_rows: bool,
}

impl Query {
    /// The columns (titles or ids; `*` for all) of every block of the latest version, with
    /// indices, named by title, rows whose queried values are all null left out.
    pub fn new<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Self {
        Query {
            columns: columns.into_iter().map(Into::into).collect(),
            bbox: None,
            version_uuid: None,
            geometry_columns: GeometryColumns::Indices,
            output_options: OutputOptions {
                file_format: "parquet",
                column_headers: ColumnHeaders::Name,
                exclude_null_rows: true,
            },
        }
    }
    /// Only blocks within `bbox`.
    pub fn bbox(mut self, bbox: BBox) -> Self {
        self.bbox = Some(bbox);
        self
    }
    /// This version instead of the latest.
    pub fn version(mut self, version_uuid: Uuid) -> Self {
        self.version_uuid = Some(version_uuid);
        self
    }
    /// Coordinates or indices in each row.
    pub fn geometry(mut self, geometry: GeometryColumns) -> Self {
        self.geometry_columns = geometry;
        self
    }
    /// Name result columns by title or id.
    pub fn column_headers(mut self, headers: ColumnHeaders) -> Self {
        self.output_options.column_headers = headers;
        self
    }
    /// Whether rows whose queried values are all null are left out (default `true`).
    pub fn exclude_null_rows(mut self, exclude: bool) -> Self {
        self.output_options.exclude_null_rows = exclude;
        self
    }
}

/// The service's answer to a query, before its result is ready.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryStarted {
    /// The block model.
    pub bm_uuid: Uuid,
    /// The version queried.
    pub version_id: u64,
    /// Its uuid.
    pub version_uuid: Uuid,
    /// The columns of the result.
    pub columns: Vec<String>,
    /// The columns of the version.
    pub mapping: Mapping,
    /// The box queried.
    pub bbox: BBox,
    /// The job that writes the result.
    pub job_url: url::Url,
}

/// A query result downloaded to a file, read back as record batches.
#[derive(Debug)]
pub struct QueryResult {
    started: QueryStarted,
    file: ResultFile,
    batch_rows: usize,
}

#[derive(Debug)]
enum ResultFile {
    Temporary(tempfile::TempPath),
    Kept(PathBuf),
}

impl QueryResult {
    /// What the service said when the query started (version, columns).
    pub fn started(&self) -> &QueryStarted {
        &self.started
    }

    /// The Parquet file holding the result.
    pub fn path(&self) -> &Path {
        match &self.file {
            ResultFile::Temporary(p) => p,
            ResultFile::Kept(p) => p,
        }
    }

    /// Rows per batch (default [`DEFAULT_QUERY_BATCH_ROWS`]).
    pub fn batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }

    /// Opens the result: its schema and row count are read from the footer; batches are
    /// decoded as they are asked for.
    pub fn reader(&self) -> Result<TableReader, Error> {
        Ok(TableReader::open(
            self.path(),
            &ReadOptions::new().batch_rows(self.batch_rows),
        )?)
    }

    /// The schema of the result.
    pub fn schema(&self) -> Result<SchemaRef, Error> {
        Ok(self.reader()?.schema())
    }

    /// The result as a stream of record batches, decoded on a blocking thread a batch or two
    /// ahead of the consumer. The file (when temporary) lives until the stream is dropped.
    pub fn batches(self) -> impl Stream<Item = Result<RecordBatch, Error>> + Send + 'static {
        let (sender, receiver) = tokio::sync::mpsc::channel(2);
        tokio::task::spawn_blocking(move || {
            let reader = match self.reader() {
                Ok(r) => r,
                Err(e) => {
                    let _ = sender.blocking_send(Err(e));
                    return;
                }
            };
            for batch in reader {
                let item = batch.map_err(Error::from);
                let stop = item.is_err();
                if sender.blocking_send(item).is_err() || stop {
                    return;
                }
            }
            drop(self);
        });
        tokio_stream_from(receiver)
    }

    /// Keeps the result file at `path` (moved there; the folder must be on the same file
    /// system as the download folder, else it is copied).
    pub fn persist(self, path: impl AsRef<Path>) -> Result<PathBuf, Error> {
        let path = path.as_ref().to_owned();
        match self.file {
            ResultFile::Temporary(temp) => {
                if let Err(e) = temp.persist(&path) {
                    std::fs::copy(&e.path, &path).map_err(|e| {
                        evo_core::Error::io(format!("keeping {}", path.display()), e)
                    })?;
                }
            }
            ResultFile::Kept(from) if from != path => {
                std::fs::rename(&from, &path)
                    .map_err(|e| evo_core::Error::io(format!("moving to {}", path.display()), e))?;
            }
            ResultFile::Kept(_) => {}
        }
        Ok(path)
    }
}

fn tokio_stream_from<T: Send + 'static>(
    mut receiver: tokio::sync::mpsc::Receiver<T>,
) -> impl Stream<Item = T> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx))
}

impl BlockModelsClient {
    /// Starts a query; returns what the service said and the job that writes the result.
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
    /// # let (model, _) = client.create(&regular("Pit")).await?;
    /// # let grades = evo_blockmodels::ColumnChanges::new()
    /// #     .add("Au", std::sync::Arc::new(evo_blockmodels::evo_tables::arrow_array::Float64Array::from(vec![0.5, 1.0, 1.5, 2.0])), Some("g/t".into()))
    /// #     .add("density", std::sync::Arc::new(evo_blockmodels::evo_tables::arrow_array::Float64Array::from(vec![2.5; 4])), Some("t/m3".into()));
    /// # let version = client.update_columns(model.bm_uuid, &grades).await?;
    /// // `model` has 4 blocks with columns "Au" (g/t) and "density" (t/m3), made by `version`.
    /// use evo_blockmodels::Query;
    ///
    /// let (started, job) = client.start_query(model.bm_uuid, &Query::new(["Au"])).await?;
    /// assert_eq!(started.version_uuid, version.version_uuid);
    /// // The job's result is where to download the Parquet file from.
    /// let download = job.wait().await?;
    /// assert!(download.download_url.as_str().starts_with("http"));
    /// # Ok(()) }
    /// ```
    pub async fn start_query(
        &self,
        bm_id: Uuid,
        query: &Query,
    ) -> Result<(QueryStarted, JobHandle<QueryDownload>), Error> {
        if query.columns.is_empty() {
            return Err(Error::InvalidRequest(
                "a query needs at least one column".to_owned(),
            ));
        }
        let request = self.model_request(Method::POST, bm_id, "/blocks");
        let started: QueryStarted = self
            .send_json(
                request,
                Some(query),
                &[StatusCode::OK, StatusCode::ACCEPTED],
            )
            .await?;
        let job_id = job_id_of(&started.job_url)?;
        Ok((started, JobHandle::new(self, bm_id, job_id)))
    }

    /// Runs a query and downloads its result to a temporary file, read back with
    /// [`QueryResult::batches`] or [`QueryResult::reader`].
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
    /// # let (model, _) = client.create(&regular("Pit")).await?;
    /// # let grades = evo_blockmodels::ColumnChanges::new()
    /// #     .add("Au", std::sync::Arc::new(evo_blockmodels::evo_tables::arrow_array::Float64Array::from(vec![0.5, 1.0, 1.5, 2.0])), Some("g/t".into()))
    /// #     .add("density", std::sync::Arc::new(evo_blockmodels::evo_tables::arrow_array::Float64Array::from(vec![2.5; 4])), Some("t/m3".into()));
    /// # let version = client.update_columns(model.bm_uuid, &grades).await?;
    /// // `model` has 4 blocks with columns "Au" (g/t) and "density" (t/m3), made by `version`.
    /// use evo_blockmodels::Query;
    /// use evo_blockmodels::evo_tables::arrow_array::{RecordBatch, cast::AsArray, types::Float64Type};
    /// use futures_util::TryStreamExt as _;
    ///
    /// let result = client.query(model.bm_uuid, &Query::new(["Au"])).await?;
    /// let batches: Vec<RecordBatch> = result.batches().try_collect().await?;
    /// let au = batches[0].column_by_name("Au").unwrap().as_primitive::<Float64Type>();
    /// assert_eq!(au.values().to_vec(), [0.5, 1.0, 1.5, 2.0]);
    /// # Ok(()) }
    /// ```
    pub async fn query(&self, bm_id: Uuid, query: &Query) -> Result<QueryResult, Error> {
        let temp = tempfile::Builder::new()
            .prefix(".evo-blockmodel-query-")
            .suffix(".parquet")
            .tempfile_in(self.temp_dir())
            .map_err(|e| evo_core::Error::io("creating a temporary query file", e))?
            .into_temp_path();
        let started = self.query_into(bm_id, query, &temp, None).await?;
        Ok(QueryResult {
            started,
            file: ResultFile::Temporary(temp),
            batch_rows: DEFAULT_QUERY_BATCH_ROWS,
        })
    }

    /// Runs a query and downloads its result as the Parquet file `path` (complete or
    /// absent: it is written beside and renamed), reporting bytes to `feedback`.
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
    /// # let (model, _) = client.create(&regular("Pit")).await?;
    /// # let grades = evo_blockmodels::ColumnChanges::new()
    /// #     .add("Au", std::sync::Arc::new(evo_blockmodels::evo_tables::arrow_array::Float64Array::from(vec![0.5, 1.0, 1.5, 2.0])), Some("g/t".into()))
    /// #     .add("density", std::sync::Arc::new(evo_blockmodels::evo_tables::arrow_array::Float64Array::from(vec![2.5; 4])), Some("t/m3".into()));
    /// # let version = client.update_columns(model.bm_uuid, &grades).await?;
    /// // `model` has 4 blocks with columns "Au" (g/t) and "density" (t/m3), made by `version`.
    /// use evo_blockmodels::Query;
    ///
    /// let path = std::env::temp_dir().join(format!("evo-bm-doc-{}.parquet", std::process::id()));
    /// let result = client.query_to_file(model.bm_uuid, &Query::new(["Au", "density"]), &path, None).await?;
    /// assert_eq!(result.path(), path.as_path());
    /// assert!(std::fs::metadata(&path)?.len() > 0);
    /// # std::fs::remove_file(&path)?;
    /// # Ok(()) }
    /// ```
    pub async fn query_to_file(
        &self,
        bm_id: Uuid,
        query: &Query,
        path: impl AsRef<Path>,
        feedback: Option<&dyn Feedback>,
    ) -> Result<QueryResult, Error> {
        let path = path.as_ref().to_owned();
        let started = self.query_into(bm_id, query, &path, feedback).await?;
        Ok(QueryResult {
            started,
            file: ResultFile::Kept(path),
            batch_rows: DEFAULT_QUERY_BATCH_ROWS,
        })
    }

    async fn query_into(
        &self,
        bm_id: Uuid,
        query: &Query,
        path: &Path,
        feedback: Option<&dyn Feedback>,
    ) -> Result<QueryStarted, Error> {
        let (started, job) = self.start_query(bm_id, query).await?;
        let job_id = job.job_id();
        let done = job.wait().await?;
        // An expired URL is renewed by reading the completed job again.
        let renew = renew_from_job(self, bm_id, job_id, "download_url", |job_id, _| {
            format!("query job {job_id} offers no download URL")
        });
        let download = self
            .settings
            .blobs
            .download(done.download_url, evo_io::Destination::file(path))
            .overwrite(true)
            // The result is read back right away: from the page cache, not the device.
            .direct_writes(false)
            .renew_with(renew);
        let download = match feedback {
            Some(f) => download.feedback(f),
            None => download,
        };
        download.await.map_err(|e| {
            Error::transfer(format!("downloading the result of query job {job_id}"), e)
        })?;
        Ok(started)
    }
}
