//! Bounds on the evidence kept as text: a hostile EUT's 16 MiB of garbage becomes a few
//! kilobytes of hex in a failure, a log line or a report, with its full size said.

/// Bytes shown as hex; the rest are counted.
pub const HEX_SHOWN: usize = 4096;
/// Bytes of text (decoded messages, packet trees) shown; the rest are counted.
pub const TEXT_SHOWN: usize = 64 * 1024;

/// `bytes` as hex, the first [`HEX_SHOWN`] of them when there are more.
pub fn hex(bytes: &[u8]) -> String {
    if bytes.len() <= HEX_SHOWN {
        return hex::encode(bytes);
    }
    format!(
        "{}… ({} bytes in all, the first {HEX_SHOWN} shown)",
        hex::encode(&bytes[..HEX_SHOWN]),
        bytes.len()
    )
}

/// `s`, cut after [`TEXT_SHOWN`] bytes (at a character boundary) when it is longer.
pub fn text(s: String) -> String {
    if s.len() <= TEXT_SHOWN {
        return s;
    }
    let mut end = TEXT_SHOWN;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}… ({} bytes in all, the first {end} shown)",
        &s[..end],
        s.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_evidence_is_whole_and_long_evidence_says_its_size() {
        assert_eq!(hex(&[1, 2]), "0102");
        let big = vec![0xab; 16 * 1024 * 1024];
        let h = hex(&big);
        assert!(h.len() < 2 * HEX_SHOWN + 100);
        assert!(h.ends_with("(16777216 bytes in all, the first 4096 shown)"));
        assert_eq!(text("é".into()), "é");
        let t = text("é".repeat(TEXT_SHOWN));
        assert!(t.len() < TEXT_SHOWN + 100);
        assert!(t.contains(&format!("({} bytes in all", 2 * TEXT_SHOWN)));
    }
}
