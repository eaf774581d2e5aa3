//! A YAML value that keeps the line and column of every node, so an expectation compiled
//! from it can point at the exact key or value a problem is in (`1.3.yaml:14:27`).
//! serde-saphyr's `Spanned` gives the position of one value; this tree applies it at every
//! level.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::Spanned;

/// `line:column` in a YAML file, 1-based (0:0 when unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct Pos {
    pub line: u64,
    pub column: u64,
}

impl Pos {
    pub fn of<T>(s: &Spanned<T>) -> Pos {
        Pos {
            line: s.referenced.line(),
            column: s.referenced.column(),
        }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A YAML node with its position; maps keep their keys' positions and their order.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub at: Pos,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    /// A number as written (`7004`, `2.5`, `0x87` already converted by the YAML parser).
    Number(serde_json::Number),
    Str(String),
    List(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A mapping key: its text (YAML keys that are numbers or booleans as their text) and where
/// it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub at: Pos,
    pub text: String,
}

impl Node {
    /// The tree as JSON (positions dropped), the form requests are built from.
    pub fn to_value(&self) -> Value {
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Number(n) => Value::Number(n.clone()),
            NodeKind::Str(s) => Value::String(s.clone()),
            NodeKind::List(items) => Value::Array(items.iter().map(Node::to_value).collect()),
            NodeKind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.text.clone(), v.to_value()))
                    .collect(),
            ),
        }
    }

    /// The scalar's text, as values are compared (`7004` and `"7004"` alike).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            NodeKind::Null => Some(String::new()),
            NodeKind::Bool(b) => Some(b.to_string()),
            NodeKind::Number(n) => Some(n.to_string()),
            NodeKind::Str(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// The entry under `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(entries) => entries.iter().find(|(k, _)| k.text == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// What kind of YAML value this is, for messages.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Number(_) => "a number",
            NodeKind::Str(_) => "a string",
            NodeKind::List(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }
}

/// The value part of a node, read before its position is attached.
struct Bare(NodeKind);

impl<'de> Deserialize<'de> for Bare {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Bare, D::Error> {
        d.deserialize_any(BareVisitor)
    }
}

struct BareVisitor;

impl<'de> Visitor<'de> for BareVisitor {
    type Value = Bare;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Bare, E> {
        Ok(Bare(NodeKind::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<Bare, E> {
        Ok(Bare(NodeKind::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Bare, D::Error> {
        Bare::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Bare, E> {
        Ok(Bare(NodeKind::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Bare, E> {
        Ok(Bare(NodeKind::Number(v.into())))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Bare, E> {
        Ok(Bare(NodeKind::Number(v.into())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Bare, E> {
        Ok(Bare(match serde_json::Number::from_f64(v) {
            Some(n) => NodeKind::Number(n),
            None => NodeKind::Str(v.to_string()),
        }))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Bare, E> {
        Ok(Bare(NodeKind::Str(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Bare, E> {
        Ok(Bare(NodeKind::Str(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Bare, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Bare(NodeKind::List(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Bare, A::Error> {
        let mut entries: Vec<(Key, Node)> = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Bare>>()? {
            let at = Pos::of(&key);
            let text = Node {
                at,
                kind: key.value.0,
            }
            .scalar_text()
            .ok_or_else(|| de::Error::custom("a mapping key must be a scalar"))?;
            if entries.iter().any(|(k, _)| k.text == text) {
                return Err(de::Error::custom(format!("duplicate key '{text}'")));
            }
            let value = map.next_value::<Node>()?;
            entries.push((Key { at, text }, value));
        }
        Ok(Bare(NodeKind::Map(entries)))
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        let s = Spanned::<Bare>::deserialize(d)?;
        Ok(Node {
            at: Pos::of(&s),
            kind: s.value.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_keeps_its_position() {
        let n: Node = serde_saphyr::from_str("a:\n  b: [1, {c: x}]\n  d: true\n").unwrap();
        assert_eq!(n.at, Pos { line: 1, column: 1 });
        let a = n.get("a").unwrap();
        assert_eq!(a.at.line, 2);
        let NodeKind::List(items) = &a.get("b").unwrap().kind else {
            panic!("b is a list")
        };
        assert_eq!(
            items[1].get("c").unwrap().at,
            Pos {
                line: 2,
                column: 14
            }
        );
        let NodeKind::Map(entries) = &a.kind else {
            panic!()
        };
        assert_eq!(entries[1].0.at, Pos { line: 3, column: 3 });
        assert_eq!(
            n.to_value(),
            serde_json::json!({"a": {"b": [1, {"c": "x"}], "d": true}})
        );
    }
}
