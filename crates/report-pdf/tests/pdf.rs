//! Specification of the PDF reports: page 1 is not blank, Khmer reports
//! embed a Khmer font and extract as Khmer text, the key figures printed
//! equal the store's, bytes are reproducible, internal editions are
//! watermarked on every page, empty periods say "no data", and hostile
//! registry text is printed, never executed.
//!
//! The poppler tools (`pdftoppm`, `pdffonts`, `pdftotext`, Debian's
//! `poppler-utils`) are used to look inside the PDFs; checks that need
//! them are skipped with a message when they are absent.

#[path = "../../report/tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use canary_report::*;
use canary_report_pdf::{render_pdf, typst_source};
use common::*;
use time::macros::date;
use time::Date;

fn opts(lang: Lang, template: Template, from: Date, to: Date) -> ReportOptions {
    let mut o = ReportOptions::new("KH", from, to);
    o.lang = lang;
    o.template = template;
    o.author = "Demo NGO".into();
    o
}

fn tool(name: &str) -> bool {
    let ok = Command::new(name).arg("-v").output().is_ok();
    if !ok {
        eprintln!("skipping: {name} (poppler-utils) not found");
    }
    ok
}

fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-pdf");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Grey levels of page 1 at 50 dpi (binary PGM from pdftoppm).
fn page1_gray(pdf: &Path) -> Vec<u8> {
    let prefix = pdf.with_extension("p1");
    run(Command::new("pdftoppm")
        .args(["-f", "1", "-l", "1", "-r", "50", "-gray", "-singlefile"])
        .arg(pdf)
        .arg(&prefix));
    let bytes = std::fs::read(prefix.with_extension("p1.pgm")).unwrap();
    // header: P5 <w> <h> <max> then one byte per pixel
    let mut fields = 0;
    let mut i = 0;
    while fields < 4 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields += 1;
    }
    bytes[i + 1..].to_vec()
}

fn variance(px: &[u8]) -> f64 {
    let n = px.len() as f64;
    let mean = px.iter().map(|&p| f64::from(p)).sum::<f64>() / n;
    px.iter()
        .map(|&p| (f64::from(p) - mean).powi(2))
        .sum::<f64>()
        / n
}

fn khmer_chars(s: &str) -> usize {
    s.chars()
        .filter(|c| ('\u{1780}'..='\u{17FF}').contains(c))
        .count()
}

#[tokio::test]
async fn pdfs_in_both_languages_and_templates_are_nonblank_and_carry_the_store_figures() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(dir.path()).await;
    let reg = demo_registry();
    // the web UI's demo dataset: the lab's scenarios with real verdicts
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("web-demo.db").display()
    );
    let web_demo = canary_store::Store::open(&url).await.unwrap();
    canary_web::demo::load(&web_demo).await.unwrap();
    let poppler = tool("pdftoppm") && tool("pdffonts") && tool("pdftotext");
    let year = (date!(2018 - 01 - 01), date!(2023 - 12 - 31));
    let demo_month = (date!(2024 - 10 - 01), date!(2024 - 10 - 31));
    let cases = [
        ("en-country", &store, Lang::En, Template::Country, year),
        ("km-country", &store, Lang::Km, Template::Country, year),
        ("en-upr", &store, Lang::En, Template::Upr, year),
        ("km-upr", &store, Lang::Km, Template::Upr, year),
        (
            "web-demo-en-country",
            &web_demo,
            Lang::En,
            Template::Country,
            demo_month,
        ),
        (
            "web-demo-km-country",
            &web_demo,
            Lang::Km,
            Template::Country,
            demo_month,
        ),
        (
            "web-demo-km-upr",
            &web_demo,
            Lang::Km,
            Template::Upr,
            demo_month,
        ),
    ];
    for (name, store, lang, template, (from, to)) in cases {
        let o = opts(lang, template, from, to);
        let data = gather(store, &reg, &o).await.unwrap();
        let started = std::time::Instant::now();
        let pdf = render_pdf(&data, &o).unwrap();
        eprintln!(
            "{name}: {} bytes in {} ms",
            pdf.len(),
            started.elapsed().as_millis()
        );
        assert!(pdf.starts_with(b"%PDF-"), "{name}");
        let path = out_dir().join(format!("{name}.pdf"));
        std::fs::write(&path, &pdf).unwrap();
        if !poppler {
            continue;
        }
        // page 1 is not blank
        let gray = page1_gray(&path);
        let v = variance(&gray);
        eprintln!("{name}: page 1 pixel variance {v:.0}");
        assert!(v > 400.0, "{name}: page 1 pixel variance {v:.0}");
        // fonts: Khmer embedded in Khmer reports
        let fonts = run(Command::new("pdffonts").arg(&path));
        let text = run(Command::new("pdftotext")
            .args(["-enc", "UTF-8"])
            .arg(&path)
            .arg("-"));
        if lang == Lang::Km {
            assert!(fonts.contains("NotoSansKhmer"), "{name}: {fonts}");
            assert!(
                fonts
                    .lines()
                    .filter(|l| l.contains("NotoSansKhmer"))
                    .all(|l| l.contains(" yes ")),
                "{name}: embedded: {fonts}"
            );
            assert!(
                khmer_chars(&text) > 300,
                "{name}: {} Khmer characters extracted",
                khmer_chars(&text)
            );
            assert!(
                contains_khmer(&text, "កម្ពុជា"),
                "{name}: the country's name, a coeng cluster, extracts"
            );
        } else {
            assert!(text.contains("Cambodia"), "{name}");
        }
        // the key figures of section 1 are printed with the store's values,
        // in display order (poppler reads the grid row by row)
        if template == Template::Country {
            let start = text
                .lines()
                .position(|l| l.starts_with("1. "))
                .expect("section 1");
            let printed: Vec<u64> = text
                .lines()
                .skip(start)
                .filter_map(|l| l.trim().parse().ok())
                .take(data.summary.len())
                .collect();
            let want: Vec<u64> = data.summary.iter().map(|f| f.value).collect();
            assert_eq!(printed, want, "{name}: key figures");
            assert_eq!(
                want[0],
                store_sites_tested(store, &o).await,
                "{name}: sites tested equals the store's answer"
            );
        }
        let png = out_dir().join(format!("{name}-p1"));
        run(Command::new("pdftoppm")
            .args(["-f", "1", "-l", "1", "-r", "80", "-png", "-singlefile"])
            .arg(&path)
            .arg(&png));
    }
}

/// The store's own answer for the sites-tested figure.
async fn store_sites_tested(store: &canary_store::Store, o: &ReportOptions) -> u64 {
    let f = canary_store::Filters {
        from: Some(o.from.with_hms(0, 0, 0).unwrap().assume_utc()),
        to: Some(
            o.to.next_day()
                .unwrap()
                .with_hms(0, 0, 0)
                .unwrap()
                .assume_utc(),
        ),
        ..canary_store::Filters::default()
    };
    store.country_summary("KH", &f).await.unwrap().sites_tested
}

/// Whether `needle` (spaces ignored) appears in `hay` allowing repeated
/// characters: poppler extracts a Khmer cluster drawn by one glyph once
/// per character it maps to, so "កម្ពុជា" may come out as "កម្ពុម្ពុជា".
fn contains_khmer(hay: &str, needle: &str) -> bool {
    let hay: Vec<char> = hay.chars().filter(|c| !c.is_whitespace()).collect();
    let needle: Vec<char> = needle.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(&first) = needle.first() else {
        return true;
    };
    (0..hay.len()).filter(|&i| hay[i] == first).any(|i| {
        let window = &hay[i..hay.len().min(i + 3 * needle.len())];
        let mut it = window.iter();
        needle.iter().all(|c| it.any(|h| h == c))
    })
}

#[tokio::test]
async fn same_data_and_options_give_the_same_pdf_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(dir.path()).await;
    let reg = demo_registry();
    for lang in [Lang::En, Lang::Km] {
        let mut o = opts(
            lang,
            Template::Country,
            date!(2023 - 01 - 01),
            date!(2023 - 12 - 31),
        );
        o.generated_on = Some(date!(2024 - 02 - 01));
        let a = render_pdf(&gather(&store, &reg, &o).await.unwrap(), &o).unwrap();
        let b = render_pdf(&gather(&store, &reg, &o).await.unwrap(), &o).unwrap();
        assert!(a == b, "{lang:?}: two renders differ");
        o.generated_on = None;
        let c = render_pdf(&gather(&store, &reg, &o).await.unwrap(), &o).unwrap();
        let d = render_pdf(&gather(&store, &reg, &o).await.unwrap(), &o).unwrap();
        assert!(c == d, "{lang:?}: undated renders differ");
        assert!(a != c, "{lang:?}: the date is in the PDF");
    }
}

#[tokio::test]
async fn internal_editions_are_watermarked_on_every_page_and_public_ones_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(dir.path()).await;
    let reg = demo_registry();
    let mut o = opts(
        Lang::En,
        Template::Country,
        date!(2023 - 01 - 01),
        date!(2023 - 12 - 31),
    );
    o.edition = Edition::OrgInternal(ORG.into());
    let pdf = render_pdf(&gather(&store, &reg, &o).await.unwrap(), &o).unwrap();
    let source = typst_source(&layout(&gather(&store, &reg, &o).await.unwrap(), &o), None);
    assert!(source.contains("background: rotate(-35deg"));
    o.edition = Edition::Public;
    let public = render_pdf(&gather(&store, &reg, &o).await.unwrap(), &o).unwrap();
    if !tool("pdftotext") {
        return;
    }
    let p = out_dir().join("internal.pdf");
    std::fs::write(&p, &pdf).unwrap();
    let text = run(Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&p)
        .arg("-"));
    let pages: Vec<&str> = text
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .collect();
    assert!(pages.len() >= 3, "{} pages", pages.len());
    for (i, page) in pages.iter().enumerate() {
        assert!(
            page.contains("ORGANISATION-INTERNAL"),
            "page {} is watermarked",
            i + 1
        );
    }
    assert!(text.contains(CONFIDENTIAL_MARKER));
    let p = out_dir().join("public.pdf");
    std::fs::write(&p, &public).unwrap();
    let text = run(Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&p)
        .arg("-"));
    assert!(!text.contains("ORGANISATION-INTERNAL"));
    assert!(!text.contains(CONFIDENTIAL_MARKER));
    assert!(!text.contains(UNPUBLISHED_MARKER));
}

#[tokio::test]
async fn an_empty_period_renders_no_data_sections() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(dir.path()).await;
    for lang in [Lang::En, Lang::Km] {
        for template in [Template::Country, Template::Upr] {
            let o = opts(lang, template, date!(1990 - 01 - 01), date!(1990 - 01 - 31));
            let data = gather(&store, &canary_registry::Dataset::new(), &o)
                .await
                .unwrap();
            assert!(data.is_empty());
            let pdf = render_pdf(&data, &o).unwrap();
            if !tool("pdftotext") {
                continue;
            }
            let p = out_dir().join(format!("empty-{lang:?}-{template:?}.pdf"));
            std::fs::write(&p, &pdf).unwrap();
            let text = run(Command::new("pdftotext")
                .args(["-enc", "UTF-8"])
                .arg(&p)
                .arg("-"));
            let want = match template {
                Template::Country => i18n::t(lang, i18n::T::NoData),
                Template::Upr => i18n::t(lang, i18n::T::UprNoBlocking),
            };
            assert!(
                contains_khmer(&text, want),
                "{lang:?} {template:?}: {want:?} printed"
            );
        }
    }
}

#[tokio::test]
async fn hostile_registry_text_is_printed_not_executed() {
    let store = canary_store::Store::open("sqlite::memory:").await.unwrap();
    let mut reg = demo_registry();
    let hostile = [
        "#panic(\"owned\")",
        "] #read(\"/etc/passwd\") [",
        "\" + str(1) + \"",
        "$ x^2 $ * _ ` < @ = \\ \\u{1F600}",
        "<script>alert(1)</script>",
    ];
    let published = reg
        .incidents
        .iter()
        .position(|i| i.meta.is_public() && i.start.date().year() == 2018)
        .expect("a published 2018 incident");
    for (n, h) in hostile.iter().enumerate() {
        let mut inc = reg.incidents[published].clone();
        inc.meta.id = format!("inc_hostile_{n}");
        inc.title = (*h).to_owned();
        inc.summary = format!("summary {h}");
        reg.incidents.push(inc);
    }
    let o = opts(
        Lang::En,
        Template::Country,
        date!(2018 - 01 - 01),
        date!(2018 - 12 - 31),
    );
    let data = gather(&store, &reg, &o).await.unwrap();
    let pdf = render_pdf(&data, &o).expect("hostile text compiles as text");
    let html = render_html(&data, &o);
    assert!(!html.contains("<script>"));
    if !tool("pdftotext") {
        return;
    }
    let p = out_dir().join("hostile.pdf");
    std::fs::write(&p, &pdf).unwrap();
    let text = run(Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&p)
        .arg("-"));
    let flat: String = text.split_whitespace().collect();
    for h in [
        "#panic(\"owned\")",
        "]#read(\"/etc/passwd\")[",
        "<script>alert(1)</script>",
    ] {
        assert!(flat.contains(h), "{h:?} printed literally");
    }
}
