//! Whether a broker has a subscriber for a Topic, as far as it says. An MQTT 5.0 broker may
//! answer a QoS 1 PUBLISH that matches no subscription with PUBACK reason 0x10, "No matching
//! subscribers" (MQTT 5.0 section 3.4.2.1). A short-lived client first publishes to a Topic
//! nobody subscribes to, to learn whether this broker says so at all, then to the Topic asked
//! about. The client speaks 5.0 whatever the agent speaks (a broker takes both, and only 5.0
//! has the reason code). Over an external broker nothing else shows whether an agent that
//! stays silent is there: the preflight asks this.

use std::time::Duration;

use tokio::time::Instant;

use super::client::{self, CEvent, Params};
use super::link::{host_port, next};
use super::{CONTENT_TYPE, Version};

/// The broker to ask, and how to log in.
#[derive(Debug, Clone)]
pub struct Asking {
    /// `host:port`.
    pub broker: String,
    /// User Name and Password.
    pub credentials: Option<(String, String)>,
}

/// What the broker said of a Topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscribers {
    /// It acknowledged the PUBLISH as delivered, where it said a Topic nobody subscribes to
    /// has no subscriber: someone is subscribed.
    Some,
    /// It answered No matching subscribers.
    None,
    /// It does not say (a broker that never answers 0x10, or that did not take this 5.0
    /// client or its PUBLISH within the bound).
    Unknown,
}

/// Publishes `payload` (a USP Record) to `topic` with `response_topic`, from a client of its
/// own whose ClientId the broker assigns, and says what the broker's PUBACK shows, within
/// `bound`. The Record reaches whoever is subscribed, as any the Controller sends would.
pub async fn subscribers(
    at: &Asking,
    topic: &str,
    payload: Vec<u8>,
    response_topic: &str,
    bound: Duration,
) -> Subscribers {
    let Ok((host, port)) = host_port(&at.broker) else {
        return Subscribers::Unknown;
    };
    let params = Params {
        host,
        port,
        version: Version::V5,
        client_id: String::new(),
        keep_alive: Duration::from_secs(60),
        credentials: at.credentials.clone(),
        endpoint_id: None,
        request_response_info: false,
        tls: None,
    };
    let Ok((cli, mut rx)) = client::start(&params) else {
        return Subscribers::Unknown;
    };
    let deadline = Instant::now() + bound;
    let mut said = Subscribers::Unknown;
    if let Some(CEvent::ConnAck { .. }) = next(&mut rx, deadline).await {
        let nobody = format!("uspcheck/nobody/{}", nonce());
        // Only a broker that says "none" of a Topic nobody subscribes to tells anything by
        // saying nothing of the other.
        if puback(&cli, &mut rx, nobody, Vec::new(), None, deadline).await == Some(true) {
            said = match puback(
                &cli,
                &mut rx,
                topic.to_string(),
                payload,
                Some(response_topic.to_string()),
                deadline,
            )
            .await
            {
                Some(true) => Subscribers::None,
                Some(false) => Subscribers::Some,
                None => Subscribers::Unknown,
            };
        }
        cli.disconnect().await;
    }
    said
}

/// Publishes with QoS 1 and waits for its PUBACK: whether it said No matching subscribers.
async fn puback(
    cli: &client::Cli,
    rx: &mut tokio::sync::mpsc::Receiver<CEvent>,
    topic: String,
    payload: Vec<u8>,
    response_topic: Option<String>,
    deadline: Instant,
) -> Option<bool> {
    let content_type = response_topic.as_ref().map(|_| CONTENT_TYPE.to_string());
    cli.publish(topic, payload, 1, response_topic, content_type)
        .await
        .ok()?;
    loop {
        match next(rx, deadline).await? {
            CEvent::PubAck { no_subscribers } => return Some(no_subscribers),
            CEvent::Ended(_) | CEvent::Disconnect(..) => return None,
            _ => {}
        }
    }
}

/// A Topic level nobody else uses.
fn nonce() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}-{t}", std::process::id())
}
