//! Variables (`${name}`): captures of earlier steps and values of the EUT profile. Strings
//! that use them are parsed once into [`Template`]s when a case loads, so a reference to a
//! variable no step captures is a load error, and one that is still unset at run time (its
//! capture never happened) is the harness's error, never the agent's failure.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

/// The variables the profile gives every case (besides `alt.NAME`, the profile's
/// alternate elements). Over MQTT, the `mqtt.` ones.
pub const PROFILE_VARS: &[&str] = &[
    "eut.endpoint_id",
    "controller.endpoint_id",
    "controller2.endpoint_id",
    "eut.connect_timeout",
    "mqtt.tls_port",
    "mqtt.version",
    "mqtt.controller_topic",
    "mqtt.reply_to_wildcard",
];

/// The variables a profile's `start` command can use besides `env.NAME` (uspcheck's
/// environment): the profile's folder, and the ports uspcheck chose where it listens for the
/// agent (`127.0.0.1:0` lets the OS pick).
pub const START_VARS: &[&str] = &[
    "profile.dir",
    "websocket.port",
    "mqtt.port",
    "mqtt.tls_port",
];

/// Whether `${name}` in a `start` command is uspcheck's to replace: a name with one of the
/// prefixes of [`START_VARS`] or `env.` (a shell variable has no dot in its name).
pub fn is_start_var(name: &str) -> bool {
    name.split_once('.').is_some_and(|(prefix, _)| {
        prefix == "env"
            || START_VARS
                .iter()
                .any(|v| v.split_once('.').is_some_and(|(p, _)| p == prefix))
    })
}

/// Whether `name` is a variable the profile (not a capture) provides.
pub fn is_profile_var(name: &str) -> bool {
    PROFILE_VARS.contains(&name) || name.strip_prefix("alt.").is_some_and(|a| !a.is_empty())
}

/// Variables: captures and profile values, used as `${name}`.
#[derive(Debug, Clone, Default)]
pub struct Vars(pub BTreeMap<String, String>);

/// A `${name}` that has no value when it is needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unset {
    pub name: String,
    /// The names that are set, to help a reader spot a typo.
    pub known: Vec<String>,
}

impl fmt::Display for Unset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_profile_var(&self.name) {
            write!(
                f,
                "variable ${{{}}} is not set: the EUT profile does not give it",
                self.name
            )
        } else {
            write!(
                f,
                "variable ${{{}}} is not set: the step that captures it did not run or did not \
                 capture (set: {})",
                self.name,
                self.known.join(", ")
            )
        }
    }
}

impl std::error::Error for Unset {}

impl Vars {
    pub fn set(&mut self, k: impl Into<String>, v: impl Into<String>) {
        self.0.insert(k.into(), v.into());
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }

    pub fn need(&self, name: &str) -> Result<&str, Unset> {
        self.get(name).ok_or_else(|| Unset {
            name: name.into(),
            known: self.0.keys().cloned().collect(),
        })
    }

    /// Replaces every `${name}` in `s`. A string that is not a valid template is used as
    /// it is (templates in case files are checked when they load).
    pub fn interpolate(&self, s: &str) -> Result<String, Unset> {
        match Template::parse(s) {
            Ok(t) => t.render(self),
            Err(_) => Ok(s.to_string()),
        }
    }

    /// Interpolates every string (and key) in a tree.
    pub fn interpolate_tree(&self, v: &Value) -> Result<Value, Unset> {
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
                    .collect::<Result<_, Unset>>()?,
            ),
            other => other.clone(),
        })
    }
}

/// A string with `${name}` references, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Var(String),
}

impl Template {
    /// Parses `s`; an unclosed `${` or an empty name is an error.
    pub fn parse(s: &str) -> Result<Template, String> {
        Template::parse_some(s, |_| true)
    }

    /// Parses `s`, taking as variables only the `${name}`s for which `ours(name)` holds;
    /// any other `${…}` stays text (a shell command's own `${HOME}`).
    pub fn parse_some(s: &str, ours: impl Fn(&str) -> bool) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = s;
        while let Some(start) = rest.find("${") {
            text.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("unclosed ${{ in {s:?}"))?;
            let name = after[..end].trim();
            rest = &after[end + 1..];
            if !ours(name) {
                text.push_str(&format!("${{{}}}", &after[..end]));
                continue;
            }
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(format!("`${{{}}}` is not a variable name", &after[..end]));
            }
            if !text.is_empty() {
                parts.push(Part::Lit(std::mem::take(&mut text)));
            }
            parts.push(Part::Var(name.to_string()));
        }
        text.push_str(rest);
        if !text.is_empty() || parts.is_empty() {
            parts.push(Part::Lit(text));
        }
        Ok(Template { parts })
    }

    /// The template `${name}`.
    pub fn var(name: &str) -> Template {
        Template {
            parts: vec![Part::Var(name.to_string())],
        }
    }

    /// The text, when the template uses no variable.
    pub fn literal(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [Part::Lit(s)] => Some(s),
            _ => None,
        }
    }

    /// The variables it uses, in order.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v.as_str()),
            Part::Lit(_) => None,
        })
    }

    /// The text with every variable replaced.
    pub fn render(&self, vars: &Vars) -> Result<String, Unset> {
        self.render_with(vars, str::to_string)
    }

    /// The text with every variable replaced by `escape(value)` (for a regular expression,
    /// a value is literal text).
    pub fn render_with(
        &self,
        vars: &Vars,
        escape: impl Fn(&str) -> String,
    ) -> Result<String, Unset> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Var(v) => out.push_str(&escape(vars.need(v)?)),
            }
        }
        Ok(out)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.parts {
            match p {
                Part::Lit(s) => f.write_str(s)?,
                Part::Var(v) => write!(f, "${{{v}}}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_and_render() {
        let t = Template::parse("${sub}Enable").unwrap();
        assert_eq!(t.vars().collect::<Vec<_>>(), ["sub"]);
        assert_eq!(t.literal(), None);
        let mut v = Vars::default();
        assert_eq!(t.render(&v).unwrap_err().name, "sub");
        v.set("sub", "Device.X.1.");
        assert_eq!(t.render(&v).unwrap(), "Device.X.1.Enable");
        assert_eq!(
            t.render_with(&v, regex::escape).unwrap(),
            "Device\\.X\\.1\\.Enable"
        );
        assert_eq!(Template::parse("plain").unwrap().literal(), Some("plain"));
        assert_eq!(Template::parse("").unwrap().literal(), Some(""));
        assert!(Template::parse("${open").is_err());
        assert!(Template::parse("${}").is_err());
        assert_eq!(t.to_string(), "${sub}Enable");
    }

    #[test]
    fn a_template_can_leave_other_variables_as_text() {
        let t = Template::parse_some("run ${HOME}/a --port ${websocket.port} ${X:-a b}", |n| {
            is_start_var(n)
        })
        .unwrap();
        assert_eq!(t.vars().collect::<Vec<_>>(), ["websocket.port"]);
        let mut v = Vars::default();
        v.set("websocket.port", "4711");
        assert_eq!(t.render(&v).unwrap(), "run ${HOME}/a --port 4711 ${X:-a b}");
        let plain = Template::parse_some("echo ${HOME}", is_start_var).unwrap();
        assert_eq!(plain.literal(), Some("echo ${HOME}"));
        assert!(is_start_var("env.PATH") && is_start_var("mqtt.port"));
        assert!(
            is_start_var("websocket.prot"),
            "a typo of ours is ours, to be reported"
        );
        assert!(!is_start_var("HOME") && !is_start_var("X:-a.b"));
    }

    #[test]
    fn profile_variables_are_known_by_name() {
        assert!(is_profile_var("eut.endpoint_id"));
        assert!(is_profile_var("alt.command"));
        assert!(!is_profile_var("alt."));
        assert!(!is_profile_var("eut.endpointid"));
        assert!(!is_profile_var("sub"));
    }
}
