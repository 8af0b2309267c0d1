//! TCP connect and TLS handshake measurements against loopback servers.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use canary_netx::{failure, tcp, tls};
use common::{opts, Pki, Raw, BUDGET};
use tokio::net::TcpListener;

#[tokio::test]
async fn connect_records_success_and_refusal() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let open = listener.local_addr().unwrap();
    let closed = common::closed_port().await;
    let cases: Vec<(&str, SocketAddr, Option<&str>)> = vec![
        ("listening port", open, None),
        (
            "nothing listening",
            closed,
            Some(failure::CONNECTION_REFUSED),
        ),
    ];
    for (what, addr, want) in cases {
        let (record, stream) = tcp::connect(&opts(), addr).await;
        assert_eq!(record.failure.as_deref(), want, "{what}");
        assert_eq!(stream.is_some(), want.is_none(), "{what}");
        assert_eq!(record.addr, addr);
        assert_eq!(record.event.operation, "connect");
        assert_eq!(record.event.failure.as_deref(), want);
        assert!(record.t >= record.t0);
    }
}

#[tokio::test]
async fn connect_times_out_when_syns_are_dropped() {
    // A listener with a full accept queue drops further SYNs: the loopback
    // equivalent of a firewall that silently drops packets.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(s)) = tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            fillers.push(s);
        }
    }
    let started = Instant::now();
    let (record, stream) = tcp::connect(&opts(), addr).await;
    assert_eq!(record.failure.as_deref(), Some(failure::GENERIC_TIMEOUT));
    assert!(stream.is_none());
    assert!(started.elapsed() < BUDGET);
    drop(listener);
}

#[tokio::test]
async fn source_address_family_mismatch_is_a_failure_not_a_panic() {
    let mut o = opts();
    o.bind = Some("::1".parse().unwrap());
    let (record, _) = tcp::connect(&o, "127.0.0.1:9".parse().unwrap()).await;
    assert_eq!(
        record.failure.as_deref(),
        Some(failure::NETWORK_UNREACHABLE)
    );
}

async fn tls_server(pki: &Pki, names: &[&str], expired: bool, alpn: &[&str]) -> SocketAddr {
    let (chain, key) = pki.leaf(names, expired);
    common::https_server(common::server_config(chain, key, alpn)).await
}

#[tokio::test]
async fn verified_handshake_records_version_suite_alpn_chain_and_pin() {
    let pki = Pki::new("Canary test CA");
    let server = tls_server(&pki, &["trusted.example"], false, &["h2", "http/1.1"]).await;
    let mut o = opts();
    o.roots = pki.roots();
    let (tcp, stream) = tcp::connect(&o, server).await;
    assert!(tcp.success());
    let (record, stream) =
        tls::handshake(&o, stream.unwrap(), "trusted.example", tls::DEFAULT_ALPN).await;
    assert_eq!(record.failure, None);
    assert!(stream.is_some());
    assert_eq!(record.tls_version.as_deref(), Some("TLSv1.3"));
    assert!(
        record
            .cipher_suite
            .as_deref()
            .is_some_and(|s| s.starts_with("TLS_")),
        "{:?}",
        record.cipher_suite
    );
    assert_eq!(record.negotiated_protocol.as_deref(), Some("h2"));
    assert_eq!(record.peer_certificates.len(), 2, "leaf and CA, as sent");
    let (_, leaf) = x509_parser::parse_x509_certificate(&record.peer_certificates[0]).unwrap();
    assert!(
        leaf.subject().to_string().contains("trusted.example"),
        "leaf first"
    );
    let pin = record.leaf_spki_sha256.as_deref().unwrap();
    assert_eq!(pin.len(), 64);
    assert_eq!(
        Some(pin.to_string()),
        tls::spki_sha256(&record.peer_certificates[0])
    );
    let ops: Vec<_> = record.events.iter().map(|e| e.operation).collect();
    assert_eq!(ops, vec!["tls_handshake_start", "tls_handshake_done"]);
}

#[tokio::test]
async fn tls12_only_servers_are_recorded_with_iana_suite_names() {
    let pki = Pki::new("TLS 1.2 CA");
    let (chain, key) = pki.leaf(&["old.example"], false);
    let mut config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS12])
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let server = common::https_server(std::sync::Arc::new(config)).await;
    let mut o = opts();
    o.roots = pki.roots();
    let (_, stream) = tcp::connect(&o, server).await;
    let (record, stream) =
        tls::handshake(&o, stream.unwrap(), "old.example", tls::DEFAULT_ALPN).await;
    assert_eq!(record.failure, None);
    assert!(stream.is_some());
    assert_eq!(record.tls_version.as_deref(), Some("TLSv1.2"));
    assert!(
        record
            .cipher_suite
            .as_deref()
            .is_some_and(|s| s.starts_with("TLS_ECDHE_ECDSA_WITH_")),
        "{:?}",
        record.cipher_suite
    );
    assert_eq!(record.negotiated_protocol.as_deref(), Some("http/1.1"));
}

#[tokio::test]
async fn certificate_problems_are_recorded_with_the_chain_and_the_stream_withheld() {
    let pki = Pki::new("Canary test CA");
    let stranger = Pki::new("Some other CA");
    let good = tls_server(&pki, &["trusted.example"], false, &["http/1.1"]).await;
    let expired = tls_server(&pki, &["trusted.example"], true, &["http/1.1"]).await;
    let cases: Vec<(&str, SocketAddr, &str, &Pki, &str)> = vec![
        (
            "unknown authority",
            good,
            "trusted.example",
            &stranger,
            failure::SSL_UNKNOWN_AUTHORITY,
        ),
        (
            "wrong host name",
            good,
            "blocked.example",
            &pki,
            failure::SSL_INVALID_HOSTNAME,
        ),
        (
            "expired certificate",
            expired,
            "trusted.example",
            &pki,
            failure::SSL_INVALID_CERTIFICATE,
        ),
    ];
    for (what, server, sni, roots, want) in cases {
        let mut o = opts();
        o.roots = roots.roots();
        let (_, stream) = tcp::connect(&o, server).await;
        let (record, stream) = tls::handshake(&o, stream.unwrap(), sni, tls::DEFAULT_ALPN).await;
        assert_eq!(record.failure.as_deref(), Some(want), "{what}");
        assert!(
            stream.is_none(),
            "{what}: no HTTP over an unverified connection"
        );
        assert_eq!(record.peer_certificates.len(), 2, "{what}: chain captured");
        assert!(record.leaf_spki_sha256.is_some(), "{what}");
        assert!(record.tls_version.is_some(), "{what}: handshake completed");
    }
}

#[tokio::test]
async fn hostile_servers_end_with_a_failure_string_within_the_timeout() {
    let cases: Vec<(&str, Raw, &str)> = vec![
        (
            "junk instead of TLS",
            Raw::Junk,
            failure::SSL_FAILED_HANDSHAKE,
        ),
        (
            "reset after ClientHello",
            Raw::ResetAfterRead,
            failure::CONNECTION_RESET,
        ),
        (
            "close after ClientHello",
            Raw::CloseAfterRead,
            failure::EOF_ERROR,
        ),
        ("silent server", Raw::Silent, failure::GENERIC_TIMEOUT),
    ];
    for (what, kind, want) in cases {
        let server = common::raw_server(kind).await;
        let o = opts();
        let (_, stream) = tcp::connect(&o, server).await;
        let started = Instant::now();
        let (record, stream) =
            tls::handshake(&o, stream.unwrap(), "example.org", tls::DEFAULT_ALPN).await;
        assert_eq!(record.failure.as_deref(), Some(want), "{what}");
        assert!(stream.is_none(), "{what}");
        assert!(record.peer_certificates.is_empty(), "{what}");
        assert!(
            started.elapsed() < BUDGET,
            "{what}: {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn ca_file_errors_are_clear() {
    let cases: Vec<(&str, &[u8])> = vec![
        ("empty", b""),
        ("not PEM", b"hello"),
        (
            "a key, no certificate",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ),
    ];
    for (what, pem) in cases {
        let err = canary_netx::TrustRoots::from_pem(pem).unwrap_err();
        assert!(err.to_string().starts_with("CA file:"), "{what}: {err}");
    }
    let missing =
        canary_netx::TrustRoots::from_pem_file(std::path::Path::new("/nonexistent/ca.pem"))
            .unwrap_err();
    assert!(missing.to_string().contains("/nonexistent/ca.pem"));
    let pki = Pki::new("file CA");
    let dir = std::env::temp_dir().join(format!("canary-netx-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ca.pem");
    std::fs::write(&path, pki.ca_pem()).unwrap();
    let roots = canary_netx::TrustRoots::from_pem_file(&path).unwrap();
    assert_eq!((roots.len(), roots.source()), (1, "ca-file"));
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(canary_netx::TrustRoots::mozilla().len() > 100);
}

#[tokio::test]
async fn ipv6_peers_get_ipv6_sockets() {
    let Ok(listener) = TcpListener::bind("[::1]:0").await else {
        eprintln!("skipping: no IPv6 loopback on this machine");
        return;
    };
    let addr = listener.local_addr().unwrap();
    let (record, stream) = tcp::connect(&opts(), addr).await;
    assert_eq!(record.failure, None);
    assert!(stream.unwrap().local_addr().unwrap().is_ipv6());
    let (_, peer) = listener.accept().await.unwrap();
    assert_eq!(peer.ip(), "::1".parse::<std::net::IpAddr>().unwrap());
    assert_eq!(record.to_record().ip.get().map(String::as_str), Some("::1"));
}
