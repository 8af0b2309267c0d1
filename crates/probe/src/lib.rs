//! The probe: Canary's web connectivity experiment.
//!
//! A volunteer's machine inside the censored network measures each URL and
//! records what happened on the wire — DNS queries and answers (including
//! late, injected ones), TCP connects, TLS handshakes with certificates,
//! HTTP exchanges with capped bodies, timings — as an OONI `web_connectivity`
//! measurement, next to the control measurement a test helper made of the
//! same URL from outside. [`experiment`] describes the steps.
//!
//! The probe does not judge: a [`Judge`] given by the caller (the analysis
//! crate, wired in by the `canary` binary) fills the verdict keys from the
//! records. And the probe never records its own address: every address of
//! this machine it knows — the source address, those in
//! [`ProbeConfig::own_addresses`], the one the helper saw — is replaced by
//! `[scrubbed]` everywhere, and `probe_ip` is `127.0.0.1`, as OONI publishes it.
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> Result<(), canary_probe::ProbeError> {
//! use canary_probe::{experiment, runner, ProbeConfig, Target};
//!
//! let cfg = ProbeConfig::new("8.8.8.8:53".parse().unwrap());
//! let run = runner::new_run(&cfg);
//! let m = experiment::measure(&cfg, &run, &Target::url("https://example.org/")).await?;
//! println!("{}", m.to_json_string().unwrap());
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

mod config;
pub mod control;
pub mod experiment;
pub mod records;
pub mod runner;
pub mod social;

pub use config::{
    DohConfig, HelperConfig, Judge, NoJudge, ProbeConfig, Target, ACCEPT, ACCEPT_LANGUAGE,
    DEFAULT_USER_AGENT,
};

/// Why a target could not be measured at all. (Network failures are not
/// errors: they are recorded in the measurement.)
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProbeError {
    /// The target is not a measurable http(s) URL.
    #[error("invalid URL {0}")]
    Url(String),
    /// A bug: the measurement could not be assembled.
    #[error("internal error: {0}")]
    Internal(String),
}
