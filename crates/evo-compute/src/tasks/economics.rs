//! Economic tasks: loss and profit calculations over material categories.

use serde::Serialize;

use super::common::{Source, Target, check_range};
use super::geostatistics_task;
use crate::error::Error;

/// A material category: above `cutoff_grade` material sells at `metal_price`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaterialCategory {
    /// The cutoff grade (at least 0).
    pub cutoff_grade: f64,
    /// The metal price (at least 0).
    pub metal_price: f64,
    /// The category's label.
    pub label: String,
}

impl MaterialCategory {
    /// A category.
    pub fn new(label: impl Into<String>, cutoff_grade: f64, metal_price: f64) -> Self {
        MaterialCategory {
            cutoff_grade,
            metal_price,
            label: label.into(),
        }
    }
    pub(crate) fn check(&self) -> Result<(), Error> {
        check_range("cutoff_grade", self.cutoff_grade, 0.0, f64::MAX)?;
        check_range("metal_price", self.metal_price, 0.0, f64::MAX)
    }
}

/// The costs and recovery shared by the loss and profit calculations.
macro_rules! economic_task {
    ($type:ident, $name:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, PartialEq, Serialize)]
        pub struct $type {
            /// The grades (typically simulations).
            pub source: Source,
            /// Where the result goes.
            pub target: Target,
            /// The material categories.
            pub material_categories: Vec<MaterialCategory>,
            /// Processing cost (at least 0).
            pub processing_cost: f64,
            /// Cost of mining waste (at least 0).
            pub mining_waste_cost: f64,
            /// Cost of mining ore (at least 0).
            pub mining_ore_cost: f64,
            /// The fraction of metal recovered, in `[0, 1]`.
            pub metal_recovery_fraction: f64,
        }

        impl $type {
            /// The calculation with these categories and costs.
            pub fn new(
                source: Source,
                target: Target,
                material_categories: Vec<MaterialCategory>,
                processing_cost: f64,
                mining_waste_cost: f64,
                mining_ore_cost: f64,
                metal_recovery_fraction: f64,
            ) -> Self {
                $type {
                    source,
                    target,
                    material_categories,
                    processing_cost,
                    mining_waste_cost,
                    mining_ore_cost,
                    metal_recovery_fraction,
                }
            }
            fn check(&self) -> Result<(), Error> {
                self.material_categories
                    .iter()
                    .try_for_each(MaterialCategory::check)?;
                check_range("processing_cost", self.processing_cost, 0.0, f64::MAX)?;
                check_range("mining_waste_cost", self.mining_waste_cost, 0.0, f64::MAX)?;
                check_range("mining_ore_cost", self.mining_ore_cost, 0.0, f64::MAX)?;
                check_range(
                    "metal_recovery_fraction",
                    self.metal_recovery_fraction,
                    0.0,
                    1.0,
                )
            }
        }
        geostatistics_task!($type, $name);
    };
}

economic_task!(
    LossCalculation,
    "loss-calculation",
    "`loss-calculation`: the expected economic loss of classifying material."
);
economic_task!(
    ProfitCalculation,
    "profit-calculation",
    "`profit-calculation`: the expected profit of material categories."
);
