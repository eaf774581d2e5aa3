//! The session log is evidence: a response is never logged before its request, and the log
//! is in time order. Many request/response exchanges with the reference agent, over each
//! MTP, make a race between the sending side's clock and the receiving side's show up.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use uspcheck::controller::{Dir, Logged, Session};
use uspcheck::mtp::mqtt::Version;
use uspcheck::run::Target;
use uspcheck::run::target::BuiltinMtp;
use uspcheck::usp::{msg, pb};

const EXCHANGES: usize = 300;

async fn exchanges_are_logged_in_order(mtp: BuiltinMtp) {
    let target = Target::BuiltIn {
        faults: vec![],
        mtp,
    };
    let (link, _guard, _relink) = target.open().await.expect("the reference agent connects");
    let mut session = Session::new(link, &target.controller_id(), &target.eut_id(), "order");
    for _ in 0..EXCHANGES {
        let sent = session.send(pb::request::ReqType::Get(pb::Get {
            param_paths: vec!["Device.LocalAgent.EndpointID".into()],
            max_depth: 0,
        }));
        session
            .await_answer(&sent, Duration::from_secs(10))
            .await
            .expect("the agent answers");
    }
    let log = session.log();
    let mut sent_at: HashMap<String, Instant> = HashMap::new();
    let mut answers = 0;
    for (i, e) in log.iter().enumerate() {
        if i > 0 {
            assert!(
                log[i - 1].at <= e.at,
                "{mtp:?}: log entry {i} is earlier than entry {}",
                i - 1
            );
        }
        let Logged::Record {
            dir, msg: Some(m), ..
        } = &e.what
        else {
            continue;
        };
        let id = msg::msg_id(m).to_string();
        match dir {
            Dir::Out => {
                sent_at.insert(id, e.at);
            }
            Dir::In if msg::is_answer(m) => {
                let req = sent_at
                    .get(&id)
                    .unwrap_or_else(|| panic!("{mtp:?}: the answer to {id} is logged before it"));
                assert!(*req <= e.at, "{mtp:?}: the answer to {id} predates it");
                answers += 1;
            }
            Dir::In => {}
        }
    }
    assert_eq!(answers, EXCHANGES, "{mtp:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_answers_are_logged_after_their_requests() {
    exchanges_are_logged_in_order(BuiltinMtp::WebSocket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uds_answers_are_logged_after_their_requests() {
    exchanges_are_logged_in_order(BuiltinMtp::Uds).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_answers_are_logged_after_their_requests() {
    exchanges_are_logged_in_order(BuiltinMtp::Mqtt(Version::V5)).await;
}
