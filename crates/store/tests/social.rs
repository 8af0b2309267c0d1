//! Social-media results in the store: idempotent, validated ingest; the
//! per-day reachability series, the latest state per service × network
//! with since-when, and the restricted pages with first/last seen — the
//! same answers on SQLite and PostgreSQL.

mod common;

use canary_store::social::{
    AccountResult, EndpointResult, NewSocialMeasurement, PageSeen, SocialVerdictRow,
};
use canary_store::{Filters, Outcome, Store, StoreError};
use common::{at, Harness};
use serde_json::json;

fn endpoint(
    name: &str,
    outcome: Outcome,
    layer: Option<&str>,
    kind: Option<&str>,
) -> EndpointResult {
    EndpointResult {
        endpoint: name.into(),
        outcome,
        layer: layer.map(str::to_owned),
        kind: kind.map(str::to_owned),
        failure: (outcome == Outcome::Blocked).then(|| "generic_timeout_error".to_owned()),
    }
}

/// A messaging measurement of `test` on `asn` at `when`.
fn service(
    id: &str,
    test: &str,
    cc: &str,
    asn: u32,
    when: &str,
    outcome: Outcome,
) -> NewSocialMeasurement {
    let blocked = outcome == Outcome::Blocked;
    let mut v = SocialVerdictRow::new(test, outcome, format!("{test} {outcome}"));
    if blocked {
        v.layer = Some("tcp".into());
        v.kind = Some("blackhole".into());
    }
    v.ooni_blocked = Some(blocked);
    v.ooni_keys
        .insert(format!("{test}_blocking"), json!(blocked));
    v.endpoints = vec![
        endpoint("dc1:443", outcome, v.layer.as_deref(), v.kind.as_deref()),
        endpoint("web", Outcome::Ok, None, None),
    ];
    let raw = json!({"measurement_uid": id, "test_name": test, "probe_cc": cc,
                     "probe_asn": format!("AS{asn}"), "measurement_start_time": when});
    NewSocialMeasurement {
        id: id.into(),
        report_id: Some(format!("r-{id}")),
        test_name: test.into(),
        test_version: Some("0.3.1".into()),
        probe_cc: cc.into(),
        probe_asn: asn,
        probe_network_name: Some(format!("Net {asn}")),
        measurement_start_time: at(when),
        software_name: Some("canary".into()),
        software_version: Some("0.1.0".into()),
        raw_json: serde_json::to_vec(&raw).unwrap(),
        ..NewSocialMeasurement::new(v)
    }
}

/// An account check of `url` on `asn` at `when` with `status`.
fn account(
    id: &str,
    url: &str,
    asn: u32,
    when: &str,
    status: &str,
    category: &str,
) -> NewSocialMeasurement {
    let platform = status == "platform_restricted";
    let network = status == "network_blocked";
    let outcome = if platform || network {
        Outcome::Blocked
    } else {
        Outcome::Ok
    };
    let mut v = SocialVerdictRow::new("telegram", outcome, format!("{status} because"));
    v.account = Some(AccountResult {
        platform: "telegram".into(),
        url: url.into(),
        owner: Some("Free Press".into()),
        category: Some(category.into()),
        status: status.into(),
        fingerprint: platform.then(|| "telegram.local_laws".to_owned()),
        layer: network.then(|| "tls".to_owned()),
        kind: network.then(|| "reset".to_owned()),
        reason: format!("{status} because"),
        probe: PageSeen {
            failure: network.then(|| "connection_reset".to_owned()),
            status: (!network).then_some(200),
            final_url: Some(url.into()),
            title: platform.then(|| "Channel unavailable".to_owned()),
        },
        control: PageSeen {
            failure: None,
            status: Some(200),
            final_url: Some(url.into()),
            title: Some("Free Press".into()),
        },
    });
    let raw = json!({"measurement_uid": id, "test_name": "canary_account_check", "input": url});
    NewSocialMeasurement {
        id: id.into(),
        test_name: "canary_account_check".into(),
        input: Some(url.into()),
        probe_cc: "KH".into(),
        probe_asn: asn,
        probe_network_name: Some(format!("Net {asn}")),
        measurement_start_time: at(when),
        raw_json: serde_json::to_vec(&raw).unwrap(),
        ..NewSocialMeasurement::new(v)
    }
}

const CHANNEL: &str = "https://t.me/s/freepress";
const NEWS: &str = "https://t.me/s/news";
const OK_PAGE: &str = "https://t.me/s/fine";

fn dataset() -> Vec<NewSocialMeasurement> {
    use Outcome::{Blocked, Ok};
    vec![
        // telegram on AS100: ok, then blocked twice (two on day 2)
        service("tg-1", "telegram", "KH", 100, "2026-11-01 08:00", Ok),
        service("tg-2", "telegram", "KH", 100, "2026-11-02 08:00", Blocked),
        service("tg-3", "telegram", "KH", 100, "2026-11-02 20:00", Blocked),
        service("tg-4", "telegram", "KH", 100, "2026-11-03 08:00", Blocked),
        // telegram on AS200: blocked, then ok again
        service("tg-5", "telegram", "KH", 200, "2026-11-01 09:00", Blocked),
        service("tg-6", "telegram", "KH", 200, "2026-11-03 09:00", Ok),
        // signal on AS100: never reached
        service("sg-1", "signal", "KH", 100, "2026-11-02 10:00", Blocked),
        // another country
        service("wa-1", "whatsapp", "TH", 300, "2026-11-02 10:00", Blocked),
        // the channel: restricted by the platform on AS100 on days 1-2, reachable on day 3
        account(
            "ac-1",
            CHANNEL,
            100,
            "2026-11-01 08:00",
            "platform_restricted",
            "NEWS",
        ),
        account(
            "ac-2",
            CHANNEL,
            100,
            "2026-11-02 08:00",
            "platform_restricted",
            "NEWS",
        ),
        account(
            "ac-3",
            CHANNEL,
            100,
            "2026-11-03 08:00",
            "reachable",
            "NEWS",
        ),
        // the news channel: blocked by the ISP on AS200 since day 2
        account(
            "ac-4",
            NEWS,
            200,
            "2026-11-02 08:00",
            "network_blocked",
            "HUMR",
        ),
        account(
            "ac-5",
            NEWS,
            200,
            "2026-11-03 08:00",
            "network_blocked",
            "HUMR",
        ),
        // a page that is fine
        account(
            "ac-6",
            OK_PAGE,
            100,
            "2026-11-03 08:00",
            "reachable",
            "NEWS",
        ),
    ]
}

async fn loaded(h: &Harness) -> &Store {
    let report = h.store.insert_social_batch(&dataset()).await.unwrap();
    assert_eq!((report.inserted, report.duplicates), (14, 0));
    &h.store
}

fn day(text: &str) -> Option<time::OffsetDateTime> {
    Some(at(&format!("{text} 00:00")))
}

async fn ingest_is_idempotent_and_raw_comes_back_byte_for_byte(h: &Harness) {
    let store = loaded(h).await;
    let again = store.insert_social_batch(&dataset()).await.unwrap();
    assert_eq!((again.inserted, again.duplicates), (0, 14));
    let twice = vec![dataset()[0].clone(), dataset()[0].clone()];
    assert_eq!(
        store.insert_social_batch(&twice).await.unwrap().duplicates,
        2
    );
    assert_eq!(store.social_count().await.unwrap(), 14);
    let m = store.social_measurement("tg-2").await.unwrap().unwrap();
    assert_eq!(m.raw_json.as_bytes(), dataset()[1].raw_json.as_slice());
    assert_eq!((m.test_name.as_str(), m.probe_asn), ("telegram", 100));
    assert!(store.social_measurement("nope").await.unwrap().is_none());
}

async fn invalid_measurements_are_refused_before_anything_is_written(h: &Harness) {
    let good = dataset()[0].clone();
    let mut bad_cc = good.clone();
    bad_cc.probe_cc = "kh".into();
    let mut web = good.clone();
    web.test_name = "web_connectivity".into();
    let mut account_on_service = good.clone();
    account_on_service.verdict.account = dataset()[8].verdict.account.clone();
    let mut bad_status = dataset()[8].clone();
    if let Some(a) = bad_status.verdict.account.as_mut() {
        a.status = "banned".into();
    }
    let mut empty_id = good.clone();
    empty_id.id.clear();
    let mut nul = good.clone();
    nul.verdict.explanation = "a\0b".into();
    let cases = [
        ("lower-case country", bad_cc),
        ("not a social test", web),
        ("account result on a messaging test", account_on_service),
        ("unknown account status", bad_status),
        ("empty id", empty_id),
        ("NUL in a text", nul),
    ];
    for (name, m) in cases {
        let batch = vec![dataset()[1].clone(), m];
        let err = h.store.insert_social_batch(&batch).await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid { .. }), "{name}: {err}");
    }
    assert_eq!(h.store.social_count().await.unwrap(), 0, "nothing written");
}

async fn the_series_counts_reachable_and_blocked_per_service_network_and_day(h: &Harness) {
    let store = loaded(h).await;
    let rows = store
        .social_series("KH", &Filters::default())
        .await
        .unwrap();
    let got: Vec<(String, u32, String, u64, u64, u64)> = rows
        .iter()
        .map(|r| {
            (
                r.service.clone(),
                r.asn,
                r.day.to_string(),
                r.measurements,
                r.reachable,
                r.blocked,
            )
        })
        .collect();
    let want = [
        ("signal", 100, "2026-11-02", 1, 0, 1),
        ("telegram", 100, "2026-11-01", 1, 1, 0),
        ("telegram", 100, "2026-11-02", 2, 0, 2),
        ("telegram", 100, "2026-11-03", 1, 0, 1),
        ("telegram", 200, "2026-11-01", 1, 0, 1),
        ("telegram", 200, "2026-11-03", 1, 1, 0),
    ];
    let want: Vec<_> = want
        .iter()
        .map(|(s, a, d, n, ok, b)| (s.to_string(), *a, d.to_string(), *n, *ok, *b))
        .collect();
    assert_eq!(got, want);
    assert_eq!(rows[0].network_name.as_deref(), Some("Net 100"));
    assert_eq!(rows[1].share_reachable, 1.0);
    // filters: one network; a window (from inclusive, to exclusive)
    let cases = [
        (
            "AS200 only",
            Filters {
                asn: Some(200),
                ..Filters::default()
            },
            2,
        ),
        (
            "day 2 only",
            Filters {
                from: day("2026-11-02"),
                to: day("2026-11-03"),
                ..Filters::default()
            },
            2,
        ),
        (
            "before any",
            Filters {
                to: day("2026-10-01"),
                ..Filters::default()
            },
            0,
        ),
    ];
    for (name, f, n) in cases {
        assert_eq!(
            store.social_series("KH", &f).await.unwrap().len(),
            n,
            "{name}"
        );
    }
    assert_eq!(
        store
            .social_series("TH", &Filters::default())
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn the_latest_state_says_since_when_a_service_is_blocked(h: &Harness) {
    let store = loaded(h).await;
    let rows = store
        .social_latest("KH", &Filters::default())
        .await
        .unwrap();
    let got: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.service.as_str(),
                r.asn,
                r.outcome,
                r.measurement_id.as_str(),
                r.measurements,
                r.blocked_since,
                r.last_ok,
            )
        })
        .collect();
    let t = |s: &str| Some(at(s));
    assert_eq!(
        got,
        [
            (
                "signal",
                100,
                Outcome::Blocked,
                "sg-1",
                1,
                t("2026-11-02 10:00"),
                None
            ),
            (
                "telegram",
                100,
                Outcome::Blocked,
                "tg-4",
                4,
                t("2026-11-02 08:00"),
                t("2026-11-01 08:00")
            ),
            (
                "telegram",
                200,
                Outcome::Ok,
                "tg-6",
                2,
                None,
                t("2026-11-03 09:00")
            ),
        ]
    );
    let tg = &rows[1];
    assert_eq!(tg.blocked_endpoints, ["dc1:443"]);
    assert_eq!(tg.endpoints.len(), 2);
    assert_eq!(
        (tg.layer.as_deref(), tg.kind.as_deref()),
        (Some("tcp"), Some("blackhole"))
    );
    assert_eq!(tg.ooni_blocked, Some(true));
    assert_eq!(tg.ooni_keys["telegram_blocking"], json!(true));
    // a window that ends on day 2: the latest is tg-3, blocked since tg-2
    let f = Filters {
        to: day("2026-11-03"),
        asn: Some(100),
        ..Filters::default()
    };
    let rows = store.social_latest("KH", &f).await.unwrap();
    let tg = rows.iter().find(|r| r.service == "telegram").unwrap();
    assert_eq!(
        (tg.measurement_id.as_str(), tg.blocked_since),
        ("tg-3", t("2026-11-02 08:00"))
    );
    // a window without the ok: blocked since its first blocked measurement
    let f = Filters {
        from: day("2026-11-02"),
        asn: Some(100),
        ..Filters::default()
    };
    let rows = store.social_latest("KH", &f).await.unwrap();
    let tg = rows.iter().find(|r| r.service == "telegram").unwrap();
    assert_eq!(
        (tg.last_ok, tg.blocked_since),
        (None, t("2026-11-02 08:00"))
    );
}

async fn restricted_pages_tell_platform_from_network_with_first_and_last_seen(h: &Harness) {
    let store = loaded(h).await;
    let rows = store
        .restricted_pages("KH", &Filters::default())
        .await
        .unwrap();
    let got: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.status.as_str(),
                r.url.as_str(),
                r.asn,
                r.first_seen,
                r.last_seen,
                r.measurements,
                r.current,
                r.latest_status.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "network_blocked",
                NEWS,
                200,
                at("2026-11-02 08:00"),
                at("2026-11-03 08:00"),
                2,
                true,
                "network_blocked"
            ),
            (
                "platform_restricted",
                CHANNEL,
                100,
                at("2026-11-01 08:00"),
                at("2026-11-02 08:00"),
                2,
                false,
                "reachable"
            ),
        ]
    );
    let platform = &rows[1];
    assert_eq!(platform.fingerprint.as_deref(), Some("telegram.local_laws"));
    assert_eq!(platform.measurement_id, "ac-2");
    assert_eq!(platform.probe.title.as_deref(), Some("Channel unavailable"));
    assert_eq!(platform.control.title.as_deref(), Some("Free Press"));
    let network = &rows[0];
    assert_eq!(
        (network.layer.as_deref(), network.kind.as_deref()),
        (Some("tls"), Some("reset"))
    );
    assert_eq!(network.probe.failure.as_deref(), Some("connection_reset"));
    assert_eq!(network.network_name.as_deref(), Some("Net 200"));
    let cases = [
        (
            "category HUMR",
            Filters {
                category: Some("HUMR".into()),
                ..Filters::default()
            },
            vec![NEWS],
        ),
        (
            "AS100",
            Filters {
                asn: Some(100),
                ..Filters::default()
            },
            vec![CHANNEL],
        ),
        (
            "up to day 1",
            Filters {
                to: day("2026-11-02"),
                ..Filters::default()
            },
            vec![CHANNEL],
        ),
    ];
    for (name, f, want) in cases {
        let urls: Vec<String> = store
            .restricted_pages("KH", &f)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.url)
            .collect();
        assert_eq!(urls, want, "{name}");
    }
    // up to day 2 the platform restriction is still the latest state
    let f = Filters {
        to: day("2026-11-03"),
        asn: Some(100),
        ..Filters::default()
    };
    let rows = store.restricted_pages("KH", &f).await.unwrap();
    assert!(rows[0].current, "{rows:?}");
}

async fn hostile_query_arguments_are_refused(h: &Harness) {
    for cc in ["kh", "KHM", "", "K'"] {
        let err = h
            .store
            .social_latest(cc, &Filters::default())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid { .. }), "{cc}");
        assert!(h
            .store
            .restricted_pages(cc, &Filters::default())
            .await
            .is_err());
        assert!(h
            .store
            .social_series(cc, &Filters::default())
            .await
            .is_err());
    }
    let f = Filters {
        category: Some("x".repeat(10_000)),
        ..Filters::default()
    };
    assert!(h.store.restricted_pages("KH", &f).await.is_err());
}

async fn verdicts_are_replaced_when_the_rules_change_and_raw_batches_walk_everything(h: &Harness) {
    let store = loaded(h).await;
    // the cursor: every measurement once, in id order
    let mut after: Option<String> = None;
    let mut ids = Vec::new();
    loop {
        let batch = store.social_raw_batch(after.as_deref(), 5).await.unwrap();
        let Some(last) = batch.last() else { break };
        after = Some(last.id.clone());
        ids.extend(batch.into_iter().map(|r| r.id));
    }
    let mut want: Vec<String> = dataset().into_iter().map(|m| m.id).collect();
    want.sort();
    assert_eq!(ids, want);
    // tg-4 is now judged ok; ac-2 network-blocked; ac-1 unchanged; one unknown id
    let d = dataset();
    let mut tg4 = d[3].verdict.clone();
    tg4.outcome = Outcome::Ok;
    tg4.layer = None;
    tg4.kind = None;
    tg4.rules_version = "2".into();
    let mut ac2 = d[9].verdict.clone();
    if let Some(a) = ac2.account.as_mut() {
        a.status = "network_blocked".into();
        a.fingerprint = None;
    }
    let report = store
        .replace_social_verdicts(&[
            ("tg-4".into(), tg4),
            ("ac-2".into(), ac2),
            ("ac-1".into(), d[8].verdict.clone()),
            ("nope".into(), d[0].verdict.clone()),
        ])
        .await
        .unwrap();
    assert_eq!(
        (report.changed, report.unchanged, report.missing),
        (2, 1, 1)
    );
    let latest = store
        .social_latest("KH", &Filters::default())
        .await
        .unwrap();
    let tg = latest
        .iter()
        .find(|s| s.service == "telegram" && s.asn == 100)
        .unwrap();
    assert_eq!((tg.outcome, tg.blocked_since), (Outcome::Ok, None));
    let pages = store
        .restricted_pages("KH", &Filters::default())
        .await
        .unwrap();
    let channel: Vec<(&str, u64)> = pages
        .iter()
        .filter(|p| p.url == CHANNEL)
        .map(|p| (p.status.as_str(), p.measurements))
        .collect();
    assert_eq!(
        channel,
        [("network_blocked", 1), ("platform_restricted", 1)]
    );
    // replaying the same verdicts changes nothing more
    let again = store
        .replace_social_verdicts(&[("ac-1".into(), d[8].verdict.clone())])
        .await
        .unwrap();
    assert_eq!((again.changed, again.unchanged), (0, 1));
    // an invalid verdict refuses the whole batch
    let mut bad = d[0].verdict.clone();
    bad.account = d[8].verdict.account.clone();
    let mut back = d[3].verdict.clone();
    back.rules_version = "3".into();
    let err = store
        .replace_social_verdicts(&[("tg-4".into(), back), ("tg-1".into(), bad)])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
    let latest = store
        .social_latest("KH", &Filters::default())
        .await
        .unwrap();
    assert!(latest
        .iter()
        .any(|s| s.service == "telegram" && s.asn == 100 && s.outcome == Outcome::Ok));
}

/// What was decided at ingest, and after a reanalysis, is read back row
/// for row: head, endpoints in order, the account result.
async fn the_stored_verdict_is_read_back_as_decided(h: &Harness) {
    let store = loaded(h).await;
    let d = dataset();
    // (case, id, the verdict stored)
    let cases = [
        ("a messaging test with its endpoints", "tg-2", &d[1].verdict),
        ("an account check with both views", "ac-1", &d[8].verdict),
    ];
    for (name, id, want) in cases {
        let got = store.social_verdict(id).await.unwrap();
        assert_eq!(got.as_ref(), Some(want), "{name}");
    }
    assert!(!d[1].verdict.endpoints.is_empty(), "the case has endpoints");
    assert_eq!(store.social_verdict("nope").await.unwrap(), None);
    let mut later = d[1].verdict.clone();
    later.rules_version = "2".into();
    later.outcome = Outcome::Ok;
    later.endpoints.truncate(1);
    store
        .replace_social_verdicts(&[("tg-2".into(), later.clone())])
        .await
        .unwrap();
    assert_eq!(store.social_verdict("tg-2").await.unwrap(), Some(later));
    let long = "x".repeat(10_000);
    assert!(store.social_verdict(&long).await.is_err(), "hostile id");
}

on_both_backends!(
    ingest_is_idempotent_and_raw_comes_back_byte_for_byte,
    invalid_measurements_are_refused_before_anything_is_written,
    the_series_counts_reachable_and_blocked_per_service_network_and_day,
    the_latest_state_says_since_when_a_service_is_blocked,
    restricted_pages_tell_platform_from_network_with_first_and_last_seen,
    hostile_query_arguments_are_refused,
    verdicts_are_replaced_when_the_rules_change_and_raw_batches_walk_everything,
    the_stored_verdict_is_read_back_as_decided,
);

/// Every query, every filter: the two backends give identical answers.
#[tokio::test]
async fn sqlite_and_postgres_answer_the_same() {
    let Some(pg) = Harness::postgres("social_same").await else {
        return;
    };
    let lite = Harness::sqlite().await;
    loaded(&pg).await;
    loaded(&lite).await;
    let filters = [
        Filters::default(),
        Filters {
            asn: Some(100),
            ..Filters::default()
        },
        Filters {
            from: day("2026-11-02"),
            to: day("2026-11-03"),
            ..Filters::default()
        },
        Filters {
            category: Some("NEWS".into()),
            ..Filters::default()
        },
    ];
    for f in &filters {
        for cc in ["KH", "TH", "ZZ"] {
            assert_eq!(
                serde_json::to_value(pg.store.social_series(cc, f).await.unwrap()).unwrap(),
                serde_json::to_value(lite.store.social_series(cc, f).await.unwrap()).unwrap(),
                "series {cc} {f:?}"
            );
            assert_eq!(
                serde_json::to_value(pg.store.social_latest(cc, f).await.unwrap()).unwrap(),
                serde_json::to_value(lite.store.social_latest(cc, f).await.unwrap()).unwrap(),
                "latest {cc} {f:?}"
            );
            assert_eq!(
                serde_json::to_value(pg.store.restricted_pages(cc, f).await.unwrap()).unwrap(),
                serde_json::to_value(lite.store.restricted_pages(cc, f).await.unwrap()).unwrap(),
                "restricted {cc} {f:?}"
            );
        }
    }
    pg.finish().await;
    lite.finish().await;
}
