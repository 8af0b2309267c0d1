//! canary-netx: the probe's network layer.
//!
//! WIP header; the crate documentation is written at the end.

#![deny(missing_docs)]

pub mod dns;
pub mod events;
pub mod failure;
pub mod fetch;
pub mod http;
pub mod options;
pub mod records;
pub mod scrub;
pub mod tcp;
pub mod tls;

pub use dns::{Answer, DnsEngine, DnsLookup, QueryType};
pub use events::NetEvent;
pub use fetch::{fetch, FetchOutcome};
pub use http::{HttpProtocol, HttpRequest, HttpTransaction};
pub use options::{install_ring_provider, Options, TrustRoots};
pub use scrub::Scrubber;
pub use tcp::TcpConnect;
pub use tls::{TlsHandshake, TlsStream};

/// Errors of this crate. Measurement failures are NOT errors (they are
/// recorded as df-007 strings in the records); these are configuration and
/// usage errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The CA file could not be read or holds no usable certificate.
    #[error("CA file: {0}")]
    CaFile(String),
    /// A URL could not be used for a measurement.
    #[error("invalid URL: {0}")]
    Url(String),
}
