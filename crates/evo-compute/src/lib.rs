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
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # use evo_objects::evo_tables::{arrow_array::Float64Array, positions};
//! # let seed = evo_emulator::Seed::from_json(
//! #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
//! # )?;
//! # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
//! # emulator.set_compute_job_step(std::time::Duration::from_millis(20));
//! # let (org, workspace_id) = (emulator.org_id(), emulator.organizations()[0].workspaces[0].0);
//! # let environment = evo_core::Environment::new(emulator.hub_url(), org, workspace_id);
//! # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
//! #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
//! #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
//! #         emulator.issue_token(&["evo.object"]),
//! #     )))
//! #     .build()?;
//! # let objects = evo_objects::ObjectsClient::new(environment.clone(), connector.clone())?;
//! # let xyz = positions(Float64Array::from(vec![1.0, 9.0, 5.0]), Float64Array::from(vec![1.0, 9.0, 5.0]), Float64Array::from(vec![0.5; 3]))?;
//! # let samples = evo_objects::SpatialObject::point_set("samples", xyz)
//! #     .attribute("grade", std::sync::Arc::new(Float64Array::from(vec![1.0, 4.0, 2.0])));
//! # let points = objects.create_spatial("samples.json", &samples).await?;
//! # let points = evo_objects::ObjectReference::new(&environment, points.id().unwrap(), None);
//! # let grid = evo_objects::SpatialObject::regular_grid("grid", [0.0; 3], [5, 5, 1], [2.0, 2.0, 1.0]);
//! # let grid = objects.create_spatial("grid.json", &grid).await?;
//! # let grid = evo_objects::ObjectReference::new(&environment, grid.id().unwrap(), None);
//! use std::time::Duration;
//! use evo_compute::tasks::{Ellipsoid, InverseDistance, SearchNeighborhood, Source, Target};
//! use evo_compute::{ComputeClient, TaskResult};
//!
//! // `points` (a point set with a `grade` attribute) and `grid` (a regular grid) are
//! // references to objects of the workspace (evo-objects); here on the embedded emulator.
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
//! assert_eq!((result.target.name.as_str(), result.target.attribute.name.as_str()), ("grid", "grade_idw"));
//!
//! // The grid has the estimates now: one per cell.
//! let grid = objects.get_reference(&grid).await?;
//! assert_eq!(objects.read_attribute(&grid, "grade_idw").await?.rows(), 25);
//! # Ok(()) }
//! ```

mod client;
mod endpoint;
mod error;
mod job;
mod models;
pub mod tasks;

pub use client::{ComputeClient, ComputeClientBuilder, DEFAULT_CONCURRENCY};
pub use endpoint::PREVIEW_HEADER;
pub use error::Error;
pub use job::{Job, JobId};
pub use models::{
    JobError, JobProgress, JobResults, JobStatus, TaskAttribute, TaskResult, TaskTarget,
};
pub use tasks::{GenericTask, Task};

/// Re-export of evo-core's polling (the poller and the outcome of a wait).
pub use evo_core::polling;
