//! The Supported Data Model as data: objects, parameters, commands and events with the
//! TR-181/TR-106 attributes the agent enforces (type, access, defaults, enumerations, ranges,
//! unique keys). Value validation lives here because it depends only on a parameter's
//! definition; GetSupportedDM reports straight from these structures.

use super::codes::{INVALID_TYPE, INVALID_VALUE, fail};
use crate::agent::codes::Failure;
use crate::usp::path;

/// TR-106 base types the agent implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// `string`
    Str,
    /// `boolean`
    Bool,
    /// `unsignedInt` (32 bits)
    UInt,
    /// `int` (32 bits)
    Int,
    /// `dateTime`
    DateTime,
    /// comma-separated `list` of `string`
    List,
}

/// TR-106 parameter access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Only the agent changes it.
    ReadOnly,
    /// Controllers may change it.
    ReadWrite,
    /// Controllers may set it once (at creation or by a first Set), then it is read-only.
    WriteOnceReadOnly,
}

/// Where a parameter's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Stored in the instantiated data model.
    Stored,
    /// Seconds since the agent booted.
    UpTime,
    /// Number of instances of the named child table (the `...NumberOfEntries` parameters).
    CountOf(&'static str),
}

/// Extra syntax a string value must follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// No constraint beyond type, length and enumeration.
    Plain,
    /// TR-181 `AliasUSP`: not empty, starts with a letter.
    Alias,
    /// Each list item must be a Path Name or Search Path (`Subscription.ReferenceList`).
    PathList,
    /// A reference to an object instance; compared without a trailing '.'.
    Reference,
    /// Each list item is `<Parameter Path>=<value>` (`Subscription.TriggerConfigSettings`),
    /// at most 16 items.
    ConfigSettings,
    /// TR-106 `secured` (`Device.MQTT.Client.{i}.Password`): writable, but read as "".
    Secured,
}

/// One parameter (or command input argument) definition.
#[derive(Clone, Debug)]
pub struct ParamDef {
    /// Name relative to its object.
    pub name: &'static str,
    /// Base type.
    pub ty: Type,
    /// Access for Controllers.
    pub access: Access,
    /// Value given to new instances (TR-181 `object` default).
    pub default: &'static str,
    /// Allowed values (for lists: allowed items); empty means any.
    pub enums: &'static [&'static str],
    /// Inclusive numeric range.
    pub range: Option<(i64, i64)>,
    /// Inclusive string length bounds (for lists: of each item).
    pub len: Option<(usize, usize)>,
    /// Where the value comes from.
    pub source: Source,
    /// Extra syntax.
    pub syntax: Syntax,
}

/// A Multi-Instance Object's unique key (TR-106 `uniqueKey`).
#[derive(Clone, Debug)]
pub struct KeyDef {
    /// The parameters that together identify an instance.
    pub params: Vec<&'static str>,
    /// Functional keys may change (R-KEY.2); non-functional ones may not (R-KEY.1).
    pub functional: bool,
}

/// What a command does when operated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `Device.Reboot()`
    Reboot,
    /// `Device.ScheduleTimer()`
    ScheduleTimer,
    /// `Device.LocalAgent.Controller.{i}.SendOnBoardRequest()`
    SendOnBoardRequest,
    /// `Device.LocalAgent.Request.{i}.Cancel()`
    CancelRequest,
    /// `Device.IP.Diagnostics.TraceRoute()` (simulated: no packet is sent)
    TraceRoute,
}

/// One command definition.
#[derive(Clone, Debug)]
pub struct CmdDef {
    /// Name including `()`.
    pub name: &'static str,
    /// Asynchronous commands create a Request instance and complete with OperationComplete.
    pub asynchronous: bool,
    /// Input arguments with their mandatory flag.
    pub inputs: Vec<(ParamDef, bool)>,
    /// Output argument names.
    pub outputs: Vec<&'static str>,
    /// The behaviour.
    pub action: Action,
}

/// One event definition.
#[derive(Clone, Debug)]
pub struct EventDef {
    /// Name including `!`.
    pub name: &'static str,
    /// Argument names.
    pub args: Vec<&'static str>,
}

/// One object definition (single- or multi-instance) with everything below it.
#[derive(Clone, Debug, Default)]
pub struct ObjDef {
    /// Name relative to the parent object.
    pub name: &'static str,
    /// Multi-Instance Object (table).
    pub multi: bool,
    /// Controllers may Add and Delete instances.
    pub writable: bool,
    /// Parameters in report order.
    pub params: Vec<ParamDef>,
    /// Child objects in report order.
    pub objects: Vec<ObjDef>,
    /// Commands.
    pub commands: Vec<CmdDef>,
    /// Events.
    pub events: Vec<EventDef>,
    /// Unique keys (tables only).
    pub keys: Vec<KeyDef>,
}

impl ObjDef {
    /// The parameter named `name` directly in this object.
    pub fn param(&self, name: &str) -> Option<&ParamDef> {
        self.params.iter().find(|p| p.name == name)
    }

    /// The child object named `name`.
    pub fn object(&self, name: &str) -> Option<&ObjDef> {
        self.objects.iter().find(|o| o.name == name)
    }

    /// The command named `name` (with `()`).
    pub fn command(&self, name: &str) -> Option<&CmdDef> {
        self.commands.iter().find(|c| c.name == name)
    }

    /// The event named `name` (with `!`).
    pub fn event(&self, name: &str) -> Option<&EventDef> {
        self.events.iter().find(|e| e.name == name)
    }

    /// A parameter by relative path through single-instance children (`WebSocket.Port`),
    /// returned with the names of the sub-objects on the way.
    pub fn rel_param(&self, rel: &str) -> Option<(Vec<&'static str>, &ParamDef)> {
        let mut parts: Vec<&str> = rel.split('.').collect();
        let leaf = parts.pop()?;
        let mut def = self;
        let mut via = Vec::new();
        for part in parts {
            def = def.object(part).filter(|o| !o.multi)?;
            via.push(def.name);
        }
        def.param(leaf).map(|p| (via, p))
    }

    /// True if `name` belongs to one of this table's unique keys.
    pub fn is_key_param(&self, name: &str) -> bool {
        self.keys.iter().any(|k| k.params.contains(&name))
    }

    /// True if `name` belongs to a non-functional unique key (immutable once set, R-KEY.1).
    pub fn is_nonfunctional_key(&self, name: &str) -> bool {
        self.keys
            .iter()
            .any(|k| !k.functional && k.params.contains(&name))
    }

    /// All unique-key parameter names, each once, in key order.
    pub fn key_params(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for k in &self.keys {
            for p in &k.params {
                if !out.contains(p) {
                    out.push(p);
                }
            }
        }
        out
    }
}

/// Starts a parameter definition with neutral attributes.
pub fn param(name: &'static str, ty: Type, access: Access) -> ParamDef {
    ParamDef {
        name,
        ty,
        access,
        default: "",
        enums: &[],
        range: None,
        len: None,
        source: Source::Stored,
        syntax: Syntax::Plain,
    }
}

impl ParamDef {
    /// Sets the creation default.
    pub fn default(mut self, v: &'static str) -> Self {
        self.default = v;
        self
    }
    /// Sets the allowed values.
    pub fn enums(mut self, e: &'static [&'static str]) -> Self {
        self.enums = e;
        self
    }
    /// Sets the inclusive numeric range.
    pub fn range(mut self, lo: i64, hi: i64) -> Self {
        self.range = Some((lo, hi));
        self
    }
    /// Sets the inclusive length bounds.
    pub fn len(mut self, lo: usize, hi: usize) -> Self {
        self.len = Some((lo, hi));
        self
    }
    /// Sets the value source.
    pub fn source(mut self, s: Source) -> Self {
        self.source = s;
        self
    }
    /// Sets the extra syntax.
    pub fn syntax(mut self, s: Syntax) -> Self {
        self.syntax = s;
        self
    }

    /// True if Controllers may ever write it (GetSupportedDM reports writeOnceReadOnly as
    /// PARAM_READ_WRITE: TR-369 1.4.1, Messages, "writeOnceReadOnly Parameter Access").
    pub fn writable(&self) -> bool {
        self.access != Access::ReadOnly
    }

    /// Validates `v` for this parameter and returns its canonical form, or the TR-369 error:
    /// 7011 when the string is not of the type, 7012 when it is outside the allowed values.
    pub fn check(&self, v: &str) -> Result<String, Failure> {
        self.check_with(v, true)
    }

    /// [`ParamDef::check`], with the TR-181 AliasUSP rule (starts with a letter) enforced only
    /// when `alias_syntax` is true (the `accept-invalid-alias` fault turns it off).
    pub fn check_with(&self, v: &str, alias_syntax: bool) -> Result<String, Failure> {
        let name = self.name;
        match self.ty {
            Type::Bool => match v.to_ascii_lowercase().as_str() {
                "true" | "1" => Ok("true".into()),
                "false" | "0" => Ok("false".into()),
                _ => Err(fail(
                    INVALID_TYPE,
                    format!("{name}: {v:?} is not a boolean"),
                )),
            },
            Type::UInt => {
                let n = parse_digits(v)
                    .filter(|n| *n <= u64::from(u32::MAX))
                    .ok_or_else(|| {
                        fail(INVALID_TYPE, format!("{name}: {v:?} is not an unsignedInt"))
                    })?;
                self.check_range(n as i64)?;
                Ok(n.to_string())
            }
            Type::Int => {
                let (neg, digits) = match v.strip_prefix('-') {
                    Some(d) => (true, d),
                    None => (false, v),
                };
                let n = parse_digits(digits)
                    .and_then(|n| i64::try_from(n).ok())
                    .map(|n| if neg { -n } else { n })
                    .filter(|n| i32::try_from(*n).is_ok())
                    .ok_or_else(|| fail(INVALID_TYPE, format!("{name}: {v:?} is not an int")))?;
                self.check_range(n)?;
                Ok(n.to_string())
            }
            Type::DateTime => {
                if is_date_time(v) {
                    Ok(v.to_string())
                } else {
                    Err(fail(
                        INVALID_TYPE,
                        format!("{name}: {v:?} is not a dateTime"),
                    ))
                }
            }
            Type::Str => {
                self.check_item(v, alias_syntax)?;
                Ok(v.to_string())
            }
            Type::List => {
                let items: Vec<&str> = if v.trim().is_empty() {
                    Vec::new()
                } else {
                    v.split(',').map(str::trim).collect()
                };
                if self.syntax == Syntax::ConfigSettings && items.len() > 16 {
                    return Err(fail(
                        INVALID_VALUE,
                        format!("{name}: {} items, at most 16 allowed", items.len()),
                    ));
                }
                for item in &items {
                    self.check_item(item, alias_syntax)?;
                }
                Ok(items.join(","))
            }
        }
    }

    fn check_range(&self, n: i64) -> Result<(), Failure> {
        match self.range {
            Some((lo, hi)) if n < lo || n > hi => Err(fail(
                INVALID_VALUE,
                format!("{}: {n} is outside [{lo}:{hi}]", self.name),
            )),
            _ => Ok(()),
        }
    }

    fn check_item(&self, v: &str, alias_syntax: bool) -> Result<(), Failure> {
        let name = self.name;
        if let Some((lo, hi)) = self.len {
            let n = v.chars().count();
            if n < lo || n > hi {
                return Err(fail(
                    INVALID_VALUE,
                    format!("{name}: length {n} is outside [{lo}:{hi}]"),
                ));
            }
        }
        if !self.enums.is_empty() && !self.enums.contains(&v) {
            return Err(fail(
                INVALID_VALUE,
                format!("{name}: {v:?} is not one of {}", self.enums.join(", ")),
            ));
        }
        match self.syntax {
            Syntax::Alias if alias_syntax && !v.starts_with(|c: char| c.is_ascii_alphabetic()) => {
                Err(fail(
                    INVALID_VALUE,
                    format!("{name}: {v:?} must start with a letter (TR-181 AliasUSP)"),
                ))
            }
            Syntax::PathList => path::parse(v)
                .map(|_| ())
                .map_err(|e| fail(INVALID_VALUE, format!("{name}: {e}"))),
            Syntax::ConfigSettings => match config_setting(v) {
                Some(_) => Ok(()),
                None => Err(fail(
                    INVALID_VALUE,
                    format!("{name}: {v:?} is not <Parameter Path>=<value>"),
                )),
            },
            _ => Ok(()),
        }
    }
}

/// Splits one `TriggerConfigSettings` item, `<Parameter Path>=<value>`, into the path and the
/// value with one level of double quotes removed (TR-181: string values are quoted).
pub fn config_setting(item: &str) -> Option<(String, String)> {
    let (p, v) = item.split_once('=')?;
    let p = p.trim();
    let parsed = path::parse(p).ok()?;
    if parsed.kind != path::PathKind::Parameter || !parsed.starts_with_device() {
        return None;
    }
    let v = v.trim();
    let v = v
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(v);
    Some((p.to_string(), v.to_string()))
}

/// Parses a non-empty run of ASCII digits (with an optional leading '+'), without overflow.
fn parse_digits(s: &str) -> Option<u64> {
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// TR-106 dateTime: `YYYY-MM-DDThh:mm:ss[.fff][Z|(+|-)hh:mm]` (no zone = local time).
pub fn is_date_time(v: &str) -> bool {
    let b = v.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    let shape = b.len() >= 19
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match b.get(i) {
        None => true,
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            b.len() == i + 6 && digits(i + 1..i + 3) && b[i + 3] == b':' && digits(i + 4..i + 6)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_checks_give_7011_for_type_and_7012_for_range() {
        let b = param("Enable", Type::Bool, Access::ReadWrite);
        assert_eq!(b.check("True").unwrap(), "true");
        assert_eq!(b.check("0").unwrap(), "false");
        assert_eq!(b.check("InvalidValue").unwrap_err().code, 7011);
        let u = param("Port", Type::UInt, Access::ReadWrite).range(1, 65535);
        assert_eq!(u.check("+0443").unwrap(), "443");
        assert_eq!(u.check("0").unwrap_err().code, 7012);
        assert_eq!(u.check("-1").unwrap_err().code, 7011);
        assert_eq!(u.check("99999999999999999999999").unwrap_err().code, 7011);
        let i = param("X", Type::Int, Access::ReadWrite).range(-1, 10);
        assert_eq!(i.check("-1").unwrap(), "-1");
        assert_eq!(i.check("-2").unwrap_err().code, 7012);
        assert_eq!(i.check("--2").unwrap_err().code, 7011);
        let e = param("NotifType", Type::Str, Access::ReadWrite).enums(&["ValueChange"]);
        assert_eq!(e.check("Nope").unwrap_err().code, 7012);
        let a = param("Alias", Type::Str, Access::WriteOnceReadOnly)
            .len(1, 64)
            .syntax(Syntax::Alias);
        assert_eq!(a.check("88InvalidAlias").unwrap_err().code, 7012);
        assert_eq!(a.check("").unwrap_err().code, 7012);
        assert!(a.check("cpe-1").is_ok());
        let l = param("ReferenceList", Type::List, Access::ReadWrite).syntax(Syntax::PathList);
        assert_eq!(
            l.check("Device.A.B, Device.C.").unwrap(),
            "Device.A.B,Device.C."
        );
        assert_eq!(l.check("Device..X").unwrap_err().code, 7012);
        assert_eq!(l.check("").unwrap(), "");
    }

    #[test]
    fn date_times() {
        for ok in [
            "2019-01-01T00:00:00Z",
            "0001-01-01T00:00:00Z",
            "2021-06-06T08:00:00.123+02:00",
            "2021-06-06T08:00:00",
        ] {
            assert!(is_date_time(ok), "{ok}");
        }
        for bad in [
            "2019-01-01",
            "2019-01-01T00:00:00ZZ",
            "2019-01-01 00:00:00Z",
            "ä",
            "",
        ] {
            assert!(!is_date_time(bad), "{bad}");
        }
    }

    #[test]
    fn relative_params_go_through_single_instance_children_only() {
        let def = ObjDef {
            name: "MTP",
            multi: true,
            objects: vec![
                ObjDef {
                    name: "WebSocket",
                    params: vec![param("Port", Type::UInt, Access::ReadWrite)],
                    ..Default::default()
                },
                ObjDef {
                    name: "Table",
                    multi: true,
                    params: vec![param("X", Type::UInt, Access::ReadWrite)],
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let (via, p) = def.rel_param("WebSocket.Port").unwrap();
        assert_eq!((via, p.name), (vec!["WebSocket"], "Port"));
        assert!(def.rel_param("Table.X").is_none());
        assert!(def.rel_param("Nope").is_none());
        assert!(def.rel_param("").is_none());
    }
}
