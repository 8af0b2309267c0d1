//! Reports from the web UI, for analysts.
//!
//! `GET /reports` shows a form (country, period, language, format,
//! template, UPR word limit, author, edition); `POST /reports` makes the
//! report with [`canary_report::gather`] over the server's store and the
//! documentation registry kept in the same store (the same sources as
//! `canary report --registry store`), and returns it as a download.
//!
//! * **Who**: analysts and administrators. Anonymous visitors get `401`,
//!   viewers `403` (the conventions of every other page).
//! * **Why POST**: the form carries the session's CSRF token, so another
//!   site cannot make a logged-in analyst's browser generate reports
//!   (expensive, and an internal edition is confidential); the options
//!   stay out of URLs, logs and browser history.
//! * **Editions**: the public edition shows only published records. The
//!   organisation-internal edition is always for the *requester's own*
//!   organisation (their account's `org`): a form that names another
//!   organisation is refused with `403`, and an account without an
//!   organisation cannot ask for one. It is watermarked on every page.
//! * **Formats**: HTML (one self-contained file) or PDF through
//!   [`crate::WebConfig::pdf`] (the binary supplies typst when built with
//!   its `pdf` feature). Without a renderer the form offers HTML only and
//!   a PDF request is answered with a clear message.
//! * **Audited**: every report made is appended to the registry's audit
//!   log (action `export`, the requester, the file name, edition,
//!   template, language, format and the SHA-256 of the bytes) before it is
//!   sent; if the entry cannot be written, the report is not sent.
//! * **Downloads, not pages**: the report is sent as an attachment
//!   (`Content-Disposition: attachment`, `Cache-Control: no-store`). Its
//!   inline CSS and embedded Khmer font are exactly what the explorer's
//!   strict Content-Security-Policy forbids, and a saved file is what the
//!   coalition shares and archives anyway.
//! * **Bounded**: the form body is capped ([`MAX_FORM_BYTES`]), the
//!   period by [`canary_report::MAX_RANGE_DAYS`], the word limit by
//!   [`MAX_WORD_LIMIT`], the output by [`MAX_REPORT_BYTES`]; at most
//!   [`MAX_CONCURRENT_REPORTS`] reports are made at once (others wait,
//!   within the server's request timeout); typesetting runs off the async
//!   workers. Bad options (unknown country, inverted or empty period,
//!   unparsable dates, …) show the form again with a `400` and the reason.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use canary_registry::AuditAction;
use canary_report::{Edition, Lang as ReportLang, ReportError, ReportOptions, Template};
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};
use tokio::sync::Semaphore;
use tracing::{error, info};

use crate::accounts::Role;
use crate::server::{Ctx, Fail, Shared};

/// This area's templates, by name.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[(
    "report_form.html",
    include_str!("../templates/report_form.html"),
)];

/// Largest report form body, in bytes.
pub const MAX_FORM_BYTES: usize = 16 * 1024;
/// Largest report returned, in bytes (the gatherer caps its tables, so a
/// real report is far smaller; this is the last line of defence).
pub const MAX_REPORT_BYTES: usize = 32 * 1024 * 1024;
/// Reports made at the same time by one process.
pub const MAX_CONCURRENT_REPORTS: usize = 2;
/// Highest UPR word limit the form accepts.
pub const MAX_WORD_LIMIT: u32 = 100_000;

static GENERATING: Semaphore = Semaphore::const_new(MAX_CONCURRENT_REPORTS);

/// This area's routes (each sets its own body limit).
pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/reports", get(form_page).post(generate))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
}

/// The form as submitted (every field optional, all text: parsed by
/// [`ReportForm::options`]).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
struct ReportForm {
    #[serde(default, skip_serializing)]
    csrf: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    template: String,
    #[serde(default)]
    word_limit: String,
    #[serde(default)]
    author: String,
    /// `public` or `internal`.
    #[serde(default)]
    edition: String,
    /// The organisation of an internal edition, when the form names one:
    /// it must be the requester's own.
    #[serde(default)]
    org: String,
}

/// Why a form was refused: a catalog key, the specifics, and the status.
#[derive(Debug)]
struct Problem {
    status: StatusCode,
    key: &'static str,
    detail: Option<String>,
}

impl Problem {
    fn bad(key: &'static str, detail: impl Into<String>) -> Self {
        Problem {
            status: StatusCode::BAD_REQUEST,
            key,
            detail: Some(detail.into()),
        }
    }
}

/// What to make.
struct Request {
    options: ReportOptions,
    pdf: bool,
}

fn parse_date(s: &str, field: &'static str) -> Result<Date, Problem> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), format)
        .map_err(|_| Problem::bad("report_error_date", format!("{field}: {:?}", clip(s, 40))))
}

fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

impl ReportForm {
    /// Parses and checks the options for `user_org` (the requester's
    /// organisation). Everything [`ReportOptions::validate`] checks is
    /// checked here too, so that problems show in the form.
    fn options(&self, user_org: Option<&str>, today: Date) -> Result<Request, Problem> {
        let from = parse_date(&self.from, "from")?;
        let to = parse_date(&self.to, "to")?;
        let mut o = ReportOptions::new(self.country.trim(), from, to);
        o.lang = match self.lang.trim() {
            "" | "en" => ReportLang::En,
            "km" => ReportLang::Km,
            other => return Err(Problem::bad("report_error_lang", clip(other, 20))),
        };
        o.template = match self.template.trim() {
            "" | "country" => Template::Country,
            "upr" => Template::Upr,
            other => return Err(Problem::bad("report_error_template", clip(other, 20))),
        };
        let pdf = match self.format.trim() {
            "" | "html" => false,
            "pdf" => true,
            other => return Err(Problem::bad("report_error_format", clip(other, 20))),
        };
        if !self.word_limit.trim().is_empty() {
            o.word_limit = self
                .word_limit
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|w| (1..=MAX_WORD_LIMIT).contains(w))
                .ok_or_else(|| {
                    Problem::bad(
                        "report_error_word_limit",
                        format!("1–{MAX_WORD_LIMIT}: {:?}", clip(&self.word_limit, 20)),
                    )
                })?;
        }
        let author = self.author.trim();
        if !author.is_empty() {
            o.author = author.to_owned();
        } else if let Some(org) = user_org {
            o.author = org.to_owned();
        }
        o.edition = match self.edition.trim() {
            "" | "public" => Edition::Public,
            "internal" => {
                let Some(own) = user_org else {
                    return Err(Problem {
                        status: StatusCode::FORBIDDEN,
                        key: "report_error_no_org",
                        detail: None,
                    });
                };
                let named = self.org.trim();
                if !named.is_empty() && named != own {
                    return Err(Problem {
                        status: StatusCode::FORBIDDEN,
                        key: "report_error_other_org",
                        detail: None,
                    });
                }
                Edition::OrgInternal(own.to_owned())
            }
            other => return Err(Problem::bad("report_error_edition", clip(other, 20))),
        };
        o.generated_on = Some(today);
        o.validate().map_err(problem_of)?;
        Ok(Request { options: o, pdf })
    }
}

/// The form's words for a report option the report crate refused.
fn problem_of(e: ReportError) -> Problem {
    match e {
        ReportError::BadOption { option, message } => {
            let key = match option {
                "--country" => "report_error_country",
                "--from/--to" => "report_error_period",
                "--word-limit" => "report_error_word_limit",
                "--author" => "report_error_author",
                "--edition" => "report_error_edition",
                _ => "error_bad_request",
            };
            Problem::bad(key, message)
        }
        other => {
            error!(error = %other, "report failed");
            Problem {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                key: "error_internal",
                detail: None,
            }
        }
    }
}

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// The user's organisation, when the account names one.
fn user_org(ctx: &Ctx) -> Option<String> {
    ctx.user
        .as_ref()
        .and_then(|u| u.org.as_deref())
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
}

fn render_form(
    s: &Shared,
    ctx: &Ctx,
    form: &ReportForm,
    problem: Option<&Problem>,
) -> Result<Response, Fail> {
    let mut resp = ctx.render(
        "report_form.html",
        context! {
            form => Value::from_serialize(form),
            org => user_org(ctx),
            pdf_available => s.cfg.pdf.is_some(),
            max_word_limit => MAX_WORD_LIMIT,
            problem => problem.map(|p| p.key),
            problem_detail => problem.and_then(|p| p.detail.clone()),
        },
    )?;
    if let Some(p) = problem {
        *resp.status_mut() = p.status;
    }
    Ok(resp)
}

fn day(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

async fn form_page(State(s): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    let lang = ctx.lang;
    ctx.require(Some(Role::Analyst)).map_err(|f| f.html(lang))?;
    let to = today();
    let form = ReportForm {
        country: "KH".into(),
        from: day(to - Duration::days(89)),
        to: day(to),
        lang: lang.code().into(),
        format: "html".into(),
        template: "country".into(),
        edition: "public".into(),
        ..ReportForm::default()
    };
    render_form(&s, &ctx, &form, None).map_err(|f| f.html(lang))
}

async fn generate(
    State(s): State<Shared>,
    ctx: Ctx,
    Form(form): Form<ReportForm>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    ctx.require(Some(Role::Analyst)).map_err(|f| f.html(lang))?;
    ctx.check_csrf(&form.csrf)?;
    let org = user_org(&ctx);
    let req = match form.options(org.as_deref(), today()) {
        Ok(r) => r,
        Err(p) if p.status == StatusCode::FORBIDDEN => {
            return Err(Fail::new(StatusCode::FORBIDDEN, p.key).html(lang))
        }
        Err(p) => return render_form(&s, &ctx, &form, Some(&p)).map_err(|f| f.html(lang)),
    };
    let renderer = if req.pdf {
        match &s.cfg.pdf {
            Some(r) => Some(r.clone()),
            None => {
                let p = Problem {
                    status: StatusCode::BAD_REQUEST,
                    key: "report_error_pdf_unavailable",
                    detail: None,
                };
                return render_form(&s, &ctx, &form, Some(&p)).map_err(|f| f.html(lang));
            }
        }
    } else {
        None
    };
    let permit = GENERATING
        .acquire()
        .await
        .map_err(|_| Fail::new(StatusCode::SERVICE_UNAVAILABLE, "error_internal").html(lang))?;
    let registry = load_registry(&s).await.map_err(|f| f.html(lang))?;
    let options = req.options;
    let data = match canary_report::gather(&s.cfg.store, &registry, &options).await {
        Ok(d) => d,
        Err(e) => {
            let p = problem_of(e);
            return render_form(&s, &ctx, &form, Some(&p)).map_err(|f| f.html(lang));
        }
    };
    let pdf = renderer.is_some();
    let opts = options.clone();
    // The slot goes with the typesetting: if the request times out, the
    // blocking work still runs to its end and keeps its slot until then.
    let made = tokio::task::spawn_blocking(move || {
        let _slot = permit;
        match renderer {
            Some(r) => (r.0)(&data, &opts),
            None => Ok(canary_report::render_html(&data, &opts).into_bytes()),
        }
    })
    .await;
    let bytes = match made {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => {
            let p = problem_of(e);
            return render_form(&s, &ctx, &form, Some(&p)).map_err(|f| f.html(lang));
        }
        Err(e) => {
            error!(error = %e, "report task failed");
            return Err(Fail::new(StatusCode::INTERNAL_SERVER_ERROR, "error_internal").html(lang));
        }
    };
    if bytes.len() > MAX_REPORT_BYTES {
        let p = Problem::bad(
            "report_error_too_large",
            format!("{} > {MAX_REPORT_BYTES} bytes", bytes.len()),
        );
        return render_form(&s, &ctx, &form, Some(&p)).map_err(|f| f.html(lang));
    }
    // Audited like any registry export, before it leaves: no entry, no report.
    let actor = ctx.user.as_ref().map(|u| u.name.as_str()).unwrap_or("");
    s.cfg
        .store
        .registry_audit_append(
            actor,
            AuditAction::Export,
            &file_name(&options, pdf),
            OffsetDateTime::now_utc(),
            &audit_details(&options, pdf, &bytes),
        )
        .await
        .map_err(|e| Fail::from(e).html(lang))?;
    info!(
        user = actor,
        country = %options.country,
        internal = matches!(options.edition, Edition::OrgInternal(_)),
        pdf,
        bytes = bytes.len(),
        "report made"
    );
    Ok(ctx.finish(download(&options, pdf, bytes)))
}

/// What the audit log keeps of a report: how it was made and the SHA-256
/// of the bytes sent.
fn audit_details(o: &ReportOptions, pdf: bool, bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let edition = match &o.edition {
        Edition::Public => "public".to_owned(),
        Edition::OrgInternal(org) => format!("internal:{org}"),
    };
    let template = match o.template {
        Template::Country => "country",
        Template::Upr => "upr",
    };
    format!(
        "report from the web UI: edition={edition} template={template} lang={} format={} bytes={} sha256={}",
        o.lang.code(),
        if pdf { "pdf" } else { "html" },
        bytes.len(),
        hex::encode(sha2::Sha256::digest(bytes)),
    )
}

/// The file name of a report: what, where, when, language, edition.
fn file_name(o: &ReportOptions, pdf: bool) -> String {
    let template = match o.template {
        Template::Country => "report",
        Template::Upr => "upr",
    };
    let internal = match o.edition {
        Edition::Public => "",
        Edition::OrgInternal(_) => "-internal",
    };
    format!(
        "canary-{template}-{}-{}-{}-{}{internal}.{}",
        o.country,
        day(o.from),
        day(o.to),
        o.lang.code(),
        if pdf { "pdf" } else { "html" }
    )
}

fn download(o: &ReportOptions, pdf: bool, bytes: Vec<u8>) -> Response {
    let content_type = if pdf {
        "application/pdf"
    } else {
        "text/html; charset=utf-8"
    };
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The name is ASCII letters, digits, '-' and '.' only (the country is
    // validated, dates are formatted here).
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file_name(o, pdf)))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    resp
}

/// The documentation registry kept in the server's store.
async fn load_registry(s: &Shared) -> Result<canary_registry::Dataset, Fail> {
    s.cfg.store.registry_load().await.map_err(Fail::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn form(pairs: &[(&str, &str)]) -> ReportForm {
        let mut f = ReportForm {
            country: "KH".into(),
            from: "2024-10-01".into(),
            to: "2024-10-31".into(),
            ..ReportForm::default()
        };
        for (k, v) in pairs {
            let v = (*v).to_owned();
            match *k {
                "country" => f.country = v,
                "from" => f.from = v,
                "to" => f.to = v,
                "lang" => f.lang = v,
                "format" => f.format = v,
                "template" => f.template = v,
                "word_limit" => f.word_limit = v,
                "edition" => f.edition = v,
                "org" => f.org = v,
                "author" => f.author = v,
                other => panic!("no field {other}"),
            }
        }
        f
    }

    #[test]
    fn bad_options_name_their_catalog_message() {
        let today = date!(2026 - 11 - 29);
        type Case<'a> = (&'a [(&'a str, &'a str)], StatusCode, &'a str);
        let cases: &[Case] = &[
            (
                &[("country", "XX")],
                StatusCode::BAD_REQUEST,
                "report_error_country",
            ),
            (
                &[("country", "Cambodia")],
                StatusCode::BAD_REQUEST,
                "report_error_country",
            ),
            (
                &[("from", "2024-11-01")],
                StatusCode::BAD_REQUEST,
                "report_error_period",
            ),
            (
                &[("from", "1990-01-01")],
                StatusCode::BAD_REQUEST,
                "report_error_period",
            ),
            (
                &[("from", "01/10/2024")],
                StatusCode::BAD_REQUEST,
                "report_error_date",
            ),
            (&[("to", "")], StatusCode::BAD_REQUEST, "report_error_date"),
            (
                &[("lang", "fr")],
                StatusCode::BAD_REQUEST,
                "report_error_lang",
            ),
            (
                &[("format", "docx")],
                StatusCode::BAD_REQUEST,
                "report_error_format",
            ),
            (
                &[("template", "memo")],
                StatusCode::BAD_REQUEST,
                "report_error_template",
            ),
            (
                &[("word_limit", "0")],
                StatusCode::BAD_REQUEST,
                "report_error_word_limit",
            ),
            (
                &[("word_limit", "many")],
                StatusCode::BAD_REQUEST,
                "report_error_word_limit",
            ),
            (
                &[("word_limit", "100001")],
                StatusCode::BAD_REQUEST,
                "report_error_word_limit",
            ),
            (
                &[("edition", "secret")],
                StatusCode::BAD_REQUEST,
                "report_error_edition",
            ),
            (
                &[("edition", "internal"), ("org", "org_b")],
                StatusCode::FORBIDDEN,
                "report_error_other_org",
            ),
        ];
        for (pairs, status, key) in cases {
            let p = match form(pairs).options(Some("org_a"), today) {
                Ok(_) => panic!("{pairs:?} accepted"),
                Err(p) => p,
            };
            assert_eq!((p.status, p.key), (*status, *key), "{pairs:?}");
        }
        let p = match form(&[("edition", "internal")]).options(None, today) {
            Ok(_) => panic!("an internal edition without an organisation"),
            Err(p) => p,
        };
        assert_eq!(
            (p.status, p.key),
            (StatusCode::FORBIDDEN, "report_error_no_org")
        );
    }

    #[test]
    fn the_internal_edition_is_always_the_requesters_own_organisation() {
        let today = date!(2026 - 11 - 29);
        for named in ["", "org_a"] {
            let r = form(&[("edition", "internal"), ("org", named)])
                .options(Some("org_a"), today)
                .unwrap_or_else(|p| panic!("{named:?}: {p:?}"));
            assert_eq!(r.options.edition, Edition::OrgInternal("org_a".into()));
        }
        let r = form(&[]).options(Some("org_a"), today).expect("defaults");
        assert_eq!(r.options.edition, Edition::Public);
        assert_eq!(
            r.options.author, "org_a",
            "the author defaults to the organisation"
        );
        assert_eq!(r.options.generated_on, Some(today));
        assert!(!r.pdf);
    }

    #[test]
    fn file_names_say_what_the_report_is() {
        let today = date!(2026 - 11 - 29);
        let r = form(&[
            ("lang", "km"),
            ("template", "upr"),
            ("edition", "internal"),
            ("format", "pdf"),
        ])
        .options(Some("org_a"), today)
        .expect("valid");
        assert_eq!(
            file_name(&r.options, r.pdf),
            "canary-upr-KH-2024-10-01-2024-10-31-km-internal.pdf"
        );
    }
}
