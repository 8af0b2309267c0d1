//! [`Failure`]: the normalized failure strings of OONI data format df-007.
//!
//! Every network step in a measurement records `failure`: `null` when the
//! step worked, otherwise a short normalized string such as
//! `"connection_reset"`. Probes have used several vocabularies over the years
//! (ooni-probe legacy, Measurement Kit, probe-engine / probe-cli, the test
//! helper), so the enum lists the strings that matter for verdicts and keeps
//! anything else verbatim in [`Failure::Unknown`] (for example
//! `"unknown_failure: dial tcp [scrubbed]: connect: no route to host"`).

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! failures {
    ($( $(#[$doc:meta])* $variant:ident => $text:literal, )*) => {
        /// A df-007 failure string.
        ///
        /// The value serializes as the plain string it came from, so parsing
        /// and writing back is lossless, including for [`Failure::Unknown`].
        ///
        /// ```
        /// use canary_model::Failure;
        ///
        /// let f: Failure = "connection_reset".parse().unwrap();
        /// assert_eq!(f, Failure::ConnectionReset);
        /// assert_eq!(f.as_str(), "connection_reset");
        ///
        /// let odd = Failure::from("unknown_failure: read: use of closed network connection");
        /// assert!(matches!(odd, Failure::Unknown(_)));
        /// assert_eq!(odd.to_string(), "unknown_failure: read: use of closed network connection");
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Failure {
            $( $(#[$doc])* $variant, )*
            /// Any other string, kept exactly as written (never one of the
            /// strings above when built through `From`/`FromStr`/serde).
            Unknown(String),
        }

        impl Failure {
            /// Every known (non-[`Failure::Unknown`]) failure, in declaration order.
            pub const KNOWN: &'static [Failure] = &[$(Failure::$variant,)*];

            /// The string as it appears in OONI JSON.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Failure::$variant => $text, )*
                    Failure::Unknown(s) => s.as_str(),
                }
            }

            fn known(s: &str) -> Option<Failure> {
                match s {
                    $( $text => Some(Failure::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

failures! {
    /// NXDOMAIN: the name does not exist (probe-engine).
    DnsNxdomainError => "dns_nxdomain_error",
    /// The DNS reply held no answer of the requested type.
    DnsNoAnswer => "dns_no_answer",
    /// The resolver answered REFUSED.
    DnsRefusedError => "dns_refused_error",
    /// The resolver answered SERVFAIL.
    DnsServfailError => "dns_servfail_error",
    /// The test helper's mapping of SERVFAIL/REFUSED/temporary failures.
    DnsServerFailure => "dns_server_failure",
    /// NXDOMAIN as named by the test helper and ooni-probe legacy.
    DnsNameError => "dns_name_error",
    /// The reply contained a bogon address (private, loopback, …).
    DnsBogonError => "dns_bogon_error",
    /// getaddrinfo failed in a non-recoverable way.
    DnsNonRecoverableFailure => "dns_non_recoverable_failure",
    /// getaddrinfo reported a temporary failure.
    DnsTemporaryFailure => "dns_temporary_failure",
    /// The resolver misbehaved (malformed reply).
    DnsServerMisbehaving => "dns_server_misbehaving",
    /// A reply arrived with a transaction ID that did not match the query.
    DnsReplyWithWrongQueryId => "dns_reply_with_wrong_query_id",
    /// ooni-probe legacy DNS lookup failure.
    DnsLookupError => "dns_lookup_error",
    /// Android's resolver reported "no data" (treated like NXDOMAIN).
    AndroidDnsCacheNoData => "android_dns_cache_no_data",
    /// ECONNREFUSED.
    ConnectionRefused => "connection_refused",
    /// Connection refused as named by ooni-probe legacy and the test helper.
    ConnectionRefusedError => "connection_refused_error",
    /// ECONNRESET: typically a RST injected by a middlebox.
    ConnectionReset => "connection_reset",
    /// ECONNABORTED.
    ConnectionAborted => "connection_aborted",
    /// The connection was used after being closed.
    ConnectionAlreadyClosed => "connection_already_closed",
    /// Generic connect failure (test helper, ooni-probe legacy).
    ConnectError => "connect_error",
    /// Unexpected end of stream.
    EofError => "eof_error",
    /// A timer expired.
    GenericTimeoutError => "generic_timeout_error",
    /// ETIMEDOUT from the kernel.
    TimedOut => "timed_out",
    /// EHOSTUNREACH.
    HostUnreachable => "host_unreachable",
    /// ENETUNREACH.
    NetworkUnreachable => "network_unreachable",
    /// ENETDOWN.
    NetworkDown => "network_down",
    /// The certificate is not valid for the requested name (SNI).
    SslInvalidHostname => "ssl_invalid_hostname",
    /// No trusted CA vouches for the certificate.
    SslUnknownAuthority => "ssl_unknown_authority",
    /// The certificate is invalid (for example expired).
    SslInvalidCertificate => "ssl_invalid_certificate",
    /// The TLS handshake failed for another reason.
    SslFailedHandshake => "ssl_failed_handshake",
    /// The operation was interrupted (context cancelled).
    Interrupted => "interrupted",
    /// QUIC version negotiation failed.
    QuicIncompatibleVersion => "quic_incompatible_version",
    /// ooni-probe legacy: the HTTP response never arrived.
    ResponseNeverReceived => "response_never_received",
    /// ooni-probe legacy: a task exceeded its deadline.
    TaskTimedOut => "task_timed_out",
    /// ooni-probe legacy: connection lost.
    ConnectionLostError => "connection_lost_error",
    /// ooni-probe legacy: TCP timed out.
    TcpTimedOutError => "tcp_timed_out_error",
    /// A redirect pointed to an invalid URL.
    HttpInvalidRedirectUrl => "http_invalid_redirect_url",
    /// An unexpected HTTP status code (experiments that expect a given one).
    HttpUnexpectedStatusCode => "http_unexpected_status_code",
    /// A JSON body could not be parsed (experiments talking to APIs).
    JsonParseError => "json_parse_error",
    /// Generic SOCKS failure.
    SocksError => "socks_error",
    /// Catch-all used by the test helper.
    UnknownError => "unknown_error",
}

impl Failure {
    /// True for failures that say the name does not exist (NXDOMAIN in its
    /// various spellings).
    pub fn is_nxdomain(&self) -> bool {
        matches!(
            self,
            Failure::DnsNxdomainError | Failure::DnsNameError | Failure::AndroidDnsCacheNoData
        )
    }

    /// True for `ssl_*` certificate/handshake failures.
    pub fn is_tls(&self) -> bool {
        self.as_str().starts_with("ssl_")
    }
}

impl From<&str> for Failure {
    fn from(s: &str) -> Self {
        Failure::known(s).unwrap_or_else(|| Failure::Unknown(s.to_owned()))
    }
}

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Failure::known(&s).unwrap_or(Failure::Unknown(s))
    }
}

impl FromStr for Failure {
    type Err = Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Failure::from(s))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Failure {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Failure {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Failure;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a df-007 failure string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Failure, E> {
                Ok(Failure::from(v))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Failure, E> {
                Ok(Failure::from(v))
            }
        }
        deserializer.deserialize_str(V)
    }
}
