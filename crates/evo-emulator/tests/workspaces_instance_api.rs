//! The Workspaces API's instance: members, invitations and roles, the health check, and the
//! seed file that sets organisations, workspaces and clients.

use crate::common;

use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn instance_members_invitations_roles_and_health() {
    let emu = start().await;
    let token = emu.issue_token(ALL);
    let c = client();
    let base = ws_base(&emu);
    let (status, roles) = json(
        c.get(format!("{base}/members/roles"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let admin = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Evo Admin")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = emu.add_user("Known Person", "known@example.test");
    let resp = c
        .post(format!("{base}/members/users"))
        .bearer_auth(&token)
        .json(&json!({"users": [{"email": "known@example.test", "roles": [admin]}, {"email": "stranger@example.test", "roles": [admin]}]}))
        .send()
        .await
        .unwrap();
    let (status, body) = json(resp).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["members"][0]["id"], other.to_string());
    assert_eq!(body["members"][0]["roles"][0]["name"], "Evo Admin");
    assert_eq!(body["invitations"][0]["email"], "stranger@example.test");
    let inv = body["invitations"][0]["id"].as_str().unwrap().to_owned();

    let (status, page) = json(
        c.get(format!("{base}/members/users?limit=1&offset=0"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(page["links"]["count"], 1);
    assert!(
        page["links"].get("total").is_none(),
        "member links have no total"
    );
    let next = page["links"]["next"].as_str().unwrap().to_owned();
    let (_, page2) = json(c.get(&next).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(page2["links"]["next"], Value::Null);
    assert_eq!(page2["results"][0]["email"], "known@example.test");

    let resp = c
        .patch(format!("{base}/members/users/{other}"))
        .bearer_auth(&token)
        .json(&json!({"user_id": other, "roles": [uuid::Uuid::from_u128(1)]}))
        .send()
        .await
        .unwrap();
    let (status, body) = json(resp).await;
    assert_eq!(status, 200);
    assert_eq!(body["roles"][0]["name"], "Evo User");

    let (_, invs) = json(
        c.get(format!("{base}/members/invitations?limit=2&offset=0"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(invs["results"][0]["status"], "Pending");
    assert_eq!(
        c.delete(format!("{base}/members/invitations/{inv}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        c.delete(format!("{base}/members/invitations/{inv}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        c.delete(format!("{base}/members/users/{other}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );

    let (status, h) = json(
        c.get(format!("{}workspace/health_check?full=true", emu.hub_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(h["status"], "pass");
    assert!(h["dependencies"].is_object());
    let (status, h) = json(
        c.get(format!("{}file/health_check", emu.hub_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(h.get("dependencies").is_none());
}

#[tokio::test]
async fn seed_file_sets_orgs_workspaces_and_clients() {
    let seed = evo_emulator::Seed::from_json(
        r#"{"users":[{"id":"00000000-0000-0000-0000-000000000002","name":"Test User","email":"test.user@unit.test"}],
            "organizations":[{"id":"00000000-0000-0000-0000-000000000000","display_name":"Org 0","hub_code":"hub0",
              "workspaces":[{"id":"00000000-0000-0000-0000-00000000000a","name":"Test Workspace A"}]}],
            "clients":[{"client_id":"svc","client_secret":"s3cret"}]}"#,
    )
    .unwrap();
    assert!(
        evo_emulator::Seed::from_json(r#"{"orgs": []}"#).is_err(),
        "unknown keys are refused"
    );
    let emu = evo_emulator::Emulator::builder()
        .seed(seed)
        .start()
        .await
        .unwrap();
    assert_eq!(emu.org_id(), uuid::Uuid::nil());
    assert_eq!(emu.service_client().client_id, "svc");
    assert_eq!(emu.organizations()[0].hub_code, "hub0");
    let token = emu.issue_token(ALL);
    let (_, ws) = json(
        client()
            .get(format!(
                "{}/workspaces/00000000-0000-0000-0000-00000000000a",
                ws_base(&emu)
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ws["name"], "Test Workspace A");
    assert_eq!(ws["created_by"]["email"], "test.user@unit.test");
}
