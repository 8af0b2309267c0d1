//! The probe-side verdict keys of web_connectivity: [`Blocking`] and
//! [`DnsConsistency`].
//!
//! `blocking` is `false` (accessible, or down for everyone), `null` (could
//! not decide; modelled by [`crate::Nullable::Null`]), or a string naming the
//! layer where blocking was seen. Unknown strings are kept, never dropped.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The web_connectivity `blocking` value (when not `null`).
///
/// ```
/// use canary_model::Blocking;
///
/// let b: Blocking = serde_json::from_str("\"http-diff\"").unwrap();
/// assert_eq!(b, Blocking::HttpDiff);
/// assert!(b.is_anomaly());
/// let ok: Blocking = serde_json::from_str("false").unwrap();
/// assert_eq!(serde_json::to_string(&ok).unwrap(), "false");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Blocking {
    /// JSON `false`: no blocking (the site was reachable, or down for the
    /// test helper too).
    NotBlocked,
    /// `"dns"`: DNS answers inconsistent with the control.
    Dns,
    /// `"tcp_ip"`: TCP connects failed while the control's worked.
    TcpIp,
    /// `"http-failure"`: the HTTP(S) fetch failed while the control's worked.
    HttpFailure,
    /// `"http-diff"`: the page differs from the control's page.
    HttpDiff,
    /// Any other string, kept verbatim.
    Other(String),
}

impl Blocking {
    /// The string form, or `None` for [`Blocking::NotBlocked`] (JSON `false`).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Blocking::NotBlocked => None,
            Blocking::Dns => Some("dns"),
            Blocking::TcpIp => Some("tcp_ip"),
            Blocking::HttpFailure => Some("http-failure"),
            Blocking::HttpDiff => Some("http-diff"),
            Blocking::Other(s) => Some(s),
        }
    }

    /// True for every value except `false`: the probe saw an anomaly.
    pub fn is_anomaly(&self) -> bool {
        !matches!(self, Blocking::NotBlocked)
    }

    fn from_text(s: &str) -> Blocking {
        match s {
            "dns" => Blocking::Dns,
            "tcp_ip" => Blocking::TcpIp,
            "http-failure" => Blocking::HttpFailure,
            "http-diff" => Blocking::HttpDiff,
            other => Blocking::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for Blocking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str().unwrap_or("false"))
    }
}

impl Serialize for Blocking {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.as_str() {
            None => serializer.serialize_bool(false),
            Some(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for Blocking {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Blocking;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("false or a blocking type string (\"dns\", \"tcp_ip\", …)")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Blocking, E> {
                if v {
                    Err(E::invalid_value(de::Unexpected::Bool(true), &self))
                } else {
                    Ok(Blocking::NotBlocked)
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Blocking, E> {
                Ok(Blocking::from_text(v))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// The web_connectivity `dns_consistency` value (when not `null`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DnsConsistency {
    /// `"consistent"`: the probe's answers match the control's.
    Consistent,
    /// `"inconsistent"`: they do not.
    Inconsistent,
    /// Any other string, kept verbatim.
    Other(String),
}

impl DnsConsistency {
    /// The string as written in JSON.
    pub fn as_str(&self) -> &str {
        match self {
            DnsConsistency::Consistent => "consistent",
            DnsConsistency::Inconsistent => "inconsistent",
            DnsConsistency::Other(s) => s,
        }
    }
}

impl fmt::Display for DnsConsistency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for DnsConsistency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DnsConsistency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DnsConsistency;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a dns_consistency string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DnsConsistency, E> {
                Ok(match v {
                    "consistent" => DnsConsistency::Consistent,
                    "inconsistent" => DnsConsistency::Inconsistent,
                    other => DnsConsistency::Other(other.to_owned()),
                })
            }
        }
        deserializer.deserialize_str(V)
    }
}
