//! Misbehaving servers: paging links that loop, point nowhere, or keep going on empty pages end
//! the stream with a typed error; malformed bodies are decode errors that keep the status.

use std::sync::Arc;

use evo_core::http::{Request, Response};
use evo_core::uuid::Uuid;
use evo_core::{ApiConnector, Body, Error, RetryPolicy, transport_fn};
use evo_workspaces::{ListWorkspacesQuery, WorkspacesClient};
use futures_util::TryStreamExt;

const HUB: &str = "http://hub.test/";

fn summary_page(ids: &[u128], next: Option<&str>) -> String {
    let results: Vec<serde_json::Value> = ids
        .iter()
        .map(|i| serde_json::json!({"id": Uuid::from_u128(*i), "name": format!("w{i}")}))
        .collect();
    serde_json::json!({
        "links": {"first": format!("{HUB}first"), "last": format!("{HUB}last"), "next": next,
                  "previous": null, "count": ids.len(), "total": 99},
        "results": results,
    })
    .to_string()
}

/// A client whose server answers `respond(path_and_query)` with status 200.
fn client(respond: fn(&str) -> (u16, String)) -> WorkspacesClient {
    let transport = transport_fn(move |request: Request<Body>| async move {
        let target = request
            .uri()
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default();
        let (status, body) = respond(&target);
        Ok(Response::builder()
            .status(status)
            .body(Body::from(body))
            .unwrap())
    });
    let connector = ApiConnector::builder(HUB.parse().unwrap())
        .transport(Arc::new(transport))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    WorkspacesClient::new(Uuid::nil(), connector)
}

async fn collect(ws: &WorkspacesClient) -> (Vec<String>, Option<Error>) {
    let mut stream = std::pin::pin!(ws.list_all_workspaces_summary(ListWorkspacesQuery::default()));
    let mut names = Vec::new();
    loop {
        match stream.try_next().await {
            Ok(Some(s)) => names.push(s.name),
            Ok(None) => return (names, None),
            Err(e) => return (names, Some(e)),
        }
    }
}

#[tokio::test]
async fn looping_links_are_an_error() {
    let ws = client(|target| {
        if target.starts_with("/workspace/") {
            (200, summary_page(&[1], Some("http://hub.test/again")))
        } else {
            (200, summary_page(&[2], Some("http://hub.test/again")))
        }
    });
    let (names, err) = collect(&ws).await;
    assert_eq!(names, ["w1", "w2"]);
    let err = err.expect("an error");
    assert!(matches!(err, Error::Decode(_)), "{err}");
    assert!(err.to_string().contains("loop"), "{err}");
}

#[tokio::test]
async fn empty_page_with_next_link_is_an_error() {
    let ws = client(|_| (200, summary_page(&[], Some("http://hub.test/more"))));
    let (names, err) = collect(&ws).await;
    assert!(names.is_empty());
    assert!(err.expect("an error").to_string().contains("empty page"));
}

#[tokio::test]
async fn bad_links_are_errors() {
    let ws = client(|_| (200, summary_page(&[1], Some("not a url"))));
    let (names, err) = collect(&ws).await;
    assert_eq!(names, ["w1"]);
    assert!(
        err.expect("an error")
            .to_string()
            .contains("not an absolute URL")
    );
    let ws = client(|_| (200, summary_page(&[1], Some("file:///etc/passwd"))));
    let (_, err) = collect(&ws).await;
    assert!(err.expect("an error").to_string().contains("not an http"));
}

#[tokio::test]
async fn a_last_page_ends_the_stream() {
    let ws = client(|target| match target {
        t if t.starts_with("/workspace/") => {
            (200, summary_page(&[1, 2], Some("http://hub.test/p2")))
        }
        "/p2" => (200, summary_page(&[3], None)),
        other => (404, format!("unexpected {other}")),
    });
    let (names, err) = collect(&ws).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(names, ["w1", "w2", "w3"]);
}

#[tokio::test]
async fn malformed_bodies_are_decode_errors() {
    let ws = client(|_| (200, "{\"links\": {}, \"results\": [".to_owned()));
    let err = ws
        .list_workspaces(&ListWorkspacesQuery::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err}");
    let ws = client(|_| (200, "{\"id\": \"not-a-uuid\"}".to_owned()));
    let err = ws.get_workspace(Uuid::nil()).await.unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err}");
    // A 204 that carries a body is not silently accepted.
    let ws = client(|_| (204, "surprise".to_owned()));
    let err = ws.delete_workspace(Uuid::nil()).await.unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err}");
    // A status the operation does not list is an API error with the body kept.
    let ws = client(|_| (200, String::new()));
    let err = ws.delete_workspace(Uuid::nil()).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200), "{err}");
}
