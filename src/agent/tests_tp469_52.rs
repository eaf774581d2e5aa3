//! TP-469 section 1, cases 1.52 to 1.107 (notifications, Operate, GetInstances,
//! GetSupportedDM, GetSupportedProtocol and the path-name corner cases), walked at the
//! handler level like 1.1 to 1.51 in `tests_tp469`, which registers them in its case table
//! and fault matrix. Timed metrics (retries, TimeToLive, Periodic!, OnBoardingRestartTime,
//! command completion) run on the test clock through [`Sim`], which fires the agent's
//! [`Outgoing::Wake`] timers as the I/O loop would.

use super::tests::*;
use super::{Agent, Outgoing};
use crate::usp::pb::{
    self, body::MsgBody, get_supported_dm_resp as gsdm, header::MsgType, notify::Notification,
    request::ReqType, response::RespType,
};

const C1: &str = "Device.LocalAgent.Controller.1.";
const PROVISIONING: &str = "Device.LocalAgent.Controller.1.ProvisioningCode";
const SECOND: &str = "proto::uspcheck-second-controller";

type Setting<'a> = (&'a str, &'a str, bool);

fn add_ok(
    out: &[Outgoing],
) -> Vec<pb::add_resp::created_object_result::operation_status::OperationSuccess> {
    add_statuses(out)
        .into_iter()
        .map(|s| match s {
            AddStatus::OperSuccess(s) => s,
            other => panic!("expected oper_success, got {other:?}"),
        })
        .collect()
}

fn assert_set_ok(out: &[Outgoing]) {
    for s in set_statuses(out) {
        assert!(matches!(s, SetStatus::OperSuccess(_)), "{s:?}");
    }
}

/// The Notify messages among `out`, whole (for their msg_id).
fn notify_msgs(out: &[Outgoing]) -> Vec<pb::Msg> {
    sent(out)
        .into_iter()
        .filter(|m| notify_of(m).is_some())
        .cloned()
        .collect()
}

fn notify_of(m: &pb::Msg) -> Option<pb::Notify> {
    match m.body.as_ref()?.msg_body.as_ref()? {
        MsgBody::Request(pb::Request {
            req_type: Some(ReqType::Notify(n)),
        }) => Some(n.clone()),
        _ => None,
    }
}

fn msg_id(m: &pb::Msg) -> String {
    m.header
        .as_ref()
        .map(|h| h.msg_id.clone())
        .unwrap_or_default()
}

/// The harness controller answers Notify `m` with a NotifyResp.
fn ack(a: &mut Agent, sim: &mut Sim, m: &pb::Msg) {
    let n = notify_of(m).expect("a Notify");
    let resp = super::handler::msg(
        &msg_id(m),
        MsgType::NotifyResp,
        MsgBody::Response(pb::Response {
            resp_type: Some(RespType::NotifyResp(pb::NotifyResp {
                subscription_id: n.subscription_id,
            })),
        }),
    );
    let out = a.handle(CTRL, resp);
    sim.take(out);
}

fn value_change(n: &pb::Notify) -> (&str, &str) {
    match &n.notification {
        Some(Notification::ValueChange(v)) => (&v.param_path, &v.param_value),
        other => panic!("expected value_change, got {other:?}"),
    }
}

fn on_board(n: &pb::Notify) -> &pb::notify::OnBoardRequest {
    match &n.notification {
        Some(Notification::OnBoardReq(o)) => o,
        other => panic!("expected on_board_req, got {other:?}"),
    }
}

fn oper_complete(n: &pb::Notify) -> &pb::notify::OperationComplete {
    match &n.notification {
        Some(Notification::OperComplete(c)) => c,
        other => panic!("expected oper_complete, got {other:?}"),
    }
}

/// Setup step "set ProvisioningCode to a value that is not TestValueNN".
fn provisioning_setup(a: &mut Agent) {
    assert_set_ok(&call(
        a,
        set(false, &[(C1, &[("ProvisioningCode", "Initial", true)])]),
    ));
}

/// The ValueChange Subscription on ProvisioningCode the 1.52-1.56 and 1.93/1.94 cases add,
/// with NotifRetry true and `extra` settings.
fn provisioning_sub(a: &mut Agent, sim: &mut Sim, id: &str, extra: &[Setting]) -> String {
    let mut settings: Vec<Setting> = vec![
        ("Enable", "true", false),
        ("ID", id, false),
        ("NotifType", "ValueChange", false),
        ("ReferenceList", PROVISIONING, true),
        ("NotifRetry", "true", false),
    ];
    settings.extend_from_slice(extra);
    let out = sim.call(a, add(false, &[(SUBS, &settings)]));
    add_ok(&out)[0].instantiated_path.clone()
}

fn set_provisioning(a: &mut Agent, sim: &mut Sim, v: &str) -> Vec<Outgoing> {
    let out = sim.call(a, set(false, &[(C1, &[("ProvisioningCode", v, true)])]));
    assert_set_ok(&out);
    out
}

/// A subscription (NotifRetry false) of `notif_type` on `reference`.
fn sub_on(a: &mut Agent, id: &str, notif_type: &str, reference: &str, extra: &[Setting]) -> String {
    let mut settings: Vec<Setting> = vec![
        ("Enable", "true", false),
        ("ID", id, false),
        ("NotifType", notif_type, false),
        ("ReferenceList", reference, true),
    ];
    settings.extend_from_slice(extra);
    subscription(a, &settings)
}

pub(super) fn case_1_52(a: &mut Agent) {
    let mut sim = Sim::default();
    provisioning_setup(a);
    provisioning_sub(a, &mut sim, "notify52", &[]);
    let out = set_provisioning(a, &mut sim, "TestValue52");
    let n = notify_msgs(&out);
    assert_eq!(n.len(), 1);
    let notify = notify_of(&n[0]).unwrap();
    assert_eq!(notify.subscription_id, "notify52");
    assert!(notify.send_resp);
    assert_eq!(value_change(&notify), (PROVISIONING, "TestValue52"));
    ack(a, &mut sim, &n[0]);
}

pub(super) fn case_1_53(a: &mut Agent) {
    let mut sim = Sim::default();
    provisioning_setup(a);
    let sub = provisioning_sub(a, &mut sim, "notify53", &[]);
    let out = set_provisioning(a, &mut sim, "TestValue53");
    let n = notify_msgs(&out);
    assert_eq!(n.len(), 1);
    ack(a, &mut sim, &n[0]);
    let out = sim.call(a, delete(false, &[&sub]));
    match &del_statuses(&out)[0] {
        DelStatus::OperSuccess(s) => assert_eq!(s.affected_paths, [sub]),
        other => panic!("{other:?}"),
    }
    let out = set_provisioning(a, &mut sim, "notify53-2");
    assert!(notify_msgs(&out).is_empty());
    let later = sim.run(a, 20_000);
    assert!(
        later.iter().all(|(_, m)| notify_of(m).is_none()),
        "{later:?}"
    );
}

pub(super) fn case_1_54(a: &mut Agent) {
    let mut sim = Sim::default();
    provisioning_setup(a);
    provisioning_sub(a, &mut sim, "notify54", &[]);
    let out = set_provisioning(a, &mut sim, "TestValue54");
    let first = notify_msgs(&out).remove(0);
    let id = msg_id(&first);
    // No NotifyResp: wait 10 s, then 20 s more.
    let retries: Vec<(u64, pb::Msg)> = sim
        .run(a, 30_000)
        .into_iter()
        .filter(|(_, m)| notify_of(m).is_some())
        .collect();
    assert!(retries.len() >= 2, "{} retries", retries.len());
    assert!(retries.iter().all(|(_, m)| msg_id(m) == id));
    let (t1, t2) = (retries[0].0, retries[1].0);
    assert!((5_000..=10_000).contains(&t1), "first retry after {t1} ms");
    assert!(
        (10_000..=20_000).contains(&(t2 - t1)),
        "second retry {} ms later",
        t2 - t1
    );
    ack(a, &mut sim, &retries[1].1);
    let after_ack = sim.run(a, 60_000);
    assert!(after_ack.is_empty(), "{after_ack:?}");
}

pub(super) fn case_1_55(a: &mut Agent) {
    let mut sim = Sim::default();
    provisioning_setup(a);
    let sub = provisioning_sub(a, &mut sim, "notify55", &[("TimeToLive", "20", false)]);
    let out = set_provisioning(a, &mut sim, "TestValue55");
    let n = notify_msgs(&out);
    assert_eq!(n.len(), 1);
    ack(a, &mut sim, &n[0]);
    sim.run(a, 20_000);
    assert!(!subscriptions(a).contains(&sub));
    let out = set_provisioning(a, &mut sim, "TestValue55-2");
    assert!(notify_msgs(&out).is_empty());
    assert!(sim.run(a, 10_000).is_empty());
}

/// TP-469 1.55 on a busy machine: the I/O loop's Expire timer may wake late, but a request
/// that comes once the TimeToLive has run out never sees the Subscription.
#[test]
fn time_to_live_is_honoured_before_a_late_timer_wakes() {
    let mut a = agent(&[]);
    let mut sim = Sim::default();
    provisioning_setup(&mut a);
    let sub = provisioning_sub(&mut a, &mut sim, "ttl-late", &[("TimeToLive", "20", false)]);
    clock_to(elapsed_ms() + 19_999);
    assert!(subscriptions(&mut a).contains(&sub));
    clock_to(elapsed_ms() + 1); // 20 s after the Add; no timer has been fired
    assert!(!subscriptions(&mut a).contains(&sub));
}

pub(super) fn case_1_56(a: &mut Agent) {
    let mut sim = Sim::default();
    provisioning_setup(a);
    provisioning_sub(a, &mut sim, "notify56", &[("NotifExpiration", "20", false)]);
    let start = elapsed_ms();
    let out = set_provisioning(a, &mut sim, "TestValue56");
    assert_eq!(notify_msgs(&out).len(), 1);
    let retries: Vec<u64> = sim
        .run(a, 60_000)
        .into_iter()
        .filter(|(_, m)| notify_of(m).is_some())
        .map(|(t, _)| t - start)
        .collect();
    assert!(!retries.is_empty() && retries[0] <= 20_000, "{retries:?}");
    assert!(retries.iter().all(|t| *t <= 20_000), "{retries:?}");
}

pub(super) fn case_1_57(a: &mut Agent) {
    let mut sim = Sim::default();
    let out = sim.call(
        a,
        add(
            false,
            &[(
                SUBS,
                &[
                    ("Enable", "true", false),
                    ("ID", "notify57", false),
                    ("NotifType", "ObjectCreation", false),
                    ("ReferenceList", SUBS, true),
                    ("NotifRetry", "true", false),
                ],
            )],
        ),
    );
    add_ok(&out);
    assert!(notify_msgs(&out).is_empty()); // not about its own creation
    let out = sim.call(
        a,
        add(
            false,
            &[(
                SUBS,
                &[
                    ("Enable", "true", false),
                    ("ID", "notify57-2", false),
                    ("NotifType", "ValueChange", false),
                    ("ReferenceList", PROVISIONING, true),
                    ("NotifRetry", "true", false),
                ],
            )],
        ),
    );
    let created = add_ok(&out)[0].instantiated_path.clone();
    let n = notify_msgs(&out);
    assert_eq!(n.len(), 1);
    let notify = notify_of(&n[0]).unwrap();
    assert_eq!(notify.subscription_id, "notify57");
    let Some(Notification::ObjCreation(c)) = &notify.notification else {
        panic!("{notify:?}")
    };
    assert_eq!(c.obj_path, created);
    assert_eq!(c.unique_keys["ID"], "notify57-2");
    assert_eq!(c.unique_keys["Recipient"], C1);
    ack(a, &mut sim, &n[0]);
}

pub(super) fn case_1_58(a: &mut Agent) {
    let mut sim = Sim::default();
    let setup = subscription(a, &[("ID", "setup58", false)]);
    let out = sim.call(
        a,
        add(
            false,
            &[(
                SUBS,
                &[
                    ("Enable", "true", false),
                    ("ID", "notify58", false),
                    ("NotifType", "ObjectDeletion", false),
                    ("ReferenceList", SUBS, true),
                    ("NotifRetry", "true", false),
                ],
            )],
        ),
    );
    add_ok(&out);
    let out = sim.call(a, delete(false, &[&setup]));
    assert!(matches!(&del_statuses(&out)[0], DelStatus::OperSuccess(_)));
    let n = notify_msgs(&out);
    assert_eq!(n.len(), 1);
    let notify = notify_of(&n[0]).unwrap();
    assert_eq!(notify.subscription_id, "notify58");
    assert_eq!(
        notify.notification,
        Some(Notification::ObjDeletion(pb::notify::ObjectDeletion {
            obj_path: setup
        }))
    );
    ack(a, &mut sim, &n[0]);
}

pub(super) fn case_1_59(a: &mut Agent) {
    let mut sim = Sim::default();
    let out = sim.call(
        a,
        set(
            false,
            &[(
                C1,
                &[
                    ("PeriodicNotifInterval", "60", false),
                    ("PeriodicNotifTime", "2019-01-01T00:00:00Z", false),
                ],
            )],
        ),
    );
    assert_set_ok(&out);
    let out = sim.call(
        a,
        add(
            false,
            &[(
                SUBS,
                &[
                    ("Enable", "true", false),
                    ("ID", "sub-103", false),
                    ("NotifType", "Event", false),
                    ("ReferenceList", "Device.LocalAgent.Periodic!", false),
                ],
            )],
        ),
    );
    add_ok(&out);
    let events: Vec<u64> = sim
        .run(a, 200_000)
        .into_iter()
        .filter_map(|(t, m)| {
            let n = notify_of(&m)?;
            match n.notification {
                Some(Notification::Event(e)) => {
                    assert_eq!(n.subscription_id, "sub-103");
                    assert_eq!(
                        (e.obj_path.as_str(), e.event_name.as_str()),
                        ("Device.LocalAgent.", "Periodic!")
                    );
                    Some(t)
                }
                _ => None,
            }
        })
        .collect();
    assert!(events.len() >= 2, "{events:?}");
    // PeriodicNotifTime is a whole minute: the first falls on the next one (40 s in).
    assert_eq!(events[0], 40_000);
    assert!(
        (56_000..=64_000).contains(&(events[1] - events[0])),
        "{events:?}"
    );
}

pub(super) fn case_1_60(a: &mut Agent) {
    let mut sim = Sim::default();
    let out = sim.call(
        a,
        operate(&format!("{C1}SendOnBoardRequest()"), "test60", false, &[]),
    );
    let msgs = sent(&out);
    assert!(
        msgs.iter().all(|m| notify_of(m).is_some()),
        "no OperateResp"
    );
    let n = notify_msgs(&out);
    assert_eq!(n.len(), 1);
    let notify = notify_of(&n[0]).unwrap();
    assert_eq!(notify.subscription_id, "");
    let o = on_board(&notify);
    assert!(!o.oui.is_empty() && !o.product_class.is_empty() && !o.serial_number.is_empty());
    assert!(o.agent_supported_protocol_versions.contains("1."));
    ack(a, &mut sim, &n[0]);
}

/// The Boot! subscription the reboot walks use to see the agent come back.
fn boot_sub(a: &mut Agent) {
    sub_on(
        a,
        "boot",
        "Event",
        "Device.Boot!",
        &[("Persistent", "true", false)],
    );
}

fn reboots_and_boots(a: &mut Agent, out: &[Outgoing], key: &str) {
    assert_eq!(out.last(), Some(&Outgoing::Reboot), "the agent must reboot");
    a.reboot();
    let n = notifies(&a.boot());
    assert_eq!(n.len(), 1);
    let Some(Notification::Event(e)) = &n[0].notification else {
        panic!("{n:?}")
    };
    assert_eq!(e.event_name, "Boot!");
    assert_eq!(e.params["CommandKey"], key);
    assert_eq!(e.params["Cause"], "RemoteReboot");
}

pub(super) fn case_1_61(a: &mut Agent) {
    boot_sub(a);
    let out = call(a, operate("Device.Reboot()", "test61", true, &[]));
    let RespType::OperateResp(r) = resp(&out) else {
        panic!()
    };
    assert_eq!(r.operation_results.len(), 1);
    assert_eq!(r.operation_results[0].executed_command, "Device.Reboot()");
    use pb::operate_resp::operation_result::OperationResp as R;
    assert_eq!(
        r.operation_results[0].operation_resp,
        Some(R::ReqOutputArgs(Default::default()))
    );
    reboots_and_boots(a, &out, "test61");
}

pub(super) fn case_1_62(a: &mut Agent) {
    boot_sub(a);
    let out = call(a, operate("Device.Reboot()", "test62", false, &[]));
    assert!(sent(&out).is_empty());
    reboots_and_boots(a, &out, "test62");
}

/// 1.64/1.65 (and 1.79, 1.92): an OperationComplete subscription on `command`, the Operate,
/// the OperateResp's Request path when `send_resp`, and the OperationComplete with its time.
fn run_async(
    a: &mut Agent,
    command: &str,
    key: &str,
    send_resp: bool,
    args: &[(&str, &str)],
) -> (u64, pb::notify::OperationComplete) {
    let mut sim = Sim::default();
    sub_on(a, "oc", "OperationComplete", command, &[]);
    let start = elapsed_ms();
    let out = sim.call(a, operate(command, key, send_resp, args));
    use pb::operate_resp::operation_result::OperationResp as R;
    if send_resp {
        let RespType::OperateResp(r) = resp(&out) else {
            panic!()
        };
        assert_eq!(r.operation_results.len(), 1);
        assert_eq!(r.operation_results[0].executed_command, command);
        let Some(R::ReqObjPath(req)) = &r.operation_results[0].operation_resp else {
            panic!("{r:?}")
        };
        assert!(req.starts_with("Device.LocalAgent.Request."), "{req}");
        assert!(value(a, &format!("{req}Status")).is_some()); // the Request exists
    } else {
        assert!(
            sent(&out).iter().all(|m| notify_of(m).is_some()),
            "no OperateResp with send_resp false"
        );
    }
    let done: Vec<(u64, pb::notify::OperationComplete)> = sim
        .run(a, 300_000)
        .into_iter()
        .filter_map(|(t, m)| Some((t - start, oper_complete(&notify_of(&m)?).clone())))
        .collect();
    assert_eq!(done.len(), 1, "{done:?}");
    let (t, c) = done[0].clone();
    let (obj, name) = command.split_at(command.rfind('.').unwrap() + 1);
    assert_eq!((c.obj_path.as_str(), c.command_name.as_str()), (obj, name));
    assert_eq!(c.command_key, key);
    (t, c)
}

pub(super) fn case_1_64(a: &mut Agent) {
    run_async(
        a,
        "Device.ScheduleTimer()",
        "test64",
        true,
        &[("DelaySeconds", "5")],
    );
}

pub(super) fn case_1_65(a: &mut Agent) {
    run_async(
        a,
        "Device.ScheduleTimer()",
        "test65",
        false,
        &[("DelaySeconds", "5")],
    );
}

fn get_instances(
    a: &mut Agent,
    paths: &[&str],
    first_level_only: bool,
) -> Vec<pb::get_instances_resp::RequestedPathResult> {
    let out = call(
        a,
        ReqType::GetInstances(pb::GetInstances {
            obj_paths: paths.iter().map(|s| s.to_string()).collect(),
            first_level_only,
        }),
    );
    let RespType::GetInstancesResp(r) = resp(&out) else {
        panic!("not a GetInstancesResp")
    };
    assert_eq!(r.req_path_results.len(), paths.len());
    for (r, p) in r.req_path_results.iter().zip(paths) {
        assert_eq!(r.requested_path, *p);
    }
    r.req_path_results
}

fn inst_paths(r: &pb::get_instances_resp::RequestedPathResult) -> Vec<&str> {
    r.curr_insts
        .iter()
        .map(|c| c.instantiated_obj_path.as_str())
        .collect()
}

/// True if `path` is `table` followed by one instance number.
fn is_instance_of(path: &str, table: &str) -> bool {
    path.strip_prefix(table)
        .and_then(|rest| rest.strip_suffix('.'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn boot_parameter(a: &mut Agent, name: &str) -> String {
    let out = call(
        a,
        add(
            false,
            &[(
                "Device.LocalAgent.Controller.1.BootParameter.",
                &[("Enable", "true", false), ("ParameterName", name, false)],
            )],
        ),
    );
    add_ok(&out)[0].instantiated_path.clone()
}

pub(super) fn case_1_66(a: &mut Agent) {
    let r = get_instances(a, &["Device.LocalAgent.Controller."], true);
    assert_eq!(r[0].err_code, 0);
    let paths = inst_paths(&r[0]);
    assert!(!paths.is_empty());
    for p in paths {
        assert!(is_instance_of(p, "Device.LocalAgent.Controller."), "{p}");
    }
}

pub(super) fn case_1_67(a: &mut Agent) {
    let bp = boot_parameter(a, "Device.LocalAgent.EndpointID");
    let r = get_instances(a, &["Device.LocalAgent.Controller."], false);
    assert_eq!(r[0].err_code, 0);
    let paths = inst_paths(&r[0]);
    for want in [C1, "Device.LocalAgent.Controller.1.MTP.1.", bp.as_str()] {
        assert!(paths.contains(&want), "{want} missing from {paths:?}");
    }
    assert!(r[0].curr_insts.iter().all(|c| !c.unique_keys.is_empty()));
}

pub(super) fn case_1_68(a: &mut Agent) {
    let tables = ["Device.LocalAgent.Controller.", "Device.LocalAgent.MTP."];
    let r = get_instances(a, &tables, true);
    for (r, t) in r.iter().zip(tables) {
        assert_eq!(r.err_code, 0);
        let paths = inst_paths(r);
        assert!(!paths.is_empty(), "{t}");
        assert!(paths.iter().all(|p| is_instance_of(p, t)), "{paths:?}");
    }
}

pub(super) fn case_1_70(a: &mut Agent) {
    let r = get_instances(a, &["Device.LocalAgent.Controller.*.MTP."], true);
    assert_eq!(r[0].err_code, 0);
    let paths = inst_paths(&r[0]);
    assert!(
        paths.contains(&"Device.LocalAgent.Controller.1.MTP.1."),
        "{paths:?}"
    );
}

pub(super) fn case_1_71(a: &mut Agent) {
    let bp = boot_parameter(a, "Device.LocalAgent.EndpointID");
    let r = get_instances(
        a,
        &[r#"Device.LocalAgent.Controller.[Alias=="cpe-1"].BootParameter."#],
        false,
    );
    assert_eq!(r[0].err_code, 0);
    assert_eq!(inst_paths(&r[0]), [bp.as_str()]);
}

fn supported_dm(
    a: &mut Agent,
    paths: &[&str],
    first_level_only: bool,
    [commands, events, params, keys]: [bool; 4],
) -> Vec<gsdm::RequestedObjectResult> {
    let out = call(
        a,
        ReqType::GetSupportedDm(pb::GetSupportedDm {
            obj_paths: paths.iter().map(|s| s.to_string()).collect(),
            first_level_only,
            return_commands: commands,
            return_events: events,
            return_params: params,
            return_unique_key_sets: keys,
        }),
    );
    let RespType::GetSupportedDmResp(r) = resp(&out) else {
        panic!("not a GetSupportedDMResp")
    };
    assert_eq!(r.req_obj_results.len(), paths.len());
    for (r, p) in r.req_obj_results.iter().zip(paths) {
        assert_eq!(r.req_obj_path, *p);
    }
    r.req_obj_results
}

const ALL: [bool; 4] = [true; 4];
const NONE: [bool; 4] = [false; 4];

fn obj<'a>(r: &'a gsdm::RequestedObjectResult, path: &str) -> &'a gsdm::SupportedObjectResult {
    r.supported_objs
        .iter()
        .find(|o| o.supported_obj_path == path)
        .unwrap_or_else(|| panic!("{path} not reported"))
}

fn has_details(o: &gsdm::SupportedObjectResult) -> bool {
    !o.supported_params.is_empty()
        || !o.supported_commands.is_empty()
        || !o.supported_events.is_empty()
        || !o.unique_key_sets.is_empty()
}

/// Metrics "each SupportedParamResult / CommandResult / EventResult / UniqueKeySet contains
/// ... with valid information".
fn assert_well_formed(r: &gsdm::RequestedObjectResult) {
    assert_eq!(r.err_code, 0);
    assert!(!r.data_model_inst_uri.is_empty());
    for o in &r.supported_objs {
        for p in &o.supported_params {
            assert!(
                !p.param_name.is_empty() && !p.param_name.contains('.'),
                "{p:?}"
            );
            assert_ne!(
                p.value_type,
                gsdm::ParamValueType::ParamUnknown as i32,
                "{p:?}"
            );
        }
        for c in &o.supported_commands {
            assert!(c.command_name.ends_with("()"), "{c:?}");
            assert_ne!(c.command_type, gsdm::CmdType::CmdUnknown as i32, "{c:?}");
            assert!(c.input_arg_names.iter().all(|n| !n.starts_with("Device.")));
        }
        for e in &o.supported_events {
            assert!(e.event_name.ends_with('!'), "{e:?}");
            assert!(e.arg_names.iter().all(|n| !n.starts_with("Device.")));
        }
        for k in &o.unique_key_sets {
            assert!(!k.key_names.is_empty());
            for name in &k.key_names {
                assert!(
                    o.supported_params.is_empty()
                        || o.supported_params.iter().any(|p| &p.param_name == name)
                );
            }
        }
        assert_eq!(o.is_multi_instance, o.supported_obj_path.ends_with("{i}."));
        if !o.is_multi_instance {
            assert!(o.unique_key_sets.is_empty(), "{}", o.supported_obj_path);
        }
    }
}

/// The supported paths one level below `parent` (names and `{i}` tables).
fn is_child(path: &str, parent: &str) -> bool {
    let Some(rest) = path.strip_prefix(parent) else {
        return false;
    };
    let rest = rest.strip_suffix("{i}.").unwrap_or(rest);
    !rest.is_empty() && rest.matches('.').count() == 1
}

pub(super) fn case_1_72(a: &mut Agent) {
    let r = &supported_dm(a, &["Device.LocalAgent."], false, ALL)[0];
    assert_well_formed(r);
    let la = obj(r, "Device.LocalAgent.");
    assert!(!la.supported_params.is_empty());
    assert!(
        la.supported_events
            .iter()
            .any(|e| e.event_name == "Periodic!")
    );
    let c = obj(r, "Device.LocalAgent.Controller.{i}.");
    assert!(
        c.supported_commands
            .iter()
            .any(|c| c.command_name == "SendOnBoardRequest()")
    );
    assert!(!c.supported_params.is_empty() && !c.unique_key_sets.is_empty());
    // Sub-objects all the way down, each with its details.
    let ws = obj(r, "Device.LocalAgent.Controller.{i}.MTP.{i}.WebSocket.");
    assert!(!ws.supported_params.is_empty());
    for o in &r.supported_objs {
        assert!(o.supported_obj_path.starts_with("Device.LocalAgent."));
        if o.is_multi_instance {
            assert!(!o.unique_key_sets.is_empty(), "{}", o.supported_obj_path);
        }
    }
    assert!(
        r.supported_objs
            .iter()
            .all(|o| !o.supported_params.is_empty())
    );
}

/// 1.73/1.74: the object and its immediate children, and nothing deeper.
fn assert_first_level(r: &gsdm::RequestedObjectResult, parent: &str) {
    assert_eq!(r.supported_objs[0].supported_obj_path, parent);
    for o in &r.supported_objs[1..] {
        assert!(
            is_child(&o.supported_obj_path, parent),
            "{} is not a child",
            o.supported_obj_path
        );
        assert!(
            o.supported_params.is_empty()
                && o.supported_commands.is_empty()
                && o.supported_events.is_empty(),
            "{}",
            o.supported_obj_path
        );
    }
    assert!(r.supported_objs.len() > 1);
}

pub(super) fn case_1_73(a: &mut Agent) {
    let r = &supported_dm(a, &["Device.LocalAgent."], true, ALL)[0];
    assert_well_formed(r);
    assert_first_level(r, "Device.LocalAgent.");
    let la = &r.supported_objs[0];
    assert!(!la.supported_params.is_empty() && !la.supported_events.is_empty());
    assert!(la.unique_key_sets.is_empty()); // single-instance
}

pub(super) fn case_1_74(a: &mut Agent) {
    let r = &supported_dm(a, &["Device.LocalAgent."], true, NONE)[0];
    assert_well_formed(r);
    assert_first_level(r, "Device.LocalAgent.");
    assert!(r.supported_objs.iter().all(|o| !has_details(o)));
}

pub(super) fn case_1_75(a: &mut Agent) {
    let tables = ["Device.LocalAgent.Controller.", "Device.LocalAgent.MTP."];
    let r = supported_dm(a, &tables, true, ALL);
    for (r, t) in r.iter().zip(tables) {
        assert_well_formed(r);
        let me = format!("{t}{{i}}.");
        assert_first_level(r, &me);
        let o = &r.supported_objs[0];
        assert!(
            !o.supported_params.is_empty() && !o.unique_key_sets.is_empty(),
            "{me}"
        );
        for c in &r.supported_objs[1..] {
            if c.is_multi_instance {
                assert!(!c.unique_key_sets.is_empty(), "{}", c.supported_obj_path);
            }
        }
    }
    obj(
        &supported_dm(a, &["Device.LocalAgent.Controller."], true, ALL)[0],
        "Device.LocalAgent.Controller.{i}.BootParameter.{i}.",
    );
}

pub(super) fn case_1_76(a: &mut Agent) {
    let r = &supported_dm(a, &["Device."], false, ALL)[0];
    assert_well_formed(r);
    let root = obj(r, "Device.");
    for c in ["Reboot()", "ScheduleTimer()"] {
        assert!(
            root.supported_commands.iter().any(|x| x.command_name == c),
            "{c}"
        );
    }
    assert!(
        root.supported_events
            .iter()
            .any(|e| e.event_name == "Boot!")
    );
    let trace = obj(r, "Device.IP.Diagnostics.")
        .supported_commands
        .iter()
        .find(|c| c.command_name == "TraceRoute()")
        .expect("TraceRoute()");
    assert_eq!(trace.command_type, gsdm::CmdType::CmdAsync as i32);
    let bp = obj(r, "Device.LocalAgent.Controller.{i}.BootParameter.{i}.");
    assert!(!bp.supported_params.is_empty() && !bp.unique_key_sets.is_empty());
    assert!(
        obj(r, "Device.DeviceInfo.")
            .supported_params
            .iter()
            .any(|p| p.param_name == "SoftwareVersion")
    );
}

pub(super) fn case_1_77(a: &mut Agent) {
    let r = supported_dm(a, &["Device.LocalAgent.UnsupportedObject."], false, ALL);
    assert_ne!(r[0].err_code, 0);
    assert!(r[0].supported_objs.is_empty());
}

pub(super) fn case_1_78(a: &mut Agent) {
    // Setup: a second Controller, and a Subscription it creates.
    let out = call(
        a,
        add(
            false,
            &[(
                "Device.LocalAgent.Controller.",
                &[
                    ("EndpointID", SECOND, true),
                    ("Enable", "true", false),
                    ("OnBoardingComplete", "true", false),
                ],
            )],
        ),
    );
    let second = add_ok(&out)[0].instantiated_path.clone();
    let out = a.handle(
        SECOND,
        request(
            "from-second",
            add(
                false,
                &[(SUBS, &[("ID", "theirs", false), ("Enable", "true", false)])],
            ),
        ),
    );
    assert!(
        matches!(&out[0], Outgoing::Send { to, .. } if to == SECOND),
        "answered to the sender"
    );
    let theirs = add_ok(&out)[0].instantiated_path.clone();
    assert_eq!(value(a, &format!("{theirs}Recipient")).unwrap(), second);
    let mine = subscription(a, &[("ID", "mine", false)]);
    // Procedure.
    let out = call(a, delete(false, &[&second]));
    match &del_statuses(&out)[0] {
        DelStatus::OperSuccess(s) => assert_eq!(s.affected_paths, [second]),
        other => panic!("{other:?}"),
    }
    let r = get_results(&call(a, get(&[SUBS], 0)));
    let paths: Vec<&str> = r[0]
        .resolved_path_results
        .iter()
        .map(|p| p.resolved_path.as_str())
        .collect();
    assert!(!paths.contains(&theirs.as_str()), "{paths:?}");
    assert_eq!(paths, [mine.as_str()]);
}

pub(super) fn case_1_79(a: &mut Agent) {
    let (t, _) = run_async(
        a,
        "Device.ScheduleTimer()",
        "test79",
        true,
        &[("DelaySeconds", "30")],
    );
    assert!(t >= 30_000, "completed after {t} ms");
}

pub(super) fn case_1_80(a: &mut Agent) {
    let out = call(
        a,
        ReqType::GetSupportedProtocol(pb::GetSupportedProtocol {
            controller_supported_protocol_versions: "1.0,1.1,1.2,1.3,1.4".into(),
        }),
    );
    let RespType::GetSupportedProtocolResp(r) = resp(&out) else {
        panic!()
    };
    let versions: Vec<&str> = r.agent_supported_protocol_versions.split(',').collect();
    assert!(!versions.is_empty());
    for v in versions {
        let (major, minor) = v.split_once('.').expect("major.minor");
        let major: u32 = major.parse().unwrap();
        minor.parse::<u32>().unwrap();
        assert!(major >= 1, "USP {v} does not exist");
    }
}

pub(super) fn case_1_81(a: &mut Agent) {
    let settings = |reference| {
        vec![
            ("Enable", "true", false),
            ("NotifType", "ValueChange", false),
            ("ReferenceList", reference, false),
        ]
    };
    let out = call(
        a,
        add(
            false,
            &[
                (SUBS, &settings("Device.LocalAgent.SoftwareVersion")),
                (SUBS, &settings("Device.LocalAgent.EndpointID")),
            ],
        ),
    );
    let s = add_ok(&out);
    assert_eq!(s.len(), 2);
    for r in &s {
        assert!(r.param_errs.is_empty());
        let keys: Vec<&str> = r.unique_keys.keys().map(String::as_str).collect();
        assert_eq!(keys, ["Alias", "ID", "Recipient"]);
        assert!(r.unique_keys.values().all(|v| !v.is_empty()));
    }
    let k = |n| (&s[0].unique_keys[n], &s[1].unique_keys[n]);
    assert_ne!(k("Alias").0, k("Alias").1);
    assert_ne!(k("ID").0, k("ID").1);
    assert_eq!(k("Recipient").0, k("Recipient").1);
    let out = call(
        a,
        delete(false, &[&s[0].instantiated_path, &s[1].instantiated_path]),
    );
    assert_eq!(del_statuses(&out).len(), 2);
}

fn assert_empty_get(a: &mut Agent, requested: &str) {
    let r = get_results(&call(a, get(&[requested], 0)));
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].requested_path.as_str(), r[0].err_code),
        (requested, 0),
        "{r:?}"
    );
    assert!(r[0].resolved_path_results.is_empty());
}

pub(super) fn case_1_82(a: &mut Agent) {
    assert!(subscriptions(a).is_empty());
    assert_empty_get(a, "Device.LocalAgent.Subscription.[Enable==true].");
}

pub(super) fn case_1_83(a: &mut Agent) {
    let requested = r#"Device.LocalAgent.Controller.[Alias=="no-such-alias"].BootParameter."#;
    let r = get_instances(a, &[requested], false);
    assert_eq!(r[0].err_code, 0);
    assert!(r[0].curr_insts.is_empty());
}

pub(super) fn case_1_84(a: &mut Agent) {
    let mut sim = Sim::default();
    boot_parameter(a, "Device.LocalAgent.EndpointID");
    let bp2 = boot_parameter(a, "Device.DeviceInfo.UpTime");
    let out = sim.call(
        a,
        add(
            false,
            &[(
                SUBS,
                &[
                    ("Enable", "true", false),
                    ("ID", "notify84", false),
                    ("NotifType", "ValueChange", false),
                    (
                        "ReferenceList",
                        "Device.LocalAgent.Controller.1.BootParameter.*.Enable",
                        true,
                    ),
                ],
            )],
        ),
    );
    add_ok(&out);
    let out = sim.call(a, set(false, &[(&bp2, &[("Enable", "false", true)])]));
    assert_set_ok(&out);
    let n = notifies(&out);
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].subscription_id, "notify84");
    assert_eq!(
        value_change(&n[0]),
        (format!("{bp2}Enable").as_str(), "false")
    );
}

pub(super) fn case_1_86(a: &mut Agent) {
    subscription(a, &[("Enable", "false", false)]);
    assert_empty_get(a, "Device.LocalAgent.Subscription.[Enable==true].");
}

pub(super) fn case_1_87(a: &mut Agent) {
    assert!(subscriptions(a).is_empty());
    assert_empty_get(a, SUBS);
}

pub(super) fn case_1_88(a: &mut Agent) {
    let out = call(
        a,
        add(
            false,
            &[(
                SUBS,
                &[
                    ("Enable", "True", false),
                    ("Alias", "88InvalidAlias", false),
                    ("NotifType", "ValueChange", false),
                    ("ReferenceList", "Device.LocalAgent.SoftwareVersion", false),
                ],
            )],
        ),
    );
    let e = error(&out);
    assert_ne!(e.err_code, 0);
    assert!(subscriptions(a).is_empty());
}

pub(super) fn case_1_89(a: &mut Agent) {
    let la = "Device.LocalAgent.";
    let paths = |a: &mut Agent, depth| -> Vec<String> {
        let r = get_results(&call(a, get(&[la], depth)));
        assert_eq!((r.len(), r[0].err_code), (1, 0));
        assert_eq!(r[0].requested_path, la);
        for p in &r[0].resolved_path_results {
            assert!(p.result_params.keys().all(|k| !k.contains('.')), "{p:?}");
        }
        r[0].resolved_path_results
            .iter()
            .map(|p| p.resolved_path.clone())
            .collect()
    };
    assert_eq!(paths(a, 1), [la]);
    let two = paths(a, 2);
    assert_eq!(two[0], la);
    for want in [
        "Device.LocalAgent.MTP.1.",
        C1,
        "Device.LocalAgent.ControllerTrust.",
    ] {
        assert!(two.iter().any(|p| p == want), "{want} missing at depth 2");
    }
    assert!(
        !two.iter()
            .any(|p| p == "Device.LocalAgent.Controller.1.MTP.1.")
    );
    let all = paths(a, 0);
    for want in [
        "Device.LocalAgent.Controller.1.MTP.1.",
        "Device.LocalAgent.Controller.1.MTP.1.WebSocket.",
        "Device.LocalAgent.ControllerTrust.Role.1.",
    ] {
        assert!(all.iter().any(|p| p == want), "{want} missing at depth 0");
    }
}

pub(super) fn case_1_90(a: &mut Agent) {
    subscription(a, &[("Enable", "true", false)]);
    let out = call(
        a,
        delete(false, &["Device.LocalAgent.Subscription.[Enable==false]."]),
    );
    let d = del_statuses(&out);
    assert_eq!(d.len(), 1);
    match &d[0] {
        DelStatus::OperSuccess(s) => {
            assert!(s.affected_paths.is_empty() && s.unaffected_path_errs.is_empty())
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(subscriptions(a).len(), 1);
}

pub(super) fn case_1_91(a: &mut Agent) {
    let out = call(
        a,
        operate(
            "Device.ScheduleTimer()",
            "",
            true,
            &[("DelaySeconds", "10"), ("InvalidArgument", "2")],
        ),
    );
    let RespType::OperateResp(r) = resp(&out) else {
        panic!()
    };
    assert!(
        r.operation_results[0]
            .executed_command
            .ends_with("ScheduleTimer()")
    );
    use pb::operate_resp::operation_result::OperationResp as R;
    assert!(
        matches!(
            &r.operation_results[0].operation_resp,
            Some(R::ReqObjPath(_))
        ),
        "{r:?}"
    );
}

pub(super) fn case_1_92(a: &mut Agent) {
    let (t, c) = run_async(
        a,
        "Device.IP.Diagnostics.TraceRoute()",
        "test92",
        true,
        &[("Host", "192.0.2.1"), ("ProtocolVersion", "Any")],
    );
    // 3 tries (one RTTimes item each, 0 = no answer), 5000 ms apart.
    let Some(pb::notify::operation_complete::OperationResp::ReqOutputArgs(o)) = &c.operation_resp
    else {
        panic!("{c:?}")
    };
    assert_eq!(o.output_args["RouteHops.1.RTTimes"], "0,0,0");
    assert!((14_850..=15_150).contains(&t), "completed after {t} ms");
}

/// 1.93/1.94: a ProvisioningCode subscription with `action`, TriggerConfigSettings that
/// disable it, and the Set that triggers it. Returns the notifications sent.
fn trigger(a: &mut Agent, id: &str, action: &str, new_code: &str) -> Vec<pb::Notify> {
    let mut sim = Sim::default();
    provisioning_setup(a);
    let sub = provisioning_sub(a, &mut sim, id, &[("TriggerAction", action, false)]);
    let config = format!("{sub}Enable=false");
    assert_set_ok(&sim.call(
        a,
        set(
            false,
            &[(&sub, &[("TriggerConfigSettings", &config, true)])],
        ),
    ));
    let out = set_provisioning(a, &mut sim, new_code);
    assert_eq!(value(a, &format!("{sub}Enable")).unwrap(), "false");
    notifies(&out)
}

pub(super) fn case_1_93(a: &mut Agent) {
    let n = trigger(a, "notify93", "Config", "TestValue93");
    assert!(n.is_empty(), "Config alone does not notify: {n:?}");
}

pub(super) fn case_1_94(a: &mut Agent) {
    let n = trigger(a, "notify94", "NotifyAndConfig", "TestValue94");
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].subscription_id, "notify94");
    assert_eq!(value_change(&n[0]), (PROVISIONING, "TestValue94"));
}

pub(super) fn case_1_95(a: &mut Agent) {
    let out = call(
        a,
        add(
            false,
            &[(
                "Device.LocalAgent.Controller.",
                &[
                    ("EndpointID", SECOND, true),
                    ("Enable", "true", false),
                    ("OnBoardingComplete", "true", false),
                ],
            )],
        ),
    );
    add_ok(&out);
    let out = call(
        a,
        add(
            false,
            &[(
                "Device.LocalAgent.Controller.[Enable==true].BootParameter.",
                &[
                    ("Enable", "true", false),
                    ("ParameterName", "Device.LocalAgent.SoftwareVersion", false),
                ],
            )],
        ),
    );
    let created: Vec<String> = add_ok(&out)
        .into_iter()
        .map(|s| s.instantiated_path)
        .collect();
    assert!(!created.is_empty());
    let r = get_results(&call(
        a,
        get(&["Device.LocalAgent.Controller.*.BootParameter."], 0),
    ));
    let got: Vec<&str> = r[0]
        .resolved_path_results
        .iter()
        .map(|p| p.resolved_path.as_str())
        .collect();
    for c in &created {
        assert!(got.contains(&c.as_str()), "{c} not in {got:?}");
    }
}

pub(super) fn case_1_96(a: &mut Agent) {
    let out = call(a, add(false, &[(SUBS, &[("ID", "add96", false)])]));
    let sub = add_ok(&out)[0].instantiated_path.clone();
    let r = get_results(&call(a, get(&[&sub], 0)));
    assert_eq!(r[0].resolved_path_results[0].result_params["ID"], "add96");
    let e = error(&call(
        a,
        set(false, &[(&sub, &[("ID", "add96-NEW", true)])]),
    ));
    assert_ne!(e.err_code, 0);
    assert_eq!(value(a, &format!("{sub}ID")).unwrap(), "add96");
}

pub(super) fn case_1_97(a: &mut Agent) {
    let r = &supported_dm(a, &["Device."], false, [true, false, false, false])[0];
    assert_well_formed(r);
    assert!(r.supported_objs.len() > 10, "the entire supported model");
    assert!(
        r.supported_objs
            .iter()
            .all(|o| o.supported_params.is_empty() && o.supported_events.is_empty())
    );
    let commands: Vec<&gsdm::SupportedCommandResult> = r
        .supported_objs
        .iter()
        .flat_map(|o| &o.supported_commands)
        .collect();
    assert!(
        commands
            .iter()
            .any(|c| c.command_type == gsdm::CmdType::CmdAsync as i32)
    );
    assert!(
        commands
            .iter()
            .any(|c| c.command_type == gsdm::CmdType::CmdSync as i32)
    );
    assert!(commands.iter().any(|c| !c.input_arg_names.is_empty()));
}

pub(super) fn case_1_98(a: &mut Agent) {
    let r = &supported_dm(a, &["Device."], false, [false, true, false, false])[0];
    assert_well_formed(r);
    assert!(r.supported_objs.len() > 10, "the entire supported model");
    assert!(
        r.supported_objs
            .iter()
            .all(|o| o.supported_params.is_empty() && o.supported_commands.is_empty())
    );
    let events: Vec<&gsdm::SupportedEventResult> = r
        .supported_objs
        .iter()
        .flat_map(|o| &o.supported_events)
        .collect();
    assert!(events.iter().any(|e| !e.arg_names.is_empty()));
}

pub(super) fn case_1_99(a: &mut Agent) {
    let r = &supported_dm(
        a,
        &["Device.LocalAgent.Subscription"],
        false,
        [false, false, false, true],
    )[0];
    assert_well_formed(r);
    assert_eq!(r.supported_objs.len(), 1);
    let o = &r.supported_objs[0];
    assert_eq!(o.supported_obj_path, "Device.LocalAgent.Subscription.{i}.");
    assert!(
        o.supported_params.is_empty()
            && o.supported_commands.is_empty()
            && o.supported_events.is_empty()
    );
    let keys: Vec<Vec<&str>> = o
        .unique_key_sets
        .iter()
        .map(|k| k.key_names.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(keys, [vec!["Alias"], vec!["Recipient", "ID"]]);
}

pub(super) fn case_1_100(a: &mut Agent) {
    let mut sim = Sim::default();
    sub_on(a, "oc", "OperationComplete", "Device.ScheduleTimer()", &[]);
    let out = sim.call(a, operate("Device.ScheduleTimer()", "test100", true, &[]));
    let RespType::OperateResp(r) = resp(&out) else {
        panic!()
    };
    use pb::operate_resp::operation_result::OperationResp as R;
    assert!(
        matches!(&r.operation_results[0].operation_resp, Some(R::CmdFailure(f)) if f.err_code == 7027),
        "{r:?}"
    );
    let later = sim.run(a, 120_000);
    assert!(
        later.iter().all(|(_, m)| notify_of(m).is_none()),
        "{later:?}"
    );
}

/// SendOnBoardRequest() with send_resp false; returns the OnBoardRequest.
fn send_on_board(a: &mut Agent, sim: &mut Sim, key: &str) -> pb::Msg {
    let out = sim.call(
        a,
        operate(&format!("{C1}SendOnBoardRequest()"), key, false, &[]),
    );
    let n = notify_msgs(&out);
    assert_eq!(n.len(), 1);
    on_board(&notify_of(&n[0]).unwrap());
    n[0].clone()
}

/// The OnBoardRequests among `sent`, each once (retries of one have its msg_id).
fn on_boards(sent: &[(u64, pb::Msg)]) -> Vec<(u64, pb::Msg)> {
    let mut seen = std::collections::BTreeSet::new();
    sent.iter()
        .filter(|(_, m)| {
            notify_of(m)
                .is_some_and(|n| matches!(n.notification, Some(Notification::OnBoardReq(_))))
                && seen.insert(msg_id(m))
        })
        .cloned()
        .collect()
}

pub(super) fn case_1_101(a: &mut Agent) {
    let mut sim = Sim::default();
    let n = send_on_board(a, &mut sim, "test101");
    ack(a, &mut sim, &n);
    assert_eq!(
        value(a, &format!("{C1}OnBoardingComplete")).unwrap(),
        "false"
    );
    assert_set_ok(&sim.call(
        a,
        set(false, &[(C1, &[("OnBoardingComplete", "true", true)])]),
    ));
}

pub(super) fn case_1_102(a: &mut Agent) {
    let mut sim = Sim::default();
    assert_set_ok(&sim.call(
        a,
        set(false, &[(C1, &[("OnBoardingRestartTime", "60", true)])]),
    ));
    let n = send_on_board(a, &mut sim, "test102");
    let acked = elapsed_ms();
    ack(a, &mut sim, &n);
    let again = on_boards(&sim.run(a, 70_000));
    assert_eq!(again.len(), 1, "one more OnBoardRequest");
    assert_eq!(again[0].0 - acked, 60_000);
    ack(a, &mut sim, &again[0].1);
    assert_set_ok(&sim.call(
        a,
        set(false, &[(C1, &[("OnBoardingComplete", "true", true)])]),
    ));
    assert!(on_boards(&sim.run(a, 60_000)).is_empty());
}

pub(super) fn case_1_103(a: &mut Agent) {
    let mut sim = Sim::default();
    assert_set_ok(&sim.call(
        a,
        set(false, &[(C1, &[("OnBoardingRestartTime", "0", true)])]),
    ));
    let n = send_on_board(a, &mut sim, "test103");
    ack(a, &mut sim, &n);
    assert!(on_boards(&sim.run(a, 60_000)).is_empty());
}

pub(super) fn case_1_104(a: &mut Agent) {
    let out = call(a, add(false, &[(SUBS, &[("Alias", "test-1-104", false)])]));
    let sub = add_ok(&out)[0].instantiated_path.clone();
    let e = error(&call(
        a,
        set(false, &[(&sub, &[("Alias", "test-1-104-new-alias", true)])]),
    ));
    assert_ne!(e.err_code, 0);
    assert_eq!(value(a, &format!("{sub}Alias")).unwrap(), "test-1-104");
}

/// 1.105-1.107: one object reported, holding only the requested element.
fn single_element(a: &mut Agent, path: &str) -> gsdm::SupportedObjectResult {
    let r = supported_dm(a, &[path], false, ALL);
    assert_well_formed(&r[0]);
    assert_eq!(
        r[0].supported_objs.len(),
        1,
        "{:?}",
        r[0].supported_objs
            .iter()
            .map(|o| &o.supported_obj_path)
            .collect::<Vec<_>>()
    );
    let o = r[0].supported_objs[0].clone();
    let counts = [
        o.supported_commands.len(),
        o.supported_events.len(),
        o.supported_params.len(),
        o.unique_key_sets.len(),
    ];
    assert_eq!(counts.iter().sum::<usize>(), 1, "{o:?}");
    o
}

pub(super) fn case_1_105(a: &mut Agent) {
    let o = single_element(a, "Device.Reboot()");
    assert_eq!(o.supported_commands[0].command_name, "Reboot()");
}

pub(super) fn case_1_106(a: &mut Agent) {
    let o = single_element(a, "Device.Boot!");
    assert_eq!(o.supported_events[0].event_name, "Boot!");
    assert!(!o.supported_events[0].arg_names.is_empty());
}

pub(super) fn case_1_107(a: &mut Agent) {
    let o = single_element(a, "Device.LocalAgent.EndpointID");
    assert_eq!(o.supported_params[0].param_name, "EndpointID");
}
