//! Every page and every export, in English and Khmer, against the real
//! server on loopback over the demo dataset.

mod common;

use common::{start, Client};
use reqwest::StatusCode;

const KHMER_SAMPLE: &str = "ត្រូវបានរារាំង"; // "blocked" in the Khmer catalog

fn has_khmer(s: &str) -> bool {
    s.chars().any(|c| ('\u{1780}'..='\u{17FF}').contains(&c))
}

#[tokio::test]
async fn every_page_renders_in_both_languages_with_its_content() {
    let server = start(true).await;
    let mut c = Client::new(&server);
    let first_blocked = server
        .store
        .blocked_now("KH", &Default::default())
        .await
        .unwrap();
    assert!(!first_blocked.is_empty(), "the demo has blocked sites");
    let dns = first_blocked
        .iter()
        .find(|b| b.layer.as_deref() == Some("dns"))
        .expect("a DNS-blocked site in the demo");
    let mid = dns.last_measurement_id.clone();
    let domain = dns.domain.clone();
    let pages: Vec<(String, &str)> = vec![
        ("/".into(), "KH"),
        ("/country/KH".into(), "<svg class=\"chart\""),
        (
            "/country/kh?asn=64500&from=2024-10-05&to=2024-10-30".into(),
            "AS64500",
        ),
        ("/country/KH?category=NEWS".into(), "news-daily.example"),
        (format!("/domain/{domain}"), "<svg class=\"chart timeline\""),
        ("/asn/64500".into(), "Example Mobile (demo)"),
        ("/asn/AS64502".into(), "<svg class=\"chart timeline\""),
        (format!("/measurement/{mid}"), "36.37.242.94"),
        ("/login".into(), "name=\"password\""),
    ];
    for (path, needle) in &pages {
        for lang in ["en", "km"] {
            let sep = if path.contains('?') { '&' } else { '?' };
            let r = c.get(&format!("{path}{sep}lang={lang}")).await;
            assert_eq!(r.status, StatusCode::OK, "{path} in {lang}: {}", r.body);
            assert!(r.body.contains(needle), "{path} in {lang} lacks {needle:?}");
            assert!(
                r.body.contains(&format!("<html lang=\"{lang}\">")),
                "{path} {lang}"
            );
            assert!(
                has_khmer(&r.body),
                "{path}: the language switch is in Khmer script"
            );
            if lang == "km" {
                assert!(
                    r.body.contains("ប្រទេស") || r.body.contains("ចូល"),
                    "{path}: Khmer UI text"
                );
            } else {
                assert!(
                    !r.body.contains(KHMER_SAMPLE),
                    "{path}: no Khmer UI text in English"
                );
            }
        }
    }
}

#[tokio::test]
async fn measurement_page_explains_the_verdict_and_shows_records_and_raw() {
    let server = start(true).await;
    let mut c = Client::new(&server);
    let blocked = server
        .store
        .blocked_now("KH", &Default::default())
        .await
        .unwrap();
    let dns = blocked
        .iter()
        .find(|b| b.layer.as_deref() == Some("dns") && b.confirmed)
        .unwrap();
    let r = c
        .get(&format!("/measurement/{}?lang=en", dns.last_measurement_id))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    for needle in [
        "What happened",
        "36.37.242.94",  // the probe's DNS answer
        "93.184.216.34", // what the control resolved
        "Confirmed by a fingerprint",
        "DNS answers seen by the control",
        "Download the raw JSON",
    ] {
        assert!(r.body.contains(needle), "measurement page lacks {needle:?}");
    }
    let raw = c
        .get(&format!("/measurement/{}/raw", dns.last_measurement_id))
        .await;
    assert_eq!(raw.status, StatusCode::OK);
    assert_eq!(raw.headers["content-type"], "application/json");
    assert!(raw.headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let v: serde_json::Value = serde_json::from_str(&raw.body).unwrap();
    assert_eq!(v["measurement_uid"], dns.last_measurement_id.as_str());
}

#[tokio::test]
async fn language_comes_from_query_then_cookie_then_accept_language() {
    let server = start(false).await;
    let mut c = Client::new(&server);
    c.accept_language = Some("fr-FR, km;q=0.8, en;q=0.5".into());
    let r = c.get("/").await;
    assert!(
        r.body.contains("<html lang=\"km\">"),
        "Accept-Language picks Khmer"
    );
    let r = c.get("/?lang=en").await;
    assert!(
        r.body.contains("<html lang=\"en\">"),
        "?lang wins over Accept-Language"
    );
    assert_eq!(c.cookies.get("canary_lang").map(String::as_str), Some("en"));
    let r = c.get("/").await;
    assert!(
        r.body.contains("<html lang=\"en\">"),
        "the cookie remembers the switch"
    );
    // the visible switch links to the same page in the other language
    assert!(
        r.body.contains("?lang=km\" hreflang=\"km\""),
        "switch link: {}",
        r.body
    );
}

#[tokio::test]
async fn every_api_table_exports_as_json_and_csv() {
    let server = start(true).await;
    let mut c = Client::new(&server);
    let blocked = server
        .store
        .blocked_now("KH", &Default::default())
        .await
        .unwrap();
    let mid = &blocked[0].last_measurement_id;
    let domain = &blocked[0].domain;
    let tables = [
        ("/api/v1/countries".to_string(), "code"),
        ("/api/v1/countries/KH/blocked".into(), "domain"),
        ("/api/v1/countries/KH/series".into(), "tested"),
        ("/api/v1/countries/KH/summary".into(), "sites_blocked"),
        ("/api/v1/countries/KH/networks".into(), "asn"),
        (format!("/api/v1/domains/{domain}"), "outcome"),
        ("/api/v1/asns/64500".into(), "outcome"),
        ("/api/v1/measurements?country=KH&limit=5".into(), "probe_cc"),
        (format!("/api/v1/measurements/{mid}"), "verdict"),
        ("/api/v1/events?country=KH".into(), "confidence"),
    ];
    for (path, column) in &tables {
        let sep = if path.contains('?') { '&' } else { '?' };
        let j = c.get(&format!("{path}{sep}format=json")).await;
        assert_eq!(j.status, StatusCode::OK, "{path}: {}", j.body);
        assert!(j.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
        let v: serde_json::Value = serde_json::from_str(&j.body).unwrap();
        assert!(
            v.as_array().map(|a| !a.is_empty()).unwrap_or(v.is_object()),
            "{path}: non-empty JSON"
        );
        let csv = c.get(&format!("{path}{sep}format=csv")).await;
        assert_eq!(csv.status, StatusCode::OK, "{path}");
        assert!(csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let header = csv.body.lines().next().unwrap_or("");
        assert!(
            header.split(',').any(|h| h.starts_with(column)),
            "{path}: CSV header {header:?} lacks {column}"
        );
        assert!(csv.body.lines().count() >= 2, "{path}: CSV has rows");
    }
    let r = c.get("/api/v1/countries/KH/blocked?format=xml").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn country_page_numbers_match_the_store() {
    let server = start(true).await;
    let mut c = Client::new(&server);
    let summary = server
        .store
        .country_summary("KH", &Default::default())
        .await
        .unwrap();
    let r = c.get("/country/KH?lang=en").await;
    assert!(r
        .body
        .contains(&format!("<dd>{}</dd>", summary.measurements)));
    assert!(r
        .body
        .contains(&format!("<dd>{}</dd>", summary.sites_blocked)));
    let bars = r.body.matches("class=\"bar\"").count();
    let series = server
        .store
        .blocked_share_series("KH", &Default::default())
        .await
        .unwrap();
    assert_eq!(bars, series.len(), "one bar per day");
}

#[tokio::test]
async fn security_headers_on_every_response() {
    let server = start(false).await;
    let mut c = Client::new(&server);
    for path in [
        "/",
        "/login",
        "/api/v1/countries",
        "/nope",
        "/assets/style.css",
    ] {
        let r = c.get(path).await;
        let csp = r.headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert_eq!(r.headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(r.headers["referrer-policy"], "no-referrer", "{path}");
    }
}

#[tokio::test]
async fn khmer_font_is_served_with_long_cache_and_counted() {
    let server = start(false).await;
    let mut c = Client::new(&server);
    let css = c.get("/assets/style.css").await;
    assert!(css.body.contains("@font-face") && css.body.contains("NotoSansKhmer-Regular.ttf"));
    let before = server
        .handle
        .stats()
        .font_requests
        .load(std::sync::atomic::Ordering::Relaxed);
    let url = format!("{}/assets/fonts/NotoSansKhmer-Regular.ttf", server.base);
    let resp = reqwest::get(&url).await.unwrap();
    assert_eq!(resp.headers()["content-type"], "font/ttf");
    assert!(resp.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age=31536000"));
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(&bytes[..4], &[0, 1, 0, 0], "a TrueType font");
    assert_eq!(bytes.len(), canary_web::KHMER_FONT.len());
    let after = server
        .handle
        .stats()
        .font_requests
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(after, before + 1);
}

#[tokio::test]
async fn unknown_things_are_404_in_the_visitors_language() {
    let server = start(true).await;
    let mut c = Client::new(&server);
    let r = c.get("/measurement/does-not-exist?lang=km").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("រកមិនឃើញ"));
    let r = c.get("/api/v1/measurements/does-not-exist").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.starts_with('{'));
    let r = c.get("/no/such/page").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
