//! Verdicts are honest: an agent that never connects is an error (not a failure, never a
//! pass); an agent that is the WebSocket server is reached by the harness as client; a
//! broken case file stops the run with file:line:column and exit code 3.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use uspcheck::agent::{AgentConfig, Fault};
use uspcheck::mtp::mqtt::Version;
use uspcheck::mtp::websocket;
use uspcheck::report::Verdict;
use uspcheck::run::target::BuiltinMtp;
use uspcheck::run::{Target, run_one, target};
use uspcheck::suite::{self, Case, profile::Profile};

mod common;
use common::{case, free_port, scratch, uspcheck};

fn profile(websocket: &str, connect_timeout: &str) -> Profile {
    Profile::parse(
        &format!(
            "eut: {{ endpoint_id: '{}' }}\ncontroller: {{ endpoint_id: '{}' }}\nwebsocket: {websocket}\nfeatures: [7, 31]\ntimeouts: {{ response: 5s, connect: {connect_timeout} }}\n",
            target::BUILTIN_AGENT_ID,
            target::DEFAULT_CONTROLLER_ID
        ),
        "test-profile.yaml",
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_that_never_connects_is_an_error_not_a_failure() {
    let t = Target::from_profile(profile("{ mode: listen, listen: '127.0.0.1:0' }", "300ms"));
    let o = run_one(&case("1.36"), &t).await;
    assert_eq!(o.verdict(), Verdict::Error);
    let f = o.failure().unwrap();
    assert!(f.message.contains("agent not reachable"), "{}", f.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_server_that_is_down_is_an_error() {
    // A port that was free a moment ago: nothing listens there now.
    let port = free_port();
    let setup = format!("{{ mode: connect, url: 'ws://127.0.0.1:{port}/usp' }}");
    let t = Target::from_profile(profile(&setup, "8s"));
    let o = run_one(&case("1.36"), &t).await;
    assert_eq!(o.verdict(), Verdict::Error, "{:?}", o.failure());
    // The OS's own word for it, once; the next case does not wait the whole bound again.
    let first = o.failure().unwrap().message.clone();
    assert!(
        first.contains("within 8 s") && first.contains("refused"),
        "{first}"
    );
    let o = run_one(&case("1.37"), &t).await;
    assert_eq!(o.verdict(), Verdict::Error, "{:?}", o.failure());
    let next = o.failure().unwrap().message.clone();
    assert!(
        next.contains("still not reachable") && next.contains("within 5 s"),
        "{next}"
    );
}

/// The reference agent as a WebSocket server on 127.0.0.1, with `faults`, and a target that
/// connects to it.
async fn agent_server(faults: Vec<Fault>) -> (Target, tokio::task::JoinHandle<()>) {
    let server = websocket::Server::bind("127.0.0.1:0", target::BUILTIN_AGENT_ID)
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    let cfg = AgentConfig {
        endpoint_id: target::BUILTIN_AGENT_ID.into(),
        controller_id: target::DEFAULT_CONTROLLER_ID.into(),
        faults,
        software_version: "test".into(),
    };
    let agent = tokio::spawn(uspcheck::agent::run::server(
        uspcheck::agent::run::Listener::WebSocket(server),
        cfg,
    ));
    let setup = format!("{{ mode: connect, url: 'ws://{addr}/usp' }}");
    (Target::from_profile(profile(&setup, "5s")), agent)
}

/// A profile that names no asynchronous operation skips the step that needs one (`if_set`),
/// rather than making 1.76 an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_for_an_alternate_the_profile_lacks_is_skipped() {
    let (t, agent) = agent_server(vec![]).await;
    let o = run_one(&case("1.76"), &t).await;
    assert_eq!(o.verdict(), Verdict::Pass, "{:?}", o.failure());
    agent.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_harness_connects_to_an_agent_that_is_the_server() {
    let (t, agent) = agent_server(vec![]).await;
    // One session kept across cases, as with a real agent (R-WS.4); 1.78's second
    // Controller gets a session of its own beside it, and the cases after it still have theirs.
    for id in ["1.1", "1.10", "1.78", "1.36"] {
        let o = run_one(&case(id), &t).await;
        assert_eq!(o.verdict(), Verdict::Pass, "{id}: {:?}", o.failure());
        assert!(
            o.cleanup_problems.is_empty(),
            "{id}: {:?}",
            o.cleanup_problems
        );
    }
    agent.abort();
}

#[test]
fn a_broken_case_file_names_file_line_and_column_and_exits_3() {
    let d = scratch("broken");
    std::fs::write(
        d.join("9.1.yaml"),
        "id: '9.1'\ntitle: t\ntp469: '1.4.0'\ntag: mandatory\nsteps:\n  - send: { get: {} }\n    expct: {}\n",
    )
    .unwrap();
    let (code, out) = uspcheck(&["run", "--cases", "."], &d);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("9.1.yaml:7:5"), "{out}");
    assert!(out.contains("expct"), "{out}");
}

#[test]
fn the_cli_runs_cases_writes_reports_and_exits_by_verdict() {
    let d = scratch("cli");
    let (code, out) = uspcheck(&["run", "1.36", "1.41"], &d);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("2 passed, 0 failed, 0 errors, 0 not applicable,"),
        "{out}"
    );
    let junit = std::fs::read_to_string(d.join("reports/junit.xml")).unwrap();
    assert!(
        junit.contains("tp469_id") && junit.contains("1.36"),
        "{junit}"
    );
    assert!(d.join("reports/index.html").exists());
    let (code, out) = uspcheck(&["run", "--fault", "get-invalid-param-error", "1.41"], &d);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("expected:") && out.contains("actual:"),
        "{out}"
    );
    let (code, _) = uspcheck(&["run", "--fault", "no-such-fault"], &d);
    assert_eq!(code, 2);
}

#[test]
fn waits_are_bounded_by_the_profile() {
    // The parse of durations is what bounds every wait; make sure a profile cannot disable it.
    let p = profile("{ mode: listen, listen: '127.0.0.1:0' }", "1s");
    assert_eq!(p.timeouts.connect.0, Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profile_start_command_launches_the_agent_over_uds() {
    let dir = scratch("start");
    let sock = dir.join("controller.sock");
    let start = format!(
        // No `exec`: the agent is the shell's child, and must still be stopped with the run.
        "'{}' agent --connect-uds '{}' --endpoint-id '{}' --controller-id '{}'; true",
        env!("CARGO_BIN_EXE_uspcheck"),
        sock.display(),
        target::BUILTIN_AGENT_ID,
        target::DEFAULT_CONTROLLER_ID
    );
    let text = format!(
        "eut: {{ endpoint_id: '{}' }}\ncontroller: {{ endpoint_id: '{}' }}\nuds: {{ mode: listen, path: '{}' }}\ntimeouts: {{ response: 5s, connect: 20s }}\nstart: \"{}\"\n",
        target::BUILTIN_AGENT_ID,
        target::DEFAULT_CONTROLLER_ID,
        sock.display(),
        start.replace('"', "\\\"")
    );
    let t = Target::from_profile(Profile::parse(&text, "uds.yaml").unwrap());
    assert!(t.is_extended(), "UDS runs are an extended suite");
    for id in ["1.1", "1.24"] {
        let o = run_one(&case(id), &t).await;
        assert_eq!(o.verdict(), Verdict::Pass, "{id}: {:?}", o.failure());
    }
    drop(t);
    // The agent process goes with the run: poll (bounded) until no process names its socket.
    let needle = sock.display().to_string();
    let alive = || {
        std::fs::read_dir("/proc").unwrap().flatten().any(|p| {
            std::fs::read(p.path().join("cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(&needle))
                .unwrap_or(false)
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while alive() {
        assert!(
            std::time::Instant::now() < deadline,
            "the agent outlived the run"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn every_example_profile_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut seen = 0;
    for sub in std::fs::read_dir(&dir).unwrap().flatten() {
        for f in std::fs::read_dir(sub.path()).unwrap().flatten() {
            if f.path().extension().is_some_and(|e| e == "yaml") {
                Profile::load(&f.path()).unwrap_or_else(|e| panic!("{e}"));
                seen += 1;
            }
        }
    }
    assert!(seen >= 2, "the examples hold profiles");
}

/// The "write your first case" walk-through of docs/case-format.md works as written: its case
/// loads with `check --cases`, passes against the built-in agent with `run --cases`, fails
/// under the fault the page names, and the misspelling it shows is refused where it says.
#[test]
fn the_first_case_walk_through_works() {
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/case-format.md"))
            .unwrap();
    let block = page
        .split("<!-- walk-through case")
        .nth(1)
        .and_then(|b| b.split("```yaml\n").nth(1))
        .and_then(|b| b.split("```").next())
        .expect("the walk-through's case block");
    let d = scratch("first-case");
    std::fs::create_dir_all(d.join("my-cases")).unwrap();
    std::fs::write(d.join("my-cases/my-1.yaml"), block).unwrap();
    let (code, out) = uspcheck(&["check", "--cases", "my-cases"], &d);
    assert_eq!((code, out.trim()), (0, "1 case files load"));
    let (code, out) = uspcheck(
        &["run", "--cases", "my-cases", "--report-dir", "my-reports"],
        &d,
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("uspcheck: 1 passed, 0 failed"), "{out}");
    assert!(d.join("my-reports/index.html").exists());
    let (code, out) = uspcheck(
        &["run", "--cases", "my-cases", "--fault", "error-for=get"],
        &d,
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("steps[0] 'get'"), "{out}");
    std::fs::write(
        d.join("my-cases/my-1.yaml"),
        block.replace("regex:", "regexp:"),
    )
    .unwrap();
    let (code, out) = uspcheck(&["check", "--cases", "my-cases"], &d);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("my-cases/my-1.yaml:27:53: steps[0]: `regexp` is not an operator"),
        "{out}"
    );
}

/// Every whole profile in docs/eut-profile.md (a YAML block with `eut:`) loads, so the page a
/// vendor copies from cannot go stale; there is one per MTP and role.
#[test]
fn every_profile_in_the_docs_loads() {
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/eut-profile.md"))
            .unwrap();
    let mut kinds = Vec::new();
    for (i, block) in page.split("```yaml\n").skip(1).enumerate() {
        let text = block.split("```").next().unwrap();
        if !text.lines().any(|l| l.starts_with("eut:")) {
            continue;
        }
        let p = Profile::parse(text, &format!("docs/eut-profile.md block {}", i + 1))
            .unwrap_or_else(|e| panic!("{e}"));
        kinds.push(format!("{:?}", p.mtp()));
    }
    for kind in [
        "WebSocket(Listen",
        "WebSocket(Connect",
        "Uds(Listen",
        "Uds(Connect",
        "broker: Embedded",
        "broker: External",
    ] {
        assert!(
            kinds.iter().any(|k| k.contains(kind)),
            "the page has a {kind} profile: {kinds:?}"
        );
    }
    assert!(kinds.len() >= 7, "{kinds:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_needing_what_the_eut_lacks_is_not_applicable() {
    let c = suite::load_str(
        "id: '9.2'\ntitle: t\ntp469: '1.4.0'\ntag: conditional\nsetup:\n  - require_supported: Device.NoSuchThing.Run()\nsteps:\n  - send: { get: { param_paths: [Device.LocalAgent.EndpointID] } }\n",
        "9.2.yaml",
    )
    .unwrap();
    let o = run_one(&c, &Target::builtin(vec![])).await;
    assert_eq!(o.verdict(), Verdict::NotApplicable, "{:?}", o.failure());
    assert!(
        o.reason()
            .unwrap()
            .contains("does not support Device.NoSuchThing.Run()")
    );
}

/// A case that reboots the agent and then checks that nothing arrives: the connection is
/// gone for most of the span.
fn silence_after_reboot(while_closed: bool) -> Case {
    suite::load_str(
        &format!(
            "id: '9.3'\ntitle: t\ntp469: '1.4.0'\ntag: mandatory\nsteps:\n  - send: {{ operate: {{ command: Device.Reboot(), command_key: k, send_resp: true }} }}\n    expect: {{ operate_resp: {{}} }}\n  - expect_none: {{ notify: {{}} }}\n    for: 2s\n    while_closed: {while_closed}\n"
        ),
        "9.3.yaml",
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_over_a_closed_connection_is_inconclusive_not_a_pass() {
    let o = run_one(&silence_after_reboot(false), &Target::builtin(vec![])).await;
    assert_eq!(o.verdict(), Verdict::Error, "{:?}", o.failure());
    let f = o.failure().unwrap();
    assert!(
        f.message.contains("inconclusive") && f.message.contains("closed"),
        "{}",
        f.message
    );
    // A case that means "nothing while the agent is away" says so.
    let o = run_one(&silence_after_reboot(true), &Target::builtin(vec![])).await;
    assert_eq!(o.verdict(), Verdict::Pass, "{:?}", o.failure());
}

/// The case's verdict and failure text against the built-in agent with `faults`, over `mtp`.
async fn verdict_with(faults: Vec<Fault>, mtp: BuiltinMtp) -> (Verdict, String) {
    let o = run_one(&case("1.36"), &Target::BuiltIn { faults, mtp }).await;
    (
        o.verdict(),
        o.failure().map(|f| f.text()).unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_client_handshake_that_breaks_the_binding_fails_citing_it() {
    for (fault, requirement) in [
        (Fault::WsNoSubprotocol, "R-WS.10"),
        (Fault::WsNoEidQuery, "R-WS.10b"),
    ] {
        let (v, text) = verdict_with(vec![fault], BuiltinMtp::WebSocket).await;
        assert_eq!(v, Verdict::Fail, "{fault}: {text}");
        assert!(
            text.contains(&format!("TR-369 {requirement}:")),
            "{fault}: {text}"
        );
        assert!(!text.contains("not reachable"), "{fault}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_server_answering_without_the_subprotocol_fails_citing_r_ws_11() {
    let (t, agent) = agent_server(vec![Fault::WsNoSubprotocol]).await;
    let o = run_one(&case("1.36"), &t).await;
    agent.abort();
    assert_eq!(o.verdict(), Verdict::Fail, "{:?}", o.failure());
    let text = o.failure().unwrap().text();
    assert!(text.contains("TR-369 R-WS.11:"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mqtt_connect_without_the_endpoint_id_property_fails_citing_r_mqtt_13() {
    let (v, text) = verdict_with(
        vec![Fault::MqttNoEndpointIdProperty],
        BuiltinMtp::Mqtt(Version::V5),
    )
    .await;
    assert_eq!(v, Verdict::Fail, "{text}");
    assert!(text.contains("R-MQTT.13"), "{text}");
}

/// One answer judged under three metrics: `sends`, its content, and a `check` of the same
/// answer for a third.
const ONE_ANSWER_THREE_METRICS: &str = r#"
id: "9.4"
title: t
tp469: "1.4.0"
tag: mandatory
metrics: [The EUT sends a GetResp., It names the path., The value is the agent's.]
steps:
  - name: get
    send: { get: { param_paths: [Device.LocalAgent.EndpointID] } }
    expect: { get_resp: { req_path_results: [{ requested_path: Device.LocalAgent.EndpointID }] } }
    metric: { sends: 1, content: 2 }
  - check: get
    expect:
      get_resp:
        req_path_results:
          - resolved_path_results: [{ result_params: { EndpointID: VALUE } }]
    metric: 3
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_metric_of_one_answer_gets_its_own_verdict() {
    use uspcheck::report::model::MetricVerdict::{self, *};
    let run = |value: &str, faults: Vec<Fault>| {
        let c = suite::load_str(
            &ONE_ANSWER_THREE_METRICS.replace("VALUE", value),
            "9.4.yaml",
        )
        .unwrap();
        async move {
            let o = run_one(&c, &Target::builtin(faults)).await;
            let v: Vec<MetricVerdict> = o.metrics.iter().map(|m| m.verdict).collect();
            (o.verdict(), v)
        }
    };
    let id = target::BUILTIN_AGENT_ID;
    assert_eq!(
        run(id, vec![]).await,
        (Verdict::Pass, vec![Pass, Pass, Pass])
    );
    // The right answer with a value that is not the agent's: only the check fails.
    assert_eq!(
        run("os::someone-else", vec![]).await,
        (Verdict::Fail, vec![Pass, Pass, Fail])
    );
    // An Error instead of the GetResp: it was not sent, so its content is not there either.
    let error = "error-for=get".parse().unwrap();
    assert_eq!(
        run(id, vec![error]).await,
        (Verdict::Fail, vec![Fail, Fail, NotReached])
    );
    // A check naming a step that receives nothing is refused when the case loads.
    let bad = ONE_ANSWER_THREE_METRICS.replace("check: get", "check: gte");
    let e = suite::load_str(&bad, "9.4.yaml").unwrap_err();
    assert!(e.message.contains("check 'gte' does not name"), "{e}");
}

#[test]
fn a_selection_that_selects_nothing_or_cannot_apply_is_a_usage_error() {
    let d = scratch("selection");
    let usage = |args: &[&str], says: &str| {
        let (code, out) = uspcheck(args, &d);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(out.contains(says), "{args:?}: {out}");
    };
    usage(&["run", "1.36", "99.99"], "no case matches `99.99`");
    usage(&["run", "pereodic"], "no case matches `pereodic`");
    usage(&["run", "1.58-1.1"], "ends before it starts");
    usage(
        &["run", "--test-threads", "0"],
        "--test-threads must be at least 1",
    );
    usage(
        &["run", "--eut", "x.yaml", "--mtp", "uds"],
        "--mtp applies to the built-in agent only",
    );
    let (code, out) = uspcheck(&["run", "--list", "1.36-1.38"], &d);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("1.3")).count(),
        3,
        "{out}"
    );
    let (code, out) = uspcheck(&["run", "--list", "11.1"], &d);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("not applicable: this case is for the MQTT MTP"),
        "{out}"
    );
    std::fs::create_dir_all(d.join("empty")).unwrap();
    let (code, out) = uspcheck(&["run", "--cases", "empty"], &d);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("holds no case file"), "{out}");
}

#[test]
fn a_fifo_or_an_endless_file_is_refused_not_read() {
    let d = scratch("not-files");
    std::fs::create_dir_all(d.join("cases")).unwrap();
    let fifo = d.join("cases/x.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let (code, out) = uspcheck(&["check", "--cases", "cases"], &d);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("not a regular file"), "{out}");
    let (code, out) = uspcheck(&["run", "--eut", "/dev/zero"], &d);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("not a regular file"), "{out}");
}

#[test]
fn an_error_is_printed_as_error_on_its_result_line_not_as_failed() {
    let d = scratch("error-line");
    let eut = profile("{ mode: listen, listen: '127.0.0.1:0' }", "300ms");
    std::fs::write(
        d.join("eut.yaml"),
        format!(
            "eut: {{ endpoint_id: '{}' }}\ncontroller: {{ endpoint_id: '{}' }}\nwebsocket: {{ mode: listen, listen: '127.0.0.1:0' }}\nfeatures: [31]\ntimeouts: {{ response: 5s, connect: 300ms }}\n",
            eut.eut.endpoint_id, eut.controller.endpoint_id
        ),
    )
    .unwrap();
    let (code, out) = uspcheck(&["run", "--eut", "eut.yaml", "1.36"], &d);
    assert_eq!(code, 4, "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("test 1.36 "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.ends_with("... ERROR"), "{line}");
    assert!(!out.contains("FAILED"), "{out}");
    assert!(out.contains("0 failed, 1 errors"), "{out}");
    // A failure keeps its word.
    let (code, out) = uspcheck(&["run", "--fault", "get-invalid-param-error", "1.41"], &d);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("... FAILED"), "{out}");
}

#[test]
fn a_report_folder_that_cannot_be_written_is_a_usage_error_before_any_case_runs() {
    let d = scratch("report-dir");
    // A folder cannot be made under a regular file, whoever runs the test (root included).
    std::fs::write(d.join("file"), "").unwrap();
    let (code, out) = uspcheck(&["run", "--report-dir", "file/reports", "1.36"], &d);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("report folder") && out.contains("file/reports"),
        "{out}"
    );
    assert!(!out.contains("running"), "no case ran: {out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_command_that_exits_at_once_is_an_error_naming_its_exit_status() {
    let dir = scratch("start-fails");
    let text = format!(
        "eut: {{ endpoint_id: '{}' }}\ncontroller: {{ endpoint_id: '{}' }}\nuds: {{ mode: listen, path: '{}' }}\ntimeouts: {{ response: 5s, connect: 60s }}\nstart: \"no-such-agent-binary --flag\"\n",
        target::BUILTIN_AGENT_ID,
        target::DEFAULT_CONTROLLER_ID,
        dir.join("controller.sock").display(),
    );
    let t = Target::from_profile(Profile::parse(&text, "fails.yaml").unwrap());
    let began = std::time::Instant::now();
    let o = run_one(&case("1.36"), &t).await;
    assert_eq!(o.verdict(), Verdict::Error, "{:?}", o.failure());
    let message = &o.failure().unwrap().message;
    assert!(
        message.contains("\"no-such-agent-binary --flag\" exited with status 127"),
        "{message}"
    );
    // Well within the 60 s connect bound: the command was given up on, not waited out.
    assert!(
        began.elapsed() < Duration::from_secs(20),
        "{:?}",
        began.elapsed()
    );
    // The next case ends at once, for the same reason (the case is read before the clock
    // starts: reading every case file is not what is timed).
    let next = case("1.36");
    let began = std::time::Instant::now();
    let o = run_one(&next, &t).await;
    assert!(o.failure().unwrap().message.contains("status 127"));
    assert!(
        began.elapsed() < Duration::from_secs(1),
        "{:?}",
        began.elapsed()
    );
}
