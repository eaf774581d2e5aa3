//! A message's encoding read straight into the tree test cases match against (see
//! [`super::reflect::to_value`]), guided by its descriptor.
//!
//! prost-reflect gives the same tree by decoding into a `DynamicMessage` and serialising that;
//! for a record of megabytes the intermediate message costs about three times the record's
//! size while the tree is built, which is what this walk saves. What counts as the same tree
//! is prost-reflect's, with `use_proto_field_name`, `skip_default_fields(false)` and
//! `stringify_64_bit_integers`: fields in their `.proto` names; every field without presence
//! present, at its default when absent (lists `[]`, maps `{}`); fields with presence (messages,
//! oneof members) only when set; enums by name (by number when the schema has no name for
//! it); 64-bit integers as text; bytes in standard base64; unknown fields left out. The tests
//! hold the two to that on messages of every shape.

use base64::Engine as _;
use base64::prelude::BASE64_STANDARD;
use prost::bytes::Buf;
use prost::encoding::{DecodeContext, WireType, check_wire_type, decode_key, decode_varint};

/// Why bytes are not an encoding of the message: prost's words, or ours where prost has none
/// to lend (its `DecodeError` cannot be made outside prost).
pub type Error = String;
use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value};

/// The tree of `bytes`, an encoded `desc`.
pub fn decode(desc: &MessageDescriptor, mut bytes: &[u8]) -> Result<Value, Error> {
    let mut obj = Map::new();
    while bytes.has_remaining() {
        let (number, wire) = decode_key(&mut bytes).map_err(|e| e.to_string())?;
        let Some(field) = desc.get_field(number) else {
            prost::encoding::skip_field(wire, number, &mut bytes, DecodeContext::default())
                .map_err(|e| e.to_string())?;
            continue;
        };
        let name = field.name().to_string();
        let kind = field.kind();
        if field.is_map() {
            let Kind::Message(entry) = &kind else {
                unreachable!("a map field's kind is its entry message")
            };
            let (key, value) = map_entry(entry, length_delimited(&mut bytes)?)?;
            if let Value::Object(map) = obj.entry(name).or_insert_with(|| Value::Object(Map::new()))
            {
                map.insert(key, value);
            }
        } else if field.is_list() {
            let Value::Array(items) = obj.entry(name).or_insert_with(|| Value::Array(vec![]))
            else {
                unreachable!("a list field's entry is an array")
            };
            match packed_wire(&kind) {
                Some(each) if wire == WireType::LengthDelimited => {
                    let mut data = length_delimited(&mut bytes)?;
                    while data.has_remaining() {
                        items.push(scalar(&kind, each, &mut data)?);
                    }
                }
                _ => items.push(scalar(&kind, wire, &mut bytes)?),
            }
        } else {
            obj.insert(name, scalar(&kind, wire, &mut bytes)?);
        }
    }
    for field in desc.fields() {
        if !field.supports_presence() && !obj.contains_key(field.name()) {
            obj.insert(field.name().to_string(), default(&field));
        }
    }
    Ok(Value::Object(obj))
}

/// A map entry's key, as text (JSON object keys are text), and its value.
fn map_entry(entry: &MessageDescriptor, bytes: &[u8]) -> Result<(String, Value), Error> {
    let Value::Object(mut e) = decode(entry, bytes)? else {
        unreachable!("a message decodes to an object")
    };
    let key = match e.remove("key") {
        Some(Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let value = match e.remove("value") {
        Some(v) => v,
        // Only a message-valued entry can lack its value; it stands for an empty message.
        None => default(&entry.map_entry_value_field()),
    };
    Ok((key, value))
}

/// The field's value when it is absent from the encoding.
fn default(field: &FieldDescriptor) -> Value {
    if field.is_map() {
        return Value::Object(Map::new());
    }
    if field.is_list() {
        return Value::Array(vec![]);
    }
    match field.kind() {
        Kind::Message(m) => decode(&m, &[]).expect("nothing decodes"),
        Kind::String | Kind::Bytes => Value::String(String::new()),
        Kind::Bool => Value::Bool(false),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 | Kind::Uint64 | Kind::Fixed64 => {
            Value::String("0".into())
        }
        Kind::Float | Kind::Double => Value::from(0.0_f64),
        Kind::Enum(e) => enum_value(&e, 0),
        _ => Value::from(0),
    }
}

/// The wire type of one element of a packed list of `kind`; `None` for kinds never packed.
fn packed_wire(kind: &Kind) -> Option<WireType> {
    match kind {
        Kind::String | Kind::Bytes | Kind::Message(_) => None,
        Kind::Fixed32 | Kind::Sfixed32 | Kind::Float => Some(WireType::ThirtyTwoBit),
        Kind::Fixed64 | Kind::Sfixed64 | Kind::Double => Some(WireType::SixtyFourBit),
        _ => Some(WireType::Varint),
    }
}

/// One value of `kind` read off `bytes`, sent with wire type `wire`.
fn scalar(kind: &Kind, wire: WireType, bytes: &mut &[u8]) -> Result<Value, Error> {
    let expected = packed_wire(kind).unwrap_or(WireType::LengthDelimited);
    check_wire_type(expected, wire).map_err(|e| e.to_string())?;
    Ok(match kind {
        Kind::Message(m) => decode(m, length_delimited(bytes)?)?,
        Kind::String => Value::String(
            String::from_utf8(length_delimited(bytes)?.to_vec())
                .map_err(|_| "a string that is not UTF-8".to_string())?,
        ),
        Kind::Bytes => Value::String(BASE64_STANDARD.encode(length_delimited(bytes)?)),
        Kind::Bool => Value::Bool(varint(bytes)? != 0),
        // Truncation to 32 bits is how protobuf reads an int32 or a uint32 varint.
        Kind::Int32 => Value::from(varint(bytes)? as i32),
        Kind::Uint32 => Value::from(varint(bytes)? as u32),
        Kind::Sint32 => {
            let n = varint(bytes)? as u32;
            Value::from(((n >> 1) as i32) ^ -((n & 1) as i32))
        }
        Kind::Int64 => Value::String((varint(bytes)? as i64).to_string()),
        Kind::Uint64 => Value::String(varint(bytes)?.to_string()),
        Kind::Sint64 => {
            let n = varint(bytes)?;
            Value::String((((n >> 1) as i64) ^ -((n & 1) as i64)).to_string())
        }
        Kind::Enum(e) => enum_value(e, varint(bytes)? as i32),
        Kind::Fixed32 => Value::from(fixed::<4>(bytes).map(u32::from_le_bytes)?),
        Kind::Sfixed32 => Value::from(fixed::<4>(bytes).map(i32::from_le_bytes)?),
        Kind::Fixed64 => Value::String(fixed::<8>(bytes).map(u64::from_le_bytes)?.to_string()),
        Kind::Sfixed64 => Value::String(fixed::<8>(bytes).map(i64::from_le_bytes)?.to_string()),
        Kind::Float => float(f64::from(fixed::<4>(bytes).map(f32::from_le_bytes)?)),
        Kind::Double => float(fixed::<8>(bytes).map(f64::from_le_bytes)?),
    })
}

/// An enum by its name in the schema, or by number when the schema has none for it.
fn enum_value(e: &prost_reflect::EnumDescriptor, number: i32) -> Value {
    match e.get_value(number) {
        Some(v) => Value::String(v.name().to_string()),
        None => Value::from(number),
    }
}

/// A float as protobuf's JSON mapping writes it: a number, or the text of a value JSON has
/// no number for.
fn float(f: f64) -> Value {
    if f.is_finite() {
        Value::from(f)
    } else if f.is_nan() {
        Value::String("NaN".into())
    } else if f > 0.0 {
        Value::String("Infinity".into())
    } else {
        Value::String("-Infinity".into())
    }
}

fn fixed<const N: usize>(bytes: &mut &[u8]) -> Result<[u8; N], Error> {
    let (head, rest) = bytes
        .split_first_chunk::<N>()
        .ok_or_else(|| "the message ends inside a value".to_string())?;
    *bytes = rest;
    Ok(*head)
}

fn varint(bytes: &mut &[u8]) -> Result<u64, Error> {
    decode_varint(bytes).map_err(|e| e.to_string())
}

/// The bytes of a length-delimited value, taken off `bytes`.
fn length_delimited<'a>(bytes: &mut &'a [u8]) -> Result<&'a [u8], Error> {
    let len = usize::try_from(varint(bytes)?)
        .map_err(|_| "a length past the address space".to_string())?;
    if len > bytes.len() {
        return Err("the message ends inside a value".into());
    }
    let (data, rest) = bytes.split_at(len);
    *bytes = rest;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use prost::Message;
    use prost_reflect::DynamicMessage;

    use super::*;
    use crate::usp::reflect::{dynamic_to_value, message};
    use crate::usp::{msg, pb, record};

    /// The walk and prost-reflect agree on `bytes` as a `full_name`.
    fn agree(bytes: &[u8], full_name: &str) {
        let desc = message(full_name);
        let Ok(dynamic) = DynamicMessage::decode(desc.clone(), bytes) else {
            return;
        };
        // prost-reflect keeps what it decoded; the walk reads its canonical encoding, as
        // `to_value` reads a message it encoded.
        let canonical = dynamic.encode_to_vec();
        assert_eq!(
            decode(&desc, &canonical).expect("a canonical encoding decodes"),
            dynamic_to_value(&dynamic),
            "{full_name} of {} bytes",
            canonical.len()
        );
    }

    /// Every record of the fuzz seeds, and the message it carries.
    #[test]
    fn the_tree_is_prost_reflects_on_every_seed_record() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/record_msg");
        let mut seen = 0;
        for f in std::fs::read_dir(dir).expect("the seed corpus is in the repository") {
            let bytes = std::fs::read(f.unwrap().path()).unwrap();
            agree(&bytes, "usp_record.Record");
            if let Ok(r) = record::decode(&bytes)
                && let Some(p) = record::payload(&r)
            {
                agree(p, "usp.Msg");
                seen += 1;
            }
        }
        assert!(seen >= 2, "only {seen} seed records carry a Msg");
    }

    /// Shapes the seeds may lack: maps, enums in lists, oneofs, 64-bit and signed integers,
    /// bytes, nested defaults, an enum number the schema does not name.
    #[test]
    fn the_tree_is_prost_reflects_on_every_shape() {
        let gsdm = pb::GetSupportedDmResp {
            req_obj_results: vec![pb::get_supported_dm_resp::RequestedObjectResult {
                req_obj_path: "Device.".into(),
                err_code: 0,
                err_msg: String::new(),
                data_model_inst_uri: "urn:x".into(),
                supported_objs: vec![pb::get_supported_dm_resp::SupportedObjectResult {
                    supported_obj_path: "Device.X.{i}.".into(),
                    access: 2,
                    is_multi_instance: true,
                    supported_params: vec![pb::get_supported_dm_resp::SupportedParamResult {
                        param_name: "Name".into(),
                        access: 1,
                        value_type: 77,
                        value_change: 1,
                    }],
                    unique_key_sets: vec![pb::get_supported_dm_resp::SupportedUniqueKeySet {
                        key_names: vec!["Alias".into(), "Name".into()],
                    }],
                    ..Default::default()
                }],
            }],
        };
        let resp = msg::response("1", pb::response::RespType::GetSupportedDmResp(gsdm));
        let params = (0..50)
            .map(|i| (format!("P{i}"), format!("v{i}")))
            .collect();
        let get = msg::response(
            "-2",
            pb::response::RespType::GetResp(pb::GetResp {
                req_path_results: vec![pb::get_resp::RequestedPathResult {
                    requested_path: "Device.".into(),
                    err_code: 7004,
                    err_msg: "ü\u{0}".into(),
                    resolved_path_results: vec![pb::get_resp::ResolvedPathResult {
                        resolved_path: "Device.".into(),
                        result_params: params,
                    }],
                }],
            }),
        );
        let notify = msg::request(
            "3",
            pb::request::ReqType::Notify(pb::Notify {
                subscription_id: "s".into(),
                send_resp: true,
                notification: Some(pb::notify::Notification::OnBoardReq(
                    pb::notify::OnBoardRequest {
                        oui: "00256D".into(),
                        ..Default::default()
                    },
                )),
            }),
        );
        let error = pb::Msg {
            header: Some(pb::Header {
                msg_id: String::new(),
                msg_type: 99,
            }),
            body: Some(pb::Body {
                msg_body: Some(pb::body::MsgBody::Error(pb::Error {
                    err_code: u32::MAX,
                    err_msg: "e".into(),
                    param_errs: vec![pb::error::ParamError::default(); 2],
                })),
            }),
        };
        for m in [resp, get, notify, error, pb::Msg::default()] {
            agree(&m.encode_to_vec(), "usp.Msg");
            let r = record::no_session("to", "from", &m);
            agree(&record::encode(&r), "usp_record.Record");
        }
        use crate::usp::pb_record::{SessionContextRecord, record::RecordType};
        let mut session = record::no_session("to", "from", &pb::Msg::default());
        session.record_type = Some(RecordType::SessionContext(SessionContextRecord {
            session_id: u64::MAX,
            sequence_id: 1,
            payload_sar_state: 3,
            payload: vec![vec![0xff, 0, 7], vec![]],
            ..Default::default()
        }));
        agree(&record::encode(&session), "usp_record.Record");
    }

    /// Bytes that are no message are an error, not a panic or a partial tree.
    #[test]
    fn broken_encodings_are_errors() {
        let desc = message("usp.Msg");
        for bad in [&[0x0a, 0xff, 0xff][..], &[0x0a, 0x05, 0x01], &[0x08]] {
            assert!(decode(&desc, bad).is_err(), "{bad:?}");
        }
    }
}
