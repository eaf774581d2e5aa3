//! Memory and time against a hostile agent: uspcheck runs TP-469 cases (section 1 unless
//! another filter is given: `cargo bench --bench hostile -- 1.53`) against the reference
//! agent started as a separate process with the `flood` fault — about 10,000 unsolicited
//! Notify records a second on every connection — or another (`-- --fault bulky-answers`:
//! every GetResp 1.8 MB of small parameters), over WebSocket or (`-- --mqtt`) over MQTT 5.0
//! through the embedded broker, and this prints uspcheck's own peak
//! resident memory (from `wait4`, so the agent's memory is not counted), its wall time and
//! its summary line. docs/limits.md holds the bounds that keep the peak low.

use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Instant;

// uspcheck is reaped with wait4, which Child::wait cannot do: its rusage is the point.
#[allow(clippy::zombie_processes)]
fn main() {
    let exe = env!("CARGO_BIN_EXE_uspcheck");
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `--fault NAME` picks another hostile fault (`bulky-answers`); flood by default.
    let fault = args
        .iter()
        .position(|a| a == "--fault")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "flood".into());
    // `--mqtt`: over MQTT 5.0 through uspcheck's embedded broker, the agent started by the
    // profile's `start:` (it connects to the broker); sections 1 and 11 by default.
    let mqtt = args.iter().any(|a| a == "--mqtt");
    let mut filters: Vec<String> = args
        .iter()
        .filter(|a| !a.starts_with("--") && **a != fault)
        .cloned()
        .collect();
    if filters.is_empty() {
        filters.push("1".into());
        if mqtt {
            filters.push("11".into());
        }
    }
    let dir = std::env::temp_dir().join(format!("uspcheck-bench-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").expect("a free port");
        l.local_addr().expect("its address").to_string()
    };
    let mut agent = (!mqtt).then(|| {
        Command::new(exe)
            .args(["agent", "--listen", &addr, "--fault", &fault])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the reference agent starts")
    });
    // The run starts once the agent listens (uspcheck reports an agent that refuses at once).
    let listening = Instant::now();
    while agent.is_some() && std::net::TcpStream::connect(&addr).is_err() {
        assert!(
            listening.elapsed() < std::time::Duration::from_secs(30),
            "the agent did not listen on {addr}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mtp = if mqtt {
        format!(
            "mqtt:\n  broker: embedded\n  address: \"{addr}\"\n  version: \"5.0\"\n  \
             agent_topic: \"usp/agent/uspcheck-ref\"\n  controller_topic: \"usp/controller/uspcheck\"\n\
             start: \"{exe} agent --mqtt {addr} --fault {fault}\"\n"
        )
    } else {
        format!("websocket:\n  mode: connect\n  url: \"ws://{addr}/usp\"\n")
    };
    let profile = dir.join("flood.yaml");
    std::fs::write(
        &profile,
        format!(
            "name: reference agent with the {fault} fault\n\
             eut:\n  endpoint_id: \"os::012345-uspcheck-ref\"\n\
             controller:\n  endpoint_id: \"self::uspcheck\"\n\
             {mtp}\
             features: [1, 2, 3, 5, 8, 9, 10, 31]\n\
             timeouts:\n  response: 10s\n  connect: 20s\n"
        ),
    )
    .expect("the profile is written");
    let began = Instant::now();
    let mut run = Command::new(exe)
        .arg("run")
        .arg("--eut")
        .arg(&profile)
        .arg("--report-dir")
        .arg(dir.join("reports"))
        .arg("-q")
        .args(&filters)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("uspcheck starts");
    let mut out = String::new();
    run.stdout
        .take()
        .expect("its output")
        .read_to_string(&mut out)
        .expect("its output is read");
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid, and wait4 only writes into the two out-pointers.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = i32::try_from(run.id()).expect("a pid");
    // SAFETY: the pid is our own unreaped child.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = began.elapsed();
    if let Some(a) = agent.as_mut() {
        let _ = a.kill();
        let _ = a.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(reaped, pid, "uspcheck was waited for");
    let summary = out
        .lines()
        .rev()
        .find(|l| l.starts_with("uspcheck"))
        .unwrap_or("(no summary line)");
    println!(
        "hostile/{fault}{} `{}`: uspcheck's peak resident memory {:.1} MB, wall {:.1} s\n  {summary}",
        if mqtt { " over MQTT 5.0" } else { "" },
        filters.join(" "),
        usage.ru_maxrss as f64 / 1024.0,
        wall.as_secs_f64()
    );
}
