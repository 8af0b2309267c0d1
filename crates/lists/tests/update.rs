//! `ListStore::update` against a real HTTPS server on loopback with its own CA.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use canary_lists::{http_client, FetchConfig, ListError, ListStore};
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

const HEADER: &str = "url,category_code,category_description,date_added,source,notes\n";

/// A static HTTPS site on 127.0.0.1 serving `files` by path; anything else is
/// a 404. Returns its address and the PEM of the CA that signed its
/// certificate.
async fn https_site(files: HashMap<String, Vec<u8>>) -> (SocketAddr, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls_pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let files = Arc::new(files);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let files = files.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service =
                    hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                        let files = files.clone();
                        async move {
                            let res = match files.get(req.uri().path()) {
                                Some(body) => Response::new(Full::new(Bytes::from(body.clone()))),
                                None => {
                                    let mut r =
                                        Response::new(Full::new(Bytes::from_static(b"Not Found")));
                                    *r.status_mut() = StatusCode::NOT_FOUND;
                                    r
                                }
                            };
                            Ok::<_, Infallible>(res)
                        }
                    });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (addr, ca_cert.pem())
}

fn list(rows: &[&str]) -> Vec<u8> {
    let mut s = HEADER.to_string();
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s.into_bytes()
}

struct World {
    store: ListStore,
    client: reqwest::Client,
    config: FetchConfig,
    _dir: tempfile::TempDir,
}

async fn world(files: HashMap<String, Vec<u8>>) -> World {
    let (addr, ca_pem) = https_site(files).await;
    let dir = tempfile::tempdir().unwrap();
    let ca_path = dir.path().join("ca.pem");
    std::fs::write(&ca_path, ca_pem).unwrap();
    let client = http_client(Some(&ca_path), Duration::from_secs(5), None).unwrap();
    let config = FetchConfig::new(&format!("https://{addr}/lists")).unwrap();
    World {
        store: ListStore::new(dir.path().join("lists")),
        client,
        config,
        _dir: dir,
    }
}

fn files(pairs: &[(&str, Vec<u8>)]) -> HashMap<String, Vec<u8>> {
    pairs
        .iter()
        .map(|(p, b)| (p.to_string(), b.clone()))
        .collect()
}

#[tokio::test]
async fn update_downloads_country_and_global_lists_and_merges_them() {
    let w = world(files(&[
        (
            "/lists/kh.csv",
            list(&[
                "https://www.cambodiadaily.com/,NEWS,News Media,2016-09-17,cchr,",
                "https://shared.example/,HUMR,Human Rights Issues,2020-01-01,x,",
            ]),
        ),
        (
            "/lists/global.csv",
            list(&[
                "https://shared.example/,GRP,Social Networking,2019-01-01,y,",
                "https://www.facebook.com/,GRP,Social Networking,2019-01-01,y,",
                "not a url,GRP,Social Networking,2019-01-01,y,",
            ]),
        ),
    ]))
    .await;
    let updated = w
        .store
        .update(&w.client, &w.config, &["KH".to_string()])
        .await
        .unwrap();
    let summary: Vec<(&str, usize, usize)> = updated
        .iter()
        .map(|u| (u.name.as_str(), u.entries, u.skipped_rows))
        .collect();
    assert_eq!(summary, [("global", 2, 1), ("kh", 2, 0)]);
    let merged = w.store.load_country("kh").unwrap();
    let urls: Vec<(&str, &str)> = merged
        .iter()
        .map(|e| (e.url.as_str(), e.category_code.as_str()))
        .collect();
    assert_eq!(
        urls,
        [
            ("https://www.cambodiadaily.com/", "NEWS"),
            ("https://shared.example/", "HUMR"),
            ("https://www.facebook.com/", "GRP"),
        ]
    );
}

#[tokio::test]
async fn a_missing_country_list_is_a_clear_error_and_keeps_old_copies() {
    let w = world(files(&[(
        "/lists/global.csv",
        list(&["https://www.facebook.com/,GRP,Social Networking,2019-01-01,y,"]),
    )]))
    .await;
    w.store.store("la", b"old copy").unwrap();
    let err = w
        .store
        .update(&w.client, &w.config, &["LA".to_string()])
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("404") && msg.contains("LA"), "{msg}");
    let kept = std::fs::read(w.store.path("la").unwrap()).unwrap();
    assert_eq!(
        kept, b"old copy",
        "a failed update must not touch the local copy"
    );
}

#[tokio::test]
async fn a_page_that_is_not_a_test_list_is_refused() {
    let w = world(files(&[(
        "/lists/global.csv",
        b"<html><title>Captive portal</title></html>".to_vec(),
    )]))
    .await;
    let err = w.store.update(&w.client, &w.config, &[]).await.unwrap_err();
    assert!(matches!(err, ListError::Invalid { .. }), "{err}");
    assert!(!w.store.path("global").unwrap().exists());
}

#[tokio::test]
async fn an_oversized_list_is_refused() {
    let big = list(&["https://a.example/,GRP,Social Networking,2019-01-01,y,"; 2000]);
    let mut w = world(files(&[("/lists/global.csv", big)])).await;
    w.config.max_bytes = 10_000;
    let err = w.store.update(&w.client, &w.config, &[]).await.unwrap_err();
    assert!(matches!(err, ListError::TooLarge { .. }), "{err}");
}

#[tokio::test]
async fn a_server_with_an_untrusted_certificate_is_refused() {
    let (addr, _ca) = https_site(HashMap::new()).await;
    let dir = tempfile::tempdir().unwrap();
    // Mozilla roots only: the lab CA is not among them.
    let client = http_client(None, Duration::from_secs(5), None).unwrap();
    let config = FetchConfig::new(&format!("https://{addr}/lists/")).unwrap();
    let err = ListStore::new(dir.path())
        .update(&client, &config, &[])
        .await
        .unwrap_err();
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
}

#[test]
fn real_citizen_lab_lists_parse_without_problems() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/test-lists");
    if !dir.is_dir() {
        eprintln!("skipping: {} not found", dir.display());
        return;
    }
    for (name, at_least) in [("kh", 170), ("global", 1700), ("th", 500), ("mm", 800)] {
        let file = std::fs::File::open(dir.join(format!("{name}.csv"))).unwrap();
        let list = canary_lists::parse(file).unwrap();
        assert!(
            list.entries.len() >= at_least,
            "{name}: {}",
            list.entries.len()
        );
        eprintln!(
            "{name}.csv: {} URLs, {} rows skipped: {:?}",
            list.entries.len(),
            list.problems.len(),
            list.problems
        );
        assert!(
            list.problems.len() * 100 <= list.entries.len(),
            "{name}: too many bad rows"
        );
    }
    let store = ListStore::new(&dir);
    let merged = store.load_country("KH").unwrap();
    assert!(merged.len() > 1700, "KH + global merged: {}", merged.len());
}
