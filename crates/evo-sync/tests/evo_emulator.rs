//! The Evo pollers against the local Evo emulator: workspace and file changes made through the
//! APIs show up in the replicas; a property test checks replica == server after every step; the
//! poller survives injected faults and token expiry.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use evo_core::http::{HeaderMap, Method, StatusCode, header::AUTHORIZATION};
use evo_core::uuid::Uuid;
use evo_core::{ApiConnector, Authorizer, Environment, RetryPolicy, bearer_header};
use evo_emulator::{Emulator, Fault, FaultPlan, RouteClass, Seed};
use evo_files::{FilesClient, ListFilesQuery};
use evo_sync::evo::{EvoPollOptions, LiveFiles, LiveWorkspaces, WorkspacesApi};
use evo_sync::poll::{PollOptions, Poller};
use evo_sync::{BackoffPolicy, EngineOptions, LiveOptions, Status, Update, replica};
use evo_workspaces::{Workspace, WorkspacesClient};
use futures_util::TryStreamExt;
use proptest::prelude::*;
use serde_json::{Value, json};

const SCOPES: &[&str] = &["evo.workspace", "evo.file"];

/// Bearer tokens issued by the emulator; a 401 gets a fresh one (single-flight by comparing
/// the rejected header with the current token).
struct EmulatorAuth {
    emu: Arc<Emulator>,
    token: Mutex<String>,
    refreshes: AtomicUsize,
}

impl fmt::Debug for EmulatorAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EmulatorAuth(<redacted>)")
    }
}

#[async_trait]
impl Authorizer for EmulatorAuth {
    async fn headers(&self) -> Result<HeaderMap, evo_core::Error> {
        let token = self.token.lock().expect("token").clone();
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, bearer_header(&token)?);
        Ok(headers)
    }

    async fn refresh(&self, rejected: &HeaderMap) -> Result<bool, evo_core::Error> {
        let mut token = self.token.lock().expect("token");
        let current = bearer_header(&token)?;
        if rejected.get(AUTHORIZATION) == Some(&current) {
            *token = self.emu.issue_token(SCOPES);
            self.refreshes.fetch_add(1, Ordering::SeqCst);
        }
        Ok(true)
    }
}

struct Setup {
    emu: Arc<Emulator>,
    auth: Arc<EmulatorAuth>,
    org: Uuid,
    workspace: Uuid,
    /// For the replica: no retries, so injected faults reach the poller.
    poll_connector: ApiConnector,
    /// For the test's own mutations: retries.
    api: ApiConnector,
}

async fn setup() -> Setup {
    let seed = Seed::from_json(
        r#"{"organizations": [{"display_name": "Sync Org", "workspaces": [{"name": "Seeded"}]}]}"#,
    )
    .expect("seed");
    let emu = Arc::new(
        Emulator::builder()
            .seed(seed)
            .start()
            .await
            .expect("emulator"),
    );
    let auth = Arc::new(EmulatorAuth {
        token: Mutex::new(emu.issue_token(SCOPES)),
        emu: emu.clone(),
        refreshes: AtomicUsize::new(0),
    });
    let transport = Arc::new(evo_hyper::HyperTransport::new());
    let connector = |retry: RetryPolicy| {
        ApiConnector::builder(emu.hub_url())
            .transport(transport.clone())
            .authorizer(auth.clone())
            .retry_policy(retry)
            .build()
            .expect("connector")
    };
    let org = emu.org_id();
    let workspace = emu.organizations()[0].workspaces[0].0;
    Setup {
        poll_connector: connector(RetryPolicy::none()),
        api: connector(
            RetryPolicy::default()
                .with_max_attempts(20)
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(50)),
        ),
        emu,
        auth,
        org,
        workspace,
    }
}

impl Setup {
    async fn create(&self, name: &str) -> Uuid {
        let created: Value = self
            .api
            .request(Method::POST, "/workspace/orgs/{org_id}/workspaces")
            .path_param("org_id", self.org)
            .json(&json!({ "name": name }))
            // A fault answers before the handler runs, so a retry cannot create twice.
            .idempotent(true)
            .send_json()
            .await
            .expect("create workspace");
        Uuid::parse_str(created["id"].as_str().expect("id")).expect("uuid")
    }

    async fn rename(&self, id: Uuid, name: &str) {
        let _: Value = self
            .api
            .request(Method::PATCH, "/workspace/orgs/{org_id}/workspaces/{id}")
            .path_param("org_id", self.org)
            .path_param("id", id)
            .json(&json!({ "name": name }))
            .idempotent(true)
            .send_json()
            .await
            .expect("rename workspace");
    }

    async fn delete(&self, id: Uuid) {
        self.api
            .request(Method::DELETE, "/workspace/orgs/{org_id}/workspaces/{id}")
            .path_param("org_id", self.org)
            .path_param("id", id)
            .send_empty()
            .await
            .expect("delete workspace");
    }

    async fn restore(&self, id: Uuid) {
        let (status, _) = self
            .api
            .request(Method::POST, "/workspace/orgs/{org_id}/workspaces/{id}")
            .path_param("org_id", self.org)
            .path_param("id", id)
            .query("deleted", "false")
            .idempotent(true)
            .expect_status(&[StatusCode::NO_CONTENT, StatusCode::SEE_OTHER])
            .send_empty()
            .await
            .expect("restore workspace");
        assert!(status.is_success() || status == StatusCode::SEE_OTHER);
    }

    /// id -> name of the live workspaces, as the server lists them.
    async fn server_workspaces(&self) -> BTreeMap<Uuid, String> {
        let mut out = BTreeMap::new();
        let mut offset = 0;
        loop {
            let page: Value = self
                .api
                .request(Method::GET, "/workspace/orgs/{org_id}/workspaces")
                .path_param("org_id", self.org)
                .query("limit", 100)
                .query("offset", offset)
                .send_json()
                .await
                .expect("list");
            let results = page["results"].as_array().expect("results").clone();
            for w in &results {
                out.insert(
                    Uuid::parse_str(w["id"].as_str().expect("id")).expect("uuid"),
                    w["name"].as_str().expect("name").to_owned(),
                );
            }
            if results.len() < 100 {
                return out;
            }
            offset += results.len();
        }
    }

    fn files(&self) -> FilesClient {
        FilesClient::new(
            Environment::new(self.emu.hub_url(), self.org, self.workspace),
            self.api.clone(),
        )
        .expect("files client")
    }

    fn poll_files(&self) -> FilesClient {
        FilesClient::new(
            Environment::new(self.emu.hub_url(), self.org, self.workspace),
            self.poll_connector.clone(),
        )
        .expect("files client")
    }
}

fn names(snapshot: &evo_sync::Snapshot<Uuid, Workspace>) -> BTreeMap<Uuid, String> {
    snapshot.iter().map(|(k, v)| (*k, v.name.clone())).collect()
}

fn fast(interval_ms: u64) -> EvoPollOptions {
    EvoPollOptions {
        interval: Duration::from_millis(interval_ms),
        overlap: Duration::from_secs(1),
        reconcile_every: 0,
        live: LiveOptions {
            backoff: BackoffPolicy {
                initial: Duration::from_millis(10),
                max: Duration::from_millis(100),
                reset_after: Duration::from_secs(5),
            },
            ..LiveOptions::default()
        },
    }
}

async fn converge_workspaces(s: &Setup, live: &LiveWorkspaces) {
    let expected = s.server_workspaces().await;
    let reached = tokio::time::timeout(
        Duration::from_secs(30),
        live.wait_for(|snap| snap.is_ready() && names(snap) == expected),
    )
    .await;
    assert!(
        reached.is_ok(),
        "replica did not converge:\n replica {:?}\n server  {:?}\n status {:?}",
        names(&live.snapshot()),
        expected,
        live.status()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_creates_updates_deletes_and_restores_show_up() {
    let s = setup().await;
    let live = LiveWorkspaces::start(s.poll_connector.clone(), s.org, fast(30)).expect("live");
    converge_workspaces(&s, &live).await;
    let (_, mut updates) = live.subscribe_with_snapshot();

    let a = s.create("Alpha").await;
    let b = s.create("Beta").await;
    converge_workspaces(&s, &live).await;
    s.rename(a, "Alpha renamed").await;
    converge_workspaces(&s, &live).await;
    s.delete(b).await;
    converge_workspaces(&s, &live).await;
    assert!(!live.snapshot().contains(&b));
    s.restore(b).await;
    converge_workspaces(&s, &live).await;
    assert!(live.snapshot().contains(&b));
    s.delete(a).await;
    converge_workspaces(&s, &live).await;

    let mut seen = Vec::new();
    // Wait for each update (the state is published before the update is broadcast).
    while seen.last().map(String::as_str) != Some("remove a") {
        let update = tokio::time::timeout(Duration::from_secs(30), updates.recv())
            .await
            .unwrap_or_else(|_| panic!("updates stopped at {seen:?}"))
            .expect("writer alive");
        match update {
            Update::Upserted { key, value, .. } => {
                seen.push(format!(
                    "upsert {} {}",
                    if key == a {
                        "a"
                    } else if key == b {
                        "b"
                    } else {
                        "?"
                    },
                    value.name
                ));
            }
            Update::Removed { key, .. } => {
                seen.push(format!(
                    "remove {}",
                    if key == a {
                        "a"
                    } else if key == b {
                        "b"
                    } else {
                        "?"
                    }
                ));
            }
            _ => {}
        }
    }
    // Each change exactly once, in order (the two creates may land in one poll, in any order).
    assert_eq!(seen.len(), 6, "{seen:?}");
    let mut creates = seen[..2].to_vec();
    creates.sort();
    assert_eq!(creates, vec!["upsert a Alpha", "upsert b Beta"], "{seen:?}");
    assert_eq!(
        seen[2..],
        [
            "upsert a Alpha renamed",
            "remove b",
            "upsert b Beta",
            "remove a"
        ],
        "{seen:?}"
    );
    assert_eq!(live.snapshot().resets(), 1);
}

#[derive(Clone, Debug)]
enum Op {
    Create,
    Rename(usize, u8),
    Delete(usize),
    Restore(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Create),
        3 => (any::<usize>(), any::<u8>()).prop_map(|(i, n)| Op::Rename(i, n)),
        2 => any::<usize>().prop_map(Op::Delete),
        2 => any::<usize>().prop_map(Op::Restore),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// After every operation and one poll, the replica equals the server's live workspaces.
    #[test]
    fn workspace_replica_equals_the_server_after_every_step(ops in prop::collection::vec(op(), 1..14)) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        rt.block_on(async {
            let s = setup().await;
            let options = PollOptions { interval: Duration::from_millis(10), overlap: 1_000_000, reconcile_every: 0, stream: "workspaces".into() };
            let mut poller = Poller::new(WorkspacesApi::new(WorkspacesClient::new(s.org, s.poll_connector.clone())), options).expect("poller");
            let (mut sink, replica) = replica::<Uuid, Workspace>(EngineOptions::default());
            poller.poll_once(&mut sink).await.expect("initial poll");
            let mut known: Vec<(Uuid, bool)> = Vec::new(); // (id, deleted)
            for (n, op) in ops.iter().enumerate() {
                match *op {
                    Op::Create => known.push((s.create(&format!("w{n}")).await, false)),
                    Op::Rename(i, tag) if !known.is_empty() => {
                        let (id, deleted) = known[i % known.len()];
                        if !deleted { s.rename(id, &format!("w{n}-{tag}")).await; }
                    }
                    Op::Delete(i) if !known.is_empty() => {
                        let k = i % known.len();
                        if !known[k].1 { s.delete(known[k].0).await; known[k].1 = true; }
                    }
                    Op::Restore(i) if !known.is_empty() => {
                        let k = i % known.len();
                        if known[k].1 { s.restore(known[k].0).await; known[k].1 = false; }
                    }
                    _ => {}
                }
                poller.poll_once(&mut sink).await.expect("poll");
                let expected = s.server_workspaces().await;
                prop_assert_eq!(names(&replica.snapshot()), expected, "after {:?}", op);
            }
            Ok(())
        })?;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workspace_poller_survives_injected_faults_and_token_expiry() {
    let s = setup().await;
    let live = LiveWorkspaces::start(s.poll_connector.clone(), s.org, fast(20)).expect("live");
    converge_workspaces(&s, &live).await;
    let (_, mut updates) = live.subscribe_with_snapshot();

    s.emu.set_faults(
        FaultPlan::seeded(11)
            .with(RouteClass::Workspaces, Fault::Status(503), 0.3)
            .with(RouteClass::Workspaces, Fault::Status(500), 0.1),
    );
    let c = s.create("Under fire").await;
    let d = s.create("Doomed").await;
    s.rename(c, "Under fire, renamed").await;
    converge_workspaces(&s, &live).await;
    s.emu.expire_tokens();
    s.delete(d).await;
    converge_workspaces(&s, &live).await;
    s.emu.set_faults(FaultPlan::none());

    assert!(
        s.emu.fault_counters().for_class(RouteClass::Workspaces) > 0,
        "no fault was injected"
    );
    assert!(
        s.auth.refreshes.load(Ordering::SeqCst) >= 1,
        "the expired token was never replaced"
    );
    let mut disconnects = 0;
    while let Some(update) = updates.try_recv() {
        if matches!(update, Update::Status(Status::Disconnected { .. })) {
            disconnects += 1;
        }
    }
    assert!(disconnects > 0, "the faults never reached the poller");
    assert_eq!(
        live.snapshot().resets(),
        1,
        "failed polls must not cause reloads"
    );
}

/// file id -> version id of the live files, as the server lists them.
async fn server_files(files: &FilesClient) -> BTreeMap<Uuid, String> {
    files
        .list_all(ListFilesQuery::new())
        .map_ok(|f| (f.file_id, f.version_id))
        .try_collect()
        .await
        .expect("list files")
}

async fn converge_files(files: &FilesClient, live: &LiveFiles) {
    let expected = server_files(files).await;
    let view = |snap: &evo_sync::Snapshot<Uuid, evo_files::FileSummary>| -> BTreeMap<Uuid, String> {
        snap.iter()
            .map(|(k, f)| (*k, f.version_id.clone()))
            .collect()
    };
    let reached = tokio::time::timeout(
        Duration::from_secs(30),
        live.wait_for(|snap| snap.is_ready() && view(snap) == expected),
    )
    .await;
    assert!(
        reached.is_ok(),
        "file replica did not converge:\n replica {:?}\n server  {:?}\n status {:?}",
        view(&live.snapshot()),
        expected,
        live.status()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_uploads_new_versions_deletes_and_restores_show_up() {
    let s = setup().await;
    let files = s.files();
    let live = LiveFiles::start(s.poll_files(), fast(30)).expect("live files");
    converge_files(&files, &live).await;

    let a = files
        .upload_bytes("data/a.csv", &b"x,y\n1,2\n"[..])
        .await
        .expect("upload a");
    let b = files
        .upload_bytes("data/b.csv", &b"x,y\n3,4\n"[..])
        .await
        .expect("upload b");
    converge_files(&files, &live).await;
    assert_eq!(
        live.snapshot().get(&a.file_id).map(|f| f.name.as_str()),
        Some("a.csv")
    );

    files
        .upload_bytes("data/b.csv", &b"x,y\n5,6\n"[..])
        .await
        .expect("new version of b");
    converge_files(&files, &live).await;
    files.delete_by_id(a.file_id).await.expect("delete a");
    converge_files(&files, &live).await;
    assert!(!live.snapshot().contains(&a.file_id));
    files.restore(a.file_id).await.expect("restore a");
    converge_files(&files, &live).await;
    assert!(live.snapshot().contains(&a.file_id));
    assert!(live.snapshot().contains(&b.file_id));
    assert_eq!(live.snapshot().resets(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_scope_ends_the_replica_with_a_typed_error() {
    let s = setup().await;
    // A token for the File API only: the Workspaces API answers 403 every time.
    let connector = ApiConnector::builder(s.emu.hub_url())
        .transport(Arc::new(evo_hyper::HyperTransport::new()))
        .authorizer(Arc::new(evo_core::StaticTokenAuthorizer::new(
            s.emu.issue_token(&["evo.file"]),
        )))
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("connector");
    let live = LiveWorkspaces::start(connector.clone(), s.org, fast(20)).expect("live");
    let error = tokio::time::timeout(Duration::from_secs(10), live.wait_until_ready())
        .await
        .expect("the replica ends instead of retrying forever")
        .expect_err("refused");
    assert!(
        matches!(error, evo_sync::Error::Refused { status: 403, .. }),
        "{error:?}"
    );
    assert!(error.is_permanent());
    assert_eq!(live.failure(), Some(error.clone()));
    assert!(matches!(live.status(), Status::Failed { .. }));

    // An organization that does not exist: 404 (or 403), also permanent.
    let live =
        LiveWorkspaces::start(s.poll_connector.clone(), Uuid::new_v4(), fast(20)).expect("live");
    let error = tokio::time::timeout(Duration::from_secs(10), live.wait_until_ready())
        .await
        .expect("ends")
        .expect_err("refused");
    assert!(
        matches!(
            error,
            evo_sync::Error::Refused {
                status: 403 | 404,
                ..
            }
        ),
        "{error:?}"
    );
}
