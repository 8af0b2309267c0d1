//! DNS over UDP, TCP, DoH and the system resolver, against loopback servers.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use canary_netx::dns::{lookup_doh, lookup_system, lookup_tcp, lookup_udp};
use canary_netx::{failure, Answer, DnsEngine, QueryType};
use common::{opts, udp_dns, Dns, BUDGET};
use hickory_proto::op::ResponseCode;

#[tokio::test]
async fn udp_answers_are_recorded_with_raw_reply_and_ttl() {
    let (server, _) = udp_dns(Dns::Answer(vec![
        Ipv4Addr::new(192, 0, 2, 1),
        Ipv4Addr::new(192, 0, 2, 2),
    ]))
    .await;
    let o = opts();
    let res = lookup_udp(&o, server, "www.example.org", QueryType::A).await;
    assert_eq!(res.failure, None);
    assert_eq!(res.engine, DnsEngine::Udp);
    assert_eq!(
        res.resolver_address.as_deref(),
        Some(server.to_string().as_str())
    );
    assert_eq!(res.rcode, Some(0));
    assert_eq!(
        res.answers,
        vec![
            Answer::A {
                ip: Ipv4Addr::new(192, 0, 2, 1),
                ttl: Some(60)
            },
            Answer::A {
                ip: Ipv4Addr::new(192, 0, 2, 2),
                ttl: Some(60)
            },
        ]
    );
    let raw = res.raw_response.as_ref().expect("raw reply kept");
    let reparsed = hickory_proto::op::Message::from_vec(raw).unwrap();
    assert_eq!(reparsed.answers.len(), 2);
    assert!(res.late_replies.is_empty());
    assert!(res.t >= res.t0);
    assert!(res.events.iter().any(|e| e.operation == "write_to"));
    assert!(res
        .events
        .iter()
        .any(|e| e.operation == "read_from" && e.num_bytes == Some(raw.len() as u64)));
}

#[tokio::test]
async fn udp_failures_are_df007_strings_within_the_timeout() {
    let cases: Vec<(&str, Dns, QueryType, &str)> = vec![
        (
            "nxdomain",
            Dns::Rcode(ResponseCode::NXDomain),
            QueryType::A,
            failure::DNS_NXDOMAIN,
        ),
        (
            "refused",
            Dns::Rcode(ResponseCode::Refused),
            QueryType::A,
            failure::DNS_REFUSED,
        ),
        (
            "servfail",
            Dns::Rcode(ResponseCode::ServFail),
            QueryType::A,
            failure::DNS_SERVFAIL,
        ),
        (
            "no AAAA record",
            Dns::Answer(vec![Ipv4Addr::LOCALHOST]),
            QueryType::Aaaa,
            failure::DNS_NO_ANSWER,
        ),
        (
            "silence",
            Dns::Silent,
            QueryType::A,
            failure::GENERIC_TIMEOUT,
        ),
        (
            "garbage",
            Dns::Garbage,
            QueryType::A,
            failure::DNS_SERVER_MISBEHAVING,
        ),
        (
            "header claims 65535 answers",
            Dns::HugeCount,
            QueryType::A,
            failure::DNS_SERVER_MISBEHAVING,
        ),
        (
            "reply with wrong id",
            Dns::WrongId,
            QueryType::A,
            failure::DNS_WRONG_QUERY_ID,
        ),
    ];
    for (what, behaviour, qtype, want) in cases {
        let (server, _) = udp_dns(behaviour).await;
        let started = Instant::now();
        let res = lookup_udp(&opts(), server, "blocked.example", qtype).await;
        assert_eq!(res.failure.as_deref(), Some(want), "{what}");
        assert!(res.addresses().is_empty(), "{what}");
        assert!(
            started.elapsed() < BUDGET,
            "{what} took {:?}",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn invalid_datagrams_are_kept_as_evidence_but_never_become_the_answer() {
    let (server, _) = udp_dns(Dns::Garbage).await;
    let res = lookup_udp(&opts(), server, "example.org", QueryType::A).await;
    assert_eq!(res.late_replies.len(), 1);
    let junk = &res.late_replies[0];
    assert_eq!(
        junk.failure.as_deref(),
        Some(failure::DNS_SERVER_MISBEHAVING)
    );
    assert!(junk
        .raw_response
        .as_ref()
        .is_some_and(|r| r.starts_with(b"\x13\x37")));
    assert_eq!(res.raw_response, None);
}

#[tokio::test]
async fn injected_reply_wins_and_the_true_late_reply_is_recorded() {
    let forged = Ipv4Addr::new(10, 10, 10, 1);
    let real = Ipv4Addr::new(93, 184, 215, 14);
    let (server, _) = udp_dns(Dns::Injection {
        forged,
        real,
        delay_ms: 50,
    })
    .await;
    let o = opts();
    let res = lookup_udp(&o, server, "news.example", QueryType::A).await;
    assert_eq!(res.failure, None);
    assert_eq!(res.addresses(), vec![IpAddr::V4(forged)]);
    assert_eq!(
        res.late_replies.len(),
        1,
        "the true reply arrives in the late window"
    );
    let late = &res.late_replies[0];
    assert_eq!(late.addresses(), vec![IpAddr::V4(real)]);
    assert_eq!(late.failure, None);
    assert!(late.t > res.t, "late reply is later than the first");
}

#[tokio::test]
async fn late_replies_after_the_window_are_not_waited_for() {
    let (server, _) = udp_dns(Dns::Injection {
        forged: Ipv4Addr::new(10, 0, 0, 1),
        real: Ipv4Addr::new(10, 0, 0, 2),
        delay_ms: 1500,
    })
    .await;
    let started = Instant::now();
    let res = lookup_udp(&opts(), server, "example.org", QueryType::A).await;
    assert!(res.late_replies.is_empty());
    assert!(
        started.elapsed() < Duration::from_millis(1200),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn answer_records_are_capped() {
    let (server, _) = udp_dns(Dns::Many(2000)).await;
    let mut o = opts();
    o.max_dns_answers = 100;
    let res = lookup_udp(&o, server, "many.example", QueryType::A).await;
    assert_eq!(res.failure, None);
    assert_eq!(res.answers.len(), 100);
    assert_eq!(res.answers_dropped, 1900);
}

#[tokio::test]
async fn a_flood_of_duplicates_is_counted_not_stored() {
    let (server, _) = udp_dns(Dns::Flood(200)).await;
    let mut o = opts();
    o.dns_late_window = Duration::from_millis(400);
    let res = lookup_udp(&o, server, "flood.example", QueryType::A).await;
    assert_eq!(res.failure, None);
    assert_eq!(res.late_replies.len(), o.max_dns_late_replies);
    // Loopback may drop a few datagrams of a burst; most arrive.
    assert!(
        res.late_replies_dropped >= 100,
        "dropped {}",
        res.late_replies_dropped
    );
    assert!(
        res.events.len() <= 2 + o.max_dns_late_replies,
        "{} events",
        res.events.len()
    );
}

#[tokio::test]
async fn udp_to_a_closed_port_is_refused() {
    // Bind a UDP port, release it: the kernel answers ICMP port unreachable.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let started = Instant::now();
    let res = lookup_udp(&opts(), port, "example.org", QueryType::A).await;
    assert_eq!(res.failure.as_deref(), Some(failure::CONNECTION_REFUSED));
    assert!(started.elapsed() < BUDGET);
}

#[tokio::test]
async fn tcp_transport_frames_queries_and_maps_failures() {
    let ok = common::tcp_dns(Dns::Answer(vec![Ipv4Addr::new(198, 51, 100, 4)])).await;
    let res = lookup_tcp(&opts(), ok, "example.org", QueryType::A).await;
    assert_eq!(res.engine, DnsEngine::Tcp);
    assert_eq!(res.failure, None);
    assert_eq!(
        res.addresses(),
        vec![IpAddr::V4(Ipv4Addr::new(198, 51, 100, 4))]
    );

    let cases: Vec<(&str, std::net::SocketAddr, &str)> = vec![
        (
            "nxdomain",
            common::tcp_dns(Dns::Rcode(ResponseCode::NXDomain)).await,
            failure::DNS_NXDOMAIN,
        ),
        (
            "garbage",
            common::tcp_dns(Dns::Garbage).await,
            failure::DNS_SERVER_MISBEHAVING,
        ),
        (
            "silence",
            common::tcp_dns(Dns::Silent).await,
            failure::GENERIC_TIMEOUT,
        ),
        (
            "closed port",
            common::closed_port().await,
            failure::CONNECTION_REFUSED,
        ),
        (
            "reset",
            common::raw_server(common::Raw::ResetAfterRead).await,
            failure::CONNECTION_RESET,
        ),
        (
            "eof",
            common::raw_server(common::Raw::CloseAfterRead).await,
            failure::EOF_ERROR,
        ),
    ];
    for (what, server, want) in cases {
        let started = Instant::now();
        let res = lookup_tcp(&opts(), server, "example.org", QueryType::A).await;
        assert_eq!(res.failure.as_deref(), Some(want), "{what}");
        assert!(started.elapsed() < BUDGET, "{what}");
    }
}

#[tokio::test]
async fn doh_posts_a_dns_message_over_verified_tls() {
    let pki = common::Pki::new("DoH test CA");
    let (chain, key) = pki.leaf(&["doh.example"], false);
    let server = common::https_server(common::server_config(chain, key, &["h2", "http/1.1"])).await;
    let mut o = opts();
    o.roots = pki.roots();
    o.dns_timeout = Duration::from_secs(2);
    let url = url::Url::parse("https://doh.example/dns-query").unwrap();
    let res = lookup_doh(&o, &url, server, "example.org", QueryType::A).await;
    assert_eq!(res.failure, None, "{res:?}");
    assert_eq!(res.engine, DnsEngine::Doh);
    assert_eq!(
        res.resolver_address.as_deref(),
        Some("https://doh.example/dns-query")
    );
    assert_eq!(
        res.addresses(),
        vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 53))]
    );

    // The same server is not trusted without its CA.
    let mut untrusted = o.clone();
    untrusted.roots = common::Pki::new("other CA").roots();
    let res = lookup_doh(&untrusted, &url, server, "example.org", QueryType::A).await;
    assert_eq!(res.failure.as_deref(), Some(failure::SSL_UNKNOWN_AUTHORITY));

    // A path that is not a DoH endpoint answers 404: a misbehaving server.
    let wrong = url::Url::parse("https://doh.example/not-dns").unwrap();
    let res = lookup_doh(&o, &wrong, server, "example.org", QueryType::A).await;
    assert_eq!(
        res.failure.as_deref(),
        Some(failure::DNS_SERVER_MISBEHAVING)
    );
    assert_eq!(res.raw_response, None);

    let plain = url::Url::parse("http://doh.example/dns-query").unwrap();
    let res = lookup_doh(&o, &plain, server, "example.org", QueryType::A).await;
    assert_eq!(
        res.failure.as_deref(),
        Some("unknown_failure: DoH URL must be https")
    );
}

#[tokio::test]
async fn system_resolver_knows_localhost_and_records_getaddrinfo() {
    let res = lookup_system(&opts(), "localhost").await;
    assert_eq!(res.engine.as_str(), "getaddrinfo");
    assert_eq!(res.query_type.as_str(), "ANY");
    assert_eq!(res.failure, None);
    assert!(res.addresses().iter().any(|ip| ip.is_loopback()), "{res:?}");
    assert!(res.answers.iter().all(|a| a.ttl().is_none()));
}
