//! The registry's read-only pages.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use canary_registry::{ActType, AuditLog, Dataset, FuzzyDate, Status};
use minijinja::{context, Value};
use serde::Serialize;
use time::{Date, OffsetDateTime};

use super::view::{self, terms};
use super::{data, reveal_or_redact, view as view_of, Who};
use crate::chart::escape;
use crate::i18n::Lang;
use crate::server::{Ctx, Fail, Shared};

/// `/registry` → the incident list.
pub(crate) async fn home() -> Response {
    Redirect::to("/registry/incidents").into_response()
}

/// Checks that a path id is a registry id (`prefix` + `[a-z0-9_-]`).
pub(crate) fn parse_record_id<'a>(prefix: &str, id: &'a str) -> Result<&'a str, Fail> {
    canary_registry::meta::check_id(prefix, id).map_err(|e| Fail::bad(e.to_string()))?;
    Ok(id)
}

fn parse_date(what: &str, s: &str) -> Result<Date, Fail> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, fmt).map_err(|_| Fail::bad(format!("{what}: a date as YYYY-MM-DD")))
}

/// The incident list's filters, as given.
#[derive(Debug, Default, Clone, Serialize)]
pub(crate) struct IncidentFilter {
    act_type: Option<String>,
    law: Option<String>,
    provision: Option<String>,
    from: Option<String>,
    to: Option<String>,
    status: Option<String>,
    org: Option<String>,
}

/// Parsed filters.
struct Parsed {
    act_type: Option<ActType>,
    law: Option<String>,
    provision: Option<String>,
    from: Option<Date>,
    to: Option<Date>,
    status: Option<Status>,
    org: Option<String>,
}

impl IncidentFilter {
    pub(crate) fn from_ctx(ctx: &Ctx) -> IncidentFilter {
        let q = |k: &str| ctx.query(k).map(str::to_owned);
        IncidentFilter {
            act_type: q("act_type"),
            law: q("law"),
            provision: q("provision"),
            from: q("from"),
            to: q("to"),
            status: q("status"),
            org: q("org"),
        }
    }

    fn parse(&self) -> Result<Parsed, Fail> {
        let bad = |e: canary_registry::Error| Fail::bad(e.to_string());
        let p = Parsed {
            act_type: self
                .act_type
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(bad)?,
            law: self
                .law
                .as_deref()
                .map(|l| parse_record_id("law_", l).map(str::to_owned))
                .transpose()?,
            provision: self
                .provision
                .as_deref()
                .map(|l| parse_record_id("prov_", l).map(str::to_owned))
                .transpose()?,
            from: self
                .from
                .as_deref()
                .map(|d| parse_date("from", d))
                .transpose()?,
            to: self
                .to
                .as_deref()
                .map(|d| parse_date("to", d))
                .transpose()?,
            status: self
                .status
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(bad)?,
            org: self
                .org
                .as_deref()
                .map(|l| parse_record_id("org_", l).map(str::to_owned))
                .transpose()?,
        };
        if let (Some(f), Some(t)) = (p.from, p.to) {
            if f > t {
                return Err(Fail::bad("from: must be on or before to"));
            }
        }
        Ok(p)
    }
}

/// The incidents of `view` that pass the filter, newest first.
pub(crate) fn filter_incidents<'a>(
    view: &'a Dataset,
    f: &IncidentFilter,
) -> Result<Vec<&'a canary_registry::Incident>, Fail> {
    let p = f.parse()?;
    let provisions_of_law: BTreeSet<&str> = match &p.law {
        Some(law) => view
            .provisions
            .iter()
            .filter(|pr| &pr.law_id == law)
            .map(|pr| pr.meta.id.as_str())
            .collect(),
        None => BTreeSet::new(),
    };
    let mut out: Vec<&canary_registry::Incident> = view
        .incidents
        .iter()
        .filter(|i| {
            let acts: Vec<&canary_registry::Act> = view
                .acts
                .iter()
                .filter(|a| a.incident_id == i.meta.id)
                .collect();
            let invoked = |pred: &dyn Fn(&str) -> bool| {
                view.invocations
                    .iter()
                    .any(|inv| acts.iter().any(|a| a.id == inv.act_id) && pred(&inv.provision_id))
            };
            p.act_type
                .is_none_or(|t| acts.iter().any(|a| a.act_type == t))
                && p.provision
                    .as_deref()
                    .is_none_or(|pr| invoked(&|x| x == pr))
                && (p.law.is_none() || invoked(&|x| provisions_of_law.contains(x)))
                && p.from
                    .is_none_or(|from| i.end.map_or(i.start.date(), |e| e.date()) >= from)
                && p.to.is_none_or(|to| i.start.date() <= to)
                && p.status.is_none_or(|s| i.meta.status == s)
                && p.org.as_deref().is_none_or(|o| i.meta.org == o)
        })
        .collect();
    out.sort_by(|a, b| b.start.cmp(&a.start).then(a.meta.id.cmp(&b.meta.id)));
    Ok(out)
}

/// Incidents per page of the list.
const PAGE_ROWS: usize = 200;

#[derive(Serialize)]
struct Opt {
    code: String,
    label: String,
}

/// `GET /registry/incidents`
pub(crate) async fn incidents(State(s): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let page = async {
        ctx.require(s.cfg.access.explorer)?;
        let who = Who::of(&s, &ctx);
        let ds = view_of(&s, &who).await?;
        let f = IncidentFilter::from_ctx(&ctx);
        let found = filter_incidents(&ds, &f)?;
        let total = found.len();
        let page: usize = match ctx.query("page") {
            None => 1,
            Some(p) => p
                .parse()
                .ok()
                .filter(|p| *p >= 1)
                .ok_or_else(|| Fail::bad("page: a whole number from 1"))?,
        };
        let rows: Vec<view::IncidentRow> = found
            .into_iter()
            .skip((page - 1).saturating_mul(PAGE_ROWS))
            .take(PAGE_ROWS)
            .map(|i| view::incident_row(&ds, i, lang))
            .collect();
        let link = |p: usize| {
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in [
                ("act_type", &f.act_type),
                ("law", &f.law),
                ("provision", &f.provision),
                ("from", &f.from),
                ("to", &f.to),
                ("status", &f.status),
                ("org", &f.org),
            ] {
                if let Some(v) = v {
                    ser.append_pair(k, v);
                }
            }
            ser.append_pair("page", &p.to_string());
            format!("/registry/incidents?{}", ser.finish())
        };
        let prev_url = (page > 1).then(|| link(page - 1));
        let next_url = (page.saturating_mul(PAGE_ROWS) < total).then(|| link(page + 1));
        let laws: Vec<Opt> = ds
            .laws
            .iter()
            .map(|l| Opt {
                code: l.meta.id.clone(),
                label: format!("{} — {}", l.code, l.name_en),
            })
            .collect();
        let provisions: Vec<Opt> = ds
            .provisions
            .iter()
            .map(|p| Opt {
                code: p.meta.id.clone(),
                label: view::provision_label(&ds, &p.meta.id).0,
            })
            .collect();
        let orgs: Vec<Opt> = ds
            .organisations
            .iter()
            .map(|o| Opt {
                code: o.id.clone(),
                label: view::org_name(&ds, &o.id, lang),
            })
            .collect();
        ctx.render(
            "registry_incidents.html",
            context! {
                f => Value::from_serialize(&f),
                rows => Value::from_serialize(&rows),
                total => total,
                prev_url => prev_url,
                next_url => next_url,
                act_types => Value::from_serialize(terms!(ActType, lang)),
                statuses => Value::from_serialize(terms!(Status, lang)),
                laws => Value::from_serialize(&laws),
                provisions => Value::from_serialize(&provisions),
                orgs => Value::from_serialize(&orgs),
                can_create => who.can_create(),
            },
        )
    };
    page.await.map_err(|f| f.html(lang))
}

/// Persists the audit entries of `log` (reveals of sensitive fields).
pub(crate) async fn persist_audit(s: &Shared, log: &AuditLog) -> Result<(), Fail> {
    if log.entries().is_empty() {
        return Ok(());
    }
    data::audit(s, log.entries()).await
}

/// `GET /registry/incidents/{id}`
pub(crate) async fn incident(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let page = async {
        ctx.require(s.cfg.access.explorer)?;
        let id = parse_record_id("inc_", &id)?;
        let who = Who::of(&s, &ctx);
        let ds = view_of(&s, &who).await?;
        let Some(inc) = ds.incidents.iter().find(|i| i.meta.id == id) else {
            return Err(Fail::not_found());
        };
        let now = OffsetDateTime::now_utc();
        let mut audit = AuditLog::new();
        let inc = reveal_or_redact(inc, &who, &mut audit, now);
        let mut acts: Vec<&canary_registry::Act> =
            ds.acts.iter().filter(|a| a.incident_id == id).collect();
        acts.sort_by_key(|a| (a.date.map(|d| d.date()), a.id.clone()));
        let act_ids: BTreeSet<&str> = acts.iter().map(|a| a.id.as_str()).collect();
        // Actors named in the acts, revealed or redacted for this reader.
        let actor_ids: BTreeSet<&str> = acts
            .iter()
            .filter_map(|a| a.victim_id.as_deref())
            .chain(
                ds.involvements
                    .iter()
                    .filter(|i| act_ids.contains(i.act_id.as_str()))
                    .map(|i| i.actor_id.as_str()),
            )
            .collect();
        let actors: Vec<canary_registry::Actor> = ds
            .actors
            .iter()
            .filter(|a| actor_ids.contains(a.meta.id.as_str()))
            .map(|a| reveal_or_redact(a, &who, &mut audit, now))
            .collect();
        let acts_view: Vec<view::ActView> = acts
            .iter()
            .map(|a| view::act(&ds, a, &actors, lang))
            .collect();
        let mut record_ids: BTreeSet<&str> = act_ids.clone();
        record_ids.insert(id);
        let evidence: Vec<view::EvidenceView> = ds
            .evidence
            .iter()
            .filter(|e| e.linked_ids.iter().any(|l| record_ids.contains(l.as_str())))
            .map(|e| {
                let e = reveal_or_redact(e, &who, &mut audit, now);
                view::evidence(&ds, &e, lang)
            })
            .collect();
        let mut notes: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for c in ds
            .citations
            .iter()
            .filter(|c| record_ids.contains(c.record_id.as_str()))
        {
            notes
                .entry(c.source_id.as_str())
                .or_default()
                .extend(c.note.clone());
        }
        let sources: Vec<view::SourceView> = ds
            .sources
            .iter()
            .filter(|src| notes.contains_key(src.meta.id.as_str()))
            .map(|src| {
                let src = reveal_or_redact(src, &who, &mut audit, now);
                let n = notes.get(src.meta.id.as_str()).cloned().unwrap_or_default();
                let mut v = view::source(&src, n, lang);
                v.archives = view::archives(&ds, &src.meta.id);
                v
            })
            .collect();
        let links: Vec<(String, String, &'static str)> = ds
            .incident_links
            .iter()
            .filter(|l| l.from == id || l.to == id)
            .map(|l| {
                let other = if l.from == id { &l.to } else { &l.from };
                let t = ds
                    .incidents
                    .iter()
                    .find(|i| &i.meta.id == other)
                    .map(|i| view::title(i, lang))
                    .unwrap_or_default();
                (other.clone(), t, l.kind.label(lang.code()))
            })
            .collect();
        persist_audit(&s, &audit).await?;
        let can_write = canary_registry::can_write(&who.p, &inc.meta);
        let moves: Vec<view::Term> = Status::ALL
            .iter()
            .filter(|to| {
                inc.meta.status.can_move_to(**to)
                    && canary_registry::can_transition(&who.p, &inc.meta, **to)
            })
            .map(|t| view::Term {
                code: t.as_str(),
                label: t.label(lang.code()),
            })
            .collect();
        ctx.render(
            "registry_incident.html",
            context! {
                i => Value::from_serialize(view::incident_row(&ds, &inc, lang)),
                summary => inc.summary.clone(),
                place_country => inc.place.country.clone(),
                place_area => inc.place.area.clone().unwrap_or_default(),
                place_precision => inc.place.precision.label(lang.code()),
                place_exact => Value::from_serialize(view::sens(inc.place.exact.as_ref())),
                rights => inc.rights_affected.iter().map(|r| r.label(lang.code())).collect::<Vec<_>>(),
                tags => inc.tags.clone(),
                verified => inc.verified,
                unverified_note => inc.unverified_note.clone().unwrap_or_default(),
                acts => Value::from_serialize(&acts_view),
                evidence => Value::from_serialize(&evidence),
                sources => Value::from_serialize(&sources),
                links => Value::from_serialize(&links),
                can_write => can_write,
                moves => Value::from_serialize(&moves),
                visibilities => Value::from_serialize(if canary_registry::can_manage(&who.p, &inc.meta) {
                    terms!(canary_registry::Visibility, lang)
                } else {
                    Vec::new()
                }),
            },
        )
    };
    page.await.map_err(|f| f.html(lang))
}

/// `GET /registry/laws`
pub(crate) async fn laws(State(s): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let page = async {
        ctx.require(s.cfg.access.explorer)?;
        let who = Who::of(&s, &ctx);
        let ds = view_of(&s, &who).await?;
        #[derive(Serialize)]
        struct Row {
            id: String,
            code: String,
            name: String,
            instrument: &'static str,
            adopted: String,
            legal_status: &'static str,
            provisions: usize,
            invocations: usize,
        }
        let rows: Vec<Row> = ds
            .laws
            .iter()
            .map(|l| {
                let provs: BTreeSet<&str> = ds
                    .provisions
                    .iter()
                    .filter(|p| p.law_id == l.meta.id)
                    .map(|p| p.meta.id.as_str())
                    .collect();
                Row {
                    id: l.meta.id.clone(),
                    code: l.code.clone(),
                    name: match (&l.name_km, lang) {
                        (Some(km), Lang::Km) => km.clone(),
                        _ => l.name_en.clone(),
                    },
                    instrument: l.instrument_type.label(lang.code()),
                    adopted: view::date(l.adopted.as_ref()),
                    legal_status: l.legal_status.label(lang.code()),
                    provisions: provs.len(),
                    invocations: ds
                        .invocations
                        .iter()
                        .filter(|i| provs.contains(i.provision_id.as_str()))
                        .count(),
                }
            })
            .collect();
        ctx.render(
            "registry_laws.html",
            context! {
                rows => Value::from_serialize(&rows),
                can_create => who.can_create(),
            },
        )
    };
    page.await.map_err(|f| f.html(lang))
}

/// One invocation plotted on the law chart.
pub(crate) struct Dot {
    row: usize,
    date: Date,
    incident_id: String,
    label: String,
}

/// Provisions (rows) × time: one dot per act that invoked the provision,
/// at the invocation's date (else the act's). Pure SVG, no script.
pub(crate) fn law_chart(rows: &[String], dots: &[Dot], lang: Lang) -> String {
    const W: f64 = 800.0;
    const LEFT: f64 = 120.0;
    const RIGHT: f64 = 16.0;
    const TOP: f64 = 16.0;
    const ROW: f64 = 28.0;
    const BOTTOM: f64 = 32.0;
    let h = TOP + ROW * rows.len().max(1) as f64 + BOTTOM;
    let title = escape(lang.t("reg_chart_title"));
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart law" role="img" aria-label="{title}" viewBox="0 0 {W} {h}" width="100%" xmlns="http://www.w3.org/2000/svg"><title>{title}</title>"#
    );
    if dots.is_empty() {
        let _ = write!(
            s,
            r##"<text x="{x}" y="{y}" font-size="13" text-anchor="middle" fill="#555">{t}</text></svg>"##,
            x = W / 2.0,
            y = h / 2.0,
            t = escape(lang.t("reg_chart_none"))
        );
        return s;
    }
    let first = dots.iter().map(|d| d.date.year()).min().unwrap_or(2000);
    let last = dots.iter().map(|d| d.date.year()).max().unwrap_or(first) + 1;
    let span = f64::from((last - first).max(1));
    let plot_w = W - LEFT - RIGHT;
    let x_of = |d: Date| {
        let frac = f64::from(d.ordinal() - 1) / 366.0;
        LEFT + plot_w * (f64::from(d.year() - first) + frac) / span
    };
    let step = ((last - first) / 8).max(1);
    let mut y = first;
    while y <= last {
        let x = LEFT + plot_w * f64::from(y - first) / span;
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{y2:.1}" stroke="#ddd"/><text x="{x:.1}" y="{ty:.1}" font-size="11" text-anchor="middle" fill="#333">{y}</text>"##,
            y2 = h - BOTTOM,
            ty = h - BOTTOM + 16.0
        );
        y += step;
    }
    for (i, r) in rows.iter().enumerate() {
        let cy = TOP + ROW * i as f64 + ROW / 2.0;
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" x2="{x2}" y1="{cy:.1}" y2="{cy:.1}" stroke="#eee"/><text x="{tx}" y="{ty:.1}" font-size="12" text-anchor="end" fill="#222">{t}</text>"##,
            x2 = W - RIGHT,
            tx = LEFT - 6.0,
            ty = cy + 4.0,
            t = escape(r)
        );
    }
    for d in dots {
        let cy = TOP + ROW * d.row as f64 + ROW / 2.0;
        let _ = write!(
            s,
            r##"<a href="/registry/incidents/{id}"><circle class="inv" cx="{cx:.1}" cy="{cy:.1}" r="6" fill="#b3261e" fill-opacity="0.7"><title>{t}</title></circle></a>"##,
            id = escape(&d.incident_id),
            cx = x_of(d.date),
            t = escape(&d.label)
        );
    }
    s.push_str("</svg>");
    s
}

/// `GET /registry/laws/{id}`
pub(crate) async fn law(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let page = async {
        ctx.require(s.cfg.access.explorer)?;
        let id = parse_record_id("law_", &id)?;
        let who = Who::of(&s, &ctx);
        let ds = view_of(&s, &who).await?;
        let Some(law) = ds.laws.iter().find(|l| l.meta.id == id) else {
            return Err(Fail::not_found());
        };
        let mut provisions: Vec<&canary_registry::Provision> =
            ds.provisions.iter().filter(|p| p.law_id == id).collect();
        provisions.sort_by_key(|p| natural(&p.article));
        #[derive(Serialize)]
        struct Use {
            incident_id: String,
            incident: String,
            act_type: &'static str,
            role: &'static str,
            date: String,
        }
        #[derive(Serialize)]
        struct ProvView {
            id: String,
            article: String,
            paraphrase: String,
            legal_status: &'static str,
            rights: Vec<&'static str>,
            uses: Vec<Use>,
            can_edit: bool,
        }
        let mut rows = Vec::new();
        let mut dots = Vec::new();
        let mut provs = Vec::new();
        for (row, p) in provisions.iter().enumerate() {
            rows.push(format!("{} {}", law.code, p.article));
            let mut uses = Vec::new();
            for inv in ds
                .invocations
                .iter()
                .filter(|i| i.provision_id == p.meta.id)
            {
                let Some(act) = ds.acts.iter().find(|a| a.id == inv.act_id) else {
                    continue;
                };
                let inc = ds.incidents.iter().find(|i| i.meta.id == act.incident_id);
                let when: Option<FuzzyDate> = inv.date.or(act.date);
                let title = inc.map(|i| view::title(i, lang)).unwrap_or_default();
                if let Some(d) = when {
                    dots.push(Dot {
                        row,
                        date: d.date(),
                        incident_id: act.incident_id.clone(),
                        label: format!("{d} · {title}"),
                    });
                }
                uses.push(Use {
                    incident_id: act.incident_id.clone(),
                    incident: title,
                    act_type: act.act_type.label(lang.code()),
                    role: inv.role.label(lang.code()),
                    date: view::date(when.as_ref()),
                });
            }
            uses.sort_by(|a, b| a.date.cmp(&b.date));
            provs.push(ProvView {
                id: p.meta.id.clone(),
                article: p.article.clone(),
                paraphrase: match (&p.paraphrase_km, lang) {
                    (Some(km), Lang::Km) => km.clone(),
                    _ => p.paraphrase_en.clone(),
                },
                legal_status: p.legal_status.label(lang.code()),
                rights: p
                    .rights_restricted
                    .iter()
                    .map(|r| r.label(lang.code()))
                    .collect(),
                uses,
                can_edit: canary_registry::can_write(&who.p, &p.meta),
            });
        }
        let chart = law_chart(&rows, &dots, lang);
        ctx.render(
            "registry_law.html",
            context! {
                law => Value::from_serialize(view::meta(&ds, &law.meta, lang)),
                code => law.code.clone(),
                name => match (&law.name_km, lang) {
                    (Some(km), Lang::Km) => km.clone(),
                    _ => law.name_en.clone(),
                },
                name_en => law.name_en.clone(),
                instrument => law.instrument_type.label(lang.code()),
                legal_status => law.legal_status.label(lang.code()),
                adopted => view::date(law.adopted.as_ref()),
                summary => law.summary_en.clone().unwrap_or_default(),
                provisions => Value::from_serialize(&provs),
                chart => Value::from_safe_string(chart),
                can_edit => canary_registry::can_write(&who.p, &law.meta),
                can_create => who.can_create(),
            },
        )
    };
    page.await.map_err(|f| f.html(lang))
}

/// Sort key for article numbers: "41" < "437 bis" < "494".
fn natural(article: &str) -> (u64, String) {
    let digits: String = article.chars().take_while(char::is_ascii_digit).collect();
    (digits.parse().unwrap_or(u64::MAX), article.to_owned())
}

/// A recommendation or benchmark with its latest assessment.
#[derive(Serialize)]
struct Tracked {
    id: String,
    mechanism: String,
    symbol: String,
    paragraph: String,
    cycle: String,
    states: String,
    text: String,
    response: String,
    response_code: String,
    latest: Option<AssessmentView>,
    /// The earlier assessments, newest first (status over time).
    earlier: Vec<AssessmentView>,
    history: usize,
    /// Whether the reader may edit it (the edit link).
    can_edit: bool,
}

#[derive(Serialize)]
struct AssessmentView {
    id: String,
    /// Made by the reader's organisation (they may withdraw it).
    mine: bool,
    date: String,
    status: &'static str,
    status_code: &'static str,
    by: String,
    note: String,
    evidence: Vec<(String, String)>,
}

/// A target's assessments, oldest first.
fn assessment_for(
    ds: &Dataset,
    target: &str,
    org: Option<&str>,
    lang: Lang,
) -> Vec<AssessmentView> {
    let mut all: Vec<&canary_registry::Assessment> = ds
        .assessments
        .iter()
        .filter(|a| a.target_id == target)
        .collect();
    all.sort_by_key(|a| a.date);
    all.into_iter()
        .map(|a| AssessmentView {
            id: a.id.clone(),
            mine: org == Some(a.assessed_by.as_str()),
            date: a.date.to_string(),
            status: a.status.label(lang.code()),
            status_code: a.status.as_str(),
            by: view::org_name(ds, &a.assessed_by, lang),
            note: a.note.clone(),
            evidence: a
                .evidence_ids
                .iter()
                .map(|e| {
                    let link = if e.starts_with("inc_") {
                        format!("/registry/incidents/{e}")
                    } else if e.starts_with("src_") {
                        format!("/registry/sources#{e}")
                    } else if e.starts_with("act_") {
                        ds.acts
                            .iter()
                            .find(|x| &x.id == e)
                            .map(|x| format!("/registry/incidents/{}", x.incident_id))
                            .unwrap_or_default()
                    } else {
                        String::new()
                    };
                    (e.clone(), link)
                })
                .collect(),
        })
        .collect()
}

/// The latest assessment, the earlier ones newest first, and how many.
fn assessments_of(
    ds: &Dataset,
    target: &str,
    org: Option<&str>,
    lang: Lang,
) -> (Option<AssessmentView>, Vec<AssessmentView>, usize) {
    let mut all = assessment_for(ds, target, org, lang);
    let n = all.len();
    let latest = all.pop();
    all.reverse();
    (latest, all, n)
}

/// `GET /registry/recommendations`
pub(crate) async fn recommendations(State(s): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let page = async {
        ctx.require(s.cfg.access.explorer)?;
        let who = Who::of(&s, &ctx);
        let ds = view_of(&s, &who).await?;
        let l = lang.code();
        let mut recs: Vec<Tracked> = ds
            .recommendations
            .iter()
            .map(|r| {
                let (latest, earlier, history) = assessments_of(&ds, &r.meta.id, who.org(), lang);
                Tracked {
                    id: r.meta.id.clone(),
                    mechanism: r.mechanism.label(l).to_owned(),
                    symbol: r.document_symbol.clone(),
                    paragraph: r.paragraph.clone(),
                    cycle: r.cycle.map(|c| c.to_string()).unwrap_or_default(),
                    states: r.recommending_states.join(", "),
                    text: r.text.clone(),
                    response: r
                        .response
                        .map(|x| x.label(l).to_owned())
                        .unwrap_or_default(),
                    response_code: r
                        .response
                        .map(|x| x.as_str().to_owned())
                        .unwrap_or_default(),
                    latest,
                    earlier,
                    history,
                    can_edit: canary_registry::can_write(&who.p, &r.meta),
                }
            })
            .collect();
        recs.sort_by(|a, b| (&a.symbol, &a.paragraph).cmp(&(&b.symbol, &b.paragraph)));
        let benchmarks: Vec<Tracked> = ds
            .benchmarks
            .iter()
            .map(|b| {
                let (latest, earlier, history) = assessments_of(&ds, &b.meta.id, who.org(), lang);
                Tracked {
                    id: b.meta.id.clone(),
                    mechanism: String::new(),
                    symbol: b.source_document.clone(),
                    paragraph: String::new(),
                    cycle: String::new(),
                    states: String::new(),
                    text: b.text.clone(),
                    response: b.theme.clone().unwrap_or_default(),
                    response_code: String::new(),
                    latest,
                    earlier,
                    history,
                    can_edit: canary_registry::can_write(&who.p, &b.meta),
                }
            })
            .collect();
        let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
        for r in &recs {
            let k = r
                .latest
                .as_ref()
                .map_or(lang.t("reg_not_assessed"), |a| a.status);
            *counts.entry(k).or_default() += 1;
        }
        ctx.render(
            "registry_recommendations.html",
            context! {
                recs => Value::from_serialize(&recs),
                benchmarks => Value::from_serialize(&benchmarks),
                counts => Value::from_serialize(&counts),
                can_create => who.can_create(),
            },
        )
    };
    page.await.map_err(|f| f.html(lang))
}

/// `GET /registry/evidence/{id}`
pub(crate) async fn evidence(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let page = async {
        ctx.require(s.cfg.access.explorer)?;
        let id = parse_record_id("ev_", &id)?;
        let who = Who::of(&s, &ctx);
        let ds = view_of(&s, &who).await?;
        let Some(e) = ds.evidence.iter().find(|e| e.meta.id == id) else {
            return Err(Fail::not_found());
        };
        let mut audit = AuditLog::new();
        let e = reveal_or_redact(e, &who, &mut audit, OffsetDateTime::now_utc());
        persist_audit(&s, &audit).await?;
        ctx.render(
            "registry_evidence.html",
            context! {
                e => Value::from_serialize(view::evidence(&ds, &e, lang)),
                just_uploaded => false,
                created => false,
                can_download => s.cfg.evidence_dir.is_some()
                    && canary_registry::can_read_sensitive(&who.p, &e.meta),
            },
        )
    };
    page.await.map_err(|f| f.html(lang))
}

/// `GET /registry/evidence/{id}/file`: the stored original, re-hashed on
/// read, for the owning organisation's analysts and admins only (files
/// can hold what redaction hides elsewhere); every download is appended
/// to the item's custody chain as `exported`. Served as an attachment of
/// type `application/octet-stream` whatever it contains.
pub(crate) async fn evidence_file(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    use axum::http::{header, StatusCode};
    ctx.require(s.cfg.access.explorer)?;
    let id = parse_record_id("ev_", &id)?.to_owned();
    let who = Who::of(&s, &ctx);
    let ds = view_of(&s, &who).await?;
    let Some(e) = ds.evidence.iter().find(|e| e.meta.id == id) else {
        return Err(Fail::not_found());
    };
    if !canary_registry::can_read_sensitive(&who.p, &e.meta) {
        return Err(match who.p {
            canary_registry::Principal::Anonymous => {
                Fail::new(StatusCode::UNAUTHORIZED, "error_login_required")
            }
            _ => Fail::new(StatusCode::FORBIDDEN, "error_forbidden"),
        });
    }
    let Some(dir) = s.cfg.evidence_dir.clone() else {
        return Err(Fail::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "reg_error_no_evidence_dir",
        ));
    };
    let sha = e.sha256.clone();
    let wanted = sha.clone();
    let bytes = tokio::task::spawn_blocking(move || {
        canary_registry::ObjectStore::new(dir).get(&wanted, super::MAX_EVIDENCE_BYTES as u64)
    })
    .await
    .map_err(|e| Fail::internal(crate::WebError::Config(format!("download task: {e}"))))?
    .map_err(|e| match e {
        canary_registry::Error::ObjectNotFound(_) => Fail::not_found(),
        other => super::registry_fail(other),
    })?;
    data::custody(
        &s,
        &id,
        canary_registry::CustodyAction::Exported,
        who.p.user_id().unwrap_or("anonymous"),
        &format!("downloaded through the web interface, sha256={sha} verified"),
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}.bin\""),
            ),
            (header::HeaderName::from_static("x-evidence-sha256"), sha),
        ],
        bytes,
    )
        .into_response())
}

/// Blocking orders, visible to `who`, whose targets include `domain`
/// (a target matches when it is the domain, a subdomain of it, or a URL
/// on it). For the domain page.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct OrderRow {
    pub(crate) incident_id: String,
    pub(crate) incident: String,
    pub(crate) issuer: String,
    pub(crate) reference: String,
    pub(crate) date: String,
    pub(crate) targets: Vec<String>,
    pub(crate) measurement_ids: Vec<String>,
}

fn target_host(t: &str) -> String {
    let t = t.trim().to_ascii_lowercase();
    let rest = t.split_once("://").map_or(t.as_str(), |(_, r)| r);
    rest.split(['/', ':', '?', '#'])
        .next()
        .unwrap_or("")
        .trim_start_matches("www.")
        .trim_end_matches('.')
        .to_owned()
}

pub(crate) fn orders_in(ds: &Dataset, domain: &str, lang: Lang) -> Vec<OrderRow> {
    let d = domain.trim_start_matches("www.");
    let mut out = Vec::new();
    for a in &ds.acts {
        let Some(canary_registry::ActExtension::BlockingOrder(b)) = &a.extension else {
            continue;
        };
        let hit = b.targets.iter().any(|t| {
            let h = target_host(t);
            h == d || h.ends_with(&format!(".{d}")) || d.ends_with(&format!(".{h}"))
        });
        if !hit {
            continue;
        }
        out.push(OrderRow {
            incident_id: a.incident_id.clone(),
            incident: ds
                .incidents
                .iter()
                .find(|i| i.meta.id == a.incident_id)
                .map(|i| view::title(i, lang))
                .unwrap_or_default(),
            issuer: b.issuer.clone(),
            reference: b.reference.clone().unwrap_or_default(),
            date: view::date(b.date.or(a.date).as_ref()),
            targets: b.targets.clone(),
            measurement_ids: b.measurement_ids.clone(),
        });
    }
    out.sort_by(|a, b| b.date.cmp(&a.date));
    out
}

/// The blocking orders the domain page shows (empty when the registry
/// cannot be read: the measurement page must not fail because of it).
pub(crate) async fn orders_for_domain(s: &Shared, ctx: &Ctx, domain: &str) -> Vec<OrderRow> {
    let who = Who::of(s, ctx);
    match view_of(s, &who).await {
        Ok(ds) => orders_in(&ds, domain, ctx.lang),
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blocking_order_target_matches_its_domain_subdomains_and_urls_only() {
        let cases = [
            ("rfa.org", "rfa.org", true),
            ("https://www.rfa.org/khmer/", "rfa.org", true),
            ("http://rfa.org:8080/x?y", "rfa.org", true),
            ("rfa.org", "khmer.rfa.org", true),
            ("khmer.rfa.org", "rfa.org", true),
            ("RFA.ORG.", "rfa.org", true),
            ("notrfa.org", "rfa.org", false),
            ("rfa.org.evil.example", "rfa.org", false),
            ("facebook.com/somepage", "rfa.org", false),
        ];
        for (target, domain, hit) in cases {
            let mut ds = Dataset::new();
            ds.acts.push(canary_registry::Act {
                id: "act_x".into(),
                incident_id: "inc_x".into(),
                act_type: ActType::WebsiteBlocking,
                victim_id: None,
                date: None,
                stated_reason: None,
                description: String::new(),
                extension: Some(canary_registry::ActExtension::BlockingOrder(
                    canary_registry::BlockingOrder {
                        issuer: "TRC".into(),
                        reference: None,
                        date: None,
                        targets: vec![target.into()],
                        isps: vec![],
                        measurement_ids: vec![],
                        event_ids: vec![],
                    },
                )),
            });
            assert_eq!(
                orders_in(&ds, domain, Lang::En).len(),
                usize::from(hit),
                "{target} on the page of {domain}"
            );
        }
    }

    #[test]
    fn the_law_chart_draws_one_escaped_dot_per_invocation_or_says_there_is_none() {
        let empty = law_chart(&["TEL 41".into()], &[], Lang::Km);
        assert!(empty.contains(&escape(Lang::Km.t("reg_chart_none"))));
        assert!(!empty.contains("<circle"));
        let d = |y, row| Dot {
            row,
            date: Date::from_calendar_date(y, time::Month::July, 17).unwrap(),
            incident_id: "inc_a".into(),
            label: "<script>".into(),
        };
        let svg = law_chart(
            &["TEL 41".into(), "PC 494".into()],
            &[d(2019, 0), d(2023, 1), d(2023, 1)],
            Lang::En,
        );
        assert_eq!(svg.matches("<circle class=\"inv\"").count(), 3);
        assert!(svg.contains("&lt;script&gt;") && !svg.contains("<script>"));
        assert!(
            svg.contains(">2019<") && svg.contains(">2023<"),
            "year axis"
        );
        assert!(svg.contains("href=\"/registry/incidents/inc_a\""));
    }
}
