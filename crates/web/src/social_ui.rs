//! The social-media panel: service reachability per ISP and restricted pages/accounts.
//!
//! The country page (`/country/{cc}`) ends with this panel, rendered on the
//! server (no JavaScript), in English and Khmer:
//!
//! * **Messaging services on each network**: per service (Messenger,
//!   WhatsApp, Telegram, Signal) × ISP, the latest state (Canary's outcome,
//!   layer, kind and blocked endpoints; OONI's headline), since when it is
//!   blocked, when it was last reached, and a per-day reachability strip
//!   (inline SVG, one bar per UTC day: the share of measurements that
//!   reached the service).
//! * **Restricted pages and accounts**, in two tables that must not be
//!   confused: **restricted by the platform** (the page came, but as the
//!   platform's "not available in your country" notice: a legal demand to
//!   the platform) and **blocked by the network** (the page never came
//!   from inside while the control got it: the ISP). Each row says on which
//!   network, since when (first and last day seen so), whether its latest
//!   check still says so, and what each vantage saw.
//!
//! Every table is exported as JSON or CSV (`?format=csv`) by the API, with
//! the filters of the country page (`asn`, `category`, `from`, `to`):
//!
//! | route | what |
//! |---|---|
//! | `GET /api/v1/countries/{cc}/social` | latest state per service × network ([`canary_store::social::ServiceState`]) |
//! | `GET /api/v1/countries/{cc}/social/series` | per service × network × day ([`canary_store::social::ServiceDay`]) |
//! | `GET /api/v1/countries/{cc}/restricted` | restricted pages ([`canary_store::social::RestrictedPage`]) |
//! | `GET /api/v1/social/{id}/raw` | a social measurement's raw JSON |
//!
//! Each row links to the measurement's own page, `/measurement/{id}` (the
//! page web-connectivity measurements have; `measurement_page`): the
//! test, the service, the network and the time; Canary's label of every
//! endpoint (outcome, layer, kind and the recorded error, in plain words);
//! OONI's verdict keys; for an account check what the probe and the
//! control saw (status, final URL, title), the matched restriction
//! fingerprint and, above all, whether it is **network blocking** or a
//! **platform restriction**; and the raw JSON to download
//! (`/measurement/{id}/raw`). `GET /api/v1/measurements/{id}` gives the
//! same as JSON (or a flat CSV row). The verdict shown is the one
//! **stored** ([`Store::social_verdict`]): what the server decided from
//! the measurement's own records when it arrived, or at the last
//! `canary reanalyse`, with the rules version it names. The page also
//! judges the raw JSON again with today's rules and the server's
//! restriction fingerprints ([`crate::collector::social_verdict_with`]);
//! only when that answer differs from the stored one (exactly when
//! `canary reanalyse` would rewrite it) does it add a note: the stored
//! rules, today's rules and answer, what differs, and the command that
//! stores today's verdict.

use std::collections::BTreeMap;
use std::fmt::Write;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use canary_store::social::{
    RestrictedPage, ServiceDay, ServiceState, SocialVerdictRow, SERVICE_TESTS,
};
use canary_store::{Filters, Store};
use minijinja::Value;
use serde::Serialize;

use crate::chart::escape;
use crate::i18n::Lang;
use crate::server::{api_read, parse_country, parse_id, table, Ctx, Fail, Shared};

/// This area's templates, by name.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    (
        "social_panel.html",
        include_str!("../templates/social_panel.html"),
    ),
    (
        "social_measurement.html",
        include_str!("../templates/social_measurement.html"),
    ),
];

/// This area's routes (each sets its own body limit).
pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/v1/countries/{cc}/social", get(api_social))
        .route("/api/v1/countries/{cc}/social/series", get(api_series))
        .route("/api/v1/countries/{cc}/restricted", get(api_restricted))
        .route("/api/v1/social/{id}/raw", get(api_raw))
        // GETs only: no body is read.
        .layer(DefaultBodyLimit::max(1024))
}

/// One service × network line of the panel.
#[derive(Debug, Serialize)]
struct ServiceLine {
    #[serde(flatten)]
    state: ServiceState,
    /// The per-day reachability strip (SVG).
    strip: String,
}

/// One service with its networks.
#[derive(Debug, Serialize)]
struct ServiceGroup {
    service: String,
    lines: Vec<ServiceLine>,
}

/// What the panel shows.
#[derive(Debug, Serialize)]
struct Panel {
    services: Vec<ServiceGroup>,
    platform_restricted: Vec<RestrictedPage>,
    network_blocked: Vec<RestrictedPage>,
}

fn day_label(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A per-day reachability strip: one stacked bar per UTC day from the
/// first to the last day of `days` (at most a year): green up to the share
/// of measurements that reached the service, red above it; a day without
/// measurements is a grey tick. Each bar has a `<title>` (day and counts)
/// for screen readers and tooltips.
pub fn reachability_strip(days: &[ServiceDay], lang: Lang) -> String {
    const H: f64 = 24.0;
    const BAR: f64 = 5.0;
    const GAP: f64 = 1.0;
    const MAX_DAYS: i64 = 366;
    let mut s = String::new();
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        let _ = write!(s, "{}", escape(lang.t("chart_no_data")));
        return s;
    };
    // At most a year: the latest days.
    let span = (last.day - first.day).whole_days().clamp(0, MAX_DAYS - 1);
    let start = last.day - time::Duration::days(span);
    let n = span + 1;
    let width = n as f64 * (BAR + GAP);
    let label = escape(lang.t("social_strip_label"));
    let _ = write!(
        s,
        r#"<svg class="strip" role="img" aria-label="{label}" viewBox="0 0 {width} {H}" width="{width}" height="{H}" xmlns="http://www.w3.org/2000/svg">"#
    );
    let by_day: BTreeMap<time::Date, &ServiceDay> = days.iter().map(|d| (d.day, d)).collect();
    for i in 0..n {
        let day = start + time::Duration::days(i);
        let x = i as f64 * (BAR + GAP);
        match by_day.get(&day) {
            Some(d) => {
                let share = d.share_reachable.clamp(0.0, 1.0);
                let h = share * H;
                let title = format!(
                    "{}: {} / {} {}",
                    day_label(day),
                    d.reachable,
                    d.measurements,
                    lang.t("social_strip_reached")
                );
                // A stacked bar: reached (green) below, not reached (red) above.
                let _ = write!(s, "<g><title>{}</title>", escape(&title));
                if d.reachable < d.measurements {
                    let _ = write!(
                        s,
                        r##"<rect x="{x}" y="0" width="{BAR}" height="{r:.1}" fill="#c62828"/>"##,
                        r = H - h
                    );
                }
                if d.reachable > 0 {
                    let _ = write!(
                        s,
                        r##"<rect x="{x}" y="{y:.1}" width="{BAR}" height="{h:.1}" fill="#2e7d32"/>"##,
                        y = H - h
                    );
                }
                s.push_str("</g>");
            }
            None => {
                let _ = write!(
                    s,
                    r##"<rect x="{x}" y="{y}" width="{BAR}" height="1" fill="#bbb"/>"##,
                    y = H - 1.0
                );
            }
        }
    }
    s.push_str("</svg>");
    s
}

/// The panel's data for the country page (`social` in `country.html`).
pub(crate) async fn panel(
    store: &Store,
    cc: &str,
    filters: &Filters,
    lang: Lang,
) -> Result<Value, Fail> {
    let states = store.social_latest(cc, filters).await?;
    let series = store.social_series(cc, filters).await?;
    let restricted = store.restricted_pages(cc, filters).await?;
    let mut days: BTreeMap<(String, u32), Vec<ServiceDay>> = BTreeMap::new();
    for d in series {
        days.entry((d.service.clone(), d.asn)).or_default().push(d);
    }
    let mut services: Vec<ServiceGroup> = Vec::new();
    for state in states {
        let strip = reachability_strip(
            days.get(&(state.service.clone(), state.asn))
                .map(Vec::as_slice)
                .unwrap_or(&[]),
            lang,
        );
        let line = ServiceLine { state, strip };
        match services
            .iter_mut()
            .find(|g| g.service == line.state.service)
        {
            Some(g) => g.lines.push(line),
            None => services.push(ServiceGroup {
                service: line.state.service.clone(),
                lines: vec![line],
            }),
        }
    }
    let rank = |s: &str| {
        SERVICE_TESTS
            .iter()
            .position(|t| *t == s)
            .unwrap_or(SERVICE_TESTS.len())
    };
    services.sort_by(|a, b| {
        rank(&a.service)
            .cmp(&rank(&b.service))
            .then(a.service.cmp(&b.service))
    });
    let (platform_restricted, network_blocked): (Vec<_>, Vec<_>) = restricted
        .into_iter()
        .partition(|p| p.status == "platform_restricted");
    Ok(Value::from_serialize(&Panel {
        services,
        platform_restricted,
        network_blocked,
    }))
}

async fn api_social(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(cc): Path<String>,
) -> Result<Response, Fail> {
    let q = api_read(&s, &ctx, &cc, parse_country)?;
    let rows = s.cfg.store.social_latest(&q.key, &q.filters).await?;
    q.table("social-", &rows)
}

async fn api_series(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(cc): Path<String>,
) -> Result<Response, Fail> {
    let q = api_read(&s, &ctx, &cc, parse_country)?;
    let rows = s.cfg.store.social_series(&q.key, &q.filters).await?;
    q.table("social-series-", &rows)
}

async fn api_restricted(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(cc): Path<String>,
) -> Result<Response, Fail> {
    let q = api_read(&s, &ctx, &cc, parse_country)?;
    let mut rows = s.cfg.store.restricted_pages(&q.key, &q.filters).await?;
    if let Some(status) = ctx.query("status") {
        if !matches!(status, "network_blocked" | "platform_restricted") {
            return Err(Fail::bad("status: network_blocked or platform_restricted"));
        }
        rows.retain(|r| r.status == status);
    }
    q.table("restricted-", &rows)
}

async fn api_raw(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    ctx.require(s.cfg.access.raw)?;
    let id = parse_id(&id)?;
    raw_download(&s.cfg.store, id).await
}

/// A social measurement's raw JSON as a download (also served at
/// `/measurement/{id}/raw`); 404 when `id` is not a social measurement.
/// The caller checks access and the id's syntax.
pub(crate) async fn raw_download(store: &Store, id: &str) -> Result<Response, Fail> {
    let Some(m) = store.social_measurement(id).await? else {
        return Err(Fail::not_found());
    };
    let name = id.replace([':', '"', '\\', '/'], "_");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/json; charset=utf-8".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.json\""),
            ),
        ],
        m.raw_json,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn day(d: time::Date, n: u64, ok: u64) -> ServiceDay {
        ServiceDay {
            service: "telegram".into(),
            asn: 1,
            network_name: None,
            day: d,
            measurements: n,
            reachable: ok,
            blocked: n - ok,
            share_reachable: ok as f64 / n as f64,
        }
    }

    #[test]
    fn the_strip_stacks_reached_over_not_reached_and_marks_days_without_data() {
        let green = "fill=\"#2e7d32\"";
        let red = "fill=\"#c62828\"";
        let grey = "fill=\"#bbb\"";
        // (case, days, green bars, red bars, grey ticks)
        let cases = [
            (
                "all reached",
                vec![day(date!(2026 - 11 - 01), 2, 2)],
                1,
                0,
                0,
            ),
            (
                "none reached",
                vec![day(date!(2026 - 11 - 01), 2, 0)],
                0,
                1,
                0,
            ),
            ("half", vec![day(date!(2026 - 11 - 01), 2, 1)], 1, 1, 0),
            (
                "a gap of two days",
                vec![
                    day(date!(2026 - 11 - 01), 1, 1),
                    day(date!(2026 - 11 - 04), 1, 0),
                ],
                1,
                1,
                2,
            ),
        ];
        for (name, days, g, r, t) in cases {
            let svg = reachability_strip(&days, Lang::En);
            assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{name}");
            assert_eq!(svg.matches(green).count(), g, "{name}: {svg}");
            assert_eq!(svg.matches(red).count(), r, "{name}: {svg}");
            assert_eq!(svg.matches(grey).count(), t, "{name}: {svg}");
        }
        let half = reachability_strip(&[day(date!(2026 - 11 - 01), 2, 1)], Lang::En);
        assert!(
            half.contains("<title>2026-11-01: 1 / 2 reached</title>"),
            "{half}"
        );
        assert!(!reachability_strip(&[], Lang::En).contains("<svg"));
    }

    #[test]
    fn differences_name_each_part_of_a_verdict_that_changed() {
        use canary_store::social::{AccountResult, PageSeen};
        use canary_store::Outcome;
        let account = SocialVerdictRow {
            account: Some(AccountResult {
                platform: "telegram".into(),
                url: "https://t.me/s/x".into(),
                owner: None,
                category: None,
                status: "platform_restricted".into(),
                fingerprint: Some("telegram.local_laws".into()),
                layer: None,
                kind: None,
                reason: "the notice".into(),
                probe: PageSeen::default(),
                control: PageSeen::default(),
            }),
            ..SocialVerdictRow::new("telegram", Outcome::Blocked, "restricted")
        };
        type Change = fn(&mut SocialVerdictRow);
        // (case, change to today's verdict, the parts named)
        let cases: [(&str, Change, &[&str]); 6] = [
            ("nothing", |_| {}, &[]),
            ("the outcome", |v| v.outcome = Outcome::Ok, &["col_outcome"]),
            (
                "only the rules version",
                |v| v.rules_version = "2".into(),
                &["verdict_rules_version"],
            ),
            (
                "another fingerprint",
                |v| {
                    if let Some(a) = v.account.as_mut() {
                        a.fingerprint = Some("telegram.other".into());
                    }
                },
                &["verdict_fingerprint"],
            ),
            (
                "the status and its reason",
                |v| {
                    if let Some(a) = v.account.as_mut() {
                        a.status = "reachable".into();
                        a.reason = "both got it".into();
                    }
                },
                &["social_diff_account_status", "verdict_explanation"],
            ),
            (
                "what the probe saw",
                |v| {
                    if let Some(a) = v.account.as_mut() {
                        a.probe.status = Some(200);
                    }
                },
                &["social_views_title"],
            ),
        ];
        for (name, change, want) in cases {
            let mut today = account.clone();
            change(&mut today);
            assert_eq!(differences(&account, &today), want, "{name}");
        }
    }

    #[test]
    fn the_strip_covers_at_most_a_year() {
        let days = [
            day(date!(2020 - 01 - 01), 1, 1),
            day(date!(2026 - 11 - 01), 1, 1),
        ];
        let svg = reachability_strip(&days, Lang::En);
        assert_eq!(
            svg.matches("<rect").count(),
            366,
            "365 grey ticks and the last day"
        );
    }
}

// ------------------------------------------------------- one measurement

/// One social measurement as `/measurement/{id}` and
/// `/api/v1/measurements/{id}` show it: its head (from the stored raw
/// JSON), its stored verdict, and today's judgement when it differs.
#[derive(Debug, Serialize)]
pub(crate) struct SocialMeasurementView {
    id: String,
    test_name: String,
    /// The messaging test, or the platform of an account check.
    service: Option<String>,
    probe_cc: String,
    probe_asn: u32,
    probe_network_name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    measurement_start_time: time::OffsetDateTime,
    software_name: Option<String>,
    software_version: Option<String>,
    report_id: Option<String>,
    /// The page's URL (account checks).
    input: Option<String>,
    /// The verdict stored at ingest or by the last `canary reanalyse`.
    verdict: SocialVerdictRow,
    /// Today's judgement, only when it differs from the stored verdict.
    rejudged: Option<Rejudged>,
    /// Where the raw JSON is downloaded.
    raw_url: String,
}

/// What today's rules say of a stored measurement whose stored verdict
/// they would not give.
#[derive(Debug, Serialize)]
struct Rejudged {
    /// Today's verdict; `None` when today's rules refuse the measurement
    /// (then `error` says why).
    verdict: Option<SocialVerdictRow>,
    error: Option<String>,
    /// The parts that differ, as catalog keys of their labels (`col_outcome`…).
    differs: Vec<&'static str>,
}

/// The parts of two verdicts that differ, as the catalog keys of their
/// labels, in the page's order; empty when they are equal.
fn differences(stored: &SocialVerdictRow, today: &SocialVerdictRow) -> Vec<&'static str> {
    let status = |v: &SocialVerdictRow| v.account.as_ref().map(|a| a.status.clone());
    let fingerprint = |v: &SocialVerdictRow| v.account.as_ref().and_then(|a| a.fingerprint.clone());
    let views = |v: &SocialVerdictRow| {
        v.account
            .as_ref()
            .map(|a| (a.probe.clone(), a.control.clone()))
    };
    let reason = |v: &SocialVerdictRow| v.account.as_ref().map(|a| a.reason.clone());
    [
        (stored.outcome != today.outcome, "col_outcome"),
        (
            status(stored) != status(today),
            "social_diff_account_status",
        ),
        (stored.layer != today.layer, "col_layer"),
        (stored.kind != today.kind, "col_kind"),
        (
            fingerprint(stored) != fingerprint(today),
            "verdict_fingerprint",
        ),
        (
            stored.endpoints != today.endpoints,
            "social_endpoints_title",
        ),
        (views(stored) != views(today), "social_views_title"),
        (
            stored.ooni_keys != today.ooni_keys || stored.ooni_blocked != today.ooni_blocked,
            "social_ooni_keys_title",
        ),
        (
            stored.explanation != today.explanation || reason(stored) != reason(today),
            "verdict_explanation",
        ),
        (stored.service != today.service, "social_col_service"),
        (
            stored.rules_version != today.rules_version,
            "verdict_rules_version",
        ),
    ]
    .into_iter()
    .filter_map(|(differs, key)| differs.then_some(key))
    .collect()
}

/// Judges a stored measurement again with today's rules: `None` when
/// today's answer is the stored one (what `canary reanalyse` leaves alone).
fn rejudge(
    raw: &[u8],
    stored: &SocialVerdictRow,
    fingerprints: &canary_social::restriction::Fingerprints,
) -> Option<Rejudged> {
    match crate::collector::social_verdict_with(raw, fingerprints) {
        Ok(today) if &today == stored => None,
        Ok(today) => Some(Rejudged {
            differs: differences(stored, &today),
            verdict: Some(today),
            error: None,
        }),
        Err(refusal) => Some(Rejudged {
            verdict: None,
            error: Some(refusal.reason),
            differs: Vec::new(),
        }),
    }
}

/// The flat CSV row of [`SocialMeasurementView`].
#[derive(Debug, Serialize)]
struct SocialMeasurementRow<'a> {
    id: &'a str,
    test_name: &'a str,
    service: Option<&'a str>,
    probe_cc: &'a str,
    probe_asn: u32,
    probe_network_name: Option<&'a str>,
    measurement_start_time: String,
    outcome: &'a str,
    layer: Option<&'a str>,
    kind: Option<&'a str>,
    account_status: Option<&'a str>,
    ooni_blocked: Option<bool>,
    explanation: &'a str,
    rules_version: &'a str,
    /// Today's rules would give another verdict (see the page or JSON).
    rejudged: bool,
}

/// Reads a social measurement with its stored verdict and judges it again;
/// `None` when `id` is not one.
async fn social_view(
    s: &Shared,
    id: &str,
) -> Result<Option<(SocialMeasurementView, serde_json::Value)>, Fail> {
    let Some(m) = s.cfg.store.social_measurement(id).await? else {
        return Ok(None);
    };
    let raw: serde_json::Value = serde_json::from_str(&m.raw_json).unwrap_or_default();
    let text = |k: &str| {
        raw.get(k)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let Some(verdict) = s.cfg.store.social_verdict(id).await? else {
        return Ok(None);
    };
    let rejudged = rejudge(
        m.raw_json.as_bytes(),
        &verdict,
        &s.cfg.restriction_fingerprints,
    );
    let view = SocialMeasurementView {
        service: Some(verdict.service.clone()),
        raw_url: format!("/measurement/{}/raw", m.id),
        probe_network_name: text("probe_network_name"),
        software_name: text("software_name"),
        software_version: text("software_version"),
        report_id: text("report_id"),
        input: text("input"),
        id: m.id,
        test_name: m.test_name,
        probe_cc: m.probe_cc,
        probe_asn: m.probe_asn,
        measurement_start_time: m.measurement_start_time,
        verdict,
        rejudged,
    };
    Ok(Some((view, raw)))
}

/// `/measurement/{id}` for a social measurement (the caller checked
/// access, the id's syntax, and that it is no web-connectivity one).
pub(crate) async fn measurement_page(s: &Shared, ctx: &Ctx, id: &str) -> Result<Response, Fail> {
    let Some((view, raw)) = social_view(s, id).await? else {
        return Err(Fail::not_found());
    };
    let raw_pretty = serde_json::to_string_pretty(&raw).unwrap_or_default();
    let ooni_keys: Vec<(String, String)> = view
        .verdict
        .ooni_keys
        .iter()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect();
    ctx.render(
        "social_measurement.html",
        minijinja::context! {
            m => Value::from_serialize(&view),
            ooni_keys => Value::from_serialize(&ooni_keys),
            raw_pretty => raw_pretty,
        },
    )
}

/// `/api/v1/measurements/{id}` for a social measurement: JSON (a list of
/// one [`SocialMeasurementView`], like web connectivity's) or a flat CSV
/// row.
pub(crate) async fn api_measurement(
    s: &Shared,
    format: crate::server::Format,
    id: &str,
) -> Result<Response, Fail> {
    let Some((view, _)) = social_view(s, id).await? else {
        return Err(Fail::not_found());
    };
    let name = format!("measurement-{}", id.replace(':', "_"));
    match format {
        crate::server::Format::Json => table(format, &name, &[view]),
        crate::server::Format::Csv => {
            let v = &view.verdict;
            let row = SocialMeasurementRow {
                id: &view.id,
                test_name: &view.test_name,
                service: view.service.as_deref(),
                probe_cc: &view.probe_cc,
                probe_asn: view.probe_asn,
                probe_network_name: view.probe_network_name.as_deref(),
                measurement_start_time: view
                    .measurement_start_time
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                outcome: v.outcome.as_str(),
                layer: v.layer.as_deref(),
                kind: v.kind.as_deref(),
                account_status: v.account.as_ref().map(|a| a.status.as_str()),
                ooni_blocked: v.ooni_blocked,
                explanation: &v.explanation,
                rules_version: &v.rules_version,
                rejudged: view.rejudged.is_some(),
            };
            table(format, &name, &[row])
        }
    }
}
