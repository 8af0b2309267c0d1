//! Social-media results through the collector and the country page: the
//! five tests are accepted and re-judged by the server (a submitted lie
//! is ignored), replays are duplicates, malformed ones get a 4xx with the
//! reason, and the panel and its exports show what was stored.

mod common;

use canary_store::social::{NewSocialMeasurement, SocialVerdictRow};
use common::{shared_data, start, Client};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// The base keys of a Canary measurement.
fn base(uid: &str, test: &str, asn: u32, when: &str, keys: Value) -> Value {
    json!({
        "measurement_uid": uid,
        "report_id": format!("20261129T000000Z_{}_KH_{asn}_n1_x", test.replace('_', "")),
        "test_name": test, "test_version": "0.3.1",
        "software_name": "canary", "software_version": "0.1.0",
        "probe_cc": "KH", "probe_asn": format!("AS{asn}"), "probe_network_name": format!("Test ISP {asn}"),
        "probe_ip": "127.0.0.1",
        "measurement_start_time": when, "test_start_time": when,
        "input": null, "annotations": {}, "test_keys": keys,
    })
}

fn tags(e: &str) -> Value {
    json!([format!("endpoint={e}")])
}

/// facebook_messenger as Canary's probe records it: b_api resolves into
/// AS32934 and its connects time out; edge works. The submitted verdict
/// keys say everything is fine (a lie the server must ignore).
fn facebook(uid: &str, asn: u32, when: &str) -> Value {
    let q = |e: &str, host: &str, ip: &str| {
        json!({"hostname": host, "query_type": "A", "engine": "udp", "failure": null, "tags": tags(e),
               "answers": [{"answer_type": "A", "ipv4": ip, "asn": 32934, "as_org_name": "Facebook"}]})
    };
    let tcp = |e: &str, ip: &str, failure: Option<&str>| {
        json!({"ip": ip, "port": 443, "tags": tags(e),
               "status": {"success": failure.is_none(), "failure": failure, "blocked": null}})
    };
    base(
        uid,
        "facebook_messenger",
        asn,
        when,
        json!({
            "queries": [q("b_api", "b-api.facebook.com", "157.240.1.1"), q("edge", "edge-mqtt.facebook.com", "157.240.1.2")],
            "tcp_connect": [tcp("b_api", "157.240.1.1", Some("generic_timeout_error")), tcp("edge", "157.240.1.2", None)],
            "facebook_tcp_blocking": false, "facebook_dns_blocking": false,
            "x_canary": {"outcome": "ok", "layer": null, "kind": null, "endpoints": []}
        }),
    )
}

/// A page check as the probe records it, with the control's view.
fn account(uid: &str, asn: u32, when: &str, url: &str, probe: Value, claimed: &str) -> Value {
    let mut keys = probe;
    keys["platform"] = json!("telegram");
    keys["owner"] = json!("Free Press");
    keys["category"] = json!("NEWS");
    keys["control_view"] =
        json!({"failure": null, "status": 200, "final_url": url, "title": "Free Press"});
    keys["control_failure"] = Value::Null;
    keys["account_status"] = json!(claimed);
    let mut m = base(uid, "canary_account_check", asn, when, keys);
    m["input"] = json!(url);
    m["test_version"] = json!("0.1.0");
    m
}

const RESTRICTED_URL: &str = "https://t.me/s/freepress";
const BLOCKED_URL: &str = "https://t.me/s/news";

/// The platform's own notice reaches the probe.
fn platform_restricted(uid: &str, asn: u32, when: &str) -> Value {
    account(
        uid,
        asn,
        when,
        RESTRICTED_URL,
        json!({"requests": [{"request": {"method": "GET", "url": RESTRICTED_URL, "headers_list": []},
            "response": {"code": 200, "headers_list": [],
                "body": "<html><title>Telegram: Contact @freepress</title><p>This channel can\u{2019}t be displayed because it violated local laws.</p></html>"},
            "failure": null, "tags": tags("page")}]}),
        "reachable",
    )
}

/// The ISP resets the TLS handshake.
fn network_blocked(uid: &str, asn: u32, when: &str) -> Value {
    account(
        uid,
        asn,
        when,
        BLOCKED_URL,
        json!({
            "tcp_connect": [{"ip": "149.154.167.99", "port": 443, "tags": tags("page"), "status": {"success": true, "failure": null}}],
            "tls_handshakes": [{"address": "149.154.167.99:443", "server_name": "t.me", "failure": "connection_reset", "tags": tags("page")}],
            "requests": [{"request": {"method": "GET", "url": BLOCKED_URL}, "failure": "connection_reset", "tags": tags("page")}]
        }),
        "platform_restricted",
    )
}

async fn submit(c: &mut Client, m: &Value) -> (StatusCode, Value) {
    let r = c.post_body("/api/v1/submit", body(m)).await;
    let v = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    (r.status, v)
}

async fn get_json(c: &mut Client, path: &str) -> Value {
    let r = c.get(path).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

#[tokio::test]
async fn canary_measurements_are_rejudged_by_the_server_and_a_submitted_lie_is_ignored() {
    let server = start(false).await;
    let mut c = Client::new(&server);
    let cases = [
        ("facebook", facebook("fb-1", 64510, "2026-11-28 08:00:00")),
        (
            "platform",
            platform_restricted("ac-1", 64510, "2026-11-28 08:00:00"),
        ),
        (
            "network",
            network_blocked("ac-2", 64511, "2026-11-28 09:00:00"),
        ),
    ];
    for (name, m) in &cases {
        let (status, v) = submit(&mut c, m).await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {v}");
        assert_eq!(v["status"], "stored", "{name}");
    }
    let states = get_json(&mut c, "/api/v1/countries/KH/social").await;
    let fb = &states[0];
    assert_eq!(fb["service"], "facebook_messenger");
    assert_eq!(
        (&fb["outcome"], &fb["layer"], &fb["kind"]),
        (&json!("blocked"), &json!("tcp"), &json!("blackhole"))
    );
    assert_eq!(fb["ooni_keys"]["facebook_tcp_blocking"], true, "{fb}");
    assert_eq!(fb["ooni_keys"]["facebook_b_api_reachable"], false);
    assert_eq!(fb["ooni_keys"]["facebook_edge_reachable"], true);
    assert_eq!(fb["blocked_endpoints"], json!(["b_api"]));
    assert_eq!(fb["network_name"], "Test ISP 64510");
    let pages = get_json(&mut c, "/api/v1/countries/KH/restricted").await;
    let by_url = |u: &str| {
        pages
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["url"] == u)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let p = by_url(RESTRICTED_URL);
    assert_eq!(p["status"], "platform_restricted", "{pages}");
    assert_eq!(p["fingerprint"], "telegram.local_laws");
    assert_eq!(p["probe"]["title"], "Telegram: Contact @freepress");
    assert_eq!(p["control"]["title"], "Free Press");
    let n = by_url(BLOCKED_URL);
    assert_eq!(n["status"], "network_blocked", "{pages}");
    assert_eq!((&n["layer"], &n["kind"]), (&json!("tls"), &json!("reset")));
    assert_eq!(n["asn"], 64511);
    // the raw measurement is kept, scrubbed, byte for byte
    let raw = c.get("/api/v1/social/fb-1/raw").await;
    assert_eq!(raw.status, StatusCode::OK);
    let v: Value = serde_json::from_str(&raw.body).unwrap();
    assert_eq!(
        v["test_keys"]["facebook_tcp_blocking"], false,
        "kept as submitted"
    );
}

#[tokio::test]
async fn replays_are_duplicates_and_jsonl_mixes_tests() {
    let server = start(false).await;
    let mut c = Client::new(&server);
    let m = facebook("fb-2", 64510, "2026-11-28 08:00:00");
    assert_eq!(submit(&mut c, &m).await.0, StatusCode::CREATED);
    let (status, v) = submit(&mut c, &m).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&v["status"], &v["duplicates"]),
        (&json!("duplicate"), &json!(1))
    );
    // one JSONL submission with a social test and an account check
    let lines = [
        facebook("fb-3", 64510, "2026-11-28 10:00:00"),
        network_blocked("ac-3", 64511, "2026-11-28 10:00:00"),
        m.clone(),
    ]
    .iter()
    .map(|v| serde_json::to_string(v).unwrap())
    .collect::<Vec<_>>()
    .join("\n");
    let r = c.post_body("/api/v1/submit", lines.into_bytes()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!((&v["stored"], &v["duplicates"]), (&json!(2), &json!(1)));
    assert_eq!(server.store.social_count().await.unwrap(), 3);
}

#[tokio::test]
async fn malformed_social_measurements_get_a_4xx_with_the_reason() {
    let server = start(false).await;
    let mut c = Client::new(&server);
    let good = facebook("fb-9", 64510, "2026-11-28 08:00:00");
    let with = |f: &dyn Fn(&mut Value)| {
        let mut m = good.clone();
        f(&mut m);
        m
    };
    let page = network_blocked("ac-9", 64511, "2026-11-28 08:00:00");
    let page_with = |f: &dyn Fn(&mut Value)| {
        let mut m = page.clone();
        f(&mut m);
        m
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "test keys not an object",
            with(&|m| m["test_keys"] = json!([1])),
            "test_keys must be a JSON object",
        ),
        (
            "no records at all",
            with(&|m| m["test_keys"] = json!({"facebook_tcp_blocking": true})),
            "no network records",
        ),
        (
            "records not a list",
            with(&|m| m["test_keys"]["tcp_connect"] = json!({"ip": 1})),
            "must be a list",
        ),
        (
            "tagged, but no endpoint of the service",
            with(&|m| {
                m["test_keys"] = json!({"tcp_connect": [{"ip": "192.0.2.1", "port": 443, "status": {"success": true}}],
                                        "queries": [{"hostname": "x.test", "tags": ["other"]}],
                                        "requests": [{"request": {"url": "https://x.test/"}, "tags": ["endpoint=zzz"]}]})
            }),
            "none of the service's endpoints",
        ),
        (
            "records that name none of the service's hosts",
            with(&|m| {
                m["test_keys"] = json!({"queries": [1, "x", {"hostname": "example.org"}],
                                        "tcp_connect": [{"ip": "192.0.2.1", "port": 1}]})
            }),
            "none of the service's endpoints",
        ),
        (
            "a telegram test that measured something else",
            with(&|m| {
                m["test_name"] = json!("telegram");
                m["test_keys"] = json!({"requests": [{"request": {"url": "https://example.org/"}, "failure": null}]})
            }),
            "none of the service's endpoints",
        ),
        (
            "account without platform",
            page_with(&|m| {
                m["test_keys"].as_object_mut().unwrap().remove("platform");
            }),
            "platform",
        ),
        (
            "account of a non-web URL",
            page_with(&|m| m["input"] = json!("ftp://files.example/")),
            "http(s) URL",
        ),
        (
            "bad control view",
            page_with(&|m| m["test_keys"]["control_view"] = json!({"status": "two hundred"})),
            "control_view",
        ),
        (
            "missing software",
            with(&|m| {
                m.as_object_mut().unwrap().remove("software_name");
            }),
            "software_name",
        ),
    ];
    for (name, m, reason) in cases {
        let (status, v) = submit(&mut c, &m).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {v}");
        let got = v["reason"].as_str().unwrap_or_default();
        assert!(
            got.contains(reason),
            "{name}: {got:?} should mention {reason:?}"
        );
    }
    assert_eq!(server.store.social_count().await.unwrap(), 0);
}

/// OONI's own measurements of the messaging tests (read in place from
/// ../shared/data): accepted, re-judged, and the server's keys agree with
/// the ones OONI's probe computed; flipping them changes nothing.
#[tokio::test]
async fn real_ooni_samples_are_accepted_and_the_server_agrees_with_ooni() {
    let Some(data) = shared_data() else {
        eprintln!("skipping: ../shared/data not found");
        return;
    };
    let dir = data.join("ooni-samples/backend-fastpath-tests");
    // (file, OONI's verdict keys to compare)
    let samples: [(&str, &[&str]); 4] = [
        (
            "signal_022.json",
            &["signal_backend_status", "signal_backend_failure"],
        ),
        (
            "signal_2627.json",
            &["signal_backend_status", "signal_backend_failure"],
        ),
        (
            "telegram_nourl.json",
            &[
                "telegram_http_blocking",
                "telegram_tcp_blocking",
                "telegram_web_status",
            ],
        ),
        (
            "whatsapp.json",
            &["registration_server_status", "whatsapp_endpoints_status"],
        ),
    ];
    let server = start(false).await;
    let mut c = Client::new(&server);
    let mut seen = 0;
    for (i, (file, keys)) in samples.iter().enumerate() {
        let path = dir.join(file);
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("skipping {file}: not found");
            continue;
        };
        seen += 1;
        let mut m: Value = serde_json::from_str(&text).unwrap();
        let uid = format!("ooni-sample-{i}");
        m["measurement_uid"] = json!(uid);
        let (status, v) = submit(&mut c, &m).await;
        assert_eq!(status, StatusCode::CREATED, "{file}: {v}");
        let cc = m["probe_cc"].as_str().unwrap().to_owned();
        let states = get_json(&mut c, &format!("/api/v1/countries/{cc}/social")).await;
        let state = states
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["measurement_id"] == uid.as_str())
            .unwrap_or_else(|| panic!("{file}: {states}"))
            .clone();
        for k in *keys {
            assert_eq!(
                state["ooni_keys"][k], m["test_keys"][k],
                "{file}: {k} recomputed {} vs OONI's {}",
                state["ooni_keys"][k], m["test_keys"][k]
            );
        }
        // The same measurement with OONI's keys flipped: the same verdict.
        let mut lie = m.clone();
        lie["measurement_uid"] = json!(format!("{uid}-lie"));
        for k in *keys {
            lie["test_keys"][k] = match &m["test_keys"][k] {
                Value::Bool(b) => json!(!b),
                Value::String(s) if s == "ok" => json!("blocked"),
                Value::String(_) => json!("ok"),
                _ => json!("bogus"),
            };
        }
        assert_eq!(submit(&mut c, &lie).await.0, StatusCode::CREATED, "{file}");
        let states = get_json(&mut c, &format!("/api/v1/countries/{cc}/social")).await;
        let lied = states
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["measurement_id"] == format!("{uid}-lie").as_str())
            .cloned()
            .unwrap_or_else(|| panic!("{file}: {states}"));
        assert_eq!(lied["ooni_keys"], state["ooni_keys"], "{file}");
        assert_eq!(lied["outcome"], state["outcome"], "{file}");
    }
    if seen == 0 {
        eprintln!("skipping: no messaging sample found in {}", dir.display());
    }
}

#[tokio::test]
async fn the_country_page_shows_the_panel_and_both_tables_export() {
    let server = start(false).await;
    let mut c = Client::new(&server);
    for m in [
        facebook("fb-5", 64510, "2026-11-27 08:00:00"),
        facebook("fb-6", 64510, "2026-11-28 08:00:00"),
        platform_restricted("ac-5", 64510, "2026-11-27 08:00:00"),
        platform_restricted("ac-6", 64510, "2026-11-28 08:00:00"),
        network_blocked("ac-7", 64511, "2026-11-28 08:00:00"),
    ] {
        assert_eq!(submit(&mut c, &m).await.0, StatusCode::CREATED);
    }
    let page = c.get("/country/KH?lang=en").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // minijinja escapes '/' in text and attributes
    let html = &page.body.replace("&#x2f;", "/");
    let platform_at = html
        .find("Restricted by the platform")
        .expect("platform table");
    let network_at = html
        .find("Blocked by the network (ISP)")
        .expect("network table");
    let restricted_row = html
        .find("t.me/s/freepress")
        .expect("restricted page listed");
    let blocked_row = html.find("t.me/s/news").expect("blocked page listed");
    assert!(
        platform_at < restricted_row && restricted_row < network_at && network_at < blocked_row,
        "each page in its own table"
    );
    for want in [
        "Facebook Messenger",
        "AS64510",
        "Test ISP 64510",
        "<svg class=\"strip\"",
        "2026-11-27: 0 / 1 reached",
        "telegram.local_laws",
        "Platform restriction",
        "Network blocking",
        "/api/v1/countries/KH/social?format=csv",
        "/api/v1/countries/KH/restricted?format=csv",
        "/api/v1/countries/KH/social/series?format=json",
    ] {
        assert!(html.contains(want), "page lacks {want:?}");
    }
    let km = c.get("/country/KH?lang=km").await;
    assert_eq!(km.status, StatusCode::OK);
    assert!(km.body.contains("ត្រូវបានរឹតបន្តឹងដោយវេទិកា"));
    // exports: CSV with a header and one line per row; JSON the same rows
    let cases = [
        ("/api/v1/countries/KH/social", 1, "service"),
        ("/api/v1/countries/KH/social/series", 2, "share_reachable"),
        ("/api/v1/countries/KH/restricted", 2, "first_seen"),
        (
            "/api/v1/countries/KH/restricted?status=platform_restricted",
            1,
            "fingerprint",
        ),
    ];
    for (path, rows, column) in cases {
        let json = get_json(&mut c, path).await;
        assert_eq!(json.as_array().unwrap().len(), rows, "{path}");
        let sep = if path.contains('?') { '&' } else { '?' };
        let csv = c.get(&format!("{path}{sep}format=csv")).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let mut lines = csv.body.lines();
        assert!(
            lines.next().unwrap().split(',').any(|h| h == column),
            "{path}"
        );
        assert_eq!(lines.count(), rows, "{path}");
    }
    // filters follow the country page's conventions
    let only = get_json(&mut c, "/api/v1/countries/KH/restricted?asn=64511").await;
    assert_eq!(only.as_array().unwrap().len(), 1);
    let before = get_json(&mut c, "/api/v1/countries/KH/social/series?to=2026-11-27").await;
    assert_eq!(before.as_array().unwrap().len(), 1);
    for bad in [
        "/api/v1/countries/KH/restricted?status=everything",
        "/api/v1/countries/KH/social?from=yesterday",
        "/api/v1/countries/K1/social",
        "/api/v1/social/a%20b/raw",
    ] {
        assert_eq!(c.get(bad).await.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(
        c.get("/api/v1/social/nope/raw").await.status,
        StatusCode::NOT_FOUND
    );
}

/// `serve --demo`: the social story the demo documents, judged by the
/// collector's code, shows in the store queries and on the country page.
#[tokio::test]
async fn the_demo_tells_its_social_story() {
    use canary_web::demo;
    let server = start(true).await;
    let day = |d: i64| (demo::FIRST_DAY + time::Duration::days(d)).to_string();
    let f = canary_store::Filters::default();
    let states = server.store.social_latest("KH", &f).await.unwrap();
    assert_eq!(states.len(), 4 * demo::NETWORKS.len());
    let state = |service: &str, asn: u32| {
        states
            .iter()
            .find(|s| s.service == service && s.asn == asn)
            .unwrap_or_else(|| panic!("{service} AS{asn}"))
    };
    // (service, network, blocked since day, layer, kind)
    let blocked = [
        ("telegram", 64500, 10, "tcp", "blackhole"),
        ("whatsapp", 64501, 20, "dns", "nxdomain"),
        ("signal", 64502, 15, "tls", "reset"),
    ];
    for (service, asn, since, layer, kind) in blocked {
        let s = state(service, asn);
        assert_eq!(s.outcome, canary_store::Outcome::Blocked, "{service}");
        assert_eq!(
            (s.layer.as_deref(), s.kind.as_deref()),
            (Some(layer), Some(kind)),
            "{service}"
        );
        let since_day = s.blocked_since.map(|t| t.date().to_string());
        assert_eq!(since_day, Some(day(since)), "{service}");
        let last_ok = s.last_ok.map(|t| t.date().to_string());
        assert_eq!(last_ok, Some(day(since - 1)), "{service}");
    }
    assert_eq!(
        state("facebook_messenger", 64500).outcome,
        canary_store::Outcome::Ok
    );
    // Messenger's DNS episode shows in the series of Example Mobile.
    let series = server.store.social_series("KH", &f).await.unwrap();
    let fb_blocked: Vec<String> = series
        .iter()
        .filter(|d| d.service == "facebook_messenger" && d.blocked > 0)
        .map(|d| format!("{} AS{}", d.day, d.asn))
        .collect();
    let want: Vec<String> = (5..=8).map(|d| format!("{} AS64500", day(d))).collect();
    assert_eq!(fb_blocked, want);
    let pages = server.store.restricted_pages("KH", &f).await.unwrap();
    let platform: Vec<_> = pages
        .iter()
        .filter(|p| p.status == "platform_restricted")
        .collect();
    assert_eq!(platform.len(), demo::NETWORKS.len(), "{pages:?}");
    assert!(platform.iter().all(|p| p.url.contains("t.me")
        && p.first_seen.date().to_string() == day(12)
        && p.current));
    let network: Vec<_> = pages
        .iter()
        .filter(|p| p.status == "network_blocked")
        .collect();
    assert_eq!(network.len(), 1, "{pages:?}");
    assert_eq!(
        (network[0].asn, network[0].first_seen.date().to_string()),
        (64501, day(18))
    );
    assert_eq!(
        (network[0].layer.as_deref(), network[0].kind.as_deref()),
        (Some("tls"), Some("reset"))
    );
    let mut c = Client::new(&server);
    let page = c.get("/country/KH").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.body.replace("&#x2f;", "/");
    assert!(html.contains("Example Mobile (demo)") && html.contains("class=\"strip\""));
    assert!(
        html.contains("t.me/s/example_news_demo")
            && html.contains("facebook.com/example.rights.demo")
    );
}

/// The probe's address never reaches the store, in social measurements
/// as in web connectivity ones.
#[tokio::test]
async fn the_probe_address_is_scrubbed_from_social_measurements() {
    let server = start(false).await;
    let mut c = Client::new(&server);
    let mut m = network_blocked("ac-ip", 64511, "2026-11-28 08:00:00");
    m["probe_ip"] = json!("203.0.113.5");
    m["test_keys"]["requests"][0]["failure"] = json!("connection_reset: from 203.0.113.5:51234");
    assert_eq!(submit(&mut c, &m).await.0, StatusCode::CREATED);
    let raw = c.get("/api/v1/social/ac-ip/raw").await;
    assert!(!raw.body.contains("203.0.113.5"), "{}", raw.body);
    let v: Value = serde_json::from_str(&raw.body).unwrap();
    assert_eq!(v["probe_ip"], "127.0.0.1");
    assert_eq!(
        v["test_keys"]["requests"][0]["failure"],
        "connection_reset: from 127.0.0.1:51234"
    );
}

/// Stored social measurements can be re-judged from their raw JSON: with
/// the same rules nothing changes (the verdict depends on the records
/// only), and a measurement that is not a social test is refused.
#[tokio::test]
async fn stored_social_measurements_rejudge_to_the_same_verdicts() {
    let server = start(false).await;
    let mut c = Client::new(&server);
    for m in [
        facebook("fb-r", 64510, "2026-11-28 08:00:00"),
        platform_restricted("ac-r1", 64510, "2026-11-28 08:00:00"),
        network_blocked("ac-r2", 64511, "2026-11-28 08:00:00"),
    ] {
        assert_eq!(submit(&mut c, &m).await.0, StatusCode::CREATED);
    }
    let raw = server.store.social_raw_batch(None, 100).await.unwrap();
    assert_eq!(raw.len(), 3);
    let verdicts: Vec<_> = raw
        .iter()
        .map(|r| {
            let v = canary_web::collector::social_verdict(&r.raw_json).unwrap();
            (r.id.clone(), v)
        })
        .collect();
    let report = server
        .store
        .replace_social_verdicts(&verdicts)
        .await
        .unwrap();
    assert_eq!(
        (report.changed, report.unchanged, report.missing),
        (0, 3, 0)
    );
    let web = serde_json::to_vec(&json!({"test_name": "dnscheck", "test_keys": {}})).unwrap();
    let refusal = canary_web::collector::social_verdict(&web).unwrap_err();
    assert_eq!(refusal.error, "unsupported_test");
}

/// The HTML of `path`, with minijinja's escaped '/' undone.
async fn page(c: &mut Client, path: &str) -> String {
    let r = c.get(path).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    r.body.replace("&#x2f;", "/")
}

#[tokio::test]
async fn a_social_measurement_has_its_own_page_in_english_and_khmer() {
    let server = start(false).await;
    let mut c = Client::new(&server);
    for m in [
        facebook("fb-page", 64510, "2026-11-28 08:00:00"),
        platform_restricted("ac-platform", 64510, "2026-11-28 09:00:00"),
        network_blocked("ac-network", 64511, "2026-11-28 10:00:00"),
    ] {
        assert_eq!(submit(&mut c, &m).await.0, StatusCode::CREATED);
    }
    // What each page must show, in English then in Khmer.
    let cases: [(&str, &str, &[&str]); 6] = [
        (
            "messaging test: per endpoint, OONI's keys",
            "/measurement/fb-page?lang=en",
            &[
                "<code>facebook_messenger</code>",
                "Facebook Messenger",
                "AS64510",
                "Test ISP 64510",
                "2026-11-28",
                "Each endpoint measured",
                "<tr class=\"endpoint blocked\"><td><code>b_api</code>",
                "<tr class=\"endpoint ok\"><td><code>edge</code>",
                "TCP connection",
                "The connection was silently dropped",
                "generic_timeout_error",
                "OONI&#x27;s keys (recomputed)",
                "<code>facebook_tcp_blocking</code></td><td><code>true</code>",
                "say blocked",
                "canary-social/1",
                "href=\"/measurement/fb-page/raw\"",
            ],
        ),
        (
            "account check restricted by the platform: both views and the fingerprint",
            "/measurement/ac-platform?lang=en",
            &[
                "<code>canary_account_check</code>",
                "<code>https://t.me/s/freepress</code>",
                "Free Press (NEWS)",
                "<span class=\"badge platform\">Platform restriction</span>",
                "not the ISP",
                "<code>telegram.local_laws</code>",
                "What each side saw",
                "<td>Telegram: Contact @freepress</td><td>Free Press</td>",
                "<td>200</td><td>200</td>",
                "<code>account_status</code></td><td><code>&quot;platform_restricted&quot;</code>",
            ],
        ),
        (
            "account check blocked by the network: the layer and kind, no fingerprint",
            "/measurement/ac-network?lang=en",
            &[
                "<span class=\"badge network\">Network blocking</span>",
                "the network (the ISP) blocked it",
                "TLS handshake",
                "The connection was reset",
                "connection_reset",
                "AS64511",
            ],
        ),
        (
            "messaging test in Khmer",
            "/measurement/fb-page?lang=km",
            &[
                "ចំណុចតភ្ជាប់នីមួយៗដែលបានវាស់",
                "គន្លឹះរបស់ OONI (គណនាឡើងវិញ)",
                "និយាយថាត្រូវបានបិទ",
                "<code>b_api</code>",
            ],
        ),
        (
            "platform restriction in Khmer",
            "/measurement/ac-platform?lang=km",
            &[
                "ការរឹតបន្តឹងដោយវេទិកា",
                "អ្វីដែលភាគីនីមួយៗបានឃើញ",
                "<code>telegram.local_laws</code>",
            ],
        ),
        (
            "network blocking in Khmer",
            "/measurement/ac-network?lang=km",
            &["ការបិទដោយបណ្ដាញ", "បណ្ដាញ (ក្រុមហ៊ុនផ្ដល់អ៊ីនធឺណិត) បានបិទវា"],
        ),
    ];
    for (name, path, wants) in cases {
        let html = page(&mut c, path).await;
        for want in wants {
            assert!(html.contains(want), "{name}: {path} lacks {want:?}");
        }
    }
    // The English strings are not left in the Khmer page.
    let km = page(&mut c, "/measurement/ac-platform?lang=km").await;
    assert!(!km.contains("What each side saw"), "translated");

    // The raw JSON downloads from the page's link, as stored.
    let raw = c.get("/measurement/fb-page/raw").await;
    assert_eq!(raw.status, StatusCode::OK);
    assert!(raw.headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("fb-page.json"));
    let v: Value = serde_json::from_str(&raw.body).unwrap();
    assert_eq!(
        v["test_keys"]["facebook_tcp_blocking"], false,
        "as submitted"
    );

    // Unknown ids are still 404 on every route.
    for path in [
        "/measurement/nope",
        "/measurement/nope/raw",
        "/api/v1/measurements/nope",
    ] {
        assert_eq!(c.get(path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn the_measurement_api_gives_a_social_measurements_verdict_as_json_and_csv() {
    let server = start(false).await;
    let mut c = Client::new(&server);
    for m in [
        facebook("fb-api", 64510, "2026-11-28 08:00:00"),
        platform_restricted("ac-api", 64510, "2026-11-28 09:00:00"),
    ] {
        assert_eq!(submit(&mut c, &m).await.0, StatusCode::CREATED);
    }
    let fb = get_json(&mut c, "/api/v1/measurements/fb-api").await;
    let fb = &fb[0];
    assert_eq!(fb["test_name"], "facebook_messenger");
    assert_eq!(fb["service"], "facebook_messenger");
    assert_eq!(
        (&fb["probe_cc"], &fb["probe_asn"]),
        (&json!("KH"), &json!(64510))
    );
    assert_eq!(fb["probe_network_name"], "Test ISP 64510");
    assert_eq!(fb["measurement_start_time"], "2026-11-28T08:00:00Z");
    assert_eq!(fb["raw_url"], "/measurement/fb-api/raw");
    let v = &fb["verdict"];
    assert_eq!(
        (&v["outcome"], &v["layer"], &v["kind"]),
        (&json!("blocked"), &json!("tcp"), &json!("blackhole")),
        "{v}"
    );
    assert_eq!(v["ooni_keys"]["facebook_tcp_blocking"], true);
    let b_api = v["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["endpoint"] == "b_api")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(b_api["failure"], "generic_timeout_error", "{v}");

    let ac = get_json(&mut c, "/api/v1/measurements/ac-api").await;
    let a = &ac[0]["verdict"]["account"];
    assert_eq!(a["status"], "platform_restricted", "{ac}");
    assert_eq!(a["fingerprint"], "telegram.local_laws");
    assert_eq!(a["probe"]["title"], "Telegram: Contact @freepress");
    assert_eq!(a["control"]["title"], "Free Press");
    assert_eq!(ac[0]["service"], "telegram");

    let csv = c.get("/api/v1/measurements/ac-api?format=csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    let mut lines = csv.body.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row = lines.next().unwrap();
    assert!(header.contains(&"account_status"), "{header:?}");
    assert!(row.contains("platform_restricted"), "{row}");
    assert_eq!(lines.count(), 0, "one row");
}

#[tokio::test]
async fn the_social_panel_links_each_row_to_its_measurement_page() {
    let server = start(false).await;
    let mut c = Client::new(&server);
    for m in [
        facebook("fb-link", 64510, "2026-11-28 08:00:00"),
        network_blocked("ac-link", 64511, "2026-11-28 09:00:00"),
    ] {
        assert_eq!(submit(&mut c, &m).await.0, StatusCode::CREATED);
    }
    let html = page(&mut c, "/country/KH?lang=en").await;
    for want in [
        "href=\"/measurement/fb-link\"",
        "href=\"/measurement/ac-link\"",
    ] {
        assert!(html.contains(want), "panel lacks {want:?}");
    }
    assert!(!html.contains("/api/v1/social/"), "no raw-JSON links left");
}

/// Stores `m` with `verdict` as if an older collector had judged it.
async fn store_as_judged(server: &common::TestServer, m: &Value, verdict: SocialVerdictRow) {
    let raw = body(m);
    let parsed = canary_model::Measurement::from_slice(&raw).unwrap();
    let new = NewSocialMeasurement::from_measurement(&parsed, &raw, verdict).unwrap();
    server.store.insert_social_batch(&[new]).await.unwrap();
}

/// A stored measurement that today's rules can no longer judge (here: one
/// stored by an older collector with no network records) still has a
/// page: its stored verdict, and a note with the reason today's rules
/// cannot judge it; the API says the same.
#[tokio::test]
async fn a_stored_measurement_the_rules_cannot_judge_shows_its_stored_verdict_and_why() {
    let server = start(false).await;
    let mut c = Client::new(&server);
    let mut m = facebook("fb-old", 64510, "2026-11-28 08:00:00");
    m["test_keys"] = json!({"queries": []});
    let mut old = SocialVerdictRow::new(
        "facebook_messenger",
        canary_store::Outcome::Ok,
        "older rules",
    );
    old.rules_version = "canary-social/0".into();
    store_as_judged(&server, &m, old).await;

    let html = page(&mut c, "/measurement/fb-old?lang=en").await;
    for want in [
        "<code>facebook_messenger</code>",
        "AS64510",
        "<section class=\"verdict ok\">",
        "older rules",
        "Today&#x27;s rules say otherwise",
        "cannot judge this stored measurement",
        "no network records",
        "<code>canary reanalyse</code>",
        "href=\"/measurement/fb-old/raw\"",
    ] {
        assert!(html.contains(want), "page lacks {want:?}");
    }
    let api = get_json(&mut c, "/api/v1/measurements/fb-old").await;
    assert_eq!(api[0]["verdict"]["explanation"], "older rules", "{api}");
    assert_eq!(api[0]["rejudged"]["verdict"], Value::Null, "{api}");
    assert!(
        api[0]["rejudged"]["error"]
            .as_str()
            .unwrap()
            .contains("no network records"),
        "{api}"
    );
}

/// The page shows the verdict stored at ingest (or by the last
/// reanalysis), not a fresh one; only when today's rules would answer
/// differently does it add a note saying by which rules each was made,
/// what today's says, what differs, and how to store it.
#[tokio::test]
async fn the_page_shows_the_stored_verdict_and_a_note_only_when_todays_rules_differ() {
    let server = start(false).await;
    let mut c = Client::new(&server);
    // Judged on arrival by today's rules: stored == today's.
    let same = platform_restricted("ac-same", 64510, "2026-11-28 09:00:00");
    assert_eq!(submit(&mut c, &same).await.0, StatusCode::CREATED);
    // Stored by "older rules" that took the platform's notice for the ISP.
    let m = platform_restricted("ac-older", 64510, "2026-11-28 10:00:00");
    let mut older = canary_web::collector::social_verdict(&body(&m)).unwrap();
    older.rules_version = "canary-social/0".into();
    older.layer = Some("tls".into());
    older.kind = Some("reset".into());
    older.explanation = "older rules: the ISP reset the connection".into();
    if let Some(a) = older.account.as_mut() {
        a.status = "network_blocked".into();
        a.fingerprint = None;
    }
    store_as_judged(&server, &m, older).await;

    let note = "Today&#x27;s rules say otherwise";
    // (case, path, must contain, must not contain)
    let cases: [(&str, &str, &[&str], &[&str]); 3] = [
        (
            "stored as today's rules say: no note",
            "/measurement/ac-same?lang=en",
            &[
                "<span class=\"badge platform\">Platform restriction</span>",
                "<code>telegram.local_laws</code>",
            ],
            &[note, "canary reanalyse"],
        ),
        (
            "stored by older rules: the stored verdict, then the note",
            "/measurement/ac-older?lang=en",
            &[
                "<span class=\"badge network\">Network blocking</span>",
                "older rules: the ISP reset the connection",
                note,
                "stored with the rules <code>canary-social/0</code>",
                "today with the rules <code>canary-social/1</code>",
                "Platform restriction (<code>telegram.local_laws</code>)",
                "What differs: Page status, Layer, How, Fingerprint that matched",
                "Rules version",
                "<code>canary reanalyse</code>",
            ],
            &["<span class=\"badge platform\">"],
        ),
        (
            "the note in Khmer",
            "/measurement/ac-older?lang=km",
            &[
                "ច្បាប់បច្ចុប្បន្ននិយាយខុសពីនេះ",
                "ស្ថានភាពទំព័រ",
                "<code>canary-social/0</code>",
            ],
            &["What differs"],
        ),
    ];
    for (name, path, wants, unwanted) in cases {
        let html = page(&mut c, path).await;
        let stored_at = html.find("<section class=\"verdict");
        let note_at = html.find("<section class=\"rejudged");
        for want in wants {
            assert!(html.contains(want), "{name}: {path} lacks {want:?}");
        }
        for not in unwanted {
            assert!(!html.contains(not), "{name}: {path} has {not:?}");
        }
        if note_at.is_some() {
            assert!(
                stored_at < note_at,
                "{name}: the stored verdict comes first"
            );
        }
    }
    // The API: the stored verdict, and today's only where it differs.
    let same = get_json(&mut c, "/api/v1/measurements/ac-same").await;
    assert_eq!(same[0]["rejudged"], Value::Null, "{same}");
    let older = get_json(&mut c, "/api/v1/measurements/ac-older").await;
    assert_eq!(older[0]["verdict"]["account"]["status"], "network_blocked");
    assert_eq!(older[0]["verdict"]["rules_version"], "canary-social/0");
    let today = &older[0]["rejudged"]["verdict"];
    assert_eq!(today["account"]["status"], "platform_restricted", "{older}");
    assert_eq!(today["rules_version"], "canary-social/1");
    let csv = c.get("/api/v1/measurements/ac-older?format=csv").await;
    let mut lines = csv.body.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |k: &str| row[header.iter().position(|h| *h == k).unwrap()];
    assert_eq!(
        (col("account_status"), col("rejudged")),
        ("network_blocked", "true")
    );
}

/// A page whose notice Canary's built-in fingerprints do not know: the
/// channel comes at both vantages (200), but inside the country it says
/// it was withheld at a ministry's request, in Indonesian.
fn operator_notice(uid: &str) -> Value {
    let url = "https://t.me/s/operator";
    account(
        uid,
        64510,
        "2026-11-28 11:00:00",
        url,
        json!({"requests": [{"request": {"method": "GET", "url": url, "headers_list": []},
            "response": {"code": 200, "headers_list": [],
                "body": "<html><title>Free Press</title><p>Kanal ini diblokir atas permintaan kementerian.</p></html>"},
            "failure": null, "tags": tags("page")}]}),
        "reachable",
    )
}

/// The operator's fingerprint file that knows that notice.
const OPERATOR_FINGERPRINTS: &str = r#"{"fingerprints": [{"id": "telegram.ministry_request",
    "platform": "telegram", "location": "body", "pattern": "diblokir atas permintaan",
    "note": "Indonesian: blocked at the ministry's request"}]}"#;

#[tokio::test]
async fn an_operators_restriction_fingerprint_turns_a_reachable_page_into_a_platform_restriction() {
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fingerprints.json");
    std::fs::write(&file, OPERATOR_FINGERPRINTS).unwrap();
    let loaded = canary_web::collector::load_restriction_fingerprints(&[&file]).unwrap();
    // (server, expected status, expected fingerprint, in the restricted table?)
    let builtin = start(false).await;
    let operator = common::start_with(false, |cfg| {
        cfg.restriction_fingerprints = Arc::new(loaded);
    })
    .await;
    let cases = [
        (
            "built-in fingerprints",
            &builtin,
            "reachable",
            Value::Null,
            0,
        ),
        (
            "the operator's file",
            &operator,
            "platform_restricted",
            json!("telegram.ministry_request"),
            1,
        ),
    ];
    for (name, server, status, fingerprint, restricted) in cases {
        let mut c = Client::new(server);
        assert_eq!(
            submit(&mut c, &operator_notice("ac-operator")).await.0,
            StatusCode::CREATED,
            "{name}"
        );
        let m = get_json(&mut c, "/api/v1/measurements/ac-operator").await;
        let a = &m[0]["verdict"]["account"];
        assert_eq!(a["status"], status, "{name}: {m}");
        assert_eq!(a["fingerprint"], fingerprint, "{name}: {m}");
        let table = get_json(
            &mut c,
            "/api/v1/countries/KH/restricted?status=platform_restricted",
        )
        .await;
        assert_eq!(
            table.as_array().unwrap().len(),
            restricted,
            "{name}: {table}"
        );
        let html = page(&mut c, "/measurement/ac-operator?lang=en").await;
        assert_eq!(
            html.contains("<code>telegram.ministry_request</code>"),
            restricted == 1,
            "{name}: the page names the operator's fingerprint only where it judged by it"
        );
    }
}

#[test]
fn restriction_fingerprint_files_are_bounded_and_a_bad_one_is_refused_naming_it() {
    use canary_web::collector::{
        builtin_restriction_fingerprints, load_restriction_fingerprints, MAX_FINGERPRINT_FILES,
        MAX_FINGERPRINT_FILE_BYTES,
    };
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let good = write("good.json", OPERATOR_FINGERPRINTS.as_bytes());
    let mut big = OPERATOR_FINGERPRINTS.as_bytes().to_vec();
    big.resize(MAX_FINGERPRINT_FILE_BYTES + 1, b' ');
    let oversized = write("oversized.json", &big);
    let not_json = write("not-json.json", b"fingerprints: []");
    let short = write(
        "short.json",
        br#"{"fingerprints": [{"id": "x.y", "platform": "x", "location": "title", "pattern": "ban"}]}"#,
    );
    let binary = write("binary.json", &[0xff, 0xfe, b'{', b'}']);
    let missing = dir.path().join("missing.json");
    // (case, files, words the error must contain)
    let refused: [(&str, Vec<_>, &[&str]); 6] = [
        ("missing", vec![missing.clone()], &["missing.json"]),
        (
            "oversized",
            vec![oversized],
            &["oversized.json", "bytes accepted"],
        ),
        ("not JSON", vec![not_json], &["not-json.json"]),
        (
            "a pattern that would match ordinary pages",
            vec![short],
            &["short.json", "shorter than 6"],
        ),
        ("not UTF-8", vec![binary], &["binary.json", "UTF-8"]),
        (
            "too many files",
            vec![good.clone(); MAX_FINGERPRINT_FILES + 1],
            &["at most"],
        ),
    ];
    for (name, files, words) in refused {
        let e = load_restriction_fingerprints(&files)
            .expect_err(name)
            .to_string();
        for w in words {
            assert!(e.contains(w), "{name}: {e:?} lacks {w:?}");
        }
    }
    let builtin = builtin_restriction_fingerprints().list().len();
    let none: [&std::path::Path; 0] = [];
    assert_eq!(
        load_restriction_fingerprints(&none).unwrap().list().len(),
        builtin,
        "no file: the built-in ones"
    );
    let extended = load_restriction_fingerprints(&[&good]).unwrap();
    assert_eq!(extended.list().len(), builtin + 1, "a file extends them");
    let twice = load_restriction_fingerprints(&[&good, &good]).unwrap();
    assert_eq!(
        twice.list().len(),
        builtin + 1,
        "the same id replaces, not repeats"
    );
}
