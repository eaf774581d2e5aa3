//! Decoded packets as JSON a case can match on, and as one readable line for reports. Field
//! names follow the MQTT specifications (`client_id`, `keep_alive`, `response_topic`…); a
//! property that was absent is absent, so "the CONNECT carries X" is a plain key test.

use rumqttc::mqttbytes::v4;
use rumqttc::v5::mqttbytes::v5;
use serde_json::{Map, Value, json};

use super::codes;
use super::split_reply_to;

/// A packet's name (`CONNECT`, `SUBACK`…) and its fields.
#[derive(Debug, Clone)]
pub(crate) struct Described {
    pub kind: &'static str,
    pub detail: Value,
}

/// An object builder that leaves out what is absent.
struct Obj(Map<String, Value>);

impl Obj {
    fn new() -> Obj {
        Obj(Map::new())
    }
    fn put(mut self, k: &str, v: impl Into<Value>) -> Obj {
        self.0.insert(k.into(), v.into());
        self
    }
    fn opt<T: Into<Value>>(self, k: &str, v: Option<T>) -> Obj {
        match v {
            Some(v) => self.put(k, v),
            None => self,
        }
    }
    fn users(self, v: &[(String, String)]) -> Obj {
        if v.is_empty() {
            return self;
        }
        let pairs: Vec<Value> = v.iter().map(|(k, v)| json!([k, v])).collect();
        self.put("user_properties", pairs)
    }
    fn props(self, p: Option<Obj>) -> Obj {
        match p {
            Some(p) if !p.0.is_empty() => self.put("properties", Value::Object(p.0)),
            _ => self,
        }
    }
    fn done(self) -> Value {
        Value::Object(self.0)
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn reason_props(reason: Option<&String>, users: &[(String, String)]) -> Obj {
    Obj::new()
        .opt("reason_string", reason.cloned())
        .users(users)
}

fn publish_fields(topic: &str, qos: u8, retain: bool, dup: bool, pkid: u16, payload: &[u8]) -> Obj {
    let (_, reply_to) = split_reply_to(topic);
    Obj::new()
        .put("topic", topic)
        .opt("reply_to", reply_to)
        .put("qos", qos)
        .put("retain", retain)
        .put("dup", dup)
        .opt("packet_id", (pkid != 0).then_some(pkid))
        .put("payload_len", payload.len())
        .put("payload_hex", payload_hex(payload))
}

/// Payloads the log keeps whole (as hex, which packet steps decode); a longer one is
/// clipped like other evidence (`crate::clip::hex`), its length still in `payload_len`.
pub const PAYLOAD_KEPT: usize = 64 * 1024;

fn payload_hex(payload: &[u8]) -> String {
    if payload.len() <= PAYLOAD_KEPT {
        hex::encode(payload)
    } else {
        crate::clip::hex(payload)
    }
}

/// Describes a 5.0 packet.
pub(crate) fn v5(p: &v5::Packet) -> Described {
    use v5::Packet as P;
    let (kind, o) = match p {
        P::Connect(c, will, login) => {
            let props = c.properties.as_ref().map(|p| {
                Obj::new()
                    .opt("session_expiry_interval", p.session_expiry_interval)
                    .opt("receive_maximum", p.receive_maximum)
                    .opt("maximum_packet_size", p.max_packet_size)
                    .opt("topic_alias_maximum", p.topic_alias_max)
                    .opt("request_response_information", p.request_response_info)
                    .opt("request_problem_information", p.request_problem_info)
                    .users(&p.user_properties)
                    .opt("authentication_method", p.authentication_method.clone())
                    .opt(
                        "authentication_data_hex",
                        p.authentication_data.as_ref().map(hex::encode),
                    )
            });
            let will = will.as_ref().map(|w| {
                let wp = w.properties.as_ref().map(|p| {
                    Obj::new()
                        .opt("will_delay_interval", p.delay_interval)
                        .opt("payload_format_indicator", p.payload_format_indicator)
                        .opt("message_expiry_interval", p.message_expiry_interval)
                        .opt("content_type", p.content_type.clone())
                        .opt("response_topic", p.response_topic.clone())
                        .users(&p.user_properties)
                });
                Obj::new()
                    .put("topic", text(&w.topic))
                    .put("qos", w.qos as u8)
                    .put("retain", w.retain)
                    .put("payload_len", w.message.len())
                    .props(wp)
                    .done()
            });
            let o = Obj::new()
                .put("version", "5.0")
                .put("client_id", c.client_id.clone())
                .put("keep_alive", c.keep_alive)
                .put("clean_start", c.clean_start)
                .opt("username", login.as_ref().map(|l| l.username.clone()))
                .opt("password", login.as_ref().map(|l| l.password.clone()))
                .opt("will", will)
                .props(props);
            ("CONNECT", o)
        }
        P::ConnAck(a) => {
            let n = codes::connack_v5_number(a.code);
            let props = a.properties.as_ref().map(|p| {
                Obj::new()
                    .opt("session_expiry_interval", p.session_expiry_interval)
                    .opt("receive_maximum", p.receive_max)
                    .opt("maximum_qos", p.max_qos)
                    .opt("retain_available", p.retain_available)
                    .opt("maximum_packet_size", p.max_packet_size)
                    .opt(
                        "assigned_client_identifier",
                        p.assigned_client_identifier.clone(),
                    )
                    .opt("topic_alias_maximum", p.topic_alias_max)
                    .opt("reason_string", p.reason_string.clone())
                    .users(&p.user_properties)
                    .opt(
                        "wildcard_subscription_available",
                        p.wildcard_subscription_available,
                    )
                    .opt(
                        "subscription_identifiers_available",
                        p.subscription_identifiers_available,
                    )
                    .opt(
                        "shared_subscription_available",
                        p.shared_subscription_available,
                    )
                    .opt("server_keep_alive", p.server_keep_alive)
                    .opt("response_information", p.response_information.clone())
                    .opt("server_reference", p.server_reference.clone())
            });
            let o = Obj::new()
                .put("session_present", a.session_present)
                .put("reason_code", n)
                .put("reason", codes::connack_name(n))
                .props(props);
            ("CONNACK", o)
        }
        P::Publish(p) => {
            let props = p.properties.as_ref().map(|p| {
                Obj::new()
                    .opt("payload_format_indicator", p.payload_format_indicator)
                    .opt("message_expiry_interval", p.message_expiry_interval)
                    .opt("topic_alias", p.topic_alias)
                    .opt("response_topic", p.response_topic.clone())
                    .opt(
                        "correlation_data_hex",
                        p.correlation_data.as_ref().map(hex::encode),
                    )
                    .users(&p.user_properties)
                    .opt(
                        "subscription_identifiers",
                        (!p.subscription_identifiers.is_empty())
                            .then(|| p.subscription_identifiers.clone()),
                    )
                    .opt("content_type", p.content_type.clone())
            });
            let o = publish_fields(
                &text(&p.topic),
                p.qos as u8,
                p.retain,
                p.dup,
                p.pkid,
                &p.payload,
            )
            .props(props);
            ("PUBLISH", o)
        }
        P::PubAck(a) => (
            "PUBACK",
            ack(
                a.pkid,
                format!("{:?}", a.reason),
                a.properties
                    .as_ref()
                    .map(|p| reason_props(p.reason_string.as_ref(), &p.user_properties)),
            ),
        ),
        P::PubRec(a) => (
            "PUBREC",
            ack(
                a.pkid,
                format!("{:?}", a.reason),
                a.properties
                    .as_ref()
                    .map(|p| reason_props(p.reason_string.as_ref(), &p.user_properties)),
            ),
        ),
        P::PubRel(a) => (
            "PUBREL",
            ack(
                a.pkid,
                format!("{:?}", a.reason),
                a.properties
                    .as_ref()
                    .map(|p| reason_props(p.reason_string.as_ref(), &p.user_properties)),
            ),
        ),
        P::PubComp(a) => (
            "PUBCOMP",
            ack(
                a.pkid,
                format!("{:?}", a.reason),
                a.properties
                    .as_ref()
                    .map(|p| reason_props(p.reason_string.as_ref(), &p.user_properties)),
            ),
        ),
        P::Subscribe(s) => {
            let filters: Vec<Value> = s
                .filters
                .iter()
                .map(|f| {
                    json!({
                        "filter": f.path,
                        "qos": f.qos as u8,
                        "no_local": f.nolocal,
                        "retain_as_published": f.preserve_retain,
                        "retain_handling": format!("{:?}", f.retain_forward_rule),
                    })
                })
                .collect();
            let props = s.properties.as_ref().map(|p| {
                Obj::new()
                    .opt("subscription_identifier", p.id)
                    .users(&p.user_properties)
            });
            let o = Obj::new()
                .put("packet_id", s.pkid)
                .put("filters", filters)
                .props(props);
            ("SUBSCRIBE", o)
        }
        P::SubAck(s) => {
            let rc: Vec<Value> = s
                .return_codes
                .iter()
                .map(|c| {
                    let (n, name) = codes::suback_v5_number(*c);
                    json!({ "code": n, "reason": name })
                })
                .collect();
            let o = Obj::new()
                .put("packet_id", s.pkid)
                .put("reason_codes", rc)
                .props(
                    s.properties
                        .as_ref()
                        .map(|p| reason_props(p.reason_string.as_ref(), &p.user_properties)),
                );
            ("SUBACK", o)
        }
        P::Unsubscribe(u) => {
            let o = Obj::new()
                .put("packet_id", u.pkid)
                .put("filters", u.filters.clone())
                .props(
                    u.properties
                        .as_ref()
                        .map(|p| Obj::new().users(&p.user_properties)),
                );
            ("UNSUBSCRIBE", o)
        }
        P::UnsubAck(u) => {
            let rc: Vec<Value> = u
                .reasons
                .iter()
                .map(|r| {
                    let (n, name) = codes::unsuback_v5_number(*r);
                    json!({ "code": n, "reason": name })
                })
                .collect();
            let o = Obj::new()
                .put("packet_id", u.pkid)
                .put("reason_codes", rc)
                .props(
                    u.properties
                        .as_ref()
                        .map(|p| reason_props(p.reason_string.as_ref(), &p.user_properties)),
                );
            ("UNSUBACK", o)
        }
        P::PingReq(_) => ("PINGREQ", Obj::new()),
        P::PingResp(_) => ("PINGRESP", Obj::new()),
        P::Disconnect(d) => {
            let props = d.properties.as_ref().map(|p| {
                Obj::new()
                    .opt("session_expiry_interval", p.session_expiry_interval)
                    .opt("reason_string", p.reason_string.clone())
                    .users(&p.user_properties)
                    .opt("server_reference", p.server_reference.clone())
            });
            let o = Obj::new()
                .put("reason_code", d.reason_code as u8)
                .put("reason", format!("{:?}", d.reason_code))
                .props(props);
            ("DISCONNECT", o)
        }
        P::Auth(a) => {
            let props = a.properties.as_ref().map(|p| {
                Obj::new()
                    .opt("authentication_method", p.method.clone())
                    .opt("reason_string", p.reason.clone())
                    .users(&p.user_properties)
            });
            let o = Obj::new()
                .put("reason", format!("{:?}", a.code))
                .props(props);
            ("AUTH", o)
        }
    };
    Described {
        kind,
        detail: o.done(),
    }
}

fn ack(pkid: u16, reason: String, props: Option<Obj>) -> Obj {
    Obj::new()
        .put("packet_id", pkid)
        .put("reason", reason)
        .props(props)
}

/// Describes a 3.1.1 packet.
pub(crate) fn v4(p: &v4::Packet) -> Described {
    use v4::Packet as P;
    let (kind, o) = match p {
        P::Connect(c) => {
            let will = c.last_will.as_ref().map(|w| {
                json!({
                    "topic": w.topic,
                    "qos": w.qos as u8,
                    "retain": w.retain,
                    "payload_len": w.message.len(),
                })
            });
            let o = Obj::new()
                .put("version", "3.1.1")
                .put("client_id", c.client_id.clone())
                .put("keep_alive", c.keep_alive)
                .put("clean_session", c.clean_session)
                .opt("username", c.login.as_ref().map(|l| l.username.clone()))
                .opt("password", c.login.as_ref().map(|l| l.password.clone()))
                .opt("will", will);
            ("CONNECT", o)
        }
        P::ConnAck(a) => {
            let (n, name) = codes::connack_v4_number(a.code);
            let o = Obj::new()
                .put("session_present", a.session_present)
                .put("reason_code", n)
                .put("reason", name);
            ("CONNACK", o)
        }
        P::Publish(p) => (
            "PUBLISH",
            publish_fields(&p.topic, p.qos as u8, p.retain, p.dup, p.pkid, &p.payload),
        ),
        P::PubAck(a) => ("PUBACK", Obj::new().put("packet_id", a.pkid)),
        P::PubRec(a) => ("PUBREC", Obj::new().put("packet_id", a.pkid)),
        P::PubRel(a) => ("PUBREL", Obj::new().put("packet_id", a.pkid)),
        P::PubComp(a) => ("PUBCOMP", Obj::new().put("packet_id", a.pkid)),
        P::Subscribe(s) => {
            let filters: Vec<Value> = s
                .filters
                .iter()
                .map(|f| json!({ "filter": f.path, "qos": f.qos as u8 }))
                .collect();
            let o = Obj::new().put("packet_id", s.pkid).put("filters", filters);
            ("SUBSCRIBE", o)
        }
        P::SubAck(s) => {
            let rc: Vec<Value> = s
                .return_codes
                .iter()
                .map(|c| match c {
                    v4::SubscribeReasonCode::Success(q) => {
                        json!({ "code": *q as u8, "reason": "Granted QoS" })
                    }
                    v4::SubscribeReasonCode::Failure => {
                        json!({ "code": 0x80, "reason": "Failure" })
                    }
                })
                .collect();
            let o = Obj::new().put("packet_id", s.pkid).put("reason_codes", rc);
            ("SUBACK", o)
        }
        P::Unsubscribe(u) => {
            let o = Obj::new()
                .put("packet_id", u.pkid)
                .put("filters", u.topics.clone());
            ("UNSUBSCRIBE", o)
        }
        P::UnsubAck(u) => ("UNSUBACK", Obj::new().put("packet_id", u.pkid)),
        P::PingReq => ("PINGREQ", Obj::new()),
        P::PingResp => ("PINGRESP", Obj::new()),
        P::Disconnect => ("DISCONNECT", Obj::new()),
    };
    Described {
        kind,
        detail: o.done(),
    }
}

/// One line for a person: the kind, then `key=value` pairs; payloads by length only.
pub(crate) fn summary(kind: &str, detail: &Value) -> String {
    let body = flat(detail);
    if body.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} {body}")
    }
}

fn flat(v: &Value) -> String {
    match v {
        Value::Object(m) => m
            .iter()
            .filter(|(k, _)| !k.ends_with("_hex") || k.as_str() == "correlation_data_hex")
            .map(|(k, v)| match v {
                Value::Object(_) => format!("{k}{{{}}}", flat(v)),
                _ => format!("{k}={}", flat(v)),
            })
            .collect::<Vec<_>>()
            .join(" "),
        Value::Array(a) => format!(
            "[{}]",
            a.iter()
                .map(|x| match x {
                    Value::Object(_) => format!("{{{}}}", flat(x)),
                    _ => flat(x),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}
