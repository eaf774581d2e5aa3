//! The harness's certificate authority: an rcgen CA made at run time, the certificates it
//! issues (the embedded brokers' and servers' for 127.0.0.1/localhost, client certificates
//! for agents and Controllers carrying their Endpoint ID), deliberately broken ones for
//! negative tests, and the rustls configurations built from them (ring provider, TLS 1.2
//! and 1.3 only).
//!
//! No I/O here except writing PEM files for an external agent to install; the TLS streams
//! themselves live in [`crate::mtp::tls`].
//!
//! TR-369 rules this follows:
//! - MTPs over TCP use at least TLS 1.2 (TR-369 "Securing MTPs"; for MQTT R-MQTT.48;
//!   TP-469 11.3 metric 1): every configuration here offers TLS 1.3 and 1.2, nothing older.
//! - A certificate that authenticates a USP Endpoint carries its Endpoint ID in the
//!   `subjectAltName` as a `uniformResourceIdentifier` in URN form (R-SEC.0a, R-SEC.10);
//!   for an `fqdn` Endpoint ID also its instance-id as a `dNSName`.
//! - An Agent requires its MTP peer's certificate (R-MTP.1) and validates its times when it
//!   knows the time (R-MTP.3): the client configurations always verify the server.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use serde::Serialize;

/// The prefix of an Endpoint ID's URN form (R-SEC.0a).
pub const EID_URN_PREFIX: &str = "urn:bbf:usp:id:";

/// The names the embedded servers' certificate is valid for: they listen on 127.0.0.1.
pub const LOCAL_NAMES: &[&str] = &["127.0.0.1", "localhost", "::1"];

/// The protocol versions every configuration offers: TLS 1.3 and 1.2, never older
/// (TR-369 "Securing MTPs": at least TLS 1.2; R-MQTT.48).
pub static VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// The crypto provider of every configuration: ring.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The URN form of an Endpoint ID for a `subjectAltName` URI (R-SEC.0a).
pub fn endpoint_id_urn(eid: &str) -> String {
    format!("{EID_URN_PREFIX}{eid}")
}

/// A certificate authority made at run time.
pub struct Ca {
    name: String,
    issuer: Issuer<'static, KeyPair>,
    der: CertificateDer<'static>,
    pem: String,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca").field("name", &self.name).finish()
    }
}

/// A certificate with its private key: what a TLS endpoint presents.
pub struct Identity {
    /// The leaf first; the CA is not included (peers trust it directly).
    pub chain: Vec<CertificateDer<'static>>,
    key: PrivatePkcs8KeyDer<'static>,
    /// The leaf and its key in PEM, for files an external agent installs.
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let info = self.chain.first().map(|c| describe(c));
        f.debug_struct("Identity").field("cert", &info).finish()
    }
}

impl Identity {
    /// The private key, for a rustls configuration.
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key.clone_key())
    }

    /// Writes `<stem>.pem` (certificate) and `<stem>.key` (PKCS#8 key) into `dir`.
    pub fn write_pem(&self, dir: &Path, stem: &str) -> Result<(PathBuf, PathBuf), String> {
        let cert = write(dir, &format!("{stem}.pem"), &self.cert_pem)?;
        let key = write_private(dir, &format!("{stem}.key"), &self.key_pem)?;
        Ok((cert, key))
    }
}

/// How a deliberately broken certificate is broken (for negative tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broken {
    /// Valid names and issuer, but its validity ended yesterday (R-MTP.3).
    Expired,
    /// Valid names and issuer, but valid only from tomorrow (R-MTP.3).
    NotYetValid,
    /// Issued by the CA, but for `wrong-name.invalid` only.
    WrongName,
    /// Right names and dates, issued by a CA nobody trusts.
    UntrustedCa,
}

/// What a certificate issued here is for.
enum Role<'a> {
    Server(&'a [&'a str]),
    Client(&'a str),
}

/// The parameters of a CA certificate named `common_name` (dates aside).
fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = dn(common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

impl Ca {
    /// A new CA with a fresh ECDSA P-256 key, valid from an hour ago for ten years.
    pub fn new(common_name: &str) -> Result<Ca, String> {
        let key = KeyPair::generate().map_err(|e| format!("cannot make a CA key: {e}"))?;
        let mut params = ca_params(common_name);
        let now = SystemTime::now();
        params.not_before = (now - HOUR).into();
        params.not_after = (now + 3650 * DAY).into();
        let cert = params
            .self_signed(&key)
            .map_err(|e| format!("cannot sign the CA certificate: {e}"))?;
        Ok(Ca {
            name: common_name.into(),
            der: cert.der().clone(),
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA kept in `dir` (`ca.pem`, `ca.key`), made and written there the first time: an
    /// external agent installs `ca.pem` once, not once per run. A kept CA is only reused
    /// when its files are ours (`common_name` matches) and valid.
    pub fn load_or_create(dir: &Path, common_name: &str) -> Result<Ca, String> {
        let (cert_path, key_path) = (dir.join("ca.pem"), dir.join("ca.key"));
        if cert_path.exists() || key_path.exists() {
            let read = |p: &Path| {
                std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
            };
            let (pem, key_pem) = (read(&cert_path)?, read(&key_path)?);
            return Ca::from_pem(&pem, &key_pem, common_name)
                .map_err(|e| format!("{} and {}: {e}", cert_path.display(), key_path.display()));
        }
        let ca = Ca::new(common_name)?;
        ca.write_pem(dir)?;
        write_private(dir, "ca.key", &ca.issuer.key().serialize_pem())?;
        Ok(ca)
    }

    /// A CA from its certificate and key in PEM, as [`load_or_create`](Self::load_or_create)
    /// wrote them.
    pub fn from_pem(cert_pem: &str, key_pem: &str, common_name: &str) -> Result<Ca, String> {
        use rustls::pki_types::pem::PemObject;
        let der = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .map_err(|e| format!("not a PEM certificate: {e}"))?;
        let key = KeyPair::from_pem(key_pem).map_err(|e| format!("not a PEM key: {e}"))?;
        let info = describe(&der)?;
        if !info.subject.contains(&format!("CN={common_name}")) {
            return Err(format!(
                "the CA certificate is for {:?}, not {common_name:?}",
                info.subject
            ));
        }
        let (_, x) = x509_parser::parse_x509_certificate(der.as_ref())
            .map_err(|e| format!("the certificate does not parse: {e}"))?;
        if !x.validity().is_valid() {
            return Err(format!(
                "the CA certificate is not valid now ({} to {})",
                info.not_before, info.not_after
            ));
        }
        if x.public_key().raw != rcgen::PublicKeyData::subject_public_key_info(&key).as_slice() {
            return Err("the key does not belong to the CA certificate".into());
        }
        Ok(Ca {
            name: common_name.into(),
            pem: cert_pem.to_string(),
            der: der.into_owned(),
            issuer: Issuer::new(ca_params(common_name), key),
        })
    }

    /// The CA's common name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.der
    }

    /// The CA certificate, PEM: what an external agent installs as its trust anchor
    /// (R-SEC.2, R-SEC.4a).
    pub fn cert_pem(&self) -> &str {
        &self.pem
    }

    /// Writes `ca.pem` into `dir` and returns its path.
    pub fn write_pem(&self, dir: &Path) -> Result<PathBuf, String> {
        write(dir, "ca.pem", &self.pem)
    }

    /// A trust store holding this CA only.
    pub fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        // A certificate we just made always parses.
        let _ = roots.add(self.der.clone());
        roots
    }

    /// A server certificate for `names` (IP addresses become `iPAddress` SANs, the rest
    /// `dNSName`s), for the embedded brokers and servers.
    pub fn server(&self, names: &[&str]) -> Result<Identity, String> {
        self.issue(Role::Server(names), None)
    }

    /// A server certificate for [`LOCAL_NAMES`].
    pub fn local_server(&self) -> Result<Identity, String> {
        self.server(LOCAL_NAMES)
    }

    /// A client certificate for a USP Endpoint: its Endpoint ID as a URI SAN in URN form,
    /// and for an `fqdn` Endpoint ID its instance-id as a `dNSName` too (R-SEC.0a, R-SEC.10).
    pub fn endpoint(&self, endpoint_id: &str) -> Result<Identity, String> {
        self.issue(Role::Client(endpoint_id), None)
    }

    /// A server certificate for `names`, broken as asked.
    pub fn broken_server(&self, how: Broken, names: &[&str]) -> Result<Identity, String> {
        self.broken(how, Role::Server(names))
    }

    /// A client certificate for `endpoint_id`, broken as asked (`WrongName` puts another
    /// Endpoint ID in it).
    pub fn broken_endpoint(&self, how: Broken, endpoint_id: &str) -> Result<Identity, String> {
        self.broken(how, Role::Client(endpoint_id))
    }

    fn broken(&self, how: Broken, role: Role<'_>) -> Result<Identity, String> {
        let now = SystemTime::now();
        match how {
            Broken::Expired => self.issue(role, Some((now - 30 * DAY, now - DAY))),
            Broken::NotYetValid => self.issue(role, Some((now + DAY, now + 30 * DAY))),
            Broken::WrongName => match role {
                Role::Server(_) => self.issue(Role::Server(&["wrong-name.invalid"]), None),
                Role::Client(eid) => self.issue(Role::Client(&format!("{eid}-not-me")), None),
            },
            Broken::UntrustedCa => {
                Ca::new(&format!("{} (untrusted twin)", self.name))?.issue(role, None)
            }
        }
    }

    fn issue(
        &self,
        role: Role<'_>,
        validity: Option<(SystemTime, SystemTime)>,
    ) -> Result<Identity, String> {
        let mut params = CertificateParams::default();
        match role {
            Role::Server(names) => {
                params.distinguished_name = dn(names.first().copied().unwrap_or("uspcheck server"));
                params.subject_alt_names =
                    names.iter().map(|n| san(n)).collect::<Result<_, _>>()?;
                params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            }
            Role::Client(eid) => {
                params.distinguished_name = dn(eid);
                let urn = endpoint_id_urn(eid);
                let mut sans = vec![SanType::URI(
                    urn.as_str()
                        .try_into()
                        .map_err(|e| format!("{urn:?} cannot be a URI SAN: {e}"))?,
                )];
                // R-SEC.0a: an fqdn Endpoint ID may also be its instance-id as a dNSName.
                if let Some(fqdn) = eid.strip_prefix("fqdn::")
                    && let Ok(n) = fqdn.try_into()
                {
                    sans.push(SanType::DnsName(n));
                }
                params.subject_alt_names = sans;
                params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            }
        }
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.use_authority_key_identifier_extension = true;
        let now = SystemTime::now();
        let (from, to) = validity.unwrap_or((now - HOUR, now + 365 * DAY));
        params.not_before = from.into();
        params.not_after = to.into();
        let key = KeyPair::generate().map_err(|e| format!("cannot make a key: {e}"))?;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(|e| format!("cannot sign a certificate: {e}"))?;
        Ok(Identity {
            chain: vec![cert.der().clone()],
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86400);

fn dn(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "uspcheck");
    dn.push(DnType::CommonName, common_name);
    dn
}

fn san(name: &str) -> Result<SanType, String> {
    match name.parse::<IpAddr>() {
        Ok(ip) => Ok(SanType::IpAddress(ip)),
        Err(_) => name
            .try_into()
            .map(SanType::DnsName)
            .map_err(|e| format!("{name:?} cannot be a DNS name SAN: {e}")),
    }
}

fn write(dir: &Path, file: &str, text: &str) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(file);
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// Writes a private key readable by its owner only: the file is created with mode 0600 (never
/// world-readable, not even for a moment), beside the target and then renamed over it, so a
/// key left by an older run with wider permissions is replaced, not rewritten in place.
fn write_private(dir: &Path, file: &str, text: &str) -> Result<PathBuf, String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(file);
    let tmp = dir.join(format!(".{file}.{}.tmp", std::process::id()));
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    // A stale temporary file of a crashed run of this pid would make `create_new` fail.
    let _ = std::fs::remove_file(&tmp);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e));
    }
    Ok(path)
}

/// The run's certificates: one CA per process, made on first use, and what the embedded
/// servers and the reference agent need from it. Every embedded broker and server of the run
/// presents the same certificate, so an external agent installs the CA once per run.
pub struct RunPki {
    pub ca: Ca,
    /// The embedded servers' certificate ([`LOCAL_NAMES`]).
    pub server: Identity,
    /// A server configuration with it; client certificates from the CA are asked for but
    /// not required (agents may authenticate with a User Name and Password, R-MQTT.7).
    pub server_config: Arc<rustls::ServerConfig>,
    /// What the reference agent trusts: the CA only (R-MTP.1, R-SEC.4a).
    pub agent_trust: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for RunPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunPki").field("ca", &self.ca).finish()
    }
}

/// The CA name of the run's certificates.
pub const RUN_CA_NAME: &str = "uspcheck CA";

impl RunPki {
    /// The certificates around `ca`, the server's valid for `names`.
    pub fn new(ca: Ca, names: &[&str]) -> Result<RunPki, String> {
        let server = ca.server(names)?;
        let server_config = server_config(&server, &ca, ClientAuth::Optional)?;
        let agent_trust = client_config(&ca, None)?;
        Ok(RunPki {
            ca,
            server,
            server_config,
            agent_trust,
        })
    }

    /// For an external agent: the CA kept in `dir` (made there the first time, see
    /// [`Ca::load_or_create`]) and a server certificate for [`LOCAL_NAMES`] and `names`
    /// (the address the agent is configured with), also written there as `server.pem`.
    pub fn kept(dir: &Path, names: &[&str]) -> Result<RunPki, String> {
        let ca = Ca::load_or_create(dir, RUN_CA_NAME)?;
        let mut all: Vec<&str> = LOCAL_NAMES.to_vec();
        all.extend(names.iter().filter(|n| !LOCAL_NAMES.contains(n)));
        let pki = RunPki::new(ca, &all)?;
        pki.server.write_pem(dir, "server")?;
        Ok(pki)
    }
}

/// The built-in agent's run: one fresh CA per process, made on first use.
pub fn run_pki() -> Result<&'static RunPki, String> {
    static PKI: std::sync::OnceLock<Result<RunPki, String>> = std::sync::OnceLock::new();
    PKI.get_or_init(|| RunPki::new(Ca::new(RUN_CA_NAME)?, LOCAL_NAMES))
        .as_ref()
        .map_err(Clone::clone)
}

/// Whether and how a server asks its clients for certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// Never asks.
    None,
    /// Asks for a certificate issued by the CA; a client without one is still let in (an
    /// agent may authenticate with a User Name and Password instead, R-MQTT.7).
    Optional,
    /// Requires one (a Trusted Broker, R-SEC.4b).
    Required,
}

/// A server configuration presenting `identity`, verifying client certificates against
/// `ca` as `auth` says; TLS 1.3 and 1.2 only.
pub fn server_config(
    identity: &Identity,
    ca: &Ca,
    auth: ClientAuth,
) -> Result<Arc<rustls::ServerConfig>, String> {
    let provider = provider();
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(VERSIONS)
        .map_err(|e| format!("TLS server configuration: {e}"))?;
    let builder = match auth {
        ClientAuth::None => builder.with_no_client_auth(),
        ClientAuth::Optional | ClientAuth::Required => {
            let v = WebPkiClientVerifier::builder_with_provider(Arc::new(ca.roots()), provider);
            let v = if auth == ClientAuth::Optional {
                v.allow_unauthenticated()
            } else {
                v
            };
            builder.with_client_cert_verifier(
                v.build().map_err(|e| format!("TLS client verifier: {e}"))?,
            )
        }
    };
    let config = builder
        .with_single_cert(identity.chain.clone(), identity.key())
        .map_err(|e| format!("TLS server certificate: {e}"))?;
    Ok(Arc::new(config))
}

/// A client configuration that trusts `ca` only (R-MTP.1: the server must present a
/// certificate; R-MTP.3: its dates are checked) and presents `identity` when given.
pub fn client_config(
    ca: &Ca,
    identity: Option<&Identity>,
) -> Result<Arc<rustls::ClientConfig>, String> {
    client_config_with_roots(ca.roots(), identity)
}

/// A client configuration trusting `roots` (an external broker's CA, say).
pub fn client_config_with_roots(
    roots: RootCertStore,
    identity: Option<&Identity>,
) -> Result<Arc<rustls::ClientConfig>, String> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)
        .map_err(|e| format!("TLS client configuration: {e}"))?
        .with_root_certificates(roots);
    let config = match identity {
        Some(id) => builder
            .with_client_auth_cert(id.chain.clone(), id.key())
            .map_err(|e| format!("TLS client certificate: {e}"))?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// Reads the PEM certificates in `pem` into a trust store (for an external broker's CA).
pub fn roots_from_pem(pem: &str) -> Result<RootCertStore, String> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        let c = c.map_err(|e| format!("not a PEM certificate: {e}"))?;
        roots
            .add(c)
            .map_err(|e| format!("not a usable CA certificate: {e}"))?;
    }
    if roots.is_empty() {
        return Err("no certificate in the PEM text".into());
    }
    Ok(roots)
}

/// A certificate as people and cases read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// Each SAN as `DNS:…`, `IP:…`, `URI:…`, `email:…`.
    pub san: Vec<String>,
    /// Endpoint IDs found in URN-form URI SANs (R-SEC.0a).
    pub endpoint_ids: Vec<String>,
    pub not_before: String,
    pub not_after: String,
}

/// Decodes a certificate's names and dates; a certificate that does not parse is described
/// by that fact.
pub fn describe(der: &CertificateDer<'_>) -> Result<CertInfo, String> {
    use x509_parser::extensions::GeneralName;
    let (_, x) = x509_parser::parse_x509_certificate(der.as_ref())
        .map_err(|e| format!("the certificate does not parse: {e}"))?;
    let mut san = Vec::new();
    let mut endpoint_ids = Vec::new();
    if let Ok(Some(ext)) = x.subject_alternative_name() {
        for n in &ext.value.general_names {
            san.push(match n {
                GeneralName::DNSName(d) => format!("DNS:{d}"),
                GeneralName::URI(u) => {
                    if let Some(eid) = u.strip_prefix(EID_URN_PREFIX) {
                        endpoint_ids.push(eid.to_string());
                    }
                    format!("URI:{u}")
                }
                GeneralName::RFC822Name(m) => format!("email:{m}"),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => format!(
                        "IP:{}",
                        IpAddr::from(<[u8; 4]>::try_from(*b).unwrap_or_default())
                    ),
                    16 => format!(
                        "IP:{}",
                        IpAddr::from(<[u8; 16]>::try_from(*b).unwrap_or_default())
                    ),
                    _ => format!("IP:{}", hex::encode(b)),
                },
                other => format!("{other:?}"),
            });
        }
    }
    Ok(CertInfo {
        subject: x.subject().to_string(),
        issuer: x.issuer().to_string(),
        san,
        endpoint_ids,
        not_before: x.validity().not_before.to_string(),
        not_after: x.validity().not_after.to_string(),
    })
}

#[cfg(test)]
mod tests;
