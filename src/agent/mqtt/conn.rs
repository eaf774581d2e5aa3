//! The agent's MQTT connection at the packet level, on rumqttc's codecs for both versions
//! behind one face: the agent's loop decides every packet (when to PINGREQ, what to
//! SUBSCRIBE or UNSUBSCRIBE, when to DISCONNECT), which a client library's event loop would
//! hide, and which the faults need to bend one at a time.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use rumqttc::mqttbytes::{QoS as Q4, v4};
use rumqttc::v5::mqttbytes::{QoS as Q5, v5};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use crate::mtp::mqtt::wire::{self, Packet};
use crate::mtp::mqtt::{Version, max_packet};
use crate::mtp::tls::{self, BoxStream};

/// What goes into CONNECT.
#[derive(Debug, Clone)]
pub(super) struct ConnectParams {
    pub client_id: String,
    pub keep_alive: u16,
    pub clean: bool,
    /// User Name and Password (R-MQTT.7).
    pub login: Option<(String, String)>,
    /// The `usp-endpoint-id` User Property (5.0, R-MQTT.13).
    pub endpoint_id: Option<String>,
    /// Request Response Information = 1 (5.0, R-MQTT.12).
    pub request_response_info: bool,
    /// `mqtt-3.1-after-reboot`: the CONNECT names MQTT 3.1 (MQIsdp, level 3) instead.
    pub mqtt31: bool,
}

/// A CONNECT frame rewritten to name MQTT 3.1 (protocol name "MQIsdp", level 3), its
/// Remaining Length grown to match; `None` if `frame` is not a CONNECT naming "MQTT".
fn as_mqtt31(frame: &[u8]) -> Option<Vec<u8>> {
    use prost::encoding::{decode_varint, encode_varint};
    // MQTT's Remaining Length is the same base-128 varint as protobuf's.
    let (first, mut body) = frame.split_first()?;
    decode_varint(&mut body).ok()?;
    let rest = body.strip_prefix(b"\x00\x04MQTT")?.get(1..)?; // past the level byte
    let mut new_body = b"\x00\x06MQIsdp\x03".to_vec();
    new_body.extend_from_slice(rest);
    let mut out = vec![*first];
    encode_varint(new_body.len() as u64, &mut out);
    out.extend(new_body);
    Some(out)
}

/// A packet from the broker, the same for both versions.
#[derive(Debug, Clone)]
pub(super) enum In {
    ConnAck {
        /// 0 for success; otherwise the 5.0 reason code or the 3.1.1 return code.
        code: u8,
        assigned_client_id: Option<String>,
        response_information: Option<String>,
        server_keep_alive: Option<u16>,
        /// Values of the `subscribe-topic` User Properties (R-MQTT.15).
        subscribe_topics: Vec<String>,
    },
    Publish {
        topic: String,
        qos: u8,
        pkid: u16,
        payload: Vec<u8>,
        response_topic: Option<String>,
        content_type: Option<String>,
    },
    /// One code per filter: 0–2 granted QoS, 0x80 and up a failure.
    SubAck {
        pkid: u16,
        codes: Vec<u8>,
    },
    UnsubAck,
    PubRel {
        pkid: u16,
    },
    /// PUBACK, PUBREC, PUBCOMP, PINGRESP: nothing to do.
    Ack,
    /// The server's DISCONNECT (5.0) with its reason code.
    Disconnect {
        code: u8,
        reason: Option<String>,
    },
}

/// One TCP (or TLS) connection speaking one MQTT version.
pub(super) struct Conn {
    pub version: Version,
    tcp: BoxStream,
    buf: BytesMut,
    next_pkid: u16,
    /// When the agent last sent a packet (the Keep Alive clock, MQTT 3.1.2.10).
    pub last_sent: Instant,
    /// Packets sent and received, for `Stats.MQTTMessagesSent/Received`.
    pub sent: u64,
    pub received: u64,
}

fn q4(q: u8) -> Q4 {
    match q {
        0 => Q4::AtMostOnce,
        1 => Q4::AtLeastOnce,
        _ => Q4::ExactlyOnce,
    }
}

fn q5(q: u8) -> Q5 {
    match q {
        0 => Q5::AtMostOnce,
        1 => Q5::AtLeastOnce,
        _ => Q5::ExactlyOnce,
    }
}

/// The 5.0 SUBACK reason code's number.
fn suback5(c: &v5::SubscribeReasonCode) -> u8 {
    use v5::SubscribeReasonCode as R;
    match c {
        R::Success(q) => *q as u8,
        R::Failure | R::Unspecified => 0x80,
        R::ImplementationSpecific => 0x83,
        R::NotAuthorized => 0x87,
        R::TopicFilterInvalid => 0x8F,
        R::PkidInUse => 0x91,
        R::QuotaExceeded => 0x97,
        R::SharedSubscriptionsNotSupported => 0x9E,
        R::SubscriptionIdNotSupported => 0xA1,
        R::WildcardSubscriptionsNotSupported => 0xA2,
    }
}

impl Conn {
    /// Opens the TCP connection, with TLS when `tls` is given (R-MQTT.48: 1.2 or later),
    /// bounded by `bound`.
    pub async fn open(
        broker: &str,
        version: Version,
        tls: Option<&std::sync::Arc<rustls::ClientConfig>>,
        bound: Duration,
    ) -> Result<Conn, String> {
        let (tcp, _) = tls::dial(broker, tls, bound)
            .await
            .map_err(|e| format!("cannot reach the MQTT broker: {e}"))?;
        Ok(Conn {
            version,
            tcp,
            buf: BytesMut::with_capacity(4096),
            next_pkid: 0,
            last_sent: Instant::now(),
            sent: 0,
            received: 0,
        })
    }

    fn pkid(&mut self) -> u16 {
        self.next_pkid = self.next_pkid % u16::MAX + 1;
        self.next_pkid
    }

    async fn write_v5(&mut self, p: v5::Packet) -> Result<(), String> {
        self.write_packet(Packet::V5(p)).await
    }

    async fn write_v4(&mut self, p: v4::Packet) -> Result<(), String> {
        self.write_packet(Packet::V4(p)).await
    }

    async fn write_packet(&mut self, p: Packet) -> Result<(), String> {
        let b = wire::encode(&p).map_err(|e| format!("cannot encode an MQTT packet: {e}"))?;
        self.write(&b).await
    }

    async fn write(&mut self, b: &[u8]) -> Result<(), String> {
        self.tcp
            .write_all(b)
            .await
            .map_err(|e| format!("MQTT write failed: {e}"))?;
        self.last_sent = Instant::now();
        self.sent += 1;
        Ok(())
    }

    /// Sends CONNECT (R-MQTT.6).
    pub async fn connect(&mut self, p: &ConnectParams) -> Result<(), String> {
        let packet = self.connect_packet(p);
        let b = wire::encode(&packet).map_err(|e| format!("cannot encode an MQTT packet: {e}"))?;
        let b = match p.mqtt31 {
            true => as_mqtt31(&b).ok_or("cannot rewrite the CONNECT as MQTT 3.1")?,
            false => b.to_vec(),
        };
        self.write(&b).await
    }

    fn connect_packet(&self, p: &ConnectParams) -> Packet {
        match self.version {
            Version::V5 => {
                let mut props = v5::ConnectProperties::new();
                props.max_packet_size = Some(max_packet() as u32);
                if p.request_response_info {
                    props.request_response_info = Some(1);
                }
                if let Some(eid) = &p.endpoint_id {
                    props
                        .user_properties
                        .push(("usp-endpoint-id".into(), eid.clone()));
                }
                let c = v5::Connect {
                    keep_alive: p.keep_alive,
                    client_id: p.client_id.clone(),
                    clean_start: p.clean,
                    properties: Some(props),
                };
                let login = p.login.as_ref().map(|(u, pw)| v5::Login::new(u, pw));
                Packet::V5(v5::Packet::Connect(c, None, login))
            }
            Version::V311 => {
                let mut c = v4::Connect::new(p.client_id.clone());
                c.keep_alive = p.keep_alive;
                c.clean_session = p.clean;
                c.login = p.login.as_ref().map(|(u, pw)| v4::Login::new(u, pw));
                Packet::V4(v4::Packet::Connect(c))
            }
        }
    }

    /// One SUBSCRIBE with every filter at its QoS; returns its packet identifier.
    pub async fn subscribe(&mut self, filters: &[(String, u8)]) -> Result<u16, String> {
        let pkid = self.pkid();
        match self.version {
            Version::V5 => {
                let fs = filters
                    .iter()
                    .map(|(f, q)| v5::Filter::new(f.clone(), q5(*q)));
                let mut s = v5::Subscribe::new_many(fs, None);
                s.pkid = pkid;
                self.write_v5(v5::Packet::Subscribe(s)).await?;
            }
            Version::V311 => {
                let fs = filters
                    .iter()
                    .map(|(f, q)| v4::SubscribeFilter::new(f.clone(), q4(*q)));
                let mut s = v4::Subscribe::new_many(fs);
                s.pkid = pkid;
                self.write_v4(v4::Packet::Subscribe(s)).await?;
            }
        }
        Ok(pkid)
    }

    /// One UNSUBSCRIBE with every filter (R-MQTT.34).
    pub async fn unsubscribe(&mut self, filters: &[String]) -> Result<(), String> {
        let pkid = self.pkid();
        match self.version {
            Version::V5 => {
                let u = v5::Unsubscribe {
                    pkid,
                    filters: filters.to_vec(),
                    properties: None,
                };
                self.write_v5(v5::Packet::Unsubscribe(u)).await
            }
            Version::V311 => {
                let u = v4::Unsubscribe {
                    pkid,
                    topics: filters.to_vec(),
                };
                self.write_v4(v4::Packet::Unsubscribe(u)).await
            }
        }
    }

    /// PUBLISH of a USP Record (R-MQTT.18); 5.0 properties when given (R-MQTT.23, R-MQTT.27).
    pub async fn publish(
        &mut self,
        topic: &str,
        payload: Vec<u8>,
        qos: u8,
        response_topic: Option<String>,
        content_type: Option<String>,
    ) -> Result<(), String> {
        let pkid = if qos > 0 { self.pkid() } else { 0 };
        match self.version {
            Version::V5 => {
                let props = v5::PublishProperties {
                    response_topic,
                    content_type,
                    ..Default::default()
                };
                let p = v5::Publish {
                    dup: false,
                    qos: q5(qos),
                    retain: false,
                    topic: Bytes::from(topic.as_bytes().to_vec()),
                    pkid,
                    payload: Bytes::from(payload),
                    properties: Some(props),
                };
                self.write_v5(v5::Packet::Publish(p)).await
            }
            Version::V311 => {
                let mut p = v4::Publish::new(topic, q4(qos), payload);
                p.pkid = pkid;
                self.write_v4(v4::Packet::Publish(p)).await
            }
        }
    }

    /// PUBACK for a QoS 1 PUBLISH.
    pub async fn puback(&mut self, pkid: u16) -> Result<(), String> {
        match self.version {
            Version::V5 => {
                self.write_v5(v5::Packet::PubAck(v5::PubAck::new(pkid, None)))
                    .await
            }
            Version::V311 => {
                self.write_v4(v4::Packet::PubAck(v4::PubAck::new(pkid)))
                    .await
            }
        }
    }

    /// PUBREC for a QoS 2 PUBLISH.
    pub async fn pubrec(&mut self, pkid: u16) -> Result<(), String> {
        match self.version {
            Version::V5 => {
                self.write_v5(v5::Packet::PubRec(v5::PubRec::new(pkid, None)))
                    .await
            }
            Version::V311 => {
                self.write_v4(v4::Packet::PubRec(v4::PubRec::new(pkid)))
                    .await
            }
        }
    }

    /// PUBCOMP after a PUBREL.
    pub async fn pubcomp(&mut self, pkid: u16) -> Result<(), String> {
        match self.version {
            Version::V5 => {
                self.write_v5(v5::Packet::PubComp(v5::PubComp::new(pkid, None)))
                    .await
            }
            Version::V311 => {
                self.write_v4(v4::Packet::PubComp(v4::PubComp::new(pkid)))
                    .await
            }
        }
    }

    /// PINGREQ.
    pub async fn ping(&mut self) -> Result<(), String> {
        match self.version {
            Version::V5 => self.write_v5(v5::Packet::PingReq(v5::PingReq)).await,
            Version::V311 => self.write_v4(v4::Packet::PingReq).await,
        }
    }

    /// DISCONNECT (R-MQTT.35), then the socket is shut down. On 5.0 the packet always carries
    /// a Reason String: rumqttc 0.25 encodes a DISCONNECT without properties wrongly.
    pub async fn disconnect(&mut self, reason: &str) {
        let r = match self.version {
            Version::V5 => {
                let d = v5::Disconnect {
                    reason_code: v5::DisconnectReasonCode::NormalDisconnection,
                    properties: Some(v5::DisconnectProperties {
                        session_expiry_interval: None,
                        reason_string: Some(reason.to_string()),
                        user_properties: Vec::new(),
                        server_reference: None,
                    }),
                };
                self.write_v5(v5::Packet::Disconnect(d)).await
            }
            Version::V311 => self.write_v4(v4::Packet::Disconnect).await,
        };
        if r.is_err() {
            return;
        }
        let _ = self.tcp.flush().await;
        let _ = self.tcp.shutdown().await;
        // Read until the broker closes its side (bounded): dropping a socket with unread
        // bytes (a PUBACK in flight) resets it, and a broker may then lose the DISCONNECT.
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            let mut sink = [0u8; 1024];
            while matches!(self.tcp.read(&mut sink).await, Ok(n) if n > 0) {}
        })
        .await;
    }

    /// The next packet from the broker. Cancel-safe: bytes read stay buffered.
    pub async fn read(&mut self) -> Result<In, String> {
        loop {
            if let Some(p) = self.parse()? {
                self.received += 1;
                return Ok(p);
            }
            match self.tcp.read_buf(&mut self.buf).await {
                Ok(0) => return Err("the broker closed the connection".into()),
                Ok(_) => {}
                Err(e) => return Err(format!("MQTT read failed: {e}")),
            }
        }
    }

    /// One whole packet off the buffer, if there is one: framed and decoded as the broker
    /// does it (`wire`), short 5.0 DISCONNECTs included.
    fn parse(&mut self) -> Result<Option<In>, String> {
        let Some(frame) = wire::next_frame(&mut self.buf)? else {
            return Ok(None);
        };
        match wire::decode(self.version, &frame)
            .map_err(|e| format!("a malformed MQTT packet: {e}"))?
        {
            Packet::V5(p) => Ok(Some(from_v5(p))),
            Packet::V4(p) => Ok(Some(from_v4(p))),
        }
    }
}

fn from_v5(p: v5::Packet) -> In {
    use v5::Packet as P;
    match p {
        P::ConnAck(a) => {
            let props = a.properties;
            let code = connack5(a.code);
            In::ConnAck {
                code,
                assigned_client_id: props
                    .as_ref()
                    .and_then(|p| p.assigned_client_identifier.clone()),
                response_information: props.as_ref().and_then(|p| p.response_information.clone()),
                server_keep_alive: props.as_ref().and_then(|p| p.server_keep_alive),
                subscribe_topics: props
                    .map(|p| {
                        p.user_properties
                            .into_iter()
                            .filter(|(k, _)| k == "subscribe-topic")
                            .map(|(_, v)| v)
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        }
        P::Publish(m) => {
            let props = m.properties.unwrap_or_default();
            In::Publish {
                topic: String::from_utf8_lossy(&m.topic).into_owned(),
                qos: m.qos as u8,
                pkid: m.pkid,
                payload: m.payload.to_vec(),
                response_topic: props.response_topic,
                content_type: props.content_type,
            }
        }
        P::SubAck(s) => In::SubAck {
            pkid: s.pkid,
            codes: s.return_codes.iter().map(suback5).collect(),
        },
        P::UnsubAck(_) => In::UnsubAck,
        P::PubRel(r) => In::PubRel { pkid: r.pkid },
        P::Disconnect(d) => In::Disconnect {
            code: d.reason_code as u8,
            reason: d.properties.and_then(|p| p.reason_string),
        },
        _ => In::Ack,
    }
}

fn from_v4(p: v4::Packet) -> In {
    use v4::Packet as P;
    match p {
        P::ConnAck(a) => In::ConnAck {
            code: match a.code {
                v4::ConnectReturnCode::Success => 0,
                v4::ConnectReturnCode::RefusedProtocolVersion => 1,
                v4::ConnectReturnCode::BadClientId => 2,
                v4::ConnectReturnCode::ServiceUnavailable => 3,
                v4::ConnectReturnCode::BadUserNamePassword => 4,
                v4::ConnectReturnCode::NotAuthorized => 5,
            },
            assigned_client_id: None,
            response_information: None,
            server_keep_alive: None,
            subscribe_topics: Vec::new(),
        },
        P::Publish(m) => In::Publish {
            topic: m.topic,
            qos: m.qos as u8,
            pkid: m.pkid,
            payload: m.payload.to_vec(),
            response_topic: None,
            content_type: None,
        },
        P::SubAck(s) => In::SubAck {
            pkid: s.pkid,
            codes: s
                .return_codes
                .iter()
                .map(|c| match c {
                    v4::SubscribeReasonCode::Success(q) => *q as u8,
                    v4::SubscribeReasonCode::Failure => 0x80,
                })
                .collect(),
        },
        P::UnsubAck(_) => In::UnsubAck,
        P::PubRel(r) => In::PubRel { pkid: r.pkid },
        P::Disconnect => In::Disconnect {
            code: 0,
            reason: None,
        },
        _ => In::Ack,
    }
}

/// A 5.0 CONNACK reason code's number (0 success).
fn connack5(c: v5::ConnectReturnCode) -> u8 {
    use v5::ConnectReturnCode as C;
    match c {
        C::Success => 0,
        C::RefusedProtocolVersion | C::UnsupportedProtocolVersion => 0x84,
        C::BadClientId | C::ClientIdentifierNotValid => 0x85,
        C::ServiceUnavailable | C::ServerUnavailable => 0x88,
        C::UnspecifiedError => 0x80,
        C::MalformedPacket => 0x81,
        C::ProtocolError => 0x82,
        C::ImplementationSpecificError => 0x83,
        C::BadUserNamePassword => 0x86,
        C::NotAuthorized => 0x87,
        C::ServerBusy => 0x89,
        C::Banned => 0x8A,
        C::BadAuthenticationMethod => 0x8C,
        C::TopicNameInvalid => 0x90,
        C::PacketTooLarge => 0x95,
        C::QuotaExceeded => 0x97,
        C::PayloadFormatInvalid => 0x99,
        C::RetainNotSupported => 0x9A,
        C::QoSNotSupported => 0x9B,
        C::UseAnotherServer => 0x9C,
        C::ServerMoved => 0x9D,
        C::ConnectionRateExceeded => 0x9F,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 3.1 rewrite keeps the rest of the CONNECT and grows its Remaining Length.
    #[test]
    fn a_connect_rewritten_as_mqtt31_names_mqisdp_level_3() {
        let mut c = v4::Connect::new("x".repeat(200));
        c.keep_alive = 60;
        let frame = wire::encode(&Packet::V4(v4::Packet::Connect(c))).unwrap();
        let old = as_mqtt31(&frame).unwrap();
        assert_eq!(old.len(), frame.len() + 2);
        let got = crate::mtp::mqtt::wire::connect_version(&old);
        assert_eq!(got.unwrap_err().0, Some(("MQIsdp".to_string(), 3)));
        assert!(old.ends_with(&frame[frame.len() - 200..]));
        assert_eq!(as_mqtt31(b"\x20\x02\x00\x00"), None);
    }
}
