//! `ComputeClient`: submitting tasks and running many at once.

use std::time::Duration;

use futures_util::StreamExt as _;
use http::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use evo_core::ApiConnector;
use evo_core::polling::Poller;

use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::job::{Job, JobId};
use crate::tasks::Task;

/// How many jobs [`ComputeClient::run_many`] runs at the same time by default.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// The Compute Tasks API client of one organization. Cheap to clone.
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
/// # let idw = |name: &str| evo_compute::tasks::InverseDistance::new(
/// #     evo_compute::tasks::Source::point_set_attribute(&points, "grade"),
/// #     evo_compute::tasks::Target::new_attribute(&grid, name),
/// #     evo_compute::tasks::SearchNeighborhood::new(evo_compute::tasks::Ellipsoid::sphere(100.0), 16),
/// #     2.0,
/// # );
/// # let org = emulator.org_id();
/// use std::time::Duration;
/// use evo_compute::{ComputeClient, GenericTask, Task as _};
/// let compute = ComputeClient::new(org, connector)?;
/// // Any task, its parameters as JSON (here those of a typed task).
/// let task = GenericTask::new("geostatistics", "idw", idw("grade_idw").parameters()?);
/// let job = compute.submit(&task).await?;
/// let results = job.wait_for_results(Some(Duration::from_secs(600))).await?;
/// println!("{results}");
/// assert_eq!(results["target"]["attribute"]["name"], "grade_idw");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ComputeClient {
    /// What its jobs share with it (they hold a clone).
    endpoint: Endpoint,
}

// By hand, to print the fields as before `Endpoint` held them.
impl std::fmt::Debug for ComputeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let endpoint = &self.endpoint;
        f.debug_struct("ComputeClient")
            .field("connector", &endpoint.connector)
            .field("org_id", &endpoint.org_id)
            .field("preview", &endpoint.preview)
            .field("initial_interval", &endpoint.initial_interval)
            .field("max_interval", &endpoint.max_interval)
            .finish()
    }
}

/// Builds a [`ComputeClient`].
#[derive(Debug)]
pub struct ComputeClientBuilder {
    client: ComputeClient,
}

impl ComputeClientBuilder {
    /// Sends `API-Preview: opt-in` with every request (default: no), as the Python SDK does
    /// with `preview=True`; tasks still in preview (kriging) need it.
    pub fn preview(mut self, preview: bool) -> Self {
        self.client.endpoint.preview = preview;
        self
    }
    /// The polling intervals of waits: the bound of the first (it doubles after each poll)
    /// and the cap (defaults 500 ms and 10 s).
    pub fn poll_intervals(mut self, initial: Duration, max: Duration) -> Self {
        self.client.endpoint.initial_interval = initial;
        self.client.endpoint.max_interval = max.max(initial);
        self
    }
    /// Builds the client.
    pub fn build(self) -> Result<ComputeClient, Error> {
        Ok(self.client)
    }
}

impl ComputeClient {
    /// A client for organization `org_id`, sending through `connector` (its base URL is the
    /// hub URL). The scope comes first, then the connector, as for every service client.
    pub fn new(org_id: Uuid, connector: ApiConnector) -> Result<Self, Error> {
        Self::builder(org_id, connector).build()
    }

    /// Starts building a client.
    pub fn builder(org_id: Uuid, connector: ApiConnector) -> ComputeClientBuilder {
        ComputeClientBuilder {
            client: ComputeClient {
                endpoint: Endpoint::new(org_id, connector),
            },
        }
    }

    /// This client, sending `API-Preview: opt-in` or not.
    pub fn with_preview(&self, preview: bool) -> Self {
        let mut client = self.clone();
        client.endpoint.preview = preview;
        client
    }

    /// The organization.
    pub fn org_id(&self) -> Uuid {
        self.endpoint.org_id
    }

    /// A poller with this client's intervals and `timeout` (none: wait as long as it takes).
    pub fn poller(&self, timeout: Option<Duration>) -> Poller {
        self.endpoint.poller(timeout)
    }

    /// Submits `task`: `POST compute/orgs/{org}/{topic}/{task}` with `{"parameters": …}`.
    /// The job is read from the `Location` answer header (its status URL).
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
    /// use evo_compute::TaskResult;
    ///
    /// let job = compute.submit(&idw("grade_idw")).await?;
    /// assert_eq!(job.id().task, "idw");
    /// let result: TaskResult = job.wait_for(None).await?;
    /// assert_eq!((result.target.name.as_str(), result.target.attribute.name.as_str()), ("grid", "grade_idw"));
    /// # Ok(()) }
    /// ```
    pub async fn submit(&self, task: &(impl Task + ?Sized)) -> Result<Job, Error> {
        let parameters = task.parameters()?;
        self.submit_raw(task.topic(), task.task(), parameters).await
    }

    /// Submits `parameters` to `topic`/`task` as they are (any task, known to this SDK or not).
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
    /// use evo_compute::Task as _;
    ///
    /// // Any topic and task, with its parameters as JSON (here those of a typed task).
    /// let parameters = idw("raw").parameters()?;
    /// let job = compute.submit_raw("geostatistics", "idw", parameters).await?;
    /// let results = job.wait_for_results(None).await?;
    /// assert_eq!(results["target"]["attribute"]["name"], "raw");
    /// # Ok(()) }
    /// ```
    pub async fn submit_raw(
        &self,
        topic: &str,
        task: &str,
        parameters: Value,
    ) -> Result<Job, Error> {
        check_segment("topic", topic)?;
        check_segment("task", task)?;
        if !parameters.is_object() {
            return Err(Error::Invalid("task parameters are a JSON object".into()));
        }
        let response = self
            .endpoint
            .request(Method::POST, "/{topic}/{task}")
            .path_param("topic", topic)
            .path_param("task", task)
            .json(&json!({ "parameters": parameters }))
            .expect_status(&[
                StatusCode::SEE_OTHER,
                StatusCode::CREATED,
                StatusCode::ACCEPTED,
                StatusCode::OK,
            ])
            .send()
            .await?;
        let location = response
            .headers()
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                Error::Unexpected(format!(
                    "the answer {} to a new job has no Location header",
                    response.status()
                ))
            })?
            .to_owned();
        let id = JobId::from_status_url(self.endpoint.connector.base_url(), &location)
            .map_err(|e| Error::Unexpected(format!("the new job's Location {location:?}: {e}")))?;
        tracing::debug!(job = %id, "submitted");
        Ok(Job::new(self.endpoint.clone(), id))
    }

    /// The job whose status URL is `url` (as returned in `Location`, or from
    /// [`Job::status_url`] of an earlier session). It must be under this client's hub URL.
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
    /// let job = compute.submit(&idw("later")).await?;
    /// // Kept somewhere, and found again later.
    /// let url = job.status_url();
    /// let again = compute.job_from_url(&url)?;
    /// assert_eq!(again.id(), job.id());
    /// again.wait_for_results(None).await?;
    /// # Ok(()) }
    /// ```
    pub fn job_from_url(&self, url: &str) -> Result<Job, Error> {
        let id = JobId::from_status_url(self.endpoint.connector.base_url(), url)
            .map_err(Error::Invalid)?;
        Ok(Job::new(self.endpoint.clone(), id))
    }

    /// Submits every task, at most `concurrency` jobs at a time, waits for each (at most
    /// `timeout` per job), and returns their results in the order of `tasks`: one outcome
    /// per task, so one failed job does not hide the others.
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
    /// let tasks = [idw("first"), idw("second")];
    /// let results = compute.run_many(&tasks, 2, None).await;
    /// assert_eq!(results.len(), 2);
    /// assert_eq!(results[1].as_ref().unwrap()["target"]["attribute"]["name"], "second");
    /// # Ok(()) }
    /// ```
    pub async fn run_many<T: Task>(
        &self,
        tasks: &[T],
        concurrency: usize,
        timeout: Option<Duration>,
    ) -> Vec<Result<Value, Error>> {
        futures_util::stream::iter(tasks)
            .map(|task| async move {
                let job = self.submit(task).await?;
                job.wait_for_results(timeout).await
            })
            .buffered(concurrency.max(1))
            .collect()
            .await
    }
}

/// A topic or task name is one path segment.
fn check_segment(what: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() || value.contains(['/', '?', '#']) || value == "." || value == ".." {
        return Err(Error::Invalid(format!("{what} {value:?} is not a name")));
    }
    Ok(())
}
