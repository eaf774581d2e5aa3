//! The WebSocket MTP (TR-369 "WebSocket Binding"), in both roles: the harness as the server
//! an Agent connects to, and the harness as a client of an Agent that is itself the server.
//! The same code serves the reference agent, in the opposite roles.
//!
//! Handshake rules enforced or reported: `v1.usp` subprotocol (R-WS.9, R-WS.10, R-WS.11,
//! R-WS.12, R-WS.12a), the `eid` query parameter (R-WS.10b/10c), the optional
//! `bbf-usp-protocol` extension (R-WS.11a–c). A peer's handshake that breaks one of the MUSTs
//! is a [`ConnectError::Violation`] naming it; a peer not reached is `Unreachable`. Records travel in binary frames (R-WS.14);
//! fragmented messages are reassembled by tungstenite (R-WS.14b); pings are answered (R-WS.13).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{self, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};
use tracing::Instrument;

use crate::usp::checks::HARNESS_LIMIT;

use super::{
    ConnectError, Events, Link, MtpEventKind, MtpKind, Outgoing, Stamp, channels, spawn_link,
};

/// The subprotocol for protobuf-encoded USP Records (R-WS.9).
pub const SUBPROTOCOL: &str = "v1.usp";

/// What a client's opening handshake offers. A conforming Endpoint offers both; the
/// reference agent's faults leave one out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hello {
    /// `Sec-WebSocket-Protocol: v1.usp` (R-WS.9, R-WS.10).
    pub subprotocol: bool,
    /// The `eid` query parameter (R-WS.10b).
    pub eid_query: bool,
}

impl Hello {
    pub const CONFORMING: Hello = Hello {
        subprotocol: true,
        eid_query: true,
    };
}

/// What the client's opening handshake said, as the server saw it.
#[derive(Debug, Clone, Default)]
pub struct Handshake {
    pub path: String,
    pub eid: Option<String>,
    /// `None` when there is no `Sec-WebSocket-Protocol` header at all.
    pub subprotocols: Option<Vec<String>>,
    pub extensions: Option<String>,
}

impl Handshake {
    /// The subprotocols offered, for people: `subprotocols ["v1.usp"]`, or that there were
    /// none.
    fn offered(&self) -> String {
        match &self.subprotocols {
            Some(p) => format!("subprotocols {p:?}"),
            None => "no Sec-WebSocket-Protocol header".into(),
        }
    }

    /// The TR-369 requirement this opening handshake breaks, and how.
    pub fn violation(&self) -> Option<(&'static str, String)> {
        match &self.subprotocols {
            None => Some((
                "R-WS.10",
                "the client's opening handshake has no Sec-WebSocket-Protocol header".into(),
            )),
            Some(p) if !p.iter().any(|p| p == SUBPROTOCOL) => Some((
                "R-WS.9",
                format!("the client's Sec-WebSocket-Protocol offers {p:?}, not {SUBPROTOCOL:?}"),
            )),
            _ if self.eid.as_deref().is_none_or(str::is_empty) => Some((
                "R-WS.10b",
                format!(
                    "the client's request URI {:?} has no eid query parameter with its Endpoint ID",
                    self.path
                ),
            )),
            _ => None,
        }
    }
}

/// A listening WebSocket server on which Endpoints connect.
pub struct Server {
    listener: TcpListener,
    /// The Endpoint ID this side announces in the `bbf-usp-protocol` extension.
    own_eid: String,
    /// Other Endpoint IDs this server answers as, by request path: a second Controller the
    /// agent reaches on its own path. An agent checks the announced eid against the
    /// Controller it meant to reach, and drops the connection otherwise.
    by_path: Vec<(String, String)>,
    /// Whether the answer names `v1.usp` (R-WS.11); only the reference agent's
    /// `ws-no-subprotocol` fault turns it off.
    answer_subprotocol: bool,
    /// The last connections dropped before their handshake finished.
    rejected: std::sync::Mutex<Vec<String>>,
}

impl Server {
    /// Binds to `addr` (use port 0 to let the OS pick).
    pub async fn bind(addr: &str, own_eid: &str) -> std::io::Result<Server> {
        Ok(Server {
            listener: TcpListener::bind(addr).await?,
            own_eid: own_eid.into(),
            by_path: Vec::new(),
            answer_subprotocol: true,
            rejected: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// Also answers as `eid` to clients that connect on `path`.
    pub fn serve_as(mut self, path: &str, eid: &str) -> Server {
        self.by_path.push((path.into(), eid.into()));
        self
    }

    /// Answers handshakes without `Sec-WebSocket-Protocol`, breaking R-WS.11 (a fault of the
    /// reference agent).
    pub fn without_subprotocol(mut self) -> Server {
        self.answer_subprotocol = false;
        self
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// Waits for one Endpoint to connect and complete the handshake. A handshake that breaks
    /// the binding (no `v1.usp`, R-WS.12a; no `eid`) is refused and reported as a
    /// [`ConnectError::Violation`], so a case can say what was wrong rather than time out.
    ///
    /// Handshakes run side by side, each within [`HANDSHAKE_BOUND`], at most
    /// [`MAX_HANDSHAKES`] at a time: a connection that stalls, or one that is not a WebSocket
    /// at all (a stray HTTP GET), is dropped and noted in [`Server::rejected`] without keeping
    /// the agent's own connection waiting behind it.
    pub async fn accept(&self) -> Result<Link, ConnectError> {
        let mut handshakes = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                accepted = self.listener.accept(), if handshakes.len() < MAX_HANDSHAKES => {
                    let (tcp, peer) = accepted
                        .map_err(|e| ConnectError::Unreachable(format!("accept failed: {e}")))?;
                    tracing::debug!(%peer, "connection accepted: its WebSocket handshake begins");
                    let own = self.own_eid.clone();
                    let by_path = self.by_path.clone();
                    let answer_subprotocol = self.answer_subprotocol;
                    // In the accepting side's span (a case's), like the link it becomes.
                    handshakes.spawn(async move {
                        let hs = handshake(tcp, peer, own, by_path, answer_subprotocol);
                        tokio::time::timeout(HANDSHAKE_BOUND, hs).await.unwrap_or_else(|_| {
                            Err(ConnectError::Unreachable(format!(
                                "{peer} did not finish its WebSocket handshake within {}", crate::human::duration(HANDSHAKE_BOUND)
                            )))
                        })
                    }.in_current_span());
                }
                Some(done) = handshakes.join_next() => match done {
                    Ok(Ok(link)) => return Ok(link),
                    Ok(Err(v @ ConnectError::Violation { .. })) => {
                        tracing::debug!(error = %v, "WebSocket handshake refused");
                        return Err(v);
                    }
                    Ok(Err(ConnectError::Unreachable(why))) => self.reject(why),
                    Err(e) => self.reject(format!("a handshake task ended: {e}")),
                },
            }
        }
    }

    /// The connections dropped before their handshake finished (the last few), for an error
    /// that says what came instead of the agent.
    pub fn rejected(&self) -> Vec<String> {
        self.rejected.lock().map(|r| r.clone()).unwrap_or_default()
    }

    fn reject(&self, why: String) {
        tracing::debug!(%why, "connection dropped before its handshake finished");
        if let Ok(mut r) = self.rejected.lock() {
            if r.len() == REJECTED_KEPT {
                r.remove(0);
            }
            r.push(why);
        }
    }
}

/// The longest a client may take over its opening handshake.
pub const HANDSHAKE_BOUND: Duration = Duration::from_secs(10);
/// The most opening handshakes the server runs at once; further connections wait in the
/// listen queue.
pub const MAX_HANDSHAKES: usize = 32;
/// How many dropped connections [`Server::rejected`] remembers.
const REJECTED_KEPT: usize = 4;

/// The server side of one opening handshake.
// The handshake callback's error type is tungstenite's own HTTP response.
#[allow(clippy::result_large_err)]
async fn handshake(
    tcp: TcpStream,
    peer: std::net::SocketAddr,
    own: String,
    by_path: Vec<(String, String)>,
    answer_subprotocol: bool,
) -> Result<Link, ConnectError> {
    let _ = tcp.set_nodelay(true);
    let (hs_tx, hs_rx) = std::sync::mpsc::channel();
    let ws = tokio_tungstenite::accept_hdr_async_with_config(
        tcp,
        move |req: &Request, resp: Response| {
            let hs = read_handshake(req);
            let _ = hs_tx.send(hs.clone());
            let eid = by_path
                .iter()
                .find(|(p, _)| *p == hs.path)
                .map_or(own.as_str(), |(_, e)| e.as_str());
            answer_handshake(&hs, eid, answer_subprotocol, resp)
        },
        Some(ws_config()),
    )
    .await;
    let seen = hs_rx.try_recv().ok();
    let ws = ws.map_err(|e| {
        let hs = seen.clone().unwrap_or_default();
        let text = format!(
            "WebSocket handshake from {peer} failed: {e} (path {:?}, {})",
            hs.path,
            hs.offered()
        );
        match hs.violation() {
            Some((requirement, why)) if seen.is_some() => ConnectError::Violation {
                requirement,
                text: format!("{why}; refused: {text}"),
            },
            _ => ConnectError::Unreachable(text),
        }
    })?;
    let hs = seen.unwrap_or_default();
    let detail = format!(
        "WebSocket server: peer {peer} connected to {:?}, {}, {}, {}",
        hs.path,
        hs.eid
            .as_ref()
            .map_or("no eid query parameter".into(), |e| format!("eid {e:?}")),
        hs.offered(),
        hs.extensions
            .as_ref()
            .map_or("no extensions".into(), |x| format!("extensions {x:?}")),
    );
    Ok(spawn_pump(
        ws,
        format!("WebSocket {peer} {}", hs.path),
        hs.eid,
        detail,
    ))
}

/// Limits for every WebSocket session, in both roles: one message is one USP Record, and a
/// message over [`super::max_record`] ends the session rather than the harness's memory.
fn ws_config() -> tungstenite::protocol::WebSocketConfig {
    tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(super::max_record()))
        .max_frame_size(Some(super::max_record()))
}

fn read_handshake(req: &Request) -> Handshake {
    let header_list = |name: &str| -> Vec<String> {
        req.headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(',').map(|s| s.trim().to_string()))
            .filter(|s| !s.is_empty())
            .collect()
    };
    let eid = req.uri().query().and_then(|q| {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "eid")
            .map(|(_, v)| percent_decode(v))
    });
    let ext = header_list("sec-websocket-extensions");
    Handshake {
        path: req.uri().path().to_string(),
        eid,
        subprotocols: req
            .headers()
            .contains_key("sec-websocket-protocol")
            .then(|| header_list("sec-websocket-protocol")),
        extensions: (!ext.is_empty()).then(|| ext.join(", ")),
    }
}

#[allow(clippy::result_large_err)] // tungstenite's callback contract
fn answer_handshake(
    hs: &Handshake,
    own_eid: &str,
    answer_subprotocol: bool,
    mut resp: Response,
) -> Result<Response, ErrorResponse> {
    // R-WS.12a: no session without v1.usp; nor without the eid that names the client.
    if let Some((requirement, why)) = hs.violation() {
        let mut err = ErrorResponse::new(Some(format!("{why} ({requirement})")));
        *err.status_mut() = http::StatusCode::BAD_REQUEST;
        return Err(err);
    }
    if answer_subprotocol {
        resp.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(SUBPROTOCOL),
        );
    }
    if hs
        .extensions
        .as_deref()
        .is_some_and(|e| e.contains("bbf-usp-protocol"))
        && let Ok(v) = HeaderValue::from_str(&format!("bbf-usp-protocol; eid=\"{own_eid}\""))
    {
        resp.headers_mut().insert("Sec-WebSocket-Extensions", v);
    }
    Ok(resp)
}

/// Fuzzing entry point, not API: the server's side of one opening handshake on the bytes
/// a client sent, through the same `read_handshake`, `answer_handshake` and
/// [`Handshake::violation`] as [`Server::accept`], with tungstenite's synchronous server on
/// an in-memory stream (no socket, no timer). Returns what the server wrote back.
#[doc(hidden)]
#[allow(clippy::result_large_err)] // tungstenite's callback contract
pub fn fuzz_handshake(request: &[u8], own_eid: &str) -> Vec<u8> {
    struct Mem<'a>(&'a [u8], &'a mut Vec<u8>);
    impl std::io::Read for Mem<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            std::io::Read::read(&mut self.0, buf)
        }
    }
    impl std::io::Write for Mem<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.1.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Vec::new();
    let mut seen = None;
    let callback = |req: &Request, resp: Response| {
        let hs = read_handshake(req);
        seen = Some(hs.clone());
        answer_handshake(&hs, own_eid, true, resp)
    };
    let result =
        tungstenite::accept_hdr_with_config(Mem(request, &mut out), callback, Some(ws_config()));
    if let Err(tungstenite::HandshakeError::Failure(e)) = result {
        let _ = describe_error(&e);
    }
    if let Some(hs) = seen {
        let _ = hs.violation();
    }
    out
}

/// Connects to a WebSocket server at `url` (`ws://host:port/path`) as the Endpoint `own_eid`,
/// offering `v1.usp` and the `eid` query parameter (R-WS.10, R-WS.10b), within `timeout`.
pub async fn connect(url: &str, own_eid: &str, timeout: Duration) -> Result<Link, ConnectError> {
    connect_with(url, own_eid, timeout, Hello::CONFORMING).await
}

/// [`connect`], offering what `hello` says. A server that answers without `v1.usp` breaks
/// R-WS.11 (or R-WS.9, naming another), and no session is established with it (R-WS.12).
pub async fn connect_with(
    url: &str,
    own_eid: &str,
    timeout: Duration,
    hello: Hello,
) -> Result<Link, ConnectError> {
    super::logged(url, dial(url, own_eid, timeout, hello).await)
}

async fn dial(
    url: &str,
    own_eid: &str,
    timeout: Duration,
    hello: Hello,
) -> Result<Link, ConnectError> {
    let sep = if url.contains('?') { '&' } else { '?' };
    let full = if hello.eid_query {
        format!("{url}{sep}eid={}", percent_encode(own_eid))
    } else {
        url.to_string()
    };
    let uri: http::Uri = full
        .parse()
        .map_err(|e| ConnectError::Unreachable(format!("bad WebSocket URL {full:?}: {e}")))?;
    let host = uri.host().unwrap_or("127.0.0.1").to_string();
    let port = uri.port_u16().unwrap_or(80);
    let mut req = http::Request::builder()
        .uri(&full)
        .header("Host", format!("{host}:{port}"))
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Key", generate_key())
        .header(
            "Sec-WebSocket-Extensions",
            format!("bbf-usp-protocol; eid=\"{own_eid}\""),
        );
    if hello.subprotocol {
        req = req.header("Sec-WebSocket-Protocol", SUBPROTOCOL);
    }
    let req = req
        .body(())
        .map_err(|e| ConnectError::Unreachable(e.to_string()))?;
    let attempt = async {
        let tcp = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| {
                ConnectError::Unreachable(format!("cannot connect to {host}:{port}: {e}"))
            })?;
        let _ = tcp.set_nodelay(true);
        tokio_tungstenite::client_async_with_config(req, tcp, Some(ws_config()))
            .await
            .map_err(|e| handshake_error(url, e))
    };
    let (ws, resp) = tokio::time::timeout(timeout, attempt).await.map_err(|_| {
        ConnectError::Unreachable(format!(
            "no WebSocket session with {url} within {}",
            crate::human::duration(timeout)
        ))
    })??;
    // R-WS.12: a client must not use a session the server did not accept v1.usp for.
    let proto = resp
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok());
    if hello.subprotocol && proto != Some(SUBPROTOCOL) {
        return Err(answer_violation(url, proto));
    }
    let peer_eid = resp
        .headers()
        .get("sec-websocket-extensions")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("eid=").nth(1))
        .map(|s| s.trim_matches(|c| c == '"' || c == ' ').to_string());
    let detail = format!(
        "WebSocket client: connected to {url}, server extensions {}",
        resp.headers()
            .get("sec-websocket-extensions")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none")
    );
    Ok(spawn_pump(ws, format!("WebSocket {url}"), peer_eid, detail))
}

/// A server's answer that does not accept `v1.usp`: none at all breaks R-WS.11, another
/// subprotocol R-WS.9.
fn answer_violation(url: &str, proto: Option<&str>) -> ConnectError {
    match proto {
        None => ConnectError::Violation {
            requirement: "R-WS.11",
            text: format!(
                "the server at {url} answered the opening handshake without a \
                 Sec-WebSocket-Protocol header, so no session is established (R-WS.12)"
            ),
        },
        Some(p) => ConnectError::Violation {
            requirement: "R-WS.9",
            text: format!(
                "the server at {url} answered Sec-WebSocket-Protocol {p:?}, not {SUBPROTOCOL:?}, \
                 so no session is established (R-WS.12)"
            ),
        },
    }
}

/// A failed client handshake: tungstenite's own subprotocol checks are the server breaking
/// the binding; anything else means the server was not reached as a WebSocket server.
fn handshake_error(url: &str, e: tungstenite::Error) -> ConnectError {
    use tungstenite::error::{ProtocolError, SubProtocolError};
    match e {
        tungstenite::Error::Protocol(ProtocolError::SecWebSocketSubProtocolError(
            SubProtocolError::NoSubProtocol,
        )) => answer_violation(url, None),
        tungstenite::Error::Protocol(ProtocolError::SecWebSocketSubProtocolError(
            SubProtocolError::InvalidSubProtocol,
        )) => answer_violation(url, Some("another subprotocol")),
        other => {
            ConnectError::Unreachable(format!("WebSocket handshake with {url} failed: {other}"))
        }
    }
}

/// Starts the task that owns the socket and moves frames to and from the link's channels.
fn spawn_pump<S>(
    ws: WebSocketStream<S>,
    describe: String,
    peer_eid: Option<String>,
    detail: String,
) -> Link
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, out_rx, ev_tx, ev_rx) = channels();
    let task = pump(ws, out_rx, ev_tx.clone());
    spawn_link(
        &describe,
        &ev_tx,
        [MtpEventKind::Connected { detail }],
        task,
    );
    Link {
        describe,
        mtp: MtpKind::WebSocket,
        peer_eid,
        sender,
        events: ev_rx,
    }
}

async fn pump<S>(
    mut ws: WebSocketStream<S>,
    mut out_rx: mpsc::UnboundedReceiver<Outgoing>,
    ev_tx: Events,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        tokio::select! {
            out = out_rx.recv() => match out {
                Some(Outgoing::Record(bytes)) => {
                    let stamp = Stamp::now();
                    if let Err(e) = ws.send(Message::Binary(bytes.clone().into())).await {
                        ev_tx.emit(MtpEventKind::Closed { code: None, reason: format!("send failed: {e}") }).await;
                        return;
                    }
                    let _ = ev_tx.stamped(stamp, MtpEventKind::Sent(bytes)).await;
                }
                Some(Outgoing::Close { code, reason }) => {
                    let frame = CloseFrame { code: CloseCode::from(code), reason: reason.clone().into() };
                    let _ = ws.close(Some(frame)).await;
                    ev_tx.emit(MtpEventKind::Closed { code: Some(code), reason: format!("closed by us: {reason}") }).await;
                    return;
                }
                // Nobody holds the link any more: close politely and stop.
                None => {
                    let _ = ws.close(None).await;
                    return;
                }
            },
            inbound = ws.next() => match inbound {
                Some(Ok(Message::Binary(b))) => {
                    if !ev_tx.emit(MtpEventKind::Record(b)).await { return; }
                }
                Some(Ok(Message::Text(t))) => {
                    ev_tx.emit(MtpEventKind::Broke {
                        requirement: "R-WS.14",
                        text: format!(
                            "a text frame arrived where USP Records must be binary frames: {:?}",
                            crate::clip::text(t.as_str().to_string())
                        ),
                    }).await;
                }
                Some(Ok(Message::Ping(_))) => { ev_tx.emit(MtpEventKind::Note("ping received".into())).await; }
                Some(Ok(Message::Pong(_))) => { ev_tx.emit(MtpEventKind::Note("pong received".into())).await; }
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame
                        .map(|f| (Some(u16::from(f.code)), f.reason.to_string()))
                        .unwrap_or((None, String::new()));
                    ev_tx.emit(MtpEventKind::Closed { code, reason: format!("closed by peer: {reason}") }).await;
                    return;
                }
                Some(Ok(Message::Frame(_))) => {}
                Some(Err(e)) => {
                    if let tungstenite::Error::Capacity(c) = &e {
                        ev_tx.emit(MtpEventKind::Broke {
                            requirement: HARNESS_LIMIT,
                            text: format!("the EUT sent a message over the {} bytes uspcheck reads ({c}; limits.max_record_size in the profile raises it)", super::max_record()),
                        }).await;
                    }
                    ev_tx.emit(MtpEventKind::Closed { code: None, reason: describe_error(&e) }).await;
                    return;
                }
                None => {
                    ev_tx.emit(MtpEventKind::Closed { code: None, reason: "the connection ended".into() }).await;
                    return;
                }
            }
        }
    }
}

fn describe_error(e: &tungstenite::Error) -> String {
    match e {
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            "the connection ended".into()
        }
        other => format!("WebSocket error: {other}"),
    }
}

/// Percent-encodes an Endpoint ID for the query string; `%` itself becomes `%25` (R-WS.10c).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    #[test]
    fn the_fuzzing_entry_point_answers_as_the_server_does() {
        let ok = b"GET /usp?eid=proto%3A%3Aagent HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v1.usp\r\nSec-WebSocket-Extensions: bbf-usp-protocol\r\n\r\n";
        let out = String::from_utf8(fuzz_handshake(ok, "proto::ctl")).unwrap();
        assert!(out.starts_with("HTTP/1.1 101"), "{out}");
        assert!(
            out.contains("bbf-usp-protocol; eid=\"proto::ctl\""),
            "{out}"
        );
        let no_proto =
            String::from_utf8_lossy(ok).replace("Sec-WebSocket-Protocol: v1.usp\r\n", "");
        let out = String::from_utf8(fuzz_handshake(no_proto.as_bytes(), "c")).unwrap();
        assert!(
            out.starts_with("HTTP/1.1 400") && out.contains("R-WS.10"),
            "{out}"
        );
        assert!(!fuzz_handshake(b"GET / HTTP/1.1\r\n", "c").starts_with(b"HTTP"));
    }

    #[test]
    fn eid_percent_encoding_round_trips() {
        let eid = "proto::a%b c";
        assert_eq!(percent_encode(eid), "proto::a%25b%20c");
        assert_eq!(percent_decode(&percent_encode(eid)), eid);
    }

    #[tokio::test]
    async fn client_and_server_exchange_binary_records() {
        let server = Server::bind("127.0.0.1:0", "proto::ctrl").await.unwrap();
        let url = format!("ws://{}/usp", server.local_addr().unwrap());
        let (srv, cli) = tokio::join!(
            server.accept(),
            connect(&url, "proto::agent", Duration::from_secs(5))
        );
        let (mut srv, mut cli) = (srv.unwrap(), cli.unwrap());
        assert_eq!(srv.peer_eid.as_deref(), Some("proto::agent"));
        assert_eq!(cli.peer_eid.as_deref(), Some("proto::ctrl"));
        assert!(matches!(
            srv.events.recv().await.unwrap().kind,
            MtpEventKind::Connected { .. }
        ));
        assert!(matches!(
            cli.events.recv().await.unwrap().kind,
            MtpEventKind::Connected { .. }
        ));
        assert!(cli.sender.record(vec![1, 2, 3]));
        assert_eq!(
            srv.events.recv().await.unwrap().kind,
            MtpEventKind::Record(vec![1, 2, 3].into())
        );
        srv.sender.close(1000, "done");
        loop {
            if let MtpEventKind::Closed { code, .. } = cli.events.recv().await.unwrap().kind {
                assert_eq!(code, Some(1000));
                break;
            }
        }
    }

    /// A second Controller reached on its own path announces its own Endpoint ID.
    #[tokio::test]
    async fn the_server_answers_as_the_endpoint_of_the_path() {
        let server = Server::bind("127.0.0.1:0", "proto::ctrl")
            .await
            .unwrap()
            .serve_as("/second", "proto::ctrl2");
        let addr = server.local_addr().unwrap();
        for (path, eid) in [("/usp", "proto::ctrl"), ("/second", "proto::ctrl2")] {
            let url = format!("ws://{addr}{path}");
            let (srv, cli) = tokio::join!(
                server.accept(),
                connect(&url, "proto::agent", Duration::from_secs(5))
            );
            assert!(srv.is_ok());
            assert_eq!(cli.unwrap().peer_eid.as_deref(), Some(eid), "path {path}");
        }
    }
    /// R-WS.14b: a record split over several frames arrives whole; a text frame is reported.
    #[tokio::test]
    async fn fragmented_records_are_reassembled_and_text_frames_noted() {
        use tokio_tungstenite::tungstenite::protocol::frame::Frame;
        use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
        let server = Server::bind("127.0.0.1:0", "proto::ctrl").await.unwrap();
        let addr = server.local_addr().unwrap();
        let accept = tokio::spawn(async move { server.accept().await });
        let mut req = format!("ws://{addr}/usp?eid=proto::agent")
            .into_client_request()
            .unwrap();
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(SUBPROTOCOL),
        );
        let (mut raw, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        let mut link = accept.await.unwrap().unwrap();
        raw.send(Message::Frame(Frame::message(
            vec![1u8, 2],
            OpCode::Data(Data::Binary),
            false,
        )))
        .await
        .unwrap();
        raw.send(Message::Frame(Frame::message(
            vec![3u8],
            OpCode::Data(Data::Continue),
            true,
        )))
        .await
        .unwrap();
        raw.send(Message::Text("hello".into())).await.unwrap();
        let mut kinds = Vec::new();
        while kinds.len() < 3 {
            kinds.push(link.events.recv().await.unwrap().kind);
        }
        assert_eq!(kinds[1], MtpEventKind::Record(vec![1, 2, 3].into()));
        assert!(matches!(
            &kinds[2],
            MtpEventKind::Broke {
                requirement: "R-WS.14",
                ..
            }
        ));
    }

    #[tokio::test]
    async fn a_client_without_the_subprotocol_is_refused() {
        let server = Server::bind("127.0.0.1:0", "proto::ctrl").await.unwrap();
        let addr = server.local_addr().unwrap();
        let accept = tokio::spawn(async move { server.accept().await });
        let plain = tokio_tungstenite::connect_async(format!("ws://{addr}/usp")).await;
        assert!(plain.is_err());
        let err = accept.await.unwrap().unwrap_err();
        assert!(
            matches!(&err, ConnectError::Violation { requirement: "R-WS.10", text } if text.contains("handshake")),
            "{err}"
        );
    }

    /// A stalled TCP connection and a stray HTTP GET before the agent neither block its
    /// handshake nor turn into "not reachable".
    #[tokio::test]
    async fn stalled_and_stray_connections_do_not_keep_the_agent_out() {
        use tokio::io::AsyncWriteExt;
        let server = Server::bind("127.0.0.1:0", "proto::ctrl").await.unwrap();
        let addr = server.local_addr().unwrap();
        let url = format!("ws://{addr}/usp");
        let _stalled = TcpStream::connect(addr).await.unwrap();
        let mut stray = TcpStream::connect(addr).await.unwrap();
        stray
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        // Bounded so that a server stuck on the stalled connection fails rather than hangs.
        let (srv, cli) = tokio::join!(
            tokio::time::timeout(Duration::from_secs(30), server.accept()),
            connect(&url, "proto::agent", Duration::from_secs(5))
        );
        let srv = srv.expect("the agent's handshake waited behind the stalled connection");
        assert_eq!(srv.unwrap().peer_eid.as_deref(), Some("proto::agent"));
        assert!(cli.is_ok());
    }
}
