//! Entry points for fuzzing the Engine.IO / Socket.IO parsers (the `fuzz/` targets, with the
//! `fuzzing` feature). Not part of the API. Property tests of the same parsers are in
//! `socketio/packet.rs`.

use crate::socketio::packet;

/// Parses `data` as an Engine.IO text frame, and a message's payload as a Socket.IO packet.
pub fn engine_io(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(packet::EnginePacket::Message(message)) = packet::parse_engine(text) {
        socket_io(message.as_bytes());
    }
}

/// Parses `data` as a Socket.IO packet; an accepted packet whose payload is an object or an
/// array (what Socket.IO sends; binary packets aside) encodes and parses back to itself.
pub fn socket_io(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = packet::parse_packet(text) else {
        return;
    };
    let binary = matches!(
        parsed.kind,
        packet::PacketType::BinaryEvent | packet::PacketType::BinaryAck
    );
    let structured = parsed
        .data
        .as_ref()
        .is_none_or(|d| d.is_object() || d.is_array());
    if binary || !structured {
        return;
    }
    let encoded = packet::encode(
        parsed.kind,
        &parsed.namespace,
        parsed.ack_id,
        parsed.data.as_ref(),
    );
    let again = packet::parse_engine(&encoded).ok().and_then(|p| match p {
        packet::EnginePacket::Message(m) => packet::parse_packet(&m).ok(),
        _ => None,
    });
    assert_eq!(again.as_ref(), Some(&parsed), "{text:?} -> {encoded:?}");
}
