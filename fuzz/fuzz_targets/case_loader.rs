//! The case loader on any text: YAML parsing, validation and compiling the expectations
//! (`suite::load_str`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = uspcheck::suite::load_str(&text, "fuzz.yaml") {
        let _ = e.to_string();
    }
});
