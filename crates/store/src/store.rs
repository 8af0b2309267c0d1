//! [`Store`]: opening, ingest, reanalysis, networks and events.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::str::FromStr;
use std::time::{Duration, Instant};

use canary_model::Blocking;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Transaction};
use time::OffsetDateTime;
use tracing::debug;

use crate::types::{
    InsertReport, Network, NewMeasurement, Outcome, RawMeasurement, ReplaceReport, StoredVerdict,
    MAX_FIELD_BYTES, MAX_ID_BYTES, MAX_RAW_BYTES, MAX_TEXT_BYTES,
};
use crate::StoreError;

static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// Rows per multi-row `INSERT` (SQLite allows 32,766 bound values per
/// statement, PostgreSQL 65,535; the widest insert binds 17 per row).
const ROWS_PER_STATEMENT: usize = 400;
/// zstd level for raw measurements: level 1 is ~2x faster than 3 on ~2 KB
/// documents for a few percent more bytes (still ~5-10x on OONI JSON).
const ZSTD_LEVEL: i32 = 1;
/// How long a writer waits for SQLite's write lock.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long any caller waits for a pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
/// PostgreSQL `statement_timeout`: no query runs longer.
const PG_STATEMENT_TIMEOUT: &str = "120s";
pub(crate) const SECONDS_PER_DAY: i64 = 86_400;

/// Runs `$body` with `$pool` bound to the backend's pool and `$db` to its
/// sqlx database type, so each query is written once for both backends.
macro_rules! with_backend {
    ($store:expr, $pool:ident, $db:ident => $body:block) => {
        match &$store.backend {
            Backend::Sqlite($pool) => {
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                $body
            }
            Backend::Postgres($pool) => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                $body
            }
        }
    };
}
pub(crate) use with_backend;

pub(crate) enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Opens a write transaction: `BEGIN IMMEDIATE` on SQLite (take the write
/// lock up front, so a read-then-write transaction never fails with
/// `SQLITE_BUSY` half-way), a plain `BEGIN` on PostgreSQL.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    async fn begin_write(&self) -> Result<Transaction<'static, Self::Db>, sqlx::Error>;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> Result<Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> Result<Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}

/// Canary's storage over SQLite or PostgreSQL. Cheap to clone (a pool).
///
/// See the [crate docs](crate) for the data model and an example.
pub struct Store {
    pub(crate) backend: Backend,
}

impl Clone for Store {
    fn clone(&self) -> Self {
        Store {
            backend: match &self.backend {
                Backend::Sqlite(p) => Backend::Sqlite(p.clone()),
                Backend::Postgres(p) => Backend::Postgres(p.clone()),
            },
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never print the URL: it may carry a password
        f.debug_struct("Store")
            .field("backend", &self.backend_name())
            .finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database and applies the migrations.
    ///
    /// `url` is `postgres://…` / `postgresql://…`, or a SQLite file given as
    /// a path (`canary.db`), `sqlite:canary.db` or `sqlite://canary.db`
    /// (`sqlite::memory:` for a private in-memory database).
    ///
    /// SQLite runs in WAL mode with `synchronous=FULL`: a committed
    /// measurement survives a `kill -9` *and* a power cut; foreign keys are
    /// on; writers wait up to 30 s for the write lock.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let invalid = |reason: &str| StoreError::InvalidUrl {
            url: redact(url),
            reason: reason.to_owned(),
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| invalid(&e.to_string()))?
                .options([("statement_timeout", PG_STATEMENT_TIMEOUT)]);
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await?;
            POSTGRES_MIGRATOR.run(&pool).await?;
            debug!("opened PostgreSQL store");
            return Ok(Store {
                backend: Backend::Postgres(pool),
            });
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() {
            return Err(invalid("empty SQLite path"));
        }
        if path.contains("://") {
            return Err(invalid(
                "unknown scheme: use postgres://… or a SQLite file path",
            ));
        }
        let memory = path == ":memory:";
        let mut options = SqliteConnectOptions::new()
            .foreign_keys(true)
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            // Bulk-ingest settings (issue 6; durability is unchanged):
            // 16 KiB pages (for new files) make the B-trees shallower and
            // fit a compressed measurement in its row; a 256 MiB page cache
            // (allocated only as used) keeps the indexes' hot pages; the WAL
            // is checkpointed every 64 MiB instead of every 4 MiB, so a
            // 10,000-measurement transaction no longer triggers a checkpoint
            // (and its fsyncs) at each commit.
            .pragma("page_size", "16384")
            .pragma("cache_size", "-262144")
            .pragma("wal_autocheckpoint", "4096")
            .pragma("temp_store", "memory")
            .pragma("mmap_size", "1073741824");
        options = if memory {
            options.in_memory(true)
        } else {
            options
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
        };
        let pool = SqlitePoolOptions::new()
            // one connection for :memory: (each would be its own database)
            .max_connections(if memory { 1 } else { 4 })
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        SQLITE_MIGRATOR.run(&pool).await?;
        debug!(path, "opened SQLite store");
        Ok(Store {
            backend: Backend::Sqlite(pool),
        })
    }

    /// Refreshes the planner's statistics (SQLite `ANALYZE` + `PRAGMA
    /// optimize`; PostgreSQL `VACUUM ANALYZE`, which also makes index-only
    /// scans possible). Call it after a large import.
    pub async fn optimize(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(pool) => {
                sqlx::query("ANALYZE").execute(pool).await?;
                sqlx::query("PRAGMA optimize").execute(pool).await?;
            }
            Backend::Postgres(pool) => {
                for table in [
                    "VACUUM ANALYZE measurements",
                    "VACUUM ANALYZE verdicts",
                    "VACUUM ANALYZE pairs",
                    "VACUUM ANALYZE daily_stats",
                    "VACUUM ANALYZE networks",
                    "VACUUM ANALYZE blocking_events",
                ] {
                    sqlx::query(table).execute(pool).await?;
                }
            }
        }
        Ok(())
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Closes every pooled connection (SQLite checkpoints its WAL).
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(p) => p.close().await,
            Backend::Postgres(p) => p.close().await,
        }
    }

    /// Stores one measurement and commits before returning: when this
    /// returns `Ok`, the measurement is durable. Returns `true` when it was
    /// new, `false` when its id was already stored (nothing changed).
    pub async fn insert_one(&self, m: &NewMeasurement) -> Result<bool, StoreError> {
        let report = self.insert_batch(std::slice::from_ref(m)).await?;
        Ok(report.inserted == 1)
    }

    /// Stores a batch in ONE transaction: all or nothing.
    ///
    /// Idempotent: a measurement whose id is already stored, or repeated
    /// earlier in the batch, is a duplicate and changes nothing (its verdict
    /// is not replaced either: use [`Store::replace_verdicts`]). Every
    /// measurement is validated first; one invalid measurement refuses the
    /// whole batch before anything is written.
    pub async fn insert_batch(&self, batch: &[NewMeasurement]) -> Result<InsertReport, StoreError> {
        let started = Instant::now();
        let mut seen = HashSet::with_capacity(batch.len());
        let mut unique = Vec::with_capacity(batch.len());
        let mut duplicates = 0u64;
        for m in batch {
            validate(m)?;
            if !seen.insert(m.id.as_str()) {
                duplicates += 1;
                continue;
            }
            unique.push(m);
        }
        let mut rows = prepare_rows(&unique)?;
        // Insert in the order of the (country, domain, network, time) index
        // so each batch walks it once, front to back, instead of landing on
        // a random leaf per row. The sort is stable, so rows of one pair
        // with the same time keep their arrival order (and `seq` order,
        // which blocked_now uses to break such ties).
        rows.sort_by(|a, b| {
            (
                a.m.probe_cc.as_str(),
                a.m.domain.as_deref(),
                a.m.probe_asn,
                a.start,
            )
                .cmp(&(
                    b.m.probe_cc.as_str(),
                    b.m.domain.as_deref(),
                    b.m.probe_asn,
                    b.start,
                ))
        });
        if rows.is_empty() {
            return Ok(InsertReport {
                inserted: 0,
                duplicates,
            });
        }
        let received_at = OffsetDateTime::now_utc().unix_timestamp();
        let inserted = with_backend!(self, pool, Db => {
            let mut tx = pool.begin_write().await?;
            let mut fresh: HashMap<String, i64> = HashMap::with_capacity(rows.len());
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO measurements (id, report_id, test_name, test_version, input, \
                     domain, probe_cc, probe_asn, probe_network_name, resolver_asn, \
                     measurement_start_time, software_name, software_version, category_code, \
                     outcome, confirmed, raw_zstd, raw_len, received_at) ",
                );
                qb.push_values(chunk, |mut b, r| {
                    let m = r.m;
                    // borrowed: the values are encoded into the arguments at once
                    b.push_bind(m.id.as_str())
                        .push_bind(m.report_id.as_deref())
                        .push_bind(m.test_name.as_str())
                        .push_bind(m.test_version.as_deref())
                        .push_bind(m.input.as_deref())
                        .push_bind(m.domain.as_deref())
                        .push_bind(m.probe_cc.as_str())
                        .push_bind(i64::from(m.probe_asn))
                        .push_bind(m.probe_network_name.as_deref())
                        .push_bind(m.resolver_asn.map(i64::from))
                        .push_bind(r.start)
                        .push_bind(m.software_name.as_deref())
                        .push_bind(m.software_version.as_deref())
                        .push_bind(m.category_code.as_deref())
                        .push_bind(m.verdict.outcome.as_str())
                        .push_bind(i16::from(m.verdict.confirmed))
                        .push_bind(&r.raw_zstd[..])
                        .push_bind(r.raw_len)
                        .push_bind(received_at);
                });
                qb.push(" ON CONFLICT (id) DO NOTHING RETURNING id, seq");
                let ids: Vec<(String, i64)> = qb.build_query_as().fetch_all(&mut *tx).await?;
                fresh.extend(ids);
            }
            let new_rows: Vec<(i64, &PreparedRow<'_>)> = rows
                .iter()
                .filter_map(|r| fresh.get(&r.m.id).map(|seq| (*seq, r)))
                .collect();

            for chunk in new_rows.chunks(ROWS_PER_STATEMENT) {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO verdicts (measurement_seq, rules_version, blocking, accessible, \
                     outcome, layer, kind, confirmed, fingerprint, explanation, rules_fired, \
                     analysed_at) ",
                );
                qb.push_values(chunk, |mut b, (seq, r)| {
                    let v = VerdictColumns::new(&r.m.verdict);
                    b.push_bind(*seq)
                        .push_bind(v.rules_version)
                        .push_bind(v.blocking)
                        .push_bind(v.accessible)
                        .push_bind(v.outcome)
                        .push_bind(v.layer)
                        .push_bind(v.kind)
                        .push_bind(v.confirmed)
                        .push_bind(v.fingerprint)
                        .push_bind(v.explanation)
                        .push_bind(v.rules_fired)
                        .push_bind(received_at);
                });
                qb.build().execute(&mut *tx).await?;
            }

            // (country, ASN, domain) pairs: latest known category, latest
            // ok and latest blocked times, and the current blocked run
            let mut pairs: BTreeMap<(&str, i64, &str), PairBatch<'_>> = BTreeMap::new();
            // per-day counts
            let mut stats: BTreeMap<StatKey, (i64, i64)> = BTreeMap::new();
            // network names first seen in measurements
            let mut networks: BTreeMap<i64, &str> = BTreeMap::new();
            for (_, r) in &new_rows {
                let m = r.m;
                if let Some(domain) = m.domain.as_deref() {
                    let slot = pairs
                        .entry((m.probe_cc.as_str(), i64::from(m.probe_asn), domain))
                        .or_default();
                    if m.category_code.is_some() {
                        slot.category = m.category_code.as_deref();
                    }
                    slot.last_seen = slot.last_seen.max(r.start);
                    match m.verdict.outcome {
                        Outcome::Ok => slot.last_ok = slot.last_ok.max(Some(r.start)),
                        Outcome::Blocked => slot.blocked.push((r.start, m.verdict.confirmed)),
                        Outcome::Down | Outcome::Unknown => {}
                    }
                }
                let cell = stats.entry(StatKey::of(m, r.start)).or_default();
                cell.0 += 1;
                cell.1 += i64::from(m.verdict.confirmed);
                if let (Some(name), true) = (m.probe_network_name.as_deref(), m.probe_asn != 0) {
                    networks.insert(i64::from(m.probe_asn), name);
                }
            }
            if matches!(self.backend, Backend::Postgres(_)) && !pairs.is_empty() {
                // a run may be recounted from measurements another
                // transaction is still writing: one ingest at a time
                // (SQLite's BEGIN IMMEDIATE already is)
                sqlx::query(PG_PAIRS_LOCK).execute(&mut *tx).await?;
            }
            let pairs: Vec<_> = pairs.into_iter().collect();
            for chunk in pairs.chunks(ROWS_PER_STATEMENT) {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO pairs (probe_cc, probe_asn, domain, category_code, last_seen, \
                     last_ok, last_blocked, run_since, run_len, run_confirmed) ",
                );
                qb.push_values(chunk, |mut b, ((cc, asn, domain), batch)| {
                    let tail = batch.tail();
                    b.push_bind(*cc)
                        .push_bind(*asn)
                        .push_bind(*domain)
                        .push_bind(batch.category)
                        .push_bind(batch.last_seen)
                        .push_bind(batch.last_ok)
                        .push_bind(tail.last_blocked)
                        .push_bind(tail.since)
                        .push_bind(tail.len)
                        .push_bind(tail.confirmed);
                });
                qb.push(PAIRS_UPSERT);
                qb.build().execute(&mut *tx).await?;
            }
            let stats: Vec<_> = stats.into_iter().collect();
            for chunk in stats.chunks(ROWS_PER_STATEMENT) {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO daily_stats (probe_cc, day, probe_asn, category_code, outcome, \
                     layer, measurements, confirmed) ",
                );
                qb.push_values(chunk, |mut b, (k, (n, confirmed))| {
                    b.push_bind(k.cc.clone())
                        .push_bind(k.day)
                        .push_bind(k.asn)
                        .push_bind(k.category.clone())
                        .push_bind(k.outcome.as_str())
                        .push_bind(k.layer.clone())
                        .push_bind(*n)
                        .push_bind(*confirmed);
                });
                qb.push(
                    " ON CONFLICT (probe_cc, day, probe_asn, category_code, outcome, layer) \
                     DO UPDATE SET measurements = daily_stats.measurements + excluded.measurements, \
                     confirmed = daily_stats.confirmed + excluded.confirmed",
                );
                qb.build().execute(&mut *tx).await?;
            }
            insert_probe_networks(&mut tx, &networks, received_at).await?;
            tx.commit().await?;
            new_rows.len() as u64
        });
        let report = InsertReport {
            inserted,
            duplicates: duplicates + (rows.len() as u64 - inserted),
        };
        debug!(
            inserted = report.inserted,
            duplicates = report.duplicates,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "insert_batch"
        );
        Ok(report)
    }

    /// Number of stored measurements.
    pub async fn count(&self) -> Result<u64, StoreError> {
        let n: i64 = with_backend!(self, pool, Db => {
            sqlx::query_scalar("SELECT COUNT(*) FROM measurements").fetch_one(pool).await?
        });
        Ok(n.max(0) as u64)
    }

    /// Up to `limit` (at most 10,000) raw measurements with ids greater than
    /// `after`, in id order: the cursor for `canary reanalyse`.
    ///
    /// ```no_run
    /// # async fn demo(store: canary_store::Store) -> Result<(), canary_store::StoreError> {
    /// let mut after: Option<String> = None;
    /// loop {
    ///     let batch = store.raw_batch(after.as_deref(), 1000).await?;
    ///     let Some(last) = batch.last() else { break };
    ///     after = Some(last.id.clone());
    ///     // … recompute verdicts, then store.replace_verdicts(&new).await?
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn raw_batch(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RawMeasurement>, StoreError> {
        self.raw_batch_of(
            "SELECT id, raw_zstd, raw_len FROM measurements WHERE id > $1 ORDER BY id LIMIT $2",
            after,
            limit,
        )
        .await
    }

    /// The id cursor behind [`Store::raw_batch`] and
    /// [`Store::social_raw_batch`]: `sql` selects `(id, raw_zstd, raw_len)`
    /// with ids greater than `$1`, in id order, at most `$2` (capped at
    /// 10,000), and the raw JSON comes back decompressed.
    pub(crate) async fn raw_batch_of(
        &self,
        sql: &'static str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RawMeasurement>, StoreError> {
        let limit = i64::from(limit.min(10_000));
        let rows: Vec<(String, Vec<u8>, i64)> = with_backend!(self, pool, Db => {
            sqlx::query_as(sql)
            .bind(after.unwrap_or("").to_owned())
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(id, zstd, len)| {
                let raw_json = decompress(&id, &zstd, len)?;
                Ok(RawMeasurement { id, raw_json })
            })
            .collect()
    }

    /// Replaces current verdicts (reanalysis) in one transaction.
    ///
    /// A verdict equal to the stored one is left alone (`unchanged`); a
    /// different one replaces it and the old one is appended to
    /// `verdict_history` (`changed`); unknown ids are counted as `missing`.
    /// The day counts behind the series follow. When an id appears twice,
    /// the last verdict wins.
    pub async fn replace_verdicts(
        &self,
        verdicts: &[(String, StoredVerdict)],
    ) -> Result<ReplaceReport, StoreError> {
        let mut latest: BTreeMap<&str, &StoredVerdict> = BTreeMap::new();
        for (id, v) in verdicts {
            validate_verdict(id, v)?;
            latest.insert(id.as_str(), v);
        }
        let ids: Vec<&str> = latest.keys().copied().collect();
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let mut report = ReplaceReport::default();
        with_backend!(self, pool, Db => {
            let mut tx = pool.begin_write().await?;
            let mut current: HashMap<String, CurrentRow> = HashMap::with_capacity(ids.len());
            for chunk in ids.chunks(ROWS_PER_STATEMENT) {
                let mut qb = QueryBuilder::<Db>::new(
                    "SELECT m.seq, m.id, m.probe_cc, m.probe_asn, m.domain, m.category_code, \
                     m.measurement_start_time, v.rules_version, v.blocking, v.accessible, \
                     v.outcome, v.layer, v.kind, v.confirmed, v.fingerprint, v.explanation, \
                     v.rules_fired FROM measurements m JOIN verdicts v ON v.measurement_seq = m.seq \
                     WHERE m.id IN (",
                );
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.to_string());
                }
                qb.push(")");
                let rows: Vec<CurrentRow> = qb.build_query_as().fetch_all(&mut *tx).await?;
                current.extend(rows.into_iter().map(|r| (r.id.clone(), r)));
            }
            let mut deltas: BTreeMap<StatKey, (i64, i64)> = BTreeMap::new();
            let mut touched_pairs: BTreeSet<(String, i64, String)> = BTreeSet::new();
            for (id, new) in &latest {
                let Some(row) = current.get(*id) else {
                    report.missing += 1;
                    continue;
                };
                let old = row.verdict()?;
                if &&old == new {
                    report.unchanged += 1;
                    continue;
                }
                report.changed += 1;
                let o = VerdictColumns::new(&old);
                sqlx::query(
                    "INSERT INTO verdict_history (measurement_id, rules_version, blocking, \
                     outcome, layer, kind, confirmed, replaced_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(id.to_string())
                .bind(o.rules_version)
                .bind(o.blocking)
                .bind(o.outcome)
                .bind(o.layer)
                .bind(o.kind)
                .bind(o.confirmed)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let v = VerdictColumns::new(new);
                sqlx::query(
                    "UPDATE verdicts SET rules_version = $1, blocking = $2, accessible = $3, \
                     outcome = $4, layer = $5, kind = $6, confirmed = $7, fingerprint = $8, \
                     explanation = $9, rules_fired = $10, analysed_at = $11 \
                     WHERE measurement_seq = $12",
                )
                .bind(v.rules_version)
                .bind(v.blocking)
                .bind(v.accessible)
                .bind(v.outcome)
                .bind(v.layer)
                .bind(v.kind)
                .bind(v.confirmed)
                .bind(v.fingerprint)
                .bind(v.explanation)
                .bind(v.rules_fired)
                .bind(now)
                .bind(row.seq)
                .execute(&mut *tx)
                .await?;
                if (old.outcome, old.confirmed) != (new.outcome, new.confirmed) {
                    sqlx::query("UPDATE measurements SET outcome = $1, confirmed = $2 WHERE seq = $3")
                        .bind(new.outcome.as_str())
                        .bind(i16::from(new.confirmed))
                        .bind(row.seq)
                        .execute(&mut *tx)
                        .await?;
                }
                let run_changes = (old.outcome, old.confirmed) != (new.outcome, new.confirmed);
                if let (Some(domain), true) = (&row.domain, run_changes) {
                    touched_pairs.insert((row.probe_cc.clone(), row.probe_asn, domain.clone()));
                }
                let day = row.measurement_start_time.div_euclid(SECONDS_PER_DAY);
                let base = StatKey {
                    cc: row.probe_cc.clone(),
                    day,
                    asn: row.probe_asn,
                    category: row.category_code.clone().unwrap_or_default(),
                    outcome: old.outcome,
                    layer: String::new(),
                };
                let old_key = base.with_verdict(&old);
                let new_key = base.with_verdict(new);
                let cell = deltas.entry(old_key).or_default();
                cell.0 -= 1;
                cell.1 -= i64::from(old.confirmed);
                let cell = deltas.entry(new_key).or_default();
                cell.0 += 1;
                cell.1 += i64::from(new.confirmed);
            }
            for (k, (n, confirmed)) in deltas.iter().filter(|(_, d)| **d != (0, 0)) {
                sqlx::query(
                    "INSERT INTO daily_stats (probe_cc, day, probe_asn, category_code, outcome, \
                     layer, measurements, confirmed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (probe_cc, day, probe_asn, category_code, outcome, layer) \
                     DO UPDATE SET measurements = daily_stats.measurements + excluded.measurements, \
                     confirmed = daily_stats.confirmed + excluded.confirmed",
                )
                .bind(k.cc.clone())
                .bind(k.day)
                .bind(k.asn)
                .bind(k.category.clone())
                .bind(k.outcome.as_str())
                .bind(k.layer.clone())
                .bind(*n)
                .bind(*confirmed)
                .execute(&mut *tx)
                .await?;
                if *n < 0 {
                    sqlx::query(
                        "DELETE FROM daily_stats WHERE probe_cc = $1 AND day = $2 AND \
                         probe_asn = $3 AND category_code = $4 AND outcome = $5 AND layer = $6 \
                         AND measurements <= 0",
                    )
                    .bind(k.cc.clone())
                    .bind(k.day)
                    .bind(k.asn)
                    .bind(k.category.clone())
                    .bind(k.outcome.as_str())
                    .bind(k.layer.clone())
                    .execute(&mut *tx)
                    .await?;
                }
            }
            if matches!(self.backend, Backend::Postgres(_)) && !touched_pairs.is_empty() {
                sqlx::query(PG_PAIRS_LOCK).execute(&mut *tx).await?;
            }
            for (cc, asn, domain) in &touched_pairs {
                sqlx::query(
                    "UPDATE pairs SET \
                     last_ok = (SELECT MAX(m.measurement_start_time) FROM measurements m \
                       WHERE m.probe_cc = $1 AND m.domain = $3 AND m.probe_asn = $2 \
                       AND m.outcome = 'ok'), \
                     last_blocked = (SELECT MAX(m.measurement_start_time) FROM measurements m \
                       WHERE m.probe_cc = $1 AND m.domain = $3 AND m.probe_asn = $2 \
                       AND m.outcome = 'blocked') \
                     WHERE probe_cc = $1 AND probe_asn = $2 AND domain = $3",
                )
                .bind(cc.clone())
                .bind(*asn)
                .bind(domain.clone())
                .execute(&mut *tx)
                .await?;
                sqlx::query(RECOUNT_RUN)
                    .bind(cc.clone())
                    .bind(*asn)
                    .bind(domain.clone())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        debug!(?report, "replace_verdicts");
        Ok(report)
    }

    /// Sets (or renames) a network. Names set here are never overwritten
    /// by the `probe_network_name` of later measurements.
    pub async fn upsert_network(&self, asn: u32, name: &str) -> Result<(), StoreError> {
        check_len("network name", name, MAX_FIELD_BYTES)?;
        let now = OffsetDateTime::now_utc().unix_timestamp();
        with_backend!(self, pool, Db => {
            sqlx::query(
                "INSERT INTO networks (asn, name, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (asn) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at",
            )
            .bind(i64::from(asn))
            .bind(name.to_owned())
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The name of one network, if known.
    pub async fn network(&self, asn: u32) -> Result<Option<Network>, StoreError> {
        let row: Option<(i64, String)> = with_backend!(self, pool, Db => {
            sqlx::query_as("SELECT asn, name FROM networks WHERE asn = $1")
                .bind(i64::from(asn))
                .fetch_optional(pool)
                .await?
        });
        row.map(|(asn, name)| {
            Ok(Network {
                asn: to_asn(asn)?,
                name,
            })
        })
        .transpose()
    }

    /// Every known network, by ASN (at most 100,000).
    pub async fn networks(&self) -> Result<Vec<Network>, StoreError> {
        let rows: Vec<(i64, String)> = with_backend!(self, pool, Db => {
            sqlx::query_as("SELECT asn, name FROM networks ORDER BY asn LIMIT 100000")
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|(asn, name)| {
                Ok(Network {
                    asn: to_asn(asn)?,
                    name,
                })
            })
            .collect()
    }
}

/// Records the network names that probes reported (`asn` → name) inside a
/// write transaction. Names set by an operator ([`Store::upsert_network`])
/// win: a known ASN is left alone.
pub(crate) async fn insert_probe_networks<DB>(
    tx: &mut Transaction<'static, DB>,
    networks: &BTreeMap<i64, &str>,
    at: i64,
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    let networks: Vec<(i64, &str)> = networks.iter().map(|(a, n)| (*a, *n)).collect();
    for chunk in networks.chunks(ROWS_PER_STATEMENT) {
        let mut qb = QueryBuilder::<DB>::new("INSERT INTO networks (asn, name, updated_at) ");
        qb.push_values(chunk, |mut b, (asn, name)| {
            b.push_bind(*asn).push_bind(*name).push_bind(at);
        });
        qb.push(" ON CONFLICT (asn) DO NOTHING");
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// The URL without its credentials (`postgres://***@host/db`).
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// What one batch brings to a `pairs` row.
#[derive(Default)]
struct PairBatch<'a> {
    category: Option<&'a str>,
    last_seen: i64,
    last_ok: Option<i64>,
    /// (time, confirmed) of the batch's blocked measurements
    blocked: Vec<(i64, bool)>,
}

/// What a batch alone says of a pair's run: its latest blocked time and
/// the blocked measurements after its latest ok (all of them when it has
/// none).
struct Tail {
    last_blocked: Option<i64>,
    since: Option<i64>,
    len: i64,
    confirmed: i16,
}

impl PairBatch<'_> {
    fn tail(&self) -> Tail {
        let mut tail = Tail {
            last_blocked: None,
            since: None,
            len: 0,
            confirmed: 0,
        };
        for &(t, c) in &self.blocked {
            tail.last_blocked = tail.last_blocked.max(Some(t));
            if self.last_ok.is_none_or(|ok| t > ok) {
                tail.since = Some(tail.since.map_or(t, |s| s.min(t)));
                tail.len += 1;
                tail.confirmed = tail.confirmed.max(i16::from(c));
            }
        }
        tail
    }
}

/// The later of the stored and the batch's latest ok (either may be NULL).
macro_rules! new_last_ok {
    () => {
        "COALESCE(CASE WHEN excluded.last_ok > pairs.last_ok THEN excluded.last_ok \
         ELSE pairs.last_ok END, excluded.last_ok)"
    };
}

/// A pair's blocked measurements after its new latest ok, from the index
/// (`$agg` of them), for the rare batch that the stored run cannot absorb.
macro_rules! recount {
    ($agg:literal) => {
        concat!(
            "(SELECT ",
            $agg,
            " FROM measurements m WHERE m.probe_cc = excluded.probe_cc \
             AND m.domain = excluded.domain AND m.probe_asn = excluded.probe_asn \
             AND m.outcome = 'blocked' AND (",
            new_last_ok!(),
            " IS NULL OR m.measurement_start_time > ",
            new_last_ok!(),
            "))"
        )
    };
}

/// The batch has no ok and all its blocked measurements come after the
/// stored latest ok: they extend the stored run.
macro_rules! extends {
    () => {
        "(excluded.last_ok IS NULL AND (pairs.last_ok IS NULL OR excluded.run_len = 0 \
         OR excluded.run_since > pairs.last_ok))"
    };
}

/// The batch's latest ok is later than every stored ok and blocked
/// measurement: the run restarts with the batch's tail.
macro_rules! restarts {
    () => {
        "(excluded.last_ok IS NOT NULL AND (pairs.last_ok IS NULL OR excluded.last_ok > pairs.last_ok) \
         AND (pairs.last_blocked IS NULL OR pairs.last_blocked <= excluded.last_ok))"
    };
}

/// The `pairs` upsert of one batch. A new pair's row is the batch's own
/// (its tail is its run). A known pair's run is extended or restarted in
/// place in the common, in-order case; otherwise (measurements that arrive
/// late, an ok inside the stored run) it is recounted from the index. All
/// SET expressions read the row as it was before this statement.
const PAIRS_UPSERT: &str = concat!(
    " ON CONFLICT (probe_cc, probe_asn, domain) DO UPDATE SET \
     category_code = COALESCE(excluded.category_code, pairs.category_code), \
     last_seen = CASE WHEN excluded.last_seen > pairs.last_seen \
       THEN excluded.last_seen ELSE pairs.last_seen END, \
     last_ok = ",
    new_last_ok!(),
    ", last_blocked = COALESCE(CASE WHEN excluded.last_blocked > pairs.last_blocked \
       THEN excluded.last_blocked ELSE pairs.last_blocked END, excluded.last_blocked), \
     run_since = CASE WHEN ",
    extends!(),
    " THEN COALESCE(CASE WHEN excluded.run_since < pairs.run_since THEN excluded.run_since \
       ELSE pairs.run_since END, excluded.run_since) WHEN ",
    restarts!(),
    " THEN excluded.run_since ELSE ",
    recount!("MIN(m.measurement_start_time)"),
    " END, run_len = CASE WHEN ",
    extends!(),
    " THEN pairs.run_len + excluded.run_len WHEN ",
    restarts!(),
    " THEN excluded.run_len ELSE ",
    recount!("COUNT(*)"),
    " END, run_confirmed = CASE WHEN ",
    extends!(),
    " THEN CASE WHEN excluded.run_confirmed > pairs.run_confirmed \
       THEN excluded.run_confirmed ELSE pairs.run_confirmed END WHEN ",
    restarts!(),
    " THEN excluded.run_confirmed ELSE ",
    recount!("COALESCE(MAX(m.confirmed), 0)"),
    " END"
);

/// Serialises the `pairs` upserts (whose recounts read measurements) between
/// PostgreSQL transactions (a transaction-scoped advisory lock; the key is arbitrary
/// but fixed).
const PG_PAIRS_LOCK: &str = "SELECT pg_advisory_xact_lock(7243015)";

/// Recounts one pair's current run from the index (`$1` country, `$2` ASN,
/// `$3` domain), after its `last_ok` is right.
const RECOUNT_RUN: &str = "UPDATE pairs SET \
    run_since = (SELECT MIN(m.measurement_start_time) FROM measurements m \
      WHERE m.probe_cc = pairs.probe_cc AND m.domain = pairs.domain \
      AND m.probe_asn = pairs.probe_asn AND m.outcome = 'blocked' \
      AND (pairs.last_ok IS NULL OR m.measurement_start_time > pairs.last_ok)), \
    run_len = (SELECT COUNT(*) FROM measurements m \
      WHERE m.probe_cc = pairs.probe_cc AND m.domain = pairs.domain \
      AND m.probe_asn = pairs.probe_asn AND m.outcome = 'blocked' \
      AND (pairs.last_ok IS NULL OR m.measurement_start_time > pairs.last_ok)), \
    run_confirmed = (SELECT COALESCE(MAX(m.confirmed), 0) FROM measurements m \
      WHERE m.probe_cc = pairs.probe_cc AND m.domain = pairs.domain \
      AND m.probe_asn = pairs.probe_asn AND m.outcome = 'blocked' \
      AND (pairs.last_ok IS NULL OR m.measurement_start_time > pairs.last_ok)) \
    WHERE probe_cc = $1 AND probe_asn = $2 AND domain = $3";

/// One validated measurement with its compressed raw JSON.
struct PreparedRow<'a> {
    m: &'a NewMeasurement,
    start: i64,
    raw_zstd: Vec<u8>,
    raw_len: i64,
}

/// Compresses the raw measurements; large batches are split over the
/// machine's cores (scoped threads: the caller's thread waits for them).
fn prepare_rows<'a>(batch: &[&'a NewMeasurement]) -> Result<Vec<PreparedRow<'a>>, StoreError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if threads < 2 || batch.len() < 512 {
        return compress_all(batch);
    }
    let chunk = batch.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = batch
            .chunks(chunk)
            .map(|part| scope.spawn(move || compress_all(part)))
            .collect();
        let mut rows = Vec::with_capacity(batch.len());
        for h in handles {
            match h.join() {
                Ok(part) => rows.extend(part?),
                Err(_) => return Err(StoreError::invalid("batch", "compression thread panicked")),
            }
        }
        Ok(rows)
    })
}

/// Compresses with one reused zstd context (creating one per document
/// cost more than the compression itself).
fn compress_all<'a>(part: &[&'a NewMeasurement]) -> Result<Vec<PreparedRow<'a>>, StoreError> {
    let mut compressor = zstd::bulk::Compressor::new(ZSTD_LEVEL)
        .map_err(|e| StoreError::invalid("batch", format!("zstd: {e}")))?;
    part.iter()
        .map(|m| {
            let raw_zstd = compressor
                .compress(&m.raw_json)
                .map_err(|e| StoreError::invalid(format!("measurement {}", m.id), e.to_string()))?;
            Ok(PreparedRow {
                m,
                start: m.measurement_start_time.unix_timestamp(),
                raw_zstd,
                raw_len: m.raw_json.len() as i64,
            })
        })
        .collect()
}

/// The key of one `daily_stats` cell.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct StatKey {
    cc: String,
    day: i64,
    asn: i64,
    category: String,
    outcome: Outcome,
    layer: String,
}

impl StatKey {
    fn of(m: &NewMeasurement, start: i64) -> StatKey {
        StatKey {
            cc: m.probe_cc.clone(),
            day: start.div_euclid(SECONDS_PER_DAY),
            asn: i64::from(m.probe_asn),
            category: m.category_code.clone().unwrap_or_default(),
            outcome: m.verdict.outcome,
            layer: String::new(),
        }
        .with_verdict(&m.verdict)
    }

    /// Same cell, for this verdict's outcome; the layer counts only for
    /// blocked outcomes (`''` otherwise).
    fn with_verdict(&self, v: &StoredVerdict) -> StatKey {
        StatKey {
            outcome: v.outcome,
            layer: if v.outcome == Outcome::Blocked {
                v.layer.clone().unwrap_or_default()
            } else {
                String::new()
            },
            ..self.clone()
        }
    }
}

/// A verdict as column values.
pub(crate) struct VerdictColumns {
    pub rules_version: String,
    pub blocking: Option<String>,
    pub accessible: Option<i16>,
    pub outcome: &'static str,
    pub layer: Option<String>,
    pub kind: Option<String>,
    pub confirmed: i16,
    pub fingerprint: Option<String>,
    pub explanation: String,
    pub rules_fired: String,
}

impl VerdictColumns {
    pub fn new(v: &StoredVerdict) -> Self {
        VerdictColumns {
            rules_version: v.rules_version.clone(),
            blocking: v.blocking.as_ref().map(ToString::to_string),
            accessible: v.accessible.map(i16::from),
            outcome: v.outcome.as_str(),
            layer: v.layer.clone(),
            kind: v.kind.clone(),
            confirmed: i16::from(v.confirmed),
            fingerprint: v.fingerprint.clone(),
            explanation: v.explanation.clone(),
            // a Vec<String> always serialises
            rules_fired: serde_json::to_string(&v.rules_fired).unwrap_or_else(|_| "[]".into()),
        }
    }
}

/// The verdict columns of a row, as read back.
#[derive(sqlx::FromRow)]
pub(crate) struct VerdictRow {
    pub rules_version: String,
    pub blocking: Option<String>,
    pub accessible: Option<i16>,
    pub outcome: String,
    pub layer: Option<String>,
    pub kind: Option<String>,
    pub confirmed: i16,
    pub fingerprint: Option<String>,
    pub explanation: String,
    pub rules_fired: String,
}

impl VerdictRow {
    pub fn into_verdict(self, id: &str) -> Result<StoredVerdict, StoreError> {
        let blocking = match self.blocking.as_deref() {
            None => None,
            Some("false") => Some(Blocking::NotBlocked),
            Some(text) => Some(
                serde_json::from_value::<Blocking>(serde_json::Value::String(text.to_owned()))
                    .map_err(|e| StoreError::corrupt(id, format!("blocking: {e}")))?,
            ),
        };
        let outcome =
            Outcome::from_str(&self.outcome).map_err(|e| StoreError::corrupt(id, e.to_string()))?;
        let rules_fired: Vec<String> = serde_json::from_str(&self.rules_fired)
            .map_err(|e| StoreError::corrupt(id, format!("rules_fired: {e}")))?;
        Ok(StoredVerdict {
            rules_version: self.rules_version,
            blocking,
            accessible: self.accessible.map(|a| a != 0),
            outcome,
            layer: self.layer,
            kind: self.kind,
            confirmed: self.confirmed != 0,
            fingerprint: self.fingerprint,
            explanation: self.explanation,
            rules_fired,
        })
    }
}

#[derive(sqlx::FromRow)]
struct CurrentRow {
    seq: i64,
    id: String,
    probe_cc: String,
    probe_asn: i64,
    domain: Option<String>,
    category_code: Option<String>,
    measurement_start_time: i64,
    #[sqlx(flatten)]
    verdict: VerdictRow,
}

impl CurrentRow {
    fn verdict(&self) -> Result<StoredVerdict, StoreError> {
        VerdictRow {
            rules_version: self.verdict.rules_version.clone(),
            blocking: self.verdict.blocking.clone(),
            accessible: self.verdict.accessible,
            outcome: self.verdict.outcome.clone(),
            layer: self.verdict.layer.clone(),
            kind: self.verdict.kind.clone(),
            confirmed: self.verdict.confirmed,
            fingerprint: self.verdict.fingerprint.clone(),
            explanation: self.verdict.explanation.clone(),
            rules_fired: self.verdict.rules_fired.clone(),
        }
        .into_verdict(&self.id)
    }
}

/// Decompresses a stored raw measurement, refusing anything larger than
/// its recorded length (or than [`MAX_RAW_BYTES`]).
pub(crate) fn decompress(id: &str, zstd: &[u8], len: i64) -> Result<Vec<u8>, StoreError> {
    let len = usize::try_from(len)
        .ok()
        .filter(|l| *l <= MAX_RAW_BYTES)
        .ok_or_else(|| StoreError::corrupt(id, format!("raw length {len} out of range")))?;
    let raw = zstd::bulk::decompress(zstd, len)
        .map_err(|e| StoreError::corrupt(id, format!("raw measurement: {e}")))?;
    if raw.len() != len {
        return Err(StoreError::corrupt(
            id,
            format!("raw measurement is {} bytes, expected {len}", raw.len()),
        ));
    }
    Ok(raw)
}

pub(crate) fn to_asn(value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| StoreError::corrupt(value.to_string(), "ASN out of range"))
}

pub(crate) fn check_len(what: &str, value: &str, max: usize) -> Result<(), StoreError> {
    if value.len() > max {
        return Err(StoreError::invalid(
            what,
            format!("{} bytes, at most {max} allowed", value.len()),
        ));
    }
    if value.contains('\0') {
        return Err(StoreError::invalid(what, "contains a NUL character"));
    }
    Ok(())
}

/// A two-letter upper-case country code.
pub(crate) fn check_country(what: &str, cc: &str) -> Result<(), StoreError> {
    if cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(StoreError::invalid(
            what,
            format!("country {cc:?} is not two upper-case letters"),
        ))
    }
}

fn validate(m: &NewMeasurement) -> Result<(), StoreError> {
    let what = format!(
        "measurement {}",
        m.id.chars().take(MAX_ID_BYTES).collect::<String>()
    );
    let fail = |reason: String| Err(StoreError::invalid(what.clone(), reason));
    if m.id.is_empty() {
        return fail("empty id".into());
    }
    check_len(&what, &m.id, MAX_ID_BYTES)?;
    if m.id.chars().any(char::is_control) {
        return fail("id contains control characters".into());
    }
    check_country(&what, &m.probe_cc)?;
    if m.test_name.is_empty() {
        return fail("empty test_name".into());
    }
    for field in [
        Some(&m.test_name),
        m.report_id.as_ref(),
        m.test_version.as_ref(),
        m.domain.as_ref(),
        m.probe_network_name.as_ref(),
        m.software_name.as_ref(),
        m.software_version.as_ref(),
        m.category_code.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        check_len(&what, field, MAX_FIELD_BYTES)?;
    }
    if let Some(input) = &m.input {
        check_len(&what, input, MAX_TEXT_BYTES)?;
    }
    if m.measurement_start_time.unix_timestamp() < 0 {
        return fail("measurement_start_time before 1970".into());
    }
    if m.raw_json.len() > MAX_RAW_BYTES {
        return fail(format!(
            "raw measurement is {} bytes, at most {MAX_RAW_BYTES} allowed",
            m.raw_json.len()
        ));
    }
    if std::str::from_utf8(&m.raw_json).is_err() {
        return fail("raw measurement is not UTF-8".into());
    }
    validate_verdict(&m.id, &m.verdict)
}

fn validate_verdict(id: &str, v: &StoredVerdict) -> Result<(), StoreError> {
    let what = format!(
        "verdict of {}",
        id.chars().take(MAX_ID_BYTES).collect::<String>()
    );
    check_len(&what, id, MAX_ID_BYTES)?;
    for field in [
        Some(&v.rules_version),
        v.layer.as_ref(),
        v.kind.as_ref(),
        v.fingerprint.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        check_len(&what, field, MAX_FIELD_BYTES)?;
    }
    check_len(&what, &v.explanation, MAX_TEXT_BYTES)?;
    if v.rules_fired.len() > 1000 {
        return Err(StoreError::invalid(what, "more than 1000 rules fired"));
    }
    for rule in &v.rules_fired {
        check_len(&what, rule, MAX_FIELD_BYTES)?;
    }
    Ok(())
}
