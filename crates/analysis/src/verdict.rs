//! Verdicts for `web_connectivity` measurements, recomputed from raw records.
//!
//! [`analyse_web_connectivity`] reads the raw observations of a measurement —
//! DNS queries, TCP connects, TLS handshakes, HTTP transactions and the
//! control (test helper) response — and **never** the measurement's own
//! `blocking`/`accessible`/`dns_consistency`/`*_match` fields: a submitter
//! could forge those, and old probes had bugs. (The probe's own
//! `dns_experiment_failure` is read only for legacy measurements that carry
//! no per-query records; `control_failure` is the probe's record of the
//! control call.) It produces two things:
//!
//! 1. OONI-compatible `blocking` (`false | null | "dns" | "tcp_ip" |
//!    "http-failure" | "http-diff"`) and `accessible`, following probe-cli's
//!    reference code: v0.4 `Summarize` for v0.4 (and older) data, the v0.5
//!    "classic" engine plus its DNS override for v0.5 data ([`Engine`]);
//! 2. Canary's finer label: [`Outcome`] (ok, blocked, down, unknown), the
//!    [`Layer`] and [`Kind`] of interference, whether it is **confirmed** by
//!    a blockpage fingerprint, and a one-sentence explanation a
//!    non-engineer can read.
//!
//! Canary's label adds what OONI lacks: known blockpage addresses and pages
//! (fingerprints) are confirmed; TLS interception is detected when the probe's
//! certificate does not verify while the control's does, or when the probe's
//! leaf key differs from every key the control saw for the same name
//! (Canary's helper records them as `x_spki_sha256` per endpoint); DNS
//! injection is detected from late duplicate replies
//! (`x_dns_duplicate_responses`); and a 403/451/429/CAPTCHA page served by the
//! site's own server (or its CDN) to the probe while the control got 2xx is
//! labelled [`Kind::ServerSide`] with outcome [`Outcome::Unknown`] — never
//! as government censorship.
//!
//! Every verdict carries [`crate::RULES_VERSION`] and the ids of the rules
//! that fired.
//!
//! ```
//! use canary_analysis::fingerprints::FingerprintDb;
//! use canary_analysis::verdict::{analyse_web_connectivity, Context, Outcome, Kind};
//! use canary_model::WebConnectivityTestKeys;
//!
//! let tk = WebConnectivityTestKeys::from_json_str(r#"{
//!   "queries": [{"hostname": "news.example", "engine": "system", "query_type": "A",
//!                "failure": null, "answers": [{"answer_type": "A", "ipv4": "36.37.242.94"}]}],
//!   "control": {"dns": {"failure": null, "addrs": ["104.18.1.1"]},
//!               "http_request": {"status_code": 200, "body_length": 5000, "failure": null}},
//!   "requests": []
//! }"#).unwrap();
//! let db = FingerprintDb::canary_default();
//! let ctx = Context::new("KH", &db).with_input("http://news.example/");
//! let v = analyse_web_connectivity(&tk, &ctx);
//! assert_eq!(v.outcome, Outcome::Blocked);
//! assert_eq!(v.kind, Some(Kind::BlockpageIp));
//! assert!(v.confirmed);
//! println!("{}", v.explanation);
//! ```

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;

use canary_model::{
    Blocking, ControlResponse, DnsQuery, Failure, HttpTransaction, Measurement, TcpConnect,
    TlsHandshake, WebConnectivityTestKeys,
};
use serde::{Deserialize, Serialize};

use crate::fingerprints::FingerprintDb;
use crate::httpdiff::{extract_title, http_diff_with, DiffRules, HttpDiff, HttpSide};
use crate::netutil::{
    is_bogon, spki_sha256_hex, split_endpoint, url_host, url_port, url_scheme, IpPrefix,
};
use crate::RULES_VERSION;

/// Largest response body looked at (bytes); larger bodies are cut.
pub const MAX_BODY_BYTES: usize = 4 << 20;
/// Most HTTP transactions (redirect hops) looked at.
pub const MAX_REQUESTS: usize = 32;
/// Most DNS answers, TCP connects or TLS handshakes looked at, each.
pub const MAX_RECORDS: usize = 512;

/// Canary's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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

/// The layer at which the interference (or failure) happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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

/// Canary's finer kind of interference (or failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The resolver said the name does not exist.
    Nxdomain,
    /// The resolver refused the query.
    Refused,
    /// The resolver failed (SERVFAIL).
    Servfail,
    /// The resolver answered without addresses.
    NoAnswer,
    /// No answer in time (at the verdict's layer).
    Timeout,
    /// The resolver answered a non-routable address.
    Bogon,
    /// The resolver answered addresses unrelated to the control's.
    Inconsistent,
    /// Forged DNS replies raced the true one.
    Injection,
    /// The resolver answered a known blockpage server's address.
    BlockpageIp,
    /// The connection was reset.
    Reset,
    /// Connection attempts went unanswered.
    Blackhole,
    /// The connection was refused.
    RefusedConnection,
    /// The peer closed the connection unexpectedly.
    Eof,
    /// A certificate the control did not see (man-in-the-middle).
    Interception,
    /// The TLS handshake failed otherwise.
    HandshakeFailure,
    /// A known blockpage was served.
    Blockpage,
    /// The page differs from the control's.
    Diff,
    /// A redirect led to a known blockpage.
    RedirectToBlockpage,
    /// The site's own server (or CDN) refused the probe: not the network.
    ServerSide,
    /// The transfer started but slowed to a crawl and timed out.
    Throttling,
    /// Some other failure.
    Other,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        f.write_str(&s)
    }
}

/// Which OONI rule set produced `blocking`/`accessible`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// Web Connectivity ≤ 0.4.2 (and legacy MK / ooni-probe data):
    /// `Summarize` where an NXDOMAIN not explained by the control is `dns`.
    OoniV04Legacy,
    /// Web Connectivity 0.4.3: `Summarize` where any inconsistent DNS is `dns`.
    OoniV043,
    /// Web Connectivity 0.5: the "classic" analysis plus the DNS override.
    OoniV05,
}

/// The DNS consistency label (as OONI's `dns_consistency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DnsConsistency {
    /// The probe's answers agree with the control's.
    Consistent,
    /// They do not.
    Inconsistent,
}

/// A function mapping an IP address to its ASN (e.g. from an IP-to-ASN table).
pub type AsnLookup<'a> = &'a (dyn Fn(IpAddr) -> Option<u32> + Sync);

/// Everything besides the test keys that a verdict depends on.
#[derive(Clone)]
pub struct Context<'a> {
    /// The probe's country code (for `is_confirmed`).
    pub probe_cc: &'a str,
    /// Blockpage fingerprints.
    pub fingerprints: &'a FingerprintDb,
    /// The measured URL (`input`); when `None` it is taken from the control
    /// request or the first HTTP request.
    pub input: Option<&'a str>,
    /// `test_version` of the measurement; selects the OONI engine. When
    /// `None`, v0.5 is assumed if v0.5-only keys (`x_blocking_flags`) are
    /// present, else v0.4.3.
    pub test_version: Option<&'a str>,
    /// Optional IP → ASN lookup, consulted before the ASNs recorded in the
    /// measurement.
    pub asn_lookup: Option<AsnLookup<'a>>,
    /// Prefixes to treat as routable even though they are bogons (e.g. the
    /// lab's `127.0.1.0/24`).
    pub routable: Vec<IpPrefix>,
    /// Results of an external certificate-chain verification against public
    /// roots, keyed by endpoint (`"ip:port"`): `false` = did not verify.
    pub chain_verified: BTreeMap<String, bool>,
}

impl fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("probe_cc", &self.probe_cc)
            .field("fingerprints", &self.fingerprints.len())
            .field("input", &self.input)
            .field("test_version", &self.test_version)
            .field("asn_lookup", &self.asn_lookup.is_some())
            .field("routable", &self.routable)
            .field("chain_verified", &self.chain_verified)
            .finish()
    }
}

impl<'a> Context<'a> {
    /// A context with only the country and the fingerprints.
    pub fn new(probe_cc: &'a str, fingerprints: &'a FingerprintDb) -> Self {
        Context {
            probe_cc,
            fingerprints,
            input: None,
            test_version: None,
            asn_lookup: None,
            routable: Vec::new(),
            chain_verified: BTreeMap::new(),
        }
    }

    /// Set the measured URL.
    pub fn with_input(mut self, input: &'a str) -> Self {
        self.input = Some(input);
        self
    }

    /// Set the measurement's `test_version`.
    pub fn with_test_version(mut self, v: &'a str) -> Self {
        self.test_version = Some(v);
        self
    }

    /// Set an IP → ASN lookup.
    pub fn with_asn_lookup(mut self, f: AsnLookup<'a>) -> Self {
        self.asn_lookup = Some(f);
        self
    }

    /// Add a prefix to treat as routable.
    pub fn with_routable(mut self, p: IpPrefix) -> Self {
        self.routable.push(p);
        self
    }

    fn is_bogon(&self, ip: IpAddr) -> bool {
        is_bogon(ip) && !self.routable.iter().any(|p| p.contains(ip))
    }
}

/// The verdict on one `web_connectivity` measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// OONI's `blocking`, recomputed (`None` = JSON `null`).
    pub blocking: Option<Blocking>,
    /// OONI's `accessible`, recomputed.
    pub accessible: Option<bool>,
    /// The OONI rule set used.
    pub engine: Engine,
    /// DNS consistency as OONI computes it for `engine`.
    pub dns_consistency: Option<DnsConsistency>,
    /// The HTTP-diff heuristics, when a page was compared.
    pub http_diff: Option<HttpDiff>,
    /// Canary's outcome.
    pub outcome: Outcome,
    /// Canary's layer (`None` when ok).
    pub layer: Option<Layer>,
    /// Canary's kind (`None` when ok).
    pub kind: Option<Kind>,
    /// True when a fingerprint confirms censorship in the probe's country.
    pub confirmed: bool,
    /// Name of the matching fingerprint, confirmed or not.
    pub fingerprint: Option<String>,
    /// One sentence for a non-engineer.
    pub explanation: String,
    /// Rule set version.
    pub rules_version: String,
    /// Ids of the rules that fired, OONI's first then Canary's.
    pub rule_ids: Vec<String>,
}

// ---------------------------------------------------------------------------
// Facts extracted from the raw records (bounded).
// ---------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Facts<'t> {
    host: Option<String>,
    /// Port the page is fetched from (final hop if any, else the input's).
    port: Option<u16>,
    host_is_ip: bool,
    /// System-resolver ("classic") addresses, in order, deduplicated.
    dns_addrs: Vec<IpAddr>,
    /// ASNs recorded by the probe for its answers (IP → ASN).
    answer_asn: BTreeMap<IpAddr, u32>,
    dns_failure: Option<String>,
    dns_queried: bool,
    /// Addresses seen in other resolvers' answers (udp/doh).
    other_addrs: BTreeSet<IpAddr>,
    control_present: bool,
    control_failure: Option<String>,
    control_addrs: Vec<IpAddr>,
    control_dns_failure: Option<String>,
    control_asn: BTreeMap<IpAddr, u32>,
    control_http: Option<ControlHttp>,
    control_tcp: BTreeMap<String, (bool, Option<String>)>,
    control_tls: BTreeMap<String, (bool, Option<String>, Option<String>)>,
    control_spkis: BTreeSet<String>,
    control_spki_by_endpoint: BTreeMap<String, String>,
    tcp: Vec<Tcp>,
    tls: Vec<Tls>,
    requests: Vec<Req<'t>>,
    /// (first reply's addresses, a late reply's disjoint addresses).
    injected: Vec<(Vec<IpAddr>, Vec<IpAddr>)>,
    read_bytes: i64,
}

#[derive(Debug, Clone)]
struct ControlHttp {
    failure: Option<String>,
    status: i64,
    body_length: i64,
    title: String,
    header_names: Vec<String>,
    server: Option<String>,
}

#[derive(Debug, Clone)]
struct Tcp {
    ip: Option<IpAddr>,
    port: u16,
    endpoint: String,
    ok: bool,
    failure: Option<String>,
}

#[derive(Debug, Clone)]
struct Tls {
    endpoint: String,
    ip: Option<IpAddr>,
    server_name: Option<String>,
    failure: Option<String>,
    leaf_spki: Option<String>,
}

#[derive(Debug, Clone)]
struct Req<'t> {
    url: String,
    /// The address the request went to, when recorded.
    address: Option<IpAddr>,
    failure: Option<String>,
    status: i64,
    /// Borrowed from the measurement when it was written as text.
    body: Cow<'t, [u8]>,
    truncated: bool,
    headers: Vec<(String, String)>,
}

fn failure_str(f: Option<&Failure>) -> Option<String> {
    f.map(|f| f.as_str().to_string())
}

fn has_tag(tags: &canary_model::Nullable<Vec<String>>, tag: &str) -> bool {
    tags.get().is_some_and(|t| t.iter().any(|x| x == tag))
}

/// The "classic" lookups are the probe's primary resolver's: those tagged
/// `classic` when the probe tags them (Canary's probe does), else the
/// system resolver's (OONI's probes).
fn is_classic_query(q: &DnsQuery, tagged: bool) -> bool {
    if tagged {
        return has_tag(&q.tags, "classic");
    }
    matches!(
        q.engine.get().map(String::as_str),
        None | Some("system") | Some("getaddrinfo") | Some("golang_net_resolver") | Some("go")
    )
}

fn header_pairs(resp: &canary_model::HttpResponse) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(list) = resp.headers_list.get() {
        for (k, v) in list.iter().take(MAX_RECORDS) {
            if let (Some(k), Some(v)) = (k.to_text_lossy(), v.to_text_lossy()) {
                out.push((k.into_owned(), v.into_owned()));
            }
        }
    } else if let Some(map) = resp.headers.get() {
        for (k, v) in map.iter().take(MAX_RECORDS) {
            for b in v.values() {
                if let Some(t) = b.to_text_lossy() {
                    out.push((k.clone(), t.into_owned()));
                }
            }
        }
    }
    out
}

fn extract_request(t: &HttpTransaction) -> Req<'_> {
    let url = t
        .request
        .get()
        .and_then(|r| r.url.get().cloned())
        .unwrap_or_default();
    let (status, body, truncated, headers) = match t.response.get() {
        Some(resp) => {
            let body = match resp.body.get().and_then(|b| b.bytes().ok()) {
                Some(Cow::Borrowed(b)) => Cow::Borrowed(&b[..b.len().min(MAX_BODY_BYTES)]),
                Some(Cow::Owned(mut b)) => {
                    b.truncate(MAX_BODY_BYTES);
                    Cow::Owned(b)
                }
                None => Cow::Borrowed(&[][..]),
            };
            (
                resp.code.value().unwrap_or(0),
                body,
                resp.body_is_truncated.value().unwrap_or(false),
                header_pairs(resp),
            )
        }
        None => (0, Cow::Borrowed(&[][..]), false, Vec::new()),
    };
    Req {
        url,
        address: t.address.get().and_then(|a| {
            split_endpoint(a)
                .map(|(ip, _)| ip)
                .or_else(|| a.parse().ok())
        }),
        failure: failure_str(t.failure.get()),
        status,
        body,
        truncated,
        headers,
    }
}

fn extract_control(c: &ControlResponse, f: &mut Facts<'_>) {
    f.control_present = true;
    if let Some(dns) = c.dns.get() {
        f.control_dns_failure = failure_str(dns.failure.get());
        if let Some(addrs) = dns.addrs.get() {
            for a in addrs.iter().take(MAX_RECORDS) {
                if let Ok(ip) = a.parse::<IpAddr>() {
                    if !f.control_addrs.contains(&ip) {
                        f.control_addrs.push(ip);
                    }
                }
            }
        }
    }
    if let Some(info) = c.ip_info.get() {
        for (ip, i) in info.iter().take(MAX_RECORDS) {
            if let (Ok(ip), Some(asn)) = (ip.parse::<IpAddr>(), i.asn.value()) {
                f.control_asn.insert(ip, asn);
            }
        }
    }
    if let Some(tcp) = c.tcp_connect.get() {
        for (ep, s) in tcp.iter().take(MAX_RECORDS) {
            f.control_tcp.insert(
                ep.clone(),
                (
                    s.status.value().unwrap_or(false),
                    failure_str(s.failure.get()),
                ),
            );
        }
    }
    if let Some(tls) = c.tls_handshake.get() {
        for (ep, s) in tls.iter().take(MAX_RECORDS) {
            let spki = s
                .extra
                .get("x_spki_sha256")
                .and_then(|v| v.as_str())
                .map(|s| s.to_ascii_lowercase());
            if let Some(spki) = &spki {
                f.control_spkis.insert(spki.clone());
                f.control_spki_by_endpoint.insert(ep.clone(), spki.clone());
            }
            f.control_tls.insert(
                ep.clone(),
                (
                    s.status.value().unwrap_or(false),
                    failure_str(s.failure.get()),
                    s.server_name.get().map(|n| n.to_ascii_lowercase()),
                ),
            );
        }
    }
    if let Some(h) = c.http_request.get() {
        let header_names = h
            .headers
            .get()
            .map(|m| m.keys().take(MAX_RECORDS).cloned().collect())
            .unwrap_or_default();
        f.control_http = Some(ControlHttp {
            failure: failure_str(h.failure.get()),
            status: h.status_code.value().unwrap_or(0),
            body_length: h.body_length.value().unwrap_or(0),
            title: h.title.get().cloned().unwrap_or_default(),
            header_names,
            server: h.headers.get().and_then(|m| {
                m.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("server"))
                    .and_then(|(_, v)| v.first_text().map(str::to_string))
            }),
        });
    }
}

fn query_addrs(q: &DnsQuery) -> Vec<IpAddr> {
    q.addresses()
        .take(MAX_RECORDS)
        .filter_map(|a| a.parse::<IpAddr>().ok())
        .collect()
}

fn extract<'t>(tk: &'t WebConnectivityTestKeys, ctx: &Context<'_>) -> Facts<'t> {
    let mut f = Facts::default();
    let input = ctx
        .input
        .map(str::to_string)
        .or_else(|| {
            tk.x_control_request
                .get()
                .and_then(|c| c.http_request.get().cloned())
        })
        .or_else(|| {
            tk.requests()
                .last()
                .and_then(|r| r.request.get())
                .and_then(|r| r.url.get().cloned())
        });
    f.host = input.as_deref().and_then(url_host);
    f.host_is_ip = f
        .host
        .as_deref()
        .is_some_and(|h| h.parse::<IpAddr>().is_ok());
    f.port = tk
        .requests()
        .first()
        .and_then(|r| r.request.get())
        .and_then(|r| r.url.get())
        .and_then(|u| url_port(u))
        .or_else(|| input.as_deref().and_then(url_port));

    // DNS: the system resolver's lookups for the input host ("classic").
    let host = f.host.clone();
    let for_host = |q: &&DnsQuery| match (&host, q.hostname.get()) {
        (Some(h), Some(qh)) => qh.trim_end_matches('.').eq_ignore_ascii_case(h),
        _ => true,
    };
    let queries: Vec<&DnsQuery> = tk
        .queries()
        .iter()
        .take(MAX_RECORDS)
        .filter(for_host)
        .collect();
    let tagged = queries.iter().any(|q| has_tag(&q.tags, "classic"));
    let mut classic_failures = Vec::new();
    for q in &queries {
        let addrs = query_addrs(q);
        for a in q.answers.get().into_iter().flatten().take(MAX_RECORDS) {
            if let (Some(ip), Some(asn)) = (
                a.address().and_then(|s| s.parse::<IpAddr>().ok()),
                a.asn.value(),
            ) {
                if asn != 0 {
                    f.answer_asn.insert(ip, asn);
                }
            }
        }
        if is_classic_query(q, tagged) {
            f.dns_queried = true;
            for ip in addrs {
                if !f.dns_addrs.contains(&ip) {
                    f.dns_addrs.push(ip);
                }
            }
            if let Some(fail) = q.failure.get() {
                classic_failures.push(fail.as_str().to_string());
            }
        } else {
            f.other_addrs.extend(addrs);
        }
    }
    if f.dns_addrs.is_empty() {
        f.dns_failure = classic_failures
            .into_iter()
            .next()
            .or_else(|| failure_str(tk.dns_experiment_failure.get()));
        if f.dns_failure.is_some() {
            f.dns_queried = true;
        }
    }

    // Injection: late replies (x_dns_duplicate_responses) whose addresses
    // differ from the reply the probe accepted for the same query.
    if let Some(dups) = tk.x_dns_duplicate_responses.get() {
        for d in dups.iter().take(MAX_RECORDS) {
            let late = query_addrs(d);
            if late.is_empty() {
                continue;
            }
            let first = queries
                .iter()
                .find(|q| {
                    q.engine.get() == d.engine.get()
                        && q.query_type.get() == d.query_type.get()
                        && (d.resolver_address.is_absent()
                            || q.resolver_address.get() == d.resolver_address.get())
                })
                .map(|q| query_addrs(q))
                .unwrap_or_default();
            let a: BTreeSet<_> = first.iter().collect();
            let b: BTreeSet<_> = late.iter().collect();
            // Round-robin resolvers re-order or rotate addresses; a forged
            // reply shares none with the true one.
            if !first.is_empty() && a.is_disjoint(&b) && f.injected.len() < 4 {
                f.injected.push((first, late));
            }
        }
    }

    if let Some(c) = tk.control.get() {
        extract_control(c, &mut f);
    }
    f.control_failure = failure_str(tk.control_failure.get());

    for t in tk.tcp_connects().iter().take(MAX_RECORDS) {
        f.tcp.push(extract_tcp(t));
    }
    for t in tk.tls_handshakes().iter().take(MAX_RECORDS) {
        f.tls.push(extract_tls(t));
    }
    for r in tk.requests().iter().take(MAX_REQUESTS) {
        f.requests.push(extract_request(r));
    }
    f.read_bytes = tk
        .network_events()
        .iter()
        .take(4 * MAX_RECORDS)
        .filter(|e| e.operation.get().is_some_and(|o| o == "read"))
        .filter_map(|e| e.num_bytes.value())
        .filter(|n| *n > 0)
        .sum();
    f
}

fn extract_tcp(t: &TcpConnect) -> Tcp {
    let ip = t.ip.get().and_then(|s| s.parse::<IpAddr>().ok());
    let port = t.port.value().unwrap_or(0);
    let endpoint = match ip {
        Some(IpAddr::V6(v6)) => format!("[{v6}]:{port}"),
        Some(v4) => format!("{v4}:{port}"),
        None => String::new(),
    };
    Tcp {
        ip,
        port,
        endpoint,
        ok: t.succeeded(),
        failure: failure_str(t.failure()),
    }
}

fn extract_tls(t: &TlsHandshake) -> Tls {
    let endpoint = t.address.get().cloned().unwrap_or_default();
    let leaf_spki = t
        .peer_certificates
        .get()
        .and_then(|c| c.first())
        .and_then(|c| c.der().ok())
        .and_then(|der| spki_sha256_hex(&der))
        .or_else(|| {
            t.extra
                .get("x_spki_sha256")
                .and_then(|v| v.as_str())
                .map(|s| s.to_ascii_lowercase())
        });
    Tls {
        ip: split_endpoint(&endpoint).map(|(ip, _)| ip),
        endpoint,
        server_name: t.server_name.get().map(|s| s.to_ascii_lowercase()),
        failure: failure_str(t.failure.get()),
        leaf_spki,
    }
}

// ---------------------------------------------------------------------------
// OONI: DNS consistency.
// ---------------------------------------------------------------------------

impl Facts<'_> {
    fn asn_of(&self, ip: IpAddr, ctx: &Context<'_>) -> Option<u32> {
        ctx.asn_lookup
            .and_then(|f| f(ip))
            .or_else(|| self.answer_asn.get(&ip).copied())
            .or_else(|| self.control_asn.get(&ip).copied())
            .filter(|a| *a != 0)
    }

    fn shares_ip_or_asn(&self, ip: IpAddr, ctx: &Context<'_>) -> bool {
        if self.control_addrs.contains(&ip) {
            return true;
        }
        match self.asn_of(ip, ctx) {
            Some(asn) => self
                .control_addrs
                .iter()
                .any(|c| self.asn_of(*c, ctx) == Some(asn)),
            None => false,
        }
    }

    fn control_dns_failed(&self) -> bool {
        self.control_dns_failure.is_some() || self.control_addrs.is_empty()
    }

    fn tls_ok_for(&self, ip: IpAddr) -> bool {
        self.tls
            .iter()
            .any(|t| t.ip == Some(ip) && t.failure.is_none())
    }
}

fn is_nxdomain(f: &str) -> bool {
    matches!(
        f,
        "dns_nxdomain_error" | "android_dns_cache_no_data" | "dns_name_error"
    )
}

/// v0.4 `DNSAnalysis`.
fn dns_consistency_v04(f: &Facts, ctx: &Context<'_>) -> DnsConsistency {
    if f.host_is_ip {
        return DnsConsistency::Consistent;
    }
    if f.dns_failure.is_some() && f.control_dns_failure.is_some() {
        let both_nx = f.control_dns_failure.as_deref() == Some("dns_name_error")
            && f.dns_failure
                .as_deref()
                .is_some_and(|p| matches!(p, "dns_nxdomain_error" | "android_dns_cache_no_data"));
        return if both_nx {
            DnsConsistency::Consistent
        } else {
            DnsConsistency::Inconsistent
        };
    }
    if f.dns_addrs.iter().any(|ip| f.shares_ip_or_asn(*ip, ctx)) {
        return DnsConsistency::Consistent;
    }
    DnsConsistency::Inconsistent
}

/// v0.5 classic `dns_consistency`: `None` when undecided.
fn dns_consistency_v05(f: &Facts, ctx: &Context<'_>) -> Option<DnsConsistency> {
    if f.host_is_ip {
        return Some(DnsConsistency::Consistent);
    }
    if !f.dns_queried {
        return None;
    }
    let th_failed = f.control_dns_failed();
    if let Some(_fail) = &f.dns_failure {
        return if !f.control_present {
            None
        } else if th_failed {
            Some(DnsConsistency::Consistent) // expected failure
        } else {
            Some(DnsConsistency::Inconsistent) // unexpected failure
        };
    }
    if !f.control_present {
        return None;
    }
    if th_failed && !f.dns_addrs.is_empty() {
        return Some(DnsConsistency::Inconsistent);
    }
    let invalid = f
        .dns_addrs
        .iter()
        .any(|ip| !f.shares_ip_or_asn(*ip, ctx) && !f.tls_ok_for(*ip));
    if invalid {
        return Some(DnsConsistency::Inconsistent);
    }
    if f.dns_addrs.is_empty() {
        None
    } else {
        Some(DnsConsistency::Consistent)
    }
}

// ---------------------------------------------------------------------------
// OONI: blocking / accessible.
// ---------------------------------------------------------------------------

struct Ooni {
    blocking: Option<Blocking>,
    accessible: Option<bool>,
    rule: &'static str,
    dns: Option<DnsConsistency>,
    diff: Option<HttpDiff>,
}

fn ooni(blocking: Option<Blocking>, accessible: Option<bool>, rule: &'static str) -> Ooni {
    Ooni {
        blocking,
        accessible,
        rule,
        dns: None,
        diff: None,
    }
}

fn probe_side(r: &Req) -> HttpSide {
    HttpSide {
        status_code: r.status,
        body_length: r.body.len() as i64,
        body_truncated: r.truncated,
        header_names: r.headers.iter().map(|(k, _)| k.clone()).collect(),
        title: extract_title(&r.body),
    }
}

fn control_side(c: &ControlHttp) -> HttpSide {
    HttpSide {
        status_code: c.status,
        body_length: c.body_length,
        body_truncated: false,
        header_names: c.header_names.clone(),
        title: c.title.clone(),
    }
}

fn select_engine(tk: &WebConnectivityTestKeys, ctx: &Context<'_>) -> Engine {
    match ctx.test_version {
        Some(v) => {
            let parts: Vec<u32> = v
                .split(['.', '-'])
                .take(3)
                .map(|p| p.parse().unwrap_or(0))
                .collect();
            let (maj, min, patch) = (
                parts.first().copied().unwrap_or(0),
                parts.get(1).copied().unwrap_or(0),
                parts.get(2).copied().unwrap_or(0),
            );
            if (maj, min) >= (0, 5) {
                Engine::OoniV05
            } else if (maj, min, patch) >= (0, 4, 3) {
                Engine::OoniV043
            } else {
                Engine::OoniV04Legacy
            }
        }
        None if !tk.x_blocking_flags.is_absent() || !tk.x_null_null_flags.is_absent() => {
            Engine::OoniV05
        }
        None => Engine::OoniV043,
    }
}

/// v0.4 `Summarize`.
fn ooni_v04(f: &Facts, ctx: &Context<'_>, engine: Engine) -> Ooni {
    let dns = dns_consistency_v04(f, ctx);
    let inconsistent = dns == DnsConsistency::Inconsistent;
    let with = |mut o: Ooni| {
        o.dns = Some(dns);
        o
    };
    let dns_b = || Some(Blocking::Dns);
    if let Some(r) = f.requests.first() {
        if r.failure.is_none() && r.url.to_ascii_lowercase().starts_with("https://") {
            return with(ooni(
                Some(Blocking::NotBlocked),
                Some(true),
                "ooni.v04.https_success",
            ));
        }
    }
    if f.control_failure.is_some() || !f.control_present {
        return with(ooni(None, None, "ooni.v04.control_failure"));
    }
    let nx = f
        .dns_failure
        .as_deref()
        .is_some_and(|p| matches!(p, "dns_nxdomain_error" | "android_dns_cache_no_data"));
    if nx && !inconsistent {
        return with(ooni(
            Some(Blocking::NotBlocked),
            Some(true),
            "ooni.v04.nxdomain_consistent",
        ));
    }
    match engine {
        Engine::OoniV043 if inconsistent => {
            return with(ooni(dns_b(), Some(false), "ooni.v043.dns_inconsistent"));
        }
        Engine::OoniV04Legacy if f.dns_failure.as_deref() == Some("dns_nxdomain_error") => {
            return with(ooni(dns_b(), Some(false), "ooni.v04.nxdomain"));
        }
        _ => {}
    }
    let attempts = f.tcp.len();
    let successes = f.tcp.iter().filter(|t| t.ok).count();
    if attempts > 0 && successes == 0 {
        return with(if inconsistent {
            ooni(
                dns_b(),
                Some(false),
                "ooni.v04.connect_failed_dns_inconsistent",
            )
        } else {
            ooni(
                Some(Blocking::TcpIp),
                Some(false),
                "ooni.v04.connect_failed",
            )
        });
    }
    let Some(ch) = &f.control_http else {
        return with(ooni(None, None, "ooni.v04.no_control_http"));
    };
    if ch.failure.is_some() {
        return with(ooni(None, None, "ooni.v04.control_http_failure"));
    }
    let Some(r) = f.requests.first() else {
        return with(ooni(None, None, "ooni.v04.no_requests"));
    };
    if let Some(fail) = &r.failure {
        let mut out = match fail.as_str() {
            "connection_refused"
            | "connection_reset"
            | "eof_error"
            | "generic_timeout_error"
            | "ssl_invalid_hostname"
            | "ssl_invalid_certificate"
            | "ssl_unknown_authority" => ooni(
                Some(Blocking::HttpFailure),
                Some(false),
                "ooni.v04.http_failure",
            ),
            "dns_nxdomain_error" => ooni(dns_b(), Some(false), "ooni.v04.http_nxdomain"),
            _ => ooni(None, None, "ooni.v04.http_unclassified_failure"),
        };
        if out.blocking.is_some() && f.requests.len() == 1 && inconsistent {
            out = ooni(
                dns_b(),
                Some(false),
                "ooni.v04.http_failure_dns_inconsistent",
            );
        }
        return with(out);
    }
    let diff = http_diff_with(DiffRules::V04, &probe_side(r), &control_side(ch));
    let mut out = if diff.no_diff() {
        ooni(
            Some(Blocking::NotBlocked),
            Some(true),
            "ooni.v04.http_match",
        )
    } else if inconsistent {
        ooni(dns_b(), Some(false), "ooni.v04.http_diff_dns_inconsistent")
    } else {
        ooni(Some(Blocking::HttpDiff), Some(false), "ooni.v04.http_diff")
    };
    out.diff = Some(diff);
    with(out)
}

/// v0.5 classic analysis plus the DNS override.
fn ooni_v05(f: &Facts, ctx: &Context<'_>) -> Ooni {
    let dns = dns_consistency_v05(f, ctx);
    let mut out = ooni_v05_core(f);
    out.dns = dns;
    if dns == Some(DnsConsistency::Inconsistent) {
        let keep = out.blocking == Some(Blocking::NotBlocked) && out.accessible == Some(true);
        if !keep {
            out.blocking = Some(Blocking::Dns);
            out.accessible = Some(false);
            out.rule = "ooni.v05.dns_override";
        }
    }
    out
}

fn ooni_v05_core(f: &Facts) -> Ooni {
    let down = || {
        ooni(
            Some(Blocking::NotBlocked),
            Some(false),
            "ooni.v05.website_down",
        )
    };
    if let Some(r) = f.requests.first() {
        if r.failure.is_none() && r.status > 0 {
            if r.url.to_ascii_lowercase().starts_with("https://") {
                return ooni(
                    Some(Blocking::NotBlocked),
                    Some(true),
                    "ooni.v05.https_success",
                );
            }
            let Some(ch) = f
                .control_http
                .as_ref()
                .filter(|c| c.failure.is_none() && c.status > 0)
            else {
                return ooni(None, None, "ooni.v05.no_control_http");
            };
            let diff = http_diff_with(DiffRules::V05, &probe_side(r), &control_side(ch));
            let mut out = if diff.no_diff() {
                ooni(
                    Some(Blocking::NotBlocked),
                    Some(true),
                    "ooni.v05.http_match",
                )
            } else {
                ooni(Some(Blocking::HttpDiff), Some(false), "ooni.v05.http_diff")
            };
            out.diff = Some(diff);
            return out;
        }
        if r.failure.is_some() {
            return match &f.control_http {
                Some(ch) if ch.failure.is_none() && ch.status > 0 => ooni(
                    Some(Blocking::HttpFailure),
                    Some(false),
                    "ooni.v05.http_failure",
                ),
                Some(_) => down(),
                None => ooni(None, None, "ooni.v05.no_control_http"),
            };
        }
    }
    // No HTTP round trip: look at TLS, then TCP, then DNS (classic endpoints).
    let classic = |ip: Option<IpAddr>| {
        ip.is_some_and(|ip| f.dns_addrs.contains(&ip)) || f.dns_addrs.is_empty()
    };
    let tls_failed: Vec<&Tls> = f
        .tls
        .iter()
        .filter(|t| classic(t.ip) && t.failure.is_some())
        .collect();
    let tls_ok = f.tls.iter().any(|t| classic(t.ip) && t.failure.is_none());
    if !tls_failed.is_empty() && !tls_ok {
        let th_ok = tls_failed
            .iter()
            .any(|t| f.control_tls.get(&t.endpoint).is_some_and(|c| c.0));
        return if th_ok {
            ooni(
                Some(Blocking::HttpFailure),
                Some(false),
                "ooni.v05.tls_failure",
            )
        } else if tls_failed
            .iter()
            .any(|t| f.control_tls.contains_key(&t.endpoint))
        {
            down()
        } else {
            ooni(None, None, "ooni.v05.tls_failure_no_control")
        };
    }
    let tcp_failed: Vec<&Tcp> = f.tcp.iter().filter(|t| classic(t.ip) && !t.ok).collect();
    let tcp_ok = f.tcp.iter().any(|t| classic(t.ip) && t.ok);
    if !tcp_failed.is_empty() && !tcp_ok {
        let th_ok = tcp_failed
            .iter()
            .any(|t| f.control_tcp.get(&t.endpoint).is_some_and(|c| c.0));
        return if th_ok {
            ooni(Some(Blocking::TcpIp), Some(false), "ooni.v05.tcp_failure")
        } else if tcp_failed
            .iter()
            .any(|t| f.control_tcp.contains_key(&t.endpoint))
        {
            down()
        } else {
            ooni(None, None, "ooni.v05.tcp_failure_no_control")
        };
    }
    if f.dns_failure.is_some() {
        return if !f.control_present {
            ooni(None, None, "ooni.v05.dns_failure_no_control")
        } else if f.control_dns_failed() {
            down()
        } else {
            ooni(Some(Blocking::Dns), Some(false), "ooni.v05.dns_failure")
        };
    }
    if !f.dns_addrs.is_empty()
        && f.dns_addrs.iter().all(|ip| ip.is_loopback())
        && f.control_addrs.iter().any(|ip| !ip.is_loopback())
    {
        return ooni(Some(Blocking::Dns), Some(false), "ooni.v05.dns_loopback");
    }
    ooni(None, None, "ooni.v05.undecided")
}

// ---------------------------------------------------------------------------
// Canary's label.
// ---------------------------------------------------------------------------

struct Label {
    outcome: Outcome,
    layer: Option<Layer>,
    kind: Option<Kind>,
    confirmed: bool,
    fingerprint: Option<String>,
    explanation: String,
    rule: &'static str,
}

fn label(
    outcome: Outcome,
    layer: Option<Layer>,
    kind: Option<Kind>,
    rule: &'static str,
    explanation: String,
) -> Label {
    Label {
        outcome,
        layer,
        kind,
        confirmed: false,
        fingerprint: None,
        explanation,
        rule,
    }
}

fn list_ips(ips: &[IpAddr]) -> String {
    let shown: Vec<String> = ips.iter().take(3).map(|ip| ip.to_string()).collect();
    let mut s = shown.join(", ");
    if ips.len() > 3 {
        s.push_str(&format!(" and {} more", ips.len() - 3));
    }
    if s.is_empty() {
        s = "no address".into();
    }
    s
}

fn dns_failure_kind(f: &str) -> Kind {
    match f {
        "dns_nxdomain_error" | "dns_name_error" | "android_dns_cache_no_data" => Kind::Nxdomain,
        "dns_refused_error" => Kind::Refused,
        "dns_servfail_error"
        | "dns_server_failure"
        | "dns_server_misbehaving"
        | "dns_temporary_failure"
        | "dns_non_recoverable_failure" => Kind::Servfail,
        "dns_no_answer" => Kind::NoAnswer,
        "generic_timeout_error" | "timed_out" | "dns_timeout_error" => Kind::Timeout,
        _ => Kind::Other,
    }
}

fn conn_failure_kind(f: &str) -> Kind {
    match f {
        "connection_reset" => Kind::Reset,
        "connection_refused" | "connection_refused_error" => Kind::RefusedConnection,
        "generic_timeout_error" | "timed_out" | "tcp_timed_out_error" => Kind::Timeout,
        "eof_error" | "connection_already_closed" | "connection_aborted" => Kind::Eof,
        "ssl_invalid_hostname" | "ssl_unknown_authority" | "ssl_invalid_certificate" => {
            Kind::Interception
        }
        "ssl_failed_handshake" => Kind::HandshakeFailure,
        _ => Kind::Other,
    }
}

fn kind_phrase(k: Kind) -> &'static str {
    match k {
        Kind::Nxdomain => "said the name does not exist",
        Kind::Refused => "refused to answer",
        Kind::Servfail => "reported a server failure",
        Kind::NoAnswer => "answered with no address",
        Kind::Timeout => "timed out",
        Kind::Reset => "was cut off by a reset",
        Kind::Blackhole => "got no reply at all",
        Kind::RefusedConnection => "was refused",
        Kind::Eof => "was closed early",
        Kind::HandshakeFailure => "failed",
        _ => "failed",
    }
}

/// Status codes a site's own server uses to turn a visitor away.
fn is_server_refusal(status: i64) -> bool {
    matches!(status, 401 | 403 | 429 | 451 | 503)
}

fn canary_label(f: &Facts, ctx: &Context<'_>, v05_dns: Option<DnsConsistency>) -> Label {
    let host = f.host.clone().unwrap_or_else(|| "the site".into());
    let have_control = f.control_present && f.control_failure.is_none();

    // 1. DNS answers that are known blockpage addresses.
    for ip in &f.dns_addrs {
        if let Some(fp) = ctx.fingerprints.match_dns(&ip.to_string()).first() {
            let confirmed = fp.is_confirmed(ctx.probe_cc);
            let mut l = label(
                Outcome::Blocked,
                Some(Layer::Dns),
                Some(Kind::BlockpageIp),
                "canary.dns.blockpage_ip",
                format!(
                    "The ISP's resolver answered {ip} for {host}, a known blockpage address ({}); the control resolved {}.",
                    fp.name,
                    list_ips(&f.control_addrs)
                ),
            );
            l.confirmed = confirmed;
            l.fingerprint = Some(fp.name.clone());
            return l;
        }
    }

    // 2. DNS injection: a late reply with different addresses.
    // Injection shows as two disjoint replies of which one (normally the
    // first, forged one) has nothing in common with the control's answer.
    let unrelated = |ips: &[IpAddr]| {
        !f.control_addrs.is_empty() && !ips.iter().any(|ip| f.shares_ip_or_asn(*ip, ctx))
    };
    let injection = f
        .injected
        .iter()
        .find(|(first, late)| f.control_addrs.is_empty() || unrelated(first) || unrelated(late));
    if let Some((first, late)) = injection {
        return label(
            Outcome::Blocked,
            Some(Layer::Dns),
            Some(Kind::Injection),
            "canary.dns.injection",
            format!(
                "Two different DNS replies arrived for {host}: {} first, then {}; a forged reply was injected on the network path.",
                list_ips(first),
                list_ips(late)
            ),
        );
    }

    // 3. Known blockpages in any HTTP response of the chain.
    // Each response is matched once; the final one's result is reused below.
    let page_matches: Vec<_> = f
        .requests
        .iter()
        .map(|r| {
            ctx.fingerprints.match_http(
                &r.body,
                r.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            )
        })
        .collect();
    let n = f.requests.len();
    for (i, (r, m)) in f.requests.iter().zip(&page_matches).enumerate() {
        if let Some(fp) = m.blockpages.first() {
            let confirmed = m.confirmed(ctx.probe_cc);
            let chosen = confirmed.unwrap_or(fp);
            let redirected = (300..400).contains(&r.status) || i + 1 < n;
            // A blockpage fetched from an address that only the ISP's
            // resolver gave (the control never saw it) means the DNS answer
            // itself pointed at the blockpage server.
            let from_dns = !redirected
                && v05_dns == Some(DnsConsistency::Inconsistent)
                && match r.address {
                    Some(ip) => f.dns_addrs.contains(&ip) && !f.control_addrs.contains(&ip),
                    None => {
                        !f.dns_addrs.is_empty()
                            && f.dns_addrs.iter().all(|ip| !f.control_addrs.contains(ip))
                    }
                };
            let (layer, kind, rule, text) = if redirected {
                (Layer::Http, Kind::RedirectToBlockpage, "canary.http.redirect_to_blockpage",
                 format!("Instead of {host}, the network redirected the browser to a known blockpage ({}).", chosen.name))
            } else if from_dns {
                (Layer::Dns, Kind::BlockpageIp, "canary.dns.answer_serves_blockpage",
                 format!("The ISP's resolver answered {} for {host}, an address that serves a known blockpage ({}); the control resolved {}.",
                     list_ips(&f.dns_addrs), chosen.name, list_ips(&f.control_addrs)))
            } else {
                (
                    Layer::Http,
                    Kind::Blockpage,
                    "canary.http.blockpage",
                    format!(
                        "Instead of {host}, the network served a known blockpage ({}).",
                        chosen.name
                    ),
                )
            };
            let mut l = label(Outcome::Blocked, Some(layer), Some(kind), rule, text);
            l.confirmed = confirmed.is_some();
            l.fingerprint = Some(chosen.name.clone());
            return l;
        }
    }

    // 4. The probe's DNS lookup failed.
    if let Some(fail) = &f.dns_failure {
        let kind = dns_failure_kind(fail);
        if !have_control {
            return label(Outcome::Unknown, Some(Layer::Dns), Some(kind), "canary.dns.failure_no_control",
                format!("The ISP's resolver {} for {host}, and there is no control result to compare with.", kind_phrase(kind)));
        }
        if f.control_dns_failed() {
            return label(Outcome::Down, Some(Layer::Dns), Some(kind), "canary.dns.failure_everywhere",
                format!("{host} does not resolve from the control network either: the name is broken, not blocked."));
        }
        return label(
            Outcome::Blocked,
            Some(Layer::Dns),
            Some(kind),
            "canary.dns.failure",
            format!(
                "The ISP's resolver {} for {host}, while the control resolved it to {}.",
                kind_phrase(kind),
                list_ips(&f.control_addrs)
            ),
        );
    }

    // 5. Only non-routable answers.
    // (A verified TLS handshake for the name through such an address means
    // it really serves the site, e.g. an in-network cache: not a block.)
    if !f.dns_addrs.is_empty()
        && f.dns_addrs.iter().all(|ip| ctx.is_bogon(*ip))
        && f.control_addrs.iter().any(|ip| !ctx.is_bogon(*ip))
        && !f.dns_addrs.iter().any(|ip| f.tls_ok_for(*ip))
    {
        return label(Outcome::Blocked, Some(Layer::Dns), Some(Kind::Bogon), "canary.dns.bogon",
            format!("The ISP's resolver answered {} for {host}, an address that cannot be on the Internet; the control resolved {}.",
                list_ips(&f.dns_addrs), list_ips(&f.control_addrs)));
    }

    // 6. TLS interception.
    let same_name = |t: &Tls| {
        t.server_name
            .as_deref()
            .is_none_or(|n| Some(n) == f.host.as_deref())
    };
    let control_tls_ok = f.control_tls.values().any(|c| c.0);
    for t in f.tls.iter().filter(|t| same_name(t)) {
        let cert_bad = t.failure.as_deref().is_some_and(|x| {
            matches!(
                x,
                "ssl_unknown_authority" | "ssl_invalid_certificate" | "ssl_invalid_hostname"
            )
        }) || ctx.chain_verified.get(&t.endpoint) == Some(&false);
        if cert_bad && control_tls_ok {
            return label(Outcome::Blocked, Some(Layer::Tls), Some(Kind::Interception), "canary.tls.untrusted_certificate",
                format!("The probe's secure connection to {host} got a certificate that public authorities do not vouch for, while the control's was valid: someone intercepted the connection."));
        }
        if t.failure.is_none() && !f.control_spkis.is_empty() {
            if let Some(spki) = &t.leaf_spki {
                // Compare with the key the control saw at the same address
                // when it has one, else with every key it saw for the name.
                let mismatch = match f.control_spki_by_endpoint.get(&t.endpoint) {
                    Some(expected) => expected != spki,
                    None => !f.control_spkis.contains(spki),
                };
                if mismatch {
                    return label(Outcome::Blocked, Some(Layer::Tls), Some(Kind::Interception), "canary.tls.key_mismatch",
                        format!("The probe's secure connection to {host} presented a different key than the one the control saw for the same name: the connection was intercepted."));
                }
            }
        }
    }

    // 7. A final HTTP response exists.
    if let Some(r) = f
        .requests
        .first()
        .filter(|r| r.failure.is_none() && r.status > 0)
    {
        let https = url_scheme(&r.url).as_deref() == Some("https");
        let ch = f
            .control_http
            .as_ref()
            .filter(|c| c.failure.is_none() && c.status > 0);
        let no_match = crate::fingerprints::HttpMatches::default();
        let fp_page = page_matches.first().unwrap_or(&no_match);
        let looks_like_site_refusal =
            is_server_refusal(r.status) || !fp_page.false_positives.is_empty();
        if let Some(ch) = ch {
            if looks_like_site_refusal && (200..300).contains(&ch.status) && r.status != ch.status {
                // Who sent the refusal? Over a verified HTTPS connection (no
                // interception found above) only the site's key holder could.
                // Over plain HTTP a censor's proxy can send a 403 too, so it
                // takes evidence that the page is the site's or its CDN's: a
                // known look-alike page (scope `fp` fingerprint), or the same
                // `Server` as the control saw, on addresses the control agrees with.
                let same_server = r
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("server"))
                    .zip(ch.server.as_ref())
                    .is_some_and(|((_, a), b)| !a.is_empty() && a.eq_ignore_ascii_case(b));
                let trusted_path = https
                    || !fp_page.false_positives.is_empty()
                    || (same_server && v05_dns != Some(DnsConsistency::Inconsistent));
                if trusted_path {
                    return label(Outcome::Unknown, Some(Layer::Http), Some(Kind::ServerSide), "canary.http.server_side",
                        format!("{host}'s own server answered {} to the probe (the control got {}): the site or its provider turned the visitor away, which is not network censorship.", r.status, ch.status));
                }
            }
            if !https {
                let diff = http_diff_with(DiffRules::V05, &probe_side(r), &control_side(ch));
                if !diff.no_diff() {
                    if v05_dns == Some(DnsConsistency::Inconsistent) {
                        return label(Outcome::Blocked, Some(Layer::Dns), Some(Kind::Inconsistent), "canary.dns.inconsistent_diff",
                            format!("The ISP's resolver sent {host} to {}, unrelated to the control's {}, and the page received differs from the real one.",
                                list_ips(&f.dns_addrs), list_ips(&f.control_addrs)));
                    }
                    return label(Outcome::Blocked, Some(Layer::Http), Some(Kind::Diff), "canary.http.diff",
                        format!("The page the probe received for {host} (status {}, {} bytes) differs from the control's (status {}, {} bytes); it was probably replaced by the network.",
                            r.status, r.body.len(), ch.status, ch.body_length));
                }
            }
        } else if !https {
            return label(Outcome::Unknown, Some(Layer::Http), None, "canary.http.no_control",
                format!("The probe received a page from {host} but there is no control page to compare it with."));
        }
        return label(
            Outcome::Ok,
            None,
            None,
            if https {
                "canary.ok.https"
            } else {
                "canary.ok.http_match"
            },
            format!(
                "{host} loaded normally (status {}){}.",
                r.status,
                if https {
                    " over a verified secure connection"
                } else {
                    ", matching the control's page"
                }
            ),
        );
    }

    if !have_control {
        return label(Outcome::Unknown, None, None, "canary.no_control",
            format!("The probe could not load {host} and there is no control result to tell blocking from an outage."));
    }

    // 8. Connection failures: TCP, then TLS, then HTTP.
    let classic = |ip: Option<IpAddr>| {
        ip.is_some_and(|ip| f.dns_addrs.contains(&ip)) || f.dns_addrs.is_empty()
    };
    // Only connections to the page's port count: a v0.5 probe also opens
    // :443 for an http:// URL just to check the addresses.
    let page_port = |port: u16| f.port.is_none_or(|p| p == port);
    let tcp_tried: Vec<&Tcp> = f
        .tcp
        .iter()
        .filter(|t| classic(t.ip) && page_port(t.port))
        .collect();
    if !tcp_tried.is_empty() && tcp_tried.iter().all(|t| !t.ok) {
        let fail = tcp_tried[0].failure.as_deref().unwrap_or("unknown");
        let kind = conn_failure_kind(fail);
        let blocked_kind = if kind == Kind::Timeout {
            Kind::Blackhole
        } else {
            kind
        };
        let control_ok = tcp_tried
            .iter()
            .any(|t| f.control_tcp.get(&t.endpoint).is_some_and(|c| c.0));
        let control_tried = tcp_tried
            .iter()
            .any(|t| f.control_tcp.contains_key(&t.endpoint));
        if control_ok {
            if v05_dns == Some(DnsConsistency::Inconsistent) {
                return label(Outcome::Blocked, Some(Layer::Dns), Some(Kind::Inconsistent), "canary.dns.inconsistent_unreachable",
                    format!("The ISP's resolver sent {host} to {}, unrelated to the control's {}, and that address could not be reached.",
                        list_ips(&f.dns_addrs), list_ips(&f.control_addrs)));
            }
            return label(Outcome::Blocked, Some(Layer::Tcp), Some(blocked_kind), "canary.tcp.failure",
                format!("Connecting to {host} at {} {} for the probe, while the control connected fine.", tcp_tried[0].endpoint, kind_phrase(blocked_kind)));
        }
        if control_tried {
            return label(Outcome::Down, Some(Layer::Tcp), Some(kind), "canary.tcp.failure_everywhere",
                format!("Connecting to {host} failed from the control network too: the site is down, not blocked."));
        }
        return label(
            Outcome::Unknown,
            Some(Layer::Tcp),
            Some(kind),
            "canary.tcp.failure_no_control",
            format!(
                "Connecting to {host} {} and the control did not test the same address.",
                kind_phrase(kind)
            ),
        );
    }

    let tls_port = |t: &Tls| split_endpoint(&t.endpoint).is_none_or(|(_, p)| page_port(p));
    let tls_tried: Vec<&Tls> = f
        .tls
        .iter()
        .filter(|t| classic(t.ip) && same_name(t) && tls_port(t))
        .collect();
    if !tls_tried.is_empty() && tls_tried.iter().all(|t| t.failure.is_some()) {
        let fail = tls_tried[0].failure.as_deref().unwrap_or("unknown");
        let kind = match conn_failure_kind(fail) {
            Kind::Other | Kind::RefusedConnection => Kind::HandshakeFailure,
            k => k,
        };
        let control_ok = tls_tried
            .iter()
            .any(|t| f.control_tls.get(&t.endpoint).is_some_and(|c| c.0))
            || (f.control_tls.is_empty()
                && f.control_http
                    .as_ref()
                    .is_some_and(|c| c.failure.is_none() && c.status > 0));
        if control_ok {
            return label(Outcome::Blocked, Some(Layer::Tls), Some(kind), "canary.tls.failure",
                format!("The secure connection to {host} {} for the probe as soon as it named the site, while the control connected fine.", kind_phrase(kind)));
        }
        // A certificate error seen by the control as well is the site's own
        // misconfiguration, not an interception.
        let kind = if kind == Kind::Interception {
            Kind::HandshakeFailure
        } else {
            kind
        };
        return label(Outcome::Down, Some(Layer::Tls), Some(kind), "canary.tls.failure_everywhere",
            format!("The secure connection to {host} failed from the control network too: the site is down, not blocked."));
    }

    if let Some(r) = f.requests.first() {
        if let Some(fail) = &r.failure {
            let mut kind = conn_failure_kind(fail);
            if kind == Kind::Timeout && (r.status > 0 || f.read_bytes > 0) {
                kind = Kind::Throttling;
            }
            if kind == Kind::Other && is_nxdomain(fail) {
                kind = Kind::Nxdomain;
            }
            let ch_ok = f
                .control_http
                .as_ref()
                .is_some_and(|c| c.failure.is_none() && c.status > 0);
            if ch_ok && kind == Kind::Reset {
                // A reset that also hits the TLS check on another port of the
                // same addresses is aimed at the connection itself, not at
                // the HTTP request's content.
                let tls_reset = f.tls.iter().any(|t| {
                    classic(t.ip)
                        && t.failure.as_deref() == Some("connection_reset")
                        && f.control_tls.get(&t.endpoint).is_none_or(|c| c.0)
                });
                if tls_reset {
                    return label(Outcome::Blocked, Some(Layer::Tcp), Some(Kind::Reset), "canary.tcp.reset_after_connect",
                        format!("Every connection the probe opened to {host} was cut off by a reset right after it was established, while the control loaded the site."));
                }
            }
            if ch_ok {
                let layer = if kind == Kind::Nxdomain {
                    Layer::Dns
                } else {
                    Layer::Http
                };
                let what = if kind == Kind::Throttling {
                    "started but slowed to a crawl and timed out".to_string()
                } else {
                    kind_phrase(kind).to_string()
                };
                return label(Outcome::Blocked, Some(layer), Some(kind), "canary.http.failure",
                    format!("Loading {host} {what} for the probe, while the control loaded it (status {}).",
                        f.control_http.as_ref().map_or(0, |c| c.status)));
            }
            return label(Outcome::Down, Some(Layer::Http), Some(kind), "canary.http.failure_everywhere",
                format!("Loading {host} failed from the control network too: the site is down, not blocked."));
        }
    }

    label(
        Outcome::Unknown,
        None,
        None,
        "canary.undecided",
        format!("The measurement of {host} does not contain enough to tell whether it is blocked."),
    )
}

/// Analyse one `web_connectivity` measurement's test keys.
pub fn analyse_web_connectivity(tk: &WebConnectivityTestKeys, ctx: &Context<'_>) -> Verdict {
    let facts = extract(tk, ctx);
    let engine = select_engine(tk, ctx);
    let o = match engine {
        Engine::OoniV05 => ooni_v05(&facts, ctx),
        e => ooni_v04(&facts, ctx, e),
    };
    let v05_dns = dns_consistency_v05(&facts, ctx);
    let l = canary_label(&facts, ctx, v05_dns);
    tracing::debug!(rule = o.rule, canary = l.rule, "web_connectivity verdict");
    Verdict {
        blocking: o.blocking,
        accessible: o.accessible,
        engine,
        dns_consistency: o.dns,
        http_diff: o.diff,
        outcome: l.outcome,
        layer: l.layer,
        kind: l.kind,
        confirmed: l.confirmed,
        fingerprint: l.fingerprint,
        explanation: l.explanation,
        rules_version: RULES_VERSION.to_string(),
        rule_ids: vec![o.rule.to_string(), l.rule.to_string()],
    }
}

/// Analyse a whole measurement: `None` unless it is a `web_connectivity`
/// measurement. The measurement's `input`, `test_version` and `probe_cc`
/// take precedence over those in `base` (which supplies the fingerprints,
/// ASN lookup, routable prefixes and chain verification results).
///
/// ```
/// use canary_analysis::fingerprints::FingerprintDb;
/// use canary_analysis::verdict::{analyse_measurement, Context, Outcome};
/// use canary_model::Measurement;
///
/// let m = Measurement::from_json_str(r#"{"test_name": "web_connectivity",
///     "test_version": "0.5.28", "input": "http://x.example/", "probe_cc": "KH",
///     "test_keys": {"queries": [{"hostname": "x.example", "engine": "getaddrinfo",
///         "failure": "dns_nxdomain_error", "answers": null}],
///       "control": {"dns": {"failure": null, "addrs": ["93.184.216.34"]}}}}"#).unwrap();
/// let db = FingerprintDb::canary_default();
/// let v = analyse_measurement(&m, &Context::new("ZZ", &db)).unwrap();
/// assert_eq!(v.outcome, Outcome::Blocked);
/// ```
pub fn analyse_measurement(m: &Measurement, base: &Context<'_>) -> Option<Verdict> {
    let tk = m.web_connectivity()?;
    let mut ctx = base.clone();
    if let Some(i) = m.input_str() {
        ctx.input = Some(i);
    }
    if let Some(v) = m.test_version.get() {
        ctx.test_version = Some(v.as_str());
    }
    if let Some(cc) = m.probe_cc.get() {
        ctx.probe_cc = cc.as_str();
    }
    Some(analyse_web_connectivity(tk, &ctx))
}
