//! `uspcheck init`: a commented starter EUT profile for one MTP and one way of meeting, with
//! every field the profile loader knows, TP-469's feature table to tick, and what the agent
//! must be provisioned with before the suite can run against it.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use crate::mtp::mqtt::Version;
use crate::run::target::{BUILTIN_ALTERNATES, DEFAULT_CONTROLLER_ID};
use crate::suite::features;
use crate::suite::profile::DEFAULT_SECONDARY_ID;

/// The MTP a profile is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mtp {
    WebSocket,
    Uds,
    Mqtt(Version),
}

/// Who opens the connection: uspcheck listens and the agent connects, or uspcheck connects
/// to the agent (over MQTT: uspcheck's embedded broker, or the user's broker).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Listen,
    Connect,
}

/// The Endpoint ID a new profile gives the agent: valid, and plainly to be changed.
pub const PLACEHOLDER_EUT_ID: &str = "os::000000-CHANGE-ME";

/// Why `init` wrote nothing.
#[derive(Debug)]
pub enum InitError {
    /// The file is there and `--force` was not given.
    Exists(String),
    Io(String),
}

impl std::fmt::Display for InitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InitError::Exists(why) | InitError::Io(why) => f.write_str(why),
        }
    }
}

/// `uspcheck init`: the starter profile for `mtp` and `mode` (marking the features none of
/// `cases` needs) written to `out`, and what to do next said on standard error.
pub fn command(
    mtp: Mtp,
    mode: Mode,
    cases: &[crate::suite::Case],
    out: &Path,
    force: bool,
) -> Result<(), InitError> {
    write(out, &profile(mtp, mode, &covered(cases)), force)?;
    if out != Path::new("-") {
        eprintln!(
            "wrote {0}: change what says CHANGE and tick the agent's features, then \
             `uspcheck run --eut {0} --list`",
            out.display()
        );
    }
    Ok(())
}

/// Writes `text` to `out` (`-`: standard output), refusing to replace a file unless `force`.
pub fn write(out: &Path, text: &str, force: bool) -> Result<(), InitError> {
    if out == Path::new("-") {
        return std::io::stdout()
            .write_all(text.as_bytes())
            .map_err(|e| InitError::Io(e.to_string()));
    }
    let mut open = std::fs::OpenOptions::new();
    open.write(true);
    if force {
        open.create(true).truncate(true);
    } else {
        open.create_new(true);
    }
    let mut f = open.open(out).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => InitError::Exists(format!(
            "{} exists; give --force to replace it, or another --out",
            out.display()
        )),
        _ => InitError::Io(format!("cannot write {}: {e}", out.display())),
    })?;
    f.write_all(text.as_bytes())
        .map_err(|e| InitError::Io(format!("cannot write {}: {e}", out.display())))
}

/// The starter profile. `covered` is the set of feature IDs some case of this uspcheck
/// needs (the others are marked: ticking them changes nothing yet).
pub fn profile(mtp: Mtp, mode: Mode, covered: &BTreeSet<u32>) -> String {
    let mut t = String::new();
    let how = match (mtp, mode) {
        (Mtp::WebSocket, Mode::Listen) => "websocket --mode listen",
        (Mtp::WebSocket, Mode::Connect) => "websocket --mode connect",
        (Mtp::Uds, Mode::Listen) => "uds --mode listen",
        (Mtp::Uds, Mode::Connect) => "uds --mode connect",
        (Mtp::Mqtt(Version::V5), Mode::Listen) => "mqtt --mode listen",
        (Mtp::Mqtt(Version::V5), Mode::Connect) => "mqtt --mode connect",
        (Mtp::Mqtt(Version::V311), Mode::Listen) => "mqtt311 --mode listen",
        (Mtp::Mqtt(Version::V311), Mode::Connect) => "mqtt311 --mode connect",
    };
    let _ = write!(
        t,
        "# EUT profile for uspcheck, the TR-369 (USP) Agent conformance harness running TP-469.
# Written by `uspcheck init --mtp {how}`. Change what says CHANGE, tick the
# features the agent supports, check it with `uspcheck run --eut THIS-FILE --list`, then run
# `uspcheck run --eut THIS-FILE`. docs/eut-profile.md describes every field. Relative paths
# in this file (uds.path, mqtt.tls.certs, and the folder `start` runs in) mean its folder.
# Before the first case uspcheck connects once (the preflight) and compares the Endpoint IDs
# the agent presents with eut.endpoint_id and controller.endpoint_id: a mismatch stops the run
# (exit 3), naming the field to fix.
name: \"CHANGE: my agent 1.0 on the bench\"        # shown in the reports
# The agent's Device.LocalAgent.EndpointID:
eut:
  endpoint_id: \"{PLACEHOLDER_EUT_ID}\"             # CHANGE
# The Controller uspcheck plays. The agent must be provisioned (factory defaults, configuration
# file or CLI) with a Device.LocalAgent.Controller.{{i}}. whose EndpointID is this, Enable true,
# and an AssignedRole (or inherited role) with full permissions: Get, Set, Add, Delete, Operate
# and Notify on all of Device. (a role that allows everything, e.g. obuspa's
# Device.LocalAgent.ControllerTrust.Role.1). The cases add and delete
# Device.LocalAgent.Subscription.{{i}}. and Device.LocalAgent.Controller.{{i}}.BootParameter.{{i}}.,
# and set that Controller's own parameters (ProvisioningCode, which the notification cases
# 1.52-1.57, 1.93 and 1.94 subscribe to and set; PeriodicNotifInterval;
# USPNotifRetryMinimumWaitInterval and USPNotifRetryIntervalMultiplier for 1.54), so those
# must be writable.
{provision}
controller:
  endpoint_id: \"{DEFAULT_CONTROLLER_ID}\"
",
        provision = provision(mtp, mode)
    );
    t.push_str(&secondary(mtp, mode));
    t.push_str(&mtp_section(mtp, mode));
    t.push_str(&feature_list(mtp, covered));
    t.push_str(&alternates());
    t.push_str(
        "timeouts:
  response: 10s                  # how long an answer may take
  connect: 60s                   # how long the agent may take to connect (or accept), also after a reboot
limits:
  max_record_size: 2 MiB         # the largest USP Record uspcheck reads (up to 64 MiB); a bigger one fails
                                 # its case on this limit. Raise it for an agent with bigger answers: a
                                 # record costs about ten times its size in memory while it is judged
# A shell command that starts the agent (optional): run in this file's folder before the first
# connection, again whenever it exits (an agent that exits on Reboot()), stopped at the end.
# What it prints goes to agent.log in the report folder. uspcheck replaces ${env.NAME} (its
# environment; unset, this file does not load), ${profile.dir} (this file's folder),
# ${websocket.port} / ${mqtt.port} / ${mqtt.tls_port} (the ports uspcheck listens on, useful
# with port 0); any other ${NAME} is the shell's.
# start: '\"${env.AGENT_BIN}\" --config agent.conf'
",
    );
    t
}

/// What the agent's Controller entry needs to reach uspcheck, by MTP and mode.
fn provision(mtp: Mtp, mode: Mode) -> &'static str {
    match (mtp, mode) {
        (Mtp::WebSocket, Mode::Listen) => {
            "# That Controller's MTP.{i}.: Protocol WebSocket, Enable true, WebSocket.Host and
# WebSocket.Port of websocket.listen below (this machine as the agent sees it),
# WebSocket.Path any (e.g. /usp), WebSocket.EnableEncryption false."
        }
        (Mtp::WebSocket, Mode::Connect) => {
            "# A Device.LocalAgent.MTP.{i}. WebSocket server (Enable true, WebSocket.Port and
# WebSocket.Path of websocket.url below, EnableEncryption false) that accepts uspcheck."
        }
        (Mtp::Uds, Mode::Listen) => {
            "# A Device.UnixDomainSockets.UnixDomainSocket.{i}. (Mode Connect, Path uds.path
# below) and that Controller's MTP.{i}. with Protocol UDS referring to it."
        }
        (Mtp::Uds, Mode::Connect) => {
            "# A Device.UnixDomainSockets.UnixDomainSocket.{i}. (Mode Listen, Path uds.path
# below) and a Device.LocalAgent.MTP.{i}. with Protocol UDS referring to it."
        }
        (Mtp::Mqtt(_), _) => {
            "# A Device.MQTT.Client.{i}. for the broker of mqtt.address below (BrokerAddress,
# BrokerPort, ProtocolVersion as mqtt.version, ClientID, Username/Password), a
# Device.LocalAgent.MTP.{i}. with Protocol MQTT and ResponseTopicConfigured (its Topic),
# and that Controller's MTP.{i}. with Protocol MQTT and MQTT.Topic mqtt.controller_topic.
# ConnectRetryTime 5 and ConnectRetryIntervalMultiplier 2000 give 11.6/11.16 their
# 5-10 s and 10-20 s windows."
        }
    }
}

/// The second Controller of TP-469 1.78.
fn secondary(mtp: Mtp, mode: Mode) -> String {
    let mut t = format!(
        "secondary_controller:           # a second Controller the harness plays (TP-469 1.78, feature 7)
  endpoint_id: \"{DEFAULT_SECONDARY_ID}\"
"
    );
    if mode == Mode::Listen && mtp == Mtp::WebSocket {
        t.push_str(
            "  mtp:                           # how the agent reaches it: the Controller.{i}.MTP.{i}. 1.78 adds
    Enable: \"true\"
    Protocol: WebSocket
    WebSocket.Host: 127.0.0.1      # CHANGE: this machine, as the agent sees it
    WebSocket.Port: \"8080\"         # websocket.listen's port
    WebSocket.Path: /controller2   # uspcheck answers as the second Controller on this path
    WebSocket.EnableEncryption: \"false\"
",
        );
    } else {
        t.push_str("  # mtp: {}                     # when the agent connects: the Controller.{i}.MTP.{i}. parameters (WebSocket only)\n");
    }
    t
}

fn mtp_section(mtp: Mtp, mode: Mode) -> String {
    match (mtp, mode) {
        (Mtp::WebSocket, Mode::Listen) => "websocket:                       # uspcheck is the WebSocket server; the agent connects (R-WS.5)
  mode: listen
  listen: \"127.0.0.1:8080\"       # host:port (port 0: the OS chooses; `start` gets it as ${websocket.port})
"
        .into(),
        (Mtp::WebSocket, Mode::Connect) => "websocket:                       # the agent is the WebSocket server; uspcheck connects (R-WS.6)
  mode: connect
  url: \"ws://127.0.0.1:8081/usp\" # CHANGE: the agent's server
"
        .into(),
        (Mtp::Uds, Mode::Listen) => "uds:                             # uspcheck is the Unix domain socket server; the agent connects
  mode: listen                   # (TP-469 has no UDS section: reported as an extended suite)
  path: /tmp/uspcheck-controller.sock
"
        .into(),
        (Mtp::Uds, Mode::Connect) => "uds:                             # the agent is the Unix domain socket server; uspcheck connects
  mode: connect                  # (TP-469 has no UDS section: reported as an extended suite)
  path: /tmp/usp-agent.sock      # CHANGE: the agent's socket
"
        .into(),
        (Mtp::Mqtt(v), mode) => {
            let (broker, address, credentials) = match mode {
                Mode::Listen => (
                    "embedded                 # uspcheck's own broker: every packet logged, section 11 scripts it",
                    "\"127.0.0.1:1883\"       # where it listens (port 0: the OS chooses; `start` gets ${mqtt.port})",
                    "  # credentials: { username: CHANGE, password: CHANGE }        # external broker only: what uspcheck connects with
  # agent_credentials: { username: CHANGE, password: CHANGE }  # what the agent must present (else CONNACK 0x86)
  # tls:                         # also listen with TLS (TP-469 11.3); ca.pem in `certs` is the CA the agent must trust
  #   address: \"127.0.0.1:8883\"  # ${mqtt.tls_port} in `start`
  #   names: [localhost]         # the BrokerAddress the agent uses, put in the certificate
  #   certs: certs               # where the CA and the broker's certificate are kept (made on first use)
",
                ),
                Mode::Connect => (
                    "external                 # your broker; cases that script the broker are not applicable",
                    "\"127.0.0.1:1883\"       # CHANGE: your broker",
                    "  # credentials: { username: CHANGE, password: CHANGE }  # what uspcheck connects with, if the broker asks
  # agent_credentials: { username: CHANGE, password: CHANGE }  # embedded broker only
  # tls: {}                      # embedded broker only (TP-469 11.3)
",
                ),
            };
            let topic = match mode {
                Mode::Listen => "  # agent_topic: usp/agent/CHANGE  # the agent's Topic; absent: learned from its first PUBLISH's reply-to\n",
                Mode::Connect => "  agent_topic: usp/agent/CHANGE  # CHANGE: the agent's Topic (ResponseTopicConfigured): where requests go\n",
            };
            format!(
                "mqtt:
  broker: {broker}
  address: {address}
  version: \"{v}\"                 # \"5.0\" or \"3.1.1\": what uspcheck speaks, and section 11 is judged for
{topic}  controller_topic: usp/controller/uspcheck  # uspcheck's Topic: the agent's Controller.{{i}}.MTP.{{i}}.MQTT.Topic
  client_id: uspcheck-controller # uspcheck's ClientId
  # agent_client_id: CHANGE      # the agent's ClientId: only its packets are judged as the agent's
{credentials}"
            )
        }
    }
}

/// `features:` with every ID of the plan on a line of its own, `true` or `false`; the MTP's
/// own is `true`. (A map, not a list with commented-out items: a YAML parser looks ahead over
/// so many comment lines only so far.)
fn feature_list(mtp: Mtp, covered: &BTreeSet<u32>) -> String {
    let ticked: &[u32] = match mtp {
        Mtp::WebSocket => &[19],
        Mtp::Uds => &[],
        Mtp::Mqtt(Version::V5) => &[36],
        Mtp::Mqtt(Version::V311) => &[35],
    };
    let mut t = String::from(
        "# TP-469 feature IDs (TP-469 1.4.0, \"Test Cases Required by Profile and Option Support\"):
# set those the agent supports to true. A case that needs a feature set to false is reported
# not applicable, naming it. \"no case yet\": no case of this uspcheck needs it yet.
features:
",
    );
    for f in features::all() {
        if f.removed() {
            let _ = writeln!(t, "  # {}: {}", f.id, f.name);
            continue;
        }
        let mut about = format!("{} [{}]", f.name, f.cases);
        if !f.note.is_empty() {
            let _ = write!(about, ": {}", f.note);
        }
        if !covered.contains(&f.id) {
            about.push_str(" (no case yet)");
        }
        let on = ticked.contains(&f.id);
        let _ = writeln!(t, "  {:<3} {:<5}  # {about}", format!("{}:", f.id), on);
    }
    t
}

/// The feature IDs some of `cases` need: their `features`, and over MQTT the version's
/// (35: MQTT 3.1.1, 36: MQTT 5.0), which decide whether section 11 applies.
pub fn covered(cases: &[crate::suite::Case]) -> BTreeSet<u32> {
    let mut ids: BTreeSet<u32> = cases.iter().flat_map(|c| c.features.clone()).collect();
    if cases
        .iter()
        .any(|c| c.mtp == crate::suite::case::MtpNeed::Mqtt)
    {
        ids.extend([35, 36]);
    }
    ids
}

/// What each alternate element stands for, by name (the built-in agent's values are the
/// defaults written).
const ALTERNATES: &[(&str, &str)] = &[
    (
        "async_command_object",
        "1.64, 1.65: the object of a supported asynchronous command",
    ),
    ("async_command_name", "  and its name"),
    ("async_command_input", "  its required input argument"),
    (
        "async_command_input_value",
        "  and a value (it must complete within 60 s)",
    ),
    (
        "traceroute_host",
        "1.92: Device.IP.Diagnostics.TraceRoute()'s host, one that answers no probe",
    ),
];

fn alternates() -> String {
    let mut t = String::from(
        "# The commands some cases call: Device.Reboot() (1.61, 1.62, 1.105 and section 11: the agent
# must come back by itself, or through `start` below), Device.ScheduleTimer() (1.79, 1.91,
# 1.100), the asynchronous command given here (1.64, 1.65) and
# Device.IP.Diagnostics.TraceRoute() (1.92; not applicable when the agent lacks it).
# TP-469 \"alternate elements\": the agent's own subjects where it lacks the plan's, used by the
# cases as ${alt.NAME} and listed in the reports (these are the built-in agent's):
alternates:
",
    );
    for (name, value) in BUILTIN_ALTERNATES {
        let about = ALTERNATES
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, a)| a);
        let _ = writeln!(t, "  {name}: {:<24} # {about}", format!("\"{value}\""));
    }
    t
}

#[cfg(test)]
mod tests;
