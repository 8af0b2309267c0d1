//! Reports from the web UI (`/reports`), against a real server on
//! loopback over the demo dataset: who may make them, what they contain,
//! how PDF bytes pass through, and the error page for bad options.

mod common;

use std::sync::Arc;

use canary_registry::{FieldKey, KeyRing};
use canary_report::{Edition, Lang, ReportOptions};
use canary_store::Store;
use canary_web::accounts::{create_user, PasswordParams, Role};
use canary_web::PdfRenderer;
use common::{Client, Resp, TestServer, PASSWORD};
use reqwest::StatusCode;
use time::macros::date;
use time::OffsetDateTime;

/// A server with the demo measurements and the Cambodia seed registry in
/// its store (for the tests that check what a report says).
async fn server(pdf: Option<PdfRenderer>) -> TestServer {
    let server = common::start_with(true, |cfg| cfg.pdf = pdf).await;
    let ring = KeyRing::new(FieldKey::generate(1).expect("key"));
    let mut seed = canary_registry::seed::kh();
    seed.seal_all(&ring).expect("sealed");
    server
        .store
        .registry_import(&seed, "seed", canary_registry::seed::SEED_AT)
        .await
        .expect("seed registry stored");
    server
}

/// A server over an empty store (for the tests of access and options,
/// which need no data: an empty store still gives a report).
async fn bare_server() -> TestServer {
    common::start_with(false, |_| {}).await
}

async fn user(server: &TestServer, name: &str, role: Role, org: Option<&str>) -> Client {
    create_user(
        &server.store,
        name,
        PASSWORD,
        role,
        org,
        &PasswordParams::insecure_for_tests(),
    )
    .await
    .expect("user");
    let mut c = Client::new(server);
    let r = c.login(name, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{name} logs in");
    c
}

/// The demo month, in the form's words.
const MONTH: [(&str, &str); 3] = [
    ("country", "KH"),
    ("from", "2024-10-01"),
    ("to", "2024-10-30"),
];

/// Opens the form and posts it with `fields` (after the demo month).
async fn make(c: &mut Client, fields: &[(&str, &str)]) -> Resp {
    let page = c.get("/reports").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = Client::csrf(&page.body);
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    form.extend(MONTH);
    form.extend(fields);
    c.post_form("/reports", &form).await
}

/// The options the server uses for the demo month and `lang`, asked of
/// the report crate directly.
fn options(lang: Lang, author: &str, edition: Edition) -> ReportOptions {
    let mut o = ReportOptions::new("KH", date!(2024 - 10 - 01), date!(2024 - 10 - 30));
    o.lang = lang;
    o.author = author.into();
    o.edition = edition;
    o.generated_on = Some(OffsetDateTime::now_utc().date());
    o
}

async fn expected_html(store: &Store, o: &ReportOptions) -> String {
    let registry = store.registry_load().await.expect("registry");
    let data = canary_report::gather(store, &registry, o)
        .await
        .expect("gather");
    canary_report::render_html(&data, o)
}

/// `data-figure="KEY" …>VALUE<` pairs of a rendered report.
fn html_figures(html: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("data-figure=\"") {
        rest = &rest[i + 13..];
        let end = rest.find('"').expect("closing quote");
        let key = rest[..end].to_owned();
        let gt = rest.find('>').expect("tag end");
        let lt = rest[gt..].find('<').expect("text end") + gt;
        let value: u64 = rest[gt + 1..lt].parse().expect("a figure is an integer");
        out.push((key, value));
        rest = &rest[lt..];
    }
    out
}

fn khmer_chars(s: &str) -> usize {
    s.chars()
        .filter(|c| ('\u{1780}'..='\u{17FF}').contains(c))
        .count()
}

#[tokio::test]
async fn an_analyst_downloads_the_report_with_the_stores_figures_in_english_and_khmer() {
    let server = server(None).await;
    let mut analyst = user(&server, "ana", Role::Analyst, Some("org_a")).await;
    let f = canary_store::Filters {
        from: Some(date!(2024 - 10 - 01).midnight().assume_utc()),
        to: Some(date!(2024 - 10 - 31).midnight().assume_utc()),
        ..canary_store::Filters::default()
    };
    let summary = server
        .store
        .country_summary("KH", &f)
        .await
        .expect("summary");
    assert!(summary.sites_blocked > 0, "the demo month has blocking");
    for (code, lang) in [("en", Lang::En), ("km", Lang::Km)] {
        let r = make(&mut analyst, &[("lang", code), ("format", "html")]).await;
        assert_eq!(r.status, StatusCode::OK, "{code}: {}", r.body);
        assert_eq!(r.headers["content-type"], "text/html; charset=utf-8");
        assert_eq!(
            r.headers["content-disposition"],
            format!("attachment; filename=\"canary-report-KH-2024-10-01-2024-10-30-{code}.html\"")
        );
        assert_eq!(r.headers["cache-control"], "private, no-store");
        // The same bytes as the report crate makes from the same store.
        let want = expected_html(&server.store, &options(lang, "org_a", Edition::Public)).await;
        assert!(
            r.body == want,
            "{code}: the web report is the library's report"
        );
        // And its figures are the store's answers.
        let figures: std::collections::BTreeMap<String, u64> =
            html_figures(&r.body).into_iter().collect();
        assert_eq!(figures["summary.sites_tested"], summary.sites_tested);
        assert_eq!(figures["summary.sites_blocked"], summary.sites_blocked);
        assert_eq!(figures["summary.measurements"], summary.measurements);
        assert_eq!(
            figures["summary.blocked_measurements"],
            summary.blocked_measurements
        );
        if lang == Lang::Km {
            assert!(khmer_chars(&r.body) > 100, "the Khmer report is in Khmer");
        }
    }
}

#[tokio::test]
async fn the_form_is_in_the_visitors_language_and_offers_pdf_only_when_the_server_can_make_it() {
    let server = bare_server().await;
    let mut analyst = user(&server, "ana", Role::Analyst, Some("org_a")).await;
    let en = analyst.get("/reports?lang=en").await;
    assert_eq!(en.status, StatusCode::OK);
    assert!(en.body.contains("Make a report"));
    assert!(
        en.body.contains("href=\"/reports\""),
        "the navigation links here"
    );
    assert!(
        !en.body.contains("value=\"pdf\""),
        "no PDF without a renderer"
    );
    assert!(en.body.contains("PDF is not available on this server"));
    assert!(
        en.body.contains("org_a"),
        "the internal edition names the user's organisation"
    );
    let km = analyst.get("/reports?lang=km").await;
    assert!(km.body.contains("បង្កើតរបាយការណ៍"));

    let with_pdf = common::start_with(false, |cfg| cfg.pdf = Some(fake_pdf())).await;
    let mut analyst = user(&with_pdf, "ana", Role::Analyst, Some("org_a")).await;
    let page = analyst.get("/reports").await;
    assert!(page.body.contains("value=\"pdf\""));
}

#[tokio::test]
async fn viewers_and_anonymous_visitors_are_refused() {
    let server = bare_server().await;
    let mut anonymous = Client::new(&server);
    let r = anonymous.get("/reports").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = anonymous
        .post_form(
            "/reports",
            &[
                ("country", "KH"),
                ("from", "2024-10-01"),
                ("to", "2024-10-30"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(!r.body.contains("data-figure"));

    let mut viewer = user(&server, "vic", Role::Viewer, Some("org_a")).await;
    let page = viewer.get("/reports").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let home = viewer.get("/").await;
    assert!(
        !home.body.contains("href=\"/reports\""),
        "no link for viewers"
    );
    // even with a valid CSRF token from another page
    let csrf = Client::csrf(&home.body);
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend(MONTH);
    let r = viewer.post_form("/reports", &form).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!r.body.contains("data-figure"));

    let mut admin = user(&server, "adm", Role::Admin, Some("org_a")).await;
    let r = make(&mut admin, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "administrators may make reports");
}

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused() {
    let server = bare_server().await;
    let mut analyst = user(&server, "ana", Role::Analyst, Some("org_a")).await;
    let r = analyst.post_form("/reports", &MONTH).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut form = vec![("csrf", "0".repeat(64))];
    form.extend(MONTH.iter().map(|(k, v)| (*k, v.to_string())));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = analyst.post_form("/reports", &form).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_internal_edition_is_only_for_the_requesters_own_organisation() {
    let server = server(None).await;
    let mut analyst = user(&server, "ana", Role::Analyst, Some("org_a")).await;
    // Another organisation's edition: refused, whatever the form says.
    let r = make(&mut analyst, &[("edition", "internal"), ("org", "org_b")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r
        .body
        .contains("only make the internal edition of your own organisation"));
    assert!(!r.body.contains("data-figure"));
    // Its own: watermarked, named, the library's bytes.
    let r = make(&mut analyst, &[("edition", "internal"), ("org", "org_a")]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-disposition"]
        .to_str()
        .expect("ascii")
        .contains("-internal.html"));
    let want = expected_html(
        &server.store,
        &options(Lang::En, "org_a", Edition::OrgInternal("org_a".into())),
    )
    .await;
    assert!(r.body == want, "the internal edition of org_a");
    assert!(r.body.contains("org_a"));
    // The report made is in the audit log, with their edition and the
    // hash of the bytes sent; the refused one is not.
    let log = server.store.registry_audit(0, 10_000).await.expect("audit");
    let reports: Vec<_> = log
        .iter()
        .filter(|e| e.details.starts_with("report from the web UI"))
        .collect();
    assert_eq!(reports.len(), 1, "{reports:?}");
    let e = reports[0];
    assert_eq!(e.actor, "ana");
    assert_eq!(e.action, canary_registry::AuditAction::Export);
    assert_eq!(
        e.object,
        "canary-report-KH-2024-10-01-2024-10-30-en-internal.html"
    );
    assert!(
        e.details.contains("edition=internal:org_a"),
        "{}",
        e.details
    );
    {
        use sha2::Digest as _;
        let sha = hex::encode(sha2::Sha256::digest(r.body.as_bytes()));
        assert!(e.details.contains(&sha), "the hash of what was sent");
    }
    // An account without an organisation has no internal edition.
    let mut loner = user(&server, "lou", Role::Analyst, None).await;
    let r = make(&mut loner, &[("edition", "internal")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = make(&mut loner, &[("edition", "internal"), ("org", "org_a")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// A renderer that returns fixed bytes (not UTF-8) naming what it was given.
fn fake_pdf() -> PdfRenderer {
    PdfRenderer(Arc::new(|data, opts| {
        let mut b = b"%PDF-fake\n\xff\xfe\x00".to_vec();
        b.extend(
            format!(
                "{} {} {} {}",
                data.country,
                opts.lang.code(),
                data.figure("summary.sites_tested").map_or(0, |f| f.value),
                opts.edition == Edition::Public
            )
            .bytes(),
        );
        Ok(b)
    }))
}

async fn server_with_fake_pdf() -> TestServer {
    server(Some(fake_pdf())).await
}

#[tokio::test]
async fn pdf_bytes_from_the_renderer_are_passed_through_as_a_pdf_download() {
    let server = server_with_fake_pdf().await;
    let mut analyst = user(&server, "ana", Role::Analyst, Some("org_a")).await;
    let page = analyst.get("/reports").await;
    let csrf = Client::csrf(&page.body);
    // raw bytes: the common client reads text
    let resp = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .post(format!("{}/reports", server.base))
        .header(
            "cookie",
            analyst
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf={csrf}&country=KH&from=2024-10-01&to=2024-10-30&lang=km&format=pdf"
        ))
        .send()
        .await
        .expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    assert_eq!(
        resp.headers()["content-disposition"],
        "attachment; filename=\"canary-report-KH-2024-10-01-2024-10-30-km.pdf\""
    );
    let body = resp.bytes().await.expect("body");
    let f = canary_store::Filters {
        from: Some(date!(2024 - 10 - 01).midnight().assume_utc()),
        to: Some(date!(2024 - 10 - 31).midnight().assume_utc()),
        ..canary_store::Filters::default()
    };
    let tested = server
        .store
        .country_summary("KH", &f)
        .await
        .expect("summary")
        .sites_tested;
    let mut want = b"%PDF-fake\n\xff\xfe\x00".to_vec();
    want.extend(format!("KH km {tested} true").bytes());
    assert_eq!(body.as_ref(), want.as_slice());
}

#[tokio::test]
async fn a_pdf_request_to_a_server_without_pdf_support_gets_a_clear_message() {
    let server = bare_server().await;
    let mut analyst = user(&server, "ana", Role::Analyst, Some("org_a")).await;
    let r = make(&mut analyst, &[("format", "pdf")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r
        .body
        .contains("PDF is not available on this server: choose HTML."));
    assert!(r.body.contains("name=\"csrf\""), "the form is shown again");
}

#[tokio::test]
async fn bad_options_show_the_form_again_with_the_reason() {
    let server = bare_server().await;
    let mut analyst = user(&server, "ana", Role::Analyst, Some("org_a")).await;
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("country", "XX")],
            "the country is not a two-letter ISO 3166-1 code in use",
        ),
        (
            &[("country", "Kambodscha")],
            "the country is not a two-letter ISO 3166-1 code in use",
        ),
        (
            &[("from", "2024-10-31"), ("to", "2024-10-01")],
            "the period is empty, inverted or too long",
        ),
        (
            &[("from", "1990-01-01")],
            "the period is empty, inverted or too long",
        ),
        (
            &[("to", "")],
            "a date is missing or not written as YYYY-MM-DD",
        ),
        (
            &[("from", "31/10/2024")],
            "a date is missing or not written as YYYY-MM-DD",
        ),
        (&[("lang", "fr")], "the language must be English or Khmer"),
        (
            &[("template", "memo")],
            "the document must be a country report or a UPR draft",
        ),
        (&[("format", "docx")], "the format must be HTML or PDF"),
        (
            &[("word_limit", "0")],
            "the word limit must be a whole number",
        ),
        (
            &[("edition", "everyone")],
            "the edition must be public or internal",
        ),
    ];
    for (fields, message) in cases {
        let page = analyst.get("/reports?lang=en").await;
        let csrf = Client::csrf(&page.body);
        let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        for (k, v) in MONTH {
            if !fields.iter().any(|(fk, _)| *fk == k) {
                form.push((k, v));
            }
        }
        form.extend(fields.iter().copied());
        let r = analyst.post_form("/reports", &form).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{fields:?}");
        assert!(r.body.contains(message), "{fields:?}: {}", r.body);
        assert!(!r.body.contains("data-figure"), "{fields:?}");
    }
    // in Khmer too
    let page = analyst.get("/reports?lang=km").await;
    let csrf = Client::csrf(&page.body);
    let r = analyst
        .post_form(
            "/reports",
            &[
                ("csrf", &csrf),
                ("country", "XX"),
                ("from", "2024-10-01"),
                ("to", "2024-10-30"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("ប្រទេសមិនមែនជាលេខកូដ ISO 3166-1"));
}

#[tokio::test]
async fn an_oversized_form_is_refused_before_it_is_read() {
    let server = bare_server().await;
    let mut analyst = user(&server, "ana", Role::Analyst, Some("org_a")).await;
    let page = analyst.get("/reports").await;
    let csrf = Client::csrf(&page.body);
    let long = "a".repeat(20 * 1024);
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf), ("author", &long)];
    form.extend(MONTH);
    let r = analyst.post_form("/reports", &form).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn more_requests_than_report_slots_wait_their_turn_and_all_succeed() {
    let server = bare_server().await;
    let mut analyst = user(&server, "ana", Role::Analyst, Some("org_a")).await;
    let page = analyst.get("/reports").await;
    let csrf = Client::csrf(&page.body);
    // five at once (the slots are MAX_CONCURRENT_REPORTS = 2), polled
    // together; the server works on them in its own tasks
    let one = |lang: &'static str| {
        let mut c = Client::new(&server);
        c.cookies = analyst.cookies.clone();
        let csrf = csrf.clone();
        async move {
            let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf), ("lang", lang)];
            form.extend(MONTH);
            let r = c.post_form("/reports", &form).await;
            (
                r.status,
                r.body.contains("data-figure=\"summary.sites_tested\""),
            )
        }
    };
    let all = tokio::join!(one("en"), one("km"), one("en"), one("km"), one("en"));
    for r in [all.0, all.1, all.2, all.3, all.4] {
        assert_eq!(r, (StatusCode::OK, true));
    }
}

#[tokio::test]
async fn an_administrator_has_no_other_organisations_internal_edition_either() {
    let server = bare_server().await;
    let mut admin = user(&server, "adm", Role::Admin, Some("org_a")).await;
    let r = make(
        &mut admin,
        &[("edition", "internal"), ("org", "org_b"), ("lang", "km")],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!r.body.contains("data-figure"));
    let r = make(&mut admin, &[("edition", "internal"), ("org", "org_a")]).await;
    assert_eq!(r.status, StatusCode::OK);
}
