//! # unicat-emulator
//!
//! A local Unicat server for tests and examples. It shares no code with the `unicat` client
//! (so it cannot agree with the client's bugs) and speaks the protocol as Unicat documents it:
//!
//! * `POST /api/p/<project>/auth {api_key}` answers the JWT in the `Authorization` header; every
//!   other call needs `Authorization: Bearer <jwt>` and answers `401` with
//!   `WWW-Authenticate: Bearer realm="JWT access to Unicat."` otherwise. With
//!   [`set_rotate_every`](UnicatEmulator::set_rotate_every) every n-th response carries a new
//!   JWT in `Authorization` and the old one stops working.
//! * The `{success, result, data}` envelope; project endpoints `init`, `<type>/get` (records,
//!   definitions, classes, fields, layouts, queries, modules, assets), `records/create|update|
//!   delete`, `assets/upload` (multipart `upload_file`, 413 above 10,000,000 bytes); global
//!   endpoints `//users/get`, `//projects/get`, `//members/get`.
//! * DAM `GET /dam/p/<project>/publish|transform/<gid>~<version><ext>[/k=v…]` answering a
//!   `public_url` under `/media/…`, which serves the bytes. The emulator does not process images:
//!   a transform's file holds the original bytes under the transform's name.
//! * Two append-only change logs (`cc`, and the project's, whose items have the project gid as
//!   their `type`); items carry no `data` except jobs. `POST /sync/get` pages through them
//!   (`warning` while more is left), `POST /sync/cursors` gives the heads.
//! * The Sync API on socketioxide at `/sync/io`: `CONNECT` auth `{"JWT": …}` (refused without a
//!   valid one), `initsync {cc.cursor, project, cursor}` acknowledged with the items after the
//!   cursors, `sync` events for every change, `authorization` events `{"JWT": …}`.
//!
//! Controls (methods of [`UnicatEmulator`]) mutate data (each mutation is logged and pushed),
//! push raw items, rotate tokens, run backup and restore jobs, disconnect every client, and
//! restart the server on the same port with the same data.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use unicat_emulator::{DEMO_RECORD, UnicatEmulator};
//!
//! let mut server = UnicatEmulator::start().await?;
//! println!("Unicat on {} with project {}", server.base_url(), server.project());
//! // A change as another Unicat user makes it: stored, logged, pushed to Sync API clients.
//! let fields = serde_json::json!({"en": {"name": "Renamed"}});
//! server.update_record(DEMO_RECORD, fields).await;
//! let record = server.entity("records", DEMO_RECORD).unwrap();
//! assert_eq!(record["fields"]["en"]["name"], "Renamed");
//! server.stop().await;
//! # Ok(()) }
//! ```

mod rest;
mod socket;
mod world;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::routing::{get, post};
use serde_json::{Value, json};
use socketioxide::SocketIo;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use world::World;

/// What the emulator saw, for tests to assert on.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// The JWT each authenticated REST request presented (`None`: no `Authorization` header).
    pub rest_tokens: Vec<Option<String>>,
    /// The JWT each Socket.IO `CONNECT` presented.
    pub socket_tokens: Vec<Option<String>>,
    /// Socket.IO connections accepted.
    pub socket_connects: usize,
    /// Every `initsync` payload received.
    pub initsyncs: Vec<Value>,
    /// Every API endpoint called, as the client writes it (`/records/get`, `//users/get`).
    pub calls: Vec<String>,
}

impl Stats {
    /// How many times `endpoint` was called.
    pub fn count(&self, endpoint: &str) -> usize {
        self.calls.iter().filter(|c| *c == endpoint).count()
    }
}

pub(crate) struct Shared {
    world: Mutex<World>,
    stats: Mutex<Stats>,
    io: Mutex<Option<SocketIo>>,
    /// Socket id → user gid, for per-user token rotation.
    sockets: Mutex<HashMap<String, String>>,
    base_url: String,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }

    pub(crate) fn record_call(&self, endpoint: &str) {
        lock(&self.stats).calls.push(endpoint.to_owned());
    }

    fn io(&self) -> Option<SocketIo> {
        lock(&self.io).clone()
    }

    /// Pushes items to every connected client as one `sync` event each.
    pub(crate) async fn broadcast(&self, items: Vec<Value>) {
        if items.is_empty() {
            return;
        }
        if let Some(io) = self.io() {
            for item in items {
                if let Err(e) = io.emit("sync", &vec![item]).await {
                    tracing::debug!(error = %e, "emitting a sync event failed");
                }
            }
        }
    }
}

/// A running emulator. Dropping it stops the server.
pub struct UnicatEmulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: Option<(JoinHandle<()>, oneshot::Sender<()>)>,
}

impl std::fmt::Debug for UnicatEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnicatEmulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// The demo project: gid, API key, user and a record.
pub const DEMO_PROJECT: &str = "p-demo";
/// The API key of the demo user.
pub const DEMO_API_KEY: &str = "demo-secret-api-key";
/// A second API key (another user of the same project, e.g. an editor changing records).
pub const EDITOR_API_KEY: &str = "editor-secret-api-key";
/// The demo record's gid.
pub const DEMO_RECORD: &str = "rec-0001";

impl UnicatEmulator {
    /// Starts on a free port of 127.0.0.1 with the demo project ([`DEMO_PROJECT`]): users
    /// `u-demo` and `u-editor` (API keys [`DEMO_API_KEY`], [`EDITOR_API_KEY`]), a language, a
    /// definition, class, field, layout, query, the record [`DEMO_RECORD`] and an image asset.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// As [`start`](Self::start), on a given address.
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            world: Mutex::new(demo_world()),
            stats: Mutex::new(Stats::default()),
            io: Mutex::new(None),
            sockets: Mutex::new(HashMap::new()),
            base_url: format!("http://{addr}"),
        });
        let server = serve(shared.clone(), listener);
        Ok(UnicatEmulator {
            shared,
            addr,
            server: Some(server),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The project gid.
    pub fn project(&self) -> String {
        self.shared.world().project.clone()
    }

    /// What the emulator saw so far.
    pub fn stats(&self) -> Stats {
        lock(&self.shared.stats).clone()
    }

    /// The current heads of the `cc` and project logs.
    pub fn heads(&self) -> (u64, u64) {
        let world = self.shared.world();
        (world.cc_head, world.project_head)
    }

    /// An entity as the server has it.
    pub fn entity(&self, data_type: &str, key: &str) -> Option<Value> {
        self.shared.world().get(data_type, key).cloned()
    }

    /// Every entity of a type, by key.
    pub fn entities(&self, data_type: &str) -> Vec<(String, Value)> {
        let world = self.shared.world();
        world
            .data
            .get(data_type)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }

    /// Rotates the JWT of the caller on every `n`-th authenticated REST response (`0`: never).
    pub fn set_rotate_every(&self, n: u64) {
        self.shared.world().rotate_every = (n > 0).then_some(n);
    }

    /// How many items one `/sync/get` answer carries at most (the rest is announced by a
    /// `warning`).
    pub fn set_sync_page_size(&self, n: usize) {
        self.shared.world().sync_page = n.max(1);
    }

    /// Stores an entity (insert or update), logs the change and pushes it to sync clients.
    /// Returns the sync item.
    pub async fn put(&self, data_type: &str, key: &str, value: Value) -> Value {
        let item = self.shared.world().put(data_type, key, value);
        self.shared.broadcast(vec![item.clone()]).await;
        item
    }

    /// Logs a change without pushing it (a client learns it from `initsync` or `/sync/get`).
    pub fn put_silently(&self, data_type: &str, key: &str, value: Value) -> Value {
        self.shared.world().put(data_type, key, value)
    }

    /// Deletes an entity, logs and pushes the change; `None` when it did not exist.
    pub async fn delete(&self, data_type: &str, key: &str) -> Option<Value> {
        let item = self.shared.world().remove(data_type, key)?;
        self.shared.broadcast(vec![item.clone()]).await;
        Some(item)
    }

    /// Sets fields of a record (`{"en": {"name": …}}`), logs and pushes the UPDATE.
    pub async fn update_record(&self, gid: &str, fields: Value) -> Option<Value> {
        let item = {
            let mut world = self.shared.world();
            let mut record = world.get("records", gid)?.clone();
            if let Value::Object(languages) = fields {
                for (language, values) in languages {
                    let Value::Object(values) = values else {
                        continue;
                    };
                    if !record["fields"][&language].is_object() {
                        record["fields"][&language] = json!({});
                    }
                    for (name, value) in values {
                        record["fields"][&language][&name] = value;
                    }
                }
            }
            world.put("records", gid, record)
        };
        self.shared.broadcast(vec![item.clone()]).await;
        Some(item)
    }

    /// Pushes a `sync` event with exactly these items (not logged: duplicates, junk, lies).
    pub async fn push_raw(&self, items: Value) {
        if let Some(io) = self.shared.io() {
            let list: Vec<Value> = match items {
                Value::Array(list) => list,
                other => vec![other],
            };
            let _ = io.emit("sync", &list).await;
        }
    }

    /// Announces a new server version (a `cc.version` item whose key is the version).
    pub async fn set_version(&self, version: &str) -> Value {
        let item = {
            let mut world = self.shared.world();
            world.version = version.to_owned();
            world.log_change("UPDATE", "cc.version", version, None)
        };
        self.shared.broadcast(vec![item.clone()]).await;
        item
    }

    /// Gives every connected user a new JWT in an `authorization` event `{"JWT": …}`; their
    /// old JWTs stop working at once. Returns the new tokens by user.
    pub async fn rotate_tokens(&self) -> HashMap<String, String> {
        let Some(io) = self.shared.io() else {
            return HashMap::new();
        };
        let sockets = lock(&self.shared.sockets).clone();
        let mut issued: HashMap<String, String> = HashMap::new();
        {
            let mut world = self.shared.world();
            for user in sockets.values() {
                if issued.contains_key(user) {
                    continue;
                }
                world.tokens.retain(|_, u| u != user);
                let token = world.issue_token(user);
                issued.insert(user.clone(), token);
            }
        }
        for socket in io.sockets() {
            let Some(user) = sockets.get(&socket.id.to_string()) else {
                continue;
            };
            if let Some(token) = issued.get(user) {
                let _ = socket.emit("authorization", &json!({"JWT": token}));
            }
        }
        issued
    }

    /// Revokes every JWT (the next call answers 401 with `WWW-Authenticate`).
    pub fn revoke_tokens(&self) {
        self.shared.world().tokens.clear();
    }

    /// Snapshots the project's data for [`restore`](Self::restore), announcing the
    /// `backup_project` job (queued, then done).
    pub async fn backup(&self) {
        let items = {
            let mut world = self.shared.world();
            world.backup = Some(world.data.clone());
            job_items(&mut world, "backup_project", &["queued", "done"])
        };
        self.shared.broadcast(items).await;
    }

    /// Restores the last backup: the data jumps back (without per-item changes in the log) and
    /// the `restore_project` job is announced (queued, processing, done).
    pub async fn restore(&self) {
        let items = {
            let mut world = self.shared.world();
            if let Some(backup) = world.backup.clone() {
                world.data = backup;
            }
            job_items(
                &mut world,
                "restore_project",
                &["queued", "processing", "done"],
            )
        };
        self.shared.broadcast(items).await;
    }

    /// Sends every Socket.IO client a DISCONNECT (a graceful server-side disconnect).
    pub async fn disconnect_all(&self) {
        if let Some(io) = self.shared.io() {
            let _ = io.disconnect().await;
        }
    }

    /// Stops the server (every connection is closed) and starts it again on the same port
    /// with the same data, logs and tokens.
    pub async fn restart(&mut self) -> std::io::Result<()> {
        self.stop().await;
        let mut last = None;
        for _ in 0..50 {
            match tokio::net::TcpListener::bind(self.addr).await {
                Ok(listener) => {
                    self.server = Some(serve(self.shared.clone(), listener));
                    return Ok(());
                }
                Err(e) => {
                    last = Some(e);
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("cannot rebind")))
    }

    /// Stops the server: closes every Socket.IO connection and the listener.
    pub async fn stop(&mut self) {
        let io = lock(&self.shared.io).take();
        if let Some(io) = io {
            io.close().await;
        }
        lock(&self.shared.sockets).clear();
        if let Some((task, shutdown)) = self.server.take() {
            let _ = shutdown.send(());
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for UnicatEmulator {
    fn drop(&mut self) {
        if let Some((task, _)) = self.server.take() {
            task.abort();
        }
    }
}

fn job_items(world: &mut World, job: &str, statuses: &[&str]) -> Vec<Value> {
    world.job_serial += 1;
    let gid = format!("job-{}-{:08x}", world.job_serial, fastrand::u32(..));
    let project = world.project.clone();
    let now = world.now();
    statuses
        .iter()
        .enumerate()
        .map(|(i, status)| {
            let data = json!({
                "job": job,
                "status": status,
                "info": {"total": statuses.len(), "remaining": statuses.len() - i - 1},
                "project_gid": project,
                "created_on": now,
                "updated_on": now,
            });
            world.log_change("UPDATE", "jobs", &gid, Some(data))
        })
        .collect()
}

fn serve(
    shared: Arc<Shared>,
    listener: tokio::net::TcpListener,
) -> (JoinHandle<()>, oneshot::Sender<()>) {
    let (layer, io) = SocketIo::builder().req_path("/sync/io").build_layer();
    socket::register(&io, shared.clone());
    *lock(&shared.io) = Some(io);
    let app = Router::new()
        .route("/api/{*endpoint}", post(rest::api))
        .route("/sync/get", post(rest::sync_get))
        .route("/sync/cursors", post(rest::sync_cursors))
        .route("/dam/p/{project}/{*path}", get(rest::dam))
        .route("/media/{*path}", get(rest::media))
        .layer(axum::extract::DefaultBodyLimit::max(
            rest::MAX_UPLOAD + 1024 * 1024,
        ))
        .layer(layer)
        .with_state(shared);
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = rx.await;
        });
        if let Err(e) = server.await {
            tracing::warn!(error = %e, "the Unicat emulator stopped");
        }
    });
    (task, tx)
}

fn demo_world() -> World {
    let mut world = World::new(DEMO_PROJECT);
    world
        .api_keys
        .insert(DEMO_API_KEY.to_owned(), "u-demo".to_owned());
    world
        .api_keys
        .insert(EDITOR_API_KEY.to_owned(), "u-editor".to_owned());
    let seed: [(&str, &str, Value); 12] = [
        (
            "cc.users",
            "u-demo",
            json!({"gid": "u-demo", "username": "demo", "name": "Demo User"}),
        ),
        (
            "cc.users",
            "u-editor",
            json!({"gid": "u-editor", "username": "editor", "name": "Editor"}),
        ),
        (
            "cc.projects",
            DEMO_PROJECT,
            json!({"gid": DEMO_PROJECT, "name": "Demo project", "owner": "u-demo"}),
        ),
        (
            "cc.projects_members",
            "p-demo/u-demo",
            json!({"project_gid": DEMO_PROJECT, "user_gid": "u-demo", "status": "active", "roles": ["owner"]}),
        ),
        (
            "cc.projects_members",
            "p-demo/u-editor",
            json!({"project_gid": DEMO_PROJECT, "user_gid": "u-editor", "status": "active", "roles": ["editor"]}),
        ),
        (
            "cc.languages",
            "en",
            json!({"code": "en", "name": "English"}),
        ),
        (
            "fields",
            "f-name",
            json!({"gid": "f-name", "name": "name", "type": "text", "is_localized": true}),
        ),
        (
            "classes",
            "c-article",
            json!({"gid": "c-article", "name": "article", "fields": ["f-name"]}),
        ),
        (
            "definitions",
            "d-article",
            json!({"gid": "d-article", "name": "Article", "classes": ["c-article"], "fields": []}),
        ),
        (
            "layouts",
            "l-article",
            json!({"gid": "l-article", "name": "Article layout", "root": "f-name"}),
        ),
        (
            "queries",
            "q-all",
            json!({"gid": "q-all", "name": "All articles", "q": ""}),
        ),
        (
            "records",
            DEMO_RECORD,
            json!({"gid": DEMO_RECORD, "definition": "d-article", "fields": {"en": {"name": "First article", "price": 10}}}),
        ),
    ];
    for (data_type, key, value) in seed {
        world.put(data_type, key, value);
    }
    let image = bytes::Bytes::from_static(b"\x89PNG\r\n\x1a\n emulator image bytes");
    world
        .media
        .insert(format!("{DEMO_PROJECT}/a-logo/logo.png"), image.clone());
    world.put(
        "assets",
        "a-logo",
        json!({"gid": "a-logo", "name": "logo.png", "pathname": "/brand/logo.png", "is_file": true, "size": image.len()}),
    );
    world
}
