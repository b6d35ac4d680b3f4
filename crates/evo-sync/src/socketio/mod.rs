//! The Sync API of Unicat over Socket.IO (protocol v5 over Engine.IO v4, WebSocket transport).
//!
//! * [`SyncSession`] is one connection as Unicat defines it: open the WebSocket
//!   (`<path>/?EIO=4&transport=websocket`, path `/sync/io`), send `CONNECT` with
//!   `{"JWT": <the authorizer's bearer token>}` (asked again on every connect), emit
//!   `initsync` with `{"cc.cursor", "project", "cursor"}` and an acknowledgement id and return
//!   the acknowledgement (the catch-up list), then hand out `sync` payloads as they come. Live
//!   `sync` events that arrive before the acknowledgement are held back and handed out after
//!   it. `authorization` events carry `{"JWT": <new token>}` and rotate the authorizer's token at
//!   once. The `unicat` crate builds its connector on this.
//! * [`SocketIoSource`] feeds a generic evo-sync replica from such sessions: keys are
//!   `(data_type, data_key)`, values the items' `data`. Sync items of type `cc` move the `cc`
//!   stream, any other type (Unicat names the project stream by the project) the `project`
//!   stream. Unicat items usually carry no data; this generic source stores only items that do
//!   (the `unicat` crate fetches the others by Unicat's rules). A `cc.version` item (the version
//!   in its `data_key`) raises [`Notice::ServerVersion`](crate::Notice::ServerVersion); job items
//!   raise [`Notice::Job`](crate::Notice::Job), and a finished `restore_project` job causes one
//!   full resync (deduplicated by job and status). Items of unknown data types are skipped with
//!   a warning while the cursor still advances.
//!
//! Extension (not documented by Unicat): an `initsync` acknowledgement
//! `{"error": "cursor_expired"}` means the server no longer has the changes after the client's
//! cursors (or its log started over); the source then loads a full snapshot through its
//! [`SnapshotLoader`] and resumes from the snapshot's cursors.

//!
//! Where things live: `connection.rs` the WebSocket and Engine.IO, `packet.rs` the wire
//! formats, `endpoint.rs` where and how sessions are opened, `session.rs` one Sync API
//! session, `item.rs` what the server says (items, snapshots, acknowledgements), `client.rs`
//! the change source.
//!
//! Tokens come from an [`evo_core::Authorizer`], the one that HTTP requests use too:
//! [`Authorizer::bearer_token`](evo_core::Authorizer::bearer_token) on every connection attempt,
//! and each `authorization` event goes to
//! [`Authorizer::rotate_token`](evo_core::Authorizer::rotate_token). An
//! [`evo_core::RotatingTokenAuthorizer`] serves a plain bearer token that the server rotates.

mod client;
mod connection;
mod endpoint;
mod item;
pub(crate) mod packet;
mod session;

pub use client::{CC_STREAM, PROJECT_STREAM, SocketIoSource, SocketIoSourceBuilder};
pub use endpoint::{DEFAULT_MAX_HELD_BACK_BYTES, SyncEndpoint, SyncEndpointBuilder};
pub use item::{SnapshotItem, SnapshotLoader, SyncKey, SyncSnapshot, default_data_types};
pub use session::SyncSession;
