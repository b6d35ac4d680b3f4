//! Client behaviour on a scripted transport: batching, gzip both ways, conditional get,
//! restore outcomes, and answers that contradict the request.

use crate::common;

use common::{gunzip, gzip, mock_client, mock_client_with};
use evo_core::test_util::MockResponse;
use evo_objects::{
    Conditional, DataFile, Error, GetOptions, LATEST_VERSIONS_BATCH, ObjectPath, RestoreOutcome,
};
use http::Method;
use serde_json::{Value, json};
use uuid::Uuid;

fn object_answer(id: Uuid, version: &str, object: Value) -> Value {
    json!({
        "object_id": id,
        "object_path": "a/b.json",
        "object": object,
        "version_id": version,
        "etag": "",
        "created_at": "2024-01-01T00:00:00Z",
        "modified_at": "2024-01-01T00:00:00Z",
        "links": {"download": "https://hub.test/x", "data": []}
    })
}

fn point_set(id: Option<Uuid>) -> Value {
    json!({"schema": "/objects/pointset/1.3.0/pointset.schema.json", "uuid": id, "name": "p"})
}

#[tokio::test]
async fn latest_versions_are_asked_in_batches_of_500() {
    let (mock, client) = mock_client();
    let ids: Vec<Uuid> = (0..1200u128).map(Uuid::from_u128).collect();
    for batch in ids.chunks(LATEST_VERSIONS_BATCH) {
        let answer: Vec<Value> = batch
            .iter()
            .map(|id| json!({"object_id": id, "version_id": if id.as_u128() % 2 == 0 { Value::from("7") } else { Value::Null }}))
            .collect();
        mock.push(MockResponse::json(200, &answer));
    }
    let latest = client.latest_versions(&ids).await.unwrap();
    assert_eq!(latest.len(), 1200);
    assert_eq!(latest[2].version_id.as_deref(), Some("7"));
    assert_eq!(latest[3].version_id, None);
    let requests = mock.requests();
    assert_eq!(requests.len(), 3);
    let sizes: Vec<usize> = requests
        .iter()
        .map(|r| {
            assert_eq!(r.method, Method::PATCH);
            let body = if r.header("content-encoding") == Some("gzip") {
                gunzip(&r.body)
            } else {
                r.body.to_vec()
            };
            serde_json::from_slice::<Vec<Uuid>>(&body).unwrap().len()
        })
        .collect();
    assert_eq!(sizes, [500, 500, 200]);
}

#[tokio::test]
async fn an_answer_for_objects_not_asked_for_is_refused() {
    let (mock, client) = mock_client();
    mock.push(MockResponse::json(
        200,
        &json!([{"object_id": Uuid::from_u128(9), "version_id": "1"}]),
    ));
    let err = client
        .latest_versions(&[Uuid::from_u128(1)])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unexpected(_)), "{err:?}");
}

#[tokio::test]
async fn put_data_is_asked_in_batches_of_32_and_only_missing_files_are_sent() {
    let (mock, client) = mock_client();
    let files: Vec<DataFile> = (0..40u32)
        .map(|i| DataFile::from_bytes(i.to_le_bytes().to_vec()))
        .collect();
    // Every file exists already: nothing may be uploaded.
    for batch in files.chunks(32) {
        let answer: Vec<Value> = batch
            .iter()
            .map(|f| json!({"name": f.name(), "id": Uuid::new_v4(), "exists": true}))
            .collect();
        mock.push(MockResponse::json(200, &answer));
    }
    let report = client.upload_data(&files, None).await.unwrap();
    assert_eq!(report.bytes_uploaded, 0);
    assert_eq!(report.skipped.len(), 40);
    let requests = mock.requests();
    assert_eq!(requests.len(), 2, "only the two PUT data calls");
    assert!(
        requests
            .iter()
            .all(|r| r.method == Method::PUT && r.path().ends_with("/data"))
    );
    let first: Vec<Value> = requests[0].body_json().unwrap();
    assert_eq!(first.len(), 32);
    assert_eq!(first[0]["name"], files[0].name());
}

#[tokio::test]
async fn a_missing_file_without_an_upload_url_is_an_error() {
    let (mock, client) = mock_client();
    let file = DataFile::from_bytes(&b"x"[..]);
    mock.push(MockResponse::json(
        200,
        &json!([{"name": file.name(), "id": Uuid::nil(), "exists": false}]),
    ));
    let err = client.upload_data(&[file], None).await.unwrap_err();
    assert!(err.to_string().contains("no upload URL"), "{err}");
}

#[tokio::test]
async fn large_objects_are_sent_gzipped_and_small_ones_plain() {
    let (mock, client) = mock_client_with(|b| b.gzip_threshold(Some(1000)));
    let mut big = point_set(None);
    big["description"] = Value::from("x".repeat(5000));
    let id = Uuid::from_u128(5);
    mock.push(MockResponse::json(
        201,
        &object_answer(id, "1", big.clone()),
    ));
    client.create("a/b.json", &big).await.unwrap();
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.header("content-encoding"), Some("gzip"));
    assert!(sent.body.len() < 1000);
    let decoded: Value = serde_json::from_slice(&gunzip(&sent.body)).unwrap();
    assert_eq!(decoded["description"], big["description"]);

    let small = point_set(None);
    mock.push(MockResponse::json(
        201,
        &object_answer(id, "2", small.clone()),
    ));
    client.create("a/c.json", &small).await.unwrap();
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.header("content-encoding"), None);
    assert_eq!(sent.body_json::<Value>().unwrap()["uuid"], Value::Null);
}

#[tokio::test]
async fn a_damaged_or_oversized_gzip_answer_is_a_decode_error() {
    let (mock, client) = mock_client_with(|b| b.max_object_bytes(10_000));
    let id = Uuid::from_u128(5);
    mock.push(
        MockResponse::new(200)
            .header("content-encoding", "gzip")
            .body("not gzip at all"),
    );
    let err = client.get_by_id(id, &GetOptions::new()).await.unwrap_err();
    assert!(err.to_string().contains("gzip"), "{err}");

    let mut huge = point_set(Some(id));
    huge["description"] = Value::from(" ".repeat(50_000));
    let body = serde_json::to_vec(&object_answer(id, "1", huge)).unwrap();
    let packed = gzip(&body);
    assert!(
        packed.len() < 10_000,
        "the compressed body is within the limit"
    );
    mock.push(
        MockResponse::new(200)
            .header("content-encoding", "gzip")
            .body(packed),
    );
    let err = client.get_by_id(id, &GetOptions::new()).await.unwrap_err();
    assert!(err.to_string().contains("limit"), "{err}");
}

#[tokio::test]
async fn gzipped_problem_details_keep_their_meaning() {
    let (mock, client) = mock_client();
    let problem = json!({"type": "https://seequent.com/error-codes/geoscienceobject/objects/not-found", "title": "Not found", "status": 404, "detail": "no object"});
    mock.push(
        MockResponse::new(404)
            .header("content-type", "application/problem+json")
            .header("content-encoding", "gzip")
            .body(gzip(&serde_json::to_vec(&problem).unwrap())),
    );
    let err = client
        .get_by_path("a/b.json", &GetOptions::new())
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.problem_detail(), Some("no object"));
}

#[tokio::test]
async fn conditional_get_answers_unchanged_or_the_new_version() {
    let (mock, client) = mock_client();
    let id = Uuid::from_u128(3);
    mock.push(MockResponse::new(304));
    assert_eq!(
        client.get_if_changed(id, "10").await.unwrap(),
        Conditional::Unchanged
    );
    assert_eq!(
        mock.last_request().unwrap().header("if-none-match"),
        Some("10")
    );
    mock.push(MockResponse::json(
        200,
        &object_answer(id, "11", point_set(Some(id))),
    ));
    match client.get_if_changed(id, "10").await.unwrap() {
        Conditional::Changed(o) => assert_eq!(o.version_id, "11"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn answers_about_another_object_or_version_are_refused() {
    let (mock, client) = mock_client();
    let id = Uuid::from_u128(3);
    let other = Uuid::from_u128(4);
    mock.push(MockResponse::json(
        200,
        &object_answer(other, "1", point_set(Some(other))),
    ));
    let err = client.get_by_id(id, &GetOptions::new()).await.unwrap_err();
    assert!(matches!(err, Error::Unexpected(_)), "{err:?}");
    mock.push(MockResponse::json(
        200,
        &object_answer(id, "2", point_set(Some(id))),
    ));
    let err = client
        .get_by_id(id, &GetOptions::new().version("1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unexpected(_)), "{err:?}");
    assert!(
        mock.last_request()
            .unwrap()
            .query()
            .unwrap()
            .contains("version=1")
    );
}

#[tokio::test]
async fn restore_tells_restored_from_moved() {
    let (mock, client) = mock_client();
    let id = Uuid::from_u128(3);
    mock.push(MockResponse::new(204));
    assert_eq!(client.restore(id).await.unwrap(), RestoreOutcome::Restored);
    let request = mock.last_request().unwrap();
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.query(), Some("deleted=false"));
    assert!(request.body.is_empty());
    mock.push(MockResponse::json(
        303,
        &object_answer(id, "5", point_set(Some(id))),
    ));
    assert!(
        matches!(client.restore(id).await.unwrap(), RestoreOutcome::Moved(o) if o.version_id == "5")
    );
}

#[tokio::test]
async fn local_checks_happen_before_any_request() {
    let (mock, client) = mock_client();
    let id = Uuid::from_u128(3);
    assert!(matches!(
        client.create("a/b.json", &point_set(Some(id))).await,
        Err(Error::InvalidObject(_))
    ));
    assert!(matches!(
        client
            .create("a/b.json", &json!({"name": "no schema"}))
            .await,
        Err(Error::InvalidObject(_))
    ));
    assert!(matches!(
        client.create("a//b.json", &point_set(None)).await,
        Err(Error::InvalidPath { .. })
    ));
    assert!(matches!(
        client
            .update_by_id(Uuid::from_u128(9), &point_set(Some(id)), None)
            .await,
        Err(Error::InvalidObject(_))
    ));
    assert!(
        client
            .get(
                ObjectPath::new("a").unwrap(),
                &GetOptions::new().include_deleted(true)
            )
            .await
            .is_err()
    );
    assert_eq!(mock.request_count(), 0);
}

#[tokio::test]
async fn paths_with_spaces_and_unicode_are_escaped() {
    let (mock, client) = mock_client();
    let id = Uuid::from_u128(3);
    mock.push(MockResponse::json(
        200,
        &object_answer(id, "1", point_set(Some(id))),
    ));
    client
        .get_by_path("my folder/ü.json", &GetOptions::new())
        .await
        .unwrap();
    let path = mock.last_request().unwrap().path().to_owned();
    assert!(
        path.ends_with("/objects/path/my%20folder/%C3%BC.json"),
        "{path}"
    );
}
