//! Loading case files. Every problem names its file, line and column, rustc-style, so a
//! typo in a case is found in seconds; no case runs until every file loads.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde_saphyr::Spanned;

use super::case::{
    Action, Case, FaultProof, OneOrMany, RawCase, RawStep, Span, SplitMetrics, Step, StepMetrics,
};
use super::compile::{self, CompileError, Scope};
use super::node::{Node, NodeKind, Pos};
use super::shape::{Scalar, Shape};
use crate::usp::{pb, reflect};

/// A case file that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
    /// The source line with the column marked (rustc and hurl style), when the file's text
    /// is at hand.
    pub snippet: Option<String>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )?;
        if let Some(s) = &self.snippet {
            write!(f, "\n{s}")?;
        }
        Ok(())
    }
}

/// Line `line` of `text` with a caret under `column`, framed like rustc's:
///
/// ```text
///    |
/// 14 |       - param_path: { regexp: '^Device' }
///    |                       ^
/// ```
pub fn snippet(text: &str, line: u64, column: u64) -> Option<String> {
    let src = text
        .lines()
        .nth(usize::try_from(line).ok()?.checked_sub(1)?)?;
    let num = line.to_string();
    let pad = " ".repeat(num.len());
    // The caret sits under the column's character, tabs kept as tabs.
    let lead: String = src
        .chars()
        .take(column.saturating_sub(1) as usize)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    Some(format!("{pad} |\n{num} | {src}\n{pad} | {lead}^"))
}

impl std::error::Error for LoadError {}

impl LoadError {
    /// A problem at `line:column` of `file`, without a snippet (one is added where the
    /// file's text is at hand).
    pub fn new(file: &str, line: u64, column: u64, message: impl Into<String>) -> LoadError {
        LoadError {
            file: file.into(),
            line,
            column,
            message: message.into(),
            snippet: None,
        }
    }

    /// A YAML error at its line and column in `file`.
    pub fn from_yaml(e: &serde_saphyr::Error, file: &str) -> LoadError {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        LoadError {
            file: file.into(),
            line,
            column,
            message: first_line(&e.to_string()),
            snippet: None,
        }
    }
}

/// Reads a YAML file as text; a file that cannot be read is a `LoadError` too.
pub fn read_text(path: &Path) -> Result<(String, String), LoadError> {
    use std::io::Read;
    let file = path.display().to_string();
    let refuse = |message: String| LoadError {
        file: file.clone(),
        line: 0,
        column: 0,
        message,
        snippet: None,
    };
    // Only a regular file, looked at before it is opened (opening a FIFO blocks), and only
    // so much of it (/dev/zero would never end).
    let meta = std::fs::metadata(path).map_err(|e| refuse(format!("cannot read: {e}")))?;
    if !meta.is_file() {
        return Err(refuse("not a regular file".into()));
    }
    let f = std::fs::File::open(path).map_err(|e| refuse(format!("cannot read: {e}")))?;
    let mut bytes = Vec::new();
    f.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| refuse(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(refuse(format!(
            "larger than {} KiB, more than any case or profile needs",
            MAX_FILE / 1024
        )));
    }
    let text = String::from_utf8(bytes).map_err(|e| refuse(format!("not UTF-8 text: {e}")))?;
    Ok((text, file))
}

/// The largest case or profile file read (the biggest case is about 10 KiB).
const MAX_FILE: u64 = 1024 * 1024;

/// Loads one case from text; `file` is used in errors.
pub fn load_str(text: &str, file: &str) -> Result<Case, LoadError> {
    serde_saphyr::from_str(text)
        .map_err(|e| LoadError::from_yaml(&e, file))
        .and_then(|raw: RawCase| validate(raw, file))
        .map_err(|e| LoadError {
            snippet: snippet(text, e.line, e.column),
            ..e
        })
}

/// The message of a serde-saphyr error without its rendered snippet.
fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("invalid YAML")
        .trim_start_matches("error: ")
        .to_string()
}

/// Loads one case file.
pub fn load_file(path: &Path) -> Result<Case, LoadError> {
    let (text, file) = read_text(path)?;
    load_str(&text, &file)
}

/// Loads every `*.yaml` case below `dir`, sorted by TP-469 id. All errors are returned
/// together, so one run shows every broken file.
pub fn load_dir(dir: &Path) -> Result<Vec<Case>, Vec<LoadError>> {
    let mut files = Vec::new();
    collect(dir, &mut files).map_err(|e| {
        vec![LoadError {
            file: dir.display().to_string(),
            line: 0,
            column: 0,
            message: format!("cannot read the case folder: {e}"),
            snippet: None,
        }]
    })?;
    files.sort();
    gather(files.iter().map(|f| load_file(f)))
}

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_cases.rs"));
}

/// Loads the cases compiled into the binary (the `testcases/` folder at build time).
pub fn load_embedded() -> Result<Vec<Case>, Vec<LoadError>> {
    gather(embedded::EMBEDDED.iter().map(|(f, t)| load_str(t, f)))
}

/// Collects loaded cases: every error together, duplicate ids refused, sorted by id.
fn gather(
    loaded: impl Iterator<Item = Result<Case, LoadError>>,
) -> Result<Vec<Case>, Vec<LoadError>> {
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for item in loaded {
        match item {
            Ok(c) => {
                if let Some(first) = seen.insert(c.id.clone(), c.file.clone()) {
                    errors.push(LoadError {
                        file: c.file.clone(),
                        line: 1,
                        column: 1,
                        message: format!("case id {} is also defined in {first}", c.id),
                        snippet: None,
                    });
                }
                cases.push(c);
            }
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    cases.sort_by_key(|c| c.sort_key());
    Ok(cases)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let p = entry?.path();
        if p.is_dir() {
            collect(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            // Anything but a regular file (a FIFO) is refused by `read_text`, never read.
            out.push(p);
        }
    }
    Ok(())
}

fn validate(raw: RawCase, file: &str) -> Result<Case, LoadError> {
    let at = |p: Pos, message: String| LoadError {
        file: file.into(),
        line: p.line,
        column: p.column,
        message,
        snippet: None,
    };
    let metric_count = raw.metrics.len() as u32;
    let mut names: HashSet<String> = HashSet::new();
    // The variables each step may use: those captured by the steps before it.
    let mut captured: Vec<String> = Vec::new();
    // Snapshots taken so far, by name, with their object.
    let mut snapshots: BTreeMap<String, String> = BTreeMap::new();
    // Named steps that receive a message a `check` may judge again.
    let mut received: BTreeSet<String> = BTreeSet::new();
    let mut convert = |phase: &str, steps: Vec<Spanned<RawStep>>| -> Result<Vec<Step>, LoadError> {
        let mut out = Vec::new();
        for (i, s) in steps.into_iter().enumerate() {
            let here = Pos::of(&s);
            let scope = Scope {
                captured: &captured,
            };
            let step = step(
                &s.value,
                here,
                metric_count,
                &names,
                &scope,
                &snapshots,
                &received,
            )
            .map_err(|e| at(e.at, format!("{phase}[{i}]: {}", e.message)))?;
            if let (Action::Snapshot { of, .. }, Some(n)) = (&step.action, &step.name) {
                snapshots.insert(n.clone(), of.clone());
            }
            if let (
                Action::Send {
                    expect: Some(_), ..
                }
                | Action::Await { .. },
                Some(n),
            ) = (&step.action, &step.name)
            {
                received.insert(n.clone());
            }
            if let Some(n) = &step.name
                && !names.insert(n.clone())
            {
                return Err(at(
                    here,
                    format!("{phase}[{i}]: step name '{n}' is used twice"),
                ));
            }
            if phase == "cleanup" && !step.metrics.is_empty() {
                return Err(at(here, format!("{phase}[{i}]: clean-up proves no metric")));
            }
            captured.extend(step.captures());
            out.push(Step {
                at: here.to_string(),
                ..step
            });
        }
        Ok(out)
    };
    let setup = convert("setup", raw.setup)?;
    let steps = convert("steps", raw.steps)?;
    let cleanup = convert("cleanup", raw.cleanup)?;
    // Every metric is proven by a step, so no verdict can pass a metric nothing judged;
    // clean-up judges none.
    for m in 1..=metric_count {
        if !setup.iter().chain(&steps).any(|s| s.metrics.contains(&m)) {
            return Err(at(
                Pos { line: 1, column: 1 },
                format!(
                    "metric {m} is proven by no step of `setup` or `steps` (give a step `metric: {m}`)"
                ),
            ));
        }
    }
    let mut faults = Vec::new();
    for f in &raw.faults {
        let ms = f
            .value
            .metric
            .as_ref()
            .map(OneOrMany::to_vec)
            .unwrap_or_default();
        if ms.is_empty() && !f.value.universal {
            return Err(at(
                Pos::of(f),
                format!(
                    "fault {} names no metric (`metric: N`, or `universal: true` for a universal \
                     test metric)",
                    f.value.name
                ),
            ));
        }
        if let Some(bad) = ms.iter().find(|m| **m == 0 || **m > metric_count) {
            return Err(at(
                Pos::of(f),
                format!(
                    "fault {}: metric {bad} does not exist (the case lists {metric_count} metrics)",
                    f.value.name
                ),
            ));
        }
        if let Err(e) = f.value.name.parse::<crate::agent::Fault>() {
            return Err(at(Pos::of(f), format!("fault: {e}")));
        }
        faults.push(FaultProof {
            name: f.value.name.clone(),
            metrics: ms,
            universal: f.value.universal,
            over: f.value.over,
        });
    }
    if steps.is_empty() {
        return Err(at(
            Pos { line: 1, column: 1 },
            "a case needs at least one step in `steps`".into(),
        ));
    }
    Ok(Case {
        id: raw.id,
        title: raw.title,
        tp469: raw.tp469,
        tag: raw.tag,
        features: raw.features,
        mtp: raw.mtp,
        requirements: raw.requirements,
        purpose: raw.purpose.trim().to_string(),
        metrics: raw.metrics.into_iter().map(Into::into).collect(),
        faults,
        deviations: raw.deviations,
        passes_with: raw.passes_with,
        setup,
        steps,
        cleanup,
        file: file.into(),
    })
}

/// A bound computed from variables: they must be known, and it must compute with any
/// values.
fn check_seconds(text: &str, here: Pos, scope: &Scope) -> Result<(), CompileError> {
    let t = compile::template(text, here, scope, &[])?;
    let mut probe = super::vars::Vars::default();
    for v in t.vars() {
        probe.set(v, "1");
    }
    Span::Seconds(text.to_string())
        .resolve(&probe)
        .map(|_| ())
        .map_err(|e| CompileError {
            at: here,
            message: format!("{text:?}: {e}"),
        })
}

/// Checks the `${variables}` in every string of a request.
fn request_vars(n: &Node, scope: &Scope) -> Result<(), CompileError> {
    match &n.kind {
        NodeKind::Str(s) => compile::template(s, n.at, scope, &[]).map(|_| ()),
        NodeKind::List(items) => items.iter().try_for_each(|i| request_vars(i, scope)),
        NodeKind::Map(entries) => entries.iter().try_for_each(|(k, v)| {
            compile::template(&k.text, k.at, scope, &[])?;
            request_vars(v, scope)
        }),
        _ => Ok(()),
    }
}

fn step(
    s: &RawStep,
    here: Pos,
    metric_count: u32,
    names: &HashSet<String>,
    scope: &Scope,
    snapshots: &BTreeMap<String, String>,
    received: &BTreeSet<String>,
) -> Result<Step, CompileError> {
    let fail = |message: String| CompileError { at: here, message };
    let (metrics, sends_metrics) = match &s.metric {
        None => (vec![], vec![]),
        Some(StepMetrics::Plain(m)) => (m.to_vec(), vec![]),
        Some(StepMetrics::Split(SplitMetrics { sends, content })) => {
            if s.send.is_none() || s.expect.is_none() {
                return Err(fail(
                    "`metric: { sends, content }` needs a `send` step with an `expect` on \
                     the answer"
                        .into(),
                ));
            }
            let sends = sends.to_vec();
            let mut all = sends.clone();
            all.extend(content.to_vec());
            (all, sends)
        }
    };
    if let Some(bad) = metrics.iter().find(|m| **m == 0 || **m > metric_count) {
        return Err(fail(format!(
            "metric {bad} does not exist (the case lists {metric_count} metrics)"
        )));
    }
    let kinds = [
        s.send.is_some(),
        s.await_.is_some(),
        s.expect_none.is_some(),
        s.require_supported.is_some(),
        s.broker.is_some(),
        s.controller.is_some(),
        s.await_packet.is_some(),
        s.expect_no_packet.is_some(),
        s.snapshot.is_some(),
        s.expect_no_new_instances.is_some(),
        s.delete_new_instances.is_some(),
        s.check.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err(fail(
            "a step needs exactly one of `send`, `await`, `expect_none`, `require_supported`, \
             `broker`, `controller`, `await_packet`, `expect_no_packet`, `snapshot`, \
             `expect_no_new_instances`, `delete_new_instances`, `check`"
                .into(),
        ));
    }
    let snapshot_of = |name: &str| {
        snapshots.get(name).cloned().ok_or_else(|| {
            fail(format!(
                "'{name}' is not the name of an earlier `snapshot` step (snapshots: {})",
                snapshots.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        })
    };
    let only = |ok: bool, what: &str, with: &str| {
        if ok {
            Ok(())
        } else {
            Err(fail(format!("`{what}` belongs to a `{with}` step")))
        }
    };
    only(
        s.expect.is_none() || s.send.is_some() || s.check.is_some(),
        "expect",
        "send` or `check",
    )?;
    only(s.timeout.is_none() || s.send.is_some(), "timeout", "send")?;
    let awaits = s.await_.is_some() || s.await_packet.is_some();
    only(s.within.is_none() || awaits, "within", "await")?;
    only(s.window.is_none() || awaits, "window", "await")?;
    only(
        s.reconnect.is_none() || s.await_.is_some() || s.send.is_some(),
        "reconnect",
        "send` or `await",
    )?;
    only(
        s.after.is_none() || s.expect_no_packet.is_some() || s.await_packet.is_some(),
        "after",
        "await_packet` or `expect_no_packet",
    )?;
    only(
        s.keep.is_none() || s.await_packet.is_some(),
        "keep",
        "await_packet",
    )?;
    only(
        s.except.is_none() || s.expect_no_new_instances.is_some(),
        "except",
        "expect_no_new_instances",
    )?;
    if let Some(a) = &s.after
        && !names.contains(a)
    {
        return Err(fail(format!("after '{a}' does not name an earlier step")));
    }
    only(
        s.send_resp.is_none() || s.await_.is_some(),
        "send_resp",
        "await",
    )?;
    only(
        s.for_.is_none() || s.expect_none.is_some() || s.expect_no_packet.is_some(),
        "for",
        "expect_none",
    )?;
    only(
        s.while_closed.is_none() || s.expect_none.is_some() || s.expect_no_packet.is_some(),
        "while_closed",
        "expect_none` or `expect_no_packet",
    )?;
    if let Some(v) = &s.if_set
        && v.strip_prefix("alt.").is_none_or(|n| n.is_empty())
    {
        return Err(fail(format!(
            "`if_set` names a profile alternate (`alt.…`), not {v:?}: only those may be missing"
        )));
    }
    if let Some(Span::Seconds(text)) = &s.within {
        check_seconds(text, here, scope)?;
    }
    if let Some(w) = &s.window {
        if !names.contains(&w.from) {
            return Err(fail(format!(
                "window.from '{}' does not name an earlier step",
                w.from
            )));
        }
        for b in [&w.min, &w.max] {
            if let Span::Seconds(text) = b {
                check_seconds(text, here, scope)?;
            }
        }
        if let (Span::Fixed(lo), Span::Fixed(hi)) = (&w.min, &w.max)
            && lo > hi
        {
            return Err(fail("window.min is greater than window.max".into()));
        }
    }
    let action = if let Some(req) = &s.send {
        let NodeKind::Map(fields) = &req.kind else {
            return Err(CompileError {
                at: req.at,
                message: "`send` holds exactly one request field (get, set, add, delete, \
                          operate, …)"
                    .into(),
            });
        };
        if fields.len() != 1 {
            return Err(CompileError {
                at: req.at,
                message: "`send` holds exactly one request field (get, set, add, delete, \
                          operate, …)"
                    .into(),
            });
        }
        request_vars(req, scope)?;
        let request = req.to_value();
        if let Err(e) = reflect::from_value::<pb::Request>(&request, "usp.Request") {
            // A `${var}` in a numeric or boolean field is only known at run time.
            if !e.contains("${") {
                return Err(CompileError {
                    at: req.at,
                    message: e,
                });
            }
        }
        // The answer's capture names join the scope only after the request is built.
        let expect = s
            .expect
            .as_ref()
            .map(|e| compile::compile(e, &Shape::answer(), scope))
            .transpose()?;
        Action::Send {
            request,
            expect,
            timeout: s.timeout,
            no_answer: s.no_answer.unwrap_or(false),
            from: s.as_.unwrap_or_default(),
            reconnect: s.reconnect.unwrap_or(false),
        }
    } else if let Some(exp) = &s.await_ {
        Action::Await {
            expect: compile::compile(exp, &Shape::any_body(), scope)?,
            within: s.within.clone(),
            window: s.window.clone(),
            send_resp: s.send_resp.unwrap_or(true),
            reconnect: s.reconnect.unwrap_or(false),
        }
    } else if let Some(path) = &s.require_supported {
        Action::RequireSupported { path: path.clone() }
    } else if let Some(b) = &s.broker {
        Action::Broker(b.clone())
    } else if let Some(c) = &s.controller {
        Action::Controller(c.clone())
    } else if let Some(exp) = &s.await_packet {
        Action::AwaitPacket {
            expect: compile::packet(exp, scope)?,
            within: s.within.clone(),
            window: s.window.clone(),
            after: s.after.clone(),
            keep: s.keep.unwrap_or(false),
        }
    } else if let Some(exp) = &s.expect_no_packet {
        let span = s
            .for_
            .ok_or_else(|| fail("an `expect_no_packet` step needs `for: <duration>`".into()))?;
        Action::ExpectNoPacket {
            expect: compile::packet(exp, scope)?,
            span,
            after: s.after.clone(),
        }
    } else if let Some(snap) = &s.snapshot {
        if s.name.is_none() {
            return Err(fail(
                "a `snapshot` step needs a `name` (later steps refer to it)".into(),
            ));
        }
        if !snap.of.ends_with('.') || snap.of.contains("${") {
            return Err(fail(format!(
                "snapshot.of {:?} is an object path ending in a dot",
                snap.of
            )));
        }
        let filter = snap
            .where_
            .as_ref()
            .map(|w| {
                let params = Shape::Map(Box::new(Shape::Scalar(Scalar::Text)));
                compile::compile(w, &params, scope)
            })
            .transpose()?;
        Action::Snapshot {
            of: snap.of.clone(),
            filter,
        }
    } else if let Some(name) = &s.expect_no_new_instances {
        let except = s
            .except
            .iter()
            .flatten()
            .map(|e| compile::template(e, here, scope, &[]))
            .collect::<Result<_, _>>()?;
        Action::ExpectNoNewInstances {
            of: snapshot_of(name)?,
            snapshot: name.clone(),
            except,
        }
    } else if let Some(name) = &s.delete_new_instances {
        Action::DeleteNewInstances {
            of: snapshot_of(name)?,
            snapshot: name.clone(),
        }
    } else if let Some(name) = &s.check {
        if !received.contains(name) {
            return Err(fail(format!(
                "check '{name}' does not name an earlier `send` with `expect`, or `await`, step \
                 (such steps: {})",
                received.iter().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        let exp = s
            .expect
            .as_ref()
            .ok_or_else(|| fail("a `check` step needs an `expect`".into()))?;
        Action::Check {
            step: name.clone(),
            expect: compile::compile(exp, &Shape::any_body(), scope)?,
        }
    } else if let Some(exp) = &s.expect_none {
        let span = s
            .for_
            .ok_or_else(|| fail("an `expect_none` step needs `for: <duration>`".into()))?;
        Action::ExpectNone {
            expect: compile::compile(exp, &Shape::any_body(), scope)?,
            span,
        }
    } else {
        unreachable!("exactly one kind of step is present")
    };
    Ok(Step {
        name: s.name.clone(),
        metrics,
        sends_metrics,
        action,
        at: String::new(),
        while_closed: s.while_closed.unwrap_or(false),
        if_set: s.if_set.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id: "9.99"
title: a case
tp469: "1.4.0"
tag: mandatory
metrics: [The EUT answers.]
steps:
  - send: { get: { param_paths: [Device.LocalAgent.EndpointID] } }
    expect: { get_resp: {} }
    metric: 1
"#;

    #[test]
    fn a_good_case_loads() {
        let c = load_str(GOOD, "good.yaml").unwrap();
        assert_eq!(c.id, "9.99");
        assert_eq!(c.steps.len(), 1);
        assert_eq!(c.steps[0].at, "8:5");
    }

    /// Only a profile alternate may be missing; a capture named in `if_set` is refused.
    #[test]
    fn if_set_names_only_profile_alternates() {
        let ok = GOOD.replace(
            "    metric: 1",
            "    metric: 1\n    if_set: alt.async_command_name",
        );
        assert_eq!(
            load_str(&ok, "ok.yaml").unwrap().steps[0].if_set.as_deref(),
            Some("alt.async_command_name")
        );
        let bad = GOOD.replace("    metric: 1", "    metric: 1\n    if_set: sub_a");
        let e = load_str(&bad, "bad.yaml").unwrap_err();
        assert!(e.message.contains("alt."), "{e}");
    }

    #[test]
    fn unknown_keys_name_file_line_and_column() {
        let bad = GOOD.replace("    metric: 1", "    metrc: 1");
        let e = load_str(&bad, "bad.yaml").unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("bad.yaml", 10), "{e}");
        assert!(e.message.contains("metrc"), "{e}");
    }

    #[test]
    fn unknown_proto_fields_are_errors_at_the_step() {
        let bad = GOOD.replace("param_paths", "param_pahts");
        let e = load_str(&bad, "bad.yaml").unwrap_err();
        assert_eq!(e.line, 8, "{e}");
        assert!(e.message.contains("unknown field 'param_pahts'"), "{e}");
    }

    #[test]
    fn step_shape_errors() {
        let bad = GOOD.replace("    metric: 1", "    metric: 3");
        assert!(
            load_str(&bad, "b")
                .unwrap_err()
                .message
                .contains("metric 3")
        );
        let bad = GOOD.replace("expect: { get_resp: {} }", "within: 5s");
        assert!(
            load_str(&bad, "b")
                .unwrap_err()
                .message
                .contains("`within`")
        );
        let e = load_str("id: [", "broken.yaml").unwrap_err();
        assert_eq!(e.file, "broken.yaml");
    }

    #[test]
    fn faults_must_be_known_and_name_existing_metrics() {
        let with = |f: &str| GOOD.replace("steps:", &format!("faults: [{f}]\nsteps:"));
        assert!(load_str(&with("{ name: no-unique-keys, metric: 1 }"), "f").is_ok());
        let e = load_str(&with("{ name: no-unique-kees, metric: 1 }"), "f").unwrap_err();
        assert!(
            e.message.contains("unknown fault \"no-unique-kees\""),
            "{e}"
        );
        let e = load_str(&with("{ name: no-unique-keys, metric: 2 }"), "f").unwrap_err();
        assert!(e.message.contains("metric 2 does not exist"), "{e}");
        let e = load_str(
            &with("{ name: no-unique-keys, metric: 1, over: mqtt31 }"),
            "f",
        );
        assert!(e.unwrap_err().message.contains("mqtt311"));
    }
}
