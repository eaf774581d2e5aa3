//! The EUT a run talks to: the built-in reference agent (a fresh one per case, each on its
//! own port, so cases run in parallel), or an agent described by an EUT profile (one
//! connection kept across cases, cases one at a time).

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::agent::{self, Fault};
use crate::controller::Relink;
use crate::mtp::{Link, websocket};
use crate::suite::profile::{DEFAULT_SECONDARY_ID, Profile, WebSocketSetup};
use std::sync::Arc;

/// Endpoint ID of the built-in reference agent.
pub const BUILTIN_AGENT_ID: &str = "os::012345-uspcheck-ref";
/// Endpoint ID the harness uses as Controller unless a profile says otherwise.
pub const DEFAULT_CONTROLLER_ID: &str = "self::uspcheck";
/// TP-469 features the reference agent supports.
pub const BUILTIN_FEATURES: &[u32] = &[1, 2, 3, 4, 5, 6, 7, 8, 9, 31];

/// Who the harness tests.
pub enum Target {
    /// The built-in reference agent, with faults (none for a conforming agent).
    BuiltIn { faults: Vec<Fault> },
    /// An agent described by an EUT profile.
    External {
        profile: Box<Profile>,
        state: Box<Mutex<External>>,
    },
}

/// What is kept between cases for an external agent.
#[derive(Default)]
pub struct External {
    server: Option<Arc<websocket::Server>>,
    link: Option<Link>,
    child: Option<Child>,
}

/// Keeps a case's built-in agent alive; dropping it stops the agent.
pub struct AgentGuard(Option<JoinHandle<()>>);

impl Drop for AgentGuard {
    fn drop(&mut self) {
        if let Some(a) = &self.0 {
            a.abort();
        }
    }
}

impl Target {
    pub fn from_profile(profile: Profile) -> Target {
        Target::External {
            profile: Box::new(profile),
            state: Box::new(Mutex::new(External::default())),
        }
    }

    pub fn eut_id(&self) -> String {
        match self {
            Target::BuiltIn { .. } => BUILTIN_AGENT_ID.into(),
            Target::External { profile, .. } => profile.eut.endpoint_id.clone(),
        }
    }

    pub fn controller_id(&self) -> String {
        match self {
            Target::BuiltIn { .. } => DEFAULT_CONTROLLER_ID.into(),
            Target::External { profile, .. } => profile.controller.endpoint_id.clone(),
        }
    }

    /// The second Controller identity the harness can play.
    pub fn secondary_controller_id(&self) -> String {
        match self {
            Target::BuiltIn { .. } => DEFAULT_SECONDARY_ID.into(),
            Target::External { profile, .. } => profile.secondary_controller.endpoint_id.clone(),
        }
    }

    pub fn features(&self) -> Vec<u32> {
        match self {
            Target::BuiltIn { .. } => BUILTIN_FEATURES.to_vec(),
            Target::External { profile, .. } => profile.features.clone(),
        }
    }

    pub fn alternates(&self) -> BTreeMap<String, String> {
        match self {
            Target::BuiltIn { .. } => BTreeMap::new(),
            Target::External { profile, .. } => profile.alternates.clone(),
        }
    }

    /// How long a response may take.
    pub fn response_timeout(&self) -> Duration {
        match self {
            // The reference agent answers in microseconds; a short bound keeps the
            // self-tests of "no answer" faults quick without being tight.
            Target::BuiltIn { .. } => Duration::from_secs(3),
            Target::External { profile, .. } => profile.timeouts.response.0,
        }
    }

    fn connect_timeout(&self) -> Duration {
        match self {
            Target::BuiltIn { .. } => Duration::from_secs(10),
            Target::External { profile, .. } => profile.timeouts.connect.0,
        }
    }

    /// Whether cases may run side by side.
    pub fn parallel(&self) -> bool {
        matches!(self, Target::BuiltIn { .. })
    }

    /// For reports: who and over what.
    pub fn describe(&self) -> String {
        match self {
            Target::BuiltIn { faults } if faults.is_empty() => "built-in reference agent".into(),
            Target::BuiltIn { faults } => format!(
                "built-in reference agent with fault(s) {}",
                faults
                    .iter()
                    .map(|f| f.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Target::External { profile, .. } => profile
                .name
                .clone()
                .unwrap_or_else(|| profile.eut.endpoint_id.clone()),
        }
    }

    pub fn describe_mtp(&self) -> String {
        match self {
            Target::BuiltIn { .. } => "WebSocket (agent connects)".into(),
            Target::External { profile, .. } => match &profile.websocket {
                WebSocketSetup::Listen { listen } => {
                    format!("WebSocket (agent connects to {listen})")
                }
                WebSocketSetup::Connect { url } => format!("WebSocket (harness connects to {url})"),
            },
        }
    }

    /// A connection to the EUT for one case. An `Err` is an environment error: it says
    /// what was tried and for how long.
    pub async fn open(&self) -> Result<(Link, AgentGuard, Relink), String> {
        match self {
            Target::BuiltIn { faults } => self.open_builtin(faults).await,
            Target::External { profile, state } => {
                let mut st = state.lock().await;
                let relink = self.relink(&mut st).await?;
                if let Some(link) = st.link.take() {
                    return Ok((link, AgentGuard(None), relink));
                }
                if st.child.is_none()
                    && let Some(cmd) = &profile.start
                {
                    let child = Command::new("sh")
                        .arg("-c")
                        .arg(cmd)
                        .kill_on_drop(true)
                        .spawn()
                        .map_err(|e| format!("the profile's start command {cmd:?} failed: {e}"))?;
                    st.child = Some(child);
                }
                let bound = self.connect_timeout();
                let link = tokio::time::timeout(bound, relink())
                    .await
                    .map_err(|_| match &profile.websocket {
                        WebSocketSetup::Listen { listen } => format!(
                            "the agent did not connect to ws://{listen} within {bound:?} (agent not reachable)"
                        ),
                        WebSocketSetup::Connect { url } => format!(
                            "agent not reachable: no WebSocket session with {url} within {bound:?}"
                        ),
                    })??;
                Ok((link, AgentGuard(None), relink))
            }
        }
    }

    /// How to get a link to a profile's agent: accept on the (shared) server, or connect,
    /// retrying every second, as often as the caller's bound allows.
    async fn relink(&self, st: &mut External) -> Result<Relink, String> {
        let Target::External { profile, .. } = self else {
            unreachable!("built-in agents get their relink in open_builtin")
        };
        let me = profile.controller.endpoint_id.clone();
        Ok(match &profile.websocket {
            WebSocketSetup::Listen { listen } => {
                if st.server.is_none() {
                    let s = websocket::Server::bind(listen, &me)
                        .await
                        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
                    st.server = Some(Arc::new(s));
                }
                accept_on(st.server.clone().expect("bound above"))
            }
            WebSocketSetup::Connect { url } => {
                let url = url.clone();
                Arc::new(move || {
                    let (url, me) = (url.clone(), me.clone());
                    Box::pin(async move {
                        loop {
                            match websocket::connect(&url, &me, Duration::from_secs(5)).await {
                                Ok(link) => return Ok(link),
                                Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
                            }
                        }
                    })
                })
            }
        })
    }

    async fn open_builtin(&self, faults: &[Fault]) -> Result<(Link, AgentGuard, Relink), String> {
        let controller = self.controller_id();
        let server = websocket::Server::bind("127.0.0.1:0", &controller)
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
        let addr = server.local_addr().map_err(|e| e.to_string())?;
        let cfg = agent::AgentConfig {
            endpoint_id: BUILTIN_AGENT_ID.into(),
            controller_id: controller,
            faults: faults.to_vec(),
            software_version: env!("CARGO_PKG_VERSION").into(),
        };
        let url = format!("ws://{addr}/usp");
        // The agent reconnects after a reboot, as a real one would; the guard stops it.
        let handle = tokio::spawn(async move {
            agent::run::websocket_client(&url, cfg).await;
        });
        let relink = accept_on(Arc::new(server));
        let bound = self.connect_timeout();
        let link = tokio::time::timeout(bound, relink())
            .await
            .map_err(|_| format!("the built-in agent did not connect within {bound:?}"))??;
        Ok((link, AgentGuard(Some(handle)), relink))
    }

    /// Hands back a link that is still up, for the next case (external agents only).
    pub async fn give_back(&self, link: Option<Link>) {
        if let (Target::External { state, .. }, Some(l)) = (self, link) {
            state.lock().await.link = Some(l);
        }
    }
}

/// A relink that accepts the next connection on `server`.
fn accept_on(server: Arc<websocket::Server>) -> Relink {
    Arc::new(move || {
        let server = server.clone();
        Box::pin(async move { server.accept().await })
    })
}
