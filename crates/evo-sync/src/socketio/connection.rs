//! One Engine.IO v4 WebSocket connection: handshake, heartbeat and liveness, Socket.IO packets.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use super::packet::{EnginePacket, Open, Packet, PacketType, encode, parse_engine, parse_packet};
use crate::error::Error;

/// Largest WebSocket message accepted, whatever the server announces (bounded memory).
const MAX_MESSAGE_BYTES: usize = 64 << 20;

pub(crate) struct Connection {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    namespace: String,
    /// The connection is dead if nothing arrives for this long (pingInterval + pingTimeout).
    liveness: Duration,
    last_heard: Instant,
    /// Why a write failed because the server had gone. Reading goes on, so that what the
    /// server sent before it closed is still applied; the end of the stream is then reported
    /// as a disconnection, not as a transport failure.
    peer_gone: Option<String>,
}

impl Connection {
    /// Opens the WebSocket and completes the Engine.IO handshake.
    pub(crate) async fn open(
        url: &url::Url,
        namespace: &str,
        connect_timeout: Duration,
        tls: Option<Arc<rustls::ClientConfig>>,
        user_agent: &http::HeaderValue,
    ) -> Result<Self, Error> {
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| Error::Connect {
                url: redacted_url(url),
                message: e.to_string(),
            })?;
        request
            .headers_mut()
            .insert(http::header::USER_AGENT, user_agent.clone());
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE_BYTES))
            .max_frame_size(Some(MAX_MESSAGE_BYTES));
        let connect = tokio_tungstenite::connect_async_tls_with_config(
            request,
            Some(config),
            true,
            tls.map(Connector::Rustls),
        );
        let (ws, _response) = tokio::time::timeout(connect_timeout, connect)
            .await
            .map_err(|_| Error::Timeout {
                what: "the WebSocket connection",
            })?
            .map_err(|e| Error::Connect {
                url: redacted_url(url),
                message: e.to_string(),
            })?;
        let mut connection = Self {
            ws,
            namespace: namespace.to_owned(),
            liveness: connect_timeout,
            last_heard: Instant::now(),
            peer_gone: None,
        };
        let open = connection.await_open(connect_timeout).await?;
        connection.liveness = Duration::from_millis(
            open.ping_interval_ms
                .saturating_add(open.ping_timeout_ms)
                .min(3_600_000),
        );
        tracing::debug!(
            ping_interval_ms = open.ping_interval_ms,
            ping_timeout_ms = open.ping_timeout_ms,
            max_payload = open.max_payload,
            "engine.io session open"
        );
        Ok(connection)
    }

    async fn await_open(&mut self, timeout: Duration) -> Result<Open, Error> {
        let deadline = Instant::now() + timeout;
        loop {
            let text = self
                .next_text(Some(deadline), "the Engine.IO open packet")
                .await?;
            match parse_engine(&text)? {
                EnginePacket::Open(open) => return Ok(open),
                EnginePacket::Noop => continue,
                other => {
                    return Err(Error::Protocol {
                        message: format!("expected an Engine.IO open packet, got {other:?}"),
                    });
                }
            }
        }
    }

    /// Sends a Socket.IO packet.
    pub(crate) async fn send(
        &mut self,
        kind: PacketType,
        ack_id: Option<u64>,
        data: Option<&Value>,
    ) -> Result<(), Error> {
        let frame = encode(kind, &self.namespace, ack_id, data);
        self.send_raw(frame).await
    }

    async fn send_raw(&mut self, frame: String) -> Result<(), Error> {
        if self.peer_gone.is_some() {
            // Nothing can reach a server that has gone; what it sent is still read.
            return Ok(());
        }
        match self.ws.send(Message::text(frame)).await {
            Ok(()) => Ok(()),
            Err(e) if is_peer_gone(&e) => {
                tracing::debug!(error = %e, "the server has gone; reading what it sent before");
                self.peer_gone = Some(e.to_string());
                Ok(())
            }
            Err(e) => Err(Error::Transport {
                message: e.to_string(),
            }),
        }
    }

    /// The next Socket.IO packet of our namespace, answering pings on the way. Fails when the
    /// server closes, when nothing arrives within the liveness window, or at `deadline`.
    pub(crate) async fn next_packet(
        &mut self,
        deadline: Option<(Instant, &'static str)>,
    ) -> Result<Packet, Error> {
        loop {
            let text = self
                .next_text(
                    deadline.map(|(d, _)| d),
                    deadline.map_or("a heartbeat", |(_, w)| w),
                )
                .await?;
            match parse_engine(&text)? {
                EnginePacket::Ping => self.send_raw("3".to_owned()).await?,
                EnginePacket::Pong | EnginePacket::Noop | EnginePacket::Upgrade => {}
                EnginePacket::Open(_) => {
                    return Err(Error::Protocol {
                        message: "unexpected second Engine.IO open packet".to_owned(),
                    });
                }
                EnginePacket::Close => {
                    return Err(Error::Disconnected {
                        reason: "the server closed the Engine.IO session".to_owned(),
                    });
                }
                EnginePacket::Message(message) => {
                    let packet = parse_packet(&message)?;
                    if packet.namespace == self.namespace {
                        return Ok(packet);
                    }
                    tracing::debug!(namespace = %packet.namespace, "ignoring a packet for another namespace");
                }
            }
        }
    }

    /// The next text frame. Binary frames (attachments we do not use) are skipped.
    async fn next_text(
        &mut self,
        deadline: Option<Instant>,
        what: &'static str,
    ) -> Result<String, Error> {
        loop {
            let live_until = self.last_heard + self.liveness;
            let (until, waited_for) = match deadline {
                Some(d) if d < live_until => (d, what),
                _ => (live_until, "a heartbeat from the server"),
            };
            let frame = match tokio::time::timeout_at(until, self.ws.next()).await {
                Err(_) => return Err(Error::Timeout { what: waited_for }),
                Ok(None) => {
                    return Err(Error::Disconnected {
                        reason: "the WebSocket ended".to_owned(),
                    });
                }
                Ok(Some(Err(e))) => {
                    return Err(match &self.peer_gone {
                        Some(write) => Error::Disconnected {
                            reason: format!("the server went away ({write}; then {e})"),
                        },
                        None => Error::Transport {
                            message: e.to_string(),
                        },
                    });
                }
                Ok(Some(Ok(frame))) => frame,
            };
            self.last_heard = Instant::now();
            match frame {
                Message::Text(text) => return Ok(text.as_str().to_owned()),
                Message::Close(close) => {
                    return Err(Error::Disconnected {
                        reason: match close {
                            Some(c) => format!("WebSocket closed ({}): {}", c.code, c.reason),
                            None => "WebSocket closed".to_owned(),
                        },
                    });
                }
                Message::Binary(_) => {
                    tracing::warn!(
                        "ignoring a binary WebSocket frame (binary attachments are not supported)"
                    );
                }
                // tungstenite answers pings itself.
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
    }
}

/// The URL without user info or query (it never carries credentials, but be sure).
fn redacted_url(url: &url::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.to_string()
}

/// Whether a failed write means only that the server closed the connection (a broken pipe or
/// reset, or a WebSocket already closing), as opposed to a failure of our own.
fn is_peer_gone(error: &tokio_tungstenite::tungstenite::Error) -> bool {
    use tokio_tungstenite::tungstenite::Error as WsError;
    use tokio_tungstenite::tungstenite::error::ProtocolError;
    match error {
        WsError::ConnectionClosed
        | WsError::AlreadyClosed
        | WsError::Protocol(ProtocolError::SendAfterClosing) => true,
        WsError::Io(io) => matches!(
            io.kind(),
            std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
        ),
        _ => false,
    }
}
