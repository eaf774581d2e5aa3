//! A case ends by its overall deadline, whatever its steps' own bounds allow.

use std::time::Duration;

use super::exec::{CASE_DEADLINE, Env, Secondary, run_case};
use crate::controller::Session;
use crate::mtp::{Link, MtpKind, channels};
use crate::report::model::Outcome;
use crate::suite::load_str;
use crate::suite::vars::Vars;

const CASE: &str = r#"
id: "9.9"
title: waits longer than a case may
tp469: "1.4.0"
tag: mandatory
metrics: [a Notify arrives]
steps:
  - await: { notify: {} }
    within: 2h
    metric: 1
"#;

#[tokio::test(start_paused = true)]
async fn a_case_ends_at_its_overall_deadline() {
    let case = load_str(CASE, "t.yaml").unwrap();
    let (sender, _outgoing, _events, ev_rx) = channels();
    let link = Link {
        describe: "silent".into(),
        mtp: MtpKind::Uds,
        peer_eid: None,
        sender,
        events: ev_rx,
    };
    let mut session = Session::new(link, "proto::ctrl", "proto::eut", "deadline");
    let env = Env {
        response_timeout: Duration::from_secs(5),
        secondary: Secondary::SharedLink,
        mqtt: None,
    };
    let began = tokio::time::Instant::now();
    let ended = run_case(&case, &mut session, Vars::default(), env).await;
    assert_eq!(began.elapsed(), CASE_DEADLINE);
    match ended.outcome {
        Outcome::Error { failure } => {
            assert!(
                failure.message.contains("overall deadline"),
                "{}",
                failure.message
            )
        }
        other => panic!("{other:?}"),
    }
}
