//! Tasks: the [`Task`] trait, typed parameters for every geostatistics task of the Python SDK,
//! and [`GenericTask`] for any other.
//!
//! | task (topic `geostatistics`) | parameters |
//! |---|---|
//! | `kriging` (preview: send with [`ComputeClient::with_preview`](crate::ComputeClient::with_preview)) | [`Kriging`] |
//! | `idw` | [`InverseDistance`] |
//! | `knn` | [`NearestNeighbours`] |
//! | `declustering` | [`Declustering`] |
//! | `break-ties` | [`BreakTies`] |
//! | `normal-score` | [`NormalScore`] |
//! | `consim` | [`ConditionedSimulation`] |
//! | `conditional-turning-bands` | [`ConditionalTurningBands`] |
//! | `simulation-report` | [`SimulationReport`] |
//! | `location-wise` | [`LocationWise`] |
//! | `continuous-distribution` | [`ContinuousDistribution`] |
//! | `loss-calculation` | [`LossCalculation`] |
//! | `profit-calculation` | [`ProfitCalculation`] |
//!
//! Each is a struct with public fields, a `new` taking what the task needs, and `with_*`
//! setters for the rest; [`Task::parameters`] checks the ranges the Python SDK checks and
//! writes the JSON it sends. Objects are [`ObjectReference`](evo_objects::ObjectReference)s,
//! attributes are expressions ([`attribute_by_name`]).

mod common;
mod economics;
mod estimation;
mod simulation;

pub use common::{
    BlockDiscretisation, CategoryValue, Ellipsoid, EllipsoidRanges, Filter, FilterExpression,
    FilterOperator, ObjectOnly, Rotation, SearchNeighborhood, Source, Target, TargetAttribute,
    attribute_by_key, attribute_by_name,
};
pub use economics::{LossCalculation, MaterialCategory, ProfitCalculation};
pub use estimation::{
    BreakTies, Declustering, InverseDistance, Kriging, KrigingMethod, NearestNeighbours,
    NormalScore, NormalScoreMethod,
};
pub use simulation::{
    ConSimLossCalculation, ConditionalTurningBands, ConditionedSimulation, ContinuousDistribution,
    Cutoffs, DistributionTarget, LocationWise, LowerTail, ReportContext, ReportContextItem,
    ReportMeanThresholds, SimulationDistribution, SimulationReport, TailExtrapolation, UpperTail,
};

use serde_json::Value;

use crate::error::Error;

/// The topic of every geostatistics task.
pub const GEOSTATISTICS: &str = "geostatistics";

/// Something that can be submitted: a topic, a task name and its parameters.
pub trait Task: Send + Sync {
    /// The topic (`geostatistics`).
    fn topic(&self) -> &str;
    /// The task name (`kriging`, `idw`, …).
    fn task(&self) -> &str;
    /// The parameters as sent, after checking them.
    fn parameters(&self) -> Result<Value, Error>;
}

/// Any task, its parameters given as JSON: the escape hatch for tasks this SDK has no type for.
#[derive(Debug, Clone, PartialEq)]
pub struct GenericTask {
    /// The topic.
    pub topic: String,
    /// The task name.
    pub task: String,
    /// The parameters (a JSON object).
    pub parameters: Value,
}

impl GenericTask {
    /// `task` of `topic` with `parameters`.
    pub fn new(topic: impl Into<String>, task: impl Into<String>, parameters: Value) -> Self {
        GenericTask {
            topic: topic.into(),
            task: task.into(),
            parameters,
        }
    }
}

impl Task for GenericTask {
    fn topic(&self) -> &str {
        &self.topic
    }
    fn task(&self) -> &str {
        &self.task
    }
    fn parameters(&self) -> Result<Value, Error> {
        if self.parameters.is_object() {
            Ok(self.parameters.clone())
        } else {
            Err(Error::Invalid("task parameters are a JSON object".into()))
        }
    }
}

impl<T: Task + ?Sized> Task for &T {
    fn topic(&self) -> &str {
        (**self).topic()
    }
    fn task(&self) -> &str {
        (**self).task()
    }
    fn parameters(&self) -> Result<Value, Error> {
        (**self).parameters()
    }
}

impl<T: Task + ?Sized> Task for Box<T> {
    fn topic(&self) -> &str {
        (**self).topic()
    }
    fn task(&self) -> &str {
        (**self).task()
    }
    fn parameters(&self) -> Result<Value, Error> {
        (**self).parameters()
    }
}

/// Implements [`Task`] for a serializable parameters type with a `check` method.
macro_rules! geostatistics_task {
    ($type:ty, $name:literal) => {
        impl $crate::tasks::Task for $type {
            fn topic(&self) -> &str {
                $crate::tasks::GEOSTATISTICS
            }
            fn task(&self) -> &str {
                $name
            }
            fn parameters(&self) -> Result<serde_json::Value, $crate::error::Error> {
                self.check()?;
                serde_json::to_value(self).map_err(|e| {
                    $crate::error::Error::Invalid(format!("the parameters cannot be written: {e}"))
                })
            }
        }
    };
}
pub(crate) use geostatistics_task;
