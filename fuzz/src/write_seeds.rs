//! Writes the seed corpora under `fuzz/corpus/<target>/` from the crate's own builders:
//! `cargo +nightly fuzz build -s none`, then run this binary from the repository root
//! (see docs/fuzzing.md). Case and profile seeds are copies of files in the repository.

use std::path::Path;

use uspcheck::mtp::uds;
use uspcheck::usp::pb::{self, request::ReqType, response::RespType};
use uspcheck::usp::{msg, record};

const C: &str = "proto::uspcheck-controller";
const A: &str = "proto::agent";

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new("fuzz/corpus").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn get_resp() -> pb::Msg {
    msg::response(
        "42",
        RespType::GetResp(pb::GetResp {
            req_path_results: vec![pb::get_resp::RequestedPathResult {
                requested_path: "Device.LocalAgent.Subscription.*.".into(),
                resolved_path_results: vec![pb::get_resp::ResolvedPathResult {
                    resolved_path: "Device.LocalAgent.Subscription.1.".into(),
                    result_params: [("Enable".to_string(), "true".to_string())].into(),
                }],
                ..Default::default()
            }],
        }),
    )
}

fn notify() -> pb::Msg {
    msg::request(
        "n-1",
        ReqType::Notify(pb::Notify {
            subscription_id: "sub-1".into(),
            send_resp: true,
            notification: Some(pb::notify::Notification::ValueChange(
                pb::notify::ValueChange {
                    param_path: "Device.LocalAgent.SoftwareVersion".into(),
                    param_value: "1.0".into(),
                },
            )),
        }),
    )
}

/// An MQTT packet: the first byte, then the remaining length as a variable byte integer.
fn mqtt(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    let mut n = body.len();
    loop {
        let b = (n % 128) as u8;
        n /= 128;
        out.push(if n > 0 { b | 0x80 } else { b });
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(body);
    out
}

fn string(s: &str) -> Vec<u8> {
    let mut out = (s.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(s.as_bytes());
    out
}

fn main() {
    let get_resp = record::encode(&record::no_session(C, A, &get_resp()));
    let notify_rec = record::encode(&record::no_session(C, A, &notify()));
    write("record_msg", "get_resp", &get_resp);
    write("record_msg", "notify", &notify_rec);
    let error = pb::Error {
        err_code: 7004,
        err_msg: "Invalid path".into(),
        ..Default::default()
    };
    let err = record::encode(&record::no_session(C, A, &msg::error("7", error)));
    write("record_msg", "error", &err);
    write(
        "record_msg",
        "ws_connect",
        &record::encode(&record::websocket_connect(C, A)),
    );
    write(
        "record_msg",
        "mqtt_connect",
        &record::encode(&record::mqtt_connect(C, A, true, "usp/agent")),
    );
    write(
        "record_msg",
        "disconnect",
        &record::encode(&record::disconnect(C, A, "bye", 7003)),
    );

    let upgrade = "GET /usp?eid=proto%3A%3Aagent HTTP/1.1\r\nHost: 127.0.0.1:5683\r\n\
        Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v1.usp\r\n\
        Sec-WebSocket-Extensions: bbf-usp-protocol; eid=\"proto::agent\"\r\n\r\n";
    write("ws_handshake", "upgrade", upgrade.as_bytes());
    write(
        "ws_handshake",
        "no_subprotocol",
        upgrade
            .replace("Sec-WebSocket-Protocol: v1.usp\r\n", "")
            .as_bytes(),
    );
    write(
        "ws_handshake",
        "stray_get",
        b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    );

    // CONNECT: protocol name, level, flags (clean), keep alive 60, [properties], client id.
    let mut v4 = string("MQTT");
    v4.extend_from_slice(&[4, 0x02, 0, 60]);
    v4.extend_from_slice(&string("agent"));
    let connect4 = mqtt(0x10, &v4);
    let mut v5 = string("MQTT");
    v5.extend_from_slice(&[5, 0x02, 0, 60, 0]);
    v5.extend_from_slice(&string("agent"));
    let connect5 = mqtt(0x10, &v5);
    write("mqtt_broker", "connect_311", &connect4);
    write("mqtt_broker", "connect_5", &connect5);
    // 3.1.1: CONNECT, SUBSCRIBE usp/agent QoS 1, PUBLISH QoS 1 with a record, PINGREQ,
    // DISCONNECT.
    let mut s = vec![0, 1];
    s.extend_from_slice(&string("usp/agent"));
    s.push(1);
    let mut p = string("usp/controller/reply-to=usp/agent");
    p.extend_from_slice(&[0, 2]);
    p.extend_from_slice(&get_resp);
    let session4 = [
        connect4,
        mqtt(0x82, &s),
        mqtt(0x32, &p),
        mqtt(0xC0, &[]),
        mqtt(0xE0, &[]),
    ]
    .concat();
    write("mqtt_broker", "session_311", &session4);
    // 5.0: the same with properties (Content Type usp.msg, Response Topic).
    let mut s = vec![0, 1, 0];
    s.extend_from_slice(&string("usp/agent"));
    s.push(1);
    let mut p = string("usp/controller");
    p.extend_from_slice(&[0, 2]);
    let mut props = vec![0x03];
    props.extend_from_slice(&string("usp.msg"));
    props.push(0x08);
    props.extend_from_slice(&string("usp/agent"));
    p.push(props.len() as u8);
    p.extend_from_slice(&props);
    p.extend_from_slice(&get_resp);
    let session5 = [
        connect5,
        mqtt(0x82, &s),
        mqtt(0x32, &p),
        mqtt(0xC0, &[]),
        mqtt(0xE0, &[0x00, 0x00]),
    ]
    .concat();
    write("mqtt_broker", "session_5", &session5);

    let tlv = |kind, value: &[u8]| uds::Tlv {
        kind,
        value: value.to_vec(),
    };
    let stream = [
        uds::encode(&[tlv(uds::HANDSHAKE, A.as_bytes())]),
        uds::encode(&[tlv(uds::RECORD, &get_resp)]),
        uds::encode(&[tlv(uds::RECORD, &notify_rec)]),
    ]
    .concat();
    write("uds_frame", "handshake_records", &stream);
    write(
        "uds_frame",
        "error",
        &uds::encode(&[tlv(uds::ERROR, b"bad frame")]),
    );
}
