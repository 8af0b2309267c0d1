//! Redirect-following fetches and source-address binding.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use canary_netx::dns::lookup_udp;
use canary_netx::{failure, fetch, Options, QueryType};
use common::{ok_request_headers, opts, Dns, Pki};
use url::Url;

/// A resolver callback mapping every name to 127.0.0.1, recording the names asked.
fn loopback_resolver(
    asked: Arc<Mutex<Vec<String>>>,
) -> impl FnMut(String) -> std::future::Ready<Result<Vec<IpAddr>, String>> {
    move |name| {
        asked.lock().unwrap().push(name);
        std::future::ready(Ok(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]))
    }
}

fn url_at(server: SocketAddr, host: &str, path: &str) -> Url {
    Url::parse(&format!("http://{host}:{}{path}", server.port())).unwrap()
}

#[tokio::test]
async fn redirects_are_followed_and_recorded_newest_first() {
    let (server, _) = common::http_server().await;
    let asked = Arc::new(Mutex::new(Vec::new()));
    let out = fetch(
        &opts(),
        &url_at(server, "site.example", "/redirect/3"),
        &ok_request_headers(),
        loopback_resolver(asked.clone()),
    )
    .await;
    assert_eq!(out.failure, None);
    let paths: Vec<_> = out
        .requests
        .iter()
        .map(|t| t.request.url.path().to_string())
        .collect();
    assert_eq!(
        paths,
        vec!["/", "/redirect/1", "/redirect/2", "/redirect/3"]
    );
    let statuses: Vec<_> = out.requests.iter().map(|t| t.status).collect();
    assert_eq!(statuses, vec![Some(200), Some(302), Some(302), Some(302)]);
    assert_eq!(out.tcp_connect.len(), 4, "one connection per hop");
    assert_eq!(
        asked.lock().unwrap().len(),
        4,
        "each hop resolved through the callback"
    );
    assert_eq!(
        out.last().unwrap().body,
        b"<html><title>hello</title></html>"
    );
}

#[tokio::test]
async fn relative_locations_resolve_and_cookies_follow_the_redirect() {
    let (server, _) = common::http_server().await;
    let asked = Arc::new(Mutex::new(Vec::new()));
    let out = fetch(
        &opts(),
        &url_at(server, "site.example", "/relative"),
        &[],
        loopback_resolver(asked.clone()),
    )
    .await;
    assert_eq!(out.requests[0].request.url.path(), "/headers");

    let out = fetch(
        &opts(),
        &url_at(server, "site.example", "/cookie"),
        &[],
        loopback_resolver(asked),
    )
    .await;
    let echoed = String::from_utf8(out.requests[0].body.clone()).unwrap();
    assert!(
        echoed.contains("cookie: a=1; b=2; session=s3cr3t"),
        "{echoed}"
    );
}

#[tokio::test]
async fn redirect_loops_stop_after_ten_hops() {
    let (server, _) = common::http_server().await;
    let out = fetch(
        &opts(),
        &url_at(server, "site.example", "/loop"),
        &[],
        loopback_resolver(Default::default()),
    )
    .await;
    assert_eq!(
        out.requests.len(),
        11,
        "the first request and ten redirects"
    );
    assert_eq!(
        out.failure.as_deref(),
        Some("unknown_failure: stopped after 10 redirects")
    );
}

#[tokio::test]
async fn dns_and_connect_failures_become_the_hop_failure() {
    let (server, _) = common::http_server().await;
    let nx = |_name: String| {
        std::future::ready(Err::<Vec<IpAddr>, String>(failure::DNS_NXDOMAIN.into()))
    };
    let out = fetch(&opts(), &url_at(server, "gone.example", "/"), &[], nx).await;
    assert_eq!(out.failure.as_deref(), Some(failure::DNS_NXDOMAIN));
    assert_eq!(out.requests.len(), 1);
    assert_eq!(out.requests[0].status, None);

    let closed = common::closed_port().await;
    let out = fetch(
        &opts(),
        &url_at(closed, "127.0.0.1", "/"),
        &[],
        loopback_resolver(Default::default()),
    )
    .await;
    assert_eq!(out.failure.as_deref(), Some(failure::CONNECTION_REFUSED));
    assert_eq!(out.tcp_connect.len(), 1);
}

#[tokio::test]
async fn https_fetch_tries_the_next_address_and_never_sends_http_over_a_bad_certificate() {
    let pki = Pki::new("fetch CA");
    let (chain, key) = pki.leaf(&["secure.example"], false);
    let good = common::https_server(common::server_config(chain, key, &["h2", "http/1.1"])).await;
    let mut o: Options = opts();
    o.roots = pki.roots();
    // The first address (127.0.0.3, nothing listening on that port there)
    // refuses; the second is the server.
    let resolver = |_name: String| {
        std::future::ready(Ok(vec![
            IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3)),
            IpAddr::V4(Ipv4Addr::LOCALHOST),
        ]))
    };
    let url = Url::parse(&format!("https://secure.example:{}/", good.port())).unwrap();
    let out = fetch(&o, &url, &ok_request_headers(), resolver).await;
    assert_eq!(out.failure, None, "{:?}", out.requests[0].failure);
    assert_eq!(out.tcp_connect.len(), 2);
    assert_eq!(
        out.tcp_connect[0].failure.as_deref(),
        Some(failure::CONNECTION_REFUSED)
    );
    assert_eq!(out.tls_handshakes.len(), 1);
    assert_eq!(out.requests[0].status, Some(200));
    assert_eq!(
        out.requests[0].response_header("X-Version"),
        Some("HTTP/2.0")
    );

    let mut untrusted = o.clone();
    untrusted.roots = Pki::new("stranger").roots();
    let out = fetch(&untrusted, &url, &[], |_n: String| {
        std::future::ready(Ok(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]))
    })
    .await;
    assert_eq!(out.failure.as_deref(), Some(failure::SSL_UNKNOWN_AUTHORITY));
    assert_eq!(
        out.requests[0].status, None,
        "no HTTP after a failed verification"
    );
    assert_eq!(out.tls_handshakes[0].peer_certificates.len(), 2);
}

#[tokio::test]
async fn measurement_sockets_use_the_configured_source_address() {
    let mut o = opts();
    o.bind = Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));

    let (server, mut seen) = common::http_server().await;
    let out = fetch(
        &o,
        &url_at(server, "127.0.0.1", "/"),
        &[],
        loopback_resolver(Default::default()),
    )
    .await;
    assert_eq!(out.failure, None);
    assert_eq!(
        seen.recv().await.unwrap().ip(),
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)),
        "TCP from 127.0.0.2"
    );

    let (dns, mut dns_seen) = common::udp_dns(Dns::Answer(vec![Ipv4Addr::new(192, 0, 2, 9)])).await;
    let res = lookup_udp(&o, dns, "example.org", QueryType::A).await;
    assert_eq!(res.failure, None);
    assert_eq!(
        dns_seen.recv().await.unwrap().ip(),
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)),
        "UDP from 127.0.0.2"
    );

    let unbound = opts();
    let (server, mut seen) = common::http_server().await;
    let _ = fetch(
        &unbound,
        &url_at(server, "127.0.0.1", "/"),
        &[],
        loopback_resolver(Default::default()),
    )
    .await;
    assert_eq!(
        seen.recv().await.unwrap().ip(),
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        "default source"
    );
}

/// Every step's future is `Send`, so the probe can run steps on a
/// multi-threaded runtime with `tokio::spawn`. (Compile-time check: the
/// futures are built, never polled.)
#[test]
fn step_futures_can_be_spawned_on_a_multi_threaded_runtime() {
    fn assert_send<T: Send>(_: T) {}
    let o = opts();
    let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let url = Url::parse("http://site.example/").unwrap();
    assert_send(lookup_udp(&o, addr, "example.org", QueryType::A));
    assert_send(canary_netx::dns::lookup_tcp(
        &o,
        addr,
        "example.org",
        QueryType::A,
    ));
    assert_send(canary_netx::dns::lookup_doh(
        &o,
        &url,
        addr,
        "example.org",
        QueryType::A,
    ));
    assert_send(canary_netx::dns::lookup_system(&o, "localhost"));
    assert_send(canary_netx::tcp::connect(&o, addr));
    assert_send(fetch(&o, &url, &[], |_h: String| {
        std::future::ready(Ok(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]))
    }));
    // The TLS and HTTP steps need a connected stream to build their
    // futures: check them through a function that is type-checked, not called.
    fn assert_stream_steps_send(
        o: &Options,
        a: tokio::net::TcpStream,
        b: tokio::net::TcpStream,
        url: Url,
    ) {
        assert_send(canary_netx::tls::handshake(
            o,
            a,
            "example.org",
            canary_netx::tls::DEFAULT_ALPN,
        ));
        let request = canary_netx::HttpRequest::get(url, vec![]);
        assert_send(canary_netx::http::round_trip(
            o,
            b,
            None,
            canary_netx::HttpProtocol::Http1,
            &request,
        ));
    }
    let _ = assert_stream_steps_send;
}
