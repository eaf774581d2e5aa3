//! The MQTT MTP's side of the data model: seeding it from the [`MqttDial`], reading the
//! settings each connection uses, and writing back what the connection learned (ClientID,
//! Response Information, Status, Stats, Subscription Status).

use super::super::dm::{Loc, reference_loc};
use super::super::write::date_time;
use super::super::{Agent, Fault};
use crate::agent::run::MqttDial;
use crate::mtp::mqtt::Version;

/// What one connection attempt uses, read from the data model at that moment.
#[derive(Debug, Clone)]
pub(super) struct Settings {
    /// `Device.MQTT.Client.{i}.` in use.
    pub client: Loc,
    /// `host:port`.
    pub broker: String,
    /// TransportProtocol TLS (R-MQTT.48).
    pub tls: bool,
    pub version: Version,
    pub client_id: String,
    pub keep_alive: u16,
    pub clean: bool,
    pub credentials: Option<(String, String)>,
    pub retry_time: u64,
    pub retry_multiplier: u64,
    pub retry_max: u64,
    /// `Device.LocalAgent.MTP.{i}.MQTT.ResponseTopicConfigured`.
    pub response_topic_configured: String,
}

/// An enabled `Subscription.{i}.` with a Topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Row {
    pub topic: String,
    pub qos: u8,
}

fn la() -> Loc {
    Loc::root().child("LocalAgent")
}

fn clients() -> Loc {
    Loc::root().child("MQTT").child("Client")
}

impl Agent {
    fn add_instance(&mut self, table: &Loc, values: &[(&'static str, String)]) -> Option<Loc> {
        let def = super::super::dm::Dm::def_of(table)?;
        let n = self.dm.add_row(table, def).ok()?;
        let row = table.inst(n);
        self.dm.store(&row, &[], "Alias", format!("cpe-{n}"));
        for (name, v) in values {
            let (via, p) = def.rel_param(name)?;
            self.dm.store(&row, &via, p.name, v.clone());
        }
        Some(row)
    }

    /// Configures the MQTT MTP from `d`: `Device.MQTT.Client.1.` with one Subscription to the
    /// agent's own Topic (so a 3.1.1 broker, which has no `subscribe-topic`, and a 5.0 broker
    /// that sends none, still leave it something to subscribe to: R-MQTT.15, R-MQTT.16),
    /// `LocalAgent.MTP.1.` as MQTT referencing it, and `Controller.1.MTP.1.` as MQTT with the
    /// Controller's Topic.
    pub(crate) fn seed_mqtt(&mut self, d: &MqttDial) {
        let (host, port) = match d.broker.rsplit_once(':') {
            Some((h, p)) => (h.trim_start_matches('[').trim_end_matches(']'), p),
            None => (d.broker.as_str(), "1883"),
        };
        let (user, pass) = d.credentials.clone().unwrap_or_default();
        let client = self.add_instance(
            &clients(),
            &[
                ("Name", "uspcheck-mtp".into()),
                ("Enable", "true".into()),
                ("ProtocolVersion", d.version.label().into()),
                ("BrokerAddress", host.into()),
                ("BrokerPort", port.into()),
                ("ClientID", d.client_id.clone()),
                ("Username", user),
                ("Password", pass),
            ],
        );
        let Some(client) = client else {
            return;
        };
        let own = match d.version {
            Version::V5 => d.agent_topic.clone(),
            Version::V311 => format!("{}/#", d.agent_topic),
        };
        if !d.agent_topic.is_empty() {
            self.add_instance(
                &client.child("Subscription"),
                &[
                    ("Enable", "true".into()),
                    ("Topic", own),
                    ("QoS", "1".into()),
                ],
            );
        }
        let reference = client.to_string().trim_end_matches('.').to_string();
        let mtp = la().child("MTP").inst(1);
        self.dm.store(&mtp, &[], "Protocol", "MQTT".into());
        self.dm.store(&mtp, &["MQTT"], "Reference", reference);
        self.dm.store(
            &mtp,
            &["MQTT"],
            "ResponseTopicConfigured",
            d.agent_topic.clone(),
        );
        let cmtp = la().child("Controller").inst(1).child("MTP").inst(1);
        self.dm.store(&cmtp, &[], "Protocol", "MQTT".into());
        self.dm
            .store(&cmtp, &["MQTT"], "Topic", d.controller_topic.clone());
        self.dm.store(
            &cmtp,
            &["MQTT"],
            "AgentMTPReference",
            "Device.LocalAgent.MTP.1".into(),
        );
    }

    /// The enabled MQTT `LocalAgent.MTP.{i}.` and the Client it references.
    fn mqtt_mtp(&self) -> Option<(Loc, Loc)> {
        self.dm.rows(&la().child("MTP")).into_iter().find_map(|m| {
            let n = self.dm.node(&m)?;
            if n.get("Protocol") != "MQTT" || n.get("Enable") != "true" {
                return None;
            }
            let r = n.single("MQTT")?.get("Reference");
            let c = reference_loc(r).filter(|c| self.dm.node(c).is_some())?;
            Some((m, c))
        })
    }

    /// The settings of the next connection, or why there is none.
    pub(super) fn mqtt_settings(&self) -> Result<Settings, String> {
        let (mtp, client) = self
            .mqtt_mtp()
            .ok_or("no enabled MQTT Device.LocalAgent.MTP.{i}. references an MQTT Client")?;
        let n = self.dm.node(&client).ok_or("the MQTT Client is gone")?;
        if n.get("Enable") != "true" {
            return Err(format!("{client}Enable is false"));
        }
        let num = |name: &str, default: u64| n.get(name).parse().unwrap_or(default);
        let version = match n.get("ProtocolVersion") {
            "3.1.1" => Version::V311,
            _ => Version::V5,
        };
        let (user, pass) = (n.get("Username"), n.get("Password"));
        let keep_alive = if self.has_fault(Fault::MqttIgnoreKeepAliveTime) {
            120
        } else {
            num("KeepAliveTime", 60).min(u16::MAX as u64) as u16
        };
        let clean = match version {
            Version::V5 => n.get("CleanStart"),
            Version::V311 => n.get("CleanSession"),
        } != "false";
        let rtc = self
            .dm
            .node(&mtp)
            .and_then(|m| m.single("MQTT"))
            .map(|m| m.get("ResponseTopicConfigured").to_string())
            .unwrap_or_default();
        Ok(Settings {
            broker: format!("{}:{}", n.get("BrokerAddress"), n.get("BrokerPort")),
            tls: n.get("TransportProtocol") == "TLS",
            version,
            client_id: n.get("ClientID").to_string(),
            keep_alive,
            clean,
            credentials: (!user.is_empty() || !pass.is_empty())
                .then(|| (user.to_string(), pass.to_string())),
            retry_time: num("ConnectRetryTime", 5).max(1),
            retry_multiplier: num("ConnectRetryIntervalMultiplier", 2000).max(1000),
            retry_max: num("ConnectRetryMaxInterval", 30720).max(1),
            response_topic_configured: rtc,
            client,
        })
    }

    /// The Client's enabled Subscriptions with a Topic (R-MQTT.15, first bullet).
    pub(super) fn mqtt_rows(&self, client: &Loc) -> Vec<Row> {
        let table = client.child("Subscription");
        self.dm
            .rows(&table)
            .iter()
            .filter_map(|r| self.dm.node(r))
            .filter(|n| n.get("Enable") == "true" && !n.get("Topic").is_empty())
            .map(|n| Row {
                topic: n.get("Topic").to_string(),
                qos: n.get("QoS").parse().unwrap_or(1).min(2),
            })
            .collect()
    }

    /// The Topic configured for Controller `endpoint_id` on an enabled MQTT MTP.
    pub(super) fn mqtt_controller_topic(&self, endpoint_id: &str) -> Option<String> {
        let table = la().child("Controller");
        self.dm.rows(&table).into_iter().find_map(|c| {
            let n = self.dm.node(&c)?;
            if n.get("EndpointID") != endpoint_id {
                return None;
            }
            n.table("MTP")?
                .rows
                .values()
                .filter(|m| m.get("Protocol") == "MQTT" && m.get("Enable") == "true")
                .filter_map(|m| m.single("MQTT"))
                .map(|m| m.get("Topic").to_string())
                .find(|t| !t.is_empty())
        })
    }

    fn client_set(&mut self, client: &Loc, via: &[&str], name: &'static str, v: String) {
        self.dm.store(client, via, name, v);
    }

    /// Status of the Client (`Connecting`, `Connected`, `Error_BrokerUnreachable`…).
    pub(super) fn mqtt_status(&mut self, client: &Loc, status: &str) {
        self.client_set(client, &[], "Status", status.into());
    }

    /// One more connection error in the Stats.
    pub(super) fn mqtt_connection_error(&mut self, client: &Loc) {
        let n: u64 = self
            .dm
            .value_at(client, "Stats.ConnectionErrors")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        self.client_set(
            client,
            &["Stats"],
            "ConnectionErrors",
            (n + 1).min(u32::MAX as u64).to_string(),
        );
    }

    /// Packet counters of the session, added to the Stats.
    pub(super) fn mqtt_count(&mut self, client: &Loc, sent: u64, received: u64) {
        for (name, add) in [
            ("MQTTMessagesSent", sent),
            ("MQTTMessagesReceived", received),
        ] {
            if add == 0 {
                continue;
            }
            let n: u64 = self
                .dm
                .value_at(client, &format!("Stats.{name}"))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            self.client_set(
                client,
                &["Stats"],
                name,
                (n + add).min(u32::MAX as u64).to_string(),
            );
        }
    }

    /// A CONNACK accepted the connection: the ClientID in use is saved (R-MQTT.9, R-MQTT.11),
    /// and so are the Response Information and the reply-to it gives (R-MQTT.21).
    pub(super) fn mqtt_connected(
        &mut self,
        client: &Loc,
        client_id: Option<String>,
        response_information: Option<String>,
    ) {
        self.dm.now = (self.clock)();
        let now = date_time(self.dm.now);
        if let Some(id) = client_id {
            self.client_set(client, &[], "ClientID", id);
        }
        self.client_set(
            client,
            &[],
            "ResponseInformation",
            response_information.clone().unwrap_or_default(),
        );
        self.client_set(client, &["Stats"], "BrokerConnectionEstablished", now);
        self.mqtt_status(client, "Connected");
        if let Some((mtp, _)) = self.mqtt_mtp() {
            self.dm.store(
                &mtp,
                &["MQTT"],
                "ResponseTopicDiscovered",
                response_information.unwrap_or_default(),
            );
        }
    }

    /// Sets the Status of every Subscription of `client` whose Topic is `topic`.
    pub(super) fn mqtt_subscription_status(&mut self, client: &Loc, topic: &str, status: &str) {
        for r in self.dm.rows(&client.child("Subscription")) {
            if self.dm.node(&r).is_some_and(|n| n.get("Topic") == topic) {
                self.dm.store(&r, &[], "Status", status.into());
            }
        }
    }

    /// Subscriptions that are disabled (or have no Topic) read `Unsubscribed`.
    pub(super) fn mqtt_idle_subscriptions(&mut self, client: &Loc) {
        for r in self.dm.rows(&client.child("Subscription")) {
            let idle = self
                .dm
                .node(&r)
                .is_some_and(|n| n.get("Enable") != "true" || n.get("Topic").is_empty());
            if idle {
                self.dm.store(&r, &[], "Status", "Unsubscribed".into());
            }
        }
    }

    /// The `mqtt-new-client-id-each-boot` fault: a reboot invents another ClientID.
    pub(super) fn mqtt_reboot(&mut self, client: &Loc, boot: u64) {
        if self.has_fault(Fault::MqttNewClientIdEachBoot) {
            let id = format!("uspcheck-agent-boot-{boot}");
            self.client_set(client, &[], "ClientID", id);
        }
    }
}
