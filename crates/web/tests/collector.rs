//! The collector on loopback: durable acceptance, idempotent replays,
//! scrubbing, recomputed verdicts, and clear refusals of hostile input.

mod common;

use common::{shared_data, start, start_with, Client};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn measurement(uid: &str) -> Value {
    common::blockpage_measurement(uid)
}

fn body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

#[tokio::test]
async fn accepted_measurement_is_stored_before_the_answer_and_replay_is_duplicate() {
    let server = start(false).await;
    let mut c = Client::new(&server);
    let m = measurement("20241101000000.000001_KH_webconnectivity_aaaa");
    let r = c.post_body("/api/v1/submit", body(&m)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["status"], "stored");
    // committed before the answer: a fresh read sees it at once
    let stored = server
        .store
        .measurement("20241101000000.000001_KH_webconnectivity_aaaa")
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(stored.info.verdict.kind.as_deref(), Some("blockpage_ip"));
    let again = c.post_body("/api/v1/submit", body(&m)).await;
    assert_eq!(again.status, StatusCode::OK);
    let v: Value = serde_json::from_str(&again.body).unwrap();
    assert_eq!(
        (v["status"].as_str(), v["duplicates"].as_u64()),
        (Some("duplicate"), Some(1))
    );
    assert_eq!(server.store.count().await.unwrap(), 1);
}

#[tokio::test]
async fn jsonl_batches_are_all_or_nothing() {
    let server = start(false).await;
    let mut c = Client::new(&server);
    let lines: Vec<String> = (0..5)
        .map(|i| {
            serde_json::to_string(&measurement(&format!(
                "20241101000000.00000{i}_KH_webconnectivity_b"
            )))
            .unwrap()
        })
        .collect();
    let r = c
        .post_body("/api/v1/submit", lines.join("\n").into_bytes())
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(server.store.count().await.unwrap(), 5);
    // a bad line refuses the whole batch and names the line
    let mut bad = lines.clone();
    bad[0] =
        serde_json::to_string(&measurement("20241101000000.000009_KH_webconnectivity_c")).unwrap();
    bad.insert(2, "{not json".into());
    let r = c
        .post_body("/api/v1/submit", bad.join("\n").into_bytes())
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["line"], 3);
    assert_eq!(
        server.store.count().await.unwrap(),
        5,
        "nothing of the bad batch stored"
    );
}

#[tokio::test]
async fn the_submitters_verdict_is_never_trusted() {
    let server = start(false).await;
    let mut c = Client::new(&server);
    let mut m = measurement("20241101000000.000002_KH_webconnectivity_dddd");
    m["test_keys"]["blocking"] = json!(false);
    m["test_keys"]["accessible"] = json!(true);
    let r = c.post_body("/api/v1/submit", body(&m)).await;
    // the model refuses `accessible: true` with a string `blocking`, but
    // false/true is consistent: accepted, and recomputed as DNS blocking
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let s = server
        .store
        .measurement("20241101000000.000002_KH_webconnectivity_dddd")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.info.verdict.layer.as_deref(), Some("dns"));
    assert!(s.info.verdict.confirmed);
}

#[tokio::test]
async fn probe_ip_is_scrubbed_everywhere_it_was_declared() {
    let server = start(false).await;
    let mut c = Client::new(&server);
    let mut m = measurement("20241101000000.000003_KH_webconnectivity_eeee");
    m["probe_ip"] = json!("203.0.113.7");
    m["test_keys"]["client_resolver"] = json!("203.0.113.7");
    m["test_keys"]["note"] = json!("from 203.0.113.7:5353 but not 203.0.113.77");
    let r = c.post_body("/api/v1/submit", body(&m)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let s = server
        .store
        .measurement("20241101000000.000003_KH_webconnectivity_eeee")
        .await
        .unwrap()
        .unwrap();
    assert!(!s.raw_json.contains("203.0.113.7\""), "{}", s.raw_json);
    assert!(!s.raw_json.contains("203.0.113.7:"), "{}", s.raw_json);
    assert!(
        s.raw_json.contains("203.0.113.77"),
        "a longer address is left alone"
    );
    let v: Value = serde_json::from_str(&s.raw_json).unwrap();
    assert_eq!(v["probe_ip"], "127.0.0.1");
}

#[tokio::test]
async fn hostile_submissions_get_a_clear_4xx() {
    let server = start_with(false, |cfg| cfg.max_submission_bytes = 200_000).await;
    let mut c = Client::new(&server);
    let good = measurement("20241101000000.000004_KH_webconnectivity_ffff");
    let mut other_test = good.clone();
    other_test["test_name"] = json!("dnscheck");
    let mut bad_cc = good.clone();
    bad_cc["probe_cc"] = json!("<script>");
    let mut no_time = good.clone();
    no_time
        .as_object_mut()
        .unwrap()
        .remove("measurement_start_time");
    let mut ip_object = good.clone();
    ip_object["probe_ip"] = json!({"x": 1});
    let mut huge = good.clone();
    huge["test_keys"]["padding"] = json!("x".repeat(300_000));
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        ("empty", vec![], StatusCode::BAD_REQUEST, "empty"),
        (
            "not json",
            b"hello".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "truncated json",
            b"{\"test_name\": ".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "json array",
            b"[1,2]".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "other test",
            body(&other_test),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unsupported_test",
        ),
        (
            "bad country",
            body(&bad_cc),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_measurement",
        ),
        (
            "no start time",
            body(&no_time),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_measurement",
        ),
        (
            "probe_ip object",
            body(&ip_object),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_measurement",
        ),
        (
            "oversized",
            body(&huge),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
        (
            "binary",
            vec![0xff, 0xfe, 0x00, 0x7b],
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
    ];
    for (name, bytes, status, code) in cases {
        let r = c.post_body("/api/v1/submit", bytes).await;
        assert_eq!(r.status, status, "{name}: {}", r.body);
        let v: Value = serde_json::from_str(&r.body)
            .unwrap_or_else(|_| panic!("{name}: JSON body {}", r.body));
        assert_eq!(v["error"], code, "{name}");
        assert!(
            v["reason"].as_str().is_some_and(|s| !s.is_empty()),
            "{name}: a reason"
        );
    }
    assert_eq!(server.store.count().await.unwrap(), 0);
    // after all that, a good one still goes in
    let r = c.post_body("/api/v1/submit", body(&good)).await;
    assert_eq!(r.status, StatusCode::CREATED);
}

#[tokio::test]
async fn too_many_lines_in_one_batch_is_refused() {
    let server = start_with(false, |cfg| cfg.max_batch = 3).await;
    let mut c = Client::new(&server);
    let lines: Vec<String> = (0..4)
        .map(|i| {
            serde_json::to_string(&measurement(&format!(
                "20241101000000.00001{i}_KH_webconnectivity_g"
            )))
            .unwrap()
        })
        .collect();
    let r = c
        .post_body("/api/v1/submit", lines.join("\n").into_bytes())
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
}

#[tokio::test]
async fn submissions_are_rate_limited_per_source() {
    let server = start_with(false, |cfg| {
        cfg.submit_burst = 3;
        cfg.submit_per_second = 0.0;
    })
    .await;
    let mut c = Client::new(&server);
    let mut statuses = Vec::new();
    for i in 0..5 {
        let m = measurement(&format!("20241101000000.00002{i}_KH_webconnectivity_h"));
        statuses.push(
            c.post_body("/api/v1/submit", body(&m))
                .await
                .status
                .as_u16(),
        );
    }
    assert_eq!(statuses, vec![201, 201, 201, 429, 429]);
}

#[tokio::test]
async fn real_ooni_measurements_are_accepted_with_recomputed_verdicts() {
    let Some(data) = shared_data() else {
        eprintln!("skipping: ../shared/data not found");
        return;
    };
    let dir = data.join("ooni-samples/probe-cli-minipipeline-manual");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipping: {} not found", dir.display());
        return;
    };
    let server = start(false).await;
    let mut c = Client::new(&server);
    let mut accepted = 0;
    for e in entries {
        let path = e.unwrap().path().join("measurement.json");
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let r = c.post_body("/api/v1/submit", bytes).await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "{}: {}",
            path.display(),
            r.body
        );
        accepted += 1;
    }
    assert!(accepted >= 5, "{accepted} real measurements");
    let all = server
        .store
        .list_measurements(&Default::default(), 100, 0)
        .await
        .unwrap();
    assert_eq!(all.len(), accepted);
    assert!(all.iter().all(|m| !m.verdict.rules_version.is_empty()));
}
