//! Create a point set of one million points with two attributes, upload it, read it back and
//! print summary statistics.
//!
//! ```text
//! cargo run --release --example objects
//! ```
//!
//! Starts the embedded Evo emulator (nothing leaves this machine), generates positions and two
//! attributes (a float `grade` and a category `rock`), writes them as the Parquet tables Evo
//! expects, uploads them with a progress bar (only what the server lacks), posts the point set
//! object, then reads it back as its generated type (`evo_objects::generated::PointSet`),
//! downloads its tables with a progress bar (each checked against its SHA-256) and prints
//! per-column statistics.

use std::sync::Arc;
use std::time::Instant;

use evo_core::{ApiConnector, Environment, Progress, StaticTokenAuthorizer};
use evo_emulator::{Emulator, Seed};
use evo_hyper::HyperTransport;
use evo_objects::evo_tables::arrow_array::types::Int32Type;
use evo_objects::evo_tables::arrow_array::{
    Array, DictionaryArray, Float64Array, Int32Array, RecordBatch,
};
use evo_objects::evo_tables::{ReadOptions, TableInfo, TableReader};
use evo_objects::generated::{self as g, GeoscienceObject};
use evo_objects::{Destination, ObjectResponse, ObjectsClient, SpatialObject};
use indicatif::{ProgressBar, ProgressStyle};

const POINTS: usize = 1_000_000;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The embedded emulator, with one workspace.
    let seed = Seed::from_json(
        r#"{"organizations": [{"display_name": "Example Org", "workspaces": [{"name": "Objects example"}]}]}"#,
    )?;
    let emulator = Emulator::builder().seed(seed).start().await?;
    let workspace = emulator.organizations()[0].workspaces[0].0;
    let environment = Environment::new(emulator.hub_url(), emulator.org_id(), workspace);
    println!("emulator on {}, workspace {workspace}", emulator.hub_url());
    let connector = ApiConnector::builder(emulator.hub_url())
        .transport(Arc::new(HyperTransport::new()))
        .authorizer(Arc::new(StaticTokenAuthorizer::new(
            emulator.issue_token(&["evo.object"]),
        )))
        .build()?;
    let objects = ObjectsClient::new(environment, connector)?;

    // Generated data: points on a noisy surface, a grade and a rock type per point.
    println!("generating {POINTS} points ...");
    let mut rng = fastrand::Rng::with_seed(42);
    let x = Float64Array::from_iter_values((0..POINTS).map(|_| rng.f64() * 1000.0));
    let y = Float64Array::from_iter_values((0..POINTS).map(|_| rng.f64() * 1000.0));
    let z = Float64Array::from_iter_values(
        x.values()
            .iter()
            .zip(y.values())
            .map(|(x, y)| (x / 100.0).sin() * 20.0 + y * 0.01),
    );
    let grade = Float64Array::from_iter_values(z.values().iter().map(|z| (z + 30.0) * 0.1));
    let rocks = ["granite", "basalt", "schist", "gneiss"];
    let rock: DictionaryArray<Int32Type> = DictionaryArray::try_new(
        Int32Array::from_iter_values((0..POINTS).map(|_| rng.i32(0..4))),
        Arc::new(evo_objects::evo_tables::arrow_array::StringArray::from(
            rocks.to_vec(),
        )),
    )?;
    let positions = evo_objects::evo_tables::positions(x, y, z)?;
    let point_set = SpatialObject::point_set("Example points", positions)
        .epsg(32760)
        .attribute("grade", Arc::new(grade))
        .attribute("rock", Arc::new(rock));

    // Write the tables, upload them with progress, then post the object.
    let started = Instant::now();
    let (json, files) = objects.encode_spatial(&point_set).await?;
    let total: u64 = files.iter().map(|f| f.len()).sum();
    println!(
        "{} Parquet tables, {:.1} MiB, written in {:.2?}",
        files.len(),
        total as f64 / 1048576.0,
        started.elapsed()
    );
    let bar = progress_bar(total, "upload");
    let feedback = |p: &Progress| bar.set_position(p.bytes_done);
    let started = Instant::now();
    let report = objects.upload_data(&files, Some(&feedback)).await?;
    bar.finish();
    println!(
        "uploaded {} files ({} bytes) in {:.2?}; {} already there",
        report.uploaded.len(),
        report.bytes_uploaded,
        started.elapsed(),
        report.skipped.len()
    );
    let created = objects.create("examples/points.json", &json).await?;
    println!(
        "created {} (object {}, version {})",
        created.object_path.as_deref().unwrap_or("?"),
        created.id().map(|i| i.to_string()).unwrap_or_default(),
        created.version_id
    );
    let again = objects.upload_data(&files, None).await?;
    println!(
        "saving the same data again sends {} bytes",
        again.bytes_uploaded
    );

    // Read back: the object, then each table with progress, checked against its SHA-256.
    let object = objects
        .get_by_path("examples/points.json", &evo_objects::GetOptions::new())
        .await?;
    // The object typed: the generated `PointSet`, its tables found by their fields.
    let GeoscienceObject::PointSet(typed) = GeoscienceObject::from_value(object.object.clone())
    else {
        return Err("the object read back is not a point set".into());
    };
    let started = Instant::now();
    let coordinates = evo_objects::table_info(&typed.locations.coordinates)?;
    let positions = read(&objects, &object, &coordinates).await?;
    println!(
        "read {} positions in {:.2?}",
        rows(&positions),
        started.elapsed()
    );
    for (i, axis) in ["x", "y", "z"].iter().enumerate() {
        print_stats(axis, &positions, i);
    }
    for attribute in typed.locations.attributes.iter().flatten() {
        match attribute {
            g::OneOfAttributeItem::ContinuousAttribute(a) => {
                let batches = read(&objects, &object, &evo_objects::table_info(&a.values)?).await?;
                print_stats(&a.name, &batches, 0);
            }
            g::OneOfAttributeItem::CategoryAttribute(a) => {
                let batches = read(&objects, &object, &evo_objects::table_info(&a.values)?).await?;
                let mut counts = [0u64; 4];
                for b in &batches {
                    let keys = b
                        .column(0)
                        .as_any()
                        .downcast_ref::<Int32Array>()
                        .ok_or("keys")?;
                    for k in keys.iter().flatten() {
                        counts[k as usize % 4] += 1;
                    }
                }
                let lookup = read(&objects, &object, &evo_objects::table_info(&a.table)?).await?;
                println!("{:>8}: {} categories", a.name, rows(&lookup));
                for (rock, n) in rocks.iter().zip(counts) {
                    println!("{:>8}  {rock:<8} {n:>8}", "");
                }
            }
            _ => {}
        }
    }
    emulator.shutdown().await;
    Ok(())
}

/// Downloads one table with a progress bar and decodes it.
async fn read(
    objects: &ObjectsClient,
    object: &ObjectResponse,
    info: &TableInfo,
) -> Result<Vec<RecordBatch>, Box<dyn std::error::Error>> {
    let bar = progress_bar(0, "download");
    let feedback = |p: &Progress| {
        if let Some(total) = p.bytes_total {
            bar.set_length(total);
        }
        bar.set_position(p.bytes_done);
    };
    let report = objects
        .download_data(object, &info.data, Destination::memory(), Some(&feedback))
        .await?;
    bar.finish_and_clear();
    let reader =
        TableReader::from_bytes(report.into_bytes(), &ReadOptions::new().expect_info(info)?)?;
    Ok(reader.collect::<Result<Vec<_>, _>>()?)
}

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

fn print_stats(name: &str, batches: &[RecordBatch], column: usize) {
    let (mut n, mut sum, mut min, mut max) = (0u64, 0.0, f64::INFINITY, f64::NEG_INFINITY);
    for b in batches {
        if let Some(values) = b.column(column).as_any().downcast_ref::<Float64Array>() {
            for v in values.iter().flatten().filter(|v| !v.is_nan()) {
                n += 1;
                sum += v;
                min = min.min(v);
                max = max.max(v);
            }
        }
    }
    let mean = if n > 0 { sum / n as f64 } else { f64::NAN };
    println!("{name:>8}: n {n:>8}  min {min:>10.3}  max {max:>10.3}  mean {mean:>10.3}");
}

fn progress_bar(len: u64, label: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>8} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    bar.set_prefix(label);
    bar
}
