//! Which client of the embedded broker is the agent.

use std::time::{Instant, SystemTime};

use super::*;

fn event(client_id: &str) -> BrokerEvent {
    BrokerEvent {
        at: Instant::now(),
        wall: SystemTime::now(),
        seq: 0,
        conn: 1,
        client_id: client_id.into(),
        version: Some(Version::V5),
        dir: Dir::In,
        kind: "PUBLISH".into(),
        packet: String::new(),
        detail: json!({}),
    }
}

fn case(agent_client_id: Option<&str>) -> CaseMqtt {
    CaseMqtt::new(
        Version::V5,
        None,
        ("ctl", agent_client_id.map(String::from)),
        "usp/ctl",
        (Script::default(), None),
        None,
    )
}

/// With `mqtt.agent_client_id`, another client's packets are not the agent's; without
/// it, every client but the Controller's is.
#[test]
fn only_the_named_client_is_the_agent() {
    let named = case(Some("agent-1"));
    assert!(named.is_agent(&event("agent-1")));
    assert!(!named.is_agent(&event("a-bystander")));
    assert!(!named.is_agent(&event("ctl")));
    let any = case(None);
    assert!(any.is_agent(&event("a-bystander")));
    assert!(!any.is_agent(&event("ctl")));
}
