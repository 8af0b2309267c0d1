//! The messaging experiments and the page check through the CLI: `canary
//! probe` and `canary helper` as real processes against the lab's stand-ins
//! for Facebook, WhatsApp, Telegram and Signal.

mod common;

use canary_lab::{Lab, SocialExperiment};
use serde_json::Value;

fn test_name(e: SocialExperiment) -> Option<&'static str> {
    match e {
        SocialExperiment::FacebookMessenger => Some("facebook_messenger"),
        SocialExperiment::Whatsapp => Some("whatsapp"),
        SocialExperiment::Telegram => Some("telegram"),
        SocialExperiment::Signal => Some("signal"),
        SocialExperiment::Account => None,
    }
}

#[test]
fn every_social_row_gives_its_ooni_keys_and_label_through_the_cli() {
    let lab = Lab::start().expect("lab");
    let helper = common::start_helper(&lab);
    let dir = tempfile::tempdir().expect("tempdir");
    let rows: Vec<_> = lab
        .social_scenarios()
        .iter()
        .filter_map(|r| test_name(r.experiment).map(|t| (r.clone(), t)))
        .collect();
    assert!(rows.len() >= 20, "{} rows", rows.len());
    let problems: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = rows
            .iter()
            .map(|(row, test)| {
                let (lab, helper, dir) = (&lab, &helper, dir.path());
                scope.spawn(move || {
                    let out = dir.join(format!("{}.jsonl", row.name));
                    let output = common::probe_command(lab, helper)
                        .args(["--experiment", test])
                        .args([
                            "--social-endpoints",
                            row.endpoints_path.to_str().expect("utf-8"),
                        ])
                        .args(["--asn-db", lab.asn_db_path().to_str().expect("utf-8")])
                        .args(["--output", out.to_str().expect("utf-8")])
                        .output()
                        .expect("probe runs");
                    assert!(
                        output.status.success(),
                        "{}: {}",
                        row.name,
                        String::from_utf8_lossy(&output.stderr)
                    );
                    let ms = common::json_lines(&out);
                    assert_eq!(ms.len(), 1, "{}: one measurement", row.name);
                    let m = &ms[0];
                    let mut wrong = Vec::new();
                    if m["test_name"] != *test {
                        wrong.push(format!("{}: test_name {}", row.name, m["test_name"]));
                    }
                    let keys = &m["test_keys"];
                    for (k, want) in row.expect.ooni {
                        let want: Value = serde_json::from_str(want).expect("expected JSON");
                        let got = keys.get(*k).cloned().unwrap_or(Value::Null);
                        if got != want {
                            wrong.push(format!("{}: {k} = {got}, expected {want}", row.name));
                        }
                    }
                    let label = &keys["x_canary"];
                    let expect = serde_json::to_value(row.expect).expect("serialisable");
                    for k in ["outcome", "layer", "kind"] {
                        if label[k] != expect[k] {
                            wrong.push(format!(
                                "{}: x_canary.{k} = {}, expected {}",
                                row.name, label[k], expect[k]
                            ));
                        }
                    }
                    if m.to_string().contains("127.0.0.2") {
                        wrong.push(format!("{}: the probe's address leaked", row.name));
                    }
                    wrong
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("row thread"))
            .collect()
    });
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn account_pages_are_told_apart_platform_restriction_from_network_blocking() {
    let lab = Lab::start().expect("lab");
    let helper = common::start_helper(&lab);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("accounts.jsonl");
    let output = common::probe_command(&lab, &helper)
        .args([
            "--accounts",
            lab.accounts_csv_path().to_str().expect("utf-8"),
        ])
        .args(["--output", out.to_str().expect("utf-8")])
        .output()
        .expect("probe runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let statuses: Vec<(String, String)> = common::json_lines(&out)
        .iter()
        .map(|m| {
            assert_eq!(m["test_name"], "canary_account_check");
            (
                m["input"].as_str().unwrap_or_default().to_string(),
                m["test_keys"]["account_status"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    for row in lab
        .social_scenarios()
        .iter()
        .filter(|r| r.experiment == SocialExperiment::Account)
    {
        let url = row
            .account_csv_row
            .as_deref()
            .and_then(|r| r.split(',').nth(1))
            .expect("an account row has a URL");
        let want = if row.name.contains("restricted") {
            "platform_restricted"
        } else {
            "network_blocked"
        };
        let got = statuses
            .iter()
            .find(|(u, _)| u == url)
            .map(|(_, s)| s.as_str());
        assert_eq!(got, Some(want), "{}: {statuses:?}", row.name);
    }
}
