//! The embedded MQTT broker's handling of a client's bytes: framing, the CONNECT's version,
//! decoding with the 5.0 and 3.1.1 codecs and the packet log's description
//! (`mqtt::fuzz_inbound`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        // The broker catches a panic inside rumqttc's codecs (`wire::decode`) and reports a
        // malformed packet; libFuzzer's hook would abort before that catch. Keep the default
        // report without the abort: a panic nobody catches still aborts in libfuzzer-sys.
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            eprintln!("(a panic; the fuzzer aborts only if the broker does not catch it)");
            report(info);
        }));
    },
    |data: &[u8]| {
        uspcheck::mtp::mqtt::fuzz_inbound(data);
    }
);
