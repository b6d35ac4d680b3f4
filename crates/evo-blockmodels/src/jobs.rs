//! Jobs: the long-running work of the service (creating a model, applying column changes,
//! running a query) as a typed handle that waits with capped, jittered backoff
//! ([`evo_core::polling`]), reports progress, honours the caller's timeout and fails with the
//! job's failure payload.

use std::marker::PhantomData;
use std::time::Duration;

use futures_core::Stream;
use futures_util::StreamExt as _;
use http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use evo_core::polling::{Event, Observation, Outcome, Poller};

use crate::client::BlockModelsClient;
use crate::error::Error;
use crate::models::{JobFailure, JobState, JobStatus};

/// A job is read again after at most this share of the time waited so far: one that ends
/// is seen done at most a tenth of its time later (a poll is one small GET; the intervals
/// stay within the client's minimum and maximum).
const POLL_LAG_FRACTION: f64 = 0.1;

/// The payload of a completed query job.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QueryDownload {
    /// Where the result file is.
    pub download_url: url::Url,
}

/// One item of a job's progress stream ([`JobHandle::watch`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum JobEvent<T> {
    /// The job was seen in this (not yet final) state.
    Status(JobStatus),
    /// The job completed with this result; the last item.
    Complete(T),
}

/// A job of a block model, whose result (its payload when complete) is a `T`: a
/// [`Version`](crate::Version) for creations and column changes, a [`QueryDownload`] for
/// queries.
#[derive(Debug, Clone)]
pub struct JobHandle<T> {
    client: BlockModelsClient,
    bm_id: Uuid,
    job_id: Uuid,
    timeout: Option<Duration>,
    result: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned + Send + 'static> JobHandle<T> {
    pub(crate) fn new(client: &BlockModelsClient, bm_id: Uuid, job_id: Uuid) -> Self {
        JobHandle {
            client: client.clone(),
            bm_id,
            job_id,
            timeout: client.settings.job_timeout,
            result: PhantomData,
        }
    }

    /// The job's id.
    pub fn job_id(&self) -> Uuid {
        self.job_id
    }

    /// The block model it works on.
    pub fn bm_id(&self) -> Uuid {
        self.bm_id
    }

    /// How long to wait at most (default: the client's job timeout); `None`: no limit.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Reads the job's state once.
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
    /// use evo_blockmodels::JobStatus;
    ///
    /// let (_, job) = client.start_create(&regular("Pit")).await?;
    /// let state = job.status().await?;
    /// assert!(matches!(state.job_status, JobStatus::Queued | JobStatus::Processing | JobStatus::Complete));
    /// # Ok(()) }
    /// ```
    pub async fn status(&self) -> Result<JobState, Error> {
        job_state(&self.client, self.bm_id, self.job_id).await
    }

    fn poller(&self) -> Poller {
        let settings = &self.client.settings;
        Poller::new()
            .with_intervals(settings.poll_min, settings.poll_max)
            .with_min_interval(settings.poll_min)
            .with_lag_fraction(POLL_LAG_FRACTION)
            .with_optional_timeout(self.timeout)
    }

    /// Waits until the job completes and returns its result; [`Error::JobFailed`] with the
    /// failure payload when it fails, [`Error::JobTimedOut`] when the timeout passes first.
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
    /// use std::time::Duration;
    ///
    /// let (model, job) = client.start_create(&regular("Pit")).await?;
    /// let first = job.timeout(Some(Duration::from_secs(60))).wait().await?;
    /// assert_eq!(first.bm_uuid, model.bm_uuid);
    /// # Ok(()) }
    /// ```
    pub async fn wait(self) -> Result<T, Error> {
        self.wait_with(|_| {}).await
    }

    /// [`Self::wait`], calling `on_status` with every state seen before the end.
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
    /// use std::time::Duration;
    ///
    /// emulator.set_blockmodel_job_delay(Duration::from_millis(300));
    /// let (_, job) = client.start_create(&regular("Pit")).await?;
    /// let mut seen = Vec::new();
    /// let first = job.wait_with(|status| seen.push(status)).await?;
    /// assert_eq!(first.version_id, 1);
    /// assert!(!seen.is_empty()); // the states before the end
    /// # Ok(()) }
    /// ```
    pub async fn wait_with(self, mut on_status: impl FnMut(JobStatus) + Send) -> Result<T, Error> {
        let (client, bm_id, job_id) = (self.client.clone(), self.bm_id, self.job_id);
        let outcome = self
            .poller()
            .wait_with(
                move || observe::<T>(client.clone(), bm_id, job_id),
                |status: &JobStatus| on_status(*status),
            )
            .await?;
        finish(job_id, outcome)
    }

    /// The job's progress as a stream: one [`JobEvent::Status`] per read of a state that is
    /// not final, then [`JobEvent::Complete`] with the result (or an error), then the end.
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
    /// use evo_blockmodels::JobEvent;
    /// use futures_util::TryStreamExt as _;
    ///
    /// let (_, job) = client.start_create(&regular("Pit")).await?;
    /// let events: Vec<_> = job.watch().try_collect().await?;
    /// let Some(JobEvent::Complete(first)) = events.last() else { panic!("the job completed") };
    /// assert_eq!(first.version_id, 1);
    /// # Ok(()) }
    /// ```
    pub fn watch(self) -> impl Stream<Item = Result<JobEvent<T>, Error>> + Send + 'static {
        let (client, bm_id, job_id) = (self.client.clone(), self.bm_id, self.job_id);
        self.poller()
            .watch(move || observe::<T>(client.clone(), bm_id, job_id))
            .map(move |event| match event {
                Ok(Event::State(status)) => Ok(JobEvent::Status(status)),
                Ok(Event::Finished(outcome)) => finish(job_id, outcome).map(JobEvent::Complete),
                Err(e) => Err(e),
            })
    }
}

/// `GET .../jobs/{job_id}`.
pub(crate) async fn job_state(
    client: &BlockModelsClient,
    bm_id: Uuid,
    job_id: Uuid,
) -> Result<JobState, Error> {
    let request = client
        .model_request(Method::GET, bm_id, "/jobs/{job_id}")
        .path_param("job_id", job_id);
    client
        .send_json(request, None::<&()>, &[StatusCode::OK])
        .await
}

async fn observe<T: DeserializeOwned>(
    client: BlockModelsClient,
    bm_id: Uuid,
    job_id: Uuid,
) -> Result<Observation<JobStatus, T, JobFailure>, Error> {
    let state = job_state(&client, bm_id, job_id).await?;
    tracing::debug!(%job_id, status = ?state.job_status, "block model job");
    Ok(match state.job_status {
        JobStatus::Complete => Observation::Done(payload(job_id, state.payload, "a result")?),
        JobStatus::Failed => Observation::Failed(payload(job_id, state.payload, "a failure")?),
        status => Observation::Pending(status),
    })
}

fn payload<P: DeserializeOwned>(
    job_id: Uuid,
    payload: Option<serde_json::Value>,
    what: &str,
) -> Result<P, Error> {
    let value = payload
        .ok_or_else(|| Error::Unexpected(format!("job {job_id} ended without {what} payload")))?;
    serde_json::from_value(value).map_err(|e| {
        Error::Unexpected(format!(
            "job {job_id}: the payload is not {} ({e})",
            std::any::type_name::<P>()
        ))
    })
}

fn finish<T>(job_id: Uuid, outcome: Outcome<T, JobFailure>) -> Result<T, Error> {
    match outcome {
        Outcome::Done(value) => Ok(value),
        Outcome::Failed(failure) => Err(Error::JobFailed { job_id, failure }),
        Outcome::TimedOut { elapsed, polls } => Err(Error::JobTimedOut {
            job_id,
            elapsed,
            polls,
        }),
        _ => Err(Error::JobCancelled { job_id }),
    }
}
