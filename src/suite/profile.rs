//! The EUT profile: what a user writes once per agent — its Endpoint ID, how to reach it,
//! the controller identity it trusts, the TP-469 features it supports, its alternate
//! elements, timeouts, and an optional command that starts it. See `docs/eut-profile.md`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::duration::Dur;
use super::load::LoadError;

/// How the harness and the agent meet over WebSocket.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "snake_case", tag = "mode")]
pub enum WebSocketSetup {
    /// The harness is the WebSocket server; the agent connects to `listen` (the usual
    /// TR-369 set-up, R-WS.5).
    Listen {
        #[serde(default = "default_listen")]
        listen: String,
    },
    /// The agent is the WebSocket server at `url`; the harness connects (R-WS.6).
    Connect { url: String },
}

fn default_secondary() -> Identity {
    Identity {
        endpoint_id: DEFAULT_SECONDARY_ID.into(),
    }
}

/// The secondary Controller's Endpoint ID unless a profile says otherwise.
pub const DEFAULT_SECONDARY_ID: &str = "self::uspcheck-2";

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}

/// How the harness and the agent meet over a Unix domain socket (TR-369 UDS binding).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "snake_case", tag = "mode")]
pub enum UdsSetup {
    /// The harness is the UDS server at `path`; the agent connects (R-UDS.2–R-UDS.4).
    Listen { path: String },
    /// The agent is the UDS server at `path`; the harness connects.
    Connect { path: String },
}

/// The MTP set-up of a profile: exactly one of `websocket` and `uds`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MtpSetup {
    WebSocket(WebSocketSetup),
    Uds(UdsSetup),
}

/// Identity of one side.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub endpoint_id: String,
}

/// Bounds on waiting.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timeouts {
    /// How long a response may take (TP-469 leaves it to the test equipment).
    #[serde(default = "default_response")]
    pub response: Dur,
    /// How long the agent may take to connect, or to accept a connection.
    #[serde(default = "default_connect")]
    pub connect: Dur,
}

fn default_response() -> Dur {
    Dur(Duration::from_secs(10))
}

fn default_connect() -> Dur {
    Dur(Duration::from_secs(60))
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            response: default_response(),
            connect: default_connect(),
        }
    }
}

/// An EUT profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// A name for reports (`OB-USP-Agent 10.0.0 on the bench`).
    #[serde(default)]
    pub name: Option<String>,
    pub eut: Identity,
    pub controller: Identity,
    /// A second Controller identity the harness can play (TP-469 1.78); the agent must
    /// accept it once a case has added it to `Device.LocalAgent.Controller.{i}.`.
    #[serde(default = "default_secondary")]
    pub secondary_controller: Identity,
    #[serde(default)]
    pub websocket: Option<WebSocketSetup>,
    #[serde(default)]
    pub uds: Option<UdsSetup>,
    /// TP-469 feature IDs the EUT supports (see the plan's feature table).
    #[serde(default)]
    pub features: Vec<u32>,
    /// TP-469 "alternate elements": EUT-specific values cases use as `${alt.NAME}`.
    #[serde(default)]
    pub alternates: BTreeMap<String, String>,
    #[serde(default)]
    pub timeouts: Timeouts,
    /// A shell command that starts the agent; run once before the first case and stopped
    /// after the last.
    #[serde(default)]
    pub start: Option<String>,
}

impl Profile {
    /// The MTP the profile selects (validated at load: exactly one is given).
    pub fn mtp(&self) -> MtpSetup {
        match (&self.websocket, &self.uds) {
            (_, Some(u)) => MtpSetup::Uds(u.clone()),
            (Some(w), None) => MtpSetup::WebSocket(w.clone()),
            (None, None) => unreachable!("Profile::parse requires an MTP"),
        }
    }

    /// Reads a profile file; errors name file, line and column.
    pub fn load(path: &std::path::Path) -> Result<Profile, LoadError> {
        let (text, file) = super::load::read_text(path)?;
        Self::parse(&text, &file)
    }

    /// Parses profile text.
    pub fn parse(text: &str, file: &str) -> Result<Profile, LoadError> {
        let p: Profile =
            serde_saphyr::from_str(text).map_err(|e| LoadError::from_yaml(&e, file))?;
        if p.websocket.is_some() == p.uds.is_some() {
            return Err(LoadError {
                file: file.into(),
                line: 1,
                column: 1,
                message: "a profile selects exactly one MTP: `websocket:` or `uds:`".into(),
            });
        }
        for (what, id) in [
            ("eut.endpoint_id", &p.eut.endpoint_id),
            ("controller.endpoint_id", &p.controller.endpoint_id),
            (
                "secondary_controller.endpoint_id",
                &p.secondary_controller.endpoint_id,
            ),
        ] {
            crate::usp::endpoint::check(id).map_err(|why| LoadError {
                file: file.into(),
                line: 1,
                column: 1,
                message: format!("{what}: {why}"),
            })?;
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_parses_with_defaults() {
        let p = Profile::parse(
            "eut: { endpoint_id: 'proto::agent' }\ncontroller: { endpoint_id: 'proto::ctrl' }\nwebsocket: { mode: connect, url: 'ws://127.0.0.1:9/usp' }\nfeatures: [1, 31]\n",
            "p.yaml",
        )
        .unwrap();
        assert_eq!(p.timeouts.response.0, Duration::from_secs(10));
        assert_eq!(
            p.mtp(),
            MtpSetup::WebSocket(WebSocketSetup::Connect {
                url: "ws://127.0.0.1:9/usp".into()
            })
        );
        let both = "eut: { endpoint_id: 'proto::a' }\ncontroller: { endpoint_id: 'proto::c' }\nwebsocket: { mode: listen }\nuds: { mode: listen, path: /tmp/x }\n";
        assert!(
            Profile::parse(both, "p")
                .unwrap_err()
                .message
                .contains("exactly one")
        );
        let e = Profile::parse("eut: {}\n", "p.yaml").unwrap_err();
        assert_eq!(e.file, "p.yaml");
    }
}
