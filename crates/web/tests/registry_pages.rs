//! The registry's pages as people use them, on the real server: the
//! Cambodia seed in English and Khmer, an analyst documenting an incident
//! through the forms from draft to publication, and evidence upload.

mod common;
mod registry_fixture;

use canary_web::accounts::Role;
use common::{start_with, Client};
use registry_fixture::{self as fx, send, Who};
use reqwest::Method;

fn has_khmer(s: &str) -> bool {
    s.chars().any(|c| ('\u{1780}'..='\u{17FF}').contains(&c))
}

/// Text only the Khmer catalog has ("timeline", "provisions invoked").
const KM_TIMELINE: &str = "លំដាប់ពេលវេលា";

#[tokio::test]
async fn registry_pages_render_in_english_and_khmer_over_the_cambodia_seed() {
    let server = start_with(false, |cfg| {
        cfg.registry_keys = Some(std::sync::Arc::new(fx::key_ring()));
    })
    .await;
    let mut ds = canary_registry::seed::kh();
    ds.seal_all(&fx::key_ring()).unwrap();
    server
        .store
        .registry_import(&ds, "seed", canary_registry::seed::SEED_AT)
        .await
        .unwrap();
    // A viewer of another organisation: sees published and coalition records.
    canary_web::accounts::create_user(
        &server.store,
        "viewer_x",
        common::PASSWORD,
        Role::Viewer,
        Some("org_x"),
        &canary_web::accounts::PasswordParams::insecure_for_tests(),
    )
    .await
    .unwrap();
    let public = ds.view_for(&canary_registry::Principal::user(
        "viewer_x",
        "org_x",
        canary_registry::Role::Viewer,
    ));
    let incident = public
        .incidents
        .iter()
        .find(|i| public.acts.iter().any(|a| a.incident_id == i.meta.id))
        .expect("a public incident with acts");
    let act_types: Vec<canary_registry::ActType> = public
        .acts
        .iter()
        .filter(|a| a.incident_id == incident.meta.id)
        .map(|a| a.act_type)
        .collect();
    let invoked = public
        .invocations
        .first()
        .and_then(|i| {
            public
                .provisions
                .iter()
                .find(|p| p.meta.id == i.provision_id)
        })
        .expect("an invoked provision");
    let bm = public.benchmarks.first().expect("a benchmark");
    let mut c = Client::new(&server);
    assert_eq!(
        c.login("viewer_x", common::PASSWORD).await.status.as_u16(),
        303
    );
    let pages: Vec<(String, Vec<String>)> = vec![
        ("/registry/incidents".into(), vec![incident.meta.id.clone()]),
        (
            format!("/registry/incidents/{}", incident.meta.id),
            vec!["class=\"timeline\"".into()],
        ),
        ("/registry/laws".into(), vec![invoked.law_id.clone()]),
        (
            format!("/registry/laws/{}", invoked.law_id),
            vec![
                "<svg class=\"chart law\"".into(),
                "<circle class=\"inv\"".into(),
                invoked.meta.id.clone(),
            ],
        ),
        ("/registry/recommendations".into(), vec![bm.meta.id.clone()]),
        (
            format!("/registry/incidents?act_type={}", act_types[0]),
            vec![incident.meta.id.clone()],
        ),
    ];
    for (path, needles) in &pages {
        for lang in ["en", "km"] {
            let sep = if path.contains('?') { '&' } else { '?' };
            let r = c.get(&format!("{path}{sep}lang={lang}")).await;
            assert_eq!(r.status.as_u16(), 200, "{path} {lang}: {}", r.body);
            assert!(r.body.contains(&format!("<html lang=\"{lang}\">")));
            for n in needles {
                assert!(r.body.contains(n.as_str()), "{path} in {lang} lacks {n}");
            }
            assert!(
                has_khmer(&r.body),
                "{path}: the language switch is in Khmer"
            );
            if lang == "km" {
                assert!(r.body.contains("បញ្ជីកត់ត្រា"), "{path}: Khmer navigation");
            } else {
                assert!(!r.body.contains("បញ្ជីកត់ត្រា"), "{path}: English navigation");
            }
        }
    }
    // A figure, not a bound: each page loads the registry from the store.
    for path in [
        "/registry/incidents",
        &format!("/registry/incidents/{}", incident.meta.id),
    ] {
        let t = std::time::Instant::now();
        for _ in 0..20 {
            assert_eq!(c.get(path).await.status.as_u16(), 200);
        }
        eprintln!(
            "{path}: {:.1} ms per request over the seed ({} records)",
            t.elapsed().as_secs_f64() * 1000.0 / 20.0,
            ds.len()
        );
    }
    // Vocabulary labels follow the language.
    let en = c
        .get(&format!("/registry/incidents/{}?lang=en", incident.meta.id))
        .await;
    let km = c
        .get(&format!("/registry/incidents/{}?lang=km", incident.meta.id))
        .await;
    assert!(en.body.contains(act_types[0].label_en()));
    assert!(km.body.contains(act_types[0].label_km()));
    assert!(km.body.contains(KM_TIMELINE) && !en.body.contains(KM_TIMELINE));
    // A filter that matches nothing, and a malformed one.
    let none = c.get("/registry/incidents?from=2099-01-01").await;
    assert!(!none.body.contains(&incident.meta.id));
    let bad = c.get("/registry/incidents?status=archived").await;
    assert_eq!(bad.status.as_u16(), 400);
    let bad = c.get("/registry/incidents/not-an-id").await;
    assert_eq!(bad.status.as_u16(), 400);
}

/// Posts a form and returns the redirect target.
async fn post_ok(c: &mut Client, path: &str, form: &[(&str, &str)]) -> String {
    let r = c.post_form(path, form).await;
    assert_eq!(r.status.as_u16(), 303, "POST {path}: {}", r.body);
    r.headers["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_analyst_documents_an_incident_through_the_forms_from_draft_to_publication() {
    let f = fx::start(true).await;
    let analyst = Who {
        role: Some(Role::Analyst),
        org: Some("alpha"),
    };
    let admin = Who {
        role: Some(Role::Admin),
        org: Some("alpha"),
    };
    let mut a = analyst.client(&f.server).await;
    let page = a.get("/registry/incidents/new?lang=km").await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(page.body.contains("ចំណងជើង"), "the form is in Khmer");
    let csrf = Client::csrf(&page.body);
    let at = post_ok(
        &mut a,
        "/registry/incidents/new",
        &[
            ("csrf", &csrf),
            ("title", "Student arrested over a Facebook post"),
            ("title_km", "សិស្សត្រូវបានចាប់ខ្លួន"),
            (
                "summary",
                "Detained after a post criticising the commune chief.",
            ),
            ("start", "2024-05"),
            ("area", "Siem Reap province"),
            ("precision", "province"),
            ("exact_place", "SECRETFORMPLACE village 4"),
            ("rights", "iccpr_19, iccpr_21"),
            ("tags", "facebook, student"),
        ],
    )
    .await;
    let id = at.strip_prefix("/registry/incidents/").unwrap().to_owned();
    let view = a.get(&format!("{at}?lang=en")).await;
    assert!(view.body.contains("Student arrested over a Facebook post"));
    assert!(
        view.body.contains("SECRETFORMPLACE"),
        "its analyst reads the exact place"
    );
    assert!(view.body.contains("analyst_alpha"), "attributed");
    let stored = f.server.store.registry_load().await.unwrap();
    let inc = stored.incidents.iter().find(|i| i.meta.id == id).unwrap();
    assert_eq!(
        inc.place.exact.as_ref().unwrap().state(),
        "sealed",
        "sealed at rest"
    );
    assert_eq!(inc.meta.org, "org_alpha");

    // Edit: the form never shows the sensitive value; a stale edit is refused.
    let edit = a.get(&format!("{at}/edit")).await;
    assert!(!edit.body.contains("SECRETFORMPLACE"));
    let csrf = Client::csrf(&edit.body);
    post_ok(
        &mut a,
        &at,
        &[
            ("csrf", &csrf),
            ("version", "1"),
            ("title", "Student detained over a post"),
            ("title_km", "សិស្សត្រូវបានចាប់ខ្លួន"),
            ("start", "2024-05-02"),
            ("change_summary", "exact date from the court file"),
        ],
    )
    .await;
    let stale = a
        .post_form(
            &at,
            &[
                ("csrf", &csrf),
                ("version", "1"),
                ("title", "lost update"),
                ("start", "2024"),
            ],
        )
        .await;
    assert_eq!(stale.status.as_u16(), 409);
    let view = a.get(&at).await;
    assert!(
        view.body.contains("Student detained over a post") && !view.body.contains("lost update")
    );
    assert!(
        view.body.contains("exact date from the court file"),
        "the version history"
    );
    assert!(
        view.body.contains("SECRETFORMPLACE"),
        "an empty field kept the sealed value"
    );

    // An act with the provision it invoked, shown on the timeline and the law page.
    let r = f
        .recs
        .iter()
        .find(|r| r.org == "alpha" && r.case == "private")
        .unwrap();
    let form = a.get(&format!("{at}/acts/new")).await;
    assert_eq!(form.status.as_u16(), 200);
    post_ok(
        &mut a,
        &format!("{at}/acts/new"),
        &[
            ("csrf", &csrf),
            ("act_type", "arrest"),
            ("date", "2024-05-02"),
            ("description", "Arrested at school"),
            ("victim_id", &r.actor),
            ("provision_1", &r.provision),
            ("role_1", "charged_under"),
        ],
    )
    .await;
    let view = a.get(&at).await;
    assert!(view.body.contains("Arrested at school"));
    assert!(
        view.body.contains(&format!("L{}{} 41", r.org, r.case)),
        "provision label"
    );
    assert!(
        view.body.contains(&r.secrets[1]),
        "the victim's identity, for its analyst"
    );
    let law = a.get(&format!("/registry/laws/{}", r.law)).await;
    assert!(
        law.body.contains(&format!("/registry/incidents/{id}")),
        "the chart links the act's incident"
    );

    // Editing the act replaces its provisions.
    let ds = f.server.store.registry_load().await.unwrap();
    let act = ds
        .acts
        .iter()
        .find(|x| x.incident_id == id)
        .unwrap()
        .id
        .clone();
    let other = f
        .recs
        .iter()
        .find(|r| r.org == "alpha" && r.case == "coalition")
        .unwrap();
    let form = a.get(&format!("/registry/acts/{act}/edit")).await;
    assert_eq!(form.status.as_u16(), 200);
    assert!(
        form.body
            .contains(&format!("value=\"{}\" selected", r.provision)),
        "the current provision is preselected"
    );
    assert!(form.body.contains("Arrested at school"));
    let back = post_ok(
        &mut a,
        &format!("/registry/acts/{act}"),
        &[
            ("csrf", &csrf),
            ("act_type", "charge"),
            ("date", "2024-05-03"),
            ("description", "Charged at the provincial court"),
            ("provision_1", &other.provision),
            ("role_1", "charged_under"),
            ("perpetrator_1", &other.actor),
            ("ptype_1", "police"),
            ("degree_1", "ordered"),
        ],
    )
    .await;
    assert!(back.starts_with(&at));
    let ds = f.server.store.registry_load().await.unwrap();
    let invs: Vec<&str> = ds
        .invocations
        .iter()
        .filter(|i| i.act_id == act)
        .map(|i| i.provision_id.as_str())
        .collect();
    assert_eq!(
        invs,
        [other.provision.as_str()],
        "the old invocation is gone"
    );
    let perps: Vec<(&str, &str, &str)> = ds
        .involvements
        .iter()
        .filter(|i| i.act_id == act)
        .map(|i| {
            (
                i.actor_id.as_str(),
                i.perpetrator_type.as_str(),
                i.degree.as_str(),
            )
        })
        .collect();
    assert_eq!(
        perps,
        [(other.actor.as_str(), "police", "ordered")],
        "the perpetrator"
    );
    let form = a.get(&format!("/registry/acts/{act}/edit")).await;
    assert!(
        form.body
            .contains(&format!("value=\"{}\" selected", other.actor)),
        "the perpetrator is preselected"
    );
    let inc = ds.incidents.iter().find(|i| i.meta.id == id).unwrap();
    assert_eq!(
        inc.meta.versions.last().unwrap().change_summary,
        format!("act {act} edited")
    );
    let view = a.get(&at).await;
    assert!(
        view.body.contains("Charged at the provincial court")
            && !view.body.contains("Arrested at school")
    );

    // Workflow: the analyst submits for review; only an admin verifies and publishes.
    post_ok(
        &mut a,
        &format!("{at}/status"),
        &[("csrf", &csrf), ("to", "in_review")],
    )
    .await;
    let refused = a
        .post_form(
            &format!("{at}/status"),
            &[("csrf", &csrf), ("to", "verified")],
        )
        .await;
    assert_eq!(refused.status.as_u16(), 403);
    let mut anon = Who {
        role: None,
        org: None,
    }
    .client(&f.server)
    .await;
    assert_eq!(
        anon.get(&at).await.status.as_u16(),
        404,
        "a draft is not public"
    );
    let mut m = admin.client(&f.server).await;
    let page = m.get(&at).await;
    assert!(
        page.body.contains("name=\"visibility\""),
        "admins manage visibility"
    );
    assert!(
        !a.get(&at).await.body.contains("name=\"visibility\""),
        "analysts do not"
    );
    let csrf_m = Client::csrf(&page.body);
    post_ok(
        &mut m,
        &format!("{at}/status"),
        &[("csrf", &csrf_m), ("to", "verified")],
    )
    .await;
    post_ok(
        &mut m,
        &format!("{at}/status"),
        &[
            ("csrf", &csrf_m),
            ("to", "published"),
            ("visibility", "published"),
        ],
    )
    .await;
    let public = anon.get(&format!("{at}?lang=km")).await;
    assert_eq!(public.status.as_u16(), 200, "published");
    assert!(public.body.contains("សិស្សត្រូវបានចាប់ខ្លួន"), "Khmer title");
    assert!(!public.body.contains("SECRETFORMPLACE"), "never public");
    assert!(
        !public.body.contains("analyst_alpha"),
        "documenters' names are withheld outside the organisation"
    );
    assert!(
        public.body.contains("មិនបង្ហាញ"),
        "shown as withheld, in Khmer"
    );
    let list = anon.get("/registry/incidents").await;
    assert!(list.body.contains(&id));
    let inc = f
        .server
        .store
        .registry_load()
        .await
        .unwrap()
        .incidents
        .into_iter()
        .find(|i| i.meta.id == id)
        .unwrap();
    let statuses: Vec<String> = inc
        .meta
        .status_history
        .iter()
        .map(|s| format!("{}>{} by {}", s.from, s.to, s.by))
        .collect();
    assert_eq!(
        statuses,
        [
            "draft>in_review by analyst_alpha",
            "in_review>verified by admin_alpha",
            "verified>published by admin_alpha"
        ]
    );
    assert!(f.server.store.registry_verify(None).await.unwrap().is_ok());
}

#[tokio::test]
async fn an_uploaded_file_is_stored_by_its_hash_and_its_custody_chain_begins() {
    let f = fx::start(true).await;
    let analyst = Who {
        role: Some(Role::Analyst),
        org: Some("alpha"),
    };
    let r = f
        .recs
        .iter()
        .find(|r| r.org == "alpha" && r.case == "private")
        .unwrap();
    let mut a = analyst.client(&f.server).await;
    let page = a
        .get(&format!("/registry/evidence/new?link={}", r.incident))
        .await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(page.body.contains("multipart/form-data"));
    let csrf = Client::csrf(&page.body);
    let bytes: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let (ct, body) = fx::multipart(
        &[
            ("csrf", &csrf),
            ("linked_ids", &r.incident),
            ("method", "screenshot"),
            ("provenance", "SECRETUPLOADPROV"),
            ("acquired_from", "https://www.facebook.com/post"),
        ],
        ("post.png", "image/png", &bytes),
    );
    let out = send(
        &a,
        Method::POST,
        "/registry/evidence?lang=km",
        &[("content-type", &ct)],
        body,
    )
    .await;
    assert_eq!(out.status, 201, "{}", out.body);
    let sha = canary_registry::sha256_hex(&bytes);
    assert!(out.body.contains(&sha), "the SHA-256 is shown at once");
    assert!(out.body.contains("បានរក្សាទុករួចហើយ"), "in Khmer");
    assert!(!out.body.contains("SECRETUPLOADPROV"));
    let object = f
        .evidence_dir
        .path()
        .join("objects")
        .join(&sha[..2])
        .join(&sha[2..]);
    assert_eq!(
        std::fs::read(&object).unwrap(),
        bytes,
        "content-addressed original"
    );

    let ds = f.server.store.registry_load().await.unwrap();
    let ev = ds.evidence.iter().find(|e| e.sha256 == sha).unwrap();
    assert_eq!(ev.provenance.as_ref().unwrap().state(), "sealed");
    assert_eq!(ev.linked_ids, vec![r.incident.clone()]);
    let chain = f.server.store.registry_custody(&ev.meta.id).await.unwrap();
    assert_eq!(chain.len(), 1);
    assert_eq!(chain[0].action, canary_registry::CustodyAction::Acquired);
    assert!(chain[0].details.contains(&sha));

    // The evidence page: provenance for its analyst, withheld from a viewer.
    let view = a.get(&format!("/registry/evidence/{}", ev.meta.id)).await;
    assert!(view.body.contains("SECRETUPLOADPROV") && view.body.contains(&sha));
    let mut v = Who {
        role: Some(Role::Viewer),
        org: Some("alpha"),
    }
    .client(&f.server)
    .await;
    let view = v.get(&format!("/registry/evidence/{}", ev.meta.id)).await;
    assert_eq!(view.status.as_u16(), 200);
    assert!(!view.body.contains("SECRETUPLOADPROV") && view.body.contains(&sha));
    let incident = a.get(&format!("/registry/incidents/{}", r.incident)).await;
    assert!(
        incident.body.contains(&sha),
        "listed with the incident it documents"
    );

    // Downloading the original re-hashes it and is recorded in its chain.
    let file_path = format!("/registry/evidence/{}/file", ev.meta.id);
    let out = send(&a, Method::GET, &file_path, &[], Vec::new()).await;
    assert_eq!(out.status, 200);
    assert_eq!(out.headers["content-type"], "application/octet-stream");
    assert_eq!(out.headers["x-evidence-sha256"], sha.as_str());
    let cookie = a
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let downloaded = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{}{file_path}", f.server.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(downloaded.as_ref(), bytes.as_slice());
    let chain = f.server.store.registry_custody(&ev.meta.id).await.unwrap();
    assert_eq!(chain.len(), 3, "acquired, then two downloads");
    assert!(chain[1..].iter().all(|e| {
        e.action == canary_registry::CustodyAction::Exported && e.actor == "analyst_alpha"
    }));
    assert!(canary_registry::verify_chain(&chain).is_ok());
    assert_eq!(
        send(&v, Method::GET, &file_path, &[], Vec::new())
            .await
            .status,
        403,
        "viewers see the hash, not the file"
    );

    // Bad uploads are refused with a reason and store nothing.
    let before = f.server.store.registry_load().await.unwrap().evidence.len();
    let cases: Vec<(&str, String, Vec<u8>, u16)> = vec![
        ("not multipart", "text/plain".into(), b"hello".to_vec(), 400),
        (
            "no file part",
            "multipart/form-data; boundary=b".into(),
            format!(
                "--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--b--\r\n"
            )
            .into_bytes(),
            400,
        ),
        (
            "an empty file",
            fx::multipart(
                &[("csrf", &csrf)],
                ("e.bin", "application/octet-stream", b""),
            )
            .0,
            fx::multipart(
                &[("csrf", &csrf)],
                ("e.bin", "application/octet-stream", b""),
            )
            .1,
            400,
        ),
        (
            "linked to an unknown incident",
            fx::multipart(
                &[("csrf", &csrf), ("linked_ids", "inc_nowhere")],
                ("x.txt", "text/plain", b"x"),
            )
            .0,
            fx::multipart(
                &[("csrf", &csrf), ("linked_ids", "inc_nowhere")],
                ("x.txt", "text/plain", b"x"),
            )
            .1,
            400,
        ),
        (
            "linked to another organisation's private incident",
            fx::multipart(
                &[("csrf", &csrf), ("linked_ids", "inc_beta_private")],
                ("x.txt", "text/plain", b"x"),
            )
            .0,
            fx::multipart(
                &[("csrf", &csrf), ("linked_ids", "inc_beta_private")],
                ("x.txt", "text/plain", b"x"),
            )
            .1,
            400,
        ),
        (
            "without the CSRF token",
            fx::multipart(&[], ("x.txt", "text/plain", b"x")).0,
            fx::multipart(&[], ("x.txt", "text/plain", b"x")).1,
            403,
        ),
    ];
    for (why, ct, body, status) in cases {
        let out = send(
            &a,
            Method::POST,
            "/registry/evidence",
            &[("content-type", &ct)],
            body,
        )
        .await;
        assert_eq!(out.status, status, "{why}: {}", out.body);
        assert!(
            !out.body.contains("inc_beta_private") || why.contains("another"),
            "{why}"
        );
    }
    // The form's bounds (axum's multipart reader): parts, bytes per text
    // field and per file, well-formedness; each refusal says why.
    let many: Vec<(String, String)> = (0..16).map(|i| (format!("x{i}"), "v".into())).collect();
    let mut many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    many.push(("csrf", &csrf));
    let long_method = "m".repeat(64 * 1024 + 1);
    let big_file = vec![7u8; 32 * 1024 * 1024 + 1];
    let ct = fx::multipart(&[], ("x.txt", "text/plain", b"x")).0;
    let bounded: Vec<(&str, String, Vec<u8>, &str)> = vec![
        (
            "more parts than the form has",
            ct.clone(),
            fx::multipart(&many, ("x.txt", "text/plain", b"x")).1,
            "more than 16 parts",
        ),
        (
            "a text field over 64 KiB",
            ct.clone(),
            fx::multipart(
                &[("csrf", &csrf), ("method", &long_method)],
                ("x.txt", "text/plain", b"x"),
            )
            .1,
            "method: at most 65536 bytes",
        ),
        (
            "a file over 32 MiB",
            ct.clone(),
            fx::multipart(&[("csrf", &csrf)], ("big.bin", "application/octet-stream", &big_file)).1,
            "file: at most 33554432 bytes",
        ),
        (
            "a part without a name",
            ct.clone(),
            b"--canarytestboundary7d9f\r\nContent-Disposition: form-data\r\n\r\nv\r\n--canarytestboundary7d9f--\r\n".to_vec(),
            "multipart",
        ),
        (
            "a part never closed",
            ct.clone(),
            b"--canarytestboundary7d9f\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc".to_vec(),
            "multipart",
        ),
    ];
    for (why, ct, body, reason) in bounded {
        let out = send(
            &a,
            Method::POST,
            "/registry/evidence?lang=en",
            &[("content-type", &ct)],
            body,
        )
        .await;
        assert_eq!(out.status, 400, "{why}: {}", out.body);
        assert!(out.body.contains(reason), "{why}: {}", out.body);
    }
    assert_eq!(
        f.server.store.registry_load().await.unwrap().evidence.len(),
        before
    );

    // A file that looks like a boundary inside is kept byte for byte.
    let tricky = b"\x00\r\n--canarytestboundary7d9\xff\r\n\r\n--".to_vec();
    let (ct, body) = fx::multipart(
        &[("csrf", &csrf)],
        ("t.bin", "application/octet-stream", &tricky),
    );
    let out = send(
        &a,
        Method::POST,
        "/registry/evidence",
        &[("content-type", &ct)],
        body,
    )
    .await;
    assert_eq!(out.status, 201, "{}", out.body);
    let sha = canary_registry::sha256_hex(&tricky);
    let object = f
        .evidence_dir
        .path()
        .join("objects")
        .join(&sha[..2])
        .join(&sha[2..]);
    assert_eq!(std::fs::read(&object).unwrap(), tricky);
}

#[tokio::test]
async fn uploads_are_refused_when_the_server_keeps_no_evidence() {
    let server = start_with(false, |_| {}).await;
    canary_web::accounts::create_user(
        &server.store,
        "analyst_x",
        common::PASSWORD,
        Role::Analyst,
        Some("org_x"),
        &canary_web::accounts::PasswordParams::insecure_for_tests(),
    )
    .await
    .unwrap();
    let mut c = Client::new(&server);
    c.login("analyst_x", common::PASSWORD).await;
    let page = c.get("/registry/evidence/new").await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(
        !page.body.contains("type=\"file\""),
        "no form when uploads are off"
    );
    let csrf = Client::csrf(&c.get("/registry/incidents/new").await.body);
    let (ct, body) = fx::multipart(&[("csrf", &csrf)], ("x.txt", "text/plain", b"x"));
    let out = send(
        &c,
        Method::POST,
        "/registry/evidence",
        &[("content-type", &ct)],
        body,
    )
    .await;
    assert_eq!(out.status, 503, "{}", out.body);
}

#[tokio::test]
async fn the_incident_list_and_the_api_come_in_bounded_pages() {
    let server = start_with(false, |_| {}).await;
    let mut ds = fx::dataset(&[]);
    let p =
        canary_registry::Principal::user("admin_alpha", "org_alpha", canary_registry::Role::Admin);
    let at = time::macros::datetime!(2024-01-01 00:00 UTC);
    for n in 0..205 {
        let mut meta = canary_registry::RecordMeta::new(
            canary_registry::EntityType::Incident,
            format!("inc_n{n:03}"),
            &p,
            at,
        )
        .unwrap();
        for s in [
            canary_registry::Status::InReview,
            canary_registry::Status::Verified,
            canary_registry::Status::Published,
        ] {
            meta.transition(s, &p, at).unwrap();
        }
        meta.set_visibility(canary_registry::Visibility::Published, &p, at)
            .unwrap();
        ds.incidents.push(canary_registry::Incident {
            meta,
            title: format!("Incident number {n:03}"),
            title_km: None,
            summary: String::new(),
            start: canary_registry::FuzzyDate::exact(2020, 1, 1).unwrap(),
            end: None,
            place: canary_registry::Place::country("KH"),
            rights_affected: vec![],
            tags: vec![],
            verified: true,
            unverified_note: None,
        });
    }
    server.store.registry_import(&ds, "test", at).await.unwrap();
    let mut c = Client::new(&server);
    let first = c.get("/registry/incidents?status=published").await;
    assert_eq!(
        first
            .body
            .matches("href=\"/registry/incidents/inc_n")
            .count(),
        200
    );
    assert!(first.body.contains("205"), "the total");
    assert!(
        first.body.contains("status=published&amp;page=2"),
        "the next page keeps the filter"
    );
    let second = c.get("/registry/incidents?status=published&page=2").await;
    assert_eq!(
        second
            .body
            .matches("href=\"/registry/incidents/inc_n")
            .count(),
        5
    );
    assert!(second.body.contains("page=1") && !second.body.contains("page=3"));
    assert_eq!(
        c.get("/registry/incidents?page=0").await.status.as_u16(),
        400
    );

    let api = c.get("/api/v1/registry/incidents?limit=7&offset=200").await;
    assert_eq!(api.headers["x-total-count"], "205");
    let v: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 5);
    for bad in ["limit=0", "limit=5001", "offset=-1", "limit=x"] {
        let r = c.get(&format!("/api/v1/registry/incidents?{bad}")).await;
        assert_eq!(r.status.as_u16(), 400, "{bad}");
    }
}
