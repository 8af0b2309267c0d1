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
