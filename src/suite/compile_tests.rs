use serde_json::{Value, json};

use super::*;
use crate::suite::matcher::MatchError;
use crate::suite::vars::Vars;

fn node(yaml: &str) -> Node {
    serde_saphyr::from_str(yaml).unwrap()
}

fn answer(yaml: &str) -> R<Matcher> {
    compile(&node(yaml), &Shape::answer(), &Scope { captured: &[] })
}

fn open(yaml: &str) -> Matcher {
    open_with(yaml, &[])
}

/// Compiles against any shape, with these names captured by earlier steps.
fn open_with(yaml: &str, captured: &[&str]) -> Matcher {
    let captured: Vec<String> = captured.iter().map(|c| c.to_string()).collect();
    let scope = Scope {
        captured: &captured,
    };
    compile(&node(yaml), &Shape::Open, &scope).unwrap()
}

fn ok(m: &Matcher, a: Value) -> Vars {
    let mut v = Vars::default();
    m.check(&a, &mut v).unwrap_or_else(|e| panic!("{e}"));
    v
}

fn bad(m: &Matcher, a: Value) -> String {
    match m.check(&a, &mut Vars::default()) {
        Err(MatchError::Mismatch(mm)) => mm.to_string(),
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

#[test]
fn problems_are_found_at_their_line_and_column() {
    let e = answer("get_resp:\n  req_path_results:\n    - requested_path: { regexp: 'x' }\n")
        .unwrap_err();
    assert_eq!((e.at.line, e.at.column), (3, 25), "{e:?}");
    assert!(e.message.contains("did you mean `regex`"), "{e:?}");

    let e = answer("get_resp: { req_path_results: [ { requested_path: { regex: '(' } } ] }")
        .unwrap_err();
    assert!(e.message.contains("invalid regex"), "{e:?}");

    let e = answer("get_resp: { req_path_results: { len: two } }").unwrap_err();
    assert!(e.message.contains("whole number"), "{e:?}");

    let e = answer("error: { err_code: { gt: seven } }").unwrap_err();
    assert!(e.message.contains("takes a number"), "{e:?}");

    let e = answer("get_resp: { req_path_result: [] }").unwrap_err();
    assert!(e.message.contains("not a field of GetResp"), "{e:?}");
    assert_eq!(e.at.column, 13);

    let e = answer("notify: {}").unwrap_err();
    assert!(e.message.contains("not a message body"), "{e:?}");

    let e = answer("error: { err_code: 7004, regex: x }").unwrap_err();
    assert!(e.message.contains("mixes the operator"), "{e:?}");

    let e = answer("error: { err_code: [7004] }").unwrap_err();
    assert!(e.message.contains("a list cannot match"), "{e:?}");

    let e =
        answer("error: { param_errs: { each: { param_path: { capture: 'a b' } } } }").unwrap_err();
    assert!(e.message.contains("variable name"), "{e:?}");
}

#[test]
fn variables_must_be_captured_earlier_or_given_by_the_profile() {
    let e = answer("delete_resp: { deleted_obj_results: [ { requested_path: '${sub}' } ] }")
        .unwrap_err();
    assert!(e.message.contains("${sub}"), "{e:?}");
    let captured = vec!["sub".to_string()];
    let scope = Scope {
        captured: &captured,
    };
    let n = node("delete_resp: { deleted_obj_results: [ { requested_path: '${sub}' } ] }");
    compile(&n, &Shape::answer(), &scope).unwrap();
    answer("error: { err_msg: '${eut.endpoint_id}' }").unwrap();
    answer("error: { err_msg: '${alt.command}' }").unwrap();
    let e = answer("error: { err_msg: '${eut.endpointid}' }").unwrap_err();
    assert!(e.message.contains("the profile gives"), "{e:?}");
    // A capture used later in the same expectation is known.
    answer("error: { err_code: { capture: c }, err_msg: '${c}' }").unwrap();
}

#[test]
fn enum_values_and_body_fields_are_checked() {
    let n = node("header: { msg_type: GET_RESPONSE }");
    let e = compile(
        &n,
        &Shape::Message(crate::usp::reflect::message("usp.Msg")),
        &Scope { captured: &[] },
    )
    .unwrap_err();
    assert!(e.message.contains("GET_RESP"), "{e:?}");
}

#[test]
fn operators_match_as_documented() {
    ok(&open("{a: 1}"), json!({"a": "1", "b": 2}));
    assert!(bad(&open("{a: [1]}"), json!({"a": [1, 2]})).contains("at a:"));
    ok(&open("{c: {any_of: [7004, 7021]}}"), json!({"c": 7021}));
    assert!(bad(&open("{c: {any_of: [7004]}}"), json!({"c": 7003})).contains("one of"));
    ok(
        &open(r#"{p: {regex: '^Device\.X\.\d+\.$'}}"#),
        json!({"p": "Device.X.3."}),
    );
    ok(&open("{num: {gt: 10, le: 20}}"), json!({"num": "20"}));
    bad(&open("{num: {gt: 10}}"), json!({"num": "10"}));
    ok(
        &open("{e: {absent: true}, f: {absent: true}}"),
        json!({"e": []}),
    );
    ok(
        &open("{l: {len: 2, each: {k: 1}}}"),
        json!({"l": [{"k": 1}, {"k": 1}]}),
    );
    ok(&open("{m: {keys: [B, A]}}"), json!({"m": {"A": 1, "B": 2}}));
    bad(&open("{m: {keys: [A]}}"), json!({"m": {"A": 1, "B": 2}}));
    ok(
        &open("{l: {unordered: [{k: 2}, {k: 1}]}}"),
        json!({"l": [{"k": 1}, {"k": 2}]}),
    );
    let v = ok(
        &open("{l: {contains: [{k: 2, p: {capture: x}}]}}"),
        json!({"l": [{"k": 1}, {"k": 2, "p": "z"}]}),
    );
    assert_eq!(v.get("x"), Some("z"));
    bad(&open("{l: {none: {k: 1}}}"), json!({"l": [{"k": 1}]}));
    ok(
        &open("{u: {any: [{keys: [A, B]}, {keys: [B]}]}}"),
        json!({"u": {"B": 1}}),
    );
    ok(&open("{x: {not: 3}}"), json!({"x": 4}));
    ok(
        &open("{x: {all: [{min_len: 1}, {not_empty: true}]}}"),
        json!({"x": "a"}),
    );
    ok(
        &open(r#"{m: {each_key: {regex: '^[A-Z]\w*$'}}}"#),
        json!({"m": {"Enable": 1, "ID": 2}}),
    );
    assert!(
        bad(
            &open(r#"{m: {each_key: {regex: '^[A-Z]\w*$'}}}"#),
            json!({"m": {"Enable": 1, "Device.X.ID": 2}})
        )
        .contains("Device.X.ID")
    );
}

#[test]
fn contains_names_every_missing_element() {
    let m = open("{l: {contains: [{k: 1}, {k: 3}, {k: 4}]}}");
    let why = bad(&m, json!({"l": [{"k": 1}, {"k": 2}]}));
    assert!(why.contains("item 1") && why.contains("item 2"), "{why}");
}

#[test]
fn variables_in_regexes_are_literal_text() {
    let m = open_with(r#"{p: {regex: '^${ctrl}?$'}}"#, &["ctrl"]);
    let mut v = Vars::default();
    v.set("ctrl", "Device.C.1.");
    assert!(m.matches(&json!({"p": "Device.C.1"}), &v));
    assert!(m.matches(&json!({"p": "Device.C.1."}), &v));
    // The dots of the value are not "any character".
    assert!(!m.matches(&json!({"p": "DeviceXC.1."}), &v));
}

#[test]
fn unset_variables_are_the_harness_s_error_not_a_mismatch() {
    let m = open_with("{p: '${sub}'}", &["sub"]);
    assert_eq!(m.unset(&Vars::default()).unwrap_err().name, "sub");
    assert!(matches!(
        m.check(&json!({"p": "x"}), &mut Vars::default()),
        Err(MatchError::Unset(_))
    ));
    let mut v = Vars::default();
    v.set("sub", "Device.X.1.");
    assert!(
        m.show(&v).contains("${sub} = \"Device.X.1.\""),
        "{}",
        m.show(&v)
    );
}

#[test]
fn packet_expectations_know_their_kind_and_fields() {
    let scope = Scope { captured: &[] };
    let p = packet(
        &node("{kind: CONNECT, client_id: x, if_5_0: {properties: {session_expiry_interval: 0}}}"),
        &scope,
    )
    .unwrap();
    assert_eq!(p.kind, "CONNECT");
    assert_eq!(p.for_version(Some(Version::V5)).len(), 2);
    assert_eq!(p.for_version(Some(Version::V311)).len(), 1);
    let e = packet(&node("{kind: CONECT}"), &scope).unwrap_err();
    assert!(e.message.contains("CONNECT"), "{e:?}");
    let e = packet(&node("{kind: CONNECT, clientid: x}"), &scope).unwrap_err();
    assert!(e.message.contains("client_id"), "{e:?}");
    let e = packet(&node("{client_id: x}"), &scope).unwrap_err();
    assert!(e.message.contains("kind"), "{e:?}");
    packet(
        &node("{kind: PUBLISH, msg: {header: {msg_type: NOTIFY}}}"),
        &scope,
    )
    .unwrap();
}

#[test]
fn if_var_applies_a_check_only_when_the_variable_matches() {
    let m = open_with(
        r#"{p: {if_var: {var: versions, matches: {regex: '3\.1'}, then: {len: 2}}}}"#,
        &["versions"],
    );
    let mut v = Vars::default();
    v.set("versions", "5.0");
    assert!(m.matches(&json!({"p": [1]}), &v));
    v.set("versions", "3.1.1,5.0");
    assert!(!m.matches(&json!({"p": [1]}), &v));
    assert!(m.matches(&json!({"p": [1, 2]}), &v));
    let e = compile(
        &node("{p: {if_var: {var: nope, matches: x, then: y}}}"),
        &Shape::Open,
        &Scope { captured: &[] },
    )
    .unwrap_err();
    assert!(e.message.contains("${nope}"), "{e:?}");
}

#[test]
fn covers_snapshot_requires_every_instance() {
    let m = open_with(
        "{l: {covers_snapshot: {snapshot: s, field: resolved_path}}}",
        &["s"],
    );
    let mut v = Vars::default();
    v.set("s", r#"["A.1.","A.2."]"#);
    assert!(m.matches(
        &json!({"l": [{"resolved_path": "A.2."}, {"resolved_path": "A.1."}]}),
        &v
    ));
    assert!(!m.matches(&json!({"l": [{"resolved_path": "A.1."}]}), &v));
}

#[test]
fn captures_inside_any_or_not_are_not_offered_to_later_steps() {
    let m = open("{a: {any: [{capture: xa}, 1]}, b: {capture: yb}, c: {not: {capture: zc}}}");
    assert_eq!(m.captures(), ["yb"]);
}
