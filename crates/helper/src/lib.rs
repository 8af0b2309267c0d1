//! The control test helper.
//!
//! A probe inside a censored network cannot tell "blocked" from "down"
//! alone: it needs someone outside to try the same URL at the same moment.
//! The helper is that someone. It speaks OONI's web connectivity test-helper
//! protocol — the probe POSTs `{http_request, http_request_headers,
//! tcp_connect}` and gets back `{dns, tcp_connect, tls_handshake,
//! http_request, ip_info}` — so Canary's probes can use OONI's helpers and
//! OONI's probes can use Canary's. Canary's additions are `x_`-prefixed:
//! the leaf certificate's SPKI SHA-256 per TLS endpoint (`x_spki_sha256`,
//! to reveal interception with a trusted-looking certificate), the body's
//! SHA-256 (`x_body_sha256`) and the address the request came from
//! (`x_client_ip`, which the probe uses to scrub itself out of its records).
//!
//! The helper is exposed to the internet, so it is bounded everywhere:
//! request size, requests in flight (503 beyond), connections, timeouts; and
//! it refuses to connect to bogon, loopback or private addresses unless they
//! are declared routable, so it cannot be used as a proxy into anyone's
//! network. It never logs who asked.
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> Result<(), canary_helper::HelperError> {
//! use canary_helper::{server, Resolver, ServerConfig};
//!
//! let cfg = ServerConfig::new(Resolver::Udp("8.8.8.8:53".parse().unwrap()));
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//! server::start(cfg, listener, None)?.wait().await;
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod measure;
pub mod server;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use canary_ipinfo::{AsnDb, Bogons};

/// The control answer's field carrying the requester's address.
pub const X_CLIENT_IP: &str = "x_client_ip";

/// Errors of the helper.
#[derive(Debug, thiserror::Error)]
pub enum HelperError {
    /// The control request is malformed or asks too much.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A socket or file error while starting.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The TLS certificate or key could not be used.
    #[error("TLS: {0}")]
    Tls(String),
}

/// How the helper resolves names.
#[derive(Clone, Debug)]
pub enum Resolver {
    /// A and AAAA over UDP to this resolver.
    Udp(SocketAddr),
    /// DNS over HTTPS.
    Doh {
        /// The endpoint.
        url: url::Url,
        /// Its address.
        server: SocketAddr,
    },
    /// The operating system's resolver.
    System,
}

/// Everything that parameterises the helper.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Sockets, timeouts, body cap and trust roots for its own measurements.
    pub net: canary_netx::Options,
    /// How it resolves names.
    pub resolver: Resolver,
    /// Which addresses it refuses to connect to.
    pub bogons: Bogons,
    /// ASN table for `ip_info` (0 without one).
    pub asn_db: Option<Arc<AsnDb>>,
    /// Largest control request accepted.
    pub max_request_bytes: usize,
    /// Most `tcp_connect` endpoints in one request.
    pub max_endpoints: usize,
    /// Requests measured at once; more get 503.
    pub max_in_flight: usize,
    /// Open connections at once; more are closed at accept.
    pub max_connections: usize,
    /// Time allowed to read a request body.
    pub read_timeout: Duration,
    /// Time allowed to answer one request.
    pub request_timeout: Duration,
}

impl ServerConfig {
    /// OONI-like defaults: 15 s connects and fetch, 4 MiB body cap, 100
    /// requests in flight, 64 KiB requests, 32 endpoints.
    pub fn new(resolver: Resolver) -> Self {
        let net = canary_netx::Options {
            tcp_timeout: Duration::from_secs(15),
            tls_timeout: Duration::from_secs(15),
            http_timeout: Duration::from_secs(15),
            body_cap: 4 << 20,
            ..canary_netx::Options::default()
        };
        ServerConfig {
            net,
            resolver,
            bogons: Bogons::default(),
            asn_db: None,
            max_request_bytes: 64 << 10,
            max_endpoints: 32,
            max_in_flight: 100,
            max_connections: 512,
            read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// A rustls server config from PEM certificate chain and key files.
pub fn tls_config(
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<rustls::ServerConfig>, HelperError> {
    use rustls_pki_types::pem::PemObject;
    let certs = rustls_pki_types::CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| HelperError::Tls(format!("certificate: {e}")))?;
    if certs.is_empty() {
        return Err(HelperError::Tls(
            "no certificate in the certificate file".into(),
        ));
    }
    let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| HelperError::Tls(format!("key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| HelperError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| HelperError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
