//! The harness's Controller inside the embedded broker: an in-process session subscribed to
//! the Controller's own ("reply to") Topic, publishing to the Agent's Topic. No socket sits
//! between them, yet every PUBLISH both ways is in the broker's log like any client's, so a
//! case sees exactly what the Agent was sent and what it answered.
//!
//! Records go out as TR-369 says a Controller sends them: 5.0 style with the Response Topic
//! and Content Type properties (R-MQTT.23, R-MQTT.27), or 3.1.1 style with the `/reply-to=`
//! Topic suffix (R-MQTT.24). The Agent's Topic is the configured one, else the reply-to of
//! the Agent's first PUBLISH (R-MQTT.25, R-MQTT.26).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use rumqttc::mqttbytes::{QoS, v4};
use rumqttc::v5::mqttbytes::{QoS as V5QoS, v5};
use serde_json::json;
use tokio::sync::mpsc;

use super::broker::{BrokerHandle, Dir, Inner, Message, ToConn};
use super::describe::Described;
use super::link::{Route, held};
use super::wire::Packet;
use super::{CONTENT_TYPE, Version, with_reply_to};
use crate::mtp::MtpKind;
use crate::mtp::{Events, Link, MtpEventKind, Outgoing, Stamp, channels};

/// The embedded Controller's settings.
#[derive(Debug, Clone)]
pub struct ControllerConfig {
    /// How the Controller appears in the broker's log.
    pub client_id: String,
    /// The Controller's "reply to" Topic; it subscribes to `own_topic/#`, which also
    /// matches `own_topic` itself and its 3.1.1 `/reply-to=` forms.
    pub own_topic: String,
    /// The Agent's Topic from the EUT profile; `None` to learn it from the Agent's reply-to.
    pub agent_topic: Option<String>,
    /// How the Controller's PUBLISHes carry the reply-to: 5.0 properties or 3.1.1 suffix.
    pub version: Version,
    /// QoS of the Controller's PUBLISHes (0 or 1).
    pub qos: u8,
    /// Content Type of 5.0-style PUBLISHes (TP-469 11.15 switches it); `None` sends none.
    pub content_type: Option<String>,
}

impl ControllerConfig {
    pub fn new(own_topic: &str, agent_topic: Option<&str>, version: Version) -> ControllerConfig {
        ControllerConfig {
            client_id: "uspcheck-controller".into(),
            own_topic: own_topic.into(),
            agent_topic: agent_topic.map(str::to_string),
            version,
            qos: 1,
            content_type: Some(CONTENT_TYPE.into()),
        }
    }
}

struct Ctl {
    version: Version,
    qos: u8,
    content_type: Option<String>,
    route: Route,
    /// The "reply to" Topic of later PUBLISHes when not the subscribed Topic itself (a Topic
    /// below it, so answers still arrive; TP-469 11.14).
    reply_to: Option<String>,
}

/// Changes the embedded Controller's behaviour while its link runs.
#[derive(Clone)]
pub struct ControllerControl(Arc<Mutex<Ctl>>);

impl ControllerControl {
    fn lock(&self) -> MutexGuard<'_, Ctl> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The Content Type of later 5.0-style PUBLISHes (`usp.msg`, `application/vnd.bbf.usp.msg`).
    pub fn set_content_type(&self, ct: Option<&str>) {
        self.lock().content_type = ct.map(str::to_string);
    }

    /// Sets (or clears) the configured Agent Topic.
    pub fn set_agent_topic(&self, topic: Option<&str>) {
        self.lock().route.configured = topic.map(str::to_string);
    }

    /// The Topic records go to now.
    pub fn agent_topic(&self) -> Option<String> {
        self.lock().route.dest()
    }

    /// The reply-to Topic of the Agent's last PUBLISH.
    pub fn learned_agent_topic(&self) -> Option<String> {
        self.lock().route.learned.clone()
    }

    /// The "reply to" Topic of later PUBLISHes; `None` for the Controller's own Topic. It
    /// must lie below the own Topic (`own/…`), which the Controller is subscribed to.
    pub fn set_reply_to(&self, topic: Option<&str>) {
        self.lock().reply_to = topic.map(str::to_string);
    }

    /// Switches between 5.0-style and 3.1.1-style PUBLISHes.
    pub fn set_version(&self, v: Version) {
        self.lock().version = v;
    }

    /// The QoS of later PUBLISHes.
    pub fn set_qos(&self, qos: u8) {
        self.lock().qos = qos.min(1);
    }
}

impl BrokerHandle {
    /// The harness's Controller as a link through this broker (see the module notes).
    pub fn controller_link(&self, cfg: ControllerConfig) -> (Link, ControllerControl) {
        let (conn, rx) = self.register_in_process(&cfg.client_id, cfg.version);
        let filter = format!("{}/#", cfg.own_topic);
        self.0.subscribe(conn, &filter, cfg.qos.min(1));
        self.0.log(
            conn,
            &cfg.client_id,
            Some(cfg.version),
            Dir::In,
            Described {
                kind: "SUBSCRIBE",
                detail: json!({ "in_process": true, "filters": [{ "filter": filter, "qos": cfg.qos.min(1) }] }),
            },
        );
        let ctl = ControllerControl(Arc::new(Mutex::new(Ctl {
            version: cfg.version,
            qos: cfg.qos.min(1),
            content_type: cfg.content_type.clone(),
            route: Route::new(cfg.agent_topic.clone(), false),
            reply_to: None,
        })));
        let (sender, out_rx, ev_tx, ev_rx) = channels();
        let detail = format!(
            "MQTT embedded broker {}: Controller {:?} subscribed to {filter:?}, {} style, agent \
             Topic {}",
            self.addr(),
            cfg.client_id,
            cfg.version,
            cfg.agent_topic
                .as_deref()
                .map_or("to be learned from its reply-to".to_string(), |t| format!(
                    "{t:?}"
                ))
        );
        ev_tx.early(MtpEventKind::Connected { detail });
        let pump = Pump {
            inner: self.0.clone(),
            conn,
            client_id: cfg.client_id.clone(),
            own_topic: cfg.own_topic.clone(),
            ctl: ctl.clone(),
            ev_tx,
            mismatch_noted: Vec::new(),
        };
        tokio::spawn(pump.run(rx, out_rx));
        let link = Link {
            describe: format!("MQTT embedded {} {}", self.addr(), cfg.own_topic),
            mtp: MtpKind::Mqtt {
                v5: cfg.version == Version::V5,
                subscribed_topic: cfg.own_topic.clone(),
            },
            peer_eid: None,
            sender,
            events: ev_rx,
        };
        (link, ctl)
    }
}

struct Pump {
    inner: Arc<Inner>,
    conn: u64,
    client_id: String,
    own_topic: String,
    ctl: ControllerControl,
    ev_tx: Events,
    /// Senders already reported as speaking another MQTT version than the Controller's style.
    mismatch_noted: Vec<String>,
}

impl Pump {
    async fn emit(&self, k: MtpEventKind) -> bool {
        self.ev_tx.emit(k).await
    }

    async fn run(
        mut self,
        mut rx: mpsc::Receiver<ToConn>,
        mut out_rx: mpsc::UnboundedReceiver<Outgoing>,
    ) {
        let mut shutdown = self.inner.shutdown.subscribe();
        let mut queue: VecDeque<Vec<u8>> = VecDeque::new();
        loop {
            tokio::select! {
                out = out_rx.recv() => match out {
                    Some(Outgoing::Record(bytes)) => {
                        queue.push_back(bytes);
                        if self.ctl.agent_topic().is_none() {
                            self.emit(MtpEventKind::Note(held(queue.len()))).await;
                        }
                    }
                    Some(Outgoing::Close { reason, .. }) => {
                        self.inner.unregister(self.conn);
                        self.emit(MtpEventKind::Closed { code: None, reason: format!("closed by us: {reason}") }).await;
                        return;
                    }
                    None => {
                        self.inner.unregister(self.conn);
                        return;
                    }
                },
                m = rx.recv() => match m {
                    Some(ToConn::Deliver(m)) => {
                        if !self.receive(*m).await {
                            self.inner.unregister(self.conn);
                            return;
                        }
                    }
                    // The in-process session is never disconnected by a script.
                    Some(ToConn::Disconnect { .. }) => {}
                    None => {
                        self.emit(MtpEventKind::Closed { code: None, reason: "the broker dropped the Controller's session".into() }).await;
                        return;
                    }
                },
                _ = shutdown.changed() => {
                    self.emit(MtpEventKind::Closed { code: None, reason: "the embedded broker stopped".into() }).await;
                    return;
                }
            }
            while let Some(dest) = self.ctl.agent_topic() {
                let Some(bytes) = queue.pop_front() else {
                    break;
                };
                self.publish(&dest, bytes).await;
            }
        }
    }

    /// A message for the Controller: logged as delivered, read for its reply-to, handed on.
    async fn receive(&mut self, m: Message) -> bool {
        let props = m.props.clone().unwrap_or_default();
        let p = Packet::V5(v5::Packet::Publish(v5::Publish {
            dup: false,
            qos: if m.qos == 0 {
                V5QoS::AtMostOnce
            } else {
                V5QoS::AtLeastOnce
            },
            retain: false,
            topic: Bytes::from(m.topic.clone().into_bytes()),
            pkid: 0,
            payload: m.payload.clone(),
            properties: m.props.clone(),
        }));
        let version = self.ctl.lock().version;
        self.inner.log_packet(
            self.conn,
            &self.client_id,
            version,
            Dir::Out,
            &p,
            Some(("in_process", json!(true))),
        );
        let notes = self.ctl.lock().route.learn(
            m.from_version,
            &m.topic,
            props.response_topic,
            props.content_type,
        );
        for n in notes {
            self.emit(MtpEventKind::Note(format!("from {:?}: {n}", m.from)))
                .await;
        }
        if m.from_version != version && !self.mismatch_noted.contains(&m.from) {
            self.mismatch_noted.push(m.from.clone());
            self.emit(MtpEventKind::Note(format!(
                "{:?} speaks MQTT {}, the Controller publishes {version}-style",
                m.from, m.from_version
            )))
            .await;
        }
        self.ev_tx
            .stamped(m.read, MtpEventKind::Record(m.payload.clone()))
            .await
    }

    /// Publishes a record to `dest` as the Controller, logged as received from it.
    async fn publish(&self, dest: &str, bytes: Vec<u8>) {
        let (version, qos, content_type, reply_to) = {
            let c = self.ctl.lock();
            let reply_to = c.reply_to.clone().unwrap_or_else(|| self.own_topic.clone());
            (c.version, c.qos, c.content_type.clone(), reply_to)
        };
        let (topic, props, packet) = match version {
            Version::V5 => {
                let props = v5::PublishProperties {
                    response_topic: Some(reply_to),
                    content_type,
                    ..Default::default()
                };
                let p = v5::Publish {
                    dup: false,
                    qos: if qos == 0 {
                        V5QoS::AtMostOnce
                    } else {
                        V5QoS::AtLeastOnce
                    },
                    retain: false,
                    topic: Bytes::from(dest.as_bytes().to_vec()),
                    pkid: 0,
                    payload: Bytes::from(bytes.clone()),
                    properties: Some(props.clone()),
                };
                (
                    dest.to_string(),
                    Some(props),
                    Packet::V5(v5::Packet::Publish(p)),
                )
            }
            Version::V311 => {
                let topic = with_reply_to(dest, &reply_to);
                let q = if qos == 0 {
                    QoS::AtMostOnce
                } else {
                    QoS::AtLeastOnce
                };
                let p = v4::Publish::from_bytes(topic.clone(), q, Bytes::from(bytes.clone()));
                (topic, None, Packet::V4(v4::Packet::Publish(p)))
            }
        };
        let targets =
            self.inner
                .route_incoming(self.conn, &self.client_id, version, &packet, &topic);
        if targets.is_empty() {
            self.emit(MtpEventKind::Note(format!(
                "no subscriber matches {topic:?}: the record went nowhere"
            )))
            .await;
        }
        // Delivery to the subscribers' connections is this side's socket.
        let stamp = Stamp::now();
        let msg = Message {
            topic,
            payload: Bytes::from(bytes.clone()),
            qos,
            props,
            from: self.client_id.clone(),
            from_version: version,
            read: stamp,
        };
        self.inner.deliver(&targets, &msg).await;
        self.ev_tx.stamped(stamp, MtpEventKind::Sent(bytes)).await;
    }
}
