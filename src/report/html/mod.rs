//! The HTML report: one self-contained page (no external assets, so it opens anywhere and CI
//! can publish it as it is). Failures and errors come first, then the rest; a small inline
//! script filters the cases by verdict and by id or title (without it, everything shows). Each
//! case has its metrics' verdicts in a table, its failure with expected against actual marked
//! line by line, and a colour-coded wire log whose messages read as TP-469 prints them
//! (protobuf text format), with their JSON on demand.

mod diff;
mod evidence;

use std::fmt::Write;

use super::model::MetricVerdict;
use super::{CaseOutcome, RunReport, Verdict, clock};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:1.5em 2em;color:#1f2328;max-width:90em}\
h1{margin:0 0 .2em}h2{font-size:1.15em;margin:0 0 .3em}\
table{border-collapse:collapse}td,th{padding:3px 8px;text-align:left;vertical-align:top}\
th{border-bottom:1px solid #d0d7de}table.cases tr:nth-child(even),table.log tr:nth-child(even){background:#f6f8fa}\
.pass{color:#1a7f37}.fail{color:#cf222e;font-weight:bold}.error{color:#9a6700;font-weight:bold}\
.na,.skipped{color:#6e7781}.dev{color:#8250df;font-weight:bold}.small{font-size:.9em;color:#57606a;margin:.2em 0}\
.totals span{display:inline-block;padding:2px 10px;margin-right:6px;border-radius:12px;background:#f6f8fa}\
td.v{border-radius:4px}td.v.pass{background:#dafbe1}td.v.fail{background:#ffebe9}td.v.error{background:#fff8c5}td.v.na{background:#f6f8fa}\
#filter{position:sticky;top:0;background:#fff;padding:8px 0;border-bottom:1px solid #d0d7de;margin-bottom:1em;z-index:1}\
#filter button{font:inherit;border:1px solid #d0d7de;background:#f6f8fa;border-radius:6px;padding:3px 10px;margin-right:4px;cursor:pointer}\
#filter button.on{background:#0969da;color:#fff;border-color:#0969da}#filter input{font:inherit;padding:3px 8px;margin-left:8px;width:22em}\
section.case{border:1px solid #d0d7de;border-left-width:6px;border-radius:6px;padding:10px 14px;margin:0 0 14px}\
section[data-v=fail]{border-left-color:#cf222e}section[data-v=error]{border-left-color:#bf8700}section[data-v=pass]{border-left-color:#2da44e}section[data-v=na]{border-left-color:#8c959f}\
pre{background:#f6f8fa;padding:8px;margin:4px 0;white-space:pre-wrap;word-break:break-word;font-size:12.5px}\
pre.msg{background:#eef6ff}.failure{margin:8px 0;padding-left:8px;border-left:3px solid #ffcecb}.failure p{margin:.3em 0}\
.diff pre{background:#fff;border:1px solid #d0d7de}.diff span{display:block}.diff .del{background:#ffebe9;color:#82071e}\
.diff .ins{background:#dafbe1;color:#055d20}.legend .del{background:#ffebe9;color:#82071e;padding:0 6px}.legend .ins{background:#dafbe1;color:#055d20;padding:0 6px}\
.legend span{display:inline}table.log td{font-size:12.5px}td.t{white-space:nowrap;color:#57606a}td.dir{white-space:nowrap}\
tr.in td.dir{color:#0550ae}tr.out td.dir{color:#1a7f37}tr.mtp td.dir{color:#6e7781}tr.mqtt td.dir{color:#8250df}\
.viol{color:#cf222e}details{margin:4px 0}summary{cursor:pointer;color:#0969da}";

/// The filter: buttons set the verdict shown (at first every case that ran: a partition's or a
/// filtered run's skipped cases would bury the rest), the box matches ids and titles; every
/// case row and section carries `data-v` (its verdict's class) and `data-k` (id and title,
/// lower case). Without the script every case shows.
const SCRIPT: &str = "(function(){var v='ran',q='';function apply(){\
document.querySelectorAll('[data-v]').forEach(function(e){var d=e.dataset.v;\
e.hidden=!((v=='all'||d==v||(v=='ran'&&d!='skipped'))&&(q==''||e.dataset.k.indexOf(q)>=0));});\
document.querySelectorAll('#filter button').forEach(function(b){b.classList.toggle('on',b.dataset.f==v);});}\
document.querySelectorAll('#filter button').forEach(function(b){b.onclick=function(){v=b.dataset.f;apply();};});\
document.getElementById('q').oninput=function(e){q=e.target.value.trim().toLowerCase();apply();};apply();})();";

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

/// The cases as the page lists them: failures, then errors, then the rest, each in id order.
fn ordered(r: &RunReport) -> Vec<&CaseOutcome> {
    let mut cases: Vec<&CaseOutcome> = r.cases.iter().collect();
    cases.sort_by_key(|o| match o.verdict() {
        Verdict::Fail => 0,
        Verdict::Error => 1,
        _ => 2,
    });
    cases
}

/// What the filter matches a case by: its id and title, lower case.
fn key(o: &CaseOutcome) -> String {
    esc(&format!("{} {}", o.id, o.title).to_lowercase())
}

/// Renders the run as one HTML page.
pub fn render(r: &RunReport) -> String {
    let mut page = Vec::new();
    write(r, &mut page).expect("writing to memory cannot fail");
    String::from_utf8(page).expect("the page is UTF-8")
}

/// Writes the page to `w` a case at a time: with every case's wire log a run's page can be
/// tens of megabytes (a flooding agent), which is never held whole.
pub fn write(r: &RunReport, w: &mut impl std::io::Write) -> std::io::Result<()> {
    let c = r.counts();
    let cases = ordered(r);
    let total_ms: u64 = r.cases.iter().map(|o| o.duration_ms).sum();
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport \
         content=\"width=device-width\"><title>uspcheck: {}</title><style>{STYLE}</style></head><body>\
         <h1>uspcheck report</h1><p>{} · TP-469 {} · EUT: {} (<code>{}</code>) · started \
         <time>{}</time> · case time {}</p><p class=totals><span class=pass>{} passed</span>\
         <span class=fail>{} failed</span><span class=error>{} errors</span>\
         <span class=na>{} not applicable</span><span class=skipped>{} skipped</span></p>",
        esc(&r.eut),
        esc(&r.tool),
        esc(&r.tp469),
        esc(&r.eut),
        esc(&r.eut_endpoint_id),
        esc(&clock::show(&r.started)),
        clock::human_ms(total_ms),
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
    h.push_str("<div id=filter>show ");
    for (f, label, n) in [
        ("ran", "ran", r.cases.len() - c.skipped),
        ("fail", "failed", c.fail),
        ("error", "errors", c.error),
        ("na", "not applicable", c.not_applicable),
        ("pass", "passed", c.pass),
        ("skipped", "skipped", c.skipped),
        ("all", "all", r.cases.len()),
    ] {
        let _ = write!(
            h,
            "<button type=button data-f={f}{}>{label} ({n})</button>",
            if f == "ran" { " class=on" } else { "" }
        );
    }
    h.push_str(
        "<input id=q type=search placeholder=\"filter by id or title\" aria-label=\"filter by id or title\"></div>\
         <table class=cases><tr><th>id</th><th>title</th><th>tag</th><th>verdict</th><th>time</th></tr>",
    );
    for o in &cases {
        let _ = write!(
            h,
            "<tr data-v={v} data-k=\"{}\"><td><a href=\"#case-{id}\">{id}</a></td><td>{}</td><td>{}</td>\
             <td class={v}>{}{}</td><td>{}</td></tr>",
            key(o),
            esc(&o.title),
            esc(&o.tag),
            o.verdict().as_str(),
            if o.deviations.is_empty() {
                String::new()
            } else {
                format!(
                    " <span class=dev title=\"{}\">(deviates from TP-469)</span>",
                    esc(&o.deviations.join(" "))
                )
            },
            clock::human_ms(o.duration_ms),
            v = class(o.verdict()),
            id = esc(&o.id)
        );
    }
    h.push_str("</table><h2 style=\"margin-top:1em\">cases</h2>");
    w.write_all(h.as_bytes())?;
    for o in cases.iter().filter(|o| o.verdict() != Verdict::Skipped) {
        let mut h = String::new();
        case(&mut h, o);
        w.write_all(h.as_bytes())?;
    }
    w.write_all(format!("<script>{SCRIPT}</script></body></html>\n").as_bytes())
}

/// One case's section: what it is, why it did not run, its metrics, its failure and its log.
fn case(h: &mut String, o: &CaseOutcome) {
    let v = class(o.verdict());
    let _ = write!(
        h,
        "<section class=case id=\"case-{id}\" data-v={v} data-k=\"{}\"><h2>{id} {} <span class={v}>{}</span></h2>\
         <p class=small>{} · {} · <code>{}</code> · {}{}</p>",
        key(o),
        esc(&o.title),
        o.verdict().as_str(),
        esc(&o.tag),
        esc(&o.mtp),
        esc(&o.file),
        clock::human_ms(o.duration_ms),
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
            "<table class=metrics><tr><th>metric</th><th>TP-469 text</th>{}<th>verdict</th></tr>",
            if reqs { "<th>TR-369</th>" } else { "" }
        );
        for m in &o.metrics {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td>{}<td class=\"v {}\">{}</td></tr>",
                m.number,
                esc(&m.text),
                if reqs {
                    format!("<td>{}</td>", esc(&m.requirements.join(", ")))
                } else {
                    String::new()
                },
                metric_class(m.verdict),
                m.verdict.as_str(),
            );
        }
        h.push_str("</table>");
    }
    if let Some(f) = o.failure() {
        h.push_str(&evidence::failure(f));
    }
    for p in &o.cleanup_problems {
        let _ = write!(h, "<p class=error>clean-up: {}</p>", esc(p));
    }
    if !o.log.is_empty() {
        h.push_str(&evidence::wire_log(&o.log, o.failure().is_some()));
    }
    h.push_str("</section>");
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

    /// Failures, then errors, then the rest; a filter over them; a metric table per case; the
    /// wire log's messages in text format.
    #[test]
    fn failures_come_first_with_a_filter_metrics_and_text_format() {
        use crate::report::model::{LogLine, Outcome};
        let mut r = crate::report::failed_run("agent", "Add", "wrong");
        let template = r.cases[0].clone();
        let with = |id: &str, outcome: Outcome| {
            let mut o = template.clone();
            o.id = id.into();
            o.title = format!("Case {id}");
            o.outcome = outcome;
            o
        };
        r.cases = vec![
            with("1.1", Outcome::Pass),
            with("1.2", template.outcome.clone()),
            with(
                "1.3",
                Outcome::Error {
                    failure: template.failure().unwrap().clone(),
                },
            ),
            with(
                "1.4",
                Outcome::NotApplicable {
                    reason: "needs MQTT".into(),
                },
            ),
        ];
        r.cases[1].metrics = vec![MetricResult {
            number: 2,
            text: "The EUT sends an Error.".into(),
            requirements: vec![],
            verdict: MetricVerdict::Fail,
        }];
        let get = crate::usp::msg::request(
            "9",
            crate::usp::pb::request::ReqType::Get(crate::usp::pb::Get {
                param_paths: vec!["Device.".into()],
                max_depth: 0,
            }),
        );
        r.cases[1].log = vec![LogLine {
            t: 0.25,
            dir: "out".into(),
            text: "Msg GET 9".into(),
            decoded: Some(crate::usp::reflect::to_value(&get, "usp.Msg").to_string()),
            hex: None,
            violations: vec![],
        }];
        let page = render(&r);
        let at = |s: &str| page.find(s).unwrap_or_else(|| panic!("{s} in {page}"));
        assert!(at("id=\"case-1.2\"") < at("id=\"case-1.3\""));
        assert!(at("id=\"case-1.3\"") < at("id=\"case-1.1\""));
        assert!(at("id=\"case-1.1\"") < at("id=\"case-1.4\""));
        assert!(at("<a href=\"#case-1.2\">") < at("<a href=\"#case-1.1\">"));
        for button in [
            "data-f=fail>failed (1)",
            "data-f=error>errors (1)",
            "data-f=na>not applicable (1)",
            "data-f=pass>passed (1)",
        ] {
            at(button);
        }
        at("<input id=q type=search");
        at("data-v=fail data-k=\"1.2 case 1.2\"");
        at("e.dataset.k.indexOf(q)");
        at("<tr><td>2</td><td>The EUT sends an Error.</td><td class=\"v fail\">fail</td></tr>");
        at("<details class=log open><summary>wire log (1 line)</summary>");
        at("<pre class=msg>header {\n  msg_id: &quot;9&quot;\n  msg_type: GET\n}");
        at("<summary>JSON</summary>");
        assert!(!page.contains("Some("), "no Rust debug text");
        // A run's start reads as RFC 3339 even from a report of before.
        r.started = "1796308926 (unix seconds)".into();
        assert!(render(&r).contains("<time>2026-12-03T14:42:06Z</time>"));
    }
}
