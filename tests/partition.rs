//! `run --partition k/n` shards a run over CI's parallel jobs and `merge` joins the parts, as
//! the `ci/` examples use them: each selected case runs in exactly one part, and the merged
//! reports and exit code are those of the whole run.

mod common;

use std::path::Path;

use common::{scratch, uspcheck};

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The ids of the cases a report did not skip.
fn ran(report: &serde_json::Value) -> Vec<String> {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["verdict"] != "skipped")
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn partitions_run_each_case_once_and_merge_into_the_whole_run() {
    let d = scratch("partition");
    let cases = ["1.1", "1.36", "1.41"];
    let fault = ["--fault", "get-invalid-param-error"];
    let mut all = Vec::new();
    for k in 1..=2 {
        let part = format!("{k}/2");
        let dir = format!("p{k}");
        let mut args = vec!["run", "-q", "--partition", &part, "--report-dir", &dir];
        args.extend(fault);
        args.extend(cases);
        let (code, out) = uspcheck(&args, &d);
        assert!(out.contains(&format!("partition {k}/2: ")), "{out}");
        let report = json(&d.join(&dir).join("uspcheck.json"));
        assert_eq!(report["partition"]["k"], k);
        assert_eq!(report["partition"]["n"], 2);
        let held = ran(&report);
        // 1.41 fails under the fault; the part that holds it exits 1, the other 0.
        assert_eq!(
            code,
            if held.contains(&"1.41".into()) { 1 } else { 0 },
            "{out}"
        );
        all.extend(held);
    }
    all.sort();
    assert_eq!(
        all, cases,
        "each selected case ran in exactly one partition"
    );

    let (code, out) = uspcheck(
        &[
            "merge",
            "--out",
            "merged",
            "p2/uspcheck.json",
            "p1/uspcheck.json",
        ],
        &d,
    );
    assert_eq!(code, 1, "the merged run has 1.41's failure: {out}");
    assert!(
        out.contains("uspcheck: 2 passed, 1 failed, 0 errors, 0 not applicable"),
        "{out}"
    );
    let merged = json(&d.join("merged/uspcheck.json"));
    assert!(merged.get("partition").is_none());
    assert_eq!(ran(&merged), cases);
    let junit = std::fs::read_to_string(d.join("merged/junit.xml")).unwrap();
    assert_eq!(junit.matches("<failure").count(), 1, "{junit}");
    assert!(d.join("merged/index.html").exists());

    // The same part twice overlaps; a part of another selection is another run.
    let (code, out) = uspcheck(
        &[
            "merge",
            "--out",
            "m2",
            "p1/uspcheck.json",
            "p1/uspcheck.json",
        ],
        &d,
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("overlap"), "{out}");
    for (dir, fault, selection, refusal) in [
        (
            "other-selection",
            fault[1],
            &["1.36"][..],
            "different selections",
        ),
        (
            "other-eut",
            "ignore-allow-partial",
            &cases[..],
            "different EUTs",
        ),
    ] {
        let mut args = vec!["run", "-q", "--partition", "2/2", "--report-dir", dir];
        args.extend(["--fault", fault]);
        args.extend(selection);
        let (code, out) = uspcheck(&args, &d);
        assert!(code == 0 || code == 1, "{out}");
        let other = format!("{dir}/uspcheck.json");
        let (code, out) = uspcheck(&["merge", "--out", "m3", "p1/uspcheck.json", &other], &d);
        assert_eq!(code, 2, "{out}");
        assert!(out.contains(refusal), "{out}");
    }
}

#[test]
fn an_empty_partition_of_a_small_selection_is_not_an_error_and_says_so() {
    let d = scratch("partition-empty");
    let (code, out) = uspcheck(&["run", "--partition", "3/3", "1.36", "1.41"], &d);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("partition 3/3: 0 of the 2 selected cases")
            && out.contains("which is not an error"),
        "{out}"
    );
    for bad in ["0/3", "4/3", "3", "x/y"] {
        let (code, out) = uspcheck(&["run", "--partition", bad, "--list"], &d);
        assert_eq!(code, 2, "{bad}: {out}");
    }
}
