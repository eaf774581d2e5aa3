//! TP-469 section 1 walked at the handler level: each test follows the case's setup and
//! procedure with the messages of the test plan and checks its metrics. They prove the
//! reference agent passes before the harness ever runs it over a real MTP. Cases 1.1 to 1.51
//! are here, 1.52 to 1.107 in `tests_tp469_52`; the case table and the fault matrix below
//! cover both. (1.63 is deprecated, 1.69 deleted, 1.85 future work: not walked.)

use super::tests::*;
use super::tests_tp469_52::*;
use super::{Agent, Fault};
use crate::usp::pb::{self, response::RespType};

const VC: [(&str, &str, bool); 3] = [
    ("Enable", "true", false),
    ("NotifType", "ValueChange", false),
    ("ReferenceList", "Device.LocalAgent.SoftwareVersion", true),
];

fn sub_settings(id: &str, required_ref: bool) -> Vec<(&str, &str, bool)> {
    vec![
        ("Enable", "true", false),
        ("ID", id, false),
        ("NotifType", "ValueChange", false),
        (
            "ReferenceList",
            "Device.LocalAgent.SoftwareVersion",
            required_ref,
        ),
    ]
}

fn ok(s: &AddStatus) -> &pb::add_resp::created_object_result::operation_status::OperationSuccess {
    match s {
        AddStatus::OperSuccess(s) => s,
        other => panic!("expected oper_success, got {other:?}"),
    }
}

fn set_ok(
    s: &SetStatus,
) -> &pb::set_resp::updated_object_result::operation_status::OperationSuccess {
    match s {
        SetStatus::OperSuccess(s) => s,
        other => panic!("expected oper_success, got {other:?}"),
    }
}

fn del_ok(
    s: &DelStatus,
) -> &pb::delete_resp::deleted_object_result::operation_status::OperationSuccess {
    match s {
        DelStatus::OperSuccess(s) => s,
        other => panic!("expected oper_success, got {other:?}"),
    }
}

/// Metric "3 elements in the unique key map: Alias, Recipient, and ID".
fn assert_subscription_keys(s: &AddStatus, id: &str) {
    let s = ok(s);
    assert!(s.param_errs.is_empty());
    let mut keys: Vec<&str> = s.unique_keys.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["Alias", "ID", "Recipient"]);
    assert_eq!(s.unique_keys["ID"], id);
}

/// Metric "the object's values match the values set".
fn assert_values(a: &mut Agent, inst: &str, values: &[(&str, &str)]) {
    let out = call(a, get(&[inst], 0));
    let r = &get_results(&out)[0];
    assert_eq!(r.err_code, 0);
    let params = &r.resolved_path_results[0].result_params;
    for (k, v) in values {
        assert_eq!(params[*k], *v, "{inst}{k}");
    }
}

fn ids(a: &mut Agent) -> Vec<String> {
    let out = call(a, get(&["Device.LocalAgent.Subscription.*.ID"], 0));
    get_results(&out)[0]
        .resolved_path_results
        .iter()
        .map(|r| param(r, "ID").to_string())
        .collect()
}

/// One value of a resolved path result ("" if absent).
fn param<'a>(r: &'a pb::get_resp::ResolvedPathResult, k: &str) -> &'a str {
    r.result_params.get(k).map_or("", String::as_str)
}

fn case_1_1(a: &mut Agent) {
    let out = call(a, add(false, &[(SUBS, &sub_settings("add1", true))]));
    let s = add_statuses(&out);
    assert_eq!(s.len(), 1);
    assert_subscription_keys(&s[0], "add1");
    let inst = ok(&s[0]).instantiated_path.clone();
    assert_values(
        a,
        &inst,
        &[
            ("Enable", "true"),
            ("ID", "add1"),
            ("NotifType", "ValueChange"),
            ("ReferenceList", "Device.LocalAgent.SoftwareVersion"),
        ],
    );
    assert!(del_ok(&del_statuses(&call(a, delete(false, &[&inst])))[0]).affected_paths == [inst]);
}

fn case_1_2(a: &mut Agent) {
    let out = call(a, add(true, &[(SUBS, &sub_settings("add2", true))]));
    let s = add_statuses(&out);
    assert_subscription_keys(&s[0], "add2");
    assert_values(
        a,
        &ok(&s[0]).instantiated_path.clone(),
        &[("ID", "add2"), ("Enable", "true")],
    );
}

fn case_1_3(a: &mut Agent) {
    let out = call(
        a,
        add(
            false,
            &[(
                SUBS,
                &[
                    ("Enable", "InvalidValue", true),
                    ("ID", "add3", false),
                    VC[1],
                    ("ReferenceList", "Device.LocalAgent.SoftwareVersion", false),
                ],
            )],
        ),
    );
    let e = error(&out);
    assert_eq!(e.err_code, 7021);
    assert_eq!(e.param_errs.len(), 1);
    assert!(e.param_errs[0].param_path.ends_with("Enable"));
    assert_eq!(e.param_errs[0].err_code, 7011);
    assert!(subscriptions(a).is_empty());
}

fn case_1_4(a: &mut Agent) {
    let out = call(
        a,
        add(
            false,
            &[(
                "Device.LocalAgent.InvalidObject.",
                &sub_settings("add4", false),
            )],
        ),
    );
    let e = error(&out);
    assert_eq!(e.err_code, 7026);
    assert_eq!(e.param_errs.len(), 1);
    assert_eq!(
        e.param_errs[0].param_path,
        "Device.LocalAgent.InvalidObject."
    );
    assert_eq!(e.param_errs[0].err_code, 7026);
    assert!(subscriptions(a).is_empty());
}

fn case_1_5(a: &mut Agent) {
    let mut second = sub_settings("add52", true);
    second[3].1 = "Device.LocalAgent.EndpointID";
    let out = call(
        a,
        add(
            false,
            &[(SUBS, &sub_settings("add51", true)), (SUBS, &second)],
        ),
    );
    let s = add_statuses(&out);
    assert_eq!(s.len(), 2);
    assert_subscription_keys(&s[0], "add51");
    assert_subscription_keys(&s[1], "add52");
    let (i1, i2) = (
        ok(&s[0]).instantiated_path.clone(),
        ok(&s[1]).instantiated_path.clone(),
    );
    assert_values(
        a,
        &i1,
        &[
            ("ID", "add51"),
            ("ReferenceList", "Device.LocalAgent.SoftwareVersion"),
        ],
    );
    assert_values(
        a,
        &i2,
        &[
            ("ID", "add52"),
            ("ReferenceList", "Device.LocalAgent.EndpointID"),
        ],
    );
    let d = del_statuses(&call(a, delete(false, &[&i1, &i2])));
    assert_eq!(d.len(), 2);
}

fn case_1_6(a: &mut Agent) {
    let out = call(
        a,
        add(
            false,
            &[
                (SUBS, &sub_settings("add61", true)),
                (
                    "Device.LocalAgent.InvalidObject.",
                    &sub_settings("add62", true),
                ),
            ],
        ),
    );
    let e = error(&out);
    assert_eq!(e.err_code, 7026);
    assert_eq!(e.param_errs.len(), 1);
    assert_eq!(
        e.param_errs[0].param_path,
        "Device.LocalAgent.InvalidObject."
    );
    assert_eq!(e.param_errs[0].err_code, 7026);
    assert!(subscriptions(a).is_empty());
}

fn case_1_7(a: &mut Agent) {
    let mut bad = sub_settings("add72", false);
    bad[0] = ("Enable", "InvalidValue", true);
    let out = call(
        a,
        add(
            false,
            &[(SUBS, &sub_settings("add71", false)), (SUBS, &bad)],
        ),
    );
    let e = error(&out);
    assert_eq!(e.err_code, 7021);
    assert_eq!(e.param_errs.len(), 1);
    assert!(e.param_errs[0].param_path.ends_with("Enable"));
    assert_eq!(e.param_errs[0].err_code, 7011);
    assert!(ids(a).is_empty());
}

fn case_1_8(a: &mut Agent) {
    let mut bad = sub_settings("add8", false);
    bad[0] = ("Enable", "InvalidValue", true);
    let out = call(a, add(true, &[(SUBS, &bad)]));
    let s = add_statuses(&out);
    assert_eq!(s.len(), 1);
    assert!(matches!(&s[0], AddStatus::OperFailure(f) if f.err_code == 7021));
    assert!(!ids(a).contains(&"add8".to_string()));
}

fn case_1_9(a: &mut Agent) {
    let mut bad = sub_settings("add92", false);
    bad[0] = ("Enable", "InvalidValue", true);
    let out = call(
        a,
        add(true, &[(SUBS, &sub_settings("add91", false)), (SUBS, &bad)]),
    );
    let s = add_statuses(&out);
    assert_subscription_keys(&s[0], "add91");
    assert!(matches!(&s[1], AddStatus::OperFailure(f) if f.err_code == 7021));
    assert_eq!(ids(a), ["add91"]);
    assert_values(
        a,
        &ok(&s[0]).instantiated_path.clone(),
        &[("Enable", "true")],
    );
}

fn case_1_10(a: &mut Agent) {
    let parent = format!(
        r#"Device.LocalAgent.Controller.[EndpointID=="{CTRL}"&&Alias=="cpe-1"].BootParameter."#
    );
    let out = call(
        a,
        add(
            false,
            &[(
                &parent,
                &[
                    ("Enable", "true", false),
                    ("ParameterName", "Device.LocalAgent.SoftwareVersion", false),
                ],
            )],
        ),
    );
    let s = add_statuses(&out);
    let s = ok(&s[0]);
    assert!(s.param_errs.is_empty());
    let mut keys: Vec<&String> = s.unique_keys.keys().collect();
    keys.sort();
    assert_eq!(keys, ["Alias", "ParameterName"]);
    assert_eq!(
        s.instantiated_path,
        "Device.LocalAgent.Controller.1.BootParameter.1."
    );
    let inst = s.instantiated_path.clone();
    assert_values(
        a,
        &inst,
        &[
            ("Enable", "true"),
            ("ParameterName", "Device.LocalAgent.SoftwareVersion"),
        ],
    );
}

/// Setup shared by the Set cases: two Subscriptions (NotifRetry false).
fn two_subs(a: &mut Agent) -> (String, String) {
    let s1 = subscription(a, &sub_settings("s1", false));
    let s2 = subscription(a, &sub_settings("s2", false));
    (s1, s2)
}

fn assert_single_notif_retry(s: &SetStatus, inst: &str) {
    let s = set_ok(s);
    assert_eq!(s.updated_inst_results.len(), 1);
    assert_eq!(s.updated_inst_results[0].affected_path, inst);
    let keys: Vec<&String> = s.updated_inst_results[0].updated_params.keys().collect();
    assert_eq!(keys, ["NotifRetry"]);
}

fn case_1_11(a: &mut Agent) {
    let (s1, _) = two_subs(a);
    let out = call(a, set(false, &[(&s1, &[("NotifRetry", "true", true)])]));
    let s = set_statuses(&out);
    assert_eq!(s.len(), 1);
    assert_single_notif_retry(&s[0], &s1);
    assert_eq!(value(a, &format!("{s1}NotifRetry")).unwrap(), "true");
}

fn case_1_12(a: &mut Agent) {
    let (s1, _) = two_subs(a);
    let out = call(a, set(true, &[(&s1, &[("NotifRetry", "true", true)])]));
    assert_single_notif_retry(&set_statuses(&out)[0], &s1);
    assert_eq!(value(a, &format!("{s1}NotifRetry")).unwrap(), "true");
}

fn case_1_13(a: &mut Agent) {
    let (s1, s2) = two_subs(a);
    let out = call(
        a,
        set(
            false,
            &[
                (&s1, &[("NotifRetry", "true", true)]),
                (&s2, &[("NotifRetry", "true", true)]),
            ],
        ),
    );
    let s = set_statuses(&out);
    assert_single_notif_retry(&s[0], &s1);
    assert_single_notif_retry(&s[1], &s2);
    for i in [s1, s2] {
        assert_eq!(value(a, &format!("{i}NotifRetry")).unwrap(), "true");
    }
}

fn case_1_14(a: &mut Agent) {
    let (s1, _) = two_subs(a);
    let e = error(&call(
        a,
        set(
            false,
            &[(&s1, &[("InvalidParameter", "IrrelevantValue", true)])],
        ),
    ));
    assert_eq!(e.param_errs.len(), 1);
    assert_eq!(e.param_errs[0].param_path, format!("{s1}InvalidParameter"));
    assert_eq!(e.param_errs[0].err_code, 7010);
    let out = call(a, get(&[&s1], 0));
    assert!(
        !get_results(&out)[0].resolved_path_results[0]
            .result_params
            .contains_key("InvalidParameter")
    );
}

fn case_1_15(a: &mut Agent) {
    let (s1, s2) = two_subs(a);
    let out = call(
        a,
        set(
            false,
            &[
                (&s1, &[("NotifRetry", "true", true)]),
                (&s2, &[("InvalidParameter", "IrrelevantValue", true)]),
            ],
        ),
    );
    let e = error(&out);
    assert_eq!(e.param_errs.len(), 1);
    assert_eq!(e.param_errs[0].param_path, format!("{s2}InvalidParameter"));
    assert_eq!((e.err_code, e.param_errs[0].err_code), (7021, 7010));
    assert_eq!(value(a, &format!("{s1}NotifRetry")).unwrap(), "false"); // atomic
}

fn case_1_16(a: &mut Agent) {
    let (s1, s2) = two_subs(a);
    let out = call(
        a,
        set(
            true,
            &[
                (&s1, &[("NotifRetry", "true", true)]),
                (&s2, &[("InvalidParameter", "IrrelevantValue", true)]),
            ],
        ),
    );
    let s = set_statuses(&out);
    assert_single_notif_retry(&s[0], &s1);
    let SetStatus::OperFailure(f) = &s[1] else {
        panic!("{:?}", s[1])
    };
    assert_eq!(f.err_code, 7021);
    assert_eq!(f.updated_inst_failures.len(), 1);
    assert_eq!(f.updated_inst_failures[0].affected_path, s2);
    assert_eq!(f.updated_inst_failures[0].param_errs.len(), 1);
    assert_eq!(
        f.updated_inst_failures[0].param_errs[0].param,
        "InvalidParameter"
    );
    assert_eq!(value(a, &format!("{s1}NotifRetry")).unwrap(), "true");
}

fn case_1_17(a: &mut Agent) {
    let (s1, _) = two_subs(a);
    let out = call(
        a,
        set(
            true,
            &[(
                &s1,
                &[
                    ("NotifRetry", "true", false),
                    ("InvalidParameter", "IrrelevantValue", false),
                ],
            )],
        ),
    );
    let s = set_statuses(&out);
    let r = &set_ok(&s[0]).updated_inst_results;
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].affected_path, s1);
    assert_eq!(
        r[0].updated_params.keys().collect::<Vec<_>>(),
        ["NotifRetry"]
    );
    assert_eq!(r[0].param_errs.len(), 1);
    assert_eq!(r[0].param_errs[0].param, "InvalidParameter");
    assert_eq!(r[0].param_errs[0].err_code, 7010);
    assert_eq!(value(a, &format!("{s1}NotifRetry")).unwrap(), "true");
}

fn case_1_18(a: &mut Agent) {
    let (s1, _) = two_subs(a);
    let by_key = r#"Device.LocalAgent.Subscription.[ID=="s1"&&Recipient=="Device.LocalAgent.Controller.1"]."#;
    let out = call(a, set(false, &[(by_key, &[("NotifRetry", "true", true)])]));
    assert_single_notif_retry(&set_statuses(&out)[0], &s1);
    let by_alias = r#"Device.LocalAgent.Subscription.[Alias=="cpe-1"]."#;
    let out = call(
        a,
        set(false, &[(by_alias, &[("NotifRetry", "false", true)])]),
    );
    assert_single_notif_retry(&set_statuses(&out)[0], &s1);
    assert_eq!(value(a, &format!("{s1}NotifRetry")).unwrap(), "false");
}

fn case_1_19(a: &mut Agent) {
    let (s1, s2) = two_subs(a);
    let out = call(
        a,
        set(
            false,
            &[(
                "Device.LocalAgent.Subscription.*.",
                &[("NotifRetry", "true", true)],
            )],
        ),
    );
    let s = set_statuses(&out);
    let r = &set_ok(&s[0]).updated_inst_results;
    assert_eq!(
        r.iter()
            .map(|r| r.affected_path.clone())
            .collect::<Vec<_>>(),
        [s1.clone(), s2.clone()]
    );
    assert!(
        r.iter()
            .all(|r| r.updated_params.keys().collect::<Vec<_>>() == ["NotifRetry"])
    );
    for i in [s1, s2] {
        assert_eq!(value(a, &format!("{i}NotifRetry")).unwrap(), "true");
    }
}

fn case_1_20(a: &mut Agent) {
    let (s1, s2) = two_subs(a);
    let e = error(&call(
        a,
        set(
            false,
            &[(
                "Device.LocalAgent.Subscription.*.",
                &[("InvalidParameter", "IrrelevantValue", true)],
            )],
        ),
    ));
    let paths: Vec<String> = e.param_errs.iter().map(|p| p.param_path.clone()).collect();
    assert_eq!(
        paths,
        [
            format!("{s1}InvalidParameter"),
            format!("{s2}InvalidParameter")
        ]
    );
    assert_eq!(e.err_code, 7021);
    assert!(e.param_errs.iter().all(|p| p.err_code == 7010));
    let out = call(a, get(&[SUBS], 0));
    assert!(
        get_results(&out)[0]
            .resolved_path_results
            .iter()
            .all(|r| !r.result_params.contains_key("InvalidParameter"))
    );
}

fn case_1_21(a: &mut Agent) {
    let (s1, s2) = two_subs(a);
    let out = call(
        a,
        set(
            true,
            &[(
                "Device.LocalAgent.Subscription.*.",
                &[("Enable", "InvalidValue", true)],
            )],
        ),
    );
    let s = set_statuses(&out);
    assert_eq!(s.len(), 1);
    let SetStatus::OperFailure(f) = &s[0] else {
        panic!()
    };
    assert_eq!(f.err_code, 7021);
    let failed: Vec<&String> = f
        .updated_inst_failures
        .iter()
        .map(|i| &i.affected_path)
        .collect();
    assert_eq!(failed, [&s1, &s2]);
    for i in &f.updated_inst_failures {
        assert_eq!(i.param_errs.len(), 1);
        assert_eq!(
            (i.param_errs[0].param.as_str(), i.param_errs[0].err_code),
            ("Enable", 7011)
        );
    }
    let out = call(a, get(&["Device.LocalAgent.Subscription.*.Enable"], 0));
    assert!(
        get_results(&out)[0]
            .resolved_path_results
            .iter()
            .all(|r| param(r, "Enable") == "true")
    );
}

fn case_1_22(a: &mut Agent) {
    let s1 = subscription(a, &[("NotifExpiration", "30", false)]);
    subscription(a, &[]);
    let out = call(
        a,
        set(
            false,
            &[(
                "Device.LocalAgent.Subscription.[NotifExpiration>0].",
                &[("NotifRetry", "true", true)],
            )],
        ),
    );
    assert_single_notif_retry(&set_statuses(&out)[0], &s1);
    assert_eq!(value(a, &format!("{s1}NotifRetry")).unwrap(), "true");
}

fn case_1_23(a: &mut Agent) {
    two_subs(a);
    let out = call(
        a,
        set(
            true,
            &[(
                r#"Device.LocalAgent.Subscription.[Recipient=="InvalidValue"]."#,
                &[("NotifRetry", "true", true)],
            )],
        ),
    );
    let s = set_statuses(&out);
    assert_eq!(s.len(), 1);
    assert_eq!(set_ok(&s[0]), &Default::default());
}

fn case_1_24(a: &mut Agent) {
    let (s1, s2) = two_subs(a);
    let out = call(a, delete(false, &[&s1]));
    let RespType::DeleteResp(r) = resp(&out) else {
        panic!()
    };
    assert_eq!(r.deleted_obj_results.len(), 1);
    assert_eq!(r.deleted_obj_results[0].requested_path, s1);
    assert_eq!(del_ok(&del_statuses(&out)[0]).affected_paths, [s1]);
    assert_eq!(subscriptions(a), [s2]);
}

fn case_1_25(a: &mut Agent) {
    let out = call(a, delete(false, &["Device.LocalAgent.Subscription.9999."]));
    assert_eq!(del_ok(&del_statuses(&out)[0]), &Default::default());
}

fn case_1_26(a: &mut Agent) {
    let e = error(&call(
        a,
        delete(false, &["Device.LocalAgent.InvalidObject."]),
    ));
    assert_eq!(e.err_code, 7026);
    assert_eq!(e.param_errs.len(), 1);
    assert_eq!(
        e.param_errs[0].param_path,
        "Device.LocalAgent.InvalidObject."
    );
}

fn case_1_27(a: &mut Agent) {
    let (s1, s2) = two_subs(a);
    let out = call(a, delete(false, &[&s1, &s2]));
    let d = del_statuses(&out);
    assert_eq!(del_ok(&d[0]).affected_paths, [s1]);
    assert_eq!(del_ok(&d[1]).affected_paths, [s2]);
    assert!(subscriptions(a).is_empty());
}

fn case_1_28(a: &mut Agent) {
    let (s1, _) = two_subs(a);
    let e = error(&call(
        a,
        delete(false, &[&s1, "Device.LocalAgent.InvalidObject."]),
    ));
    assert_eq!(
        (e.err_code, e.param_errs.len(), e.param_errs[0].err_code),
        (7026, 1, 7026)
    );
    assert_eq!(
        e.param_errs[0].param_path,
        "Device.LocalAgent.InvalidObject."
    );
    assert!(subscriptions(a).contains(&s1));
}

fn case_1_29(a: &mut Agent) {
    let out = call(a, delete(true, &["Device.LocalAgent.Subscription.9999."]));
    assert_eq!(del_ok(&del_statuses(&out)[0]), &Default::default());
}

fn case_1_30(a: &mut Agent) {
    let out = call(a, delete(true, &["Device.LocalAgent.InvalidObject."]));
    let RespType::DeleteResp(r) = resp(&out) else {
        panic!()
    };
    assert_eq!(
        r.deleted_obj_results[0].requested_path,
        "Device.LocalAgent.InvalidObject."
    );
    assert!(matches!(&del_statuses(&out)[0], DelStatus::OperFailure(f) if f.err_code == 7026));
}

fn case_1_31(a: &mut Agent) {
    let (s1, s2) = two_subs(a);
    let out = call(a, delete(true, &[&s1, "Device.LocalAgent.InvalidObject."]));
    let d = del_statuses(&out);
    assert_eq!(del_ok(&d[0]).affected_paths, [s1]);
    assert!(matches!(&d[1], DelStatus::OperFailure(f) if f.err_code == 7026));
    assert_eq!(subscriptions(a), [s2]);
}

fn case_1_32(a: &mut Agent) {
    let (s1, s2) = two_subs(a);
    let out = call(
        a,
        delete(true, &[&s1, "Device.LocalAgent.Subscription.9999."]),
    );
    let d = del_statuses(&out);
    assert_eq!(del_ok(&d[0]).affected_paths, [s1]);
    assert_eq!(del_ok(&d[1]), &Default::default());
    assert_eq!(subscriptions(a), [s2]);
}

fn boot_parameters(a: &mut Agent, enables: &[&str]) -> Vec<String> {
    let bp = "Device.LocalAgent.Controller.1.BootParameter.";
    enables
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let name = format!("Device.LocalAgent.Param{i}");
            let out = call(
                a,
                add(
                    false,
                    &[(bp, &[("Enable", e, false), ("ParameterName", &name, false)])],
                ),
            );
            ok(&add_statuses(&out)[0]).instantiated_path.clone()
        })
        .collect()
}

fn case_1_33(a: &mut Agent) {
    let bps = boot_parameters(a, &["true"]);
    let requested = format!(
        r#"Device.LocalAgent.Controller.[EndpointID=="{CTRL}"&&Alias=="cpe-1"].BootParameter.1."#
    );
    let out = call(a, delete(false, &[&requested]));
    let RespType::DeleteResp(r) = resp(&out) else {
        panic!()
    };
    assert_eq!(r.deleted_obj_results[0].requested_path, requested);
    let statuses = del_statuses(&out);
    let affected = &del_ok(&statuses[0]).affected_paths;
    assert_eq!(affected, &bps);
    assert!(crate::usp::path::is_instantiated_object_path(&affected[0]));
    let out = call(
        a,
        get(&["Device.LocalAgent.Controller.1.BootParameter."], 0),
    );
    assert!(get_results(&out)[0].resolved_path_results.is_empty());
}

fn case_1_34(a: &mut Agent) {
    let (s1, s2) = two_subs(a);
    let out = call(a, delete(false, &["Device.LocalAgent.Subscription.*."]));
    let RespType::DeleteResp(r) = resp(&out) else {
        panic!()
    };
    assert_eq!(r.deleted_obj_results.len(), 1);
    assert_eq!(
        r.deleted_obj_results[0].requested_path,
        "Device.LocalAgent.Subscription.*."
    );
    assert_eq!(del_ok(&del_statuses(&out)[0]).affected_paths, [s1, s2]);
    assert!(subscriptions(a).is_empty());
}

fn case_1_35(a: &mut Agent) {
    let bps = boot_parameters(a, &["true", "false", "true"]);
    let out = call(
        a,
        delete(
            false,
            &["Device.LocalAgent.Controller.1.BootParameter.[Enable==true]."],
        ),
    );
    assert_eq!(
        del_ok(&del_statuses(&out)[0]).affected_paths,
        [bps[0].clone(), bps[2].clone()]
    );
    let out = call(
        a,
        get(&["Device.LocalAgent.Controller.1.BootParameter."], 0),
    );
    let left: Vec<String> = get_results(&out)[0]
        .resolved_path_results
        .iter()
        .map(|r| r.resolved_path.clone())
        .collect();
    assert_eq!(left, [bps[1].clone()]);
}

fn case_1_36(a: &mut Agent) {
    let r = get_results(&call(a, get(&["Device.LocalAgent.EndpointID"], 0)));
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].err_code, r[0].requested_path.as_str()),
        (0, "Device.LocalAgent.EndpointID")
    );
    assert_eq!(r[0].resolved_path_results.len(), 1);
    assert_eq!(
        r[0].resolved_path_results[0].resolved_path,
        "Device.LocalAgent."
    );
    assert_eq!(r[0].resolved_path_results[0].result_params.len(), 1);
    assert_eq!(param(&r[0].resolved_path_results[0], "EndpointID"), AGENT);
}

fn case_1_37(a: &mut Agent) {
    let r = get_results(&call(
        a,
        get(
            &[
                "Device.LocalAgent.EndpointID",
                "Device.LocalAgent.SoftwareVersion",
            ],
            0,
        ),
    ));
    assert_eq!(r.len(), 2);
    for (res, key) in r.iter().zip(["EndpointID", "SoftwareVersion"]) {
        assert_eq!(res.err_code, 0);
        assert_eq!(res.resolved_path_results.len(), 1);
        assert_eq!(
            res.resolved_path_results[0].resolved_path,
            "Device.LocalAgent."
        );
        assert_eq!(
            res.resolved_path_results[0]
                .result_params
                .keys()
                .collect::<Vec<_>>(),
            [key]
        );
    }
}

fn case_1_38(a: &mut Agent) {
    let (s1, _) = two_subs(a);
    let enable = format!("{s1}Enable");
    let r = get_results(&call(a, get(&["Device.LocalAgent.EndpointID", &enable], 0)));
    assert_eq!(r[1].requested_path, enable);
    assert_eq!(r[1].resolved_path_results[0].resolved_path, s1);
    assert_eq!(param(&r[1].resolved_path_results[0], "Enable"), "true");
}

fn case_1_39(a: &mut Agent) {
    two_subs(a);
    let r = get_results(&call(a, get(&["Device.LocalAgent."], 0)));
    assert_eq!((r.len(), r[0].err_code), (1, 0));
    let paths: Vec<&str> = r[0]
        .resolved_path_results
        .iter()
        .map(|p| p.resolved_path.as_str())
        .collect();
    assert_eq!(paths[0], "Device.LocalAgent.");
    for sub in [
        "Device.LocalAgent.MTP.1.",
        "Device.LocalAgent.Controller.1.",
        "Device.LocalAgent.Controller.1.MTP.1.WebSocket.",
        "Device.LocalAgent.Subscription.2.",
        "Device.LocalAgent.ControllerTrust.",
        "Device.LocalAgent.ControllerTrust.Role.1.",
    ] {
        assert!(paths.contains(&sub), "{sub}");
    }
    assert!(
        r[0].resolved_path_results
            .iter()
            .all(|p| p.result_params.keys().all(|k| !k.starts_with("Device.")))
    );
}

fn case_1_40(a: &mut Agent) {
    let (s1, _) = two_subs(a);
    let r = get_results(&call(a, get(&[&s1], 0)));
    assert_eq!(r[0].resolved_path_results.len(), 1);
    let rp = &r[0].resolved_path_results[0];
    assert_eq!(rp.resolved_path, s1);
    assert_eq!(rp.result_params.len(), 13);
    assert!(rp.result_params.keys().all(|k| !k.contains('.')));
}

fn case_1_41(a: &mut Agent) {
    let r = get_results(&call(a, get(&["Device.LocalAgent.InvalidParameter"], 0)));
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].requested_path.as_str(), r[0].err_code),
        ("Device.LocalAgent.InvalidParameter", 7026)
    );
}

fn case_1_42(a: &mut Agent) {
    let r = get_results(&call(
        a,
        get(
            &[
                "Device.LocalAgent.EndpointID",
                "Device.LocalAgent.InvalidParameter",
            ],
            0,
        ),
    ));
    assert_eq!(r[0].err_code, 0);
    assert_eq!(
        r[0].resolved_path_results[0].resolved_path,
        "Device.LocalAgent."
    );
    assert_eq!(param(&r[0].resolved_path_results[0], "EndpointID"), AGENT);
    assert_eq!(
        (r[1].requested_path.as_str(), r[1].err_code),
        ("Device.LocalAgent.InvalidParameter", 7026)
    );
}

fn case_1_43(a: &mut Agent) {
    let (s1, _) = two_subs(a);
    for requested in [
        r#"Device.LocalAgent.Subscription.[Alias=="cpe-1"].Enable"#,
        r#"Device.LocalAgent.Subscription.[ID=="s1"&&Recipient=="Device.LocalAgent.Controller.1."].Enable"#,
    ] {
        let r = get_results(&call(a, get(&[requested], 0)));
        assert_eq!(
            (r[0].requested_path.as_str(), r[0].err_code),
            (requested, 0)
        );
        assert_eq!(r[0].resolved_path_results.len(), 1);
        assert_eq!(r[0].resolved_path_results[0].resolved_path, s1);
        assert_eq!(param(&r[0].resolved_path_results[0], "Enable"), "true");
    }
}

fn case_1_44(a: &mut Agent) {
    let (s1, s2) = two_subs(a);
    let r = get_results(&call(
        a,
        get(&["Device.LocalAgent.Subscription.*.Enable"], 0),
    ));
    let paths: Vec<&String> = r[0]
        .resolved_path_results
        .iter()
        .map(|p| &p.resolved_path)
        .collect();
    assert_eq!(paths, [&s1, &s2]);
    assert!(
        r[0].resolved_path_results
            .iter()
            .all(|p| p.result_params.keys().collect::<Vec<_>>() == ["Enable"])
    );
}

fn case_1_45(a: &mut Agent) {
    let (s1, s2) = two_subs(a);
    let r = get_results(&call(a, get(&["Device.LocalAgent.Subscription.*."], 0)));
    let paths: Vec<&String> = r[0]
        .resolved_path_results
        .iter()
        .map(|p| &p.resolved_path)
        .collect();
    assert_eq!(paths, [&s1, &s2]);
    assert!(
        r[0].resolved_path_results.iter().all(
            |p| p.result_params.len() == 13 && p.result_params.keys().all(|k| !k.contains('.'))
        )
    );
}

/// Subscriptions for the search-expression Get cases, returned by attribute.
fn search_setup(a: &mut Agent, settings: &[(&str, &str)]) -> Vec<String> {
    settings
        .iter()
        .map(|(n, v)| subscription(a, &[(n, v, false)]))
        .collect()
}

fn resolved(a: &mut Agent, requested: &str) -> Vec<String> {
    let r = get_results(&call(a, get(&[requested], 0)));
    assert_eq!(r[0].err_code, 0);
    assert!(
        r[0].resolved_path_results
            .iter()
            .all(|p| p.result_params.keys().all(|k| !k.contains('.')))
    );
    r[0].resolved_path_results
        .iter()
        .map(|p| p.resolved_path.clone())
        .collect()
}

fn case_1_46(a: &mut Agent) {
    let s = search_setup(
        a,
        &[("Enable", "true"), ("Enable", "false"), ("Enable", "true")],
    );
    assert_eq!(
        resolved(a, "Device.LocalAgent.Subscription.[Enable==true]."),
        [s[0].clone(), s[2].clone()]
    );
}

fn case_1_47(a: &mut Agent) {
    let s = search_setup(a, &[("Enable", "true"), ("Enable", "false")]);
    assert_eq!(
        resolved(a, "Device.LocalAgent.Subscription.[Enable!=true]."),
        [s[1].clone()]
    );
}

fn case_1_48(a: &mut Agent) {
    let s = search_setup(a, &[("NotifExpiration", "10"), ("NotifExpiration", "20")]);
    assert_eq!(
        resolved(a, "Device.LocalAgent.Subscription.[NotifExpiration>10]."),
        [s[1].clone()]
    );
}

fn case_1_49(a: &mut Agent) {
    let s = search_setup(a, &[("NotifExpiration", "10"), ("NotifExpiration", "5")]);
    assert_eq!(
        resolved(a, "Device.LocalAgent.Subscription.[NotifExpiration<10]."),
        [s[1].clone()]
    );
}

fn case_1_50(a: &mut Agent) {
    let s = search_setup(
        a,
        &[
            ("NotifExpiration", "10"),
            ("NotifExpiration", "20"),
            ("NotifExpiration", "5"),
        ],
    );
    assert_eq!(
        resolved(a, "Device.LocalAgent.Subscription.[NotifExpiration>=10]."),
        [s[0].clone(), s[1].clone()]
    );
}

fn case_1_51(a: &mut Agent) {
    let s = search_setup(
        a,
        &[
            ("NotifExpiration", "10"),
            ("NotifExpiration", "20"),
            ("NotifExpiration", "5"),
        ],
    );
    assert_eq!(
        resolved(a, "Device.LocalAgent.Subscription.[NotifExpiration<=10]."),
        [s[0].clone(), s[2].clone()]
    );
}

/// Declares one `#[test]` per case (run against the conforming agent) and the `CASES` table
/// the fault matrix below uses.
macro_rules! tp469 {
    ($($test:ident => $case:ident: $title:literal,)*) => {
        $(
            #[doc = $title]
            #[test]
            fn $test() {
                $case(&mut agent(&[]));
            }
        )*
        /// Every walked case: TP-469 id, title, body.
        const CASES: &[(&str, &str, fn(&mut Agent))] = &[$((stringify!($case), $title, $case)),*];
    };
}

tp469! {
    tp469_1_1 => case_1_1: "Add message with allow partial false, single object, required parameters succeed",
    tp469_1_2 => case_1_2: "Add message with allow partial true, single object, required parameters succeed",
    tp469_1_3 => case_1_3: "Add message with allow partial false, single object, required parameters fail",
    tp469_1_4 => case_1_4: "Add message with allow partial false, single invalid object",
    tp469_1_5 => case_1_5: "Add message with allow partial false, multiple objects",
    tp469_1_6 => case_1_6: "Add message with allow partial false, multiple objects with an invalid object",
    tp469_1_7 => case_1_7: "Add message with allow partial false, multiple objects, required parameters fail in single object",
    tp469_1_8 => case_1_8: "Add message with allow partial true, required parameters fail, invalid type, single object",
    tp469_1_9 => case_1_9: "Add message with allow partial true, required parameters fail, multiple objects",
    tp469_1_10 => case_1_10: "Add message with unique key addressing in path",
    tp469_1_11 => case_1_11: "Set message with allow partial false, required parameters pass",
    tp469_1_12 => case_1_12: "Set message with allow partial true, required parameters pass",
    tp469_1_13 => case_1_13: "Set message with allow partial false, multiple objects",
    tp469_1_14 => case_1_14: "Set message with allow partial false, required parameters fail",
    tp469_1_15 => case_1_15: "Set message with allow partial false, multiple objects, required parameters fail in single object",
    tp469_1_16 => case_1_16: "Set message with allow partial true, required parameter fails, multiple objects",
    tp469_1_17 => case_1_17: "Set message with allow partial true, non-required parameter fails, multiple parameters",
    tp469_1_18 => case_1_18: "Set message with unique key addressing in path",
    tp469_1_19 => case_1_19: "Set message with wildcard search path, allow partial false, required parameters pass",
    tp469_1_20 => case_1_20: "Set message with wildcard search path, allow partial false, required parameters fail",
    tp469_1_21 => case_1_21: "Set message with wildcard search path, allow partial true, required parameters fail",
    tp469_1_22 => case_1_22: "Set message with search expression search path",
    tp469_1_23 => case_1_23: "Set message with path that matches no objects",
    tp469_1_24 => case_1_24: "Delete message with allow partial false, valid object instance",
    tp469_1_25 => case_1_25: "Delete message with allow partial false, object instance doesn't exist",
    tp469_1_26 => case_1_26: "Delete message with allow partial false, invalid object",
    tp469_1_27 => case_1_27: "Delete message with allow partial false, multiple objects",
    tp469_1_28 => case_1_28: "Delete message with allow partial false, multiple objects, invalid object",
    tp469_1_29 => case_1_29: "Delete message with allow partial true, object instance doesn't exist",
    tp469_1_30 => case_1_30: "Delete message with allow partial true, invalid object",
    tp469_1_31 => case_1_31: "Delete message with allow partial true, multiple objects, invalid object",
    tp469_1_32 => case_1_32: "Delete message with allow partial true, multiple objects, object doesn't exist",
    tp469_1_33 => case_1_33: "Delete message with unique key addressing",
    tp469_1_34 => case_1_34: "Delete message with wildcard search path, valid objects",
    tp469_1_35 => case_1_35: "Delete message with search expression search path",
    tp469_1_36 => case_1_36: "Get message with full parameter path",
    tp469_1_37 => case_1_37: "Get message with multiple full parameter paths, same object",
    tp469_1_38 => case_1_38: "Get message with multiple full parameter paths, different objects",
    tp469_1_39 => case_1_39: "Get message with object path",
    tp469_1_40 => case_1_40: "Get message with object instance path",
    tp469_1_41 => case_1_41: "Get message with invalid parameter",
    tp469_1_42 => case_1_42: "Get message with invalid parameter and valid parameter",
    tp469_1_43 => case_1_43: "Get message using unique key addressing",
    tp469_1_44 => case_1_44: "Get message using wildcard search path on full parameter",
    tp469_1_45 => case_1_45: "Get message using wildcard search path on object path",
    tp469_1_46 => case_1_46: "Get message using search expression search path (equivalence)",
    tp469_1_47 => case_1_47: "Get message using search expression search path (non-equivalence)",
    tp469_1_48 => case_1_48: "Get message using search expression search path (exclusive greater comparison)",
    tp469_1_49 => case_1_49: "Get message using search expression search path (exclusive lesser comparison)",
    tp469_1_50 => case_1_50: "Get message using search expression search path (inclusive greater comparison)",
    tp469_1_51 => case_1_51: "Get message using search expression search path (inclusive lesser comparison)",
    tp469_1_52 => case_1_52: "Notify - Subscription creation using Value Change",
    tp469_1_53 => case_1_53: "Notify - Subscription Deletion Using Value Change",
    tp469_1_54 => case_1_54: "Notification Retry using Value Change",
    tp469_1_55 => case_1_55: "Subscription Expiration using Value Change",
    tp469_1_56 => case_1_56: "Notification Retry Expiration using Value Change",
    tp469_1_57 => case_1_57: "ObjectCreation Notification",
    tp469_1_58 => case_1_58: "ObjectDeletion Notification",
    tp469_1_59 => case_1_59: "Event Notification using Periodic!",
    tp469_1_60 => case_1_60: "OnBoardRequest Notification",
    tp469_1_61 => case_1_61: "Operate message using Reboot() with send_resp true",
    tp469_1_62 => case_1_62: "Operate message using Reboot() with send_resp false",
    tp469_1_64 => case_1_64: "Asynchronous operation with send_resp true",
    tp469_1_65 => case_1_65: "Asynchronous operation with send_resp false",
    tp469_1_66 => case_1_66: "GetInstances using a single object, first_level_only true",
    tp469_1_67 => case_1_67: "GetInstances using a single object, first_level_only false",
    tp469_1_68 => case_1_68: "GetInstances with multiple objects",
    tp469_1_70 => case_1_70: "GetInstances with wildcard search path",
    tp469_1_71 => case_1_71: "GetInstances with search expression search path",
    tp469_1_72 => case_1_72: "GetSupportedDM using a single object, first_level_only false, all options",
    tp469_1_73 => case_1_73: "GetSupportedDM using a single object, first_level_only true, all options",
    tp469_1_74 => case_1_74: "GetSupportedDM using a single object, first_level_only true, no options",
    tp469_1_75 => case_1_75: "GetSupportedDM using multiple objects, first_level_only true, all options",
    tp469_1_76 => case_1_76: "GetSupportedDM on root object, all options",
    tp469_1_77 => case_1_77: "GetSupportedDM on unsupported object",
    tp469_1_78 => case_1_78: "Removal of subscriptions that have no associated controller",
    tp469_1_79 => case_1_79: "Operate message using input arguments",
    tp469_1_80 => case_1_80: "GetSupportedProtocol",
    tp469_1_81 => case_1_81: "Automatic unique key generation",
    tp469_1_82 => case_1_82: "Get message with unmatched search expression",
    tp469_1_83 => case_1_83: "GetInstances message with unmatched search expression",
    tp469_1_84 => case_1_84: "Notification - Subscription using search paths",
    tp469_1_86 => case_1_86: "Get message with unresolved instances - using a search path",
    tp469_1_87 => case_1_87: "Get message with unresolved instances - using an object path",
    tp469_1_88 => case_1_88: "Add message fails when unique key is invalid",
    tp469_1_89 => case_1_89: "Get message using max_depth",
    tp469_1_90 => case_1_90: "Delete message with search expression that matches no objects",
    tp469_1_91 => case_1_91: "Unknown arguments in an Operate message",
    tp469_1_92 => case_1_92: "Agent uses default values for Operate arguments",
    tp469_1_93 => case_1_93: "Subscription using TriggerAction Config",
    tp469_1_94 => case_1_94: "Subscription using TriggerAction NotifyAndConfig",
    tp469_1_95 => case_1_95: "Add message with search expression",
    tp469_1_96 => case_1_96: "Non-functional Unique Key Immutability",
    tp469_1_97 => case_1_97: "GetSupportedDM on root object, commands",
    tp469_1_98 => case_1_98: "GetSupportedDM on root object, events",
    tp469_1_99 => case_1_99: "GetSupportedDM, unique_key_sets",
    tp469_1_100 => case_1_100: "Command with missing mandatory input_args",
    tp469_1_101 => case_1_101: "OnBoardRequest Notification - OnBoardingComplete set to false",
    tp469_1_102 => case_1_102: "OnBoardRequest Notification - OnBoardingRestartTime",
    tp469_1_103 => case_1_103: "OnBoardRequest Notification - OnBoardingRestartTime disabled",
    tp469_1_104 => case_1_104: "Set message on WriteOnceReadOnly parameter",
    tp469_1_105 => case_1_105: "GetSupportedDM on a Command",
    tp469_1_106 => case_1_106: "GetSupportedDM on an Event",
    tp469_1_107 => case_1_107: "GetSupportedDM on a Parameter",
}

/// Which walked cases each message-level fault breaks (TP-469 ids). The matrix test checks the
/// list is exact, so a change in the agent or in a walk that weakens a case shows up here.
const BREAKS: &[(Fault, &[&str])] = &[
    (
        Fault::IgnoreAllowPartial,
        &[
            "1.3", "1.4", "1.6", "1.7", "1.14", "1.15", "1.20", "1.26", "1.28", "1.88", "1.96",
            "1.104",
        ],
    ),
    (
        Fault::CreateDespiteRequiredFailure,
        &["1.3", "1.6", "1.7", "1.8", "1.9", "1.88"],
    ),
    (
        Fault::NoUniqueKeys,
        &["1.1", "1.2", "1.5", "1.9", "1.10", "1.57", "1.81"],
    ),
    (
        Fault::SetNotPersisted,
        &[
            "1.11", "1.12", "1.13", "1.16", "1.17", "1.19", "1.22", "1.52", "1.53", "1.54", "1.55",
            "1.56", "1.59", "1.84", "1.93", "1.94", "1.102",
        ],
    ),
    (Fault::NonRequiredFailsObject, &["1.17"]),
    (
        Fault::NoUniqueKeyAddressing,
        &["1.10", "1.18", "1.23", "1.33", "1.43", "1.71", "1.83"],
    ),
    (
        Fault::SearchIgnoresExpression,
        &[
            "1.18", "1.22", "1.23", "1.35", "1.43", "1.46", "1.47", "1.48", "1.49", "1.50", "1.51",
            "1.86", "1.90",
        ],
    ),
    (
        Fault::SearchOffByOne,
        &["1.22", "1.48", "1.49", "1.50", "1.51"],
    ),
    (
        Fault::DeleteNotDone,
        &[
            "1.24", "1.27", "1.31", "1.32", "1.33", "1.34", "1.35", "1.53", "1.58", "1.78",
        ],
    ),
    (Fault::DeleteMissingIsError, &["1.25", "1.29", "1.32"]),
    (
        Fault::GetAbsoluteKeys,
        &[
            "1.1", "1.2", "1.5", "1.9", "1.10", "1.21", "1.36", "1.37", "1.38", "1.39", "1.40",
            "1.42", "1.43", "1.44", "1.45", "1.46", "1.47", "1.48", "1.49", "1.50", "1.51", "1.89",
            "1.96",
        ],
    ),
    (
        Fault::GetResolvedPathIsParam,
        &["1.36", "1.37", "1.38", "1.42", "1.43", "1.44"],
    ),
    (Fault::GetInvalidParamError, &["1.41", "1.42"]),
    (
        Fault::WrongErrorCode,
        &[
            "1.3", "1.4", "1.6", "1.7", "1.8", "1.9", "1.14", "1.15", "1.16", "1.17", "1.20",
            "1.21", "1.26", "1.28", "1.30", "1.31", "1.41", "1.42", "1.100",
        ],
    ),
    (
        Fault::DropNotification,
        &[
            "1.52", "1.53", "1.54", "1.55", "1.56", "1.57", "1.58", "1.59", "1.60", "1.61", "1.62",
            "1.64", "1.65", "1.79", "1.84", "1.92", "1.94", "1.101", "1.102", "1.103",
        ],
    ),
    (Fault::NotifyAfterUnsubscribe, &["1.53"]),
    (Fault::NotifyAfterExpiry, &["1.55"]),
    (Fault::ReferenceInstancesOnly, &["1.57", "1.58", "1.84"]),
    (Fault::NoNotifRetry, &["1.54", "1.56"]),
    (Fault::NotifRetryTooSoon, &["1.54"]),
    (Fault::NotifRetryDelays(4500, 15000), &["1.54"]),
    (Fault::IgnoreTimeToLive, &["1.55"]),
    (Fault::IgnoreNotifExpiration, &["1.56"]),
    (Fault::PeriodicWrongInterval, &["1.59"]),
    (Fault::PeriodicEvery(55500), &["1.59"]),
    (Fault::RebootIgnored, &["1.61", "1.62"]),
    (Fault::GetInstancesIgnoresFirstLevel, &["1.66", "1.68"]),
    (Fault::GetInstancesFirstLevelOnly, &["1.67"]),
    (Fault::GsdmIgnoresFirstLevel, &["1.73", "1.74", "1.75"]),
    (
        Fault::GsdmOmitsDetails,
        &["1.72", "1.73", "1.75", "1.76", "1.97", "1.98"],
    ),
    (Fault::GsdmNoUniqueKeys, &["1.72", "1.75", "1.76", "1.99"]),
    (Fault::GsdmUnsupportedIsError, &["1.77"]),
    (Fault::GsdmLeafReturnsObject, &["1.105", "1.106", "1.107"]),
    (Fault::KeepOrphanSubscriptions, &["1.78"]),
    (Fault::WrongProtocolVersions, &["1.80"]),
    (
        Fault::NoAutoUniqueKeys,
        &[
            "1.5", "1.7", "1.11", "1.12", "1.13", "1.14", "1.15", "1.16", "1.17", "1.18", "1.19",
            "1.20", "1.21", "1.22", "1.23", "1.24", "1.27", "1.28", "1.31", "1.32", "1.34", "1.35",
            "1.38", "1.39", "1.40", "1.43", "1.44", "1.45", "1.46", "1.47", "1.48", "1.49", "1.50",
            "1.51", "1.57", "1.58", "1.78", "1.81", "1.84",
        ],
    ),
    (
        Fault::NoMatchIsError,
        &["1.23", "1.82", "1.83", "1.86", "1.87", "1.90"],
    ),
    (Fault::AcceptInvalidAlias, &["1.88"]),
    (Fault::IgnoreMaxDepth, &["1.89"]),
    (Fault::MaxDepthOffByOne, &["1.89"]),
    (Fault::MaxDepthZeroIsOne, &["1.39", "1.89"]),
    (Fault::RejectUnknownArguments, &["1.91"]),
    (Fault::IgnoreDefaultArguments, &["1.92"]),
    (Fault::IgnoreTriggerAction, &["1.93", "1.94"]),
    (Fault::AddRejectsSearchPath, &["1.95"]),
    (Fault::UniqueKeyMutable, &["1.96"]),
    (Fault::MissingArgsAccepted, &["1.100"]),
    (Fault::OperateIgnoresSendResp, &["1.60", "1.62", "1.65"]),
    (Fault::FailedCommandCompletes, &[]),
    (Fault::OnboardingCompleteNotCleared, &["1.101", "1.102"]),
    (Fault::OnboardingNoRestart, &["1.102"]),
    (Fault::OnboardingRestartAfter(55500), &["1.102"]),
    (Fault::OnboardingRestartWhenDisabled, &["1.103"]),
    (Fault::OnboardingIgnoresComplete, &["1.102"]),
    (Fault::OnboardNoProductClass, &["1.60"]),
    (Fault::WriteOnceRewritable, &["1.104"]),
    (Fault::GetInstancesRejectsWildcard, &["1.70"]),
    (
        Fault::GetSearchIsError,
        &[
            "1.43", "1.46", "1.47", "1.48", "1.49", "1.50", "1.51", "1.82", "1.86",
        ],
    ),
    (Fault::GetInstancesFirstPathOnly, &["1.68"]),
    (Fault::SetSearchFailureIsError, &["1.21"]),
    (Fault::SetFailureKept, &["1.21"]),
    (
        Fault::AddErrorLeaksSubscription,
        &["1.3", "1.4", "1.6", "1.7", "1.88"],
    ),
    (Fault::SetUnknownParamKept, &["1.14", "1.20"]),
    (Fault::DeletePartialNotDone, &["1.31", "1.32"]),
    (Fault::DeleteSearchDeletesAll, &["1.35"]),
    (
        Fault::GsdmKeysOnSingleInstance,
        &["1.72", "1.73", "1.76", "1.107"],
    ),
    (Fault::GsdmAsyncAsSync, &["1.76", "1.97"]),
    (
        Fault::GsdmMalformed(super::fault::GsdmPart::Params),
        &["1.72", "1.73", "1.75", "1.76", "1.107"],
    ),
    (
        Fault::AddNotCreated,
        &[
            "1.1", "1.2", "1.5", "1.9", "1.10", "1.11", "1.12", "1.13", "1.14", "1.15", "1.16",
            "1.17", "1.18", "1.19", "1.20", "1.21", "1.22", "1.24", "1.27", "1.28", "1.31", "1.32",
            "1.33", "1.34", "1.35", "1.38", "1.39", "1.40", "1.43", "1.44", "1.45", "1.46", "1.47",
            "1.48", "1.49", "1.50", "1.51", "1.52", "1.53", "1.54", "1.55", "1.56", "1.57", "1.58",
            "1.59", "1.61", "1.62", "1.64", "1.65", "1.67", "1.71", "1.78", "1.79", "1.84", "1.90",
            "1.92", "1.93", "1.94", "1.95", "1.96", "1.104",
        ],
    ),
    (
        Fault::AddDefaultValues,
        &[
            "1.1", "1.2", "1.9", "1.10", "1.21", "1.22", "1.35", "1.38", "1.43", "1.46", "1.47",
            "1.48", "1.49", "1.50", "1.51", "1.52", "1.53", "1.54", "1.55", "1.56", "1.57", "1.58",
            "1.59", "1.61", "1.62", "1.64", "1.65", "1.79", "1.84", "1.90", "1.92", "1.94",
        ],
    ),
    (Fault::AddSettingsFirstObjectOnly, &["1.5", "1.7", "1.9"]),
    (
        Fault::AddFailureKept,
        &["1.3", "1.6", "1.7", "1.8", "1.9", "1.88"],
    ),
    (
        Fault::SetRespNoUpdatedParams,
        &[
            "1.11", "1.12", "1.13", "1.16", "1.17", "1.18", "1.19", "1.22",
        ],
    ),
    (
        Fault::DeleteRespNoAffectedPaths,
        &[
            "1.1", "1.24", "1.27", "1.31", "1.32", "1.33", "1.34", "1.35", "1.53", "1.78",
        ],
    ),
    (
        Fault::ErrorFor(super::fault::Request::Set),
        &[
            "1.11", "1.12", "1.13", "1.14", "1.15", "1.16", "1.17", "1.18", "1.19", "1.20", "1.21",
            "1.22", "1.23", "1.52", "1.53", "1.54", "1.55", "1.56", "1.59", "1.84", "1.93", "1.94",
            "1.101", "1.102", "1.103",
        ],
    ),
];

/// Runs `case` against an agent with `fault`, reporting whether it failed.
fn breaks(fault: Fault, case: fn(&mut Agent)) -> bool {
    let mut a = agent(&[fault]);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(&mut a))).is_err()
}

#[test]
fn each_fault_breaks_its_cases() {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut report = Vec::new();
    for fault in super::fault::ALL
        .iter()
        .copied()
        .filter(|f| !f.is_io_fault())
    {
        let broken: Vec<String> = CASES
            .iter()
            .filter(|(_, _, case)| breaks(fault, *case))
            .map(|(name, _, _)| name.trim_start_matches("case_").replace('_', "."))
            .collect();
        report.push((fault, broken));
    }
    std::panic::set_hook(hook);
    for (fault, broken) in &report {
        println!("{fault}: {broken:?}");
    }
    for (fault, broken) in &report {
        let expected: Vec<String> = BREAKS
            .iter()
            .find(|(f, _)| f == fault)
            .map(|(_, b)| b.iter().map(|id| id.to_string()).collect())
            .unwrap_or_default();
        assert_eq!(*broken, expected, "{fault}");
    }
}
