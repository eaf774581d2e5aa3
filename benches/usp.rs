//! Baselines later work is measured against: Record encode/decode, and a Get round trip
//! against the reference agent over WebSocket on loopback.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use prost::Message;
use uspcheck::controller::Session;
use uspcheck::run::Target;
use uspcheck::usp::{msg, pb, record};

fn sample_get_resp() -> pb::Msg {
    let params = (0..20)
        .map(|i| (format!("Param{i}"), format!("value-{i}")))
        .collect();
    msg::response(
        "bench-1",
        pb::response::RespType::GetResp(pb::GetResp {
            req_path_results: vec![pb::get_resp::RequestedPathResult {
                requested_path: "Device.LocalAgent.".into(),
                resolved_path_results: vec![pb::get_resp::ResolvedPathResult {
                    resolved_path: "Device.LocalAgent.".into(),
                    result_params: params,
                }],
                ..Default::default()
            }],
        }),
    )
}

fn records(c: &mut Criterion) {
    let m = sample_get_resp();
    let rec = record::no_session("self::uspcheck", "os::012345-uspcheck-ref", &m);
    let bytes = record::encode(&rec);
    c.bench_function("record_encode", |b| b.iter(|| record::encode(&rec)));
    c.bench_function("record_decode_with_msg", |b| {
        b.iter(|| {
            let r = record::decode(&bytes).unwrap();
            pb::Msg::decode(record::payload(&r).unwrap()).unwrap()
        })
    });
}

fn get_round_trip(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let target = Target::builtin(vec![]);
    let (link, _guard, _) = rt.block_on(target.open()).unwrap();
    let mut session = Session::new(link, &target.controller_id(), &target.eut_id(), "bench");
    c.bench_function("get_round_trip_websocket_loopback", |b| {
        b.iter(|| {
            rt.block_on(async {
                let sent = session.send(pb::request::ReqType::Get(pb::Get {
                    param_paths: vec!["Device.LocalAgent.EndpointID".into()],
                    max_depth: 0,
                }));
                session
                    .await_answer(&sent, Duration::from_secs(5))
                    .await
                    .unwrap()
            })
        })
    });
}

criterion_group!(benches, records, get_round_trip);
criterion_main!(benches);
