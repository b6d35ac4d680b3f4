//! A local, Evo-compatible server for tests, examples and benchmarks.
//!
//! One listener on `127.0.0.1` serves every Evo service the SDK talks to, with the wire formats
//! of the real platform:
//!
//! * Discovery: `GET /evo/identity/v2/discovery?service=...` (scope `evo.discovery`);
//! * IMS OAuth: `POST /connect/token` (client_credentials, authorization_code with PKCE S256,
//!   refresh_token with rotation), `GET /connect/authorize` (auto-approves the test user),
//!   `GET|POST /connect/endsession` (OpenID Connect RP-initiated logout) and
//!   `POST /connect/revocation` (RFC 7009);
//! * Workspaces API under `/workspace` (scope `evo.workspace`);
//! * File API v2 under `/file/v2` (scope `evo.file`);
//! * Geoscience Object API under `/geoscience-object` (scope `evo.object`);
//! * Compute Tasks API under `/compute` (scope `evo.object`; runs `idw` and `knn` on stored
//!   objects, jobs step through their states, [`Emulator::set_compute_job_step`]);
//! * Colormap API under `/colormap` (scope `evo.object`);
//! * Block Model API under `/blockmodel` (scope `evo.blocksync`): models, versions holding
//!   their column values, column changes from uploaded Parquet files, queries that filter the
//!   blocks and write Parquet, jobs with a configurable delay;
//! * Azure block-blob semantics on pre-signed URLs under `/blob/{container}/{blob}`.
//!
//! Faults (latency, 5xx, 429, connection resets, truncated bodies, forced expiry) are injected
//! from a seeded [`FaultPlan`], deterministically, and counted.
//!
//! ```
//! use evo_emulator::{BlobStorage, Emulator, Fault, FaultPlan, RouteClass};
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let emu = Emulator::builder()
//!     .token_ttl(Duration::from_secs(3600))
//!     .blob_url_ttl(Duration::from_secs(3600))
//!     .blob_storage(BlobStorage::Memory)
//!     .faults(FaultPlan::seeded(42).with(RouteClass::Blob, Fault::Status(503), 0.1))
//!     .start()
//!     .await?;
//! let token = emu.issue_token(&["evo.workspace", "evo.file"]);
//! let list = emu.hub_url().join(&format!("workspace/orgs/{}/workspaces", emu.org_id()))?;
//! // Any HTTP client will do; the SDK's clients take `emu.hub_url()` as their hub.
//! let http = reqwest::Client::new();
//! let answer = http.get(list).bearer_auth(&token).send().await?;
//! assert_eq!(answer.status(), 200);
//!
//! // Retries: the first 2 blob GET/HEAD requests fail, then they succeed.
//! emu.set_faults(FaultPlan::none().with_first(RouteClass::BlobRead, Fault::Status(503), 2));
//! let blob = emu.blob_url("container", "missing.bin", "r");
//! let mut statuses = Vec::new();
//! for _ in 0..3 {
//!     statuses.push(http.get(blob.clone()).send().await?.status().as_u16());
//! }
//! assert_eq!(statuses, [503, 503, 404]); // the third reaches the blob service
//! emu.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Public API in short
//!
//! * [`Emulator::builder`] → [`EmulatorBuilder`]: `bind`, `token_ttl`, `blob_url_ttl`,
//!   `blob_storage` ([`BlobStorage::Memory`] / [`BlobStorage::Folder`]), `faults`, `tls`,
//!   `ca_cert_path`, `blob_listener`, `blob_listener_on_random_loopback_443`, `public_blob_base`,
//!   `seed` ([`Seed`], with [`SeedCentral`] for discovery `accounts`), `restore_conflict`
//!   ([`RestoreConflict`]), `uncommitted_block_ttl` (default
//!   [`DEFAULT_UNCOMMITTED_BLOCK_TTL`]), `wan_profile` ([`WanProfile`]), then `start().await`.
//! * [`Emulator`] URLs: `base_url`, `discovery_url`, `hub_url`, `ims_url` (all the same listener
//!   today; use the one that names the service), `blob_base_url`, `blob_listener_addr`,
//!   `ca_cert_pem`.
//! * Seeded data: `org_id`, `organizations` ([`SeededOrg`]), `test_user_id`, `service_client`
//!   ([`ClientCredentials`]), `public_client_id`, `add_user`.
//! * Test levers: `issue_token`, `issue_token_for`, `expire_tokens`, `expire_blob_urls`,
//!   `blob_url` (a signed URL for any blob), `set_faults`, `fault_counters` ([`FaultCounters`]),
//!   `token_requests`, `deny_consent`, `advance_clock`, `data_bytes_received`,
//!   `data_file_bytes_received`, `blob_bytes_received` (body bytes the blob service received, to
//!   prove deduplication), `blob_bytes_sent` (body bytes of blob `GET` answers, to prove a
//!   resumed download fetched little again), `shutdown` (also on drop).
//!
//! # Behaviour worth knowing
//!
//! * Tokens are opaque random strings. Every token acts for the *test user* (the first seeded
//!   user), whatever grant produced it, unless minted with [`Emulator::issue_token_for`]. A missing,
//!   unknown or expired token gets 401 with `WWW-Authenticate: Bearer ...`; a token without the
//!   service's scope (`evo.discovery`, `evo.workspace`, `evo.file`) gets 403.
//! * The creator of a workspace is its owner; seeded workspaces belong to the test user. A user
//!   without a role gets 403 `auth/insufficient-role` (reads need viewer, writes editor, delete /
//!   restore / role changes owner).
//! * Workspace `deleted=true` *includes* deleted workspaces in lists; a deleted workspace answers
//!   410 unless fetched with `deleted=true`. File API `deleted=true` lists *only* deleted files.
//! * A File API upload (`PUT .../files/path/{p}` or `PUT .../files/{id}`) registers a pending
//!   version; it becomes visible only when its blob is committed (Put Block List or Put Blob).
//!   `?version_id=` on an uncommitted version returns a fresh URL for the same blob (uploaded blocks
//!   are kept). Restoring a file whose path was taken renames it (`x (1).csv`, 303) or, with
//!   [`RestoreConflict::Reject`], answers 409.
//! * Blob URLs: `{blob_base}blob/{container}/{blob}?sv=&st=&se=&sr=b&sp=&sn=&sig=`, signed with
//!   HMAC-SHA256 over path, permissions, start, expiry and serial. Upload URLs carry `rcw`,
//!   download URLs `r`. Put Block / Put Block List / Put Blob require `Content-Length` (411), as
//!   Azure does.
//! * Discovery answers `accounts[]` (accounts → instances with `hub` and `central`) only when
//!   some seeded organization has a Central instance ([`SeedCentral`]); otherwise the key is absent.
//! * Uncommitted blocks are discarded when no Put Block reached their blob for
//!   [`EmulatorBuilder::uncommitted_block_ttl`] (a week, as Azure) and nothing committed them;
//!   checked lazily by the next request on the blob, against the emulator's clock, which
//!   [`Emulator::advance_clock`] moves forward without sleeping.
//! * OpenID Connect: asking for `openid` (a client must be seeded with that scope) adds an HS256
//!   `id_token` (`sub`, `aud`, `sid`) to user grants. `/connect/endsession` redirects only to a
//!   post-logout URI registered for the client (named by `id_token_hint` or `client_id`), with
//!   `state`, and revokes that client's refresh tokens and codes for the user (access tokens
//!   live on, as IMS's JWTs do); an unregistered URI gets 400, never a redirect.
//!   `/connect/revocation` revokes a refresh token (and the access tokens of its login) or an
//!   access token of the authenticated client, and answers 200 for unknown tokens.
//! * Fault rules apply to the first matching rule only; the kill faults end the whole connection
//!   (all its HTTP/2 streams). Requests answered by a fault never reach the handler, except
//!   `Latency`, `ExpireUrl` and `ExpireToken`, which then let the request through.
//! * Geoscience objects: every POST makes a new version (version ids are nanosecond timestamps,
//!   strictly increasing); posted objects are validated against the Evo JSON Schema their
//!   `schema` names (embedded from `schemas/`, a copy of the repository's `specs/evo-schemas/`; unknown schema 404, invalid 400 with
//!   `json_path`/`schema_path`). A data reference (any string under a `data` key) must be a
//!   SHA-256 hex or a UUID (else 400 `data/invalid-key`) and its file must have been uploaded to
//!   the URL `PUT .../data` handed out (else 400 `objects/data-key-not-found` with `missing`).
//!   `uuid: null` over a live path is 409 with `existing_id`; a stale `If-Match` 412; an
//!   `If-None-Match` naming the latest version 304. Posting a uuid to another path moves the
//!   object; restoring onto a taken path renames it (`x (1).json`, 303). A `geojson_bounding_box`
//!   is given only for EPSG:4326 objects (the emulator does not reproject); spatial filters use
//!   the envelope of the query polygon. Object JSON may be sent gzip-compressed and is answered
//!   compressed for `Accept-Encoding: gzip`. [`Fault::FlipByte`] corrupts one byte of an answer.
//! * The blob listener ([`EmulatorBuilder::blob_listener`]) speaks HTTP/1.1 only (its TLS offers
//!   no h2 by ALPN), as Azure's blob endpoints do, so clients move blocks over a pool of
//!   connections; the main listener offers h2 and HTTP/1.1. [`EmulatorBuilder::wan_profile`]
//!   plays a [`WanProfile`] on every listener.
//! * The folder store keeps one file per block and streams reads from them, so memory stays flat
//!   for large blobs; the memory store keeps every byte in RAM.
//!
//! The emulator shares no code with the client crates on purpose: it would agree with their bugs.
//!
//! # What lives where
//!
//! * `builder.rs` ([`EmulatorBuilder`]: binding, start), `emulator.rs` (the [`Emulator`] handle
//!   and its test levers), `seed.rs` (the public seed description) and `seeding.rs` (the initial
//!   model built from it), `tls.rs` (the emulator's CA and certificate).
//! * `services.rs`: **the registry**, one line per service; `service.rs`: what a service declares
//!   (routes, fault route classes, fault answers, discovery codes, blob-commit hook). Adding a
//!   service is a folder of its own and one line in `services.rs`.
//! * One folder per service, each with its routes in `mod.rs`, its handlers, and its own data:
//!   `discovery/`, `oauth/` (token grants, authorize, end session, revocation, id tokens),
//!   `workspaces/` (workspaces, roles, thumbnails, members), `files/` (the File API, its data in
//!   `files/state.rs`), `objects/` (the Geoscience Object API: state, schema validation, data,
//!   read, write, listing), `blob/` (the Azure block-blob protocol).
//! * Shared machinery: `state.rs` (the model every service checks: users, organizations,
//!   workspaces and roles, clients, tokens, the stamps of files and objects; each service's
//!   own data as a typed part of it), `storage/` (blob bytes and pre-signed URLs, neutral so
//!   the blob service and the services handing out blob URLs never import each other),
//!   `http_util.rs` (problem details, queries, bearer tokens, the request context of the
//!   workspace services and their role check, the JSON of users and stamps, item paths,
//!   health check), `server.rs` (listeners, connections, the fault layer),
//!   `faults.rs` (fault plans), `clock.rs` (the advanceable clock and time formats), `wan.rs`
//!   (the [`WanProfile`]: added latency per request, bandwidth cap per connection).
//! * `build.rs` embeds the object JSON Schemas from `schemas/` (the copy of the repository's `specs/evo-schemas/` that `cargo xtask codegen` keeps in sync)
//!   (packaging the crate on its own will need them copied inside it).

// The handle, its builder and the start-up pieces.
mod builder;
pub mod cli;
mod emulator;
mod error;
pub mod seed;
mod seeding;
mod tls;
mod wan;

// The machinery every service shares.
mod clock;
mod faults;
mod http_util;
mod server;
mod service;
mod services;
mod state;
mod storage;

// The services, one folder each, registered in `services.rs`.
mod blob;
mod blockmodels;
mod colormaps;
mod compute;
mod discovery;
mod files;
mod oauth;
mod objects;
mod workspaces;

pub use builder::{DEFAULT_UNCOMMITTED_BLOCK_TTL, EmulatorBuilder};
pub use emulator::Emulator;
pub use error::EmulatorError;
pub use faults::{Fault, FaultCounters, FaultKind, FaultPlan, RouteClass};
pub use seed::{Seed, SeedCentral};
pub use seeding::{ClientCredentials, SeededOrg};
pub use state::RestoreConflict;
pub use storage::store::BlobStorage;
pub use wan::WanProfile;
