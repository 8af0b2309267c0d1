//! HTTP-level latency of the country page (server-rendered HTML with the
//! blocked-now table, summary and chart), measured on loopback.
//!
//! `CANARY_BENCH_DB=path-or-url CANARY_BENCH_COUNTRY=KH cargo bench -p canary-web --bench country_page`
//! times an existing store (e.g. the store benchmark's 1 M database);
//! without it, a temporary SQLite store with the demo dataset is used.
//! Prints p50/p99 over `CANARY_BENCH_REQUESTS` (default 100) sequential
//! requests and the ratio to the 200 ms target, for the unfiltered page
//! (Khmer and English) and with the filters people use: one network, the
//! last 30 days, and a past 30-day window (the slow case: an end date).

use std::time::{Duration, Instant};

use canary_store::Store;
use canary_web::{serve, WebConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, usize) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.expect("read");
    let status = std::str::from_utf8(&buf[9..12])
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    (status, buf.len())
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, what) = match std::env::var("CANARY_BENCH_DB") {
        Ok(url) => (Store::open(&url).await.expect("open CANARY_BENCH_DB"), url),
        Err(_) => {
            let path = dir.path().join("demo.db");
            let store = Store::open(path.to_str().expect("utf-8 path"))
                .await
                .expect("open");
            canary_web::demo::load(&store).await.expect("demo");
            (store, "demo dataset".to_owned())
        }
    };
    let country = std::env::var("CANARY_BENCH_COUNTRY").unwrap_or_else(|_| "KH".into());
    let n: usize = std::env::var("CANARY_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let count = store.count().await.expect("count");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let server = serve(WebConfig::new(store.clone()), listener)
        .await
        .expect("serve");
    let addr = server.local_addr();
    // the page as a newcomer opens it, and with the filters people use;
    // the date filters end at the data's last day
    let series = store
        .blocked_share_series(&country, &canary_store::Filters::default())
        .await
        .expect("series");
    let last = series.last().map(|p| p.day);
    let asn = store
        .country_summary(&country, &canary_store::Filters::default())
        .await
        .expect("summary")
        .networks
        .first()
        .map(|n| n.asn);
    let mut paths = vec![
        ("no filter, Khmer", format!("/country/{country}?lang=km")),
        ("no filter, English", format!("/country/{country}?lang=en")),
    ];
    if let Some(asn) = asn {
        paths.push(("one network", format!("/country/{country}?asn={asn}")));
    }
    if let Some(last) = last {
        let day = |d: time::Date| d.to_string();
        let from30 = last - time::Duration::days(29);
        paths.push((
            "last 30 days (from only)",
            format!("/country/{country}?from={}", day(from30)),
        ));
        paths.push((
            "a past 30-day window (from and to)",
            format!(
                "/country/{country}?from={}&to={}",
                day(from30 - time::Duration::days(30)),
                day(from30 - time::Duration::days(1))
            ),
        ));
    }
    println!("country page over {what} ({count} measurements), {n} sequential requests each:");
    for (name, path) in paths {
        let (status, bytes) = get(addr, &path).await; // warm-up
        assert_eq!(status, 200, "{path}");
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            let (status, _) = get(addr, &path).await;
            times.push(t.elapsed());
            assert_eq!(status, 200);
        }
        times.sort();
        let (p50, p99) = (pct(&times, 0.50), pct(&times, 0.99));
        println!(
            "  {name:<36} {bytes:>8} bytes  p50 {:7.1} ms  p99 {:7.1} ms  p99 / 200 ms target = {:.2}   {path}",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            p99.as_secs_f64() / 0.2
        );
    }
    server.shutdown().await;
}
