//! UDS framing: `read_frame` over a byte stream until it ends or breaks, as the UDS link's
//! reader does, and `parse_body` on the bytes as a frame body.
#![no_main]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use libfuzzer_sys::fuzz_target;
use uspcheck::mtp::uds;

fuzz_target!(|data: &[u8]| {
    let mut stream = data;
    let mut cx = Context::from_waker(Waker::noop());
    // An in-memory reader never waits, so each read completes on its first poll.
    for _ in 0..1000 {
        let frame = pin!(uds::read_frame(&mut stream)).poll(&mut cx);
        match frame {
            Poll::Ready(Ok(Some(tlvs))) => {
                let again = uds::encode(&tlvs);
                assert!(uds::parse_body(&again[8..]).is_ok_and(|t| t == tlvs));
            }
            Poll::Ready(_) => break,
            Poll::Pending => panic!("read_frame waited on an in-memory reader"),
        }
    }
    let _ = uds::parse_body(data);
});
