//! # canary-model: OONI measurements as lossless Rust types
//!
//! Every Canary crate speaks one data format: OONI's measurement JSON, so
//! that our data can be cross-checked with OONI Explorer and OONI's public
//! dataset. This crate is that format as serde types:
//!
//! * [`Measurement`]: the df-000 base keys (`probe_cc`, `input`,
//!   `measurement_start_time`, …) with `test_keys` typed by `test_name`
//!   ([`TestKeys`]);
//! * [`WebConnectivityTestKeys`] (ts-017, v0.4 and v0.5) and the records it
//!   holds: [`DnsQuery`]/[`DnsAnswer`] (df-002), [`TcpConnect`] (df-005),
//!   [`TlsHandshake`]/[`PeerCertificate`] (df-006), [`NetworkEvent`]
//!   (df-008), [`HttpTransaction`]/[`HttpRequest`]/[`HttpResponse`] with
//!   [`Body`] (df-001), the test-helper exchange [`ControlRequest`] /
//!   [`ControlResponse`];
//! * the vocabularies [`Failure`] (df-007), [`Blocking`], [`DnsConsistency`].
//!
//! ## Lossless by construction
//!
//! Real OONI data is ten years of probe versions. The model keeps every byte
//! of meaning:
//!
//! * every optional key is a [`Nullable`]: *absent*, *`null`* and a value
//!   are three different states;
//! * every object has an `extra` map holding the keys the model does not
//!   name, written back as they came;
//! * numbers whose JSON form varies (`t0`, `t`, `test_runtime`,
//!   `body_proportion`, `ttl`) stay [`serde_json::Number`] (`1` stays `1`);
//! * a field of an unexpected type is an error, never a silent default.
//!
//! So `parse → serialize` gives back the same [`serde_json::Value`] for every
//! real measurement in the project's sample set (see `tests/samples.rs`).
//!
//! ## Example
//!
//! ```
//! use canary_model::{Blocking, Failure, Measurement};
//!
//! let text = r#"{"test_name":"web_connectivity","input":"https://example.org/",
//!   "probe_asn":"AS38623","probe_cc":"KH","probe_ip":"127.0.0.1",
//!   "measurement_start_time":"2024-02-14 09:06:17","test_runtime":2,
//!   "software_name":"canary","software_version":"0.1.0","test_version":"0.4.3",
//!   "test_keys":{"queries":[{"hostname":"example.org","query_type":"A",
//!       "failure":null,"answers":[{"answer_type":"A","ipv4":"36.37.242.94"}]}],
//!     "tcp_connect":[{"ip":"36.37.242.94","port":443,
//!       "status":{"success":false,"failure":"connection_reset","blocked":true}}],
//!     "blocking":"dns","accessible":false}}"#;
//!
//! let m = Measurement::from_json_str(text)?;
//! let wc = m.web_connectivity().expect("typed by test_name");
//! assert_eq!(wc.blocking.get(), Some(&Blocking::Dns));
//! assert_eq!(wc.queries()[0].addresses().next(), Some("36.37.242.94"));
//! assert_eq!(wc.tcp_connects()[0].failure(), Some(&Failure::ConnectionReset));
//! assert_eq!(m.probe_asn_number(), Some(38623));
//! assert!(m.validate().is_empty());
//!
//! // Lossless: the same JSON value comes back (test_runtime stays `2`).
//! let original: serde_json::Value = serde_json::from_str(text)?;
//! assert_eq!(m.to_value()?, original);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! This crate does no I/O and no async: callers read (with their own bounds)
//! and hand it text or bytes. serde_json's recursion limit (128) bounds the
//! nesting depth of hostile input.

#![deny(missing_docs)]

#[macro_use]
mod macros;

pub mod archival;
pub mod body;
pub mod control;
pub mod error;
pub mod failure;
pub mod measurement;
pub mod nullable;
pub mod validate;
pub mod verdict;
pub mod web_connectivity;

pub use archival::{
    seconds, DnsAnswer, DnsQuery, HeaderList, HeaderMap, HttpRequest, HttpResponse,
    HttpTransaction, NetworkEvent, PeerCertificate, TcpConnect, TcpConnectStatus, TlsHandshake,
    TorInfo,
};
pub use body::{Body, HeaderValue};
pub use control::{
    ControlDns, ControlHttpRequest, ControlIpInfo, ControlRequest, ControlResponse,
    ControlTcpConnect, ControlTlsHandshake,
};
pub use error::ModelError;
pub use failure::Failure;
pub use measurement::{
    parse_asn, parse_ooni_time, Input, Measurement, MeasurementSeed, TestKeys, TestKeysSeed,
    TypedTestKeys,
};
pub use nullable::Nullable;
pub use validate::ValidationIssue;
pub use verdict::{Blocking, DnsConsistency};
pub use web_connectivity::{
    ConnPriorityLogEntry, DnsWhoami, ObservationSet, WebConnectivityTestKeys, WhoamiEntry,
};
