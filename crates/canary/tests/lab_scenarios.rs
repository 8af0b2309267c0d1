//! The lab's scenario table, measured end to end: `canary helper` and
//! `canary probe` run as real processes against the censorship lab, and every
//! row must get the verdict the table expects.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use canary_lab::{Lab, Scenario};
use common::Helper;
use serde_json::Value;

/// Runs the probe over `urls` and returns the measurements by input.
fn probe(lab: &Lab, helper: &Helper, urls: &[String], out_dir: &Path) -> BTreeMap<String, Value> {
    let out = out_dir.join("m.jsonl");
    let output = common::probe_command(lab, helper)
        .args(["--probe-cc", "KH", "--probe-asn", "AS38623"])
        .args([
            "--concurrency",
            "32",
            "--output",
            out.to_str().expect("utf-8"),
        ])
        .args(urls)
        .output()
        .expect("probe runs");
    assert!(
        output.status.success(),
        "probe failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&out).expect("output written");
    // The probe's own address (its --bind, which the helper also saw and
    // echoed) appears nowhere, and the helper's echo is not kept.
    assert!(
        !text.contains("127.0.0.2"),
        "the probe's address leaked into its output"
    );
    assert!(
        !text.contains("x_client_ip"),
        "the helper's echo of the probe's address was kept"
    );
    // CANARY_KEEP_LAB_OUTPUT=FILE keeps the measurements for a closer look.
    if let Some(keep) = std::env::var_os("CANARY_KEEP_LAB_OUTPUT") {
        std::fs::write(keep, &text).expect("keep output");
    }
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("a JSON line");
            (v["input"].as_str().expect("input").to_string(), v)
        })
        .collect()
}

fn label(v: &Value) -> (Value, Value, String, String, String) {
    let tk = &v["test_keys"];
    let c = &tk["x_canary"];
    let s = |x: &Value| x.as_str().unwrap_or("-").to_string();
    (
        tk["blocking"].clone(),
        tk["accessible"].clone(),
        s(&c["outcome"]),
        s(&c["layer"]),
        s(&c["kind"]),
    )
}

fn expected(row: &Scenario) -> (Value, Value, String, String, String) {
    let e = serde_json::to_value(row.expect).expect("serialisable");
    let s = |x: &Value| x.as_str().unwrap_or("-").to_string();
    (
        e["blocking"].clone(),
        e["accessible"].clone(),
        s(&e["outcome"]),
        s(&e["layer"]),
        s(&e["kind"]),
    )
}

#[test]
fn every_lab_scenario_gets_its_expected_verdict_through_the_cli() {
    let lab = Lab::start().expect("lab starts");
    let helper = common::start_helper(&lab);
    let dir = tempfile::tempdir().expect("tempdir");
    let urls: Vec<String> = lab.scenarios().iter().map(|s| s.url.clone()).collect();
    let measured = probe(&lab, &helper, &urls, dir.path());
    let mut wrong = Vec::new();
    for row in lab.scenarios() {
        let Some(m) = measured.get(&row.url) else {
            wrong.push(format!("{}: not measured", row.name));
            continue;
        };
        let (got, want) = (label(m), expected(row));
        if got != want {
            wrong.push(format!(
                "{:<40} got {:?}\n{:<40} want {:?}\n{:<40} {}",
                row.name, got, "", want, "", m["test_keys"]["x_canary"]["explanation"]
            ));
        }
    }
    // The verdict is a pure function of the records: re-analysing the
    // stored measurements gives the very same labels.
    let out = dir.path().join("m.jsonl");
    std::fs::write(
        &out,
        measured
            .values()
            .map(|m| m.to_string() + "\n")
            .collect::<String>(),
    )
    .expect("write");
    let reanalysed = std::process::Command::new(env!("CARGO_BIN_EXE_canary"))
        .args(["analyse", "--json", "--routable", lab.routable_cidr()])
        .args([
            "--fingerprints",
            lab.fingerprints_path().to_str().expect("utf-8"),
        ])
        .arg(&out)
        .output()
        .expect("analyse runs");
    assert!(reanalysed.status.success());
    for line in String::from_utf8_lossy(&reanalysed.stdout).lines() {
        let row: Value = serde_json::from_str(line).expect("JSON");
        let input = row["input"].as_str().expect("input");
        let recorded = &measured[input]["test_keys"]["x_canary"];
        assert_eq!(&row["verdict"], recorded, "re-analysis of {input} differs");
    }
    assert!(
        wrong.is_empty(),
        "{} of {} scenarios wrong:\n{}",
        wrong.len(),
        lab.scenarios().len(),
        wrong.join("\n")
    );
}
