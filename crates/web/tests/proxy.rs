//! Per-source limits behind a reverse proxy, on loopback: forwarding
//! headers are believed only from a trusted proxy, each forwarded client
//! then has its own collector bucket and its own login throttle, spoofing
//! never escapes a limit, and a forwarded address is never logged or
//! stored.
//!
//! Every request here comes from 127.0.0.1, which plays the proxy.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, Once, OnceLock};

use canary_store::Store;
use canary_web::accounts::Role;
use canary_web::{serve, ServerHandle, WebConfig};
use common::{test_config, TestServer, PASSWORD};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, COOKIE, SET_COOKIE};
use reqwest::StatusCode;

// ------------------------------------------------------------ log capture

/// Everything any test of this binary logged, at every level.
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| Arc::new(Mutex::new(Vec::new())))
}

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        logs().lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber (before the shared harness can
/// install its own) and the TLS provider reqwest needs.
fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
            .with_writer(|| Capture)
            .with_ansi(false)
            .init();
    });
}

fn captured() -> String {
    String::from_utf8_lossy(&logs().lock().unwrap()).into_owned()
}

// ----------------------------------------------------------------- harness

/// A server over a fresh SQLite store in a directory the test can read.
async fn start(tweak: impl FnOnce(&mut WebConfig)) -> (TestServer, tempfile::TempDir) {
    init();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("canary.db");
    let store = Store::open(path.to_str().unwrap()).await.unwrap();
    let mut cfg = test_config(store.clone());
    cfg.submit_burst = 2;
    cfg.submit_per_second = 0.0;
    cfg.login_max_failures = 2;
    tweak(&mut cfg);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle: ServerHandle = serve(cfg, listener).await.unwrap();
    (TestServer::from_parts(handle, store), dir)
}

fn trust_loopback(cfg: &mut WebConfig) {
    cfg.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
}

/// A client whose every request carries `headers` (what the proxy adds).
fn client(headers: &[(&str, &str)]) -> reqwest::Client {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(map)
        .build()
        .unwrap()
}

/// A valid demo measurement with a fresh uid.
fn measurement(n: u32) -> Vec<u8> {
    let uid = format!("20241101000000.{n:06}_KH_webconnectivity_px");
    serde_json::to_vec(&common::blockpage_measurement(&uid)).unwrap()
}

/// Submits one measurement as a client behind the proxy; the status code.
async fn submit(server: &TestServer, headers: &[(&str, &str)], n: u32) -> u16 {
    client(headers)
        .post(format!("{}/api/v1/submit", server.base))
        .header("content-type", "application/json")
        .body(measurement(n))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// One login attempt (login page, then the form with its CSRF token).
async fn login(server: &TestServer, headers: &[(&str, &str)], name: &str, password: &str) -> u16 {
    let http = client(headers);
    let page = http
        .get(format!("{}/login", server.base))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = page
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    let csrf = common::Client::csrf(&page.text().await.unwrap());
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("name", name)
        .append_pair("password", password)
        .append_pair("csrf", &csrf)
        .finish();
    http.post(format!("{}/login", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header(COOKIE, cookies.join("; "))
        .body(form)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

const XFF: &str = "x-forwarded-for";

/// Headers the proxy passes on.
type Headers<'a> = &'a [(&'a str, &'a str)];

// ------------------------------------------------------------------- tests

#[tokio::test]
async fn without_a_trusted_proxy_forwarding_headers_do_not_escape_the_collector_limit() {
    let (server, _dir) = start(|_| {}).await;
    let mut got = Vec::new();
    for (n, headers) in [
        [(XFF, "203.0.113.1")],
        [(XFF, "203.0.113.2")],
        [(XFF, "203.0.113.3")],
        [("forwarded", "for=203.0.113.4")],
    ]
    .iter()
    .enumerate()
    {
        got.push(submit(&server, headers, n as u32).await);
    }
    assert_eq!(got, vec![201, 201, 429, 429], "one bucket: the TCP peer's");
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_collector_bucket() {
    let (server, _dir) = start(trust_loopback).await;
    let a = [(XFF, "203.0.113.10")];
    let b = [(XFF, "2001:db8::10")];
    let a_spoofing = [(XFF, "198.51.100.99, 203.0.113.10")];
    let a_forwarded = [("forwarded", "for=203.0.113.10;proto=http")];
    let b_same_64 = [("forwarded", "for=\"[2001:db8::ffff]:4711\"")];
    #[rustfmt::skip]
    let steps: &[(&str, Headers, u16)] = &[
        ("a, first", &a, 201),
        ("a, second", &a, 201),
        ("a exhausted", &a, 429),
        ("a cannot escape by prepending entries", &a_spoofing, 429),
        ("a is the same client through Forwarded", &a_forwarded, 429),
        ("b is not limited by a", &b, 201),
        ("b, second (same /64 through Forwarded)", &b_same_64, 201),
        ("b exhausted", &b, 429),
        ("the proxy itself (no header) has its own bucket", &[], 201),
        ("a malformed header counts as the proxy", &[(XFF, "not an address")], 201),
        ("the proxy's bucket is now empty too", &[(XFF, "unknown")], 429),
    ];
    for (n, (what, headers, want)) in steps.iter().enumerate() {
        assert_eq!(submit(&server, headers, n as u32).await, *want, "{what}");
    }
    assert_eq!(
        server
            .handle
            .stats()
            .submissions_stored
            .load(std::sync::atomic::Ordering::Relaxed),
        6,
        "a and b twice each, the proxy twice"
    );
}

#[tokio::test]
async fn login_throttling_is_per_forwarded_client_and_spoofing_does_not_escape_it() {
    // Behind a trusted proxy: a's failures lock a out, not b.
    let (server, _dir) = start(trust_loopback).await;
    server.add_user("dara", Role::Viewer).await;
    let a = [(XFF, "203.0.113.20")];
    let b = [(XFF, "203.0.113.21")];
    #[rustfmt::skip]
    let steps: &[(&str, Headers, &str, &str, u16)] = &[
        ("a fails (account x)", &a, "x1", "wrong", 401),
        ("a fails (account y)", &a, "y1", "wrong", 401),
        ("a is locked out, even with the right password", &a, "dara", PASSWORD, 429),
        ("b is not", &b, "dara", PASSWORD, 303),
    ];
    for (what, headers, name, password, want) in steps {
        assert_eq!(
            login(&server, headers, name, password).await,
            *want,
            "{what}"
        );
    }

    // No trusted proxy: changing X-Forwarded-For changes nothing.
    let (server, _dir) = start(|_| {}).await;
    server.add_user("dara", Role::Viewer).await;
    #[rustfmt::skip]
    let steps: &[(&str, Headers, &str, &str, u16)] = &[
        ("fails as 203.0.113.22", &[(XFF, "203.0.113.22")], "x2", "wrong", 401),
        ("fails as 203.0.113.23", &[(XFF, "203.0.113.23")], "y2", "wrong", 401),
        ("a third address is the same source", &[(XFF, "203.0.113.24")], "dara", PASSWORD, 429),
    ];
    for (what, headers, name, password, want) in steps {
        assert_eq!(
            login(&server, headers, name, password).await,
            *want,
            "{what}"
        );
    }
}

#[tokio::test]
async fn a_trusted_proxys_https_marks_cookies_secure_and_nobody_elses_does() {
    let https = [("x-forwarded-proto", "https")];
    for (what, trusted, want_prefix, want_secure) in [
        (
            "trusted proxy says https",
            true,
            "__Host-canary_csrf=",
            true,
        ),
        ("untrusted peer says https", false, "canary_csrf=", false),
    ] {
        let (server, _dir) = start(|cfg| {
            if trusted {
                trust_loopback(cfg)
            }
        })
        .await;
        let resp = client(&https)
            .get(format!("{}/login", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let cookie = resp
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.contains("canary_csrf="))
            .expect("a CSRF cookie");
        assert!(cookie.starts_with(want_prefix), "{what}: {cookie}");
        assert_eq!(cookie.contains("; Secure"), want_secure, "{what}: {cookie}");
    }
}

#[tokio::test]
async fn forwarded_addresses_are_never_logged_or_stored() {
    let (server, dir) = start(trust_loopback).await;
    let secrets = [
        "198.18.7.1",
        "198.18.7.2",
        "198.18.7.3",
        "2001:db8:7::4",
        "198.18.7.5",
    ];
    // A stored submission, a refused one, failed logins, malformed and
    // Forwarded headers, and an untrusted-looking chain.
    assert_eq!(submit(&server, &[(XFF, secrets[0])], 900).await, 201);
    assert_eq!(submit(&server, &[(XFF, secrets[0])], 901).await, 201);
    assert_eq!(submit(&server, &[(XFF, secrets[0])], 902).await, 429);
    for _ in 0..3 {
        login(&server, &[(XFF, secrets[1])], "nobody", "wrong").await;
    }
    let malformed = format!("{} junk", secrets[2]);
    submit(&server, &[(XFF, &malformed)], 903).await;
    let forwarded = format!("for=\"[{}]:1\"", secrets[3]);
    submit(&server, &[("forwarded", &forwarded)], 904).await;
    let chain = format!("{}, 127.0.0.1", secrets[4]);
    submit(&server, &[(XFF, &chain)], 905).await;
    server.handle.shutdown().await;

    let logs = captured();
    assert!(
        logs.contains("login failed") && logs.contains("submission refused"),
        "the capture works (it saw the refusals)"
    );
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            stored.extend(std::fs::read(&path).unwrap());
        }
    }
    assert!(stored.len() > 1000, "the database files were read");
    let stored = String::from_utf8_lossy(&stored);
    for secret in secrets {
        assert!(!logs.contains(secret), "{secret} was logged");
        assert!(!stored.contains(secret), "{secret} was stored");
    }
}
