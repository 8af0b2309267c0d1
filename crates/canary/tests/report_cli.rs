//! `canary report`, run as a real process over the web demo dataset and the
//! Cambodia seed registry kept in the same database (`--registry store`,
//! the default), the built-in seed (`seed`) or a JSON export.

use std::process::{Command, Output};

use canary_registry::{FieldKey, KeyRing};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A database with the demo measurements and, when `with_registry`, the
/// Cambodia seed registry (sealed with a throw-away key, as `canary seed
/// kh` stores it).
fn database(dir: &std::path::Path, with_registry: bool) -> String {
    let db = dir.join("canary.db").to_str().expect("utf-8").to_string();
    runtime().block_on(async {
        let store = canary_store::Store::open(&db).await.expect("store");
        canary_web::demo::load(&store).await.expect("demo data");
        if with_registry {
            let ring = KeyRing::new(FieldKey::generate(1).expect("key"));
            let mut seed = canary_registry::seed::kh();
            seed.seal_all(&ring).expect("sealed");
            store
                .registry_import(&seed, "seed", canary_registry::seed::SEED_AT)
                .await
                .expect("registry stored");
        } else {
            // the demo loader may bring a registry of its own: this
            // database is meant to have none
            assert!(
                store.registry_load().await.expect("registry").is_empty(),
                "demo data without a registry"
            );
        }
        store.close().await;
    });
    db
}

fn demo_db(dir: &std::path::Path) -> String {
    database(dir, true)
}

fn report(db: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_canary"))
        .args([
            "report",
            "--country",
            "KH",
            "--from",
            "2024-10-01",
            "--to",
            "2024-10-31",
        ])
        .args(["--database", db])
        .args(extra)
        .output()
        .expect("report runs")
}

#[test]
fn html_reports_in_english_and_khmer_are_written_and_reproducible() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = demo_db(dir.path());
    for lang in ["en", "km"] {
        let out = report(&db, &["--lang", lang]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let html = String::from_utf8(out.stdout.clone()).expect("utf-8 HTML");
        assert!(html.contains("<svg"), "{lang}: a chart");
        let khmer = html
            .chars()
            .filter(|c| ('\u{1780}'..='\u{17FF}').contains(c))
            .count();
        if lang == "km" {
            assert!(
                khmer > 100,
                "the Khmer report is in Khmer ({khmer} Khmer characters)"
            );
        }
        let again = report(&db, &["--lang", lang]);
        assert_eq!(out.stdout, again.stdout, "{lang}: same data, same bytes");
    }
    // A UPR draft longer than its word limit says so.
    let upr = report(&db, &["--template", "upr", "--word-limit", "50"]);
    assert!(upr.status.success());
    assert!(String::from_utf8_lossy(&upr.stdout).contains("Over the limit by"));
    let roomy = report(&db, &["--template", "upr", "--word-limit", "100000"]);
    assert!(!String::from_utf8_lossy(&roomy.stdout).contains("Over the limit by"));
}

#[test]
fn bad_options_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = demo_db(dir.path());
    for (args, expected) in [
        (vec!["--lang", "fr"], "--lang"),
        (vec!["--format", "docx"], "--format"),
        (vec!["--template", "memo"], "--template"),
    ] {
        let out = report(&db, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(expected),
            "{args:?}"
        );
    }
    let out = Command::new(env!("CARGO_BIN_EXE_canary"))
        .args([
            "report",
            "--country",
            "XX",
            "--from",
            "2024-10-01",
            "--to",
            "2024-10-31",
            "--database",
            &db,
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("XX"));
    let out = Command::new(env!("CARGO_BIN_EXE_canary"))
        .args([
            "report",
            "--country",
            "KH",
            "--from",
            "2024-10-31",
            "--to",
            "2024-10-01",
            "--database",
            &db,
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "an empty range is refused");
}

#[cfg(feature = "pdf")]
#[test]
fn pdf_reports_are_pdfs_in_both_languages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = demo_db(dir.path());
    for lang in ["en", "km"] {
        let path = dir.path().join(format!("r-{lang}.pdf"));
        let out = report(
            &db,
            &[
                "--lang",
                lang,
                "--format",
                "pdf",
                "--output",
                path.to_str().expect("utf-8"),
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bytes = std::fs::read(&path).expect("pdf written");
        assert!(bytes.starts_with(b"%PDF-"), "{lang}: a PDF");
    }
}

#[cfg(not(feature = "pdf"))]
#[test]
fn without_the_pdf_feature_pdf_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = demo_db(dir.path());
    let out = report(&db, &["--format", "pdf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--features pdf"));
}

/// `data-figure="KEY" …>VALUE<` of one figure in a rendered report.
fn figure(html: &str, key: &str) -> u64 {
    let marker = format!("data-figure=\"{key}\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{key} in the report"));
    let rest = &html[at..];
    let gt = rest.find('>').expect("tag end");
    let lt = rest[gt..].find('<').expect("text end") + gt;
    rest[gt + 1..lt].parse().expect("an integer")
}

#[test]
fn the_registry_in_the_database_is_the_default_and_matches_the_built_in_seed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = demo_db(dir.path());
    // The period of the seed's incidents and the demo measurements.
    let args = ["--from", "2017-01-01", "--to", "2024-12-31"];
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_canary"))
            .args(["report", "--country", "KH", "--database", &db])
            .args(args)
            .args(extra)
            .output()
            .expect("report runs")
    };
    let stored = run(&[]);
    assert!(
        stored.status.success(),
        "{}",
        String::from_utf8_lossy(&stored.stderr)
    );
    let explicit = run(&["--registry", "store"]);
    assert_eq!(stored.stdout, explicit.stdout, "store is the default");
    let html = String::from_utf8(stored.stdout.clone()).expect("utf-8");
    let incidents = figure(&html, "summary.incidents");
    let published = canary_registry::seed::kh()
        .view_for(&canary_registry::Principal::Anonymous)
        .incidents
        .iter()
        .filter(|i| i.place.country == "KH")
        .count() as u64;
    assert!(
        incidents > 0,
        "the stored seed's published incidents are reported"
    );
    assert_eq!(incidents, published);
    // The public edition of the sealed, stored seed is the public edition
    // of the built-in one: sealing changes nothing a public reader sees.
    let builtin = run(&["--registry", "seed"]);
    assert!(builtin.status.success());
    assert!(
        stored.stdout == builtin.stdout,
        "the stored and the built-in seed give the same public report"
    );
    // A JSON export still works, and gives the same report.
    let export = dir.path().join("registry.json");
    std::fs::write(
        &export,
        canary_registry::io::to_json(&canary_registry::seed::kh()).expect("json"),
    )
    .expect("write");
    let from_file = run(&["--registry", export.to_str().expect("utf-8")]);
    assert!(from_file.status.success());
    assert!(
        from_file.stdout == builtin.stdout,
        "a JSON export of the seed"
    );
    // Reports from the stored registry are in its audit log, with the
    // hash of the bytes; reports from the seed or a file are not.
    let log = runtime().block_on(async {
        let store = canary_store::Store::open(&db).await.expect("store");
        let log = store.registry_audit(0, 10_000).await.expect("audit");
        store.close().await;
        log
    });
    let reports: Vec<_> = log
        .iter()
        .filter(|e| e.details.starts_with("report from the command line"))
        .collect();
    assert_eq!(reports.len(), 2, "the default and --registry store");
    for e in &reports {
        assert_eq!(e.action, canary_registry::AuditAction::Export);
        assert_eq!(e.object, "canary-report-KH-2017-01-01-2024-12-31-en.html");
        assert!(e.details.contains("edition=public"), "{}", e.details);
        assert!(
            e.details
                .contains(&canary_report::sha256_hex(&stored.stdout)),
            "{}",
            e.details
        );
    }
    // A missing file is named.
    let missing = run(&["--registry", "no-such-registry.json"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no-such-registry.json"));
}

#[test]
fn an_empty_registry_in_the_database_gives_a_report_without_incidents_and_says_how_to_load_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = database(dir.path(), false);
    let out = report(&db, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the registry holds no records") && stderr.contains("canary seed kh"),
        "{stderr}"
    );
    let html = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(figure(&html, "summary.incidents"), 0);
    assert!(
        html.contains("Nothing is documented yet"),
        "the registry sections say so"
    );
    assert!(
        figure(&html, "summary.sites_tested") > 0,
        "measurements still reported"
    );
    // With a registry, no such warning.
    let seeded = tempfile::tempdir().expect("tempdir");
    let db = demo_db(seeded.path());
    let out = report(&db, &[]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("holds no records"));
}
