//! Handler-level tests: one or more per message type and per fault, plus robustness against
//! malformed input. Helpers here are shared with `tests_tp469`.

use std::cell::Cell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Agent, AgentConfig, Fault, Outgoing};
use crate::usp::pb::{self, body::MsgBody, header::MsgType, request::ReqType, response::RespType};

pub(super) use pb::add_resp::created_object_result::operation_status::OperStatus as AddStatus;
pub(super) use pb::delete_resp::deleted_object_result::operation_status::OperStatus as DelStatus;
pub(super) use pb::set_resp::updated_object_result::operation_status::OperStatus as SetStatus;

pub(super) const AGENT: &str = "proto::uspcheck-agent";
pub(super) const CTRL: &str = "proto::uspcheck-controller";
pub(super) const SUBS: &str = "Device.LocalAgent.Subscription.";

/// The test clock's start: 2023-11-14T22:13:20Z, 20 s past a whole minute.
pub(super) const START: u64 = 1_700_000_000;

thread_local! {
    /// Milliseconds since [`START`] on this test thread's clock.
    static ELAPSED_MS: Cell<u64> = const { Cell::new(0) };
}

fn test_clock() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(START) + Duration::from_millis(ELAPSED_MS.with(Cell::get))
}

/// Milliseconds since the agent was made, on the test clock.
pub(super) fn elapsed_ms() -> u64 {
    ELAPSED_MS.with(Cell::get)
}

/// Moves the test clock to `ms` after the agent was made (never backwards).
pub(super) fn clock_to(ms: u64) {
    ELAPSED_MS.with(|c| c.set(c.get().max(ms)));
}

/// An agent with the test clock (reset to [`START`]; it only moves when a test moves it)
/// and the given faults.
pub(super) fn agent(faults: &[Fault]) -> Agent {
    ELAPSED_MS.with(|c| c.set(0));
    let mut a = Agent::new(AgentConfig {
        endpoint_id: AGENT.into(),
        controller_id: CTRL.into(),
        faults: faults.to_vec(),
        software_version: "1.2.3".into(),
    });
    a.set_clock(test_clock);
    a
}

/// Plays the I/O loop's part for timers: remembers every [`Outgoing::Wake`] it sees and fires
/// them in due order as the test clock moves, logging what the agent sends and when.
#[derive(Default)]
pub(super) struct Sim {
    due: Vec<(u64, u64)>,
    /// Every message sent through [`Sim::take`] or [`Sim::run`]: (ms on the test clock, to, msg).
    pub log: Vec<(u64, String, pb::Msg)>,
}

impl Sim {
    /// Records the timers and messages of `out` (produced now) and hands `out` back.
    pub fn take(&mut self, out: Vec<Outgoing>) -> Vec<Outgoing> {
        let now = elapsed_ms();
        for o in &out {
            match o {
                Outgoing::Wake { after, timer } => {
                    self.due.push((now + after.as_millis() as u64, *timer))
                }
                Outgoing::Send { to, msg } => self.log.push((now, to.clone(), msg.clone())),
                Outgoing::Reboot => {}
            }
        }
        out
    }

    /// Sends `r` from the harness controller.
    pub fn call(&mut self, a: &mut Agent, r: ReqType) -> Vec<Outgoing> {
        let out = call(a, r);
        self.take(out)
    }

    /// Lets `ms` milliseconds pass, firing the timers that fall due; returns what was sent
    /// meanwhile, with the time it was sent.
    pub fn run(&mut self, a: &mut Agent, ms: u64) -> Vec<(u64, pb::Msg)> {
        let end = elapsed_ms() + ms;
        let mut sent_now = Vec::new();
        loop {
            self.due.sort();
            match self.due.first() {
                Some(&(at, timer)) if at <= end => {
                    self.due.remove(0);
                    clock_to(at);
                    let out = a.wake(timer);
                    for m in sent(&out) {
                        sent_now.push((at, m.clone()));
                    }
                    self.take(out);
                }
                _ => break,
            }
        }
        clock_to(end);
        sent_now
    }
}

pub(super) fn request(msg_id: &str, r: ReqType) -> pb::Msg {
    super::handler::msg(
        msg_id,
        MsgType::Get,
        MsgBody::Request(pb::Request { req_type: Some(r) }),
    )
}

/// Sends `r` from the harness controller.
pub(super) fn call(a: &mut Agent, r: ReqType) -> Vec<Outgoing> {
    a.handle(CTRL, request("req-1", r))
}

pub(super) type Settings<'a> = &'a [(&'a str, &'a str, bool)];

pub(super) fn add(allow_partial: bool, objs: &[(&str, Settings)]) -> ReqType {
    ReqType::Add(pb::Add {
        allow_partial,
        create_objs: objs
            .iter()
            .map(|(p, s)| pb::add::CreateObject {
                obj_path: p.to_string(),
                param_settings: s
                    .iter()
                    .map(|(n, v, r)| pb::add::CreateParamSetting {
                        param: n.to_string(),
                        value: v.to_string(),
                        required: *r,
                    })
                    .collect(),
            })
            .collect(),
    })
}

pub(super) fn set(allow_partial: bool, objs: &[(&str, Settings)]) -> ReqType {
    ReqType::Set(pb::Set {
        allow_partial,
        update_objs: objs
            .iter()
            .map(|(p, s)| pb::set::UpdateObject {
                obj_path: p.to_string(),
                param_settings: s
                    .iter()
                    .map(|(n, v, r)| pb::set::UpdateParamSetting {
                        param: n.to_string(),
                        value: v.to_string(),
                        required: *r,
                    })
                    .collect(),
            })
            .collect(),
    })
}

pub(super) fn delete(allow_partial: bool, paths: &[&str]) -> ReqType {
    ReqType::Delete(pb::Delete {
        allow_partial,
        obj_paths: paths.iter().map(|s| s.to_string()).collect(),
    })
}

pub(super) fn get(paths: &[&str], max_depth: u32) -> ReqType {
    ReqType::Get(pb::Get {
        param_paths: paths.iter().map(|s| s.to_string()).collect(),
        max_depth,
    })
}

pub(super) fn operate(command: &str, key: &str, send_resp: bool, args: &[(&str, &str)]) -> ReqType {
    ReqType::Operate(pb::Operate {
        command: command.into(),
        command_key: key.into(),
        send_resp,
        input_args: args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    })
}

/// The messages sent, in order.
pub(super) fn sent(out: &[Outgoing]) -> Vec<&pb::Msg> {
    out.iter()
        .filter_map(|o| match o {
            Outgoing::Send { msg, .. } => Some(msg),
            _ => None,
        })
        .collect()
}

/// The response body of the first message (panics on an Error).
pub(super) fn resp(out: &[Outgoing]) -> RespType {
    let m = sent(out)[0];
    match m.body.as_ref().and_then(|b| b.msg_body.clone()) {
        Some(MsgBody::Response(r)) => r.resp_type.unwrap(),
        other => panic!("expected a response, got {other:?}"),
    }
}

/// The Error body of the first message (panics otherwise).
pub(super) fn error(out: &[Outgoing]) -> pb::Error {
    let m = sent(out)[0];
    assert_eq!(m.header.as_ref().unwrap().msg_type, MsgType::Error as i32);
    match m.body.as_ref().and_then(|b| b.msg_body.clone()) {
        Some(MsgBody::Error(e)) => e,
        other => panic!("expected an Error, got {other:?}"),
    }
}

/// Notify requests among the sent messages.
pub(super) fn notifies(out: &[Outgoing]) -> Vec<pb::Notify> {
    sent(out)
        .into_iter()
        .filter_map(|m| match m.body.as_ref().and_then(|b| b.msg_body.clone()) {
            Some(MsgBody::Request(pb::Request {
                req_type: Some(ReqType::Notify(n)),
            })) => Some(n),
            _ => None,
        })
        .collect()
}

pub(super) fn wakes(out: &[Outgoing]) -> Vec<(Duration, u64)> {
    out.iter()
        .filter_map(|o| match o {
            Outgoing::Wake { after, timer } => Some((*after, *timer)),
            _ => None,
        })
        .collect()
}

pub(super) fn add_statuses(out: &[Outgoing]) -> Vec<AddStatus> {
    let RespType::AddResp(r) = resp(out) else {
        panic!("not an AddResp")
    };
    r.created_obj_results
        .into_iter()
        .map(|c| c.oper_status.unwrap().oper_status.unwrap())
        .collect()
}

pub(super) fn set_statuses(out: &[Outgoing]) -> Vec<SetStatus> {
    let RespType::SetResp(r) = resp(out) else {
        panic!("not a SetResp")
    };
    r.updated_obj_results
        .into_iter()
        .map(|c| c.oper_status.unwrap().oper_status.unwrap())
        .collect()
}

pub(super) fn del_statuses(out: &[Outgoing]) -> Vec<DelStatus> {
    let RespType::DeleteResp(r) = resp(out) else {
        panic!("not a DeleteResp")
    };
    r.deleted_obj_results
        .into_iter()
        .map(|c| c.oper_status.unwrap().oper_status.unwrap())
        .collect()
}

pub(super) fn get_results(out: &[Outgoing]) -> Vec<pb::get_resp::RequestedPathResult> {
    let RespType::GetResp(r) = resp(out) else {
        panic!("not a GetResp")
    };
    r.req_path_results
}

/// Adds a Subscription with the given settings (all non-required) and returns its path.
pub(super) fn subscription(a: &mut Agent, settings: Settings) -> String {
    let out = call(a, add(false, &[(SUBS, settings)]));
    match &add_statuses(&out)[0] {
        AddStatus::OperSuccess(s) => s.instantiated_path.clone(),
        other => panic!("subscription not created: {other:?}"),
    }
}

/// The value of one parameter read back by Get.
pub(super) fn value(a: &mut Agent, param_path: &str) -> Option<String> {
    let out = call(a, get(&[param_path], 0));
    let r = get_results(&out).remove(0);
    r.resolved_path_results
        .first()
        .and_then(|rp| rp.result_params.values().next().cloned())
}

/// The instance paths of all Subscriptions.
pub(super) fn subscriptions(a: &mut Agent) -> Vec<String> {
    let out = call(
        a,
        ReqType::GetInstances(pb::GetInstances {
            obj_paths: vec![SUBS.into()],
            first_level_only: true,
        }),
    );
    let RespType::GetInstancesResp(r) = resp(&out) else {
        panic!()
    };
    r.req_path_results[0]
        .curr_insts
        .iter()
        .map(|c| c.instantiated_obj_path.clone())
        .collect()
}

fn success_path(s: &AddStatus) -> &str {
    match s {
        AddStatus::OperSuccess(s) => &s.instantiated_path,
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------- per message type

#[test]
fn agent_can_move_between_threads() {
    fn send<T: Send + 'static>() {}
    send::<Agent>();
    send::<Outgoing>();
}

#[test]
fn initial_model_has_the_harness_controller() {
    let mut a = agent(&[]);
    assert_eq!(
        value(&mut a, "Device.LocalAgent.EndpointID").unwrap(),
        AGENT
    );
    assert_eq!(
        value(&mut a, "Device.LocalAgent.Controller.1.EndpointID").unwrap(),
        CTRL
    );
    assert_eq!(
        value(&mut a, "Device.DeviceInfo.SoftwareVersion").unwrap(),
        "1.2.3"
    );
    assert_eq!(
        value(&mut a, "Device.LocalAgent.ControllerNumberOfEntries").unwrap(),
        "1"
    );
    assert_eq!(value(&mut a, "Device.LocalAgent.UpTime").unwrap(), "0");
}

#[test]
fn responses_carry_msg_id_and_msg_type() {
    let mut a = agent(&[]);
    let cases: Vec<(ReqType, MsgType)> = vec![
        (get(&["Device.LocalAgent.EndpointID"], 0), MsgType::GetResp),
        (set(true, &[]), MsgType::SetResp),
        (add(true, &[]), MsgType::AddResp),
        (delete(true, &[]), MsgType::DeleteResp),
        (
            ReqType::GetInstances(Default::default()),
            MsgType::GetInstancesResp,
        ),
        (
            ReqType::GetSupportedDm(Default::default()),
            MsgType::GetSupportedDmResp,
        ),
        (
            ReqType::GetSupportedProtocol(Default::default()),
            MsgType::GetSupportedProtoResp,
        ),
        (
            operate(
                "Device.LocalAgent.Controller.1.SendOnBoardRequest()",
                "k",
                true,
                &[],
            ),
            MsgType::OperateResp,
        ),
        (ReqType::Register(Default::default()), MsgType::Error),
        (ReqType::Notify(Default::default()), MsgType::Error),
    ];
    for (r, t) in cases {
        let out = a.handle(CTRL, request("id-42", r));
        let h = sent(&out)[0].header.clone().unwrap();
        assert_eq!((h.msg_id.as_str(), h.msg_type), ("id-42", t as i32));
        assert!(matches!(&out[0], Outgoing::Send { to, .. } if to == CTRL));
    }
}

#[test]
fn malformed_messages_get_errors_and_responses_are_consumed() {
    let mut a = agent(&[]);
    let no_body = pb::Msg {
        header: Some(pb::Header {
            msg_id: "x".into(),
            msg_type: MsgType::Get as i32,
        }),
        body: None,
    };
    assert_eq!(error(&a.handle(CTRL, no_body)).err_code, 7000);
    assert_eq!(error(&a.handle(CTRL, pb::Msg::default())).err_code, 7000);
    let unknown = pb::Msg {
        header: Some(Default::default()),
        body: Some(pb::Body {
            msg_body: Some(MsgBody::Request(pb::Request { req_type: None })),
        }),
    };
    assert_eq!(error(&a.handle(CTRL, unknown)).err_code, 7001);
    let notify_resp = super::handler::msg(
        "n",
        MsgType::NotifyResp,
        MsgBody::Response(pb::Response {
            resp_type: Some(RespType::NotifyResp(Default::default())),
        }),
    );
    assert!(a.handle(CTRL, notify_resp).is_empty());
    let err = super::handler::msg("n", MsgType::Error, MsgBody::Error(Default::default()));
    assert!(a.handle(CTRL, err).is_empty());
}

#[test]
fn get_parameters_objects_and_errors() {
    let mut a = agent(&[]);
    let out = call(
        &mut a,
        get(
            &[
                "Device.LocalAgent.EndpointID",
                "Device.LocalAgent.Nope",
                "Device.[",
                "Device.LocalAgent.Controller.7.",
            ],
            0,
        ),
    );
    let r = get_results(&out);
    assert_eq!(r[0].err_code, 0);
    assert_eq!(
        r[0].resolved_path_results[0].resolved_path,
        "Device.LocalAgent."
    );
    assert_eq!(
        r[0].resolved_path_results[0].result_params["EndpointID"],
        AGENT
    );
    assert_eq!(r[1].err_code, 7026);
    assert_eq!(r[2].err_code, 7008);
    assert_eq!(r[3].err_code, 7026); // R-GET.0: non-search path to a missing instance
    let out = call(&mut a, get(&["Device.LocalAgent.Controller.1."], 0));
    let paths: Vec<String> = get_results(&out)[0]
        .resolved_path_results
        .iter()
        .map(|r| r.resolved_path.clone())
        .collect();
    assert_eq!(
        paths,
        [
            "Device.LocalAgent.Controller.1.",
            "Device.LocalAgent.Controller.1.MTP.1.",
            "Device.LocalAgent.Controller.1.MTP.1.WebSocket.",
            "Device.LocalAgent.Controller.1.MTP.1.MQTT.",
        ]
    );
    let out = call(
        &mut a,
        get(
            &[
                SUBS,
                "Device.LocalAgent.Subscription.*.Enable",
                "Device.ScheduleTimer()",
            ],
            0,
        ),
    );
    let r = get_results(&out);
    assert!(r[0].err_code == 0 && r[0].resolved_path_results.is_empty()); // 1.87
    assert!(r[1].err_code == 0 && r[1].resolved_path_results.is_empty()); // 1.86
    assert_eq!(r[2].err_code, 7026);
}

#[test]
fn get_max_depth_limits_levels() {
    let mut a = agent(&[]);
    let count = |a: &mut Agent, d| {
        get_results(&call(a, get(&["Device.LocalAgent."], d)))[0]
            .resolved_path_results
            .len()
    };
    let (one, two, all) = (count(&mut a, 1), count(&mut a, 2), count(&mut a, 0));
    assert_eq!(one, 1);
    assert!(one < two && two < all, "{one} {two} {all}");
    let out = call(&mut a, get(&["Device.LocalAgent."], 2));
    for r in &get_results(&out)[0].resolved_path_results {
        assert!(
            r.resolved_path.matches('.').count() <= 4,
            "{}",
            r.resolved_path
        );
        assert!(r.result_params.keys().all(|k| !k.contains('.')));
    }
}

#[test]
fn get_instances_first_level_and_nested() {
    let mut a = agent(&[]);
    let gi = |paths: &[&str], first| {
        ReqType::GetInstances(pb::GetInstances {
            obj_paths: paths.iter().map(|s| s.to_string()).collect(),
            first_level_only: first,
        })
    };
    let insts = |out: &[Outgoing], i: usize| {
        let RespType::GetInstancesResp(r) = resp(out) else {
            panic!()
        };
        (
            r.req_path_results[i].err_code,
            r.req_path_results[i].curr_insts.clone(),
        )
    };
    let out = call(&mut a, gi(&["Device.LocalAgent.Controller."], true));
    let (code, c) = insts(&out, 0);
    assert_eq!(code, 0);
    assert_eq!(c.len(), 1);
    assert_eq!(
        c[0].instantiated_obj_path,
        "Device.LocalAgent.Controller.1."
    );
    assert_eq!(c[0].unique_keys["EndpointID"], CTRL);
    assert_eq!(c[0].unique_keys["Alias"], "cpe-1");
    let out = call(&mut a, gi(&["Device.LocalAgent.Controller."], false));
    let paths: Vec<String> = insts(&out, 0)
        .1
        .into_iter()
        .map(|c| c.instantiated_obj_path)
        .collect();
    assert_eq!(
        paths,
        [
            "Device.LocalAgent.Controller.1.",
            "Device.LocalAgent.Controller.1.MTP.1."
        ]
    );
    let out = call(
        &mut a,
        gi(
            &[
                "Device.LocalAgent.Controller.*.MTP.",
                "Device.LocalAgent.",
                "Device.LocalAgent.Controller.9.MTP.",
                "Device.Nope.",
            ],
            true,
        ),
    );
    assert_eq!(
        insts(&out, 0).1[0].instantiated_obj_path,
        "Device.LocalAgent.Controller.1.MTP.1."
    );
    assert_eq!(insts(&out, 1).0, 7018);
    assert_eq!(insts(&out, 2).0, 7016);
    assert_eq!(insts(&out, 3).0, 7026);
    let out = call(
        &mut a,
        gi(
            &[r#"Device.LocalAgent.Controller.[Alias=="nope"].BootParameter."#],
            true,
        ),
    );
    assert_eq!(insts(&out, 0), (0, vec![])); // 1.83
}

/// TP-469 11.1 metric 2: MQTTController:1's Reference is listed, and readWrite parameters are
/// PARAM_READ_WRITE; `no-mqtt-controller-reference` and `gsdm-params-read-only` break that.
#[test]
fn get_supported_dm_mqtt_controller_profile() {
    let path = "Device.LocalAgent.Controller.{i}.MTP.{i}.MQTT.";
    let params = |faults: &[Fault]| {
        let mut a = agent(faults);
        let out = call(
            &mut a,
            ReqType::GetSupportedDm(pb::GetSupportedDm {
                obj_paths: vec![path.into()],
                return_params: true,
                ..Default::default()
            }),
        );
        let RespType::GetSupportedDmResp(r) = resp(&out) else {
            panic!()
        };
        let o = &r.req_obj_results[0].supported_objs[0];
        assert_eq!(o.supported_obj_path, path);
        o.supported_params
            .iter()
            .map(|p| (p.param_name.clone(), p.access))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let rw = pb::get_supported_dm_resp::ParamAccessType::ParamReadWrite as i32;
    let ro = pb::get_supported_dm_resp::ParamAccessType::ParamReadOnly as i32;
    let ok = params(&[]);
    assert_eq!(ok.get("Reference"), Some(&rw));
    assert_eq!(ok.get("Topic"), Some(&rw));
    assert!(!params(&[Fault::NoMqttControllerReference]).contains_key("Reference"));
    assert!(
        params(&[Fault::GsdmParamsReadOnly])
            .values()
            .all(|a| *a == ro)
    );
}

#[test]
fn get_supported_dm_objects_leaves_and_errors() {
    let mut a = agent(&[]);
    let gsdm = |paths: &[&str], first, all| {
        ReqType::GetSupportedDm(pb::GetSupportedDm {
            obj_paths: paths.iter().map(|s| s.to_string()).collect(),
            first_level_only: first,
            return_commands: all,
            return_events: all,
            return_params: all,
            return_unique_key_sets: all,
        })
    };
    let results = |out: &[Outgoing]| {
        let RespType::GetSupportedDmResp(r) = resp(out) else {
            panic!()
        };
        r.req_obj_results
    };
    // 1.73: first level with all options: only the object has details, children keys only.
    let r = &results(&call(&mut a, gsdm(&["Device.LocalAgent."], true, true)))[0];
    assert_eq!(r.err_code, 0);
    assert_eq!(r.supported_objs[0].supported_obj_path, "Device.LocalAgent.");
    assert!(!r.supported_objs[0].supported_params.is_empty());
    assert!(r.supported_objs[0].unique_key_sets.is_empty());
    let sub = r
        .supported_objs
        .iter()
        .find(|o| o.supported_obj_path == "Device.LocalAgent.Subscription.{i}.")
        .unwrap();
    assert!(
        sub.is_multi_instance && sub.supported_params.is_empty() && sub.unique_key_sets.len() == 2
    );
    // 1.74: no options, nothing but names.
    let r = &results(&call(&mut a, gsdm(&["Device.LocalAgent."], true, false)))[0];
    assert!(
        r.supported_objs
            .iter()
            .all(|o| o.supported_params.is_empty() && o.unique_key_sets.is_empty())
    );
    // 1.76: whole model, commands and events included.
    let r = &results(&call(&mut a, gsdm(&["Device."], false, true)))[0];
    let root = &r.supported_objs[0];
    assert_eq!(root.supported_obj_path, "Device.");
    let timer = root
        .supported_commands
        .iter()
        .find(|c| c.command_name == "ScheduleTimer()")
        .unwrap();
    assert_eq!(timer.input_arg_names, ["DelaySeconds"]);
    assert_eq!(
        timer.command_type,
        pb::get_supported_dm_resp::CmdType::CmdAsync as i32
    );
    assert_eq!(root.supported_events[0].event_name, "Boot!");
    assert!(
        r.supported_objs
            .iter()
            .any(|o| o.supported_obj_path == "Device.LocalAgent.Controller.{i}.BootParameter.{i}.")
    );
    // 1.99: no trailing dot; 1.105-1.107: a command, an event, a parameter.
    let out = call(
        &mut a,
        gsdm(
            &[
                "Device.LocalAgent.Subscription",
                "Device.Reboot()",
                "Device.Boot!",
                "Device.LocalAgent.EndpointID",
                "Device.LocalAgent.UnsupportedObject.",
                "Device.LocalAgent.Controller.{i}.MTP.",
                "Device.LocalAgent.Controller.5.",
            ],
            false,
            false,
        ),
    );
    let r = results(&out);
    assert_eq!(
        r[0].supported_objs[0].supported_obj_path,
        "Device.LocalAgent.Subscription.{i}."
    );
    assert_eq!(
        r[1].supported_objs[0].supported_commands[0].command_name,
        "Reboot()"
    );
    assert!(r[1].supported_objs[0].supported_params.is_empty());
    assert_eq!(
        r[2].supported_objs[0].supported_events[0].event_name,
        "Boot!"
    );
    assert_eq!(
        r[3].supported_objs[0].supported_params[0].param_name,
        "EndpointID"
    );
    assert_eq!(r[3].supported_objs.len(), 1);
    assert_eq!(r[4].err_code, 7026);
    assert_eq!(
        r[5].supported_objs[0].supported_obj_path,
        "Device.LocalAgent.Controller.{i}.MTP.{i}."
    );
    assert_eq!(r[6].err_code, 7016);
    let keys = |o: &pb::get_supported_dm_resp::SupportedObjectResult| -> Vec<Vec<String>> {
        o.unique_key_sets
            .iter()
            .map(|k| k.key_names.clone())
            .collect()
    };
    let out = call(
        &mut a,
        ReqType::GetSupportedDm(pb::GetSupportedDm {
            obj_paths: vec!["Device.LocalAgent.Subscription".into()],
            return_unique_key_sets: true,
            first_level_only: true,
            ..Default::default()
        }),
    );
    assert_eq!(
        keys(&results(&out)[0].supported_objs[0]),
        [vec!["Alias"], vec!["Recipient", "ID"]]
    );
}

#[test]
fn get_supported_protocol_lists_versions() {
    let mut a = agent(&[]);
    let out = call(
        &mut a,
        ReqType::GetSupportedProtocol(pb::GetSupportedProtocol {
            controller_supported_protocol_versions: "1.3,1.4".into(),
        }),
    );
    let RespType::GetSupportedProtocolResp(r) = resp(&out) else {
        panic!()
    };
    assert!(
        r.agent_supported_protocol_versions
            .split(',')
            .any(|v| v == "1.4")
    );
}

#[test]
fn add_assigns_keys_and_reports_parameter_errors() {
    let mut a = agent(&[]);
    let out = call(
        &mut a,
        add(
            true,
            &[
                (
                    SUBS,
                    &[("Enable", "true", false), ("NotifRetry", "maybe", false)],
                ),
                (SUBS, &[]),
                ("Device.LocalAgent.Request.", &[]),
                ("Device.LocalAgent.", &[]),
                ("Device.LocalAgent.Controller.9.BootParameter.", &[]),
                ("Device.LocalAgent.Subscription.1.Enable", &[]),
            ],
        ),
    );
    let s = add_statuses(&out);
    let AddStatus::OperSuccess(ok) = &s[0] else {
        panic!("{s:?}")
    };
    assert_eq!(ok.instantiated_path, "Device.LocalAgent.Subscription.1.");
    assert_eq!(ok.param_errs[0].param, "NotifRetry");
    assert_eq!(ok.param_errs[0].err_code, 7011);
    assert_eq!(
        ok.unique_keys["Recipient"],
        "Device.LocalAgent.Controller.1."
    );
    assert_eq!(ok.unique_keys["Alias"], "cpe-1");
    let AddStatus::OperSuccess(ok2) = &s[1] else {
        panic!()
    };
    assert_ne!(ok2.unique_keys["ID"], ok.unique_keys["ID"]); // 1.81
    let codes: Vec<u32> = s[2..]
        .iter()
        .map(|x| match x {
            AddStatus::OperFailure(f) => f.err_code,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(codes, [7019, 7018, 7016, 7026]);
    // Duplicate unique keys and invalid Alias fail the object (1.88).
    let out = call(
        &mut a,
        add(
            true,
            &[
                (SUBS, &[("ID", "dup", false)]),
                (SUBS, &[("ID", "dup", false)]),
                (SUBS, &[("Alias", "88InvalidAlias", false)]),
            ],
        ),
    );
    let s = add_statuses(&out);
    assert!(matches!(s[0], AddStatus::OperSuccess(_)));
    assert!(matches!(&s[1], AddStatus::OperFailure(f) if f.err_code == 7021));
    assert!(matches!(&s[2], AddStatus::OperFailure(f) if f.err_code == 7021));
    let out = call(
        &mut a,
        add(false, &[(SUBS, &[("Alias", "88InvalidAlias", false)])]),
    );
    let e = error(&out);
    assert_eq!(
        e.param_errs[0].param_path,
        "Device.LocalAgent.Subscription.Alias"
    );
    assert_eq!(e.param_errs[0].err_code, 7012);
}

#[test]
fn add_with_search_parent_creates_one_per_match() {
    let mut a = agent(&[]);
    let out = call(
        &mut a,
        add(
            false,
            &[(
                r#"Device.LocalAgent.Controller.[Enable==true].BootParameter."#,
                &[("ParameterName", "Device.LocalAgent.EndpointID", false)],
            )],
        ),
    );
    assert_eq!(
        success_path(&add_statuses(&out)[0]),
        "Device.LocalAgent.Controller.1.BootParameter.1."
    );
    let out = call(
        &mut a,
        add(
            false,
            &[(
                r#"Device.LocalAgent.Controller.[Enable==false].BootParameter."#,
                &[],
            )],
        ),
    );
    assert!(
        matches!(&add_statuses(&out)[0], AddStatus::OperSuccess(s) if s.instantiated_path.is_empty())
    );
}

#[test]
fn set_rules_for_access_keys_and_types() {
    let mut a = agent(&[]);
    let sub = subscription(
        &mut a,
        &[
            ("ID", "s1", false),
            ("Alias", "a1", false),
            ("ReferenceList", "Device.LocalAgent.", false),
        ],
    );
    for (param, v, code) in [
        ("ID", "s2", 7013),       // non-functional unique key (1.96)
        ("Alias", "a2", 7013),    // writeOnceReadOnly (1.104)
        ("Recipient", "x", 7013), // readOnly
        ("ReferenceList", "Device.", 7013),
        ("Enable", "InvalidValue", 7011),
        ("NotifType", "Bogus", 7012),
        ("InvalidParameter", "x", 7010),
    ] {
        let e = error(&call(&mut a, set(false, &[(&sub, &[(param, v, true)])])));
        assert_eq!(e.err_code, 7021, "{param}");
        assert_eq!(e.param_errs[0].param_path, format!("{sub}{param}"));
        assert_eq!(e.param_errs[0].err_code, code, "{param}");
    }
    // Same value for a non-functional key is not a change.
    let out = call(&mut a, set(false, &[(&sub, &[("ID", "s1", true)])]));
    assert!(matches!(&set_statuses(&out)[0], SetStatus::OperSuccess(_)));
    // A functional key can change, but not into a duplicate.
    call(
        &mut a,
        add(
            false,
            &[(
                "Device.LocalAgent.Controller.1.MTP.",
                &[("Protocol", "MQTT", true)],
            )],
        ),
    );
    let e = error(&call(
        &mut a,
        set(
            false,
            &[(
                "Device.LocalAgent.Controller.1.MTP.1.",
                &[("Protocol", "MQTT", true)],
            )],
        ),
    ));
    assert_eq!(e.param_errs[0].err_code, 7025, "{e:?}");
    let out = call(
        &mut a,
        set(
            false,
            &[(
                "Device.LocalAgent.Controller.1.",
                &[("EndpointID", "other", true)],
            )],
        ),
    );
    assert!(matches!(&set_statuses(&out)[0], SetStatus::OperSuccess(_)));
    // Nested single-instance parameters, missing instances, tables.
    let out = call(
        &mut a,
        set(
            true,
            &[
                (
                    "Device.LocalAgent.MTP.1.",
                    &[("WebSocket.Port", "443", true)],
                ),
                ("Device.LocalAgent.MTP.9.", &[("Enable", "true", true)]),
                ("Device.LocalAgent.MTP.", &[("Enable", "true", true)]),
            ],
        ),
    );
    let s = set_statuses(&out);
    let SetStatus::OperSuccess(ok) = &s[0] else {
        panic!()
    };
    assert_eq!(
        ok.updated_inst_results[0].updated_params["WebSocket.Port"],
        "443"
    );
    assert!(matches!(&s[1], SetStatus::OperFailure(f) if f.err_code == 7016));
    assert!(matches!(&s[2], SetStatus::OperFailure(f) if f.err_code == 7026));
    assert_eq!(
        value(&mut a, "Device.LocalAgent.MTP.1.WebSocket.Port").unwrap(),
        "443"
    );
}

#[test]
fn delete_cascades_controller_subscriptions() {
    let mut a = agent(&[]);
    let out = call(
        &mut a,
        add(
            false,
            &[(
                "Device.LocalAgent.Controller.",
                &[
                    ("EndpointID", "proto::second", true),
                    ("Enable", "true", false),
                ],
            )],
        ),
    );
    let second = success_path(&add_statuses(&out)[0]).to_string();
    // A subscription owned by the second controller (1.78).
    let out = a.handle(
        "proto::second",
        request("x", add(false, &[(SUBS, &[("ID", "theirs", false)])])),
    );
    let theirs = success_path(&add_statuses(&out)[0]).to_string();
    let mine = subscription(&mut a, &[("ID", "mine", false)]);
    let out = call(&mut a, delete(false, &[&second]));
    let DelStatus::OperSuccess(ok) = &del_statuses(&out)[0] else {
        panic!()
    };
    assert_eq!(ok.affected_paths, [second]);
    assert_eq!(subscriptions(&mut a), [mine]);
    assert!(!subscriptions(&mut a).contains(&theirs));
    let out = call(
        &mut a,
        delete(
            true,
            &[
                "Device.LocalAgent.",
                SUBS,
                "Device.LocalAgent.Request.1.",
                "Device.LocalAgent.Subscription.1.Enable",
            ],
        ),
    );
    let codes: Vec<u32> = del_statuses(&out)
        .iter()
        .map(|s| match s {
            DelStatus::OperFailure(f) => f.err_code,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(codes, [7018, 7026, 7024, 7026]);
}

#[test]
fn operate_sync_async_cancel_and_arguments() {
    let mut a = agent(&[]);
    let oc_sub = subscription(
        &mut a,
        &[
            ("ID", "oc"),
            ("Enable", "true"),
            ("NotifType", "OperationComplete"),
            ("ReferenceList", "Device.ScheduleTimer()"),
        ]
        .map(|(n, v)| (n, v, false)),
    );
    let out = call(
        &mut a,
        operate(
            "Device.ScheduleTimer()",
            "k1",
            true,
            &[("DelaySeconds", "3"), ("Unknown", "x")],
        ),
    );
    let RespType::OperateResp(r) = resp(&out) else {
        panic!()
    };
    use pb::operate_resp::operation_result::OperationResp as R;
    assert_eq!(
        r.operation_results[0].executed_command,
        "Device.ScheduleTimer()"
    );
    assert_eq!(
        r.operation_results[0].operation_resp,
        Some(R::ReqObjPath("Device.LocalAgent.Request.1.".into()))
    );
    let (after, timer) = wakes(&out)[0];
    assert_eq!(after, Duration::from_secs(3));
    assert_eq!(
        value(&mut a, "Device.LocalAgent.Request.1.CommandKey").unwrap(),
        "k1"
    );
    let done = a.wake(timer);
    let n = notifies(&done);
    assert_eq!(n[0].subscription_id, "oc");
    let Some(pb::notify::Notification::OperComplete(c)) = &n[0].notification else {
        panic!()
    };
    assert_eq!(
        (
            c.obj_path.as_str(),
            c.command_name.as_str(),
            c.command_key.as_str()
        ),
        ("Device.", "ScheduleTimer()", "k1")
    );
    assert!(value(&mut a, "Device.LocalAgent.Request.1.CommandKey").is_none()); // R-OPR.0
    assert!(a.wake(timer).is_empty());
    // Missing mandatory argument: cmd_failure 7027, no timer (1.100).
    let out = call(&mut a, operate("Device.ScheduleTimer()", "k2", true, &[]));
    let RespType::OperateResp(r) = resp(&out) else {
        panic!()
    };
    assert!(
        matches!(&r.operation_results[0].operation_resp, Some(R::CmdFailure(f)) if f.err_code == 7027)
    );
    assert!(wakes(&out).is_empty());
    // Cancel: OperationComplete with 7023, and the original timer does nothing.
    let out = call(
        &mut a,
        operate(
            "Device.ScheduleTimer()",
            "k3",
            false,
            &[("DelaySeconds", "100")],
        ),
    );
    assert!(sent(&out).is_empty()); // send_resp=false (R-OPR.4)
    let (_, timer) = wakes(&out)[0];
    let out = call(
        &mut a,
        operate("Device.LocalAgent.Request.*.Cancel()", "c", true, &[]),
    );
    let n = notifies(&out);
    let Some(pb::notify::Notification::OperComplete(c)) = &n[0].notification else {
        panic!()
    };
    assert!(
        matches!(&c.operation_resp, Some(pb::notify::operation_complete::OperationResp::CmdFailure(f)) if f.err_code == 7023)
    );
    assert!(a.wake(timer).is_empty());
    // Message-level errors.
    assert_eq!(
        error(&call(&mut a, operate("Device.Nope()", "", true, &[]))).err_code,
        7026
    );
    assert_eq!(
        error(&call(&mut a, operate("Device.LocalAgent.", "", true, &[]))).err_code,
        7026
    );
    assert_eq!(
        error(&call(&mut a, operate("Device.(", "", true, &[]))).err_code,
        7008
    );
    assert_eq!(
        error(&call(
            &mut a,
            operate(
                "Device.LocalAgent.Controller.4.SendOnBoardRequest()",
                "",
                true,
                &[]
            )
        ))
        .err_code,
        7016
    );
    let _ = oc_sub;
}

#[test]
fn send_on_board_request_notifies_and_retries_until_answered() {
    let mut a = agent(&[]);
    let out = call(
        &mut a,
        operate(
            "Device.LocalAgent.Controller.1.SendOnBoardRequest()",
            "",
            true,
            &[],
        ),
    );
    let n = notifies(&out);
    assert_eq!(n[0].subscription_id, "");
    assert!(n[0].send_resp);
    let Some(pb::notify::Notification::OnBoardReq(o)) = &n[0].notification else {
        panic!()
    };
    assert_eq!(o.oui, super::tr181::MANUFACTURER_OUI);
    let (after, timer) = wakes(&out)[0];
    assert!((5.0..=10.0).contains(&after.as_secs_f64()));
    let again = a.wake(timer);
    assert_eq!(notifies(&again).len(), 1);
    let notify_id = sent(&again)[0].header.clone().unwrap().msg_id;
    let (after2, timer2) = wakes(&again)[0];
    assert!((10.0..=20.0).contains(&after2.as_secs_f64()));
    let ack = super::handler::msg(
        &notify_id,
        MsgType::NotifyResp,
        MsgBody::Response(pb::Response {
            resp_type: Some(RespType::NotifyResp(Default::default())),
        }),
    );
    assert!(a.handle(CTRL, ack).is_empty());
    assert!(a.wake(timer2).is_empty());
}

#[test]
fn notifications_value_change_creation_deletion() {
    let mut a = agent(&[]);
    let s = |id: &'static str, t: &'static str, r: &'static str| {
        [
            ("ID", id, false),
            ("Enable", "true", false),
            ("NotifType", t, false),
            ("ReferenceList", r, false),
        ]
    };
    subscription(
        &mut a,
        &s(
            "vc",
            "ValueChange",
            "Device.LocalAgent.Controller.1.ProvisioningCode",
        ),
    );
    subscription(&mut a, &s("oc", "ObjectCreation", SUBS));
    subscription(
        &mut a,
        &s("od", "ObjectDeletion", "Device.LocalAgent.Subscription.*."),
    );
    let out = call(
        &mut a,
        set(
            false,
            &[(
                "Device.LocalAgent.Controller.1.",
                &[("ProvisioningCode", "TestValue52", true)],
            )],
        ),
    );
    let n = notifies(&out);
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].subscription_id, "vc");
    assert!(!n[0].send_resp);
    assert_eq!(
        n[0].notification,
        Some(pb::notify::Notification::ValueChange(
            pb::notify::ValueChange {
                param_path: "Device.LocalAgent.Controller.1.ProvisioningCode".into(),
                param_value: "TestValue52".into(),
            }
        ))
    );
    // Setting the same value again is no change.
    assert!(
        notifies(&call(
            &mut a,
            set(
                false,
                &[(
                    "Device.LocalAgent.Controller.1.",
                    &[("ProvisioningCode", "TestValue52", true)]
                )]
            )
        ))
        .is_empty()
    );
    let out = call(
        &mut a,
        add(false, &[(SUBS, &[("ID", "Notify57-2", false)])]),
    );
    assert!(matches!(
        sent(&out)[0].body.as_ref().unwrap().msg_body,
        Some(MsgBody::Response(_))
    ));
    let n = notifies(&out);
    let Some(pb::notify::Notification::ObjCreation(c)) = &n[0].notification else {
        panic!("{n:?}")
    };
    assert_eq!(c.obj_path, "Device.LocalAgent.Subscription.4.");
    assert_eq!(c.unique_keys["ID"], "Notify57-2");
    assert_eq!(
        c.unique_keys["Recipient"],
        "Device.LocalAgent.Controller.1."
    );
    let out = call(
        &mut a,
        delete(false, &["Device.LocalAgent.Subscription.4."]),
    );
    let n = notifies(&out);
    assert_eq!(
        n[0].notification,
        Some(pb::notify::Notification::ObjDeletion(
            pb::notify::ObjectDeletion {
                obj_path: "Device.LocalAgent.Subscription.4.".into(),
            }
        ))
    );
    // A failed (rolled back) request notifies nobody.
    let out = call(&mut a, add(false, &[(SUBS, &[]), ("Device.Nope.", &[])]));
    assert!(notifies(&out).is_empty());
    // Disabled subscriptions are silent.
    call(
        &mut a,
        set(
            false,
            &[(
                "Device.LocalAgent.Subscription.1.",
                &[("Enable", "false", true)],
            )],
        ),
    );
    assert!(
        notifies(&call(
            &mut a,
            set(
                false,
                &[(
                    "Device.LocalAgent.Controller.1.",
                    &[("ProvisioningCode", "Other", true)]
                )]
            )
        ))
        .is_empty()
    );
}

#[test]
fn value_change_with_search_path_reference() {
    // TP-469 1.84: ReferenceList with a wildcard over BootParameters.
    let mut a = agent(&[]);
    let bp = "Device.LocalAgent.Controller.1.BootParameter.";
    call(
        &mut a,
        add(
            false,
            &[(
                bp,
                &[
                    ("ParameterName", "Device.LocalAgent.EndpointID", false),
                    ("Enable", "true", false),
                ],
            )],
        ),
    );
    call(
        &mut a,
        add(
            false,
            &[(
                bp,
                &[
                    ("ParameterName", "Device.DeviceInfo.UpTime", false),
                    ("Enable", "true", false),
                ],
            )],
        ),
    );
    subscription(
        &mut a,
        &[
            ("ID", "n84", false),
            ("Enable", "true", false),
            ("NotifType", "ValueChange", false),
            (
                "ReferenceList",
                "Device.LocalAgent.Controller.1.BootParameter.*.Enable",
                false,
            ),
        ],
    );
    let out = call(
        &mut a,
        set(
            false,
            &[(
                "Device.LocalAgent.Controller.1.BootParameter.2.",
                &[("Enable", "false", true)],
            )],
        ),
    );
    let n = notifies(&out);
    assert_eq!(n.len(), 1);
    let Some(pb::notify::Notification::ValueChange(v)) = &n[0].notification else {
        panic!()
    };
    assert_eq!(
        v.param_path,
        "Device.LocalAgent.Controller.1.BootParameter.2.Enable"
    );
}

#[test]
fn notify_retry_expiration_and_time_to_live() {
    let mut a = agent(&[]);
    subscription(
        &mut a,
        &[
            ("ID", "r", false),
            ("Enable", "true", false),
            ("NotifType", "ValueChange", false),
            ("ReferenceList", "Device.DeviceInfo.FriendlyName", false),
            ("NotifRetry", "true", false),
            ("NotifExpiration", "20", false),
        ],
    );
    let out = call(
        &mut a,
        set(
            false,
            &[("Device.DeviceInfo.", &[("FriendlyName", "x", true)])],
        ),
    );
    assert!(notifies(&out)[0].send_resp);
    let (d1, t1) = wakes(&out)[0];
    assert!((5.0..=10.0).contains(&d1.as_secs_f64()));
    // The first retry is sent; the second would be after NotifExpiration, so none is scheduled.
    let again = a.wake(t1);
    assert_eq!(notifies(&again).len(), 1);
    assert!(wakes(&again).is_empty(), "{again:?}");
    // TimeToLive: the subscription is removed when its timer fires (1.55).
    let out = call(
        &mut a,
        add(
            false,
            &[(SUBS, &[("ID", "ttl", false), ("TimeToLive", "20", false)])],
        ),
    );
    let (d, t) = *wakes(&out).last().unwrap();
    assert_eq!(d, Duration::from_secs(20));
    assert_eq!(subscriptions(&mut a).len(), 2);
    a.wake(t);
    assert_eq!(subscriptions(&mut a).len(), 1);
}

#[test]
fn reboot_keeps_persistent_subscriptions_and_sends_boot() {
    let mut a = agent(&[]);
    let bp = "Device.LocalAgent.Controller.1.BootParameter.";
    call(
        &mut a,
        add(
            false,
            &[(
                bp,
                &[
                    ("ParameterName", "Device.LocalAgent.SoftwareVersion", false),
                    ("Enable", "true", false),
                ],
            )],
        ),
    );
    subscription(
        &mut a,
        &[
            ("ID", "boot", false),
            ("Enable", "true", false),
            ("NotifType", "Event", false),
            ("ReferenceList", "Device.Boot!", false),
            ("Persistent", "true", false),
        ],
    );
    subscription(&mut a, &[("ID", "volatile", false)]);
    let out = call(&mut a, operate("Device.Reboot()", "rb", true, &[]));
    assert_eq!(out.last(), Some(&Outgoing::Reboot));
    a.reboot();
    assert_eq!(subscriptions(&mut a).len(), 1);
    let out = a.boot();
    let n = notifies(&out);
    assert_eq!(n.len(), 1);
    let Some(pb::notify::Notification::Event(e)) = &n[0].notification else {
        panic!()
    };
    assert_eq!(
        (e.obj_path.as_str(), e.event_name.as_str()),
        ("Device.", "Boot!")
    );
    assert_eq!(e.params["Cause"], "RemoteReboot");
    assert_eq!(e.params["CommandKey"], "rb");
    assert_eq!(
        e.params["ParameterMap"],
        r#"{"Device.LocalAgent.SoftwareVersion":"1.2.3"}"#
    );
}

#[test]
fn never_panics_on_hostile_input() {
    let mut a = agent(&[]);
    let long = "Device.".repeat(5000) + "X";
    let paths = [
        "",
        ".",
        "Device",
        "Device.",
        "Device.*.",
        "Device.LocalAgent.Subscription.4294967295.",
        "Device.LocalAgent.Subscription.99999999999999999999.",
        "Device.LocalAgent.Subscription.[NotifExpiration>99999999999999999999999999999999].",
        "Device.LocalAgent.Subscription.[ID==\"\u{1F600}\"].",
        "\u{0}",
        "Device.LocalAgent.Controller.*.BootParameter.*.",
        long.as_str(),
        "Device.LocalAgent.Subscription.*.Enable",
        "Device.Boot!",
        "Device.Reboot()",
        "Device.LocalAgent.Request.*.Cancel()",
        "Device.IP.Diagnostics.TraceRoute()",
        "Device.LocalAgent.Controller.*.SendOnBoardRequest()",
    ];
    for p in paths {
        let _ = call(&mut a, get(&[p], u32::MAX));
        let _ = call(&mut a, get(&[p], 1));
        let _ = call(&mut a, add(false, &[(p, &[(p, p, true)])]));
        let _ = call(&mut a, add(true, &[(p, &[(p, p, false)])]));
        let _ = call(&mut a, set(false, &[(p, &[(p, p, true)])]));
        let _ = call(&mut a, set(true, &[(p, &[("Enable", p, false)])]));
        let _ = call(&mut a, delete(true, &[p]));
        let _ = call(
            &mut a,
            operate(p, p, true, &[(p, p), ("DelaySeconds", "4294967295")]),
        );
        let _ = call(
            &mut a,
            operate(
                p,
                p,
                true,
                &[
                    ("Host", p),
                    ("ProtocolVersion", "Any"),
                    ("Timeout", "4294967295"),
                ],
            ),
        );
        let _ = call(
            &mut a,
            set(
                true,
                &[(
                    "Device.LocalAgent.Controller.1.",
                    &[
                        ("PeriodicNotifTime", p, false),
                        ("OnBoardingRestartTime", "4294967295", false),
                    ],
                )],
            ),
        );
        let _ = call(
            &mut a,
            add(
                true,
                &[(
                    SUBS,
                    &[
                        ("TriggerAction", "NotifyAndConfig", false),
                        ("TriggerConfigSettings", &format!("{p}={p}"), false),
                        ("Enable", "true", false),
                        ("NotifType", "Event", false),
                        ("ReferenceList", "Device.", false),
                    ],
                )],
            ),
        );
        let _ = call(
            &mut a,
            ReqType::GetInstances(pb::GetInstances {
                obj_paths: vec![p.into()],
                first_level_only: false,
            }),
        );
        let _ = call(
            &mut a,
            ReqType::GetSupportedDm(pb::GetSupportedDm {
                obj_paths: vec![p.into()],
                ..Default::default()
            }),
        );
    }
    for t in 0..1000 {
        let _ = a.wake(t);
    }
    let _ = call(
        &mut a,
        delete(false, &["Device.LocalAgent.Subscription.*."]),
    );
    let _ = call(&mut a, delete(false, &["Device.LocalAgent.Controller.*."]));
    let _ = call(&mut a, get(&["Device."], 0));
}

#[test]
fn responses_are_deterministic() {
    let script = |a: &mut Agent| {
        let mut all = Vec::new();
        all.extend(call(a, add(false, &[(SUBS, &[("Enable", "true", false)])])));
        all.extend(call(a, get(&["Device."], 0)));
        all.extend(call(
            a,
            operate(
                "Device.ScheduleTimer()",
                "k",
                true,
                &[("DelaySeconds", "1")],
            ),
        ));
        all
    };
    let (mut x, mut y) = (agent(&[]), agent(&[]));
    assert_eq!(script(&mut x), script(&mut y));
}

#[test]
fn controllers_owed_onboarding_get_on_board_requests() {
    let mut a = agent(&[]);
    let ctrl = |complete: &'static str| {
        add(
            false,
            &[(
                "Device.LocalAgent.Controller.",
                &[
                    ("EndpointID", "proto::other", true),
                    ("Enable", "true", false),
                    ("OnBoardingComplete", complete, false),
                ],
            )],
        )
    };
    // Added enabled and not onboarded (the default): R-NOT.5 item 3.
    let out = call(&mut a, ctrl("false"));
    let path = success_path(&add_statuses(&out)[0]).to_string();
    let n = notifies(&out);
    assert_eq!(n.len(), 1);
    assert!(matches!(
        &n[0].notification,
        Some(pb::notify::Notification::OnBoardReq(_))
    ));
    assert!(n[0].send_resp);
    assert!(matches!(&out[1], Outgoing::Send { to, .. } if to == "proto::other"));
    // Nothing more while it stays so; again after a reboot.
    assert!(notifies(&call(&mut a, get(&[SUBS], 0))).is_empty());
    a.reboot();
    assert_eq!(notifies(&a.boot()).len(), 1);
    // Onboarded: nothing; cleared again: one more.
    let done = |v: &'static str| {
        set(
            false,
            &[(path.as_str(), &[("OnBoardingComplete", v, true)])],
        )
    };
    assert!(notifies(&call(&mut a, done("true"))).is_empty());
    assert_eq!(notifies(&call(&mut a, done("false"))).len(), 1);
    // Disabled Controllers are owed nothing; added onboarded, neither.
    let mut b = agent(&[]);
    assert!(notifies(&call(&mut b, ctrl("true"))).is_empty());
    assert!(notifies(&b.boot()).is_empty());
}

#[test]
fn trigger_config_settings_are_checked_applied_and_do_not_chain() {
    let mut a = agent(&[]);
    let bad = error(&call(
        &mut a,
        add(
            false,
            &[(SUBS, &[("TriggerConfigSettings", "nonsense", true)])],
        ),
    ));
    assert_eq!(bad.param_errs[0].err_code, 7012);
    // A Config subscription on ProvisioningCode sets FriendlyName (a quoted string) ...
    subscription(
        &mut a,
        &[
            ("ID", "cfg", false),
            ("Enable", "true", false),
            ("NotifType", "ValueChange", false),
            (
                "ReferenceList",
                "Device.LocalAgent.Controller.1.ProvisioningCode",
                false,
            ),
            ("TriggerAction", "Config", false),
            (
                "TriggerConfigSettings",
                "Device.DeviceInfo.FriendlyName=\"configured\",Device.DeviceInfo.Nope=1",
                false,
            ),
        ],
    );
    // ... which another subscription watches, with a Config of its own that must not run.
    subscription(
        &mut a,
        &[
            ("ID", "vc", false),
            ("Enable", "true", false),
            ("NotifType", "ValueChange", false),
            ("ReferenceList", "Device.DeviceInfo.FriendlyName", false),
            ("TriggerAction", "NotifyAndConfig", false),
            (
                "TriggerConfigSettings",
                "Device.DeviceInfo.ProvisioningCode=loop",
                false,
            ),
        ],
    );
    let out = call(
        &mut a,
        set(
            false,
            &[(
                "Device.LocalAgent.Controller.1.",
                &[("ProvisioningCode", "go", true)],
            )],
        ),
    );
    let n = notifies(&out);
    assert_eq!(n.len(), 1, "{n:?}");
    assert_eq!(n[0].subscription_id, "vc");
    assert_eq!(
        value(&mut a, "Device.DeviceInfo.FriendlyName").unwrap(),
        "configured"
    );
    assert_eq!(
        value(&mut a, "Device.DeviceInfo.ProvisioningCode").unwrap(),
        ""
    );
}

#[test]
fn periodic_follows_its_parameters_and_subscribers() {
    let mut a = agent(&[]);
    let sub = subscription(
        &mut a,
        &[
            ("ID", "p", false),
            ("Enable", "true", false),
            ("NotifType", "Event", false),
            ("ReferenceList", "Device.LocalAgent.", false),
        ],
    );
    // Defaults: every 86400 s, Unknown Time: one interval from now.
    let out = call(&mut a, get(&[SUBS], 0));
    assert!(wakes(&out).is_empty(), "scheduled once, when subscribed");
    let out = call(
        &mut a,
        set(
            false,
            &[(
                "Device.LocalAgent.Controller.1.",
                &[("PeriodicNotifInterval", "30", true)],
            )],
        ),
    );
    let (after, timer) = wakes(&out)[0];
    assert_eq!(after, Duration::from_secs(30));
    clock_to(30_000);
    let out = a.wake(timer);
    let n = notifies(&out);
    let Some(pb::notify::Notification::Event(e)) = &n[0].notification else {
        panic!("{n:?}")
    };
    assert_eq!(
        (e.obj_path.as_str(), e.event_name.as_str()),
        ("Device.LocalAgent.", "Periodic!")
    );
    let (after, next) = wakes(&out)[0];
    assert_eq!(after, Duration::from_secs(30));
    // No subscriber any more: the pending timer does nothing.
    call(&mut a, delete(false, &[&sub]));
    clock_to(60_000);
    assert!(a.wake(next).is_empty());
}

#[test]
fn trace_route_uses_its_arguments_and_defaults() {
    let mut a = agent(&[]);
    let tr = "Device.IP.Diagnostics.TraceRoute()";
    let out = call(
        &mut a,
        operate(
            tr,
            "t",
            true,
            &[
                ("Host", "h"),
                ("ProtocolVersion", "IPv4"),
                ("NumberOfTries", "2"),
                ("Timeout", "100"),
            ],
        ),
    );
    let (after, timer) = wakes(&out)[0];
    assert_eq!(after, Duration::from_millis(200));
    subscription(
        &mut a,
        &[
            ("ID", "oc", false),
            ("Enable", "true", false),
            ("NotifType", "OperationComplete", false),
            ("ReferenceList", "Device.IP.Diagnostics.", false),
        ],
    );
    let n = notifies(&a.wake(timer));
    let Some(pb::notify::Notification::OperComplete(c)) = &n[0].notification else {
        panic!("{n:?}")
    };
    let Some(pb::notify::operation_complete::OperationResp::ReqOutputArgs(o)) = &c.operation_resp
    else {
        panic!()
    };
    assert_eq!(o.output_args["RouteHops.1.RTTimes"], "0,0");
    assert_eq!(o.output_args["RouteHops.1.Host"], "h");
    assert_eq!(o.output_args["Status"], "Error_NoRouteToHost");
    // Defaults: 3 x 5000 ms. Host and ProtocolVersion are mandatory.
    let out = call(
        &mut a,
        operate(tr, "d", true, &[("Host", "h"), ("ProtocolVersion", "Any")]),
    );
    assert_eq!(wakes(&out)[0].0, Duration::from_millis(15_000));
    let RespType::OperateResp(r) = resp(&call(&mut a, operate(tr, "m", true, &[("Host", "h")])))
    else {
        panic!()
    };
    use pb::operate_resp::operation_result::OperationResp as R;
    assert!(
        matches!(&r.operation_results[0].operation_resp, Some(R::CmdFailure(f)) if f.err_code == 7027)
    );
}

#[test]
fn reboot_arguments_reach_boot() {
    let mut a = agent(&[]);
    subscription(
        &mut a,
        &[
            ("ID", "boot", false),
            ("Enable", "true", false),
            ("NotifType", "Event", false),
            ("ReferenceList", "Device.Boot!", false),
            ("Persistent", "true", false),
        ],
    );
    let boot = |a: &mut Agent| {
        a.reboot();
        let n = notifies(&a.boot());
        let Some(pb::notify::Notification::Event(e)) = &n[0].notification else {
            panic!("{n:?}")
        };
        e.params.clone()
    };
    call(&mut a, operate("Device.Reboot()", "k1", false, &[]));
    let p = boot(&mut a);
    assert_eq!(
        (p["Cause"].as_str(), p["Reason"].as_str()),
        ("RemoteReboot", "Unknown")
    );
    call(
        &mut a,
        operate(
            "Device.Reboot()",
            "k2",
            false,
            &[("Cause", "LocalReboot"), ("Reason", "test")],
        ),
    );
    let p = boot(&mut a);
    assert_eq!(
        (
            p["Cause"].as_str(),
            p["Reason"].as_str(),
            p["CommandKey"].as_str()
        ),
        ("LocalReboot", "test", "k2")
    );
}

// ---------------------------------------------------------------- per fault

#[test]
fn fault_ignore_allow_partial() {
    let mut a = agent(&[Fault::IgnoreAllowPartial]);
    let out = call(
        &mut a,
        add(
            false,
            &[(SUBS, &[]), ("Device.LocalAgent.InvalidObject.", &[])],
        ),
    );
    let s = add_statuses(&out); // a response, not an Error (breaks 1.6)
    assert!(matches!(s[0], AddStatus::OperSuccess(_)));
    assert!(matches!(&s[1], AddStatus::OperFailure(f) if f.err_code == 7026));
    let out = call(&mut a, delete(false, &["Device.LocalAgent.InvalidObject."]));
    assert!(matches!(&del_statuses(&out)[0], DelStatus::OperFailure(_))); // breaks 1.26
}

#[test]
fn fault_create_despite_required_failure() {
    let mut a = agent(&[Fault::CreateDespiteRequiredFailure]);
    let out = call(
        &mut a,
        add(
            true,
            &[(
                SUBS,
                &[("Enable", "InvalidValue", true), ("ID", "add8", false)],
            )],
        ),
    );
    assert!(
        matches!(&add_statuses(&out)[0], AddStatus::OperSuccess(s) if s.param_errs[0].param == "Enable")
    );
    let out = call(
        &mut a,
        add(
            false,
            &[(
                SUBS,
                &[("Enable", "InvalidValue", true), ("ID", "add3", false)],
            )],
        ),
    );
    assert_eq!(
        error(&out).param_errs[0].param_path,
        "Device.LocalAgent.Subscription.Enable"
    );
    assert_eq!(subscriptions(&mut a).len(), 2); // breaks 1.3 / 1.8 metric "not created"
}

#[test]
fn fault_no_unique_keys() {
    let mut a = agent(&[Fault::NoUniqueKeys]);
    let out = call(&mut a, add(false, &[(SUBS, &[("ID", "x", false)])]));
    assert!(
        matches!(&add_statuses(&out)[0], AddStatus::OperSuccess(s) if s.unique_keys.is_empty())
    );
}

#[test]
fn fault_set_not_persisted() {
    let mut a = agent(&[Fault::SetNotPersisted]);
    let sub = subscription(&mut a, &[]);
    let out = call(
        &mut a,
        set(false, &[(&sub, &[("NotifRetry", "true", true)])]),
    );
    assert!(
        matches!(&set_statuses(&out)[0], SetStatus::OperSuccess(s) if s.updated_inst_results[0].updated_params["NotifRetry"] == "true")
    );
    assert_eq!(value(&mut a, &format!("{sub}NotifRetry")).unwrap(), "false");
}

#[test]
fn fault_non_required_fails_object() {
    let mut a = agent(&[Fault::NonRequiredFailsObject]);
    let sub = subscription(&mut a, &[]);
    let out = call(
        &mut a,
        set(
            true,
            &[(
                &sub,
                &[
                    ("NotifRetry", "true", false),
                    ("InvalidParameter", "x", false),
                ],
            )],
        ),
    );
    assert!(matches!(&set_statuses(&out)[0], SetStatus::OperFailure(_))); // breaks 1.17
    assert_eq!(value(&mut a, &format!("{sub}NotifRetry")).unwrap(), "false");
    let out = call(
        &mut a,
        add(true, &[(SUBS, &[("NotifRetry", "maybe", false)])]),
    );
    assert!(matches!(&add_statuses(&out)[0], AddStatus::OperFailure(_)));
}

#[test]
fn fault_no_unique_key_addressing() {
    let mut a = agent(&[Fault::NoUniqueKeyAddressing]);
    subscription(&mut a, &[("Alias", "k1", false)]);
    let r = get_results(&call(
        &mut a,
        get(
            &[r#"Device.LocalAgent.Subscription.[Alias=="k1"].Enable"#],
            0,
        ),
    ));
    assert_eq!(r[0].err_code, 7008); // breaks 1.43
    let r = get_results(&call(
        &mut a,
        get(
            &["Device.LocalAgent.Subscription.[Enable==false].Enable"],
            0,
        ),
    ));
    assert_eq!(r[0].err_code, 0); // plain searches still work
}

#[test]
fn fault_search_ignores_expression() {
    let mut a = agent(&[Fault::SearchIgnoresExpression]);
    subscription(&mut a, &[("Enable", "true", false)]);
    subscription(&mut a, &[("Enable", "false", false)]);
    let r = get_results(&call(
        &mut a,
        get(&["Device.LocalAgent.Subscription.[Enable==true]."], 0),
    ));
    assert_eq!(r[0].resolved_path_results.len(), 2); // breaks 1.46
}

#[test]
fn fault_search_off_by_one() {
    let mut a = agent(&[Fault::SearchOffByOne]);
    subscription(&mut a, &[("NotifExpiration", "10", false)]);
    subscription(&mut a, &[("NotifExpiration", "20", false)]);
    let r = get_results(&call(
        &mut a,
        get(&["Device.LocalAgent.Subscription.[NotifExpiration>10]."], 0),
    ));
    assert_eq!(r[0].resolved_path_results.len(), 2); // breaks 1.48
}

#[test]
fn fault_delete_not_done() {
    let mut a = agent(&[Fault::DeleteNotDone]);
    let sub = subscription(&mut a, &[]);
    let out = call(&mut a, delete(false, &[&sub]));
    assert!(
        matches!(&del_statuses(&out)[0], DelStatus::OperSuccess(s) if s.affected_paths == [sub.clone()])
    );
    assert_eq!(subscriptions(&mut a), [sub]); // breaks 1.24
}

#[test]
fn fault_delete_missing_is_error() {
    let mut a = agent(&[Fault::DeleteMissingIsError]);
    assert_eq!(
        error(&call(
            &mut a,
            delete(false, &["Device.LocalAgent.Subscription.77."])
        ))
        .err_code,
        7016
    );
    let out = call(
        &mut a,
        delete(true, &["Device.LocalAgent.Subscription.77."]),
    );
    assert!(matches!(&del_statuses(&out)[0], DelStatus::OperFailure(f) if f.err_code == 7016));
}

#[test]
fn fault_get_absolute_keys() {
    let mut a = agent(&[Fault::GetAbsoluteKeys]);
    let r = get_results(&call(&mut a, get(&["Device.LocalAgent.EndpointID"], 0)));
    assert!(
        r[0].resolved_path_results[0]
            .result_params
            .contains_key("Device.LocalAgent.EndpointID")
    );
}

#[test]
fn fault_get_resolved_path_is_param() {
    let mut a = agent(&[Fault::GetResolvedPathIsParam]);
    let r = get_results(&call(&mut a, get(&["Device.LocalAgent.EndpointID"], 0)));
    assert_eq!(
        r[0].resolved_path_results[0].resolved_path,
        "Device.LocalAgent.EndpointID"
    );
}

#[test]
fn fault_get_invalid_param_error() {
    let mut a = agent(&[Fault::GetInvalidParamError]);
    let e = error(&call(
        &mut a,
        get(
            &[
                "Device.LocalAgent.EndpointID",
                "Device.LocalAgent.InvalidParameter",
            ],
            0,
        ),
    ));
    assert_eq!(e.err_code, 7026);
}

#[test]
fn fault_wrong_error_code() {
    let mut a = agent(&[Fault::WrongErrorCode]);
    let r = get_results(&call(
        &mut a,
        get(
            &[
                "Device.LocalAgent.InvalidParameter",
                "Device.LocalAgent.EndpointID",
            ],
            0,
        ),
    ));
    assert_eq!((r[0].err_code, r[1].err_code), (7003, 0));
    let e = error(&call(
        &mut a,
        add(false, &[(SUBS, &[("Enable", "InvalidValue", true)])]),
    ));
    assert_eq!((e.err_code, e.param_errs[0].err_code), (7003, 7003));
    let out = call(&mut a, delete(true, &["Device.LocalAgent.InvalidObject."]));
    assert!(matches!(&del_statuses(&out)[0], DelStatus::OperFailure(f) if f.err_code == 7003));
}

#[test]
fn fault_drop_notification() {
    let mut a = agent(&[Fault::DropNotification]);
    subscription(
        &mut a,
        &[
            ("ID", "oc", false),
            ("Enable", "true", false),
            ("NotifType", "ObjectCreation", false),
            ("ReferenceList", SUBS, false),
        ],
    );
    let out = call(&mut a, add(false, &[(SUBS, &[])]));
    assert!(notifies(&out).is_empty());
    let out = call(
        &mut a,
        operate(
            "Device.LocalAgent.Controller.1.SendOnBoardRequest()",
            "",
            true,
            &[],
        ),
    );
    assert!(notifies(&out).is_empty() && wakes(&out).is_empty());
}

#[test]
fn io_faults_do_not_change_messages() {
    let mut plain = agent(&[]);
    let mut io = agent(&[
        Fault::WrongMsgId,
        Fault::LateResponse,
        Fault::MalformedRecord,
        Fault::WrongToId,
    ]);
    let r = get(&["Device.LocalAgent."], 0);
    assert_eq!(call(&mut plain, r.clone()), call(&mut io, r));
    assert!(io.has_fault(Fault::WrongToId) && !plain.has_fault(Fault::WrongToId));
}

#[test]
fn fault_set_unknown_param_kept() {
    let mut a = agent(&[Fault::SetUnknownParamKept]);
    let sub = subscription(&mut a, &[]);
    let out = call(
        &mut a,
        set(false, &[(&sub, &[("InvalidParameter", "v", true)])]),
    );
    assert_eq!(error(&out).param_errs.len(), 1);
    let r = get_results(&call(&mut a, get(&["Device.LocalAgent.Subscription."], 0)));
    let params = &r[0].resolved_path_results[0].result_params;
    assert_eq!(
        params.get("InvalidParameter").map(String::as_str),
        Some("v")
    ); // breaks 1.20
}
