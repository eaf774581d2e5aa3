//! TR-369 Path Names (TR-369 1.4.1, Architecture, "Path Names" and "Data Model Path Grammar"): one parser
//! shared by the harness, which checks the paths an Agent reports, and by the reference agent,
//! which resolves the paths a Controller sends.
//!
//! The grammar is the instantiated-data-model BNF (`idmpath`): names separated by `.`, instance
//! identifiers that are an instance number, a `*` wildcard or a `[expression]` (search
//! expressions and unique-key addressing share this syntax), and a final `.` (Object Path), a
//! parameter name (Parameter Path), `name()` (Command Path) or `name!` (Event Path).
//! [`parse_supported`] also accepts the Supported Data Model's `{i}` placeholder (used by
//! GetSupportedDM). Reference following (`+`, `#n+`) is not supported and is reported as such.

use std::fmt;

/// A search-expression operator (R-ARC.9: `==`, `!=`, `~=`, `<`, `>`, `<=`, `>=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `~=`: the comma-separated list value contains the constant as one item.
    Contains,
}

impl Op {
    /// The operator as written in a path.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Ge => ">=",
            Op::Contains => "~=",
        }
    }
}

/// One expression component `param op value` of a `[...]` instance identifier.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Condition {
    /// Relative path of the parameter, e.g. `Enable` or `Stats.ErrorsSent`.
    pub param: String,
    /// The comparison.
    pub op: Op,
    /// The constant, without quotes and with `%22`/`%25` decoded.
    pub value: String,
}

/// One `.`-separated element of a path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Segment {
    /// An object, parameter, command or event name (without `()` or `!`).
    Name(String),
    /// Instance Number Addressing (a positive integer).
    Instance(u32),
    /// `*` (or `{i}` when parsed with [`parse_supported`]).
    Wildcard,
    /// `[cond && cond ...]`: a search expression or unique-key address.
    Search(Vec<Condition>),
}

/// What a path addresses, decided by how it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PathKind {
    /// Ends with `.`.
    Object,
    /// Ends with a name.
    Parameter,
    /// Ends with `()`.
    Command,
    /// Ends with `!`.
    Event,
}

/// A parsed path. For Parameter, Command and Event paths the last segment is the leaf's name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Path {
    /// The elements in order, starting with the root name (normally `Device`).
    pub segments: Vec<Segment>,
    /// How the path ends.
    pub kind: PathKind,
}

/// Why a string is not a valid path; `Display` says what is wrong and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathError {
    /// The string that failed to parse.
    pub input: String,
    /// Byte offset where the problem was found.
    pub position: usize,
    /// What is wrong, in words.
    pub reason: String,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid path {} at character {}: {}",
            crate::human::quoted(&self.input),
            self.position,
            self.reason
        )
    }
}

impl std::error::Error for PathError {}

impl Path {
    /// True if any instance identifier is a wildcard or an expression (a Search Path).
    pub fn is_search(&self) -> bool {
        self.segments
            .iter()
            .any(|s| matches!(s, Segment::Wildcard | Segment::Search(_)))
    }

    /// True if every instance identifier is an instance number.
    pub fn is_instantiated(&self) -> bool {
        !self.is_search()
    }

    /// The name of the parameter, command or event a non-object path ends with.
    pub fn leaf_name(&self) -> Option<&str> {
        match (self.kind, self.segments.last()) {
            (PathKind::Object, _) => None,
            (_, Some(Segment::Name(n))) => Some(n),
            _ => None,
        }
    }

    /// The segments that address objects (all of them for an Object Path, all but the leaf
    /// name otherwise).
    pub fn object_segments(&self) -> &[Segment] {
        match self.kind {
            PathKind::Object => &self.segments,
            _ => &self.segments[..self.segments.len().saturating_sub(1)],
        }
    }

    /// True if the first segment is `Device`, the root of the Device:2 data model.
    pub fn starts_with_device(&self) -> bool {
        matches!(self.segments.first(), Some(Segment::Name(n)) if n == "Device")
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.param, self.op.as_str())?;
        if is_bare_constant(&self.value) {
            f.write_str(&self.value)
        } else {
            let escaped = self.value.replace('%', "%25").replace('"', "%22");
            write!(f, "\"{escaped}\"")
        }
    }
}

/// Numbers and booleans are written without quotes; everything else is a quoted literal.
fn is_bare_constant(v: &str) -> bool {
    let digits = v.strip_prefix('-').unwrap_or(v);
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        || v == "true"
        || v == "false"
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Name(n) => f.write_str(n),
            Segment::Instance(i) => write!(f, "{i}"),
            Segment::Wildcard => f.write_str("*"),
            Segment::Search(conds) => {
                f.write_str("[")?;
                for (i, c) in conds.iter().enumerate() {
                    if i > 0 {
                        f.write_str("&&")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("]")
            }
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{s}")?;
        }
        match self.kind {
            PathKind::Object => f.write_str("."),
            PathKind::Parameter => Ok(()),
            PathKind::Command => f.write_str("()"),
            PathKind::Event => f.write_str("!"),
        }
    }
}

/// Parses an Instantiated Data Model path or Search Path (TR-369 `idmpath`).
pub fn parse(s: &str) -> Result<Path, PathError> {
    Parser::new(s, false).path()
}

/// Like [`parse`], but also accepts the Supported Data Model placeholder `{i}` (returned as
/// [`Segment::Wildcard`]), as GetSupportedDM requests may use it.
pub fn parse_supported(s: &str) -> Result<Path, PathError> {
    Parser::new(s, true).path()
}

/// True if `s` is an Object or Object Instance Path beginning with `Device.` that uses
/// instance numbers only (no wildcard or expression), as R-MSG.3 requires of Agent reports.
pub fn is_instantiated_object_path(s: &str) -> bool {
    is_instantiated_path(s, PathKind::Object)
}

/// True if `s` is a Parameter Path beginning with `Device.` that uses instance numbers only.
pub fn is_instantiated_param_path(s: &str) -> bool {
    is_instantiated_path(s, PathKind::Parameter)
}

/// True if `s` parses as a path of `kind` beginning with `Device.` with instance numbers only.
pub fn is_instantiated_path(s: &str, kind: PathKind) -> bool {
    parse(s).is_ok_and(|p| p.kind == kind && p.is_instantiated() && p.starts_with_device())
}

/// A byte-level recursive-descent parser; the grammar is ASCII, and every slice it takes ends
/// at an ASCII delimiter, so slicing never splits a UTF-8 character.
struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    supported: bool,
}

impl<'a> Parser<'a> {
    fn new(s: &'a str, supported: bool) -> Self {
        Parser {
            s,
            b: s.as_bytes(),
            i: 0,
            supported,
        }
    }

    fn err<T>(&self, at: usize, reason: impl Into<String>) -> Result<T, PathError> {
        Err(PathError {
            input: self.s.to_string(),
            position: at,
            reason: reason.into(),
        })
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// The unparsed remainder; empty if `i` is not on a character boundary (never expected).
    fn rest(&self) -> &'a str {
        self.s.get(self.i..).unwrap_or("")
    }

    fn describe_here(&self) -> String {
        match self.rest().chars().next() {
            Some(c) => format!("unexpected character {c:?}"),
            None => "unexpected end of path".to_string(),
        }
    }

    fn path(mut self) -> Result<Path, PathError> {
        if self.s.is_empty() {
            return self.err(0, "empty path");
        }
        let mut segments = Vec::new();
        let kind = loop {
            let start = self.i;
            let seg = self.segment()?;
            self.check_position(&segments, &seg, start)?;
            segments.push(seg);
            match self.peek() {
                None => {
                    if !matches!(segments.last(), Some(Segment::Name(_))) {
                        return self.err(self.i, "an instance identifier must be followed by '.'");
                    }
                    break PathKind::Parameter;
                }
                Some(b'.') => {
                    self.i += 1;
                    if self.i == self.b.len() {
                        break PathKind::Object;
                    }
                }
                Some(b'(') => {
                    self.leaf_suffix(&segments, "()")?;
                    break PathKind::Command;
                }
                Some(b'!') => {
                    self.leaf_suffix(&segments, "!")?;
                    break PathKind::Event;
                }
                Some(b'+') | Some(b'#') => {
                    return self.err(self.i, "reference following ('+', '#') is not supported");
                }
                Some(_) => return self.err(self.i, self.describe_here()),
            }
        };
        if kind != PathKind::Object && segments.len() < 2 {
            return self.err(
                self.s.len(),
                "a path must end with '.' or name a parameter, command or event of an object",
            );
        }
        Ok(Path { segments, kind })
    }

    /// Instance identifiers may only follow an object name (BNF: `name '.' inst`).
    fn check_position(
        &self,
        before: &[Segment],
        seg: &Segment,
        at: usize,
    ) -> Result<(), PathError> {
        if matches!(seg, Segment::Name(_)) {
            return Ok(());
        }
        match before.last() {
            None => self.err(at, "a path must begin with a name such as 'Device'"),
            Some(Segment::Name(_)) => Ok(()),
            Some(_) => self.err(at, "two instance identifiers in a row"),
        }
    }

    fn leaf_suffix(&mut self, segments: &[Segment], suffix: &str) -> Result<(), PathError> {
        if !matches!(segments.last(), Some(Segment::Name(_))) {
            return self.err(
                self.i,
                format!("'{suffix}' must follow a command or event name"),
            );
        }
        if self.rest() != suffix {
            return self.err(self.i, format!("'{suffix}' must end the path"));
        }
        self.i = self.b.len();
        Ok(())
    }

    fn segment(&mut self) -> Result<Segment, PathError> {
        let start = self.i;
        match self.peek() {
            None => self.err(
                start,
                "empty path element ('..' or a trailing '.' missing a name)",
            ),
            Some(b'.') => self.err(start, "empty path element ('..')"),
            Some(b'*') => {
                self.i += 1;
                Ok(Segment::Wildcard)
            }
            Some(b'[') => self.expression(),
            Some(b'{') => {
                if self.supported && self.rest().starts_with("{i}") {
                    self.i += 3;
                    Ok(Segment::Wildcard)
                } else if self.rest().starts_with("{i}") {
                    self.err(start, "'{i}' is Supported Data Model notation; use an instance number, '*' or '[expression]'")
                } else {
                    self.err(
                        start,
                        "'{' is not valid in a path; search expressions use '[...]'",
                    )
                }
            }
            Some(c) if c.is_ascii_digit() => self.instance(),
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => Ok(Segment::Name(self.name())),
            Some(_) => self.err(start, self.describe_here()),
        }
    }

    fn name(&mut self) -> String {
        let start = self.i;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_') {
            self.i += 1;
        }
        self.s[start..self.i].to_string()
    }

    fn instance(&mut self) -> Result<Segment, PathError> {
        let start = self.i;
        while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
            self.i += 1;
        }
        let digits = &self.s[start..self.i];
        if digits.starts_with('0') {
            return self.err(
                start,
                "instance numbers are positive and have no leading zero",
            );
        }
        if matches!(self.peek(), Some(c) if c.is_ascii_alphabetic() || c == b'_') {
            return self.err(start, "a name must not start with a digit");
        }
        match digits.parse::<u32>() {
            Ok(n) => Ok(Segment::Instance(n)),
            Err(_) => self.err(start, "instance number is too large"),
        }
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn expression(&mut self) -> Result<Segment, PathError> {
        let open = self.i;
        self.i += 1; // '['
        let mut conds = Vec::new();
        loop {
            self.skip_spaces();
            if conds.is_empty() && self.peek() == Some(b']') {
                return self.err(open, "empty search expression '[]'");
            }
            let param = self.relpath()?;
            self.skip_spaces();
            let op = self.operator()?;
            self.skip_spaces();
            let value = self.constant()?;
            self.skip_spaces();
            conds.push(Condition { param, op, value });
            if self.rest().starts_with("&&") {
                self.i += 2;
            } else if self.peek() == Some(b']') {
                self.i += 1;
                return Ok(Segment::Search(conds));
            } else if self.peek().is_none() {
                return self.err(open, "unterminated search expression (missing ']')");
            } else if self.peek() == Some(b'|') {
                return self.err(
                    self.i,
                    "the OR operator is not supported in search expressions",
                );
            } else {
                return self.err(
                    self.i,
                    format!("{} in search expression", self.describe_here()),
                );
            }
        }
    }

    fn relpath(&mut self) -> Result<String, PathError> {
        let start = self.i;
        loop {
            if !matches!(self.peek(), Some(c) if c.is_ascii_alphabetic() || c == b'_') {
                return self.err(self.i, "expected a parameter name in search expression");
            }
            self.name();
            match self.peek() {
                Some(b'.') => {
                    self.i += 1;
                    if matches!(self.peek(), Some(c) if c.is_ascii_digit() || c == b'*' || c == b'[')
                    {
                        return self.err(
                            self.i,
                            "a search expression must not descend into a child table",
                        );
                    }
                }
                Some(b'+') | Some(b'#') => {
                    return self.err(self.i, "reference following ('+', '#') is not supported");
                }
                _ => return Ok(self.s[start..self.i].to_string()),
            }
        }
    }

    fn operator(&mut self) -> Result<Op, PathError> {
        let two = [
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("~=", Op::Contains),
            ("<=", Op::Le),
            (">=", Op::Ge),
        ];
        for (text, op) in two {
            if self.rest().starts_with(text) {
                self.i += 2;
                return Ok(op);
            }
        }
        match self.peek() {
            Some(b'<') => {
                self.i += 1;
                Ok(Op::Lt)
            }
            Some(b'>') => {
                self.i += 1;
                Ok(Op::Gt)
            }
            Some(b'=') => self.err(self.i, "'=' is not an operator; use '=='"),
            _ => self.err(self.i, "expected an operator (==, !=, ~=, <, >, <=, >=)"),
        }
    }

    fn constant(&mut self) -> Result<String, PathError> {
        let start = self.i;
        if self.peek() == Some(b'"') {
            self.i += 1;
            let body_start = self.i;
            while let Some(c) = self.peek() {
                if c == b'"' {
                    let body = &self.s[body_start..self.i];
                    self.i += 1;
                    return Ok(body.replace("%22", "\"").replace("%25", "%"));
                }
                self.i += 1;
            }
            return self.err(start, "unterminated string constant (missing '\"')");
        }
        while let Some(c) = self.peek() {
            if matches!(c, b']' | b'"' | b' ' | b'\t' | b'|') || self.b[self.i..].starts_with(b"&&")
            {
                break;
            }
            self.i += 1;
        }
        if self.i == start {
            return self.err(start, "expected a constant after the operator");
        }
        Ok(self.s[start..self.i].to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str) -> Segment {
        Segment::Name(n.to_string())
    }

    fn cond(p: &str, op: Op, v: &str) -> Condition {
        Condition {
            param: p.to_string(),
            op,
            value: v.to_string(),
        }
    }

    #[test]
    fn object_and_instance_paths() {
        let p = parse("Device.LocalAgent.Subscription.3.").unwrap();
        assert_eq!(p.kind, PathKind::Object);
        assert_eq!(
            p.segments,
            vec![
                name("Device"),
                name("LocalAgent"),
                name("Subscription"),
                Segment::Instance(3)
            ]
        );
        assert!(p.is_instantiated());
        assert_eq!(p.leaf_name(), None);
        assert_eq!(p.object_segments().len(), 4);
    }

    #[test]
    fn parameter_command_event_paths() {
        let p = parse("Device.LocalAgent.EndpointID").unwrap();
        assert_eq!(p.kind, PathKind::Parameter);
        assert_eq!(p.leaf_name(), Some("EndpointID"));
        assert_eq!(p.object_segments(), &[name("Device"), name("LocalAgent")]);
        let c = parse("Device.LocalAgent.Controller.1.SendOnBoardRequest()").unwrap();
        assert_eq!(c.kind, PathKind::Command);
        assert_eq!(c.leaf_name(), Some("SendOnBoardRequest"));
        let e = parse("Device.Boot!").unwrap();
        assert_eq!(e.kind, PathKind::Event);
        assert_eq!(e.leaf_name(), Some("Boot"));
    }

    #[test]
    fn wildcard_and_search_expressions() {
        let p = parse("Device.LocalAgent.Subscription.*.Enable").unwrap();
        assert_eq!(p.segments[3], Segment::Wildcard);
        assert!(p.is_search());
        let p = parse(r#"Device.WiFi.SSID.[SSID=="Home"&&BSSID!="00:11"].Status"#).unwrap();
        assert_eq!(
            p.segments[3],
            Segment::Search(vec![
                cond("SSID", Op::Eq, "Home"),
                cond("BSSID", Op::Ne, "00:11")
            ])
        );
        for (text, op) in [
            ("<", Op::Lt),
            (">", Op::Gt),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("~=", Op::Contains),
        ] {
            let p = parse(&format!("Device.A.[N{text}10].")).unwrap();
            assert_eq!(p.segments[2], Segment::Search(vec![cond("N", op, "10")]));
        }
    }

    #[test]
    fn expression_constants_and_whitespace() {
        let p = parse(r#"Device.A.[ Enable == true && Stats.ErrorsSent>0 ].X"#).unwrap();
        assert_eq!(
            p.segments[2],
            Segment::Search(vec![
                cond("Enable", Op::Eq, "true"),
                cond("Stats.ErrorsSent", Op::Gt, "0")
            ])
        );
        let p = parse(r#"Device.A.[V<2021-06-06T08:00:00Z]."#).unwrap();
        assert_eq!(
            p.segments[2],
            Segment::Search(vec![cond("V", Op::Lt, "2021-06-06T08:00:00Z")])
        );
        let p = parse(r#"Device.A.[Name=="a%22b%25c.d]"].X"#).unwrap();
        assert_eq!(
            p.segments[2],
            Segment::Search(vec![cond("Name", Op::Eq, "a\"b%c.d]")])
        );
        let p = parse(r#"Device.A.[Name==""]."#).unwrap();
        assert_eq!(
            p.segments[2],
            Segment::Search(vec![cond("Name", Op::Eq, "")])
        );
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "Device.",
            "Device.LocalAgent.Subscription.*.",
            "Device.LocalAgent.Subscription.12.NotifRetry",
            r#"Device.LocalAgent.Controller.[EndpointID=="proto::x"&&Alias=="cpe-1"].BootParameter."#,
            "Device.LocalAgent.Subscription.[NotifExpiration>=10].",
            "Device.ScheduleTimer()",
            "Device.Boot!",
            r#"Device.A.[Name=="a%22b%25"]."#,
        ] {
            assert_eq!(parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn rejects_malformed_paths_with_reasons() {
        let cases = [
            ("", "empty path"),
            ("Device", "must end with '.'"),
            ("Device..A", "empty path element"),
            ("1.Device.", "must begin with a name"),
            ("Device.A.0.", "positive"),
            ("Device.A.01.", "leading zero"),
            ("Device.A.99999999999.", "too large"),
            ("Device.A.1.2.", "two instance identifiers"),
            ("Device.A.[].", "empty search expression"),
            ("Device.A.[X==1", "missing ']'"),
            ("Device.A.[X=1].", "use '=='"),
            ("Device.A.[X==\"1].", "unterminated string"),
            ("Device.A.[X==1||Y==2].", "OR operator"),
            ("Device.A.[B.*.C==1].", "child table"),
            ("Device.A.{i}.", "Supported Data Model notation"),
            ("Device.A.{Type==1}.", "'[...]'"),
            ("Device.A.1", "followed by '.'"),
            ("Device.A.X+.Name", "reference following"),
            ("Device.Reboot()x", "must end the path"),
            ("Device.A.1()", "must follow a command"),
            ("Device.Ä.", "unexpected character"),
            ("Device.A.[X==].", "expected a constant"),
            ("Device.A.[==1].", "expected a parameter name"),
        ];
        for (input, reason) in cases {
            let e = parse(input).expect_err(input);
            let msg = e.to_string();
            assert!(msg.contains(reason), "{input:?}: {msg}");
        }
    }

    #[test]
    fn supported_notation() {
        let p = parse_supported("Device.LocalAgent.Controller.{i}.BootParameter.{i}.").unwrap();
        assert_eq!(p.segments[3], Segment::Wildcard);
        assert_eq!(p.segments[5], Segment::Wildcard);
        assert!(parse_supported("Device.LocalAgent.Subscription").is_ok());
    }

    #[test]
    fn instantiated_helpers() {
        assert!(is_instantiated_object_path(
            "Device.LocalAgent.Subscription.3."
        ));
        assert!(is_instantiated_object_path("Device."));
        assert!(!is_instantiated_object_path(
            "Device.LocalAgent.Subscription.*."
        ));
        assert!(!is_instantiated_object_path(
            r#"Device.LocalAgent.Subscription.[ID=="x"]."#
        ));
        assert!(!is_instantiated_object_path("Device.LocalAgent.EndpointID"));
        assert!(!is_instantiated_object_path("Other.LocalAgent."));
        assert!(!is_instantiated_object_path("garbage"));
        assert!(is_instantiated_param_path(
            "Device.LocalAgent.Subscription.3.Enable"
        ));
        assert!(!is_instantiated_param_path(
            "Device.LocalAgent.Subscription.*.Enable"
        ));
        assert!(!is_instantiated_param_path("Device.LocalAgent."));
        assert!(is_instantiated_path(
            "Device.ScheduleTimer()",
            PathKind::Command
        ));
    }

    #[test]
    fn never_panics_on_odd_input() {
        let long = "Device.".repeat(10_000);
        assert!(parse(&long).is_ok());
        let inputs = [
            "[",
            "]",
            ".",
            "..",
            "*",
            "Device.*",
            "Device.[",
            "Device.A.[\"",
            "Device.A.[X==\"ä\"].",
            "Device.A.[X~=ä].",
            "\u{0}",
            "Device.A.4294967295.",
            "Device.A.4294967296.",
            "Device.!",
            "Device.()",
            "Device.A.*()",
            "Device.A.[X==1]!",
            "Device.A.[X==1&&",
        ];
        for s in inputs {
            let _ = parse(s);
            let _ = parse_supported(s);
        }
        assert_eq!(
            parse("Device.A.4294967295.").unwrap().segments[2],
            Segment::Instance(u32::MAX)
        );
        assert_eq!(
            parse(r#"Device.A.[X=="ä"]."#).unwrap().segments[2],
            Segment::Search(vec![cond("X", Op::Eq, "ä")])
        );
    }
}
