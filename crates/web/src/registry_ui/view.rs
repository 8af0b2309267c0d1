//! View models: registry records turned into plain rows for the templates,
//! with every vocabulary label in the reader's language and every
//! sensitive field as clear text (only when opened for this reader),
//! "sealed" or "redacted".

use canary_registry::{
    Act, ActExtension, Actor, Dataset, EvidenceItem, FuzzyDate, Incident, RecordMeta,
    SensitiveField, Source,
};
use serde::Serialize;

use crate::i18n::Lang;

/// A sensitive value as shown: `state` is `clear`, `sealed` or `redacted`;
/// `text` is set only when clear.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Sens {
    pub(crate) state: &'static str,
    pub(crate) text: Option<String>,
}

pub(crate) fn sens(f: Option<&SensitiveField>) -> Option<Sens> {
    f.map(|f| Sens {
        state: f.state(),
        text: f.as_clear().map(str::to_owned),
    })
}

pub(crate) fn date(d: Option<&FuzzyDate>) -> String {
    d.map(ToString::to_string).unwrap_or_default()
}

/// Record metadata as shown.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct MetaView {
    pub(crate) id: String,
    pub(crate) org: String,
    pub(crate) org_name: String,
    pub(crate) status: &'static str,
    pub(crate) status_label: &'static str,
    pub(crate) visibility: &'static str,
    pub(crate) visibility_label: &'static str,
    pub(crate) version: u32,
    pub(crate) versions: Vec<VersionView>,
}

/// One version line.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct VersionView {
    pub(crate) n: u32,
    pub(crate) by: String,
    pub(crate) at: String,
    pub(crate) summary: String,
}

pub(crate) fn org_name(ds: &Dataset, org: &str, lang: Lang) -> String {
    ds.organisations
        .iter()
        .find(|o| o.id == org)
        .map(|o| match (&o.name_km, lang) {
            (Some(km), Lang::Km) => km.clone(),
            _ => o.name.clone(),
        })
        .unwrap_or_else(|| org.to_owned())
}

pub(crate) fn meta(ds: &Dataset, m: &RecordMeta, lang: Lang) -> MetaView {
    MetaView {
        id: m.id.clone(),
        org: m.org.clone(),
        org_name: org_name(ds, &m.org, lang),
        status: m.status.as_str(),
        status_label: m.status.label(lang.code()),
        visibility: m.visibility.as_str(),
        visibility_label: m.visibility.label(lang.code()),
        version: m.version(),
        versions: m
            .versions
            .iter()
            .map(|v| VersionView {
                n: v.n,
                by: v.by.clone(),
                at: crate::format_time(v.at),
                summary: v.change_summary.clone(),
            })
            .collect(),
    }
}

/// An incident row of the list.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct IncidentRow {
    pub(crate) meta: MetaView,
    pub(crate) title: String,
    pub(crate) start: String,
    pub(crate) end: String,
    pub(crate) act_types: Vec<&'static str>,
}

pub(crate) fn title(i: &Incident, lang: Lang) -> String {
    match (&i.title_km, lang) {
        (Some(km), Lang::Km) => km.clone(),
        _ => i.title.clone(),
    }
}

pub(crate) fn incident_row(ds: &Dataset, i: &Incident, lang: Lang) -> IncidentRow {
    let mut act_types: Vec<&'static str> = ds
        .acts
        .iter()
        .filter(|a| a.incident_id == i.meta.id)
        .map(|a| a.act_type.label(lang.code()))
        .collect();
    act_types.sort_unstable();
    act_types.dedup();
    IncidentRow {
        meta: meta(ds, &i.meta, lang),
        title: title(i, lang),
        start: i.start.to_string(),
        end: date(i.end.as_ref()),
        act_types,
    }
}

/// An actor as shown next to an act.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ActorView {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) kind: &'static str,
    pub(crate) identity: Option<Sens>,
    pub(crate) contact: Option<Sens>,
}

pub(crate) fn actor(a: &Actor, lang: Lang) -> ActorView {
    ActorView {
        id: a.meta.id.clone(),
        name: match (&a.name_km, lang) {
            (Some(km), Lang::Km) => km.clone(),
            _ => a.name.clone(),
        },
        kind: a.kind.label(lang.code()),
        identity: sens(a.identity.as_ref()),
        contact: sens(a.contact.as_ref()),
    }
}

/// A provision invoked by an act.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct InvocationView {
    pub(crate) provision_id: String,
    pub(crate) law_id: String,
    pub(crate) label: String,
    pub(crate) role: &'static str,
    pub(crate) date: String,
    pub(crate) note: String,
}

/// A perpetrator's part in an act.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct InvolvementView {
    pub(crate) actor: Option<ActorView>,
    pub(crate) degree: &'static str,
    pub(crate) perpetrator_type: &'static str,
    pub(crate) note: String,
}

/// An act on the incident's timeline.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ActView {
    pub(crate) id: String,
    pub(crate) act_type: &'static str,
    pub(crate) date: String,
    pub(crate) description: String,
    pub(crate) stated_reason: String,
    pub(crate) victim: Option<ActorView>,
    pub(crate) invocations: Vec<InvocationView>,
    pub(crate) involvements: Vec<InvolvementView>,
    pub(crate) extension: Option<ExtensionView>,
}

/// Typed details of an act.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ExtensionView {
    pub(crate) kind: &'static str,
    pub(crate) lines: Vec<(String, String)>,
    pub(crate) targets: Vec<String>,
    pub(crate) measurement_ids: Vec<String>,
    pub(crate) event_ids: Vec<String>,
}

/// `"TEL art. 41"`-style label of a provision.
pub(crate) fn provision_label(ds: &Dataset, provision_id: &str) -> (String, String) {
    match ds.provisions.iter().find(|p| p.meta.id == provision_id) {
        Some(p) => {
            let code = ds
                .laws
                .iter()
                .find(|l| l.meta.id == p.law_id)
                .map(|l| l.code.clone())
                .unwrap_or_default();
            (format!("{code} {}", p.article), p.law_id.clone())
        }
        None => (provision_id.to_owned(), String::new()),
    }
}

fn extension(e: &ActExtension, lang: Lang) -> ExtensionView {
    let l = lang.code();
    let t = |k: &str| lang.t(k).to_owned();
    let mut lines = Vec::new();
    let mut push = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            lines.push((t(k), v));
        }
    };
    match e {
        ActExtension::CourtCase(c) => {
            push("reg_court", c.court.clone());
            push("reg_case_number", c.case_number.clone());
            push("reg_stage", Some(c.stage.label(l).to_owned()));
            push("reg_verdict", c.verdict.map(|v| v.label(l).to_owned()));
            push("reg_sentence", c.sentence.clone());
            push("reg_appeal", c.appeal.clone());
            for h in &c.hearings {
                push("reg_hearing", Some(format!("{} — {}", h.date, h.note)));
            }
            ExtensionView {
                kind: "court_case",
                lines,
                targets: Vec::new(),
                measurement_ids: Vec::new(),
                event_ids: Vec::new(),
            }
        }
        ActExtension::BlockingOrder(b) => {
            push("reg_issuer", Some(b.issuer.clone()));
            push("reg_reference", b.reference.clone());
            push("reg_order_date", b.date.map(|d| d.to_string()));
            let isps: Vec<String> = b
                .isps
                .iter()
                .map(|i| match i.asn {
                    Some(asn) => format!("{} (AS{asn})", i.name),
                    None => i.name.clone(),
                })
                .collect();
            push("reg_isps", Some(isps.join(", ")));
            ExtensionView {
                kind: "blocking_order",
                lines,
                targets: b.targets.clone(),
                measurement_ids: b.measurement_ids.clone(),
                event_ids: b.event_ids.clone(),
            }
        }
        ActExtension::RemovalRequest(r) => {
            push("reg_platform", Some(r.platform.clone()));
            push("reg_sender", Some(r.sender.clone()));
            push("reg_recipient", Some(r.recipient.clone()));
            ExtensionView {
                kind: "removal_request",
                lines,
                targets: Vec::new(),
                measurement_ids: Vec::new(),
                event_ids: Vec::new(),
            }
        }
    }
}

/// An act with everything joined to it; `actors` are already revealed or
/// redacted for the reader.
pub(crate) fn act(ds: &Dataset, a: &Act, actors: &[Actor], lang: Lang) -> ActView {
    let l = lang.code();
    let find = |id: &str| {
        actors
            .iter()
            .find(|x| x.meta.id == id)
            .map(|x| actor(x, lang))
    };
    ActView {
        id: a.id.clone(),
        act_type: a.act_type.label(l),
        date: date(a.date.as_ref()),
        description: a.description.clone(),
        stated_reason: a.stated_reason.clone().unwrap_or_default(),
        victim: a.victim_id.as_deref().and_then(find),
        invocations: ds
            .invocations
            .iter()
            .filter(|i| i.act_id == a.id)
            .map(|i| {
                let (label, law_id) = provision_label(ds, &i.provision_id);
                InvocationView {
                    provision_id: i.provision_id.clone(),
                    law_id,
                    label,
                    role: i.role.label(l),
                    date: date(i.date.as_ref()),
                    note: i.note.clone().unwrap_or_default(),
                }
            })
            .collect(),
        involvements: ds
            .involvements
            .iter()
            .filter(|i| i.act_id == a.id)
            .map(|i| InvolvementView {
                actor: find(&i.actor_id),
                degree: i.degree.label(l),
                perpetrator_type: i.perpetrator_type.label(l),
                note: i.note.clone().unwrap_or_default(),
            })
            .collect(),
        extension: a.extension.as_ref().map(|e| extension(e, lang)),
    }
}

/// An evidence item as shown.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct EvidenceView {
    pub(crate) meta: MetaView,
    pub(crate) sha256: String,
    pub(crate) size: u64,
    pub(crate) media_type: String,
    pub(crate) original: bool,
    pub(crate) derived_from: String,
    pub(crate) acquired_at: String,
    pub(crate) acquired_from: String,
    pub(crate) acquired_by: String,
    pub(crate) method: String,
    pub(crate) provenance: Option<Sens>,
    pub(crate) linked_ids: Vec<String>,
    pub(crate) custody: Vec<CustodyView>,
    /// For readers outside the owning organisation: the chain's head
    /// instead of its events.
    pub(crate) custody_head: Option<CustodyHeadView>,
}

/// What an outsider sees of a custody chain: its length and last hash.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CustodyHeadView {
    pub(crate) events: u64,
    pub(crate) entry_hash: String,
}

/// One custody event.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CustodyView {
    pub(crate) seq: u64,
    pub(crate) action: &'static str,
    pub(crate) actor: String,
    pub(crate) at: String,
    pub(crate) details: String,
    pub(crate) entry_hash: String,
}

pub(crate) fn evidence(ds: &Dataset, e: &EvidenceItem, lang: Lang) -> EvidenceView {
    let (original, derived_from) = match &e.kind {
        canary_registry::EvidenceKind::Original => (true, String::new()),
        canary_registry::EvidenceKind::WorkingCopy { derived_from, .. } => {
            (false, derived_from.clone())
        }
    };
    let outsider = e
        .meta
        .versions
        .first()
        .is_some_and(|v| v.by == canary_registry::policy::REDACTED_USER);
    EvidenceView {
        meta: meta(ds, &e.meta, lang),
        sha256: e.sha256.clone(),
        size: e.size,
        media_type: e.media_type.clone(),
        original,
        derived_from,
        acquired_at: crate::format_time(e.acquired_at),
        acquired_from: e.acquired_from.clone().unwrap_or_default(),
        acquired_by: if outsider {
            canary_registry::policy::REDACTED_USER.to_owned()
        } else {
            e.acquired_by.clone()
        },
        method: e.method.clone(),
        provenance: sens(e.provenance.as_ref()),
        linked_ids: e.linked_ids.clone(),
        custody: ds
            .custody
            .iter()
            .filter(|c| c.item == e.meta.id)
            .map(|c| CustodyView {
                seq: c.seq,
                action: c.action.label(lang.code()),
                actor: if outsider {
                    canary_registry::policy::REDACTED_USER.to_owned()
                } else {
                    c.actor.clone()
                },
                at: crate::format_time(c.at),
                details: c.details.clone(),
                entry_hash: c.entry_hash.clone(),
            })
            .collect(),
        custody_head: ds
            .custody_heads
            .iter()
            .find(|h| h.chain == e.meta.id)
            .map(|h| CustodyHeadView {
                events: h.seq.saturating_add(1),
                entry_hash: h.entry_hash.clone(),
            }),
    }
}

/// A source as shown.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SourceView {
    pub(crate) id: String,
    pub(crate) publication: String,
    pub(crate) title: String,
    pub(crate) url: String,
    pub(crate) published: String,
    pub(crate) connection: &'static str,
    pub(crate) reliability: &'static str,
    pub(crate) identity: Option<Sens>,
    pub(crate) contact: Option<Sens>,
    pub(crate) notes: Vec<String>,
    /// Archived copies: evidence items linked to the source the reader
    /// may see, as (id, media type).
    pub(crate) archives: Vec<(String, String)>,
}

/// The evidence items in `ds` linked to `source_id` (its archived
/// copies), as (id, media type).
pub(crate) fn archives(ds: &Dataset, source_id: &str) -> Vec<(String, String)> {
    ds.evidence
        .iter()
        .filter(|e| e.linked_ids.iter().any(|l| l == source_id))
        .map(|e| (e.meta.id.clone(), e.media_type.clone()))
        .collect()
}

pub(crate) fn source(s: &Source, notes: Vec<String>, lang: Lang) -> SourceView {
    let l = lang.code();
    SourceView {
        id: s.meta.id.clone(),
        publication: s.publication.clone(),
        title: s.title.clone().unwrap_or_default(),
        url: s
            .url
            .clone()
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .unwrap_or_default(),
        published: date(s.published.as_ref()),
        connection: s.connection.label(l),
        reliability: s.reliability.label(l),
        identity: sens(s.identity.as_ref()),
        contact: sens(s.contact.as_ref()),
        notes,
        archives: Vec::new(),
    }
}

/// A vocabulary term for a `<select>`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Term {
    pub(crate) code: &'static str,
    pub(crate) label: &'static str,
}

/// Every term of a vocabulary, labelled in `lang`.
macro_rules! terms {
    ($ty:ty, $lang:expr) => {
        <$ty>::ALL
            .iter()
            .map(|t| $crate::registry_ui::view::Term {
                code: t.as_str(),
                label: t.label($lang.code()),
            })
            .collect::<Vec<_>>()
    };
}
pub(crate) use terms;
