//! Report specifications: what to report on a block model (value columns and their
//! aggregation, categories, cut-offs, density, bounding box), reporting jobs that turn a
//! version into a result, results, and comparisons of two results.

pub mod models;
mod spec;

use futures_core::Stream;
use http::{Method, StatusCode};
use serde::Serialize;
use uuid::Uuid;

use crate::blockmodels::ListQuery;
use crate::client::{BlockModelsClient, job_id_of};
use crate::error::Error;
use crate::jobs::JobHandle;
use crate::models::{ListPage, Unit};
use evo_core::Page;
use models::{
    ComparisonRequestAnswer, ReportComparison, ReportComparisonRequest, ReportComparisonRun,
    ReportResult, ReportResultSummary, ReportRun, ReportSpecification, ReportingJob,
    SpecificationWithJobUrl,
};
pub use spec::{
    MAX_CATEGORIES, MAX_CATEGORY_VALUES, MAX_CUTOFFS, MAX_DESCRIPTION_CHARS, MAX_LABEL_CHARS,
    NewReportSpecification, ReportSpecificationUpdate,
};
use spec::{SpecBody, invalid};

/// What a comparison request gave: the two results at once when both exist, else the job
/// that makes the missing ones.
#[derive(Debug)]
#[non_exhaustive]
pub enum ComparisonStarted {
    /// Both results exist (`from`, `to`).
    Ready {
        /// The result of the baseline version.
        from_result_uuid: Uuid,
        /// The result of the version compared.
        to_result_uuid: Uuid,
    },
    /// A job makes the missing results; its payload names both.
    Job(JobHandle<ReportComparisonRun>),
}

const SPECS: &str = "/report-specifications";
const SPEC: &str = "/report-specifications/{rs_id}";

/// A page of report specifications and the units they refer to.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReportSpecificationsPage {
    /// The specifications of this page.
    pub page: Page<ReportSpecification>,
    /// The units the specifications of this page use (`referenced_units`).
    pub referenced_units: Vec<Unit>,
}

impl BlockModelsClient {
    fn spec_request(
        &self,
        method: Method,
        bm_id: Uuid,
        rs_id: Uuid,
        suffix: &str,
    ) -> evo_core::RequestBuilder {
        self.model_request(method, bm_id, &format!("{SPEC}{suffix}"))
            .path_param("rs_id", rs_id)
    }

    /// Creates a report specification on block model `bm_id` (checked first, see
    /// [`NewReportSpecification`]); the service checks that its columns exist.
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
    /// use evo_blockmodels::{
    ///     ListQuery, NewReportSpecification, ReportAggregation, ReportColumn, ReportSpecificationUpdate,
    /// };
    /// use futures_util::TryStreamExt as _;
    ///
    /// let au = version.mapping.column("Au").unwrap();
    /// let density = version.mapping.column("density").unwrap();
    /// let new = NewReportSpecification::new("Resource", "t")
    ///     .column(ReportColumn::of(au, ReportAggregation::MassAverage, "g/t")?)
    ///     .density_column(density.col_id.parse()?);
    /// let spec = client.create_report_specification(model.bm_uuid, &new).await?;
    /// let rs_id = spec.report_specification_uuid;
    ///
    /// let read = client.get_report_specification(model.bm_uuid, rs_id).await?;
    /// assert_eq!(read.name, "Resource");
    /// let page = client.list_report_specifications_page(model.bm_uuid, &ListQuery::new()).await?;
    /// assert_eq!(page.page.items.len(), 1);
    /// let all: Vec<_> = client.list_report_specifications_all(model.bm_uuid).try_collect().await?;
    /// assert_eq!(all[0].report_specification_uuid, rs_id);
    ///
    /// let update = ReportSpecificationUpdate::from_current(&spec).name("Resource 2026");
    /// let renamed = client.update_report_specification(model.bm_uuid, rs_id, &update).await?;
    /// assert_eq!(renamed.name, "Resource 2026");
    /// # Ok(()) }
    /// ```
    pub async fn create_report_specification(
        &self,
        bm_id: Uuid,
        spec: &NewReportSpecification,
    ) -> Result<ReportSpecification, Error> {
        Ok(self.send_spec(bm_id, None, &spec.0, false).await?.0)
    }

    /// Creates a report specification and runs it at once on the latest version; returns the
    /// specification and the reporting job.
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
    /// # let column_id = |title: &str| version.mapping.column(title).unwrap().col_id.parse::<uuid::Uuid>().unwrap();
    /// # let resource = evo_blockmodels::NewReportSpecification::new("Resource", "t")
    /// #     .autorun(false)
    /// #     .column(evo_blockmodels::ReportColumn::new(column_id("Au"), "Au", evo_blockmodels::ReportAggregation::MassAverage, "g/t"))
    /// #     .density_column(column_id("density"));
    /// // `resource`: a report specification of the mass-averaged Au grade, by the density column.
    /// use evo_blockmodels::ReportSpecificationUpdate;
    ///
    /// let (spec, job) = client.create_report_specification_and_run(model.bm_uuid, &resource).await?;
    /// let run = job.wait().await?;
    /// assert_eq!(run.version_uuid, version.version_uuid);
    ///
    /// // Changed and run again in one call.
    /// let update = ReportSpecificationUpdate::from_current(&spec).name("Resource (again)");
    /// let (_, job) = client
    ///     .update_report_specification_and_run(model.bm_uuid, spec.report_specification_uuid, &update)
    ///     .await?;
    /// assert_ne!(job.wait().await?.report_result_uuid, run.report_result_uuid);
    /// # Ok(()) }
    /// ```
    pub async fn create_report_specification_and_run(
        &self,
        bm_id: Uuid,
        spec: &NewReportSpecification,
    ) -> Result<(ReportSpecification, JobHandle<ReportRun>), Error> {
        let (spec, job) = self.send_spec(bm_id, None, &spec.0, true).await?;
        Ok((spec, job.ok_or_else(|| no_job("run_now"))?))
    }

    /// Changes report specification `rs_id` (see [`ReportSpecificationUpdate`]).
    ///
    /// See the example on [`create_report_specification`](Self::create_report_specification).
    pub async fn update_report_specification(
        &self,
        bm_id: Uuid,
        rs_id: Uuid,
        update: &ReportSpecificationUpdate,
    ) -> Result<ReportSpecification, Error> {
        Ok(self
            .send_spec(bm_id, Some(rs_id), &update.0, false)
            .await?
            .0)
    }

    /// Changes report specification `rs_id` and runs it at once on the latest version.
    ///
    /// See the example on [`create_report_specification_and_run`](Self::create_report_specification_and_run).
    pub async fn update_report_specification_and_run(
        &self,
        bm_id: Uuid,
        rs_id: Uuid,
        update: &ReportSpecificationUpdate,
    ) -> Result<(ReportSpecification, JobHandle<ReportRun>), Error> {
        let (spec, job) = self.send_spec(bm_id, Some(rs_id), &update.0, true).await?;
        Ok((spec, job.ok_or_else(|| no_job("run_now"))?))
    }

    async fn send_spec(
        &self,
        bm_id: Uuid,
        rs_id: Option<Uuid>,
        body: &SpecBody,
        run_now: bool,
    ) -> Result<(ReportSpecification, Option<JobHandle<ReportRun>>), Error> {
        body.validate()?;
        let (request, expected) = match rs_id {
            None => (
                self.model_request(Method::POST, bm_id, SPECS),
                StatusCode::CREATED,
            ),
            Some(rs_id) => (
                self.spec_request(Method::PATCH, bm_id, rs_id, ""),
                StatusCode::OK,
            ),
        };
        let answer: SpecificationWithJobUrl = self
            .send_json(request.query("run_now", run_now), Some(body), &[expected])
            .await?;
        let spec = answer.specification;
        if spec.bm_uuid != bm_id || rs_id.is_some_and(|id| id != spec.report_specification_uuid) {
            return Err(Error::Unexpected(format!(
                "asked about report specification {rs_id:?} of {bm_id}, got {} of {}",
                spec.report_specification_uuid, spec.bm_uuid
            )));
        }
        let job = match answer.job_url {
            Some(url) => Some(JobHandle::new(self, bm_id, job_id_of(&url)?)),
            None => None,
        };
        Ok((spec, job))
    }

    /// One page of the report specifications of block model `bm_id`, by name.
    ///
    /// See the example on [`create_report_specification`](Self::create_report_specification).
    pub async fn list_report_specifications_page(
        &self,
        bm_id: Uuid,
        query: &ListQuery,
    ) -> Result<ReportSpecificationsPage, Error> {
        let request = self
            .model_request(Method::GET, bm_id, SPECS)
            .query("offset", query.offset)
            .query("limit", query.limit);
        let mut page: ListPage<ReportSpecification> = self
            .send_json(request, None::<&()>, &[StatusCode::OK])
            .await?;
        let referenced_units = page.referenced_units.take().unwrap_or_default();
        Ok(ReportSpecificationsPage {
            page: page.into(),
            referenced_units,
        })
    }

    /// Every report specification of block model `bm_id`, page after page.
    ///
    /// See the example on [`create_report_specification`](Self::create_report_specification).
    pub fn list_report_specifications_all(
        &self,
        bm_id: Uuid,
    ) -> impl Stream<Item = Result<ReportSpecification, Error>> + Send + 'static {
        let client = self.clone();
        crate::blockmodels::pages(ListQuery::new(), move |q| {
            let client = client.clone();
            async move {
                let listed = client.list_report_specifications_page(bm_id, &q).await?;
                Ok(listed.page)
            }
        })
    }

    /// Report specification `rs_id` of block model `bm_id`, with when it last ran.
    ///
    /// See the example on [`create_report_specification`](Self::create_report_specification).
    pub async fn get_report_specification(
        &self,
        bm_id: Uuid,
        rs_id: Uuid,
    ) -> Result<ReportSpecification, Error> {
        let request = self.spec_request(Method::GET, bm_id, rs_id, "");
        self.send_json(request, None::<&()>, &[StatusCode::OK])
            .await
    }

    /// Starts a reporting job of specification `rs_id` on `version_uuid` (`None`: the latest
    /// version); the job's result names the [`ReportResult`] it made.
    ///
    /// See the example on [`run_report`](Self::run_report).
    pub async fn start_report(
        &self,
        bm_id: Uuid,
        rs_id: Uuid,
        version_uuid: Option<Uuid>,
    ) -> Result<(ReportingJob, JobHandle<ReportRun>), Error> {
        #[derive(Serialize)]
        struct Body {
            #[serde(skip_serializing_if = "Option::is_none")]
            version_uuid: Option<Uuid>,
        }
        let request = self.spec_request(Method::POST, bm_id, rs_id, "/jobs");
        let started: ReportingJob = self
            .send_json(
                request,
                Some(&Body { version_uuid }),
                &[StatusCode::CREATED, StatusCode::OK],
            )
            .await?;
        let job = JobHandle::new(self, bm_id, started.job_uuid);
        Ok((started, job))
    }

    /// Runs specification `rs_id` on `version_uuid` (`None`: the latest version), waits for the
    /// job and reads the result.
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
    /// # let column_id = |title: &str| version.mapping.column(title).unwrap().col_id.parse::<uuid::Uuid>().unwrap();
    /// # let resource = evo_blockmodels::NewReportSpecification::new("Resource", "t")
    /// #     .autorun(false)
    /// #     .column(evo_blockmodels::ReportColumn::new(column_id("Au"), "Au", evo_blockmodels::ReportAggregation::MassAverage, "g/t"))
    /// #     .density_column(column_id("density"));
    /// // `resource`: a report specification of the mass-averaged Au grade, by the density column.
    /// use evo_blockmodels::ListQuery;
    /// use futures_util::TryStreamExt as _;
    ///
    /// let rs_id = client.create_report_specification(model.bm_uuid, &resource).await?.report_specification_uuid;
    /// let result = client.run_report(model.bm_uuid, rs_id, None).await?;
    /// // No categories or cut-offs: one row, the mass and the mass-averaged grade of all blocks.
    /// let rows = &result.result_set(None).unwrap().rows;
    /// assert_eq!(rows.len(), 1);
    /// let grade = rows[0].values[1].value.unwrap();
    /// assert!((grade - 1.25).abs() < 1e-9);
    ///
    /// let (_, job) = client.start_report(model.bm_uuid, rs_id, Some(version.version_uuid)).await?;
    /// let run = job.wait().await?;
    ///
    /// let page = client.list_report_results_page(model.bm_uuid, rs_id, &ListQuery::new()).await?;
    /// assert_eq!(page.items[0].report_result_uuid, run.report_result_uuid); // newest first
    /// let all: Vec<_> = client.list_report_results_all(model.bm_uuid, rs_id).try_collect().await?;
    /// assert_eq!(all.len(), 2);
    /// let read = client.get_report_result(model.bm_uuid, rs_id, result.report_result_uuid).await?;
    /// assert_eq!(read.report_specification_name, "Resource");
    /// # Ok(()) }
    /// ```
    pub async fn run_report(
        &self,
        bm_id: Uuid,
        rs_id: Uuid,
        version_uuid: Option<Uuid>,
    ) -> Result<ReportResult, Error> {
        let (_, job) = self.start_report(bm_id, rs_id, version_uuid).await?;
        let run = job.wait().await?;
        self.get_report_result(bm_id, rs_id, run.report_result_uuid)
            .await
    }

    /// One page of the results of specification `rs_id`, newest first.
    ///
    /// See the example on [`run_report`](Self::run_report).
    pub async fn list_report_results_page(
        &self,
        bm_id: Uuid,
        rs_id: Uuid,
        query: &ListQuery,
    ) -> Result<Page<ReportResultSummary>, Error> {
        let request = self
            .spec_request(Method::GET, bm_id, rs_id, "/results")
            .query("offset", query.offset)
            .query("limit", query.limit);
        self.send_page(request).await
    }

    /// Every result of specification `rs_id`, newest first.
    ///
    /// See the example on [`run_report`](Self::run_report).
    pub fn list_report_results_all(
        &self,
        bm_id: Uuid,
        rs_id: Uuid,
    ) -> impl Stream<Item = Result<ReportResultSummary, Error>> + Send + 'static {
        let client = self.clone();
        crate::blockmodels::pages(ListQuery::new(), move |q| {
            let client = client.clone();
            async move { client.list_report_results_page(bm_id, rs_id, &q).await }
        })
    }

    /// Result `result_uuid` of specification `rs_id`.
    ///
    /// See the example on [`run_report`](Self::run_report).
    pub async fn get_report_result(
        &self,
        bm_id: Uuid,
        rs_id: Uuid,
        result_uuid: Uuid,
    ) -> Result<ReportResult, Error> {
        let request = self
            .spec_request(Method::GET, bm_id, rs_id, "/results/{result_id}")
            .path_param("result_id", result_uuid);
        let result: ReportResult = self
            .send_json(request, None::<&()>, &[StatusCode::OK])
            .await?;
        if result.report_result_uuid != result_uuid || result.report_specification_uuid != rs_id {
            return Err(Error::Unexpected(format!(
                "asked for result {result_uuid} of {rs_id}, got {} of {}",
                result.report_result_uuid, result.report_specification_uuid
            )));
        }
        Ok(result)
    }

    /// Asks for the results of specification `rs_id` on two versions (by default the latest
    /// and the one before it): [`ComparisonStarted::Ready`] when both exist for the current
    /// revision, else the job that makes them.
    ///
    /// See the example on [`compare_reports`](Self::compare_reports).
    pub async fn request_report_comparison(
        &self,
        bm_id: Uuid,
        rs_id: Uuid,
        request: &ReportComparisonRequest,
    ) -> Result<ComparisonStarted, Error> {
        let http = self.spec_request(Method::POST, bm_id, rs_id, "/comparisons");
        let answer: ComparisonRequestAnswer = self
            .send_json(http, Some(request), &[StatusCode::OK, StatusCode::CREATED])
            .await?;
        match answer {
            ComparisonRequestAnswer {
                job_url: Some(url), ..
            } => Ok(ComparisonStarted::Job(JobHandle::new(
                self,
                bm_id,
                job_id_of(&url)?,
            ))),
            ComparisonRequestAnswer {
                from_result_uuid: Some(from_result_uuid),
                to_result_uuid: Some(to_result_uuid),
                ..
            } => Ok(ComparisonStarted::Ready {
                from_result_uuid,
                to_result_uuid,
            }),
            _ => Err(Error::Unexpected(
                "a comparison request answered neither both results nor a job".to_owned(),
            )),
        }
    }

    /// The comparison of two results of specification `rs_id` (`to - from`, value by value),
    /// rounded to `decimal_places` (0 to 10) when given.
    ///
    /// See the example on [`compare_reports`](Self::compare_reports).
    pub async fn get_report_comparison(
        &self,
        bm_id: Uuid,
        rs_id: Uuid,
        from_result: Uuid,
        to_result: Uuid,
        decimal_places: Option<u8>,
    ) -> Result<ReportComparison, Error> {
        if decimal_places.is_some_and(|d| d > 10) {
            return Err(invalid("decimal places must be between 0 and 10"));
        }
        let mut request = self
            .spec_request(Method::GET, bm_id, rs_id, "/comparisons")
            .query("from", from_result)
            .query("to", to_result);
        if let Some(d) = decimal_places {
            request = request.query("decimal_places", d);
        }
        self.send_json(request, None::<&()>, &[StatusCode::OK])
            .await
    }

    /// Requests a comparison, waits for the job if one was needed, and reads the comparison.
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
    /// # let column_id = |title: &str| version.mapping.column(title).unwrap().col_id.parse::<uuid::Uuid>().unwrap();
    /// # let resource = evo_blockmodels::NewReportSpecification::new("Resource", "t")
    /// #     .autorun(false)
    /// #     .column(evo_blockmodels::ReportColumn::new(column_id("Au"), "Au", evo_blockmodels::ReportAggregation::MassAverage, "g/t"))
    /// #     .density_column(column_id("density"));
    /// // `resource`: a report specification of the mass-averaged Au grade, by the density column.
    /// use std::sync::Arc;
    /// use evo_blockmodels::evo_tables::arrow_array::Float64Array;
    /// use evo_blockmodels::{ColumnChanges, ComparisonStarted, ReportComparisonRequest};
    ///
    /// let rs_id = client.create_report_specification(model.bm_uuid, &resource).await?.report_specification_uuid;
    /// let before = client.run_report(model.bm_uuid, rs_id, None).await?;
    /// let higher = Arc::new(Float64Array::from(vec![1.5, 2.0, 2.5, 3.0]));
    /// let after = client.update_columns(model.bm_uuid, &ColumnChanges::new().update("Au", higher)).await?;
    /// let request = ReportComparisonRequest {
    ///     from_version_uuid: Some(version.version_uuid),
    ///     to_version_uuid: Some(after.version_uuid),
    /// };
    ///
    /// // In one call: the missing result is made, then both are compared.
    /// let comparison = client.compare_reports(model.bm_uuid, rs_id, &request, Some(2)).await?;
    /// assert_eq!(comparison.report_specification_uuid, rs_id);
    ///
    /// // In steps: both results exist now, so no job is needed.
    /// let ComparisonStarted::Ready { from_result_uuid, to_result_uuid } =
    ///     client.request_report_comparison(model.bm_uuid, rs_id, &request).await?
    /// else {
    ///     panic!("both results exist");
    /// };
    /// assert_eq!(from_result_uuid, before.report_result_uuid);
    /// let again = client
    ///     .get_report_comparison(model.bm_uuid, rs_id, from_result_uuid, to_result_uuid, Some(2))
    ///     .await?;
    /// assert_eq!(again, comparison);
    /// # Ok(()) }
    /// ```
    pub async fn compare_reports(
        &self,
        bm_id: Uuid,
        rs_id: Uuid,
        request: &ReportComparisonRequest,
        decimal_places: Option<u8>,
    ) -> Result<ReportComparison, Error> {
        let (from, to) = match self
            .request_report_comparison(bm_id, rs_id, request)
            .await?
        {
            ComparisonStarted::Ready {
                from_result_uuid,
                to_result_uuid,
            } => (from_result_uuid, to_result_uuid),
            ComparisonStarted::Job(job) => {
                let run = job.wait().await?;
                match (run.from_result_uuid, run.to_result_uuid) {
                    (Some(from), Some(to)) => (from, to),
                    _ => {
                        return Err(Error::Unexpected(
                            "a comparison job completed without both results".to_owned(),
                        ));
                    }
                }
            }
        };
        self.get_report_comparison(bm_id, rs_id, from, to, decimal_places)
            .await
    }
}

fn no_job(what: &str) -> Error {
    Error::Unexpected(format!(
        "{what} was asked for but the answer has no job URL"
    ))
}
