//! The format-independent document: [`layout`] turns [`ReportData`] into
//! sections of blocks (paragraphs, tables, charts); [`crate::render_html`]
//! and the PDF back-end only typeset it, so both formats say the same
//! thing.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::chart::{Chart, ChartKind, ChartSeries};
use crate::data::*;
use crate::i18n::{t, tf, T};
use crate::options::{country_name, Lang, ReportOptions, Template};

/// A piece of running text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Inline {
    /// Plain text.
    Text(String),
    /// Bold text.
    Strong(String),
    /// Monospace (ids, hashes, domains).
    Code(String),
    /// A figure, linked to its query in the appendix (`#q-<query>`).
    Figure {
        /// [`Figure::key`].
        key: String,
        /// The value.
        value: u64,
        /// Index into [`ReportData::queries`].
        query: usize,
    },
    /// A link target (`id`) showing `text`.
    Anchor {
        /// The target id.
        id: String,
        /// Shown text.
        text: String,
    },
    /// A hyperlink.
    Link {
        /// Shown text.
        text: String,
        /// Target.
        href: String,
    },
}

/// A table cell: inlines.
pub type Cell = Vec<Inline>;

/// One block of a section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Block {
    /// A sub-heading.
    Heading(String),
    /// A paragraph.
    Para(Vec<Inline>),
    /// A numbered paragraph (UPR template).
    Numbered(u32, Vec<Inline>),
    /// Key figures: label and figure.
    KeyFigures(Vec<(String, Inline)>),
    /// A table.
    Table {
        /// Column headers.
        header: Vec<String>,
        /// Rows of cells.
        rows: Vec<Vec<Cell>>,
    },
    /// A chart.
    Chart(Chart),
    /// "No data for this period."
    NoData(String),
    /// A warning for the analyst (word limit exceeded…).
    Warning(String),
}

/// A numbered section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// Anchor id (`summary`, `websites`…).
    pub id: String,
    /// Title with its number.
    pub title: String,
    /// Content.
    pub blocks: Vec<Block>,
}

/// Word count of a UPR draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WordCount {
    /// Words in the numbered paragraphs and headings.
    pub words: u32,
    /// The limit from the options.
    pub limit: u32,
}

impl WordCount {
    /// Whether the draft is over the limit.
    pub fn over(&self) -> bool {
        self.words > self.limit
    }
}

/// A laid-out report, ready to typeset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Language.
    pub lang: Lang,
    /// Title.
    pub title: String,
    /// Lines under the title (period, author, date).
    pub meta: Vec<String>,
    /// Watermark text of an organisation-internal edition.
    pub watermark: Option<String>,
    /// Sections.
    pub sections: Vec<Section>,
    /// UPR word count.
    pub word_count: Option<WordCount>,
    /// SHA-256 of the gathered data and options (hex): two reports with
    /// the same hash say the same thing.
    pub content_hash: String,
    /// The queries (for figure links).
    pub queries: Vec<QueryRef>,
}

fn text(s: impl Into<String>) -> Inline {
    Inline::Text(s.into())
}

fn fig(f: &Figure) -> Inline {
    Inline::Figure {
        key: f.key.clone(),
        value: f.value,
        query: f.query,
    }
}

fn nodata(lang: Lang) -> Block {
    Block::NoData(t(lang, T::NoData).to_owned())
}

/// "No data" for a registry section: says so differently when the
/// registry holds nothing at all.
fn no_records(data: &ReportData, lang: Lang) -> Block {
    if data.registry_empty {
        Block::NoData(t(lang, T::RegistryEmpty).to_owned())
    } else {
        nodata(lang)
    }
}

/// Text with `{name}` placeholders, where a placeholder naming a figure
/// becomes that figure (linked) and others plain text.
fn rich(template: &str, figs: &[(&str, &Figure)], texts: &[(&str, &str)]) -> Vec<Inline> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        let before = &rest[..open];
        if let Some((_, f)) = figs.iter().find(|(n, _)| *n == name) {
            if !before.is_empty() {
                out.push(text(before));
            }
            out.push(fig(f));
        } else if let Some((_, v)) = texts.iter().find(|(n, _)| *n == name) {
            out.push(text(format!("{before}{v}")));
        } else {
            out.push(text(&rest[..open + close + 1]));
        }
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        out.push(text(rest));
    }
    merge_text(out)
}

fn merge_text(v: Vec<Inline>) -> Vec<Inline> {
    let mut out: Vec<Inline> = Vec::new();
    for i in v {
        match (out.last_mut(), i) {
            (Some(Inline::Text(a)), Inline::Text(b)) => a.push_str(&b),
            (_, i) => out.push(i),
        }
    }
    out
}

fn content_hash(data: &ReportData, opts: &ReportOptions) -> String {
    let mut h = Sha256::new();
    // serialising plain data with derived impls cannot fail; an error
    // would only make the hash cover less, never panic
    h.update(serde_json::to_vec(data).unwrap_or_default());
    h.update(serde_json::to_vec(opts).unwrap_or_default());
    hex::encode(h.finalize())
}

/// Lays out a report (the template and language of `opts`).
pub fn layout(data: &ReportData, opts: &ReportOptions) -> Document {
    let lang = opts.lang;
    let country = country_name(&data.country, lang);
    let (title, sections, word_count) = match opts.template {
        Template::Country => (
            tf(lang, T::Title, &[("country", &country)]),
            country_sections(data, lang),
            None,
        ),
        Template::Upr => {
            let (sections, wc) = upr_sections(data, opts, &country);
            (
                tf(lang, T::UprTitle, &[("country", &country)]),
                sections,
                Some(wc),
            )
        }
    };
    let mut meta = vec![
        format!("{}: {} – {}", t(lang, T::Period), data.from, data.to),
        format!("{}: {}", t(lang, T::PreparedBy), opts.author),
    ];
    if let Some(d) = opts.generated_on {
        meta.push(format!(
            "{}: {:04}-{:02}-{:02}",
            t(lang, T::Date),
            d.year(),
            u8::from(d.month()),
            d.day()
        ));
    }
    Document {
        lang,
        title,
        meta,
        watermark: data
            .internal_org
            .as_ref()
            .map(|org| format!("{} ({org})", t(lang, T::Watermark))),
        sections,
        word_count,
        content_hash: content_hash(data, opts),
        queries: data.queries.clone(),
    }
}

fn summary_blocks(data: &ReportData, lang: Lang) -> Vec<Block> {
    let labels = [
        ("summary.sites_tested", T::FigSitesTested),
        ("summary.sites_blocked", T::FigSitesBlocked),
        ("summary.networks_measured", T::FigNetworksMeasured),
        ("summary.networks_blocking", T::FigNetworksBlocking),
        ("summary.measurements", T::FigMeasurements),
        ("summary.blocked_measurements", T::FigBlockedMeasurements),
        ("summary.events", T::FigEvents),
        ("summary.incidents", T::FigIncidents),
        ("summary.acts", T::FigActs),
        ("summary.people_affected", T::FigPeople),
    ];
    let mut items = Vec::new();
    for (key, label) in labels {
        if let Some(f) = data.summary.iter().find(|f| f.key == key) {
            items.push((t(lang, label).to_owned(), fig(f)));
        }
    }
    let mut out = vec![Block::KeyFigures(items)];
    if !data.incidents.by_act_type.is_empty() {
        out.push(Block::Table {
            header: vec![t(lang, T::ActType).into(), t(lang, T::Count).into()],
            rows: data
                .incidents
                .by_act_type
                .iter()
                .map(|r| vec![vec![text(&r.label)], vec![fig(&r.count)]])
                .collect(),
        });
    }
    out
}

fn share(blocked: u64, tested: u64) -> f64 {
    if tested == 0 {
        0.0
    } else {
        blocked as f64 * 100.0 / tested as f64
    }
}

fn website_blocks(data: &ReportData, lang: Lang) -> Vec<Block> {
    let w = &data.websites;
    if !data.has_measurements {
        return vec![nodata(lang)];
    }
    let mut out = Vec::new();
    out.push(Block::Heading(t(lang, T::ByCategory).into()));
    if w.by_category.is_empty() {
        out.push(nodata(lang));
    } else {
        out.push(Block::Table {
            header: vec![t(lang, T::Category).into(), t(lang, T::Count).into()],
            rows: w
                .by_category
                .iter()
                .map(|r| vec![vec![text(&r.label)], vec![fig(&r.count)]])
                .collect(),
        });
    }
    out.push(Block::Heading(t(lang, T::ByIsp).into()));
    out.push(Block::Table {
        header: vec![
            t(lang, T::Network).into(),
            t(lang, T::FigMeasurements).into(),
            t(lang, T::Share).into(),
            t(lang, T::FigSitesBlocked).into(),
        ],
        rows: w
            .networks
            .iter()
            .map(|n| {
                vec![
                    vec![text(network_label(n.asn, n.name.as_deref()))],
                    vec![fig(&n.measurements)],
                    vec![text(format!(
                        "{:.1} %",
                        share(n.blocked_measurements, n.measurements.value)
                    ))],
                    vec![fig(&n.sites_blocked)],
                ]
            })
            .collect(),
    });
    out.push(Block::Chart(Chart {
        title: t(lang, T::SharePerIsp).into(),
        kind: ChartKind::Bar,
        labels: w.networks.iter().map(|n| format!("AS{}", n.asn)).collect(),
        series: vec![ChartSeries {
            name: t(lang, T::Share).into(),
            values: w
                .networks
                .iter()
                .map(|n| share(n.blocked_measurements, n.measurements.value))
                .collect(),
        }],
        percent: true,
    }));
    out.push(Block::Heading(t(lang, T::ShareOverTime).into()));
    let mut series = vec![ChartSeries {
        name: data.country.clone(),
        values: w
            .series
            .iter()
            .map(|p| share(p.blocked, p.tested))
            .collect(),
    }];
    for n in &w.network_series {
        series.push(ChartSeries {
            name: format!("AS{}", n.asn),
            values: n
                .points
                .iter()
                .map(|p| share(p.blocked, p.tested))
                .collect(),
        });
    }
    out.push(Block::Chart(Chart {
        title: t(lang, T::ShareOverTime).into(),
        kind: ChartKind::Line,
        labels: w.buckets.clone(),
        series,
        percent: true,
    }));
    out.push(Block::Heading(t(lang, T::ByMethod).into()));
    if w.by_method.is_empty() {
        out.push(nodata(lang));
    } else {
        out.push(Block::Table {
            header: vec![t(lang, T::Method).into(), t(lang, T::Count).into()],
            rows: w
                .by_method
                .iter()
                .map(|r| vec![vec![text(&r.label)], vec![fig(&r.count)]])
                .collect(),
        });
        out.push(Block::Para(vec![
            text(format!("{}: ", t(lang, T::Confirmed))),
            fig(&w.confirmed_pairs),
        ]));
    }
    out.push(Block::Heading(t(lang, T::BlockedList).into()));
    if w.blocked.is_empty() {
        out.push(nodata(lang));
    } else {
        out.push(Block::Table {
            header: vec![
                t(lang, T::Domain).into(),
                t(lang, T::Category).into(),
                t(lang, T::Network).into(),
                t(lang, T::Method).into(),
                t(lang, T::Since).into(),
                t(lang, T::Confirmed).into(),
                t(lang, T::Measurement).into(),
            ],
            rows: w
                .blocked
                .iter()
                .map(|b| {
                    vec![
                        vec![Inline::Code(b.domain.clone())],
                        vec![text(b.category.clone().unwrap_or_default())],
                        vec![text(network_label(b.asn, b.network.as_deref()))],
                        vec![text(format!(
                            "{}/{}",
                            b.layer.as_deref().unwrap_or("?"),
                            b.kind.as_deref().unwrap_or("?")
                        ))],
                        vec![text(&b.since)],
                        vec![text(if b.confirmed {
                            t(lang, T::ConfirmedYes)
                        } else {
                            t(lang, T::ConfirmedNo)
                        })],
                        vec![Inline::Code(b.measurement_id.clone())],
                    ]
                })
                .collect(),
        });
        if w.blocked_omitted > 0 {
            out.push(Block::Para(vec![text(tf(
                lang,
                T::AndMore,
                &[("n", &w.blocked_omitted.to_string())],
            ))]));
        }
    }
    out.push(Block::Heading(t(lang, T::Events).into()));
    if w.events.is_empty() {
        out.push(nodata(lang));
    } else {
        out.push(Block::Table {
            header: vec![
                t(lang, T::Domain).into(),
                t(lang, T::Network).into(),
                t(lang, T::Layer).into(),
                t(lang, T::Start).into(),
                t(lang, T::End).into(),
                t(lang, T::Confidence).into(),
                t(lang, T::FigMeasurements).into(),
            ],
            rows: w
                .events
                .iter()
                .map(|e| {
                    vec![
                        vec![Inline::Code(e.domain.clone())],
                        vec![text(format!("AS{}", e.asn))],
                        vec![text(&e.layer)],
                        vec![text(&e.start)],
                        vec![text(
                            e.end.clone().unwrap_or_else(|| t(lang, T::Ongoing).into()),
                        )],
                        vec![text(format!("{:.2}", e.confidence))],
                        vec![text(e.measurements.to_string())],
                    ]
                })
                .collect(),
        });
    }
    out
}

fn network_label(asn: u32, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("AS{asn} {n}"),
        None => format!("AS{asn}"),
    }
}

fn count_table(rows: &[CountRow], first: &str, lang: Lang) -> Block {
    Block::Table {
        header: vec![first.to_owned(), t(lang, T::Count).into()],
        rows: rows
            .iter()
            .map(|r| vec![vec![text(&r.label)], vec![fig(&r.count)]])
            .collect(),
    }
}

fn count_chart(rows: &[CountRow], title: &str) -> Block {
    Block::Chart(Chart {
        title: title.to_owned(),
        kind: ChartKind::Bar,
        labels: rows.iter().map(|r| r.code.clone()).collect(),
        series: vec![ChartSeries {
            name: title.to_owned(),
            values: rows.iter().map(|r| r.count.value as f64).collect(),
        }],
        percent: false,
    })
}

fn incident_blocks(data: &ReportData, lang: Lang) -> Vec<Block> {
    let s = &data.incidents;
    if s.incidents.is_empty() {
        return vec![no_records(data, lang)];
    }
    let mut out = vec![
        Block::Heading(t(lang, T::ActsByType).into()),
        count_table(&s.by_act_type, t(lang, T::ActType), lang),
        Block::Heading(t(lang, T::ActsByMonth).into()),
        count_table(&s.by_month, t(lang, T::Month), lang),
        count_chart(&s.by_month, t(lang, T::ActsByMonth)),
        Block::Heading(t(lang, T::ActsByLaw).into()),
    ];
    if s.by_provision.is_empty() {
        out.push(nodata(lang));
    } else {
        out.push(count_table(&s.by_provision, t(lang, T::LawProvision), lang));
        let mut rows = s.by_provision.clone();
        for r in &mut rows {
            // short code for the chart axis: the article
            r.code = short_provision(&r.label);
        }
        out.push(count_chart(&rows, t(lang, T::ActsByLaw)));
    }
    out.push(Block::Heading(t(lang, T::CaseSummaries).into()));
    for i in &s.incidents {
        let mut head = vec![Inline::Strong(i.title.clone())];
        let dates = match &i.end {
            Some(e) => format!(" ({} – {})", i.start, e),
            None => format!(" ({})", i.start),
        };
        head.push(text(dates));
        if !i.verified {
            head.push(text(format!(" [{}]", t(lang, T::Unverified))));
        }
        if let Some(r) = &i.restricted {
            head.push(text(format!(" [{}: {r}]", t(lang, T::Restricted))));
        }
        out.push(Block::Para(head));
        let mut body = vec![text(&i.summary)];
        if !i.acts.is_empty() {
            body.push(text(format!(
                " {}: {}.",
                t(lang, T::Acts),
                i.acts.join(", ")
            )));
        }
        if !i.victims.is_empty() {
            body.push(text(format!(
                " {}: {}.",
                t(lang, T::Victims),
                i.victims.join(", ")
            )));
        }
        if !i.provisions.is_empty() {
            body.push(text(format!(
                " {}: {}.",
                t(lang, T::Provisions),
                i.provisions.join(", ")
            )));
        }
        if !i.sources.is_empty() {
            body.push(text(format!(" {}: ", t(lang, T::Sources))));
            for (n, s) in i.sources.iter().enumerate() {
                if n > 0 {
                    body.push(text(", "));
                }
                body.push(Inline::Link {
                    text: s.clone(),
                    href: format!("#{s}"),
                });
            }
        }
        out.push(Block::Para(merge_text(body)));
    }
    out
}

fn short_provision(label: &str) -> String {
    // "Criminal Code — art. 437 bis" → "437 bis"
    label
        .rsplit(' ')
        .take(3)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .skip_while(|w| !w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn recommendation_blocks(data: &ReportData, lang: Lang) -> Vec<Block> {
    if data.recommendations.is_empty() {
        return vec![no_records(data, lang)];
    }
    vec![Block::Table {
        header: vec![
            t(lang, T::Citation).into(),
            t(lang, T::Text).into(),
            t(lang, T::Response).into(),
            t(lang, T::Status).into(),
            t(lang, T::Evidence).into(),
        ],
        rows: data
            .recommendations
            .iter()
            .map(|r| {
                let status = match (&r.status, &r.assessed) {
                    (Some(s), Some(d)) => match &r.note {
                        Some(n) if !n.is_empty() => format!("{s} ({d}): {n}"),
                        _ => format!("{s} ({d})"),
                    },
                    _ => t(lang, T::NotAssessed).to_owned(),
                };
                vec![
                    vec![text(&r.citation)],
                    vec![text(&r.text)],
                    vec![text(r.response.clone().unwrap_or_default())],
                    vec![text(status)],
                    r.evidence.iter().map(|e| Inline::Code(e.clone())).collect(),
                ]
            })
            .collect(),
    }]
}

fn methodology_blocks(data: &ReportData, lang: Lang) -> Vec<Block> {
    let m = &data.methodology;
    let list = |v: &[String]| {
        if v.is_empty() {
            t(lang, T::None).to_owned()
        } else {
            v.join(", ")
        }
    };
    vec![
        Block::Para(vec![text(t(lang, T::MethodIntro))]),
        Block::Para(vec![text(t(lang, T::MethodConfirm))]),
        Block::Para(vec![text(t(lang, T::MethodLimits))]),
        Block::Table {
            header: vec![String::new(), String::new()],
            rows: vec![
                vec![
                    vec![text(t(lang, T::RulesVersions))],
                    vec![text(list(&m.rules_versions))],
                ],
                vec![
                    vec![text(t(lang, T::Fingerprints))],
                    vec![text(list(&m.fingerprints))],
                ],
                vec![
                    vec![text(t(lang, T::Software))],
                    vec![text(list(&m.software))],
                ],
            ],
        },
    ]
}

fn appendix_blocks(data: &ReportData, lang: Lang) -> Vec<Block> {
    let a = &data.appendix;
    let mut out = vec![
        Block::Heading(t(lang, T::Queries).into()),
        Block::Table {
            header: vec![
                "#".into(),
                t(lang, T::Query).into(),
                t(lang, T::Parameters).into(),
            ],
            rows: data
                .queries
                .iter()
                .enumerate()
                .map(|(i, q)| {
                    let params = q
                        .params
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(" ");
                    let mut name = vec![Inline::Code(q.name.clone())];
                    if let Some(p) = q.api_path() {
                        name.push(text(" "));
                        name.push(Inline::Code(p));
                    }
                    vec![
                        vec![Inline::Anchor {
                            id: format!("q{i}"),
                            text: format!("q{i}"),
                        }],
                        name,
                        vec![text(params)],
                    ]
                })
                .collect(),
        },
        Block::Heading(t(lang, T::MeasurementIds).into()),
    ];
    if a.measurement_ids.is_empty() {
        out.push(nodata(lang));
    } else {
        let mut ids: Vec<Inline> = Vec::new();
        for (n, id) in a.measurement_ids.iter().enumerate() {
            if n > 0 {
                ids.push(text(" · "));
            }
            ids.push(Inline::Code(id.clone()));
        }
        if a.measurement_ids_omitted > 0 {
            ids.push(text(format!(
                " {}",
                tf(
                    lang,
                    T::AndMore,
                    &[("n", &a.measurement_ids_omitted.to_string())]
                )
            )));
        }
        out.push(Block::Para(ids));
    }
    out.push(Block::Heading(t(lang, T::EvidenceItems).into()));
    if a.evidence.is_empty() {
        out.push(nodata(lang));
    } else {
        out.push(Block::Table {
            header: vec!["id".into(), "SHA-256".into(), "type".into()],
            rows: a
                .evidence
                .iter()
                .map(|e| {
                    vec![
                        vec![Inline::Code(e.id.clone())],
                        vec![Inline::Code(e.sha256.clone())],
                        vec![text(format!("{}, {} B", e.media_type, e.size))],
                    ]
                })
                .collect(),
        });
    }
    out.push(Block::Heading(t(lang, T::Sources).into()));
    if a.sources.is_empty() {
        out.push(nodata(lang));
    } else {
        out.push(Block::Table {
            header: vec!["id".into(), t(lang, T::Sources).into()],
            rows: a
                .sources
                .iter()
                .map(|s| {
                    let mut cell = vec![text(&s.publication)];
                    if let Some(title) = &s.title {
                        cell.push(text(format!(", “{title}”")));
                    }
                    if let Some(p) = &s.published {
                        cell.push(text(format!(", {p}")));
                    }
                    if let Some(u) = &s.url {
                        cell.push(text(", "));
                        cell.push(Inline::Link {
                            text: u.clone(),
                            href: u.clone(),
                        });
                    }
                    vec![
                        vec![Inline::Anchor {
                            id: s.id.clone(),
                            text: s.id.clone(),
                        }],
                        merge_text(cell),
                    ]
                })
                .collect(),
        });
    }
    out
}

fn country_sections(data: &ReportData, lang: Lang) -> Vec<Section> {
    let s = |id: &str, n: u32, title: T, blocks: Vec<Block>| Section {
        id: id.to_owned(),
        title: format!("{n}. {}", t(lang, title)),
        blocks,
    };
    vec![
        s("summary", 1, T::Summary, summary_blocks(data, lang)),
        s("websites", 2, T::Websites, website_blocks(data, lang)),
        s("incidents", 3, T::Incidents, incident_blocks(data, lang)),
        s(
            "recommendations",
            4,
            T::Recommendations,
            recommendation_blocks(data, lang),
        ),
        s(
            "methodology",
            5,
            T::Methodology,
            methodology_blocks(data, lang),
        ),
        s("appendix", 6, T::Appendix, appendix_blocks(data, lang)),
    ]
}

/// Words in `s`: runs separated by whitespace that contain a letter or digit.
pub fn count_words(s: &str) -> u32 {
    s.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count() as u32
}

fn inline_text(v: &[Inline]) -> String {
    v.iter()
        .map(|i| match i {
            Inline::Text(s) | Inline::Strong(s) | Inline::Code(s) => s.clone(),
            Inline::Figure { value, .. } => value.to_string(),
            Inline::Link { text, .. } | Inline::Anchor { text, .. } => text.clone(),
        })
        .collect()
}

fn upr_sections(
    data: &ReportData,
    opts: &ReportOptions,
    country: &str,
) -> (Vec<Section>, WordCount) {
    let lang = opts.lang;
    let f = |key: &str| {
        data.figure(key).cloned().unwrap_or(Figure {
            key: key.to_owned(),
            value: 0,
            query: 0,
        })
    };
    let mut n = 0u32;
    let mut para = |inl: Vec<Inline>| {
        n += 1;
        Block::Numbered(n, inl)
    };
    let mut sections = Vec::new();
    let intro = vec![
        para(vec![text(tf(
            lang,
            T::UprIntroText,
            &[
                ("author", &opts.author),
                ("country", country),
                ("from", &data.from),
                ("to", &data.to),
            ],
        ))]),
        Block::Para(vec![
            Inline::Strong(format!("{}: ", t(lang, T::KeyWords))),
            text(t(lang, T::KeyWordsList)),
        ]),
    ];
    sections.push(("intro", T::UprIntro, intro));

    let mut blocking = Vec::new();
    if data.has_measurements {
        let (tested, blocked, isps, networks, confirmed) = (
            f("summary.sites_tested"),
            f("summary.sites_blocked"),
            f("summary.networks_blocking"),
            f("summary.networks_measured"),
            data.websites.confirmed_pairs.clone(),
        );
        blocking.push(para(rich(
            t(lang, T::UprBlockingText),
            &[
                ("tested", &tested),
                ("blocked", &blocked),
                ("isps", &isps),
                ("networks", &networks),
                ("confirmed", &confirmed),
            ],
            &[],
        )));
        if !data.websites.by_category.is_empty() {
            let cats: Vec<Inline> = data
                .websites
                .by_category
                .iter()
                .enumerate()
                .flat_map(|(i, r)| {
                    let mut v = Vec::new();
                    if i > 0 {
                        v.push(text("; "));
                    }
                    v.push(text(format!("{}: ", r.label)));
                    v.push(fig(&r.count));
                    v
                })
                .collect();
            blocking.push(para(merge_text(cats)));
        }
    } else {
        blocking.push(para(vec![text(t(lang, T::UprNoBlocking))]));
    }
    sections.push(("blocking", T::UprBlocking, blocking));

    let mut acts = Vec::new();
    if data.incidents.incidents.is_empty() {
        acts.push(no_records(data, lang));
    } else {
        acts.push(para(rich(
            t(lang, T::UprActsText),
            &[
                ("incidents", &f("summary.incidents")),
                ("acts", &f("summary.acts")),
                ("people", &f("summary.people_affected")),
            ],
            &[],
        )));
        for i in &data.incidents.incidents {
            let mut v = vec![
                Inline::Strong(format!("{} ({}). ", i.title, i.start)),
                text(&i.summary),
            ];
            if !i.provisions.is_empty() {
                v.push(text(format!(
                    " {}: {}.",
                    t(lang, T::Provisions),
                    i.provisions.join(", ")
                )));
            }
            acts.push(para(v));
        }
    }
    sections.push(("acts", T::UprActs, acts));

    let mut prev = Vec::new();
    let recs: Vec<&RecommendationRow> = data
        .recommendations
        .iter()
        .filter(|r| r.kind == "recommendation")
        .collect();
    if recs.is_empty() {
        prev.push(no_records(data, lang));
    }
    for r in &recs {
        let status = match (&r.status, &r.assessed) {
            (Some(s), Some(d)) => format!("{s} ({d})"),
            _ => t(lang, T::NotAssessed).to_owned(),
        };
        prev.push(para(vec![text(tf(
            lang,
            T::UprPreviousText,
            &[
                ("paragraph", r.paragraph.as_deref().unwrap_or("")),
                ("symbol", r.symbol.as_deref().unwrap_or("")),
                ("states", &r.states.join(", ")),
                ("text", &r.text),
                ("response", r.response.as_deref().unwrap_or("–")),
                ("status", &status),
            ],
        ))]));
    }
    sections.push(("previous", T::UprPrevious, prev));

    let mut own = Vec::new();
    for r in recs
        .iter()
        .filter(|r| r.status_code.as_deref() != Some("fully_implemented"))
    {
        own.push(para(vec![text(tf(
            lang,
            T::UprRecText,
            &[
                ("paragraph", r.paragraph.as_deref().unwrap_or("")),
                ("symbol", r.symbol.as_deref().unwrap_or("")),
            ],
        ))]));
    }
    let blocked = f("summary.sites_blocked");
    if blocked.value > 0 {
        own.push(para(rich(
            t(lang, T::UprRecUnblock),
            &[("blocked", &blocked)],
            &[],
        )));
    }
    if !data.incidents.by_provision.is_empty() {
        let provs: Vec<String> = data
            .incidents
            .by_provision
            .iter()
            .map(|r| r.label.clone())
            .collect();
        own.push(para(vec![text(tf(
            lang,
            T::UprRecLaws,
            &[("provisions", &provs.join("; "))],
        ))]));
    }
    if own.is_empty() {
        own.push(nodata(lang));
    }
    sections.push(("recommendations", T::UprRecs, own));

    let mut out: Vec<Section> = sections
        .into_iter()
        .enumerate()
        .map(|(i, (id, title, blocks))| Section {
            id: id.to_owned(),
            title: format!("{}. {}", roman(i + 1), t(lang, title)),
            blocks,
        })
        .collect();
    let mut words = 0;
    for s in &out {
        words += count_words(&s.title);
        for b in &s.blocks {
            if let Block::Numbered(_, v) | Block::Para(v) = b {
                words += count_words(&inline_text(v));
            }
        }
    }
    let wc = WordCount {
        words,
        limit: opts.word_limit,
    };
    let mut head = vec![Block::Para(vec![Inline::Strong(tf(
        lang,
        T::WordCount,
        &[
            ("n", &words.to_string()),
            ("limit", &opts.word_limit.to_string()),
        ],
    ))])];
    if lang == Lang::Km {
        head.push(Block::Para(vec![text(t(lang, T::WordCountKm))]));
    }
    if wc.over() {
        head.push(Block::Warning(tf(
            lang,
            T::OverLimit,
            &[("n", &(words - opts.word_limit).to_string())],
        )));
    }
    if let Some(first) = out.first_mut() {
        head.append(&mut first.blocks);
        first.blocks = head;
    }
    out.push(Section {
        id: "appendix".into(),
        title: t(lang, T::Annex).into(),
        blocks: appendix_blocks(data, lang),
    });
    (out, wc)
}

fn roman(n: usize) -> &'static str {
    ["I", "II", "III", "IV", "V", "VI", "VII", "VIII"]
        .get(n.saturating_sub(1))
        .copied()
        .unwrap_or("X")
}
