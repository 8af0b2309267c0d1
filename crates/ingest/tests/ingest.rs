//! How `canary-ingest` reads each shape of measurement file.

use std::io::Write;
use std::path::{Path, PathBuf};

use canary_ingest::{open, open_with, EntryError, Limits, Outcome};

const WC: &str = r#"{"test_name":"web_connectivity","test_version":"0.4.3","input":"http://example.com/","probe_cc":"KH","probe_asn":"AS38623","measurement_start_time":"2024-02-14 09:06:17","test_keys":{"blocking":false,"accessible":true,"queries":[],"requests":[]}}"#;
const TG: &str =
    r#"{"test_name":"telegram","probe_cc":"KH","test_keys":{"telegram_tcp_blocking":false}}"#;

/// What an entry was, in a form easy to compare in tables.
#[derive(Debug, PartialEq)]
enum Seen {
    M(String),
    Invalid(usize),
    TooLarge(usize),
    Skipped,
}

fn read(path: &Path, limits: Limits) -> Vec<Seen> {
    open_with(path, limits)
        .expect("file opens")
        .map(|e| match e.outcome {
            Outcome::Measurement(m) => Seen::M(m.test_name().to_string()),
            Outcome::Invalid(EntryError::TooLarge { .. }) => Seen::TooLarge(e.location.line),
            Outcome::Invalid(_) => Seen::Invalid(e.location.line),
            Outcome::NotMeasurement(_) => Seen::Skipped,
        })
        .collect()
}

/// The same, through the raw-line path that parallel readers use.
fn read_raw(path: &Path) -> Vec<Seen> {
    open(path)
        .expect("file opens")
        .raw()
        .flat_map(|raw| match raw {
            canary_ingest::Raw::Entry(e) => vec![e],
            canary_ingest::Raw::Line { location, bytes } => {
                canary_ingest::parse_raw_line(&location, &bytes)
            }
        })
        .map(|e| match e.outcome {
            Outcome::Measurement(m) => Seen::M(m.test_name().to_string()),
            Outcome::Invalid(EntryError::TooLarge { .. }) => Seen::TooLarge(e.location.line),
            Outcome::Invalid(_) => Seen::Invalid(e.location.line),
            Outcome::NotMeasurement(_) => Seen::Skipped,
        })
        .collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write fixture");
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

fn m(name: &str) -> Seen {
    Seen::M(name.to_string())
}

#[test]
fn each_shape_of_file_yields_its_measurements_and_names_bad_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pretty_wc = serde_json::to_string_pretty(
        &serde_json::from_str::<serde_json::Value>(WC).expect("fixture"),
    )
    .expect("pretty");
    let explorer = serde_json::json!({
        "status": 200,
        "contentType": "application/json",
        "body": serde_json::json!({"measurement_uid": "x", "raw_measurement": TG}).to_string(),
    })
    .to_string();
    let cases: Vec<(&str, Vec<u8>, Vec<Seen>)> = vec![
        (
            "jsonl_with_two_measurements.jsonl",
            format!("{WC}\n{TG}\n").into_bytes(),
            vec![m("web_connectivity"), m("telegram")],
        ),
        (
            "jsonl_blank_lines_and_crlf_are_tolerated.jsonl",
            format!("{WC}\r\n\r\n{TG}\r\n").into_bytes(),
            vec![m("web_connectivity"), m("telegram")],
        ),
        (
            "jsonl_truncated_line_is_invalid_and_named.jsonl",
            format!("{WC}\n{}\n{TG}\n", &WC[..60]).into_bytes(),
            vec![m("web_connectivity"), Seen::Invalid(2), m("telegram")],
        ),
        (
            "jsonl_binary_garbage_is_invalid.jsonl",
            [WC.as_bytes(), b"\n\x00\xff\xfe garbage\x01\n", TG.as_bytes()].concat(),
            vec![m("web_connectivity"), Seen::Invalid(2), m("telegram")],
        ),
        (
            "jsonl_wrong_type_is_invalid.jsonl",
            format!("{TG}\n{{\"test_name\":\"web_connectivity\",\"test_keys\":{{\"queries\":\"not a list\"}}}}\n").into_bytes(),
            vec![m("telegram"), Seen::Invalid(2)],
        ),
        (
            "jsonl_scalar_line_is_invalid.jsonl",
            format!("{TG}\n42\n").into_bytes(),
            vec![m("telegram"), Seen::Invalid(2)],
        ),
        (
            "pretty_printed_document.json",
            pretty_wc.clone().into_bytes(),
            vec![m("web_connectivity")],
        ),
        (
            "document_array_of_measurements.json",
            format!("[\n{WC},\n{TG}\n]\n").into_bytes(),
            vec![m("web_connectivity"), m("telegram")],
        ),
        (
            "explorer_api_response.json",
            explorer.into_bytes(),
            vec![m("telegram")],
        ),
        (
            "jsonc_bare_test_keys.jsonc",
            b"// a comment\n// another\n{\n  \"blocking\": \"dns\",\n  \"queries\": [],\n  \"control_failure\": null\n}\n".to_vec(),
            vec![m("web_connectivity")],
        ),
        (
            "array_of_non_measurements_is_one_skip.json",
            b"[\n{\"anomaly\": true, \"tid\": 1},\n{\"anomaly\": false, \"tid\": 2}\n]\n".to_vec(),
            vec![Seen::Skipped],
        ),
        (
            "truncated_document_is_invalid.json",
            pretty_wc.as_bytes()[..pretty_wc.len() / 2].to_vec(),
            vec![Seen::Invalid(1)],
        ),
        ("legacy.yaml", b"---\ninput: x\n".to_vec(), vec![Seen::Skipped]),
        ("empty.jsonl", Vec::new(), vec![]),
    ];
    for (name, bytes, expected) in cases {
        let plain = write(dir.path(), name, &bytes);
        assert_eq!(read(&plain, Limits::default()), expected, "{name}");
        assert_eq!(read_raw(&plain), expected, "{name}, parsed from raw lines");
        let gz = write(dir.path(), &format!("{name}.gz"), &gzip(&bytes));
        if !name.ends_with(".yaml") {
            assert_eq!(read(&gz, Limits::default()), expected, "{name}.gz");
        }
    }
}

#[test]
fn an_over_long_line_is_reported_and_reading_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let big = format!("{{\"test_name\":\"x\",\"pad\":\"{}\"}}", "a".repeat(10_000));
    let path = write(
        dir.path(),
        "big.jsonl",
        format!("{TG}\n{big}\n{TG}\n").as_bytes(),
    );
    let limits = Limits {
        max_line_bytes: 1_000,
        ..Limits::default()
    };
    assert_eq!(
        read(&path, limits),
        vec![m("telegram"), Seen::TooLarge(2), m("telegram")]
    );
}

#[test]
fn an_over_large_document_is_refused_without_holding_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let doc = format!(
        "{{\n\"test_name\": \"x\",\n\"pad\": \"{}\"\n}}\n",
        "a".repeat(10_000)
    );
    let path = write(dir.path(), "big.json", doc.as_bytes());
    let limits = Limits {
        max_document_bytes: 1_000,
        ..Limits::default()
    };
    assert_eq!(read(&path, limits), vec![Seen::TooLarge(1)]);
}

#[test]
fn a_corrupt_gzip_stream_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bytes = gzip(format!("{WC}\n{TG}\n").as_bytes());
    let n = bytes.len();
    bytes.truncate(n / 2);
    let path = write(dir.path(), "cut.jsonl.gz", &bytes);
    let seen = read(&path, Limits::default());
    assert!(
        seen.iter().any(|s| matches!(s, Seen::Invalid(_))),
        "a cut gzip stream must surface as an invalid entry: {seen:?}"
    );
}

#[test]
fn directories_are_walked_in_name_order_and_only_measurement_files_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    write(dir.path(), "b.jsonl", TG.as_bytes());
    write(dir.path(), "a.json", WC.as_bytes());
    write(dir.path(), "notes.txt", b"not data");
    write(&dir.path().join("sub"), "c.jsonl.gz", &gzip(TG.as_bytes()));
    let files = canary_ingest::expand_paths(&[dir.path().to_path_buf()]).expect("walk");
    let names: Vec<String> = files
        .iter()
        .map(|p| {
            p.strip_prefix(dir.path())
                .expect("inside")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(names, vec!["a.json", "b.jsonl", "sub/c.jsonl.gz"]);
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let err = open(Path::new("/nonexistent/canary/x.jsonl"))
        .err()
        .expect("error");
    assert!(
        err.to_string().contains("/nonexistent/canary/x.jsonl"),
        "{err}"
    );
}

fn shared_samples() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ooni-samples");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: {} not found (the real OONI samples live beside the repository)",
            dir.display()
        );
        None
    }
}

#[test]
fn every_real_ooni_sample_reads_without_an_invalid_entry() {
    let Some(dir) = shared_samples() else {
        return;
    };
    let files = canary_ingest::expand_paths(&[dir]).expect("walk samples");
    let (mut measurements, mut web_connectivity, mut skipped) = (0, 0, 0);
    for file in &files {
        for entry in open(file).expect("sample opens") {
            match entry.outcome {
                Outcome::Measurement(m) => {
                    measurements += 1;
                    if m.test_name() == "web_connectivity" {
                        web_connectivity += 1;
                    }
                }
                Outcome::Invalid(err) => panic!("{}: {err}", entry.location),
                Outcome::NotMeasurement(_) => skipped += 1,
            }
        }
    }
    eprintln!(
        "{} files: {measurements} measurements ({web_connectivity} web_connectivity), {skipped} skipped",
        files.len()
    );
    // SOURCES.md: 28 explorer measurements (one duplicated file), 44 fastpath
    // JSON files of which one is a detector series, 7 minipipeline cases and
    // the PK test keys.
    assert!(measurements >= 75, "only {measurements} measurements found");
    assert!(
        web_connectivity >= 31,
        "only {web_connectivity} web_connectivity"
    );
}
