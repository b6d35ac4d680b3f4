//! End to end: `evo blockmodels` against the emulator (which really filters queries by
//! columns, box and version): a regular model made through the evo-blockmodels SDK with a
//! float and a text column, listed (human, JSON, deleted), queried to Parquet and to CSV and
//! compared value by value, narrowed by a box of coordinates and of indices, at an older
//! version, and the failures (unknown model, unknown column, existing output).

use crate::support;

use std::sync::Arc;

use evo_blockmodels::evo_tables::arrow_array::cast::AsArray;
use evo_blockmodels::evo_tables::arrow_array::types::{Float64Type, UInt32Type};
use evo_blockmodels::evo_tables::arrow_array::{Array, ArrayRef, Float64Array, StringArray};
use evo_blockmodels::evo_tables::{ReadOptions, TableReader};
use evo_blockmodels::{
    BlockModelsClient, BlockSize, ColumnChanges, NewBlockModel, Size3, SizeOptions,
};
use evo_core::{ApiConnector, Environment, StaticTokenAuthorizer};
use support::{Env, read_csv};
use uuid::Uuid;

/// Blocks along x, y, z.
const N: (u32, u32, u32) = (4, 3, 2);
const BLOCKS: usize = (N.0 * N.1 * N.2) as usize;

/// The block number of `i, j, k` (i fastest), which is also its `Au` value.
fn block(i: u32, j: u32, k: u32) -> u32 {
    i + N.0 * (j + N.1 * k)
}

/// The SDK's client on the seeded workspace, as a test fixture maker.
fn sdk(env: &Env) -> BlockModelsClient {
    let emu = &env.emu;
    let environment = Environment::new(
        emu.hub_url(),
        emu.org_id(),
        emu.organizations()[0].workspaces[0].0,
    );
    let connector = ApiConnector::builder(emu.hub_url())
        .transport(Arc::new(evo_hyper::HyperTransport::new()))
        .authorizer(Arc::new(StaticTokenAuthorizer::new(
            emu.issue_token(&["evo.blocksync"]),
        )))
        .build()
        .unwrap();
    BlockModelsClient::new(environment, connector).unwrap()
}

fn regular(name: &str) -> NewBlockModel {
    NewBlockModel::new(
        name,
        SizeOptions::Regular {
            n_blocks: Size3::new(N.0, N.1, N.2),
            block_size: BlockSize::new(10.0, 10.0, 5.0),
        },
    )
    .origin(1000.0, 2000.0, 300.0)
    .size_unit("m")
}

/// A signed-in `evo` on the seeded workspace, with the model "Pit A": `Au` = block number on
/// every block (version 2), `rock` = `r<block>` on even blocks only.
async fn with_model() -> (Env, Uuid) {
    let env = Env::start().await;
    env.login_service().await;
    env.run(&["workspaces", "use", "Survey North"]).await.ok();
    let client = sdk(&env);
    let (model, _) = client.create(&regular("Pit A")).await.unwrap();
    let au: ArrayRef = Arc::new(Float64Array::from_iter_values(
        (0..BLOCKS).map(|b| b as f64),
    ));
    let rock: ArrayRef = Arc::new(StringArray::from_iter(
        (0..BLOCKS).map(|b| (b % 2 == 0).then(|| format!("r{b}"))),
    ));
    client
        .update_columns(
            model.bm_uuid,
            &ColumnChanges::new()
                .add("Au", au, Some("g/t".into()))
                .add("rock", rock, None),
        )
        .await
        .unwrap();
    (env, model.bm_uuid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_shows_the_models_as_a_table_and_as_json() {
    let (env, id) = with_model().await;
    let client = sdk(&env);
    let (old, _) = client.create(&regular("Old pit")).await.unwrap();
    client.delete(old.bm_uuid).await.unwrap();

    let human = env.run(&["blockmodels", "ls"]).await.ok();
    let lines: Vec<&str> = human.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{human:?}");
    assert!(lines[0].starts_with("NAME") && lines[0].contains("BLOCK SIZE"));
    for expected in [
        "Pit A",
        &id.to_string(),
        "regular",
        "4 x 3 x 2",
        "10 x 10 x 5 m",
    ] {
        assert!(lines[1].contains(expected), "{expected:?} in {lines:?}");
    }
    assert!(!human.stdout.contains("Old pit"));

    let json = env.run(&["bm", "ls", "--json"]).await.ok().json();
    let listed = json.as_array().expect("array");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["bm_uuid"], id.to_string());
    assert_eq!(listed[0]["name"], "Pit A");
    assert_eq!(listed[0]["size_options"]["model_type"], "regular");

    let deleted = env
        .run(&["bm", "ls", "--deleted", "--json"])
        .await
        .ok()
        .json();
    let names: Vec<&str> = deleted
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Old pit"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_writes_parquet_and_csv_with_the_blocks_values() {
    let (env, id) = with_model().await;

    // Parquet, the model named by name: indices and both columns, every block.
    let run = env
        .run(&[
            "bm",
            "query",
            "Pit A",
            "--columns",
            "Au,rock",
            "-o",
            "out/all.parquet",
        ])
        .await
        .ok();
    assert!(run.stdout.contains("24 rows"), "{run:?}");
    let reader = TableReader::open(env.path("out/all.parquet"), &ReadOptions::new()).unwrap();
    assert_eq!(reader.rows(), BLOCKS as u64);
    let schema = reader.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["i", "j", "k", "Au", "rock"]);
    let mut seen = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        let ijk: Vec<&[u32]> = ["i", "j", "k"]
            .iter()
            .map(|c| {
                batch
                    .column_by_name(c)
                    .unwrap()
                    .as_primitive::<UInt32Type>()
                    .values()
                    .as_ref()
            })
            .collect();
        let au = batch
            .column_by_name("Au")
            .unwrap()
            .as_primitive::<Float64Type>();
        let rock = batch.column_by_name("rock").unwrap().as_string::<i32>();
        let (i, j, k) = (ijk[0], ijk[1], ijk[2]);
        for (r, ((i, j), k)) in i.iter().zip(j).zip(k).enumerate() {
            let b = block(*i, *j, *k);
            assert_eq!(au.value(r), f64::from(b));
            if b % 2 == 0 {
                assert_eq!(rock.value(r), format!("r{b}"));
            } else {
                assert!(rock.is_null(r), "block {b} has no rock");
            }
            seen.push(b);
        }
    }
    seen.sort_unstable();
    assert_eq!(seen, (0..BLOCKS as u32).collect::<Vec<_>>());

    // CSV, the model named by id, with centroids; `--json` reports what was written.
    let json = env
        .run(&[
            "bm",
            "query",
            &id.to_string(),
            "-c",
            "rock,Au",
            "--coordinates",
            "-o",
            "all.csv",
            "--json",
        ])
        .await
        .ok()
        .json();
    assert_eq!(json["rows"], BLOCKS);
    assert_eq!(json["format"], "csv");
    assert_eq!(json["version_id"], 2);
    let (header, rows) = read_csv(&env.path("all.csv"));
    assert_eq!(header, ["x", "y", "z", "rock", "Au"]);
    assert_eq!(rows.len(), BLOCKS);
    for row in &rows {
        let n = |c: usize| row[c].parse::<f64>().unwrap();
        // Centroids: 1005 + 10 i, 2005 + 10 j, 302.5 + 5 k.
        let (i, j, k) = (
            (n(0) - 1005.0) / 10.0,
            (n(1) - 2005.0) / 10.0,
            (n(2) - 302.5) / 5.0,
        );
        let b = block(i as u32, j as u32, k as u32);
        assert_eq!(n(4), f64::from(b), "{row:?}");
        let rock = if b % 2 == 0 {
            format!("r{b}")
        } else {
            String::new()
        };
        assert_eq!(row[3], rock, "{row:?}");
    }

    // Only the rock column: blocks without one are left out unless asked for.
    let json = env
        .run(&[
            "bm", "query", "Pit A", "-c", "rock", "-o", "rock.csv", "--json",
        ])
        .await
        .ok()
        .json();
    assert_eq!(json["rows"], BLOCKS / 2);
    assert_eq!(read_csv(&env.path("rock.csv")).1.len(), BLOCKS / 2);
    let json = env
        .run(&[
            "bm",
            "query",
            "Pit A",
            "-c",
            "rock",
            "-o",
            "rock.csv",
            "--include-empty",
            "--force",
            "--json",
        ])
        .await
        .ok()
        .json();
    assert_eq!(json["rows"], BLOCKS);

    // `--format` wins over the extension.
    env.run(&[
        "bm", "query", "Pit A", "-c", "Au", "-o", "au.txt", "--format", "csv",
    ])
    .await
    .ok();
    assert_eq!(read_csv(&env.path("au.txt")).0, ["i", "j", "k", "Au"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boxes_and_versions_narrow_the_query() {
    let (env, _) = with_model().await;
    // Centroids at 1005 + 10 i (i 0..=2 within 1030), 2005 (j 0), 302.5 (k 0).
    env.run(&[
        "bm",
        "query",
        "Pit A",
        "-c",
        "Au",
        "--bbox",
        "1000,1030,2000,2012,300,306",
        "-o",
        "box.csv",
    ])
    .await
    .ok();
    let (_, rows) = read_csv(&env.path("box.csv"));
    let au: Vec<&str> = rows.iter().map(|r| r[3].as_str()).collect();
    assert_eq!(au, ["0", "1", "2"]);

    env.run(&[
        "bm",
        "query",
        "Pit A",
        "-c",
        "Au",
        "--ijk",
        "1,2,2,2,1,1",
        "-o",
        "ijk.parquet",
    ])
    .await
    .ok();
    let reader = TableReader::open(env.path("ijk.parquet"), &ReadOptions::new()).unwrap();
    assert_eq!(reader.rows(), 2);
    let mut values = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        let au = batch
            .column_by_name("Au")
            .unwrap()
            .as_primitive::<Float64Type>();
        values.extend(au.values().iter().copied());
    }
    assert_eq!(
        values,
        [f64::from(block(1, 2, 1)), f64::from(block(2, 2, 1))]
    );

    // Version 1 (made on creation) has no Au yet: every block is empty there.
    let json = env
        .run(&[
            "bm",
            "query",
            "Pit A",
            "-c",
            "*",
            "--model-version",
            "1",
            "--include-empty",
            "-o",
            "v1.csv",
            "--json",
        ])
        .await
        .ok()
        .json();
    assert_eq!(json["version_id"], 1);
    assert_eq!(read_csv(&env.path("v1.csv")).0, ["i", "j", "k"]);

    let bad = env
        .run(&[
            "bm",
            "query",
            "Pit A",
            "-c",
            "Au",
            "--bbox",
            "1,0,0,0,0,0",
            "-o",
            "b.csv",
        ])
        .await
        .code(2);
    assert!(bad.stderr.contains("--bbox"), "{bad:?}");
    let missing = env
        .run(&[
            "bm",
            "query",
            "Pit A",
            "-c",
            "Au",
            "--model-version",
            "9",
            "-o",
            "b.csv",
        ])
        .await
        .code(4);
    assert!(missing.stderr.contains("no version 9"), "{missing:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_models_columns_and_existing_outputs_fail_clearly() {
    let (env, _) = with_model().await;
    let run = env
        .run(&["bm", "query", "Pit Z", "-c", "Au", "-o", "z.parquet"])
        .await
        .code(4);
    assert!(run.stderr.contains("\"Pit Z\""), "{run:?}");
    assert!(run.stderr.contains("evo blockmodels ls"), "{run:?}");
    let run = env
        .run(&[
            "bm",
            "query",
            &Uuid::new_v4().to_string(),
            "-c",
            "Au",
            "-o",
            "z.csv",
        ])
        .await
        .code(4);
    assert!(run.stderr.contains("no block model"), "{run:?}");

    let json = env
        .run(&[
            "bm",
            "query",
            "Pit A",
            "-c",
            "Au,Zn",
            "-o",
            "zn.parquet",
            "--json",
        ])
        .await
        .code(2);
    let error: serde_json::Value = serde_json::from_str(json.stderr.trim()).unwrap();
    assert_eq!(error["error"]["kind"], "usage");
    assert!(
        error["error"]["message"].as_str().unwrap().contains("Zn"),
        "{json:?}"
    );
    let hint = error["error"]["hint"].as_str().unwrap();
    assert!(
        hint.contains("version 2") && hint.contains("Au, rock"),
        "{hint}"
    );
    assert!(!env.path("zn.parquet").exists());
    env.run(&["bm", "query", "Pit A", "-c", "Zn", "-o", "zn.csv"])
        .await
        .code(2);
    assert!(!env.path("zn.csv").exists());

    std::fs::write(env.path("taken.csv"), "keep").unwrap();
    let run = env
        .run(&["bm", "query", "Pit A", "-c", "Au", "-o", "taken.csv"])
        .await
        .code(5);
    assert!(run.stderr.contains("--force"), "{run:?}");
    assert_eq!(
        std::fs::read_to_string(env.path("taken.csv")).unwrap(),
        "keep"
    );
    let run = env
        .run(&["bm", "query", "Pit A", "-c", "Au", "-o", "out.xlsx"])
        .await
        .code(2);
    assert!(run.stderr.contains("--format"), "{run:?}");
}
