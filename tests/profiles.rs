//! Profiles that fit real set-ups: a start command with the port uspcheck chose, the
//! profile's folder and variables of the environment, run in the profile's folder, its output
//! in the report folder's agent.log; and the preflight that stops a run whose profile names
//! other Endpoint IDs than the agent presents, before any case.

use std::path::Path;
use std::process::Command;

use uspcheck::run::target;

mod common;
use common::scratch;

/// uspcheck with `args` in `cwd`, with `USPCHECK_BIN` set to itself: its exit code, its
/// standard output and its standard error.
fn uspcheck(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_uspcheck"))
        .args(args)
        .current_dir(cwd)
        .env("USPCHECK_BIN", env!("CARGO_BIN_EXE_uspcheck"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A profile in `dir/bench/eut.yaml` naming `eut_id` and the default Controller, whose start
/// command runs the reference agent as a WebSocket client of the port uspcheck chose, as
/// `agent_id`, trusting the Controller `agent_ctrl`.
fn write_profile(dir: &Path, eut_id: &str, (agent_id, agent_ctrl): (&str, &str)) {
    std::fs::create_dir_all(dir.join("bench")).unwrap();
    std::fs::write(
        dir.join("bench/eut.yaml"),
        format!(
            "eut: {{ endpoint_id: '{eut_id}' }}\ncontroller: {{ endpoint_id: '{ctrl}' }}\n\
             websocket: {{ mode: listen, listen: '127.0.0.1:0' }}\nfeatures:\n\
             timeouts: {{ response: 3s, connect: 20s }}\nstart: |\n  \
             echo \"hello $((6 * 7))\"\n  \
             echo \"dir=${{profile.dir}} pwd=$(pwd)\" >&2\n  \
             exec \"${{env.USPCHECK_BIN}}\" agent --connect \"ws://127.0.0.1:${{websocket.port}}/usp\" \
             --endpoint-id '{agent_id}' --controller-id '{agent_ctrl}'\n",
            ctrl = target::DEFAULT_CONTROLLER_ID,
        ),
    )
    .unwrap();
}

#[test]
fn the_start_command_gets_the_chosen_port_runs_in_the_profiles_folder_and_logs_to_a_file() {
    let d = scratch("start-vars");
    let (id, ctrl) = (target::BUILTIN_AGENT_ID, target::DEFAULT_CONTROLLER_ID);
    write_profile(&d, id, (id, ctrl));
    let (code, out, err) = uspcheck(
        &[
            "run",
            "--eut",
            "bench/eut.yaml",
            "--report-dir",
            "out",
            "1.1",
        ],
        &d,
    );
    assert_eq!(code, 0, "{out}{err}");
    let log_path = d.join("out/agent.log");
    assert!(
        !out.contains("hello 42") && !err.contains("hello 42"),
        "the agent's output went to the terminal: {out}{err}"
    );
    assert!(err.contains("(its output: out/agent.log)"), "{err}");
    assert!(
        err.contains(&format!(
            "uspcheck: preflight: the agent presents itself as \"{id}\" (the eid of its \
             WebSocket handshake; the from_id of its WebSocketConnectRecord"
        )),
        "{err}"
    );
    let log = std::fs::read_to_string(&log_path).unwrap();
    let bench = d.join("bench").canonicalize().unwrap();
    assert!(log.contains("hello 42"), "{log}");
    assert!(
        log.contains(&format!("dir={0} pwd={0}", bench.display())),
        "{log}"
    );
    // A later run that starts no agent leaves no log looking like its own.
    let (code, out, err) = uspcheck(&["run", "--report-dir", "out", "1.1"], &d);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!log_path.exists());
}

#[test]
fn an_unset_environment_variable_in_start_is_a_profile_error_with_its_place() {
    let d = scratch("start-unset");
    let (id, ctrl) = (target::BUILTIN_AGENT_ID, target::DEFAULT_CONTROLLER_ID);
    write_profile(&d, id, (id, ctrl));
    let out = Command::new(env!("CARGO_BIN_EXE_uspcheck"))
        .args(["run", "--eut", "bench/eut.yaml", "--list"])
        .current_dir(&d)
        .env_remove("USPCHECK_BIN")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("bench/eut.yaml:9:9: start: ${env.USPCHECK_BIN}: USPCHECK_BIN is not set"),
        "{err}"
    );
}

#[test]
fn every_starter_profile_init_writes_lists_the_cases() {
    let d = scratch("init");
    for mtp in ["websocket", "uds", "mqtt", "mqtt311"] {
        for mode in ["listen", "connect"] {
            let file = format!("{mtp}-{mode}.yaml");
            let (code, _, err) =
                uspcheck(&["init", "--mtp", mtp, "--role", mode, "--out", &file], &d);
            assert_eq!(code, 0, "init {mtp} {mode}: {err}");
            assert!(err.contains(&format!("wrote {file}")), "{err}");
            let (code, out, err) = uspcheck(&["run", "--eut", &file, "--list"], &d);
            assert_eq!(code, 0, "{file}: {err}");
            assert!(out.contains("cases selected"), "{file}: {out}");
            // Nothing but the MTP's own feature is ticked: the conditional cases are not
            // applicable until the user says otherwise.
            assert!(
                out.contains("does not declare TP-469 feature(s) 31 that this case requires"),
                "{file}: {out}"
            );
        }
    }
    // An existing file is kept unless --force; `-` writes to standard output.
    let (code, _, err) = uspcheck(&["init", "--out", "uds-listen.yaml"], &d);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--force"), "{err}");
    let (code, _, err) = uspcheck(&["init", "--out", "uds-listen.yaml", "--force"], &d);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = uspcheck(&["init", "--mtp", "uds", "--out", "-"], &d);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("# EUT profile for uspcheck") && out.contains("\nuds:"),
        "{out}"
    );
}

/// Runs the whole plan against the profile in `dir`: the preflight stops it before any case,
/// with exit 3 and `expected` among its words.
fn stopped_by_the_preflight(dir: &Path, expected: &str) {
    let (code, out, err) = uspcheck(
        &["run", "--eut", "bench/eut.yaml", "--report-dir", "out"],
        dir,
    );
    assert_eq!(code, 3, "{out}{err}");
    assert!(err.contains(expected), "{err}");
    assert!(!out.contains("running"), "no case ran: {out}");
}

#[test]
fn an_endpoint_id_the_agent_contradicts_stops_the_run_before_any_case_naming_the_field() {
    let d = scratch("preflight-eut");
    let (id, ctrl) = (target::BUILTIN_AGENT_ID, target::DEFAULT_CONTROLLER_ID);
    write_profile(&d, "os::012345-not-the-agent", (id, ctrl));
    stopped_by_the_preflight(
        &d,
        &format!(
            "bench/eut.yaml:1:21: eut.endpoint_id is \"os::012345-not-the-agent\", but the \
             agent presents itself as \"{id}\" (the eid of its WebSocket handshake"
        ),
    );
    // With the check turned off, the cases meet the agent that discards what they send.
    let (code, out, _) = uspcheck(
        &[
            "run",
            "--eut",
            "bench/eut.yaml",
            "--report-dir",
            "out",
            "--no-preflight",
            "1.1",
        ],
        &d,
    );
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("running 1 test"), "{out}");
}

#[test]
fn a_controller_id_the_agent_does_not_answer_to_stops_the_run_naming_the_field() {
    let d = scratch("preflight-ctrl");
    let id = target::BUILTIN_AGENT_ID;
    write_profile(&d, id, (id, "self::someone-else"));
    stopped_by_the_preflight(
        &d,
        &format!(
            "bench/eut.yaml:2:28: controller.endpoint_id is \"{}\", but the agent addresses \
             its Records to \"self::someone-else\" (the to_id of its WebSocketConnectRecord",
            target::DEFAULT_CONTROLLER_ID
        ),
    );
}
