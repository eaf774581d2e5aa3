//! Transports. Each MTP turns its bytes into USP Records and reports MTP-level events on a
//! [`Link`]: one connection (or broker session) between the harness and an Endpoint. Every
//! event carries the instant it was seen, so cases can assert on timing.
//!
//! A link is two channels: [`Link::events`] delivers what the peer did (connected, sent a
//! record, closed) and [`LinkSender`] carries what we want sent. The task that owns the
//! socket sits between them, so a brokered MTP (MQTT, STOMP) or a Unix socket fits the same
//! shape without any caller changing.
//!
//! Diagnostics (`-vv`, `RUST_LOG=uspcheck::mtp=debug`): each link's task runs in a `link`
//! span naming it, and every event a link hands on is also a `tracing` event there: up,
//! closed, a rule broken or a note at debug, each record's size at trace.

pub mod mqtt;
pub mod tls;
pub mod uds;
pub mod websocket;

use std::time::{Instant, SystemTime};

use tokio::sync::mpsc;
use tracing::Instrument;

/// What happened on a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MtpEventKind {
    /// The link is up; `detail` describes the handshake (path, subprotocol, peer's eid…).
    Connected { detail: String },
    /// A USP Record's bytes arrived: shared, not copied, with the buffer the MTP read them
    /// into (a record can be megabytes).
    Record(bytes::Bytes),
    /// A USP Record's bytes were handed to the socket (stamped just before the write).
    Sent(Vec<u8>),
    /// Something at the MTP level that a case may assert on or a person needs to see
    /// (a text frame where binary was required, a ping, a refused handshake…).
    Note(String),
    /// The peer broke a TR-369 rule of the MTP itself (a text frame where USP Records must
    /// be binary, R-WS.14): the case fails on it like on any universal test metric.
    Broke {
        requirement: &'static str,
        text: String,
    },
    /// The link went down: a close code when the MTP has one, and why.
    Closed { code: Option<u16>, reason: String },
}

/// An event with the moment it was seen.
#[derive(Debug, Clone)]
pub struct MtpEvent {
    pub at: Instant,
    pub wall: SystemTime,
    pub kind: MtpEventKind,
}

impl MtpEvent {
    pub fn now(kind: MtpEventKind) -> Self {
        MtpEvent::stamped(Stamp::now(), kind)
    }

    /// An event with a time taken earlier, where the bytes met the socket.
    pub fn stamped(stamp: Stamp, kind: MtpEventKind) -> Self {
        MtpEvent {
            at: stamp.at,
            wall: stamp.wall,
            kind,
        }
    }
}

/// An instant on both clocks. MTP tasks take it where the bytes meet the socket: a send's
/// just before its bytes are handed to the socket, a receive's as soon as they are read from
/// it. An answer, which can only be read after its request was written, is therefore never
/// stamped before it, whichever task or thread stamps which.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    pub at: Instant,
    pub wall: SystemTime,
}

impl Stamp {
    pub fn now() -> Stamp {
        Stamp {
            at: Instant::now(),
            wall: SystemTime::now(),
        }
    }
}

/// Why no link came of an attempt to connect or to accept a connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// Nothing answered, or the environment broke (refused, timed out, not the protocol at
    /// all): the peer was not reached, which says nothing about its conformance.
    #[error("{0}")]
    Unreachable(String),
    /// The peer was reached, and its handshake broke the TR-369 requirement named.
    #[error("{text} ({requirement})")]
    Violation {
        requirement: &'static str,
        text: String,
    },
}

impl From<String> for ConnectError {
    fn from(text: String) -> Self {
        ConnectError::Unreachable(text)
    }
}

/// What a link can be asked to send.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// A USP Record, framed as the MTP requires.
    Record(Vec<u8>),
    /// Close the link, with a close code where the MTP has one.
    Close { code: u16, reason: String },
}

/// The sending half of a link; cheap to clone.
#[derive(Debug, Clone)]
pub struct LinkSender(pub(crate) mpsc::UnboundedSender<Outgoing>);

impl LinkSender {
    /// Queues a record; false when the link is already gone.
    pub fn record(&self, bytes: Vec<u8>) -> bool {
        self.0.send(Outgoing::Record(bytes)).is_ok()
    }

    /// Asks the link to close.
    pub fn close(&self, code: u16, reason: &str) {
        let _ = self.0.send(Outgoing::Close {
            code,
            reason: reason.into(),
        });
    }
}

/// Which MTP a link runs over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MtpKind {
    WebSocket,
    Uds,
    /// MQTT, with what the MQTTConnectRecord reports: the version and the topic this side
    /// subscribed to (TR-369 "MQTTConnectRecord").
    Mqtt {
        v5: bool,
        subscribed_topic: String,
    },
}

/// One connection between the harness and an Endpoint.
#[derive(Debug)]
pub struct Link {
    /// Which MTP and which peer, for reports (`WebSocket 127.0.0.1:41234 /usp`).
    pub describe: String,
    pub mtp: MtpKind,
    /// The peer's Endpoint ID as the MTP told us (WebSocket `eid` query parameter), if any.
    pub peer_eid: Option<String>,
    pub sender: LinkSender,
    pub events: mpsc::Receiver<MtpEvent>,
}

/// The largest USP Record uspcheck reads by default, on every MTP (docs/limits.md). While a
/// record is judged it costs about ten times its size (bytes, decoded message, match tree),
/// so this keeps a run well under 64 MB whatever the agent sends; a profile raises it with
/// `limits.max_record_size` for an agent whose answers are bigger.
pub const DEFAULT_MAX_RECORD: usize = 2 * 1024 * 1024;

/// The most a profile may raise [`max_record`] to: WebSocket's own default bound.
pub const MAX_RECORD_CEILING: usize = 64 * 1024 * 1024;

/// What an MTP may add around one record (a UDS frame's header and TLVs, an MQTT PUBLISH's
/// topic and properties): its packet limits are [`max_record`] plus this.
pub const RECORD_HEADROOM: usize = 64 * 1024;

static MAX_RECORD: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(DEFAULT_MAX_RECORD);

/// The largest USP Record uspcheck reads on any MTP, in bytes: one process runs one suite
/// against one agent, so the bound is the process's, set once from the profile before the
/// first connection ([`set_max_record`]). A bigger record is refused unread, and the case
/// fails on this documented limit.
pub fn max_record() -> usize {
    MAX_RECORD.load(std::sync::atomic::Ordering::Relaxed)
}

/// Sets [`max_record`] (between 64 KiB and [`MAX_RECORD_CEILING`]).
pub fn set_max_record(bytes: usize) {
    MAX_RECORD.store(
        bytes.clamp(64 * 1024, MAX_RECORD_CEILING),
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// Events a link holds that its reader has not taken yet (docs/limits.md). When they are
/// this many, the MTP task stops reading from the peer until the reader takes some: a peer
/// that sends faster than the harness reads is slowed down by its own transport (TCP's
/// window, the socket's buffer) instead of filling the harness's memory.
pub const EVENT_QUEUE: usize = 256;

/// The sending half of a link's events, kept by its MTP task.
#[derive(Debug, Clone)]
pub(crate) struct Events(mpsc::Sender<MtpEvent>);

impl Events {
    /// Hands on an event seen now, waiting while the queue is full ([`EVENT_QUEUE`]); false
    /// when nobody holds the link any more.
    pub async fn emit(&self, kind: MtpEventKind) -> bool {
        self.stamped(Stamp::now(), kind).await
    }

    /// Hands on an event seen at `stamp`, as [`Events::emit`].
    pub async fn stamped(&self, stamp: Stamp, kind: MtpEventKind) -> bool {
        trace_event(&kind);
        self.0.send(MtpEvent::stamped(stamp, kind)).await.is_ok()
    }

    /// Hands on an event as it was seen; false when nobody holds the link any more.
    pub async fn forward(&self, ev: MtpEvent) -> bool {
        trace_event(&ev.kind);
        self.0.send(ev).await.is_ok()
    }

    /// Room for one event, waiting while the queue is full; none when nobody holds the link
    /// any more.
    pub async fn reserve(&self) -> Option<mpsc::Permit<'_, MtpEvent>> {
        self.0.reserve().await.ok()
    }

    /// Whether both send to the same link.
    pub fn same(&self, other: &Events) -> bool {
        self.0.same_channel(&other.0)
    }

    /// An event of a new link before its task runs: its queue has room for the few of them.
    pub fn early(&self, kind: MtpEventKind) {
        trace_event(&kind);
        let _ = self.0.try_send(MtpEvent::now(kind));
    }
}

/// An MTP event as a diagnostic, in the span of the link it happened on.
fn trace_event(kind: &MtpEventKind) {
    match kind {
        MtpEventKind::Connected { detail } => tracing::debug!(detail = detail.as_str(), "link up"),
        MtpEventKind::Closed { code, reason } => {
            tracing::debug!(code, reason = reason.as_str(), "link closed")
        }
        MtpEventKind::Broke { requirement, text } => {
            tracing::debug!(
                requirement,
                text = text.as_str(),
                "the peer broke an MTP rule"
            )
        }
        MtpEventKind::Note(note) => tracing::debug!(note = note.as_str(), "MTP note"),
        MtpEventKind::Record(b) => {
            tracing::trace!(bytes = b.len(), record = %summary(b), "record received")
        }
        MtpEventKind::Sent(b) => {
            tracing::trace!(bytes = b.len(), record = %summary(b), "record sent")
        }
    }
}

/// A record in a few words, for a trace: `no_session_context from A to B: Get "msg-1"`.
fn summary(bytes: &[u8]) -> String {
    use crate::usp::{msg, pb, record};
    use prost::Message;
    let Ok(r) = record::decode(bytes) else {
        return "not a USP Record".into();
    };
    let mut s = format!("{} from {} to {}", record::kind(&r), r.from_id, r.to_id);
    if let Some(m) = record::payload(&r).and_then(|p| pb::Msg::decode(p).ok()) {
        s.push_str(&format!(": {} {:?}", msg::body_name(&m), msg::msg_id(&m)));
    }
    s
}

/// Starts the task of a new link in a `link` span named by `describe` (inside the span of
/// whoever opened it, a case's for instance), after handing on its first events (`Connected`
/// and what came with it) in that span.
pub(crate) fn spawn_link<F>(
    describe: &str,
    events: &Events,
    first: impl IntoIterator<Item = MtpEventKind>,
    task: F,
) where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let span = tracing::debug_span!("link", link = %describe);
    span.in_scope(|| first.into_iter().for_each(|e| events.early(e)));
    tokio::spawn(task.instrument(span));
}

/// `result`, with its failure said at debug: why there is no link with `peer`.
pub(crate) fn logged<T, E: std::fmt::Display>(peer: &str, result: Result<T, E>) -> Result<T, E> {
    if let Err(e) = &result {
        tracing::debug!(%peer, error = %e, "no link");
    }
    result
}

/// Makes the two channels of a link; the MTP task keeps `(events, outgoing_rx)`.
pub(crate) fn channels() -> (
    LinkSender,
    mpsc::UnboundedReceiver<Outgoing>,
    Events,
    mpsc::Receiver<MtpEvent>,
) {
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = mpsc::channel(EVENT_QUEUE);
    (LinkSender(out_tx), out_rx, Events(ev_tx), ev_rx)
}
