//! The registry's JSON API (`/api/v1/registry/…`) and its OpenAPI
//! document.
//!
//! Reads are open to everyone but filtered by the registry's policy: an
//! anonymous caller sees published records only. Lists never carry
//! sensitive values (every sensitive field is `"redacted"`); getting one
//! record opens its sensitive fields for analysts and administrators of
//! the owning organisation (audited). Writes authenticate like the rest of
//! the site (the session cookie) and must echo the session's CSRF token in
//! the `x-csrf-token` header (`GET /api/v1/registry/session` returns it).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use canary_registry::{AuditLog, Dataset, ExportFormat, Record, Status, Visibility};
use serde::Deserialize;
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::forms::{self, ActInput, EvidenceInput, IncidentInput};
use super::pages::{filter_incidents, parse_record_id, persist_audit, IncidentFilter};
use super::{data, registry_fail, reveal_or_redact, view as view_of, Who, MAX_IMPORT_BYTES};
use crate::server::{Ctx, Fail, Shared};

/// The OpenAPI 3 description of the registry API.
pub(crate) const OPENAPI: &str = include_str!("../../openapi/registry.json");

/// `GET /api/v1/openapi.json`
pub(crate) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// Collections readable through the API.
pub(crate) const COLLECTIONS: &[&str] = &[
    "organisations",
    "incidents",
    "incident_links",
    "acts",
    "involvements",
    "actors",
    "sources",
    "citations",
    "laws",
    "provisions",
    "invocations",
    "evidence",
    "custody",
    "custody_heads",
    "recommendations",
    "benchmarks",
    "assessments",
];

fn json_of<T: serde::Serialize>(v: &T) -> Result<Value, Fail> {
    serde_json::to_value(v)
        .map_err(|e| Fail::internal(crate::WebError::Config(format!("json: {e}"))))
}

fn redacted<R: Record + Clone>(v: &[R]) -> Vec<R> {
    v.iter()
        .map(|r| {
            let mut r = r.clone();
            r.redact_sensitive();
            r
        })
        .collect()
}

/// `GET /api/v1/registry/session`: who the API sees, and the CSRF token
/// its writes must send.
pub(crate) async fn session(State(s): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    let who = Who::of(&s, &ctx);
    let body = json!({
        "principal": json_of(&who.p)?,
        "csrf_token": if ctx.user.is_some() { ctx.csrf.clone() } else { None },
    });
    Ok(ctx.finish(Json(body).into_response()))
}

/// `GET /api/v1/registry/{collection}`
pub(crate) async fn list(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(collection): Path<String>,
) -> Result<Response, Fail> {
    list_collection(&s, &ctx, &collection).await
}

/// `GET /api/v1/registry/incidents` (its path also takes the POST).
pub(crate) async fn list_incidents(State(s): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    list_collection(&s, &ctx, "incidents").await
}

/// `GET /api/v1/registry/acts` (its path also takes the POST).
pub(crate) async fn list_acts(State(s): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    list_collection(&s, &ctx, "acts").await
}

/// `GET /api/v1/registry/evidence` (its path also takes the upload).
pub(crate) async fn list_evidence(State(s): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    list_collection(&s, &ctx, "evidence").await
}

async fn list_collection(s: &Shared, ctx: &Ctx, collection: &str) -> Result<Response, Fail> {
    ctx.require(s.cfg.access.api)?;
    if !COLLECTIONS.contains(&collection) {
        return Err(Fail::not_found());
    }
    let who = Who::of(s, ctx);
    let ds = view_of(s, &who).await?;
    let body = match collection {
        "organisations" => json_of(&ds.organisations)?,
        "incidents" => {
            let f = IncidentFilter::from_ctx(ctx);
            let rows: Vec<canary_registry::Incident> =
                filter_incidents(&ds, &f)?.into_iter().cloned().collect();
            json_of(&redacted(&rows))?
        }
        "incident_links" => json_of(&ds.incident_links)?,
        "acts" => json_of(&ds.acts)?,
        "involvements" => json_of(&ds.involvements)?,
        "actors" => json_of(&redacted(&ds.actors))?,
        "sources" => json_of(&redacted(&ds.sources))?,
        "citations" => json_of(&ds.citations)?,
        "laws" => json_of(&ds.laws)?,
        "provisions" => json_of(&ds.provisions)?,
        "invocations" => json_of(&ds.invocations)?,
        "evidence" => json_of(&redacted(&ds.evidence))?,
        "custody" => json_of(&ds.custody)?,
        "custody_heads" => json_of(&ds.custody_heads)?,
        "recommendations" => json_of(&ds.recommendations)?,
        "benchmarks" => json_of(&ds.benchmarks)?,
        "assessments" => json_of(&ds.assessments)?,
        _ => return Err(Fail::not_found()),
    };
    page(ctx, body)
}

/// Most rows one list response carries (`?limit=`, default and maximum).
pub(crate) const MAX_LIST: usize = 5_000;

/// One page of a list: `?offset=` (default 0) and `?limit=` (at most
/// [`MAX_LIST`]); the total is in the `x-total-count` header.
fn page(ctx: &Ctx, body: Value) -> Result<Response, Fail> {
    let num = |k: &str, default: usize| -> Result<usize, Fail> {
        match ctx.query(k) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .map_err(|_| Fail::bad(format!("{k}: a whole number"))),
        }
    };
    let offset = num("offset", 0)?;
    let limit = num("limit", MAX_LIST)?;
    if limit == 0 || limit > MAX_LIST {
        return Err(Fail::bad(format!("limit: 1 to {MAX_LIST}")));
    }
    let Value::Array(rows) = body else {
        return Ok(Json(body).into_response());
    };
    let total = rows.len();
    let rows: Vec<Value> = rows.into_iter().skip(offset).take(limit).collect();
    let mut resp = Json(Value::Array(rows)).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&total.to_string()) {
        resp.headers_mut()
            .insert(header::HeaderName::from_static("x-total-count"), v);
    }
    Ok(resp)
}

/// `GET /api/v1/registry/{collection}/{id}`: one record; its sensitive
/// fields opened (and audited) for those allowed.
pub(crate) async fn get_one(
    State(s): State<Shared>,
    ctx: Ctx,
    Path((collection, id)): Path<(String, String)>,
) -> Result<Response, Fail> {
    ctx.require(s.cfg.access.api)?;
    let who = Who::of(&s, &ctx);
    let ds = view_of(&s, &who).await?;
    let now = OffsetDateTime::now_utc();
    let mut audit = AuditLog::new();
    macro_rules! one {
        ($v:expr, $prefix:literal) => {{
            let id = parse_record_id($prefix, &id)?;
            let r = $v
                .iter()
                .find(|r| r.meta().id == id)
                .ok_or_else(Fail::not_found)?;
            json_of(&reveal_or_redact(r, &who, &mut audit, now))?
        }};
    }
    let body = match collection.as_str() {
        "incidents" => one!(ds.incidents, "inc_"),
        "actors" => one!(ds.actors, "actr_"),
        "sources" => one!(ds.sources, "src_"),
        "laws" => one!(ds.laws, "law_"),
        "provisions" => one!(ds.provisions, "prov_"),
        "evidence" => one!(ds.evidence, "ev_"),
        "recommendations" => one!(ds.recommendations, "rec_"),
        "benchmarks" => one!(ds.benchmarks, "bm_"),
        "acts" => {
            let id = parse_record_id("act_", &id)?;
            json_of(
                ds.acts
                    .iter()
                    .find(|a| a.id == id)
                    .ok_or_else(Fail::not_found)?,
            )?
        }
        "assessments" => {
            let id = parse_record_id("asm_", &id)?;
            json_of(
                ds.assessments
                    .iter()
                    .find(|a| a.id == id)
                    .ok_or_else(Fail::not_found)?,
            )?
        }
        "organisations" => {
            let id = parse_record_id("org_", &id)?;
            json_of(
                ds.organisations
                    .iter()
                    .find(|o| o.id == id)
                    .ok_or_else(Fail::not_found)?,
            )?
        }
        _ => return Err(Fail::not_found()),
    };
    persist_audit(&s, &audit).await?;
    Ok(Json(body).into_response())
}

/// Most audit entries one `GET /api/v1/registry/audit` returns.
pub(crate) const MAX_AUDIT: u32 = 1_000;

/// `GET /api/v1/registry/audit?from_seq=&limit=`: for administrators, the
/// audit entries made by members of their own organisation (who opened
/// which sensitive field, who exported, imported, created, edited, moved),
/// oldest first. Entries by other organisations' members are left out:
/// their objects name records the admin may not know of.
pub(crate) async fn audit(State(s): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    let who = Who::of(&s, &ctx);
    let org = match &who.p {
        canary_registry::Principal::Anonymous => {
            return Err(Fail::new(StatusCode::UNAUTHORIZED, "error_login_required"))
        }
        canary_registry::Principal::User { org_id, role, .. }
            if *role == canary_registry::Role::Admin
                && canary_registry::meta::check_id("org_", org_id).is_ok() =>
        {
            org_id.clone()
        }
        _ => return Err(Fail::new(StatusCode::FORBIDDEN, "error_forbidden")),
    };
    let num = |k: &str, default: u64| -> Result<u64, Fail> {
        ctx.query(k).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| Fail::bad(format!("{k}: a whole number")))
        })
    };
    let from = num("from_seq", 0)?;
    let limit = num("limit", u64::from(MAX_AUDIT))?;
    if limit == 0 || limit > u64::from(MAX_AUDIT) {
        return Err(Fail::bad(format!("limit: 1 to {MAX_AUDIT}")));
    }
    let members: std::collections::HashSet<String> = s
        .cfg
        .store
        .users()
        .await?
        .into_iter()
        .filter(|u| u.org.as_deref() == Some(org.as_str()))
        .map(|u| u.name)
        .collect();
    // Read in store pages until `limit` entries of this organisation are
    // found or the log ends (bounded by the log's length).
    let mut out = Vec::new();
    let mut next = from;
    loop {
        let batch = s
            .cfg
            .store
            .registry_audit(next, canary_store::registry::MAX_AUDIT_PAGE)
            .await?;
        let Some(last) = batch.last() else { break };
        next = last.seq + 1;
        let full = batch.len() as u32 == canary_store::registry::MAX_AUDIT_PAGE;
        out.extend(batch.into_iter().filter(|e| members.contains(&e.actor)));
        if out.len() as u64 >= limit || !full {
            break;
        }
    }
    out.truncate(limit as usize);
    Ok(Json(json_of(&out)?).into_response())
}

/// Checks the `x-csrf-token` header of an API write.
fn api_csrf(ctx: &Ctx, headers: &HeaderMap) -> Result<(), Fail> {
    if ctx.user.is_none() {
        return Err(Fail::new(StatusCode::UNAUTHORIZED, "error_login_required"));
    }
    let token = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    ctx.check_csrf(token)
        .map_err(|_| Fail::new(StatusCode::FORBIDDEN, "error_csrf"))
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Fail> {
    serde_json::from_slice(body).map_err(|e| Fail::bad(format!("body: {e}")))
}

fn created(v: Value) -> Response {
    (StatusCode::CREATED, Json(v)).into_response()
}

/// `POST /api/v1/registry/incidents`
pub(crate) async fn incident_create(
    State(s): State<Shared>,
    ctx: Ctx,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Fail> {
    api_csrf(&ctx, &headers)?;
    let input: IncidentInput = parse_json(&body)?;
    let who = Who::of(&s, &ctx);
    let mut inc = forms::create_incident(&s, &who, input).await?;
    inc.redact_sensitive();
    Ok(created(json_of(&inc)?))
}

/// `PUT /api/v1/registry/incidents/{id}` (header `if-match: <version>`
/// refuses the write with 409 when the record moved on) and
/// `PUT /api/v1/registry/acts/{id}` (the act and its invocations replaced).
pub(crate) async fn incident_update(
    State(s): State<Shared>,
    ctx: Ctx,
    headers: HeaderMap,
    Path((collection, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, Fail> {
    api_csrf(&ctx, &headers)?;
    if collection == "acts" {
        let id = parse_record_id("act_", &id)?;
        let input: ActInput = parse_json(&body)?;
        let who = Who::of(&s, &ctx);
        let (act, rows) = forms::update_act(&s, &who, id, input).await?;
        return Ok(
            Json(json!({ "act": json_of(&act)?, "invocations": json_of(&rows.invocations)?, "involvements": json_of(&rows.involvements)? }))
                .into_response(),
        );
    }
    if collection != "incidents" {
        return Err(Fail::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "error_bad_request",
        ));
    }
    let id = parse_record_id("inc_", &id)?;
    let expected = match headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) {
        Some(v) => Some(
            v.trim()
                .trim_matches('"')
                .parse::<u32>()
                .map_err(|_| Fail::bad("if-match: a version number"))?,
        ),
        None => None,
    };
    let input: IncidentInput = parse_json(&body)?;
    let who = Who::of(&s, &ctx);
    let mut inc = forms::update_incident(&s, &who, id, expected, input).await?;
    inc.redact_sensitive();
    Ok(Json(json_of(&inc)?).into_response())
}

/// `POST /api/v1/registry/acts`
pub(crate) async fn act_create(
    State(s): State<Shared>,
    ctx: Ctx,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Fail> {
    api_csrf(&ctx, &headers)?;
    let input: ActInput = parse_json(&body)?;
    let who = Who::of(&s, &ctx);
    let (act, rows) = forms::create_act(&s, &who, input).await?;
    Ok(created(
        json!({ "act": json_of(&act)?, "invocations": json_of(&rows.invocations)?, "involvements": json_of(&rows.involvements)? }),
    ))
}

/// The body of a workflow move.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveBody {
    #[serde(default)]
    to: Option<Status>,
    #[serde(default)]
    visibility: Option<Visibility>,
}

/// `POST /api/v1/registry/{collection}/{id}/status`
pub(crate) async fn status(
    State(s): State<Shared>,
    ctx: Ctx,
    headers: HeaderMap,
    Path((collection, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, Fail> {
    api_csrf(&ctx, &headers)?;
    let m: MoveBody = parse_json(&body)?;
    if m.to.is_none() && m.visibility.is_none() {
        return Err(Fail::bad("body: give to, visibility or both"));
    }
    if id.len() > canary_registry::meta::MAX_ID_LEN
        || !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        return Err(Fail::bad("id: [a-z0-9_-]"));
    }
    let who = Who::of(&s, &ctx);
    let meta = forms::move_record(&s, &who, &collection, &id, m.to, m.visibility).await?;
    Ok(Json(json!({
        "id": meta.id,
        "status": meta.status,
        "visibility": meta.visibility,
        "version": meta.version(),
    }))
    .into_response())
}

/// `POST /api/v1/registry/evidence`: the raw file as the body (its
/// `Content-Type` is the media type); `?acquired_from=&method=&linked_ids=a,b`;
/// a non-public provenance in the `x-evidence-provenance` header.
pub(crate) async fn evidence_upload(
    State(s): State<Shared>,
    ctx: Ctx,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Fail> {
    api_csrf(&ctx, &headers)?;
    let q = |k: &str| ctx.query(k).map(str::to_owned);
    let input = EvidenceInput {
        media_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned(),
        acquired_from: q("acquired_from"),
        method: q("method").unwrap_or_default(),
        linked_ids: q("linked_ids")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        provenance: headers
            .get("x-evidence-provenance")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    let who = Who::of(&s, &ctx);
    let (mut item, first) = forms::upload_evidence(&s, &who, body, input).await?;
    item.redact_sensitive();
    Ok(created(
        json!({ "evidence": json_of(&item)?, "custody": [json_of(&first)?] }),
    ))
}

/// `GET /api/v1/registry/export?format=json|csv[&collection=incidents]`:
/// what the caller may see, redacted for them, recorded in the audit log.
/// JSON is one `dataset.json`; CSV is one collection per request.
pub(crate) async fn export(State(s): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    ctx.require(s.cfg.access.api)?;
    let format = match ctx.query("format") {
        None | Some("json") => ExportFormat::Json,
        Some("csv") => ExportFormat::Csv,
        Some(_) => return Err(Fail::bad("format: json or csv")),
    };
    let wanted = match (format, ctx.query("collection")) {
        (ExportFormat::Csv, Some(c)) if COLLECTIONS.contains(&c) => Some(format!("{c}.csv")),
        (ExportFormat::Csv, _) => {
            return Err(Fail::bad(format!(
                "collection: one of {}",
                COLLECTIONS.join(", ")
            )));
        }
        (ExportFormat::Json, _) => None,
    };
    let who = Who::of(&s, &ctx);
    let ds = data::load(&s).await?;
    let mut audit = AuditLog::new();
    let out = canary_registry::export(&ds, &who.p, format, OffsetDateTime::now_utc(), &mut audit)
        .map_err(registry_fail)?;
    persist_audit(&s, &audit).await?;
    let (name, ctype) = match &wanted {
        Some(f) => (f.clone(), "text/csv; charset=utf-8"),
        None => ("dataset.json".to_owned(), "application/json"),
    };
    let content = out.files.get(&name).cloned().unwrap_or_default();
    Ok((
        [
            (header::CONTENT_TYPE, ctype.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"registry-{name}\""),
            ),
            (
                header::HeaderName::from_static("x-export-sha256"),
                out.sha256.clone(),
            ),
        ],
        content,
    )
        .into_response())
}

/// `POST /api/v1/registry/import`: a dataset (the export's JSON form).
/// Analysts and admins only; every record must be owned by the caller's
/// organisation and new (existing ids are refused); sensitive values are
/// sealed with the server's key before anything is stored.
pub(crate) async fn import(
    State(s): State<Shared>,
    ctx: Ctx,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Fail> {
    api_csrf(&ctx, &headers)?;
    let who = Who::of(&s, &ctx);
    if !who.can_create() {
        return Err(Fail::new(StatusCode::FORBIDDEN, "error_forbidden"));
    }
    if body.len() > MAX_IMPORT_BYTES {
        return Err(Fail::bad(format!("body: at most {MAX_IMPORT_BYTES} bytes")));
    }
    let text = std::str::from_utf8(&body).map_err(|_| Fail::bad("body: not UTF-8"))?;
    let mut incoming: Dataset = canary_registry::io::from_json(text).map_err(registry_fail)?;
    check_import(&data::load(&s).await?, &incoming, &who)?;
    let has_clear = {
        let mut probe = incoming.clone();
        let mut clear = false;
        for r in probe.incidents.iter_mut() {
            clear |= r
                .sensitive_fields_mut()
                .iter()
                .any(|(_, f)| f.as_clear().is_some());
        }
        for r in probe.actors.iter_mut() {
            clear |= r
                .sensitive_fields_mut()
                .iter()
                .any(|(_, f)| f.as_clear().is_some());
        }
        for r in probe.sources.iter_mut() {
            clear |= r
                .sensitive_fields_mut()
                .iter()
                .any(|(_, f)| f.as_clear().is_some());
        }
        for r in probe.evidence.iter_mut() {
            clear |= r
                .sensitive_fields_mut()
                .iter()
                .any(|(_, f)| f.as_clear().is_some());
        }
        clear
    };
    match &who.keys {
        Some(ring) => incoming.seal_all(ring).map_err(registry_fail)?,
        None if has_clear => {
            return Err(Fail::bad(
                "this server has no field keys, so it cannot store sensitive values",
            ));
        }
        None => {}
    }
    let changed = data::import(&s, &incoming, who.p.user_id().unwrap_or("anonymous")).await?;
    Ok(created(
        json!({ "rows": incoming.len(), "changed": changed }),
    ))
}

/// May `who` import `incoming` over `stored`? Every top-level record must
/// be new and owned by the caller's organisation, or already stored and
/// either unchanged (a reference, e.g. the law an act invokes) or
/// writable by the caller. Every other row must be stored already as
/// given, or hang on a record the caller may write (an act on a writable
/// incident, an invocation on such an act, a custody event of a writable
/// evidence item, an assessment by the caller's organisation).
/// Organisations must exist already or be the caller's.
fn check_import(stored: &Dataset, incoming: &Dataset, who: &Who) -> Result<(), Fail> {
    use std::collections::HashSet;
    let org = who.org().unwrap_or_default();
    let refuse = |id: &str| {
        tracing::info!(record = %id, "import refused");
        Err(Fail::new(StatusCode::FORBIDDEN, "error_forbidden"))
    };
    let mut writable: HashSet<String> = HashSet::new();
    macro_rules! each {
        ($field:ident) => {
            for r in &incoming.$field {
                let m = r.meta();
                match stored.$field.iter().find(|x| x.meta().id == m.id) {
                    None if m.org == org && who.can_create() => {
                        writable.insert(m.id.clone());
                    }
                    None => return refuse(&m.id),
                    Some(old) if old.meta().org != m.org => return refuse(&m.id),
                    Some(old) if canary_registry::can_write(&who.p, old.meta()) => {
                        writable.insert(m.id.clone());
                    }
                    Some(old)
                        if old.meta().versions == m.versions
                            && canary_registry::can_read(&who.p, old.meta()) => {}
                    Some(_) => return refuse(&m.id),
                }
            }
        };
    }
    each!(incidents);
    each!(actors);
    each!(sources);
    each!(laws);
    each!(provisions);
    each!(evidence);
    each!(recommendations);
    each!(benchmarks);
    let writable_acts: HashSet<String> = incoming
        .acts
        .iter()
        .chain(stored.acts.iter())
        .filter(|a| writable.contains(&a.incident_id))
        .map(|a| a.id.clone())
        .collect();
    macro_rules! rows {
        ($field:ident, |$r:ident| $ok:expr, $name:expr) => {
            for $r in &incoming.$field {
                if !stored.$field.contains($r) && !$ok {
                    return refuse($name);
                }
            }
        };
    }
    rows!(acts, |r| writable.contains(&r.incident_id), &r.id);
    rows!(
        involvements,
        |r| writable_acts.contains(&r.act_id),
        &r.act_id
    );
    rows!(
        invocations,
        |r| writable_acts.contains(&r.act_id),
        &r.act_id
    );
    rows!(
        citations,
        |r| writable.contains(&r.record_id) || writable_acts.contains(&r.record_id),
        &r.record_id
    );
    rows!(incident_links, |r| writable.contains(&r.from), &r.from);
    rows!(custody, |r| writable.contains(&r.item), &r.item);
    rows!(
        assessments,
        |r| r.assessed_by == org && who.can_create(),
        &r.id
    );
    for o in &incoming.organisations {
        if o.id != org && !stored.organisations.iter().any(|x| x == o) {
            return refuse(&o.id);
        }
    }
    Ok(())
}
