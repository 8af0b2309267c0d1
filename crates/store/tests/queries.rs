//! The views' queries on a small hand-made dataset whose answers are known,
//! run on SQLite and on PostgreSQL.
//!
//! The dataset (days D0 = 2024-03-01, D1, D2; KH networks 100 and 200, TH 300):
//!
//! | id | cc/asn | domain | time | outcome |
//! |---|---|---|---|---|
//! | m1 | KH/100 | a.example | D0 10:00 | ok |
//! | m2 | KH/100 | a.example | D1 10:00 | blocked dns |
//! | m3 | KH/100 | a.example | D2 10:00 | blocked dns, confirmed |
//! | m4 | KH/100 | a.example | D2 12:00 | unknown (ignored by blocked-now) |
//! | m5 | KH/200 | a.example | D0 11:00 | blocked http |
//! | m6 | KH/200 | a.example | D1 11:00 | ok (so not blocked now) |
//! | m7 | KH/100 | b.example (HUMR) | D0 09:00 | blocked tcp |
//! | m8 | KH/100 | b.example (HUMR) | D1 09:00 | down (does not end the run) |
//! | m9 | KH/100 | b.example (HUMR) | D2 09:00 | blocked tls |
//! | m10 | KH/200 | c.example | D2 08:00 | ok |
//! | m11 | KH/200 | c.example | D2 08:00 | blocked (same second: ok wins) |
//! | m12 | TH/300 | a.example | D1 10:00 | blocked dns |
//! | m13 | KH/100 | (no domain: dnscheck) | D0 12:00 | ok |
//!
//! a.example and c.example are NEWS.

mod common;

use canary_store::{
    BlockedSite, BlockingEvent, Filters, NewMeasurement, Outcome, Selection, SharePoint,
    TimelinePoint,
};
use std::collections::BTreeMap;

use common::{at, measurement, verdict, Harness};
use time::macros::date;
use Outcome::{Blocked, Down, Ok as Fine, Unknown};

/// (id, country, asn, domain, time, outcome, layer, confirmed)
type DataRow = (
    &'static str,
    &'static str,
    u32,
    &'static str,
    &'static str,
    Outcome,
    Option<&'static str>,
    bool,
);

/// A blocked site as comparable plain data.
type SiteOwned = (
    String,
    u32,
    time::OffsetDateTime,
    time::OffsetDateTime,
    Option<String>,
    bool,
    String,
    u64,
);

fn dataset() -> Vec<NewMeasurement> {
    let rows: [DataRow; 12] = [
        (
            "m1",
            "KH",
            100,
            "a.example",
            "2024-03-01 10:00",
            Fine,
            None,
            false,
        ),
        (
            "m2",
            "KH",
            100,
            "a.example",
            "2024-03-02 10:00",
            Blocked,
            Some("dns"),
            false,
        ),
        (
            "m3",
            "KH",
            100,
            "a.example",
            "2024-03-03 10:00",
            Blocked,
            Some("dns"),
            true,
        ),
        (
            "m4",
            "KH",
            100,
            "a.example",
            "2024-03-03 12:00",
            Unknown,
            None,
            false,
        ),
        (
            "m5",
            "KH",
            200,
            "a.example",
            "2024-03-01 11:00",
            Blocked,
            Some("http"),
            false,
        ),
        (
            "m6",
            "KH",
            200,
            "a.example",
            "2024-03-02 11:00",
            Fine,
            None,
            false,
        ),
        (
            "m7",
            "KH",
            100,
            "b.example",
            "2024-03-01 09:00",
            Blocked,
            Some("tcp"),
            false,
        ),
        (
            "m8",
            "KH",
            100,
            "b.example",
            "2024-03-02 09:00",
            Down,
            None,
            false,
        ),
        (
            "m9",
            "KH",
            100,
            "b.example",
            "2024-03-03 09:00",
            Blocked,
            Some("tls"),
            false,
        ),
        (
            "m10",
            "KH",
            200,
            "c.example",
            "2024-03-03 08:00",
            Fine,
            None,
            false,
        ),
        (
            "m11",
            "KH",
            200,
            "c.example",
            "2024-03-03 08:00",
            Blocked,
            Some("http"),
            false,
        ),
        (
            "m12",
            "TH",
            300,
            "a.example",
            "2024-03-02 10:00",
            Blocked,
            Some("dns"),
            false,
        ),
    ];
    let mut out: Vec<NewMeasurement> = rows
        .iter()
        .map(|(id, cc, asn, domain, when, outcome, layer, confirmed)| {
            let mut m = measurement(
                id,
                cc,
                *asn,
                domain,
                when,
                verdict(*outcome, *layer, *confirmed),
            );
            m.category_code = Some(
                if *domain == "b.example" {
                    "HUMR"
                } else {
                    "NEWS"
                }
                .into(),
            );
            m
        })
        .collect();
    let mut dnscheck = measurement(
        "m13",
        "KH",
        100,
        "x",
        "2024-03-01 12:00",
        verdict(Fine, None, false),
    );
    dnscheck.test_name = "dnscheck".into();
    dnscheck.input = None;
    dnscheck.domain = None;
    dnscheck.category_code = None;
    out.push(dnscheck);
    out
}

async fn loaded(h: &Harness) {
    // two batches, to exercise the day-count upserts across transactions
    let data = dataset();
    let (first, second) = data.split_at(5);
    h.store.insert_batch(first).await.unwrap();
    h.store.insert_batch(second).await.unwrap();
}

/// (domain, asn, since, last_seen, layer, confirmed, last id, run length)
type Site<'a> = (
    &'a str,
    u32,
    &'a str,
    &'a str,
    Option<&'a str>,
    bool,
    &'a str,
    u64,
);

fn sites(found: &[BlockedSite]) -> Vec<SiteOwned> {
    found
        .iter()
        .map(|s| {
            (
                s.domain.clone(),
                s.asn,
                s.since,
                s.last_seen,
                s.layer.clone(),
                s.confirmed,
                s.last_measurement_id.clone(),
                s.measurements,
            )
        })
        .collect()
}

fn expect(rows: &[Site<'_>]) -> Vec<SiteOwned> {
    rows.iter()
        .map(|(d, asn, since, last, layer, confirmed, id, n)| {
            (
                d.to_string(),
                *asn,
                at(since),
                at(last),
                layer.map(str::to_owned),
                *confirmed,
                id.to_string(),
                *n,
            )
        })
        .collect()
}

async fn blocked_now_follows_the_latest_decisive_verdict(h: &Harness) {
    loaded(h).await;
    let a100: Site = (
        "a.example",
        100,
        "2024-03-02 10:00",
        "2024-03-03 10:00",
        Some("dns"),
        true,
        "m3",
        2,
    );
    let b100: Site = (
        "b.example",
        100,
        "2024-03-01 09:00",
        "2024-03-03 09:00",
        Some("tls"),
        false,
        "m9",
        2,
    );
    let cases: Vec<(&str, &str, Filters, Vec<Site>)> = vec![
        ("whole history: a/100 since m2 (m4 unknown ignored), b/100 since m7 (m8 down ignored); a/200 ended by m6 ok; c/200 tie goes to ok",
            "KH", Filters::default(), vec![a100, b100]),
        ("network filter keeps only that ASN", "KH", Filters { asn: Some(200), ..Filters::default() }, vec![]),
        ("category filter", "KH", Filters { category: Some("HUMR".into()), ..Filters::default() }, vec![b100]),
        ("window ending before D2: a/100 is blocked by m2 alone, b/100 by m7 alone",
            "KH", Filters { to: Some(at("2024-03-03 00:00")), ..Filters::default() },
            vec![("a.example", 100, "2024-03-02 10:00", "2024-03-02 10:00", Some("dns"), false, "m2", 1),
                 ("b.example", 100, "2024-03-01 09:00", "2024-03-01 09:00", Some("tcp"), false, "m7", 1)]),
        ("window starting at D1: b/100's run starts at the window",
            "KH", Filters { from: Some(at("2024-03-02 00:00")), ..Filters::default() },
            vec![a100, ("b.example", 100, "2024-03-03 09:00", "2024-03-03 09:00", Some("tls"), false, "m9", 1)]),
        ("other country", "TH", Filters::default(),
            vec![("a.example", 300, "2024-03-02 10:00", "2024-03-02 10:00", Some("dns"), false, "m12", 1)]),
        ("unknown country", "ZZ", Filters::default(), vec![]),
    ];
    for (name, cc, filters, want) in cases {
        let got = h.store.blocked_now(cc, &filters).await.unwrap();
        assert_eq!(sites(&got), expect(&want), "{name}");
        // without an end, the answer comes from the per-pair latest times;
        // with one, from the index: both must agree
        if filters.to.is_none() {
            let bounded = Filters {
                to: Some(at("2100-01-01 00:00")),
                ..filters.clone()
            };
            let slow = h.store.blocked_now(cc, &bounded).await.unwrap();
            assert_eq!(slow, got, "{name}: both evaluation paths agree");
        }
    }
    let got = h
        .store
        .blocked_now("KH", &Filters::default())
        .await
        .unwrap();
    assert_eq!(
        got[0].network_name.as_deref(),
        Some("Net 100"),
        "network name from the probes"
    );
    assert_eq!(got[0].kind.as_deref(), Some("dns-kind"));
}

async fn share_series_counts_each_day(h: &Harness) {
    loaded(h).await;
    let p = |day, tested, blocked, ok, confirmed| SharePoint {
        day,
        tested,
        blocked,
        ok,
        confirmed,
    };
    let d0 = date!(2024 - 03 - 01);
    let d1 = date!(2024 - 03 - 02);
    let d2 = date!(2024 - 03 - 03);
    let cases: Vec<(&str, Filters, Vec<SharePoint>)> = vec![
        (
            "all of KH",
            Filters::default(),
            vec![p(d0, 4, 2, 2, 0), p(d1, 3, 1, 1, 0), p(d2, 5, 3, 1, 1)],
        ),
        (
            "one network",
            Filters {
                asn: Some(200),
                ..Filters::default()
            },
            vec![p(d0, 1, 1, 0, 0), p(d1, 1, 0, 1, 0), p(d2, 2, 1, 1, 0)],
        ),
        (
            "one category",
            Filters {
                category: Some("HUMR".into()),
                ..Filters::default()
            },
            vec![p(d0, 1, 1, 0, 0), p(d1, 1, 0, 0, 0), p(d2, 1, 1, 0, 0)],
        ),
        (
            "window widened to whole days: D1 12:00 .. D2 01:00 covers D1 and D2",
            Filters {
                from: Some(at("2024-03-02 12:00")),
                to: Some(at("2024-03-03 01:00")),
                ..Filters::default()
            },
            vec![p(d1, 3, 1, 1, 0), p(d2, 5, 3, 1, 1)],
        ),
        (
            "exclusive end at midnight",
            Filters {
                to: Some(at("2024-03-02 00:00")),
                ..Filters::default()
            },
            vec![p(d0, 4, 2, 2, 0)],
        ),
    ];
    for (name, filters, want) in cases {
        assert_eq!(
            h.store.blocked_share_series("KH", &filters).await.unwrap(),
            want,
            "{name}"
        );
    }
}

async fn country_summary_counts_sites_and_networks(h: &Harness) {
    loaded(h).await;
    let s = h
        .store
        .country_summary("KH", &Filters::default())
        .await
        .unwrap();
    assert_eq!((s.measurements, s.blocked_measurements), (12, 6));
    assert_eq!((s.sites_tested, s.sites_blocked), (3, 2));
    let nets: Vec<_> = s
        .networks
        .iter()
        .map(|n| (n.asn, n.name.as_deref(), n.measurements, n.sites_blocked))
        .collect();
    assert_eq!(
        nets,
        vec![(100, Some("Net 100"), 8, 2), (200, Some("Net 200"), 4, 0)]
    );

    let s = h
        .store
        .country_summary(
            "KH",
            &Filters {
                from: Some(at("2024-03-03 00:00")),
                asn: Some(200),
                ..Filters::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            s.measurements,
            s.blocked_measurements,
            s.sites_tested,
            s.sites_blocked
        ),
        (2, 1, 1, 0)
    );
}

async fn domain_and_asn_timelines(h: &Harness) {
    loaded(h).await;
    let t = |day, asn, outcome, layer: Option<&str>, measurements| TimelinePoint {
        day,
        asn,
        outcome,
        layer: layer.map(str::to_owned),
        measurements,
    };
    let d0 = date!(2024 - 03 - 01);
    let d1 = date!(2024 - 03 - 02);
    let d2 = date!(2024 - 03 - 03);
    let kh = h
        .store
        .domain_timeline("a.example", Some("KH"), &Filters::default())
        .await
        .unwrap();
    assert_eq!(
        kh,
        vec![
            t(d0, 100, Fine, None, 1),
            t(d0, 200, Blocked, Some("http"), 1),
            t(d1, 100, Blocked, Some("dns"), 1),
            t(d1, 200, Fine, None, 1),
            t(d2, 100, Blocked, Some("dns"), 1),
            t(d2, 100, Unknown, None, 1),
        ]
    );
    let everywhere = h
        .store
        .domain_timeline(
            "a.example",
            None,
            &Filters {
                asn: Some(300),
                ..Filters::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(everywhere, vec![t(d1, 300, Blocked, Some("dns"), 1)]);
    let asn = h
        .store
        .asn_timeline(100, Some("KH"), &Filters::default())
        .await
        .unwrap();
    assert_eq!(
        asn,
        vec![
            t(d0, 100, Fine, None, 2),
            t(d0, 100, Blocked, Some("tcp"), 1),
            t(d1, 100, Blocked, Some("dns"), 1),
            t(d1, 100, Down, None, 1),
            t(d2, 100, Blocked, Some("dns"), 1),
            t(d2, 100, Blocked, Some("tls"), 1),
            t(d2, 100, Unknown, None, 1),
        ]
    );
    let news = h
        .store
        .asn_timeline(
            100,
            None,
            &Filters {
                category: Some("HUMR".into()),
                from: Some(at("2024-03-02 00:00")),
                ..Filters::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        news,
        vec![
            t(d1, 100, Down, None, 1),
            t(d2, 100, Blocked, Some("tls"), 1)
        ]
    );
}

async fn list_measurements_pages_newest_first(h: &Harness) {
    loaded(h).await;
    let ids =
        |v: Vec<canary_store::MeasurementInfo>| v.into_iter().map(|m| m.id).collect::<Vec<_>>();
    let blocked_kh = Selection {
        country: Some("KH".into()),
        outcome: Some(Blocked),
        ..Selection::default()
    };
    let cases: Vec<(&str, Selection, u32, u64, Vec<&str>)> = vec![
        (
            "blocked in KH, newest first",
            blocked_kh.clone(),
            100,
            0,
            vec!["m3", "m9", "m11", "m2", "m5", "m7"],
        ),
        ("second page", blocked_kh, 3, 2, vec!["m11", "m2", "m5"]),
        (
            "by domain and network",
            Selection {
                domain: Some("a.example".into()),
                asn: Some(200),
                ..Selection::default()
            },
            10,
            0,
            vec!["m6", "m5"],
        ),
        (
            "by category and window",
            Selection {
                category: Some("HUMR".into()),
                from: Some(at("2024-03-02 00:00")),
                to: Some(at("2024-03-03 00:00")),
                ..Selection::default()
            },
            10,
            0,
            vec!["m8"],
        ),
        (
            "everything",
            Selection::default(),
            1000,
            0,
            vec![
                "m4", "m3", "m9", "m11", "m10", "m6", "m2", "m12", "m8", "m13", "m5", "m1", "m7",
            ],
        ),
    ];
    for (name, sel, limit, offset, want) in cases {
        assert_eq!(
            ids(h
                .store
                .list_measurements(&sel, limit, offset)
                .await
                .unwrap()),
            want,
            "{name}"
        );
    }
    let one = h
        .store
        .list_measurements(
            &Selection {
                domain: Some("b.example".into()),
                ..Selection::default()
            },
            1,
            0,
        )
        .await
        .unwrap();
    assert_eq!(one[0].verdict, verdict(Blocked, Some("tls"), false));
    assert_eq!(one[0].category_code.as_deref(), Some("HUMR"));
}

async fn measurement_page_has_fields_verdict_and_raw(h: &Harness) {
    loaded(h).await;
    let want = dataset().into_iter().find(|m| m.id == "m3").unwrap();
    let got = h.store.measurement("m3").await.unwrap().unwrap();
    assert_eq!(got.raw_json.as_bytes(), want.raw_json.as_slice());
    assert_eq!(got.info.verdict, want.verdict);
    assert_eq!(got.info.measurement_start_time, want.measurement_start_time);
    assert_eq!(
        (
            got.info.probe_cc.as_str(),
            got.info.probe_asn,
            got.info.domain.as_deref()
        ),
        ("KH", 100, Some("a.example"))
    );
    assert_eq!(got.info.resolver_asn, Some(100));
    assert_eq!(got.info.report_id.as_deref(), Some("report-m3"));
    assert!(h.store.measurement("nope").await.unwrap().is_none());
    // serialisable for the JSON API
    let json = serde_json::to_value(&got).unwrap();
    assert_eq!(json["verdict"]["blocking"], "dns");
    assert_eq!(json["measurement_start_time"], "2024-03-03T10:00:00Z");
}

async fn reanalysis_replaces_changed_verdicts_and_keeps_history(h: &Harness) {
    loaded(h).await;
    let mut v2 = verdict(Blocked, Some("http"), false);
    v2.rules_version = "2".into();
    let report = h
        .store
        .replace_verdicts(&[
            ("m6".into(), v2.clone()),
            ("m1".into(), verdict(Fine, None, false)),
            ("nope".into(), v2.clone()),
        ])
        .await
        .unwrap();
    assert_eq!(
        (report.changed, report.unchanged, report.missing),
        (1, 1, 1)
    );
    assert_eq!(
        h.store
            .measurement("m6")
            .await
            .unwrap()
            .unwrap()
            .info
            .verdict,
        v2
    );
    let history = h.store.verdict_history("m6").await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        (
            history[0].rules_version.as_str(),
            history[0].outcome,
            history[0].blocking.as_deref()
        ),
        ("1", Fine, Some("false"))
    );
    assert!(h.store.verdict_history("m1").await.unwrap().is_empty());

    // the views follow: a/200 is now blocked since m5, D1 moved from ok to blocked
    let blocked = h
        .store
        .blocked_now(
            "KH",
            &Filters {
                asn: Some(200),
                ..Filters::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        sites(&blocked),
        expect(&[(
            "a.example",
            200,
            "2024-03-01 11:00",
            "2024-03-02 11:00",
            Some("http"),
            false,
            "m6",
            2
        )])
    );
    let bounded = Filters {
        asn: Some(200),
        to: Some(at("2100-01-01 00:00")),
        ..Filters::default()
    };
    let slow = h.store.blocked_now("KH", &bounded).await.unwrap();
    assert_eq!(slow, blocked, "both evaluation paths follow reanalysis");
    let series = h
        .store
        .blocked_share_series(
            "KH",
            &Filters {
                asn: Some(200),
                ..Filters::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (series[1].tested, series[1].blocked, series[1].ok),
        (1, 1, 0)
    );

    // replacing with the same verdict again changes nothing
    let again = h
        .store
        .replace_verdicts(&[("m6".into(), v2)])
        .await
        .unwrap();
    assert_eq!((again.changed, again.unchanged, again.missing), (0, 1, 0));
    assert_eq!(h.store.verdict_history("m6").await.unwrap().len(), 1);
    // and back: the day counts return exactly to the original
    h.store
        .replace_verdicts(&[("m6".into(), verdict(Fine, None, false))])
        .await
        .unwrap();
    let a200 = Filters {
        asn: Some(200),
        ..Filters::default()
    };
    assert!(
        h.store.blocked_now("KH", &a200).await.unwrap().is_empty(),
        "ok again"
    );
    let series = h
        .store
        .blocked_share_series("KH", &Filters::default())
        .await
        .unwrap();
    assert_eq!(
        (series[1].tested, series[1].blocked, series[1].ok),
        (3, 1, 1)
    );
}

async fn raw_batches_walk_every_measurement_once(h: &Harness) {
    loaded(h).await;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let batch = h.store.raw_batch(after.as_deref(), 5).await.unwrap();
        let Some(last) = batch.last() else { break };
        after = Some(last.id.clone());
        for r in batch {
            let want = dataset().into_iter().find(|m| m.id == r.id).unwrap();
            assert_eq!(r.raw_json, want.raw_json, "{}", r.id);
            seen.push(r.id);
        }
    }
    let mut want: Vec<String> = dataset().into_iter().map(|m| m.id).collect();
    want.sort();
    assert_eq!(seen, want);
}

async fn events_upsert_and_filter(h: &Harness) {
    let ev =
        |cc: &str, asn, domain: &str, start: &str, end: Option<&str>, ids: &[&str]| BlockingEvent {
            country: cc.into(),
            asn,
            domain: domain.into(),
            layer: "dns".into(),
            start: at(start),
            end: end.map(at),
            confidence: 0.9,
            measurement_ids: ids.iter().map(|s| s.to_string()).collect(),
        };
    let ongoing = ev(
        "KH",
        100,
        "a.example",
        "2024-03-02 10:00",
        None,
        &["m2", "m3"],
    );
    let old = ev(
        "KH",
        200,
        "a.example",
        "2024-01-01 00:00",
        Some("2024-01-05 00:00"),
        &["x"],
    );
    let thai = ev("TH", 300, "a.example", "2024-03-02 10:00", None, &["m12"]);
    assert_eq!(
        h.store
            .upsert_events(&[ongoing.clone(), old.clone(), thai.clone()])
            .await
            .unwrap(),
        3
    );
    // the detector later sees the end of the first event: same key, updated in place
    let mut ended = ongoing.clone();
    ended.end = Some(at("2024-03-04 00:00"));
    ended.confidence = 0.95;
    ended.measurement_ids.push("m9".into());
    h.store.upsert_events(&[ended.clone()]).await.unwrap();

    let sel = |country: Option<&str>, asn, from: Option<&str>| Selection {
        country: country.map(str::to_owned),
        asn,
        from: from.map(at),
        ..Selection::default()
    };
    let cases: Vec<(&str, Selection, Vec<&BlockingEvent>)> = vec![
        (
            "one country, newest first",
            sel(Some("KH"), None, None),
            vec![&ended, &old],
        ),
        ("one network", sel(None, Some(300), None), vec![&thai]),
        (
            "still going at or after Feb",
            sel(Some("KH"), None, Some("2024-02-01 00:00")),
            vec![&ended],
        ),
        (
            "by domain",
            Selection {
                domain: Some("a.example".into()),
                to: Some(at("2024-02-01 00:00")),
                ..Selection::default()
            },
            vec![&old],
        ),
    ];
    for (name, s, want) in cases {
        let got = h.store.events(&s, 100).await.unwrap();
        assert_eq!(got.iter().collect::<Vec<_>>(), want, "{name}");
    }
    let mut bad = ongoing;
    bad.confidence = f64::NAN;
    assert!(
        h.store.upsert_events(&[bad]).await.is_err(),
        "NaN confidence refused"
    );
}

async fn networks_operator_names_win(h: &Harness) {
    h.store.upsert_network(100, "Operator Name").await.unwrap();
    loaded(h).await; // probes call it "Net 100"
    assert_eq!(
        h.store.network(100).await.unwrap().unwrap().name,
        "Operator Name"
    );
    assert_eq!(h.store.network(200).await.unwrap().unwrap().name, "Net 200");
    h.store.upsert_network(200, "Renamed").await.unwrap();
    let all: Vec<_> = h
        .store
        .networks()
        .await
        .unwrap()
        .into_iter()
        .map(|n| (n.asn, n.name))
        .collect();
    assert_eq!(
        all,
        vec![
            (100, "Operator Name".into()),
            (200, "Renamed".into()),
            (300, "Net 300".into())
        ]
    );
    assert!(h.store.network(4).await.unwrap().is_none());
}

async fn optimize_keeps_every_answer(h: &Harness) {
    loaded(h).await;
    let before = h
        .store
        .blocked_now("KH", &Filters::default())
        .await
        .unwrap();
    let summary = h
        .store
        .country_summary("KH", &Filters::default())
        .await
        .unwrap();
    h.store.optimize().await.unwrap();
    assert_eq!(
        h.store
            .blocked_now("KH", &Filters::default())
            .await
            .unwrap(),
        before
    );
    assert_eq!(
        h.store
            .country_summary("KH", &Filters::default())
            .await
            .unwrap(),
        summary
    );
    assert_eq!(before.len(), 2);
}

/// Ingest inserts a batch in index order (country, domain, network, time);
/// the answers must not depend on it: of two blocked measurements of one
/// pair in the same second, the one that came later in the batch is "stored
/// last" (even when its id sorts first), whatever else the batch holds.
async fn batch_order_decides_ties_not_ids(h: &Harness) {
    let b = |id: &str, domain: &str, when: &str, layer: &str| {
        measurement(
            id,
            "KH",
            100,
            domain,
            when,
            verdict(Blocked, Some(layer), false),
        )
    };
    let batch = vec![
        b("t-late", "z.example", "2024-03-01 10:00", "http"),
        b("x-2", "x.example", "2024-03-01 09:00", "dns"),
        b("t-early", "a.example", "2024-03-01 08:00", "tcp"),
        b("x-1", "x.example", "2024-03-01 09:00", "tls"),
    ];
    let report = h.store.insert_batch(&batch).await.unwrap();
    assert_eq!(report.inserted, 4);
    let got = h
        .store
        .blocked_now("KH", &Filters::default())
        .await
        .unwrap();
    let x = got.iter().find(|s| s.domain == "x.example").unwrap();
    assert_eq!(
        (
            x.last_measurement_id.as_str(),
            x.layer.as_deref(),
            x.measurements
        ),
        ("x-1", Some("tls"), 2),
        "the later of the batch wins the tie"
    );
    let names: Vec<&str> = got.iter().map(|s| s.domain.as_str()).collect();
    assert_eq!(names, ["a.example", "x.example", "z.example"]);
}

/// splitmix64, for the randomised model test below.
fn mix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// (domain, asn, since, last_seen, run length, confirmed): what a blocked
/// site must say, whatever the path that computed it.
type RunOwned = (
    String,
    u32,
    time::OffsetDateTime,
    time::OffsetDateTime,
    u64,
    bool,
);

fn runs_of(found: &[BlockedSite]) -> Vec<RunOwned> {
    found
        .iter()
        .map(|s| {
            (
                s.domain.clone(),
                s.asn,
                s.since,
                s.last_seen,
                s.measurements,
                s.confirmed,
            )
        })
        .collect()
}

/// The definition of blocked-now, written plainly over every stored
/// (domain, asn, time, outcome, confirmed): per pair, blocked when its
/// latest blocked time in the window is later than its latest ok; the run
/// is the blocked measurements in the window after that ok.
fn model(
    stored: &[(String, u32, i64, Outcome, bool)],
    from: Option<i64>,
    to: Option<i64>,
) -> Vec<RunOwned> {
    type Pair = (String, u32);
    let mut pairs: BTreeMap<Pair, Vec<(i64, Outcome, bool)>> = BTreeMap::new();
    for (d, asn, t, o, c) in stored.iter().filter(|m| to.is_none_or(|to| m.2 < to)) {
        pairs
            .entry((d.clone(), *asn))
            .or_default()
            .push((*t, *o, *c));
    }
    let ts = |t: i64| time::OffsetDateTime::from_unix_timestamp(t).unwrap();
    let mut out = Vec::new();
    for ((d, asn), ms) in pairs {
        let last_ok = ms.iter().filter(|m| m.1 == Fine).map(|m| m.0).max();
        let run: Vec<_> = ms
            .iter()
            .filter(|m| m.1 == Blocked)
            .filter(|m| last_ok.is_none_or(|ok| m.0 > ok) && from.is_none_or(|f| m.0 >= f))
            .collect();
        if run.is_empty() {
            continue;
        }
        out.push((
            d,
            asn,
            ts(run.iter().map(|m| m.0).min().unwrap()),
            ts(run.iter().map(|m| m.0).max().unwrap()),
            run.len() as u64,
            run.iter().any(|m| m.2),
        ));
    }
    out
}

/// The runs kept in `pairs` at ingest must equal both the index walk (a
/// window with an end) and the plain definition, whatever the order in
/// which measurements arrive (late ok inside a run, late blocked before
/// an ok, ties at one second, duplicates) and after reanalysis changes
/// verdicts.
async fn stored_runs_match_the_index_whatever_the_arrival_order(h: &Harness) {
    const START: i64 = 1_709_251_200; // 2024-03-01
    let outcomes = [Fine, Blocked, Blocked, Down, Unknown];
    let mut stored: Vec<(String, u32, i64, Outcome, bool)> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    for seed in 0..8u64 {
        let mut rng = seed.wrapping_mul(0x1234_5678_9ABC_DEF1);
        let mut fresh = Vec::new();
        for i in 0..120 {
            let domain = ["r1.example", "r2.example"][(mix(&mut rng) % 2) as usize];
            let asn = [100, 200][(mix(&mut rng) % 2) as usize];
            // 40 distinct seconds: ties are common
            let t = START + (mix(&mut rng) % 40) as i64 * 3600;
            let outcome = outcomes[(mix(&mut rng) % outcomes.len() as u64) as usize];
            let confirmed = outcome == Blocked && mix(&mut rng).is_multiple_of(4);
            let id = format!("s{seed}-{i}");
            let when = time::OffsetDateTime::from_unix_timestamp(t).unwrap();
            let mut m = measurement(
                &id,
                "KH",
                asn,
                domain,
                "2024-03-01 00:00",
                verdict(outcome, Some("dns"), confirmed),
            );
            m.measurement_start_time = when;
            fresh.push((m, (domain.to_owned(), asn, t, outcome, confirmed)));
        }
        // random batches of 1..30, some re-sending earlier measurements
        let mut rest = &fresh[..];
        while !rest.is_empty() {
            let n = (1 + mix(&mut rng) % 30).min(rest.len() as u64) as usize;
            let (batch, tail) = rest.split_at(n);
            rest = tail;
            let mut ms: Vec<NewMeasurement> = batch.iter().map(|(m, _)| m.clone()).collect();
            if mix(&mut rng).is_multiple_of(3) {
                ms.push(ms[0].clone());
            }
            let report = h.store.insert_batch(&ms).await.unwrap();
            assert_eq!(report.inserted, batch.len() as u64, "seed {seed}");
            for (m, row) in batch {
                stored.push(row.clone());
                ids.push(m.id.clone());
            }
            let cases = [None, Some(START + (mix(&mut rng) % 40) as i64 * 3600)];
            for from in cases {
                let f = Filters {
                    from: from.map(|t| time::OffsetDateTime::from_unix_timestamp(t).unwrap()),
                    ..Filters::default()
                };
                let fast = h.store.blocked_now("KH", &f).await.unwrap();
                let bounded = Filters {
                    to: Some(at("2100-01-01 00:00")),
                    ..f.clone()
                };
                let slow = h.store.blocked_now("KH", &bounded).await.unwrap();
                assert_eq!(
                    fast, slow,
                    "seed {seed}, from {from:?}: stored runs = index walk"
                );
                assert_eq!(
                    runs_of(&fast),
                    model(&stored, from, None),
                    "seed {seed}, from {from:?}: = the definition"
                );
            }
            // a window with both ends (the index walk alone)
            let a = START + (mix(&mut rng) % 40) as i64 * 3600;
            let b = START + (mix(&mut rng) % 41) as i64 * 3600;
            let (from, to) = (a.min(b), a.max(b) + 1);
            let ts = |t: i64| time::OffsetDateTime::from_unix_timestamp(t).unwrap();
            let f = Filters {
                from: Some(ts(from)),
                to: Some(ts(to)),
                ..Filters::default()
            };
            let got = h.store.blocked_now("KH", &f).await.unwrap();
            assert_eq!(
                runs_of(&got),
                model(&stored, Some(from), Some(to)),
                "seed {seed}, window {from}..{to}: = the definition"
            );
        }
        // reanalysis flips a third of this seed's verdicts
        let mut changes = Vec::new();
        for i in 0..120 {
            if !mix(&mut rng).is_multiple_of(3) {
                continue;
            }
            let outcome = outcomes[(mix(&mut rng) % outcomes.len() as u64) as usize];
            let confirmed = outcome == Blocked && mix(&mut rng).is_multiple_of(2);
            let k = stored.len() - 120 + i;
            stored[k].3 = outcome;
            stored[k].4 = confirmed;
            changes.push((ids[k].clone(), verdict(outcome, Some("dns"), confirmed)));
        }
        h.store.replace_verdicts(&changes).await.unwrap();
        let fast = h
            .store
            .blocked_now("KH", &Filters::default())
            .await
            .unwrap();
        assert_eq!(
            runs_of(&fast),
            model(&stored, None, None),
            "seed {seed}: after reanalysis"
        );
    }
}

on_both_backends!(
    stored_runs_match_the_index_whatever_the_arrival_order,
    optimize_keeps_every_answer,
    batch_order_decides_ties_not_ids,
    blocked_now_follows_the_latest_decisive_verdict,
    share_series_counts_each_day,
    country_summary_counts_sites_and_networks,
    domain_and_asn_timelines,
    list_measurements_pages_newest_first,
    measurement_page_has_fields_verdict_and_raw,
    reanalysis_replaces_changed_verdicts_and_keeps_history,
    raw_batches_walk_every_measurement_once,
    events_upsert_and_filter,
    networks_operator_names_win,
);
