//! Simulation and distribution tasks: conditioned simulation, conditional turning bands, the
//! simulation report, location-wise statistics, continuous distributions.

use std::collections::BTreeMap;

use evo_objects::ObjectReference;
use serde::Serialize;

use super::common::{
    BlockDiscretisation, Filter, ObjectOnly, SearchNeighborhood, Source, TargetAttribute,
    check_range,
};
use super::economics::MaterialCategory;
use super::estimation::DEFAULT_SEED;
use super::geostatistics_task;
use crate::error::Error;

/// The upper tail of a distribution: extrapolated with `power` up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UpperTail {
    /// In `(0, 1]`.
    pub power: f64,
    /// The largest value.
    pub max: f64,
}

/// The lower tail of a distribution: extrapolated with `power` down to `min`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LowerTail {
    /// In `(0, 1]`.
    pub power: f64,
    /// The smallest value.
    pub min: f64,
}

/// How the tails of a distribution are extrapolated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TailExtrapolation {
    /// The upper tail.
    pub upper: UpperTail,
    /// The lower tail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lower: Option<LowerTail>,
}

impl TailExtrapolation {
    fn check(&self) -> Result<(), Error> {
        let check = |p: f64| {
            if p > 0.0 && p <= 1.0 {
                Ok(())
            } else {
                Err(Error::Invalid(format!(
                    "tail power must be in (0, 1], not {p}"
                )))
            }
        };
        check(self.upper.power)?;
        self.lower.map_or(Ok(()), |l| check(l.power))
    }
}

/// The distribution a simulation draws from.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct SimulationDistribution {
    /// The attribute expression of declustering weights.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights: Option<String>,
    /// The tails. The service requires the key even when there are none, and a `lower` tail
    /// key even when there is none (both sent as `null`, as the Python SDK does).
    #[serde(serialize_with = "tails_with_every_key")]
    pub tail_extrapolation: Option<TailExtrapolation>,
}

/// A simulation's tails with `lower` written even when absent (`null`); `null` without tails.
fn tails_with_every_key<S: serde::Serializer>(
    tails: &Option<TailExtrapolation>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct EveryKey<'a> {
        upper: &'a UpperTail,
        lower: &'a Option<LowerTail>,
    }
    tails
        .as_ref()
        .map(|t| EveryKey {
            upper: &t.upper,
            lower: &t.lower,
        })
        .serialize(serializer)
}

/// The loss calculation run inside a conditioned simulation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConSimLossCalculation {
    /// The material categories.
    pub material_categories: Vec<MaterialCategory>,
    /// Processing cost.
    pub processing_cost: f64,
    /// Cost of mining waste.
    pub mining_waste_cost: f64,
    /// Cost of mining ore.
    pub mining_ore_cost: f64,
    /// The fraction recovered, in `[0, 1]`.
    pub metal_recovery_fraction: f64,
    /// Where the loss goes.
    pub target_attribute: TargetAttribute,
}

/// One line of a report's context.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportContextItem {
    /// The label.
    pub label: String,
    /// The value.
    pub value: String,
}

/// The title and details shown on a validation report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportContext {
    /// The title.
    pub title: String,
    /// 1 to 10 details (the simulation report also takes none).
    pub details: Vec<ReportContextItem>,
}

/// When a simulated mean counts as acceptable or marginal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReportMeanThresholds {
    /// At least 0.
    pub acceptable: f64,
    /// At least 0.
    pub marginal: f64,
}

fn check_count(what: &str, value: u32, min: u32, max: u32) -> Result<(), Error> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{what} must be {min} to {max}, not {value}"
        )))
    }
}

/// `consim`: conditioned simulation, with optional summaries, loss calculation and validation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConditionedSimulation {
    /// The point set's reference URL.
    pub source_object: String,
    /// The attribute expression of the values.
    pub source_attribute: String,
    /// The grid's reference URL.
    pub target_object: String,
    /// Only the target locations passing this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// Only the source locations passing this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_filter: Option<Filter>,
    /// Which samples condition each node.
    pub neighborhood: SearchNeighborhood,
    /// The variogram's reference URL.
    pub variogram_model: String,
    /// Points per block.
    pub block_discretization: BlockDiscretisation,
    /// The distribution drawn from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<SimulationDistribution>,
    /// `simple` (default) or `ordinary`.
    pub kriging_method: String,
    /// Turning-band lines, 1 to 1000 (default 500).
    pub number_of_lines: u32,
    /// Realisations, 1 to 100 (default 1).
    pub number_of_simulations: u32,
    /// The random seed.
    pub random_seed: i64,
    /// Realisations written out, 0 to 100 (default 5).
    pub number_of_simulations_to_save: u32,
    /// A loss calculation over the realisations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_calculation: Option<ConSimLossCalculation>,
    /// Quantiles per location.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_wise_quantiles: Option<Vec<f64>>,
    /// Probabilities above these cutoffs per location.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probability_above_cutoff: Option<Vec<f64>>,
    /// Means above these cutoffs per location.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_above_cutoff: Option<Vec<f64>>,
    /// Writes a validation report.
    pub perform_validation: bool,
    /// The report's context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_context: Option<ReportContext>,
    /// The report's thresholds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_mean_thresholds: Option<ReportMeanThresholds>,
}

impl ConditionedSimulation {
    /// Simulates `source_attribute` of `source` on `target` with `variogram`, with the Python
    /// SDK's defaults for the rest.
    pub fn new(
        source: &ObjectReference,
        source_attribute: impl Into<String>,
        target: &ObjectReference,
        variogram: &ObjectReference,
        neighborhood: SearchNeighborhood,
    ) -> Self {
        ConditionedSimulation {
            source_object: source.to_url().to_string(),
            source_attribute: source_attribute.into(),
            target_object: target.to_url().to_string(),
            filter: None,
            source_filter: None,
            neighborhood,
            variogram_model: variogram.to_url().to_string(),
            block_discretization: BlockDiscretisation::default(),
            distribution: None,
            kriging_method: "simple".into(),
            number_of_lines: 500,
            number_of_simulations: 1,
            random_seed: DEFAULT_SEED,
            number_of_simulations_to_save: 5,
            loss_calculation: None,
            location_wise_quantiles: None,
            probability_above_cutoff: None,
            mean_above_cutoff: None,
            perform_validation: false,
            report_context: None,
            report_mean_thresholds: None,
        }
    }
    /// The number of realisations (1 to 100).
    pub fn with_simulations(mut self, n: u32) -> Self {
        self.number_of_simulations = n;
        self
    }
    /// The random seed.
    pub fn with_seed(mut self, seed: i64) -> Self {
        self.random_seed = seed;
        self
    }
    fn check(&self) -> Result<(), Error> {
        self.neighborhood.check()?;
        self.block_discretization.check()?;
        check_kriging_method(&self.kriging_method)?;
        check_count("number_of_lines", self.number_of_lines, 1, 1000)?;
        check_count("number_of_simulations", self.number_of_simulations, 1, 100)?;
        check_count(
            "number_of_simulations_to_save",
            self.number_of_simulations_to_save,
            0,
            100,
        )?;
        if let Some(t) = self
            .distribution
            .as_ref()
            .and_then(|d| d.tail_extrapolation)
        {
            t.check()?;
        }
        if let Some(l) = &self.loss_calculation {
            l.material_categories
                .iter()
                .try_for_each(MaterialCategory::check)?;
            check_range(
                "metal_recovery_fraction",
                l.metal_recovery_fraction,
                0.0,
                1.0,
            )?;
        }
        if let Some(c) = &self.report_context {
            check_count("report details", c.details.len() as u32, 1, 10)?;
        }
        Ok(())
    }
}
geostatistics_task!(ConditionedSimulation, "consim");

fn check_kriging_method(method: &str) -> Result<(), Error> {
    match method {
        "simple" | "ordinary" => Ok(()),
        other => Err(Error::Invalid(format!(
            "kriging_method is simple or ordinary, not {other:?}"
        ))),
    }
}

/// `conditional-turning-bands`: conditional simulation by turning bands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConditionalTurningBands {
    /// The point set's reference URL.
    pub source: String,
    /// The attribute expression of the values.
    pub source_attribute: String,
    /// The grid's reference URL.
    pub target: String,
    /// Only the target locations passing this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// Only the source locations passing this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_filter: Option<Filter>,
    /// Which samples condition each node.
    pub neighborhood: SearchNeighborhood,
    /// The distribution object's reference URL.
    pub distribution: String,
    /// The variogram's reference URL.
    pub variogram_model: String,
    /// `simple` (default) or `ordinary`.
    pub kriging_method: String,
    /// Points per block.
    pub block_discretization: BlockDiscretisation,
    /// Lines, 1 to 1000 (default 500).
    pub number_of_lines: u32,
    /// Realisations, 1 to 100 (default 1).
    pub realizations: u32,
    /// The random seed.
    pub random_seed: i64,
}

impl ConditionalTurningBands {
    /// Simulates `source_attribute` of `source` on `target`.
    pub fn new(
        source: &ObjectReference,
        source_attribute: impl Into<String>,
        target: &ObjectReference,
        distribution: &ObjectReference,
        variogram: &ObjectReference,
        neighborhood: SearchNeighborhood,
    ) -> Self {
        ConditionalTurningBands {
            source: source.to_url().to_string(),
            source_attribute: source_attribute.into(),
            target: target.to_url().to_string(),
            filter: None,
            source_filter: None,
            neighborhood,
            distribution: distribution.to_url().to_string(),
            variogram_model: variogram.to_url().to_string(),
            kriging_method: "simple".into(),
            block_discretization: BlockDiscretisation::default(),
            number_of_lines: 500,
            realizations: 1,
            random_seed: DEFAULT_SEED,
        }
    }
    fn check(&self) -> Result<(), Error> {
        self.neighborhood.check()?;
        self.block_discretization.check()?;
        check_kriging_method(&self.kriging_method)?;
        check_count("number_of_lines", self.number_of_lines, 1, 1000)?;
        check_count("realizations", self.realizations, 1, 100)
    }
}
geostatistics_task!(ConditionalTurningBands, "conditional-turning-bands");

/// `simulation-report`: a validation report of existing simulations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimulationReport {
    /// The point set's reference URL.
    pub simulation_source: String,
    /// The attribute expression of the values.
    pub source_attribute: String,
    /// The grid's reference URL.
    pub simulation_target: String,
    /// The point simulations (attribute expression).
    pub point_simulations: String,
    /// Their normal scores.
    pub point_simulations_normal_score: String,
    /// The block simulations.
    pub block_simulations: String,
    /// Their normal scores.
    pub block_simulations_normal_score: String,
    /// The variogram's reference URL.
    pub variogram_model: String,
    /// The neighbourhood.
    pub neighborhood: SearchNeighborhood,
    /// Points per block.
    pub block_discretization: BlockDiscretisation,
    /// The distribution (weights only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<SimulationDistribution>,
    /// The number of simulations (at least 1).
    pub number_of_simulations: u32,
    /// The random seed.
    pub random_seed: i64,
    /// `simple` (default) or `ordinary`.
    pub kriging_method: String,
    /// Lines (at least 1, default 500).
    pub number_of_lines: u32,
    /// The report's context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_context: Option<ReportContext>,
    /// The report's thresholds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_mean_thresholds: Option<ReportMeanThresholds>,
}

impl SimulationReport {
    /// A report of `number_of_simulations` simulations; `simulations` are the four attribute
    /// expressions: point, point normal score, block, block normal score.
    pub fn new(
        source: &ObjectReference,
        source_attribute: impl Into<String>,
        target: &ObjectReference,
        simulations: [String; 4],
        variogram: &ObjectReference,
        neighborhood: SearchNeighborhood,
        number_of_simulations: u32,
    ) -> Self {
        let [p, pn, b, bn] = simulations;
        SimulationReport {
            simulation_source: source.to_url().to_string(),
            source_attribute: source_attribute.into(),
            simulation_target: target.to_url().to_string(),
            point_simulations: p,
            point_simulations_normal_score: pn,
            block_simulations: b,
            block_simulations_normal_score: bn,
            variogram_model: variogram.to_url().to_string(),
            neighborhood,
            block_discretization: BlockDiscretisation::default(),
            distribution: None,
            number_of_simulations,
            random_seed: DEFAULT_SEED,
            kriging_method: "simple".into(),
            number_of_lines: 500,
            report_context: None,
            report_mean_thresholds: None,
        }
    }
    fn check(&self) -> Result<(), Error> {
        self.neighborhood.check()?;
        self.block_discretization.check()?;
        check_kriging_method(&self.kriging_method)?;
        check_count(
            "number_of_simulations",
            self.number_of_simulations,
            1,
            u32::MAX,
        )?;
        check_count("number_of_lines", self.number_of_lines, 1, u32::MAX)?;
        if self
            .distribution
            .as_ref()
            .is_some_and(|d| d.tail_extrapolation.is_some())
        {
            return Err(Error::Invalid(
                "the simulation report takes no tail extrapolation".into(),
            ));
        }
        Ok(())
    }
}
geostatistics_task!(SimulationReport, "simulation-report");

/// Cutoffs of a location-wise statistic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cutoffs {
    /// At least one.
    pub cutoffs: Vec<f64>,
}

/// `location-wise`: per-location statistics of simulations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocationWise {
    /// The simulations.
    pub source: Source,
    /// Where the statistics go.
    pub target: ObjectOnly,
    /// Mean, variance, minimum and maximum.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<bool>,
    /// These quantiles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantiles: Option<Vec<f64>>,
    /// Probabilities above these cutoffs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probability_above_cutoff: Option<Cutoffs>,
    /// Means above these cutoffs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_above_cutoff: Option<Cutoffs>,
}

impl LocationWise {
    /// Statistics of `source` written to `target` (choose them with the fields).
    pub fn new(source: Source, target: &ObjectReference) -> Self {
        LocationWise {
            source,
            target: ObjectOnly::new(target),
            summary: None,
            quantiles: None,
            probability_above_cutoff: None,
            mean_above_cutoff: None,
        }
    }
    /// Mean, variance, minimum and maximum.
    pub fn with_summary(mut self) -> Self {
        self.summary = Some(true);
        self
    }
    /// These quantiles (each in `[0, 1]`).
    pub fn with_quantiles(mut self, quantiles: Vec<f64>) -> Self {
        self.quantiles = Some(quantiles);
        self
    }
    fn check(&self) -> Result<(), Error> {
        for q in self.quantiles.iter().flatten() {
            check_range("quantile", *q, 0.0, 1.0)?;
        }
        for c in [&self.probability_above_cutoff, &self.mean_above_cutoff]
            .into_iter()
            .flatten()
        {
            if c.cutoffs.is_empty() {
                return Err(Error::Invalid("cutoff lists are not empty".into()));
            }
        }
        Ok(())
    }
}
geostatistics_task!(LocationWise, "location-wise");

/// Where a continuous distribution object is written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DistributionTarget {
    /// The distribution object's reference URL (a new path or an existing object).
    pub reference: String,
    /// Overwrites an existing object.
    pub overwrite: bool,
    /// Its description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
}

/// `continuous-distribution`: a distribution object from values (and weights).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContinuousDistribution {
    /// The values.
    pub source: Source,
    /// Declustering weights.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights: Option<Source>,
    /// The tails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tail_extrapolation: Option<TailExtrapolation>,
    /// Where the distribution goes.
    pub target: DistributionTarget,
}

impl ContinuousDistribution {
    /// The distribution of `source`, written to `target`.
    pub fn new(source: Source, target: &ObjectReference) -> Self {
        ContinuousDistribution {
            source,
            weights: None,
            tail_extrapolation: None,
            target: DistributionTarget {
                reference: target.to_url().to_string(),
                overwrite: false,
                description: None,
                tags: BTreeMap::new(),
            },
        }
    }
    fn check(&self) -> Result<(), Error> {
        self.tail_extrapolation.map_or(Ok(()), |t| t.check())
    }
}
geostatistics_task!(ContinuousDistribution, "continuous-distribution");
