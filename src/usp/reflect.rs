//! Messages by reflection: test cases write USP messages in the `.proto` field names
//! (`allow_partial`, `create_objs`), and expectations are matched against decoded messages
//! in the same names. This module turns such trees into protobuf and back, using the
//! descriptors compiled from `proto/`, so no case ever depends on generated Rust names.

use std::sync::OnceLock;

use prost::Message;
use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor,
    Value as PValue,
};
use serde_json::Value;

/// The descriptor pool of the USP Record and Msg schemas.
pub fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(super::DESCRIPTOR_SET)
            .expect("build.rs wrote a valid descriptor set")
    })
}

/// The descriptor of a message type by its full name (`usp.Request`).
pub fn message(name: &str) -> MessageDescriptor {
    pool()
        .get_message_by_name(name)
        .unwrap_or_else(|| panic!("{name} is in the USP schema"))
}

/// Decodes a generated message into a tree in the `.proto` field names, with every field
/// present (defaults included), enums by name and 64-bit integers as text: the tree
/// prost-reflect's serializer gives with those options.
///
/// It is read straight off the message's encoding by [`super::tree`], not through a
/// `DynamicMessage`: for an answer of megabytes that intermediate copy cost about three times
/// the record's size on top of the tree (docs/limits.md).
pub fn to_value<M: Message>(msg: &M, full_name: &str) -> Value {
    super::tree::decode(&message(full_name), &msg.encode_to_vec())
        .expect("a message re-decodes with its own schema")
}

/// The same tree through a `DynamicMessage`: what [`to_value`] is checked against.
#[cfg(test)]
pub fn dynamic_to_value(msg: &DynamicMessage) -> Value {
    let opts = prost_reflect::SerializeOptions::new()
        .use_proto_field_name(true)
        .skip_default_fields(false)
        .stringify_64_bit_integers(true);
    msg.serialize_with_options(serde_json::value::Serializer, &opts)
        .expect("a protobuf message serialises to a JSON tree")
}

/// A tree of [`to_value`]'s form (JSON in the `.proto` field names) as protobuf text format,
/// indented, the way TP-469 prints messages (`header { msg_id: "1" msg_type: GET }`).
/// Fields at their default value are shown, as TP-469 shows `allow_partial: false`. `None`
/// when the tree is not a `full_name` (another type, or JSON cut short by a size bound).
pub fn text_format(tree: &Value, full_name: &str) -> Option<String> {
    let desc = pool().get_message_by_name(full_name)?;
    let msg = DynamicMessage::deserialize(desc, tree).ok()?;
    let opts = prost_reflect::text_format::FormatOptions::new()
        .pretty(true)
        .skip_default_fields(false);
    Some(msg.to_text_format_with_options(&opts))
}

/// Builds a message of type `full_name` from a tree written in the `.proto` field names.
/// Scalars are accepted as YAML gives them (`value: 5` for a string field is "5"); an
/// unknown field or a value of the wrong shape is an error that names the field path.
pub fn from_value<M: Message + Default>(value: &Value, full_name: &str) -> Result<M, String> {
    let dynamic = build(message(full_name), value, full_name)?;
    M::decode(dynamic.encode_to_vec().as_slice()).map_err(|e| e.to_string())
}

fn build(desc: MessageDescriptor, value: &Value, at: &str) -> Result<DynamicMessage, String> {
    let obj = value
        .as_object()
        .ok_or_else(|| format!("{at}: expected a mapping of {} fields", desc.name()))?;
    let mut msg = DynamicMessage::new(desc.clone());
    for (key, v) in obj {
        let field = desc.get_field_by_name(key).ok_or_else(|| {
            let known: Vec<_> = desc.fields().map(|f| f.name().to_string()).collect();
            format!(
                "{at}: unknown field '{key}' in {} (fields: {})",
                desc.name(),
                known.join(", ")
            )
        })?;
        let here = format!("{at}.{key}");
        let pv = field_value(&field, v, &here)?;
        msg.set_field(&field, pv);
    }
    Ok(msg)
}

fn field_value(field: &FieldDescriptor, v: &Value, at: &str) -> Result<PValue, String> {
    if field.is_map() {
        let Kind::Message(entry) = field.kind() else {
            unreachable!("map fields are entry messages")
        };
        let obj = v
            .as_object()
            .ok_or_else(|| format!("{at}: expected a mapping"))?;
        let vf = entry.map_entry_value_field();
        let mut map = std::collections::HashMap::new();
        for (k, item) in obj {
            let key = match entry.map_entry_key_field().kind() {
                Kind::String => MapKey::String(k.clone()),
                other => {
                    return Err(format!(
                        "{at}: map keys of kind {other:?} are not supported"
                    ));
                }
            };
            map.insert(key, scalar_or_message(&vf, item, &format!("{at}.{k}"))?);
        }
        return Ok(PValue::Map(map));
    }
    if field.is_list() {
        let items: Vec<Value> = match v {
            Value::Array(a) => a.clone(),
            Value::Null => vec![],
            single => vec![single.clone()],
        };
        let list = items
            .iter()
            .enumerate()
            .map(|(i, item)| scalar_or_message(field, item, &format!("{at}[{i}]")))
            .collect::<Result<_, _>>()?;
        return Ok(PValue::List(list));
    }
    scalar_or_message(field, v, at)
}

fn scalar_or_message(field: &FieldDescriptor, v: &Value, at: &str) -> Result<PValue, String> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => String::new(),
        _ => String::new(),
    };
    let bad = |what: &str| format!("{at}: {} is not {what}", crate::human::quoted(&text));
    Ok(match field.kind() {
        Kind::Message(m) => {
            let v = if v.is_null() {
                Value::Object(Default::default())
            } else {
                v.clone()
            };
            PValue::Message(build(m, &v, at)?)
        }
        _ if v.is_array() || v.is_object() => {
            return Err(format!("{at}: expected a scalar, found a structure"));
        }
        Kind::String => PValue::String(text),
        Kind::Bool => PValue::Bool(match text.as_str() {
            "true" | "1" => true,
            "false" | "0" | "" => false,
            _ => return Err(bad("a boolean")),
        }),
        Kind::Uint32 | Kind::Fixed32 => PValue::U32(text.parse().map_err(|_| bad("a uint32"))?),
        Kind::Uint64 | Kind::Fixed64 => PValue::U64(text.parse().map_err(|_| bad("a uint64"))?),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            PValue::I32(text.parse().map_err(|_| bad("an int32"))?)
        }
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            PValue::I64(text.parse().map_err(|_| bad("an int64"))?)
        }
        Kind::Float => PValue::F32(text.parse().map_err(|_| bad("a float"))?),
        Kind::Double => PValue::F64(text.parse().map_err(|_| bad("a double"))?),
        Kind::Bytes => PValue::Bytes(text.into_bytes().into()),
        Kind::Enum(e) => {
            let number = match e.get_value_by_name(&text) {
                Some(ev) => ev.number(),
                None => text.parse().map_err(|_| {
                    let names: Vec<_> = e.values().map(|v| v.name().to_string()).collect();
                    format!(
                        "{at}: {} is not one of {}",
                        crate::human::quoted(&text),
                        names.join(", ")
                    )
                })?,
            };
            PValue::EnumNumber(number)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usp::pb;

    /// A decoded Msg prints as TP-469 writes messages; a tree of another type does not.
    #[test]
    fn a_decoded_msg_prints_in_text_format() {
        let get = crate::usp::msg::request(
            "42",
            pb::request::ReqType::Get(pb::Get {
                param_paths: vec!["Device.".into()],
                max_depth: 0,
            }),
        );
        let text = text_format(&to_value(&get, "usp.Msg"), "usp.Msg").unwrap();
        assert!(
            text.contains("header {\n  msg_id: \"42\"\n  msg_type: GET\n}"),
            "{text}"
        );
        assert!(
            text.contains("    get {\n      param_paths: [\"Device.\"]\n"),
            "{text}"
        );
        assert!(text.contains("max_depth: 0"), "{text}");
        let body = serde_json::json!({ "nonsense": 1 });
        assert_eq!(text_format(&body, "usp.Msg"), None);
        assert_eq!(text_format(&body, "no.Such"), None);
    }

    #[test]
    fn builds_a_request_from_proto_field_names() {
        let v = serde_json::json!({
            "add": {"allow_partial": false, "create_objs": [
                {"obj_path": "Device.LocalAgent.Subscription.",
                 "param_settings": [{"param": "Enable", "value": true, "required": "true"}]}]}
        });
        let req: pb::Request = from_value(&v, "usp.Request").unwrap();
        let Some(pb::request::ReqType::Add(add)) = req.req_type else {
            panic!("an Add")
        };
        assert_eq!(add.create_objs[0].param_settings[0].value, "true");
        assert!(add.create_objs[0].param_settings[0].required);
    }

    #[test]
    fn unknown_fields_are_named() {
        let v = serde_json::json!({"add": {"alow_partial": true}});
        let err = from_value::<pb::Request>(&v, "usp.Request").unwrap_err();
        assert!(err.contains("unknown field 'alow_partial' in Add"), "{err}");
    }

    #[test]
    fn decodes_with_defaults_and_enum_names() {
        let msg = pb::Msg {
            header: Some(pb::Header {
                msg_id: "1".into(),
                msg_type: pb::header::MsgType::GetResp as i32,
            }),
            body: None,
        };
        let v = to_value(&msg, "usp.Msg");
        assert_eq!(v["header"]["msg_type"], "GET_RESP");
        assert_eq!(v["header"]["msg_id"], "1");
    }
}
