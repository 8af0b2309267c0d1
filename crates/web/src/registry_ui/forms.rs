//! Writes: the analysts' forms (incidents, acts with provision
//! invocations, workflow moves, evidence upload) and the write core the
//! JSON API shares with them. Every write is checked against the
//! registry's policy on the stored record (not on the reader's view),
//! attributed to the principal, versioned, and audited.

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use bytes::BytesMut;
use canary_registry::evidence::{acquire, Acquisition};
use canary_registry::{
    Act, ActType, AuditAction, AuditLog, CustodyEvent, Dataset, EntityType, EvidenceItem,
    FuzzyDate, Incident, InvocationRole, ObjectStore, Place, PlacePrecision, ProvisionInvocation,
    Record, RecordMeta, Right, SealedText, SensitiveField, Status, Visibility,
};
use minijinja::{context, Value};
use serde::Deserialize;
use time::OffsetDateTime;
use tracing::info;

use super::pages::{parse_record_id, persist_audit};
use super::view::{self, terms};
use super::{data, registry_fail, Who, MAX_EVIDENCE_BYTES};
use crate::i18n::Lang;
use crate::server::{Ctx, Fail, Shared};

// ------------------------------------------------------------ write core

/// The editable fields of an incident (form or JSON).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IncidentInput {
    pub(crate) title: String,
    #[serde(default)]
    pub(crate) title_km: Option<String>,
    #[serde(default)]
    pub(crate) summary: String,
    pub(crate) start: FuzzyDate,
    #[serde(default)]
    pub(crate) end: Option<FuzzyDate>,
    #[serde(default = "default_country")]
    pub(crate) country: String,
    #[serde(default)]
    pub(crate) area: Option<String>,
    #[serde(default = "default_precision")]
    pub(crate) precision: PlacePrecision,
    /// The exact place (sensitive): sealed before it is stored. `None`
    /// keeps the stored value on update.
    #[serde(default)]
    pub(crate) exact_place: Option<String>,
    #[serde(default)]
    pub(crate) rights_affected: Vec<Right>,
    #[serde(default)]
    pub(crate) tags: Vec<String>,
    #[serde(default)]
    pub(crate) unverified_note: Option<String>,
    /// One sentence: what changed (updates).
    #[serde(default)]
    pub(crate) change_summary: Option<String>,
}

fn default_country() -> String {
    "KH".into()
}
fn default_precision() -> PlacePrecision {
    PlacePrecision::Country
}

pub(super) const MAX_TEXT: usize = 20_000;

fn check_text(what: &str, s: &str, max: usize) -> Result<(), Fail> {
    if s.len() > max {
        return Err(Fail::bad(format!("{what}: at most {max} bytes")));
    }
    Ok(())
}

impl IncidentInput {
    fn check(&self) -> Result<(), Fail> {
        if self.title.trim().is_empty() {
            return Err(Fail::bad("title: required"));
        }
        check_text("title", &self.title, 500)?;
        check_text("title_km", self.title_km.as_deref().unwrap_or(""), 500)?;
        check_text("summary", &self.summary, MAX_TEXT)?;
        check_text("area", self.area.as_deref().unwrap_or(""), 200)?;
        check_text(
            "exact_place",
            self.exact_place.as_deref().unwrap_or(""),
            2000,
        )?;
        check_text(
            "unverified_note",
            self.unverified_note.as_deref().unwrap_or(""),
            MAX_TEXT,
        )?;
        if self.country.len() != 2 || !self.country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(Fail::bad(
                "country: two capital letters (ISO 3166-1), e.g. KH",
            ));
        }
        if self.tags.len() > 50 || self.tags.iter().any(|t| t.len() > 100) {
            return Err(Fail::bad("tags: at most 50 of at most 100 bytes"));
        }
        if self.end.is_some_and(|e| e.date() < self.start.date()) {
            return Err(Fail::bad("end: before start"));
        }
        Ok(())
    }
}

/// Seals a clear sensitive value for a record field; refuses when the
/// server has no keys (a sensitive value is never stored in clear).
pub(super) fn seal(
    who: &Who,
    entity: EntityType,
    record: &str,
    field: &str,
    text: &str,
) -> Result<SensitiveField, Fail> {
    let Some(ring) = &who.keys else {
        return Err(Fail::bad(format!(
            "{field}: this server has no field keys, so it cannot store sensitive values"
        )));
    };
    let sealed = SealedText::seal(
        text,
        ring,
        canary_registry::FieldContext {
            entity,
            record,
            field,
        },
    )
    .map_err(registry_fail)?;
    Ok(SensitiveField::Sealed(sealed))
}

fn apply(who: &Who, inc: &mut Incident, input: IncidentInput) -> Result<(), Fail> {
    let exact = match input.exact_place.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => Some(seal(
            who,
            EntityType::Incident,
            &inc.meta.id,
            "place.exact",
            t,
        )?),
        _ => inc.place.exact.take(),
    };
    inc.title = input.title.trim().to_owned();
    inc.title_km = input.title_km.filter(|t| !t.trim().is_empty());
    inc.summary = input.summary;
    inc.start = input.start;
    inc.end = input.end;
    inc.place = Place {
        country: input.country,
        area: input.area.filter(|a| !a.trim().is_empty()),
        precision: input.precision,
        exact,
    };
    inc.rights_affected = input.rights_affected;
    inc.tags = input.tags;
    inc.unverified_note = input.unverified_note.filter(|t| !t.trim().is_empty());
    Ok(())
}

/// The principal must be a logged-in analyst or admin.
pub(super) fn require_creator(who: &Who) -> Result<(), Fail> {
    match &who.p {
        canary_registry::Principal::Anonymous => {
            Err(Fail::new(StatusCode::UNAUTHORIZED, "error_login_required"))
        }
        _ if who.can_create() => Ok(()),
        _ => Err(Fail::new(StatusCode::FORBIDDEN, "error_forbidden")),
    }
}

/// The principal's organisation must be in the registry: records of an
/// unknown organisation would make the whole dataset invalid. (An admin
/// registers their organisation by importing a dataset naming it.)
pub(super) fn known_org(ds: &Dataset, who: &Who) -> Result<(), Fail> {
    let org = who.org().unwrap_or_default();
    if ds.organisations.iter().any(|o| o.id == org) {
        Ok(())
    } else {
        Err(Fail::bad(format!(
            "your organisation {org:?} is not in the registry; an administrator of it must import it first"
        )))
    }
}

/// Appends one audit entry (persisted at once).
async fn audit_one(
    s: &Shared,
    who: &Who,
    action: AuditAction,
    object: &str,
    details: String,
) -> Result<(), Fail> {
    let mut log = AuditLog::new();
    log.append(
        who.p.user_id().unwrap_or("anonymous"),
        action,
        object,
        OffsetDateTime::now_utc(),
        details,
    );
    persist_audit(s, &log).await
}

/// Creates an incident owned by the principal's organisation.
pub(crate) async fn create_incident(
    s: &Shared,
    who: &Who,
    input: IncidentInput,
) -> Result<Incident, Fail> {
    require_creator(who)?;
    input.check()?;
    known_org(&data::load(s).await?, who)?;
    let now = OffsetDateTime::now_utc();
    let id = canary_registry::new_id(EntityType::Incident).map_err(registry_fail)?;
    let meta = RecordMeta::new(EntityType::Incident, id, &who.p, now).map_err(registry_fail)?;
    let mut inc = Incident {
        meta,
        title: String::new(),
        title_km: None,
        summary: String::new(),
        start: input.start,
        end: None,
        place: Place::country("KH"),
        rights_affected: Vec::new(),
        tags: Vec::new(),
        verified: false,
        unverified_note: None,
    };
    apply(who, &mut inc, input)?;
    data::put_record(s, &inc).await?;
    audit_one(
        s,
        who,
        AuditAction::Create,
        &inc.meta.id,
        "entity=incident".into(),
    )
    .await?;
    info!(id = %inc.meta.id, "incident created");
    Ok(inc)
}

/// Finds a stored record the principal may read (404 otherwise: a record
/// one may not read does not exist for one).
pub(super) fn readable<'a, R: Record>(
    v: &'a mut [R],
    who: &Who,
    id: &str,
) -> Result<&'a mut R, Fail> {
    v.iter_mut()
        .find(|r| r.meta().id == id && canary_registry::can_read(&who.p, r.meta()))
        .ok_or_else(Fail::not_found)
}

fn check_version(meta: &RecordMeta, expected: Option<u32>) -> Result<(), Fail> {
    match expected {
        Some(v) if v != meta.version() => {
            Err(Fail::new(StatusCode::CONFLICT, "reg_error_conflict"))
        }
        _ => Ok(()),
    }
}

/// Edits an incident (analysts: drafts and records in review; admins: any).
pub(crate) async fn update_incident(
    s: &Shared,
    who: &Who,
    id: &str,
    expected_version: Option<u32>,
    input: IncidentInput,
) -> Result<Incident, Fail> {
    if matches!(who.p, canary_registry::Principal::Anonymous) {
        return Err(Fail::new(StatusCode::UNAUTHORIZED, "error_login_required"));
    }
    input.check()?;
    let mut ds = data::load(s).await?;
    let inc = readable(&mut ds.incidents, who, id)?;
    if !canary_registry::can_write(&who.p, &inc.meta) {
        return Err(Fail::new(StatusCode::FORBIDDEN, "error_forbidden"));
    }
    check_version(&inc.meta, expected_version)?;
    let summary = input
        .change_summary
        .clone()
        .filter(|c| !c.trim().is_empty())
        .unwrap_or_else(|| "edited".into());
    check_text("change_summary", &summary, 500)?;
    inc.meta
        .record_edit(&who.p, OffsetDateTime::now_utc(), summary)
        .map_err(registry_fail)?;
    apply(who, inc, input)?;
    let inc = inc.clone();
    data::put_record(s, &inc).await?;
    audit_one(
        s,
        who,
        AuditAction::Edit,
        &inc.meta.id,
        format!("version={}", inc.meta.version()),
    )
    .await?;
    Ok(inc)
}

/// Moves any top-level record along the workflow and/or changes its
/// visibility (admins).
pub(crate) async fn move_record(
    s: &Shared,
    who: &Who,
    collection: &str,
    id: &str,
    to: Option<Status>,
    visibility: Option<Visibility>,
) -> Result<RecordMeta, Fail> {
    if matches!(who.p, canary_registry::Principal::Anonymous) {
        return Err(Fail::new(StatusCode::UNAUTHORIZED, "error_login_required"));
    }
    let mut ds = data::load(s).await?;
    let now = OffsetDateTime::now_utc();
    macro_rules! go {
        ($v:expr) => {{
            let r = readable(&mut $v, who, id)?;
            if let Some(to) = to {
                r.meta_mut()
                    .transition(to, &who.p, now)
                    .map_err(registry_fail)?;
            }
            if let Some(vis) = visibility {
                r.meta_mut()
                    .set_visibility(vis, &who.p, now)
                    .map_err(registry_fail)?;
            }
            let r = r.clone();
            data::put_record(s, &r).await?;
            r.meta().clone()
        }};
    }
    let meta = match collection {
        "incidents" => go!(ds.incidents),
        "actors" => go!(ds.actors),
        "sources" => go!(ds.sources),
        "laws" => go!(ds.laws),
        "provisions" => go!(ds.provisions),
        "evidence" => go!(ds.evidence),
        "recommendations" => go!(ds.recommendations),
        "benchmarks" => go!(ds.benchmarks),
        _ => return Err(Fail::not_found()),
    };
    if let Some(to) = to {
        audit_one(s, who, AuditAction::StatusChange, id, format!("to={to}")).await?;
    }
    if let Some(v) = visibility {
        audit_one(s, who, AuditAction::VisibilityChange, id, format!("to={v}")).await?;
    }
    Ok(meta)
}

/// One provision invoked by a new act.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InvocationInput {
    pub(crate) provision_id: String,
    pub(crate) role: InvocationRole,
    #[serde(default)]
    pub(crate) date: Option<FuzzyDate>,
    #[serde(default)]
    pub(crate) note: Option<String>,
}

/// A new act (form or JSON).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActInput {
    pub(crate) incident_id: String,
    pub(crate) act_type: ActType,
    #[serde(default)]
    pub(crate) date: Option<FuzzyDate>,
    #[serde(default)]
    pub(crate) victim_id: Option<String>,
    #[serde(default)]
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) stated_reason: Option<String>,
    #[serde(default)]
    pub(crate) invocations: Vec<InvocationInput>,
    /// Perpetrators: who ordered, carried out or helped with the act.
    #[serde(default)]
    pub(crate) involvements: Vec<InvolvementInput>,
}

/// A perpetrator's part in an act.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InvolvementInput {
    pub(crate) actor_id: String,
    pub(crate) degree: canary_registry::Degree,
    pub(crate) perpetrator_type: canary_registry::PerpetratorType,
    #[serde(default)]
    pub(crate) note: Option<String>,
}

/// The rows an act carries: provisions invoked and perpetrators.
#[derive(Debug, Clone, Default)]
pub(crate) struct ActRows {
    pub(crate) invocations: Vec<ProvisionInvocation>,
    pub(crate) involvements: Vec<canary_registry::Involvement>,
}

impl ActRows {
    fn of(act_id: &str, input: &mut ActInput) -> ActRows {
        let mut involvements: Vec<canary_registry::Involvement> = Vec::new();
        for i in std::mem::take(&mut input.involvements) {
            // One row per actor (the store keys involvements by act and actor).
            if involvements.iter().any(|o| o.actor_id == i.actor_id) {
                continue;
            }
            involvements.push(canary_registry::Involvement {
                act_id: act_id.to_owned(),
                actor_id: i.actor_id,
                degree: i.degree,
                perpetrator_type: i.perpetrator_type,
                note: i.note.filter(|n| !n.trim().is_empty()),
            });
        }
        ActRows {
            invocations: invocations_of(act_id, std::mem::take(&mut input.invocations)),
            involvements,
        }
    }

    /// The stored rows of an act.
    fn stored(ds: &Dataset, act_id: &str) -> ActRows {
        ActRows {
            invocations: ds
                .invocations
                .iter()
                .filter(|i| i.act_id == act_id)
                .cloned()
                .collect(),
            involvements: ds
                .involvements
                .iter()
                .filter(|i| i.act_id == act_id)
                .cloned()
                .collect(),
        }
    }
}

/// Adds an act to an incident the principal may write; records a new
/// version of the incident.
pub(crate) async fn create_act(
    s: &Shared,
    who: &Who,
    mut input: ActInput,
) -> Result<(Act, ActRows), Fail> {
    if matches!(who.p, canary_registry::Principal::Anonymous) {
        return Err(Fail::new(StatusCode::UNAUTHORIZED, "error_login_required"));
    }
    check_text("description", &input.description, MAX_TEXT)?;
    check_text(
        "stated_reason",
        input.stated_reason.as_deref().unwrap_or(""),
        MAX_TEXT,
    )?;
    check_counts(&input)?;
    let incident_id = parse_record_id("inc_", &input.incident_id)?.to_owned();
    let mut ds = data::load(s).await?;
    check_references(&ds.view_for(&who.p), &input)?;
    let inc = readable(&mut ds.incidents, who, &incident_id)?;
    let id = format!("act_{}", &crate::accounts::random_token()[..32]);
    inc.meta
        .record_edit(&who.p, OffsetDateTime::now_utc(), format!("act {id} added"))
        .map_err(registry_fail)?;
    let inc = inc.clone();
    let rows = ActRows::of(&id, &mut input);
    let act = Act {
        id: id.clone(),
        incident_id,
        act_type: input.act_type,
        victim_id: input.victim_id,
        date: input.date,
        stated_reason: input.stated_reason.filter(|r| !r.trim().is_empty()),
        description: input.description,
        extension: None,
    };
    let details = format!("entity=act incident={}", inc.meta.id);
    let audit = data::ActAudit {
        actor: who.p.user_id().unwrap_or("anonymous"),
        action: AuditAction::Create,
        details: &details,
    };
    data::create_act(s, &inc, &act, &rows, audit).await?;
    Ok((act, rows))
}

fn check_counts(input: &ActInput) -> Result<(), Fail> {
    if input.invocations.len() > MAX_INVOCATION_ROWS
        || input.involvements.len() > MAX_INVOCATION_ROWS
    {
        return Err(Fail::bad(format!(
            "invocations, involvements: at most {MAX_INVOCATION_ROWS} each"
        )));
    }
    for note in input
        .invocations
        .iter()
        .filter_map(|i| i.note.as_deref())
        .chain(input.involvements.iter().filter_map(|i| i.note.as_deref()))
    {
        check_text("note", note, MAX_TEXT)?;
    }
    Ok(())
}

/// What an uploader says about a file.
#[derive(Debug, Clone, Default)]
pub(crate) struct EvidenceInput {
    pub(crate) media_type: String,
    pub(crate) acquired_from: Option<String>,
    pub(crate) method: String,
    pub(crate) linked_ids: Vec<String>,
    pub(crate) provenance: Option<String>,
}

/// Stores an evidence file (content-addressed), its record and the
/// `acquired` custody event.
pub(crate) async fn upload_evidence(
    s: &Shared,
    who: &Who,
    bytes: Bytes,
    input: EvidenceInput,
) -> Result<(EvidenceItem, CustodyEvent), Fail> {
    require_creator(who)?;
    let Some(dir) = s.cfg.evidence_dir.clone() else {
        return Err(Fail::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "reg_error_no_evidence_dir",
        ));
    };
    if bytes.is_empty() {
        return Err(Fail::bad("file: empty"));
    }
    if bytes.len() > MAX_EVIDENCE_BYTES {
        return Err(Fail::bad(format!(
            "file: at most {MAX_EVIDENCE_BYTES} bytes"
        )));
    }
    let mt = input.media_type.trim();
    if mt.is_empty() || mt.len() > 100 || !mt.contains('/') || mt.chars().any(|c| c.is_control()) {
        return Err(Fail::bad("media_type: a media type such as image/png"));
    }
    check_text("method", &input.method, 500)?;
    check_text(
        "acquired_from",
        input.acquired_from.as_deref().unwrap_or(""),
        2000,
    )?;
    check_text(
        "provenance",
        input.provenance.as_deref().unwrap_or(""),
        2000,
    )?;
    if input.linked_ids.len() > 50 {
        return Err(Fail::bad("linked_ids: at most 50"));
    }
    let ds = data::load(s).await?;
    known_org(&ds, who)?;
    let view = ds.view_for(&who.p);
    let mut visible: BTreeSet<&str> = view.incidents.iter().map(|i| i.meta.id.as_str()).collect();
    visible.extend(view.acts.iter().map(|a| a.id.as_str()));
    // A source's archived copy (the article as it was, a court document).
    visible.extend(view.sources.iter().map(|s| s.meta.id.as_str()));
    for l in &input.linked_ids {
        if !visible.contains(l.as_str()) {
            return Err(Fail::bad(format!(
                "linked_ids: no incident, act or source {l}"
            )));
        }
    }
    let id = canary_registry::new_id(EntityType::Evidence).map_err(registry_fail)?;
    let provenance = match input.provenance.as_deref().map(str::trim) {
        Some(p) if !p.is_empty() => Some(seal(who, EntityType::Evidence, &id, "provenance", p)?),
        _ => None,
    };
    let p = who.p.clone();
    let now = OffsetDateTime::now_utc();
    let media_type = mt.to_owned();
    let acquired_from = input.acquired_from.filter(|a| !a.trim().is_empty());
    let method = if input.method.trim().is_empty() {
        "web upload".to_owned()
    } else {
        input.method.trim().to_owned()
    };
    let eid = id.clone();
    let (mut item, first) = tokio::task::spawn_blocking(move || {
        let store = ObjectStore::new(dir);
        acquire(
            &store,
            &bytes,
            Acquisition {
                id: eid,
                by: &p,
                at: now,
                media_type,
                acquired_from,
                method,
            },
        )
    })
    .await
    .map_err(|e| Fail::internal(crate::WebError::Config(format!("upload task: {e}"))))?
    .map_err(registry_fail)?;
    item.provenance = provenance;
    item.linked_ids = input.linked_ids;
    data::create_evidence(s, &item, &first).await?;
    audit_one(
        s,
        who,
        AuditAction::Create,
        &id,
        format!("entity=evidence sha256={}", item.sha256),
    )
    .await?;
    info!(id = %id, sha256 = %item.sha256, "evidence stored");
    Ok((item, first))
}

// ------------------------------------------------------------------ forms

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|t| !t.is_empty())
}

fn fuzzy(what: &str, s: &str) -> Result<Option<FuzzyDate>, Fail> {
    match opt(s) {
        None => Ok(None),
        Some(t) => t
            .parse()
            .map(Some)
            .map_err(|e: canary_registry::Error| Fail::bad(format!("{what}: {e}"))),
    }
}

/// The incident form as posted.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct IncidentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    title_km: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    area: String,
    #[serde(default)]
    precision: String,
    #[serde(default)]
    exact_place: String,
    #[serde(default)]
    rights: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    unverified_note: String,
    #[serde(default)]
    change_summary: String,
}

impl IncidentForm {
    fn input(&self) -> Result<IncidentInput, Fail> {
        let list = |s: &str| -> Vec<String> {
            s.split([',', '\n'])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        };
        Ok(IncidentInput {
            title: self.title.clone(),
            title_km: opt(&self.title_km),
            summary: self.summary.clone(),
            start: fuzzy("start", &self.start)?.ok_or_else(|| Fail::bad("start: required"))?,
            end: fuzzy("end", &self.end)?,
            country: "KH".into(),
            area: opt(&self.area),
            precision: match opt(&self.precision) {
                Some(p) => p
                    .parse()
                    .map_err(|e: canary_registry::Error| Fail::bad(e.to_string()))?,
                None => PlacePrecision::Country,
            },
            exact_place: opt(&self.exact_place),
            rights_affected: list(&self.rights)
                .iter()
                .map(|r| r.parse())
                .collect::<Result<_, canary_registry::Error>>()
                .map_err(|e| Fail::bad(e.to_string()))?,
            tags: list(&self.tags),
            unverified_note: opt(&self.unverified_note),
            change_summary: opt(&self.change_summary),
        })
    }
}

fn form_ctx(lang: Lang) -> Value {
    context! {
        precisions => Value::from_serialize(terms!(PlacePrecision, lang)),
        rights => Value::from_serialize(terms!(Right, lang)),
    }
}

/// `GET /registry/incidents/new`
pub(crate) async fn incident_new(State(s): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let who = Who::of(&s, &ctx);
    require_creator(&who).map_err(|f| f.html(lang))?;
    ctx.render(
        "registry_incident_form.html",
        context! { ..form_ctx(lang), ..context! {
            action => "/registry/incidents/new",
            i => None::<()>,
            version => 0,
            values => Value::from_serialize(serde_json::json!({
                "title": "", "title_km": "", "summary": "", "start": "", "end": "",
                "area": "", "precision": "country", "rights": "", "tags": "",
                "unverified_note": "", "has_exact": false,
            })),
            has_keys => who.keys.is_some(),
        }},
    )
}

pub(super) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// `POST /registry/incidents/new`
pub(crate) async fn incident_create(
    State(s): State<Shared>,
    ctx: Ctx,
    Form(form): Form<IncidentForm>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    ctx.check_csrf(&form.csrf)?;
    let who = Who::of(&s, &ctx);
    let run = async {
        require_creator(&who)?;
        let inc = create_incident(&s, &who, form.input()?).await?;
        Ok(see_other(&format!("/registry/incidents/{}", inc.meta.id)))
    };
    run.await.map_err(|f: Fail| f.html(lang))
}

/// `GET /registry/incidents/{id}/edit`
pub(crate) async fn incident_edit(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let page = async {
        let id = parse_record_id("inc_", &id)?;
        let who = Who::of(&s, &ctx);
        let mut ds = data::load(&s).await?;
        let inc = readable(&mut ds.incidents, &who, id)?.clone();
        if !canary_registry::can_write(&who.p, &inc.meta) {
            return Err(if matches!(who.p, canary_registry::Principal::Anonymous) {
                Fail::new(StatusCode::UNAUTHORIZED, "error_login_required")
            } else {
                Fail::new(StatusCode::FORBIDDEN, "error_forbidden")
            });
        }
        // Sensitive values are never put into the form: an empty field keeps them.
        let values = serde_json::json!({
            "title": inc.title,
            "title_km": inc.title_km.clone().unwrap_or_default(),
            "summary": inc.summary,
            "start": inc.start.to_string(),
            "end": view::date(inc.end.as_ref()),
            "area": inc.place.area.clone().unwrap_or_default(),
            "precision": inc.place.precision.as_str(),
            "rights": inc.rights_affected.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "),
            "tags": inc.tags.join(", "),
            "unverified_note": inc.unverified_note.clone().unwrap_or_default(),
            "has_exact": inc.place.exact.is_some(),
        });
        ctx.render(
            "registry_incident_form.html",
            context! { ..form_ctx(lang), ..context! {
                action => format!("/registry/incidents/{id}"),
                i => Value::from_serialize(view::meta(&ds, &inc.meta, lang)),
                version => inc.meta.version(),
                values => Value::from_serialize(values),
                has_keys => who.keys.is_some(),
            }},
        )
    };
    page.await.map_err(|f| f.html(lang))
}

/// `POST /registry/incidents/{id}`
pub(crate) async fn incident_update(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<IncidentForm>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    ctx.check_csrf(&form.csrf)?;
    let run = async {
        let id = parse_record_id("inc_", &id)?;
        let who = Who::of(&s, &ctx);
        let version = form
            .version
            .trim()
            .parse::<u32>()
            .map_err(|_| Fail::bad("version: a number"))?;
        let inc = update_incident(&s, &who, id, Some(version), form.input()?).await?;
        Ok(see_other(&format!("/registry/incidents/{}", inc.meta.id)))
    };
    run.await.map_err(|f: Fail| f.html(lang))
}

/// The workflow form.
#[derive(Debug, Deserialize)]
pub(crate) struct StatusForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    visibility: String,
}

/// `POST /registry/incidents/{id}/status`
pub(crate) async fn incident_status(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    ctx.check_csrf(&form.csrf)?;
    let run = async {
        let id = parse_record_id("inc_", &id)?;
        let who = Who::of(&s, &ctx);
        let bad = |e: canary_registry::Error| Fail::bad(e.to_string());
        let to: Option<Status> = opt(&form.to).map(|t| t.parse()).transpose().map_err(bad)?;
        let vis: Option<Visibility> = opt(&form.visibility)
            .map(|t| t.parse())
            .transpose()
            .map_err(bad)?;
        if to.is_none() && vis.is_none() {
            return Err(Fail::bad("to: a status, or visibility"));
        }
        move_record(&s, &who, "incidents", id, to, vis).await?;
        Ok(see_other(&format!("/registry/incidents/{id}")))
    };
    run.await.map_err(|f: Fail| f.html(lang))
}

/// Most provision rows the act form shows and reads.
const MAX_INVOCATION_ROWS: usize = 20;

/// The act form as posted: `act_type`, `date`, `victim_id`,
/// `description`, `stated_reason`, and `provision_N` / `role_N` pairs.
pub(crate) struct ActForm {
    csrf: String,
    fields: Vec<(String, String)>,
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for ActForm {
    type Rejection = Fail;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Fail> {
        let Form(fields): Form<Vec<(String, String)>> = Form::from_request(req, state)
            .await
            .map_err(|e| Fail::bad(e.body_text()))?;
        if fields.len() > 16 + 2 * MAX_INVOCATION_ROWS {
            return Err(Fail::bad("form: too many fields"));
        }
        let csrf = fields
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        Ok(ActForm { csrf, fields })
    }
}

impl ActForm {
    fn get(&self, k: &str) -> &str {
        self.fields
            .iter()
            .find(|(f, _)| f == k)
            .map_or("", |(_, v)| v.as_str())
    }

    fn input(&self, incident_id: String) -> Result<ActInput, Fail> {
        let bad = |e: canary_registry::Error| Fail::bad(e.to_string());
        let date = fuzzy("date", self.get("date"))?;
        let mut invocations = Vec::new();
        for n in 1..=MAX_INVOCATION_ROWS {
            if let Some(p) = opt(self.get(&format!("provision_{n}"))) {
                invocations.push(InvocationInput {
                    provision_id: p,
                    role: opt(self.get(&format!("role_{n}")))
                        .unwrap_or_else(|| "charged_under".into())
                        .parse()
                        .map_err(bad)?,
                    date,
                    note: None,
                });
            }
        }
        let mut involvements = Vec::new();
        for n in 1..=MAX_INVOCATION_ROWS {
            if let Some(a) = opt(self.get(&format!("perpetrator_{n}"))) {
                involvements.push(InvolvementInput {
                    actor_id: a,
                    degree: opt(self.get(&format!("degree_{n}")))
                        .unwrap_or_else(|| "executed".into())
                        .parse()
                        .map_err(bad)?,
                    perpetrator_type: opt(self.get(&format!("ptype_{n}")))
                        .unwrap_or_else(|| "unknown".into())
                        .parse()
                        .map_err(bad)?,
                    note: None,
                });
            }
        }
        Ok(ActInput {
            involvements,
            incident_id,
            act_type: self.get("act_type").trim().parse().map_err(bad)?,
            date,
            victim_id: opt(self.get("victim_id")),
            description: self.get("description").to_owned(),
            stated_reason: opt(self.get("stated_reason")),
            invocations,
        })
    }
}

/// Replaces an act's content and its provision invocations; records a new
/// version of its incident ("act … edited").
pub(crate) async fn update_act(
    s: &Shared,
    who: &Who,
    act_id: &str,
    mut input: ActInput,
) -> Result<(Act, ActRows), Fail> {
    if matches!(who.p, canary_registry::Principal::Anonymous) {
        return Err(Fail::new(StatusCode::UNAUTHORIZED, "error_login_required"));
    }
    check_text("description", &input.description, MAX_TEXT)?;
    check_text(
        "stated_reason",
        input.stated_reason.as_deref().unwrap_or(""),
        MAX_TEXT,
    )?;
    check_counts(&input)?;
    let mut ds = data::load(s).await?;
    let view = ds.view_for(&who.p);
    let Some(old) = view.acts.iter().find(|a| a.id == act_id).cloned() else {
        return Err(Fail::not_found());
    };
    if input.incident_id != old.incident_id {
        return Err(Fail::bad(
            "incident_id: an act cannot move to another incident",
        ));
    }
    check_references(&view, &input)?;
    let inc = readable(&mut ds.incidents, who, &old.incident_id)?;
    if !canary_registry::can_write(&who.p, &inc.meta) {
        return Err(Fail::new(StatusCode::FORBIDDEN, "error_forbidden"));
    }
    inc.meta
        .record_edit(
            &who.p,
            OffsetDateTime::now_utc(),
            format!("act {act_id} edited"),
        )
        .map_err(registry_fail)?;
    let inc = inc.clone();
    let rows = ActRows::of(act_id, &mut input);
    let act = Act {
        act_type: input.act_type,
        victim_id: input.victim_id,
        date: input.date,
        stated_reason: input.stated_reason.filter(|r| !r.trim().is_empty()),
        description: input.description,
        ..old
    };
    let before = ActRows::stored(&ds, act_id);
    let details = format!("entity=act incident={}", inc.meta.id);
    let audit = data::ActAudit {
        actor: who.p.user_id().unwrap_or("anonymous"),
        action: AuditAction::Edit,
        details: &details,
    };
    data::update_act(s, &inc, &act, &before, &rows, audit).await?;
    Ok((act, rows))
}

fn invocations_of(act_id: &str, input: Vec<InvocationInput>) -> Vec<ProvisionInvocation> {
    let mut out: Vec<ProvisionInvocation> = Vec::new();
    for i in input {
        // One row per (provision, role): a repeated pair is one invocation.
        if out
            .iter()
            .any(|o| o.provision_id == i.provision_id && o.role == i.role)
        {
            continue;
        }
        out.push(ProvisionInvocation {
            act_id: act_id.to_owned(),
            provision_id: i.provision_id,
            role: i.role,
            date: i.date,
            note: i.note.filter(|n| !n.trim().is_empty()),
        });
    }
    out
}

/// The victim and the provisions must be records the principal can see.
fn check_references(view: &Dataset, input: &ActInput) -> Result<(), Fail> {
    if let Some(v) = &input.victim_id {
        if !view.actors.iter().any(|a| &a.meta.id == v) {
            return Err(Fail::bad(format!("victim_id: no actor {v}")));
        }
    }
    for i in &input.involvements {
        if !view.actors.iter().any(|a| a.meta.id == i.actor_id) {
            return Err(Fail::bad(format!("actor_id: no actor {}", i.actor_id)));
        }
    }
    for i in &input.invocations {
        if !view.provisions.iter().any(|p| p.meta.id == i.provision_id) {
            return Err(Fail::bad(format!(
                "provision_id: no provision {}",
                i.provision_id
            )));
        }
    }
    Ok(())
}

/// One row of the act form's provision table.
#[derive(serde::Serialize)]
struct InvocationRow {
    n: usize,
    provision_id: String,
    role: String,
}

/// One row of the act form's perpetrator table.
#[derive(serde::Serialize)]
struct PerpetratorRow {
    n: usize,
    actor_id: String,
    degree: String,
    ptype: String,
}

/// Renders the act form, empty (`act` = `None`) or for an existing act.
async fn act_form(
    s: &Shared,
    ctx: &Ctx,
    incident_id: &str,
    act: Option<&str>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let who = Who::of(s, ctx);
    let ds = data::load(s).await?.view_for(&who.p);
    let Some(inc) = ds.incidents.iter().find(|i| i.meta.id == incident_id) else {
        return Err(Fail::not_found());
    };
    if !canary_registry::can_write(&who.p, &inc.meta) {
        return Err(if matches!(who.p, canary_registry::Principal::Anonymous) {
            Fail::new(StatusCode::UNAUTHORIZED, "error_login_required")
        } else {
            Fail::new(StatusCode::FORBIDDEN, "error_forbidden")
        });
    }
    let existing = match act {
        Some(id) => Some(
            ds.acts
                .iter()
                .find(|a| a.id == id && a.incident_id == incident_id)
                .ok_or_else(Fail::not_found)?,
        ),
        None => None,
    };
    let mut rows: Vec<InvocationRow> = existing
        .map(|a| {
            ds.invocations
                .iter()
                .filter(|i| i.act_id == a.id)
                .enumerate()
                .map(|(k, i)| InvocationRow {
                    n: k + 1,
                    provision_id: i.provision_id.clone(),
                    role: i.role.as_str().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    rows.truncate(MAX_INVOCATION_ROWS);
    let blank = (rows.len() + 3).min(MAX_INVOCATION_ROWS);
    for n in rows.len() + 1..=blank {
        rows.push(InvocationRow {
            n,
            provision_id: String::new(),
            role: String::new(),
        });
    }
    let mut perpetrators: Vec<PerpetratorRow> = existing
        .map(|a| {
            ds.involvements
                .iter()
                .filter(|i| i.act_id == a.id)
                .enumerate()
                .map(|(k, i)| PerpetratorRow {
                    n: k + 1,
                    actor_id: i.actor_id.clone(),
                    degree: i.degree.as_str().to_owned(),
                    ptype: i.perpetrator_type.as_str().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    perpetrators.truncate(MAX_INVOCATION_ROWS);
    let blank = (perpetrators.len() + 2).min(MAX_INVOCATION_ROWS);
    for n in perpetrators.len() + 1..=blank {
        perpetrators.push(PerpetratorRow {
            n,
            actor_id: String::new(),
            degree: String::new(),
            ptype: String::new(),
        });
    }
    let provisions: Vec<(String, String)> = ds
        .provisions
        .iter()
        .map(|p| (p.meta.id.clone(), view::provision_label(&ds, &p.meta.id).0))
        .collect();
    let actors: Vec<(String, String)> = ds
        .actors
        .iter()
        .map(|a| (a.meta.id.clone(), a.name.clone()))
        .collect();
    let values = existing.map(|a| {
        serde_json::json!({
            "act_type": a.act_type.as_str(),
            "date": view::date(a.date.as_ref()),
            "victim_id": a.victim_id.clone().unwrap_or_default(),
            "description": a.description,
            "stated_reason": a.stated_reason.clone().unwrap_or_default(),
        })
    });
    let action = match existing {
        Some(a) => format!("/registry/acts/{}", a.id),
        None => format!("/registry/incidents/{incident_id}/acts/new"),
    };
    ctx.render(
        "registry_act_form.html",
        context! {
            incident_id => incident_id,
            title => view::title(inc, lang),
            action => action,
            editing => existing.is_some(),
            values => Value::from_serialize(values.unwrap_or_else(|| serde_json::json!({
                "act_type": "", "date": "", "victim_id": "", "description": "", "stated_reason": "",
            }))),
            rows => Value::from_serialize(&rows),
            perpetrators => Value::from_serialize(&perpetrators),
            degrees => Value::from_serialize(terms!(canary_registry::Degree, lang)),
            ptypes => Value::from_serialize(terms!(canary_registry::PerpetratorType, lang)),
            act_types => Value::from_serialize(terms!(ActType, lang)),
            roles => Value::from_serialize(terms!(InvocationRole, lang)),
            provisions => Value::from_serialize(&provisions),
            actors => Value::from_serialize(&actors),
        },
    )
}

/// `GET /registry/incidents/{id}/acts/new`
pub(crate) async fn act_new(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let page = async {
        let id = parse_record_id("inc_", &id)?;
        act_form(&s, &ctx, id, None).await
    };
    page.await.map_err(|f| f.html(lang))
}

/// `POST /registry/incidents/{id}/acts/new`
pub(crate) async fn act_create(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: ActForm,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    ctx.check_csrf(&form.csrf)?;
    let run = async {
        let id = parse_record_id("inc_", &id)?.to_owned();
        let who = Who::of(&s, &ctx);
        create_act(&s, &who, form.input(id.clone())?).await?;
        Ok(see_other(&format!("/registry/incidents/{id}")))
    };
    run.await.map_err(|f: Fail| f.html(lang))
}

/// The incident an act belongs to, if the principal may see the act.
async fn incident_of_act(s: &Shared, who: &Who, act_id: &str) -> Result<String, Fail> {
    let ds = data::load(s).await?.view_for(&who.p);
    ds.acts
        .iter()
        .find(|a| a.id == act_id)
        .map(|a| a.incident_id.clone())
        .ok_or_else(Fail::not_found)
}

/// `GET /registry/acts/{id}/edit`
pub(crate) async fn act_edit(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let page = async {
        let id = parse_record_id("act_", &id)?;
        let who = Who::of(&s, &ctx);
        let incident = incident_of_act(&s, &who, id).await?;
        act_form(&s, &ctx, &incident, Some(id)).await
    };
    page.await.map_err(|f| f.html(lang))
}

/// `POST /registry/acts/{id}`
pub(crate) async fn act_update(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: ActForm,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    ctx.check_csrf(&form.csrf)?;
    let run = async {
        let id = parse_record_id("act_", &id)?;
        let who = Who::of(&s, &ctx);
        if matches!(who.p, canary_registry::Principal::Anonymous) {
            return Err(Fail::new(StatusCode::UNAUTHORIZED, "error_login_required"));
        }
        let incident = incident_of_act(&s, &who, id).await?;
        update_act(&s, &who, id, form.input(incident.clone())?).await?;
        Ok(see_other(&format!("/registry/incidents/{incident}#{id}")))
    };
    run.await.map_err(|f: Fail| f.html(lang))
}

/// `GET /registry/evidence/new`
pub(crate) async fn evidence_new(State(s): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let who = Who::of(&s, &ctx);
    require_creator(&who).map_err(|f| f.html(lang))?;
    ctx.render(
        "registry_evidence_form.html",
        context! {
            max_mib => MAX_EVIDENCE_BYTES / (1024 * 1024),
            enabled => s.cfg.evidence_dir.is_some(),
            link => ctx.query("link").unwrap_or(""),
        },
    )
}

/// Most parts an evidence upload form may have.
pub(crate) const MAX_UPLOAD_PARTS: usize = 16;
/// Most bytes of one text field of the evidence upload form.
pub(crate) const MAX_UPLOAD_FIELD_BYTES: usize = 64 * 1024;

/// The evidence upload form, read.
#[derive(Debug, Default)]
struct UploadForm {
    /// Text fields, in order (the first of a name counts).
    fields: Vec<(String, String)>,
    /// The `file` part: its content type and bytes.
    file: Option<(Option<String>, Bytes)>,
}

impl UploadForm {
    fn field(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// A multipart error as a refusal: over the route's body limit is 413,
/// anything malformed a 400 with multer's reason.
fn multipart_fail(e: MultipartError) -> Fail {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Fail::new(StatusCode::PAYLOAD_TOO_LARGE, "reg_error_upload_too_large")
    } else {
        Fail::bad(format!("multipart: {}", e.body_text()))
    }
}

/// Reads the upload form with axum's [`Multipart`] (the `multer` crate),
/// bounded: the route's body limit, at most [`MAX_UPLOAD_PARTS`] parts,
/// [`MAX_UPLOAD_FIELD_BYTES`] per text field and [`MAX_EVIDENCE_BYTES`]
/// for the file, counted as the chunks arrive.
async fn read_upload(mp: Result<Multipart, MultipartRejection>) -> Result<UploadForm, Fail> {
    let mut mp = mp.map_err(|e| Fail::bad(format!("multipart: {}", e.body_text())))?;
    let mut form = UploadForm::default();
    let mut parts = 0usize;
    while let Some(mut field) = mp.next_field().await.map_err(multipart_fail)? {
        parts += 1;
        if parts > MAX_UPLOAD_PARTS {
            return Err(Fail::bad(format!(
                "multipart: more than {MAX_UPLOAD_PARTS} parts"
            )));
        }
        let name = field.name().unwrap_or_default().to_owned();
        if name.is_empty() {
            return Err(Fail::bad("multipart: a part without a name"));
        }
        let is_file = name == "file" || field.file_name().is_some();
        let limit = if is_file {
            MAX_EVIDENCE_BYTES
        } else {
            MAX_UPLOAD_FIELD_BYTES
        };
        let content_type = field.content_type().map(str::to_owned);
        let mut data = BytesMut::new();
        while let Some(chunk) = field.chunk().await.map_err(multipart_fail)? {
            if data.len() + chunk.len() > limit {
                return Err(Fail::bad(format!("{name}: at most {limit} bytes")));
            }
            data.extend_from_slice(&chunk);
        }
        if name == "file" {
            if form.file.is_none() {
                form.file = Some((content_type, data.freeze()));
            }
        } else if !is_file {
            form.fields
                .push((name, String::from_utf8_lossy(&data).into_owned()));
        }
    }
    Ok(form)
}

/// `POST /registry/evidence` (multipart/form-data: `csrf`, `file`,
/// `media_type`, `acquired_from`, `method`, `linked_ids`, `provenance`).
pub(crate) async fn evidence_upload(
    State(s): State<Shared>,
    ctx: Ctx,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let run = async {
        let form = read_upload(mp).await?;
        let field = |name: &str| form.field(name).to_owned();
        ctx.check_csrf(&field("csrf"))?;
        let who = Who::of(&s, &ctx);
        require_creator(&who)?;
        let Some((file_type, data)) = form.file.clone() else {
            return Err(Fail::bad("file: missing"));
        };
        let media_type = opt(&field("media_type"))
            .or(file_type)
            .unwrap_or_else(|| "application/octet-stream".into());
        let input = EvidenceInput {
            media_type,
            acquired_from: opt(&field("acquired_from")),
            method: field("method"),
            linked_ids: field("linked_ids")
                .split([',', ' ', '\n'])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            provenance: opt(&field("provenance")),
        };
        let (item, _) = upload_evidence(&s, &who, data, input).await?;
        let ds = Dataset {
            custody: Vec::new(),
            ..Dataset::default()
        };
        let mut shown = item.clone();
        shown.redact_sensitive();
        let mut resp = ctx.render(
            "registry_evidence.html",
            context! {
                e => Value::from_serialize(view::evidence(&ds, &shown, lang)),
                just_uploaded => true,
                created => true,
                can_download => true,
            },
        )?;
        *resp.status_mut() = StatusCode::CREATED;
        Ok(resp)
    };
    run.await.map_err(|f: Fail| f.html(lang))
}
