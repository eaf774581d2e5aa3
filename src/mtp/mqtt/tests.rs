//! The broker, the embedded Controller and the client links against each other, on
//! 127.0.0.1 with OS-chosen ports; every wait is bounded.

use std::time::Duration;

use bytes::BytesMut;
use rumqttc::mqttbytes::v4;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;
use crate::mtp::{Link, MtpEventKind};

const WAIT: Duration = Duration::from_secs(5);

async fn broker() -> Broker {
    Broker::start("127.0.0.1:0").await.unwrap()
}

fn addr(b: &Broker) -> String {
    b.addr().to_string()
}

/// The next event of the link that `pred` accepts, within [`WAIT`].
async fn until(link: &mut Link, pred: impl Fn(&MtpEventKind) -> bool) -> MtpEventKind {
    let found = tokio::time::timeout(WAIT, async {
        loop {
            let ev = link.events.recv().await.expect("the link ended");
            if pred(&ev.kind) {
                return ev.kind;
            }
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("no such event on {} within {WAIT:?}", link.describe))
}

async fn record(link: &mut Link) -> Vec<u8> {
    match until(link, |k| matches!(k, MtpEventKind::Record(_))).await {
        MtpEventKind::Record(b) => b.to_vec(),
        _ => unreachable!(),
    }
}

async fn event(b: &Broker, kind: &str, dir: Dir, client: &str) -> BrokerEvent {
    b.wait_for(0, WAIT, |e| {
        e.kind == kind && e.dir == dir && (client.is_empty() || e.client_id == client)
    })
    .await
    .unwrap_or_else(|e| panic!("{kind} {dir:?} {client}: {e}\n{:#?}", b.events()))
}

/// A Controller in the broker and an agent link exchange records both ways.
async fn exchange(version: Version) {
    let b = broker().await;
    let (mut ctrl, _) = b.controller_link(ControllerConfig::new(
        "usp/ctrl",
        Some("usp/agent"),
        version,
    ));
    let mut agent = connect(
        &addr(&b),
        version,
        "agent-1",
        "usp/agent",
        "usp/ctrl",
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    until(&mut ctrl, |k| matches!(k, MtpEventKind::Connected { .. })).await;
    until(&mut agent, |k| matches!(k, MtpEventKind::Connected { .. })).await;
    assert!(agent.sender.record(vec![1, 2, 3]));
    assert_eq!(record(&mut ctrl).await, vec![1, 2, 3]);
    assert!(ctrl.sender.record(vec![4, 5]));
    assert_eq!(record(&mut agent).await, vec![4, 5]);

    let from_agent = event(&b, "PUBLISH", Dir::In, "agent-1").await;
    let to_agent = b
        .wait_for(0, WAIT, |e| {
            e.kind == "PUBLISH" && e.dir == Dir::In && e.client_id == "uspcheck-controller"
        })
        .await
        .unwrap();
    assert_eq!(
        from_agent.detail["delivered_to"],
        json!(["uspcheck-controller"])
    );
    assert_eq!(to_agent.detail["delivered_to"], json!(["agent-1"]));
    match version {
        Version::V5 => {
            let p = &from_agent.detail["properties"];
            assert_eq!(p["response_topic"], "usp/agent", "R-MQTT.23");
            assert_eq!(p["content_type"], "usp.msg", "R-MQTT.27");
            assert_eq!(from_agent.detail["topic"], "usp/ctrl");
            assert_eq!(to_agent.detail["properties"]["response_topic"], "usp/ctrl");
        }
        Version::V311 => {
            assert_eq!(
                from_agent.detail["topic"], "usp/ctrl/reply-to=usp%2Fagent",
                "R-MQTT.24"
            );
            assert_eq!(from_agent.detail["reply_to"], "usp/agent");
            assert_eq!(to_agent.detail["topic"], "usp/agent/reply-to=usp%2Fctrl");
            let sub = event(&b, "SUBSCRIBE", Dir::In, "agent-1").await;
            assert_eq!(
                sub.detail["filters"][0]["filter"], "usp/agent/#",
                "R-MQTT.15"
            );
        }
    }
    let delivered = event(&b, "PUBLISH", Dir::Out, "agent-1").await;
    assert_eq!(delivered.version, Some(version));
    assert!(
        delivered.packet.starts_with("PUBLISH "),
        "{}",
        delivered.packet
    );
    assert!(!delivered.packet.contains('\n'));
}

#[tokio::test]
async fn records_flow_both_ways_on_5_0() {
    exchange(Version::V5).await;
}

#[tokio::test]
async fn records_flow_both_ways_on_3_1_1() {
    exchange(Version::V311).await;
}

/// With no configured Agent Topic the Controller holds its record until the Agent's first
/// PUBLISH tells it the reply-to Topic (R-MQTT.26).
#[tokio::test]
async fn the_controller_learns_the_agent_topic_from_its_reply_to() {
    let b = broker().await;
    let (mut ctrl, control) =
        b.controller_link(ControllerConfig::new("usp/ctrl", None, Version::V5));
    let mut agent = connect(
        &addr(&b),
        Version::V5,
        "agent-2",
        "usp/agent-2",
        "usp/ctrl",
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    ctrl.sender.record(vec![7]);
    until(
        &mut ctrl,
        |k| matches!(k, MtpEventKind::Note(n) if n.contains("held")),
    )
    .await;
    agent.sender.record(vec![8]);
    assert_eq!(record(&mut ctrl).await, vec![8]);
    assert_eq!(record(&mut agent).await, vec![7]);
    assert_eq!(
        control.learned_agent_topic().as_deref(),
        Some("usp/agent-2")
    );
}

/// TP-469 11.2 and 11.8: the CONNECT is logged with its flags and properties.
#[tokio::test]
async fn the_broker_logs_connect_properties() {
    let b = broker().await;
    let mut cfg = ClientConfig::agent(
        &addr(&b),
        Version::V5,
        "agent-3",
        "usp/agent-3",
        "usp/ctrl",
        Duration::from_secs(45),
    );
    cfg.endpoint_id = Some("proto::agent-3".into());
    cfg.credentials = Some(("user".into(), "secret".into()));
    let (_link, _) = connect_with(cfg).await.unwrap();
    let c = event(&b, "CONNECT", Dir::In, "agent-3").await;
    assert_eq!(c.version, Some(Version::V5));
    assert_eq!(c.detail["version"], "5.0");
    assert_eq!(c.detail["keep_alive"], 45, "R-MQTT.14");
    assert_eq!(c.detail["username"], "user", "R-MQTT.7");
    assert_eq!(c.detail["password"], "secret");
    let p = &c.detail["properties"];
    assert_eq!(p["request_response_information"], 1, "R-MQTT.12");
    assert!(
        p["user_properties"]
            .as_array()
            .unwrap()
            .contains(&json!(["usp-endpoint-id", "proto::agent-3"])),
        "R-MQTT.13: {p}"
    );
    assert!(c.packet.starts_with("CONNECT "), "{}", c.packet);
    event(&b, "CONNACK", Dir::Out, "agent-3").await;
}

/// CONNACK scripting: Assigned Client Identifier, Response Information as reply-to, the
/// `subscribe-topic` User Property subscribed to, Server Keep Alive honoured with PINGREQs.
#[tokio::test]
async fn scripted_connack_is_honoured_by_the_agent() {
    let b = broker().await;
    b.update(|s| {
        s.assigned_client_id = Some("assigned-7".into());
        s.response_information = Some("usp/reply/agent-7".into());
        s.subscribe_topics = vec!["usp/extra/+".into()];
        s.server_keep_alive = Some(1);
    });
    let (mut ctrl, _) = b.controller_link(ControllerConfig::new(
        "usp/ctrl",
        Some("usp/reply/agent-7"),
        Version::V5,
    ));
    let cfg = ClientConfig::agent(
        &addr(&b),
        Version::V5,
        "",
        "usp/agent-7",
        "usp/ctrl",
        Duration::from_secs(30),
    );
    let (mut agent, info) = connect_with(cfg).await.unwrap();
    assert_eq!(
        info.assigned_client_id.as_deref(),
        Some("assigned-7"),
        "R-MQTT.9"
    );
    assert_eq!(info.reply_to, "usp/reply/agent-7", "R-MQTT.21");
    assert_eq!(info.subscribe_topics, vec!["usp/extra/+".to_string()]);
    let sub = event(&b, "SUBSCRIBE", Dir::In, "assigned-7").await;
    let filters: Vec<&str> = sub.detail["filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["filter"].as_str().unwrap())
        .collect();
    assert_eq!(
        filters,
        ["usp/agent-7", "usp/extra/+", "usp/reply/agent-7"],
        "R-MQTT.15"
    );
    let c = event(&b, "CONNECT", Dir::In, "").await;
    assert_eq!(c.detail["client_id"], "", "R-MQTT.8");
    let ack = event(&b, "CONNACK", Dir::Out, "assigned-7").await;
    assert_eq!(
        ack.detail["properties"]["user_properties"],
        json!([["subscribe-topic", "usp/extra/+"]])
    );
    agent.sender.record(vec![9]);
    record(&mut ctrl).await;
    let p = event(&b, "PUBLISH", Dir::In, "assigned-7").await;
    assert_eq!(
        p.detail["properties"]["response_topic"],
        "usp/reply/agent-7"
    );
    ctrl.sender.record(vec![10]);
    assert_eq!(record(&mut agent).await, vec![10]);
    // Server Keep Alive 1 s: the client pings within about a second, and is answered.
    event(&b, "PINGREQ", Dir::In, "assigned-7").await;
    event(&b, "PINGRESP", Dir::Out, "assigned-7").await;
}

/// TP-469 11.11: a SUBACK failing every filter makes the agent disconnect without
/// publishing (R-MQTT.17); a partial failure is reported and the link goes on.
#[tokio::test]
async fn failed_subacks_are_seen_by_the_client() {
    let b = broker().await;
    b.update(|s| s.fail_all_subscriptions = Some(0x87));
    let err = connect(
        &addr(&b),
        Version::V5,
        "agent-4",
        "usp/agent-4",
        "usp/ctrl",
        Duration::from_secs(30),
    )
    .await
    .unwrap_err();
    assert!(err.contains("R-MQTT.17") && err.contains("0x87"), "{err}");
    let suback = event(&b, "SUBACK", Dir::Out, "agent-4").await;
    assert_eq!(suback.detail["reason_codes"][0]["code"], 0x87);
    event(&b, "DISCONNECT", Dir::In, "agent-4").await;
    assert!(
        b.events()
            .iter()
            .all(|e| !(e.kind == "PUBLISH" && e.client_id == "agent-4"))
    );

    b.update(|s| s.fail_all_subscriptions = None);
    b.fail_subscription("usp/denied", 0x8F);
    let mut cfg = ClientConfig::agent(
        &addr(&b),
        Version::V311,
        "agent-5",
        "usp/agent-5",
        "usp/ctrl",
        Duration::from_secs(30),
    );
    cfg.subscriptions = vec!["usp/denied".into()];
    let (mut link, info) = connect_with(cfg).await.unwrap();
    assert_eq!(info.refused, vec![("usp/denied".to_string(), 0x80)]);
    until(
        &mut link,
        |k| matches!(k, MtpEventKind::Note(n) if n.contains("usp/denied")),
    )
    .await;
}

/// TP-469 11.10: nothing to subscribe to means DISCONNECT (R-MQTT.16).
#[tokio::test]
async fn no_topic_at_all_means_disconnect() {
    let b = broker().await;
    let err = connect(
        &addr(&b),
        Version::V5,
        "agent-6",
        "",
        "usp/ctrl",
        Duration::from_secs(30),
    )
    .await
    .unwrap_err();
    assert!(err.contains("R-MQTT.16"), "{err}");
    event(&b, "DISCONNECT", Dir::In, "agent-6").await;
}

/// TP-469 11.16: a scripted DISCONNECT closes the agent's link with its reason code; a
/// 3.1.1 client is closed instead.
#[tokio::test]
async fn a_scripted_disconnect_closes_the_agent_link() {
    let b = broker().await;
    for (version, id, expected) in [
        (Version::V5, "agent-8", Some(0x8B)),
        (Version::V311, "agent-9", None),
    ] {
        let mut link = connect(
            &addr(&b),
            version,
            id,
            "usp/a",
            "usp/c",
            Duration::from_secs(30),
        )
        .await
        .unwrap();
        event(&b, "SUBACK", Dir::Out, id).await;
        assert_eq!(b.disconnect(id, 0x8B), 1);
        match until(&mut link, |k| matches!(k, MtpEventKind::Closed { .. })).await {
            MtpEventKind::Closed { code, .. } => assert_eq!(code, expected),
            _ => unreachable!(),
        }
        if version == Version::V5 {
            let d = event(&b, "DISCONNECT", Dir::Out, id).await;
            assert_eq!(d.detail["reason_code"], 0x8B);
        }
    }
}

/// TP-469 11.6: the broker refuses connections while down, and accepts them again.
#[tokio::test]
async fn the_broker_goes_down_and_comes_up() {
    let b = broker().await;
    let try_connect = |id: &'static str| {
        let a = addr(&b);
        async move {
            connect(
                &a,
                Version::V5,
                id,
                "usp/x",
                "usp/c",
                Duration::from_secs(30),
            )
            .await
        }
    };
    b.go_down(Refusal::Connack(0x88));
    let err = try_connect("down-1").await.unwrap_err();
    assert!(err.contains("0x88"), "{err}");
    b.go_down(Refusal::Close);
    assert!(try_connect("down-2").await.is_err());
    event(&b, "REFUSED", Dir::Conn, "").await;
    b.go_down(Refusal::Unreachable);
    event(&b, "LISTEN", Dir::Conn, "").await;
    assert!(try_connect("down-3").await.is_err());
    b.come_up();
    b.wait_for(0, WAIT, |e| {
        e.kind == "LISTEN" && e.packet.contains("again")
    })
    .await
    .unwrap();
    try_connect("up-1").await.unwrap();
}

fn connect_bytes(version: Version, keep_alive: u16) -> Vec<u8> {
    let p = match version {
        Version::V311 => {
            let mut c = v4::Connect::new("raw");
            c.keep_alive = keep_alive;
            wire::Packet::V4(v4::Packet::Connect(c))
        }
        Version::V5 => {
            use rumqttc::v5::mqttbytes::v5;
            wire::Packet::V5(v5::Packet::Connect(
                v5::Connect {
                    keep_alive,
                    client_id: "raw".into(),
                    clean_start: true,
                    properties: None,
                },
                None,
                None,
            ))
        }
    };
    wire::encode(&p).unwrap()
}

/// A 5.0 client's CONNECT, then `bytes`: the broker answers CONNACK, then DISCONNECT and
/// closes; the DISCONNECT's reason code.
async fn disconnected_for(b: &Broker, bytes: &[u8]) -> u8 {
    let mut tcp = TcpStream::connect(b.addr()).await.unwrap();
    tcp.write_all(&connect_bytes(Version::V5, 60))
        .await
        .unwrap();
    tcp.write_all(bytes).await.unwrap();
    let got = read_to_close(&mut tcp).await;
    let mut buf = BytesMut::from(&got[..]);
    let connack = wire::next_frame(&mut buf).unwrap().unwrap();
    assert_eq!(connack[0], 0x20);
    let disconnect = wire::next_frame(&mut buf).unwrap().unwrap();
    assert_eq!(disconnect[0], 0xE0);
    disconnect[2]
}

/// Reads until the broker closes the socket; what it sent before.
async fn read_to_close(tcp: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut all))
        .await
        .expect("the broker did not close the connection")
        .ok();
    all
}

/// Malformed input is logged with its hex and the connection closed; the broker lives on.
#[tokio::test]
async fn malformed_packets_are_logged_in_hex_and_closed() {
    let b = broker().await;
    // A bad remaining length before any CONNECT.
    let mut tcp = TcpStream::connect(b.addr()).await.unwrap();
    tcp.write_all(&[0x10, 0xFF, 0xFF, 0xFF, 0xFF])
        .await
        .unwrap();
    read_to_close(&mut tcp).await;
    let m = event(&b, "MALFORMED", Dir::Conn, "").await;
    assert_eq!(m.detail["hex"], "10ffffffff");

    // A packet type 3.1.1 does not have, after a good CONNECT.
    let mut tcp = TcpStream::connect(b.addr()).await.unwrap();
    tcp.write_all(&connect_bytes(Version::V311, 60))
        .await
        .unwrap();
    tcp.write_all(&[0xF0, 0x00]).await.unwrap();
    read_to_close(&mut tcp).await;
    let m = b
        .wait_for(0, WAIT, |e| e.kind == "MALFORMED" && e.client_id == "raw")
        .await
        .unwrap();
    assert_eq!(m.detail["hex"], "f000");

    // A 5.0 SUBSCRIBE with no filter: DISCONNECT 0x81, then close.
    assert_eq!(
        disconnected_for(&b, &[0x82, 0x03, 0x00, 0x01, 0x00]).await,
        0x81
    );
    let m = b
        .wait_for(0, WAIT, |e| {
            e.kind == "MALFORMED" && e.version == Some(Version::V5)
        })
        .await
        .unwrap();
    assert_eq!(m.detail["hex"], "8203000100");

    // Still serving.
    connect(
        &addr(&b),
        Version::V5,
        "after",
        "usp/a",
        "usp/c",
        Duration::from_secs(30),
    )
    .await
    .unwrap();
}

/// A client silent for 1.5 times its keep alive is cut off (TP-469 11.7 watches the other
/// side: PINGREQ timing is in the log).
#[tokio::test]
async fn silent_clients_are_cut_off_after_one_and_a_half_keep_alives() {
    let b = broker().await;
    let mut tcp = TcpStream::connect(b.addr()).await.unwrap();
    tcp.write_all(&connect_bytes(Version::V5, 1)).await.unwrap();
    read_to_close(&mut tcp).await;
    let connect = event(&b, "CONNECT", Dir::In, "raw").await;
    let k = event(&b, "KEEPALIVE", Dir::Conn, "raw").await;
    let waited = k.at - connect.at;
    assert!(waited >= Duration::from_millis(1400), "{waited:?}");
    event(&b, "DISCONNECT", Dir::Out, "raw").await;
}

/// The Controller as a plain client of a broker (the vendor's mosquitto, here the embedded
/// one serving as an ordinary broker) exchanges records with an agent, on both versions.
#[tokio::test]
async fn the_external_broker_controller_link_works() {
    let b = broker().await;
    for version in [Version::V5, Version::V311] {
        let (mut ctrl, info) = connect_with(ClientConfig::controller(
            &addr(&b),
            version,
            &format!("ext-ctrl-{version}"),
            "usp/ext-ctrl",
            Some("usp/ext-agent"),
        ))
        .await
        .unwrap();
        assert_eq!(info.reply_to, "usp/ext-ctrl");
        let mut agent = connect(
            &addr(&b),
            version,
            &format!("ext-agent-{version}"),
            "usp/ext-agent",
            "usp/ext-ctrl",
            Duration::from_secs(30),
        )
        .await
        .unwrap();
        ctrl.sender.record(vec![1, 1]);
        assert_eq!(record(&mut agent).await, vec![1, 1]);
        agent.sender.record(vec![2, 2]);
        assert_eq!(record(&mut ctrl).await, vec![2, 2]);
        ctrl.sender.close(1000, "done");
        until(&mut ctrl, |k| matches!(k, MtpEventKind::Closed { .. })).await;
        event(&b, "DISCONNECT", Dir::In, &format!("ext-ctrl-{version}")).await;
        agent.sender.close(1000, "done");
    }
}

/// UNSUBSCRIBE is answered with the true 5.0 reason, or the scripted one.
#[tokio::test]
async fn unsubscribe_is_acknowledged() {
    use rumqttc::v5::{AsyncClient, MqttOptions};
    let b = broker().await;
    let (client, mut el) =
        AsyncClient::new(MqttOptions::new("unsub", "127.0.0.1", b.addr().port()), 10);
    let poll = tokio::spawn(async move { while el.poll().await.is_ok() {} });
    client
        .subscribe("a/b", rumqttc::v5::mqttbytes::QoS::AtLeastOnce)
        .await
        .unwrap();
    client.unsubscribe("a/b").await.unwrap();
    client.unsubscribe("a/b").await.unwrap();
    let first = event(&b, "UNSUBACK", Dir::Out, "unsub").await;
    assert_eq!(first.detail["reason_codes"][0]["code"], 0x00);
    let second = b
        .wait_for(first.seq + 1, WAIT, |e| e.kind == "UNSUBACK")
        .await
        .unwrap();
    assert_eq!(second.detail["reason_codes"][0]["code"], 0x11);
    poll.abort();
}

#[test]
fn topic_rules() {
    assert!(topic_matches("usp/+/agent", "usp/x/agent"));
    assert!(topic_matches("usp/#", "usp"));
    assert!(topic_matches("usp/#", "usp/a/reply-to=b"));
    assert!(!topic_matches("usp/+", "usp/a/b"));
    assert!(!topic_matches("#", "$SYS/x"));
    assert!(valid_filter("+/agent/#"));
    assert!(!valid_filter("a/#/b") && !valid_filter("a+") && !valid_filter(""));
    let t = with_reply_to("usp/agents/cid:3AA3F8:x", "usp/controllers/oui:00256D:y");
    assert_eq!(
        t,
        "usp/agents/cid:3AA3F8:x/reply-to=usp%2Fcontrollers%2Foui:00256D:y"
    );
    assert_eq!(
        split_reply_to(&t),
        (
            "usp/agents/cid:3AA3F8:x",
            Some("usp/controllers/oui:00256D:y".to_string())
        )
    );
    assert_eq!(split_reply_to("plain/topic"), ("plain/topic", None));
    assert!(covered("usp/a", &["usp/+".to_string()]));
}

/// TP-469 11.15: the embedded Controller's Content Type can be switched; the agent link
/// accepts both USP values silently (R-MQTT.27a) and notes a missing one (R-MQTT.27).
#[tokio::test]
async fn the_controller_content_type_is_scriptable() {
    let b = broker().await;
    let (ctrl, control) = b.controller_link(ControllerConfig::new(
        "usp/ctrl",
        Some("usp/agent-ct"),
        Version::V5,
    ));
    let mut agent = connect(
        &addr(&b),
        Version::V5,
        "agent-ct",
        "usp/agent-ct",
        "usp/ctrl",
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    control.set_content_type(Some(CONTENT_TYPE_MIME));
    ctrl.sender.record(vec![1]);
    assert_eq!(record(&mut agent).await, vec![1]);
    let p = event(&b, "PUBLISH", Dir::Out, "agent-ct").await;
    assert_eq!(p.detail["properties"]["content_type"], CONTENT_TYPE_MIME);
    control.set_content_type(None);
    ctrl.sender.record(vec![2]);
    let note = until(&mut agent, |k| matches!(k, MtpEventKind::Note(_))).await;
    assert!(
        matches!(&note, MtpEventKind::Note(n) if n.contains("R-MQTT.27)")),
        "{note:?}"
    );
    assert_eq!(record(&mut agent).await, vec![2]);
}

/// A CONNECT of MQTT 3.1 (MQIsdp, level 3) is logged as a CONNECT naming that version, for
/// the cases to judge (R-MQTT.1, R-MQTT.2), then refused with the 3.1.1 CONNACK 0x01.
#[tokio::test]
async fn a_connect_of_another_version_is_logged_as_one_and_refused() {
    let b = broker().await;
    let mut tcp = TcpStream::connect(b.addr()).await.unwrap();
    // CONNECT, remaining 16: "MQIsdp", level 3, flags 0x02, keep alive 60, client id "ab".
    let frame = b"\x10\x10\x00\x06MQIsdp\x03\x02\x00\x3c\x00\x02ab";
    tcp.write_all(frame).await.unwrap();
    let got = read_to_close(&mut tcp).await;
    assert_eq!(got, [0x20, 0x02, 0x00, 0x01]);
    let c = event(&b, "CONNECT", Dir::In, "").await;
    assert_eq!(c.version, None);
    assert_eq!(c.detail["version"], "MQIsdp level 3");
}

/// A client that never finishes its CONNECT is not buffered past MAX_CONNECT: the broker
/// logs it and closes the connection.
#[tokio::test]
async fn a_connect_that_never_ends_is_cut_off() {
    let b = broker().await;
    let mut tcp = TcpStream::connect(b.addr()).await.unwrap();
    // CONNECT announcing 1 MiB (remaining length 0x80 0x80 0x40), then 100 KiB of it.
    let mut bytes = vec![0x10, 0x80, 0x80, 0x40];
    bytes.extend(std::iter::repeat_n(0u8, 100 * 1024));
    let _ = tcp.write_all(&bytes).await;
    read_to_close(&mut tcp).await;
    let m = event(&b, "MALFORMED", Dir::Conn, "").await;
    assert!(
        m.detail["message"]
            .as_str()
            .unwrap()
            .contains("before a whole CONNECT"),
        "{m:?}"
    );
}

/// The broker's log is bounded: past MAX_EVENTS the oldest events are forgotten, the rest
/// keep their sequence numbers, and reading from a forgotten one starts at the oldest held.
#[tokio::test]
async fn the_log_forgets_its_oldest_events_past_its_bound() {
    use super::broker::MAX_EVENTS;
    let b = broker().await;
    let h = b.handle();
    let total = MAX_EVENTS + 10;
    for n in 0..total {
        h.0.log_conn(9, "flooder", None, "KEEPALIVE", format!("event {n}"));
    }
    let end = h.log_len();
    let held = h.events_from(0);
    assert!(held.len() <= MAX_EVENTS, "{} held", held.len());
    assert_eq!(held.last().unwrap().seq, end - 1);
    assert!(held.windows(2).all(|w| w[1].seq == w[0].seq + 1));
    assert_eq!(h.events_from(end - 3).len(), 3);
}

/// A packet over the Maximum Packet Size the 5.0 CONNACK states: the broker logs the length
/// it declared (the universal rules judge it: R-MQTT.1) and disconnects with 0x95 (Packet
/// too large), without buffering it.
#[tokio::test]
async fn a_packet_over_the_maximum_size_is_logged_and_refused() {
    let b = broker().await;
    assert_eq!(
        disconnected_for(&b, &super::wire::publish_over_max()).await,
        0x95
    );
    let m = b
        .wait_for(0, WAIT, |e| e.kind == "MALFORMED" && e.client_id == "raw")
        .await
        .unwrap();
    assert_eq!(
        m.detail["over_maximum_packet_size"],
        json!(max_packet() + 1)
    );
    let v = crate::run::mqtt::universal(&m, "os::x");
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].requirement, "R-MQTT.1");
    assert!(v[0].text.contains("MQTT-3.2.2-15"), "{}", v[0].text);
}

/// A client that floods the Controller while the harness reads nothing is held back by its
/// own socket: the broker waits on the in-process Controller's bounded queues instead of
/// reading on and buffering (docs/limits.md). However long the flood is given, the broker
/// reads no more of it than those queues hold; once the Controller reads, the records come.
#[tokio::test]
async fn a_flood_to_the_controller_is_held_back_not_buffered() {
    use rumqttc::v5::mqttbytes::{QoS, v5};
    let b = broker().await;
    let (mut ctrl, _) = b.controller_link(ControllerConfig::new(
        "usp/ctrl",
        Some("usp/agent"),
        Version::V5,
    ));
    until(&mut ctrl, |k| matches!(k, MtpEventKind::Connected { .. })).await;
    let mut tcp = TcpStream::connect(b.addr()).await.unwrap();
    tcp.write_all(&connect_bytes(Version::V5, 60))
        .await
        .unwrap();
    let one = wire::encode(&wire::Packet::V5(v5::Packet::Publish(v5::Publish::new(
        "usp/ctrl",
        QoS::AtMostOnce,
        vec![7u8; 1024],
        None,
    ))))
    .unwrap();
    const SENT: usize = 65_536;
    let flood: Vec<u8> = one.iter().copied().cycle().take(one.len() * SENT).collect();
    // 64 MiB: far more than the queues and both sockets' buffers hold, so the write stalls.
    let (mut rd, mut wr) = tcp.into_split();
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(&flood).await;
        wr
    });
    let _ = tokio::time::timeout(Duration::from_secs(3), async {
        let mut sink = [0u8; 1024];
        while rd.read(&mut sink).await.is_ok_and(|n| n > 0) {}
    })
    .await;
    let read = b
        .events()
        .iter()
        .filter(|e| e.kind == "PUBLISH" && e.dir == Dir::In && e.client_id == "raw")
        .count();
    let bound = crate::mtp::EVENT_QUEUE + super::broker::CONN_QUEUE + 8;
    assert!(
        read <= bound,
        "the broker read {read} PUBLISHes, over {bound}"
    );
    assert!(!writer.is_finished(), "all {SENT} PUBLISHes were taken");
    assert_eq!(record(&mut ctrl).await, vec![7u8; 1024]);
    writer.abort();
}

/// Big events are bounded by their weight too: a flood of big PUBLISHes leaves the log
/// within its byte bound, newest kept, sequence numbers unbroken.
#[tokio::test]
async fn the_log_forgets_its_oldest_events_past_its_byte_bound() {
    use super::broker::MAX_LOG_BYTES;
    let b = broker().await;
    let h = b.handle();
    let payload = "ab".repeat(50_000);
    for n in 0..(2 * MAX_LOG_BYTES / payload.len()) {
        h.0.log(
            9,
            "flooder",
            Some(Version::V5),
            Dir::In,
            describe::Described {
                kind: "PUBLISH",
                detail: json!({ "n": n, "payload_hex": payload }),
            },
        );
    }
    let held = h.events_from(0);
    let bytes: usize = held
        .iter()
        .map(|e| e.detail["payload_hex"].as_str().map_or(0, str::len))
        .sum();
    assert!(bytes <= MAX_LOG_BYTES, "{bytes} bytes of payload held");
    assert!(held.len() > 10, "only {} held", held.len());
    assert!(held.windows(2).all(|w| w[1].seq == w[0].seq + 1));
    assert_eq!(held.last().unwrap().seq, h.log_len() - 1);
}
