//! The order cases start in when several run at once: the longest first, so that a run ends
//! close to its floor, the duration of its longest case. Started last, a two-minute case
//! would keep the run going two minutes after every other case ended.
//!
//! A case's length is estimated from its own file, before it runs: the time its steps must
//! wait whatever the agent does — an `expect_none` or `expect_no_packet` span (silence is
//! only proven by waiting it out) and the lower bound of a timing `window` (the awaited
//! message must not come earlier) — added up over set-up, steps and clean-up. Everything
//! else (a request's answer, a `within` bound that a conforming agent beats) is taken as
//! taking no time. Bounds computed from the EUT's configuration (`"${m} * ${k} / 1000"`) are
//! unknown before the case runs and count as nothing. Cases of equal estimates keep their id
//! order.

use std::time::Duration;

use crate::suite::Case;
use crate::suite::case::{Action, Span};

/// What `case` must wait in any run, by the rule above.
pub fn expected(case: &Case) -> Duration {
    let fixed = |s: &Span| match s {
        Span::Fixed(d) => d.0,
        Span::Seconds(_) => Duration::ZERO,
    };
    case.setup
        .iter()
        .chain(&case.steps)
        .chain(&case.cleanup)
        .map(|step| match &step.action {
            Action::ExpectNone { span, .. } | Action::ExpectNoPacket { span, .. } => span.0,
            Action::Await {
                window: Some(w), ..
            }
            | Action::AwaitPacket {
                window: Some(w), ..
            } => fixed(&w.min),
            _ => Duration::ZERO,
        })
        .sum()
}

/// Puts the cases expected to take longest first (a stable sort: ties stay in id order).
pub fn longest_first(cases: &mut [Case]) {
    cases.sort_by_cached_key(|c| std::cmp::Reverse(expected(c)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(file: &str) -> Case {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testcases");
        crate::suite::load::load_file(&dir.join(file)).unwrap()
    }

    #[test]
    fn silence_and_window_lower_bounds_count_and_answers_do_not() {
        // 1.1 sends and awaits answers only.
        assert_eq!(expected(&case("01-messages/1.1.yaml")), Duration::ZERO);
        // 1.59 waits out a periodic notification's window (min 56 s) at least.
        assert!(expected(&case("01-messages/1.59.yaml")) >= Duration::from_secs(56));
    }

    #[test]
    fn the_longest_expected_goes_first_and_ties_keep_their_order() {
        let mut cases = vec![
            case("01-messages/1.1.yaml"),
            case("01-messages/1.59.yaml"),
            case("01-messages/1.2.yaml"),
        ];
        longest_first(&mut cases);
        let ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["1.59", "1.1", "1.2"]);
    }
}
