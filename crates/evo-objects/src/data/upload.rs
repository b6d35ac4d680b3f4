//! Uploading object data: `PUT .../data` in batches, then only the files the server lacks,
//! their progress combined into one.

use std::sync::Mutex;

use futures_util::StreamExt as _;
use http::{Method, StatusCode};

use evo_core::{Feedback, Progress};
use evo_io::RenewUrl;

use super::{DATA_BATCH, DataFile, DataUploadReport, into_core, parse_url};
use crate::client::{DATA, ObjectsClient};
use crate::error::Error;
use crate::models::DataUploadTarget;

impl ObjectsClient {
    /// Asks `PUT .../data` about `names` (in batches of [`DATA_BATCH`]): which the server
    /// already holds, and where to upload the others. Answers come in the order asked.
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
    /// # let objects = evo_objects::ObjectsClient::new(environment.clone(), connector.clone())?;
    /// # let data = [evo_objects::DataFile::from_bytes(vec![1u8; 48]), evo_objects::DataFile::from_bytes(vec![2u8; 16])];
    /// # objects.upload_data(&data, None).await?;
    /// # let (xyz, grade) = (data[0].name().to_owned(), data[1].name().to_owned());
    /// # let point_set = |name: &str| serde_json::json!({
    /// #     "schema": "/objects/pointset/1.3.0/pointset.schema.json", "name": name,
    /// #     "bounding_box": {"min_x": 0.0, "max_x": 1.0, "min_y": 0.0, "max_y": 1.0, "min_z": 0.0, "max_z": 1.0},
    /// #     "coordinate_reference_system": {"epsg_code": 32760},
    /// #     "locations": {
    /// #         "coordinates": {"data": xyz, "length": 2, "width": 3, "data_type": "float64"},
    /// #         "attributes": [{"name": "grade", "key": "grade", "attribute_type": "scalar",
    /// #             "nan_description": {"values": []},
    /// #             "values": {"data": grade, "length": 2, "width": 1, "data_type": "float64"}}]}
    /// # });
    /// // `point_set(name)` is the JSON of a point set whose data files are uploaded.
    /// use evo_objects::DataFile;
    ///
    /// let held = data[0].name();
    /// let new = DataFile::from_bytes(vec![9u8; 10]);
    /// let targets = objects.put_data(&[held, new.name()]).await?;
    /// assert!(targets[0].exists && targets[0].upload_url.is_none());
    /// assert!(!targets[1].exists && targets[1].upload_url.is_some());
    /// # Ok(()) }
    /// ```
    pub async fn put_data(&self, names: &[&str]) -> Result<Vec<DataUploadTarget>, Error> {
        let mut all = Vec::with_capacity(names.len());
        for batch in names.chunks(DATA_BATCH) {
            let body: Vec<serde_json::Value> = batch
                .iter()
                .map(|name| serde_json::json!({ "name": name }))
                .collect();
            let request = self.request(Method::PUT, DATA);
            let request = self.with_json(request, &body).await?;
            let answer: Vec<DataUploadTarget> = self
                .exchange_json(request, &[StatusCode::OK, StatusCode::CREATED])
                .await?;
            for name in batch {
                let target = answer.iter().find(|t| t.name == *name).ok_or_else(|| {
                    Error::Unexpected(format!("PUT data did not answer for {name}"))
                })?;
                if !target.exists && target.upload_url.is_none() {
                    return Err(Error::Unexpected(format!(
                        "PUT data says {name} is missing but gives no upload URL"
                    )));
                }
                all.push(target.clone());
            }
        }
        Ok(all)
    }

    /// Uploads the data files the server does not hold yet (at most the client's data
    /// concurrency at a time), each through evo-io (blocks, retries, URL renewal by asking
    /// `PUT .../data` again). Files the server holds are not sent: saving an object whose
    /// data did not change sends no data bytes.
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
    /// # let objects = evo_objects::ObjectsClient::new(environment.clone(), connector.clone())?;
    /// # let data = [evo_objects::DataFile::from_bytes(vec![1u8; 48]), evo_objects::DataFile::from_bytes(vec![2u8; 16])];
    /// # objects.upload_data(&data, None).await?;
    /// # let (xyz, grade) = (data[0].name().to_owned(), data[1].name().to_owned());
    /// # let point_set = |name: &str| serde_json::json!({
    /// #     "schema": "/objects/pointset/1.3.0/pointset.schema.json", "name": name,
    /// #     "bounding_box": {"min_x": 0.0, "max_x": 1.0, "min_y": 0.0, "max_y": 1.0, "min_z": 0.0, "max_z": 1.0},
    /// #     "coordinate_reference_system": {"epsg_code": 32760},
    /// #     "locations": {
    /// #         "coordinates": {"data": xyz, "length": 2, "width": 3, "data_type": "float64"},
    /// #         "attributes": [{"name": "grade", "key": "grade", "attribute_type": "scalar",
    /// #             "nan_description": {"values": []},
    /// #             "values": {"data": grade, "length": 2, "width": 1, "data_type": "float64"}}]}
    /// # });
    /// // `point_set(name)` is the JSON of a point set whose data files are uploaded.
    /// use evo_objects::DataFile;
    ///
    /// let table = DataFile::from_bytes(b"any bytes: Parquet in practice".to_vec());
    /// let report = objects.upload_data(&[table.clone()], None).await?;
    /// assert_eq!(report.uploaded, [table.name()]);
    /// // The server holds it now: nothing is sent again.
    /// let again = objects.upload_data(&[table.clone()], None).await?;
    /// assert_eq!((again.skipped.len(), again.bytes_uploaded), (1, 0));
    /// # Ok(()) }
    /// ```
    pub async fn upload_data(
        &self,
        files: &[DataFile],
        feedback: Option<&dyn Feedback>,
    ) -> Result<DataUploadReport, Error> {
        let mut unique: Vec<&DataFile> = Vec::new();
        for f in files {
            if !unique.iter().any(|u| u.name == f.name) {
                unique.push(f);
            }
        }
        let names: Vec<&str> = unique.iter().map(|f| f.name.as_str()).collect();
        let targets = self.put_data(&names).await?;
        let mut report = DataUploadReport::default();
        let mut work = Vec::new();
        for (file, target) in unique.iter().zip(targets) {
            if target.exists {
                report.skipped.push(file.name.clone());
            } else {
                let url = parse_url(target.upload_url.as_deref().unwrap_or_default())?;
                work.push((*file, url));
            }
        }
        let combined = feedback.map(|outer| Combined {
            outer,
            total: work.iter().map(|(f, _)| f.len).sum(),
            done: Mutex::new(vec![0; work.len()]),
        });
        let parts: Vec<Option<Part<'_>>> = (0..work.len())
            .map(|index| combined.as_ref().map(|combined| Part { combined, index }))
            .collect();
        let uploads = work
            .iter()
            .zip(&parts)
            .map(|((file, url), part)| async move {
                let mut upload = self
                    .settings
                    .blobs
                    .upload(url.clone(), file.source())
                    .renew_with(RenewUpload {
                        client: self.clone(),
                        name: file.name.clone(),
                    });
                if let Some(part) = part {
                    upload = upload.feedback(part);
                }
                upload.await.map_err(|source| Error::Transfer {
                    context: format!("uploading data {}", file.name),
                    source: Box::new(source),
                })?;
                Ok::<_, Error>((file.name.clone(), file.len))
            });
        let mut results =
            futures_util::stream::iter(uploads).buffer_unordered(self.settings.data_concurrency);
        while let Some(result) = results.next().await {
            let (name, len) = result?;
            report.uploaded.push(name);
            report.bytes_uploaded += len;
        }
        Ok(report)
    }
}

/// Adds up the progress of several transfers into one [`Progress`] for the caller.
struct Combined<'a> {
    outer: &'a dyn Feedback,
    total: u64,
    done: Mutex<Vec<u64>>,
}

struct Part<'a> {
    combined: &'a Combined<'a>,
    index: usize,
}

impl Feedback for Part<'_> {
    fn progress(&self, progress: &Progress) {
        let sum = {
            let mut done = self.combined.done.lock().unwrap_or_else(|e| e.into_inner());
            done[self.index] = progress.bytes_done;
            done.iter().sum::<u64>()
        };
        self.combined.outer.progress(&Progress::new(
            sum,
            Some(self.combined.total),
            progress.retries,
        ));
    }
}

/// Renews a data upload URL by asking `PUT .../data` again for the same name.
struct RenewUpload {
    client: ObjectsClient,
    name: String,
}

#[async_trait::async_trait]
impl RenewUrl for RenewUpload {
    async fn renew(&self) -> Result<url::Url, evo_core::Error> {
        let answer = self
            .client
            .put_data(&[self.name.as_str()])
            .await
            .map_err(into_core)?;
        match answer.into_iter().next() {
            Some(DataUploadTarget {
                upload_url: Some(url),
                ..
            }) => parse_url(&url),
            _ => Err(evo_core::Error::invalid_request(format!(
                "renewing the upload URL of data {} gave no URL",
                self.name
            ))),
        }
    }
}
