//! The discovery fixtures of the official Python SDK parse into the generated models,
//! re-serialize without losing known fields, and link into organizations as the SDK does.

use std::path::PathBuf;

use evo_core::uuid::Uuid;
use evo_discovery::models::{DiscoveryContent, DiscoveryResponse};
use evo_discovery::{Organization, organizations_from};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {} is missing: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// `out` says everything `orig` says (a `null` may be left out).
fn assert_covers(orig: &Value, out: &Value, at: &str) {
    match (orig, out) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(w) => assert_covers(v, w, &format!("{at}.{k}")),
                    None => assert!(v.is_null(), "{at}.{k} was lost"),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{at}: array length changed");
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                assert_covers(v, w, &format!("{at}[{i}]"));
            }
        }
        (a, b) => assert_eq!(a, b, "{at}: value changed"),
    }
}

fn content(value: &Value) -> DiscoveryContent {
    let model: DiscoveryContent = serde_json::from_value(value.clone()).expect("parses");
    let out = serde_json::to_value(&model).unwrap();
    assert_covers(value, &out, "$");
    assert_eq!(
        model,
        serde_json::from_value::<DiscoveryContent>(out).unwrap()
    );
    model
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn names(orgs: &[Organization]) -> Vec<&str> {
    orgs.iter().map(|o| o.display_name.as_str()).collect()
}

#[test]
fn successful_discovery() {
    let value = fixture("successful_service_discovery.json");
    let response: DiscoveryResponse = serde_json::from_value(value.clone()).unwrap();
    assert_covers(&value, &serde_json::to_value(&response).unwrap(), "$");
    let orgs = organizations_from(&response.discovery);
    assert_eq!(names(&orgs), ["Org 0", "Org 1", "Org 2"]);
    let org1 = &orgs[1];
    assert_eq!(org1.id, id(1));
    let hubs: Vec<(&str, Vec<&str>)> = org1
        .hubs
        .iter()
        .map(|h| {
            (
                h.code.as_str(),
                h.services.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        hubs,
        [
            ("hub1", vec!["service1", "service2"]),
            ("hub2", vec!["service0", "service2"])
        ]
    );
    assert_eq!(orgs[0].hubs.len(), 3);
    assert_eq!(orgs[2].hub("hub1").unwrap().url, "hub1url");
    assert!(
        orgs[2].hub("hub2").is_none(),
        "no service_access for org 2 on hub 2"
    );
    assert!(orgs.iter().all(|o| o.central.is_none()));
}

#[test]
fn every_scenario() {
    let scenarios = fixture("service_discovery_data.json");
    let scenarios = scenarios.as_array().unwrap();
    assert_eq!(scenarios.len(), 5);
    for scenario in scenarios {
        let name = scenario["scenario"].as_str().unwrap();
        let model = content(&scenario["sample_data"]);
        let orgs = organizations_from(&model);
        match name {
            "One Org One Hub One Service" => {
                assert_eq!(orgs.len(), 1);
                assert_eq!(orgs[0].hubs[0].services, vec!["service0".to_owned()]);
            }
            "All Data Alphanumeric" | "All Data Unordered" => {
                assert_eq!(names(&orgs), ["Org 0", "Org 1", "Org 2"], "{name}");
                for org in &orgs {
                    let hub_names: Vec<&str> =
                        org.hubs.iter().map(|h| h.display_name.as_str()).collect();
                    let mut sorted = hub_names.clone();
                    sorted.sort();
                    assert_eq!(hub_names, sorted, "{name}: hubs sorted by name");
                }
            }
            "No Data" => assert!(orgs.is_empty()),
            "Data with Central Instances" => {
                let central = orgs[0]
                    .central
                    .as_ref()
                    .expect("org 0 has a central instance");
                assert_eq!(
                    (central.name.as_str(), central.host.as_str()),
                    ("central0", "central0url")
                );
                assert_eq!(central.organization_name.as_deref(), Some("Instance 0"));
                assert_eq!(orgs[1].central.as_ref().unwrap().id, id(1));
                assert!(
                    model.accounts.as_ref().unwrap()[0].instances[0]
                        .hub
                        .is_some()
                );
            }
            other => panic!("unknown scenario {other:?}"),
        }
    }
}

/// Hub URLs are checked when used: the fixtures' `hub0url` is not a URL.
#[test]
fn hub_urls_are_checked() {
    let model = content(&fixture("service_discovery_data.json")[0]["sample_data"]);
    let orgs = organizations_from(&model);
    let hub = &orgs[0].hubs[0];
    let err = hub.base_url().unwrap_err();
    assert!(err.to_string().contains("hub0url"), "{err}");
    assert!(orgs[0].environment(hub, id(9)).is_err());

    let mut value = fixture("service_discovery_data.json")[0]["sample_data"].clone();
    value["hubs"][0]["url"] = "https://au.api.seequent.com".into();
    let orgs = organizations_from(&content(&value));
    let env = orgs[0].environment(&orgs[0].hubs[0], id(9)).unwrap();
    assert_eq!(env.hub_url.as_str(), "https://au.api.seequent.com/");
    assert_eq!((env.org_id, env.workspace_id), (id(0), id(9)));
    value["hubs"][0]["url"] = "ftp://au.api.seequent.com".into();
    let orgs = organizations_from(&content(&value));
    assert!(orgs[0].hubs[0].base_url().is_err());
}

/// A missing required array is a parse error, not an empty answer.
#[test]
fn missing_arrays_are_errors() {
    let err = serde_json::from_value::<DiscoveryContent>(serde_json::json!({"organizations": []}))
        .unwrap_err();
    assert!(err.to_string().contains("hubs"), "{err}");
}
