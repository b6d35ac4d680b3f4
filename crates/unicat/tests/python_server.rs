//! The connector against a Unicat server written in Python (python-socketio on aiohttp, from
//! the peers' venv) from the protocol description, not from this client: `unicat_server.py`.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use evo_testkit::ChildGuard;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;
use unicat::{ChangeEvent, DataType, Error, Subscription, SyncHandle, SyncOptions, UnicatClient};

const PROJECT: &str = "p-test";
const API_KEY: &str = "secret-api-key";

/// A running unicat_server.py on 127.0.0.1 and a free port, killed on drop.
struct Server {
    child: Option<ChildGuard>,
    port: u16,
    state: PathBuf,
    page_size: usize,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Server {
        Server::with_page_size(100).await
    }

    async fn with_page_size(page_size: usize) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut server = Server {
            child: None,
            port: evo_testkit::free_port(),
            state: dir.path().join("state.json"),
            page_size,
            _dir: dir,
        };
        server.spawn().await;
        server
    }

    async fn spawn(&mut self) {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/unicat_server.py");
        for _ in 0..50 {
            let mut command = Command::new(evo_testkit::python());
            command
                .arg(&script)
                .arg("--port")
                .arg(self.port.to_string())
                .arg("--state")
                .arg(&self.state)
                .arg("--page-size")
                .arg(self.page_size.to_string())
                .stdout(Stdio::piped());
            let mut child = ChildGuard::spawn(command);
            let stdout = child.child_mut().stdout.take().expect("piped");
            let mut lines = BufReader::new(stdout).lines();
            let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
                .await
                .expect("unicat_server.py did not start within 30 s")
                .expect("reading its output");
            if line.is_some_and(|l| l.starts_with("LISTENING")) {
                tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
                self.child = Some(child);
                return;
            }
            // The port is still held by the previous process: try again.
            child.kill().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("unicat_server.py could not listen on port {}", self.port);
    }

    /// Kills the server (its state stays in the state file).
    async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await;
        }
    }

    async fn restart(&mut self) {
        self.stop().await;
        self.spawn().await;
    }

    fn base_url(&self) -> url::Url {
        format!("http://127.0.0.1:{}", self.port).parse().unwrap()
    }

    async fn control(&self, name: &str, body: Value) -> Value {
        http(self.port, "POST", &format!("/control/{name}"), Some(body)).await
    }

    async fn stats(&self) -> Value {
        http(self.port, "GET", "/control/stats", None).await
    }

    async fn calls(&self, endpoint: &str) -> u64 {
        self.stats().await["calls"][endpoint].as_u64().unwrap_or(0)
    }

    async fn put(&self, data_type: &str, key: &str, value: Value) -> Value {
        self.control(
            "put",
            json!({"data_type": data_type, "key": key, "value": value}),
        )
        .await
    }

    async fn put_lost(&self, data_type: &str, key: &str, value: Value) -> Value {
        self.control(
            "put",
            json!({"data_type": data_type, "key": key, "value": value, "emit": false}),
        )
        .await
    }

    async fn name_record(&self, gid: &str, name: &str) -> Value {
        self.put("records", gid, record(gid, name)).await
    }
}

fn record(gid: &str, name: &str) -> Value {
    json!({"gid": gid, "definition": "def-1", "fields": {"en": {"name": name}}})
}

fn name_of(record: &Value) -> Value {
    record["fields"]["en"]["name"].clone()
}

/// A minimal HTTP/1.1 JSON request to the control routes; fails the test after 30 s.
async fn http(port: u16, method: &str, path: &str, body: Option<Value>) -> Value {
    let exchange = async {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connecting to unicat_server.py");
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        let text = String::from_utf8(response).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
        assert!(head.starts_with("HTTP/1.1 200"), "{path}: {head}\n{body}");
        serde_json::from_str(body).expect("JSON")
    };
    tokio::time::timeout(Duration::from_secs(30), exchange)
        .await
        .unwrap_or_else(|_| panic!("{method} {path} took more than 30 s"))
}

fn options() -> SyncOptions {
    SyncOptions {
        backoff: evo_sync::BackoffPolicy {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(200),
            reset_after: Duration::from_secs(60),
        },
        ack_timeout: Duration::from_secs(10),
        ..SyncOptions::default()
    }
}

async fn client(server: &Server) -> UnicatClient {
    let client = UnicatClient::builder(server.base_url(), PROJECT)
        .transport(Arc::new(evo_hyper::HyperTransport::new()))
        .build()
        .unwrap();
    client.connect(API_KEY).await.unwrap();
    client
        .call("/records/get", json!({"record": "rec-1"}))
        .await
        .unwrap();
    client
}

async fn connected(server: &Server) -> (UnicatClient, SyncHandle, Subscription) {
    let client = client(server).await;
    let events = client.subscribe();
    let sync = client.start_sync(options()).unwrap();
    assert!(
        sync.wait_connected(Duration::from_secs(20)).await,
        "{:?}",
        sync.status()
    );
    (client, sync, events)
}

/// Receives events until one matches; fails after 20 s with what came.
async fn until(
    events: &mut Subscription,
    wanted: impl Fn(&ChangeEvent) -> bool,
) -> Vec<ChangeEvent> {
    let mut seen = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(20), events.recv())
            .await
            .unwrap_or_else(|_| panic!("the expected event never came; got {seen:?}"))
            .expect("client gone");
        let done = wanted(&event);
        seen.push(event);
        if done {
            return seen;
        }
    }
}

async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

fn changed_to(name: &'static str) -> impl Fn(&ChangeEvent) -> bool {
    move |e| matches!(e, ChangeEvent::RecordChanged { record, .. } if name_of(record) == name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_without_data_are_fetched_by_the_rules() {
    let server = Server::start().await;
    let (client, _sync, mut events) = connected(&server).await;
    assert!(
        client.with_stores(|s| s.contains(DataType::Fields, "f-name")),
        "the auth answer's data"
    );
    let gets = server.calls("/records/get").await;

    // UPDATE of a held record: fetched (the item carries no data), reported.
    server.name_record("rec-1", "Changed").await;
    until(&mut events, changed_to("Changed")).await;
    assert_eq!(server.calls("/records/get").await, gets + 1);

    // INSERT of a record, UPDATE of a record not held: not fetched.
    server.name_record("rec-new", "new").await;
    server.name_record("rec-2", "not held").await;
    // INSERT of base data: fetched.
    server
        .put("layouts", "lay-1", json!({"gid": "lay-1", "name": "card"}))
        .await;
    until(&mut events, |e| matches!(e, ChangeEvent::SchemaChanged { data_type: DataType::Layouts, key } if key == "lay-1")).await;
    assert_eq!(server.calls("/records/get").await, gets + 1);
    assert!(client.record("rec-new").is_none() && client.record("rec-2").is_none());
    assert_eq!(server.calls("/layouts/get").await, 1);

    // Members: of another project not fetched; of ours fetched through //members/get.
    server
        .put(
            "cc.projects_members",
            "p-other/u-x",
            json!({"project_gid": "p-other", "user_gid": "u-x", "status": "active"}),
        )
        .await;
    server
        .put(
            "cc.projects_members",
            "p-test/u-new",
            json!({"project_gid": "p-test", "user_gid": "u-new", "status": "invited"}),
        )
        .await;
    until(&mut events, |e| matches!(e, ChangeEvent::Changed { data_type: DataType::ProjectMembers, key } if key == "p-test/u-new")).await;
    assert_eq!(server.calls("//members/get").await, 1);
    assert_eq!(
        client.with_stores(|s| s.project_member("p-test", "u-new").cloned()),
        Some(json!({"project_gid": "p-test", "user_gid": "u-new", "status": "invited"}))
    );

    // UPDATE of a global user the stores hold (from auth): fetched through //users/get.
    server
        .put(
            "cc.users",
            "u-owner",
            json!({"gid": "u-owner", "username": "renamed"}),
        )
        .await;
    until(&mut events, |e| {
        matches!(
            e,
            ChangeEvent::Changed {
                data_type: DataType::Users,
                ..
            }
        )
    })
    .await;
    assert_eq!(
        client
            .with_stores(|s| s.get(DataType::Users, "u-owner").cloned())
            .unwrap()["username"],
        "renamed"
    );

    // DELETE: fetched first (the race guard; Unicat answers an error), then dropped.
    server
        .control("delete", json!({"data_type": "records", "key": "rec-1"}))
        .await;
    until(&mut events, |e| matches!(e, ChangeEvent::Deleted { data_type: DataType::Records, key } if key == "rec-1")).await;
    assert!(client.record("rec-1").is_none());
    assert_eq!(server.calls("/records/get").await, gets + 2);
    let head = server.stats().await["head"].clone();
    eventually("the cursors at the server's heads", || {
        let c = client.cursors();
        json!({"cc": c.cc, "project": c.project}) == head
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_unknown_and_malformed_items_are_skipped_with_a_warning() {
    let server = Server::start().await;
    let (client, _sync, mut events) = connected(&server).await;
    server.name_record("rec-1", "v1").await;
    until(&mut events, changed_to("v1")).await;
    let gets = server.calls("/records/get").await;
    let applied = client.cursors().project;
    assert!(applied > 0);
    server
        .control(
            "emit",
            json!({"items": [
                {"type": PROJECT, "cursor": applied, "action": "UPDATE", "data_type": "records", "data_key": "rec-1"},
                {"type": PROJECT, "cursor": applied - 1, "action": "DELETE", "data_type": "records", "data_key": "rec-1"},
                {"type": PROJECT, "action": "UPDATE", "data_type": "records", "data_key": "rec-1"},
                {"type": PROJECT, "cursor": "x", "action": "UPDATE", "data_type": "records", "data_key": "rec-1"},
                "junk",
                42,
            ]}),
        )
        .await;
    server
        .control("emit", json!({"items": {"not": "a list"}}))
        .await;
    // A data type this client does not know, in the log: skipped, its cursor still applied.
    let unknown = server
        .control(
            "item",
            json!({"stream": "project", "action": "INSERT", "data_type": "holograms", "data_key": "h1"}),
        )
        .await;
    server.name_record("rec-1", "after junk").await;
    until(&mut events, changed_to("after junk")).await;
    // The cursor advances once the item is applied, just after its change event.
    let unknown_cursor = unknown["cursor"].as_u64().unwrap();
    eventually("the cursor past the unknown item", || {
        client.cursors().project > unknown_cursor
    })
    .await;
    assert_eq!(
        server.calls("/records/get").await,
        gets + 1,
        "only the real change was fetched"
    );
    assert_eq!(
        client.record("rec-1").map(|r| name_of(&r)),
        Some(json!("after junk")),
        "the lagging DELETE did not drop it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authorization_event_is_used_by_the_next_rest_call_and_reconnect() {
    let server = Server::start().await;
    let (client, _sync, mut events) = connected(&server).await;
    let generation = client.authorizer().generation();
    let rotated = server.control("rotate", json!({})).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually("the rotation", || {
        client.authorizer().generation() > generation
    })
    .await;
    assert_eq!(client.authorizer().token().unwrap().expose(), rotated);
    let auths = server.calls("/auth").await;
    // The old JWT stopped working: this call succeeds only with the rotated one.
    client
        .call("/records/get", json!({"record": "rec-2"}))
        .await
        .unwrap();
    let stats = server.stats().await;
    assert_eq!(
        stats["rest_tokens"].as_array().unwrap().last().unwrap(),
        &json!(rotated)
    );
    assert_eq!(
        server.calls("/auth").await,
        auths,
        "no re-authentication needed"
    );

    server.control("disconnect", json!({})).await;
    until(&mut events, |e| matches!(e, ChangeEvent::Reconnected)).await;
    let stats = server.stats().await;
    assert_eq!(
        stats["socket_tokens"].as_array().unwrap().last().unwrap(),
        &json!(rotated)
    );

    // A JWT rotated in an ordinary answer's Authorization header is used next, too.
    server.control("rotate_rest", json!({"count": 1})).await;
    client
        .call("/records/get", json!({"record": "rec-1"}))
        .await
        .unwrap();
    let issued = server.stats().await["tokens"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(issued, rotated);
    assert_eq!(client.authorizer().token().unwrap().expose(), issued);
    client
        .call("/records/get", json!({"record": "rec-1"}))
        .await
        .unwrap();
    let stats = server.stats().await;
    assert_eq!(
        stats["rest_tokens"].as_array().unwrap().last().unwrap(),
        &json!(issued)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rest_401_clears_the_token_and_authenticates_again_once() {
    let server = Server::start().await;
    let client = client(&server).await;
    let auths = server.calls("/auth").await;
    server.control("expire", json!({})).await;
    // The 401 (WWW-Authenticate) clears the JWT; the API key gets a new one; the call is sent
    // once more and succeeds.
    let generation = client.authorizer().generation();
    client
        .call("/records/get", json!({"record": "rec-2"}))
        .await
        .unwrap();
    assert_eq!(server.calls("/auth").await, auths + 1);
    assert!(
        client.authorizer().generation() >= generation + 2,
        "cleared, then set"
    );
    assert!(client.record("rec-2").is_some());

    // Many calls rejected at once: one re-authentication.
    server.control("expire", json!({})).await;
    let calls = (0..8).map(|_| {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .call("/records/get", json!({"record": "rec-1"}))
                .await
        })
    });
    for call in futures_util::future::join_all(calls).await {
        call.unwrap().unwrap();
    }
    assert_eq!(server.calls("/auth").await, auths + 2);

    // The API key was revoked: one attempt, then a typed error, and no token held.
    server.control("expire", json!({})).await;
    server.control("api_key", json!({"api_key": "other"})).await;
    let err = client
        .call("/records/get", json!({"record": "rec-1"}))
        .await
        .unwrap_err();
    assert!(err.is_unauthorized(), "{err:?}");
    assert!(matches!(err, Error::Unicat { code: 401, .. }), "{err:?}");
    assert!(!client.authorizer().has_token());
    assert_eq!(server.calls("/auth").await, auths + 3);
    assert!(!format!("{err} {err:?}").contains(API_KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_answer_to_an_older_token_does_not_clear_the_rotated_one() {
    let server = Server::start().await;
    let (client, _sync, _events) = connected(&server).await;
    let auths = server.calls("/auth").await;
    // The next call waits 1.5 s before the server checks its token; meanwhile the token is
    // rotated over Socket.IO (the old one stops working).
    server
        .control("slow", json!({"count": 1, "ms": 1500}))
        .await;
    let slow = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .call("/records/get", json!({"record": "rec-2"}))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let generation = client.authorizer().generation();
    let rotated = server.control("rotate", json!({})).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually("the rotation", || {
        client.authorizer().generation() > generation
    })
    .await;
    // The slow answer is a 401 with WWW-Authenticate to the old token: the rotated token
    // stays, and the call is sent once more with it.
    slow.await.unwrap().unwrap();
    assert_eq!(client.authorizer().token().unwrap().expose(), rotated);
    assert_eq!(server.calls("/auth").await, auths, "no re-authentication");
    let tokens = server.stats().await["rest_tokens"].clone();
    assert_eq!(tokens.as_array().unwrap().last().unwrap(), &json!(rotated));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_and_restarts_resume_from_the_cursors() {
    let mut server = Server::start().await;
    let (client, sync, mut events) = connected(&server).await;

    // Socket.IO delivers at most once: a change whose event is lost arrives with the catch-up
    // of the next connection.
    server
        .put_lost("records", "rec-1", record("rec-1", "lost"))
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        client.record("rec-1").map(|r| name_of(&r)),
        Some(json!("First"))
    );
    server.control("disconnect", json!({})).await;
    until(&mut events, changed_to("lost")).await;

    // A restart: the server comes back with its log; a change lost before it arrives.
    server
        .put_lost("records", "rec-1", record("rec-1", "before restart"))
        .await;
    let cursors = client.cursors();
    server.restart().await;
    until(&mut events, changed_to("before restart")).await;
    // The lost change may come with the REST catch-up that runs after a connection ends, or
    // with the next connection's initsync: either way, from the cursors, never from zero.
    assert!(
        sync.wait_connected(Duration::from_secs(20)).await,
        "{:?}",
        sync.status()
    );
    let stats = server.stats().await;
    let initsync = &stats["initsyncs"][0];
    assert_eq!(initsync["project"], PROJECT);
    let resumed_at = initsync["cursor"].as_u64().expect("a cursor in initsync");
    assert!(
        resumed_at >= cursors.project && resumed_at <= client.cursors().project,
        "resumed from the cursors: {resumed_at} not in {}..={}",
        cursors.project,
        client.cursors().project
    );
    assert!(initsync["cc.cursor"].as_u64().expect("a cc.cursor") >= cursors.cc);
    server.name_record("rec-1", "live again").await;
    until(&mut events, changed_to("live again")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_restore_reinitialises_the_stores_once() {
    let server = Server::start().await;
    let (client, _sync, mut events) = connected(&server).await;
    server.control("backup", json!({})).await;
    server
        .put("queries", "q-new", json!({"gid": "q-new"}))
        .await;
    until(
        &mut events,
        |e| matches!(e, ChangeEvent::SchemaChanged { key, .. } if key == "q-new"),
    )
    .await;
    let inits = server.calls("/init").await;
    let restore = server.control("restore", json!({})).await;
    let seen = until(&mut events, |e| matches!(e, ChangeEvent::Reinitialized)).await;
    let statuses: Vec<_> = seen
        .iter()
        .filter_map(|e| match e {
            ChangeEvent::Job(j) if j.job == "restore_project" => Some(j.status.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, ["queued", "processing", "done"]);
    assert!(!client.with_stores(|s| s.contains(DataType::Queries, "q-new")));
    assert_eq!(server.calls("/init").await, inits + 1);

    // The same job items replayed (jobs are exempt from the lag check): no second re-init.
    server
        .control("emit", json!({"items": restore["items"]}))
        .await;
    server
        .control("version", json!({"version": "2026.01.001"}))
        .await;
    let seen = until(&mut events, |e| {
        matches!(e, ChangeEvent::ServerVersionChanged { current, .. } if current == "2026.01.001")
    })
    .await;
    assert!(
        !seen.iter().any(|e| matches!(e, ChangeEvent::Reinitialized)),
        "{seen:?}"
    );
    assert_eq!(server.calls("/init").await, inits + 1);
    assert_eq!(client.server_version().as_deref(), Some("2026.01.001"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rest_catch_up_pages_until_no_warning() {
    let server = Server::with_page_size(2).await;
    let client = client(&server).await;
    for n in 0..5 {
        server
            .put_lost("records", "rec-1", record("rec-1", &format!("v{n}")))
            .await;
    }
    server
        .put_lost(
            "cc.users",
            "u-owner",
            json!({"gid": "u-owner", "username": "polled"}),
        )
        .await;
    client.catch_up().await.unwrap();
    let head = server.stats().await["head"].clone();
    let cursors = client.cursors();
    assert_eq!(json!({"cc": cursors.cc, "project": cursors.project}), head);
    assert_eq!(
        client.record("rec-1").map(|r| name_of(&r)),
        Some(json!("v4"))
    );
    assert!(
        server.calls("/sync/get").await >= 3,
        "paged through the warnings"
    );

    // The polling mode of start_sync (for networks that block WebSockets).
    let mut events = client.subscribe();
    let sync = client
        .start_sync(SyncOptions {
            poll_interval: Some(Duration::from_millis(50)),
            ..options()
        })
        .unwrap();
    server.name_record("rec-1", "polled").await;
    until(&mut events, changed_to("polled")).await;
    sync.stop().await;
}
