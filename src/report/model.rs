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
    pub verdict: Verdict,
    /// Set for fail and error.
    pub failure: Option<Failure>,
    /// For not applicable and skipped: why.
    pub reason: Option<String>,
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
    pub fn new(case: &crate::suite::Case, mtp: &str, verdict: Verdict) -> CaseOutcome {
        CaseOutcome {
            id: case.id.clone(),
            title: case.title.clone(),
            tag: case.tag.as_str().into(),
            features: case.features.clone(),
            requirements: case.requirements.clone(),
            file: case.file.clone(),
            mtp: mtp.into(),
            verdict,
            failure: None,
            reason: None,
            cleanup_problems: vec![],
            duration_ms: 0,
            log: vec![],
            alternates: vec![],
        }
    }

    /// An outcome for a case that did not run, and why.
    pub fn not_run(
        case: &crate::suite::Case,
        mtp: &str,
        verdict: Verdict,
        reason: String,
    ) -> CaseOutcome {
        CaseOutcome {
            reason: Some(reason),
            ..CaseOutcome::new(case, mtp, verdict)
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
    pub started: String,
    pub cases: Vec<CaseOutcome>,
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
            match o.verdict {
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
