//! End to end: `evo objects` against the emulator (which validates posted objects against
//! their JSON Schemas and refuses references to data it does not hold): a point set imported
//! from CSV and from Parquet, listed, shown, exported to CSV and Parquet and compared value by
//! value, versions, delete and restore, failures, a corrupted download, and `evo watch objects`.

use crate::support;

use std::time::Duration;

use evo_emulator::{Fault, FaultPlan, RouteClass};
use serde_json::Value;
use support::{Env, read_csv};
use tokio::io::{AsyncBufReadExt, BufReader};

async fn signed_in() -> Env {
    let env = Env::start().await;
    env.login_service().await;
    env.run(&["workspaces", "use", "Survey North"]).await.ok();
    env
}

/// A CSV of `n` points with a float, an integer and a text attribute (one value missing).
fn points_csv(n: usize) -> String {
    let mut csv = String::from("x,y,z,grade,hole,rock\n");
    for i in 0..n {
        let grade = if i == 3 {
            String::new()
        } else {
            format!("{}", i as f64 * 0.25)
        };
        let rock = if i % 2 == 0 {
            "granite"
        } else {
            "basalt, weathered"
        };
        csv.push_str(&format!(
            "{},{},{},{grade},{},\"{rock}\"\n",
            i as f64 * 1.5,
            -(i as f64),
            100.0 + i as f64 / 8.0,
            i * 10
        ));
    }
    csv
}

fn listed_paths(listing: &Value) -> Vec<String> {
    listing
        .as_array()
        .expect("array")
        .iter()
        .map(|o| {
            let folder = o["path"].as_str().unwrap().trim_matches('/');
            let name = o["name"].as_str().unwrap();
            if folder.is_empty() {
                name.to_owned()
            } else {
                format!("{folder}/{name}")
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_list_show_export_version_delete_and_restore() {
    let env = signed_in().await;
    std::fs::write(env.path("points.csv"), points_csv(50)).unwrap();

    let created = env
        .run(&[
            "--json",
            "objects",
            "import",
            "points.csv",
            "evo:surveys/points.json",
            "--epsg",
            "32750",
        ])
        .await
        .ok()
        .json();
    assert_eq!(created["points"], 50, "{created}");
    assert_eq!(
        created["attributes"],
        serde_json::json!(["grade", "hole", "rock"])
    );
    assert!(created["bytes_uploaded"].as_u64().unwrap() > 0);
    let id = created["object_id"].as_str().unwrap().to_owned();
    let first_version = created["version_id"].as_str().unwrap().to_owned();

    // The same path again is a conflict; --replace saves a new version, and tables the
    // server holds already are not sent again.
    env.run(&["objects", "import", "points.csv", "evo:surveys/points.json"])
        .await
        .code(5);
    let again = env
        .run(&[
            "--json",
            "objects",
            "import",
            "points.csv",
            "surveys/points.json",
            "--replace",
            "--description",
            "second",
            "--epsg",
            "32750",
        ])
        .await
        .ok()
        .json();
    assert_eq!(again["object_id"], id.as_str());
    assert_eq!(again["bytes_uploaded"], 0, "{again}");
    assert_eq!(again["files_uploaded"], 0);
    assert_ne!(again["version_id"], first_version.as_str());

    // Listing, as JSON and as a table, filtered by folder and schema.
    let listed = env.run(&["--json", "objects", "ls"]).await.ok().json();
    assert_eq!(listed_paths(&listed), ["surveys/points.json"]);
    let by_schema = env
        .run(&["--json", "objects", "ls", "--schema", "pointset"])
        .await
        .ok()
        .json();
    assert_eq!(listed_paths(&by_schema), ["surveys/points.json"]);
    let other = env
        .run(&["--json", "objects", "ls", "--schema", "triangle-mesh"])
        .await
        .ok()
        .json();
    assert_eq!(listed_paths(&other), Vec::<String>::new());
    let none = env
        .run(&["--json", "objects", "ls", "evo:elsewhere"])
        .await
        .ok()
        .json();
    assert_eq!(listed_paths(&none), Vec::<String>::new());
    let table = env.run(&["objects", "ls", "surveys"]).await.ok();
    assert!(table.stdout.contains("surveys/points.json"), "{table:?}");
    assert!(table.stdout.contains("pointset 1.3.0"), "{table:?}");

    // get: a summary with the tables, the whole answer, or the object JSON alone.
    let shown = env
        .run(&["objects", "get", "surveys/points.json"])
        .await
        .ok();
    for word in ["positions", "grade", "hole", "rock", "pointset", &id] {
        assert!(shown.stdout.contains(word), "{word}: {shown:?}");
    }
    let answer = env
        .run(&["--json", "objects", "get", &id])
        .await
        .ok()
        .json();
    assert_eq!(answer["object"]["description"], "second");
    assert_eq!(
        answer["object"]["coordinate_reference_system"]["epsg_code"],
        32750
    );
    let raw = env
        .run(&["objects", "get", "evo:surveys/points.json", "--raw"])
        .await
        .ok()
        .json();
    assert_eq!(
        raw["schema"],
        "/objects/pointset/1.3.0/pointset.schema.json"
    );
    assert_eq!(raw["locations"]["coordinates"]["length"], 50);
    let old = env
        .run(&[
            "--json",
            "objects",
            "get",
            &id,
            "--object-version",
            &first_version,
        ])
        .await
        .ok()
        .json();
    assert!(old["object"].get("description").is_none(), "{old}");

    let versions = env
        .run(&["--json", "objects", "versions", "surveys/points.json"])
        .await
        .ok()
        .json();
    assert_eq!(versions.as_array().unwrap().len(), 2, "{versions}");
    assert_eq!(versions[1]["version_id"], first_version.as_str());

    // Export to CSV: the positions and each attribute, value for value.
    env.run(&[
        "objects",
        "export",
        "surveys/points.json",
        "out/positions.csv",
    ])
    .await
    .ok();
    let (header, rows) = read_csv(&env.path("out/positions.csv"));
    assert_eq!(header, ["x", "y", "z"]);
    let (_, input) = read_csv(&env.path("points.csv"));
    assert_eq!(rows.len(), 50);
    for (got, want) in rows.iter().zip(&input) {
        for axis in 0..3 {
            let got: f64 = got[axis].parse().unwrap();
            let want: f64 = want[axis].parse().unwrap();
            assert_eq!(got, want);
        }
    }
    for (table, column) in [("grade", 3), ("hole", 4), ("rock", 5)] {
        let out = format!("out/{table}.csv");
        let done = env
            .run(&["--json", "objects", "export", &id, &out, "--table", table])
            .await
            .ok()
            .json();
        assert_eq!(done["rows"], 50);
        let (header, rows) = read_csv(&env.path(&out));
        assert_eq!(header, [table]);
        let values: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
        let expected: Vec<&str> = input.iter().map(|r| r[column].as_str()).collect();
        if table == "grade" {
            // Numbers compare as numbers; the missing value stays missing.
            for (g, e) in values.iter().zip(&expected) {
                assert_eq!(g.parse::<f64>().ok(), e.parse::<f64>().ok());
            }
            assert_eq!(values[3], "");
        } else {
            assert_eq!(values, expected);
        }
    }

    // Export to Parquet: the stored file itself, named by its SHA-256.
    let parquet = env
        .run(&[
            "--json",
            "objects",
            "export",
            "surveys/points.json",
            "out/positions.parquet",
        ])
        .await
        .ok()
        .json();
    let bytes = std::fs::read(env.path("out/positions.parquet")).unwrap();
    assert_eq!(
        parquet["data"].as_str().unwrap(),
        evo_objects::sha256_hex(&bytes)
    );
    assert_eq!(raw["locations"]["coordinates"]["data"], parquet["data"]);

    // ... and imported back from Parquet as another point set with the same positions.
    let copy = env
        .run(&[
            "--json",
            "objects",
            "import",
            "out/positions.parquet",
            "evo:copies/points.json",
            "--name",
            "copy",
        ])
        .await
        .ok()
        .json();
    assert_eq!(copy["points"], 50);
    assert_eq!(
        copy["bytes_uploaded"], 0,
        "the same positions table: {copy}"
    );
    let copied = env
        .run(&["objects", "get", "copies/points.json", "--raw"])
        .await
        .ok()
        .json();
    assert_eq!(copied["name"], "copy");
    assert_eq!(copied["locations"]["coordinates"]["data"], parquet["data"]);

    // Failures: an existing output, an unknown table, a missing object, a bad format.
    let exists = env
        .run(&["objects", "export", &id, "out/positions.csv"])
        .await
        .code(5);
    assert!(exists.stderr.contains("--force"), "{exists:?}");
    env.run(&["objects", "export", &id, "out/positions.csv", "--force"])
        .await
        .ok();
    let unknown = env
        .run(&["objects", "export", &id, "out/x.csv", "--table", "nope"])
        .await
        .code(4);
    assert!(unknown.stderr.contains("grade"), "{unknown:?}");
    env.run(&["objects", "get", "surveys/missing.json"])
        .await
        .code(4);
    env.run(&["objects", "export", &id, "out/x.txt"])
        .await
        .code(2);
    assert!(!env.path("out/x.csv").exists());

    // Delete and restore by path.
    env.run(&["objects", "rm", "evo:surveys/points.json"])
        .await
        .ok();
    let listed = env.run(&["--json", "objects", "ls"]).await.ok().json();
    assert_eq!(listed_paths(&listed), ["copies/points.json"]);
    let deleted = env
        .run(&["--json", "objects", "ls", "--deleted"])
        .await
        .ok()
        .json();
    assert_eq!(deleted[0]["object_id"], id.as_str());
    env.run(&["objects", "rm", "surveys/points.json"])
        .await
        .code(4);
    let restored = env
        .run(&["--json", "objects", "restore", "surveys/points.json"])
        .await
        .ok()
        .json();
    assert_eq!(restored["object_id"], id.as_str());
    let listed = env.run(&["--json", "objects", "ls"]).await.ok().json();
    assert_eq!(
        listed_paths(&listed),
        ["copies/points.json", "surveys/points.json"]
    );
    env.run(&["objects", "restore", "surveys/never.json"])
        .await
        .code(4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tables_are_refused_before_anything_is_sent() {
    let env = signed_in().await;
    std::fs::write(env.path("noz.csv"), "x,y,elevation\n1,2,3\n").unwrap();
    let run = env
        .run(&["objects", "import", "noz.csv", "evo:a.json"])
        .await
        .code(2);
    assert!(
        run.stderr.contains("elevation"),
        "the hint lists the columns: {run:?}"
    );
    // Naming the column works.
    env.run(&[
        "objects",
        "import",
        "noz.csv",
        "evo:a.json",
        "--z",
        "elevation",
    ])
    .await
    .ok();
    std::fs::write(env.path("text.csv"), "x,y,z\n1,2,north\n").unwrap();
    env.run(&["objects", "import", "text.csv", "evo:b.json"])
        .await
        .code(2);
    std::fs::write(env.path("gap.csv"), "x,y,z\n1,2,3\n1,,3\n").unwrap();
    let gap = env
        .run(&["objects", "import", "gap.csv", "evo:b.json"])
        .await
        .code(2);
    assert!(gap.stderr.contains("data row 2"), "{gap:?}");
    std::fs::write(env.path("ragged.csv"), "x,y,z\n1,2,3,4\n").unwrap();
    env.run(&["objects", "import", "ragged.csv", "evo:b.json"])
        .await
        .code(2);
    env.run(&["objects", "import", "missing.csv", "evo:b.json"])
        .await
        .code(1);
    env.run(&["objects", "import", "noz.csv", "evo:bad//path.json"])
        .await
        .code(2);
    let listed = env.run(&["--json", "objects", "ls"]).await.ok().json();
    assert_eq!(listed_paths(&listed), ["a.json"]);
    // A JSON error report for scripts.
    let json_error = env
        .run(&["--json", "objects", "get", "nothing.json"])
        .await
        .code(4);
    let report: Value = serde_json::from_str(&json_error.stderr).expect("JSON on stderr");
    assert_eq!(report["error"]["kind"], "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_download_is_an_error_and_leaves_no_file() {
    let env = signed_in().await;
    std::fs::write(env.path("p.csv"), points_csv(20)).unwrap();
    env.run(&["objects", "import", "p.csv", "evo:p.json"])
        .await
        .ok();
    env.emu
        .set_faults(FaultPlan::none().with(RouteClass::BlobRead, Fault::FlipByte, 1.0));
    for out in ["p.parquet", "p.csv.out"] {
        let mut args = vec!["objects", "export", "p.json", out];
        if out.ends_with(".out") {
            args.extend(["--format", "csv"]);
        }
        let run = env.run(&args).await.code(1);
        assert!(run.stderr.contains("SHA-256"), "{run:?}");
        assert!(!env.path(out).exists(), "{out} was left behind");
    }
    let leftovers: Vec<_> = std::fs::read_dir(env.work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".evo-export"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    env.emu.set_faults(FaultPlan::none());
    env.run(&["objects", "export", "p.json", "p.parquet"])
        .await
        .ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_objects_prints_changes_as_they_happen() {
    let env = signed_in().await;
    std::fs::write(env.path("p.csv"), points_csv(5)).unwrap();
    let mut watcher = env
        .command(&[
            "--json",
            "watch",
            "objects",
            "--interval-ms",
            "100",
            "--seconds",
            "40",
        ])
        .spawn()
        .expect("evo watch");
    let mut lines = BufReader::new(watcher.stdout.take().unwrap()).lines();
    let mut next = async |wanted: &str| -> Value {
        tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                let line = lines.next_line().await.unwrap().expect("still running");
                let event: Value = serde_json::from_str(&line).expect("JSON line");
                if event["event"] == wanted {
                    return event;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {wanted} event within 20 s"))
    };
    let first = next("snapshot").await;
    assert_eq!(first["count"], 0);
    env.run(&["objects", "import", "p.csv", "evo:live/p.json"])
        .await
        .ok();
    let added = next("added").await;
    assert_eq!(added["kind"], "object");
    assert_eq!(added["name"], "live/p.json");
    env.run(&[
        "objects",
        "import",
        "p.csv",
        "evo:live/p.json",
        "--replace",
        "--epsg",
        "4326",
    ])
    .await
    .ok();
    let changed = next("changed").await;
    assert_eq!(changed["id"], added["id"]);
    assert_ne!(changed["version_id"], added["version_id"]);
    env.run(&["objects", "rm", "live/p.json"]).await.ok();
    let removed = next("removed").await;
    assert_eq!(removed["id"], added["id"]);
    watcher.kill().await.ok();
}
