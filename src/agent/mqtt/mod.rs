//! The reference agent's MQTT MTP (TR-369 "MQTT Binding", TP-469 section 11): a small MQTT
//! 5.0 / 3.1.1 client of its own ([`conn`]) driven by the agent's data model ([`model`]).
//!
//! One connection goes: TCP, or TLS when the Client's TransportProtocol says so (R-MQTT.48,
//! trusting the run's CA, `pki::run_pki`); CONNECT with the configured ClientID, User Name/Password, Keep Alive,
//! and on 5.0 the `usp-endpoint-id` User Property and Request Response Information = 1
//! (R-MQTT.6–14); CONNACK, whose Assigned Client Identifier is saved (R-MQTT.9), whose
//! Response Information becomes the "reply to" Topic (R-MQTT.21), whose Server Keep Alive sets
//! the PINGREQ pace; one SUBSCRIBE with the configured Subscriptions, the `subscribe-topic`s,
//! and the reply-to Topic when none of those covers it (R-MQTT.15) — or DISCONNECT when there
//! is nothing to subscribe to (R-MQTT.16) or every subscription failed (R-MQTT.17); then the
//! MQTTConnectRecord (R-MTP.6), Boot! after a boot, and USP Records in PUBLISHes with the
//! reply-to (R-MQTT.18–27a). Subscriptions added, enabled, disabled or deleted while connected
//! are SUBSCRIBEd or UNSUBSCRIBEd at once (R-MQTT.15, R-MQTT.34). A refused or lost
//! connection enters the retry state of `ConnectRetryTime`, `ConnectRetryIntervalMultiplier`
//! and `ConnectRetryMaxInterval` (R-MQTT.10, R-MQTT.33); Reboot() sends DISCONNECT and
//! reconnects at once.

mod conn;
mod model;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, mpsc};
use tokio::time::Instant;

use super::run::{
    FLOOD_BURST, FLOOD_EVERY, LATE_BY, MqttDial, decode_request, encode_msg, flood_notify, later,
};
use super::{Agent, AgentConfig, Fault, Outgoing};
use crate::mtp::mqtt::{CONTENT_TYPE, CONTENT_TYPE_MIME, Version, covered, split_reply_to};
use crate::mtp::mqtt::{REPLY_TO, with_reply_to};
use crate::usp::{msg, pb, record};
use conn::{Conn, ConnectParams, In};
use model::{Row, Settings};

/// Bound on the TCP connection, CONNACK and SUBACK of one attempt.
const BOUND: Duration = Duration::from_secs(10);

/// The Content Type the `mqtt-wrong-content-type` fault puts on PUBLISHes.
const WRONG_CONTENT_TYPE: &str = "application/octet-stream";

/// The agent as an MQTT client of the broker in `d`, until the task is aborted.
pub(crate) async fn client(d: MqttDial, cfg: AgentConfig) {
    let mut agent = Agent::new(cfg.clone());
    agent.seed_mqtt(&d);
    run(Arc::new(Mutex::new(agent)), cfg).await
}

/// How one connection ended.
#[derive(Debug)]
enum End {
    /// No session came up: TCP, CONNACK or SUBACK failed (R-MQTT.10, R-MQTT.17).
    Failed(String),
    /// The session was up and the broker ended it (R-MQTT.33).
    Lost(String),
    /// `Device.Reboot()`: reconnect at once and boot again.
    Reboot,
    /// Nothing to subscribe to: the MTP is considered disabled (R-MQTT.16).
    Disabled(String),
}

/// Timed work that outlives one connection.
enum Due {
    /// A timer the agent asked for has expired.
    Wake(u64),
    /// A message held back by `late-response`: its Topic, destination and the message.
    Send(String, String, Box<pb::Msg>),
}

/// The wait before retry `n` (1, 2, …): TR-181 `ConnectRetryTime` says a random value between
/// `ConnectRetryTime*(ConnectRetryIntervalMultiplier/1000)^(n-1)` and `…^n`, n at most 10,
/// capped at `ConnectRetryMaxInterval` (R-MQTT.10). The agent takes the midpoint, so a test
/// knows when to expect it (5 s, ×2: 7.5 s, then 15 s, then 30 s).
pub(crate) fn retry_wait(retry_time: u64, multiplier: u64, max: u64, n: u32) -> Duration {
    let n = n.clamp(1, 10) as i32;
    let m = multiplier as f64 / 1000.0;
    let t = retry_time as f64;
    let (lo, hi) = (t * m.powi(n - 1), t * m.powi(n));
    Duration::from_secs_f64(((lo + hi) / 2.0).min(max as f64))
}

/// Runs the agent over MQTT: connection, retry state, reboots.
async fn run(agent: Arc<Mutex<Agent>>, cfg: AgentConfig) {
    let has = |f: Fault| cfg.faults.contains(&f);
    let (due_tx, mut due_rx) = mpsc::unbounded_channel::<Due>();
    let mut boot = true;
    let mut retry: u32 = 0;
    let mut boots: u64 = 0;
    loop {
        let settings = agent.lock().await.mqtt_settings();
        let s = match settings {
            Ok(s) => s,
            Err(e) => {
                tracing::info!(why = %e, "the MQTT MTP is not usable");
                return std::future::pending().await;
            }
        };
        agent.lock().await.mqtt_status(&s.client, "Connecting");
        let mut session = Session {
            agent: agent.clone(),
            cfg: cfg.clone(),
            s: s.clone(),
            due_tx: due_tx.clone(),
            learned: HashMap::new(),
            reply_to: String::new(),
            subscribe_topics: Vec::new(),
            response_information: None,
            active: BTreeMap::new(),
            pending: HashMap::new(),
            counted: (0, 0),
            rebooted: boots > 0,
        };
        let end = session.run(&mut due_rx, &mut boot).await;
        let mut a = agent.lock().await;
        match end {
            End::Reboot => {
                retry = 0;
                boots += 1;
                a.mqtt_reboot(&s.client, boots);
                boot = true;
                continue;
            }
            End::Disabled(why) => {
                a.mqtt_status(&s.client, "Error_Misconfigured");
                drop(a);
                tracing::info!(%why, "the MQTT MTP is disabled");
                return std::future::pending().await;
            }
            End::Failed(why) => {
                retry += 1;
                a.mqtt_status(&s.client, "Error_BrokerUnreachable");
                a.mqtt_connection_error(&s.client);
                tracing::info!(%why, retry, "the MQTT connection failed");
            }
            End::Lost(why) => {
                retry = 1;
                a.mqtt_status(&s.client, "Connecting");
                a.mqtt_connection_error(&s.client);
                tracing::info!(%why, "the MQTT connection was lost");
            }
        }
        drop(a);
        if has(Fault::MqttNoReconnect) {
            return std::future::pending().await;
        }
        let fixed = cfg.faults.iter().find_map(|f| match f {
            Fault::MqttRetryDelays(first, then) => Some(if retry <= 1 { *first } else { *then }),
            _ => None,
        });
        let wait = if let Some(ms) = fixed {
            Duration::from_millis(u64::from(ms))
        } else if has(Fault::MqttRetryAtOnce) {
            Duration::from_millis(500)
        } else {
            retry_wait(s.retry_time, s.retry_multiplier, s.retry_max, retry)
        };
        tracing::debug!(retry, retry_in = ?wait, "connecting to the MQTT broker again");
        tokio::time::sleep(wait).await;
    }
}

/// One connection's state.
struct Session {
    agent: Arc<Mutex<Agent>>,
    cfg: AgentConfig,
    s: Settings,
    due_tx: mpsc::UnboundedSender<Due>,
    /// The reply-to Topic each Controller last sent from (R-MQTT.25, R-MQTT.26).
    learned: HashMap<String, String>,
    /// This agent's "reply to" Topic (R-MQTT.21, R-MQTT.22).
    reply_to: String,
    /// CONNACK `subscribe-topic`s honoured (R-MQTT.15).
    subscribe_topics: Vec<String>,
    /// CONNACK Response Information honoured (R-MQTT.21).
    response_information: Option<String>,
    /// Topic Filters subscribed (or being subscribed) with their requested QoS.
    active: BTreeMap<String, u8>,
    /// SUBSCRIBEs awaiting their SUBACK, by packet identifier.
    pending: HashMap<u16, Vec<(String, u8)>>,
    /// Packet counters already added to the Stats.
    counted: (u64, u64),
    /// The agent has rebooted since it started.
    rebooted: bool,
}

impl Session {
    fn has(&self, f: Fault) -> bool {
        self.cfg.faults.contains(&f)
    }

    async fn run(&mut self, due_rx: &mut mpsc::UnboundedReceiver<Due>, boot: &mut bool) -> End {
        // R-MQTT.48: TLS trusting the run's CA only (R-MTP.1), unless `mqtt-no-tls`.
        let trust = if self.s.tls && !self.has(Fault::MqttNoTls) {
            match crate::pki::run_pki() {
                Ok(p) => Some(p.agent_trust.clone()),
                Err(e) => return End::Failed(format!("no certificates for TLS: {e}")),
            }
        } else {
            None
        };
        let mut conn = match Conn::open(&self.s.broker, self.s.version, trust.as_ref(), BOUND).await
        {
            Ok(c) => c,
            Err(e) => return End::Failed(e),
        };
        let end = self.serve(&mut conn, due_rx, boot).await;
        self.count((conn.sent, conn.received)).await;
        end
    }

    /// Adds the connection's packet counters to the Stats.
    async fn count(&mut self, (sent, received): (u64, u64)) {
        let (s, r) = (sent - self.counted.0, received - self.counted.1);
        self.counted = (sent, received);
        self.agent.lock().await.mqtt_count(&self.s.client, s, r);
    }

    async fn serve(
        &mut self,
        conn: &mut Conn,
        due_rx: &mut mpsc::UnboundedReceiver<Due>,
        boot: &mut bool,
    ) -> End {
        let v5 = self.s.version == Version::V5;
        let eid = self.cfg.endpoint_id.clone();
        // R-MQTT.8: the configured ClientID; empty on 5.0 (the broker assigns one), the
        // Endpoint ID on 3.1.1.
        let client_id = match (self.s.client_id.is_empty(), self.s.version) {
            (false, _) => self.s.client_id.clone(),
            (true, Version::V5) if self.has(Fault::MqttMadeUpClientId) => {
                format!("uspcheck-agent-{}", std::process::id())
            }
            (true, Version::V5) => String::new(),
            (true, Version::V311) => eid.clone(),
        };
        let params = ConnectParams {
            client_id: client_id.clone(),
            keep_alive: self.s.keep_alive,
            clean: self.s.clean,
            login: self
                .s
                .credentials
                .clone()
                .filter(|_| !self.has(Fault::MqttNoCredentials)),
            endpoint_id: (v5 && !self.has(Fault::MqttNoEndpointIdProperty)).then_some(eid),
            request_response_info: v5 && !self.has(Fault::MqttNoRequestResponseInfo),
            mqtt31: self.rebooted && self.has(Fault::Mqtt31AfterReboot),
        };
        if let Err(e) = conn.connect(&params).await {
            return End::Failed(e);
        }
        let connack = tokio::time::timeout(BOUND, async {
            loop {
                match conn.read().await {
                    Ok(c @ In::ConnAck { .. }) => return Ok(c),
                    Ok(_) => {}
                    Err(e) => return Err(e),
                }
            }
        })
        .await;
        let In::ConnAck {
            code,
            assigned_client_id,
            response_information,
            server_keep_alive,
            subscribe_topics,
        } = (match connack {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return End::Failed(format!("{e} before CONNACK")),
            Err(_) => {
                return End::Failed(format!(
                    "no CONNACK within {}",
                    crate::human::duration(BOUND)
                ));
            }
        })
        else {
            unreachable!("only a CONNACK leaves the loop")
        };
        if code != 0 {
            return End::Failed(format!("the broker refused the CONNECT with {code:#04x}"));
        }
        tracing::info!(
            broker = %self.s.broker,
            version = %self.s.version,
            client_id = assigned_client_id.as_deref().unwrap_or(&client_id),
            "connected to the MQTT broker"
        );
        // R-MQTT.9, R-MQTT.11: the ClientId in use is the one for every later connection.
        let store = match &assigned_client_id {
            Some(_) if self.has(Fault::MqttIgnoreAssignedClientId) => None,
            Some(a) => Some(a.clone()),
            None => Some(client_id),
        };
        if v5 && !self.has(Fault::MqttIgnoreResponseInformation) {
            self.response_information = response_information.filter(|r| !r.is_empty());
        }
        if v5 && !self.has(Fault::MqttIgnoreSubscribeTopic) {
            self.subscribe_topics = subscribe_topics;
        }
        let rows = {
            let mut a = self.agent.lock().await;
            a.mqtt_connected(&self.s.client, store, self.response_information.clone());
            a.mqtt_idle_subscriptions(&self.s.client);
            a.mqtt_rows(&self.s.client)
        };
        // R-MQTT.16: no subscribe-topic and no configured Subscription: DISCONNECT.
        if rows.is_empty()
            && self.subscribe_topics.is_empty()
            && !self.has(Fault::MqttStayConnectedWithoutTopic)
        {
            conn.disconnect("no subscribe-topic and no configured Subscription (R-MQTT.16)")
                .await;
            return End::Disabled(
                "the CONNACK named no subscribe-topic and no Subscription is configured \
                 (R-MQTT.16)"
                    .into(),
            );
        }
        let desired = self.desired(&rows);
        // R-MQTT.21: Response Information, else ResponseTopicConfigured, else the first plain
        // Topic subscribed to.
        self.reply_to = self
            .response_information
            .clone()
            .or_else(|| Some(self.s.response_topic_configured.clone()).filter(|t| !t.is_empty()))
            .or_else(|| desired.keys().find(|f| !f.contains(['+', '#'])).cloned())
            .unwrap_or_default();
        let keep_alive = match server_keep_alive {
            Some(k) if v5 && !self.has(Fault::MqttIgnoreServerKeepAlive) => k,
            _ => self.s.keep_alive,
        };
        let keep_alive = (keep_alive > 0 && !self.has(Fault::MqttNoPingreq))
            .then(|| Duration::from_secs(keep_alive.into()));

        // The SUBSCRIBE of R-MQTT.15, and its SUBACK (PUBLISHes before it wait their turn).
        let mut early = Vec::new();
        if !desired.is_empty() {
            let filters: Vec<(String, u8)> = desired.into_iter().collect();
            self.mark(&filters, "Subscribing").await;
            // `mqtt-split-subscribe`: one SUBSCRIBE per Topic Filter instead of one with all.
            let packets: Vec<&[(String, u8)]> = if self.has(Fault::MqttSplitSubscribe) {
                filters.chunks(1).collect()
            } else {
                vec![&filters[..]]
            };
            let mut codes = Vec::new();
            for packet in packets {
                match subscribe_and_wait(conn, packet, &mut early).await {
                    Ok(c) => codes.extend(c),
                    Err(e) => return End::Failed(e),
                }
            }
            let granted = self.acked(&filters, &codes).await;
            // R-MQTT.17: not one subscription: DISCONNECT, and publish nothing.
            if granted == 0 && !self.has(Fault::MqttIgnoreSubackFailure) {
                if self.has(Fault::MqttPublishDespiteSubackFailure)
                    && let Err(e) = self.connect_record(conn).await
                {
                    return End::Lost(e);
                }
                conn.disconnect("every subscription failed (R-MQTT.17)")
                    .await;
                return End::Failed(format!(
                    "the SUBACK refused every Topic Filter ({codes:02x?}); DISCONNECT sent \
                     (R-MQTT.17)"
                ));
            }
        }

        // R-MTP.6: the MQTTConnectRecord once subscribed (TP-469 11.17).
        if let Err(e) = self.connect_record(conn).await {
            return End::Lost(e);
        }
        if *boot {
            *boot = false;
            let first = self.agent.lock().await.boot();
            match self.dispatch(conn, first, None).await {
                Ok(None) => {}
                Ok(Some(_)) => return self.reboot(conn).await,
                Err(e) => return End::Lost(e),
            }
        }
        for p in early {
            match self.on_packet(conn, p).await {
                Ok(None) => {}
                Ok(Some(End::Reboot)) => return self.reboot(conn).await,
                Ok(Some(end)) => return end,
                Err(e) => return End::Lost(e),
            }
        }
        // `flood`: a burst of unsolicited Notify records every tick, published as the
        // connection takes them (hostile; docs/limits.md).
        let flooding = self.has(Fault::Flood);
        let mut flood_tick = tokio::time::interval(FLOOD_EVERY);
        loop {
            let deadline = keep_alive.map(|k| conn.last_sent + k);
            let step = tokio::select! {
                p = conn.read() => match p {
                    Ok(p) => self.on_packet(conn, p).await,
                    Err(e) => return End::Lost(e),
                },
                _ = flood_tick.tick(), if flooding => self.flood(conn).await.map(|_| None),
                Some(due) = due_rx.recv() => match due {
                    Due::Wake(t) => {
                        let out = self.agent.lock().await.wake(t);
                        self.dispatch(conn, out, None).await
                    }
                    Due::Send(topic, to, m) => {
                        let bytes = encode_msg(&self.cfg, &to, *m);
                        self.publish(conn, &topic, bytes).await.map(|_| None)
                    }
                },
                _ = sleep_until(deadline) => conn.ping().await.map(|_| None),
            };
            let step = match step {
                Ok(None) => self.sync(conn).await.map(|_| None),
                other => other,
            };
            match step {
                Ok(None) => {}
                Ok(Some(End::Reboot)) => return self.reboot(conn).await,
                Ok(Some(end)) => return end,
                Err(e) => return End::Lost(e),
            }
            if conn.sent + conn.received > self.counted.0 + self.counted.1 + 16 {
                self.count((conn.sent, conn.received)).await;
            }
        }
    }

    /// The Topic Filters R-MQTT.15 asks for, with their QoS: the configured Subscriptions,
    /// the `subscribe-topic`s, and the reply-to Topic (Response Information, else
    /// ResponseTopicConfigured, wildcarded on 3.1.1) unless those cover it already.
    fn desired(&self, rows: &[Row]) -> BTreeMap<String, u8> {
        let mut d: BTreeMap<String, u8> = BTreeMap::new();
        for r in rows {
            let q = d.entry(r.topic.clone()).or_insert(r.qos);
            *q = (*q).max(r.qos);
        }
        for t in &self.subscribe_topics {
            d.entry(t.clone()).or_insert(1);
        }
        let base: Vec<String> = d.keys().cloned().collect();
        match &self.response_information {
            Some(ri) if !covered(ri, &base) => {
                d.insert(ri.clone(), 1);
            }
            Some(_) => {}
            None => {
                let rtc = &self.s.response_topic_configured;
                if !rtc.is_empty() && !covered(rtc, &base) {
                    let f = match self.s.version {
                        Version::V5 => rtc.clone(),
                        Version::V311 => format!("{rtc}/#"),
                    };
                    d.insert(f, 1);
                }
            }
        }
        d
    }

    /// Sets the Status of the Subscriptions whose Topic is among `filters`.
    async fn mark(&self, filters: &[(String, u8)], status: &str) {
        let mut a = self.agent.lock().await;
        for (f, _) in filters {
            a.mqtt_subscription_status(&self.s.client, f, status);
        }
    }

    /// Records a SUBACK: filters become active, Subscriptions `Subscribed` or `Error`.
    /// Returns how many were granted.
    async fn acked(&mut self, filters: &[(String, u8)], codes: &[u8]) -> usize {
        let mut granted = 0;
        let mut a = self.agent.lock().await;
        for (i, (f, q)) in filters.iter().enumerate() {
            let ok = codes.get(i).is_some_and(|c| *c < 0x80);
            granted += usize::from(ok);
            self.active.insert(f.clone(), *q);
            let status = if ok { "Subscribed" } else { "Error" };
            a.mqtt_subscription_status(&self.s.client, f, status);
        }
        granted
    }

    /// Brings the subscriptions in line with the data model after it may have changed:
    /// SUBSCRIBE what is new or has a new QoS (R-MQTT.15), UNSUBSCRIBE what is no longer
    /// wanted (R-MQTT.34).
    async fn sync(&mut self, conn: &mut Conn) -> Result<(), String> {
        let rows = {
            let mut a = self.agent.lock().await;
            a.mqtt_idle_subscriptions(&self.s.client);
            a.mqtt_rows(&self.s.client)
        };
        let desired = self.desired(&rows);
        let add: Vec<(String, u8)> = desired
            .iter()
            .filter(|(f, q)| self.active.get(*f) != Some(q))
            .map(|(f, q)| (f.clone(), *q))
            .collect();
        let remove: Vec<String> = self
            .active
            .keys()
            .filter(|f| !desired.contains_key(*f))
            .cloned()
            .collect();
        if !add.is_empty() {
            for (f, q) in &add {
                self.active.insert(f.clone(), *q);
            }
            if !self.has(Fault::MqttNoSubscribeOnAdd) {
                let pkid = conn.subscribe(&add).await?;
                self.mark(&add, "Subscribing").await;
                if self.has(Fault::MqttUnsubscribeBeforeDisable) {
                    let filters: Vec<String> = add.iter().map(|(f, _)| f.clone()).collect();
                    conn.unsubscribe(&filters).await?;
                    self.pending
                        .insert(conn.subscribe(&add).await?, add.clone());
                }
                self.pending.insert(pkid, add);
            }
        }
        if !remove.is_empty() {
            for f in &remove {
                self.active.remove(f);
            }
            let unsubscribe = !self.has(Fault::MqttNoUnsubscribe)
                && !self.has(Fault::MqttUnsubscribeBeforeDisable);
            if unsubscribe {
                conn.unsubscribe(&remove).await?;
            }
        }
        Ok(())
    }

    /// Handles one packet from the broker; `Some` when the session must end.
    async fn on_packet(&mut self, conn: &mut Conn, p: In) -> Result<Option<End>, String> {
        match p {
            In::Publish {
                topic,
                qos,
                pkid,
                payload,
                response_topic,
                content_type,
            } => {
                let (bare, suffix) = split_reply_to(&topic);
                if qos == 0 && self.has(Fault::MqttDropQos0) && bare != self.reply_to {
                    return Ok(None);
                }
                if qos == 1 {
                    if self.has(Fault::MqttDropQos1) && bare != self.reply_to {
                        return Ok(None);
                    }
                    conn.puback(pkid).await?;
                } else if qos == 2 {
                    conn.pubrec(pkid).await?;
                }
                // R-MQTT.27a: both USP content types are USP Records; no Content Type at all
                // is taken as one too (3.1.1 has none).
                if let Some(ct) = &content_type {
                    let usp = ct == CONTENT_TYPE
                        || (ct == CONTENT_TYPE_MIME && !self.has(Fault::MqttRejectMimeContentType));
                    if !usp {
                        tracing::info!(content_type = ?ct, "a PUBLISH dropped: not a USP Record");
                        return Ok(None);
                    }
                }
                // R-MQTT.25, R-MQTT.26: where the answer goes.
                let reply = match self.s.version {
                    Version::V5 => response_topic.or(suffix),
                    Version::V311 => suffix,
                };
                let Some((from, m)) = decode_request(&self.cfg, &payload) else {
                    return Ok(None);
                };
                if let Some(r) = &reply {
                    self.learned.insert(from.clone(), r.clone());
                }
                self.count((conn.sent, conn.received)).await;
                let out = self.agent.lock().await.handle(&from, m);
                self.dispatch(conn, out, Some((from, reply))).await
            }
            In::SubAck { pkid, codes } => {
                if let Some(filters) = self.pending.remove(&pkid) {
                    self.acked(&filters, &codes).await;
                }
                Ok(None)
            }
            In::PubRel { pkid } => conn.pubcomp(pkid).await.map(|_| None),
            In::Disconnect { code, reason } => Ok(Some(End::Lost(format!(
                "the broker sent DISCONNECT {code:#04x}{}",
                reason.map(|r| format!(" ({r})")).unwrap_or_default()
            )))),
            In::ConnAck { .. } => Err("a second CONNACK".into()),
            In::UnsubAck | In::Ack => Ok(None),
        }
    }

    /// The Topic to reach Controller `to` on: its configured Topic, else the reply-to it
    /// last sent from.
    async fn topic_for(&self, to: &str) -> Option<String> {
        let configured = self.agent.lock().await.mqtt_controller_topic(to);
        configured.or_else(|| self.learned.get(to).cloned())
    }

    /// Carries out the agent's outputs in order; answers go to the reply-to of the request
    /// they answer (`request`: its sender and reply-to), everything else to the
    /// Controller's Topic. `Some(End::Reboot)` at a reboot.
    async fn dispatch(
        &mut self,
        conn: &mut Conn,
        outputs: Vec<Outgoing>,
        request: Option<(String, Option<String>)>,
    ) -> Result<Option<End>, String> {
        for o in outputs {
            match o {
                Outgoing::Send { to, msg: m } => {
                    let answer = msg::is_answer(&m);
                    let reply = match &request {
                        Some((from, Some(r)))
                            if answer
                                && *from == to
                                && !self.has(Fault::MqttAnswerConfiguredTopic) =>
                        {
                            Some(r.clone())
                        }
                        _ => None,
                    };
                    let topic = match reply {
                        Some(t) => Some(t),
                        None => self.topic_for(&to).await,
                    };
                    let Some(topic) = topic else {
                        tracing::info!(to = %to, "a message dropped: no MQTT Topic for its Endpoint");
                        continue;
                    };
                    if answer && self.has(Fault::LateResponse) {
                        later(
                            LATE_BY,
                            Due::Send(topic, to, Box::new(m)),
                            self.due_tx.clone(),
                        );
                        continue;
                    }
                    let bytes = encode_msg(&self.cfg, &to, m);
                    self.publish(conn, &topic, bytes).await?;
                }
                Outgoing::Wake { after, timer } => {
                    later(after, Due::Wake(timer), self.due_tx.clone())
                }
                Outgoing::Reboot => return Ok(Some(End::Reboot)),
            }
        }
        Ok(None)
    }

    /// PUBLISHes a USP Record to `topic` with this agent's reply-to: the Response Topic and
    /// Content Type `usp.msg` on 5.0 (R-MQTT.23, R-MQTT.27), the `/reply-to=` suffix with
    /// `/` as `%2F` on 3.1.1 (R-MQTT.24). QoS 1 (R-MQTT.20).
    async fn publish(
        &mut self,
        conn: &mut Conn,
        topic: &str,
        bytes: Vec<u8>,
    ) -> Result<(), String> {
        let no_reply = self.has(Fault::MqttNoReplyTo) || self.reply_to.is_empty();
        match self.s.version {
            Version::V5 => {
                let ct = if self.has(Fault::MqttWrongContentType) {
                    WRONG_CONTENT_TYPE
                } else {
                    CONTENT_TYPE
                };
                let rt = (!no_reply).then(|| self.reply_to.clone());
                conn.publish(topic, bytes, 1, rt, Some(ct.into())).await
            }
            Version::V311 => {
                let name = if no_reply {
                    topic.to_string()
                } else if self.has(Fault::MqttReplyToNotEncoded) {
                    format!("{topic}{REPLY_TO}{}", self.reply_to)
                } else {
                    with_reply_to(topic, &self.reply_to)
                };
                conn.publish(&name, bytes, 1, None, None).await
            }
        }
    }

    /// One burst of the `flood` fault's Notify records to the Controller.
    async fn flood(&mut self, conn: &mut Conn) -> Result<(), String> {
        let to = self.cfg.controller_id.clone();
        let Some(topic) = self.topic_for(&to).await else {
            return Ok(());
        };
        for _ in 0..FLOOD_BURST {
            let bytes = encode_msg(&self.cfg, &to, flood_notify());
            self.publish(conn, &topic, bytes).await?;
        }
        Ok(())
    }

    /// The MQTTConnectRecord to the Controller: the version in use and the reply-to Topic,
    /// which the agent is subscribed to (TP-469 11.17).
    async fn connect_record(&mut self, conn: &mut Conn) -> Result<(), String> {
        if self.has(Fault::MqttNoConnectRecord) {
            return Ok(());
        }
        let to = self.cfg.controller_id.clone();
        let Some(topic) = self.topic_for(&to).await else {
            return Ok(());
        };
        let v5 = (self.s.version == Version::V5) != self.has(Fault::MqttConnectRecordWrongVersion);
        let subscribed = if self.has(Fault::MqttConnectRecordWrongTopic) {
            "uspcheck/not-subscribed".to_string()
        } else {
            self.reply_to.clone()
        };
        let r = record::mqtt_connect(&to, &self.cfg.endpoint_id, v5, &subscribed);
        self.publish(conn, &topic, record::encode(&r)).await
    }

    /// Reboot(): a USP Disconnect Record, MQTT DISCONNECT (R-MQTT.35), the agent reboots.
    async fn reboot(&mut self, conn: &mut Conn) -> End {
        let to = self.cfg.controller_id.clone();
        if let Some(topic) = self.topic_for(&to).await {
            let r = record::disconnect(&to, &self.cfg.endpoint_id, "rebooting", 0);
            let _ = self.publish(conn, &topic, record::encode(&r)).await;
        }
        conn.disconnect("rebooting").await;
        self.agent.lock().await.reboot();
        End::Reboot
    }
}

/// Sends one SUBSCRIBE with `filters` and waits (within [`BOUND`]) for its SUBACK's reason
/// codes; PUBLISHes that arrive first are kept in `early`.
async fn subscribe_and_wait(
    conn: &mut Conn,
    filters: &[(String, u8)],
    early: &mut Vec<In>,
) -> Result<Vec<u8>, String> {
    let pkid = conn.subscribe(filters).await?;
    let suback = tokio::time::timeout(BOUND, async {
        loop {
            match conn.read().await {
                Ok(In::SubAck { pkid: p, codes }) if p == pkid => return Ok(codes),
                Ok(p @ In::Publish { .. }) => early.push(p),
                Ok(In::Disconnect { code, .. }) => {
                    return Err(format!("DISCONNECT {code:#04x} before SUBACK"));
                }
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
    })
    .await;
    suback.unwrap_or_else(|_| {
        Err(format!(
            "no SUBACK within {}",
            crate::human::duration(BOUND)
        ))
    })
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
