//! Create a 200 × 200 × 100 regular block model, add a grade column computed from a generated
//! field, query a sub-box back and print statistics.
//!
//! ```text
//! cargo run --release --example blockmodel
//! ```
//!
//! Starts the embedded Evo emulator (nothing leaves this machine), creates the model (4 million
//! blocks of 10 × 10 × 5 m), computes a grade for every block from a smooth generated field
//! plus noise, writes it as Parquet and uploads it with a progress bar, follows the update job
//! to its new version, then queries the grade of a sub-box (with block centroids), downloads
//! it with a progress bar and prints statistics of what came back.

use std::sync::Arc;
use std::time::Instant;

use evo_blockmodels::evo_tables::arrow_array::Float64Array;
use evo_blockmodels::evo_tables::arrow_array::cast::AsArray;
use evo_blockmodels::evo_tables::arrow_array::types::Float64Type;
use evo_blockmodels::{
    BBox, BlockModelsClient, BlockSize, ColumnChanges, GeometryColumns, JobEvent, NewBlockModel,
    Query, Size3, SizeOptions,
};
use evo_core::{ApiConnector, Environment, Progress, StaticTokenAuthorizer};
use evo_emulator::{Emulator, Seed};
use evo_hyper::HyperTransport;
use futures_util::StreamExt as _;
use indicatif::{ProgressBar, ProgressStyle};

const N: (u32, u32, u32) = (200, 200, 100);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seed = Seed::from_json(
        r#"{"organizations": [{"display_name": "Example Org", "workspaces": [{"name": "Block models"}]}]}"#,
    )?;
    let emulator = Emulator::builder().seed(seed).start().await?;
    // Jobs take a little while, as on the real service, so the progress shows.
    emulator.set_blockmodel_job_delay(std::time::Duration::from_millis(400));
    let workspace = emulator.organizations()[0].workspaces[0].0;
    let environment = Environment::new(emulator.hub_url(), emulator.org_id(), workspace);
    println!("emulator on {}, workspace {workspace}", emulator.hub_url());
    let connector = ApiConnector::builder(emulator.hub_url())
        .transport(Arc::new(HyperTransport::new()))
        .authorizer(Arc::new(StaticTokenAuthorizer::new(
            emulator.issue_token(&["evo.blocksync"]),
        )))
        .build()?;
    let client = BlockModelsClient::new(environment, connector)?;

    let started = Instant::now();
    let (model, first) = client
        .create(
            &NewBlockModel::new(
                "Example pit",
                SizeOptions::Regular {
                    n_blocks: Size3::new(N.0, N.1, N.2),
                    block_size: BlockSize::new(10.0, 10.0, 5.0),
                },
            )
            .origin(500_000.0, 7_000_000.0, -200.0)
            .coordinate_reference_system("EPSG:32750")
            .size_unit("m")
            .description("generated grades"),
        )
        .await?;
    let blocks = model.size_options.regular_block_count().unwrap_or(0) as usize;
    println!(
        "created {} ({blocks} blocks), version {} in {:.2?}",
        model.bm_uuid,
        first.version_id,
        started.elapsed()
    );

    // A grade per block in block order (i fastest): a smooth field plus noise.
    let started = Instant::now();
    let mut rng = fastrand::Rng::with_seed(7);
    let (nx, ny) = (N.0 as usize, N.1 as usize);
    let grade = Float64Array::from_iter_values((0..blocks).map(|b| {
        let (i, j, k) = (b % nx, (b / nx) % ny, b / (nx * ny));
        let field = ((i as f64) / 25.0).sin() * ((j as f64) / 30.0).cos() + (k as f64) / 100.0;
        (1.5 + field + rng.f64() * 0.2).max(0.0)
    }));
    println!("generated the grades in {:.2?}", started.elapsed());

    let started = Instant::now();
    let bar = bytes_bar("upload");
    let feedback = |p: &Progress| {
        if let Some(total) = p.bytes_total {
            bar.set_length(total);
        }
        bar.set_position(p.bytes_done);
    };
    let job = client
        .start_update_columns(
            model.bm_uuid,
            &ColumnChanges::new()
                .add("grade", Arc::new(grade), Some("g/t".into()))
                .comment("generated grade"),
            Some(&feedback),
        )
        .await?;
    bar.finish();
    let spinner = ProgressBar::new_spinner();
    spinner.enable_steady_tick(std::time::Duration::from_millis(80));
    let mut events = Box::pin(job.watch());
    let mut version = None;
    while let Some(event) = events.next().await {
        match event? {
            JobEvent::Status(status) => spinner.set_message(format!("update job {status:?}")),
            JobEvent::Complete(v) => version = Some(v),
            _ => {}
        }
    }
    let version = version.ok_or("the job ended without a version")?;
    spinner.finish_with_message(format!("version {} ready", version.version_id));
    println!("column added in {:.2?}", started.elapsed());

    // A sub-box: 50 × 40 × 20 blocks, with centroids.
    let started = Instant::now();
    let bar = bytes_bar("download");
    let feedback = |p: &Progress| {
        if let Some(total) = p.bytes_total {
            bar.set_length(total);
        }
        bar.set_position(p.bytes_done);
    };
    let dir = tempfile::tempdir()?;
    let result = client
        .query_to_file(
            model.bm_uuid,
            &Query::new(["grade"])
                .bbox(BBox::indices((50, 99), (100, 139), (10, 29)))
                .geometry(GeometryColumns::Coordinates),
            dir.path().join("grade.parquet"),
            Some(&feedback),
        )
        .await?;
    bar.finish();
    let (mut rows, mut sum, mut min, mut max) = (0usize, 0.0, f64::INFINITY, f64::NEG_INFINITY);
    let (mut zmin, mut zmax) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut batches = Box::pin(result.batches());
    while let Some(batch) = batches.next().await {
        let batch = batch?;
        let grade = batch
            .column_by_name("grade")
            .ok_or("grade")?
            .as_primitive::<Float64Type>();
        let z = batch
            .column_by_name("z")
            .ok_or("z")?
            .as_primitive::<Float64Type>();
        rows += batch.num_rows();
        for v in grade.iter().flatten() {
            sum += v;
            min = min.min(v);
            max = max.max(v);
        }
        for v in z.values() {
            zmin = zmin.min(*v);
            zmax = zmax.max(*v);
        }
    }
    println!("queried the sub-box in {:.2?}", started.elapsed());
    println!(
        "grade over {rows} blocks: mean {:.4}, min {min:.4}, max {max:.4}; centroid z {zmin} to {zmax}",
        sum / rows.max(1) as f64
    );
    emulator.shutdown().await;
    Ok(())
}

fn bytes_bar(label: &str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{label:>8} [{{bar:40}}] {{bytes}}/{{total_bytes}} {{bytes_per_sec}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}
