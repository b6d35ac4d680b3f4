//! Answers a File API should not give: each becomes a typed error that says what was wrong,
//! never a panic or a wrong result. Served by a scripted transport, plus one test on the
//! emulator where the new version never shows (the visibility timeout).

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use evo_core::{ApiConnector, Body, Environment, SharedTransport, transport_fn};
use evo_files::{Error, FilesClient, GetOptions, ListFilesQuery};
use http::{Request, Response};
use uuid::Uuid;

const ORG: Uuid = Uuid::from_u128(1);
const WS: Uuid = Uuid::from_u128(2);

/// A client whose every request is answered by `answer(method, path_and_query)`.
fn scripted(answer: impl Fn(&str, &str) -> (u16, String) + Send + Sync + 'static) -> FilesClient {
    let answer = Arc::new(answer);
    let transport: SharedTransport = Arc::new(transport_fn(move |request: Request<Body>| {
        let answer = answer.clone();
        async move {
            let pq = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default();
            let (status, body) = answer(request.method().as_str(), &pq);
            Ok(Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap())
        }
    }));
    let hub: url::Url = "http://hub.invalid/".parse().unwrap();
    let connector = ApiConnector::builder(hub.clone())
        .transport(transport)
        .retry_policy(evo_core::RetryPolicy::none())
        .build()
        .unwrap();
    FilesClient::new(Environment::new(hub, ORG, WS), connector).unwrap()
}

fn metadata_json(file_id: Uuid, version: &str) -> String {
    serde_json::json!({
        "file_id": file_id, "name": "x.csv", "path": "/x.csv", "version_id": version,
        "size": 3, "etag": "", "created_at": "2024-01-01T00:00:00Z",
        "modified_at": "2024-01-01T00:00:00Z", "download": "http://blob.invalid/c/b?sig=S",
        "self": "http://hub.invalid/x"
    })
    .to_string()
}

#[tokio::test]
async fn malformed_json_is_a_decode_error_with_the_body_kept() {
    let files = scripted(|_, _| (200, "{\"file_id\": \"not a uuid\"".into()));
    let err = files
        .get_by_id(Uuid::nil(), &GetOptions::new())
        .await
        .unwrap_err();
    let core = err.as_service().expect("a service error");
    assert!(matches!(core, evo_core::Error::Decode(_)), "{err:?}");
    assert!(err.to_string().contains("FileMetadata"), "{err}");

    let files = scripted(|_, _| (200, "[]".into()));
    let err = files.list_page(&ListFilesQuery::new()).await.unwrap_err();
    assert!(
        matches!(err.as_service(), Some(evo_core::Error::Decode(_))),
        "{err:?}"
    );
}

#[tokio::test]
async fn error_statuses_keep_status_and_problem_details() {
    let files = scripted(|_, _| {
        (
            403,
            r#"{"type":"https://seequent.com/error-codes/file-api/auth/insufficient-role","title":"Insufficient Role.","status":403,"your_role":"viewer"}"#.into(),
        )
    });
    let err = files.delete_by_path("a.txt").await.unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::FORBIDDEN));
    assert!(
        err.problem_type()
            .unwrap()
            .ends_with("/auth/insufficient-role")
    );
    let problem = err
        .as_service()
        .unwrap()
        .as_api()
        .unwrap()
        .problem()
        .unwrap();
    assert_eq!(problem.extra["your_role"], "viewer");

    let files = scripted(|_, _| (500, "<html>oops</html>".into()));
    let err = files
        .get_by_path("a.txt", &GetOptions::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("oops"), "{err}");
}

#[tokio::test]
async fn answers_for_the_wrong_file_or_version_are_refused() {
    let asked = Uuid::from_u128(10);
    let other = Uuid::from_u128(11);
    let files = scripted(move |_, _| (200, metadata_json(asked, "7")));
    let err = files
        .get_by_id(asked, &GetOptions::new().version("6"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unexpected(_)), "{err}");
    assert!(err.to_string().contains("version 6"), "{err}");

    let files = scripted(move |_, _| {
        (
            200,
            serde_json::json!({"file_id": other, "upload": "http://blob.invalid/c/b?sig=S", "version_id": "1"})
                .to_string(),
        )
    });
    let err = files.register_upload_by_id(asked, None).await.unwrap_err();
    assert!(matches!(err, Error::Unexpected(_)), "{err}");

    let files = scripted(move |_, _| {
        (
            200,
            serde_json::json!({"file_id": asked, "upload": "not a url", "version_id": "1"})
                .to_string(),
        )
    });
    let err = files
        .register_upload_by_path("a.bin", None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not a URL"), "{err}");
}

#[tokio::test]
async fn restore_answers_are_checked() {
    let id = Uuid::from_u128(20);
    let files = scripted(|_, _| (204, "{\"unexpected\": true}".into()));
    let err = files.restore(id).await.unwrap_err();
    assert!(matches!(err, Error::Unexpected(_)), "{err}");

    let files = scripted(|_, _| (303, metadata_json(Uuid::from_u128(21), "1")));
    let err = files.restore(id).await.unwrap_err();
    assert!(err.to_string().contains("metadata of"), "{err}");

    let files = scripted(|_, _| (303, "garbage".into()));
    let err = files.restore(id).await.unwrap_err();
    assert!(
        matches!(err.as_service(), Some(evo_core::Error::Decode(_))),
        "{err:?}"
    );

    let files = scripted(|_, _| (200, "{}".into()));
    let err = files.restore(id).await.unwrap_err();
    assert_eq!(
        err.status(),
        Some(http::StatusCode::OK),
        "a 200 is not a restore answer"
    );
}

#[tokio::test]
async fn a_listing_that_never_ends_is_bounded_by_its_total() {
    // A server that always claims a next page and repeats the same file.
    let files = scripted(|_, _| {
        let file = serde_json::json!({
            "file_id": Uuid::from_u128(5), "name": "x", "path": "/", "version_id": "1", "size": 1,
            "etag": "", "created_at": "2024-01-01T00:00:00Z", "modified_at": "2024-01-01T00:00:00Z",
            "links": {"self": "x"}
        });
        (
            200,
            serde_json::json!({"count": 1, "total": 3, "limit": 1, "offset": 0,
                "links": {"self": "", "next": "http://hub.invalid/next", "prev": null},
                "files": [file]})
            .to_string(),
        )
    });
    use futures_util::StreamExt;
    let all: Vec<_> = files
        .list_all(ListFilesQuery::new().limit(1))
        .collect()
        .await;
    assert_eq!(all.len(), 3, "stops once `total` files were received");
}

#[tokio::test]
async fn an_upload_that_never_shows_times_out() {
    // The emulator, with every "is version N there yet?" poll answered 404.
    let s = common::start(|b| b).await;
    let inner = s.transport.clone();
    let hiding: SharedTransport = Arc::new(transport_fn(move |request: Request<Body>| {
        let inner = inner.clone();
        async move {
            let pq = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_owned());
            let poll = request.method() == http::Method::GET
                && pq
                    .as_deref()
                    .is_some_and(|p| p.contains("/files/") && p.contains("version_id="));
            if poll {
                return Ok(Response::builder()
                    .status(404)
                    .body(Body::from("{}"))
                    .unwrap());
            }
            inner.send(request).await
        }
    }));
    let connector = ApiConnector::builder(s.emu.hub_url())
        .transport(hiding)
        .authorizer(Arc::new(evo_core::StaticTokenAuthorizer::new(
            s.emu.issue_token(&["evo.file"]),
        )))
        .build()
        .unwrap();
    let files = FilesClient::builder(s.environment.clone(), connector)
        .visibility_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = files
        .upload_bytes("hidden/x.bin", vec![1, 2, 3])
        .await
        .unwrap_err();
    match &err {
        Error::NotVisible {
            waited, version_id, ..
        } => {
            assert!(*waited >= Duration::from_millis(300), "{waited:?}");
            assert!(!version_id.is_empty());
        }
        other => panic!("expected NotVisible, got {other:?}"),
    }
    assert!(err.is_retryable());
}
