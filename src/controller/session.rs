//! One session with the EUT: send, await by msg_id, await by predicate, and "nothing
//! arrives", all bounded, all reading the log from a cursor of unconsumed messages.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::log::{Dir, LogEntry, Logged, summarize};
use crate::mtp::{Link, MtpEvent, MtpEventKind};
use crate::usp::checks::{self, Violation};
use crate::usp::pb::{self, header::MsgType, request::ReqType, response::RespType};
use crate::usp::{msg, record};

/// A request as it went out.
#[derive(Debug, Clone)]
pub struct Sent {
    pub msg_id: String,
    pub msg_type: MsgType,
    pub at: Instant,
    pub log_index: usize,
}

/// A message from the EUT, taken from the log.
#[derive(Debug, Clone)]
pub struct Received {
    pub msg: pb::Msg,
    pub at: Instant,
    pub log_index: usize,
    pub bytes: Vec<u8>,
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
                write!(f, "nothing matching arrived within {waited:?}")?;
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

/// Gets a new link to the EUT after it dropped the old one (it rebooted): accept its
/// reconnection, or connect to it again. The caller bounds the wait.
pub type Relink =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<Link, String>> + Send>> + Send + Sync>;

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
    log: Vec<LogEntry>,
    /// Log indices of inbound messages not yet consumed by a wait, oldest first.
    pending: VecDeque<usize>,
    /// Violations not yet reported by a step.
    fresh_violations: Vec<Violation>,
    closed: Option<String>,
    /// Whether a Notify asking for a response gets one as soon as it arrives.
    auto_ack: bool,
    start: Instant,
}

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
            fresh_violations: Vec::new(),
            closed: None,
            auto_ack: true,
            start: Instant::now(),
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
            log_index,
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
        // The time it was sent is taken before it leaves: over an in-process MQTT broker the
        // agent may act on it (an UNSUBSCRIBE after a Set, TP-469 11.9) before `send` returns,
        // and what it causes must not seem to come first.
        let (at, wall) = (Instant::now(), SystemTime::now());
        match &self.second {
            Some(s) if s.endpoint_id == from => s.link.sender.record(bytes.clone()),
            _ => self.link.sender.record(bytes.clone()),
        };
        self.push_at(
            Logged::Record {
                dir: Dir::Out,
                summary: summarize(&bytes, Some(&m)),
                bytes,
                msg: Some(m),
                violations: vec![],
            },
            at,
            wall,
        )
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
        self.push_at(what, Instant::now(), SystemTime::now())
    }

    fn push_at(&mut self, what: Logged, at: Instant, wall: SystemTime) -> usize {
        self.log.push(LogEntry { at, wall, what });
        self.log.len() - 1
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
                                self.link = link;
                                self.closed = None;
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
                                        "{reason}; the EUT did not reconnect within {:?}",
                                        reconnect_by - began
                                    ),
                                });
                            }
                        }
                    }
                    _ => return Err(WaitError::Closed { reason }),
                }
            }
            if !self.pump_until(deadline).await {
                return Err(WaitError::Timeout {
                    waited: bound,
                    unmatched: self.unconsumed_summaries(),
                });
            }
        }
    }

    /// Reads what the link has already delivered and, if it turns out closed, waits (within
    /// the relink bound) for the EUT to reconnect: for a request that must reach an EUT
    /// that may be rebooting.
    pub async fn ensure_linked(&mut self) -> Result<(), WaitError> {
        while self.closed.is_none() && self.pump_until(tokio::time::Instant::now()).await {}
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
                self.link = link;
                self.closed = None;
                Ok(())
            }
            Ok(Err(e)) => Err(WaitError::Closed {
                reason: format!("{reason}; reconnecting failed: {e}"),
            }),
            Err(_) => Err(WaitError::Closed {
                reason: format!(
                    "{reason}; the EUT did not reconnect within {:?}",
                    self.relink_bound
                ),
            }),
        }
    }

    /// Succeeds if nothing `want` accepts arrives for `span`; otherwise returns what did.
    /// The span is always waited in full: that is the point of the check.
    pub async fn expect_none(
        &mut self,
        span: Duration,
        want: impl Fn(&pb::Msg) -> bool,
    ) -> Result<(), Received> {
        let deadline = tokio::time::Instant::now() + span;
        loop {
            if let Some(got) = self.take_first(&want) {
                return Err(got);
            }
            if self.closed.is_some() {
                tokio::time::sleep_until(deadline).await;
                return Ok(());
            }
            if !self.pump_until(deadline).await {
                return Ok(());
            }
        }
    }

    fn take_first(&mut self, want: &impl Fn(&pb::Msg) -> bool) -> Option<Received> {
        let pos = self.pending.iter().position(|&i| match &self.log[i].what {
            Logged::Record { msg: Some(m), .. } => want(m),
            _ => false,
        })?;
        let idx = self.pending.remove(pos)?;
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
            msg: m.clone(),
            at: entry.at,
            log_index: idx,
            bytes: bytes.clone(),
        })
    }

    fn unconsumed_summaries(&self) -> Vec<String> {
        self.pending
            .iter()
            .filter_map(|&i| match &self.log[i].what {
                Logged::Record { summary, .. } => Some(summary.clone()),
                _ => None,
            })
            .collect()
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
                self.closed
                    .get_or_insert_with(|| "the link's task ended".into());
                return true;
            }
            Ok((Some(ev), false)) => ev,
        };
        let at = ev.at;
        let wall = ev.wall;
        let what = match ev.kind {
            MtpEventKind::Record(bytes) => return self.inbound(bytes, at, wall),
            MtpEventKind::Sent(_) => return true,
            MtpEventKind::Connected { detail } => Logged::Mtp(detail),
            MtpEventKind::Note(n) => Logged::Mtp(n),
            MtpEventKind::Closed { code, reason } => {
                let text = match code {
                    Some(c) => format!("closed with code {c}: {reason}"),
                    None => format!("closed: {reason}"),
                };
                self.closed = Some(text.clone());
                Logged::Mtp(text)
            }
        };
        self.log.push(LogEntry { at, wall, what });
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
            MtpEventKind::Sent(_) => return true,
            MtpEventKind::Connected { detail } => format!("{who}: {detail}"),
            MtpEventKind::Note(n) => format!("{who}: {n}"),
            MtpEventKind::Closed { code, reason } => {
                self.second = None;
                match code {
                    Some(c) => format!("{who}'s session closed with code {c}: {reason}"),
                    None => format!("{who}'s session closed: {reason}"),
                }
            }
        };
        self.log.push(LogEntry {
            at: ev.at,
            wall: ev.wall,
            what: Logged::Mtp(what),
        });
        true
    }

    fn inbound(&mut self, bytes: Vec<u8>, at: Instant, wall: SystemTime) -> bool {
        let (msg, violations) = match checks::inbound(&bytes, &self.identities, &self.eut_id) {
            Ok(inb) => (inb.msg, inb.violations),
            Err(v) => (None, vec![v]),
        };
        let idx = self.log.len();
        self.log.push(LogEntry {
            at,
            wall,
            what: Logged::Record {
                dir: Dir::In,
                summary: summarize(&bytes, msg.as_ref()),
                bytes: bytes.clone(),
                msg: msg.clone(),
                violations: violations.clone(),
            },
        });
        self.fresh_violations.extend(violations);
        if let Some(m) = msg {
            let wants_resp = msg::notify(&m).is_some_and(|n| n.send_resp);
            self.pending.push_back(idx);
            if wants_resp && self.auto_ack {
                let r = Received {
                    msg: m,
                    at,
                    log_index: idx,
                    bytes,
                };
                self.ack(&r);
            }
        }
        true
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
