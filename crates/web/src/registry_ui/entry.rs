//! Entry forms for what analysts record most after incidents: sources
//! (and citing them on an incident or an act), laws and their provisions,
//! UN recommendations and benchmarks with dated assessments, and actors.
//!
//! Plain HTML forms, no script. Each follows the same contract as the
//! incident and act forms:
//!
//! * only analysts and administrators of a registered organisation reach
//!   them (anonymous: 401 with a login link; viewers: 403), and an edit
//!   only of a record the policy lets them write;
//! * every POST carries the session's CSRF token (403 otherwise, nothing
//!   written);
//! * an invalid field re-renders the form (422) with the reason next to
//!   the field and everything typed kept — except sensitive values, which
//!   are never echoed into a page;
//! * an edit carries the version it was made on: if someone saved since,
//!   the form comes back (409) with the typed values and a message, and
//!   the store refuses a write that lost a race the same way;
//! * a write and its audit entry are one transaction
//!   ([`data::write_entry`]); sensitive fields (a source's or an actor's
//!   identity and contact) are sealed before they are stored;
//! * success redirects (303) to the page that shows the record.
//!
//! | route | what |
//! |---|---|
//! | `GET /registry/sources` | sources the reader may see |
//! | `GET,POST /registry/sources/new[?cite=inc_…\|act_…]`, `GET /registry/sources/{id}/edit`, `POST /registry/sources/{id}` | a source; with `cite`, cited on that incident or act in the same write |
//! | `GET,POST /registry/citations/new?record=inc_…\|act_…`, `POST /registry/citations/remove?record=…` | cite an existing source on an incident or act; remove a citation |
//! | `GET,POST /registry/laws/new`, `GET /registry/laws/{id}/edit`, `POST /registry/laws/{id}` | a law |
//! | `GET,POST /registry/laws/{id}/provisions/new`, `GET /registry/provisions/{id}/edit`, `POST /registry/provisions/{id}` | a provision (English and Khmer paraphrase) |
//! | `GET,POST /registry/recommendations/new`, `GET /registry/recommendations/{id}/edit`, `POST /registry/recommendations/{id}` | a UN recommendation |
//! | `GET,POST /registry/benchmarks/new`, `GET /registry/benchmarks/{id}/edit`, `POST /registry/benchmarks/{id}` | a benchmark |
//! | `GET,POST /registry/recommendations/{id}/assess`, `GET,POST /registry/benchmarks/{id}/assess`, `POST /registry/assessments/{id}/remove` | a dated assessment citing incidents, acts, sources or blocking events; withdrawing one made in error (the assessing organisation) |
//! | `GET /registry/actors`, `GET,POST /registry/actors/new`, `GET /registry/actors/{id}/edit`, `POST /registry/actors/{id}` | actors (people, outlets, state bodies…) |

use std::collections::BTreeMap;
use std::str::FromStr;

use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use canary_registry::{
    Actor, ActorKind, Assessment, AuditAction, Benchmark, Citation, Dataset, EntityType, FuzzyDate,
    Implementation, Incident, InstrumentType, Law, LegalStatus, Mechanism, Principal, Provision,
    RecResponse, Recommendation, Record, RecordMeta, Reliability, Right, Source, SourceConnection,
    Status, VictimCharacteristic, Visibility,
};
use canary_store::registry::{Collection, StoredRecord};
use minijinja::{context, Value};
use serde_json::{json, Map, Value as J};
use time::OffsetDateTime;

use super::forms::{known_org, move_record, readable, require_creator, seal, see_other, MAX_TEXT};
use super::pages::parse_record_id;
use super::view::{self, terms};
use super::{data, registry_fail, Who};
use crate::i18n::Lang;
use crate::server::{Ctx, Fail, Shared};

/// Most fields one entry form may post.
const MAX_FIELDS: usize = 200;
/// Most items of one list field (states, themes, evidence ids…).
const MAX_ITEMS: usize = 50;

// ------------------------------------------------------------ posted forms

/// A posted entry form: its fields in order (a name may repeat, as
/// checkboxes and multiple selects do), bounded by [`MAX_FIELDS`] and by
/// the route's body limit.
pub(crate) struct Posted {
    fields: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequest<S> for Posted {
    type Rejection = Fail;

    async fn from_request(req: Request, state: &S) -> Result<Self, Fail> {
        let Form(fields): Form<Vec<(String, String)>> =
            Form::from_request(req, state).await.map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Fail::new(StatusCode::PAYLOAD_TOO_LARGE, "reg_error_form_too_large")
                } else {
                    Fail::bad(e.body_text())
                }
            })?;
        if fields.len() > MAX_FIELDS {
            return Err(Fail::bad("form: too many fields"));
        }
        Ok(Posted { fields })
    }
}

/// A posted form as the handlers take it: a refusal to read it (too
/// large, too many fields, not a form) becomes an HTML page in the
/// reader's language, then the CSRF token is checked.
fn accept(posted: Result<Posted, Fail>, ctx: &Ctx) -> Result<Posted, Fail> {
    let posted = posted.map_err(|f| f.html(ctx.lang))?;
    ctx.check_csrf(posted.get("csrf"))?;
    Ok(posted)
}

impl Posted {
    fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
            .collect()
    }
}

/// Reads and checks a posted form field by field: keeps what was typed
/// (to show it again) and one reason per field that is wrong, in the
/// reader's language.
struct Check<'a> {
    lang: Lang,
    posted: &'a Posted,
    values: Map<String, J>,
    errors: BTreeMap<String, String>,
}

impl<'a> Check<'a> {
    fn new(lang: Lang, posted: &'a Posted, blank: Map<String, J>) -> Check<'a> {
        Check {
            lang,
            posted,
            values: blank,
            errors: BTreeMap::new(),
        }
    }

    fn err(&mut self, name: &str, key: &str) {
        if !self.errors.contains_key(name) {
            self.errors
                .insert(name.to_owned(), self.lang.t(key).to_owned());
        }
    }

    fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// A text field, trimmed; `max` bytes at most.
    fn text(&mut self, name: &str, max: usize, required: bool) -> String {
        let raw = self.posted.get(name).to_owned();
        let t = raw.trim().to_owned();
        if raw.len() > max {
            self.err(name, "reg_err_too_long");
        } else if required && t.is_empty() {
            self.err(name, "reg_err_required");
        } else if t
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            self.err(name, "reg_err_control");
        }
        self.values.insert(name.to_owned(), J::String(raw));
        t
    }

    fn opt(&mut self, name: &str, max: usize) -> Option<String> {
        Some(self.text(name, max, false)).filter(|t| !t.is_empty())
    }

    /// A one-line field: no line breaks.
    fn line(&mut self, name: &str, max: usize, required: bool) -> String {
        let t = self.text(name, max, required);
        if t.contains(['\n', '\r']) {
            self.err(name, "reg_err_one_line");
        }
        t
    }

    fn opt_line(&mut self, name: &str, max: usize) -> Option<String> {
        Some(self.line(name, max, false)).filter(|t| !t.is_empty())
    }

    /// A fuzzy date (`2023`, `2023-07`, `2023-07-17`, `~2023-07-17`).
    fn date(&mut self, name: &str, required: bool) -> Option<FuzzyDate> {
        let t = self.line(name, 40, required);
        if t.is_empty() {
            return None;
        }
        match t.parse::<FuzzyDate>() {
            Ok(d) => Some(d),
            Err(_) => {
                self.err(name, "reg_err_date");
                None
            }
        }
    }

    /// One term of a vocabulary; `default` when left empty (required if
    /// there is none).
    fn term<T: FromStr + Copy>(&mut self, name: &str, default: Option<T>) -> Option<T> {
        let t = self.line(name, 64, default.is_none());
        if t.is_empty() {
            return default;
        }
        match t.parse() {
            Ok(v) => Some(v),
            Err(_) => {
                self.err(name, "reg_err_choice");
                None
            }
        }
    }

    /// Every value of a repeated field (checkboxes, multiple select).
    fn many(&mut self, name: &str) -> Vec<String> {
        let raw: Vec<String> = self
            .posted
            .all(name)
            .into_iter()
            .map(|v| v.trim().to_owned())
            .collect();
        if raw.len() > MAX_ITEMS || raw.iter().any(|v| v.len() > 200) {
            self.err(name, "reg_err_too_many");
        }
        self.values.insert(
            name.to_owned(),
            J::Array(raw.iter().cloned().map(J::String).collect()),
        );
        raw
    }

    /// Every checked term of a vocabulary.
    fn terms<T: FromStr + PartialEq>(&mut self, name: &str) -> Vec<T> {
        let mut out: Vec<T> = Vec::new();
        for v in self.many(name) {
            match v.parse::<T>() {
                Ok(t) if !out.contains(&t) => out.push(t),
                Ok(_) => {}
                Err(_) => self.err(name, "reg_err_choice"),
            }
        }
        out
    }

    /// A free list separated by commas or new lines.
    fn list(&mut self, name: &str, each: usize) -> Vec<String> {
        let t = self.text(name, MAX_ITEMS * (each + 2), false);
        let items: Vec<String> = t
            .split([',', '\n'])
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(str::to_owned)
            .collect();
        if items.len() > MAX_ITEMS || items.iter().any(|i| i.len() > each) {
            self.err(name, "reg_err_too_many");
        }
        items
    }

    /// A checkbox.
    fn flag(&mut self, name: &str) -> bool {
        let on = !self.posted.get(name).trim().is_empty();
        self.values.insert(name.to_owned(), J::Bool(on));
        on
    }

    /// A web address (http or https, with a host).
    fn url(&mut self, name: &str) -> Option<String> {
        let t = self.opt_line(name, 2000)?;
        match url::Url::parse(&t) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Some(t),
            _ => {
                self.err(name, "reg_err_url");
                None
            }
        }
    }

    /// A whole number in `range`.
    fn number(&mut self, name: &str, range: std::ops::RangeInclusive<u32>) -> Option<u32> {
        let t = self.line(name, 12, false);
        if t.is_empty() {
            return None;
        }
        match t.parse::<u32>() {
            Ok(n) if range.contains(&n) => Some(n),
            _ => {
                self.err(name, "reg_err_number");
                None
            }
        }
    }

    /// A sensitive value: never kept for display (a page never echoes
    /// one back), and refused when the server cannot seal it.
    fn secret(&mut self, name: &str, who: &Who) -> Option<String> {
        let raw = self.posted.get(name);
        let t = raw.trim().to_owned();
        if t.is_empty() {
            return None;
        }
        if raw.len() > 2000 {
            self.err(name, "reg_err_too_long");
        } else if who.keys.is_none() {
            self.err(name, "reg_no_keys");
        }
        // Whatever else fails, the value must be typed again: say so.
        self.err(name, "reg_err_sensitive_again");
        Some(t)
    }

    /// Forgets the "type it again" notes of sensitive fields when nothing
    /// else is wrong (the value will be stored).
    fn settle_secrets(&mut self, names: &[&str]) {
        let again = self.lang.t("reg_err_sensitive_again");
        let only_notes = self
            .errors
            .iter()
            .all(|(k, v)| names.contains(&k.as_str()) && v == again);
        if only_notes {
            self.errors.clear();
        }
    }
}

/// A BCP 47 language tag, loosely: `km`, `en`, `fr`, `zh-Hant`…
fn language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let first = parts.next().unwrap_or_default();
    (2..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// An article number as laws write them: `41`, `437 bis`, `cl. 6`,
/// `៤១`, `3(2)`: letters and digits of any script, spaces and `.-()/§`.
fn article_label(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '.' | '-' | '(' | ')' | '/' | '§'))
}

// ------------------------------------------------------------ form pages

/// What a form page shows besides its entity's own context.
struct FormPage {
    action: String,
    editing: bool,
    version: u32,
    values: Map<String, J>,
    errors: BTreeMap<String, String>,
    /// A catalog key shown above the form (a conflict).
    problem: Option<&'static str>,
}

fn show(
    ctx: &Ctx,
    template: &str,
    page: FormPage,
    extra: Value,
    status: StatusCode,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let mut resp = ctx.render(
        template,
        context! { ..extra, ..context! {
            action => page.action,
            editing => page.editing,
            version => page.version,
            values => Value::from_serialize(&page.values),
            errors => Value::from_serialize(&page.errors),
            problem => page.problem.map(|k| lang.t(k)),
        }},
    )?;
    *resp.status_mut() = status;
    Ok(resp)
}

/// 401 for the anonymous, 403 for the rest.
fn refuse(who: &Who) -> Fail {
    if matches!(who.p, Principal::Anonymous) {
        Fail::new(StatusCode::UNAUTHORIZED, "error_login_required")
    } else {
        Fail::new(StatusCode::FORBIDDEN, "error_forbidden")
    }
}

fn version_of(posted: &Posted) -> Result<u32, Fail> {
    posted
        .get("version")
        .trim()
        .parse::<u32>()
        .map_err(|_| Fail::bad("version: a number"))
}

fn opt_s(v: &Option<String>) -> J {
    J::String(v.clone().unwrap_or_default())
}

fn date_s(d: Option<&FuzzyDate>) -> J {
    J::String(view::date(d))
}

fn codes<T: Copy>(v: &[T], f: fn(T) -> &'static str) -> J {
    J::Array(v.iter().map(|t| J::String(f(*t).to_owned())).collect())
}

fn obj(v: J) -> Map<String, J> {
    match v {
        J::Object(m) => m,
        _ => Map::new(),
    }
}

// ------------------------------------------------------------ the entities

/// A top-level record an entry form creates and edits.
trait Entry: StoredRecord {
    /// Its name in audit entries and catalog keys.
    const NAME: &'static str;
    /// Its form's template.
    const TEMPLATE: &'static str;
    /// Its sensitive fields' form names (never echoed back).
    const SECRETS: &'static [&'static str] = &[];
    /// The stored records of its kind.
    fn all(ds: &mut Dataset) -> &mut Vec<Self>;
    /// A new record under `meta`, attached to `parent` (a law for provisions).
    fn skeleton(meta: RecordMeta, parent: &str) -> Self;
    /// Its parent (the law of a provision), if it has one.
    fn parent(&self) -> &str {
        ""
    }
    /// Form values of an empty form.
    fn blank() -> Map<String, J>;
    /// Form values of the record (sensitive fields: only whether they are set).
    fn values(&self) -> Map<String, J>;
    /// Reads the form into the record; `view` is the dataset as the
    /// writer sees it (for references and duplicates).
    fn apply(&mut self, c: &mut Check, who: &Who, view: &Dataset);
    /// The form's other context (vocabularies, the parent's name…).
    fn extra(lang: Lang, view: &Dataset, parent: &str) -> Value;
    /// Where to go once saved.
    fn done(&self) -> String;
}

fn seal_opt(
    c: &mut Check,
    who: &Who,
    entity: EntityType,
    id: &str,
    field: &str,
    old: Option<canary_registry::SensitiveField>,
) -> Option<canary_registry::SensitiveField> {
    match c.secret(field, who) {
        Some(t) if who.keys.is_some() => match seal(who, entity, id, field, &t) {
            Ok(f) => Some(f),
            Err(_) => {
                // Not a "type it again" note: this must stop the write.
                let why = c.lang.t("reg_no_keys").to_owned();
                c.errors.insert(field.to_owned(), why);
                old
            }
        },
        _ => old,
    }
}

/// Seals a person's `identity` and `contact` from the form (the two
/// sensitive fields that sources and actors share).
fn seal_person(
    c: &mut Check,
    who: &Who,
    entity: EntityType,
    id: &str,
    identity: &mut Option<canary_registry::SensitiveField>,
    contact: &mut Option<canary_registry::SensitiveField>,
) {
    *identity = seal_opt(c, who, entity, id, "identity", identity.take());
    *contact = seal_opt(c, who, entity, id, "contact", contact.take());
}

impl Entry for Source {
    const NAME: &'static str = "source";
    const TEMPLATE: &'static str = "registry_source_form.html";
    const SECRETS: &'static [&'static str] = &["identity", "contact"];
    fn all(ds: &mut Dataset) -> &mut Vec<Self> {
        &mut ds.sources
    }
    fn skeleton(meta: RecordMeta, _: &str) -> Self {
        Source {
            meta,
            publication: String::new(),
            title: None,
            url: None,
            published: None,
            connection: SourceConnection::Media,
            reliability: Reliability::Unknown,
            language: "en".into(),
            consent_to_publish: false,
            identity: None,
            contact: None,
        }
    }
    fn blank() -> Map<String, J> {
        obj(json!({
            "publication": "", "title": "", "url": "", "published": "",
            "connection": "media", "reliability": "unknown", "language": "en",
            "consent_to_publish": false, "has_identity": false, "has_contact": false,
            "cite_note": "", "change_summary": "",
        }))
    }
    fn values(&self) -> Map<String, J> {
        let mut v = Self::blank();
        v.insert("publication".into(), J::String(self.publication.clone()));
        v.insert("title".into(), opt_s(&self.title));
        v.insert("url".into(), opt_s(&self.url));
        v.insert("published".into(), date_s(self.published.as_ref()));
        v.insert("connection".into(), self.connection.as_str().into());
        v.insert("reliability".into(), self.reliability.as_str().into());
        v.insert("language".into(), J::String(self.language.clone()));
        v.insert("consent_to_publish".into(), self.consent_to_publish.into());
        v.insert("has_identity".into(), self.identity.is_some().into());
        v.insert("has_contact".into(), self.contact.is_some().into());
        v
    }
    fn apply(&mut self, c: &mut Check, who: &Who, _: &Dataset) {
        self.publication = c.line("publication", 300, true);
        self.title = c.opt_line("title", 500);
        self.url = c.url("url");
        self.published = c.date("published", false);
        if let Some(t) = c.term("connection", None) {
            self.connection = t;
        }
        if let Some(t) = c.term("reliability", Some(Reliability::Unknown)) {
            self.reliability = t;
        }
        let lang = c.line("language", 35, true);
        if !lang.is_empty() && !language_tag(&lang) {
            c.err("language", "reg_err_language");
        }
        self.language = lang;
        self.consent_to_publish = c.flag("consent_to_publish");
        let id = self.meta.id.clone();
        seal_person(
            c,
            who,
            EntityType::Source,
            &id,
            &mut self.identity,
            &mut self.contact,
        );
    }
    fn extra(lang: Lang, _: &Dataset, _: &str) -> Value {
        context! {
            connections => Value::from_serialize(terms!(SourceConnection, lang)),
            reliabilities => Value::from_serialize(terms!(Reliability, lang)),
        }
    }
    fn done(&self) -> String {
        format!("/registry/sources#{}", self.meta.id)
    }
}

impl Entry for Law {
    const NAME: &'static str = "law";
    const TEMPLATE: &'static str = "registry_law_form.html";
    fn all(ds: &mut Dataset) -> &mut Vec<Self> {
        &mut ds.laws
    }
    fn skeleton(meta: RecordMeta, _: &str) -> Self {
        Law {
            meta,
            code: String::new(),
            name_en: String::new(),
            name_km: None,
            instrument_type: InstrumentType::Law,
            summary_en: None,
            adopted: None,
            legal_status: LegalStatus::InForce,
            verified: false,
            unverified_note: None,
        }
    }
    fn blank() -> Map<String, J> {
        obj(json!({
            "code": "", "name_en": "", "name_km": "", "instrument_type": "law",
            "summary_en": "", "adopted": "", "legal_status": "in_force",
            "unverified_note": "", "change_summary": "",
        }))
    }
    fn values(&self) -> Map<String, J> {
        let mut v = Self::blank();
        v.insert("code".into(), J::String(self.code.clone()));
        v.insert("name_en".into(), J::String(self.name_en.clone()));
        v.insert("name_km".into(), opt_s(&self.name_km));
        v.insert(
            "instrument_type".into(),
            self.instrument_type.as_str().into(),
        );
        v.insert("summary_en".into(), opt_s(&self.summary_en));
        v.insert("adopted".into(), date_s(self.adopted.as_ref()));
        v.insert("legal_status".into(), self.legal_status.as_str().into());
        v.insert("unverified_note".into(), opt_s(&self.unverified_note));
        v
    }
    fn apply(&mut self, c: &mut Check, _: &Who, view: &Dataset) {
        self.code = c.line("code", 40, true);
        if !self.code.is_empty()
            && view
                .laws
                .iter()
                .any(|l| l.meta.id != self.meta.id && l.code.eq_ignore_ascii_case(&self.code))
        {
            c.err("code", "reg_err_duplicate");
        }
        self.name_en = c.line("name_en", 500, true);
        self.name_km = c.opt_line("name_km", 500);
        if let Some(t) = c.term("instrument_type", None) {
            self.instrument_type = t;
        }
        self.summary_en = c.opt("summary_en", MAX_TEXT);
        self.adopted = c.date("adopted", false);
        if let Some(t) = c.term("legal_status", None) {
            self.legal_status = t;
        }
        self.unverified_note = c.opt("unverified_note", MAX_TEXT);
    }
    fn extra(lang: Lang, _: &Dataset, _: &str) -> Value {
        context! {
            instruments => Value::from_serialize(terms!(InstrumentType, lang)),
            legal_statuses => Value::from_serialize(terms!(LegalStatus, lang)),
        }
    }
    fn done(&self) -> String {
        format!("/registry/laws/{}", self.meta.id)
    }
}

impl Entry for Provision {
    const NAME: &'static str = "provision";
    const TEMPLATE: &'static str = "registry_provision_form.html";
    fn all(ds: &mut Dataset) -> &mut Vec<Self> {
        &mut ds.provisions
    }
    fn skeleton(meta: RecordMeta, parent: &str) -> Self {
        Provision {
            meta,
            law_id: parent.to_owned(),
            article: String::new(),
            paraphrase_en: String::new(),
            paraphrase_km: None,
            legal_status: LegalStatus::InForce,
            rights_restricted: Vec::new(),
            verified: false,
            unverified_note: None,
        }
    }
    fn parent(&self) -> &str {
        &self.law_id
    }
    fn blank() -> Map<String, J> {
        obj(json!({
            "article": "", "paraphrase_en": "", "paraphrase_km": "",
            "legal_status": "in_force", "rights_restricted": [],
            "unverified_note": "", "change_summary": "",
        }))
    }
    fn values(&self) -> Map<String, J> {
        let mut v = Self::blank();
        v.insert("article".into(), J::String(self.article.clone()));
        v.insert(
            "paraphrase_en".into(),
            J::String(self.paraphrase_en.clone()),
        );
        v.insert("paraphrase_km".into(), opt_s(&self.paraphrase_km));
        v.insert("legal_status".into(), self.legal_status.as_str().into());
        v.insert(
            "rights_restricted".into(),
            codes(&self.rights_restricted, Right::as_str),
        );
        v.insert("unverified_note".into(), opt_s(&self.unverified_note));
        v
    }
    fn apply(&mut self, c: &mut Check, _: &Who, view: &Dataset) {
        self.article = c.line("article", 100, true);
        if !article_label(&self.article) {
            c.err("article", "reg_err_article");
        }
        if !self.article.is_empty()
            && view.provisions.iter().any(|p| {
                p.law_id == self.law_id
                    && p.meta.id != self.meta.id
                    && p.article.eq_ignore_ascii_case(&self.article)
            })
        {
            c.err("article", "reg_err_duplicate");
        }
        self.paraphrase_en = c.text("paraphrase_en", MAX_TEXT, true);
        self.paraphrase_km = c.opt("paraphrase_km", MAX_TEXT);
        if let Some(t) = c.term("legal_status", None) {
            self.legal_status = t;
        }
        self.rights_restricted = c.terms("rights_restricted");
        self.unverified_note = c.opt("unverified_note", MAX_TEXT);
    }
    fn extra(lang: Lang, view: &Dataset, parent: &str) -> Value {
        let law = view.laws.iter().find(|l| l.meta.id == parent);
        context! {
            law_id => parent,
            law_name => law.map(|l| match (&l.name_km, lang) {
                (Some(km), Lang::Km) => format!("{} · {km}", l.code),
                _ => format!("{} · {}", l.code, l.name_en),
            }).unwrap_or_default(),
            legal_statuses => Value::from_serialize(terms!(LegalStatus, lang)),
            rights => Value::from_serialize(terms!(Right, lang)),
        }
    }
    fn done(&self) -> String {
        format!("/registry/laws/{}#{}", self.law_id, self.meta.id)
    }
}

impl Entry for Recommendation {
    const NAME: &'static str = "recommendation";
    const TEMPLATE: &'static str = "registry_recommendation_form.html";
    fn all(ds: &mut Dataset) -> &mut Vec<Self> {
        &mut ds.recommendations
    }
    fn skeleton(meta: RecordMeta, _: &str) -> Self {
        Recommendation {
            meta,
            mechanism: Mechanism::Upr,
            document_symbol: String::new(),
            paragraph: String::new(),
            cycle: None,
            date: None,
            recommending_states: Vec::new(),
            text: String::new(),
            themes: Vec::new(),
            response: None,
            verified: false,
            unverified_note: None,
        }
    }
    fn blank() -> Map<String, J> {
        obj(json!({
            "mechanism": "upr", "document_symbol": "", "paragraph": "", "cycle": "",
            "date": "", "recommending_states": "", "text": "", "themes": "",
            "response": "", "unverified_note": "", "change_summary": "",
        }))
    }
    fn values(&self) -> Map<String, J> {
        let mut v = Self::blank();
        v.insert("mechanism".into(), self.mechanism.as_str().into());
        v.insert(
            "document_symbol".into(),
            J::String(self.document_symbol.clone()),
        );
        v.insert("paragraph".into(), J::String(self.paragraph.clone()));
        v.insert(
            "cycle".into(),
            J::String(self.cycle.map(|c| c.to_string()).unwrap_or_default()),
        );
        v.insert("date".into(), date_s(self.date.as_ref()));
        v.insert(
            "recommending_states".into(),
            J::String(self.recommending_states.join(", ")),
        );
        v.insert("text".into(), J::String(self.text.clone()));
        v.insert("themes".into(), J::String(self.themes.join(", ")));
        v.insert(
            "response".into(),
            J::String(
                self.response
                    .map(|r| r.as_str().to_owned())
                    .unwrap_or_default(),
            ),
        );
        v.insert("unverified_note".into(), opt_s(&self.unverified_note));
        v
    }
    fn apply(&mut self, c: &mut Check, _: &Who, _: &Dataset) {
        if let Some(t) = c.term("mechanism", None) {
            self.mechanism = t;
        }
        self.document_symbol = c.line("document_symbol", 100, true);
        self.paragraph = c.line("paragraph", 40, false);
        self.cycle = c.number("cycle", 1..=20);
        self.date = c.date("date", false);
        self.recommending_states = c.list("recommending_states", 100);
        self.text = c.text("text", MAX_TEXT, true);
        self.themes = c.list("themes", 100);
        let response = c.line("response", 64, false);
        self.response = if response.is_empty() {
            None
        } else {
            match response.parse::<RecResponse>() {
                Ok(r) => Some(r),
                Err(_) => {
                    c.err("response", "reg_err_choice");
                    None
                }
            }
        };
        self.unverified_note = c.opt("unverified_note", MAX_TEXT);
    }
    fn extra(lang: Lang, _: &Dataset, _: &str) -> Value {
        context! {
            mechanisms => Value::from_serialize(terms!(Mechanism, lang)),
            responses => Value::from_serialize(terms!(RecResponse, lang)),
        }
    }
    fn done(&self) -> String {
        format!("/registry/recommendations#{}", self.meta.id)
    }
}

impl Entry for Benchmark {
    const NAME: &'static str = "benchmark";
    const TEMPLATE: &'static str = "registry_benchmark_form.html";
    fn all(ds: &mut Dataset) -> &mut Vec<Self> {
        &mut ds.benchmarks
    }
    fn skeleton(meta: RecordMeta, _: &str) -> Self {
        Benchmark {
            meta,
            source_document: String::new(),
            text: String::new(),
            theme: None,
            verified: false,
            unverified_note: None,
        }
    }
    fn blank() -> Map<String, J> {
        obj(json!({
            "source_document": "", "text": "", "theme": "", "unverified_note": "",
            "change_summary": "",
        }))
    }
    fn values(&self) -> Map<String, J> {
        let mut v = Self::blank();
        v.insert(
            "source_document".into(),
            J::String(self.source_document.clone()),
        );
        v.insert("text".into(), J::String(self.text.clone()));
        v.insert("theme".into(), opt_s(&self.theme));
        v.insert("unverified_note".into(), opt_s(&self.unverified_note));
        v
    }
    fn apply(&mut self, c: &mut Check, _: &Who, _: &Dataset) {
        self.source_document = c.line("source_document", 300, true);
        self.text = c.text("text", MAX_TEXT, true);
        self.theme = c.opt_line("theme", 200);
        self.unverified_note = c.opt("unverified_note", MAX_TEXT);
    }
    fn extra(_: Lang, _: &Dataset, _: &str) -> Value {
        context! {}
    }
    fn done(&self) -> String {
        format!("/registry/recommendations#{}", self.meta.id)
    }
}

impl Entry for Actor {
    const NAME: &'static str = "actor";
    const TEMPLATE: &'static str = "registry_actor_form.html";
    const SECRETS: &'static [&'static str] = &["identity", "contact"];
    fn all(ds: &mut Dataset) -> &mut Vec<Self> {
        &mut ds.actors
    }
    fn skeleton(meta: RecordMeta, _: &str) -> Self {
        Actor {
            meta,
            kind: ActorKind::Person,
            name: String::new(),
            name_km: None,
            description: None,
            characteristics: Vec::new(),
            asn: None,
            identity: None,
            contact: None,
        }
    }
    fn blank() -> Map<String, J> {
        obj(json!({
            "kind": "person", "name": "", "name_km": "", "description": "",
            "characteristics": [], "asn": "", "has_identity": false, "has_contact": false,
            "change_summary": "",
        }))
    }
    fn values(&self) -> Map<String, J> {
        let mut v = Self::blank();
        v.insert("kind".into(), self.kind.as_str().into());
        v.insert("name".into(), J::String(self.name.clone()));
        v.insert("name_km".into(), opt_s(&self.name_km));
        v.insert("description".into(), opt_s(&self.description));
        v.insert(
            "characteristics".into(),
            codes(&self.characteristics, VictimCharacteristic::as_str),
        );
        v.insert(
            "asn".into(),
            J::String(self.asn.map(|a| a.to_string()).unwrap_or_default()),
        );
        v.insert("has_identity".into(), self.identity.is_some().into());
        v.insert("has_contact".into(), self.contact.is_some().into());
        v
    }
    fn apply(&mut self, c: &mut Check, who: &Who, _: &Dataset) {
        if let Some(t) = c.term("kind", None) {
            self.kind = t;
        }
        self.name = c.line("name", 300, true);
        self.name_km = c.opt_line("name_km", 300);
        self.description = c.opt("description", MAX_TEXT);
        self.characteristics = c.terms("characteristics");
        self.asn = c.number("asn", 1..=u32::MAX);
        let id = self.meta.id.clone();
        seal_person(
            c,
            who,
            EntityType::Actor,
            &id,
            &mut self.identity,
            &mut self.contact,
        );
    }
    fn extra(lang: Lang, _: &Dataset, _: &str) -> Value {
        context! {
            kinds => Value::from_serialize(terms!(ActorKind, lang)),
            characteristics => Value::from_serialize(terms!(VictimCharacteristic, lang)),
        }
    }
    fn done(&self) -> String {
        format!("/registry/actors#{}", self.meta.id)
    }
}

// ------------------------------------------------------------ generic flows

/// The incident a citation on `record` (an incident or an act) changes,
/// if the principal may write it; its title for the form.
fn cite_target<'a>(ds: &'a mut Dataset, who: &Who, record: &str) -> Result<&'a mut Incident, Fail> {
    let incident_id = if record.starts_with("act_") {
        parse_record_id("act_", record)?;
        let view = ds.view_for(&who.p);
        view.acts
            .iter()
            .find(|a| a.id == record)
            .map(|a| a.incident_id.clone())
            .ok_or_else(Fail::not_found)?
    } else {
        parse_record_id("inc_", record)?.to_owned()
    };
    let inc = readable(&mut ds.incidents, who, &incident_id)?;
    if !canary_registry::can_write(&who.p, &inc.meta) {
        return Err(refuse(who));
    }
    Ok(inc)
}

async fn entry_new<E: Entry>(
    s: &Shared,
    ctx: &Ctx,
    parent: &str,
    cite: Option<&str>,
) -> Result<Response, Fail> {
    let who = Who::of(s, ctx);
    require_creator(&who)?;
    let mut ds = data::load(s).await?;
    let view = ds.view_for(&who.p);
    if !parent.is_empty() && !view.laws.iter().any(|l| l.meta.id == parent) {
        return Err(Fail::not_found());
    }
    let cite_ctx = match cite {
        Some(record) => {
            let inc = cite_target(&mut ds, &who, record)?;
            Some((record.to_owned(), view::title(inc, ctx.lang)))
        }
        None => None,
    };
    let action = match (parent.is_empty(), cite) {
        (false, _) => format!("/registry/laws/{parent}/provisions/new"),
        (true, Some(c)) => format!("/registry/{}s/new?cite={c}", E::NAME),
        (true, None) => format!("/registry/{}s/new", E::NAME),
    };
    let mut values = E::blank();
    if values.contains_key("language") {
        // A source is most often in the language its reader works in.
        values.insert("language".into(), ctx.lang.code().into());
    }
    let page = FormPage {
        action,
        editing: false,
        version: 0,
        values,
        errors: BTreeMap::new(),
        problem: None,
    };
    show(
        ctx,
        E::TEMPLATE,
        page,
        form_extra::<E>(ctx.lang, &view, parent, &who, cite_ctx),
        StatusCode::OK,
    )
}

fn form_extra<E: Entry>(
    lang: Lang,
    view: &Dataset,
    parent: &str,
    who: &Who,
    cite: Option<(String, String)>,
) -> Value {
    let (cite, cite_title) = cite.unwrap_or_default();
    context! { ..E::extra(lang, view, parent), ..context! {
        has_keys => who.keys.is_some(),
        cite => cite,
        cite_title => cite_title,
    }}
}

async fn entry_create<E: Entry>(
    s: &Shared,
    ctx: &Ctx,
    parent: &str,
    posted: &Posted,
    cite: Option<&str>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let who = Who::of(s, ctx);
    require_creator(&who)?;
    let mut ds = data::load(s).await?;
    known_org(&ds, &who)?;
    let view = ds.view_for(&who.p);
    if !parent.is_empty() && !view.laws.iter().any(|l| l.meta.id == parent) {
        return Err(Fail::not_found());
    }
    let now = OffsetDateTime::now_utc();
    let id = canary_registry::new_id(E::ENTITY).map_err(registry_fail)?;
    let meta = RecordMeta::new(E::ENTITY, id.clone(), &who.p, now).map_err(registry_fail)?;
    let mut record = E::skeleton(meta, parent);
    let mut c = Check::new(lang, posted, E::blank());
    record.apply(&mut c, &who, &view);
    let note = if cite.is_some() {
        c.opt("cite_note", 2000)
    } else {
        None
    };
    c.settle_secrets(E::SECRETS);
    let cited = match cite {
        Some(record_id) => {
            let inc = cite_target(&mut ds, &who, record_id)?;
            Some((record_id.to_owned(), inc))
        }
        None => None,
    };
    if !c.ok() {
        let cite_ctx = cited
            .as_ref()
            .map(|(r, inc)| (r.clone(), view::title(inc, lang)));
        let page = FormPage {
            action: match cite {
                Some(r) => format!("/registry/{}s/new?cite={r}", E::NAME),
                None if parent.is_empty() => format!("/registry/{}s/new", E::NAME),
                None => format!("/registry/laws/{parent}/provisions/new"),
            },
            editing: false,
            version: 0,
            values: c.values,
            errors: c.errors,
            problem: None,
        };
        let extra = form_extra::<E>(lang, &view, parent, &who, cite_ctx);
        return show(
            ctx,
            E::TEMPLATE,
            page,
            extra,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let actor = who.p.user_id().unwrap_or("anonymous").to_owned();
    match cited {
        Some((record_id, inc)) => {
            inc.meta
                .record_edit(&who.p, now, format!("source {id} cited"))
                .map_err(registry_fail)?;
            let inc = inc.clone();
            let citation = Citation {
                source_id: id.clone(),
                record_id: record_id.clone(),
                note,
            };
            let details = format!("entity={} cited={record_id}", E::NAME);
            data::write_entry(
                s,
                Some(&record),
                Some(&inc),
                Some((&citation, "citation added")),
                data::EntryAudit {
                    actor: &actor,
                    action: AuditAction::Create,
                    object: &id,
                    details: &details,
                    at: now,
                },
            )
            .await?;
            Ok(see_other(&format!(
                "/registry/incidents/{}#sources",
                inc.meta.id
            )))
        }
        None => {
            let details = format!("entity={}", E::NAME);
            data::write_entry(
                s,
                Some(&record),
                None,
                None::<(&Citation, &str)>,
                data::EntryAudit {
                    actor: &actor,
                    action: AuditAction::Create,
                    object: &id,
                    details: &details,
                    at: now,
                },
            )
            .await?;
            Ok(see_other(&record.done()))
        }
    }
}

/// The stored record `id` the principal may write.
fn writable<E: Entry>(ds: &mut Dataset, who: &Who, id: &str) -> Result<E, Fail> {
    parse_record_id(E::ENTITY.id_prefix(), id)?;
    let r = readable(E::all(ds), who, id)?;
    if !canary_registry::can_write(&who.p, r.meta()) {
        return Err(refuse(who));
    }
    Ok(r.clone())
}

async fn entry_edit<E: Entry>(s: &Shared, ctx: &Ctx, id: &str) -> Result<Response, Fail> {
    let who = Who::of(s, ctx);
    if matches!(who.p, Principal::Anonymous) {
        return Err(refuse(&who));
    }
    let mut ds = data::load(s).await?;
    let record: E = writable(&mut ds, &who, id)?;
    let view = ds.view_for(&who.p);
    let page = FormPage {
        action: format!("/registry/{}s/{id}", E::NAME),
        editing: true,
        version: record.meta().version(),
        values: record.values(),
        errors: BTreeMap::new(),
        problem: None,
    };
    let extra = context! {
        ..form_extra::<E>(ctx.lang, &view, record.parent(), &who, None),
        ..workflow(&record, &who, &view, ctx.lang)
    };
    show(ctx, E::TEMPLATE, page, extra, StatusCode::OK)
}

async fn entry_update<E: Entry>(
    s: &Shared,
    ctx: &Ctx,
    id: &str,
    posted: &Posted,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let who = Who::of(s, ctx);
    if matches!(who.p, Principal::Anonymous) {
        return Err(refuse(&who));
    }
    let expected = version_of(posted)?;
    let mut ds = data::load(s).await?;
    let stored: E = writable(&mut ds, &who, id)?;
    let view = ds.view_for(&who.p);
    let mut record = stored.clone();
    let mut blank = stored.values();
    blank.insert("change_summary".into(), J::String(String::new()));
    let mut c = Check::new(lang, posted, blank);
    record.apply(&mut c, &who, &view);
    let summary = c
        .opt_line("change_summary", 500)
        .unwrap_or_else(|| "edited".into());
    c.settle_secrets(E::SECRETS);
    let stale = expected != stored.meta().version();
    if stale || !c.ok() {
        let page = FormPage {
            action: format!("/registry/{}s/{id}", E::NAME),
            editing: true,
            // A stale form keeps the version it was made on: saving it
            // again is refused again until the editor reloads.
            version: expected,
            values: c.values,
            errors: c.errors,
            problem: stale.then_some("reg_error_conflict"),
        };
        let status = if stale {
            StatusCode::CONFLICT
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let extra = context! {
            ..form_extra::<E>(lang, &view, stored.parent(), &who, None),
            ..workflow(&stored, &who, &view, lang)
        };
        return show(ctx, E::TEMPLATE, page, extra, status);
    }
    let now = OffsetDateTime::now_utc();
    record
        .meta_mut()
        .record_edit(&who.p, now, summary)
        .map_err(registry_fail)?;
    let actor = who.p.user_id().unwrap_or("anonymous").to_owned();
    let details = format!("entity={} version={}", E::NAME, record.meta().version());
    data::write_entry(
        s,
        Some(&record),
        None,
        None::<(&Citation, &str)>,
        data::EntryAudit {
            actor: &actor,
            action: AuditAction::Edit,
            object: id,
            details: &details,
            at: now,
        },
    )
    .await?;
    Ok(see_other(&record.done()))
}

/// The workflow part of an edit page (`wf`): the record's status line,
/// the moves the principal may make, and the visibilities (admins).
fn workflow<E: Entry>(record: &E, who: &Who, view: &Dataset, lang: Lang) -> Value {
    let m = record.meta();
    let moves: Vec<view::Term> = Status::ALL
        .iter()
        .filter(|to| m.status.can_move_to(**to) && canary_registry::can_transition(&who.p, m, **to))
        .map(|t| view::Term {
            code: t.as_str(),
            label: t.label(lang.code()),
        })
        .collect();
    let visibilities = if canary_registry::can_manage(&who.p, m) {
        terms!(Visibility, lang)
    } else {
        Vec::new()
    };
    context! {
        wf => context! {
            meta => Value::from_serialize(view::meta(view, m, lang)),
            action => format!("/registry/{}s/{}/status", E::NAME, m.id),
            moves => Value::from_serialize(&moves),
            visibilities => Value::from_serialize(&visibilities),
        }
    }
}

async fn status_of<E: Entry>(
    s: &Shared,
    who: &Who,
    id: &str,
    to: Option<Status>,
    visibility: Option<Visibility>,
) -> Result<Response, Fail> {
    parse_record_id(E::ENTITY.id_prefix(), id)?;
    move_record(s, who, E::COLLECTION.as_str(), id, to, visibility).await?;
    let mut ds = data::load(s).await?;
    let done = readable(E::all(&mut ds), who, id)?.done();
    Ok(see_other(&done))
}

/// `POST /registry/{sources,laws,provisions,recommendations,benchmarks,actors}/{id}/status`
/// (`to`: a workflow status; `visibility`: admins): the workflow of the
/// records these forms enter, as the incident page has it.
pub(crate) async fn record_status(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
    posted: Result<Posted, Fail>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let posted = accept(posted, &ctx)?;
    let run = async {
        let who = Who::of(&s, &ctx);
        if matches!(who.p, Principal::Anonymous) {
            return Err(refuse(&who));
        }
        let bad = |e: canary_registry::Error| Fail::bad(e.to_string());
        let field = |k: &str| Some(posted.get(k).trim()).filter(|v| !v.is_empty());
        let to: Option<Status> = field("to").map(str::parse).transpose().map_err(bad)?;
        let vis: Option<Visibility> = field("visibility")
            .map(str::parse)
            .transpose()
            .map_err(bad)?;
        if to.is_none() && vis.is_none() {
            return Err(Fail::bad("to: a status, or visibility"));
        }
        match id.split('_').next().unwrap_or_default() {
            "src" => status_of::<Source>(&s, &who, &id, to, vis).await,
            "law" => status_of::<Law>(&s, &who, &id, to, vis).await,
            "prov" => status_of::<Provision>(&s, &who, &id, to, vis).await,
            "rec" => status_of::<Recommendation>(&s, &who, &id, to, vis).await,
            "bm" => status_of::<Benchmark>(&s, &who, &id, to, vis).await,
            "actr" => status_of::<Actor>(&s, &who, &id, to, vis).await,
            _ => Err(Fail::not_found()),
        }
    };
    run.await.map_err(|f| f.html(lang))
}

// ------------------------------------------------------------ handlers

macro_rules! entry_handlers {
    ($ty:ty, $new:ident, $create:ident, $edit:ident, $update:ident) => {
        #[doc = concat!("`GET /registry/", stringify!($ty), "s/new` (lower case)")]
        pub(crate) async fn $new(State(s): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
            let lang = ctx.lang;
            entry_new::<$ty>(&s, &ctx, "", None)
                .await
                .map_err(|f| f.html(lang))
        }

        #[doc = concat!("`POST /registry/", stringify!($ty), "s/new` (lower case)")]
        pub(crate) async fn $create(
            State(s): State<Shared>,
            ctx: Ctx,
            posted: Result<Posted, Fail>,
        ) -> Result<Response, Fail> {
            let lang = ctx.lang;
            let posted = accept(posted, &ctx)?;
            entry_create::<$ty>(&s, &ctx, "", &posted, None)
                .await
                .map_err(|f| f.html(lang))
        }

        #[doc = concat!("`GET /registry/", stringify!($ty), "s/{id}/edit` (lower case)")]
        pub(crate) async fn $edit(
            State(s): State<Shared>,
            ctx: Ctx,
            Path(id): Path<String>,
        ) -> Result<Response, Fail> {
            let lang = ctx.lang;
            entry_edit::<$ty>(&s, &ctx, &id)
                .await
                .map_err(|f| f.html(lang))
        }

        #[doc = concat!("`POST /registry/", stringify!($ty), "s/{id}` (lower case)")]
        pub(crate) async fn $update(
            State(s): State<Shared>,
            ctx: Ctx,
            Path(id): Path<String>,
            posted: Result<Posted, Fail>,
        ) -> Result<Response, Fail> {
            let lang = ctx.lang;
            let posted = accept(posted, &ctx)?;
            entry_update::<$ty>(&s, &ctx, &id, &posted)
                .await
                .map_err(|f| f.html(lang))
        }
    };
}

entry_handlers!(Law, law_new, law_create, law_edit, law_update);
entry_handlers!(
    Recommendation,
    recommendation_new,
    recommendation_create,
    recommendation_edit,
    recommendation_update
);
entry_handlers!(
    Benchmark,
    benchmark_new,
    benchmark_create,
    benchmark_edit,
    benchmark_update
);
entry_handlers!(Actor, actor_new, actor_create, actor_edit, actor_update);

/// `GET /registry/sources/new[?cite=inc_…|act_…]`
pub(crate) async fn source_new(State(s): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    let lang = ctx.lang;
    entry_new::<Source>(&s, &ctx, "", ctx.query("cite"))
        .await
        .map_err(|f| f.html(lang))
}

/// `POST /registry/sources/new[?cite=…]`
pub(crate) async fn source_create(
    State(s): State<Shared>,
    ctx: Ctx,
    posted: Result<Posted, Fail>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let posted = accept(posted, &ctx)?;
    entry_create::<Source>(&s, &ctx, "", &posted, ctx.query("cite"))
        .await
        .map_err(|f| f.html(lang))
}

/// `GET /registry/sources/{id}/edit`
pub(crate) async fn source_edit(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    entry_edit::<Source>(&s, &ctx, &id)
        .await
        .map_err(|f| f.html(lang))
}

/// `POST /registry/sources/{id}`
pub(crate) async fn source_update(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
    posted: Result<Posted, Fail>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let posted = accept(posted, &ctx)?;
    entry_update::<Source>(&s, &ctx, &id, &posted)
        .await
        .map_err(|f| f.html(lang))
}

/// `GET /registry/laws/{id}/provisions/new`
pub(crate) async fn provision_new(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(law): Path<String>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let run = async {
        let law = parse_record_id("law_", &law)?;
        entry_new::<Provision>(&s, &ctx, law, None).await
    };
    run.await.map_err(|f| f.html(lang))
}

/// `POST /registry/laws/{id}/provisions/new`
pub(crate) async fn provision_create(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(law): Path<String>,
    posted: Result<Posted, Fail>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let posted = accept(posted, &ctx)?;
    let run = async {
        let law = parse_record_id("law_", &law)?;
        entry_create::<Provision>(&s, &ctx, law, &posted, None).await
    };
    run.await.map_err(|f| f.html(lang))
}

/// `GET /registry/provisions/{id}/edit`
pub(crate) async fn provision_edit(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    entry_edit::<Provision>(&s, &ctx, &id)
        .await
        .map_err(|f| f.html(lang))
}

/// `POST /registry/provisions/{id}`
pub(crate) async fn provision_update(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
    posted: Result<Posted, Fail>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let posted = accept(posted, &ctx)?;
    entry_update::<Provision>(&s, &ctx, &id, &posted)
        .await
        .map_err(|f| f.html(lang))
}

// ------------------------------------------------------------ citations

/// `(id, label)` of every source the principal may see.
fn source_choices(view: &Dataset) -> Vec<(String, String)> {
    view.sources
        .iter()
        .map(|s| {
            let label = match (&s.title, &s.published) {
                (Some(t), Some(d)) => format!("{} — {t} ({d})", s.publication),
                (Some(t), None) => format!("{} — {t}", s.publication),
                (None, Some(d)) => format!("{} ({d})", s.publication),
                (None, None) => s.publication.clone(),
            };
            (s.meta.id.clone(), label)
        })
        .collect()
}

async fn citation_page(s: &Shared, ctx: &Ctx, posted: Option<&Posted>) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let who = Who::of(s, ctx);
    require_creator(&who)?;
    let record = ctx
        .query("record")
        .ok_or_else(|| Fail::bad("record: an incident or act id"))?
        .to_owned();
    let mut ds = data::load(s).await?;
    let view = ds.view_for(&who.p);
    let inc = cite_target(&mut ds, &who, &record)?;
    let stored_version = inc.meta.version();
    let title = view::title(inc, lang);
    let blank = obj(json!({ "source": "", "note": "" }));
    let action = format!("/registry/citations/new?record={record}");
    let choices = source_choices(&view);
    // The sources cited on the record now (to remove one cited by mistake).
    let cited: Vec<(String, String, String)> = view
        .citations
        .iter()
        .filter(|x| x.record_id == record)
        .filter_map(|x| {
            let (id, label) = choices.iter().find(|(id, _)| *id == x.source_id)?;
            Some((
                id.clone(),
                label.clone(),
                x.note.clone().unwrap_or_default(),
            ))
        })
        .collect();
    let extra = context! {
        record => record.clone(),
        incident_id => inc.meta.id.clone(),
        title => title,
        sources => Value::from_serialize(&choices),
        cited => Value::from_serialize(&cited),
    };
    let Some(posted) = posted else {
        let page = FormPage {
            action,
            editing: false,
            version: stored_version,
            values: blank,
            errors: BTreeMap::new(),
            problem: None,
        };
        return show(
            ctx,
            "registry_citation_form.html",
            page,
            extra,
            StatusCode::OK,
        );
    };
    let expected = version_of(posted)?;
    let mut c = Check::new(lang, posted, blank);
    let source = c.line("source", 100, true);
    if !source.is_empty() && !view.sources.iter().any(|s| s.meta.id == source) {
        c.err("source", "reg_err_unknown_record");
    }
    let note = c.opt("note", 2000);
    let already = ds
        .citations
        .iter()
        .any(|x| x.source_id == source && x.record_id == record);
    if already {
        c.err("source", "reg_err_already_cited");
    }
    let stale = expected != stored_version;
    if stale || !c.ok() {
        let page = FormPage {
            action,
            editing: false,
            version: expected,
            values: c.values,
            errors: c.errors,
            problem: stale.then_some("reg_error_conflict"),
        };
        let status = if stale {
            StatusCode::CONFLICT
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return show(ctx, "registry_citation_form.html", page, extra, status);
    }
    let now = OffsetDateTime::now_utc();
    let inc = cite_target(&mut ds, &who, &record)?;
    inc.meta
        .record_edit(&who.p, now, format!("source {source} cited"))
        .map_err(registry_fail)?;
    let inc = inc.clone();
    let citation = Citation {
        source_id: source.clone(),
        record_id: record.clone(),
        note,
    };
    let actor = who.p.user_id().unwrap_or("anonymous").to_owned();
    let details = format!("entity=citation source={source}");
    data::write_entry(
        s,
        None::<&Source>,
        Some(&inc),
        Some((&citation, "citation added")),
        data::EntryAudit {
            actor: &actor,
            action: AuditAction::Create,
            object: &record,
            details: &details,
            at: now,
        },
    )
    .await?;
    Ok(see_other(&format!(
        "/registry/incidents/{}#sources",
        inc.meta.id
    )))
}

/// `POST /registry/citations/remove?record=inc_…|act_…` (`source`,
/// `version` of the incident): the citation is deleted (attributed) and
/// the incident gets a new version saying so.
pub(crate) async fn citation_remove(
    State(s): State<Shared>,
    ctx: Ctx,
    posted: Result<Posted, Fail>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let posted = accept(posted, &ctx)?;
    let run = async {
        let who = Who::of(&s, &ctx);
        require_creator(&who)?;
        let record = ctx
            .query("record")
            .ok_or_else(|| Fail::bad("record: an incident or act id"))?
            .to_owned();
        let expected = version_of(&posted)?;
        let source = posted.get("source").trim().to_owned();
        let mut ds = data::load(&s).await?;
        let view = ds.view_for(&who.p);
        let Some(citation) = view
            .citations
            .iter()
            .find(|x| x.record_id == record && x.source_id == source)
            .cloned()
        else {
            return Err(Fail::not_found());
        };
        let inc = cite_target(&mut ds, &who, &record)?;
        if inc.meta.version() != expected {
            return Err(Fail::new(StatusCode::CONFLICT, "reg_error_conflict"));
        }
        let now = OffsetDateTime::now_utc();
        inc.meta
            .record_edit(&who.p, now, format!("source {source} no longer cited"))
            .map_err(registry_fail)?;
        let inc = inc.clone();
        let actor = who.p.user_id().unwrap_or("anonymous").to_owned();
        let details = format!("entity=citation source={source}");
        let key = format!("{}|{}", citation.source_id, citation.record_id);
        data::remove_row(
            &s,
            Some(&inc),
            Collection::Citations,
            &key,
            "citation removed",
            data::EntryAudit {
                actor: &actor,
                action: AuditAction::Delete,
                object: &record,
                details: &details,
                at: now,
            },
        )
        .await?;
        Ok(see_other(&format!(
            "/registry/incidents/{}#sources",
            inc.meta.id
        )))
    };
    run.await.map_err(|f: Fail| f.html(lang))
}

/// `GET /registry/citations/new?record=inc_…|act_…`
pub(crate) async fn citation_new(State(s): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    let lang = ctx.lang;
    citation_page(&s, &ctx, None)
        .await
        .map_err(|f| f.html(lang))
}

/// `POST /registry/citations/new?record=…` (`source`, `note`, `version` of the incident)
pub(crate) async fn citation_create(
    State(s): State<Shared>,
    ctx: Ctx,
    posted: Result<Posted, Fail>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let posted = accept(posted, &ctx)?;
    citation_page(&s, &ctx, Some(&posted))
        .await
        .map_err(|f| f.html(lang))
}

// ------------------------------------------------------------ assessments

/// Whether `id` looks like a blocking-event or measurement id (not a
/// registry id): letters, digits and `_-.:`, 1 to 100 of them.
fn outside_id(id: &str) -> bool {
    (1..=100).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

const REGISTRY_PREFIXES: [&str; 11] = [
    "org_", "inc_", "act_", "actr_", "src_", "law_", "prov_", "ev_", "rec_", "bm_", "asm_",
];

async fn assessment_page(
    s: &Shared,
    ctx: &Ctx,
    target: &str,
    posted: Option<&Posted>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let who = Who::of(s, ctx);
    require_creator(&who)?;
    let ds = data::load(s).await?;
    let view = ds.view_for(&who.p);
    let (kind, text, meta) = if target.starts_with("rec_") {
        parse_record_id("rec_", target)?;
        let r = view
            .recommendations
            .iter()
            .find(|r| r.meta.id == target)
            .ok_or_else(Fail::not_found)?;
        (
            "recommendations",
            format!("{} ¶ {} — {}", r.document_symbol, r.paragraph, r.text),
            &r.meta,
        )
    } else {
        parse_record_id("bm_", target)?;
        let b = view
            .benchmarks
            .iter()
            .find(|b| b.meta.id == target)
            .ok_or_else(Fail::not_found)?;
        (
            "benchmarks",
            format!("{} — {}", b.source_document, b.text),
            &b.meta,
        )
    };
    let action = format!("/registry/{kind}/{target}/assess");
    let incidents: Vec<(String, String)> = view
        .incidents
        .iter()
        .map(|i| {
            (
                i.meta.id.clone(),
                format!("{} · {}", i.start, view::title(i, lang)),
            )
        })
        .collect();
    let extra = context! {
        target => target,
        target_text => text,
        statuses => Value::from_serialize(terms!(Implementation, lang)),
        incidents => Value::from_serialize(&incidents),
        sources => Value::from_serialize(source_choices(&view)),
        org_name => view::org_name(&view, who.org().unwrap_or_default(), lang),
        // An assessment has no visibility of its own: whoever sees the
        // target sees it. Say so before it is written.
        target_public => meta.is_public(),
        target_shared => meta.visibility != Visibility::Private,
    };
    let blank = obj(json!({
        "date": "", "status": "", "note": "", "incidents": [], "sources": [], "other_ids": "",
    }));
    let Some(posted) = posted else {
        let page = FormPage {
            action,
            editing: false,
            version: 0,
            values: blank,
            errors: BTreeMap::new(),
            problem: None,
        };
        return show(
            ctx,
            "registry_assessment_form.html",
            page,
            extra,
            StatusCode::OK,
        );
    };
    known_org(&ds, &who)?;
    let mut c = Check::new(lang, posted, blank);
    let date = c.date("date", true);
    let status: Option<Implementation> = c.term("status", None);
    let note = c.text("note", MAX_TEXT, true);
    let mut evidence: Vec<String> = Vec::new();
    for i in c.many("incidents") {
        if view.incidents.iter().any(|x| x.meta.id == i) {
            evidence.push(i);
        } else {
            c.err("incidents", "reg_err_unknown_record");
        }
    }
    for i in c.many("sources") {
        if view.sources.iter().any(|x| x.meta.id == i) {
            evidence.push(i);
        } else {
            c.err("sources", "reg_err_unknown_record");
        }
    }
    for i in c.list("other_ids", 100) {
        let known = if REGISTRY_PREFIXES.iter().any(|p| i.starts_with(p)) {
            view.acts.iter().any(|a| a.id == i)
                || view.incidents.iter().any(|x| x.meta.id == i)
                || view.sources.iter().any(|x| x.meta.id == i)
        } else {
            outside_id(&i)
        };
        if !known {
            c.err("other_ids", "reg_err_unknown_record");
        } else if !evidence.contains(&i) {
            evidence.push(i);
        }
    }
    if evidence.len() > MAX_ITEMS {
        c.err("other_ids", "reg_err_too_many");
    }
    let (Some(date), Some(status), true) = (date, status, c.ok()) else {
        let page = FormPage {
            action,
            editing: false,
            version: 0,
            values: c.values,
            errors: c.errors,
            problem: None,
        };
        return show(
            ctx,
            "registry_assessment_form.html",
            page,
            extra,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let now = OffsetDateTime::now_utc();
    let id = format!("asm_{}", &crate::accounts::random_token()[..32]);
    let assessment = Assessment {
        id: id.clone(),
        target_id: target.to_owned(),
        date,
        status,
        assessed_by: who.org().unwrap_or_default().to_owned(),
        note,
        evidence_ids: evidence,
    };
    let actor = who.p.user_id().unwrap_or("anonymous").to_owned();
    let details = format!("entity=assessment target={target} status={status}");
    data::write_entry(
        s,
        None::<&Source>,
        None,
        Some((&assessment, "assessment added")),
        data::EntryAudit {
            actor: &actor,
            action: AuditAction::Create,
            object: &id,
            details: &details,
            at: now,
        },
    )
    .await?;
    Ok(see_other(&format!("/registry/recommendations#{target}")))
}

/// `POST /registry/assessments/{id}/remove`: an analyst or admin of the
/// assessing organisation withdraws an assessment made in error (the
/// deletion is attributed and audited; the tracker shows the previous one
/// again).
pub(crate) async fn assessment_remove(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
    posted: Result<Posted, Fail>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let _posted = accept(posted, &ctx)?;
    let run = async {
        let who = Who::of(&s, &ctx);
        require_creator(&who)?;
        let ds = data::load(&s).await?;
        let view = ds.view_for(&who.p);
        let Some(a) = view.assessments.iter().find(|a| a.id == id) else {
            return Err(Fail::not_found());
        };
        if who.org() != Some(a.assessed_by.as_str()) {
            return Err(refuse(&who));
        }
        let now = OffsetDateTime::now_utc();
        let actor = who.p.user_id().unwrap_or("anonymous").to_owned();
        let details = format!("entity=assessment target={}", a.target_id);
        data::remove_row(
            &s,
            None,
            Collection::Assessments,
            &a.id,
            "assessment withdrawn",
            data::EntryAudit {
                actor: &actor,
                action: AuditAction::Delete,
                object: &a.id,
                details: &details,
                at: now,
            },
        )
        .await?;
        Ok(see_other(&format!(
            "/registry/recommendations#{}",
            a.target_id
        )))
    };
    run.await.map_err(|f: Fail| f.html(lang))
}

/// `GET /registry/recommendations/{id}/assess`, `GET /registry/benchmarks/{id}/assess`
pub(crate) async fn assessment_new(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(target): Path<String>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    assessment_page(&s, &ctx, &target, None)
        .await
        .map_err(|f| f.html(lang))
}

/// `POST /registry/recommendations/{id}/assess`, `POST /registry/benchmarks/{id}/assess`
pub(crate) async fn assessment_create(
    State(s): State<Shared>,
    ctx: Ctx,
    Path(target): Path<String>,
    posted: Result<Posted, Fail>,
) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let posted = accept(posted, &ctx)?;
    assessment_page(&s, &ctx, &target, Some(&posted))
        .await
        .map_err(|f| f.html(lang))
}

// ------------------------------------------------------------ lists

/// `GET /registry/sources`: the sources the reader may see (sensitive
/// fields never listed), with edit links where they may write.
pub(crate) async fn sources(State(s): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let page = async {
        ctx.require(s.cfg.access.explorer)?;
        let who = Who::of(&s, &ctx);
        let view = super::view(&s, &who).await?;
        let mut rows: Vec<(view::SourceView, bool, usize)> = view
            .sources
            .iter()
            .map(|src| {
                let mut shown = src.clone();
                shown.redact_sensitive();
                let cited = view
                    .citations
                    .iter()
                    .filter(|c| c.source_id == src.meta.id)
                    .count();
                let mut v = view::source(&shown, Vec::new(), lang);
                v.archives = view::archives(&view, &src.meta.id);
                (v, canary_registry::can_write(&who.p, &src.meta), cited)
            })
            .collect();
        rows.sort_by(|a, b| (&a.0.publication, &a.0.title).cmp(&(&b.0.publication, &b.0.title)));
        ctx.render(
            "registry_sources.html",
            context! {
                rows => Value::from_serialize(&rows),
                can_create => who.can_create(),
            },
        )
    };
    page.await.map_err(|f| f.html(lang))
}

/// `GET /registry/actors`: the actors the reader may see (sensitive
/// fields never listed), with edit links where they may write.
pub(crate) async fn actors(State(s): State<Shared>, ctx: Ctx) -> Result<Response, Fail> {
    let lang = ctx.lang;
    let page = async {
        ctx.require(s.cfg.access.explorer)?;
        let who = Who::of(&s, &ctx);
        let view = super::view(&s, &who).await?;
        let mut rows: Vec<(view::ActorView, bool)> = view
            .actors
            .iter()
            .map(|a| {
                let mut shown = a.clone();
                shown.redact_sensitive();
                if let (Some(km), Lang::Km) = (&a.name_km, lang) {
                    shown.name = km.clone();
                }
                (
                    view::actor(&shown, lang),
                    canary_registry::can_write(&who.p, &a.meta),
                )
            })
            .collect();
        rows.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        ctx.render(
            "registry_actors.html",
            context! {
                rows => Value::from_serialize(&rows),
                can_create => who.can_create(),
            },
        )
    };
    page.await.map_err(|f| f.html(lang))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_accepted_and_refused() {
        let cases = [
            ("km", true),
            ("en", true),
            ("zh-Hant", true),
            ("en-GB", true),
            ("", false),
            ("k", false),
            ("KM", false),
            ("english", false),
            ("km-", false),
            ("km_KH", false),
            ("<script>", false),
        ];
        for (tag, ok) in cases {
            assert_eq!(language_tag(tag), ok, "{tag:?}");
        }
    }

    #[test]
    fn article_numbers_as_laws_write_them() {
        let cases = [
            ("41", true),
            ("437 bis", true),
            ("cl. 6", true),
            ("៤១", true),
            ("3(2)", true),
            ("§ 12", true),
            ("<b>41</b>", false),
            ("41; DROP", false),
            ("41\n42", false),
        ];
        for (a, ok) in cases {
            assert_eq!(article_label(a), ok, "{a:?}");
        }
    }

    #[test]
    fn outside_ids_are_plain_tokens() {
        let cases = [
            ("20240301T000000Z_webconnectivity_KH_38235_n1_abc", true),
            ("evt:123", true),
            ("", false),
            ("has space", false),
            ("<b>", false),
        ];
        for (id, ok) in cases {
            assert_eq!(outside_id(id), ok, "{id:?}");
        }
        assert!(!outside_id(&"x".repeat(101)));
    }
}
