//! The evidence under a case on the HTML page: its failure (expected against actual as a
//! marked line diff, the judged message, the record's bytes) and its wire log. Messages are
//! shown as TP-469 prints them, in protobuf text format, with their JSON behind a toggle.

use std::fmt::Write;

use super::diff::{self, Side};
use super::esc;
use crate::report::model::{Failure, LogLine};

/// What a failure's `decoded` holds: the body of the judged Msg (`{"add_resp": {…}}` is a
/// `usp.Response`, `{"get": {…}}` a `usp.Request`, `{"error": {…}}` a `usp.Body`), or an MQTT
/// packet's fields, which have no text format.
const BODY_TYPES: [&str; 3] = ["usp.Request", "usp.Response", "usp.Body"];

/// A decoded message: in text format when it is one of `types`, with its JSON on demand; else
/// its JSON, indented.
pub fn message(decoded: &str, types: &[&str]) -> String {
    let Ok(tree) = serde_json::from_str::<serde_json::Value>(decoded) else {
        return format!("<pre class=json>{}</pre>", esc(decoded));
    };
    let json = serde_json::to_string_pretty(&tree).unwrap_or_else(|_| decoded.to_string());
    match types
        .iter()
        .find_map(|t| crate::usp::reflect::text_format(&tree, t))
    {
        Some(text) => format!(
            "<pre class=msg>{}</pre><details class=json><summary>JSON</summary><pre>{}</pre></details>",
            esc(&text),
            esc(&json)
        ),
        None => format!("<pre class=json>{}</pre>", esc(&json)),
    }
}

/// A matcher's or a message's text made comparable line by line: JSON (alone, or after a
/// name, as `add_resp {…}`) indented, anything else as it is.
fn comparable(s: &str) -> String {
    let pretty = |j: &str| {
        serde_json::from_str::<serde_json::Value>(j)
            .ok()
            .filter(|v| v.is_object() || v.is_array())
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
    };
    if let Some(p) = pretty(s) {
        return p;
    }
    match s.split_once(' ') {
        Some((name, rest)) if !name.is_empty() && !name.contains(['{', '[']) => {
            pretty(rest).map_or_else(|| s.to_string(), |p| format!("{name} {p}"))
        }
        _ => s.to_string(),
    }
}

/// Expected against actual: the lines only one side has are marked (`-` expected, `+`
/// actual), the shared ones plain.
pub fn expected_actual(expected: &str, actual: &str) -> String {
    let (e, a) = (comparable(expected), comparable(actual));
    let mut h = String::from(
        "<div class=diff><div class=legend><span class=del>− expected</span> \
         <span class=ins>+ actual</span></div><pre>",
    );
    for (side, line) in diff::lines(&e, &a) {
        let (class, mark) = match side {
            Side::Both => ("same", ' '),
            Side::Expected => ("del", '−'),
            Side::Actual => ("ins", '+'),
        };
        // Each line is a block of its own (so its mark colours the whole width).
        let _ = write!(h, "<span class={class}>{mark} {}</span>", esc(line));
    }
    h.push_str("</pre></div>");
    h
}

/// A failed or errored case's failure: step and message, expected against actual, error
/// codes, the judged message and the record's bytes.
pub fn failure(f: &Failure) -> String {
    let mut h = format!(
        "<div class=failure><p><b>{}</b>: {}</p>",
        esc(&f.step),
        esc(&f.message)
    );
    if !f.metrics.is_empty() {
        h.push_str("<p class=small>the step proves:</p><ul class=small>");
        for m in &f.metrics {
            let _ = write!(h, "<li>{}</li>", esc(m));
        }
        h.push_str("</ul>");
    }
    match (&f.expected, &f.actual) {
        (Some(e), Some(a)) => h.push_str(&expected_actual(e, a)),
        (e, a) => {
            for (what, x) in [("expected", e), ("actual", a)] {
                if let Some(x) = x {
                    let _ = write!(h, "<p>{what}:</p><pre>{}</pre>", esc(&comparable(x)));
                }
            }
        }
    }
    if !f.error_codes.is_empty() {
        let _ = write!(h, "<p>error codes: {}</p>", esc(&f.error_codes.join(", ")));
    }
    if let Some(d) = &f.decoded {
        h.push_str("<p>the message judged:</p>");
        h.push_str(&message(d, &BODY_TYPES));
    }
    if let Some(x) = &f.raw_hex {
        let _ = write!(
            h,
            "<details><summary>record (hex)</summary><pre>{}</pre></details>",
            esc(x)
        );
    }
    h.push_str("</div>");
    h
}

/// A case's wire log, open when `open` (failed and errored cases).
pub fn wire_log(log: &[LogLine], open: bool) -> String {
    let mut h = format!(
        "<details class=log{}><summary>wire log ({} line{})</summary><table class=log>",
        if open { " open" } else { "" },
        log.len(),
        if log.len() == 1 { "" } else { "s" }
    );
    for l in log {
        let arrow = match l.dir.as_str() {
            "in" => "EUT → harness",
            "out" => "harness → EUT",
            "mqtt" => "MQTT broker",
            _ => "MTP",
        };
        let _ = write!(
            h,
            "<tr class={}><td class=t>{:.3} s</td><td class=dir>{arrow}</td><td>{}",
            esc(&l.dir),
            l.t,
            esc(&l.text)
        );
        if let Some(d) = &l.decoded {
            h.push_str(&message(d, &["usp.Msg"]));
        }
        if let Some(x) = &l.hex {
            let _ = write!(
                h,
                "<details><summary>hex</summary><pre>{}</pre></details>",
                esc(x)
            );
        }
        for v in &l.violations {
            let _ = write!(h, "<div class=viol>{}</div>", esc(v));
        }
        h.push_str("</td></tr>");
    }
    h.push_str("</table></details>");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_msg_shows_in_text_format_with_its_json_on_demand() {
        let get = crate::usp::msg::request(
            "7",
            crate::usp::pb::request::ReqType::Get(crate::usp::pb::Get {
                param_paths: vec!["Device.".into()],
                max_depth: 0,
            }),
        );
        let json = crate::usp::reflect::to_value(&get, "usp.Msg").to_string();
        let h = message(&json, &["usp.Msg"]);
        assert!(
            h.starts_with("<pre class=msg>header {\n  msg_id: &quot;7&quot;"),
            "{h}"
        );
        assert!(
            h.contains("<details class=json><summary>JSON</summary><pre>{\n"),
            "{h}"
        );
        // A body of a failure, and an MQTT packet's fields (no text format).
        let body = r#"{"add_resp":{"created_obj_results":[]}}"#;
        assert!(message(body, &BODY_TYPES).starts_with("<pre class=msg>add_resp {"));
        let packet = r#"{"kind":"CONNECT","client_id":"a"}"#;
        assert!(message(packet, &BODY_TYPES).starts_with("<pre class=json>{\n"));
        // JSON cut short by a size bound is shown as it is.
        assert_eq!(
            message("{\"a\"… (9 bytes", &BODY_TYPES),
            "<pre class=json>{&quot;a&quot;… (9 bytes</pre>"
        );
    }

    #[test]
    fn expected_and_actual_differ_where_marked() {
        let h = expected_actual(
            r#"error {"err_code":7004,"param_path":"A","z":1}"#,
            r#"add_resp {"err_code":7004,"param_path":"B","z":1}"#,
        );
        assert!(h.contains("<span class=del>− error {</span>"), "{h}");
        assert!(h.contains("<span class=ins>+ add_resp {</span>"), "{h}");
        assert!(
            h.contains("<span class=same>    &quot;err_code&quot;: 7004,</span>"),
            "{h}"
        );
        assert!(h.contains("<span class=del>−   &quot;param_path&quot;: &quot;A&quot;,</span><span class=ins>+   &quot;param_path&quot;: &quot;B&quot;,</span>"), "{h}");
        assert!(
            h.contains("<span class=same>    &quot;z&quot;: 1</span>"),
            "{h}"
        );
        // Plain values compare as they are.
        let h = expected_actual("7004", "7003");
        assert!(
            h.contains("<span class=del>− 7004</span>")
                && h.contains("<span class=ins>+ 7003</span>")
        );
    }
}
