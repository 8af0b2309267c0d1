//! `canary analyse`, run as a real process.

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

fn json_lines(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

#[test]
fn the_example_measurements_get_their_verdicts_and_a_summary() {
    let out = canary(&["analyse", "examples/measurements.jsonl"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "http://www.example.com/  blocking=false (recorded false)  ok",
        "http://news.example.net/  blocking=dns (recorded dns)  blocked dns blockpage_ip [confirmed: ",
        "https://rights.example.org/  blocking=tcp_ip (recorded tcp_ip)  blocked tcp blackhole",
        "3 web_connectivity measurements analysed, 1 of other tests not analysed",
        "agrees with the value the probe recorded in 3 of 3 measurements (100.0%)",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn json_output_is_the_same_on_one_thread_and_on_many() {
    let one = canary(&[
        "analyse",
        "--json",
        "--threads",
        "1",
        "examples/measurements.jsonl",
    ]);
    let many = canary(&[
        "analyse",
        "--json",
        "--threads",
        "4",
        "examples/measurements.jsonl",
    ]);
    assert!(one.status.success() && many.status.success());
    assert_eq!(one.stdout, many.stdout);
    let rows = json_lines(&one);
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[1]["verdict"]["kind"], "blockpage_ip");
    assert_eq!(rows[1]["verdict"]["confirmed"], true);
    assert!(rows[1]["verdict"]["rules_version"].is_string());
    assert_eq!(rows[3]["status"], "not_analysed");
    assert!(String::from_utf8_lossy(&one.stderr).contains("verdict (outcome layer kind)"));
}

#[test]
fn bad_lines_are_named_and_the_rest_analysed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good =
        std::fs::read_to_string(repo_root().join("examples/measurements.jsonl")).expect("example");
    let first = good.lines().next().expect("line");
    let path = dir.path().join("bad.jsonl");
    std::fs::write(&path, format!("{first}\n{{not json\n{first}\n")).expect("write");
    let out = canary(&["analyse", "--json", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    let statuses: Vec<String> = json_lines(&out)
        .iter()
        .map(|r| r["status"].as_str().expect("status").to_string())
        .collect();
    assert_eq!(statuses, ["analysed", "invalid", "analysed"]);
}

#[test]
fn every_real_sample_directory_is_analysed_without_invalid_entries() {
    let samples = repo_root().join("../shared/data/ooni-samples");
    if !samples.is_dir() {
        eprintln!("skipping: {} not found", samples.display());
        return;
    }
    let out = canary(&["analyse", "--json", samples.to_str().expect("utf-8")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = json_lines(&out);
    let analysed = rows.iter().filter(|r| r["status"] == "analysed").count();
    assert!(analysed >= 30, "only {analysed} analysed");
    assert!(rows.iter().all(|r| r["status"] != "invalid"));
}
