//! Measurement options: source address, timeouts, caps, trust roots and the
//! measurement clock.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::Error;

/// Largest PEM CA file accepted by [`TrustRoots::from_pem_file`] (4 MiB).
pub const MAX_CA_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The set of root certificates TLS handshakes are verified against.
///
/// Verification never stops a handshake (see [`crate::tls`]); the roots only
/// decide which failure string is recorded.
#[derive(Clone, Debug)]
pub struct TrustRoots {
    store: Arc<RootCertStore>,
    source: &'static str,
}

impl TrustRoots {
    /// The Mozilla root program, compiled in through `webpki-roots` (what OONI
    /// probes use too, so results are comparable across machines).
    pub fn mozilla() -> Self {
        let store = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        TrustRoots {
            store: Arc::new(store),
            source: "mozilla",
        }
    }

    /// Uses ONLY the certificates of a PEM bundle (the probe's `--ca-file`),
    /// e.g. a lab CA. Fails when the text holds no usable certificate.
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        let mut store = RootCertStore::empty();
        for (index, item) in CertificateDer::pem_slice_iter(pem).enumerate() {
            let der = item.map_err(|e| Error::CaFile(format!("bad PEM: {e}")))?;
            let seen = index + 1;
            store
                .add(der)
                .map_err(|e| Error::CaFile(format!("certificate {seen} rejected: {e}")))?;
        }
        if store.is_empty() {
            return Err(Error::CaFile("no CERTIFICATE block found".into()));
        }
        Ok(TrustRoots {
            store: Arc::new(store),
            source: "ca-file",
        })
    }

    /// Reads a PEM CA file (at most [`MAX_CA_FILE_BYTES`]) with [`TrustRoots::from_pem`].
    pub fn from_pem_file(path: &Path) -> Result<Self, Error> {
        let meta = std::fs::metadata(path)
            .map_err(|e| Error::CaFile(format!("{}: {e}", path.display())))?;
        if meta.len() > MAX_CA_FILE_BYTES {
            return Err(Error::CaFile(format!(
                "{}: larger than {MAX_CA_FILE_BYTES} bytes",
                path.display()
            )));
        }
        let pem =
            std::fs::read(path).map_err(|e| Error::CaFile(format!("{}: {e}", path.display())))?;
        Self::from_pem(&pem)
    }

    /// The root store itself.
    pub fn store(&self) -> Arc<RootCertStore> {
        Arc::clone(&self.store)
    }

    /// Number of trusted roots.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// True when no root is trusted (never the case for the constructors above).
    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    /// `"mozilla"` or `"ca-file"`.
    pub fn source(&self) -> &'static str {
        self.source
    }
}

/// Everything that parameterises a measurement.
///
/// `Options::default()` has OONI's Web Connectivity v0.5 values: DNS 4 s,
/// TCP 10 s, TLS 10 s, HTTP 10 s, a 512 KiB body cap, 500 ms of listening for
/// late DNS replies and the Mozilla roots. `zero` is the measurement's start:
/// every `t0`/`t` in the records is seconds since that instant.
#[derive(Clone, Debug)]
pub struct Options {
    /// Source address of every measurement socket (UDP and TCP). `None` lets
    /// the kernel choose. Set it on multi-homed hosts, or to 127.0.0.2 for the
    /// lab's censored vantage point.
    pub bind: Option<IpAddr>,
    /// Timeout of one DNS exchange (UDP, TCP, DoH or getaddrinfo).
    pub dns_timeout: Duration,
    /// How long to keep listening after the first UDP DNS reply, to catch
    /// late or duplicate replies (evidence of injection).
    pub dns_late_window: Duration,
    /// Timeout of a TCP connect.
    pub tcp_timeout: Duration,
    /// Timeout of a TLS handshake.
    pub tls_timeout: Duration,
    /// Timeout of one HTTP round trip, from sending the request to the end of
    /// the (capped) body.
    pub http_timeout: Duration,
    /// Maximum number of response body bytes kept; more is not read.
    pub body_cap: usize,
    /// Maximum number of DNS records recorded from one reply.
    pub max_dns_answers: usize,
    /// Maximum number of late/duplicate/invalid DNS datagrams recorded.
    pub max_dns_late_replies: usize,
    /// Maximum number of response header bytes accepted (HTTP/1.1 buffer and
    /// HTTP/2 header list size).
    pub max_header_bytes: usize,
    /// Roots used to verify TLS certificates.
    pub roots: TrustRoots,
    /// Monotonic start of the measurement.
    pub zero: Instant,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            bind: None,
            dns_timeout: Duration::from_secs(4),
            dns_late_window: Duration::from_millis(500),
            tcp_timeout: Duration::from_secs(10),
            tls_timeout: Duration::from_secs(10),
            http_timeout: Duration::from_secs(10),
            body_cap: 512 * 1024,
            max_dns_answers: 256,
            max_dns_late_replies: 16,
            max_header_bytes: 64 * 1024,
            roots: TrustRoots::mozilla(),
            zero: Instant::now(),
        }
    }
}

impl Options {
    /// Seconds elapsed between `zero` and `at` (0 when `at` is earlier).
    pub fn secs(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.zero).as_secs_f64()
    }

    /// Seconds elapsed since `zero`, now.
    pub fn now(&self) -> f64 {
        self.secs(Instant::now())
    }

    /// The local address to bind a socket that will talk to `peer`: the
    /// configured source address, or the unspecified address of the peer's
    /// family. Fails when the configured address is of the other family.
    pub fn local_for(&self, peer: SocketAddr) -> Result<SocketAddr, String> {
        match (self.bind, peer) {
            (None, SocketAddr::V4(_)) => Ok(SocketAddr::new(
                IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                0,
            )),
            (None, SocketAddr::V6(_)) => Ok(SocketAddr::new(
                IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
                0,
            )),
            (Some(ip), peer) if ip.is_ipv4() == peer.is_ipv4() => Ok(SocketAddr::new(ip, 0)),
            (Some(_), _) => Err(crate::failure::NETWORK_UNREACHABLE.to_string()),
        }
    }
}

/// Installs ring as the process-wide rustls crypto provider if none is
/// installed yet. netx passes ring explicitly to every config it builds, so
/// this is only a convenience for binaries and tests that build their own
/// rustls configs.
pub fn install_ring_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
