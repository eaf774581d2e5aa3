//! Snapshots of what a run prints, for a fixed set of outcomes (pass, fail, error, not
//! applicable, skipped, slow), with colour off and on, compared with the text in
//! `tests/snapshots/`: a change of the format fails here until the snapshot is updated
//! (`USPCHECK_UPDATE_SNAPSHOTS=1 cargo test --lib output_tests` rewrites them; review the diff).

use std::time::Duration;

use super::output::{self, SLOW_AFTER};
use crate::report::model::Outcome;
use crate::report::{self, CaseOutcome, Failure, RunReport};

fn case(id: &str, title: &str, ms: u64, outcome: Outcome) -> CaseOutcome {
    let mut o = report::failed_run("x", title, "m").cases.remove(0);
    o.id = id.into();
    o.outcome = outcome;
    o.duration_ms = ms;
    o
}

fn failure(step: &str, message: &str) -> Failure {
    Failure {
        step: step.into(),
        message: message.into(),
        expected: Some("add_resp".into()),
        actual: Some("error 7004 (Invalid arguments)".into()),
        ..Default::default()
    }
}

/// The outcomes in the order the cases ended (the run's order, not the ids').
fn ended() -> Vec<CaseOutcome> {
    vec![
        case(
            "11.1",
            "MQTT session",
            0,
            Outcome::NotApplicable {
                reason: "this case is for the MQTT MTP; the run is over WebSocket".into(),
            },
        ),
        case("1.59", "Periodic notification", 64_230, Outcome::Pass),
        case("1.1", "Add one object", 120, Outcome::Pass),
        case(
            "1.41",
            "Get with an invalid parameter",
            1_480,
            Outcome::Fail {
                failure: failure(
                    "steps[1] (send get, line 14:5)",
                    "the answer is not the expected one\nsecond line of the message",
                ),
            },
        ),
        case(
            "1.36",
            "Set with a long wait",
            31_000,
            Outcome::Error {
                failure: Failure {
                    step: "connecting to the EUT".into(),
                    message: "the agent did not connect within 300ms ".repeat(8),
                    ..Default::default()
                },
            },
        ),
    ]
}

/// What a run of [`ended`] prints, from the header to the summary, as the runner and `run`'s
/// end print it (the reports' paths aside).
fn transcript(color: bool) -> String {
    let ended = ended();
    let skipped = case(
        "1.2",
        "Filtered out",
        0,
        Outcome::Skipped {
            reason: "not selected by the filters".into(),
        },
    );
    let mut s = format!("\n{}\n", output::header(ended.len(), 1));
    for o in &ended {
        let name = format!("{} {}", o.id, o.title);
        s.push_str(&output::result_line(&name, o, SLOW_AFTER, color));
        s.push('\n');
    }
    s.push_str(&output::details(&ended));
    s.push_str(&format!(
        "\n{}\n",
        output::timing(Duration::from_millis(66_010), &ended)
    ));
    let mut cases = ended;
    cases.push(skipped);
    cases.sort_by_key(|o| crate::suite::case::id_key(&o.id));
    let run = RunReport {
        cases,
        ..report::failed_run("x", "t", "m")
    };
    s.push_str(&output::recap(&run.cases, color));
    s.push_str(&format!("\n{}\n", report::summary_line(&run)));
    s
}

fn compare(file: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(file);
    if std::env::var_os("USPCHECK_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        expected == actual,
        "the output differs from {}:\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

#[test]
fn a_run_prints_as_its_snapshot_says_without_colour() {
    let plain = transcript(false);
    assert!(!plain.contains('\x1b'), "{plain}");
    compare("run-plain.txt", &plain);
}

#[test]
fn a_run_prints_as_its_snapshot_says_with_colour() {
    let color = transcript(true);
    compare("run-color.txt", &color);
    // Colour changes the words' escapes, nothing else.
    let stripped = regex::Regex::new("\x1b\\[[0-9;]*m")
        .unwrap()
        .replace_all(&color, "");
    assert_eq!(stripped, transcript(false));
}

#[test]
fn the_summary_counts_agree_with_the_result_lines() {
    let plain = transcript(false);
    let lines = |word: &str| {
        plain
            .lines()
            .filter(|l| l.starts_with("test ") && l.contains(&format!(" ... {word}")))
            .count()
    };
    let summary = format!(
        "uspcheck: {} passed, {} failed, {} errors, {} not applicable, 1 skipped",
        lines("ok"),
        lines("FAILED"),
        lines("ERROR"),
        lines("not applicable")
    );
    assert!(plain.contains(&summary), "{summary}\n{plain}");
    assert!(plain.contains("running 5 tests (1 skipped)"), "{plain}");
}

#[test]
fn the_status_line_fits_the_terminal() {
    let line = output::status_line(
        "1.59 Event Notification using Periodic!",
        Duration::from_secs(23),
        (8, 42, 121),
        200,
        false,
    );
    assert_eq!(
        line,
        "RUNNING 1.59 Event Notification using Periodic! 23 s (8 running, 42/121 ended)"
    );
    let narrow = output::status_line("1.59 Event", Duration::from_secs(3), (1, 0, 1), 20, false);
    assert_eq!(narrow, "RUNNING 1.59 Event 3");
    assert_eq!(narrow.chars().count(), 20);
}
