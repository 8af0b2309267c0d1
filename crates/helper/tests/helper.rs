//! The test helper's bounds, against the real server on loopback: it is no
//! open proxy, it refuses oversized and malformed requests, and it sheds load.

use std::net::SocketAddr;
use std::time::Duration;

use canary_helper::{server, Resolver, ServerConfig};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A plain HTTP site on 127.0.0.1 answering after `delay`.
async fn site(delay: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                let _ = s.read(&mut buf).await;
                tokio::time::sleep(delay).await;
                let body = "<html><title>Loopback site</title></html>";
                let _ = s
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Site: lab\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .await;
            });
        }
    });
    addr
}

async fn helper(routable: &[&str], max_in_flight: usize) -> (server::Server, String) {
    canary_netx::install_ring_provider();
    let mut cfg = ServerConfig::new(Resolver::Udp("127.0.0.1:9".parse().unwrap()));
    cfg.bogons = canary_ipinfo::Bogons::with_routable(routable).unwrap();
    cfg.max_in_flight = max_in_flight;
    cfg.max_request_bytes = 4096;
    cfg.net.tcp_timeout = Duration::from_secs(2);
    cfg.net.http_timeout = Duration::from_secs(3);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let srv = server::start(cfg, listener, None).unwrap();
    let url = format!("http://{}/", srv.local_addr());
    (srv, url)
}

fn request_for(site: SocketAddr) -> Value {
    json!({
        "http_request": format!("http://{site}/"),
        "http_request_headers": {"User-Agent": ["test"]},
        "tcp_connect": [site.to_string()],
    })
}

#[tokio::test]
async fn it_measures_declared_routable_addresses_with_canary_s_additions() {
    let site = site(Duration::ZERO).await;
    let (_srv, url) = helper(&["127.0.0.0/8"], 8).await;
    let resp: Value = reqwest::Client::new()
        .post(&url)
        .json(&request_for(site))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        resp["tcp_connect"][site.to_string()]["status"],
        true,
        "{resp}"
    );
    let http = &resp["http_request"];
    assert_eq!(http["status_code"], 200, "{resp}");
    assert_eq!(http["title"], "Loopback site");
    assert!(http["x_body_sha256"]
        .as_str()
        .is_some_and(|h| h.len() == 64));
    assert_eq!(resp["x_client_ip"], "127.0.0.1");
}

#[tokio::test]
async fn it_refuses_to_connect_to_loopback_or_private_addresses_unless_routable() {
    let site = site(Duration::ZERO).await;
    let (_srv, url) = helper(&[], 8).await;
    let resp: Value = reqwest::Client::new()
        .post(&url)
        .json(&request_for(site))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        resp["tcp_connect"]
            .as_object()
            .is_some_and(|m| m.is_empty()),
        "no connect to a loopback address: {resp}"
    );
    assert_eq!(
        resp["http_request"]["status_code"], -1,
        "no fetch either: {resp}"
    );
    assert!(resp["http_request"]["failure"].is_string());
    assert_eq!(
        resp["ip_info"]["127.0.0.1"]["flags"],
        1 | 2 | 4,
        "named by the probe and by the URL, a bogon"
    );
}

#[tokio::test]
async fn oversized_and_malformed_requests_get_a_clear_4xx() {
    let (_srv, url) = helper(&[], 8).await;
    let client = reqwest::Client::new();
    let big = json!({"http_request": "http://example.org/", "pad": "x".repeat(10_000)});
    let r = client.post(&url).json(&big).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 413);
    for body in [
        "not json",
        "{\"http_request\": 5}",
        "{\"http_request\": \"ftp://x/\"}",
    ] {
        let r = client.post(&url).body(body).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 400, "{body}");
        assert!(!r.text().await.unwrap().is_empty(), "{body}: a reason");
    }
    let too_many: Vec<String> = (0..100).map(|i| format!("10.0.0.{i}:80")).collect();
    let r = client
        .post(&url)
        .json(&json!({"http_request": "http://example.org/", "tcp_connect": too_many}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = client.get(&url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "GET / says what this is");
}

#[tokio::test]
async fn beyond_its_in_flight_cap_it_answers_503_at_once() {
    let slow = site(Duration::from_millis(1500)).await;
    let (_srv, url) = helper(&["127.0.0.0/8"], 1).await;
    let client = reqwest::Client::new();
    let first = {
        let (client, url) = (client.clone(), url.clone());
        tokio::spawn(async move { client.post(&url).json(&request_for(slow)).send().await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let second = client
        .post(&url)
        .json(&request_for(slow))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status().as_u16(), 503);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "shed at once, not queued"
    );
    assert_eq!(first.await.unwrap().unwrap().status().as_u16(), 200);
}
