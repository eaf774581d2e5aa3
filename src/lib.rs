//! uspcheck: a conformance test harness for USP Agents (Broadband Forum TR-369), running
//! the TP-469 test plan as YAML data against an Agent under test.
//!
//! Layers, each using only those above it in this list: [`usp`] (the protocol without
//! I/O), [`pki`] (certificates and TLS configurations), [`mtp`] (transports),
//! [`controller`] (the fake Controller), [`suite`] (cases as data), [`report`] (one result
//! model, many formats), [`run`] (runs cases), and beside them [`agent`], the reference
//! agent, which shares only `usp`, `pki` and `mtp`. [`clip`] and [`human`] (text for people)
//! serve every layer.

/// The versions of the plan and the protocol uspcheck implements, written once.
macro_rules! tp469 {
    () => {
        "1.4.0"
    };
}
macro_rules! tr369 {
    () => {
        "1.4.1"
    };
}

/// The TP-469 version the cases are written from (TP-469 Issue 1 Amendment 4).
pub const TP469_VERSION: &str = tp469!();
/// The TR-369 version the harness and the reference agent implement (TR-369 Issue 1
/// Amendment 4 Corrigendum 1, USP 1.4).
pub const TR369_VERSION: &str = tr369!();
/// What `uspcheck --version` prints after the name.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (TP-469 ",
    tp469!(),
    ", TR-369 ",
    tr369!(),
    ")"
);

pub mod agent;
pub mod clip;
pub mod controller;
pub mod human;
pub mod init;
pub mod mtp;
pub mod pki;
pub mod report;
pub mod run;
pub mod suite;
pub mod usp;
