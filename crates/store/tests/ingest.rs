//! Ingest: idempotence, validation, hostile strings, raw round trips and
//! durability — on SQLite and on PostgreSQL.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use canary_store::{
    content_id, Filters, NewMeasurement, Outcome, Selection, Store, StoreError, MAX_RAW_BYTES,
};
use common::{at, measurement, verdict, Harness};

fn m(id: &str) -> NewMeasurement {
    measurement(
        id,
        "KH",
        100,
        "a.example",
        "2024-03-01 10:00",
        verdict(Outcome::Ok, None, false),
    )
}

async fn reimporting_changes_nothing(h: &Harness) {
    let batch: Vec<_> = ["a", "b", "c"].into_iter().map(m).collect();
    let first = h.store.insert_batch(&batch).await.unwrap();
    assert_eq!((first.inserted, first.duplicates), (3, 0));
    let series_before = h
        .store
        .blocked_share_series("KH", &Filters::default())
        .await
        .unwrap();
    // the same file again, with a different verdict: nothing changes
    let mut again = batch.clone();
    again[0].verdict = verdict(Outcome::Blocked, Some("dns"), true);
    let second = h.store.insert_batch(&again).await.unwrap();
    assert_eq!((second.inserted, second.duplicates), (0, 3));
    assert_eq!(h.store.count().await.unwrap(), 3);
    assert_eq!(
        h.store
            .blocked_share_series("KH", &Filters::default())
            .await
            .unwrap(),
        series_before
    );
    let stored = h.store.measurement("a").await.unwrap().unwrap();
    assert_eq!(
        stored.info.verdict.outcome,
        Outcome::Ok,
        "first verdict kept"
    );
}

async fn duplicates_inside_a_batch_count_once(h: &Harness) {
    let cases: [(&str, &[&str], u64, u64, u64); 4] = [
        ("repeat inside the batch", &["x", "y", "x"], 2, 1, 2),
        ("one new, two known", &["x", "y", "z"], 1, 2, 3),
        ("all repeats of one known", &["z", "z", "z"], 0, 3, 3),
        ("empty batch", &[], 0, 0, 3),
    ];
    for (name, ids, inserted, duplicates, total) in cases {
        let batch: Vec<_> = ids.iter().map(|id| m(id)).collect();
        let r = h.store.insert_batch(&batch).await.unwrap();
        assert_eq!((r.inserted, r.duplicates), (inserted, duplicates), "{name}");
        assert_eq!(h.store.count().await.unwrap(), total, "{name}");
    }
    let series = h
        .store
        .blocked_share_series("KH", &Filters::default())
        .await
        .unwrap();
    assert_eq!(
        series[0].tested, 3,
        "day counts count each measurement once"
    );
}

async fn insert_one_reports_new_or_known(h: &Harness) {
    assert!(h.store.insert_one(&m("one")).await.unwrap());
    assert!(!h.store.insert_one(&m("one")).await.unwrap());
    // durable: a fresh store on the same database sees it
    let other = Store::open(&h.url).await.unwrap();
    assert_eq!(other.count().await.unwrap(), 1);
    assert!(other.measurement("one").await.unwrap().is_some());
    other.close().await;
}

async fn invalid_measurements_refuse_the_whole_batch(h: &Harness) {
    let bad = |f: &dyn Fn(&mut NewMeasurement)| {
        let mut x = m("bad");
        f(&mut x);
        x
    };
    let cases: Vec<(&str, NewMeasurement, &str)> = vec![
        (
            "lower-case country",
            bad(&|x| x.probe_cc = "kh".into()),
            "country",
        ),
        (
            "three-letter country",
            bad(&|x| x.probe_cc = "KHM".into()),
            "country",
        ),
        ("empty id", bad(&|x| x.id = String::new()), "empty id"),
        (
            "oversized id",
            bad(&|x| x.id = "i".repeat(300)),
            "at most 256",
        ),
        (
            "control character in id",
            bad(&|x| x.id = "a\nb".into()),
            "control",
        ),
        (
            "NUL in a field",
            bad(&|x| x.probe_network_name = Some("a\0b".into())),
            "NUL",
        ),
        (
            "oversized input URL",
            bad(&|x| x.input = Some("u".repeat(20_000))),
            "at most",
        ),
        (
            "before 1970",
            bad(&|x| x.measurement_start_time = at("1969-12-31 23:59")),
            "1970",
        ),
        (
            "raw not UTF-8",
            bad(&|x| x.raw_json = vec![0xff, 0xfe]),
            "UTF-8",
        ),
        (
            "raw too large",
            bad(&|x| x.raw_json = vec![b' '; MAX_RAW_BYTES + 1]),
            "at most",
        ),
        (
            "empty test name",
            bad(&|x| x.test_name = String::new()),
            "test_name",
        ),
        (
            "oversized explanation",
            bad(&|x| x.verdict.explanation = "e".repeat(20_000)),
            "at most",
        ),
    ];
    for (name, bad, reason) in cases {
        let err = h.store.insert_batch(&[m("good"), bad]).await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid { .. }), "{name}: {err}");
        assert!(err.to_string().contains(reason), "{name}: {err}");
        assert_eq!(h.store.count().await.unwrap(), 0, "{name}: nothing stored");
    }
}

const HOSTILE: &[&str] = &[
    "x'; DROP TABLE measurements; --",
    "' OR '1'='1",
    "\" OR \"\"=\"",
    "a.example' UNION SELECT id FROM verdicts --",
    "%_\\%",
    "ក្រសួង.example",
    "$1",
    "?",
];

async fn hostile_strings_are_plain_data(h: &Harness) {
    for (i, text) in HOSTILE.iter().enumerate() {
        let mut x = m(&format!("{text}#{i}"));
        x.domain = Some(text.to_string());
        x.category_code = Some(text.to_string());
        x.probe_network_name = Some(text.to_string());
        x.probe_asn = 1000 + i as u32;
        x.verdict = verdict(Outcome::Blocked, Some(text), false);
        assert!(h.store.insert_one(&x).await.unwrap(), "{text}");
    }
    h.store.insert_one(&m("plain")).await.unwrap();
    let total = HOSTILE.len() as u64 + 1;
    for (i, text) in HOSTILE.iter().enumerate() {
        let f = Filters {
            category: Some(text.to_string()),
            ..Filters::default()
        };
        // every filter matches exactly its own row, never more
        let blocked = h.store.blocked_now("KH", &f).await.unwrap();
        assert_eq!(blocked.len(), 1, "{text}");
        assert_eq!(
            (blocked[0].domain.as_str(), blocked[0].layer.as_deref()),
            (*text, Some(*text))
        );
        assert_eq!(blocked[0].network_name.as_deref(), Some(*text));
        assert_eq!(
            h.store.blocked_share_series("KH", &f).await.unwrap()[0].tested,
            1,
            "{text}"
        );
        assert_eq!(
            h.store
                .country_summary("KH", &f)
                .await
                .unwrap()
                .sites_tested,
            1,
            "{text}"
        );
        let timeline = h
            .store
            .domain_timeline(text, Some("KH"), &Filters::default())
            .await
            .unwrap();
        assert_eq!(timeline.len(), 1, "{text}");
        let sel = Selection {
            domain: Some(text.to_string()),
            ..Selection::default()
        };
        let listed = h.store.list_measurements(&sel, 10, 0).await.unwrap();
        assert_eq!(listed.len(), 1, "{text}");
        assert_eq!(listed[0].id, format!("{text}#{i}"));
        assert!(h
            .store
            .measurement(&format!("{text}#{i}"))
            .await
            .unwrap()
            .is_some());
        // as a country it matches nothing and breaks nothing
        assert!(h
            .store
            .blocked_now(text, &Filters::default())
            .await
            .unwrap()
            .is_empty());
        assert!(h
            .store
            .events(
                &Selection {
                    country: Some(text.to_string()),
                    ..Selection::default()
                },
                10
            )
            .await
            .unwrap()
            .is_empty());
    }
    assert_eq!(h.store.count().await.unwrap(), total, "tables intact");
}

async fn raw_json_round_trips_byte_exact(h: &Harness) {
    let odd = "{ \"b\" : 1,\n\t\"a\":[1.50, 2e3, \"\\u00e9t\u{e9}\", null],  \"ks\":\"ក្រសួង\"  }\n";
    let mut big = String::from("{\"pad\":\"");
    big.push_str(&"0123456789abcdef".repeat(64 * 1024)); // 1 MiB
    big.push_str("\"}");
    for (name, raw) in [
        ("odd spacing, key order, escapes, Khmer", odd.to_string()),
        ("1 MiB", big),
    ] {
        let mut x = m(name);
        x.raw_json = raw.clone().into_bytes();
        h.store.insert_one(&x).await.unwrap();
        let got = h.store.measurement(name).await.unwrap().unwrap();
        assert_eq!(got.raw_json, raw, "{name}");
        let batch = h.store.raw_batch(Some(""), 100).await.unwrap();
        assert_eq!(
            batch.iter().find(|r| r.id == name).unwrap().raw_json,
            raw.as_bytes(),
            "{name}"
        );
    }
}

async fn content_id_makes_reformatted_documents_duplicates(h: &Harness) {
    let a = br#"{"test_name":"web_connectivity","probe_cc":"KH","input":"https://a.example/","measurement_start_time":"2024-03-01 10:00:00","test_keys":{"x":[1,2]}}"#;
    let b = b"{\n  \"input\": \"https://a.example/\",\n  \"test_keys\": {\"x\": [1, 2]},\n  \"probe_cc\": \"KH\",\n  \"measurement_start_time\": \"2024-03-01 10:00:00\",\n  \"test_name\": \"web_connectivity\"\n}";
    let id_a = content_id(a).unwrap();
    assert_eq!(id_a, content_id(b).unwrap(), "same content, same id");
    assert_ne!(id_a, content_id(br#"{"test_keys":{"x":[2,1]}}"#).unwrap());
    assert_eq!(id_a.len(), 64);
    assert!(content_id(b"not json").is_err());
    let v = || verdict(Outcome::Ok, None, false);
    let ma = NewMeasurement::from_measurement(
        &canary_model::Measurement::from_slice(a).unwrap(),
        a,
        None,
        v(),
    )
    .unwrap();
    let mb = NewMeasurement::from_measurement(
        &canary_model::Measurement::from_slice(b).unwrap(),
        b,
        None,
        v(),
    )
    .unwrap();
    assert_eq!(
        (ma.id.as_str(), ma.domain.as_deref(), ma.probe_asn),
        (id_a.as_str(), Some("a.example"), 0)
    );
    let r = h.store.insert_batch(&[ma, mb]).await.unwrap();
    assert_eq!((r.inserted, r.duplicates), (1, 1));
    // the first document's bytes are the ones kept
    assert_eq!(
        h.store
            .measurement(&id_a)
            .await
            .unwrap()
            .unwrap()
            .raw_json
            .as_bytes(),
        a
    );
}

/// Child half of `accepted_measurement_survives_kill_9`: store one
/// measurement, say so, then hang until killed.
#[tokio::test]
#[ignore = "run by accepted_measurement_survives_kill_9 as its child process"]
async fn durability_child() {
    let (Ok(url), Ok(id)) = (
        std::env::var("CANARY_STORE_CHILD_URL"),
        std::env::var("CANARY_STORE_CHILD_ID"),
    ) else {
        panic!("run by accepted_measurement_survives_kill_9, which sets the environment");
    };
    let store = Store::open(&url).await.unwrap();
    assert!(store.insert_one(&m(&id)).await.unwrap());
    // straight to the file descriptor: the test harness captures println!
    let mut out = std::io::stdout().lock();
    writeln!(out, "ACCEPTED {id}").unwrap();
    out.flush().unwrap();
    drop(out);
    std::thread::sleep(std::time::Duration::from_secs(120));
}

async fn accepted_measurement_survives_kill_9(h: &Harness) {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "durability_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CANARY_STORE_CHILD_URL", &h.url)
        .env("CANARY_STORE_CHILD_ID", "accepted-then-killed")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            // the harness prints "test durability_child ... " on the same line
            .find_map(|l| l.find("ACCEPTED").map(|at| l[at..].to_owned()))
    })
    .await
    .unwrap();
    child.kill().unwrap(); // SIGKILL: no destructor, no WAL checkpoint
    child.wait().unwrap();
    assert_eq!(line.as_deref(), Some("ACCEPTED accepted-then-killed"));
    let reopened = Store::open(&h.url).await.unwrap();
    let got = reopened.measurement("accepted-then-killed").await.unwrap();
    assert!(got.is_some(), "an accepted measurement survives kill -9");
    reopened.close().await;
}

on_both_backends!(
    reimporting_changes_nothing,
    duplicates_inside_a_batch_count_once,
    insert_one_reports_new_or_known,
    invalid_measurements_refuse_the_whole_batch,
    hostile_strings_are_plain_data,
    raw_json_round_trips_byte_exact,
    content_id_makes_reformatted_documents_duplicates,
    accepted_measurement_survives_kill_9,
);

#[tokio::test]
async fn open_accepts_sqlite_paths_and_postgres_urls_only() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).display().to_string();
    let ok = [
        p("plain.db"),
        format!("sqlite:{}", p("prefixed.db")),
        format!("sqlite://{}", p("slashes.db")),
        "sqlite::memory:".into(),
    ];
    for url in ok {
        let store = Store::open(&url)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(
            (store.backend_name(), store.count().await.unwrap()),
            ("sqlite", 0),
            "{url}"
        );
        store.close().await;
    }
    for (url, reason) in [
        ("", "empty"),
        ("sqlite:", "empty"),
        ("mysql://u@h/db", "scheme"),
        ("postgres://u@h:notaport/db", ""),
        (
            "postgres://user:hunter2@h:notaport/db",
            "postgres://***@h:notaport/db",
        ),
    ] {
        let err = Store::open(url).await.unwrap_err();
        assert!(matches!(err, StoreError::InvalidUrl { .. }), "{url}: {err}");
        assert!(err.to_string().contains(reason), "{url}: {err}");
        assert!(
            !err.to_string().contains("hunter2"),
            "no password in errors: {err}"
        );
    }
    // reopening applies no migration twice
    let url = p("twice.db");
    Store::open(&url).await.unwrap().close().await;
    Store::open(&url).await.unwrap().close().await;
}

/// The bulk-ingest settings of a new SQLite file (issue 6): 16 KiB pages,
/// WAL journal; the kill -9 test above pins that durability is unchanged.
#[tokio::test]
async fn a_new_sqlite_file_uses_16k_pages_in_wal_mode() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.db");
    let store = Store::open(&path.display().to_string()).await.unwrap();
    assert!(store.insert_one(&m("settings")).await.unwrap());
    store.close().await;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    let cases: [(&str, &str); 2] = [("page_size", "16384"), ("journal_mode", "wal")];
    for (pragma, want) in cases {
        let got: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT CAST({pragma} AS TEXT) FROM pragma_{pragma}"
        )))
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(got, want, "PRAGMA {pragma}");
    }
    conn.close().await.unwrap();
}
