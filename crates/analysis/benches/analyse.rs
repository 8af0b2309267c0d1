//! Verdict throughput: `analyse_web_connectivity` over every real
//! web_connectivity sample in `<repo>/../shared/data/ooni-samples`
//! (parsed once), single thread, with Canary's default fingerprints and with
//! OONI's ~2,000 fingerprints merged in. Parsing is not timed (see the model
//! crate's bench). Run with `cargo bench -p canary-analysis --bench analyse`;
//! `CANARY_BENCH_ROUNDS` sets the number of passes (default 200).

use std::path::{Path, PathBuf};
use std::time::Instant;

use canary_analysis::fingerprints::FingerprintDb;
use canary_analysis::verdict::{analyse_web_connectivity, Context};
use canary_model::{Measurement, WebConnectivityTestKeys};

struct Sample {
    tk: WebConnectivityTestKeys,
    input: Option<String>,
    version: Option<String>,
    cc: String,
    bytes: usize,
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

fn measurement_text(p: &Path) -> Option<String> {
    let text = std::fs::read_to_string(p).ok()?;
    if p.to_string_lossy().contains("explorer-api-fixtures") {
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        let body: serde_json::Value = serde_json::from_str(v["body"].as_str()?).ok()?;
        return body["raw_measurement"].as_str().map(str::to_string);
    }
    Some(text)
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    let samples_dir = root.join("ooni-samples");
    if !samples_dir.is_dir() {
        eprintln!("skipping: {} not found", samples_dir.display());
        return;
    }
    let mut files = Vec::new();
    walk(&samples_dir, &mut files);
    files.sort();
    let mut samples = Vec::new();
    for f in &files {
        let Some(text) = measurement_text(f) else {
            continue;
        };
        let Ok(m) = Measurement::from_json_str(&text) else {
            continue;
        };
        let Some(tk) = m.web_connectivity() else {
            continue;
        };
        samples.push(Sample {
            tk: tk.clone(),
            input: m.input_str().map(str::to_string),
            version: m.test_version.get().cloned(),
            cc: m.probe_cc.get().cloned().unwrap_or_default(),
            bytes: text.len(),
        });
    }
    let rounds: usize = std::env::var("CANARY_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let mut ooni = FingerprintDb::canary_default();
    for f in ["fingerprints_dns.csv", "fingerprints_http.csv"] {
        if let Ok(file) = std::fs::File::open(root.join("fingerprints").join(f)) {
            if let Ok(db) = FingerprintDb::from_reader(file) {
                let _ = ooni.merge(db);
            }
        }
    }
    let total_bytes: usize = samples.iter().map(|s| s.bytes).sum();
    println!(
        "analyse: {} real web_connectivity measurements ({:.1} MB of JSON), {rounds} rounds, 1 thread",
        samples.len(),
        total_bytes as f64 / 1e6
    );
    for (label, db) in [
        (
            "Canary default fingerprints",
            FingerprintDb::canary_default(),
        ),
        ("+ OONI fingerprints", ooni),
    ] {
        let t = Instant::now();
        let mut blocked = 0usize;
        for _ in 0..rounds {
            for s in &samples {
                let mut ctx = Context::new(&s.cc, &db);
                if let Some(i) = &s.input {
                    ctx = ctx.with_input(i);
                }
                if let Some(v) = &s.version {
                    ctx = ctx.with_test_version(v);
                }
                let v = analyse_web_connectivity(&s.tk, &ctx);
                blocked += usize::from(v.outcome == canary_analysis::verdict::Outcome::Blocked);
            }
        }
        let secs = t.elapsed().as_secs_f64();
        let n = (rounds * samples.len()) as f64;
        println!(
            "  {label:<30} {:>9.0} verdicts/s  {:>7.1} µs/verdict  {:>7.1} MB/s of measurement JSON  (blocked: {})",
            n / secs,
            secs / n * 1e6,
            (rounds * total_bytes) as f64 / 1e6 / secs,
            blocked / rounds
        );
    }
}
