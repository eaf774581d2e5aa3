//! The one result model every report is written from (terminal, JUnit, JSON), so the
//! formats can never disagree about a verdict.

use serde::{Deserialize, Serialize};

/// A case's verdict. Only `Pass` means the EUT was seen to conform; nothing un-exercised is
/// ever a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    /// The EUT broke a metric or a universal rule.
    Fail,
    /// The harness or the environment broke (agent never connected, bad variable…): no
    /// statement about conformance.
    Error,
    /// The EUT lacks a feature the case needs.
    NotApplicable,
    /// Filtered out by the user.
    Skipped,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
            Verdict::NotApplicable => "not applicable",
            Verdict::Skipped => "skipped",
        }
    }
}

/// Why a case failed or errored, in parts a report can lay out.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Failure {
    /// `steps[2] (send add, line 14:5)`.
    pub step: String,
    /// The TP-469 metrics the step proves, as text.
    pub metrics: Vec<String>,
    /// One sentence.
    pub message: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
    /// The decoded message that was judged, as JSON in the `.proto` field names.
    pub decoded: Option<String>,
    /// USP error codes in the judged message, with their names.
    pub error_codes: Vec<String>,
    /// The raw record, hex.
    pub raw_hex: Option<String>,
}

impl Failure {
    /// The text that stands alone in JUnit and on the terminal.
    pub fn text(&self) -> String {
        let mut s = format!("{}: {}", self.step, self.message);
        for m in &self.metrics {
            s.push_str(&format!("\n  metric:   {m}"));
        }
        if let Some(e) = &self.expected {
            s.push_str(&format!("\n  expected: {e}"));
        }
        if let Some(a) = &self.actual {
            s.push_str(&format!("\n  actual:   {a}"));
        }
        if !self.error_codes.is_empty() {
            s.push_str(&format!("\n  error codes: {}", self.error_codes.join(", ")));
        }
        if let Some(d) = &self.decoded {
            s.push_str(&format!("\n  decoded:  {d}"));
        }
        if let Some(h) = &self.raw_hex {
            s.push_str(&format!("\n  record (hex): {h}"));
        }
        s
    }
}

/// How a case ended, with what each verdict carries: a failure or an error always has its
/// text, a case that did not run always has its reason, and a pass carries neither — so
/// no report can show a passing case with a failure.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail { failure: Failure },
    Error { failure: Failure },
    NotApplicable { reason: String },
    Skipped { reason: String },
}

impl Outcome {
    pub fn verdict(&self) -> Verdict {
        match self {
            Outcome::Pass => Verdict::Pass,
            Outcome::Fail { .. } => Verdict::Fail,
            Outcome::Error { .. } => Verdict::Error,
            Outcome::NotApplicable { .. } => Verdict::NotApplicable,
            Outcome::Skipped { .. } => Verdict::Skipped,
        }
    }
}

/// What became of one of the plan's Test Metrics in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricVerdict {
    /// Every step that proves it passed.
    Pass,
    /// A step that proves it saw the EUT break it.
    Fail,
    /// An earlier step failed or errored: it was never judged.
    NotReached,
    /// The step that proves it could not be judged (the harness, the case or the
    /// environment broke, or the connection closed).
    Inconclusive,
}

impl MetricVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricVerdict::Pass => "pass",
            MetricVerdict::Fail => "fail",
            MetricVerdict::NotReached => "not reached",
            MetricVerdict::Inconclusive => "inconclusive",
        }
    }
}

/// One Test Metric of the plan, as the case judged it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetricResult {
    /// Its number in the plan's list (1-based).
    pub number: u32,
    /// The plan's text.
    pub text: String,
    /// The TR-369 requirements it checks.
    pub requirements: Vec<String>,
    pub verdict: MetricVerdict,
}

/// Everything known about one case's run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseOutcome {
    pub id: String,
    pub title: String,
    pub tag: String,
    pub features: Vec<u32>,
    pub requirements: Vec<String>,
    pub file: String,
    /// Which MTP and set-up it ran over (`WebSocket, agent connects`).
    pub mtp: String,
    /// The verdict, with the failure (fail, error) or the reason (not applicable, skipped).
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Every metric of the plan, judged (empty when the case did not run).
    #[serde(default)]
    pub metrics: Vec<MetricResult>,
    /// Where the case deliberately departs from the plan's text, and why: shown beside
    /// the verdict in every report.
    #[serde(default)]
    pub deviations: Vec<String>,
    /// Problems in clean-up (reported, not part of the verdict).
    pub cleanup_problems: Vec<String>,
    pub duration_ms: u64,
    /// The wire log, one line per record or MTP event.
    pub log: Vec<LogLine>,
    /// The EUT profile's alternate elements (`${alt.NAME}`) the case used, with their values
    /// (TP-469: "the test report MUST include the alternate elements used").
    #[serde(default)]
    pub alternates: Vec<(String, String)>,
}

/// One line of a case's wire log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogLine {
    /// Seconds since the case's session started.
    pub t: f64,
    /// `in` (EUT to harness), `out` (harness to EUT) or `mtp` (an MTP-level event).
    pub dir: String,
    /// One line: record type, msg_type, msg_id; or the MTP event.
    pub text: String,
    /// The decoded Msg as JSON in the `.proto` field names, when there is one.
    pub decoded: Option<String>,
    /// The record's bytes, hex.
    pub hex: Option<String>,
    /// Universal metrics the record broke.
    pub violations: Vec<String>,
}

impl LogLine {
    /// The most lines a case's wire log keeps in reports: the first and the last half of them
    /// when there are more, with a line saying how many were left out between.
    pub const MAX: usize = 2000;
    /// The most text (summaries, decoded messages, hex) a case's wire log keeps in reports,
    /// split the same way: every case of a run is held until the reports are written, so a
    /// flooding agent must not make each one megabytes. A whole ordinary case logs 20 KiB.
    pub const MAX_BYTES: usize = 64 * 1024;
    /// The most decoded text one line of a wire log shows: a record's line must fit in half of
    /// [`LogLine::MAX_BYTES`] with its hex, or a big answer would be left out of its own log.
    /// The failure it led to shows more of it ([`crate::clip::TEXT_SHOWN`]).
    pub const DECODED_SHOWN: usize = 16 * 1024;

    /// What the line costs a report, roughly: its texts.
    fn weight(&self) -> usize {
        64 + self.text.len()
            + self.decoded.as_ref().map_or(0, String::len)
            + self.hex.as_ref().map_or(0, String::len)
            + self.violations.iter().map(String::len).sum::<usize>()
    }

    /// `entries` as log lines, within [`LogLine::MAX`] lines and [`LogLine::MAX_BYTES`]:
    /// the first lines and the last, each within half of both bounds, and between them one
    /// line saying how many were left out. Only the lines kept are made.
    pub fn bounded<T>(entries: &[T], line: impl Fn(&T) -> LogLine) -> Vec<LogLine> {
        let (lines, bytes) = (Self::MAX / 2, Self::MAX_BYTES / 2);
        let mut head: Vec<LogLine> = Vec::new();
        let mut used = 0;
        for e in entries {
            let l = line(e);
            if head.len() == lines || used + l.weight() > bytes {
                break;
            }
            used += l.weight();
            head.push(l);
        }
        let mut tail: Vec<LogLine> = Vec::new();
        let mut used_tail = 0;
        for e in entries[head.len()..].iter().rev() {
            let l = line(e);
            if tail.len() == lines || used_tail + l.weight() > bytes {
                break;
            }
            used_tail += l.weight();
            tail.push(l);
        }
        tail.reverse();
        let omitted = entries.len() - head.len() - tail.len();
        if omitted > 0 {
            head.push(LogLine {
                t: tail
                    .first()
                    .map_or_else(|| head.last().map_or(0.0, |l| l.t), |l| l.t),
                dir: "mtp".into(),
                text: format!(
                    "… {omitted} log entries left out here (a case's log keeps its first and \
                     last {lines} entries, within {} KiB each) …",
                    bytes / 1024
                ),
                decoded: None,
                hex: None,
                violations: vec![],
            });
        }
        head.extend(tail);
        head
    }
}

impl std::fmt::Display for LogLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let arrow = match self.dir.as_str() {
            "in" => "EUT -> harness",
            "out" => "harness -> EUT",
            _ => "mtp",
        };
        write!(f, "{:>9.3}s {arrow}: {}", self.t, self.text)?;
        if let Some(d) = &self.decoded {
            write!(f, "\n           {d}")?;
        }
        for v in &self.violations {
            write!(f, "\n           ! {v}")?;
        }
        Ok(())
    }
}

impl CaseOutcome {
    /// An outcome for `case` over `mtp` with nothing recorded yet.
    pub fn new(case: &crate::suite::Case, mtp: &str, outcome: Outcome) -> CaseOutcome {
        CaseOutcome {
            id: case.id.clone(),
            title: case.title.clone(),
            tag: case.tag.as_str().into(),
            features: case.features.clone(),
            requirements: case.requirements.clone(),
            file: case.file.clone(),
            mtp: mtp.into(),
            outcome,
            metrics: vec![],
            deviations: case.deviations.clone(),
            cleanup_problems: vec![],
            duration_ms: 0,
            log: vec![],
            alternates: vec![],
        }
    }

    pub fn verdict(&self) -> Verdict {
        self.outcome.verdict()
    }

    /// The failure of a failed or errored case.
    pub fn failure(&self) -> Option<&Failure> {
        match &self.outcome {
            Outcome::Fail { failure } | Outcome::Error { failure } => Some(failure),
            _ => None,
        }
    }

    /// One line per metric (`metric 2 [R-ADD.3]: fail: The EUT …`), then one per
    /// deviation: what every report shows beside the verdict.
    pub fn metric_lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .metrics
            .iter()
            .map(|m| {
                let reqs = if m.requirements.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", m.requirements.join(", "))
                };
                format!(
                    "metric {}{reqs}: {}: {}",
                    m.number,
                    m.verdict.as_str(),
                    m.text
                )
            })
            .collect();
        out.extend(
            self.deviations
                .iter()
                .map(|d| format!("deviation from TP-469: {d}")),
        );
        out
    }

    /// The failure's text with the metrics' verdicts and the deviations under it.
    pub fn failure_text(&self) -> Option<String> {
        self.failure().map(|f| {
            let mut s = f.text();
            for l in self.metric_lines() {
                s.push_str(&format!("\n  {l}"));
            }
            s
        })
    }

    /// Why a case did not run.
    pub fn reason(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::NotApplicable { reason } | Outcome::Skipped { reason } => Some(reason),
            _ => None,
        }
    }
}

/// The whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    pub tool: String,
    pub tp469: String,
    /// Who was tested (`built-in reference agent`, or the profile's name).
    pub eut: String,
    pub eut_endpoint_id: String,
    /// Set when the run is not a TP-469 certification-style run (over UDS, which TP-469
    /// does not cover): says what it is instead.
    #[serde(default)]
    pub extended_suite: Option<String>,
    /// Set when a signal stopped the run: the case it stopped is an error saying so, and the
    /// cases not begun are skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
    pub started: String,
    /// Set when the run is one partition of a sharded run (`--partition k/n`): which one, and
    /// the selection the partitions were dealt from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<PartitionReport>,
    pub cases: Vec<CaseOutcome>,
}

/// Which partition of a sharded run a report holds (`--partition k/n`). The report lists every
/// case; those of the other partitions are skipped, saying which partition holds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionReport {
    /// This report's partition, from 1.
    pub k: usize,
    /// How many partitions the selection was dealt into.
    pub n: usize,
    /// The ids of the whole selection in id order; the case at position `i` is in partition
    /// `i mod n + 1` ([`crate::suite::select::Partition`]).
    pub selection: Vec<String>,
}

/// Counts per verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub error: usize,
    pub not_applicable: usize,
    pub skipped: usize,
}

impl RunReport {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for o in &self.cases {
            match o.verdict() {
                Verdict::Pass => c.pass += 1,
                Verdict::Fail => c.fail += 1,
                Verdict::Error => c.error += 1,
                Verdict::NotApplicable => c.not_applicable += 1,
                Verdict::Skipped => c.skipped += 1,
            }
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::LogLine;

    fn line(t: &u32) -> LogLine {
        LogLine {
            t: f64::from(*t),
            dir: "in".into(),
            text: format!("record {t}"),
            decoded: None,
            hex: None,
            violations: vec![],
        }
    }

    /// A flood's 50,000 records become a log of its first and last few hundred (as many as
    /// half the byte bound holds), and a line that says how many are left out.
    #[test]
    fn a_long_log_keeps_its_ends_and_counts_the_rest() {
        let short: Vec<u32> = (0..10).collect();
        assert_eq!(LogLine::bounded(&short, line).len(), 10);
        let long: Vec<u32> = (0..50_000).collect();
        let log = LogLine::bounded(&long, line);
        assert!(log.len() <= LogLine::MAX + 1);
        assert_eq!(log[0].text, "record 0");
        let marker = log
            .iter()
            .position(|l| l.dir == "mtp")
            .expect("a marker line");
        let left_out = 50_000 - (log.len() - 1);
        assert!(
            log[marker]
                .text
                .contains(&format!("{left_out} log entries left out"))
        );
        assert!(
            marker > 400 && log.len() - marker > 400,
            "both ends kept: {marker}"
        );
        assert_eq!(log.last().unwrap().text, "record 49999");
    }

    /// Big lines are kept within the byte bound the same way: the ends, and a count.
    #[test]
    fn a_log_of_big_lines_keeps_its_ends_within_the_byte_bound() {
        let big = |t: &u32| LogLine {
            decoded: Some("x".repeat(10_000)),
            ..line(t)
        };
        let long: Vec<u32> = (0..100).collect();
        let log = LogLine::bounded(&long, big);
        let kept: usize = log.iter().map(LogLine::weight).sum();
        assert!(kept <= LogLine::MAX_BYTES + 1024, "{kept}");
        assert_eq!(log[0].text, "record 0");
        assert_eq!(log.last().unwrap().text, "record 99");
        let marker = log.iter().find(|l| l.dir == "mtp").expect("a marker line");
        assert!(
            marker
                .text
                .contains(&format!("{} log entries left out", 100 - (log.len() - 1)))
        );
        // One line bigger than half the bound is left out, and counted, not made unbounded.
        let huge = |t: &u32| LogLine {
            decoded: Some("x".repeat(LogLine::MAX_BYTES)),
            ..line(t)
        };
        let log = LogLine::bounded(&[1u32], huge);
        assert_eq!(log.len(), 1);
        assert!(log[0].text.contains("1 log entries left out"));
    }
}
