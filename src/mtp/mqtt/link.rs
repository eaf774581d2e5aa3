//! An MQTT client as a [`Link`]: the reference agent's MTP, and the harness's Controller when
//! a vendor tests through an external broker (mosquitto, EMQX…). Records go out in PUBLISH
//! payloads (R-MQTT.18) with the sender's "reply to" Topic (R-MQTT.22): the Response Topic
//! and Content Type `usp.msg` on 5.0 (R-MQTT.23, R-MQTT.27), the `/reply-to=` suffix on
//! 3.1.1 (R-MQTT.24). Incoming reply-to Topics are read back (R-MQTT.25, R-MQTT.26) and
//! MQTT-level anomalies become `Note`s a case can assert on.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::client::{self, CEvent, Cli, Params};
use super::{CONTENT_TYPE, Version, covered, is_usp_content_type, split_reply_to};
use super::{REPLY_TO, with_reply_to};
use crate::mtp::MtpKind;
use crate::mtp::{Events, Link, MtpEventKind, Outgoing, Stamp, channels};

/// Everything a client link needs.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The broker as `host:port`.
    pub broker: String,
    pub version: Version,
    /// The ClientId; empty asks a 5.0 broker to assign one (R-MQTT.8).
    pub client_id: String,
    /// This Endpoint's "reply to" Topic, subscribed to (on 3.1.1 as `topic/#`, so suffixed
    /// Topic Names arrive too; R-MQTT.15). Empty: no configured subscription.
    pub own_topic: String,
    /// The peer's Topic; `None` until learned from a reply-to it sends.
    pub peer_topic: Option<String>,
    /// More Topic Filters (the agent's `Device.MQTT.Client.{i}.Subscription.{i}.`).
    pub subscriptions: Vec<String>,
    /// CONNECT Keep Alive (R-MQTT.14); rumqttc needs at least 5 s on 5.0.
    pub keep_alive: Duration,
    /// CONNECT User Name and Password (R-MQTT.7).
    pub credentials: Option<(String, String)>,
    /// The `usp-endpoint-id` CONNECT User Property (5.0; R-MQTT.13).
    pub endpoint_id: Option<String>,
    /// QoS of SUBSCRIBE and PUBLISH (0 or 1; R-MQTT.20).
    pub qos: u8,
    /// Content Type of 5.0 PUBLISHes (R-MQTT.27); `None` sends none.
    pub content_type: Option<String>,
    /// Agent behaviour on 5.0: ask for Response Information and use it as the reply-to
    /// Topic (R-MQTT.12, R-MQTT.21), subscribe to CONNACK `subscribe-topic`s (R-MQTT.15).
    pub honour_connack: bool,
    /// Send to the peer's latest reply-to Topic before the configured one (an agent answers
    /// where the request said, R-MQTT.25, R-MQTT.26); a Controller keeps the configured one.
    pub prefer_learned: bool,
    /// Bound on CONNECT/CONNACK and SUBSCRIBE/SUBACK.
    pub timeout: Duration,
    /// MQTT over TLS with this configuration (`Device.MQTT.Client.{i}.TransportProtocol`
    /// `TLS`; see [`crate::pki::client_config`]); `None` is plain TCP (R-MQTT.3).
    pub tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

impl ClientConfig {
    /// An agent: subscribes to its own Topic, publishes to the Controller's, honours CONNACK.
    pub fn agent(
        broker: &str,
        version: Version,
        client_id: &str,
        agent_topic: &str,
        controller_topic: &str,
        keep_alive: Duration,
    ) -> ClientConfig {
        ClientConfig {
            broker: broker.into(),
            version,
            client_id: client_id.into(),
            own_topic: agent_topic.into(),
            peer_topic: Some(controller_topic.into()).filter(|t: &String| !t.is_empty()),
            subscriptions: Vec::new(),
            keep_alive,
            credentials: None,
            endpoint_id: None,
            qos: 1,
            content_type: Some(CONTENT_TYPE.into()),
            honour_connack: true,
            prefer_learned: true,
            timeout: Duration::from_secs(10),
            tls: None,
        }
    }

    /// The harness's Controller through an external broker: subscribes to its own Topic,
    /// sends to the agent's configured Topic, else to the one the agent replies from.
    pub fn controller(
        broker: &str,
        version: Version,
        client_id: &str,
        controller_topic: &str,
        agent_topic: Option<&str>,
    ) -> ClientConfig {
        ClientConfig {
            peer_topic: agent_topic.map(str::to_string),
            honour_connack: false,
            prefer_learned: false,
            keep_alive: Duration::from_secs(60),
            ..ClientConfig::agent(
                broker,
                version,
                client_id,
                controller_topic,
                "",
                Duration::ZERO,
            )
        }
    }
}

/// What the CONNACK and SUBACK said, for the Endpoint's data model and its MQTTConnectRecord.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnackInfo {
    pub version: Version,
    /// The ClientId in use: the configured one, or the one the broker assigned.
    pub client_id: String,
    /// To be saved as `.MQTT.Client.{i}.ClientID` (R-MQTT.9).
    pub assigned_client_id: Option<String>,
    pub response_information: Option<String>,
    pub subscribe_topics: Vec<String>,
    pub server_keep_alive: Option<u16>,
    /// The "reply to" Topic in use (the MQTTConnectRecord's `subscribed_topic`).
    pub reply_to: String,
    /// Topic Filters the broker granted.
    pub subscribed: Vec<String>,
    /// Topic Filters the broker refused, with the SUBACK code.
    pub refused: Vec<(String, u8)>,
}

/// Connects an agent (see [`ClientConfig::agent`]) and returns its link.
pub async fn connect(
    broker_addr: &str,
    version: Version,
    client_id: &str,
    agent_topic: &str,
    controller_topic: &str,
    keep_alive: Duration,
) -> Result<Link, String> {
    let cfg = ClientConfig::agent(
        broker_addr,
        version,
        client_id,
        agent_topic,
        controller_topic,
        keep_alive,
    );
    connect_with(cfg).await.map(|(link, _)| link)
}

pub(super) fn host_port(broker: &str) -> Result<(String, u16), String> {
    let (h, p) = broker
        .rsplit_once(':')
        .ok_or_else(|| format!("the broker address {broker:?} is not host:port"))?;
    let port = p
        .parse()
        .map_err(|_| format!("the broker address {broker:?} has no valid port"))?;
    Ok((h.trim_start_matches('[').trim_end_matches(']').into(), port))
}

/// Waits for the next client event before `deadline`.
pub(super) async fn next(rx: &mut mpsc::Receiver<CEvent>, deadline: Instant) -> Option<CEvent> {
    tokio::time::timeout_at(deadline, rx.recv())
        .await
        .ok()
        .flatten()
}

/// Connects, subscribes as R-MQTT.15 says, and returns the link with what the broker said.
/// Fails when the CONNECT is refused, when there is nothing to subscribe to (R-MQTT.16), or
/// when every subscription is refused (R-MQTT.17) — after sending DISCONNECT.
pub async fn connect_with(cfg: ClientConfig) -> Result<(Link, ConnackInfo), String> {
    tracing::debug!(
        broker = %cfg.broker,
        version = %cfg.version,
        client_id = %cfg.client_id,
        tls = cfg.tls.is_some(),
        "MQTT client connecting"
    );
    let broker = cfg.broker.clone();
    crate::mtp::logged(&broker, establish(cfg).await)
}

async fn establish(cfg: ClientConfig) -> Result<(Link, ConnackInfo), String> {
    let (host, port) = host_port(&cfg.broker)?;
    let v5 = cfg.version == Version::V5;
    let params = Params {
        host,
        port,
        version: cfg.version,
        client_id: cfg.client_id.clone(),
        keep_alive: cfg.keep_alive,
        credentials: cfg.credentials.clone(),
        endpoint_id: cfg.endpoint_id.clone().filter(|_| v5),
        request_response_info: cfg.honour_connack && v5,
        tls: cfg.tls.clone(),
    };
    let (cli, mut rx) = client::start(&params)?;
    let deadline = Instant::now() + cfg.timeout;
    let broker = &cfg.broker;
    let (assigned, info, ska, users) = match next(&mut rx, deadline).await {
        Some(CEvent::ConnAck {
            assigned_client_id,
            response_information,
            server_keep_alive,
            user_properties,
        }) => (
            assigned_client_id,
            response_information,
            server_keep_alive,
            user_properties,
        ),
        Some(CEvent::Refused(code, name)) => {
            return Err(format!(
                "the MQTT broker {broker} refused the CONNECT: {code:#04x} {name}"
            ));
        }
        Some(CEvent::Ended(e)) => return Err(format!("no MQTT session with {broker}: {e}")),
        Some(other) => {
            return Err(format!(
                "MQTT broker {broker}: {} before CONNACK",
                other.what()
            ));
        }
        None => {
            return Err(format!(
                "no CONNACK from the MQTT broker {broker} within {}",
                crate::human::duration(cfg.timeout)
            ));
        }
    };
    let subscribe_topics: Vec<String> = users
        .iter()
        .filter(|(k, _)| k == "subscribe-topic")
        .map(|(_, v)| v.clone())
        .collect();
    let honour = cfg.honour_connack && v5;
    // R-MQTT.21: Response Information, when received, is the reply-to Topic.
    let reply_to = match (&info, honour) {
        (Some(ri), true) => ri.clone(),
        _ => cfg.own_topic.clone(),
    };
    let mut filters: Vec<String> = Vec::new();
    let mut add = |f: String| {
        if !f.is_empty() && !filters.contains(&f) {
            filters.push(f);
        }
    };
    if !cfg.own_topic.is_empty() {
        add(match cfg.version {
            Version::V5 => cfg.own_topic.clone(),
            Version::V311 => format!("{}/#", cfg.own_topic),
        });
    }
    cfg.subscriptions.iter().cloned().for_each(&mut add);
    if honour {
        subscribe_topics.iter().cloned().for_each(&mut add);
    }
    if honour
        && let Some(ri) = &info
        && !covered(ri, &filters)
    {
        filters.push(ri.clone());
    }
    if filters.is_empty() {
        cli.disconnect().await;
        await_disconnect(&mut rx).await;
        return Err(
            "no Topic to subscribe to (no configured subscription, no CONNACK subscribe-topic): \
             DISCONNECT sent (R-MQTT.16)"
                .into(),
        );
    }
    cli.subscribe(&filters, cfg.qos).await?;
    let mut early = Vec::new();
    let codes = loop {
        match next(&mut rx, deadline).await {
            Some(CEvent::SubAck(c)) => break c,
            Some(e @ CEvent::Publish { .. }) => early.push(e),
            Some(CEvent::Ended(e)) => return Err(format!("MQTT {broker}: {e} before SUBACK")),
            Some(CEvent::Disconnect(code, _)) => {
                return Err(format!(
                    "MQTT {broker} sent DISCONNECT {code:#04x} before SUBACK"
                ));
            }
            Some(_) => {}
            None => {
                return Err(format!(
                    "no SUBACK from {broker} within {}",
                    crate::human::duration(cfg.timeout)
                ));
            }
        }
    };
    let mut subscribed = Vec::new();
    let mut refused = Vec::new();
    for (f, c) in filters
        .iter()
        .zip(codes.iter().chain(std::iter::repeat(&0x80)))
    {
        if *c < 0x80 {
            subscribed.push(f.clone());
        } else {
            refused.push((f.clone(), *c));
        }
    }
    if subscribed.is_empty() {
        cli.disconnect().await;
        await_disconnect(&mut rx).await;
        let list: Vec<String> = refused
            .iter()
            .map(|(f, c)| format!("{f:?} {c:#04x}"))
            .collect();
        return Err(format!(
            "the broker refused every subscription ({}): DISCONNECT sent, nothing published \
             (R-MQTT.17)",
            list.join(", ")
        ));
    }
    let info = ConnackInfo {
        version: cfg.version,
        client_id: assigned.clone().unwrap_or_else(|| cfg.client_id.clone()),
        assigned_client_id: assigned,
        response_information: info,
        subscribe_topics,
        server_keep_alive: ska,
        reply_to,
        subscribed,
        refused,
    };
    let link = spawn_pump(cli, rx, cfg, info.clone(), early);
    Ok((link, info))
}

/// Gives our DISCONNECT a moment to reach the socket.
async fn await_disconnect(rx: &mut mpsc::Receiver<CEvent>) {
    let until = Instant::now() + Duration::from_secs(1);
    while let Some(e) = next(rx, until).await {
        if matches!(
            e,
            CEvent::SentDisconnect | CEvent::Ended(_) | CEvent::Disconnect(..)
        ) {
            // Let the event loop flush the packet before the client is dropped.
            tokio::time::sleep(Duration::from_millis(20)).await;
            return;
        }
    }
}

fn spawn_pump(
    cli: Cli,
    rx: mpsc::Receiver<CEvent>,
    cfg: ClientConfig,
    info: ConnackInfo,
    early: Vec<CEvent>,
) -> Link {
    let (sender, out_rx, ev_tx, ev_rx) = channels();
    let mut detail = format!(
        "MQTT {} client {:?} connected to {}; reply-to {:?}; subscribed {}",
        info.version,
        info.client_id,
        cfg.broker,
        info.reply_to,
        quoted_list(&info.subscribed)
    );
    if let Some(a) = &info.assigned_client_id {
        detail.push_str(&format!("; Assigned Client Identifier {a:?} (R-MQTT.9)"));
    }
    if let Some(r) = &info.response_information {
        detail.push_str(&format!("; Response Information {r:?}"));
    }
    if !info.subscribe_topics.is_empty() {
        detail.push_str(&format!(
            "; subscribe-topic {}",
            quoted_list(&info.subscribe_topics)
        ));
    }
    if let Some(k) = info.server_keep_alive {
        detail.push_str(&format!("; Server Keep Alive {k}"));
    }
    let describe = format!("MQTT {} {} {}", info.version, cfg.broker, info.client_id);
    let route = Route::new(cfg.peer_topic.clone(), cfg.prefer_learned);
    let mtp = MtpKind::Mqtt {
        v5: info.version == Version::V5,
        subscribed_topic: info.reply_to.clone(),
    };
    let first = std::iter::once(MtpEventKind::Connected { detail }).chain(
        info.refused
            .iter()
            .map(|(f, c)| MtpEventKind::Note(format!("SUBACK refused {f:?} with {c:#04x}"))),
    );
    let task = pump(
        cli,
        rx,
        out_rx,
        ev_tx.clone(),
        cfg,
        info.reply_to,
        route,
        early,
    );
    crate::mtp::spawn_link(&describe, &ev_tx, first, task);
    Link {
        describe,
        mtp,
        peer_eid: None,
        sender,
        events: ev_rx,
    }
}

#[allow(clippy::too_many_arguments)]
async fn pump(
    cli: Cli,
    mut rx: mpsc::Receiver<CEvent>,
    mut out_rx: mpsc::UnboundedReceiver<Outgoing>,
    ev_tx: Events,
    cfg: ClientConfig,
    reply_to: String,
    mut route: Route,
    early: Vec<CEvent>,
) {
    let mut queue: VecDeque<Vec<u8>> = VecDeque::new();
    let mut early = early.into_iter();
    loop {
        let mut queued = false;
        let inbound = match early.next() {
            Some(e) => Some(e),
            None => tokio::select! {
                out = out_rx.recv() => {
                    match out {
                        Some(Outgoing::Record(bytes)) => {
                            queue.push_back(bytes);
                            queued = true;
                        }
                        Some(Outgoing::Close { reason, .. }) => {
                            cli.disconnect().await;
                            await_disconnect(&mut rx).await;
                            ev_tx.emit(MtpEventKind::Closed { code: None, reason: format!("closed by us: {reason}") }).await;
                            return;
                        }
                        None => {
                            cli.disconnect().await;
                            await_disconnect(&mut rx).await;
                            return;
                        }
                    }
                    None
                }
                ev = rx.recv() => Some(ev.unwrap_or(CEvent::Ended("the MQTT client stopped".into()))),
            },
        };
        match inbound {
            Some(CEvent::Publish {
                read,
                topic,
                payload,
                response_topic,
                content_type,
            }) => {
                for n in route.learn(cfg.version, &topic, response_topic, content_type) {
                    ev_tx.emit(MtpEventKind::Note(n)).await;
                }
                if !ev_tx.stamped(read, MtpEventKind::Record(payload)).await {
                    return;
                }
            }
            Some(CEvent::Disconnect(code, reason)) => {
                ev_tx
                    .emit(MtpEventKind::Closed {
                        code: Some(code as u16),
                        reason: format!(
                            "the broker sent DISCONNECT {code:#04x}{}",
                            reason.map(|r| format!(" ({r})")).unwrap_or_default()
                        ),
                    })
                    .await;
                return;
            }
            Some(CEvent::Ended(e)) | Some(CEvent::Refused(_, e)) => {
                ev_tx
                    .emit(MtpEventKind::Closed {
                        code: None,
                        reason: format!("the MQTT connection ended: {e}"),
                    })
                    .await;
                return;
            }
            Some(_) | None => {}
        }
        // Records go out once there is somewhere to send them.
        while !queue.is_empty() {
            let Some(dest) = route.dest() else {
                if queued {
                    ev_tx.emit(MtpEventKind::Note(held(queue.len()))).await;
                }
                break;
            };
            let bytes = queue.pop_front().unwrap_or_default();
            let (topic, rt, ct) = match cfg.version {
                Version::V5 => (dest, Some(reply_to.clone()), cfg.content_type.clone()),
                Version::V311 => (with_reply_to(&dest, &reply_to), None, None),
            };
            // Stamped as handed on: rumqttc's event loop writes it to the socket after.
            let stamp = Stamp::now();
            if let Err(e) = cli.publish(topic, bytes.clone(), cfg.qos, rt, ct).await {
                ev_tx
                    .emit(MtpEventKind::Closed {
                        code: None,
                        reason: format!("publish failed: {e}"),
                    })
                    .await;
                return;
            }
            let _ = ev_tx.stamped(stamp, MtpEventKind::Sent(bytes)).await;
        }
    }
}

/// Topics or filters, each quoted, separated by commas.
fn quoted_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|t| crate::human::quoted(t)).collect();
    quoted.join(", ")
}

/// The Note for records waiting for a destination.
pub(crate) fn held(n: usize) -> String {
    format!(
        "{n} record(s) held: the peer's Topic is not configured and no reply-to has arrived yet"
    )
}

/// Where records go: the configured peer Topic and the peer's last reply-to Topic, and the
/// MQTT-level facts about what the peer sent.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    pub configured: Option<String>,
    pub learned: Option<String>,
    pub prefer_learned: bool,
    noted_differs: Option<String>,
}

impl Route {
    pub(crate) fn new(configured: Option<String>, prefer_learned: bool) -> Route {
        Route {
            configured,
            learned: None,
            prefer_learned,
            noted_differs: None,
        }
    }

    /// The Topic to send to now.
    pub(crate) fn dest(&self) -> Option<String> {
        if self.prefer_learned {
            self.learned.clone().or_else(|| self.configured.clone())
        } else {
            self.configured.clone().or_else(|| self.learned.clone())
        }
    }

    /// Reads the reply-to of a message sent with MQTT `sender`, learns it, and returns Notes
    /// for what breaks R-MQTT.22–27a.
    pub(crate) fn learn(
        &mut self,
        sender: Version,
        topic: &str,
        response_topic: Option<String>,
        content_type: Option<String>,
    ) -> Vec<String> {
        let mut notes = Vec::new();
        let (_, suffix) = split_reply_to(topic);
        let reply = match sender {
            Version::V5 => {
                if response_topic.is_none() {
                    notes.push(format!(
                        "a 5.0 PUBLISH on {topic:?} has no Response Topic (R-MQTT.22, R-MQTT.23)"
                    ));
                }
                if suffix.is_some() {
                    notes.push(format!(
                        "a 5.0 PUBLISH uses the 3.1.1 {REPLY_TO} Topic suffix: {topic:?} \
                         (MQTT version mismatch, R-MQTT.26a)"
                    ));
                }
                match &content_type {
                    None => notes.push(format!(
                        "a 5.0 PUBLISH on {topic:?} has no Content Type (R-MQTT.27)"
                    )),
                    Some(ct) if !is_usp_content_type(ct) => notes.push(format!(
                        "a 5.0 PUBLISH on {topic:?} has Content Type {ct:?}, not {CONTENT_TYPE:?} \
                         (R-MQTT.27, R-MQTT.27a)"
                    )),
                    Some(_) => {}
                }
                response_topic.or(suffix)
            }
            Version::V311 => {
                if suffix.is_none() {
                    notes.push(format!(
                        "a PUBLISH on {topic:?} carries no {REPLY_TO} suffix (R-MQTT.22, \
                         R-MQTT.24; an MQTT version mismatch, R-MQTT.26a)"
                    ));
                }
                suffix.or(response_topic)
            }
        };
        if let Some(r) = reply
            && self.learned.as_ref() != Some(&r)
        {
            notes.push(format!("the peer's reply-to Topic is {r:?}"));
            if let Some(c) = &self.configured
                && *c != r
                && !self.prefer_learned
                && self.noted_differs.as_ref() != Some(&r)
            {
                notes.push(format!(
                    "the peer's reply-to {r:?} differs from its configured Topic {c:?}; records \
                     still go to {c:?}"
                ));
                self.noted_differs = Some(r.clone());
            }
            self.learned = Some(r);
        }
        notes
    }
}
