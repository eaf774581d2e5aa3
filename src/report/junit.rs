//! JUnit XML (quick-junit, cargo-nextest's crate): one testsuite per TP-469 section, one
//! testcase per case with its id, tag, features and requirements as properties, and a
//! failure text that stands alone.
//!
//! Names are chosen for how CI pages show them. Jenkins splits a `classname` at its dots into
//! package and class, and GitLab shows `classname` beside `name`; so the classname is the
//! section without a dot (`TP-469 section 1`) and the name is the case (`1.3 Add message…`),
//! which both show as "section / case". The failure's `message` attribute is one line that
//! stands alone (case, step, metrics, message, expected and actual); the element's text is
//! the whole failure. Timestamps are RFC 3339; a suite's `time` is the sum of its cases'.

use std::collections::BTreeMap;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::{CaseOutcome, Failure, RunReport, Verdict, clock};

/// The failure's `message` attribute: one line that says it all without the element's text,
/// as CI pages show it (`1.3 steps[0] …: metric 1 fail: the EUT answered … — expected …,
/// actual … [R-ADD.1]`).
fn message(o: &CaseOutcome, f: &Failure) -> String {
    let line = super::markdown::one_line(o).replace(['\n', '\r'], " ");
    format!("{} {}: {line}", o.id, f.step)
}

/// The most of a case's wire log JUnit's system-out holds: its last lines within it.
pub const SYSTEM_OUT_MAX: usize = 64 * 1024;

/// The end of a wire log as text, within [`SYSTEM_OUT_MAX`], saying what was left out.
fn log_tail(log: &[super::model::LogLine]) -> String {
    let mut kept: Vec<String> = Vec::new();
    let mut used = 0;
    for l in log.iter().rev() {
        let t = l.to_string();
        if used + t.len() > SYSTEM_OUT_MAX {
            break;
        }
        used += t.len() + 1;
        kept.push(t);
    }
    let left_out = log.len() - kept.len();
    if left_out > 0 {
        kept.push(format!(
            "… the first {left_out} lines of the wire log are in uspcheck.json and index.html"
        ));
    }
    kept.reverse();
    kept.join("\n")
}

/// Renders the run as JUnit XML.
pub fn render(r: &RunReport) -> String {
    let mut xml = Vec::new();
    write(r, &mut xml).expect("writing to memory cannot fail");
    String::from_utf8(xml).expect("the XML is UTF-8")
}

/// Writes the run as JUnit XML to `w` as it is serialised, never the whole text at once: a
/// run whose every case failed carries the end of every case's wire log.
pub fn write(r: &RunReport, w: &mut impl std::io::Write) -> std::io::Result<()> {
    let mut filtered = XmlChars {
        inner: w,
        partial: Vec::new(),
    };
    model(r)
        .serialize(&mut filtered)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    if filtered.partial.is_empty() {
        Ok(())
    } else {
        Err(std::io::Error::other("the XML ends inside a character"))
    }
}

/// The report quick-junit serialises.
fn model(r: &RunReport) -> Report {
    let mut report = Report::new("uspcheck");
    let started = clock::parse(&r.started);
    if let Some(t) = started {
        report.set_timestamp(t);
    }
    report.set_time(Duration::from_millis(
        r.cases.iter().map(|o| o.duration_ms).sum(),
    ));
    let mut suites: BTreeMap<u32, TestSuite> = BTreeMap::new();
    for o in &r.cases {
        let section: u32 =
            o.id.split('.')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
        let suite = suites.entry(section).or_insert_with(|| {
            let mut s = TestSuite::new(format!("TP-469 section {section}"));
            if let Some(t) = started {
                s.set_timestamp(t);
            }
            s.set_time(Duration::ZERO);
            s.add_property(Property::new("eut", r.eut.as_str()));
            s.add_property(Property::new("eut_endpoint_id", r.eut_endpoint_id.as_str()));
            s.add_property(Property::new("tp469", r.tp469.as_str()));
            if let Some(x) = &r.extended_suite {
                s.add_property(Property::new("extended_suite", x.as_str()));
            }
            if let Some(x) = &r.interrupted {
                s.add_property(Property::new("interrupted", x.as_str()));
            }
            if let Some(p) = &r.partition {
                s.add_property(Property::new("partition", format!("{}/{}", p.k, p.n)));
            }
            s
        });
        let status = match o.verdict() {
            Verdict::Pass => TestCaseStatus::success(),
            Verdict::Fail | Verdict::Error => {
                let kind = if o.verdict() == Verdict::Fail {
                    NonSuccessKind::Failure
                } else {
                    NonSuccessKind::Error
                };
                let mut s = TestCaseStatus::non_success(kind);
                if let Some(f) = o.failure() {
                    s.set_message(message(o, f));
                    s.set_type(if o.verdict() == Verdict::Fail {
                        "conformance"
                    } else {
                        "environment"
                    });
                    s.set_description(o.failure_text().unwrap_or_else(|| f.text()));
                }
                s
            }
            Verdict::NotApplicable | Verdict::Skipped => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(format!(
                    "{}: {}",
                    o.verdict().as_str(),
                    o.reason().unwrap_or("")
                ));
                s
            }
        };
        let mut tc = TestCase::new(format!("{} {}", o.id, o.title), status);
        tc.set_classname(format!("TP-469 section {section}"));
        tc.set_time(Duration::from_millis(o.duration_ms));
        tc.add_property(Property::new("tp469_id", o.id.as_str()));
        tc.add_property(Property::new("tag", o.tag.as_str()));
        tc.add_property(Property::new("verdict", o.verdict().as_str()));
        tc.add_property(Property::new("mtp", o.mtp.as_str()));
        let features: Vec<String> = o.features.iter().map(u32::to_string).collect();
        tc.add_property(Property::new("features", features.join(",")));
        tc.add_property(Property::new("requirements", o.requirements.join(",")));
        for m in &o.metrics {
            tc.add_property(Property::new(
                format!("metric.{}", m.number),
                m.verdict.as_str(),
            ));
        }
        for d in &o.deviations {
            tc.add_property(Property::new("deviation", d.as_str()));
        }
        // The wire log goes with the cases CI shows it for, those that did not pass, and
        // only its end: uspcheck.json and index.html hold it whole. With every case's log
        // the file was the run's largest, and writing it its peak of memory.
        if matches!(o.verdict(), Verdict::Fail | Verdict::Error) && !o.log.is_empty() {
            tc.set_system_out(log_tail(&o.log));
        }
        if !o.cleanup_problems.is_empty() {
            tc.set_system_err(format!("clean-up: {}", o.cleanup_problems.join("\n")));
        }
        let time = suite.time.unwrap_or_default() + Duration::from_millis(o.duration_ms);
        suite.set_time(time);
        suite.add_test_case(tc);
    }
    report.add_test_suites(suites.into_values());
    report
}

/// A writer passing UTF-8 text on through [`xml_chars`], for text that arrives in pieces: a
/// character split between two writes waits in `partial` for its other bytes.
struct XmlChars<'a, W: std::io::Write> {
    inner: &'a mut W,
    partial: Vec<u8>,
}

impl<W: std::io::Write> std::io::Write for XmlChars<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut data = std::mem::take(&mut self.partial);
        data.extend_from_slice(buf);
        let whole = match std::str::from_utf8(&data) {
            Ok(_) => data.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(e) => return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
        };
        let text = std::str::from_utf8(&data[..whole]).expect("checked above");
        self.inner.write_all(xml_chars(text).as_bytes())?;
        self.partial = data[whole..].to_vec();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The text with every character XML 1.0 forbids (controls other than tab and line ends,
/// surrogates, U+FFFE, U+FFFF) replaced by U+FFFD: an agent's strings reach the report, and
/// one such character makes the whole file unreadable to a CI.
fn xml_chars(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' => c,
            c if c >= '\u{10000}' => c,
            _ => '\u{FFFD}',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text written in pieces, split anywhere (inside a character too), comes out as the
    /// whole text through `xml_chars` would.
    #[test]
    fn forbidden_characters_are_replaced_however_the_text_is_split() {
        let text = "a\u{1}b\u{FFFE}é\u{FFFF}\t€😀\u{0}z";
        let want = xml_chars(text);
        assert!(!want.contains('\u{FFFE}') && want.contains('😀'));
        for cut in 0..=text.len() {
            let mut out = Vec::new();
            let mut w = XmlChars {
                inner: &mut out,
                partial: Vec::new(),
            };
            std::io::Write::write_all(&mut w, &text.as_bytes()[..cut]).unwrap();
            std::io::Write::write_all(&mut w, &text.as_bytes()[cut..]).unwrap();
            assert!(w.partial.is_empty());
            assert_eq!(String::from_utf8(out).unwrap(), want, "cut at {cut}");
        }
    }

    /// A failed case carries the end of its wire log, within the bound; a passed one none.
    #[test]
    fn system_out_holds_the_end_of_a_failed_cases_log_only() {
        let line = |i: usize| crate::report::model::LogLine {
            t: i as f64,
            dir: "in".into(),
            text: format!("record {i}"),
            decoded: Some("x".repeat(1000)),
            hex: None,
            violations: vec![],
        };
        let mut r = crate::report::failed_run("agent", "Add one", "it failed");
        r.cases[0].log = (0..500).map(line).collect();
        let mut passed = r.cases[0].clone();
        passed.id = "1.2".into();
        passed.outcome = crate::report::model::Outcome::Pass;
        r.cases.push(passed);
        let x = render(&r);
        assert_eq!(x.matches("<system-out>").count(), 1, "{x}");
        let out = &x[x.find("<system-out>").unwrap()..x.find("</system-out>").unwrap()];
        assert!(out.len() <= SYSTEM_OUT_MAX + 200, "{} bytes", out.len());
        assert!(out.contains("record 499"));
        assert!(!out.contains("record 0\n") && out.contains("lines of the wire log are in"));
    }

    /// What CI pages show: "section / case" names without dots in the classname, RFC 3339
    /// timestamps and durations on the suites, and a failure message that stands alone.
    #[test]
    fn names_times_and_the_message_are_what_ci_pages_show() {
        let mut r = crate::report::failed_run("agent", "Add one", "the EUT answered add_resp");
        r.started = "2026-12-03T14:42:06Z".into();
        let case = &mut r.cases[0];
        case.duration_ms = 1_500;
        if let crate::report::model::Outcome::Fail { failure } = &mut case.outcome {
            failure.expected = Some("error {err_code: 7004}".into());
            failure.actual = Some("add_resp {\n created_obj_results }".into());
        }
        case.metrics = vec![crate::report::model::MetricResult {
            number: 2,
            text: "The EUT sends an Error.".into(),
            requirements: vec![],
            verdict: crate::report::model::MetricVerdict::Fail,
        }];
        let xml = render(&r);
        assert!(
            xml.contains(r#"<testcase name="1.1 Add one" classname="TP-469 section 1""#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testsuite name="TP-469 section 1" tests="1" skipped="0" errors="0" failures="1" timestamp="2026-12-03T14:42:06.000+00:00" time="1.500">"#),
            "{xml}"
        );
        assert!(xml.contains(r#"<testsuites name="uspcheck" tests="1" skipped="0" failures="1" errors="0" timestamp="2026-12-03T14:42:06.000+00:00" time="1.500">"#), "{xml}");
        let message = xml
            .split("<failure message=\"")
            .nth(1)
            .and_then(|m| m.split('"').next())
            .expect("a failure message");
        assert_eq!(
            message,
            "1.1 steps[0]: metric 2 fail: the EUT answered add_resp — expected error \
             {err_code: 7004}, actual add_resp {&#xA; created_obj_results }"
                .replace("&#xA;", " ")
        );
    }

    #[test]
    fn characters_xml_forbids_never_reach_the_file() {
        let hostile = "agent said \u{FFFE}\u{FFFF}\u{1}\u{1B}[31m and \u{1F600}";
        let r = crate::report::failed_run(hostile, "t", hostile);
        let xml = render(&r);
        let forbidden = |c: char| {
            matches!(c, '\u{FFFE}' | '\u{FFFF}') || (c < ' ' && !matches!(c, '\t' | '\n' | '\r'))
        };
        assert!(!xml.chars().any(forbidden), "{xml}");
        assert!(!xml.contains("&#x1;") && !xml.contains("&#1;"), "{xml}");
        assert!(xml.contains("\u{1F600}"), "{xml}");
    }
}
