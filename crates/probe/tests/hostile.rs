//! The probe on a hostile network: servers and resolvers that misbehave on
//! purpose. Each case must end with a failure string in the record, within
//! the timeouts, with bounded memory — never a panic or a hang.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use canary_probe::{experiment, runner, ProbeConfig, Target};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

const DNS_TIMEOUT: Duration = Duration::from_millis(600);
const NET_TIMEOUT: Duration = Duration::from_millis(600);
const HTTP_TIMEOUT: Duration = Duration::from_millis(1500);
const BODY_CAP: usize = 64 * 1024;

fn config(resolver: SocketAddr) -> ProbeConfig {
    let mut cfg = ProbeConfig::new(resolver);
    cfg.system_resolver = false;
    cfg.bogons = canary_ipinfo::Bogons::with_routable(&["127.0.0.0/8"]).unwrap();
    cfg.net.dns_timeout = DNS_TIMEOUT;
    cfg.net.dns_late_window = Duration::from_millis(100);
    cfg.net.tcp_timeout = NET_TIMEOUT;
    cfg.net.tls_timeout = NET_TIMEOUT;
    cfg.net.http_timeout = HTTP_TIMEOUT;
    cfg.net.body_cap = BODY_CAP;
    cfg
}

/// Measures `url` and returns the measurement as JSON, with how long it took.
async fn measure(cfg: &ProbeConfig, url: &str) -> (Value, Duration) {
    let run = runner::new_run(cfg);
    let start = Instant::now();
    let m = experiment::measure(cfg, &run, &Target::url(url))
        .await
        .unwrap();
    (m.to_value().unwrap(), start.elapsed())
}

/// A UDP "resolver" that answers every query with `reply(query)`.
async fn udp_resolver(reply: fn(&[u8]) -> Vec<u8>) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 2048];
        while let Ok((n, peer)) = socket.recv_from(&mut buf).await {
            let _ = socket.send_to(&reply(&buf[..n]), peer).await;
        }
    });
    addr
}

/// A TCP server that runs `serve` on every connection.
async fn tcp_server<F, Fut>(serve: F) -> SocketAddr
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serve = std::sync::Arc::new(serve);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let serve = serve.clone();
            tokio::spawn(async move { serve(stream).await });
        }
    });
    addr
}

async fn read_request(stream: &mut tokio::net::TcpStream) {
    let mut buf = vec![0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf)).await;
}

fn queries(m: &Value) -> &Vec<Value> {
    m["test_keys"]["queries"].as_array().unwrap()
}

#[tokio::test]
async fn a_resolver_answering_garbage_gives_a_dns_failure_in_time() {
    let resolver = udp_resolver(|_| b"\x00\x01garbage that is not DNS".to_vec()).await;
    let cfg = config(resolver);
    let (m, took) = measure(&cfg, "http://garbage.example/").await;
    for q in queries(&m) {
        assert!(q["failure"].is_string(), "{q}");
    }
    assert!(
        m["test_keys"]["dns_experiment_failure"].is_string(),
        "{}",
        m["test_keys"]
    );
    assert!(took < DNS_TIMEOUT * 3, "took {took:?}");
}

#[tokio::test]
async fn a_reply_claiming_a_huge_record_count_is_rejected_boundedly() {
    // A header that matches the query's ID and claims 65,535 answers, with
    // nothing behind it.
    let resolver = udp_resolver(|q| {
        let mut r = q[..12.min(q.len())].to_vec();
        r.resize(12, 0);
        r[2] = 0x81;
        r[3] = 0x80;
        r[6] = 0xff;
        r[7] = 0xff;
        r.extend_from_slice(&q[12.min(q.len())..]);
        r
    })
    .await;
    let cfg = config(resolver);
    let (m, took) = measure(&cfg, "http://huge.example/").await;
    for q in queries(&m) {
        assert!(q["failure"].is_string(), "{q}");
        assert!(
            q["answers"].as_array().is_none_or(|a| a.len() <= 256),
            "{q}"
        );
    }
    assert!(took < DNS_TIMEOUT * 3, "took {took:?}");
}

#[tokio::test]
async fn a_body_that_never_ends_is_capped_and_marked_truncated() {
    let site = tcp_server(|mut s| async move {
        read_request(&mut s).await;
        let _ = s
            .write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><title>endless</title>",
            )
            .await;
        let chunk = vec![b'a'; 16 * 1024];
        while s.write_all(&chunk).await.is_ok() {}
    })
    .await;
    let cfg = config("127.0.0.1:9".parse().unwrap());
    let (m, took) = measure(&cfg, &format!("http://{site}/")).await;
    let response = &m["test_keys"]["requests"][0]["response"];
    assert_eq!(response["body_is_truncated"], true, "{response}");
    let body = response["body"].as_str().unwrap();
    assert!(body.len() <= BODY_CAP, "body of {} bytes kept", body.len());
    assert!(took < HTTP_TIMEOUT * 2, "took {took:?}");
}

#[tokio::test]
async fn a_server_sending_one_byte_at_a_time_times_out_with_what_it_sent() {
    let site = tcp_server(|mut s| async move {
        read_request(&mut s).await;
        for b in b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"
            .iter()
            .chain([b'x'; 1000].iter())
        {
            if s.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    let cfg = config("127.0.0.1:9".parse().unwrap());
    let (m, took) = measure(&cfg, &format!("http://{site}/")).await;
    let failure = &m["test_keys"]["http_experiment_failure"];
    assert_eq!(
        failure, "generic_timeout_error",
        "{}",
        m["test_keys"]["requests"]
    );
    assert!(took < HTTP_TIMEOUT * 2, "took {took:?}");
}

#[tokio::test]
async fn a_tls_server_sending_junk_fails_the_handshake_in_time() {
    let site = tcp_server(|mut s| async move {
        read_request(&mut s).await;
        let _ = s
            .write_all(&[0x16, 0x03, 0x03, 0x00, 0x05, 1, 2, 3, 4, 5, 0xde, 0xad])
            .await;
        let _ = s.write_all(b"this is not TLS at all").await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    })
    .await;
    let cfg = config("127.0.0.1:9".parse().unwrap());
    let (m, took) = measure(&cfg, &format!("https://{site}/")).await;
    let tls = m["test_keys"]["tls_handshakes"].as_array().unwrap();
    assert!(!tls.is_empty());
    for h in tls {
        assert!(h["failure"].is_string(), "{h}");
    }
    assert!(m["test_keys"]["http_experiment_failure"].is_string());
    assert!(took < NET_TIMEOUT * 4, "took {took:?}");
}

#[tokio::test]
async fn a_server_that_resets_gives_connection_reset() {
    let site = tcp_server(|s| async move {
        let _ = s.set_zero_linger();
        drop(s);
    })
    .await;
    let cfg = config("127.0.0.1:9".parse().unwrap());
    let (m, _) = measure(&cfg, &format!("http://{site}/")).await;
    let failure = m["test_keys"]["http_experiment_failure"].as_str().unwrap();
    assert!(
        ["connection_reset", "eof_error"].contains(&failure),
        "{failure}"
    );
}

#[tokio::test]
async fn the_probe_s_own_addresses_never_appear_in_the_output() {
    // A site that echoes the client's address in a header, in the body and
    // in its title, like "what is my IP" pages do.
    let site = tcp_server(|mut s| async move {
        let peer = s
            .peer_addr()
            .map(|p| p.ip().to_string())
            .unwrap_or_default();
        read_request(&mut s).await;
        let body = format!("<html><title>Your IP is {peer}</title><body>{peer}</body></html>");
        let _ = s
            .write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nX-Your-Ip: {peer}\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            )
            .await;
    })
    .await;
    let mut cfg = config("127.0.0.1:9".parse().unwrap());
    cfg.net.bind = Some("127.0.0.2".parse().unwrap());
    let (m, _) = measure(&cfg, &format!("http://{site}/")).await;
    let text = m.to_string();
    assert!(
        !text.contains("127.0.0.2"),
        "the probe's address leaked: {text}"
    );
    assert!(text.contains("[scrubbed]"), "nothing was scrubbed: {text}");
    assert_eq!(m["probe_ip"], "127.0.0.1");
}
