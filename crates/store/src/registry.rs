//! The documentation registry's persistence: incidents, laws, evidence,
//! custody chains and the audit log (types from `canary-registry`).
//!
//! The registry is small (thousands of records, not millions), so the model
//! is simple: [`Store::registry_load`] gives the whole [`Dataset`] (sealed
//! as stored) and pages filter it in memory (`Dataset::view_for`,
//! `policy::can_read`…). Writes go through a few checked doors:
//!
//! | call | does |
//! |---|---|
//! | [`Store::registry_load`] | everything, as a [`Dataset`], in the order it was written |
//! | [`Store::registry_record`] | one top-level record by id (`registry_record::<Incident>("inc_…")`) |
//! | [`Store::registry_import`] | a whole dataset in one transaction; idempotent; newer versions update |
//! | [`Store::registry_put_record`] | insert/update one top-level record (incident, actor, source, law, provision, evidence, recommendation, benchmark); optimistic concurrency through its `RecordMeta` versions |
//! | [`Store::registry_put_row`] | insert/update one row without metadata (organisation, incident link, act, involvement, citation, invocation, assessment), attributed by an [`Edit`] |
//! | [`Store::registry_delete_row`] | delete one such row, attributed |
//! | [`Store::registry_history`] | the attributed version history of a row |
//! | [`Store::registry_custody_append`], [`Store::registry_custody`] | an evidence item's custody chain |
//! | [`Store::registry_audit_append`], [`Store::registry_audit_append_all`], [`Store::registry_audit`] | the audit log |
//! | [`Store::registry_batch`] | several of the writes above in one transaction ([`RegistryBatch`]) |
//! | [`Store::registry_chain_heads`] | every chain's head (publish them to anchor the chains) |
//! | [`Store::registry_check_anchors`] | heads saved earlier (outside the database) against the chains now |
//! | [`Store::registry_verify`] | every chain, every record against its history, dataset validity, no clear text at rest, evidence files |
//!
//! ## Invariants
//!
//! * **No sensitive field is ever written in clear.** A record with a
//!   [`SensitiveField::Clear`] value is refused with
//!   [`StoreError::Invalid`] (`what` = [`CLEAR_SENSITIVE`]) before anything
//!   is written: seal first (`Dataset::seal_all`, `seal_record` with the
//!   `KeyRing`). A write never replaces a *sealed* value with a *redacted*
//!   one either (writing back a redacted view would destroy the secret).
//! * **Every change is attributed and versioned.** `registry_versions` keeps
//!   one row per version of every row (who, when, why, the body written);
//!   it is append-only (triggers refuse `UPDATE`/`DELETE`).
//! * **Optimistic concurrency.** A top-level record carries its version
//!   history (`RecordMeta::versions`). A write must *extend* the stored
//!   history: call `record_edit` / `transition` / `set_visibility` on the
//!   record you loaded, then [`Store::registry_put_record`]. If someone
//!   else saved first, your history no longer extends theirs and the write
//!   is refused with `what` = [`STALE_VERSION`] ([`is_stale_version`]):
//!   reload and redo the edit. Writing the same version with the same
//!   content is a no-op.
//! * **Chains are appended by the store.** Custody events and audit
//!   entries get their `seq` and `prev_hash` inside a transaction that
//!   locks the chain's head row (`SELECT … FOR UPDATE` on PostgreSQL, the
//!   write lock on SQLite), so concurrent appends never fork a chain; the
//!   head (length and last hash) is kept in `registry_chain_heads` in the
//!   same transaction, so deleting the *last* entries is detected too.
//!
//! ## What verification does and does not catch
//!
//! [`Store::registry_verify`] recomputes every hash and link, checks each
//! chain against its recorded head, compares every record with the body
//! recorded for its version, checks that nothing is in clear at rest,
//! validates the dataset's references and, given the evidence directory,
//! re-hashes every evidence file. It catches edits, insertions, deletions
//! (middle *and* last entries) and reorderings made with SQL behind
//! Canary's back. It cannot catch someone with full write access who
//! rewrites a whole chain, recomputes every hash *and* rewrites its head
//! (or rewrites a record and its version row together): against that,
//! publish or print the heads ([`Store::registry_chain_heads`], `canary
//! verify --json`) somewhere the database's administrators cannot change,
//! and compare later ([`Store::registry_check_anchors`], `canary verify
//! --anchors FILE`): a rewrite *before* the heads were saved, or of
//! entries appended since, still goes unseen. Records' current bodies are
//! only checked against their own history table.
//!
//! ## Reading for one user
//!
//! Filter in memory: `store.registry_load()?.view_for(&principal)` gives
//! the records the principal may read, redacted for them; then
//! [`incident_bundle`] (one incident with everything attached),
//! [`incidents_for_measurement`] and [`blocking_orders_for_domain`] answer
//! the questions measurement pages ask. Version histories of records
//! carry user ids: `view_for` redacts them outside the owning
//! organisation; do the same with [`Store::registry_history`].
//!
//! ## Performance (measured; `tests/registry_scale.rs`)
//!
//! Release build on the shared 2-core development machine, the Cambodia
//! seed copied 100 times (24,701 rows: 22,600 registry rows, 2,000 custody
//! events in 200 chains, plus 1,000 audit entries):
//!
//! | | SQLite | PostgreSQL |
//! |---|---|---|
//! | import, one transaction | 1.6 s | 7.9 s |
//! | re-import, nothing changed | 0.95 s | 0.60 s |
//! | `registry_load` | 0.08 s | 0.08 s |
//! | `registry_verify` | 0.31 s | 0.24 s |
//!
//! The seed itself (226 rows) imports in well under 0.1 s. Imports write
//! row by row (two statements per changed row): fine for a registry, not
//! meant for millions.
//!
//! ## Example
//!
//! ```
//! use canary_registry::{seed, Dataset, FieldKey, KeyRing};
//! use canary_store::Store;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Store::open("sqlite::memory:").await?;
//! let ring = KeyRing::new(FieldKey::generate(1)?);
//! let mut ds = seed::kh();
//! assert!(store.registry_import(&ds, "seed", seed::SEED_AT).await.is_err()); // clear identity
//! ds.seal_all(&ring)?;
//! let first = store.registry_import(&ds, "seed", seed::SEED_AT).await?;
//! assert!(first.changed() > 0);
//! let again = store.registry_import(&ds, "seed", seed::SEED_AT).await?;
//! assert_eq!(again.changed(), 0); // idempotent
//!
//! let mut loaded: Dataset = store.registry_load().await?;
//! assert_eq!(loaded.incidents.len(), ds.incidents.len());
//! loaded.open_all(&ring)?; // the owners' view, in clear, in memory only
//! assert!(store.registry_verify(None).await?.is_ok());
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use canary_registry::{
    verify_chain_with_head, verify_custody, Act, Actor, Assessment, AuditAction, AuditEntry,
    Benchmark, ChainHead, Chained, Citation, CustodyAction, CustodyEvent, Dataset, EvidenceItem,
    Incident, IncidentLink, Involvement, Law, ObjectStore, Organisation, Provision,
    ProvisionInvocation, Recommendation, Record, Source, Version,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tracing::debug;

use crate::store::{check_len, Backend, BeginWrite};
use crate::{StoreError, MAX_FIELD_BYTES};

/// `StoreError::Invalid::what` of a write refused because the stored row
/// changed since it was read (see [`is_stale_version`]).
pub const STALE_VERSION: &str = "stale version";
/// `StoreError::Invalid::what` of a write refused because a sensitive
/// field was in clear.
pub const CLEAR_SENSITIVE: &str = "clear sensitive field";
/// Largest JSON body of one row (bytes).
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Most rows [`Store::registry_load`] and [`Store::registry_verify`] read
/// from one table.
pub const MAX_REGISTRY_ROWS: usize = 2_000_000;
/// Most audit entries one [`Store::registry_audit`] call returns.
pub const MAX_AUDIT_PAGE: u32 = 10_000;
/// Largest evidence file [`Store::registry_verify`] re-hashes (bytes).
pub const MAX_EVIDENCE_BYTES: u64 = 4 << 30;
/// Name of the audit log's chain (its head in [`Store::registry_chain_heads`]).
pub const AUDIT_CHAIN: &str = "audit";
/// `prev_hash` of the first entry of a chain.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Whether `e` is a write refused by optimistic concurrency (someone saved
/// the row first): the caller should reload and redo the edit (HTTP 409).
pub fn is_stale_version(e: &StoreError) -> bool {
    matches!(e, StoreError::Invalid { what, .. } if what == STALE_VERSION)
}

/// Whether `e` is a write refused because a sensitive field was in clear.
pub fn is_clear_sensitive(e: &StoreError) -> bool {
    matches!(e, StoreError::Invalid { what, .. } if what == CLEAR_SENSITIVE)
}

/// A registry collection: one per field of [`Dataset`] (custody events
/// live in their own table and are not a collection here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Collection {
    /// [`Organisation`]s.
    Organisations,
    /// [`Incident`]s.
    Incidents,
    /// [`IncidentLink`]s.
    IncidentLinks,
    /// [`Act`]s.
    Acts,
    /// [`Involvement`]s.
    Involvements,
    /// [`Actor`]s.
    Actors,
    /// [`Source`]s.
    Sources,
    /// [`Citation`]s.
    Citations,
    /// [`Law`]s.
    Laws,
    /// [`Provision`]s.
    Provisions,
    /// [`ProvisionInvocation`]s.
    Invocations,
    /// [`EvidenceItem`]s.
    Evidence,
    /// [`Recommendation`]s.
    Recommendations,
    /// [`Benchmark`]s.
    Benchmarks,
    /// [`Assessment`]s.
    Assessments,
}

impl Collection {
    /// Every collection, in [`Dataset`] field order.
    pub const ALL: [Collection; 15] = [
        Collection::Organisations,
        Collection::Incidents,
        Collection::IncidentLinks,
        Collection::Acts,
        Collection::Involvements,
        Collection::Actors,
        Collection::Sources,
        Collection::Citations,
        Collection::Laws,
        Collection::Provisions,
        Collection::Invocations,
        Collection::Evidence,
        Collection::Recommendations,
        Collection::Benchmarks,
        Collection::Assessments,
    ];

    /// The name stored in the `collection` column: the [`Dataset`] field name.
    pub fn as_str(self) -> &'static str {
        match self {
            Collection::Organisations => "organisations",
            Collection::Incidents => "incidents",
            Collection::IncidentLinks => "incident_links",
            Collection::Acts => "acts",
            Collection::Involvements => "involvements",
            Collection::Actors => "actors",
            Collection::Sources => "sources",
            Collection::Citations => "citations",
            Collection::Laws => "laws",
            Collection::Provisions => "provisions",
            Collection::Invocations => "invocations",
            Collection::Evidence => "evidence",
            Collection::Recommendations => "recommendations",
            Collection::Benchmarks => "benchmarks",
            Collection::Assessments => "assessments",
        }
    }

    /// The collection stored under `name` ([`Collection::as_str`]).
    pub fn parse(name: &str) -> Option<Collection> {
        Collection::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Whether its rows carry a `RecordMeta` (top-level records, written
    /// with [`Store::registry_put_record`]); the others are written with
    /// [`Store::registry_put_row`].
    pub fn has_meta(self) -> bool {
        matches!(
            self,
            Collection::Incidents
                | Collection::Actors
                | Collection::Sources
                | Collection::Laws
                | Collection::Provisions
                | Collection::Evidence
                | Collection::Recommendations
                | Collection::Benchmarks
        )
    }
}

impl std::fmt::Display for Collection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A top-level record type the store keeps (it has a `RecordMeta`):
/// [`Incident`], [`Actor`], [`Source`], [`Law`], [`Provision`],
/// [`EvidenceItem`], [`Recommendation`], [`Benchmark`].
pub trait StoredRecord:
    Record + Serialize + DeserializeOwned + Clone + Send + Sync + 'static
{
    /// Where it is kept.
    const COLLECTION: Collection;
}

/// A row without metadata the store keeps: [`Organisation`],
/// [`IncidentLink`], [`Act`], [`Involvement`], [`Citation`],
/// [`ProvisionInvocation`], [`Assessment`].
pub trait StoredRow: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// Where it is kept.
    const COLLECTION: Collection;
    /// Its key in the collection: the id for organisations, acts and
    /// assessments; the joined ids for relationships: `from|to|kind` for
    /// incident links, `act|actor` for involvements, `source|record` for
    /// citations, `act|provision|role|date` for invocations. Changing a
    /// field of the key makes another row: delete the old one.
    fn key(&self) -> String;
}

macro_rules! stored_record {
    ($($ty:ty => $c:ident),+ $(,)?) => {$(
        impl StoredRecord for $ty {
            const COLLECTION: Collection = Collection::$c;
        }
    )+};
}
stored_record!(
    Incident => Incidents,
    Actor => Actors,
    Source => Sources,
    Law => Laws,
    Provision => Provisions,
    EvidenceItem => Evidence,
    Recommendation => Recommendations,
    Benchmark => Benchmarks,
);

impl StoredRow for Organisation {
    const COLLECTION: Collection = Collection::Organisations;
    fn key(&self) -> String {
        self.id.clone()
    }
}
impl StoredRow for Act {
    const COLLECTION: Collection = Collection::Acts;
    fn key(&self) -> String {
        self.id.clone()
    }
}
impl StoredRow for Assessment {
    const COLLECTION: Collection = Collection::Assessments;
    fn key(&self) -> String {
        self.id.clone()
    }
}
impl StoredRow for IncidentLink {
    const COLLECTION: Collection = Collection::IncidentLinks;
    fn key(&self) -> String {
        format!("{}|{}|{}", self.from, self.to, self.kind)
    }
}
impl StoredRow for Involvement {
    const COLLECTION: Collection = Collection::Involvements;
    fn key(&self) -> String {
        format!("{}|{}", self.act_id, self.actor_id)
    }
}
impl StoredRow for Citation {
    const COLLECTION: Collection = Collection::Citations;
    fn key(&self) -> String {
        format!("{}|{}", self.source_id, self.record_id)
    }
}
impl StoredRow for ProvisionInvocation {
    const COLLECTION: Collection = Collection::Invocations;
    fn key(&self) -> String {
        let date = self
            .date
            .as_ref()
            .and_then(|d| serde_json::to_value(d).ok())
            .map(|v| match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            })
            .unwrap_or_default();
        format!(
            "{}|{}|{}|{}",
            self.act_id, self.provision_id, self.role, date
        )
    }
}

/// The key of a row without metadata (same as [`StoredRow::key`]), for
/// [`Store::registry_delete_row`].
pub fn row_key<R: StoredRow>(row: &R) -> String {
    row.key()
}

/// Who made a change to a row without metadata, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    /// User id of the author.
    pub by: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What changed, in a sentence.
    pub summary: String,
}

impl Edit {
    /// An attributed change.
    pub fn new(by: impl Into<String>, at: OffsetDateTime, summary: impl Into<String>) -> Self {
        Edit {
            by: by.into(),
            at,
            summary: summary.into(),
        }
    }
}

/// One stored version of a row ([`Store::registry_history`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredVersion {
    /// 1, 2, 3…
    pub version: u32,
    /// User id of the author (redact it for readers outside the owning
    /// organisation, as `policy::redact` does for `RecordMeta::versions`).
    pub by: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Why.
    pub summary: String,
    /// The row as written at this version (JSON, sealed as stored); `None`
    /// for a deletion, and for earlier versions of a record imported with
    /// only its latest content.
    pub body: Option<String>,
}

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Written {
    /// A new row.
    Inserted {
        /// Its version.
        version: u32,
    },
    /// An existing row, now at `version`.
    Updated {
        /// Its new version.
        version: u32,
    },
    /// Nothing changed (same version, same content).
    Unchanged {
        /// Its version.
        version: u32,
    },
}

impl Written {
    /// The row's version after the write.
    pub fn version(self) -> u32 {
        match self {
            Written::Inserted { version }
            | Written::Updated { version }
            | Written::Unchanged { version } => version,
        }
    }
}

/// Counts of one collection in an [`ImportReport`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    /// New rows (custody: events appended).
    pub inserted: u64,
    /// Rows updated to a newer version.
    pub updated: u64,
    /// Rows already stored as given.
    pub unchanged: u64,
    /// Top-level records the store already holds in a newer version (an
    /// edit made after the export was taken): left as stored.
    pub older: u64,
}

/// What [`Store::registry_import`] did, per collection (`custody` too).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Collection name → counts.
    pub collections: BTreeMap<String, ImportCounts>,
}

impl ImportReport {
    fn count(&mut self, collection: &str, w: Written) {
        let c = self.collections.entry(collection.to_owned()).or_default();
        match w {
            Written::Inserted { .. } => c.inserted += 1,
            Written::Updated { .. } => c.updated += 1,
            Written::Unchanged { .. } => c.unchanged += 1,
        }
    }

    /// Rows inserted or updated, in all.
    pub fn changed(&self) -> u64 {
        self.collections
            .values()
            .map(|c| c.inserted + c.updated)
            .sum()
    }
}

/// One problem found by [`Store::registry_verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// `custody`, `audit`, `record`, `sensitive`, `dataset` or `evidence_file`.
    pub area: String,
    /// The item concerned: an evidence id, `audit`, a record id, `dataset`.
    pub item: String,
    /// What is wrong, in a sentence.
    pub message: String,
}

/// The result of [`Store::registry_verify`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// Rows of every collection checked against their version history.
    pub records: u64,
    /// Evidence items' custody chains checked.
    pub custody_chains: u64,
    /// Custody events checked.
    pub custody_events: u64,
    /// Audit entries checked.
    pub audit_entries: u64,
    /// Evidence files re-hashed (with an evidence directory).
    pub evidence_files: u64,
    /// Every problem found; empty when all is well.
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    /// Whether nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, area: &str, item: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            area: area.into(),
            item: item.into(),
            message: message.into(),
        });
    }
}

// ---------------------------------------------------------------------
// Backend plumbing: SQL is written once, arguments are bound in a loop.

enum Arg {
    Text(String),
    Opt(Option<String>),
    Int(i64),
}

fn t(s: impl Into<String>) -> Arg {
    Arg::Text(s.into())
}

enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

macro_rules! bound {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Text(s) => q.bind(s),
                Arg::Opt(s) => q.bind(s),
                Arg::Int(i) => q.bind(i),
            };
        }
        q
    }};
}

trait FromBothRows:
    for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
    + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
    + Send
    + Unpin
{
}
impl<T> FromBothRows for T where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin
{
}

impl Tx {
    fn is_postgres(&self) -> bool {
        matches!(self, Tx::Postgres(_))
    }

    async fn execute(&mut self, sql: &'static str, args: Vec<Arg>) -> Result<u64, StoreError> {
        Ok(match self {
            Tx::Sqlite(tx) => bound!(sqlx::query(sql), args)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
            Tx::Postgres(tx) => bound!(sqlx::query(sql), args)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
        })
    }

    async fn all<T: FromBothRows>(
        &mut self,
        sql: &'static str,
        args: Vec<Arg>,
    ) -> Result<Vec<T>, StoreError> {
        Ok(match self {
            Tx::Sqlite(tx) => {
                bound!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_all(&mut **tx)
                    .await?
            }
            Tx::Postgres(tx) => {
                bound!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_all(&mut **tx)
                    .await?
            }
        })
    }

    async fn optional<T: FromBothRows>(
        &mut self,
        sql: &'static str,
        args: Vec<Arg>,
    ) -> Result<Option<T>, StoreError> {
        Ok(match self {
            Tx::Sqlite(tx) => {
                bound!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_optional(&mut **tx)
                    .await?
            }
            Tx::Postgres(tx) => {
                bound!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_optional(&mut **tx)
                    .await?
            }
        })
    }

    async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

impl crate::Store {
    /// A write transaction (SQLite: the write lock taken up front).
    async fn registry_write_tx(&self) -> Result<Tx, StoreError> {
        Ok(match &self.backend {
            Backend::Sqlite(p) => Tx::Sqlite(p.begin_write().await?),
            Backend::Postgres(p) => Tx::Postgres(p.begin_write().await?),
        })
    }

    /// A read transaction seeing one consistent snapshot.
    async fn registry_read_tx(&self) -> Result<Tx, StoreError> {
        Ok(match &self.backend {
            Backend::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Backend::Postgres(p) => Tx::Postgres(
                p.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?,
            ),
        })
    }
}

// ---------------------------------------------------------------------
// Row preparation and checks (no SQL).

fn fmt_time(what: &str, at: OffsetDateTime) -> Result<String, StoreError> {
    at.format(&Rfc3339)
        .map_err(|e| StoreError::invalid(what, format!("time {at} cannot be stored: {e}")))
}

fn parse_time(id: &str, text: &str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| StoreError::corrupt(id, format!("bad time {text:?}: {e}")))
}

fn to_u32(id: &str, v: i64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::corrupt(id, format!("bad version {v}")))
}

fn to_u64(id: &str, v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::corrupt(id, format!("bad sequence number {v}")))
}

fn to_i64(what: &str, v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::invalid(what, format!("{v} is too large")))
}

fn body_of<T: Serialize>(what: &str, row: &T) -> Result<String, StoreError> {
    let body = serde_json::to_string(row)
        .map_err(|e| StoreError::invalid(what, format!("cannot encode: {e}")))?;
    if body.len() > MAX_BODY_BYTES {
        return Err(StoreError::invalid(
            what,
            format!("{} bytes, at most {MAX_BODY_BYTES} allowed", body.len()),
        ));
    }
    Ok(body)
}

/// A top-level record ready to be written: its body, its content with
/// every sensitive value blanked (for comparison: sealing twice gives two
/// ciphertexts), and which sensitive fields are sealed or redacted.
struct PreparedRecord {
    id: String,
    org: String,
    visibility: String,
    status: String,
    versions: Vec<Version>,
    body: String,
    blanked: String,
    sealed: HashSet<&'static str>,
    redacted: HashSet<&'static str>,
}

fn prepare_record<R: StoredRecord>(record: &R) -> Result<PreparedRecord, StoreError> {
    let meta = record.meta();
    let what = format!("{} {}", R::COLLECTION, meta.id);
    check_len(&what, &meta.id, MAX_FIELD_BYTES)?;
    check_len(&what, &meta.org, MAX_FIELD_BYTES)?;
    if meta.versions.is_empty() {
        return Err(StoreError::invalid(&what, "has no version history"));
    }
    if meta
        .versions
        .iter()
        .enumerate()
        .any(|(i, v)| v.n as usize != i + 1)
    {
        return Err(StoreError::invalid(
            &what,
            "versions are not numbered 1, 2, 3…",
        ));
    }
    let mut copy = record.clone();
    let mut sealed = HashSet::new();
    let mut redacted = HashSet::new();
    for (field, value) in copy.sensitive_fields_mut() {
        match value.state() {
            "clear" => {
                return Err(StoreError::invalid(
                    CLEAR_SENSITIVE,
                    format!(
                        "field {field} of {} {} is in clear: seal it with the field key \
                         (Dataset::seal_all or seal_record) before storing",
                        R::COLLECTION,
                        meta.id
                    ),
                ))
            }
            "sealed" => {
                sealed.insert(field);
            }
            _ => {
                redacted.insert(field);
            }
        }
        value.redact();
    }
    Ok(PreparedRecord {
        id: meta.id.clone(),
        org: meta.org.clone(),
        visibility: meta.visibility.as_str().to_owned(),
        status: meta.status.as_str().to_owned(),
        versions: meta.versions.clone(),
        body: body_of(&what, record)?,
        blanked: body_of(&what, &copy)?,
        sealed,
        redacted,
    })
}

fn parse_body<T: DeserializeOwned>(
    collection: &str,
    id: &str,
    body: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(body)
        .map_err(|e| StoreError::corrupt(format!("{collection}/{id}"), format!("bad JSON: {e}")))
}

// ---------------------------------------------------------------------
// Writes inside a transaction.

const SELECT_ROW: &str =
    "SELECT version, body FROM registry_records WHERE collection = $1 AND id = $2";
const SELECT_ROW_FOR_UPDATE: &str =
    "SELECT version, body FROM registry_records WHERE collection = $1 AND id = $2 FOR UPDATE";
const INSERT_ROW: &str = "INSERT INTO registry_records \
     (collection, id, org, visibility, status, version, body, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const UPDATE_ROW: &str = "UPDATE registry_records SET org = $3, visibility = $4, status = $5, \
     version = $6, body = $7, updated_at = $8 WHERE collection = $1 AND id = $2";
const INSERT_VERSION: &str = "INSERT INTO registry_versions \
     (collection, id, version, by_user, at, summary, body) VALUES ($1, $2, $3, $4, $5, $6, $7)";
const LAST_VERSION: &str =
    "SELECT MAX(version) FROM registry_versions WHERE collection = $1 AND id = $2";

async fn stored_row(
    tx: &mut Tx,
    collection: Collection,
    id: &str,
) -> Result<Option<(i64, String)>, StoreError> {
    let sql = if tx.is_postgres() {
        SELECT_ROW_FOR_UPDATE
    } else {
        SELECT_ROW
    };
    tx.optional(sql, vec![t(collection.as_str()), t(id)]).await
}

#[allow(clippy::too_many_arguments)] // one column each
async fn insert_version(
    tx: &mut Tx,
    collection: Collection,
    id: &str,
    version: u32,
    by: &str,
    at: OffsetDateTime,
    summary: &str,
    body: Option<String>,
) -> Result<(), StoreError> {
    let what = format!("version {version} of {collection} {id}");
    check_len(&what, by, MAX_FIELD_BYTES)?;
    check_len(&what, summary, MAX_FIELD_BYTES)?;
    tx.execute(
        INSERT_VERSION,
        vec![
            t(collection.as_str()),
            t(id),
            Arg::Int(version.into()),
            t(by),
            t(fmt_time(&what, at)?),
            t(summary),
            Arg::Opt(body),
        ],
    )
    .await?;
    Ok(())
}

/// Why a write with the stored version number but other content is
/// refused, and the usual cause when it comes from an import.
const SAME_VERSION_DIFFERS: &str = "different content or history at the same version: an edit \
     must add a version (RecordMeta::record_edit); an export made for another reader (the \
     public, another organisation) leaves out what they may not see and cannot replace the \
     full record: import it into a fresh database";

fn stale(id: &str, stored: u32, incoming: u32, why: &str) -> StoreError {
    StoreError::invalid(
        STALE_VERSION,
        format!(
            "{id} is stored at version {stored}; this write carries version {incoming} and {why}: \
             reload the record and make the change again"
        ),
    )
}

/// Two writers inserting the same new row: the second one is stale.
fn unique_is_stale(e: StoreError, id: &str) -> StoreError {
    match e {
        StoreError::Database(sqlx::Error::Database(d)) if d.is_unique_violation() => {
            StoreError::invalid(
                STALE_VERSION,
                format!("{id} was created by someone else meanwhile: reload it"),
            )
        }
        other => other,
    }
}

/// What [`write_record`] found.
enum RecordWrite {
    /// Written (or unchanged).
    Done(Written),
    /// The store holds a newer version whose history extends this one's.
    StoredIsNewer(u32),
}

/// Writes a top-level record over `stored` (its current row, read under
/// lock by the caller).
async fn write_record<R: StoredRecord>(
    tx: &mut Tx,
    record: &R,
    stored: Option<(i64, String)>,
) -> Result<RecordWrite, StoreError> {
    let new = prepare_record(record)?;
    let c = R::COLLECTION;
    let n = new.versions.len() as u32;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let Some((stored_version, stored_body)) = stored else {
        tx.execute(
            INSERT_ROW,
            vec![
                t(c.as_str()),
                t(&new.id),
                Arg::Opt(Some(new.org.clone())),
                Arg::Opt(Some(new.visibility.clone())),
                Arg::Opt(Some(new.status.clone())),
                Arg::Int(n.into()),
                t(&new.body),
                Arg::Int(now),
            ],
        )
        .await
        .map_err(|e| unique_is_stale(e, &new.id))?;
        for v in &new.versions {
            let body = (v.n == n).then(|| new.body.clone());
            insert_version(tx, c, &new.id, v.n, &v.by, v.at, &v.change_summary, body).await?;
        }
        return Ok(RecordWrite::Done(Written::Inserted { version: n }));
    };
    if stored_body == new.body && i64::from(n) == stored_version {
        return Ok(RecordWrite::Done(Written::Unchanged { version: n }));
    }
    let old_record: R = parse_body(c.as_str(), &new.id, &stored_body)?;
    let old = prepare_record(&old_record).map_err(|e| {
        StoreError::corrupt(
            format!("{c}/{}", new.id),
            format!("stored row refused: {e}"),
        )
    })?;
    let stored_n = to_u32(&new.id, stored_version)?;
    if n == stored_n && new.versions == old.versions {
        if new.blanked == old.blanked {
            return Ok(RecordWrite::Done(Written::Unchanged { version: n }));
        }
        return Err(stale(&new.id, stored_n, n, SAME_VERSION_DIFFERS));
    }
    if n < stored_n && new.versions[..] == old.versions[..new.versions.len()] {
        return Ok(RecordWrite::StoredIsNewer(stored_n));
    }
    if n == stored_n {
        return Err(stale(&new.id, stored_n, n, SAME_VERSION_DIFFERS));
    }
    if n < stored_n
        || new.versions[..old.versions.len().min(new.versions.len())] != old.versions[..]
    {
        return Err(stale(
            &new.id,
            stored_n,
            n,
            "its history does not extend the stored one",
        ));
    }
    if let Some(field) = old.sealed.intersection(&new.redacted).next() {
        return Err(StoreError::invalid(
            &new.id,
            format!(
                "field {field} is sealed in the store and redacted in this write: \
                 writing a redacted view back would destroy it (load the record, not a view)"
            ),
        ));
    }
    tx.execute(
        UPDATE_ROW,
        vec![
            t(c.as_str()),
            t(&new.id),
            Arg::Opt(Some(new.org.clone())),
            Arg::Opt(Some(new.visibility.clone())),
            Arg::Opt(Some(new.status.clone())),
            Arg::Int(n.into()),
            t(&new.body),
            Arg::Int(now),
        ],
    )
    .await?;
    for v in &new.versions[old.versions.len()..] {
        let body = (v.n == n).then(|| new.body.clone());
        insert_version(tx, c, &new.id, v.n, &v.by, v.at, &v.change_summary, body).await?;
    }
    Ok(RecordWrite::Done(Written::Updated { version: n }))
}

/// Writes a row without metadata over `stored` (its current row, read
/// under lock by the caller).
async fn write_row<R: StoredRow>(
    tx: &mut Tx,
    row: &R,
    edit: &Edit,
    stored: Option<(i64, String)>,
) -> Result<Written, StoreError> {
    let c = R::COLLECTION;
    let key = row.key();
    let what = format!("{c} {key}");
    check_len(&what, &key, MAX_FIELD_BYTES)?;
    let body = body_of(&what, row)?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    match stored {
        Some((v, stored)) => {
            let v = to_u32(&key, v)?;
            let same = stored == body
                || serde_json::from_str::<serde_json::Value>(&stored).ok()
                    == serde_json::from_str::<serde_json::Value>(&body).ok();
            if same {
                return Ok(Written::Unchanged { version: v });
            }
            let n = v + 1;
            tx.execute(
                UPDATE_ROW,
                vec![
                    t(c.as_str()),
                    t(&key),
                    Arg::Opt(None),
                    Arg::Opt(None),
                    Arg::Opt(None),
                    Arg::Int(n.into()),
                    t(&body),
                    Arg::Int(now),
                ],
            )
            .await?;
            insert_version(tx, c, &key, n, &edit.by, edit.at, &edit.summary, Some(body)).await?;
            Ok(Written::Updated { version: n })
        }
        None => {
            // A row deleted earlier keeps its history: numbering goes on.
            let last: Option<(Option<i64>,)> = tx
                .optional(LAST_VERSION, vec![t(c.as_str()), t(&key)])
                .await?;
            let n = match last.and_then(|(v,)| v) {
                Some(v) => to_u32(&key, v)? + 1,
                None => 1,
            };
            tx.execute(
                INSERT_ROW,
                vec![
                    t(c.as_str()),
                    t(&key),
                    Arg::Opt(None),
                    Arg::Opt(None),
                    Arg::Opt(None),
                    Arg::Int(n.into()),
                    t(&body),
                    Arg::Int(now),
                ],
            )
            .await
            .map_err(|e| unique_is_stale(e, &key))?;
            insert_version(tx, c, &key, n, &edit.by, edit.at, &edit.summary, Some(body)).await?;
            Ok(Written::Inserted { version: n })
        }
    }
}

/// Every stored row (collection, id) → (version, body), locked on
/// PostgreSQL until the transaction ends (an import reads them all once).
async fn current_rows(
    tx: &mut Tx,
) -> Result<HashMap<(&'static str, String), (i64, String)>, StoreError> {
    let sql = if tx.is_postgres() {
        "SELECT collection, id, version, body FROM registry_records LIMIT $1 FOR UPDATE"
    } else {
        "SELECT collection, id, version, body FROM registry_records LIMIT $1"
    };
    let rows: Vec<(String, String, i64, String)> = tx.all(sql, vec![limit_arg()]).await?;
    check_bound("registry", &rows)?;
    let mut out = HashMap::with_capacity(rows.len());
    for (collection, id, version, body) in rows {
        if let Some(c) = Collection::parse(&collection) {
            out.insert((c.as_str(), id), (version, body));
        }
    }
    Ok(out)
}

async fn put_record_in<R: StoredRecord>(tx: &mut Tx, record: &R) -> Result<Written, StoreError> {
    let stored = stored_row(tx, R::COLLECTION, &record.meta().id).await?;
    match write_record(tx, record, stored).await? {
        RecordWrite::Done(w) => Ok(w),
        RecordWrite::StoredIsNewer(stored) => Err(stale(
            &record.meta().id,
            stored,
            record.meta().version(),
            "the stored history already goes further",
        )),
    }
}

async fn put_row_in<R: StoredRow>(
    tx: &mut Tx,
    row: &R,
    edit: &Edit,
) -> Result<Written, StoreError> {
    let stored = stored_row(tx, R::COLLECTION, &row.key()).await?;
    write_row(tx, row, edit, stored).await
}

async fn delete_row_in(
    tx: &mut Tx,
    collection: Collection,
    key: &str,
    edit: &Edit,
) -> Result<bool, StoreError> {
    if collection.has_meta() || collection == Collection::Organisations {
        return Err(StoreError::invalid(
            format!("{collection} {key}"),
            "only relationship rows and acts can be deleted",
        ));
    }
    check_len("row key", key, MAX_FIELD_BYTES)?;
    let Some((v, _)) = stored_row(tx, collection, key).await? else {
        return Ok(false);
    };
    let n = to_u32(key, v)? + 1;
    tx.execute(
        "DELETE FROM registry_records WHERE collection = $1 AND id = $2",
        vec![t(collection.as_str()), t(key)],
    )
    .await?;
    insert_version(
        tx,
        collection,
        key,
        n,
        &edit.by,
        edit.at,
        &edit.summary,
        None,
    )
    .await?;
    Ok(true)
}

async fn custody_append_in(
    tx: &mut Tx,
    item: &str,
    action: CustodyAction,
    actor: &str,
    at: OffsetDateTime,
    details: &str,
) -> Result<CustodyEvent, StoreError> {
    check_len("evidence id", item, MAX_FIELD_BYTES)?;
    let exists: Option<(i64, String)> = tx
        .optional(SELECT_ROW, vec![t(Collection::Evidence.as_str()), t(item)])
        .await?;
    if exists.is_none() {
        return Err(StoreError::invalid(
            "custody event",
            format!("no evidence item {item}"),
        ));
    }
    let (length, last) = lock_head(tx, item).await?;
    let mut e = CustodyEvent::first(item, action, actor, at, details);
    e.seq = length;
    e.prev_hash = last;
    e.entry_hash = e.compute_hash();
    insert_custody(tx, &e).await?;
    set_head(tx, item, length + 1, &e.entry_hash).await?;
    Ok(e)
}

/// Several registry writes in one transaction: all of them or none.
///
/// Open it with [`Store::registry_batch`], call the same writes as on
/// [`Store`] (same checks, same errors), then [`RegistryBatch::commit`].
/// Dropped without `commit` (an error, a `?`), nothing is written. Keep it
/// short: on SQLite it holds the database's write lock.
///
/// ```
/// # use canary_registry::*;
/// # use canary_store::registry::Edit;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = canary_store::Store::open("sqlite::memory:").await?;
/// let ds = seed::kh();
/// let (inc, act) = (ds.incidents[0].clone(), ds.acts[0].clone());
/// let mut batch = store.registry_batch().await?;
/// batch.put_record(&inc).await?;
/// batch.put_row(&act, &Edit::new("u_dara", seed::SEED_AT, "act added")).await?;
/// batch.audit_append("u_dara", AuditAction::Create, &inc.meta.id, seed::SEED_AT, "").await?;
/// batch.commit().await?;
/// assert_eq!(store.registry_load().await?.acts, [act]);
/// # Ok(()) }
/// ```
pub struct RegistryBatch {
    tx: Tx,
}

impl std::fmt::Debug for RegistryBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RegistryBatch")
    }
}

impl RegistryBatch {
    /// [`Store::registry_put_record`], inside the batch.
    pub async fn put_record<R: StoredRecord>(&mut self, record: &R) -> Result<Written, StoreError> {
        put_record_in(&mut self.tx, record).await
    }

    /// [`Store::registry_put_row`], inside the batch.
    pub async fn put_row<R: StoredRow>(
        &mut self,
        row: &R,
        edit: &Edit,
    ) -> Result<Written, StoreError> {
        put_row_in(&mut self.tx, row, edit).await
    }

    /// [`Store::registry_delete_row`], inside the batch.
    pub async fn delete_row(
        &mut self,
        collection: Collection,
        key: &str,
        edit: &Edit,
    ) -> Result<bool, StoreError> {
        delete_row_in(&mut self.tx, collection, key, edit).await
    }

    /// [`Store::registry_custody_append`], inside the batch (the evidence
    /// item may have been put earlier in the same batch).
    pub async fn custody_append(
        &mut self,
        item: &str,
        action: CustodyAction,
        actor: &str,
        at: OffsetDateTime,
        details: &str,
    ) -> Result<CustodyEvent, StoreError> {
        custody_append_in(&mut self.tx, item, action, actor, at, details).await
    }

    /// [`Store::registry_audit_append`], inside the batch.
    pub async fn audit_append(
        &mut self,
        actor: &str,
        action: AuditAction,
        object: &str,
        at: OffsetDateTime,
        details: &str,
    ) -> Result<AuditEntry, StoreError> {
        append_audit(&mut self.tx, actor, action, object, at, details).await
    }

    /// Writes everything.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await
    }
}

impl crate::Store {
    /// Opens a [`RegistryBatch`]: several writes in one transaction.
    pub async fn registry_batch(&self) -> Result<RegistryBatch, StoreError> {
        Ok(RegistryBatch {
            tx: self.registry_write_tx().await?,
        })
    }
}

const HEAD_INIT: &str = "INSERT INTO registry_chain_heads (chain, length, last_hash, updated_at) \
     VALUES ($1, 0, $2, $3) ON CONFLICT (chain) DO NOTHING";
const HEAD_SELECT: &str = "SELECT length, last_hash FROM registry_chain_heads WHERE chain = $1";
const HEAD_SELECT_FOR_UPDATE: &str =
    "SELECT length, last_hash FROM registry_chain_heads WHERE chain = $1 FOR UPDATE";
const HEAD_UPDATE: &str = "UPDATE registry_chain_heads SET length = $2, last_hash = $3, \
     updated_at = $4 WHERE chain = $1";
const INSERT_CUSTODY: &str = "INSERT INTO registry_custody \
     (item, seq, action, actor, at, details, prev_hash, entry_hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const INSERT_AUDIT: &str = "INSERT INTO registry_audit \
     (seq, actor, action, object, at, details, prev_hash, entry_hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// Locks a chain's head (creating it empty) and returns (length, last hash).
async fn lock_head(tx: &mut Tx, chain: &str) -> Result<(u64, String), StoreError> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    tx.execute(HEAD_INIT, vec![t(chain), t(GENESIS), Arg::Int(now)])
        .await?;
    let sql = if tx.is_postgres() {
        HEAD_SELECT_FOR_UPDATE
    } else {
        HEAD_SELECT
    };
    let row: Option<(i64, String)> = tx.optional(sql, vec![t(chain)]).await?;
    let (length, last) = row.ok_or_else(|| StoreError::corrupt(chain, "chain head vanished"))?;
    Ok((to_u64(chain, length)?, last))
}

async fn set_head(tx: &mut Tx, chain: &str, length: u64, last: &str) -> Result<(), StoreError> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    tx.execute(
        HEAD_UPDATE,
        vec![
            t(chain),
            Arg::Int(to_i64("chain length", length)?),
            t(last),
            Arg::Int(now),
        ],
    )
    .await?;
    Ok(())
}

async fn insert_custody(tx: &mut Tx, e: &CustodyEvent) -> Result<(), StoreError> {
    let what = format!("custody event {} of {}", e.seq, e.item);
    check_len(&what, &e.actor, MAX_FIELD_BYTES)?;
    check_len(&what, &e.details, MAX_BODY_BYTES)?;
    tx.execute(
        INSERT_CUSTODY,
        vec![
            t(&e.item),
            Arg::Int(to_i64(&what, e.seq)?),
            t(e.action.as_str()),
            t(&e.actor),
            t(fmt_time(&what, e.at)?),
            t(&e.details),
            t(&e.prev_hash),
            t(&e.entry_hash),
        ],
    )
    .await?;
    Ok(())
}

async fn append_audit(
    tx: &mut Tx,
    actor: &str,
    action: AuditAction,
    object: &str,
    at: OffsetDateTime,
    details: &str,
) -> Result<AuditEntry, StoreError> {
    check_len("audit actor", actor, MAX_FIELD_BYTES)?;
    check_len("audit object", object, MAX_FIELD_BYTES)?;
    check_len("audit details", details, MAX_BODY_BYTES)?;
    let (length, last) = lock_head(tx, AUDIT_CHAIN).await?;
    let mut e = AuditEntry::after(None, actor, action, object, at, details);
    e.seq = length;
    e.prev_hash = last;
    e.entry_hash = e.compute_hash();
    let what = format!("audit entry {}", e.seq);
    tx.execute(
        INSERT_AUDIT,
        vec![
            Arg::Int(to_i64(&what, e.seq)?),
            t(&e.actor),
            t(e.action.as_str()),
            t(&e.object),
            t(fmt_time(&what, e.at)?),
            t(&e.details),
            t(&e.prev_hash),
            t(&e.entry_hash),
        ],
    )
    .await?;
    set_head(tx, AUDIT_CHAIN, length + 1, &e.entry_hash).await?;
    Ok(e)
}

type CustodyRow = (String, i64, String, String, String, String, String, String);
type AuditRow = (i64, String, String, String, String, String, String, String);

fn custody_from_row(r: CustodyRow) -> Result<CustodyEvent, StoreError> {
    let (item, seq, action, actor, at, details, prev_hash, entry_hash) = r;
    let id = format!("custody {item}/{seq}");
    Ok(CustodyEvent {
        seq: to_u64(&id, seq)?,
        action: action
            .parse::<CustodyAction>()
            .map_err(|e| StoreError::corrupt(&id, e.to_string()))?,
        actor,
        at: parse_time(&id, &at)?,
        details,
        prev_hash,
        entry_hash,
        item,
    })
}

fn audit_from_row(r: AuditRow) -> Result<AuditEntry, StoreError> {
    let (seq, actor, action, object, at, details, prev_hash, entry_hash) = r;
    let id = format!("audit/{seq}");
    Ok(AuditEntry {
        seq: to_u64(&id, seq)?,
        action: action
            .parse::<AuditAction>()
            .map_err(|e| StoreError::corrupt(&id, e.to_string()))?,
        actor,
        object,
        at: parse_time(&id, &at)?,
        details,
        prev_hash,
        entry_hash,
    })
}

const CUSTODY_COLUMNS_BY_ROW: &str = "SELECT item, seq, action, actor, at, details, prev_hash, \
     entry_hash FROM registry_custody ORDER BY row_id LIMIT $1";
const CUSTODY_COLUMNS_BY_SEQ: &str = "SELECT item, seq, action, actor, at, details, prev_hash, \
     entry_hash FROM registry_custody ORDER BY item, seq LIMIT $1";
const CUSTODY_OF_ITEM: &str = "SELECT item, seq, action, actor, at, details, prev_hash, \
     entry_hash FROM registry_custody WHERE item = $1 ORDER BY seq LIMIT $2";
const AUDIT_PAGE: &str = "SELECT seq, actor, action, object, at, details, prev_hash, entry_hash \
     FROM registry_audit WHERE seq >= $1 ORDER BY seq LIMIT $2";
const ALL_ROWS: &str = "SELECT collection, id, body FROM registry_records ORDER BY row_id LIMIT $1";

fn limit_arg() -> Arg {
    Arg::Int(MAX_REGISTRY_ROWS as i64 + 1)
}

fn check_bound<T>(what: &str, rows: &[T]) -> Result<(), StoreError> {
    if rows.len() > MAX_REGISTRY_ROWS {
        return Err(StoreError::invalid(
            what,
            format!("more than {MAX_REGISTRY_ROWS} rows: too large to load at once"),
        ));
    }
    Ok(())
}

/// Fills a dataset from stored rows; rows that do not parse are returned
/// as (collection/id, reason) instead of failing.
fn dataset_from_rows(
    rows: Vec<(String, String, String)>,
    custody: Vec<CustodyEvent>,
) -> (Dataset, Vec<(String, String)>) {
    let mut ds = Dataset::new();
    let mut bad = Vec::new();
    fn push<T: DeserializeOwned>(
        v: &mut Vec<T>,
        c: &str,
        id: &str,
        body: &str,
        bad: &mut Vec<(String, String)>,
    ) {
        match parse_body::<T>(c, id, body) {
            Ok(r) => v.push(r),
            Err(e) => bad.push((id.to_owned(), e.to_string())),
        }
    }
    for (c, id, body) in rows {
        let b = &mut bad;
        match Collection::parse(&c) {
            Some(Collection::Organisations) => push(&mut ds.organisations, &c, &id, &body, b),
            Some(Collection::Incidents) => push(&mut ds.incidents, &c, &id, &body, b),
            Some(Collection::IncidentLinks) => push(&mut ds.incident_links, &c, &id, &body, b),
            Some(Collection::Acts) => push(&mut ds.acts, &c, &id, &body, b),
            Some(Collection::Involvements) => push(&mut ds.involvements, &c, &id, &body, b),
            Some(Collection::Actors) => push(&mut ds.actors, &c, &id, &body, b),
            Some(Collection::Sources) => push(&mut ds.sources, &c, &id, &body, b),
            Some(Collection::Citations) => push(&mut ds.citations, &c, &id, &body, b),
            Some(Collection::Laws) => push(&mut ds.laws, &c, &id, &body, b),
            Some(Collection::Provisions) => push(&mut ds.provisions, &c, &id, &body, b),
            Some(Collection::Invocations) => push(&mut ds.invocations, &c, &id, &body, b),
            Some(Collection::Evidence) => push(&mut ds.evidence, &c, &id, &body, b),
            Some(Collection::Recommendations) => push(&mut ds.recommendations, &c, &id, &body, b),
            Some(Collection::Benchmarks) => push(&mut ds.benchmarks, &c, &id, &body, b),
            Some(Collection::Assessments) => push(&mut ds.assessments, &c, &id, &body, b),
            None => bad.push((id, format!("unknown collection {c:?}"))),
        }
    }
    ds.custody = custody;
    (ds, bad)
}

async fn load_in(tx: &mut Tx) -> Result<(Dataset, Vec<(String, String)>), StoreError> {
    let rows: Vec<(String, String, String)> = tx.all(ALL_ROWS, vec![limit_arg()]).await?;
    check_bound("registry", &rows)?;
    let custody: Vec<CustodyRow> = tx.all(CUSTODY_COLUMNS_BY_ROW, vec![limit_arg()]).await?;
    check_bound("custody", &custody)?;
    let custody = custody
        .into_iter()
        .map(custody_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(dataset_from_rows(rows, custody))
}

macro_rules! each_record_collection {
    ($ds:expr, |$v:ident| $body:expr) => {{
        {
            let $v = &$ds.incidents;
            $body
        }
        {
            let $v = &$ds.actors;
            $body
        }
        {
            let $v = &$ds.sources;
            $body
        }
        {
            let $v = &$ds.laws;
            $body
        }
        {
            let $v = &$ds.provisions;
            $body
        }
        {
            let $v = &$ds.evidence;
            $body
        }
        {
            let $v = &$ds.recommendations;
            $body
        }
        {
            let $v = &$ds.benchmarks;
            $body
        }
    }};
}

macro_rules! each_row_collection {
    ($ds:expr, |$v:ident| $body:expr) => {{
        {
            let $v = &$ds.organisations;
            $body
        }
        {
            let $v = &$ds.incident_links;
            $body
        }
        {
            let $v = &$ds.acts;
            $body
        }
        {
            let $v = &$ds.involvements;
            $body
        }
        {
            let $v = &$ds.citations;
            $body
        }
        {
            let $v = &$ds.invocations;
            $body
        }
        {
            let $v = &$ds.assessments;
            $body
        }
    }};
}

fn sensitive_problems<R: StoredRecord>(rows: &[R], report: &mut VerifyReport) {
    for r in rows {
        let mut copy = r.clone();
        for (field, value) in copy.sensitive_fields_mut() {
            if value.as_clear().is_some() {
                report.problem(
                    "sensitive",
                    &r.meta().id,
                    format!("field {field} is stored in clear"),
                );
            }
        }
    }
}

impl crate::Store {
    /// Everything in the registry as one [`Dataset`], sealed as stored, in
    /// the order it was written (custody events in append order). One
    /// consistent snapshot. Fails with [`StoreError::Corrupt`] on a row
    /// that does not parse (`canary verify` names them all).
    ///
    /// To show it: `ds.view_for(&principal)` (readable records, redacted),
    /// and `ds.open_all(&ring)` / `canary_registry::reveal` for readers
    /// allowed to see sensitive fields (and record their reads with
    /// [`Store::registry_audit_append_all`]).
    pub async fn registry_load(&self) -> Result<Dataset, StoreError> {
        let mut tx = self.registry_read_tx().await?;
        let (ds, bad) = load_in(&mut tx).await?;
        tx.commit().await?;
        if let Some((id, reason)) = bad.into_iter().next() {
            return Err(StoreError::corrupt(id, reason));
        }
        Ok(ds)
    }

    /// One top-level record by id, sealed as stored:
    /// `store.registry_record::<Incident>("inc_…")`.
    pub async fn registry_record<R: StoredRecord>(
        &self,
        id: &str,
    ) -> Result<Option<R>, StoreError> {
        check_len("record id", id, MAX_FIELD_BYTES)?;
        let mut tx = self.registry_read_tx().await?;
        let row: Option<(i64, String)> = tx
            .optional(SELECT_ROW, vec![t(R::COLLECTION.as_str()), t(id)])
            .await?;
        tx.commit().await?;
        row.map(|(_, body)| parse_body(R::COLLECTION.as_str(), id, &body))
            .transpose()
    }

    /// Imports a whole dataset in one transaction: all of it or nothing.
    ///
    /// * The dataset must validate (`Dataset::validate`) and carry no
    ///   sensitive field in clear (seal it first: `Dataset::seal_all`).
    /// * Top-level records: new ones are inserted with their whole version
    ///   history; a record whose history extends the stored one updates it
    ///   (one version row per new version); the same version with the same
    ///   content (sealed values compared blank: sealing twice differs) is
    ///   unchanged; an older version (its history a prefix of the stored
    ///   one: the store was edited since) is left as stored and counted in
    ///   [`ImportCounts::older`]; a diverging history (two different edits
    ///   of the same version) fails with [`STALE_VERSION`].
    /// * Rows without metadata: new ones inserted, changed ones updated, both
    ///   attributed to `by` at `at` ("import").
    /// * Custody chains: each must verify; a chain extending the stored one
    ///   appends the new events (hashes kept); a stored chain that the
    ///   dataset does not extend fails the import.
    /// * Rows in the store but not in the dataset are left alone (a merge,
    ///   not a sync). When anything changed, an `import` audit entry with
    ///   the counts is appended in the same transaction.
    ///
    /// Importing the same dataset twice changes nothing the second time.
    pub async fn registry_import(
        &self,
        ds: &Dataset,
        by: &str,
        at: OffsetDateTime,
    ) -> Result<ImportReport, StoreError> {
        check_len("importer", by, MAX_FIELD_BYTES)?;
        ds.validate()
            .map_err(|e| StoreError::invalid("dataset", e.to_string()))?;
        // An outsider's view carries custody heads instead of the chains and
        // blanked acquisitions: importing it would store evidence whose
        // provenance can never be verified again.
        if !ds.custody_heads.is_empty() {
            return Err(StoreError::invalid(
                "dataset",
                "it is another organisation's redacted view (custody heads without their chains); \
                 import the owning organisation's own export instead",
            ));
        }
        // Refuse clear text before the first statement.
        each_record_collection!(ds, |v| {
            for r in v.iter() {
                prepare_record(r)?;
            }
        });
        let edit = Edit::new(by, at, "import");
        let mut report = ImportReport::default();
        for c in Collection::ALL {
            report.collections.entry(c.as_str().to_owned()).or_default();
        }
        report.collections.entry("custody".into()).or_default();
        let mut tx = self.registry_write_tx().await?;
        let mut current = current_rows(&mut tx).await?;
        each_row_collection!(ds, |v| {
            for r in v.iter() {
                let key = (collection_of(r), r.key());
                let stored = current.get(&key).cloned();
                let w = write_row(&mut tx, r, &edit, stored).await?;
                if !matches!(w, Written::Unchanged { .. }) {
                    // A later row with the same key sees this one.
                    current.insert(key, (w.version().into(), body_of("row", r)?));
                }
                report.count(collection_of(r), w);
            }
        });
        each_record_collection!(ds, |v| {
            for r in v.iter() {
                let key = (record_collection_of(r), r.meta().id.clone());
                let stored = current.get(&key).cloned();
                match write_record(&mut tx, r, stored).await? {
                    RecordWrite::Done(w) => {
                        if !matches!(w, Written::Unchanged { .. }) {
                            current.insert(key, (w.version().into(), body_of("record", r)?));
                        }
                        report.count(record_collection_of(r), w)
                    }
                    RecordWrite::StoredIsNewer(_) => {
                        let c = report.collections.entry(record_collection_of(r).into());
                        c.or_default().older += 1;
                    }
                }
            }
        });
        // Custody chains, item by item, in first-appearance order.
        let mut order: Vec<&str> = Vec::new();
        let mut by_item: HashMap<&str, Vec<&CustodyEvent>> = HashMap::new();
        for e in &ds.custody {
            by_item
                .entry(e.item.as_str())
                .or_insert_with(|| {
                    order.push(e.item.as_str());
                    Vec::new()
                })
                .push(e);
        }
        for item in order {
            let chain: Vec<CustodyEvent> = by_item
                .get(item)
                .map(|v| v.iter().map(|e| (*e).clone()).collect())
                .unwrap_or_default();
            canary_registry::verify_chain(&chain).map_err(|e| {
                StoreError::invalid(format!("custody chain of {item}"), e.to_string())
            })?;
            let (length, last) = lock_head(&mut tx, item).await?;
            let stored: Vec<(i64, String)> = tx
                .all(
                    "SELECT seq, entry_hash FROM registry_custody WHERE item = $1 ORDER BY seq",
                    vec![t(item)],
                )
                .await?;
            if stored.len() as u64 != length
                || stored.last().map_or(GENESIS, |(_, h)| h.as_str()) != last
            {
                return Err(StoreError::invalid(
                    format!("custody chain of {item}"),
                    "the stored chain does not match its recorded head: run `canary verify`",
                ));
            }
            for (e, (_, h)) in chain.iter().zip(&stored) {
                if e.entry_hash != *h {
                    return Err(StoreError::invalid(
                        format!("custody chain of {item}"),
                        format!("event {} differs from the stored one", e.seq),
                    ));
                }
            }
            if chain.len() < stored.len() {
                // The store knows more of this chain: nothing to add.
                let c = report.collections.entry("custody".into()).or_default();
                c.unchanged += chain.len() as u64;
                continue;
            }
            for e in &chain[stored.len()..] {
                insert_custody(&mut tx, e).await?;
            }
            let c = report.collections.entry("custody".into()).or_default();
            c.unchanged += stored.len() as u64;
            c.inserted += (chain.len() - stored.len()) as u64;
            if let Some(lastev) = chain.last() {
                set_head(&mut tx, item, chain.len() as u64, &lastev.entry_hash).await?;
            }
        }
        if report.changed() > 0 {
            let details = report
                .collections
                .iter()
                .filter(|(_, c)| c.inserted + c.updated > 0)
                .map(|(n, c)| format!("{n}: +{} ~{}", c.inserted, c.updated))
                .collect::<Vec<_>>()
                .join(", ");
            append_audit(&mut tx, by, AuditAction::Import, "dataset", at, &details).await?;
        }
        tx.commit().await?;
        debug!(changed = report.changed(), "registry import");
        Ok(report)
    }

    /// Inserts or updates one top-level record (incident, actor, source,
    /// law, provision, evidence item, recommendation, benchmark).
    ///
    /// The record's `RecordMeta::versions` is the concurrency token and the
    /// attribution: a new record is inserted with its history (normally
    /// version 1 from `RecordMeta::new`); an existing one must carry the
    /// stored history plus at least one new version (call `record_edit`,
    /// `transition` or `set_visibility` on the record as loaded). A
    /// version row is written for each new version (who, when, summary, and
    /// the body for the latest). Refused with [`STALE_VERSION`] when the
    /// history does not extend the stored one (someone saved first), with
    /// [`CLEAR_SENSITIVE`] when a sensitive field is in clear, and when a
    /// sealed field would be overwritten by a redacted one. The same record
    /// written twice is [`Written::Unchanged`].
    ///
    /// The store does not check *who* may write: the caller applies
    /// `policy::can_write` first (and records an audit entry if it wants).
    pub async fn registry_put_record<R: StoredRecord>(
        &self,
        record: &R,
    ) -> Result<Written, StoreError> {
        prepare_record(record)?;
        let mut tx = self.registry_write_tx().await?;
        let w = put_record_in(&mut tx, record).await?;
        tx.commit().await?;
        Ok(w)
    }

    /// Inserts or updates one row without metadata (organisation, incident
    /// link, act, involvement, citation, invocation, assessment), keyed by
    /// [`StoredRow::key`]. A change adds a version attributed to `edit`;
    /// the same row written again is [`Written::Unchanged`]. Last writer
    /// wins: these rows carry no version of their own. The caller checks
    /// that the records they join exist and may be written by the user.
    pub async fn registry_put_row<R: StoredRow>(
        &self,
        row: &R,
        edit: &Edit,
    ) -> Result<Written, StoreError> {
        let mut tx = self.registry_write_tx().await?;
        let w = put_row_in(&mut tx, row, edit).await?;
        tx.commit().await?;
        Ok(w)
    }

    /// Deletes one row without metadata (not organisations, nor top-level
    /// records: those are withdrawn through their status). The deletion is
    /// a version with no body, attributed to `edit`; re-adding the row later
    /// continues its numbering. Returns whether the row existed. Delete
    /// dependent rows first (an act's involvements and invocations):
    /// dangling references are reported by [`Store::registry_verify`].
    pub async fn registry_delete_row(
        &self,
        collection: Collection,
        key: &str,
        edit: &Edit,
    ) -> Result<bool, StoreError> {
        let mut tx = self.registry_write_tx().await?;
        let existed = delete_row_in(&mut tx, collection, key, edit).await?;
        tx.commit().await?;
        Ok(existed)
    }

    /// The attributed version history of a row, oldest first (at most
    /// 10,000 versions). `id` is the record id, or a row's key.
    pub async fn registry_history(
        &self,
        collection: Collection,
        id: &str,
    ) -> Result<Vec<StoredVersion>, StoreError> {
        check_len("record id", id, MAX_FIELD_BYTES)?;
        let mut tx = self.registry_read_tx().await?;
        let rows: Vec<(i64, String, String, String, Option<String>)> = tx
            .all(
                "SELECT version, by_user, at, summary, body FROM registry_versions \
                 WHERE collection = $1 AND id = $2 ORDER BY version LIMIT 10000",
                vec![t(collection.as_str()), t(id)],
            )
            .await?;
        tx.commit().await?;
        rows.into_iter()
            .map(|(v, by, at, summary, body)| {
                Ok(StoredVersion {
                    version: to_u32(id, v)?,
                    by,
                    at: parse_time(id, &at)?,
                    summary,
                    body,
                })
            })
            .collect()
    }

    /// Appends one event to an evidence item's custody chain: the store
    /// assigns `seq` and `prev_hash` under the chain's lock and returns the
    /// event as stored. The item must exist (see
    /// `canary_registry::evidence::acquire`: store its record with
    /// [`Store::registry_put_record`], then append its `acquired` event
    /// here with the same action, actor, time and details).
    pub async fn registry_custody_append(
        &self,
        item: &str,
        action: CustodyAction,
        actor: &str,
        at: OffsetDateTime,
        details: &str,
    ) -> Result<CustodyEvent, StoreError> {
        let mut tx = self.registry_write_tx().await?;
        let e = custody_append_in(&mut tx, item, action, actor, at, details).await?;
        tx.commit().await?;
        Ok(e)
    }

    /// An evidence item's custody chain, in order (at most
    /// [`MAX_REGISTRY_ROWS`] events).
    pub async fn registry_custody(&self, item: &str) -> Result<Vec<CustodyEvent>, StoreError> {
        check_len("evidence id", item, MAX_FIELD_BYTES)?;
        let mut tx = self.registry_read_tx().await?;
        let rows: Vec<CustodyRow> = tx.all(CUSTODY_OF_ITEM, vec![t(item), limit_arg()]).await?;
        tx.commit().await?;
        rows.into_iter().map(custody_from_row).collect()
    }

    /// Appends one entry to the audit log (the store assigns `seq` and
    /// `prev_hash` under the log's lock) and returns it as stored.
    pub async fn registry_audit_append(
        &self,
        actor: &str,
        action: AuditAction,
        object: &str,
        at: OffsetDateTime,
        details: &str,
    ) -> Result<AuditEntry, StoreError> {
        let mut tx = self.registry_write_tx().await?;
        let e = append_audit(&mut tx, actor, action, object, at, details).await?;
        tx.commit().await?;
        Ok(e)
    }

    /// Persists entries made in memory by the registry's own functions
    /// (`canary_registry::reveal`, `canary_registry::io::export` append to
    /// an `AuditLog`: pass `log.entries()` of a fresh `AuditLog::new()`).
    /// Only actor, action, object, time and details are taken: the store
    /// re-chains them after the stored log, in one transaction, and returns
    /// them as stored.
    pub async fn registry_audit_append_all(
        &self,
        entries: &[AuditEntry],
    ) -> Result<Vec<AuditEntry>, StoreError> {
        if entries.len() > MAX_AUDIT_PAGE as usize {
            return Err(StoreError::invalid(
                "audit entries",
                format!("{} at once, at most {MAX_AUDIT_PAGE}", entries.len()),
            ));
        }
        let mut tx = self.registry_write_tx().await?;
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            out.push(append_audit(&mut tx, &e.actor, e.action, &e.object, e.at, &e.details).await?);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Audit entries from `from_seq` on, oldest first, at most `limit`
    /// (capped at [`MAX_AUDIT_PAGE`]).
    pub async fn registry_audit(
        &self,
        from_seq: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let mut tx = self.registry_read_tx().await?;
        let rows: Vec<AuditRow> = tx
            .all(
                AUDIT_PAGE,
                vec![
                    Arg::Int(to_i64("from_seq", from_seq)?),
                    Arg::Int(limit.min(MAX_AUDIT_PAGE).into()),
                ],
            )
            .await?;
        tx.commit().await?;
        rows.into_iter().map(audit_from_row).collect()
    }

    /// Every chain's head (evidence items and `audit`): its last entry's
    /// sequence number and hash. Print or publish them to anchor the chains
    /// outside the database (see the module docs).
    pub async fn registry_chain_heads(&self) -> Result<Vec<ChainHead>, StoreError> {
        let mut tx = self.registry_read_tx().await?;
        let heads = read_heads(&mut tx).await?;
        tx.commit().await?;
        Ok(heads)
    }

    /// Checks chain heads saved earlier (from [`Store::registry_chain_heads`]
    /// or `canary verify --json`, kept outside the database) against the
    /// chains now: chains only grow, so each saved head's entry must still
    /// be there with the same hash. Catches what [`Store::registry_verify`]
    /// alone cannot: a chain rewritten with recomputed hashes and head
    /// after the heads were saved. Returns one [`Problem`] per head that
    /// no longer matches (at most [`MAX_AUDIT_PAGE`] heads at once).
    pub async fn registry_check_anchors(
        &self,
        anchors: &[ChainHead],
    ) -> Result<Vec<Problem>, StoreError> {
        if anchors.len() > MAX_AUDIT_PAGE as usize {
            return Err(StoreError::invalid(
                "anchors",
                format!("{} at once, at most {MAX_AUDIT_PAGE}", anchors.len()),
            ));
        }
        let mut tx = self.registry_read_tx().await?;
        let mut problems = Vec::new();
        for a in anchors {
            check_len("chain", &a.chain, MAX_FIELD_BYTES)?;
            let seq = Arg::Int(to_i64("seq", a.seq)?);
            let (area, found): (&str, Option<(String,)>) = if a.chain == AUDIT_CHAIN {
                let row = tx
                    .optional(
                        "SELECT entry_hash FROM registry_audit WHERE seq = $1",
                        vec![seq],
                    )
                    .await?;
                ("audit", row)
            } else {
                let row = tx
                    .optional(
                        "SELECT entry_hash FROM registry_custody WHERE item = $1 AND seq = $2",
                        vec![t(&a.chain), seq],
                    )
                    .await?;
                ("custody", row)
            };
            let message = match found {
                Some((hash,)) if hash == a.entry_hash => continue,
                Some(_) => format!(
                    "entry {} differs from the saved head: the chain was rewritten",
                    a.seq
                ),
                None => format!(
                    "entry {} of the saved head is gone: the chain was cut or rewritten",
                    a.seq
                ),
            };
            problems.push(Problem {
                area: area.into(),
                item: a.chain.clone(),
                message,
            });
        }
        tx.commit().await?;
        Ok(problems)
    }

    /// Checks the whole registry and names every broken item:
    ///
    /// * every evidence item's custody chain (altered, inserted, deleted or
    ///   reordered events; deleted last events, through the chain's head;
    ///   an item with events and no head);
    /// * the audit log, likewise;
    /// * every row against the body recorded for its current version
    ///   (a row edited with SQL behind Canary's back), and that it parses;
    /// * no sensitive field in clear at rest;
    /// * the dataset's references (`Dataset::validate`);
    /// * with `evidence_dir` (an `ObjectStore` root): every evidence item's
    ///   file is present and still hashes to its SHA-256.
    ///
    /// Returns `Err` only when the database cannot be read; problems are in
    /// the report. One consistent snapshot.
    pub async fn registry_verify(
        &self,
        evidence_dir: Option<&Path>,
    ) -> Result<VerifyReport, StoreError> {
        let mut report = VerifyReport::default();
        let mut tx = self.registry_read_tx().await?;
        let (ds, bad) = load_in(&mut tx).await?;
        for (id, reason) in bad {
            report.problem("record", id, reason);
        }
        // Rows against their version history.
        let checks: Vec<(String, String, i64, i32)> = tx
            .all(
                "SELECT r.collection, r.id, r.version, CASE \
                   WHEN v.row_id IS NULL THEN 0 \
                   WHEN v.body IS NULL OR v.body = r.body THEN 1 \
                   ELSE 2 END \
                 FROM registry_records r LEFT JOIN registry_versions v \
                   ON v.collection = r.collection AND v.id = r.id AND v.version = r.version \
                 ORDER BY r.row_id LIMIT $1",
                vec![limit_arg()],
            )
            .await?;
        report.records = checks.len() as u64;
        for (collection, id, version, state) in checks {
            match state {
                0 => report.problem(
                    "record",
                    &id,
                    format!("{collection} {id}: version {version} has no history row"),
                ),
                2 => report.problem(
                    "record",
                    &id,
                    format!(
                        "{collection} {id}: differs from the body recorded for version {version} \
                         (changed outside Canary)"
                    ),
                ),
                _ => {}
            }
        }
        // Custody chains with their heads.
        let custody: Vec<CustodyRow> = tx.all(CUSTODY_COLUMNS_BY_SEQ, vec![limit_arg()]).await?;
        check_bound("custody", &custody)?;
        let mut events = Vec::with_capacity(custody.len());
        for row in custody {
            let id = row.0.clone();
            match custody_from_row(row) {
                Ok(e) => events.push(e),
                Err(e) => report.problem("custody", id, e.to_string()),
            }
        }
        let heads = read_heads(&mut tx).await?;
        let audit_head = heads.iter().find(|h| h.chain == AUDIT_CHAIN).cloned();
        let custody_heads: Vec<ChainHead> = heads
            .into_iter()
            .filter(|h| h.chain != AUDIT_CHAIN)
            .collect();
        let with_head: HashSet<&str> = custody_heads.iter().map(|h| h.chain.as_str()).collect();
        let items: std::collections::BTreeSet<&str> =
            events.iter().map(|e| e.item.as_str()).collect();
        for item in &items {
            if !with_head.contains(item) {
                report.problem(
                    "custody",
                    *item,
                    "chain has no recorded head (the head row was deleted)",
                );
            }
        }
        report.custody_chains = items.len().max(custody_heads.len()) as u64;
        report.custody_events = events.len() as u64;
        if let Err(errors) = verify_custody(&events, &custody_heads) {
            for e in errors {
                report.problem("custody", e.chain.clone(), e.to_string());
            }
        }
        // The audit log with its head.
        let audit: Vec<AuditRow> = tx.all(AUDIT_PAGE, vec![Arg::Int(0), limit_arg()]).await?;
        check_bound("audit", &audit)?;
        let mut entries = Vec::with_capacity(audit.len());
        for row in audit {
            match audit_from_row(row) {
                Ok(e) => entries.push(e),
                Err(e) => report.problem("audit", AUDIT_CHAIN, e.to_string()),
            }
        }
        report.audit_entries = entries.len() as u64;
        let audit_result = match &audit_head {
            Some(h) => verify_chain_with_head(&entries, h),
            None if entries.is_empty() => Ok(()),
            None => {
                report.problem(AUDIT_CHAIN, AUDIT_CHAIN, "log has no recorded head");
                canary_registry::verify_chain(&entries)
            }
        };
        if let Err(e) = audit_result {
            report.problem("audit", AUDIT_CHAIN, e.to_string());
        }
        tx.commit().await?;
        // Content checks.
        each_record_collection!(ds, |v| sensitive_problems(v, &mut report));
        if let Err(e) = ds.validate() {
            report.problem("dataset", "dataset", e.to_string());
        }
        if let Some(dir) = evidence_dir {
            let objects = ObjectStore::new(dir);
            let wanted: Vec<(String, String)> = ds
                .evidence
                .iter()
                .map(|e| (e.meta.id.clone(), e.sha256.clone()))
                .collect();
            let results = tokio::task::spawn_blocking(move || {
                wanted
                    .into_iter()
                    .map(|(id, sha)| {
                        let r = objects.verify(&sha, MAX_EVIDENCE_BYTES);
                        (id, r.map_err(|e| e.to_string()))
                    })
                    .collect::<Vec<_>>()
            })
            .await
            .map_err(|e| StoreError::invalid("evidence check", e.to_string()))?;
            for (id, r) in results {
                report.evidence_files += 1;
                if let Err(reason) = r {
                    report.problem("evidence_file", id, reason);
                }
            }
        }
        Ok(report)
    }
}

async fn read_heads(tx: &mut Tx) -> Result<Vec<ChainHead>, StoreError> {
    let rows: Vec<(String, i64, String)> = tx
        .all(
            "SELECT chain, length, last_hash FROM registry_chain_heads ORDER BY chain LIMIT $1",
            vec![limit_arg()],
        )
        .await?;
    let mut heads = Vec::with_capacity(rows.len());
    for (chain, length, last_hash) in rows {
        if length <= 0 {
            continue; // an empty chain (created, nothing appended yet)
        }
        heads.push(ChainHead {
            seq: to_u64(&chain, length - 1)?,
            chain,
            entry_hash: last_hash,
        });
    }
    Ok(heads)
}

fn collection_of<R: StoredRow>(_: &R) -> &'static str {
    R::COLLECTION.as_str()
}

fn record_collection_of<R: StoredRecord>(_: &R) -> &'static str {
    R::COLLECTION.as_str()
}

// ---------------------------------------------------------------------
// Targeted reads over a loaded dataset (no SQL: the registry is small).
// Pass a view (`ds.view_for(&principal)`) to answer for one reader.

/// The incident `id` with everything attached to it, as a small
/// [`Dataset`]: its acts, links touching it, involvements and their
/// actors, victims, invocations with their provisions and laws, citations
/// of the incident or its acts with their sources, evidence linked to them
/// with its custody, assessments citing them with their recommendations
/// or benchmarks, and the organisations owning all of these. `None` when
/// `ds` has no such incident.
///
/// ```
/// # use canary_registry::{seed, Principal};
/// let ds = seed::kh().view_for(&Principal::Anonymous);
/// let id = ds.incidents[0].meta.id.clone();
/// let one = canary_store::registry::incident_bundle(&ds, &id).expect("present");
/// assert_eq!(one.incidents.len(), 1);
/// assert!(one.acts.iter().all(|a| a.incident_id == id));
/// ```
pub fn incident_bundle(ds: &Dataset, id: &str) -> Option<Dataset> {
    let incident = ds.incidents.iter().find(|i| i.meta.id == id)?.clone();
    let mut out = Dataset::new();
    out.acts = ds
        .acts
        .iter()
        .filter(|a| a.incident_id == id)
        .cloned()
        .collect();
    let acts: HashSet<&str> = out.acts.iter().map(|a| a.id.as_str()).collect();
    let mut records: HashSet<&str> = acts.clone();
    records.insert(id);
    out.incident_links = ds
        .incident_links
        .iter()
        .filter(|l| l.from == id || l.to == id)
        .cloned()
        .collect();
    out.involvements = ds
        .involvements
        .iter()
        .filter(|i| acts.contains(i.act_id.as_str()))
        .cloned()
        .collect();
    out.invocations = ds
        .invocations
        .iter()
        .filter(|i| acts.contains(i.act_id.as_str()))
        .cloned()
        .collect();
    let actors: HashSet<&str> = out
        .involvements
        .iter()
        .map(|i| i.actor_id.as_str())
        .chain(out.acts.iter().filter_map(|a| a.victim_id.as_deref()))
        .collect();
    out.actors = ds
        .actors
        .iter()
        .filter(|a| actors.contains(a.meta.id.as_str()))
        .cloned()
        .collect();
    let provisions: HashSet<&str> = out
        .invocations
        .iter()
        .map(|i| i.provision_id.as_str())
        .collect();
    out.provisions = ds
        .provisions
        .iter()
        .filter(|p| provisions.contains(p.meta.id.as_str()))
        .cloned()
        .collect();
    let laws: HashSet<&str> = out.provisions.iter().map(|p| p.law_id.as_str()).collect();
    out.laws = ds
        .laws
        .iter()
        .filter(|l| laws.contains(l.meta.id.as_str()))
        .cloned()
        .collect();
    out.citations = ds
        .citations
        .iter()
        .filter(|c| records.contains(c.record_id.as_str()))
        .cloned()
        .collect();
    let sources: HashSet<&str> = out.citations.iter().map(|c| c.source_id.as_str()).collect();
    out.sources = ds
        .sources
        .iter()
        .filter(|s| sources.contains(s.meta.id.as_str()))
        .cloned()
        .collect();
    out.evidence = ds
        .evidence
        .iter()
        .filter(|e| e.linked_ids.iter().any(|l| records.contains(l.as_str())))
        .cloned()
        .collect();
    let evidence: HashSet<&str> = out.evidence.iter().map(|e| e.meta.id.as_str()).collect();
    out.custody = ds
        .custody
        .iter()
        .filter(|c| evidence.contains(c.item.as_str()))
        .cloned()
        .collect();
    out.assessments = ds
        .assessments
        .iter()
        .filter(|a| a.evidence_ids.iter().any(|e| records.contains(e.as_str())))
        .cloned()
        .collect();
    let targets: HashSet<&str> = out
        .assessments
        .iter()
        .map(|a| a.target_id.as_str())
        .collect();
    out.recommendations = ds
        .recommendations
        .iter()
        .filter(|r| targets.contains(r.meta.id.as_str()))
        .cloned()
        .collect();
    out.benchmarks = ds
        .benchmarks
        .iter()
        .filter(|b| targets.contains(b.meta.id.as_str()))
        .cloned()
        .collect();
    out.incidents = vec![incident];
    let mut orgs: HashSet<&str> = HashSet::new();
    let metas = out
        .incidents
        .iter()
        .map(|r| &r.meta)
        .chain(out.actors.iter().map(|r| &r.meta))
        .chain(out.sources.iter().map(|r| &r.meta))
        .chain(out.laws.iter().map(|r| &r.meta))
        .chain(out.provisions.iter().map(|r| &r.meta))
        .chain(out.evidence.iter().map(|r| &r.meta))
        .chain(out.recommendations.iter().map(|r| &r.meta))
        .chain(out.benchmarks.iter().map(|r| &r.meta));
    for m in metas {
        orgs.insert(m.org.as_str());
    }
    for a in &out.assessments {
        orgs.insert(a.assessed_by.as_str());
    }
    let organisations = ds
        .organisations
        .iter()
        .filter(|o| orgs.contains(o.id.as_str()))
        .cloned()
        .collect();
    out.organisations = organisations;
    Some(out)
}

fn blocking_order(act: &Act) -> Option<&canary_registry::BlockingOrder> {
    match &act.extension {
        Some(canary_registry::ActExtension::BlockingOrder(o)) => Some(o),
        _ => None,
    }
}

/// Incidents whose blocking orders cite this measurement id (OONI's
/// `measurement_uid` or Canary's id), with the citing act, in dataset order.
pub fn incidents_for_measurement<'a>(
    ds: &'a Dataset,
    measurement_id: &str,
) -> Vec<(&'a Incident, &'a Act)> {
    ds.acts
        .iter()
        .filter(|a| {
            blocking_order(a).is_some_and(|o| o.measurement_ids.iter().any(|m| m == measurement_id))
        })
        .filter_map(|a| {
            ds.incidents
                .iter()
                .find(|i| i.meta.id == a.incident_id)
                .map(|i| (i, a))
        })
        .collect()
}

/// The host a blocking-order target names (`example.com`,
/// `https://www.example.com/page`, `example.com/path`), lower-case, without
/// a trailing dot; `None` for targets that are not hosts (accounts).
fn target_host(target: &str) -> Option<String> {
    let target = target.trim();
    let host = if target.contains("://") {
        url::Url::parse(target).ok()?.host_str()?.to_owned()
    } else {
        target.split(['/', '?', '#']).next()?.to_owned()
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (host.contains('.') && !host.contains(['@', ' '])).then_some(host)
}

/// Blocking orders that cover `domain`: a target naming the domain itself
/// or a parent of it (an order for `example.com` covers
/// `www.example.com`), with their incidents, in dataset order.
pub fn blocking_orders_for_domain<'a>(
    ds: &'a Dataset,
    domain: &str,
) -> Vec<(&'a Incident, &'a Act)> {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    if domain.is_empty() {
        return Vec::new();
    }
    ds.acts
        .iter()
        .filter(|a| {
            blocking_order(a).is_some_and(|o| {
                o.targets.iter().filter_map(|t| target_host(t)).any(|h| {
                    domain == h
                        || domain
                            .strip_suffix(h.as_str())
                            .is_some_and(|rest| rest.ends_with('.'))
                })
            })
        })
        .filter_map(|a| {
            ds.incidents
                .iter()
                .find(|i| i.meta.id == a.incident_id)
                .map(|i| (i, a))
        })
        .collect()
}
