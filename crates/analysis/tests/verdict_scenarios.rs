//! Verdicts on hand-built measurements, one per way a censor (or a site)
//! can interfere — the same rows as the lab's scenario table
//! (`crates/lab/src/scenario.rs`), with the same expected OONI `blocking` /
//! `accessible` (v0.5 semantics) and Canary label. The measurements are
//! written the way Canary's probe records them (the primary resolver's
//! lookups tagged `classic`, `x_spki_sha256` on TLS handshakes).

use canary_analysis::fingerprints::FingerprintDb;
use canary_analysis::verdict::{analyse_web_connectivity, Context, Kind, Layer, Outcome, Verdict};
use canary_model::WebConnectivityTestKeys;
use proptest::prelude::*;
use serde_json::{json, Value};

const IP: &str = "93.184.216.34";
const SPKI_REAL: &str = "aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11";
const SPKI_OTHER: &str = "bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22";

fn page() -> String {
    format!(
        "<html><head><title>Canary Lab Site Home</title></head><body>{}</body></html>",
        "news ".repeat(400)
    )
}

fn query(host: &str, answers: &[&str], failure: Option<&str>) -> Value {
    json!({
        "hostname": host, "engine": "udp", "query_type": "A", "resolver_address": "10.0.0.53:53",
        "failure": failure, "tags": ["depth=0", "classic"],
        "answers": answers.iter().map(|a| json!({"answer_type": "A", "ipv4": a})).collect::<Vec<_>>(),
    })
}

fn tcp(ip: &str, port: u16, failure: Option<&str>) -> Value {
    json!({"ip": ip, "port": port, "status": {"success": failure.is_none(), "failure": failure}})
}

fn tls(ip: &str, host: &str, failure: Option<&str>, spki: Option<&str>) -> Value {
    let mut v = json!({"address": format!("{ip}:443"), "server_name": host, "failure": failure});
    if let Some(s) = spki {
        v["x_spki_sha256"] = json!(s);
    }
    v
}

fn ok_response(url: &str, code: i64, body: &str, headers: &[(&str, &str)]) -> Value {
    json!({
        "request": {"url": url, "method": "GET"},
        "failure": null,
        "response": {
            "code": code, "body": body, "body_is_truncated": false,
            "headers_list": headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        },
    })
}

fn failed_request(url: &str, failure: &str) -> Value {
    json!({"request": {"url": url, "method": "GET"}, "failure": failure, "response": null})
}

/// The control's view: the site resolves to `IP`, connects on 80 and 443,
/// presents `SPKI_REAL`, and serves `page()`.
fn control() -> Value {
    json!({
        "dns": {"failure": null, "addrs": [IP]},
        "tcp_connect": {
            format!("{IP}:80"): {"status": true, "failure": null},
            format!("{IP}:443"): {"status": true, "failure": null},
        },
        "tls_handshake": {
            format!("{IP}:443"): {"server_name": "site.example", "status": true, "failure": null, "x_spki_sha256": SPKI_REAL},
        },
        "http_request": {
            "status_code": 200, "body_length": page().len(), "failure": null,
            "title": "Canary Lab Site Home",
            "headers": {"Content-Type": "text/html", "X-Lab-Site": "1"},
        },
        "ip_info": {IP: {"asn": 15133, "flags": 11}},
    })
}

fn keys(
    queries: Vec<Value>,
    tcp: Vec<Value>,
    tls: Vec<Value>,
    requests: Vec<Value>,
    control: Value,
) -> Value {
    json!({
        "queries": queries, "tcp_connect": tcp, "tls_handshakes": tls, "requests": requests,
        "control": control, "control_failure": null, "x_dns_duplicate_responses": [],
        // The probe's own verdict is deliberately wrong: it must never be read.
        "blocking": "tcp_ip", "accessible": false, "dns_consistency": "inconsistent",
    })
}

const H: &str = "site.example";
const HTTP_URL: &str = "http://site.example/";
const HTTPS_URL: &str = "https://site.example/";
const SITE_HEADERS: &[(&str, &str)] = &[("Content-Type", "text/html"), ("X-Lab-Site", "1")];

struct Row {
    name: &'static str,
    url: &'static str,
    cc: &'static str,
    tk: Value,
    blocking: Value,
    accessible: Option<bool>,
    outcome: Outcome,
    layer: Option<Layer>,
    kind: Option<Kind>,
    confirmed: bool,
}

#[allow(clippy::too_many_arguments)]
fn row(
    name: &'static str,
    url: &'static str,
    tk: Value,
    blocking: Value,
    accessible: Option<bool>,
    outcome: Outcome,
    layer: Option<Layer>,
    kind: Option<Kind>,
) -> Row {
    Row {
        name,
        url,
        cc: "KH",
        tk,
        blocking,
        accessible,
        outcome,
        layer,
        kind,
        confirmed: false,
    }
}

fn dns_ok() -> Vec<Value> {
    vec![query(H, &[IP], None)]
}

fn blocked(
    name: &'static str,
    url: &'static str,
    tk: Value,
    blocking: &str,
    layer: Layer,
    kind: Kind,
) -> Row {
    row(
        name,
        url,
        tk,
        json!(blocking),
        Some(false),
        Outcome::Blocked,
        Some(layer),
        Some(kind),
    )
}

fn rows() -> Vec<Row> {
    let page = page();
    let blockpage =
        "<html><head><title>Access blocked</title></head><body>canary-lab-blockpage</body></html>";
    let ok_http = keys(
        dns_ok(),
        vec![tcp(IP, 80, None), tcp(IP, 443, None)],
        vec![tls(IP, H, None, Some(SPKI_REAL))],
        vec![ok_response(HTTP_URL, 200, &page, SITE_HEADERS)],
        control(),
    );
    let ok_https = keys(
        dns_ok(),
        vec![tcp(IP, 443, None)],
        vec![tls(IP, H, None, Some(SPKI_REAL))],
        vec![ok_response(HTTPS_URL, 200, &page, SITE_HEADERS)],
        control(),
    );
    let dns_fail = |failure: &str| {
        keys(
            vec![query(H, &[], Some(failure))],
            vec![],
            vec![],
            vec![],
            control(),
        )
    };
    let mut injection = keys(
        vec![query(H, &["6.6.6.6"], None)],
        vec![tcp("6.6.6.6", 80, Some("generic_timeout_error"))],
        vec![],
        vec![],
        control(),
    );
    injection["x_dns_duplicate_responses"] = json!([query(H, &[IP], None)]);
    let mut down_control = control();
    down_control["tcp_connect"] =
        json!({format!("{IP}:80"): {"status": false, "failure": "connection_refused_error"}});
    down_control["http_request"] = json!({"status_code": -1, "body_length": -1, "failure": "connection_refused_error", "title": ""});
    let mut throttled = keys(
        dns_ok(),
        vec![tcp(IP, 80, None)],
        vec![],
        vec![failed_request(HTTP_URL, "generic_timeout_error")],
        control(),
    );
    throttled["network_events"] = json!([
        {"operation": "write", "num_bytes": 120, "failure": null},
        {"operation": "read", "num_bytes": 4096, "failure": null},
        {"operation": "read", "num_bytes": 0, "failure": "generic_timeout_error"},
    ]);
    let mut blockpage_ip = row(
        "dns_blockpage_ip",
        HTTP_URL,
        keys(
            vec![query(H, &["36.37.242.94"], None)],
            vec![tcp("36.37.242.94", 80, None)],
            vec![],
            vec![ok_response(
                HTTP_URL,
                200,
                blockpage,
                &[("Content-Type", "text/html")],
            )],
            control(),
        ),
        json!("dns"),
        Some(false),
        Outcome::Blocked,
        Some(Layer::Dns),
        Some(Kind::BlockpageIp),
    );
    blockpage_ip.confirmed = true;
    let mut http_blockpage = blocked(
        "http_blockpage",
        HTTP_URL,
        keys(
            dns_ok(),
            vec![tcp(IP, 80, None), tcp(IP, 443, None)],
            vec![tls(IP, H, None, Some(SPKI_REAL))],
            vec![ok_response(
                HTTP_URL,
                200,
                blockpage,
                &[("Content-Type", "text/html")],
            )],
            control(),
        ),
        "http-diff",
        Layer::Http,
        Kind::Blockpage,
    );
    http_blockpage.confirmed = true;
    let mut redirect = blocked(
        "http_redirect_to_blockpage",
        HTTP_URL,
        keys(
            vec![
                query(H, &[IP], None),
                query("blockpage.example", &["203.0.113.80"], None),
            ],
            vec![tcp(IP, 80, None), tcp("203.0.113.80", 80, None)],
            vec![],
            vec![
                ok_response(
                    "http://blockpage.example/",
                    200,
                    blockpage,
                    &[("Content-Type", "text/html")],
                ),
                ok_response(
                    HTTP_URL,
                    302,
                    "",
                    &[("Location", "http://blockpage.example/")],
                ),
            ],
            control(),
        ),
        "http-diff",
        Layer::Http,
        Kind::RedirectToBlockpage,
    );
    redirect.confirmed = true;

    let ok_redirect_chain = keys(
        vec![query(H, &[IP], None)],
        vec![tcp(IP, 80, None)],
        vec![],
        vec![
            ok_response("http://site.example/final", 200, &page, SITE_HEADERS),
            ok_response(
                "http://site.example/hop1",
                302,
                "",
                &[("Location", "http://site.example/final")],
            ),
            ok_response(
                HTTP_URL,
                301,
                "",
                &[("Location", "http://site.example/hop1")],
            ),
        ],
        control(),
    );
    let mut large = ok_http.clone();
    let big = format!(
        "<html><head><title>Canary Lab Site Home</title></head><body>{}",
        "x".repeat(512 * 1024 - 60)
    );
    large["requests"] = json!([ok_response(HTTP_URL, 200, &big, SITE_HEADERS)]);
    large["requests"][0]["response"]["body_is_truncated"] = json!(true);
    large["control"]["http_request"]["body_length"] = json!(2 * 1024 * 1024);
    vec![
        row(
            "ok_http",
            HTTP_URL,
            ok_http.clone(),
            json!(false),
            Some(true),
            Outcome::Ok,
            None,
            None,
        ),
        row(
            "ok_slow",
            HTTP_URL,
            ok_http,
            json!(false),
            Some(true),
            Outcome::Ok,
            None,
            None,
        ),
        row(
            "ok_redirect_chain",
            HTTP_URL,
            ok_redirect_chain,
            json!(false),
            Some(true),
            Outcome::Ok,
            None,
            None,
        ),
        row(
            "ok_large_body",
            HTTP_URL,
            large,
            json!(false),
            Some(true),
            Outcome::Ok,
            None,
            None,
        ),
        row(
            "ok_https",
            HTTPS_URL,
            ok_https,
            json!(false),
            Some(true),
            Outcome::Ok,
            None,
            None,
        ),
        blocked(
            "dns_nxdomain",
            HTTP_URL,
            dns_fail("dns_nxdomain_error"),
            "dns",
            Layer::Dns,
            Kind::Nxdomain,
        ),
        blocked(
            "dns_refused",
            HTTP_URL,
            dns_fail("dns_refused_error"),
            "dns",
            Layer::Dns,
            Kind::Refused,
        ),
        blocked(
            "dns_servfail",
            HTTP_URL,
            dns_fail("dns_server_failure"),
            "dns",
            Layer::Dns,
            Kind::Servfail,
        ),
        blocked(
            "dns_no_answer",
            HTTP_URL,
            dns_fail("dns_no_answer"),
            "dns",
            Layer::Dns,
            Kind::NoAnswer,
        ),
        blocked(
            "dns_timeout",
            HTTP_URL,
            dns_fail("generic_timeout_error"),
            "dns",
            Layer::Dns,
            Kind::Timeout,
        ),
        blockpage_ip,
        blocked(
            "dns_bogon",
            HTTP_URL,
            keys(
                vec![query(H, &["10.10.34.35"], None)],
                vec![tcp("10.10.34.35", 80, Some("generic_timeout_error"))],
                vec![],
                vec![],
                control(),
            ),
            "dns",
            Layer::Dns,
            Kind::Bogon,
        ),
        blocked(
            "dns_injection",
            HTTP_URL,
            injection,
            "dns",
            Layer::Dns,
            Kind::Injection,
        ),
        blocked(
            "tcp_blackhole",
            HTTP_URL,
            keys(
                dns_ok(),
                vec![tcp(IP, 80, Some("generic_timeout_error"))],
                vec![],
                vec![],
                control(),
            ),
            "tcp_ip",
            Layer::Tcp,
            Kind::Blackhole,
        ),
        blocked(
            "tcp_reset",
            HTTP_URL,
            // In the lab the site has no :443 to check, so a reset at the
            // first bytes looks exactly like http_host_reset.
            keys(
                dns_ok(),
                vec![tcp(IP, 80, None)],
                vec![],
                vec![failed_request(HTTP_URL, "connection_reset")],
                control(),
            ),
            "http-failure",
            Layer::Http,
            Kind::Reset,
        ),
        blocked(
            "tls_sni_reset",
            HTTPS_URL,
            keys(
                dns_ok(),
                vec![tcp(IP, 443, None)],
                vec![tls(IP, H, Some("connection_reset"), None)],
                vec![],
                control(),
            ),
            "http-failure",
            Layer::Tls,
            Kind::Reset,
        ),
        blocked(
            "tls_sni_drop",
            HTTPS_URL,
            keys(
                dns_ok(),
                vec![tcp(IP, 443, None)],
                vec![tls(IP, H, Some("generic_timeout_error"), None)],
                vec![],
                control(),
            ),
            "http-failure",
            Layer::Tls,
            Kind::Timeout,
        ),
        blocked(
            "http_host_reset",
            HTTP_URL,
            keys(
                dns_ok(),
                vec![tcp(IP, 80, None), tcp(IP, 443, None)],
                vec![tls(IP, H, None, Some(SPKI_REAL))],
                vec![failed_request(HTTP_URL, "connection_reset")],
                control(),
            ),
            "http-failure",
            Layer::Http,
            Kind::Reset,
        ),
        http_blockpage,
        redirect,
        blocked(
            "tls_mitm_untrusted_ca",
            HTTPS_URL,
            keys(
                dns_ok(),
                vec![tcp(IP, 443, None)],
                vec![tls(IP, H, Some("ssl_unknown_authority"), Some(SPKI_OTHER))],
                vec![],
                control(),
            ),
            "http-failure",
            Layer::Tls,
            Kind::Interception,
        ),
        row(
            "tls_mitm_trusted_ca_other_key",
            HTTPS_URL,
            keys(
                dns_ok(),
                vec![tcp(IP, 443, None)],
                vec![tls(IP, H, None, Some(SPKI_OTHER))],
                vec![ok_response(HTTPS_URL, 200, &page, SITE_HEADERS)],
                control(),
            ),
            json!(false),
            Some(true),
            Outcome::Blocked,
            Some(Layer::Tls),
            Some(Kind::Interception),
        ),
        row(
            "site_down",
            HTTP_URL,
            keys(
                dns_ok(),
                vec![tcp(IP, 80, Some("connection_refused"))],
                vec![],
                vec![],
                down_control,
            ),
            json!(false),
            Some(false),
            Outcome::Down,
            Some(Layer::Tcp),
            Some(Kind::RefusedConnection),
        ),
        blocked(
            "redirect_chain_last_hop_blocked",
            HTTP_URL,
            keys(
                vec![
                    query(H, &[IP], None),
                    query("hop2.site.example", &[IP], None),
                ],
                vec![tcp(IP, 80, None), tcp(IP, 443, None)],
                vec![tls(IP, H, None, Some(SPKI_REAL))],
                vec![
                    failed_request("http://hop2.site.example/final", "connection_reset"),
                    ok_response(
                        "http://site.example/hop1",
                        302,
                        "",
                        &[("Location", "http://hop2.site.example/final")],
                    ),
                    ok_response(
                        HTTP_URL,
                        301,
                        "",
                        &[("Location", "http://site.example/hop1")],
                    ),
                ],
                control(),
            ),
            "http-failure",
            Layer::Http,
            Kind::Reset,
        ),
        blocked(
            "throttled",
            HTTP_URL,
            throttled,
            "http-failure",
            Layer::Http,
            Kind::Throttling,
        ),
        row(
            "server_side_block",
            HTTPS_URL,
            keys(
                dns_ok(),
                vec![tcp(IP, 443, None)],
                vec![tls(IP, H, None, Some(SPKI_REAL))],
                vec![ok_response(
                    HTTPS_URL,
                    403,
                    "<html><title>403 Forbidden</title>Forbidden</html>",
                    &[("Server", "nginx")],
                )],
                control(),
            ),
            json!(false),
            Some(true),
            Outcome::Unknown,
            Some(Layer::Http),
            Some(Kind::ServerSide),
        ),
    ]
}

fn analyse(r: &Row, db: &FingerprintDb) -> Verdict {
    let tk: WebConnectivityTestKeys = serde_json::from_value(r.tk.clone()).unwrap();
    let ctx = Context::new(r.cc, db)
        .with_input(r.url)
        .with_test_version("0.5.28");
    analyse_web_connectivity(&tk, &ctx)
}

#[test]
fn every_lab_scenario_gets_the_expected_ooni_and_canary_verdict() {
    let db = FingerprintDb::canary_default();
    let rows = rows();
    assert_eq!(rows.len(), 26);
    let mut failures = Vec::new();
    for r in &rows {
        let v = analyse(r, &db);
        let got_blocking = serde_json::to_value(&v.blocking).unwrap();
        let got = (
            got_blocking,
            v.accessible,
            v.outcome,
            v.layer,
            v.kind,
            v.confirmed,
        );
        let want = (
            r.blocking.clone(),
            r.accessible,
            r.outcome,
            r.layer,
            r.kind,
            r.confirmed,
        );
        if got != want {
            failures.push(format!(
                "{}: got {got:?}, want {want:?} ({:?}; {})",
                r.name, v.rule_ids, v.explanation
            ));
        }
        assert!(!v.explanation.is_empty());
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn explanations_name_the_evidence() {
    let db = FingerprintDb::canary_default();
    let rows = rows();
    let find = |n: &str| rows.iter().find(|r| r.name == n).unwrap();
    let cases: &[(&str, &[&str])] = &[
        (
            "dns_blockpage_ip",
            &["36.37.242.94", "known blockpage address", IP],
        ),
        ("dns_nxdomain", &["does not exist", IP]),
        ("dns_injection", &["6.6.6.6", IP]),
        ("tls_mitm_trusted_ca_other_key", &["different key"]),
        ("server_side_block", &["403", "not network censorship"]),
        ("site_down", &["down, not blocked"]),
    ];
    for (name, needles) in cases {
        let v = analyse(find(name), &db);
        for n in *needles {
            assert!(
                v.explanation.contains(n),
                "{name}: {:?} lacks {n:?}",
                v.explanation
            );
        }
    }
}

#[test]
fn the_ooni_engine_follows_the_test_version() {
    let db = FingerprintDb::canary_default();
    let rows = rows();
    let find = |n: &str| rows.iter().find(|r| r.name == n).unwrap();
    // (scenario, test_version, expected blocking, accessible)
    let cases: &[(&str, &str, Value, Option<bool>)] = &[
        // v0.4 cannot tell "down" from blocking: all connects failed → tcp_ip.
        ("site_down", "0.4.3", json!("tcp_ip"), Some(false)),
        ("site_down", "0.5.28", json!(false), Some(false)),
        // v0.4.3 blames any inconsistent DNS right away; ≤0.4.2 looks further.
        ("dns_bogon", "0.4.3", json!("dns"), Some(false)),
        ("dns_bogon", "0.4.2", json!("dns"), Some(false)),
        ("ok_http", "0.4.3", json!(false), Some(true)),
        (
            "tls_mitm_trusted_ca_other_key",
            "0.4.3",
            json!(false),
            Some(true),
        ),
        ("http_blockpage", "0.4.3", json!("http-diff"), Some(false)),
        ("tcp_blackhole", "0.4.3", json!("tcp_ip"), Some(false)),
    ];
    for (name, version, blocking, accessible) in cases {
        let r = find(name);
        let tk: WebConnectivityTestKeys = serde_json::from_value(r.tk.clone()).unwrap();
        let ctx = Context::new(r.cc, &db)
            .with_input(r.url)
            .with_test_version(version);
        let v = analyse_web_connectivity(&tk, &ctx);
        assert_eq!(
            serde_json::to_value(&v.blocking).unwrap(),
            *blocking,
            "{name} v{version}"
        );
        assert_eq!(v.accessible, *accessible, "{name} v{version}");
    }
}

#[test]
fn missing_control_or_records_give_unknown_not_blocked() {
    let db = FingerprintDb::canary_default();
    let cases: &[(&str, Value)] = &[
        ("empty test keys", json!({})),
        (
            "control failed",
            json!({"queries": [query(H, &[IP], None)], "tcp_connect": [tcp(IP, 80, Some("generic_timeout_error"))], "control_failure": "generic_timeout_error"}),
        ),
        (
            "no control at all",
            json!({"queries": [query(H, &[], Some("dns_nxdomain_error"))]}),
        ),
    ];
    for (what, tk) in cases {
        let tk: WebConnectivityTestKeys = serde_json::from_value(tk.clone()).unwrap();
        let v = analyse_web_connectivity(&tk, &Context::new("KH", &db).with_input(HTTP_URL));
        assert_eq!(v.outcome, Outcome::Unknown, "{what}: {v:?}");
        assert_eq!(v.blocking, None, "{what}");
        assert!(!v.confirmed);
    }
}

#[test]
fn a_site_that_does_not_resolve_anywhere_is_down() {
    let db = FingerprintDb::canary_default();
    let mut c = control();
    c["dns"] = json!({"failure": "dns_name_error", "addrs": []});
    let tk = keys(
        vec![query(H, &[], Some("dns_nxdomain_error"))],
        vec![],
        vec![],
        vec![],
        c,
    );
    let tk: WebConnectivityTestKeys = serde_json::from_value(tk).unwrap();
    let v = analyse_web_connectivity(
        &tk,
        &Context::new("KH", &db)
            .with_input(HTTP_URL)
            .with_test_version("0.4.3"),
    );
    assert_eq!((v.outcome, v.kind), (Outcome::Down, Some(Kind::Nxdomain)));
    assert_eq!(
        (serde_json::to_value(&v.blocking).unwrap(), v.accessible),
        (json!(false), Some(true)),
        "OONI's 'site no longer exists'"
    );
}

#[test]
fn a_cloudflare_challenge_over_http_is_server_side_not_censorship() {
    // ooni/probe#1734 (reported from KH): a Cloudflare CAPTCHA over http
    // is an http-diff for OONI; Canary recognises the challenge page.
    let db = FingerprintDb::canary_default();
    let body = "<html><head><title>Just a moment...</title></head><body><script src=\"https://challenges.cloudflare.com/x.js\"></script></body></html>";
    let tk = keys(
        dns_ok(),
        vec![tcp(IP, 80, None)],
        vec![],
        vec![ok_response(
            HTTP_URL,
            403,
            body,
            &[("Server", "cloudflare"), ("CF-Ray", "1")],
        )],
        control(),
    );
    let tk: WebConnectivityTestKeys = serde_json::from_value(tk).unwrap();
    let v = analyse_web_connectivity(
        &tk,
        &Context::new("KH", &db)
            .with_input(HTTP_URL)
            .with_test_version("0.5.28"),
    );
    assert_eq!(
        serde_json::to_value(&v.blocking).unwrap(),
        json!("http-diff")
    );
    assert_eq!(
        (v.outcome, v.kind),
        (Outcome::Unknown, Some(Kind::ServerSide)),
        "{}",
        v.explanation
    );
}

#[test]
fn a_403_over_plain_http_is_server_side_only_with_evidence_it_came_from_the_site() {
    let db = FingerprintDb::canary_default();
    let forbidden = "<html><head><title>403 Forbidden</title></head><body>Forbidden</body></html>";
    // (what, probe's Server header, expected outcome, kind)
    let cases: &[(&str, &str, Outcome, Kind)] = &[
        (
            "same Server as the control: the site's own 403",
            "ExampleServer/1.0",
            Outcome::Unknown,
            Kind::ServerSide,
        ),
        (
            "another Server: a middlebox may have answered",
            "SquidGuard",
            Outcome::Blocked,
            Kind::Diff,
        ),
    ];
    for (what, server, outcome, kind) in cases {
        let mut c = control();
        c["http_request"]["headers"]["Server"] = json!("ExampleServer/1.0");
        let tk = keys(
            dns_ok(),
            vec![tcp(IP, 80, None)],
            vec![],
            vec![ok_response(HTTP_URL, 403, forbidden, &[("Server", server)])],
            c,
        );
        let tk: WebConnectivityTestKeys = serde_json::from_value(tk).unwrap();
        let v = analyse_web_connectivity(
            &tk,
            &Context::new("KH", &db)
                .with_input(HTTP_URL)
                .with_test_version("0.5.28"),
        );
        assert_eq!(
            (v.outcome, v.kind),
            (*outcome, Some(*kind)),
            "{what}: {}",
            v.explanation
        );
        assert!(!v.confirmed, "{what}");
    }
}

#[test]
fn a_reset_that_also_hits_the_tls_check_is_aimed_at_the_connection() {
    // A v0.5 probe also opens :443 to every address of an http:// site. When
    // that TLS check is reset too (and the control's works), the censor
    // resets connections to the address whatever they carry: layer tcp.
    let db = FingerprintDb::canary_default();
    let tk = keys(
        dns_ok(),
        vec![tcp(IP, 80, None), tcp(IP, 443, None)],
        vec![tls(IP, H, Some("connection_reset"), None)],
        vec![failed_request(HTTP_URL, "connection_reset")],
        control(),
    );
    let tk: WebConnectivityTestKeys = serde_json::from_value(tk).unwrap();
    let v = analyse_web_connectivity(
        &tk,
        &Context::new("KH", &db)
            .with_input(HTTP_URL)
            .with_test_version("0.5.28"),
    );
    assert_eq!(
        serde_json::to_value(&v.blocking).unwrap(),
        json!("http-failure")
    );
    assert_eq!(
        (v.outcome, v.layer, v.kind),
        (Outcome::Blocked, Some(Layer::Tcp), Some(Kind::Reset))
    );
}

#[test]
fn keys_are_compared_per_address_so_a_cdn_with_several_keys_is_not_interception() {
    let db = FingerprintDb::canary_default();
    let ip_b = "93.184.216.35";
    let mut c = control();
    c["dns"]["addrs"] = json!([IP, ip_b]);
    c["tls_handshake"][format!("{ip_b}:443")] =
        json!({"server_name": H, "status": true, "failure": null, "x_spki_sha256": SPKI_OTHER});
    // (what, address the probe used, key it saw, expected outcome)
    let cases = [
        ("edge B with edge B's key", ip_b, SPKI_OTHER, Outcome::Ok),
        ("edge A with edge B's key", IP, SPKI_OTHER, Outcome::Blocked),
        ("edge A with edge A's key", IP, SPKI_REAL, Outcome::Ok),
    ];
    for (what, addr, key, want) in cases {
        let tk = keys(
            vec![query(H, &[IP, ip_b], None)],
            vec![tcp(addr, 443, None)],
            vec![tls(addr, H, None, Some(key))],
            vec![ok_response(HTTPS_URL, 200, &page(), SITE_HEADERS)],
            c.clone(),
        );
        let tk: WebConnectivityTestKeys = serde_json::from_value(tk).unwrap();
        let v = analyse_web_connectivity(
            &tk,
            &Context::new("KH", &db)
                .with_input(HTTPS_URL)
                .with_test_version("0.5.28"),
        );
        assert_eq!(v.outcome, want, "{what}: {}", v.explanation);
    }
}

#[test]
fn a_private_address_that_serves_the_site_over_verified_tls_is_not_a_bogon_block() {
    // Some networks answer with an in-network cache on a private address;
    // when it completes a verified handshake with the site's key, it is the site.
    let db = FingerprintDb::canary_default();
    let cache = "10.20.30.40";
    let tk = keys(
        vec![query(H, &[cache], None)],
        vec![tcp(cache, 443, None)],
        vec![tls(cache, H, None, Some(SPKI_REAL))],
        vec![ok_response(HTTPS_URL, 200, &page(), SITE_HEADERS)],
        control(),
    );
    let tk: WebConnectivityTestKeys = serde_json::from_value(tk).unwrap();
    let v = analyse_web_connectivity(
        &tk,
        &Context::new("KH", &db)
            .with_input(HTTPS_URL)
            .with_test_version("0.5.28"),
    );
    assert_eq!(v.outcome, Outcome::Ok, "{}", v.explanation);
    assert_eq!(serde_json::to_value(&v.blocking).unwrap(), json!(false));
}

#[test]
fn late_replies_are_injection_only_when_disjoint_and_unrelated_to_the_control() {
    let db = FingerprintDb::canary_default();
    let other = "93.184.216.99"; // same network as IP (AS15133 via ip_info below)
                                 // (what, first reply, late reply, injection?)
    let cases: &[(&str, &[&str], &[&str], bool)] = &[
        ("forged first, true later", &["6.6.6.6"], &[IP], true),
        ("same set re-ordered", &[IP, other], &[other, IP], false),
        ("overlapping rotation", &[IP, other], &[IP], false),
        (
            "disjoint but both the site's network",
            &[other],
            &[IP],
            false,
        ),
    ];
    for (what, first, late, want) in cases {
        let mut c = control();
        c["ip_info"][other] = json!({"asn": 15133, "flags": 1});
        let mut tk = keys(vec![query(H, first, None)], vec![], vec![], vec![], c);
        tk["x_dns_duplicate_responses"] = json!([query(H, late, None)]);
        let tk: WebConnectivityTestKeys = serde_json::from_value(tk).unwrap();
        let v = analyse_web_connectivity(
            &tk,
            &Context::new("KH", &db)
                .with_input(HTTP_URL)
                .with_test_version("0.5.28"),
        );
        assert_eq!(v.kind == Some(Kind::Injection), *want, "{what}: {v:?}");
    }
}

#[test]
fn the_verdict_serialises_with_ooni_spelling() {
    let db = FingerprintDb::canary_default();
    let rows = rows();
    let r = rows.iter().find(|r| r.name == "tls_sni_drop").unwrap();
    let v = serde_json::to_value(analyse(r, &db)).unwrap();
    assert_eq!(v["blocking"], json!("http-failure"));
    assert_eq!(v["accessible"], json!(false));
    assert_eq!(v["outcome"], json!("blocked"));
    assert_eq!(v["layer"], json!("tls"));
    assert_eq!(v["kind"], json!("timeout"));
    assert_eq!(v["rules_version"], json!(canary_analysis::RULES_VERSION));
    let back: Verdict = serde_json::from_value(v).unwrap();
    assert_eq!(back.kind, Some(Kind::Timeout));
}

fn shared_db() -> &'static FingerprintDb {
    static DB: std::sync::OnceLock<FingerprintDb> = std::sync::OnceLock::new();
    DB.get_or_init(FingerprintDb::canary_default)
}

fn arb_failure() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        proptest::sample::select(vec![
            "dns_nxdomain_error",
            "connection_reset",
            "connection_refused",
            "generic_timeout_error",
            "eof_error",
            "ssl_unknown_authority",
            "unknown_failure: weird",
            "",
        ])
        .prop_map(|s| Some(s.to_string())),
    ]
}

fn arb_ip() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(IP.to_string()),
        Just("36.37.242.94".to_string()),
        Just("10.10.10.1".to_string()),
        Just("::1".to_string()),
        Just("not an ip".to_string()),
        (any::<u8>(), any::<u8>()).prop_map(|(a, b)| format!("{a}.{b}.1.1")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn analysis_never_panics_and_is_deterministic(
        ips in proptest::collection::vec(arb_ip(), 0..4),
        dns_fail in arb_failure(),
        tcp_fail in arb_failure(),
        tls_fail in arb_failure(),
        http_fail in arb_failure(),
        code in -1i64..600,
        body in ".{0,200}",
        with_control in any::<bool>(),
        version in proptest::sample::select(vec!["0.0.1", "0.4.1", "0.4.3", "0.5.28", "garbage"]),
    ) {
        let ip_refs: Vec<&str> = ips.iter().map(String::as_str).collect();
        let first = ips.first().cloned().unwrap_or_default();
        let req = match &http_fail {
            Some(f) => failed_request(HTTP_URL, f),
            None => ok_response(HTTP_URL, code, &body, &[("X-A", "1")]),
        };
        let tk = keys(
            vec![query(H, &ip_refs, dns_fail.as_deref())],
            vec![tcp(&first, 80, tcp_fail.as_deref())],
            vec![tls(&first, H, tls_fail.as_deref(), None)],
            vec![req],
            if with_control { control() } else { Value::Null },
        );
        let tk: WebConnectivityTestKeys = serde_json::from_value(tk).unwrap();
        let db = shared_db();
        let ctx = Context::new("KH", db).with_input(HTTP_URL).with_test_version(version);
        let a = analyse_web_connectivity(&tk, &ctx);
        let b = analyse_web_connectivity(&tk, &ctx);
        prop_assert_eq!(&a, &b);
        // OONI's invariant: anomalies are never accessible.
        if matches!(a.blocking, Some(ref x) if x.is_anomaly()) {
            prop_assert_eq!(a.accessible, Some(false));
        }
        // Canary never claims confirmed blocking without a fingerprint.
        if a.confirmed {
            prop_assert!(a.fingerprint.is_some());
            prop_assert_eq!(a.outcome, Outcome::Blocked);
        }
        if a.outcome == Outcome::Ok {
            prop_assert!(a.kind.is_none());
        }
    }
}

/// The rows above are the lab's scenario table (`canary_lab::SCENARIOS`):
/// same names, same expected OONI and Canary verdicts.
#[test]
fn the_rows_match_the_lab_scenario_table() {
    let rows = rows();
    for spec in canary_lab::SCENARIOS {
        let r = rows
            .iter()
            .find(|r| r.name == spec.name)
            .unwrap_or_else(|| panic!("lab row {} has no analysis row", spec.name));
        let lab = serde_json::to_value(spec.expect).unwrap();
        let mine = json!({
            "blocking": r.blocking, "accessible": r.accessible, "outcome": r.outcome,
            "layer": r.layer, "kind": r.kind,
        });
        for key in ["blocking", "accessible", "outcome", "layer", "kind"] {
            assert_eq!(lab[key], mine[key], "{}: {key}", spec.name);
        }
    }
    let mut lab_names: Vec<&str> = canary_lab::SCENARIOS.iter().map(|s| s.name).collect();
    lab_names.sort();
    let mut mine: Vec<&str> = rows.iter().map(|r| r.name).collect();
    mine.sort();
    assert_eq!(mine, lab_names, "the two tables list the same scenarios");
}

/// The lab's own addresses: its blockpage server answers from an address
/// (127.1.2.1) that no fingerprint knows, inside the lab's routable
/// 127.1.0.0/16; the blockpage it serves carries the lab marker.
#[test]
fn lab_addresses_dns_blockpage_and_bogon() {
    let db = FingerprintDb::canary_default();
    let lab_ip = canary_lab::BLOCKPAGE_IP.to_string();
    let site_ip = "127.1.0.7";
    let mut c = control();
    c["dns"]["addrs"] = json!([site_ip]);
    let body = format!(
        "<html><title>Blocked</title>{}</html>",
        canary_lab::BLOCKPAGE_MARKER
    );
    let mut blockpage_req = ok_response(HTTP_URL, 200, &body, &[]);
    blockpage_req["address"] = json!(format!("{lab_ip}:80"));
    let tk = keys(
        vec![query(H, &[&lab_ip], None)],
        vec![tcp(&lab_ip, 80, None)],
        vec![],
        vec![blockpage_req],
        c.clone(),
    );
    let tk: WebConnectivityTestKeys = serde_json::from_value(tk).unwrap();
    let routable: canary_analysis::netutil::IpPrefix = canary_lab::ROUTABLE_CIDR.parse().unwrap();
    let ctx = Context::new("ZZ", &db)
        .with_input(HTTP_URL)
        .with_test_version("0.5.28")
        .with_routable(routable);
    let v = analyse_web_connectivity(&tk, &ctx);
    assert_eq!(
        (v.outcome, v.layer, v.kind),
        (Outcome::Blocked, Some(Layer::Dns), Some(Kind::BlockpageIp)),
        "{}",
        v.explanation
    );
    assert!(v.confirmed, "the lab marker is an isp-scope fingerprint");
    assert_eq!(serde_json::to_value(&v.blocking).unwrap(), json!("dns"));

    let bogon = canary_lab::BOGON_ANSWER.to_string();
    let tk = keys(
        vec![query(H, &[&bogon], None)],
        vec![tcp(&bogon, 80, Some("connection_refused"))],
        vec![],
        vec![],
        c,
    );
    let tk: WebConnectivityTestKeys = serde_json::from_value(tk).unwrap();
    let v = analyse_web_connectivity(&tk, &ctx);
    assert_eq!(
        (v.outcome, v.kind),
        (Outcome::Blocked, Some(Kind::Bogon)),
        "{}",
        v.explanation
    );
    // Without the routable override the lab's own addresses are bogons too,
    // and a bogon answer against a bogon control is no evidence of a bogon block.
    let plain = Context::new("ZZ", &db)
        .with_input(HTTP_URL)
        .with_test_version("0.5.28");
    assert_ne!(
        analyse_web_connectivity(&tk, &plain).kind,
        Some(Kind::Bogon)
    );
}
