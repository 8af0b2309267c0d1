//! The registry in the store, on SQLite and PostgreSQL: what goes in comes
//! back, nothing sensitive is written in clear, every change is versioned,
//! stale writes are refused, chains never fork, and tampering with the
//! database behind Canary's back is named item by item.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use canary_registry::evidence::{acquire, Acquisition};
use canary_registry::{
    io, seed, Actor, ActorKind, AuditAction, Citation, CustodyAction, Dataset, EntityType,
    EvidenceItem, FieldKey, Incident, KeyRing, ObjectStore, Organisation, Principal, RecordMeta,
    Role, SensitiveField,
};
use canary_store::registry::{
    blocking_orders_for_domain, incident_bundle, incidents_for_measurement, is_clear_sensitive,
    is_stale_version, Collection, Edit, Written, AUDIT_CHAIN,
};
use canary_store::Store;
use common::Harness;
use sqlx::Connection;
use time::macros::datetime;
use time::OffsetDateTime;

const T0: OffsetDateTime = datetime!(2026-11-29 10:00 UTC);

fn ring() -> KeyRing {
    KeyRing::new(FieldKey::from_bytes(1, [7u8; 32]))
}

fn sealed_seed() -> Dataset {
    let mut ds = seed::kh();
    ds.seal_all(&ring()).unwrap();
    ds
}

fn analyst() -> Principal {
    Principal::user("u_dara", seed::SEED_ORG, Role::Analyst)
}

/// A fresh store on the same backend as `h`.
async fn another(h: &Harness, name: &str) -> Harness {
    if h.url.starts_with("postgres") {
        Harness::postgres(name)
            .await
            .expect("PostgreSQL is configured")
    } else {
        Harness::sqlite().await
    }
}

/// Runs raw SQL on the database, as someone with direct access would.
async fn raw_sql(h: &Harness, statements: &[&str]) {
    if h.url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(&h.url).await.unwrap();
        for s in statements {
            sqlx::query(sqlx::AssertSqlSafe(s.to_string()))
                .execute(&mut c)
                .await
                .unwrap_or_else(|e| panic!("{s}: {e}"));
        }
    } else {
        let mut c = sqlx::SqliteConnection::connect(&h.url).await.unwrap();
        for s in statements {
            sqlx::query(sqlx::AssertSqlSafe(s.to_string()))
                .execute(&mut c)
                .await
                .unwrap_or_else(|e| panic!("{s}: {e}"));
        }
    }
}

/// Drops the append-only triggers (an attacker with full access can).
async fn drop_triggers(h: &Harness) {
    if h.url.starts_with("postgres") {
        raw_sql(
            h,
            &[
                "DROP TRIGGER registry_custody_append_only ON registry_custody",
                "DROP TRIGGER registry_audit_append_only ON registry_audit",
                "DROP TRIGGER registry_versions_append_only ON registry_versions",
            ],
        )
        .await;
    } else {
        raw_sql(
            h,
            &[
                "DROP TRIGGER registry_custody_no_update",
                "DROP TRIGGER registry_custody_no_delete",
                "DROP TRIGGER registry_audit_no_update",
                "DROP TRIGGER registry_audit_no_delete",
            ],
        )
        .await;
    }
}

async fn seed_org(store: &Store) {
    let org = Organisation {
        id: seed::SEED_ORG.into(),
        name: "Seed".into(),
        name_km: None,
    };
    store
        .registry_put_row(&org, &Edit::new("u_admin", T0, "created"))
        .await
        .unwrap();
}

/// Stores an evidence item (its file in `objects`) with a chain of `n`
/// events: acquired, then viewed ones.
async fn evidence(store: &Store, objects: &ObjectStore, id: &str, n: usize) -> EvidenceItem {
    let p = analyst();
    let (item, first) = acquire(
        objects,
        format!("<html>{id}</html>").as_bytes(),
        Acquisition {
            id: id.into(),
            by: &p,
            at: T0,
            media_type: "text/html".into(),
            acquired_from: None,
            method: "test".into(),
        },
    )
    .unwrap();
    store.registry_put_record(&item).await.unwrap();
    let stored = store
        .registry_custody_append(id, first.action, &first.actor, first.at, &first.details)
        .await
        .unwrap();
    assert_eq!(stored, first, "the store chains like the registry crate");
    for i in 1..n {
        store
            .registry_custody_append(id, CustodyAction::Viewed, "u_sok", T0, &format!("view {i}"))
            .await
            .unwrap();
    }
    item
}

// ---------------------------------------------------------------------

async fn seed_round_trips_sealed_and_opens_to_the_seed(h: &Harness) {
    let ds = sealed_seed();
    let report = h.store.registry_import(&ds, "seed", T0).await.unwrap();
    assert_eq!(report.changed() as usize, ds.len());
    let loaded = h.store.registry_load().await.unwrap();
    assert_eq!(loaded, ds, "what is loaded is what was imported, in order");
    let mut opened = loaded;
    opened.open_all(&ring()).unwrap();
    assert_eq!(
        opened,
        seed::kh(),
        "opening gives the seed's clear text back"
    );
    let wrong = KeyRing::new(FieldKey::from_bytes(1, [8u8; 32]));
    let mut not_opened = h.store.registry_load().await.unwrap();
    assert!(
        not_opened.open_all(&wrong).is_err(),
        "a wrong key opens nothing"
    );
    let report = h.store.registry_verify(None).await.unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(report.records as usize, ds.len() - ds.custody.len());
}

async fn importing_the_same_dataset_again_changes_nothing(h: &Harness) {
    let ds = sealed_seed();
    h.store.registry_import(&ds, "seed", T0).await.unwrap();
    let again = h.store.registry_import(&ds, "seed", T0).await.unwrap();
    assert_eq!(again.changed(), 0, "{again:?}");
    // Sealing again gives new ciphertexts, but the same content.
    let resealed = sealed_seed();
    assert_ne!(resealed, ds);
    let third = h
        .store
        .registry_import(&resealed, "seed", T0)
        .await
        .unwrap();
    assert_eq!(third.changed(), 0, "{third:?}");
    assert_eq!(
        h.store.registry_load().await.unwrap(),
        ds,
        "first ciphertexts kept"
    );
    let audit = h.store.registry_audit(0, 100).await.unwrap();
    assert_eq!(
        audit.len(),
        1,
        "one import entry, for the import that changed something"
    );
    assert_eq!(audit[0].action, AuditAction::Import);
}

async fn a_newer_version_updates_the_record_and_adds_an_attributed_version(h: &Harness) {
    let ds = sealed_seed();
    h.store.registry_import(&ds, "seed", T0).await.unwrap();
    let id = ds.incidents[0].meta.id.clone();
    let mut inc: Incident = h.store.registry_record(&id).await.unwrap().unwrap();
    let admin = Principal::user("u_admin", seed::SEED_ORG, Role::Admin);
    inc.summary.push_str(" (updated)");
    inc.meta.record_edit(&admin, T0, "summary updated").unwrap();
    let n = inc.meta.version();
    assert_eq!(
        h.store.registry_put_record(&inc).await.unwrap(),
        Written::Updated { version: n }
    );
    assert_eq!(
        h.store.registry_put_record(&inc).await.unwrap(),
        Written::Unchanged { version: n },
        "writing the same version twice is a no-op"
    );
    let history = h
        .store
        .registry_history(Collection::Incidents, &id)
        .await
        .unwrap();
    assert_eq!(history.len() as u32, n);
    let last = history.last().unwrap();
    assert_eq!(
        (last.version, last.by.as_str(), last.summary.as_str()),
        (n, "u_admin", "summary updated")
    );
    let body: Incident = serde_json::from_str(last.body.as_deref().unwrap()).unwrap();
    assert_eq!(body, inc);
    // The newer version also comes in through an import.
    let mut newer = ds.clone();
    newer.incidents[0] = inc.clone();
    inc.meta.record_edit(&admin, T0, "second").unwrap();
    newer.incidents[0] = inc.clone();
    let r = h
        .store
        .registry_import(&newer, "u_admin", T0)
        .await
        .unwrap();
    assert_eq!(r.collections["incidents"].updated, 1);
    // Importing the old dataset again leaves the newer record as stored.
    let r = h.store.registry_import(&ds, "seed", T0).await.unwrap();
    assert_eq!((r.changed(), r.collections["incidents"].older), (0, 1));
    let loaded: Incident = h.store.registry_record(&id).await.unwrap().unwrap();
    assert_eq!(loaded, inc);
    // A different edit of the same version is a conflict.
    let mut diverging = ds.clone();
    diverging.incidents[0]
        .meta
        .record_edit(&admin, T0, "another edit")
        .unwrap();
    let err = h
        .store
        .registry_import(&diverging, "u_other", T0)
        .await
        .unwrap_err();
    assert!(is_stale_version(&err), "{err}");
    let older = ds.incidents[0].clone();
    let err = h.store.registry_put_record(&older).await.unwrap_err();
    assert!(
        is_stale_version(&err),
        "a put of an old version is stale: {err}"
    );
    assert!(h.store.registry_verify(None).await.unwrap().is_ok());
}

async fn a_write_based_on_an_old_version_is_refused(h: &Harness) {
    h.store
        .registry_import(&sealed_seed(), "seed", T0)
        .await
        .unwrap();
    let id = seed::kh().laws[0].meta.id.clone();
    let admin = Principal::user("u_admin", seed::SEED_ORG, Role::Admin);
    let loaded: canary_registry::Law = h.store.registry_record(&id).await.unwrap().unwrap();
    let (mut mine, mut theirs) = (loaded.clone(), loaded.clone());
    theirs.summary_en = Some("theirs".into());
    theirs.meta.record_edit(&admin, T0, "theirs").unwrap();
    h.store.registry_put_record(&theirs).await.unwrap();
    mine.summary_en = Some("mine".into());
    mine.meta.record_edit(&admin, T0, "mine").unwrap();
    let err = h.store.registry_put_record(&mine).await.unwrap_err();
    assert!(is_stale_version(&err), "{err}");
    // Same version, different content without an edit: refused too.
    let mut sneaky = theirs.clone();
    sneaky.code = "X".into();
    let err = h.store.registry_put_record(&sneaky).await.unwrap_err();
    assert!(is_stale_version(&err), "{err}");
    let stored: canary_registry::Law = h.store.registry_record(&id).await.unwrap().unwrap();
    assert_eq!(stored, theirs);
}

fn witness(identity: Option<SensitiveField>) -> Actor {
    let mut meta = RecordMeta::new(EntityType::Actor, "actr_witness_1", &analyst(), T0).unwrap();
    meta.visibility = canary_registry::Visibility::Coalition;
    Actor {
        meta,
        kind: ActorKind::Person,
        name: "a witness".into(),
        name_km: None,
        description: None,
        characteristics: vec![],
        asn: None,
        identity,
        contact: None,
    }
}

async fn a_sensitive_field_in_clear_is_never_written(h: &Harness) {
    let clear = witness(Some(SensitiveField::clear("Full Name")));
    let err = h.store.registry_put_record(&clear).await.unwrap_err();
    assert!(is_clear_sensitive(&err), "{err}");
    assert!(
        !err.to_string().contains("Full Name"),
        "no plaintext in errors"
    );
    let err = h
        .store
        .registry_import(&seed::kh(), "seed", T0)
        .await
        .unwrap_err();
    assert!(is_clear_sensitive(&err), "{err}");
    assert!(
        h.store.registry_load().await.unwrap().is_empty(),
        "nothing written"
    );
    // Sealed, it is stored; a redacted view cannot overwrite it.
    let mut sealed = clear.clone();
    canary_registry::seal_record(&mut sealed, &ring()).unwrap();
    h.store.registry_put_record(&sealed).await.unwrap();
    let mut view = canary_registry::redact(&sealed, &Principal::Anonymous);
    view.meta = sealed.meta.clone();
    view.identity = Some(SensitiveField::Redacted);
    view.meta
        .record_edit(&analyst(), T0, "edit of a view")
        .unwrap();
    let err = h.store.registry_put_record(&view).await.unwrap_err();
    assert!(err.to_string().contains("redacted"), "{err}");
    let stored: Actor = h
        .store
        .registry_record("actr_witness_1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, sealed);
}

async fn rows_without_metadata_are_versioned_and_deletable(h: &Harness) {
    h.store
        .registry_import(&sealed_seed(), "seed", T0)
        .await
        .unwrap();
    let ds = seed::kh();
    let mut c: Citation = ds.citations[0].clone();
    let key = canary_store::registry::row_key(&c);
    c.note = Some("page 3".into());
    let w = h
        .store
        .registry_put_row(&c, &Edit::new("u_sok", T0, "note added"))
        .await
        .unwrap();
    assert_eq!(w, Written::Updated { version: 2 });
    assert!(h
        .store
        .registry_delete_row(
            Collection::Citations,
            &key,
            &Edit::new("u_sok", T0, "wrong source")
        )
        .await
        .unwrap());
    assert!(!h
        .store
        .registry_delete_row(
            Collection::Citations,
            &key,
            &Edit::new("u_sok", T0, "again")
        )
        .await
        .unwrap());
    let history = h
        .store
        .registry_history(Collection::Citations, &key)
        .await
        .unwrap();
    let summary: Vec<(u32, &str, bool)> = history
        .iter()
        .map(|v| (v.version, v.summary.as_str(), v.body.is_some()))
        .collect();
    assert_eq!(
        summary,
        [
            (1, "import", true),
            (2, "note added", true),
            (3, "wrong source", false)
        ]
    );
    let w = h
        .store
        .registry_put_row(&c, &Edit::new("u_sok", T0, "restored"))
        .await
        .unwrap();
    assert_eq!(w, Written::Inserted { version: 4 }, "numbering goes on");
    assert!(h
        .store
        .registry_delete_row(Collection::Incidents, "inc_x", &Edit::new("u", T0, "x"))
        .await
        .is_err());
}

async fn custody_and_audit_appends_form_verified_chains(h: &Harness) {
    let dir = tempfile::tempdir().unwrap();
    let objects = ObjectStore::new(dir.path());
    seed_org(&h.store).await;
    let err = h
        .store
        .registry_custody_append("ev_missing", CustodyAction::Viewed, "u", T0, "")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no evidence item"), "{err}");
    evidence(&h.store, &objects, "ev_a", 3).await;
    let chain = h.store.registry_custody("ev_a").await.unwrap();
    assert_eq!(chain.len(), 3);
    canary_registry::verify_chain(&chain).unwrap();
    let e = h
        .store
        .registry_audit_append(
            "u_dara",
            AuditAction::ReadSensitive,
            "ev_a.provenance",
            T0,
            "",
        )
        .await
        .unwrap();
    assert_eq!(e.seq, 0);
    // Entries made in memory are re-chained after the stored log.
    let mut log = canary_registry::AuditLog::new();
    log.append("u_sok", AuditAction::Export, "dataset", T0, "format=json");
    log.append("u_sok", AuditAction::Export, "dataset", T0, "format=csv");
    let stored = h
        .store
        .registry_audit_append_all(log.entries())
        .await
        .unwrap();
    assert_eq!(stored.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(stored[0].prev_hash, e.entry_hash);
    let all = h.store.registry_audit(0, 100).await.unwrap();
    canary_registry::verify_chain(&all).unwrap();
    let heads = h.store.registry_chain_heads().await.unwrap();
    let names: Vec<(&str, u64)> = heads.iter().map(|h| (h.chain.as_str(), h.seq)).collect();
    assert_eq!(names, [(AUDIT_CHAIN, 2), ("ev_a", 2)]);
    let report = h.store.registry_verify(Some(dir.path())).await.unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(
        (
            report.custody_chains,
            report.custody_events,
            report.audit_entries,
            report.evidence_files
        ),
        (1, 3, 3, 1)
    );
    // The append-only tables refuse changes through SQL.
    for sql in [
        "UPDATE registry_custody SET details = 'x'",
        "DELETE FROM registry_audit",
        "UPDATE registry_versions SET summary = 'x'",
    ] {
        let refused = if h.url.starts_with("postgres") {
            let mut c = sqlx::PgConnection::connect(&h.url).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.is_err()
        } else {
            let mut c = sqlx::SqliteConnection::connect(&h.url).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.is_err()
        };
        assert!(refused, "{sql} was accepted");
    }
}

async fn concurrent_appends_make_one_chain(h: &Harness) {
    let dir = tempfile::tempdir().unwrap();
    let objects = ObjectStore::new(dir.path());
    seed_org(&h.store).await;
    evidence(&h.store, &objects, "ev_busy", 1).await;
    let store = Arc::new(h.store.clone());
    let mut tasks = Vec::new();
    for i in 0..20 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            s.registry_audit_append("u", AuditAction::Edit, &format!("inc_{i}"), T0, "")
                .await
                .unwrap();
            s.registry_custody_append("ev_busy", CustodyAction::Viewed, "u", T0, &i.to_string())
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let audit = h.store.registry_audit(0, 100).await.unwrap();
    assert_eq!(audit.len(), 20);
    canary_registry::verify_chain(&audit).unwrap();
    let chain = h.store.registry_custody("ev_busy").await.unwrap();
    assert_eq!(chain.len(), 21);
    canary_registry::verify_chain(&chain).unwrap();
    let report = h.store.registry_verify(None).await.unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
}

async fn tampering_with_sql_is_named_item_by_item(h: &Harness) {
    let dir = tempfile::tempdir().unwrap();
    let objects = ObjectStore::new(dir.path());
    seed_org(&h.store).await;
    let cases: [(&str, &[&str]); 6] = [
        (
            "ev_altered",
            &["UPDATE registry_custody SET details = 'nothing to see' WHERE item = 'ev_altered' AND seq = 1"],
        ),
        (
            "ev_inserted",
            &["INSERT INTO registry_custody (item, seq, action, actor, at, details, prev_hash, entry_hash) \
               SELECT item, 3, action, actor, at, 'forged', entry_hash, entry_hash \
               FROM registry_custody WHERE item = 'ev_inserted' AND seq = 2"],
        ),
        (
            "ev_deleted_middle",
            &["DELETE FROM registry_custody WHERE item = 'ev_deleted_middle' AND seq = 1"],
        ),
        (
            "ev_deleted_last",
            &["DELETE FROM registry_custody WHERE item = 'ev_deleted_last' AND seq = 2"],
        ),
        (
            "ev_swapped",
            &[
                "UPDATE registry_custody SET seq = 100 WHERE item = 'ev_swapped' AND seq = 1",
                "UPDATE registry_custody SET seq = 1 WHERE item = 'ev_swapped' AND seq = 2",
                "UPDATE registry_custody SET seq = 2 WHERE item = 'ev_swapped' AND seq = 100",
            ],
        ),
        (
            "ev_headless",
            &[
                "DELETE FROM registry_custody WHERE item = 'ev_headless' AND seq = 2",
                "DELETE FROM registry_chain_heads WHERE chain = 'ev_headless'",
            ],
        ),
    ];
    for (item, _) in &cases {
        evidence(&h.store, &objects, item, 3).await;
    }
    evidence(&h.store, &objects, "ev_untouched", 3).await;
    for i in 0..3 {
        h.store
            .registry_audit_append("u", AuditAction::Edit, &format!("x{i}"), T0, "")
            .await
            .unwrap();
    }
    assert!(h
        .store
        .registry_verify(Some(dir.path()))
        .await
        .unwrap()
        .is_ok());

    drop_triggers(h).await;
    for (_, statements) in &cases {
        raw_sql(h, statements).await;
    }
    raw_sql(
        h,
        &[
            "DELETE FROM registry_audit WHERE seq = 2",
            "UPDATE registry_records SET body = REPLACE(body, 'text/html', 'text/plain') \
             WHERE id = 'ev_untouched'",
        ],
    )
    .await;
    let report = h.store.registry_verify(Some(dir.path())).await.unwrap();
    let mut named: BTreeMap<(String, String), usize> = BTreeMap::new();
    for p in &report.problems {
        *named.entry((p.area.clone(), p.item.clone())).or_default() += 1;
    }
    let mut expected: Vec<(String, String)> = cases
        .iter()
        .map(|(item, _)| ("custody".to_owned(), item.to_string()))
        .collect();
    expected.push(("audit".into(), AUDIT_CHAIN.into()));
    expected.push(("record".into(), "ev_untouched".into()));
    expected.sort();
    assert_eq!(
        named.keys().cloned().collect::<Vec<_>>(),
        expected,
        "{:#?}",
        report.problems
    );
    let message = |item: &str| {
        report
            .problems
            .iter()
            .filter(|p| p.item == item)
            .map(|p| p.message.clone())
            .collect::<Vec<_>>()
            .join(" / ")
    };
    for (item, needle) in [
        ("ev_altered", "altered"),
        ("ev_inserted", "altered"),
        ("ev_deleted_middle", "missing"),
        ("ev_deleted_last", "before its recorded head"),
        ("ev_swapped", "altered"),
        ("ev_headless", "no recorded head"),
        (AUDIT_CHAIN, "before its recorded head"),
        ("ev_untouched", "changed outside Canary"),
    ] {
        assert!(message(item).contains(needle), "{item}: {}", message(item));
    }
    // An evidence file changed on disk is named too.
    let sha = canary_registry::sha256_hex(b"<html>ev_untouched</html>");
    let path = objects.path_for(&sha).unwrap();
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&path, perms).unwrap();
    std::fs::write(&path, b"<html>edited</html>").unwrap();
    let report = h.store.registry_verify(Some(dir.path())).await.unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.area == "evidence_file" && p.item == "ev_untouched"),
        "{:#?}",
        report.problems
    );
}

async fn export_then_import_gives_the_same_dataset_in_json_and_csv(h: &Harness) {
    let ds = sealed_seed();
    h.store.registry_import(&ds, "seed", T0).await.unwrap();
    let loaded = h.store.registry_load().await.unwrap();
    // JSON, the whole (sealed) dataset.
    let json = io::to_json(&loaded).unwrap();
    let other = another(h, "export_json").await;
    other
        .store
        .registry_import(&io::from_json(&json).unwrap(), "u", T0)
        .await
        .unwrap();
    assert_eq!(other.store.registry_load().await.unwrap(), ds);
    other.finish().await;
    // CSV, the public view (redacted): what an anonymous export gives.
    let public = loaded.view_for(&Principal::Anonymous);
    assert!(!public.incidents.is_empty());
    let files = io::to_csv(&public).unwrap();
    let other = another(h, "export_csv").await;
    other
        .store
        .registry_import(&io::from_csv(&files).unwrap(), "u", T0)
        .await
        .unwrap();
    assert_eq!(other.store.registry_load().await.unwrap(), public);
    other.finish().await;
}

async fn a_batch_writes_everything_or_nothing(h: &Harness) {
    let ds = sealed_seed();
    let (inc, act) = (ds.incidents[0].clone(), ds.acts[0].clone());
    let edit = Edit::new("u_dara", T0, "act added");
    // A failure part-way (custody for an unknown item) writes nothing.
    let mut batch = h.store.registry_batch().await.unwrap();
    batch.put_record(&inc).await.unwrap();
    batch.put_row(&act, &edit).await.unwrap();
    let err = batch
        .custody_append("ev_unknown", CustodyAction::Viewed, "u", T0, "")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no evidence item"), "{err}");
    drop(batch);
    assert!(h.store.registry_load().await.unwrap().is_empty());
    assert!(h.store.registry_audit(0, 10).await.unwrap().is_empty());
    // Committed, every write is there, the evidence put in the same batch
    // takes its first custody event at once.
    let dir = tempfile::tempdir().unwrap();
    let (item, first) = acquire(
        &ObjectStore::new(dir.path()),
        b"bytes",
        Acquisition {
            id: "ev_batch".into(),
            by: &analyst(),
            at: T0,
            media_type: "text/plain".into(),
            acquired_from: None,
            method: "test".into(),
        },
    )
    .unwrap();
    let mut batch = h.store.registry_batch().await.unwrap();
    batch.put_record(&inc).await.unwrap();
    batch.put_row(&act, &edit).await.unwrap();
    batch.put_record(&item).await.unwrap();
    let e = batch
        .custody_append(
            &first.item,
            first.action,
            &first.actor,
            first.at,
            &first.details,
        )
        .await
        .unwrap();
    assert_eq!(e, first);
    batch
        .audit_append("u_dara", AuditAction::Create, &act.id, T0, "")
        .await
        .unwrap();
    batch.commit().await.unwrap();
    let loaded = h.store.registry_load().await.unwrap();
    assert_eq!(
        (
            loaded.incidents.len(),
            loaded.acts.len(),
            loaded.evidence.len(),
            loaded.custody.len()
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(h.store.registry_audit(0, 10).await.unwrap().len(), 1);
}

async fn saved_heads_catch_a_chain_rewritten_with_fresh_hashes(h: &Harness) {
    let dir = tempfile::tempdir().unwrap();
    let objects = ObjectStore::new(dir.path());
    seed_org(&h.store).await;
    evidence(&h.store, &objects, "ev_kept", 3).await;
    evidence(&h.store, &objects, "ev_rewritten", 3).await;
    h.store
        .registry_audit_append("u", AuditAction::Edit, "x", T0, "")
        .await
        .unwrap();
    let saved = h.store.registry_chain_heads().await.unwrap();
    assert!(h
        .store
        .registry_check_anchors(&saved)
        .await
        .unwrap()
        .is_empty());

    // Someone with full access rewrites a chain consistently: new events,
    // correct hashes, a matching head.
    let first = canary_registry::CustodyEvent::first(
        "ev_rewritten",
        CustodyAction::Acquired,
        "u_other",
        T0,
        "a different story",
    );
    let second = first.next(CustodyAction::Viewed, "u_other", T0, "");
    let row = |e: &canary_registry::CustodyEvent| {
        format!(
            "INSERT INTO registry_custody (item, seq, action, actor, at, details, prev_hash, entry_hash) \
             VALUES ('{}', {}, '{}', '{}', '{}', '{}', '{}', '{}')",
            e.item,
            e.seq,
            e.action,
            e.actor,
            e.at.format(&time::format_description::well_known::Rfc3339).unwrap(),
            e.details,
            e.prev_hash,
            e.entry_hash
        )
    };
    drop_triggers(h).await;
    raw_sql(
        h,
        &[
            "DELETE FROM registry_custody WHERE item = 'ev_rewritten'",
            &row(&first),
            &row(&second),
            &format!(
                "UPDATE registry_chain_heads SET length = 2, last_hash = '{}' \
                 WHERE chain = 'ev_rewritten'",
                second.entry_hash
            ),
        ],
    )
    .await;
    let report = h.store.registry_verify(None).await.unwrap();
    assert!(
        report.is_ok(),
        "undetectable from inside: {:?}",
        report.problems
    );
    let problems = h.store.registry_check_anchors(&saved).await.unwrap();
    let named: Vec<(&str, &str)> = problems
        .iter()
        .map(|p| (p.area.as_str(), p.item.as_str()))
        .collect();
    assert_eq!(named, [("custody", "ev_rewritten")], "{problems:?}");
    assert!(problems[0].message.contains("gone"), "{problems:?}");
}

async fn an_outsiders_redacted_view_is_refused_on_import(h: &Harness) {
    let dir = tempfile::tempdir().unwrap();
    let objects = ObjectStore::new(dir.path());
    seed_org(&h.store).await;
    evidence(&h.store, &objects, "ev_shared", 2).await;
    let mut ds = h.store.registry_load().await.unwrap();
    for item in &mut ds.evidence {
        item.meta.visibility = canary_registry::Visibility::Coalition;
    }
    // What another organisation's admin exports: heads, not chains.
    let view = ds.view_for(&Principal::user("u_x", "org_other", Role::Admin));
    assert_eq!(view.evidence.len(), 1);
    assert!(view.custody.is_empty() && !view.custody_heads.is_empty());
    let other = another(h, "outsider_view").await;
    let err = other
        .store
        .registry_import(&view, "u_x", T0)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("redacted view"), "{err}");
    assert_eq!(
        other.store.registry_load().await.unwrap(),
        Dataset::default()
    );
    other.finish().await;
}

on_both_backends!(
    seed_round_trips_sealed_and_opens_to_the_seed,
    importing_the_same_dataset_again_changes_nothing,
    a_newer_version_updates_the_record_and_adds_an_attributed_version,
    a_write_based_on_an_old_version_is_refused,
    a_sensitive_field_in_clear_is_never_written,
    rows_without_metadata_are_versioned_and_deletable,
    custody_and_audit_appends_form_verified_chains,
    concurrent_appends_make_one_chain,
    tampering_with_sql_is_named_item_by_item,
    export_then_import_gives_the_same_dataset_in_json_and_csv,
    a_batch_writes_everything_or_nothing,
    saved_heads_catch_a_chain_rewritten_with_fresh_hashes,
    an_outsiders_redacted_view_is_refused_on_import,
);

#[test]
fn every_seed_incident_bundle_is_a_self_contained_dataset() {
    let ds = seed::kh();
    for incident in &ds.incidents {
        let id = &incident.meta.id;
        let one = incident_bundle(&ds, id).unwrap();
        assert_eq!(one.incidents, std::slice::from_ref(incident));
        assert_eq!(
            one.acts.len(),
            ds.acts.iter().filter(|a| &a.incident_id == id).count()
        );
        one.validate().unwrap_or_else(|e| panic!("{id}: {e}"));
    }
    assert!(incident_bundle(&ds, "inc_absent").is_none());
}

#[test]
fn blocking_orders_are_found_by_measurement_and_by_covered_domain() {
    let mut ds = seed::kh();
    let act = ds
        .acts
        .iter_mut()
        .find(|a| {
            matches!(
                a.extension,
                Some(canary_registry::ActExtension::BlockingOrder(_))
            )
        })
        .unwrap();
    let Some(canary_registry::ActExtension::BlockingOrder(order)) = act.extension.as_mut() else {
        unreachable!()
    };
    order.targets = vec![
        "https://www.Example-News.org/khmer/".into(),
        "voanews.com".into(),
        "example.net/path?q=1".into(),
        "@an_account".into(),
    ];
    order.measurement_ids = vec!["20230717T000000Z_webconnectivity_KH_1".into()];
    let (act_id, incident_id) = (act.id.clone(), act.incident_id.clone());
    for (domain, covered) in [
        ("www.example-news.org", true),
        ("WWW.EXAMPLE-NEWS.ORG.", true),
        ("cdn.www.example-news.org", true),
        ("example-news.org", false),
        ("voanews.com", true),
        ("khmer.voanews.com", true),
        ("notvoanews.com", false),
        ("example.net", true),
        ("an_account", false),
        ("", false),
    ] {
        let found = blocking_orders_for_domain(&ds, domain);
        assert_eq!(!found.is_empty(), covered, "{domain:?}");
        if covered {
            assert_eq!(
                (found[0].0.meta.id.as_str(), found[0].1.id.as_str()),
                (incident_id.as_str(), act_id.as_str())
            );
        }
    }
    let found = incidents_for_measurement(&ds, "20230717T000000Z_webconnectivity_KH_1");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0.meta.id, incident_id);
    assert!(incidents_for_measurement(&ds, "other").is_empty());
}
