//! The registry's entry forms beyond incidents and acts — sources and
//! citations, laws and provisions, UN recommendations, benchmarks and
//! assessments, actors — as analysts use them, on the real server over
//! the two-organisation fixture: who may open and post them, CSRF, what a
//! valid post stores (one transaction, audited, sensitive fields sealed),
//! what an invalid post shows, stale edits, escaping, Khmer, and that
//! outsiders do not see what was entered.

mod common;
mod registry_fixture;

use canary_registry::{Dataset, SensitiveField};
use canary_web::accounts::Role;
use common::{Client, Resp, TestServer};
use registry_fixture::{self as fx, Who};

/// One entry form.
struct Case {
    name: &'static str,
    /// Where the empty form is (GET) and posted (POST).
    new_path: String,
    /// A valid submission; `MARK` is replaced by a distinctive marker.
    valid: Vec<(&'static str, &'static str)>,
    /// One field made invalid, and the English reason expected next to it.
    bad: (&'static str, &'static str),
    reason: &'static str,
    /// The edit form of a record the analyst may write (POST drops `/edit`).
    edit_path: Option<String>,
}

fn analyst() -> Who {
    Who {
        role: Some(Role::Analyst),
        org: Some("alpha"),
    }
}

/// alpha's draft, private record set: alpha's analysts may write it.
fn own() -> fx::Rec {
    fx::Rec::new(
        "alpha",
        "private",
        canary_registry::Visibility::Private,
        canary_registry::Status::Draft,
    )
}

fn cases() -> Vec<Case> {
    let r = own();
    vec![
        Case {
            name: "source",
            new_path: "/registry/sources/new".into(),
            valid: vec![
                ("publication", "MARK"),
                ("title", "Court hears the case"),
                ("url", "https://example.org/news/1"),
                ("published", "2024-05"),
                ("language", "km"),
                ("connection", "media"),
                ("reliability", "high"),
            ],
            bad: ("url", "javascript:alert(1)"),
            reason: "Not a web address",
            edit_path: Some(format!("/registry/sources/{}/edit", r.source)),
        },
        Case {
            name: "source cited on an incident",
            new_path: format!("/registry/sources/new?cite={}", r.incident),
            valid: vec![
                ("publication", "MARK"),
                ("language", "en"),
                ("connection", "ngo_report"),
                ("cite_note", "the arrest date"),
            ],
            bad: ("published", "yesterday"),
            reason: "Not a date",
            edit_path: None,
        },
        Case {
            name: "citation of a recorded source on an act",
            new_path: format!("/registry/citations/new?record={}", r.act),
            valid: vec![("source", "src_alpha_coalition"), ("note", "MARK")],
            bad: ("source", "src_nobody_has_this"),
            reason: "Not a record you can see",
            edit_path: None,
        },
        Case {
            name: "law",
            new_path: "/registry/laws/new".into(),
            valid: vec![
                ("code", "NEWCODE"),
                ("name_en", "MARK"),
                ("name_km", "ច្បាប់ស្តីពីទូរគមនាគមន៍"),
                ("instrument_type", "law"),
                ("legal_status", "in_force"),
                ("adopted", "2015-12-17"),
            ],
            bad: ("adopted", "17/12/2015"),
            reason: "Not a date",
            edit_path: Some(format!("/registry/laws/{}/edit", r.law)),
        },
        Case {
            name: "provision",
            new_path: format!("/registry/laws/{}/provisions/new", r.law),
            valid: vec![
                ("article", "80"),
                ("paraphrase_en", "MARK"),
                ("paraphrase_km", "ការពិពណ៌នាជាភាសាខ្មែរ"),
                ("legal_status", "in_force"),
                ("rights_restricted", "iccpr_19"),
                ("rights_restricted", "iccpr_17"),
            ],
            bad: ("article", "41"),
            reason: "Already recorded",
            edit_path: Some(format!("/registry/provisions/{}/edit", r.provision)),
        },
        Case {
            name: "recommendation",
            new_path: "/registry/recommendations/new".into(),
            valid: vec![
                ("mechanism", "upr"),
                ("document_symbol", "A/HRC/41/17"),
                ("paragraph", "110.63"),
                ("cycle", "3"),
                ("recommending_states", "Norway, Sweden"),
                ("text", "MARK"),
                ("response", "supported"),
            ],
            bad: ("cycle", "three"),
            reason: "Not a valid number",
            edit_path: Some(format!(
                "/registry/recommendations/{}/edit",
                r.recommendation
            )),
        },
        Case {
            name: "benchmark",
            new_path: "/registry/benchmarks/new".into(),
            valid: vec![
                ("source_document", "A/HRC/48/79"),
                ("text", "MARK"),
                ("theme", "MARK"),
            ],
            bad: ("text", "   "),
            reason: "Required",
            edit_path: Some(format!("/registry/benchmarks/{}/edit", r.benchmark)),
        },
        Case {
            name: "assessment",
            new_path: format!("/registry/recommendations/{}/assess", r.recommendation),
            valid: vec![
                ("date", "2024-06"),
                ("status", "partly_implemented"),
                ("note", "MARK"),
                ("incidents", "inc_alpha_private"),
                ("sources", "src_alpha_private"),
            ],
            bad: ("status", "done"),
            reason: "Choose one of the listed options",
            edit_path: None,
        },
        Case {
            name: "actor",
            new_path: "/registry/actors/new".into(),
            valid: vec![
                ("kind", "person"),
                ("name", "MARK"),
                ("characteristics", "journalist"),
            ],
            bad: ("asn", "-1"),
            reason: "Not a valid number",
            edit_path: Some(format!("/registry/actors/{}/edit", r.actor)),
        },
    ]
}

/// The form's fields with `MARK` replaced and the form's hidden fields.
fn filled(
    fields: &[(&str, &str)],
    marker: &str,
    csrf: &str,
    version: &str,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.replace("MARK", marker)))
        .collect();
    out.push(("csrf".into(), csrf.into()));
    out.push(("version".into(), version.into()));
    out
}

async fn post(c: &mut Client, path: &str, form: &[(String, String)]) -> Resp {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    c.post_form(path, &pairs).await
}

/// The CSRF token and version of the form at `path`.
async fn open(c: &mut Client, path: &str) -> (String, String) {
    let r = c.get(path).await;
    assert_eq!(r.status.as_u16(), 200, "GET {path}: {}", r.body);
    let marker = "name=\"version\" value=\"";
    let at = r.body.find(marker).expect("a version field") + marker.len();
    let version: String = r.body[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (Client::csrf(&r.body), version)
}

/// Everything a write could change: the registry and the audit log.
async fn snapshot(server: &TestServer) -> String {
    let ds = server.store.registry_load().await.unwrap();
    let audit = server.store.registry_audit(0, 10_000).await.unwrap();
    format!("{}{audit:?}", serde_json::to_string(&ds).unwrap())
}

async fn load(server: &TestServer) -> Dataset {
    server.store.registry_load().await.unwrap()
}

fn location(r: &Resp) -> String {
    r.headers
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn every_entry_form_opens_for_analysts_and_admins_only() {
    let f = fx::start(true).await;
    let mut paths: Vec<String> = Vec::new();
    for c in cases() {
        paths.push(c.new_path.clone());
        paths.extend(c.edit_path.clone());
    }
    for who in Who::all() {
        // beta's members are outsiders to alpha's private records
        if who.org == Some("beta") {
            continue;
        }
        let mut c = who.client(&f.server).await;
        for path in &paths {
            let r = c.get(path).await;
            let want = match who.role {
                None => 401,
                Some(Role::Viewer) => 403,
                Some(_) => 200,
            };
            assert_eq!(r.status.as_u16(), want, "{} GET {path}", who.label());
            if want == 200 {
                assert!(r.body.contains("name=\"csrf\""), "{path}: a CSRF field");
            }
        }
    }
    // An analyst of another organisation: alpha's private records do not
    // exist for them, its coalition records are not theirs to edit.
    let beta = Who {
        role: Some(Role::Analyst),
        org: Some("beta"),
    };
    let mut c = beta.client(&f.server).await;
    let coalition = fx::Rec::new(
        "alpha",
        "coalition",
        canary_registry::Visibility::Coalition,
        canary_registry::Status::InReview,
    );
    let table = [
        (format!("/registry/sources/{}/edit", own().source), 404),
        (format!("/registry/laws/{}/edit", own().law), 404),
        (format!("/registry/laws/{}/provisions/new", own().law), 404),
        (
            format!("/registry/sources/new?cite={}", own().incident),
            404,
        ),
        (format!("/registry/sources/{}/edit", coalition.source), 403),
        (format!("/registry/actors/{}/edit", coalition.actor), 403),
        (
            format!("/registry/citations/new?record={}", coalition.incident),
            403,
        ),
        // adding a provision to a law one can read is open to any analyst
        (
            format!("/registry/laws/{}/provisions/new", coalition.law),
            200,
        ),
        (
            format!("/registry/benchmarks/{}/assess", coalition.benchmark),
            200,
        ),
    ];
    for (path, want) in table {
        assert_eq!(
            c.get(&path).await.status.as_u16(),
            want,
            "analyst_beta {path}"
        );
    }
}

#[tokio::test]
async fn posts_without_the_right_csrf_token_are_refused_and_change_nothing() {
    let f = fx::start(true).await;
    let before = snapshot(&f.server).await;
    for who in [
        analyst(),
        Who {
            role: Some(Role::Viewer),
            org: Some("alpha"),
        },
        Who {
            role: None,
            org: None,
        },
    ] {
        let mut c = who.client(&f.server).await;
        let _ = c.get("/registry/laws").await;
        for case in cases() {
            let mut paths = vec![case.new_path.clone()];
            paths.extend(
                case.edit_path
                    .map(|e| e.trim_end_matches("/edit").to_owned()),
            );
            for path in paths {
                for token in ["", "0".repeat(64).as_str()] {
                    let form = filled(&case.valid, "CSRFMARK", token, "1");
                    let r = post(&mut c, &path, &form).await;
                    assert_eq!(
                        r.status.as_u16(),
                        403,
                        "{} {path} token {token:?}",
                        who.label()
                    );
                }
            }
        }
    }
    assert!(before == snapshot(&f.server).await, "the store changed");
    // A viewer with a good token is refused too.
    let mut c = Who {
        role: Some(Role::Viewer),
        org: Some("alpha"),
    }
    .client(&f.server)
    .await;
    let page = c.get("/registry/laws").await;
    let token = Client::csrf(&page.body);
    let form = filled(&cases()[3].valid, "VIEWERMARK", &token, "0");
    let r = post(&mut c, "/registry/laws/new", &form).await;
    assert_eq!(r.status.as_u16(), 403);
    assert!(before == snapshot(&f.server).await, "the store changed");
}

#[tokio::test]
async fn valid_posts_store_the_record_with_its_audit_entry_and_redirect() {
    let f = fx::start(true).await;
    let mut c = analyst().client(&f.server).await;
    for (n, case) in cases().into_iter().enumerate() {
        let marker = format!("NEWMARK{n}X");
        let audit_before = f
            .server
            .store
            .registry_audit(0, 10_000)
            .await
            .unwrap()
            .len();
        assert!(!serde_json::to_string(&load(&f.server).await)
            .unwrap()
            .contains(&marker));
        let (csrf, version) = open(&mut c, &case.new_path).await;
        let r = post(
            &mut c,
            &case.new_path,
            &filled(&case.valid, &marker, &csrf, &version),
        )
        .await;
        assert_eq!(r.status.as_u16(), 303, "{}: {}", case.name, r.body);
        let to = location(&r);
        assert!(to.starts_with("/registry/"), "{}: redirect {to}", case.name);
        let ds = load(&f.server).await;
        assert!(
            serde_json::to_string(&ds).unwrap().contains(&marker),
            "{}: stored",
            case.name
        );
        let audit = f.server.store.registry_audit(0, 10_000).await.unwrap();
        assert_eq!(
            audit.len(),
            audit_before + 1,
            "{}: one audit entry",
            case.name
        );
        assert_eq!(audit.last().unwrap().actor, "analyst_alpha");
        // The page it redirects to shows what was entered.
        let page = c.get(&to).await;
        assert_eq!(page.status.as_u16(), 200, "{}: {to}", case.name);
        assert!(page.body.contains(&marker), "{}: {to} shows it", case.name);
    }
    // What the fields became, typed.
    let ds = load(&f.server).await;
    let r = own();
    let src = ds
        .sources
        .iter()
        .find(|s| s.publication == "NEWMARK0X")
        .unwrap();
    assert_eq!(src.meta.org, "org_alpha");
    assert_eq!(src.meta.version(), 1);
    assert_eq!(src.url.as_deref(), Some("https://example.org/news/1"));
    assert_eq!(src.published.unwrap().to_string(), "2024-05");
    assert_eq!(src.language, "km");
    assert_eq!(src.reliability, canary_registry::Reliability::High);
    let cited = ds
        .sources
        .iter()
        .find(|s| s.publication == "NEWMARK1X")
        .unwrap();
    let citation = ds
        .citations
        .iter()
        .find(|c| c.source_id == cited.meta.id)
        .expect("cited in the same write");
    assert_eq!(citation.record_id, r.incident);
    assert_eq!(citation.note.as_deref(), Some("the arrest date"));
    assert!(ds
        .citations
        .iter()
        .any(|c| c.record_id == r.act && c.note.as_deref() == Some("NEWMARK2X")));
    let inc = ds
        .incidents
        .iter()
        .find(|i| i.meta.id == r.incident)
        .unwrap();
    let act_incident_versions = inc.meta.versions.len();
    assert!(
        act_incident_versions >= 3,
        "each citation is a new version of its incident"
    );
    let law = ds.laws.iter().find(|l| l.name_en == "NEWMARK3X").unwrap();
    assert_eq!(law.code, "NEWCODE");
    assert_eq!(law.name_km.as_deref(), Some("ច្បាប់ស្តីពីទូរគមនាគមន៍"));
    let prov = ds
        .provisions
        .iter()
        .find(|p| p.paraphrase_en == "NEWMARK4X")
        .unwrap();
    assert_eq!(prov.law_id, r.law);
    assert_eq!(prov.paraphrase_km.as_deref(), Some("ការពិពណ៌នាជាភាសាខ្មែរ"));
    assert_eq!(
        prov.rights_restricted,
        [
            canary_registry::Right::Iccpr19,
            canary_registry::Right::Iccpr17
        ]
    );
    let rec = ds
        .recommendations
        .iter()
        .find(|x| x.text == "NEWMARK5X")
        .unwrap();
    assert_eq!(rec.cycle, Some(3));
    assert_eq!(rec.recommending_states, ["Norway", "Sweden"]);
    assert_eq!(rec.response, Some(canary_registry::RecResponse::Supported));
    let asm = ds
        .assessments
        .iter()
        .find(|a| a.note == "NEWMARK7X")
        .unwrap();
    assert_eq!(asm.target_id, r.recommendation);
    assert_eq!(asm.assessed_by, "org_alpha");
    assert_eq!(asm.status, canary_registry::Implementation::Partly);
    assert_eq!(asm.evidence_ids, [r.incident.clone(), r.source.clone()]);
    let actor = ds.actors.iter().find(|a| a.name == "NEWMARK8X").unwrap();
    assert_eq!(
        actor.characteristics,
        [canary_registry::VictimCharacteristic::Journalist]
    );
    // The tracker shows the status over time: the new assessment as the
    // latest, the fixture's earlier one under it.
    let page = c.get("/registry/recommendations").await.body;
    let row = &page[page.find(&format!("id=\"{}\"", r.recommendation)).unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    let latest = row.find("NEWMARK7X").expect("the new assessment");
    let earlier = row
        .find(&format!("Assessed {}", r.title_marker))
        .expect("the earlier assessment");
    assert!(latest < earlier && row.contains("<details class=\"assessments\">"));
    // The registry is still valid, and the store verifies.
    ds.validate().unwrap();
    assert!(f.server.store.registry_verify(None).await.unwrap().is_ok());
}

#[tokio::test]
async fn invalid_posts_come_back_with_the_reason_next_to_the_field_and_the_values_kept() {
    let f = fx::start(true).await;
    let mut c = analyst().client(&f.server).await;
    let before = snapshot(&f.server).await;
    for case in cases() {
        let (csrf, version) = open(&mut c, &case.new_path).await;
        let mut form = filled(&case.valid, "KEPTMARK", &csrf, &version);
        form.retain(|(k, _)| k != case.bad.0);
        form.push((case.bad.0.into(), case.bad.1.into()));
        let r = post(&mut c, &case.new_path, &form).await;
        assert_eq!(r.status.as_u16(), 422, "{}: {}", case.name, r.body);
        let field_error = format!("id=\"{}-error\"", case.bad.0);
        let at = r
            .body
            .find(&field_error)
            .unwrap_or_else(|| panic!("{}: no error next to {}", case.name, case.bad.0));
        assert!(
            r.body[at..].contains(case.reason),
            "{}: the reason {:?}",
            case.name,
            case.reason
        );
        assert!(r.body.contains("Nothing was saved"), "{}", case.name);
        assert!(r.body.contains("KEPTMARK"), "{}: values kept", case.name);
        assert!(r.body.contains("aria-invalid=\"true\""), "{}", case.name);
    }
    assert!(before == snapshot(&f.server).await, "nothing stored");
}

#[tokio::test]
async fn an_edit_made_on_a_stale_version_is_refused_with_a_clear_message() {
    let f = fx::start(true).await;
    let mut first = analyst().client(&f.server).await;
    let mut second = Who {
        role: Some(Role::Admin),
        org: Some("alpha"),
    }
    .client(&f.server)
    .await;
    for case in cases() {
        let Some(edit) = case.edit_path.clone() else {
            continue;
        };
        let target = edit.trim_end_matches("/edit").to_owned();
        let (csrf1, v1) = open(&mut first, &edit).await;
        let (csrf2, v2) = open(&mut second, &edit).await;
        assert_eq!(v1, v2);
        let mut valid = case.valid.clone();
        // keep the provision's article its own
        if case.name == "provision" {
            valid.retain(|(k, _)| *k != "article");
            valid.push(("article", "41"));
        }
        let r = post(
            &mut second,
            &target,
            &filled(&valid, "FIRSTSAVE", &csrf2, &v2),
        )
        .await;
        assert_eq!(r.status.as_u16(), 303, "{}: {}", case.name, r.body);
        let saved = snapshot(&f.server).await;
        let r = post(
            &mut first,
            &target,
            &filled(&valid, "LATESAVE", &csrf1, &v1),
        )
        .await;
        assert_eq!(r.status.as_u16(), 409, "{}: {}", case.name, r.body);
        assert!(
            r.body
                .contains("Someone saved this record after you opened it"),
            "{}",
            case.name
        );
        assert!(
            r.body.contains("LATESAVE"),
            "{}: what was typed is kept",
            case.name
        );
        assert!(
            saved == snapshot(&f.server).await,
            "{}: nothing written",
            case.name
        );
        // Reloading gives the new version, which saves.
        let (csrf1, v1) = open(&mut first, &edit).await;
        assert_eq!(v1.parse::<u32>().unwrap(), v2.parse::<u32>().unwrap() + 1);
        let r = post(
            &mut first,
            &target,
            &filled(&valid, "LATESAVE", &csrf1, &v1),
        )
        .await;
        assert_eq!(r.status.as_u16(), 303, "{}: {}", case.name, r.body);
    }
    // A citation on an incident edited meanwhile is refused the same way.
    let path = format!("/registry/citations/new?record={}", own().incident);
    let (csrf, v) = open(&mut first, &path).await;
    let (csrf2, v2) = open(&mut second, &path).await;
    let ok = post(
        &mut second,
        &path,
        &filled(&[("source", "src_alpha_coalition")], "", &csrf2, &v2),
    )
    .await;
    assert_eq!(ok.status.as_u16(), 303, "{}", ok.body);
    let late = post(
        &mut first,
        &path,
        &filled(&[("source", "src_alpha_pubdraft")], "", &csrf, &v),
    )
    .await;
    assert_eq!(late.status.as_u16(), 409, "{}", late.body);
    assert!(!load(&f.server)
        .await
        .citations
        .iter()
        .any(|c| c.source_id == "src_alpha_pubdraft" && c.record_id == own().incident));
}

#[tokio::test]
async fn hostile_text_comes_back_escaped_on_forms_and_pages() {
    let f = fx::start(true).await;
    let mut c = analyst().client(&f.server).await;
    let xss = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>";
    for case in cases() {
        let (csrf, version) = open(&mut c, &case.new_path).await;
        let mut form = filled(&case.valid, xss, &csrf, &version);
        // invalid, so the form comes back with what was typed
        form.retain(|(k, _)| k != case.bad.0);
        form.push((case.bad.0.into(), case.bad.1.into()));
        let r = post(&mut c, &case.new_path, &form).await;
        assert!(
            matches!(r.status.as_u16(), 422),
            "{}: {}",
            case.name,
            r.status
        );
        assert!(
            !r.body.contains("<script>alert"),
            "{}: raw script",
            case.name
        );
        assert!(!r.body.contains("<img src=x"), "{}: raw tag", case.name);
        assert!(r.body.contains("&lt;script&gt;"), "{}: escaped", case.name);
    }
    // Stored, then shown on the pages that list it.
    let (csrf, version) = open(&mut c, "/registry/sources/new").await;
    let form = filled(
        &[
            ("publication", "MARK"),
            ("title", "MARK"),
            ("language", "en"),
            ("connection", "media"),
        ],
        xss,
        &csrf,
        &version,
    );
    let r = post(&mut c, "/registry/sources/new", &form).await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.body);
    let page = c.get("/registry/sources").await;
    assert!(!page.body.contains("<script>alert"));
    assert!(page.body.contains("&lt;script&gt;"));
}

#[tokio::test]
async fn the_forms_speak_khmer() {
    let f = fx::start(true).await;
    let mut c = analyst().client(&f.server).await;
    let khmer = |s: &str| s.chars().any(|ch| ('\u{1780}'..='\u{17FF}').contains(&ch));
    for case in cases() {
        let sep = if case.new_path.contains('?') {
            '&'
        } else {
            '?'
        };
        let r = c.get(&format!("{}{sep}lang=km", case.new_path)).await;
        assert_eq!(r.status.as_u16(), 200, "{}", case.name);
        assert!(r.body.contains("<html lang=\"km\">"), "{}", case.name);
        if case.name == "source" {
            assert!(
                r.body.contains("name=\"language\" value=\"km\""),
                "a Khmer reader's source is in Khmer by default"
            );
        }
        assert!(r.body.contains("រក្សាទុក") || khmer(&r.body), "{}", case.name);
        // The language cookie is set: errors come back in Khmer.
        let (csrf, version) = open(&mut c, &case.new_path).await;
        let mut form = filled(&case.valid, "KM", &csrf, &version);
        form.retain(|(k, _)| k != case.bad.0);
        form.push((case.bad.0.into(), case.bad.1.into()));
        let r = post(&mut c, &case.new_path, &form).await;
        assert_eq!(r.status.as_u16(), 422, "{}", case.name);
        assert!(
            r.body.contains("មិនទាន់បានរក្សាទុកទេ"),
            "{}: the Khmer summary",
            case.name
        );
        let at = r
            .body
            .find(&format!("id=\"{}-error\"", case.bad.0))
            .unwrap();
        let reason: String = r.body[at..].chars().take(200).collect();
        assert!(
            khmer(&reason),
            "{}: a Khmer reason, got {reason}",
            case.name
        );
    }
    // Khmer names and paraphrases are shown to Khmer readers.
    let page = c
        .get(&format!("/registry/laws/{}?lang=km", own().law))
        .await;
    assert!(
        page.body.contains("បន្ថែមមាត្រា"),
        "the add-provision link in Khmer"
    );
}

#[tokio::test]
async fn sensitive_values_are_sealed_never_echoed_and_refused_without_keys() {
    let f = fx::start(true).await;
    let mut c = analyst().client(&f.server).await;
    let secret = "SECRETNEWSOURCEIDENTITY";
    let (csrf, version) = open(&mut c, "/registry/sources/new").await;
    let base = [
        ("publication", "interview"),
        ("language", "km"),
        ("connection", "witness"),
    ];
    // Invalid elsewhere: the secret is not put back into the page.
    let mut form = filled(&base, "", &csrf, &version);
    form.push(("identity".into(), secret.into()));
    form.push(("url".into(), "not a url".into()));
    let r = post(&mut c, "/registry/sources/new", &form).await;
    assert_eq!(r.status.as_u16(), 422);
    assert!(!r.body.contains(secret));
    assert!(r.body.contains("type it again"));
    // Valid: sealed at rest, opened for the owners' analysts only.
    let mut form = filled(&base, "", &csrf, &version);
    form.push(("identity".into(), secret.into()));
    form.push(("contact".into(), "SECRETNEWCONTACT".into()));
    form.push(("consent_to_publish".into(), "on".into()));
    let r = post(
        &mut c,
        &format!("/registry/sources/new?cite={}", own().incident),
        &form,
    )
    .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.body);
    let ds = load(&f.server).await;
    assert!(!serde_json::to_string(&ds).unwrap().contains(secret));
    let src = ds
        .sources
        .iter()
        .find(|s| {
            s.connection == canary_registry::SourceConnection::Witness && s.consent_to_publish
        })
        .unwrap();
    assert!(matches!(src.identity, Some(SensitiveField::Sealed(_))));
    assert!(matches!(src.contact, Some(SensitiveField::Sealed(_))));
    let page = c
        .get(&format!("/registry/incidents/{}", own().incident))
        .await;
    assert!(page.body.contains(secret), "the owner's analyst reads it");
    let mut viewer = Who {
        role: Some(Role::Viewer),
        org: Some("alpha"),
    }
    .client(&f.server)
    .await;
    let page = viewer
        .get(&format!("/registry/incidents/{}", own().incident))
        .await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(!page.body.contains(secret), "a viewer does not");
    // The edit form never shows it; leaving it empty keeps it.
    let edit = format!("/registry/sources/{}/edit", src.meta.id);
    let r = c.get(&edit).await;
    assert!(!r.body.contains(secret));
    let (csrf, version) = open(&mut c, &edit).await;
    let r = post(
        &mut c,
        &format!("/registry/sources/{}", src.meta.id),
        &filled(&base, "", &csrf, &version),
    )
    .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.body);
    let ds = load(&f.server).await;
    let kept = ds
        .sources
        .iter()
        .find(|s| s.meta.id == src.meta.id)
        .unwrap();
    assert_eq!(kept.identity, src.identity);

    // Without field keys a sensitive value is refused, nothing stored.
    let f = fx::start(false).await;
    let mut c = analyst().client(&f.server).await;
    let before = snapshot(&f.server).await;
    for path in ["/registry/sources/new", "/registry/actors/new"] {
        let (csrf, version) = open(&mut c, path).await;
        let mut form = filled(
            &[
                ("publication", "interview"),
                ("language", "km"),
                ("connection", "witness"),
                ("kind", "person"),
                ("name", "a student"),
            ],
            "",
            &csrf,
            &version,
        );
        form.push(("identity".into(), secret.into()));
        let r = post(&mut c, path, &form).await;
        assert_eq!(r.status.as_u16(), 422, "{path}");
        assert!(r.body.contains("no encryption key"), "{path}");
        assert!(!r.body.contains(secret));
    }
    assert!(before == snapshot(&f.server).await);
}

#[tokio::test]
async fn outsiders_do_not_see_what_was_entered() {
    let f = fx::start(true).await;
    let mut c = analyst().client(&f.server).await;
    let mut markers = Vec::new();
    for (n, case) in cases().into_iter().enumerate() {
        // the assessment and citation attach to records outsiders cannot see
        let marker = format!("PRIVATEMARK{n}X");
        let (csrf, version) = open(&mut c, &case.new_path).await;
        let r = post(
            &mut c,
            &case.new_path,
            &filled(&case.valid, &marker, &csrf, &version),
        )
        .await;
        assert_eq!(r.status.as_u16(), 303, "{}", case.name);
        markers.push(marker);
    }
    // An assessment of a published recommendation citing a private
    // incident: everyone sees the assessment, outsiders not the incident.
    let published = fx::Rec::new(
        "alpha",
        "published",
        canary_registry::Visibility::Published,
        canary_registry::Status::Published,
    );
    let path = format!(
        "/registry/recommendations/{}/assess",
        published.recommendation
    );
    // The form says, before anything is written, who will see it.
    let public_notice = "shown to everyone as soon as you save it";
    assert!(c.get(&path).await.body.contains(public_notice));
    let private_form = c
        .get(&format!(
            "/registry/recommendations/{}/assess",
            own().recommendation
        ))
        .await;
    assert!(!private_form.body.contains(public_notice));
    let (csrf, version) = open(&mut c, &path).await;
    let r = post(
        &mut c,
        &path,
        &filled(
            &[
                ("date", "2025-01-15"),
                ("status", "not_implemented"),
                ("note", "PUBLICASSESSMENT"),
                ("incidents", "inc_alpha_private"),
                ("other_ids", "evt_20250110_kh_block"),
            ],
            "",
            &csrf,
            &version,
        ),
    )
    .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.body);
    let pages = [
        "/registry/sources".to_owned(),
        "/registry/actors".to_owned(),
        "/registry/laws".to_owned(),
        format!("/registry/laws/{}", own().law),
        "/registry/recommendations".to_owned(),
        format!("/registry/incidents/{}", own().incident),
    ];
    for who in Who::all() {
        let mut c = who.client(&f.server).await;
        let own_org = who.org == Some("alpha");
        let mut seen = String::new();
        for p in &pages {
            let r = c.get(p).await;
            seen.push_str(&r.body);
        }
        for m in &markers {
            assert_eq!(
                seen.contains(m.as_str()),
                own_org,
                "{} and {m}",
                who.label()
            );
        }
        let recs = c.get("/registry/recommendations").await.body;
        assert!(recs.contains("PUBLICASSESSMENT"), "{}", who.label());
        assert!(recs.contains("evt_20250110_kh_block"), "{}", who.label());
        assert_eq!(
            recs.contains("inc_alpha_private"),
            own_org,
            "{}: the private incident cited",
            who.label()
        );
    }
}

#[tokio::test]
async fn entered_records_move_through_the_workflow_from_their_edit_page() {
    let f = fx::start(true).await;
    let mut analyst_c = analyst().client(&f.server).await;
    let (csrf, version) = open(&mut analyst_c, "/registry/laws/new").await;
    let r = post(
        &mut analyst_c,
        "/registry/laws/new",
        &filled(
            &[
                ("code", "WFLAW"),
                ("name_en", "WORKFLOWLAW"),
                ("instrument_type", "prakas"),
                ("legal_status", "draft"),
            ],
            "",
            &csrf,
            &version,
        ),
    )
    .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.body);
    let id = load(&f.server)
        .await
        .laws
        .iter()
        .find(|l| l.code == "WFLAW")
        .unwrap()
        .meta
        .id
        .clone();
    let status_path = format!("/registry/laws/{id}/status");
    let edit = analyst_c.get(&format!("/registry/laws/{id}/edit")).await;
    // (minijinja writes `/` in attributes as `&#x2f;`)
    let unescaped = edit.body.replace("&#x2f;", "/");
    assert!(unescaped.contains(&format!("action=\"{status_path}\"")));
    assert!(edit.body.contains("value=\"in_review\""));
    assert!(
        !edit.body.contains("name=\"visibility\""),
        "analysts do not set visibility"
    );
    let csrf = Client::csrf(&edit.body);
    // Refused: no token, a viewer, an outsider's admin.
    let r = analyst_c
        .post_form(&status_path, &[("to", "in_review")])
        .await;
    assert_eq!(r.status.as_u16(), 403);
    for who in [
        Who {
            role: Some(Role::Viewer),
            org: Some("alpha"),
        },
        Who {
            role: Some(Role::Admin),
            org: Some("beta"),
        },
    ] {
        let mut c = who.client(&f.server).await;
        let page = c.get("/registry/laws").await;
        let t = Client::csrf(&page.body);
        let r = c
            .post_form(&status_path, &[("to", "in_review"), ("csrf", &t)])
            .await;
        assert!(
            matches!(r.status.as_u16(), 403 | 404),
            "{}: {}",
            who.label(),
            r.status
        );
    }
    // The analyst submits it for review; an analyst cannot verify.
    let r = analyst_c
        .post_form(&status_path, &[("to", "in_review"), ("csrf", &csrf)])
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.body);
    assert_eq!(location(&r), format!("/registry/laws/{id}"));
    let r = analyst_c
        .post_form(&status_path, &[("to", "verified"), ("csrf", &csrf)])
        .await;
    assert_eq!(r.status.as_u16(), 403, "{}", r.body);
    // The admin verifies, publishes and opens it to the public.
    let mut admin = Who {
        role: Some(Role::Admin),
        org: Some("alpha"),
    }
    .client(&f.server)
    .await;
    let edit = admin.get(&format!("/registry/laws/{id}/edit")).await;
    assert!(edit.body.contains("name=\"visibility\""));
    let t = Client::csrf(&edit.body);
    let mut anon = Client::new(&f.server);
    for form in [
        [("to", "verified"), ("csrf", t.as_str())],
        [("to", "published"), ("csrf", t.as_str())],
    ] {
        assert!(!anon
            .get("/registry/laws")
            .await
            .body
            .contains("WORKFLOWLAW"));
        let r = admin.post_form(&status_path, &form).await;
        assert_eq!(r.status.as_u16(), 303, "{}", r.body);
    }
    let r = admin
        .post_form(&status_path, &[("visibility", "published"), ("csrf", &t)])
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.body);
    let law = load(&f.server)
        .await
        .laws
        .into_iter()
        .find(|l| l.meta.id == id)
        .unwrap();
    assert_eq!(law.meta.status, canary_registry::Status::Published);
    assert_eq!(law.meta.visibility, canary_registry::Visibility::Published);
    assert!(anon
        .get("/registry/laws")
        .await
        .body
        .contains("WORKFLOWLAW"));
    // Published: no longer the analyst's to edit.
    let r = analyst_c.get(&format!("/registry/laws/{id}/edit")).await;
    assert_eq!(r.status.as_u16(), 403);
}

/// The same forms over PostgreSQL (`CANARY_TEST_POSTGRES_URL`): create,
/// cite in one transaction, and refuse a stale edit. The database may be
/// shared: the organisation, user and codes here are unique.
#[tokio::test]
async fn entry_forms_work_over_postgres() {
    let Ok(url) = std::env::var("CANARY_TEST_POSTGRES_URL") else {
        eprintln!("skipping: CANARY_TEST_POSTGRES_URL not set");
        return;
    };
    let store = canary_store::Store::open(&url)
        .await
        .expect("PostgreSQL reachable");
    let nonce = format!(
        "{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let org = format!("org_pgforms{nonce}");
    let admin = canary_registry::Principal::user("seed", org.clone(), canary_registry::Role::Admin);
    let at = time::OffsetDateTime::now_utc();
    let mut ds = Dataset::new();
    ds.organisations.push(canary_registry::Organisation {
        id: org.clone(),
        name: "PG forms".into(),
        name_km: None,
    });
    let inc_id = format!("inc_pgforms{nonce}");
    ds.incidents.push(canary_registry::Incident {
        meta: canary_registry::RecordMeta::new(
            canary_registry::EntityType::Incident,
            inc_id.clone(),
            &admin,
            at,
        )
        .unwrap(),
        title: "PG incident".into(),
        title_km: None,
        summary: String::new(),
        start: canary_registry::FuzzyDate::year(2024).unwrap(),
        end: None,
        place: canary_registry::Place::country("KH"),
        rights_affected: vec![],
        tags: vec![],
        verified: false,
        unverified_note: None,
    });
    store.registry_import(&ds, "test", at).await.unwrap();
    let name = format!("pgf{}", &nonce[nonce.len() - 12..]);
    canary_web::accounts::create_user(
        &store,
        &name,
        common::PASSWORD,
        Role::Analyst,
        Some(&org),
        &canary_web::accounts::PasswordParams::insecure_for_tests(),
    )
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut cfg = common::test_config(store.clone());
    cfg.registry_keys = Some(std::sync::Arc::new(fx::key_ring()));
    let handle = canary_web::serve(cfg, listener).await.unwrap();
    let server = TestServer::from_parts(handle, store.clone());
    let mut c = Client::new(&server);
    assert_eq!(c.login(&name, common::PASSWORD).await.status.as_u16(), 303);

    let code = format!("PG{}", &nonce[nonce.len() - 9..]);
    let (csrf, v) = open(&mut c, "/registry/laws/new").await;
    let r = post(
        &mut c,
        "/registry/laws/new",
        &filled(
            &[
                ("code", &code),
                ("name_en", "PG law"),
                ("instrument_type", "law"),
                ("legal_status", "in_force"),
            ],
            "",
            &csrf,
            &v,
        ),
    )
    .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.body);
    let law = load(&server)
        .await
        .laws
        .into_iter()
        .find(|l| l.code == code)
        .unwrap();
    let path = format!("/registry/sources/new?cite={inc_id}");
    let (csrf, v) = open(&mut c, &path).await;
    let r = post(
        &mut c,
        &path,
        &filled(
            &[
                ("publication", "PG source"),
                ("language", "km"),
                ("connection", "witness"),
                ("identity", "SECRETPGIDENTITY"),
            ],
            "",
            &csrf,
            &v,
        ),
    )
    .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.body);
    let ds = load(&server).await;
    let src = ds
        .sources
        .iter()
        .find(|s| s.meta.org == org)
        .expect("the source");
    assert!(matches!(src.identity, Some(SensitiveField::Sealed(_))));
    assert!(ds
        .citations
        .iter()
        .any(|x| x.source_id == src.meta.id && x.record_id == inc_id));
    // Two editors of the law; the second to save is refused.
    let edit = format!("/registry/laws/{}/edit", law.meta.id);
    let target = format!("/registry/laws/{}", law.meta.id);
    let (csrf, v) = open(&mut c, &edit).await;
    let fields = [
        ("code", code.as_str()),
        ("name_en", "PG law, renamed"),
        ("instrument_type", "law"),
        ("legal_status", "in_force"),
    ];
    let r = post(&mut c, &target, &filled(&fields, "", &csrf, &v)).await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.body);
    let r = post(&mut c, &target, &filled(&fields, "", &csrf, &v)).await;
    assert_eq!(r.status.as_u16(), 409, "{}", r.body);
    let stored = load(&server)
        .await
        .laws
        .into_iter()
        .find(|l| l.meta.id == law.meta.id)
        .unwrap();
    assert_eq!(stored.meta.version(), 2, "one edit saved, not two");
}

#[tokio::test]
async fn hostile_submissions_are_refused_with_a_reason_and_store_nothing() {
    let f = fx::start(true).await;
    let mut c = analyst().client(&f.server).await;
    let before = snapshot(&f.server).await;
    let (csrf, version) = open(&mut c, "/registry/sources/new").await;
    let base = |extra: Vec<(String, String)>| {
        let mut form = filled(
            &[
                ("publication", "a newspaper"),
                ("language", "km"),
                ("connection", "media"),
            ],
            "",
            &csrf,
            &version,
        );
        form.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        form.extend(extra);
        form
    };
    let one = |k: &str, v: String| vec![(k.to_owned(), v)];
    // (case, form, status, text expected in the answer)
    type Form = Vec<(String, String)>;
    let cases: Vec<(&str, Form, u16, &str)> = vec![
        (
            "a field longer than its limit",
            base(one("publication", "x".repeat(301))),
            422,
            "Too long",
        ),
        (
            "control characters",
            base(one("title", "bell\u{7}here".into())),
            422,
            "cannot be stored",
        ),
        (
            "a line break in a one-line field",
            base(one("publication", "two\nlines".into())),
            422,
            "One line only",
        ),
        (
            "a language that is not a code",
            base(one("language", "Khmer".into())),
            422,
            "A language code",
        ),
        (
            "an unknown vocabulary term",
            base(one("connection", "rumour".into())),
            422,
            "Choose one",
        ),
        (
            "a URL with another scheme",
            base(one("url", "file:///etc/passwd".into())),
            422,
            "Not a web address",
        ),
        (
            "too many fields",
            base((0..300).map(|i| (format!("f{i}"), "x".into())).collect()),
            400,
            "too many fields",
        ),
        (
            "a body over the limit",
            base(one("title", "x".repeat(300 * 1024))),
            413,
            "The form is larger than the server accepts",
        ),
    ];
    for (case, form, status, text) in cases {
        let r = post(&mut c, "/registry/sources/new", &form).await;
        assert_eq!(r.status.as_u16(), status, "{case}: {}", r.body);
        assert!(r.body.contains(text), "{case}: {}", r.body);
    }
    // Ids in paths that are not registry ids.
    for path in [
        "/registry/sources/..%2F..%2Fetc/edit",
        "/registry/laws/law_X%3Cscript%3E/edit",
        "/registry/recommendations/inc_x/assess",
        "/registry/citations/new?record=law_x",
    ] {
        let r = c.get(path).await;
        assert!(
            matches!(r.status.as_u16(), 400 | 404),
            "{path}: {}",
            r.status
        );
        assert!(!r.body.contains("<script>"));
    }
    assert!(before == snapshot(&f.server).await, "nothing stored");
}

#[tokio::test]
async fn a_citation_made_by_mistake_is_removed_attributed_and_versioned() {
    let f = fx::start(true).await;
    let r = own();
    let path = format!("/registry/citations/new?record={}", r.incident);
    let remove = format!("/registry/citations/remove?record={}", r.incident);
    let mut c = analyst().client(&f.server).await;
    let page = c.get(&path).await;
    assert!(page.body.contains("Remove this citation"));
    let (csrf, version) = open(&mut c, &path).await;
    let before = snapshot(&f.server).await;
    // Refused: no token; a stale version; a viewer; a source not cited.
    type Form<'a> = Vec<(&'a str, String)>;
    let refused: Vec<(&str, Form, u16)> = vec![
        (
            "no token",
            vec![("source", r.source.clone()), ("version", version.clone())],
            403,
        ),
        (
            "stale version",
            vec![
                ("source", r.source.clone()),
                // not the version stored (someone saved since)
                ("version", (version.parse::<u32>().unwrap() + 1).to_string()),
                ("csrf", csrf.clone()),
            ],
            409,
        ),
        (
            "not cited here",
            vec![
                ("source", "src_alpha_coalition".into()),
                ("version", version.clone()),
                ("csrf", csrf.clone()),
            ],
            404,
        ),
    ];
    for (case, form, status) in refused {
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let resp = c.post_form(&remove, &pairs).await;
        assert_eq!(resp.status.as_u16(), status, "{case}: {}", resp.body);
    }
    let mut viewer = Who {
        role: Some(Role::Viewer),
        org: Some("alpha"),
    }
    .client(&f.server)
    .await;
    let t = Client::csrf(&viewer.get("/registry/laws").await.body);
    let resp = viewer
        .post_form(
            &remove,
            &[("source", &r.source), ("version", &version), ("csrf", &t)],
        )
        .await;
    assert_eq!(resp.status.as_u16(), 403);
    assert!(before == snapshot(&f.server).await, "nothing changed");
    // Removed.
    let resp = c
        .post_form(
            &remove,
            &[
                ("source", &r.source),
                ("version", &version),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(resp.status.as_u16(), 303, "{}", resp.body);
    let ds = load(&f.server).await;
    assert!(!ds
        .citations
        .iter()
        .any(|x| x.source_id == r.source && x.record_id == r.incident));
    let inc = ds
        .incidents
        .iter()
        .find(|i| i.meta.id == r.incident)
        .unwrap();
    assert_eq!(
        inc.meta.version(),
        version.parse::<u32>().unwrap() + 1,
        "the incident records the removal"
    );
    let history = f
        .server
        .store
        .registry_history(
            canary_store::registry::Collection::Citations,
            &format!("{}|{}", r.source, r.incident),
        )
        .await
        .unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        (last.by.as_str(), last.body.is_none()),
        ("analyst_alpha", true)
    );
    let audit = f.server.store.registry_audit(0, 10_000).await.unwrap();
    assert_eq!(
        audit.last().unwrap().action,
        canary_registry::AuditAction::Delete
    );
}

#[tokio::test]
async fn a_source_keeps_archived_copies_as_evidence_seen_only_by_who_may_see_them() {
    let f = fx::start(true).await;
    let coalition = fx::Rec::new(
        "alpha",
        "coalition",
        canary_registry::Visibility::Coalition,
        canary_registry::Status::InReview,
    );
    let mut c = analyst().client(&f.server).await;
    let list = c.get("/registry/sources").await.body.replace("&#x2f;", "/");
    assert!(list.contains(&format!("/registry/evidence/new?link={}", coalition.source)));
    let page = c
        .get(&format!("/registry/evidence/new?link={}", coalition.source))
        .await;
    let csrf = Client::csrf(&page.body);
    let (ct, body) = fx::multipart(
        &[
            ("csrf", &csrf),
            ("linked_ids", &coalition.source),
            ("method", "saved page"),
        ],
        (
            "article.html",
            "text/html",
            b"<html>the article as published</html>",
        ),
    );
    let out = fx::send(
        &c,
        reqwest::Method::POST,
        "/registry/evidence",
        &[("content-type", &ct)],
        body,
    )
    .await;
    assert_eq!(out.status, 201, "{}", out.body);
    let ds = load(&f.server).await;
    let ev = ds
        .evidence
        .iter()
        .find(|e| e.linked_ids.contains(&coalition.source))
        .expect("the archived copy");
    let link = format!("/registry/evidence/{}", ev.meta.id);
    // Its owners see it on the sources list and where the source is cited.
    for path in [
        "/registry/sources".to_owned(),
        format!("/registry/incidents/{}", coalition.incident),
    ] {
        let body = c.get(&path).await.body.replace("&#x2f;", "/");
        assert!(body.contains(&link), "{path}");
    }
    // Another organisation sees the (coalition) source, not the private copy.
    let mut beta = Who {
        role: Some(Role::Viewer),
        org: Some("beta"),
    }
    .client(&f.server)
    .await;
    let body = beta.get("/registry/sources").await.body;
    assert!(body.contains(&coalition.source));
    assert!(!body.contains(&ev.meta.id));
    // An unknown source is refused as a link.
    let (ct, body) = fx::multipart(
        &[("csrf", &csrf), ("linked_ids", "src_nowhere")],
        ("x.txt", "text/plain", b"x"),
    );
    let out = fx::send(
        &c,
        reqwest::Method::POST,
        "/registry/evidence",
        &[("content-type", &ct)],
        body,
    )
    .await;
    assert_eq!(out.status, 400);
}

#[tokio::test]
async fn an_assessment_made_in_error_is_withdrawn_by_its_organisation_only() {
    let f = fx::start(true).await;
    let mine = "asm_alpha_coalition";
    let path = format!("/registry/assessments/{mine}/remove");
    let before = snapshot(&f.server).await;
    // beta's analyst sees the assessment (coalition) but may not withdraw it.
    let mut beta = Who {
        role: Some(Role::Analyst),
        org: Some("beta"),
    }
    .client(&f.server)
    .await;
    let page = beta.get("/registry/recommendations").await;
    assert!(page.body.contains("Assessed TITLEMARKalphacoalition"));
    assert!(!page.body.contains(&path), "no withdraw button for beta");
    let t = Client::csrf(&page.body);
    let r = beta.post_form(&path, &[("csrf", &t)]).await;
    assert_eq!(r.status.as_u16(), 403);
    // alpha's viewer may not; nor a post without the token.
    let mut viewer = Who {
        role: Some(Role::Viewer),
        org: Some("alpha"),
    }
    .client(&f.server)
    .await;
    let t = Client::csrf(&viewer.get("/registry/laws").await.body);
    assert_eq!(
        viewer
            .post_form(&path, &[("csrf", &t)])
            .await
            .status
            .as_u16(),
        403
    );
    let mut c = analyst().client(&f.server).await;
    let page = c.get("/registry/recommendations").await;
    assert!(page.body.contains("Withdraw (made in error)"));
    assert!(page.body.contains(&path), "a withdraw button for alpha");
    assert_eq!(c.post_form(&path, &[]).await.status.as_u16(), 403);
    assert!(before == snapshot(&f.server).await);
    // alpha's analyst withdraws it.
    let t = Client::csrf(&page.body);
    let r = c.post_form(&path, &[("csrf", &t)]).await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.body);
    assert!(!load(&f.server)
        .await
        .assessments
        .iter()
        .any(|a| a.id == mine));
    let audit = f.server.store.registry_audit(0, 10_000).await.unwrap();
    let last = audit.last().unwrap();
    assert_eq!(
        (last.action, last.object.as_str(), last.actor.as_str()),
        (canary_registry::AuditAction::Delete, mine, "analyst_alpha")
    );
    // Gone: a second withdrawal finds nothing.
    assert_eq!(
        c.post_form(&path, &[("csrf", &t)]).await.status.as_u16(),
        404
    );
}
