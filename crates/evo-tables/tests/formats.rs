//! Table formats: validation names the column, inference picks the format the Python SDK
//! picks, table infos from object JSON describe their format, builders check their input.

use crate::support;

use std::sync::Arc;

use evo_tables::arrow_array::{
    ArrayRef, DictionaryArray, Float32Array, Float64Array, Int32Array, LargeStringArray,
    StringArray, TimestampMicrosecondArray, UInt64Array, types::Int32Type,
};
use evo_tables::arrow_schema::{DataType, Field, Schema};
use evo_tables::{ColumnType, FormatProblem, TableError, TableFormat, TableInfo};

fn schema(types: &[DataType]) -> Schema {
    Schema::new(
        types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                Field::new(
                    ["x", "y", "z", "w"].get(i).copied().unwrap_or("v"),
                    t.clone(),
                    false,
                )
            })
            .collect::<Vec<_>>(),
    )
}

#[test]
fn validation_errors_name_the_column_and_what_was_expected() {
    let err = TableFormat::FLOAT_ARRAY_3
        .validate(&schema(&[
            DataType::Float64,
            DataType::Float64,
            DataType::Int32,
        ]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "table does not match float-array-3: column 2 (z): expected float64, found int32"
    );
    assert_eq!(
        err.problem,
        FormatProblem::ColumnType {
            index: 2,
            name: "z".into(),
            expected: "float64".into(),
            found: "int32".into()
        }
    );

    let err = TableFormat::FLOAT_ARRAY_3
        .validate(&schema(&[DataType::Float64, DataType::Float64]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "table does not match float-array-3: expected 3 columns, found 2"
    );

    let err = TableFormat::FLOAT_ARRAY_MD
        .validate(&schema(&[]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "table does not match float-array-md: expected at least 1 column(s), found 0"
    );

    let err = TableFormat::STRING_ARRAY
        .validate(&schema(&[DataType::LargeUtf8]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "table does not match string-array: column 0 (x): expected string, found LargeUtf8 (no Evo type)"
    );

    // A timestamp must be microseconds in UTC, as pyarrow's timestamp("us", tz="UTC").
    let naive = DataType::Timestamp(evo_tables::arrow_schema::TimeUnit::Microsecond, None);
    let err = TableFormat::DATE_TIME_ARRAY
        .validate(&schema(&[naive]))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("column 0 (x): expected timestamp, found Timestamp(µs)"),
        "{err}"
    );

    let err = TableFormat::DOWNHOLE_COLLECTION_LOCATION_HOLES
        .validate(&schema(&[
            DataType::Int32,
            DataType::UInt64,
            DataType::Int64,
        ]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "table does not match downhole-collection-location-holes: column 2 (z): expected uint64, found int64"
    );

    // Names and nullability are free.
    TableFormat::LOOKUP_TABLE_INT32
        .validate(&schema(&[DataType::Int32, DataType::Utf8]))
        .unwrap();
}

#[test]
fn every_format_accepts_its_own_schema_and_its_data_type_is_the_schemas() {
    let expected = [
        ("float-array-1", Some(1), "float64"),
        ("float-array-2", Some(2), "float64"),
        ("float-array-3", Some(3), "float64"),
        ("float-array-6", Some(6), "float64"),
        ("float-array-md", None, "float64"),
        ("index-array-1", Some(1), "uint64"),
        ("index-array-2", Some(2), "uint64"),
        ("index-array-3", Some(3), "uint64"),
        ("index-array-4", Some(4), "uint64"),
        ("index-array-8", Some(8), "uint64"),
        ("integer-array-1-int32", Some(1), "int32"),
        ("integer-array-1-int64", Some(1), "int64"),
        ("integer-array-md-int32", None, "int32"),
        ("integer-array-md-int64", None, "int64"),
        ("bool-array-1", Some(1), "bool"),
        ("bool-array-md", None, "bool"),
        ("brep-container-brep", Some(1), "uint8"),
        ("color-array", Some(1), "uint32"),
        ("date-time-array", Some(1), "timestamp"),
        ("string-array", Some(1), "string"),
        (
            "downhole-collection-location-holes",
            Some(3),
            "int32/uint64/uint64",
        ),
        (
            "unstructured-grid-geometry-cells",
            Some(3),
            "int32/uint64/int32",
        ),
        ("lines-2d-indices", Some(3), "uint64/uint64/float64"),
        ("lookup-table-int32", Some(2), "int32/string"),
        ("lookup-table-int64", Some(2), "int64/string"),
    ];
    assert_eq!(TableFormat::ALL.len(), expected.len());
    for (format, (name, width, data_type)) in TableFormat::ALL.iter().zip(expected) {
        assert_eq!(format.name(), name);
        assert_eq!(format.width(), width, "{name}");
        assert_eq!(format.data_type(), data_type, "{name}");
        assert_eq!(TableFormat::by_name(name), Some(format));
        let table = support::sample_table(format, 3, false);
        format.validate(&table.schema()).unwrap();
    }
}

#[test]
fn inference_prefers_fixed_widths_and_reports_unknown_columns() {
    let infer =
        |types: &[DataType]| TableFormat::infer(&schema(types)).map(|f| f.name().to_owned());
    assert_eq!(
        infer(&[DataType::Float64, DataType::Float64, DataType::Float64]).unwrap(),
        "float-array-3"
    );
    assert_eq!(
        infer(&[
            DataType::Float64,
            DataType::Float64,
            DataType::Float64,
            DataType::Float64
        ])
        .unwrap(),
        "float-array-md"
    );
    assert_eq!(
        infer(&[
            DataType::UInt64,
            DataType::UInt64,
            DataType::UInt64,
            DataType::UInt64,
            DataType::UInt64,
            DataType::UInt64,
            DataType::UInt64,
            DataType::UInt64
        ])
        .unwrap(),
        "index-array-8"
    );
    assert_eq!(infer(&[DataType::Int32]).unwrap(), "integer-array-1-int32");
    assert_eq!(
        infer(&[DataType::Int64, DataType::Int64]).unwrap(),
        "integer-array-md-int64"
    );
    assert_eq!(infer(&[DataType::Boolean]).unwrap(), "bool-array-1");
    assert_eq!(
        infer(&[DataType::Int32, DataType::Utf8]).unwrap(),
        "lookup-table-int32"
    );
    assert_eq!(
        infer(&[DataType::UInt64, DataType::UInt64, DataType::Float64]).unwrap(),
        "lines-2d-indices"
    );
    let err = infer(&[DataType::Float32, DataType::Utf8]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "table does not match a known table format: no known table format has the columns Float32 (no Evo type)/string"
    );
    // Among chosen candidates only.
    let candidates = [TableFormat::INDEX_ARRAY_1];
    assert!(TableFormat::infer_among(&schema(&[DataType::Float64]), &candidates).is_err());
}

fn info(json: serde_json::Value) -> TableInfo {
    serde_json::from_value(json).unwrap()
}

#[test]
fn a_table_info_describes_its_format() {
    let id = "a".repeat(64);
    let f = TableFormat::from_info(&info(
        serde_json::json!({"data": id, "length": 3, "width": 3, "data_type": "float64"}),
    ))
    .unwrap();
    assert_eq!(f.name(), "float-array-3");
    assert_eq!(f.column_types(), &[ColumnType::Float64; 3]);

    let f = TableFormat::from_info(&info(
        serde_json::json!({"data": id, "length": 3, "width": 5, "data_type": "float64"}),
    ))
    .unwrap();
    assert_eq!(f.name(), "float64 x5");
    assert_eq!(f.width(), Some(5));

    let f = TableFormat::from_info(&info(
        serde_json::json!({"data": id, "length": 3, "keys_data_type": "int64", "values_data_type": "string"}),
    ))
    .unwrap();
    assert_eq!(f.name(), "lookup-table-int64");

    let f = TableFormat::from_info(&info(
        serde_json::json!({"data": id, "length": 3, "data_type": "timestamp"}),
    ))
    .unwrap();
    assert_eq!(f.name(), "date-time-array");

    let f = TableFormat::from_info(&info(
        serde_json::json!({"data": id, "length": 3, "width": 3, "data_type": "int32/uint64/int32"}),
    ))
    .unwrap();
    assert_eq!(f.name(), "unstructured-grid-geometry-cells");

    // Untrusted JSON: nonsense is an InvalidInfo error, never a panic or a huge allocation.
    for bad in [
        serde_json::json!({"data": id, "length": 3, "width": 3, "data_type": "float32"}),
        serde_json::json!({"data": id, "length": 3, "width": 2, "data_type": "int32/uint64/int32"}),
        serde_json::json!({"data": id, "length": 3, "width": 0, "data_type": "float64"}),
        serde_json::json!({"data": id, "length": 3, "width": 1_000_000_000_000u64, "data_type": "float64"}),
        serde_json::json!({"data": id, "length": 3}),
        serde_json::json!({"data": id, "length": 3, "keys_data_type": "int32"}),
    ] {
        let err = TableFormat::from_info(&info(bad.clone())).unwrap_err();
        assert!(matches!(err, TableError::InvalidInfo(_)), "{bad}: {err}");
    }
    assert!(
        serde_json::from_value::<TableInfo>(serde_json::json!({"data": id, "length": -1})).is_err()
    );
}

#[test]
fn builders_make_tables_of_their_format() {
    let points = evo_tables::positions(
        Float64Array::from(vec![1.0, 2.0]),
        Float64Array::from(vec![3.0, 4.0]),
        Float64Array::from(vec![5.0, 6.0]),
    )
    .unwrap();
    assert_eq!(points.schema().field(1).name(), "y");
    TableFormat::FLOAT_ARRAY_3
        .validate(&points.schema())
        .unwrap();

    let err = evo_tables::positions(
        Float64Array::from(vec![1.0, 2.0]),
        Float64Array::from(vec![3.0]),
        Float64Array::from(vec![5.0, 6.0]),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "column 1 (y) has 1 rows, the columns before it have 2"
    );

    let (batch, format) = evo_tables::attribute(
        "grade",
        Arc::new(Float64Array::from(vec![Some(0.5), None])) as ArrayRef,
    )
    .unwrap();
    assert_eq!(format.name(), "float-array-1");
    assert_eq!(batch.schema().field(0).name(), "grade");
    let stamps = TimestampMicrosecondArray::from(vec![1, 2]).with_timezone("UTC");
    let (_, format) = evo_tables::attribute("t", Arc::new(stamps)).unwrap();
    assert_eq!(format.name(), "date-time-array");
    let (_, format) = evo_tables::attribute("s", Arc::new(StringArray::from(vec!["a"]))).unwrap();
    assert_eq!(format.name(), "string-array");
    let err = evo_tables::attribute("f", Arc::new(Float32Array::from(vec![1.0]))).unwrap_err();
    assert!(err.to_string().contains("Float32"), "{err}");
    // Large strings are plain strings with another offset width: accepted as such.
    let (batch, format) =
        evo_tables::attribute("l", Arc::new(LargeStringArray::from(vec!["a", "b"]))).unwrap();
    assert_eq!(format.name(), "string-array");
    assert_eq!(batch.schema().field(0).data_type(), &DataType::Utf8);

    let err = TableFormat::INDEX_ARRAY_2
        .batch([("a", Arc::new(UInt64Array::from(vec![1u64])) as ArrayRef)])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "table does not match index-array-2: expected 2 columns, found 1"
    );
}

#[test]
fn a_dictionary_of_strings_becomes_category_values_and_a_lookup_table() {
    let rocks: DictionaryArray<Int32Type> =
        vec![Some("granite"), Some("basalt"), None, Some("granite")]
            .into_iter()
            .collect();
    let (values, lookup) = evo_tables::category("rock", &rocks).unwrap();
    TableFormat::INTEGER_ARRAY_1_INT32
        .validate(&values.schema())
        .unwrap();
    TableFormat::LOOKUP_TABLE_INT32
        .validate(&lookup.schema())
        .unwrap();
    let keys = values
        .column(0)
        .as_any()
        .downcast_ref::<Int32Array>()
        .unwrap();
    assert_eq!(
        keys.iter().collect::<Vec<_>>(),
        vec![Some(0), Some(1), None, Some(0)]
    );
    let lk = lookup
        .column(0)
        .as_any()
        .downcast_ref::<Int32Array>()
        .unwrap();
    let lv = lookup
        .column(1)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    assert_eq!(lk.values().to_vec(), vec![0, 1]);
    assert_eq!(
        lv.iter().collect::<Vec<_>>(),
        vec![Some("granite"), Some("basalt")]
    );

    let numbers: DictionaryArray<Int32Type> = DictionaryArray::new(
        Int32Array::from(vec![0]),
        Arc::new(Float64Array::from(vec![1.0])),
    );
    let err = evo_tables::category("n", &numbers).unwrap_err();
    assert_eq!(
        err.to_string(),
        "table does not match category (dictionary of strings): column 1 (value): expected string, found float64"
    );
}
