//! A profile where it lies: its `start` command, with the variables uspcheck replaces in it
//! (`${env.NAME}`, `${profile.dir}`, the ports uspcheck chose), and its relative paths,
//! which mean the profile's folder, not wherever uspcheck happens to be started from.

use std::path::{Path, PathBuf};

use serde_saphyr::Spanned;

use super::load::{LoadError, snippet};
use super::node::Pos;
use super::profile::{BrokerMode, MtpSetup, Profile, UdsSetup, WebSocketSetup};
use super::vars::{START_VARS, Template, Unset, Vars, is_start_var};

/// The command that starts the agent, as the profile gives it.
#[derive(Debug, Clone)]
pub struct Start {
    /// As written.
    pub text: String,
    template: Template,
    /// What is known when the profile loads: `env.NAME` and `profile.dir`.
    known: Vars,
    /// Where it runs: the profile's folder.
    pub dir: PathBuf,
}

impl Start {
    /// The shell command, once uspcheck has chosen its ports (`chosen`: `websocket.port`,
    /// `mqtt.port`, `mqtt.tls_port` as far as the profile's MTP has them).
    pub fn command(&self, chosen: &Vars) -> Result<String, String> {
        let mut vars = self.known.clone();
        for (k, v) in &chosen.0 {
            vars.set(k.clone(), v.clone());
        }
        let command = self.template.render(&vars).map_err(|Unset { name, .. }| {
            format!("the profile's start command uses ${{{name}}}, which has no value in this run")
        })?;
        // A block scalar (`start: |`) ends in a newline the shell does not need.
        Ok(command.trim_end().to_string())
    }
}

/// The profile's folder: that of `file`, absolute.
pub fn folder_of(file: &str) -> PathBuf {
    let parent = Path::new(file)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    parent
        .canonicalize()
        .or_else(|_| std::path::absolute(parent))
        .unwrap_or_else(|_| parent.to_path_buf())
}

/// Makes the profile's relative paths (`uds.path`, `mqtt.tls.certs`) relative to its folder.
pub fn resolve_paths(p: &mut Profile) {
    let dir = p.dir.clone();
    let under = |s: &str| {
        if Path::new(s).is_relative() {
            dir.join(s)
        } else {
            PathBuf::from(s)
        }
    };
    if let Some(UdsSetup::Listen { path } | UdsSetup::Connect { path }) = &mut p.uds {
        *path = under(path).display().to_string();
    }
    if let Some(tls) = p.mqtt.as_mut().and_then(|m| m.tls.as_mut()) {
        tls.certs = under(&tls.certs.display().to_string());
    }
}

/// Reads the `start` command of profile `p` (from file `file` with text `text`): each
/// variable of uspcheck's must be one it knows and can give over the profile's MTP, and each
/// `${env.NAME}` must be set now. Errors point at the variable.
pub fn start(
    p: &Profile,
    raw: &Spanned<String>,
    text: &str,
    file: &str,
) -> Result<Start, LoadError> {
    let at = Pos::of(raw);
    let fail = |at: Pos, message: String| LoadError {
        snippet: snippet(text, at.line, at.column),
        ..LoadError::new(file, at.line, at.column, format!("start: {message}"))
    };
    let template = Template::parse_some(&raw.value, is_start_var).map_err(|e| fail(at, e))?;
    let mut known = Vars::default();
    known.set("profile.dir", p.dir.display().to_string());
    for name in template.vars() {
        let here = place_of(text, at, name);
        if let Some(env) = name.strip_prefix("env.") {
            let valid = env.chars().next().is_some_and(|c| !c.is_ascii_digit())
                && env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(fail(
                    here,
                    format!("`${{{name}}}`: {env:?} is not a variable name"),
                ));
            }
            match std::env::var(env) {
                Ok(v) => known.set(name, v),
                Err(_) => {
                    return Err(fail(
                        here,
                        format!(
                            "${{{name}}}: {env} is not set in uspcheck's environment (set it, or \
                             write the value here)"
                        ),
                    ));
                }
            }
            continue;
        }
        if !START_VARS.contains(&name) {
            return Err(fail(
                here,
                format!(
                    "${{{name}}} is not one of uspcheck's variables: ${{env.NAME}}, {} (a \
                     ${{NAME}} without a dot is left to the shell)",
                    START_VARS
                        .iter()
                        .map(|v| format!("${{{v}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if let Some(why) = unavailable(p, name) {
            return Err(fail(here, format!("${{{name}}} {why}")));
        }
    }
    Ok(Start {
        text: raw.value.clone(),
        template,
        known,
        dir: p.dir.clone(),
    })
}

/// Why the profile's MTP gives no value to `name` (one of [`START_VARS`]), if it gives none.
fn unavailable(p: &Profile, name: &str) -> Option<&'static str> {
    let mtp = p.mtp();
    let embedded = matches!(&mtp, MtpSetup::Mqtt(m) if m.broker == BrokerMode::Embedded);
    match name {
        "websocket.port" => (!matches!(mtp, MtpSetup::WebSocket(WebSocketSetup::Listen { .. })))
            .then_some(
                "is the port uspcheck listens on for the agent: it needs `websocket: { mode: \
                 listen }`",
            ),
        "mqtt.port" => (!embedded).then_some(
            "is the port of uspcheck's embedded MQTT broker: it needs `mqtt: { broker: \
             embedded }`",
        ),
        "mqtt.tls_port" => (!matches!(&mtp, MtpSetup::Mqtt(m) if embedded && m.tls.is_some()))
            .then_some(
                "is the port of the embedded MQTT broker's TLS listener: it needs `mqtt.tls` \
                 (with `broker: embedded`)",
            ),
        _ => None,
    }
}

/// Where `${name}` is written in the value that begins at `at` (the first place after `at`:
/// the value holds it); `at` if it is not found as written.
fn place_of(text: &str, at: Pos, name: &str) -> Pos {
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i as u64 + 1 == at.line {
            offset += line
                .char_indices()
                .nth(at.column.saturating_sub(1) as usize)
                .map_or(line.len(), |(i, _)| i);
            break;
        }
        offset += line.len();
    }
    let Some(found) = text
        .get(offset..)
        .and_then(|rest| rest.find(&format!("${{{name}")))
    else {
        return at;
    };
    let before = &text[..offset + found];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Pos {
        line: before.matches('\n').count() as u64 + 1,
        column: before[line_start..].chars().count() as u64 + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str =
        "eut: { endpoint_id: 'proto::a' }\ncontroller: { endpoint_id: 'proto::c' }\n";

    #[test]
    fn a_start_command_gets_the_environment_the_folder_and_the_chosen_ports() {
        let dir = std::env::temp_dir();
        let file = dir.join("eut.yaml").display().to_string();
        let text = format!(
            "{HEAD}websocket: {{ mode: listen, listen: '127.0.0.1:0' }}\nstart: \"agent --path \
             '${{env.PATH}}' --in ${{profile.dir}} --port ${{websocket.port}} --home ${{HOME}}\"\n"
        );
        let p = Profile::parse(&text, &file).unwrap();
        let start = p.start.as_ref().unwrap();
        assert_eq!(start.dir, folder_of(&file));
        let mut chosen = Vars::default();
        chosen.set("websocket.port", "4711");
        let cmd = start.command(&chosen).unwrap();
        let expected = format!(
            "agent --path '{}' --in {} --port 4711 --home ${{HOME}}",
            std::env::var("PATH").unwrap(),
            folder_of(&file).display()
        );
        assert_eq!(cmd, expected);
        // Without the port the run did not choose, no command.
        assert!(
            start
                .command(&Vars::default())
                .unwrap_err()
                .contains("websocket.port")
        );
    }

    #[test]
    fn an_unset_or_unknown_variable_is_a_profile_error_where_it_is_written() {
        let unset = format!(
            "{HEAD}websocket: {{ mode: listen }}\nstart: run --x ${{env.USPCHECK_SURELY_UNSET_7F3A}}\n"
        );
        let e = Profile::parse(&unset, "eut.yaml").unwrap_err();
        assert_eq!((e.line, e.column), (4, 16), "{e}");
        assert!(
            e.message.contains("USPCHECK_SURELY_UNSET_7F3A is not set"),
            "{e}"
        );
        assert!(e.snippet.is_some());
        let typo = format!("{HEAD}websocket: {{ mode: listen }}\nstart: run ${{websocket.prot}}\n");
        let e = Profile::parse(&typo, "eut.yaml").unwrap_err();
        assert!(e.message.contains("${websocket.prot} is not one of"), "{e}");
        assert_eq!((e.line, e.column), (4, 12), "{e}");
        let wrong_mtp =
            format!("{HEAD}uds: {{ mode: listen, path: s }}\nstart: run ${{mqtt.port}}\n");
        let e = Profile::parse(&wrong_mtp, "eut.yaml").unwrap_err();
        assert!(e.message.contains("broker: embedded"), "{e}");
        let no_tls = format!("{HEAD}mqtt: {{}}\nstart: run ${{mqtt.port}} ${{mqtt.tls_port}}\n");
        let e = Profile::parse(&no_tls, "eut.yaml").unwrap_err();
        assert!(e.message.contains("mqtt.tls"), "{e}");
    }

    #[test]
    fn relative_paths_mean_the_profiles_folder() {
        let text = format!("{HEAD}uds: {{ mode: connect, path: run/agent.sock }}\n");
        let p = Profile::parse(&text, "/opt/bench/eut.yaml").unwrap();
        let Some(UdsSetup::Connect { path }) = &p.uds else {
            panic!("a UDS profile")
        };
        assert_eq!(
            path,
            &folder_of("/opt/bench/eut.yaml")
                .join("run/agent.sock")
                .display()
                .to_string()
        );
        let text = format!("{HEAD}uds: {{ mode: listen, path: /tmp/x.sock }}\n");
        let p = Profile::parse(&text, "/opt/bench/eut.yaml").unwrap();
        assert_eq!(
            p.uds,
            Some(UdsSetup::Listen {
                path: "/tmp/x.sock".into()
            })
        );
        let text = format!("{HEAD}mqtt: {{ tls: {{ address: '127.0.0.1:0' }} }}\n");
        let p = Profile::parse(&text, "/opt/bench/eut.yaml").unwrap();
        let certs = &p.mqtt.unwrap().tls.unwrap().certs;
        assert_eq!(certs, &folder_of("/opt/bench/eut.yaml").join("certs"));
    }
}
