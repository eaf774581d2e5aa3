//! The reference agent's I/O: it speaks USP Records over a [`Link`], sends the MTP's
//! Connect Record first (R-MTP.6), answers requests through the data-model logic, sends
//! notifications when they fall due, and applies the transport-level faults (wrong msg_id,
//! late answers, malformed records, wrong to_id).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use prost::Message;
use tokio::sync::{Mutex, mpsc};

use super::{Agent, AgentConfig, Fault, Outgoing};
use crate::mtp::{Link, MtpEventKind, websocket};
use crate::usp::{msg, pb, record};

/// How late the `late-response` fault answers: past any sensible response timeout of a
/// test of the reference agent.
pub const LATE_BY: Duration = Duration::from_secs(8);

/// Connects once to a controller's WebSocket server at `url` and serves until the link
/// closes (used by the harness: one agent per case).
pub async fn websocket_client_once(url: &str, cfg: AgentConfig) -> Result<(), String> {
    let link = websocket::connect(url, &cfg.endpoint_id, Duration::from_secs(10)).await?;
    let agent = Arc::new(Mutex::new(Agent::new(cfg.clone())));
    serve(link, agent, &cfg, true).await;
    Ok(())
}

/// Connects to `url` and reconnects after every disconnect, with a back-off that doubles
/// from 1 s to 60 s (the shape of R-WS.19's retry algorithm), until the process ends.
pub async fn websocket_client(url: &str, cfg: AgentConfig) {
    let agent = Arc::new(Mutex::new(Agent::new(cfg.clone())));
    let mut backoff = Duration::from_secs(1);
    let mut first = true;
    loop {
        match websocket::connect(url, &cfg.endpoint_id, Duration::from_secs(10)).await {
            Ok(link) => {
                backoff = Duration::from_secs(1);
                // After a reboot the next session starts with Boot! again.
                first = serve(link, agent.clone(), &cfg, first).await == Ended::Reboot;
            }
            Err(e) => eprintln!("uspcheck agent: {e}; retrying in {backoff:?}"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(60));
    }
}

/// Serves controllers that connect to `server` (the agent as WebSocket server, R-WS.6),
/// one connection at a time, keeping one data model across them.
pub async fn websocket_server(server: websocket::Server, cfg: AgentConfig) {
    let agent = Arc::new(Mutex::new(Agent::new(cfg.clone())));
    let mut first = true;
    loop {
        match server.accept().await {
            Ok(link) => {
                first = serve(link, agent.clone(), &cfg, first).await == Ended::Reboot;
            }
            Err(e) => eprintln!("uspcheck agent: {e}"),
        }
    }
}

/// Why serving a link ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The link closed.
    Closed,
    /// `Device.Reboot()` ran: the caller reconnects and boots the agent again.
    Reboot,
}

/// What the serving loop waits on besides the link.
enum Due {
    /// A timer the agent asked for has expired.
    Wake(u64),
    /// A message held back by the `late-response` fault, and its destination.
    Send(String, pb::Msg),
}

/// Serves one link until it closes or the agent reboots.
pub async fn serve(
    mut link: Link,
    agent: Arc<Mutex<Agent>>,
    cfg: &AgentConfig,
    boot: bool,
) -> Ended {
    let mut out = Sender {
        link: link.sender.clone(),
        cfg: cfg.clone(),
        peers: BTreeSet::from([cfg.controller_id.clone()]),
    };
    // R-MTP.6: the Connect Record goes first, whichever side opened the connection.
    out.raw(record::websocket_connect(
        &cfg.controller_id,
        &cfg.endpoint_id,
    ));
    let (due_tx, mut due_rx) = mpsc::unbounded_channel::<Due>();
    if boot {
        let first = agent.lock().await.boot();
        if out.dispatch(first, &due_tx) == Some(Ended::Reboot) {
            return reboot(&agent, &out).await;
        }
    }
    loop {
        let outputs = tokio::select! {
            ev = link.events.recv() => match ev.map(|e| e.kind) {
                Some(MtpEventKind::Record(bytes)) => {
                    handle_record(&agent, cfg, &bytes, &mut out.peers).await
                }
                Some(MtpEventKind::Closed { .. }) | None => return Ended::Closed,
                Some(_) => continue,
            },
            Some(due) = due_rx.recv() => match due {
                Due::Wake(t) => agent.lock().await.wake(t),
                Due::Send(to, m) => { out.send(&to, m); continue; }
            },
        };
        if out.dispatch(outputs, &due_tx) == Some(Ended::Reboot) {
            return reboot(&agent, &out).await;
        }
    }
}

async fn reboot(agent: &Arc<Mutex<Agent>>, out: &Sender) -> Ended {
    out.raw(record::disconnect(
        &out.cfg.controller_id,
        &out.cfg.endpoint_id,
        "rebooting",
        0,
    ));
    out.link.close(1000, "rebooting");
    agent.lock().await.reboot();
    Ended::Reboot
}

/// Decodes a record and runs its message through the agent. Records not addressed to this
/// agent are ignored (R-E2E.1); a request that cannot be decoded gets an Error when its
/// msg_id can be read (R-MTP.5).
/// Every Controller that sends on this link becomes a peer the agent may answer on it.
async fn handle_record(
    agent: &Arc<Mutex<Agent>>,
    cfg: &AgentConfig,
    bytes: &[u8],
    peers: &mut BTreeSet<String>,
) -> Vec<Outgoing> {
    let Ok(rec) = record::decode(bytes) else {
        return vec![];
    };
    if rec.to_id != cfg.endpoint_id {
        return vec![];
    }
    let Some(payload) = record::payload(&rec) else {
        return vec![];
    };
    match pb::Msg::decode(payload) {
        Ok(m) => {
            peers.insert(rec.from_id.clone());
            agent.lock().await.handle(&rec.from_id, m)
        }
        Err(_) => vec![],
    }
}

/// Sends messages to the controllers on this link, applying the transport-level faults.
struct Sender {
    link: crate::mtp::LinkSender,
    cfg: AgentConfig,
    /// Controllers reachable over this link: the configured one and any that sent here.
    peers: BTreeSet<String>,
}

impl Sender {
    fn has(&self, f: Fault) -> bool {
        self.cfg.faults.contains(&f)
    }

    fn raw(&self, r: crate::usp::pb_record::Record) {
        self.link.record(record::encode(&r));
    }

    /// Carries out the agent's outputs in order; stops at a reboot and says so.
    fn dispatch(&self, outputs: Vec<Outgoing>, due: &mpsc::UnboundedSender<Due>) -> Option<Ended> {
        for o in outputs {
            match o {
                // Messages for Controllers not on this link are not ours to send.
                Outgoing::Send { to, .. } if !self.peers.contains(&to) => {}
                Outgoing::Send { to, msg: m }
                    if self.has(Fault::LateResponse) && msg::is_answer(&m) =>
                {
                    later(LATE_BY, Due::Send(to, m), due.clone())
                }
                Outgoing::Send { to, msg: m } => self.send(&to, m),
                Outgoing::Wake { after, timer } => later(after, Due::Wake(timer), due.clone()),
                Outgoing::Reboot => return Some(Ended::Reboot),
            }
        }
        None
    }

    fn send(&self, to: &str, mut m: pb::Msg) {
        if msg::is_answer(&m) {
            if self.has(Fault::WrongMsgId)
                && let Some(h) = m.header.as_mut()
            {
                h.msg_id.push_str("-wrong");
            }
            if self.has(Fault::MalformedRecord) {
                // Bytes that are no protobuf at all: a varint that never ends.
                self.link.record(vec![0x0a, 0xff, 0xff, 0xff, 0xff, 0xff]);
                return;
            }
        }
        let to = if self.has(Fault::WrongToId) {
            "proto::somebody-else"
        } else {
            to
        };
        self.raw(record::no_session(to, &self.cfg.endpoint_id, &m));
    }
}

fn later(d: Duration, what: Due, due: mpsc::UnboundedSender<Due>) {
    tokio::spawn(async move {
        tokio::time::sleep(d).await;
        let _ = due.send(what);
    });
}
