//! Answering one control request: resolve, connect, handshake and fetch from
//! the helper's (uncensored) vantage, as OONI's test helper does.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use canary_model::{
    ControlDns, ControlHttpRequest, ControlIpInfo, ControlRequest, ControlResponse,
    ControlTcpConnect, ControlTlsHandshake, Failure, HeaderValue, Nullable,
};
use canary_netx as netx;
use serde_json::Value;
use sha2::Digest;
use tokio::task::JoinSet;

use crate::{HelperError, ServerConfig};

/// `ip_info` flag: the probe resolved this address.
pub const FLAG_RESOLVED_BY_PROBE: i64 = 1;
/// `ip_info` flag: the helper resolved this address.
pub const FLAG_RESOLVED_BY_HELPER: i64 = 2;
/// `ip_info` flag: the address is a bogon.
pub const FLAG_BOGON: i64 = 4;
/// `ip_info` flag: a TLS handshake for the name succeeded on this address.
pub const FLAG_VALID_FOR_DOMAIN: i64 = 8;

/// Headers copied from the probe's request (OONI copies only these).
const COPIED_HEADERS: &[&str] = &["user-agent", "accept", "accept-language"];

/// A validated control request.
struct Job {
    url: url::Url,
    host: String,
    literal: Option<IpAddr>,
    headers: Vec<(String, String)>,
    probe_endpoints: Vec<SocketAddr>,
}

fn validate(cfg: &ServerConfig, req: &ControlRequest) -> Result<Job, HelperError> {
    let raw = req
        .http_request
        .get()
        .ok_or_else(|| HelperError::BadRequest("http_request is missing".into()))?;
    let url = url::Url::parse(raw)
        .map_err(|e| HelperError::BadRequest(format!("http_request is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(HelperError::BadRequest(
            "http_request must be http or https".into(),
        ));
    }
    let (host, literal) = match url.host() {
        Some(url::Host::Domain(d)) => (d.to_string(), None),
        Some(url::Host::Ipv4(ip)) => (ip.to_string(), Some(IpAddr::V4(ip))),
        Some(url::Host::Ipv6(ip)) => (ip.to_string(), Some(IpAddr::V6(ip))),
        None => return Err(HelperError::BadRequest("http_request has no host".into())),
    };
    let mut headers = Vec::new();
    for (name, values) in req.http_request_headers.get().into_iter().flatten() {
        if COPIED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            if let Some(v) = values.first() {
                if v.len() <= 1024 {
                    headers.push((name.clone(), v.clone()));
                }
            }
        }
    }
    let endpoints = req.tcp_connect.get().map_or(&[][..], Vec::as_slice);
    if endpoints.len() > cfg.max_endpoints {
        return Err(HelperError::BadRequest(format!(
            "too many tcp_connect endpoints: {} (at most {})",
            endpoints.len(),
            cfg.max_endpoints
        )));
    }
    let probe_endpoints = endpoints
        .iter()
        .map(|e| {
            e.parse::<SocketAddr>()
                .map_err(|_| HelperError::BadRequest(format!("`{e}` is not an ip:port")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Job {
        url,
        host,
        literal,
        headers,
        probe_endpoints,
    })
}

/// OONI's helper maps resolver failures to its own small vocabulary.
fn control_dns_failure(failure: &str) -> Option<String> {
    match failure {
        netx::failure::DNS_NXDOMAIN => Some("dns_name_error".into()),
        netx::failure::DNS_REFUSED | netx::failure::DNS_SERVFAIL => {
            Some("dns_server_failure".into())
        }
        netx::failure::DNS_NO_ANSWER => None,
        _ => Some("unknown_error".into()),
    }
}

/// Resolves `host` with the helper's resolver: A and AAAA over UDP, or DoH,
/// or the system resolver. Returns the addresses and the control failure.
async fn resolve(
    cfg: &ServerConfig,
    opts: &netx::Options,
    host: &str,
) -> (Vec<IpAddr>, Option<String>) {
    let lookups: Vec<netx::DnsLookup> = match &cfg.resolver {
        crate::Resolver::Udp(addr) => {
            let (a, aaaa) = tokio::join!(
                netx::dns::lookup_udp(opts, *addr, host, netx::QueryType::A),
                netx::dns::lookup_udp(opts, *addr, host, netx::QueryType::Aaaa)
            );
            vec![a, aaaa]
        }
        crate::Resolver::Doh { url, server } => {
            let (a, aaaa) = tokio::join!(
                netx::dns::lookup_doh(opts, url, *server, host, netx::QueryType::A),
                netx::dns::lookup_doh(opts, url, *server, host, netx::QueryType::Aaaa)
            );
            vec![a, aaaa]
        }
        crate::Resolver::System => vec![netx::dns::lookup_system(opts, host).await],
    };
    let mut addrs: Vec<IpAddr> = Vec::new();
    for l in &lookups {
        for ip in l.addresses() {
            if !addrs.contains(&ip) {
                addrs.push(ip);
            }
        }
    }
    if !addrs.is_empty() {
        return (addrs, None);
    }
    // Every lookup failed or came back empty: the first failure speaks.
    let failure = lookups.iter().find_map(|l| l.failure.clone());
    (addrs, failure.and_then(|f| control_dns_failure(&f)))
}

/// What measuring one endpoint found.
struct EndpointResult {
    addr: SocketAddr,
    tcp: ControlTcpConnect,
    tls: Option<(ControlTlsHandshake, bool)>,
}

fn failure_of(f: &Option<String>) -> Nullable<Failure> {
    match f {
        Some(s) => Nullable::Present(Failure::from(s.as_str())),
        None => Nullable::Null,
    }
}

async fn measure_endpoint(
    opts: netx::Options,
    addr: SocketAddr,
    sni: String,
    tls: bool,
) -> EndpointResult {
    let (tcp, stream) = netx::tcp::connect(&opts, addr).await;
    let tcp_record = ControlTcpConnect {
        status: tcp.success().into(),
        failure: failure_of(&tcp.failure),
        ..Default::default()
    };
    let tls_record = match (tls, stream) {
        (true, Some(stream)) => {
            let (h, _stream) =
                netx::tls::handshake(&opts, stream, &sni, netx::tls::DEFAULT_ALPN).await;
            let mut rec = ControlTlsHandshake {
                server_name: sni.clone().into(),
                status: h.success().into(),
                failure: failure_of(&h.failure),
                ..Default::default()
            };
            if let Some(spki) = &h.leaf_spki_sha256 {
                rec.extra
                    .insert("x_spki_sha256".into(), Value::String(spki.clone()));
            }
            Some((rec, h.success()))
        }
        (true, None) => Some((
            ControlTlsHandshake {
                server_name: sni.into(),
                status: false.into(),
                failure: failure_of(&tcp.failure),
                ..Default::default()
            },
            false,
        )),
        (false, _) => None,
    };
    EndpointResult {
        addr,
        tcp: tcp_record,
        tls: tls_record,
    }
}

/// Answers one control request. `client` is the address the request came
/// from: it is echoed back as `x_client_ip` (so the probe can scrub it from
/// its own records) and never logged or kept.
pub async fn answer(
    cfg: &ServerConfig,
    request: &ControlRequest,
    client: Option<IpAddr>,
) -> Result<ControlResponse, HelperError> {
    let job = validate(cfg, request)?;
    let mut opts = cfg.net.clone();
    opts.zero = Instant::now();
    // The control needs the answer, not evidence of injection on its own
    // path: no listening for late replies.
    opts.dns_late_window = std::time::Duration::ZERO;

    // DNS.
    let (th_addrs, dns_failure) = match job.literal {
        Some(ip) => (vec![ip], None),
        None => resolve(cfg, &opts, &job.host).await,
    };

    // Endpoints: the probe's, plus the helper's own addresses on the URL's
    // port (and 443 for plain-http URLs on the default port, like OONI).
    let https = job.url.scheme() == "https";
    let port = job.url.port_or_known_default().unwrap_or(80);
    let mut endpoints: BTreeSet<SocketAddr> = job.probe_endpoints.iter().copied().collect();
    for ip in &th_addrs {
        endpoints.insert(SocketAddr::new(*ip, port));
        if !https && job.url.port().is_none() {
            endpoints.insert(SocketAddr::new(*ip, 443));
        }
    }
    let mut set = JoinSet::new();
    for addr in endpoints.iter().copied().take(cfg.max_endpoints) {
        if cfg.bogons.is_bogon(addr.ip()) {
            // Never connect to private, loopback or reserved addresses that
            // were not declared routable: the helper is no open proxy.
            continue;
        }
        let tls = addr.port() == 443 || (https && addr.port() == port);
        set.spawn(measure_endpoint(opts.clone(), addr, job.host.clone(), tls));
    }

    // HTTP, in parallel with the endpoints.
    let fetch = async {
        if let Some(ip) = job.literal {
            if cfg.bogons.is_bogon(ip) {
                return Err(
                    "unknown_failure: the helper does not connect to this address".to_string(),
                );
            }
        }
        let th_for_fetch: Vec<IpAddr> = th_addrs
            .iter()
            .copied()
            .filter(|ip| !cfg.bogons.is_bogon(*ip))
            .collect();
        let first_host = job.host.clone();
        let dns_failure_for_fetch = dns_failure.clone();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let outcome = netx::fetch(&opts, &job.url, &job.headers, |name: String| {
            let first = calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 0;
            let th_for_fetch = th_for_fetch.clone();
            let first_host = first_host.clone();
            let dns_failure = dns_failure_for_fetch.clone();
            let opts = opts.clone();
            async move {
                let addrs = if first && name == first_host {
                    if th_for_fetch.is_empty() {
                        return Err(
                            dns_failure.unwrap_or_else(|| netx::failure::DNS_NO_ANSWER.to_string())
                        );
                    }
                    th_for_fetch
                } else {
                    let (addrs, failure) = resolve(cfg, &opts, &name).await;
                    let ok: Vec<IpAddr> = addrs
                        .into_iter()
                        .filter(|ip| !cfg.bogons.is_bogon(*ip))
                        .collect();
                    if ok.is_empty() {
                        return Err(
                            failure.unwrap_or_else(|| netx::failure::DNS_NO_ANSWER.to_string())
                        );
                    }
                    ok
                };
                Ok(addrs)
            }
        })
        .await;
        Ok(outcome)
    };
    let (fetch, mut results) = tokio::join!(fetch, async {
        let mut out = Vec::new();
        while let Some(r) = set.join_next().await {
            if let Ok(r) = r {
                out.push(r);
            }
        }
        out
    });
    results.sort_by_key(|r| r.addr);

    // Assemble.
    let mut tcp_connect = BTreeMap::new();
    let mut tls_handshake = BTreeMap::new();
    let mut valid_ips: BTreeSet<IpAddr> = BTreeSet::new();
    for r in results {
        tcp_connect.insert(r.addr.to_string(), r.tcp);
        if let Some((rec, ok)) = r.tls {
            if ok {
                valid_ips.insert(r.addr.ip());
            }
            tls_handshake.insert(r.addr.to_string(), rec);
        }
    }
    let http_request = match fetch {
        Err(failure) => ControlHttpRequest {
            body_length: (-1).into(),
            failure: Nullable::Present(Failure::from(failure.as_str())),
            title: String::new().into(),
            headers: BTreeMap::new().into(),
            status_code: (-1).into(),
            ..Default::default()
        },
        Ok(outcome) => http_record(&outcome),
    };
    let mut ip_info = BTreeMap::new();
    let probe_ips: BTreeSet<IpAddr> = job.probe_endpoints.iter().map(SocketAddr::ip).collect();
    let all_ips: BTreeSet<IpAddr> = probe_ips.iter().chain(th_addrs.iter()).copied().collect();
    for ip in all_ips {
        let mut flags = 0;
        if probe_ips.contains(&ip) {
            flags |= FLAG_RESOLVED_BY_PROBE;
        }
        if th_addrs.contains(&ip) {
            flags |= FLAG_RESOLVED_BY_HELPER;
        }
        if cfg.bogons.is_bogon(ip) {
            flags |= FLAG_BOGON;
        }
        if valid_ips.contains(&ip) {
            flags |= FLAG_VALID_FOR_DOMAIN;
        }
        let asn = cfg.asn_db.as_ref().map_or(0, |db| db.asn(ip));
        ip_info.insert(
            ip.to_string(),
            ControlIpInfo {
                asn: asn.into(),
                flags: flags.into(),
                ..Default::default()
            },
        );
    }
    let mut response = ControlResponse {
        dns: ControlDns {
            failure: match &dns_failure {
                Some(f) => Nullable::Present(Failure::from(f.as_str())),
                None => Nullable::Null,
            },
            addrs: th_addrs
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .into(),
            ..Default::default()
        }
        .into(),
        tcp_connect: tcp_connect.into(),
        tls_handshake: tls_handshake.into(),
        quic_handshake: BTreeMap::new().into(),
        http_request: http_request.into(),
        http3_request: Nullable::Null,
        ip_info: ip_info.into(),
        ..Default::default()
    };
    if let Some(ip) = client {
        response
            .extra
            .insert(crate::X_CLIENT_IP.into(), Value::String(ip.to_string()));
    }
    Ok(response)
}

fn http_record(outcome: &netx::FetchOutcome) -> ControlHttpRequest {
    let Some(last) = outcome.last() else {
        return ControlHttpRequest {
            body_length: (-1).into(),
            failure: Nullable::Present(Failure::from("unknown_failure: no request made")),
            status_code: (-1).into(),
            ..Default::default()
        };
    };
    match (&outcome.failure, last.status) {
        (None, Some(status)) => {
            let mut headers: BTreeMap<String, HeaderValue> = BTreeMap::new();
            for (k, v) in &last.response_headers {
                headers
                    .entry(k.clone())
                    .or_insert_with(|| HeaderValue::from(v.as_str()));
            }
            let mut rec = ControlHttpRequest {
                body_length: i64::try_from(last.body.len()).unwrap_or(i64::MAX).into(),
                discovered_h3_endpoint: String::new().into(),
                failure: Nullable::Null,
                title: canary_analysis::httpdiff::extract_title(&last.body).into(),
                headers: headers.into(),
                status_code: i64::from(status).into(),
                ..Default::default()
            };
            rec.extra.insert(
                "x_body_sha256".into(),
                Value::String(hex::encode(sha2::Sha256::digest(&last.body))),
            );
            rec.extra.insert(
                "x_body_is_truncated".into(),
                Value::Bool(last.body_is_truncated),
            );
            rec.extra.insert(
                "x_final_url".into(),
                Value::String(last.request.url.to_string()),
            );
            rec
        }
        (failure, _) => ControlHttpRequest {
            body_length: (-1).into(),
            discovered_h3_endpoint: String::new().into(),
            failure: Nullable::Present(Failure::from(
                failure.as_deref().unwrap_or("unknown_failure: no response"),
            )),
            title: String::new().into(),
            headers: BTreeMap::new().into(),
            status_code: (-1).into(),
            ..Default::default()
        },
    }
}
