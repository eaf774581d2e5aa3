//! The preflight through an external broker, where no handshake shows the agent. The Get is
//! published again every few seconds (the agent may subscribe late) until the agent answers,
//! a Record of its own arrives (its MQTTConnectRecord when it connects after uspcheck
//! subscribed, a Notify), whose `from_id` says who it is, or the connect bound ends. Of an
//! agent that stays silent, the broker is asked whether anyone is subscribed to
//! `mqtt.agent_topic` ([`subscribers`]): if someone is, the agent is there and ignores what
//! is addressed to `eut.endpoint_id` (R-E2E.1).

use std::time::Duration;

use tokio::time::Instant;

use super::{Preflight, SETTLE, at};
use crate::controller::Session;
use crate::mtp::mqtt::subscribers::{self, Asking, Subscribers};
use crate::run::Target;
use crate::suite::profile::{MqttSetup, Profile};
use crate::usp::{msg, pb, record};

/// How often the Get is published again while nothing comes.
const ASK_EVERY: Duration = Duration::from_secs(5);
/// How long the preflight listens before it looks again at what came.
const LISTEN: Duration = Duration::from_millis(250);

/// The preflight's request: the agent's own Endpoint ID.
pub(super) fn get() -> pb::request::ReqType {
    pb::request::ReqType::Get(pb::Get {
        param_paths: vec!["Device.LocalAgent.EndpointID".into()],
        max_depth: 0,
    })
}

/// Asks until the agent answers, sends something of its own, or the connect bound ends:
/// whether it answered, and what the broker said of `mqtt.agent_topic` while it was silent.
pub(super) async fn ask(
    session: &mut Session,
    target: &Target,
    m: &MqttSetup,
) -> (bool, Subscribers) {
    let began = Instant::now();
    let deadline = began + target.connect_timeout();
    let mut said = Subscribers::Unknown;
    let mut next_ask = began;
    loop {
        let now = Instant::now();
        if now >= next_ask {
            // Silent past the response bound: the broker may say whether anyone listens.
            if now >= began + target.response_timeout() {
                said = look(target, m).await;
                if said == Subscribers::Some {
                    return (false, said);
                }
            }
            session.send(get());
            next_ask = now + ASK_EVERY;
        }
        if now >= deadline {
            return (false, said);
        }
        // The answer to any of the Gets will do.
        let answer = |m: &pb::Msg| msg::body_name(m) == "get_resp";
        let until = next_ask.min(deadline).min(now + LISTEN);
        if session
            .await_where(until.saturating_duration_since(now), false, answer)
            .await
            .is_ok()
        {
            return (true, said);
        }
        if heard(session) {
            // The rest of what it sends of itself meanwhile still says who it is.
            let nothing = |_: &pb::Msg| false;
            let _ = session.await_where(SETTLE, false, nothing).await;
            return (false, said);
        }
    }
}

/// Whether the agent sent any Record in `session` that says who it is: what the session
/// already keeps ([`Session::addressed`]), not a scan of its log on every turn.
fn heard(session: &Session) -> bool {
    !session.addressed().is_empty()
}

/// What the broker says of `mqtt.agent_topic`, asked with one more of the Gets.
async fn look(target: &Target, m: &MqttSetup) -> Subscribers {
    let Some(topic) = &m.agent_topic else {
        return Subscribers::Unknown;
    };
    let get = msg::request("uspcheck-preflight-broker", get());
    let bytes = record::encode(&record::no_session(
        &target.eut_id(),
        &target.controller_id(),
        &get,
    ));
    let asking = Asking {
        broker: m.address.clone(),
        credentials: m.credentials.as_ref().map(|c| c.pair()),
    };
    subscribers::subscribers(
        &asking,
        topic,
        bytes,
        &m.controller_topic,
        target.response_timeout(),
    )
    .await
}

/// The verdict on an agent that neither answered nor sent anything through the broker.
pub(super) fn silence(
    profile: &Profile,
    m: &MqttSetup,
    said: Subscribers,
    waited: Duration,
) -> Preflight {
    let eut = &profile.eut.endpoint_id;
    let ctrl = &profile.controller.endpoint_id;
    let waited = crate::human::duration(waited);
    let Some(topic) = &m.agent_topic else {
        return Preflight::Unchecked(format!(
            "the agent sent nothing through the broker {} within {waited}; without \
             mqtt.agent_topic uspcheck learns where to send only from what the agent sends",
            m.address
        ));
    };
    match said {
        Subscribers::Some => Preflight::Mismatch(format!(
            "{} is {eut:?}, but nothing answered the Gets of Device.LocalAgent.EndpointID \
             addressed to it that uspcheck published on mqtt.agent_topic {topic:?}, though the \
             broker {} has a subscriber for that Topic: an agent ignores Records addressed to \
             another Endpoint ID (R-E2E.1). Set it to the agent's \
             Device.LocalAgent.EndpointID; if it is that already, give the agent a \
             Device.LocalAgent.Controller.{{i}}. with EndpointID {ctrl:?} (and full permissions)",
            at(profile, "eut.endpoint_id", profile.eut.at),
            m.address
        )),
        Subscribers::None => Preflight::Unchecked(format!(
            "nobody is subscribed to mqtt.agent_topic {topic:?} at the broker {} (it answered \
             a Get published there with No matching subscribers): the agent is not connected \
             to it, or subscribes to another Topic",
            m.address
        )),
        Subscribers::Unknown => Preflight::Unchecked(format!(
            "the agent answered no Get of Device.LocalAgent.EndpointID published on \
             mqtt.agent_topic {topic:?} within {waited} and sent nothing of its own (the broker \
             does not say whether anyone is subscribed there); if it is connected and \
             subscribed to that Topic, eut.endpoint_id {eut:?} is not its Endpoint ID (an \
             agent ignores Records addressed to another one, R-E2E.1)"
        )),
    }
}
