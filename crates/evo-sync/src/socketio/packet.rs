//! Engine.IO v4 and Socket.IO v5 text framing (WebSocket transport: one packet per frame).

use serde_json::Value;

use crate::error::Error;

/// The handshake values of an Engine.IO `open` packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Open {
    pub(crate) ping_interval_ms: u64,
    pub(crate) ping_timeout_ms: u64,
    pub(crate) max_payload: u64,
}

/// An Engine.IO packet received on a WebSocket text frame.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum EnginePacket {
    Open(Open),
    Close,
    Ping,
    Pong,
    /// A message: the Socket.IO packet text.
    Message(String),
    Upgrade,
    Noop,
}

/// Parses an Engine.IO packet from a text frame.
pub(crate) fn parse_engine(frame: &str) -> Result<EnginePacket, Error> {
    let mut chars = frame.chars();
    let kind = chars
        .next()
        .ok_or_else(|| protocol("empty Engine.IO packet"))?;
    let rest = chars.as_str();
    Ok(match kind {
        '0' => EnginePacket::Open(parse_open(rest)?),
        '1' => EnginePacket::Close,
        // "2probe" is a ping too (it only happens during upgrades, which we never start).
        '2' => EnginePacket::Ping,
        '3' => EnginePacket::Pong,
        '4' => EnginePacket::Message(rest.to_owned()),
        '5' => EnginePacket::Upgrade,
        '6' => EnginePacket::Noop,
        other => {
            return Err(protocol(format!("unknown Engine.IO packet type {other:?}")));
        }
    })
}

fn parse_open(json: &str) -> Result<Open, Error> {
    let value: Value = serde_json::from_str(json)
        .map_err(|e| protocol(format!("Engine.IO open packet is not JSON: {e}")))?;
    let number = |field: &str| {
        value
            .get(field)
            .and_then(Value::as_u64)
            .ok_or_else(|| protocol(format!("Engine.IO open packet lacks a numeric {field:?}")))
    };
    Ok(Open {
        ping_interval_ms: number("pingInterval")?,
        ping_timeout_ms: number("pingTimeout")?,
        // Optional in practice; 1 MB is the protocol's default.
        max_payload: value
            .get("maxPayload")
            .and_then(Value::as_u64)
            .unwrap_or(1_000_000),
    })
}

/// Socket.IO packet types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PacketType {
    Connect,
    Disconnect,
    Event,
    Ack,
    ConnectError,
    BinaryEvent,
    BinaryAck,
}

/// A decoded Socket.IO packet.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Packet {
    pub(crate) kind: PacketType,
    pub(crate) namespace: String,
    pub(crate) ack_id: Option<u64>,
    pub(crate) data: Option<Value>,
}

/// Parses `<type>[<attachments>-][<namespace>,][<ack id>][JSON]`.
pub(crate) fn parse_packet(text: &str) -> Result<Packet, Error> {
    let bytes = text.as_bytes();
    let kind = match bytes.first() {
        Some(b'0') => PacketType::Connect,
        Some(b'1') => PacketType::Disconnect,
        Some(b'2') => PacketType::Event,
        Some(b'3') => PacketType::Ack,
        Some(b'4') => PacketType::ConnectError,
        Some(b'5') => PacketType::BinaryEvent,
        Some(b'6') => PacketType::BinaryAck,
        Some(&other) => {
            return Err(protocol(format!(
                "unknown Socket.IO packet type {:?}",
                char::from(other)
            )));
        }
        None => return Err(protocol("empty Socket.IO packet")),
    };
    let mut rest = &text[1..];
    if matches!(kind, PacketType::BinaryEvent | PacketType::BinaryAck) {
        // Attachment count: digits then '-'. We do not use binary payloads; skip the count.
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if rest.as_bytes().get(digits) != Some(&b'-') {
            return Err(protocol(
                "binary Socket.IO packet without an attachment count",
            ));
        }
        rest = &rest[digits + 1..];
    }
    let mut namespace = "/".to_owned();
    if rest.starts_with('/') {
        let end = rest.find(',').unwrap_or(rest.len());
        namespace = rest[..end].to_owned();
        rest = rest.get(end + 1..).unwrap_or("");
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let ack_id = if digits > 0 {
        Some(
            rest[..digits]
                .parse::<u64>()
                .map_err(|_| protocol("Socket.IO ack id out of range"))?,
        )
    } else {
        None
    };
    rest = &rest[digits..];
    let data = if rest.is_empty() {
        None
    } else {
        Some(
            serde_json::from_str(rest)
                .map_err(|e| protocol(format!("Socket.IO packet payload is not JSON: {e}")))?,
        )
    };
    Ok(Packet {
        kind,
        namespace,
        ack_id,
        data,
    })
}

/// Encodes a Socket.IO packet as an Engine.IO message frame (`4` + packet).
pub(crate) fn encode(
    kind: PacketType,
    namespace: &str,
    ack_id: Option<u64>,
    data: Option<&Value>,
) -> String {
    let mut out = String::from("4");
    out.push(match kind {
        PacketType::Connect => '0',
        PacketType::Disconnect => '1',
        PacketType::Event => '2',
        PacketType::Ack => '3',
        PacketType::ConnectError => '4',
        PacketType::BinaryEvent => '5',
        PacketType::BinaryAck => '6',
    });
    if namespace != "/" {
        out.push_str(namespace);
        out.push(',');
    }
    if let Some(id) = ack_id {
        out.push_str(&id.to_string());
    }
    if let Some(data) = data {
        out.push_str(&data.to_string());
    }
    out
}

fn protocol(message: impl Into<String>) -> Error {
    Error::Protocol {
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_the_open_handshake() {
        let packet = parse_engine(
            r#"0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
        )
        .expect("open");
        assert_eq!(
            packet,
            EnginePacket::Open(Open {
                ping_interval_ms: 25000,
                ping_timeout_ms: 20000,
                max_payload: 1_000_000
            })
        );
    }

    #[test]
    fn rejects_malformed_engine_packets() {
        assert!(parse_engine("").is_err());
        assert!(parse_engine("9").is_err());
        assert!(parse_engine("0{}").is_err());
        assert!(parse_engine("0not json").is_err());
        assert_eq!(parse_engine("2").expect("ping"), EnginePacket::Ping);
        assert_eq!(parse_engine("6").expect("noop"), EnginePacket::Noop);
    }

    #[test]
    fn parses_events_acks_and_namespaces() {
        let p = parse_packet(r#"2["sync",[{"a":1}]]"#).expect("event");
        assert_eq!(p.kind, PacketType::Event);
        assert_eq!(p.namespace, "/");
        assert_eq!(p.ack_id, None);
        assert_eq!(p.data, Some(json!(["sync", [{"a": 1}]])));

        let p = parse_packet(r#"31[[1,2]]"#).expect("ack");
        assert_eq!((p.kind, p.ack_id), (PacketType::Ack, Some(1)));
        assert_eq!(p.data, Some(json!([[1, 2]])));

        let p = parse_packet(r#"2/admin,12["x"]"#).expect("namespaced");
        assert_eq!(p.namespace, "/admin");
        assert_eq!(p.ack_id, Some(12));

        let p = parse_packet("1").expect("disconnect");
        assert_eq!((p.kind, p.data), (PacketType::Disconnect, None));

        let p = parse_packet(r#"51-["bin",{"_placeholder":true,"num":0}]"#).expect("binary");
        assert_eq!(p.kind, PacketType::BinaryEvent);
        assert_eq!(
            p.data,
            Some(json!(["bin", {"_placeholder": true, "num": 0}]))
        );
    }

    #[test]
    fn rejects_malformed_socketio_packets() {
        assert!(parse_packet("").is_err());
        assert!(parse_packet("7").is_err());
        assert!(parse_packet("2[oops").is_err());
        assert!(parse_packet("5[]").is_err());
        assert!(parse_packet("399999999999999999999999[]").is_err());
    }

    #[test]
    fn encodes_like_the_protocol_examples() {
        assert_eq!(
            encode(PacketType::Connect, "/", None, Some(&json!({"JWT": "t"}))),
            r#"40{"JWT":"t"}"#
        );
        assert_eq!(
            encode(
                PacketType::Event,
                "/",
                Some(1),
                Some(&json!(["initsync", {"cursor": 3}]))
            ),
            r#"421["initsync",{"cursor":3}]"#
        );
        assert_eq!(
            encode(PacketType::Ack, "/chat", Some(7), Some(&json!([]))),
            "43/chat,7[]"
        );
    }
}
