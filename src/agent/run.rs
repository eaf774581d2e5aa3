//! The reference agent's I/O: it speaks USP Records over a [`Link`], sends the MTP's
//! Connect Record first (R-MTP.6), answers requests through the data-model logic, sends
//! notifications when they fall due, and applies the transport-level faults (wrong msg_id,
//! late answers, malformed records, wrong to_id).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use prost::Message;
use tokio::sync::{Mutex, mpsc};

use super::{Agent, AgentConfig, Fault, Outgoing};
use crate::mtp::mqtt::{self, ClientConfig};
use crate::mtp::{ConnectError, Link, MtpEventKind, MtpKind, uds, websocket};
use crate::usp::{msg, pb, record};

/// How late the `late-response` fault answers: past any sensible response timeout of a
/// test of the reference agent.
pub const LATE_BY: Duration = Duration::from_secs(8);

/// Where the agent finds its Controller.
#[derive(Debug, Clone)]
pub enum Dial {
    /// A WebSocket server URL (`ws://host:port/path`).
    WebSocket(String),
    /// A Unix domain socket path.
    Uds(std::path::PathBuf),
    /// An MQTT broker the agent connects to as a client (TR-369 MQTT binding).
    Mqtt(MqttDial),
}

/// How the agent reaches its MQTT broker, and the values that seed its data model
/// (`Device.MQTT.Client.1.`, `Device.LocalAgent.MTP.1.MQTT.`,
/// `Device.LocalAgent.Controller.1.MTP.1.MQTT.`). After the first boot the agent follows its
/// data model: a Set of KeepAliveTime or ClientID takes effect at the next connection.
#[derive(Debug, Clone)]
pub struct MqttDial {
    /// The broker as `host:port`.
    pub broker: String,
    /// `Device.MQTT.Client.1.ProtocolVersion` (5.0 or 3.1.1).
    pub version: crate::mtp::mqtt::Version,
    /// The agent's own Topic (`Device.LocalAgent.MTP.1.MQTT.ResponseTopicConfigured`).
    pub agent_topic: String,
    /// The Controller's Topic (`Device.LocalAgent.Controller.1.MTP.1.MQTT.Topic`).
    pub controller_topic: String,
    /// `Device.MQTT.Client.1.ClientID`; empty lets a 5.0 broker assign one (R-MQTT.8).
    pub client_id: String,
    /// `Device.MQTT.Client.1.Username` and `.Password` (R-MQTT.7).
    pub credentials: Option<(String, String)>,
}

impl Dial {
    /// One connection attempt, bounded by `bound`.
    pub async fn connect(&self, eid: &str, bound: Duration) -> Result<Link, ConnectError> {
        self.connect_with(eid, bound, websocket::Hello::CONFORMING)
            .await
    }

    /// One connection attempt whose WebSocket opening handshake offers what `hello` says.
    pub async fn connect_with(
        &self,
        eid: &str,
        bound: Duration,
        hello: websocket::Hello,
    ) -> Result<Link, ConnectError> {
        Ok(match self {
            Dial::WebSocket(url) => websocket::connect_with(url, eid, bound, hello).await?,
            Dial::Uds(path) => uds::connect(path, eid, bound).await?,
            Dial::Mqtt(d) => {
                let mut c = ClientConfig::agent(
                    &d.broker,
                    d.version,
                    &d.client_id,
                    &d.agent_topic,
                    &d.controller_topic,
                    Duration::from_secs(60),
                );
                c.credentials = d.credentials.clone();
                c.endpoint_id = Some(eid.to_string());
                c.timeout = bound;
                mqtt::connect_with(c).await.map(|(link, _)| link)?
            }
        })
    }

    /// The first retry delay and its cap: WebSocket doubles from 1 s to 60 s (the shape of
    /// R-WS.19); UDS retries within 1 to 5 s (R-UDS.5).
    fn backoff(&self) -> (Duration, Duration) {
        match self {
            Dial::WebSocket(_) => (Duration::from_secs(1), Duration::from_secs(60)),
            Dial::Uds(_) => (Duration::from_secs(1), Duration::from_secs(5)),
            // R-MQTT.10: ConnectRetryTime 5 s doubling (multiplier 2000), as TR-181 defaults.
            Dial::Mqtt(_) => (Duration::from_secs(5), Duration::from_secs(30720)),
        }
    }
}

/// The agent as client: connects, serves, and reconnects after every disconnect with a
/// growing back-off, until the task is stopped.
pub async fn client(dial: Dial, cfg: AgentConfig) {
    // The MQTT MTP has its own client, driven by the data model (TP-469 section 11).
    if let Dial::Mqtt(d) = dial {
        return super::mqtt::client(d, cfg).await;
    }
    let agent = Arc::new(Mutex::new(Agent::new(cfg.clone())));
    let (initial, cap) = dial.backoff();
    let mut backoff = initial;
    let mut first = true;
    let hello = websocket::Hello {
        subprotocol: !cfg.faults.contains(&Fault::WsNoSubprotocol),
        eid_query: !cfg.faults.contains(&Fault::WsNoEidQuery),
    };
    // `stall-before-handshake`: a connection that never says anything, held while the
    // agent runs.
    let _stalled = match &dial {
        Dial::WebSocket(url) if cfg.faults.contains(&Fault::StallBeforeHandshake) => {
            let host = url
                .trim_start_matches("ws://")
                .split('/')
                .next()
                .unwrap_or("");
            tokio::net::TcpStream::connect(host).await.ok()
        }
        _ => None,
    };
    loop {
        match dial
            .connect_with(&cfg.endpoint_id, Duration::from_secs(10), hello)
            .await
        {
            Ok(link) => {
                backoff = initial;
                tracing::info!(link = %link.describe, "connected to the Controller");
                // After a reboot the next session starts with Boot! again.
                let ended = serve(link, agent.clone(), &cfg, first).await;
                tracing::info!(how = ?ended, "the session with the Controller ended");
                first = ended == Ended::Reboot;
            }
            Err(e) => {
                tracing::info!(error = %e, retry_in = ?backoff, "no connection to the Controller")
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(cap);
    }
}

/// A listening socket the agent serves Controllers on (R-WS.6; UDS server role).
pub enum Listener {
    WebSocket(websocket::Server),
    Uds(uds::Server),
}

/// The agent as server: serves each Controller that connects in a session of its own, side
/// by side, keeping one data model across them ([`super::sessions`]).
pub async fn server(listener: Listener, cfg: AgentConfig) {
    let sessions = super::sessions::Sessions::new(cfg.clone());
    let listener = match listener {
        Listener::WebSocket(s) if cfg.faults.contains(&Fault::WsNoSubprotocol) => {
            Listener::WebSocket(s.without_subprotocol())
        }
        other => other,
    };
    loop {
        let accepted = match &listener {
            Listener::WebSocket(s) => s.accept().await,
            Listener::Uds(s) => s.accept().await.map_err(ConnectError::from),
        };
        match accepted {
            Ok(link) => {
                tracing::info!(link = %link.describe, "a Controller connected");
                sessions.start(link).await
            }
            Err(e) => tracing::info!(error = %e, "a connection was refused"),
        }
    }
}

/// Why serving a link ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The link closed.
    Closed,
    /// `Device.Reboot()` ran: the caller reconnects and boots the agent again.
    Reboot,
}

/// What the serving loop waits on besides the link.
enum Due {
    /// A timer the agent asked for has expired.
    Wake(u64),
    /// A message held back by the `late-response` fault, and its destination.
    Send(String, pb::Msg),
}

/// Serves one link until it closes or the agent reboots.
pub async fn serve(
    mut link: Link,
    agent: Arc<Mutex<Agent>>,
    cfg: &AgentConfig,
    boot: bool,
) -> Ended {
    let mut out = Sender {
        link: link.sender.clone(),
        cfg: cfg.clone(),
        peers: BTreeSet::from([cfg.controller_id.clone()]),
    };
    // R-MTP.6: the Connect Record of the MTP in use goes first, whichever side opened
    // the connection.
    let (to, from) = (&cfg.controller_id, &cfg.endpoint_id);
    out.raw(match &link.mtp {
        MtpKind::WebSocket => record::websocket_connect(to, from),
        MtpKind::Uds => record::uds_connect(to, from),
        MtpKind::Mqtt {
            v5,
            subscribed_topic,
        } => record::mqtt_connect(to, from, *v5, subscribed_topic),
    });
    let (due_tx, mut due_rx) = mpsc::unbounded_channel::<Due>();
    let _flood = cfg
        .faults
        .contains(&Fault::Flood)
        .then(|| Aborted(tokio::spawn(flood(out.link.clone(), cfg.clone()))));
    if boot {
        let first = agent.lock().await.boot();
        if out.dispatch(first, &due_tx) == Some(Ended::Reboot) {
            return reboot(&agent, &out).await;
        }
    }
    loop {
        let outputs = tokio::select! {
            ev = link.events.recv() => match ev.map(|e| e.kind) {
                Some(MtpEventKind::Record(_)) if cfg.faults.contains(&Fault::DropMidCase) => {
                    out.link.close(1011, "drop-mid-case");
                    return Ended::Closed;
                }
                Some(MtpEventKind::Record(bytes)) => {
                    handle_record(&agent, cfg, &bytes, &mut out.peers).await
                }
                Some(MtpEventKind::Closed { .. }) | None => return Ended::Closed,
                Some(_) => continue,
            },
            Some(due) = due_rx.recv() => match due {
                Due::Wake(t) => agent.lock().await.wake(t),
                Due::Send(to, m) => { out.send(&to, m); continue; }
            },
        };
        if out.dispatch(outputs, &due_tx) == Some(Ended::Reboot) {
            return reboot(&agent, &out).await;
        }
    }
}

/// A task that ends with its owner.
struct Aborted(tokio::task::JoinHandle<()>);

impl Drop for Aborted {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The `flood` fault's record: an unsolicited Notify the Controller did not subscribe to.
pub(super) fn flood_notify() -> pb::Msg {
    msg::request(
        "flood",
        pb::request::ReqType::Notify(pb::Notify {
            subscription_id: "flood".into(),
            send_resp: false,
            notification: Some(pb::notify::Notification::Event(pb::notify::Event {
                obj_path: "Device.LocalAgent.".into(),
                event_name: "Periodic!".into(),
                params: Default::default(),
            })),
        }),
    )
}

/// How often the `flood` fault sends a burst, and how many records a burst holds: about
/// 10,000 a second while the transport takes them.
pub(super) const FLOOD_EVERY: Duration = Duration::from_millis(1);
pub(super) const FLOOD_BURST: usize = 10;

/// `flood`: unsolicited Notify records, a burst every [`FLOOD_EVERY`], until the link is gone.
async fn flood(link: crate::mtp::LinkSender, cfg: AgentConfig) {
    let bytes = record::encode(&record::no_session(
        &cfg.controller_id,
        &cfg.endpoint_id,
        &flood_notify(),
    ));
    let mut tick = tokio::time::interval(FLOOD_EVERY);
    loop {
        tick.tick().await;
        for _ in 0..FLOOD_BURST {
            if !link.record(bytes.clone()) {
                return;
            }
        }
    }
}

async fn reboot(agent: &Arc<Mutex<Agent>>, out: &Sender) -> Ended {
    out.raw(record::disconnect(
        &out.cfg.controller_id,
        &out.cfg.endpoint_id,
        "rebooting",
        0,
    ));
    out.link.close(1000, "rebooting");
    agent.lock().await.reboot();
    Ended::Reboot
}

/// Decodes a record and runs its message through the agent. Records not addressed to this
/// agent are ignored (R-E2E.1); a request that cannot be decoded gets an Error when its
/// msg_id can be read (R-MTP.5).
/// Every Controller that sends on this link becomes a peer the agent may answer on it.
async fn handle_record(
    agent: &Arc<Mutex<Agent>>,
    cfg: &AgentConfig,
    bytes: &[u8],
    peers: &mut BTreeSet<String>,
) -> Vec<Outgoing> {
    match decode_request(cfg, bytes) {
        Some((from, m)) => {
            peers.insert(from.clone());
            agent.lock().await.handle(&from, m)
        }
        None => vec![],
    }
}

/// The sender's Endpoint ID and the message of a record addressed to this agent (R-E2E.1);
/// `None` for anything else (another `to_id`, no payload, bytes that do not decode).
pub(super) fn decode_request(cfg: &AgentConfig, bytes: &[u8]) -> Option<(String, pb::Msg)> {
    let rec = record::decode(bytes).ok()?;
    if rec.to_id != cfg.endpoint_id {
        return None;
    }
    let payload = record::payload(&rec)?;
    let m = pb::Msg::decode(payload).ok()?;
    Some((rec.from_id, m))
}

/// The record bytes carrying `m` to `to`, with the record-level faults applied (every MTP
/// sends through this): `wrong-msg-id`, `malformed-record`, `wrong-to-id`.
pub(super) fn encode_msg(cfg: &AgentConfig, to: &str, mut m: pb::Msg) -> Vec<u8> {
    let has = |f: Fault| cfg.faults.contains(&f);
    if msg::is_answer(&m) {
        if has(Fault::WrongMsgId)
            && let Some(h) = m.header.as_mut()
        {
            h.msg_id.push_str("-wrong");
        }
        if has(Fault::MalformedRecord) {
            // Bytes that are no protobuf at all: a varint that never ends.
            return vec![0x0a, 0xff, 0xff, 0xff, 0xff, 0xff];
        }
    }
    if has(Fault::BulkyAnswers) {
        bulk_up(&mut m);
    }
    let to = if has(Fault::WrongToId) {
        "proto::somebody-else"
    } else {
        to
    };
    let mut bytes = record::encode(&record::no_session(to, &cfg.endpoint_id, &m));
    if has(Fault::OversizedRecord) && msg::is_answer(&m) {
        // An unknown length-delimited field 15 of 17 MiB: the record still decodes.
        let pad = 17 * 1024 * 1024;
        bytes.push(15 << 3 | 2);
        prost::encoding::encode_varint(pad as u64, &mut bytes);
        bytes.resize(bytes.len() + pad, 0);
    }
    bytes
}

/// `bulky-answers`: a GetResp gains one more resolved path holding about 1.8 MB of small
/// parameters, the shape that costs a harness most per byte (many short strings), just under
/// uspcheck's default record limit (`mtp::DEFAULT_MAX_RECORD`).
fn bulk_up(m: &mut pb::Msg) {
    use pb::response::RespType;
    let Some(pb::body::MsgBody::Response(pb::Response {
        resp_type: Some(RespType::GetResp(get)),
    })) = m.body.as_mut().and_then(|b| b.msg_body.as_mut())
    else {
        return;
    };
    let result_params = (0..40_000)
        .map(|i| {
            (
                format!("Pad{i:06}"),
                format!("value {i:06} of a bulky answer"),
            )
        })
        .collect();
    let bulk = pb::get_resp::ResolvedPathResult {
        resolved_path: "Device.X_USPCHECK_Bulk.".into(),
        result_params,
    };
    match get.req_path_results.first_mut() {
        Some(r) => r.resolved_path_results.push(bulk),
        None => get
            .req_path_results
            .push(pb::get_resp::RequestedPathResult {
                requested_path: "Device.X_USPCHECK_Bulk.".into(),
                resolved_path_results: vec![bulk],
                ..Default::default()
            }),
    }
}

/// Sends messages to the controllers on this link, applying the transport-level faults.
struct Sender {
    link: crate::mtp::LinkSender,
    cfg: AgentConfig,
    /// Controllers reachable over this link: the configured one and any that sent here.
    peers: BTreeSet<String>,
}

impl Sender {
    fn has(&self, f: Fault) -> bool {
        self.cfg.faults.contains(&f)
    }

    fn raw(&self, r: crate::usp::pb_record::Record) {
        self.link.record(record::encode(&r));
    }

    /// Carries out the agent's outputs in order; stops at a reboot and says so.
    fn dispatch(&self, outputs: Vec<Outgoing>, due: &mpsc::UnboundedSender<Due>) -> Option<Ended> {
        for o in outputs {
            match o {
                // Messages for Controllers not on this link are not ours to send.
                Outgoing::Send { to, .. } if !self.peers.contains(&to) => {}
                Outgoing::Send { to, msg: m }
                    if self.has(Fault::LateResponse) && msg::is_answer(&m) =>
                {
                    later(LATE_BY, Due::Send(to, m), due.clone())
                }
                Outgoing::Send { to, msg: m } => self.send(&to, m),
                Outgoing::Wake { after, timer } => later(after, Due::Wake(timer), due.clone()),
                Outgoing::Reboot => return Some(Ended::Reboot),
            }
        }
        None
    }

    fn send(&self, to: &str, m: pb::Msg) {
        if self.has(Fault::Silent) {
            return;
        }
        if self.has(Fault::GarbageRecords) && msg::is_answer(&m) {
            self.link
                .record(b"\xde\xad\xbe\xef: no USP Record".to_vec());
        }
        self.link.record(encode_msg(&self.cfg, to, m));
    }
}

/// Hands `what` to `due` once `d` has elapsed.
pub(super) fn later<T: Send + 'static>(d: Duration, what: T, due: mpsc::UnboundedSender<T>) {
    tokio::spawn(async move {
        tokio::time::sleep(d).await;
        let _ = due.send(what);
    });
}
