//! USP Record builders and accessors (TR-369 "USP Records"). The harness sends
//! no-session-context Records (R-E2E.26) and the MTP-level records (WebSocketConnect,
//! Disconnect); every record type parses, so whatever the EUT sends can be shown.

use prost::Message;

use super::pb;
use super::pb_record::{self as rec, record::RecordType};

/// A no_session_context Record carrying `msg`.
pub fn no_session(to_id: &str, from_id: &str, msg: &pb::Msg) -> rec::Record {
    with_type(
        to_id,
        from_id,
        RecordType::NoSessionContext(rec::NoSessionContextRecord {
            payload: msg.encode_to_vec(),
        }),
    )
}

/// A WebSocketConnectRecord, which an Agent sends after connecting (TR-369 WebSocket binding).
pub fn websocket_connect(to_id: &str, from_id: &str) -> rec::Record {
    with_type(
        to_id,
        from_id,
        RecordType::WebsocketConnect(rec::WebSocketConnectRecord {}),
    )
}

/// A UDSConnectRecord, which an Agent sends after the UDS handshake (R-MTP.6).
pub fn uds_connect(to_id: &str, from_id: &str) -> rec::Record {
    with_type(
        to_id,
        from_id,
        RecordType::UdsConnect(rec::UdsConnectRecord {}),
    )
}

/// An MQTTConnectRecord, which an Agent sends after connecting to its broker (R-MTP.6),
/// with the MQTT version and the topic it subscribed to.
pub fn mqtt_connect(to_id: &str, from_id: &str, v5: bool, subscribed_topic: &str) -> rec::Record {
    use rec::mqtt_connect_record::MqttVersion;
    with_type(
        to_id,
        from_id,
        RecordType::MqttConnect(rec::MqttConnectRecord {
            version: if v5 {
                MqttVersion::V5
            } else {
                MqttVersion::V311
            } as i32,
            subscribed_topic: subscribed_topic.into(),
        }),
    )
}

/// A DisconnectRecord with a reason and a USP error code.
pub fn disconnect(to_id: &str, from_id: &str, reason: &str, code: u32) -> rec::Record {
    with_type(
        to_id,
        from_id,
        RecordType::Disconnect(rec::DisconnectRecord {
            reason: reason.into(),
            reason_code: code,
        }),
    )
}

fn with_type(to_id: &str, from_id: &str, t: RecordType) -> rec::Record {
    rec::Record {
        version: super::USP_VERSION.into(),
        to_id: to_id.into(),
        from_id: from_id.into(),
        record_type: Some(t),
        ..Default::default()
    }
}

/// Encodes a Record for the wire.
pub fn encode(r: &rec::Record) -> Vec<u8> {
    r.encode_to_vec()
}

/// Decodes a Record from the wire.
pub fn decode(bytes: &[u8]) -> Result<rec::Record, prost::DecodeError> {
    rec::Record::decode(bytes)
}

/// The `.proto` name of the record type.
pub fn kind(r: &rec::Record) -> &'static str {
    match &r.record_type {
        Some(RecordType::NoSessionContext(_)) => "no_session_context",
        Some(RecordType::SessionContext(_)) => "session_context",
        Some(RecordType::WebsocketConnect(_)) => "websocket_connect",
        Some(RecordType::MqttConnect(_)) => "mqtt_connect",
        Some(RecordType::StompConnect(_)) => "stomp_connect",
        Some(RecordType::Disconnect(_)) => "disconnect",
        Some(RecordType::UdsConnect(_)) => "uds_connect",
        None => "(none)",
    }
}

/// The Msg payload of a no-session-context Record, if it has one.
pub fn payload(r: &rec::Record) -> Option<&[u8]> {
    match &r.record_type {
        Some(RecordType::NoSessionContext(n)) => Some(&n.payload),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usp::msg;

    #[test]
    fn records_round_trip() {
        let m = msg::request("1", pb::request::ReqType::Get(pb::Get::default()));
        let r = no_session("proto::agent", "proto::ctrl", &m);
        let back = decode(&encode(&r)).unwrap();
        assert_eq!(kind(&back), "no_session_context");
        assert_eq!(back.version, "1.4");
        assert_eq!(pb::Msg::decode(payload(&back).unwrap()).unwrap(), m);
        assert_eq!(
            kind(&decode(&encode(&disconnect("a", "b", "bye", 7105))).unwrap()),
            "disconnect"
        );
        assert!(decode(&[0xff, 0xff, 0xff]).is_err());
    }
}
