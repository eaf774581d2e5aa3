//! One session with the EUT: send, await by msg_id, await by predicate, and "nothing
//! arrives", all bounded, all reading the log from a cursor of unconsumed messages.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;

use super::log::{BODY_PER_BYTE, Dir, LogEntry, Logged, body_cost, describe, summarize};
use crate::mtp::{ConnectError, Link, MtpEvent, MtpEventKind};
use crate::usp::checks::{self, Violation};
use crate::usp::pb::{self, header::MsgType, request::ReqType, response::RespType};
use crate::usp::{msg, record};

/// Unconsumed messages a session keeps for later waits; beyond it the oldest are dropped
/// and counted, and a silence check that may have missed one cannot pass.
pub const MAX_PENDING: usize = 1024;
/// Records a session reads from the EUT in one case; beyond it the EUT is flooding, and the
/// session stops reading and closes the link (docs/limits.md). A case's own exchanges are a
/// few hundred records at most; each record beyond its body costs the log about 200 bytes.
pub const MAX_RECORDS: usize = 20_000;
/// Memory the bodies of records (bytes and decoded messages, [`body_cost`]) may hold in the
/// log; beyond it the oldest bodies no wait can still take are dropped from the log (their
/// one-line summaries stay).
pub const LOG_BODY_BUDGET: usize = 4 * 1024 * 1024;
/// Events a session reads without waiting when it only drains what already arrived.
const MAX_DRAIN: usize = 10_000;

/// A request as it went out.
#[derive(Debug, Clone)]
pub struct Sent {
    pub msg_id: String,
    pub msg_type: MsgType,
    /// When it was queued to the link (its log entry moves to the instant its bytes reach
    /// the socket, a moment later, once the link reports it).
    pub at: Instant,
}

/// A message from the EUT, taken from the log.
#[derive(Debug, Clone)]
pub struct Received {
    /// Shared with the log, not copied: an answer can be megabytes.
    pub msg: Arc<pb::Msg>,
    pub at: Instant,
    /// Its place in the log when it was taken (entries that arrive later may move it).
    pub log_index: usize,
    pub bytes: Bytes,
}

/// Why a wait ended without what it waited for.
#[derive(Debug, Clone)]
pub enum WaitError {
    /// The bound passed. `unmatched` lists what did arrive meanwhile, to show in the failure.
    Timeout {
        waited: Duration,
        unmatched: Vec<String>,
    },
    /// The link went down.
    Closed { reason: String },
}

impl std::fmt::Display for WaitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WaitError::Timeout { waited, unmatched } => {
                write!(
                    f,
                    "nothing matching arrived within {}",
                    crate::human::duration(*waited)
                )?;
                if unmatched.is_empty() {
                    write!(f, " (the EUT sent nothing else meanwhile)")
                } else {
                    write!(f, "; received meanwhile: {}", unmatched.join("; "))
                }
            }
            WaitError::Closed { reason } => write!(f, "the connection to the EUT closed: {reason}"),
        }
    }
}

/// Why an "expect none" check did not pass.
#[derive(Debug, Clone)]
pub enum NoneError {
    /// A message the check forbids arrived.
    Arrived(Box<Received>),
    /// The connection closed before the span was over: silence after `after` (time into the
    /// span; zero when it was already closed) proves nothing.
    Closed { after: Duration, reason: String },
    /// Unconsumed messages were dropped (more than [`MAX_PENDING`] waited): one of them may
    /// have been what the check forbids, so the silence proves nothing.
    Overflow { dropped: usize },
}

impl std::fmt::Display for NoneError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoneError::Arrived(got) => {
                write!(f, "{} arrived", summarize(&got.bytes, Some(&got.msg)))
            }
            NoneError::Closed { after, reason } if after.is_zero() => write!(
                f,
                "inconclusive: the connection to the EUT was closed before the span began ({reason})"
            ),
            NoneError::Closed { after, reason } => write!(
                f,
                "inconclusive: the connection to the EUT closed {:.3} s into the span ({reason})",
                after.as_secs_f64()
            ),
            NoneError::Overflow { dropped } => write!(
                f,
                "inconclusive: {dropped} unconsumed messages from the EUT were dropped in this \
                 case (over {MAX_PENDING} waited at once), and one of them may have been what \
                 the check forbids"
            ),
        }
    }
}

/// Gets a new link to the EUT after it dropped the old one (it rebooted): accept its
/// reconnection, or connect to it again. The caller bounds the wait.
pub type Relink =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<Link, ConnectError>> + Send>> + Send + Sync>;

/// A second Controller's own connection with the EUT (TP-469 1.78): what that Controller
/// sends goes over it, and what arrives on it joins the one log.
struct SecondLink {
    endpoint_id: String,
    link: Link,
}

/// A session with the EUT over one link (replaced by a new one when the EUT reconnects).
pub struct Session {
    link: Link,
    second: Option<SecondLink>,
    relink: Option<Relink>,
    relink_bound: Duration,
    /// The Controller identities the harness plays: the primary first, then a secondary.
    identities: Vec<String>,
    eut_id: String,
    msg_prefix: String,
    next_id: u64,
    /// In time order; see [`Session::insert`].
    log: Vec<LogEntry>,
    /// Log indices of inbound messages not yet consumed by a wait, oldest first.
    pending: VecDeque<usize>,
    /// Log indices of records queued to a link whose bytes it has not yet reported on the
    /// socket, oldest first.
    in_flight: VecDeque<usize>,
    /// Violations not yet reported by a step.
    fresh_violations: Vec<Violation>,
    closed: Option<String>,
    /// When the link was seen closed (the instant of its Closed event).
    closed_at: Option<Instant>,
    /// Whether a Notify asking for a response gets one as soon as it arrives.
    auto_ack: bool,
    start: Instant,
    /// Records read from the EUT (see [`MAX_RECORDS`]).
    received: usize,
    /// Unconsumed messages dropped (see [`MAX_PENDING`]).
    dropped: usize,
    /// How many of the oldest unconsumed messages the wait in progress has already looked
    /// at and refused: each new event is checked once, not the whole store again.
    refused: usize,
    /// Bytes of record bodies the log holds in full (see [`LOG_BODY_BUDGET`]).
    retained: usize,
    /// Records from the EUT that carried no Msg a wait could take (garbage, a Record of
    /// another kind), and the summary of the last.
    unreadable: (usize, String),
    /// How the EUT's records were addressed, each way once (see [`Addressed`]).
    addressed: Vec<Addressed>,
}

/// How one kind of record from the EUT was addressed: what the preflight compares with the
/// profile. Kept apart from the log, whose bodies its budget may drop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressed {
    /// The Record's kind (`websocket_connect`, `no_session_context`…).
    pub kind: &'static str,
    /// The body of the Msg it carried (`get_resp`), if any.
    pub body: Option<&'static str>,
    pub from_id: String,
    pub to_id: String,
}

/// At most this many different [`Addressed`] are kept: an agent has one or two.
const ADDRESSED_KEPT: usize = 16;

impl Session {
    /// A session over `link`; msg_ids are `<msg_prefix>-<n>`, so a log shows which case sent what.
    pub fn new(link: Link, controller_id: &str, eut_id: &str, msg_prefix: &str) -> Session {
        Session {
            link,
            second: None,
            relink: None,
            relink_bound: Duration::ZERO,
            identities: vec![controller_id.into()],
            eut_id: eut_id.into(),
            msg_prefix: msg_prefix.into(),
            next_id: 0,
            log: Vec::new(),
            pending: VecDeque::new(),
            in_flight: VecDeque::new(),
            fresh_violations: Vec::new(),
            closed: None,
            closed_at: None,
            auto_ack: true,
            start: Instant::now(),
            received: 0,
            dropped: 0,
            refused: 0,
            retained: 0,
            unreadable: (0, String::new()),
            addressed: Vec::new(),
        }
    }

    /// When off, Notify messages are answered only by [`Session::ack`], so a case can make
    /// the EUT retry.
    pub fn set_auto_ack(&mut self, on: bool) {
        self.auto_ack = on;
    }

    pub fn auto_ack(&self) -> bool {
        self.auto_ack
    }

    pub fn start(&self) -> Instant {
        self.start
    }

    pub fn log(&self) -> &[LogEntry] {
        &self.log
    }

    /// How the EUT's records were addressed, each way once, in the order first seen.
    pub fn addressed(&self) -> &[Addressed] {
        &self.addressed
    }

    pub fn eut_id(&self) -> &str {
        &self.eut_id
    }

    /// The primary Controller identity.
    pub fn controller_id(&self) -> &str {
        &self.identities[0]
    }

    /// Adds a further Controller identity the harness may send as (TP-469 1.78's secondary).
    pub fn add_identity(&mut self, endpoint_id: &str) {
        if !self.identities.iter().any(|i| i == endpoint_id) {
            self.identities.push(endpoint_id.into());
        }
    }

    /// Gives the Controller identity `endpoint_id` its own connection with the EUT: from now
    /// on it sends over `link`, and what the EUT sends there is read like the main link's.
    /// Its closing is logged but does not end the session.
    pub fn attach_second_link(&mut self, endpoint_id: &str, link: Link) {
        self.add_identity(endpoint_id);
        self.push(Logged::Mtp(format!(
            "{endpoint_id} has its own session: {}",
            link.describe
        )));
        self.second = Some(SecondLink {
            endpoint_id: endpoint_id.into(),
            link,
        });
    }

    /// Whether `endpoint_id` speaks over a connection of its own.
    pub fn has_own_link(&self, endpoint_id: &str) -> bool {
        self.second
            .as_ref()
            .is_some_and(|s| s.endpoint_id == endpoint_id)
    }

    /// How to get a new link when the EUT reconnects (after a reboot), and how long the
    /// reconnection may take.
    pub fn set_relink(&mut self, relink: Relink, bound: Duration) {
        self.relink = Some(relink);
        self.relink_bound = bound;
    }

    /// Gives the link back (for EUTs that keep one connection across cases).
    pub fn into_link(mut self) -> Option<Link> {
        self.close_second();
        self.closed.is_none().then_some(self.link)
    }

    /// Universal-metric violations seen since the last call.
    pub fn take_violations(&mut self) -> Vec<Violation> {
        std::mem::take(&mut self.fresh_violations)
    }

    /// Sends a request with a fresh msg_id, as the primary Controller.
    pub fn send(&mut self, req: ReqType) -> Sent {
        let primary = self.identities[0].clone();
        self.send_as(req, &primary)
    }

    /// Sends a request with a fresh msg_id from the Controller identity `from`.
    pub fn send_as(&mut self, req: ReqType, from: &str) -> Sent {
        self.next_id += 1;
        let id = format!("{}-{}", self.msg_prefix, self.next_id);
        let m = msg::request(id.clone(), req);
        let msg_type = msg::header_type(&m).unwrap_or(MsgType::Error);
        let log_index = self.send_from(m, from);
        Sent {
            msg_id: id,
            msg_type,
            at: self.log[log_index].at,
        }
    }

    /// Sends any Msg in a no_session_context Record as the primary Controller; returns its
    /// log index.
    pub fn send_msg(&mut self, m: pb::Msg) -> usize {
        let primary = self.identities[0].clone();
        self.send_from(m, &primary)
    }

    fn send_from(&mut self, m: pb::Msg, from: &str) -> usize {
        let rec = record::no_session(&self.eut_id, from, &m);
        let bytes = record::encode(&rec);
        // Taken before queueing, so never after the bytes reach the socket; the link's Sent
        // event replaces it with the instant they did.
        let (at, wall) = (Instant::now(), SystemTime::now());
        let queued = match &self.second {
            Some(s) if s.endpoint_id == from => s.link.sender.record(bytes.clone()),
            _ => self.link.sender.record(bytes.clone()),
        };
        let mut summary = summarize(&bytes, Some(&m));
        if !queued {
            summary.push_str(" (not sent: the connection is closed)");
        }
        let idx = self.insert(LogEntry {
            at,
            wall,
            what: Logged::Record {
                dir: Dir::Out,
                summary,
                bytes: bytes.into(),
                msg: Some(Arc::new(m)),
                violations: vec![],
            },
        });
        if queued {
            self.in_flight.push_back(idx);
        }
        idx
    }

    /// Answers a Notify with its NotifyResp (R-NOT.x: the subscription_id echoes the Notify's).
    pub fn ack(&mut self, notify: &Received) {
        if let Some(n) = msg::notify(&notify.msg) {
            let resp = msg::response(
                msg::msg_id(&notify.msg),
                RespType::NotifyResp(pb::NotifyResp {
                    subscription_id: n.subscription_id.clone(),
                }),
            );
            self.send_msg(resp);
        }
    }

    fn push(&mut self, what: Logged) -> usize {
        self.insert(LogEntry {
            at: Instant::now(),
            wall: SystemTime::now(),
            what,
        })
    }

    /// Adds an entry where its time puts it, and returns its index. Entries mostly come in
    /// order; one that comes late (from the other of two links, from a link's reader while
    /// its writer reported, or noted before an event already on its way) goes before those
    /// it predates, and the indices the session holds move with it.
    fn insert(&mut self, e: LogEntry) -> usize {
        let pos = self
            .log
            .iter()
            .rposition(|x| x.at <= e.at)
            .map_or(0, |p| p + 1);
        self.log.insert(pos, e);
        for i in self.pending.iter_mut().chain(self.in_flight.iter_mut()) {
            if *i >= pos {
                *i += 1;
            }
        }
        pos
    }

    /// A link reports a record's bytes on the socket: its entry takes that instant.
    fn on_wire(&mut self, bytes: &[u8], at: Instant, wall: SystemTime) {
        let Some(k) = self.in_flight.iter().position(
            |&i| matches!(&self.log[i].what, Logged::Record { bytes: b, .. } if b == bytes),
        ) else {
            return;
        };
        let Some(idx) = self.in_flight.remove(k) else {
            return;
        };
        let mut e = self.log.remove(idx);
        for i in self.pending.iter_mut().chain(self.in_flight.iter_mut()) {
            if *i > idx {
                *i -= 1;
            }
        }
        e.at = at;
        e.wall = wall;
        self.insert(e);
    }

    /// Awaits the response or Error answering `sent`, within `bound`.
    pub async fn await_answer(
        &mut self,
        sent: &Sent,
        bound: Duration,
    ) -> Result<Received, WaitError> {
        self.await_answer_with(sent, bound, false).await
    }

    /// Awaits the answer to `sent`; with `reconnect`, over a new link if the EUT
    /// reconnects meanwhile (see [`Session::await_where`]).
    pub async fn await_answer_with(
        &mut self,
        sent: &Sent,
        bound: Duration,
        reconnect: bool,
    ) -> Result<Received, WaitError> {
        let id = sent.msg_id.clone();
        let got = self
            .await_where(bound, reconnect, |m| {
                msg::is_answer(m) && msg::msg_id(m) == id
            })
            .await?;
        let wrong = checks::answer(sent.msg_type, &got.msg);
        self.note_violations(got.log_index, wrong);
        Ok(got)
    }

    /// Awaits the first unconsumed message from the EUT that `want` accepts, within `bound`.
    /// With `reconnect`, a dropped link is not the end: the EUT may reconnect (after a
    /// reboot) within the same bound, and the wait goes on over the new link.
    pub async fn await_where(
        &mut self,
        bound: Duration,
        reconnect: bool,
        want: impl Fn(&pb::Msg) -> bool,
    ) -> Result<Received, WaitError> {
        let mut deadline = tokio::time::Instant::now() + bound;
        let unreadable = self.unreadable.0;
        self.refused = 0;
        loop {
            if let Some(got) = self.take_first(&want) {
                return Ok(got);
            }
            if let Some(reason) = self.closed.clone() {
                match (&self.relink, reconnect) {
                    (Some(relink), true) => {
                        let relink = relink.clone();
                        self.push(Logged::Mtp(format!(
                            "the EUT disconnected ({reason}); waiting for it to reconnect"
                        )));
                        let began = tokio::time::Instant::now();
                        // A slow reconnect back-off is the agent's right (R-WS.19): the
                        // reconnection gets its own bound, and the time it took does not
                        // count against the step.
                        let reconnect_by = deadline.max(began + self.relink_bound);
                        match tokio::time::timeout_at(reconnect_by, relink()).await {
                            Ok(Ok(link)) => {
                                self.relinked(link);
                                deadline += began.elapsed();
                                continue;
                            }
                            Ok(Err(e)) => {
                                return Err(WaitError::Closed {
                                    reason: format!("{reason}; reconnecting failed: {e}"),
                                });
                            }
                            Err(_) => {
                                return Err(WaitError::Closed {
                                    reason: format!(
                                        "{reason}; the EUT did not reconnect within {}",
                                        crate::human::duration(reconnect_by - began)
                                    ),
                                });
                            }
                        }
                    }
                    _ => return Err(WaitError::Closed { reason }),
                }
            }
            // Checked before each event too: a flood must not outlast the bound.
            if tokio::time::Instant::now() >= deadline || !self.pump_until(deadline).await {
                let mut unmatched = self.unconsumed_summaries();
                let (count, last) = &self.unreadable;
                match count - unreadable {
                    0 => {}
                    1 => unmatched.push(last.clone()),
                    n => unmatched.push(format!("{n} records with no message (the last: {last})")),
                }
                return Err(WaitError::Timeout {
                    waited: bound,
                    unmatched,
                });
            }
        }
    }

    /// Reads what the link has already delivered and, if it turns out closed, waits (within
    /// the relink bound) for the EUT to reconnect: for a request that must reach an EUT
    /// that may be rebooting.
    pub async fn ensure_linked(&mut self) -> Result<(), WaitError> {
        let now = tokio::time::Instant::now();
        for _ in 0..MAX_DRAIN {
            if self.closed.is_some() || !self.pump_until(now).await {
                break;
            }
        }
        let Some(reason) = self.closed.clone() else {
            return Ok(());
        };
        let Some(relink) = self.relink.clone() else {
            return Err(WaitError::Closed { reason });
        };
        self.push(Logged::Mtp(format!(
            "the EUT disconnected ({reason}); waiting for it to reconnect before sending"
        )));
        match tokio::time::timeout(self.relink_bound, relink()).await {
            Ok(Ok(link)) => {
                self.relinked(link);
                Ok(())
            }
            Ok(Err(e)) => Err(WaitError::Closed {
                reason: format!("{reason}; reconnecting failed: {e}"),
            }),
            Err(_) => Err(WaitError::Closed {
                reason: format!(
                    "{reason}; the EUT did not reconnect within {}",
                    crate::human::duration(self.relink_bound)
                ),
            }),
        }
    }

    fn relinked(&mut self, link: Link) {
        self.link = link;
        self.closed = None;
        self.closed_at = None;
    }

    /// Succeeds if nothing `want` accepts arrives for `span`; otherwise says what did, or
    /// that the connection closed meanwhile: silence over a closed connection proves nothing,
    /// unless the case expects the EUT to be disconnected (`while_closed`), and then the span
    /// is waited in full. The span is always waited in full when it passes: that is the point
    /// of the check.
    pub async fn expect_none(
        &mut self,
        span: Duration,
        while_closed: bool,
        want: impl Fn(&pb::Msg) -> bool,
    ) -> Result<(), NoneError> {
        let began = Instant::now();
        let deadline = tokio::time::Instant::now() + span;
        self.refused = 0;
        loop {
            if let Some(got) = self.take_first(&want) {
                return Err(NoneError::Arrived(Box::new(got)));
            }
            if self.dropped > 0 {
                // A dropped message was never looked at by this check.
                return Err(NoneError::Overflow {
                    dropped: self.dropped,
                });
            }
            if let Some(reason) = self.closed.clone() {
                if while_closed {
                    // Nothing can arrive on a closed link: the deadline is the only event.
                    tokio::time::sleep_until(deadline).await;
                    return Ok(());
                }
                let at = self.closed_at.unwrap_or(began);
                return Err(NoneError::Closed {
                    after: at.saturating_duration_since(began),
                    reason,
                });
            }
            if tokio::time::Instant::now() >= deadline || !self.pump_until(deadline).await {
                return Ok(());
            }
        }
    }

    /// Takes the first unconsumed message `want` accepts, looking only at those the wait in
    /// progress has not refused yet (see `refused`).
    fn take_first(&mut self, want: &impl Fn(&pb::Msg) -> bool) -> Option<Received> {
        let from = self.refused.min(self.pending.len());
        let Some(pos) = self
            .pending
            .iter()
            .skip(from)
            .position(|&i| match &self.log[i].what {
                Logged::Record { msg: Some(m), .. } => want(m),
                _ => false,
            })
        else {
            self.refused = self.pending.len();
            return None;
        };
        let pos = from + pos;
        let idx = self.pending.remove(pos)?;
        self.received(idx)
    }

    /// The inbound message logged at `idx`, as a wait hands it out.
    fn received(&self, idx: usize) -> Option<Received> {
        let entry = &self.log[idx];
        let Logged::Record {
            msg: Some(m),
            bytes,
            ..
        } = &entry.what
        else {
            return None;
        };
        Some(Received {
            msg: Arc::clone(m),
            at: entry.at,
            log_index: idx,
            bytes: bytes.clone(),
        })
    }

    /// What arrived and no wait took: the last few, and how many more.
    fn unconsumed_summaries(&self) -> Vec<String> {
        const SHOWN: usize = 20;
        let skipped = self.pending.len().saturating_sub(SHOWN);
        let mut out: Vec<String> = self
            .pending
            .iter()
            .skip(skipped)
            .filter_map(|&i| match &self.log[i].what {
                Logged::Record { summary, .. } => Some(summary.clone()),
                _ => None,
            })
            .collect();
        if skipped + self.dropped > 0 {
            out.insert(0, format!("{} earlier messages", skipped + self.dropped));
        }
        out
    }

    /// Takes one event from the link and logs it; false when the deadline passed first.
    async fn pump_until(&mut self, deadline: tokio::time::Instant) -> bool {
        let next = async {
            match &mut self.second {
                Some(s) => tokio::select! {
                    ev = self.link.events.recv() => (ev, false),
                    ev = s.link.events.recv() => (ev, true),
                },
                None => (self.link.events.recv().await, false),
            }
        };
        let ev = match tokio::time::timeout_at(deadline, next).await {
            Err(_) => return false,
            Ok((ev, true)) => return self.second_event(ev),
            Ok((None, false)) => {
                if self.closed.is_none() {
                    self.closed = Some("the link's task ended".into());
                    self.closed_at = Some(Instant::now());
                }
                return true;
            }
            Ok((Some(ev), false)) => ev,
        };
        let at = ev.at;
        let wall = ev.wall;
        let what = match ev.kind {
            MtpEventKind::Record(bytes) => return self.inbound(bytes, at, wall),
            MtpEventKind::Sent(bytes) => {
                self.on_wire(&bytes, at, wall);
                return true;
            }
            MtpEventKind::Connected { detail } => Logged::Mtp(detail),
            MtpEventKind::Note(n) => Logged::Mtp(n),
            MtpEventKind::Broke { requirement, text } => {
                let line = format!("{text} ({requirement})");
                self.fresh_violations.push(Violation { requirement, text });
                Logged::Mtp(line)
            }
            MtpEventKind::Closed { code, reason } => {
                let text = match code {
                    Some(c) => format!("closed with code {c}: {reason}"),
                    None => format!("closed: {reason}"),
                };
                self.closed = Some(text.clone());
                self.closed_at = Some(at);
                Logged::Mtp(text)
            }
        };
        self.insert(LogEntry { at, wall, what });
        true
    }

    /// An event of the second Controller's connection: records are read as any other; its
    /// end is logged and the connection forgotten.
    fn second_event(&mut self, ev: Option<MtpEvent>) -> bool {
        let who = self
            .second
            .as_ref()
            .map(|s| s.endpoint_id.clone())
            .unwrap_or_default();
        let Some(ev) = ev else {
            self.second = None;
            self.push(Logged::Mtp(format!("{who}'s session ended")));
            return true;
        };
        let what = match ev.kind {
            MtpEventKind::Record(bytes) => return self.inbound(bytes, ev.at, ev.wall),
            MtpEventKind::Sent(bytes) => {
                self.on_wire(&bytes, ev.at, ev.wall);
                return true;
            }
            MtpEventKind::Connected { detail } => format!("{who}: {detail}"),
            MtpEventKind::Note(n) => format!("{who}: {n}"),
            MtpEventKind::Broke { requirement, text } => {
                let line = format!("{who}: {text} ({requirement})");
                self.fresh_violations.push(Violation { requirement, text });
                line
            }
            MtpEventKind::Closed { code, reason } => {
                self.second = None;
                match code {
                    Some(c) => format!("{who}'s session closed with code {c}: {reason}"),
                    None => format!("{who}'s session closed: {reason}"),
                }
            }
        };
        self.insert(LogEntry {
            at: ev.at,
            wall: ev.wall,
            what: Logged::Mtp(what),
        });
        true
    }

    fn inbound(&mut self, bytes: Bytes, at: Instant, wall: SystemTime) -> bool {
        self.received += 1;
        if self.received > MAX_RECORDS {
            if self.closed.is_none() {
                let why = format!(
                    "uspcheck stopped reading: the EUT sent more than {MAX_RECORDS} records in \
                     this case (a flood; see docs/limits.md)"
                );
                self.link.sender.close(1008, "flood");
                self.push(Logged::Mtp(why.clone()));
                self.closed = Some(why);
                self.closed_at = Some(at);
            }
            return true;
        }
        // Room first: the log's oldest bodies go before this record is decoded, not after,
        // so two answers of megabytes are never held decoded at once.
        let cost = bytes.len() * BODY_PER_BYTE;
        if self.retained + cost > LOG_BODY_BUDGET {
            self.compact_log(cost);
        }
        let (kind, msg, violations) = match checks::inbound(&bytes, &self.identities, &self.eut_id)
        {
            Ok(inb) => {
                let seen = Addressed {
                    kind: inb.kind,
                    body: inb.msg.as_ref().map(msg::body_name),
                    from_id: inb.from_id,
                    to_id: inb.to_id,
                };
                if self.addressed.len() < ADDRESSED_KEPT && !self.addressed.contains(&seen) {
                    self.addressed.push(seen);
                }
                (Some(inb.kind), inb.msg, inb.violations)
            }
            Err(v) => (None, None, vec![v]),
        };
        let cost = body_cost(&bytes, msg.as_ref());
        let wants_resp = msg
            .as_ref()
            .and_then(msg::notify)
            .is_some_and(|n| n.send_resp);
        let readable = msg.is_some();
        let summary = match kind {
            Some(k) => describe(k, msg.as_ref()),
            None => summarize(&bytes, None),
        };
        if !readable {
            self.unreadable = (self.unreadable.0 + 1, summary.clone());
        }
        // Moved, not copied: a record can be megabytes.
        let idx = self.insert(LogEntry {
            at,
            wall,
            what: Logged::Record {
                dir: Dir::In,
                summary,
                bytes,
                msg: msg.map(Arc::new),
                violations: violations.clone(),
            },
        });
        self.fresh_violations.extend(violations);
        if readable {
            self.pending.push_back(idx);
            if self.pending.len() > MAX_PENDING {
                self.pending.pop_front();
                self.refused = self.refused.saturating_sub(1);
                self.dropped += 1;
            }
            if wants_resp
                && self.auto_ack
                && let Some(r) = self.received(idx)
            {
                self.ack(&r);
            }
        }
        // Only now, with the record among the unconsumed ones: a record bigger than the
        // whole budget is still there for the wait that takes it.
        self.retained += cost;
        if self.retained > LOG_BODY_BUDGET {
            self.compact_log(0);
        }
        true
    }

    /// Drops the bodies (bytes and decoded message) of the oldest inbound records no wait
    /// can still take, until the log holds half its budget with room for `incoming` more;
    /// their summaries stay.
    fn compact_log(&mut self, incoming: usize) {
        let keep: std::collections::HashSet<usize> = self
            .pending
            .iter()
            .chain(&self.in_flight)
            .copied()
            .collect();
        for (i, e) in self.log.iter_mut().enumerate() {
            if self.retained + incoming <= LOG_BODY_BUDGET / 2 {
                break;
            }
            if keep.contains(&i) {
                continue;
            }
            if let Logged::Record {
                dir: Dir::In,
                bytes,
                msg,
                summary,
                ..
            } = &mut e.what
                && !bytes.is_empty()
            {
                self.retained = self
                    .retained
                    .saturating_sub(body_cost(bytes, msg.as_deref()));
                summary.push_str(&format!(
                    " [{} bytes; body dropped from the log, over its {LOG_BODY_BUDGET}-byte budget]",
                    bytes.len()
                ));
                *bytes = Bytes::new();
                *msg = None;
            }
        }
    }

    fn note_violations(&mut self, idx: usize, vs: Vec<Violation>) {
        if vs.is_empty() {
            return;
        }
        if let Logged::Record { violations, .. } = &mut self.log[idx].what {
            violations.extend(vs.iter().cloned());
        }
        self.fresh_violations.extend(vs);
    }

    /// Closes the link (the EUT sees a normal close) and drains what is left to the log.
    pub async fn close(&mut self) {
        if self.closed.is_none() {
            self.link.sender.close(1000, "case finished");
        }
        self.close_second();
    }

    /// Ends the second Controller's connection, if any: it lives for one case.
    fn close_second(&mut self) {
        if let Some(s) = self.second.take() {
            s.link.sender.close(1000, "case finished");
        }
    }
}
