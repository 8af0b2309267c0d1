//! OONI's real blocking-fingerprint files load, and match what they describe.
//!
//! The files live outside the repository (`<repo>/../shared/data/fingerprints`,
//! see SOURCES.md there; their licence forbids copying them in). The tests
//! skip with a message when the folder is absent.

use std::collections::BTreeMap;
use std::path::PathBuf;

use canary_analysis::fingerprints::{FingerprintDb, Location, PatternType, Scope};

fn load(name: &str) -> Option<FingerprintDb> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/fingerprints")
        .join(name);
    let Ok(file) = std::fs::File::open(&path) else {
        eprintln!("skipping: {} not found", path.display());
        return None;
    };
    Some(FingerprintDb::from_reader(file).unwrap_or_else(|e| panic!("{name}: {e}")))
}

fn counts(db: &FingerprintDb) -> BTreeMap<(String, PatternType), usize> {
    let mut m = BTreeMap::new();
    for f in db.rows() {
        *m.entry((f.location.to_csv(), f.pattern_type)).or_default() += 1;
    }
    m
}

#[test]
fn the_dns_file_loads_with_every_row_an_exact_ip_match() {
    let Some(db) = load("fingerprints_dns.csv") else {
        return;
    };
    assert_eq!(db.len(), 226);
    assert_eq!(
        counts(&db),
        BTreeMap::from([(("dns".to_string(), PatternType::Full), 226)])
    );
    // The two Cambodian rows documented in SOURCES.md.
    let viettel = db.match_dns("36.37.242.94");
    assert_eq!(viettel.len(), 1);
    assert_eq!(viettel[0].name, "ooni.kh_dns_1");
    assert!(viettel[0].is_confirmed("KH"));
    let sinkhole = db.match_dns("10.10.10.1");
    assert_eq!(sinkhole[0].name, "ooni.kh_dns_2");
    assert_eq!(sinkhole[0].scope, Scope::Prod);
    // Every row matches its own pattern, and nothing matches a public resolver's answer.
    for f in db.rows() {
        assert!(
            db.match_dns(&f.pattern).iter().any(|g| g.name == f.name),
            "{}",
            f.name
        );
    }
    assert!(db.match_dns("93.184.216.34").is_empty());
}

#[test]
fn the_http_file_loads_with_its_documented_row_counts() {
    let Some(db) = load("fingerprints_http.csv") else {
        return;
    };
    assert_eq!(db.len(), 1729);
    let c = counts(&db);
    let want: &[(&str, PatternType, usize)] = &[
        ("body", PatternType::Contains, 1296),
        ("body", PatternType::Regexp, 14),
        ("body", PatternType::Full, 1),
        ("header.location", PatternType::Prefix, 271),
        ("header.location", PatternType::Contains, 118),
        ("header.location", PatternType::Full, 13),
        ("header.server", PatternType::Full, 7),
        ("header.server", PatternType::Prefix, 2),
        ("header.via", PatternType::Full, 4),
        ("header.via", PatternType::Prefix, 2),
        ("header.x-app-url", PatternType::Full, 1),
    ];
    for (loc, pt, n) in want {
        assert_eq!(c.get(&(loc.to_string(), *pt)), Some(n), "{loc} {pt:?}");
    }
    assert_eq!(c.values().sum::<usize>(), 1729);
    let fp = db.rows().iter().filter(|f| f.scope == Scope::Fp).count();
    assert_eq!(fp, 475);
}

/// Build a haystack on which row `f` (and only rows that overlap it) should fire.
fn haystack_for(f: &canary_analysis::fingerprints::Fingerprint) -> Option<String> {
    match f.pattern_type {
        PatternType::Full => Some(f.pattern.clone()),
        PatternType::Prefix => Some(format!("{}/more", f.pattern)),
        PatternType::Contains => Some(format!("<html><body>x {} y</body></html>", f.pattern)),
        PatternType::Regexp => None,
    }
}

#[test]
fn every_literal_http_row_matches_a_page_built_from_its_own_pattern() {
    let Some(db) = load("fingerprints_http.csv") else {
        return;
    };
    let mut checked = 0;
    for f in db.rows() {
        let Some(text) = haystack_for(f) else {
            continue;
        };
        let m = match &f.location {
            Location::Body => db.match_http(text.as_bytes(), std::iter::empty::<(&str, &str)>()),
            Location::Header(h) => db.match_http(b"", [(h.as_str(), text.as_str())]),
            Location::Dns => continue,
        };
        let all: Vec<&str> = m
            .blockpages
            .iter()
            .chain(&m.false_positives)
            .chain(&m.suppressed)
            .map(|g| g.name.as_str())
            .collect();
        assert!(
            all.contains(&f.name.as_str()),
            "{} did not match its own pattern",
            f.name
        );
        if f.scope == Scope::Fp {
            assert!(
                m.blockpages.is_empty()
                    || !matches!(f.location, Location::Body)
                    || m.false_positives.iter().any(|g| g.name == f.name)
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 1729 - 14, "all literal rows checked");
}

#[test]
fn the_kh_http_row_is_a_confirmed_blockpage_in_cambodia() {
    let Some(db) = load("fingerprints_http.csv") else {
        return;
    };
    let kh = db.get("ooni.kh_http_1").expect("ooni.kh_http_1 exists");
    let body = format!("<html><head>{}</head></html>", kh.pattern);
    let m = db.match_http(body.as_bytes(), [("Server", "squid")]);
    assert_eq!(
        m.confirmed("KH").map(|f| f.name.as_str()),
        Some("ooni.kh_http_1")
    );
}

#[test]
fn the_regexp_rows_are_real_regular_expressions() {
    let Some(db) = load("fingerprints_http.csv") else {
        return;
    };
    // cp.f_gen_blocked_23 reads "<p>Sorry, but the URL you.* requesting is prohibited!</p>":
    // OONI's fastpath would only match the literal text ".*"; a real regexp matches this page.
    let row = db.get("cp.f_gen_blocked_23").expect("row exists");
    assert_eq!(row.pattern_type, PatternType::Regexp);
    let page = "<p>Sorry, but the URL you are requesting is prohibited!</p>";
    let m = db.match_http(page.as_bytes(), std::iter::empty::<(&str, &str)>());
    assert!(
        m.blockpages.iter().any(|f| f.name == "cp.f_gen_blocked_23"),
        "{m:?}"
    );
}

#[test]
fn ooni_files_merge_into_the_canary_defaults() {
    let (Some(dns), Some(http)) = (load("fingerprints_dns.csv"), load("fingerprints_http.csv"))
    else {
        return;
    };
    let mut db = FingerprintDb::canary_default();
    let base = db.len();
    db.merge(dns).unwrap();
    db.merge(http).unwrap();
    // Three names (ooni.th_9, ooni.th_10, ooni.id_39) exist in both OONI
    // files for different rows: merging must keep both rows of each.
    assert_eq!(db.len(), base + 226 + 1729);
    let names: Vec<&str> = db
        .match_dns("36.37.242.94")
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(names, ["canary.kh_dns_viettel", "ooni.kh_dns_1"]);
}
