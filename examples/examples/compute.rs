//! Inverse distance weighting on the embedded emulator: a point set of samples with a grade,
//! a regular grid, the estimate written onto the grid, read back with statistics, and a
//! continuous colormap attached to it.
//!
//! ```text
//! cargo run --example compute
//! ```

use std::sync::Arc;
use std::time::Duration;

use evo_colormaps::{Association, ColormapsClient, ContinuousColormap};
use evo_compute::tasks::{Ellipsoid, InverseDistance, SearchNeighborhood, Source, Target};
use evo_compute::{ComputeClient, TaskResult};
use evo_core::{ApiConnector, Environment, StaticTokenAuthorizer};
use evo_emulator::{Emulator, Seed};
use evo_hyper::HyperTransport;
use evo_objects::evo_tables::arrow_array::{Array, Float64Array};
use evo_objects::{GetOptions, ObjectReference, ObjectsClient, SpatialObject};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seed = Seed::from_json(
        r#"{"organizations": [{"display_name": "Example Org", "workspaces": [{"name": "Compute example"}]}]}"#,
    )?;
    let emulator = Emulator::builder().seed(seed).start().await?;
    let workspace = emulator.organizations()[0].workspaces[0].0;
    let environment = Environment::new(emulator.hub_url(), emulator.org_id(), workspace);
    let connector = ApiConnector::builder(emulator.hub_url())
        .transport(Arc::new(HyperTransport::new()))
        .authorizer(Arc::new(StaticTokenAuthorizer::new(
            emulator.issue_token(&["evo.object"]),
        )))
        .build()?;
    let objects = ObjectsClient::new(environment.clone(), connector.clone())?;
    let compute = ComputeClient::new(environment.org_id, connector.clone())?;
    let colormaps = ColormapsClient::new(environment.clone(), connector)?;

    // 200 samples over a 1 km square, the grade rising to the north-east with some noise.
    let mut rng = fastrand::Rng::with_seed(7);
    let n = 200;
    let x = Float64Array::from_iter_values((0..n).map(|_| rng.f64() * 1000.0));
    let y = Float64Array::from_iter_values((0..n).map(|_| rng.f64() * 1000.0));
    let z = Float64Array::from_iter_values((0..n).map(|_| 5.0));
    let grade = Float64Array::from_iter_values(
        x.values()
            .iter()
            .zip(y.values())
            .map(|(x, y)| (x + y) / 400.0 + rng.f64()),
    );
    let positions = evo_objects::evo_tables::positions(x, y, z)?;
    let samples = objects
        .create_spatial(
            "compute/samples.json",
            &SpatialObject::point_set("samples", positions).attribute("grade", Arc::new(grade)),
        )
        .await?;
    let grid = objects
        .create_spatial(
            "compute/grid.json",
            &SpatialObject::regular_grid("grid", [0.0, 0.0, 0.0], [20, 20, 1], [50.0, 50.0, 10.0]),
        )
        .await?;
    let samples = ObjectReference::new(&environment, samples.id().ok_or("no id")?, None);
    let grid_id = grid.id().ok_or("no id")?;
    let grid = ObjectReference::new(&environment, grid_id, None);

    // Inverse distance weighting onto the grid.
    let idw = InverseDistance::new(
        Source::point_set_attribute(&samples, "grade"),
        Target::new_attribute(&grid, "grade_idw"),
        SearchNeighborhood::new(Ellipsoid::sphere(300.0), 12).with_min_samples(3),
        2.0,
    );
    let job = compute.submit(&idw).await?.cancel_on_drop(true);
    println!("submitted {}", job.status_url());
    let outcome = job
        .wait_with(compute.poller(Some(Duration::from_secs(120))), |p| {
            println!("  {p}")
        })
        .await?;
    let value = outcome.done().ok_or("the job did not succeed")?;
    let result: TaskResult = serde_json::from_value(value)?;
    println!("{} -> {}", result.message, result.target.reference);

    // Read the estimate back.
    let latest = objects.get_by_id(grid_id, &GetOptions::new()).await?;
    let mut estimates = Vec::new();
    for batch in objects.read_attribute(&latest, "grade_idw").await? {
        let batch = batch?;
        let col = batch
            .column(0)
            .as_any()
            .downcast_ref::<Float64Array>()
            .ok_or("not floats")?
            .clone();
        estimates.extend(
            (0..col.len())
                .filter(|&i| !col.is_null(i))
                .map(|i| col.value(i)),
        );
    }
    let count = estimates.len();
    let mean = estimates.iter().sum::<f64>() / count.max(1) as f64;
    let min = estimates.iter().copied().fold(f64::INFINITY, f64::min);
    let max = estimates.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    println!(
        "grade_idw: {count} of 400 cells estimated, mean {mean:.3}, min {min:.3}, max {max:.3}"
    );

    // A continuous colormap over the estimated range, attached to the new attribute.
    let heat = ContinuousColormap {
        colors: vec![[49, 54, 149], [255, 255, 191], [165, 0, 38]],
        attribute_controls: vec![min, max],
        gradient_controls: vec![0.0, 1.0],
    };
    let stored = colormaps
        .create_colormap(&heat.into(), "grade heat")
        .await?;
    let association = colormaps
        .create_association(grid_id, &Association::new("grade_idw", stored.id))
        .await?;
    println!(
        "colormap {} attached to grade_idw ({})",
        stored.id, association.self_link
    );
    emulator.shutdown().await;
    Ok(())
}
