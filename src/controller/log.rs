//! The session log: every record in both directions and every MTP event, with the instant
//! it was seen. Reports print it as the case's wire log.

use std::time::{Instant, SystemTime};

use crate::usp::{checks::Violation, msg, pb, record};

/// Direction of a record, seen from the harness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Dir {
    /// From the EUT to the harness.
    In,
    /// From the harness to the EUT.
    Out,
}

/// One line of the log.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub at: Instant,
    pub wall: SystemTime,
    pub what: Logged,
}

/// What a log line records.
// Nearly every entry is a Record, so boxing it would add an allocation per entry to save
// space only on the rare MTP event.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Logged {
    /// A USP Record on the wire, decoded as far as it goes.
    Record {
        dir: Dir,
        bytes: Vec<u8>,
        msg: Option<pb::Msg>,
        /// One line: record type, msg_type, msg_id.
        summary: String,
        /// The universal metrics this record breaks (inbound only).
        violations: Vec<Violation>,
    },
    /// An MTP-level event (connected, closed, a text frame…).
    Mtp(String),
}

/// The one-line description of a record used in logs and failure texts.
pub fn summarize(bytes: &[u8], decoded_msg: Option<&pb::Msg>) -> String {
    match record::decode(bytes) {
        Err(_) => format!("undecodable record ({} bytes)", bytes.len()),
        Ok(r) => match decoded_msg {
            Some(m) => format!(
                "{} {} msg_id={:?}",
                record::kind(&r),
                msg::header_type(m).map_or("?", |t| t.as_str_name()),
                msg::msg_id(m)
            ),
            None => format!("{} record", record::kind(&r)),
        },
    }
}
