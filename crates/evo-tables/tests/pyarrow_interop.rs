//! Interop with pyarrow (the peers' venv), both ways, for every known format: pyarrow reads the
//! files evo-tables writes with identical values and the column types the Python SDK accepts;
//! evo-tables reads the files pyarrow writes the way the Python SDK writes them
//! (`pq.write_table(table, version="2.4", compression="gzip")`) with identical values.

use crate::support;

use std::path::Path;
use std::process::Command;

use std::sync::Arc;

use evo_tables::arrow_array::{LargeStringArray, RecordBatch};
use evo_tables::{ReadOptions, TableFormat, TableReader, WriteOptions, write_to_dir};
use serde_json::{Value, json};

const SCRIPT: &str = r#"
import json, sys
import pyarrow as pa
import pyarrow.parquet as pq

TYPES = {"float64": pa.float64(), "uint8": pa.uint8(), "uint32": pa.uint32(),
         "uint64": pa.uint64(), "int32": pa.int32(), "int64": pa.int64(), "bool": pa.bool_(),
         "string": pa.string(), "timestamp": pa.timestamp("us", tz="UTC")}
# The column type names of the Python SDK (evo.objects.utils.tables._ColumnFormat._get_format_id):
# a type missing here is one the SDK refuses.
IDS = {"double": "float64", "uint8": "uint8", "uint32": "uint32", "uint64": "uint64",
       "int32": "int32", "int64": "int64", "bool": "bool", "string": "string",
       "timestamp[us, tz=UTC]": "timestamp"}

job = json.load(open(sys.argv[1]))
out = {}
for item in job["read"]:
    pf = pq.ParquetFile(item["path"])
    table = pf.read()
    ids = [IDS.get(str(t), "unsupported " + str(t)) for t in table.schema.types]
    columns = []
    for col in table.columns:
        if pa.types.is_timestamp(col.type):
            col = col.cast(pa.int64())
        columns.append(col.to_pylist())
    md = pf.metadata
    chunks = [md.row_group(r).column(c) for r in range(md.num_row_groups) for c in range(md.num_columns)]
    out[item["path"]] = {
        "ids": ids,
        "data_type": ids[0] if len(set(ids)) == 1 else "/".join(ids),
        "names": table.column_names,
        "columns": columns,
        "rows": md.num_rows,
        "row_groups": md.num_row_groups,
        "format_version": md.format_version,
        "compressions": sorted({c.compression for c in chunks}),
        "dictionary_pages": any(c.has_dictionary_page for c in chunks),
    }
for item in job["write"]:
    types = dict(TYPES, string=pa.large_string()) if item.get("large_strings") else TYPES
    arrays = [pa.array(c["values"], type=types[c["type"]]) for c in item["columns"]]
    table = pa.Table.from_arrays(arrays, names=[c["name"] for c in item["columns"]])
    pq.write_table(table=table, where=item["path"], version="2.4", compression="gzip",
                   store_schema=item.get("store_schema", True))
json.dump(out, sys.stdout)
"#;

fn run_python(dir: &Path, job: &Value) -> Value {
    let script = dir.join("interop.py");
    let job_path = dir.join("job.json");
    std::fs::write(&script, SCRIPT).unwrap();
    std::fs::write(&job_path, serde_json::to_vec(job).unwrap()).unwrap();
    let output = Command::new(evo_testkit::python())
        .arg(&script)
        .arg(&job_path)
        .output()
        .expect("running the peers' python");
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn columns_json(format: &TableFormat, table: &RecordBatch) -> Value {
    let values = support::table_json(std::slice::from_ref(table));
    let columns: Vec<Value> = table
        .schema()
        .fields()
        .iter()
        .zip(values)
        .enumerate()
        .map(|(i, (field, values))| {
            json!({"name": field.name(), "type": format.column_type(i).unwrap().name(), "values": values})
        })
        .collect();
    Value::Array(columns)
}

#[test]
fn pyarrow_and_evo_tables_read_each_others_files_for_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let rust_dir = dir.path().join("rust");
    let py_dir = dir.path().join("py");
    std::fs::create_dir_all(&rust_dir).unwrap();
    std::fs::create_dir_all(&py_dir).unwrap();

    let mut reads = Vec::new();
    let mut writes = Vec::new();
    let mut cases = Vec::new();
    for format in TableFormat::ALL {
        let table = support::sample_table(format, 200, true);
        let stored = write_to_dir(
            &rust_dir,
            format,
            table.schema(),
            [&table],
            &WriteOptions::default(),
        )
        .unwrap();
        let py_path = py_dir.join(format!("{}.parquet", format.name()));
        reads.push(json!({"path": stored.path}));
        writes.push(json!({"path": py_path, "columns": columns_json(format, &table)}));
        cases.push((format, table, stored, py_path));
    }
    // A table of several row groups.
    let big_format = &TableFormat::FLOAT_ARRAY_3;
    let big = support::sample_table(big_format, 100_000, true);
    let big_stored = write_to_dir(
        &rust_dir,
        big_format,
        big.schema(),
        [&big],
        &WriteOptions::new().max_row_group_rows(30_000),
    )
    .unwrap();
    reads.push(json!({"path": big_stored.path}));

    let out = run_python(dir.path(), &json!({"read": reads, "write": writes}));

    for (format, table, stored, py_path) in &cases {
        // pyarrow reads evo-tables' file.
        let seen = &out[stored.path.to_str().unwrap()];
        let ids: Vec<&str> = format
            .column_types()
            .iter()
            .map(|t| t.name())
            .cycle()
            .take(table.num_columns())
            .collect();
        assert_eq!(seen["ids"], json!(ids), "{format}");
        assert_eq!(seen["data_type"], json!(format.data_type()), "{format}");
        if let Some(data_type) = &stored.table.info.data_type {
            assert_eq!(&seen["data_type"], data_type, "{format}");
        }
        let names: Vec<String> = table
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(seen["names"], json!(names), "{format}");
        assert_eq!(
            seen["columns"],
            json!(support::table_json(std::slice::from_ref(table))),
            "{format}"
        );
        assert_eq!(seen["rows"], 200, "{format}");
        assert_eq!(seen["compressions"], json!(["GZIP"]), "{format}");
        assert_eq!(seen["dictionary_pages"], false, "{format}");
        // Footer version 2: pyarrow shows it as "2.6", as it shows its own version="2.4" files.
        assert_eq!(seen["format_version"], "2.6", "{format}");

        // evo-tables reads pyarrow's file, checked against the format and length.
        let options = ReadOptions::new()
            .expect_format((*format).clone())
            .expect_length(200);
        let batches = TableReader::open(py_path, &options)
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert_eq!(
            support::table_json(&batches),
            support::table_json(std::slice::from_ref(table)),
            "{format}"
        );
        for (a, b) in batches[0]
            .schema()
            .fields()
            .iter()
            .zip(table.schema().fields())
        {
            assert_eq!(a.data_type(), b.data_type(), "{format}");
        }
    }

    let seen = &out[big_stored.path.to_str().unwrap()];
    assert_eq!(seen["row_groups"], 4);
    assert_eq!(seen["rows"], 100_000);
    assert_eq!(
        seen["columns"],
        json!(support::table_json(std::slice::from_ref(&big)))
    );
}

#[test]
fn other_spellings_of_evo_types_cross_as_the_evo_types() {
    let dir = tempfile::tempdir().unwrap();
    // evo-tables writes a large-string table as plain strings (the Python SDK casts them too).
    let large = RecordBatch::try_from_iter([(
        "name",
        Arc::new(LargeStringArray::from(vec![Some("a"), None, Some("ü")])) as _,
    )])
    .unwrap();
    let stored = write_to_dir(
        dir.path(),
        &TableFormat::STRING_ARRAY,
        large.schema(),
        [&large],
        &WriteOptions::default(),
    )
    .unwrap();
    assert_eq!(stored.table.info.data_type.as_deref(), Some("string"));

    // pyarrow writes large strings, and timestamps without the embedded Arrow schema (so the
    // file says only "adjusted to UTC").
    let strings = support::sample_table(&TableFormat::LOOKUP_TABLE_INT32, 50, true);
    let stamps = support::sample_table(&TableFormat::DATE_TIME_ARRAY, 50, true);
    let large_path = dir.path().join("large.parquet");
    let bare_path = dir.path().join("bare.parquet");
    let job = json!({
        "read": [{"path": stored.path}],
        "write": [
            {"path": large_path, "large_strings": true,
             "columns": columns_json(&TableFormat::LOOKUP_TABLE_INT32, &strings)},
            {"path": bare_path, "store_schema": false,
             "columns": columns_json(&TableFormat::DATE_TIME_ARRAY, &stamps)},
        ],
    });
    let out = run_python(dir.path(), &job);
    let seen = &out[stored.path.to_str().unwrap()];
    assert_eq!(seen["ids"], json!(["string"]));
    assert_eq!(seen["columns"], json!([["a", null, "ü"]]));

    for (path, format, table) in [
        (&large_path, &TableFormat::LOOKUP_TABLE_INT32, &strings),
        (&bare_path, &TableFormat::DATE_TIME_ARRAY, &stamps),
    ] {
        let options = ReadOptions::new().expect_format(format.clone());
        let batches = TableReader::open(path, &options)
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert_eq!(batches[0].schema().fields().len(), table.num_columns());
        for (a, b) in batches[0]
            .schema()
            .fields()
            .iter()
            .zip(table.schema().fields())
        {
            assert_eq!(a.data_type(), b.data_type(), "{format}");
        }
        assert_eq!(
            support::table_json(&batches),
            support::table_json(std::slice::from_ref(table)),
            "{format}"
        );
    }
}
