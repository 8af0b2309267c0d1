//! HTTP round trips over measured streams: HTTP/1.1, h2, caps and hostile servers.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use canary_netx::http::{round_trip, HttpProtocol, HttpRequest};
use canary_netx::{failure, tcp, tls, Options};
use common::{ok_request_headers, opts, Pki, Raw, BUDGET};
use url::Url;

async fn get_plain(o: &Options, server: SocketAddr, path: &str) -> canary_netx::HttpTransaction {
    let (_, stream) = tcp::connect(o, server).await;
    let url = Url::parse(&format!("http://site.example{path}")).unwrap();
    let req = HttpRequest::get(url, ok_request_headers());
    round_trip(o, stream.unwrap(), Some(server), HttpProtocol::Http1, &req).await
}

#[tokio::test]
async fn http1_get_records_status_headers_in_order_with_duplicates_and_body() {
    let (server, _) = common::http_server().await;
    let o = opts();
    let tx = get_plain(&o, server, "/").await;
    assert_eq!(tx.failure, None);
    assert_eq!(tx.status, Some(200));
    assert_eq!(tx.body, b"<html><title>hello</title></html>");
    assert!(!tx.body_is_truncated);
    assert_eq!(tx.response_header("x-version"), Some("HTTP/1.1"));
    let cookies: Vec<_> = tx
        .response_headers
        .iter()
        .filter(|(k, _)| k == "Set-Cookie")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        cookies,
        vec!["a=1", "b=2"],
        "duplicates kept, in order, canonical names"
    );
    assert_eq!(
        tx.request.headers[0],
        ("Host".to_string(), "site.example".to_string())
    );
    assert_eq!(tx.address, Some(server));
    let t_first = tx.t_first_byte.unwrap();
    assert!(tx.t0 <= t_first && t_first <= tx.t);
    let ops: Vec<_> = tx.events.iter().map(|e| e.operation).collect();
    assert_eq!(
        ops,
        vec![
            "http_transaction_start",
            "http_first_response_byte",
            "http_transaction_done"
        ]
    );
}

#[tokio::test]
async fn http1_headers_keep_wire_order_even_when_duplicates_are_interleaved() {
    let server = common::raw_server(Raw::InterleavedHeaders).await;
    let tx = get_plain(&opts(), server, "/").await;
    assert_eq!(tx.failure, None);
    let got: Vec<(&str, &str)> = tx
        .response_headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("Set-Cookie", "a=1"),
            ("X-Between", "yes"),
            ("Set-Cookie", "b=2"),
            ("Content-Length", "2")
        ]
    );
    assert_eq!(tx.body, b"ok");
}

#[tokio::test]
async fn sloppy_middlebox_responses_are_recorded_not_rejected() {
    let server = common::raw_server(Raw::SloppyBlockpage).await;
    let tx = get_plain(&opts(), server, "/").await;
    assert_eq!(tx.failure, None);
    assert_eq!(tx.status, Some(403));
    assert_eq!(tx.response_header("Server"), Some("censor-box"));
    assert_eq!(tx.response_header("X-Reason"), Some("blocked by order 42"));
    assert_eq!(tx.body, b"blocked");
}

#[tokio::test]
async fn request_headers_reach_the_server_as_given() {
    let (server, _) = common::http_server().await;
    let tx = get_plain(&opts(), server, "/headers").await;
    let echoed = String::from_utf8(tx.body).unwrap();
    for line in [
        "host: site.example",
        "user-agent: canary-test/1",
        "accept: text/html",
        "accept-language: km,en;q=0.8",
    ] {
        assert!(echoed.contains(line), "missing {line:?} in {echoed:?}");
    }
}

#[tokio::test]
async fn h2_is_spoken_when_alpn_says_so() {
    let pki = Pki::new("h2 CA");
    let (chain, key) = pki.leaf(&["h2.example"], false);
    let server = common::https_server(common::server_config(chain, key, &["h2", "http/1.1"])).await;
    let mut o = opts();
    o.roots = pki.roots();
    let (_, stream) = tcp::connect(&o, server).await;
    let (hs, stream) = tls::handshake(&o, stream.unwrap(), "h2.example", tls::DEFAULT_ALPN).await;
    let protocol = HttpProtocol::from_alpn(hs.negotiated_protocol.as_deref());
    assert_eq!(protocol, HttpProtocol::Http2);
    let req = HttpRequest::get(
        Url::parse("https://h2.example/headers").unwrap(),
        ok_request_headers(),
    );
    let tx = round_trip(&o, stream.unwrap(), Some(server), protocol, &req).await;
    assert_eq!(tx.failure, None);
    assert_eq!(tx.status, Some(200));
    assert_eq!(tx.response_header("X-Version"), Some("HTTP/2.0"));
    let echoed = String::from_utf8(tx.body).unwrap();
    assert!(echoed.contains(":authority: h2.example"), "{echoed}");
    assert!(echoed.contains("user-agent: canary-test/1"), "{echoed}");
}

#[tokio::test]
async fn http1_over_tls_when_the_server_only_offers_http11() {
    let pki = Pki::new("h1 CA");
    let (chain, key) = pki.leaf(&["h1.example"], false);
    let server = common::https_server(common::server_config(chain, key, &["http/1.1"])).await;
    let mut o = opts();
    o.roots = pki.roots();
    let (_, stream) = tcp::connect(&o, server).await;
    let (hs, stream) = tls::handshake(&o, stream.unwrap(), "h1.example", tls::DEFAULT_ALPN).await;
    assert_eq!(hs.negotiated_protocol.as_deref(), Some("http/1.1"));
    let req = HttpRequest::get(Url::parse("https://h1.example/").unwrap(), vec![]);
    let tx = round_trip(
        &o,
        stream.unwrap(),
        Some(server),
        HttpProtocol::from_alpn(Some("http/1.1")),
        &req,
    )
    .await;
    assert_eq!((tx.failure, tx.status), (None, Some(200)));
}

#[tokio::test]
async fn bodies_beyond_the_cap_are_truncated_not_read() {
    let (server, _) = common::http_server().await;
    let mut o = opts();
    o.body_cap = 10_000;
    let tx = get_plain(&o, server, "/big").await;
    assert_eq!(tx.failure, None);
    assert_eq!(tx.body.len(), 10_000);
    assert!(tx.body_is_truncated);
}

#[tokio::test]
async fn hostile_http_servers_end_with_a_failure_or_cap_within_the_timeout() {
    struct Case {
        what: &'static str,
        kind: Raw,
        failure: Option<&'static str>,
        truncated: bool,
        some_body: bool,
    }
    let cases = vec![
        Case {
            what: "endless body",
            kind: Raw::EndlessBody,
            failure: None,
            truncated: true,
            some_body: true,
        },
        Case {
            what: "one byte per 50 ms",
            kind: Raw::Trickle { ms: 50 },
            failure: Some(failure::GENERIC_TIMEOUT),
            truncated: false,
            some_body: true,
        },
        Case {
            what: "no response",
            kind: Raw::Silent,
            failure: Some(failure::GENERIC_TIMEOUT),
            truncated: false,
            some_body: false,
        },
        Case {
            what: "reset after request",
            kind: Raw::ResetAfterRead,
            failure: Some(failure::CONNECTION_RESET),
            truncated: false,
            some_body: false,
        },
        Case {
            what: "close after request",
            kind: Raw::CloseAfterRead,
            failure: Some(failure::EOF_ERROR),
            truncated: false,
            some_body: false,
        },
        Case {
            what: "1 MiB of headers",
            kind: Raw::HugeHeaders,
            failure: Some("unknown_failure: message head is too large"),
            truncated: false,
            some_body: false,
        },
    ];
    for case in cases {
        let server = common::raw_server(case.kind).await;
        let mut o = opts();
        o.http_timeout = Duration::from_millis(400);
        let started = Instant::now();
        let tx = get_plain(&o, server, "/").await;
        assert_eq!(tx.failure.as_deref(), case.failure, "{}", case.what);
        assert_eq!(tx.body_is_truncated, case.truncated, "{}", case.what);
        assert_eq!(!tx.body.is_empty(), case.some_body, "{}", case.what);
        assert!(tx.body.len() <= o.body_cap, "{}", case.what);
        assert!(
            started.elapsed() < BUDGET,
            "{}: {:?}",
            case.what,
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn trickled_bytes_read_before_the_timeout_are_kept() {
    let server = common::raw_server(Raw::Trickle { ms: 100 }).await;
    let mut o = opts();
    o.http_timeout = Duration::from_millis(450);
    let tx = get_plain(&o, server, "/").await;
    assert_eq!(tx.failure.as_deref(), Some(failure::GENERIC_TIMEOUT));
    assert_eq!(tx.status, Some(200));
    assert!(
        (1..=6).contains(&tx.body.len()),
        "kept {} bytes",
        tx.body.len()
    );
    assert!(tx.body.iter().all(|b| *b == b'z'));
}
