//! # canary-analysis — pure censorship analysis
//!
//! This crate turns raw network observations into verdicts a human can act on.
//! It is **pure**: no I/O, no async, no sockets, no clock, no randomness. The
//! same code runs inside the probe, when a measurement is imported, and when
//! years of stored data are re-analysed, and it always gives the same answer
//! for the same input. Every verdict carries [`RULES_VERSION`] and the ids of
//! the rules that fired, so a verdict quoted in a report can be recomputed.
//!
//! The building blocks, from one measurement to a report:
//!
//! * [`verdict`] — [`verdict::analyse_web_connectivity`] recomputes OONI's
//!   `blocking`/`accessible` from the raw records of a `web_connectivity`
//!   measurement (never trusting the submitted verdict) and adds Canary's
//!   label: outcome (ok / blocked / down / unknown), layer, kind, whether a
//!   fingerprint confirms it, and a one-sentence explanation;
//! * [`fingerprints`] — blockpage fingerprints in OONI's CSV format (DNS
//!   answers and HTTP bodies/headers), with Canary's own default set
//!   ([`fingerprints::FingerprintDb::canary_default`]);
//! * [`httpdiff`] — OONI's HTTP-diff heuristics (body proportion, status code,
//!   uncommon headers, title words) and a robust `<title>` extractor;
//! * [`aggregate`] — daily counts per (country, network, domain), the current
//!   state of each (domain, network), and hourly series;
//! * [`events`] — a CUSUM change-point detector that turns an hourly series of
//!   "blocked" scores into blocking events with a start and an end;
//! * [`netutil`] — bogon ranges, IP prefixes, URL parts, certificate SPKI
//!   fingerprints.
//!
//! ## Example: from a measurement to a verdict, a daily count and an event
//!
//! ```
//! use canary_analysis::aggregate::{daily_counts, hourly_series, Sample};
//! use canary_analysis::events::detect_events;
//! use canary_analysis::fingerprints::FingerprintDb;
//! use canary_analysis::verdict::{analyse_web_connectivity, Context, Kind, Outcome};
//! use canary_model::Measurement;
//!
//! let raw = r#"{"test_name": "web_connectivity", "test_version": "0.5.28",
//!   "input": "http://news.example/", "probe_cc": "KH", "probe_asn": "AS38623",
//!   "measurement_start_time": "2024-10-04 10:00:00",
//!   "test_keys": {
//!     "queries": [{"hostname": "news.example", "engine": "getaddrinfo", "failure": null,
//!                  "answers": [{"answer_type": "A", "ipv4": "36.37.242.94"}]}],
//!     "control": {"dns": {"failure": null, "addrs": ["104.18.1.1"]},
//!                 "http_request": {"status_code": 200, "body_length": 5000, "failure": null}}}}"#;
//! let m = Measurement::from_json_str(raw).unwrap();
//! let db = FingerprintDb::canary_default(); // build once, share
//! let ctx = Context::new("KH", &db)
//!     .with_input(m.input_str().unwrap())
//!     .with_test_version("0.5.28");
//! let v = analyse_web_connectivity(m.web_connectivity().unwrap(), &ctx);
//! assert_eq!((v.outcome, v.kind, v.confirmed), (Outcome::Blocked, Some(Kind::BlockpageIp), true));
//! assert_eq!(serde_json::to_value(&v.blocking).unwrap(), "dns");
//!
//! // Many verdicts → daily counts and an hourly series for the detector.
//! let hour = 20_000 * 24 + 10; // hours since the epoch, from measurement_start_time
//! let samples: Vec<Sample> = (0..40)
//!     .map(|i| Sample::from_verdict(format!("m{i}"), "KH", 38623, "news.example", hour + i, &v))
//!     .collect();
//! assert_eq!(daily_counts(&samples).values().map(|c| c.confirmed).sum::<u64>(), 40);
//! let series = hourly_series(&samples);
//! let any_layer = series.iter().find(|(k, _)| k.layer.is_none()).unwrap().1;
//! assert_eq!(detect_events(any_layer).unwrap().events.len(), 1);
//! ```
//!
//! ## Example: is this DNS answer a known blockpage address?
//!
//! ```
//! use canary_analysis::fingerprints::FingerprintDb;
//!
//! let db = FingerprintDb::canary_default();
//! let hit = db.match_dns("36.37.242.94").into_iter().next().expect("known KH blockpage IP");
//! assert!(hit.is_confirmed("KH"));
//! assert!(db.match_dns("93.184.216.34").is_empty());
//! ```
//!
//! ## Example: does a response look different from the control's?
//!
//! ```
//! use canary_analysis::httpdiff::{HttpSide, http_diff};
//!
//! let probe = HttpSide { status_code: 200, body_length: 812, body_truncated: false,
//!     header_names: vec!["Content-Type".into()], title: "Blocked by order".into() };
//! let control = HttpSide { status_code: 200, body_length: 45_000, body_truncated: false,
//!     header_names: vec!["Content-Type".into(), "X-Site".into()], title: "Daily News Cambodia".into() };
//! let diff = http_diff(&probe, &control);
//! assert_eq!(diff.body_length_match, Some(false));
//! assert!(!diff.no_diff());
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod aggregate;
pub mod events;
pub mod fingerprints;
pub mod httpdiff;
mod literals;
pub mod netutil;
mod scan;
pub mod verdict;

/// Version of the rule set that produced a verdict or an event.
///
/// Bump it whenever a rule changes meaning, so stored verdicts can be told
/// apart from freshly recomputed ones.
pub const RULES_VERSION: &str = "canary-rules-1";

/// The one error type of this crate.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AnalysisError {
    /// A fingerprint CSV row (or the header) could not be used.
    #[error("fingerprint CSV line {line}: {reason}")]
    FingerprintRow {
        /// 1-based line number in the CSV text (the header is line 1).
        line: u64,
        /// What is wrong with the row.
        reason: String,
    },
    /// The fingerprint input as a whole is unusable (too large, unreadable…).
    #[error("fingerprint input: {0}")]
    FingerprintInput(String),
    /// Input to a pure function violates its documented contract.
    #[error("invalid input: {0}")]
    InvalidInput(String),
}
