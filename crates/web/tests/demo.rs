//! The demo dataset: its shape, its verdicts (computed by the real rules)
//! and idempotent loading.

use std::collections::BTreeMap;

use canary_store::{Outcome, Store};
use canary_web::demo;

#[test]
fn demo_dataset_covers_every_scripted_kind_of_blocking() {
    let (ms, events) = demo::dataset().unwrap();
    let expected = demo::DAYS * demo::PER_DAY * 12 * demo::NETWORKS.len() as i64;
    assert_eq!(ms.len() as i64, expected);
    let mut by: BTreeMap<(String, Option<String>, Option<String>, bool), usize> = BTreeMap::new();
    for m in &ms {
        let v = &m.verdict;
        *by.entry((
            v.outcome.to_string(),
            v.layer.clone(),
            v.kind.clone(),
            v.confirmed,
        ))
        .or_default() += 1;
        assert_eq!(m.probe_cc, "KH");
        assert!(m.measurement_start_time.year() == 2024);
    }
    for (k, n) in &by {
        eprintln!("{k:?}: {n}");
    }
    let has = |outcome: &str, layer: Option<&str>| {
        by.keys()
            .any(|(o, l, _, _)| o == outcome && l.as_deref() == layer)
    };
    assert!(has("ok", None), "accessible measurements");
    assert!(has("blocked", Some("dns")), "DNS blocking");
    assert!(has("blocked", Some("tls")), "TLS blocking");
    assert!(has("blocked", Some("http")), "HTTP blocking");
    assert!(
        by.keys().any(|(o, _, _, c)| o == "blocked" && *c),
        "some blocking is confirmed"
    );
    assert!(
        by.keys().any(|(o, _, _, _)| o == "down"),
        "a site down for everyone"
    );
    let ok = by
        .iter()
        .filter(|(k, _)| k.0 == "ok")
        .map(|(_, n)| n)
        .sum::<usize>();
    assert!(ok * 2 > ms.len(), "most measurements are accessible");
    assert!(!events.is_empty(), "the detector finds blocking events");
    assert!(events
        .iter()
        .all(|e| e.country == "KH" && !e.measurement_ids.is_empty()));
}

#[test]
fn demo_dataset_is_deterministic() {
    let (a, _) = demo::dataset().unwrap();
    let (b, _) = demo::dataset().unwrap();
    assert_eq!(a, b);
}

#[tokio::test]
async fn loading_the_demo_twice_stores_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("d.db").to_str().unwrap())
        .await
        .unwrap();
    let first = demo::load(&store).await.unwrap();
    let second = demo::load(&store).await.unwrap();
    assert_eq!(second.inserted, 0);
    assert_eq!(second.duplicates, first.inserted);
    assert_eq!(store.count().await.unwrap(), first.inserted);
    let blocked = store.blocked_now("KH", &Default::default()).await.unwrap();
    assert!(blocked.len() >= 5, "{blocked:?}");
    assert!(blocked
        .iter()
        .all(|b| b.network_name.as_deref().unwrap_or("").ends_with("(demo)")));
    let _ = Outcome::Ok;
}
