//! The client's REST side against the Unicat emulator over real HTTP (evo-hyper).

use std::sync::Arc;

use serde_json::json;
use unicat::{DataType, Error, MAX_UPLOAD_BYTES, Transform, UnicatClient};
use unicat_emulator::{DEMO_API_KEY, DEMO_RECORD, UnicatEmulator};

fn client(emulator: &UnicatEmulator, assets: Option<&std::path::Path>) -> UnicatClient {
    let transport = Arc::new(evo_hyper::HyperTransport::new());
    let mut builder =
        UnicatClient::builder(emulator.base_url().parse().unwrap(), emulator.project())
            .transport(transport);
    if let Some(folder) = assets {
        builder = builder.asset_folder(folder);
    }
    builder.build().unwrap()
}

#[tokio::test]
async fn connect_loads_stores_cursors_and_version_and_calls_merge_data() {
    let emulator = UnicatEmulator::start().await.unwrap();
    let client = client(&emulator, None);
    assert!(matches!(
        client
            .call("/records/get", json!({"record": DEMO_RECORD}))
            .await,
        Err(Error::Unicat { code: 401, .. })
    ));
    let result = client.connect(DEMO_API_KEY).await.unwrap();
    assert_eq!(result["user"], "u-demo");
    assert!(client.authorizer().has_token());
    let (cc, project) = emulator.heads();
    assert_eq!(
        (client.cursors().cc, client.cursors().project),
        (cc, project)
    );
    assert_eq!(client.server_version().as_deref(), Some("2025.07.001"));
    client.with_stores(|s| {
        assert!(s.get(DataType::Definitions, "d-article").is_some());
        assert!(s.project_member("p-demo", "u-editor").is_some());
        assert_eq!(
            s.asset_by_pathname("/brand/logo.png").unwrap()["gid"],
            "a-logo"
        );
        assert!(
            s.record(DEMO_RECORD).is_none(),
            "records are loaded on demand"
        );
    });
    let result = client
        .call("/records/get", json!({"record": DEMO_RECORD}))
        .await
        .unwrap();
    assert_eq!(result["record"], DEMO_RECORD);
    assert_eq!(
        client.record(DEMO_RECORD).unwrap()["fields"]["en"]["name"],
        "First article"
    );
    client
        .call("//users/get", json!({"user": "u-editor"}))
        .await
        .unwrap();
    assert!(client.with_stores(|s| s.contains(DataType::Users, "u-editor")));
    match client.call("/records/get", json!({"record": "nope"})).await {
        Err(Error::Unicat {
            code,
            message,
            info,
            ..
        }) => {
            assert_eq!((code, message.as_str()), (1001, "Not found"));
            assert_eq!(info["record"], "nope");
        }
        other => panic!("expected a Unicat error, got {other:?}"),
    }
    assert!(matches!(
        client.call("records/get", json!({})).await,
        Err(Error::InvalidInput(_))
    ));
    assert!(!format!("{client:?}").contains("jwt."));
}

#[tokio::test]
async fn rotated_tokens_are_adopted_and_www_authenticate_clears_the_token() {
    let emulator = UnicatEmulator::start().await.unwrap();
    let client = client(&emulator, None);
    client.connect(DEMO_API_KEY).await.unwrap();
    emulator.set_rotate_every(1);
    for _ in 0..4 {
        client
            .call("/records/get", json!({"record": DEMO_RECORD}))
            .await
            .unwrap();
    }
    // Every call presented the token the previous answer handed out (old ones are revoked at
    // once, so a stale token would have failed).
    let tokens = emulator.stats().rest_tokens;
    let last4: Vec<_> = tokens[tokens.len() - 4..].to_vec();
    assert!(last4.iter().all(Option::is_some));
    let distinct: std::collections::BTreeSet<_> = last4.iter().collect();
    assert_eq!(distinct.len(), 4);

    emulator.revoke_tokens();
    // The 401 (WWW-Authenticate) clears the JWT; the client authenticates again once with the
    // API key and sends the call again, with the new token.
    let generation = client.authorizer().generation();
    client
        .call("/records/get", json!({"record": DEMO_RECORD}))
        .await
        .unwrap();
    assert!(
        client.authorizer().generation() >= generation + 2,
        "cleared by WWW-Authenticate, then set by the new auth"
    );
    let tokens = emulator.stats().rest_tokens;
    assert_ne!(tokens[tokens.len() - 1], tokens[tokens.len() - 2]);
}

#[tokio::test]
async fn uploads_check_the_limit_before_sending() {
    let emulator = UnicatEmulator::start().await.unwrap();
    let client = client(&emulator, None);
    client.connect(DEMO_API_KEY).await.unwrap();
    let calls = emulator.stats().calls.len();
    let too_big = bytes::Bytes::from(vec![7u8; MAX_UPLOAD_BYTES as usize + 1]);
    match client
        .upload_bytes("/assets/upload", &json!({}), "big.bin", too_big)
        .await
    {
        Err(Error::PayloadTooLarge { size, limit, .. }) => {
            assert_eq!((size, limit), (10_000_001, 10_000_000))
        }
        other => panic!("expected PayloadTooLarge, got {other:?}"),
    }
    assert_eq!(emulator.stats().calls.len(), calls, "nothing may be sent");
    let exact = bytes::Bytes::from(vec![1u8; MAX_UPLOAD_BYTES as usize]);
    let result = client
        .upload_bytes(
            "/assets/upload",
            &json!({"folder": "docs"}),
            "max.bin",
            exact,
        )
        .await
        .unwrap();
    let gid = result["asset"].as_str().unwrap().to_owned();
    client.with_stores(|s| {
        assert_eq!(s.asset(&gid).unwrap()["size"], 10_000_000);
        assert_eq!(
            s.asset_by_pathname("/docs/max.bin").unwrap()["gid"],
            gid.as_str()
        );
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    std::fs::write(&path, vec![0u8; 10_000_001]).unwrap();
    assert!(matches!(
        client
            .upload_file("/assets/upload", &json!({}), &path)
            .await,
        Err(Error::PayloadTooLarge { .. })
    ));
}

#[tokio::test]
async fn media_downloads_are_atomic_fresh_checked_and_stay_inside_the_folder() {
    let emulator = UnicatEmulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let client = client(&emulator, Some(dir.path()));
    client.connect(DEMO_API_KEY).await.unwrap();
    let asset = client.with_stores(|s| s.asset("a-logo").cloned()).unwrap();
    let published = client.publish(&asset).await.unwrap();
    assert!(
        published["public_url"]
            .as_str()
            .unwrap()
            .ends_with("/media/p-demo/a-logo/logo.png")
    );
    let path = client.download(&asset, None).await.unwrap();
    assert_eq!(path, dir.path().join("brand/logo.png"));
    assert!(std::fs::read(&path).unwrap().starts_with(b"\x89PNG"));
    let media_calls = |e: &UnicatEmulator| {
        e.stats()
            .calls
            .iter()
            .filter(|c| c.starts_with("media/"))
            .count()
    };
    assert_eq!(media_calls(&emulator), 1);
    client.download(&asset, None).await.unwrap();
    assert_eq!(
        media_calls(&emulator),
        1,
        "a fresh local file is not downloaded again"
    );
    let transformed = client
        .download(
            &asset,
            Some(
                &Transform::new()
                    .resize_named("fit")
                    .width(200.0)
                    .height(100.0)
                    .image_type("png"),
            ),
        )
        .await
        .unwrap();
    assert!(transformed.starts_with(dir.path().join("brand")));
    assert_eq!(media_calls(&emulator), 2);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("brand"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty());
    // A server pathname that climbs out of the asset folder is refused.
    let mut evil = asset.clone();
    evil["pathname"] = json!("/../../etc/logo.png");
    assert!(matches!(
        client.download(&evil, None).await,
        Err(Error::InvalidInput(_))
    ));
    let mut folder_asset = asset.clone();
    folder_asset["is_file"] = json!(false);
    assert!(matches!(
        client.publish(&folder_asset).await,
        Err(Error::InvalidInput(_))
    ));
}
