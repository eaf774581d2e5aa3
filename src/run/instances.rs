//! Snapshots of a multi-instance object's instances, so a case can say what the plan says
//! ("the EUT did not create a new Subscription object") without trusting any value the
//! agent chose: the set of instances before and after is compared, and an agent that leaves
//! *any* extra instance behind fails, whatever its ID. Clean-up removes exactly what the case
//! added, even when the capture that named it never happened.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use crate::controller::{Session, WaitError};
use crate::suite::matcher::Matcher;
use crate::suite::vars::Vars;
use crate::usp::{msg, pb};

/// Why the instances could not be read.
#[derive(Debug, Clone)]
pub enum Problem {
    /// The EUT broke a rule: no answer in time (R-MSG.0), or an error for an object it must
    /// have.
    Eut(String),
    /// The connection closed: nothing is known.
    Closed(String),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Eut(s) | Problem::Closed(s) => f.write_str(s),
        }
    }
}

/// The instance paths of `object` (`Device.LocalAgent.Subscription.`) now; with `filter`,
/// only those whose parameters (a Get of `object*.`) match it.
pub async fn instances(
    session: &mut Session,
    object: &str,
    filter: Option<&Matcher>,
    vars: &Vars,
    bound: Duration,
) -> Result<BTreeSet<String>, Problem> {
    match filter {
        None => {
            let tree = ask(
                session,
                pb::request::ReqType::GetInstances(pb::GetInstances {
                    obj_paths: vec![object.into()],
                    first_level_only: true,
                }),
                bound,
            )
            .await?;
            let result = &tree["get_instances_resp"]["req_path_results"][0];
            check_code(result, object, &tree)?;
            Ok(result["curr_insts"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i["instantiated_obj_path"].as_str())
                .filter(|p| is_instance_of(p, object))
                .map(str::to_string)
                .collect())
        }
        Some(m) => {
            let tree = ask(
                session,
                pb::request::ReqType::Get(pb::Get {
                    param_paths: vec![format!("{object}*.")],
                    max_depth: 1,
                }),
                bound,
            )
            .await?;
            let result = &tree["get_resp"]["req_path_results"][0];
            check_code(result, object, &tree)?;
            Ok(result["resolved_path_results"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|r| {
                    r["resolved_path"]
                        .as_str()
                        .is_some_and(|p| is_instance_of(p, object))
                        && m.matches(&r["result_params"], vars)
                })
                .filter_map(|r| r["resolved_path"].as_str().map(str::to_string))
                .collect())
        }
    }
}

/// Sends a request and returns the answer's body tree; no answer is a problem.
async fn ask(
    session: &mut Session,
    req: pb::request::ReqType,
    bound: Duration,
) -> Result<Value, Problem> {
    let sent = session.send(req);
    let got = session
        .await_answer(&sent, bound)
        .await
        .map_err(|e| match e {
            WaitError::Closed { .. } => Problem::Closed(e.to_string()),
            WaitError::Timeout { .. } => Problem::Eut(format!(
                "the EUT did not answer {} msg_id {:?} (R-MSG.0): {e}",
                sent.msg_type.as_str_name(),
                sent.msg_id
            )),
        })?;
    Ok(msg::body_tree(&got.msg))
}

fn check_code(result: &Value, object: &str, tree: &Value) -> Result<(), Problem> {
    match result["err_code"].as_u64() {
        Some(0) => Ok(()),
        Some(c) => Err(Problem::Eut(format!(
            "the EUT answered {} for {object}",
            crate::usp::errors::describe(c as u32)
        ))),
        None => Err(Problem::Eut(format!(
            "the EUT's answer has no result for {object}: {}",
            crate::suite::matcher::show(Some(tree))
        ))),
    }
}

/// Whether `path` is an instance of `object` (`object` plus one instance number or alias
/// and a dot).
fn is_instance_of(path: &str, object: &str) -> bool {
    path.strip_prefix(object)
        .and_then(|rest| rest.strip_suffix('.'))
        .is_some_and(|id| !id.is_empty() && !id.contains('.'))
}

/// A snapshot as a variable's text (a JSON list), and back.
pub fn encode(set: &BTreeSet<String>) -> String {
    serde_json::to_string(set).expect("a set of strings serialises")
}

pub fn decode(text: &str) -> BTreeSet<String> {
    serde_json::from_str(text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_are_one_level_below_their_object() {
        let o = "Device.LocalAgent.Subscription.";
        assert!(is_instance_of("Device.LocalAgent.Subscription.3.", o));
        assert!(is_instance_of("Device.LocalAgent.Subscription.[cpe-1].", o));
        assert!(!is_instance_of("Device.LocalAgent.Subscription.", o));
        assert!(!is_instance_of("Device.LocalAgent.Subscription.3.X.", o));
        assert!(!is_instance_of("Device.LocalAgent.Controller.1.", o));
        let s: BTreeSet<String> = ["a".to_string()].into();
        assert_eq!(decode(&encode(&s)), s);
    }
}
