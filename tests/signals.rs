//! Hard stops: a run stopped by SIGINT or SIGTERM still writes its reports for the cases that
//! ended, marks the case it stopped, leaves no report of an earlier run looking current,
//! exits 130 or 143, and takes the agent its start command launched with it, even one that
//! ignores SIGTERM.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use uspcheck::report::{RunReport, Verdict};
use uspcheck::run::target;

mod common;
use common::scratch;

/// A case that ends at once, and one that waits a minute for silence: the second is running
/// when the signal comes.
fn write_cases(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("9.1.yaml"),
        "id: '9.1'\ntitle: quick\ntp469: '1.4.0'\ntag: mandatory\nsteps:\n  - send: { get: { param_paths: [Device.LocalAgent.EndpointID] } }\n    expect: { get_resp: {} }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("9.2.yaml"),
        "id: '9.2'\ntitle: slow\ntp469: '1.4.0'\ntag: mandatory\nsteps:\n  - expect_none: { notify: {} }\n    for: 60s\n",
    )
    .unwrap();
}

/// What the output holds once the slow case has run a second (with `--slow-after 1s`, and no
/// terminal): the quick case's whole line, then the slow one said to be still running.
const SLOW_CASE_RUNS: &str = "test 9.1 quick ... ok\nuspcheck: 9.2 still running after 1 s\n";

/// Stale reports, as an earlier run would have left them.
fn write_stale_reports(dir: &Path) {
    std::fs::create_dir_all(dir.join("reports")).unwrap();
    for f in ["junit.xml", "uspcheck.json", "index.html"] {
        std::fs::write(dir.join("reports").join(f), "STALE").unwrap();
    }
}

/// uspcheck with `args` in `cwd`, its output read on a thread of its own, in chunks.
fn spawn(args: &[&str], cwd: &Path) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_uspcheck"))
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let mut out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = out.read(&mut buf) {
            if tx
                .send(String::from_utf8_lossy(&buf[..n]).into_owned())
                .is_err()
            {
                return;
            }
        }
    });
    (child, rx)
}

/// Waits (bounded) until the output holds `needle`.
fn await_output(rx: &mpsc::Receiver<String>, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = String::new();
    while let Ok(chunk) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        seen.push_str(&chunk);
        if seen.contains(needle) {
            return;
        }
    }
    panic!("no {needle:?} in:\n{seen}");
}

/// Waits (bounded) for the process to exit, on a thread, and says how long that took.
fn await_exit(child: Child, bound: Duration) -> (ExitStatus, Duration) {
    let began = Instant::now();
    let (tx, rx) = mpsc::channel();
    let mut child = child;
    let pid = child.id();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait().unwrap());
    });
    match rx.recv_timeout(bound) {
        Ok(status) => (status, began.elapsed()),
        Err(_) => {
            // SAFETY: only signals the process this test started.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("uspcheck did not exit within {bound:?} of the signal");
        }
    }
}

fn send(child: &Child, sig: libc::c_int) {
    // SAFETY: only signals the process this test started.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, sig) }, 0);
}

/// The reports of the run in `dir`: both well-formed, the finished case passed, the stopped
/// one an error saying which signal stopped it.
fn check_reports(dir: &Path, signal: &str) {
    let reports = dir.join("reports");
    let json = std::fs::read_to_string(reports.join("uspcheck.json")).unwrap();
    let report: RunReport = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    let verdict = |id: &str| {
        let o = report.cases.iter().find(|o| o.id == id).unwrap();
        (o.verdict(), o.failure().map(|f| f.message.clone()))
    };
    assert_eq!(verdict("9.1"), (Verdict::Pass, None));
    let (v, why) = verdict("9.2");
    assert_eq!(v, Verdict::Error);
    assert!(why.unwrap().contains(&format!("stopped by {signal}")));
    assert!(report.interrupted.unwrap().contains(signal));
    let junit = std::fs::read_to_string(reports.join("junit.xml")).unwrap();
    assert!(junit.starts_with("<?xml"), "{junit}");
    assert!(junit.trim_end().ends_with("</testsuites>"), "{junit}");
    assert!(junit.contains("9.1") && junit.contains("9.2"), "{junit}");
    let html = std::fs::read_to_string(reports.join("index.html")).unwrap();
    assert!(!html.contains("STALE") && html.contains("9.2"));
}

#[test]
fn sigint_stops_the_running_case_and_the_reports_are_still_written() {
    let d = scratch("sigint");
    write_cases(&d.join("cases"));
    write_stale_reports(&d);
    let (child, out) = spawn(
        &[
            "run",
            "--cases",
            "cases",
            "--test-threads",
            "1",
            "--slow-after",
            "1s",
        ],
        &d,
    );
    await_output(&out, SLOW_CASE_RUNS);
    // The stale reports are gone before the run ends.
    assert!(!d.join("reports/junit.xml").exists());
    send(&child, libc::SIGINT);
    let (status, took) = await_exit(child, Duration::from_secs(20));
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    check_reports(&d, "SIGINT");
}

#[test]
fn sigterm_kills_a_started_agent_that_ignores_it() {
    let d = scratch("sigterm");
    write_cases(&d.join("cases"));
    let sock = d.join("controller.sock");
    let pid_file = d.join("agent.pid");
    // The agent ignores SIGTERM, as a hung one would.
    let start = format!(
        "trap '' TERM; echo $$ > '{}'; exec '{}' agent --connect-uds '{}' --endpoint-id '{}' --controller-id '{}'",
        pid_file.display(),
        env!("CARGO_BIN_EXE_uspcheck"),
        sock.display(),
        target::BUILTIN_AGENT_ID,
        target::DEFAULT_CONTROLLER_ID
    );
    std::fs::write(
        d.join("eut.yaml"),
        format!(
            "eut: {{ endpoint_id: '{}' }}\ncontroller: {{ endpoint_id: '{}' }}\nuds: {{ mode: listen, path: '{}' }}\ntimeouts: {{ response: 5s, connect: 20s }}\nstart: \"{}\"\n",
            target::BUILTIN_AGENT_ID,
            target::DEFAULT_CONTROLLER_ID,
            sock.display(),
            start.replace('"', "\\\"")
        ),
    )
    .unwrap();
    let (child, out) = spawn(
        &[
            "run",
            "--eut",
            "eut.yaml",
            "--cases",
            "cases",
            "--slow-after",
            "1s",
        ],
        &d,
    );
    await_output(&out, SLOW_CASE_RUNS);
    let agent: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(running(agent), "the agent runs during the case");
    send(&child, libc::SIGTERM);
    let (status, took) = await_exit(child, Duration::from_secs(20));
    assert_eq!(status.code(), Some(143), "{status:?}");
    // SIGTERM, the grace, then SIGKILL: bounded.
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(
        !running(agent),
        "the agent that ignores SIGTERM outlived uspcheck"
    );
    check_reports(&d, "SIGTERM");
}

/// Whether `pid` is a live process (a zombie waiting to be reaped is not).
fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, r)| r.split_whitespace().next() != Some("Z"))
        })
        .unwrap_or(false)
}

/// At the end of a run over MQTT the agent is stopped while the embedded broker still
/// serves: an agent that says goodbye to its broker on SIGTERM finds it there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_is_stopped_before_the_embedded_broker() {
    use uspcheck::run::Target;
    use uspcheck::suite::profile::Profile;
    let d = scratch("broker-last");
    let port = common::free_port();
    let seen = d.join("broker-at-sigterm");
    let ready = d.join("ready");
    let c = std::ffi::CString::new(ready.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid C string; mkfifo only creates the FIFO the command reports through.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    // On SIGTERM the "agent" takes half a second to shut down (as a real one does), then
    // connects to the broker's port and notes whether it answered.
    let agent = format!(
        "trap 'sleep 0.5; if (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null; then echo up; else echo down; fi > {}; exit 0' TERM; echo ready > {}; while :; do sleep 1; done",
        seen.display(),
        ready.display()
    );
    let text = format!(
        "eut: {{ endpoint_id: '{}' }}\ncontroller: {{ endpoint_id: '{}' }}\nmqtt: {{ broker: embedded, address: '127.0.0.1:{port}', version: '5.0', agent_topic: usp/agent, controller_topic: usp/controller }}\nfeatures: [1, 36]\ntimeouts: {{ response: 1s, connect: 300ms }}\nstart: \"exec bash -c \\\"{}\\\"\"\n",
        target::BUILTIN_AGENT_ID,
        target::DEFAULT_CONTROLLER_ID,
        agent.replace('"', "\\\\\\\"")
    );
    let t =
        Target::from_profile(Profile::parse(&text, "mqtt.yaml").unwrap_or_else(|e| panic!("{e}")));
    // The agent never connects: the case is an error, but the broker and the command run.
    let case = uspcheck::suite::load_str(
        &std::fs::read_to_string(write_case(&d)).unwrap(),
        "9.1.yaml",
    )
    .unwrap();
    let o = uspcheck::run::run_one(&case, &t).await;
    assert_eq!(o.verdict(), Verdict::Error);
    let read = tokio::task::spawn_blocking(move || std::fs::read_to_string(ready));
    let said = tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("the start command got ready in bounded time");
    assert_eq!(said.unwrap().unwrap().trim(), "ready");
    t.shutdown().await;
    let at_sigterm = std::fs::read_to_string(&seen).unwrap_or_default();
    assert_eq!(
        at_sigterm.trim(),
        "up",
        "the broker was gone before the agent"
    );
    // And then the broker goes: its listener closes as its tasks see the shutdown, which
    // nothing outside the broker can await, so this looks (bounded).
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "the broker outlived the shutdown"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn write_case(d: &Path) -> std::path::PathBuf {
    write_cases(&d.join("cases"));
    d.join("cases/9.1.yaml")
}
