//! The fake Controller: one [`Session`] per case with the EUT, a timestamped log of every
//! record and MTP event, requests with fresh msg_ids, responses awaited by msg_id, and
//! matching from a cursor so nothing the EUT sends early is lost. Every wait has a bound.
//!
//! It knows nothing of YAML: the suite layer decides what to send and how to judge it.

mod log;
mod session;

pub use log::{Dir, LogEntry, Logged};
pub use session::{Addressed, NoneError, Received, Relink, Sent, Session, WaitError};

#[cfg(test)]
mod hostile_tests;
