//! The JSON report: the result model as it is, for tools and for the docs results page, with
//! the run's totals (the summary line's counts) first, so a person or a `jq .totals` sees them
//! before thousands of lines of cases.

use serde::Serialize;

use super::{Counts, RunReport};

/// The document as written: `totals` first, then the run's fields. The totals are always
/// counted from the cases when the file is written, never read back, so a merged or re-written
/// report can never carry stale ones.
#[derive(Serialize)]
struct Document<'a> {
    totals: Counts,
    #[serde(flatten)]
    run: &'a RunReport,
}

/// Pretty JSON of the whole run.
pub fn render(r: &RunReport) -> String {
    let mut out = Vec::new();
    write(r, &mut out).expect("the result model serialises into memory");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Writes the pretty JSON of the whole run to `w` as it goes, without holding the document:
/// a run's report can be tens of megabytes.
pub fn write(r: &RunReport, w: impl std::io::Write) -> std::io::Result<()> {
    let doc = Document {
        totals: r.counts(),
        run: r,
    };
    serde_json::to_writer_pretty(w, &doc).map_err(std::io::Error::other)
}

/// A run's JSON report read back (what `uspcheck results` and `uspcheck merge` take). Its
/// `totals` are not read (they are counted again from the cases), so reports written before
/// there were totals read the same.
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

    /// The totals open the document; a report without them (older) or with wrong ones reads,
    /// and is written again with the totals of its cases.
    #[test]
    fn totals_come_first_and_are_counted_again_when_written() {
        let r = crate::report::failed_run("agent", "t", "m");
        let text = super::render(&r);
        assert!(
            text.starts_with(
                "{\n  \"totals\": {\n    \"pass\": 0,\n    \"fail\": 1,\n    \"error\": 0,\n    \
                 \"not_applicable\": 0,\n    \"skipped\": 0\n  },\n  \"tool\": \"uspcheck\","
            ),
            "{text}"
        );
        let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let dir = std::env::temp_dir().join(format!("uspcheck-totals-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("uspcheck.json");
        for totals in [None, Some(serde_json::json!({"pass": 7, "fail": 0}))] {
            match &totals {
                None => doc.as_object_mut().unwrap().remove("totals"),
                Some(t) => doc
                    .as_object_mut()
                    .unwrap()
                    .insert("totals".into(), t.clone()),
            };
            std::fs::write(&p, doc.to_string()).unwrap();
            let back = super::read(&p).unwrap();
            let again: serde_json::Value = serde_json::from_str(&super::render(&back)).unwrap();
            assert_eq!(again["totals"]["fail"], 1, "{totals:?}");
            assert_eq!(again["totals"]["pass"], 0, "{totals:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
