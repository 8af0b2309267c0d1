//! # canary-social: social media and messaging, analysed
//!
//! For the coalition the most pressing censorship is of social media: whole
//! services (Messenger, WhatsApp, Telegram, Signal) throttled or blocked at
//! some ISPs, and single pages, channels and accounts made unavailable in
//! the country. This crate is the pure half of Canary's answer (no I/O, no
//! async, no clock; the network half is `canary_probe::social`):
//!
//! * [`endpoints`]: what each experiment measures. [`Endpoints::default`]
//!   holds the real service endpoints of OONI's specs (ts-018, ts-019,
//!   ts-020, ts-029); a JSON file overrides any part of it (the censorship
//!   lab uses that to stand in for the services).
//! * Typed, lossless test keys and the recomputation of OONI's verdict keys
//!   from a measurement's records, for [`facebook`] (`facebook_messenger`),
//!   [`whatsapp`], [`telegram`] and [`signal`], plus Canary's finer label per
//!   endpoint ([`label`]: outcome, layer, kind).
//! * [`restriction`]: the pages/accounts check. Fingerprints of the
//!   platforms' own "not available in your country" notices (shipped as
//!   data, extensible by users), the `--accounts` CSV, and the classifier
//!   that tells **network blocking** (the ISP) from **platform restriction**
//!   (a legal demand to the platform).
//!
//! # Example
//!
//! Recomputing OONI's telegram keys from a measurement's records:
//!
//! ```
//! use canary_social::{telegram, Endpoints};
//!
//! let keys: serde_json::Value = serde_json::json!({
//!     "tcp_connect": [
//!         {"ip": "149.154.175.50", "port": 80, "status": {"success": false, "failure": "generic_timeout_error"}},
//!         {"ip": "149.154.175.50", "port": 443, "status": {"success": false, "failure": "generic_timeout_error"}}
//!     ],
//!     "requests": [
//!         {"request": {"method": "POST", "url": "http://149.154.175.50/"}, "failure": "generic_timeout_error"},
//!         {"request": {"method": "GET", "url": "https://web.telegram.org/"}, "failure": null, "response": {"code": 200}}
//!     ]
//! });
//! let records = canary_social::Records::from_test_keys(&keys);
//! let keys = telegram::analyse(&records, &Endpoints::default().telegram);
//! assert_eq!(keys.telegram_tcp_blocking, Some(true));
//! assert_eq!(keys.telegram_http_blocking, Some(true));
//! assert_eq!(keys.telegram_web_status.as_deref(), Some("ok"));
//! // Canary's label says which data centre failed, at which layer, and how.
//! let label = keys.x_canary.unwrap();
//! assert_eq!(label.endpoints[0].endpoint, "149.154.175.50:80");
//! ```
//!
//! Telling a platform's restriction from ISP blocking:
//!
//! ```
//! use canary_social::restriction::{classify, Fingerprints, PageView, AccountStatus};
//!
//! let fps = Fingerprints::builtin();
//! let probe = PageView {
//!     status: Some(200),
//!     body: "<p>This channel can\u{2019}t be displayed because it violated local laws.</p>".into(),
//!     ..PageView::default()
//! };
//! let control = PageView { status: Some(200), title: Some("Free Press".into()), ..PageView::default() };
//! let verdict = classify("telegram", Some(&probe), Some(&control), &fps);
//! assert_eq!(verdict.status, AccountStatus::PlatformRestricted);
//! assert_eq!(verdict.fingerprint.as_deref(), Some("telegram.local_laws"));
//! ```

#![deny(missing_docs)]

pub mod endpoints;
pub mod facebook;
pub mod label;
pub mod records;
pub mod restriction;
pub mod signal;
pub mod telegram;
pub mod whatsapp;

pub use endpoints::Endpoints;
pub use label::{EndpointLabel, Kind, Layer, Outcome, SocialVerdict};
pub use records::Records;

/// Errors of this crate: data files that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SocialError {
    /// An endpoint override file is not valid.
    #[error("endpoints file: {0}")]
    Endpoints(String),
    /// A restriction-fingerprint file is not valid.
    #[error("fingerprints file: {0}")]
    Fingerprints(String),
    /// An accounts CSV is not valid (line numbers count the header as 1).
    #[error("accounts file, line {line}: {reason}")]
    Accounts {
        /// The line of the problem.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// An ASN table is not valid.
    #[error("ASN table: {0}")]
    Asn(String),
}

/// Largest data file (endpoints, fingerprints, accounts) accepted, in bytes.
pub const MAX_DATA_BYTES: usize = 4 << 20;

pub(crate) fn check_size(text: &str, what: fn(String) -> SocialError) -> Result<(), SocialError> {
    if text.len() > MAX_DATA_BYTES {
        return Err(what(format!(
            "{} bytes, more than the {MAX_DATA_BYTES} accepted",
            text.len()
        )));
    }
    Ok(())
}
