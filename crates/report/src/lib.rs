//! # canary-report: monitoring reports and UPR drafts from Canary's data
//!
//! The coalition's output is reports. This crate writes them from the
//! data instead of by hand from spreadsheets:
//!
//! 1. [`gather`] asks the store ([`canary_store::Store`]: country
//!    summary, blocked sites, blocked-share series, events) and the
//!    documentation registry ([`canary_registry::Dataset`]: incidents,
//!    acts, laws invoked, recommendations and assessments) every question
//!    the report answers, and returns [`ReportData`]: plain, serialisable
//!    data in which **every number is a [`Figure`] that names the
//!    [`QueryRef`] it came from**.
//! 2. [`layout`] turns the data into a format-independent [`Document`]
//!    (sections of paragraphs, tables and [`Chart`]s) for the chosen
//!    [`Template`] and [`Lang`], with all wording from the en/km catalog
//!    ([`i18n`]).
//! 3. [`render_html`] typesets it as one self-contained HTML file: inline
//!    CSS, inline SVG charts, Noto Sans Khmer embedded as a `data:` URL
//!    when there is Khmer text (so it shapes correctly when opened from a
//!    file). `canary-report-pdf` typesets the same [`Document`] as PDF.
//!
//! ## Where reports are made
//!
//! * `canary report` (the binary): from `--database`, with the registry
//!   kept in the same database by default (`--registry store`, loaded with
//!   [`canary_store::Store::registry_load`]; `seed` or a JSON export
//!   otherwise). An empty stored registry gives a report whose incident
//!   and recommendation sections say there is nothing to report, and a
//!   warning naming `canary seed kh`.
//! * `canary serve`'s `/reports` form (analysts and administrators): the
//!   same gathering over the server's store and stored registry, the
//!   internal edition only for the requester's own organisation, HTML or
//!   (when the binary has its `pdf` feature) PDF as a download.
//!
//! ## Sections
//!
//! Country template: 1. summary (key figures, acts by type), 2. website
//! blocking (by category, per ISP, how, blocked share over time and per
//! ISP, the blocked list with "since" and "confirmed", detected events),
//! 3. incidents (by act type, by month, by law and provision, case
//! summaries), 4. recommendations and benchmarks (latest assessment and
//! evidence), 5. methodology (rules versions, fingerprints, limits),
//! 6. data appendix (queries, measurement ids, evidence SHA-256, sources).
//!
//! UPR template ([`Template::Upr`]): a stakeholder-submission draft in
//! numbered paragraphs citing earlier recommendations by document symbol
//! and paragraph, with the word count against
//! [`ReportOptions::word_limit`] and a warning when over.
//!
//! ## Confidentiality
//!
//! A [`Edition::Public`] report sees the registry as an anonymous reader
//! does ([`canary_registry::Dataset::view_for`]): published records only,
//! sensitive fields redacted. [`Edition::OrgInternal`] shows what the
//! organisation may read and is watermarked on every page.
//!
//! ## Reproducibility
//!
//! No clock is read: the same data and options give the same bytes. The
//! optional printed date comes from [`ReportOptions::generated_on`]; the
//! footer carries a SHA-256 of the data and options ([`Document::content_hash`]).
//!
//! ## Example
//!
//! ```
//! use canary_report::{gather, render_html, Lang, ReportOptions, Template};
//! use time::macros::date;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = canary_store::Store::open("sqlite::memory:").await?;
//! let registry = canary_registry::seed::kh();
//! let mut opts = ReportOptions::new("KH", date!(2023 - 01 - 01), date!(2023 - 12 - 31));
//! opts.lang = Lang::Km;
//! opts.template = Template::Country;
//!
//! let data = gather(&store, &registry, &opts).await?;
//! // an empty store is not an error: sections say "no data"
//! assert!(!data.has_measurements);
//! let sites = data.figure("summary.sites_tested").expect("always present");
//! assert_eq!(sites.value, 0);
//! assert_eq!(data.queries[sites.query].name, "store.country_summary");
//!
//! let html = render_html(&data, &opts);
//! assert!(html.contains("data-figure=\"summary.sites_tested\""));
//! assert_eq!(html, render_html(&data, &opts)); // reproducible
//!
//! // bad options are clear errors
//! opts.country = "XX".into();
//! let err = gather(&store, &registry, &opts).await.unwrap_err();
//! assert!(err.to_string().contains("XX is not an assigned ISO 3166-1 country code"));
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod chart;
mod data;
mod error;
mod gather;
mod html;
pub mod i18n;
mod layout;
mod options;

pub use chart::{Anchor, Chart, ChartKind, ChartSeries, Shape};
pub use data::*;
pub use error::ReportError;
pub use gather::{
    gather, MAX_APPENDIX_IDS, MAX_BLOCKED_ROWS, MAX_CATEGORY_LOOKUPS, MAX_CHART_NETWORKS,
};
pub use html::{
    chart_svg, escape, has_khmer, render_document, render_html, KHMER_FONT_BOLD, KHMER_FONT_REGULAR,
};
pub use layout::{count_words, layout, Block, Cell, Document, Inline, Section, WordCount};
pub use options::{
    country_name, Edition, Lang, ReportOptions, Template, MAX_RANGE_DAYS,
    UPR_WORD_LIMIT_INDIVIDUAL, UPR_WORD_LIMIT_JOINT,
};

/// The SHA-256 of a rendered report's bytes, in lower-case hex: what the
/// registry's audit log records of every report made from it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}
