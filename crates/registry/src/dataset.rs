//! A [`Dataset`]: every entity and relationship of a registry (or of the
//! part of it one principal may see), with integrity checks, the
//! per-principal view used by pages and exports, and whole-dataset sealing.

use std::collections::{BTreeSet, HashSet};

use serde::{Deserialize, Serialize};

use crate::chain::{verify_custody, ChainError, ChainHead, CustodyEvent};
use crate::crypto::{open_record, seal_record, KeyRing};
use crate::entities::*;
use crate::error::Error;
use crate::files::check_sha256;
use crate::meta::{check_id, RecordMeta};
use crate::policy::{can_read, can_read_custody, redact, redact_acquisition, Principal};

/// Format tag of a serialized dataset.
pub const FORMAT: &str = "canary-registry/1";

/// Most records of one type accepted in a dataset.
pub const MAX_RECORDS_PER_TYPE: usize = 1_000_000;

/// All entities and relationships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    /// Always [`FORMAT`].
    pub format: String,
    /// Member organisations.
    pub organisations: Vec<Organisation>,
    /// Incidents.
    pub incidents: Vec<Incident>,
    /// Links between incidents.
    pub incident_links: Vec<IncidentLink>,
    /// Acts.
    pub acts: Vec<Act>,
    /// Involvements of perpetrators in acts.
    pub involvements: Vec<Involvement>,
    /// Actors.
    pub actors: Vec<Actor>,
    /// Sources.
    pub sources: Vec<Source>,
    /// Sources supporting records.
    pub citations: Vec<Citation>,
    /// Laws.
    pub laws: Vec<Law>,
    /// Provisions.
    pub provisions: Vec<Provision>,
    /// Provisions invoked in acts.
    pub invocations: Vec<ProvisionInvocation>,
    /// Evidence items.
    pub evidence: Vec<EvidenceItem>,
    /// Custody events of evidence items (chains, in order per item). Only
    /// in the owning organisation's view (see [`crate::policy`]).
    pub custody: Vec<CustodyEvent>,
    /// The custody chains' heads (item id, last sequence number, last
    /// hash) of evidence items whose events the reader may not see: what
    /// an outsider gets instead of the events, to check integrity. Empty
    /// (and left out of JSON) in a full dataset.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custody_heads: Vec<ChainHead>,
    /// UN recommendations.
    pub recommendations: Vec<Recommendation>,
    /// Benchmarks.
    pub benchmarks: Vec<Benchmark>,
    /// Implementation assessments.
    pub assessments: Vec<Assessment>,
}

impl Default for Dataset {
    fn default() -> Self {
        Dataset {
            format: FORMAT.into(),
            organisations: Vec::new(),
            incidents: Vec::new(),
            incident_links: Vec::new(),
            acts: Vec::new(),
            involvements: Vec::new(),
            actors: Vec::new(),
            sources: Vec::new(),
            citations: Vec::new(),
            laws: Vec::new(),
            provisions: Vec::new(),
            invocations: Vec::new(),
            evidence: Vec::new(),
            custody: Vec::new(),
            custody_heads: Vec::new(),
            recommendations: Vec::new(),
            benchmarks: Vec::new(),
            assessments: Vec::new(),
        }
    }
}

/// Runs `$body` with `$v` bound to each top-level record collection.
macro_rules! each_record_vec {
    ($ds:expr, |$v:ident| $body:expr) => {{
        {
            let $v = &mut $ds.incidents;
            $body
        }
        {
            let $v = &mut $ds.actors;
            $body
        }
        {
            let $v = &mut $ds.sources;
            $body
        }
        {
            let $v = &mut $ds.laws;
            $body
        }
        {
            let $v = &mut $ds.provisions;
            $body
        }
        {
            let $v = &mut $ds.evidence;
            $body
        }
        {
            let $v = &mut $ds.recommendations;
            $body
        }
        {
            let $v = &mut $ds.benchmarks;
            $body
        }
    }};
}

fn metas(ds: &Dataset) -> impl Iterator<Item = &RecordMeta> {
    ds.incidents
        .iter()
        .map(|r| &r.meta)
        .chain(ds.actors.iter().map(|r| &r.meta))
        .chain(ds.sources.iter().map(|r| &r.meta))
        .chain(ds.laws.iter().map(|r| &r.meta))
        .chain(ds.provisions.iter().map(|r| &r.meta))
        .chain(ds.evidence.iter().map(|r| &r.meta))
        .chain(ds.recommendations.iter().map(|r| &r.meta))
        .chain(ds.benchmarks.iter().map(|r| &r.meta))
}

fn ids<'a, T>(v: &'a [T], f: impl Fn(&'a T) -> &'a str) -> HashSet<&'a str> {
    v.iter().map(f).collect()
}

impl Dataset {
    /// An empty dataset.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of rows of every kind together.
    pub fn len(&self) -> usize {
        self.counts().iter().map(|(_, n)| n).sum()
    }

    /// Whether there are no rows at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows per collection, in serialization order.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("organisations", self.organisations.len()),
            ("incidents", self.incidents.len()),
            ("incident_links", self.incident_links.len()),
            ("acts", self.acts.len()),
            ("involvements", self.involvements.len()),
            ("actors", self.actors.len()),
            ("sources", self.sources.len()),
            ("citations", self.citations.len()),
            ("laws", self.laws.len()),
            ("provisions", self.provisions.len()),
            ("invocations", self.invocations.len()),
            ("evidence", self.evidence.len()),
            ("custody", self.custody.len()),
            ("recommendations", self.recommendations.len()),
            ("benchmarks", self.benchmarks.len()),
            ("assessments", self.assessments.len()),
        ]
    }

    /// Checks the dataset's integrity: format tag, size bounds, id syntax
    /// and uniqueness, owning organisations, version numbering, every
    /// reference between records, evidence hashes. Lists up to 20 problems.
    pub fn validate(&self) -> Result<(), Error> {
        let mut problems: Vec<String> = Vec::new();
        if self.format != FORMAT {
            problems.push(format!("format is {:?}, expected {FORMAT:?}", self.format));
        }
        for (name, n) in self.counts() {
            if n > MAX_RECORDS_PER_TYPE {
                return Err(Error::TooLarge {
                    what: format!("{name} ({n} rows)"),
                    limit: MAX_RECORDS_PER_TYPE as u64,
                });
            }
        }
        let mut seen: HashSet<&str> = HashSet::new();
        fn id<'a>(
            prefix: &str,
            id: &'a str,
            seen: &mut HashSet<&'a str>,
            problems: &mut Vec<String>,
        ) {
            if let Err(e) = check_id(prefix, id) {
                problems.push(e.to_string());
            }
            if !seen.insert(id) {
                problems.push(format!("duplicate id {id}"));
            }
        }
        for o in &self.organisations {
            id("org_", &o.id, &mut seen, &mut problems);
        }
        for r in &self.incidents {
            id("inc_", &r.meta.id, &mut seen, &mut problems);
        }
        for r in &self.acts {
            id("act_", &r.id, &mut seen, &mut problems);
        }
        for r in &self.actors {
            id("actr_", &r.meta.id, &mut seen, &mut problems);
        }
        for r in &self.sources {
            id("src_", &r.meta.id, &mut seen, &mut problems);
        }
        for r in &self.laws {
            id("law_", &r.meta.id, &mut seen, &mut problems);
        }
        for r in &self.provisions {
            id("prov_", &r.meta.id, &mut seen, &mut problems);
        }
        for r in &self.evidence {
            id("ev_", &r.meta.id, &mut seen, &mut problems);
        }
        for r in &self.recommendations {
            id("rec_", &r.meta.id, &mut seen, &mut problems);
        }
        for r in &self.benchmarks {
            id("bm_", &r.meta.id, &mut seen, &mut problems);
        }
        for r in &self.assessments {
            id("asm_", &r.id, &mut seen, &mut problems);
        }
        let all = seen;

        let orgs = ids(&self.organisations, |o| o.id.as_str());
        for m in metas(self) {
            if !orgs.contains(m.org.as_str()) {
                problems.push(format!(
                    "{} is owned by unknown organisation {}",
                    m.id, m.org
                ));
            }
            if m.versions
                .iter()
                .enumerate()
                .any(|(i, v)| v.n as usize != i + 1)
            {
                problems.push(format!("{} has versions not numbered 1, 2, 3…", m.id));
            }
        }
        for i in &self.incidents {
            if i.end.is_some_and(|end| end.date() < i.start.date()) {
                problems.push(format!("{} ends before it starts", i.meta.id));
            }
        }
        let incidents = ids(&self.incidents, |r| r.meta.id.as_str());
        let acts = ids(&self.acts, |r| r.id.as_str());
        let actors = ids(&self.actors, |r| r.meta.id.as_str());
        let sources = ids(&self.sources, |r| r.meta.id.as_str());
        let laws = ids(&self.laws, |r| r.meta.id.as_str());
        let provisions = ids(&self.provisions, |r| r.meta.id.as_str());
        let evidence = ids(&self.evidence, |r| r.meta.id.as_str());
        let targets: HashSet<&str> = self
            .recommendations
            .iter()
            .map(|r| r.meta.id.as_str())
            .chain(self.benchmarks.iter().map(|r| r.meta.id.as_str()))
            .collect();
        let mut need = |set: &HashSet<&str>, id: &str, what: &str| {
            if !set.contains(id) {
                problems.push(format!("{what} refers to missing {id}"));
            }
        };
        for l in &self.incident_links {
            need(&incidents, &l.from, "incident link");
            need(&incidents, &l.to, "incident link");
        }
        for a in &self.acts {
            need(&incidents, &a.incident_id, &a.id);
            if let Some(v) = &a.victim_id {
                need(&actors, v, &a.id);
            }
        }
        for i in &self.involvements {
            need(&acts, &i.act_id, "involvement");
            need(&actors, &i.actor_id, "involvement");
        }
        for c in &self.citations {
            need(&sources, &c.source_id, "citation");
            need(&all, &c.record_id, "citation");
        }
        for p in &self.provisions {
            need(&laws, &p.law_id, &p.meta.id);
        }
        for i in &self.invocations {
            need(&acts, &i.act_id, "invocation");
            need(&provisions, &i.provision_id, "invocation");
        }
        for e in &self.evidence {
            for l in &e.linked_ids {
                need(&all, l, &e.meta.id);
            }
        }
        for c in &self.custody {
            need(&evidence, &c.item, "custody event");
        }
        for h in &self.custody_heads {
            need(&evidence, &h.chain, "custody head");
        }
        for a in &self.assessments {
            need(&targets, &a.target_id, &a.id);
            need(&orgs, &a.assessed_by, &a.id);
        }
        let mut headed: HashSet<&str> = HashSet::new();
        for h in &self.custody_heads {
            if !headed.insert(h.chain.as_str()) {
                problems.push(format!("{}: more than one custody head", h.chain));
            }
            let events: Vec<&CustodyEvent> =
                self.custody.iter().filter(|c| c.item == h.chain).collect();
            if let Some(last) = events.last() {
                if last.seq != h.seq || last.entry_hash != h.entry_hash {
                    problems.push(format!(
                        "{}: custody head disagrees with the chain's last event",
                        h.chain
                    ));
                }
            }
        }
        for e in &self.evidence {
            if let Err(err) = check_sha256(&e.sha256) {
                problems.push(format!("{}: {err}", e.meta.id));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            let n = problems.len();
            problems.truncate(20);
            Err(Error::Dataset(format!(
                "{n} problem(s): {}",
                problems.join("; ")
            )))
        }
    }

    /// Verifies every evidence item's custody chain; the errors name each broken item.
    pub fn verify_custody(&self) -> Result<(), Vec<ChainError>> {
        verify_custody(&self.custody, &[])
    }

    /// Seals every clear sensitive field under the ring's current key.
    pub fn seal_all(&mut self, ring: &KeyRing) -> Result<(), Error> {
        each_record_vec!(self, |v| {
            for r in v.iter_mut() {
                seal_record(r, ring)?;
            }
        });
        Ok(())
    }

    /// Opens every sealed sensitive field; fails at the first that does not open.
    pub fn open_all(&mut self, ring: &KeyRing) -> Result<(), Error> {
        each_record_vec!(self, |v| {
            for r in v.iter_mut() {
                open_record(r, ring)?;
            }
        });
        Ok(())
    }

    /// What `p` may see: records `p` may read (see [`can_read`]), each
    /// passed through [`redact`]; relationship rows only when the records
    /// they join are visible; references to invisible records removed
    /// (an act's victim becomes `None`, invisible ids drop out of
    /// `linked_ids` and `evidence_ids`); organisations only when they own
    /// a visible record or are `p`'s own.
    pub fn view_for(&self, p: &Principal) -> Dataset {
        fn visible<R: crate::Record + Clone>(v: &[R], p: &Principal) -> Vec<R> {
            v.iter()
                .filter(|r| can_read(p, r.meta()))
                .map(|r| redact(r, p))
                .collect()
        }
        let mut out = Dataset {
            incidents: visible(&self.incidents, p),
            actors: visible(&self.actors, p),
            sources: visible(&self.sources, p),
            laws: visible(&self.laws, p),
            provisions: visible(&self.provisions, p),
            evidence: visible(&self.evidence, p),
            recommendations: visible(&self.recommendations, p),
            benchmarks: visible(&self.benchmarks, p),
            ..Dataset::default()
        };
        let laws: HashSet<String> = out.laws.iter().map(|r| r.meta.id.clone()).collect();
        out.provisions.retain(|pr| laws.contains(&pr.law_id));
        let incidents: HashSet<String> = out.incidents.iter().map(|r| r.meta.id.clone()).collect();
        let actors: HashSet<String> = out.actors.iter().map(|r| r.meta.id.clone()).collect();
        out.incident_links = self
            .incident_links
            .iter()
            .filter(|l| incidents.contains(&l.from) && incidents.contains(&l.to))
            .cloned()
            .collect();
        out.acts = self
            .acts
            .iter()
            .filter(|a| incidents.contains(&a.incident_id))
            .cloned()
            .map(|mut a| {
                if a.victim_id.as_ref().is_some_and(|v| !actors.contains(v)) {
                    a.victim_id = None;
                }
                a
            })
            .collect();
        let acts: HashSet<String> = out.acts.iter().map(|a| a.id.clone()).collect();
        out.involvements = self
            .involvements
            .iter()
            .filter(|i| acts.contains(&i.act_id) && actors.contains(&i.actor_id))
            .cloned()
            .collect();
        let provisions: HashSet<String> =
            out.provisions.iter().map(|r| r.meta.id.clone()).collect();
        out.invocations = self
            .invocations
            .iter()
            .filter(|i| acts.contains(&i.act_id) && provisions.contains(&i.provision_id))
            .cloned()
            .collect();
        // Custody (see `policy`): the owners get the events; everyone else
        // the item with its acquisition blanked and the chain's head.
        let evidence: HashSet<String> = out.evidence.iter().map(|r| r.meta.id.clone()).collect();
        let mut custody_readable: HashSet<String> = HashSet::new();
        for e in &mut out.evidence {
            if can_read_custody(p, &e.meta) {
                custody_readable.insert(e.meta.id.clone());
            } else {
                redact_acquisition(e);
            }
        }
        out.custody = self
            .custody
            .iter()
            .filter(|c| custody_readable.contains(&c.item))
            .cloned()
            .collect();
        let mut chains: std::collections::BTreeMap<&str, Vec<&CustodyEvent>> =
            std::collections::BTreeMap::new();
        for c in &self.custody {
            if evidence.contains(&c.item) && !custody_readable.contains(&c.item) {
                chains.entry(c.item.as_str()).or_default().push(c);
            }
        }
        let mut heads: Vec<ChainHead> = chains
            .values()
            .filter_map(|events| events.last())
            .map(|e| ChainHead {
                chain: e.item.clone(),
                seq: e.seq,
                entry_hash: e.entry_hash.clone(),
            })
            .collect();
        // Heads already in `self` (a view of a view) for items still visible.
        for h in &self.custody_heads {
            if evidence.contains(&h.chain) && !heads.iter().any(|o| o.chain == h.chain) {
                heads.push(h.clone());
            }
        }
        out.custody_heads = heads;
        let targets: HashSet<String> = out
            .recommendations
            .iter()
            .map(|r| r.meta.id.clone())
            .chain(out.benchmarks.iter().map(|r| r.meta.id.clone()))
            .collect();

        // Every id visible in the view, for filtering free references.
        let mut all: HashSet<String> = metas(&out).map(|m| m.id.clone()).collect();
        all.extend(acts.iter().cloned());
        let sources: HashSet<String> = out.sources.iter().map(|r| r.meta.id.clone()).collect();
        out.citations = self
            .citations
            .iter()
            .filter(|c| sources.contains(&c.source_id) && all.contains(&c.record_id))
            .cloned()
            .collect();
        for e in &mut out.evidence {
            e.linked_ids.retain(|id| all.contains(id));
        }
        let registry_id = |id: &str| {
            [
                "org_", "inc_", "act_", "actr_", "src_", "law_", "prov_", "ev_", "rec_", "bm_",
                "asm_",
            ]
            .iter()
            .any(|p| id.starts_with(p))
        };
        out.assessments = self
            .assessments
            .iter()
            .filter(|a| targets.contains(&a.target_id))
            .cloned()
            .map(|mut a| {
                a.evidence_ids
                    .retain(|id| !registry_id(id) || all.contains(id));
                a
            })
            .collect();
        let mut orgs: BTreeSet<String> = metas(&out).map(|m| m.org.clone()).collect();
        orgs.extend(out.assessments.iter().map(|a| a.assessed_by.clone()));
        if let Principal::User { org_id, .. } = p {
            orgs.insert(org_id.clone());
        }
        out.organisations = self
            .organisations
            .iter()
            .filter(|o| orgs.contains(&o.id))
            .cloned()
            .collect();
        out
    }
}
