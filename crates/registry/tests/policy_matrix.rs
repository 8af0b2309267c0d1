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
