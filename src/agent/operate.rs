//! Operate and the commands behind it. Synchronous commands answer with `req_output_args`;
//! the asynchronous `Device.ScheduleTimer()` and `Device.IP.Diagnostics.TraceRoute()` create a
//! `Device.LocalAgent.Request.{i}.` instance, answer with its path (R-OPR.0) and complete
//! later through an [`Outgoing::Wake`], when the Request is removed and OperationComplete is
//! notified. Omitted input arguments take their data-model defaults (R-OPR.7), unknown ones
//! are ignored (R-OPR.6), missing mandatory ones fail with 7027 (R-OPR.5). Failures of a
//! command are `cmd_failure` results, never Error messages (R-OPR.1); only a request that
//! cannot be understood at all gets an Error.
//!
//! TraceRoute() sends no packet. It simulates a target that never answers, one hop away:
//! each of NumberOfTries probes waits Timeout ms, so the command completes after
//! NumberOfTries x Timeout ms with Status `Error_NoRouteToHost`, ResponseTime 0 and one
//! RouteHops entry whose RTTimes has one `0` (no response) per try. With the defaults that
//! is 15 s and `0,0,0`, which is how TP-469 1.92's "3 tries, 5000 ms apart" shows on the
//! USP side.

use std::collections::BTreeMap;
use std::time::Duration;

use super::codes::{
    COMMAND_CANCELED, COMMAND_FAILURE, Failure, INVALID_COMMAND_ARGS, INVALID_PATH,
    INVALID_PATH_SYNTAX, OBJECT_DOES_NOT_EXIST, RESOURCES_EXCEEDED, fail,
};
use super::dm::{Dm, Leaf, Loc};
use super::handler::{error_reply, reply_msg};
use super::notify::Intent;
use super::schema::{Action, CmdDef};
use super::{Agent, Fault, Outgoing, Timer};
use crate::usp::path::{self, PathKind};
use crate::usp::pb::{self, response::RespType};

use pb::notify::operation_complete as oc;
use pb::operate_resp::operation_result::{self as opr, OperationResp};

impl Agent {
    /// Operate: runs the command on every object the path matches (R-OPR.2) and answers with
    /// one OperationResult each, unless `send_resp` is false (R-OPR.4).
    pub(super) fn operate(&mut self, from: &str, msg_id: &str, op: &pb::Operate) -> Vec<Outgoing> {
        let error = |f: Failure| {
            vec![Outgoing::Send {
                to: from.to_string(),
                msg: reply_msg(msg_id, error_reply(f)),
            }]
        };
        let p = match path::parse(&op.command) {
            Ok(p) => p,
            Err(e) => return error(fail(INVALID_PATH_SYNTAX, e.to_string())),
        };
        if p.kind != PathKind::Command {
            return error(fail(
                INVALID_PATH,
                format!("{} is not a Command Path", op.command),
            ));
        }
        let r = match self.dm.resolve(&p, self.quirks()) {
            Ok(r) => r,
            Err(f) => return error(f),
        };
        let Leaf::Command(cmd) = r.leaf else {
            return error(fail(
                INVALID_PATH,
                format!("{} is not a command", op.command),
            ));
        };
        if !r.search && r.locs.is_empty() {
            return error(fail(
                OBJECT_DOES_NOT_EXIST,
                format!("{} does not exist", op.command),
            ));
        }
        let mut results = Vec::new();
        let mut intents = Vec::new();
        let mut after = Vec::new();
        for loc in &r.locs {
            let resp = match self.execute(from, loc, cmd, op, &mut intents, &mut after) {
                Ok(resp) => resp,
                Err(f) => {
                    if cmd.asynchronous && self.has_fault(Fault::FailedCommandCompletes) {
                        let failed = oc::OperationResp::CmdFailure(oc::CommandFailure {
                            err_code: f.code,
                            err_msg: f.msg.clone(),
                        });
                        intents.extend(self.completed(loc, cmd.name, &op.command_key, failed));
                    }
                    OperationResp::CmdFailure(opr::CommandFailure {
                        err_code: f.code,
                        err_msg: f.msg,
                    })
                }
            };
            results.push(pb::operate_resp::OperationResult {
                executed_command: loc.leaf(cmd.name),
                operation_resp: Some(resp),
            });
        }
        let mut out = Vec::new();
        if op.send_resp || self.has_fault(Fault::OperateIgnoresSendResp) {
            let resp = RespType::OperateResp(pb::OperateResp {
                operation_results: results,
            });
            out.push(Outgoing::Send {
                to: from.to_string(),
                msg: reply_msg(msg_id, Ok(resp)),
            });
        }
        out.extend(self.emit(intents));
        out.extend(after);
        out
    }

    /// Checks the input arguments (R-OPR.5 to R-OPR.7) and performs the command.
    fn execute(
        &mut self,
        from: &str,
        loc: &Loc,
        cmd: &'static CmdDef,
        op: &pb::Operate,
        intents: &mut Vec<Intent>,
        after: &mut Vec<Outgoing>,
    ) -> Result<OperationResp, Failure> {
        if self.has_fault(Fault::RejectUnknownArguments)
            && let Some(unknown) = op
                .input_args
                .keys()
                .find(|k| cmd.inputs.iter().all(|(d, _)| d.name != k.as_str()))
        {
            return Err(fail(
                INVALID_COMMAND_ARGS,
                format!("unknown input argument {unknown}"),
            ));
        }
        let mut args = BTreeMap::new();
        for (def, mandatory) in &cmd.inputs {
            match op.input_args.get(def.name) {
                Some(v) => {
                    let v = def
                        .check(v)
                        .map_err(|f| fail(INVALID_COMMAND_ARGS, f.msg))?;
                    args.insert(def.name, v);
                }
                None if *mandatory && !self.has_fault(Fault::MissingArgsAccepted) => {
                    return Err(fail(
                        INVALID_COMMAND_ARGS,
                        format!("missing mandatory input argument {} (R-OPR.5)", def.name),
                    ));
                }
                None if !def.default.is_empty()
                    && !self.has_fault(Fault::IgnoreDefaultArguments) =>
                {
                    args.insert(def.name, def.default.to_string()); // R-OPR.7
                }
                None => {}
            }
        }
        let arg = |name: &str, fallback: &str| {
            args.get(name)
                .cloned()
                .unwrap_or_else(|| fallback.to_string())
        };
        let done = || Ok(OperationResp::ReqOutputArgs(opr::OutputArgs::default()));
        match cmd.action {
            Action::Reboot => {
                self.boot_cause = (
                    arg("Cause", "RemoteReboot"),
                    op.command_key.clone(),
                    arg("Reason", "Unknown"),
                );
                if !self.has_fault(Fault::RebootIgnored) {
                    after.push(Outgoing::Reboot);
                }
                done()
            }
            Action::SendOnBoardRequest => {
                let node = self.dm.node(loc);
                let enabled = node.is_some_and(|n| n.get("Enable") == "true");
                let to = node
                    .map(|n| n.get("EndpointID").to_string())
                    .unwrap_or_default();
                if !enabled || to.is_empty() {
                    return Err(fail(
                        COMMAND_FAILURE,
                        format!("{loc} is not an enabled Controller with an EndpointID (R-NOT.5)"),
                    ));
                }
                // R-NOT.5 item 1: executing the command sets OnBoardingComplete to false,
                // which keeps the onboarding (and OnBoardingRestartTime) going.
                if !self.has_fault(Fault::OnboardingCompleteNotCleared) {
                    self.dm
                        .store(loc, &[], "OnBoardingComplete", "false".into());
                }
                if let Some(n) = loc.last_inst() {
                    self.onboarding.insert(n);
                }
                intents.push(self.onboard_intent(&to, loc));
                done()
            }
            Action::ScheduleTimer => {
                let secs: u64 = arg("DelaySeconds", "1").parse().unwrap_or(1);
                let wake = Duration::from_secs(secs);
                self.start_async(from, loc, cmd, op, BTreeMap::new(), wake, intents, after)
            }
            Action::TraceRoute => {
                // Without the data-model defaults (the `ignore-default-arguments` fault) the
                // command falls back on 1 try of 1000 ms.
                let tries: u64 = arg("NumberOfTries", "1").parse().unwrap_or(1).max(1);
                let timeout: u64 = arg("Timeout", "1000").parse().unwrap_or(1000);
                let output = BTreeMap::from([
                    ("Status".to_string(), "Error_NoRouteToHost".to_string()),
                    ("IPAddressUsed".to_string(), String::new()),
                    ("ResponseTime".to_string(), "0".to_string()),
                    ("RouteHops.1.Host".to_string(), arg("Host", "")),
                    ("RouteHops.1.HostAddress".to_string(), String::new()),
                    ("RouteHops.1.ErrorCode".to_string(), "0".to_string()),
                    (
                        "RouteHops.1.RTTimes".to_string(),
                        vec!["0"; tries as usize].join(","),
                    ),
                ]);
                let wake = Duration::from_millis(tries.saturating_mul(timeout));
                self.start_async(from, loc, cmd, op, output, wake, intents, after)
            }
            Action::CancelRequest => {
                let Some(n) = loc.last_inst() else {
                    return Err(fail(COMMAND_FAILURE, format!("{loc} is not a Request")));
                };
                let running = self
                    .timers
                    .iter()
                    .find(|(_, t)| matches!(t, Timer::Complete { request, .. } if *request == n))
                    .map(|(k, t)| (*k, t.clone()));
                let Some((timer, Timer::Complete { obj, command, .. })) = running else {
                    return Err(fail(COMMAND_FAILURE, format!("{loc} is not running")));
                };
                self.timers.remove(&timer);
                let key = self
                    .dm
                    .node(loc)
                    .map(|n| n.get("CommandKey").to_string())
                    .unwrap_or_default();
                intents.extend(self.remove_instance(loc));
                let resp = oc::OperationResp::CmdFailure(oc::CommandFailure {
                    err_code: COMMAND_CANCELED,
                    err_msg: "canceled by Request.{i}.Cancel()".into(),
                });
                intents.extend(self.completed(&obj, command, &key, resp));
                done()
            }
        }
    }

    /// Starts an asynchronous command: its Request instance (R-OPR.0), the ObjectCreation for
    /// it, and the timer that completes it after `wake` with `output`.
    #[allow(clippy::too_many_arguments)]
    fn start_async(
        &mut self,
        from: &str,
        loc: &Loc,
        cmd: &'static CmdDef,
        op: &pb::Operate,
        output: BTreeMap<String, String>,
        wake: Duration,
        intents: &mut Vec<Intent>,
        after: &mut Vec<Outgoing>,
    ) -> Result<OperationResp, Failure> {
        let (request, req_loc) = self.start_request(from, &loc.leaf(cmd.name), &op.command_key)?;
        intents.extend(self.created(&req_loc));
        let timer = self.new_timer(Timer::Complete {
            request,
            obj: loc.clone(),
            command: cmd.name,
            output,
        });
        after.push(Outgoing::Wake { after: wake, timer });
        Ok(OperationResp::ReqObjPath(req_loc.to_string()))
    }

    /// Creates the Request instance tracking an asynchronous command (R-OPR.0).
    fn start_request(
        &mut self,
        from: &str,
        command: &str,
        key: &str,
    ) -> Result<(u32, Loc), Failure> {
        let table = Loc::root().child("LocalAgent").child("Request");
        let duplicate = self.dm.rows(&table).iter().any(|r| {
            self.dm.node(r).is_some_and(|n| {
                n.get("Originator") == from
                    && n.get("Command") == command
                    && n.get("CommandKey") == key
            })
        });
        if duplicate {
            return Err(fail(
                RESOURCES_EXCEEDED,
                format!("{command} with command_key {key:?} is already running"),
            ));
        }
        let Some(def) = Dm::def_of(&table) else {
            return Err(fail(COMMAND_FAILURE, "no Request table"));
        };
        let n = self.dm.add_row(&table, def)?;
        let row = table.inst(n);
        for (name, value) in [
            ("Alias", format!("cpe-{n}")),
            ("Originator", from.to_string()),
            ("Command", command.to_string()),
            ("CommandKey", key.to_string()),
            ("Status", "Active".to_string()),
        ] {
            if let Some(p) = def.param(name) {
                self.dm.store(&row, &[], p.name, value);
            }
        }
        Ok((n, row))
    }

    /// An asynchronous command finished: remove its Request and notify OperationComplete.
    pub(super) fn complete(
        &mut self,
        request: u32,
        obj: &Loc,
        command: &'static str,
        output: BTreeMap<String, String>,
    ) -> Vec<Outgoing> {
        let req = Loc::root()
            .child("LocalAgent")
            .child("Request")
            .inst(request);
        let Some(key) = self.dm.node(&req).map(|n| n.get("CommandKey").to_string()) else {
            return Vec::new();
        };
        let mut intents = self.remove_instance(&req);
        let resp = oc::OperationResp::ReqOutputArgs(oc::OutputArgs {
            output_args: output,
        });
        intents.extend(self.completed(obj, command, &key, resp));
        self.emit(intents)
    }
}
