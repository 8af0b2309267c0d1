//! netx results become OONI data-format records (canary-model types) that
//! look like what real OONI probes publish.

mod common;

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use canary_model::{Failure, HttpTransaction};
use canary_netx::dns::lookup_udp;
use canary_netx::records::SPKI_EXTRA_KEY;
use canary_netx::{fetch, tcp, tls, QueryType};
use common::{ok_request_headers, opts, Dns, Pki};
use serde_json::Value;

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn dns_lookup_record_round_trips_through_the_model() {
    let (server, _) = common::udp_dns(Dns::Injection {
        forged: Ipv4Addr::new(10, 10, 10, 1),
        real: Ipv4Addr::new(192, 0, 2, 7),
        delay_ms: 30,
    })
    .await;
    let res = lookup_udp(&opts(), server, "example.org", QueryType::A).await;
    let rec = res.to_record();
    assert_eq!(rec.addresses().collect::<Vec<_>>(), vec!["10.10.10.1"]);
    assert_eq!(rec.raw_response_bytes().unwrap(), res.raw_response);
    assert_eq!(rec.engine.get().map(String::as_str), Some("udp"));
    assert!(rec.failure.is_null(), "success is an explicit null");
    let json = serde_json::to_value(&rec).unwrap();
    assert_eq!(
        json["answers"][0],
        serde_json::json!({"answer_type": "A", "ipv4": "10.10.10.1", "ttl": 60})
    );
    let back: canary_model::DnsQuery = serde_json::from_value(json).unwrap();
    assert_eq!(back, rec);
    let dups = res.duplicate_records();
    assert_eq!(dups.len(), 1);
    assert_eq!(dups[0].addresses().collect::<Vec<_>>(), vec!["192.0.2.7"]);
}

#[tokio::test]
async fn failures_become_model_failure_variants() {
    let (server, _) = common::udp_dns(Dns::Rcode(hickory_proto::op::ResponseCode::NXDomain)).await;
    let rec = lookup_udp(&opts(), server, "gone.example", QueryType::A)
        .await
        .to_record();
    assert!(rec.failure.get().is_some_and(Failure::is_nxdomain));
    let closed = common::closed_port().await;
    let (tcp_rec, _) = tcp::connect(&opts(), closed).await;
    let rec = tcp_rec.to_record();
    assert!(!rec.succeeded());
    assert_eq!(
        rec.failure().map(Failure::as_str),
        Some("connection_refused")
    );
    assert_eq!(rec.port.get(), Some(&closed.port()));
}

#[tokio::test]
async fn tls_and_http_records_carry_chain_pin_headers_and_body() {
    let pki = Pki::new("records CA");
    let (chain, key) = pki.leaf(&["rec.example"], false);
    let server = common::https_server(common::server_config(
        chain.clone(),
        key,
        &["h2", "http/1.1"],
    ))
    .await;
    let mut o = opts();
    o.roots = pki.roots();
    let resolver = |_n: String| std::future::ready(Ok(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]));
    let url = url::Url::parse(&format!("https://rec.example:{}/", server.port())).unwrap();
    let out = fetch(&o, &url, &ok_request_headers(), resolver).await;
    assert_eq!(out.failure, None);

    let tls_rec = &out.tls_handshake_records()[0];
    let ders = tls_rec.certificates_der().unwrap();
    assert_eq!(
        ders,
        chain
            .iter()
            .map(|c| c.as_ref().to_vec())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        tls_rec.negotiated_protocol.get().map(String::as_str),
        Some("h2")
    );
    let pin = tls_rec
        .extra
        .get(SPKI_EXTRA_KEY)
        .and_then(Value::as_str)
        .unwrap();
    assert_eq!(Some(pin.to_string()), tls::spki_sha256(&ders[0]));

    let http_rec: &HttpTransaction = &out.request_records()[0];
    let response = http_rec.response.get().unwrap();
    assert_eq!(response.code.get(), Some(&200));
    assert_eq!(
        response.header("set-cookie").and_then(|b| b.as_text()),
        Some("a=1")
    );
    let list = response.headers_list.get().unwrap();
    assert_eq!(
        list.iter()
            .filter(|(k, _)| k.as_text() == Some("Set-Cookie"))
            .count(),
        2
    );
    assert_eq!(
        response.body.get().unwrap().bytes().unwrap().as_ref(),
        b"<html><title>hello</title></html>"
    );
    assert_eq!(http_rec.alpn.get().map(String::as_str), Some("h2"));
    let request = http_rec.request.get().unwrap();
    assert_eq!(
        request.header("host").and_then(|b| b.as_text()),
        Some(format!("rec.example:{}", server.port()).as_str())
    );

    let events = out.event_records();
    let ops: Vec<_> = events
        .iter()
        .filter_map(|e| e.operation.get().cloned())
        .collect();
    assert_eq!(ops.first().map(String::as_str), Some("connect"));
    assert!(ops.contains(&"tls_handshake_done".to_string()));
    assert_eq!(
        ops.last().map(String::as_str),
        Some("http_transaction_done")
    );
}

#[tokio::test]
async fn a_request_that_got_no_response_is_written_like_ooni_writes_it() {
    let nx =
        |_n: String| std::future::ready(Err::<Vec<IpAddr>, String>("dns_nxdomain_error".into()));
    let out = fetch(
        &opts(),
        &url::Url::parse("http://gone.example/").unwrap(),
        &[],
        nx,
    )
    .await;
    let json = serde_json::to_value(&out.request_records()[0]).unwrap();
    assert_eq!(json["failure"], "dns_nxdomain_error");
    assert_eq!(json["response"]["code"], 0);
    assert_eq!(json["response"]["body"], Value::Null);
    assert_eq!(json["request"]["url"], "http://gone.example/");
}

/// The real v0.5 measurements shipped in shared/data, when present.
fn real_measurements() -> Option<Vec<Value>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/ooni-samples/probe-cli-minipipeline-manual");
    if !dir.is_dir() {
        eprintln!("skipping: {} not found", dir.display());
        return None;
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path().join("measurement.json");
        if let Ok(text) = std::fs::read_to_string(&path) {
            out.push(serde_json::from_str(&text).unwrap());
        }
    }
    Some(out)
}

#[tokio::test]
async fn records_use_the_keys_real_ooni_v05_records_use() {
    let Some(measurements) = real_measurements() else {
        return;
    };
    assert!(!measurements.is_empty());
    let mut real: std::collections::BTreeMap<&str, BTreeSet<String>> = Default::default();
    for m in &measurements {
        let tk = &m["test_keys"];
        for section in [
            "queries",
            "tcp_connect",
            "tls_handshakes",
            "requests",
            "network_events",
        ] {
            for e in tk[section].as_array().into_iter().flatten() {
                real.entry(section).or_default().extend(keys(e));
                if section == "requests" {
                    real.entry("request")
                        .or_default()
                        .extend(keys(&e["request"]));
                    real.entry("response")
                        .or_default()
                        .extend(keys(&e["response"]));
                }
                if section == "queries" {
                    for a in e["answers"].as_array().into_iter().flatten() {
                        real.entry("answers").or_default().extend(keys(a));
                    }
                }
            }
        }
    }

    // Measure something that produces every record type.
    let pki = Pki::new("shape CA");
    let (chain, key) = pki.leaf(&["shape.example"], false);
    let server = common::https_server(common::server_config(chain, key, &["h2", "http/1.1"])).await;
    let mut o = opts();
    o.roots = pki.roots();
    let url = url::Url::parse(&format!("https://shape.example:{}/", server.port())).unwrap();
    let out = fetch(&o, &url, &ok_request_headers(), |_n: String| {
        std::future::ready(Ok(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]))
    })
    .await;
    let (dns, _) = common::udp_dns(Dns::Answer(vec![Ipv4Addr::new(192, 0, 2, 1)])).await;
    let lookup = lookup_udp(&o, dns, "shape.example", QueryType::A).await;

    let ours: Vec<(&str, Value)> = vec![
        ("queries", serde_json::to_value(lookup.to_record()).unwrap()),
        (
            "answers",
            serde_json::to_value(lookup.to_record()).unwrap()["answers"][0].clone(),
        ),
        (
            "tcp_connect",
            serde_json::to_value(&out.tcp_connect_records()[0]).unwrap(),
        ),
        (
            "tls_handshakes",
            serde_json::to_value(&out.tls_handshake_records()[0]).unwrap(),
        ),
        (
            "requests",
            serde_json::to_value(&out.request_records()[0]).unwrap(),
        ),
        (
            "request",
            serde_json::to_value(&out.request_records()[0]).unwrap()["request"].clone(),
        ),
        (
            "response",
            serde_json::to_value(&out.request_records()[0]).unwrap()["response"].clone(),
        ),
        (
            "network_events",
            serde_json::to_value(&out.event_records()[0]).unwrap(),
        ),
    ];
    // Keys we add on purpose: the DNS rcode (df-002) and the leaf SPKI pin.
    let allowed_extra: BTreeSet<String> = ["rcode", SPKI_EXTRA_KEY]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for (section, value) in ours {
        let unknown: Vec<_> = keys(&value)
            .into_iter()
            .filter(|k| !real[section].contains(k) && !allowed_extra.contains(k))
            .collect();
        assert!(
            unknown.is_empty(),
            "{section}: keys real OONI records do not have: {unknown:?}"
        );
        for k in ["t0", "t"] {
            if let Some(t) = value.get(k) {
                assert!(t.is_number(), "{section}.{k} is a number");
            }
        }
    }
    // And the model accepts a real record and ours alike.
    let real_tls = measurements
        .iter()
        .find_map(|m| {
            m["test_keys"]["tls_handshakes"]
                .as_array()
                .and_then(|a| a.first())
                .cloned()
        })
        .expect("a real TLS handshake record");
    let real_tls: canary_model::TlsHandshake = serde_json::from_value(real_tls).unwrap();
    assert!(real_tls.certificates_der().is_ok());
}
