//! TLS handshake measurements (OONI df-006 `tls_handshakes`).
//!
//! The handshake runs over an already connected [`TcpStream`] with a freely
//! chosen SNI, so the probe can ask any IP address for any domain. The
//! certificate is verified against [`crate::TrustRoots`] by a recording
//! verifier: the verdict is written down, the handshake is allowed to
//! finish, and the whole chain the server sent is kept. A connection whose
//! certificate did not verify is recorded with its failure
//! (`ssl_unknown_authority`, `ssl_invalid_hostname`, ...) and closed: it is
//! never handed to the caller, so no HTTP is spoken over it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;
use tokio::time::timeout_at;
use tokio_rustls::TlsConnector;

use crate::events::NetEvent;
use crate::failure;
use crate::Options;

/// A TLS client stream over TCP, as returned by [`handshake`].
pub type TlsStream = tokio_rustls::client::TlsStream<TcpStream>;

/// ALPN values offered by default: HTTP/2 first, then HTTP/1.1.
pub const DEFAULT_ALPN: &[&str] = &["h2", "http/1.1"];

/// The record of one TLS handshake.
#[derive(Clone, Debug, PartialEq)]
pub struct TlsHandshake {
    /// The peer, `ip:port`.
    pub address: SocketAddr,
    /// The SNI sent (or the IP the certificate was checked against).
    pub server_name: String,
    /// ALPN protocols offered.
    pub alpn: Vec<String>,
    /// Start, in seconds since the measurement's zero instant.
    pub t0: f64,
    /// End of the handshake (success or failure).
    pub t: f64,
    /// df-007 failure string: a handshake failure, or the certificate
    /// verification failure of a handshake that otherwise completed.
    pub failure: Option<String>,
    /// `TLSv1.2` / `TLSv1.3`, when the handshake completed.
    pub tls_version: Option<String>,
    /// IANA cipher suite name, e.g. `TLS_AES_128_GCM_SHA256`.
    pub cipher_suite: Option<String>,
    /// ALPN protocol chosen by the server (`h2`, `http/1.1`), if any.
    pub negotiated_protocol: Option<String>,
    /// The DER certificates the server sent, leaf first, as sent.
    pub peer_certificates: Vec<Vec<u8>>,
    /// Hex SHA-256 of the leaf's SubjectPublicKeyInfo (the HPKP/"pin" hash).
    pub leaf_spki_sha256: Option<String>,
    /// `tls_handshake_start` / `tls_handshake_done` events.
    pub events: Vec<NetEvent>,
}

impl TlsHandshake {
    /// True when the handshake completed and the certificate verified.
    pub fn success(&self) -> bool {
        self.failure.is_none()
    }
}

#[derive(Debug, Default)]
struct Verdict {
    chain: Vec<Vec<u8>>,
    failure: Option<String>,
}

/// Wraps the WebPKI verifier: records its result and the chain, and lets the
/// handshake go on whatever the result. Signature checks are NOT relaxed:
/// the server must still prove it holds the key of the certificate it sent.
#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    verdict: Arc<Mutex<Verdict>>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        if let Ok(mut verdict) = self.verdict.lock() {
            verdict.chain = std::iter::once(end_entity)
                .chain(intermediates.iter())
                .map(|c| c.as_ref().to_vec())
                .collect();
            verdict.failure = result.err().map(|e| failure::classify_tls_error(&e));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn client_config(
    opts: &Options,
    alpn: &[&str],
    verdict: Arc<Mutex<Verdict>>,
) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner =
        WebPkiServerVerifier::builder_with_provider(opts.roots.store(), Arc::clone(&provider))
            .build()
            .map_err(|e| failure::unknown(&format!("verifier: {e}")))?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| failure::unknown(&format!("tls config: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(RecordingVerifier { inner, verdict }))
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    Ok(config)
}

/// Hex SHA-256 of a certificate's SubjectPublicKeyInfo, `None` if the DER
/// does not parse.
pub fn spki_sha256(cert_der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der).ok()?;
    Some(hex::encode(Sha256::digest(
        cert.tbs_certificate.subject_pki.raw,
    )))
}

fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        other => format!("{other:?}"),
    }
}

fn suite_name(s: rustls::CipherSuite) -> String {
    let name = s
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("{s:?}"));
    // rustls spells TLS 1.3 suites TLS13_*; IANA (and OONI) spell them TLS_*.
    match name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => name,
    }
}

/// Performs a TLS handshake over `tcp` with SNI `sni` and ALPN `alpn`,
/// within `opts.tls_timeout`.
///
/// Returns the record and, only when the handshake completed AND the
/// certificate verified, the TLS stream.
pub async fn handshake(
    opts: &Options,
    tcp: TcpStream,
    sni: &str,
    alpn: &[&str],
) -> (TlsHandshake, Option<TlsStream>) {
    let t0 = opts.now();
    let address = tcp
        .peer_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    let mut record = TlsHandshake {
        address,
        server_name: sni.to_string(),
        alpn: alpn.iter().map(|s| s.to_string()).collect(),
        t0,
        t: t0,
        failure: None,
        tls_version: None,
        cipher_suite: None,
        negotiated_protocol: None,
        peer_certificates: Vec::new(),
        leaf_spki_sha256: None,
        events: vec![NetEvent::milestone("tls_handshake_start", t0)],
    };
    let verdict = Arc::new(Mutex::new(Verdict::default()));
    let setup = client_config(opts, alpn, Arc::clone(&verdict)).and_then(|config| {
        let name =
            ServerName::try_from(sni.to_string()).map_err(|_| failure::unknown("invalid SNI"))?;
        Ok((config, name))
    });
    let (config, name) = match setup {
        Ok(pair) => pair,
        Err(f) => return finish(opts, record, Some(f), None),
    };
    let deadline = Instant::now() + opts.tls_timeout;
    let connector = TlsConnector::from(Arc::new(config));
    let result = timeout_at(deadline.into(), connector.connect(name, tcp)).await;
    if let Ok(mut v) = verdict.lock() {
        record.peer_certificates = std::mem::take(&mut v.chain);
        record.failure = v.failure.take();
    }
    match result {
        Err(_) => finish(
            opts,
            record,
            Some(failure::GENERIC_TIMEOUT.to_string()),
            None,
        ),
        Ok(Err(e)) => {
            let f = failure::classify_io_error(&e);
            finish(opts, record, Some(f), None)
        }
        Ok(Ok(stream)) => {
            let (_, conn) = stream.get_ref();
            record.tls_version = conn.protocol_version().map(version_name);
            record.cipher_suite = conn
                .negotiated_cipher_suite()
                .map(|s| suite_name(s.suite()));
            record.negotiated_protocol = conn
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned());
            if record.peer_certificates.is_empty() {
                if let Some(certs) = conn.peer_certificates() {
                    record.peer_certificates = certs.iter().map(|c| c.as_ref().to_vec()).collect();
                }
            }
            let verify_failure = record.failure.take();
            finish(opts, record, verify_failure, Some(stream))
        }
    }
}

fn finish(
    opts: &Options,
    mut record: TlsHandshake,
    failure: Option<String>,
    stream: Option<TlsStream>,
) -> (TlsHandshake, Option<TlsStream>) {
    record.t = opts.now();
    // A handshake failure (e.g. a reset) overrides a recorded certificate
    // verdict only when there is no verdict: the certificate problem is the
    // more specific finding.
    record.failure = record.failure.take().or(failure);
    record.leaf_spki_sha256 = record
        .peer_certificates
        .first()
        .and_then(|c| spki_sha256(c));
    let mut done = NetEvent::milestone("tls_handshake_done", record.t);
    done.failure = record.failure.clone();
    record.events.push(done);
    tracing::debug!(address = %record.address, sni = %record.server_name, failure = ?record.failure, "tls handshake");
    let stream = if record.failure.is_none() {
        stream
    } else {
        None
    };
    (record, stream)
}
