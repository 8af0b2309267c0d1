//! The registry area's only door to the store: loads, writes, custody and
//! audit appends, with store errors mapped to refusals (a write that lost
//! an optimistic-concurrency race is a 409).

use axum::http::StatusCode;
use canary_registry::{Act, AuditEntry, CustodyEvent, Dataset, EvidenceItem, Incident};
use canary_store::registry::{is_stale_version, row_key, Collection, Edit, StoredRecord};
use canary_store::StoreError;

use super::forms::ActRows;
use crate::server::{Fail, Shared};

fn fail(e: StoreError) -> Fail {
    if is_stale_version(&e) {
        Fail::new(StatusCode::CONFLICT, "reg_error_conflict")
    } else {
        Fail::from(e)
    }
}

/// The whole registry, sealed as stored.
pub(crate) async fn load(s: &Shared) -> Result<Dataset, Fail> {
    s.cfg.store.registry_load().await.map_err(fail)
}

/// Persists audit entries made in memory (re-chained after the stored log).
pub(crate) async fn audit(s: &Shared, entries: &[AuditEntry]) -> Result<(), Fail> {
    s.cfg
        .store
        .registry_audit_append_all(entries)
        .await
        .map(|_| ())
        .map_err(fail)
}

/// Writes a top-level record (new, or extending the stored history).
pub(crate) async fn put_record<R: StoredRecord>(s: &Shared, r: &R) -> Result<(), Fail> {
    s.cfg
        .store
        .registry_put_record(r)
        .await
        .map(|_| ())
        .map_err(fail)
}

/// Adds an act and its rows; `incident` carries the new version that
/// records the addition (written first: a concurrent edit of the incident
/// makes the whole addition fail with 409).
pub(crate) async fn create_act(
    s: &Shared,
    incident: &Incident,
    act: &Act,
    rows: &ActRows,
) -> Result<(), Fail> {
    update_act(s, incident, act, &ActRows::default(), rows).await
}

/// Writes an act and replaces its rows (`before` are the stored ones:
/// those not kept are deleted, attributed); `incident` carries the new
/// version that records the change.
pub(crate) async fn update_act(
    s: &Shared,
    incident: &Incident,
    act: &Act,
    before: &ActRows,
    after: &ActRows,
) -> Result<(), Fail> {
    put_record(s, incident).await?;
    let v = incident.meta.versions.last();
    let edit = Edit::new(
        v.map(|v| v.by.clone()).unwrap_or_default(),
        v.map_or_else(time::OffsetDateTime::now_utc, |v| v.at),
        v.map(|v| v.change_summary.clone()).unwrap_or_default(),
    );
    let store = &s.cfg.store;
    store.registry_put_row(act, &edit).await.map_err(fail)?;
    let keep: Vec<String> = after.invocations.iter().map(row_key).collect();
    for old in &before.invocations {
        let key = row_key(old);
        if !keep.contains(&key) {
            store
                .registry_delete_row(Collection::Invocations, &key, &edit)
                .await
                .map_err(fail)?;
        }
    }
    let keep: Vec<String> = after.involvements.iter().map(row_key).collect();
    for old in &before.involvements {
        let key = row_key(old);
        if !keep.contains(&key) {
            store
                .registry_delete_row(Collection::Involvements, &key, &edit)
                .await
                .map_err(fail)?;
        }
    }
    for i in &after.invocations {
        store.registry_put_row(i, &edit).await.map_err(fail)?;
    }
    for i in &after.involvements {
        store.registry_put_row(i, &edit).await.map_err(fail)?;
    }
    Ok(())
}

/// Stores a new evidence item and its first custody event.
pub(crate) async fn create_evidence(
    s: &Shared,
    item: &EvidenceItem,
    first: &CustodyEvent,
) -> Result<CustodyEvent, Fail> {
    put_record(s, item).await?;
    s.cfg
        .store
        .registry_custody_append(
            &first.item,
            first.action,
            &first.actor,
            first.at,
            &first.details,
        )
        .await
        .map_err(fail)
}

/// Appends a custody event to an evidence item's chain.
pub(crate) async fn custody(
    s: &Shared,
    item: &str,
    action: canary_registry::CustodyAction,
    actor: &str,
    details: &str,
) -> Result<CustodyEvent, Fail> {
    s.cfg
        .store
        .registry_custody_append(
            item,
            action,
            actor,
            time::OffsetDateTime::now_utc(),
            details,
        )
        .await
        .map_err(fail)
}

/// Imports a dataset (already checked and sealed).
pub(crate) async fn import(s: &Shared, ds: &Dataset, by: &str) -> Result<u64, Fail> {
    s.cfg
        .store
        .registry_import(ds, by, time::OffsetDateTime::now_utc())
        .await
        .map(|r| r.changed())
        .map_err(fail)
}
