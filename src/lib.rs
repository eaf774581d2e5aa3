//! uspcheck: a conformance test harness for USP Agents (Broadband Forum TR-369), running
//! the TP-469 test plan as YAML data against an Agent under test.
//!
//! Layers, each using only those above it in this list: [`usp`] (the protocol without
//! I/O), [`pki`] (certificates and TLS configurations), [`mtp`] (transports),
//! [`controller`] (the fake Controller), [`suite`] (cases as data), [`report`] (one result
//! model, many formats), [`run`] (runs cases), and beside them [`agent`], the reference
//! agent, which shares only `usp`, `pki` and `mtp`.

pub mod agent;
pub mod clip;
pub mod controller;
pub mod init;
pub mod mtp;
pub mod pki;
pub mod report;
pub mod run;
pub mod suite;
pub mod usp;
