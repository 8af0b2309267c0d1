//! `canary import` and `canary reanalyse` against a real SQLite database.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn canary(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_canary"))
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("canary runs")
}

fn summary(o: &Output) -> Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("a JSON summary")
}

#[test]
fn import_is_idempotent_and_reanalyse_reports_what_new_rules_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("canary.db");
    let db = db.to_str().expect("utf-8");
    let first = summary(&canary(&[
        "import",
        "--json",
        "--database",
        db,
        "examples/measurements.jsonl",
    ]));
    assert_eq!(first["inserted"], 4);
    let again = summary(&canary(&[
        "import",
        "--json",
        "--database",
        db,
        "examples/measurements.jsonl",
    ]));
    assert_eq!(
        (again["inserted"].clone(), again["duplicates"].clone()),
        (0.into(), 4.into())
    );

    let same = summary(&canary(&["reanalyse", "--json", "--database", db]));
    assert_eq!(
        (same["changed"].clone(), same["unchanged"].clone()),
        (0.into(), 4.into())
    );

    // New knowledge: the address www.example.com resolved to turns out to
    // be a blockpage server. Re-analysis must change that one verdict.
    let fp = dir.path().join("extra.csv");
    std::fs::write(
        &fp,
        "name,scope,other_names,location_found,pattern_type,pattern,confidence_no_fp,expected_countries,source,exp_url,notes\n\
         test.example_blockpage,isp,,dns,full,93.184.215.14,10,KH,test,,\n",
    )
    .expect("write fingerprints");
    let changed = summary(&canary(&[
        "reanalyse",
        "--json",
        "--database",
        db,
        "--fingerprints",
        fp.to_str().expect("utf-8"),
    ]));
    assert_eq!(changed["changed"], 1, "{changed}");
    assert_eq!(changed["unchanged"], 3, "{changed}");
}

#[test]
fn a_bad_database_url_is_a_clear_error() {
    let out = canary(&[
        "import",
        "--database",
        "postgres://nobody@127.0.0.1:1/none",
        "examples/measurements.jsonl",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("opening the database"), "{err}");
}

/// A facebook_messenger measurement as Canary's probe records it: b_api
/// resolves into Facebook's AS and its connection times out, edge works.
fn facebook_messenger(uid: &str) -> Value {
    let tags = |e: &str| serde_json::json!([format!("endpoint={e}")]);
    let q = |e: &str, host: &str, ip: &str| {
        serde_json::json!({"hostname": host, "query_type": "A", "engine": "udp", "failure": null, "tags": tags(e),
            "answers": [{"answer_type": "A", "ipv4": ip, "asn": 32934, "as_org_name": "Facebook"}]})
    };
    let tcp = |e: &str, ip: &str, failure: Option<&str>| {
        serde_json::json!({"ip": ip, "port": 443, "tags": tags(e),
            "status": {"success": failure.is_none(), "failure": failure, "blocked": null}})
    };
    serde_json::json!({
        "measurement_uid": uid, "report_id": "20261129T000000Z_facebookmessenger_KH_64510_n1_x",
        "test_name": "facebook_messenger", "test_version": "0.2.1",
        "software_name": "canary", "software_version": "0.1.0",
        "probe_cc": "KH", "probe_asn": "AS64510", "probe_network_name": "Test ISP",
        "probe_ip": "127.0.0.1",
        "measurement_start_time": "2026-11-28 08:00:00", "test_start_time": "2026-11-28 08:00:00",
        "input": null, "annotations": {},
        "test_keys": {
            "queries": [q("b_api", "b-api.facebook.com", "157.240.1.1"), q("edge", "edge-mqtt.facebook.com", "157.240.1.2")],
            "tcp_connect": [tcp("b_api", "157.240.1.1", Some("generic_timeout_error")), tcp("edge", "157.240.1.2", None)],
        }
    })
}

/// A page check where the platform's own "violated local laws" notice
/// reached the probe while the control saw the channel.
fn account_check(uid: &str) -> Value {
    let url = "https://t.me/s/freepress";
    serde_json::json!({
        "measurement_uid": uid, "report_id": "20261129T000000Z_canaryaccountcheck_KH_64510_n1_x",
        "test_name": "canary_account_check", "test_version": "0.1.0",
        "software_name": "canary", "software_version": "0.1.0",
        "probe_cc": "KH", "probe_asn": "AS64510", "probe_network_name": "Test ISP",
        "probe_ip": "127.0.0.1",
        "measurement_start_time": "2026-11-28 09:00:00", "test_start_time": "2026-11-28 09:00:00",
        "input": url, "annotations": {},
        "test_keys": {
            "platform": "telegram", "owner": "Free Press", "category": "NEWS",
            "requests": [{"request": {"method": "GET", "url": url, "headers_list": []},
                "response": {"code": 200, "headers_list": [],
                    "body": "<html><title>Telegram: Contact @freepress</title><p>This channel can\u{2019}t be displayed because it violated local laws.</p></html>"},
                "failure": null, "tags": ["endpoint=page"]}],
            "control_view": {"failure": null, "status": 200, "final_url": url, "title": "Free Press"}
        }
    })
}

/// Stores `m` with a stale verdict ("ok", from older rules) as the
/// collector of an older release would have.
async fn store_stale(store: &canary_store::Store, m: &Value) {
    use canary_store::social::{AccountResult, NewSocialMeasurement, PageSeen, SocialVerdictRow};
    let raw = serde_json::to_vec(m).expect("JSON");
    let parsed = canary_model::Measurement::from_slice(&raw).expect("a measurement");
    let service = m["test_keys"]["platform"]
        .as_str()
        .or(m["test_name"].as_str())
        .expect("a service");
    let mut stale =
        SocialVerdictRow::new(service, canary_store::Outcome::Ok, "judged by old rules");
    if m["test_name"] == "canary_account_check" {
        stale.account = Some(AccountResult {
            platform: service.to_owned(),
            url: m["input"].as_str().expect("a URL").to_owned(),
            owner: None,
            category: None,
            status: "reachable".into(),
            fingerprint: None,
            layer: None,
            kind: None,
            reason: "judged by old rules".into(),
            probe: PageSeen::default(),
            control: PageSeen::default(),
        });
    }
    let new = NewSocialMeasurement::from_measurement(&parsed, &raw, stale).expect("storable");
    let report = store.insert_social_batch(&[new]).await.expect("stored");
    assert_eq!(report.inserted, 1);
}

#[test]
fn reanalyse_rejudges_stored_social_measurements_and_counts_changes_per_test() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("canary.db");
    let db = path.to_str().expect("utf-8").to_owned();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let store = canary_store::Store::open(&db).await.expect("open");
        store_stale(&store, &facebook_messenger("fb-stale")).await;
        store_stale(&store, &account_check("ac-stale")).await;
        store.close().await;
    });

    let first = summary(&canary(&["reanalyse", "--json", "--database", &db]));
    let social = &first["social"];
    assert_eq!(social["changed"], 2, "{first}");
    assert_eq!(social["unchanged"], 0, "{first}");
    assert_eq!(social["unreadable"], 0, "{first}");
    assert_eq!(
        social["changed_by_test"],
        serde_json::json!({"canary_account_check": 1, "facebook_messenger": 1}),
        "{first}"
    );
    assert_eq!(
        social["verdicts"],
        serde_json::json!({
            "canary_account_check telegram blocked platform_restriction": 1,
            "facebook_messenger blocked tcp blackhole": 1,
        }),
        "{first}"
    );
    assert!(social["rules_version"].is_string(), "{first}");

    // The stored verdicts are the corrected ones.
    rt.block_on(async {
        let store = canary_store::Store::open(&db).await.expect("open");
        let filters = canary_store::Filters::default();
        let latest = store.social_latest("KH", &filters).await.expect("latest");
        let fb = latest
            .iter()
            .find(|s| s.service == "facebook_messenger")
            .expect("facebook stored");
        assert_eq!(fb.outcome, canary_store::Outcome::Blocked);
        let pages = store
            .restricted_pages("KH", &filters)
            .await
            .expect("restricted");
        assert_eq!(pages.len(), 1, "the page is now seen restricted");
        assert_eq!(pages[0].status, "platform_restricted");
        store.close().await;
    });

    // Run again: nothing left to correct.
    let again = summary(&canary(&["reanalyse", "--json", "--database", &db]));
    assert_eq!(
        (&again["social"]["changed"], &again["social"]["unchanged"]),
        (&0.into(), &2.into()),
        "{again}"
    );
    assert_eq!(again["social"]["changed_by_test"], serde_json::json!({}));

    // The plain-text summary says the same.
    let text = canary(&["reanalyse", "--database", &db]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("social measurements re-judged with rules")
            && stdout.contains("0 verdicts changed, 2 unchanged, 0 unreadable"),
        "{stdout}"
    );
}

#[test]
fn a_stored_social_measurement_that_no_longer_passes_the_checks_is_unreadable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("canary.db");
    let db = path.to_str().expect("utf-8").to_owned();
    let mut empty = facebook_messenger("fb-empty");
    empty["test_keys"] = serde_json::json!({"queries": []});
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let store = canary_store::Store::open(&db).await.expect("open");
        store_stale(&store, &empty).await;
        store_stale(&store, &facebook_messenger("fb-fine")).await;
        store.close().await;
    });
    let out = canary(&["reanalyse", "--json", "--database", &db]);
    assert_eq!(out.status.code(), Some(1), "an unreadable one is an error");
    let v: Value = serde_json::from_slice(&out.stdout).expect("a JSON summary");
    assert_eq!(
        (&v["social"]["unreadable"], &v["social"]["changed"]),
        (&1.into(), &1.into()),
        "{v}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("fb-empty") && err.contains("no network records"),
        "{err}"
    );
}

/// An operator's restriction fingerprint (Indonesian ministry notice) and
/// a page check that only it recognises.
const OPERATOR_FINGERPRINTS: &str = r#"{"fingerprints": [{"id": "telegram.ministry_request",
    "platform": "telegram", "location": "body", "pattern": "diblokir atas permintaan"}]}"#;

fn operator_notice(uid: &str) -> Value {
    let mut m = account_check(uid);
    m["test_keys"]["requests"][0]["response"]["body"] = serde_json::json!(
        "<html><title>Free Press</title><p>Kanal ini diblokir atas permintaan kementerian.</p></html>"
    );
    m
}

#[test]
fn reanalyse_uses_the_operators_restriction_fingerprints_and_serve_refuses_a_bad_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("canary.db");
    let db = db.to_str().expect("utf-8").to_owned();
    let fps = dir.path().join("operator.json");
    std::fs::write(&fps, OPERATOR_FINGERPRINTS).expect("write");
    let fps = fps.to_str().expect("utf-8").to_owned();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let store = canary_store::Store::open(&db).await.expect("open");
        store_stale(&store, &operator_notice("ac-operator")).await;
        store.close().await;
    });
    // (case, extra arguments, changed, the verdict label afterwards)
    let cases: [(&str, Vec<&str>, u64, &str); 3] = [
        (
            "built-in fingerprints: the notice is not known, the page is reachable",
            vec![],
            1,
            "canary_account_check telegram ok",
        ),
        (
            "the operator's file recognises the notice",
            vec!["--restriction-fingerprints", &fps],
            1,
            "canary_account_check telegram blocked platform_restriction",
        ),
        (
            "the same file again changes nothing",
            vec!["--restriction-fingerprints", &fps],
            0,
            "canary_account_check telegram blocked platform_restriction",
        ),
    ];
    for (name, extra, changed, label) in cases {
        let mut args = vec!["reanalyse", "--json", "--database", &db];
        args.extend(extra);
        let v = summary(&canary(&args));
        assert_eq!(v["social"]["changed"], changed, "{name}: {v}");
        assert_eq!(v["social"]["verdicts"][label], 1, "{name}: {v}");
    }

    let missing = dir.path().join("missing.json");
    let missing = missing.to_str().expect("utf-8");
    for args in [
        vec![
            "reanalyse",
            "--database",
            &db,
            "--restriction-fingerprints",
            missing,
        ],
        vec![
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            &db,
            "--restriction-fingerprints",
            missing,
        ],
    ] {
        let out = canary(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            stderr.contains("restriction fingerprints") && stderr.contains("missing.json"),
            "{args:?}: the error names the file: {stderr}"
        );
    }
}
