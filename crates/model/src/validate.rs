//! Semantic checks a collector or an inspector wants on a parsed
//! [`Measurement`]: plain data in, a list of [`ValidationIssue`]s out.
//!
//! ```
//! use canary_model::{Measurement, ValidationIssue};
//!
//! let m = Measurement::from_json_str(r#"{"test_name":"web_connectivity",
//!   "test_keys":{}, "probe_cc":"kh", "probe_asn":"AS38623", "probe_ip":"10.1.2.3",
//!   "measurement_start_time":"2024-01-08 10:00:00", "input":"ftp://x",
//!   "software_name":"canary", "software_version":"0.1.0", "test_version":"0.4.3"}"#).unwrap();
//! let issues = m.validate();
//! assert!(issues.contains(&ValidationIssue::InvalidProbeCc { value: "kh".into() }));
//! assert!(issues.contains(&ValidationIssue::ProbeIpNotScrubbed { value: "10.1.2.3".into() }));
//! assert!(issues.contains(&ValidationIssue::InputNotUrl { value: "ftp://x".into() }));
//! assert_eq!(issues.len(), 3);
//! ```

use std::fmt;

use crate::measurement::{parse_asn, parse_ooni_time};
use crate::{Blocking, Measurement, Nullable};

/// One problem found by [`Measurement::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValidationIssue {
    /// A required key is absent or `null`.
    Missing {
        /// The key.
        field: &'static str,
    },
    /// `probe_cc` is not two uppercase ASCII letters.
    InvalidProbeCc {
        /// The value found.
        value: String,
    },
    /// `probe_asn` is not `AS<digits>`.
    InvalidProbeAsn {
        /// The value found.
        value: String,
    },
    /// A timestamp is not `YYYY-MM-DD hh:mm:ss`.
    InvalidTimestamp {
        /// The key.
        field: &'static str,
        /// The value found.
        value: String,
    },
    /// A web_connectivity input that is not an `http://` or `https://` URL.
    InputNotUrl {
        /// The value found.
        value: String,
    },
    /// `probe_ip` is present and is not the scrubbed `127.0.0.1`.
    ProbeIpNotScrubbed {
        /// The value found.
        value: String,
    },
    /// `test_runtime` is negative or not finite.
    InvalidTestRuntime {
        /// The value found.
        value: String,
    },
    /// web_connectivity says `accessible: true` together with an anomaly
    /// (`blocking` a string) or with an undecided (`null`) `blocking`, which
    /// the ts-017 verdict table never produces.
    ContradictoryVerdict {
        /// `blocking` as JSON text.
        blocking: String,
    },
}

impl fmt::Display for ValidationIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidationIssue::Missing { field } => write!(f, "{field} is absent or null"),
            ValidationIssue::InvalidProbeCc { value } => {
                write!(f, "probe_cc {value:?} is not two uppercase letters")
            }
            ValidationIssue::InvalidProbeAsn { value } => {
                write!(f, "probe_asn {value:?} is not \"AS<number>\"")
            }
            ValidationIssue::InvalidTimestamp { field, value } => {
                write!(f, "{field} {value:?} is not \"YYYY-MM-DD hh:mm:ss\"")
            }
            ValidationIssue::InputNotUrl { value } => {
                write!(f, "input {value:?} is not an http(s) URL")
            }
            ValidationIssue::ProbeIpNotScrubbed { value } => {
                write!(f, "probe_ip {value:?} is not scrubbed to 127.0.0.1")
            }
            ValidationIssue::InvalidTestRuntime { value } => {
                write!(f, "test_runtime {value} is negative or not finite")
            }
            ValidationIssue::ContradictoryVerdict { blocking } => {
                write!(f, "accessible is true but blocking is {blocking}")
            }
        }
    }
}

fn require<'a, T>(
    out: &mut Vec<ValidationIssue>,
    field: &'static str,
    v: &'a Nullable<T>,
) -> Option<&'a T> {
    let got = v.get();
    if got.is_none() {
        out.push(ValidationIssue::Missing { field });
    }
    got
}

/// True for `http://host…` / `https://host…` without whitespace.
fn is_http_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

impl Measurement {
    /// Semantic checks (no I/O). An empty list means no issue was found.
    ///
    /// Checks: `test_name`, `test_version`, `software_name`,
    /// `software_version`, `measurement_start_time`, `probe_cc`, `probe_asn`
    /// and `test_keys` are present; `probe_cc` is two uppercase letters (or
    /// `ZZ`); `probe_asn` is `AS<digits>`; timestamps are
    /// `YYYY-MM-DD hh:mm:ss`; web_connectivity input is an http(s) URL;
    /// `probe_ip` is `127.0.0.1` or absent; `test_runtime` is a finite,
    /// non-negative number; a web_connectivity verdict is not
    /// `accessible: true` with a string or `null` `blocking`.
    pub fn validate(&self) -> Vec<ValidationIssue> {
        let mut out = Vec::new();
        require(&mut out, "test_name", &self.test_name);
        require(&mut out, "test_version", &self.test_version);
        require(&mut out, "software_name", &self.software_name);
        require(&mut out, "software_version", &self.software_version);
        require(&mut out, "test_keys", &self.test_keys);
        if let Some(cc) = require(&mut out, "probe_cc", &self.probe_cc) {
            if !(cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_uppercase())) {
                out.push(ValidationIssue::InvalidProbeCc { value: cc.clone() });
            }
        }
        if let Some(asn) = require(&mut out, "probe_asn", &self.probe_asn) {
            if !asn.starts_with("AS") || parse_asn(asn).is_none() {
                out.push(ValidationIssue::InvalidProbeAsn { value: asn.clone() });
            }
        }
        for (field, v, required) in [
            ("measurement_start_time", &self.measurement_start_time, true),
            ("test_start_time", &self.test_start_time, false),
        ] {
            let got = if required {
                require(&mut out, field, v)
            } else {
                v.get()
            };
            if let Some(s) = got {
                // Only the canonical form: the ISO form is an API artefact.
                if s.contains('T') || parse_ooni_time(field, s).is_err() {
                    out.push(ValidationIssue::InvalidTimestamp {
                        field,
                        value: s.clone(),
                    });
                }
            }
        }
        if self.test_name() == "web_connectivity" {
            match self.input.get() {
                Some(input) => match input.as_str() {
                    Some(s) if is_http_url(s) => {}
                    Some(s) => out.push(ValidationIssue::InputNotUrl {
                        value: s.to_owned(),
                    }),
                    None => out.push(ValidationIssue::InputNotUrl {
                        value: format!("{input:?}"),
                    }),
                },
                None => out.push(ValidationIssue::Missing { field: "input" }),
            }
        }
        if let Some(tk) = self.web_connectivity() {
            if tk.accessible.value() == Some(true) {
                match &tk.blocking {
                    Nullable::Present(Blocking::NotBlocked) | Nullable::Absent => {}
                    Nullable::Null => out.push(ValidationIssue::ContradictoryVerdict {
                        blocking: "null".into(),
                    }),
                    Nullable::Present(b) => out.push(ValidationIssue::ContradictoryVerdict {
                        blocking: format!("{:?}", b.to_string()),
                    }),
                }
            }
        }
        if let Some(ip) = self.probe_ip.get() {
            if ip != "127.0.0.1" {
                out.push(ValidationIssue::ProbeIpNotScrubbed { value: ip.clone() });
            }
        }
        if let Some(rt) = self.test_runtime.get() {
            let ok = rt.as_f64().is_some_and(|f| f.is_finite() && f >= 0.0);
            if !ok {
                out.push(ValidationIssue::InvalidTestRuntime {
                    value: rt.to_string(),
                });
            }
        }
        out
    }
}
