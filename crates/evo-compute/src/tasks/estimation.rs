//! Estimation and transformation tasks: kriging, inverse distance, nearest neighbours,
//! declustering, breaking ties, normal scores.

use evo_objects::ObjectReference;
use serde::Serialize;

use super::common::{BlockDiscretisation, ObjectOnly, SearchNeighborhood, Source, Target};
use super::geostatistics_task;
use crate::error::Error;

/// The default random seed of the Python SDK.
pub(crate) const DEFAULT_SEED: i64 = 38_239_342;

/// Simple kriging (with a known mean) or ordinary kriging.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum KrigingMethod {
    /// Simple kriging around `mean`.
    Simple {
        /// The known mean.
        mean: f64,
    },
    /// Ordinary kriging (the default).
    Ordinary,
}

/// `kriging`: estimates from a variogram model (a preview task).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kriging {
    /// The known values.
    pub source: Source,
    /// Where the estimates go.
    pub target: Target,
    /// The variogram object's reference URL.
    pub variogram: String,
    /// Which samples each estimate uses.
    pub neighborhood: SearchNeighborhood,
    /// Simple or ordinary.
    pub kriging_method: KrigingMethod,
    /// Block kriging with this discretisation (point kriging without); sent as
    /// `block_discretization`, the name the service and the Python SDK use.
    #[serde(
        rename = "block_discretization",
        skip_serializing_if = "Option::is_none"
    )]
    pub block_discretisation: Option<BlockDiscretisation>,
}

impl Kriging {
    /// Ordinary point kriging of `source` onto `target` with `variogram`.
    pub fn new(
        source: Source,
        target: Target,
        variogram: &ObjectReference,
        neighborhood: SearchNeighborhood,
    ) -> Self {
        Kriging {
            source,
            target,
            variogram: variogram.to_url().to_string(),
            neighborhood,
            kriging_method: KrigingMethod::Ordinary,
            block_discretisation: None,
        }
    }
    /// Simple or ordinary kriging.
    pub fn with_method(mut self, method: KrigingMethod) -> Self {
        self.kriging_method = method;
        self
    }
    /// Block kriging.
    pub fn with_block_discretisation(mut self, d: BlockDiscretisation) -> Self {
        self.block_discretisation = Some(d);
        self
    }
    fn check(&self) -> Result<(), Error> {
        self.neighborhood.check()?;
        self.block_discretisation.map_or(Ok(()), |d| d.check())
    }
}
geostatistics_task!(Kriging, "kriging");

/// `idw`: inverse distance weighting, weights `1 / distance^power` in the space of the
/// search ellipsoid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InverseDistance {
    /// The known values.
    pub source: Source,
    /// Where the estimates go.
    pub target: Target,
    /// Which samples each estimate uses.
    pub neighborhood: SearchNeighborhood,
    /// The distance exponent (positive; 2 is classic).
    pub power: f64,
}

impl InverseDistance {
    /// Inverse distance weighting with `power`.
    pub fn new(
        source: Source,
        target: Target,
        neighborhood: SearchNeighborhood,
        power: f64,
    ) -> Self {
        InverseDistance {
            source,
            target,
            neighborhood,
            power,
        }
    }
    fn check(&self) -> Result<(), Error> {
        self.neighborhood.check()?;
        if !(self.power.is_finite() && self.power > 0.0) {
            return Err(Error::Invalid(format!(
                "power must be positive, not {}",
                self.power
            )));
        }
        Ok(())
    }
}
geostatistics_task!(InverseDistance, "idw");

/// `knn`: the mean of the nearest samples in the search ellipsoid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearestNeighbours {
    /// The known values.
    pub source: Source,
    /// Where the estimates go.
    pub target: Target,
    /// Which samples each estimate uses (`max_samples` is k).
    pub neighborhood: SearchNeighborhood,
}

impl NearestNeighbours {
    /// The mean of the nearest `neighborhood.max_samples` samples.
    pub fn new(source: Source, target: Target, neighborhood: SearchNeighborhood) -> Self {
        NearestNeighbours {
            source,
            target,
            neighborhood,
        }
    }
    fn check(&self) -> Result<(), Error> {
        self.neighborhood.check()
    }
}
geostatistics_task!(NearestNeighbours, "knn");

/// `declustering`: declustering weights of a point set's samples, from a grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Declustering {
    /// The point set.
    pub source: ObjectOnly,
    /// The grid.
    pub grid: ObjectOnly,
    /// Where the weights go.
    pub target: Target,
    /// Which samples count.
    pub neighborhood: SearchNeighborhood,
    /// The inverse distance exponent (default 2; `None` is sent as `null`).
    pub power: Option<f64>,
}

impl Declustering {
    /// Declustering of `source` on `grid`, power 2.
    pub fn new(
        source: &ObjectReference,
        grid: &ObjectReference,
        target: Target,
        neighborhood: SearchNeighborhood,
    ) -> Self {
        Declustering {
            source: ObjectOnly::new(source),
            grid: ObjectOnly::new(grid),
            target,
            neighborhood,
            power: Some(2.0),
        }
    }
    /// The exponent (`None`: the service's choice).
    pub fn with_power(mut self, power: Option<f64>) -> Self {
        self.power = power;
        self
    }
    fn check(&self) -> Result<(), Error> {
        self.neighborhood.check()?;
        match self.power {
            Some(p) if !(p.is_finite() && p > 0.0) => {
                Err(Error::Invalid(format!("power must be positive, not {p}")))
            }
            _ => Ok(()),
        }
    }
}
geostatistics_task!(Declustering, "declustering");

/// `break-ties`: breaks ties between equal values with random jitter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakTies {
    /// The values.
    pub source: Source,
    /// Where the tie-free values go.
    pub target: Target,
    /// The neighbourhood used to order ties.
    pub neighborhood: SearchNeighborhood,
    /// The random seed.
    pub seed: i64,
}

impl BreakTies {
    /// Breaks ties with the default seed.
    pub fn new(source: Source, target: Target, neighborhood: SearchNeighborhood) -> Self {
        BreakTies {
            source,
            target,
            neighborhood,
            seed: DEFAULT_SEED,
        }
    }
    /// The random seed.
    pub fn with_seed(mut self, seed: i64) -> Self {
        self.seed = seed;
        self
    }
    fn check(&self) -> Result<(), Error> {
        self.neighborhood.check()
    }
}
geostatistics_task!(BreakTies, "break-ties");

/// Into normal scores, or back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NormalScoreMethod {
    /// Values to normal scores.
    Forward,
    /// Normal scores to values.
    Backward,
}

/// `normal-score`: the normal score transform with a distribution object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NormalScore {
    /// Forward or backward.
    pub method: NormalScoreMethod,
    /// The values.
    pub source: Source,
    /// Where the transformed values go.
    pub target: Target,
    /// The distribution object's reference URL.
    pub distribution: String,
}

impl NormalScore {
    /// Transforms `source` with `distribution`.
    pub fn new(
        method: NormalScoreMethod,
        source: Source,
        target: Target,
        distribution: &ObjectReference,
    ) -> Self {
        NormalScore {
            method,
            source,
            target,
            distribution: distribution.to_url().to_string(),
        }
    }
    fn check(&self) -> Result<(), Error> {
        Ok(())
    }
}
geostatistics_task!(NormalScore, "normal-score");
