//! Expectations: partial structural matches on decoded messages, with captures, sets,
//! regexes, counts and comparisons (the operator table is in `docs/case-format.md`).
//! A mismatch says where, what was expected and what was there, so a failure explains itself.

use std::collections::BTreeMap;
use std::fmt;

use regex::Regex;
use serde_json::Value;

/// Variables: captures and profile values, used as `${name}`.
#[derive(Debug, Clone, Default)]
pub struct Vars(pub BTreeMap<String, String>);

impl Vars {
    pub fn set(&mut self, k: impl Into<String>, v: impl Into<String>) {
        self.0.insert(k.into(), v.into());
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }

    /// Replaces every `${name}` in `s`; an unknown name is an error.
    pub fn interpolate(&self, s: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = s;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("unclosed ${{ in {s:?}"))?;
            let name = &after[..end];
            let val = self.get(name).ok_or_else(|| {
                format!(
                    "variable ${{{name}}} is not set (known: {})",
                    self.0.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            })?;
            out.push_str(val);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Interpolates every string in a tree.
    pub fn interpolate_tree(&self, v: &Value) -> Result<Value, String> {
        Ok(match v {
            Value::String(s) => Value::String(self.interpolate(s)?),
            Value::Array(a) => Value::Array(
                a.iter()
                    .map(|x| self.interpolate_tree(x))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| Ok((self.interpolate(k)?, self.interpolate_tree(x)?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => other.clone(),
        })
    }
}

/// Where and how an expectation was not met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The path into the message (`add_resp.created_obj_results[0].oper_status`).
    pub at: String,
    pub expected: String,
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "at {}: expected {}, actual {}",
            if self.at.is_empty() {
                "(top)"
            } else {
                &self.at
            },
            self.expected,
            self.actual
        )
    }
}

const OPERATORS: &[&str] = &[
    "capture",
    "any_of",
    "regex",
    "gt",
    "ge",
    "lt",
    "le",
    "absent",
    "not_empty",
    "len",
    "min_len",
    "max_len",
    "keys",
    "unordered",
    "contains",
    "each",
    "none",
    "any",
    "all",
    "not",
];

/// Whether `key` is an operator name.
pub fn is_operator_name(key: &str) -> bool {
    OPERATORS.contains(&key)
}

/// Whether a mapping is an operator (all its keys are operator names).
fn is_operator(o: &serde_json::Map<String, Value>) -> bool {
    !o.is_empty() && o.keys().all(|k| is_operator_name(k))
}

/// Compact text of a value for messages, cut to a readable length.
pub fn show(v: Option<&Value>) -> String {
    match v {
        None => "(missing)".into(),
        Some(v) => {
            let s = v.to_string();
            if s.len() > 400 {
                let cut: String = s.chars().take(400).collect();
                format!("{cut}…")
            } else {
                s
            }
        }
    }
}

/// Compact text of an expectation, with the variables it uses filled in where known.
fn show_exp(e: &Value, vars: &Vars) -> String {
    show(Some(
        &vars.interpolate_tree(e).unwrap_or_else(|_| e.clone()),
    ))
}

/// The text a scalar is compared by.
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

fn is_default(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

fn size(v: &Value) -> Option<usize> {
    match v {
        Value::Array(a) => Some(a.len()),
        Value::Object(o) => Some(o.len()),
        Value::String(s) => Some(s.chars().count()),
        _ => None,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Matches `actual` against `expected`, storing captures in `vars` only if the whole match
/// succeeds.
pub fn check(expected: &Value, actual: &Value, vars: &mut Vars) -> Result<(), Mismatch> {
    let mut scratch = vars.clone();
    m(expected, Some(actual), "", &mut scratch)?;
    *vars = scratch;
    Ok(())
}

/// Whether `expected` matches, without keeping captures.
pub fn matches(expected: &Value, actual: &Value, vars: &Vars) -> bool {
    m(expected, Some(actual), "", &mut vars.clone()).is_ok()
}

fn miss(at: &str, expected: impl Into<String>, actual: Option<&Value>) -> Mismatch {
    Mismatch {
        at: at.into(),
        expected: expected.into(),
        actual: show(actual),
    }
}

fn m(exp: &Value, act: Option<&Value>, at: &str, vars: &mut Vars) -> Result<(), Mismatch> {
    match exp {
        Value::Object(o) if is_operator(o) => {
            for (op, arg) in o {
                operator(op, arg, act, at, vars)?;
            }
            Ok(())
        }
        Value::Object(o) => {
            let Some(Value::Object(actual)) = act else {
                return Err(miss(at, "a message or map", act));
            };
            for (k, e) in o {
                let key = vars.interpolate(k).map_err(|why| miss(at, why, act))?;
                let here = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                match actual.get(&key) {
                    Some(a) => m(e, Some(a), &here, vars)?,
                    None => {
                        // A field the message lacks matches only `absent`.
                        if let Value::Object(eo) = e
                            && eo.get("absent") == Some(&Value::Bool(true))
                        {
                            continue;
                        }
                        let keys: Vec<&String> = actual.keys().collect();
                        return Err(Mismatch {
                            at: here,
                            expected: format!("field '{key}' present ({})", show_exp(e, vars)),
                            actual: format!("(missing; present: {keys:?})"),
                        });
                    }
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            let Some(Value::Array(actual)) = act else {
                return Err(miss(at, "a list", act));
            };
            if items.len() != actual.len() {
                return Err(miss(
                    at,
                    format!(
                        "a list of {} element(s) {}",
                        items.len(),
                        show_exp(exp, vars)
                    ),
                    act,
                ));
            }
            for (i, (e, a)) in items.iter().zip(actual).enumerate() {
                m(e, Some(a), &format!("{at}[{i}]"), vars)?;
            }
            Ok(())
        }
        scalar => {
            let want = vars
                .interpolate(&text(scalar).unwrap_or_default())
                .map_err(|why| miss(at, why, act))?;
            match act.and_then(text) {
                Some(got) if got == want => Ok(()),
                _ => Err(miss(at, format!("{want:?}"), act)),
            }
        }
    }
}

fn operator(
    op: &str,
    arg: &Value,
    act: Option<&Value>,
    at: &str,
    vars: &mut Vars,
) -> Result<(), Mismatch> {
    let want_text = |v: &Value, vars: &Vars| -> Result<String, Mismatch> {
        vars.interpolate(&text(v).unwrap_or_default())
            .map_err(|why| miss(at, why, act))
    };
    match op {
        "capture" => {
            let a = act.ok_or_else(|| miss(at, "a value to capture", act))?;
            let name = text(arg).unwrap_or_default();
            vars.set(name, text(a).unwrap_or_else(|| a.to_string()));
            Ok(())
        }
        "any_of" => {
            let options = arg.as_array().cloned().unwrap_or_else(|| vec![arg.clone()]);
            let got = act.and_then(text);
            for o in &options {
                if got.as_deref() == Some(want_text(o, vars)?.as_str()) {
                    return Ok(());
                }
            }
            Err(miss(at, format!("one of {}", show_exp(arg, vars)), act))
        }
        "regex" => {
            let pattern = want_text(arg, vars)?;
            let re =
                Regex::new(&pattern).map_err(|e| miss(at, format!("a valid regex ({e})"), act))?;
            match act.and_then(text) {
                Some(t) if re.is_match(&t) => Ok(()),
                _ => Err(miss(at, format!("text matching /{pattern}/"), act)),
            }
        }
        "gt" | "ge" | "lt" | "le" => {
            let bound: f64 = want_text(arg, vars)?
                .parse()
                .map_err(|_| miss(at, format!("{op} needs a number"), act))?;
            let ok = act.and_then(number).is_some_and(|n| match op {
                "gt" => n > bound,
                "ge" => n >= bound,
                "lt" => n < bound,
                _ => n <= bound,
            });
            let sym = match op {
                "gt" => ">",
                "ge" => ">=",
                "lt" => "<",
                _ => "<=",
            };
            ok.then_some(())
                .ok_or_else(|| miss(at, format!("a number {sym} {bound}"), act))
        }
        "absent" => {
            let want_absent = arg.as_bool().unwrap_or(true);
            let is_absent = act.is_none_or(is_default);
            (is_absent == want_absent).then_some(()).ok_or_else(|| {
                miss(
                    at,
                    if want_absent {
                        "absent or empty"
                    } else {
                        "present"
                    },
                    act,
                )
            })
        }
        "not_empty" => act
            .filter(|a| !is_default(a))
            .map(|_| ())
            .ok_or_else(|| miss(at, "a non-empty value", act)),
        "len" | "min_len" | "max_len" => {
            let n = number(arg).unwrap_or(-1.0) as i64;
            let got = act.and_then(size).map(|s| s as i64);
            let ok = got.is_some_and(|g| match op {
                "len" => g == n,
                "min_len" => g >= n,
                _ => g <= n,
            });
            let what = match op {
                "len" => format!("exactly {n} element(s)"),
                "min_len" => format!("at least {n} element(s)"),
                _ => format!("at most {n} element(s)"),
            };
            ok.then_some(()).ok_or_else(|| miss(at, what, act))
        }
        "keys" => {
            let mut want: Vec<String> = arg
                .as_array()
                .map(|a| a.iter().filter_map(text).collect())
                .unwrap_or_default();
            want.sort();
            let mut got: Vec<String> = match act {
                Some(Value::Object(o)) => o.keys().cloned().collect(),
                _ => return Err(miss(at, format!("a map with keys {want:?}"), act)),
            };
            got.sort();
            (want == got)
                .then_some(())
                .ok_or_else(|| miss(at, format!("exactly the keys {want:?}"), act))
        }
        "unordered" | "contains" => {
            let wanted = arg.as_array().cloned().unwrap_or_default();
            let Some(Value::Array(actual)) = act else {
                return Err(miss(at, "a list", act));
            };
            if op == "unordered" && wanted.len() != actual.len() {
                return Err(miss(
                    at,
                    format!("a list of {} element(s), in any order", wanted.len()),
                    act,
                ));
            }
            let mut used = vec![false; actual.len()];
            for (wi, w) in wanted.iter().enumerate() {
                let mut found = false;
                for (ai, a) in actual.iter().enumerate() {
                    if used[ai] {
                        continue;
                    }
                    let mut trial = vars.clone();
                    if m(w, Some(a), &format!("{at}[{ai}]"), &mut trial).is_ok() {
                        *vars = trial;
                        used[ai] = true;
                        found = true;
                        break;
                    }
                }
                if !found {
                    // Say why the closest candidate failed, to make the failure readable.
                    let why = actual
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| !used[*i])
                        .map(|(i, a)| m(w, Some(a), &format!("{at}[{i}]"), &mut vars.clone()))
                        .find_map(Result::err)
                        .map(|e| format!(" (nearest: {e})"))
                        .unwrap_or_default();
                    return Err(Mismatch {
                        at: at.into(),
                        expected: format!(
                            "an element matching {} (item {wi} of `{op}`){why}",
                            show_exp(w, vars)
                        ),
                        actual: show(act),
                    });
                }
            }
            Ok(())
        }
        "each" => {
            let Some(Value::Array(actual)) = act else {
                return Err(miss(at, "a list", act));
            };
            for (i, a) in actual.iter().enumerate() {
                m(arg, Some(a), &format!("{at}[{i}]"), vars)?;
            }
            Ok(())
        }
        "none" => {
            let Some(Value::Array(actual)) = act else {
                return Err(miss(at, "a list", act));
            };
            for (i, a) in actual.iter().enumerate() {
                if m(arg, Some(a), "", &mut vars.clone()).is_ok() {
                    return Err(miss(
                        &format!("{at}[{i}]"),
                        format!("no element matching {}", show_exp(arg, vars)),
                        Some(a),
                    ));
                }
            }
            Ok(())
        }
        "any" => {
            let options = arg.as_array().cloned().unwrap_or_default();
            let mut reasons = Vec::new();
            for o in &options {
                match m(o, act, at, &mut vars.clone()) {
                    Ok(()) => return Ok(()),
                    Err(e) => reasons.push(e.to_string()),
                }
            }
            Err(miss(
                at,
                format!("any of {} [{}]", show_exp(arg, vars), reasons.join(" | ")),
                act,
            ))
        }
        "all" => {
            for o in arg.as_array().cloned().unwrap_or_default() {
                m(&o, act, at, vars)?;
            }
            Ok(())
        }
        "not" => match m(arg, act, at, &mut vars.clone()) {
            Ok(()) => Err(miss(at, format!("not {}", show_exp(arg, vars)), act)),
            Err(_) => Ok(()),
        },
        _ => unreachable!("is_operator admits only known operators"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(e: Value, a: Value) -> Vars {
        let mut v = Vars::default();
        check(&e, &a, &mut v).unwrap_or_else(|m| panic!("{m}"));
        v
    }

    fn bad(e: Value, a: Value) -> Mismatch {
        check(&e, &a, &mut Vars::default()).unwrap_err()
    }

    #[test]
    fn partial_maps_and_exact_lists() {
        ok(json!({"a": 1}), json!({"a": "1", "b": 2}));
        let mm = bad(json!({"a": [1]}), json!({"a": [1, 2]}));
        assert_eq!(mm.at, "a");
        let mm = bad(json!({"x": {"y": "z"}}), json!({"x": {"y": "w"}}));
        assert_eq!(mm.at, "x.y");
        assert!(mm.to_string().contains("expected \"z\", actual \"w\""));
        assert!(bad(json!({"q": 1}), json!({})).expected.contains("'q'"));
    }

    #[test]
    fn captures_are_kept_only_on_success() {
        let v = ok(
            json!({"p": {"capture": "sub"}}),
            json!({"p": "Device.X.1."}),
        );
        assert_eq!(v.get("sub"), Some("Device.X.1."));
        let mut vars = Vars::default();
        let r = check(
            &json!({"p": {"capture": "sub"}, "q": 1}),
            &json!({"p": "a", "q": 2}),
            &mut vars,
        );
        assert!(r.is_err() && vars.get("sub").is_none());
    }

    #[test]
    fn operators() {
        ok(json!({"c": {"any_of": [7004, 7021]}}), json!({"c": 7021}));
        assert!(
            bad(json!({"c": {"any_of": [7004]}}), json!({"c": 7003}))
                .expected
                .contains("one of")
        );
        ok(
            json!({"p": {"regex": "^Device\\.X\\.\\d+\\.$"}}),
            json!({"p": "Device.X.3."}),
        );
        ok(json!({"n": {"gt": 10, "le": 20}}), json!({"n": "20"}));
        bad(json!({"n": {"gt": 10}}), json!({"n": "10"}));
        ok(
            json!({"e": {"absent": true}, "f": {"absent": true}}),
            json!({"e": []}),
        );
        ok(
            json!({"l": {"len": 2, "each": {"k": 1}}}),
            json!({"l": [{"k": 1}, {"k": 1}]}),
        );
        ok(
            json!({"m": {"keys": ["B", "A"]}}),
            json!({"m": {"A": 1, "B": 2}}),
        );
        bad(
            json!({"m": {"keys": ["A"]}}),
            json!({"m": {"A": 1, "B": 2}}),
        );
        ok(
            json!({"l": {"unordered": [{"k": 2}, {"k": 1}]}}),
            json!({"l": [{"k": 1}, {"k": 2}]}),
        );
        ok(
            json!({"l": {"contains": [{"k": 2, "p": {"capture": "x"}}]}}),
            json!({"l": [{"k": 1}, {"k": 2, "p": "z"}]}),
        );
        bad(
            json!({"l": {"contains": [{"k": 3}]}}),
            json!({"l": [{"k": 1}]}),
        );
        bad(json!({"l": {"none": {"k": 1}}}), json!({"l": [{"k": 1}]}));
        ok(
            json!({"u": {"any": [{"keys": ["A", "B"]}, {"keys": ["B"]}]}}),
            json!({"u": {"B": 1}}),
        );
        ok(json!({"x": {"not": 3}}), json!({"x": 4}));
        ok(
            json!({"x": {"all": [{"min_len": 1}, {"not_empty": true}]}}),
            json!({"x": "a"}),
        );
    }

    #[test]
    fn variables_interpolate_in_values_and_keys() {
        let mut v = Vars::default();
        v.set("sub", "Device.X.1.");
        check(
            &json!({"p": "${sub}Enable", "${sub}": 1}),
            &json!({"p": "Device.X.1.Enable", "Device.X.1.": 1}),
            &mut v,
        )
        .unwrap();
        assert!(v.interpolate("${nope}").unwrap_err().contains("nope"));
    }
}
