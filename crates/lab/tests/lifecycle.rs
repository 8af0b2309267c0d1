//! The lab as a whole: it starts and stops fast, releases its sockets,
//! refuses unsafe configurations, builds many sites cheaply, and publishes
//! its table as JSON.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use canary_lab::{
    CensorAction, ExpectedBlocking, Lab, LabConfig, LabError, Scenario, BLOCKPAGE_MARKER, SCENARIOS,
};
use common::*;
use hickory_proto::op::ResponseCode;

#[test]
fn the_lab_starts_and_stops_well_under_a_second() {
    // Warm up once (first use of the allocator, the thread pool, etc.).
    drop(Lab::start().unwrap());
    let mut starts = Vec::new();
    let mut stops = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let lab = Lab::start().unwrap();
        starts.push(t.elapsed());
        let t = Instant::now();
        drop(lab);
        stops.push(t.elapsed());
    }
    let worst_start = starts.iter().max().unwrap();
    let worst_stop = stops.iter().max().unwrap();
    eprintln!("lab start: {starts:?}\nlab stop: {stops:?}");
    assert!(
        *worst_start < Duration::from_millis(500),
        "start took {worst_start:?}"
    );
    assert!(
        *worst_stop < Duration::from_millis(500),
        "stop took {worst_stop:?}"
    );
}

#[tokio::test]
async fn stopping_closes_every_site_and_resolver() {
    let lab = Lab::start().unwrap();
    let ok = lab.scenario("ok_http").unwrap().clone();
    let to = endpoint(&lab, &ok.host, ok.port);
    let dns = lab.control_resolver_addr();
    connect(CONTROL, to, Duration::from_secs(2))
        .await
        .expect("open while running");
    assert!(tcp_query(dns, CONTROL, &ok.host).await.is_some());
    lab.stop();
    let err = connect(CONTROL, to, Duration::from_secs(2))
        .await
        .expect_err("closed after stop");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    let err = connect(CONTROL, dns, Duration::from_secs(2))
        .await
        .expect_err("resolver closed");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[test]
fn two_labs_run_side_by_side_on_their_own_ports() {
    let a = Lab::start().unwrap();
    let b = Lab::start().unwrap();
    assert_ne!(a.isp_resolver_addr(), b.isp_resolver_addr());
    assert_ne!(a.ca_pem(), b.ca_pem(), "each lab has its own CA");
    for (x, y) in a.scenarios().iter().zip(b.scenarios()) {
        assert_eq!(x.name, y.name);
        assert_eq!(x.host, y.host);
        if x.server != canary_lab::ServerBehaviour::Down {
            assert_ne!(x.url, y.url, "{}", x.name);
        }
    }
}

#[test]
fn unsafe_or_impossible_configurations_are_refused() {
    let cases: Vec<(&str, LabConfig)> = vec![
        (
            "bogon outside this machine",
            LabConfig {
                bogon_answer: "10.10.34.35".parse().unwrap(),
                ..LabConfig::default()
            },
        ),
        (
            "censored source off loopback",
            LabConfig {
                censored_source: "192.0.2.1".parse().unwrap(),
                ..LabConfig::default()
            },
        ),
        (
            "censored source = control source",
            LabConfig {
                censored_source: canary_lab::CONTROL_SOURCE,
                ..LabConfig::default()
            },
        ),
        (
            "zero throttle",
            LabConfig {
                throttle_bytes_per_second: 0,
                ..LabConfig::default()
            },
        ),
        (
            "unknown bulk row",
            LabConfig {
                bulk: vec![("no_such_row".into(), 3)],
                ..LabConfig::default()
            },
        ),
        (
            "bulk redirect chain",
            LabConfig {
                bulk: vec![("ok_redirect_chain".into(), 3)],
                ..LabConfig::default()
            },
        ),
        (
            "too many bulk sites",
            LabConfig {
                bulk: vec![("ok_http".into(), 100_001)],
                ..LabConfig::default()
            },
        ),
    ];
    for (what, config) in cases {
        match Lab::start_with(config) {
            Err(LabError::Config(msg)) => assert!(!msg.is_empty(), "{what}"),
            other => panic!("{what}: expected a configuration error, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn bulk_sites_behave_like_their_row_and_share_a_listener() {
    let config = LabConfig {
        bulk: vec![
            ("http_blockpage".into(), 200),
            ("dns_nxdomain".into(), 200),
            ("ok_https".into(), 200),
            ("tcp_blackhole".into(), 20),
        ],
        ..LabConfig::default()
    };
    let t = Instant::now();
    let lab = Lab::start_with(config).unwrap();
    eprintln!("lab with 620 bulk sites started in {:?}", t.elapsed());
    let bulk = lab.bulk_sites();
    assert_eq!(bulk.len(), 620);
    let of = |censor: CensorAction| -> Vec<&Scenario> {
        bulk.iter().filter(|s| s.censor == censor).collect()
    };

    let blockpages = of(CensorAction::HttpBlockpage);
    assert!(
        blockpages.iter().all(|s| s.port == blockpages[0].port),
        "one listener per row"
    );
    for s in [blockpages[0], blockpages[199]] {
        assert_eq!(s.expect.blocking, ExpectedBlocking::HttpDiff);
        assert!(fetch(&lab, CENSORED, &s.url)
            .await
            .unwrap()
            .text()
            .contains(BLOCKPAGE_MARKER));
        assert_eq!(
            fetch(&lab, CONTROL, &s.url).await.unwrap().headers["x-canary-site"],
            s.name.as_str()
        );
    }
    for s in [
        of(CensorAction::DnsNxdomain)[0],
        of(CensorAction::DnsNxdomain)[199],
    ] {
        assert_eq!(
            udp_query(lab.isp_resolver_addr(), CENSORED, &s.host)
                .await
                .unwrap()
                .code,
            ResponseCode::NXDomain
        );
        assert_eq!(
            udp_query(lab.control_resolver_addr(), CONTROL, &s.host)
                .await
                .unwrap()
                .ips
                .len(),
            1
        );
    }
    let https = of(CensorAction::None);
    assert!(https.iter().all(|s| s.url.starts_with("https://")));
    assert_eq!(
        fetch(&lab, CENSORED, &https[123].url).await.unwrap().status,
        200
    );
    let hole = of(CensorAction::TcpBlackhole)[7];
    let to = endpoint(&lab, &hole.host, hole.port);
    let err = connect(CENSORED, to, Duration::from_millis(700))
        .await
        .expect_err("blackholed");
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    assert_eq!(fetch(&lab, CONTROL, &hole.url).await.unwrap().status, 200);
}

#[test]
fn the_table_serialises_to_json_and_back() {
    let lab = Lab::start().unwrap();
    let json = lab.scenarios_json();
    let back: Vec<Scenario> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, lab.scenarios());
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let nx = value
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "dns_nxdomain")
        .unwrap();
    assert_eq!(nx["expect"]["blocking"], "dns");
    assert_eq!(nx["expect"]["accessible"], false);
    assert_eq!(nx["expect"]["outcome"], "blocked");
    assert_eq!(nx["expect"]["layer"], "dns");
    assert_eq!(nx["expect"]["kind"], "nxdomain");
    assert_eq!(nx["censor"], "dns_nxdomain");
    let ok = value
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "ok_http")
        .unwrap();
    assert_eq!(ok["expect"]["blocking"], false);
    assert_eq!(ok["expect"]["layer"], serde_json::Value::Null);
    // The static table serialises too (for golden files made without a lab).
    let spec = serde_json::to_value(SCENARIOS).unwrap();
    assert_eq!(spec.as_array().unwrap().len(), lab.scenarios().len());
}

#[test]
fn every_lab_address_is_on_loopback() {
    let lab = Lab::start().unwrap();
    for addr in [lab.isp_resolver_addr(), lab.control_resolver_addr()] {
        assert!(addr.ip().is_loopback(), "{addr}");
    }
    for s in lab.scenarios() {
        let ip = lab.resolve(&s.host).unwrap();
        assert!(ip.is_loopback(), "{}: {ip}", s.name);
        let sa = SocketAddr::new(IpAddr::V4(ip), s.port);
        assert!(sa.ip().is_loopback());
    }
    assert!(lab.censored_source().is_loopback() && lab.control_source().is_loopback());
}

#[tokio::test]
async fn hostile_clients_get_closed_connections_and_the_lab_keeps_serving() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let lab = Lab::start().unwrap();
    let tls_site = lab.scenario("tls_sni_reset").unwrap().clone();
    let host_reset = lab.scenario("http_host_reset").unwrap().clone();
    let huge_head = format!("GET / HTTP/1.1\r\nX-Pad: {}\r\n", "a".repeat(64 * 1024));
    let cases: Vec<(&str, &Scenario, Vec<u8>)> = vec![
        (
            "plain text to a TLS site",
            &tls_site,
            b"GET / HTTP/1.1\r\n\r\n".to_vec(),
        ),
        (
            "a broken TLS record",
            &tls_site,
            vec![0x16, 0x03, 0x01, 0xff, 0xff, 0x01, 0x00],
        ),
        (
            "an endless request head",
            &host_reset,
            huge_head.into_bytes(),
        ),
    ];
    for (what, s, bytes) in cases {
        let to = endpoint(&lab, &s.host, s.port);
        let mut stream = connect(CENSORED, to, Duration::from_secs(2)).await.unwrap();
        let _ = stream.write_all(&bytes).await;
        let mut sink = vec![0u8; 4096];
        let end = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match stream.read(&mut sink).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(end.is_ok(), "{what}: the lab closes the connection");
    }
    // DNS garbage over UDP and an oversized TCP frame.
    let udp = tokio::net::UdpSocket::bind((CENSORED, 0)).await.unwrap();
    for junk in [&b""[..], &b"\x00\x01"[..], &[0xff; 600][..]] {
        udp.send_to(junk, lab.isp_resolver_addr()).await.unwrap();
    }
    let mut tcp = connect(CENSORED, lab.isp_resolver_addr(), Duration::from_secs(2))
        .await
        .unwrap();
    tcp.write_all(&[0xff, 0xff, 1, 2, 3]).await.unwrap();
    let mut buf = [0u8; 8];
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
        .await
        .unwrap();
    assert!(
        matches!(n, Ok(0) | Err(_)),
        "oversized frame: connection closed"
    );
    // Everything still works.
    let ok = lab.scenario("ok_http").unwrap();
    assert!(udp_query(lab.isp_resolver_addr(), CENSORED, &ok.host)
        .await
        .is_some());
    assert_eq!(fetch(&lab, CENSORED, &ok.url).await.unwrap().status, 200);
    assert_eq!(
        fetch(&lab, CONTROL, &tls_site.url).await.unwrap().status,
        200
    );
}

#[test]
fn a_lab_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Lab>();
}

#[test]
fn the_summary_tells_another_process_everything_it_needs() {
    let lab = Lab::start().unwrap();
    let v: serde_json::Value = serde_json::from_str(&lab.summary_json()).unwrap();
    assert_eq!(v["isp_resolver"], lab.isp_resolver_addr().to_string());
    assert_eq!(
        v["control_resolver"],
        lab.control_resolver_addr().to_string()
    );
    assert_eq!(v["censored_source"], "127.0.0.2");
    assert_eq!(v["control_source"], "127.0.0.3");
    assert_eq!(v["routable"], "127.1.0.0/16");
    let ca = std::fs::read_to_string(v["ca_file"].as_str().unwrap()).unwrap();
    assert_eq!(ca, lab.ca_pem());
    assert_eq!(v["scenarios"].as_array().unwrap().len(), SCENARIOS.len());
}

#[test]
fn the_lab_binary_serves_until_stdin_closes() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_canary-lab"))
        .args(["--bulk", "ok_http=3"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Read the JSON summary (it ends with a closing brace at column 0).
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut json = String::new();
    loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "summary ended early: {json}"
        );
        json.push_str(&line);
        if line == "}\n" {
            break;
        }
    }
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["bulk_sites"].as_array().unwrap().len(), 3);
    let url = v["scenarios"][0]["url"].as_str().unwrap().to_owned();
    let (_, host, port) = split_url(&url);
    // The child's sites answer this process's plain sockets.
    let ip: std::net::Ipv4Addr = {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let resolver: SocketAddr = v["control_resolver"].as_str().unwrap().parse().unwrap();
        let answer = rt.block_on(udp_query(resolver, CONTROL, &host)).unwrap();
        answer.ips[0]
    };
    let mut s = std::net::TcpStream::connect((ip, port)).unwrap();
    std::io::Write::write_all(
        &mut s,
        format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    // Closing stdin stops it.
    drop(child.stdin.take());
    let status = child.wait().unwrap();
    assert!(status.success());
    let err = std::net::TcpStream::connect((ip, port)).expect_err("stopped");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[test]
fn the_lab_binary_rejects_bad_arguments() {
    use std::process::Command;
    for args in [
        &["--bulk"][..],
        &["--bulk", "ok_http"],
        &["--bulk", "ok_http=x"],
        &["--nope"],
        &["--bulk", "no_row=2"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_canary-lab"))
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(
            !String::from_utf8_lossy(&out.stderr).is_empty(),
            "{args:?}: says why"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_bulk_sites_serve_concurrent_clients() {
    let config = LabConfig {
        bulk: vec![("ok_https".into(), 150), ("http_blockpage".into(), 150)],
        ..LabConfig::default()
    };
    let lab = std::sync::Arc::new(Lab::start_with(config).unwrap());
    let t = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for (i, s) in lab.bulk_sites().iter().enumerate() {
        let lab = std::sync::Arc::clone(&lab);
        let url = s.url.clone();
        let blockpage = s.censor == CensorAction::HttpBlockpage;
        let source = if i % 2 == 0 { CENSORED } else { CONTROL };
        set.spawn(async move {
            let got = fetch(&lab, source, &url).await.unwrap();
            assert_eq!(got.status, 200);
            let censored_blockpage = blockpage && source == CENSORED;
            assert_eq!(
                got.text().contains(BLOCKPAGE_MARKER),
                censored_blockpage,
                "{url}"
            );
        });
    }
    let mut done = 0;
    while let Some(r) = set.join_next().await {
        r.unwrap();
        done += 1;
    }
    let took = t.elapsed();
    eprintln!(
        "{done} concurrent fetches (half over TLS) in {took:?}: {:.0}/s",
        done as f64 / took.as_secs_f64()
    );
    assert_eq!(done, 300);
    assert!(took < Duration::from_secs(20), "{took:?}");
}

#[tokio::test]
async fn sites_differ_in_title_length_and_headers() {
    let lab = Lab::start().unwrap();
    let mut titles = std::collections::HashSet::new();
    let mut lengths = std::collections::HashSet::new();
    let mut header_sets = std::collections::HashSet::new();
    let normal: Vec<&Scenario> = lab
        .scenarios()
        .iter()
        .filter(|s| {
            s.server == canary_lab::ServerBehaviour::Normal && s.censor == CensorAction::None
        })
        .chain(
            lab.scenarios()
                .iter()
                .filter(|s| s.name.starts_with("dns_")),
        )
        .collect();
    assert!(normal.len() >= 8);
    for s in &normal {
        let got = fetch(&lab, CONTROL, &s.url).await.unwrap();
        assert!(
            titles.insert(got.title().unwrap()),
            "{}: title repeated",
            s.name
        );
        assert!(
            lengths.insert(got.body.len()),
            "{}: length repeated",
            s.name
        );
        let mut names: Vec<String> = got.headers.keys().map(|k| k.to_string()).collect();
        names.sort();
        header_sets.insert(names);
    }
    assert!(
        header_sets.len() >= 2,
        "some sites send other headers than others"
    );
}

#[test]
fn the_fingerprint_file_names_the_blockpage_server_and_page() {
    let lab = Lab::start().unwrap();
    let csv = std::fs::read_to_string(lab.fingerprints_path()).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert!(rows[0].starts_with("name,scope,other_names,location_found,pattern_type,pattern,"));
    let dns = rows
        .iter()
        .find(|r| r.contains(",dns,full,"))
        .expect("a DNS row");
    assert!(
        dns.contains(&format!(",{},", canary_lab::BLOCKPAGE_IP)),
        "{dns}"
    );
    let body = rows
        .iter()
        .find(|r| r.contains(",body,contains,"))
        .expect("a body row");
    assert!(body.contains(BLOCKPAGE_MARKER), "{body}");
    for r in &rows[1..] {
        // 11 columns; the notes column is quoted and holds no comma.
        assert_eq!(r.split(',').count(), 11, "{r}");
    }
}
