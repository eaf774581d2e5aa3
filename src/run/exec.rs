//! Runs one case's steps against a session: send and judge, await, expect nothing; then
//! clean-up, always. Produces the verdict and, for a failure, the parts of a text that
//! stands alone: step, metric, expected, actual (decoded), error-code names, raw record.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::instances;
use super::metrics::{self, Held, StoppedAt};
use super::mqtt::{self as run_mqtt, CaseMqtt};
use super::target::Target;
use crate::controller::{NoneError, Received, Session, WaitError};
use crate::report::model::{MetricResult, Outcome};
use crate::report::{Failure, Verdict};
use crate::suite::case::{Identity, Span, Window};
use crate::suite::compile::PacketExpect;
use crate::suite::matcher::{self, MatchError, Matcher};
use crate::suite::vars::{Template, Vars};
use crate::suite::{Action, Case, Step};
use crate::usp::{errors, msg, pb, reflect};

/// How a case ended.
#[derive(Debug, Clone)]
pub struct Ended {
    pub outcome: Outcome,
    /// Every metric of the plan, judged by the steps that cite it.
    pub metrics: Vec<MetricResult>,
    pub cleanup_problems: Vec<String>,
}

/// A step that did not succeed: a conformance failure or an environment/harness error.
struct Stop {
    verdict: Verdict,
    failure: Box<Failure>,
    /// How much of the step's own expectation held.
    held: Held,
    /// The requirements of the universal test metrics the EUT broke at this step: the
    /// case's metrics that cite one of them fail with it.
    broken: Vec<&'static str>,
}

/// What the run offers a case beyond the session.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    /// The bound on every answer unless a step says otherwise.
    pub response_timeout: Duration,
    /// How the secondary Controller identity speaks (TP-469 1.78).
    pub secondary: Secondary<'a>,
    /// The case's MQTT context (broker, Controller options, broker log), over MQTT.
    pub mqtt: Option<&'a CaseMqtt>,
}

/// How the secondary Controller reaches the EUT.
#[derive(Clone, Copy)]
pub enum Secondary<'a> {
    /// Over the case's one connection: the built-in agent answers any Controller it knows
    /// there.
    SharedLink,
    /// Over a session of its own, opened through the target when a step first speaks as it:
    /// a real agent rightly ignores Records from another Endpoint on a session (R-WS.4).
    OwnSession(&'a Target),
}

/// The longest setup and steps of one case may run together, however the EUT stretches its
/// waits (a flapping agent that reconnects again and again extends each wait it interrupts).
pub const CASE_DEADLINE: Duration = Duration::from_secs(10 * 60);
/// The longest a case's clean-up may run.
pub const CLEANUP_DEADLINE: Duration = Duration::from_secs(2 * 60);

/// Runs setup, steps and clean-up. `vars` holds the profile's values.
pub async fn run_case(case: &Case, session: &mut Session, mut vars: Vars, env: Env<'_>) -> Ended {
    let response_timeout = env.response_timeout;
    let deadline = tokio::time::Instant::now() + CASE_DEADLINE;
    session.set_auto_ack(!case.awaits_notifications());
    let mut marks: HashMap<String, Instant> = HashMap::new();
    // What each named step received, for `check` steps.
    let mut answers: HashMap<String, Received> = HashMap::new();
    let mut stop = None;
    // The step's place among setup and steps, for the metrics' verdicts.
    let mut index = 0;
    'phases: for (phase, steps) in [("setup", &case.setup), ("steps", &case.steps)] {
        for (i, step) in steps.iter().enumerate() {
            index = case.setup.len() * usize::from(phase == "steps") + i;
            let ctx = Ctx {
                case,
                step,
                label: step.label(phase, i),
                response_timeout,
                mqtt: env.mqtt,
            };
            if let Secondary::OwnSession(target) = env.secondary
                && matches!(
                    step.action,
                    Action::Send {
                        from: Identity::Secondary,
                        ..
                    }
                )
                && !session.has_own_link(&target.secondary_controller_id())
            {
                let bound = target.connect_timeout();
                match target.open_secondary(session, response_timeout).await {
                    Ok(link) => session.attach_second_link(&target.secondary_controller_id(), link),
                    Err(why) => {
                        stop = Some(ctx.error(format!(
                            "this step speaks as a second Controller, which needs its own \
                             session with the EUT (R-WS.4), and none could be opened within \
                             {}: {why}",
                            crate::human::duration(bound)
                        )));
                        break 'phases;
                    }
                }
            }
            let ran = ctx.run(session, &mut vars, &mut marks, &mut answers);
            match tokio::time::timeout_at(deadline, ran).await {
                Ok(Ok(())) => {}
                Ok(Err(s)) => {
                    stop = Some(s);
                    break 'phases;
                }
                Err(_) => {
                    stop = Some(ctx.error(format!(
                        "the case did not end within its overall deadline of {}: \
                         the EUT kept this step going (see docs/limits.md)",
                        crate::human::duration(CASE_DEADLINE)
                    )));
                    break 'phases;
                }
            }
        }
    }
    let mut cleanup_problems = Vec::new();
    let cleanup_deadline = tokio::time::Instant::now() + CLEANUP_DEADLINE;
    for (i, step) in case.cleanup.iter().enumerate() {
        let ctx = Ctx {
            case,
            step,
            label: step.label("cleanup", i),
            response_timeout,
            mqtt: env.mqtt,
        };
        let ran = ctx.run(session, &mut vars, &mut marks, &mut answers);
        match tokio::time::timeout_at(cleanup_deadline, ran).await {
            Ok(Ok(())) => {}
            Ok(Err(s)) => cleanup_problems.push(s.failure.text()),
            Err(_) => {
                cleanup_problems.push(format!(
                    "{}: the clean-up did not end within {}",
                    ctx.label,
                    crate::human::duration(CLEANUP_DEADLINE)
                ));
                break;
            }
        }
    }
    let stopped = stop.as_ref().map(|s: &Stop| StoppedAt {
        index,
        verdict: s.verdict,
        held: s.held,
        broken: &s.broken,
    });
    let metrics = metrics::judge(case, stopped);
    let outcome = match stop {
        None => Outcome::Pass,
        Some(s) => match s.verdict {
            Verdict::NotApplicable => Outcome::NotApplicable {
                reason: s.failure.message.clone(),
            },
            Verdict::Fail => Outcome::Fail {
                failure: *s.failure,
            },
            _ => Outcome::Error {
                failure: *s.failure,
            },
        },
    };
    Ended {
        outcome,
        metrics,
        cleanup_problems,
    }
}

struct Ctx<'a> {
    case: &'a Case,
    step: &'a Step,
    label: String,
    response_timeout: Duration,
    mqtt: Option<&'a CaseMqtt>,
}

impl Ctx<'_> {
    fn metrics(&self) -> Vec<String> {
        self.metrics_but(&[])
    }

    /// The step's metrics but `held` ones, each as "N. text [requirements]".
    fn metrics_but(&self, held: &[u32]) -> Vec<String> {
        let numbers: Vec<u32> = self
            .step
            .metrics
            .iter()
            .copied()
            .filter(|m| !held.contains(m))
            .collect();
        self.quote(&numbers)
    }

    /// The case's metrics that cite one of the `broken` requirements, quoted.
    fn metrics_citing(&self, broken: &[&str]) -> Vec<String> {
        let numbers: Vec<u32> = (1..)
            .zip(&self.case.metrics)
            .filter(|(_, m)| m.requirements.iter().any(|r| broken.contains(&r.as_str())))
            .map(|(n, _)| n)
            .collect();
        self.quote(&numbers)
    }

    /// Metrics by number, each as "N. text [requirements]".
    fn quote(&self, numbers: &[u32]) -> Vec<String> {
        numbers
            .iter()
            .filter_map(|m| {
                self.case.metrics.get(*m as usize - 1).map(|t| {
                    let text = t.text.split_whitespace().collect::<Vec<_>>().join(" ");
                    if t.requirements.is_empty() {
                        format!("{m}. {text}")
                    } else {
                        format!("{m}. {text} [{}]", t.requirements.join(", "))
                    }
                })
            })
            .collect()
    }

    /// A step's `within`, or the profile's response timeout.
    fn bound(&self, within: Option<&Span>, vars: &Vars) -> Result<Duration, Stop> {
        within.map_or(Ok(self.response_timeout), |w| {
            w.resolve(vars)
                .map_err(|e| self.error(format!("`within` cannot be computed: {e}")))
        })
    }

    /// A window's bounds, computed from the variables where they depend on them; a bound
    /// that cannot be computed (its capture never happened) is the case's error.
    fn window_bounds(&self, w: &Window, vars: &Vars) -> Result<(Duration, Duration), Stop> {
        let lo = w.min.resolve(vars);
        let hi = w.max.resolve(vars);
        match (lo, hi) {
            (Ok(lo), Ok(hi)) if lo <= hi => Ok((lo, hi)),
            (Ok(lo), Ok(hi)) => Err(self.error(format!(
                "the window's lower bound {} is above its upper bound {}",
                crate::human::duration(lo),
                crate::human::duration(hi)
            ))),
            (Err(e), _) | (_, Err(e)) => {
                Err(self.error(format!("the window cannot be computed: {e}")))
            }
        }
    }

    fn failure(&self, message: impl Into<String>) -> Failure {
        Failure {
            step: self.label.clone(),
            metrics: self.metrics(),
            message: message.into(),
            ..Default::default()
        }
    }

    fn fail(&self, message: impl Into<String>) -> Stop {
        Stop {
            held: Held::Nothing,
            broken: Vec::new(),
            verdict: Verdict::Fail,
            failure: Box::new(self.failure(message)),
        }
    }

    fn error(&self, message: impl Into<String>) -> Stop {
        Stop {
            held: Held::Nothing,
            broken: Vec::new(),
            verdict: Verdict::Error,
            failure: Box::new(self.failure(message)),
        }
    }

    /// A failure about a received message, with its decoded form, codes and bytes.
    fn fail_on(
        &self,
        got: &Received,
        message: String,
        exp: Option<String>,
        act: Option<String>,
    ) -> Stop {
        self.fail_on_tree(got, &msg::body_tree(&got.msg), message, exp, act)
    }

    /// [`Ctx::fail_on`] with the message's body tree already at hand: a second tree of an
    /// answer of megabytes is not built beside the first.
    fn fail_on_tree(
        &self,
        got: &Received,
        tree: &serde_json::Value,
        message: String,
        exp: Option<String>,
        act: Option<String>,
    ) -> Stop {
        let mut f = self.failure(message);
        f.expected = exp;
        f.actual = act;
        f.decoded = Some(crate::clip::json(tree));
        f.error_codes = error_codes(tree);
        f.raw_hex = Some(crate::clip::hex(&got.bytes));
        Stop {
            held: Held::Nothing,
            broken: Vec::new(),
            verdict: Verdict::Fail,
            failure: Box::new(f),
        }
    }

    async fn run(
        &self,
        session: &mut Session,
        vars: &mut Vars,
        marks: &mut HashMap<String, Instant>,
        answers: &mut HashMap<String, Received>,
    ) -> Result<(), Stop> {
        // A step for an alternate the profile does not give is skipped; its metrics are
        // judged by their other steps.
        if let Some(v) = &self.step.if_set
            && vars.get(v).is_none()
        {
            return Ok(());
        }
        // A variable the step needs and no earlier step captured is the case's problem (the
        // capture failed or never ran), never the agent's.
        for m in self.step.matchers() {
            m.unset(vars)
                .map_err(|u| self.error(format!("the step cannot be judged: {u}")))?;
        }
        let result = match &self.step.action {
            Action::Send {
                request,
                expect,
                timeout,
                no_answer,
                from,
                reconnect,
            } => {
                let bound = (!no_answer).then(|| timeout.map_or(self.response_timeout, |d| d.0));
                let from = match from {
                    Identity::Primary => "controller.endpoint_id",
                    Identity::Secondary => "controller2.endpoint_id",
                };
                let from = vars.get(from).unwrap_or_default().to_string();
                let how = SendHow {
                    bound,
                    from: &from,
                    reconnect: *reconnect,
                };
                let got = self
                    .send(session, vars, marks, request, expect.as_ref(), how)
                    .await;
                got.map(|g| self.keep_answer(answers, g))
            }
            Action::Await {
                expect,
                within,
                window,
                send_resp,
                reconnect,
            } => {
                let how = AwaitHow {
                    within: within.as_ref(),
                    window: window.as_ref(),
                    send_resp: *send_resp,
                    reconnect: *reconnect,
                };
                let got = self.await_msg(session, vars, marks, expect, how).await;
                got.map(|g| self.keep_answer(answers, Some(g)))
            }
            Action::Check { step, expect } => match answers.get(step) {
                Some(got) => self.judge(got, expect, vars),
                None => Err(self.error(format!(
                    "step '{step}' received no message to check (it did not run to its end)"
                ))),
            },
            Action::RequireSupported { path } => self.require_supported(session, path).await,
            Action::ExpectNone { expect, span } => {
                self.expect_none(session, vars, expect, span.0).await
            }
            Action::Broker(b) => self.broker(vars, marks, b),
            Action::Controller(c) => self.controller(vars, c),
            Action::AwaitPacket {
                expect,
                within,
                window,
                after,
                keep,
            } => {
                let how = PacketHow {
                    within: within.as_ref(),
                    window: window.as_ref(),
                    after: after.as_deref(),
                    keep: *keep,
                };
                self.await_packet(vars, marks, expect, how).await
            }
            Action::ExpectNoPacket {
                expect,
                span,
                after,
            } => {
                self.expect_no_packet(vars, marks, expect, span.0, after.as_deref())
                    .await
            }
            Action::Snapshot { of, filter } => {
                self.snapshot(session, vars, of, filter.as_ref()).await
            }
            Action::ExpectNoNewInstances {
                snapshot,
                of,
                except,
            } => {
                self.no_new_instances(session, vars, snapshot, of, except)
                    .await
            }
            Action::DeleteNewInstances { snapshot, of } => {
                self.delete_new_instances(session, vars, snapshot, of).await
            }
        };
        // Universal metrics: any record that broke one fails the case at this step.
        let violations = session.take_violations();
        let mut text: Vec<String> = violations.iter().map(|v| v.to_string()).collect();
        // MQTT: the packets that carried them (or the CONNECT) must keep TR-369's rules too;
        // the packet that broke one is quoted from the broker's log.
        let mqtt_broken = self
            .mqtt
            .map(|m| m.take_violations(session.eut_id()))
            .unwrap_or_default();
        text.extend(
            mqtt_broken
                .iter()
                .map(|(v, e)| format!("{v} [{}]", run_mqtt::describe_event(e))),
        );
        if let Some(m) = self.mqtt {
            for (v, e) in &mqtt_broken {
                m.flag(e.seq, v.to_string());
            }
        }
        let broken: Vec<&'static str> = violations
            .iter()
            .chain(mqtt_broken.iter().map(|(v, _)| v))
            .map(|v| v.requirement)
            .collect();
        // A step that failed on its expectation still names the universal rules the same
        // records broke: they are often the reason (an Object Instance Path without its dot).
        if let Err(mut stop) = result {
            if !text.is_empty() {
                stop.failure.message.push_str(&format!(
                    "; the EUT also broke a universal test metric: {}",
                    text.join("; ")
                ));
                stop.failure
                    .metrics
                    .push("Universal test metrics (TP-469 introduction)".into());
                for m in self.metrics_citing(&broken) {
                    if !stop.failure.metrics.contains(&m) {
                        stop.failure.metrics.push(m);
                    }
                }
                // Whatever left the step itself inconclusive, the broken rule is a finding.
                if stop.verdict == Verdict::Error {
                    stop.verdict = Verdict::Fail;
                    stop.held = Held::All;
                }
                stop.broken = broken;
            }
            return Err(stop);
        }
        if !text.is_empty() {
            let mut f = self.failure(format!(
                "the EUT broke a universal test metric: {}",
                text.join("; ")
            ));
            f.metrics
                .push("Universal test metrics (TP-469 introduction)".into());
            f.metrics.extend(self.metrics_citing(&broken));
            if let Some((_, e)) = mqtt_broken.first() {
                f.decoded = Some(run_mqtt::packet_tree(e).to_string());
            }
            return Err(Stop {
                held: Held::All,
                broken,
                verdict: Verdict::Fail,
                failure: Box::new(f),
            });
        }
        Ok(())
    }

    /// Sends a request as `from`; with a `bound`, awaits and judges the answer.
    async fn send(
        &self,
        session: &mut Session,
        vars: &mut Vars,
        marks: &mut HashMap<String, Instant>,
        request: &Value,
        expect: Option<&Matcher>,
        how: SendHow<'_>,
    ) -> Result<Option<Received>, Stop> {
        let SendHow {
            bound,
            from,
            reconnect,
        } = how;
        if reconnect {
            session
                .ensure_linked()
                .await
                .map_err(|e| self.error(format!("the EUT is not back to take the request: {e}")))?;
        }
        let tree = vars
            .interpolate_tree(request)
            .map_err(|e| self.error(format!("the request cannot be built: {e}")))?;
        let req: pb::Request = reflect::from_value(&tree, "usp.Request")
            .map_err(|e| self.error(format!("the request cannot be built: {e}")))?;
        let Some(req_type) = req.req_type else {
            return Err(self.error("the request is empty"));
        };
        let sent = session.send_as(req_type, from);
        if let Some(n) = &self.step.name {
            marks.insert(n.clone(), sent.at);
        }
        let Some(bound) = bound else {
            return Ok(None);
        };
        let got = match session.await_answer_with(&sent, bound, reconnect).await {
            Ok(g) => g,
            Err(WaitError::Closed { reason }) => {
                return Err(self.error(format!(
                    "the connection to the EUT closed before it answered {} msg_id {:?}: {reason}",
                    sent.msg_type.as_str_name(),
                    sent.msg_id
                )));
            }
            Err(e @ WaitError::Timeout { .. }) => {
                return Err(self.fail(format!(
                    "the EUT did not answer {} msg_id {:?} (R-MSG.0; an answer must carry the request's msg_id, R-MSG.9): {e}",
                    sent.msg_type.as_str_name(),
                    sent.msg_id
                )));
            }
        };
        if let Some(exp) = expect {
            self.judge(&got, exp, vars)?;
        }
        Ok(Some(got))
    }

    /// Keeps what a named step received, for the `check` steps that judge it (and only for
    /// them: an answer can be megabytes).
    fn keep_answer(&self, answers: &mut HashMap<String, Received>, got: Option<Received>) {
        if let (Some(n), Some(g)) = (&self.step.name, got)
            && self.case.is_checked(n)
        {
            answers.insert(n.clone(), g);
        }
    }

    /// Judges a received message against an expectation on its body.
    fn judge(&self, got: &Received, exp: &Matcher, vars: &mut Vars) -> Result<(), Stop> {
        let tree = msg::body_tree(&got.msg);
        // The most common failure is the wrong kind of answer: say so plainly.
        if let (Some((want, e)), Some(a)) = (exp.single_field(), tree.as_object())
            && a.len() == 1
        {
            let have = a.keys().next().cloned().unwrap_or_default();
            if want != have {
                return Err(self.fail_on_tree(
                    got,
                    &tree,
                    format!("the EUT answered with {have} where {want} was expected"),
                    Some(format!("{want} {}", e.show(vars))),
                    Some(format!("{have} {}", matcher::show(a.get(&have)))),
                ));
            }
        }
        exp.check(&tree, vars).map_err(|e| match e {
            MatchError::Mismatch(m) => {
                let mut stop = self.fail_on_tree(
                    got,
                    &tree,
                    format!(
                        "the {} does not match at {}",
                        msg::body_name(&got.msg),
                        m.at
                    ),
                    Some(m.expected),
                    Some(m.actual),
                );
                // A message of the expected kind came: only its content broke.
                if exp.single_field().is_some() {
                    stop.held = Held::Kind;
                    stop.failure.metrics = self.metrics_but(&self.step.sends_metrics);
                }
                stop
            }
            MatchError::Unset(u) => self.error(format!("the step cannot be judged: {u}")),
        })
    }

    async fn await_msg(
        &self,
        session: &mut Session,
        vars: &mut Vars,
        marks: &mut HashMap<String, Instant>,
        expect: &Matcher,
        how: AwaitHow<'_>,
    ) -> Result<Received, Stop> {
        let AwaitHow {
            within,
            window,
            send_resp,
            reconnect,
        } = how;
        let now = Instant::now();
        let origin =
            match window {
                Some(w) => Some(*marks.get(&w.from).ok_or_else(|| {
                    self.error(format!("window.from '{}' has not happened", w.from))
                })?),
                None => None,
            };
        let span = window.map(|w| self.window_bounds(w, vars)).transpose()?;
        // With a window, wait until just past its upper bound, so "late" can be told from "never".
        let bound = match (span, origin) {
            (Some((_, hi)), Some(o)) => {
                (o + hi + Duration::from_secs(1)).saturating_duration_since(now)
            }
            _ => self.bound(within, vars)?,
        };
        let snapshot = vars.clone();
        let got = session
            .await_where(bound, reconnect, |m| {
                expect.matches(&msg::body_tree(m), &snapshot)
            })
            .await
            .map_err(|e| match e {
                WaitError::Closed { reason } => {
                    self.error(format!("the connection to the EUT closed: {reason}"))
                }
                t => self.fail(format!(
                    "the EUT did not send the expected message: {t}; expected {}",
                    expect.show(vars)
                )),
            })?;
        self.judge(&got, expect, vars)?;
        if let Some(n) = &self.step.name {
            marks.insert(n.clone(), got.at);
        }
        if send_resp && msg::notify(&got.msg).is_some_and(|n| n.send_resp) && !session.auto_ack() {
            session.ack(&got);
        }
        if let (Some(w), Some(o), Some((lo, hi))) = (window, origin, span) {
            let elapsed = got.at.saturating_duration_since(o);
            if elapsed < lo || elapsed > hi {
                return Err(self.fail_on(
                    &got,
                    format!(
                        "the message arrived {:.3} s after '{}', outside the window",
                        elapsed.as_secs_f64(),
                        w.from
                    ),
                    Some(format!(
                        "between {:.3} s and {:.3} s",
                        lo.as_secs_f64(),
                        hi.as_secs_f64()
                    )),
                    Some(format!("{:.3} s", elapsed.as_secs_f64())),
                ));
            }
        }
        Ok(got)
    }

    /// Asks the EUT's supported data model for `path`; a path it does not support makes the
    /// case not applicable (never a pass, never a failure).
    async fn require_supported(&self, session: &mut Session, path: &str) -> Result<(), Stop> {
        let sent = session.send(pb::request::ReqType::GetSupportedDm(pb::GetSupportedDm {
            obj_paths: vec![path.into()],
            first_level_only: true,
            return_commands: true,
            return_events: true,
            return_params: true,
            return_unique_key_sets: false,
        }));
        let got = session
            .await_answer(&sent, self.response_timeout)
            .await
            .map_err(|e| self.error(format!("asking whether the EUT supports {path}: {e}")))?;
        let tree = msg::body_tree(&got.msg);
        let code = tree["get_supported_dm_resp"]["req_obj_results"][0]["err_code"]
            .as_u64()
            .or_else(|| tree["error"]["err_code"].as_u64());
        match code {
            Some(0) => Ok(()),
            Some(c) => Err(Stop {
                held: Held::Nothing,
                broken: Vec::new(),
                verdict: Verdict::NotApplicable,
                failure: Box::new(self.failure(format!(
                    "the EUT does not support {path} (GetSupportedDM answered {}), which this case needs",
                    errors::describe(c as u32)
                ))),
            }),
            None => Err(self.fail_on(
                &got,
                format!("the EUT's answer to GetSupportedDM for {path} has no result for it"),
                None,
                None,
            )),
        }
    }

    async fn expect_none(
        &self,
        session: &mut Session,
        vars: &mut Vars,
        expect: &Matcher,
        span: Duration,
    ) -> Result<(), Stop> {
        let snapshot = vars.clone();
        let while_closed = self.step.while_closed;
        session
            .expect_none(span, while_closed, |m| {
                expect.matches(&msg::body_tree(m), &snapshot)
            })
            .await
            .map_err(|e| match e {
                NoneError::Arrived(got) => self.fail_on(
                    &got,
                    format!(
                        "a message arrived that must not arrive within {}",
                        crate::human::duration(span)
                    ),
                    Some(format!("nothing matching {}", expect.show(vars))),
                    Some(msg::body_name(&got.msg).to_string()),
                ),
                overflow @ NoneError::Overflow { .. } => self.error(format!(
                    "{overflow}, so the {} check could not pass",
                    crate::human::duration(span)
                )),
                closed @ NoneError::Closed { .. } => self.error(format!(
                    "{closed}; silence over a closed connection proves nothing, so the {} \
                     check could not pass (a case that expects the EUT to be disconnected says \
                     `while_closed: true`)",
                    crate::human::duration(span)
                )),
            })
    }
}

/// Snapshots of instances (see `run::instances`).
impl Ctx<'_> {
    /// The EUT's fault is a failure; a closed connection leaves the step inconclusive.
    fn problem(&self, what: String, p: instances::Problem) -> Stop {
        match p {
            instances::Problem::Eut(why) => self.fail(format!("{what}: {why}")),
            instances::Problem::Closed(why) => self.error(format!("{what}: {why}")),
        }
    }

    async fn snapshot(
        &self,
        session: &mut Session,
        vars: &mut Vars,
        of: &str,
        filter: Option<&Matcher>,
    ) -> Result<(), Stop> {
        let set = instances::instances(session, of, filter, vars, self.response_timeout)
            .await
            .map_err(|p| self.problem(format!("the snapshot of {of} could not be taken"), p))?;
        let name = self.step.name.clone().unwrap_or_default();
        vars.set(name, instances::encode(&set));
        Ok(())
    }

    /// The instances of `of` now, and those of them the snapshot does not hold.
    async fn new_instances(
        &self,
        session: &mut Session,
        vars: &Vars,
        snapshot: &str,
        of: &str,
    ) -> Result<Vec<String>, Stop> {
        let before = instances::decode(
            vars.need(snapshot)
                .map_err(|u| self.error(format!("the step cannot be judged: {u}")))?,
        );
        let now = instances::instances(session, of, None, vars, self.response_timeout)
            .await
            .map_err(|p| self.problem(format!("the instances of {of} could not be read"), p))?;
        Ok(now.difference(&before).cloned().collect())
    }

    async fn no_new_instances(
        &self,
        session: &mut Session,
        vars: &Vars,
        snapshot: &str,
        of: &str,
        except: &[Template],
    ) -> Result<(), Stop> {
        let expected: Vec<String> = except
            .iter()
            .map(|t| t.render(vars))
            .collect::<Result<_, _>>()
            .map_err(|u| self.error(format!("the step cannot be judged: {u}")))?;
        let added: Vec<String> = self
            .new_instances(session, vars, snapshot, of)
            .await?
            .into_iter()
            .filter(|a| !expected.contains(a))
            .collect();
        if added.is_empty() {
            return Ok(());
        }
        let mut f = self.failure(format!(
            "the EUT has {} instance(s) of {of} that were not there at the snapshot '{snapshot}'",
            added.len()
        ));
        f.expected = Some(format!(
            "no instance beyond {}{}",
            vars.get(snapshot).unwrap_or("[]"),
            if expected.is_empty() {
                String::new()
            } else {
                format!(" and the expected {}", expected.join(", "))
            }
        ));
        f.actual = Some(format!("new: {}", added.join(", ")));
        Err(Stop {
            held: Held::Nothing,
            broken: Vec::new(),
            verdict: Verdict::Fail,
            failure: Box::new(f),
        })
    }

    async fn delete_new_instances(
        &self,
        session: &mut Session,
        vars: &Vars,
        snapshot: &str,
        of: &str,
    ) -> Result<(), Stop> {
        let added = self.new_instances(session, vars, snapshot, of).await?;
        if added.is_empty() {
            return Ok(());
        }
        let sent = session.send(pb::request::ReqType::Delete(pb::Delete {
            allow_partial: true,
            obj_paths: added.clone(),
        }));
        let got = session
            .await_answer(&sent, self.response_timeout)
            .await
            .map_err(|e| self.error(format!("deleting {}: {e}", added.join(", "))))?;
        match msg::body_name(&got.msg) {
            "delete_resp" => Ok(()),
            other => Err(self.error(format!(
                "deleting {} was answered with {other}",
                added.join(", ")
            ))),
        }
    }
}

/// How an `await_packet` step waits.
struct PacketHow<'a> {
    within: Option<&'a Span>,
    window: Option<&'a Window>,
    after: Option<&'a str>,
    keep: bool,
}

/// How a `send` step sends and waits.
struct SendHow<'a> {
    bound: Option<Duration>,
    from: &'a str,
    reconnect: bool,
}

/// How an `await` step waits.
struct AwaitHow<'a> {
    within: Option<&'a Span>,
    window: Option<&'a Window>,
    send_resp: bool,
    reconnect: bool,
}

/// Every `err_code` in a tree, with its TR-369 name.
fn error_codes(tree: &Value) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    if k == "err_code"
                        && let Some(c) = x.as_u64()
                        && c != 0
                    {
                        let d = errors::describe(c as u32);
                        if !out.contains(&d) {
                            out.push(d);
                        }
                    } else {
                        walk(x, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(tree, &mut out);
    out
}

/// MQTT steps: the broker's script and log (see `run::mqtt`).
impl Ctx<'_> {
    fn mqtt(&self) -> Result<&CaseMqtt, Stop> {
        self.mqtt.ok_or_else(|| Stop {
            held: Held::Nothing,
            broken: Vec::new(),
            verdict: Verdict::NotApplicable,
            failure: Box::new(
                self.failure("this case works on MQTT packets, and the run is not over MQTT"),
            ),
        })
    }

    /// A failed MQTT step as a verdict, quoting the packet that broke the metric.
    fn mqtt_stop(&self, e: run_mqtt::StepError) -> Stop {
        use run_mqtt::StepError;
        match e {
            StepError::NotApplicable(m) => Stop {
                held: Held::Nothing,
                broken: Vec::new(),
                verdict: Verdict::NotApplicable,
                failure: Box::new(self.failure(m)),
            },
            StepError::Error(m) => self.error(m),
            StepError::Fail {
                message,
                expected,
                actual,
                packet,
            } => {
                let mut f = self.failure(message);
                f.expected = expected;
                f.actual = actual;
                if let Some(p) = &packet {
                    f.decoded = Some(run_mqtt::packet_tree(p).to_string());
                    if let Some(m) = self.mqtt {
                        m.flag(p.seq, format!("{}: {}", f.step, f.message));
                    }
                }
                Stop {
                    held: Held::Nothing,
                    broken: Vec::new(),
                    verdict: Verdict::Fail,
                    failure: Box::new(f),
                }
            }
        }
    }

    fn broker(
        &self,
        vars: &Vars,
        marks: &mut HashMap<String, Instant>,
        b: &crate::suite::case::BrokerStep,
    ) -> Result<(), Stop> {
        self.mqtt()?
            .broker_step(b, vars)
            .map_err(|e| self.mqtt_stop(e))?;
        if let Some(n) = &self.step.name {
            marks.insert(n.clone(), Instant::now());
        }
        Ok(())
    }

    fn controller(&self, vars: &Vars, c: &crate::suite::case::ControllerStep) -> Result<(), Stop> {
        self.mqtt()?
            .controller_step(c, vars)
            .map_err(|e| self.mqtt_stop(e))
    }

    async fn await_packet(
        &self,
        vars: &mut Vars,
        marks: &mut HashMap<String, Instant>,
        expect: &PacketExpect,
        how: PacketHow<'_>,
    ) -> Result<(), Stop> {
        let PacketHow {
            within,
            window,
            after,
            keep,
        } = how;
        let m = self.mqtt()?;
        let mark = |name: &str, what: &str| {
            marks
                .get(name)
                .copied()
                .ok_or_else(|| self.error(format!("{what} '{name}' has not happened")))
        };
        let origin = match window {
            Some(w) => Some(mark(&w.from, "window.from")?),
            None => None,
        };
        let since = match after {
            Some(a) => Some(mark(a, "after")?),
            None => origin,
        };
        let now = Instant::now();
        let span = window.map(|w| self.window_bounds(w, vars)).transpose()?;
        let bound = match (span, origin) {
            (Some((_, hi)), Some(o)) => {
                (o + hi + Duration::from_secs(1)).saturating_duration_since(now)
            }
            _ => self.bound(within, vars)?,
        };
        // Only what came after `after` (or the window's origin) counts.
        let e = m
            .await_packet(expect, vars, bound, since, keep)
            .await
            .map_err(|e| self.mqtt_stop(e))?;
        if let Some(n) = &self.step.name {
            marks.insert(n.clone(), e.at);
        }
        if let (Some(w), Some(o), Some((lo, hi))) = (window, origin, span) {
            let elapsed = e.at.saturating_duration_since(o);
            if elapsed < lo || elapsed > hi || e.at < o {
                return Err(self.mqtt_stop(run_mqtt::StepError::Fail {
                    message: format!(
                        "the agent's {} came {:.3} s after '{}', outside the window ({})",
                        e.kind,
                        elapsed.as_secs_f64(),
                        w.from,
                        run_mqtt::describe_event(&e)
                    ),
                    expected: Some(format!(
                        "between {:.3} s and {:.3} s",
                        lo.as_secs_f64(),
                        hi.as_secs_f64()
                    )),
                    actual: Some(if e.at < o {
                        "before it".into()
                    } else {
                        format!("{:.3} s", elapsed.as_secs_f64())
                    }),
                    packet: Some(Box::new(e)),
                }));
            }
        }
        Ok(())
    }

    async fn expect_no_packet(
        &self,
        vars: &Vars,
        marks: &HashMap<String, Instant>,
        expect: &PacketExpect,
        span: Duration,
        after: Option<&str>,
    ) -> Result<(), Stop> {
        let m = self.mqtt()?;
        let from = match after {
            Some(a) => *marks
                .get(a)
                .ok_or_else(|| self.error(format!("after '{a}' has not happened")))?,
            None => Instant::now(),
        };
        m.expect_no_packet(expect, vars, from, span, self.step.while_closed)
            .await
            .map_err(|e| self.mqtt_stop(e))
    }
}
