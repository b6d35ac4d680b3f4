//! The Workspaces API's workspaces: create, read, update, validation, paging, delete and
//! restore, roles, and thumbnails, driven with a plain HTTP client.

use crate::common;

use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn workspace_crud_validation_paging_and_restore() {
    let emu = start().await;
    let token = emu.issue_token(ALL);
    let c = client();
    let base = ws_base(&emu);

    // create: shape of the fixtures
    let resp = c
        .post(format!("{base}/workspaces"))
        .bearer_auth(&token)
        .json(&json!({"name": "Test Workspace B", "description": "test workspace", "bounding_box": {"coordinates": [[[100,0],[101,0],[101,1],[100,1],[100,0]]], "type": "Polygon"}, "labels": null, "default_coordinate_system": ""}))
        .send()
        .await
        .unwrap();
    let (status, ws) = json(resp).await;
    assert_eq!(status, 201, "{ws}");
    for key in [
        "id",
        "name",
        "description",
        "current_user_role",
        "bounding_box",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "ml_enabled",
        "default_coordinate_system",
        "labels",
        "self_link",
    ] {
        assert!(ws.get(key).is_some(), "missing {key}");
    }
    assert_eq!(ws["current_user_role"], "owner");
    assert_eq!(ws["labels"], json!([]));
    assert_eq!(ws["bounding_box"]["type"], "Polygon");
    assert_eq!(ws["created_by"]["id"], emu.test_user_id().to_string());
    let id = ws["id"].as_str().unwrap().to_owned();
    assert_eq!(ws["self_link"], format!("{base}/workspaces/{id}"));
    assert!(ws["created_at"].as_str().unwrap().ends_with("+00:00"));

    // validation
    let resp = c
        .post(format!("{base}/workspaces"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, body) = json(resp).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["type"],
        "https://seequent.com/error-codes/workspace/bad-request"
    );
    let resp = c
        .post(format!("{base}/workspaces"))
        .bearer_auth(&token)
        .json(&json!({"description": "x", "labels": [""]}))
        .send()
        .await
        .unwrap();
    let (status, body) = json(resp).await;
    assert_eq!(status, 400);
    let names: Vec<&str> = body["invalid-params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"name") && names.contains(&"labels"),
        "{body}"
    );
    assert!(body["title"].is_string() && body["detail"].is_string());
    let resp = c.post(format!("{base}/workspaces")).bearer_auth(&token).json(&json!({"name": "bb", "bounding_box": {"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1],[5,5]]]}})).send().await.unwrap();
    let (status, body) = json(resp).await;
    assert_eq!(status, 400);
    assert_eq!(body["invalid-params"][0]["name"], "bounding_box");
    let resp = c
        .post(format!("{base}/workspaces"))
        .bearer_auth(&token)
        .json(&json!({"name": "Test Workspace B"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);

    create_workspace(&emu, &token, "Test Workspace A").await;
    create_workspace(&emu, &token, "Test Workspace C").await;

    // list + paging
    let (status, page) = json(
        c.get(format!(
            "{base}/workspaces?limit=2&offset=0&order_by=asc%3Aname"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Test Workspace A", "Test Workspace B"]);
    let links = &page["links"];
    assert_eq!(links["count"], 2);
    assert_eq!(links["total"], 3);
    assert_eq!(links["previous"], Value::Null);
    let next = links["next"].as_str().unwrap();
    assert!(
        next.starts_with(&emu.hub_url().to_string())
            && next.contains("offset=2")
            && next.contains("limit=2"),
        "{next}"
    );
    assert!(links["last"].as_str().unwrap().contains("offset=2"));
    let (_, page2) = json(c.get(next).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(page2["results"][0]["name"], "Test Workspace C");
    assert_eq!(page2["links"]["next"], Value::Null);
    assert!(
        page2["links"]["previous"]
            .as_str()
            .unwrap()
            .contains("offset=0")
    );

    let (_, page) = json(
        c.get(format!("{base}/workspaces?order_by=desc:name"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page["results"][0]["name"], "Test Workspace C");
    for q in [
        "name=Test+Workspace+A",
        "filter%5Bname%5D=Test%20Workspace%20A",
        "filter[name]=Test Workspace A",
    ] {
        let (_, page) = json(
            c.get(format!("{base}/workspaces?{q}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(page["links"]["total"], 1, "{q}");
        assert_eq!(page["results"][0]["name"], "Test Workspace A");
    }
    let (status, _) = json(
        c.get(format!("{base}/workspaces?limit=abc"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    let (status, sum) = json(
        c.get(format!("{base}/workspaces/summary"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(sum["results"].as_array().unwrap().len(), 3);
    assert_eq!(
        sum["results"][0].as_object().unwrap().len(),
        2,
        "summary items are {{id, name}}"
    );
    assert_eq!(sum["links"]["first"], format!("{base}/workspaces/summary"));

    // update: partial; updated_at moves; the updated_at filter sees it
    let before = ws["updated_at"].as_str().unwrap().to_owned();
    let resp = c
        .patch(format!("{base}/workspaces/{id}"))
        .bearer_auth(&token)
        .json(&json!({"description": "new"}))
        .send()
        .await
        .unwrap();
    let (status, upd) = json(resp).await;
    assert_eq!(status, 200);
    assert_eq!(upd["description"], "new");
    assert_eq!(upd["name"], "Test Workspace B");
    assert_eq!(upd["bounding_box"]["type"], "Polygon");
    assert!(upd["updated_at"].as_str().unwrap() > before.as_str());
    let updated = upd["updated_at"].as_str().unwrap();
    let mut u = url::Url::parse(&format!("{base}/workspaces")).unwrap();
    u.query_pairs_mut()
        .append_pair("updated_at", &format!("gte:{updated}"));
    let (_, page) = json(c.get(u).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(page["links"]["total"], 1, "{page}");
    assert_eq!(page["results"][0]["id"], id);
    let mut u = url::Url::parse(&format!("{base}/workspaces")).unwrap();
    u.query_pairs_mut()
        .append_pair("updated_at", &format!("lt:{updated}"));
    let (_, page) = json(c.get(u).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(page["links"]["total"], 2, "{page}");

    // soft delete, get, restore
    let resp = c
        .delete(format!("{base}/workspaces/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert!(resp.bytes().await.unwrap().is_empty());
    let resp = c
        .get(format!("{base}/workspaces/{id}?deleted=False"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 410);
    let resp = c
        .get(format!("{base}/workspaces/{id}?deleted=True"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (_, page) = json(
        c.get(format!("{base}/workspaces"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page["links"]["total"], 2);
    let (_, page) = json(
        c.get(format!("{base}/workspaces?deleted=true"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page["links"]["total"], 3);
    let resp = c
        .post(format!("{base}/workspaces/{id}?deleted=false"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = c
        .get(format!("{base}/workspaces/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = c
        .get(format!("{base}/workspaces/{}", uuid::Uuid::new_v4()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let (status, body) = json(
        c.get(format!("{base}/workspaces/not-a-uuid"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn roles_and_insufficient_role() {
    let emu = start().await;
    let token = emu.issue_token(ALL);
    let c = client();
    let base = ws_base(&emu);
    let ws = create_workspace(&emu, &token, "Roles").await;
    let (status, role) = json(
        c.get(format!("{base}/workspaces/{ws}/current-user-role"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        role,
        json!({"user_id": emu.test_user_id().to_string(), "role": "owner"})
    );

    let viewer = emu.add_user("Vera Viewer", "vera@example.test");
    let vtoken = emu.issue_token_for(viewer, ALL);
    // no role yet → 403 insufficient-role
    let (status, body) = json(
        c.get(format!("{base}/workspaces/{ws}"))
            .bearer_auth(&vtoken)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        body["type"],
        "https://seequent.com/error-codes/workspace/auth/insufficient-role"
    );

    let resp = c
        .post(format!("{base}/workspaces/{ws}/users"))
        .bearer_auth(&token)
        .json(&json!({"user_id": viewer, "role": "viewer"}))
        .send()
        .await
        .unwrap();
    let (status, body) = json(resp).await;
    assert_eq!(status, 201);
    assert_eq!(
        body,
        json!({"user_id": viewer.to_string(), "role": "viewer"})
    );
    let resp = c
        .post(format!("{base}/workspaces/{ws}/users"))
        .bearer_auth(&token)
        .json(&json!({"user_id": viewer, "role": "boss"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    let (status, users) = json(
        c.get(format!("{base}/workspaces/{ws}/users"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let results = users["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert!(results.iter().any(|u| u["user_id"] == viewer.to_string()
        && u["role"] == "viewer"
        && u["email"] == "vera@example.test"
        && u["full_name"] == "Vera Viewer"));
    let (_, filtered) = json(
        c.get(format!("{base}/workspaces/{ws}/users?user_id={viewer}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(filtered["results"].as_array().unwrap().len(), 1);

    // the viewer can read but not write
    assert_eq!(
        c.get(format!("{base}/workspaces/{ws}"))
            .bearer_auth(&vtoken)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (status, body) = json(
        c.patch(format!("{base}/workspaces/{ws}"))
            .bearer_auth(&vtoken)
            .json(&json!({"name": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(body["your_role"], "viewer");
    assert_eq!(body["permitted_roles"], json!(["editor", "owner"]));
    assert_eq!(
        c.delete(format!("{base}/workspaces/{ws}"))
            .bearer_auth(&vtoken)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    let resp = c
        .delete(format!("{base}/workspaces/{ws}/users/{viewer}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = c
        .delete(format!("{base}/workspaces/{ws}/users/{viewer}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        c.get(format!("{base}/workspaces/{ws}"))
            .bearer_auth(&vtoken)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
}

#[tokio::test]
async fn thumbnails_are_checked_and_served() {
    let emu = start().await;
    let token = emu.issue_token(ALL);
    let c = client();
    let ws = create_workspace(&emu, &token, "Thumbs").await;
    let url = format!("{}/workspaces/{ws}/thumbnail", ws_base(&emu));
    assert_eq!(
        c.get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let png = [
        &[0x89u8, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..],
        b"rest-of-image",
    ]
    .concat();
    let resp = c
        .put(&url)
        .bearer_auth(&token)
        .header("content-type", "image/png")
        .body(png.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = c.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), png.as_slice());
    let resp = c
        .put(&url)
        .bearer_auth(&token)
        .body("GIF89a-not-allowed")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let big = vec![0xFFu8; 10 * 1024 * 1024 + 10];
    let resp = c
        .put(&url)
        .bearer_auth(&token)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(
        c.delete(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        c.get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}
