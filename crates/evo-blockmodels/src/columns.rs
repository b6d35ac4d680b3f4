//! Column changes in one version: add, update, rename, delete, metadata. New and updated
//! values go as a Parquet file written from Arrow arrays (with the `i`, `j`, `k` block indices
//! of each row), uploaded through evo-io, then `uploaded` is notified and the job waited for.
//! Everything is checked against the block model's latest version before anything is sent.

use std::collections::HashSet;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, UInt32Array};
use arrow_schema::{Field, Schema};
use http::{Method, StatusCode};
use serde::Serialize;
use uuid::Uuid;

use evo_core::Feedback;
use evo_tables::{Codec, ParquetWriter, WriteOptions};

use crate::client::BlockModelsClient;
use crate::error::Error;
use crate::jobs::JobHandle;
use crate::models::{
    BlockModel, DataType, JobState, SizeOptions, UpdateAnswer, UpdateType, Version,
};

/// The names of the system (geometry) columns; user columns may not use them.
pub const GEOMETRY_COLUMNS: &[&str] = &[
    "i", "j", "k", "sidx", "start_si", "start_sj", "start_sk", "end_si", "end_sj", "end_sk", "x",
    "y", "z", "dx", "dy", "dz",
];

/// Rows per batch when the column file is written.
const WRITE_BATCH_ROWS: usize = 256 * 1024;

/// Column changes to make in one new version of a block model.
///
/// New and updated columns carry one value per row. Without [`indices`](Self::indices) the
/// rows are every block of a regular model in block order (`i` fastest, then `j`, then `k`),
/// so each array must have exactly as many values as the model has blocks; with indices, each
/// row is the block its `i`, `j`, `k` name (each block at most once).
#[derive(Debug, Clone, Default)]
pub struct ColumnChanges {
    new: Vec<(String, ArrayRef, Option<String>)>,
    update: Vec<(String, ArrayRef)>,
    delete: Vec<String>,
    rename: Vec<(String, String)>,
    metadata: Vec<(String, Option<String>)>,
    indices: Option<[ArrayRef; 3]>,
    update_type: Option<UpdateType>,
    comment: Option<String>,
}

impl ColumnChanges {
    /// No changes yet.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a column titled `title` with `values`, in unit `unit_id` if given.
    pub fn add(
        mut self,
        title: impl Into<String>,
        values: ArrayRef,
        unit_id: Option<String>,
    ) -> Self {
        self.new.push((title.into(), values, unit_id));
        self
    }
    /// Replaces the values of the existing column `title` (same type).
    pub fn update(mut self, title: impl Into<String>, values: ArrayRef) -> Self {
        self.update.push((title.into(), values));
        self
    }
    /// Deletes the column `title`.
    pub fn delete(mut self, title: impl Into<String>) -> Self {
        self.delete.push(title.into());
        self
    }
    /// Renames the column `title` to `new_title`.
    pub fn rename(mut self, title: impl Into<String>, new_title: impl Into<String>) -> Self {
        self.rename.push((title.into(), new_title.into()));
        self
    }
    /// Sets (or, with `None`, clears) the unit of the column `title`.
    pub fn set_unit(mut self, title: impl Into<String>, unit_id: Option<String>) -> Self {
        self.metadata.push((title.into(), unit_id));
        self
    }
    /// The blocks of the rows: `i`, `j`, `k` indices (unsigned 32-bit), one per row.
    pub fn indices(mut self, i: Vec<u32>, j: Vec<u32>, k: Vec<u32>) -> Self {
        self.indices = Some([
            Arc::new(UInt32Array::from(i)),
            Arc::new(UInt32Array::from(j)),
            Arc::new(UInt32Array::from(k)),
        ]);
        self
    }
    /// `merge`: blocks not in the rows keep their values in updated columns; `replace` (the
    /// default): they become null.
    pub fn update_type(mut self, update_type: UpdateType) -> Self {
        self.update_type = Some(update_type);
        self
    }
    /// The comment of the new version (at most 250 characters).
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }

    fn has_data(&self) -> bool {
        !self.new.is_empty() || !self.update.is_empty()
    }

    fn is_empty(&self) -> bool {
        !self.has_data()
            && self.delete.is_empty()
            && self.rename.is_empty()
            && self.metadata.is_empty()
    }

    /// The number of rows, when the changes carry values.
    fn rows(&self) -> Option<usize> {
        self.new
            .iter()
            .map(|(_, a, _)| a.len())
            .chain(self.update.iter().map(|(_, a)| a.len()))
            .next()
    }

    /// Checks the changes against `model` and its latest version `version`.
    fn validate(&self, model: &BlockModel, version: &Version) -> Result<(), Error> {
        let bad = |m: String| Err(Error::InvalidRequest(m));
        if self.is_empty() {
            return bad("no column changes were given".to_owned());
        }
        if self
            .comment
            .as_ref()
            .is_some_and(|c| c.chars().count() > 250)
        {
            return bad("a version comment has at most 250 characters".to_owned());
        }
        let existing = |title: &str| {
            version
                .mapping
                .column(title)
                .filter(|c| !GEOMETRY_COLUMNS.contains(&c.col_id.as_str()))
        };
        let mut titles = HashSet::new();
        for (title, values, _) in &self.new {
            if title.trim().is_empty() || GEOMETRY_COLUMNS.contains(&title.as_str()) {
                return bad(format!("{title:?} cannot be the title of a new column"));
            }
            if version.mapping.column(title).is_some() {
                return bad(format!("the block model already has a column {title:?}"));
            }
            if DataType::of_arrow(values.data_type()).is_none() {
                return bad(format!(
                    "column {title:?}: the Block Model API has no type for Arrow {}",
                    values.data_type()
                ));
            }
            if !titles.insert(title.as_str()) {
                return bad(format!("column {title:?} is changed twice"));
            }
        }
        for (title, values) in &self.update {
            let Some(column) = existing(title) else {
                return bad(format!("the block model has no column {title:?} to update"));
            };
            if DataType::of_arrow(values.data_type()) != Some(column.data_type) {
                return bad(format!(
                    "column {title:?} is {:?}; the new values are Arrow {}",
                    column.data_type,
                    values.data_type()
                ));
            }
            if !titles.insert(title.as_str()) {
                return bad(format!("column {title:?} is changed twice"));
            }
        }
        for title in self
            .delete
            .iter()
            .chain(self.rename.iter().map(|(t, _)| t))
            .chain(self.metadata.iter().map(|(t, _)| t))
        {
            if existing(title).is_none() {
                return bad(format!("the block model has no column {title:?}"));
            }
        }
        for (_, new_title) in &self.rename {
            if new_title.trim().is_empty()
                || GEOMETRY_COLUMNS.contains(&new_title.as_str())
                || version.mapping.column(new_title).is_some()
            {
                return bad(format!("a column cannot be renamed to {new_title:?}"));
            }
        }
        let Some(rows) = self.rows() else {
            return Ok(());
        };
        let mismatch = self
            .new
            .iter()
            .map(|(t, a, _)| (t, a.len()))
            .chain(self.update.iter().map(|(t, a)| (t, a.len())))
            .find(|(_, n)| *n != rows);
        if let Some((title, n)) = mismatch {
            return bad(format!(
                "column {title:?} has {n} values, the first column {rows}"
            ));
        }
        let SizeOptions::Regular { n_blocks, .. } = model.size_options else {
            return bad(format!(
                "column values for {} block models are not supported yet: only regular models",
                model.size_options.model_type()
            ));
        };
        match &self.indices {
            None if rows as u64 != n_blocks.count() => bad(format!(
                "the model has {} blocks but the columns have {rows} values (give indices to \
                 change some blocks only)",
                n_blocks.count()
            )),
            None => Ok(()),
            Some(ijk) => {
                if ijk.iter().any(|a| a.len() != rows) {
                    return bad(format!("the indices must have {rows} values each"));
                }
                let limits = [n_blocks.nx, n_blocks.ny, n_blocks.nz];
                for (axis, (array, limit)) in ijk.iter().zip(limits).enumerate() {
                    let values = array
                        .as_any()
                        .downcast_ref::<UInt32Array>()
                        .ok_or_else(|| Error::InvalidRequest("indices must be UInt32".into()))?;
                    if values.null_count() > 0 || values.values().iter().any(|v| *v >= limit) {
                        return bad(format!(
                            "index {} must be below {limit} and not null",
                            ["i", "j", "k"][axis]
                        ));
                    }
                }
                Ok(())
            }
        }
    }

    fn body(&self) -> UpdateBody<'_> {
        let data_type =
            |a: &ArrayRef| DataType::of_arrow(a.data_type()).unwrap_or(DataType::Float64);
        UpdateBody {
            columns: ColumnsBody {
                new: self
                    .new
                    .iter()
                    .map(|(title, values, unit_id)| NewColumnBody {
                        title,
                        data_type: data_type(values),
                        unit_id: unit_id.as_deref(),
                    })
                    .collect(),
                update: self.update.iter().map(|(t, _)| t.as_str()).collect(),
                delete: self.delete.iter().map(String::as_str).collect(),
                rename: self
                    .rename
                    .iter()
                    .map(|(title, new_title)| RenameBody { title, new_title })
                    .collect(),
                update_metadata: self
                    .metadata
                    .iter()
                    .map(|(title, unit_id)| MetadataBody {
                        title,
                        values: MetadataValues {
                            unit_id: unit_id.as_deref(),
                        },
                    })
                    .collect(),
            },
            comment: self.comment.as_deref(),
            update_type: self.update_type.unwrap_or(UpdateType::Replace),
        }
    }

    /// Writes the rows (indices, then new and updated columns) as a Parquet file at `path`.
    fn write_file(&self, path: &std::path::Path, n_blocks: crate::Size3) -> Result<u64, Error> {
        let rows = self.rows().unwrap_or(0);
        let mut fields = vec![
            Field::new("i", arrow_schema::DataType::UInt32, false),
            Field::new("j", arrow_schema::DataType::UInt32, false),
            Field::new("k", arrow_schema::DataType::UInt32, false),
        ];
        let values: Vec<(&String, &ArrayRef)> = self
            .new
            .iter()
            .map(|(t, a, _)| (t, a))
            .chain(self.update.iter().map(|(t, a)| (t, a)))
            .collect();
        for (title, array) in &values {
            fields.push(Field::new(title.as_str(), array.data_type().clone(), true));
        }
        let schema = Arc::new(Schema::new(fields));
        let file = std::fs::File::create(path)
            .map_err(|e| evo_core::Error::io(format!("creating {}", path.display()), e))?;
        let mut writer = ParquetWriter::new(
            std::io::BufWriter::new(file),
            schema.clone(),
            // Snappy, as the Python SDK sends (pyarrow's default): gzip, even at level 1, took
            // about 8 s of CPU per GB of float columns that barely compress, most of an update.
            &WriteOptions::new().codec(Codec::Snappy),
        )?;
        let mut offset = 0;
        while offset < rows {
            let take = WRITE_BATCH_ROWS.min(rows - offset);
            let mut columns: Vec<ArrayRef> = match &self.indices {
                Some(ijk) => ijk.iter().map(|a| a.slice(offset, take)).collect(),
                None => block_order_indices(n_blocks, offset, take),
            };
            columns.extend(values.iter().map(|(_, a)| a.slice(offset, take)));
            let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| {
                Error::InvalidRequest(format!("the columns do not form a table: {e}"))
            })?;
            writer.write(&batch)?;
            offset += take;
        }
        let (buffered, written) = writer.finish()?;
        // Flushed, not synced to the device: a temporary file read back for the upload at
        // once (from the page cache) and deleted after, which a crash loses either way.
        buffered
            .into_inner()
            .map_err(|e| evo_core::Error::io("writing the column file", e.into_error()))?;
        Ok(written.size)
    }
}

/// `i`, `j`, `k` of blocks `offset..offset + take` in block order (`i` fastest).
fn block_order_indices(n: crate::Size3, offset: usize, take: usize) -> Vec<ArrayRef> {
    let (nx, ny) = (n.nx as usize, n.ny as usize);
    let range = offset..offset + take;
    let i = UInt32Array::from_iter_values(range.clone().map(|b| (b % nx) as u32));
    let j = UInt32Array::from_iter_values(range.clone().map(|b| ((b / nx) % ny) as u32));
    let k = UInt32Array::from_iter_values(range.map(|b| (b / (nx * ny)) as u32));
    vec![Arc::new(i), Arc::new(j), Arc::new(k)]
}

#[derive(Serialize)]
struct UpdateBody<'a> {
    columns: ColumnsBody<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'a str>,
    update_type: UpdateType,
}

#[derive(Serialize)]
struct ColumnsBody<'a> {
    new: Vec<NewColumnBody<'a>>,
    update: Vec<&'a str>,
    delete: Vec<&'a str>,
    rename: Vec<RenameBody<'a>>,
    update_metadata: Vec<MetadataBody<'a>>,
}

#[derive(Serialize)]
struct NewColumnBody<'a> {
    title: &'a str,
    data_type: DataType,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit_id: Option<&'a str>,
}

#[derive(Serialize)]
struct RenameBody<'a> {
    title: &'a str,
    new_title: &'a str,
}

#[derive(Serialize)]
struct MetadataBody<'a> {
    title: &'a str,
    values: MetadataValues<'a>,
}

#[derive(Serialize)]
struct MetadataValues<'a> {
    unit_id: Option<&'a str>,
}

impl BlockModelsClient {
    /// The latest version of a block model.
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
    /// let latest = client.latest_version(model.bm_uuid).await?;
    /// assert_eq!(latest.version_uuid, version.version_uuid);
    /// # Ok(()) }
    /// ```
    pub async fn latest_version(&self, bm_id: Uuid) -> Result<Version, Error> {
        let page = self
            .list_versions_page(bm_id, &crate::ListQuery::new().limit(1))
            .await?;
        page.items
            .into_iter()
            .next()
            .ok_or_else(|| Error::Unexpected(format!("block model {bm_id} has no version")))
    }

    /// Makes `changes` in a new version of the block model and waits for it.
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
    /// use std::sync::Arc;
    /// use evo_blockmodels::evo_tables::arrow_array::Float64Array;
    /// use evo_blockmodels::ColumnChanges;
    ///
    /// let (model, _) = client.create(&regular("Pit")).await?;
    /// // One value per block (2 x 2 x 1 = 4), i fastest.
    /// let grade = Arc::new(Float64Array::from(vec![0.5, 1.0, 1.5, 2.0]));
    /// let added = client
    ///     .update_columns(model.bm_uuid, &ColumnChanges::new().add("Au", grade, Some("g/t".into())))
    ///     .await?;
    /// assert_eq!(added.mapping.column("Au").unwrap().unit_id.as_deref(), Some("g/t"));
    ///
    /// let renamed = client
    ///     .update_columns(model.bm_uuid, &ColumnChanges::new().rename("Au", "gold").comment("rename"))
    ///     .await?;
    /// assert!(renamed.mapping.column("gold").is_some());
    /// assert_eq!(renamed.version_id, added.version_id + 1);
    /// # Ok(()) }
    /// ```
    pub async fn update_columns(
        &self,
        bm_id: Uuid,
        changes: &ColumnChanges,
    ) -> Result<Version, Error> {
        self.start_update_columns(bm_id, changes, None)
            .await?
            .wait()
            .await
    }

    /// Checks `changes` against the model, sends them, uploads the column file (reporting its
    /// bytes to `feedback`) and notifies the upload; returns the job that makes the version.
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
    /// use evo_blockmodels::ColumnChanges;
    ///
    /// let job = client
    ///     .start_update_columns(model.bm_uuid, &ColumnChanges::new().delete("density"), None)
    ///     .await?;
    /// let next = job.wait().await?;
    /// assert!(next.mapping.column("density").is_none());
    /// # Ok(()) }
    /// ```
    pub async fn start_update_columns(
        &self,
        bm_id: Uuid,
        changes: &ColumnChanges,
        feedback: Option<&dyn Feedback>,
    ) -> Result<JobHandle<Version>, Error> {
        let model = self.get(bm_id).await?;
        let version = self.latest_version(bm_id).await?;
        changes.validate(&model, &version)?;
        // The file is written before anything is sent, so a table that cannot be written
        // leaves no job behind.
        let file = match (changes.has_data(), &model.size_options) {
            (true, SizeOptions::Regular { n_blocks, .. }) => {
                let temp = tempfile::Builder::new()
                    .prefix(".evo-blockmodel-")
                    .suffix(".parquet")
                    .tempfile_in(self.temp_dir())
                    .map_err(|e| evo_core::Error::io("creating a temporary column file", e))?;
                let path = temp.path().to_owned();
                let changes_for_writer = changes.clone();
                let n_blocks = *n_blocks;
                tokio::task::spawn_blocking(move || changes_for_writer.write_file(&path, n_blocks))
                    .await
                    .map_err(|e| Error::Unexpected(format!("the column writer stopped: {e}")))??;
                Some(temp)
            }
            _ => None,
        };
        let body = changes.body();
        let request = self.model_request(Method::PATCH, bm_id, "/blocks");
        let answer: UpdateAnswer = self
            .send_json(request, Some(&body), &[StatusCode::ACCEPTED])
            .await?;
        let job = JobHandle::<Version>::new(self, bm_id, answer.job_uuid);
        if let Some(temp) = &file {
            let url = answer.upload_url.clone().ok_or_else(|| {
                Error::Unexpected("a column change with values got no upload URL".to_owned())
            })?;
            self.upload_column_file(bm_id, answer.job_uuid, url, temp.path(), feedback)
                .await?;
        }
        self.notify_uploaded(bm_id, answer.job_uuid).await?;
        Ok(job)
    }

    async fn upload_column_file(
        &self,
        bm_id: Uuid,
        job_id: Uuid,
        url: url::Url,
        path: &std::path::Path,
        feedback: Option<&dyn Feedback>,
    ) -> Result<(), Error> {
        // An expired URL is renewed from the job, which gives a fresh one while it waits for
        // the upload.
        let renew = renew_from_job(self, bm_id, job_id, "upload_url", |job_id, state| {
            format!(
                "job {job_id} is {:?} and offers no upload URL",
                state.job_status
            )
        });
        let upload = self
            .settings
            .blobs
            .upload(url, evo_io::Source::file(path))
            // The column file was written a moment ago and is deleted after: its bytes are in
            // the page cache, where a direct read would first make the kernel write them out.
            .direct_reads(false)
            .renew_with(renew);
        let upload = match feedback {
            Some(f) => upload.feedback(f),
            None => upload,
        };
        upload.await.map_err(|e| {
            Error::transfer(format!("uploading the column file of job {job_id}"), e)
        })?;
        Ok(())
    }

    /// `POST .../jobs/{job_id}/uploaded`.
    async fn notify_uploaded(&self, bm_id: Uuid, job_id: Uuid) -> Result<(), Error> {
        self.model_request(Method::POST, bm_id, "/jobs/{job_id}/uploaded")
            .path_param("job_id", job_id)
            .idempotent(true)
            .expect_status(&[StatusCode::CREATED, StatusCode::OK])
            .send_bytes()
            .await?;
        Ok(())
    }
}

/// A renewal of the blob URL of job `job_id` of model `bm_id` (the column file's upload, a
/// query's result): the job is read again and the URL taken from member `key` of its payload;
/// `missing` words the error when the job offers none.
pub(crate) fn renew_from_job(
    client: &BlockModelsClient,
    bm_id: Uuid,
    job_id: Uuid,
    key: &'static str,
    missing: fn(Uuid, &JobState) -> String,
) -> impl evo_io::RenewUrl + 'static {
    let client = client.clone();
    move || {
        let client = client.clone();
        async move {
            let state = crate::jobs::job_state(&client, bm_id, job_id)
                .await
                .map_err(|e| match e {
                    Error::Service(e) => e,
                    other => evo_core::Error::invalid_request(other.to_string()),
                })?;
            state
                .payload
                .as_ref()
                .and_then(|p| p.get(key))
                .and_then(|u| u.as_str())
                .and_then(|u| u.parse::<url::Url>().ok())
                .ok_or_else(|| evo_core::Error::invalid_request(missing(job_id, &state)))
        }
    }
}
