//! The API reads of one thing (a country, a site, a network, a country's
//! social-media tables) keep one contract: access is checked first, then
//! the path, `?format=`, the filters and the extra parameters, in that
//! order (the first problem is the one reported), and a CSV export is a
//! download named after the table and the normalised key.

mod common;

use canary_web::accounts::Role;
use common::{start, start_with, Client};
use reqwest::StatusCode;
use serde_json::Value;

const TABLES: [&str; 9] = [
    "/api/v1/countries/KH/blocked",
    "/api/v1/countries/KH/series",
    "/api/v1/countries/KH/summary",
    "/api/v1/countries/KH/networks",
    "/api/v1/domains/example.com",
    "/api/v1/asns/64500",
    "/api/v1/countries/KH/social",
    "/api/v1/countries/KH/social/series",
    "/api/v1/countries/KH/restricted",
];

#[tokio::test]
async fn csv_exports_are_named_after_the_table_and_the_normalised_key() {
    let server = start(true).await;
    let mut c = Client::new(&server);
    let cases = [
        ("/api/v1/countries/kh/blocked", "blocked-KH"),
        ("/api/v1/countries/kh/series", "series-KH"),
        ("/api/v1/countries/kh/summary", "summary-KH"),
        ("/api/v1/countries/kh/networks", "networks-KH"),
        ("/api/v1/domains/Example.COM.", "timeline-example.com"),
        ("/api/v1/asns/as64500", "timeline-AS64500"),
        ("/api/v1/countries/kh/social", "social-KH"),
        ("/api/v1/countries/kh/social/series", "social-series-KH"),
        ("/api/v1/countries/kh/restricted", "restricted-KH"),
    ];
    for (path, name) in cases {
        let r = c.get(&format!("{path}?format=csv")).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        assert_eq!(
            r.headers["content-disposition"].to_str().unwrap(),
            format!("attachment; filename=\"{name}.csv\""),
            "{path}"
        );
        let json = c.get(path).await;
        assert_eq!(json.status, StatusCode::OK, "{path}");
        assert!(
            json.headers.get("content-disposition").is_none(),
            "{path}: JSON is not a download"
        );
    }
}

#[tokio::test]
async fn the_first_problem_in_check_order_is_the_one_reported() {
    let server = start(false).await;
    let mut c = Client::new(&server);
    #[rustfmt::skip]
    let cases = [
        ("path before format", "/api/v1/countries/KHM/blocked?format=xml&from=bad", "country:"),
        ("format before filters", "/api/v1/countries/KH/series?format=xml&from=bad", "format:"),
        ("filters", "/api/v1/countries/KH/summary?asn=x", "asn:"),
        ("dates in order", "/api/v1/countries/KH/networks?from=2024-02-01&to=2024-01-01", "from:"),
        ("a bad ASN in the path", "/api/v1/asns/x?format=xml", "asn:"),
        ("a bad domain in the path", "/api/v1/domains/a%20b?format=xml", "domain:"),
        ("filters before ?country=", "/api/v1/domains/example.com?country=KHM&from=bad", "from:"),
        ("?country= of a site", "/api/v1/domains/example.com?country=KHM", "country:"),
        ("?country= of a network", "/api/v1/asns/AS64500?country=1", "country:"),
        ("filters before ?status=", "/api/v1/countries/KH/restricted?status=x&to=bad", "to:"),
        ("?status=", "/api/v1/countries/KH/restricted?status=x", "status:"),
        ("social: path first", "/api/v1/countries/K1/social?format=xml", "country:"),
        ("social series: format", "/api/v1/countries/KH/social/series?format=xml", "format:"),
    ];
    for (what, path, reason) in cases {
        let r = c.get(path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{what}: {}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        let got = v["reason"].as_str().unwrap_or_default();
        assert!(got.starts_with(reason), "{what}: reason {got:?}");
    }
}

#[tokio::test]
async fn a_closed_api_refuses_before_reading_anything_else() {
    let server = start_with(false, |cfg| cfg.access.api = Some(Role::Viewer)).await;
    server.add_user("sokha", Role::Viewer).await;
    let mut anonymous = Client::new(&server);
    let mut viewer = Client::new(&server);
    assert_eq!(
        viewer.login("sokha", common::PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    for path in TABLES {
        let bad = format!("{}?format=xml", path.replace("KH", "KHM"));
        let r = anonymous.get(&bad).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{bad}");
        let r = viewer.get(&bad).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        let r = viewer.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    }
}
