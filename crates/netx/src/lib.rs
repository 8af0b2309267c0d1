//! canary-netx: the probe's network layer.
//!
//! This is the only Canary crate that opens measurement sockets. It performs
//! the network steps of a Web Connectivity measurement — DNS lookups, TCP
//! connects, TLS handshakes and HTTP round trips — and records what happened
//! on the wire, faithfully and within bounds. It never judges: whether a
//! failure means censorship is decided by `canary-analysis`, from these
//! records and the control's.
//!
//! # The steps
//!
//! | step | function | record (OONI data format) |
//! |---|---|---|
//! | DNS over UDP, with late-reply capture | [`dns::lookup_udp`] | df-002 `queries` + `x_dns_duplicate_responses` |
//! | DNS over TCP | [`dns::lookup_tcp`] | df-002 |
//! | DNS over HTTPS (RFC 8484) | [`dns::lookup_doh`] | df-002 |
//! | system resolver (getaddrinfo) | [`dns::lookup_system`] | df-002, engine `getaddrinfo` |
//! | TCP connect | [`tcp::connect`] | df-005 `tcp_connect` |
//! | TLS handshake, free SNI and ALPN | [`tls::handshake`] | df-006 `tls_handshakes` |
//! | HTTP/1.1 or HTTP/2 round trip | [`http::round_trip`] | df-001 `requests` |
//! | GET following redirects | [`fetch()`] | all of the above |
//!
//! Every step returns its own result type (plain data with typed addresses
//! and `f64` seconds) whatever happens: failures are df-007 strings (see
//! [`failure`]), never Rust errors. [`records`] turns each result into the
//! matching [`canary_model`] record (`to_record()`), ready for `test_keys`.
//!
//! # Guarantees
//!
//! * **Source address**: [`Options::bind`] is the source of every UDP and
//!   TCP socket (the lab's censored vantage point is 127.0.0.2).
//! * **Bounded**: every step has a timeout ([`Options`]: DNS 4 s, TCP, TLS
//!   and HTTP 10 s by default); UDP datagrams are read into 64 KiB; DNS
//!   answers and late replies are counted and capped; HTTP headers are
//!   capped and bodies stop at [`Options::body_cap`] (512 KiB) with
//!   `body_is_truncated`. A body that never ends or trickles ends at the cap
//!   or at the timeout (`generic_timeout_error`) and keeps what was read.
//! * **Verification without blindness**: the TLS verifier records the
//!   WebPKI verdict against [`TrustRoots`] (Mozilla by default, or a PEM CA
//!   file) and still lets the handshake finish, so the chain is captured
//!   even from a man-in-the-middle; such a connection is then closed, never
//!   used for HTTP.
//! * **Faithful HTTP**: HTTP/1.1 response headers are recorded in wire
//!   order with duplicates (read from a bounded copy of the response head);
//!   sloppy middlebox responses (space before a colon, folded headers) are
//!   accepted so a blockpage is recorded rather than a parse error.
//! * **Injection evidence**: after the first valid UDP reply the socket
//!   keeps listening for [`Options::dns_late_window`] (500 ms); every later
//!   or invalid datagram is kept with its raw bytes.
//! * **Privacy**: [`Scrubber`] removes the probe's own addresses from
//!   strings, bytes and whole JSON measurements.
//! * One rustls crypto provider, ring, passed explicitly to every config.
//!
//! # Example
//!
//! ```no_run
//! use std::net::{IpAddr, SocketAddr};
//! use canary_netx::{dns, fetch, Options, QueryType};
//!
//! # async fn run() {
//! let opts = Options { bind: Some("127.0.0.2".parse().unwrap()), ..Options::default() };
//! let resolver: SocketAddr = "127.0.0.1:5353".parse().unwrap();
//!
//! // DNS over UDP: the answer, plus any late (injected or genuine) replies.
//! let lookup = dns::lookup_udp(&opts, resolver, "www.example.org", QueryType::A).await;
//! let query_record = lookup.to_record();            // df-002
//! let duplicates = lookup.duplicate_records();      // x_dns_duplicate_responses
//!
//! // GET with redirects; each hop resolved through the same resolver.
//! let url = url::Url::parse("https://www.example.org/").unwrap();
//! let headers = vec![("User-Agent".to_string(), "Mozilla/5.0".to_string())];
//! let outcome = fetch(&opts, &url, &headers, |host: String| {
//!     let opts = opts.clone();
//!     async move {
//!         let res = dns::lookup_udp(&opts, resolver, &host, QueryType::A).await;
//!         match res.failure { Some(f) => Err(f), None => Ok(res.addresses()) }
//!     }
//! })
//! .await;
//! let requests = outcome.request_records();        // df-001, newest first
//! let handshakes = outcome.tls_handshake_records(); // df-006, with the chain
//! # let _ = (query_record, duplicates, requests, handshakes);
//! # }
//! ```
//!
//! Scrubbing before publication:
//!
//! ```
//! use canary_netx::Scrubber;
//!
//! let scrubber = Scrubber::new(["203.0.113.7"]);
//! assert_eq!(scrubber.scrub("read from 203.0.113.7:53"), "read from [scrubbed]:53");
//! ```

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
}
