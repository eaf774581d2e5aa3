//! The EUT profile: what a user writes once per agent — its Endpoint ID, how to reach it,
//! the controller identity it trusts, the TP-469 features it supports, its alternate
//! elements, timeouts, and an optional command that starts it. See `docs/eut-profile.md`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::duration::Dur;
use super::load::LoadError;
use super::node::Pos;
pub use super::profile_start::Start;
use crate::mtp::mqtt::Version;

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

fn default_secondary() -> SecondaryController {
    SecondaryController {
        endpoint_id: DEFAULT_SECONDARY_ID.into(),
        mtp: BTreeMap::new(),
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

/// Which broker the harness and the agent meet at over MQTT.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BrokerMode {
    /// uspcheck's own instrumented broker, listening on `address`: every packet is logged
    /// and the section 11 cases can script it.
    #[default]
    Embedded,
    /// The user's broker at `address` (mosquitto, EMQX…): uspcheck's Controller is a plain
    /// client of it, and cases that need to control the broker are not applicable.
    External,
}

/// User Name and Password of an MQTT CONNECT.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl Credentials {
    pub fn pair(&self) -> (String, String) {
        (self.username.clone(), self.password.clone())
    }
}

/// How the harness and the agent meet over MQTT (TR-369 "MQTT Binding").
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MqttSetup {
    /// `embedded` (default) or `external`.
    #[serde(default)]
    pub broker: BrokerMode,
    /// Embedded: where uspcheck's broker listens (the agent is configured to connect
    /// there). External: the broker to connect to. `host:port`.
    #[serde(default = "default_mqtt_address")]
    pub address: String,
    /// The MQTT version uspcheck's Controller speaks, and the one section 11 is judged for:
    /// `"5.0"` (R-MQTT.1) or `"3.1.1"` (R-MQTT.2).
    #[serde(default = "default_mqtt_version", deserialize_with = "mqtt_version")]
    pub version: Version,
    /// The agent's Topic, where requests go. Absent: learned from the "reply to" of the
    /// agent's first PUBLISH (R-MQTT.25, R-MQTT.26).
    #[serde(default)]
    pub agent_topic: Option<String>,
    /// uspcheck's Controller's "reply to" Topic (it subscribes to `topic/#`); the agent's
    /// Device.LocalAgent.Controller.{i}.MTP.{i}.MQTT.Topic must name it.
    #[serde(default = "default_controller_topic")]
    pub controller_topic: String,
    /// The ClientId of uspcheck's Controller.
    #[serde(default = "default_mqtt_client_id")]
    pub client_id: String,
    /// The agent's ClientId, to tell its connections from others on the embedded broker.
    /// Absent: every client other than uspcheck's Controller is the agent.
    #[serde(default)]
    pub agent_client_id: Option<String>,
    /// External broker: the User Name and Password uspcheck's Controller connects with.
    #[serde(default)]
    pub credentials: Option<Credentials>,
    /// Embedded broker: the User Name and Password the agent must present (others get
    /// CONNACK 0x86); absent: any.
    #[serde(default)]
    pub agent_credentials: Option<Credentials>,
    /// Embedded broker: also listen with TLS (TP-469 11.3 points the agent's BrokerPort at
    /// it). Boxed: most profiles have none.
    #[serde(default)]
    pub tls: Option<Box<MqttTls>>,
}

/// The embedded broker's TLS listener.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MqttTls {
    /// Where it listens, `host:port`.
    pub address: String,
    /// The names or addresses the agent reaches it by (its BrokerAddress), put in the
    /// broker's certificate beside 127.0.0.1/localhost and `address`'s host.
    #[serde(default)]
    pub names: Vec<String>,
    /// Where uspcheck keeps its CA (`ca.pem`, to install in the agent as trusted, and
    /// `ca.key`) and the broker's certificate; made on first use, reused by later runs.
    #[serde(default = "default_certs")]
    pub certs: std::path::PathBuf,
}

fn default_certs() -> std::path::PathBuf {
    "certs".into()
}

fn default_mqtt_address() -> String {
    "127.0.0.1:1883".into()
}

fn default_mqtt_version() -> Version {
    Version::V5
}

fn default_controller_topic() -> String {
    "usp/controller/uspcheck".into()
}

fn default_mqtt_client_id() -> String {
    "uspcheck-controller".into()
}

/// Reads `"5.0"`, `5.0`, `5`, `"3.1.1"` as an MQTT version.
fn mqtt_version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Version, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(f64),
    }
    let text = match Raw::deserialize(d)? {
        Raw::Text(t) => t,
        Raw::Number(n) => n.to_string(),
    };
    match text.trim() {
        "5.0" | "5" => Ok(Version::V5),
        "3.1.1" => Ok(Version::V311),
        other => Err(serde::de::Error::custom(format!(
            "MQTT version {other:?}: write \"5.0\" or \"3.1.1\""
        ))),
    }
}

/// The MTP set-up of a profile: exactly one of `websocket`, `uds` and `mqtt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MtpSetup {
    WebSocket(WebSocketSetup),
    Uds(UdsSetup),
    Mqtt(MqttSetup),
}

/// Identity of one side.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "RawIdentity")]
pub struct Identity {
    pub endpoint_id: String,
    /// Where `endpoint_id` is written, for messages that ask to change it.
    pub at: Pos,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdentity {
    endpoint_id: Spanned<String>,
}

impl From<RawIdentity> for Identity {
    fn from(r: RawIdentity) -> Identity {
        Identity {
            at: Pos::of(&r.endpoint_id),
            endpoint_id: r.endpoint_id.value,
        }
    }
}

/// The second Controller the harness plays (TP-469 1.78). It gets its own session with the
/// agent: R-WS.4 ties a WebSocket connection (and a UDS connection, by its handshake) to one
/// pair of Endpoints, so a real agent rightly ignores another Controller's Records on it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecondaryController {
    pub endpoint_id: String,
    /// When the agent connects to the harness (`mode: listen`): the parameters of the
    /// `Device.LocalAgent.Controller.{i}.MTP.` instance that tells the agent how to reach
    /// this Controller (`Protocol`, `Enable`, `WebSocket.Port`, `WebSocket.Path`…). The
    /// harness adds it when a case first speaks as this Controller, then accepts the agent's
    /// connection; a WebSocket connection on `WebSocket.Path` is told this Controller's
    /// Endpoint ID in the handshake.
    #[serde(default)]
    pub mtp: BTreeMap<String, String>,
}

impl SecondaryController {
    /// The WebSocket path the agent is told to connect to for this Controller, if any.
    pub fn websocket_path(&self) -> Option<&str> {
        self.mtp.get("WebSocket.Path").map(String::as_str)
    }
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

/// Bounds on what uspcheck reads from the agent (docs/limits.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// The largest USP Record uspcheck reads, on every MTP (`2 MiB` unless set; at most
    /// `64 MiB`): a bigger one fails its case on this documented limit. While a record is
    /// judged it costs about ten times its size in memory.
    #[serde(default = "default_max_record", deserialize_with = "byte_size")]
    pub max_record_size: usize,
}

fn default_max_record() -> usize {
    crate::mtp::DEFAULT_MAX_RECORD
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_record_size: default_max_record(),
        }
    }
}

/// A size as profiles write it: bytes (`4194304`), or with a unit (`512 KiB`, `4 MiB`), between
/// 64 KiB and [`crate::mtp::MAX_RECORD_CEILING`].
fn byte_size<'de, D: serde::Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Num(u64),
        Text(String),
    }
    let text = match Raw::deserialize(d)? {
        Raw::Num(n) => n.to_string(),
        Raw::Text(t) => t,
    };
    parse_size(&text).map_err(serde::de::Error::custom)
}

fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len()));
    let scale = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1024,
        "MiB" => 1024 * 1024,
        other => return Err(format!("{text:?}: unknown unit {other:?} (use KiB or MiB)")),
    };
    let n: usize = num
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a size (write e.g. 4 MiB)"))?;
    let bytes = n.saturating_mul(scale);
    let ceiling = crate::mtp::MAX_RECORD_CEILING;
    if !(64 * 1024..=ceiling).contains(&bytes) {
        return Err(format!(
            "{text:?} is out of range (64 KiB to {} MiB)",
            ceiling / (1024 * 1024)
        ));
    }
    Ok(bytes)
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
    pub secondary_controller: SecondaryController,
    #[serde(default)]
    pub websocket: Option<WebSocketSetup>,
    #[serde(default)]
    pub uds: Option<UdsSetup>,
    #[serde(default)]
    pub mqtt: Option<MqttSetup>,
    /// TP-469 feature IDs the EUT supports (see the plan's feature table): a list of IDs, or
    /// a map of IDs to `true`/`false` (what `uspcheck init` writes, one line per feature).
    #[serde(default, deserialize_with = "feature_ids")]
    pub features: Vec<u32>,
    /// TP-469 "alternate elements": EUT-specific values cases use as `${alt.NAME}`.
    #[serde(default)]
    pub alternates: BTreeMap<String, String>,
    #[serde(default)]
    pub timeouts: Timeouts,
    #[serde(default)]
    pub limits: Limits,
    /// A shell command that starts the agent; run once before the first case and stopped
    /// after the last. As written: [`Profile::start`] is what it means.
    #[serde(default, rename = "start")]
    start_raw: Option<Spanned<String>>,
    /// The command that starts the agent, in the profile's folder, with its variables.
    #[serde(skip)]
    pub start: Option<Start>,
    /// The profile's folder (absolute): its relative paths are relative to it.
    #[serde(skip)]
    pub dir: std::path::PathBuf,
    /// The file it was read from, as named to uspcheck (for messages).
    #[serde(skip)]
    pub file: String,
}

/// `features:` as `[1, 2, 10]`, as `{ 1: true, 2: false, … }` (the IDs set to true), or
/// empty (none).
fn feature_ids<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
    struct Ids;
    impl<'de> serde::de::Visitor<'de> for Ids {
        type Value = Vec<u32>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of TP-469 feature IDs, or a map of feature IDs to true or false")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u32>, A::Error> {
            let mut ids = Vec::new();
            while let Some(id) = seq.next_element()? {
                ids.push(id);
            }
            Ok(ids)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Vec<u32>, A::Error> {
            let mut ids = Vec::new();
            while let Some((id, on)) = map.next_entry::<u32, bool>()? {
                if on {
                    ids.push(id);
                }
            }
            Ok(ids)
        }
        fn visit_unit<E>(self) -> Result<Vec<u32>, E> {
            Ok(Vec::new())
        }
        fn visit_none<E>(self) -> Result<Vec<u32>, E> {
            Ok(Vec::new())
        }
    }
    d.deserialize_any(Ids)
}

impl Profile {
    /// The MTP the profile selects (validated at load: exactly one is given).
    pub fn mtp(&self) -> MtpSetup {
        match (&self.websocket, &self.uds, &self.mqtt) {
            (_, _, Some(m)) => MtpSetup::Mqtt(m.clone()),
            (_, Some(u), None) => MtpSetup::Uds(u.clone()),
            (Some(w), None, None) => MtpSetup::WebSocket(w.clone()),
            (None, None, None) => unreachable!("Profile::parse requires an MTP"),
        }
    }

    /// Reads a profile file; errors name file, line and column.
    pub fn load(path: &std::path::Path) -> Result<Profile, LoadError> {
        let (text, file) = super::load::read_text(path)?;
        Self::parse(&text, &file)
    }

    /// Parses profile text read from `file`, whose folder the profile's relative paths and
    /// `${profile.dir}` mean.
    pub fn parse(text: &str, file: &str) -> Result<Profile, LoadError> {
        let mut p: Profile =
            serde_saphyr::from_str(text).map_err(|e| LoadError::from_yaml(&e, file))?;
        let given = [p.websocket.is_some(), p.uds.is_some(), p.mqtt.is_some()];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(LoadError::new(
                file,
                1,
                1,
                "a profile selects exactly one MTP: `websocket:`, `uds:` or `mqtt:`",
            ));
        }
        if let Some(m) = &p.mqtt {
            let problem = if m.controller_topic.is_empty()
                || !crate::mtp::mqtt::valid_topic(&m.controller_topic)
            {
                Some(format!(
                    "mqtt.controller_topic {:?} is not a Topic Name (no wildcards, not empty)",
                    m.controller_topic
                ))
            } else if let Some(t) = m
                .agent_topic
                .as_ref()
                .filter(|t| !crate::mtp::mqtt::valid_topic(t))
            {
                Some(format!(
                    "mqtt.agent_topic {t:?} is not a Topic Name (no wildcards, not empty)"
                ))
            } else if m
                .address
                .rsplit_once(':')
                .is_none_or(|(_, port)| port.parse::<u16>().is_err())
            {
                Some(format!("mqtt.address {:?} is not host:port", m.address))
            } else {
                m.tls
                    .as_ref()
                    .filter(|t| {
                        t.address
                            .rsplit_once(':')
                            .is_none_or(|(_, port)| port.parse::<u16>().is_err())
                    })
                    .map(|t| format!("mqtt.tls.address {:?} is not host:port", t.address))
            };
            if let Some(message) = problem {
                return Err(LoadError::new(file, 1, 1, message));
            }
        }
        let unknown = Pos { line: 1, column: 1 };
        for (what, id, at) in [
            ("eut.endpoint_id", &p.eut.endpoint_id, p.eut.at),
            (
                "controller.endpoint_id",
                &p.controller.endpoint_id,
                p.controller.at,
            ),
            (
                "secondary_controller.endpoint_id",
                &p.secondary_controller.endpoint_id,
                unknown,
            ),
        ] {
            crate::usp::endpoint::check(id).map_err(|why| {
                LoadError::new(file, at.line, at.column, format!("{what}: {why}"))
            })?;
        }
        p.file = file.to_string();
        p.dir = super::profile_start::folder_of(file);
        super::profile_start::resolve_paths(&mut p);
        if let Some(raw) = &p.start_raw {
            p.start = Some(super::profile_start::start(&p, raw, text, file)?);
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_read_with_units_and_stay_in_range() {
        assert_eq!(parse_size("4 MiB"), Ok(4 * 1024 * 1024));
        assert_eq!(parse_size("512KiB"), Ok(512 * 1024));
        assert_eq!(parse_size("2097152"), Ok(2 * 1024 * 1024));
        assert!(parse_size("4 MB").unwrap_err().contains("unknown unit"));
        assert!(parse_size("1 KiB").unwrap_err().contains("out of range"));
        assert!(parse_size("65 MiB").unwrap_err().contains("out of range"));
        assert!(parse_size("MiB").unwrap_err().contains("not a size"));
    }

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
        let mqtt = "eut: { endpoint_id: 'proto::a' }\ncontroller: { endpoint_id: 'proto::c' }\nmqtt: { broker: external, address: '127.0.0.1:1883', version: 3.1.1, agent_topic: usp/agent, credentials: { username: u, password: p } }\n";
        let p = Profile::parse(mqtt, "p").unwrap();
        let MtpSetup::Mqtt(m) = p.mtp() else {
            panic!("an mqtt profile")
        };
        assert_eq!(m.broker, BrokerMode::External);
        assert_eq!(m.version, Version::V311);
        assert_eq!(m.controller_topic, "usp/controller/uspcheck");
        assert_eq!(m.credentials.unwrap().pair(), ("u".into(), "p".into()));
        let v5 = "eut: { endpoint_id: 'proto::a' }\ncontroller: { endpoint_id: 'proto::c' }\nmqtt: { version: 5.0 }\n";
        let MtpSetup::Mqtt(m) = Profile::parse(v5, "p").unwrap().mtp() else {
            panic!("an mqtt profile")
        };
        assert_eq!((m.broker, m.version), (BrokerMode::Embedded, Version::V5));
        let both = "eut: { endpoint_id: 'proto::a' }\ncontroller: { endpoint_id: 'proto::c' }\nmqtt: {}\nuds: { mode: listen, path: /tmp/x }\n";
        assert!(Profile::parse(both, "p").is_err());
        let wild = "eut: { endpoint_id: 'proto::a' }\ncontroller: { endpoint_id: 'proto::c' }\nmqtt: { agent_topic: 'usp/#' }\n";
        assert!(
            Profile::parse(wild, "p")
                .unwrap_err()
                .message
                .contains("agent_topic")
        );
        let bad = "eut: { endpoint_id: 'proto::a' }\ncontroller: { endpoint_id: 'proto::c' }\nmqtt: { version: '4.0' }\n";
        assert!(Profile::parse(bad, "p").is_err());
    }
}
