//! One client connection to the embedded broker: the CONNECT/CONNACK handshake as scripted,
//! then packets both ways until either side ends it. Everything read or written is logged
//! first; bytes that do not decode are logged in hex and end the connection (5.0: after
//! DISCONNECT 0x81), never the broker.
//!
//! On the TLS listener the handshake comes first ([`secure`]): its outcome is logged (`TLS`
//! with the version and cipher, or `TLS_FAILED`), and a client whose first byte is not a TLS
//! handshake record is sending MQTT in plaintext: that is logged as `PLAINTEXT` with the
//! CONNECT decoded, and the connection is closed (TP-469 11.3 metric 1).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use rumqttc::mqttbytes::{QoS, v4};
use rumqttc::v5::mqttbytes::{QoS as V5QoS, v5};
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::broker::{Dir, Inner, Message, Refusal, Script, ToConn};
use super::describe::Described;
use super::wire::{self, Packet};
use super::{Version, codes, max_packet, valid_filter, valid_topic};
use crate::mtp::tls::{self, TlsInfo};

/// The read half of a connection, plain or TLS.
type Rd = Box<dyn AsyncRead + Send + Unpin>;
/// The write half of a connection, plain or TLS.
type Wr = Box<dyn AsyncWrite + Send + Unpin>;

/// Serves one TCP connection until it ends; with a TLS configuration, after a successful
/// handshake only.
pub(crate) async fn serve(
    inner: Arc<Inner>,
    tcp: TcpStream,
    peer: SocketAddr,
    tls: Option<Arc<rustls::ServerConfig>>,
) {
    let _ = tcp.set_nodelay(true);
    let conn = inner.new_conn();
    match tls {
        None => inner.log_conn(
            conn,
            "",
            None,
            "ACCEPT",
            format!("TCP connection from {peer}"),
        ),
        Some(_) => inner.log_conn_detail(
            conn,
            "",
            None,
            "ACCEPT",
            json!({ "message": format!("TCP connection from {peer} to the TLS listener"), "listener": "tls" }),
        ),
    }
    let script = inner.script();
    if script.down == Some(Refusal::Close) {
        inner.log_conn(
            conn,
            "",
            None,
            "REFUSED",
            "broker down: the TCP connection is closed at once".into(),
        );
        let mut tcp = tcp;
        let _ = tcp.shutdown().await;
        return;
    }
    let mut shutdown = inner.shutdown.subscribe();
    let (rd, wr, tls): (Rd, Wr, Option<TlsInfo>) = match tls {
        None => {
            let (rd, wr) = tcp.into_split();
            (Box::new(rd), Box::new(wr), None)
        }
        Some(config) => {
            let secured = tokio::select! {
                s = secure(&inner, conn, tcp, peer, config, script.connect_wait) => s,
                _ = shutdown.changed() => return,
            };
            let Some((stream, info)) = secured else {
                return;
            };
            let (rd, wr) = tokio::io::split(stream);
            (Box::new(rd), Box::new(wr), Some(info))
        }
    };
    let mut c = Conn {
        inner,
        conn,
        peer,
        client_id: String::new(),
        version: None,
        tls,
        wr,
        next_pkid: 0,
        aliases: Default::default(),
    };
    let mut buf = BytesMut::with_capacity(4096);
    let mut rd = rd;
    let first = tokio::select! {
        f = tokio::time::timeout(script.connect_wait, first_frame(&mut rd, &mut buf)) => f,
        _ = shutdown.changed() => return,
    };
    let frame = match first {
        Ok(Ok(f)) => f,
        Ok(Err(e)) => {
            c.malformed(&e.0, &e.1);
            return;
        }
        Err(_) => {
            c.closed(format!(
                "no CONNECT within {}",
                crate::human::duration(script.connect_wait)
            ));
            return;
        }
    };
    let Some((version, keep_alive)) = c.handshake(&frame, &script).await else {
        let _ = c.wr.shutdown().await;
        return;
    };
    let (tx, rx) = super::broker::conn_queue();
    c.inner.register(
        conn,
        &c.client_id,
        version,
        peer.to_string(),
        c.tls.clone(),
        tx,
    );
    let effective = match (version, script.server_keep_alive) {
        (Version::V5, Some(k)) => k,
        _ => keep_alive,
    };
    let limit = (script.enforce_keep_alive && effective > 0)
        .then(|| Duration::from_millis(effective as u64 * 1500));
    c.run(rd, buf, rx, shutdown, limit).await;
    c.inner.unregister(conn);
    let _ = c.wr.shutdown().await;
}

/// The TLS listener's side of a new connection: tells a TLS ClientHello from plaintext by
/// the first byte, runs the handshake, and logs what happened. `None` when the connection
/// is over (plaintext, a failed handshake, silence for `wait`).
async fn secure(
    inner: &Inner,
    conn: u64,
    tcp: TcpStream,
    peer: SocketAddr,
    config: Arc<rustls::ServerConfig>,
    wait: Duration,
) -> Option<(tls::BoxStream, TlsInfo)> {
    let closed = |why: String| inner.log_conn(conn, "", None, "CLOSED", why);
    let mut first = [0u8; 1];
    match tokio::time::timeout(wait, tcp.peek(&mut first)).await {
        Err(_) => {
            closed(format!(
                "no TLS ClientHello within {}",
                crate::human::duration(wait)
            ));
            return None;
        }
        Ok(Err(e)) => {
            closed(format!("read failed: {e}"));
            return None;
        }
        Ok(Ok(0)) => {
            closed("the client closed the TCP connection before any TLS ClientHello".into());
            return None;
        }
        Ok(Ok(_)) if !tls::looks_like_tls(first[0]) => {
            plaintext(inner, conn, tcp, peer, wait).await;
            return None;
        }
        Ok(Ok(_)) => {}
    }
    match tokio::time::timeout(wait, tls::accept(tcp, config)).await {
        Ok(Ok((stream, info))) => {
            // `tls` as on the CONNECT that follows, so a case matches both the same way.
            let detail = json!({
                "message": format!("{} with {peer}", info.label()),
                "tls": info,
            });
            inner.log(
                conn,
                "",
                None,
                Dir::Conn,
                Described {
                    kind: "TLS",
                    detail,
                },
            );
            Some((stream, info))
        }
        Ok(Err(e)) => {
            inner.log_conn(
                conn,
                "",
                None,
                "TLS_FAILED",
                format!("TLS handshake failed: {e}"),
            );
            None
        }
        Err(_) => {
            inner.log_conn(
                conn,
                "",
                None,
                "TLS_FAILED",
                format!(
                    "the TLS handshake did not finish within {}",
                    crate::human::duration(wait)
                ),
            );
            None
        }
    }
}

/// How many of a plaintext client's bytes the log keeps.
const PLAINTEXT_KEPT: usize = 4096;

/// A client sent something other than a TLS handshake to the TLS listener: reads what it
/// sends (up to one whole packet, at most `wait`), logs it as `PLAINTEXT` with the CONNECT
/// decoded when it is one, and closes the connection without answering.
async fn plaintext(inner: &Inner, conn: u64, tcp: TcpStream, peer: SocketAddr, wait: Duration) {
    let (mut rd, mut wr) = tcp.into_split();
    let mut buf = BytesMut::with_capacity(1024);
    let deadline = Instant::now() + wait;
    let frame = loop {
        match wire::next_frame(&mut buf) {
            Ok(Some(f)) => break Some(f),
            // Only a CONNECT (0x10) is worth waiting for whole; other bytes are shown as
            // they came.
            Ok(None) if buf.first().is_none_or(|b| *b == 0x10) && buf.len() < PLAINTEXT_KEPT => {}
            _ => break None,
        }
        match tokio::time::timeout_at(deadline, rd.read_buf(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => break None,
        }
    };
    let bytes = frame.as_deref().unwrap_or(&buf[..]);
    let kept = &bytes[..bytes.len().min(PLAINTEXT_KEPT)];
    let decoded = frame.as_ref().and_then(|f| {
        let v = wire::connect_version(f).ok()?;
        Some((v, wire::decode(v, f).ok()?))
    });
    let mut detail = json!({
        "bytes_hex": hex::encode(kept),
        "len": bytes.len(),
        "peer": peer.to_string(),
    });
    let (client_id, version) = match &decoded {
        Some((v, p)) => {
            let d = match p {
                Packet::V5(p) => super::describe::v5(p),
                Packet::V4(p) => super::describe::v4(p),
            };
            let id = match p {
                Packet::V5(rumqttc::v5::mqttbytes::v5::Packet::Connect(c, ..)) => {
                    c.client_id.clone()
                }
                Packet::V4(v4::Packet::Connect(c)) => c.client_id.clone(),
                _ => String::new(),
            };
            detail["message"] = json!(format!(
                "plaintext MQTT {} {} (ClientId {id:?}) sent to the TLS listener; the connection is closed unanswered",
                v.label(),
                d.kind
            ));
            detail["packet"] = json!(d.kind);
            detail["packet_fields"] = d.detail;
            (id, Some(*v))
        }
        None => {
            detail["message"] = json!(format!(
                "{} bytes that are not a TLS handshake sent to the TLS listener (first byte {:#04x}); the connection is closed unanswered",
                bytes.len(),
                bytes.first().copied().unwrap_or_default()
            ));
            (String::new(), None)
        }
    };
    inner.log(
        conn,
        &client_id,
        version,
        Dir::Conn,
        Described {
            kind: "PLAINTEXT",
            detail,
        },
    );
    let _ = wr.shutdown().await;
}

/// The largest CONNECT the broker reads: a client is not buffered further before it is in.
pub const MAX_CONNECT: usize = 64 * 1024;

/// Reads until one whole packet is buffered. The error carries a message and the bytes.
async fn first_frame(rd: &mut Rd, buf: &mut BytesMut) -> Result<Bytes, (String, Vec<u8>)> {
    loop {
        match wire::next_frame(buf) {
            Ok(Some(f)) => return Ok(f),
            Ok(None) if buf.len() > MAX_CONNECT => {
                return Err((
                    format!("more than {MAX_CONNECT} bytes before a whole CONNECT"),
                    buf[..64].to_vec(),
                ));
            }
            Ok(None) => {}
            Err(e) => return Err((e, buf.to_vec())),
        }
        match rd.read_buf(buf).await {
            Ok(0) => {
                return Err((
                    "the connection ended before a whole CONNECT".into(),
                    buf.to_vec(),
                ));
            }
            Ok(_) => {}
            Err(e) => return Err((format!("read failed: {e}"), buf.to_vec())),
        }
    }
}

/// Whether the connection goes on after a packet.
enum Flow {
    Go,
    Stop,
}

struct Conn {
    inner: Arc<Inner>,
    conn: u64,
    peer: SocketAddr,
    client_id: String,
    version: Option<Version>,
    /// What the TLS handshake negotiated; `None` on the plain TCP listener.
    tls: Option<TlsInfo>,
    wr: Wr,
    next_pkid: u16,
    /// 5.0 Topic Aliases the client set.
    aliases: std::collections::HashMap<u16, String>,
}

impl Conn {
    fn malformed(&self, error: &str, bytes: &[u8]) {
        self.inner.log_conn_detail(
            self.conn,
            &self.client_id,
            self.version,
            "MALFORMED",
            json!({ "message": error, "hex": crate::clip::hex(bytes), "len": bytes.len() }),
        );
    }

    /// A packet longer than the Maximum Packet Size (the broker's 5.0 CONNACK states it):
    /// logged as MALFORMED with the length it declared, which the universal rules judge.
    fn too_large(&self, declared: usize, bytes: &[u8]) {
        self.inner.log_conn_detail(
            self.conn,
            &self.client_id,
            self.version,
            "MALFORMED",
            json!({
                "message": format!("a packet of {declared} bytes, over the Maximum Packet Size {}", max_packet()),
                "over_maximum_packet_size": declared,
                "hex": crate::clip::hex(&bytes[..bytes.len().min(64)]),
            }),
        );
    }

    fn closed(&self, why: String) {
        self.inner
            .log_conn(self.conn, &self.client_id, self.version, "CLOSED", why);
    }

    /// Encodes, logs and writes a packet; false when the write failed.
    async fn send(&mut self, p: Packet) -> bool {
        let bytes = match wire::encode(&p) {
            Ok(b) => b,
            Err(e) => {
                self.inner.log_conn(
                    self.conn,
                    &self.client_id,
                    self.version,
                    "MALFORMED",
                    format!("the broker could not encode its own packet: {e}"),
                );
                return false;
            }
        };
        let v = self.version.unwrap_or(Version::V311);
        self.inner
            .log_packet(self.conn, &self.client_id, v, Dir::Out, &p, None);
        self.wr.write_all(&bytes).await.is_ok()
    }

    /// 5.0: DISCONNECT with a reason code; 3.1.1 has none, so that is logged instead.
    async fn disconnect(&mut self, code: u8, reason: Option<String>) {
        match self.version {
            Some(Version::V5) => {
                self.send(Packet::V5(wire::disconnect_v5(code, reason)))
                    .await;
            }
            _ => self.closed(format!(
                "closing the connection (3.1.1 has no server DISCONNECT; 5.0 reason would be {code:#04x})"
            )),
        }
    }

    /// Reads the CONNECT and answers it as scripted. Returns the version and the client's
    /// keep alive when the client is in.
    async fn handshake(&mut self, frame: &Bytes, script: &Script) -> Option<(Version, u16)> {
        let version = match wire::connect_version(frame) {
            Ok(v) => v,
            Err((Some((name, level)), e)) => {
                // A CONNECT all the same, of a version TR-369 does not allow (R-MQTT.1,
                // R-MQTT.2): logged as one, its version named, for the cases to judge.
                let detail = json!({
                    "version": format!("{name} level {level}"),
                    "message": e,
                    "hex": crate::clip::hex(frame),
                    "len": frame.len(),
                });
                let connect = Described {
                    kind: "CONNECT",
                    detail,
                };
                self.inner
                    .log(self.conn, &self.client_id, None, Dir::In, connect);
                // MQTT 5.0 §3.1.2.2: answer an unsupported level with the 3.1.1 CONNACK 0x01.
                let p = Packet::V4(v4::Packet::ConnAck(v4::ConnAck::new(
                    v4::ConnectReturnCode::RefusedProtocolVersion,
                    false,
                )));
                self.send(p).await;
                self.closed(format!("protocol level {level} refused"));
                return None;
            }
            Err((None, e)) => {
                self.malformed(&e, frame);
                return None;
            }
        };
        self.version = Some(version);
        let packet = match wire::decode(version, frame) {
            Ok(p) => p,
            Err(e) => {
                self.malformed(&format!("a CONNECT that does not decode: {e}"), frame);
                return None;
            }
        };
        let (client_id, keep_alive, login, clean, wants_info, auth) = match &packet {
            Packet::V5(v5::Packet::Connect(c, _, login)) => (
                c.client_id.clone(),
                c.keep_alive,
                login
                    .as_ref()
                    .map(|l| (l.username.clone(), l.password.clone())),
                c.clean_start,
                c.properties
                    .as_ref()
                    .and_then(|p| p.request_response_info)
                    .unwrap_or(0)
                    == 1,
                c.properties
                    .as_ref()
                    .and_then(|p| p.authentication_method.clone()),
            ),
            Packet::V4(v4::Packet::Connect(c)) => (
                c.client_id.clone(),
                c.keep_alive,
                c.login
                    .as_ref()
                    .map(|l| (l.username.clone(), l.password.clone())),
                c.clean_session,
                false,
                None,
            ),
            _ => return None,
        };
        self.client_id = client_id.clone();
        let tls = self.tls.as_ref().map(|t| ("tls", json!(t)));
        self.inner.log_packet_with(
            self.conn,
            &client_id,
            version,
            Dir::In,
            &packet,
            [("peer", json!(self.peer.to_string()))]
                .into_iter()
                .chain(tls),
        );
        let mut refuse: Option<u8> = match script.down {
            Some(Refusal::Connack(code)) => Some(code),
            _ => None,
        };
        if refuse.is_none() && auth.is_some() {
            refuse = Some(0x8C);
        }
        if refuse.is_none()
            && let Some(expected) = &script.credentials
            && login.as_ref() != Some(expected)
        {
            refuse = Some(0x86);
        }
        let mut assigned = None;
        if refuse.is_none() && client_id.is_empty() {
            match (version, clean) {
                (Version::V311, false) => refuse = Some(0x85),
                _ => {
                    let id = self.inner.assign_client_id();
                    self.client_id = id.clone();
                    // 3.1.1 has no way to tell the client; only 5.0 gets it back (R-MQTT.9).
                    assigned = (version == Version::V5).then_some(id);
                }
            }
        }
        let code = refuse.unwrap_or(0);
        let connack = match version {
            Version::V5 => {
                let (_, rc) = codes::connack_v5(code);
                let mut users: Vec<(String, String)> = script
                    .subscribe_topics
                    .iter()
                    .map(|t| ("subscribe-topic".to_string(), t.clone()))
                    .collect();
                users.extend(script.connack_user_properties.iter().cloned());
                let props = (code == 0).then(|| v5::ConnAckProperties {
                    session_expiry_interval: None,
                    receive_max: None,
                    max_qos: None,
                    retain_available: Some(0),
                    max_packet_size: Some(max_packet() as u32),
                    assigned_client_identifier: assigned,
                    topic_alias_max: None,
                    reason_string: None,
                    user_properties: users,
                    wildcard_subscription_available: None,
                    subscription_identifiers_available: Some(0),
                    shared_subscription_available: Some(0),
                    server_keep_alive: script.server_keep_alive,
                    response_information: if wants_info {
                        script.response_information.clone()
                    } else {
                        None
                    },
                    server_reference: None,
                    authentication_method: None,
                    authentication_data: None,
                });
                Packet::V5(v5::Packet::ConnAck(v5::ConnAck {
                    session_present: false,
                    code: rc,
                    properties: props,
                }))
            }
            Version::V311 => {
                let (_, rc) = codes::connack_v4(code);
                Packet::V4(v4::Packet::ConnAck(v4::ConnAck::new(rc, false)))
            }
        };
        if !self.send(connack).await {
            self.closed("the CONNACK could not be written".into());
            return None;
        }
        if code != 0 {
            self.closed(format!("CONNECT refused with {code:#04x}"));
            return None;
        }
        Some((version, keep_alive))
    }

    async fn run(
        &mut self,
        mut rd: Rd,
        mut buf: BytesMut,
        mut rx: mpsc::Receiver<ToConn>,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
        keep_alive: Option<Duration>,
    ) {
        enum Ev {
            Read(std::io::Result<usize>),
            Msg(Option<ToConn>),
            Shutdown,
            KeepAlive,
        }
        let mut last_in = Instant::now();
        // Bytes that came with the CONNECT are handled before reading more.
        let mut pending = !buf.is_empty();
        loop {
            let ev = if pending {
                pending = false;
                Ev::Read(Ok(buf.len()))
            } else {
                let deadline = keep_alive.map(|k| last_in + k);
                tokio::select! {
                    r = rd.read_buf(&mut buf) => Ev::Read(r),
                    m = rx.recv() => Ev::Msg(m),
                    _ = shutdown.changed() => Ev::Shutdown,
                    _ = sleep_until(deadline) => Ev::KeepAlive,
                }
            };
            match ev {
                Ev::Read(Ok(0)) => {
                    self.closed("the client closed the TCP connection".into());
                    return;
                }
                Ev::Read(Ok(_)) => {
                    last_in = Instant::now();
                    loop {
                        match wire::next_frame(&mut buf) {
                            Ok(Some(frame)) => {
                                if let Flow::Stop = self.on_frame(frame).await {
                                    return;
                                }
                            }
                            Ok(None) => break,
                            Err(e) => {
                                match wire::too_large(&buf) {
                                    Some(n) => {
                                        self.too_large(n, &buf);
                                        self.disconnect(0x95, Some(e)).await;
                                    }
                                    None => {
                                        self.malformed(&e, &buf);
                                        self.disconnect(0x81, Some(e)).await;
                                    }
                                }
                                return;
                            }
                        }
                    }
                }
                Ev::Read(Err(e)) => {
                    self.closed(format!("read failed: {e}"));
                    return;
                }
                Ev::Msg(Some(ToConn::Deliver(m))) => {
                    if !self.deliver(*m).await {
                        self.closed("a write failed".into());
                        return;
                    }
                }
                Ev::Msg(Some(ToConn::Disconnect { code, reason })) => {
                    self.disconnect(code, reason).await;
                    self.closed(format!("disconnected by the broker with {code:#04x}"));
                    return;
                }
                Ev::Msg(None) | Ev::Shutdown => {
                    self.closed("the broker stopped".into());
                    return;
                }
                Ev::KeepAlive => {
                    let k = keep_alive.unwrap_or_default();
                    self.inner.log_conn(
                        self.conn,
                        &self.client_id,
                        self.version,
                        "KEEPALIVE",
                        format!(
                            "nothing received for {} (1.5 times the keep alive)",
                            crate::human::duration(k)
                        ),
                    );
                    self.disconnect(0x8D, Some("keep alive timeout".into()))
                        .await;
                    self.closed("keep alive expired".into());
                    return;
                }
            }
        }
    }

    /// Handles one packet from the client.
    async fn on_frame(&mut self, frame: Bytes) -> Flow {
        let version = self.version.unwrap_or(Version::V311);
        let packet = match wire::decode(version, &frame) {
            Ok(p) => p,
            Err(e) => {
                self.malformed(&e, &frame);
                self.disconnect(0x81, Some(e)).await;
                self.closed("malformed packet".into());
                return Flow::Stop;
            }
        };
        if let Some(flow) = self.on_publish(&packet).await {
            return flow;
        }
        self.inner
            .log_packet(self.conn, &self.client_id, version, Dir::In, &packet, None);
        let script = self.inner.script();
        match packet {
            Packet::V5(p) => self.on_v5(p, &script).await,
            Packet::V4(p) => self.on_v4(p, &script).await,
        }
    }

    /// Routes a PUBLISH (logged with whom it went to) and acknowledges it; `None` for any
    /// other packet.
    async fn on_publish(&mut self, packet: &Packet) -> Option<Flow> {
        // The frame was read a moment ago; routing comes after.
        let read = crate::mtp::Stamp::now();
        let version = self.version.unwrap_or(Version::V311);
        let (mut topic, qos, pkid, payload, mut props) = match packet {
            Packet::V5(v5::Packet::Publish(p)) => (
                String::from_utf8_lossy(&p.topic).into_owned(),
                p.qos as u8,
                p.pkid,
                p.payload.clone(),
                p.properties.clone(),
            ),
            Packet::V4(v4::Packet::Publish(p)) => (
                p.topic.clone(),
                p.qos as u8,
                p.pkid,
                p.payload.clone(),
                None,
            ),
            _ => return None,
        };
        if let Some(alias) = props.as_mut().and_then(|p| p.topic_alias.take()) {
            if topic.is_empty() {
                topic = self.aliases.get(&alias).cloned().unwrap_or_default();
            } else {
                self.aliases.insert(alias, topic.clone());
            }
        }
        if !valid_topic(&topic) {
            self.inner
                .log_packet(self.conn, &self.client_id, version, Dir::In, packet, None);
            self.inner.log_conn(
                self.conn,
                &self.client_id,
                self.version,
                "PROTOCOL",
                format!("PUBLISH to an invalid Topic Name {topic:?}"),
            );
            self.disconnect(0x90, Some("Topic Name invalid".into()))
                .await;
            self.closed("PUBLISH with an invalid Topic Name".into());
            return Some(Flow::Stop);
        }
        let targets =
            self.inner
                .route_incoming(self.conn, &self.client_id, version, packet, &topic);
        let msg = Message {
            topic,
            payload,
            qos: qos.min(1),
            props,
            from: self.client_id.clone(),
            from_version: version,
            read,
        };
        self.inner.deliver(&targets, &msg).await;
        let ack = match (version, qos) {
            (_, 0) => None,
            (Version::V5, 1) => Some(Packet::V5(v5::Packet::PubAck(v5::PubAck::new(pkid, None)))),
            (Version::V5, _) => Some(Packet::V5(v5::Packet::PubRec(v5::PubRec::new(pkid, None)))),
            (Version::V311, 1) => Some(Packet::V4(v4::Packet::PubAck(v4::PubAck::new(pkid)))),
            (Version::V311, _) => Some(Packet::V4(v4::Packet::PubRec(v4::PubRec::new(pkid)))),
        };
        if let Some(a) = ack
            && !self.send(a).await
        {
            return Some(Flow::Stop);
        }
        Some(Flow::Go)
    }

    /// The granted QoS for a filter, or the failure reason code (5.0 numbering).
    fn decide(&self, script: &Script, filter: &str, requested: u8) -> Result<u8, u8> {
        if !valid_filter(filter) {
            return Err(0x8F);
        }
        if self.version == Some(Version::V5) && filter.starts_with("$share/") {
            return Err(0x9E);
        }
        if let Some(code) = script.fail_all_subscriptions {
            return Err(code);
        }
        if let Some((_, code)) = script.suback_failures.iter().find(|(f, _)| f == filter) {
            return Err(*code);
        }
        Ok(requested.min(script.max_qos).min(1))
    }

    async fn on_v5(&mut self, p: v5::Packet, script: &Script) -> Flow {
        use v5::Packet as P;
        let reply = match p {
            P::Subscribe(s) => {
                let codes: Vec<v5::SubscribeReasonCode> = s
                    .filters
                    .iter()
                    .map(|f| match self.decide(script, &f.path, f.qos as u8) {
                        Ok(q) => {
                            self.inner.subscribe(self.conn, &f.path, q);
                            v5::SubscribeReasonCode::Success(qos5(q))
                        }
                        Err(code) => codes::suback_failure_v5(code).1,
                    })
                    .collect();
                P::SubAck(v5::SubAck {
                    pkid: s.pkid,
                    return_codes: codes,
                    properties: None,
                })
            }
            P::Unsubscribe(u) => {
                let reasons = u
                    .filters
                    .iter()
                    .map(|f| {
                        let had = self.inner.unsubscribe(self.conn, f);
                        match script.unsuback_code {
                            Some(c) => codes::unsuback_v5(c),
                            None if had => v5::UnsubAckReason::Success,
                            None => v5::UnsubAckReason::NoSubscriptionExisted,
                        }
                    })
                    .collect();
                P::UnsubAck(v5::UnsubAck {
                    pkid: u.pkid,
                    reasons,
                    properties: None,
                })
            }
            P::PingReq(_) if script.answer_pings => P::PingResp(v5::PingResp),
            P::PubRel(r) => P::PubComp(v5::PubComp::new(r.pkid, None)),
            P::PingReq(_) | P::PubAck(_) | P::PubComp(_) | P::PubRec(_) => return Flow::Go,
            P::Disconnect(_) => {
                self.closed("after the client's DISCONNECT".into());
                return Flow::Stop;
            }
            other => {
                let why = format!("a client must not send {}", describe_kind(&other));
                self.disconnect(0x82, Some(why.clone())).await;
                self.closed(why);
                return Flow::Stop;
            }
        };
        if self.send(Packet::V5(reply)).await {
            Flow::Go
        } else {
            Flow::Stop
        }
    }

    async fn on_v4(&mut self, p: v4::Packet, script: &Script) -> Flow {
        use v4::Packet as P;
        let reply = match p {
            P::Subscribe(s) => {
                let codes = s
                    .filters
                    .iter()
                    .map(|f| match self.decide(script, &f.path, f.qos as u8) {
                        Ok(q) => {
                            self.inner.subscribe(self.conn, &f.path, q);
                            v4::SubscribeReasonCode::Success(qos(q))
                        }
                        Err(_) => v4::SubscribeReasonCode::Failure,
                    })
                    .collect();
                P::SubAck(v4::SubAck::new(s.pkid, codes))
            }
            P::Unsubscribe(u) => {
                for f in &u.topics {
                    self.inner.unsubscribe(self.conn, f);
                }
                P::UnsubAck(v4::UnsubAck::new(u.pkid))
            }
            P::PingReq if script.answer_pings => P::PingResp,
            P::PubRel(r) => P::PubComp(v4::PubComp::new(r.pkid)),
            P::PingReq | P::PubAck(_) | P::PubComp(_) | P::PubRec(_) => return Flow::Go,
            P::Disconnect => {
                self.closed("after the client's DISCONNECT".into());
                return Flow::Stop;
            }
            _ => {
                self.closed("a client sent a packet only a server may send".into());
                return Flow::Stop;
            }
        };
        if self.send(Packet::V4(reply)).await {
            Flow::Go
        } else {
            Flow::Stop
        }
    }

    /// Sends an application message to this client; false when the write failed.
    async fn deliver(&mut self, m: Message) -> bool {
        let pkid = if m.qos > 0 {
            self.next_pkid = self.next_pkid.checked_add(1).unwrap_or(1);
            self.next_pkid
        } else {
            0
        };
        let p = match self.version {
            Some(Version::V5) => Packet::V5(v5::Packet::Publish(v5::Publish {
                dup: false,
                qos: qos5(m.qos),
                retain: false,
                topic: Bytes::from(m.topic.into_bytes()),
                pkid,
                payload: m.payload,
                properties: m.props,
            })),
            _ => Packet::V4(v4::Packet::Publish(v4::Publish {
                dup: false,
                qos: qos(m.qos),
                retain: false,
                topic: m.topic,
                pkid,
                payload: m.payload,
            })),
        };
        self.send(p).await
    }
}

fn qos(q: u8) -> QoS {
    match q {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

fn qos5(q: u8) -> V5QoS {
    match q {
        0 => V5QoS::AtMostOnce,
        1 => V5QoS::AtLeastOnce,
        _ => V5QoS::ExactlyOnce,
    }
}

fn describe_kind(p: &v5::Packet) -> &'static str {
    super::describe::v5(p).kind
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
