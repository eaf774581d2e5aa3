//! The USP protocol without I/O: generated Record and Msg types, builders and accessors,
//! the path-name and Endpoint ID grammars, the error-code table, and the universal checks
//! TP-469 applies to every record and message an EUT sends.

pub mod checks;
pub mod endpoint;
pub mod errors;
pub mod msg;
pub mod path;
pub mod record;
pub mod reflect;
mod tree;

/// Generated from `proto/usp-msg-1-4.proto` (package `usp`).
#[allow(clippy::all, missing_docs)]
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/usp.rs"));
}

/// Generated from `proto/usp-record-1-4.proto` (package `usp_record`).
#[allow(clippy::all, missing_docs)]
pub mod pb_record {
    include!(concat!(env!("OUT_DIR"), "/usp_record.rs"));
}

/// The encoded descriptor set of both schemas, as compiled by `build.rs`.
pub const DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/usp_descriptor.bin"));

/// The USP protocol version this crate speaks and writes into every Record.
pub const USP_VERSION: &str = "1.4";
