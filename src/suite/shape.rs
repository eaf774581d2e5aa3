//! What an expectation is matched against, known when the case loads: a USP message (by
//! its prost-reflect descriptor), a map, a list, a scalar, or an MQTT packet tree (by the
//! field names the broker's log uses). Expectations are compiled against a shape, so a
//! field the message does not have is a load error at its line and column.

use prost_reflect::{EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor};

use crate::usp::reflect;

/// The shape of a value in the tree a step matches.
#[derive(Debug, Clone)]
pub enum Shape {
    /// A protobuf message: its fields by `.proto` name.
    Message(MessageDescriptor),
    /// A body tree: exactly one of these fields (`get_resp`, `error`, `notify`…).
    Body(Vec<(String, Shape)>),
    /// A map with text keys.
    Map(Box<Shape>),
    List(Box<Shape>),
    Scalar(Scalar),
    /// An MQTT packet (or connection fact) from the broker's log.
    Packet,
    /// Anything (no schema is known).
    Open,
}

/// The kinds of scalar, as far as a matcher cares.
#[derive(Debug, Clone)]
pub enum Scalar {
    Text,
    Number,
    Bool,
    Bytes,
    Enum(EnumDescriptor),
}

/// The kinds of entry in the broker's log: MQTT packets and connection facts.
pub const PACKET_KINDS: &[&str] = &[
    "CONNECT",
    "CONNACK",
    "PUBLISH",
    "PUBACK",
    "PUBREC",
    "PUBREL",
    "PUBCOMP",
    "SUBSCRIBE",
    "SUBACK",
    "UNSUBSCRIBE",
    "UNSUBACK",
    "PINGREQ",
    "PINGRESP",
    "DISCONNECT",
    "AUTH",
    "ACCEPT",
    "REFUSED",
    "MALFORMED",
    "PROTOCOL",
    "KEEPALIVE",
    "CLOSED",
    "LISTEN",
    "TLS",
    "TLS_FAILED",
    "PLAINTEXT",
];

/// The field names of a packet tree (`src/mtp/mqtt/describe.rs`, `session.rs`,
/// `run::mqtt::packet_tree`): the decoded fields of every MQTT packet kind, its properties,
/// and the connection facts the broker logs.
pub const PACKET_FIELDS: &[&str] = &[
    // what every entry carries
    "kind",
    "dir",
    "client_id",
    "version",
    "connect_record_topic_subscribed",
    // CONNECT, CONNACK, PUBLISH, SUBSCRIBE, SUBACK, UNSUBSCRIBE, DISCONNECT…
    "assigned_client_identifier",
    "authentication_data_hex",
    "authentication_method",
    "correlation_data_hex",
    "detail",
    "peer",
    "shared_subscription_available",
    "subscription_identifiers",
    "subscription_identifiers_available",
    "wildcard_subscription_available",
    "clean_session",
    "clean_start",
    "code",
    "content_type",
    "dup",
    "filter",
    "filters",
    "keep_alive",
    "maximum_packet_size",
    "maximum_qos",
    "message_expiry_interval",
    "no_local",
    "packet_id",
    "password",
    "payload_format_indicator",
    "payload_hex",
    "payload_len",
    "properties",
    "qos",
    "reason",
    "reason_code",
    "reason_codes",
    "reason_string",
    "receive_maximum",
    "reply_to",
    "request_problem_information",
    "request_response_information",
    "response_information",
    "response_topic",
    "retain",
    "retain_as_published",
    "retain_available",
    "retain_handling",
    "server_keep_alive",
    "server_reference",
    "session_expiry_interval",
    "session_present",
    "subscription_identifier",
    "topic",
    "topic_alias",
    "topic_alias_maximum",
    "user_properties",
    "username",
    "will",
    "will_delay_interval",
    // connection facts: ACCEPT, TLS, TLS_FAILED, PLAINTEXT, CLOSED…
    "message",
    "listener",
    "tls",
    "cipher",
    "sni",
    "peer_certificate",
    "packet",
    "packet_fields",
    "bytes_hex",
    "hex",
    "len",
    "in_process",
];

impl Shape {
    /// The body of the answer to a request: one of `usp.Response`'s fields, or `error`.
    pub fn answer() -> Shape {
        let mut fields = message_fields(&reflect::message("usp.Response"));
        fields.push((
            "error".into(),
            Shape::Message(reflect::message("usp.Error")),
        ));
        Shape::Body(fields)
    }

    /// The body of any message the EUT sends: a request (a Notify), a response or an error.
    pub fn any_body() -> Shape {
        let mut fields = message_fields(&reflect::message("usp.Request"));
        let Shape::Body(answers) = Shape::answer() else {
            unreachable!("answer() is a body")
        };
        fields.extend(answers);
        Shape::Body(fields)
    }

    /// The shape of the field `name` in this shape, or why there is none.
    pub fn field(&self, name: &str) -> Result<Shape, String> {
        match self {
            Shape::Message(d) => match d.get_field_by_name(name) {
                Some(f) => Ok(of_field(&f)),
                None => Err(format!(
                    "`{name}` is not a field of {} (its fields: {})",
                    d.name(),
                    d.fields()
                        .map(|f| f.name().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            },
            Shape::Body(fields) => fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, s)| s.clone())
                .ok_or_else(|| {
                    format!(
                        "`{name}` is not a message body here (one of: {})",
                        fields
                            .iter()
                            .map(|(n, _)| n.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }),
            Shape::Map(v) => Ok((**v).clone()),
            Shape::Packet => packet_field(name),
            Shape::Open => Ok(Shape::Open),
            Shape::List(_) | Shape::Scalar(_) => {
                Err(format!("`{name}`: {} has no fields", self.describe()))
            }
        }
    }

    /// Whether a mapping of fields can match this shape.
    pub fn has_fields(&self) -> bool {
        matches!(
            self,
            Shape::Message(_) | Shape::Body(_) | Shape::Map(_) | Shape::Packet | Shape::Open
        )
    }

    /// Whether keys may be any text (and so may hold `${variables}`).
    pub fn free_keys(&self) -> bool {
        matches!(self, Shape::Map(_) | Shape::Open)
    }

    /// The element shape, for a list (or anything).
    pub fn element(&self) -> Option<Shape> {
        match self {
            Shape::List(e) => Some((**e).clone()),
            Shape::Open => Some(Shape::Open),
            _ => None,
        }
    }

    pub fn is_scalar(&self) -> bool {
        matches!(self, Shape::Scalar(_) | Shape::Open)
    }

    /// Whether it has a size (`len`, `min_len`, `max_len`).
    pub fn sized(&self) -> bool {
        matches!(
            self,
            Shape::List(_)
                | Shape::Map(_)
                | Shape::Message(_)
                | Shape::Scalar(Scalar::Text | Scalar::Bytes)
                | Shape::Open
                | Shape::Packet
        )
    }

    /// For messages and maps: the shape of their keys' text.
    pub fn keyed(&self) -> bool {
        matches!(
            self,
            Shape::Map(_) | Shape::Message(_) | Shape::Open | Shape::Packet | Shape::Body(_)
        )
    }

    /// A few words for messages: `a GetResp message`, `a list of …`.
    pub fn describe(&self) -> String {
        match self {
            Shape::Message(d) => format!("a {} message", d.name()),
            Shape::Body(_) => "a message body".into(),
            Shape::Map(v) => format!("a map of {}", v.describe()),
            Shape::List(e) => format!("a list of {}", e.describe()),
            Shape::Scalar(Scalar::Text) => "a string".into(),
            Shape::Scalar(Scalar::Number) => "a number".into(),
            Shape::Scalar(Scalar::Bool) => "a boolean".into(),
            Shape::Scalar(Scalar::Bytes) => "bytes".into(),
            Shape::Scalar(Scalar::Enum(e)) => format!("a {} value", e.name()),
            Shape::Packet => "an MQTT packet".into(),
            Shape::Open => "a value".into(),
        }
    }

    /// For an enum field, the text must name one of its values (or be its number).
    pub fn check_scalar(&self, text: &str) -> Result<(), String> {
        match self {
            Shape::Scalar(Scalar::Enum(e)) => {
                if e.get_value_by_name(text).is_some() || text.parse::<i32>().is_ok() {
                    Ok(())
                } else {
                    Err(format!(
                        "`{text}` is not a value of {} (values: {})",
                        e.name(),
                        e.values()
                            .map(|v| v.name().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }
            }
            Shape::Scalar(Scalar::Bool) if text != "true" && text != "false" => {
                Err(format!("`{text}` is not a boolean"))
            }
            Shape::Scalar(Scalar::Number) if text.parse::<f64>().is_err() => {
                Err(format!("`{text}` is not a number"))
            }
            _ => Ok(()),
        }
    }
}

fn message_fields(d: &MessageDescriptor) -> Vec<(String, Shape)> {
    d.fields()
        .map(|f| (f.name().to_string(), of_field(&f)))
        .collect()
}

fn of_kind(kind: Kind) -> Shape {
    match kind {
        Kind::Message(m) => Shape::Message(m),
        Kind::Enum(e) => Shape::Scalar(Scalar::Enum(e)),
        Kind::String => Shape::Scalar(Scalar::Text),
        Kind::Bytes => Shape::Scalar(Scalar::Bytes),
        Kind::Bool => Shape::Scalar(Scalar::Bool),
        _ => Shape::Scalar(Scalar::Number),
    }
}

fn of_field(f: &FieldDescriptor) -> Shape {
    if f.is_map() {
        let Kind::Message(entry) = f.kind() else {
            unreachable!("a map field's kind is its entry message")
        };
        let value = entry.map_entry_value_field();
        Shape::Map(Box::new(of_kind(value.kind())))
    } else if f.is_list() {
        Shape::List(Box::new(of_kind(f.kind())))
    } else {
        of_kind(f.kind())
    }
}

fn packet_field(name: &str) -> Result<Shape, String> {
    match name {
        "msg" => Ok(Shape::Message(reflect::message("usp.Msg"))),
        "record" => Ok(Shape::Message(reflect::message("usp_record.Record"))),
        "user_properties" | "reason_codes" | "payload_hex" | "bytes_hex" | "hex" => Ok(Shape::Open),
        // SUBSCRIBE: Topic Filters with their options; UNSUBSCRIBE: the Topic Filters' text
        "filters" => Ok(Shape::List(Box::new(Shape::Open))),
        "properties" | "will" | "tls" | "packet_fields" => Ok(Shape::Packet),
        n if PACKET_FIELDS.contains(&n) => Ok(Shape::Open),
        _ => Err(format!(
            "`{name}` is not a field of an MQTT packet in the broker's log (fields: {})",
            PACKET_FIELDS.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_come_from_the_descriptors() {
        let a = Shape::answer();
        let get = a.field("get_resp").unwrap();
        assert!(matches!(get, Shape::Message(ref d) if d.name() == "GetResp"));
        let results = get.field("req_path_results").unwrap();
        let Shape::List(r) = results else {
            panic!("a repeated field is a list")
        };
        let rp = r
            .field("resolved_path_results")
            .unwrap()
            .element()
            .unwrap()
            .field("result_params")
            .unwrap();
        assert!(matches!(rp, Shape::Map(_)));
        assert!(rp.free_keys());
        assert!(
            get.field("req_path_result")
                .unwrap_err()
                .contains("req_path_results")
        );
        assert!(a.field("notify").is_err());
        assert!(Shape::any_body().field("notify").is_ok());
        assert!(Shape::Packet.field("client_id").is_ok());
        assert!(Shape::Packet.field("clientid").is_err());
    }

    #[test]
    fn enum_values_are_checked() {
        let header = Shape::Message(reflect::message("usp.Header"));
        let t = header.field("msg_type").unwrap();
        assert!(t.check_scalar("GET_RESP").is_ok());
        assert!(t.check_scalar("GETRESP").unwrap_err().contains("GET_RESP"));
    }
}
