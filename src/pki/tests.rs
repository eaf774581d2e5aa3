//! The CA, its certificates and the rustls configurations, exercised through real TLS
//! handshakes over in-memory pipes (no sockets, no sleeps; every wait bounded).

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::*;

const WAIT: Duration = Duration::from_secs(10);
const AGENT: &str = "proto::uspcheck-agent";

/// Runs one handshake over a pipe and exchanges a byte each way. Returns what each side
/// said: the client's result, and the server's (with the client certificate it saw).
async fn handshake(
    server: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
    name: &str,
) -> (
    Result<rustls::ProtocolVersion, String>,
    Result<Option<CertInfo>, String>,
) {
    let (a, b) = tokio::io::duplex(64 * 1024);
    let name = ServerName::try_from(name.to_string()).expect("a server name");
    let srv = async move {
        let mut s = TlsAcceptor::from(server)
            .accept(a)
            .await
            .map_err(|e| e.to_string())?;
        let peer = s
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| describe(c).expect("the client certificate parses"));
        let mut one = [0u8; 1];
        s.read_exact(&mut one).await.map_err(|e| e.to_string())?;
        s.write_all(&one).await.map_err(|e| e.to_string())?;
        s.flush().await.map_err(|e| e.to_string())?;
        Ok(peer)
    };
    let cli = async move {
        let mut c = TlsConnector::from(client)
            .connect(name, b)
            .await
            .map_err(|e| e.to_string())?;
        let v = c.get_ref().1.protocol_version().expect("a version");
        c.write_all(b"x").await.map_err(|e| e.to_string())?;
        c.flush().await.map_err(|e| e.to_string())?;
        let mut one = [0u8; 1];
        c.read_exact(&mut one).await.map_err(|e| e.to_string())?;
        Ok(v)
    };
    let both = async {
        // A failed client drops its pipe end, which ends the server's handshake too.
        tokio::join!(cli, srv)
    };
    tokio::time::timeout(WAIT, both)
        .await
        .expect("the handshake finishes")
}

fn client_with(
    ca: &Ca,
    versions: &[&'static rustls::SupportedProtocolVersion],
    id: Option<&Identity>,
) -> Arc<rustls::ClientConfig> {
    let b = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(ca.roots());
    Arc::new(match id {
        Some(i) => b.with_client_auth_cert(i.chain.clone(), i.key()).unwrap(),
        None => b.with_no_client_auth(),
    })
}

#[tokio::test]
async fn a_client_trusting_the_ca_connects_with_tls_1_3_and_1_2() {
    let ca = Ca::new("uspcheck test CA").unwrap();
    let srv = server_config(&ca.local_server().unwrap(), &ca, ClientAuth::None).unwrap();
    let (c, s) = handshake(srv.clone(), client_config(&ca, None).unwrap(), "127.0.0.1").await;
    assert_eq!(c, Ok(rustls::ProtocolVersion::TLSv1_3));
    assert_eq!(s, Ok(None));
    let tls12 = client_with(&ca, &[&rustls::version::TLS12], None);
    let (c, _) = handshake(srv.clone(), tls12, "localhost").await;
    assert_eq!(c, Ok(rustls::ProtocolVersion::TLSv1_2));
    let (c, _) = handshake(srv, client_config(&ca, None).unwrap(), "::1").await;
    assert!(c.is_ok(), "{c:?}");
}

#[tokio::test]
async fn broken_server_certificates_are_refused_for_the_reason_they_are_broken() {
    let ca = Ca::new("uspcheck test CA").unwrap();
    let client = client_config(&ca, None).unwrap();
    for (how, expect) in [
        (Broken::Expired, "expired"),
        (Broken::NotYetValid, "not valid yet"),
        (Broken::WrongName, "not valid for name"),
        (Broken::UntrustedCa, "UnknownIssuer"),
    ] {
        let id = ca.broken_server(how, LOCAL_NAMES).unwrap();
        let srv = server_config(&id, &ca, ClientAuth::None).unwrap();
        let (c, s) = handshake(srv, client.clone(), "127.0.0.1").await;
        let err = c.expect_err(&format!("{how:?} must be refused"));
        assert!(
            err.contains(expect),
            "{how:?}: {err:?} does not say {expect:?}"
        );
        assert!(s.is_err(), "{how:?}: the server side fails too");
    }
}

#[tokio::test]
async fn client_certificates_carry_the_endpoint_id_and_are_verified() {
    let ca = Ca::new("uspcheck test CA").unwrap();
    let server_id = ca.local_server().unwrap();
    let required = server_config(&server_id, &ca, ClientAuth::Required).unwrap();
    let optional = server_config(&server_id, &ca, ClientAuth::Optional).unwrap();
    let agent = ca.endpoint(AGENT).unwrap();

    let (c, s) = handshake(
        required.clone(),
        client_config(&ca, Some(&agent)).unwrap(),
        "127.0.0.1",
    )
    .await;
    assert!(c.is_ok(), "{c:?}");
    let seen = s.unwrap().expect("the server saw the client's certificate");
    assert_eq!(seen.endpoint_ids, vec![AGENT.to_string()]);
    assert!(seen.san.contains(&format!("URI:urn:bbf:usp:id:{AGENT}")));

    // Required: no certificate, or one from another CA, is refused by the server.
    let (_, s) = handshake(
        required.clone(),
        client_config(&ca, None).unwrap(),
        "localhost",
    )
    .await;
    assert!(s.is_err(), "no client certificate: {s:?}");
    let stranger = ca.broken_endpoint(Broken::UntrustedCa, AGENT).unwrap();
    let (_, s) = handshake(
        required.clone(),
        client_config(&ca, Some(&stranger)).unwrap(),
        "localhost",
    )
    .await;
    assert!(
        s.as_ref().is_err_and(|e| e.contains("UnknownIssuer")),
        "{s:?}"
    );
    let expired = ca.broken_endpoint(Broken::Expired, AGENT).unwrap();
    let (_, s) = handshake(
        required,
        client_config(&ca, Some(&expired)).unwrap(),
        "localhost",
    )
    .await;
    assert!(s.as_ref().is_err_and(|e| e.contains("expired")), "{s:?}");

    // Optional: a client without a certificate is let in.
    let (c, s) = handshake(optional, client_config(&ca, None).unwrap(), "localhost").await;
    assert!(c.is_ok(), "{c:?}");
    assert_eq!(s, Ok(None));
}

#[test]
fn certificates_name_what_they_are_for() {
    let ca = Ca::new("uspcheck test CA").unwrap();
    let srv = describe(&ca.local_server().unwrap().chain[0]).unwrap();
    assert_eq!(srv.san, vec!["IP:127.0.0.1", "DNS:localhost", "IP:::1"]);
    assert!(srv.issuer.contains("uspcheck test CA"), "{srv:?}");
    let wrong = describe(
        &ca.broken_server(Broken::WrongName, LOCAL_NAMES)
            .unwrap()
            .chain[0],
    );
    assert_eq!(wrong.unwrap().san, vec!["DNS:wrong-name.invalid"]);
    let fqdn = describe(&ca.endpoint("fqdn::agent.example.com").unwrap().chain[0]).unwrap();
    assert_eq!(
        fqdn.san,
        vec![
            "URI:urn:bbf:usp:id:fqdn::agent.example.com",
            "DNS:agent.example.com"
        ]
    );
    let other = describe(&ca.broken_endpoint(Broken::WrongName, AGENT).unwrap().chain[0]);
    assert_eq!(other.unwrap().endpoint_ids, vec![format!("{AGENT}-not-me")]);
    let untrusted = describe(
        &ca.broken_server(Broken::UntrustedCa, LOCAL_NAMES)
            .unwrap()
            .chain[0],
    );
    assert!(untrusted.unwrap().issuer.contains("untrusted"));
}

#[test]
fn pem_files_round_trip_into_a_trust_store() {
    let ca = Ca::new("uspcheck test CA").unwrap();
    let dir = std::env::temp_dir().join(format!("uspcheck-pki-{}", std::process::id()));
    let path = ca.write_pem(&dir).unwrap();
    let pem = std::fs::read_to_string(&path).unwrap();
    assert_eq!(roots_from_pem(&pem).unwrap().len(), 1);
    let (cert, key) = ca
        .endpoint(AGENT)
        .unwrap()
        .write_pem(&dir, "agent")
        .unwrap();
    assert!(
        std::fs::read_to_string(cert)
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
    assert!(
        std::fs::read_to_string(key)
            .unwrap()
            .contains("PRIVATE KEY")
    );
    assert!(roots_from_pem("not pem").is_err());
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_run_pki_is_made_once_and_its_agent_trusts_its_servers() {
    let a = run_pki().unwrap();
    let b = run_pki().unwrap();
    assert!(std::ptr::eq(a, b));
    let (c, s) = handshake(a.server_config.clone(), a.agent_trust.clone(), "127.0.0.1").await;
    assert_eq!(c, Ok(rustls::ProtocolVersion::TLSv1_3));
    assert_eq!(s, Ok(None));
}

#[tokio::test]
async fn a_kept_ca_is_reused_and_still_issues_trusted_certificates() {
    let dir = std::env::temp_dir().join(format!("uspcheck-pki-kept-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let first = Ca::load_or_create(&dir, RUN_CA_NAME).unwrap();
    let again = Ca::load_or_create(&dir, RUN_CA_NAME).unwrap();
    assert_eq!(first.cert_der(), again.cert_der());
    // A server certificate from the reloaded CA is trusted by a client of the first.
    let srv = server_config(&again.local_server().unwrap(), &again, ClientAuth::None).unwrap();
    let (c, _) = handshake(srv, client_config(&first, None).unwrap(), "127.0.0.1").await;
    assert_eq!(c, Ok(rustls::ProtocolVersion::TLSv1_3));
    // The kept run certificates: the server's also names the agent-facing address.
    let run = RunPki::kept(&dir, &["192.0.2.7", "localhost"]).unwrap();
    assert_eq!(run.ca.cert_der(), first.cert_der());
    let san = describe(&run.server.chain[0]).unwrap().san;
    assert_eq!(
        san,
        vec!["IP:127.0.0.1", "DNS:localhost", "IP:::1", "IP:192.0.2.7"]
    );
    assert!(dir.join("server.pem").exists() && dir.join("server.key").exists());
    // Files that are not ours are refused, not overwritten.
    let dir2 = dir.join("other");
    Ca::load_or_create(&dir2, "another CA").unwrap();
    assert!(Ca::load_or_create(&dir2, RUN_CA_NAME).is_err());
    let other = Ca::new(RUN_CA_NAME).unwrap();
    std::fs::write(dir.join("ca.pem"), other.cert_pem()).unwrap();
    let err = Ca::load_or_create(&dir, RUN_CA_NAME).unwrap_err();
    assert!(err.contains("does not belong"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn private_keys_are_written_owner_only_and_failures_are_reported() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("uspcheck-pki-modes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // A server key an older run left world-readable is replaced by an owner-only one.
    std::fs::write(dir.join("server.key"), "old").unwrap();
    std::fs::set_permissions(
        dir.join("server.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    RunPki::kept(&dir, &[]).unwrap();
    let mode = |f: &str| std::fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("ca.key"), 0o600);
    assert_eq!(mode("server.key"), 0o600);
    assert!(
        std::fs::read_to_string(dir.join("server.key"))
            .unwrap()
            .contains("PRIVATE KEY")
    );
    let (_, key) = Ca::new("t")
        .unwrap()
        .endpoint(AGENT)
        .unwrap()
        .write_pem(&dir, "agent")
        .unwrap();
    assert_eq!(
        std::fs::metadata(key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    // A key that cannot be written is an error, not a silent success: here `x.key` is a
    // folder that is not empty, and no temporary file stays.
    let blocked = dir.join("blocked");
    std::fs::create_dir_all(blocked.join("x.key/inside")).unwrap();
    let err = Ca::new("t")
        .unwrap()
        .endpoint(AGENT)
        .unwrap()
        .write_pem(&blocked, "x")
        .unwrap_err();
    assert!(
        err.contains("cannot write") && err.contains("x.key"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(&blocked).unwrap().count(),
        2,
        "x.pem and x.key only"
    );
    let _ = std::fs::remove_dir_all(dir);
}
