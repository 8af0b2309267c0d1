//! The direct answer of the store and the registry to the question behind
//! each figure of a report, asked without the report crate: the
//! specification every rendered number is checked against. Shared by this
//! crate's tests and the binary's (`crates/canary/tests/report_lab.rs`
//! includes this file by path).

#![allow(dead_code)]

use std::collections::BTreeSet;

use canary_registry::{Dataset, Principal};
use canary_report::ReportOptions;
use canary_store::{Filters, Selection, Store};

/// `data-figure="KEY" …>VALUE<` pairs of a rendered report.
pub fn html_figures(html: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("data-figure=\"") {
        rest = &rest[i + 13..];
        let end = rest.find('"').expect("closing quote");
        let key = rest[..end].to_owned();
        let gt = rest.find('>').expect("tag end");
        let lt = rest[gt..].find('<').expect("text end") + gt;
        let value: u64 = rest[gt + 1..lt].parse().expect("a figure is an integer");
        out.push((key, value));
        rest = &rest[lt..];
    }
    out
}

/// The store's and the registry's answer to the question behind `key`,
/// asked directly (not through the report crate).
pub async fn expected(store: &Store, reg: &Dataset, o: &ReportOptions, key: &str) -> u64 {
    let from = o.from.with_hms(0, 0, 0).unwrap().assume_utc();
    let to =
        o.to.next_day()
            .unwrap()
            .with_hms(0, 0, 0)
            .unwrap()
            .assume_utc();
    let f = Filters {
        from: Some(from),
        to: Some(to),
        ..Filters::default()
    };
    let summary = store.country_summary(&o.country, &f).await.unwrap();
    let blocked = store.blocked_now(&o.country, &f).await.unwrap();
    let view = reg.view_for(&Principal::Anonymous);
    let incidents: Vec<_> = view
        .incidents
        .iter()
        .filter(|i| i.place.country == o.country)
        .filter(|i| i.start.date() <= o.to && i.end.map_or(i.start, |e| e).date() >= o.from)
        .collect();
    let ids: BTreeSet<&str> = incidents.iter().map(|i| i.meta.id.as_str()).collect();
    let acts: Vec<_> = view
        .acts
        .iter()
        .filter(|a| ids.contains(a.incident_id.as_str()))
        .collect();
    if let Some(k) = key.strip_prefix("summary.") {
        return match k {
            "sites_tested" => summary.sites_tested,
            "sites_blocked" => summary.sites_blocked,
            "networks_measured" => summary.networks.len() as u64,
            "networks_blocking" => summary
                .networks
                .iter()
                .filter(|n| n.sites_blocked > 0)
                .count() as u64,
            "measurements" => summary.measurements,
            "blocked_measurements" => summary.blocked_measurements,
            "events" => store
                .events(
                    &Selection {
                        country: Some(o.country.clone()),
                        from: Some(from),
                        to: Some(to),
                        ..Selection::default()
                    },
                    1000,
                )
                .await
                .unwrap()
                .len() as u64,
            "incidents" => incidents.len() as u64,
            "acts" => acts.len() as u64,
            "people_affected" => {
                // visible person victims, plus one per incident whose
                // person-directed acts name no visible victim
                let persons: BTreeSet<&str> = acts
                    .iter()
                    .filter_map(|a| a.victim_id.as_deref())
                    .filter(|v| {
                        view.actors.iter().any(|x| {
                            x.meta.id == *v && x.kind == canary_registry::ActorKind::Person
                        })
                    })
                    .collect();
                let unnamed = incidents
                    .iter()
                    .filter(|i| {
                        acts.iter().any(|a| {
                            a.incident_id == i.meta.id
                                && a.victim_id.is_none()
                                && matches!(
                                    a.act_type.as_str(),
                                    "arrest"
                                        | "summons"
                                        | "charge"
                                        | "pretrial_detention"
                                        | "conviction"
                                        | "fine"
                                        | "threat_harassment"
                                        | "physical_attack"
                                )
                        })
                    })
                    .count();
                persons.len() as u64 + unnamed as u64
            }
            other => panic!("unknown summary figure {other}"),
        };
    }
    if let Some(c) = key.strip_prefix("websites.category.") {
        let f = Filters {
            category: Some(c.into()),
            ..f.clone()
        };
        let rows = store.blocked_now(&o.country, &f).await.unwrap();
        return rows
            .iter()
            .map(|r| r.domain.as_str())
            .collect::<BTreeSet<_>>()
            .len() as u64;
    }
    if let Some(m) = key.strip_prefix("websites.method.") {
        let (layer, kind) = m.split_once('/').unwrap();
        return blocked
            .iter()
            .filter(|b| {
                b.layer.as_deref().unwrap_or("") == layer && b.kind.as_deref().unwrap_or("") == kind
            })
            .count() as u64;
    }
    if key == "websites.confirmed_pairs" {
        return blocked.iter().filter(|b| b.confirmed).count() as u64;
    }
    if let Some(rest) = key.strip_prefix("websites.network.AS") {
        let (asn, what) = rest.split_once('.').unwrap();
        let n = summary
            .networks
            .iter()
            .find(|n| n.asn.to_string() == asn)
            .unwrap();
        return match what {
            "measurements" => n.measurements,
            "sites_blocked" => n.sites_blocked,
            other => panic!("unknown network figure {other}"),
        };
    }
    if let Some(t) = key.strip_prefix("incidents.act_type.") {
        return acts.iter().filter(|a| a.act_type.as_str() == t).count() as u64;
    }
    if let Some(m) = key.strip_prefix("incidents.month.") {
        return acts
            .iter()
            .filter(|a| {
                let inc = incidents
                    .iter()
                    .find(|i| i.meta.id == a.incident_id)
                    .unwrap();
                let d = a.date.unwrap_or(inc.start);
                let s = d.to_string();
                match d.precision() {
                    canary_registry::DatePrecision::Year => s.trim_start_matches('~')[..4] == *m,
                    _ => s.trim_start_matches('~')[..7] == *m,
                }
            })
            .count() as u64;
    }
    if let Some(p) = key.strip_prefix("incidents.provision.") {
        let act_ids: BTreeSet<&str> = acts.iter().map(|a| a.id.as_str()).collect();
        return view
            .invocations
            .iter()
            .filter(|i| i.provision_id == p && act_ids.contains(i.act_id.as_str()))
            .map(|i| i.act_id.as_str())
            .collect::<BTreeSet<_>>()
            .len() as u64;
    }
    panic!("no direct question for figure {key}");
}
