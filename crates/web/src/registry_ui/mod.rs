//! The registry's web pages and JSON API: incidents, acts, laws, evidence,
//! UN recommendations.
//!
//! Every read goes through the registry's policy: a request's
//! [`Principal`] comes from the logged-in user (their name, organisation
//! and role; anonymous otherwise), the data shown is
//! [`Dataset::view_for`] that principal (only readable records, redacted),
//! and sensitive fields are opened with [`canary_registry::reveal`] only
//! for analysts and administrators of the owning organisation, only when
//! the server holds the field keys, and each opened field is recorded in
//! the audit log. Exports go through [`canary_registry::export`] (audited
//! too). Writes (forms and API) are attributed, versioned, CSRF-protected
//! and allowed by [`canary_registry::can_write`] /
//! [`canary_registry::can_transition`] only.
//!
//! | route | what |
//! |---|---|
//! | `GET /registry/incidents` | incident list; filters `act_type`, `law`, `provision`, `from`, `to`, `status`, `org` |
//! | `GET /registry/incidents/{id}` | an incident's timeline: acts, provisions invoked, perpetrators, evidence (SHA-256), sources, measurements and events |
//! | `GET,POST /registry/incidents/new`, `GET /registry/incidents/{id}/edit`, `POST /registry/incidents/{id}` | create and edit an incident (analysts) |
//! | `POST /registry/incidents/{id}/status` | workflow: draft → in review → verified → published |
//! | `GET,POST /registry/incidents/{id}/acts/new`, `GET /registry/acts/{id}/edit`, `POST /registry/acts/{id}` | add or edit an act with the provisions it invoked and its perpetrators |
//! | `GET /registry/laws`, `/registry/laws/{id}` | laws; each provision and the acts that invoked it over time (SVG) |
//! | `GET /registry/recommendations` | UN recommendations and benchmarks with their latest assessment |
//! | `/registry/sources`, `/registry/citations/new`, `/registry/laws/new`, `/registry/laws/{id}/provisions/new`, `/registry/recommendations/new`, `/registry/benchmarks/new`, `…/{id}/assess`, `/registry/actors`, and their `…/{id}/edit` | entry forms for sources and citations, laws and provisions, recommendations, benchmarks and assessments, actors (see `entry`) |
//! | `GET,POST /registry/evidence/new`, `GET /registry/evidence/{id}`, `GET /registry/evidence/{id}/file` | evidence upload (multipart, read with axum's `Multipart`) linked to incidents, acts or sources (a source's archived copy), content-addressed, custody chain; download (owners' analysts and admins; re-hashed; custody `exported`) |
//! | `GET /api/v1/registry/{collection}[/{id}]` | JSON, redacted for the caller (custody events only for the evidence's own organisation; others get `custody_heads`) |
//! | `POST /api/v1/registry/incidents`, `PUT /api/v1/registry/incidents/{id}`, `PUT /api/v1/registry/acts/{id}`, `POST /api/v1/registry/acts`, `POST /api/v1/registry/{collection}/{id}/status`, `POST /api/v1/registry/evidence` | writes (header `x-csrf-token`, see `GET /api/v1/registry/session`) |
//! | `GET /api/v1/registry/export?format=json\|csv[&collection=…]`, `POST /api/v1/registry/import` | audited export; import (sealed before storing) |
//! | `GET /api/v1/registry/audit` | administrators: the audit entries of their organisation's members |
//! | `GET /api/v1/openapi.json` | the OpenAPI 3 description of the registry API |
//!
//! ## Example: the API from a shell
//!
//! ```text
//! # log in once (the form's CSRF token comes from GET /login), keep the cookie
//! T=$(curl -s -b jar http://127.0.0.1:8080/api/v1/registry/session | jq -r .csrf_token)
//! curl -b jar -H 'content-type: application/json' -H "x-csrf-token: $T" \
//!      -d '{"title":"Student arrested over a post","start":"2024-05","exact_place":"…"}' \
//!      http://127.0.0.1:8080/api/v1/registry/incidents          # 201, exact place sealed
//! curl -b jar -H "x-csrf-token: $T" -H 'content-type: image/png' --data-binary @post.png \
//!      'http://127.0.0.1:8080/api/v1/registry/evidence?linked_ids=inc_…'   # 201 with its SHA-256
//! curl -b jar 'http://127.0.0.1:8080/api/v1/registry/export?format=csv&collection=incidents'
//! ```

mod api;
mod data;
mod entry;
mod forms;
mod pages;
mod view;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use canary_registry::{AuditLog, Dataset, KeyRing, Principal, Role};
use canary_store::accounts::User;
use time::OffsetDateTime;
use tracing::warn;

pub(crate) use pages::orders_for_domain;

use crate::server::{Ctx, Fail, Shared};

/// Largest evidence file accepted (bytes).
pub(crate) const MAX_EVIDENCE_BYTES: usize = 32 * 1024 * 1024;
/// Largest imported dataset (bytes).
pub(crate) const MAX_IMPORT_BYTES: usize = 16 * 1024 * 1024;
/// Largest form or JSON body of the other writes (bytes).
pub(crate) const MAX_FORM_BYTES: usize = 256 * 1024;

/// This area's templates, by name.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    (
        "registry_macros.html",
        include_str!("../../templates/registry_macros.html"),
    ),
    (
        "registry_incidents.html",
        include_str!("../../templates/registry_incidents.html"),
    ),
    (
        "registry_incident.html",
        include_str!("../../templates/registry_incident.html"),
    ),
    (
        "registry_incident_form.html",
        include_str!("../../templates/registry_incident_form.html"),
    ),
    (
        "registry_act_form.html",
        include_str!("../../templates/registry_act_form.html"),
    ),
    (
        "registry_laws.html",
        include_str!("../../templates/registry_laws.html"),
    ),
    (
        "registry_law.html",
        include_str!("../../templates/registry_law.html"),
    ),
    (
        "registry_recommendations.html",
        include_str!("../../templates/registry_recommendations.html"),
    ),
    (
        "registry_evidence_form.html",
        include_str!("../../templates/registry_evidence_form.html"),
    ),
    (
        "registry_evidence.html",
        include_str!("../../templates/registry_evidence.html"),
    ),
    (
        "registry_form_macros.html",
        include_str!("../../templates/registry_form_macros.html"),
    ),
    (
        "registry_source_form.html",
        include_str!("../../templates/registry_source_form.html"),
    ),
    (
        "registry_sources.html",
        include_str!("../../templates/registry_sources.html"),
    ),
    (
        "registry_citation_form.html",
        include_str!("../../templates/registry_citation_form.html"),
    ),
    (
        "registry_law_form.html",
        include_str!("../../templates/registry_law_form.html"),
    ),
    (
        "registry_provision_form.html",
        include_str!("../../templates/registry_provision_form.html"),
    ),
    (
        "registry_recommendation_form.html",
        include_str!("../../templates/registry_recommendation_form.html"),
    ),
    (
        "registry_benchmark_form.html",
        include_str!("../../templates/registry_benchmark_form.html"),
    ),
    (
        "registry_assessment_form.html",
        include_str!("../../templates/registry_assessment_form.html"),
    ),
    (
        "registry_actor_form.html",
        include_str!("../../templates/registry_actor_form.html"),
    ),
    (
        "registry_actors.html",
        include_str!("../../templates/registry_actors.html"),
    ),
];

/// This area's routes (each sets its own body limit).
pub(crate) fn routes() -> Router<Shared> {
    let small = Router::new()
        .route("/registry", get(pages::home))
        .route("/registry/incidents", get(pages::incidents))
        .route(
            "/registry/incidents/new",
            get(forms::incident_new).post(forms::incident_create),
        )
        .route(
            "/registry/incidents/{id}",
            get(pages::incident).post(forms::incident_update),
        )
        .route("/registry/incidents/{id}/edit", get(forms::incident_edit))
        .route(
            "/registry/incidents/{id}/status",
            post(forms::incident_status),
        )
        .route(
            "/registry/incidents/{id}/acts/new",
            get(forms::act_new).post(forms::act_create),
        )
        .route("/registry/acts/{id}/edit", get(forms::act_edit))
        .route("/registry/acts/{id}", post(forms::act_update))
        .route("/registry/laws", get(pages::laws))
        .route(
            "/registry/laws/new",
            get(entry::law_new).post(entry::law_create),
        )
        .route(
            "/registry/laws/{id}",
            get(pages::law).post(entry::law_update),
        )
        .route("/registry/laws/{id}/edit", get(entry::law_edit))
        .route(
            "/registry/laws/{id}/provisions/new",
            get(entry::provision_new).post(entry::provision_create),
        )
        .route("/registry/provisions/{id}", post(entry::provision_update))
        .route("/registry/provisions/{id}/edit", get(entry::provision_edit))
        .route("/registry/recommendations", get(pages::recommendations))
        .route(
            "/registry/recommendations/new",
            get(entry::recommendation_new).post(entry::recommendation_create),
        )
        .route(
            "/registry/recommendations/{id}",
            post(entry::recommendation_update),
        )
        .route(
            "/registry/recommendations/{id}/edit",
            get(entry::recommendation_edit),
        )
        .route(
            "/registry/recommendations/{id}/assess",
            get(entry::assessment_new).post(entry::assessment_create),
        )
        .route(
            "/registry/benchmarks/new",
            get(entry::benchmark_new).post(entry::benchmark_create),
        )
        .route("/registry/benchmarks/{id}", post(entry::benchmark_update))
        .route("/registry/benchmarks/{id}/edit", get(entry::benchmark_edit))
        .route(
            "/registry/benchmarks/{id}/assess",
            get(entry::assessment_new).post(entry::assessment_create),
        )
        .route("/registry/sources", get(entry::sources))
        .route(
            "/registry/sources/new",
            get(entry::source_new).post(entry::source_create),
        )
        .route("/registry/sources/{id}", post(entry::source_update))
        .route("/registry/sources/{id}/edit", get(entry::source_edit))
        .route(
            "/registry/citations/new",
            get(entry::citation_new).post(entry::citation_create),
        )
        .route("/registry/citations/remove", post(entry::citation_remove))
        .route(
            "/registry/assessments/{id}/remove",
            post(entry::assessment_remove),
        )
        .route("/registry/actors", get(entry::actors))
        .route(
            "/registry/actors/new",
            get(entry::actor_new).post(entry::actor_create),
        )
        .route("/registry/actors/{id}", post(entry::actor_update))
        .route("/registry/actors/{id}/edit", get(entry::actor_edit))
        .route("/registry/sources/{id}/status", post(entry::record_status))
        .route("/registry/laws/{id}/status", post(entry::record_status))
        .route(
            "/registry/provisions/{id}/status",
            post(entry::record_status),
        )
        .route(
            "/registry/recommendations/{id}/status",
            post(entry::record_status),
        )
        .route(
            "/registry/benchmarks/{id}/status",
            post(entry::record_status),
        )
        .route("/registry/actors/{id}/status", post(entry::record_status))
        .route("/registry/evidence/new", get(forms::evidence_new))
        .route("/registry/evidence/{id}", get(pages::evidence))
        .route("/registry/evidence/{id}/file", get(pages::evidence_file))
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/api/v1/registry/session", get(api::session))
        .route("/api/v1/registry/export", get(api::export))
        .route("/api/v1/registry/audit", get(api::audit))
        .route(
            "/api/v1/registry/incidents",
            get(api::list_incidents).post(api::incident_create),
        )
        .route(
            "/api/v1/registry/acts",
            get(api::list_acts).post(api::act_create),
        )
        .route("/api/v1/registry/{collection}", get(api::list))
        .route(
            "/api/v1/registry/{collection}/{id}",
            get(api::get_one).put(api::incident_update),
        )
        .route(
            "/api/v1/registry/{collection}/{id}/status",
            post(api::status),
        )
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES));
    let evidence = Router::new()
        .route("/registry/evidence", post(forms::evidence_upload))
        .route(
            "/api/v1/registry/evidence",
            get(api::list_evidence).post(api::evidence_upload),
        )
        .layer(DefaultBodyLimit::max(MAX_EVIDENCE_BYTES + 64 * 1024));
    let import = Router::new()
        .route("/api/v1/registry/import", post(api::import))
        .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES));
    small.merge(evidence).merge(import)
}

/// The registry principal of a store user: their login name as user id,
/// their organisation (`org_…`) and role. A disabled user, or a request
/// without a session, is anonymous.
pub(crate) fn principal_of(user: Option<&User>) -> Principal {
    match user {
        Some(u) if !u.disabled => {
            let role = match u.role.as_str() {
                "admin" => Role::Admin,
                "analyst" => Role::Analyst,
                _ => Role::Viewer,
            };
            Principal::user(u.name.clone(), u.org.clone().unwrap_or_default(), role)
        }
        _ => Principal::Anonymous,
    }
}

/// Everything a registry handler needs about the request.
pub(crate) struct Who {
    /// The principal.
    pub(crate) p: Principal,
    /// The field keys, if the server has them.
    pub(crate) keys: Option<Arc<KeyRing>>,
}

impl Who {
    pub(crate) fn of(s: &Shared, ctx: &Ctx) -> Who {
        Who {
            p: principal_of(ctx.user.as_ref()),
            keys: s.cfg.registry_keys.clone(),
        }
    }

    /// The principal's organisation and role, when logged in.
    pub(crate) fn org(&self) -> Option<&str> {
        match &self.p {
            Principal::User { org_id, .. } => Some(org_id),
            Principal::Anonymous => None,
        }
    }

    /// Whether the principal may create records (analyst or admin of an
    /// organisation with a well-formed `org_…` id).
    pub(crate) fn can_create(&self) -> bool {
        match &self.p {
            Principal::User { org_id, .. } => {
                canary_registry::meta::check_id("org_", org_id).is_ok()
                    && canary_registry::policy::can_create(&self.p, org_id)
            }
            Principal::Anonymous => false,
        }
    }
}

/// The dataset as `who` may see it.
pub(crate) async fn view(s: &Shared, who: &Who) -> Result<Dataset, Fail> {
    let ds = data::load(s).await?;
    Ok(ds.view_for(&who.p))
}

/// Opens `record`'s sensitive fields for `who` when allowed and the server
/// has the keys (appending one audit entry per field opened to `audit`);
/// otherwise every sensitive field is redacted. A field that fails to open
/// is shown redacted and logged, never as ciphertext.
pub(crate) fn reveal_or_redact<R: canary_registry::Record + Clone>(
    record: &R,
    who: &Who,
    audit: &mut AuditLog,
    at: OffsetDateTime,
) -> R {
    if let Some(ring) = &who.keys {
        if canary_registry::can_read_sensitive(&who.p, record.meta()) {
            match canary_registry::reveal(record, &who.p, ring, audit, at) {
                Ok(r) => return r,
                Err(e) => {
                    warn!(record = %record.meta().id, error = %e, "sensitive field did not open")
                }
            }
        }
    }
    let mut out = canary_registry::redact(record, &who.p);
    out.redact_sensitive();
    out
}

/// Maps a registry error to a refusal.
pub(crate) fn registry_fail(e: canary_registry::Error) -> Fail {
    use canary_registry::Error as E;
    match e {
        E::Forbidden(_) => Fail::new(StatusCode::FORBIDDEN, "error_forbidden"),
        E::Invalid { .. } | E::IllegalTransition { .. } | E::Dataset(_) | E::TooLarge { .. } => {
            Fail::bad(e.to_string())
        }
        E::Json(_) | E::Csv { .. } => Fail::bad(e.to_string()),
        other => Fail::internal(crate::WebError::Config(format!("registry: {other}"))),
    }
}
