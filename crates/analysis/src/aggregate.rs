//! Aggregation: from many verdicts to daily counts, current states and the
//! hourly series the event detector reads.
//!
//! Plain data in ([`Sample`]: who measured what, when, and the verdict's
//! label), plain data out. Times are whole hours since the Unix epoch (the
//! caller converts timestamps), days are `hour.div_euclid(24)`, so the
//! results do not depend on a clock or a time zone.
//!
//! * [`daily_counts`] — per (country, ASN, domain, day): ok / blocked (split
//!   by layer and kind) / down / unknown, and how many blocked ones are
//!   confirmed by a fingerprint;
//! * [`current_states`] — per (domain, ASN): the current state and since
//!   when it holds, the way a dashboard shows it;
//! * [`hourly_series`] — per (country, ASN, domain, layer): the share of
//!   decisive measurements that were blocked, hour by hour, ready for
//!   [`crate::events::detect_events`].
//!
//! ```
//! use canary_analysis::aggregate::{daily_counts, Sample};
//! use canary_analysis::verdict::{Layer, Kind, Outcome};
//!
//! let s = |id: &str, hour, outcome, layer, kind| Sample {
//!     measurement_id: id.into(), country: "KH".into(), asn: 38623,
//!     domain: "news.example".into(), hour, outcome, layer, kind, confirmed: outcome == Outcome::Blocked,
//! };
//! let samples = vec![
//!     s("a", 480_000, Outcome::Ok, None, None),
//!     s("b", 480_001, Outcome::Blocked, Some(Layer::Dns), Some(Kind::BlockpageIp)),
//! ];
//! let daily = daily_counts(&samples);
//! let day = daily.values().next().unwrap();
//! assert_eq!((day.total, day.ok, day.blocked, day.confirmed), (2, 1, 1, 1));
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::events::{detect_events, Detection, HourPoint};
use crate::verdict::{Kind, Layer, Outcome, Verdict};
use crate::AnalysisError;

/// One analysed measurement, reduced to what aggregation needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// Measurement id (e.g. OONI's `measurement_uid`).
    pub measurement_id: String,
    /// Probe country code.
    pub country: String,
    /// Probe network (ASN).
    pub asn: u32,
    /// Measured domain.
    pub domain: String,
    /// Hours since the Unix epoch of the measurement's start.
    pub hour: i64,
    /// Canary's outcome.
    pub outcome: Outcome,
    /// Layer of interference, if any.
    pub layer: Option<Layer>,
    /// Kind of interference, if any.
    pub kind: Option<Kind>,
    /// Confirmed by a fingerprint.
    pub confirmed: bool,
}

impl Sample {
    /// Build a sample from a verdict and the measurement's metadata.
    pub fn from_verdict(
        measurement_id: impl Into<String>,
        country: impl Into<String>,
        asn: u32,
        domain: impl Into<String>,
        hour: i64,
        v: &Verdict,
    ) -> Self {
        Sample {
            measurement_id: measurement_id.into(),
            country: country.into(),
            asn,
            domain: domain.into(),
            hour,
            outcome: v.outcome,
            layer: v.layer,
            kind: v.kind,
            confirmed: v.confirmed,
        }
    }

    /// The day (days since the Unix epoch).
    pub fn day(&self) -> i64 {
        self.hour.div_euclid(24)
    }
}

/// Key of a daily cell.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DailyKey {
    /// Country code.
    pub country: String,
    /// ASN.
    pub asn: u32,
    /// Domain.
    pub domain: String,
    /// Days since the Unix epoch (see [`civil_date`]).
    pub day: i64,
}

/// Counts of one daily cell.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyCounts {
    /// All measurements.
    pub total: u64,
    /// Reached as the control reached it.
    pub ok: u64,
    /// Interfered with.
    pub blocked: u64,
    /// Down for the control too.
    pub down: u64,
    /// Undecided.
    pub unknown: u64,
    /// Blocked and confirmed by a fingerprint.
    pub confirmed: u64,
    /// Blocked measurements per layer.
    pub blocked_by_layer: BTreeMap<Layer, u64>,
    /// Blocked measurements per kind.
    pub blocked_by_kind: BTreeMap<Kind, u64>,
}

/// Per (country, ASN, domain, day) counts.
pub fn daily_counts(samples: &[Sample]) -> BTreeMap<DailyKey, DailyCounts> {
    let mut out: BTreeMap<DailyKey, DailyCounts> = BTreeMap::new();
    for s in samples {
        let c = out
            .entry(DailyKey {
                country: s.country.clone(),
                asn: s.asn,
                domain: s.domain.clone(),
                day: s.day(),
            })
            .or_default();
        c.total += 1;
        match s.outcome {
            Outcome::Ok => c.ok += 1,
            Outcome::Down => c.down += 1,
            Outcome::Unknown => c.unknown += 1,
            Outcome::Blocked => {
                c.blocked += 1;
                if s.confirmed {
                    c.confirmed += 1;
                }
                if let Some(l) = s.layer {
                    *c.blocked_by_layer.entry(l).or_default() += 1;
                }
                if let Some(k) = s.kind {
                    *c.blocked_by_kind.entry(k).or_default() += 1;
                }
            }
        }
    }
    out
}

/// The current state of a (domain, ASN) cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellState {
    /// The latest decisive outcome (ok, blocked or down); `Unknown` when no
    /// measurement was decisive.
    pub state: Outcome,
    /// First hour of the current run of that state (ignoring undecided
    /// measurements in between).
    pub since_hour: i64,
    /// Hour of the latest measurement of any outcome.
    pub last_hour: i64,
    /// Id of the latest decisive measurement (or the latest one).
    pub last_measurement_id: String,
    /// Layer of the latest blocked measurement when blocked.
    pub layer: Option<Layer>,
    /// Kind of the latest blocked measurement when blocked.
    pub kind: Option<Kind>,
    /// Whether any blocked measurement of the current run is confirmed.
    pub confirmed: bool,
    /// Measurements in the current run.
    pub measurements_in_state: u64,
}

/// Per (domain, ASN): the current state and since when it holds.
///
/// Undecided (`unknown`) measurements neither change nor interrupt a state;
/// ties at the same hour are broken by measurement id so the result does not
/// depend on input order.
pub fn current_states(samples: &[Sample]) -> BTreeMap<(String, u32), CellState> {
    let mut sorted: Vec<&Sample> = samples.iter().collect();
    sorted.sort_by(|a, b| {
        (a.domain.as_str(), a.asn, a.hour, a.measurement_id.as_str()).cmp(&(
            b.domain.as_str(),
            b.asn,
            b.hour,
            b.measurement_id.as_str(),
        ))
    });
    let mut out: BTreeMap<(String, u32), CellState> = BTreeMap::new();
    for s in sorted {
        let key = (s.domain.clone(), s.asn);
        let cell = out.entry(key).or_insert_with(|| CellState {
            state: Outcome::Unknown,
            since_hour: s.hour,
            last_hour: s.hour,
            last_measurement_id: s.measurement_id.clone(),
            layer: None,
            kind: None,
            confirmed: false,
            measurements_in_state: 0,
        });
        cell.last_hour = s.hour;
        if s.outcome == Outcome::Unknown {
            if cell.state == Outcome::Unknown {
                cell.last_measurement_id = s.measurement_id.clone();
                cell.measurements_in_state += 1;
            }
            continue;
        }
        if s.outcome != cell.state {
            cell.state = s.outcome;
            cell.since_hour = s.hour;
            cell.confirmed = false;
            cell.measurements_in_state = 0;
        }
        cell.measurements_in_state += 1;
        cell.last_measurement_id = s.measurement_id.clone();
        if s.outcome == Outcome::Blocked {
            cell.layer = s.layer;
            cell.kind = s.kind;
            cell.confirmed |= s.confirmed;
        } else {
            cell.layer = None;
            cell.kind = None;
        }
    }
    out
}

/// Key of an hourly series; `layer: None` is "blocked at any layer".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SeriesKey {
    /// Country code.
    pub country: String,
    /// ASN.
    pub asn: u32,
    /// Domain.
    pub domain: String,
    /// Layer, or `None` for any layer.
    pub layer: Option<Layer>,
}

/// Per (country, ASN, domain, layer) and for "any layer": hourly points
/// whose score is the share of that hour's decisive (ok or blocked)
/// measurements that were blocked at that layer. Down and undecided
/// measurements carry no evidence about censorship and are left out; an
/// hour with no decisive measurement has no point. Points are sorted by
/// hour, ready for [`crate::events::detect_events`].
pub fn hourly_series(samples: &[Sample]) -> BTreeMap<SeriesKey, Vec<HourPoint>> {
    // (country, asn, domain) → hour → (decisive ids, blocked-by-layer ids)
    type Cell = BTreeMap<i64, (Vec<String>, Vec<(Layer, String)>)>;
    let mut cells: BTreeMap<(String, u32, String), Cell> = BTreeMap::new();
    for s in samples {
        if !matches!(s.outcome, Outcome::Ok | Outcome::Blocked) {
            continue;
        }
        let hour = cells
            .entry((s.country.clone(), s.asn, s.domain.clone()))
            .or_default()
            .entry(s.hour)
            .or_default();
        hour.0.push(s.measurement_id.clone());
        if s.outcome == Outcome::Blocked {
            hour.1
                .push((s.layer.unwrap_or(Layer::Http), s.measurement_id.clone()));
        }
    }
    let mut out: BTreeMap<SeriesKey, Vec<HourPoint>> = BTreeMap::new();
    for ((country, asn, domain), hours) in cells {
        let layers: Vec<Layer> = {
            let mut l: Vec<Layer> = hours
                .values()
                .flat_map(|(_, b)| b.iter().map(|(l, _)| *l))
                .collect();
            l.sort();
            l.dedup();
            l
        };
        let key = |layer| SeriesKey {
            country: country.clone(),
            asn,
            domain: domain.clone(),
            layer,
        };
        for layer in std::iter::once(None).chain(layers.into_iter().map(Some)) {
            let points = hours
                .iter()
                .map(|(&hour, (ids, blocked))| {
                    let n = blocked
                        .iter()
                        .filter(|(l, _)| layer.is_none_or(|x| x == *l))
                        .count();
                    let mut ids = ids.clone();
                    ids.sort();
                    HourPoint {
                        hour,
                        blocked: n as f64 / ids.len() as f64,
                        measurement_ids: ids,
                    }
                })
                .collect();
            out.insert(key(layer), points);
        }
    }
    out
}

/// Run the event detector over every series of [`hourly_series`]; only
/// series with at least one event are returned.
pub fn detect_all_events(
    series: &BTreeMap<SeriesKey, Vec<HourPoint>>,
) -> Result<BTreeMap<SeriesKey, Detection>, AnalysisError> {
    let mut out = BTreeMap::new();
    for (key, points) in series {
        let d = detect_events(points)?;
        if !d.events.is_empty() {
            out.insert(key.clone(), d);
        }
    }
    Ok(out)
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01, proleptic Gregorian).
pub fn civil_date(day: i64) -> String {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DAY0: i64 = 20_000 * 24; // 2024-10-04 00h

    fn s(
        id: &str,
        asn: u32,
        domain: &str,
        hour: i64,
        outcome: Outcome,
        kind: Option<Kind>,
        confirmed: bool,
    ) -> Sample {
        let layer = kind.map(|k| match k {
            Kind::Nxdomain | Kind::BlockpageIp | Kind::Bogon => Layer::Dns,
            Kind::Blackhole | Kind::RefusedConnection => Layer::Tcp,
            Kind::Interception => Layer::Tls,
            _ => Layer::Http,
        });
        Sample {
            measurement_id: id.into(),
            country: "KH".into(),
            asn,
            domain: domain.into(),
            hour,
            outcome,
            layer,
            kind,
            confirmed,
        }
    }

    #[test]
    fn civil_dates() {
        let cases = [
            (0, "1970-01-01"),
            (20_000, "2024-10-04"),
            (-1, "1969-12-31"),
            (11_016, "2000-02-29"),
        ];
        for (day, want) in cases {
            assert_eq!(civil_date(day), want);
        }
    }

    #[test]
    fn daily_counts_split_by_cell_outcome_layer_and_kind() {
        let samples = vec![
            s("1", 38623, "a.example", DAY0 + 1, Outcome::Ok, None, false),
            s(
                "2",
                38623,
                "a.example",
                DAY0 + 2,
                Outcome::Blocked,
                Some(Kind::BlockpageIp),
                true,
            ),
            s(
                "3",
                38623,
                "a.example",
                DAY0 + 3,
                Outcome::Blocked,
                Some(Kind::Blackhole),
                false,
            ),
            s(
                "4",
                38623,
                "a.example",
                DAY0 + 4,
                Outcome::Down,
                Some(Kind::RefusedConnection),
                false,
            ),
            s(
                "5",
                38623,
                "a.example",
                DAY0 + 5,
                Outcome::Unknown,
                None,
                false,
            ),
            s("6", 38623, "a.example", DAY0 + 24, Outcome::Ok, None, false),
            s("7", 17976, "a.example", DAY0 + 1, Outcome::Ok, None, false),
        ];
        let d = daily_counts(&samples);
        assert_eq!(d.len(), 3, "two days on AS38623, one on AS17976");
        let key = DailyKey {
            country: "KH".into(),
            asn: 38623,
            domain: "a.example".into(),
            day: 20_000,
        };
        let c = &d[&key];
        assert_eq!(
            (c.total, c.ok, c.blocked, c.down, c.unknown, c.confirmed),
            (5, 1, 2, 1, 1, 1)
        );
        assert_eq!(
            c.blocked_by_layer,
            BTreeMap::from([(Layer::Dns, 1), (Layer::Tcp, 1)])
        );
        assert_eq!(
            c.blocked_by_kind,
            BTreeMap::from([(Kind::BlockpageIp, 1), (Kind::Blackhole, 1)])
        );
        assert_eq!(civil_date(key.day), "2024-10-04");
    }

    #[test]
    fn current_state_and_since_when() {
        let samples = vec![
            s("a1", 1, "x.example", DAY0, Outcome::Ok, None, false),
            s(
                "a2",
                1,
                "x.example",
                DAY0 + 5,
                Outcome::Blocked,
                Some(Kind::Nxdomain),
                false,
            ),
            s(
                "a3",
                1,
                "x.example",
                DAY0 + 6,
                Outcome::Unknown,
                None,
                false,
            ),
            s(
                "a4",
                1,
                "x.example",
                DAY0 + 9,
                Outcome::Blocked,
                Some(Kind::BlockpageIp),
                true,
            ),
            s(
                "b1",
                1,
                "y.example",
                DAY0,
                Outcome::Blocked,
                Some(Kind::Blackhole),
                false,
            ),
            s("b2", 1, "y.example", DAY0 + 3, Outcome::Ok, None, false),
            s("c1", 1, "z.example", DAY0, Outcome::Unknown, None, false),
        ];
        // Input order must not matter.
        let mut shuffled = samples.clone();
        shuffled.reverse();
        let st = current_states(&shuffled);
        assert_eq!(st, current_states(&samples));
        let x = &st[&("x.example".to_string(), 1)];
        assert_eq!(
            (x.state, x.since_hour, x.last_hour),
            (Outcome::Blocked, DAY0 + 5, DAY0 + 9)
        );
        assert_eq!(
            (x.kind, x.confirmed, x.measurements_in_state),
            (Some(Kind::BlockpageIp), true, 2)
        );
        assert_eq!(x.last_measurement_id, "a4");
        let y = &st[&("y.example".to_string(), 1)];
        assert_eq!(
            (y.state, y.since_hour, y.kind),
            (Outcome::Ok, DAY0 + 3, None)
        );
        let z = &st[&("z.example".to_string(), 1)];
        assert_eq!(z.state, Outcome::Unknown);
    }

    #[test]
    fn hourly_series_feed_the_event_detector() {
        // 30 quiet hours, then 30 hours where 2 of 3 measurements see a DNS blockpage
        // (each such hour adds 2/3 - 0.35 = 0.32 to the CUSUM: it fires on the 23rd).
        let mut samples = Vec::new();
        for h in 0..30 {
            samples.push(s(
                &format!("ok{h}"),
                38623,
                "news.example",
                DAY0 + h,
                Outcome::Ok,
                None,
                false,
            ));
        }
        for h in 30..60 {
            samples.push(s(
                &format!("b{h}a"),
                38623,
                "news.example",
                DAY0 + h,
                Outcome::Blocked,
                Some(Kind::BlockpageIp),
                true,
            ));
            samples.push(s(
                &format!("b{h}b"),
                38623,
                "news.example",
                DAY0 + h,
                Outcome::Blocked,
                Some(Kind::BlockpageIp),
                true,
            ));
            samples.push(s(
                &format!("b{h}c"),
                38623,
                "news.example",
                DAY0 + h,
                Outcome::Ok,
                None,
                false,
            ));
            samples.push(s(
                &format!("d{h}"),
                38623,
                "news.example",
                DAY0 + h,
                Outcome::Down,
                Some(Kind::RefusedConnection),
                false,
            ));
        }
        let series = hourly_series(&samples);
        let keys: Vec<Option<Layer>> = series.keys().map(|k| k.layer).collect();
        assert_eq!(keys, [None, Some(Layer::Dns)]);
        let dns = &series[&SeriesKey {
            country: "KH".into(),
            asn: 38623,
            domain: "news.example".into(),
            layer: Some(Layer::Dns),
        }];
        assert_eq!(dns.len(), 60);
        assert!(
            (dns[40].blocked - 2.0 / 3.0).abs() < 1e-12,
            "down measurements are not evidence"
        );
        assert_eq!(dns[40].measurement_ids.len(), 3);
        let all = detect_all_events(&series).unwrap();
        assert_eq!(all.len(), 2, "the DNS series and the any-layer series");
        let ev = detect_events(dns).unwrap();
        assert_eq!(ev.events.len(), 1);
        assert_eq!(ev.events[0].start_hour, DAY0 + 30);
        assert_eq!(ev.events[0].detected_hour, DAY0 + 52);
        assert_eq!(
            ev.events[0].measurement_ids.len(),
            90,
            "decisive measurements only"
        );
    }

    proptest! {
        #[test]
        fn daily_totals_add_up(outcomes in proptest::collection::vec(0u8..4, 0..200)) {
            let samples: Vec<Sample> = outcomes.iter().enumerate().map(|(i, o)| {
                let outcome = [Outcome::Ok, Outcome::Blocked, Outcome::Down, Outcome::Unknown][*o as usize];
                let kind = (outcome == Outcome::Blocked).then_some(Kind::Reset);
                s(&i.to_string(), (i % 3) as u32, "d.example", DAY0 + i as i64, outcome, kind, i % 2 == 0)
            }).collect();
            let d = daily_counts(&samples);
            let total: u64 = d.values().map(|c| c.total).sum();
            prop_assert_eq!(total as usize, samples.len());
            for c in d.values() {
                prop_assert_eq!(c.total, c.ok + c.blocked + c.down + c.unknown);
                prop_assert!(c.confirmed <= c.blocked);
                prop_assert_eq!(c.blocked_by_kind.values().sum::<u64>(), c.blocked);
            }
            for points in hourly_series(&samples).values() {
                for p in points {
                    prop_assert!((0.0..=1.0).contains(&p.blocked));
                    prop_assert!(!p.measurement_ids.is_empty());
                }
                prop_assert!(detect_events(points).is_ok());
            }
        }
    }
}
