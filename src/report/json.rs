//! The JSON report: the result model as it is, for tools and for the docs results page.

use super::RunReport;

/// Pretty JSON of the whole run.
pub fn render(r: &RunReport) -> String {
    serde_json::to_string_pretty(r).expect("the result model serialises")
}
