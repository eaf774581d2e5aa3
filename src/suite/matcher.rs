//! Expectations as typed matchers: partial structural matches on decoded messages, with
//! captures, sets, regexes, counts and comparisons (the operator table is in
//! `docs/case-format.md`). They are compiled when a case loads (`compile.rs`): operators are
//! an enum, regexes are compiled once, bounds are numbers, and every node knows its line
//! and column. A mismatch says where, what was expected and what was there.

use std::fmt;

use regex::Regex;
use serde_json::Value;

use super::node::Pos;
use super::vars::{Template, Unset, Vars};

/// One node of an expectation.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub at: Pos,
    pub kind: Kind,
    /// A scalar's or an operator mapping's text as written, for messages; null for a
    /// mapping of fields or a list, whose text is made from their children
    /// ([`Matcher::written`]).
    pub src: Value,
}

#[derive(Debug, Clone)]
pub enum Kind {
    /// A mapping: each field present (its value matching), others may be present too.
    Fields(Vec<Field>),
    /// A list of exactly these elements, in order.
    List(Vec<Matcher>),
    /// A scalar with this text.
    Equals(Template),
    /// Every operator holds.
    Ops(Vec<Op>),
}

#[derive(Debug, Clone)]
pub struct Field {
    pub key: Template,
    pub matcher: Matcher,
}

/// How a number is compared to a bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Gt,
    Ge,
    Lt,
    Le,
}

impl Cmp {
    fn holds(self, n: f64, bound: f64) -> bool {
        match self {
            Cmp::Gt => n > bound,
            Cmp::Ge => n >= bound,
            Cmp::Lt => n < bound,
            Cmp::Le => n <= bound,
        }
    }
    fn symbol(self) -> &'static str {
        match self {
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
        }
    }
}

/// A bound: a number, or a variable's value (checked to be a number when it is used).
#[derive(Debug, Clone)]
pub enum Bound {
    Fixed(f64),
    Var(Template),
}

/// A regular expression, compiled when the case loads; one that uses variables is compiled
/// when it is used, with the variables' values as literal text.
#[derive(Debug, Clone)]
pub enum Pattern {
    Fixed(Regex),
    Template(Template),
}

/// How a size is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeOp {
    Exactly,
    AtLeast,
    AtMost,
}

/// An operator (a mapping whose keys are all operator names).
#[derive(Debug, Clone)]
pub enum Op {
    Capture(String),
    AnyOf(Vec<Template>),
    Regex(Pattern),
    Compare(Cmp, Bound),
    /// `absent: true` (missing or at its default) or `absent: false` (present).
    Absent(bool),
    NotEmpty,
    Size(SizeOp, usize),
    Keys(Vec<Template>),
    /// A scalar whose text is one of the instance paths a `snapshot` step recorded.
    InSnapshot(String),
    /// A list that holds every instance path of a snapshot: as an element, or as the
    /// element's `field` (`resolved_path`).
    CoversSnapshot {
        snapshot: String,
        field: Option<String>,
    },
    /// When the variable's value matches `matches`, the value must match `then`; otherwise
    /// anything does (a metric that applies only to some EUTs, e.g. TP-469 11.1's
    /// MessageRetryTime for EUTs that also speak MQTT 3.1.1).
    IfVar {
        var: String,
        matches: Box<Matcher>,
        then: Box<Matcher>,
    },
    /// Every key of a map matches.
    EachKey(Box<Matcher>),
    Unordered(Vec<Matcher>),
    Contains(Vec<Matcher>),
    Each(Box<Matcher>),
    NoneOf(Box<Matcher>),
    Any(Vec<Matcher>),
    All(Vec<Matcher>),
    Not(Box<Matcher>),
}

/// The operator names, as written in case files.
pub const OPERATORS: &[&str] = &[
    "capture",
    "any_of",
    "regex",
    "gt",
    "ge",
    "lt",
    "le",
    "absent",
    "not_empty",
    "len",
    "min_len",
    "max_len",
    "keys",
    "in_snapshot",
    "covers_snapshot",
    "if_var",
    "each_key",
    "unordered",
    "contains",
    "each",
    "none",
    "any",
    "all",
    "not",
];

/// Whether `key` is an operator name.
pub fn is_operator_name(key: &str) -> bool {
    OPERATORS.contains(&key)
}

/// Where and how an expectation was not met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The path into the message (`add_resp.created_obj_results[0].oper_status`).
    pub at: String,
    pub expected: String,
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "at {}: expected {}, actual {}",
            if self.at.is_empty() {
                "(top)"
            } else {
                &self.at
            },
            self.expected,
            self.actual
        )
    }
}

/// Why a match did not succeed: the value did not match (the agent's doing), or the
/// expectation could not be evaluated (the case's or the harness's).
#[derive(Debug, Clone)]
pub enum MatchError {
    Mismatch(Mismatch),
    Unset(Unset),
}

impl fmt::Display for MatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MatchError::Mismatch(m) => m.fmt(f),
            MatchError::Unset(u) => u.fmt(f),
        }
    }
}

impl From<Unset> for MatchError {
    fn from(u: Unset) -> MatchError {
        MatchError::Unset(u)
    }
}

/// Compact text of a value for messages, cut to a readable length.
pub fn show(v: Option<&Value>) -> String {
    match v {
        None => "(missing)".into(),
        // Written no further than it is shown: the value can be a whole answer of megabytes.
        Some(v) => crate::clip::json_head(v, 400),
    }
}

/// The text a scalar is compared by.
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

fn is_default(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

fn size(v: &Value) -> Option<usize> {
    match v {
        Value::Array(a) => Some(a.len()),
        Value::Object(o) => Some(o.len()),
        Value::String(s) => Some(s.chars().count()),
        _ => None,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn miss(at: &str, expected: impl Into<String>, actual: Option<&Value>) -> MatchError {
    MatchError::Mismatch(Mismatch {
        at: at.into(),
        expected: expected.into(),
        actual: show(actual),
    })
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

impl Matcher {
    /// Matches `actual`, storing captures in `vars` only if the whole match succeeds.
    pub fn check(&self, actual: &Value, vars: &mut Vars) -> Result<(), MatchError> {
        let mut scratch = vars.clone();
        self.m(Some(actual), "", &mut scratch)?;
        *vars = scratch;
        Ok(())
    }

    /// Whether it matches, without keeping captures. An expectation that cannot be
    /// evaluated matches nothing; callers check [`Matcher::unset`] first.
    pub fn matches(&self, actual: &Value, vars: &Vars) -> bool {
        self.m(Some(actual), "", &mut vars.clone()).is_ok()
    }

    /// The variables it uses that are neither set in `vars` nor captured by itself: the
    /// first of them, as an error, if any.
    pub fn unset(&self, vars: &Vars) -> Result<(), Unset> {
        let mut captured = Vec::new();
        self.walk(&mut |m| {
            if let Kind::Ops(ops) = &m.kind {
                for op in ops {
                    if let Op::Capture(n) = op {
                        captured.push(n.clone());
                    }
                }
            }
        });
        let mut used = Vec::new();
        self.walk(&mut |m| used.extend(m.own_vars()));
        for name in used {
            if vars.get(&name).is_none() && !captured.contains(&name) {
                return Err(Unset {
                    name,
                    known: vars.0.keys().cloned().collect(),
                });
            }
        }
        Ok(())
    }

    /// The names it captures, anywhere inside.
    pub fn captures(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.kept_captures(&mut out);
        out
    }

    /// Captures that survive a successful match: those inside `any`, `not`, `none` and
    /// `if_var` are dropped (which branch matched is not known), so later steps cannot use
    /// them.
    fn kept_captures(&self, out: &mut Vec<String>) {
        match &self.kind {
            Kind::Fields(fields) => fields.iter().for_each(|f| f.matcher.kept_captures(out)),
            Kind::List(items) => items.iter().for_each(|m| m.kept_captures(out)),
            Kind::Equals(_) => {}
            Kind::Ops(ops) => {
                for op in ops {
                    match op {
                        Op::Capture(n) => out.push(n.clone()),
                        Op::EachKey(m) | Op::Each(m) => m.kept_captures(out),
                        Op::Unordered(ms) | Op::Contains(ms) | Op::All(ms) => {
                            ms.iter().for_each(|m| m.kept_captures(out))
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    /// The variables it uses, anywhere inside.
    pub fn vars(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.walk(&mut |m| out.extend(m.own_vars()));
        out
    }

    /// The one field of a mapping of one literal field (`get_resp` in `{get_resp: …}`).
    pub fn single_field(&self) -> Option<(&str, &Matcher)> {
        match &self.kind {
            Kind::Fields(f) if f.len() == 1 => f[0].key.literal().map(|k| (k, &f[0].matcher)),
            _ => None,
        }
    }

    /// The expectation as written.
    pub fn written(&self) -> Value {
        match &self.kind {
            Kind::Fields(fs) => Value::Object(
                fs.iter()
                    .map(|f| (f.key.to_string(), f.matcher.written()))
                    .collect(),
            ),
            Kind::List(ms) => Value::Array(ms.iter().map(Matcher::written).collect()),
            Kind::Equals(_) | Kind::Ops(_) => self.src.clone(),
        }
    }

    /// The expectation as written, with the variables it uses filled in where known and
    /// named beside their values.
    pub fn show(&self, vars: &Vars) -> String {
        let filled = fill(&self.written(), vars);
        let mut s = show(Some(&filled));
        let mut named: Vec<String> = Vec::new();
        for v in self.vars() {
            if let Some(val) = vars.get(&v) {
                let n = format!("${{{v}}} = {val:?}");
                if !named.contains(&n) {
                    named.push(n);
                }
            }
        }
        if !named.is_empty() {
            s.push_str(&format!(" (where {})", named.join(", ")));
        }
        s
    }

    fn own_vars(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut add = |t: &Template| out.extend(t.vars().map(str::to_string));
        match &self.kind {
            Kind::Fields(fields) => fields.iter().for_each(|f| add(&f.key)),
            Kind::Equals(t) => add(t),
            Kind::List(_) => {}
            Kind::Ops(ops) => {
                for op in ops {
                    match op {
                        Op::AnyOf(ts) | Op::Keys(ts) => ts.iter().for_each(&mut add),
                        Op::Regex(Pattern::Template(t)) | Op::Compare(_, Bound::Var(t)) => add(t),
                        Op::InSnapshot(n)
                        | Op::IfVar { var: n, .. }
                        | Op::CoversSnapshot { snapshot: n, .. } => add(&Template::var(n)),
                        _ => {}
                    }
                }
            }
        }
        out
    }

    fn walk(&self, f: &mut impl FnMut(&Matcher)) {
        f(self);
        match &self.kind {
            Kind::Fields(fields) => fields.iter().for_each(|x| x.matcher.walk(f)),
            Kind::List(items) => items.iter().for_each(|x| x.walk(f)),
            Kind::Equals(_) => {}
            Kind::Ops(ops) => {
                for op in ops {
                    match op {
                        Op::EachKey(m) | Op::Each(m) | Op::NoneOf(m) | Op::Not(m) => m.walk(f),
                        Op::IfVar { matches, then, .. } => {
                            matches.walk(f);
                            then.walk(f);
                        }
                        Op::Unordered(ms) | Op::Contains(ms) | Op::Any(ms) | Op::All(ms) => {
                            ms.iter().for_each(|x| x.walk(f))
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    /// Whether a missing field satisfies it (only `absent: true` does).
    fn accepts_missing(&self) -> bool {
        matches!(&self.kind, Kind::Ops(ops) if ops.iter().any(|o| matches!(o, Op::Absent(true))))
    }

    fn m(&self, act: Option<&Value>, at: &str, vars: &mut Vars) -> Result<(), MatchError> {
        match &self.kind {
            Kind::Ops(ops) => {
                for op in ops {
                    self.op(op, act, at, vars)?;
                }
                Ok(())
            }
            Kind::Fields(fields) => {
                let Some(Value::Object(actual)) = act else {
                    return Err(miss(at, "a message or map", act));
                };
                for f in fields {
                    let key = f.key.render(vars)?;
                    let here = join(at, &key);
                    match actual.get(&key) {
                        Some(a) => f.matcher.m(Some(a), &here, vars)?,
                        None if f.matcher.accepts_missing() => {}
                        None => {
                            let keys: Vec<&String> = actual.keys().collect();
                            return Err(MatchError::Mismatch(Mismatch {
                                at: here,
                                expected: format!(
                                    "field '{key}' present ({})",
                                    f.matcher.show(vars)
                                ),
                                actual: format!("(missing; present: {keys:?})"),
                            }));
                        }
                    }
                }
                Ok(())
            }
            Kind::List(items) => {
                let Some(Value::Array(actual)) = act else {
                    return Err(miss(at, "a list", act));
                };
                if items.len() != actual.len() {
                    return Err(miss(
                        at,
                        format!("a list of {} element(s) {}", items.len(), self.show(vars)),
                        act,
                    ));
                }
                for (i, (e, a)) in items.iter().zip(actual).enumerate() {
                    e.m(Some(a), &format!("{at}[{i}]"), vars)?;
                }
                Ok(())
            }
            Kind::Equals(t) => {
                let want = t.render(vars)?;
                match act.and_then(text) {
                    Some(got) if got == want => Ok(()),
                    _ => Err(miss(at, format!("{want:?}"), act)),
                }
            }
        }
    }

    fn op(
        &self,
        op: &Op,
        act: Option<&Value>,
        at: &str,
        vars: &mut Vars,
    ) -> Result<(), MatchError> {
        match op {
            Op::Capture(name) => {
                let a = act.ok_or_else(|| miss(at, "a value to capture", act))?;
                vars.set(name.clone(), text(a).unwrap_or_else(|| a.to_string()));
                Ok(())
            }
            Op::AnyOf(options) => {
                let got = act.and_then(text);
                for o in options {
                    if got.as_deref() == Some(o.render(vars)?.as_str()) {
                        return Ok(());
                    }
                }
                let shown: Vec<String> = options
                    .iter()
                    .map(|o| o.render(vars).unwrap_or_else(|_| o.to_string()))
                    .collect();
                Err(miss(at, format!("one of {shown:?}"), act))
            }
            Op::Regex(p) => {
                let (re, shown) = match p {
                    Pattern::Fixed(re) => (re.clone(), re.as_str().to_string()),
                    Pattern::Template(t) => {
                        let src = t.render_with(vars, regex::escape)?;
                        let re = Regex::new(&src).map_err(|e| {
                            miss(at, format!("a valid regular expression ({e})"), act)
                        })?;
                        (re, src)
                    }
                };
                match act.and_then(text) {
                    Some(t) if re.is_match(&t) => Ok(()),
                    _ => Err(miss(at, format!("text matching /{shown}/"), act)),
                }
            }
            Op::Compare(cmp, bound) => {
                let b = match bound {
                    Bound::Fixed(b) => *b,
                    Bound::Var(t) => {
                        let s = t.render(vars)?;
                        s.trim().parse().map_err(|_| {
                            miss(
                                at,
                                format!("{} {t} (= {s:?}, not a number)", cmp.symbol()),
                                act,
                            )
                        })?
                    }
                };
                let ok = act.and_then(number).is_some_and(|n| cmp.holds(n, b));
                ok.then_some(())
                    .ok_or_else(|| miss(at, format!("a number {} {b}", cmp.symbol()), act))
            }
            Op::Absent(want_absent) => {
                let is_absent = act.is_none_or(is_default);
                (is_absent == *want_absent).then_some(()).ok_or_else(|| {
                    miss(
                        at,
                        if *want_absent {
                            "absent or empty"
                        } else {
                            "present"
                        },
                        act,
                    )
                })
            }
            Op::NotEmpty => act
                .filter(|a| !is_default(a))
                .map(|_| ())
                .ok_or_else(|| miss(at, "a non-empty value", act)),
            Op::Size(how, n) => {
                let ok = act.and_then(size).is_some_and(|g| match how {
                    SizeOp::Exactly => g == *n,
                    SizeOp::AtLeast => g >= *n,
                    SizeOp::AtMost => g <= *n,
                });
                let what = match how {
                    SizeOp::Exactly => format!("exactly {n} element(s)"),
                    SizeOp::AtLeast => format!("at least {n} element(s)"),
                    SizeOp::AtMost => format!("at most {n} element(s)"),
                };
                ok.then_some(()).ok_or_else(|| miss(at, what, act))
            }
            Op::Keys(keys) => {
                let mut want: Vec<String> = keys
                    .iter()
                    .map(|k| k.render(vars))
                    .collect::<Result<_, _>>()?;
                want.sort();
                let mut got: Vec<String> = match act {
                    Some(Value::Object(o)) => o.keys().cloned().collect(),
                    _ => return Err(miss(at, format!("a map with keys {want:?}"), act)),
                };
                got.sort();
                (want == got)
                    .then_some(())
                    .ok_or_else(|| miss(at, format!("exactly the keys {want:?}"), act))
            }
            Op::InSnapshot(name) => {
                let set: Vec<String> = serde_json::from_str(vars.need(name)?).unwrap_or_default();
                match act.and_then(text) {
                    Some(t) if set.contains(&t) => Ok(()),
                    _ => Err(miss(
                        at,
                        format!("one of the instances of snapshot '{name}' {set:?}"),
                        act,
                    )),
                }
            }
            Op::CoversSnapshot { snapshot, field } => {
                let Some(Value::Array(items)) = act else {
                    return Err(miss(at, "a list", act));
                };
                let set: Vec<String> =
                    serde_json::from_str(vars.need(snapshot)?).unwrap_or_default();
                let present: Vec<String> = items
                    .iter()
                    .filter_map(|i| match field {
                        Some(f) => i.get(f).and_then(text),
                        None => text(i),
                    })
                    .collect();
                let missing: Vec<&String> = set.iter().filter(|p| !present.contains(p)).collect();
                if missing.is_empty() {
                    Ok(())
                } else {
                    Err(miss(
                        at,
                        format!(
                            "every instance of snapshot '{snapshot}'{}; missing: {missing:?}",
                            field
                                .as_ref()
                                .map(|f| format!(" as a `{f}`"))
                                .unwrap_or_default()
                        ),
                        act,
                    ))
                }
            }
            Op::IfVar { var, matches, then } => {
                let value = Value::String(vars.need(var)?.to_string());
                match matches.m(Some(&value), "", &mut vars.clone()) {
                    Ok(()) => then.m(act, at, vars).map_err(|e| match e {
                        MatchError::Mismatch(mm) => MatchError::Mismatch(Mismatch {
                            expected: format!(
                                "{} (because ${{{var}}} = {value} matches {})",
                                mm.expected,
                                matches.show(vars)
                            ),
                            ..mm
                        }),
                        other => other,
                    }),
                    Err(MatchError::Unset(u)) => Err(u.into()),
                    Err(MatchError::Mismatch(_)) => Ok(()),
                }
            }
            Op::EachKey(m) => {
                let Some(Value::Object(o)) = act else {
                    return Err(miss(at, "a map", act));
                };
                for k in o.keys() {
                    let key = Value::String(k.clone());
                    m.m(Some(&key), &format!("{at} key {k:?}"), vars)?;
                }
                Ok(())
            }
            Op::Unordered(wanted) | Op::Contains(wanted) => {
                let name = if matches!(op, Op::Unordered(_)) {
                    "unordered"
                } else {
                    "contains"
                };
                let Some(Value::Array(actual)) = act else {
                    return Err(miss(at, "a list", act));
                };
                if matches!(op, Op::Unordered(_)) && wanted.len() != actual.len() {
                    return Err(miss(
                        at,
                        format!("a list of {} element(s), in any order", wanted.len()),
                        act,
                    ));
                }
                self.assign(wanted, actual, name, at, vars)
            }
            Op::Each(m) => {
                let Some(Value::Array(actual)) = act else {
                    return Err(miss(at, "a list", act));
                };
                for (i, a) in actual.iter().enumerate() {
                    m.m(Some(a), &format!("{at}[{i}]"), vars)?;
                }
                Ok(())
            }
            Op::NoneOf(m) => {
                let Some(Value::Array(actual)) = act else {
                    return Err(miss(at, "a list", act));
                };
                for (i, a) in actual.iter().enumerate() {
                    match m.m(Some(a), "", &mut vars.clone()) {
                        Ok(()) => {
                            return Err(miss(
                                &format!("{at}[{i}]"),
                                format!("no element matching {}", m.show(vars)),
                                Some(a),
                            ));
                        }
                        Err(MatchError::Unset(u)) => return Err(u.into()),
                        Err(MatchError::Mismatch(_)) => {}
                    }
                }
                Ok(())
            }
            Op::Any(options) => {
                let mut reasons = Vec::new();
                for o in options {
                    match o.m(act, at, &mut vars.clone()) {
                        Ok(()) => return Ok(()),
                        Err(MatchError::Unset(u)) => return Err(u.into()),
                        Err(e) => reasons.push(e.to_string()),
                    }
                }
                Err(miss(
                    at,
                    format!("any of {} [{}]", self.show(vars), reasons.join(" | ")),
                    act,
                ))
            }
            Op::All(ms) => {
                for m in ms {
                    m.m(act, at, vars)?;
                }
                Ok(())
            }
            Op::Not(m) => match m.m(act, at, &mut vars.clone()) {
                Ok(()) => Err(miss(at, format!("not {}", m.show(vars)), act)),
                Err(MatchError::Unset(u)) => Err(u.into()),
                Err(MatchError::Mismatch(_)) => Ok(()),
            },
        }
    }

    /// `contains`/`unordered`: each matcher takes a different element. Every matcher that
    /// finds none is named, with why its nearest candidate failed.
    fn assign(
        &self,
        wanted: &[Matcher],
        actual: &[Value],
        name: &str,
        at: &str,
        vars: &mut Vars,
    ) -> Result<(), MatchError> {
        let mut used = vec![false; actual.len()];
        let mut missing = Vec::new();
        for (wi, w) in wanted.iter().enumerate() {
            let mut found = false;
            for (ai, a) in actual.iter().enumerate() {
                if used[ai] {
                    continue;
                }
                let mut trial = vars.clone();
                match w.m(Some(a), &format!("{at}[{ai}]"), &mut trial) {
                    Ok(()) => {
                        *vars = trial;
                        used[ai] = true;
                        found = true;
                        break;
                    }
                    Err(MatchError::Unset(u)) => return Err(u.into()),
                    Err(MatchError::Mismatch(_)) => {}
                }
            }
            if !found {
                let why = actual
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !used[*i])
                    .map(|(i, a)| w.m(Some(a), &format!("{at}[{i}]"), &mut vars.clone()))
                    .find_map(Result::err)
                    .map(|e| format!(" (nearest: {e})"))
                    .unwrap_or_default();
                missing.push(format!(
                    "an element matching {} (item {wi} of `{name}`){why}",
                    w.show(vars)
                ));
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        Err(MatchError::Mismatch(Mismatch {
            at: at.into(),
            expected: missing.join("; and "),
            actual: crate::clip::json_head(&actual, 400),
        }))
    }
}

/// `src` with every variable that is set filled in (others left as written).
fn fill(src: &Value, vars: &Vars) -> Value {
    match src {
        Value::String(s) => Value::String(vars.interpolate(s).unwrap_or_else(|_| s.clone())),
        Value::Array(a) => Value::Array(a.iter().map(|x| fill(x, vars)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| {
                    (
                        vars.interpolate(k).unwrap_or_else(|_| k.clone()),
                        fill(x, vars),
                    )
                })
                .collect(),
        ),
        other => other.clone(),
    }
}
