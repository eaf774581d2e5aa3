//! The MQTT MTP (TR-369 "MQTT Binding"), for MQTT 5.0 (R-MQTT.1) and 3.1.1 (R-MQTT.2) over
//! TCP (R-MQTT.3). Three pieces, all on rumqttc's packet codecs (no home-made codec):
//!
//! - [`broker`]: an embedded broker that is a test instrument. It logs every packet both ways
//!   with its decoded fields, and lets a test script CONNACK, SUBACK, UNSUBACK, DISCONNECT and
//!   outages, because TP-469 section 11 inspects and provokes exactly those.
//! - [`embedded`]: the harness's Controller as an in-process subscriber of that broker.
//! - [`link`]: a plain MQTT client as a [`Link`](super::Link), for the reference agent and
//!   for a Controller that tests through an external broker (mosquitto…); [`subscribers`]
//!   asks such a broker whether anyone is subscribed to a Topic.
//!
//! Each can run over TLS: the broker beside its TCP listener ([`BrokerHandle::listen_tls`]),
//! the client link with [`ClientConfig::tls`] (R-MQTT.48: TLS 1.2 or later;
//! TP-469 11.3). Certificates and configurations come from [`crate::pki`].
//!
//! Topic rules shared by all of them live here: the 3.1.1 `/reply-to=` suffix (R-MQTT.24,
//! R-MQTT.25), topic filter matching, and the USP content types (R-MQTT.27, R-MQTT.27a).

pub mod broker;
mod client;
mod codes;
mod describe;
pub mod embedded;
pub mod link;
mod session;
pub mod subscribers;
pub(crate) mod wire;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tls_tests;

use serde::Serialize;

pub use broker::{Broker, BrokerEvent, BrokerHandle, ClientInfo, Dir, Refusal, Script};
pub use embedded::{ControllerConfig, ControllerControl};
pub use link::{ClientConfig, ConnackInfo, connect, connect_with};
/// For `fuzz/` only.
#[doc(hidden)]
pub use wire::fuzz_inbound;

/// The MQTT protocol version of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Version {
    #[serde(rename = "5.0")]
    V5,
    #[serde(rename = "3.1.1")]
    V311,
}

impl Version {
    /// The version as people write it (`5.0`, `3.1.1`).
    pub fn label(self) -> &'static str {
        match self {
            Version::V5 => "5.0",
            Version::V311 => "3.1.1",
        }
    }

    /// The CONNECT protocol level byte (5 or 4).
    pub fn level(self) -> u8 {
        match self {
            Version::V5 => 5,
            Version::V311 => 4,
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// The Content Type a USP Endpoint puts on a 5.0 PUBLISH carrying a Record (R-MQTT.27).
pub const CONTENT_TYPE: &str = "usp.msg";
/// The registered MIME type, also to be accepted as a USP Record (R-MQTT.27a).
pub const CONTENT_TYPE_MIME: &str = "application/vnd.bbf.usp.msg";
/// The 3.1.1 Topic Name suffix that carries the "reply to" Topic (R-MQTT.24).
pub const REPLY_TO: &str = "/reply-to=";
/// The largest packet the broker and the clients accept: a record of
/// [`crate::mtp::max_record`] with its topic and properties, so a broken peer cannot make the
/// harness allocate without bound while the records it reads fit.
pub fn max_packet() -> usize {
    super::max_record() + super::RECORD_HEADROOM
}

/// Whether a 5.0 Content Type marks a USP Record (R-MQTT.27a).
pub fn is_usp_content_type(ct: &str) -> bool {
    ct == CONTENT_TYPE || ct == CONTENT_TYPE_MIME
}

/// The 3.1.1 Topic Name for sending to `topic` with `reply_to` as the "reply to" Topic, every
/// `/` of it written `%2F` (R-MQTT.24).
pub fn with_reply_to(topic: &str, reply_to: &str) -> String {
    format!("{topic}{REPLY_TO}{}", reply_to.replace('/', "%2F"))
}

/// Splits a 3.1.1 Topic Name at its last `/reply-to=`: the topic proper, and the "reply to"
/// Topic with `%2F` turned back into `/` (R-MQTT.25). No suffix gives `None`.
pub fn split_reply_to(topic: &str) -> (&str, Option<String>) {
    match topic.rfind(REPLY_TO) {
        Some(i) => {
            let reply = &topic[i + REPLY_TO.len()..];
            (
                &topic[..i],
                Some(reply.replace("%2F", "/").replace("%2f", "/")),
            )
        }
        None => (topic, None),
    }
}

/// Whether a Topic Name matches a Topic Filter (`+` one level, `#` the rest including the
/// parent level; wildcards at the first level never match a `$` topic).
pub fn topic_matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// Whether a Topic Filter is well formed: not empty, `#` only as the whole last level, `+`
/// only as a whole level.
pub fn valid_filter(filter: &str) -> bool {
    if filter.is_empty() || filter.contains('\0') {
        return false;
    }
    let levels: Vec<&str> = filter.split('/').collect();
    levels.iter().enumerate().all(|(i, l)| {
        (!l.contains('#') || (*l == "#" && i == levels.len() - 1))
            && (!l.contains('+') || *l == "+")
    })
}

/// Whether a Topic Name is well formed for a PUBLISH: not empty, no wildcard.
pub fn valid_topic(topic: &str) -> bool {
    !topic.is_empty() && !topic.contains(['+', '#', '\0'])
}

/// Whether `topic` is among `filters`, directly or through a wildcard (R-MQTT.15).
pub fn covered(topic: &str, filters: &[String]) -> bool {
    filters.iter().any(|f| topic_matches(f, topic))
}
