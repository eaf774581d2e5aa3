//! The broker's TLS listener (TP-469 11.3) against TLS clients of both MQTT versions, a
//! plaintext client, a TLS 1.1 client and clients that do not trust its certificate. All on
//! 127.0.0.1 with OS-chosen ports; every wait is bounded and awaits an event, never a sleep.

use std::sync::Arc;
use std::time::Duration;

use rumqttc::mqttbytes::v4;
use rumqttc::v5::mqttbytes::v5;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::wire::{self, Packet};
use super::*;
use crate::mtp::{Link, MtpEventKind, tls};
use crate::pki::{self, Broken, Ca, ClientAuth};

const WAIT: Duration = Duration::from_secs(5);
const AGENT_EID: &str = "proto::tls-agent";

/// A broker with a TLS listener presenting `server` (verifying optional client
/// certificates against `ca`).
async fn tls_broker(ca: &Ca, server: &pki::Identity) -> Broker {
    let b = Broker::start("127.0.0.1:0").await.unwrap();
    let config = pki::server_config(server, ca, ClientAuth::Optional).unwrap();
    let at = b.listen_tls("127.0.0.1:0", config).await.unwrap();
    assert_eq!(b.tls_addr(), Some(at));
    assert_ne!(at, b.addr());
    b
}

fn agent_config(
    b: &Broker,
    version: Version,
    client_id: &str,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> ClientConfig {
    let mut c = ClientConfig::agent(
        &b.tls_addr().unwrap().to_string(),
        version,
        client_id,
        "usp/agent",
        "usp/ctrl",
        Duration::from_secs(30),
    );
    c.tls = tls;
    c.endpoint_id = Some(AGENT_EID.into());
    c.timeout = WAIT;
    c
}

async fn event(b: &Broker, what: &str, pred: impl Fn(&BrokerEvent) -> bool) -> BrokerEvent {
    b.wait_for(0, WAIT, pred)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}\n{:#?}", b.events()))
}

async fn until(link: &mut Link, pred: impl Fn(&MtpEventKind) -> bool) -> MtpEventKind {
    tokio::time::timeout(WAIT, async {
        loop {
            let ev = link.events.recv().await.expect("the link ended");
            if pred(&ev.kind) {
                return ev.kind;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no such event on {} within {WAIT:?}", link.describe))
}

/// An agent over TLS (5.0 or 3.1.1, TLS 1.3 or 1.2) connects, exchanges records with the
/// in-process Controller, and the log says which TLS version and cipher it used.
async fn agent_over_tls(
    version: Version,
    tls_versions: &[&'static rustls::SupportedProtocolVersion],
) {
    let ca = Ca::new("broker test CA").unwrap();
    let b = tls_broker(&ca, &ca.local_server().unwrap()).await;
    let (mut ctrl, _) = b.controller_link(ControllerConfig::new(
        "usp/ctrl",
        Some("usp/agent"),
        version,
    ));
    let id = ca.endpoint(AGENT_EID).unwrap();
    let client = Arc::new(
        rustls::ClientConfig::builder_with_provider(pki::provider())
            .with_protocol_versions(tls_versions)
            .unwrap()
            .with_root_certificates(ca.roots())
            .with_client_auth_cert(id.chain.clone(), id.key())
            .unwrap(),
    );
    let (mut agent, info) = connect_with(agent_config(&b, version, "tls-agent", Some(client)))
        .await
        .unwrap();
    assert_eq!(info.version, version);
    until(&mut ctrl, |k| matches!(k, MtpEventKind::Connected { .. })).await;
    assert!(agent.sender.record(vec![7, 8, 9]));
    let got = until(&mut ctrl, |k| matches!(k, MtpEventKind::Record(_))).await;
    assert_eq!(got, MtpEventKind::Record(vec![7, 8, 9].into()));
    assert!(ctrl.sender.record(vec![1]));
    let got = until(&mut agent, |k| matches!(k, MtpEventKind::Record(_))).await;
    assert_eq!(got, MtpEventKind::Record(vec![1].into()));

    let expect = if tls_versions.contains(&&rustls::version::TLS13) {
        "1.3"
    } else {
        "1.2"
    };
    let hs = event(&b, "TLS event", |e| e.kind == "TLS").await;
    assert_eq!(hs.dir, Dir::Conn);
    assert_eq!(hs.detail["tls"]["version"], expect, "{hs:#?}");
    assert!(
        hs.detail["tls"]["cipher"]
            .as_str()
            .is_some_and(|c| c.starts_with("TLS"))
    );
    assert_eq!(
        hs.detail["tls"]["peer_certificate"]["endpoint_ids"],
        serde_json::json!([AGENT_EID])
    );
    assert!(
        hs.packet.contains(&format!("TLS {expect} TLS")),
        "{}",
        hs.packet
    );
    let connect = event(&b, "CONNECT", |e| {
        e.kind == "CONNECT" && e.client_id == "tls-agent"
    })
    .await;
    assert_eq!(
        connect.conn, hs.conn,
        "the handshake and the CONNECT share a connection"
    );
    assert_eq!(connect.detail["tls"]["version"], expect);
    let accept = b
        .events()
        .into_iter()
        .find(|e| e.kind == "ACCEPT" && e.conn == hs.conn);
    assert_eq!(accept.unwrap().detail["listener"], "tls");
    let client = b
        .clients()
        .into_iter()
        .find(|c| c.client_id == "tls-agent")
        .unwrap();
    assert_eq!(client.tls.map(|t| t.version), Some(expect.to_string()));
    assert!(
        b.events()
            .iter()
            .all(|e| e.kind != "PLAINTEXT" && e.kind != "TLS_FAILED"),
        "{:#?}",
        b.events()
    );
}

#[tokio::test]
async fn a_5_0_agent_over_tls_1_3_is_served_and_logged() {
    agent_over_tls(Version::V5, pki::VERSIONS).await;
}

#[tokio::test]
async fn a_3_1_1_agent_over_tls_1_2_is_served_and_logged() {
    agent_over_tls(Version::V311, &[&rustls::version::TLS12]).await;
}

fn raw_connect(version: Version, client_id: &str) -> Vec<u8> {
    let p = match version {
        Version::V311 => {
            let mut c = v4::Connect::new(client_id);
            c.keep_alive = 30;
            Packet::V4(v4::Packet::Connect(c))
        }
        Version::V5 => Packet::V5(v5::Packet::Connect(
            v5::Connect {
                keep_alive: 30,
                client_id: client_id.into(),
                clean_start: true,
                properties: None,
            },
            None,
            None,
        )),
    };
    wire::encode(&p).unwrap()
}

/// Reads until the peer closes (or [`WAIT`]): everything it sent.
async fn read_to_end(s: &mut (impl AsyncReadExt + Unpin)) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(WAIT, s.read_to_end(&mut out)).await;
    out
}

#[tokio::test]
async fn plaintext_mqtt_on_the_tls_port_is_logged_with_its_connect_and_closed() {
    let ca = Ca::new("broker test CA").unwrap();
    let b = tls_broker(&ca, &ca.local_server().unwrap()).await;

    // A raw 3.1.1 CONNECT: the broker logs it decoded, answers nothing, closes.
    let mut tcp = TcpStream::connect(b.tls_addr().unwrap()).await.unwrap();
    tcp.write_all(&raw_connect(Version::V311, "plain-raw"))
        .await
        .unwrap();
    assert_eq!(read_to_end(&mut tcp).await, Vec::<u8>::new(), "no CONNACK");
    let ev = event(&b, "PLAINTEXT", |e| e.kind == "PLAINTEXT").await;
    assert_eq!(ev.client_id, "plain-raw");
    assert_eq!(ev.version, Some(Version::V311));
    assert_eq!(ev.detail["packet"], "CONNECT");
    assert!(
        ev.packet.contains("plaintext MQTT 3.1.1 CONNECT"),
        "{}",
        ev.packet
    );
    assert!(ev.detail["bytes_hex"].as_str().unwrap().starts_with("10"));

    // A rumqttc 5.0 agent configured without TLS (what `mqtt-no-tls` does): refused too.
    let from = b.log_len();
    let r = connect_with(agent_config(&b, Version::V5, "plain-agent", None)).await;
    assert!(r.is_err(), "a plaintext client got in");
    let ev = b
        .wait_for(from, WAIT, |e| e.kind == "PLAINTEXT")
        .await
        .unwrap();
    assert_eq!(ev.client_id, "plain-agent");
    assert_eq!(ev.version, Some(Version::V5));
    assert_eq!(
        ev.detail["packet_fields"]["properties"]["user_properties"][0][1], AGENT_EID,
        "{ev:#?}"
    );
    assert!(
        b.events()
            .iter()
            .all(|e| !matches!(e.kind.as_str(), "CONNECT" | "CONNACK" | "TLS")),
        "{:#?}",
        b.events()
    );
    assert!(b.clients().iter().all(|c| c.peer == "in-process"));

    // Bytes that are neither TLS nor MQTT are reported as such.
    let mut tcp = TcpStream::connect(b.tls_addr().unwrap()).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    read_to_end(&mut tcp).await;
    let ev = b
        .wait_for(0, WAIT, |e| e.kind == "PLAINTEXT" && e.client_id.is_empty())
        .await
        .unwrap();
    assert!(ev.packet.contains("not a TLS handshake"), "{}", ev.packet);
}

/// A ClientHello that offers TLS 1.1 only: `client_version` 3.2 and no supported_versions
/// extension, otherwise acceptable to a TLS 1.2 server (ECDHE-ECDSA-AES128-GCM among its
/// suites, signature algorithms, groups), so only the version can fail it.
fn tls_1_1_client_hello() -> Vec<u8> {
    fn ext(kind: u16, data: &[u8]) -> Vec<u8> {
        let mut e = kind.to_be_bytes().to_vec();
        e.extend((data.len() as u16).to_be_bytes());
        e.extend(data);
        e
    }
    let mut body = vec![0x03, 0x02];
    body.extend([0x42; 32]);
    body.push(0); // no session id
    body.extend([0x00, 0x06, 0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0x2f]);
    body.extend([0x01, 0x00]); // null compression
    let mut exts = ext(0x000d, &[0x00, 0x04, 0x04, 0x03, 0x08, 0x04]); // signature algorithms
    exts.extend(ext(0x000a, &[0x00, 0x04, 0x00, 0x1d, 0x00, 0x17])); // x25519, P-256
    exts.extend(ext(0x000b, &[0x01, 0x00])); // uncompressed points
    body.extend((exts.len() as u16).to_be_bytes());
    body.extend(exts);
    let mut hs = vec![0x01, 0, 0, body.len() as u8];
    hs.extend(body);
    let mut rec = vec![0x16, 0x03, 0x01, 0, hs.len() as u8];
    rec.extend(hs);
    rec
}

#[tokio::test]
async fn a_client_offering_only_tls_1_1_is_refused_and_logged() {
    let ca = Ca::new("broker test CA").unwrap();
    let b = tls_broker(&ca, &ca.local_server().unwrap()).await;
    let mut tcp = TcpStream::connect(b.tls_addr().unwrap()).await.unwrap();
    tcp.write_all(&tls_1_1_client_hello()).await.unwrap();
    let answer = read_to_end(&mut tcp).await;
    // A fatal alert record (0x15), protocol_version (70).
    assert_eq!(answer.first(), Some(&0x15), "{answer:02x?}");
    assert_eq!(answer.get(6), Some(&70), "{answer:02x?}");
    let ev = event(&b, "TLS_FAILED", |e| e.kind == "TLS_FAILED").await;
    assert!(
        ev.packet.contains("no TLS version from 1.2 up"),
        "{}",
        ev.packet
    );
    assert!(b.events().iter().all(|e| e.kind != "TLS"));
}

#[tokio::test]
async fn an_agent_refuses_a_broker_certificate_it_cannot_trust() {
    let ca = Ca::new("broker test CA").unwrap();
    let client = pki::client_config(&ca, None).unwrap();
    for (how, says) in [
        (Broken::Expired, "expired"),
        (Broken::WrongName, "not valid for name"),
        (Broken::UntrustedCa, "UnknownIssuer"),
    ] {
        let b = tls_broker(&ca, &ca.broken_server(how, pki::LOCAL_NAMES).unwrap()).await;
        let r = connect_with(agent_config(
            &b,
            Version::V5,
            "careful",
            Some(client.clone()),
        ))
        .await;
        let err = r
            .err()
            .unwrap_or_else(|| panic!("{how:?}: the agent connected"));
        assert!(err.contains(says), "{how:?}: {err}");
        // The agent's alert reaches the broker's log.
        let ev = event(&b, "TLS_FAILED", |e| e.kind == "TLS_FAILED").await;
        assert!(
            ev.packet.contains("TLS handshake failed"),
            "{how:?}: {}",
            ev.packet
        );
        assert!(b.events().iter().all(|e| e.kind != "CONNECT"));
    }
}

#[tokio::test]
async fn the_dial_helper_speaks_mqtt_over_tls_to_the_broker() {
    let ca = Ca::new("broker test CA").unwrap();
    let b = tls_broker(&ca, &ca.local_server().unwrap()).await;
    let client = pki::client_config(&ca, None).unwrap();
    let addr = format!("localhost:{}", b.tls_addr().unwrap().port());
    let (mut s, info) = tls::dial(&addr, Some(&client), WAIT).await.unwrap();
    assert_eq!(info.unwrap().version, "1.3");
    s.write_all(&raw_connect(Version::V5, "dialled"))
        .await
        .unwrap();
    let mut buf = bytes::BytesMut::new();
    let frame = tokio::time::timeout(WAIT, async {
        loop {
            if let Some(f) = wire::next_frame(&mut buf).unwrap() {
                return f;
            }
            assert!(s.read_buf(&mut buf).await.unwrap() > 0, "closed");
        }
    })
    .await
    .unwrap();
    assert_eq!(wire::packet_type(&frame), 2, "a CONNACK");
    let hs = event(&b, "TLS", |e| e.kind == "TLS").await;
    assert_eq!(hs.detail["tls"]["sni"], "localhost");
    assert_eq!(
        hs.detail["tls"]["peer_certificate"],
        serde_json::Value::Null
    );
}

#[tokio::test]
async fn the_tls_listener_follows_the_broker_down_and_up() {
    let ca = Ca::new("broker test CA").unwrap();
    let b = tls_broker(&ca, &ca.local_server().unwrap()).await;
    let at = b.tls_addr().unwrap();
    let from = b.log_len();
    b.go_down(Refusal::Unreachable);
    // Both listeners (TCP and TLS) stop before the broker comes up again.
    let stopped = |e: &BrokerEvent| e.kind == "LISTEN" && e.packet.contains("stopped");
    let first = event(&b, "a listener stops", |e| e.seq >= from && stopped(e)).await;
    event(&b, "the other listener stops", |e| {
        e.seq > first.seq && stopped(e)
    })
    .await;
    let from = b.log_len();
    b.come_up();
    let again = format!("listening again on {at}");
    b.wait_for(from, WAIT, |e| {
        e.kind == "LISTEN" && e.packet.contains(&again)
    })
    .await
    .unwrap();
    let client = pki::client_config(&ca, None).unwrap();
    let r = connect_with(agent_config(&b, Version::V5, "back", Some(client))).await;
    assert!(r.is_ok(), "{:?}", r.err());
}
