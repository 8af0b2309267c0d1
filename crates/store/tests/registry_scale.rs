//! The registry at a scale beyond a coalition's: the Cambodia seed copied
//! 100 times under fresh ids (22,600 rows) with 2,000 custody events and
//! 1,000 audit entries, on SQLite and PostgreSQL. Ignored by default (it
//! takes a while in debug builds); run it with
//! `cargo test --release -p canary-store --test registry_scale -- --ignored --nocapture`
//! to see the timings quoted in the module docs of `canary_store::registry`.

mod common;

use std::time::Instant;

use canary_registry::{seed, CustodyAction, Dataset, FieldKey, KeyRing, Principal, Role};
use common::Harness;
use time::macros::datetime;

const COPIES: usize = 100;

/// The seed with every registry id renamed for copy `k` (references too):
/// every string value starting with an id prefix.
fn copy_of_seed(k: usize) -> Dataset {
    fn rename(v: &mut serde_json::Value, k: usize) {
        const PREFIXES: [&str; 10] = [
            "inc_", "act_", "actr_", "src_", "law_", "prov_", "rec_", "bm_", "asm_", "ev_",
        ];
        match v {
            serde_json::Value::String(s) => {
                if let Some(p) = PREFIXES.iter().find(|p| s.starts_with(**p)) {
                    *s = format!("{p}c{k}_{}", &s[p.len()..]);
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| rename(x, k)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| rename(x, k)),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(seed::kh()).unwrap();
    rename(&mut v, k);
    serde_json::from_value(v).unwrap()
}

fn big_dataset() -> Dataset {
    let mut ds = copy_of_seed(0);
    for k in 1..COPIES {
        let c = copy_of_seed(k);
        ds.incidents.extend(c.incidents);
        ds.incident_links.extend(c.incident_links);
        ds.acts.extend(c.acts);
        ds.involvements.extend(c.involvements);
        ds.actors.extend(c.actors);
        ds.sources.extend(c.sources);
        ds.citations.extend(c.citations);
        ds.laws.extend(c.laws);
        ds.provisions.extend(c.provisions);
        ds.invocations.extend(c.invocations);
        ds.recommendations.extend(c.recommendations);
        ds.benchmarks.extend(c.benchmarks);
        ds.assessments.extend(c.assessments);
    }
    // 200 evidence items with 10 custody events each.
    let dir = tempfile::tempdir().unwrap();
    let objects = canary_registry::ObjectStore::new(dir.path());
    let p = Principal::user("u_dara", seed::SEED_ORG, Role::Analyst);
    let t = datetime!(2026-11-29 10:00 UTC);
    for i in 0..200 {
        let (item, first) = canary_registry::evidence::acquire(
            &objects,
            format!("file {i}").as_bytes(),
            canary_registry::evidence::Acquisition {
                id: format!("ev_{i}"),
                by: &p,
                at: t,
                media_type: "text/plain".into(),
                acquired_from: None,
                method: "scale test".into(),
            },
        )
        .unwrap();
        let mut chain = vec![first];
        for j in 1..10 {
            let next = chain[j - 1].next(CustodyAction::Viewed, "u_sok", t, format!("view {j}"));
            chain.push(next);
        }
        ds.evidence.push(item);
        ds.custody.extend(chain);
    }
    ds.seal_all(&KeyRing::new(FieldKey::from_bytes(1, [9; 32])))
        .unwrap();
    ds.validate().unwrap();
    ds
}

async fn scale(h: &Harness) {
    let ds = big_dataset();
    let rows = ds.len();
    let t = Instant::now();
    let first = h
        .store
        .registry_import(&ds, "scale", datetime!(2026-11-29 10:00 UTC))
        .await
        .unwrap();
    let import = t.elapsed();
    assert_eq!(first.changed() as usize, rows);
    let t = Instant::now();
    let again = h
        .store
        .registry_import(&ds, "scale", datetime!(2026-11-29 10:00 UTC))
        .await
        .unwrap();
    let reimport = t.elapsed();
    assert_eq!(again.changed(), 0);
    for i in 0..1000 {
        h.store
            .registry_audit_append(
                "u",
                canary_registry::AuditAction::Edit,
                &format!("x{i}"),
                datetime!(2026-11-29 10:00 UTC),
                "",
            )
            .await
            .unwrap();
    }
    let t = Instant::now();
    let loaded = h.store.registry_load().await.unwrap();
    let load = t.elapsed();
    assert_eq!(loaded, ds);
    let t = Instant::now();
    let report = h.store.registry_verify(None).await.unwrap();
    let verify = t.elapsed();
    assert!(
        report.is_ok(),
        "{:?}",
        &report.problems[..report.problems.len().min(5)]
    );
    eprintln!(
        "{}: {rows} rows: import {:.2} s, re-import (unchanged) {:.2} s, load {:.3} s, verify {:.2} s",
        h.store.backend_name(),
        import.as_secs_f64(),
        reimport.as_secs_f64(),
        load.as_secs_f64(),
        verify.as_secs_f64()
    );
}

#[tokio::test]
#[ignore = "scale test: run with --ignored --nocapture (release build recommended)"]
async fn sqlite_scale() {
    let h = Harness::sqlite().await;
    scale(&h).await;
    h.finish().await;
}

#[tokio::test]
#[ignore = "scale test: run with --ignored --nocapture (release build recommended)"]
async fn postgres_scale() {
    let Some(h) = Harness::postgres("scale").await else {
        return;
    };
    scale(&h).await;
    h.finish().await;
}
