//! A demo dataset, so that a newcomer sees real content at once
//! (`canary serve --demo`).
//!
//! It is **synthetic and labelled so**: documentation ASNs (AS64500–64502,
//! RFC 5398) named "… (demo)", `.example` domains, `software_name`
//! `canary-demo`. The measurements are full OONI `web_connectivity`
//! documents in the shapes Canary's probe records for the censorship lab's
//! scenarios (DNS answering the known Cambodian blockpage address, NXDOMAIN,
//! an HTTP blockpage, a TLS reset, a site down for everyone, and plain
//! accessible sites); their verdicts are computed by the real rules of
//! `canary-analysis`, and blocking events by its CUSUM detector — exactly
//! what the collector would store. Deterministic: the same call gives the
//! same measurements (ids included), so loading twice changes nothing.
//!
//! The social-media panel has its own story ([`social_dataset`]): the four
//! messaging tests and three public pages measured once a day on each
//! demo network, recorded as Canary's probe records them (endpoint tags
//! and all) and judged by the collector's own code: Telegram blackholed on
//! one network, WhatsApp Web NXDOMAIN on another, Signal reset on the
//! third, a short Messenger DNS episode; a Telegram channel restricted by
//! the platform everywhere, a Facebook page blocked by one ISP.

use canary_analysis::aggregate::{hourly_series, Sample};
use canary_analysis::events::detect_events;
use canary_analysis::fingerprints::FingerprintDb;
use canary_analysis::verdict::{analyse_web_connectivity, Context};
use canary_model::Measurement;
use canary_store::{BlockingEvent, InsertReport, NewMeasurement, Store, MAX_EVENT_MEASUREMENTS};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::macros::date;
use time::{Date, Duration, OffsetDateTime, Time};

use canary_store::social::{NewSocialMeasurement, ACCOUNT_TEST_NAME, SERVICE_TESTS};

use crate::collector::{prepare_one, stored_verdict, Prepare, Prepared};
use crate::WebError;

/// Days covered by the demo dataset.
pub const DAYS: i64 = 30;
/// Measurements per (domain, network) per day.
pub const PER_DAY: i64 = 4;
/// The demo country.
pub const COUNTRY: &str = "KH";
/// First day of the demo dataset.
pub const FIRST_DAY: Date = date!(2024 - 10 - 01);

/// The demo networks: documentation ASNs, clearly named.
pub const NETWORKS: [(u32, &str); 3] = [
    (64500, "Example Mobile (demo)"),
    (64501, "Example Fibre (demo)"),
    (64502, "Example Cable (demo)"),
];

/// How a site behaves on one network, from a given day on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Ok,
    DnsBlockpage,
    Nxdomain,
    HttpBlockpage,
    TlsReset,
    Down,
}

/// (domain, category, https?)
const SITES: [(&str, &str, bool); 12] = [
    ("news-daily.example", "NEWS", false),
    ("independent-radio.example", "NEWS", false),
    ("rights-watch.example", "HUMR", false),
    ("land-rights.example", "HUMR", true),
    ("opposition-party.example", "POLR", false),
    ("election-monitor.example", "POLR", true),
    ("social-chat.example", "GRP", true),
    ("video-share.example", "MMED", false),
    ("search.example", "SRCH", true),
    ("encyclopedia.example", "CULTR", true),
    ("webmail.example", "COMM", true),
    ("shop.example", "COMM", false),
];

/// The scripted censorship: (site index, ASN, first blocked day, behaviour).
const SCRIPT: [(usize, u32, i64, Behaviour); 9] = [
    (0, 64500, 8, Behaviour::DnsBlockpage),
    (1, 64500, 12, Behaviour::DnsBlockpage),
    (2, 64500, 0, Behaviour::DnsBlockpage),
    (4, 64501, 15, Behaviour::HttpBlockpage),
    (2, 64501, 20, Behaviour::HttpBlockpage),
    (3, 64502, 5, Behaviour::TlsReset),
    (5, 64502, 18, Behaviour::TlsReset),
    (1, 64502, 22, Behaviour::Nxdomain),
    (7, 64500, 3, Behaviour::Nxdomain),
];

const SITE_IP: &str = "93.184.216.34";
const BLOCKPAGE_IP: &str = "36.37.242.94";

fn behaviour(site: usize, asn: u32, day: i64, slot: i64) -> Behaviour {
    for (s, a, from, b) in SCRIPT {
        if s == site && a == asn && day >= from {
            return b;
        }
    }
    // One site is down for everyone for a few hours.
    if site == 11 && day == 16 && slot < 2 {
        return Behaviour::Down;
    }
    Behaviour::Ok
}

fn page(title: &str) -> String {
    format!(
        "<html><head><title>{title}</title></head><body>{}</body></html>",
        "Lorem ipsum dolor sit amet. ".repeat(60)
    )
}

fn blockpage() -> String {
    "<html><head><title>Blocked</title></head><body><!-- canary-lab-blockpage --> \
     This website has been blocked by order of the authorities.</body></html>"
        .to_owned()
}

fn test_keys(host: &str, url: &str, https: bool, b: Behaviour) -> Value {
    let title = format!("{host} home");
    let body = page(&title);
    let port = if https { 443 } else { 80 };
    let q = |answers: &[&str], failure: Option<&str>| {
        json!({
            "hostname": host, "engine": "udp", "query_type": "A",
            "resolver_address": "10.0.0.53:53", "failure": failure,
            "tags": ["depth=0", "classic"],
            "answers": answers.iter().map(|a| json!({"answer_type": "A", "ipv4": a})).collect::<Vec<_>>(),
        })
    };
    let tcp = |ip: &str, failure: Option<&str>| json!({"ip": ip, "port": port, "status": {"success": failure.is_none(), "failure": failure}});
    let tls = |ip: &str, failure: Option<&str>| json!({"address": format!("{ip}:443"), "server_name": host, "failure": failure});
    let ok_req = |code: i64, body: &str| {
        json!({
            "request": {"url": url, "method": "GET"}, "failure": null,
            "response": {"code": code, "body": body, "body_is_truncated": false,
                         "headers_list": [["Content-Type", "text/html"], ["Server", "demo"]]},
        })
    };
    let failed_req = |failure: &str| json!({"request": {"url": url, "method": "GET"}, "failure": failure, "response": null});
    let mut control = json!({
        "dns": {"failure": null, "addrs": [SITE_IP]},
        "tcp_connect": {format!("{SITE_IP}:{port}"): {"status": true, "failure": null}},
        "http_request": {"status_code": 200, "body_length": body.len(), "failure": null,
                         "title": title, "headers": {"Content-Type": "text/html", "Server": "demo"}},
        "ip_info": {SITE_IP: {"asn": 15133, "flags": 11}},
    });
    if https {
        control["tls_handshake"] = json!({format!("{SITE_IP}:443"): {"server_name": host, "status": true, "failure": null}});
    }
    let (queries, tcps, tlss, requests) = match b {
        Behaviour::Ok => (
            vec![q(&[SITE_IP], None)],
            vec![tcp(SITE_IP, None)],
            if https {
                vec![tls(SITE_IP, None)]
            } else {
                vec![]
            },
            vec![ok_req(200, &body)],
        ),
        Behaviour::DnsBlockpage => (
            vec![q(&[BLOCKPAGE_IP], None)],
            vec![
                json!({"ip": BLOCKPAGE_IP, "port": port, "status": {"success": true, "failure": null}}),
            ],
            vec![],
            vec![ok_req(200, &blockpage())],
        ),
        Behaviour::Nxdomain => (
            vec![q(&[], Some("dns_nxdomain_error"))],
            vec![],
            vec![],
            vec![failed_req("dns_nxdomain_error")],
        ),
        Behaviour::HttpBlockpage => (
            vec![q(&[SITE_IP], None)],
            vec![tcp(SITE_IP, None)],
            vec![],
            vec![ok_req(200, &blockpage())],
        ),
        Behaviour::TlsReset => (
            vec![q(&[SITE_IP], None)],
            vec![tcp(SITE_IP, None)],
            vec![tls(SITE_IP, Some("connection_reset"))],
            vec![failed_req("connection_reset")],
        ),
        Behaviour::Down => {
            control["http_request"] =
                json!({"failure": "connection_refused", "status_code": null, "body_length": null});
            control["tcp_connect"] = json!({format!("{SITE_IP}:{port}"): {"status": false, "failure": "connection_refused_error"}});
            (
                vec![q(&[SITE_IP], None)],
                vec![tcp(SITE_IP, Some("connection_refused"))],
                vec![],
                vec![failed_req("connection_refused")],
            )
        }
    };
    json!({
        "queries": queries, "tcp_connect": tcps, "tls_handshakes": tlss, "requests": requests,
        "control": control, "control_failure": null, "x_dns_duplicate_responses": [],
        "blocking": null, "accessible": null,
    })
}

/// One demo measurement's raw JSON.
fn measurement(site: usize, asn: u32, network: &str, day: i64, slot: i64) -> (String, Value) {
    let (host, _, https) = SITES[site];
    let url = format!("{}://{host}/", if https { "https" } else { "http" });
    let start = (FIRST_DAY + Duration::days(day))
        .with_time(Time::MIDNIGHT)
        .assume_utc()
        + Duration::hours(1 + slot * 6)
        + Duration::minutes(i64::from(asn % 60))
        + Duration::seconds(site as i64 * 7);
    let stamp = |t: OffsetDateTime| {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    };
    let compact = stamp(start).replace(['-', ' ', ':'], "");
    let digest = hex::encode(&Sha256::digest(format!("{host}|{asn}|{day}|{slot}").as_bytes())[..8]);
    let uid = format!(
        "{compact}.{:06}_{COUNTRY}_webconnectivity_{digest}",
        site * 1000 + slot as usize
    );
    let b = behaviour(site, asn, day, slot);
    let raw = json!({
        "measurement_uid": uid,
        "report_id": format!("{compact}_webconnectivity_{COUNTRY}_{asn}_n1_demo{slot}"),
        "test_name": "web_connectivity", "test_version": "0.5.28",
        "software_name": "canary-demo", "software_version": env!("CARGO_PKG_VERSION"),
        "data_format_version": "0.2.0",
        "probe_cc": COUNTRY, "probe_asn": format!("AS{asn}"), "probe_network_name": network,
        "probe_ip": "127.0.0.1", "resolver_asn": format!("AS{asn}"),
        "measurement_start_time": stamp(start), "test_start_time": stamp(start),
        "test_runtime": 1.25, "input": url, "annotations": {"demo": "true"},
        "test_keys": test_keys(host, &url, https, b),
    });
    (uid, raw)
}

/// Builds the demo measurements (with verdicts) and the blocking events
/// the detector finds in them.
pub fn dataset() -> Result<(Vec<NewMeasurement>, Vec<BlockingEvent>), WebError> {
    let db = FingerprintDb::canary_default();
    let mut out = Vec::new();
    let mut samples = Vec::new();
    for (site, (host, category, _)) in SITES.iter().enumerate() {
        for (asn, network) in NETWORKS {
            for day in 0..DAYS {
                for slot in 0..PER_DAY {
                    let (uid, value) = measurement(site, asn, network, day, slot);
                    let raw = serde_json::to_vec(&value)
                        .map_err(|e| WebError::invalid("demo", e.to_string()))?;
                    let m = Measurement::from_slice(&raw)
                        .map_err(|e| WebError::invalid("demo", e.to_string()))?;
                    let tk = m
                        .web_connectivity()
                        .ok_or_else(|| WebError::invalid("demo", "not web_connectivity"))?;
                    let input = m.input_str().unwrap_or_default();
                    let ctx = Context::new(COUNTRY, &db)
                        .with_input(input)
                        .with_test_version("0.5.28");
                    let verdict = analyse_web_connectivity(tk, &ctx);
                    let start = m
                        .measurement_start_time_utc()
                        .map_err(|e| WebError::invalid("demo", e.to_string()))?;
                    samples.push(Sample::from_verdict(
                        uid.clone(),
                        COUNTRY,
                        asn,
                        *host,
                        start.unix_timestamp().div_euclid(3600),
                        &verdict,
                    ));
                    out.push(NewMeasurement::from_measurement(
                        &m,
                        &raw,
                        Some((*category).to_owned()),
                        stored_verdict(&verdict),
                    )?);
                }
            }
        }
    }
    let mut events = Vec::new();
    for (key, points) in hourly_series(&samples) {
        let Some(layer) = key.layer else { continue };
        let detection =
            detect_events(&points).map_err(|e| WebError::invalid("demo events", e.to_string()))?;
        let layer = serde_json::to_value(layer)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        for e in detection.events {
            let hour = |h: i64| OffsetDateTime::from_unix_timestamp(h * 3600).ok();
            let Some(start) = hour(e.start_hour) else {
                continue;
            };
            let mut ids = e.measurement_ids;
            ids.truncate(MAX_EVENT_MEASUREMENTS);
            events.push(BlockingEvent {
                country: key.country.clone(),
                asn: key.asn,
                domain: key.domain.clone(),
                layer: layer.clone(),
                start,
                end: e.end_hour.and_then(hour),
                confidence: e.confidence,
                measurement_ids: ids,
            });
        }
    }
    Ok((out, events))
}

/// Loads the demo dataset into `store` (idempotent: a second call stores
/// nothing new) and names the demo networks. The report counts the
/// web-connectivity measurements; the social ones ([`social_dataset`]) are
/// loaded too and counted by `Store::social_count`.
pub async fn load(store: &Store) -> Result<InsertReport, WebError> {
    let (measurements, events) = tokio::task::spawn_blocking(dataset)
        .await
        .map_err(|e| WebError::invalid("demo", e.to_string()))??;
    let mut total = InsertReport::default();
    for chunk in measurements.chunks(2000) {
        let r = store.insert_batch(chunk).await?;
        total.inserted += r.inserted;
        total.duplicates += r.duplicates;
    }
    for (asn, name) in NETWORKS {
        store.upsert_network(asn, name).await?;
    }
    store.upsert_events(&events).await?;
    let social = tokio::task::spawn_blocking(social_dataset)
        .await
        .map_err(|e| WebError::invalid("demo", e.to_string()))??;
    // Counted apart (`Store::social_count`): the report stays the
    // web-connectivity one, as `Store::count` counts.
    store.insert_social_batch(&social).await?;
    Ok(total)
}

// ------------------------------------------------------------ social media

/// How a messaging service behaves on one demo network, one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Social {
    Ok,
    /// Every data centre / endpoint blackholed (TCP timeouts), the web too.
    TcpBlackhole,
    /// The resolver says the web and registration names do not exist.
    Nxdomain,
    /// ClientHellos with the service's names are reset.
    TlsReset,
    /// The resolver answers addresses outside the service's network.
    DnsInconsistent,
}

/// The scripted social-media story of the demo (documentation ASNs):
/// Telegram blackholed on Example Mobile from day 10; WhatsApp Web and
/// registration NXDOMAIN on Example Fibre from day 20; Signal reset on
/// Example Cable from day 15; Messenger's names answered outside Facebook
/// on Example Mobile on days 5–8.
fn social_behaviour(test: &str, asn: u32, day: i64) -> Social {
    match (test, asn) {
        ("telegram", 64500) if day >= 10 => Social::TcpBlackhole,
        ("whatsapp", 64501) if day >= 20 => Social::Nxdomain,
        ("signal", 64502) if day >= 15 => Social::TlsReset,
        ("facebook_messenger", 64500) if (5..=8).contains(&day) => Social::DnsInconsistent,
        _ => Social::Ok,
    }
}

/// The demo's public pages: (platform, URL, owner, category).
const PAGES: [(&str, &str, &str, &str); 3] = [
    (
        "telegram",
        "https://t.me/s/example_news_demo",
        "Example News (demo)",
        "NEWS",
    ),
    (
        "facebook",
        "https://www.facebook.com/example.rights.demo",
        "Example Rights Group (demo)",
        "HUMR",
    ),
    (
        "x",
        "https://x.com/example_journalist_demo",
        "Example Journalist (demo)",
        "NEWS",
    ),
];

/// How a page behaves on one network, one day: the Telegram channel is
/// restricted by the platform everywhere from day 12; the Facebook page
/// is blocked by Example Fibre (TLS reset) from day 18.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PageState {
    Reachable,
    PlatformNotice,
    TlsReset,
}

fn page_behaviour(page: usize, asn: u32, day: i64) -> PageState {
    match (page, asn) {
        (0, _) if day >= 12 => PageState::PlatformNotice,
        (1, 64501) if day >= 18 => PageState::TlsReset,
        _ => PageState::Reachable,
    }
}

/// Records in the shapes Canary's probe writes, each tagged with its endpoint.
#[derive(Default)]
struct Records {
    queries: Vec<Value>,
    tcp: Vec<Value>,
    tls: Vec<Value>,
    requests: Vec<Value>,
}

impl Records {
    fn tags(e: &str) -> Value {
        json!([format!("endpoint={e}")])
    }

    /// A DNS lookup answered with `ip` (in `asn`), or failing.
    fn resolve(&mut self, e: &str, host: &str, answer: Result<(&str, u32), &str>) {
        let (answers, failure) = match answer {
            Ok((ip, asn)) => (
                json!([{"answer_type": "A", "ipv4": ip, "asn": asn, "ttl": 60}]),
                Value::Null,
            ),
            Err(f) => (Value::Null, json!(f)),
        };
        self.queries.push(json!({"hostname": host, "query_type": "A", "engine": "udp",
            "resolver_address": "", "answers": answers, "failure": failure, "tags": Records::tags(e)}));
    }

    fn connect(&mut self, e: &str, ip: &str, port: u16, failure: Option<&str>) {
        self.tcp
            .push(json!({"ip": ip, "port": port, "tags": Records::tags(e),
            "status": {"success": failure.is_none(), "failure": failure, "blocked": null}}));
    }

    /// A GET of `url` (resolved to `ip`) that fails as `s` says.
    fn fetch(&mut self, e: &str, url: &str, ip: &str, s: Social, body: &str) {
        let host = url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        let failure = match s {
            Social::Nxdomain => Some("dns_nxdomain_error"),
            Social::TcpBlackhole => Some("generic_timeout_error"),
            Social::TlsReset => Some("connection_reset"),
            Social::Ok | Social::DnsInconsistent => None,
        };
        if s == Social::Nxdomain {
            self.resolve(e, &host, Err("dns_nxdomain_error"));
        } else {
            self.resolve(e, &host, Ok((ip, 0)));
            let tcp_failure = (s == Social::TcpBlackhole).then_some("generic_timeout_error");
            self.connect(e, ip, 443, tcp_failure);
            if tcp_failure.is_none() {
                self.tls
                    .push(json!({"address": format!("{ip}:443"), "server_name": host,
                    "failure": failure, "tags": Records::tags(e)}));
            }
        }
        let response = match failure {
            None => json!({"code": 200, "body": body, "headers_list": []}),
            Some(_) => Value::Null,
        };
        self.requests.push(
            json!({"request": {"method": "GET", "url": url, "headers_list": []},
            "response": response, "failure": failure, "tags": Records::tags(e)}),
        );
    }

    fn into_keys(self) -> serde_json::Map<String, Value> {
        let mut keys = serde_json::Map::new();
        keys.insert("queries".into(), Value::Array(self.queries));
        keys.insert("tcp_connect".into(), Value::Array(self.tcp));
        keys.insert("tls_handshakes".into(), Value::Array(self.tls));
        keys.insert("requests".into(), Value::Array(self.requests));
        keys
    }
}

/// The test keys of one messaging test on one network, one day.
fn social_keys(test: &str, s: Social) -> Value {
    let e = canary_social::Endpoints::default();
    let mut r = Records::default();
    match test {
        "facebook_messenger" => {
            for (i, svc) in e.facebook.services.iter().enumerate() {
                let ip = format!("157.240.0.{}", i + 1);
                if s == Social::DnsInconsistent {
                    r.resolve(&svc.key, &svc.host, Ok(("203.0.113.10", 64500)));
                    continue;
                }
                r.resolve(&svc.key, &svc.host, Ok((&ip, 32934)));
                if let Some(port) = svc.port {
                    r.connect(&svc.key, &ip, port, None);
                }
            }
        }
        "whatsapp" => {
            for (i, ep) in e.whatsapp.endpoints.iter().enumerate() {
                let ip = format!("157.240.1.{}", i + 1);
                r.resolve(&ep.host, &ep.host, Ok((&ip, 32934)));
                for port in &ep.ports {
                    r.connect(&ep.host, &ip, *port, None);
                }
            }
            r.fetch(
                "registration",
                &e.whatsapp.registration_url,
                "157.240.2.1",
                s,
                "{}",
            );
            r.fetch(
                "web",
                &e.whatsapp.web_url,
                "157.240.2.2",
                s,
                "<title>WhatsApp</title>",
            );
        }
        "telegram" => {
            for dc in &e.telegram.datacenters {
                for port in &dc.ports {
                    let name = canary_social::telegram::dc_endpoint(&dc.host, *port);
                    let failure = (s == Social::TcpBlackhole).then_some("generic_timeout_error");
                    r.connect(&name, &dc.host, *port, failure);
                    let response = match failure {
                        None => json!({"code": 404, "body": "", "headers_list": []}),
                        Some(_) => Value::Null,
                    };
                    let url = if *port == 80 {
                        format!("http://{}/", dc.host)
                    } else {
                        format!("http://{}:{port}/", dc.host)
                    };
                    r.requests.push(
                        json!({"request": {"method": "POST", "url": url, "headers_list": []},
                        "response": response, "failure": failure, "tags": Records::tags(&name)}),
                    );
                }
            }
            r.fetch(
                "web",
                &e.telegram.web_url,
                "149.154.167.99",
                s,
                "<title>Telegram Web</title>",
            );
        }
        _ => {
            for (i, url) in e.signal.urls.iter().enumerate() {
                r.fetch(url, url, &format!("76.223.92.{}", i + 1), s, "");
            }
            r.resolve("uptime", &e.signal.uptime_host, Ok(("76.223.92.200", 0)));
        }
    }
    let mut keys = r.into_keys();
    keys.insert("agent".into(), json!("redirect"));
    keys.insert("failure".into(), Value::Null);
    Value::Object(keys)
}

/// The test keys of one page check on one network, one day.
fn page_keys(page: usize, state: PageState) -> Value {
    let (platform, url, owner, category) = PAGES[page];
    let title = format!("{owner} on {platform}");
    let body = match state {
        PageState::PlatformNotice => {
            "<html><title>Telegram</title><p>This channel can\u{2019}t be displayed because it violated local laws.</p></html>".to_owned()
        }
        _ => format!("<html><title>{title}</title><p>posts</p></html>"),
    };
    let mut r = Records::default();
    let s = if state == PageState::TlsReset {
        Social::TlsReset
    } else {
        Social::Ok
    };
    r.fetch("page", url, "198.51.100.20", s, &body);
    let mut keys = r.into_keys();
    keys.insert("platform".into(), json!(platform));
    keys.insert("owner".into(), json!(owner));
    keys.insert("category".into(), json!(category));
    keys.insert(
        "control_view".into(),
        json!({"failure": null, "status": 200, "final_url": url, "title": title}),
    );
    keys.insert("control_failure".into(), Value::Null);
    Value::Object(keys)
}

/// One demo social measurement's raw JSON.
fn social_measurement(
    test: &str,
    input: Option<&str>,
    asn: u32,
    network: &str,
    day: i64,
    keys: Value,
) -> Value {
    let start = (FIRST_DAY + Duration::days(day))
        .with_time(Time::MIDNIGHT)
        .assume_utc()
        + Duration::hours(9)
        + Duration::minutes(i64::from(asn % 60));
    let stamp = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        start.year(),
        u8::from(start.month()),
        start.day(),
        start.hour(),
        start.minute(),
        start.second()
    );
    let compact = stamp.replace(['-', ' ', ':'], "");
    let name = test.replace('_', "");
    let digest = hex::encode(
        &Sha256::digest(format!("{test}|{}|{asn}|{day}", input.unwrap_or("")).as_bytes())[..8],
    );
    json!({
        "measurement_uid": format!("{compact}.000000_{COUNTRY}_{name}_{digest}"),
        "report_id": format!("{compact}_{name}_{COUNTRY}_{asn}_n1_demo"),
        "test_name": test, "test_version": "0.1.0",
        "software_name": "canary-demo", "software_version": env!("CARGO_PKG_VERSION"),
        "data_format_version": "0.2.0",
        "probe_cc": COUNTRY, "probe_asn": format!("AS{asn}"), "probe_network_name": network,
        "probe_ip": "127.0.0.1",
        "measurement_start_time": stamp, "test_start_time": stamp,
        "test_runtime": 2.5, "input": input, "annotations": {"demo": "true"},
        "test_keys": keys,
    })
}

/// The demo's social-media measurements (one per service, page, network
/// and day), judged by the collector's own code — exactly what it would
/// store.
pub fn social_dataset() -> Result<Vec<NewSocialMeasurement>, WebError> {
    let db = FingerprintDb::canary_default();
    let categories = std::collections::HashMap::new();
    let prep = Prepare {
        fingerprints: &db,
        restriction_fingerprints: crate::collector::builtin_restriction_fingerprints(),
        categories: &categories,
        max_batch: 1,
    };
    let mut out = Vec::new();
    let mut push = |raw: Value| -> Result<(), WebError> {
        let bytes =
            serde_json::to_vec(&raw).map_err(|e| WebError::invalid("demo", e.to_string()))?;
        match prepare_one(&bytes, &prep) {
            Ok(Prepared::Social(m)) => {
                out.push(*m);
                Ok(())
            }
            Ok(Prepared::Web(_)) => Err(WebError::invalid("demo", "not a social measurement")),
            Err(r) => Err(WebError::invalid("demo", r.reason)),
        }
    };
    for (asn, network) in NETWORKS {
        for day in 0..DAYS {
            for test in SERVICE_TESTS {
                let keys = social_keys(test, social_behaviour(test, asn, day));
                push(social_measurement(test, None, asn, network, day, keys))?;
            }
            for (i, (_, url, _, _)) in PAGES.iter().enumerate() {
                let keys = page_keys(i, page_behaviour(i, asn, day));
                push(social_measurement(
                    ACCOUNT_TEST_NAME,
                    Some(url),
                    asn,
                    network,
                    day,
                    keys,
                ))?;
            }
        }
    }
    Ok(out)
}
