//! The embedded MQTT broker, a test instrument: TP-469 section 11 inspects what an Agent puts
//! in CONNECT, SUBSCRIBE and PUBLISH and provokes it with scripted CONNACK properties, failed
//! SUBACKs, DISCONNECTs and outages, which no off-the-shelf broker lets a test do.
//!
//! It serves MQTT 5.0 (R-MQTT.39) and 3.1.1 (R-MQTT.40) over TCP (R-MQTT.41), told apart by
//! the CONNECT protocol level; QoS 0 and 1 (R-MQTT.46; a QoS 2 subscription is granted QoS 1,
//! an inbound QoS 2 PUBLISH is completed with PUBREC/PUBCOMP); `+` and `#` Topic Filters
//! (R-MQTT.45); any Endpoint ID as ClientId (R-MQTT.47); the `subscribe-topic` CONNACK User
//! Property (R-MQTT.44). No retained messages, no Will delivery, no persistent sessions.
//!
//! Every packet both ways, and every connection fact (accepted, refused, malformed, closed),
//! becomes a [`BrokerEvent`] in one log that tests read from a cursor or wait on.
//!
//! Beside its TCP listener the broker can listen with TLS ([`BrokerHandle::listen_tls`];
//! TP-469 11.3). There each connection's negotiated version and cipher are logged (`TLS`),
//! a failed handshake too (`TLS_FAILED`: nothing older than TLS 1.2 is accepted, R-MQTT.48,
//! TR-369 "Securing MTPs"), and a client that sends MQTT in plaintext to the TLS port is logged as
//! `PLAINTEXT`, with its CONNECT decoded, and closed.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use rumqttc::v5::mqttbytes::v5;
use serde::Serialize;
use serde_json::Value;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{Notify, mpsc, watch};

use super::describe::{self, Described};
use super::wire::Packet;
use super::{Version, session, topic_matches};
use crate::mtp::tls::TlsInfo;

/// Which way a packet went, or `Conn` for a fact about the connection itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Dir {
    /// From the client to the broker.
    In,
    /// From the broker to the client.
    Out,
    /// Accepted, refused, malformed bytes, keep-alive expiry, closed.
    Conn,
}

/// One entry of the broker's log.
#[derive(Debug, Clone, Serialize)]
pub struct BrokerEvent {
    #[serde(skip)]
    pub at: Instant,
    #[serde(skip)]
    pub wall: SystemTime,
    /// The index of this event in the log.
    pub seq: usize,
    /// The connection number (one per TCP connection or in-process session).
    pub conn: u64,
    /// The client's ClientId ("" before its CONNECT is read; the assigned one after).
    pub client_id: String,
    pub version: Option<Version>,
    pub dir: Dir,
    /// `CONNECT`, `PUBLISH`… for packets; `ACCEPT`, `REFUSED`, `MALFORMED`, `KEEPALIVE`,
    /// `CLOSED`, `LISTEN`, and on the TLS listener `TLS`, `TLS_FAILED`, `PLAINTEXT`, for
    /// connection facts.
    pub kind: String,
    /// The event on one line, for people.
    pub packet: String,
    /// The decoded fields and properties, for matching.
    pub detail: Value,
}

/// How the broker turns clients away while it is "down" (TP-469 11.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Refusal {
    /// Read the CONNECT, answer CONNACK with this 5.0 reason code (mapped to the nearest
    /// 3.1.1 return code for 3.1.1 clients), close.
    Connack(u8),
    /// Accept the TCP connection and close it at once (each attempt is still logged).
    Close,
    /// Stop listening: attempts are refused by the OS and cannot be logged or timed.
    Unreachable,
}

/// What the broker does, settable before or during a test.
#[derive(Debug, Clone)]
pub struct Script {
    /// One CONNACK `subscribe-topic` User Property per value (5.0; R-MQTT.15, R-MQTT.44).
    pub subscribe_topics: Vec<String>,
    /// CONNACK Response Information, sent to clients that set Request Response Information
    /// to 1 (5.0; R-MQTT.12, R-MQTT.21).
    pub response_information: Option<String>,
    /// The Assigned Client Identifier for a 5.0 client with an empty ClientId (R-MQTT.8,
    /// R-MQTT.9); `None` makes one up (`uspcheck-<n>`).
    pub assigned_client_id: Option<String>,
    /// CONNACK Server Keep Alive (5.0; TP-469 11.7). Zero is legal but rumqttc clients then
    /// ping without pause, so tests with rumqttc peers use 1 or more.
    pub server_keep_alive: Option<u16>,
    /// More CONNACK User Properties, after the `subscribe-topic` ones.
    pub connack_user_properties: Vec<(String, String)>,
    /// When set, CONNECTs with another User Name / Password get 0x86 (3.1.1: 4).
    pub credentials: Option<(String, String)>,
    /// SUBACK failure reason codes by exact Topic Filter (3.1.1 clients get 0x80).
    pub suback_failures: Vec<(String, u8)>,
    /// A SUBACK failure code for every Topic Filter (TP-469 11.11).
    pub fail_all_subscriptions: Option<u8>,
    /// An UNSUBACK reason code for every filter (5.0) instead of the true one.
    pub unsuback_code: Option<u8>,
    /// The highest QoS granted in a SUBACK (1: QoS 2 requests are downgraded).
    pub max_qos: u8,
    /// Answer PINGREQ with PINGRESP.
    pub answer_pings: bool,
    /// Close a connection silent for 1.5 times its keep alive (the Server Keep Alive when
    /// set), with DISCONNECT 0x8D on 5.0.
    pub enforce_keep_alive: bool,
    /// Refuse new connections while set.
    pub down: Option<Refusal>,
    /// How long a new connection may take to send its CONNECT.
    pub connect_wait: Duration,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            subscribe_topics: Vec::new(),
            response_information: None,
            assigned_client_id: None,
            server_keep_alive: None,
            connack_user_properties: Vec::new(),
            credentials: None,
            suback_failures: Vec::new(),
            fail_all_subscriptions: None,
            unsuback_code: None,
            max_qos: 1,
            answer_pings: true,
            enforce_keep_alive: true,
            down: None,
            connect_wait: Duration::from_secs(10),
        }
    }
}

/// A connected client as the broker sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ClientInfo {
    pub conn: u64,
    pub client_id: String,
    pub version: Version,
    /// `127.0.0.1:41234`, or `in-process`.
    pub peer: String,
    /// What the connection's TLS handshake negotiated; `None` for plain TCP.
    pub tls: Option<TlsInfo>,
    /// Topic Filters with their granted QoS.
    pub subscriptions: Vec<(String, u8)>,
}

/// An application message on its way to one subscriber.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub topic: String,
    pub payload: Bytes,
    /// Already lowered to the subscription's granted QoS.
    pub qos: u8,
    /// 5.0 properties, passed through to 5.0 subscribers (Response Topic, Content Type,
    /// User Properties…); 3.1.1 subscribers cannot receive them.
    pub props: Option<v5::PublishProperties>,
    pub from: String,
    pub from_version: Version,
    /// When the broker read it from its sender (for the in-process Controller: when it was
    /// handed to the broker).
    pub read: crate::mtp::Stamp,
}

/// What the broker asks a connection's task to do.
#[derive(Debug)]
pub(crate) enum ToConn {
    Deliver(Box<Message>),
    /// Send DISCONNECT with this 5.0 reason code (3.1.1: close the socket) and stop.
    Disconnect {
        code: u8,
        reason: Option<String>,
    },
}

/// Messages waiting for a connection's task to send them; beyond it a message for a client
/// that does not read is dropped and logged (docs/limits.md), as brokers do with a full
/// queue — except for the in-process Controller, whose publisher waits instead (the agent's
/// socket is not read meanwhile), so nothing meant for the harness is ever lost.
pub(crate) const CONN_QUEUE: usize = 1024;

/// A connection's queue of [`ToConn`] ([`CONN_QUEUE`]).
pub(crate) fn conn_queue() -> (mpsc::Sender<ToConn>, mpsc::Receiver<ToConn>) {
    mpsc::channel(CONN_QUEUE)
}

/// Asks a connection's task to disconnect, behind what it already has to send; false when
/// the task is gone.
fn tell_disconnect(tx: &mpsc::Sender<ToConn>, code: u8, reason: &str) -> bool {
    let m = ToConn::Disconnect {
        code,
        reason: Some(reason.into()),
    };
    match tx.try_send(m) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Full(m)) => {
            let tx = tx.clone();
            tokio::spawn(async move { tx.send(m).await });
            true
        }
        Err(mpsc::error::TrySendError::Closed(_)) => false,
    }
}

struct Session {
    client_id: String,
    version: Version,
    peer: String,
    tls: Option<TlsInfo>,
    tx: mpsc::Sender<ToConn>,
}

struct Sub {
    conn: u64,
    filter: String,
    qos: u8,
}

struct State {
    script: Script,
    sessions: BTreeMap<u64, Session>,
    subs: Vec<Sub>,
    next_conn: u64,
    next_assigned: u64,
}

/// The most events the broker's log holds; beyond it the oldest tenth is forgotten, so a
/// flood cannot grow it without bound (a whole suite over one broker logs a few thousand).
/// Events keep their sequence numbers.
pub const MAX_EVENTS: usize = 5_000;
/// About the most memory the log's events may hold ([`Log::weight`]); beyond it the oldest
/// events are forgotten the same way, so a flood of big PUBLISHes cannot grow it either.
pub const MAX_LOG_BYTES: usize = 4 * 1024 * 1024;

/// The broker's log: the events from sequence number `base` on.
#[derive(Default)]
struct Log {
    base: usize,
    events: std::collections::VecDeque<BrokerEvent>,
    /// The events' weight in all.
    bytes: usize,
}

impl Log {
    /// What an event costs the log, roughly: its one line, its payload's hex and its
    /// decoded fields (a few hundred bytes).
    fn weight(e: &BrokerEvent) -> usize {
        512 + e.packet.len()
            + e.detail
                .get("payload_hex")
                .and_then(Value::as_str)
                .map_or(0, str::len)
    }

    /// Adds an event, forgetting the oldest tenth of the events (or down to three quarters
    /// of [`MAX_LOG_BYTES`]) when it is over either bound.
    fn push(&mut self, e: BrokerEvent) {
        self.bytes += Log::weight(&e);
        self.events.push_back(e);
        if self.events.len() > MAX_EVENTS {
            self.forget_before(self.end() - MAX_EVENTS * 9 / 10);
        }
        if self.bytes > MAX_LOG_BYTES {
            while self.bytes > MAX_LOG_BYTES * 3 / 4 && self.events.len() > 1 {
                self.forget_before(self.base + 1);
            }
        }
    }

    /// The sequence number the next event gets.
    fn end(&self) -> usize {
        self.base + self.events.len()
    }

    /// The events from sequence number `from` on (those still held).
    fn from(&self, from: usize) -> impl Iterator<Item = &BrokerEvent> {
        self.events.iter().skip(from.saturating_sub(self.base))
    }

    /// Forgets the events before sequence number `seq`.
    fn forget_before(&mut self, seq: usize) {
        while self.base < seq {
            let Some(e) = self.events.pop_front() else {
                break;
            };
            self.bytes = self.bytes.saturating_sub(Log::weight(&e));
            self.base += 1;
        }
    }
}

pub(crate) struct Inner {
    addr: SocketAddr,
    /// The TLS listener's address, once there is one.
    tls_addr: Mutex<Option<SocketAddr>>,
    state: Mutex<State>,
    log: Mutex<Log>,
    watchers: Mutex<Vec<Watcher>>,
    logged: Notify,
    listening: watch::Sender<bool>,
    pub(crate) shutdown: watch::Sender<bool>,
}

/// Who is told of the events a filter takes ([`BrokerHandle::watch_where`]).
struct Watcher {
    wants: Box<dyn Fn(&BrokerEvent) -> bool + Send>,
    tx: mpsc::UnboundedSender<BrokerEvent>,
}

/// The peer of the embedded Controller's session, which scripts never disconnect.
const IN_PROCESS: &str = "in-process";

/// Locks a mutex, ignoring poisoning: a panicking test thread must not take the broker down.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running broker; it stops (listener and every connection) when dropped. It dereferences
/// to its [`BrokerHandle`].
pub struct Broker {
    handle: BrokerHandle,
}

/// A cheap, cloneable handle on a running broker: scripting, inspection, the log.
#[derive(Clone)]
pub struct BrokerHandle(pub(crate) Arc<Inner>);

impl Broker {
    /// Binds to `addr` (`127.0.0.1:0` lets the OS pick a port) and starts serving.
    pub async fn start(addr: &str) -> std::io::Result<Broker> {
        let addr = tokio::net::lookup_host(addr).await?.next().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "no address to bind")
        })?;
        let listener = bind(addr)?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            addr,
            tls_addr: Mutex::new(None),
            state: Mutex::new(State {
                script: Script::default(),
                sessions: BTreeMap::new(),
                subs: Vec::new(),
                next_conn: 1,
                next_assigned: 1,
            }),
            log: Mutex::new(Log::default()),
            watchers: Mutex::new(Vec::new()),
            logged: Notify::new(),
            listening: watch::Sender::new(true),
            shutdown: watch::Sender::new(false),
        });
        spawn_accept_loop(&inner, listener, addr, None);
        Ok(Broker {
            handle: BrokerHandle(inner),
        })
    }

    /// A handle that outlives borrowing the broker (the broker still stops when dropped).
    pub fn handle(&self) -> BrokerHandle {
        self.handle.clone()
    }
}

impl std::ops::Deref for Broker {
    type Target = BrokerHandle;
    fn deref(&self) -> &BrokerHandle {
        &self.handle
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.handle.0.shutdown.send_replace(true);
    }
}

/// A listening socket with SO_REUSEADDR, so the same port can be listened on again after an
/// outage while old connections linger in TIME_WAIT.
fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(128)
}

/// Starts accepting on one listener (plain TCP, or TLS with a server configuration) until
/// the broker stops; while the broker is "unreachable" the listener is closed and bound
/// again after. The task watches the broker's state from the moment of this call, so a
/// change made before the task first runs is not missed.
fn spawn_accept_loop(
    inner: &Arc<Inner>,
    listener: TcpListener,
    addr: SocketAddr,
    tls: Option<Arc<rustls::ServerConfig>>,
) {
    let listening = inner.listening.subscribe();
    let shutdown = inner.shutdown.subscribe();
    tokio::spawn(accept_loop(
        inner.clone(),
        listener,
        addr,
        tls,
        listening,
        shutdown,
    ));
}

async fn accept_loop(
    inner: Arc<Inner>,
    listener: TcpListener,
    addr: SocketAddr,
    tls: Option<Arc<rustls::ServerConfig>>,
    mut listening: watch::Receiver<bool>,
    mut shutdown: watch::Receiver<bool>,
) {
    enum Next {
        Conn(tokio::net::TcpStream, SocketAddr),
        Listening(bool),
        Stop,
    }
    let mut listener = Some(listener);
    loop {
        let next = match &listener {
            Some(l) => tokio::select! {
                r = l.accept() => match r {
                    Ok((tcp, peer)) => Next::Conn(tcp, peer),
                    Err(e) => {
                        inner.log_conn(0, "", None, "ACCEPT", format!("accept failed: {e}"));
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                r = listening.changed() => if r.is_err() { Next::Stop } else { Next::Listening(*listening.borrow_and_update()) },
                _ = shutdown.changed() => Next::Stop,
            },
            None => tokio::select! {
                r = listening.changed() => if r.is_err() { Next::Stop } else { Next::Listening(*listening.borrow_and_update()) },
                _ = shutdown.changed() => Next::Stop,
            },
        };
        match next {
            Next::Conn(tcp, peer) => {
                tokio::spawn(session::serve(inner.clone(), tcp, peer, tls.clone()));
            }
            Next::Listening(false) if listener.is_some() => {
                listener = None;
                inner.log_conn(
                    0,
                    "",
                    None,
                    "LISTEN",
                    "stopped listening (broker down)".into(),
                );
            }
            Next::Listening(true) if listener.is_none() => match bind(addr) {
                Ok(l) => {
                    listener = Some(l);
                    inner.log_conn(0, "", None, "LISTEN", format!("listening again on {addr}"));
                }
                Err(e) => inner.log_conn(
                    0,
                    "",
                    None,
                    "LISTEN",
                    format!("cannot listen on {addr} again: {e}"),
                ),
            },
            Next::Listening(_) => {}
            Next::Stop => return,
        }
    }
}

impl Inner {
    pub(crate) fn script(&self) -> Script {
        lock(&self.state).script.clone()
    }

    pub(crate) fn new_conn(&self) -> u64 {
        let mut s = lock(&self.state);
        s.next_conn += 1;
        s.next_conn - 1
    }

    /// An Assigned Client Identifier: the scripted one, or a fresh `uspcheck-<n>`.
    pub(crate) fn assign_client_id(&self) -> String {
        let mut s = lock(&self.state);
        if let Some(id) = &s.script.assigned_client_id {
            return id.clone();
        }
        s.next_assigned += 1;
        format!("uspcheck-{}", s.next_assigned - 1)
    }

    /// Adds a session; another session with the same ClientId is told to go (DISCONNECT
    /// 0x8E Session taken over), as MQTT requires.
    pub(crate) fn register(
        &self,
        conn: u64,
        client_id: &str,
        version: Version,
        peer: String,
        tls: Option<TlsInfo>,
        tx: mpsc::Sender<ToConn>,
    ) {
        let mut s = lock(&self.state);
        for (_, old) in s.sessions.iter().filter(|(_, o)| o.client_id == client_id) {
            tell_disconnect(&old.tx, 0x8E, "another connection with this ClientId");
        }
        s.sessions.insert(
            conn,
            Session {
                client_id: client_id.into(),
                version,
                peer,
                tls,
                tx,
            },
        );
    }

    /// Removes a session and its subscriptions.
    pub(crate) fn unregister(&self, conn: u64) {
        let mut s = lock(&self.state);
        s.sessions.remove(&conn);
        s.subs.retain(|x| x.conn != conn);
    }

    /// Adds or replaces a subscription.
    pub(crate) fn subscribe(&self, conn: u64, filter: &str, qos: u8) {
        let mut s = lock(&self.state);
        s.subs.retain(|x| !(x.conn == conn && x.filter == filter));
        s.subs.push(Sub {
            conn,
            filter: filter.into(),
            qos,
        });
    }

    /// Removes a subscription; false when there was none.
    pub(crate) fn unsubscribe(&self, conn: u64, filter: &str) -> bool {
        let mut s = lock(&self.state);
        let before = s.subs.len();
        s.subs.retain(|x| !(x.conn == conn && x.filter == filter));
        s.subs.len() != before
    }

    /// The sessions a message on `topic` goes to, each once, with the highest QoS among its
    /// matching subscriptions.
    pub(crate) fn targets(&self, topic: &str) -> Vec<(u64, String, u8)> {
        let s = lock(&self.state);
        let mut out: BTreeMap<u64, u8> = BTreeMap::new();
        for sub in s.subs.iter().filter(|x| topic_matches(&x.filter, topic)) {
            let q = out.entry(sub.conn).or_insert(0);
            *q = (*q).max(sub.qos);
        }
        out.into_iter()
            .filter_map(|(conn, q)| {
                s.sessions
                    .get(&conn)
                    .map(|x| (conn, x.client_id.clone(), q))
            })
            .collect()
    }

    /// Hands `msg` to each target, at the lower of its QoS and the subscription's: queued
    /// for a client's connection (dropped and logged when its queue is full), waited for by
    /// the in-process Controller (see [`CONN_QUEUE`]).
    pub(crate) async fn deliver(&self, targets: &[(u64, String, u8)], msg: &Message) {
        let mut wait = Vec::new();
        let mut dropped = Vec::new();
        {
            let s = lock(&self.state);
            for (conn, client_id, q) in targets {
                let Some(x) = s.sessions.get(conn) else {
                    continue;
                };
                let mut m = msg.clone();
                m.qos = m.qos.min(*q);
                let m = ToConn::Deliver(Box::new(m));
                if x.peer == IN_PROCESS {
                    wait.push((x.tx.clone(), m));
                } else if let Err(mpsc::error::TrySendError::Full(_)) = x.tx.try_send(m) {
                    dropped.push((*conn, client_id.clone(), x.version));
                }
            }
        }
        for (conn, client_id, version) in dropped {
            self.log(
                conn,
                &client_id,
                Some(version),
                Dir::Out,
                Described {
                    kind: "DROPPED",
                    detail: serde_json::json!({
                        "topic": msg.topic,
                        "from": msg.from,
                        "why": format!("{CONN_QUEUE} messages already wait for this client"),
                    }),
                },
            );
        }
        for (tx, m) in wait {
            let _ = tx.send(m).await;
        }
    }

    /// Appends an event to the log and wakes whoever waits on it.
    pub(crate) fn log(
        &self,
        conn: u64,
        client_id: &str,
        version: Option<Version>,
        dir: Dir,
        d: Described,
    ) {
        let ev = {
            let mut log = lock(&self.log);
            let ev = BrokerEvent {
                at: Instant::now(),
                wall: SystemTime::now(),
                seq: log.end(),
                conn,
                client_id: client_id.into(),
                version,
                dir,
                kind: d.kind.into(),
                packet: describe::summary(d.kind, &d.detail),
                detail: d.detail,
            };
            log.push(ev.clone());
            ev
        };
        lock(&self.watchers).retain(|w| !(w.wants)(&ev) || w.tx.send(ev.clone()).is_ok());
        self.logged.notify_waiters();
    }

    /// Logs a packet.
    /// Logs an incoming PUBLISH with the clients it will reach, and returns them: the one
    /// place a PUBLISH enters routing, whoever sent it.
    pub(crate) fn route_incoming(
        &self,
        conn: u64,
        client_id: &str,
        version: Version,
        packet: &Packet,
        topic: &str,
    ) -> Vec<(u64, String, u8)> {
        let targets = self.targets(topic);
        let to: Vec<&str> = targets.iter().map(|(_, id, _)| id.as_str()).collect();
        self.log_packet(
            conn,
            client_id,
            version,
            Dir::In,
            packet,
            Some(("delivered_to", serde_json::json!(to))),
        );
        targets
    }

    pub(crate) fn log_packet(
        &self,
        conn: u64,
        client_id: &str,
        version: Version,
        dir: Dir,
        p: &Packet,
        extra: Option<(&str, Value)>,
    ) {
        self.log_packet_with(conn, client_id, version, dir, p, extra.into_iter());
    }

    /// Logs a packet with any number of extra fields in its detail.
    pub(crate) fn log_packet_with<'a>(
        &self,
        conn: u64,
        client_id: &str,
        version: Version,
        dir: Dir,
        p: &Packet,
        extra: impl Iterator<Item = (&'a str, Value)>,
    ) {
        let mut d = match p {
            Packet::V5(p) => describe::v5(p),
            Packet::V4(p) => describe::v4(p),
        };
        if let Value::Object(m) = &mut d.detail {
            for (k, v) in extra {
                m.insert(k.into(), v);
            }
        }
        self.log(conn, client_id, Some(version), dir, d);
    }

    /// Logs a connection fact with a message.
    pub(crate) fn log_conn(
        &self,
        conn: u64,
        client_id: &str,
        version: Option<Version>,
        kind: &'static str,
        message: String,
    ) {
        self.log_conn_detail(
            conn,
            client_id,
            version,
            kind,
            serde_json::json!({ "message": message }),
        );
    }

    /// Logs a connection fact with structured detail.
    pub(crate) fn log_conn_detail(
        &self,
        conn: u64,
        client_id: &str,
        version: Option<Version>,
        kind: &'static str,
        detail: Value,
    ) {
        self.log(
            conn,
            client_id,
            version,
            Dir::Conn,
            Described { kind, detail },
        );
    }
}

impl BrokerHandle {
    /// The address the broker listens on.
    pub fn addr(&self) -> SocketAddr {
        self.0.addr
    }

    /// Also listens with TLS on `addr` (`127.0.0.1:0` lets the OS pick a port), presenting
    /// `config`'s certificate (see [`crate::pki::server_config`]: TLS 1.3 and 1.2 only).
    /// Returns the address; the listener stops with the broker and, like the TCP one, while
    /// the broker is down as [`Refusal::Unreachable`].
    pub async fn listen_tls(
        &self,
        addr: &str,
        config: Arc<rustls::ServerConfig>,
    ) -> std::io::Result<SocketAddr> {
        let want = tokio::net::lookup_host(addr).await?.next().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "no address to bind")
        })?;
        let listener = bind(want)?;
        let bound = listener.local_addr()?;
        *lock(&self.0.tls_addr) = Some(bound);
        self.0.log_conn(
            0,
            "",
            None,
            "LISTEN",
            format!("listening with TLS on {bound}"),
        );
        spawn_accept_loop(&self.0, listener, bound, Some(config));
        Ok(bound)
    }

    /// The TLS listener's address, when [`listen_tls`](Self::listen_tls) started one.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        *lock(&self.0.tls_addr)
    }

    /// The current script.
    pub fn script(&self) -> Script {
        self.0.script()
    }

    /// Changes the script; takes effect for the next packet the broker answers.
    pub fn update(&self, f: impl FnOnce(&mut Script)) {
        let (was_down, now_down) = {
            let mut s = lock(&self.0.state);
            let was = s.script.down;
            f(&mut s.script);
            (was, s.script.down)
        };
        let unreachable = now_down == Some(Refusal::Unreachable);
        if (was_down == Some(Refusal::Unreachable)) != unreachable {
            self.0.listening.send_replace(!unreachable);
        }
    }

    /// Replaces the whole script.
    pub fn set_script(&self, script: Script) {
        self.update(|s| *s = script);
    }

    /// CONNACK `subscribe-topic` User Properties (empty: none).
    pub fn set_subscribe_topics(&self, topics: &[&str]) {
        let t: Vec<String> = topics.iter().map(|s| s.to_string()).collect();
        self.update(|s| s.subscribe_topics = t);
    }

    /// CONNACK Response Information.
    pub fn set_response_information(&self, topic: Option<&str>) {
        self.update(|s| s.response_information = topic.map(str::to_string));
    }

    /// Fails a Topic Filter in SUBACKs with `code` (5.0 reason code, e.g. 0x87).
    pub fn fail_subscription(&self, filter: &str, code: u8) {
        self.update(|s| s.suback_failures.push((filter.into(), code)));
    }

    /// Refuses new connections the given way until [`come_up`](Self::come_up).
    pub fn go_down(&self, how: Refusal) {
        self.update(|s| s.down = Some(how));
    }

    /// Accepts connections again.
    pub fn come_up(&self) {
        self.update(|s| s.down = None);
    }

    /// Sends DISCONNECT with `code` (a 5.0 reason code, e.g. 0x8B Server shutting down) to
    /// every connection of `client_id`; 3.1.1 has no server DISCONNECT, so those are closed.
    /// Returns how many connections were told.
    pub fn disconnect(&self, client_id: &str, code: u8) -> usize {
        self.disconnect_where(|s| s.client_id == client_id, code)
    }

    /// Sends DISCONNECT with `code` to every client connection.
    pub fn disconnect_all(&self, code: u8) -> usize {
        self.disconnect_where(|_| true, code)
    }

    fn disconnect_where(&self, pred: impl Fn(&Session) -> bool, code: u8) -> usize {
        let s = lock(&self.0.state);
        s.sessions
            .values()
            .filter(|x| x.peer != IN_PROCESS && pred(x))
            .filter(|x| tell_disconnect(&x.tx, code, "disconnected by the test"))
            .count()
    }

    /// The clients connected now.
    pub fn clients(&self) -> Vec<ClientInfo> {
        let s = lock(&self.0.state);
        s.sessions
            .iter()
            .map(|(conn, x)| ClientInfo {
                conn: *conn,
                client_id: x.client_id.clone(),
                version: x.version,
                peer: x.peer.clone(),
                tls: x.tls.clone(),
                subscriptions: s
                    .subs
                    .iter()
                    .filter(|y| y.conn == *conn)
                    .map(|y| (y.filter.clone(), y.qos))
                    .collect(),
            })
            .collect()
    }

    /// How many events the log holds; a cursor for [`wait_for`](Self::wait_for).
    pub fn log_len(&self) -> usize {
        lock(&self.0.log).end()
    }

    /// The log from event `from` on (as far as it still holds them; see [`MAX_EVENTS`]).
    pub fn events_from(&self, from: usize) -> Vec<BrokerEvent> {
        lock(&self.0.log).from(from).cloned().collect()
    }

    /// The whole log.
    pub fn events(&self) -> Vec<BrokerEvent> {
        self.events_from(0)
    }

    /// The events logged from now on that `wants` takes, as a stream. A watcher reads every
    /// event it takes, so it takes only the few it acts on: under a flood the broker logs
    /// tens of thousands a second.
    pub fn watch_where(
        &self,
        wants: impl Fn(&BrokerEvent) -> bool + Send + 'static,
    ) -> mpsc::UnboundedReceiver<BrokerEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.0.watchers).push(Watcher {
            wants: Box::new(wants),
            tx,
        });
        rx
    }

    /// The first event at or after `from` that satisfies `pred`, waiting up to `within`.
    pub async fn wait_for(
        &self,
        from: usize,
        within: Duration,
        pred: impl Fn(&BrokerEvent) -> bool,
    ) -> Result<BrokerEvent, String> {
        let deadline = tokio::time::Instant::now() + within;
        let mut next = from;
        loop {
            let notified = self.0.logged.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let log = lock(&self.0.log);
                if let Some(ev) = log.from(next).find(|e| pred(e)) {
                    return Ok(ev.clone());
                }
                next = next.max(log.end());
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(format!(
                    "no matching broker event within {}",
                    crate::human::duration(within)
                ));
            }
        }
    }

    /// Registers an in-process session (the embedded Controller).
    pub(crate) fn register_in_process(
        &self,
        client_id: &str,
        version: Version,
    ) -> (u64, mpsc::Receiver<ToConn>) {
        let conn = self.0.new_conn();
        let (tx, rx) = conn_queue();
        self.0
            .register(conn, client_id, version, IN_PROCESS.into(), None, tx);
        (conn, rx)
    }
}
