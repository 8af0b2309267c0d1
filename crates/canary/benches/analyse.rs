//! `canary analyse` throughput over a large JSONL built by repeating the real
//! web_connectivity samples, with every fingerprint loaded (Canary's and
//! OONI's), on one thread and on all cores, against the limit: plain
//! `serde_json::Value` parsing of the same file on one thread.
//!
//! Run: `cargo bench -p canary --bench analyse` (needs ../shared/data).
//! `CANARY_BENCH_MB` sets the file size (default 500); `CANARY_BENCH_KEEP=path`
//! also writes the generated file there (to profile `canary analyse` on it).

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

fn web_connectivity_lines(samples: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    let files = canary_ingest::expand_paths(&[samples.to_path_buf()]).expect("samples");
    for file in files {
        for entry in canary_ingest::open(&file).expect("sample") {
            if let canary_ingest::Outcome::Measurement(m) = entry.outcome {
                if m.web_connectivity().is_some() && m.input_str().is_some() {
                    lines.push(m.to_json_string().expect("serializes"));
                }
            }
        }
    }
    lines
}

fn run_analyse(file: &Path, fingerprints: &[&Path], threads: usize) -> f64 {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_canary"));
    cmd.args(["analyse", "--threads", &threads.to_string()]);
    for f in fingerprints {
        cmd.arg("--fingerprints").arg(f);
    }
    let start = Instant::now();
    let status = cmd
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("canary analyse runs");
    let secs = start.elapsed().as_secs_f64();
    assert!(status.success(), "canary analyse failed: {status}");
    secs
}

fn main() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if !shared.is_dir() {
        eprintln!("skipping: {} not found", shared.display());
        return;
    }
    let target_mb: u64 = std::env::var("CANARY_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let lines = web_connectivity_lines(&shared.join("ooni-samples"));
    assert!(!lines.is_empty(), "no web_connectivity samples");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("big.jsonl");
    let mut bytes = 0u64;
    let mut count = 0u64;
    {
        let mut w = BufWriter::new(std::fs::File::create(&file).expect("create"));
        'fill: loop {
            for l in &lines {
                writeln!(w, "{l}").expect("write");
                bytes += l.len() as u64 + 1;
                count += 1;
                if bytes >= target_mb << 20 {
                    break 'fill;
                }
            }
        }
    }
    let mb = bytes as f64 / (1 << 20) as f64;
    if let Some(keep) = std::env::var_os("CANARY_BENCH_KEEP") {
        std::fs::copy(&file, &keep).expect("copy the generated file");
    }

    // The limit: plain Value parsing of every line, one thread.
    let start = Instant::now();
    let mut parsed = 0u64;
    let reader = BufReader::with_capacity(1 << 20, std::fs::File::open(&file).expect("open"));
    for line in reader.split(b'\n') {
        let line = line.expect("read");
        let v: serde_json::Value = serde_json::from_slice(&line).expect("valid JSON");
        parsed += u64::from(v.is_object());
    }
    let value_secs = start.elapsed().as_secs_f64();
    assert_eq!(parsed, count);

    let fps = [
        shared.join("fingerprints/fingerprints_dns.csv"),
        shared.join("fingerprints/fingerprints_http.csv"),
    ];
    let fp_refs: Vec<&Path> = fps.iter().map(|p| p.as_path()).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let one = run_analyse(&file, &fp_refs, 1);
    let all = run_analyse(&file, &fp_refs, cores);

    println!(
        "analyse benchmark: {count} web_connectivity measurements, {mb:.0} MB ({} distinct samples repeated), all fingerprints loaded",
        lines.len()
    );
    let row = |name: &str, secs: f64| {
        println!(
            "  {name:<28} {secs:7.2} s  {:9.0} measurements/s  {:7.1} MB/s",
            count as f64 / secs,
            mb / secs
        );
    };
    row("serde_json::Value, 1 thread", value_secs);
    row("canary analyse, 1 thread", one);
    row(&format!("canary analyse, {cores} threads"), all);
    println!(
        "  canary analyse on one thread runs at {:.0}% of plain Value parsing (target >= 50%); on {cores} threads at {:.0}%",
        100.0 * value_secs / one,
        100.0 * value_secs / all
    );
    println!(
        "  OONI's fastpath: roughly 40-90 web_connectivity measurements per CPU-second; canary analyse: {:.0} per CPU-second ({:.0}x the upper figure)",
        count as f64 / one,
        count as f64 / one / 90.0
    );
}
