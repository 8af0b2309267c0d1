//! What a probe run is configured with.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use canary_ipinfo::{AsnDb, Bogons};
use canary_model::Measurement;

/// Turns a finished measurement's records into a verdict, filling
/// `test_keys.blocking`, `accessible` and Canary's label. The probe records;
/// judging is somebody else's job (the analysis crate, wired in by the
/// binary), so the probe takes it as a parameter.
pub trait Judge: Send + Sync {
    /// Fills the verdict keys of `measurement` from its records.
    fn judge(&self, measurement: &mut Measurement);
}

/// A judge that leaves the verdict keys empty (for raw collection, where
/// the server judges).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoJudge;

impl Judge for NoJudge {
    fn judge(&self, _measurement: &mut Measurement) {}
}

/// The test helper the probe asks for the control measurement.
#[derive(Clone, Debug)]
pub struct HelperConfig {
    /// The helper's URL (OONI test helpers listen on `/`).
    pub url: url::Url,
    /// How long to wait for its answer.
    pub timeout: Duration,
    /// The client used to reach it (its roots may include a lab CA).
    pub client: reqwest::Client,
}

/// A DNS-over-HTTPS resolver: its URL and the address to connect to.
#[derive(Clone, Debug)]
pub struct DohConfig {
    /// The DoH endpoint, e.g. `https://dns.example/dns-query`.
    pub url: url::Url,
    /// The server's address (resolved once at start, outside measurements).
    pub server: SocketAddr,
}

/// Everything that parameterises a probe run.
#[derive(Clone)]
pub struct ProbeConfig {
    /// Sockets, timeouts, caps and trust roots (the `zero` instant is reset
    /// for every measurement).
    pub net: canary_netx::Options,
    /// Resolvers asked over UDP (OONI's "public resolver").
    pub udp_resolvers: Vec<SocketAddr>,
    /// Whether to also ask the operating system's resolver (getaddrinfo).
    pub system_resolver: bool,
    /// An optional DNS-over-HTTPS resolver.
    pub doh: Option<DohConfig>,
    /// The control test helper; without one, verdicts stay undecided.
    pub helper: Option<HelperConfig>,
    /// Which addresses are bogons (with the deployment's routable ranges).
    pub bogons: Bogons,
    /// An IP-to-ASN table to annotate answers; without one ASNs are 0.
    pub asn_db: Option<Arc<AsnDb>>,
    /// The probe's country code (`ZZ` when unknown).
    pub probe_cc: String,
    /// The probe's network, `AS1234` (`AS0` when unknown).
    pub probe_asn: String,
    /// The probe network's name.
    pub probe_network_name: Option<String>,
    /// Addresses of this machine that must never appear in the output, on
    /// top of those the probe discovers itself.
    pub own_addresses: Vec<IpAddr>,
    /// The User-Agent sent to sites (and passed to the helper).
    pub user_agent: String,
    /// Most addresses measured per host name.
    pub max_addresses: usize,
    /// The verdict.
    pub judge: Arc<dyn Judge>,
}

impl std::fmt::Debug for ProbeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProbeConfig")
            .field("udp_resolvers", &self.udp_resolvers)
            .field("system_resolver", &self.system_resolver)
            .field("helper", &self.helper.as_ref().map(|h| h.url.as_str()))
            .field("probe_cc", &self.probe_cc)
            .field("probe_asn", &self.probe_asn)
            .finish_non_exhaustive()
    }
}

/// The User-Agent OONI's probes send (a common desktop browser), so sites
/// answer the probe as they answer people.
pub const DEFAULT_USER_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

/// `Accept` sent with every request.
pub const ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// `Accept-Language` sent with every request.
pub const ACCEPT_LANGUAGE: &str = "en-US,en;q=0.9";

impl ProbeConfig {
    /// A configuration with OONI's defaults: the given UDP resolver, the
    /// system resolver, no helper, no ASN table, unknown country and network.
    pub fn new(udp_resolver: SocketAddr) -> Self {
        ProbeConfig {
            net: canary_netx::Options::default(),
            udp_resolvers: vec![udp_resolver],
            system_resolver: true,
            doh: None,
            helper: None,
            bogons: Bogons::default(),
            asn_db: None,
            probe_cc: "ZZ".into(),
            probe_asn: "AS0".into(),
            probe_network_name: None,
            own_addresses: Vec::new(),
            user_agent: DEFAULT_USER_AGENT.into(),
            max_addresses: 8,
            judge: Arc::new(NoJudge),
        }
    }

    /// The request headers sent to sites and to the helper.
    pub fn request_headers(&self) -> Vec<(String, String)> {
        vec![
            ("User-Agent".into(), self.user_agent.clone()),
            ("Accept".into(), ACCEPT.into()),
            ("Accept-Language".into(), ACCEPT_LANGUAGE.into()),
        ]
    }
}

/// One URL to measure, with what the test list says about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The URL.
    pub url: String,
    /// Citizen Lab category code, when known.
    pub category_code: Option<String>,
}

impl Target {
    /// A target without a category.
    pub fn url(url: impl Into<String>) -> Self {
        Target {
            url: url.into(),
            category_code: None,
        }
    }
}
