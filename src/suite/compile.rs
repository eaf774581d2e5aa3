//! Compiling expectations when a case loads: a positioned YAML tree and the shape of what
//! it will be matched against become a typed [`Matcher`]. Everything that can be known
//! before the run is checked here, each problem at its line and column: operator names
//! (with a suggestion for a misspelt one), regexes, numeric bounds, sizes, field names
//! against the message descriptors, enum values, and `${variables}` against the captures of
//! earlier steps and the profile's names.

use regex::Regex;

use super::matcher::{
    Bound, Cmp, Field, Kind, MatchError, Matcher, OPERATORS, Op, Pattern, SizeOp,
};
use super::node::{Key, Node, NodeKind, Pos};
use super::shape::{PACKET_KINDS, Scalar, Shape};
use super::vars::{Template, Vars, is_profile_var};
use crate::mtp::mqtt::Version;

/// A problem in an expectation, where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub at: Pos,
    pub message: String,
}

type R<T> = Result<T, CompileError>;

/// A compiled regex, shared by every case that writes the same pattern: the suite repeats a
/// few patterns a hundred times, and each compiled copy costs tens of kilobytes (Unicode
/// classes), which made regexes the largest part of the memory a loaded suite holds.
fn shared_regex(src: &str) -> Result<Regex, regex::Error> {
    static SEEN: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, Regex>>> =
        std::sync::LazyLock::new(Default::default);
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(re) = seen.get(src) {
        return Ok(re.clone());
    }
    let re = Regex::new(src)?;
    seen.insert(src.to_string(), re.clone());
    Ok(re)
}

fn err<T>(at: Pos, message: impl Into<String>) -> R<T> {
    Err(CompileError {
        at,
        message: message.into(),
    })
}

/// The variables a step may use: the profile's, and those captured by earlier steps.
pub struct Scope<'a> {
    pub captured: &'a [String],
}

impl Scope<'_> {
    /// Checks every `${name}` of `t` (written at `at`); `own` are the names the same
    /// expectation captures.
    pub fn check(&self, t: &Template, at: Pos, own: &[String]) -> R<()> {
        for v in t.vars() {
            if !is_profile_var(v)
                && !self.captured.iter().any(|c| c == v)
                && !own.iter().any(|c| c == v)
            {
                let hint = if v.contains('.') {
                    format!(
                        "; the profile gives {} and alt.NAME",
                        super::vars::PROFILE_VARS.join(", ")
                    )
                } else if self.captured.is_empty() {
                    "; no earlier step captures anything".to_string()
                } else {
                    format!("; earlier steps capture: {}", self.captured.join(", "))
                };
                return err(
                    at,
                    format!(
                        "variable ${{{v}}} is neither captured by an earlier step nor given by the profile{hint}"
                    ),
                );
            }
        }
        Ok(())
    }
}

/// Parses a string into a template, with its variables checked.
pub fn template(text: &str, at: Pos, scope: &Scope, own: &[String]) -> R<Template> {
    let t = Template::parse(text).or_else(|e| err(at, e))?;
    scope.check(&t, at, own)?;
    Ok(t)
}

/// Compiles `node` for a value of `shape`.
pub fn compile(node: &Node, shape: &Shape, scope: &Scope) -> R<Matcher> {
    let own = captures_in(node);
    let c = Compiler { scope, own: &own };
    c.node(node, shape)
}

/// An `await_packet` / `expect_no_packet` expectation: the packet's kind (and direction),
/// what every packet of it must match, and what only 5.0 or only 3.1.1 packets must.
#[derive(Debug, Clone)]
pub struct PacketExpect {
    pub kind: String,
    pub dir: Option<String>,
    pub common: Matcher,
    pub v5: Option<Matcher>,
    pub v311: Option<Matcher>,
}

impl PacketExpect {
    /// The matchers a packet of `version` must satisfy, in order.
    pub fn for_version(&self, version: Option<Version>) -> Vec<&Matcher> {
        let own = match version {
            Some(Version::V5) => self.v5.as_ref(),
            Some(Version::V311) => self.v311.as_ref(),
            None => None,
        };
        std::iter::once(&self.common).chain(own).collect()
    }

    /// All its matchers.
    pub fn all(&self) -> impl Iterator<Item = &Matcher> {
        std::iter::once(&self.common)
            .chain(self.v5.as_ref())
            .chain(self.v311.as_ref())
    }

    /// Matches a packet tree of `version`, keeping captures only if all of it matches.
    pub fn check(
        &self,
        version: Option<Version>,
        tree: &serde_json::Value,
        vars: &mut Vars,
    ) -> Result<(), MatchError> {
        let mut scratch = vars.clone();
        for m in self.for_version(version) {
            m.check(tree, &mut scratch)?;
        }
        *vars = scratch;
        Ok(())
    }

    /// Whether a packet tree of `version` matches (captures not kept).
    pub fn matches(&self, version: Option<Version>, tree: &serde_json::Value, vars: &Vars) -> bool {
        self.check(version, tree, &mut vars.clone()).is_ok()
    }

    /// The expectation as written, variables filled in.
    pub fn show(&self, vars: &Vars) -> String {
        self.all()
            .map(|m| m.show(vars))
            .collect::<Vec<_>>()
            .join(" and ")
    }
}

/// Compiles a packet expectation (a mapping with `kind`, and `if_5_0` / `if_3_1_1`).
pub fn packet(node: &Node, scope: &Scope) -> R<PacketExpect> {
    let NodeKind::Map(entries) = &node.kind else {
        return err(node.at, "a packet expectation is a mapping with `kind`");
    };
    let kind_node = node.get("kind").ok_or_else(|| CompileError {
        at: node.at,
        message: "a packet expectation names the packet's `kind` (CONNECT, SUBSCRIBE, PUBLISH, \
                  DISCONNECT…)"
            .into(),
    })?;
    let kind = match &kind_node.kind {
        NodeKind::Str(k) if PACKET_KINDS.contains(&k.as_str()) => k.clone(),
        _ => {
            return err(
                kind_node.at,
                format!(
                    "`kind` is one of {} (got {})",
                    PACKET_KINDS.join(", "),
                    kind_node
                        .scalar_text()
                        .unwrap_or_else(|| kind_node.describe().into())
                ),
            );
        }
    };
    let dir = match node.get("dir") {
        None => None,
        Some(d) => match d.scalar_text().as_deref() {
            Some(x @ ("in" | "out" | "conn")) => Some(x.to_string()),
            _ => return err(d.at, "`dir` is in, out or conn"),
        },
    };
    let own = captures_in(node);
    let c = Compiler { scope, own: &own };
    let mut rest: Vec<(Key, Node)> = Vec::new();
    let (mut v5, mut v311) = (None, None);
    for (k, v) in entries {
        match k.text.as_str() {
            "if_5_0" => v5 = Some(c.node(v, &Shape::Packet)?),
            "if_3_1_1" => v311 = Some(c.node(v, &Shape::Packet)?),
            _ => rest.push((k.clone(), v.clone())),
        }
    }
    let common = c.node(
        &Node {
            at: node.at,
            kind: NodeKind::Map(rest),
        },
        &Shape::Packet,
    )?;
    Ok(PacketExpect {
        kind,
        dir,
        common,
        v5,
        v311,
    })
}

/// The names captured anywhere in `node` (`capture: NAME`).
pub fn captures_in(node: &Node) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(n: &Node, out: &mut Vec<String>) {
        match &n.kind {
            NodeKind::Map(entries) => {
                for (k, v) in entries {
                    if k.text == "capture"
                        && let Some(t) = v.scalar_text()
                    {
                        out.push(t);
                    }
                    walk(v, out);
                }
            }
            NodeKind::List(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    walk(node, &mut out);
    out
}

struct Compiler<'a> {
    scope: &'a Scope<'a>,
    own: &'a [String],
}

impl Compiler<'_> {
    fn tpl(&self, text: &str, at: Pos) -> R<Template> {
        template(text, at, self.scope, self.own)
    }

    fn node(&self, n: &Node, shape: &Shape) -> R<Matcher> {
        let kind = match &n.kind {
            NodeKind::Map(entries) => {
                let ops = entries.iter().filter(|(k, _)| is_op(&k.text)).count();
                if ops > 0 && ops == entries.len() {
                    Kind::Ops(
                        entries
                            .iter()
                            .map(|(k, v)| self.op(k, v, shape))
                            .collect::<R<_>>()?,
                    )
                } else if ops > 0 {
                    let (op, _) = entries.iter().find(|(k, _)| is_op(&k.text)).unwrap();
                    let (field, _) = entries.iter().find(|(k, _)| !is_op(&k.text)).unwrap();
                    return err(
                        field.at,
                        format!(
                            "this mapping mixes the operator `{}` with the field `{}`: put the \
                             operators in a mapping of their own under the field",
                            op.text, field.text
                        ),
                    );
                } else {
                    Kind::Fields(self.fields(n, entries, shape)?)
                }
            }
            NodeKind::List(items) => {
                let Some(elem) = shape.element() else {
                    return err(
                        n.at,
                        format!("a list cannot match {} here", shape.describe()),
                    );
                };
                Kind::List(
                    items
                        .iter()
                        .map(|i| self.node(i, &elem))
                        .collect::<R<_>>()?,
                )
            }
            _ => Kind::Equals(self.scalar(n, shape)?),
        };
        // A mapping's or a list's text is its children's: storing it again at every level
        // held each expectation once per level of nesting.
        let src = match kind {
            Kind::Fields(_) | Kind::List(_) => serde_json::Value::Null,
            Kind::Equals(_) | Kind::Ops(_) => n.to_value(),
        };
        Ok(Matcher {
            at: n.at,
            kind,
            src,
        })
    }

    fn scalar(&self, n: &Node, shape: &Shape) -> R<Template> {
        let text = n.scalar_text().unwrap_or_default();
        if !shape.is_scalar() {
            return err(
                n.at,
                format!(
                    "the value {} cannot match {} here{}",
                    crate::human::quoted(&text),
                    shape.describe(),
                    if matches!(shape, Shape::List(_)) {
                        " (write a list, or an operator such as `contains`)"
                    } else {
                        ""
                    }
                ),
            );
        }
        let t = self.tpl(&text, n.at)?;
        if t.literal().is_some() {
            shape.check_scalar(&text).or_else(|e| err(n.at, e))?;
        }
        Ok(t)
    }

    fn fields(&self, n: &Node, entries: &[(Key, Node)], shape: &Shape) -> R<Vec<Field>> {
        if !shape.has_fields() {
            let hint = entries
                .iter()
                .find_map(|(k, _)| suggest(&k.text).map(|s| (k, s)));
            if let Some((k, s)) = hint {
                return err(
                    k.at,
                    format!("`{}` is not an operator; did you mean `{s}`?", k.text),
                );
            }
            return err(
                n.at,
                format!("a mapping of fields cannot match {} here", shape.describe()),
            );
        }
        let mut out = Vec::new();
        for (k, v) in entries {
            let key = self.tpl(&k.text, k.at)?;
            let sub = match key.literal() {
                Some(name) => {
                    if matches!(shape, Shape::Map(_))
                        && let Some(s) = suggest(name)
                    {
                        return err(
                            k.at,
                            format!("`{name}` is not an operator; did you mean `{s}`?"),
                        );
                    }
                    shape.field(name).or_else(|e| {
                        err(
                            k.at,
                            match suggest(name) {
                                Some(s) => format!("{e}; or did you mean the operator `{s}`?"),
                                None => e,
                            },
                        )
                    })?
                }
                None if shape.free_keys() => shape.field("").unwrap_or(Shape::Open),
                None => {
                    return err(
                        k.at,
                        format!(
                            "a field name cannot hold a variable in {}",
                            shape.describe()
                        ),
                    );
                }
            };
            out.push(Field {
                key,
                matcher: self.node(v, &sub)?,
            });
        }
        Ok(out)
    }

    fn op(&self, k: &Key, v: &Node, shape: &Shape) -> R<Op> {
        let need_scalar = || {
            if shape.is_scalar() {
                Ok(())
            } else {
                err(
                    k.at,
                    format!(
                        "`{}` compares a scalar, and this is {}",
                        k.text,
                        shape.describe()
                    ),
                )
            }
        };
        let need_list = || {
            shape.element().ok_or_else(|| CompileError {
                at: k.at,
                message: format!(
                    "`{}` needs a list, and this is {}",
                    k.text,
                    shape.describe()
                ),
            })
        };
        let list_of = |v: &Node| -> R<Vec<Node>> {
            match &v.kind {
                NodeKind::List(items) => Ok(items.clone()),
                _ => err(v.at, format!("`{}` takes a list", k.text)),
            }
        };
        Ok(match k.text.as_str() {
            "capture" => {
                let name = match &v.kind {
                    NodeKind::Str(s)
                        if !s.is_empty()
                            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
                    {
                        s.clone()
                    }
                    _ => {
                        return err(v.at, "`capture` takes a variable name (letters, digits, _)");
                    }
                };
                Op::Capture(name)
            }
            "any_of" => {
                need_scalar()?;
                let items = match &v.kind {
                    NodeKind::List(items) => items.clone(),
                    _ => vec![v.clone()],
                };
                if items.is_empty() {
                    return err(v.at, "`any_of` needs at least one value");
                }
                Op::AnyOf(
                    items
                        .iter()
                        .map(|i| match i.kind {
                            NodeKind::List(_) | NodeKind::Map(_) => {
                                err(i.at, "`any_of` takes scalars")
                            }
                            _ => self.scalar(i, shape),
                        })
                        .collect::<R<_>>()?,
                )
            }
            "regex" => {
                need_scalar()?;
                let NodeKind::Str(src) = &v.kind else {
                    return err(v.at, "`regex` takes a string");
                };
                let t = self.tpl(src, v.at)?;
                match t.literal() {
                    Some(lit) => Op::Regex(Pattern::Fixed(
                        shared_regex(lit).or_else(|e| err(v.at, format!("invalid regex: {e}")))?,
                    )),
                    None => {
                        // The variables' values are literal text: check the rest compiles.
                        let mut probe = Vars::default();
                        for name in t.vars() {
                            probe.set(name, "x");
                        }
                        let text = t.render_with(&probe, regex::escape).unwrap_or_default();
                        Regex::new(&text).or_else(|e| err(v.at, format!("invalid regex: {e}")))?;
                        Op::Regex(Pattern::Template(t))
                    }
                }
            }
            "gt" | "ge" | "lt" | "le" => {
                need_scalar()?;
                let cmp = match k.text.as_str() {
                    "gt" => Cmp::Gt,
                    "ge" => Cmp::Ge,
                    "lt" => Cmp::Lt,
                    _ => Cmp::Le,
                };
                let text = v.scalar_text().unwrap_or_default();
                let t = self.tpl(&text, v.at)?;
                let bound = match t.literal() {
                    Some(lit) => Bound::Fixed(lit.trim().parse().or_else(|_| {
                        err(v.at, format!("`{}` takes a number, not {text:?}", k.text))
                    })?),
                    None => Bound::Var(t),
                };
                Op::Compare(cmp, bound)
            }
            "absent" => match v.kind {
                NodeKind::Bool(b) => Op::Absent(b),
                _ => return err(v.at, "`absent` takes true or false"),
            },
            "not_empty" => match v.kind {
                NodeKind::Bool(true) => Op::NotEmpty,
                _ => {
                    return err(
                        v.at,
                        "`not_empty` takes true (for \"empty\", write absent: true)",
                    );
                }
            },
            "len" | "min_len" | "max_len" => {
                if !shape.sized() {
                    return err(
                        k.at,
                        format!("`{}`: {} has no size", k.text, shape.describe()),
                    );
                }
                let n = match &v.kind {
                    NodeKind::Number(n) if n.as_u64().is_some() => n.as_u64().unwrap() as usize,
                    _ => return err(v.at, format!("`{}` takes a whole number", k.text)),
                };
                let how = match k.text.as_str() {
                    "len" => SizeOp::Exactly,
                    "min_len" => SizeOp::AtLeast,
                    _ => SizeOp::AtMost,
                };
                Op::Size(how, n)
            }
            "keys" => {
                if !shape.keyed() {
                    return err(k.at, format!("`keys`: {} has no keys", shape.describe()));
                }
                let mut keys = Vec::new();
                for i in list_of(v)? {
                    let text = i.scalar_text().ok_or_else(|| CompileError {
                        at: i.at,
                        message: "`keys` takes a list of names".into(),
                    })?;
                    let t = self.tpl(&text, i.at)?;
                    if let (Some(name), false) = (t.literal(), shape.free_keys()) {
                        shape.field(name).or_else(|e| err(i.at, e))?;
                    }
                    keys.push(t);
                }
                Op::Keys(keys)
            }
            "in_snapshot" => {
                need_scalar()?;
                let name = v.scalar_text().unwrap_or_default();
                // The snapshot is a variable named after its step: checked like one.
                self.tpl(&format!("${{{name}}}"), v.at)?;
                Op::InSnapshot(name)
            }
            "covers_snapshot" => {
                let elem = need_list()?;
                let (name, field) = match &v.kind {
                    NodeKind::Map(_) => {
                        let name =
                            v.get("snapshot")
                                .and_then(Node::scalar_text)
                                .ok_or_else(|| CompileError {
                                    at: v.at,
                                    message:
                                        "`covers_snapshot` takes a snapshot name, or { snapshot: \
                                          NAME, field: FIELD }"
                                            .into(),
                                })?;
                        let field = v.get("field").and_then(Node::scalar_text);
                        if let Some(f) = &field {
                            elem.field(f).or_else(|e| err(v.at, e))?;
                        }
                        (name, field)
                    }
                    _ => (v.scalar_text().unwrap_or_default(), None),
                };
                self.tpl(&format!("${{{name}}}"), v.at)?;
                Op::CoversSnapshot {
                    snapshot: name,
                    field,
                }
            }
            "if_var" => {
                let NodeKind::Map(_) = &v.kind else {
                    return err(v.at, "`if_var` takes { var: NAME, matches: m, then: m }");
                };
                let field = |name: &str| {
                    v.get(name).ok_or_else(|| CompileError {
                        at: v.at,
                        message: format!("`if_var` needs `{name}` (var, matches, then)"),
                    })
                };
                if let NodeKind::Map(entries) = &v.kind
                    && let Some((k, _)) = entries
                        .iter()
                        .find(|(k, _)| !["var", "matches", "then"].contains(&k.text.as_str()))
                {
                    return err(
                        k.at,
                        format!("`if_var` has no `{}` (var, matches, then)", k.text),
                    );
                }
                let var_node = field("var")?;
                let var = var_node.scalar_text().unwrap_or_default();
                self.tpl(&format!("${{{var}}}"), var_node.at)?;
                Op::IfVar {
                    var,
                    matches: Box::new(self.node(field("matches")?, &Shape::Scalar(Scalar::Text))?),
                    then: Box::new(self.node(field("then")?, shape)?),
                }
            }
            "each_key" => {
                if !shape.keyed() {
                    return err(
                        k.at,
                        format!("`each_key`: {} has no keys", shape.describe()),
                    );
                }
                Op::EachKey(Box::new(self.node(v, &Shape::Scalar(Scalar::Text))?))
            }
            "unordered" | "contains" => {
                let elem = need_list()?;
                let items = list_of(v)?;
                let ms = items
                    .iter()
                    .map(|i| self.node(i, &elem))
                    .collect::<R<Vec<_>>>()?;
                if k.text == "unordered" {
                    Op::Unordered(ms)
                } else {
                    Op::Contains(ms)
                }
            }
            "each" => Op::Each(Box::new(self.node(v, &need_list()?)?)),
            "none" => Op::NoneOf(Box::new(self.node(v, &need_list()?)?)),
            "any" | "all" => {
                let items = list_of(v)?;
                if items.is_empty() {
                    return err(v.at, format!("`{}` needs at least one matcher", k.text));
                }
                let ms = items
                    .iter()
                    .map(|i| self.node(i, shape))
                    .collect::<R<Vec<_>>>()?;
                if k.text == "any" {
                    Op::Any(ms)
                } else {
                    Op::All(ms)
                }
            }
            "not" => Op::Not(Box::new(self.node(v, shape)?)),
            other => unreachable!("{other} is an operator name"),
        })
    }
}

fn is_op(k: &str) -> bool {
    OPERATORS.contains(&k)
}

/// An operator name a lowercase key is probably a misspelling of.
fn suggest(key: &str) -> Option<&'static str> {
    if is_op(key) || !key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        return None;
    }
    OPERATORS
        .iter()
        .map(|o| (distance(key, o), *o))
        .filter(|(d, o)| *d <= 2 && *d < o.len() / 2 + 1)
        .min()
        .map(|(_, o)| o)
}

/// Edit distance (Levenshtein), for suggestions.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
#[path = "compile_tests.rs"]
mod tests;
