//! The JSON report: the result model as it is, for tools and for the docs results page.

use super::RunReport;

/// Pretty JSON of the whole run.
pub fn render(r: &RunReport) -> String {
    serde_json::to_string_pretty(r).expect("the result model serialises")
}

/// A run's JSON report read back (what `uspcheck results` and `uspcheck merge` take).
pub fn read(path: &std::path::Path) -> Result<RunReport, String> {
    std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str::<RunReport>(&t).map_err(|e| e.to_string()))
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_report_reads_back_as_written_and_a_bad_one_names_its_file() {
        let dir = std::env::temp_dir().join(format!("uspcheck-json-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let r = crate::report::failed_run("agent", "t", "m");
        let p = dir.join("uspcheck.json");
        std::fs::write(&p, super::render(&r)).unwrap();
        let back = super::read(&p).unwrap();
        assert_eq!(back.cases[0].failure().unwrap().message, "m");
        std::fs::write(&p, "{").unwrap();
        assert!(
            super::read(&p)
                .unwrap_err()
                .starts_with(&p.display().to_string())
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
