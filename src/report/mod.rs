//! Reports from one result model: JUnit XML for CI, JSON for tools (and the docs results
//! page), an HTML page for people, and the closing summary on the terminal.

pub mod coverage;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
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
    format!(
        "{what}: {} passed, {} failed, {} errors, {} not applicable, {} skipped",
        c.pass, c.fail, c.error, c.not_applicable, c.skipped
    )
}
