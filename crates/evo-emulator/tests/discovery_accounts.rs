//! Discovery `accounts`: organizations seeded with a Central instance appear under
//! `accounts[].instances[]` in the shape of the official SDK's fixture "Data with Central
//! Instances", and evo-discovery links them to their organizations. Without any Central instance
//! the answer has no `accounts` key at all.

use crate::common;

use std::path::PathBuf;

use common::{client, json};
use evo_emulator::seed::{SeedCentral, SeedOrganization};
use evo_emulator::{Emulator, Seed};
use serde_json::Value;
use uuid::Uuid;

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {} is missing: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// The fixture's `accounts` of scenario "Data with Central Instances".
fn fixture_accounts() -> Value {
    fixture("service_discovery_data.json")
        .as_array()
        .expect("a list of scenarios")
        .iter()
        .find(|s| s["scenario"] == "Data with Central Instances")
        .expect("scenario 'Data with Central Instances'")["sample_data"]["accounts"]
        .clone()
}

/// The structure of a JSON value: object keys and value kinds, array element shapes.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(shape).collect()),
        Value::String(_) => Value::from("string"),
        Value::Number(_) => Value::from("number"),
        Value::Bool(_) => Value::from("bool"),
        Value::Null => Value::from("null"),
    }
}

fn org(n: u128, hub: &str, central: Option<SeedCentral>) -> SeedOrganization {
    SeedOrganization {
        id: Some(Uuid::from_u128(n)),
        display_name: format!("Org {n}"),
        hub_code: Some(hub.to_owned()),
        hub_display_name: Some(format!("Hub {n}")),
        workspaces: Vec::new(),
        central,
    }
}

fn central(n: u128, account: u128) -> SeedCentral {
    SeedCentral {
        id: Some(Uuid::from_u128(n)),
        name: format!("central{n}"),
        display_name: format!("Central {n}"),
        host: format!("central{n}url"),
        organization_name: Some(format!("Instance {n}")),
        account_id: Some(Uuid::from_u128(account)),
        account_name: format!("account{account}"),
    }
}

async fn start(orgs: Vec<SeedOrganization>) -> Emulator {
    Emulator::builder()
        .seed(Seed {
            organizations: orgs,
            ..Seed::default()
        })
        .start()
        .await
        .expect("emulator starts")
}

async fn discover(emu: &Emulator, query: &str) -> Value {
    let resp = client()
        .get(format!(
            "{}evo/identity/v2/discovery{query}",
            emu.discovery_url()
        ))
        .bearer_auth(emu.issue_token(&["evo.discovery"]))
        .send()
        .await
        .expect("send");
    let (status, body) = json(resp).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn accounts_have_the_shape_of_the_sdk_fixture() {
    let emu = start(vec![
        org(0, "hub0", Some(central(0, 0))),
        org(1, "hub1", Some(central(1, 1))),
    ])
    .await;
    let body = discover(&emu, "?service=evo").await;
    let accounts = &body["discovery"]["accounts"];
    let expected = fixture_accounts();
    assert_eq!(shape(accounts), shape(&expected), "{accounts:#}");

    // The values the fixture and the seed agree on are equal; the hub URL is the emulator's.
    let hub_url = emu.hub_url().to_string();
    for (i, (got, want)) in accounts
        .as_array()
        .unwrap()
        .iter()
        .zip(expected.as_array().unwrap())
        .enumerate()
    {
        assert_eq!(got["id"], want["id"], "account {i}");
        assert_eq!(got["name"], want["name"], "account {i}");
        let (gi, wi) = (&got["instances"][0], &want["instances"][0]);
        assert_eq!(gi["id"], wi["id"], "the instance id is the organization id");
        assert_eq!(gi["display_name"], format!("Org {i}"));
        assert_eq!(gi["central"], wi["central"], "account {i}");
        assert_eq!(gi["hub"]["code"], wi["hub"]["code"]);
        assert_eq!(gi["hub"]["display_name"], wi["hub"]["display_name"]);
        assert_eq!(gi["hub"]["url"], hub_url.as_str());
    }
}

#[tokio::test]
async fn without_central_instances_the_answer_has_no_accounts_key() {
    let emu = start(vec![org(0, "hub0", None), org(1, "hub1", None)]).await;
    let body = discover(&emu, "?service=evo").await;
    let discovery = body["discovery"].as_object().expect("object");
    let mut keys: Vec<&str> = discovery.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["hubs", "organizations", "service_access", "services"]
    );

    let default = Emulator::builder().start().await.expect("starts");
    let body = discover(&default, "").await;
    assert!(body["discovery"].get("accounts").is_none(), "{body}");
}

#[tokio::test]
async fn instances_of_one_account_are_grouped_and_defaults_are_filled_in() {
    let shared = |n: u128| SeedCentral {
        id: None,
        name: format!("c{n}"),
        display_name: format!("C {n}"),
        host: format!("https://c{n}.example"),
        organization_name: None,
        account_id: None,
        account_name: "shared account".into(),
    };
    let emu = start(vec![
        org(0, "hub0", Some(shared(0))),
        org(1, "hub0", None),
        org(2, "hub1", Some(shared(2))),
    ])
    .await;
    let body = discover(&emu, "?service=evo").await;
    let accounts = body["discovery"]["accounts"].as_array().expect("accounts");
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    assert_eq!(accounts[0]["name"], "shared account");
    assert!(
        accounts[0]["id"]
            .as_str()
            .and_then(|s| s.parse::<Uuid>().ok())
            .is_some()
    );
    let instances = accounts[0]["instances"].as_array().unwrap();
    let ids: Vec<&str> = instances
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    let (o0, o2) = (
        Uuid::from_u128(0).to_string(),
        Uuid::from_u128(2).to_string(),
    );
    assert_eq!(ids, [o0.as_str(), o2.as_str()]);
    assert_eq!(
        instances[1]["central"]["organization_name"], "Org 2",
        "organization_name defaults to the organization's display name"
    );
    assert_ne!(instances[0]["central"]["id"], instances[1]["central"]["id"]);

    // A service nobody offers lists no organization, hence no instance either.
    let body = discover(&emu, "?service=nothing-here").await;
    assert_eq!(body["discovery"]["organizations"], serde_json::json!([]));
    assert_eq!(body["discovery"]["accounts"], serde_json::json!([]));
}

#[tokio::test]
async fn evo_discovery_links_the_central_instance_to_its_organization() {
    let emu = start(vec![
        org(0, "hub0", Some(central(7, 3))),
        org(1, "hub1", None),
    ])
    .await;
    let body = discover(&emu, "?service=evo").await;
    let parsed: evo_discovery::models::DiscoveryResponse =
        serde_json::from_value(body).expect("evo-discovery parses the answer");
    let orgs = evo_discovery::organizations_from(&parsed.discovery);
    assert_eq!(orgs.len(), 2);
    let with = orgs
        .iter()
        .find(|o| o.id == Uuid::from_u128(0))
        .expect("org 0");
    let c = with
        .central
        .as_ref()
        .expect("org 0 has its Central instance");
    assert_eq!(c.id, Uuid::from_u128(7));
    assert_eq!(c.name, "central7");
    assert_eq!(c.display_name, "Central 7");
    assert_eq!(c.host, "central7url");
    assert_eq!(c.organization_name.as_deref(), Some("Instance 7"));
    let without = orgs
        .iter()
        .find(|o| o.id == Uuid::from_u128(1))
        .expect("org 1");
    assert!(without.central.is_none());
}

#[test]
fn seed_json_declares_central_instances_and_rejects_contradictions() {
    let seed = Seed::from_json(
        r#"{"organizations": [{"display_name": "O", "central": {
            "name": "c", "display_name": "C", "host": "https://c.example",
            "account_name": "acc", "account_id": "00000000-0000-0000-0000-0000000000aa"}}]}"#,
    )
    .expect("seed parses");
    let c = seed.organizations[0].central.as_ref().expect("central");
    assert_eq!(c.account_name, "acc");
    assert_eq!(c.account_id, Some(Uuid::from_u128(0xaa)));
    assert!(
        Seed::from_json(r#"{"organizations": [{"display_name": "O", "central": {"name": "c"}}]}"#)
            .is_err(),
        "display_name, host and account_name are required"
    );
}

#[tokio::test]
async fn one_account_id_with_two_names_is_a_seed_error() {
    let mut second = central(1, 5);
    second.account_name = "another name".into();
    let err = Emulator::builder()
        .seed(Seed {
            organizations: vec![
                org(0, "hub0", Some(central(0, 5))),
                org(1, "hub0", Some(second)),
            ],
            ..Seed::default()
        })
        .start()
        .await
        .expect_err("contradicting account names are refused");
    assert!(err.to_string().contains("another name"), "{err}");
}
