//! Every inbound record's path through the fake Controller: decode and the universal checks
//! (`checks::inbound`), the answer check against each request type, and what the log and
//! the matchers take from a decoded Record and Msg (kinds, msg_id, reflection trees).
#![no_main]

use libfuzzer_sys::fuzz_target;
use uspcheck::usp::{checks, msg, pb, record, reflect};

const CONTROLLER: &str = "proto::uspcheck-controller";
const EUT: &str = "proto::agent";

fuzz_target!(|data: &[u8]| {
    let ids = [CONTROLLER.to_string(), "proto::second".to_string()];
    let Ok(inbound) = checks::inbound(data, &ids, EUT) else {
        return;
    };
    let r = record::decode(data).expect("checks::inbound decoded it");
    let _ = record::kind(&r);
    let _ = record::payload(&r);
    let _ = reflect::to_value(&r, "usp_record.Record");
    for v in &inbound.violations {
        let _ = v.to_string();
    }
    if let Some(m) = &inbound.msg {
        let _ = reflect::to_value(m, "usp.Msg");
        let _ = (msg::msg_id(m), msg::header_type(m), msg::body_type(m));
        let _ = (msg::body_name(m), msg::is_answer(m), msg::notify(m));
        let _ = msg::body_tree(m);
        let request = pb::header::MsgType::try_from(i32::from(data[0] % 23))
            .unwrap_or(pb::header::MsgType::Get);
        let _ = checks::answer(request, m);
    }
});
