//! Agreement with OONI: for every real `web_connectivity` measurement in
//! `<repo>/../shared/data/ooni-samples`, Canary recomputes `blocking` and
//! `accessible` from the raw records and compares them with what the probe
//! recorded. Every disagreement is listed below with its reason, so a new
//! disagreement (or a fixed one) fails the test. The folder lives outside the
//! repository (its licences forbid copying it in); the test skips when absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use canary_analysis::fingerprints::FingerprintDb;
use canary_analysis::verdict::{analyse_web_connectivity, Context, Verdict};
use canary_model::{Blocking, Measurement, WebConnectivityTestKeys};

/// Known disagreements: sample name → (Canary's blocking/accessible, reason).
const KNOWN: &[(&str, &str, &str)] = &[
    (
        "backend-fastpath-tests/bug_351.json",
        "null/null",
        "ooniprobe 0.3.0 (legacy Python) wrote http-failure for an HTTP experiment that failed inside \
         the probe itself (an 'ascii' codec error) and recorded no HTTP transaction; with nothing to \
         judge, the reference rules give null",
    ),
    (
        "backend-fastpath-tests/web_connectivity_b64_hdr.json",
        "null/null",
        "Measurement Kit 0.0.1 called every HTTP failure http-failure; here the site itself answered \
         307 with a Location the probe could not parse (http_invalid_redirect_url), which probe-cli's \
         Summarize leaves unclassified",
    ),
    (
        "backend-fastpath-tests/web_connectivity_no_body.json",
        "null/null",
        "Measurement Kit 0.0.1 scored accessible although the control's HTTP request failed \
         (unknown_error) and the probe's redirect to https failed certificate verification; with a \
         failed control the reference rules cannot decide",
    ),
    (
        "backend-fastpath-tests/web_connectivity_odd_hdr.json",
        "null/null",
        "Measurement Kit 0.0.1 blamed DNS: the control got dns_name_error while the probe resolved an \
         address, then both HTTP fetches failed (invalid redirect; control dns_lookup_error); the \
         <=0.4.2 rules leave an unclassified HTTP failure with a failed control as null",
    ),
    (
        "explorer-api-fixtures/measurement_meta/measurement_meta__measurement_uid-20201029043459.005820_RU_webconnectivity_604f1cb2579d144d_full-true.json",
        "null/null",
        "ooniprobe 2.1.0 (legacy Python) wrote 'down' (false/false) when probe and control both \
         failed (response_never_received / unknown_error); the v0.4 rules give null when the \
         control's HTTP request failed",
    ),
    (
        "probe-cli-minipipeline-manual/8844/measurement.json",
        "false/true",
        "web_connectivity 0.5.28 wrote null for this IP-literal https URL (no DNS step) although its \
         own x_blocking_flags=32 say success and OONI's minipipeline (analysis_classic.json next to \
         it) finds an HTTPS final response with control: Canary follows the classic rule, false/true",
    ),
];

struct Sample {
    name: String,
    tk: WebConnectivityTestKeys,
    input: Option<String>,
    test_version: Option<String>,
    probe_cc: String,
}

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ooni-samples")
}

fn from_measurement(name: String, m: Measurement) -> Option<Sample> {
    let tk = m.web_connectivity()?.clone();
    Some(Sample {
        name,
        input: m.input_str().map(str::to_string),
        test_version: m.test_version.get().cloned(),
        probe_cc: m.probe_cc.get().cloned().unwrap_or_default(),
        tk,
    })
}

fn rel(path: &Path) -> String {
    path.strip_prefix(data_dir())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn load_samples() -> Option<Vec<Sample>> {
    let dir = data_dir();
    if !dir.is_dir() {
        eprintln!("skipping: {} not found", dir.display());
        return None;
    }
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    for p in files {
        let name = rel(&p);
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        let text = std::fs::read_to_string(&p).unwrap();
        if name.contains("detector_query")
            || name.contains("/search/")
            || name.contains("/aggregation/")
        {
            continue; // not measurements
        }
        if ext == "jsonc" {
            let json: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            let tk = WebConnectivityTestKeys::from_json_str(&json).unwrap();
            out.push(Sample {
                name,
                tk,
                input: None,
                test_version: None,
                probe_cc: "PK".into(),
            });
            continue;
        }
        if ext != "json" {
            continue;
        }
        if name.contains("probe-cli-minipipeline-manual") && !name.ends_with("measurement.json") {
            continue; // observations / analysis outputs
        }
        if name.contains("explorer-api-fixtures") {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            let Some(body) = v["body"].as_str() else {
                continue;
            };
            let body: serde_json::Value = serde_json::from_str(body).unwrap();
            let Some(raw) = body["raw_measurement"].as_str() else {
                continue;
            };
            if let Ok(m) = Measurement::from_json_str(raw) {
                out.extend(from_measurement(name, m));
            }
            continue;
        }
        let Ok(m) = Measurement::from_json_str(&text) else {
            continue;
        };
        out.extend(from_measurement(name, m));
    }
    Some(out)
}

fn show(b: &Option<Blocking>, a: Option<bool>) -> String {
    let b = match b {
        None => "null".to_string(),
        Some(Blocking::NotBlocked) => "false".to_string(),
        Some(x) => format!("{x}"),
    };
    let a = a.map_or("null".to_string(), |a| a.to_string());
    format!("{b}/{a}")
}

#[test]
fn canary_agrees_with_ooni_on_every_real_sample_except_the_listed_ones() {
    let Some(samples) = load_samples() else {
        return;
    };
    let db = FingerprintDb::canary_default();
    let mut agree = 0;
    let (mut modern, mut modern_agree) = (0, 0);
    let mut found: BTreeMap<String, (String, String)> = BTreeMap::new();
    for s in &samples {
        let mut ctx = Context::new(&s.probe_cc, &db);
        if let Some(i) = &s.input {
            ctx = ctx.with_input(i);
        }
        if let Some(v) = &s.test_version {
            ctx = ctx.with_test_version(v);
        }
        let v: Verdict = analyse_web_connectivity(&s.tk, &ctx);
        let ours = show(&v.blocking, v.accessible);
        let theirs = show(&s.tk.blocking.get().cloned(), s.tk.accessible.value());
        eprintln!(
            "{:<100} v{:<7} ooni {:<18} canary {:<18} {:?}/{:?}/{:?} {:?}",
            s.name,
            s.test_version.as_deref().unwrap_or("?"),
            theirs,
            ours,
            v.outcome,
            v.layer,
            v.kind,
            v.rule_ids
        );
        let is_modern = s
            .test_version
            .as_deref()
            .is_none_or(|v| v.starts_with("0.4") || v.starts_with("0.5"));
        if is_modern {
            modern += 1;
            modern_agree += usize::from(ours == theirs);
        }
        if ours == theirs {
            agree += 1;
        } else {
            found.insert(s.name.clone(), (theirs, ours));
        }
    }
    let total = samples.len();
    println!(
        "agreement with OONI: {agree}/{total} = {:.1}%",
        100.0 * agree as f64 / total.max(1) as f64
    );
    println!(
        "  on probe-cli data (web_connectivity 0.4.x/0.5.x): {modern_agree}/{modern}; the other \
         disagreements are legacy engines (Measurement Kit, ooniprobe Python), listed with reasons"
    );
    assert!(
        total >= 30,
        "expected at least 30 web_connectivity samples, found {total}"
    );
    let known: BTreeMap<&str, &str> = KNOWN.iter().map(|(n, ours, _)| (*n, *ours)).collect();
    for (name, (theirs, ours)) in &found {
        assert_eq!(
            known.get(name.as_str()),
            Some(&ours.as_str()),
            "new disagreement on {name}: OONI says {theirs}, Canary says {ours}"
        );
    }
    for (name, _) in &known {
        assert!(
            found.contains_key(*name),
            "{name} now agrees with OONI: remove it from KNOWN"
        );
    }
}
