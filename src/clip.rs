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
    cut(&s[..end], s.len())
}

/// The head of a text too long to show whole, and how long the whole was.
fn cut(head: &str, total: usize) -> String {
    format!(
        "{head}… ({total} bytes in all, the first {} shown)",
        head.len()
    )
}

/// `value` as JSON, cut as [`text`] cuts it, written without ever holding more than
/// [`TEXT_SHOWN`] bytes of it: the JSON of a decoded answer of megabytes is larger still.
pub fn json(value: &impl serde::Serialize) -> String {
    json_up_to(value, TEXT_SHOWN)
}

/// [`json`] cut after `limit` bytes instead.
pub fn json_up_to(value: &impl serde::Serialize, limit: usize) -> String {
    let mut w = Kept::up_to(limit);
    serde_json::to_writer(&mut w, value).expect("a tree serialises and the writer never fails");
    if w.total <= limit {
        return String::from_utf8(w.kept).expect("serde_json writes UTF-8");
    }
    cut(w.text(), w.total)
}

/// The first `chars` characters of `value` as compact JSON, and "…" when there are more;
/// never more of it written than that.
pub fn json_head(value: &impl serde::Serialize, chars: usize) -> String {
    // A character is at most 4 bytes; one more byte says whether anything follows.
    let mut w = Kept::up_to(4 * chars + 1);
    serde_json::to_writer(&mut w, value).expect("a tree serialises and the writer never fails");
    let text = w.text();
    match text.char_indices().nth(chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// A writer keeping the first `limit` bytes written and counting the rest.
struct Kept {
    kept: Vec<u8>,
    limit: usize,
    total: usize,
}

impl Kept {
    fn up_to(limit: usize) -> Kept {
        Kept {
            kept: Vec::new(),
            limit,
            total: 0,
        }
    }

    /// What was kept, up to its last whole character (the limit may cut one in two).
    fn text(&self) -> &str {
        let end = match std::str::from_utf8(&self.kept) {
            Ok(_) => self.kept.len(),
            Err(e) => e.valid_up_to(),
        };
        std::str::from_utf8(&self.kept[..end]).expect("cut at a character boundary")
    }
}

impl std::io::Write for Kept {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = self.limit.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&buf[..room.min(buf.len())]);
        self.total += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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

    #[test]
    fn json_is_cut_as_its_text_would_be() {
        let small = serde_json::json!({"a": "é"});
        assert_eq!(json(&small), text(small.to_string()));
        let big =
            serde_json::json!({ "p": (0..20_000).map(|i| format!("é{i}")).collect::<Vec<_>>() });
        assert!(big.to_string().len() > TEXT_SHOWN);
        assert_eq!(json(&big), text(big.to_string()));
        assert_eq!(json_head(&small, 400), small.to_string());
        let head = json_head(&big, 400);
        assert_eq!(head.chars().count(), 401);
        assert!(big.to_string().starts_with(head.trim_end_matches('…')));
        assert!(head.ends_with('…'));
        let exact = serde_json::json!("é");
        assert_eq!(json_head(&exact, 3), "\"é\"");
        assert_eq!(json_head(&exact, 2), "\"é…");
    }
}
