//! The spatial constructors against the emulator, which validates every posted object against
//! its JSON Schema and refuses references to data it does not hold: a point set, a regular 3D
//! grid, a triangle mesh and line segments, each built as its generated type, accepted,
//! read back typed (equal to what was built), with its tables read back as Arrow value for
//! value, and an attribute added as a new version.

#![cfg(feature = "arrow")]

use std::sync::Arc;

use evo_core::{ApiConnector, Environment, SharedTransport, StaticTokenAuthorizer};
use evo_emulator::{Emulator, Seed};
use evo_hyper::HyperTransport;
use evo_objects::evo_tables::arrow_array::types::Int32Type;
use evo_objects::evo_tables::arrow_array::{
    Array, ArrayRef, BooleanArray, DictionaryArray, Float64Array, Int32Array, Int64Array,
    RecordBatch, StringArray, UInt64Array,
};
use evo_objects::evo_tables::{TableInfo, TableReader};
use evo_objects::generated::{self as g, GeoscienceObject};
use evo_objects::{GetOptions, ObjectResponse, ObjectsClient, SpatialObject, schema_ids};

async fn start() -> (Emulator, ObjectsClient) {
    let seed = Seed::from_json(
        r#"{"organizations": [{"display_name": "Spatial Org", "workspaces": [{"name": "Spatial"}]}]}"#,
    )
    .unwrap();
    let emu = Emulator::builder().seed(seed).start().await.unwrap();
    let transport: SharedTransport = Arc::new(HyperTransport::new());
    let token = emu.issue_token(&["evo.object", "evo.workspace"]);
    let environment = Environment::new(
        emu.hub_url(),
        emu.org_id(),
        emu.organizations()[0].workspaces[0].0,
    );
    let connector = ApiConnector::builder(emu.hub_url())
        .transport(transport)
        .authorizer(Arc::new(StaticTokenAuthorizer::new(token)))
        .build()
        .unwrap();
    let client = ObjectsClient::new(environment, connector).unwrap();
    (emu, client)
}

fn positions(n: usize) -> RecordBatch {
    evo_objects::evo_tables::positions(
        Float64Array::from_iter_values((0..n).map(|i| i as f64 * 1.5)),
        Float64Array::from_iter_values((0..n).map(|i| -(i as f64))),
        Float64Array::from_iter_values((0..n).map(|i| 10.0 + i as f64 / 4.0)),
    )
    .unwrap()
}

fn indices(columns: &[&str], rows: &[&[u64]]) -> RecordBatch {
    RecordBatch::try_from_iter(columns.iter().enumerate().map(|(i, c)| {
        let values: Vec<u64> = rows.iter().map(|r| r[i]).collect();
        (*c, Arc::new(UInt64Array::from(values)) as ArrayRef)
    }))
    .unwrap()
}

/// The one batch of a (small) table.
fn whole(reader: TableReader) -> RecordBatch {
    let mut batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
    assert_eq!(batches.len(), 1, "the test tables fit one batch");
    batches.remove(0)
}

/// The object as stored, typed, with the id the service gave it cleared (the constructors
/// build new objects, without one).
fn stored_typed(answer: &ObjectResponse) -> GeoscienceObject {
    let mut json = answer.object.clone();
    json["uuid"] = serde_json::Value::Null;
    GeoscienceObject::from_value(json)
}

fn table_info<T: serde::Serialize>(typed: &T) -> TableInfo {
    serde_json::from_value(serde_json::to_value(typed).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_point_set_validates_round_trips_typed_and_reads_back_value_for_value() {
    let (_emu, client) = start().await;
    let grade = Float64Array::from(vec![Some(0.5), None, Some(2.5), Some(f64::NAN), Some(4.0)]);
    let count = Int64Array::from(vec![1, 2, 3, 4, i64::MAX]);
    let flag = BooleanArray::from(vec![true, false, true, true, false]);
    let label = StringArray::from(vec![Some("a"), None, Some("c"), Some("d"), Some("é")]);
    let rock: DictionaryArray<Int32Type> = vec!["granite", "basalt", "granite", "schist", "basalt"]
        .into_iter()
        .collect();
    let object = SpatialObject::point_set("points", positions(5))
        .epsg(32750)
        .description("five points")
        .attribute("grade", Arc::new(grade.clone()))
        .attribute("count", Arc::new(count.clone()))
        .attribute("flag", Arc::new(flag.clone()))
        .attribute("label", Arc::new(label.clone()))
        .attribute("rock", Arc::new(rock.clone()));
    let (built, _) = client.encode_spatial_typed(&object).await.unwrap();
    let GeoscienceObject::PointSet(typed) = &built else {
        panic!("a point set is built as g::PointSet: {built:?}");
    };
    assert_eq!(typed.schema, schema_ids::POINTSET);
    assert_eq!(
        typed.coordinate_reference_system,
        g::Crs::EpsgCode(g::CrsEpsgCode::new(32750))
    );
    assert_eq!(typed.locations.coordinates.length, 5);
    assert_eq!(typed.bounding_box.max_x, 6.0);
    assert_eq!(typed.bounding_box.min_y, -4.0);

    // The emulator validates it against the point set schema and holds every table.
    let created = client
        .create_spatial("spatial/points.json", &object)
        .await
        .unwrap();
    assert_eq!(
        stored_typed(&created),
        built,
        "the object round-trips typed"
    );
    let read = client
        .get_by_id(created.id().unwrap(), &GetOptions::new())
        .await
        .unwrap();
    assert_eq!(stored_typed(&read), built);

    let back = whole(client.read_positions(&read).await.unwrap());
    assert_eq!(back, positions(5));
    let attribute = |name: &str| {
        let client = client.clone();
        let read = read.clone();
        let name = name.to_owned();
        async move { whole(client.read_attribute(&read, &name).await.unwrap()) }
    };
    let g_back = attribute("grade").await;
    let g_col = g_back
        .column(0)
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap();
    assert_eq!(g_col.len(), 5);
    assert!(g_col.is_null(1) && g_col.value(3).is_nan());
    assert_eq!(
        (g_col.value(0), g_col.value(2), g_col.value(4)),
        (0.5, 2.5, 4.0)
    );
    assert_eq!(
        attribute("count").await.column(0).as_ref(),
        &count as &dyn Array
    );
    assert_eq!(
        attribute("flag").await.column(0).as_ref(),
        &flag as &dyn Array
    );
    assert_eq!(
        attribute("label").await.column(0).as_ref(),
        &label as &dyn Array
    );
    let keys = attribute("rock").await;
    assert_eq!(keys.column(0).as_ref(), rock.keys() as &dyn Array);
    let lookup = whole(client.read_attribute_lookup(&read, "rock").await.unwrap());
    assert_eq!(lookup.column(1).as_ref(), rock.values().as_ref());

    // Adding an attribute is a new version that still validates, typed.
    let depth = Int32Array::from(vec![10, 20, 30, 40, 50]);
    let updated = client
        .set_attribute(&read, "depth", Arc::new(depth.clone()))
        .await
        .unwrap();
    assert_ne!(updated.version_id, read.version_id);
    let GeoscienceObject::PointSet(after) = stored_typed(&updated) else {
        panic!("still a point set");
    };
    let names: Vec<String> = after
        .locations
        .attributes
        .unwrap()
        .iter()
        .map(|a| {
            serde_json::to_value(a).unwrap()["name"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(names, ["grade", "count", "flag", "label", "rock", "depth"]);
    assert_eq!(
        attribute_of(&client, &updated, "depth").await.as_ref(),
        &depth as &dyn Array
    );
}

async fn attribute_of(client: &ObjectsClient, object: &ObjectResponse, name: &str) -> ArrayRef {
    whole(client.read_attribute(object, name).await.unwrap())
        .column(0)
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grids_meshes_and_segments_validate_and_round_trip_typed() {
    let (_emu, client) = start().await;

    // A regular grid with a cell attribute.
    let density = Float64Array::from_iter_values((0..24).map(|i| f64::from(i) * 0.1));
    let grid =
        SpatialObject::regular_grid("grid", [100.0, 200.0, -50.0], [2, 3, 4], [5.0, 5.0, 2.5])
            .attribute("density", Arc::new(density.clone()));
    let (built, _) = client.encode_spatial_typed(&grid).await.unwrap();
    let GeoscienceObject::Regular3DGrid(typed) = &built else {
        panic!("a grid is built as g::Regular3DGrid: {built:?}");
    };
    assert_eq!(typed.size, [2, 3, 4]);
    assert_eq!(typed.bounding_box.max_z, -40.0);
    assert_eq!(typed.rotation, Some(g::Rotation::new(0.0, 0.0, 0.0)));
    let created = client
        .create_spatial("spatial/grid.json", &grid)
        .await
        .unwrap();
    assert_eq!(stored_typed(&created), built);
    assert_eq!(
        attribute_of(&client, &created, "density").await.as_ref(),
        &density as &dyn Array
    );
    let updated = client
        .set_attribute(
            &created,
            "zone",
            Arc::new(Int32Array::from_iter_values(0..24)),
        )
        .await
        .unwrap();
    let GeoscienceObject::Regular3DGrid(after) = stored_typed(&updated) else {
        panic!("still a grid");
    };
    assert_eq!(after.cell_attributes.map(|a| a.len()), Some(2));

    // A triangle mesh with a vertex attribute: vertices and indices come back unchanged.
    let triangles = indices(&["n0", "n1", "n2"], &[&[0, 1, 2], &[1, 2, 3]]);
    let mesh = SpatialObject::triangle_mesh("mesh", positions(4), triangles.clone())
        .attribute("v", Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0, 4.0])));
    let (built, _) = client.encode_spatial_typed(&mesh).await.unwrap();
    let GeoscienceObject::TriangleMesh(typed) = &built else {
        panic!("a mesh is built as g::TriangleMesh: {built:?}");
    };
    assert_eq!(typed.triangles.indices.length, 2);
    assert_eq!(typed.triangles.indices.data_type, "uint64");
    let created = client
        .create_spatial("spatial/mesh.json", &mesh)
        .await
        .unwrap();
    assert_eq!(stored_typed(&created), built);
    assert_eq!(
        whole(client.read_positions(&created).await.unwrap()),
        positions(4)
    );
    let info = table_info(&typed.triangles.indices);
    let read_indices = whole(client.read_table(&created, &info).await.unwrap());
    assert_eq!(read_indices.columns(), triangles.columns());

    // Line segments.
    let segments = indices(&["n0", "n1"], &[&[0, 1], &[1, 2]]);
    let lines = SpatialObject::line_segments("lines", positions(3), segments.clone())
        .attribute("w", Arc::new(StringArray::from(vec!["a", "b", "c"])));
    let (built, _) = client.encode_spatial_typed(&lines).await.unwrap();
    let GeoscienceObject::LineSegments(typed) = &built else {
        panic!("segments are built as g::LineSegments: {built:?}");
    };
    let created = client
        .create_spatial("spatial/lines.json", &lines)
        .await
        .unwrap();
    assert_eq!(stored_typed(&created), built);
    let info = table_info(&typed.segments.indices);
    let read_segments = whole(client.read_table(&created, &info).await.unwrap());
    assert_eq!(read_segments.columns(), segments.columns());
    assert_eq!(
        attribute_of(&client, &created, "w").await.as_ref(),
        &StringArray::from(vec!["a", "b", "c"]) as &dyn Array
    );
}

/// The temporary table files of this process's temp folder.
fn temporary_tables() -> usize {
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("evo-table-"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_larger_than_the_memory_limit_is_read_through_a_temporary_file_then_deleted() {
    let (_emu, client) = start().await;
    let rows = 20_000;
    let created = client
        .create_spatial(
            "big/points.json",
            &SpatialObject::point_set("big", positions(rows)),
        )
        .await
        .unwrap();
    let blobs = evo_io::BlobClient::for_connector(client.connector())
        .max_memory_download(1024)
        .build();
    let small = ObjectsClient::builder(client.environment().clone(), client.connector().clone())
        .blob_client(blobs)
        .build()
        .unwrap();
    // Straight into memory, it is refused: the file is larger than the limit.
    let info: TableInfo =
        serde_json::from_value(created.object["locations"]["coordinates"].clone()).unwrap();
    let refused = small
        .download_data_bytes(&created, &info.data)
        .await
        .unwrap_err();
    assert_eq!(
        refused.as_transfer().map(evo_io::Error::kind),
        Some(evo_io::ErrorKind::TooLarge),
        "{refused:?}"
    );

    let before = temporary_tables();
    let reader = small.read_positions(&created).await.unwrap();
    assert_eq!(temporary_tables(), before + 1, "read from a temporary file");
    let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
    let expected = positions(rows);
    let read = evo_objects::evo_tables::arrow_array::RecordBatch::try_new(
        expected.schema(),
        (0..3)
            .map(|c| {
                let parts: Vec<&dyn Array> = batches.iter().map(|b| b.column(c).as_ref()).collect();
                concat_f64(&parts)
            })
            .collect(),
    )
    .unwrap();
    assert_eq!(read, expected);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while temporary_tables() > before && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(temporary_tables(), before, "the temporary file is deleted");
}

/// The values of `parts` (Float64 arrays) one after the other.
fn concat_f64(parts: &[&dyn Array]) -> ArrayRef {
    Arc::new(Float64Array::from_iter_values(parts.iter().flat_map(|p| {
        p.as_any()
            .downcast_ref::<Float64Array>()
            .unwrap()
            .values()
            .iter()
            .copied()
            .collect::<Vec<_>>()
    })))
}
