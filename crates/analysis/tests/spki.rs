//! The certificate SPKI fingerprint computed by the analysis (a small,
//! bounded DER walk) equals the one Canary's probe and test helper record
//! (`x_spki_sha256`, SHA-256 of x509-parser's `subject_pki.raw`).

use canary_analysis::netutil::spki_sha256_hex;
use sha2::{Digest, Sha256};

#[test]
fn spki_fingerprint_matches_x509_parser_for_generated_certificates() {
    for names in [
        vec!["site.example".to_string()],
        vec!["a.example".into(), "b.example".into()],
    ] {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(names)
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let der = cert.der().to_vec();
        let (_, parsed) = x509_parser::parse_x509_certificate(&der).unwrap();
        let want = hex::encode(Sha256::digest(parsed.tbs_certificate.subject_pki.raw));
        assert_eq!(spki_sha256_hex(&der).as_deref(), Some(want.as_str()));
        // A truncated certificate is rejected, not misread.
        assert_eq!(spki_sha256_hex(&der[..der.len() / 2]), None);
    }
}

#[test]
fn two_keys_give_two_fingerprints_and_one_key_one() {
    let k1 = rcgen::KeyPair::generate().unwrap();
    let k2 = rcgen::KeyPair::generate().unwrap();
    let p = || rcgen::CertificateParams::new(vec!["site.example".to_string()]).unwrap();
    let a = p().self_signed(&k1).unwrap().der().to_vec();
    let b = p().self_signed(&k1).unwrap().der().to_vec();
    let c = p().self_signed(&k2).unwrap().der().to_vec();
    assert_eq!(
        spki_sha256_hex(&a),
        spki_sha256_hex(&b),
        "same key, new certificate"
    );
    assert_ne!(spki_sha256_hex(&a), spki_sha256_hex(&c), "another key");
}

/// End to end: the probe's recorded leaf certificate (DER in
/// `peer_certificates`) against the control's `x_spki_sha256`.
#[test]
fn a_valid_certificate_with_another_key_is_interception() {
    use canary_analysis::fingerprints::FingerprintDb;
    use canary_analysis::verdict::{analyse_web_connectivity, Context, Kind, Outcome};
    use canary_model::{PeerCertificate, WebConnectivityTestKeys};
    use serde_json::json;

    let real = rcgen::KeyPair::generate().unwrap();
    let mitm = rcgen::KeyPair::generate().unwrap();
    let params = || rcgen::CertificateParams::new(vec!["site.example".to_string()]).unwrap();
    let real_der = params().self_signed(&real).unwrap().der().to_vec();
    let mitm_der = params().self_signed(&mitm).unwrap().der().to_vec();
    let real_spki = spki_sha256_hex(&real_der).unwrap();

    let keys = |leaf: &[u8]| {
        let tk = json!({
            "queries": [{"hostname": "site.example", "engine": "getaddrinfo", "failure": null,
                         "answers": [{"answer_type": "A", "ipv4": "93.184.216.34"}]}],
            "tcp_connect": [{"ip": "93.184.216.34", "port": 443, "status": {"success": true, "failure": null}}],
            "tls_handshakes": [{"address": "93.184.216.34:443", "server_name": "site.example", "failure": null,
                                "peer_certificates": [serde_json::to_value(PeerCertificate::from_der(leaf)).unwrap()]}],
            "requests": [{"request": {"url": "https://site.example/"}, "failure": null,
                          "response": {"code": 200, "body": "<title>Site</title>", "headers_list": []}}],
            "control": {"dns": {"failure": null, "addrs": ["93.184.216.34"]},
                        "tls_handshake": {"93.184.216.34:443": {"server_name": "site.example", "status": true,
                                          "failure": null, "x_spki_sha256": real_spki}},
                        "http_request": {"status_code": 200, "body_length": 19, "failure": null, "title": "Site"}},
        });
        serde_json::from_value::<WebConnectivityTestKeys>(tk).unwrap()
    };
    let db = FingerprintDb::canary_default();
    let ctx = Context::new("KH", &db)
        .with_input("https://site.example/")
        .with_test_version("0.5.28");
    let ok = analyse_web_connectivity(&keys(&real_der), &ctx);
    assert_eq!(ok.outcome, Outcome::Ok, "{}", ok.explanation);
    let mitm_v = analyse_web_connectivity(&keys(&mitm_der), &ctx);
    assert_eq!(
        (mitm_v.outcome, mitm_v.kind),
        (Outcome::Blocked, Some(Kind::Interception))
    );
    assert_eq!(
        mitm_v.accessible,
        Some(true),
        "OONI trusts any HTTPS success"
    );
}
