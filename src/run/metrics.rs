//! A verdict per Test Metric: each metric is judged by the steps that cite it. A metric is
//! a pass only when every one of its steps ran and passed; the step a case stopped at fails
//! its metrics (or leaves them inconclusive, when the harness or the environment broke);
//! metrics whose steps never ran were not reached.

use crate::report::Verdict;
use crate::report::model::{MetricResult, MetricVerdict};
use crate::suite::Case;

/// Where a case stopped: the index of the step among setup and steps (in order), and the
/// stop's verdict (fail, error or not applicable).
#[derive(Debug, Clone, Copy)]
pub struct StoppedAt<'a> {
    pub index: usize,
    pub verdict: Verdict,
    /// How much of the step's own expectation held.
    pub held: Held,
    /// The requirements of the universal test metrics broken there: a metric of the case
    /// that cites one of them fails, wherever its own steps are.
    pub broken: &'a [&'static str],
}

/// How much of a stopped step's expectation held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// Nothing: the step's metrics fail with it.
    Nothing,
    /// A message of the expected kind came and only its content broke: the step's `sends`
    /// metrics hold.
    Kind,
    /// All of it: only a universal test metric broke, so the step's own metrics hold.
    All,
}

/// Judges every metric of `case`, given where (if anywhere) it stopped.
pub fn judge(case: &Case, stopped: Option<StoppedAt<'_>>) -> Vec<MetricResult> {
    let steps: Vec<&crate::suite::Step> = case.setup.iter().chain(&case.steps).collect();
    case.metrics
        .iter()
        .enumerate()
        .map(|(i, metric)| {
            let number = i as u32 + 1;
            let mut verdict = MetricVerdict::Pass;
            for (si, step) in steps.iter().enumerate() {
                if !step.metrics.contains(&number) {
                    continue;
                }
                let here = match stopped {
                    None => MetricVerdict::Pass,
                    Some(s) if si < s.index => MetricVerdict::Pass,
                    Some(s) if si == s.index => match s.verdict {
                        Verdict::Fail if s.held == Held::All => MetricVerdict::Pass,
                        Verdict::Fail
                            if s.held == Held::Kind && step.sends_metrics.contains(&number) =>
                        {
                            MetricVerdict::Pass
                        }
                        Verdict::Fail => MetricVerdict::Fail,
                        _ => MetricVerdict::Inconclusive,
                    },
                    Some(_) => MetricVerdict::NotReached,
                };
                verdict = worse(verdict, here);
            }
            if let Some(s) = stopped
                && s.verdict == Verdict::Fail
                && metric
                    .requirements
                    .iter()
                    .any(|r| s.broken.contains(&r.as_str()))
            {
                verdict = MetricVerdict::Fail;
            }
            MetricResult {
                number,
                text: metric.text.split_whitespace().collect::<Vec<_>>().join(" "),
                requirements: metric.requirements.clone(),
                verdict,
            }
        })
        .collect()
}

/// The graver of two verdicts of one metric's steps: fail, then inconclusive, then not
/// reached, then pass.
fn worse(a: MetricVerdict, b: MetricVerdict) -> MetricVerdict {
    let rank = |v| match v {
        MetricVerdict::Fail => 3,
        MetricVerdict::Inconclusive => 2,
        MetricVerdict::NotReached => 1,
        MetricVerdict::Pass => 0,
    };
    if rank(b) > rank(a) { b } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASE: &str = r#"
id: "9.1"
title: t
tp469: "1.4.0"
tag: mandatory
metrics: [one, two, three]
steps:
  - send: { get: { param_paths: [Device.] } }
    metric: 1
  - send: { get: { param_paths: [Device.] } }
    metric: [2, 1]
  - send: { get: { param_paths: [Device.] } }
    metric: 3
"#;

    const SPLIT: &str = r#"
id: "9.2"
title: t
tp469: "1.4.0"
tag: mandatory
metrics: [sends, content, more]
steps:
  - send: { get: { param_paths: [Device.] } }
    expect: { get_resp: {} }
    metric: { sends: 1, content: [2, 3] }
"#;

    fn stopped(index: usize, verdict: Verdict, held: Held) -> Option<StoppedAt<'static>> {
        Some(StoppedAt {
            index,
            verdict,
            held,
            broken: &[],
        })
    }

    fn verdicts(stopped: Option<StoppedAt<'_>>) -> Vec<MetricVerdict> {
        let case = crate::suite::load_str(CASE, "t.yaml").unwrap();
        judge(&case, stopped)
            .into_iter()
            .map(|m| m.verdict)
            .collect()
    }

    #[test]
    fn each_metric_is_judged_by_its_steps() {
        use MetricVerdict::*;
        assert_eq!(verdicts(None), [Pass, Pass, Pass]);
        let at = |index, verdict| stopped(index, verdict, Held::Nothing);
        assert_eq!(verdicts(at(1, Verdict::Fail)), [Fail, Fail, NotReached]);
        assert_eq!(verdicts(at(2, Verdict::Fail)), [Pass, Pass, Fail]);
        assert_eq!(
            verdicts(at(0, Verdict::Error)),
            [Inconclusive, NotReached, NotReached]
        );
        let universal = stopped(1, Verdict::Fail, Held::All);
        assert_eq!(verdicts(universal), [Pass, Pass, NotReached]);
    }

    /// A universal rule the EUT broke fails the metric that cites its requirement, even
    /// before that metric's own step is reached; the others are judged as before.
    #[test]
    fn a_broken_universal_rule_fails_the_metric_citing_it() {
        use MetricVerdict::*;
        let cited = CASE.replace(
            "metrics: [one, two, three]",
            "metrics: [one, two, { text: three, requirements: [R-MQTT.13] }]",
        );
        let case = crate::suite::load_str(&cited, "t.yaml").unwrap();
        let v = |broken: &[&'static str], verdict| {
            let at = StoppedAt {
                index: 0,
                verdict,
                held: Held::All,
                broken,
            };
            judge(&case, Some(at))
                .into_iter()
                .map(|m| m.verdict)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            v(&["R-MQTT.13"], Verdict::Fail),
            [NotReached, NotReached, Fail]
        );
        assert_eq!(
            v(&["R-MQTT.27"], Verdict::Fail),
            [NotReached, NotReached, NotReached]
        );
        assert_eq!(v(&[], Verdict::Fail), [NotReached, NotReached, NotReached]);
    }

    #[test]
    fn an_answer_of_the_right_kind_holds_its_sends_metric() {
        use MetricVerdict::*;
        let case = crate::suite::load_str(SPLIT, "t.yaml").unwrap();
        let at = |held| stopped(0, Verdict::Fail, held);
        let v = |s| {
            judge(&case, s)
                .into_iter()
                .map(|m| m.verdict)
                .collect::<Vec<_>>()
        };
        assert_eq!(v(at(Held::Nothing)), [Fail, Fail, Fail]);
        assert_eq!(v(at(Held::Kind)), [Pass, Fail, Fail]);
        assert_eq!(v(None), [Pass, Pass, Pass]);
        let no_expect = SPLIT.replace("    expect: { get_resp: {} }\n", "");
        let err = crate::suite::load_str(&no_expect, "t.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("needs a `send` step with an `expect`"),
            "{err}"
        );
    }
}
