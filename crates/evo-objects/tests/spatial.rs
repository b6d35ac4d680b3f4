//! Spatial objects from Arrow arrays, offline: what is checked before any request, and the
//! JSON the constructors write (schema, bounding box, table infos, attribute kinds).

#![cfg(feature = "arrow")]

use crate::common;

use std::sync::Arc;

use common::mock_client;
use evo_objects::evo_tables::arrow_array::{
    ArrayRef, BooleanArray, DictionaryArray, Float64Array, Int32Array, RecordBatch, StringArray,
    UInt64Array, types::Int32Type,
};
use evo_objects::{Error, SpatialObject, schema_ids};
use serde_json::{Value, json};

fn positions(n: usize) -> RecordBatch {
    evo_objects::evo_tables::positions(
        Float64Array::from_iter_values((0..n).map(|i| i as f64)),
        Float64Array::from_iter_values((0..n).map(|i| -(i as f64))),
        Float64Array::from_iter_values((0..n).map(|i| i as f64 * 0.5)),
    )
    .unwrap()
}

#[tokio::test]
async fn wrong_tables_are_refused_before_any_request() {
    let (mock, client) = mock_client();
    // Two columns instead of three.
    let two = RecordBatch::try_from_iter([
        ("x", Arc::new(Float64Array::from(vec![1.0])) as ArrayRef),
        ("y", Arc::new(Float64Array::from(vec![1.0])) as ArrayRef),
    ])
    .unwrap();
    let err = client
        .create_spatial("p.json", &SpatialObject::point_set("p", two))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidObject(_)), "{err:?}");
    assert!(err.to_string().contains("float-array-3"), "{err}");
    // An attribute of the wrong length.
    let object = SpatialObject::point_set("p", positions(3))
        .attribute("grade", Arc::new(Float64Array::from(vec![1.0, 2.0])));
    let err = client.create_spatial("p.json", &object).await.unwrap_err();
    assert!(err.to_string().contains("grade"), "{err}");
    // Triangles of the wrong type.
    let triangles = RecordBatch::try_from_iter([
        ("a", Arc::new(Int32Array::from(vec![0])) as ArrayRef),
        ("b", Arc::new(Int32Array::from(vec![1])) as ArrayRef),
        ("c", Arc::new(Int32Array::from(vec![2])) as ArrayRef),
    ])
    .unwrap();
    let err = client
        .create_spatial(
            "m.json",
            &SpatialObject::triangle_mesh("m", positions(3), triangles),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidObject(_)), "{err:?}");
    assert_eq!(mock.request_count(), 0, "nothing was sent");
}

#[tokio::test]
async fn the_point_set_json_references_every_table() {
    let (mock, client) = mock_client();
    let categories: DictionaryArray<Int32Type> = vec!["a", "b", "a", "c"].into_iter().collect();
    let object = SpatialObject::point_set("pts", positions(4))
        .epsg(2193)
        .attribute(
            "grade",
            Arc::new(Float64Array::from(vec![1.0, 2.0, f64::NAN, 4.0])),
        )
        .attribute("count", Arc::new(Int32Array::from(vec![1, 2, 3, 4])))
        .attribute(
            "flag",
            Arc::new(BooleanArray::from(vec![true, false, true, true])),
        )
        .attribute(
            "label",
            Arc::new(StringArray::from(vec!["w", "x", "y", "z"])),
        )
        .attribute("rock", Arc::new(categories));
    let (json, files) = client.encode_spatial(&object).await.unwrap();
    assert_eq!(mock.request_count(), 0, "encoding sends nothing");
    assert_eq!(json["schema"], schema_ids::POINTSET);
    assert_eq!(
        json["coordinate_reference_system"],
        json!({"epsg_code": 2193})
    );
    assert_eq!(json["bounding_box"]["min_y"], -3.0);
    assert_eq!(json["bounding_box"]["max_z"], 1.5);
    let coordinates = &json["locations"]["coordinates"];
    assert_eq!(coordinates["length"], 4);
    assert_eq!(coordinates["width"], 3);
    assert_eq!(coordinates["data_type"], "float64");
    let attributes = json["locations"]["attributes"].as_array().unwrap();
    let kinds: Vec<&str> = attributes
        .iter()
        .map(|a| a["attribute_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["scalar", "integer", "bool", "string", "category"]);
    assert_eq!(attributes[1]["values"]["data_type"], "int32");
    assert_eq!(attributes[4]["table"]["values_data_type"], "string");
    // Every referenced data name is one of the files, and every file is referenced.
    let mut referenced = evo_objects::referenced_data(&json);
    referenced.sort();
    let mut names: Vec<String> = files.iter().map(|f| f.name().to_owned()).collect();
    names.sort();
    names.dedup();
    assert_eq!(referenced, names);
    assert!(files.iter().all(|f| evo_objects::is_sha256_name(f.name())));
}

#[tokio::test]
async fn grids_meshes_and_segments_have_their_shapes() {
    let (_mock, client) = mock_client();
    let grid = SpatialObject::regular_grid("g", [1.0, 2.0, 3.0], [2, 3, 4], [10.0, 10.0, 5.0])
        .attribute(
            "density",
            Arc::new(Float64Array::from_iter_values((0..24).map(f64::from))),
        );
    let (json, files) = client.encode_spatial(&grid).await.unwrap();
    assert_eq!(json["schema"], schema_ids::REGULAR_3D_GRID);
    assert_eq!(json["size"], json!([2, 3, 4]));
    assert_eq!(json["bounding_box"]["max_z"], 23.0);
    assert_eq!(json["cell_attributes"][0]["values"]["length"], 24);
    assert_eq!(files.len(), 1);
    let bad = SpatialObject::regular_grid("g", [0.0; 3], [2, 3, 4], [1.0; 3])
        .attribute("density", Arc::new(Float64Array::from(vec![1.0])));
    assert!(client.encode_spatial(&bad).await.is_err());
    let zero = SpatialObject::regular_grid("g", [0.0; 3], [0, 3, 4], [1.0; 3]);
    assert!(client.encode_spatial(&zero).await.is_err());

    let index = |cols: &[&str], rows: &[Vec<u64>]| {
        RecordBatch::try_from_iter(cols.iter().enumerate().map(|(i, c)| {
            (
                *c,
                Arc::new(UInt64Array::from(
                    rows.iter().map(|r| r[i]).collect::<Vec<_>>(),
                )) as ArrayRef,
            )
        }))
        .unwrap()
    };
    let mesh = SpatialObject::triangle_mesh(
        "m",
        positions(3),
        index(&["n0", "n1", "n2"], &[vec![0, 1, 2]]),
    )
    .attribute("v", Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0])));
    let (json, files) = client.encode_spatial(&mesh).await.unwrap();
    assert_eq!(json["schema"], schema_ids::TRIANGLE_MESH);
    assert_eq!(json["triangles"]["indices"]["data_type"], "uint64");
    assert_eq!(json["triangles"]["indices"]["width"], 3);
    assert_eq!(json["triangles"]["vertices"]["attributes"][0]["name"], "v");
    assert_eq!(files.len(), 3);
    let lines = SpatialObject::line_segments(
        "l",
        positions(3),
        index(&["n0", "n1"], &[vec![0, 1], vec![1, 2]]),
    );
    let (json, _) = client.encode_spatial(&lines).await.unwrap();
    assert_eq!(json["schema"], schema_ids::LINE_SEGMENTS);
    assert_eq!(json["segments"]["indices"]["length"], 2);
    let _: Value = json;
}
