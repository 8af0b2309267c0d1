//! The HTTP server: routes, pages, API, collector endpoint, middleware.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, Path, Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use canary_analysis::fingerprints::FingerprintDb;
use canary_store::accounts::User;
use canary_store::{Filters, Selection, Store, StoreError};
use minijinja::{context, Environment, UndefinedBehavior, Value};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration as TimeDuration, OffsetDateTime};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tracing::{debug, error, info, warn};

use crate::accounts::{
    create_user, dummy_hash, random_token, token_hash, tokens_equal, verify_password,
    LoginThrottle, PasswordParams, Role,
};
use crate::chart;
use crate::collector::{prepare_submission, Prepare, Refusal};
use crate::export;
use crate::i18n::Lang;
use crate::ratelimit::{RateLimiter, SourceHasher};
use crate::WebError;

/// The Khmer font the UI ships (SIL OFL 1.1, see `assets/fonts/OFL.txt`).
pub const KHMER_FONT: &[u8] = include_bytes!("../assets/fonts/NotoSansKhmer-Regular.ttf");
const STYLE_CSS: &str = include_str!("../assets/style.css");

/// The templates, by name (all embedded at compile time).
pub const TEMPLATES: [(&str, &str); 10] = [
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("overview.html", include_str!("../templates/overview.html")),
    ("country.html", include_str!("../templates/country.html")),
    ("domain.html", include_str!("../templates/domain.html")),
    ("asn.html", include_str!("../templates/asn.html")),
    (
        "measurement.html",
        include_str!("../templates/measurement.html"),
    ),
    ("login.html", include_str!("../templates/login.html")),
    (
        "admin_users.html",
        include_str!("../templates/admin_users.html"),
    ),
    ("error.html", include_str!("../templates/error.html")),
];

/// Every template: the explorer's ([`TEMPLATES`]) and those of the
/// registry, social-media and report pages.
pub fn all_templates() -> impl Iterator<Item = (&'static str, &'static str)> {
    TEMPLATES
        .iter()
        .copied()
        .chain(crate::registry_ui::TEMPLATES.iter().copied())
        .chain(crate::social_ui::TEMPLATES.iter().copied())
        .chain(crate::report_ui::TEMPLATES.iter().copied())
}

/// Who may read what. `None` means public; `Some(role)` means a logged-in
/// user with at least that role. Administration always needs `admin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicy {
    /// The HTML explorer (overview, country, domain, ASN, measurement pages).
    pub explorer: Option<Role>,
    /// The JSON/CSV API (`/api/v1/…` reads).
    pub api: Option<Role>,
    /// Raw measurement JSON downloads.
    pub raw: Option<Role>,
    /// The collector (`POST /api/v1/submit`). Probes submit anonymously,
    /// so this is `None` unless the deployment closes submissions.
    pub submit: Option<Role>,
}

impl Default for AccessPolicy {
    /// The explorer, API, raw downloads and collector are public.
    fn default() -> Self {
        AccessPolicy {
            explorer: None,
            api: None,
            raw: None,
            submit: None,
        }
    }
}

/// Configuration of [`serve`].
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Where measurements and accounts live.
    pub store: Store,
    /// Blockpage fingerprints used to recompute verdicts of submissions.
    pub fingerprints: Arc<FingerprintDb>,
    /// Platform-restriction notices the account checks are judged with, at
    /// ingest and on their pages (default: Canary's built-in ones; see
    /// [`crate::collector::load_restriction_fingerprints`]).
    pub restriction_fingerprints: Arc<canary_social::restriction::Fingerprints>,
    /// Citizen Lab category per domain, for submitted measurements.
    pub categories: Arc<HashMap<String, String>>,
    /// Who may read what.
    pub access: AccessPolicy,
    /// Set the `Secure` attribute and `__Host-` prefix on cookies (when the
    /// server is reached over HTTPS, e.g. behind a TLS proxy). A trusted
    /// proxy's `X-Forwarded-Proto: https` also turns them on per request.
    pub cookie_secure: bool,
    /// Reverse proxies whose `X-Forwarded-For` / `Forwarded` headers are
    /// believed (see [`crate::proxy`]); empty (the default): those headers
    /// are ignored and every limit is keyed by the TCP peer.
    pub trusted_proxies: Vec<crate::proxy::Cidr>,
    /// Largest submission body, in bytes.
    pub max_submission_bytes: usize,
    /// Most measurements in one JSONL submission.
    pub max_batch: usize,
    /// Submissions a source may burst.
    pub submit_burst: u32,
    /// Submissions per second a source regains.
    pub submit_per_second: f64,
    /// Failed logins (per account and per source) before a lock-out.
    pub login_max_failures: u32,
    /// How long a lock-out lasts.
    pub login_window: Duration,
    /// argon2id parameters for new password hashes.
    pub password_params: PasswordParams,
    /// Session lifetime.
    pub session_ttl: Duration,
    /// Longest time one request may take.
    pub request_timeout: Duration,
    /// Keys that open the registry's sensitive fields. `None`: sensitive
    /// fields stay sealed and every page shows them redacted.
    pub registry_keys: Option<Arc<canary_registry::KeyRing>>,
    /// Where uploaded evidence files are kept, content-addressed. `None`:
    /// evidence uploads are refused.
    pub evidence_dir: Option<std::path::PathBuf>,
    /// Renders a report as PDF (the binary supplies typst with its `pdf`
    /// feature). `None`: reports from the web UI are HTML only.
    pub pdf: Option<PdfRenderer>,
}

/// The function a [`PdfRenderer`] wraps: a gathered report and its
/// options in, PDF bytes out.
pub type RenderPdf = dyn Fn(
        &canary_report::ReportData,
        &canary_report::ReportOptions,
    ) -> Result<Vec<u8>, canary_report::ReportError>
    + Send
    + Sync;

/// A PDF renderer for reports, supplied by the binary so that this crate
/// never compiles typst.
#[derive(Clone)]
pub struct PdfRenderer(pub Arc<RenderPdf>);

impl std::fmt::Debug for PdfRenderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PdfRenderer")
    }
}

impl WebConfig {
    /// Defaults: public explorer, Canary's fingerprints, 4 MiB submissions,
    /// JSONL batches of at most 1,000, 120-submission bursts refilled at 20/s
    /// per source, 5 failed logins per 15 minutes, OWASP argon2id, 12-hour
    /// sessions, 30 s per request, cookies without `Secure` (plain HTTP on
    /// loopback; set `cookie_secure` behind TLS).
    pub fn new(store: Store) -> Self {
        WebConfig {
            store,
            fingerprints: Arc::new(FingerprintDb::canary_default()),
            restriction_fingerprints: Arc::new(
                crate::collector::builtin_restriction_fingerprints().clone(),
            ),
            categories: Arc::new(HashMap::new()),
            access: AccessPolicy::default(),
            cookie_secure: false,
            trusted_proxies: Vec::new(),
            max_submission_bytes: 4 * 1024 * 1024,
            max_batch: 1000,
            submit_burst: 120,
            submit_per_second: 20.0,
            login_max_failures: 5,
            login_window: Duration::from_secs(15 * 60),
            password_params: PasswordParams::owasp(),
            session_ttl: Duration::from_secs(12 * 3600),
            request_timeout: Duration::from_secs(30),
            registry_keys: None,
            evidence_dir: None,
            pdf: None,
        }
    }
}

/// Counters a running server exposes (for tests and monitoring).
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests for the Khmer font file.
    pub font_requests: AtomicU64,
    /// Measurements stored by the collector.
    pub submissions_stored: AtomicU64,
    /// Submissions refused (4xx).
    pub submissions_refused: AtomicU64,
}

/// A running server: its address, counters, and a way to stop it.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    stats: Arc<Stats>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Live counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Stops accepting connections, lets in-flight requests finish, and
    /// waits for the server to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Waits until the server ends (it runs until [`ServerHandle::shutdown`]).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

pub(crate) struct AppState {
    pub(crate) cfg: WebConfig,
    limiter: RateLimiter,
    hasher: SourceHasher,
    throttle: LoginThrottle,
    dummy_hash: Option<String>,
    stats: Arc<Stats>,
}

pub(crate) type Shared = Arc<AppState>;

/// Starts the server on `listener` and returns once it accepts
/// connections. Every route, page and API is described in the crate docs.
pub async fn serve(config: WebConfig, listener: TcpListener) -> Result<ServerHandle, WebError> {
    if config.max_submission_bytes == 0 || config.max_batch == 0 {
        return Err(WebError::Config(
            "max_submission_bytes and max_batch must be positive".into(),
        ));
    }
    // Fail at start, not on the first request, if a template is broken.
    env()?;
    let addr = listener.local_addr()?;
    let stats = Arc::new(Stats::default());
    let state = Arc::new(AppState {
        limiter: RateLimiter::new(config.submit_burst, config.submit_per_second),
        hasher: SourceHasher::new(),
        throttle: LoginThrottle::new(config.login_max_failures, config.login_window),
        dummy_hash: dummy_hash(&config.password_params).await,
        stats: stats.clone(),
        cfg: config,
    });
    let app = router(state);
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx.await;
        });
        if let Err(e) = server.await {
            error!(error = %e, "server stopped");
        }
    });
    info!(%addr, "canary web server listening");
    Ok(ServerHandle {
        addr,
        stats,
        stop: Some(tx),
        task,
    })
}

fn router(state: Shared) -> Router {
    let max_submit = state.cfg.max_submission_bytes;
    let submit = Router::new()
        .route("/api/v1/submit", post(submit))
        .layer(DefaultBodyLimit::max(max_submit.saturating_add(1)));
    Router::new()
        .route("/", get(overview))
        .route("/country", get(country_redirect))
        .route("/country/{cc}", get(country_page))
        .route("/domain/{domain}", get(domain_page))
        .route("/asn/{asn}", get(asn_page))
        .route("/measurement/{id}", get(measurement_page))
        .route("/measurement/{id}/raw", get(measurement_raw))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/admin/users", get(admin_users).post(admin_create))
        .route("/admin/users/{id}", post(admin_update))
        .route("/assets/style.css", get(style_css))
        .route("/assets/fonts/NotoSansKhmer-Regular.ttf", get(khmer_font))
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/v1/countries", get(api_countries))
        .route("/api/v1/countries/{cc}/blocked", get(api_blocked))
        .route("/api/v1/countries/{cc}/series", get(api_series))
        .route("/api/v1/countries/{cc}/summary", get(api_summary))
        .route("/api/v1/countries/{cc}/networks", get(api_networks))
        .route("/api/v1/domains/{domain}", get(api_domain))
        .route("/api/v1/asns/{asn}", get(api_asn))
        .route("/api/v1/measurements", get(api_measurements))
        .route("/api/v1/measurements/{id}", get(api_measurement))
        .route("/api/v1/measurements/{id}/raw", get(measurement_raw))
        .route("/api/v1/events", get(api_events))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .merge(submit)
        // Each area sets its own body limit.
        .merge(crate::registry_ui::routes())
        .merge(crate::social_ui::routes())
        .merge(crate::report_ui::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// Security headers, a time limit, and a log line without addresses.
async fn guard(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let mut resp = match tokio::time::timeout(state.cfg.request_timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => {
            warn!(%method, path = %truncate(&path, 200), "request timed out");
            (StatusCode::SERVICE_UNAVAILABLE, "request timed out").into_response()
        }
    };
    let h = resp.headers_mut();
    let set = |h: &mut HeaderMap, name: &'static str, value: &'static str| {
        h.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    };
    set(
        h,
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "no-referrer");
    set(h, "x-frame-options", "DENY");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-cache");
    }
    debug!(%method, path = %truncate(&path, 200), status = resp.status().as_u16(), "request");
    resp
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

// ---------------------------------------------------------------- templates

fn env() -> Result<&'static Environment<'static>, WebError> {
    static ENV: OnceLock<Result<Environment<'static>, String>> = OnceLock::new();
    let built = ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        for (name, src) in all_templates() {
            env.add_template(name, src).map_err(|e| e.to_string())?;
        }
        Ok(env)
    });
    built
        .as_ref()
        .map_err(|e| WebError::Config(format!("templates: {e}")))
}

// ------------------------------------------------------------ request context

/// Who is asking, in which language, with which CSRF token.
pub(crate) struct Ctx {
    pub(crate) lang: Lang,
    /// `?lang=` was given: remember it in a cookie.
    lang_from_query: bool,
    pub(crate) user: Option<User>,
    session_hash: Option<String>,
    /// The session's CSRF token, or the pre-session cookie's.
    pub(crate) csrf: Option<String>,
    /// A fresh pre-session CSRF token to set as a cookie.
    new_csrf: Option<String>,
    path: String,
    query: Vec<(String, String)>,
    source: Option<String>,
    secure: bool,
}

fn cookies(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for value in headers.get_all(header::COOKIE).iter().take(16) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';').take(64) {
            if let Some((k, v)) = pair.split_once('=') {
                out.insert(k.trim().to_owned(), v.trim().to_owned());
            }
        }
    }
    out
}

fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-canary_session"
    } else {
        "canary_session"
    }
}

fn csrf_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-canary_csrf"
    } else {
        "canary_csrf"
    }
}

fn is_token(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl FromRequestParts<Shared> for Ctx {
    type Rejection = Fail;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, Fail> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ci| ci.0.ip());
        let trusted = &state.cfg.trusted_proxies;
        let secure = state.cfg.cookie_secure
            || peer.is_some_and(|p| crate::proxy::forwarded_https(p, &parts.headers, trusted));
        let jar = cookies(&parts.headers);
        let query: Vec<(String, String)> = parts
            .uri
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .take(32)
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let query_lang = query
            .iter()
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::from_code(v));
        let lang = query_lang
            .or_else(|| jar.get("canary_lang").and_then(|v| Lang::from_code(v)))
            .or_else(|| {
                parts
                    .headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| Lang::from_accept_language(truncate(v, 512)))
            })
            .unwrap_or(Lang::En);
        let mut ctx = Ctx {
            lang,
            lang_from_query: query_lang.is_some(),
            user: None,
            session_hash: None,
            csrf: None,
            new_csrf: None,
            path: parts.uri.path().to_owned(),
            query,
            source: peer.map(|p| {
                let client = crate::proxy::client_ip(p, &parts.headers, trusted);
                state.hasher.source(client)
            }),
            secure,
        };
        if let Some(token) = jar.get(session_cookie_name(secure)).filter(|t| is_token(t)) {
            let hash = token_hash(token);
            match state
                .cfg
                .store
                .session(&hash, OffsetDateTime::now_utc())
                .await
            {
                Ok(Some(session)) => {
                    ctx.user = Some(session.user);
                    ctx.csrf = Some(session.csrf_token);
                    ctx.session_hash = Some(hash);
                }
                Ok(None) => {}
                Err(e) => return Err(Fail::internal(e.into()).html(lang)),
            }
        }
        if ctx.csrf.is_none() {
            match jar.get(csrf_cookie_name(secure)).filter(|t| is_token(t)) {
                Some(t) => ctx.csrf = Some(t.clone()),
                None => {
                    let t = random_token();
                    ctx.csrf = Some(t.clone());
                    ctx.new_csrf = Some(t);
                }
            }
        }
        Ok(ctx)
    }
}

impl Ctx {
    fn role(&self) -> Option<Role> {
        self.user.as_ref().and_then(|u| u.role.parse().ok())
    }

    /// Refuses unless the policy lets this visitor in.
    pub(crate) fn require(&self, min: Option<Role>) -> Result<(), Fail> {
        let Some(min) = min else { return Ok(()) };
        match self.role() {
            None => Err(Fail::new(StatusCode::UNAUTHORIZED, "error_login_required")),
            Some(r) if r >= min => Ok(()),
            Some(_) => Err(Fail::new(StatusCode::FORBIDDEN, "error_forbidden")),
        }
    }

    pub(crate) fn query(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub(crate) fn check_csrf(&self, submitted: &str) -> Result<(), Fail> {
        match &self.csrf {
            Some(expected) if self.new_csrf.is_none() && tokens_equal(expected, submitted) => {
                Ok(())
            }
            _ => Err(Fail::new(StatusCode::FORBIDDEN, "error_csrf").html(self.lang)),
        }
    }

    /// Sets the language cookie (after `?lang=`) and the pre-session CSRF
    /// cookie (first visit) on a response.
    pub(crate) fn finish(&self, mut resp: Response) -> Response {
        if self.lang_from_query {
            let c = format!(
                "canary_lang={}; Path=/; Max-Age=31536000; SameSite=Lax{}",
                self.lang.code(),
                if self.secure { "; Secure" } else { "" }
            );
            append_cookie(&mut resp, &c);
        }
        if let Some(t) = &self.new_csrf {
            let c = format!(
                "{}={t}; Path=/; HttpOnly; SameSite=Strict{}",
                csrf_cookie_name(self.secure),
                if self.secure { "; Secure" } else { "" }
            );
            append_cookie(&mut resp, &c);
        }
        resp
    }

    pub(crate) fn render(&self, template: &str, extra: Value) -> Result<Response, Fail> {
        let html =
            render_html(self, template, extra).map_err(|e| Fail::internal(e).html(self.lang))?;
        Ok(self.finish(html_response(StatusCode::OK, html)))
    }

    /// The same URL with `lang` replaced, for the language switch.
    fn lang_url(&self, lang: Lang) -> String {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.query.iter().filter(|(k, _)| k != "lang") {
            ser.append_pair(k, v);
        }
        ser.append_pair("lang", lang.code());
        format!("{}?{}", self.path, ser.finish())
    }
}

fn append_cookie(resp: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn html_response(status: StatusCode, html: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}

#[derive(Serialize)]
struct LangLink {
    code: &'static str,
    name: String,
    url: String,
    current: bool,
}

fn render_html(ctx: &Ctx, template: &str, extra: Value) -> Result<String, WebError> {
    let env = env()?;
    let tmpl = env.get_template(template)?;
    let languages: Vec<LangLink> = Lang::ALL
        .iter()
        .map(|l| LangLink {
            code: l.code(),
            name: l.t("lang_name").to_owned(),
            url: ctx.lang_url(*l),
            current: *l == ctx.lang,
        })
        .collect();
    let base = context! {
        tr => Value::from_serialize(ctx.lang.catalog()),
        user => ctx.user.as_ref().map(Value::from_serialize),
        csrf => ctx.csrf.clone().unwrap_or_default(),
        languages => Value::from_serialize(&languages),
    };
    Ok(tmpl.render(context! { ..extra, ..base })?)
}

// ------------------------------------------------------------------- errors

/// A refused or failed request, rendered as an HTML page (with a language)
/// or as a JSON body.
#[derive(Debug)]
pub(crate) struct Fail {
    status: StatusCode,
    /// Catalog key of the message.
    message: &'static str,
    /// Specific reason (escaped when shown).
    detail: Option<String>,
    lang: Option<Lang>,
}

impl Fail {
    pub(crate) fn new(status: StatusCode, message: &'static str) -> Self {
        Fail {
            status,
            message,
            detail: None,
            lang: None,
        }
    }
    pub(crate) fn bad(detail: impl Into<String>) -> Self {
        Fail {
            detail: Some(detail.into()),
            ..Fail::new(StatusCode::BAD_REQUEST, "error_bad_request")
        }
    }
    pub(crate) fn not_found() -> Self {
        Fail::new(StatusCode::NOT_FOUND, "error_not_found")
    }
    pub(crate) fn internal(e: WebError) -> Self {
        error!(error = %e, "internal error");
        Fail::new(StatusCode::INTERNAL_SERVER_ERROR, "error_internal")
    }
    pub(crate) fn html(mut self, lang: Lang) -> Self {
        self.lang = Some(lang);
        self
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid { what, reason } => Fail::bad(format!("{what}: {reason}")),
            other => Fail::internal(other.into()),
        }
    }
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        match self.lang {
            Some(lang) => {
                let html = error_page(lang, &self);
                html_response(self.status, html)
            }
            None => {
                let body = serde_json::json!({
                    "error": Lang::En.t(self.message),
                    "reason": self.detail,
                });
                (self.status, axum::Json(body)).into_response()
            }
        }
    }
}

fn error_page(lang: Lang, fail: &Fail) -> String {
    let ctx = Ctx {
        lang,
        lang_from_query: false,
        user: None,
        session_hash: None,
        csrf: None,
        new_csrf: None,
        path: "/".into(),
        query: Vec::new(),
        source: None,
        secure: false,
    };
    let extra = context! {
        status => fail.status.as_u16(),
        message => fail.message,
        detail => fail.detail.clone(),
        login_link => fail.status == StatusCode::UNAUTHORIZED,
    };
    render_html(&ctx, "error.html", extra).unwrap_or_else(|_| lang.t(fail.message).to_owned())
}

async fn not_found(headers: HeaderMap) -> Response {
    let lang = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_accept_language)
        .unwrap_or(Lang::En);
    Fail::not_found().html(lang).into_response()
}

// ---------------------------------------------------------- input parsing

/// Query parameters of the explorer and API views.
#[derive(Debug, Default, Clone, Serialize)]
pub(crate) struct FilterForm {
    asn: Option<String>,
    category: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

pub(crate) fn parse_country(cc: &str) -> Result<String, Fail> {
    if cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(cc.to_ascii_uppercase())
    } else {
        Err(Fail::bad(
            "country: two letters (ISO 3166-1 alpha-2), e.g. KH",
        ))
    }
}

pub(crate) fn parse_domain(d: &str) -> Result<String, Fail> {
    let d = d.trim_end_matches('.').to_ascii_lowercase();
    let ok = !d.is_empty()
        && d.len() <= 253
        && d.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if ok {
        Ok(d)
    } else {
        Err(Fail::bad("domain: letters, digits, '.', '-' and '_' only"))
    }
}

fn parse_asn(s: &str) -> Result<u32, Fail> {
    let digits = s
        .strip_prefix("AS")
        .or_else(|| s.strip_prefix("as"))
        .unwrap_or(s);
    digits
        .parse::<u32>()
        .map_err(|_| Fail::bad("asn: a number such as 38623 or AS38623"))
}

pub(crate) fn parse_id(id: &str) -> Result<&str, Fail> {
    let ok = !id.is_empty()
        && id.len() <= 256
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b':'));
    if ok {
        Ok(id)
    } else {
        Err(Fail::bad(
            "measurement id: letters, digits, '_', '.', '-', ':' only",
        ))
    }
}

fn parse_category(c: &str) -> Result<String, Fail> {
    let c = c.to_ascii_uppercase();
    if !c.is_empty() && c.len() <= 32 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(c)
    } else {
        Err(Fail::bad(
            "category: a Citizen Lab code such as NEWS or HUMR",
        ))
    }
}

fn parse_day(what: &str, s: &str) -> Result<Date, Fail> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, fmt).map_err(|_| Fail::bad(format!("{what}: a date as YYYY-MM-DD")))
}

impl FilterForm {
    pub(crate) fn from_ctx(ctx: &Ctx) -> FilterForm {
        FilterForm {
            asn: ctx.query("asn").map(str::to_owned),
            category: ctx.query("category").map(str::to_owned),
            from: ctx.query("from").map(str::to_owned),
            to: ctx.query("to").map(str::to_owned),
        }
    }

    pub(crate) fn filters(&self) -> Result<Filters, Fail> {
        let from = self
            .from
            .as_deref()
            .map(|s| parse_day("from", s))
            .transpose()?
            .map(|d| d.midnight().assume_utc());
        // `to` is inclusive: up to the end of that day.
        let to = self
            .to
            .as_deref()
            .map(|s| parse_day("to", s))
            .transpose()?
            .map(|d| d.midnight().assume_utc() + TimeDuration::days(1));
        if let (Some(f), Some(t)) = (from, to) {
            if f >= t {
                return Err(Fail::bad("from: must be on or before to"));
            }
        }
        Ok(Filters {
            asn: self.asn.as_deref().map(parse_asn).transpose()?,
            category: self.category.as_deref().map(parse_category).transpose()?,
            from,
            to,
        })
    }

    /// The filters as a query string (`?asn=…&from=…`), empty when none.
    fn query_string(&self) -> String {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("asn", &self.asn),
            ("category", &self.category),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(v) = v {
                ser.append_pair(k, v);
            }
        }
        let q = ser.finish();
        if q.is_empty() {
            q
        } else {
            format!("?{q}")
        }
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

// ------------------------------------------------------------------- pages

#[derive(Serialize)]
struct CountryCount {
    code: String,
    count: u64,
}

/// Countries among the latest measurements (the store has no distinct
/// country query; the latest 1,000 show who is active).
async fn recent_countries(
    store: &Store,
) -> Result<(Vec<CountryCount>, Vec<canary_store::MeasurementInfo>), Fail> {
    let recent = store
        .list_measurements(&Selection::default(), canary_store::MAX_PAGE, 0)
        .await?;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for m in &recent {
        *counts.entry(m.probe_cc.clone()).or_default() += 1;
    }
    let countries = counts
        .into_iter()
        .map(|(code, count)| CountryCount { code, count })
        .collect();
    Ok((countries, recent))
}

async fn overview(State(s): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    let lang = ctx.lang;
    ctx.require(s.cfg.access.explorer)
        .map_err(|f| f.html(lang))?;
    let (countries, mut recent) = recent_countries(&s.cfg.store)
        .await
        .map_err(|f| f.html(lang))?;
    recent.truncate(25);
    ctx.render(
        "overview.html",
        context! { countries => Value::from_serialize(&countries), recent => Value::from_serialize(&recent) },
    )
}

async fn country_redirect(ctx: Ctx) -> Result<Response, Fail> {
    let cc = parse_country(ctx.query("cc").unwrap_or("")).map_err(|f| f.html(ctx.lang))?;
    Ok(Redirect::to(&format!("/country/{cc}")).into_response())
}

async fn country_page(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(cc): Path<String>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let page = async {
        ctx.require(s.cfg.access.explorer)?;
        let cc = parse_country(&cc)?;
        let form = FilterForm::from_ctx(&ctx);
        let filters = form.filters()?;
        let store = &s.cfg.store;
        let (summary, blocked) = store.country_page(&cc, &filters).await?;
        let series = store.blocked_share_series(&cc, &filters).await?;
        let chart = chart::share_chart(&series, lang);
        let social = crate::social_ui::panel(store, &cc, &filters, lang).await?;
        ctx.render(
            "country.html",
            context! {
                cc => cc,
                f => Value::from_serialize(&form),
                qs => form.query_string(),
                summary => Value::from_serialize(&summary),
                blocked => Value::from_serialize(&blocked),
                chart => Value::from_safe_string(chart),
                social => social,
            },
        )
    };
    page.await.map_err(|f| f.html(lang))
}

/// What a timeline page is about, as its path names it: `/domain/{domain}`
/// or `/asn/{asn}`.
enum Subject {
    Domain(String),
    Network(String),
}

async fn domain_page(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(domain): Path<String>,
) -> Result<Response, Fail> {
    timeline_page(&s, &ctx, Subject::Domain(domain)).await
}

async fn asn_page(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(asn): Path<String>,
) -> Result<Response, Fail> {
    timeline_page(&s, &ctx, Subject::Network(asn)).await
}

/// The page of one domain (`domain.html`) or one network (`asn.html`):
/// both check access, then the path, then the filters, and show the
/// filter form, the layer timeline, the latest 200 events and 50
/// measurements of the subject in the filters' window. A network's page
/// adds its name and narrows its measurements (not its events) to the
/// filters' category; a domain's page adds the registry's orders naming
/// it, and its network filter narrows events and measurements.
async fn timeline_page(s: &Shared, ctx: &Ctx, subject: Subject) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let page = async {
        ctx.require(s.cfg.access.explorer)?;
        let store = &s.cfg.store;
        let form = FilterForm::from_ctx(ctx);
        let (template, sel, timeline, own) = match subject {
            Subject::Domain(domain) => {
                let domain = parse_domain(&domain)?;
                let filters = form.filters()?;
                let timeline = store.domain_timeline(&domain, None, &filters).await?;
                // A domain has one category: the filter does not narrow it.
                let sel = Selection {
                    domain: Some(domain.clone()),
                    asn: filters.asn,
                    from: filters.from,
                    to: filters.to,
                    ..Selection::default()
                };
                let orders = crate::registry_ui::orders_for_domain(s, ctx, &domain).await;
                let own = context! { domain, orders => Value::from_serialize(&orders) };
                ("domain.html", sel, timeline, own)
            }
            Subject::Network(asn) => {
                let asn = parse_asn(&asn)?;
                let filters = form.filters()?;
                let timeline = store.asn_timeline(asn, None, &filters).await?;
                let name = store.network(asn).await?.map(|n| n.name);
                let sel = Selection {
                    asn: Some(asn),
                    category: filters.category,
                    from: filters.from,
                    to: filters.to,
                    ..Selection::default()
                };
                ("asn.html", sel, timeline, context! { asn, name })
            }
        };
        let events = store
            .events(
                &Selection {
                    category: None,
                    ..sel.clone()
                },
                200,
            )
            .await?;
        let measurements = store.list_measurements(&sel, 50, 0).await?;
        ctx.render(
            template,
            context! {
                f => Value::from_serialize(&form),
                qs => form.query_string(),
                chart => Value::from_safe_string(chart::layer_timeline(&timeline, lang)),
                events => Value::from_serialize(&events),
                measurements => Value::from_serialize(&measurements),
                ..own
            },
        )
    };
    page.await.map_err(|f| f.html(lang))
}

async fn measurement_page(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let page = async {
        ctx.require(s.cfg.access.explorer)?;
        let id = parse_id(&id)?;
        let Some(m) = s.cfg.store.measurement(id).await? else {
            // Not web connectivity: perhaps a social measurement.
            return crate::social_ui::measurement_page(&s, &ctx, id).await;
        };
        let history = s.cfg.store.verdict_history(id).await?;
        let raw: serde_json::Value = serde_json::from_str(&m.raw_json).unwrap_or_default();
        let records = crate::records::extract(&raw);
        let raw_pretty = serde_json::to_string_pretty(&raw).unwrap_or_default();
        let ooni_blocking = serde_json::to_string(&m.info.verdict.blocking).unwrap_or_default();
        let ooni_accessible = serde_json::to_string(&m.info.verdict.accessible).unwrap_or_default();
        ctx.render(
            "measurement.html",
            context! {
                m => Value::from_serialize(&m.info),
                history => Value::from_serialize(&history),
                records => Value::from_serialize(&records),
                raw_pretty => raw_pretty,
                ooni_blocking => ooni_blocking,
                ooni_accessible => ooni_accessible,
            },
        )
    };
    page.await.map_err(|f| f.html(lang))
}

async fn measurement_raw(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    ctx.require(s.cfg.access.raw)?;
    let id = parse_id(&id)?;
    let Some(m) = s.cfg.store.measurement(id).await? else {
        return crate::social_ui::raw_download(&s.cfg.store, id).await;
    };
    // `id` is restricted to [A-Za-z0-9_.:-]: safe inside the quoted filename.
    let disposition = format!("attachment; filename=\"{}.json\"", id.replace(':', "_"));
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        m.raw_json,
    )
        .into_response())
}

// ---------------------------------------------------------------- accounts

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn login_page(ctx: Ctx) -> Result<Response, Fail> {
    ctx.render("login.html", context! { message => None::<&str> })
}

fn login_again(ctx: &Ctx, status: StatusCode, message: &str) -> Result<Response, Fail> {
    let mut resp = ctx.render("login.html", context! { message => message })?;
    *resp.status_mut() = status;
    Ok(resp)
}

async fn login_submit(
    State(s): State<Shared>,
    ctx: Ctx,
    Form(form): Form<LoginForm>,
) -> Result<Response, Fail> {
    ctx.check_csrf(&form.csrf)?;
    let account_key = format!("account:{}", truncate(&form.name, 64));
    let mut keys = vec![account_key.clone()];
    if let Some(src) = &ctx.source {
        keys.push(format!("source:{src}"));
    }
    if s.throttle.blocked(&keys) {
        info!("login refused: too many failures");
        return login_again(&ctx, StatusCode::TOO_MANY_REQUESTS, "login_throttled");
    }
    let found = if form.name.is_empty() || form.name.len() > 64 {
        None
    } else {
        s.cfg
            .store
            .user_by_name(&form.name)
            .await
            .map_err(|e| Fail::from(e).html(ctx.lang))?
    };
    let ok = match &found {
        Some((user, hash)) => verify_password(&form.password, hash).await && !user.disabled,
        None => {
            // Same cost as a wrong password: no user enumeration by timing.
            if let Some(h) = &s.dummy_hash {
                let _ = verify_password(&form.password, h).await;
            }
            false
        }
    };
    let Some((user, _)) = found.filter(|_| ok) else {
        s.throttle.failure(&keys);
        info!("login failed");
        return login_again(&ctx, StatusCode::UNAUTHORIZED, "login_failed");
    };
    s.throttle.success(&account_key);
    let token = random_token();
    let csrf = random_token();
    let ttl = TimeDuration::try_from(s.cfg.session_ttl).unwrap_or(TimeDuration::hours(12));
    s.cfg
        .store
        .create_session(
            &token_hash(&token),
            user.id,
            &csrf,
            OffsetDateTime::now_utc() + ttl,
        )
        .await
        .map_err(|e| Fail::from(e).html(ctx.lang))?;
    info!(user = %user.name, "login");
    let mut resp = Redirect::to("/").into_response();
    let cookie = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        session_cookie_name(ctx.secure),
        ttl.whole_seconds(),
        if ctx.secure { "; Secure" } else { "" }
    );
    append_cookie(&mut resp, &cookie);
    Ok(resp)
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(s): State<Shared>,
    ctx: Ctx,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, Fail> {
    ctx.check_csrf(&form.csrf)?;
    if let Some(hash) = &ctx.session_hash {
        s.cfg
            .store
            .delete_session(hash)
            .await
            .map_err(|e| Fail::from(e).html(ctx.lang))?;
    }
    let mut resp = Redirect::to("/").into_response();
    let cookie = format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        session_cookie_name(ctx.secure),
        if ctx.secure { "; Secure" } else { "" }
    );
    append_cookie(&mut resp, &cookie);
    Ok(resp)
}

async fn admin_view(
    s: &Shared,
    ctx: &Ctx,
    message: Option<&str>,
    problem: Option<String>,
) -> Result<Response, Fail> {
    let users = s.cfg.store.users().await?;
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    ctx.render(
        "admin_users.html",
        context! {
            users => Value::from_serialize(&users),
            roles => roles,
            message => message,
            problem => problem,
        },
    )
}

async fn admin_users(State(s): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    let lang = ctx.lang;
    ctx.require(Some(Role::Admin)).map_err(|f| f.html(lang))?;
    admin_view(&s, &ctx, None, None)
        .await
        .map_err(|f| f.html(lang))
}

#[derive(Deserialize)]
struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    org: String,
}

async fn admin_create(
    State(s): State<Shared>,
    ctx: Ctx,
    Form(form): Form<CreateForm>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    ctx.require(Some(Role::Admin)).map_err(|f| f.html(lang))?;
    ctx.check_csrf(&form.csrf)?;
    let result = async {
        let role: Role = form.role.parse()?;
        let org = Some(form.org.trim()).filter(|o| !o.is_empty());
        create_user(
            &s.cfg.store,
            form.name.trim(),
            &form.password,
            role,
            org,
            &s.cfg.password_params,
        )
        .await
    }
    .await;
    match result {
        Ok(user) => {
            info!(user = %user.name, role = %user.role, "user created");
            admin_view(&s, &ctx, Some("admin_created"), None)
                .await
                .map_err(|f| f.html(lang))
        }
        Err(WebError::Invalid { what, reason })
        | Err(WebError::Store(StoreError::Invalid { what, reason })) => {
            let mut resp = admin_view(&s, &ctx, None, Some(format!("{what}: {reason}")))
                .await
                .map_err(|f| f.html(lang))?;
            *resp.status_mut() = StatusCode::BAD_REQUEST;
            Ok(resp)
        }
        Err(e) => Err(Fail::internal(e).html(lang)),
    }
}

#[derive(Deserialize)]
struct UpdateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    disabled: Option<String>,
}

async fn admin_update(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<UpdateForm>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    ctx.require(Some(Role::Admin)).map_err(|f| f.html(lang))?;
    ctx.check_csrf(&form.csrf)?;
    let id: i64 = id
        .parse()
        .map_err(|_| Fail::bad("user id: a number").html(lang))?;
    let role: Role = form
        .role
        .parse()
        .map_err(|e: WebError| Fail::bad(e.to_string()).html(lang))?;
    let disabled = form.disabled.is_some();
    if ctx.user.as_ref().is_some_and(|u| u.id == id) && (disabled || role != Role::Admin) {
        return Err(Fail::bad("you cannot demote or disable yourself").html(lang));
    }
    if !s
        .cfg
        .store
        .update_user(id, role.as_str(), disabled)
        .await
        .map_err(|e| Fail::from(e).html(lang))?
    {
        return Err(Fail::not_found().html(lang));
    }
    info!(user_id = id, role = %role, disabled, "user updated");
    admin_view(&s, &ctx, Some("admin_updated"), None)
        .await
        .map_err(|f| f.html(lang))
}

// ------------------------------------------------------------------ assets

async fn style_css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE_CSS,
    )
        .into_response()
}

async fn khmer_font(State(s): State<Shared>) -> Response {
    s.stats.font_requests.fetch_add(1, Ordering::Relaxed);
    (
        [
            (header::CONTENT_TYPE, "font/ttf"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        KHMER_FONT,
    )
        .into_response()
}

// --------------------------------------------------------------------- API

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Csv,
}

pub(crate) fn format_of(ctx: &Ctx) -> Result<Format, Fail> {
    match ctx.query("format") {
        None | Some("json") => Ok(Format::Json),
        Some("csv") => Ok(Format::Csv),
        Some(_) => Err(Fail::bad("format: json or csv")),
    }
}

pub(crate) fn table<T: Serialize>(
    format: Format,
    name: &str,
    rows: &[T],
) -> Result<Response, Fail> {
    match format {
        Format::Json => Ok(axum::Json(rows).into_response()),
        Format::Csv => {
            let body = export::to_csv(rows).map_err(Fail::internal)?;
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}.csv\""),
                    ),
                ],
                body,
            )
                .into_response())
        }
    }
}

async fn api_countries(State(s): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    ctx.require(s.cfg.access.api)?;
    let (countries, _) = recent_countries(&s.cfg.store).await?;
    table(format_of(&ctx)?, "countries", &countries)
}

/// An API read of one thing (a country, a site, a network), its start
/// done: see [`api_read`].
pub(crate) struct ApiRead<K> {
    /// The path's key, parsed.
    pub(crate) key: K,
    /// `?format=`.
    pub(crate) format: Format,
    /// The explorer's filters (`asn`, `category`, `from`, `to`).
    pub(crate) filters: Filters,
}

/// The start every API read of one thing shares, in this order: access
/// (`access.api`), the path's `key` parsed by `parse`, `?format=`, then the
/// filters. The handler then queries the store and sends
/// [`ApiRead::table`].
pub(crate) fn api_read<K>(
    s: &Shared,
    ctx: &Ctx,
    key: &str,
    parse: impl FnOnce(&str) -> Result<K, Fail>,
) -> Result<ApiRead<K>, Fail> {
    ctx.require(s.cfg.access.api)?;
    let key = parse(key)?;
    let format = format_of(ctx)?;
    let filters = FilterForm::from_ctx(ctx).filters()?;
    Ok(ApiRead {
        key,
        format,
        filters,
    })
}

impl<K: std::fmt::Display> ApiRead<K> {
    /// `rows` as JSON, or as the CSV file `{prefix}{key}.csv`.
    pub(crate) fn table<T: Serialize>(&self, prefix: &str, rows: &[T]) -> Result<Response, Fail> {
        table(self.format, &format!("{prefix}{}", self.key), rows)
    }
}

async fn api_blocked(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(cc): Path<String>,
) -> Result<Response, Fail> {
    let q = api_read(&s, &ctx, &cc, parse_country)?;
    let rows = s.cfg.store.blocked_now(&q.key, &q.filters).await?;
    q.table("blocked-", &rows)
}

async fn api_series(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(cc): Path<String>,
) -> Result<Response, Fail> {
    let q = api_read(&s, &ctx, &cc, parse_country)?;
    let rows = s.cfg.store.blocked_share_series(&q.key, &q.filters).await?;
    q.table("series-", &rows)
}

async fn api_summary(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(cc): Path<String>,
) -> Result<Response, Fail> {
    let q = api_read(&s, &ctx, &cc, parse_country)?;
    let summary = s.cfg.store.country_summary(&q.key, &q.filters).await?;
    if q.format == Format::Json {
        return Ok(axum::Json(summary).into_response());
    }
    #[derive(Serialize)]
    struct Row {
        country: String,
        measurements: u64,
        blocked_measurements: u64,
        sites_tested: u64,
        sites_blocked: u64,
    }
    q.table(
        "summary-",
        &[Row {
            country: summary.country,
            measurements: summary.measurements,
            blocked_measurements: summary.blocked_measurements,
            sites_tested: summary.sites_tested,
            sites_blocked: summary.sites_blocked,
        }],
    )
}

async fn api_networks(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(cc): Path<String>,
) -> Result<Response, Fail> {
    let q = api_read(&s, &ctx, &cc, parse_country)?;
    let summary = s.cfg.store.country_summary(&q.key, &q.filters).await?;
    q.table("networks-", &summary.networks)
}

/// `?country=`, parsed.
fn country_of(ctx: &Ctx) -> Result<Option<String>, Fail> {
    ctx.query("country").map(parse_country).transpose()
}

async fn api_domain(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(domain): Path<String>,
) -> Result<Response, Fail> {
    let q = api_read(&s, &ctx, &domain, parse_domain)?;
    let country = country_of(&ctx)?;
    let rows = s
        .cfg
        .store
        .domain_timeline(&q.key, country.as_deref(), &q.filters)
        .await?;
    q.table("timeline-", &rows)
}

async fn api_asn(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(asn): Path<String>,
) -> Result<Response, Fail> {
    let q = api_read(&s, &ctx, &asn, parse_asn)?;
    let country = country_of(&ctx)?;
    let rows = s
        .cfg
        .store
        .asn_timeline(q.key, country.as_deref(), &q.filters)
        .await?;
    q.table("timeline-AS", &rows)
}

fn selection_of(ctx: &Ctx) -> Result<Selection, Fail> {
    let f = FilterForm::from_ctx(ctx).filters()?;
    Ok(Selection {
        country: country_of(ctx)?,
        asn: f.asn,
        domain: ctx.query("domain").map(parse_domain).transpose()?,
        category: f.category,
        outcome: ctx
            .query("outcome")
            .map(|o| {
                o.parse()
                    .map_err(|_| Fail::bad("outcome: ok, blocked, down or unknown"))
            })
            .transpose()?,
        from: f.from,
        to: f.to,
    })
}

async fn api_measurements(State(s): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    ctx.require(s.cfg.access.api)?;
    let format = format_of(&ctx)?;
    let sel = selection_of(&ctx)?;
    let limit = ctx
        .query("limit")
        .map(|l| l.parse::<u32>().map_err(|_| Fail::bad("limit: a number")))
        .transpose()?
        .unwrap_or(100)
        .min(canary_store::MAX_PAGE);
    let offset = ctx
        .query("offset")
        .map(|l| l.parse::<u64>().map_err(|_| Fail::bad("offset: a number")))
        .transpose()?
        .unwrap_or(0);
    let rows = s.cfg.store.list_measurements(&sel, limit, offset).await?;
    table(format, "measurements", &rows)
}

async fn api_measurement(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    ctx.require(s.cfg.access.api)?;
    let id = parse_id(&id)?;
    let format = format_of(&ctx)?;
    let Some(m) = s.cfg.store.measurement(id).await? else {
        return crate::social_ui::api_measurement(&s, format, id).await;
    };
    table(
        format,
        &format!("measurement-{}", id.replace(':', "_")),
        &[m.info],
    )
}

async fn api_events(State(s): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    ctx.require(s.cfg.access.api)?;
    let format = format_of(&ctx)?;
    let mut sel = selection_of(&ctx)?;
    sel.category = None;
    sel.outcome = None;
    let rows = s.cfg.store.events(&sel, canary_store::MAX_PAGE).await?;
    table(format, "events", &rows)
}

// --------------------------------------------------------------- collector

fn refusal(r: Refusal) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, axum::Json(r)).into_response()
}

async fn submit(State(s): State<Shared>, ctx: Ctx, body: Body) -> Response {
    if let Err(f) = ctx.require(s.cfg.access.submit) {
        return f.into_response();
    }
    let refused = |r: Refusal| {
        s.stats.submissions_refused.fetch_add(1, Ordering::Relaxed);
        info!(error = r.error, "submission refused");
        refusal(r)
    };
    if let Some(src) = &ctx.source {
        if !s.limiter.allow(src, 1.0) {
            let mut resp = refused(Refusal {
                status: 429,
                error: "rate_limited",
                reason: "too many submissions from this source; retry later".into(),
                line: None,
            });
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return resp;
        }
    }
    let max = s.cfg.max_submission_bytes;
    let bytes: Bytes = match axum::body::to_bytes(body, max).await {
        Ok(b) => b,
        Err(_) => {
            return refused(Refusal {
                status: 413,
                error: "too_large",
                reason: format!("the submission exceeds {max} bytes (or was cut off)"),
                line: None,
            })
        }
    };
    // Verdicts are CPU work: keep them off the async workers.
    let fingerprints = s.cfg.fingerprints.clone();
    let restriction_fingerprints = s.cfg.restriction_fingerprints.clone();
    let categories = s.cfg.categories.clone();
    let max_batch = s.cfg.max_batch;
    let prepared = tokio::task::spawn_blocking(move || {
        let prep = Prepare {
            fingerprints: &fingerprints,
            restriction_fingerprints: &restriction_fingerprints,
            categories: &categories,
            max_batch,
        };
        prepare_submission(&bytes, &prep)
    })
    .await;
    let batch = match prepared {
        Ok(Ok(b)) => b,
        Ok(Err(r)) => return refused(r),
        Err(e) => {
            return Fail::internal(WebError::Config(format!("analysis task: {e}"))).into_response()
        }
    };
    let ids: Vec<String> = batch.iter().map(|m| m.id().to_owned()).collect();
    match crate::collector::store_submission(&s.cfg.store, &batch).await {
        Ok(report) => {
            s.stats
                .submissions_stored
                .fetch_add(report.inserted, Ordering::Relaxed);
            debug!(
                stored = report.inserted,
                duplicates = report.duplicates,
                "submission stored"
            );
            let (status, word) = if report.inserted == 0 {
                (StatusCode::OK, "duplicate")
            } else {
                (StatusCode::CREATED, "stored")
            };
            (
                status,
                axum::Json(serde_json::json!({
                    "status": word,
                    "stored": report.inserted,
                    "duplicates": report.duplicates,
                    "ids": ids,
                })),
            )
                .into_response()
        }
        Err(StoreError::Invalid { what, reason }) => refused(Refusal {
            status: 422,
            error: "invalid_measurement",
            reason: format!("{what}: {reason}"),
            line: None,
        }),
        Err(e) => Fail::internal(e.into()).into_response(),
    }
}

/// Formats an instant as RFC 3339 (for templates and tests).
pub fn format_time(t: OffsetDateTime) -> String {
    rfc3339(t)
}
