//! The session log: every record in both directions and every MTP event, with the instant
//! it was seen. Reports print it as the case's wire log.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use bytes::Bytes;

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
#[derive(Debug, Clone)]
pub enum Logged {
    /// A USP Record on the wire, decoded as far as it goes.
    Record {
        dir: Dir,
        /// Shared with the waits that take the record (`Received`), never copied.
        bytes: Bytes,
        /// Behind a pointer: a case may log tens of thousands of records, and most lose their
        /// bodies to the log's budget; inline, each entry would still reserve a whole Msg. An
        /// `Arc`, so the wait that takes it shares it instead of copying megabytes.
        msg: Option<Arc<pb::Msg>>,
        /// One line: record type, msg_type, msg_id.
        summary: String,
        /// The universal metrics this record breaks (inbound only).
        violations: Vec<Violation>,
    },
    /// An MTP-level event (connected, closed, a text frame…).
    Mtp(String),
}

/// What a record's body costs in memory while the log keeps it: its bytes and, decoded, about
/// twice their size again (strings and maps on the heap; 2.4 times for a Get answer of many
/// small parameters, the costliest shape), plus the Msg itself.
pub fn body_cost(bytes: &[u8], msg: Option<&pb::Msg>) -> usize {
    bytes.len()
        + msg.map_or(0, |m| {
            std::mem::size_of::<pb::Msg>() + (BODY_PER_BYTE - 1) * prost::Message::encoded_len(m)
        })
}

/// About what one byte of a record costs kept with its decoded message (see [`body_cost`]).
pub const BODY_PER_BYTE: usize = 3;

/// The one-line description of a record used in logs and failure texts.
pub fn summarize(bytes: &[u8], decoded_msg: Option<&pb::Msg>) -> String {
    match record::decode(bytes) {
        Err(_) => format!("undecodable record ({} bytes)", bytes.len()),
        Ok(r) => describe(record::kind(&r), decoded_msg),
    }
}

/// [`summarize`] for a record whose kind is known, without decoding it again.
pub fn describe(kind: &str, decoded_msg: Option<&pb::Msg>) -> String {
    match decoded_msg {
        Some(m) => format!(
            "{kind} {} msg_id={:?}",
            msg::header_type(m).map_or("?", |t| t.as_str_name()),
            msg::msg_id(m)
        ),
        None => format!("{kind} record"),
    }
}
