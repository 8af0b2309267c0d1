//! Specification of the reports: every number equals the store's (or the
//! registry's) answer to the same question, in the data and in the HTML;
//! reproducible bytes; clear errors for bad options; "no data" sections;
//! public editions never show unpublished or confidential records.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use canary_registry::Dataset;
use canary_report::*;
use canary_store::Store;
use common::figures::{expected, html_figures};
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

#[tokio::test]
async fn every_number_equals_the_store_and_registry_answer_in_data_and_html() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(dir.path()).await;
    let reg = demo_registry();
    let cases = [
        (
            "en country 2023",
            Lang::En,
            Template::Country,
            date!(2023 - 01 - 01),
            date!(2023 - 12 - 31),
        ),
        (
            "km country 2023",
            Lang::Km,
            Template::Country,
            date!(2023 - 01 - 01),
            date!(2023 - 12 - 31),
        ),
        (
            "en upr 2018-2023",
            Lang::En,
            Template::Upr,
            date!(2018 - 01 - 01),
            date!(2023 - 12 - 31),
        ),
        (
            "km upr 2018-2023",
            Lang::Km,
            Template::Upr,
            date!(2018 - 01 - 01),
            date!(2023 - 12 - 31),
        ),
        (
            "en country, one quarter (daily buckets)",
            Lang::En,
            Template::Country,
            date!(2023 - 07 - 01),
            date!(2023 - 09 - 30),
        ),
        (
            "en country, mid-year cut",
            Lang::En,
            Template::Country,
            date!(2023 - 01 - 01),
            date!(2023 - 06 - 30),
        ),
    ];
    for (name, lang, template, from, to) in cases {
        let o = opts(lang, template, from, to);
        let data = gather(&store, &reg, &o).await.unwrap();
        assert!(data.has_measurements, "{name}");
        let figures = data.all_figures();
        assert!(
            figures.len() >= 20,
            "{name}: only {} figures",
            figures.len()
        );
        for f in &figures {
            let want = expected(&store, &reg, &o, &f.key).await;
            assert_eq!(f.value, want, "{name}: figure {} in ReportData", f.key);
            assert!(
                f.query < data.queries.len(),
                "{name}: {} names a query",
                f.key
            );
        }
        let html = render_html(&data, &o);
        let shown = html_figures(&html);
        assert!(!shown.is_empty(), "{name}: figures in the HTML");
        for (key, value) in &shown {
            let want = expected(&store, &reg, &o, key).await;
            assert_eq!(*value, want, "{name}: figure {key} in the HTML");
        }
        if template == Template::Country {
            let keys: BTreeSet<&str> = shown.iter().map(|(k, _)| k.as_str()).collect();
            for f in &figures {
                assert!(keys.contains(f.key.as_str()), "{name}: {} is shown", f.key);
            }
        }
    }
}

#[tokio::test]
async fn demo_year_has_the_blocking_of_the_scenario_table() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(dir.path()).await;
    let reg = demo_registry();
    let o = opts(
        Lang::En,
        Template::Country,
        date!(2023 - 01 - 01),
        date!(2023 - 12 - 31),
    );
    let data = gather(&store, &reg, &o).await.unwrap();
    let v = |k: &str| data.figure(k).unwrap().value;
    // blocked at the end of 2023: all sites with a start date
    let blocked_sites = SITES
        .iter()
        .filter(|s| s.blocked_from.iter().any(Option::is_some))
        .count() as u64;
    assert_eq!(v("summary.sites_blocked"), blocked_sites);
    assert_eq!(v("summary.sites_tested"), SITES.len() as u64);
    assert_eq!(v("summary.networks_measured"), 3);
    assert_eq!(v("summary.events"), 2);
    assert_eq!(v("websites.category.NEWS"), 2);
    let pairs: usize = SITES
        .iter()
        .map(|s| s.blocked_from.iter().flatten().count())
        .sum();
    assert_eq!(data.websites.blocked.len(), pairs);
    let since: BTreeMap<(&str, u32), &str> = data
        .websites
        .blocked
        .iter()
        .map(|b| ((b.domain.as_str(), b.asn), b.since.as_str()))
        .collect();
    // the first weekly measurement on or after 1 March 2023 is Monday 6 March
    assert_eq!(since[&("news-one.example", 64500)], "2023-03-06");
    assert!(data.websites.monthly);
    assert_eq!(data.websites.buckets.len(), 12);
    // the share rises through the year
    let share =
        |i: usize| data.websites.series[i].blocked as f64 / data.websites.series[i].tested as f64;
    assert!(share(11) > share(0));
}

#[tokio::test]
async fn same_data_and_options_give_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(dir.path()).await;
    let reg = demo_registry();
    for (lang, template) in [
        (Lang::En, Template::Country),
        (Lang::Km, Template::Country),
        (Lang::En, Template::Upr),
        (Lang::Km, Template::Upr),
    ] {
        let mut o = opts(lang, template, date!(2023 - 01 - 01), date!(2023 - 12 - 31));
        o.generated_on = Some(date!(2024 - 01 - 15));
        let a = render_html(&gather(&store, &reg, &o).await.unwrap(), &o);
        let b = render_html(&gather(&store, &reg, &o).await.unwrap(), &o);
        assert_eq!(a, b, "{lang:?} {template:?}");
        assert!(a.contains("2024-01-15"));
        // the hash covers the options: another date, another hash
        o.generated_on = Some(date!(2024 - 01 - 16));
        let c = render_html(&gather(&store, &reg, &o).await.unwrap(), &o);
        let hash = |s: &str| s.split("content-hash\" content=\"").nth(1).unwrap()[..64].to_owned();
        assert_ne!(hash(&a), hash(&c));
    }
}

#[tokio::test]
async fn bad_options_are_clear_errors() {
    let store = Store::open("sqlite::memory:").await.unwrap();
    let reg = demo_registry();
    let base = opts(
        Lang::En,
        Template::Country,
        date!(2023 - 01 - 01),
        date!(2023 - 12 - 31),
    );
    type Change = Box<dyn Fn(&mut ReportOptions)>;
    let cases: Vec<(&str, Change, &str)> = vec![
        (
            "unassigned code",
            Box::new(|o| o.country = "XX".into()),
            "XX is not an assigned ISO 3166-1 country code",
        ),
        (
            "a name, not a code",
            Box::new(|o| o.country = "Cambodia".into()),
            "is not a two-letter ISO 3166-1 country code",
        ),
        (
            "empty code",
            Box::new(|o| o.country = String::new()),
            "is not a two-letter ISO 3166-1 country code",
        ),
        (
            "from after to",
            Box::new(|o| {
                o.from = date!(2024 - 01 - 01);
                o.to = date!(2023 - 01 - 01)
            }),
            "the period is empty: --from 2024-01-01 is after --to 2023-01-01",
        ),
        (
            "eleven years",
            Box::new(|o| {
                o.from = date!(2010 - 01 - 01);
                o.to = date!(2020 - 12 - 31)
            }),
            "days long; at most",
        ),
        (
            "zero word limit",
            Box::new(|o| o.word_limit = 0),
            "--word-limit: must be at least 1",
        ),
        (
            "api base not a URL",
            Box::new(|o| o.api_base = Some("javascript:alert(1)".into())),
            "must be an http(s) URL",
        ),
        (
            "internal without org",
            Box::new(|o| o.edition = Edition::OrgInternal(String::new())),
            "needs an organisation id",
        ),
    ];
    for (name, change, message) in cases {
        let mut o = base.clone();
        change(&mut o);
        let err = gather(&store, &reg, &o).await.expect_err(name);
        assert!(
            matches!(err, ReportError::BadOption { .. }),
            "{name}: {err}"
        );
        assert!(err.to_string().contains(message), "{name}: {err}");
    }
    // lower case is accepted and normalised
    let mut o = base.clone();
    o.country = "kh".into();
    assert_eq!(gather(&store, &reg, &o).await.unwrap().country, "KH");
    // parsing the CLI's words
    assert!("fr"
        .parse::<Lang>()
        .unwrap_err()
        .to_string()
        .contains("not a report language"));
    assert!("memo"
        .parse::<Template>()
        .unwrap_err()
        .to_string()
        .contains("not a template"));
}

#[tokio::test]
async fn a_period_without_data_renders_no_data_sections() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(dir.path()).await;
    for (name, reg) in [
        ("empty registry", Dataset::new()),
        ("seed registry", demo_registry()),
    ] {
        for lang in [Lang::En, Lang::Km] {
            // 1990: nothing measured, nothing documented
            let o = opts(
                lang,
                Template::Country,
                date!(1990 - 01 - 01),
                date!(1990 - 12 - 31),
            );
            let data = gather(&store, &reg, &o).await.unwrap();
            assert!(data.is_empty(), "{name}");
            assert!(
                data.warnings.iter().any(|w| w.contains("no measurements")),
                "{name}: {:?}",
                data.warnings
            );
            let html = render_html(&data, &o);
            for section in ["websites", "incidents"] {
                let start = html.find(&format!("<section id=\"{section}\">")).unwrap();
                let end = start + html[start..].find("</section>").unwrap();
                assert!(
                    html[start..end].contains("data-nodata"),
                    "{name} {lang:?}: {section} says no data"
                );
            }
            assert!(html.contains(i18n::t(lang, i18n::T::NoData)));
            let upr = ReportOptions {
                template: Template::Upr,
                ..o.clone()
            };
            let html = render_html(&data, &upr);
            assert!(
                html.contains(i18n::t(lang, i18n::T::UprNoBlocking)),
                "{name} {lang:?}"
            );
        }
    }
}

#[tokio::test]
async fn public_editions_never_show_unpublished_or_confidential_records() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(dir.path()).await;
    let reg = demo_registry();
    // records of the seed that are not public (unverified, in review)
    let hidden: Vec<&str> = reg
        .incidents
        .iter()
        .filter(|i| !i.meta.is_public())
        .map(|i| i.title.as_str())
        .collect();
    assert!(hidden.len() >= 2, "the fixture has unpublished incidents");
    for (lang, template) in [
        (Lang::En, Template::Country),
        (Lang::Km, Template::Country),
        (Lang::En, Template::Upr),
        (Lang::Km, Template::Upr),
    ] {
        let o = opts(lang, template, date!(2010 - 01 - 01), date!(2019 - 12 - 31));
        let o2 = ReportOptions {
            from: date!(2014 - 01 - 01),
            to: date!(2023 - 12 - 31),
            ..o.clone()
        };
        for o in [o, o2] {
            let data = gather(&store, &reg, &o).await.unwrap();
            let html = render_html(&data, &o);
            let json = serde_json::to_string(&data).unwrap();
            for text in [CONFIDENTIAL_MARKER, UNPUBLISHED_MARKER]
                .iter()
                .chain(hidden.iter())
            {
                assert!(
                    !html.contains(&escape(text)),
                    "{lang:?} {template:?}: {text:?} in public HTML"
                );
                assert!(
                    !json.contains(text),
                    "{lang:?} {template:?}: {text:?} in public data"
                );
            }
            assert!(!html.contains("data-watermark"));
        }
    }
    // the internal edition of the owning organisation shows them, watermarked
    let mut o = opts(
        Lang::En,
        Template::Country,
        date!(2023 - 01 - 01),
        date!(2023 - 12 - 31),
    );
    o.edition = Edition::OrgInternal(ORG.into());
    let data = gather(&store, &reg, &o).await.unwrap();
    let html = render_html(&data, &o);
    assert!(html.contains(CONFIDENTIAL_MARKER));
    assert!(html.contains(UNPUBLISHED_MARKER));
    assert!(html.contains("data-watermark"));
    assert!(html.contains("ORGANISATION-INTERNAL — NOT FOR PUBLICATION (org_demo_ngo)"));
    // the Khmer internal edition is watermarked in Khmer
    o.lang = Lang::Km;
    let html = render_html(&gather(&store, &reg, &o).await.unwrap(), &o);
    assert!(html.contains(i18n::t(Lang::Km, i18n::T::Watermark)));
    // another organisation's internal edition does not see the private case
    o.edition = Edition::OrgInternal("org_other".into());
    let html = render_html(&gather(&store, &reg, &o).await.unwrap(), &o);
    assert!(!html.contains(CONFIDENTIAL_MARKER));
}

#[tokio::test]
async fn upr_draft_has_numbered_paragraphs_citations_and_a_word_count() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(dir.path()).await;
    let reg = demo_registry();
    let cases = [
        ("individual limit", UPR_WORD_LIMIT_INDIVIDUAL, false),
        ("joint limit", UPR_WORD_LIMIT_JOINT, false),
        ("tiny limit", 50, true),
    ];
    for (name, limit, over) in cases {
        let mut o = opts(
            Lang::En,
            Template::Upr,
            date!(2019 - 01 - 01),
            date!(2023 - 12 - 31),
        );
        o.word_limit = limit;
        let data = gather(&store, &reg, &o).await.unwrap();
        let doc = layout(&data, &o);
        let wc = doc.word_count.unwrap();
        assert_eq!(wc.limit, limit);
        assert_eq!(wc.over(), over, "{name}: {} words", wc.words);
        let numbers: Vec<u32> = doc
            .sections
            .iter()
            .flat_map(|s| s.blocks.iter())
            .filter_map(|b| match b {
                Block::Numbered(n, _) => Some(*n),
                _ => None,
            })
            .collect();
        assert!(numbers.len() >= 5, "{name}");
        assert_eq!(
            numbers,
            (1..=numbers.len() as u32).collect::<Vec<_>>(),
            "{name}: consecutive"
        );
        let html = render_html(&data, &o);
        assert!(
            html.contains(&format!("Word count: {} of {limit}", wc.words)),
            "{name}"
        );
        assert_eq!(
            html.contains("role=\"alert\""),
            over,
            "{name}: warning iff over"
        );
        // earlier recommendations cited by symbol and paragraph
        assert!(html.contains("Recommendation 110.1 (A/HRC/00/0)"), "{name}");
        assert!(
            html.contains("Implement recommendation 110.1 (A/HRC/00/0)"),
            "{name}"
        );
        assert!(
            html.contains("Partly implemented (2023-06)"),
            "{name}: latest assessment"
        );
    }
    // the word count counts what is written
    assert_eq!(count_words("Of 7 websites tested, 5 were blocked."), 7);
    assert_eq!(count_words("  — ; "), 0);
}

#[tokio::test]
async fn khmer_reports_are_in_khmer_with_the_font_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(dir.path()).await;
    let reg = demo_registry();
    for template in [Template::Country, Template::Upr] {
        let o = opts(
            Lang::Km,
            template,
            date!(2023 - 01 - 01),
            date!(2023 - 12 - 31),
        );
        let html = render_html(&gather(&store, &reg, &o).await.unwrap(), &o);
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"km\">"));
        assert!(html.contains("@font-face{font-family:\"Noto Sans Khmer\""));
        // a title with a coeng (subscript) cluster: ស្ម / ត្រ
        assert!(html.contains("កម្ពុជា"), "{template:?}: country name in Khmer");
        let khmer = html
            .chars()
            .filter(|c| ('\u{1780}'..='\u{17FF}').contains(c))
            .count();
        assert!(khmer > 300, "{template:?}: {khmer} Khmer characters");
    }
    // an English report of Latin-only data does not carry the font
    let o = opts(
        Lang::En,
        Template::Country,
        date!(2023 - 01 - 01),
        date!(2023 - 12 - 31),
    );
    let html = render_html(&gather(&store, &reg, &o).await.unwrap(), &o);
    assert!(!html.contains("@font-face"));
    assert!(html.len() < 200_000, "{} bytes", html.len());
}

#[tokio::test]
async fn charts_are_inline_svg_and_every_figure_links_to_its_query() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(dir.path()).await;
    let reg = demo_registry();
    let mut o = opts(
        Lang::En,
        Template::Country,
        date!(2023 - 01 - 01),
        date!(2023 - 12 - 31),
    );
    o.api_base = Some("https://canary.example.org".into());
    let data = gather(&store, &reg, &o).await.unwrap();
    let html = render_html(&data, &o);
    let websites = &html[html.find("<section id=\"websites\">").unwrap()..];
    assert!(
        websites
            .matches("<svg xmlns=\"http://www.w3.org/2000/svg\"")
            .count()
            >= 2
    );
    assert!(websites.contains("<polyline"));
    assert!(!html.contains("<script"), "no scripts in a report");
    for (i, _) in data.queries.iter().enumerate() {
        assert!(
            html.contains(&format!("<span id=\"q{i}\">q{i}</span>")),
            "query q{i} has an anchor"
        );
    }
    for f in data.all_figures() {
        assert!(html.contains(&format!(
            "data-figure=\"{}\" data-query=\"q{}\" href=\"#q{}\"",
            f.key, f.query, f.query
        )));
    }
    assert!(html.contains("/api/v1/countries/KH/blocked?from=2023-01-01&amp;to=2023-12-31"));
}

#[tokio::test]
async fn reports_over_the_web_demo_dataset_match_the_store() {
    // the web UI's demo: the censorship lab's scenarios as full
    // web_connectivity measurements, verdicts by canary-analysis, events
    // by its CUSUM detector
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("web-demo.db").display()
    );
    let store = Store::open(&url).await.unwrap();
    canary_web::demo::load(&store).await.unwrap();
    let reg = canary_registry::seed::kh();
    for (lang, template) in [
        (Lang::En, Template::Country),
        (Lang::Km, Template::Country),
        (Lang::En, Template::Upr),
        (Lang::Km, Template::Upr),
    ] {
        let o = opts(lang, template, date!(2018 - 01 - 01), date!(2024 - 12 - 31));
        let data = gather(&store, &reg, &o).await.unwrap();
        assert!(data.has_measurements);
        assert!(
            !data.incidents.incidents.is_empty(),
            "seed incidents 2018-2023"
        );
        assert!(data.figure("summary.sites_blocked").unwrap().value > 0);
        assert!(
            data.figure("summary.events").unwrap().value > 0,
            "CUSUM events"
        );
        assert!(
            !data.methodology.fingerprints.is_empty(),
            "blockpage fingerprints matched"
        );
        for f in data.all_figures() {
            let want = expected(&store, &reg, &o, &f.key).await;
            assert_eq!(f.value, want, "{lang:?} {template:?}: {}", f.key);
        }
        let html = render_html(&data, &o);
        for (key, value) in html_figures(&html) {
            assert_eq!(
                value,
                expected(&store, &reg, &o, &key).await,
                "{lang:?} {template:?}: {key} in HTML"
            );
        }
    }
}

#[tokio::test]
async fn an_empty_registry_is_said_to_document_nothing_yet_rather_than_nothing_this_period() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(dir.path()).await;
    let empty = Dataset::default();
    let seeded = demo_registry();
    for lang in [Lang::En, Lang::Km] {
        for template in [Template::Country, Template::Upr] {
            let o = opts(lang, template, date!(2023 - 01 - 01), date!(2023 - 12 - 31));
            let data = gather(&store, &empty, &o).await.unwrap();
            assert!(data.registry_empty);
            assert!(data.has_measurements, "measurements are still reported");
            assert!(
                data.warnings.iter().any(|w| w.contains("canary seed kh")),
                "{:?}",
                data.warnings
            );
            let html = render_html(&data, &o);
            let said = i18n::t(lang, i18n::T::RegistryEmpty);
            assert!(html.contains(said), "{lang:?} {template:?}");
            // a registry with records, but none in the period: "no data"
            let o = opts(lang, template, date!(1990 - 01 - 01), date!(1990 - 12 - 31));
            let data = gather(&store, &seeded, &o).await.unwrap();
            assert!(!data.registry_empty);
            assert!(data.incidents.incidents.is_empty());
            let html = render_html(&data, &o);
            assert!(!html.contains(said), "{lang:?} {template:?}");
        }
    }
}
