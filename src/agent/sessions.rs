//! The reference agent as a server of several Controllers at once. A real agent accepts a
//! WebSocket session from each Controller in its Controller table (R-WS.6), and R-WS.4 ties a
//! session to one pair of Endpoints, so a second Controller (TP-469 1.78) opens a session of
//! its own beside the first one's. Every session runs over the one data model; `Device.Boot!`
//! goes out on the first session after the agent starts or reboots, and a reboot ends every
//! session, as it ends every connection of a real device.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{Mutex, watch};

use super::run::{Ended, serve};
use super::{Agent, AgentConfig};
use crate::mtp::Link;

/// The sessions a listening agent serves.
pub(super) struct Sessions {
    agent: Arc<Mutex<Agent>>,
    cfg: AgentConfig,
    /// Whether the next session starts with `Device.Boot!` (after a start or a reboot).
    boot: Arc<AtomicBool>,
    /// Counts reboots; every session ends when it moves.
    reboots: Arc<watch::Sender<u64>>,
}

impl Sessions {
    pub(super) fn new(cfg: AgentConfig) -> Sessions {
        Sessions {
            agent: Arc::new(Mutex::new(Agent::new(cfg.clone()))),
            cfg,
            boot: Arc::new(AtomicBool::new(true)),
            reboots: Arc::new(watch::channel(0).0),
        }
    }

    /// Serves `link` beside the sessions already running, until it closes or the agent
    /// reboots.
    pub(super) async fn start(&self, link: Link) {
        let cfg = self.for_peer(&link).await;
        let boot = self.boot.swap(false, Ordering::SeqCst);
        let (agent, booted, reboots) =
            (self.agent.clone(), self.boot.clone(), self.reboots.clone());
        let mut rebooted = reboots.subscribe();
        tokio::spawn(async move {
            let ended = tokio::select! {
                ended = serve(link, agent, &cfg, boot) => ended,
                // Another session rebooted the agent: this connection went down with it.
                _ = rebooted.changed() => return,
            };
            if ended == Ended::Reboot {
                booted.store(true, Ordering::SeqCst);
                reboots.send_modify(|n| *n += 1);
            }
        });
    }

    /// The configuration of one session: the Controller it is with is the one the peer named
    /// in its handshake (WebSocket `eid`, UDS Handshake) when the agent's Controller table holds
    /// it, so its Connect record and answers are addressed to that Controller. A peer the
    /// agent does not know is taken for the configured Controller, as before.
    async fn for_peer(&self, link: &Link) -> AgentConfig {
        let mut cfg = self.cfg.clone();
        if let Some(peer) = &link.peer_eid
            && *peer != cfg.controller_id
            && !self.agent.lock().await.controller_path(peer).is_empty()
        {
            cfg.controller_id = peer.clone();
        }
        cfg
    }
}
