//! The compiled fingerprint matcher (sampled literal scan, regexes gated by
//! their required literals) gives exactly the matches of the straightforward
//! one: every row tested on its own, `fp` rows suppressing the others at the
//! same location.
//!
//! Checked on every real HTTP response body and header in
//! `<repo>/../shared/data/ooni-samples`, on pages built from every
//! fingerprint's own pattern (as written, upper-cased, lower-cased, and cut
//! short), with Canary's and OONI's rows together; and, as a property, on
//! random rows and random bodies made of their pieces.

use std::path::{Path, PathBuf};

use canary_analysis::fingerprints::{
    Fingerprint, FingerprintDb, HttpMatches, Location, PatternType, Scope,
};
use canary_model::Measurement;
use proptest::prelude::*;
use regex::bytes::Regex;

/// Every row tested on its own, in the order `match_http` documents: the
/// body, then each header in the order given; `fp` rows suppress the other
/// rows that match the same location.
struct Naive<'a> {
    rows: &'a [Fingerprint],
    regexes: Vec<Option<Regex>>,
}

impl<'a> Naive<'a> {
    fn new(db: &'a FingerprintDb) -> Self {
        let regexes = db
            .rows()
            .iter()
            .map(|f| {
                (f.pattern_type == PatternType::Regexp).then(|| Regex::new(&f.pattern).unwrap())
            })
            .collect();
        Naive {
            rows: db.rows(),
            regexes,
        }
    }

    fn hits(&self, location: &Location, hay: &[u8]) -> Vec<usize> {
        let mut out = Vec::new();
        for (i, (f, re)) in self.rows.iter().zip(&self.regexes).enumerate() {
            if &f.location != location {
                continue;
            }
            let p = f.pattern.as_bytes();
            let hit = match f.pattern_type {
                PatternType::Full => hay == p,
                PatternType::Prefix => hay.starts_with(p),
                PatternType::Contains => memchr::memmem::find(hay, p).is_some(),
                PatternType::Regexp => re.as_ref().unwrap().is_match(hay),
            };
            if hit {
                out.push(i);
            }
        }
        out
    }

    fn names(&self, body: &[u8], headers: &[(String, String)]) -> [Vec<String>; 3] {
        let mut out: [Vec<String>; 3] = Default::default();
        let mut locations = vec![(Location::Body, body.to_vec())];
        for (k, v) in headers {
            locations.push((
                Location::Header(k.to_ascii_lowercase()),
                v.as_bytes().to_vec(),
            ));
        }
        for (loc, hay) in locations {
            let hits = self.hits(&loc, &hay);
            let any_fp = hits.iter().any(|&i| self.rows[i].scope == Scope::Fp);
            for i in hits {
                let f = &self.rows[i];
                let slot = if f.scope == Scope::Fp {
                    1
                } else if any_fp {
                    2
                } else {
                    0
                };
                if !out[slot].contains(&f.name) {
                    out[slot].push(f.name.clone());
                }
            }
        }
        out
    }
}

fn names(m: &HttpMatches<'_>) -> [Vec<String>; 3] {
    let n = |v: &Vec<&Fingerprint>| v.iter().map(|f| f.name.clone()).collect::<Vec<_>>();
    [n(&m.blockpages), n(&m.false_positives), n(&m.suppressed)]
}

fn check(
    db: &FingerprintDb,
    naive: &Naive<'_>,
    body: &[u8],
    headers: &[(String, String)],
    what: &str,
) {
    let fast = names(&db.match_http(body, headers.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
    assert_eq!(fast, naive.names(body, headers), "{what}");
}

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

fn all_fingerprints(shared: &Path) -> FingerprintDb {
    let mut db = FingerprintDb::canary_default();
    for f in ["fingerprints_dns.csv", "fingerprints_http.csv"] {
        let file = std::fs::File::open(shared.join("fingerprints").join(f)).unwrap();
        db.merge(FingerprintDb::from_reader(file).unwrap()).unwrap();
    }
    db
}

/// A response body and its headers.
type Response = (Vec<u8>, Vec<(String, String)>);

/// Every HTTP response in the real samples.
fn real_responses(dir: &Path) -> Vec<Response> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "json") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut out = Vec::new();
    for p in files {
        let text = std::fs::read_to_string(&p).unwrap();
        let raw = if p.to_string_lossy().contains("explorer-api-fixtures") {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            let Some(body) = v["body"].as_str() else {
                continue;
            };
            let body: serde_json::Value = serde_json::from_str(body).unwrap();
            let Some(raw) = body["raw_measurement"].as_str() else {
                continue;
            };
            raw.to_string()
        } else {
            text
        };
        let Ok(m) = Measurement::from_json_str(&raw) else {
            continue;
        };
        let Some(tk) = m.web_connectivity() else {
            continue;
        };
        for t in tk.requests().iter() {
            let Some(resp) = t.response.get() else {
                continue;
            };
            let body = resp
                .body
                .get()
                .and_then(|b| b.bytes().ok())
                .map(|b| b.into_owned())
                .unwrap_or_default();
            let mut headers = Vec::new();
            if let Some(list) = resp.headers_list.get() {
                for (k, v) in list {
                    if let (Some(k), Some(v)) = (k.to_text_lossy(), v.to_text_lossy()) {
                        headers.push((k.into_owned(), v.into_owned()));
                    }
                }
            }
            out.push((body, headers));
        }
    }
    out
}

#[test]
fn the_fast_matcher_equals_the_naive_one_on_every_real_response_and_every_row() {
    let shared = shared();
    if !shared.is_dir() {
        eprintln!("skipping: {} not found", shared.display());
        return;
    }
    let db = all_fingerprints(&shared);
    let naive = Naive::new(&db);
    let responses = real_responses(&shared.join("ooni-samples"));
    assert!(
        responses.len() >= 20,
        "only {} real responses",
        responses.len()
    );
    let mut matched = 0;
    for (i, (body, headers)) in responses.iter().enumerate() {
        check(&db, &naive, body, headers, &format!("real response {i}"));
        matched += usize::from(
            !db.match_http(body, headers.iter().map(|(k, v)| (k, v)))
                .blockpages
                .is_empty(),
        );
    }
    assert!(matched >= 1, "no real response matched a blockpage row");

    // Pages built from the rows' own patterns, in several cases and cut
    // short, alone and inside a real page (so its literals mix in): body
    // rows eight to a page, header rows one at a time (prefix and full rows
    // also alone, since they only match at the start).
    let page: Vec<u8> = responses
        .iter()
        .map(|(b, _)| b)
        .find(|b| b.len() > 2000)
        .map(|b| b[..2000].to_vec())
        .unwrap_or_default();
    let variants = |p: &str| -> [String; 4] {
        [
            p.to_string(),
            p.to_ascii_uppercase(),
            p.to_ascii_lowercase(),
            p.chars()
                .take(p.chars().count().saturating_sub(1))
                .collect(),
        ]
    };
    let body_rows: Vec<&Fingerprint> = db
        .rows()
        .iter()
        .filter(|f| f.location == Location::Body)
        .collect();
    for group in body_rows.chunks(8) {
        for v in 0..4 {
            let text = group
                .iter()
                .map(|f| variants(&f.pattern)[v].clone())
                .collect::<Vec<_>>()
                .join(" | ");
            let inside = [
                &page[..page.len() / 2],
                text.as_bytes(),
                &page[page.len() / 2..],
            ]
            .concat();
            check(&db, &naive, text.as_bytes(), &[], &format!("{text:?}"));
            check(&db, &naive, &inside, &[], &format!("{text:?} in a page"));
        }
    }
    for f in db.rows() {
        for v in variants(&f.pattern) {
            match &f.location {
                Location::Body if f.pattern_type != PatternType::Contains => {
                    check(
                        &db,
                        &naive,
                        v.as_bytes(),
                        &[],
                        &format!("{} / {v:?}", f.name),
                    );
                }
                Location::Header(h) => {
                    for value in [v.clone(), format!("{v}/x"), format!("x{v}")] {
                        check(
                            &db,
                            &naive,
                            b"",
                            &[(h.clone(), value)],
                            &format!("{} / {v:?}", f.name),
                        );
                    }
                }
                _ => {}
            }
        }
    }
}

fn csv_field(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn the_fast_matcher_equals_the_naive_one_on_random_rows_and_bodies(
        rows in proptest::collection::vec(
            ("[a-cA-C<>/]([a-cA-C <>/]{0,10}[a-cA-C<>/])?", 0..4usize, prop::sample::select(vec!["isp", "fp", "vbw"]), proptest::bool::ANY),
            1..16,
        ),
        parts in proptest::collection::vec((0..16usize, 0..3usize, "[a-cx <]{0,8}"), 0..12),
    ) {
        let mut csv = String::from("name,scope,other_names,location_found,pattern_type,pattern,confidence_no_fp,expected_countries,source,exp_url,notes\n");
        for (i, (pattern, kind, scope, header)) in rows.iter().enumerate() {
            let (kind, pattern) = match kind {
                0 => ("contains", pattern.clone()),
                1 => ("prefix", pattern.clone()),
                2 => ("full", pattern.clone()),
                // A case-insensitive regexp with a required literal.
                _ => ("regexp", format!("(?i-u){}[a-c]*x", regex::escape(pattern))),
            };
            let location = if *header { "header.location" } else { "body" };
            csv.push_str(&format!("r{i},{scope},,{location},{kind},{},5,,,,\n", csv_field(&pattern)));
        }
        let db = FingerprintDb::from_csv_str(&csv).unwrap();
        let naive = Naive::new(&db);
        let mut body = String::new();
        for (i, case, junk) in &parts {
            body.push_str(junk);
            let p = &rows[i % rows.len()].0;
            body.push_str(&match case {
                0 => p.clone(),
                1 => p.to_ascii_uppercase(),
                _ => p.to_ascii_lowercase(),
            });
        }
        let headers = vec![("Location".to_string(), body.clone())];
        let fast = names(&db.match_http(body.as_bytes(), headers.iter().map(|(k, v)| (k, v))));
        prop_assert_eq!(fast, naive.names(body.as_bytes(), &headers));
    }
}
