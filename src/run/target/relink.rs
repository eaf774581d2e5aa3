//! How the harness gets a link to a profile's agent ([`Relink`]): it accepts the agent's
//! connection on the (shared) server, connects to the agent retrying every second, or
//! connects to the MQTT broker; and keeps the agent's process running when the profile says
//! how to start it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::{External, Listening};
use crate::agent::run::Dial;
use crate::controller::Relink;
use crate::mtp::{ConnectError, uds, websocket};
use crate::run::mqtt::ExternalMqtt;
use crate::run::process::Launch;
use crate::suite::profile::{BrokerMode, MtpSetup, Profile, UdsSetup, WebSocketSetup};

/// How to get a link to a profile's agent: its process is kept running when the profile says
/// how to start it; the link is accepted on the (shared) server, or connected, retrying every
/// second, as often as the caller's bound allows.
pub(super) async fn relink_external(
    profile: &Profile,
    st: &mut External,
) -> Result<Relink, String> {
    let plain = relink_plain(profile, st).await?;
    let Some(start) = &profile.start else {
        return Ok(plain);
    };
    let launch = Launch {
        dir: Some(start.dir.clone()),
        log: st.agent_log.clone(),
    };
    let cmd = start.command(&chosen(st))?;
    // Through an external broker the Controller subscribes first and the agent starts after,
    // so the MQTTConnectRecord the agent sends once connected (R-MTP.6) reaches uspcheck, and
    // says who the agent is. Otherwise the agent starts now.
    let after_link = matches!(profile.mtp(), MtpSetup::Mqtt(m) if m.broker == BrokerMode::External);
    if !after_link {
        st.process.supervise(&cmd, launch.clone())?;
    }
    // Each time the agent is back, its exits so far were restarts (a reboot), not failures.
    let process = st.process.clone();
    Ok(Arc::new(move || {
        let (plain, process) = (plain.clone(), process.clone());
        let (cmd, launch) = (cmd.clone(), launch.clone());
        Box::pin(async move {
            let link = plain().await?;
            if after_link {
                // Once: later calls find it running.
                process.supervise(&cmd, launch)?;
            }
            process.linked();
            Ok(link)
        })
    }))
}

async fn relink_plain(profile: &Profile, st: &mut External) -> Result<Relink, String> {
    let me = profile.controller.endpoint_id.clone();
    if let MtpSetup::Mqtt(m) = profile.mtp() {
        if st.mqtt.is_none() {
            st.mqtt = Some(ExternalMqtt::start(&m).await?);
        }
        return Ok(st.mqtt.as_ref().expect("started above").relink.clone());
    }
    let listen = match profile.mtp() {
        MtpSetup::WebSocket(WebSocketSetup::Listen { listen }) => Some(ListenOn::Tcp(listen)),
        MtpSetup::Uds(UdsSetup::Listen { path }) => Some(ListenOn::Unix(PathBuf::from(path))),
        MtpSetup::WebSocket(WebSocketSetup::Connect { url }) => {
            return Ok(connect_to(
                Dial::WebSocket(url),
                me,
                st.last_attempt.clone(),
            ));
        }
        MtpSetup::Uds(UdsSetup::Connect { path }) => {
            return Ok(connect_to(
                Dial::Uds(PathBuf::from(path)),
                me,
                st.last_attempt.clone(),
            ));
        }
        MtpSetup::Mqtt(_) => unreachable!("handled above"),
    };
    if st.server.is_none()
        && let Some(on) = listen
    {
        let server = match on {
            ListenOn::Tcp(addr) => {
                let server = websocket::Server::bind(&addr, &me)
                    .await
                    .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
                let second = &profile.secondary_controller;
                Listening::WebSocket(match second.websocket_path() {
                    Some(path) => server.serve_as(path, &second.endpoint_id),
                    None => server,
                })
            }
            ListenOn::Unix(path) => Listening::Uds(
                uds::Server::bind(&path, &me)
                    .map_err(|e| format!("cannot listen on {}: {e}", path.display()))?,
            ),
        };
        st.server = Some(Arc::new(server));
    }
    Ok(accept_on(st.server.clone().expect("bound above")))
}

enum ListenOn {
    Tcp(String),
    Unix(PathBuf),
}

/// A relink that accepts the next connection on `server`.
pub(super) fn accept_on(server: Arc<Listening>) -> Relink {
    Arc::new(move || {
        let server = server.clone();
        Box::pin(async move { server.accept().await })
    })
}

/// The ports uspcheck chose for the agent to reach it (`websocket.port`, `mqtt.port`,
/// `mqtt.tls_port`), for the profile's start command.
fn chosen(st: &External) -> crate::suite::vars::Vars {
    let mut vars = crate::suite::vars::Vars::default();
    if let Some(Listening::WebSocket(s)) = st.server.as_deref()
        && let Ok(addr) = s.local_addr()
    {
        vars.set("websocket.port", addr.port().to_string());
    }
    if let Some(m) = st.mqtt.as_ref().map(ExternalMqtt::case) {
        if let Some(b) = &m.broker {
            vars.set("mqtt.port", b.addr().port().to_string());
        }
        m.add_vars(&mut vars);
    }
    vars
}

/// A relink that connects to the agent, once a second until it answers; each failed
/// attempt's error (connection refused…) is kept in `last` for the unreachable error.
fn connect_to(dial: Dial, me: String, last: Arc<std::sync::Mutex<Option<String>>>) -> Relink {
    Arc::new(move || {
        let (dial, me, last) = (dial.clone(), me.clone(), last.clone());
        Box::pin(async move {
            loop {
                match dial.connect(&me, Duration::from_secs(5)).await {
                    Ok(link) => {
                        *last.lock().unwrap_or_else(|p| p.into_inner()) = None;
                        return Ok(link);
                    }
                    // A handshake that breaks the binding will not mend by retrying.
                    Err(v @ ConnectError::Violation { .. }) => return Err(v),
                    Err(ConnectError::Unreachable(why)) => {
                        *last.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
                        tokio::time::sleep(Duration::from_secs(1)).await
                    }
                }
            }
        })
    })
}
