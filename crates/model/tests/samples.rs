//! Data-driven specification: every real OONI measurement under
//! `shared/data/ooni-samples` parses into the typed model and serializes back
//! to the same JSON value, and the typed web_connectivity fields really hold
//! the data (they are not left in the `extra` maps).
//!
//! The samples are not part of the repository (their licences forbid
//! copying); the test skips with a message when the folder is absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use canary_model::{Blocking, Measurement, TestKeys, WebConnectivityTestKeys};
use serde_json::Value;

fn samples_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ooni-samples");
    dir.is_dir().then_some(dir)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// What one sample file holds, following shared/data/SOURCES.md.
enum Sample {
    /// Text of full measurements (one per file here).
    Measurement(String),
    /// A bare web_connectivity `test_keys` object.
    BareTestKeys(String),
    /// Not a measurement: why.
    Skip(&'static str),
}

fn classify(path: &Path) -> Sample {
    let name = path.file_name().unwrap().to_str().unwrap();
    let text = || std::fs::read_to_string(path).unwrap();
    if name.ends_with(".yaml") {
        return Sample::Skip("legacy (pre-2017) YAML report format, not JSON");
    }
    if name == "detector_query_ww_BR_2018.json" {
        return Sample::Skip("event-detector time series (list of scores), not a measurement");
    }
    if name.starts_with("observations") || name.starts_with("analysis") {
        return Sample::Skip("minipipeline output (observations/analysis), not a measurement");
    }
    if name.ends_with(".jsonc") {
        let body: String = text()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        return Sample::BareTestKeys(body);
    }
    assert!(
        name.ends_with(".json"),
        "unexpected sample file kind: {}",
        path.display()
    );
    let raw = text();
    let value: Value = serde_json::from_str(&raw).unwrap();
    let Some(obj) = value.as_object() else {
        panic!("unexpected non-object sample: {}", path.display());
    };
    if obj.contains_key("contentType") {
        // Explorer API fixture: body is a JSON string.
        let body: Value = serde_json::from_str(obj["body"].as_str().unwrap()).unwrap();
        return match body.get("raw_measurement").and_then(Value::as_str) {
            Some(m) => Sample::Measurement(m.to_owned()),
            None => {
                Sample::Skip("explorer search/aggregation fixture: metadata only, no measurement")
            }
        };
    }
    Sample::Measurement(raw)
}

/// The JSON path of the first difference, for a readable failure.
fn first_diff(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => {
                        if let Some(d) = first_diff(u, v, &format!("{path}.{k}")) {
                            return Some(d);
                        }
                    }
                    (u, v) => return Some(format!("{path}.{k}: {u:?} vs {v:?}")),
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (u, v))| first_diff(u, v, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{path}: {a} vs {b}")),
    }
}

fn raw_len(raw: &Value, key: &str) -> Option<usize> {
    raw.get(key).and_then(Value::as_array).map(Vec::len)
}

/// The typed fields hold what the raw JSON holds.
fn assert_typed_web_connectivity(tk: &WebConnectivityTestKeys, raw: &Value, what: &str) {
    let typed = [
        ("queries", tk.queries.get().map(Vec::len)),
        ("tcp_connect", tk.tcp_connect.get().map(Vec::len)),
        ("tls_handshakes", tk.tls_handshakes.get().map(Vec::len)),
        ("network_events", tk.network_events.get().map(Vec::len)),
        ("requests", tk.requests.get().map(Vec::len)),
        (
            "x_conn_priority_log",
            tk.x_conn_priority_log.get().map(Vec::len),
        ),
    ];
    for (key, n) in typed {
        assert_eq!(n, raw_len(raw, key), "{what}: typed {key} length");
        assert!(!tk.extra.contains_key(key), "{what}: {key} left in extra");
    }
    // Verdict keys are typed, with the same meaning as the raw JSON.
    match raw.get("blocking") {
        Some(Value::Bool(false)) => {
            assert_eq!(tk.blocking.get(), Some(&Blocking::NotBlocked), "{what}")
        }
        Some(Value::String(s)) => {
            assert_eq!(
                tk.blocking.get().and_then(Blocking::as_str),
                Some(s.as_str()),
                "{what}"
            )
        }
        Some(Value::Null) => assert!(tk.blocking.is_null(), "{what}"),
        None => assert!(tk.blocking.is_absent(), "{what}"),
        Some(other) => panic!("{what}: unexpected blocking {other}"),
    }
    assert_eq!(
        tk.accessible.value(),
        raw.get("accessible").and_then(Value::as_bool),
        "{what}"
    );
    // Nested records are typed too: every DNS answer and TCP status.
    let answers: usize = tk
        .queries()
        .iter()
        .map(|q| q.answers.get().map_or(0, Vec::len))
        .sum();
    let raw_answers: usize = raw
        .get("queries")
        .and_then(Value::as_array)
        .map_or(0, |qs| {
            qs.iter().map(|q| raw_len(q, "answers").unwrap_or(0)).sum()
        });
    assert_eq!(answers, raw_answers, "{what}: DNS answers");
    for (t, r) in tk
        .tcp_connects()
        .iter()
        .zip(raw["tcp_connect"].as_array().into_iter().flatten())
    {
        assert_eq!(
            t.succeeded(),
            r["status"]["success"].as_bool().unwrap(),
            "{what}: tcp success"
        );
        assert_eq!(
            t.port.value().map(u64::from),
            r["port"].as_u64(),
            "{what}: tcp port"
        );
    }
    if let Some(raw_control) = raw.get("control").filter(|c| c.is_object()) {
        let control = tk.control.get().expect("control typed");
        let typed = [
            ("dns", control.dns.is_absent()),
            ("tcp_connect", control.tcp_connect.is_absent()),
            ("http_request", control.http_request.is_absent()),
            ("tls_handshake", control.tls_handshake.is_absent()),
            ("ip_info", control.ip_info.is_absent()),
        ];
        for (key, absent) in typed {
            assert_eq!(
                absent,
                raw_control.get(key).is_none(),
                "{what}: control.{key}"
            );
            assert!(
                !control.extra.contains_key(key),
                "{what}: control.{key} left in extra"
            );
        }
    }
    for (t, r) in tk
        .tls_handshakes()
        .iter()
        .zip(raw["tls_handshakes"].as_array().into_iter().flatten())
    {
        let ders = t.certificates_der().unwrap();
        assert_eq!(
            ders.len(),
            raw_len(r, "peer_certificates").unwrap_or(0),
            "{what}: certs"
        );
        // DER certificates start with a SEQUENCE tag.
        assert!(ders.iter().all(|d| d.first() == Some(&0x30)), "{what}: DER");
    }
}

#[test]
fn every_real_measurement_round_trips_losslessly_and_is_typed() {
    let Some(dir) = samples_dir() else {
        eprintln!("skipping: shared/data/ooni-samples not found (next to the repository)");
        return;
    };
    let mut files = Vec::new();
    walk(&dir, &mut files);

    let mut skipped: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_test: BTreeMap<String, usize> = BTreeMap::new();
    let mut issues: BTreeMap<String, usize> = BTreeMap::new();
    let (mut measurements, mut web_connectivity, mut bare) = (0, 0, 0);
    let mut failures = Vec::new();

    for path in &files {
        let what = path.strip_prefix(&dir).unwrap().display().to_string();
        match classify(path) {
            Sample::Skip(reason) => *skipped.entry(reason).or_default() += 1,
            Sample::BareTestKeys(text) => {
                bare += 1;
                let raw: Value = serde_json::from_str(&text).unwrap();
                match WebConnectivityTestKeys::from_json_str(&text) {
                    Ok(tk) => {
                        let back = serde_json::to_value(&tk).unwrap();
                        if let Some(d) = first_diff(&raw, &back, "test_keys") {
                            failures.push(format!("{what}: round trip differs at {d}"));
                        }
                        assert_typed_web_connectivity(&tk, &raw, &what);
                    }
                    Err(e) => failures.push(format!("{what}: {e}")),
                }
            }
            Sample::Measurement(text) => {
                measurements += 1;
                let raw: Value = serde_json::from_str(&text).unwrap();
                let m = match Measurement::from_json_str(&text) {
                    Ok(m) => m,
                    Err(e) => {
                        failures.push(format!("{what}: {e}"));
                        continue;
                    }
                };
                assert_eq!(
                    Measurement::from_slice(text.as_bytes()).unwrap(),
                    m,
                    "{what}: from_slice"
                );
                let back = m.to_value().unwrap();
                if let Some(d) = first_diff(&raw, &back, "") {
                    failures.push(format!("{what}: round trip differs at {d}"));
                }
                // parse → serialize to text → parse gives the original value,
                // and the same typed value.
                let written = m.to_json_string().unwrap();
                let reread: Value = serde_json::from_str(&written).unwrap();
                if let Some(d) = first_diff(&raw, &reread, "") {
                    failures.push(format!("{what}: text round trip differs at {d}"));
                }
                let again = Measurement::from_json_str(&written).unwrap();
                assert_eq!(again, m, "{what}: second parse");
                // The generic serde path (no test_name hint) agrees.
                assert_eq!(
                    Measurement::from_value(raw.clone()).unwrap(),
                    m,
                    "{what}: from_value"
                );

                *by_test.entry(m.test_name().to_owned()).or_default() += 1;
                for issue in m.validate() {
                    let kind = format!("{issue:?}");
                    let kind = kind.split([' ', '{']).next().unwrap_or("").to_owned();
                    *issues.entry(kind).or_default() += 1;
                }
                match (&m.test_keys.get(), m.test_name()) {
                    (Some(TestKeys::WebConnectivity(tk)), "web_connectivity") => {
                        web_connectivity += 1;
                        assert_typed_web_connectivity(tk, &raw["test_keys"], &what);
                    }
                    (Some(TestKeys::WebConnectivity(_)), name) => {
                        panic!("{what}: typed as web_connectivity but test_name is {name}")
                    }
                    (Some(TestKeys::Other(v)), name) => {
                        assert_ne!(name, "web_connectivity", "{what}");
                        assert_eq!(Some(v), raw.get("test_keys"), "{what}");
                    }
                    (None, _) => assert!(
                        raw.get("test_keys").is_none_or(Value::is_null),
                        "{what}: test_keys lost"
                    ),
                    (Some(_), _) => unreachable!("TestKeys has two variants today"),
                }
            }
        }
    }

    println!("files: {}, measurements: {measurements} ({web_connectivity} typed web_connectivity), bare test_keys: {bare}", files.len());
    println!("by test_name: {by_test:?}");
    for (reason, n) in &skipped {
        println!("skipped {n} file(s): {reason}");
    }
    println!("validation issues seen in real data: {issues:?}");
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        measurements > 0 && web_connectivity > 0 && bare > 0,
        "the sample set looks empty"
    );
}
