//! Bytes to packets and back with rumqttc's codecs, for the broker's side of a connection.
//! Framing is done once here (so a bad packet can be logged whole, in hex), the protocol
//! version is read from the CONNECT, and two gaps of rumqttc 0.25's 5.0 codec are bridged:
//! it rejects a DISCONNECT with no reason code or no property length (both legal), and it
//! writes a DISCONNECT whose properties are absent or empty wrongly (as a bare normal
//! disconnection, or with a bad length), so ours always carry a Reason String.

use bytes::{Bytes, BytesMut};
use rumqttc::mqttbytes::{self, v4};
use rumqttc::v5::mqttbytes::v5;

use super::{Version, codes, max_packet};

/// A decoded packet of either version.
// Packets live for one log entry or one write; boxing them would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub(crate) enum Packet {
    V5(v5::Packet),
    V4(v4::Packet),
}

/// Takes one whole packet off the front of `buf`; `Ok(None)` while more bytes are needed.
pub(crate) fn next_frame(buf: &mut BytesMut) -> Result<Option<Bytes>, String> {
    match mqttbytes::check(buf.iter(), max_packet()) {
        Ok(h) => Ok(Some(buf.split_to(h.frame_length()).freeze())),
        Err(mqttbytes::Error::InsufficientBytes(_)) => Ok(None),
        Err(e) => Err(format!("cannot frame an MQTT packet: {e}")),
    }
}

/// The length a packet at the front of `buf` declares when it is over [`max_packet`] (the
/// Maximum Packet Size the broker's 5.0 CONNACK states).
pub(crate) fn too_large(buf: &[u8]) -> Option<usize> {
    match mqttbytes::check(buf.iter(), max_packet()) {
        Err(mqttbytes::Error::PayloadSizeLimitExceeded(n)) => Some(n),
        _ => None,
    }
}

/// The packet type of a frame (the high nibble of its first byte).
pub(crate) fn packet_type(frame: &[u8]) -> u8 {
    frame.first().map_or(0, |b| b >> 4)
}

/// The MQTT version a CONNECT frame asks for, or why it cannot be served: `Err((Some(level),
/// …))` for a protocol level the broker does not speak, `Err((None, …))` for a frame that is
/// not a CONNECT at all.
/// A CONNECT's protocol name and level when they are neither MQTT 5.0 nor 3.1.1.
pub(crate) type Unsupported = (String, u8);

pub(crate) fn connect_version(frame: &[u8]) -> Result<Version, (Option<Unsupported>, String)> {
    if packet_type(frame) != 1 {
        return Err((
            None,
            format!(
                "the first packet must be CONNECT, not type {}",
                packet_type(frame)
            ),
        ));
    }
    // Skip the fixed header: one type byte, then 1–4 remaining-length bytes.
    let mut i = 1;
    while i < frame.len() && frame[i] & 0x80 != 0 {
        i += 1;
    }
    i += 1;
    let name_len = match frame.get(i..i + 2) {
        Some(b) => u16::from_be_bytes([b[0], b[1]]) as usize,
        None => return Err((None, "a CONNECT too short for its protocol name".into())),
    };
    let name = frame.get(i + 2..i + 2 + name_len);
    let level = frame.get(i + 2 + name_len).copied();
    match (name, level) {
        (Some(b"MQTT"), Some(5)) => Ok(Version::V5),
        (Some(b"MQTT"), Some(4)) => Ok(Version::V311),
        (Some(n), Some(l)) => {
            let name = String::from_utf8_lossy(n).into_owned();
            let message = format!("protocol {name:?} level {l} is not MQTT 5.0 or 3.1.1");
            Err((Some((name, l)), message))
        }
        _ => Err((None, "a CONNECT too short for its protocol level".into())),
    }
}

/// Decodes one whole frame. A panic inside the codec is caught and reported as a malformed
/// packet: the broker is a test instrument and must outlive any input.
pub(crate) fn decode(version: Version, frame: &Bytes) -> Result<Packet, String> {
    // rumqttc's 5.0 reader wants a reason code and a property length in every DISCONNECT.
    if version == Version::V5 && packet_type(frame) == 14 && frame.len() <= 3 {
        let reason = match frame.get(1) {
            Some(0) => 0,
            Some(1) => frame.get(2).copied().unwrap_or(0),
            _ => return Err("a DISCONNECT with a bad remaining length".into()),
        };
        let code = v5::DisconnectReasonCode::try_from(reason)
            .map_err(|_| format!("a DISCONNECT with unknown reason code {reason:#04x}"))?;
        return Ok(Packet::V5(v5::Packet::Disconnect(v5::Disconnect::new(
            code,
        ))));
    }
    let bytes = frame.clone();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let mut buf = BytesMut::from(&bytes[..]);
        match version {
            Version::V5 => v5::Packet::read(&mut buf, Some(max_packet() as u32))
                .map(Packet::V5)
                .map_err(|e| e.to_string()),
            Version::V311 => v4::Packet::read(&mut buf, max_packet())
                .map(Packet::V4)
                .map_err(|e| e.to_string()),
        }
    }));
    match result {
        Ok(r) => r,
        Err(_) => Err("the packet crashed the decoder".into()),
    }
}

/// Encodes a packet for the wire.
pub(crate) fn encode(p: &Packet) -> Result<Vec<u8>, String> {
    let mut buf = BytesMut::new();
    match p {
        Packet::V5(p) => p
            .write(&mut buf, Some(max_packet() as u32))
            .map_err(|e| e.to_string())?,
        Packet::V4(p) => p.write(&mut buf, max_packet()).map_err(|e| e.to_string())?,
    };
    Ok(buf.to_vec())
}

/// A 5.0 DISCONNECT with a reason code and a Reason String (the code's name when none is
/// given), the form rumqttc encodes correctly (see the module note).
pub(crate) fn disconnect_v5(code: u8, reason: Option<String>) -> v5::Packet {
    let reason_code = codes::disconnect_v5(code);
    v5::Packet::Disconnect(v5::Disconnect {
        reason_code,
        properties: Some(v5::DisconnectProperties {
            session_expiry_interval: None,
            reason_string: Some(reason.unwrap_or_else(|| format!("{reason_code:?}"))),
            user_properties: Vec::new(),
            server_reference: None,
        }),
    })
}

/// Fuzzing entry point, not API: what the broker does with a client's bytes, without
/// sockets. Frames `data` as it arrives, reads each frame's version as if it were the
/// CONNECT, decodes it with both versions' codecs and describes each packet as the packet
/// log does.
#[doc(hidden)]
pub fn fuzz_inbound(data: &[u8]) {
    let mut buf = BytesMut::new();
    // Fed in two pieces, as from two reads, so a frame split across reads is framed too.
    let (a, b) = data.split_at(data.len() / 2);
    for piece in [a, b] {
        buf.extend_from_slice(piece);
        while let Ok(Some(frame)) = next_frame(&mut buf) {
            let _ = connect_version(&frame);
            for version in [Version::V5, Version::V311] {
                if let Ok(p) = decode(version, &frame) {
                    let d = match &p {
                        Packet::V5(p) => super::describe::v5(p),
                        Packet::V4(p) => super::describe::v4(p),
                    };
                    let _ = super::describe::summary(d.kind, &d.detail);
                }
            }
        }
    }
}

/// The fixed header of a PUBLISH whose Remaining Length is one byte over [`max_packet`].
#[cfg(test)]
pub(super) fn publish_over_max() -> Vec<u8> {
    let mut header = vec![0x30u8];
    let mut n = max_packet() + 1;
    loop {
        let byte = (n % 128) as u8;
        n /= 128;
        if n == 0 {
            header.push(byte);
            break;
        }
        header.push(byte | 0x80);
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_versions_and_short_disconnects() {
        let mut b = BytesMut::from(&[0xC0u8, 0x00, 0xE0][..]);
        assert_eq!(next_frame(&mut b).unwrap().unwrap().as_ref(), &[0xC0, 0x00]);
        assert!(next_frame(&mut b).unwrap().is_none());
        let connect = encode(&Packet::V4(v4::Packet::Connect(v4::Connect::new("a")))).unwrap();
        assert_eq!(connect_version(&connect), Ok(Version::V311));
        let d = decode(Version::V5, &Bytes::from_static(&[0xE0, 0x00])).unwrap();
        assert!(matches!(d, Packet::V5(v5::Packet::Disconnect(_))));
        let d = decode(Version::V5, &Bytes::from_static(&[0xE0, 0x01, 0x8E])).unwrap();
        match d {
            Packet::V5(v5::Packet::Disconnect(d)) => assert_eq!(d.reason_code as u8, 0x8E),
            other => panic!("{other:?}"),
        }
        let out = encode(&Packet::V5(disconnect_v5(0x8E, None))).unwrap();
        assert_eq!(&out[..3], &[0xE0, out.len() as u8 - 2, 0x8E]);
        match decode(Version::V5, &Bytes::from(out)).unwrap() {
            Packet::V5(v5::Packet::Disconnect(d)) => {
                assert_eq!(d.reason_code as u8, 0x8E);
                assert_eq!(
                    d.properties.unwrap().reason_string.as_deref(),
                    Some("SessionTakenOver")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(next_frame(&mut BytesMut::from(&[0x30u8, 0xFF, 0xFF, 0xFF, 0xFF][..])).is_err());
        let over = publish_over_max();
        assert_eq!(too_large(&over), Some(max_packet() + 1));
        assert!(next_frame(&mut BytesMut::from(&over[..])).is_err());
        assert_eq!(too_large(&[0xC0, 0x00]), None);
    }

    #[test]
    fn the_fuzzing_entry_point_takes_any_bytes() {
        let connect = encode(&Packet::V4(v4::Packet::Connect(v4::Connect::new("a")))).unwrap();
        let mut twice = connect.clone();
        twice.extend_from_slice(&connect);
        fuzz_inbound(&twice);
        fuzz_inbound(&[]);
        fuzz_inbound(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]);
    }
}
