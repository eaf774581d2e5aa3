//! External broker mode against a real broker: Debian's mosquitto (installed by
//! `scripts/ensure-mosquitto.sh`), started here on 127.0.0.1 with a free port and a temporary
//! configuration, stopped at the end. uspcheck's Controller is a plain MQTT client of it, the
//! reference agent another, for MQTT 5.0 and 3.1.1. Cases that only send and await USP
//! messages pass (section 1, 11.1); cases that script the broker or read its packets are not
//! applicable, and say why.
//!
//! Without mosquitto the mosquitto trial is reported ignored (never passed), unless CI is
//! set: there it must run, and fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use uspcheck::agent::run::{Dial, MqttDial};
use uspcheck::agent::{self, AgentConfig};
use uspcheck::mtp::mqtt::Version;
use uspcheck::report::Verdict;
use uspcheck::run::preflight::{self, Preflight};
use uspcheck::run::target::{BUILTIN_AGENT_ID, BUILTIN_FEATURES, DEFAULT_CONTROLLER_ID};
use uspcheck::run::{Target, run_one};
use uspcheck::suite::{self, Case, profile::Profile};

mod common;
use common::{free_port, scratch, uspcheck};

/// Cases that must pass through mosquitto, and cases that must be not applicable there.
const PASS: &[&str] = &["1.1", "1.5", "1.20", "1.61", "11.1"];
const NOT_APPLICABLE: &[&str] = &["11.2", "11.6", "11.9", "11.12", "11.16"];

fn mosquitto() -> Option<PathBuf> {
    let candidates = [
        PathBuf::from("/usr/sbin/mosquitto"),
        PathBuf::from("/usr/local/sbin/mosquitto"),
    ];
    if let Some(p) = candidates.iter().find(|p| p.exists()) {
        return Some(p.clone());
    }
    let out = Command::new("sh")
        .args(["-c", "command -v mosquitto"])
        .output()
        .ok()?;
    let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!p.is_empty()).then(|| PathBuf::from(p))
}

/// A mosquitto process, stopped when dropped.
struct Broker {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn start_broker(bin: &Path) -> Broker {
    // A free port: bind port 0, note it, let it go; mosquitto binds it next.
    let port = free_port();
    let dir = scratch(&format!("mosquitto-{port}"));
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type error\nlog_type warning\n"
        ),
    )
    .expect("the mosquitto configuration is written");
    let child = Command::new(bin)
        .arg("-c")
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{} does not start: {e}", bin.display()));
    let broker = Broker {
        child,
        port,
        _dir: TempDir(dir),
    };
    // Ready when it accepts a TCP connection; bounded.
    let until = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < until,
            "mosquitto did not listen on 127.0.0.1:{port} within 10 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    broker
}

fn profile(port: u16, version: Version, agent_topic: &str, controller_topic: &str) -> Profile {
    let text = profile_text(port, version, agent_topic, controller_topic);
    Profile::parse(&text, "mosquitto.yaml").expect("the test's profile loads")
}

fn profile_text(port: u16, version: Version, agent_topic: &str, controller_topic: &str) -> String {
    let mut features: Vec<u32> = BUILTIN_FEATURES.to_vec();
    features.extend([35, 36]);
    let features: Vec<String> = features.iter().map(u32::to_string).collect();
    let text = format!(
        "name: reference agent through mosquitto\n\
         eut: {{ endpoint_id: '{BUILTIN_AGENT_ID}' }}\n\
         controller: {{ endpoint_id: '{DEFAULT_CONTROLLER_ID}' }}\n\
         mqtt:\n  broker: external\n  address: '127.0.0.1:{port}'\n  version: '{}'\n  \
         agent_topic: {agent_topic}\n  controller_topic: {controller_topic}\n  \
         client_id: uspcheck-controller-{}\n\
         features: [{}]\n\
         timeouts: {{ response: 5s, connect: 30s }}\n",
        version.label(),
        version.level(),
        features.join(", ")
    );
    text
}

/// The reference agent as an MQTT client of the broker on `port`, until aborted.
fn reference_agent(
    port: u16,
    version: Version,
    agent_topic: &str,
    controller_topic: &str,
    client_id: &str,
) -> impl std::future::Future<Output = ()> + use<> {
    let dial = MqttDial {
        broker: format!("127.0.0.1:{port}"),
        version,
        agent_topic: agent_topic.into(),
        controller_topic: controller_topic.into(),
        client_id: client_id.into(),
        credentials: None,
    };
    let cfg = AgentConfig {
        endpoint_id: BUILTIN_AGENT_ID.into(),
        controller_id: DEFAULT_CONTROLLER_ID.into(),
        faults: vec![],
        software_version: "test".into(),
    };
    agent::run::client(Dial::Mqtt(dial), cfg)
}

fn cases() -> Vec<Case> {
    suite::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("testcases"))
        .unwrap_or_else(|e| panic!("the case files load: {e:?}"))
}

fn run_through(port: u16, version: Version, all: &[Case]) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let tag = version.level();
    let agent_topic = format!("usp/agent/mosquitto-{tag}");
    let controller_topic = format!("usp/controller/mosquitto-{tag}");
    let agent = rt.spawn(reference_agent(
        port,
        version,
        &agent_topic,
        &controller_topic,
        &format!("uspcheck-ref-agent-{tag}"),
    ));
    let target = Target::from_profile(profile(port, version, &agent_topic, &controller_topic));
    let mut problems = Vec::new();
    for (ids, want) in [
        (PASS, Verdict::Pass),
        (NOT_APPLICABLE, Verdict::NotApplicable),
    ] {
        for id in ids {
            let case = all
                .iter()
                .find(|c| c.id == *id)
                .unwrap_or_else(|| panic!("case {id} exists"));
            let o = rt.block_on(run_one(case, &target));
            let why = o
                .failure()
                .map(|f| f.text())
                .or(o.reason().map(str::to_string))
                .unwrap_or_default();
            if o.verdict() != want {
                problems.push(format!(
                    "MQTT {version}: {id} is {} through mosquitto, expected {}: {why}",
                    o.verdict().as_str(),
                    want.as_str()
                ));
            } else if want == Verdict::NotApplicable && !why.contains("external broker") {
                problems.push(format!(
                    "MQTT {version}: {id} is not applicable for the wrong reason: {why}"
                ));
            } else if let Some(p) = o.cleanup_problems.first() {
                problems.push(format!("MQTT {version}: {id} clean-up failed: {p}"));
            }
        }
    }
    agent.abort();
    problems
}

fn cases_through_mosquitto(bin: &Path) {
    let broker = start_broker(bin);
    let all = cases();
    let mut problems = Vec::new();
    for v in [Version::V5, Version::V311] {
        problems.extend(run_through(broker.port, v, &all));
    }
    drop(broker);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A profile whose `eut.endpoint_id` is not the agent's stops at the preflight through an
/// external broker too (exit 3, naming the field), instead of a run of "agent not
/// reachable": the agent ignores Records addressed to another Endpoint ID (R-E2E.1), so what
/// shows it is the broker saying it has a subscriber on the agent's Topic, or the agent's own
/// MQTTConnectRecord when uspcheck starts it.
fn wrong_endpoint_id_through_mosquitto(bin: &Path) {
    let broker = start_broker(bin);
    let port = broker.port;
    let wrong = "os::012345-not-the-agent";
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    // An agent already connected and subscribed, which ignores what uspcheck sends it.
    let (agent_topic, controller_topic) = ("usp/agent/silent", "usp/controller/silent");
    let agent = rt.spawn(reference_agent(
        port,
        Version::V5,
        agent_topic,
        controller_topic,
        "uspcheck-ref-agent-silent",
    ));
    let mut problems = Vec::new();
    for version in [Version::V5, Version::V311] {
        let text = profile_text(port, version, agent_topic, controller_topic)
            .replace(BUILTIN_AGENT_ID, wrong);
        let target = Target::from_profile(Profile::parse(&text, "wrong.yaml").expect("loads"));
        match rt.block_on(preflight::check(&target)) {
            Preflight::Mismatch(m)
                if m.contains(&format!("eut.endpoint_id is \"{wrong}\""))
                    && m.contains("has a subscriber") => {}
            other => problems.push(format!("MQTT {version}, agent connected: {other:?}")),
        }
        rt.block_on(target.shutdown());
    }
    agent.abort();
    // An agent uspcheck starts, once subscribed: its MQTTConnectRecord names it.
    let dir = scratch("mqtt-wrong-eid");
    let (agent_topic, controller_topic) = ("usp/agent/started", "usp/controller/started");
    let start = format!(
        "start: \"'{}' agent --mqtt 127.0.0.1:{port} --endpoint-id '{BUILTIN_AGENT_ID}' \
         --agent-topic {agent_topic} --controller-topic {controller_topic} \
         --client-id uspcheck-ref-agent-started\"\n",
        env!("CARGO_BIN_EXE_uspcheck")
    );
    let text = profile_text(port, Version::V311, agent_topic, controller_topic)
        .replace(BUILTIN_AGENT_ID, wrong)
        + &start;
    std::fs::write(dir.join("wrong.yaml"), text).expect("the profile is written");
    let (code, out) = uspcheck(&["run", "--eut", "wrong.yaml", "1.1"], &dir);
    let named = format!(
        "eut.endpoint_id is \"{wrong}\", but the agent presents itself as \"{BUILTIN_AGENT_ID}\" \
         (the from_id of its MQTTConnectRecord)"
    );
    if code != 3 || !out.contains(&named) {
        problems.push(format!("agent started by uspcheck: exit {code}: {out}"));
    }
    drop(broker);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// An agent described by a profile (here the reference agent, reached only through the
/// profile) through uspcheck's embedded broker on the profile's address: one broker and one
/// Controller kept across cases, the agent's reboots followed through the broker's events,
/// and the broker-scripting cases run (and pass).
fn profile_agent_through_the_embedded_broker() {
    let port = free_port();
    let version = Version::V5;
    let (agent_topic, controller_topic) = ("usp/agent/embedded", "usp/controller/embedded");
    let text = format!(
        "eut: {{ endpoint_id: '{BUILTIN_AGENT_ID}' }}\n\
         controller: {{ endpoint_id: '{DEFAULT_CONTROLLER_ID}' }}\n\
         mqtt: {{ broker: embedded, address: '127.0.0.1:{port}', version: '5.0', \
         agent_topic: {agent_topic}, controller_topic: {controller_topic} }}\n\
         features: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 31, 36]\n\
         timeouts: {{ response: 5s, connect: 60s }}\n"
    );
    let target = Target::from_profile(Profile::parse(&text, "embedded.yaml").expect("loads"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let all = cases();
    let mut problems = Vec::new();
    let mut agent = None;
    // 11.17 and 11.5 reboot the agent, 11.16 has the broker disconnect it; the cases after
    // them must find it back.
    for id in [
        "1.1", "11.17", "1.20", "11.5", "11.16", "11.15", "1.61", "11.1",
    ] {
        let case = all.iter().find(|c| c.id == id).expect("the case exists");
        let o = rt.block_on(async {
            // The broker starts with the first case; the agent dials it once it listens.
            // If it dials before the broker listens, its connect retry (R-MQTT.10) brings it
            // within the profile's connect bound.
            if agent.is_none() {
                agent = Some(tokio::spawn(reference_agent(
                    port,
                    version,
                    agent_topic,
                    controller_topic,
                    "uspcheck-ref-agent-embedded",
                )));
            }
            run_one(case, &target).await
        });
        if o.verdict() != Verdict::Pass {
            problems.push(format!(
                "{id}: {} {}",
                o.verdict().as_str(),
                o.failure()
                    .map(|f| f.text())
                    .or(o.reason().map(str::to_string))
                    .unwrap_or_default()
            ));
        } else if let Some(p) = o.cleanup_problems.first() {
            problems.push(format!("{id}: clean-up failed: {p}"));
        }
    }
    if let Some(a) = agent {
        a.abort();
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let bin = mosquitto();
    let under_ci = std::env::var_os("CI").is_some();
    let missing = bin.is_none();
    // Without mosquitto these are reported ignored (never passed), unless CI is set.
    let needs_mosquitto = |name: &str, test: fn(&Path)| {
        let bin = bin.clone();
        libtest_mimic::Trial::test(format!("{name} (needs mosquitto)"), move || match bin {
            Some(b) => {
                test(&b);
                Ok(())
            }
            None => Err(
                "mosquitto is not installed, and under CI this test must run: \
                 scripts/ensure-mosquitto.sh installs it"
                    .into(),
            ),
        })
        .with_ignored_flag(missing && !under_ci)
    };
    let trials = vec![
        needs_mosquitto("cases_through_mosquitto", cases_through_mosquitto),
        needs_mosquitto(
            "a_wrong_endpoint_id_through_mosquitto_stops_at_the_preflight",
            wrong_endpoint_id_through_mosquitto,
        ),
        libtest_mimic::Trial::test("profile_agent_through_the_embedded_broker", || {
            profile_agent_through_the_embedded_broker();
            Ok(())
        }),
    ];
    libtest_mimic::run(&args, trials).exit();
}
