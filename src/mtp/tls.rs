//! TLS under any TCP-based MTP (TR-369 "Securing MTPs": at least TLS 1.2, R-MTP.0): a
//! client-side dial (TCP connect, then an optional rustls handshake) and a server-side
//! accept, both returning one boxed byte stream whatever the transport, plus what the
//! handshake negotiated, in the shape the MTP logs report it.
//!
//! The configurations come from [`crate::pki`] (ring provider, TLS 1.3 and 1.2 only), so
//! nothing older than TLS 1.2 is ever negotiated.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::pki::{self, CertInfo};

/// A byte stream of any transport (plain TCP or TLS over it).
pub trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// A boxed [`Stream`].
pub type BoxStream = Box<dyn Stream>;

/// The first byte of a TLS record carrying a handshake message (a ClientHello starts with
/// it); MQTT, STOMP and HTTP never start with it, so one peeked byte tells a client that
/// speaks TLS from one that sends its protocol in plaintext.
pub const HANDSHAKE_RECORD: u8 = 0x16;

/// Whether the first byte a client sent starts a TLS handshake.
pub fn looks_like_tls(first: u8) -> bool {
    first == HANDSHAKE_RECORD
}

/// What a TLS handshake negotiated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsInfo {
    /// `1.2` or `1.3`.
    pub version: String,
    /// The IANA name of the cipher suite (`TLS13_AES_256_GCM_SHA384`).
    pub cipher: String,
    /// The server name the client asked for (SNI), on the server side.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpn: Option<String>,
    /// The certificate the peer presented (the client's, on the server side), if any.
    pub peer_certificate: Option<CertInfo>,
}

impl TlsInfo {
    fn from_common(c: &rustls::CommonState, sni: Option<&str>) -> TlsInfo {
        TlsInfo {
            version: c.protocol_version().map(version_label).unwrap_or_default(),
            cipher: c
                .negotiated_cipher_suite()
                .map(|s| {
                    let s = s.suite();
                    s.as_str().map_or_else(|| format!("{s:?}"), str::to_string)
                })
                .unwrap_or_default(),
            sni: sni.map(str::to_string),
            alpn: c
                .alpn_protocol()
                .map(|a| String::from_utf8_lossy(a).into_owned()),
            peer_certificate: c
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(|c| pki::describe(c).ok()),
        }
    }

    /// Whether the version is TLS 1.2 or later (TP-469 11.3 metric 1).
    pub fn at_least_1_2(&self) -> bool {
        matches!(self.version.as_str(), "1.2" | "1.3")
    }

    /// `TLS 1.3 TLS13_AES_256_GCM_SHA384`, for one-line descriptions.
    pub fn label(&self) -> String {
        format!("TLS {} {}", self.version, self.cipher)
    }
}

/// `1.2` for TLS 1.2 and so on; other protocols by their rustls name.
pub fn version_label(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_0 => "1.0".into(),
        rustls::ProtocolVersion::TLSv1_1 => "1.1".into(),
        rustls::ProtocolVersion::TLSv1_2 => "1.2".into(),
        rustls::ProtocolVersion::TLSv1_3 => "1.3".into(),
        other => format!("{other:?}"),
    }
}

/// Splits `host:port` (`[::1]:8883` too) into its host and port.
fn host_of(addr: &str) -> Result<&str, String> {
    let (h, p) = addr
        .rsplit_once(':')
        .ok_or_else(|| format!("{addr:?} is not host:port"))?;
    p.parse::<u16>()
        .map_err(|_| format!("{addr:?} has no valid port"))?;
    Ok(h.trim_start_matches('[').trim_end_matches(']'))
}

/// Connects to `addr` (`host:port`) and, with a configuration, runs a TLS handshake that
/// checks the server's certificate against the host name or address. The whole is bounded
/// by `bound`. Returns the stream and, with TLS, what was negotiated.
pub async fn dial(
    addr: &str,
    tls: Option<&Arc<rustls::ClientConfig>>,
    bound: Duration,
) -> Result<(BoxStream, Option<TlsInfo>), String> {
    let host = host_of(addr)?.to_string();
    let work = async {
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        let _ = tcp.set_nodelay(true);
        let Some(config) = tls else {
            return Ok((Box::new(tcp) as BoxStream, None));
        };
        let name = ServerName::try_from(host.clone())
            .map_err(|e| format!("{host:?} is not a server name for TLS: {e}"))?;
        let s = tokio_rustls::TlsConnector::from(config.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS handshake with {addr} failed: {e}"))?;
        let info = TlsInfo::from_common(s.get_ref().1, None);
        Ok((Box::new(s) as BoxStream, Some(info)))
    };
    tokio::time::timeout(bound, work).await.map_err(|_| {
        format!(
            "no connection to {addr} within {}",
            crate::human::duration(bound)
        )
    })?
}

/// Runs the server side of a TLS handshake on an accepted connection.
pub async fn accept(
    tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
) -> Result<(BoxStream, TlsInfo), String> {
    let s = tokio_rustls::TlsAcceptor::from(config)
        .accept(tcp)
        .await
        .map_err(|e| explain(&e))?;
    let c = s.get_ref().1;
    let info = TlsInfo::from_common(c, c.server_name());
    Ok((Box::new(s), info))
}

/// A handshake error in words, naming the version rule when that is what failed.
fn explain(e: &std::io::Error) -> String {
    let text = e.to_string();
    let version = e
        .get_ref()
        .and_then(|i| i.downcast_ref::<rustls::Error>())
        .is_some_and(|r| {
            matches!(
                r,
                rustls::Error::PeerIncompatible(
                    rustls::PeerIncompatible::Tls12NotOffered
                        | rustls::PeerIncompatible::Tls12NotOfferedOrEnabled
                        | rustls::PeerIncompatible::SupportedVersionsExtensionRequired
                )
            )
        });
    if version {
        format!("{text} (the client offered no TLS version from 1.2 up)")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const WAIT: Duration = Duration::from_secs(10);

    #[tokio::test]
    async fn dial_speaks_tls_to_a_server_with_a_certificate_from_the_ca_and_plain_tcp_without() {
        let ca = pki::Ca::new("dial test CA").unwrap();
        let server =
            pki::server_config(&ca.local_server().unwrap(), &ca, pki::ClientAuth::Optional)
                .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let srv = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let (mut s, info) = accept(tcp, server).await.unwrap();
            let mut b = [0u8; 4];
            s.read_exact(&mut b).await.unwrap();
            s.write_all(&b).await.unwrap();
            s.flush().await.unwrap();
            (info, listener)
        });
        let agent = ca.endpoint("proto::agent").unwrap();
        let client = pki::client_config(&ca, Some(&agent)).unwrap();
        let (mut s, info) = dial(&addr, Some(&client), WAIT).await.unwrap();
        let info = info.expect("TLS was negotiated");
        assert_eq!(info.version, "1.3");
        assert!(info.at_least_1_2());
        s.write_all(b"ping").await.unwrap();
        s.flush().await.unwrap();
        let mut b = [0u8; 4];
        tokio::time::timeout(WAIT, s.read_exact(&mut b))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&b, b"ping");
        let (seen, listener) = tokio::time::timeout(WAIT, srv).await.unwrap().unwrap();
        assert_eq!(seen.version, "1.3");
        assert_eq!(seen.sni, None, "an IP address is never sent as SNI");
        let cert = seen.peer_certificate.expect("the client's certificate");
        assert_eq!(cert.endpoint_ids, vec!["proto::agent".to_string()]);

        // Without a configuration the same call is plain TCP: the server sees the bytes.
        let (mut s, info) = dial(&addr, None, WAIT).await.unwrap();
        assert!(info.is_none());
        s.write_all(b"\x10").await.unwrap();
        let (tcp, _) = tokio::time::timeout(WAIT, listener.accept())
            .await
            .unwrap()
            .unwrap();
        let mut b = [0u8; 1];
        tokio::time::timeout(WAIT, tcp.peek(&mut b))
            .await
            .unwrap()
            .unwrap();
        assert!(!looks_like_tls(b[0]));
    }

    #[tokio::test]
    async fn dial_refuses_a_server_whose_certificate_names_another_host() {
        let ca = pki::Ca::new("dial test CA").unwrap();
        let id = ca
            .broken_server(pki::Broken::WrongName, pki::LOCAL_NAMES)
            .unwrap();
        let server = pki::server_config(&id, &ca, pki::ClientAuth::None).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let srv = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            accept(tcp, server).await.map(|_| ())
        });
        let client = pki::client_config(&ca, None).unwrap();
        let err = match dial(&addr, Some(&client), WAIT).await {
            Ok(_) => panic!("a certificate for another name was accepted"),
            Err(e) => e,
        };
        assert!(err.contains("not valid for name"), "{err}");
        let srv = tokio::time::timeout(WAIT, srv).await.unwrap().unwrap();
        assert!(srv.is_err());
        assert_eq!(host_of("[::1]:8883"), Ok("::1"));
        assert!(host_of("nohost").is_err());
    }
}
