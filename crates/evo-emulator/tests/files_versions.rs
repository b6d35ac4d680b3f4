//! File API v2 versions: resume, delete and restore (and its conflicts), errors, and listing
//! with filters, order and paging, driven with a plain HTTP client.

use crate::common;

use common::*;
use serde_json::Value;

#[tokio::test]
async fn versions_resume_delete_restore_and_errors() {
    let emu = start().await;
    let token = emu.issue_token(ALL);
    let c = client();
    let ws = create_workspace(&emu, &token, "Versions").await;
    let fb = files_base(&emu, &ws);
    let (file_id, v1) = upload_file(&emu, &token, &ws, "a/x.csv", b"first").await;

    // new version by id, resumed once before committing
    let (status, reg) = json(
        c.put(format!("{fb}/files/{file_id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let v2 = reg["version_id"].as_str().unwrap().to_owned();
    assert_ne!(v1, v2);
    let (status, resumed) = json(
        c.put(format!("{fb}/files/{file_id}?version_id={v2}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(resumed["version_id"], v2.as_str());
    // before the commit the file still shows v1
    let (_, meta) = json(
        c.get(format!("{fb}/files/{file_id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(meta["version_id"], v1.as_str());
    upload_blocks(resumed["upload"].as_str().unwrap(), b"second!", 4).await;
    let (_, meta) = json(
        c.get(format!(
            "{fb}/files/{file_id}?include_versions=True&deleted=False"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(meta["version_id"], v2.as_str());
    assert_eq!(meta["size"], 7);
    let versions = meta["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert!(
        versions
            .iter()
            .all(|v| v["link"].is_string() && v["created_by"]["id"].is_string())
    );
    let (_, old) = json(
        c.get(format!("{fb}/files/{file_id}?version_id={v1}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(old["size"], 5);
    let body = c
        .get(old["download"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "first");
    assert_eq!(
        c.get(format!("{fb}/files/{file_id}?version_id=999999"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    // resume of a finished upload, and of a missing file
    let (status, body) = json(
        c.put(format!("{fb}/files/{file_id}?version_id={v2}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["type"],
        "https://seequent.com/error-codes/file-api/files/no-file-upload-in-progress"
    );
    let (status, _) = json(
        c.put(format!("{fb}/files/path/nope.csv?version_id=1"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    let (status, body) = json(
        c.put(format!("{fb}/files/{}", uuid::Uuid::new_v4()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (
            404,
            Some("https://seequent.com/error-codes/file-api/files/not-found")
        )
    );

    // delete, gone, list deleted, restore
    let r = c
        .delete(format!("{fb}/files/path/a/x.csv"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (status, body) = json(
        c.get(format!("{fb}/files/{file_id}?deleted=False"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (
            410,
            Some("https://seequent.com/error-codes/file-api/files/gone")
        )
    );
    assert_eq!(
        c.get(format!("{fb}/files/path/a/x.csv"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        410
    );
    let (_, del) = json(
        c.get(format!("{fb}/files/{file_id}?deleted=true"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(del["deleted_at"].is_string());
    let (_, list) = json(
        c.get(format!("{fb}/files?deleted=True"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["total"], 1);
    let (_, list) = json(
        c.get(format!("{fb}/files"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["total"], 0);
    let r = c
        .put(format!("{fb}/files/{file_id}?deleted=False"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(r.bytes().await.unwrap().is_empty());
    assert_eq!(
        c.get(format!("{fb}/files/path/a/x.csv"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // restore while another file took the path → 303 with the renamed file
    assert_eq!(
        c.delete(format!("{fb}/files/{file_id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let (other_id, _) = upload_file(&emu, &token, &ws, "a/x.csv", b"usurper").await;
    assert_ne!(other_id, file_id);
    let r = c
        .put(format!("{fb}/files/{file_id}?deleted=false"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with(&file_id)
    );
    let (_, moved) = json(r).await;
    assert_eq!(moved["path"], "/a/");
    assert_eq!(moved["name"], "x (1).csv");

    // bad input
    let (status, body) = json(
        c.get(format!("{fb}/files/path/a//b.csv"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (
            400,
            Some("https://seequent.com/error-codes/file-api/files/invalid-path")
        )
    );
    let (status, _) = json(
        c.get(format!("{fb}/files/not-a-uuid"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = json(
        c.get(format!("{fb}/files?limit=0"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = json(
        c.get(format!("{fb}/files?deleted=maybe"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    let (status, body) = json(c.get(format!("{fb}/files")).send().await.unwrap()).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (
            401,
            Some("https://seequent.com/error-codes/file-api/auth/missing-token")
        )
    );
    let ws_only = emu.issue_token(&["evo.workspace"]);
    assert_eq!(
        c.get(format!("{fb}/files"))
            .bearer_auth(&ws_only)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let stranger = emu.issue_token_for(emu.add_user("S", "s@example.test"), ALL);
    let (status, body) = json(
        c.get(format!("{fb}/files"))
            .bearer_auth(&stranger)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (
            403,
            Some("https://seequent.com/error-codes/file-api/auth/insufficient-role")
        )
    );
}

#[tokio::test]
async fn restore_conflict_can_be_rejected() {
    let emu = evo_emulator::Emulator::builder()
        .restore_conflict(evo_emulator::RestoreConflict::Reject)
        .start()
        .await
        .unwrap();
    let token = emu.issue_token(ALL);
    let c = client();
    let ws = create_workspace(&emu, &token, "Reject").await;
    let fb = files_base(&emu, &ws);
    let (id, _) = upload_file(&emu, &token, &ws, "x.csv", b"1").await;
    assert_eq!(
        c.delete(format!("{fb}/files/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    upload_file(&emu, &token, &ws, "x.csv", b"2").await;
    let (status, body) = json(
        c.put(format!("{fb}/files/{id}?deleted=false"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (
            409,
            Some("https://seequent.com/error-codes/file-api/files/already-exists")
        )
    );
}

#[tokio::test]
async fn list_filters_order_and_paging() {
    let emu = start().await;
    let token = emu.issue_token(ALL);
    let c = client();
    let ws = create_workspace(&emu, &token, "Lists").await;
    let fb = files_base(&emu, &ws);
    upload_file(&emu, &token, &ws, "A/gold.csv", b"1").await;
    let (_, list) = json(
        c.get(format!("{fb}/files"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let first_modified = list["files"][0]["modified_at"].as_str().unwrap().to_owned();
    upload_file(&emu, &token, &ws, "A/allgoldcolumns.csv", b"22").await;
    upload_file(&emu, &token, &ws, "B/silver.csv", b"333").await;

    let (_, list) = json(
        c.get(format!("{fb}/files?file_name=GOLD"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["total"], 2);
    let mut u = url::Url::parse(&format!("{fb}/files")).unwrap();
    u.query_pairs_mut()
        .append_pair("modified_at", &format!("gt:{first_modified}"));
    let (status, list) = json(c.get(u).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["total"], 2);
    let (_, list) = json(
        c.get(format!(
            "{fb}/files?order_by=desc:created_at&limit=2&offset=0"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(list["files"][0]["name"], "silver.csv");
    assert_eq!(list["count"], 2);
    assert_eq!(list["total"], 3);
    let next = list["links"]["next"].as_str().unwrap().to_owned();
    assert!(
        next.contains("offset=2") && next.contains("order_by"),
        "{next}"
    );
    let (_, page2) = json(c.get(&next).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(page2["files"][0]["name"], "gold.csv");
    assert_eq!(page2["links"]["next"], Value::Null);
    assert!(page2["links"]["prev"].is_string());
    let (_, list) = json(
        c.get(format!("{fb}/files?author={}", emu.test_user_id()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["total"], 3);
    let (_, list) = json(
        c.get(format!("{fb}/files?author={}", uuid::Uuid::new_v4()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["total"], 0);
    let (status, _) = json(
        c.get(format!(
            "{fb}/files?created_at=gt:2020-01-01&created_at=lt:2030-01-01&created_at=lt:2031-01-01"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    let (_, list) = json(
        c.get(format!(
            "{fb}/files?created_at=gt:2020-01-01T00:00:00Z&created_at=lt:2999-01-01"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(list["total"], 3);
}
