//! Every Workspaces fixture of the official Python SDK (copied into tests/fixtures/)
//! parses into the generated models and re-serializes without losing a field the models know.

use std::path::PathBuf;

use evo_workspaces::models::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {} is missing: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// `out` says everything `orig` says: same keys with equivalent values (numbers compared as
/// numbers, timestamps as instants; a `null` may be left out).
fn assert_covers(orig: &Value, out: &Value, at: &str) {
    match (orig, out) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(w) => assert_covers(v, w, &format!("{at}.{k}")),
                    None => assert!(v.is_null(), "{at}.{k} was lost (it was {v})"),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{at}: array length changed");
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                assert_covers(v, w, &format!("{at}[{i}]"));
            }
        }
        (Value::Number(a), Value::Number(b)) => {
            assert_eq!(a.as_f64(), b.as_f64(), "{at}: number changed")
        }
        (Value::String(a), Value::String(b)) if a != b => {
            let (x, y) = (
                time::OffsetDateTime::parse(a, &Rfc3339),
                time::OffsetDateTime::parse(b, &Rfc3339),
            );
            assert!(
                matches!((x, y), (Ok(x), Ok(y)) if x == y),
                "{at}: {a:?} became {b:?}"
            );
        }
        (a, b) => assert_eq!(a, b, "{at}: value changed"),
    }
}

/// Parses `value` as `T`, checks the re-serialization covers it and parses back equal.
fn round_trip<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(value: &Value) -> T {
    let model: T = serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("{} does not parse: {e}", std::any::type_name::<T>()));
    let out = serde_json::to_value(&model).unwrap();
    assert_covers(value, &out, "$");
    let again: T = serde_json::from_value(out).unwrap();
    assert_eq!(model, again);
    model
}

#[test]
fn single_workspaces() {
    let ws: Workspace = round_trip(&fixture("get_workspace.json"));
    assert_eq!(ws.name, "Test Workspace A");
    assert_eq!(ws.current_user_role, WorkspaceRole::Owner);
    assert_eq!(ws.created_at.unix_timestamp(), 1_577_836_800);
    assert_eq!(ws.created_by.email.as_deref(), Some("test.user@unit.test"));
    assert!(ws.bounding_box.is_none() && ws.labels.is_empty() && !ws.ml_enabled);

    let ws: Workspace = round_trip(&fixture("new_workspace.json"));
    assert!(!ws.self_link.is_empty());

    let ws: Workspace = round_trip(&fixture("new_workspace_with_bounding_box.json"));
    let bbox = ws.bounding_box.expect("a bounding box");
    assert_eq!(bbox.r#type, GeometryType::Polygon);
    assert_eq!(bbox.coordinates[0].len(), 5);
    assert_eq!(bbox.coordinates[0][1], vec![101.0, 0.0]);
    assert_eq!(bbox, BoundingBox::rectangle(100.0, 0.0, 101.0, 1.0));
}

#[test]
fn workspace_pages() {
    let page: ListWorkspacesResponse = round_trip(&fixture("list_workspaces_0.json"));
    assert_eq!(
        (page.links.count, page.links.total, page.results.len()),
        (2, 3, 2)
    );
    assert!(
        page.links
            .next
            .as_deref()
            .unwrap()
            .ends_with("limit=2&offset=2")
    );
    assert!(page.links.previous.is_none());
    let page: ListWorkspacesResponse = round_trip(&fixture("list_workspaces_1.json"));
    assert_eq!(page.results.len(), 1);
    assert!(page.links.next.is_none());
    assert!(page.links.previous.is_some());

    let summary: ListWorkspaceSummariesResponse =
        round_trip(&fixture("list_workspaces_summary.json"));
    assert_eq!(summary.results.len(), 3);
    assert!(summary.links.next.is_none());
    let p0: ListWorkspaceSummariesResponse =
        round_trip(&fixture("list_workspaces_summary_paginated_0.json"));
    let p1: ListWorkspaceSummariesResponse =
        round_trip(&fixture("list_workspaces_summary_paginated_1.json"));
    assert_eq!(p0.results[1].name, "Test Workspace B");
    assert_eq!(p0.results.len() + p1.results.len(), p0.links.total as usize);
}

#[test]
fn instance_members_invitations_and_roles() {
    for name in ["instance_users_page_1.json", "instance_users_page_2.json"] {
        let page: ListInstanceUsersResponse = round_trip(&fixture(name));
        assert!(!page.results.is_empty());
        assert!(!page.results[0].roles.is_empty());
    }
    let page: ListInstanceUsersResponse = round_trip(&fixture("instance_users_page_1.json"));
    assert!(page.links.next.is_some());
    assert_eq!(page.results[0].roles[0].name, "Evo Owner");

    let page: ListInstanceUserInvitationsResponse = round_trip(&fixture("invitations_page_1.json"));
    assert_eq!(page.results[0].status, Some(InvitationStatus::Pending));
    assert_eq!(page.results[1].status, Some(InvitationStatus::Accepted));
    let created = page.results[0].created_date.unwrap();
    assert_eq!((created.year(), created.hour()), (2026, 12));
    let _: ListInstanceUserInvitationsResponse = round_trip(&fixture("invitations_page_2.json"));

    let roles: ListInstanceRolesResponse = round_trip(&fixture("list_instance_roles.json"));
    assert_eq!(
        roles.roles[1].permissions,
        vec!["evo admin permission".to_owned()]
    );

    let added: AddInstanceUsersResponse = round_trip(&fixture("add_instance_users.json"));
    assert_eq!((added.invitations.len(), added.members.len()), (1, 1));

    let updated: UpdateInstanceUserRolesResponse =
        round_trip(&fixture("update_instance_user.json"));
    assert_eq!(updated.roles[0].name, "Evo Admin");
}

#[test]
fn health_reports() {
    let reports: Vec<ServiceHealth> = round_trip(&fixture("health_check.json"));
    let statuses: Vec<&str> = reports.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(
        statuses,
        ["pass", "degraded", "fail", "pass", "degraded", "fail"]
    );
    let deps = reports[4].dependencies.as_ref().unwrap();
    assert_eq!(deps["performance dependency"], DependencyStatus::Fail);
    assert!(reports[0].dependencies.is_none());
}

/// A value or field a newer server sends does not break parsing and survives re-serialization.
#[test]
fn unknown_values_and_fields_survive() {
    let mut value = fixture("get_workspace.json");
    value["current_user_role"] = "superuser".into();
    value["added_later"] = serde_json::json!({"nested": [1, 2]});
    let ws: Workspace = round_trip(&value);
    assert_eq!(
        ws.current_user_role,
        WorkspaceRole::Unknown("superuser".into())
    );
    assert_eq!(ws.current_user_role.to_string(), "superuser");
    assert_eq!(ws.extra["added_later"]["nested"][1], 2);
    let out = serde_json::to_value(&ws).unwrap();
    assert_eq!(out["current_user_role"], "superuser");
    assert_eq!(out["added_later"], value["added_later"]);
}

/// Malformed bodies are rejected with an error naming the problem, not a panic.
#[test]
fn malformed_bodies_are_errors() {
    let mut value = fixture("get_workspace.json");
    value["created_at"] = "yesterday".into();
    let err = serde_json::from_value::<Workspace>(value).unwrap_err();
    assert!(err.to_string().contains("could not be parsed"), "{err}");
    let mut value = fixture("get_workspace.json");
    value.as_object_mut().unwrap().remove("id");
    let err = serde_json::from_value::<Workspace>(value).unwrap_err();
    assert!(err.to_string().contains("id"), "{err}");
}

/// An update sends only the fields that are set.
#[test]
fn update_request_sends_only_set_fields() {
    let update = UpdateWorkspaceRequest {
        name: Some("Renamed".into()),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&update).unwrap(),
        serde_json::json!({"name": "Renamed"})
    );
    let create = CreateWorkspaceRequest::new("New").with_description("d");
    assert_eq!(
        serde_json::to_value(&create).unwrap(),
        serde_json::json!({"name": "New", "description": "d", "default_coordinate_system": ""})
    );
}
