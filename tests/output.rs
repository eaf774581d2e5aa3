//! What `uspcheck run` prints, end to end: result lines whole and in the order cases end,
//! reports in id order whatever that order, one summary agreeing with the lines, the
//! failures listed again above it, colour only when asked for (never when piped), and
//! diagnostics only when asked for (`-v`, `RUST_LOG`), on standard error.

use std::path::Path;

use uspcheck::report::RunReport;

mod common;
use common::{scratch, uspcheck};

/// 9.1 waits out a second of silence, 9.2 is answered at once, 9.3 fails (it takes the
/// answer to a Get for a SetResp), 9.4 waits out three seconds of silence.
fn write_cases(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let case = |id: &str, title: &str, steps: &str| {
        std::fs::write(
            dir.join(format!("{id}.yaml")),
            format!("id: '{id}'\ntitle: {title}\ntp469: '1.4.0'\ntag: mandatory\nsteps:\n{steps}"),
        )
        .unwrap();
    };
    case(
        "9.1",
        "silent",
        "  - expect_none: { notify: {} }\n    for: 1s\n",
    );
    case(
        "9.4",
        "longer",
        "  - expect_none: { notify: {} }\n    for: 3s\n",
    );
    case(
        "9.2",
        "quick",
        "  - send: { get: { param_paths: [Device.LocalAgent.EndpointID] } }\n    expect: { get_resp: {} }\n",
    );
    case(
        "9.3",
        "broken",
        "  - send: { get: { param_paths: [Device.LocalAgent.EndpointID] } }\n    expect: { set_resp: {} }\n",
    );
}

#[test]
fn the_longest_case_starts_first_lines_come_as_cases_end_and_reports_stay_in_id_order() {
    let d = scratch("output-order");
    write_cases(&d.join("cases"));
    let (code, out) = uspcheck(
        &[
            "run",
            "--cases",
            "cases",
            "--test-threads",
            "2",
            "9.1",
            "9.2",
            "9.4",
        ],
        &d,
    );
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("test ")).collect();
    // Longest first: 9.4 and 9.1 start together, 9.2 follows 9.1 and ends two seconds
    // before 9.4. In id order 9.2 would have started at once, and ended first.
    assert_eq!(
        lines,
        [
            "test 9.1 silent ... ok",
            "test 9.2 quick ... ok",
            "test 9.4 longer ... ok"
        ],
        "{out}"
    );
    assert!(out.contains("running 3 tests (1 skipped)"), "{out}");
    assert!(
        out.contains("uspcheck: 3 passed, 0 failed, 0 errors, 0 not applicable, 1 skipped"),
        "{out}"
    );
    // One summary: no libtest-style line beside it.
    assert!(!out.contains("test result"), "{out}");
    let json = std::fs::read_to_string(d.join("reports/uspcheck.json")).unwrap();
    let report: RunReport = serde_json::from_str(&json).unwrap();
    let ids: Vec<&str> = report.cases.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["9.1", "9.2", "9.3", "9.4"]);
}

#[test]
fn failures_are_listed_again_above_the_summary_and_colour_is_only_on_request() {
    let d = scratch("output-color");
    write_cases(&d.join("cases"));
    let (code, out) = uspcheck(&["run", "--cases", "cases", "9.2", "9.3"], &d);
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains('\x1b'), "piped output is not coloured: {out}");
    let tail: Vec<&str> = out.lines().rev().take(3).collect();
    assert!(
        tail[0].starts_with("uspcheck: 1 passed, 1 failed, 0 errors"),
        "{out}"
    );
    assert!(
        tail[2].starts_with("    FAILED 9.3 broken: steps[0]"),
        "the recap is just above the summary: {out}"
    );
    let (_, out) = uspcheck(
        &["run", "--cases", "cases", "--color", "always", "9.2", "9.3"],
        &d,
    );
    assert!(
        out.contains("test 9.2 quick ... \x1b[32mok\x1b[0m"),
        "{out}"
    );
    assert!(out.contains("... \x1b[1;31mFAILED\x1b[0m"), "{out}");
    let (_, out) = uspcheck(&["run", "--cases", "cases", "--color", "never", "9.2"], &d);
    assert!(!out.contains('\x1b'), "{out}");
}

#[test]
fn diagnostics_are_on_standard_error_only_when_asked_for_and_name_their_case() {
    let d = scratch("output-diagnostics");
    write_cases(&d.join("cases"));
    let run = |verbose: &[&str], rust_log: Option<&str>| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_uspcheck"));
        c.args(["run", "--cases", "cases", "9.2"])
            .args(verbose)
            .current_dir(&d)
            .env_remove("RUST_LOG");
        if let Some(r) = rust_log {
            c.env("RUST_LOG", r);
        }
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (plain, err) = run(&[], None);
    assert_eq!(err, "", "a normal run has no diagnostics");
    let (out, err) = run(&["-v"], None);
    assert!(out.contains("test 9.2 quick ... ok"), "{out}");
    assert!(
        err.contains("INFO case{id=9.2}: uspcheck::run::runner: case started"),
        "{err}"
    );
    assert!(err.contains("case ended verdict=pass"), "{err}");
    assert!(!err.contains("DEBUG"), "-v is info: {err}");
    assert!(
        err.lines().all(|l| l.contains(" INFO ")),
        "whole lines: {err}"
    );
    let results = |o: &str| -> Vec<String> {
        o.lines()
            .filter(|l| l.starts_with("test ") || l.starts_with("uspcheck:"))
            .map(String::from)
            .collect()
    };
    assert_eq!(
        results(&out),
        results(&plain),
        "the output itself is unchanged"
    );
    let (_, err) = run(&["-vv"], None);
    assert!(err.contains("DEBUG case{id=9.2}"), "{err}");
    assert!(err.contains("link up"), "-vv shows the links: {err}");
    assert!(!err.contains("TRACE"), "{err}");
    // RUST_LOG decides instead of -v.
    let (_, err) = run(&["-vvv"], Some("uspcheck::run::runner=info"));
    assert!(err.contains("case started"), "{err}");
    assert!(!err.contains("DEBUG") && !err.contains("TRACE"), "{err}");
}
