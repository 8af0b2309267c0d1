//! The draft → in review → verified → published state machine: legal moves,
//! who may make them, and the attributed history they leave.

mod common;

use canary_registry::*;
use common::*;
use time::macros::datetime;

const LEGAL: &[(Status, Status)] = &[
    (Status::Draft, Status::InReview),
    (Status::InReview, Status::Draft),
    (Status::InReview, Status::Verified),
    (Status::Verified, Status::InReview),
    (Status::Verified, Status::Published),
    (Status::Published, Status::Verified),
];

#[test]
fn only_the_moves_of_the_workflow_graph_are_accepted() {
    let admin = user(ORG_A, Role::Admin);
    for from in Status::ALL {
        for to in Status::ALL {
            let mut m = meta("inc_x", ORG_A, Visibility::Private, *from);
            let result = m.transition(*to, &admin, T0);
            let legal = LEGAL.contains(&(*from, *to));
            assert_eq!(result.is_ok(), legal, "{from} -> {to}");
            if !legal {
                assert!(
                    matches!(result, Err(Error::IllegalTransition { .. })),
                    "{from} -> {to}: {result:?}"
                );
                assert_eq!(m.status, *from, "a rejected move changes nothing");
                assert!(m.status_history.is_empty());
            }
        }
    }
}

#[test]
fn who_may_make_each_move() {
    // (from, to, viewer, analyst, admin, other org's admin)
    let table = [
        (Status::Draft, Status::InReview, false, true, true, false),
        (Status::InReview, Status::Draft, false, true, true, false),
        (
            Status::InReview,
            Status::Verified,
            false,
            false,
            true,
            false,
        ),
        (
            Status::Verified,
            Status::InReview,
            false,
            false,
            true,
            false,
        ),
        (
            Status::Verified,
            Status::Published,
            false,
            false,
            true,
            false,
        ),
        (
            Status::Published,
            Status::Verified,
            false,
            false,
            true,
            false,
        ),
    ];
    for (from, to, viewer, analyst, admin, other) in table {
        for (p, ok) in [
            (user(ORG_A, Role::Viewer), viewer),
            (user(ORG_A, Role::Analyst), analyst),
            (user(ORG_A, Role::Admin), admin),
            (user(ORG_B, Role::Admin), other),
            (Principal::Anonymous, false),
        ] {
            let mut m = meta("inc_x", ORG_A, Visibility::Coalition, from);
            let r = m.transition(to, &p, T0);
            assert_eq!(r.is_ok(), ok, "{} {from} -> {to}", p.describe());
            if !ok {
                assert!(matches!(r, Err(Error::Forbidden(_))), "{r:?}");
            }
        }
    }
}

#[test]
fn a_full_review_cycle_is_recorded_with_who_and_when() {
    let analyst = user(ORG_A, Role::Analyst);
    let admin = user(ORG_A, Role::Admin);
    let mut m = RecordMeta::new(EntityType::Incident, "inc_x", &analyst, T0).unwrap();
    m.record_edit(
        &analyst,
        datetime!(2024-05-02 10:00 UTC),
        "added the court date",
    )
    .unwrap();
    m.transition(Status::InReview, &analyst, datetime!(2024-05-03 10:00 UTC))
        .unwrap();
    m.transition(Status::Verified, &admin, datetime!(2024-05-04 10:00 UTC))
        .unwrap();
    m.set_visibility(
        Visibility::Published,
        &admin,
        datetime!(2024-05-05 10:00 UTC),
    )
    .unwrap();
    m.transition(Status::Published, &admin, datetime!(2024-05-05 10:00 UTC))
        .unwrap();
    assert!(m.is_public());
    let summaries: Vec<(u32, &str, &str)> = m
        .versions
        .iter()
        .map(|v| (v.n, v.by.as_str(), v.change_summary.as_str()))
        .collect();
    assert_eq!(
        summaries,
        vec![
            (1, "u_org_a_analyst", "created"),
            (2, "u_org_a_analyst", "added the court date"),
            (3, "u_org_a_analyst", "status draft -> in_review"),
            (4, "u_org_a_admin", "status in_review -> verified"),
            (5, "u_org_a_admin", "visibility private -> published"),
            (6, "u_org_a_admin", "status verified -> published"),
        ]
    );
    let history: Vec<(Status, Status, &str)> = m
        .status_history
        .iter()
        .map(|s| (s.from, s.to, s.by.as_str()))
        .collect();
    assert_eq!(history.len(), 3);
    assert_eq!(
        history[2],
        (Status::Verified, Status::Published, "u_org_a_admin")
    );
    assert_eq!(m.status_history[1].at, datetime!(2024-05-04 10:00 UTC));
}

#[test]
fn confidential_records_can_never_be_made_public() {
    let admin = user(ORG_A, Role::Admin);
    let mut m = meta("inc_x", ORG_A, Visibility::Coalition, Status::Verified);
    m.confidential = true;
    assert!(matches!(
        m.transition(Status::Published, &admin, T0),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        m.set_visibility(Visibility::Published, &admin, T0),
        Err(Error::Forbidden(_))
    ));
    assert_eq!(
        (m.status, m.visibility),
        (Status::Verified, Visibility::Coalition)
    );
    m.set_visibility(Visibility::Private, &admin, T0).unwrap();
}

#[test]
fn edits_and_visibility_changes_need_the_right_role() {
    // (status, role, may edit)
    let table = [
        (Status::Draft, Role::Viewer, false),
        (Status::Draft, Role::Analyst, true),
        (Status::InReview, Role::Analyst, true),
        (Status::Verified, Role::Analyst, false),
        (Status::Published, Role::Analyst, false),
        (Status::Published, Role::Admin, true),
    ];
    for (status, role, ok) in table {
        let mut m = meta("inc_x", ORG_A, Visibility::Private, status);
        assert_eq!(
            m.record_edit(&user(ORG_A, role), T0, "fix").is_ok(),
            ok,
            "{status} {role}"
        );
        assert_eq!(m.version(), if ok { 2 } else { 1 });
    }
    for role in Role::ALL {
        let mut m = meta("inc_x", ORG_A, Visibility::Private, Status::Draft);
        let ok = m
            .set_visibility(Visibility::Coalition, &user(ORG_A, *role), T0)
            .is_ok();
        assert_eq!(ok, *role == Role::Admin, "{role}");
    }
    let mut m = meta("inc_x", ORG_A, Visibility::Private, Status::Draft);
    assert!(
        m.record_edit(&user(ORG_B, Role::Admin), T0, "x").is_err(),
        "other organisation"
    );
}
