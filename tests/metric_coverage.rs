//! `docs/metric-coverage.md` lists, for every TP-469 metric the cases hold, the faults that
//! prove it can fail, or why no agent can break it. This keeps the page current, the way a
//! snapshot test keeps a tool's own output honest.

use std::path::Path;

#[test]
fn the_metric_coverage_page_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cases = uspcheck::suite::load_dir(&root.join("testcases")).expect("the cases load");
    let page = uspcheck::report::coverage::render(&cases);
    let file = root.join("docs/metric-coverage.md");
    if std::env::var_os("USPCHECK_UPDATE_DOCS").is_some() {
        std::fs::write(&file, &page).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        committed == page,
        "docs/metric-coverage.md is out of date: run \
         `USPCHECK_UPDATE_DOCS=1 cargo test --test metric_coverage` and commit it"
    );
}
