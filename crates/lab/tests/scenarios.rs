//! One test per row of the scenario table: each proves, with plain clients
//! bound to the censored (127.0.0.2) and control (127.0.0.3) source
//! addresses, that the lab does what the row says, and that the control
//! vantage is left alone.

mod common;

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use canary_lab::{
    Lab, LabConfig, Scenario, BLOCKPAGE_IP, BLOCKPAGE_MARKER, BOGON_ANSWER, INJECTED_ANSWER,
    SCENARIOS,
};
use common::*;
use hickory_proto::op::ResponseCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Every row of the table has a test below (the names are listed once here
/// and each is used by exactly one test).
const TESTED: &[&str] = &[
    "ok_http",
    "ok_https",
    "ok_redirect_chain",
    "ok_large_body",
    "ok_slow",
    "dns_nxdomain",
    "dns_refused",
    "dns_servfail",
    "dns_no_answer",
    "dns_timeout",
    "dns_blockpage_ip",
    "dns_bogon",
    "dns_injection",
    "tcp_blackhole",
    "tcp_reset",
    "tls_sni_reset",
    "tls_sni_drop",
    "http_host_reset",
    "http_blockpage",
    "http_redirect_to_blockpage",
    "tls_mitm_untrusted_ca",
    "tls_mitm_trusted_ca_other_key",
    "site_down",
    "redirect_chain_last_hop_blocked",
    "throttled",
    "server_side_block",
];

#[test]
fn every_row_of_the_table_is_tested() {
    let rows: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
    for row in &rows {
        assert!(TESTED.contains(row), "row {row} has no test");
    }
    for t in TESTED {
        assert!(rows.contains(t), "test for {t}, which is not a row");
    }
}

fn row<'a>(lab: &'a Lab, name: &str) -> &'a Scenario {
    assert!(TESTED.contains(&name), "{name} not listed in TESTED");
    lab.scenario(name).unwrap_or_else(|| panic!("row {name}"))
}

fn site_ip(lab: &Lab, s: &Scenario) -> std::net::Ipv4Addr {
    lab.resolve(&s.host).unwrap()
}

/// Both vantages resolve the name alike, through their own resolvers.
async fn dns_is_honest(lab: &Lab, s: &Scenario) {
    let truth = Answer::ok(&[site_ip(lab, s)]);
    assert_eq!(
        udp_query(lab.isp_resolver_addr(), CENSORED, &s.host).await,
        Some(truth.clone())
    );
    assert_eq!(
        udp_query(lab.control_resolver_addr(), CONTROL, &s.host).await,
        Some(truth)
    );
}

/// The control vantage reaches the site and gets the real page.
async fn control_gets_the_page(lab: &Lab, s: &Scenario) -> Got {
    let got = fetch(lab, CONTROL, &s.url).await.expect("control fetch");
    assert_eq!(got.status, 200, "{}", s.name);
    assert_eq!(
        got.headers
            .get("x-canary-site")
            .and_then(|v| v.to_str().ok()),
        Some(s.name.as_str()),
        "the control sees the real site"
    );
    assert!(!got.text().contains(BLOCKPAGE_MARKER));
    got
}

// ------------------------------------------------------------------ ok rows

#[tokio::test]
async fn ok_http() {
    let lab = start();
    let s = row(&lab, "ok_http");
    dns_is_honest(&lab, s).await;
    let control = control_gets_the_page(&lab, s).await;
    let censored = fetch(&lab, CENSORED, &s.url).await.unwrap();
    assert_eq!((censored.status, &censored.body), (200, &control.body));
    assert_eq!(censored.version, hyper::Version::HTTP_11);
}

#[tokio::test]
async fn ok_https() {
    let lab = start();
    let s = row(&lab, "ok_https");
    dns_is_honest(&lab, s).await;
    let to = endpoint(&lab, &s.host, s.port);
    let mut leaves = Vec::new();
    for source in [CENSORED, CONTROL] {
        for (alpn, h2) in [(&b"h2"[..], true), (&b"http/1.1"[..], false)] {
            let tcp = connect(source, to, Duration::from_secs(5)).await.unwrap();
            let tls = tls(
                tcp,
                &s.host,
                &[lab.ca_der().clone()],
                &[alpn],
                Duration::from_secs(5),
            )
            .await
            .unwrap();
            assert_eq!(tls.get_ref().1.alpn_protocol(), Some(alpn));
            leaves.push(leaf(&tls));
            let got = get_over(tls, &s.host, s.port, h2).await.unwrap();
            assert_eq!(got.status, 200);
            assert_eq!(
                got.version,
                if h2 {
                    hyper::Version::HTTP_2
                } else {
                    hyper::Version::HTTP_11
                }
            );
        }
    }
    assert!(
        leaves.windows(2).all(|w| w[0] == w[1]),
        "one certificate for everyone"
    );
    assert_eq!(issuer_and_key(&leaves[0]).0, "Canary Lab Root CA");
    assert_eq!(
        pem_cert(lab.ca_pem_path()),
        *lab.ca_der(),
        "the CA file holds the CA"
    );
}

#[tokio::test]
async fn ok_redirect_chain() {
    let lab = start();
    let s = row(&lab, "ok_redirect_chain");
    dns_is_honest(&lab, s).await;
    for source in [CENSORED, CONTROL] {
        let (hops, last) = follow(&lab, source, &s.url).await;
        let statuses: Vec<u16> = hops.iter().map(|h| h.1).collect();
        assert_eq!(statuses, [301, 302, 200], "{hops:?}");
        assert!(hops[2].0.contains("ok-redirect-chain-3.canary-lab.test"));
        assert!(last.unwrap().title().unwrap().contains("ok_redirect_chain"));
    }
}

#[tokio::test]
async fn ok_large_body() {
    let lab = start();
    let s = row(&lab, "ok_large_body");
    let control = control_gets_the_page(&lab, s).await;
    let censored = fetch(&lab, CENSORED, &s.url).await.unwrap();
    let big = lab.config().large_body_bytes;
    assert!(
        control.body.len() > big - 512 && control.body.len() <= big,
        "{}",
        control.body.len()
    );
    assert!(
        control.body.len() > 512 * 1024,
        "larger than a probe's body cap"
    );
    assert_eq!(censored.body, control.body);
}

#[tokio::test]
async fn ok_slow() {
    let lab = start();
    let s = row(&lab, "ok_slow");
    let delay = lab.config().slow_delay;
    for source in [CENSORED, CONTROL] {
        let (got, took) = timed(fetch(&lab, source, &s.url)).await;
        assert_eq!(got.unwrap().status, 200);
        assert!(
            took >= delay,
            "answered after {took:?}, before the {delay:?} delay"
        );
        assert!(
            took < delay + Duration::from_secs(2),
            "slow, not stuck: {took:?}"
        );
    }
}

// ------------------------------------------------------------------ DNS rows

/// The ISP resolver answers `code` to the censored vantage, over UDP and TCP;
/// it answers the truth to the control vantage, as does the control resolver.
async fn isp_answers(name: &str, code: ResponseCode) {
    let lab = start();
    let s = row(&lab, name);
    let truth = Answer::ok(&[site_ip(&lab, s)]);
    let isp = lab.isp_resolver_addr();
    assert_eq!(
        udp_query(isp, CENSORED, &s.host).await,
        Some(Answer::code(code)),
        "udp"
    );
    assert_eq!(
        tcp_query(isp, CENSORED, &s.host).await,
        Some(Answer::code(code)),
        "tcp"
    );
    assert_eq!(
        udp_query(isp, CONTROL, &s.host).await,
        Some(truth.clone()),
        "isp resolver, control vantage"
    );
    assert_eq!(
        udp_query(lab.control_resolver_addr(), CONTROL, &s.host).await,
        Some(truth.clone())
    );
    assert_eq!(
        tcp_query(lab.control_resolver_addr(), CONTROL, &s.host).await,
        Some(truth)
    );
    control_gets_the_page(&lab, s).await;
}

#[tokio::test]
async fn dns_nxdomain() {
    isp_answers("dns_nxdomain", ResponseCode::NXDomain).await;
}

#[tokio::test]
async fn dns_refused() {
    isp_answers("dns_refused", ResponseCode::Refused).await;
}

#[tokio::test]
async fn dns_servfail() {
    isp_answers("dns_servfail", ResponseCode::ServFail).await;
}

#[tokio::test]
async fn dns_no_answer() {
    isp_answers("dns_no_answer", ResponseCode::NoError).await;
}

#[tokio::test]
async fn dns_timeout() {
    let lab = start();
    let s = row(&lab, "dns_timeout");
    let isp = lab.isp_resolver_addr();
    let (udp, tcp) = tokio::join!(
        udp_query(isp, CENSORED, &s.host),
        tcp_query(isp, CENSORED, &s.host)
    );
    assert_eq!((udp, tcp), (None, None), "no reply within {SILENCE:?}");
    // Other names still resolve for the censored vantage: the resolver is up.
    let other = row(&lab, "ok_http");
    assert!(udp_query(isp, CENSORED, &other.host).await.is_some());
    dns_is_honest_for_control(&lab, s).await;
}

async fn dns_is_honest_for_control(lab: &Lab, s: &Scenario) {
    let truth = Answer::ok(&[site_ip(lab, s)]);
    assert_eq!(
        udp_query(lab.isp_resolver_addr(), CONTROL, &s.host).await,
        Some(truth.clone())
    );
    assert_eq!(
        udp_query(lab.control_resolver_addr(), CONTROL, &s.host).await,
        Some(truth)
    );
    control_gets_the_page(lab, s).await;
}

#[tokio::test]
async fn dns_blockpage_ip() {
    let lab = start();
    let s = row(&lab, "dns_blockpage_ip");
    let answer = udp_query(lab.isp_resolver_addr(), CENSORED, &s.host).await;
    assert_eq!(answer, Some(Answer::ok(&[BLOCKPAGE_IP])));
    // What the probe then fetches from the address it was given:
    let at = SocketAddr::new(IpAddr::V4(BLOCKPAGE_IP), s.port);
    let got = fetch_at(&lab, CENSORED, &s.url, at, false).await.unwrap();
    assert_eq!(got.status, 200);
    assert!(got.text().contains(BLOCKPAGE_MARKER));
    assert_ne!(
        Some(got.title().unwrap()),
        control_gets_the_page(&lab, s).await.title()
    );
    dns_is_honest_for_control(&lab, s).await;
}

#[tokio::test]
async fn dns_bogon() {
    let lab = start();
    let s = row(&lab, "dns_bogon");
    let answer = udp_query(lab.isp_resolver_addr(), CENSORED, &s.host).await;
    assert_eq!(answer, Some(Answer::ok(&[BOGON_ANSWER])));
    assert_eq!(
        tcp_query(lab.isp_resolver_addr(), CENSORED, &s.host).await,
        Some(Answer::ok(&[BOGON_ANSWER]))
    );
    assert_eq!(lab.routable_cidr(), "127.1.0.0/16");
    assert_ne!(
        BOGON_ANSWER.octets()[1],
        1,
        "the bogon is outside the lab's routable network"
    );
    dns_is_honest_for_control(&lab, s).await;
}

#[tokio::test]
async fn dns_injection() {
    let lab = start();
    let s = row(&lab, "dns_injection");
    let truth = Answer::ok(&[site_ip(&lab, s)]);
    let forged = Answer::ok(&[INJECTED_ANSWER]);
    // On path: whichever resolver the censored vantage asks, the forged reply
    // comes first and the true one after; a probe that keeps listening sees both.
    for resolver in [lab.isp_resolver_addr(), lab.control_resolver_addr()] {
        let (replies, took) = timed(udp_replies(
            resolver,
            CENSORED,
            &s.host,
            2,
            Duration::from_secs(3),
        ))
        .await;
        assert_eq!(replies, vec![forged.clone(), truth.clone()], "{resolver}");
        assert!(
            took >= lab.config().injection_delay,
            "the true reply comes later: {took:?}"
        );
    }
    // TCP is not injected.
    assert_eq!(
        tcp_query(lab.isp_resolver_addr(), CENSORED, &s.host).await,
        Some(truth.clone())
    );
    // The control vantage gets exactly one, true, reply.
    let window = lab.config().injection_delay * 4;
    let replies = udp_replies(lab.control_resolver_addr(), CONTROL, &s.host, 2, window).await;
    assert_eq!(replies, vec![truth]);
    // The forged address serves the blockpage on the site's port.
    let at = SocketAddr::new(IpAddr::V4(INJECTED_ANSWER), s.port);
    assert!(fetch_at(&lab, CENSORED, &s.url, at, false)
        .await
        .unwrap()
        .text()
        .contains(BLOCKPAGE_MARKER));
}

// ------------------------------------------------------------------ TCP rows

#[tokio::test]
async fn tcp_blackhole() {
    let lab = start();
    let s = row(&lab, "tcp_blackhole");
    dns_is_honest(&lab, s).await;
    let to = endpoint(&lab, &s.host, s.port);
    let (censored, took) = timed(connect(CENSORED, to, SILENCE)).await;
    let err = censored.expect_err("SYNs from the censored vantage go unanswered");
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert!(took >= SILENCE, "a timeout, not a refusal: {took:?}");
    // The same address and port serve the control vantage at once.
    let (control, took) = timed(connect(CONTROL, to, SILENCE)).await;
    control.expect("control connects");
    assert!(took < Duration::from_millis(500), "{took:?}");
    control_gets_the_page(&lab, s).await;
    // The blackhole is per address: the censored vantage reaches other sites.
    fetch(&lab, CENSORED, &row(&lab, "ok_http").url)
        .await
        .unwrap();
}

#[tokio::test]
async fn tcp_reset() {
    let lab = start();
    let s = row(&lab, "tcp_reset");
    dns_is_honest(&lab, s).await;
    let to = endpoint(&lab, &s.host, s.port);
    // connect() succeeds; the first bytes, whatever they are, get a reset.
    for first_bytes in [
        &b"GET / HTTP/1.1\r\nHost: anything.example\r\n\r\n"[..],
        &b"\x16\x03\x01"[..],
        &b"x"[..],
    ] {
        let mut stream = connect(CENSORED, to, Duration::from_secs(5))
            .await
            .expect("connect succeeds");
        stream.write_all(first_bytes).await.unwrap();
        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("no hang");
        assert_eq!(
            read.map_err(|e| e.kind()).err(),
            Some(ErrorKind::ConnectionReset)
        );
    }
    let err = fetch(&lab, CENSORED, &s.url)
        .await
        .expect_err("the GET fails");
    assert!(
        has_io_kind(err.as_ref(), ErrorKind::ConnectionReset),
        "{err:?}"
    );
    control_gets_the_page(&lab, s).await;
}

#[tokio::test]
async fn site_down() {
    let lab = start();
    let s = row(&lab, "site_down");
    dns_is_honest(&lab, s).await;
    let to = endpoint(&lab, &s.host, s.port);
    for source in [CENSORED, CONTROL] {
        let err = connect(source, to, Duration::from_secs(5))
            .await
            .expect_err("nobody listens");
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{source}: {err}");
    }
}

// ------------------------------------------------------------------ TLS rows

#[tokio::test]
async fn tls_sni_reset() {
    let lab = start();
    let s = row(&lab, "tls_sni_reset");
    dns_is_honest(&lab, s).await;
    let to = endpoint(&lab, &s.host, s.port);
    let ca = [lab.ca_der().clone()];
    let tcp = connect(CENSORED, to, Duration::from_secs(5)).await.unwrap();
    let err = tls(tcp, &s.host, &ca, &[b"http/1.1"], Duration::from_secs(5))
        .await
        .expect_err("reset");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
    // Same address, another SNI (covered by the wildcard certificate): it passes.
    let tcp = connect(CENSORED, to, Duration::from_secs(5)).await.unwrap();
    tls(
        tcp,
        "unlisted.canary-lab.test",
        &ca,
        &[b"http/1.1"],
        Duration::from_secs(5),
    )
    .await
    .expect("the trigger is the SNI, not the address");
    control_gets_the_page(&lab, s).await;
}

#[tokio::test]
async fn tls_sni_drop() {
    let lab = start();
    let s = row(&lab, "tls_sni_drop");
    let to = endpoint(&lab, &s.host, s.port);
    let ca = [lab.ca_der().clone()];
    let tcp = connect(CENSORED, to, Duration::from_secs(5)).await.unwrap();
    let (r, took) = timed(tls(tcp, &s.host, &ca, &[b"http/1.1"], SILENCE)).await;
    assert_eq!(
        r.map(|_| ()).map_err(|e| e.kind()),
        Err(ErrorKind::TimedOut)
    );
    assert!(took >= SILENCE);
    let tcp = connect(CENSORED, to, Duration::from_secs(5)).await.unwrap();
    tls(
        tcp,
        "unlisted.canary-lab.test",
        &ca,
        &[b"http/1.1"],
        Duration::from_secs(5),
    )
    .await
    .expect("the trigger is the SNI");
    control_gets_the_page(&lab, s).await;
}

#[tokio::test]
async fn tls_mitm_untrusted_ca() {
    let lab = start();
    let s = row(&lab, "tls_mitm_untrusted_ca");
    dns_is_honest(&lab, s).await;
    let to = endpoint(&lab, &s.host, s.port);
    let tcp = connect(CENSORED, to, Duration::from_secs(5)).await.unwrap();
    let err = tls(
        tcp,
        &s.host,
        &[lab.ca_der().clone()],
        &[b"http/1.1"],
        Duration::from_secs(5),
    )
    .await
    .expect_err("the interceptor's CA is not trusted");
    let tls_err = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>());
    assert!(
        matches!(
            tls_err,
            Some(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer
            ))
        ),
        "{err:?}"
    );
    // Trusting the censor's CA shows what it presented: a certificate for the name.
    let censor_ca = pem_cert(lab.untrusted_ca_pem_path());
    let tcp = connect(CENSORED, to, Duration::from_secs(5)).await.unwrap();
    let stream = tls(
        tcp,
        &s.host,
        &[censor_ca],
        &[b"http/1.1"],
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(
        issuer_and_key(&leaf(&stream)).0,
        "Lab Censor Interception CA"
    );
    control_gets_the_page(&lab, s).await;
}

#[tokio::test]
async fn tls_mitm_trusted_ca_other_key() {
    let lab = start();
    let s = row(&lab, "tls_mitm_trusted_ca_other_key");
    let to = endpoint(&lab, &s.host, s.port);
    let ca = [lab.ca_der().clone()];
    let mut seen = Vec::new();
    for source in [CENSORED, CONTROL] {
        let tcp = connect(source, to, Duration::from_secs(5)).await.unwrap();
        let stream = tls(tcp, &s.host, &ca, &[b"http/1.1"], Duration::from_secs(5))
            .await
            .expect("valid chain");
        seen.push(issuer_and_key(&leaf(&stream)));
        let got = get_over(stream, &s.host, s.port, false).await.unwrap();
        assert_eq!(
            got.status, 200,
            "the page is served through the interceptor"
        );
    }
    assert_eq!(seen[0].0, "Canary Lab Root CA");
    assert_eq!(seen[1].0, "Canary Lab Root CA");
    assert_ne!(
        seen[0].1, seen[1].1,
        "only the key differs from the control's"
    );
    let censored = fetch(&lab, CENSORED, &s.url).await.unwrap();
    assert_eq!(censored.body, control_gets_the_page(&lab, s).await.body);
}

// ------------------------------------------------------------------ HTTP rows

#[tokio::test]
async fn http_host_reset() {
    let lab = start();
    let s = row(&lab, "http_host_reset");
    dns_is_honest(&lab, s).await;
    let err = fetch(&lab, CENSORED, &s.url).await.expect_err("reset");
    assert!(
        has_io_kind(err.as_ref(), ErrorKind::ConnectionReset),
        "{err:?}"
    );
    // The same address with another Host is answered (404: not a site there).
    let to = endpoint(&lab, &s.host, s.port);
    let other = format!("http://unlisted.canary-lab.test:{}/", s.port);
    assert_eq!(
        fetch_at(&lab, CENSORED, &other, to, false)
            .await
            .unwrap()
            .status,
        404
    );
    control_gets_the_page(&lab, s).await;
}

/// Header names outside OONI's list of common headers.
fn uncommon_names(got: &Got) -> Vec<String> {
    const COMMON: &[&str] = &[
        "date",
        "content-type",
        "server",
        "cache-control",
        "vary",
        "set-cookie",
        "location",
        "expires",
        "x-powered-by",
        "content-encoding",
        "last-modified",
        "accept-ranges",
        "pragma",
        "x-frame-options",
        "etag",
        "x-content-type-options",
        "age",
        "via",
        "p3p",
        "x-xss-protection",
        "content-language",
        "cf-ray",
        "strict-transport-security",
        "link",
        "x-varnish",
    ];
    got.headers
        .keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| !COMMON.contains(&k.as_str()))
        .collect()
}

/// A blockpage differs from the page in every way OONI's http-diff looks at.
fn differs_like_a_blockpage(block: &Got, page: &Got) {
    assert!(block.text().contains(BLOCKPAGE_MARKER));
    let (a, b) = (block.body.len() as f64, page.body.len() as f64);
    assert!(
        a.min(b) / a.max(b) <= 0.7,
        "body proportion {}",
        a.min(b) / a.max(b)
    );
    let shared: Vec<String> = uncommon_names(block)
        .into_iter()
        .filter(|n| uncommon_names(page).contains(n))
        .collect();
    assert!(shared.is_empty(), "uncommon headers in common: {shared:?}");
    assert_ne!(block.title(), page.title());
}

#[tokio::test]
async fn http_blockpage() {
    let lab = start();
    let s = row(&lab, "http_blockpage");
    dns_is_honest(&lab, s).await;
    let block = fetch(&lab, CENSORED, &s.url).await.unwrap();
    assert_eq!(block.status, 200);
    let page = control_gets_the_page(&lab, s).await;
    differs_like_a_blockpage(&block, &page);
}

#[tokio::test]
async fn http_redirect_to_blockpage() {
    let lab = start();
    let s = row(&lab, "http_redirect_to_blockpage");
    dns_is_honest(&lab, s).await;
    let (hops, last) = follow(&lab, CENSORED, &s.url).await;
    assert_eq!(
        hops,
        vec![(s.url.clone(), 302), (lab.blockpage_url().to_owned(), 200)]
    );
    let block = last.unwrap();
    let page = control_gets_the_page(&lab, s).await;
    differs_like_a_blockpage(&block, &page);
    // The blockpage host resolves alike for everyone (it is the censor's server).
    let bp_host = split_url(lab.blockpage_url()).1;
    assert_eq!(
        udp_query(lab.control_resolver_addr(), CONTROL, &bp_host).await,
        Some(Answer::ok(&[BLOCKPAGE_IP]))
    );
}

#[tokio::test]
async fn redirect_chain_last_hop_blocked() {
    let lab = start();
    let s = row(&lab, "redirect_chain_last_hop_blocked");
    let (hops, last) = follow(&lab, CENSORED, &s.url).await;
    assert_eq!(hops.iter().map(|h| h.1).collect::<Vec<_>>(), [301, 302]);
    let err = last.expect_err("the last hop is reset");
    assert!(
        has_io_kind(err.as_ref(), ErrorKind::ConnectionReset),
        "{err:?}"
    );
    let (hops, last) = follow(&lab, CONTROL, &s.url).await;
    assert_eq!(
        hops.iter().map(|h| h.1).collect::<Vec<_>>(),
        [301, 302, 200]
    );
    assert_eq!(last.unwrap().status, 200);
}

#[tokio::test]
async fn throttled() {
    // A faster rate than the default keeps this test short; the mechanism is the same.
    let rate = 256 * 1024;
    let lab = Lab::start_with(LabConfig {
        throttle_bytes_per_second: rate,
        ..LabConfig::default()
    })
    .unwrap();
    assert_eq!(
        LabConfig::default().throttle_bytes_per_second * 16,
        512 * 1024,
        "default: 512 KiB in 16 s"
    );
    let s = row(&lab, "throttled");
    let to = endpoint(&lab, &s.host, s.port);
    let want = 192 * 1024;
    let mut rates = Vec::new();
    for source in [CENSORED, CONTROL] {
        let mut stream = connect(source, to, Duration::from_secs(5)).await.unwrap();
        let req = format!(
            "GET / HTTP/1.1\r\nHost: {}:{}\r\nConnection: close\r\n\r\n",
            s.host, s.port
        );
        stream.write_all(req.as_bytes()).await.unwrap();
        let (n, took) = timed(async {
            let mut buf = vec![0u8; 16 * 1024];
            let mut total = 0;
            while total < want {
                let n = stream.read(&mut buf).await.unwrap();
                assert!(n > 0, "body shorter than expected");
                total += n;
            }
            total
        })
        .await;
        rates.push(n as f64 / took.as_secs_f64());
    }
    let (censored, control) = (rates[0], rates[1]);
    assert!(
        censored <= rate as f64 * 1.15,
        "censored at {censored:.0} B/s, cap {rate}"
    );
    assert!(
        censored >= rate as f64 * 0.3,
        "throttled, not stalled: {censored:.0} B/s"
    );
    assert!(control >= rate as f64 * 4.0, "control at {control:.0} B/s");
}

#[tokio::test]
async fn server_side_block() {
    let lab = start();
    let s = row(&lab, "server_side_block");
    dns_is_honest(&lab, s).await;
    let to = endpoint(&lab, &s.host, s.port);
    let ca = [lab.ca_der().clone()];
    let mut leaves = Vec::new();
    let mut statuses = Vec::new();
    for source in [CENSORED, CONTROL] {
        let tcp = connect(source, to, Duration::from_secs(5)).await.unwrap();
        let stream = tls(tcp, &s.host, &ca, &[b"h2"], Duration::from_secs(5))
            .await
            .unwrap();
        leaves.push(leaf(&stream));
        statuses.push(
            get_over(stream, &s.host, s.port, true)
                .await
                .unwrap()
                .status,
        );
    }
    assert_eq!(
        statuses,
        [403, 200],
        "the site itself refuses the censored vantage"
    );
    assert_eq!(
        leaves[0], leaves[1],
        "no interception: the same server answers both"
    );
}
