//! An external agent's embedded broker with `mqtt.tls_address`: the CA is kept in the
//! profile's `certs` folder, and a client trusting only that `ca.pem` gets in over TLS.

use std::time::Duration;

use super::ExternalMqtt;
use crate::mtp::mqtt::{self, ClientConfig, Version};
use crate::pki;
use crate::suite::profile::{MtpSetup, Profile};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

#[tokio::test]
async fn the_profile_tls_listener_presents_the_kept_ca_certificate() {
    let certs = std::env::temp_dir().join(format!("uspcheck-run-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&certs);
    let text = format!(
        "eut: {{ endpoint_id: 'proto::a' }}\ncontroller: {{ endpoint_id: 'proto::c' }}\n\
         mqtt: {{ address: '127.0.0.1:0', tls: {{ address: '127.0.0.1:0', names: [broker.example], certs: '{}' }} }}\n",
        certs.display()
    );
    let MtpSetup::Mqtt(setup) = Profile::parse(&text, "p.yaml").unwrap().mtp() else {
        panic!("an MQTT profile");
    };
    let started = ExternalMqtt::start(&setup).await.unwrap();
    assert!(
        started.describe().contains("with TLS"),
        "{}",
        started.describe()
    );
    let broker = started.case().broker.expect("embedded");
    let at = broker.tls_addr().expect("a TLS listener");

    let roots = pki::roots_from_pem(&std::fs::read_to_string(certs.join("ca.pem")).unwrap());
    let trust = pki::client_config_with_roots(roots.unwrap(), None).unwrap();
    let server_pem = std::fs::read_to_string(certs.join("server.pem")).unwrap();
    let server = CertificateDer::from_pem_slice(server_pem.as_bytes()).unwrap();
    let san = pki::describe(&server).unwrap().san;
    assert!(san.contains(&"DNS:broker.example".to_string()), "{san:?}");
    let mut cfg = ClientConfig::agent(
        &at.to_string(),
        Version::V5,
        "tls-external",
        "usp/agent",
        "usp/controller/uspcheck",
        Duration::from_secs(30),
    );
    cfg.tls = Some(trust);
    cfg.timeout = Duration::from_secs(5);
    mqtt::connect_with(cfg).await.unwrap();
    let hs = broker
        .wait_for(0, Duration::from_secs(5), |e| e.kind == "TLS")
        .await
        .unwrap();
    assert_eq!(hs.detail["tls"]["version"], "1.3");

    // A second run reuses the CA the agent has installed.
    let pem = std::fs::read_to_string(certs.join("ca.pem")).unwrap();
    drop(started);
    let again = ExternalMqtt::start(&setup).await.unwrap();
    assert_eq!(std::fs::read_to_string(certs.join("ca.pem")).unwrap(), pem);
    drop(again);
    let _ = std::fs::remove_dir_all(certs);
}

#[test]
fn a_tls_address_that_is_not_host_port_is_a_profile_error() {
    let text = "eut: { endpoint_id: 'proto::a' }\ncontroller: { endpoint_id: 'proto::c' }\n\
                mqtt: { tls: { address: 'nowhere' } }\n";
    let err = Profile::parse(text, "p.yaml").unwrap_err();
    assert!(err.message.contains("mqtt.tls.address"), "{}", err.message);
    let typo = "eut: { endpoint_id: 'proto::a' }\ncontroller: { endpoint_id: 'proto::c' }\n\
                mqtt: { tls: { adress: '127.0.0.1:8883' } }\n";
    assert!(Profile::parse(typo, "p.yaml").is_err());
}
