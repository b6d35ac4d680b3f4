//! Every `WorkspacesClient` method against the evo-emulator over HyperTransport: the happy
//! paths, paging over several pages, and the error paths (404, 403, 409, validation).

use crate::common;

use common::{client, emulator, hub_connector, recording};
use evo_core::http::Method;
use evo_core::uuid::Uuid;
use evo_workspaces::*;
use futures_util::TryStreamExt;

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H',
];
const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F'];

#[tokio::test]
async fn health_check_reports() {
    let emu = emulator().await;
    let (ws, log) = client(&emu).await;
    let basic = ws.health_check(HealthCheckType::Basic).await.unwrap();
    assert!(basic.is_healthy(), "{basic}");
    assert_eq!(basic.health.status, HealthStatus::Pass);
    assert!(
        log.last("health_check")
            .uri
            .ends_with("/workspace/health_check?full=true")
    );
    let full = ws.health_check(HealthCheckType::Full).await.unwrap();
    assert!(
        full.health
            .dependencies
            .as_ref()
            .is_some_and(|d| !d.is_empty())
    );
    ws.health_check(HealthCheckType::Strict).await.unwrap();
    assert!(
        log.last("health_check")
            .uri
            .ends_with("?full=true&check_dependencies=true&strict=true")
    );
}

#[tokio::test]
async fn create_get_update_delete_restore() {
    let emu = emulator().await;
    let (ws, log) = client(&emu).await;

    let request = CreateWorkspaceRequest::new("Drillholes")
        .with_description("core logs")
        .with_labels(["a", "b"])
        .with_bounding_box(BoundingBox::rectangle(100.0, 0.0, 101.0, 1.0));
    let created = ws.create_workspace(&request).await.unwrap();
    assert_eq!(created.name, "Drillholes");
    assert_eq!(created.description, "core logs");
    assert_eq!(created.labels, ["a", "b"]);
    assert_eq!(created.current_user_role, WorkspaceRole::Owner);
    assert_eq!(created.bounding_box, request.bounding_box);
    assert_eq!(created.created_by.id, emu.test_user_id());
    let sent = log.last("/workspaces");
    assert_eq!(sent.method, Method::POST);
    assert_eq!(sent.content_type.as_deref(), Some("application/json"));

    let read = ws.get_workspace(created.id).await.unwrap();
    assert_eq!(read, created);

    // Only the fields that are set are sent; the others keep their values.
    let update = UpdateWorkspaceRequest::new().with_name("Drillholes 2");
    let updated = ws.update_workspace(created.id, &update).await.unwrap();
    let sent = log.last(&created.id.to_string());
    assert_eq!(sent.method, Method::PATCH);
    assert_eq!(
        sent.body.as_deref(),
        Some(&br#"{"name":"Drillholes 2"}"#[..])
    );
    assert_eq!(updated.name, "Drillholes 2");
    assert_eq!(updated.description, "core logs");
    assert_eq!(updated.labels, ["a", "b"]);
    assert!(updated.updated_at >= created.updated_at);

    ws.delete_workspace(created.id).await.unwrap();
    let err = ws.get_workspace(created.id).await.unwrap_err();
    assert!(err.is_gone(), "{err}");
    let deleted = ws.get_deleted_workspace(created.id).await.unwrap();
    assert_eq!(deleted.id, created.id);
    assert!(
        log.last("deleted=true")
            .uri
            .contains(&created.id.to_string())
    );
    let listed = ws
        .list_workspaces(&ListWorkspacesQuery::new().deleted(true))
        .await
        .unwrap();
    assert!(listed.items.iter().any(|w| w.id == created.id));

    let restored = ws.restore_workspace(created.id).await.unwrap();
    assert_eq!(restored, RestoreWorkspaceResponse::NoContent);
    assert!(
        log.last("deleted=false")
            .uri
            .contains(&created.id.to_string())
    );
    assert_eq!(
        ws.get_workspace(created.id).await.unwrap().name,
        "Drillholes 2"
    );

    let env = ws.environment(created.id);
    assert_eq!(
        (env.hub_url, env.org_id, env.workspace_id),
        (emu.hub_url(), emu.org_id(), created.id)
    );
}

#[tokio::test]
async fn paging_over_several_pages() {
    let emu = emulator().await;
    let (ws, log) = client(&emu).await;
    for i in 0..7 {
        ws.create_workspace(&CreateWorkspaceRequest::new(format!("ws-{i}")))
            .await
            .unwrap();
    }
    let query = ListWorkspacesQuery::new()
        .limit(3)
        .order_by(WorkspaceSortField::Name, SortDirection::Asc);
    let page = ws.list_workspaces(&query).await.unwrap();
    assert_eq!(page.items.len(), 3);
    assert_eq!(page.total, Some(7));
    assert!(!page.is_last());
    assert_eq!(page.next_offset(), 3);
    let names: Vec<&str> = page.items.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["ws-0", "ws-1", "ws-2"]);
    assert!(
        log.last("/workspaces")
            .uri
            .contains("limit=3&order_by=asc%3Aname")
    );

    log.clear();
    let all: Vec<Workspace> = ws
        .list_all_workspaces(query.clone())
        .try_collect()
        .await
        .unwrap();
    let names: Vec<String> = all.iter().map(|w| w.name.clone()).collect();
    assert_eq!(names, (0..7).map(|i| format!("ws-{i}")).collect::<Vec<_>>());
    let gets: Vec<String> = log.all().into_iter().map(|s| s.uri).collect();
    assert_eq!(gets.len(), 3, "three pages: {gets:?}");
    assert!(
        gets[1].contains("offset=3") && gets[2].contains("offset=6"),
        "{gets:?}"
    );

    // Descending order, a name filter and the summary list.
    let desc = ws
        .list_workspaces(
            &ListWorkspacesQuery::new().order_by(WorkspaceSortField::Name, SortDirection::Desc),
        )
        .await
        .unwrap();
    assert_eq!(desc.items[0].name, "ws-6");
    let one = ws
        .list_workspaces(&ListWorkspacesQuery::new().name("ws-4"))
        .await
        .unwrap();
    assert_eq!(one.items.len(), 1);
    assert_eq!(one.items[0].name, "ws-4");

    let summary = ws.list_workspaces_summary(&query).await.unwrap();
    assert_eq!(summary.items.len(), 3);
    assert_eq!(summary.total, Some(7));
    assert!(log.last("/workspaces/summary").uri.contains("limit=3"));
    let all_summaries: Vec<WorkspaceSummary> = ws
        .list_all_workspaces_summary(query)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all_summaries.len(), 7);
    assert!(
        all_summaries
            .iter()
            .zip(&all)
            .all(|(s, w)| s.id == w.id && s.name == w.name)
    );
}

#[tokio::test]
async fn roles_and_forbidden() {
    let emu = emulator().await;
    let (ws, log) = client(&emu).await;
    let created = ws
        .create_workspace(&CreateWorkspaceRequest::new("Shared"))
        .await
        .unwrap();
    let me = ws.get_current_user_role(created.id).await.unwrap();
    assert_eq!(
        (me.user_id, me.role),
        (emu.test_user_id(), WorkspaceRole::Owner)
    );

    let bob = emu.add_user("Bob", "bob@example.test");
    let assigned = ws
        .assign_user_role(created.id, bob, WorkspaceRole::Viewer)
        .await
        .unwrap();
    assert_eq!(
        (assigned.user_id, assigned.role.clone()),
        (Some(bob), WorkspaceRole::Viewer)
    );
    let sent = log.last("/users");
    assert_eq!(sent.method, Method::POST);
    let body: serde_json::Value = serde_json::from_slice(sent.body.as_deref().unwrap()).unwrap();
    assert_eq!(body, serde_json::json!({"user_id": bob, "role": "viewer"}));

    let users = ws.list_user_roles(created.id, None).await.unwrap();
    assert_eq!(users.len(), 2);
    let only_bob = ws.list_user_roles(created.id, Some(bob)).await.unwrap();
    assert_eq!(only_bob.len(), 1);
    assert_eq!(only_bob[0].email.as_deref(), Some("bob@example.test"));
    assert!(
        log.last("/users?")
            .uri
            .ends_with(&format!("/users?user_id={bob}"))
    );

    let by_email = ws
        .assign_user_role_by_email(created.id, "carol@example.test", WorkspaceRole::Editor)
        .await
        .unwrap();
    assert_eq!(by_email.email.as_deref(), Some("carol@example.test"));
    assert_eq!(by_email.role, WorkspaceRole::Editor);

    // Bob, a viewer, can read but not delete, nor manage roles: 403 with the roles named.
    let (transport, _) = recording();
    let as_bob = WorkspacesClient::new(emu.org_id(), hub_connector(&emu, transport, Some(bob)));
    assert_eq!(
        as_bob
            .get_workspace(created.id)
            .await
            .unwrap()
            .current_user_role,
        WorkspaceRole::Viewer
    );
    assert_eq!(
        as_bob.get_current_user_role(created.id).await.unwrap().role,
        WorkspaceRole::Viewer
    );
    let err = as_bob.delete_workspace(created.id).await.unwrap_err();
    assert!(err.is_forbidden(), "{err}");
    let problem = err.as_api().unwrap().problem().unwrap();
    assert_eq!(problem.extra["your_role"], "viewer");
    assert_eq!(
        problem.extra["permitted_roles"],
        serde_json::json!(["owner"])
    );
    let err = as_bob.put_thumbnail(created.id, PNG).await.unwrap_err();
    assert!(err.is_forbidden(), "{err}");
    let err = as_bob
        .assign_user_role(created.id, bob, WorkspaceRole::Owner)
        .await
        .unwrap_err();
    assert!(err.is_forbidden(), "{err}");

    ws.remove_user_role(created.id, bob).await.unwrap();
    let users = ws.list_user_roles(created.id, None).await.unwrap();
    assert!(users.iter().all(|u| u.user_id != bob));
    let err = as_bob.get_workspace(created.id).await.unwrap_err();
    assert!(err.is_forbidden(), "{err}");
    let err = ws.remove_user_role(created.id, bob).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn thumbnails() {
    let emu = emulator().await;
    let (ws, log) = client(&emu).await;
    let created = ws
        .create_workspace(&CreateWorkspaceRequest::new("Pictures"))
        .await
        .unwrap();

    let err = ws.get_thumbnail(created.id).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");

    ws.put_thumbnail(created.id, PNG).await.unwrap();
    let sent = log.last("/thumbnail");
    assert_eq!(
        (sent.method, sent.content_type.as_deref()),
        (Method::PUT, Some("image/png"))
    );
    let thumb = ws.get_thumbnail(created.id).await.unwrap();
    assert_eq!(thumb.format, Some(ImageFormat::Png));
    assert_eq!(thumb.content_type.as_deref(), Some("image/png"));
    assert_eq!(&thumb.data[..], PNG);

    ws.put_thumbnail(created.id, JPEG.to_vec()).await.unwrap();
    assert_eq!(
        log.last("/thumbnail").content_type.as_deref(),
        Some("image/jpeg")
    );
    let thumb = ws.get_thumbnail(created.id).await.unwrap();
    assert_eq!(
        (thumb.format, &thumb.data[..]),
        (Some(ImageFormat::Jpeg), JPEG)
    );

    // Too large or not an image: refused before anything is sent.
    log.clear();
    let mut big = JPEG.to_vec();
    big.resize(MAX_THUMBNAIL_BYTES + 1, 0);
    let err = ws.put_thumbnail(created.id, big).await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err}");
    let err = ws
        .put_thumbnail(created.id, &b"GIF89a..."[..])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err}");
    assert!(log.all().is_empty(), "nothing was sent: {:?}", log.all());
    let mut at_limit = JPEG.to_vec();
    at_limit.resize(MAX_THUMBNAIL_BYTES, 0);
    ws.put_thumbnail(created.id, at_limit).await.unwrap();

    ws.delete_thumbnail(created.id).await.unwrap();
    assert!(
        ws.get_thumbnail(created.id)
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn error_paths() {
    let emu = emulator().await;
    let (ws, _) = client(&emu).await;

    let missing = Uuid::new_v4();
    let err = ws.get_workspace(missing).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let api = err.as_api().unwrap();
    assert!(
        api.problem()
            .unwrap()
            .detail
            .as_deref()
            .unwrap()
            .contains(&missing.to_string())
    );
    assert!(api.url().contains(&missing.to_string()));
    assert!(
        ws.delete_workspace(missing)
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        ws.get_current_user_role(missing)
            .await
            .unwrap_err()
            .is_not_found()
    );

    ws.create_workspace(&CreateWorkspaceRequest::new("Twin"))
        .await
        .unwrap();
    let err = ws
        .create_workspace(&CreateWorkspaceRequest::new("Twin"))
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert!(err.to_string().contains("Twin"), "{err}");

    // Restoring a workspace whose name was taken meanwhile is a conflict too.
    let first = ws
        .create_workspace(&CreateWorkspaceRequest::new("Reused"))
        .await
        .unwrap();
    ws.delete_workspace(first.id).await.unwrap();
    ws.create_workspace(&CreateWorkspaceRequest::new("Reused"))
        .await
        .unwrap();
    let err = ws.restore_workspace(first.id).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");

    // An unknown organization is a 404 as well.
    let other = WorkspacesClient::new(Uuid::new_v4(), ws.connector().clone());
    assert!(
        other
            .list_workspaces(&Default::default())
            .await
            .unwrap_err()
            .is_not_found()
    );
}

/// A rejected field: the error keeps the status and names the parameter and the reason. Names
/// the client can judge (empty, over 60 characters) are refused before sending; the emulator
/// refuses them too when a request bypasses the client.
#[tokio::test]
async fn validation_error_keeps_invalid_params() {
    let emu = emulator().await;
    let (ws, log) = client(&emu).await;
    let long = "x".repeat(61);
    for name in ["", long.as_str()] {
        log.clear();
        let err = ws
            .create_workspace(&CreateWorkspaceRequest::new(name))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidRequest { .. }), "{err}");
        assert!(log.all().is_empty(), "nothing was sent: {:?}", log.all());

        let err = ws
            .connector()
            .request(Method::POST, "workspace/orgs/{org_id}/workspaces")
            .path_param("org_id", emu.org_id())
            .json(&serde_json::json!({ "name": name }))
            .send_empty()
            .await
            .unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(400), "{err}");
        let problem = err.as_api().unwrap().problem().expect("problem details");
        assert_eq!(problem.invalid_params.len(), 1, "{problem:?}");
        assert_eq!(problem.invalid_params[0].name, "name");
        assert!(
            problem.invalid_params[0].reason.contains("60"),
            "{problem:?}"
        );
        assert!(err.to_string().contains("name: "), "{err}");
    }
    // An ordering the typed query cannot express, sent through the generated endpoint.
    let params = generated::endpoints::ListWorkspacesParams {
        order_by: Some("sideways:name".into()),
        ..Default::default()
    };
    let connector = hub_connector(&emu, recording().0, None);
    let err = generated::endpoints::list_workspaces(&connector, emu.org_id(), &params)
        .await
        .unwrap_err();
    assert_eq!(
        err.as_api().unwrap().problem().unwrap().invalid_params[0].name,
        "order_by"
    );
}

#[tokio::test]
async fn organization_members_invitations_and_roles() {
    let emu = emulator().await;
    let (ws, log) = client(&emu).await;
    let dora = emu.add_user("Dora", "dora@example.test");
    let eve = emu.add_user("Eve", "eve@example.test");

    let roles = ws.list_instance_roles().await.unwrap();
    assert_eq!(roles.len(), 3);
    let admin = roles.iter().find(|r| r.name == "Evo Admin").unwrap().id;
    let user_role = roles.iter().find(|r| r.name == "Evo User").unwrap().id;

    let added = ws
        .add_instance_users(vec![
            NewInstanceUser {
                email: "dora@example.test".into(),
                roles: vec![user_role],
            },
            NewInstanceUser {
                email: "eve@example.test".into(),
                roles: vec![admin],
            },
            NewInstanceUser {
                email: "stranger@example.test".into(),
                roles: vec![user_role],
            },
        ])
        .await
        .unwrap();
    assert_eq!(added.members.len(), 2);
    assert_eq!(added.invitations.len(), 1);
    assert_eq!(added.invitations[0].email, "stranger@example.test");
    assert_eq!(added.invitations[0].status, Some(InvitationStatus::Pending));

    let first = ws.list_instance_users(Some(1), None).await.unwrap();
    assert_eq!(first.items.len(), 1);
    assert!(!first.is_last());
    assert!(
        log.last("/members/users")
            .uri
            .ends_with("/members/users?limit=1")
    );
    let members: Vec<InstanceUser> = ws
        .list_all_instance_users(Some(1))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(members.len(), 3, "the test user, Dora and Eve");
    assert!(members.iter().any(|m| m.id == dora));

    let updated = ws
        .update_instance_user_roles(dora, vec![admin, user_role])
        .await
        .unwrap();
    assert_eq!(updated.id, dora);
    assert_eq!(updated.roles.len(), 2);
    let sent = log.last(&format!("/members/users/{dora}"));
    assert_eq!(sent.method, Method::PATCH);

    ws.remove_instance_user(eve).await.unwrap();
    let members: Vec<InstanceUser> = ws
        .list_all_instance_users(None)
        .try_collect()
        .await
        .unwrap();
    assert!(members.iter().all(|m| m.id != eve));
    assert!(
        ws.remove_instance_user(eve)
            .await
            .unwrap_err()
            .is_not_found()
    );

    let invitations = ws
        .list_instance_user_invitations(Some(10), Some(0))
        .await
        .unwrap();
    assert_eq!(invitations.items.len(), 1);
    let all: Vec<InstanceUserInvitation> = ws
        .list_all_instance_user_invitations(Some(1))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all, invitations.items);
    ws.delete_instance_user_invitation(all[0].id).await.unwrap();
    let invitations = ws.list_instance_user_invitations(None, None).await.unwrap();
    assert!(invitations.items.is_empty());
}
