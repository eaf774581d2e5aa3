//! Text for people: durations the way a person says them (`350 ms`, `1.2 s`, `2 min 5 s`)
//! and text quoted as it was written, for every failure, notice, error and report, never
//! Rust's debug form (`1.5s`, `10.000123s`, `"Device.[ID==\"x\"]."`). Every layer may use it.

use std::time::Duration;

/// A duration the way a person says it: `350 ms` below a second, `1.2 s` below a minute,
/// `2 min 5 s` below an hour, `1 h 3 min` above.
pub fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms} ms");
    }
    if ms < 60_000 {
        // Tenths, rounded, but never shown as a whole minute; whole seconds without them.
        let tenths = ((ms + 50) / 100).min(599);
        return match tenths % 10 {
            0 => format!("{} s", tenths / 10),
            t => format!("{}.{t} s", tenths / 10),
        };
    }
    let s = (ms + 500) / 1000;
    if s < 3600 {
        return match s % 60 {
            0 => format!("{} min", s / 60),
            r => format!("{} min {r} s", s / 60),
        };
    }
    let m = (s + 30) / 60;
    match m % 60 {
        0 => format!("{} h", m / 60),
        r => format!("{} h {r} min", m / 60),
    }
}

/// `s` between double quotes as it was written: unlike `{:?}`, the quotes and backslashes in
/// it stay as they are (`"Device.[ID=="x"]."`, `"^Device\."`); only control characters are
/// escaped, so a newline or a tab shows.
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_a_person_says_them() {
        let ms = |n| duration(Duration::from_millis(n));
        assert_eq!(ms(0), "0 ms");
        assert_eq!(ms(350), "350 ms");
        assert_eq!(ms(1_234), "1.2 s");
        assert_eq!(ms(1_500), "1.5 s");
        assert_eq!(ms(5_000), "5 s");
        assert_eq!(ms(10_000_123), "2 h 47 min");
        assert_eq!(ms(59_990), "59.9 s");
        assert_eq!(ms(60_000), "1 min");
        assert_eq!(ms(120_000), "2 min");
        assert_eq!(ms(125_400), "2 min 5 s");
        assert_eq!(ms(3_600_000), "1 h");
        assert_eq!(ms(3_780_000), "1 h 3 min");
        // What Rust's debug form prints with a stray nanosecond, said plainly.
        assert_eq!(duration(Duration::new(10, 123)), "10 s");
    }

    #[test]
    fn text_is_quoted_as_written_with_control_characters_shown() {
        assert_eq!(quoted(r#"Device.[ID=="x"]."#), r#""Device.[ID=="x"].""#);
        assert_eq!(quoted(r"^Device\."), r#""^Device\.""#);
        assert_eq!(quoted("a\tb\n"), r#""a\tb\n""#);
    }
}
