//! The WebSocket server's opening handshake on whatever a client sends: tungstenite's
//! request parsing, then uspcheck's own reading of path, eid, subprotocols and extensions,
//! the TR-369 violation check and the answer (`websocket::fuzz_handshake`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use uspcheck::mtp::websocket;

fuzz_target!(|data: &[u8]| {
    let _ = websocket::fuzz_handshake(data, "proto::uspcheck-controller");
});
