//! A hostile EUT meets the session's bounds and rules: waits end on time under a flood,
//! silence checks stay inconclusive once messages were dropped, a session stops reading past
//! its limit, garbage is named where a wait times out, and a transport rule broken (a text
//! frame) is a violation.

use std::time::Duration;

use super::session::{MAX_PENDING, MAX_RECORDS};
use super::{NoneError, Session, WaitError};
use crate::mtp::{EVENT_QUEUE, Events, Link, MtpEvent, MtpEventKind, MtpKind, channels};
use crate::usp::pb::{self, notify, request::ReqType};
use crate::usp::{msg, record};

const EUT: &str = "proto::eut";
const CTRL: &str = "proto::ctrl";
/// Bounds the tests themselves: a session that does not end its wait fails them, not hangs.
const HANG: Duration = Duration::from_secs(60);

/// An unsolicited Notify record from the EUT.
fn notify_record(n: usize) -> Vec<u8> {
    let m = msg::request(
        format!("flood-{n}"),
        ReqType::Notify(pb::Notify {
            subscription_id: "flood".into(),
            send_resp: false,
            notification: Some(notify::Notification::OnBoardReq(notify::OnBoardRequest {
                oui: "012345".into(),
                product_class: "x".into(),
                serial_number: "1".into(),
                agent_supported_protocol_versions: "1.4".into(),
            })),
        }),
    );
    record::encode(&record::no_session(CTRL, EUT, &m))
}

/// What keeps a test link open: the MTP side of its channels.
struct Eut {
    events: Events,
    _outgoing: tokio::sync::mpsc::UnboundedReceiver<crate::mtp::Outgoing>,
}

/// A session over a link whose EUT sends `count` Notify records (as fast as the link takes
/// them, as a flood would), and keeps the link open.
fn flooded(count: usize) -> (Session, Eut) {
    let (sender, outgoing, events, ev_rx) = channels();
    let flood = events.clone();
    tokio::spawn(async move {
        for n in 0..count {
            flood
                .emit(MtpEventKind::Record(bytes::Bytes::from(notify_record(n))))
                .await;
        }
    });
    let link = Link {
        describe: "flood".into(),
        mtp: MtpKind::Uds,
        peer_eid: Some(EUT.into()),
        sender,
        events: ev_rx,
    };
    let eut = Eut {
        events,
        _outgoing: outgoing,
    };
    (Session::new(link, CTRL, EUT, "flood"), eut)
}

/// Records keep arriving for as long as the session reads, none of them the one awaited:
/// the wait still ends at its bound.
#[tokio::test]
async fn a_flood_does_not_outlast_the_bound_of_a_wait() {
    let (mut session, eut) = flooded(0);
    let record = notify_record(0);
    let flood = tokio::spawn(async move {
        // Faster than the session reads: the link always has a record ready.
        loop {
            for _ in 0..64 {
                let r = MtpEvent::now(MtpEventKind::Record(bytes::Bytes::from(record.clone())));
                if !eut.events.forward(r).await {
                    return;
                }
            }
            tokio::task::yield_now().await;
        }
    });
    let wait = session.await_where(Duration::from_millis(50), false, |_| false);
    let got = tokio::time::timeout(HANG, wait)
        .await
        .expect("the wait ended");
    flood.abort();
    match got {
        Err(WaitError::Timeout { unmatched, .. }) => {
            assert!(unmatched.len() <= 21, "{} summaries", unmatched.len());
        }
        other => panic!("{other:?}"),
    }
}

/// More unconsumed messages than the session keeps: the oldest are dropped, and silence
/// can no longer be proven.
#[tokio::test]
async fn dropped_messages_leave_a_silence_check_inconclusive() {
    let (mut session, _eut) = flooded(MAX_PENDING + 10);
    // Reads them all: nothing wanted, so every one stays unconsumed.
    let _ = session
        .await_where(Duration::from_millis(200), false, |_| false)
        .await;
    let none = session
        .expect_none(Duration::from_millis(10), false, |_| false)
        .await;
    assert!(
        matches!(none, Err(NoneError::Overflow { dropped: 10 })),
        "{none:?}"
    );
}

/// Past its record limit a session stops reading and the link counts as closed.
#[tokio::test]
async fn a_session_stops_reading_a_flood_past_its_limit() {
    let (mut session, _eut) = flooded(MAX_RECORDS + 5);
    let wait = session.await_where(HANG, false, |_| false);
    let got = tokio::time::timeout(HANG, wait)
        .await
        .expect("the wait ended");
    assert!(
        matches!(&got, Err(WaitError::Closed { reason }) if reason.contains("flood")),
        "{got:?}"
    );
}

/// A wait that times out names the garbage that came meanwhile, never "nothing else".
#[tokio::test]
async fn a_timeout_names_the_garbage_that_came_meanwhile() {
    let (mut session, eut) = flooded(0);
    eut.events
        .emit(MtpEventKind::Record(bytes::Bytes::from(
            b"garbage".to_vec(),
        )))
        .await;
    let got = session
        .await_where(Duration::from_millis(50), false, |_| false)
        .await;
    let text = got.unwrap_err().to_string();
    assert!(text.contains("undecodable record (7 bytes)"), "{text}");
    assert!(!text.contains("nothing else"), "{text}");
}

/// A transport rule the link reports broken joins the violations the next step reports.
#[tokio::test]
async fn a_broken_transport_rule_is_a_violation() {
    let (mut session, eut) = flooded(0);
    eut.events
        .emit(MtpEventKind::Broke {
            requirement: "R-WS.14",
            text: "a text frame".into(),
        })
        .await;
    let _ = session
        .await_where(Duration::from_millis(50), false, |_| false)
        .await;
    let v = session.take_violations();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].requirement, "R-WS.14");
}

/// A link holds at most [`EVENT_QUEUE`] events its reader has not taken: the MTP task that
/// would hand on one more waits (and reads nothing more from the peer meanwhile).
#[tokio::test]
async fn a_link_holds_a_bounded_queue_of_events() {
    let (_sender, _outgoing, events, mut ev_rx) = channels();
    for n in 0..EVENT_QUEUE {
        assert!(
            events
                .emit(MtpEventKind::Record(bytes::Bytes::from(notify_record(n))))
                .await
        );
    }
    let one_more = events.emit(MtpEventKind::Note("one more".into()));
    tokio::pin!(one_more);
    assert!(
        tokio::time::timeout(Duration::from_millis(100), &mut one_more)
            .await
            .is_err(),
        "a full queue took one more event"
    );
    // Once the reader takes one, the waiting event goes through.
    assert!(ev_rx.recv().await.is_some());
    assert!(
        tokio::time::timeout(HANG, one_more)
            .await
            .expect("it went through")
    );
}

/// A record whose body alone is over the log's budget is still there for the wait that
/// takes it: the budget drops bodies no wait can take, never the newest.
#[tokio::test]
async fn a_record_bigger_than_the_log_budget_is_still_awaited() {
    let n = super::session::LOG_BODY_BUDGET / 40;
    let params = (0..n)
        .map(|i| (format!("Device.X.{i}.Name"), format!("value-{i}")))
        .collect();
    let m = msg::response(
        "big-1",
        pb::response::RespType::GetResp(pb::GetResp {
            req_path_results: vec![pb::get_resp::RequestedPathResult {
                requested_path: "Device.".into(),
                resolved_path_results: vec![pb::get_resp::ResolvedPathResult {
                    resolved_path: "Device.".into(),
                    result_params: params,
                }],
                ..Default::default()
            }],
        }),
    );
    let bytes = record::encode(&record::no_session(CTRL, EUT, &m));
    assert!(crate::controller::log::body_cost(&bytes, Some(&m)) > super::session::LOG_BODY_BUDGET);
    let (mut session, eut) = flooded(0);
    eut.events
        .emit(MtpEventKind::Record(bytes::Bytes::from(bytes)))
        .await;
    let got = session
        .await_where(HANG, false, |m| msg::msg_id(m) == "big-1")
        .await
        .expect("the big answer is taken");
    assert_eq!(*got.msg, m);
}
