//! `canary report`, run as a real process over the web demo dataset and the
//! Cambodia seed registry.

use std::process::{Command, Output};

fn demo_db(dir: &std::path::Path) -> String {
    let db = dir.join("canary.db").to_str().expect("utf-8").to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let store = canary_store::Store::open(&db).await.expect("store");
        canary_web::demo::load(&store).await.expect("demo data");
        store.close().await;
    });
    db
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
