//! The preflight: before the first case against a profile's agent, connect once, the way the
//! cases do ([`Target::open`]), and compare the Endpoint IDs the agent presents (the `eid` of
//! its WebSocket handshake, its UDS Handshake, the `from_id` and `to_id` of its Connect record
//! and of its answer to a Get) with the profile's. A profile that names another agent or
//! another Controller than the agent's own stops the run with a configuration error naming the
//! field to fix and the value the agent presented: not a hundred cases of "fail".
//!
//! An agent that is not reached is not the preflight's to report: the cases report it, with
//! the same words, and the link, when there is one, is handed on to the first case.

use std::collections::BTreeMap;
use std::time::Duration;

mod broker;

use super::Target;
use crate::controller::Session;
use crate::mtp::mqtt::subscribers::Subscribers;
use crate::mtp::{ConnectError, MtpKind};
use crate::suite::profile::{BrokerMode, MqttSetup, MtpSetup, Profile};
use crate::usp::pb;

/// What the preflight found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preflight {
    /// The agent presented the profile's Endpoint IDs; what showed it.
    Matches(String),
    /// Nothing could be compared (the agent was not reached, or showed no Endpoint ID): why.
    /// The cases run and report what they find.
    Unchecked(String),
    /// The profile contradicts the agent: one line per field to fix, each
    /// `file:line:column: field is …, but the agent …`.
    Mismatch(String),
}

/// How long the preflight listens to an agent that announced another Endpoint ID.
const SETTLE: Duration = Duration::from_millis(500);

/// Endpoint IDs, each with what showed it (`the eid of its WebSocket handshake`).
type Seen = BTreeMap<String, Vec<String>>;

/// Connects to the profile's agent once and compares the Endpoint IDs it presents with the
/// profile's. For the built-in agent there is nothing to compare.
pub async fn check(target: &Target) -> Preflight {
    let Target::External { profile, .. } = target else {
        return Preflight::Matches("the built-in agent".into());
    };
    // Through an external broker the preflight does the asking itself, and watches what comes.
    let broker = external_broker(profile);
    let opened = match broker {
        Some(_) => target.open_unprobed().await,
        None => target.open().await,
    };
    let (link, guard, _) = match opened {
        Ok(opened) => opened,
        Err(ConnectError::Unreachable(why)) => {
            tracing::debug!(%why, "preflight: the agent was not reached");
            return match client_id_mismatch(profile, &target.broker_clients().await) {
                Some(m) => Preflight::Mismatch(m),
                None => Preflight::Unchecked(why),
            };
        }
        Err(e @ ConnectError::Violation { .. }) => return Preflight::Unchecked(e.to_string()),
    };
    let mut agent = Seen::new();
    if let Some(eid) = &link.peer_eid {
        let how = match link.mtp {
            MtpKind::Uds => "its UDS Handshake",
            _ => "the eid of its WebSocket handshake",
        };
        agent.entry(eid.clone()).or_default().push(how.into());
    }
    let mut session = Session::new(
        link,
        &target.controller_id(),
        &target.eut_id(),
        "uspcheck-preflight",
    );
    // An agent that announced another Endpoint ID discards what is addressed to this one: no
    // Get then, only what it sent of itself.
    let mut said = Subscribers::Unknown;
    let answered = if let Some(m) = &broker {
        let asked = broker::ask(&mut session, target, m).await;
        said = asked.1;
        asked.0
    } else if agent.keys().all(|id| *id == profile.eut.endpoint_id) {
        let sent = session.send(broker::get());
        session
            .await_answer(&sent, target.response_timeout())
            .await
            .is_ok()
    } else {
        // What it sends of itself meanwhile (its Connect record) still says which Controller
        // it takes uspcheck for.
        let nothing = |_: &pb::Msg| false;
        let _ = session.await_where(SETTLE, false, nothing).await;
        false
    };
    let mut controller = Seen::new();
    records_seen(&session, &mut agent, &mut controller);
    // A link through an external broker that nothing answered on goes: the first case asks
    // again, and says the agent is not reachable if it still is not.
    if answered || broker.is_none() {
        target.give_back(session.into_link()).await;
    }
    drop(guard);
    tracing::debug!(
        eut_endpoint_id = %profile.eut.endpoint_id,
        controller_endpoint_id = %profile.controller.endpoint_id,
        agent_presents = ?agent,
        agent_addresses = ?controller,
        answered_get = answered,
        "preflight: the Endpoint IDs seen, against the profile's"
    );
    let verdict = judge(
        profile,
        &agent,
        &controller,
        answered,
        target.response_timeout(),
    );
    match (&broker, verdict) {
        (Some(m), Preflight::Unchecked(_)) if agent.is_empty() => {
            let verdict = broker::silence(profile, m, said, target.connect_timeout());
            if let Preflight::Unchecked(why) = &verdict {
                target.unreached(why).await;
            }
            verdict
        }
        (_, verdict) => verdict,
    }
}

/// `file:line:column: field`, where the profile gives `field`.
fn at(profile: &Profile, field: &str, pos: crate::suite::node::Pos) -> String {
    format!("{}:{}:{}: {field}", profile.file, pos.line, pos.column)
}

/// The profile's MQTT set-up when it goes through an external broker.
fn external_broker(profile: &Profile) -> Option<MqttSetup> {
    match profile.mtp() {
        MtpSetup::Mqtt(m) if m.broker == BrokerMode::External => Some(m),
        _ => None,
    }
}

/// The `from_id` and `to_id` of every Record the agent sent in `session`, by what it was.
fn records_seen(session: &Session, agent: &mut Seen, controller: &mut Seen) {
    for a in session.addressed() {
        let what = match (a.kind, a.body) {
            ("websocket_connect", _) => "its WebSocketConnectRecord".to_string(),
            ("uds_connect", _) => "its UDSConnectRecord".into(),
            ("mqtt_connect", _) => "its MQTTConnectRecord".into(),
            ("stomp_connect", _) => "its STOMPConnectRecord".into(),
            ("disconnect", _) => "its DisconnectRecord".into(),
            (_, Some(body)) => format!("the Record of its {body}"),
            (kind, None) => format!("a {kind} Record"),
        };
        let add = |seen: &mut Seen, id: &str, field: &str| {
            let list = seen.entry(id.to_string()).or_default();
            let how = format!("the {field} of {what}");
            if !list.contains(&how) {
                list.push(how);
            }
        };
        add(agent, &a.from_id, "from_id");
        add(controller, &a.to_id, "to_id");
    }
}

/// The verdict on what was seen.
fn judge(
    profile: &Profile,
    agent: &Seen,
    controller: &Seen,
    answered: bool,
    waited: Duration,
) -> Preflight {
    let at = |field: &str, pos| at(profile, field, pos);
    let mut wrong = Vec::new();
    let eut = &profile.eut.endpoint_id;
    for (id, how) in agent.iter().filter(|(id, _)| *id != eut) {
        wrong.push(format!(
            "{} is {eut:?}, but the agent presents itself as {id:?} ({}): set it to the \
             agent's Device.LocalAgent.EndpointID, {id:?}",
            at("eut.endpoint_id", profile.eut.at),
            how.join("; ")
        ));
    }
    let ctrl = &profile.controller.endpoint_id;
    let second = &profile.secondary_controller.endpoint_id;
    for (id, how) in controller
        .iter()
        .filter(|(id, _)| *id != ctrl && *id != second)
    {
        wrong.push(format!(
            "{} is {ctrl:?}, but the agent addresses its Records to {id:?} ({}): set it to \
             {id:?}, or give the agent a Device.LocalAgent.Controller.{{i}}. with EndpointID \
             {ctrl:?} (and full permissions)",
            at("controller.endpoint_id", profile.controller.at),
            how.join("; ")
        ));
    }
    if !wrong.is_empty() {
        return Preflight::Mismatch(wrong.join("\n"));
    }
    if agent.is_empty() {
        return Preflight::Unchecked(format!(
            "the agent showed no Endpoint ID and answered no Get of \
             Device.LocalAgent.EndpointID within {}; if it discards Records addressed \
             to {eut:?}, eut.endpoint_id is not its Endpoint ID",
            crate::human::duration(waited)
        ));
    }
    let how: Vec<&str> = agent.values().flatten().map(String::as_str).collect();
    Preflight::Matches(format!(
        "the agent presents itself as {eut:?} ({}){}",
        how.join("; "),
        if answered {
            format!(" and answers {ctrl:?}")
        } else {
            String::new()
        }
    ))
}

/// Over uspcheck's embedded broker with `mqtt.agent_client_id`: when the agent was not found,
/// but other clients are connected, the ClientId is the likely mistake.
fn client_id_mismatch(profile: &Profile, clients: &[String]) -> Option<String> {
    let MtpSetup::Mqtt(m) = profile.mtp() else {
        return None;
    };
    let want = m.agent_client_id.as_ref()?;
    if m.broker != BrokerMode::Embedded || clients.is_empty() || clients.contains(want) {
        return None;
    }
    Some(format!(
        "{}: mqtt.agent_client_id is {want:?}, but no client with that ClientId connected to \
         the embedded broker; connected: {}. Set it to the agent's \
         Device.MQTT.Client.{{i}}.ClientID",
        profile.file,
        clients
            .iter()
            .map(|c| format!("{c:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Profile {
        Profile::parse(
            "eut:\n  endpoint_id: 'os::012345-right'\ncontroller:\n  endpoint_id: 'self::ctrl'\nmqtt: { agent_client_id: agent-1 }\n",
            "eut.yaml",
        )
        .unwrap()
    }

    fn seen(pairs: &[(&str, &str)]) -> Seen {
        let mut s = Seen::new();
        for (id, how) in pairs {
            s.entry(id.to_string()).or_default().push(how.to_string());
        }
        s
    }

    #[test]
    fn each_field_the_agent_contradicts_is_named_with_its_place_and_the_agents_value() {
        let p = profile();
        let agent = seen(&[
            ("os::012345-other", "the eid of its WebSocket handshake"),
            (
                "os::012345-other",
                "the from_id of its WebSocketConnectRecord",
            ),
        ]);
        let ctrl = seen(&[("self::else", "the to_id of its WebSocketConnectRecord")]);
        let Preflight::Mismatch(text) = judge(&p, &agent, &ctrl, false, Duration::from_secs(1))
        else {
            panic!("a mismatch")
        };
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].starts_with("eut.yaml:2:16: eut.endpoint_id is \"os::012345-right\", but the agent presents itself as \"os::012345-other\" (the eid of its WebSocket handshake; the from_id of its WebSocketConnectRecord)"),
            "{text}"
        );
        assert!(
            lines[1].starts_with("eut.yaml:4:16: controller.endpoint_id is \"self::ctrl\", but the agent addresses its Records to \"self::else\""),
            "{text}"
        );
        // What matches passes, the second Controller included.
        let agent = seen(&[("os::012345-right", "its UDS Handshake")]);
        let ctrl = seen(&[("self::ctrl", "x"), ("self::uspcheck-2", "y")]);
        assert!(matches!(
            judge(&p, &agent, &ctrl, true, Duration::from_secs(1)),
            Preflight::Matches(m) if m.contains("its UDS Handshake") && m.contains("answers")
        ));
        // Nothing seen proves nothing.
        assert!(matches!(
            judge(
                &p,
                &Seen::new(),
                &Seen::new(),
                false,
                Duration::from_secs(1)
            ),
            Preflight::Unchecked(_)
        ));
    }

    #[test]
    fn an_mqtt_client_id_nobody_used_is_named_when_others_connected() {
        let p = profile();
        assert_eq!(client_id_mismatch(&p, &[]), None);
        assert_eq!(client_id_mismatch(&p, &["agent-1".into()]), None);
        let m = client_id_mismatch(&p, &["agent-2".into()]).unwrap();
        assert!(
            m.contains("mqtt.agent_client_id is \"agent-1\"") && m.contains("\"agent-2\""),
            "{m}"
        );
    }
}
