//! The agent's MQTT MTP against the embedded broker: every TP-469 section 11 behaviour is
//! checked on the broker's packet log, once for the conforming agent and once for each
//! `mqtt-…` fault that must break it. Waits are on broker events, each bounded.

use std::sync::Arc;
use std::time::Duration;

use prost::Message;
use serde_json::Value;
use tokio::sync::Mutex;

use super::super::tests::{AGENT, CTRL, add, get, operate, request, set};
use super::super::{Agent, AgentConfig, Fault};
use super::{retry_wait, run};
use crate::agent::run::MqttDial;
use crate::mtp::mqtt::{
    Broker, BrokerEvent, ControllerConfig, ControllerControl, Dir, Refusal, Script, Version,
};
use crate::mtp::{Link, MtpEventKind};
use crate::usp::pb::request::ReqType;
use crate::usp::{pb, pb_record, record};

const WAIT: Duration = Duration::from_secs(5);
const CTL_ID: &str = "uspcheck-controller";
const AGENT_TOPIC: &str = "usp/agent/a1";
const CTRL_TOPIC: &str = "usp/controller";

/// A broker, the harness Controller in it, and the agent running over MQTT.
struct Bench {
    broker: Broker,
    link: Link,
    ctl: ControllerControl,
    agent: Arc<Mutex<Agent>>,
    task: tokio::task::JoinHandle<()>,
    next: u32,
}

impl Drop for Bench {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What a test changes before the agent starts.
struct Setup {
    version: Version,
    faults: Vec<Fault>,
    client_id: &'static str,
    /// The Controller's own (reply-to) Topic; the agent's configured Controller Topic is
    /// always [`CTRL_TOPIC`].
    ctl_topic: &'static str,
    script: Script,
    tweak: fn(&mut Agent),
    /// Also listen with TLS and point the agent's Client at it (TransportProtocol TLS).
    tls: bool,
}

impl Setup {
    fn new(version: Version, faults: &[Fault]) -> Setup {
        Setup {
            version,
            faults: faults.to_vec(),
            client_id: "agent-1",
            ctl_topic: CTRL_TOPIC,
            script: Script::default(),
            tweak: |_| {},
            tls: false,
        }
    }

    async fn start(self) -> Bench {
        let broker = Broker::start("127.0.0.1:0").await.unwrap();
        broker.set_script(self.script);
        let (link, ctl) = broker.controller_link(ControllerConfig::new(
            self.ctl_topic,
            Some(AGENT_TOPIC),
            self.version,
        ));
        let cfg = AgentConfig {
            endpoint_id: AGENT.into(),
            controller_id: CTRL.into(),
            faults: self.faults,
            software_version: "test".into(),
        };
        let d = MqttDial {
            broker: broker.addr().to_string(),
            version: self.version,
            agent_topic: AGENT_TOPIC.into(),
            controller_topic: CTRL_TOPIC.into(),
            client_id: self.client_id.into(),
            credentials: Some(("user".into(), "secret".into())),
        };
        let mut a = Agent::new(cfg.clone());
        a.seed_mqtt(&d);
        (self.tweak)(&mut a);
        if self.tls {
            let pki = crate::pki::run_pki().unwrap();
            let at = broker
                .listen_tls("127.0.0.1:0", pki.server_config.clone())
                .await
                .unwrap();
            let c = client_loc();
            a.dm.store(&c, &[], "TransportProtocol", "TLS".into());
            a.dm.store(&c, &[], "BrokerPort", at.port().to_string());
        }
        let agent = Arc::new(Mutex::new(a));
        let task = tokio::spawn(run(agent.clone(), cfg));
        Bench {
            broker,
            link,
            ctl,
            agent,
            task,
            next: 0,
        }
    }
}

fn client_loc() -> super::super::dm::Loc {
    super::super::dm::Loc::root()
        .child("MQTT")
        .child("Client")
        .inst(1)
}

fn from_agent(e: &BrokerEvent) -> bool {
    e.dir == Dir::In && e.client_id != CTL_ID
}

fn filters(e: &BrokerEvent) -> Vec<(String, u64)> {
    e.detail["filters"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| match f {
                    Value::String(s) => (s.clone(), 0),
                    f => (
                        f["filter"].as_str().unwrap_or("").to_string(),
                        f["qos"].as_u64().unwrap_or(9),
                    ),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn payload(e: &BrokerEvent) -> Vec<u8> {
    hex::decode(e.detail["payload_hex"].as_str().unwrap_or("")).unwrap_or_default()
}

fn user_property<'a>(e: &'a BrokerEvent, name: &str) -> Option<&'a str> {
    e.detail["properties"]["user_properties"]
        .as_array()?
        .iter()
        .find(|p| p[0] == name)
        .and_then(|p| p[1].as_str())
}

impl Bench {
    /// The next packet of `kind` from the agent at or after `from`.
    async fn next_from_agent(&self, from: usize, kind: &str) -> Result<BrokerEvent, String> {
        self.first_from_agent(from, &[kind]).await
    }

    /// The agent's first packet of any of `kinds`: which one came first is the point.
    async fn first_from_agent(&self, from: usize, kinds: &[&str]) -> Result<BrokerEvent, String> {
        self.broker
            .wait_for(from, WAIT, |e| {
                from_agent(e) && kinds.contains(&e.kind.as_str())
            })
            .await
            .map_err(|e| format!("{}: {e}", kinds.join(" or ")))
    }

    /// Sends a request from the Controller and returns the answer with its msg_id.
    async fn ask(&mut self, r: ReqType) -> Result<pb::Msg, String> {
        self.next += 1;
        let id = format!("t-{}", self.next);
        let mut m = request(&id, r);
        if let Some(h) = m.header.as_mut() {
            h.msg_id = id.clone();
        }
        let rec = record::no_session(AGENT, CTRL, &m);
        self.link.sender.record(record::encode(&rec));
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let ev = tokio::time::timeout_at(deadline, self.link.events.recv())
                .await
                .map_err(|_| format!("no answer to {id} within {WAIT:?}"))?
                .ok_or("the Controller link closed")?;
            if let MtpEventKind::Record(b) = ev.kind
                && let Ok(r) = record::decode(&b)
                && let Some(p) = record::payload(&r)
                && let Ok(msg) = pb::Msg::decode(p)
                && msg.header.as_ref().is_some_and(|h| h.msg_id == id)
            {
                return Ok(msg);
            }
        }
    }

    /// The value of one parameter, read with a Get over MQTT.
    async fn param(&mut self, path: &str) -> Result<String, String> {
        let m = self.ask(get(&[path], 0)).await?;
        let v = format!("{m:?}");
        let leaf = path.rsplit('.').next().unwrap_or("");
        // The GetResp is small; read the value from its result_params.
        let Some(pb::body::MsgBody::Response(pb::Response {
            resp_type: Some(pb::response::RespType::GetResp(g)),
        })) = m.body.and_then(|b| b.msg_body)
        else {
            return Err(format!("not a GetResp: {v}"));
        };
        g.req_path_results
            .first()
            .and_then(|r| r.resolved_path_results.first())
            .and_then(|r| r.result_params.get(leaf).cloned())
            .ok_or_else(|| format!("{path} not in {v}"))
    }

    /// Waits until the agent is subscribed and has sent its MQTTConnectRecord.
    async fn up(&self, from: usize) -> Result<pb_record::MqttConnectRecord, String> {
        let e = self
            .broker
            .wait_for(from, WAIT, |e| {
                from_agent(e)
                    && e.kind == "PUBLISH"
                    && record::decode(&payload(e)).is_ok_and(|r| record::kind(&r) == "mqtt_connect")
            })
            .await
            .map_err(|e| format!("no MQTTConnectRecord: {e}"))?;
        match record::decode(&payload(&e))
            .ok()
            .and_then(|r| r.record_type)
        {
            Some(pb_record::record::RecordType::MqttConnect(c)) => Ok(c),
            _ => Err("not an MQTTConnectRecord".into()),
        }
    }
}

fn expect(cond: bool, what: &str) -> Result<(), String> {
    if cond { Ok(()) } else { Err(what.to_string()) }
}

/// Runs `check` for the conforming agent (must pass) and for each fault (must fail).
async fn proven<F, Fut>(check: F, faults: &[Fault])
where
    F: Fn(Vec<Fault>) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    if let Err(e) = check(vec![]).await {
        panic!("the conforming agent fails: {e}");
    }
    for f in faults {
        match check(vec![*f]).await {
            Ok(()) => panic!("{f} is not detected"),
            Err(e) => eprintln!("{f}: {e}"),
        }
    }
}

/// TP-469 11.2, 11.8 (metric 1), 11.12, 11.17 on 5.0: CONNECT, SUBSCRIBE, PUBLISH properties,
/// the MQTTConnectRecord, and a Get answered.
async fn check_session_v5(faults: Vec<Fault>) -> Result<(), String> {
    let mut b = Setup::new(Version::V5, &faults).start().await;
    let c = b.next_from_agent(0, "CONNECT").await?;
    let d = &c.detail;
    expect(d["version"] == "5.0", "11.2 m2: version 5.0")?;
    expect(d["client_id"] == "agent-1", "R-MQTT.8: configured ClientID")?;
    expect(
        user_property(&c, "usp-endpoint-id") == Some(AGENT),
        "11.2 m3: usp-endpoint-id",
    )?;
    expect(
        d["username"] == "user" && d["password"] == "secret",
        "11.2 m4: User Name and Password",
    )?;
    expect(d["keep_alive"] == 60, "11.7: KeepAliveTime 60")?;
    expect(
        d["properties"]["request_response_information"] == 1,
        "11.8 m1: Request Response Information 1",
    )?;
    let s = b.next_from_agent(0, "SUBSCRIBE").await?;
    expect(
        filters(&s).contains(&(AGENT_TOPIC.into(), 1)),
        "SUBSCRIBE to the agent Topic",
    )?;
    let cr = b.up(0).await?;
    expect(cr.version == 1, "11.17: MQTTConnectRecord version V5")?;
    expect(
        cr.subscribed_topic == AGENT_TOPIC,
        "11.17: subscribed_topic",
    )?;
    let from = b.broker.log_len();
    b.ask(get(&["Device.DeviceInfo."], 0)).await?;
    let p = b
        .broker
        .wait_for(from, WAIT, |e| from_agent(e) && e.kind == "PUBLISH")
        .await?;
    expect(
        p.detail["properties"]["content_type"] == "usp.msg",
        "11.12 m4: Content Type usp.msg",
    )?;
    expect(
        p.detail["properties"]["response_topic"] == AGENT_TOPIC,
        "11.12/11.14: Response Topic",
    )?;
    expect(
        p.detail["topic"] == CTRL_TOPIC,
        "answer on the request's reply-to",
    )?;
    let client = super::super::dm::Loc::root()
        .child("MQTT")
        .child("Client")
        .inst(1);
    let status = b.agent.lock().await.dm.value_at(&client, "Status");
    expect(status.as_deref() == Some("Connected"), "Client Status")?;
    // The secured Password reads empty.
    expect(
        b.param("Device.MQTT.Client.1.Password").await?.is_empty(),
        "Password is secured",
    )?;
    Ok(())
}

#[tokio::test]
async fn session_v5() {
    proven(
        check_session_v5,
        &[
            Fault::MqttNoEndpointIdProperty,
            Fault::MqttNoCredentials,
            Fault::MqttNoRequestResponseInfo,
            Fault::MqttNoConnectRecord,
            Fault::MqttConnectRecordWrongVersion,
            Fault::MqttConnectRecordWrongTopic,
            Fault::MqttWrongContentType,
            Fault::MqttNoReplyTo,
            Fault::MqttIgnoreKeepAliveTime,
        ],
    )
    .await;
}

/// The same on 3.1.1: the `/reply-to=` suffix with `%2F` (R-MQTT.24), `topic/#` (R-MQTT.15).
async fn check_session_v311(faults: Vec<Fault>) -> Result<(), String> {
    let mut b = Setup::new(Version::V311, &faults).start().await;
    let c = b.next_from_agent(0, "CONNECT").await?;
    expect(c.detail["version"] == "3.1.1", "11.2 m2: version 3.1.1")?;
    expect(c.detail["username"] == "user", "11.2 m4: User Name")?;
    let s = b.next_from_agent(0, "SUBSCRIBE").await?;
    expect(
        filters(&s).contains(&(format!("{AGENT_TOPIC}/#"), 1)),
        "SUBSCRIBE topic/#",
    )?;
    let cr = b.up(0).await?;
    expect(cr.version == 0, "11.17: MQTTConnectRecord version V3_1_1")?;
    let from = b.broker.log_len();
    b.ask(get(&["Device.DeviceInfo."], 0)).await?;
    let p = b
        .broker
        .wait_for(from, WAIT, |e| from_agent(e) && e.kind == "PUBLISH")
        .await?;
    expect(
        p.detail["topic"] == format!("{CTRL_TOPIC}/reply-to=usp%2Fagent%2Fa1"),
        "11.12 m3 / 11.14 m2: /reply-to= with %2F",
    )?;
    Ok(())
}

#[tokio::test]
async fn session_v311() {
    proven(
        check_session_v311,
        &[
            Fault::MqttReplyToNotEncoded,
            Fault::MqttNoReplyTo,
            Fault::MqttConnectRecordWrongVersion,
            Fault::MqttNoCredentials,
        ],
    )
    .await;
}

/// TP-469 11.4, 11.5: an empty ClientID on 5.0 is sent empty, the Assigned Client Identifier
/// is saved and used again after Reboot().
async fn check_client_id(faults: Vec<Fault>) -> Result<(), String> {
    let mut s = Setup::new(Version::V5, &faults);
    s.client_id = "";
    s.script.assigned_client_id = Some("assigned-7".into());
    let mut b = s.start().await;
    let c = b.next_from_agent(0, "CONNECT").await?;
    expect(c.detail["client_id"] == "", "11.4 m1: empty ClientID")?;
    b.up(0).await?;
    expect(
        b.param("Device.MQTT.Client.1.ClientID").await? == "assigned-7",
        "11.4 m2: ClientID is the Assigned Client Identifier",
    )?;
    let from = b.broker.log_len();
    b.ask(operate("Device.Reboot()", "k", true, &[])).await?;
    b.next_from_agent(from, "DISCONNECT").await?;
    let c = b.next_from_agent(from, "CONNECT").await?;
    expect(
        c.detail["client_id"] == "assigned-7",
        "11.5: the same ClientID after a reboot",
    )?;
    Ok(())
}

#[tokio::test]
async fn client_id_assigned_and_kept() {
    proven(
        check_client_id,
        &[
            Fault::MqttIgnoreAssignedClientId,
            Fault::MqttMadeUpClientId,
            Fault::MqttNewClientIdEachBoot,
        ],
    )
    .await;
}

/// TP-469 11.7: KeepAliveTime set, Reboot(), CONNECT Keep Alive; PINGREQ within the Server
/// Keep Alive (2 s here).
async fn check_keep_alive(faults: Vec<Fault>) -> Result<(), String> {
    let mut s = Setup::new(Version::V5, &faults);
    s.script.server_keep_alive = Some(2);
    let mut b = s.start().await;
    b.up(0).await?;
    b.ask(set(
        false,
        &[(
            "Device.MQTT.Client.1.",
            &[("KeepAliveTime", "33", true)] as &[_],
        )],
    ))
    .await?;
    let from = b.broker.log_len();
    b.ask(operate("Device.Reboot()", "k", true, &[])).await?;
    let c = b.next_from_agent(from, "CONNECT").await?;
    expect(c.detail["keep_alive"] == 33, "11.7 m1: Keep Alive 33")?;
    let up = b.broker.log_len();
    let last = b.broker.wait_for(up, WAIT, from_agent).await?;
    let ping = b
        .broker
        .wait_for(up, Duration::from_secs(4), |e| {
            from_agent(e) && e.kind == "PINGREQ"
        })
        .await
        .map_err(|e| format!("11.7 m2: no PINGREQ: {e}"))?;
    expect(
        ping.at.duration_since(last.at) <= Duration::from_secs(3),
        "11.7 m2: PINGREQ within 1.5 x Server Keep Alive",
    )?;
    Ok(())
}

#[tokio::test]
async fn keep_alive_and_pings() {
    proven(
        check_keep_alive,
        &[
            Fault::MqttIgnoreKeepAliveTime,
            Fault::MqttNoPingreq,
            Fault::MqttIgnoreServerKeepAlive,
        ],
    )
    .await;
}

/// TP-469 11.8, 11.12: CONNACK subscribe-topic and Response Information are subscribed to,
/// in one SUBSCRIBE (R-MQTT.15); the Response Information is the reply-to.
async fn check_connack_topics(faults: Vec<Fault>) -> Result<(), String> {
    let mut s = Setup::new(Version::V5, &faults);
    s.script.subscribe_topics = vec!["st/one".into()];
    s.script.response_information = Some("ri/agent-a1".into());
    let mut b = s.start().await;
    let sub = b.next_from_agent(0, "SUBSCRIBE").await?;
    let f = filters(&sub);
    expect(
        f.iter().any(|(t, _)| t == "st/one"),
        "11.8 m2: subscribe-topic",
    )?;
    expect(
        f.iter().any(|(t, _)| t == "ri/agent-a1"),
        "11.8 m3: Response Information",
    )?;
    let cr = b.up(0).await?;
    expect(
        cr.subscribed_topic == "ri/agent-a1",
        "11.17: subscribed_topic is the reply-to",
    )?;
    let from = b.broker.log_len();
    b.ask(get(&["Device.DeviceInfo."], 0)).await?;
    let p = b
        .broker
        .wait_for(from, WAIT, |e| from_agent(e) && e.kind == "PUBLISH")
        .await?;
    expect(
        p.detail["properties"]["response_topic"] == "ri/agent-a1",
        "11.12 m2: Response Topic is the Response Information",
    )?;
    expect(
        b.param("Device.MQTT.Client.1.ResponseInformation").await? == "ri/agent-a1",
        "ResponseInformation",
    )?;
    Ok(())
}

#[tokio::test]
async fn connack_subscribe_topic_and_response_information() {
    proven(
        check_connack_topics,
        &[
            Fault::MqttIgnoreSubscribeTopic,
            Fault::MqttIgnoreResponseInformation,
            Fault::MqttNoRequestResponseInfo,
            Fault::MqttSplitSubscribe,
        ],
    )
    .await;
}

/// TP-469 11.9, 11.13: a new Subscription is SUBSCRIBEd with its QoS and works; disabling
/// it UNSUBSCRIBEs.
async fn check_new_subscription(faults: Vec<Fault>) -> Result<(), String> {
    let mut b = Setup::new(Version::V5, &faults).start().await;
    b.up(0).await?;
    for (topic, qos) in [("newTopic-11-13-QoS0", "0"), ("newTopic-11-13-QoS1", "1")] {
        let from = b.broker.log_len();
        b.ask(add(
            false,
            &[(
                "Device.MQTT.Client.1.Subscription.",
                &[
                    ("Enable", "true", true),
                    ("Topic", topic, true),
                    ("QoS", qos, true),
                ] as &[_],
            )],
        ))
        .await?;
        let s = b.next_from_agent(from, "SUBSCRIBE").await?;
        expect(
            filters(&s) == [(topic.to_string(), qos.parse().unwrap())],
            "11.9 m1: SUBSCRIBE with the new Topic and its QoS",
        )?;
        b.broker
            .wait_for(from, WAIT, |e| e.dir == Dir::Out && e.kind == "SUBACK")
            .await?;
        // A Get sent to the new Topic (QoS 1 from the Controller, so delivered at the
        // subscription's QoS) is answered; a dropped one shows as the next answer being
        // the second request's.
        b.ctl.set_agent_topic(Some(topic));
        b.ask(get(&["Device.MQTT.Client.1.Subscription."], 0))
            .await
            .map_err(|e| format!("11.13: Get on {topic}: {e}"))?;
        b.ctl.set_agent_topic(Some(AGENT_TOPIC));
    }
    expect(
        b.param("Device.MQTT.Client.1.Subscription.2.Status")
            .await?
            == "Subscribed",
        "Subscription Status",
    )?;
    let from = b.broker.log_len();
    b.ask(set(
        false,
        &[(
            "Device.MQTT.Client.1.Subscription.2.",
            &[("Enable", "false", true)] as &[_],
        )],
    ))
    .await?;
    let u = b.next_from_agent(from, "UNSUBSCRIBE").await?;
    expect(
        filters(&u) == [("newTopic-11-13-QoS0".to_string(), 0)],
        "11.9 m3: UNSUBSCRIBE the disabled Topic",
    )?;
    Ok(())
}

#[tokio::test]
async fn subscriptions_follow_the_data_model() {
    proven(
        check_new_subscription,
        &[
            Fault::MqttNoSubscribeOnAdd,
            Fault::MqttNoUnsubscribe,
            Fault::MqttDropQos1,
            Fault::MqttUnsubscribeBeforeDisable,
        ],
    )
    .await;
}

/// TP-469 11.10: no subscribe-topic and no Subscription: DISCONNECT.
async fn check_no_topic(faults: Vec<Fault>) -> Result<(), String> {
    let mut s = Setup::new(Version::V5, &faults);
    s.tweak = |a| {
        let t = super::super::dm::Loc::root()
            .child("MQTT")
            .child("Client")
            .inst(1)
            .child("Subscription");
        for r in a.dm.rows(&t) {
            a.dm.remove(&r);
        }
    };
    let b = s.start().await;
    b.next_from_agent(0, "CONNECT").await?;
    let e = b.first_from_agent(0, &["DISCONNECT", "SUBSCRIBE"]).await?;
    expect(e.kind == "DISCONNECT", "11.10: DISCONNECT, not SUBSCRIBE")
}

#[tokio::test]
async fn no_topic_disconnects() {
    proven(check_no_topic, &[Fault::MqttStayConnectedWithoutTopic]).await;
}

/// TP-469 11.11: every subscription refused: DISCONNECT, and no PUBLISH.
async fn check_suback_failure(faults: Vec<Fault>) -> Result<(), String> {
    let mut s = Setup::new(Version::V5, &faults);
    s.script.fail_all_subscriptions = Some(0x87);
    let b = s.start().await;
    b.next_from_agent(0, "SUBSCRIBE").await?;
    let e = b.first_from_agent(0, &["DISCONNECT", "PUBLISH"]).await?;
    expect(e.kind == "DISCONNECT", "11.11: DISCONNECT, no PUBLISH")
}

#[tokio::test]
async fn failed_suback_disconnects() {
    proven(
        check_suback_failure,
        &[
            Fault::MqttIgnoreSubackFailure,
            Fault::MqttPublishDespiteSubackFailure,
        ],
    )
    .await;
}

/// TP-469 11.14: the answer goes to the request's reply-to, not the configured Topic.
async fn check_reply_to(faults: Vec<Fault>) -> Result<(), String> {
    let mut s = Setup::new(Version::V5, &faults);
    s.ctl_topic = "usp/controller-replies";
    let mut b = s.start().await;
    b.up(0).await?;
    let from = b.broker.log_len();
    let asked = b.ask(get(&["Device.DeviceInfo."], 0)).await;
    let p = b
        .broker
        .wait_for(from, WAIT, |e| from_agent(e) && e.kind == "PUBLISH")
        .await?;
    expect(
        p.detail["topic"] == "usp/controller-replies",
        "11.14 m1: Topic Name is the request's Response Topic",
    )?;
    asked.map(|_| ())
}

#[tokio::test]
async fn answers_go_to_the_reply_to() {
    proven(check_reply_to, &[Fault::MqttAnswerConfiguredTopic]).await;
}

/// TP-469 11.15: Content Type `usp.msg` and `application/vnd.bbf.usp.msg` are both USP
/// Records. A dropped request shows as the next answer being the later request's.
async fn check_content_types(faults: Vec<Fault>) -> Result<(), String> {
    let mut b = Setup::new(Version::V5, &faults).start().await;
    b.up(0).await?;
    b.ask(get(&["Device.DeviceInfo."], 0)).await?;
    b.ctl.set_content_type(Some("application/vnd.bbf.usp.msg"));
    b.ask(get(&["Device.DeviceInfo."], 0))
        .await
        .map_err(|e| format!("11.15: application/vnd.bbf.usp.msg: {e}"))?;
    Ok(())
}

#[tokio::test]
async fn both_content_types_accepted() {
    proven(check_content_types, &[Fault::MqttRejectMimeContentType]).await;
}

/// TP-469 11.16 and 11.6: after the broker's DISCONNECT the agent retries within
/// [ConnectRetryTime, ConnectRetryTime*m] and, refused, again within the next window.
/// ConnectRetryTime 1 and multiplier 1500 keep it short: windows [1, 1.5], [1.5, 2.25].
async fn check_retry(faults: Vec<Fault>) -> Result<(), String> {
    let mut s = Setup::new(Version::V5, &faults);
    s.tweak = |a| {
        let c = super::super::dm::Loc::root()
            .child("MQTT")
            .child("Client")
            .inst(1);
        a.dm.store(&c, &[], "ConnectRetryTime", "1".into());
        a.dm.store(&c, &[], "ConnectRetryIntervalMultiplier", "1500".into());
    };
    let b = s.start().await;
    b.up(0).await?;
    let from = b.broker.log_len();
    b.broker.go_down(Refusal::Connack(0x88));
    b.broker.disconnect_all(0x8B);
    let d = b
        .broker
        .wait_for(from, WAIT, |e| e.dir == Dir::Out && e.kind == "DISCONNECT")
        .await?;
    let c1 = b.next_from_agent(d.seq, "CONNECT").await?;
    let c2 = b.next_from_agent(c1.seq + 1, "CONNECT").await?;
    b.broker.come_up();
    let g1 = c1.at.duration_since(d.at).as_secs_f64();
    let g2 = c2.at.duration_since(c1.at).as_secs_f64();
    expect(
        (0.95..=1.6).contains(&g1),
        &format!("11.16: first retry after {g1:.2} s, not within [1, 1.5]"),
    )?;
    expect(
        (1.45..=2.35).contains(&g2),
        &format!("11.6 m2: second retry after {g2:.2} s, not within [1.5, 2.25]"),
    )?;
    b.up(c2.seq).await?;
    Ok(())
}

#[tokio::test]
async fn connect_retry_back_off() {
    proven(
        check_retry,
        &[Fault::MqttRetryAtOnce, Fault::MqttNoReconnect],
    )
    .await;
}

/// TP-469 11.3: TransportProtocol TLS: a TLS 1.2+ handshake, then MQTT inside it.
async fn check_tls(faults: Vec<Fault>) -> Result<(), String> {
    let mut s = Setup::new(Version::V5, &faults);
    s.tls = true;
    let mut b = s.start().await;
    let c = b.next_from_agent(0, "CONNECT").await?;
    let v = c.detail["tls"]["version"].as_str().unwrap_or("none");
    expect(
        v == "1.2" || v == "1.3",
        &format!("11.3: CONNECT over TLS 1.2+, not {v}"),
    )?;
    b.up(0).await?;
    b.ask(get(&["Device.DeviceInfo."], 0)).await?;
    Ok(())
}

#[tokio::test]
async fn tls_when_configured() {
    proven(check_tls, &[Fault::MqttNoTls]).await;
}

#[test]
fn retry_windows_midpoints() {
    let w = |n| retry_wait(5, 2000, 30720, n).as_secs_f64();
    assert_eq!((w(1), w(2), w(3)), (7.5, 15.0, 30.0));
    assert_eq!(w(11), w(10));
    assert_eq!(retry_wait(5, 2000, 20, 3).as_secs_f64(), 20.0);
    assert_eq!(retry_wait(1, 1500, 30720, 2).as_secs_f64(), 1.875);
}

/// TP-469 11.1: every parameter of MQTTClientCon:1, MQTTClientSubscribe:1, MQTTAgent:1 and
/// MQTTController:1 (its 2.19 form, MQTTController:2) is in the supported model, with the
/// access the profiles ask for.
#[test]
fn mqtt_profiles_are_supported() {
    use super::super::schema::ObjDef;
    use super::super::tr181::DEVICE;
    // (path, writable)
    let required: &[(&str, bool)] = &[
        ("Device.MQTT.ClientNumberOfEntries", false),
        ("Device.MQTT.Capabilities.ProtocolVersionsSupported", false),
        ("Device.MQTT.Capabilities.TransportProtocolSupported", false),
        ("Device.MQTT.Client.{i}.Enable", true),
        ("Device.MQTT.Client.{i}.Status", false),
        ("Device.MQTT.Client.{i}.ProtocolVersion", true),
        ("Device.MQTT.Client.{i}.BrokerAddress", true),
        ("Device.MQTT.Client.{i}.BrokerPort", true),
        ("Device.MQTT.Client.{i}.CleanSession", true),
        ("Device.MQTT.Client.{i}.KeepAliveTime", true),
        ("Device.MQTT.Client.{i}.Name", true),
        ("Device.MQTT.Client.{i}.ClientID", true),
        ("Device.MQTT.Client.{i}.Username", true),
        ("Device.MQTT.Client.{i}.Password", true),
        ("Device.MQTT.Client.{i}.TransportProtocol", true),
        ("Device.MQTT.Client.{i}.MessageRetryTime", true),
        ("Device.MQTT.Client.{i}.ConnectRetryTime", true),
        (
            "Device.MQTT.Client.{i}.ConnectRetryIntervalMultiplier",
            true,
        ),
        ("Device.MQTT.Client.{i}.ConnectRetryMaxInterval", true),
        ("Device.MQTT.Client.{i}.ResponseInformation", false),
        (
            "Device.MQTT.Client.{i}.Stats.BrokerConnectionEstablished",
            false,
        ),
        ("Device.MQTT.Client.{i}.Stats.MQTTMessagesSent", false),
        ("Device.MQTT.Client.{i}.Stats.MQTTMessagesReceived", false),
        ("Device.MQTT.Client.{i}.Stats.ConnectionErrors", false),
        ("Device.MQTT.Client.{i}.SubscriptionNumberOfEntries", false),
        ("Device.MQTT.Client.{i}.Subscription.{i}.Topic", true),
        ("Device.MQTT.Client.{i}.Subscription.{i}.QoS", true),
        ("Device.MQTT.Client.{i}.Subscription.{i}.Enable", true),
        ("Device.LocalAgent.EndpointID", false),
        ("Device.LocalAgent.AdvertisedDeviceSubtypes", true),
        ("Device.LocalAgent.MTPNumberOfEntries", false),
        ("Device.LocalAgent.MTP.{i}.Alias", true),
        ("Device.LocalAgent.MTP.{i}.Protocol", true),
        ("Device.LocalAgent.MTP.{i}.MQTT.Reference", true),
        (
            "Device.LocalAgent.MTP.{i}.MQTT.ResponseTopicConfigured",
            true,
        ),
        (
            "Device.LocalAgent.MTP.{i}.MQTT.ResponseTopicDiscovered",
            false,
        ),
        ("Device.LocalAgent.ControllerNumberOfEntries", false),
        ("Device.LocalAgent.Controller.{i}.Enable", true),
        ("Device.LocalAgent.Controller.{i}.Alias", true),
        ("Device.LocalAgent.Controller.{i}.EndpointID", true),
        ("Device.LocalAgent.Controller.{i}.AssignedRole", true),
        (
            "Device.LocalAgent.Controller.{i}.PeriodicNotifInterval",
            true,
        ),
        ("Device.LocalAgent.Controller.{i}.MTPNumberOfEntries", false),
        ("Device.LocalAgent.Controller.{i}.MTP.{i}.Enable", true),
        ("Device.LocalAgent.Controller.{i}.MTP.{i}.Alias", true),
        ("Device.LocalAgent.Controller.{i}.MTP.{i}.Protocol", true),
        (
            "Device.LocalAgent.Controller.{i}.MTP.{i}.MQTT.AgentMTPReference",
            true,
        ),
        ("Device.LocalAgent.Controller.{i}.MTP.{i}.MQTT.Topic", true),
    ];
    for (path, writable) in required {
        let mut parts: Vec<&str> = path.split('.').skip(1).filter(|p| *p != "{i}").collect();
        let leaf = parts.pop().unwrap();
        let mut def: &ObjDef = &DEVICE;
        for p in parts {
            def = def
                .object(p)
                .unwrap_or_else(|| panic!("{path}: no object {p}"));
        }
        let p = def
            .param(leaf)
            .unwrap_or_else(|| panic!("{path} is not supported"));
        assert_eq!(p.writable(), *writable, "{path} access");
    }
}

/// The seeded model: MTP.1 is MQTT and references Client.1; Controller.1.MTP.1 has the
/// Controller's Topic; Client.1 has one Subscription to the agent's Topic.
#[test]
fn seeding_follows_the_dial() {
    let mut a = super::super::tests::agent(&[]);
    a.seed_mqtt(&MqttDial {
        broker: "127.0.0.1:1883".into(),
        version: Version::V311,
        agent_topic: "a/b".into(),
        controller_topic: "c/d".into(),
        client_id: "".into(),
        credentials: None,
    });
    let s = a.mqtt_settings().unwrap();
    assert_eq!(s.broker, "127.0.0.1:1883");
    assert_eq!(s.version, Version::V311);
    assert_eq!(s.response_topic_configured, "a/b");
    assert_eq!(s.keep_alive, 60);
    assert_eq!((s.retry_time, s.retry_multiplier), (5, 2000));
    assert_eq!(
        a.mqtt_rows(&s.client),
        [super::model::Row {
            topic: "a/b/#".into(),
            qos: 1
        }]
    );
    assert_eq!(a.mqtt_controller_topic(CTRL).as_deref(), Some("c/d"));
}
