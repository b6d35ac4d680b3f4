//! # evo-compute
//!
//! The Compute Tasks API client of evo-rs: run geostatistics on Evo (kriging, simulation,
//! inverse distance, nearest neighbours and more) on the objects of a workspace.
//!
//! - [`ComputeClient::submit`] sends a [`Task`] (`POST compute/orgs/{org}/{topic}/{task}`
//!   with `{"parameters": …}`) and returns a [`Job`] read from the `Location` answer header.
//!   Typed parameters exist for every geostatistics task of the Python SDK ([`tasks`]);
//!   [`GenericTask`] sends any other as JSON.
//! - A [`Job`] has its [`status`](Job::status) (requested, in progress, succeeded, failed,
//!   cancelling, cancelled; progress and message), its [`results`](Job::results) (202 while
//!   pending is [`JobResults::Pending`], not an error), [`cancel`](Job::cancel) (and
//!   [`cancel_on_drop`](Job::cancel_on_drop)), and waiting: [`wait`](Job::wait) polls with
//!   capped, jittered, growing intervals (evo-core's [`polling`]) until a
//!   typed [`Outcome`](evo_core::polling::Outcome) — done, failed with the job's error, timed
//!   out, cancelled; [`watch`](Job::watch) is the stream of statuses;
//!   [`wait_for_results`](Job::wait_for_results) returns the results or a typed error.
//! - [`ComputeClient::run_many`] runs many tasks with bounded concurrency and returns each
//!   one's outcome in order.
//! - `API-Preview: opt-in` is sent when asked ([`ComputeClientBuilder::preview`],
//!   [`ComputeClient::with_preview`]), as the Python SDK does with `preview=True`.
//!
//! ```no_run
//! # async fn demo(connector: evo_core::ApiConnector, org: uuid::Uuid,
//! #   points: evo_objects::ObjectReference, grid: evo_objects::ObjectReference) -> Result<(), evo_compute::Error> {
//! use std::time::Duration;
//! use evo_compute::tasks::{Ellipsoid, InverseDistance, SearchNeighborhood, Source, Target};
//! use evo_compute::{ComputeClient, TaskResult};
//! let compute = ComputeClient::new(org, connector)?;
//! let idw = InverseDistance::new(
//!     Source::point_set_attribute(&points, "grade"),
//!     Target::new_attribute(&grid, "grade_idw"),
//!     SearchNeighborhood::new(Ellipsoid::sphere(250.0), 16),
//!     2.0,
//! );
//! let job = compute.submit(&idw).await?.cancel_on_drop(true);
//! let result: TaskResult = job.wait_for(Some(Duration::from_secs(600))).await?;
//! println!("{} on {}", result.target.attribute.name, result.target.name);
//! # Ok(()) }
//! ```

mod client;
mod error;
mod job;
mod models;
pub mod tasks;

pub use client::{ComputeClient, ComputeClientBuilder, DEFAULT_CONCURRENCY, PREVIEW_HEADER};
pub use error::Error;
pub use job::{Job, JobId};
pub use models::{
    JobError, JobProgress, JobResults, JobStatus, TaskAttribute, TaskResult, TaskTarget,
};
pub use tasks::{GenericTask, Task};

/// Re-export of evo-core's polling (the poller and the outcome of a wait).
pub use evo_core::polling;
