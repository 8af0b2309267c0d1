//! What the social experiments share: resolving, connecting, fetching and
//! posting with the probe's settings, recording every step with its
//! endpoint tag, and assembling the scrubbed measurement.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use canary_model::{self as model, Measurement, Nullable, TestKeys};
use canary_netx as netx;
use canary_social::records::ENDPOINT_TAG;
use canary_social::restriction::{extract_title, PageView};
use netx::{DnsLookup, QueryType};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::experiment::{ooni_time, RunContext, MAX_NETWORK_EVENTS};
use crate::records::Recorder;
use crate::{ProbeConfig, ProbeError};

/// Most addresses connected to per endpoint before giving up.
const MAX_CONNECT_ATTEMPTS: usize = 3;

/// One experiment in progress: the configuration, the measurement clock,
/// and the records so far (each with its tags).
pub struct SocialRun {
    cfg: ProbeConfig,
    opts: netx::Options,
    started_at: OffsetDateTime,
    lookups: Vec<(DnsLookup, Vec<String>)>,
    tcp: Vec<(netx::TcpConnect, Vec<String>)>,
    tls: Vec<(netx::TlsHandshake, Vec<String>)>,
    http: Vec<(netx::HttpTransaction, Vec<String>)>,
    own: Vec<String>,
}

fn tags(endpoint: &str) -> Vec<String> {
    vec![format!("{ENDPOINT_TAG}{endpoint}")]
}

/// Resolves `host` with the probe's resolvers (UDP A and AAAA, the system
/// resolver when enabled, DoH when configured).
async fn lookups(cfg: &ProbeConfig, opts: &netx::Options, host: &str) -> Vec<DnsLookup> {
    let mut set = tokio::task::JoinSet::new();
    if cfg.system_resolver {
        let (o, h) = (opts.clone(), host.to_string());
        set.spawn(async move { (0usize, netx::dns::lookup_system(&o, &h).await) });
    }
    let mut order = 0;
    for resolver in &cfg.udp_resolvers {
        for qtype in [QueryType::A, QueryType::Aaaa] {
            order += 1;
            let (o, h, r, n) = (opts.clone(), host.to_string(), *resolver, order);
            set.spawn(async move { (n, netx::dns::lookup_udp(&o, r, &h, qtype).await) });
        }
    }
    if let Some(doh) = &cfg.doh {
        for qtype in [QueryType::A, QueryType::Aaaa] {
            order += 1;
            let (o, h, d, n) = (opts.clone(), host.to_string(), doh.clone(), order);
            set.spawn(async move {
                (
                    n,
                    netx::dns::lookup_doh(&o, &d.url, d.server, &h, qtype).await,
                )
            });
        }
    }
    let mut out = Vec::new();
    while let Some(done) = set.join_next().await {
        if let Ok(r) = done {
            out.push(r);
        }
    }
    out.sort_by_key(|(n, _)| *n);
    out.into_iter().map(|(_, l)| l).collect()
}

fn usable(cfg: &ProbeConfig, found: &[DnsLookup]) -> (Vec<IpAddr>, Option<String>) {
    let mut all: Vec<IpAddr> = Vec::new();
    for l in found {
        for ip in l.addresses() {
            if !all.contains(&ip) {
                all.push(ip);
            }
        }
    }
    let good: Vec<IpAddr> = all
        .iter()
        .copied()
        .filter(|ip| !cfg.bogons.is_bogon(*ip))
        .take(cfg.max_addresses)
        .collect();
    let failure = if good.is_empty() {
        Some(if all.is_empty() {
            found
                .iter()
                .find_map(|l| l.failure.clone())
                .unwrap_or_else(|| netx::failure::DNS_NO_ANSWER.to_string())
        } else {
            crate::experiment::DNS_BOGON_ERROR.to_string()
        })
    } else {
        None
    };
    (good, failure)
}

impl SocialRun {
    /// Starts an experiment: the clock starts now.
    pub fn start(cfg: &ProbeConfig) -> Self {
        let mut opts = cfg.net.clone();
        opts.zero = Instant::now();
        let mut own: Vec<String> = cfg.own_addresses.iter().map(ToString::to_string).collect();
        if let Some(bind) = cfg.net.bind {
            own.push(bind.to_string());
        }
        SocialRun {
            cfg: cfg.clone(),
            opts,
            started_at: OffsetDateTime::now_utc(),
            lookups: Vec::new(),
            tcp: Vec::new(),
            tls: Vec::new(),
            http: Vec::new(),
            own,
        }
    }

    /// The same experiment (clock, settings) with no records, for a task.
    pub fn clone_for_task(&self) -> Self {
        SocialRun {
            cfg: self.cfg.clone(),
            opts: self.opts.clone(),
            started_at: self.started_at,
            lookups: Vec::new(),
            tcp: Vec::new(),
            tls: Vec::new(),
            http: Vec::new(),
            own: self.own.clone(),
        }
    }

    /// Takes a task's records.
    pub fn absorb(&mut self, other: SocialRun) {
        self.lookups.extend(other.lookups);
        self.tcp.extend(other.tcp);
        self.tls.extend(other.tls);
        self.http.extend(other.http);
        for a in other.own {
            if !self.own.contains(&a) {
                self.own.push(a);
            }
        }
    }

    /// An address of this machine to scrub (e.g. as the helper saw it).
    pub fn add_own_address(&mut self, ip: String) {
        self.own.push(ip);
    }

    /// Resolves `host` for `endpoint`; returns the usable (non-bogon) addresses.
    pub async fn resolve(&mut self, endpoint: &str, host: &str) -> Vec<IpAddr> {
        let found = lookups(&self.cfg, &self.opts, host).await;
        let (good, _) = usable(&self.cfg, &found);
        let t = tags(endpoint);
        self.lookups
            .extend(found.into_iter().map(|l| (l, t.clone())));
        good
    }

    /// Connects to `port` on the addresses in turn until one works.
    pub async fn connect_any(&mut self, endpoint: &str, ips: &[IpAddr], port: u16) -> bool {
        for ip in ips.iter().take(MAX_CONNECT_ATTEMPTS) {
            let (rec, stream) = netx::tcp::connect(&self.opts, SocketAddr::new(*ip, port)).await;
            drop(stream);
            let ok = rec.success();
            self.tcp.push((rec, tags(endpoint)));
            if ok {
                return true;
            }
        }
        false
    }

    /// GETs `url` following redirects; every hop resolved and recorded.
    pub async fn get(&mut self, endpoint: &str, url: &str) -> netx::FetchOutcome {
        let t = tags(endpoint);
        let parsed = match url::Url::parse(url) {
            Ok(u) => u,
            Err(e) => {
                return netx::FetchOutcome {
                    failure: Some(netx::failure::unknown(&format!("invalid URL: {e}"))),
                    ..Default::default()
                };
            }
        };
        let found: Arc<Mutex<Vec<DnsLookup>>> = Arc::new(Mutex::new(Vec::new()));
        let headers = self.cfg.request_headers();
        let outcome = {
            let cfg = &self.cfg;
            let opts = self.opts.clone();
            let found = found.clone();
            netx::fetch(&self.opts, &parsed, &headers, move |host: String| {
                let found = found.clone();
                let opts = opts.clone();
                async move {
                    let ls = lookups(cfg, &opts, &host).await;
                    let (good, failure) = usable(cfg, &ls);
                    found.lock().unwrap_or_else(|p| p.into_inner()).extend(ls);
                    match failure {
                        Some(f) => Err(f),
                        None => Ok(good),
                    }
                }
            })
            .await
        };
        let found = std::mem::take(&mut *found.lock().unwrap_or_else(|p| p.into_inner()));
        self.lookups
            .extend(found.into_iter().map(|l| (l, t.clone())));
        self.tcp
            .extend(outcome.tcp_connect.iter().cloned().map(|c| (c, t.clone())));
        self.tls.extend(
            outcome
                .tls_handshakes
                .iter()
                .cloned()
                .map(|h| (h, t.clone())),
        );
        self.http
            .extend(outcome.requests.iter().cloned().map(|r| (r, t.clone())));
        outcome
    }

    /// POSTs an empty body in cleartext HTTP/1.1 to `addr` (Telegram's data
    /// centres answer HTTP on 80 and on 443).
    pub async fn post_empty(&mut self, endpoint: &str, addr: SocketAddr) {
        let t = tags(endpoint);
        let Ok(url) = url::Url::parse(&format!("http://{addr}/")) else {
            return;
        };
        let mut headers = self.cfg.request_headers();
        headers.push(("Content-Length".into(), "0".into()));
        let request = netx::HttpRequest {
            method: "POST".into(),
            url,
            headers,
            body: Vec::new(),
        };
        let (rec, stream) = netx::tcp::connect(&self.opts, addr).await;
        let failure = rec.failure.clone();
        self.tcp.push((rec, t.clone()));
        let tx = match stream {
            Some(s) => {
                netx::http::round_trip(
                    &self.opts,
                    s,
                    Some(addr),
                    netx::HttpProtocol::Http1,
                    &request,
                )
                .await
            }
            None => netx::HttpTransaction::failed_before_sending(
                &self.opts,
                request,
                failure.unwrap_or_else(|| netx::failure::unknown("no connection")),
            ),
        };
        self.http.push((tx, t));
    }

    /// The records as OONI test keys (`queries`, `tcp_connect`, ...).
    pub fn test_keys(&self) -> Map<String, Value> {
        let rec = Recorder::new(self.cfg.asn_db.clone());
        let mut queries = Vec::new();
        let mut duplicates = Vec::new();
        let mut events = Vec::new();
        for (l, t) in &self.lookups {
            queries.push(rec.dns(l, t));
            duplicates.extend(rec.late_replies(l, t));
            events.extend(l.events.iter().map(|e| rec.event(e, t)));
        }
        let mut tcp = Vec::new();
        for (c, t) in &self.tcp {
            tcp.push(rec.tcp(c, t));
            events.push(rec.event(&c.event, t));
        }
        let mut tls = Vec::new();
        for (h, t) in &self.tls {
            tls.push(rec.tls(h, t));
            events.extend(h.events.iter().map(|e| rec.event(e, t)));
        }
        let mut requests = Vec::new();
        for (r, t) in &self.http {
            requests.push(rec.http(r, t));
            events.extend(r.events.iter().map(|e| rec.event(e, t)));
        }
        // OONI writes requests newest first.
        requests.sort_by(|a, b| time_of(&b.t).total_cmp(&time_of(&a.t)));
        events.sort_by(|a, b| time_of(&a.t).total_cmp(&time_of(&b.t)));
        events.truncate(MAX_NETWORK_EVENTS);
        let mut keys = Map::new();
        let mut put = |k: &str, v: Value| {
            keys.insert(k.to_string(), v);
        };
        put("agent", json!("redirect"));
        put("failed_operation", Value::Null);
        put("failure", Value::Null);
        put(
            "queries",
            serde_json::to_value(queries).unwrap_or(Value::Null),
        );
        put(
            "x_dns_duplicate_responses",
            serde_json::to_value(duplicates).unwrap_or(Value::Null),
        );
        put(
            "tcp_connect",
            serde_json::to_value(tcp).unwrap_or(Value::Null),
        );
        put(
            "tls_handshakes",
            serde_json::to_value(tls).unwrap_or(Value::Null),
        );
        put(
            "requests",
            serde_json::to_value(requests).unwrap_or(Value::Null),
        );
        put(
            "network_events",
            serde_json::to_value(events).unwrap_or(Value::Null),
        );
        keys
    }

    /// Assembles and scrubs the measurement.
    pub fn finish(
        self,
        run: &RunContext,
        test_name: &str,
        test_version: &str,
        input: Option<(String, Option<String>)>,
        keys: Map<String, Value>,
    ) -> Result<Measurement, ProbeError> {
        let cfg = &self.cfg;
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
        let input_value = match &input {
            Some((url, category)) => {
                if let Some(c) = category {
                    annotations.insert("category_code".to_string(), c.clone());
                }
                Nullable::Present(model::Input::Single(url.clone()))
            }
            None => Nullable::Null,
        };
        let runtime = self.opts.now();
        let m = Measurement {
            annotations: annotations.into(),
            data_format_version: "0.2.0".to_string().into(),
            input: input_value,
            measurement_start_time: ooni_time(self.started_at).into(),
            probe_asn: cfg.probe_asn.clone().into(),
            probe_cc: cfg.probe_cc.clone().into(),
            probe_ip: "127.0.0.1".to_string().into(),
            probe_network_name: cfg.probe_network_name.clone().into(),
            report_id: run.report_id.clone().into(),
            software_name: "canary".to_string().into(),
            software_version: env!("CARGO_PKG_VERSION").to_string().into(),
            test_keys: TestKeys::Other(Value::Object(keys)).into(),
            test_name: test_name.to_string().into(),
            test_runtime: serde_json::Number::from_f64((runtime * 1e6).round() / 1e6)
                .map_or(Nullable::Null, Nullable::Present),
            test_start_time: ooni_time(run.test_start_time).into(),
            test_version: test_version.to_string().into(),
            ..Default::default()
        };
        let scrubber = netx::Scrubber::new(self.own.clone());
        let mut value = m
            .to_value()
            .map_err(|e| ProbeError::Internal(e.to_string()))?;
        scrubber.scrub_json(&mut value);
        let mut m =
            Measurement::from_value(value).map_err(|e| ProbeError::Internal(e.to_string()))?;
        m.probe_ip = "127.0.0.1".to_string().into();
        Ok(m)
    }
}

fn time_of(t: &Nullable<serde_json::Number>) -> f64 {
    t.get().and_then(serde_json::Number::as_f64).unwrap_or(0.0)
}

fn hex_sha256(data: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// What the probe saw of a page, from its fetch.
pub fn page_view(fetch: &netx::FetchOutcome, _run: &SocialRun) -> PageView {
    let newest = fetch.requests.first();
    let body = newest
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .unwrap_or_default();
    let failure = fetch.failure.clone();
    PageView {
        failed_layer: failure.as_deref().map(|f| super::failed_layer(f, fetch)),
        failure,
        status: newest.and_then(|r| r.status),
        final_url: newest.map(|r| r.request.url.to_string()),
        title: extract_title(&body),
        body_sha256: newest
            .filter(|r| r.status.is_some())
            .map(|r| hex_sha256(&r.body)),
        body,
    }
}

/// What the test helper saw of the page.
pub fn control_view(resp: &model::ControlResponse) -> PageView {
    let Some(http) = resp.http_request.get() else {
        return PageView {
            failure: Some("unknown_failure: no http_request in the control".into()),
            ..PageView::default()
        };
    };
    let text = |k: &str| {
        http.extra
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    PageView {
        failure: http.failure.get().map(|f| f.as_str().to_string()),
        failed_layer: None,
        status: http
            .status_code
            .get()
            .and_then(|c| u16::try_from(*c).ok())
            .filter(|c| *c > 0),
        final_url: text("x_final_url"),
        title: http.title.get().cloned(),
        body_sha256: text("x_body_sha256"),
        body: String::new(),
    }
}
