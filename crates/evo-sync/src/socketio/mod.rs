//! A Socket.IO (protocol v5 over Engine.IO v4, WebSocket transport) change source for a
//! Unicat-style Sync API.
//!
//! Per connection: open the WebSocket (`<path>/?EIO=4&transport=websocket`), send `CONNECT` with
//! `{"JWT": <fresh token>}`, emit `initsync` with the local cursors
//! (`{"cc.cursor", "project", "cursor"}`) and wait for its acknowledgement (the catch-up list),
//! then apply `sync` events as they come. Live `sync` events that arrive before the
//! acknowledgement are held back and applied after it, so the catch-up cannot be skipped by a
//! newer cursor. `authorization` events rotate the token used by the next connection. A
//! `cc.version` item raises [`Notice::ServerVersion`](crate::Notice::ServerVersion); job items
//! raise [`Notice::Job`](crate::Notice::Job), and a finished `restore_project` job causes one full
//! resync (deduplicated by job and status). Items of unknown data types are skipped with a
//! warning while the cursor still advances.
//!
//! Extension (not documented by Unicat): an `initsync` acknowledgement
//! `{"error": "cursor_expired"}` means the server no longer has the changes after the client's
//! cursors (or its log started over); the source then loads a full snapshot through its
//! [`SnapshotLoader`] and resumes from the snapshot's cursors.

mod client;
mod connection;
mod packet;
mod token;

pub use client::{
    CC_STREAM, PROJECT_STREAM, SnapshotItem, SnapshotLoader, SocketIoSource, SocketIoSourceBuilder,
    SyncKey, SyncSnapshot, default_data_types,
};
pub use token::{RotatingToken, Token, TokenProvider};
