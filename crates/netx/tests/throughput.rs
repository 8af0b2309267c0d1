//! Cost of the primitives on loopback: a regression guard with generous
//! bounds, printing the measured rates (run with `--nocapture` to see them).

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use canary_netx::dns::lookup_udp;
use canary_netx::{fetch, QueryType};
use common::{opts, Dns};

#[tokio::test]
async fn sequential_udp_lookups_are_cheap() {
    let (server, _) = common::udp_dns(Dns::Answer(vec![Ipv4Addr::new(192, 0, 2, 1)])).await;
    let mut o = opts();
    // No late window; what remains is dominated by tokio's 1 ms timer tick
    // (the zero-length late window still waits for the next tick).
    o.dns_late_window = Duration::ZERO;
    let n = 300;
    let started = Instant::now();
    for _ in 0..n {
        let res = lookup_udp(&o, server, "rate.example", QueryType::A).await;
        assert_eq!(res.failure, None);
    }
    let elapsed = started.elapsed();
    eprintln!(
        "udp lookups: {n} in {elapsed:?} = {:.0}/s",
        n as f64 / elapsed.as_secs_f64()
    );
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[tokio::test]
async fn sequential_http_fetches_are_cheap() {
    let (server, _) = common::http_server().await;
    let url = url::Url::parse(&format!("http://rate.example:{}/", server.port())).unwrap();
    let o = opts();
    let n = 200;
    let started = Instant::now();
    for _ in 0..n {
        let out = fetch(&o, &url, &[], |_h: String| {
            std::future::ready(Ok(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]))
        })
        .await;
        assert_eq!(out.failure, None);
    }
    let elapsed = started.elapsed();
    eprintln!(
        "http fetches: {n} in {elapsed:?} = {:.0}/s",
        n as f64 / elapsed.as_secs_f64()
    );
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
}

#[tokio::test]
async fn tls_fetches_including_handshake_and_verification() {
    let pki = common::Pki::new("rate CA");
    let (chain, key) = pki.leaf(&["rate.example"], false);
    let server = common::https_server(common::server_config(chain, key, &["h2", "http/1.1"])).await;
    let url = url::Url::parse(&format!("https://rate.example:{}/", server.port())).unwrap();
    let mut o = opts();
    o.roots = pki.roots();
    let n = 100;
    let started = Instant::now();
    for _ in 0..n {
        let out = fetch(&o, &url, &[], |_h: String| {
            std::future::ready(Ok(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]))
        })
        .await;
        assert_eq!(out.failure, None);
    }
    let elapsed = started.elapsed();
    eprintln!(
        "https (h2) fetches: {n} in {elapsed:?} = {:.0}/s",
        n as f64 / elapsed.as_secs_f64()
    );
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
}
