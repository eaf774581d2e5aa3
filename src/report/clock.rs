//! Times as the reports write them: instants in RFC 3339 (UTC, with a `Z`), durations the way
//! a person says them (`350 ms`, `1.2 s`, `2 min 5 s`).

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

/// A duration the way a person says it: `350 ms` below a second, `1.2 s` below a minute,
/// `2 min 5 s` below an hour, `1 h 3 min` above.
pub fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms} ms");
    }
    if ms < 60_000 {
        // Tenths, rounded, but never shown as a whole minute.
        let tenths = ((ms + 50) / 100).min(599);
        return format!("{}.{} s", tenths / 10, tenths % 10);
    }
    let s = (ms + 500) / 1000;
    if s < 3600 {
        return format!("{} min {} s", s / 60, s % 60);
    }
    let m = (s + 30) / 60;
    format!("{} h {} min", m / 60, m % 60)
}

/// [`human`] of a number of milliseconds (what the result model holds).
pub fn human_ms(ms: u64) -> String {
    human(Duration::from_millis(ms))
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

    #[test]
    fn durations_read_as_a_person_says_them() {
        let ms = |n| human(Duration::from_millis(n));
        assert_eq!(ms(0), "0 ms");
        assert_eq!(ms(350), "350 ms");
        assert_eq!(ms(1_234), "1.2 s");
        assert_eq!(ms(59_990), "59.9 s");
        assert_eq!(ms(60_000), "1 min 0 s");
        assert_eq!(ms(125_400), "2 min 5 s");
        assert_eq!(ms(3_600_000), "1 h 0 min");
        assert_eq!(ms(3_780_000), "1 h 3 min");
    }
}
