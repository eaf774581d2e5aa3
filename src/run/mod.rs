//! Runs the selected cases ([`runner`] gives the familiar `cargo test` output, through
//! [`live`] and [`output`], parallelism in [`schedule`]'s order and the stop on a signal) and collects one
//! [`CaseOutcome`] per case for the reports.

pub mod agent_log;
pub mod diag;
pub mod exec;
pub mod instances;
pub mod live;
pub mod metrics;
pub mod mqtt;
pub mod output;
#[cfg(test)]
mod output_tests;
pub mod preflight;
pub mod process;
pub mod runner;
pub mod schedule;
pub mod target;

#[cfg(test)]
mod deadline_tests;

use std::time::{Instant, SystemTime};

use crate::controller::{Dir, LogEntry, Logged, Session};
use crate::mtp::ConnectError;
use crate::report::CaseOutcome;
use crate::report::model::{LogLine, Outcome};
use crate::suite::vars::Vars;
use crate::suite::{Case, select};
use crate::usp::reflect;
pub use runner::{Runner, Signal};
pub use target::Target;

/// What the user asked of a run.
#[derive(Debug, Clone)]
pub struct Options {
    pub filters: Vec<crate::suite::select::Filter>,
    /// Run only this share of the selection (`--partition k/n`).
    pub partition: Option<select::Partition>,
    /// Cases at once; by default as many as the target allows.
    pub test_threads: Option<usize>,
    /// List the selected cases instead of running them.
    pub list: bool,
    /// No failure texts: the result lines, the failures again one line each, the summary.
    pub quiet: bool,
    /// `--color`: whether the verdict words are coloured.
    pub color: output::ColorChoice,
    /// A case running this long is marked slow (see [`output::SLOW_AFTER`]).
    pub slow_after: std::time::Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            filters: vec![],
            partition: None,
            test_threads: None,
            list: false,
            quiet: false,
            color: output::ColorChoice::Auto,
            slow_after: output::SLOW_AFTER,
        }
    }
}

/// The variables every case can use: the profile's identities and alternate elements.
pub fn profile_vars(target: &Target) -> Vars {
    let mut v = Vars::default();
    v.set("eut.endpoint_id", target.eut_id());
    v.set("controller.endpoint_id", target.controller_id());
    v.set("controller2.endpoint_id", target.secondary_controller_id());
    // Seconds the profile gives the EUT to (re)connect, e.g. after a reboot.
    v.set(
        "eut.connect_timeout",
        target.connect_timeout().as_secs_f64().to_string(),
    );
    for (k, val) in target.alternates() {
        v.set(format!("alt.{k}"), val);
    }
    v
}

/// Why `case` cannot run against `target`: a feature the EUT lacks, an MTP the run is not
/// over, an MQTT version the run does not speak, or a step that needs uspcheck's embedded
/// broker when the run goes through an external one. `None` when it can run.
pub fn not_applicable(case: &Case, target: &Target) -> Option<String> {
    use crate::mtp::mqtt::Version;
    use crate::suite::case::MtpNeed;
    if let Some(why) = select::not_applicable(case, &target.features()) {
        return Some(why);
    }
    let mqtt = target.mqtt();
    match (case.mtp, mqtt) {
        (MtpNeed::Mqtt, None) => {
            return Some(format!(
                "this case is for the MQTT MTP; the run is over {}",
                target.describe_mtp()
            ));
        }
        (MtpNeed::Mqtt, Some((v, embedded))) => {
            // TP-469 features 35 (MQTT 3.1.1) and 36 (MQTT 5.0): the run's version must be
            // one the EUT declares; a 5.0-only case (feature 36) does not apply to a 3.1.1 run.
            let need = match v {
                Version::V5 => 36,
                Version::V311 => 35,
            };
            if !target.features().contains(&need) {
                return Some(format!(
                    "the run is over MQTT {v}, and the EUT profile does not declare TP-469 feature {need} (MQTT {v})"
                ));
            }
            if v == Version::V311 && case.features.contains(&36) {
                return Some(
                    "this case is for MQTT 5.0 (TP-469 feature 36); the run is over MQTT 3.1.1"
                        .into(),
                );
            }
            if !embedded && let Some(step) = case.needs_embedded_broker() {
                return Some(format!(
                    "this case needs uspcheck's embedded MQTT broker ({} scripts the broker or \
                     reads its packet log); the run goes through an external broker",
                    step.label("", 0).trim_start_matches("[0] ")
                ));
            }
        }
        (MtpNeed::Any, _) => {}
        (need, _) => {
            let ok = match need {
                MtpNeed::Websocket => target.describe_mtp().starts_with("WebSocket"),
                MtpNeed::Uds => target.describe_mtp().starts_with("UDS"),
                _ => false,
            };
            if !ok {
                return Some(format!(
                    "this case is for the {need} MTP; the run is over {}",
                    target.describe_mtp()
                ));
            }
        }
    }
    None
}

/// Runs one case against the target.
pub async fn run_one(case: &Case, target: &Target) -> CaseOutcome {
    let started = Instant::now();
    let mtp = target.describe_mtp();
    if let Some(why) = not_applicable(case, target) {
        return CaseOutcome::new(case, &mtp, Outcome::NotApplicable { reason: why });
    }
    let (link, guard, relink) = match target.open().await {
        Ok(x) => x,
        Err(e) => {
            // Not reached is the environment's problem; a handshake that breaks a TR-369
            // requirement is the EUT's, and cites it.
            let message = match &e {
                ConnectError::Unreachable(why) => why.clone(),
                ConnectError::Violation { requirement, text } => {
                    format!("the EUT's transport handshake breaks TR-369 {requirement}: {text}")
                }
            };
            let failure = crate::report::Failure {
                step: "connecting to the EUT".into(),
                message,
                ..Default::default()
            };
            let outcome = match e {
                ConnectError::Unreachable(_) => Outcome::Error { failure },
                ConnectError::Violation { .. } => Outcome::Fail { failure },
            };
            return CaseOutcome::new(case, &mtp, outcome);
        }
    };
    let mut session = Session::new(
        link,
        &target.controller_id(),
        &target.eut_id(),
        &format!("uspcheck-{}", case.id),
    );
    session.add_identity(&target.secondary_controller_id());
    session.set_relink(relink, target.connect_timeout());
    if let Some(m) = guard.mqtt() {
        m.begin();
    }
    let env = exec::Env {
        response_timeout: target.response_timeout(),
        secondary: if target.parallel() {
            exec::Secondary::SharedLink
        } else {
            exec::Secondary::OwnSession(target)
        },
        mqtt: guard.mqtt(),
    };
    let mut vars = profile_vars(target);
    if let Some(m) = guard.mqtt() {
        m.add_vars(&mut vars);
        m.mqtt_vars(&mut vars);
    }
    let ended = exec::run_case(case, &mut session, vars, env).await;
    let start = session.start();
    let mut log = LogLine::bounded(session.log(), |e| log_line(e, start));
    // The broker's packet log joins the case's wire log, in time order.
    if let Some(m) = guard.mqtt() {
        log.extend(m.log_lines(start));
        log.sort_by(|a, b| a.t.total_cmp(&b.t));
        log = LogLine::bounded(&log, LogLine::clone);
    }
    if target.parallel() {
        session.close().await;
    } else {
        target.give_back(session.into_link()).await;
    }
    drop(guard);
    CaseOutcome {
        metrics: ended.metrics,
        cleanup_problems: ended.cleanup_problems,
        duration_ms: started.elapsed().as_millis() as u64,
        log,
        alternates: alternates_used(case, target),
        ..CaseOutcome::new(case, &mtp, ended.outcome)
    }
}

/// The profile's alternate elements the case refers to (`${alt.NAME}` anywhere in its steps),
/// with their values, for the report: TP-469 "the test report MUST include the alternate
/// elements used". Names the profile lacks are left out (the case ends in an error naming
/// the missing variable).
pub fn alternates_used(case: &Case, target: &Target) -> Vec<(String, String)> {
    let known = target.alternates();
    let mut used = std::collections::BTreeMap::new();
    for step in case.setup.iter().chain(&case.steps).chain(&case.cleanup) {
        let text = format!("{:?}", step.action);
        for (i, _) in text.match_indices("${alt.") {
            let name = &text[i + 6..];
            let name = &name[..name.find('}').unwrap_or(name.len())];
            if let Some(v) = known.get(name) {
                used.insert(name.to_string(), v.clone());
            }
        }
    }
    used.into_iter().collect()
}

/// The report's form of a session log entry.
fn log_line(e: &LogEntry, start: Instant) -> LogLine {
    let t = e.at.saturating_duration_since(start).as_secs_f64();
    match &e.what {
        Logged::Record {
            dir,
            bytes,
            msg,
            summary,
            violations,
        } => LogLine {
            t,
            dir: match dir {
                Dir::In => "in",
                Dir::Out => "out",
            }
            .into(),
            text: summary.clone(),
            decoded: msg.as_ref().map(|m| {
                crate::clip::json_up_to(&reflect::to_value(&**m, "usp.Msg"), LogLine::DECODED_SHOWN)
            }),
            hex: Some(crate::clip::hex(bytes)),
            violations: violations.iter().map(ToString::to_string).collect(),
        },
        Logged::Mtp(text) => LogLine {
            t,
            dir: "mtp".into(),
            text: text.clone(),
            decoded: None,
            hex: None,
            violations: vec![],
        },
    }
}

/// The selected cases, one line each, and under those the EUT cannot run, why: what
/// `run --list` prints.
pub fn listing(cases: &[Case], target: &Target, opts: &Options) -> String {
    let mut out = String::new();
    let mut runnable = 0;
    let mut selected = 0;
    let n = opts.partition.map_or(1, |p| p.n);
    let holders = select::holders(cases, &opts.filters, n);
    if let Some(p) = opts.partition {
        let all = holders.iter().flatten().count();
        out.push_str(&format!("{}\n", p.describe(all)));
    }
    let k = opts.partition.map_or(1, |p| p.k);
    for (case, _) in cases.iter().zip(&holders).filter(|(_, h)| **h == Some(k)) {
        selected += 1;
        out.push_str(&format!("{} {}\n", case.id, case.title));
        match not_applicable(case, target) {
            Some(why) => out.push_str(&format!("    not applicable: {why}\n")),
            None => runnable += 1,
        }
    }
    out.push_str(&format!(
        "{selected} cases selected, {runnable} would run, {} not applicable\n",
        selected - runnable
    ));
    out
}

/// Seconds since the Unix epoch, as text (reports carry it; no date crate needed).
/// When a run that began at `began` started, in RFC 3339 (UTC): the JSON's `started`.
fn started_at(began: Instant) -> String {
    let t = SystemTime::now()
        .checked_sub(began.elapsed())
        .unwrap_or_else(SystemTime::now);
    crate::report::clock::rfc3339(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alternates_a_case_uses_are_reported_with_their_values() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testcases/01-messages");
        let target = Target::BuiltIn {
            faults: vec![],
            mtp: target::BuiltinMtp::WebSocket,
        };
        let case = crate::suite::load::load_file(&dir.join("1.64.yaml")).unwrap();
        let used = alternates_used(&case, &target);
        let names: Vec<&str> = used.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "async_command_input",
                "async_command_input_value",
                "async_command_name",
                "async_command_object"
            ]
        );
        assert!(used.contains(&("async_command_name".into(), "ScheduleTimer()".into())));
        let case = crate::suite::load::load_file(&dir.join("1.92.yaml")).unwrap();
        assert_eq!(
            alternates_used(&case, &target),
            [("traceroute_host".to_string(), "192.0.2.1".to_string())]
        );
        let case = crate::suite::load::load_file(&dir.join("1.1.yaml")).unwrap();
        assert!(alternates_used(&case, &target).is_empty());
    }
}
