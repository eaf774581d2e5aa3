//! Times as the reports write them: instants in RFC 3339 (UTC, with a `Z`), durations the way
//! a person says them (`350 ms`, `1.2 s`, `2 min 5 s`; [`crate::human`]).

use std::time::{Duration, SystemTime};

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};

/// `t` in RFC 3339, UTC, to the second: `2025-06-01T12:34:56Z`.
pub fn rfc3339(t: SystemTime) -> String {
    DateTime::<Utc>::from(t).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A report's `started` read back: RFC 3339, or the `1796308926 (unix seconds)` of reports
/// written before uspcheck wrote RFC 3339. `None` for anything else.
pub fn parse(started: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(started.trim()) {
        return Some(t);
    }
    let secs: i64 = started
        .strip_suffix(" (unix seconds)")?
        .trim()
        .parse()
        .ok()?;
    DateTime::from_timestamp(secs, 0).map(|t| t.fixed_offset())
}

/// `started` in RFC 3339 when it can be read as a time ([`parse`]), else as it is.
pub fn show(started: &str) -> String {
    parse(started).map_or_else(
        || started.to_string(),
        |t| t.to_rfc3339_opts(SecondsFormat::Secs, true),
    )
}

/// A number of milliseconds (what the result model holds) as a person says it
/// ([`crate::human::duration`]).
pub fn human_ms(ms: u64) -> String {
    crate::human::duration(Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_rfc3339_in_utc_and_old_reports_still_read() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_308_926);
        assert_eq!(rfc3339(t), "2026-12-03T14:42:06Z");
        let back = parse("2026-12-03T14:42:06Z").unwrap();
        assert_eq!(back.timestamp(), 1_796_308_926);
        assert_eq!(parse("2026-12-03T15:42:06+01:00").unwrap(), back);
        assert_eq!(parse("1796308926 (unix seconds)").unwrap(), back);
        assert_eq!(show("1796308926 (unix seconds)"), "2026-12-03T14:42:06Z");
        assert_eq!(parse("now"), None);
        assert_eq!(show("now"), "now");
    }
}
