//! `uspcheck merge`: the JSON reports of the partitions of one sharded run (`run --partition
//! k/n` in CI's parallel jobs), or of runs of disjoint selections, joined into one run report,
//! from which the usual JUnit, JSON and HTML are written.
//!
//! Inputs are refused when they cannot be parts of one run: another uspcheck, TP-469 version,
//! EUT, suite (case list) or MTP, partitions of different selections, or two inputs holding the
//! same case. A partition whose report is missing is not silently left out: each of its cases
//! becomes an *error* saying so, so a merge never reports less than was asked for as a pass.

use std::collections::HashMap;

use super::model::{Outcome, PartitionReport};
use super::{CaseOutcome, Failure, RunReport, Verdict};
use crate::suite::select::Partition;

/// The joined report, and what the merge has to say about it (missing partitions).
#[derive(Debug)]
pub struct Merged {
    pub report: RunReport,
    pub notes: Vec<String>,
}

/// Joins `inputs` (each a name for messages, e.g. its file, and its report) into one report.
/// `Err` says why they are not parts of one run.
pub fn merge(inputs: &[(String, RunReport)]) -> Result<Merged, String> {
    let Some((first_name, first)) = inputs.first() else {
        return Err("no report to merge".into());
    };
    for (name, r) in &inputs[1..] {
        same_run(first_name, first, name, r)?;
    }
    let by_id: Vec<HashMap<&str, &CaseOutcome>> = inputs
        .iter()
        .map(|(_, r)| r.cases.iter().map(|o| (o.id.as_str(), o)).collect())
        .collect();
    let owners = owners(inputs)?;
    let mut notes = Vec::new();
    let mut cases = Vec::new();
    for o in &first.cases {
        let id = o.id.as_str();
        match owners.get(id) {
            Some(Owner::Input(i)) => cases.push(by_id[*i][id].clone()),
            Some(Owner::Missing(p)) => {
                let mut lost = o.clone();
                lost.outcome = Outcome::Error {
                    failure: Failure {
                        step: "merge".into(),
                        message: format!(
                            "no report of partition {p} was given to `uspcheck merge`: this \
                             case has no verdict"
                        ),
                        ..Default::default()
                    },
                };
                cases.push(lost);
            }
            None => cases.push(o.clone()),
        }
    }
    let mut missing: Vec<String> = owners
        .values()
        .filter_map(|o| match o {
            Owner::Missing(p) => Some(p.to_string()),
            Owner::Input(_) => None,
        })
        .collect();
    missing.sort();
    missing.dedup();
    for p in missing {
        notes.push(format!(
            "partition {p}: no report was given; its cases are reported as errors"
        ));
    }
    cases.sort_by_key(|o| crate::suite::case::id_key(&o.id));
    let interrupted: Vec<String> = inputs
        .iter()
        .filter_map(|(name, r)| r.interrupted.as_ref().map(|x| format!("{name}: {x}")))
        .collect();
    Ok(Merged {
        report: RunReport {
            tool: first.tool.clone(),
            tp469: first.tp469.clone(),
            eut: first.eut.clone(),
            eut_endpoint_id: first.eut_endpoint_id.clone(),
            extended_suite: first.extended_suite.clone(),
            interrupted: (!interrupted.is_empty()).then(|| interrupted.join("; ")),
            // The earliest part's start: the merged run began when its first part did.
            started: inputs
                .iter()
                .filter_map(|(_, r)| super::clock::parse(&r.started).map(|t| (t, &r.started)))
                .min_by_key(|(t, _)| *t)
                .map_or_else(|| first.started.clone(), |(_, s)| s.clone()),
            partition: None,
            cases,
        },
        notes,
    })
}

/// What the parts of one run have in common, each with what it is called.
fn identity(r: &RunReport) -> [(&'static str, String); 6] {
    let mut ids: Vec<&str> = r.cases.iter().map(|o| o.id.as_str()).collect();
    ids.sort_by_key(|id| crate::suite::case::id_key(id));
    let mut mtps: Vec<&str> = r.cases.iter().map(|o| o.mtp.as_str()).collect();
    mtps.sort();
    mtps.dedup();
    [
        ("uspcheck versions", r.tool.clone()),
        ("TP-469 versions", r.tp469.clone()),
        ("EUTs", format!("{} ({})", r.eut, r.eut_endpoint_id)),
        (
            "suites",
            r.extended_suite.clone().unwrap_or_else(|| "TP-469".into()),
        ),
        ("MTPs", mtps.join(", ")),
        (
            "case lists",
            format!("{} cases: {}", ids.len(), ids.join(" ")),
        ),
    ]
}

/// Refuses `b` unless it is a part of the same run as `a`.
fn same_run(a_name: &str, a: &RunReport, b_name: &str, b: &RunReport) -> Result<(), String> {
    for ((what, x), (_, y)) in identity(a).into_iter().zip(identity(b)) {
        if x != y {
            return Err(format!(
                "{a_name} and {b_name} are runs of different {what} ({:?}, {:?}); merge joins \
                 the parts of one run",
                super::markdown::cut(&x, 200),
                super::markdown::cut(&y, 200)
            ));
        }
    }
    match (&a.partition, &b.partition) {
        (None, None) => Ok(()),
        (Some(p), Some(q)) if p.n == q.n && p.selection == q.selection => Ok(()),
        (Some(_), Some(_)) => Err(format!(
            "{a_name} and {b_name} are partitions of different selections or partition counts \
             (the filters and n of --partition must be the same in every part)"
        )),
        _ => Err(format!(
            "{a_name} and {b_name} mix a partition (--partition) with a whole run"
        )),
    }
}

/// Who holds a case's verdict in a merge.
enum Owner {
    /// The input at this index.
    Input(usize),
    /// A partition of which no report was given.
    Missing(Partition),
}

/// Each held case's owner. Partitioned inputs hold the cases dealt to them; whole runs hold
/// the cases they did not skip. A case held twice is refused.
fn owners(inputs: &[(String, RunReport)]) -> Result<HashMap<String, Owner>, String> {
    let mut out: HashMap<String, Owner> = HashMap::new();
    let parts: Vec<&PartitionReport> = inputs
        .iter()
        .filter_map(|(_, r)| r.partition.as_ref())
        .collect();
    if let Some(first) = parts.first() {
        let mut by_k: HashMap<usize, usize> = HashMap::new();
        for (i, (name, r)) in inputs.iter().enumerate() {
            let k = r.partition.as_ref().map_or(0, |p| p.k);
            if let Some(j) = by_k.insert(k, i) {
                return Err(format!(
                    "{} and {name} both hold partition {k}/{}: their cases overlap",
                    inputs[j].0, first.n
                ));
            }
        }
        for (pos, id) in first.selection.iter().enumerate() {
            let k = Partition::holder(pos, first.n);
            let owner = match by_k.get(&k) {
                Some(&i) => Owner::Input(i),
                None => Owner::Missing(Partition { k, n: first.n }),
            };
            out.insert(id.clone(), owner);
        }
        return Ok(out);
    }
    for (i, (name, r)) in inputs.iter().enumerate() {
        for o in r.cases.iter().filter(|o| o.verdict() != Verdict::Skipped) {
            if let Some(Owner::Input(j)) = out.insert(o.id.clone(), Owner::Input(i)) {
                return Err(format!(
                    "case {} ran in both {} and {name}: their cases overlap",
                    o.id, inputs[j].0
                ));
            }
        }
    }
    Ok(out)
}
