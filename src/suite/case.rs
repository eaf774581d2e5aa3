//! The schema of one case file, and the validated form the runner executes. Raw structs
//! mirror the YAML (unknown keys are errors); [`Case`] holds only well-formed steps, so the
//! runner never meets a step that is both a `send` and an `await`.

use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;

use super::compile::PacketExpect;
use super::duration::Dur;
use super::matcher::Matcher;
use super::node::Node;
use super::vars::Template;

/// Mandatory or conditional mandatory, as the plan's Functionality Tag says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tag {
    Mandatory,
    Conditional,
}

impl Tag {
    pub fn as_str(self) -> &'static str {
        match self {
            Tag::Mandatory => "mandatory",
            Tag::Conditional => "conditional",
        }
    }
}

/// The MTP a case needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MtpNeed {
    #[default]
    Any,
    Websocket,
    Mqtt,
    Stomp,
    Uds,
}

impl std::fmt::Display for MtpNeed {
    /// The MTP's name as TR-369 writes it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MtpNeed::Any => "any",
            MtpNeed::Websocket => "WebSocket",
            MtpNeed::Mqtt => "MQTT",
            MtpNeed::Stomp => "STOMP",
            MtpNeed::Uds => "UDS",
        })
    }
}

/// One case file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCase {
    pub id: String,
    pub title: String,
    pub tp469: String,
    pub tag: Tag,
    #[serde(default)]
    pub features: Vec<u32>,
    #[serde(default)]
    pub mtp: MtpNeed,
    #[serde(default)]
    pub requirements: Vec<String>,
    #[serde(default)]
    pub purpose: String,
    #[serde(default)]
    pub metrics: Vec<RawMetric>,
    /// Reference-agent faults, each with the metric(s) it breaks.
    #[serde(default)]
    pub faults: Vec<Spanned<FaultRef>>,
    /// Where the case deliberately departs from the plan's text, and why.
    #[serde(default)]
    pub deviations: Vec<String>,
    /// Reference-agent variations that still conform (a retry just inside its window): the
    /// case must pass with each, so every timing window is proven at both edges.
    #[serde(default)]
    pub passes_with: Vec<String>,
    #[serde(default)]
    pub setup: Vec<Spanned<RawStep>>,
    pub steps: Vec<Spanned<RawStep>>,
    #[serde(default)]
    pub cleanup: Vec<Spanned<RawStep>>,
}

/// A Test Metric as written: the plan's text, or the text with the TR-369 requirements it
/// checks.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawMetric {
    Text(String),
    Full {
        text: String,
        #[serde(default)]
        requirements: Vec<String>,
        /// Why no agent can break this metric (so no fault proves it).
        unbreakable: Option<String>,
        /// Why the reference agent has no fault for this breakable metric yet.
        waiting: Option<String>,
    },
}

/// One of the plan's Test Metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metric {
    pub text: String,
    /// The TR-369 requirement ids it checks.
    pub requirements: Vec<String>,
    /// Why no agent can break it, when that is so.
    pub unbreakable: Option<String>,
    /// Why the reference agent cannot break it yet, when that is so.
    pub waiting: Option<String>,
}

impl From<RawMetric> for Metric {
    fn from(r: RawMetric) -> Metric {
        match r {
            RawMetric::Text(text) => Metric {
                text,
                requirements: vec![],
                unbreakable: None,
                waiting: None,
            },
            RawMetric::Full {
                text,
                requirements,
                unbreakable,
                waiting,
            } => Metric {
                text,
                requirements,
                unbreakable,
                waiting,
            },
        }
    }
}

/// A reference-agent fault that breaks the case, and the metric(s) it breaks (or, with
/// `universal: true`, a universal test metric of the plan's introduction): the project's
/// own tests check that the case fails at exactly those under it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRef {
    pub name: String,
    pub metric: Option<OneOrMany>,
    #[serde(default)]
    pub universal: bool,
    /// The MTP the proof runs over, when not the case's default (WebSocket, or MQTT 5.0
    /// for MQTT cases): a metric of MQTT 3.1.1 alone is proven over `mqtt311`.
    pub over: Option<ProofMtp>,
}

/// The MTP of a fault's proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProofMtp {
    Websocket,
    Uds,
    Mqtt,
    Mqtt311,
}

/// A fault that proves a case can fail, and where it must fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultProof {
    pub name: String,
    /// The case's metrics it breaks.
    pub metrics: Vec<u32>,
    /// It breaks a universal test metric (TP-469's introduction) before any of the case's.
    pub universal: bool,
    /// Where it is proven, when not the case's default MTP.
    pub over: Option<ProofMtp>,
}

/// A metric reference: one number or a list.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(u32),
    Many(Vec<u32>),
}

impl OneOrMany {
    pub fn to_vec(&self) -> Vec<u32> {
        match self {
            OneOrMany::One(m) => vec![*m],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// The metrics a step proves: one number, a list, or the plan's common pair of a metric
/// that the EUT *sends* a message of some kind and metrics on its *content*
/// (`{ sends: 1, content: 2 }`): an answer of the right kind whose content is wrong fails
/// the content metrics only.
#[derive(Debug, Clone, Deserialize)]
#[serde(
    untagged,
    expecting = "a metric number, a list of them, or { sends: N, content: M } (each a number or a list)"
)]
pub enum StepMetrics {
    Plain(OneOrMany),
    Split(SplitMetrics),
}

/// `{ sends: …, content: … }`: see [`StepMetrics`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitMetrics {
    pub sends: OneOrMany,
    pub content: OneOrMany,
}

/// A timing window measured from a named earlier step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub from: String,
    pub min: Span,
    pub max: Span,
}

/// A window's bound: a duration (`5s`), or seconds computed from variables the EUT's own
/// configuration gave (`"${m} * ${k} / 1000"`, TP-469 11.6).
#[derive(Debug, Clone, PartialEq)]
pub enum Span {
    Fixed(Dur),
    Seconds(String),
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Span, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Ok(Span::Fixed(Dur(std::time::Duration::from_secs_f64(
                n.max(0.0),
            )))),
            Raw::Text(t) if t.contains("${") => Ok(Span::Seconds(t)),
            Raw::Text(t) => super::duration::parse(&t)
                .map(|d| Span::Fixed(Dur(d)))
                .map_err(serde::de::Error::custom),
        }
    }
}

impl Span {
    /// The bound, with the variables filled in.
    pub fn resolve(&self, vars: &super::vars::Vars) -> Result<std::time::Duration, String> {
        match self {
            Span::Fixed(d) => Ok(d.0),
            Span::Seconds(text) => {
                let filled = vars.interpolate(text).map_err(|u| u.to_string())?;
                let secs = super::expr::eval(&filled)?;
                if !(0.0..=7.0 * 86400.0).contains(&secs) {
                    return Err(format!("{text} = {filled} = {secs} s is out of range"));
                }
                Ok(std::time::Duration::from_secs_f64(secs))
            }
        }
    }
}

/// One step as written; exactly one of `send`, `await`, `expect_none` must be present.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub name: Option<String>,
    pub metric: Option<StepMetrics>,
    pub send: Option<Node>,
    pub expect: Option<Node>,
    pub timeout: Option<Dur>,
    #[serde(rename = "await")]
    pub await_: Option<Node>,
    pub within: Option<Span>,
    pub window: Option<Window>,
    pub send_resp: Option<bool>,
    pub reconnect: Option<bool>,
    pub no_answer: Option<bool>,
    #[serde(rename = "as")]
    pub as_: Option<Identity>,
    pub expect_none: Option<Node>,
    pub require_supported: Option<String>,
    #[serde(rename = "for")]
    pub for_: Option<Dur>,
    /// MQTT: script the embedded broker.
    pub broker: Option<BrokerStep>,
    /// MQTT: how the harness's Controller publishes from now on.
    pub controller: Option<ControllerStep>,
    /// MQTT: a packet (or connection fact) of the agent's, from the broker's log.
    pub await_packet: Option<Node>,
    /// MQTT: no such packet of the agent's for `for`.
    pub expect_no_packet: Option<Node>,
    /// `await_packet`, `expect_no_packet`: look from the time this earlier step happened.
    pub after: Option<String>,
    /// `await_packet`: leave the matched packet to later steps too (two metrics that one
    /// packet or two may satisfy).
    pub keep: Option<bool>,
    /// Record the instances of a multi-instance object now, under the step's name.
    pub snapshot: Option<RawSnapshot>,
    /// The instances of a snapshot's object are still only those of the snapshot.
    pub expect_no_new_instances: Option<String>,
    /// `expect_no_new_instances`: instances the case expects the EUT to have added.
    pub except: Option<Vec<String>>,
    /// Delete every instance of a snapshot's object that the snapshot does not hold.
    pub delete_new_instances: Option<String>,
    /// Judge the message an earlier named step received again, with this step's `expect`,
    /// for another metric.
    pub check: Option<String>,
    /// `expect_none`, `expect_no_packet`: the EUT is meant to be disconnected during the
    /// span, so silence while it is counts (otherwise a closed connection is inconclusive).
    pub while_closed: Option<bool>,
    /// An alternate of the profile (`alt.…`) the step needs: without it the step is skipped,
    /// and its metrics are judged by their other steps.
    pub if_set: Option<String>,
}

/// A `snapshot:` step as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSnapshot {
    /// The multi-instance object (`Device.LocalAgent.Subscription.`).
    pub of: String,
    /// Only the instances whose parameters match (a partial match of `result_params`).
    #[serde(rename = "where")]
    pub where_: Option<Node>,
}

/// How the embedded broker turns the agent away while it is down (TP-469 11.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Down {
    /// Read each CONNECT and refuse it with CONNACK 0x88 Server unavailable (3.1.1: 3).
    Connack,
    /// Accept each TCP connection and close it at once.
    Close,
    /// Stop listening.
    Unreachable,
}

/// A `broker:` step: changes to the embedded broker's script, applied in the order listed
/// here, and actions on the agent's connection. Needs uspcheck's own broker; with an
/// external broker a case with such a step is not applicable.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerStep {
    /// Back to the script the case began with (the profile's credentials only).
    #[serde(default)]
    pub reset: bool,
    /// CONNACK `subscribe-topic` User Properties (5.0; R-MQTT.15, R-MQTT.44).
    pub subscribe_topics: Option<Vec<String>>,
    /// CONNACK Response Information, for a CONNECT that asks for it (5.0; R-MQTT.12).
    pub response_information: Option<String>,
    /// CONNACK Assigned Client Identifier for an empty ClientId (5.0; R-MQTT.9).
    pub assigned_client_id: Option<String>,
    /// CONNACK Server Keep Alive, seconds (5.0; TP-469 11.7).
    pub server_keep_alive: Option<u16>,
    /// SUBACK fails every Topic Filter with this 5.0 reason code (3.1.1: 0x80; TP-469 11.11).
    pub fail_subscriptions: Option<u8>,
    /// Refuse new connections this way (TP-469 11.6).
    pub down: Option<Down>,
    /// Accept connections again.
    #[serde(default)]
    pub up: bool,
    /// Send the agent's connections DISCONNECT with this 5.0 reason code now (3.1.1: the
    /// connection is closed; TP-469 11.16).
    pub disconnect: Option<u8>,
}

/// A `controller:` step: how the harness's Controller publishes from now on (embedded
/// broker only).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControllerStep {
    /// Back to the profile's Topic and Content Type.
    #[serde(default)]
    pub reset: bool,
    /// The 5.0 Content Type of later PUBLISHes (TP-469 11.15).
    pub content_type: Option<String>,
    /// The Topic later requests are published to (TP-469 11.9, 11.13).
    pub topic: Option<String>,
    /// The "reply to" Topic later requests carry, below the Controller's own Topic
    /// (`${mqtt.controller_topic}/…`; TP-469 11.14).
    pub reply_to: Option<String>,
}

/// Which Controller identity the harness sends as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Identity {
    /// The profile's `controller.endpoint_id`.
    #[default]
    Primary,
    /// The profile's `secondary_controller.endpoint_id` (TP-469 1.78).
    Secondary,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum Action {
    /// Send a request (the body of `usp.Request`, as a template with `${vars}`) and judge
    /// the answer against `expect` (a partial match of the response body), if given.
    Send {
        request: Value,
        expect: Option<Matcher>,
        timeout: Option<Dur>,
        /// The request must get no answer (Operate with send_resp false): send and go on.
        no_answer: bool,
        from: Identity,
        /// The EUT may be away (rebooting) when the request goes out: wait for it to
        /// reconnect first, and go on waiting for the answer over a new connection.
        reconnect: bool,
    },
    /// Wait for a message from the EUT matching `expect` (e.g. `{notify: {...}}`).
    Await {
        expect: Matcher,
        within: Option<Span>,
        window: Option<Window>,
        send_resp: bool,
        /// The EUT may drop the connection and reconnect meanwhile (a reboot).
        reconnect: bool,
    },
    /// Nothing matching `expect` may arrive for `span`.
    ExpectNone { expect: Matcher, span: Dur },
    /// The case needs this path in the EUT's supported data model; if GetSupportedDM says
    /// it is not there, the case is not applicable (TP-469's "supports the X profile").
    RequireSupported { path: String },
    /// Script the embedded MQTT broker, or act on the agent's connection.
    Broker(BrokerStep),
    /// Change how the harness's MQTT Controller publishes.
    Controller(ControllerStep),
    /// Wait for the agent's next packet of a kind in the broker's log and judge it
    /// (`expect` is a partial match of the packet's decoded fields; it holds `kind`).
    AwaitPacket {
        expect: PacketExpect,
        within: Option<Span>,
        window: Option<Window>,
        /// Only packets from the time this earlier step happened (a window's `from`
        /// otherwise).
        after: Option<String>,
        /// Leave the packet to later steps (it is consumed otherwise).
        keep: bool,
    },
    /// Record the instances of `of` (those whose parameters match `filter`, if given) under
    /// the step's name, for `in_snapshot`, `expect_no_new_instances` and
    /// `delete_new_instances`.
    Snapshot { of: String, filter: Option<Matcher> },
    /// The instances of the snapshot's object are a subset of the snapshot: the EUT left no
    /// instance behind, whatever its values (TP-469's "did not create a new object").
    ExpectNoNewInstances {
        snapshot: String,
        of: String,
        /// The instances the case expects the EUT to have added (`${captures}`).
        except: Vec<Template>,
    },
    /// Delete every instance of the snapshot's object that it does not hold: clean-up that
    /// works even when the capture naming what the case created never happened.
    DeleteNewInstances { snapshot: String, of: String },
    /// Judge again, against `expect`, the message the earlier step named `step` received
    /// (its answer, or the message it awaited): one message, a metric per step.
    Check { step: String, expect: Matcher },
    /// No packet of the agent's matching `expect` for `span`, counted from the step named
    /// in `after` (or from the step's start).
    ExpectNoPacket {
        expect: PacketExpect,
        span: Dur,
        after: Option<String>,
    },
}

impl Action {
    /// Whether the step needs uspcheck's own broker (not possible through an external one).
    pub fn needs_embedded_broker(&self) -> bool {
        matches!(
            self,
            Action::Broker(_)
                | Action::Controller(_)
                | Action::AwaitPacket { .. }
                | Action::ExpectNoPacket { .. }
        )
    }
}

/// A validated step.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: Option<String>,
    /// Every metric the step proves.
    pub metrics: Vec<u32>,
    /// Those of `metrics` that only ask for a message of the expected kind: they hold when
    /// such a message came and only its content broke the expectation.
    pub sends_metrics: Vec<u32>,
    pub action: Action,
    /// `line:column` of the step in its file, for messages.
    pub at: String,
    /// `expect_none`, `expect_no_packet`: the case expects the EUT to be disconnected during
    /// the span (see [`RawStep::while_closed`]).
    pub while_closed: bool,
    /// The profile alternate without which the step is skipped (see [`RawStep::if_set`]).
    pub if_set: Option<String>,
}

impl Step {
    /// The compiled expectations the step judges by.
    pub fn matchers(&self) -> Vec<&Matcher> {
        match &self.action {
            Action::Send { expect, .. } => expect.iter().collect(),
            Action::Await { expect, .. }
            | Action::ExpectNone { expect, .. }
            | Action::Check { expect, .. } => vec![expect],
            Action::AwaitPacket { expect, .. } | Action::ExpectNoPacket { expect, .. } => {
                expect.all().collect()
            }
            Action::Snapshot { filter, .. } => filter.iter().collect(),
            _ => vec![],
        }
    }

    /// The variables the step captures (for the steps after it): a snapshot is one, under
    /// the step's name.
    pub fn captures(&self) -> Vec<String> {
        let mut out: Vec<String> = self.matchers().iter().flat_map(|m| m.captures()).collect();
        if let (Action::Snapshot { .. }, Some(n)) = (&self.action, &self.name) {
            out.push(n.clone());
        }
        out
    }

    /// A short label for reports: `steps[2] (send add)`.
    pub fn label(&self, phase: &str, index: usize) -> String {
        let what = match &self.action {
            Action::Send { request, .. } => format!(
                "send {}",
                request
                    .as_object()
                    .and_then(|o| o.keys().next().cloned())
                    .unwrap_or_default()
            ),
            Action::Await { .. } => "await".into(),
            Action::Check { step, .. } => format!("check '{step}'"),
            Action::ExpectNone { .. } => "expect_none".into(),
            Action::RequireSupported { .. } => "require_supported".into(),
            Action::Broker(_) => "broker".into(),
            Action::Controller(_) => "controller".into(),
            Action::AwaitPacket { expect, .. } => format!("await_packet {}", expect.kind),
            Action::ExpectNoPacket { expect, .. } => {
                format!("expect_no_packet {}", expect.kind)
            }
            Action::Snapshot { of, .. } => format!("snapshot {of}"),
            Action::ExpectNoNewInstances { of, .. } => format!("expect_no_new_instances {of}"),
            Action::DeleteNewInstances { of, .. } => format!("delete_new_instances {of}"),
        };
        match &self.name {
            Some(n) => format!("{phase}[{index}] '{n}' ({what}, line {})", self.at),
            None => format!("{phase}[{index}] ({what}, line {})", self.at),
        }
    }
}

/// A validated case.
#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub title: String,
    pub tp469: String,
    pub tag: Tag,
    pub features: Vec<u32>,
    pub mtp: MtpNeed,
    pub requirements: Vec<String>,
    pub purpose: String,
    pub metrics: Vec<Metric>,
    /// The reference-agent faults that prove the case can fail, each at its metric(s).
    pub faults: Vec<FaultProof>,
    /// Deliberate departures from the plan's text, shown beside the verdict.
    pub deviations: Vec<String>,
    /// Reference-agent variations the case must pass with (the inner edges of its windows).
    pub passes_with: Vec<String>,
    pub setup: Vec<Step>,
    pub steps: Vec<Step>,
    pub cleanup: Vec<Step>,
    /// The file it came from.
    pub file: String,
}

impl Case {
    /// Whether a `check` step judges what the step named `name` received: only then is that
    /// message kept once its step is over.
    pub fn is_checked(&self, name: &str) -> bool {
        self.setup
            .iter()
            .chain(&self.steps)
            .chain(&self.cleanup)
            .any(|s| matches!(&s.action, Action::Check { step, .. } if step == name))
    }

    /// Whether any step awaits a message the EUT sends on its own, so the session must not
    /// acknowledge Notify messages before the step sees them.
    pub fn awaits_notifications(&self) -> bool {
        self.setup
            .iter()
            .chain(&self.steps)
            .chain(&self.cleanup)
            .any(|s| {
                matches!(
                    s.action,
                    Action::Await {
                        send_resp: false,
                        ..
                    }
                )
            })
    }

    /// Why the case cannot run through an external MQTT broker: the first step that needs
    /// uspcheck's own broker, if any.
    pub fn needs_embedded_broker(&self) -> Option<&Step> {
        self.setup
            .iter()
            .chain(&self.steps)
            .chain(&self.cleanup)
            .find(|s| s.action.needs_embedded_broker())
    }

    /// The numeric sort key of the id (`1.10` after `1.9`).
    pub fn sort_key(&self) -> Vec<u32> {
        id_key(&self.id)
    }
}

/// The numeric sort key of a TP-469 id.
pub fn id_key(id: &str) -> Vec<u32> {
    id.split('.')
        .map(|p| p.parse().unwrap_or(u32::MAX))
        .collect()
}
