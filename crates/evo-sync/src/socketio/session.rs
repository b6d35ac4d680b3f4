//! One Sync API session over Socket.IO, as Unicat's Sync API defines it: `CONNECT` with the
//! auth object `{"JWT": <current token>}`, `initsync` emitted with an acknowledgement id and
//! answered by the catch-up, then `sync` events (lists of items) and `authorization` events
//! (`{"JWT": <new token>}`, which rotate the token at once).
//!
//! This layer knows the protocol, not what the items mean: [`SocketIoSource`](super::SocketIoSource)
//! applies them to a generic replica, the `unicat` crate applies them with Unicat's rules.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use evo_core::{Authorizer, Secret};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::connection::Connection;
use super::endpoint::SyncEndpoint;
use super::packet::{Packet, PacketType};
use crate::error::Error;

/// How many `sync` events may wait for the `initsync` acknowledgement before the session is
/// dropped (bounded memory; the next session resumes from the applied cursors).
const MAX_HELD_BACK: usize = 10_000;

/// One connected session. Dropping it closes the connection.
pub struct SyncSession {
    conn: Connection,
    authorizer: Arc<dyn Authorizer>,
    auth_field: String,
    ack_timeout: Duration,
    next_ack_id: u64,
    /// `sync` payloads that arrived while waiting for an acknowledgement, with their sizes.
    held_back: VecDeque<(Value, usize)>,
    /// The sum of the held-back sizes.
    held_back_bytes: usize,
    max_held_back_bytes: usize,
}

impl fmt::Debug for SyncSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncSession")
            .field("held_back", &self.held_back.len())
            .field("held_back_bytes", &self.held_back_bytes)
            .finish_non_exhaustive()
    }
}

impl SyncSession {
    /// Opens the WebSocket, completes the Engine.IO handshake and connects the namespace with
    /// `{<auth field>: <the authorizer's bearer token>}` (asked now:
    /// [`Authorizer::bearer_token`]). A `CONNECT_ERROR` is [`Error::Rejected`]; an authorizer
    /// that fails or holds no token is [`Error::Token`]. `authorization` events go to
    /// [`Authorizer::rotate_token`].
    pub async fn connect(
        endpoint: &SyncEndpoint,
        authorizer: Arc<dyn Authorizer>,
    ) -> Result<Self, Error> {
        let token = connect_token(authorizer.as_ref()).await?;
        let mut conn = Connection::open(
            &endpoint.url,
            &endpoint.namespace,
            endpoint.connect_timeout,
            endpoint.tls.clone(),
            &endpoint.user_agent,
        )
        .await?;
        let auth = json!({ endpoint.auth_field.as_str(): token.expose() });
        conn.send(PacketType::Connect, None, Some(&auth)).await?;
        let deadline = Instant::now() + endpoint.connect_timeout;
        loop {
            let packet = conn
                .next_packet(Some((deadline, "the Socket.IO CONNECT answer")))
                .await?;
            match packet.kind {
                PacketType::Connect => break,
                PacketType::ConnectError => {
                    let message = packet
                        .data
                        .as_ref()
                        .and_then(|d| d.get("message").and_then(Value::as_str).map(str::to_owned))
                        .or_else(|| packet.data.as_ref().map(Value::to_string))
                        .unwrap_or_else(|| "no reason given".to_owned());
                    return Err(Error::Rejected { message });
                }
                PacketType::Disconnect => {
                    return Err(Error::Disconnected {
                        reason: "the server disconnected before accepting".to_owned(),
                    });
                }
                _ => tracing::debug!(?packet.kind, "ignoring a packet before CONNECT"),
            }
        }
        Ok(Self {
            conn,
            authorizer,
            auth_field: endpoint.auth_field.clone(),
            ack_timeout: endpoint.ack_timeout,
            next_ack_id: 0,
            held_back: VecDeque::new(),
            held_back_bytes: 0,
            max_held_back_bytes: endpoint.max_held_back_bytes,
        })
    }

    /// Emits `initsync` with `{"cc.cursor", "project", "cursor"}` and an acknowledgement id, and
    /// returns the acknowledgement's first argument (the catch-up; `None` when the ack carries
    /// nothing). `sync` events arriving meanwhile are held back and returned later by
    /// [`next_sync`](Self::next_sync), after the catch-up; `authorization` events rotate the
    /// token at once.
    pub async fn initsync(
        &mut self,
        cc_cursor: u64,
        project: &str,
        cursor: u64,
    ) -> Result<Option<Value>, Error> {
        let payload = json!([
            "initsync",
            {"cc.cursor": cc_cursor, "project": project, "cursor": cursor}
        ]);
        self.next_ack_id = self.next_ack_id.wrapping_add(1);
        let id = self.next_ack_id;
        self.conn
            .send(PacketType::Event, Some(id), Some(&payload))
            .await?;
        let deadline = Instant::now() + self.ack_timeout;
        loop {
            let packet = self
                .conn
                .next_packet(Some((deadline, "the initsync acknowledgement")))
                .await?;
            if packet.kind == PacketType::Ack && packet.ack_id == Some(id) {
                return Ok(match packet.data {
                    Some(Value::Array(mut args)) if !args.is_empty() => Some(args.swap_remove(0)),
                    _ => None,
                });
            }
            if let Some(payload) = self.handle(packet).await? {
                self.hold(payload)?;
            }
        }
    }

    /// Reads packets until the next `sync` event and holds it back (for
    /// [`next_sync`](Self::next_sync) to return after what is already held). Used while a
    /// snapshot loads.
    pub(crate) async fn hold_next_sync(&mut self) -> Result<(), Error> {
        loop {
            let packet = self.conn.next_packet(None).await?;
            if let Some(payload) = self.handle(packet).await? {
                return self.hold(payload);
            }
        }
    }

    /// Holds a payload back, within the count and byte limits.
    fn hold(&mut self, payload: Value) -> Result<(), Error> {
        let bytes = json_size(&payload);
        if self.held_back.len() >= MAX_HELD_BACK {
            return Err(Error::Protocol {
                message: format!(
                    "more than {MAX_HELD_BACK} sync events arrived before the catch-up finished"
                ),
            });
        }
        if self.held_back_bytes.saturating_add(bytes) > self.max_held_back_bytes {
            return Err(Error::Protocol {
                message: format!(
                    "more than {} bytes of sync events arrived before the catch-up finished",
                    self.max_held_back_bytes
                ),
            });
        }
        self.held_back_bytes += bytes;
        self.held_back.push_back((payload, bytes));
        Ok(())
    }

    /// How many `sync` payloads are held back, and their size in bytes.
    pub fn held_back(&self) -> (usize, usize) {
        (self.held_back.len(), self.held_back_bytes)
    }

    /// The next `sync` payload (held-back ones first). `authorization` events are applied on
    /// the way; other events are ignored. Fails when the connection ends.
    pub async fn next_sync(&mut self) -> Result<Value, Error> {
        if let Some((payload, bytes)) = self.held_back.pop_front() {
            self.held_back_bytes -= bytes;
            return Ok(payload);
        }
        loop {
            let packet = self.conn.next_packet(None).await?;
            if let Some(payload) = self.handle(packet).await? {
                return Ok(payload);
            }
        }
    }

    /// The `sync` payloads held back during the last [`initsync`](Self::initsync), in arrival
    /// order (they are no longer returned by [`next_sync`](Self::next_sync)).
    pub fn take_held_back(&mut self) -> Vec<Value> {
        self.held_back_bytes = 0;
        self.held_back
            .drain(..)
            .map(|(payload, _)| payload)
            .collect()
    }

    /// Handles one packet; returns the payload of a `sync` event.
    async fn handle(&mut self, packet: Packet) -> Result<Option<Value>, Error> {
        match packet.kind {
            PacketType::Event => {
                let (name, arg) = event_parts(&packet);
                let mut out = None;
                match name.as_deref() {
                    Some("sync") => out = Some(arg.unwrap_or(Value::Null)),
                    Some("authorization") => self.rotate(arg.as_ref()),
                    _ => tracing::debug!(event = ?name, "ignoring an event"),
                }
                if let Some(id) = packet.ack_id {
                    self.conn
                        .send(PacketType::Ack, Some(id), Some(&json!([])))
                        .await?;
                }
                Ok(out)
            }
            PacketType::Disconnect => Err(Error::Disconnected {
                reason: "the server disconnected the namespace".to_owned(),
            }),
            PacketType::ConnectError => Err(Error::Rejected {
                message: "CONNECT_ERROR on an established connection".to_owned(),
            }),
            PacketType::BinaryEvent | PacketType::BinaryAck => {
                tracing::warn!("ignoring a binary Socket.IO packet (not supported)");
                Ok(None)
            }
            other => {
                tracing::debug!(?other, "ignoring a packet");
                Ok(None)
            }
        }
    }

    /// An `authorization` event: `{"JWT": <token>}` (a bare string is accepted too).
    fn rotate(&self, arg: Option<&Value>) {
        match authorization_token(arg, &self.auth_field) {
            Some(token) => {
                tracing::debug!("the server rotated the token");
                self.authorizer.rotate_token(Secret::new(token));
            }
            None => tracing::warn!("ignoring an authorization event without a token"),
        }
    }
}

/// The token for a `CONNECT` packet: the authorizer's bearer token.
async fn connect_token(authorizer: &dyn Authorizer) -> Result<Secret, Error> {
    match authorizer.bearer_token().await {
        Ok(Some(token)) => Ok(token),
        Ok(None) => Err(Error::Token {
            message: "the authorizer holds no bearer token".to_owned(),
        }),
        Err(e) => Err(Error::Token {
            message: e.to_string(),
        }),
    }
}

/// The token of an `authorization` event's payload.
pub(crate) fn authorization_token<'a>(arg: Option<&'a Value>, field: &str) -> Option<&'a str> {
    let token = match arg? {
        Value::Object(map) => map.get(field)?.as_str()?,
        Value::String(s) => s.as_str(),
        _ => return None,
    };
    (!token.is_empty()).then_some(token)
}

/// The length of `value` as compact JSON text (string escapes not counted), without
/// serialising it.
pub(crate) fn json_size(value: &Value) -> usize {
    match value {
        Value::Null => 4,
        Value::Bool(b) => 4 + usize::from(!b),
        Value::Number(n) => n.to_string().len(),
        Value::String(s) => s.len() + 2,
        Value::Array(items) => {
            2 + items.len().saturating_sub(1) + items.iter().map(json_size).sum::<usize>()
        }
        Value::Object(map) => {
            2 + map.len().saturating_sub(1)
                + map
                    .iter()
                    .map(|(k, v)| k.len() + 3 + json_size(v))
                    .sum::<usize>()
        }
    }
}

/// The event name and first argument of an EVENT packet.
pub(crate) fn event_parts(packet: &Packet) -> (Option<String>, Option<Value>) {
    let Some(Value::Array(args)) = &packet.data else {
        return (None, None);
    };
    let name = args.first().and_then(Value::as_str).map(str::to_owned);
    (name, args.get(1).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_payloads() {
        let field = "JWT";
        assert_eq!(
            authorization_token(Some(&json!({"JWT": "t2"})), field),
            Some("t2")
        );
        assert_eq!(authorization_token(Some(&json!("t3")), field), Some("t3"));
        for bad in [
            json!({"jwt": "x"}),
            json!({"JWT": ""}),
            json!({"JWT": 5}),
            json!(null),
            json!([]),
        ] {
            assert_eq!(authorization_token(Some(&bad), field), None, "{bad}");
        }
        assert_eq!(authorization_token(None, field), None);
    }

    #[test]
    fn json_sizes_are_the_compact_text_lengths() {
        for value in [
            json!(null),
            json!(true),
            json!(false),
            json!(-12.5),
            json!("abc"),
            json!([]),
            json!({}),
            json!([1, "two", {"three": [null, false]}]),
            json!({"a": {"b": [1, 2, 3]}, "c": "d"}),
        ] {
            assert_eq!(json_size(&value), value.to_string().len(), "{value}");
        }
    }
}
