//! [`gather`]: asks the store and the registry every question a report
//! answers, and keeps each answer with its question.

use std::collections::{BTreeMap, BTreeSet};

use canary_registry::{ActType, Dataset, Implementation, Principal, RecResponse, Role};
use canary_store::{Filters, Outcome, Selection, Store, MAX_PAGE};
use time::{Date, Month};
use tracing::{debug, warn};

use crate::data::*;
use crate::error::ReportError;
use crate::i18n::{category_label, method_label};
use crate::options::{Edition, ReportOptions};

/// Most (domain, network) rows listed in the blocked-sites table.
pub const MAX_BLOCKED_ROWS: usize = 500;
/// Most distinct blocked domains whose category is looked up.
pub const MAX_CATEGORY_LOOKUPS: usize = 2000;
/// Most networks drawn in the per-network chart.
pub const MAX_CHART_NETWORKS: usize = 8;
/// Most measurement ids listed in the appendix.
pub const MAX_APPENDIX_IDS: usize = 2000;

struct Queries(Vec<QueryRef>);

impl Queries {
    fn add(&mut self, q: QueryRef) -> usize {
        if let Some(i) = self.0.iter().position(|x| *x == q) {
            return i;
        }
        self.0.push(q);
        self.0.len() - 1
    }
}

fn day(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn month(d: Date) -> String {
    format!("{:04}-{:02}", d.year(), u8::from(d.month()))
}

/// Gathers a report: validates `options` (see
/// [`ReportOptions::validate`]), asks `store` for the website figures of
/// `options.country` over the period, and takes from `registry` the
/// records the edition may show (public: published records only, as an
/// anonymous reader sees them; internal: what the organisation may read).
///
/// Every figure keeps the query that produced it. An empty period is not
/// an error: the data says so ([`ReportData::is_empty`], `warnings`) and
/// the rendered sections say "no data".
pub async fn gather(
    store: &Store,
    registry: &Dataset,
    options: &ReportOptions,
) -> Result<ReportData, ReportError> {
    let mut opts = options.clone();
    opts.validate()?;
    let cc = opts.country.clone();
    let lang = opts.lang;
    let (from, to) = (opts.from_instant(), opts.to_instant_exclusive());
    let filters = Filters {
        from: Some(from),
        to: Some(to),
        ..Filters::default()
    };
    let base_params = || {
        vec![
            ("country", cc.clone()),
            ("from", day(opts.from)),
            ("to", day(opts.to)),
        ]
    };
    let mut queries = Queries(Vec::new());
    let mut warnings = Vec::new();

    // --- store: summary, blocked list, series, events ---
    let summary = store
        .country_summary(&cc, &filters)
        .await
        .map_err(ReportError::store("country_summary"))?;
    let q_summary = queries.add(QueryRef::new("store.country_summary", base_params()));
    let blocked = store
        .blocked_now(&cc, &filters)
        .await
        .map_err(ReportError::store("blocked_now"))?;
    let q_blocked = queries.add(QueryRef::new("store.blocked_now", base_params()));
    let has_measurements = summary.measurements > 0;
    if !has_measurements {
        warnings.push(format!(
            "the store has no measurements from {cc} between {} and {}",
            day(opts.from),
            day(opts.to)
        ));
    }

    // categories of the blocked domains (latest measurement in the period)
    let domains: BTreeSet<&str> = blocked.iter().map(|b| b.domain.as_str()).collect();
    let mut category_of: BTreeMap<String, Option<String>> = BTreeMap::new();
    for d in domains.iter().take(MAX_CATEGORY_LOOKUPS) {
        let sel = Selection {
            country: Some(cc.clone()),
            domain: Some((*d).to_owned()),
            from: Some(from),
            to: Some(to),
            ..Selection::default()
        };
        let latest = store
            .list_measurements(&sel, 1, 0)
            .await
            .map_err(ReportError::store("list_measurements"))?;
        category_of.insert(
            (*d).to_owned(),
            latest.into_iter().next().and_then(|m| m.category_code),
        );
    }
    if domains.len() > MAX_CATEGORY_LOOKUPS {
        warnings.push(format!(
            "{} blocked domains: categories looked up for the first {MAX_CATEGORY_LOOKUPS}",
            domains.len()
        ));
    }
    let categories: BTreeSet<String> = category_of.values().flatten().cloned().collect();
    let mut by_category = Vec::new();
    for c in &categories {
        let f = Filters {
            category: Some(c.clone()),
            ..filters.clone()
        };
        let rows = store
            .blocked_now(&cc, &f)
            .await
            .map_err(ReportError::store("blocked_now"))?;
        let n = rows
            .iter()
            .map(|r| r.domain.as_str())
            .collect::<BTreeSet<_>>()
            .len() as u64;
        let mut params = base_params();
        params.push(("category", c.clone()));
        let q = queries.add(QueryRef::new("store.blocked_now", params));
        by_category.push(CountRow {
            code: c.clone(),
            label: category_label(c, lang),
            count: Figure {
                key: format!("websites.category.{c}"),
                value: n,
                query: q,
            },
        });
    }
    by_category.sort_by(|a, b| b.count.value.cmp(&a.count.value).then(a.code.cmp(&b.code)));

    let mut methods: BTreeMap<(String, String), u64> = BTreeMap::new();
    for b in &blocked {
        let key = (
            b.layer.clone().unwrap_or_default(),
            b.kind.clone().unwrap_or_default(),
        );
        *methods.entry(key).or_default() += 1;
    }
    let mut by_method: Vec<CountRow> = methods
        .into_iter()
        .map(|((layer, kind), n)| CountRow {
            code: format!("{layer}/{kind}"),
            label: method_label(&layer, &kind, lang),
            count: Figure {
                key: format!("websites.method.{layer}/{kind}"),
                value: n,
                query: q_blocked,
            },
        })
        .collect();
    by_method.sort_by(|a, b| b.count.value.cmp(&a.count.value).then(a.code.cmp(&b.code)));

    let confirmed_pairs = Figure {
        key: "websites.confirmed_pairs".into(),
        value: blocked.iter().filter(|b| b.confirmed).count() as u64,
        query: q_blocked,
    };
    let blocked_rows: Vec<BlockedRow> = blocked
        .iter()
        .take(MAX_BLOCKED_ROWS)
        .map(|b| BlockedRow {
            domain: b.domain.clone(),
            category: category_of.get(&b.domain).cloned().flatten(),
            asn: b.asn,
            network: b.network_name.clone(),
            layer: b.layer.clone(),
            kind: b.kind.clone(),
            since: day(b.since.date()),
            confirmed: b.confirmed,
            measurement_id: b.last_measurement_id.clone(),
        })
        .collect();
    let blocked_omitted = blocked.len().saturating_sub(MAX_BLOCKED_ROWS);

    // per network (blocked measurements per network from its series)
    let mut networks = Vec::new();
    for n in &summary.networks {
        let mut params = base_params();
        params.push(("asn", n.asn.to_string()));
        networks.push(NetworkRow {
            asn: n.asn,
            name: n.name.clone(),
            measurements: Figure {
                key: format!("websites.network.AS{}.measurements", n.asn),
                value: n.measurements,
                query: q_summary,
            },
            sites_blocked: Figure {
                key: format!("websites.network.AS{}.sites_blocked", n.asn),
                value: n.sites_blocked,
                query: q_summary,
            },
            blocked_measurements: 0,
        });
    }

    // series: daily up to 92 days, else monthly
    let span = (opts.to - opts.from).whole_days() + 1;
    let monthly = span > 92;
    let buckets = bucket_labels(opts.from, opts.to, monthly);
    let bucket_of = |d: Date| if monthly { month(d) } else { day(d) };
    let fold = |points: &[canary_store::SharePoint]| -> Vec<SeriesPoint> {
        let mut acc: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for p in points {
            let e = acc.entry(bucket_of(p.day)).or_default();
            e.0 += p.tested;
            e.1 += p.blocked;
        }
        buckets
            .iter()
            .map(|b| {
                let (tested, blocked) = acc.get(b).copied().unwrap_or_default();
                SeriesPoint {
                    label: b.clone(),
                    tested,
                    blocked,
                }
            })
            .collect()
    };
    let country_series = store
        .blocked_share_series(&cc, &filters)
        .await
        .map_err(ReportError::store("blocked_share_series"))?;
    queries.add(QueryRef::new("store.blocked_share_series", base_params()));
    let series = fold(&country_series);
    let mut network_series = Vec::new();
    for n in networks.iter_mut() {
        let f = Filters {
            asn: Some(n.asn),
            ..filters.clone()
        };
        let points = store
            .blocked_share_series(&cc, &f)
            .await
            .map_err(ReportError::store("blocked_share_series"))?;
        n.blocked_measurements = points.iter().map(|p| p.blocked).sum();
        if network_series.len() < MAX_CHART_NETWORKS {
            network_series.push(NetworkSeries {
                asn: n.asn,
                name: n.name.clone(),
                points: fold(&points),
            });
        }
    }

    let events = store
        .events(
            &Selection {
                country: Some(cc.clone()),
                from: Some(from),
                to: Some(to),
                ..Selection::default()
            },
            MAX_PAGE,
        )
        .await
        .map_err(ReportError::store("events"))?;
    let q_events = queries.add(QueryRef::new("store.events", base_params()));
    if events.len() >= MAX_PAGE as usize {
        warnings.push(format!(
            "more than {MAX_PAGE} blocking events: the newest {MAX_PAGE} are listed"
        ));
    }
    let mut event_rows: Vec<EventRow> = events
        .iter()
        .map(|e| EventRow {
            domain: e.domain.clone(),
            asn: e.asn,
            layer: e.layer.clone(),
            start: day(e.start.date()),
            end: e.end.map(|t| day(t.date())),
            confidence: e.confidence,
            measurements: e.measurement_ids.len(),
        })
        .collect();
    event_rows.sort_by(|a, b| {
        (&a.start, &a.domain, a.asn, &a.layer).cmp(&(&b.start, &b.domain, b.asn, &b.layer))
    });

    // methodology: what the blocked verdicts were made with
    let blocked_page = store
        .list_measurements(
            &Selection {
                country: Some(cc.clone()),
                outcome: Some(Outcome::Blocked),
                from: Some(from),
                to: Some(to),
                ..Selection::default()
            },
            MAX_PAGE,
            0,
        )
        .await
        .map_err(ReportError::store("list_measurements"))?;
    let any_page = store
        .list_measurements(
            &Selection {
                country: Some(cc.clone()),
                from: Some(from),
                to: Some(to),
                ..Selection::default()
            },
            MAX_PAGE,
            0,
        )
        .await
        .map_err(ReportError::store("list_measurements"))?;
    let methodology = Methodology {
        rules_versions: any_page
            .iter()
            .map(|m| m.verdict.rules_version.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        fingerprints: blocked_page
            .iter()
            .filter_map(|m| m.verdict.fingerprint.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        software: any_page
            .iter()
            .filter_map(|m| {
                m.software_name.as_ref().map(|n| match &m.software_version {
                    Some(v) => format!("{n} {v}"),
                    None => n.clone(),
                })
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    };

    // --- registry ---
    let principal = match &opts.edition {
        Edition::Public => Principal::Anonymous,
        Edition::OrgInternal(org) => Principal::user("report", org.clone(), Role::Viewer),
    };
    let view = registry.view_for(&principal);
    let edition_name = match &opts.edition {
        Edition::Public => "public".to_owned(),
        Edition::OrgInternal(org) => format!("internal:{org}"),
    };
    let mut reg_params = base_params();
    reg_params.push(("edition", edition_name));
    let q_incidents = queries.add(QueryRef::new("registry.incidents", reg_params.clone()));
    let q_acts = queries.add(QueryRef::new("registry.acts", reg_params.clone()));
    let q_invocations = queries.add(QueryRef::new("registry.invocations", reg_params.clone()));
    let incidents = gather_incidents(&view, &opts, q_acts, q_invocations);
    let recommendations = gather_recommendations(&view, &opts);
    let incident_ids: BTreeSet<&str> = incidents.0.iter().map(|i| i.id.as_str()).collect();
    let act_ids: BTreeSet<&str> = view
        .acts
        .iter()
        .filter(|a| incident_ids.contains(a.incident_id.as_str()))
        .map(|a| a.id.as_str())
        .collect();

    // --- summary ---
    let fig = |key: &str, value: u64, query: usize| Figure {
        key: format!("summary.{key}"),
        value,
        query,
    };
    let networks_blocking = summary
        .networks
        .iter()
        .filter(|n| n.sites_blocked > 0)
        .count();
    let summary_figs = vec![
        fig("sites_tested", summary.sites_tested, q_summary),
        fig("sites_blocked", summary.sites_blocked, q_summary),
        fig(
            "networks_measured",
            summary.networks.len() as u64,
            q_summary,
        ),
        fig("networks_blocking", networks_blocking as u64, q_summary),
        fig("measurements", summary.measurements, q_summary),
        fig(
            "blocked_measurements",
            summary.blocked_measurements,
            q_summary,
        ),
        fig("events", event_rows.len() as u64, q_events),
        fig("incidents", incidents.0.len() as u64, q_incidents),
        fig("acts", act_ids.len() as u64, q_acts),
        fig("people_affected", incidents.1, q_acts),
    ];

    // --- appendix ---
    let mut ids: BTreeSet<String> = blocked
        .iter()
        .map(|b| b.last_measurement_id.clone())
        .collect();
    for e in &events {
        ids.extend(e.measurement_ids.iter().cloned());
    }
    let measurement_ids_omitted = ids.len().saturating_sub(MAX_APPENDIX_IDS);
    let measurement_ids: Vec<String> = ids.into_iter().take(MAX_APPENDIX_IDS).collect();
    let mut cited: BTreeSet<&str> = incident_ids.clone();
    cited.extend(act_ids.iter().copied());
    cited.extend(recommendations.iter().map(|r| r.id.as_str()));
    let evidence: Vec<EvidenceRow> = view
        .evidence
        .iter()
        .filter(|e| e.linked_ids.iter().any(|l| cited.contains(l.as_str())))
        .map(|e| EvidenceRow {
            id: e.meta.id.clone(),
            sha256: e.sha256.clone(),
            media_type: e.media_type.clone(),
            size: e.size,
            linked: e.linked_ids.clone(),
        })
        .collect();
    let source_ids: BTreeSet<&str> = view
        .citations
        .iter()
        .filter(|c| cited.contains(c.record_id.as_str()))
        .map(|c| c.source_id.as_str())
        .chain(
            incidents
                .0
                .iter()
                .flat_map(|i| i.sources.iter().map(String::as_str)),
        )
        .collect();
    let sources: Vec<SourceRow> = view
        .sources
        .iter()
        .filter(|s| source_ids.contains(s.meta.id.as_str()))
        .map(|s| SourceRow {
            id: s.meta.id.clone(),
            publication: s.publication.clone(),
            title: s.title.clone(),
            url: s.url.clone(),
            published: s.published.map(|d| d.to_string()),
        })
        .collect();

    let registry_empty = registry.is_empty();
    if registry_empty {
        warnings.push(
            "the registry holds no records: incidents and recommendations are not documented \
             (load a dataset, e.g. `canary seed kh`)"
                .to_owned(),
        );
    } else if incidents.0.is_empty() {
        warnings.push(format!(
            "the registry has no {} incidents in {cc} in the period",
            if principal == Principal::Anonymous {
                "published"
            } else {
                "visible"
            }
        ));
    }
    debug!(
        country = %cc,
        measurements = summary.measurements,
        blocked_pairs = blocked.len(),
        incidents = incidents.0.len(),
        "report gathered"
    );
    for w in &warnings {
        warn!(country = %cc, "{w}");
    }
    Ok(ReportData {
        country: cc.clone(),
        from: day(opts.from),
        to: day(opts.to),
        queries: queries.0,
        summary: summary_figs,
        websites: WebsiteSection {
            blocked: blocked_rows,
            blocked_omitted,
            by_category,
            by_method,
            networks,
            buckets,
            monthly,
            series,
            network_series,
            events: event_rows,
            confirmed_pairs,
        },
        incidents: incidents.0.into_incident_section(incidents.2),
        recommendations,
        methodology,
        appendix: Appendix {
            measurement_ids,
            measurement_ids_omitted,
            evidence,
            sources,
        },
        has_measurements,
        registry_empty,
        warnings,
        internal_org: match &opts.edition {
            Edition::Public => None,
            Edition::OrgInternal(org) => Some(org.clone()),
        },
    })
}

fn bucket_labels(from: Date, to: Date, monthly: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut d = from;
    if monthly {
        let mut y = from.year();
        let mut m = u8::from(from.month());
        loop {
            let label = format!("{y:04}-{m:02}");
            if Month::try_from(m).is_err() {
                break;
            }
            out.push(label);
            if (y, m) >= (to.year(), u8::from(to.month())) {
                break;
            }
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
        }
    } else {
        while d <= to {
            out.push(day(d));
            match d.next_day() {
                Some(n) => d = n,
                None => break,
            }
        }
    }
    out
}

/// Incident rows, the counts by act type / month / provision, the people
/// affected (Person victims visible in the view, plus one per incident
/// whose person-directed acts have no visible victim).
type Incidents = (Vec<IncidentRow>, u64, Counts);

struct Counts {
    by_type: Vec<CountRow>,
    by_month: Vec<CountRow>,
    by_provision: Vec<CountRow>,
}

trait IntoSection {
    fn into_incident_section(self, c: Counts) -> IncidentSection;
}

impl IntoSection for Vec<IncidentRow> {
    fn into_incident_section(self, c: Counts) -> IncidentSection {
        IncidentSection {
            incidents: self,
            by_act_type: c.by_type,
            by_month: c.by_month,
            by_provision: c.by_provision,
        }
    }
}

fn person_directed(t: ActType) -> bool {
    use ActType::*;
    matches!(
        t,
        Arrest
            | Summons
            | Charge
            | PretrialDetention
            | Conviction
            | Fine
            | ThreatHarassment
            | PhysicalAttack
    )
}

fn gather_incidents(
    view: &Dataset,
    opts: &ReportOptions,
    q_acts: usize,
    q_invocations: usize,
) -> Incidents {
    let lang = opts.lang;
    let in_period = |start: Date, end: Date| start <= opts.to && end >= opts.from;
    let mut chosen: Vec<&canary_registry::Incident> = view
        .incidents
        .iter()
        .filter(|i| i.place.country.eq_ignore_ascii_case(&opts.country))
        .filter(|i| {
            let start = i.start.date();
            let end = i.end.map_or(start, |e| e.date());
            in_period(start, end)
        })
        .collect();
    chosen.sort_by(|a, b| (a.start, &a.meta.id).cmp(&(b.start, &b.meta.id)));
    let ids: BTreeSet<&str> = chosen.iter().map(|i| i.meta.id.as_str()).collect();
    let acts: Vec<&canary_registry::Act> = view
        .acts
        .iter()
        .filter(|a| ids.contains(a.incident_id.as_str()))
        .collect();
    let actor = |id: &str| view.actors.iter().find(|a| a.meta.id == id);
    let provision = |id: &str| view.provisions.iter().find(|p| p.meta.id == id);
    let law = |id: &str| view.laws.iter().find(|l| l.meta.id == id);
    let provision_label = |pid: &str| -> Option<(String, String)> {
        let p = provision(pid)?;
        let l = law(&p.law_id)?;
        let art = match lang {
            crate::Lang::En => "art.",
            crate::Lang::Km => "មាត្រា",
        };
        Some((
            format!("{} {art} {}", l.code, p.article),
            format!("{} — {art} {}", l.name_en, p.article),
        ))
    };

    let mut by_type: BTreeMap<ActType, u64> = BTreeMap::new();
    let mut by_month: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_provision: BTreeMap<String, (String, BTreeSet<&str>)> = BTreeMap::new();
    let mut people: BTreeSet<&str> = BTreeSet::new();
    let mut unnamed_people = 0u64;
    let mut rows = Vec::new();
    for inc in &chosen {
        let my_acts: Vec<&&canary_registry::Act> = acts
            .iter()
            .filter(|a| a.incident_id == inc.meta.id)
            .collect();
        let mut victims: BTreeSet<String> = BTreeSet::new();
        let mut unnamed_here = false;
        let mut provisions: BTreeSet<String> = BTreeSet::new();
        let mut types: Vec<String> = Vec::new();
        for a in &my_acts {
            *by_type.entry(a.act_type).or_default() += 1;
            let when = a.date.unwrap_or(inc.start);
            let m = match when.precision() {
                canary_registry::DatePrecision::Year => format!("{:04}", when.date().year()),
                _ => month(when.date()),
            };
            *by_month.entry(m).or_default() += 1;
            let label = a.act_type.label(lang.code()).to_owned();
            if !types.contains(&label) {
                types.push(label);
            }
            match a.victim_id.as_deref().and_then(actor) {
                Some(v) => {
                    victims.insert(match (lang, &v.name_km) {
                        (crate::Lang::Km, Some(km)) => km.clone(),
                        _ => v.name.clone(),
                    });
                    if v.kind == canary_registry::ActorKind::Person {
                        people.insert(v.meta.id.as_str());
                    }
                }
                None if person_directed(a.act_type) => unnamed_here = true,
                None => {}
            }
            for inv in view.invocations.iter().filter(|i| i.act_id == a.id) {
                if let Some((short, long)) = provision_label(&inv.provision_id) {
                    provisions.insert(short.clone());
                    by_provision
                        .entry(inv.provision_id.clone())
                        .or_insert_with(|| (long, BTreeSet::new()))
                        .1
                        .insert(a.id.as_str());
                }
            }
        }
        if unnamed_here {
            unnamed_people += 1;
        }
        let restricted = if inc.meta.is_public() {
            None
        } else {
            Some(format!(
                "{} / {}{}",
                inc.meta.visibility.label(lang.code()),
                inc.meta.status.label(lang.code()),
                if inc.meta.confidential {
                    " / confidential"
                } else {
                    ""
                }
            ))
        };
        rows.push(IncidentRow {
            id: inc.meta.id.clone(),
            title: match (lang, &inc.title_km) {
                (crate::Lang::Km, Some(km)) => km.clone(),
                _ => inc.title.clone(),
            },
            summary: inc.summary.clone(),
            start: inc.start.to_string(),
            end: inc.end.map(|e| e.to_string()),
            acts: types,
            victims: victims.into_iter().collect(),
            provisions: provisions.into_iter().collect(),
            sources: view
                .citations
                .iter()
                .filter(|c| c.record_id == inc.meta.id)
                .map(|c| c.source_id.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            verified: inc.verified,
            restricted,
        });
    }
    let counts = Counts {
        by_type: by_type
            .into_iter()
            .map(|(t, n)| CountRow {
                code: t.as_str().to_owned(),
                label: t.label(lang.code()).to_owned(),
                count: Figure {
                    key: format!("incidents.act_type.{}", t.as_str()),
                    value: n,
                    query: q_acts,
                },
            })
            .collect(),
        by_month: by_month
            .into_iter()
            .map(|(m, n)| CountRow {
                code: m.clone(),
                label: m.clone(),
                count: Figure {
                    key: format!("incidents.month.{m}"),
                    value: n,
                    query: q_acts,
                },
            })
            .collect(),
        by_provision: {
            let mut v: Vec<CountRow> = by_provision
                .into_iter()
                .map(|(pid, (label, acts))| CountRow {
                    count: Figure {
                        key: format!("incidents.provision.{pid}"),
                        value: acts.len() as u64,
                        query: q_invocations,
                    },
                    code: pid,
                    label,
                })
                .collect();
            v.sort_by(|a, b| b.count.value.cmp(&a.count.value).then(a.code.cmp(&b.code)));
            v
        },
    };
    (rows, people.len() as u64 + unnamed_people, counts)
}

fn gather_recommendations(view: &Dataset, opts: &ReportOptions) -> Vec<RecommendationRow> {
    let lang = opts.lang.code();
    let latest = |target: &str| {
        view.assessments
            .iter()
            .filter(|a| a.target_id == target && a.date.date() <= opts.to)
            .max_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)))
    };
    let mut out = Vec::new();
    let mut recs: Vec<&canary_registry::Recommendation> = view.recommendations.iter().collect();
    recs.sort_by(|a, b| {
        (&a.document_symbol, &a.paragraph, &a.meta.id).cmp(&(
            &b.document_symbol,
            &b.paragraph,
            &b.meta.id,
        ))
    });
    for r in recs {
        let a = latest(&r.meta.id);
        out.push(RecommendationRow {
            id: r.meta.id.clone(),
            kind: "recommendation".into(),
            citation: format!("{}, para. {}", r.document_symbol, r.paragraph),
            symbol: Some(r.document_symbol.clone()),
            paragraph: Some(r.paragraph.clone()),
            states: r.recommending_states.clone(),
            text: r.text.clone(),
            response: r.response.map(|x: RecResponse| x.label(lang).to_owned()),
            status: a.map(|a| a.status.label(lang).to_owned()),
            status_code: a.map(|a| a.status.as_str().to_owned()),
            assessed: a.map(|a| a.date.to_string()),
            note: a.map(|a| a.note.clone()),
            evidence: a.map(|a| a.evidence_ids.clone()).unwrap_or_default(),
        });
    }
    let mut bms: Vec<&canary_registry::Benchmark> = view.benchmarks.iter().collect();
    bms.sort_by(|a, b| a.meta.id.cmp(&b.meta.id));
    for b in bms {
        let a = latest(&b.meta.id);
        out.push(RecommendationRow {
            id: b.meta.id.clone(),
            kind: "benchmark".into(),
            citation: b.source_document.clone(),
            symbol: None,
            paragraph: None,
            states: Vec::new(),
            text: b.text.clone(),
            response: None,
            status: a.map(|a| a.status.label(lang).to_owned()),
            status_code: a.map(|a: &canary_registry::Assessment| {
                let s: Implementation = a.status;
                s.as_str().to_owned()
            }),
            assessed: a.map(|a| a.date.to_string()),
            note: a.map(|a| a.note.clone()),
            evidence: a.map(|a| a.evidence_ids.clone()).unwrap_or_default(),
        });
    }
    out
}
