//! TP-469's universal test metrics, applied to every Record and Msg the EUT sends in every
//! case: the Endpoint ID is valid (R-ARC.2a/5/6), records and messages decode with the USP
//! schemas (R-ENC.0/1, R-MSG.5–R-MSG.10), and paths the Agent reports use instance-number
//! addressing (R-MSG.3, R-ARC.7). A violation fails the case that saw it.

use std::fmt;

use prost::Message;
use serde_json::Value;

use super::pb_record::{Record, record::RecordType};
use super::{endpoint, msg, path, pb};

/// Cited instead of a requirement where the EUT went past a bound of uspcheck's own that no
/// TR-369 requirement sets (a record over the size uspcheck reads): a fail, because the case
/// cannot go on, that says it rests on the harness's documented limit (docs/limits.md).
pub const HARNESS_LIMIT: &str =
    "a limit of uspcheck, documented in docs/limits.md; TR-369 sets none";

/// One broken rule: the requirement and a sentence saying what was seen.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    pub requirement: &'static str,
    pub text: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.text, self.requirement)
    }
}

fn v(requirement: &'static str, text: impl Into<String>) -> Violation {
    Violation {
        requirement,
        text: text.into(),
    }
}

/// A Record received from the EUT, decoded as far as it goes.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// The Record's `record_type` (see [`super::record::kind`]), `from_id` and `to_id`.
    pub kind: &'static str,
    pub from_id: String,
    pub to_id: String,
    /// The Msg inside a no_session_context Record, if there is one and it decodes.
    pub msg: Option<pb::Msg>,
    /// Every universal metric this record breaks.
    pub violations: Vec<Violation>,
}

/// Decodes and checks a record from the EUT, addressed to one of `controller_ids` (the
/// identities the harness plays). A record that does not decode at all is an `Err`
/// carrying the violation, with the bytes in hex so the failure can show them.
pub fn inbound(
    bytes: &[u8],
    controller_ids: &[String],
    eut_id: &str,
) -> Result<Inbound, Violation> {
    let mut record = Record::decode(bytes).map_err(|e| {
        v(
            "R-ENC.0",
            format!(
                "the bytes received are not a USP Record ({e}): {}",
                crate::clip::hex(bytes)
            ),
        )
    })?;
    let mut out = Vec::new();
    if record.version.is_empty() {
        out.push(v(
            "R-MTP.4b",
            "the Record has no version, a Required field of the Record",
        ));
    }
    if !controller_ids.contains(&record.to_id) {
        out.push(v(
            "R-E2E.1",
            format!(
                "the Record's to_id is {:?}, not the Controller's Endpoint ID {:?}",
                record.to_id,
                controller_ids.first().map_or("", String::as_str)
            ),
        ));
    }
    if record.from_id != eut_id {
        // TR-369 gives the from_id no requirement id of its own: the Record Definition says
        // it is the Endpoint ID of the Endpoint that generated the Record.
        out.push(v(
            "TR-369 Record Definition, from_id",
            format!(
                "the Record's from_id is {:?}, not the EUT's Endpoint ID {eut_id:?}",
                record.from_id
            ),
        ));
    }
    if let Err(why) = endpoint::check(&record.from_id) {
        out.push(v("R-ARC.5", why));
    }
    if record.record_type.is_none() {
        out.push(v("R-ENC.1", "the Record has no record_type"));
    }
    let mut decoded = None;
    let kind = super::record::kind(&record);
    let (from_id, to_id) = (
        std::mem::take(&mut record.from_id),
        std::mem::take(&mut record.to_id),
    );
    // Taken out of the Record, and dropped once decoded: the payload can be megabytes, and
    // the checks on the Msg below build its tree.
    let payload = match &mut record.record_type {
        Some(RecordType::NoSessionContext(n)) => Some(std::mem::take(&mut n.payload)),
        _ => None,
    };
    drop(record);
    if let Some(payload) = payload {
        if payload.is_empty() {
            out.push(v(
                "R-E2E.26",
                "a no_session_context Record with an empty payload",
            ));
        } else {
            match pb::Msg::decode(payload.as_slice()) {
                Ok(m) => {
                    drop(payload);
                    out.extend(message(&m));
                    decoded = Some(m);
                }
                Err(e) => out.push(v(
                    "R-MSG.5",
                    format!(
                        "the payload is not a USP Msg ({e}): {}",
                        crate::clip::hex(&payload)
                    ),
                )),
            }
        }
    }
    Ok(Inbound {
        kind,
        from_id,
        to_id,
        msg: decoded,
        violations: out,
    })
}

/// The header and body rules every Msg must keep, and R-MSG.3 on reported paths.
pub fn message(m: &pb::Msg) -> Vec<Violation> {
    let mut out = Vec::new();
    match &m.header {
        None => out.push(v("R-MSG.6", "the Msg has no header")),
        Some(h) if h.msg_id.is_empty() => out.push(v("R-MSG.8", "the header has an empty msg_id")),
        Some(_) => {}
    }
    match (msg::header_type(m), msg::body_type(m)) {
        (_, None) => out.push(v("R-MSG.7", "the Msg has no body (or an empty one)")),
        (None, _) => out.push(v("R-MSG.10", "the header's msg_type is not a known value")),
        (Some(h), Some(b)) if h != b => out.push(v(
            "R-MSG.10",
            format!(
                "the header says {} but the body is {}",
                h.as_str_name(),
                b.as_str_name()
            ),
        )),
        _ => {}
    }
    if m.body.is_some() {
        reported_paths(&msg::body_tree(m), "", &mut out);
    }
    out
}

/// Fields in which an Agent reports paths of its instantiated data model.
const REPORTED: &[&str] = &[
    "resolved_path",
    "instantiated_path",
    "affected_path",
    "affected_paths",
    "req_obj_path",
    "instantiated_obj_paths",
];

fn reported_paths(tree: &Value, at: &str, out: &mut Vec<Violation>) {
    match tree {
        Value::Object(map) => {
            for (k, val) in map {
                let here = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                if REPORTED.contains(&k.as_str()) {
                    let items: Vec<&Value> = match val {
                        Value::Array(a) => a.iter().collect(),
                        other => vec![other],
                    };
                    // These name Object Instances, whose paths end in "." (TR-369 Path
                    // Names; a GetSupportedDM req_obj_path may name a command instead).
                    let object = k != "req_obj_path" || here.contains("operate_resp");
                    for item in items {
                        if object
                            && let Some(p) = item.as_str()
                            && !p.is_empty()
                            && !p.ends_with('.')
                        {
                            out.push(v(
                                "R-ARC.7",
                                format!(
                                    "{here} = {p:?} is not an Object Instance Path: it does not end in \".\""
                                ),
                            ));
                            continue;
                        }
                        if let Some(p) = item.as_str()
                            && !p.is_empty()
                            && let Err(why) = instantiated(p)
                        {
                            out.push(v(
                                "R-MSG.3",
                                format!("{here} = {p:?} is not an instance-number path: {why}"),
                            ));
                        }
                    }
                } else {
                    reported_paths(val, &here, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                reported_paths(item, &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Whether a reported path is a well-formed path with instance numbers only (R-MSG.3).
fn instantiated(p: &str) -> Result<(), String> {
    match path::parse(p) {
        Err(e) => Err(e.to_string()),
        Ok(x) if !x.starts_with_device() => Err("it does not begin with \"Device.\"".into()),
        Ok(x) if !x.is_instantiated() => {
            Err("it contains a wildcard, search expression or unique-key reference".into())
        }
        Ok(_) => Ok(()),
    }
}

/// Checks an answer against the request it answers: the msg_type must be the request's
/// response type or ERROR (R-MSG.0, R-MSG.10).
pub fn answer(request: pb::header::MsgType, m: &pb::Msg) -> Vec<Violation> {
    let Some(expected) = msg::answering_type(request) else {
        return vec![];
    };
    match msg::header_type(m) {
        Some(t) if t == expected || t == pb::header::MsgType::Error => vec![],
        other => vec![v(
            "R-MSG.0",
            format!(
                "a {} request was answered with msg_type {}",
                request.as_str_name(),
                other.map_or("(unknown)", |t| t.as_str_name())
            ),
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usp::{pb::response::RespType, record};

    const C: &str = "proto::ctrl";
    const A: &str = "proto::agent";

    fn ids() -> Vec<String> {
        vec![C.to_string()]
    }

    fn get_resp(resolved: &str) -> pb::Msg {
        msg::response(
            "1",
            RespType::GetResp(pb::GetResp {
                req_path_results: vec![pb::get_resp::RequestedPathResult {
                    requested_path: "Device.LocalAgent.Subscription.*.".into(),
                    resolved_path_results: vec![pb::get_resp::ResolvedPathResult {
                        resolved_path: resolved.into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
            }),
        )
    }

    #[test]
    fn a_good_record_has_no_violations() {
        let r = record::no_session(C, A, &get_resp("Device.LocalAgent.Subscription.1."));
        let got = inbound(&record::encode(&r), &ids(), A).unwrap();
        assert_eq!(got.violations, vec![]);
        assert!(got.msg.is_some());
    }

    #[test]
    fn wrong_ids_and_search_paths_are_violations() {
        let r = record::no_session(
            "proto::other",
            A,
            &get_resp("Device.LocalAgent.Subscription.*."),
        );
        let got = inbound(&record::encode(&r), &ids(), A).unwrap();
        let reqs: Vec<_> = got.violations.iter().map(|v| v.requirement).collect();
        assert_eq!(reqs, vec!["R-E2E.1", "R-MSG.3"], "{:?}", got.violations);
    }

    #[test]
    fn an_operate_request_path_without_its_dot_is_a_violation() {
        let m = msg::response(
            "1",
            RespType::OperateResp(pb::OperateResp {
                operation_results: vec![pb::operate_resp::OperationResult {
                    executed_command: "Device.ScheduleTimer()".into(),
                    operation_resp: Some(
                        pb::operate_resp::operation_result::OperationResp::ReqObjPath(
                            "Device.LocalAgent.Request.1".into(),
                        ),
                    ),
                }],
            }),
        );
        let vs = message(&m);
        assert_eq!(vs.len(), 1, "{vs:?}");
        assert_eq!(vs[0].requirement, "R-ARC.7");
        assert!(vs[0].text.contains("does not end in"), "{}", vs[0]);
    }

    #[test]
    fn garbage_is_shown_in_hex() {
        let err = inbound(&[0x0a, 0xff], &ids(), A).unwrap_err();
        assert!(err.text.contains("0aff"), "{err}");
    }

    #[test]
    fn header_body_mismatch_and_wrong_answer() {
        let mut m = get_resp("Device.LocalAgent.");
        m.header.as_mut().unwrap().msg_type = pb::header::MsgType::SetResp as i32;
        assert_eq!(message(&m)[0].requirement, "R-MSG.10");
        assert_eq!(
            answer(pb::header::MsgType::Add, &m)[0].requirement,
            "R-MSG.0"
        );
        assert!(answer(pb::header::MsgType::Set, &m).is_empty());
    }
}
