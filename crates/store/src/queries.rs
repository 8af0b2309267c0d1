//! The read side: the questions the web UI and the reports ask.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{Database, Encode, QueryBuilder, Type};
use time::{Date, OffsetDateTime};

use crate::store::{
    check_len, decompress, to_asn, with_backend, Backend, VerdictRow, SECONDS_PER_DAY,
};
use crate::types::{
    BlockedSite, BlockingEvent, CountrySummary, Filters, HistoricVerdict, MeasurementInfo,
    NetworkSummary, Outcome, Selection, SharePoint, StoredMeasurement, TimelinePoint,
    MAX_FIELD_BYTES, MAX_ID_BYTES,
};
use crate::{Store, StoreError};

/// Most rows one page of [`Store::list_measurements`] or [`Store::events`]
/// returns.
pub const MAX_PAGE: u32 = 1000;
/// Most measurement ids stored per event.
pub const MAX_EVENT_MEASUREMENTS: usize = 100_000;

/// Bounds on a query, as Unix seconds and Unix days.
struct Window {
    from: Option<i64>,
    to: Option<i64>,
}

impl Window {
    fn new(from: Option<OffsetDateTime>, to: Option<OffsetDateTime>) -> Self {
        Window {
            from: from.map(OffsetDateTime::unix_timestamp),
            to: to.map(OffsetDateTime::unix_timestamp),
        }
    }

    /// First day touched by the window.
    fn first_day(&self) -> Option<i64> {
        self.from.map(|t| t.div_euclid(SECONDS_PER_DAY))
    }

    /// First day after the window (exclusive bound, rounded up).
    fn end_day(&self) -> Option<i64> {
        self.to
            .map(|t| t.div_euclid(SECONDS_PER_DAY) + i64::from(t.rem_euclid(SECONDS_PER_DAY) != 0))
    }
}

fn check_filter(what: &str, value: &str) -> Result<(), StoreError> {
    check_len(&format!("filter {what}"), value, MAX_FIELD_BYTES)
}

fn check_filters(f: &Filters) -> Result<(), StoreError> {
    if let Some(c) = &f.category {
        check_filter("category", c)?;
    }
    Ok(())
}

fn check_selection(s: &Selection) -> Result<(), StoreError> {
    for (what, value) in [
        ("country", &s.country),
        ("domain", &s.domain),
        ("category", &s.category),
    ] {
        if let Some(v) = value {
            check_filter(what, v)?;
        }
    }
    Ok(())
}

/// `AND col >= from AND col < to`, for whichever bounds are set.
fn push_time<DB: Database>(
    qb: &mut QueryBuilder<DB>,
    column: &str,
    from: Option<i64>,
    to: Option<i64>,
) where
    for<'q> i64: Encode<'q, DB> + Type<DB>,
{
    if let Some(from) = from {
        qb.push(format_args!(" AND {column} >= ")).push_bind(from);
    }
    if let Some(to) = to {
        qb.push(format_args!(" AND {column} < ")).push_bind(to);
    }
}

fn push_eq_text<DB: Database>(qb: &mut QueryBuilder<DB>, column: &str, value: Option<&str>)
where
    for<'q> String: Encode<'q, DB> + Type<DB>,
{
    if let Some(value) = value {
        qb.push(format_args!(" AND {column} = "))
            .push_bind(value.to_owned());
    }
}

fn push_eq_int<DB: Database>(qb: &mut QueryBuilder<DB>, column: &str, value: Option<i64>)
where
    for<'q> i64: Encode<'q, DB> + Type<DB>,
{
    if let Some(value) = value {
        qb.push(format_args!(" AND {column} = ")).push_bind(value);
    }
}

/// The blocked-now query (see [`Store::blocked_now`]).
///
/// Both paths build `runs(domain, probe_asn, last_time, since, run_len,
/// confirmed)`: the pairs whose latest decisive measurement in the window
/// is blocked, with the run of blocked measurements since the last ok.
/// Without an upper bound (`to`), the run kept in `pairs` by ingest and
/// reanalysis answers directly (clipped to `from` by an index walk only
/// when the run started before it); with one, each pair's latest decisive
/// measurement before `to` and its run are looked up in the index.
fn push_blocked_now<DB: Database>(qb: &mut QueryBuilder<DB>, country: &str, f: &Filters, w: &Window)
where
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
{
    if w.to.is_none() {
        push_stored_runs(qb, country, f, w);
    } else {
        push_indexed_runs(qb, country, f, w);
    }
    // the latest blocked measurement (of several in the same second: the
    // last one stored) gives the id, layer and kind
    qb.push(
        " SELECT runs.domain AS domain, runs.probe_asn AS probe_asn, n.name AS network_name, \
         lm.id AS last_id, runs.last_time AS last_time, runs.since AS since, \
         runs.run_len AS run_len, runs.confirmed AS confirmed, v.layer AS layer, v.kind AS kind \
         FROM runs JOIN measurements lm ON lm.seq = (SELECT x.seq FROM measurements x \
         WHERE x.probe_cc = ",
    )
    .push_bind(country.to_owned());
    qb.push(
        " AND x.domain = runs.domain AND x.probe_asn = runs.probe_asn \
         AND x.measurement_start_time = runs.last_time AND x.outcome = 'blocked' \
         ORDER BY x.seq DESC LIMIT 1) \
         JOIN verdicts v ON v.measurement_seq = lm.seq \
         LEFT JOIN networks n ON n.asn = runs.probe_asn \
         ORDER BY runs.domain, runs.probe_asn",
    );
}

/// `WITH runs AS (…)` from the runs kept in `pairs` (migration 0400).
fn push_stored_runs<DB: Database>(qb: &mut QueryBuilder<DB>, country: &str, f: &Filters, w: &Window)
where
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
{
    qb.push("WITH runs AS (SELECT p.domain AS domain, p.probe_asn AS probe_asn, p.last_blocked AS last_time, ");
    match w.from {
        None => {
            qb.push("p.run_since AS since, p.run_len AS run_len, CAST(p.run_confirmed AS BIGINT) AS confirmed");
        }
        Some(from) => {
            // a run that started before the window counts only its part
            // inside it: walk the index for those pairs alone
            for (agg, col, alias) in [
                ("MIN(r.measurement_start_time)", "p.run_since", "since"),
                ("COUNT(*)", "p.run_len", "run_len"),
                (
                    "CAST(COALESCE(MAX(r.confirmed), 0) AS BIGINT)",
                    "CAST(p.run_confirmed AS BIGINT)",
                    "confirmed",
                ),
            ] {
                qb.push("CASE WHEN p.run_since >= ")
                    .push_bind(from)
                    .push(format_args!(
                        " THEN {col} ELSE (SELECT {agg} FROM measurements r \
                         WHERE r.probe_cc = p.probe_cc AND r.domain = p.domain \
                         AND r.probe_asn = p.probe_asn AND r.outcome = 'blocked' \
                         AND (p.last_ok IS NULL OR r.measurement_start_time > p.last_ok) \
                         AND r.measurement_start_time >= "
                    ))
                    .push_bind(from)
                    .push(format_args!(") END AS {alias}"));
                if alias != "confirmed" {
                    qb.push(", ");
                }
            }
        }
    }
    qb.push(" FROM pairs p WHERE p.run_len > 0 AND p.probe_cc = ")
        .push_bind(country.to_owned());
    if let Some(from) = w.from {
        qb.push(" AND p.last_blocked >= ").push_bind(from);
    }
    push_eq_int(qb, "p.probe_asn", f.asn.map(i64::from));
    push_eq_text(qb, "p.category_code", f.category.as_deref());
    qb.push(")");
}

/// `WITH runs AS (…)` from the index, for a window with an end.
fn push_indexed_runs<DB: Database>(
    qb: &mut QueryBuilder<DB>,
    country: &str,
    f: &Filters,
    w: &Window,
) where
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
{
    // per pair, one index-only look-up: the latest decisive (ok or
    // blocked) measurement in the window as `time * 2 + (outcome = ok)`,
    // ok first on equal times (ok wins a tie), so an even key is a pair
    // blocked at the window's end, at `key / 2`. No measurement row (with
    // its raw JSON) is read. Both steps are materialised so each look-up
    // runs once per pair (PostgreSQL would otherwise repeat it).
    qb.push(
        "WITH latest AS MATERIALIZED (SELECT p.domain AS domain, p.probe_asn AS probe_asn, \
         (SELECT m.measurement_start_time * 2 + CASE WHEN m.outcome = 'ok' THEN 1 ELSE 0 END \
         FROM measurements m WHERE m.probe_cc = p.probe_cc \
         AND m.domain = p.domain AND m.probe_asn = p.probe_asn \
         AND m.outcome IN ('ok', 'blocked')",
    );
    push_time(qb, "m.measurement_start_time", w.from, w.to);
    qb.push(
        " ORDER BY m.measurement_start_time DESC, m.outcome DESC LIMIT 1) AS last_key \
         FROM pairs p WHERE p.probe_cc = ",
    )
    .push_bind(country.to_owned());
    push_eq_int(qb, "p.probe_asn", f.asn.map(i64::from));
    push_eq_text(qb, "p.category_code", f.category.as_deref());
    qb.push(
        "), b AS MATERIALIZED (SELECT l.domain AS domain, l.probe_asn AS probe_asn, \
         l.last_key / 2 AS last_time, \
         (SELECT MAX(o.measurement_start_time) FROM measurements o WHERE o.probe_cc = ",
    )
    .push_bind(country.to_owned());
    qb.push(
        " AND o.domain = l.domain AND o.probe_asn = l.probe_asn AND o.outcome = 'ok' \
         AND o.measurement_start_time < l.last_key / 2",
    );
    // an ok before the window does not matter (the run is clipped to it
    // anyway): stop looking back at the window's start
    push_time(qb, "o.measurement_start_time", w.from, None);
    qb.push(") AS last_ok FROM latest l WHERE l.last_key % 2 = 0), ");
    // the run: blocked measurements after the last ok (index-only:
    // outcome and confirmed are in the index)
    qb.push(
        "runs AS (SELECT b.domain AS domain, b.probe_asn AS probe_asn, b.last_time AS last_time, \
         MIN(r.measurement_start_time) AS since, COUNT(*) AS run_len, \
         CAST(MAX(r.confirmed) AS BIGINT) AS confirmed \
         FROM b JOIN measurements r ON r.probe_cc = ",
    )
    .push_bind(country.to_owned());
    qb.push(
        " AND r.domain = b.domain AND r.probe_asn = b.probe_asn AND r.outcome = 'blocked' \
         AND r.measurement_start_time <= b.last_time \
         AND (b.last_ok IS NULL OR r.measurement_start_time > b.last_ok)",
    );
    push_time(qb, "r.measurement_start_time", w.from, None);
    qb.push(" GROUP BY b.domain, b.probe_asn, b.last_time)");
}

#[derive(sqlx::FromRow)]
struct BlockedRow {
    domain: String,
    probe_asn: i64,
    network_name: Option<String>,
    last_id: String,
    last_time: i64,
    since: i64,
    run_len: i64,
    confirmed: Option<i64>,
    layer: Option<String>,
    kind: Option<String>,
}

#[derive(sqlx::FromRow)]
struct InfoRow {
    id: String,
    report_id: Option<String>,
    test_name: String,
    test_version: Option<String>,
    input: Option<String>,
    domain: Option<String>,
    probe_cc: String,
    probe_asn: i64,
    probe_network_name: Option<String>,
    resolver_asn: Option<i64>,
    measurement_start_time: i64,
    software_name: Option<String>,
    software_version: Option<String>,
    category_code: Option<String>,
    received_at: i64,
    #[sqlx(flatten)]
    verdict: VerdictRow,
}

impl InfoRow {
    fn into_info(self) -> Result<MeasurementInfo, StoreError> {
        let verdict = self.verdict.into_verdict(&self.id)?;
        Ok(MeasurementInfo {
            measurement_start_time: timestamp(&self.id, self.measurement_start_time)?,
            received_at: timestamp(&self.id, self.received_at)?,
            probe_asn: to_asn(self.probe_asn)?,
            resolver_asn: self.resolver_asn.map(to_asn).transpose()?,
            id: self.id,
            report_id: self.report_id,
            test_name: self.test_name,
            test_version: self.test_version,
            input: self.input,
            domain: self.domain,
            probe_cc: self.probe_cc,
            probe_network_name: self.probe_network_name,
            software_name: self.software_name,
            software_version: self.software_version,
            category_code: self.category_code,
            verdict,
        })
    }
}

#[derive(sqlx::FromRow)]
struct FullRow {
    #[sqlx(flatten)]
    info: InfoRow,
    raw_zstd: Vec<u8>,
    raw_len: i64,
}

#[derive(sqlx::FromRow)]
struct HistoryRow {
    rules_version: String,
    blocking: Option<String>,
    outcome: String,
    layer: Option<String>,
    kind: Option<String>,
    confirmed: i16,
    replaced_at: i64,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    probe_cc: String,
    probe_asn: i64,
    domain: String,
    layer: String,
    start_time: i64,
    end_time: Option<i64>,
    confidence: f64,
    measurement_ids: String,
}

const INFO_COLUMNS: &str = "m.id, m.report_id, m.test_name, m.test_version, m.input, m.domain, \
    m.probe_cc, m.probe_asn, m.probe_network_name, m.resolver_asn, m.measurement_start_time, \
    m.software_name, m.software_version, m.category_code, m.received_at, v.rules_version, \
    v.blocking, v.accessible, v.outcome, v.layer, v.kind, v.confirmed, v.fingerprint, \
    v.explanation, v.rules_fired";

fn timestamp(id: &str, seconds: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(seconds)
        .map_err(|e| StoreError::corrupt(id, format!("timestamp {seconds}: {e}")))
}

fn day(value: i64) -> Result<Date, StoreError> {
    // day numbers come from `time` values we stored, so this only fails on
    // a corrupt row
    let seconds = value
        .checked_mul(SECONDS_PER_DAY)
        .ok_or_else(|| StoreError::corrupt(value.to_string(), "day out of range"))?;
    Ok(timestamp(&value.to_string(), seconds)?.date())
}

fn count(value: i64) -> u64 {
    value.max(0) as u64
}

fn layer_of(layer: Option<String>) -> Option<String> {
    layer.filter(|l| !l.is_empty())
}

impl Store {
    /// Sites blocked now in `country`, one row per (domain, network).
    ///
    /// Within the window of `filters` (and its ASN / category), a
    /// (domain, ASN) is *blocked now* when its latest decisive verdict
    /// (`ok` or `blocked`; `down`/`unknown` are ignored, and an `ok` wins a
    /// tie at the same second) is `blocked`. `since` is the first blocked
    /// measurement after the last `ok` one (in the window); `measurements`
    /// counts the blocked measurements of that run and `confirmed` says
    /// whether any of them matched a blockpage fingerprint; `layer` and
    /// `kind` are the latest verdict's (of several blocked measurements in
    /// the same second, the one stored last). Ordered by domain, then ASN.
    pub async fn blocked_now(
        &self,
        country: &str,
        filters: &Filters,
    ) -> Result<Vec<BlockedSite>, StoreError> {
        check_filter("country", country)?;
        check_filters(filters)?;
        let w = Window::new(filters.from, filters.to);
        let rows: Vec<BlockedRow> = with_backend!(self, pool, Db => {
            let mut qb = QueryBuilder::<Db>::new("");
            push_blocked_now(&mut qb, country, filters, &w);
            qb.build_query_as().fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(BlockedSite {
                    since: timestamp(&r.last_id, r.since)?,
                    last_seen: timestamp(&r.last_id, r.last_time)?,
                    asn: to_asn(r.probe_asn)?,
                    domain: r.domain,
                    network_name: r.network_name,
                    layer: r.layer,
                    kind: r.kind,
                    confirmed: r.confirmed.unwrap_or(0) != 0,
                    last_measurement_id: r.last_id,
                    measurements: count(r.run_len),
                })
            })
            .collect()
    }

    /// Per UTC day of `country`: measurements, blocked, ok and confirmed
    /// counts, from the day counts kept at ingest. The window is widened
    /// to whole days; days without measurements are absent.
    pub async fn blocked_share_series(
        &self,
        country: &str,
        filters: &Filters,
    ) -> Result<Vec<SharePoint>, StoreError> {
        check_filter("country", country)?;
        check_filters(filters)?;
        let w = Window::new(filters.from, filters.to);
        let rows: Vec<(i64, i64, i64, i64, i64)> = with_backend!(self, pool, Db => {
            let mut qb = QueryBuilder::<Db>::new(
                "SELECT day, CAST(SUM(measurements) AS BIGINT), \
                 CAST(SUM(CASE WHEN outcome = 'blocked' THEN measurements ELSE 0 END) AS BIGINT), \
                 CAST(SUM(CASE WHEN outcome = 'ok' THEN measurements ELSE 0 END) AS BIGINT), \
                 CAST(SUM(confirmed) AS BIGINT) FROM daily_stats WHERE probe_cc = ",
            );
            qb.push_bind(country.to_owned());
            push_eq_int(&mut qb, "probe_asn", filters.asn.map(i64::from));
            push_eq_text(&mut qb, "category_code", filters.category.as_deref());
            push_time(&mut qb, "day", w.first_day(), w.end_day());
            qb.push(" GROUP BY day ORDER BY day");
            qb.build_query_as().fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|(d, tested, blocked, ok, confirmed)| {
                Ok(SharePoint {
                    day: day(d)?,
                    tested: count(tested),
                    blocked: count(blocked),
                    ok: count(ok),
                    confirmed: count(confirmed),
                })
            })
            .collect()
    }

    /// The head of a country page over `filters`' window: measurement
    /// counts (whole days, from the day counts), distinct domains measured
    /// (exact window), distinct domains blocked now (as
    /// [`Store::blocked_now`]) and one line per network.
    pub async fn country_summary(
        &self,
        country: &str,
        filters: &Filters,
    ) -> Result<CountrySummary, StoreError> {
        Ok(self.country_page(country, filters).await?.0)
    }

    /// [`Store::country_summary`] and [`Store::blocked_now`] together, for
    /// the country page: the blocked list the summary counts is computed
    /// once, not twice.
    pub async fn country_page(
        &self,
        country: &str,
        filters: &Filters,
    ) -> Result<(CountrySummary, Vec<BlockedSite>), StoreError> {
        check_filter("country", country)?;
        check_filters(filters)?;
        let w = Window::new(filters.from, filters.to);
        // the counts run beside the blocked list, on another pooled
        // connection: the page waits for the slower, not for both
        let counts = async {
            let counts: (Vec<(i64, i64, i64)>, i64) = with_backend!(self, pool, Db => {
            let mut qb = QueryBuilder::<Db>::new(
                "SELECT probe_asn, CAST(SUM(measurements) AS BIGINT), \
                 CAST(SUM(CASE WHEN outcome = 'blocked' THEN measurements ELSE 0 END) AS BIGINT) \
                 FROM daily_stats WHERE probe_cc = ",
            );
            qb.push_bind(country.to_owned());
            push_eq_int(&mut qb, "probe_asn", filters.asn.map(i64::from));
            push_eq_text(&mut qb, "category_code", filters.category.as_deref());
            push_time(&mut qb, "day", w.first_day(), w.end_day());
            qb.push(" GROUP BY probe_asn ORDER BY probe_asn");
            let per_network: Vec<(i64, i64, i64)> =
                qb.build_query_as().fetch_all(pool).await?;

            let mut qb = QueryBuilder::<Db>::new(
                "SELECT COUNT(DISTINCT p.domain) FROM pairs p WHERE p.probe_cc = ",
            );
            qb.push_bind(country.to_owned());
            push_eq_int(&mut qb, "p.probe_asn", filters.asn.map(i64::from));
            push_eq_text(&mut qb, "p.category_code", filters.category.as_deref());
            if let (Some(from), None) = (w.from, w.to) {
                // measured since `from` = last measured at or after it
                qb.push(" AND p.last_seen >= ").push_bind(from);
            } else if w.from.is_some() || w.to.is_some() {
                qb.push(
                    " AND EXISTS (SELECT 1 FROM measurements m WHERE m.probe_cc = p.probe_cc \
                     AND m.domain = p.domain AND m.probe_asn = p.probe_asn",
                );
                push_time(&mut qb, "m.measurement_start_time", w.from, w.to);
                qb.push(")");
            }
            let (sites_tested,): (i64,) = qb.build_query_as().fetch_one(pool).await?;
            (per_network, sites_tested)
            });
            Ok::<_, StoreError>(counts)
        };
        let (blocked, (per_network, sites_tested)) =
            tokio::try_join!(self.blocked_now(country, filters), counts)?;
        let mut blocked_per_asn: BTreeMap<u32, u64> = BTreeMap::new();
        for site in &blocked {
            *blocked_per_asn.entry(site.asn).or_default() += 1;
        }
        let names: BTreeMap<u32, String> = self
            .networks()
            .await?
            .into_iter()
            .map(|n| (n.asn, n.name))
            .collect();
        let mut networks = Vec::with_capacity(per_network.len());
        let (mut measurements, mut blocked_measurements) = (0u64, 0u64);
        for (asn, n, b) in per_network {
            let asn = to_asn(asn)?;
            measurements += count(n);
            blocked_measurements += count(b);
            networks.push(NetworkSummary {
                asn,
                name: names.get(&asn).cloned(),
                measurements: count(n),
                sites_blocked: blocked_per_asn.get(&asn).copied().unwrap_or(0),
            });
        }
        let sites_blocked = blocked
            .iter()
            .map(|s| s.domain.as_str())
            .collect::<BTreeSet<_>>()
            .len() as u64;
        let summary = CountrySummary {
            country: country.to_owned(),
            measurements,
            blocked_measurements,
            sites_tested: count(sites_tested),
            sites_blocked,
            networks,
        };
        Ok((summary, blocked))
    }

    /// A domain page's timeline: measurements per (UTC day, ASN, outcome,
    /// layer), optionally in one country, over the exact window of
    /// `filters`. Ordered by day, ASN, outcome (ok, blocked, down,
    /// unknown), layer.
    pub async fn domain_timeline(
        &self,
        domain: &str,
        country: Option<&str>,
        filters: &Filters,
    ) -> Result<Vec<TimelinePoint>, StoreError> {
        check_filter("domain", domain)?;
        if let Some(c) = country {
            check_filter("country", c)?;
        }
        check_filters(filters)?;
        let w = Window::new(filters.from, filters.to);
        let rows: Vec<(i64, i64, String, Option<String>, i64)> = with_backend!(self, pool, Db => {
            let mut qb = QueryBuilder::<Db>::new(
                "SELECT m.measurement_start_time / 86400 AS day, m.probe_asn, m.outcome, \
                 CASE WHEN m.outcome = 'blocked' THEN v.layer ELSE NULL END AS layer, \
                 COUNT(*) AS n FROM measurements m JOIN verdicts v ON v.measurement_seq = m.seq \
                 WHERE m.domain = ",
            );
            qb.push_bind(domain.to_owned());
            push_eq_text(&mut qb, "m.probe_cc", country);
            push_eq_int(&mut qb, "m.probe_asn", filters.asn.map(i64::from));
            push_eq_text(&mut qb, "m.category_code", filters.category.as_deref());
            push_time(&mut qb, "m.measurement_start_time", w.from, w.to);
            qb.push(" GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4");
            qb.build_query_as().fetch_all(pool).await?
        });
        timeline(rows)
    }

    /// An ASN page's timeline: measurements per (UTC day, outcome, layer)
    /// of network `asn`, optionally in one country, from the day counts
    /// (window widened to whole days; `filters.asn` is ignored).
    pub async fn asn_timeline(
        &self,
        asn: u32,
        country: Option<&str>,
        filters: &Filters,
    ) -> Result<Vec<TimelinePoint>, StoreError> {
        if let Some(c) = country {
            check_filter("country", c)?;
        }
        check_filters(filters)?;
        let w = Window::new(filters.from, filters.to);
        let rows: Vec<(i64, i64, String, Option<String>, i64)> = with_backend!(self, pool, Db => {
            let mut qb = QueryBuilder::<Db>::new(
                "SELECT day, probe_asn, outcome, layer, CAST(SUM(measurements) AS BIGINT) \
                 FROM daily_stats WHERE probe_asn = ",
            );
            qb.push_bind(i64::from(asn));
            push_eq_text(&mut qb, "probe_cc", country);
            push_eq_text(&mut qb, "category_code", filters.category.as_deref());
            push_time(&mut qb, "day", w.first_day(), w.end_day());
            qb.push(" GROUP BY day, probe_asn, outcome, layer ORDER BY day, outcome, layer");
            qb.build_query_as().fetch_all(pool).await?
        });
        timeline(rows)
    }

    /// One measurement with its verdict and raw JSON, or `None`.
    pub async fn measurement(&self, id: &str) -> Result<Option<StoredMeasurement>, StoreError> {
        check_len("measurement id", id, MAX_ID_BYTES)?;
        let row: Option<FullRow> = with_backend!(self, pool, Db => {
            let mut qb = QueryBuilder::<Db>::new(format!(
                "SELECT {INFO_COLUMNS}, m.raw_zstd, m.raw_len FROM measurements m \
                 JOIN verdicts v ON v.measurement_seq = m.seq WHERE m.id = "
            ));
            qb.push_bind(id.to_owned());
            qb.build_query_as().fetch_optional(pool).await?
        });
        let Some(row) = row else { return Ok(None) };
        let raw = decompress(&row.info.id, &row.raw_zstd, row.raw_len)?;
        let raw_json = String::from_utf8(raw)
            .map_err(|_| StoreError::corrupt(&row.info.id, "raw measurement is not UTF-8"))?;
        Ok(Some(StoredMeasurement {
            info: row.info.into_info()?,
            raw_json,
        }))
    }

    /// The verdicts [`Store::replace_verdicts`] replaced for one
    /// measurement, oldest first (at most [`MAX_PAGE`]).
    pub async fn verdict_history(&self, id: &str) -> Result<Vec<HistoricVerdict>, StoreError> {
        check_len("measurement id", id, MAX_ID_BYTES)?;
        let rows: Vec<HistoryRow> = with_backend!(self, pool, Db => {
            sqlx::query_as(
                "SELECT rules_version, blocking, outcome, layer, kind, confirmed, replaced_at \
                 FROM verdict_history WHERE measurement_id = $1 ORDER BY id LIMIT 1000",
            )
            .bind(id.to_owned())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(HistoricVerdict {
                    outcome: r
                        .outcome
                        .parse()
                        .map_err(|e: StoreError| StoreError::corrupt(id, e.to_string()))?,
                    replaced_at: timestamp(id, r.replaced_at)?,
                    rules_version: r.rules_version,
                    blocking: r.blocking,
                    layer: r.layer,
                    kind: r.kind,
                    confirmed: r.confirmed != 0,
                })
            })
            .collect()
    }

    /// Measurements matching `selection`, newest first, `limit` (at most
    /// [`MAX_PAGE`]) from `offset`.
    pub async fn list_measurements(
        &self,
        selection: &Selection,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<MeasurementInfo>, StoreError> {
        check_selection(selection)?;
        let w = Window::new(selection.from, selection.to);
        let offset =
            i64::try_from(offset).map_err(|_| StoreError::invalid("offset", "too large"))?;
        let rows: Vec<InfoRow> = with_backend!(self, pool, Db => {
            let mut qb = QueryBuilder::<Db>::new(format!(
                "SELECT {INFO_COLUMNS} FROM measurements m \
                 JOIN verdicts v ON v.measurement_seq = m.seq WHERE 1 = 1"
            ));
            push_eq_text(&mut qb, "m.probe_cc", selection.country.as_deref());
            push_eq_int(&mut qb, "m.probe_asn", selection.asn.map(i64::from));
            push_eq_text(&mut qb, "m.domain", selection.domain.as_deref());
            push_eq_text(&mut qb, "m.category_code", selection.category.as_deref());
            push_eq_text(&mut qb, "m.outcome", selection.outcome.map(Outcome::as_str));
            push_time(&mut qb, "m.measurement_start_time", w.from, w.to);
            qb.push(" ORDER BY m.measurement_start_time DESC, m.id DESC LIMIT ")
                .push_bind(i64::from(limit.min(MAX_PAGE)))
                .push(" OFFSET ")
                .push_bind(offset);
            qb.build_query_as().fetch_all(pool).await?
        });
        rows.into_iter().map(InfoRow::into_info).collect()
    }

    /// Stores detected events, keyed by (country, ASN, domain, layer,
    /// start): a known event gets the new end, confidence and measurement
    /// ids (an ongoing event that ended is updated in place). Returns how
    /// many were written. One transaction.
    pub async fn upsert_events(&self, events: &[BlockingEvent]) -> Result<u64, StoreError> {
        let mut unique: BTreeMap<(&str, u32, &str, &str, i64), &BlockingEvent> = BTreeMap::new();
        for e in events {
            validate_event(e)?;
            let key = (
                e.country.as_str(),
                e.asn,
                e.domain.as_str(),
                e.layer.as_str(),
                e.start.unix_timestamp(),
            );
            unique.insert(key, e);
        }
        let now = OffsetDateTime::now_utc().unix_timestamp();
        with_backend!(self, pool, Db => {
            let mut tx = crate::store::BeginWrite::begin_write(pool).await?;
            for e in unique.values() {
                let ids = serde_json::to_string(&e.measurement_ids)
                    .map_err(|err| StoreError::invalid("event", err.to_string()))?;
                sqlx::query(
                    "INSERT INTO blocking_events (probe_cc, probe_asn, domain, layer, start_time, \
                     end_time, confidence, measurement_ids, detected_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (probe_cc, probe_asn, domain, layer, start_time) DO UPDATE \
                     SET end_time = excluded.end_time, confidence = excluded.confidence, \
                     measurement_ids = excluded.measurement_ids, detected_at = excluded.detected_at",
                )
                .bind(e.country.clone())
                .bind(i64::from(e.asn))
                .bind(e.domain.clone())
                .bind(e.layer.clone())
                .bind(e.start.unix_timestamp())
                .bind(e.end.map(OffsetDateTime::unix_timestamp))
                .bind(e.confidence)
                .bind(ids)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(unique.len() as u64)
    }

    /// Events matching `selection` (country, ASN, domain; `from` keeps
    /// events still going at or after it, `to` those started before it),
    /// newest first, at most `limit` (≤ [`MAX_PAGE`]).
    pub async fn events(
        &self,
        selection: &Selection,
        limit: u32,
    ) -> Result<Vec<BlockingEvent>, StoreError> {
        check_selection(selection)?;
        let rows: Vec<EventRow> = with_backend!(self, pool, Db => {
            let mut qb = QueryBuilder::<Db>::new(
                "SELECT probe_cc, probe_asn, domain, layer, start_time, end_time, confidence, \
                 measurement_ids FROM blocking_events WHERE 1 = 1",
            );
            push_eq_text(&mut qb, "probe_cc", selection.country.as_deref());
            push_eq_int(&mut qb, "probe_asn", selection.asn.map(i64::from));
            push_eq_text(&mut qb, "domain", selection.domain.as_deref());
            if let Some(from) = selection.from {
                qb.push(" AND (end_time IS NULL OR end_time >= ")
                    .push_bind(from.unix_timestamp())
                    .push(")");
            }
            if let Some(to) = selection.to {
                qb.push(" AND start_time < ").push_bind(to.unix_timestamp());
            }
            qb.push(" ORDER BY start_time DESC, probe_cc, probe_asn, domain, layer LIMIT ")
                .push_bind(i64::from(limit.min(MAX_PAGE)));
            qb.build_query_as().fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|r| {
                let what = format!("event {}/{}/{}", r.probe_cc, r.probe_asn, r.domain);
                let measurement_ids: Vec<String> = serde_json::from_str(&r.measurement_ids)
                    .map_err(|e| StoreError::corrupt(&what, format!("measurement_ids: {e}")))?;
                Ok(BlockingEvent {
                    start: timestamp(&what, r.start_time)?,
                    end: r.end_time.map(|t| timestamp(&what, t)).transpose()?,
                    asn: to_asn(r.probe_asn)?,
                    country: r.probe_cc,
                    domain: r.domain,
                    layer: r.layer,
                    confidence: r.confidence,
                    measurement_ids,
                })
            })
            .collect()
    }
}

/// Rows to points, ordered by day, ASN, outcome (ok, blocked, down,
/// unknown), layer (none first): the same order on both backends.
fn timeline(
    rows: Vec<(i64, i64, String, Option<String>, i64)>,
) -> Result<Vec<TimelinePoint>, StoreError> {
    let mut points = rows
        .into_iter()
        .map(|(d, asn, outcome, layer, n)| {
            Ok(TimelinePoint {
                day: day(d)?,
                asn: to_asn(asn)?,
                outcome: outcome
                    .parse()
                    .map_err(|e: StoreError| StoreError::corrupt(d.to_string(), e.to_string()))?,
                layer: layer_of(layer),
                measurements: count(n),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    points.sort_by(|a, b| {
        (a.day, a.asn, a.outcome, &a.layer).cmp(&(b.day, b.asn, b.outcome, &b.layer))
    });
    Ok(points)
}

fn validate_event(e: &BlockingEvent) -> Result<(), StoreError> {
    let what = "event";
    crate::store::check_country(what, &e.country)?;
    check_len(what, &e.domain, MAX_FIELD_BYTES)?;
    check_len(what, &e.layer, MAX_FIELD_BYTES)?;
    if !(e.confidence.is_finite() && (0.0..=1.0).contains(&e.confidence)) {
        return Err(StoreError::invalid(
            what,
            format!("confidence {} is not in [0, 1]", e.confidence),
        ));
    }
    if e.end.is_some_and(|end| end < e.start) {
        return Err(StoreError::invalid(what, "ends before it starts"));
    }
    if e.measurement_ids.len() > MAX_EVENT_MEASUREMENTS {
        return Err(StoreError::invalid(
            what,
            format!("more than {MAX_EVENT_MEASUREMENTS} measurement ids"),
        ));
    }
    for id in &e.measurement_ids {
        check_len(what, id, MAX_ID_BYTES)?;
    }
    Ok(())
}
