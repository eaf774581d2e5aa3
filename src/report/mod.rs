//! Reports from one result model: JUnit XML for CI, JSON for tools (and the docs results
//! page), an HTML page for people, and the closing summary on the terminal.

pub mod clock;
pub mod coverage;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod merge;
#[cfg(test)]
mod merge_tests;
pub mod model;

pub use model::{CaseOutcome, Counts, Failure, RunReport, Verdict};

/// The closing line: `uspcheck: 48 passed, 2 failed, 1 errors, 0 not applicable, 0 skipped`.
pub fn summary_line(r: &RunReport) -> String {
    let c = r.counts();
    let what = if r.extended_suite.is_some() {
        "uspcheck (extended suite)"
    } else {
        "uspcheck"
    };
    let mut line = format!(
        "{what}: {} passed, {} failed, {} errors, {} not applicable, {} skipped",
        c.pass, c.fail, c.error, c.not_applicable, c.skipped
    );
    if let Some(x) = &r.interrupted {
        line.push_str(&format!(" ({x})"));
    }
    line
}

/// The files a run writes into its report folder.
pub const FILES: [&str; 3] = ["junit.xml", "uspcheck.json", "index.html"];

/// Exit codes, distinct so a CI job can tell why a run is red.
pub mod exit {
    /// Every case that ran passed.
    pub const OK: u8 = 0;
    /// At least one conformance failure.
    pub const FAILED: u8 = 1;
    /// The command line was wrong (clap also uses 2).
    pub const USAGE: u8 = 2;
    /// A case file or the EUT profile could not be loaded, or the agent contradicts the
    /// profile's Endpoint IDs (the preflight).
    pub const BAD_INPUT: u8 = 3;
    /// No failures, but errors: the environment or harness broke, conformance unknown.
    pub const ERRORS: u8 = 4;
    // A run stopped by SIGINT exits 130, by SIGTERM 143 (`run::Signal::exit_code`), after
    // writing the reports of the cases that ended.
}

/// The exit code a run's verdicts give: [`exit::FAILED`] when a case failed, otherwise
/// [`exit::ERRORS`] when one errored (conformance unknown), otherwise [`exit::OK`].
/// `uspcheck run` and `uspcheck merge` both end with it; usage errors, unloadable files and
/// signals are decided before.
pub fn exit_code(r: &RunReport) -> u8 {
    let c = r.counts();
    if c.fail > 0 {
        exit::FAILED
    } else if c.error > 0 {
        exit::ERRORS
    } else {
        exit::OK
    }
}

/// Writes the run's [`FILES`] (JUnit, JSON, HTML) into `dir`, creating it; returns their paths.
pub fn write_all(r: &RunReport, dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    // One at a time, and each straight to its file: each holds every case's wire log again
    // while it is made.
    type Write = fn(&RunReport, &mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>;
    let writers: [Write; 3] = [
        |r, w| junit::write(r, w),
        |r, w| json::write(r, w),
        |r, w| html::write(r, w),
    ];
    let mut written = Vec::new();
    for (name, write) in FILES.into_iter().zip(writers) {
        let p = dir.join(name);
        std::fs::File::create(&p)
            .map(std::io::BufWriter::new)
            .and_then(|mut w| {
                write(r, &mut w)?;
                std::io::Write::flush(&mut w)
            })
            .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
        written.push(p);
    }
    Ok(written)
}

/// Makes `dir` ready for a run's reports before any case runs: the folder is created, a
/// probe file is written in it and removed (so a folder that cannot be written to is found
/// now, not after the run), and the reports of an earlier run are removed, so that a run that
/// ends without writing its own never leaves those looking current.
pub fn prepare_dir(dir: &std::path::Path) -> Result<(), String> {
    let show = dir.display();
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the report folder {show}: {e}"))?;
    let probe = dir.join(format!(".uspcheck-probe-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| format!("cannot write in the report folder {show}: {e}"))?;
    for name in FILES {
        match std::fs::remove_file(dir.join(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(format!(
                    "cannot remove the earlier report {show}/{name}: {e}"
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// A run of one failed case whose texts are `eut`, `title` and `message`: the fixture of the
/// report renderers' tests.
#[cfg(test)]
pub(crate) fn failed_run(eut: &str, title: &str, message: &str) -> RunReport {
    RunReport {
        tool: "uspcheck".into(),
        tp469: "1.4.0".into(),
        eut: eut.into(),
        eut_endpoint_id: "proto::a".into(),
        extended_suite: None,
        interrupted: None,
        started: "now".into(),
        partition: None,
        cases: vec![CaseOutcome {
            id: "1.1".into(),
            title: title.into(),
            tag: "mandatory".into(),
            features: vec![],
            requirements: vec![],
            file: "f".into(),
            mtp: "WebSocket".into(),
            outcome: model::Outcome::Fail {
                failure: Failure {
                    step: "steps[0]".into(),
                    message: message.into(),
                    ..Default::default()
                },
            },
            metrics: vec![],
            deviations: vec![],
            cleanup_problems: vec![],
            duration_ms: 1,
            log: vec![],
            alternates: vec![],
        }],
    }
}
