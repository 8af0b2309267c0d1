//! Custody chains and the audit log: any edit, insertion, deletion or
//! reordering of rows is detected, and the error names the item.

mod common;

use canary_registry::*;
use common::T0;
use proptest::prelude::*;
use time::Duration;

const ACTIONS: &[CustodyAction] = CustodyAction::ALL;

fn chain(item: &str, n: usize) -> Vec<CustodyEvent> {
    let mut v = vec![CustodyEvent::first(
        item,
        CustodyAction::Acquired,
        "u_dara",
        T0,
        "sha256=ab",
    )];
    for i in 1..n {
        let e = v[i - 1].next(
            ACTIONS[i % ACTIONS.len()],
            format!("u_{i}"),
            T0 + Duration::minutes(i as i64),
            format!("step {i}"),
        );
        v.push(e);
    }
    v
}

fn rehash(e: &mut CustodyEvent) {
    e.entry_hash = e.compute_hash();
}

type Tamper = fn(&mut Vec<CustodyEvent>);

#[test]
fn each_kind_of_tampering_is_pinpointed() {
    // (what was done, tamper, position reported, kind)
    let cases: Vec<(&str, Tamper, usize, BreakKind)> = vec![
        (
            "actor of entry 2 edited",
            |c| c[2].actor = "someone".into(),
            2,
            BreakKind::Altered,
        ),
        (
            "details of the first entry edited",
            |c| c[0].details.push('!'),
            0,
            BreakKind::Altered,
        ),
        (
            "time of entry 3 edited",
            |c| c[3].at += Duration::seconds(1),
            3,
            BreakKind::Altered,
        ),
        (
            "action of entry 1 edited",
            |c| c[1].action = CustodyAction::Shared,
            1,
            BreakKind::Altered,
        ),
        (
            "stored hash of entry 4 edited",
            |c| c[4].entry_hash = "0".repeat(64),
            4,
            BreakKind::Altered,
        ),
        (
            "entry 2 deleted",
            |c| {
                c.remove(2);
            },
            2,
            BreakKind::Missing { expected_seq: 2 },
        ),
        (
            "first entry deleted",
            |c| {
                c.remove(0);
            },
            0,
            BreakKind::Missing { expected_seq: 0 },
        ),
        (
            "entry 1 duplicated",
            |c| {
                let d = c[1].clone();
                c.insert(2, d);
            },
            2,
            BreakKind::OutOfOrder { expected_seq: 2 },
        ),
        (
            "entries 1 and 2 swapped",
            |c| c.swap(1, 2),
            1,
            BreakKind::OutOfOrder { expected_seq: 1 },
        ),
        (
            "forged entry inserted after entry 1",
            |c| {
                let forged = c[1].next(CustodyAction::Viewed, "intruder", T0, "");
                c.insert(2, forged);
            },
            3,
            BreakKind::OutOfOrder { expected_seq: 3 },
        ),
        (
            "entry 2 edited and re-hashed",
            |c| {
                c[2].actor = "someone".into();
                rehash(&mut c[2]);
            },
            3,
            BreakKind::Unlinked,
        ),
        (
            "entry of another item slipped in",
            |c| {
                let mut o = chain("ev_other", 3)[2].clone();
                o.seq = 5;
                rehash(&mut o);
                c.push(o);
            },
            5,
            BreakKind::ForeignEntry {
                found: "ev_other".into(),
            },
        ),
    ];
    for (name, tamper, position, kind) in cases {
        let mut c = chain("ev_1", 5);
        verify_chain(&c).unwrap();
        tamper(&mut c);
        let err = verify_chain(&c).expect_err(name);
        assert_eq!(
            (err.chain.as_str(), err.position, &err.kind),
            ("ev_1", position, &kind),
            "{name}: {err}"
        );
        assert!(
            err.to_string().contains("ev_1"),
            "{name}: the message names the item"
        );
    }
}

#[test]
fn deleting_or_rewriting_the_last_entries_is_caught_by_the_recorded_head() {
    let original = chain("ev_1", 5);
    let head = head_of(&original).unwrap();
    verify_chain_with_head(&original, &head).unwrap();
    let cases: Vec<(&str, Vec<CustodyEvent>, BreakKind)> = vec![
        (
            "last entry deleted",
            original[..4].to_vec(),
            BreakKind::Truncated { head_seq: 4 },
        ),
        (
            "whole chain deleted",
            vec![],
            BreakKind::Truncated { head_seq: 4 },
        ),
        (
            "last entry edited and re-hashed",
            {
                let mut c = original.clone();
                c[4].details = "nothing to see".into();
                rehash(&mut c[4]);
                c
            },
            BreakKind::HeadMismatch,
        ),
        (
            "entry appended without updating the head",
            {
                let mut c = original.clone();
                let e = c[4].next(CustodyAction::Exported, "u_x", T0, "");
                c.push(e);
                c
            },
            BreakKind::HeadMismatch,
        ),
    ];
    for (name, c, kind) in cases {
        if !c.is_empty() && name != "entry appended without updating the head" {
            assert!(
                verify_chain(&c).is_ok(),
                "{name}: invisible without the head"
            );
        }
        let err = verify_chain_with_head(&c, &head).expect_err(name);
        assert_eq!(err.kind, kind, "{name}");
        assert_eq!(err.chain, "ev_1");
    }
}

#[test]
fn verify_custody_names_every_broken_item_and_only_those() {
    let mut events = chain("ev_a", 3);
    events.extend(chain("ev_b", 4));
    events.extend(chain("ev_c", 2));
    verify_custody(&events, &[]).unwrap();
    events[4].details = "edited in the database".into(); // ev_b, seq 1
    events.retain(|e| !(e.item == "ev_c" && e.seq == 0)); // ev_c's first entry deleted
    let errors = verify_custody(&events, &[]).unwrap_err();
    let named: Vec<(&str, usize)> = errors
        .iter()
        .map(|e| (e.chain.as_str(), e.position))
        .collect();
    assert_eq!(named, vec![("ev_b", 1), ("ev_c", 0)]);

    // A head for an item whose events all vanished is reported too.
    let heads = vec![ChainHead {
        chain: "ev_gone".into(),
        seq: 2,
        entry_hash: "ab".repeat(32),
    }];
    let errors = verify_custody(&chain("ev_a", 3), &heads).unwrap_err();
    assert_eq!(errors[0].chain, "ev_gone");
}

#[test]
fn the_audit_log_is_chained_the_same_way() {
    let mut log = AuditLog::new();
    log.append(
        "u_dara",
        AuditAction::ReadSensitive,
        "actr_1.identity",
        T0,
        "",
    );
    log.append("u_dara", AuditAction::Export, "dataset", T0, "format=csv");
    log.append("u_sok", AuditAction::Edit, "inc_1", T0, "title");
    log.verify().unwrap();
    assert_eq!(log.entries()[0].prev_hash, chain::GENESIS);
    assert_eq!(log.entries()[2].prev_hash, log.entries()[1].entry_hash);

    let mut entries = log.entries().to_vec();
    entries[1].actor = "someone else".into();
    let err = AuditLog::from_entries(entries).verify().unwrap_err();
    assert_eq!(
        (err.chain.as_str(), err.position, err.kind),
        ("audit", 1, BreakKind::Altered)
    );

    let mut entries = log.entries().to_vec();
    entries.remove(0);
    let err = AuditLog::from_entries(entries).verify().unwrap_err();
    assert_eq!(err.kind, BreakKind::Missing { expected_seq: 0 });
}

#[test]
fn custody_events_survive_serde_with_their_hashes_intact() {
    let c = chain("ev_1", 4);
    let text = serde_json::to_string(&c).unwrap();
    let back: Vec<CustodyEvent> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, c);
    verify_chain(&back).unwrap();
}

#[derive(Debug, Clone)]
enum Mutation {
    EditActor(usize, String),
    EditDetails(usize, String),
    ShiftTime(usize, i64),
    Delete(usize),
    Duplicate(usize, usize),
    Swap(usize, usize),
    EditAndRehash(usize, String),
    InsertForged(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let i = any::<prop::sample::Index>();
    prop_oneof![
        (i.clone(), "[a-z]{1,8}").prop_map(|(i, s)| Mutation::EditActor(i.index(1000), s)),
        (i.clone(), "[a-z ]{1,8}").prop_map(|(i, s)| Mutation::EditDetails(i.index(1000), s)),
        (i.clone(), prop_oneof![-1_000_000i64..0, 1..1_000_000i64])
            .prop_map(|(i, d)| Mutation::ShiftTime(i.index(1000), d)),
        i.clone().prop_map(|i| Mutation::Delete(i.index(1000))),
        (i.clone(), i.clone()).prop_map(|(a, b)| Mutation::Duplicate(a.index(1000), b.index(1000))),
        (i.clone(), i.clone()).prop_map(|(a, b)| Mutation::Swap(a.index(1000), b.index(1000))),
        (i.clone(), "[a-z]{1,8}").prop_map(|(i, s)| Mutation::EditAndRehash(i.index(1000), s)),
        i.prop_map(|i| Mutation::InsertForged(i.index(1000))),
    ]
}

/// Applies the mutation; returns false when it would not change the chain.
fn apply(c: &mut Vec<CustodyEvent>, m: &Mutation) -> bool {
    let n = c.len();
    match m {
        Mutation::EditActor(i, s) => {
            c[i % n].actor.push_str(s);
            true
        }
        Mutation::EditDetails(i, s) => {
            c[i % n].details.push_str(s);
            true
        }
        Mutation::ShiftTime(i, d) => {
            c[i % n].at += Duration::nanoseconds(*d);
            true
        }
        Mutation::Delete(i) => {
            c.remove(i % n);
            true
        }
        Mutation::Duplicate(a, b) => {
            let e = c[a % n].clone();
            c.insert(b % (n + 1), e);
            true
        }
        Mutation::Swap(a, b) => {
            if a % n == b % n {
                return false;
            }
            c.swap(a % n, b % n);
            true
        }
        Mutation::EditAndRehash(i, s) => {
            let e = &mut c[i % n];
            e.actor.push_str(s);
            rehash(e);
            true
        }
        Mutation::InsertForged(i) => {
            let at = i % n;
            let forged = c[at].next(CustodyAction::Viewed, "intruder", T0, "forged");
            c.insert(at + 1, forged);
            true
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random tampering is always detected (with the head kept apart),
    /// and the error names the item.
    #[test]
    fn random_tampering_is_always_detected(len in 1usize..12, m in mutation()) {
        let mut c = chain("ev_prop", len);
        let head = head_of(&c).unwrap();
        prop_assume!(apply(&mut c, &m));
        let err = verify_chain_with_head(&c, &head);
        prop_assert!(err.is_err(), "undetected: {:?}", m);
        prop_assert_eq!(err.unwrap_err().chain, "ev_prop");
    }

    /// Tampering anywhere but the tail is detected even without the head.
    #[test]
    fn tampering_before_the_last_entry_is_detected_without_a_head(len in 3usize..12, m in mutation()) {
        let mut c = chain("ev_prop", len);
        let untouched_tail = match &m {
            Mutation::EditAndRehash(i, _) => i % len == len - 1,
            Mutation::Delete(i) => i % len == len - 1,
            Mutation::Duplicate(_, b) => b % (len + 1) == len,
            Mutation::InsertForged(i) => i % len == len - 1,
            _ => false,
        };
        prop_assume!(!untouched_tail);
        prop_assume!(apply(&mut c, &m));
        prop_assert!(verify_chain(&c).is_err(), "undetected: {:?}", m);
    }
}
