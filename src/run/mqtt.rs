//! The MQTT side of a run: the embedded broker and the harness's Controller in it (or the
//! Controller as a plain client of the user's broker), the agent's presence as the broker
//! sees it, MQTT-level universal checks, and the broker's packet log for the wire log.
//!
//! Over MQTT the Controller's link never drops when the agent reboots: only the agent's
//! connection to the broker does. The [`present`] wrapper turns the broker's events into the
//! shape the session knows from WebSocket: when the agent's last subscribed connection ends,
//! the session's link reports `Closed`, and the session's relink resolves once the agent is
//! connected and subscribed again. Records the session sends while the agent is away are
//! held and published once it is back, so none is lost in the gap.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use crate::controller::Relink;
use crate::mtp::mqtt::{
    self, Broker, BrokerEvent, BrokerHandle, ClientConfig, ControllerConfig, ControllerControl,
    Dir, Script, Version,
};
use crate::mtp::{
    ConnectError, EVENT_QUEUE, Events, Link, LinkSender, MtpEvent, MtpEventKind, Outgoing, channels,
};
use crate::report::model::LogLine;
use crate::suite::compile::PacketExpect;
use crate::suite::matcher::MatchError;
use crate::usp::checks::Violation;
use crate::usp::{record, reflect};

/// Topics the built-in agent and the harness use unless a profile says otherwise.
pub const BUILTIN_AGENT_TOPIC: &str = "usp/agent/uspcheck-ref";
pub const BUILTIN_CONTROLLER_TOPIC: &str = "usp/controller/uspcheck";
pub const BUILTIN_AGENT_CLIENT_ID: &str = "uspcheck-ref-agent";
pub const BUILTIN_CONTROLLER_CLIENT_ID: &str = "uspcheck-controller";
/// The User Name and Password the built-in agent is configured with (TP-469 11.2 setup).
pub const BUILTIN_CREDENTIALS: (&str, &str) = ("uspcheck-agent", "uspcheck-secret");

/// What a case can do with MQTT: the broker (embedded only), the Controller's PUBLISH
/// options (embedded only), and where the case's part of the broker log begins.
pub struct CaseMqtt {
    pub version: Version,
    /// The embedded broker; `None` when the Controller is a client of an external broker.
    pub broker: Option<BrokerHandle>,
    pub control: Option<ControllerControl>,
    pub controller_client_id: String,
    /// The agent's ClientId when the profile names it (`mqtt.agent_client_id`): only its
    /// packets are the agent's; otherwise every client but the Controller's is.
    pub agent_client_id: Option<String>,
    pub controller_topic: String,
    /// The broker script a case starts from (the profile's credentials, nothing else).
    pub base_script: Script,
    /// The agent Topic the Controller publishes to when a case has not changed it.
    pub base_agent_topic: Option<String>,
    /// The broker log index at which this case began.
    pub log_from: usize,
    /// The broker log index from which `await_packet` looks (the case's first step).
    await_from: Mutex<usize>,
    /// The broker log index up to which the universal checks have looked.
    checked: Mutex<usize>,
    /// Broker log indices `await_packet` steps have consumed.
    consumed: Mutex<Vec<usize>>,
    /// Packets that broke a metric, with what they broke (shown under them in the wire log).
    flagged: Mutex<Vec<(usize, String)>>,
    /// Keeps a per-case broker running (built-in agent); dropped with the case.
    _owned: Option<Arc<Broker>>,
}

impl CaseMqtt {
    fn new(
        version: Version,
        broker: Option<(BrokerHandle, ControllerControl)>,
        (controller_client_id, agent_client_id): (&str, Option<String>),
        controller_topic: &str,
        (base_script, base_agent_topic): (Script, Option<String>),
        owned: Option<Arc<Broker>>,
    ) -> CaseMqtt {
        let log_from = broker.as_ref().map_or(0, |(b, _)| b.log_len());
        CaseMqtt {
            version,
            control: broker.as_ref().map(|(_, c)| c.clone()),
            broker: broker.map(|(b, _)| b),
            controller_client_id: controller_client_id.into(),
            agent_client_id,
            controller_topic: controller_topic.into(),
            base_script,
            base_agent_topic,
            log_from,
            await_from: Mutex::new(log_from),
            checked: Mutex::new(log_from),
            consumed: Mutex::new(Vec::new()),
            flagged: Mutex::new(Vec::new()),
            _owned: owned,
        }
    }

    /// Whether an event concerns the agent (any client but the harness's Controller).
    pub fn is_agent(&self, e: &BrokerEvent) -> bool {
        e.detail.get("in_process").is_none() && self.is_agent_client(&e.client_id)
    }

    /// Whether a client of the broker (not an in-process one) is the agent.
    fn is_agent_client(&self, client_id: &str) -> bool {
        match &self.agent_client_id {
            Some(agent) => client_id == agent,
            None => client_id != self.controller_client_id,
        }
    }

    /// Restores the broker script and the Controller's PUBLISH options the case began
    /// with (start and end of every case).
    pub fn reset_script(&self) {
        if let Some(b) = &self.broker {
            b.set_script(self.base_script.clone());
        }
        if let Some(c) = &self.control {
            c.set_content_type(Some(mqtt::CONTENT_TYPE));
            c.set_agent_topic(self.base_agent_topic.as_deref());
            c.set_reply_to(None);
        }
    }

    /// The case's steps begin: `await_packet` looks at packets from here on.
    pub fn begin(&self) {
        if let Some(b) = &self.broker {
            *lock(&self.await_from) = b.log_len();
        }
    }

    /// Marks a broker log entry as matched by a step, so the next step looks past it.
    pub fn consume(&self, seq: usize) {
        lock(&self.consumed).push(seq);
    }

    pub fn is_consumed(&self, seq: usize) -> bool {
        lock(&self.consumed).contains(&seq)
    }

    /// Marks a packet of the log as the one that broke `what`.
    pub fn flag(&self, seq: usize, what: String) {
        lock(&self.flagged).push((seq, what));
    }

    /// TR-369's MQTT rules every agent packet must keep, checked on every packet from the
    /// agent (and every one the broker could not take) logged since the last call (embedded
    /// broker only).
    pub fn take_violations(&self, eut_id: &str) -> Vec<(Violation, BrokerEvent)> {
        let Some(b) = &self.broker else {
            return Vec::new();
        };
        let mut checked = lock(&self.checked);
        let events = b.events_from(*checked);
        *checked = events.last().map_or(*checked, |e| e.seq + 1);
        events
            .into_iter()
            .filter(|e| (e.dir == Dir::In || e.kind == "MALFORMED") && self.is_agent(e))
            .flat_map(|e| {
                universal(&e, eut_id)
                    .into_iter()
                    .map(move |v| (v, e.clone()))
            })
            .collect()
    }

    /// The case's MQTT variables: `mqtt.tls_port`, the port of the embedded broker's TLS
    /// listener (TP-469 11.3 points the agent's `BrokerPort` at it).
    pub fn add_vars(&self, vars: &mut crate::suite::vars::Vars) {
        if let Some(a) = self.broker.as_ref().and_then(BrokerHandle::tls_addr) {
            vars.set("mqtt.tls_port", a.port().to_string());
        }
    }

    /// The case's part of the broker log as wire-log lines, timed from `start`, within
    /// [`LogLine::MAX`] (only the lines kept are made).
    pub fn log_lines(&self, start: Instant) -> Vec<LogLine> {
        let Some(b) = &self.broker else {
            return Vec::new();
        };
        let flagged = lock(&self.flagged).clone();
        LogLine::bounded(&b.events_from(self.log_from), |e| {
            let mut l = log_line(e, start);
            l.violations = flagged
                .iter()
                .filter(|(s, _)| *s == e.seq)
                .map(|(_, w)| w.clone())
                .collect();
            l
        })
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One broker event as a wire-log line (`mqtt`): who, which way, the packet on one line,
/// its decoded fields.
pub fn log_line(e: &BrokerEvent, start: Instant) -> LogLine {
    let arrow = match e.dir {
        Dir::In => "→ broker",
        Dir::Out => "broker →",
        Dir::Conn => "conn",
    };
    let who = if e.client_id.is_empty() {
        format!("#{}", e.conn)
    } else {
        format!("{:?} #{}", e.client_id, e.conn)
    };
    LogLine {
        t: e.at.saturating_duration_since(start).as_secs_f64(),
        dir: "mqtt".into(),
        text: format!("[{}] {who} {arrow} {}", e.seq, e.packet),
        decoded: Some(packet_tree(e).to_string()),
        hex: None,
        violations: vec![],
    }
}

/// One broker event on one line, for failure texts.
pub fn describe_event(e: &BrokerEvent) -> String {
    let dir = match e.dir {
        Dir::In => "from",
        Dir::Out => "to",
        Dir::Conn => "connection of",
    };
    format!(
        "broker log [{}] {} {dir} {:?}: {}",
        e.seq, e.kind, e.client_id, e.packet
    )
}

/// The tree an `await_packet` step matches: the decoded fields, plus `kind`, `dir`,
/// `client_id`, `version`, and for a PUBLISH whose payload is a USP Record, the Record
/// decoded in the `.proto` field names under `record`.
pub fn packet_tree(e: &BrokerEvent) -> Value {
    let mut t = match &e.detail {
        Value::Object(m) => m.clone(),
        other => {
            let mut m = serde_json::Map::new();
            m.insert("detail".into(), other.clone());
            m
        }
    };
    t.insert("kind".into(), json!(e.kind));
    t.insert(
        "dir".into(),
        json!(match e.dir {
            Dir::In => "in",
            Dir::Out => "out",
            Dir::Conn => "conn",
        }),
    );
    t.insert("client_id".into(), json!(e.client_id));
    if let Some(v) = e.version {
        t.insert("version".into(), json!(v.label()));
    }
    if e.kind == "PUBLISH"
        && let Some(bytes) = e
            .detail
            .get("payload_hex")
            .and_then(Value::as_str)
            .and_then(|h| hex::decode(h).ok())
        && let Ok(r) = record::decode(&bytes)
    {
        if let Some(m) = record::payload(&r)
            .and_then(|p| <crate::usp::pb::Msg as prost::Message>::decode(p).ok())
        {
            t.insert("msg".into(), reflect::to_value(&m, "usp.Msg"));
        }
        t.insert("record".into(), reflect::to_value(&r, "usp_record.Record"));
    }
    Value::Object(t)
}

/// The MQTT-level universal rules for one packet from the agent: a 5.0 PUBLISH carries the
/// Content Type `usp.msg` (R-MQTT.27) and a Response Topic (R-MQTT.22, R-MQTT.23); a 3.1.1
/// PUBLISH ends its Topic Name with `/reply-to=` and a Topic (R-MQTT.22, R-MQTT.24); a 5.0
/// CONNECT carries the `usp-endpoint-id` User Property with the agent's Endpoint ID
/// (R-MQTT.13); a CONNECT speaks MQTT 5.0 or 3.1.1 (R-MQTT.1, R-MQTT.2); no packet is over
/// the Maximum Packet Size a 5.0 CONNACK stated (R-MQTT.1; over 3.1.1, uspcheck's limit).
pub fn universal(e: &BrokerEvent, eut_id: &str) -> Vec<Violation> {
    let mut out = Vec::new();
    let props = e.detail.get("properties");
    let prop = |k: &str| props.and_then(|p| p.get(k)).and_then(Value::as_str);
    match (e.kind.as_str(), e.version) {
        ("PUBLISH", Some(Version::V5)) => {
            let topic = e.detail.get("topic").and_then(Value::as_str).unwrap_or("");
            match prop("content_type") {
                Some(mqtt::CONTENT_TYPE) => {}
                Some(other) => out.push(Violation {
                    requirement: "R-MQTT.27",
                    text: format!(
                        "the agent's 5.0 PUBLISH on {topic:?} has Content Type {other:?}, not \"usp.msg\""
                    ),
                }),
                None => out.push(Violation {
                    requirement: "R-MQTT.27",
                    text: format!("the agent's 5.0 PUBLISH on {topic:?} has no Content Type"),
                }),
            }
            if prop("response_topic").is_none_or(str::is_empty) {
                out.push(Violation {
                    requirement: "R-MQTT.23",
                    text: format!(
                        "the agent's 5.0 PUBLISH on {topic:?} has no Response Topic (its \"reply to\" Topic, R-MQTT.22)"
                    ),
                });
            }
        }
        ("PUBLISH", Some(Version::V311)) => {
            let topic = e.detail.get("topic").and_then(Value::as_str).unwrap_or("");
            match mqtt::split_reply_to(topic).1 {
                Some(r) if !r.is_empty() => {}
                _ => out.push(Violation {
                    requirement: "R-MQTT.24",
                    text: format!(
                        "the agent's 3.1.1 PUBLISH Topic Name {topic:?} does not end with \"/reply-to=\" and its \"reply to\" Topic (R-MQTT.22)"
                    ),
                }),
            }
        }
        ("MALFORMED", version) if e.detail.get("over_maximum_packet_size").is_some() => {
            let n = &e.detail["over_maximum_packet_size"];
            out.push(match version {
                // The broker's CONNACK stated the Maximum Packet Size, which MQTT 5.0 forbids
                // a client to exceed ([MQTT-3.2.2-15]); R-MQTT.1 requires MQTT 5.0.
                Some(Version::V5) => Violation {
                    requirement: "R-MQTT.1",
                    text: format!(
                        "the agent sent a packet of {n} bytes, over the Maximum Packet Size \
                         {} the broker's CONNACK stated (MQTT 5.0 [MQTT-3.2.2-15])",
                        mqtt::max_packet()
                    ),
                },
                _ => Violation {
                    requirement: crate::usp::checks::HARNESS_LIMIT,
                    text: format!(
                        "the agent sent a packet of {n} bytes, over the {} bytes uspcheck's \
                         broker reads",
                        mqtt::max_packet()
                    ),
                },
            });
        }
        ("CONNECT", None) => {
            // The broker logs a CONNECT of another protocol version without one.
            let named = e
                .detail
                .get("version")
                .and_then(Value::as_str)
                .unwrap_or("?");
            out.push(Violation {
                requirement: "R-MQTT.1",
                text: format!(
                    "the agent's CONNECT speaks {named}, neither MQTT 5.0 (R-MQTT.1) nor 3.1.1 (R-MQTT.2)"
                ),
            });
        }
        ("CONNECT", Some(Version::V5)) => {
            let users = props
                .and_then(|p| p.get("user_properties"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let ids: Vec<&str> = users
                .iter()
                .filter(|kv| kv.get(0).and_then(Value::as_str) == Some("usp-endpoint-id"))
                .filter_map(|kv| kv.get(1).and_then(Value::as_str))
                .collect();
            if ids != [eut_id] {
                out.push(Violation {
                    requirement: "R-MQTT.13",
                    text: format!(
                        "the agent's 5.0 CONNECT carries usp-endpoint-id User Propert{} {ids:?}, not exactly {eut_id:?}",
                        if ids.len() == 1 { "y" } else { "ies" }
                    ),
                });
            }
        }
        _ => {}
    }
    out
}

/// A request for the next link: answered once the agent is present.
type LinkRequest = oneshot::Sender<Link>;

/// Wraps the embedded Controller's link so the session sees the agent's comings and goings
/// (see the module notes). Returns the relink that gives the session a link whenever the
/// agent is connected and subscribed.
pub fn present(
    ctl: Link,
    broker: BrokerHandle,
    control: ControllerControl,
    controller_client_id: &str,
) -> Relink {
    let (req_tx, req_rx) = mpsc::unbounded_channel::<LinkRequest>();
    let (sender, out_rx, ev_tx, ev_rx) = channels();
    // The first link the task hands out uses the channels made here.
    let first = Link {
        describe: ctl.describe.clone(),
        mtp: ctl.mtp.clone(),
        peer_eid: None,
        sender: sender.clone(),
        events: ev_rx,
    };
    // What the presence acts on: the agent's PUBLISHes to the Controller (counted), and every
    // other fact of connections and subscriptions; not each acknowledgement and ping of a
    // flood, nor PUBLISHes that are not to the Controller.
    let ctl_id = controller_client_id.to_string();
    let watch = broker.watch_where(move |e| match e.kind.as_str() {
        "PUBLISH" => {
            e.dir == Dir::In
                && e.detail["delivered_to"]
                    .as_array()
                    .is_some_and(|d| d.iter().any(|x| x.as_str() == Some(&ctl_id)))
        }
        "PUBACK" | "PUBREC" | "PUBREL" | "PUBCOMP" | "PINGREQ" | "PINGRESP" => false,
        _ => true,
    });
    let task = Presence {
        broker,
        control,
        controller: controller_client_id.into(),
        ctl_sender: ctl.sender.clone(),
        describe: ctl.describe.clone(),
        mtp: ctl.mtp.clone(),
        sender,
        current: None,
        spare: Some((first, ev_tx)),
        buffer: VecDeque::new(),
        held: VecDeque::new(),
        waiting: Vec::new(),
        published: 0,
        forwarded: 0,
        pending_close: None,
    };
    tokio::spawn(task.run(ctl.events, out_rx, watch, req_rx));
    Arc::new(move || {
        let req_tx = req_tx.clone();
        Box::pin(async move {
            let (tx, rx) = oneshot::channel();
            let ended = || ConnectError::Unreachable("the MQTT Controller's link has ended".into());
            req_tx.send(tx).map_err(|_| ended())?;
            rx.await.map_err(|_| ended())
        })
    })
}

struct Presence {
    broker: BrokerHandle,
    control: ControllerControl,
    controller: String,
    ctl_sender: LinkSender,
    describe: String,
    mtp: crate::mtp::MtpKind,
    /// The sending half every link handed out shares (its receiver is `out_rx`).
    sender: LinkSender,
    /// Where events go while the session holds a live link.
    current: Option<Events>,
    /// A link made but not handed out yet (the first one).
    spare: Option<(Link, Events)>,
    /// Events not handed on yet, in order, each with the link that was live when it came
    /// (none: the next link handed out): while the live link's queue is full, or no link is
    /// live. An event goes to the link of its time even after the session closed that link,
    /// as a case's last events belong to it. At [`EVENT_QUEUE`] of them the Controller's
    /// link is not read until they move on, so a flood slows down at its source instead of
    /// filling memory.
    buffer: VecDeque<(Option<Events>, MtpEvent)>,
    /// Records the session sent while the agent was away.
    held: VecDeque<Vec<u8>>,
    waiting: Vec<LinkRequest>,
    /// Records the agent published to the Controller (by the broker's log), and records the
    /// Controller's link handed on: the agent's "gone" waits until the second catches up
    /// with the first, so its last answers reach the session before the Closed.
    published: u64,
    forwarded: u64,
    /// The Closed to report once the agent's last records are through, and until when to
    /// wait for them.
    pending_close: Option<(String, tokio::time::Instant)>,
}

impl Presence {
    /// Whether a client other than the Controller is subscribed to where records go now.
    fn agent_present(&self) -> bool {
        let dest = self.control.agent_topic();
        self.broker.clients().iter().any(|c| {
            c.client_id != self.controller
                && c.peer != "in-process"
                && match &dest {
                    Some(t) => c
                        .subscriptions
                        .iter()
                        .any(|(f, _)| mqtt::topic_matches(f, t)),
                    None => !c.subscriptions.is_empty(),
                }
        })
    }

    /// Queues an event for the session's link (see `buffer`).
    fn emit(&mut self, ev: MtpEvent) {
        self.buffer.push_back((self.current.clone(), ev));
    }

    /// Where the oldest buffered event goes.
    fn next_out(&self) -> Option<Events> {
        let (dest, _) = self.buffer.front()?;
        dest.clone().or_else(|| self.current.clone())
    }

    /// The oldest buffered event could not be handed to `to`: that link is gone, so the
    /// event waits for the next one.
    fn undeliverable(&mut self, to: &Events) {
        if self.current.as_ref().is_some_and(|c| c.same(to)) {
            self.current = None;
        }
        if let Some((dest, _)) = self.buffer.front_mut() {
            *dest = None;
        }
    }

    /// Reports the agent gone once its records are through (or the grace has passed), unless
    /// it is back meanwhile.
    fn settle_close(&mut self, force: bool) {
        let Some((reason, _)) = &self.pending_close else {
            return;
        };
        if self.agent_present() {
            self.pending_close = None;
            return;
        }
        if self.forwarded < self.published && !force {
            return;
        }
        let reason = reason.clone();
        self.pending_close = None;
        if self.current.is_some() {
            self.emit(MtpEvent::now(MtpEventKind::Closed { code: None, reason }));
            self.current = None;
        }
    }

    fn on_presence(&mut self) {
        if (self.held.is_empty() && self.waiting.is_empty()) || !self.agent_present() {
            return;
        }
        while let Some(bytes) = self.held.pop_front() {
            self.ctl_sender.record(bytes);
        }
        for req in std::mem::take(&mut self.waiting) {
            if req.is_closed() {
                continue;
            }
            let link = self.new_link();
            if let Err(mut l) = req.send(link) {
                // Nobody is waiting any more: take back what the link did not deliver.
                let handed = self.current.take();
                let mut back = VecDeque::new();
                while let Ok(ev) = l.events.try_recv() {
                    back.push_back((None, ev));
                }
                for (dest, ev) in std::mem::take(&mut self.buffer) {
                    let gone = match (&dest, &handed) {
                        (Some(d), Some(h)) => d.same(h),
                        (None, _) => true,
                        (Some(_), None) => false,
                    };
                    back.push_back((if gone { None } else { dest }, ev));
                }
                self.buffer = back;
            }
        }
    }

    fn new_link(&mut self) -> Link {
        let (link, tx) = match self.spare.take() {
            Some(x) => x,
            None => {
                let (_, _, tx, rx) = channels();
                (
                    Link {
                        describe: self.describe.clone(),
                        mtp: self.mtp.clone(),
                        peer_eid: None,
                        sender: self.sender.clone(),
                        events: rx,
                    },
                    tx,
                )
            }
        };
        self.current = Some(tx);
        link
    }

    async fn run(
        mut self,
        mut ctl_events: mpsc::Receiver<MtpEvent>,
        mut out_rx: mpsc::UnboundedReceiver<Outgoing>,
        mut watch: mpsc::UnboundedReceiver<BrokerEvent>,
        mut req_rx: mpsc::UnboundedReceiver<LinkRequest>,
    ) {
        loop {
            let grace = self.pending_close.as_ref().map(|(_, until)| *until);
            let next = self.next_out();
            let room = self.buffer.len() < EVENT_QUEUE;
            tokio::select! {
                _ = sleep_until(grace) => self.settle_close(true),
                // Room in the destination's queue first, then the event taken off the
                // buffer: nothing is copied for an arm that does not win.
                permit = async { next.as_ref()?.reserve().await }, if next.is_some() => match permit {
                    Some(p) => {
                        if let Some((_, ev)) = self.buffer.pop_front() {
                            p.send(ev);
                        }
                    }
                    // The session dropped that link: the event waits for the next one.
                    None => {
                        if let Some(to) = &next {
                            self.undeliverable(to);
                        }
                    }
                },
                ev = ctl_events.recv(), if room => match ev {
                    Some(ev) => {
                        let end = matches!(ev.kind, MtpEventKind::Closed { .. });
                        if matches!(ev.kind, MtpEventKind::Record(_)) {
                            self.forwarded += 1;
                        }
                        self.emit(ev);
                        if end {
                            return;
                        }
                        self.settle_close(false);
                    }
                    None => return,
                },
                out = out_rx.recv() => match out {
                    Some(Outgoing::Record(bytes)) => {
                        if self.agent_present() {
                            self.ctl_sender.record(bytes);
                        } else {
                            self.held.push_back(bytes);
                            let n = self.held.len();
                            self.emit(MtpEvent::now(MtpEventKind::Note(format!(
                                "{n} record(s) held until the agent is connected and subscribed again"
                            ))));
                        }
                    }
                    Some(Outgoing::Close { code, reason }) => {
                        // The session is done with this link; the Controller stays (an
                        // external agent's next case uses it).
                        let _ = (code, reason);
                        self.current = None;
                    }
                    None => {
                        self.ctl_sender.close(1000, "the run ended");
                        return;
                    }
                },
                bev = watch.recv() => match bev {
                    Some(e) => {
                        if e.kind == "PUBLISH"
                            && e.dir == Dir::In
                            && e.client_id != self.controller
                            && e.detail["delivered_to"]
                                .as_array()
                                .is_some_and(|d| d.iter().any(|x| x.as_str() == Some(&self.controller)))
                        {
                            self.published += 1;
                        }
                        let agent_gone = e.dir == Dir::Conn
                            && e.client_id != self.controller
                            && matches!(e.kind.as_str(), "CLOSED" | "REFUSED" | "MALFORMED" | "KEEPALIVE");
                        if agent_gone
                            && self.current.is_some()
                            && self.pending_close.is_none()
                            && !self.agent_present()
                        {
                            self.pending_close = Some((
                                format!("the agent's MQTT connection ended ({})", describe_event(&e)),
                                tokio::time::Instant::now() + Duration::from_secs(1),
                            ));
                        }
                        self.settle_close(false);
                        self.on_presence();
                    }
                    None => return,
                },
                req = req_rx.recv() => match req {
                    Some(r) => {
                        self.waiting.push(r);
                        self.on_presence();
                    }
                    None => return,
                },
            }
        }
    }
}

/// The built-in agent's MQTT set-up for one case: a fresh broker on 127.0.0.1, the
/// Controller inside it, and the dial the agent uses.
pub struct BuiltinMqtt {
    pub relink: Relink,
    pub case: CaseMqtt,
    pub dial: crate::agent::run::MqttDial,
}

/// Starts a broker for one case of the built-in agent.
pub async fn builtin(version: Version) -> Result<BuiltinMqtt, String> {
    let broker = Broker::start("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot start the embedded MQTT broker on 127.0.0.1: {e}"))?;
    let handle = broker.handle();
    // The agent is configured with credentials (TP-469 11.2 checks its CONNECT carries
    // them); the broker does not insist, so an agent that leaves them out still connects and
    // 11.2 fails on its metric rather than erring on "agent not reachable".
    let script = Script::default();
    handle.set_script(script.clone());
    // Beside TCP, TLS with the run's certificates (TP-469 11.3), which the agent trusts.
    let pki = crate::pki::run_pki()?;
    handle
        .listen_tls("127.0.0.1:0", pki.server_config.clone())
        .await
        .map_err(|e| format!("cannot start the embedded MQTT broker's TLS listener: {e}"))?;
    let mut cfg =
        ControllerConfig::new(BUILTIN_CONTROLLER_TOPIC, Some(BUILTIN_AGENT_TOPIC), version);
    cfg.client_id = BUILTIN_CONTROLLER_CLIENT_ID.into();
    let (link, control) = handle.controller_link(cfg);
    let relink = present(
        link,
        handle.clone(),
        control.clone(),
        BUILTIN_CONTROLLER_CLIENT_ID,
    );
    let dial = crate::agent::run::MqttDial {
        broker: handle.addr().to_string(),
        version,
        agent_topic: BUILTIN_AGENT_TOPIC.into(),
        controller_topic: BUILTIN_CONTROLLER_TOPIC.into(),
        client_id: BUILTIN_AGENT_CLIENT_ID.into(),
        credentials: Some((BUILTIN_CREDENTIALS.0.into(), BUILTIN_CREDENTIALS.1.into())),
    };
    let case = CaseMqtt::new(
        version,
        Some((handle, control)),
        (BUILTIN_CONTROLLER_CLIENT_ID, None),
        BUILTIN_CONTROLLER_TOPIC,
        (script, Some(BUILTIN_AGENT_TOPIC.into())),
        Some(Arc::new(broker)),
    );
    Ok(BuiltinMqtt { relink, case, dial })
}

/// What an external agent's MQTT set-up keeps across cases.
pub struct ExternalMqtt {
    pub relink: Relink,
    broker: Option<(Arc<Broker>, ControllerControl)>,
    setup: crate::suite::profile::MqttSetup,
    script: Script,
}

impl ExternalMqtt {
    /// Starts the embedded broker on the profile's address with the Controller in it, or
    /// prepares the Controller as a client of the profile's external broker.
    pub async fn start(setup: &crate::suite::profile::MqttSetup) -> Result<ExternalMqtt, String> {
        use crate::suite::profile::BrokerMode;
        match setup.broker {
            BrokerMode::Embedded => {
                let broker = Broker::start(&setup.address).await.map_err(|e| {
                    format!(
                        "cannot start the embedded MQTT broker on {}: {e}",
                        setup.address
                    )
                })?;
                let handle = broker.handle();
                let script = Script {
                    credentials: setup.agent_credentials.as_ref().map(|c| c.pair()),
                    ..Script::default()
                };
                handle.set_script(script.clone());
                if let Some(tls) = &setup.tls {
                    listen_tls(&handle, tls).await?;
                }
                let mut cfg = ControllerConfig::new(
                    &setup.controller_topic,
                    setup.agent_topic.as_deref(),
                    setup.version,
                );
                cfg.client_id = setup.client_id.clone();
                let (link, control) = handle.controller_link(cfg);
                let relink = present(link, handle, control.clone(), &setup.client_id);
                Ok(ExternalMqtt {
                    relink,
                    broker: Some((Arc::new(broker), control)),
                    setup: setup.clone(),
                    script,
                })
            }
            BrokerMode::External => Ok(ExternalMqtt {
                relink: external_client(setup.clone()),
                broker: None,
                setup: setup.clone(),
                script: Script::default(),
            }),
        }
    }

    /// The case's MQTT context, its broker log beginning now.
    pub fn case(&self) -> CaseMqtt {
        CaseMqtt::new(
            self.setup.version,
            self.broker.as_ref().map(|(b, c)| (b.handle(), c.clone())),
            (&self.setup.client_id, self.setup.agent_client_id.clone()),
            &self.setup.controller_topic,
            (self.script.clone(), self.setup.agent_topic.clone()),
            None,
        )
    }

    /// For reports.
    pub fn describe(&self) -> String {
        describe_setup(&self.setup)
    }
}

/// The embedded broker's TLS listener for an external agent (TP-469 11.3): a certificate
/// from the CA kept in `certs` (which the agent must trust), naming `address`'s host and
/// `names` besides 127.0.0.1/localhost.
async fn listen_tls(
    handle: &BrokerHandle,
    tls: &crate::suite::profile::MqttTls,
) -> Result<(), String> {
    let at = &tls.address;
    let host = at.rsplit_once(':').map_or(at.as_str(), |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let mut names: Vec<&str> = tls.names.iter().map(String::as_str).collect();
    if !matches!(host, "0.0.0.0" | "::") {
        names.push(host);
    }
    let pki = crate::pki::RunPki::kept(&tls.certs, &names)?;
    handle
        .listen_tls(at, pki.server_config.clone())
        .await
        .map(|_| ())
        .map_err(|e| format!("cannot listen with TLS on {at}: {e}"))
}

/// For reports: over what.
pub fn describe_setup(s: &crate::suite::profile::MqttSetup) -> String {
    use crate::suite::profile::BrokerMode;
    match s.broker {
        BrokerMode::Embedded => match &s.tls {
            None => format!(
                "MQTT {} (embedded broker on {}; the agent connects)",
                s.version, s.address
            ),
            Some(t) => format!(
                "MQTT {} (embedded broker on {}, with TLS on {} under {}; the agent connects)",
                s.version,
                s.address,
                t.address,
                t.certs.join("ca.pem").display()
            ),
        },
        BrokerMode::External => format!(
            "MQTT {} (external broker {}; broker-control cases not applicable)",
            s.version, s.address
        ),
    }
}

/// The Controller as a client of an external broker: each call connects (again) and
/// subscribes to the Controller's Topic.
fn external_client(setup: crate::suite::profile::MqttSetup) -> Relink {
    Arc::new(move || {
        let setup = setup.clone();
        Box::pin(async move {
            let mut cfg = ClientConfig::controller(
                &setup.address,
                setup.version,
                &setup.client_id,
                &setup.controller_topic,
                setup.agent_topic.as_deref(),
            );
            cfg.credentials = setup.credentials.as_ref().map(|c| c.pair());
            cfg.timeout = Duration::from_secs(10);
            loop {
                match mqtt::connect_with(cfg.clone()).await {
                    Ok((link, _)) => return Ok(link),
                    Err(e) if e.contains("refused the CONNECT") => return Err(e.into()),
                    Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
                }
            }
        })
    })
}

/// Sends a harmless GetSupportedProtocol and waits for its answer: the agent is reachable
/// through the broker. Events read meanwhile are kept for the session, except the answer.
pub async fn probe(
    mut link: Link,
    eut_id: &str,
    controller_id: &str,
    bound: Duration,
) -> Result<Link, String> {
    use crate::usp::{msg, pb};
    let id = format!(
        "uspcheck-probe-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    );
    let m = msg::request(
        id.clone(),
        pb::request::ReqType::GetSupportedProtocol(pb::GetSupportedProtocol {
            controller_supported_protocol_versions: "1.3,1.4".into(),
        }),
    );
    let bytes = record::encode(&record::no_session(eut_id, controller_id, &m));
    let (_, _, tx, rx) = channels();
    let (mut kept, mut dropped) = (VecDeque::new(), 0usize);
    let deadline = tokio::time::Instant::now() + bound;
    let mut next_send = tokio::time::Instant::now();
    loop {
        if tokio::time::Instant::now() >= next_send {
            link.sender.record(bytes.clone());
            next_send += Duration::from_secs(5);
        }
        let until = next_send.min(deadline);
        match tokio::time::timeout_at(until, link.events.recv()).await {
            Ok(Some(ev)) => {
                let answered = match &ev.kind {
                    MtpEventKind::Record(b) => record::decode(b)
                        .ok()
                        .and_then(|r| record::payload(&r).map(<[u8]>::to_vec))
                        .and_then(|p| <pb::Msg as prost::Message>::decode(&p[..]).ok())
                        .is_some_and(|m| msg::msg_id(&m) == id),
                    MtpEventKind::Closed { reason, .. } => {
                        return Err(format!("the MQTT Controller's link closed: {reason}"));
                    }
                    _ => false,
                };
                if answered {
                    break;
                }
                if kept.len() == EVENT_QUEUE {
                    kept.pop_front();
                    dropped += 1;
                }
                kept.push_back(ev);
            }
            Ok(None) => return Err("the MQTT Controller's link ended".into()),
            Err(_) if tokio::time::Instant::now() >= deadline => {
                return Err(format!(
                    "the agent did not answer a GetSupportedProtocol sent through the broker within {}",
                    crate::human::duration(bound)
                ));
            }
            Err(_) => {}
        }
    }
    // The rest of the link's events follow the ones read here.
    if dropped > 0 {
        kept.push_front(MtpEvent::now(MtpEventKind::Note(format!(
            "{dropped} earlier events were dropped while the agent was probed"
        ))));
    }
    let mut old = link.events;
    tokio::spawn(async move {
        for ev in kept {
            if !tx.forward(ev).await {
                return;
            }
        }
        while let Some(ev) = old.recv().await {
            if !tx.forward(ev).await {
                return;
            }
        }
    });
    link.events = rx;
    Ok(link)
}

/// Why an MQTT step did not succeed.
pub enum StepError {
    /// The run cannot do what the step needs (an external broker).
    NotApplicable(String),
    /// The harness or the environment broke.
    Error(String),
    /// The agent broke a metric; `packet` is the one that did, when there is one.
    Fail {
        message: String,
        expected: Option<String>,
        actual: Option<String>,
        packet: Option<Box<BrokerEvent>>,
    },
}

fn fail(message: String, expected: Option<String>, actual: Option<String>) -> StepError {
    StepError::Fail {
        message,
        expected,
        actual,
        packet: None,
    }
}

/// The direction a packet kind is awaited in when a step does not say: what only the broker
/// sends goes out, connection facts are `conn`, everything else comes in from the agent.
fn default_dir(kind: &str) -> &'static str {
    match kind {
        "CONNACK" | "SUBACK" | "UNSUBACK" | "PINGRESP" => "out",
        "ACCEPT" | "REFUSED" | "MALFORMED" | "KEEPALIVE" | "CLOSED" | "LISTEN" | "TLS"
        | "TLS_FAILED" | "PLAINTEXT" => "conn",
        _ => "in",
    }
}

fn dir_name(d: Dir) -> &'static str {
    match d {
        Dir::In => "in",
        Dir::Out => "out",
        Dir::Conn => "conn",
    }
}

impl CaseMqtt {
    fn embedded(&self, what: &str) -> Result<&BrokerHandle, StepError> {
        self.broker.as_ref().ok_or_else(|| {
            StepError::NotApplicable(format!(
                "this case {what}, which needs uspcheck's embedded MQTT broker; the run goes \
                 through an external broker"
            ))
        })
    }

    /// Carries out a `broker:` step.
    pub fn broker_step(
        &self,
        b: &crate::suite::case::BrokerStep,
        vars: &crate::suite::vars::Vars,
    ) -> Result<(), StepError> {
        use crate::suite::case::Down;
        let broker = self.embedded("scripts the MQTT broker")?;
        let text = |t: &str| {
            vars.interpolate(t)
                .map_err(|e| StepError::Error(format!("a broker step value: {e}")))
        };
        if b.reset {
            broker.set_script(self.base_script.clone());
        }
        let topics = match &b.subscribe_topics {
            Some(t) => Some(t.iter().map(|x| text(x)).collect::<Result<Vec<_>, _>>()?),
            None => None,
        };
        let info = b.response_information.as_deref().map(text).transpose()?;
        let assigned = b.assigned_client_id.as_deref().map(text).transpose()?;
        broker.update(|s| {
            if let Some(t) = topics {
                s.subscribe_topics = t;
            }
            if let Some(i) = info {
                s.response_information = Some(i);
            }
            if let Some(a) = assigned {
                s.assigned_client_id = Some(a);
            }
            if let Some(k) = b.server_keep_alive {
                s.server_keep_alive = Some(k);
            }
            if let Some(c) = b.fail_subscriptions {
                s.fail_all_subscriptions = Some(c);
            }
        });
        if let Some(d) = b.down {
            broker.go_down(match d {
                Down::Connack => mqtt::Refusal::Connack(0x88),
                Down::Close => mqtt::Refusal::Close,
                Down::Unreachable => mqtt::Refusal::Unreachable,
            });
        }
        if b.up {
            broker.come_up();
        }
        if let Some(code) = b.disconnect {
            let agents: Vec<String> = broker
                .clients()
                .into_iter()
                .filter(|c| c.peer != "in-process" && self.is_agent_client(&c.client_id))
                .map(|c| c.client_id)
                .collect();
            let told: usize = agents.iter().map(|id| broker.disconnect(id, code)).sum();
            if told == 0 {
                return Err(StepError::Error(
                    "the agent has no connection to the broker to disconnect".into(),
                ));
            }
        }
        Ok(())
    }

    /// Carries out a `controller:` step.
    pub fn controller_step(
        &self,
        c: &crate::suite::case::ControllerStep,
        vars: &crate::suite::vars::Vars,
    ) -> Result<(), StepError> {
        self.embedded("changes how the Controller publishes")?;
        let Some(control) = &self.control else {
            return Err(StepError::Error("no embedded Controller".into()));
        };
        let text = |t: &str| {
            vars.interpolate(t)
                .map_err(|e| StepError::Error(format!("a controller step value: {e}")))
        };
        if c.reset {
            control.set_content_type(Some(mqtt::CONTENT_TYPE));
            control.set_agent_topic(self.base_agent_topic.as_deref());
            control.set_reply_to(None);
        }
        if let Some(r) = &c.reply_to {
            let r = text(r)?;
            if !r.starts_with(&format!("{}/", self.controller_topic)) || !mqtt::valid_topic(&r) {
                return Err(StepError::Error(format!(
                    "controller.reply_to {r:?} must be a Topic below the Controller's own \
                     {:?}, which it is subscribed to",
                    self.controller_topic
                )));
            }
            control.set_reply_to(Some(&r));
        }
        if let Some(ct) = &c.content_type {
            control.set_content_type(Some(&text(ct)?));
        }
        if let Some(t) = &c.topic {
            let t = text(t)?;
            if !mqtt::valid_topic(&t) {
                return Err(StepError::Error(format!("{t:?} is not a Topic Name")));
            }
            control.set_agent_topic(Some(&t));
        }
        Ok(())
    }

    /// The Topic Filters `conn` holds just before log entry `seq`: granted SUBSCRIBEs minus
    /// UNSUBSCRIBEs of that connection.
    fn subscriptions_at(&self, conn: u64, seq: usize) -> Vec<String> {
        let Some(b) = &self.broker else {
            return Vec::new();
        };
        let mut asked: Vec<(u64, Vec<String>)> = Vec::new();
        let mut held: Vec<String> = Vec::new();
        let before = b.events_from(0);
        let before = before.iter().take_while(|e| e.seq < seq);
        for e in before.filter(|e| e.conn == conn) {
            let pkid = e
                .detail
                .get("packet_id")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            match (e.kind.as_str(), e.dir) {
                ("SUBSCRIBE", Dir::In) => {
                    let fs = e.detail["filters"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|f| f.get("filter").and_then(Value::as_str))
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default();
                    asked.push((pkid, fs));
                }
                ("SUBACK", Dir::Out) => {
                    if let Some(i) = asked.iter().position(|(p, _)| *p == pkid) {
                        let (_, fs) = asked.remove(i);
                        let codes = e.detail["reason_codes"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default();
                        for (f, c) in fs.into_iter().zip(codes) {
                            if c.get("code").and_then(Value::as_u64).unwrap_or(0x80) < 0x80
                                && !held.contains(&f)
                            {
                                held.push(f);
                            }
                        }
                    }
                }
                ("UNSUBSCRIBE", Dir::In) => {
                    let gone: Vec<String> = e.detail["filters"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default();
                    held.retain(|f| !gone.contains(f));
                }
                _ => {}
            }
        }
        held
    }

    /// The tree a packet step matches ([`packet_tree`]), plus, for a PUBLISH carrying an
    /// MQTTConnectRecord, `connect_record_topic_subscribed`: whether its subscribed_topic is
    /// covered by a Topic Filter the sending connection held then.
    fn tree(&self, e: &BrokerEvent) -> Value {
        let mut t = packet_tree(e);
        let topic = t
            .pointer("/record/mqtt_connect/subscribed_topic")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let (Some(topic), Value::Object(m)) = (topic, &mut t) {
            let held = self.subscriptions_at(e.conn, e.seq);
            m.insert(
                "connect_record_topic_subscribed".into(),
                json!(mqtt::covered(&topic, &held)),
            );
        }
        t
    }

    /// The case's MQTT variables: `mqtt.version`, `mqtt.controller_topic`, and
    /// `mqtt.reply_to_wildcard` (`/#` on 3.1.1, whose Topic Names carry the `/reply-to=`
    /// suffix, so a Topic Filter for them needs it; empty on 5.0; TP-469 11.9, 11.13).
    pub fn mqtt_vars(&self, vars: &mut crate::suite::vars::Vars) {
        vars.set("mqtt.version", self.version.label());
        vars.set("mqtt.controller_topic", self.controller_topic.clone());
        vars.set(
            "mqtt.reply_to_wildcard",
            match self.version {
                Version::V5 => "",
                Version::V311 => "/#",
            },
        );
    }

    /// Whether `e` is in the stream an expectation names: the agent's, of its `kind`, in its
    /// `dir` (see [`default_dir`]).
    fn in_stream(&self, e: &BrokerEvent, expect: &PacketExpect) -> bool {
        let dir = expect
            .dir
            .as_deref()
            .unwrap_or_else(|| default_dir(&expect.kind));
        self.is_agent(e) && e.kind == expect.kind && dir_name(e.dir) == dir
    }

    /// The agent's packets since the case's steps began, on one line each (for failures).
    fn seen_since(&self) -> String {
        let Some(b) = &self.broker else {
            return String::new();
        };
        let from = *lock(&self.await_from);
        let seen: Vec<String> = b
            .events_from(from)
            .iter()
            .filter(|e| self.is_agent(e))
            .map(|e| format!("[{}] {} {}", e.seq, dir_name(e.dir), e.packet))
            .collect();
        let n = seen.len();
        let shown: Vec<String> = seen.into_iter().skip(n.saturating_sub(12)).collect();
        if shown.is_empty() {
            "nothing from the agent".into()
        } else {
            shown.join("; ")
        }
    }

    /// Waits for the first unconsumed packet of the agent's, at or after `after`, that
    /// matches `expect` (its `kind`, and the rest), within `bound`; captures go into `vars`.
    /// When none does, the failure shows the nearest one: the last packet of that kind, and
    /// where it differs. With `keep`, the packet stays available to later steps.
    pub async fn await_packet(
        &self,
        expect: &PacketExpect,
        vars: &mut crate::suite::vars::Vars,
        bound: Duration,
        after: Option<Instant>,
        keep: bool,
    ) -> Result<BrokerEvent, StepError> {
        let broker = self.embedded("inspects the agent's MQTT packets")?;
        let from = *lock(&self.await_from);
        let kind = &expect.kind;
        let candidate = |e: &BrokerEvent| {
            self.in_stream(e, expect) && !self.is_consumed(e.seq) && after.is_none_or(|a| e.at >= a)
        };
        // The broker's log is locked while `wait_for` tests an event, and the full match
        // reads the log again (subscriptions_at): test cheaply there, fully here.
        let deadline = tokio::time::Instant::now() + bound;
        let mut cursor = from;
        let got = loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match broker.wait_for(cursor, left, |e| candidate(e)).await {
                Ok(e) => {
                    cursor = e.seq + 1;
                    if expect.matches(e.version, &self.tree(&e), vars) {
                        break Ok(e);
                    }
                }
                Err(x) => break Err(x),
            }
        };
        let e = match got {
            Ok(e) => e,
            Err(_) => {
                let nearest = broker
                    .events_from(from)
                    .into_iter()
                    .rev()
                    .find(|e| candidate(e));
                return Err(match nearest {
                    Some(n) => {
                        let mut scratch = vars.clone();
                        let (at, expected, actual) =
                            match expect.check(n.version, &self.tree(&n), &mut scratch) {
                                Err(MatchError::Mismatch(m)) => (m.at, m.expected, m.actual),
                                Err(MatchError::Unset(u)) => {
                                    return Err(StepError::Error(u.to_string()));
                                }
                                Ok(()) => (String::new(), expect.show(vars), n.packet.clone()),
                            };
                        StepError::Fail {
                            message: format!(
                                "the agent sent no matching {kind} within {}; the last one \
                                 differs at {at} ({})",
                                crate::human::duration(bound),
                                describe_event(&n)
                            ),
                            expected: Some(expected),
                            actual: Some(actual),
                            packet: Some(Box::new(n)),
                        }
                    }
                    None => fail(
                        format!(
                            "the agent sent no {kind} within {}",
                            crate::human::duration(bound)
                        ),
                        Some(expect.show(vars)),
                        Some(format!("broker log: {}", self.seen_since())),
                    ),
                });
            }
        };
        if !keep {
            self.consume(e.seq);
        }
        expect
            .check(e.version, &self.tree(&e), vars)
            .map_err(|m| match m {
                MatchError::Mismatch(m) => StepError::Fail {
                    message: format!(
                        "the agent's {kind} does not match at {} ({})",
                        m.at,
                        describe_event(&e)
                    ),
                    expected: Some(m.expected),
                    actual: Some(m.actual),
                    packet: Some(Box::new(e.clone())),
                },
                MatchError::Unset(u) => StepError::Error(u.to_string()),
            })?;
        Ok(e)
    }

    /// Fails if a packet of the agent's matching `expect` arrives at or after `from`, for
    /// `span`. Silence from an agent that is not connected to the broker when the span ends
    /// proves nothing: that is an error saying so (and since when), unless the case expects
    /// the agent to be disconnected (`while_closed`).
    pub async fn expect_no_packet(
        &self,
        expect: &PacketExpect,
        vars: &crate::suite::vars::Vars,
        from: Instant,
        span: Duration,
        while_closed: bool,
    ) -> Result<(), StepError> {
        let broker = self.embedded("inspects the agent's MQTT packets")?;
        let start = *lock(&self.await_from);
        let kind = &expect.kind;
        // As in `await_packet`: the full match runs outside the log's lock.
        let deadline = tokio::time::Instant::now() + span;
        let mut cursor = start;
        let got = loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match broker
                .wait_for(cursor, left, |e| e.at >= from && self.in_stream(e, expect))
                .await
            {
                Ok(e) => {
                    cursor = e.seq + 1;
                    if expect.matches(e.version, &self.tree(&e), vars) {
                        break Ok(e);
                    }
                }
                Err(x) => break Err(x),
            }
        };
        match got {
            Err(_) if while_closed => Ok(()),
            Err(_) => match self.agent_gone(broker, from) {
                None => Ok(()),
                Some(since) => Err(StepError::Error(format!(
                    "inconclusive: the agent had no connection to the broker when the {} \
                     span ended ({since}), so its silence proves nothing (a case that expects \
                     the agent to be disconnected says `while_closed: true`)",
                    crate::human::duration(span)
                ))),
            },
            Ok(e) => Err(StepError::Fail {
                message: format!(
                    "the agent sent a {kind} that must not be sent ({})",
                    describe_event(&e)
                ),
                expected: Some(format!(
                    "no {kind} matching {} for {}",
                    expect.show(vars),
                    crate::human::duration(span)
                )),
                actual: Some(e.packet.clone()),
                packet: Some(Box::new(e)),
            }),
        }
    }
}

impl CaseMqtt {
    /// `None` while the agent has a connection to the broker; otherwise when and how its
    /// last one ended, relative to `from`.
    fn agent_gone(&self, broker: &BrokerHandle, from: Instant) -> Option<String> {
        let connected = broker
            .clients()
            .iter()
            .any(|c| c.peer != "in-process" && self.is_agent_client(&c.client_id));
        if connected {
            return None;
        }
        let last = broker
            .events_from(self.log_from)
            .into_iter()
            .rev()
            .find(|e| e.kind == "CLOSED" && self.is_agent(e));
        Some(match last {
            Some(e) if e.at >= from => format!(
                "its connection closed {:.3} s into the span: {}",
                e.at.duration_since(from).as_secs_f64(),
                describe_event(&e)
            ),
            Some(e) => format!(
                "its connection had closed before the span began: {}",
                describe_event(&e)
            ),
            None => "it was not connected during the case".into(),
        })
    }
}

/// Sleeps until `at`, or forever when there is nothing to wait for.
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
#[path = "mqtt_tls_tests.rs"]
mod tls_tests;

#[cfg(test)]
#[path = "mqtt_agent_tests.rs"]
mod agent_tests;
