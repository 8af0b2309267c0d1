//! The registry's entities: HURIDOCS ESF "who did what to whom", extended
//! with laws and their invocations, sources, evidence and UN
//! recommendations.
//!
//! Top-level records carry a [`RecordMeta`] (flattened into their serde
//! form) and implement [`Record`]. Relationship rows (acts, links,
//! involvements, invocations, citations, assessments) have no visibility of
//! their own: they are visible when the records they join are.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::crypto::SensitiveField;
use crate::dates::FuzzyDate;
use crate::meta::RecordMeta;
use crate::vocab::*;

/// A top-level record with metadata and (possibly) sensitive fields.
pub trait Record {
    /// Its entity type.
    const ENTITY: EntityType;
    /// Its metadata.
    fn meta(&self) -> &RecordMeta;
    /// Its metadata, mutably.
    fn meta_mut(&mut self) -> &mut RecordMeta;
    /// Every sensitive field present, with its (dotted) name.
    fn sensitive_fields_mut(&mut self) -> Vec<(&'static str, &mut SensitiveField)>;
    /// Replaces every sensitive field with the placeholder.
    fn redact_sensitive(&mut self) {
        for (_, f) in self.sensitive_fields_mut() {
            f.redact();
        }
    }
}

macro_rules! record {
    ($ty:ident, $entity:ident, |$s:ident| $fields:expr) => {
        impl Record for $ty {
            const ENTITY: EntityType = EntityType::$entity;
            fn meta(&self) -> &RecordMeta {
                &self.meta
            }
            fn meta_mut(&mut self) -> &mut RecordMeta {
                &mut self.meta
            }
            fn sensitive_fields_mut(&mut self) -> Vec<(&'static str, &mut SensitiveField)> {
                let $s = self;
                $fields
            }
        }
    };
}

fn present<'a>(
    fields: impl IntoIterator<Item = (&'static str, Option<&'a mut SensitiveField>)>,
) -> Vec<(&'static str, &'a mut SensitiveField)> {
    fields
        .into_iter()
        .filter_map(|(n, f)| f.map(|f| (n, f)))
        .collect()
}

/// A coalition member organisation (owner of records).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// `org_…`
    pub id: String,
    /// Name in English.
    pub name: String,
    /// Name in Khmer.
    pub name_km: Option<String>,
}

/// Where something happened: a public area at a stated precision, and an
/// optional finer location that is sensitive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// The public description of the area (e.g. "Siem Reap province"), no
    /// finer than `precision`.
    pub area: Option<String>,
    /// The finest level that may be shown publicly.
    pub precision: PlacePrecision,
    /// Finer location (village, address, coordinates): sensitive.
    pub exact: Option<SensitiveField>,
}

impl Place {
    /// A place known only to the country.
    pub fn country(code: &str) -> Self {
        Place {
            country: code.into(),
            area: None,
            precision: PlacePrecision::Country,
            exact: None,
        }
    }
}

/// An incident (ESF "event"): something that happened, with a beginning
/// and an end, made of one or more [`Act`]s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// Metadata (`inc_…`).
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// Short title.
    pub title: String,
    /// Khmer title.
    pub title_km: Option<String>,
    /// What happened, in the documenter's words.
    pub summary: String,
    /// Start.
    pub start: FuzzyDate,
    /// End (none while ongoing or unknown).
    pub end: Option<FuzzyDate>,
    /// Where.
    pub place: Place,
    /// Rights affected.
    pub rights_affected: Vec<Right>,
    /// Free tags.
    pub tags: Vec<String>,
    /// Whether the facts have been checked against the sources.
    pub verified: bool,
    /// What is unverified, if anything.
    pub unverified_note: Option<String>,
}
record!(Incident, Incident, |s| present([(
    "place.exact",
    s.place.exact.as_mut()
)]));

/// A typed link between two incidents (ESF "chain of events").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentLink {
    /// From incident id.
    pub from: String,
    /// To incident id.
    pub to: String,
    /// Relation.
    pub kind: IncidentLinkKind,
    /// Note.
    pub note: Option<String>,
}

/// One act against one victim, part of an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Act {
    /// `act_…`
    pub id: String,
    /// The incident it belongs to.
    pub incident_id: String,
    /// What was done.
    pub act_type: ActType,
    /// The victim (an actor id), if recorded.
    pub victim_id: Option<String>,
    /// When.
    pub date: Option<FuzzyDate>,
    /// The reason the perpetrators gave.
    pub stated_reason: Option<String>,
    /// Description.
    pub description: String,
    /// Typed details for court cases, blocking orders, removal requests.
    pub extension: Option<ActExtension>,
}

/// Typed details of an act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActExtension {
    /// A prosecution.
    CourtCase(CourtCase),
    /// An order to block websites or accounts.
    BlockingOrder(BlockingOrder),
    /// A request to a platform to remove content or accounts.
    RemovalRequest(RemovalRequest),
}

/// A court case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourtCase {
    /// Court, when the sources name it.
    pub court: Option<String>,
    /// Case number.
    pub case_number: Option<String>,
    /// Stage reached.
    pub stage: CaseStage,
    /// Hearings.
    pub hearings: Vec<Hearing>,
    /// Outcome.
    pub verdict: Option<Verdict>,
    /// Sentence, as pronounced.
    pub sentence: Option<String>,
    /// Appeal status.
    pub appeal: Option<String>,
}

/// A hearing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hearing {
    /// When.
    pub date: FuzzyDate,
    /// What happened.
    pub note: String,
}

/// A blocking order and the network evidence of its implementation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockingOrder {
    /// Issuing body.
    pub issuer: String,
    /// Order reference (letter number).
    pub reference: Option<String>,
    /// Date of the order.
    pub date: Option<FuzzyDate>,
    /// Domains, URLs or accounts to block.
    pub targets: Vec<String>,
    /// ISPs ordered or observed to block.
    pub isps: Vec<IspRef>,
    /// OONI/Canary measurement ids showing the blocking.
    pub measurement_ids: Vec<String>,
    /// Canary blocking-event ids (from the analysis/store layer).
    pub event_ids: Vec<String>,
}

/// An ISP by name and autonomous system number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IspRef {
    /// Name.
    pub name: String,
    /// ASN.
    pub asn: Option<u32>,
}

/// A content or account removal request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovalRequest {
    /// Platform (Facebook, YouTube…).
    pub platform: String,
    /// Who sent the request.
    pub sender: String,
    /// Who received it.
    pub recipient: String,
}

/// An actor's part in an act (ESF "involvement").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Involvement {
    /// The act.
    pub act_id: String,
    /// The perpetrator (an actor id).
    pub actor_id: String,
    /// Degree of involvement.
    pub degree: Degree,
    /// Kind of perpetrator.
    pub perpetrator_type: PerpetratorType,
    /// Note.
    pub note: Option<String>,
}

/// A person, group, organisation, outlet or state body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Metadata (`actr_…`).
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// Kind.
    pub kind: ActorKind,
    /// The name that may be shown (a public name, or a descriptor such as
    /// "a 16-year-old student" when the identity is withheld).
    pub name: String,
    /// Khmer name.
    pub name_km: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Characteristics at the time of the acts (victims).
    pub characteristics: Vec<VictimCharacteristic>,
    /// ASN, for ISPs.
    pub asn: Option<u32>,
    /// Real identity when withheld from `name` (full name, ID documents): sensitive.
    pub identity: Option<SensitiveField>,
    /// Contact details: sensitive.
    pub contact: Option<SensitiveField>,
}
record!(Actor, Actor, |s| present([
    ("identity", s.identity.as_mut()),
    ("contact", s.contact.as_mut()),
]));

/// Where information comes from (ESF "information").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// Metadata (`src_…`).
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// Publication or kind of source ("OONI", "Human Rights Watch", "interview").
    pub publication: String,
    /// Title.
    pub title: Option<String>,
    /// URL.
    pub url: Option<String>,
    /// Publication date.
    pub published: Option<FuzzyDate>,
    /// Connection to the information.
    pub connection: SourceConnection,
    /// Reliability.
    pub reliability: Reliability,
    /// Language (BCP 47: "en", "km").
    pub language: String,
    /// Whether the source agreed to be named publicly.
    pub consent_to_publish: bool,
    /// Identity of a person source: sensitive.
    pub identity: Option<SensitiveField>,
    /// Contact of a person source: sensitive.
    pub contact: Option<SensitiveField>,
}
record!(Source, Source, |s| present([
    ("identity", s.identity.as_mut()),
    ("contact", s.contact.as_mut()),
]));

/// A source supporting a record (incident, act, law, provision, recommendation…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Citation {
    /// The source.
    pub source_id: String,
    /// The record it supports.
    pub record_id: String,
    /// What it supports.
    pub note: Option<String>,
}

/// A legal instrument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Law {
    /// Metadata (`law_…`).
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// Short code ("TEL", "PC").
    pub code: String,
    /// Name in English.
    pub name_en: String,
    /// Official Khmer name, only when taken from a source.
    pub name_km: Option<String>,
    /// Type of instrument.
    pub instrument_type: InstrumentType,
    /// What the instrument does overall, paraphrased.
    pub summary_en: Option<String>,
    /// Adoption or promulgation date.
    pub adopted: Option<FuzzyDate>,
    /// Legal status (in force, draft…).
    pub legal_status: LegalStatus,
    /// Whether the facts have been checked.
    pub verified: bool,
    /// What is unverified.
    pub unverified_note: Option<String>,
}
record!(Law, Law, |_s| Vec::new());

/// An article (or clause) of a law.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provision {
    /// Metadata (`prov_…`).
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// The law.
    pub law_id: String,
    /// Article or clause ("41", "437 bis", "cl. 6").
    pub article: String,
    /// What it does, paraphrased (never the legal text unless quoted from a source).
    pub paraphrase_en: String,
    /// Khmer paraphrase.
    pub paraphrase_km: Option<String>,
    /// Legal status (in force, draft…).
    pub legal_status: LegalStatus,
    /// Rights it restricts (or protects, for constitutional guarantees).
    pub rights_restricted: Vec<Right>,
    /// Whether checked.
    pub verified: bool,
    /// What is unverified.
    pub unverified_note: Option<String>,
}
record!(Provision, Provision, |_s| Vec::new());

/// A provision used against an act (charged under, cited in an order…), dated
/// because charges change over a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionInvocation {
    /// The act.
    pub act_id: String,
    /// The provision.
    pub provision_id: String,
    /// Role.
    pub role: InvocationRole,
    /// When.
    pub date: Option<FuzzyDate>,
    /// Note.
    pub note: Option<String>,
}

/// Whether an evidence item is an untouched original or a working copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EvidenceKind {
    /// The bytes as acquired; never modified.
    Original,
    /// Derived from another item.
    WorkingCopy {
        /// The evidence id it was derived from.
        derived_from: String,
        /// How (e.g. "cropped to the post", "OCR text", "redacted faces").
        derivation: String,
    },
}

/// An evidence file, content-addressed by SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceItem {
    /// Metadata (`ev_…`).
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// SHA-256 of the bytes, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Media type.
    pub media_type: String,
    /// Original or working copy.
    pub kind: EvidenceKind,
    /// When acquired (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub acquired_at: OffsetDateTime,
    /// Public URL it was acquired from.
    pub acquired_from: Option<String>,
    /// User id of the collector.
    pub acquired_by: String,
    /// Method or tool.
    pub method: String,
    /// Non-public provenance (who handed it over, from which device): sensitive.
    pub provenance: Option<SensitiveField>,
    /// Records it documents (incident, act ids).
    pub linked_ids: Vec<String>,
}
record!(EvidenceItem, Evidence, |s| present([(
    "provenance",
    s.provenance.as_mut()
)]));

/// A recommendation from a UN mechanism.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recommendation {
    /// Metadata (`rec_…`).
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// Mechanism.
    pub mechanism: Mechanism,
    /// UN document symbol (e.g. "A/HRC/26/16").
    pub document_symbol: String,
    /// Paragraph ("118.22").
    pub paragraph: String,
    /// UPR cycle.
    pub cycle: Option<u32>,
    /// Date of the document or session.
    pub date: Option<FuzzyDate>,
    /// Recommending states.
    pub recommending_states: Vec<String>,
    /// Text, paraphrased unless quoted from the document.
    pub text: String,
    /// Themes.
    pub themes: Vec<String>,
    /// Response.
    pub response: Option<RecResponse>,
    /// Whether checked against the document.
    pub verified: bool,
    /// What is unverified.
    pub unverified_note: Option<String>,
}
record!(Recommendation, Recommendation, |_s| Vec::new());

/// A benchmark (e.g. set by the Special Rapporteur).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Benchmark {
    /// Metadata (`bm_…`).
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// Where it was set.
    pub source_document: String,
    /// Text.
    pub text: String,
    /// Theme.
    pub theme: Option<String>,
    /// Whether checked.
    pub verified: bool,
    /// What is unverified.
    pub unverified_note: Option<String>,
}
record!(Benchmark, Benchmark, |_s| Vec::new());

/// A dated assessment of a recommendation's or benchmark's implementation,
/// citing incidents or events as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// `asm_…`
    pub id: String,
    /// Recommendation or benchmark id.
    pub target_id: String,
    /// Date.
    pub date: FuzzyDate,
    /// Status.
    pub status: Implementation,
    /// Assessing organisation.
    pub assessed_by: String,
    /// Reasoning.
    pub note: String,
    /// Incident, act or blocking-event ids cited as evidence.
    pub evidence_ids: Vec<String>,
}
