//! Access control: every role × visibility × status × own/other organisation,
//! plus anonymous; redaction of sensitive fields and documenters' ids.

mod common;

use canary_registry::*;
use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Anonymous,
    Own(Role),
    Other(Role),
}

fn principal(who: Who) -> Principal {
    match who {
        Who::Anonymous => Principal::Anonymous,
        Who::Own(r) => user(ORG_A, r),
        Who::Other(r) => user(ORG_B, r),
    }
}

fn everyone() -> Vec<Who> {
    let mut v = vec![Who::Anonymous];
    for r in Role::ALL {
        v.push(Who::Own(*r));
        v.push(Who::Other(*r));
    }
    v
}

/// The rules of the issue, written out case by case (independently of the
/// implementation's structure).
fn expected(who: Who, vis: Visibility, status: Status) -> (bool, bool, bool, bool) {
    // (read, write, read_sensitive, manage)
    match who {
        Who::Anonymous => (
            vis == Visibility::Published && status == Status::Published,
            false,
            false,
            false,
        ),
        Who::Other(_) => (vis != Visibility::Private, false, false, false),
        Who::Own(Role::Viewer) => (true, false, false, false),
        Who::Own(Role::Analyst) => (
            true,
            matches!(status, Status::Draft | Status::InReview),
            true,
            false,
        ),
        Who::Own(Role::Admin) => (true, true, true, true),
    }
}

#[test]
fn matrix_of_role_visibility_status_and_organisation() {
    let mut cases = 0;
    for who in everyone() {
        for vis in Visibility::ALL {
            for status in Status::ALL {
                let m = meta("inc_x", ORG_A, *vis, *status);
                let p = principal(who);
                let got = (
                    can_read(&p, &m),
                    can_write(&p, &m),
                    can_read_sensitive(&p, &m),
                    can_manage(&p, &m),
                );
                assert_eq!(got, expected(who, *vis, *status), "{who:?} {vis} {status}");
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 7 * 3 * 4);
}

#[test]
fn redaction_matrix_over_every_sensitive_field() {
    for who in everyone() {
        for vis in Visibility::ALL {
            let p = principal(who);
            let inc = incident("inc_x", ORG_A, *vis, Status::Published);
            let act = actor("actr_x", ORG_A, *vis, Status::Published);
            let may = can_read_sensitive(&p, &inc.meta);
            let mut inc_r = redact(&inc, &p);
            let mut act_r = redact(&act, &p);
            let fields: Vec<String> = inc_r
                .sensitive_fields_mut()
                .into_iter()
                .chain(act_r.sensitive_fields_mut())
                .map(|(name, f)| format!("{name}={}", f.state()))
                .collect();
            assert_eq!(fields.len(), 3);
            let want = if may { "clear" } else { "redacted" };
            assert!(
                fields.iter().all(|f| f.ends_with(want)),
                "{who:?} {vis}: {fields:?}"
            );
            // Non-sensitive content is untouched.
            assert_eq!(inc_r.title, inc.title);
            assert_eq!(inc_r.place.area, inc.place.area);
            // Documenters' ids are shown only inside the owning organisation.
            let own = matches!(who, Who::Own(_));
            assert_eq!(
                inc_r.meta.versions[0].by != policy::REDACTED_USER,
                own,
                "{who:?}"
            );
        }
    }
}

#[test]
fn sealed_values_are_redacted_too_for_readers_without_the_right() {
    let ring = KeyRing::new(FieldKey::from_bytes(1, [7; 32]));
    let mut a = actor("actr_x", ORG_A, Visibility::Published, Status::Published);
    seal_record(&mut a, &ring).unwrap();
    let r = redact(&a, &user(ORG_B, Role::Admin));
    assert_eq!(r.identity, Some(SensitiveField::Redacted));
    assert_eq!(r.contact, Some(SensitiveField::Redacted));
    let own = redact(&a, &user(ORG_A, Role::Analyst));
    assert_eq!(
        own.identity, a.identity,
        "the owner's analyst gets the sealed value to open"
    );
}

#[test]
fn creating_records_needs_an_analyst_or_admin_of_the_organisation() {
    for (who, ok) in [
        (Who::Anonymous, false),
        (Who::Own(Role::Viewer), false),
        (Who::Own(Role::Analyst), true),
        (Who::Own(Role::Admin), true),
        (Who::Other(Role::Admin), true), // creates in *its own* organisation
    ] {
        let p = principal(who);
        let r = RecordMeta::new(EntityType::Incident, "inc_new", &p, T0);
        assert_eq!(r.is_ok(), ok, "{who:?}");
        if let (
            Ok(m),
            Principal::User {
                org_id, user_id, ..
            },
        ) = (r, &p)
        {
            assert_eq!(&m.org, org_id);
            assert_eq!(
                (m.visibility, m.status),
                (Visibility::Private, Status::Draft),
                "private draft by default"
            );
            assert_eq!(&m.versions[0].by, user_id);
        }
    }
}

fn any_who() -> impl Strategy<Value = Who> {
    let role = prop::sample::select(Role::ALL.to_vec());
    prop_oneof![
        Just(Who::Anonymous),
        role.clone().prop_map(Who::Own),
        role.prop_map(Who::Other),
    ]
}

proptest! {
    /// Nobody outside an organisation ever reads its private records or
    /// any of its sensitive fields, published or not.
    #[test]
    fn outsiders_never_read_private_records_or_sensitive_fields(
        who in any_who(),
        vis in prop::sample::select(Visibility::ALL.to_vec()),
        status in prop::sample::select(Status::ALL.to_vec()),
        confidential in any::<bool>(),
    ) {
        let mut m = meta("inc_x", ORG_A, vis, status);
        m.confidential = confidential;
        let p = principal(who);
        if !matches!(who, Who::Own(_)) {
            prop_assert!(!can_read_sensitive(&p, &m));
            prop_assert!(!can_write(&p, &m));
            prop_assert!(!can_manage(&p, &m));
            if vis == Visibility::Private {
                prop_assert!(!can_read(&p, &m));
            }
            for to in Status::ALL {
                prop_assert!(!can_transition(&p, &m, *to));
            }
        }
        if who == Who::Anonymous {
            prop_assert_eq!(can_read(&p, &m), m.is_public());
        }
        // Reading sensitive fields implies reading the record; writing too.
        prop_assert!(!can_read_sensitive(&p, &m) || can_read(&p, &m));
        prop_assert!(!can_write(&p, &m) || can_read(&p, &m));
    }
}

/// Custody belongs to the owning organisation: every principal, through
/// `view_for` and both export formats. Owners (any role) keep the events and
/// acquisition details; everyone else who may read the item gets its
/// SHA-256 and the chain's head, and no event, actor, detail or source.
#[test]
fn custody_matrix_owners_keep_the_chain_everyone_else_gets_its_head() {
    let ds = dataset();
    let item = ds.evidence[0].clone(); // coalition, owned by ORG_A
    let chain: Vec<&CustodyEvent> = ds
        .custody
        .iter()
        .filter(|c| c.item == item.meta.id)
        .collect();
    let last = *chain.last().unwrap();
    let markers = [
        "u_org_a_analyst",
        "u_org_a_admin",
        "example.invalid/post",
        "sha256=…",
    ];
    for who in everyone() {
        let p = principal(who);
        let view = ds.view_for(&p);
        let seen = view.evidence.iter().find(|e| e.meta.id == item.meta.id);
        // (visible, owner)
        let (visible, owner) = match who {
            Who::Anonymous => (false, false),
            Who::Other(_) => (true, false),
            Who::Own(_) => (true, true),
        };
        assert_eq!(seen.is_some(), visible, "{who:?}");
        assert_eq!(policy::can_read_custody(&p, &item.meta), owner, "{who:?}");
        if let Some(seen) = seen {
            assert_eq!(seen.sha256, item.sha256, "{who:?}: the hash is kept");
            if owner {
                assert_eq!(seen.acquired_by, item.acquired_by, "{who:?}");
                assert_eq!(seen.acquired_from, item.acquired_from, "{who:?}");
                assert_eq!(view.custody.len(), chain.len(), "{who:?}");
                assert!(view.custody_heads.is_empty(), "{who:?}");
            } else {
                assert_eq!(seen.acquired_by, policy::REDACTED_USER, "{who:?}");
                assert_eq!(seen.acquired_from, None, "{who:?}");
                assert!(view.custody.is_empty(), "{who:?}: no custody event");
                assert_eq!(
                    view.custody_heads,
                    [ChainHead {
                        chain: item.meta.id.clone(),
                        seq: last.seq,
                        entry_hash: last.entry_hash.clone(),
                    }],
                    "{who:?}: the chain's head instead"
                );
            }
        } else {
            assert!(
                view.custody.is_empty() && view.custody_heads.is_empty(),
                "{who:?}"
            );
        }
        // Every way out follows the view.
        let mut log = AuditLog::new();
        for format in [ExportFormat::Json, ExportFormat::Csv] {
            let out = export(&ds, &p, format, T0, &mut log).unwrap();
            let text: String = out.files.values().cloned().collect();
            for m in markers {
                assert_eq!(text.contains(m), owner, "{who:?} {format:?}: {m}");
            }
        }
        // The view validates either way (heads name visible items).
        view.validate().unwrap();
    }
}

#[test]
fn validate_checks_custody_heads() {
    let ds = dataset();
    let last = ds.custody.last().unwrap().clone();
    let head = |chain: &str, seq: u64, hash: &str| ChainHead {
        chain: chain.into(),
        seq,
        entry_hash: hash.into(),
    };
    // (case, heads, problem expected in the message or None when valid)
    let cases: Vec<(&str, Vec<ChainHead>, Option<&str>)> = vec![
        ("no heads", vec![], None),
        (
            "a head agreeing with the chain",
            vec![head(&last.item, last.seq, &last.entry_hash)],
            None,
        ),
        (
            "a head of an unknown item",
            vec![head("ev_unknown", 0, &last.entry_hash)],
            Some("ev_unknown"),
        ),
        (
            "a head shorter than the chain",
            vec![head(&last.item, last.seq - 1, &last.entry_hash)],
            Some("disagrees"),
        ),
        (
            "a head with another hash",
            vec![head(&last.item, last.seq, &"0".repeat(64))],
            Some("disagrees"),
        ),
        (
            "two heads for one item",
            vec![
                head(&last.item, last.seq, &last.entry_hash),
                head(&last.item, last.seq, &last.entry_hash),
            ],
            Some("more than one custody head"),
        ),
    ];
    for (case, heads, problem) in cases {
        let mut d = ds.clone();
        d.custody_heads = heads;
        match (d.validate(), problem) {
            (Ok(()), None) => {}
            (Err(e), Some(p)) => assert!(e.to_string().contains(p), "{case}: {e}"),
            (got, want) => panic!("{case}: got {got:?}, wanted {want:?}"),
        }
    }
}

#[test]
fn an_outsiders_export_reads_back_without_custody_and_the_owners_round_trips() {
    let ds = dataset();
    let mut log = AuditLog::new();
    for (who, owner) in [
        (Who::Own(Role::Viewer), true),
        (Who::Other(Role::Admin), false),
    ] {
        let p = principal(who);
        for format in [ExportFormat::Json, ExportFormat::Csv] {
            let out = export(&ds, &p, format, T0, &mut log).unwrap();
            let back = match format {
                ExportFormat::Json => io::from_json(&out.files["dataset.json"]).unwrap(),
                ExportFormat::Csv => io::from_csv(&out.files).unwrap(),
            };
            assert_eq!(back, ds.view_for(&p), "{who:?} {format:?}");
            assert_eq!(back.custody.is_empty(), !owner, "{who:?} {format:?}");
            assert_eq!(back.custody_heads.is_empty(), owner, "{who:?} {format:?}");
            if owner {
                back.verify_custody().unwrap();
            }
        }
    }
}
