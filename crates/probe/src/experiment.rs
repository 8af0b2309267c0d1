//! The web connectivity experiment for one URL, as a sequence of steps that
//! each append observations; the verdict is left to the [`crate::Judge`].
//!
//! 1. **DNS**, all at once: every UDP resolver (A and AAAA, listening on for
//!    late or duplicate replies), the system resolver, DoH when configured.
//! 2. **Control**: the test helper is asked, in the background, to measure the
//!    same URL and the same endpoints from outside.
//! 3. **Endpoints**: a TCP connect to every resolved address on the URL's
//!    port, and a TLS handshake with SNI = host for `https://`; for
//!    `http://` URLs also a TLS handshake on 443, which shows whether the
//!    address really serves the name. Bogon answers are never connected to.
//! 4. **Fetch**: the URL, following up to 10 redirects, each new host
//!    resolved again, the body capped.
//! 5. **Control-only addresses**: addresses only the helper resolved get
//!    endpoint measurements too (was the DNS answer the only problem?).
//! 6. **Assemble** the OONI measurement, scrub the probe's own addresses out
//!    of every field, and hand it to the judge.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use canary_model as model;
use canary_model::{Measurement, Nullable, TestKeys, WebConnectivityTestKeys};
use canary_netx as netx;
use netx::{DnsLookup, QueryType};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;
use tokio::task::JoinSet;

use crate::control;
use crate::records::Recorder;
use crate::{ProbeConfig, ProbeError, Target};

/// The failure recorded when every answer was a bogon (df-007).
pub const DNS_BOGON_ERROR: &str = "dns_bogon_error";

/// The `test_version` Canary's web connectivity writes: v0.5 semantics.
pub const TEST_VERSION: &str = "0.5.0";

/// Most network events kept per measurement.
pub const MAX_NETWORK_EVENTS: usize = 512;

/// The key of the Canary-specific control answer field carrying the probe's
/// address as the helper saw it (used for scrubbing, never recorded).
pub const X_CLIENT_IP: &str = "x_client_ip";

/// What one run shares between its measurements.
#[derive(Clone, Debug)]
pub struct RunContext {
    /// OONI report id of this run.
    pub report_id: String,
    /// When the run started (`test_start_time`).
    pub test_start_time: OffsetDateTime,
}

/// OONI's time format, `YYYY-MM-DD hh:mm:ss`, UTC.
pub fn ooni_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// An endpoint to measure: address, port, and whether to handshake TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Endpoint {
    addr: SocketAddr,
    tls: bool,
}

/// What one endpoint flow recorded.
struct Flow {
    endpoint: Endpoint,
    tcp: netx::TcpConnect,
    tls: Option<netx::TlsHandshake>,
    tags: Vec<String>,
}

/// A lookup and the tags it is recorded with.
type TaggedLookup = (DnsLookup, Vec<String>);

/// A UDP lookup still listening for late replies; its final form (with
/// them) replaces the early one when the measurement is assembled.
type Listening = tokio::task::JoinHandle<DnsLookup>;

/// DNS lookups made for one host, in priority order (system, UDP, DoH).
struct Lookups {
    lookups: Vec<TaggedLookup>,
    /// For each lookup still listening: its index in `lookups`.
    listening: Vec<(usize, Listening)>,
}

impl Lookups {
    fn empty() -> Self {
        Lookups {
            lookups: Vec::new(),
            listening: Vec::new(),
        }
    }

    fn addresses(&self) -> Vec<IpAddr> {
        let mut out: Vec<IpAddr> = Vec::new();
        for (l, _) in &self.lookups {
            for ip in l.addresses() {
                if !out.contains(&ip) {
                    out.push(ip);
                }
            }
        }
        out
    }

    /// The failure to report when no address was found: the system
    /// resolver's, else the first resolver's, else `dns_no_answer`.
    fn failure(&self) -> String {
        self.lookups
            .iter()
            .filter_map(|(l, _)| l.failure.clone())
            .next()
            .unwrap_or_else(|| netx::failure::DNS_NO_ANSWER.to_string())
    }

    /// Waits for the late-reply windows to close and returns the complete
    /// lookups.
    async fn finish(mut self) -> Vec<TaggedLookup> {
        for (i, handle) in self.listening.drain(..) {
            if let (Ok(full), Some(slot)) = (handle.await, self.lookups.get_mut(i)) {
                slot.0 = full;
            }
        }
        self.lookups
    }
}

/// One UDP lookup: returns as soon as the first reply is in, with the
/// listening task when late replies may still come.
async fn udp_lookup(
    opts: netx::Options,
    resolver: SocketAddr,
    host: String,
    qtype: QueryType,
) -> Option<(DnsLookup, Option<Listening>)> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let handle = tokio::spawn(async move {
        netx::dns::lookup_udp_early(&opts, resolver, &host, qtype, Some(tx)).await
    });
    match rx.await {
        Ok(early) => Some((early, Some(handle))),
        // No valid reply: the lookup is already over.
        Err(_) => handle.await.ok().map(|done| (done, None)),
    }
}

async fn resolve(cfg: &ProbeConfig, opts: &netx::Options, host: &str, depth: usize) -> Lookups {
    let mut set: JoinSet<Option<(usize, DnsLookup, Option<Listening>)>> = JoinSet::new();
    let mut order = 0;
    if cfg.system_resolver {
        let (o, h) = (opts.clone(), host.to_string());
        set.spawn(async move { Some((0, netx::dns::lookup_system(&o, &h).await, None)) });
    }
    for resolver in &cfg.udp_resolvers {
        for qtype in [QueryType::A, QueryType::Aaaa] {
            order += 1;
            let (o, h, r, n) = (opts.clone(), host.to_string(), *resolver, order);
            set.spawn(async move { udp_lookup(o, r, h, qtype).await.map(|(l, w)| (n, l, w)) });
        }
    }
    if let Some(doh) = &cfg.doh {
        for qtype in [QueryType::A, QueryType::Aaaa] {
            order += 1;
            let (o, h, d, n) = (opts.clone(), host.to_string(), doh.clone(), order);
            set.spawn(async move {
                let lookup = netx::dns::lookup_doh(&o, &d.url, d.server, &h, qtype).await;
                Some((n, lookup, None))
            });
        }
    }
    let mut results = Vec::new();
    while let Some(joined) = set.join_next().await {
        if let Ok(Some(r)) = joined {
            results.push(r);
        }
    }
    results.sort_by_key(|(n, _, _)| *n);
    // The "classic" lookups are those of the probe's primary resolver, the
    // one OONI's v0.4-compatible verdict reads: the system resolver when it
    // is used, else the first UDP resolver (e.g. the ISP's, given with
    // `--resolver`). OONI tags them the same way.
    let primary = usize::from(!cfg.system_resolver);
    let depth_tag = format!("depth={depth}");
    let mut out = Lookups::empty();
    for (i, (n, lookup, listening)) in results.into_iter().enumerate() {
        let mut tags = vec![depth_tag.clone()];
        if n == 0 || (primary == 1 && n <= 2) {
            tags.push("classic".to_string());
        }
        out.lookups.push((lookup, tags));
        if let Some(handle) = listening {
            out.listening.push((i, handle));
        }
    }
    out
}

async fn run_flows(
    opts: &netx::Options,
    host: &str,
    endpoints: Vec<(Endpoint, Vec<String>)>,
) -> Vec<Flow> {
    let mut set = JoinSet::new();
    for (i, (endpoint, tags)) in endpoints.into_iter().enumerate() {
        let (o, sni) = (opts.clone(), host.to_string());
        set.spawn(async move {
            let (tcp, stream) = netx::tcp::connect(&o, endpoint.addr).await;
            let mut tls = None;
            if let (true, Some(stream)) = (endpoint.tls, stream) {
                let (record, _stream) =
                    netx::tls::handshake(&o, stream, &sni, netx::tls::DEFAULT_ALPN).await;
                tls = Some(record);
            }
            (
                i,
                Flow {
                    endpoint,
                    tcp,
                    tls,
                    tags,
                },
            )
        });
    }
    let mut flows = Vec::new();
    while let Some(joined) = set.join_next().await {
        if let Ok(f) = joined {
            flows.push(f);
        }
    }
    flows.sort_by_key(|(i, _)| *i);
    flows.into_iter().map(|(_, f)| f).collect()
}

/// The endpoints of `addrs` for `url`: the URL's port (TLS for https), and
/// for plain-http URLs on the default port, a TLS check on 443 too.
fn endpoints_for(
    url: &url::Url,
    addrs: &[IpAddr],
    tags: &[String],
) -> Vec<(Endpoint, Vec<String>)> {
    let https = url.scheme() == "https";
    let port = url
        .port_or_known_default()
        .unwrap_or(if https { 443 } else { 80 });
    let mut out = Vec::new();
    for ip in addrs {
        out.push((
            Endpoint {
                addr: SocketAddr::new(*ip, port),
                tls: https,
            },
            tags.to_vec(),
        ));
        if !https && url.port().is_none() {
            let mut t = tags.to_vec();
            t.push("tls_validation".into());
            out.push((
                Endpoint {
                    addr: SocketAddr::new(*ip, 443),
                    tls: true,
                },
                t,
            ));
        }
    }
    out
}

/// Measures one URL. Network failures are recorded in the measurement; an
/// error is returned only when the URL cannot be measured at all.
pub async fn measure(
    cfg: &ProbeConfig,
    run: &RunContext,
    target: &Target,
) -> Result<Measurement, ProbeError> {
    let url = url::Url::parse(&target.url)
        .map_err(|e| ProbeError::Url(format!("{}: {e}", target.url)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ProbeError::Url(format!(
            "{}: not http or https",
            target.url
        )));
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.to_string(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(ProbeError::Url(format!("{}: no host", target.url))),
    };
    let started_at = OffsetDateTime::now_utc();
    let mut opts = cfg.net.clone();
    opts.zero = Instant::now();
    let headers = cfg.request_headers();

    // 1. DNS.
    let literal: Option<IpAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        _ => None,
    };
    let first = match literal {
        Some(_) => Lookups::empty(),
        None => resolve(cfg, &opts, &host, 0).await,
    };
    let t_dns = opts.now();
    let mut resolved = match literal {
        Some(ip) => vec![ip],
        None => first.addresses(),
    };
    resolved.truncate(cfg.max_addresses);
    let reachable: Vec<IpAddr> = resolved
        .iter()
        .copied()
        .filter(|ip| !cfg.bogons.is_bogon(*ip))
        .collect();

    // 2. Control, in the background.
    let depth0 = vec!["depth=0".to_string(), "fetch_body=false".to_string()];
    let endpoints = endpoints_for(&url, &reachable, &depth0);
    let endpoint_strings: Vec<String> = endpoints.iter().map(|(e, _)| e.addr.to_string()).collect();
    let control_request = control::request(url.as_str(), &headers, &endpoint_strings);
    let control_task = cfg.helper.clone().map(|helper| {
        let req = control_request.clone();
        tokio::spawn(async move {
            let t0 = Instant::now();
            let result = control::ask(&helper, &req).await;
            (result, t0.elapsed().as_secs_f64())
        })
    });

    // 3. Endpoints.
    let mut flows = run_flows(&opts, &host, endpoints).await;
    let t_flows = opts.now();

    // 4. Fetch. The first hop goes only to addresses whose endpoint flow
    // worked on the URL's port (TCP for http, verified TLS for https): the
    // others already failed and recorded why, and trying them again would
    // only wait out the same timeouts twice. Later hops resolve anew.
    let port = url.port_or_known_default().unwrap_or(80);
    let https = url.scheme() == "https";
    let on_port: Vec<&Flow> = flows
        .iter()
        .filter(|f| f.endpoint.addr.port() == port && f.endpoint.tls == https)
        .collect();
    let first_hop: Vec<IpAddr> = on_port
        .iter()
        .filter(|f| match (&f.tls, https) {
            (Some(tls), true) => tls.success(),
            (_, false) => f.tcp.success(),
            (None, true) => false,
        })
        .map(|f| f.endpoint.addr.ip())
        .collect();
    let first_failure = if resolved.is_empty() {
        first.failure()
    } else if reachable.is_empty() {
        DNS_BOGON_ERROR.to_string()
    } else {
        on_port
            .iter()
            .find_map(|f| {
                f.tcp
                    .failure
                    .clone()
                    .or_else(|| f.tls.as_ref().and_then(|t| t.failure.clone()))
            })
            .unwrap_or_else(|| netx::failure::GENERIC_TIMEOUT.to_string())
    };
    let hop_lookups: Arc<Mutex<Vec<Lookups>>> = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::new(Mutex::new(0usize));
    let original_host = host.clone();
    let fetch = {
        let hop_lookups = hop_lookups.clone();
        let calls = calls.clone();
        let first_hop = first_hop.clone();
        let first_failure = first_failure.clone();
        let opts_for_hops = opts.clone();
        netx::fetch(&opts, &url, &headers, move |name: String| {
            let hop_lookups = hop_lookups.clone();
            let calls = calls.clone();
            let first_hop = first_hop.clone();
            let first_failure = first_failure.clone();
            let original_host = original_host.clone();
            let opts = opts_for_hops.clone();
            async move {
                let depth = {
                    let mut n = calls.lock().unwrap_or_else(|p| p.into_inner());
                    *n += 1;
                    *n - 1
                };
                if depth == 0 && name == original_host {
                    return if first_hop.is_empty() {
                        Err(first_failure)
                    } else {
                        Ok(first_hop)
                    };
                }
                let lookups = resolve(cfg, &opts, &name, depth.max(1)).await;
                let addrs: Vec<IpAddr> = lookups
                    .addresses()
                    .into_iter()
                    .filter(|ip| !cfg.bogons.is_bogon(*ip))
                    .take(cfg.max_addresses)
                    .collect();
                let failure = lookups.failure();
                let had_any = !lookups.addresses().is_empty();
                hop_lookups
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(lookups);
                match (addrs.is_empty(), had_any) {
                    (false, _) => Ok(addrs),
                    (true, true) => Err(DNS_BOGON_ERROR.to_string()),
                    (true, false) => Err(failure),
                }
            }
        })
        .await
    };
    let t_fetch = opts.now();

    // 5. Control answer, and endpoints only the helper resolved.
    let (control, th_runtime) = match control_task {
        Some(task) => match task.await {
            Ok((result, secs)) => (Some(result), Some(secs)),
            Err(_) => (
                Some(Err("unknown_failure: control task failed".into())),
                None,
            ),
        },
        None => (None, None),
    };
    if let Some(Ok(resp)) = &control {
        let th_only: Vec<IpAddr> = resp
            .dns
            .get()
            .and_then(|d| d.addrs.get())
            .into_iter()
            .flatten()
            .filter_map(|a| a.parse::<IpAddr>().ok())
            .filter(|ip| !resolved.contains(ip) && !cfg.bogons.is_bogon(*ip))
            .take(cfg.max_addresses)
            .collect();
        if !th_only.is_empty() {
            let tags = vec![
                "depth=0".to_string(),
                "fetch_body=false".to_string(),
                "th_only".to_string(),
            ];
            flows.extend(run_flows(&opts, &host, endpoints_for(&url, &th_only, &tags)).await);
        }
    }
    let runtime = opts.now();

    // 6. Assemble.
    let mut own: Vec<String> = cfg.own_addresses.iter().map(ToString::to_string).collect();
    if let Some(bind) = cfg.net.bind {
        own.push(bind.to_string());
    }
    // The helper tells the probe its public address: it is scrubbed, and,
    // with an ASN table, names the network the probe measures from when the
    // operator did not say.
    let mut seen_as: Option<IpAddr> = None;
    let control = control.map(|r| {
        r.map(|mut resp| {
            if let Some(Value::String(ip)) = resp.extra.remove(X_CLIENT_IP) {
                seen_as = ip.parse().ok();
                // 127.0.0.1 is what OONI publishes as every probe's address
                // (a probe and a helper on one machine): nothing to hide, and
                // scrubbing it would erase real loopback answers.
                if ip != "127.0.0.1" {
                    own.push(ip);
                }
            }
            resp
        })
    });
    let (mut probe_asn, mut probe_cc, mut probe_network_name) = (
        cfg.probe_asn.clone(),
        cfg.probe_cc.clone(),
        cfg.probe_network_name.clone(),
    );
    if let (Some(ip), Some(db)) = (seen_as, &cfg.asn_db) {
        if let Some(network) = db.lookup(ip) {
            if probe_asn == "AS0" {
                probe_asn = format!("AS{}", network.asn);
                probe_network_name = probe_network_name.or_else(|| Some(network.name.clone()));
            }
            if probe_cc == "ZZ" && network.country.len() == 2 {
                probe_cc = network.country.to_ascii_uppercase();
            }
        }
    }
    let rec = Recorder::new(cfg.asn_db.clone());
    let scrubber = netx::Scrubber::new(own);

    let mut tk = WebConnectivityTestKeys {
        agent: "redirect".to_string().into(),
        client_resolver: Nullable::Null,
        retries: Nullable::Null,
        socksproxy: Nullable::Null,
        ..Default::default()
    };
    let mut queries = Vec::new();
    let mut duplicates = Vec::new();
    let mut events = Vec::new();
    // The late-reply windows have been listening all along; collect them.
    let hops: Vec<Lookups> =
        std::mem::take(&mut *hop_lookups.lock().unwrap_or_else(|p| p.into_inner()));
    let dns_failure = first.failure();
    let mut all_lookups = first.finish().await;
    for hop in hops {
        all_lookups.extend(hop.finish().await);
    }
    for (lookup, tags) in &all_lookups {
        queries.push(rec.dns(lookup, tags));
        duplicates.extend(rec.late_replies(lookup, tags));
        events.extend(lookup.events.iter().map(|e| rec.event(e, tags)));
    }
    let mut tcp = Vec::new();
    let mut tls = Vec::new();
    for flow in &flows {
        tcp.push(rec.tcp(&flow.tcp, &flow.tags));
        events.push(rec.event(&flow.tcp.event, &flow.tags));
        if let Some(h) = &flow.tls {
            tls.push(rec.tls(h, &flow.tags));
            events.extend(h.events.iter().map(|e| rec.event(e, &flow.tags)));
        }
    }
    let fetch_tags = vec!["fetch_body=true".to_string()];
    for c in &fetch.tcp_connect {
        tcp.push(rec.tcp(c, &fetch_tags));
        events.push(rec.event(&c.event, &fetch_tags));
    }
    for h in &fetch.tls_handshakes {
        tls.push(rec.tls(h, &fetch_tags));
        events.extend(h.events.iter().map(|e| rec.event(e, &fetch_tags)));
    }
    // Only round trips that were sent are HTTP records (as in OONI's v0.5):
    // a hop that failed at DNS, TCP or TLS is already recorded there, and
    // its failure is the fetch's `http_experiment_failure`.
    let requests: Vec<model::HttpTransaction> = fetch
        .requests
        .iter()
        .filter(|tx| tx.address.is_some())
        .map(|tx| {
            events.extend(tx.events.iter().map(|e| rec.event(e, &fetch_tags)));
            rec.http(tx, &fetch_tags)
        })
        .collect();
    events.sort_by(|a, b| {
        let t = |e: &model::NetworkEvent| {
            e.t.get()
                .and_then(serde_json::Number::as_f64)
                .unwrap_or(0.0)
        };
        t(a).total_cmp(&t(b))
    });
    events.truncate(MAX_NETWORK_EVENTS);

    tk.queries = queries.into();
    tk.x_dns_duplicate_responses = duplicates.into();
    tk.tcp_connect = tcp.into();
    tk.tls_handshakes = tls.into();
    tk.network_events = events.into();
    tk.requests = requests.into();
    tk.x_control_request = control_request.into();
    match control {
        Some(Ok(resp)) => {
            tk.control = resp.into();
            tk.control_failure = Nullable::Null;
        }
        Some(Err(failure)) => {
            tk.control = Nullable::Null;
            tk.control_failure = Nullable::Present(model::Failure::from(failure.as_str()));
        }
        None => {
            tk.control = Nullable::Null;
            tk.control_failure = Nullable::Present(model::Failure::from(
                "unknown_failure: no test helper configured",
            ));
        }
    }
    tk.dns_experiment_failure = match (&literal, resolved.is_empty()) {
        (None, true) => Nullable::Present(model::Failure::from(dns_failure.as_str())),
        _ => Nullable::Null,
    };
    tk.http_experiment_failure = match &fetch.failure {
        Some(f) => Nullable::Present(model::Failure::from(f.as_str())),
        None => Nullable::Null,
    };
    tk.x_dns_runtime = num(t_dns);
    tk.x_tcptls_runtime = num(t_flows - t_dns);
    tk.x_http_runtime = num(t_fetch - t_flows);
    if let Some(secs) = th_runtime {
        tk.x_th_runtime = num(secs);
    }

    let mut annotations = std::collections::BTreeMap::new();
    annotations.insert("engine_name".to_string(), "canary".to_string());
    annotations.insert(
        "engine_version".to_string(),
        env!("CARGO_PKG_VERSION").to_string(),
    );
    annotations.insert("platform".to_string(), std::env::consts::OS.to_string());
    annotations.insert(
        "architecture".to_string(),
        std::env::consts::ARCH.to_string(),
    );
    if let Some(cat) = &target.category_code {
        annotations.insert("category_code".to_string(), cat.clone());
    }
    let mut test_helpers = Map::new();
    if let Some(h) = &cfg.helper {
        test_helpers.insert(
            "backend".into(),
            json!({"address": h.url.as_str(), "type": "https"}),
        );
    }
    let mut m = Measurement {
        annotations: annotations.into(),
        data_format_version: "0.2.0".to_string().into(),
        input: model::Input::Single(target.url.clone()).into(),
        measurement_start_time: ooni_time(started_at).into(),
        probe_asn: probe_asn.into(),
        probe_cc: probe_cc.into(),
        probe_ip: "127.0.0.1".to_string().into(),
        probe_network_name: probe_network_name.into(),
        report_id: run.report_id.clone().into(),
        software_name: "canary".to_string().into(),
        software_version: env!("CARGO_PKG_VERSION").to_string().into(),
        test_helpers: test_helpers.into(),
        test_keys: TestKeys::WebConnectivity(Box::new(tk)).into(),
        test_name: "web_connectivity".to_string().into(),
        test_runtime: num(runtime),
        test_start_time: ooni_time(run.test_start_time).into(),
        test_version: TEST_VERSION.to_string().into(),
        ..Default::default()
    };
    cfg.judge.judge(&mut m);
    scrub_all(&mut m, &scrubber)?;
    Ok(m)
}

fn num(x: f64) -> Nullable<serde_json::Number> {
    let rounded = (x * 1e6).round() / 1e6;
    serde_json::Number::from_f64(rounded).map_or(Nullable::Null, Nullable::Present)
}

/// The last line of defence: every string of the whole measurement is
/// scrubbed, then `probe_ip` is set to OONI's placeholder.
fn scrub_all(m: &mut Measurement, scrubber: &netx::Scrubber) -> Result<(), ProbeError> {
    if scrubber.is_empty() {
        return Ok(());
    }
    let mut value = m
        .to_value()
        .map_err(|e| ProbeError::Internal(e.to_string()))?;
    scrubber.scrub_json(&mut value);
    let mut scrubbed =
        Measurement::from_value(value).map_err(|e| ProbeError::Internal(e.to_string()))?;
    scrubbed.probe_ip = "127.0.0.1".to_string().into();
    *m = scrubbed;
    Ok(())
}
