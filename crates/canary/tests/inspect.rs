//! `canary inspect`, run as a real process.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn canary(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_canary"))
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("canary runs")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json_lines(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

#[test]
fn the_bundled_example_is_summarised_one_line_per_measurement() {
    let out = canary(&["inspect", "examples/measurements.jsonl"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(lines[0].starts_with("examples/measurements.jsonl:1  web_connectivity 0.4.3  http://www.example.com/  KH AS38623  2024-02-14 09:06:17  blocking=false accessible=true"), "{}", lines[0]);
    assert!(
        lines[1].ends_with("blocking=dns accessible=false"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].ends_with("blocking=tcp_ip accessible=false"),
        "{}",
        lines[2]
    );
    assert!(lines[3].contains("telegram 0.3.1"), "{}", lines[3]);
    assert_eq!(
        lines[4],
        "4 measurements (3 web_connectivity, 0 with issues), 0 invalid, 0 skipped, in 1 file"
    );
}

#[test]
fn json_output_parses_back_and_carries_the_recorded_verdict() {
    let out = canary(&["inspect", "--json", "examples/measurements.jsonl"]);
    assert!(out.status.success(), "{out:?}");
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 4);
    let blocking: Vec<&Value> = rows.iter().map(|r| &r["verdict"]["blocking"]).collect();
    assert_eq!(
        blocking[..3],
        [
            &Value::Bool(false),
            &Value::from("dns"),
            &Value::from("tcp_ip")
        ]
    );
    assert_eq!(rows[1]["location"]["line"], 2);
    assert_eq!(rows[1]["probe_asn"], "AS38623");
    assert!(rows.iter().all(|r| r["status"] == "ok"));
}

#[test]
fn bad_entries_are_named_by_file_and_line_and_the_rest_still_processed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good =
        std::fs::read_to_string(repo_root().join("examples/measurements.jsonl")).expect("example");
    let first = good.lines().next().expect("a line");
    let bad = format!(
        "{first}\n{}\n{{\"test_name\":\"web_connectivity\",\"test_keys\":{{\"requests\":7}}}}\n\u{1}\u{2}garbage\n{first}\n",
        &first[..first.len() / 2]
    );
    let path = dir.path().join("bad.jsonl");
    std::fs::write(&path, bad).expect("write");
    let p = path.to_str().expect("utf-8 path");

    let out = canary(&["inspect", p]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = stdout(&out);
    for line in [2, 3, 4] {
        assert!(
            text.contains(&format!("{p}:{line}  INVALID: ")),
            "line {line} not named:\n{text}"
        );
    }
    assert!(text.contains(&format!("{p}:1  web_connectivity")), "{text}");
    assert!(text.contains(&format!("{p}:5  web_connectivity")), "{text}");
    assert!(
        text.contains("2 measurements (2 web_connectivity, 0 with issues), 3 invalid"),
        "{text}"
    );

    let out = canary(&["inspect", "--json", p]);
    assert_eq!(out.status.code(), Some(1));
    let statuses: Vec<String> = json_lines(&out)
        .iter()
        .map(|r| r["status"].as_str().expect("status").to_string())
        .collect();
    assert_eq!(statuses, ["ok", "invalid", "invalid", "invalid", "ok"]);
}

#[test]
fn gzip_input_is_read_like_plain_input() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = std::fs::read(repo_root().join("examples/measurements.jsonl")).expect("example");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).expect("gzip");
    let path = dir.path().join("m.jsonl.gz");
    std::fs::write(&path, gz.finish().expect("gzip")).expect("write");
    let out = canary(&["inspect", "--json", path.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json_lines(&out).len(), 4);
}

#[test]
fn a_missing_file_is_reported_and_exits_2() {
    let out = canary(&["inspect", "/nonexistent/measurements.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/measurements.jsonl"));
}

#[test]
fn help_and_version_speak_to_a_newcomer() {
    let out = canary(&["--help"]);
    assert!(out.status.success());
    let help = stdout(&out);
    assert!(help.contains("inspect"), "{help}");
    assert!(help.contains("censorship"), "{help}");
    let out = canary(&["--version"]);
    assert_eq!(
        stdout(&out).trim(),
        format!("canary {}", env!("CARGO_PKG_VERSION"))
    );
    let out = canary(&["inspect"]);
    assert_eq!(out.status.code(), Some(2), "a usage error exits 2");
}

#[test]
fn every_real_sample_directory_is_inspected_and_its_json_parses_back() {
    let samples = repo_root().join("../shared/data/ooni-samples");
    if !samples.is_dir() {
        eprintln!("skipping: {} not found", samples.display());
        return;
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&samples)
        .expect("list samples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 4, "{dirs:?}");
    let mut total = 0;
    for dir in dirs {
        let out = canary(&[
            "inspect",
            "--json",
            "--show-skipped",
            dir.to_str().expect("utf-8"),
        ]);
        assert!(out.status.success(), "{}: {out:?}", dir.display());
        let rows = json_lines(&out);
        assert!(
            rows.iter().all(|r| r["status"] != "invalid"),
            "{}",
            dir.display()
        );
        total += rows.iter().filter(|r| r["status"] == "ok").count();
    }
    assert!(total >= 75, "only {total} measurements");
}
