//! Which TP-469 metrics are proven able to fail: for every case, every metric with the
//! reference-agent faults that break it, the metrics no agent can break (with why), and the
//! ones still waiting for a fault. `docs/metric-coverage.md` is this page; a test keeps it
//! current.

use std::fmt::Write;

use crate::suite::Case;

/// Counts over all cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Coverage {
    pub metrics: usize,
    pub proven: usize,
    pub unbreakable: usize,
    pub waiting: usize,
}

/// The faults of `case` that name metric `number`.
fn proofs(case: &Case, number: u32) -> Vec<&str> {
    case.faults
        .iter()
        .filter(|f| f.metrics.contains(&number))
        .map(|f| f.name.as_str())
        .collect()
}

/// The counts for `cases`.
pub fn count(cases: &[Case]) -> Coverage {
    let mut c = Coverage::default();
    for case in cases {
        for (i, m) in case.metrics.iter().enumerate() {
            c.metrics += 1;
            if !proofs(case, i as u32 + 1).is_empty() {
                c.proven += 1;
            } else if m.unbreakable.is_some() {
                c.unbreakable += 1;
            } else {
                c.waiting += 1;
            }
        }
    }
    c
}

fn one_line(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let s = s.replace('|', "\\|");
    if s.chars().count() > 140 {
        format!("{}…", s.chars().take(140).collect::<String>())
    } else {
        s
    }
}

/// The Markdown page.
pub fn render(cases: &[Case]) -> String {
    let c = count(cases);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Metric coverage\n\n\
         Generated from `testcases/` by `tests/metric_coverage.rs` \
         (`USPCHECK_UPDATE_DOCS=1 cargo test --test metric_coverage` rewrites it).\n\n\
         A metric is **proven** when a reference-agent fault named in the case's `faults:` makes \
         the case fail at that metric (`tests/prove_cases.rs` checks it). A metric no agent can \
         break says why in its case (`unbreakable:`). The rest are **waiting** for a fault: \
         they are checked against every agent, but the project has not yet shown that the \
         check can fail.\n\n\
         | metrics | proven by a fault | unbreakable | waiting for a fault |\n|---|---|---|---|\n\
         | {} | {} | {} | {} |\n",
        c.metrics, c.proven, c.unbreakable, c.waiting
    );
    let mut unbreakable = String::new();
    let mut waiting = String::new();
    let _ = writeln!(
        out,
        "## Every metric\n\n| case | metric | proven by | text |\n|---|---|---|---|"
    );
    for case in cases {
        for (i, m) in case.metrics.iter().enumerate() {
            let n = i as u32 + 1;
            let p = proofs(case, n);
            let by = if !p.is_empty() {
                p.iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            } else if let Some(why) = &m.unbreakable {
                let _ = writeln!(unbreakable, "| {} | {n} | {} |", case.id, one_line(why));
                "unbreakable".into()
            } else {
                let why = m
                    .waiting
                    .as_deref()
                    .map_or("(no reason given)".into(), one_line);
                let _ = writeln!(waiting, "| {} | {n} | {why} |", case.id);
                "waiting".into()
            };
            let _ = writeln!(out, "| {} | {n} | {by} | {} |", case.id, one_line(&m.text));
        }
    }
    let universal: Vec<String> = cases
        .iter()
        .flat_map(|c| {
            c.faults
                .iter()
                .filter(|f| f.universal)
                .map(move |f| format!("{} (`{}`)", c.id, f.name))
        })
        .collect();
    if !universal.is_empty() {
        let _ = writeln!(
            out,
            "\nFaults that break a universal test metric before any of the case's: {}.",
            universal.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "\n## Metrics no agent can break\n\n| case | metric | why |\n|---|---|---|"
    );
    out.push_str(&unbreakable);
    let _ = writeln!(
        out,
        "\n## Metrics waiting for a fault\n\nAn agent can break these, but the reference agent \
         cannot yet; the case says why (`waiting:`).\n\n| case | metric | why |\n|---|---|---|"
    );
    out.push_str(&waiting);
    out
}
