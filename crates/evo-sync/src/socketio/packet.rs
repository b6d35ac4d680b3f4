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

    /// Numbers in payloads parse to the nearest double, so re-encoding a packet gives the same
    /// packet back (cargo-fuzz found `0[2.0E45]` coming back as 2.0000000000000002e45).
    #[test]
    fn float_payloads_parse_to_the_nearest_double() {
        let p = parse_packet("0[2.0E45,5288888888888888828888888888888888888888822]").unwrap();
        let data = p.data.unwrap();
        assert_eq!(data[0].as_f64(), Some(2.0E45));
        assert_eq!(
            data[1].as_f64(),
            Some(5_288_888_888_888_888_828_888_888_888_888_888_888_888_822.0)
        );
        crate::fuzzing::socket_io(b"0[2.0E45]");
        crate::fuzzing::engine_io(b"40[5288888888888888828888888888888888888888822,2,2]");
    }

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

    /// Fuzz-style properties: whatever a server sends, decoding never panics and either gives
    /// the right packet or a typed protocol error that does not quote the payload.
    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        /// A marker standing for a token inside payloads: errors must never show it.
        const SECRET: &str = "SECRETTOKEN42";

        fn json_leaf() -> impl Strategy<Value = Value> {
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                ".{0,12}".prop_map(Value::from),
                Just(Value::from(SECRET)),
            ]
        }

        fn json_value() -> impl Strategy<Value = Value> {
            json_leaf().prop_recursive(3, 24, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    prop::collection::btree_map(".{0,6}", inner, 0..4)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        /// Socket.IO payloads are arrays (events, acks) or objects (CONNECT, CONNECT_ERROR).
        fn payload() -> impl Strategy<Value = Value> {
            prop_oneof![
                prop::collection::vec(json_value(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-zA-Z]{0,6}", json_value(), 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        }

        fn text_kind() -> impl Strategy<Value = PacketType> {
            prop_oneof![
                Just(PacketType::Connect),
                Just(PacketType::Disconnect),
                Just(PacketType::Event),
                Just(PacketType::Ack),
                Just(PacketType::ConnectError),
            ]
        }

        fn namespace() -> impl Strategy<Value = String> {
            prop_oneof![Just("/".to_owned()), "/[a-zA-Z0-9_.-]{1,12}"]
        }

        /// A valid Engine.IO message frame and the packet it holds.
        fn valid_frame() -> impl Strategy<Value = (String, Packet)> {
            (
                text_kind(),
                namespace(),
                prop::option::of(any::<u64>()),
                prop::option::of(payload()),
            )
                .prop_map(|(kind, namespace, ack_id, data)| {
                    let frame = encode(kind, &namespace, ack_id, data.as_ref());
                    let packet = Packet {
                        kind,
                        namespace,
                        ack_id,
                        data,
                    };
                    (frame, packet)
                })
        }

        /// Decodes a whole WebSocket text frame the way the connection does.
        fn decode_frame(frame: &str) -> Result<Option<Packet>, Error> {
            match parse_engine(frame)? {
                EnginePacket::Message(message) => parse_packet(&message).map(Some),
                _ => Ok(None),
            }
        }

        fn assert_typed_without_secret<T: std::fmt::Debug>(result: Result<T, Error>) {
            if let Err(error) = result {
                assert!(matches!(error, Error::Protocol { .. }), "{error:?}");
                let shown = format!("{error} {error:?}");
                assert!(!shown.contains(SECRET), "{shown}");
            }
        }

        proptest! {
            #[test]
            fn arbitrary_text_never_panics_the_engine_or_socketio_decoder(text in any::<String>()) {
                assert_typed_without_secret(parse_engine(&text));
                assert_typed_without_secret(parse_packet(&text));
            }

            #[test]
            fn arbitrary_text_after_a_valid_packet_header_never_panics(
                header in "4?[0-9][0-9]{0,3}-?(/[a-z,]{0,4})?[0-9]{0,25}",
                tail in any::<String>(),
            ) {
                let text = format!("{header}{tail}");
                assert_typed_without_secret(decode_frame(&text));
                assert_typed_without_secret(parse_packet(&text));
            }

            #[test]
            fn encoded_packets_decode_to_the_same_packet((frame, packet) in valid_frame()) {
                let decoded = decode_frame(&frame).expect("a valid frame decodes");
                prop_assert_eq!(decoded, Some(packet));
            }

            #[test]
            fn every_truncation_of_a_valid_frame_is_a_packet_or_a_typed_error(
                (frame, packet) in valid_frame(),
            ) {
                for (cut, _) in frame.char_indices() {
                    assert_typed_without_secret(decode_frame(&frame[..cut]));
                }
                // Cutting inside the JSON payload never yields a packet with that payload.
                if let Some(data) = &packet.data {
                    let json = data.to_string();
                    let start = frame.len() - json.len();
                    for (cut, _) in json.char_indices().skip(1) {
                        if let Ok(Some(p)) = decode_frame(&frame[..start + cut]) {
                            prop_assert_ne!(p.data.as_ref(), Some(data));
                        }
                    }
                }
            }

            #[test]
            fn byte_flips_in_a_valid_frame_never_panic(
                (frame, _packet) in valid_frame(),
                at in any::<prop::sample::Index>(),
                xor in 1u8..=255,
            ) {
                let mut bytes = frame.into_bytes();
                let i = at.index(bytes.len());
                bytes[i] ^= xor;
                // Text frames are UTF-8 (tungstenite checks); a flip may break that, so decode
                // what a lossy reading leaves.
                let text = String::from_utf8_lossy(&bytes);
                assert_typed_without_secret(decode_frame(&text));
            }

            #[test]
            fn ack_ids_decode_exactly_or_fail_when_out_of_range(digits in "[0-9]{1,40}") {
                let result = parse_packet(&format!("3{digits}[]"));
                match digits.parse::<u64>() {
                    Ok(id) => {
                        let p = result.expect("an ack id in range");
                        prop_assert_eq!(p.ack_id, Some(id));
                        prop_assert_eq!(p.data, Some(Value::Array(Vec::new())));
                    }
                    Err(_) => assert!(matches!(result, Err(Error::Protocol { .. }))),
                }
            }

            #[test]
            fn open_packets_need_both_timings_as_unsigned_integers(
                interval in prop::option::of(json_leaf()),
                timeout in prop::option::of(json_leaf()),
                max_payload in prop::option::of(json_leaf()),
                duplicate_interval in prop::option::of(json_leaf()),
                long_sid in 0usize..5000,
            ) {
                let mut fields = vec![format!("\"sid\":{}", Value::from("s".repeat(long_sid)))];
                let mut push = |name: &str, v: &Option<Value>| {
                    if let Some(v) = v {
                        fields.push(format!("\"{name}\":{v}"));
                    }
                };
                push("pingInterval", &interval);
                push("pingTimeout", &timeout);
                push("maxPayload", &max_payload);
                // A duplicated member: the last one wins.
                push("pingInterval", &duplicate_interval);
                let frame = format!("0{{{}}}", fields.join(","));
                let interval = duplicate_interval.or(interval);
                let result = parse_engine(&frame);
                let expected = match (
                    interval.as_ref().and_then(Value::as_u64),
                    timeout.as_ref().and_then(Value::as_u64),
                ) {
                    (Some(i), Some(t)) => Some(Open {
                        ping_interval_ms: i,
                        ping_timeout_ms: t,
                        max_payload: max_payload
                            .as_ref()
                            .and_then(Value::as_u64)
                            .unwrap_or(1_000_000),
                    }),
                    _ => None,
                };
                match expected {
                    Some(open) => prop_assert_eq!(result.expect("a valid open"), EnginePacket::Open(open)),
                    None => assert_typed_without_secret(result.map(|_| panic!("accepted a bad open packet"))),
                }
            }

            #[test]
            fn huge_numbers_in_open_packets_are_typed_errors(
                digits in "[1-9][0-9]{20,400}",
                exponent in "(e[0-9]{3,5})?",
            ) {
                let frame = format!(r#"0{{"pingInterval":{digits}{exponent},"pingTimeout":1}}"#);
                assert!(matches!(parse_engine(&frame), Err(Error::Protocol { .. })));
            }
        }
    }
}
