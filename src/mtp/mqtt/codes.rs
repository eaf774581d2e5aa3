//! Reason codes as numbers, names and rumqttc's enums. Tests script codes as the numbers the
//! MQTT 5.0 specification gives them; rumqttc wants its enums, and panics when asked to
//! write a 3.1.1-only variant into a 5.0 CONNACK, so every conversion goes through these
//! tables and unknown numbers fall back to a safe code.

use rumqttc::mqttbytes::v4;
use rumqttc::v5::mqttbytes::v5;

use v5::ConnectReturnCode as C;

/// 5.0 CONNACK reason codes that rumqttc can write, with their names.
const CONNACK: &[(u8, C, &str)] = &[
    (0x00, C::Success, "Success"),
    (0x80, C::UnspecifiedError, "Unspecified error"),
    (0x81, C::MalformedPacket, "Malformed Packet"),
    (0x82, C::ProtocolError, "Protocol Error"),
    (
        0x83,
        C::ImplementationSpecificError,
        "Implementation specific error",
    ),
    (
        0x84,
        C::UnsupportedProtocolVersion,
        "Unsupported Protocol Version",
    ),
    (
        0x85,
        C::ClientIdentifierNotValid,
        "Client Identifier not valid",
    ),
    (0x86, C::BadUserNamePassword, "Bad User Name or Password"),
    (0x87, C::NotAuthorized, "Not authorized"),
    (0x88, C::ServerUnavailable, "Server unavailable"),
    (0x89, C::ServerBusy, "Server busy"),
    (0x8A, C::Banned, "Banned"),
    (
        0x8C,
        C::BadAuthenticationMethod,
        "Bad authentication method",
    ),
    (0x90, C::TopicNameInvalid, "Topic Name invalid"),
    (0x95, C::PacketTooLarge, "Packet too large"),
    (0x97, C::QuotaExceeded, "Quota exceeded"),
    (0x99, C::PayloadFormatInvalid, "Payload format invalid"),
    (0x9A, C::RetainNotSupported, "Retain not supported"),
    (0x9B, C::QoSNotSupported, "QoS not supported"),
    (0x9C, C::UseAnotherServer, "Use another server"),
    (0x9D, C::ServerMoved, "Server moved"),
    (0x9F, C::ConnectionRateExceeded, "Connection rate exceeded"),
];

/// The 5.0 CONNACK reason for `code`; an unknown failure becomes 0x80 Unspecified error.
pub(crate) fn connack_v5(code: u8) -> (u8, C) {
    CONNACK
        .iter()
        .find(|(n, _, _)| *n == code)
        .map(|(n, c, _)| (*n, *c))
        .unwrap_or((0x80, C::UnspecifiedError))
}

/// The number of a 5.0 CONNACK reason (3.1.1-only variants as their 3.1.1 numbers).
pub(crate) fn connack_v5_number(c: C) -> u8 {
    match c {
        C::RefusedProtocolVersion => 1,
        C::BadClientId => 2,
        C::ServiceUnavailable => 3,
        other => CONNACK
            .iter()
            .find(|(_, e, _)| *e == other)
            .map_or(0x80, |(n, _, _)| *n),
    }
}

/// The name of a 5.0 CONNACK reason code.
pub(crate) fn connack_name(code: u8) -> &'static str {
    CONNACK
        .iter()
        .find(|(n, _, _)| *n == code)
        .map_or("unknown", |(_, _, s)| s)
}

/// The nearest 3.1.1 CONNACK return code for a 5.0 reason code (MQTT 5.0 §3.2.2.2 lets a
/// server answer a 3.1.1 client this way).
pub(crate) fn connack_v4(code: u8) -> (u8, v4::ConnectReturnCode) {
    use v4::ConnectReturnCode as R;
    match code {
        0x00 => (0, R::Success),
        0x01 | 0x84 => (1, R::RefusedProtocolVersion),
        0x02 | 0x85 => (2, R::BadClientId),
        0x04 | 0x86 => (4, R::BadUserNamePassword),
        0x05 | 0x87 | 0x8A | 0x8C => (5, R::NotAuthorized),
        _ => (3, R::ServiceUnavailable),
    }
}

/// The number and name of a 3.1.1 CONNACK return code.
pub(crate) fn connack_v4_number(c: v4::ConnectReturnCode) -> (u8, &'static str) {
    use v4::ConnectReturnCode as R;
    match c {
        R::Success => (0, "Connection Accepted"),
        R::RefusedProtocolVersion => (1, "unacceptable protocol version"),
        R::BadClientId => (2, "identifier rejected"),
        R::ServiceUnavailable => (3, "Server unavailable"),
        R::BadUserNamePassword => (4, "bad user name or password"),
        R::NotAuthorized => (5, "not authorized"),
    }
}

use v5::SubscribeReasonCode as S;

/// 5.0 SUBACK failure reason codes that rumqttc can write.
const SUBACK: &[(u8, S, &str)] = &[
    (0x80, S::Unspecified, "Unspecified error"),
    (
        0x83,
        S::ImplementationSpecific,
        "Implementation specific error",
    ),
    (0x87, S::NotAuthorized, "Not authorized"),
    (0x8F, S::TopicFilterInvalid, "Topic Filter invalid"),
    (0x91, S::PkidInUse, "Packet Identifier in use"),
    (0x97, S::QuotaExceeded, "Quota exceeded"),
    (
        0x9E,
        S::SharedSubscriptionsNotSupported,
        "Shared Subscriptions not supported",
    ),
    (
        0xA1,
        S::SubscriptionIdNotSupported,
        "Subscription Identifiers not supported",
    ),
    (
        0xA2,
        S::WildcardSubscriptionsNotSupported,
        "Wildcard Subscriptions not supported",
    ),
];

/// The 5.0 SUBACK reason for a failure `code`; an unknown one becomes 0x80.
pub(crate) fn suback_failure_v5(code: u8) -> (u8, S) {
    SUBACK
        .iter()
        .find(|(n, _, _)| *n == code)
        .map(|(n, s, _)| (*n, *s))
        .unwrap_or((0x80, S::Unspecified))
}

/// The number and name of a 5.0 SUBACK reason.
pub(crate) fn suback_v5_number(s: S) -> (u8, &'static str) {
    match s {
        S::Success(q) => (q as u8, "Granted QoS"),
        S::Failure => (0x80, "Failure"),
        other => SUBACK
            .iter()
            .find(|(_, e, _)| *e == other)
            .map_or((0x80, "Unspecified error"), |(n, _, s)| (*n, s)),
    }
}

use v5::UnsubAckReason as U;

/// 5.0 UNSUBACK reason codes.
const UNSUBACK: &[(u8, U, &str)] = &[
    (0x00, U::Success, "Success"),
    (0x11, U::NoSubscriptionExisted, "No subscription existed"),
    (0x80, U::UnspecifiedError, "Unspecified error"),
    (
        0x83,
        U::ImplementationSpecificError,
        "Implementation specific error",
    ),
    (0x87, U::NotAuthorized, "Not authorized"),
    (0x8F, U::TopicFilterInvalid, "Topic Filter invalid"),
    (0x91, U::PacketIdentifierInUse, "Packet Identifier in use"),
];

/// The 5.0 UNSUBACK reason for `code`; an unknown one becomes 0x80.
pub(crate) fn unsuback_v5(code: u8) -> U {
    UNSUBACK
        .iter()
        .find(|(n, _, _)| *n == code)
        .map_or(U::UnspecifiedError, |(_, u, _)| *u)
}

/// The number and name of a 5.0 UNSUBACK reason.
pub(crate) fn unsuback_v5_number(u: U) -> (u8, &'static str) {
    UNSUBACK
        .iter()
        .find(|(_, e, _)| *e == u)
        .map_or((0x80, "Unspecified error"), |(n, _, s)| (*n, s))
}

/// The 5.0 DISCONNECT reason for `code`; an unknown one becomes 0x80 Unspecified error.
pub(crate) fn disconnect_v5(code: u8) -> v5::DisconnectReasonCode {
    v5::DisconnectReasonCode::try_from(code).unwrap_or(v5::DisconnectReasonCode::UnspecifiedError)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;

    /// Every table entry writes the number it claims, so a scripted code is what goes out.
    #[test]
    fn tables_match_the_bytes_rumqttc_writes() {
        for (n, c, _) in CONNACK {
            let mut b = BytesMut::new();
            v5::ConnAck {
                session_present: false,
                code: *c,
                properties: None,
            }
            .write(&mut b)
            .unwrap();
            assert_eq!(b[3], *n, "{c:?}");
        }
        for (n, s, _) in SUBACK {
            let mut b = BytesMut::new();
            v5::SubAck {
                pkid: 1,
                return_codes: vec![*s],
                properties: None,
            }
            .write(&mut b)
            .unwrap();
            assert_eq!(*b.last().unwrap(), *n, "{s:?}");
        }
        for (n, u, _) in UNSUBACK {
            let mut b = BytesMut::new();
            v5::UnsubAck {
                pkid: 1,
                reasons: vec![*u],
                properties: None,
            }
            .write(&mut b)
            .unwrap();
            assert_eq!(*b.last().unwrap(), *n, "{u:?}");
        }
        assert_eq!(connack_v5(0x42).0, 0x80);
        assert_eq!(disconnect_v5(0x8E) as u8, 0x8E);
        assert_eq!(connack_v4(0x86).0, 4);
    }
}
