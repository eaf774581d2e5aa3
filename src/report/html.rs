//! The HTML report: one self-contained page with the counts, a table of cases, and for each
//! case its failure (step, metric, expected, actual) and a colour-coded wire log in the
//! manner of Autobahn|Testsuite. No scripts, no external assets, so it opens anywhere.

use std::fmt::Write;

use super::model::MetricVerdict;
use super::{RunReport, Verdict};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left;vertical-align:top}\
tr:nth-child(even){background:#f6f6f6}.pass{color:#1a7f37}.fail{color:#cf222e;font-weight:bold}\
.error{color:#9a6700;font-weight:bold}.na,.skipped{color:#777}pre{background:#f6f8fa;padding:8px;\
white-space:pre-wrap;word-break:break-all}.in{color:#0550ae}.out{color:#1a7f37}.mtp{color:#777}.mqtt{color:#8250df}\
.viol{color:#cf222e}.dev{color:#8250df;font-weight:bold}.metrics{margin:6px 0}details{margin:4px 0}summary{cursor:pointer}";

fn class(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Error => "error",
        Verdict::NotApplicable => "na",
        Verdict::Skipped => "skipped",
    }
}

fn metric_class(v: MetricVerdict) -> &'static str {
    match v {
        MetricVerdict::Pass => "pass",
        MetricVerdict::Fail => "fail",
        MetricVerdict::Inconclusive => "error",
        MetricVerdict::NotReached => "na",
    }
}

/// Renders the run as one HTML page.
pub fn render(r: &RunReport) -> String {
    let c = r.counts();
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html><head><meta charset=utf-8><title>uspcheck: {}</title><style>{STYLE}</style></head><body>\
<h1>uspcheck report</h1><p>{} · TP-469 {} · EUT: {} (<code>{}</code>) · started {}</p>\
<p><span class=pass>{} passed</span> · <span class=fail>{} failed</span> · <span class=error>{} errors</span> · \
<span class=na>{} not applicable</span> · <span class=skipped>{} skipped</span></p><table><tr><th>id</th><th>title</th><th>tag</th><th>verdict</th><th>time</th></tr>",
        esc(&r.eut),
        esc(&r.tool),
        esc(&r.tp469),
        esc(&r.eut),
        esc(&r.eut_endpoint_id),
        esc(&r.started),
        c.pass,
        c.fail,
        c.error,
        c.not_applicable,
        c.skipped
    );
    for x in [&r.extended_suite, &r.interrupted].into_iter().flatten() {
        let _ = write!(h, "<p class=error>{}</p>", esc(x));
    }
    if let Some(p) = &r.partition {
        let _ = write!(
            h,
            "<p>partition {}/{} of a sharded run: the cases of the other partitions are skipped \
             here (<code>uspcheck merge</code> joins the parts)</p>",
            p.k, p.n
        );
    }
    for o in &r.cases {
        let _ = write!(
            h,
            "<tr><td><a href=\"#case-{id}\">{id}</a></td><td>{}</td><td>{}</td><td class={}>{}{}</td><td>{} ms</td></tr>",
            esc(&o.title),
            esc(&o.tag),
            class(o.verdict()),
            o.verdict().as_str(),
            if o.deviations.is_empty() {
                String::new()
            } else {
                format!(
                    " <span class=dev title=\"{}\">(deviates from TP-469)</span>",
                    esc(&o.deviations.join(" "))
                )
            },
            o.duration_ms,
            id = esc(&o.id)
        );
    }
    h.push_str("</table>");
    for o in &r.cases {
        if o.verdict() == Verdict::Skipped {
            continue;
        }
        let _ = write!(
            h,
            "<h2 id=\"case-{id}\">{id} {} <span class={}>{}</span></h2><p>{} · {} · <code>{}</code>{}</p>",
            esc(&o.title),
            class(o.verdict()),
            o.verdict().as_str(),
            esc(&o.tag),
            esc(&o.mtp),
            esc(&o.file),
            if o.requirements.is_empty() {
                String::new()
            } else {
                format!(" · {}", esc(&o.requirements.join(", ")))
            },
            id = esc(&o.id)
        );
        if let Some(reason) = o.reason() {
            let _ = write!(h, "<p>{}</p>", esc(reason));
        }
        if !o.alternates.is_empty() {
            let used: Vec<String> = o
                .alternates
                .iter()
                .map(|(k, v)| format!("<code>{}</code> = <code>{}</code>", esc(k), esc(v)))
                .collect();
            let _ = write!(h, "<p>alternate elements used: {}</p>", used.join(", "));
        }
        for d in &o.deviations {
            let _ = write!(h, "<p class=dev>deviation from TP-469: {}</p>", esc(d));
        }
        if !o.metrics.is_empty() {
            // The requirement column only where some metric names its TR-369 requirements.
            let reqs = o.metrics.iter().any(|m| !m.requirements.is_empty());
            let _ = write!(
                h,
                "<table class=metrics><tr><th>metric</th><th>verdict</th><th>TP-469 text</th>{}</tr>",
                if reqs { "<th>TR-369</th>" } else { "" }
            );
            for m in &o.metrics {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td class={}>{}</td><td>{}</td>{}</tr>",
                    m.number,
                    metric_class(m.verdict),
                    m.verdict.as_str(),
                    esc(&m.text),
                    if reqs {
                        format!("<td>{}</td>", esc(&m.requirements.join(", ")))
                    } else {
                        String::new()
                    }
                );
            }
            h.push_str("</table>");
        }
        if let Some(f) = o.failure() {
            let _ = write!(
                h,
                "<pre class={}>{}</pre>",
                class(o.verdict()),
                esc(&f.text())
            );
        }
        for p in &o.cleanup_problems {
            let _ = write!(h, "<p class=error>clean-up: {}</p>", esc(p));
        }
        if o.log.is_empty() {
            continue;
        }
        h.push_str("<details><summary>wire log</summary><table>");
        for l in &o.log {
            let arrow = match l.dir.as_str() {
                "in" => "EUT → harness",
                "out" => "harness → EUT",
                "mqtt" => "MQTT broker",
                _ => "MTP",
            };
            let _ = write!(
                h,
                "<tr class={}><td>{:.3}s</td><td>{arrow}</td><td>{}",
                l.dir,
                l.t,
                esc(&l.text)
            );
            if let Some(d) = &l.decoded {
                let _ = write!(
                    h,
                    "<details><summary>decoded</summary><pre>{}</pre>",
                    esc(d)
                );
                if let Some(x) = &l.hex {
                    let _ = write!(h, "<pre>{}</pre>", esc(x));
                }
                h.push_str("</details>");
            }
            for v in &l.violations {
                let _ = write!(h, "<div class=viol>{}</div>", esc(v));
            }
            h.push_str("</td></tr>");
        }
        h.push_str("</table></details>");
    }
    h.push_str("</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{MetricResult, MetricVerdict};

    #[test]
    fn failures_and_markup_are_escaped() {
        let mut r = crate::report::failed_run("<agent>", "Add & more", "expected <x>");
        let case = &mut r.cases[0];
        case.metrics = vec![MetricResult {
            number: 1,
            text: "The EUT sends <an> AddResp.".into(),
            requirements: vec!["R-ADD.1".into()],
            verdict: MetricVerdict::Fail,
        }];
        case.deviations = vec!["stricter & why".into()];
        case.alternates = vec![("async_command".into(), "Device.X()".into())];
        let page = render(&r);
        assert!(page.contains("Add &amp; more"));
        assert!(page.contains("expected &lt;x&gt;"));
        assert!(page.contains("1 failed"));
        assert!(page.contains("The EUT sends &lt;an&gt; AddResp."));
        assert!(page.contains("deviation from TP-469: stricter &amp; why"));
        assert!(!page.contains("<agent>"));
        assert!(page.contains("<code>async_command</code> = <code>Device.X()</code>"));
    }
}
