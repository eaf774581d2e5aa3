//! rumqttc's 5.0 and 3.1.1 clients behind one face: the link code above says "publish with
//! this reply-to" once, and each version's event loop is turned into the same few facts.
//! The event loop is never polled again after an error, so a lost connection ends the link
//! instead of silently reconnecting: retrying is the Endpoint's policy (R-MQTT.10,
//! R-MQTT.33), not the transport's.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rumqttc::v5::mqttbytes::v5 as p5;
use rumqttc::{mqttbytes::v4 as p4, v5 as c5};
use tokio::sync::mpsc;

use super::{Version, codes, max_packet};

/// How to reach the broker and what to put in CONNECT.
#[derive(Debug, Clone)]
pub(crate) struct Params {
    pub host: String,
    pub port: u16,
    pub version: Version,
    pub client_id: String,
    pub keep_alive: Duration,
    pub credentials: Option<(String, String)>,
    /// Sent as the `usp-endpoint-id` CONNECT User Property (5.0; R-MQTT.13).
    pub endpoint_id: Option<String>,
    /// Request Response Information = 1 (5.0; R-MQTT.12).
    pub request_response_info: bool,
    /// TLS with this configuration; the broker's certificate is checked against `host`.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

/// rumqttc's transport for the parameters: TLS through the given rustls configuration (its
/// provider, its TLS 1.2+ versions, its trust anchors), or plain TCP.
fn transport(p: &Params) -> rumqttc::Transport {
    match &p.tls {
        Some(c) => rumqttc::Transport::Tls(rumqttc::TlsConfiguration::Rustls(c.clone())),
        None => rumqttc::Transport::Tcp,
    }
}

/// What the client saw.
#[derive(Debug, Clone)]
pub(crate) enum CEvent {
    ConnAck {
        assigned_client_id: Option<String>,
        response_information: Option<String>,
        server_keep_alive: Option<u16>,
        user_properties: Vec<(String, String)>,
    },
    /// CONNACK with a failure code (5.0 numbering, or the 3.1.1 return code).
    Refused(u8, String),
    Publish {
        /// When the event loop read it from the socket.
        read: crate::mtp::Stamp,
        topic: String,
        payload: Bytes,
        response_topic: Option<String>,
        content_type: Option<String>,
    },
    /// One code per filter: 0–2 granted QoS, 0x80 and up a failure.
    SubAck(Vec<u8>),
    /// A 5.0 PUBACK: whether its reason was 0x10, No matching subscribers.
    PubAck { no_subscribers: bool },
    /// The server sent DISCONNECT (5.0).
    Disconnect(u8, Option<String>),
    /// Our DISCONNECT went out.
    SentDisconnect,
    /// The connection failed or ended.
    Ended(String),
}

impl CEvent {
    /// What it was, for a message: the packet's name, or what happened.
    pub(crate) fn what(&self) -> String {
        match self {
            CEvent::ConnAck { .. } => "CONNACK".into(),
            CEvent::Refused(code, name) => format!("CONNACK refused with {code:#04x} ({name})"),
            CEvent::Publish { topic, .. } => {
                format!("a PUBLISH on {}", crate::human::quoted(topic))
            }
            CEvent::SubAck(_) => "SUBACK".into(),
            CEvent::PubAck { .. } => "PUBACK".into(),
            CEvent::Disconnect(code, _) => format!("DISCONNECT {code:#04x}"),
            CEvent::SentDisconnect => "our DISCONNECT".into(),
            CEvent::Ended(why) => format!("the end of the connection ({why})"),
        }
    }
}

/// A running client of either version.
pub(crate) enum Cli {
    V5(c5::AsyncClient),
    V4(rumqttc::AsyncClient),
}

fn q5(q: u8) -> rumqttc::v5::mqttbytes::QoS {
    use rumqttc::v5::mqttbytes::QoS;
    if q == 0 {
        QoS::AtMostOnce
    } else {
        QoS::AtLeastOnce
    }
}

fn q4(q: u8) -> rumqttc::QoS {
    if q == 0 {
        rumqttc::QoS::AtMostOnce
    } else {
        rumqttc::QoS::AtLeastOnce
    }
}

/// Starts connecting; the CONNACK (or the failure) is the first event.
pub(crate) fn start(p: &Params) -> Result<(Cli, mpsc::Receiver<CEvent>), String> {
    // Bounded: while the link's reader is behind, the event loop waits, and with it the
    // reading of the broker's socket (crate::mtp::EVENT_QUEUE).
    let (tx, rx) = mpsc::channel(crate::mtp::EVENT_QUEUE);
    let cli = match p.version {
        Version::V5 => {
            // rumqttc 0.25 asserts a 5.0 keep alive of at least 5 s; refuse rather than panic.
            if p.keep_alive < Duration::from_secs(5) {
                return Err(format!(
                    "a 5.0 keep alive of {} is below the 5 s rumqttc supports",
                    crate::human::duration(p.keep_alive)
                ));
            }
            let mut o = c5::MqttOptions::new(p.client_id.clone(), p.host.clone(), p.port);
            o.set_keep_alive(p.keep_alive);
            o.set_transport(transport(p));
            o.set_max_packet_size(Some(max_packet() as u32));
            if let Some((u, pw)) = &p.credentials {
                o.set_credentials(u.clone(), pw.clone());
            }
            if p.request_response_info {
                o.set_request_response_info(Some(1));
            }
            if let Some(eid) = &p.endpoint_id {
                o.set_user_properties(vec![("usp-endpoint-id".into(), eid.clone())]);
            }
            let (client, el) = c5::AsyncClient::new(o, 64);
            tokio::spawn(run_v5(el, tx));
            Cli::V5(client)
        }
        Version::V311 => {
            let mut o = rumqttc::MqttOptions::new(p.client_id.clone(), p.host.clone(), p.port);
            if !p.keep_alive.is_zero() && p.keep_alive < Duration::from_secs(1) {
                return Err(format!(
                    "a keep alive of {} is below 1 s",
                    crate::human::duration(p.keep_alive)
                ));
            }
            o.set_keep_alive(p.keep_alive);
            o.set_transport(transport(p));
            o.set_max_packet_size(max_packet(), max_packet());
            if let Some((u, pw)) = &p.credentials {
                o.set_credentials(u.clone(), pw.clone());
            }
            let (client, el) = rumqttc::AsyncClient::new(o, 64);
            tokio::spawn(run_v4(el, tx));
            Cli::V4(client)
        }
    };
    Ok((cli, rx))
}

async fn run_v5(mut el: c5::EventLoop, tx: mpsc::Sender<CEvent>) {
    use c5::{ConnectionError, Event, StateError};
    use p5::Packet as P;
    loop {
        let ev = match el.poll().await {
            Ok(Event::Incoming(P::ConnAck(a))) => {
                let p = a.properties.unwrap_or_else(empty_connack_props);
                CEvent::ConnAck {
                    assigned_client_id: p.assigned_client_identifier,
                    response_information: p.response_information,
                    server_keep_alive: p.server_keep_alive,
                    user_properties: p.user_properties,
                }
            }
            Ok(Event::Incoming(P::Publish(m))) => {
                let props = m.properties.unwrap_or_default();
                CEvent::Publish {
                    read: crate::mtp::Stamp::now(),
                    topic: String::from_utf8_lossy(&m.topic).into_owned(),
                    payload: m.payload,
                    response_topic: props.response_topic,
                    content_type: props.content_type,
                }
            }
            Ok(Event::Incoming(P::SubAck(s))) => CEvent::SubAck(
                s.return_codes
                    .iter()
                    .map(|c| codes::suback_v5_number(*c).0)
                    .collect(),
            ),
            Ok(Event::Incoming(P::PubAck(a))) => CEvent::PubAck {
                no_subscribers: a.reason == p5::PubAckReason::NoMatchingSubscribers,
            },
            Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => CEvent::SentDisconnect,
            Ok(_) => continue,
            Err(ConnectionError::MqttState(StateError::ServerDisconnect {
                reason_code,
                reason_string,
            })) => CEvent::Disconnect(reason_code as u8, reason_string),
            Err(ConnectionError::ConnectionRefused(code)) => {
                let n = codes::connack_v5_number(code);
                CEvent::Refused(n, codes::connack_name(n).into())
            }
            Err(e) => CEvent::Ended(e.to_string()),
        };
        let last = matches!(
            ev,
            CEvent::Disconnect(..) | CEvent::Refused(..) | CEvent::Ended(_)
        );
        if tx.send(ev).await.is_err() || last {
            return;
        }
    }
}

async fn run_v4(mut el: rumqttc::EventLoop, tx: mpsc::Sender<CEvent>) {
    use p4::Packet as P;
    use rumqttc::{ConnectionError, Event};
    loop {
        let ev = match el.poll().await {
            Ok(Event::Incoming(P::ConnAck(_))) => CEvent::ConnAck {
                assigned_client_id: None,
                response_information: None,
                server_keep_alive: None,
                user_properties: Vec::new(),
            },
            Ok(Event::Incoming(P::Publish(m))) => CEvent::Publish {
                read: crate::mtp::Stamp::now(),
                topic: m.topic,
                payload: m.payload,
                response_topic: None,
                content_type: None,
            },
            Ok(Event::Incoming(P::SubAck(s))) => CEvent::SubAck(
                s.return_codes
                    .iter()
                    .map(|c| match c {
                        p4::SubscribeReasonCode::Success(q) => *q as u8,
                        p4::SubscribeReasonCode::Failure => 0x80,
                    })
                    .collect(),
            ),
            Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => CEvent::SentDisconnect,
            Ok(_) => continue,
            Err(ConnectionError::ConnectionRefused(code)) => {
                let (n, name) = codes::connack_v4_number(code);
                CEvent::Refused(n, name.into())
            }
            Err(e) => CEvent::Ended(e.to_string()),
        };
        let last = matches!(ev, CEvent::Refused(..) | CEvent::Ended(_));
        if tx.send(ev).await.is_err() || last {
            return;
        }
    }
}

fn empty_connack_props() -> p5::ConnAckProperties {
    p5::ConnAckProperties {
        session_expiry_interval: None,
        receive_max: None,
        max_qos: None,
        retain_available: None,
        max_packet_size: None,
        assigned_client_identifier: None,
        topic_alias_max: None,
        reason_string: None,
        user_properties: Vec::new(),
        wildcard_subscription_available: None,
        subscription_identifiers_available: None,
        shared_subscription_available: None,
        server_keep_alive: None,
        response_information: None,
        server_reference: None,
        authentication_method: None,
        authentication_data: None,
    }
}

impl Cli {
    /// One SUBSCRIBE with every filter.
    pub(crate) async fn subscribe(&self, filters: &[String], qos: u8) -> Result<(), String> {
        match self {
            Cli::V5(c) => c
                .subscribe_many(filters.iter().map(|f| p5::Filter::new(f.clone(), q5(qos))))
                .await
                .map_err(|e| e.to_string()),
            Cli::V4(c) => c
                .subscribe_many(
                    filters
                        .iter()
                        .map(|f| p4::SubscribeFilter::new(f.clone(), q4(qos))),
                )
                .await
                .map_err(|e| e.to_string()),
        }
    }

    /// Publishes a payload; on 5.0 with Response Topic and Content Type when given.
    pub(crate) async fn publish(
        &self,
        topic: String,
        payload: Vec<u8>,
        qos: u8,
        response_topic: Option<String>,
        content_type: Option<String>,
    ) -> Result<(), String> {
        match self {
            Cli::V5(c) => {
                let props = p5::PublishProperties {
                    response_topic,
                    content_type,
                    ..Default::default()
                };
                c.publish_with_properties(topic, q5(qos), false, Bytes::from(payload), props)
                    .await
                    .map_err(|e| e.to_string())
            }
            Cli::V4(c) => c
                .publish(topic, q4(qos), false, payload)
                .await
                .map_err(|e| e.to_string()),
        }
    }

    /// Sends DISCONNECT (R-MQTT.35).
    pub(crate) async fn disconnect(&self) {
        match self {
            Cli::V5(c) => {
                let _ = c.disconnect().await;
            }
            Cli::V4(c) => {
                let _ = c.disconnect().await;
            }
        }
    }
}
