//! `uspcheck merge`: the parts of one run join into it; anything else is refused.

use super::merge::merge;
use super::model::{Outcome, PartitionReport};
use super::{Failure, RunReport, Verdict, exit_code, failed_run};

const IDS: [&str; 5] = ["1.1", "1.2", "1.3", "1.4", "1.10"];

/// The outcome a case of this run had, by its id: 1.4 fails, the others pass.
fn ran(id: &str) -> Outcome {
    if id == "1.4" {
        Outcome::Fail {
            failure: Failure {
                step: "steps[0]".into(),
                message: "wrong".into(),
                ..Default::default()
            },
        }
    } else {
        Outcome::Pass
    }
}

/// A run of [`IDS`] in which only the cases `runs` says ran, the others skipped with `why`.
fn run_of(runs: impl Fn(usize, &str) -> bool, why: &str) -> RunReport {
    let mut r = failed_run("agent", "t", "m");
    let template = r.cases.remove(0);
    for (pos, id) in IDS.iter().enumerate() {
        let mut o = template.clone();
        o.id = id.to_string();
        o.outcome = if runs(pos, id) {
            ran(id)
        } else {
            Outcome::Skipped { reason: why.into() }
        };
        r.cases.push(o);
    }
    r
}

/// Partition k of n of [`IDS`] (all selected, dealt in id order).
fn part(k: usize, n: usize) -> (String, RunReport) {
    let mut r = run_of(|pos, _| pos % n + 1 == k, "in another partition");
    r.partition = Some(PartitionReport {
        k,
        n,
        selection: IDS.iter().map(ToString::to_string).collect(),
    });
    (format!("p{k}/uspcheck.json"), r)
}

fn verdicts(r: &RunReport) -> Vec<(&str, Verdict)> {
    r.cases
        .iter()
        .map(|o| (o.id.as_str(), o.verdict()))
        .collect()
}

#[test]
fn partitions_join_into_the_whole_run_in_any_order() {
    let whole = run_of(|_, _| true, "");
    for inputs in [
        vec![part(1, 3), part(2, 3), part(3, 3)],
        vec![part(3, 3), part(1, 3), part(2, 3)],
    ] {
        let m = merge(&inputs).unwrap();
        assert_eq!(verdicts(&m.report), verdicts(&whole));
        assert!(m.report.partition.is_none());
        assert!(m.notes.is_empty(), "{:?}", m.notes);
        assert_eq!(exit_code(&m.report), 1, "1.4 failed");
    }
    // Without the failing case's partition's failure the merged run is green.
    let mut inputs = vec![part(1, 2), part(2, 2)];
    for o in &mut inputs[1].1.cases {
        if o.id == "1.4" {
            o.outcome = Outcome::Pass;
        }
    }
    assert_eq!(exit_code(&merge(&inputs).unwrap().report), 0);
}

/// The merged run began when its earliest part did, and its JSON's totals are those of the
/// union, not of any one part.
#[test]
fn the_merge_starts_with_its_earliest_part_and_counts_the_union() {
    let mut inputs = vec![part(1, 2), part(2, 2)];
    inputs[0].1.started = "2026-12-03T14:42:06Z".into();
    inputs[1].1.started = "2026-12-03T14:40:00Z".into();
    let m = merge(&inputs).unwrap();
    assert_eq!(m.report.started, "2026-12-03T14:40:00Z");
    let doc: serde_json::Value = serde_json::from_str(&super::json::render(&m.report)).unwrap();
    assert_eq!(doc["totals"]["pass"], 4);
    assert_eq!(doc["totals"]["fail"], 1);
    assert_eq!(doc["totals"]["skipped"], 0);
}

#[test]
fn a_missing_partition_is_errors_not_silence() {
    let m = merge(&[part(2, 3), part(3, 3)]).unwrap();
    // 1.1 and 1.4 are in partition 1/3, whose report is missing.
    for id in ["1.1", "1.4"] {
        let lost = m.report.cases.iter().find(|o| o.id == id).unwrap();
        assert_eq!(lost.verdict(), Verdict::Error, "{id}");
        assert!(lost.failure().unwrap().message.contains("partition 1/3"));
    }
    assert_eq!(m.notes.len(), 1, "{:?}", m.notes);
    assert!(m.notes[0].starts_with("partition 1/3"));
    // The failure 1.4 would have been is unknown: errors only, not a pass.
    assert_eq!(exit_code(&m.report), 4);
}

#[test]
fn parts_of_different_runs_are_refused() {
    let err = |inputs: &[(String, RunReport)]| merge(inputs).unwrap_err();
    assert!(err(&[part(2, 3), part(2, 3)]).contains("both hold partition 2/3"));
    assert!(err(&[part(1, 2), part(2, 3)]).contains("different selections"));
    let mut other_eut = part(2, 2);
    other_eut.1.eut_endpoint_id = "os::other".into();
    assert!(err(&[part(1, 2), other_eut]).contains("different EUTs"));
    let mut other_suite = part(2, 2);
    other_suite.1.cases.pop();
    assert!(err(&[part(1, 2), other_suite]).contains("different case lists"));
    let mut other_mtp = part(2, 2);
    for o in &mut other_mtp.1.cases {
        o.mtp = "UDS".into();
    }
    assert!(err(&[part(1, 2), other_mtp]).contains("different MTPs"));
    let whole = ("whole.json".to_string(), run_of(|_, _| true, ""));
    assert!(err(&[part(1, 2), whole]).contains("mix a partition"));
    assert!(merge(&[]).is_err());
}

#[test]
fn whole_runs_of_disjoint_selections_join_and_overlapping_ones_are_refused() {
    let a = (
        "a.json".to_string(),
        run_of(|_, id| id < "1.3", "not selected by the filters"),
    );
    let b = (
        "b.json".to_string(),
        run_of(|_, id| id == "1.4", "not selected by the filters"),
    );
    let m = merge(&[a.clone(), b]).unwrap();
    let v = verdicts(&m.report);
    assert_eq!(
        v,
        [
            ("1.1", Verdict::Pass),
            ("1.2", Verdict::Pass),
            ("1.3", Verdict::Skipped),
            ("1.4", Verdict::Fail),
            ("1.10", Verdict::Pass)
        ]
    );
    let again = ("again.json".to_string(), a.1.clone());
    let e = merge(&[a, again]).unwrap_err();
    assert!(e.contains("ran in both a.json and again.json"), "{e}");
}
