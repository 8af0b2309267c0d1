//! Parse throughput: typed [`Measurement`] vs plain `serde_json::Value`.
//!
//! Builds, in a temporary directory, a JSONL file of at least
//! `CANARY_BENCH_MB` MB (default 200) by repeating every real measurement of
//! `shared/data/ooni-samples` (one per line), loads it into memory, then
//! times parsing every line, single-threaded:
//!
//! * `typed`: `Measurement::from_slice` (peeks `test_name`, then types
//!   `test_keys` in one pass);
//! * `typed (serde)`: `serde_json::from_slice::<Measurement>` (no peek: a
//!   `test_keys` seen before `test_name` is buffered as a Value first);
//! * `Value`: `serde_json::from_slice::<serde_json::Value>`.
//!
//! Each variant runs `CANARY_BENCH_ROUNDS` times (default 3), interleaved;
//! the best time is reported. Run with `cargo bench -p canary-model`.

use std::hint::black_box;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use canary_model::Measurement;
use serde_json::Value;

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

/// Every full measurement in the sample set, as compact one-line JSON.
fn sample_lines(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    walk(dir, &mut files).expect("walk samples");
    let mut lines = Vec::new();
    for path in files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !name.ends_with(".json")
            || name == "detector_query_ww_BR_2018.json"
            || name.starts_with("observations")
            || name.starts_with("analysis")
        {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read sample");
        let value: Value = serde_json::from_str(&text).expect("sample JSON");
        let measurement = match value.get("contentType") {
            None => value,
            Some(_) => {
                let body: Value =
                    serde_json::from_str(value["body"].as_str().unwrap_or("null")).expect("body");
                match body.get("raw_measurement").and_then(Value::as_str) {
                    Some(raw) => serde_json::from_str(raw).expect("raw_measurement"),
                    None => continue,
                }
            }
        };
        lines.push(serde_json::to_string(&measurement).expect("compact"));
    }
    lines
}

fn report(label: &str, elapsed: Duration, bytes: usize, count: usize, baseline: Option<Duration>) {
    let secs = elapsed.as_secs_f64();
    let mb_s = bytes as f64 / 1e6 / secs;
    let per_s = count as f64 / secs;
    let ratio = baseline.map_or(String::new(), |b| {
        format!("  time ratio vs Value: {:.2}x", secs / b.as_secs_f64())
    });
    println!("{label:>14}: {secs:7.2} s  {mb_s:8.1} MB/s  {per_s:10.0} measurements/s{ratio}");
}

fn main() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ooni-samples");
    if !data.is_dir() {
        eprintln!("skipping: {} not found", data.display());
        return;
    }
    let target_mb: usize = std::env::var("CANARY_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let lines = sample_lines(&data);
    assert!(!lines.is_empty(), "no measurement in the samples");

    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("measurements.jsonl");
    let mut written = 0usize;
    let mut count = 0usize;
    {
        let mut w = BufWriter::new(std::fs::File::create(&path).expect("create"));
        'fill: loop {
            for line in &lines {
                w.write_all(line.as_bytes()).expect("write");
                w.write_all(b"\n").expect("write");
                written += line.len() + 1;
                count += 1;
                if written >= target_mb * 1_000_000 {
                    break 'fill;
                }
            }
        }
        w.flush().expect("flush");
    }
    println!(
        "corpus: {} distinct measurements repeated into {count} lines, {:.1} MB ({})",
        lines.len(),
        written as f64 / 1e6,
        path.display()
    );

    // Load into memory so that only parsing is timed.
    let mut buf = Vec::with_capacity(written);
    let mut offsets = Vec::with_capacity(count);
    let mut reader = BufReader::new(std::fs::File::open(&path).expect("open"));
    loop {
        let start = buf.len();
        let n = reader.read_until(b'\n', &mut buf).expect("read");
        if n == 0 {
            break;
        }
        let end = if buf.last() == Some(&b'\n') {
            buf.len() - 1
        } else {
            buf.len()
        };
        offsets.push((start, end));
    }
    let bytes: usize = offsets.iter().map(|(s, e)| e - s).sum();

    // Interleaved rounds, best time kept: the machine is shared, so the
    // minimum is the least disturbed figure.
    let rounds: usize = std::env::var("CANARY_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let mut value_time = Duration::MAX;
    let mut typed_time = Duration::MAX;
    let mut serde_time = Duration::MAX;
    for _ in 0..rounds {
        let t = Instant::now();
        for &(s, e) in &offsets {
            let v: Value = serde_json::from_slice(&buf[s..e]).expect("Value parse");
            black_box(v);
        }
        value_time = value_time.min(t.elapsed());

        let t = Instant::now();
        for &(s, e) in &offsets {
            let m = Measurement::from_slice(&buf[s..e]).expect("typed parse");
            black_box(m);
        }
        typed_time = typed_time.min(t.elapsed());

        let t = Instant::now();
        for &(s, e) in &offsets {
            let m: Measurement = serde_json::from_slice(&buf[s..e]).expect("serde parse");
            black_box(m);
        }
        serde_time = serde_time.min(t.elapsed());
    }
    println!("best of {rounds} interleaved rounds, single thread:");
    report("Value", value_time, bytes, offsets.len(), None);
    report("typed", typed_time, bytes, offsets.len(), Some(value_time));
    report(
        "typed (serde)",
        serde_time,
        bytes,
        offsets.len(),
        Some(value_time),
    );
}
