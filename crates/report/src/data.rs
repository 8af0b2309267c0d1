//! [`ReportData`]: everything a report says, as plain serialisable data,
//! each number with the query that produced it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The question that produced a figure: a store query or a registry
/// selection, with its parameters. Rendered reports link every figure to
/// its entry in the data appendix, which names the query (and its API URL
/// when [`crate::ReportOptions::api_base`] is set).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QueryRef {
    /// `store.country_summary`, `store.blocked_now`, `registry.incidents`, …
    pub name: String,
    /// Parameters, by name.
    pub params: BTreeMap<String, String>,
}

impl QueryRef {
    /// A query with parameters.
    pub fn new<'a>(name: &str, params: impl IntoIterator<Item = (&'a str, String)>) -> Self {
        QueryRef {
            name: name.to_owned(),
            params: params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        }
    }

    /// The Canary web API path answering the same question, for store
    /// queries that have one.
    pub fn api_path(&self) -> Option<String> {
        let p = |k: &str| self.params.get(k).cloned().unwrap_or_default();
        let mut query: Vec<String> = Vec::new();
        for k in ["from", "to", "asn", "category"] {
            if let Some(v) = self.params.get(k) {
                query.push(format!("{k}={}", url_escape(v)));
            }
        }
        let q = if query.is_empty() {
            String::new()
        } else {
            format!("?{}", query.join("&"))
        };
        let cc = url_escape(&p("country"));
        match self.name.as_str() {
            "store.country_summary" => Some(format!("/api/v1/countries/{cc}/summary{q}")),
            "store.blocked_now" => Some(format!("/api/v1/countries/{cc}/blocked{q}")),
            "store.blocked_share_series" => Some(format!("/api/v1/countries/{cc}/series{q}")),
            "store.events" => Some(format!("/api/v1/countries/{cc}/events{q}")),
            _ => None,
        }
    }
}

fn url_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One number of the report and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    /// Stable key (`summary.sites_tested`); rendered HTML carries it in a
    /// `data-figure` attribute so tests and readers can find the number.
    pub key: String,
    /// The value.
    pub value: u64,
    /// Index into [`ReportData::queries`].
    pub query: usize,
}

/// A site blocked at the end of the period on one network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockedRow {
    /// Domain.
    pub domain: String,
    /// Citizen Lab category code, when known.
    pub category: Option<String>,
    /// Network ASN.
    pub asn: u32,
    /// Network name.
    pub network: Option<String>,
    /// Layer (`dns`, `tcp`, `tls`, `http`).
    pub layer: Option<String>,
    /// Kind (`nxdomain`, `blockpage`, …).
    pub kind: Option<String>,
    /// Blocked since (UTC day).
    pub since: String,
    /// Confirmed by a blockpage fingerprint.
    pub confirmed: bool,
    /// Latest blocked measurement.
    pub measurement_id: String,
}

/// One network in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkRow {
    /// ASN.
    pub asn: u32,
    /// Name.
    pub name: Option<String>,
    /// Measurements from it.
    pub measurements: Figure,
    /// Sites blocked on it at the end of the period.
    pub sites_blocked: Figure,
    /// Blocked measurements from it (per mille of its measurements, for the chart).
    pub blocked_measurements: u64,
}

/// A labelled count (category, layer/kind, act type, law…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountRow {
    /// Machine code (category code, act type code, provision id).
    pub code: String,
    /// Label in the report's language.
    pub label: String,
    /// The count.
    pub count: Figure,
}

/// One bucket (day or month) of the blocked-share series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// `2023-07` or `2023-07-14`.
    pub label: String,
    /// Measurements.
    pub tested: u64,
    /// Of which blocked.
    pub blocked: u64,
}

/// One network's blocked-share series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkSeries {
    /// ASN.
    pub asn: u32,
    /// Name.
    pub name: Option<String>,
    /// Points, aligned with [`WebsiteSection::buckets`].
    pub points: Vec<SeriesPoint>,
}

/// A detected blocking event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    /// Domain.
    pub domain: String,
    /// ASN.
    pub asn: u32,
    /// Layer.
    pub layer: String,
    /// Start (UTC day).
    pub start: String,
    /// End (UTC day), `None` while ongoing.
    pub end: Option<String>,
    /// Detector confidence (0–1).
    pub confidence: f64,
    /// Measurements making up the event.
    pub measurements: usize,
}

/// Section 2: website blocking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebsiteSection {
    /// Blocked (domain, network) pairs at the end of the period, by domain then ASN.
    pub blocked: Vec<BlockedRow>,
    /// Pairs not listed in `blocked` because of the row cap.
    pub blocked_omitted: usize,
    /// Distinct blocked domains per Citizen Lab category.
    pub by_category: Vec<CountRow>,
    /// Blocked (domain, network) pairs per layer and kind.
    pub by_method: Vec<CountRow>,
    /// Networks measured.
    pub networks: Vec<NetworkRow>,
    /// Bucket labels of the share series (days or months).
    pub buckets: Vec<String>,
    /// Whether buckets are months.
    pub monthly: bool,
    /// Country-wide blocked share per bucket.
    pub series: Vec<SeriesPoint>,
    /// Per-network series.
    pub network_series: Vec<NetworkSeries>,
    /// Detected blocking events.
    pub events: Vec<EventRow>,
    /// Confirmed pairs among `blocked` (whole list, not only shown rows).
    pub confirmed_pairs: Figure,
}

/// A published (or, internally, visible) incident in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentRow {
    /// Id.
    pub id: String,
    /// Title (Khmer title in a Khmer report when recorded).
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Start (fuzzy date text).
    pub start: String,
    /// End.
    pub end: Option<String>,
    /// Act types, labelled.
    pub acts: Vec<String>,
    /// Victims as they may be shown (public names or descriptors).
    pub victims: Vec<String>,
    /// Provisions invoked (`PC art. 437 bis`).
    pub provisions: Vec<String>,
    /// Source ids.
    pub sources: Vec<String>,
    /// Whether the facts were verified.
    pub verified: bool,
    /// Visibility/status when not public (internal edition only).
    pub restricted: Option<String>,
}

/// Section 3: incidents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentSection {
    /// Incidents, oldest first.
    pub incidents: Vec<IncidentRow>,
    /// Acts per type.
    pub by_act_type: Vec<CountRow>,
    /// Acts per month (`2023-07`).
    pub by_month: Vec<CountRow>,
    /// Acts per law and provision invoked.
    pub by_provision: Vec<CountRow>,
}

/// A recommendation or benchmark with its latest assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecommendationRow {
    /// Id.
    pub id: String,
    /// `recommendation` or `benchmark`.
    pub kind: String,
    /// Citation: `A/HRC/26/16, para. 118.22` or the benchmark's source.
    pub citation: String,
    /// UN document symbol (recommendations).
    pub symbol: Option<String>,
    /// Paragraph (recommendations).
    pub paragraph: Option<String>,
    /// Recommending states.
    pub states: Vec<String>,
    /// Text.
    pub text: String,
    /// The State's response, labelled.
    pub response: Option<String>,
    /// Latest assessment status, labelled.
    pub status: Option<String>,
    /// Latest assessment status code.
    pub status_code: Option<String>,
    /// Latest assessment date.
    pub assessed: Option<String>,
    /// Latest assessment note.
    pub note: Option<String>,
    /// Evidence ids cited by the latest assessment.
    pub evidence: Vec<String>,
}

/// Section 5 inputs: what the verdicts in the period were made with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Methodology {
    /// Rules versions of the verdicts (from the blocked measurements' page).
    pub rules_versions: Vec<String>,
    /// Blockpage fingerprints that matched.
    pub fingerprints: Vec<String>,
    /// Software that produced the measurements.
    pub software: Vec<String>,
}

/// An evidence item cited by the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRow {
    /// Id.
    pub id: String,
    /// SHA-256.
    pub sha256: String,
    /// Media type.
    pub media_type: String,
    /// Size.
    pub size: u64,
    /// Linked records.
    pub linked: Vec<String>,
}

/// A source cited by the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRow {
    /// Id.
    pub id: String,
    /// Publication.
    pub publication: String,
    /// Title.
    pub title: Option<String>,
    /// URL.
    pub url: Option<String>,
    /// Date.
    pub published: Option<String>,
}

/// Section 6: what a reader needs to check every claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appendix {
    /// Measurement ids behind the blocked list and the events (sorted, capped).
    pub measurement_ids: Vec<String>,
    /// Ids left out by the cap.
    pub measurement_ids_omitted: usize,
    /// Evidence items linked to the reported incidents.
    pub evidence: Vec<EvidenceRow>,
    /// Sources cited by the reported records.
    pub sources: Vec<SourceRow>,
}

/// Everything a report says. Built by [`crate::gather`], rendered by
/// [`crate::render_html`] and by `canary_report_pdf::render_pdf`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportData {
    /// Country code.
    pub country: String,
    /// First day (`YYYY-MM-DD`).
    pub from: String,
    /// Last day.
    pub to: String,
    /// The queries behind the figures; [`Figure::query`] indexes this.
    pub queries: Vec<QueryRef>,
    /// Section 1 key figures, in display order.
    pub summary: Vec<Figure>,
    /// Section 2.
    pub websites: WebsiteSection,
    /// Section 3.
    pub incidents: IncidentSection,
    /// Section 4.
    pub recommendations: Vec<RecommendationRow>,
    /// Section 5.
    pub methodology: Methodology,
    /// Section 6.
    pub appendix: Appendix,
    /// Whether the store had measurements in the period.
    pub has_measurements: bool,
    /// Whether the registry given to [`crate::gather`] held no records at
    /// all (not even unpublished ones): its sections then say that nothing
    /// is documented yet rather than "no data for this period".
    #[serde(default)]
    pub registry_empty: bool,
    /// Notes for the analyst (empty period, caps reached…), in English.
    pub warnings: Vec<String>,
    /// The organisation of an internal edition (watermark).
    pub internal_org: Option<String>,
}

impl ReportData {
    /// The figure with this key.
    pub fn figure(&self, key: &str) -> Option<&Figure> {
        self.all_figures().into_iter().find(|f| f.key == key)
    }

    /// Every figure of the report (summary, per-network, per-category…).
    pub fn all_figures(&self) -> Vec<&Figure> {
        let mut out: Vec<&Figure> = self.summary.iter().collect();
        for n in &self.websites.networks {
            out.push(&n.measurements);
            out.push(&n.sites_blocked);
        }
        out.push(&self.websites.confirmed_pairs);
        for rows in [
            &self.websites.by_category,
            &self.websites.by_method,
            &self.incidents.by_act_type,
            &self.incidents.by_month,
            &self.incidents.by_provision,
        ] {
            out.extend(rows.iter().map(|r| &r.count));
        }
        out
    }

    /// Whether the period has no data: no measurements and no incidents
    /// (recommendations are standing, not tied to a period, and do not
    /// count).
    pub fn is_empty(&self) -> bool {
        !self.has_measurements && self.incidents.incidents.is_empty()
    }
}
