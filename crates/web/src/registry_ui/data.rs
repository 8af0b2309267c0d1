//! The registry area's only door to the store: loads, writes, custody and
//! audit appends, with store errors mapped to refusals (a write that lost
//! an optimistic-concurrency race is a 409).

use axum::http::StatusCode;
use canary_registry::{
    Act, AuditAction, AuditEntry, CustodyEvent, Dataset, EvidenceItem, Incident,
};
use canary_store::registry::{
    is_stale_version, row_key, Collection, Edit, StoredRecord, StoredRow,
};
use canary_store::{Store, StoreError};

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

/// The audit entry that records an act's change, written in the same
/// transaction as the change itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ActAudit<'a> {
    /// Who did it (a user id).
    pub(crate) actor: &'a str,
    /// Created or edited.
    pub(crate) action: AuditAction,
    /// `entity=act incident=…`.
    pub(crate) details: &'a str,
}

/// Adds an act and its rows; `incident` carries the new version that
/// records the addition. One transaction: a concurrent edit of the
/// incident (409) or any refused row leaves the registry untouched.
pub(crate) async fn create_act(
    s: &Shared,
    incident: &Incident,
    act: &Act,
    rows: &ActRows,
    audit: ActAudit<'_>,
) -> Result<(), Fail> {
    write_act(
        &s.cfg.store,
        incident,
        act,
        &ActRows::default(),
        rows,
        audit,
    )
    .await
    .map_err(fail)
}

/// Writes an act and replaces its rows (`before` are the stored ones:
/// those not kept are deleted, attributed); `incident` carries the new
/// version that records the change. One transaction, all or nothing.
pub(crate) async fn update_act(
    s: &Shared,
    incident: &Incident,
    act: &Act,
    before: &ActRows,
    after: &ActRows,
    audit: ActAudit<'_>,
) -> Result<(), Fail> {
    write_act(&s.cfg.store, incident, act, before, after, audit)
        .await
        .map_err(fail)
}

/// The act's whole change in one [`RegistryBatch`](canary_store::registry::RegistryBatch):
/// the incident's new version (written first, so a stale version fails
/// before anything else), the act, the rows deleted and written, and the
/// audit entry. Any error drops the batch uncommitted: nothing is written.
async fn write_act(
    store: &Store,
    incident: &Incident,
    act: &Act,
    before: &ActRows,
    after: &ActRows,
    audit: ActAudit<'_>,
) -> Result<(), StoreError> {
    let v = incident.meta.versions.last();
    let at = v.map_or_else(time::OffsetDateTime::now_utc, |v| v.at);
    let edit = Edit::new(
        v.map(|v| v.by.clone()).unwrap_or_default(),
        at,
        v.map(|v| v.change_summary.clone()).unwrap_or_default(),
    );
    let mut batch = store.registry_batch().await?;
    batch.put_record(incident).await?;
    batch.put_row(act, &edit).await?;
    let keep: Vec<String> = after.invocations.iter().map(row_key).collect();
    for old in &before.invocations {
        let key = row_key(old);
        if !keep.contains(&key) {
            batch
                .delete_row(Collection::Invocations, &key, &edit)
                .await?;
        }
    }
    let keep: Vec<String> = after.involvements.iter().map(row_key).collect();
    for old in &before.involvements {
        let key = row_key(old);
        if !keep.contains(&key) {
            batch
                .delete_row(Collection::Involvements, &key, &edit)
                .await?;
        }
    }
    for i in &after.invocations {
        batch.put_row(i, &edit).await?;
    }
    for i in &after.involvements {
        batch.put_row(i, &edit).await?;
    }
    batch
        .audit_append(audit.actor, audit.action, &act.id, at, audit.details)
        .await?;
    batch.commit().await
}

/// The audit entry of an entry form's write, made in the same
/// transaction as the write.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EntryAudit<'a> {
    /// Who did it (a user id).
    pub(crate) actor: &'a str,
    /// Created or edited.
    pub(crate) action: AuditAction,
    /// The record or row written.
    pub(crate) object: &'a str,
    /// `entity=…` and what else the entry should say.
    pub(crate) details: &'a str,
    /// When.
    pub(crate) at: time::OffsetDateTime,
}

impl EntryAudit<'_> {
    /// Appends this entry inside `batch` (the same transaction as the write).
    async fn append(
        &self,
        batch: &mut canary_store::registry::RegistryBatch,
    ) -> Result<(), canary_store::StoreError> {
        batch
            .audit_append(self.actor, self.action, self.object, self.at, self.details)
            .await
            .map(drop)
    }
}

/// One entry form's write in one transaction: a top-level `record` (new
/// or a new version), the `incident` whose new version records a change to
/// its citations, a `row` (citation, assessment) attributed to the audit's
/// actor with `summary`, and the audit entry. A stale version of either
/// record (someone saved first) is a 409 and nothing is written.
pub(crate) async fn write_entry<R: StoredRecord, W: StoredRow>(
    s: &Shared,
    record: Option<&R>,
    incident: Option<&Incident>,
    row: Option<(&W, &str)>,
    audit: EntryAudit<'_>,
) -> Result<(), Fail> {
    write_entry_in(&s.cfg.store, record, incident, row, audit)
        .await
        .map_err(fail)
}

async fn write_entry_in<R: StoredRecord, W: StoredRow>(
    store: &Store,
    record: Option<&R>,
    incident: Option<&Incident>,
    row: Option<(&W, &str)>,
    audit: EntryAudit<'_>,
) -> Result<(), StoreError> {
    let run = async {
        let mut batch = store.registry_batch().await?;
        if let Some(r) = record {
            batch.put_record(r).await?;
        }
        if let Some(i) = incident {
            batch.put_record(i).await?;
        }
        if let Some((w, summary)) = row {
            batch
                .put_row(w, &Edit::new(audit.actor, audit.at, summary))
                .await?;
        }
        audit.append(&mut batch).await?;
        batch.commit().await
    };
    run.await
}

/// Deletes a row without metadata (a citation, an assessment), attributed
/// to the audit's actor with `summary`; `incident`, if given, carries the
/// new version that records the removal. One transaction with the audit
/// entry: a stale incident is a 409 and nothing changes; a row already
/// gone is a 404.
pub(crate) async fn remove_row(
    s: &Shared,
    incident: Option<&Incident>,
    collection: Collection,
    key: &str,
    summary: &str,
    audit: EntryAudit<'_>,
) -> Result<(), Fail> {
    let run = async {
        let mut batch = s.cfg.store.registry_batch().await?;
        if let Some(i) = incident {
            batch.put_record(i).await?;
        }
        let edit = Edit::new(audit.actor, audit.at, summary);
        if !batch.delete_row(collection, key, &edit).await? {
            return Ok(false);
        }
        audit.append(&mut batch).await?;
        batch.commit().await.map(|()| true)
    };
    match run.await {
        Ok(true) => Ok(()),
        Ok(false) => Err(Fail::not_found()),
        Err(e) => Err(fail(e)),
    }
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

#[cfg(test)]
mod tests {
    //! An act's change is one transaction: whatever fails part-way, the
    //! registry (records, rows, version histories, audit log, chain heads)
    //! is exactly what it was.

    use canary_registry::{
        seed, FieldKey, InvocationRole, Involvement, KeyRing, Principal, ProvisionInvocation, Role,
    };
    use canary_store::registry::{Collection, StoredRow};

    use super::*;

    async fn seeded() -> Store {
        let store = Store::open("sqlite::memory:").await.unwrap();
        let mut ds = seed::kh();
        ds.seal_all(&KeyRing::new(FieldKey::from_bytes(1, [7u8; 32])))
            .unwrap();
        store
            .registry_import(&ds, "test", seed::SEED_AT)
            .await
            .unwrap();
        store
    }

    /// Everything a write could have touched, serialised.
    async fn snapshot(store: &Store, act: &Act, rows: &[&ActRows]) -> String {
        let ds = store.registry_load().await.unwrap();
        let mut out = serde_json::to_string(&ds).unwrap();
        let mut keys = vec![
            (Collection::Incidents, act.incident_id.clone()),
            (Collection::Acts, act.id.clone()),
        ];
        for r in rows {
            keys.extend(
                r.invocations
                    .iter()
                    .map(|i| (Collection::Invocations, i.key())),
            );
            keys.extend(
                r.involvements
                    .iter()
                    .map(|i| (Collection::Involvements, i.key())),
            );
        }
        // (A key too long to store has no history to compare.)
        for (c, k) in keys
            .into_iter()
            .filter(|(_, k)| k.len() <= canary_store::MAX_FIELD_BYTES)
        {
            let h = store.registry_history(c, &k).await.unwrap();
            out.push_str(&serde_json::to_string(&h).unwrap());
        }
        let audit = store.registry_audit(0, 1_000).await.unwrap();
        out.push_str(&format!("{audit:?}"));
        out.push_str(&format!(
            "{:?}",
            store.registry_chain_heads().await.unwrap()
        ));
        out
    }

    /// The seed's first act with rows, its incident edited by an admin of
    /// the owning organisation (the version a real edit would write).
    fn edit_of(ds: &Dataset) -> (Incident, Act, ActRows) {
        let act = ds
            .acts
            .iter()
            .find(|a| ds.invocations.iter().any(|i| i.act_id == a.id))
            .cloned()
            .unwrap();
        let mut inc = ds
            .incidents
            .iter()
            .find(|i| i.meta.id == act.incident_id)
            .cloned()
            .unwrap();
        let admin = Principal::user("u_admin", inc.meta.org.clone(), Role::Admin);
        inc.meta
            .record_edit(&admin, time::OffsetDateTime::now_utc(), "act edited")
            .unwrap();
        let rows = ActRows {
            invocations: ds
                .invocations
                .iter()
                .filter(|i| i.act_id == act.id)
                .cloned()
                .collect(),
            involvements: ds
                .involvements
                .iter()
                .filter(|i| i.act_id == act.id)
                .cloned()
                .collect(),
        };
        (inc, act, rows)
    }

    const AUDIT: ActAudit<'static> = ActAudit {
        actor: "u_admin",
        action: AuditAction::Edit,
        details: "entity=act",
    };

    fn too_long() -> String {
        format!("prov_{}", "x".repeat(canary_store::MAX_FIELD_BYTES))
    }

    /// The whole registry and the audit log's length, to show a refused
    /// write changed nothing.
    async fn registry_and_audit(store: &Store) -> (String, usize) {
        (
            serde_json::to_string(&store.registry_load().await.unwrap()).unwrap(),
            store.registry_audit(0, 1_000).await.unwrap().len(),
        )
    }

    #[tokio::test]
    async fn a_write_refused_part_way_leaves_the_registry_byte_identical() {
        // (case, how the act's new rows are made from the stored ones)
        type Breaks = fn(&Act, &ActRows) -> ActRows;
        let cases: [(&str, Breaks); 3] = [
            (
                "an invocation the store refuses after the incident and act",
                |act, before| {
                    let mut after = before.clone();
                    after.invocations.push(ProvisionInvocation {
                        act_id: act.id.clone(),
                        provision_id: too_long(),
                        role: InvocationRole::CitedInOrder,
                        date: None,
                        note: None,
                    });
                    after
                },
            ),
            (
                "an involvement refused after old rows were deleted",
                |act, _| ActRows {
                    invocations: Vec::new(),
                    involvements: vec![Involvement {
                        act_id: act.id.clone(),
                        actor_id: format!("act_{}", too_long()),
                        degree: canary_registry::Degree::Ordered,
                        perpetrator_type: canary_registry::PerpetratorType::Ministry,
                        note: None,
                    }],
                },
            ),
            ("a row too large to store, written last", |act, before| {
                let mut after = before.clone();
                after.invocations.truncate(0);
                after.involvements.push(Involvement {
                    act_id: act.id.clone(),
                    actor_id: "actor_big".into(),
                    degree: canary_registry::Degree::Ordered,
                    perpetrator_type: canary_registry::PerpetratorType::Ministry,
                    note: Some("n".repeat(canary_store::registry::MAX_BODY_BYTES + 1)),
                });
                after
            }),
        ];
        for (case, breaks) in cases {
            let store = seeded().await;
            let (inc, mut act, before) = edit_of(&store.registry_load().await.unwrap());
            act.description = format!("changed by {case}");
            let after = breaks(&act, &before);
            let was = snapshot(&store, &act, &[&before, &after]).await;
            let r = write_act(&store, &inc, &act, &before, &after, AUDIT).await;
            assert!(r.is_err(), "{case}: the store accepted it");
            let now = snapshot(&store, &act, &[&before, &after]).await;
            assert!(was == now, "{case}: the registry changed");
        }
    }

    /// A new source cited on the seed's first incident, as the source
    /// form writes it, by an admin of the incident's organisation.
    fn cited_source(
        ds: &Dataset,
    ) -> (canary_registry::Source, Incident, canary_registry::Citation) {
        let mut inc = ds.incidents[0].clone();
        let admin = Principal::user("u_admin", inc.meta.org.clone(), Role::Admin);
        let at = time::OffsetDateTime::now_utc();
        let meta = canary_registry::RecordMeta::new(
            canary_registry::EntityType::Source,
            "src_written_by_the_form",
            &admin,
            at,
        )
        .unwrap();
        let source = canary_registry::Source {
            meta,
            publication: "a newspaper".into(),
            title: None,
            url: None,
            published: None,
            connection: canary_registry::SourceConnection::Media,
            reliability: canary_registry::Reliability::Unknown,
            language: "km".into(),
            consent_to_publish: false,
            identity: None,
            contact: None,
        };
        inc.meta
            .record_edit(&admin, at, "source src_written_by_the_form cited")
            .unwrap();
        let citation = canary_registry::Citation {
            source_id: source.meta.id.clone(),
            record_id: inc.meta.id.clone(),
            note: None,
        };
        (source, inc, citation)
    }

    fn entry_audit(object: &str) -> EntryAudit<'_> {
        EntryAudit {
            actor: "u_admin",
            action: AuditAction::Create,
            object,
            details: "entity=source",
            at: time::OffsetDateTime::now_utc(),
        }
    }

    #[tokio::test]
    async fn an_entry_whose_incident_went_stale_writes_nothing_at_all() {
        let store = seeded().await;
        let ds = store.registry_load().await.unwrap();
        let (source, inc, citation) = cited_source(&ds);
        // Someone else saves the incident first.
        let (_, theirs, _) = cited_source(&ds);
        store.registry_put_record(&theirs).await.unwrap();
        let was = registry_and_audit(&store).await;
        let e = write_entry_in(
            &store,
            Some(&source),
            Some(&inc),
            Some((&citation, "citation added")),
            entry_audit(&source.meta.id),
        )
        .await
        .unwrap_err();
        assert!(is_stale_version(&e), "{e}");
        let now = registry_and_audit(&store).await;
        assert!(
            was == now,
            "the source, citation or audit entry was written"
        );
        assert!(store
            .registry_history(Collection::Sources, &source.meta.id)
            .await
            .unwrap()
            .is_empty());
    }

    #[tokio::test]
    async fn an_entry_writes_its_record_incident_row_and_audit_together() {
        let store = seeded().await;
        let (source, inc, citation) = cited_source(&store.registry_load().await.unwrap());
        let audit_before = store.registry_audit(0, 1_000).await.unwrap().len();
        write_entry_in(
            &store,
            Some(&source),
            Some(&inc),
            Some((&citation, "citation added")),
            entry_audit(&source.meta.id),
        )
        .await
        .unwrap();
        let ds = store.registry_load().await.unwrap();
        assert!(ds.sources.iter().any(|s| s.meta.id == source.meta.id));
        assert!(ds.citations.contains(&citation));
        let stored = ds
            .incidents
            .iter()
            .find(|i| i.meta.id == inc.meta.id)
            .unwrap();
        assert_eq!(stored.meta.version(), inc.meta.version());
        let audit = store.registry_audit(0, 1_000).await.unwrap();
        assert_eq!(audit.len(), audit_before + 1);
        assert_eq!(audit.last().unwrap().object, source.meta.id);
        ds.validate().unwrap();
    }

    #[tokio::test]
    async fn a_stale_incident_version_writes_nothing() {
        let store = seeded().await;
        let ds = store.registry_load().await.unwrap();
        let (inc, mut act, before) = edit_of(&ds);
        // Someone else saves the incident first.
        let (theirs, _, _) = edit_of(&ds);
        store.registry_put_record(&theirs).await.unwrap();
        act.description = "lost the race".into();
        let was = snapshot(&store, &act, &[&before]).await;
        let e = write_act(&store, &inc, &act, &before, &ActRows::default(), AUDIT)
            .await
            .unwrap_err();
        assert!(is_stale_version(&e), "{e}");
        assert!(was == snapshot(&store, &act, &[&before]).await);
    }

    #[tokio::test]
    async fn a_valid_change_writes_the_incident_act_rows_and_audit_together() {
        let store = seeded().await;
        let (inc, mut act, before) = edit_of(&store.registry_load().await.unwrap());
        act.description = "edited".into();
        let audit_before = store.registry_audit(0, 1_000).await.unwrap().len();
        write_act(&store, &inc, &act, &before, &ActRows::default(), AUDIT)
            .await
            .unwrap();
        let ds = store.registry_load().await.unwrap();
        let stored = ds.acts.iter().find(|a| a.id == act.id).unwrap();
        assert_eq!(stored.description, "edited");
        assert!(!ds.invocations.iter().any(|i| i.act_id == act.id));
        assert!(!ds.involvements.iter().any(|i| i.act_id == act.id));
        let now = ds
            .incidents
            .iter()
            .find(|i| i.meta.id == inc.meta.id)
            .unwrap();
        assert_eq!(now.meta.versions.len(), inc.meta.versions.len());
        let audit = store.registry_audit(0, 1_000).await.unwrap();
        assert_eq!(audit.len(), audit_before + 1);
        assert_eq!(audit.last().unwrap().object, act.id);
    }
}
