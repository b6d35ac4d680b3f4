//! Every Colormap API fixture of the official Python SDK parses into the evo-colormaps models
//! (see `fixtures/README.md`).

use evo_colormaps::{AssociationMetadata, Colormap, ColormapMetadata};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_fixture_is_used() {
    let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "category_colormap_response.json",
            "colormap_association_collection_response.json",
            "colormap_association_response.json",
            "colormap_collection_response.json",
            "continuous_colormap_response.json",
            "discrete_colormap_response.json",
        ]
    );
}

#[test]
fn single_colormaps() {
    let c: ColormapMetadata =
        serde_json::from_value(fixture("continuous_colormap_response.json")).unwrap();
    assert_eq!(c.name, "continuous colormap 1");
    assert_eq!(c.created_at.year(), 2024);
    let Colormap::Continuous(ref g) = c.colormap else {
        panic!("{c:?}")
    };
    assert_eq!(g.attribute_controls, [0.1, 0.2, 0.3]);
    assert_eq!(g.gradient_controls, [0.4, 0.5, 0.6]);
    assert_eq!(g.colors[2], [217, 185, 155]);
    c.colormap.validate().unwrap();

    let d: ColormapMetadata =
        serde_json::from_value(fixture("discrete_colormap_response.json")).unwrap();
    let Colormap::Discrete(ref b) = d.colormap else {
        panic!("{d:?}")
    };
    assert_eq!(b.end_points, [0.1, 0.2]);
    assert_eq!(b.end_inclusive, [true, false]);
    d.colormap.validate().unwrap();

    let k: ColormapMetadata =
        serde_json::from_value(fixture("category_colormap_response.json")).unwrap();
    let Colormap::Category(ref m) = k.colormap else {
        panic!("{k:?}")
    };
    assert_eq!(m.map, ["a", "b", "c"]);
    assert_eq!(m.colors[0], [0, 0, 219]);
    assert_eq!(k.id.to_string(), "00000000-0000-0000-0000-000000000008");
    k.colormap.validate().unwrap();
}

#[test]
fn the_collection_has_each_kind() {
    let list: Vec<ColormapMetadata> =
        serde_json::from_value(fixture("colormap_collection_response.json")["colormaps"].clone())
            .unwrap();
    let kinds: Vec<&str> = list.iter().map(|c| c.colormap.kind()).collect();
    assert_eq!(kinds, ["continuous", "discrete", "category"]);
}

#[test]
fn associations() {
    let a: AssociationMetadata =
        serde_json::from_value(fixture("colormap_association_response.json")).unwrap();
    assert_eq!(a.attribute_id, "a very unique ID");
    assert_eq!(
        a.colormap_id.to_string(),
        "00000000-0000-0000-0000-000000000006"
    );
    assert!(
        a.self_link
            .ends_with("/associations/00000000-0000-0000-0000-00000000001e")
    );
    let list: Vec<AssociationMetadata> = serde_json::from_value(
        fixture("colormap_association_collection_response.json")["associations"].clone(),
    )
    .unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[2].attribute_id, "another fairly unique ID");
}

#[test]
fn an_unknown_kind_is_refused() {
    let mut v = fixture("continuous_colormap_response.json");
    v["schema"] = "rainbow".into();
    let e = serde_json::from_value::<ColormapMetadata>(v).unwrap_err();
    assert!(e.to_string().contains("rainbow"), "{e}");
    let mut v = fixture("discrete_colormap_response.json");
    v.as_object_mut().unwrap().remove("end_points");
    assert!(serde_json::from_value::<ColormapMetadata>(v).is_err());
}
