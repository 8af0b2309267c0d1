//! The scenario table: every way the lab's censor (or the site itself)
//! interferes, with the verdict an analysis must reach.
//!
//! [`SCENARIOS`] is the static table; a running [`crate::Lab`] turns each row
//! into a [`Scenario`] with a concrete URL (the port is chosen by the OS at
//! start). The same rows drive the probe tests, the helper tests and the
//! analysis golden files, so the expected verdict is part of the row.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What the network's censor does to the censored vantage for a scenario.
///
/// The control vantage is never touched. DNS actions act on answers given to
/// the censored vantage; connection actions act on its connections to the
/// scenario's site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CensorAction {
    /// Nothing: the censored vantage sees what the control sees.
    None,
    /// The ISP resolver answers NXDOMAIN.
    DnsNxdomain,
    /// The ISP resolver answers REFUSED.
    DnsRefused,
    /// The ISP resolver answers SERVFAIL.
    DnsServfail,
    /// The ISP resolver answers NOERROR without any address (NODATA).
    DnsNoAnswer,
    /// The ISP resolver never answers (the query times out).
    DnsNoReply,
    /// The ISP resolver answers the blockpage server's address.
    DnsBlockpageIp,
    /// The ISP resolver answers a bogon ([`crate::BOGON_ANSWER`]).
    DnsBogon,
    /// On-path injection: a forged A record ([`crate::INJECTED_ANSWER`], which
    /// serves a blockpage) is sent at once, the true answer follows a little
    /// later (UDP, any lab resolver).
    DnsInjection,
    /// SYNs to the site are silently dropped: connect times out.
    TcpBlackhole,
    /// Every connection to the site's address is reset (RST) as soon as the
    /// client sends its first bytes, whatever they are (any Host, any SNI).
    /// `connect()` itself succeeds: on loopback the kernel completes the
    /// handshake before the lab can interfere, so a reset *during* connect
    /// would be a race; the lab resets deterministically at the first data.
    TcpReset,
    /// A reset right after a TLS ClientHello whose SNI is the site's name.
    TlsSniReset,
    /// Silence after a TLS ClientHello whose SNI is the site's name: the
    /// handshake times out.
    TlsSniDrop,
    /// A reset right after a cleartext HTTP request whose Host is the site's name.
    HttpHostReset,
    /// A `200 OK` blockpage served instead of the site.
    HttpBlockpage,
    /// A `302` redirect to the blockpage host served instead of the site.
    HttpRedirectToBlockpage,
    /// TLS interception with a certificate for the same name issued by a CA
    /// the probe does not trust.
    TlsInterceptUntrustedCa,
    /// TLS interception with a certificate from the trusted lab CA but with
    /// another key than the real site's; only a comparison with the control reveals it.
    TlsInterceptTrustedCaOtherKey,
    /// The site's bytes are capped at a low rate (see `LabConfig::throttle_bytes_per_second`).
    Throttle,
}

/// How the site itself behaves (independently of the censor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerBehaviour {
    /// A normal page (`200 OK`) with its own title, length and headers.
    Normal,
    /// A large page (see `LabConfig::large_body_bytes`).
    LargeBody,
    /// A normal page whose response starts only after `LabConfig::slow_delay`.
    Slow,
    /// A redirect chain: hop 1 answers 301, hop 2 answers 302, hop 3 the page.
    RedirectChain,
    /// The site is down for everyone: its port is closed (connection refused).
    Down,
    /// The site's own server answers `403 Forbidden` to the censored vantage's
    /// address (a server-side / geo block, not the network's censor).
    ForbidsCensoredVantage,
}

/// OONI's `blocking` value: `false`, one of four strings, or `null`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpectedBlocking {
    /// `false`: not blocked (accessible, or down for everyone).
    NotBlocked,
    /// `"dns"`.
    Dns,
    /// `"tcp_ip"`.
    TcpIp,
    /// `"http-failure"`.
    HttpFailure,
    /// `"http-diff"`.
    HttpDiff,
    /// `null`: OONI cannot decide.
    Unknown,
}

impl ExpectedBlocking {
    /// The JSON value OONI writes for this verdict.
    pub fn to_json(self) -> serde_json::Value {
        match self {
            ExpectedBlocking::NotBlocked => serde_json::Value::Bool(false),
            ExpectedBlocking::Unknown => serde_json::Value::Null,
            other => serde_json::Value::String(other.as_str().unwrap_or_default().to_owned()),
        }
    }

    /// The string form, for the four anomaly values.
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            ExpectedBlocking::Dns => Some("dns"),
            ExpectedBlocking::TcpIp => Some("tcp_ip"),
            ExpectedBlocking::HttpFailure => Some("http-failure"),
            ExpectedBlocking::HttpDiff => Some("http-diff"),
            ExpectedBlocking::NotBlocked | ExpectedBlocking::Unknown => None,
        }
    }
}

impl Serialize for ExpectedBlocking {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ExpectedBlocking::NotBlocked => serializer.serialize_bool(false),
            ExpectedBlocking::Unknown => serializer.serialize_none(),
            other => serializer.serialize_str(other.as_str().unwrap_or_default()),
        }
    }
}

impl<'de> Deserialize<'de> for ExpectedBlocking {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BlockingVisitor;
        impl<'de> Visitor<'de> for BlockingVisitor {
            type Value = ExpectedBlocking;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("false, null, \"dns\", \"tcp_ip\", \"http-failure\" or \"http-diff\"")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                if v {
                    Err(E::invalid_value(de::Unexpected::Bool(true), &self))
                } else {
                    Ok(ExpectedBlocking::NotBlocked)
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(ExpectedBlocking::Unknown)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(ExpectedBlocking::Unknown)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                match v {
                    "dns" => Ok(ExpectedBlocking::Dns),
                    "tcp_ip" => Ok(ExpectedBlocking::TcpIp),
                    "http-failure" => Ok(ExpectedBlocking::HttpFailure),
                    "http-diff" => Ok(ExpectedBlocking::HttpDiff),
                    other => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
                }
            }
        }
        deserializer.deserialize_any(BlockingVisitor)
    }
}

/// Canary's outcome for a measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The site was reached as the control reached it.
    Ok,
    /// The network interfered.
    Blocked,
    /// The site failed for the control too.
    Down,
    /// No verdict on network censorship can be given.
    Unknown,
}

/// The layer at which the interference (or failure) happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// Name resolution.
    Dns,
    /// TCP connection.
    Tcp,
    /// TLS handshake.
    Tls,
    /// HTTP exchange.
    Http,
}

/// Canary's finer kind of interference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// DNS answered NXDOMAIN.
    Nxdomain,
    /// DNS answered REFUSED.
    Refused,
    /// DNS answered SERVFAIL.
    Servfail,
    /// DNS answered no address.
    NoAnswer,
    /// No answer in time (DNS, TLS or HTTP, by the layer).
    Timeout,
    /// DNS answered a bogon address.
    Bogon,
    /// DNS answered addresses the control does not know.
    Inconsistent,
    /// Two DNS replies: a forged one first, the true one later.
    Injection,
    /// DNS answered a known blockpage server's address.
    BlockpageIp,
    /// The connection was reset.
    Reset,
    /// SYNs went unanswered.
    Blackhole,
    /// Connection refused.
    RefusedConnection,
    /// The peer closed the connection unexpectedly.
    Eof,
    /// A certificate for the name that the control did not see.
    Interception,
    /// The TLS handshake failed otherwise.
    HandshakeFailure,
    /// A blockpage was served.
    Blockpage,
    /// The page differs from the control's.
    Diff,
    /// A redirect to a blockpage was served.
    RedirectToBlockpage,
    /// The site's own server refused the vantage (not the network).
    ServerSide,
    /// The transfer was slowed to a crawl.
    Throttling,
}

/// The verdict an analysis must reach for a scenario, measured from the
/// censored vantage with the control as reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Expected {
    /// OONI's `blocking` (v0.5 "classic" semantics, see `shared/notes/ooni.md`).
    pub blocking: ExpectedBlocking,
    /// OONI's `accessible`.
    pub accessible: Option<bool>,
    /// Canary's outcome.
    pub outcome: Outcome,
    /// Canary's layer, when something went wrong.
    pub layer: Option<Layer>,
    /// Canary's kind, when something went wrong.
    pub kind: Option<Kind>,
}

/// URL scheme of a scenario's site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    /// Cleartext HTTP/1.1.
    Http,
    /// HTTPS (TLS 1.2/1.3; ALPN h2 and http/1.1).
    Https,
}

impl Scheme {
    /// `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// One row of the static scenario table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScenarioSpec {
    /// Unique snake_case name, e.g. `"dns_nxdomain"`.
    pub name: &'static str,
    /// What the row shows, in one sentence.
    pub description: &'static str,
    /// Scheme of the scenario URL.
    pub scheme: Scheme,
    /// What the site does by itself.
    pub server: ServerBehaviour,
    /// What the censor does to the censored vantage.
    pub censor: CensorAction,
    /// The verdict an analysis must reach.
    pub expect: Expected,
}

/// A scenario of a running lab: a row of [`SCENARIOS`] with its concrete URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    /// Unique name (the row's name; bulk sites add a number).
    pub name: String,
    /// What the row shows, in one sentence.
    pub description: String,
    /// The URL to measure, e.g. `http://ok-http.canary-lab.test:41234/`.
    pub url: String,
    /// The URL's host name.
    pub host: String,
    /// The URL's port.
    pub port: u16,
    /// What the site does by itself.
    pub server: ServerBehaviour,
    /// What the censor does to the censored vantage.
    pub censor: CensorAction,
    /// The verdict an analysis must reach.
    pub expect: Expected,
}

const fn expect(
    blocking: ExpectedBlocking,
    accessible: Option<bool>,
    outcome: Outcome,
    layer: Option<Layer>,
    kind: Option<Kind>,
) -> Expected {
    Expected {
        blocking,
        accessible,
        outcome,
        layer,
        kind,
    }
}

const OK: Expected = expect(
    ExpectedBlocking::NotBlocked,
    Some(true),
    Outcome::Ok,
    None,
    None,
);

const fn blocked(blocking: ExpectedBlocking, layer: Layer, kind: Kind) -> Expected {
    expect(
        blocking,
        Some(false),
        Outcome::Blocked,
        Some(layer),
        Some(kind),
    )
}

const fn row(
    name: &'static str,
    scheme: Scheme,
    server: ServerBehaviour,
    censor: CensorAction,
    expect: Expected,
    description: &'static str,
) -> ScenarioSpec {
    ScenarioSpec {
        name,
        description,
        scheme,
        server,
        censor,
        expect,
    }
}

use CensorAction as C;
use ExpectedBlocking as B;
use Scheme::{Http, Https};
use ServerBehaviour as S;

/// The scenario table. Every row is exercised by the lab's own tests
/// (`crates/lab/tests/`), with plain clients from both vantages.
pub const SCENARIOS: &[ScenarioSpec] = &[
    row("ok_http", Http, S::Normal, C::None, OK,
        "A cleartext site that both vantages reach alike."),
    row("ok_https", Https, S::Normal, C::None, OK,
        "An HTTPS site (h2 and http/1.1) with a certificate from the lab CA, reached alike."),
    row("ok_redirect_chain", Http, S::RedirectChain, C::None, OK,
        "A 301 then a 302 then the page; every hop reachable from both vantages."),
    row("ok_large_body", Http, S::LargeBody, C::None, OK,
        "A large page (larger than a probe's 512 KiB body cap), reached alike."),
    row("ok_slow", Http, S::Slow, C::None, OK,
        "A slow site that answers after a delay shorter than any probe timeout."),
    row("dns_nxdomain", Http, S::Normal, C::DnsNxdomain,
        blocked(B::Dns, Layer::Dns, Kind::Nxdomain),
        "The ISP resolver says the name does not exist; the control resolves it."),
    row("dns_refused", Http, S::Normal, C::DnsRefused,
        blocked(B::Dns, Layer::Dns, Kind::Refused),
        "The ISP resolver refuses the query."),
    row("dns_servfail", Http, S::Normal, C::DnsServfail,
        blocked(B::Dns, Layer::Dns, Kind::Servfail),
        "The ISP resolver answers SERVFAIL."),
    row("dns_no_answer", Http, S::Normal, C::DnsNoAnswer,
        blocked(B::Dns, Layer::Dns, Kind::NoAnswer),
        "The ISP resolver answers NOERROR with no address."),
    row("dns_timeout", Http, S::Normal, C::DnsNoReply,
        blocked(B::Dns, Layer::Dns, Kind::Timeout),
        "The ISP resolver never answers."),
    row("dns_blockpage_ip", Http, S::Normal, C::DnsBlockpageIp,
        blocked(B::Dns, Layer::Dns, Kind::BlockpageIp),
        "The ISP resolver answers the censor's blockpage server, which serves a blockpage."),
    row("dns_bogon", Http, S::Normal, C::DnsBogon,
        blocked(B::Dns, Layer::Dns, Kind::Bogon),
        "The ISP resolver answers a bogon (127.0.0.1, outside the lab's routable network)."),
    row("dns_injection", Http, S::Normal, C::DnsInjection,
        blocked(B::Dns, Layer::Dns, Kind::Injection),
        "An on-path injector sends a forged answer first; the true answer arrives shortly after."),
    row("tcp_blackhole", Http, S::Normal, C::TcpBlackhole,
        blocked(B::TcpIp, Layer::Tcp, Kind::Blackhole),
        "SYNs from the censored vantage are never answered: connect times out."),
    row("tcp_reset", Http, S::Normal, C::TcpReset,
        blocked(B::HttpFailure, Layer::Http, Kind::Reset),
        "Every connection to the site's address is reset at its first bytes, whatever the Host; \
         connect succeeds, so a probe observes exactly what http_host_reset shows (same verdict), \
         only the trigger differs."),
    row("tls_sni_reset", Https, S::Normal, C::TlsSniReset,
        blocked(B::HttpFailure, Layer::Tls, Kind::Reset),
        "A ClientHello with the site's SNI gets a reset; other SNIs pass."),
    row("tls_sni_drop", Https, S::Normal, C::TlsSniDrop,
        blocked(B::HttpFailure, Layer::Tls, Kind::Timeout),
        "A ClientHello with the site's SNI gets no answer: the handshake times out."),
    row("http_host_reset", Http, S::Normal, C::HttpHostReset,
        blocked(B::HttpFailure, Layer::Http, Kind::Reset),
        "A cleartext request with the site's Host gets a reset; other Hosts pass."),
    row("http_blockpage", Http, S::Normal, C::HttpBlockpage,
        blocked(B::HttpDiff, Layer::Http, Kind::Blockpage),
        "The censor answers 200 with a blockpage instead of the site."),
    row("http_redirect_to_blockpage", Http, S::Normal, C::HttpRedirectToBlockpage,
        blocked(B::HttpDiff, Layer::Http, Kind::RedirectToBlockpage),
        "The censor answers 302 to its blockpage host instead of the site."),
    row("tls_mitm_untrusted_ca", Https, S::Normal, C::TlsInterceptUntrustedCa,
        blocked(B::HttpFailure, Layer::Tls, Kind::Interception),
        "TLS interception with a certificate for the name from a CA the probe does not trust."),
    row("tls_mitm_trusted_ca_other_key", Https, S::Normal, C::TlsInterceptTrustedCaOtherKey,
        expect(B::NotBlocked, Some(true), Outcome::Blocked, Some(Layer::Tls), Some(Kind::Interception)),
        "TLS interception with a valid certificate from the trusted lab CA but another key; \
         OONI trusts HTTPS success (accessible), only the control's key reveals it."),
    row("site_down", Http, S::Down, C::None,
        expect(B::NotBlocked, Some(false), Outcome::Down, Some(Layer::Tcp), Some(Kind::RefusedConnection)),
        "The site's port is closed for everyone: the control fails too, so it is down, not blocked."),
    row("redirect_chain_last_hop_blocked", Http, S::RedirectChain, C::HttpHostReset,
        blocked(B::HttpFailure, Layer::Http, Kind::Reset),
        "A 301 then a 302; the censor resets the request to the last hop's Host."),
    row("throttled", Http, S::LargeBody, C::Throttle,
        blocked(B::HttpFailure, Layer::Http, Kind::Throttling),
        "The censor caps the site's bytes to a crawl: a probe's body read times out."),
    row("server_side_block", Https, S::ForbidsCensoredVantage, C::None,
        expect(B::NotBlocked, Some(true), Outcome::Unknown, Some(Layer::Http), Some(Kind::ServerSide)),
        "The site's own server answers 403 to the censored vantage's address (a geo block): \
         not the network's censor, and the verdict must not say it is."),
];

/// Looks a row up by name.
pub fn spec(name: &str) -> Option<&'static ScenarioSpec> {
    SCENARIOS.iter().find(|s| s.name == name)
}

/// The host name of a row (`dns_nxdomain` → `dns-nxdomain.canary-lab.test`);
/// `suffix` distinguishes redirect hops and bulk copies.
pub(crate) fn host_for(name: &str, suffix: Option<&str>) -> String {
    let label = name.replace('_', "-");
    match suffix {
        Some(s) => format!("{label}-{s}.{}", crate::LAB_DOMAIN),
        None => format!("{label}.{}", crate::LAB_DOMAIN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_snake_case() {
        let mut seen = HashSet::new();
        for s in SCENARIOS {
            assert!(seen.insert(s.name), "duplicate {}", s.name);
            assert!(
                s.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{}",
                s.name
            );
        }
    }

    #[test]
    fn ooni_blocking_serialises_as_ooni_writes_it() {
        let cases = [
            (B::NotBlocked, "false"),
            (B::Unknown, "null"),
            (B::Dns, "\"dns\""),
            (B::TcpIp, "\"tcp_ip\""),
            (B::HttpFailure, "\"http-failure\""),
            (B::HttpDiff, "\"http-diff\""),
        ];
        for (value, json) in cases {
            assert_eq!(serde_json::to_string(&value).unwrap(), json);
            assert_eq!(serde_json::from_str::<B>(json).unwrap(), value);
            assert_eq!(value.to_json().to_string(), json);
        }
        assert!(serde_json::from_str::<B>("true").is_err());
        assert!(serde_json::from_str::<B>("\"tcp-ip\"").is_err());
    }

    #[test]
    fn anomalies_are_never_accessible_and_blocked_rows_name_a_layer_and_kind() {
        for s in SCENARIOS {
            let e = s.expect;
            if e.blocking.as_str().is_some() {
                assert_eq!(e.accessible, Some(false), "{}", s.name);
            }
            if e.outcome == Outcome::Blocked {
                assert!(e.layer.is_some() && e.kind.is_some(), "{}", s.name);
            }
            if e.outcome == Outcome::Ok {
                assert_eq!(e.blocking, B::NotBlocked, "{}", s.name);
                assert_eq!(s.censor, CensorAction::None, "{}", s.name);
            }
        }
    }

    #[test]
    fn the_server_side_block_is_never_labelled_as_censorship() {
        let row = spec("server_side_block").unwrap();
        assert_ne!(row.expect.outcome, Outcome::Blocked);
        assert_eq!(row.expect.blocking.as_str(), None);
        assert_eq!(row.censor, CensorAction::None);
    }

    #[test]
    fn host_names_are_lab_names() {
        assert_eq!(
            host_for("dns_nxdomain", None),
            "dns-nxdomain.canary-lab.test"
        );
        assert_eq!(
            host_for("ok_redirect_chain", Some("2")),
            "ok-redirect-chain-2.canary-lab.test"
        );
    }

    #[test]
    fn every_row_the_issue_requires_is_in_the_table() {
        let required = [
            "ok_http",
            "ok_https",
            "dns_nxdomain",
            "dns_refused",
            "dns_servfail",
            "dns_timeout",
            "dns_blockpage_ip",
            "dns_bogon",
            "dns_injection",
            "tcp_blackhole",
            "tcp_reset",
            "tls_sni_reset",
            "tls_sni_drop",
            "http_host_reset",
            "http_blockpage",
            "http_redirect_to_blockpage",
            "tls_mitm_untrusted_ca",
            "tls_mitm_trusted_ca_other_key",
            "site_down",
            "redirect_chain_last_hop_blocked",
            "throttled",
            "server_side_block",
        ];
        for name in required {
            assert!(spec(name).is_some(), "missing row {name}");
        }
    }
}
