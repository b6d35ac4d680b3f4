//! `Job`: one submitted task — its status, results, waiting and cancelling.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_core::Stream;
use http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use evo_core::polling::{Event, Observation, Outcome, Poller};

use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::models::{CompletedJob, JobError, JobProgress, JobResults, JobStatus};

/// Where a job lives: `compute/orgs/{org}/{topic}/{task}/{job}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JobId {
    /// The organization.
    pub org_id: Uuid,
    /// The topic (`geostatistics`).
    pub topic: String,
    /// The task (`kriging`, …).
    pub task: String,
    /// The job.
    pub job_id: Uuid,
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "compute/orgs/{}/{}/{}/{}",
            self.org_id, self.topic, self.task, self.job_id
        )
    }
}

impl JobId {
    /// Reads a status URL (`…/compute/orgs/{org}/{topic}/{task}/{job}/status`, absolute
    /// under `base` or relative to it).
    pub fn from_status_url(base: &url::Url, url: &str) -> Result<Self, String> {
        let absolute = base
            .join(url.trim_start_matches('/'))
            .map_err(|e| format!("not a URL: {e}"))?;
        let path = absolute
            .as_str()
            .strip_prefix(base.as_str())
            .ok_or_else(|| format!("the job URL is not under {base}"))?;
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let parts: Vec<&str> = path.split('/').collect();
        match parts.as_slice() {
            ["compute", "orgs", org, topic, task, job, "status"] => Ok(JobId {
                org_id: org.parse().map_err(|_| format!("invalid org ID {org:?}"))?,
                topic: percent_decode(topic)?,
                task: percent_decode(task)?,
                job_id: job.parse().map_err(|_| format!("invalid job ID {job:?}"))?,
            }),
            _ => Err(format!(
                "{path:?} is not compute/orgs/{{org}}/{{topic}}/{{task}}/{{job}}/status"
            )),
        }
    }
}

fn percent_decode(segment: &str) -> Result<String, String> {
    let decoded = url::form_urlencoded::parse(format!("x={segment}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    if decoded.is_empty() {
        return Err(format!("empty path segment {segment:?}"));
    }
    Ok(decoded)
}

/// A submitted task. Not `Clone`: with [`Job::cancel_on_drop`] dropping it cancels the job.
pub struct Job {
    /// Where its requests go (a clone of its client's).
    endpoint: Endpoint,
    id: JobId,
    cancel_on_drop: bool,
    /// Set once a terminal state was seen or a cancel was sent: nothing left to cancel.
    settled: Arc<AtomicBool>,
}

impl fmt::Debug for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("id", &self.id)
            .field("cancel_on_drop", &self.cancel_on_drop)
            .finish()
    }
}

impl Job {
    pub(crate) fn new(endpoint: Endpoint, id: JobId) -> Self {
        Job {
            endpoint,
            id,
            cancel_on_drop: false,
            settled: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Cancels the job when this handle is dropped before the job finished (default: no).
    /// The cancel is sent from a task on the current tokio runtime; without one, nothing
    /// is sent.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use evo_objects::evo_tables::{arrow_array::Float64Array, positions};
    /// # let seed = evo_emulator::Seed::from_json(
    /// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
    /// # )?;
    /// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
    /// # emulator.set_compute_job_step(std::time::Duration::from_millis(400));
    /// # let workspace_id = emulator.organizations()[0].workspaces[0].0;
    /// # let environment = evo_core::Environment::new(emulator.hub_url(), emulator.org_id(), workspace_id);
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let objects = evo_objects::ObjectsClient::new(environment.clone(), connector.clone())?;
    /// # let xyz = positions(Float64Array::from(vec![1.0, 9.0, 5.0]), Float64Array::from(vec![1.0, 9.0, 5.0]), Float64Array::from(vec![0.5; 3]))?;
    /// # let samples = evo_objects::SpatialObject::point_set("samples", xyz)
    /// #     .attribute("grade", std::sync::Arc::new(Float64Array::from(vec![1.0, 4.0, 2.0])));
    /// # let points = objects.create_spatial("samples.json", &samples).await?;
    /// # let points = evo_objects::ObjectReference::new(&environment, points.id().unwrap(), None);
    /// # let grid = evo_objects::SpatialObject::regular_grid("grid", [0.0; 3], [5, 5, 1], [2.0, 2.0, 1.0]);
    /// # let grid = objects.create_spatial("grid.json", &grid).await?;
    /// # let grid = evo_objects::ObjectReference::new(&environment, grid.id().unwrap(), None);
    /// # let compute = evo_compute::ComputeClient::builder(emulator.org_id(), connector)
    /// #     .poll_intervals(std::time::Duration::from_millis(10), std::time::Duration::from_millis(50))
    /// #     .build()?;
    /// # let idw = |name: &str| evo_compute::tasks::InverseDistance::new(
    /// #     evo_compute::tasks::Source::point_set_attribute(&points, "grade"),
    /// #     evo_compute::tasks::Target::new_attribute(&grid, name),
    /// #     evo_compute::tasks::SearchNeighborhood::new(evo_compute::tasks::Ellipsoid::sphere(100.0), 16),
    /// #     2.0,
    /// # );
    /// // `idw(name)`: inverse distance from the grades of a point set onto attribute `name` of a grid.
    /// {
    ///     let _job = compute.submit(&idw("abandoned")).await?.cancel_on_drop(true);
    ///     // ... dropped before it finished: a cancel request is sent.
    /// }
    /// # tokio::task::yield_now().await;
    /// # Ok(()) }
    /// ```
    pub fn cancel_on_drop(mut self, cancel: bool) -> Self {
        self.cancel_on_drop = cancel;
        self
    }

    /// Where the job lives.
    pub fn id(&self) -> &JobId {
        &self.id
    }

    /// The job's status URL (what `Location` said), to find it again later with
    /// [`ComputeClient::job_from_url`](crate::ComputeClient::job_from_url).
    pub fn status_url(&self) -> String {
        format!("{}{}/status", self.endpoint.connector.base_url(), self.id)
    }

    fn request(&self, method: Method, tail: &str) -> evo_core::RequestBuilder {
        self.endpoint
            .request(method, &format!("/{{topic}}/{{task}}/{{job_id}}{tail}"))
            .path_param("topic", &self.id.topic)
            .path_param("task", &self.id.task)
            .path_param("job_id", self.id.job_id)
    }

    /// The job's status: `GET …/{job}/status`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use evo_objects::evo_tables::{arrow_array::Float64Array, positions};
    /// # let seed = evo_emulator::Seed::from_json(
    /// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
    /// # )?;
    /// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
    /// # emulator.set_compute_job_step(std::time::Duration::from_millis(400));
    /// # let workspace_id = emulator.organizations()[0].workspaces[0].0;
    /// # let environment = evo_core::Environment::new(emulator.hub_url(), emulator.org_id(), workspace_id);
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let objects = evo_objects::ObjectsClient::new(environment.clone(), connector.clone())?;
    /// # let xyz = positions(Float64Array::from(vec![1.0, 9.0, 5.0]), Float64Array::from(vec![1.0, 9.0, 5.0]), Float64Array::from(vec![0.5; 3]))?;
    /// # let samples = evo_objects::SpatialObject::point_set("samples", xyz)
    /// #     .attribute("grade", std::sync::Arc::new(Float64Array::from(vec![1.0, 4.0, 2.0])));
    /// # let points = objects.create_spatial("samples.json", &samples).await?;
    /// # let points = evo_objects::ObjectReference::new(&environment, points.id().unwrap(), None);
    /// # let grid = evo_objects::SpatialObject::regular_grid("grid", [0.0; 3], [5, 5, 1], [2.0, 2.0, 1.0]);
    /// # let grid = objects.create_spatial("grid.json", &grid).await?;
    /// # let grid = evo_objects::ObjectReference::new(&environment, grid.id().unwrap(), None);
    /// # let compute = evo_compute::ComputeClient::builder(emulator.org_id(), connector)
    /// #     .poll_intervals(std::time::Duration::from_millis(10), std::time::Duration::from_millis(50))
    /// #     .build()?;
    /// # let idw = |name: &str| evo_compute::tasks::InverseDistance::new(
    /// #     evo_compute::tasks::Source::point_set_attribute(&points, "grade"),
    /// #     evo_compute::tasks::Target::new_attribute(&grid, name),
    /// #     evo_compute::tasks::SearchNeighborhood::new(evo_compute::tasks::Ellipsoid::sphere(100.0), 16),
    /// #     2.0,
    /// # );
    /// // `idw(name)`: inverse distance from the grades of a point set onto attribute `name` of a grid.
    /// use evo_compute::JobStatus;
    ///
    /// let job = compute.submit(&idw("grade")).await?;
    /// let progress = job.status().await?;
    /// assert_eq!(progress.status, JobStatus::Requested);
    /// # Ok(()) }
    /// ```
    pub async fn status(&self) -> Result<JobProgress, Error> {
        let progress: JobProgress = self
            .request(Method::GET, "/status")
            .expect_status(&[StatusCode::OK, StatusCode::ACCEPTED])
            .send_json()
            .await?;
        if progress.status.is_terminal() {
            self.settled.store(true, Ordering::Relaxed);
        }
        Ok(progress)
    }

    /// The job's results: `GET …/{job}`. While the job runs the service answers 202, which is
    /// [`JobResults::Pending`], not an error.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use evo_objects::evo_tables::{arrow_array::Float64Array, positions};
    /// # let seed = evo_emulator::Seed::from_json(
    /// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
    /// # )?;
    /// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
    /// # emulator.set_compute_job_step(std::time::Duration::from_millis(400));
    /// # let workspace_id = emulator.organizations()[0].workspaces[0].0;
    /// # let environment = evo_core::Environment::new(emulator.hub_url(), emulator.org_id(), workspace_id);
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let objects = evo_objects::ObjectsClient::new(environment.clone(), connector.clone())?;
    /// # let xyz = positions(Float64Array::from(vec![1.0, 9.0, 5.0]), Float64Array::from(vec![1.0, 9.0, 5.0]), Float64Array::from(vec![0.5; 3]))?;
    /// # let samples = evo_objects::SpatialObject::point_set("samples", xyz)
    /// #     .attribute("grade", std::sync::Arc::new(Float64Array::from(vec![1.0, 4.0, 2.0])));
    /// # let points = objects.create_spatial("samples.json", &samples).await?;
    /// # let points = evo_objects::ObjectReference::new(&environment, points.id().unwrap(), None);
    /// # let grid = evo_objects::SpatialObject::regular_grid("grid", [0.0; 3], [5, 5, 1], [2.0, 2.0, 1.0]);
    /// # let grid = objects.create_spatial("grid.json", &grid).await?;
    /// # let grid = evo_objects::ObjectReference::new(&environment, grid.id().unwrap(), None);
    /// # let compute = evo_compute::ComputeClient::builder(emulator.org_id(), connector)
    /// #     .poll_intervals(std::time::Duration::from_millis(10), std::time::Duration::from_millis(50))
    /// #     .build()?;
    /// # let idw = |name: &str| evo_compute::tasks::InverseDistance::new(
    /// #     evo_compute::tasks::Source::point_set_attribute(&points, "grade"),
    /// #     evo_compute::tasks::Target::new_attribute(&grid, name),
    /// #     evo_compute::tasks::SearchNeighborhood::new(evo_compute::tasks::Ellipsoid::sphere(100.0), 16),
    /// #     2.0,
    /// # );
    /// // `idw(name)`: inverse distance from the grades of a point set onto attribute `name` of a grid.
    /// use evo_compute::{JobResults, JobStatus};
    ///
    /// let job = compute.submit(&idw("grade")).await?;
    /// // Still running: 202, not an error.
    /// assert_eq!(job.results().await?, JobResults::Pending(JobStatus::Requested));
    /// job.wait_for_results(None).await?;
    /// assert!(matches!(job.results().await?, JobResults::Succeeded(_)));
    /// # Ok(()) }
    /// ```
    pub async fn results(&self) -> Result<JobResults, Error> {
        let request = self
            .request(Method::GET, "")
            .expect_status(&[StatusCode::OK, StatusCode::ACCEPTED]);
        let response = request.send().await?;
        let status = response.status();
        let job: CompletedJob = evo_core::decode_json(response, 256 * 1024 * 1024).await?;
        if let Some(error) = job.error {
            self.settled.store(true, Ordering::Relaxed);
            return Ok(JobResults::Failed(error));
        }
        if status == StatusCode::ACCEPTED || !job.status.is_terminal() {
            return Ok(JobResults::Pending(job.status));
        }
        self.settled.store(true, Ordering::Relaxed);
        match (job.status, job.results) {
            (JobStatus::Succeeded, Some(results)) => Ok(JobResults::Succeeded(results)),
            (JobStatus::Succeeded, None) => Err(Error::Unexpected(format!(
                "the job {} succeeded without results",
                self.id
            ))),
            (JobStatus::Cancelled, _) => Ok(JobResults::Cancelled),
            (status, _) => Ok(JobResults::Failed(unknown_failure(&status))),
        }
    }

    /// Asks the service to cancel the job: `DELETE …/{job}`. The job then moves through
    /// `cancelling` to `cancelled` (unless it finished first).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use evo_objects::evo_tables::{arrow_array::Float64Array, positions};
    /// # let seed = evo_emulator::Seed::from_json(
    /// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
    /// # )?;
    /// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
    /// # emulator.set_compute_job_step(std::time::Duration::from_millis(400));
    /// # let workspace_id = emulator.organizations()[0].workspaces[0].0;
    /// # let environment = evo_core::Environment::new(emulator.hub_url(), emulator.org_id(), workspace_id);
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let objects = evo_objects::ObjectsClient::new(environment.clone(), connector.clone())?;
    /// # let xyz = positions(Float64Array::from(vec![1.0, 9.0, 5.0]), Float64Array::from(vec![1.0, 9.0, 5.0]), Float64Array::from(vec![0.5; 3]))?;
    /// # let samples = evo_objects::SpatialObject::point_set("samples", xyz)
    /// #     .attribute("grade", std::sync::Arc::new(Float64Array::from(vec![1.0, 4.0, 2.0])));
    /// # let points = objects.create_spatial("samples.json", &samples).await?;
    /// # let points = evo_objects::ObjectReference::new(&environment, points.id().unwrap(), None);
    /// # let grid = evo_objects::SpatialObject::regular_grid("grid", [0.0; 3], [5, 5, 1], [2.0, 2.0, 1.0]);
    /// # let grid = objects.create_spatial("grid.json", &grid).await?;
    /// # let grid = evo_objects::ObjectReference::new(&environment, grid.id().unwrap(), None);
    /// # let compute = evo_compute::ComputeClient::builder(emulator.org_id(), connector)
    /// #     .poll_intervals(std::time::Duration::from_millis(10), std::time::Duration::from_millis(50))
    /// #     .build()?;
    /// # let idw = |name: &str| evo_compute::tasks::InverseDistance::new(
    /// #     evo_compute::tasks::Source::point_set_attribute(&points, "grade"),
    /// #     evo_compute::tasks::Target::new_attribute(&grid, name),
    /// #     evo_compute::tasks::SearchNeighborhood::new(evo_compute::tasks::Ellipsoid::sphere(100.0), 16),
    /// #     2.0,
    /// # );
    /// // `idw(name)`: inverse distance from the grades of a point set onto attribute `name` of a grid.
    /// use evo_compute::{Error, JobStatus};
    ///
    /// let job = compute.submit(&idw("grade")).await?;
    /// job.cancel().await?;
    /// assert_eq!(job.status().await?.status, JobStatus::Cancelling);
    /// assert!(matches!(job.wait_for_results(None).await, Err(Error::JobCancelled { .. })));
    /// # Ok(()) }
    /// ```
    pub async fn cancel(&self) -> Result<(), Error> {
        self.request(Method::DELETE, "").send_empty().await?;
        self.settled.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// One poll: the status, and for a finished job its results.
    async fn observe(&self) -> Result<Observation<JobProgress, Value, JobError>, Error> {
        let progress = self.status().await?;
        Ok(match progress.status {
            JobStatus::Succeeded | JobStatus::Failed => match self.results().await? {
                JobResults::Succeeded(value) => Observation::Done(value),
                JobResults::Failed(error) => Observation::Failed(error),
                JobResults::Cancelled => Observation::Cancelled,
                // The status said finished but the results are not there yet.
                JobResults::Pending(_) => Observation::Pending(progress),
            },
            JobStatus::Cancelled => Observation::Cancelled,
            _ => Observation::Pending(progress),
        })
    }

    /// Polls the status with `poller` (see
    /// [`ComputeClient::poller`](crate::ComputeClient::poller)) until the job succeeds (its
    /// results), fails (its error), is cancelled, or the poller's timeout or cancel signal
    /// ends the wait. Request errors end the wait as errors.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use evo_objects::evo_tables::{arrow_array::Float64Array, positions};
    /// # let seed = evo_emulator::Seed::from_json(
    /// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
    /// # )?;
    /// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
    /// # emulator.set_compute_job_step(std::time::Duration::from_millis(20));
    /// # let workspace_id = emulator.organizations()[0].workspaces[0].0;
    /// # let environment = evo_core::Environment::new(emulator.hub_url(), emulator.org_id(), workspace_id);
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let objects = evo_objects::ObjectsClient::new(environment.clone(), connector.clone())?;
    /// # let xyz = positions(Float64Array::from(vec![1.0, 9.0, 5.0]), Float64Array::from(vec![1.0, 9.0, 5.0]), Float64Array::from(vec![0.5; 3]))?;
    /// # let samples = evo_objects::SpatialObject::point_set("samples", xyz)
    /// #     .attribute("grade", std::sync::Arc::new(Float64Array::from(vec![1.0, 4.0, 2.0])));
    /// # let points = objects.create_spatial("samples.json", &samples).await?;
    /// # let points = evo_objects::ObjectReference::new(&environment, points.id().unwrap(), None);
    /// # let grid = evo_objects::SpatialObject::regular_grid("grid", [0.0; 3], [5, 5, 1], [2.0, 2.0, 1.0]);
    /// # let grid = objects.create_spatial("grid.json", &grid).await?;
    /// # let grid = evo_objects::ObjectReference::new(&environment, grid.id().unwrap(), None);
    /// # let compute = evo_compute::ComputeClient::builder(emulator.org_id(), connector)
    /// #     .poll_intervals(std::time::Duration::from_millis(10), std::time::Duration::from_millis(50))
    /// #     .build()?;
    /// # let idw = |name: &str| evo_compute::tasks::InverseDistance::new(
    /// #     evo_compute::tasks::Source::point_set_attribute(&points, "grade"),
    /// #     evo_compute::tasks::Target::new_attribute(&grid, name),
    /// #     evo_compute::tasks::SearchNeighborhood::new(evo_compute::tasks::Ellipsoid::sphere(100.0), 16),
    /// #     2.0,
    /// # );
    /// // `idw(name)`: inverse distance from the grades of a point set onto attribute `name` of a grid.
    /// use std::time::Duration;
    /// use evo_compute::polling::Outcome;
    ///
    /// let job = compute.submit(&idw("grade")).await?;
    /// match job.wait(compute.poller(Some(Duration::from_secs(60)))).await? {
    ///     Outcome::Done(results) => assert_eq!(results["target"]["name"], "grid"),
    ///     other => panic!("the job did not succeed: {other:?}"),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn wait(&self, poller: Poller) -> Result<Outcome<Value, JobError>, Error> {
        poller.wait(|| self.observe()).await
    }

    /// [`wait`](Self::wait), calling `on_progress` with each status seen while the job runs.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use evo_objects::evo_tables::{arrow_array::Float64Array, positions};
    /// # let seed = evo_emulator::Seed::from_json(
    /// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
    /// # )?;
    /// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
    /// # emulator.set_compute_job_step(std::time::Duration::from_millis(20));
    /// # let workspace_id = emulator.organizations()[0].workspaces[0].0;
    /// # let environment = evo_core::Environment::new(emulator.hub_url(), emulator.org_id(), workspace_id);
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let objects = evo_objects::ObjectsClient::new(environment.clone(), connector.clone())?;
    /// # let xyz = positions(Float64Array::from(vec![1.0, 9.0, 5.0]), Float64Array::from(vec![1.0, 9.0, 5.0]), Float64Array::from(vec![0.5; 3]))?;
    /// # let samples = evo_objects::SpatialObject::point_set("samples", xyz)
    /// #     .attribute("grade", std::sync::Arc::new(Float64Array::from(vec![1.0, 4.0, 2.0])));
    /// # let points = objects.create_spatial("samples.json", &samples).await?;
    /// # let points = evo_objects::ObjectReference::new(&environment, points.id().unwrap(), None);
    /// # let grid = evo_objects::SpatialObject::regular_grid("grid", [0.0; 3], [5, 5, 1], [2.0, 2.0, 1.0]);
    /// # let grid = objects.create_spatial("grid.json", &grid).await?;
    /// # let grid = evo_objects::ObjectReference::new(&environment, grid.id().unwrap(), None);
    /// # let compute = evo_compute::ComputeClient::builder(emulator.org_id(), connector)
    /// #     .poll_intervals(std::time::Duration::from_millis(10), std::time::Duration::from_millis(50))
    /// #     .build()?;
    /// # let idw = |name: &str| evo_compute::tasks::InverseDistance::new(
    /// #     evo_compute::tasks::Source::point_set_attribute(&points, "grade"),
    /// #     evo_compute::tasks::Target::new_attribute(&grid, name),
    /// #     evo_compute::tasks::SearchNeighborhood::new(evo_compute::tasks::Ellipsoid::sphere(100.0), 16),
    /// #     2.0,
    /// # );
    /// // `idw(name)`: inverse distance from the grades of a point set onto attribute `name` of a grid.
    /// use evo_compute::polling::Outcome;
    ///
    /// let job = compute.submit(&idw("grade")).await?;
    /// let mut seen = Vec::new();
    /// let outcome = job.wait_with(compute.poller(None), |p| seen.push(p.status.clone())).await?;
    /// assert!(matches!(outcome, Outcome::Done(_)));
    /// assert!(!seen.is_empty());
    /// # Ok(()) }
    /// ```
    pub async fn wait_with(
        &self,
        poller: Poller,
        on_progress: impl FnMut(&JobProgress),
    ) -> Result<Outcome<Value, JobError>, Error> {
        poller.wait_with(|| self.observe(), on_progress).await
    }

    /// The progress stream: each status seen while the job runs, then how it ended.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use evo_objects::evo_tables::{arrow_array::Float64Array, positions};
    /// # let seed = evo_emulator::Seed::from_json(
    /// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
    /// # )?;
    /// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
    /// # emulator.set_compute_job_step(std::time::Duration::from_millis(20));
    /// # let workspace_id = emulator.organizations()[0].workspaces[0].0;
    /// # let environment = evo_core::Environment::new(emulator.hub_url(), emulator.org_id(), workspace_id);
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let objects = evo_objects::ObjectsClient::new(environment.clone(), connector.clone())?;
    /// # let xyz = positions(Float64Array::from(vec![1.0, 9.0, 5.0]), Float64Array::from(vec![1.0, 9.0, 5.0]), Float64Array::from(vec![0.5; 3]))?;
    /// # let samples = evo_objects::SpatialObject::point_set("samples", xyz)
    /// #     .attribute("grade", std::sync::Arc::new(Float64Array::from(vec![1.0, 4.0, 2.0])));
    /// # let points = objects.create_spatial("samples.json", &samples).await?;
    /// # let points = evo_objects::ObjectReference::new(&environment, points.id().unwrap(), None);
    /// # let grid = evo_objects::SpatialObject::regular_grid("grid", [0.0; 3], [5, 5, 1], [2.0, 2.0, 1.0]);
    /// # let grid = objects.create_spatial("grid.json", &grid).await?;
    /// # let grid = evo_objects::ObjectReference::new(&environment, grid.id().unwrap(), None);
    /// # let compute = evo_compute::ComputeClient::builder(emulator.org_id(), connector)
    /// #     .poll_intervals(std::time::Duration::from_millis(10), std::time::Duration::from_millis(50))
    /// #     .build()?;
    /// # let idw = |name: &str| evo_compute::tasks::InverseDistance::new(
    /// #     evo_compute::tasks::Source::point_set_attribute(&points, "grade"),
    /// #     evo_compute::tasks::Target::new_attribute(&grid, name),
    /// #     evo_compute::tasks::SearchNeighborhood::new(evo_compute::tasks::Ellipsoid::sphere(100.0), 16),
    /// #     2.0,
    /// # );
    /// // `idw(name)`: inverse distance from the grades of a point set onto attribute `name` of a grid.
    /// use evo_compute::polling::{Event, Outcome};
    /// use futures_util::StreamExt as _;
    ///
    /// let job = compute.submit(&idw("grade")).await?;
    /// let events: Vec<_> = job.watch(compute.poller(None)).collect().await;
    /// assert!(matches!(events.last(), Some(Ok(Event::Finished(Outcome::Done(_))))));
    /// # Ok(()) }
    /// ```
    pub fn watch(
        &self,
        poller: Poller,
    ) -> impl Stream<Item = Result<Event<JobProgress, Value, JobError>, Error>> + '_ {
        poller.watch(|| self.observe())
    }

    /// Waits (with the client's intervals, at most `timeout`) and returns the results; a
    /// failed, cancelled or timed-out job is an error ([`Error::JobFailed`],
    /// [`Error::JobCancelled`], [`Error::TimedOut`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use evo_objects::evo_tables::{arrow_array::Float64Array, positions};
    /// # let seed = evo_emulator::Seed::from_json(
    /// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
    /// # )?;
    /// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
    /// # emulator.set_compute_job_step(std::time::Duration::from_millis(20));
    /// # let workspace_id = emulator.organizations()[0].workspaces[0].0;
    /// # let environment = evo_core::Environment::new(emulator.hub_url(), emulator.org_id(), workspace_id);
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.object"]),
    /// #     )))
    /// #     .build()?;
    /// # let objects = evo_objects::ObjectsClient::new(environment.clone(), connector.clone())?;
    /// # let xyz = positions(Float64Array::from(vec![1.0, 9.0, 5.0]), Float64Array::from(vec![1.0, 9.0, 5.0]), Float64Array::from(vec![0.5; 3]))?;
    /// # let samples = evo_objects::SpatialObject::point_set("samples", xyz)
    /// #     .attribute("grade", std::sync::Arc::new(Float64Array::from(vec![1.0, 4.0, 2.0])));
    /// # let points = objects.create_spatial("samples.json", &samples).await?;
    /// # let points = evo_objects::ObjectReference::new(&environment, points.id().unwrap(), None);
    /// # let grid = evo_objects::SpatialObject::regular_grid("grid", [0.0; 3], [5, 5, 1], [2.0, 2.0, 1.0]);
    /// # let grid = objects.create_spatial("grid.json", &grid).await?;
    /// # let grid = evo_objects::ObjectReference::new(&environment, grid.id().unwrap(), None);
    /// # let compute = evo_compute::ComputeClient::builder(emulator.org_id(), connector)
    /// #     .poll_intervals(std::time::Duration::from_millis(10), std::time::Duration::from_millis(50))
    /// #     .build()?;
    /// # let idw = |name: &str| evo_compute::tasks::InverseDistance::new(
    /// #     evo_compute::tasks::Source::point_set_attribute(&points, "grade"),
    /// #     evo_compute::tasks::Target::new_attribute(&grid, name),
    /// #     evo_compute::tasks::SearchNeighborhood::new(evo_compute::tasks::Ellipsoid::sphere(100.0), 16),
    /// #     2.0,
    /// # );
    /// // `idw(name)`: inverse distance from the grades of a point set onto attribute `name` of a grid.
    /// use std::time::Duration;
    ///
    /// let job = compute.submit(&idw("grade")).await?;
    /// let results = job.wait_for_results(Some(Duration::from_secs(60))).await?;
    /// assert_eq!(results["target"]["attribute"]["name"], "grade");
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_results(&self, timeout: Option<Duration>) -> Result<Value, Error> {
        let job = self.status_url();
        match self.wait(self.endpoint.poller(timeout)).await? {
            Outcome::Done(value) => Ok(value),
            Outcome::Failed(error) => Err(Error::JobFailed {
                job,
                error: Box::new(error),
            }),
            Outcome::TimedOut { elapsed, .. } => Err(Error::TimedOut { job, elapsed }),
            _ => Err(Error::JobCancelled { job }),
        }
    }

    /// [`wait_for_results`](Self::wait_for_results), decoded as `T` (e.g.
    /// [`TaskResult`](crate::TaskResult)).
    ///
    /// See the example on [`ComputeClient::submit`](crate::ComputeClient::submit).
    pub async fn wait_for<T: DeserializeOwned>(
        &self,
        timeout: Option<Duration>,
    ) -> Result<T, Error> {
        let value = self.wait_for_results(timeout).await?;
        serde_json::from_value(value).map_err(|e| {
            Error::Unexpected(format!(
                "the results of {} are not a {}: {e}",
                self.id,
                std::any::type_name::<T>()
            ))
        })
    }
}

/// A failed job whose answer carried no error.
fn unknown_failure(status: &JobStatus) -> JobError {
    JobError {
        status: 500,
        type_uri: "about:blank".into(),
        title: format!("The job ended {status} without an error"),
        detail: None,
        extra: Default::default(),
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        if !self.cancel_on_drop || self.settled.load(Ordering::Relaxed) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(job = %self.id, "dropped outside a tokio runtime: not cancelled");
            return;
        };
        let request = self.request(Method::DELETE, "");
        let id = self.id.clone();
        runtime.spawn(async move {
            match request.send_empty().await {
                Ok(_) => tracing::debug!(job = %id, "cancelled on drop"),
                Err(e) => tracing::warn!(job = %id, error = %e, "cancel on drop failed"),
            }
        });
    }
}
