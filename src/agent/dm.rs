//! The Instantiated Data Model: a tree of object nodes holding parameter values, with tables
//! of numbered instances, plus the resolution of request paths (instance numbers, wildcards,
//! search expressions and unique-key addressing) against it. The whole tree is `Clone`, so a
//! request with `allow_partial=false` can be undone by restoring a snapshot (R-ADD.1,
//! R-SET.1, R-DEL.1).

use std::collections::BTreeMap;
use std::fmt;
use std::time::SystemTime;

use super::codes::{
    Failure, INVALID_PATH, INVALID_PATH_SYNTAX, OBJECT_DOES_NOT_EXIST, RESOURCES_EXCEEDED, fail,
};
use super::schema::{CmdDef, EventDef, ObjDef, ParamDef, Source, Syntax, Type};
use super::tr181::DEVICE;
use crate::usp::path::{self, Condition, Op, Path, PathKind, Segment};

/// Most instances one table may hold; beyond it Add fails with 7005 instead of growing forever.
pub const MAX_ROWS: usize = 10_000;

/// One object: its stored parameter values and its child objects.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Node {
    /// Stored values by parameter name (computed parameters are absent).
    pub params: BTreeMap<&'static str, String>,
    /// Child objects by name.
    pub children: BTreeMap<&'static str, Child>,
}

/// A child of an object: a single-instance object or a table.
#[derive(Clone, Debug, PartialEq)]
pub enum Child {
    /// Single-instance object.
    Single(Node),
    /// Multi-Instance Object.
    Table(Table),
}

/// A Multi-Instance Object's instances by instance number.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// The last instance number assigned; numbers are never reused while the agent runs
    /// (R-ARC.8 asks that numbers persist; not reusing them keeps stale paths from matching).
    pub last: u32,
    /// The instances.
    pub rows: BTreeMap<u32, Node>,
}

impl Node {
    /// A new object with its defaults, its single-instance children and empty tables.
    pub fn new(def: &ObjDef) -> Node {
        let mut n = Node::default();
        for p in &def.params {
            if p.source == Source::Stored {
                n.params.insert(p.name, p.default.to_string());
            }
        }
        for c in &def.objects {
            let child = if c.multi {
                Child::Table(Table::default())
            } else {
                Child::Single(Node::new(c))
            };
            n.children.insert(c.name, child);
        }
        n
    }

    /// A stored value, or "" if absent.
    pub fn get(&self, name: &str) -> &str {
        self.params.get(name).map_or("", String::as_str)
    }

    /// The single-instance child `name`.
    pub fn single(&self, name: &str) -> Option<&Node> {
        match self.children.get(name) {
            Some(Child::Single(n)) => Some(n),
            _ => None,
        }
    }

    /// The table child `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        match self.children.get(name) {
            Some(Child::Table(t)) => Some(t),
            _ => None,
        }
    }

    /// The node reached from here through single-instance children named in `via`.
    pub fn descend(&self, via: &[&str]) -> Option<&Node> {
        via.iter().try_fold(self, |n, name| n.single(name))
    }

    fn descend_mut(&mut self, via: &[&str]) -> Option<&mut Node> {
        let mut n = self;
        for name in via {
            n = match n.children.get_mut(*name) {
                Some(Child::Single(c)) => c,
                _ => return None,
            };
        }
        Some(n)
    }
}

/// One step of a concrete location: an object name or an instance number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// Object name.
    Name(&'static str),
    /// Instance number.
    Inst(u32),
}

/// A concrete object, instance or table in the instantiated model, e.g.
/// `Device.LocalAgent.Subscription.3.`; its `Display` is the Path Name with a trailing '.'.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loc(pub Vec<Step>);

impl Loc {
    /// `Device.`
    pub fn root() -> Loc {
        Loc(vec![Step::Name("Device")])
    }

    /// This location extended by an object name.
    pub fn child(&self, name: &'static str) -> Loc {
        let mut v = self.0.clone();
        v.push(Step::Name(name));
        Loc(v)
    }

    /// This (table) location extended by an instance number.
    pub fn inst(&self, n: u32) -> Loc {
        let mut v = self.0.clone();
        v.push(Step::Inst(n));
        Loc(v)
    }

    /// The location one step up.
    pub fn parent(&self) -> Loc {
        Loc(self.0[..self.0.len().saturating_sub(1)].to_vec())
    }

    /// The instance number if this location is an instance.
    pub fn last_inst(&self) -> Option<u32> {
        match self.0.last() {
            Some(Step::Inst(n)) => Some(*n),
            _ => None,
        }
    }

    /// The Path Name of parameter, command or event `leaf` of this object.
    pub fn leaf(&self, leaf: &str) -> String {
        format!("{self}{leaf}")
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.0 {
            match s {
                Step::Name(n) => write!(f, "{n}.")?,
                Step::Inst(i) => write!(f, "{i}.")?,
            }
        }
        Ok(())
    }
}

/// Fault-injection switches that change how paths resolve.
#[derive(Clone, Copy, Debug, Default)]
pub struct Quirks {
    /// `search-ignores-expression`
    pub ignore_expression: bool,
    /// `search-off-by-one`
    pub off_by_one: bool,
    /// `no-unique-key-addressing`
    pub no_key_addressing: bool,
}

/// What a resolved path ends with.
#[derive(Clone, Copy, Debug)]
pub enum Leaf {
    /// Object Path.
    Object,
    /// Parameter Path.
    Param(&'static ParamDef),
    /// Command Path.
    Command(&'static CmdDef),
    /// Event Path.
    Event(&'static EventDef),
}

/// A path resolved against the data model.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// Definition of the addressed object(s) (for a table: of its instances).
    pub def: &'static ObjDef,
    /// The path ended at a table name with no instance identifier (e.g. `...Subscription.`).
    pub table: bool,
    /// Matching objects (or table locations when `table`), in instance order.
    pub locs: Vec<Loc>,
    /// What the path ends with.
    pub leaf: Leaf,
    /// The path contains a wildcard or an expression: matching nothing is not an error
    /// (R-MSG.4a).
    pub search: bool,
}

/// The data model plus the clock readings its computed parameters need.
#[derive(Clone, Debug)]
pub struct Dm {
    /// `Device.`
    pub root: Node,
    /// The time of the request being processed.
    pub now: SystemTime,
    /// When the agent (re)booted, for `UpTime`.
    pub booted: SystemTime,
}

enum Cursor<'a> {
    Node(&'a Node),
    Table(&'a Table),
}

enum CursorMut<'a> {
    Node(&'a mut Node),
    Table(&'a mut Table),
}

impl Dm {
    /// An empty data model (defaults only).
    pub fn new(now: SystemTime) -> Dm {
        Dm {
            root: Node::new(&DEVICE),
            now,
            booted: now,
        }
    }

    /// The definition of the object, instance or table at `loc`.
    pub fn def_of(loc: &Loc) -> Option<&'static ObjDef> {
        let mut steps = loc.0.iter();
        if steps.next() != Some(&Step::Name("Device")) {
            return None;
        }
        let mut def: &'static ObjDef = &DEVICE;
        for s in steps {
            if let Step::Name(n) = s {
                def = def.object(n)?;
            }
        }
        Some(def)
    }

    fn locate(&self, loc: &Loc) -> Option<Cursor<'_>> {
        let mut steps = loc.0.iter();
        if steps.next() != Some(&Step::Name("Device")) {
            return None;
        }
        let mut cur = Cursor::Node(&self.root);
        for s in steps {
            cur = match (cur, s) {
                (Cursor::Node(n), Step::Name(name)) => match n.children.get(name)? {
                    Child::Single(c) => Cursor::Node(c),
                    Child::Table(t) => Cursor::Table(t),
                },
                (Cursor::Table(t), Step::Inst(i)) => Cursor::Node(t.rows.get(i)?),
                _ => return None,
            };
        }
        Some(cur)
    }

    fn locate_mut(&mut self, loc: &Loc) -> Option<CursorMut<'_>> {
        let mut steps = loc.0.iter();
        if steps.next() != Some(&Step::Name("Device")) {
            return None;
        }
        let mut cur = CursorMut::Node(&mut self.root);
        for s in steps {
            cur = match (cur, s) {
                (CursorMut::Node(n), Step::Name(name)) => match n.children.get_mut(name)? {
                    Child::Single(c) => CursorMut::Node(c),
                    Child::Table(t) => CursorMut::Table(t),
                },
                (CursorMut::Table(t), Step::Inst(i)) => CursorMut::Node(t.rows.get_mut(i)?),
                _ => return None,
            };
        }
        Some(cur)
    }

    /// The object or instance at `loc`.
    pub fn node(&self, loc: &Loc) -> Option<&Node> {
        match self.locate(loc)? {
            Cursor::Node(n) => Some(n),
            Cursor::Table(_) => None,
        }
    }

    /// The object or instance at `loc`, mutably.
    pub fn node_mut(&mut self, loc: &Loc) -> Option<&mut Node> {
        match self.locate_mut(loc)? {
            CursorMut::Node(n) => Some(n),
            CursorMut::Table(_) => None,
        }
    }

    /// The table at `loc`.
    pub fn table(&self, loc: &Loc) -> Option<&Table> {
        match self.locate(loc)? {
            Cursor::Table(t) => Some(t),
            Cursor::Node(_) => None,
        }
    }

    /// The instances of the table at `loc`, in instance order.
    pub fn rows(&self, loc: &Loc) -> Vec<Loc> {
        self.table(loc)
            .map(|t| t.rows.keys().map(|k| loc.inst(*k)).collect())
            .unwrap_or_default()
    }

    /// Creates an instance with defaults in the table at `loc` and returns its number.
    pub fn add_row(&mut self, loc: &Loc, def: &ObjDef) -> Result<u32, Failure> {
        let Some(CursorMut::Table(t)) = self.locate_mut(loc) else {
            return Err(fail(OBJECT_DOES_NOT_EXIST, format!("{loc} does not exist")));
        };
        let next = t.last.checked_add(1).filter(|_| t.rows.len() < MAX_ROWS);
        let Some(n) = next else {
            return Err(fail(RESOURCES_EXCEEDED, format!("{loc} is full")));
        };
        t.last = n;
        t.rows.insert(n, Node::new(def));
        Ok(n)
    }

    /// Removes the instance at `loc` with everything below it.
    pub fn remove(&mut self, loc: &Loc) -> Option<Node> {
        let n = loc.last_inst()?;
        match self.locate_mut(&loc.parent())? {
            CursorMut::Table(t) => t.rows.remove(&n),
            CursorMut::Node(_) => None,
        }
    }

    /// Stores `value` as parameter `name` of the object reached from `loc` through `via`.
    pub fn store(&mut self, loc: &Loc, via: &[&str], name: &'static str, value: String) -> bool {
        match self.node_mut(loc).and_then(|n| n.descend_mut(via)) {
            Some(n) => {
                n.params.insert(name, value);
                true
            }
            None => false,
        }
    }

    /// The current value of parameter `p` of `node` (stored or computed).
    pub fn value(&self, node: &Node, p: &ParamDef) -> String {
        if p.syntax == Syntax::Secured {
            // TR-106: a secured parameter reads as an empty string whatever it holds.
            return String::new();
        }
        match p.source {
            Source::Stored => node.get(p.name).to_string(),
            Source::UpTime => self
                .now
                .duration_since(self.booted)
                .map(|d| d.as_secs().min(u64::from(u32::MAX)))
                .unwrap_or(0)
                .to_string(),
            Source::CountOf(t) => node.table(t).map_or(0, |t| t.rows.len()).to_string(),
        }
    }

    /// The value of the parameter at relative path `rel` below the object at `loc`.
    pub fn value_at(&self, loc: &Loc, rel: &str) -> Option<String> {
        let def = Self::def_of(loc)?;
        let (via, p) = def.rel_param(rel)?;
        let node = self.node(loc)?.descend(&via)?;
        Some(self.value(node, p))
    }

    /// The unique-key parameters of the instance at `loc` with their values.
    pub fn unique_keys(&self, loc: &Loc) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if let (Some(def), Some(node)) = (Self::def_of(loc), self.node(loc)) {
            for k in def.key_params() {
                if let Some(p) = def.param(k) {
                    out.insert(k.to_string(), self.value(node, p));
                }
            }
        }
        out
    }

    /// `loc` and every object below it, pre-order, with instances in number order.
    /// `depth` 1 means `loc` alone, 2 adds its children, and so on; 0 means no limit.
    pub fn walk(
        &self,
        loc: &Loc,
        def: &'static ObjDef,
        depth: u32,
        out: &mut Vec<(Loc, &'static ObjDef)>,
    ) {
        out.push((loc.clone(), def));
        if depth == 1 {
            return;
        }
        let next = depth.saturating_sub(1);
        for c in &def.objects {
            let cl = loc.child(c.name);
            if c.multi {
                for r in self.rows(&cl) {
                    self.walk(&r, c, next, out);
                }
            } else {
                self.walk(&cl, c, next, out);
            }
        }
    }

    /// Resolves `path` against the supported and instantiated model. Errors: 7026 when the
    /// path does not fit the Supported Data Model (R-GET.0), 7008 for an unusable expression.
    /// An instance number that does not exist just yields no locations; callers decide
    /// whether that is an error for their message.
    pub fn resolve(&self, path: &Path, q: Quirks) -> Result<Resolved, Failure> {
        let text = path.to_string();
        if !path.starts_with_device() {
            return Err(fail(
                INVALID_PATH,
                format!("{text}: paths begin with 'Device.'"),
            ));
        }
        let mut def: &'static ObjDef = &DEVICE;
        let mut table = false;
        let mut locs = vec![Loc::root()];
        let mut search = false;
        let mut at = String::from("Device.");
        for seg in &path.object_segments()[1..] {
            if let Segment::Name(n) = seg {
                if table {
                    return Err(fail(
                        INVALID_PATH,
                        format!(
                            "{text}: {at} is a table; an instance number, '*' or '[...]' must follow it"
                        ),
                    ));
                }
                let child = def
                    .object(n)
                    .ok_or_else(|| fail(INVALID_PATH, format!("{text}: {at} has no object {n}")))?;
                def = child;
                table = child.multi;
                at.push_str(n);
                at.push('.');
                locs = locs.iter().map(|l| l.child(child.name)).collect();
                continue;
            }
            if !table {
                return Err(fail(
                    INVALID_PATH,
                    format!("{text}: {at} is not a multi-instance object"),
                ));
            }
            table = false;
            at.push_str("{i}.");
            if let Segment::Search(conds) = seg {
                check_conditions(def, conds, q, &text)?;
            }
            search |= matches!(seg, Segment::Wildcard | Segment::Search(_));
            let mut next = Vec::new();
            for l in &locs {
                let Some(t) = self.table(l) else { continue };
                for (k, row) in &t.rows {
                    let keep = match seg {
                        Segment::Instance(i) => i == k,
                        Segment::Wildcard => true,
                        Segment::Search(conds) => {
                            q.ignore_expression || self.matches(row, def, conds, q.off_by_one)
                        }
                        Segment::Name(_) => false,
                    };
                    if keep {
                        next.push(l.inst(*k));
                    }
                }
            }
            locs = next;
        }
        let leaf_err = |what: &str| {
            let name = path.leaf_name().unwrap_or_default();
            fail(INVALID_PATH, format!("{text}: {at} has no {what} {name}"))
        };
        let leaf = match path.kind {
            PathKind::Object => Leaf::Object,
            _ if table => {
                return Err(fail(
                    INVALID_PATH,
                    format!("{text}: {at} is a table; address its instances"),
                ));
            }
            PathKind::Parameter => {
                let n = path.leaf_name().unwrap_or_default();
                Leaf::Param(def.param(n).ok_or_else(|| leaf_err("parameter"))?)
            }
            PathKind::Command => {
                let n = format!("{}()", path.leaf_name().unwrap_or_default());
                Leaf::Command(def.command(&n).ok_or_else(|| leaf_err("command"))?)
            }
            PathKind::Event => {
                let n = format!("{}!", path.leaf_name().unwrap_or_default());
                Leaf::Event(def.event(&n).ok_or_else(|| leaf_err("event"))?)
            }
        };
        Ok(Resolved {
            def,
            table,
            locs,
            leaf,
            search,
        })
    }

    /// True if the instance `row` of table `def` meets every condition.
    pub fn matches(&self, row: &Node, def: &ObjDef, conds: &[Condition], off_by_one: bool) -> bool {
        conds.iter().all(|c| self.eval(row, def, c, off_by_one))
    }

    fn eval(&self, row: &Node, def: &ObjDef, c: &Condition, off_by_one: bool) -> bool {
        let Some((via, p)) = def.rel_param(&c.param) else {
            return false;
        };
        let Some(node) = row.descend(&via) else {
            return false;
        };
        let actual = self.value(node, p);
        let op = if off_by_one {
            match c.op {
                Op::Lt => Op::Le,
                Op::Le => Op::Lt,
                Op::Gt => Op::Ge,
                Op::Ge => Op::Gt,
                other => other,
            }
        } else {
            c.op
        };
        compare(p, &actual, op, &c.value)
    }
}

/// Compares a parameter value with an expression constant by the parameter's type, as
/// "Searching with Expressions" prescribes (numbers numerically, `1`/`true` alike, ...).
fn compare(p: &ParamDef, actual: &str, op: Op, constant: &str) -> bool {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match p.ty {
        Type::UInt | Type::Int => match (number(actual), number(constant)) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => None,
        },
        Type::Bool => match (boolean(actual), boolean(constant)) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => None,
        },
        Type::DateTime => Some(actual.cmp(constant)),
        Type::Str if p.syntax == Syntax::Reference => Some(
            actual
                .trim_end_matches('.')
                .cmp(constant.trim_end_matches('.')),
        ),
        Type::Str | Type::List => Some(actual.cmp(constant)),
    };
    match op {
        Op::Contains => actual.split(',').any(|item| item.trim() == constant),
        Op::Eq => ord == Some(Ordering::Equal),
        Op::Ne => ord.is_some_and(|o| o != Ordering::Equal),
        Op::Lt => ord == Some(Ordering::Less),
        Op::Gt => ord == Some(Ordering::Greater),
        Op::Le => ord.is_some_and(|o| o != Ordering::Greater),
        Op::Ge => ord.is_some_and(|o| o != Ordering::Less),
    }
}

fn number(s: &str) -> Option<i128> {
    let s = s.trim();
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.len() > 30 {
        return None;
    }
    s.parse().ok()
}

fn boolean(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// Rejects expressions the agent cannot evaluate: unknown parameters (7026, R-GET.0), and
/// operators or constants that do not suit the parameter's type (7008); the
/// `no-unique-key-addressing` fault also rejects expressions that address by unique key.
fn check_conditions(
    def: &ObjDef,
    conds: &[Condition],
    q: Quirks,
    text: &str,
) -> Result<(), Failure> {
    for c in conds {
        let Some((_, p)) = def.rel_param(&c.param) else {
            return Err(fail(
                INVALID_PATH,
                format!("{text}: {} is not a parameter of {}", c.param, def.name),
            ));
        };
        let bad = |why: &str| {
            Err(fail(
                INVALID_PATH_SYNTAX,
                format!("{text}: {}{}{}: {why}", c.param, c.op.as_str(), c.value),
            ))
        };
        let ordering = matches!(c.op, Op::Lt | Op::Gt | Op::Le | Op::Ge);
        match p.ty {
            Type::Str | Type::Bool | Type::List if ordering => {
                return bad("only == and != apply to string and boolean parameters");
            }
            Type::UInt | Type::Int if number(&c.value).is_none() => {
                return bad("the constant is not a number");
            }
            Type::Bool if boolean(&c.value).is_none() => {
                return bad("the constant is not a boolean");
            }
            _ => {}
        }
        if c.op == Op::Contains && p.ty != Type::List {
            return bad("'~=' applies to list parameters only");
        }
    }
    // The fault treats any expression made only of `==` on unique-key parameters as
    // unique-key addressing, whether or not it names a whole key.
    if q.no_key_addressing
        && conds
            .iter()
            .all(|c| c.op == Op::Eq && def.is_key_param(&c.param))
    {
        return Err(fail(
            INVALID_PATH_SYNTAX,
            format!("{text}: unique-key addressing is not supported"),
        ));
    }
    Ok(())
}

/// Parses a stored reference such as `Device.LocalAgent.Controller.1` or `...1.` into a Loc.
pub fn reference_loc(reference: &str) -> Option<Loc> {
    let text = if reference.ends_with('.') {
        reference.to_string()
    } else {
        format!("{reference}.")
    };
    let p = path::parse(&text).ok()?;
    if !p.starts_with_device() {
        return None;
    }
    let mut def: &'static ObjDef = &DEVICE;
    let mut steps = vec![Step::Name("Device")];
    for seg in &p.segments[1..] {
        match seg {
            Segment::Name(n) => {
                def = def.object(n)?;
                steps.push(Step::Name(def.name));
            }
            Segment::Instance(i) => steps.push(Step::Inst(*i)),
            _ => return None,
        }
    }
    Some(Loc(steps))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usp::path::parse;

    fn dm_with_subs(values: &[(&str, &str)]) -> Dm {
        let mut dm = Dm::new(SystemTime::UNIX_EPOCH);
        let t = Loc::root().child("LocalAgent").child("Subscription");
        let def = Dm::def_of(&t).unwrap();
        for (enable, exp) in values {
            let n = dm.add_row(&t, def).unwrap();
            dm.store(&t.inst(n), &[], "Enable", enable.to_string());
            dm.store(&t.inst(n), &[], "NotifExpiration", exp.to_string());
        }
        dm
    }

    fn paths(dm: &Dm, p: &str, q: Quirks) -> Vec<String> {
        let r = dm.resolve(&parse(p).unwrap(), q).unwrap();
        r.locs.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn resolves_numbers_wildcards_and_expressions() {
        let dm = dm_with_subs(&[("true", "5"), ("false", "10"), ("true", "20")]);
        let q = Quirks::default();
        let s = "Device.LocalAgent.Subscription.";
        assert_eq!(
            paths(&dm, "Device.LocalAgent.Subscription.2.", q),
            [format!("{s}2.")]
        );
        assert!(paths(&dm, "Device.LocalAgent.Subscription.9.", q).is_empty());
        assert_eq!(paths(&dm, "Device.LocalAgent.Subscription.*.", q).len(), 3);
        assert_eq!(
            paths(&dm, "Device.LocalAgent.Subscription.[Enable==true].", q),
            [format!("{s}1."), format!("{s}3.")]
        );
        assert_eq!(
            paths(&dm, "Device.LocalAgent.Subscription.[Enable!=1].", q),
            [format!("{s}2.")]
        );
        assert_eq!(
            paths(
                &dm,
                "Device.LocalAgent.Subscription.[NotifExpiration>10].",
                q
            ),
            [format!("{s}3.")]
        );
        assert_eq!(
            paths(
                &dm,
                "Device.LocalAgent.Subscription.[NotifExpiration>=10].",
                q
            )
            .len(),
            2
        );
        assert_eq!(
            paths(
                &dm,
                "Device.LocalAgent.Subscription.[NotifExpiration<10].",
                q
            ),
            [format!("{s}1.")]
        );
        assert_eq!(
            paths(
                &dm,
                "Device.LocalAgent.Subscription.[NotifExpiration<=010].",
                q
            )
            .len(),
            2
        );
        let r = dm
            .resolve(&parse("Device.LocalAgent.Subscription.").unwrap(), q)
            .unwrap();
        assert!(r.table && !r.search);
        let r = dm
            .resolve(
                &parse("Device.LocalAgent.Subscription.*.Enable").unwrap(),
                q,
            )
            .unwrap();
        assert!(matches!(r.leaf, Leaf::Param(p) if p.name == "Enable") && r.search);
    }

    #[test]
    fn quirks_change_matching() {
        let dm = dm_with_subs(&[("true", "5"), ("false", "10"), ("true", "20")]);
        let all = Quirks {
            ignore_expression: true,
            ..Default::default()
        };
        assert_eq!(
            paths(&dm, "Device.LocalAgent.Subscription.[Enable==true].", all).len(),
            3
        );
        let obo = Quirks {
            off_by_one: true,
            ..Default::default()
        };
        assert_eq!(
            paths(
                &dm,
                "Device.LocalAgent.Subscription.[NotifExpiration>10].",
                obo
            )
            .len(),
            2
        );
        assert_eq!(
            paths(
                &dm,
                "Device.LocalAgent.Subscription.[NotifExpiration>=10].",
                obo
            )
            .len(),
            1
        );
        let nk = Quirks {
            no_key_addressing: true,
            ..Default::default()
        };
        let e = dm
            .resolve(
                &parse(r#"Device.LocalAgent.Subscription.[Alias=="cpe-1"]."#).unwrap(),
                nk,
            )
            .unwrap_err();
        assert_eq!(e.code, 7008);
        // Part of a key counts too; a search that also tests other parameters does not.
        let e = dm
            .resolve(
                &parse(r#"Device.LocalAgent.Subscription.[ID=="x"]."#).unwrap(),
                nk,
            )
            .unwrap_err();
        assert_eq!(e.code, 7008);
        let mixed = r#"Device.LocalAgent.Subscription.[ID=="x"&&Enable==true]."#;
        assert!(dm.resolve(&parse(mixed).unwrap(), nk).is_ok());
    }

    #[test]
    fn invalid_paths_are_7026_and_bad_expressions_7008() {
        let dm = dm_with_subs(&[]);
        let q = Quirks::default();
        for p in [
            "Device.LocalAgent.InvalidObject.",
            "Device.LocalAgent.InvalidParameter",
            "Device.LocalAgent.Subscription.Enable",
            "Device.LocalAgent.Subscription.Foo.",
            "Device.LocalAgent.1.",
            "Device.LocalAgent.Nope()",
            "Device.Nope!",
            "Other.LocalAgent.",
            "Device.LocalAgent.Subscription.[Nope==1].",
        ] {
            assert_eq!(
                dm.resolve(&parse(p).unwrap(), q).unwrap_err().code,
                7026,
                "{p}"
            );
        }
        for p in [
            "Device.LocalAgent.Subscription.[Enable<true].",
            "Device.LocalAgent.Subscription.[NotifExpiration>abc].",
            "Device.LocalAgent.Subscription.[Enable==maybe].",
            "Device.LocalAgent.Subscription.[ID~=x].",
        ] {
            assert_eq!(
                dm.resolve(&parse(p).unwrap(), q).unwrap_err().code,
                7008,
                "{p}"
            );
        }
    }

    #[test]
    fn walk_respects_depth() {
        let dm = dm_with_subs(&[("true", "1")]);
        let la = Loc::root().child("LocalAgent");
        let def = Dm::def_of(&la).unwrap();
        let mut one = Vec::new();
        dm.walk(&la, def, 1, &mut one);
        assert_eq!(one.len(), 1);
        let mut two = Vec::new();
        dm.walk(&la, def, 2, &mut two);
        let mut all = Vec::new();
        dm.walk(&la, def, 0, &mut all);
        assert!(all.len() >= two.len() && two.len() > 1);
        assert!(two.iter().all(|(l, _)| l.0.len() <= 4));
    }

    #[test]
    fn reference_locs() {
        let l = reference_loc("Device.LocalAgent.Controller.1").unwrap();
        assert_eq!(l.to_string(), "Device.LocalAgent.Controller.1.");
        assert_eq!(reference_loc("Device.LocalAgent.Controller.1.").unwrap(), l);
        assert!(reference_loc("Device.Nope.1").is_none());
        assert!(reference_loc("").is_none());
    }
}
