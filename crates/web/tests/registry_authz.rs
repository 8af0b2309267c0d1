//! The registry's authorization matrix, against a real server on
//! loopback: two organisations, records at every visibility with
//! sensitive fields, users of every role in each organisation plus
//! anonymous. For every registry endpoint × principal × record it checks
//! the status, and that no response ever carries an id or title of a
//! record the principal may not read, nor the clear text of a sensitive
//! field the principal may not see. Writes by the wrong role or
//! organisation are refused and change nothing. Reveals and exports are
//! audited.

mod common;
mod registry_fixture;

use canary_registry::{AuditAction, Status};
use canary_web::accounts::Role;
use registry_fixture::{self as fx, send, Out, Rec, Who};
use reqwest::Method;

/// No forbidden id, title or sensitive value in `body`.
fn assert_clean(who: &Who, recs: &[Rec], what: &str, body: &str) {
    for r in recs {
        if !who.reads(r) {
            for id in r.ids() {
                assert!(
                    !body.contains(id),
                    "{}: {what} shows the id {id} of a record it may not read",
                    who.label()
                );
            }
            assert!(
                !body.contains(&r.title_marker),
                "{}: {what} shows {} it may not read",
                who.label(),
                r.title_marker
            );
        }
        if !who.reads_secrets(r) {
            for s in &r.secrets {
                assert!(
                    !body.contains(s),
                    "{}: {what} leaks the sensitive value {s}",
                    who.label()
                );
            }
        }
    }
}

/// No sensitive clear text at all (lists, exports, servers without keys).
fn assert_no_secret(recs: &[Rec], what: &str, body: &str) {
    for r in recs {
        for s in &r.secrets {
            assert!(!body.contains(s), "{what} leaks {s}");
        }
    }
}

/// Custody is the owning organisation's: outside it, no custody event's
/// actor (the fixture's `admin_<org>`) or details (`sha256=<hash>`), and no
/// `acquired_by`, ever appears.
fn assert_no_custody(who: &Who, recs: &[Rec], what: &str, body: &str) {
    for r in recs {
        if who.org == Some(r.org) {
            continue;
        }
        for marker in custody_markers(r) {
            assert!(
                !body.contains(&marker),
                "{}: {what} shows custody of {} ({marker})",
                who.label(),
                r.evidence
            );
        }
    }
}

/// What the fixture writes in an item's custody event and acquisition.
fn custody_markers(r: &Rec) -> [String; 2] {
    [
        format!("\"admin_{}\"", r.org),
        format!(
            "sha256={}",
            canary_registry::sha256_hex(r.evidence.as_bytes())
        ),
    ]
}

async fn get(c: &mut common::Client, path: &str) -> Out {
    let r = c.get(path).await;
    Out {
        status: r.status.as_u16(),
        headers: r.headers,
        body: r.body,
    }
}

fn expect_edit(who: &Who, r: &Rec) -> u16 {
    if !who.reads(r) {
        404
    } else if who.role.is_none() {
        401
    } else if !who.writes(r) {
        403
    } else {
        200
    }
}

#[tokio::test]
async fn every_read_endpoint_shows_each_principal_only_what_the_policy_allows() {
    let f = fx::start(true).await;
    let recs = &f.recs;
    let mut checked = 0usize;
    for who in Who::all() {
        let mut c = who.client(&f.server).await;
        let mut hit = |path: String, expected: u16, out: &Out| {
            assert_eq!(
                out.status,
                expected,
                "{} GET {path}: {}",
                who.label(),
                &out.body[..out.body.len().min(300)]
            );
            assert_clean(&who, recs, &path, &out.body);
            checked += 1;
        };

        // Pages without a record in the path.
        for (path, expected) in [
            ("/registry/incidents".to_owned(), 200),
            ("/registry/incidents?status=draft".to_owned(), 200),
            ("/registry/incidents?lang=km".to_owned(), 200),
            ("/registry/laws".to_owned(), 200),
            ("/registry/recommendations".to_owned(), 200),
            ("/registry/recommendations?lang=km".to_owned(), 200),
            (
                "/registry/incidents/new".to_owned(),
                match (who.role, who.creates()) {
                    (None, _) => 401,
                    (_, false) => 403,
                    _ => 200,
                },
            ),
            (
                "/registry/evidence/new".to_owned(),
                match (who.role, who.creates()) {
                    (None, _) => 401,
                    (_, false) => 403,
                    _ => 200,
                },
            ),
        ] {
            let out = get(&mut c, &path).await;
            hit(path, expected, &out);
        }
        // The list shows exactly the readable incidents.
        let list = get(&mut c, "/registry/incidents").await;
        for r in recs {
            assert_eq!(
                list.body.contains(&r.title_marker),
                who.reads(r),
                "{} list and {}",
                who.label(),
                r.incident
            );
        }

        // Pages of each record.
        for r in recs {
            let read = if who.reads(r) { 200 } else { 404 };
            for (path, expected) in [
                (format!("/registry/incidents/{}", r.incident), read),
                (format!("/registry/incidents/{}?lang=km", r.incident), read),
                (format!("/registry/laws/{}", r.law), read),
                (format!("/registry/evidence/{}", r.evidence), read),
                (
                    format!("/registry/incidents/{}/edit", r.incident),
                    expect_edit(&who, r),
                ),
                (
                    format!("/registry/incidents/{}/acts/new", r.incident),
                    expect_edit(&who, r),
                ),
                (
                    format!("/registry/acts/{}/edit", r.act),
                    expect_edit(&who, r),
                ),
                (
                    format!("/registry/evidence/{}/file", r.evidence),
                    if !who.reads(r) {
                        404
                    } else if who.role.is_none() {
                        401
                    } else if !who.reads_secrets(r) {
                        403
                    } else {
                        200
                    },
                ),
                (format!("/domain/{}", r.domain), 200),
            ] {
                let out = get(&mut c, &path).await;
                hit(path.clone(), expected, &out);
                let incident_page = path == format!("/registry/incidents/{}", r.incident)
                    || path == format!("/registry/incidents/{}?lang=km", r.incident);
                if incident_page && expected == 200 {
                    // The owners' analysts and admins see the secrets in clear.
                    for s in &r.secrets {
                        assert_eq!(
                            out.body.contains(s),
                            who.reads_secrets(r),
                            "{} {path}: {s}",
                            who.label()
                        );
                    }
                }
            }
            // The evidence page: the chain for its owners, its head for
            // other readers, never the custody details outside.
            if who.reads(r) {
                let path = format!("/registry/evidence/{}?lang=en", r.evidence);
                let page = get(&mut c, &path).await.body;
                let own = who.org == Some(r.org);
                assert_eq!(
                    page.contains(&custody_markers(r)[1]),
                    own,
                    "{} {path}: custody details",
                    who.label()
                );
                assert_eq!(
                    page.contains("Events in the chain"),
                    !own,
                    "{} {path}: the chain's head",
                    who.label()
                );
            }
            let domain = get(&mut c, &format!("/domain/{}", r.domain)).await;
            assert_eq!(
                domain.body.contains(&format!("REF-{}", r.title_marker)),
                who.reads(r),
                "{}: blocking order of {} on its domain page",
                who.label(),
                r.incident
            );
        }

        // The API: every collection, every record.
        for col in [
            "organisations",
            "incidents",
            "incident_links",
            "acts",
            "involvements",
            "actors",
            "sources",
            "citations",
            "laws",
            "provisions",
            "invocations",
            "evidence",
            "custody",
            "custody_heads",
            "recommendations",
            "benchmarks",
            "assessments",
        ] {
            let path = format!("/api/v1/registry/{col}");
            let out = get(&mut c, &path).await;
            assert_no_secret(recs, &path, &out.body);
            assert_no_custody(&who, recs, &path, &out.body);
            hit(path, 200, &out);
        }
        // Owners get their chains; other readers of an item its head only.
        let custody = get(&mut c, "/api/v1/registry/custody").await.body;
        let heads = get(&mut c, "/api/v1/registry/custody_heads").await.body;
        for r in recs {
            let own = who.org == Some(r.org);
            assert_eq!(
                custody.contains(&custody_markers(r)[1]),
                own,
                "{} custody of {}",
                who.label(),
                r.evidence
            );
            assert_eq!(
                heads.contains(&format!("\"{}\"", r.evidence)),
                !own && who.reads(r),
                "{} custody head of {}",
                who.label(),
                r.evidence
            );
        }
        let incidents: serde_json::Value =
            serde_json::from_str(&get(&mut c, "/api/v1/registry/incidents").await.body).unwrap();
        let ids: Vec<&str> = incidents
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        for r in recs {
            assert_eq!(
                ids.contains(&r.incident.as_str()),
                who.reads(r),
                "{} api list",
                who.label()
            );
        }
        for r in recs {
            let read = if who.reads(r) { 200 } else { 404 };
            for (col, id, secrets) in [
                ("incidents", &r.incident, &r.secrets[0..1]),
                ("actors", &r.actor, &r.secrets[1..3]),
                ("sources", &r.source, &r.secrets[3..4]),
                ("laws", &r.law, &[][..]),
                ("provisions", &r.provision, &[][..]),
                ("evidence", &r.evidence, &r.secrets[4..5]),
                ("recommendations", &r.recommendation, &[][..]),
                ("benchmarks", &r.benchmark, &[][..]),
                ("acts", &r.act, &[][..]),
            ] {
                let path = format!("/api/v1/registry/{col}/{id}");
                let out = get(&mut c, &path).await;
                assert_no_custody(&who, recs, &path, &out.body);
                hit(path.clone(), read, &out);
                for s in secrets {
                    assert_eq!(
                        out.body.contains(s.as_str()),
                        who.reads_secrets(r),
                        "{} {path}",
                        who.label()
                    );
                }
            }
        }

        // Exports: readable records only, sensitive values never in clear.
        let mut exports = vec!["/api/v1/registry/export?format=json".to_owned()];
        for col in [
            "incidents",
            "actors",
            "sources",
            "evidence",
            "custody",
            "custody_heads",
            "acts",
            "laws",
        ] {
            exports.push(format!(
                "/api/v1/registry/export?format=csv&collection={col}"
            ));
        }
        for path in exports {
            let out = get(&mut c, &path).await;
            assert_no_secret(recs, &path, &out.body);
            assert_no_custody(&who, recs, &path, &out.body);
            assert!(out.headers.get("x-export-sha256").is_some());
            hit(path, 200, &out);
        }
        let export = get(&mut c, "/api/v1/registry/export?format=json").await;
        for r in recs {
            assert_eq!(
                export.body.contains(&r.incident),
                who.reads(r),
                "{} export",
                who.label()
            );
        }
    }
    assert!(checked >= 7 * 150, "{checked} responses checked");
    eprintln!("authorization matrix: {checked} responses checked");
}

#[tokio::test]
async fn without_keys_nobody_sees_a_sensitive_value_and_nothing_is_audited_as_read() {
    let f = fx::start(false).await;
    for who in Who::all() {
        let mut c = who.client(&f.server).await;
        for r in &f.recs {
            for path in [
                format!("/registry/incidents/{}", r.incident),
                format!("/api/v1/registry/actors/{}", r.actor),
                format!("/api/v1/registry/evidence/{}", r.evidence),
            ] {
                let out = get(&mut c, &path).await;
                assert_no_secret(&f.recs, &path, &out.body);
                assert_clean(&who, &f.recs, &path, &out.body);
            }
        }
    }
    let audit = f.server.store.registry_audit(0, 10_000).await.unwrap();
    assert!(
        audit.iter().all(|e| e.action != AuditAction::ReadSensitive),
        "no field was opened, so none is recorded as read"
    );
}

#[tokio::test]
async fn reveals_and_exports_are_written_to_the_audit_log() {
    let f = fx::start(true).await;
    let r = f
        .recs
        .iter()
        .find(|r| r.org == "alpha" && r.case == "private")
        .unwrap();
    let analyst = Who {
        role: Some(Role::Analyst),
        org: Some("alpha"),
    };
    let viewer = Who {
        role: Some(Role::Viewer),
        org: Some("alpha"),
    };
    let mut c = analyst.client(&f.server).await;
    let before = f
        .server
        .store
        .registry_audit(0, 10_000)
        .await
        .unwrap()
        .len();
    let page = get(&mut c, &format!("/registry/incidents/{}", r.incident)).await;
    assert!(page.body.contains(&r.secrets[0]));
    let audit = f.server.store.registry_audit(0, 10_000).await.unwrap();
    let new: Vec<_> = audit[before..].iter().collect();
    let objects: Vec<&str> = new.iter().map(|e| e.object.as_str()).collect();
    for expected in [
        format!("{}.place.exact", r.incident),
        format!("{}.identity", r.actor),
        format!("{}.contact", r.actor),
        format!("{}.identity", r.source),
        format!("{}.provenance", r.evidence),
    ] {
        assert!(
            objects.contains(&expected.as_str()),
            "audit lacks {expected}: {objects:?}"
        );
    }
    assert!(new
        .iter()
        .all(|e| e.action == AuditAction::ReadSensitive && e.actor == "analyst_alpha"));

    // A viewer of the same organisation reads the record but opens nothing.
    let mut v = viewer.client(&f.server).await;
    let n = f
        .server
        .store
        .registry_audit(0, 10_000)
        .await
        .unwrap()
        .len();
    let page = get(&mut v, &format!("/registry/incidents/{}", r.incident)).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        f.server
            .store
            .registry_audit(0, 10_000)
            .await
            .unwrap()
            .len(),
        n
    );

    // Every export, by anyone, is recorded with its format and hash.
    let mut anon = Who {
        role: None,
        org: None,
    }
    .client(&f.server)
    .await;
    for (client, actor) in [(&mut v, "viewer_alpha"), (&mut anon, "anonymous")] {
        let out = get(
            client,
            "/api/v1/registry/export?format=csv&collection=incidents",
        )
        .await;
        assert_eq!(out.status, 200);
        let sha = out.headers["x-export-sha256"].to_str().unwrap().to_owned();
        let last = f
            .server
            .store
            .registry_audit(0, 10_000)
            .await
            .unwrap()
            .pop()
            .unwrap();
        assert_eq!(last.action, AuditAction::Export);
        assert_eq!(last.actor, actor);
        assert!(
            last.details.contains("format=csv") && last.details.contains(&sha),
            "{}",
            last.details
        );
    }
    // Admins read the entries of their own organisation's members only.
    let mut alpha_admin = Who {
        role: Some(Role::Admin),
        org: Some("alpha"),
    }
    .client(&f.server)
    .await;
    let log = get(&mut alpha_admin, "/api/v1/registry/audit").await;
    assert_eq!(log.status, 200);
    let entries: serde_json::Value = serde_json::from_str(&log.body).unwrap();
    let actors: std::collections::BTreeSet<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(
        actors,
        ["analyst_alpha", "viewer_alpha"].into_iter().collect(),
        "the reveals and the viewer's export; not anonymous's"
    );
    let mut beta_admin = Who {
        role: Some(Role::Admin),
        org: Some("beta"),
    }
    .client(&f.server)
    .await;
    let log = get(&mut beta_admin, "/api/v1/registry/audit").await;
    assert_eq!(log.status, 200);
    assert!(
        !log.body.contains(&r.incident) && !log.body.contains("alpha"),
        "{}",
        log.body
    );
    for (who, status) in [
        (
            Who {
                role: Some(Role::Analyst),
                org: Some("alpha"),
            },
            403,
        ),
        (
            Who {
                role: None,
                org: None,
            },
            401,
        ),
    ] {
        let mut c = who.client(&f.server).await;
        assert_eq!(get(&mut c, "/api/v1/registry/audit").await.status, status);
    }
    assert_eq!(
        get(&mut alpha_admin, "/api/v1/registry/audit?limit=0")
            .await
            .status,
        400
    );
    let two = get(&mut alpha_admin, "/api/v1/registry/audit?limit=2").await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&two.body)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(f.server.store.registry_verify(None).await.unwrap().is_ok());
}

/// The stored registry and audit log, to show that nothing changed.
async fn snapshot(f: &fx::Fixture) -> (String, usize) {
    let ds = f.server.store.registry_load().await.unwrap();
    let mut ds = ds;
    // Sealed values are re-randomised only by writes; compare them as stored.
    ds.custody
        .sort_by(|a, b| (&a.item, a.seq).cmp(&(&b.item, b.seq)));
    (
        serde_json::to_string(&ds).unwrap(),
        f.server
            .store
            .registry_audit(0, 10_000)
            .await
            .unwrap()
            .len(),
    )
}

/// The target of a workflow move that is in the graph from `s`.
fn next_status(s: Status) -> Status {
    match s {
        Status::Draft => Status::InReview,
        Status::InReview => Status::Verified,
        Status::Verified | Status::Published => Status::Verified,
    }
}

fn may_move(who: &Who, r: &Rec) -> bool {
    who.org == Some(r.org)
        && match who.role {
            Some(Role::Admin) => true,
            Some(Role::Analyst) => r.status == Status::Draft,
            _ => false,
        }
}

#[tokio::test]
async fn writes_by_the_wrong_role_or_organisation_are_refused_and_change_nothing() {
    let f = fx::start(true).await;
    let recs = f.recs.clone();
    let mut attempts = 0;
    for who in Who::all() {
        let mut c = who.client(&f.server).await;
        // The form token: the session's, or the pre-session cookie's.
        let login = c.get("/login").await;
        let form_csrf = common::Client::csrf(&login.body);
        let api_csrf = fx::api_token(&mut c).await.unwrap_or_default();
        let json = [
            ("content-type", "application/json"),
            ("x-csrf-token", api_csrf.as_str()),
        ];
        for r in &recs {
            let refused_status = |allowed_read: bool| -> u16 {
                if who.role.is_none() {
                    401
                } else if !allowed_read {
                    404
                } else {
                    403
                }
            };
            let before = snapshot(&f).await;
            let mut tries: Vec<(String, u16, Out)> = Vec::new();
            if !who.writes(r) {
                let edit = c
                    .post_form(
                        &format!("/registry/incidents/{}", r.incident),
                        &[
                            ("csrf", &form_csrf),
                            ("version", "1"),
                            ("title", "hijacked"),
                            ("start", "2024"),
                        ],
                    )
                    .await;
                tries.push((
                    "form edit".into(),
                    refused_status(who.reads(r)),
                    Out {
                        status: edit.status.as_u16(),
                        headers: edit.headers,
                        body: edit.body,
                    },
                ));
                let act = c
                    .post_form(
                        &format!("/registry/incidents/{}/acts/new", r.incident),
                        &[
                            ("csrf", &form_csrf),
                            ("act_type", "arrest"),
                            ("description", "hijacked"),
                        ],
                    )
                    .await;
                tries.push((
                    "form act".into(),
                    refused_status(who.reads(r)),
                    Out {
                        status: act.status.as_u16(),
                        headers: act.headers,
                        body: act.body,
                    },
                ));
                let put = send(
                    &c,
                    Method::PUT,
                    &format!("/api/v1/registry/incidents/{}", r.incident),
                    &json,
                    br#"{"title":"hijacked","start":"2024"}"#.to_vec(),
                )
                .await;
                tries.push(("api put".into(), refused_status(who.reads(r)), put));
                let act = send(
                    &c,
                    Method::POST,
                    "/api/v1/registry/acts",
                    &json,
                    format!(r#"{{"incident_id":"{}","act_type":"arrest"}}"#, r.incident)
                        .into_bytes(),
                )
                .await;
                tries.push(("api act".into(), refused_status(who.reads(r)), act));
                let act_form = c
                    .post_form(
                        &format!("/registry/acts/{}", r.act),
                        &[
                            ("csrf", &form_csrf),
                            ("act_type", "arrest"),
                            ("description", "hijacked"),
                        ],
                    )
                    .await;
                tries.push((
                    "form act edit".into(),
                    refused_status(who.reads(r)),
                    Out {
                        status: act_form.status.as_u16(),
                        headers: act_form.headers,
                        body: act_form.body,
                    },
                ));
                let put_act = send(
                    &c,
                    Method::PUT,
                    &format!("/api/v1/registry/acts/{}", r.act),
                    &json,
                    format!(
                        r#"{{"incident_id":"{}","act_type":"arrest","description":"hijacked"}}"#,
                        r.incident
                    )
                    .into_bytes(),
                )
                .await;
                tries.push(("api act edit".into(), refused_status(who.reads(r)), put_act));
            }
            if !may_move(&who, r) {
                let to = next_status(r.status);
                let form = c
                    .post_form(
                        &format!("/registry/incidents/{}/status", r.incident),
                        &[("csrf", &form_csrf), ("to", to.as_str())],
                    )
                    .await;
                tries.push((
                    "form move".into(),
                    refused_status(who.reads(r)),
                    Out {
                        status: form.status.as_u16(),
                        headers: form.headers,
                        body: form.body,
                    },
                ));
                for (col, id) in [
                    ("incidents", &r.incident),
                    ("laws", &r.law),
                    ("evidence", &r.evidence),
                    ("actors", &r.actor),
                ] {
                    let out = send(
                        &c,
                        Method::POST,
                        &format!("/api/v1/registry/{col}/{id}/status"),
                        &json,
                        format!(r#"{{"to":"{}"}}"#, to.as_str()).into_bytes(),
                    )
                    .await;
                    tries.push((format!("api move {col}"), refused_status(who.reads(r)), out));
                }
            }
            if who.org != Some(r.org) || who.role != Some(Role::Admin) {
                // Publishing or hiding is for the owners' admins only.
                let out = send(
                    &c,
                    Method::POST,
                    &format!("/api/v1/registry/incidents/{}/status", r.incident),
                    &json,
                    br#"{"visibility":"private"}"#.to_vec(),
                )
                .await;
                tries.push(("api visibility".into(), refused_status(who.reads(r)), out));
            }
            for (what, expected, out) in &tries {
                attempts += 1;
                assert_eq!(
                    out.status,
                    *expected,
                    "{} {what} on {}: {}",
                    who.label(),
                    r.incident,
                    &out.body[..out.body.len().min(300)]
                );
                assert_clean(&who, &recs, what, &out.body);
            }
            assert_eq!(
                snapshot(&f).await,
                before,
                "{} changed {} by a refused write",
                who.label(),
                r.incident
            );
        }

        // Creating: only analysts and admins.
        let before = snapshot(&f).await;
        let create = send(
            &c,
            Method::POST,
            "/api/v1/registry/incidents",
            &json,
            br#"{"title":"new","start":"2024-02"}"#.to_vec(),
        )
        .await;
        let (ct, body) = fx::multipart(
            &[("csrf", &form_csrf)],
            ("a.txt", "text/plain", b"evidence bytes"),
        );
        let upload = send(
            &c,
            Method::POST,
            "/registry/evidence",
            &[("content-type", &ct)],
            body,
        )
        .await;
        let api_upload = send(
            &c,
            Method::POST,
            "/api/v1/registry/evidence",
            &[("content-type", "text/plain"), ("x-csrf-token", &api_csrf)],
            b"evidence bytes".to_vec(),
        )
        .await;
        let import = send(
            &c,
            Method::POST,
            "/api/v1/registry/import",
            &json,
            serde_json::to_vec(&canary_registry::Dataset::new()).unwrap(),
        )
        .await;
        if !who.creates() {
            let expected = if who.role.is_none() { 401 } else { 403 };
            for (what, out) in [
                ("api create", &create),
                ("form upload", &upload),
                ("api upload", &api_upload),
                ("import", &import),
            ] {
                attempts += 1;
                assert_eq!(out.status, expected, "{} {what}: {}", who.label(), out.body);
            }
            assert_eq!(
                snapshot(&f).await,
                before,
                "{} created something",
                who.label()
            );
        }

        // A write without the CSRF token is refused, whoever asks.
        if who.role.is_some() {
            let before = snapshot(&f).await;
            let own = recs
                .iter()
                .find(|r| Some(r.org) == who.org && r.case == "private")
                .unwrap();
            let out = send(
                &c,
                Method::PUT,
                &format!("/api/v1/registry/incidents/{}", own.incident),
                &[("content-type", "application/json")],
                br#"{"title":"no token","start":"2024"}"#.to_vec(),
            )
            .await;
            assert_eq!(out.status, 403, "{} without a CSRF token", who.label());
            let form = c
                .post_form(
                    &format!("/registry/incidents/{}", own.incident),
                    &[
                        (
                            "csrf",
                            "0000000000000000000000000000000000000000000000000000000000000000",
                        ),
                        ("version", "1"),
                        ("title", "x"),
                        ("start", "2024"),
                    ],
                )
                .await;
            assert_eq!(
                form.status.as_u16(),
                403,
                "{} with a forged CSRF token",
                who.label()
            );
            assert_eq!(snapshot(&f).await, before);
            attempts += 2;
        }
    }
    eprintln!("refused writes checked: {attempts}");
    assert!(attempts > 300, "{attempts}");
}

#[tokio::test]
async fn an_import_cannot_touch_another_organisations_records() {
    let f = fx::start(true).await;
    let who = Who {
        role: Some(Role::Admin),
        org: Some("beta"),
    };
    let mut c = who.client(&f.server).await;
    let token = fx::api_token(&mut c).await.unwrap();
    let stored = f.server.store.registry_load().await.unwrap();
    let alpha = f
        .recs
        .iter()
        .find(|r| r.org == "alpha" && r.case == "coalition")
        .unwrap();
    let cases: Vec<(&str, canary_registry::Dataset)> = vec![
        ("a copy of alpha's incident, retitled", {
            let mut ds = canary_registry::Dataset::new();
            ds.organisations = stored.organisations.clone();
            let mut inc = stored
                .incidents
                .iter()
                .find(|i| i.meta.id == alpha.incident)
                .unwrap()
                .clone();
            let p = canary_registry::Principal::user(
                "admin_beta",
                "org_alpha",
                canary_registry::Role::Admin,
            );
            inc.meta
                .record_edit(&p, time::OffsetDateTime::now_utc(), "hijack")
                .unwrap();
            inc.title = "hijacked".into();
            ds.incidents.push(inc);
            ds
        }),
        ("a new record claiming alpha as owner", {
            let mut ds = canary_registry::Dataset::new();
            ds.organisations = stored.organisations.clone();
            let mut inc = stored
                .incidents
                .iter()
                .find(|i| i.meta.id == alpha.incident)
                .unwrap()
                .clone();
            inc.meta.id = "inc_planted".into();
            ds.incidents.push(inc);
            ds
        }),
        ("an act added to alpha's incident", {
            let mut ds = canary_registry::Dataset::new();
            ds.organisations = stored.organisations.clone();
            ds.incidents.push(
                stored
                    .incidents
                    .iter()
                    .find(|i| i.meta.id == alpha.incident)
                    .unwrap()
                    .clone(),
            );
            let mut act = stored
                .acts
                .iter()
                .find(|a| a.id == alpha.act)
                .unwrap()
                .clone();
            act.id = "act_planted".into();
            act.victim_id = None;
            ds.acts.push(act);
            ds
        }),
    ];
    for (why, ds) in cases {
        let before = snapshot(&f).await;
        let out = send(
            &c,
            Method::POST,
            "/api/v1/registry/import",
            &[
                ("content-type", "application/json"),
                ("x-csrf-token", &token),
            ],
            serde_json::to_vec(&ds).unwrap(),
        )
        .await;
        assert_eq!(out.status, 403, "{why}: {}", out.body);
        assert_eq!(snapshot(&f).await, before, "{why}");
    }
}
