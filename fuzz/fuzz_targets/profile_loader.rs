//! The profile loader on any text (`Profile::parse`), then what a run reads from a profile
//! that loads (`Target::from_profile` and its accessors).
#![no_main]

use libfuzzer_sys::fuzz_target;
use uspcheck::run::target::Target;
use uspcheck::suite::profile::Profile;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Profile::parse(&text, "fuzz.yaml") {
        Ok(p) => {
            let _ = (p.mtp(), p.secondary_controller.websocket_path());
            let t = Target::from_profile(p);
            let _ = (t.eut_id(), t.controller_id(), t.secondary_controller_id());
            let _ = (t.features(), t.alternates(), t.parallel(), t.is_extended());
            let _ = (t.response_timeout(), t.connect_timeout(), t.describe());
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
