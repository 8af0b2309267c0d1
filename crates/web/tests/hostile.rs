//! SQL-injection and XSS strings in every filter, path segment and field
//! come back escaped or rejected, never executed or reflected raw.

mod common;

use common::{start, Client};
use reqwest::StatusCode;
use serde_json::{json, Value};

const HOSTILE: [&str; 6] = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "' OR '1'='1",
    "1; DROP TABLE measurements; --",
    "KH' UNION SELECT password_hash FROM users --",
    "javascript:alert(1)",
];

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn assert_not_reflected(body: &str, what: &str) {
    for raw in ["<script>alert(1)</script>", "<img src=x onerror"] {
        assert!(!body.contains(raw), "{what}: raw markup reflected");
    }
}

#[tokio::test]
async fn hostile_filters_and_path_segments_are_rejected_or_escaped() {
    let server = start(true).await;
    let before = server.store.count().await.unwrap();
    let mut c = Client::new(&server);
    for h in HOSTILE {
        let e = enc(h);
        let urls = [
            format!("/country/{e}"),
            format!("/country/KH?asn={e}"),
            format!("/country/KH?category={e}"),
            format!("/country/KH?from={e}"),
            format!("/country/KH?to={e}"),
            format!("/domain/{e}"),
            format!("/asn/{e}"),
            format!("/measurement/{e}"),
            format!("/measurement/{e}/raw"),
            format!("/country?cc={e}"),
            format!("/?lang={e}"),
            format!("/api/v1/countries/{e}/blocked"),
            format!("/api/v1/countries/KH/blocked?asn={e}"),
            format!("/api/v1/countries/KH/series?category={e}"),
            format!("/api/v1/domains/{e}"),
            format!("/api/v1/asns/{e}"),
            format!("/api/v1/measurements?domain={e}"),
            format!("/api/v1/measurements?country={e}"),
            format!("/api/v1/measurements?outcome={e}"),
            format!("/api/v1/measurements?limit={e}"),
            format!("/api/v1/events?domain={e}"),
            format!("/api/v1/countries/KH/blocked?format={e}"),
        ];
        for url in &urls {
            let r = c.get(url).await;
            assert!(
                matches!(r.status.as_u16(), 200 | 400 | 404),
                "{url}: {} {}",
                r.status,
                r.body
            );
            assert_ne!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{url}");
            assert_not_reflected(&r.body, url);
            if r.status == StatusCode::BAD_REQUEST && !url.starts_with("/api/") {
                assert!(
                    r.body.contains("The request was refused"),
                    "{url}: a clear reason"
                );
            }
        }
    }
    assert_eq!(
        server.store.count().await.unwrap(),
        before,
        "nothing changed"
    );
    // the store is intact: the country page still works
    assert_eq!(c.get("/country/KH").await.status, StatusCode::OK);
}

#[tokio::test]
async fn hostile_strings_inside_stored_measurements_are_escaped_on_every_page() {
    let server = start(false).await;
    let mut c = Client::new(&server);
    let (ms, _) = canary_web::demo::dataset().unwrap();
    let blocked = ms
        .iter()
        .find(|m| m.verdict.kind.as_deref() == Some("blockpage_ip"))
        .unwrap();
    let mut v: Value = serde_json::from_slice(&blocked.raw_json).unwrap();
    let xss = "<script>alert(1)</script>";
    v["measurement_uid"] = json!("20241101000000.000777_KH_webconnectivity_x");
    v["probe_network_name"] = json!(format!("ISP {xss}"));
    v["report_id"] = json!(format!("r {xss}"));
    v["software_name"] = json!(xss);
    v["test_keys"]["queries"][0]["failure"] = json!(xss);
    v["test_keys"]["requests"][0]["response"]["body"] =
        json!(format!("<html><head><title>{xss}</title></head></html>"));
    let r = c
        .post_body("/api/v1/submit", serde_json::to_vec(&v).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    for url in [
        "/",
        "/country/KH",
        "/domain/news-daily.example",
        "/asn/64500",
        "/measurement/20241101000000.000777_KH_webconnectivity_x",
    ] {
        for lang in ["en", "km"] {
            let r = c.get(&format!("{url}?lang={lang}")).await;
            assert_eq!(r.status, StatusCode::OK, "{url}");
            assert_not_reflected(&r.body, url);
        }
    }
    let page = c
        .get("/measurement/20241101000000.000777_KH_webconnectivity_x")
        .await;
    assert!(page.body.contains("&lt;script&gt;"), "shown, escaped");
    // CSV export defuses formulas
    let mut f = v.clone();
    f["measurement_uid"] = json!("20241101000000.000778_KH_webconnectivity_y");
    f["probe_network_name"] = json!("=HYPERLINK(\"http://evil\")");
    let r = c
        .post_body("/api/v1/submit", serde_json::to_vec(&f).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let csv = c.get("/api/v1/measurements?format=csv").await;
    assert!(csv.body.contains("'=HYPERLINK"), "{}", csv.body);
}
