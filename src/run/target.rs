//! The EUT a run talks to: the built-in reference agent (a fresh one per case, each on its
//! own socket, so cases run in parallel), or an agent described by an EUT profile (one
//! connection kept across cases, cases one at a time), over WebSocket or a Unix socket.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tracing::Instrument;

mod relink;

use relink::{accept_on, relink_external};

use super::agent_log::AgentLog;
use super::mqtt::{self as run_mqtt, CaseMqtt, ExternalMqtt};
use super::process::Process;
use crate::agent::{self, Fault, run::Dial};
use crate::controller::{Relink, Session};
use crate::mtp::mqtt::Version;
use crate::mtp::{ConnectError, Link, uds, websocket};
use crate::suite::profile::{
    BrokerMode, DEFAULT_SECONDARY_ID, MtpSetup, Profile, UdsSetup, WebSocketSetup,
};
use crate::usp::{msg, pb};

/// Endpoint ID of the built-in reference agent.
pub const BUILTIN_AGENT_ID: &str = "os::012345-uspcheck-ref";
/// Endpoint ID the harness uses as Controller unless a profile says otherwise.
pub const DEFAULT_CONTROLLER_ID: &str = "self::uspcheck";
/// TP-469 features the reference agent supports.
pub const BUILTIN_FEATURES: &[u32] = &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 31, 37, 38, 39, 42];

/// The built-in agent's alternate elements (TP-469: "a different subject can be substituted
/// that meets the needs of the test"); docs/eut-profile.md lists what each case takes.
pub const BUILTIN_ALTERNATES: &[(&str, &str)] = &[
    // 1.64, 1.65: "<supported async operation>" and its "<required input argument>".
    ("async_command_object", "Device."),
    ("async_command_name", "ScheduleTimer()"),
    ("async_command_input", "DelaySeconds"),
    ("async_command_input_value", "5"),
    // 1.92: TraceRoute()'s "<remote host IP>", one that answers no probe (TEST-NET-1).
    ("traceroute_host", "192.0.2.1"),
];

/// The MTP the built-in agent is tested over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BuiltinMtp {
    #[default]
    WebSocket,
    Uds,
    /// Through a fresh embedded MQTT broker per case, in this MQTT version.
    Mqtt(Version),
}

/// Who the harness tests.
pub enum Target {
    /// The built-in reference agent, with faults (none for a conforming agent).
    BuiltIn { faults: Vec<Fault>, mtp: BuiltinMtp },
    /// An agent described by an EUT profile.
    External {
        profile: Box<Profile>,
        state: Box<Mutex<External>>,
    },
}

/// A listening socket of the harness.
enum Listening {
    WebSocket(websocket::Server),
    Uds(uds::Server),
}

impl Listening {
    async fn accept(&self) -> Result<Link, ConnectError> {
        match self {
            Listening::WebSocket(s) => s.accept().await,
            Listening::Uds(s) => Ok(s.accept().await?),
        }
    }

    /// What connected instead of the agent and was dropped, as "; meanwhile: …", or "".
    fn rejected(&self) -> String {
        match self {
            Listening::WebSocket(s) => match s.rejected() {
                r if r.is_empty() => String::new(),
                r => format!("; meanwhile: {}", r.join("; ")),
            },
            Listening::Uds(_) => String::new(),
        }
    }
}

/// What is kept between cases for an external agent.
#[derive(Default)]
pub struct External {
    server: Option<Arc<Listening>>,
    link: Option<Link>,
    process: Arc<Process>,
    /// The MQTT broker (embedded) or broker client (external) kept across cases.
    mqtt: Option<ExternalMqtt>,
    /// The last failed attempt to connect to the agent (connection refused…), when the
    /// harness is the client.
    last_attempt: Arc<std::sync::Mutex<Option<String>>>,
    /// Set when a case found the agent unreachable, until it is reached again: later cases
    /// try only briefly and say so, instead of each waiting the whole connect bound.
    unreachable: Option<String>,
    /// Where the output of the agent the profile's start command runs goes.
    agent_log: Option<Arc<AgentLog>>,
}

/// Keeps a case's built-in agent alive; dropping it stops the agent. It also carries the
/// case's MQTT context (broker, Controller options, broker log) when the run is over MQTT.
pub struct AgentGuard(Option<JoinHandle<()>>, Option<CaseMqtt>);

impl AgentGuard {
    /// The case's MQTT context, when the case runs over MQTT.
    pub fn mqtt(&self) -> Option<&CaseMqtt> {
        self.1.as_ref()
    }
}

impl Drop for AgentGuard {
    fn drop(&mut self) {
        if let Some(m) = &self.1 {
            m.reset_script();
        }
        if let Some(a) = &self.0 {
            a.abort();
        }
    }
}

impl Target {
    /// The built-in agent over WebSocket, with `faults`.
    pub fn builtin(faults: Vec<Fault>) -> Target {
        Target::BuiltIn {
            faults,
            mtp: BuiltinMtp::WebSocket,
        }
    }

    /// The agent a profile describes. Its `limits` become the process's: one run, one agent.
    pub fn from_profile(profile: Profile) -> Target {
        crate::mtp::set_max_record(profile.limits.max_record_size);
        Target::External {
            profile: Box::new(profile),
            state: Box::new(Mutex::new(External::default())),
        }
    }

    /// Sends the output of the agent a profile's start command runs to `path` (begun now,
    /// bounded: see [`AgentLog`]), instead of uspcheck's own output. Without a start command
    /// an earlier run's log there is removed.
    pub fn with_agent_log(mut self, path: &std::path::Path) -> std::io::Result<Target> {
        match &mut self {
            Target::External { profile, state } if profile.start.is_some() => {
                state.get_mut().agent_log = Some(AgentLog::create(path)?);
            }
            _ => AgentLog::clear(path),
        }
        Ok(self)
    }

    pub fn eut_id(&self) -> String {
        match self {
            Target::BuiltIn { .. } => BUILTIN_AGENT_ID.into(),
            Target::External { profile, .. } => profile.eut.endpoint_id.clone(),
        }
    }

    pub fn controller_id(&self) -> String {
        match self {
            Target::BuiltIn { .. } => DEFAULT_CONTROLLER_ID.into(),
            Target::External { profile, .. } => profile.controller.endpoint_id.clone(),
        }
    }

    /// The second Controller identity the harness can play.
    pub fn secondary_controller_id(&self) -> String {
        match self {
            Target::BuiltIn { .. } => DEFAULT_SECONDARY_ID.into(),
            Target::External { profile, .. } => profile.secondary_controller.endpoint_id.clone(),
        }
    }

    pub fn features(&self) -> Vec<u32> {
        match self {
            // Over MQTT the reference agent supports the version it is tested in (TP-469
            // features 35: MQTT 3.1.1, 36: MQTT 5.0).
            Target::BuiltIn { mtp, .. } => {
                let mut f = BUILTIN_FEATURES.to_vec();
                match mtp {
                    BuiltinMtp::Mqtt(Version::V5) => f.push(36),
                    BuiltinMtp::Mqtt(Version::V311) => f.push(35),
                    _ => {}
                }
                f
            }
            Target::External { profile, .. } => profile.features.clone(),
        }
    }

    /// TP-469's alternate elements, as `${alt.NAME}`: the profile's, or for the built-in
    /// agent [`BUILTIN_ALTERNATES`].
    pub fn alternates(&self) -> BTreeMap<String, String> {
        match self {
            Target::BuiltIn { .. } => BUILTIN_ALTERNATES
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            Target::External { profile, .. } => profile.alternates.clone(),
        }
    }

    /// How long a response may take.
    pub fn response_timeout(&self) -> Duration {
        match self {
            // The reference agent answers in microseconds; a short bound keeps the
            // self-tests of "no answer" faults quick without being tight.
            Target::BuiltIn { .. } => Duration::from_secs(3),
            Target::External { profile, .. } => profile.timeouts.response.0,
        }
    }

    /// How long the agent may take to connect (or reconnect).
    pub fn connect_timeout(&self) -> Duration {
        match self {
            // Over MQTT the reference agent's retry state (R-MQTT.10) may be waiting up to
            // ConnectRetryTime*2^3 = 40 s when a case lets it back.
            Target::BuiltIn {
                mtp: BuiltinMtp::Mqtt(_),
                ..
            } => Duration::from_secs(60),
            Target::BuiltIn { .. } => Duration::from_secs(10),
            Target::External { profile, .. } => profile.timeouts.connect.0,
        }
    }

    /// Whether cases may run side by side.
    pub fn parallel(&self) -> bool {
        matches!(self, Target::BuiltIn { .. })
    }

    /// Whether the run is over UDS, which TP-469 does not cover: its results are an
    /// extended suite, not certification results.
    pub fn is_extended(&self) -> bool {
        match self {
            Target::BuiltIn { mtp, .. } => *mtp == BuiltinMtp::Uds,
            Target::External { profile, .. } => matches!(profile.mtp(), MtpSetup::Uds(_)),
        }
    }

    /// For reports: who.
    pub fn describe(&self) -> String {
        match self {
            Target::BuiltIn { faults, .. } if faults.is_empty() => {
                "built-in reference agent".into()
            }
            Target::BuiltIn { faults, .. } => format!(
                "built-in reference agent with fault(s) {}",
                faults
                    .iter()
                    .map(|f| f.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Target::External { profile, .. } => profile
                .name
                .clone()
                .unwrap_or_else(|| profile.eut.endpoint_id.clone()),
        }
    }

    /// For reports: over what.
    pub fn describe_mtp(&self) -> String {
        match self {
            Target::BuiltIn { mtp, .. } => match mtp {
                BuiltinMtp::WebSocket => "WebSocket (agent connects)".into(),
                BuiltinMtp::Uds => "UDS (agent connects; extended suite)".into(),
                BuiltinMtp::Mqtt(v) => {
                    format!("MQTT {v} (embedded broker on 127.0.0.1; the agent connects)")
                }
            },
            Target::External { profile, .. } => match profile.mtp() {
                MtpSetup::WebSocket(WebSocketSetup::Listen { listen }) => {
                    format!("WebSocket (agent connects to {listen})")
                }
                MtpSetup::WebSocket(WebSocketSetup::Connect { url }) => {
                    format!("WebSocket (harness connects to {url})")
                }
                MtpSetup::Uds(UdsSetup::Listen { path }) => {
                    format!("UDS (agent connects to {path}; extended suite)")
                }
                MtpSetup::Uds(UdsSetup::Connect { path }) => {
                    format!("UDS (harness connects to {path}; extended suite)")
                }
                MtpSetup::Mqtt(m) => run_mqtt::describe_setup(&m),
            },
        }
    }

    /// The MQTT set-up of the run: its version, and whether uspcheck's own broker is in the
    /// middle (so cases may script it). `None` when the run is not over MQTT.
    pub fn mqtt(&self) -> Option<(Version, bool)> {
        match self {
            Target::BuiltIn {
                mtp: BuiltinMtp::Mqtt(v),
                ..
            } => Some((*v, true)),
            Target::BuiltIn { .. } => None,
            Target::External { profile, .. } => match profile.mtp() {
                MtpSetup::Mqtt(m) => Some((m.version, m.broker == BrokerMode::Embedded)),
                _ => None,
            },
        }
    }

    /// A connection to the EUT for one case, and how to get another when it reconnects. An
    /// `Unreachable` says what was tried and for how long (an environment error); a
    /// `Violation` is the EUT's handshake breaking a TR-369 requirement (a failure).
    pub async fn open(&self) -> Result<(Link, AgentGuard, Relink), ConnectError> {
        self.open_probed(true).await
    }

    /// As [`Target::open`], but through an external MQTT broker the link comes without a first
    /// request the agent answered: the preflight asks its own, and watches what comes.
    pub async fn open_unprobed(&self) -> Result<(Link, AgentGuard, Relink), ConnectError> {
        self.open_probed(false).await
    }

    async fn open_probed(&self, probe: bool) -> Result<(Link, AgentGuard, Relink), ConnectError> {
        match self {
            Target::BuiltIn { faults, mtp } => self.open_builtin(faults, *mtp).await,
            Target::External { profile, state } => {
                let mut st = state.lock().await;
                let relink = relink_external(profile, &mut st).await?;
                let mqtt = st.mqtt.as_ref().map(|m| m.case());
                if let Some(m) = &mqtt {
                    m.reset_script();
                }
                // Through the embedded MQTT broker a link is only a view of the Controller's
                // session there: a fresh one comes once the agent is connected and subscribed,
                // so a reboot at the end of the last case is not the next case's problem.
                let fresh =
                    matches!(profile.mtp(), MtpSetup::Mqtt(m) if m.broker == BrokerMode::Embedded);
                if let Some(link) = st.link.take()
                    && !fresh
                {
                    return Ok((link, AgentGuard(None, mqtt), relink));
                }
                let full = self.connect_timeout();
                // Once a case found the agent unreachable, later cases try only briefly (it
                // may have come up meanwhile) instead of each waiting the whole bound.
                let bound = match st.unreachable {
                    Some(_) => full.min(UNREACHABLE_RETRY),
                    None => full,
                };
                // A start command that keeps exiting ends the wait at once, saying how it ended.
                let process = st.process.clone();
                let server = st.server.clone();
                let waited = tokio::select! {
                    w = tokio::time::timeout(bound, relink()) => w,
                    why = process.given_up() => {
                        return Err(ConnectError::Unreachable(format!("agent not reachable: {why}")));
                    }
                };
                // Through an external broker the agent is reached when it answers, not when the
                // broker takes uspcheck's connection.
                let through_broker =
                    matches!(profile.mtp(), MtpSetup::Mqtt(m) if m.broker == BrokerMode::External);
                let link = match waited {
                    Ok(link) => {
                        if !through_broker {
                            st.unreachable = None;
                        }
                        link?
                    }
                    Err(_) => {
                        if let Some(v) = mqtt
                            .as_ref()
                            .and_then(|m| connect_violation(m, &profile.eut.endpoint_id))
                        {
                            return Err(v);
                        }
                        let meanwhile = server.as_ref().map(|s| s.rejected()).unwrap_or_default();
                        let last = st
                            .last_attempt
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .clone()
                            .map(|l| format!("; the last attempt: {l}"))
                            .unwrap_or_default();
                        let exit = process
                            .exit_note()
                            .map(|n| format!("; {n}"))
                            .unwrap_or_default();
                        let what = not_reached(profile);
                        let text = match &st.unreachable {
                            Some(_) => format!(
                                "agent still not reachable: {what} within {} (an earlier \
                                 attempt waited the whole {}){last}{exit}{meanwhile}",
                                crate::human::duration(bound),
                                crate::human::duration(full)
                            ),
                            None => format!(
                                "agent not reachable: {what} within {}{last}{exit}{meanwhile}",
                                crate::human::duration(bound)
                            ),
                        };
                        st.unreachable = Some(text.clone());
                        return Err(ConnectError::Unreachable(text));
                    }
                };
                // Through an external broker nothing shows the agent's presence: a first
                // request it answers does.
                if !(probe && through_broker) {
                    return Ok((link, AgentGuard(None, mqtt), relink));
                }
                let probed = run_mqtt::probe(
                    link,
                    &profile.eut.endpoint_id,
                    &profile.controller.endpoint_id,
                    bound,
                )
                .await;
                match probed {
                    Ok(link) => {
                        st.unreachable = None;
                        Ok((link, AgentGuard(None, mqtt), relink))
                    }
                    Err(e) => {
                        let text = match &st.unreachable {
                            Some(_) => format!(
                                "agent still not reachable: {e} (an earlier attempt waited the \
                                 whole {})",
                                crate::human::duration(full)
                            ),
                            None => format!("agent not reachable: {e}"),
                        };
                        st.unreachable = Some(text.clone());
                        Err(ConnectError::Unreachable(text))
                    }
                }
            }
        }
    }

    /// Opens the secondary Controller's own session with an external agent (TP-469 1.78),
    /// once the case has added that Controller to the agent's Controller table. When the
    /// harness connects, it opens a second connection as that Controller. When the agent
    /// connects, the primary Controller first gives the agent the profile's
    /// `secondary_controller.mtp` (an Add of `Controller.{i}.MTP.`), then the harness
    /// accepts the agent's connection to it.
    pub async fn open_secondary(
        &self,
        session: &mut Session,
        response_timeout: Duration,
    ) -> Result<Link, String> {
        let Target::External { profile, state } = self else {
            return Err("the built-in agent shares the case's connection".into());
        };
        let second = &profile.secondary_controller;
        let me = second.endpoint_id.clone();
        let bound = self.connect_timeout();
        let (dial, server) = match profile.mtp() {
            MtpSetup::WebSocket(WebSocketSetup::Connect { url }) => {
                (Some(Dial::WebSocket(url)), None)
            }
            MtpSetup::Uds(UdsSetup::Connect { path }) => {
                (Some(Dial::Uds(PathBuf::from(path))), None)
            }
            MtpSetup::WebSocket(WebSocketSetup::Listen { .. })
            | MtpSetup::Uds(UdsSetup::Listen { .. }) => (None, state.lock().await.server.clone()),
            MtpSetup::Mqtt(_) => {
                return Err("over MQTT uspcheck plays one Controller per run; a second \
                            Controller topic is not supported yet"
                    .into());
            }
        };
        if let Some(dial) = dial {
            return dial.connect(&me, bound).await.map_err(|e| e.to_string());
        }
        let server = server.ok_or("the harness is not listening")?;
        if second.mtp.is_empty() {
            return Err(
                "the agent connects to the harness, so it must be told how to reach \
                        the second Controller: give `secondary_controller.mtp` (the \
                        Device.LocalAgent.Controller.{i}.MTP. parameters) in the EUT profile"
                    .into(),
            );
        }
        // The agent learns where the second Controller is: an Add of its MTP instance, by
        // the primary Controller, addressed by the EndpointID the case gave it.
        let obj_path = format!("Device.LocalAgent.Controller.[EndpointID==\"{me}\"].MTP.");
        let add = pb::Add {
            allow_partial: false,
            create_objs: vec![pb::add::CreateObject {
                obj_path: obj_path.clone(),
                param_settings: second
                    .mtp
                    .iter()
                    .map(|(param, value)| pb::add::CreateParamSetting {
                        param: param.clone(),
                        value: value.clone(),
                        required: true,
                    })
                    .collect(),
            }],
        };
        let sent = session.send(pb::request::ReqType::Add(add));
        let answer = session
            .await_answer(&sent, response_timeout)
            .await
            .map_err(|e| format!("adding {obj_path}: {e}"))?;
        if msg::body_name(&answer.msg) != "add_resp" {
            return Err(format!(
                "adding {obj_path} was answered with {}: {}",
                msg::body_name(&answer.msg),
                msg::body_tree(&answer.msg)
            ));
        }
        tokio::time::timeout(bound, server.accept())
            .await
            .map_err(|_| {
                format!(
                    "the agent did not connect to the second Controller within {}",
                    crate::human::duration(bound)
                )
            })?
            .map_err(|e| e.to_string())
    }

    async fn open_builtin(
        &self,
        faults: &[Fault],
        mtp: BuiltinMtp,
    ) -> Result<(Link, AgentGuard, Relink), ConnectError> {
        let controller = self.controller_id();
        if let BuiltinMtp::Mqtt(version) = mtp {
            return self.open_builtin_mqtt(faults, version).await;
        }
        let (listening, dial) = match mtp {
            BuiltinMtp::WebSocket => {
                let server = websocket::Server::bind("127.0.0.1:0", &controller)
                    .await
                    .map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
                let addr = server.local_addr().map_err(|e| e.to_string())?;
                (
                    Listening::WebSocket(server),
                    Dial::WebSocket(format!("ws://{addr}/usp")),
                )
            }
            BuiltinMtp::Uds => {
                let path = scratch_socket();
                let server = uds::Server::bind(&path, &controller)
                    .map_err(|e| format!("cannot listen on {}: {e}", path.display()))?;
                (Listening::Uds(server), Dial::Uds(path))
            }
            BuiltinMtp::Mqtt(_) => unreachable!("handled above"),
        };
        let cfg = agent::AgentConfig {
            endpoint_id: BUILTIN_AGENT_ID.into(),
            controller_id: controller,
            faults: faults.to_vec(),
            software_version: env!("CARGO_PKG_VERSION").into(),
        };
        // The agent reconnects after a reboot, as a real one would; the guard stops it.
        // Its diagnostics in an `agent` span inside the case's.
        let agent = agent::run::client(dial, cfg).instrument(tracing::info_span!("agent"));
        let handle = tokio::spawn(agent);
        let relink = accept_on(Arc::new(listening));
        let bound = self.connect_timeout();
        let link = tokio::time::timeout(bound, relink()).await.map_err(|_| {
            ConnectError::Unreachable(format!(
                "the built-in agent did not connect within {}",
                crate::human::duration(bound)
            ))
        })??;
        Ok((link, AgentGuard(Some(handle), None), relink))
    }

    /// The built-in agent through a fresh embedded MQTT broker: the harness's Controller is
    /// inside the broker, the agent connects to it as a client.
    async fn open_builtin_mqtt(
        &self,
        faults: &[Fault],
        version: Version,
    ) -> Result<(Link, AgentGuard, Relink), ConnectError> {
        let m = run_mqtt::builtin(version).await?;
        let cfg = agent::AgentConfig {
            endpoint_id: BUILTIN_AGENT_ID.into(),
            controller_id: self.controller_id(),
            faults: faults.to_vec(),
            software_version: env!("CARGO_PKG_VERSION").into(),
        };
        let agent = agent::run::client(Dial::Mqtt(m.dial), cfg);
        let handle = tokio::spawn(agent.instrument(tracing::info_span!("agent")));
        let guard = AgentGuard(Some(handle), Some(m.case));
        let bound = self.connect_timeout();
        let link = tokio::time::timeout(bound, (m.relink)())
            .await
            .map_err(|_| {
                connect_violation(guard.mqtt().expect("made above"), BUILTIN_AGENT_ID).unwrap_or_else(|| ConnectError::Unreachable(format!(
                    "the built-in agent did not connect and subscribe at the embedded MQTT broker within {}",
                    crate::human::duration(bound)
                )))
            })??;
        Ok((link, guard, m.relink))
    }

    /// Ends the run's hold on the agent, in the order a real agent needs: the session is
    /// closed, the process a start command runs is stopped (SIGTERM to its group, a bounded
    /// wait, then SIGKILL) and waited for, and only then the harness's servers and embedded
    /// MQTT broker go, so an agent that shuts down gracefully still has its broker.
    pub async fn shutdown(&self) {
        let Target::External { state, .. } = self else {
            return;
        };
        let mut st = state.lock().await;
        st.link = None;
        st.process.stop().await;
        st.mqtt = None;
        st.server = None;
    }

    /// The ClientIds of the clients connected to the embedded MQTT broker now, other than
    /// uspcheck's own Controller (empty when there is no embedded broker).
    pub async fn broker_clients(&self) -> Vec<String> {
        let Target::External { profile, state } = self else {
            return Vec::new();
        };
        let MtpSetup::Mqtt(setup) = profile.mtp() else {
            return Vec::new();
        };
        let broker = state
            .lock()
            .await
            .mqtt
            .as_ref()
            .and_then(|m| m.case().broker);
        broker
            .map(|b| b.clients())
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c.peer != "in-process" && c.client_id != setup.client_id)
            .map(|c| c.client_id)
            .collect()
    }

    /// Notes that the agent was not reached (the preflight waited the whole connect bound for
    /// it): the first case then tries only briefly, as the cases after one that did.
    pub async fn unreached(&self, why: &str) {
        if let Target::External { state, .. } = self {
            state.lock().await.unreachable = Some(why.to_string());
        }
    }

    /// Hands back a link that is still up, for the next case (external agents only).
    pub async fn give_back(&self, link: Option<Link>) {
        if let (Target::External { state, .. }, Some(l)) = (self, link) {
            state.lock().await.link = Some(l);
        }
    }
}

/// What did not happen when an external agent was not reached, by how it is reached.
fn not_reached(profile: &Profile) -> String {
    match profile.mtp() {
        MtpSetup::WebSocket(WebSocketSetup::Listen { listen }) => {
            format!("the agent did not connect to ws://{listen}")
        }
        MtpSetup::WebSocket(WebSocketSetup::Connect { url }) => {
            format!("no WebSocket session with {url}")
        }
        MtpSetup::Uds(UdsSetup::Listen { path }) => {
            format!("the agent did not connect to the Unix socket {path}")
        }
        MtpSetup::Uds(UdsSetup::Connect { path }) => format!("no UDS session with {path}"),
        MtpSetup::Mqtt(m) => format!(
            "the agent did not connect and subscribe at the MQTT broker {} (or answer through it)",
            m.address
        ),
    }
}

/// How long a case tries to reach an agent that an earlier case found unreachable.
pub const UNREACHABLE_RETRY: Duration = Duration::from_secs(5);

/// The agent never became present at the embedded MQTT broker: if a CONNECT of its broke
/// a TR-369 rule meanwhile (R-MQTT.13), that is the failure to report, not unreachability.
fn connect_violation(m: &CaseMqtt, eut_id: &str) -> Option<ConnectError> {
    let (v, e) = m
        .take_violations(eut_id)
        .into_iter()
        .find(|(_, e)| e.kind == "CONNECT")?;
    Some(ConnectError::Violation {
        requirement: v.requirement,
        text: format!(
            "the agent never became reachable through the broker, and its CONNECT broke a rule: \
             {} [{}]",
            v.text,
            run_mqtt::describe_event(&e)
        ),
    })
}

/// A fresh socket path for one case's built-in agent.
fn scratch_socket() -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!(
        "uspcheck-{}-{}.sock",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}
