//! Fingerprint matching throughput: the whole OONI HTTP fingerprint set
//! against a 512 KiB body, with the compiled matcher (one Aho-Corasick pass
//! plus one `RegexSet` pass) versus one naive scan per fingerprint.
//!
//! Run with `cargo bench -p canary-analysis --bench fingerprints`.
//! Needs `<repo>/../shared/data/fingerprints/fingerprints_http.csv`; skips with
//! a message when it is absent.

use std::path::PathBuf;
use std::time::Instant;

use canary_analysis::fingerprints::{FingerprintDb, Location, PatternType};

fn body_512k() -> Vec<u8> {
    // Deterministic HTML-like text that matches (almost) nothing.
    let mut body = Vec::with_capacity(512 * 1024);
    body.extend_from_slice(b"<!DOCTYPE html><html><head><title>Daily news</title></head><body>");
    let mut i: u64 = 0;
    while body.len() < 512 * 1024 {
        i = i
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let word = [
            "news", "river", "market", "phnom", "penh", "rain", "report", "<p>", "</p>", "court",
        ][(i >> 60) as usize % 10];
        body.extend_from_slice(word.as_bytes());
        body.push(b' ');
    }
    body.truncate(512 * 1024);
    body
}

fn main() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/fingerprints/fingerprints_http.csv");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(_) => {
            eprintln!("skipping: {} not found", path.display());
            return;
        }
    };
    let db = match FingerprintDb::from_csv_str(&text) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("cannot load OONI HTTP fingerprints: {e}");
            std::process::exit(1);
        }
    };
    let body = body_512k();
    let headers = [
        ("Server", "nginx"),
        ("Location", "https://www.example.org/next"),
    ];
    let iters: u32 = std::env::var("CANARY_BENCH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);

    // Compiled matcher.
    let _ = db.match_http(&body, headers); // warm-up
    let t = Instant::now();
    let mut compiled_hits = 0usize;
    for _ in 0..iters {
        let m = db.match_http(&body, headers);
        compiled_hits = m.blockpages.len() + m.false_positives.len() + m.suppressed.len();
    }
    let compiled = t.elapsed().as_secs_f64() / f64::from(iters);

    // Naive: one scan per fingerprint.
    let regexes: Vec<Option<regex::bytes::Regex>> = db
        .rows()
        .iter()
        .map(|f| {
            (f.pattern_type == PatternType::Regexp)
                .then(|| regex::bytes::Regex::new(&f.pattern).ok())
                .flatten()
        })
        .collect();
    let naive_once = |hits: &mut usize| {
        for (f, re) in db.rows().iter().zip(&regexes) {
            let hays: Vec<&[u8]> = match &f.location {
                Location::Body => vec![&body[..]],
                Location::Header(h) => headers
                    .iter()
                    .filter(|(n, _)| n.eq_ignore_ascii_case(h))
                    .map(|(_, v)| v.as_bytes())
                    .collect(),
                Location::Dns => continue,
            };
            for hay in hays {
                let p = f.pattern.as_bytes();
                let hit = match f.pattern_type {
                    PatternType::Full => hay == p,
                    PatternType::Prefix => hay.starts_with(p),
                    PatternType::Contains => memchr::memmem::find(hay, p).is_some(),
                    PatternType::Regexp => re.as_ref().is_some_and(|r| r.is_match(hay)),
                };
                if hit {
                    *hits += 1;
                }
            }
        }
    };
    let mut naive_hits = 0usize;
    naive_once(&mut naive_hits);
    let t = Instant::now();
    for _ in 0..iters {
        naive_hits = 0;
        naive_once(&mut naive_hits);
    }
    let naive = t.elapsed().as_secs_f64() / f64::from(iters);

    // Where the compiled time goes: literal rows alone, regexp rows alone.
    let split = |want_regexp: bool| {
        let rows = db
            .rows()
            .iter()
            .filter(|f| (f.pattern_type == PatternType::Regexp) == want_regexp)
            .cloned()
            .collect();
        FingerprintDb::from_rows(rows).unwrap_or_default()
    };
    let time_db = |d: &FingerprintDb| {
        let t = Instant::now();
        for _ in 0..iters {
            let _ = d.match_http(&body, headers);
        }
        t.elapsed().as_secs_f64() / f64::from(iters)
    };
    let literal_only = time_db(&split(false));
    let regexp_only = time_db(&split(true));

    let mb = body.len() as f64 / (1024.0 * 1024.0);
    println!(
        "fingerprints: {} OONI HTTP rows, body {} KiB, {iters} iterations",
        db.len(),
        body.len() / 1024
    );
    println!("  compiled (Aho-Corasick + RegexSet): {:>10.1} µs/body  {:>8.1} MiB/s  hits {compiled_hits}", compiled * 1e6, mb / compiled);
    println!(
        "  naive (one scan per fingerprint):   {:>10.1} µs/body  {:>8.1} MiB/s  hits {naive_hits}",
        naive * 1e6,
        mb / naive
    );
    println!(
        "    of which literal rows alone {:.1} µs, regexp rows alone {:.1} µs",
        literal_only * 1e6,
        regexp_only * 1e6
    );
    println!("  ratio naive/compiled: {:.1}x", naive / compiled);
    println!(
        "  literal matcher memory: {:.1} MiB",
        db.matcher_memory_usage() as f64 / (1024.0 * 1024.0)
    );
}
