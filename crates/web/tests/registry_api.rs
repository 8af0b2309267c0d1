//! The registry's JSON API against its OpenAPI document: every response
//! the tests provoke (reads, writes, errors) is validated against the
//! schema the document gives for that path, method and status, with a
//! small JSON Schema validator for the subset the document uses (type,
//! enum, properties, required, additionalProperties, items, $ref, oneOf,
//! anyOf and the document's few patterns). Also: the document describes
//! every registry route, and its vocabularies are the registry's.

mod common;
mod registry_fixture;

use std::collections::BTreeSet;

use canary_web::accounts::Role;
use registry_fixture::{self as fx, send, Out, Who};
use reqwest::Method;
use serde_json::{json, Value};

fn doc() -> Value {
    serde_json::from_str(include_str!("../openapi/registry.json")).unwrap()
}

/// The document's patterns, each checked by hand (an unknown pattern
/// fails the test, so the document and the validator stay in step).
fn matches_pattern(pattern: &str, s: &str) -> bool {
    let hex64 = |s: &str| {
        s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    match pattern {
        "^~?[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$" => s.parse::<canary_registry::FuzzyDate>().is_ok(),
        "^[0-9]{4}-[0-9]{2}-[0-9]{2}T" => {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
        }
        "^[0-9a-f]{64}$" => hex64(s),
        "^v1:[0-9]+:" => s
            .strip_prefix("v1:")
            .and_then(|r| r.split_once(':'))
            .is_some_and(|(k, _)| k.parse::<u8>().is_ok()),
        "^[a-z]+_[a-z0-9_-]+$" => s.split_once('_').is_some_and(|(a, b)| {
            !a.is_empty()
                && a.bytes().all(|c| c.is_ascii_lowercase())
                && !b.is_empty()
                && b.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-')
        }),
        other => panic!("the validator does not know the pattern {other:?}"),
    }
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_u64() || v.is_i64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        other => panic!("unknown type {other}"),
    }
}

/// Problems of `v` against `schema` (empty when valid).
fn validate(root: &Value, schema: &Value, v: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/components/schemas/").expect("local ref");
        let target = &root["components"]["schemas"][name];
        assert!(!target.is_null(), "dangling $ref {r}");
        return validate(root, target, v, at, out);
    }
    if let Some(t) = schema.get("type") {
        let ok = match t {
            Value::String(t) => type_ok(t, v),
            Value::Array(ts) => ts.iter().any(|t| type_ok(t.as_str().unwrap(), v)),
            _ => panic!("bad type at {at}"),
        };
        if !ok {
            out.push(format!("{at}: {v} is not {t}"));
            return;
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            out.push(format!("{at}: {v} not in {e:?}"));
        }
    }
    if let (Some(p), Some(s)) = (schema.get("pattern").and_then(Value::as_str), v.as_str()) {
        if !matches_pattern(p, s) {
            out.push(format!("{at}: {s:?} does not match {p}"));
        }
    }
    if let Some(minimum) = schema.get("minimum").and_then(Value::as_i64) {
        if v.as_i64().is_some_and(|n| n < minimum) {
            out.push(format!("{at}: {v} < {minimum}"));
        }
    }
    for (kw, exactly_one) in [("oneOf", true), ("anyOf", false)] {
        if let Some(alts) = schema.get(kw).and_then(Value::as_array) {
            let passing = alts
                .iter()
                .filter(|alt| {
                    let mut sub = Vec::new();
                    validate(root, alt, v, at, &mut sub);
                    sub.is_empty()
                })
                .count();
            if passing == 0 || (exactly_one && passing > 1) {
                out.push(format!("{at}: {passing} alternatives of {kw} match {v}"));
            }
        }
    }
    if let Some(obj) = v.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        if let Some(req) = schema.get("required").and_then(Value::as_array) {
            for k in req {
                if !obj.contains_key(k.as_str().unwrap()) {
                    out.push(format!("{at}: missing {k}"));
                }
            }
        }
        for (k, val) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => validate(root, s, val, &format!("{at}.{k}"), out),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    out.push(format!("{at}: unexpected property {k}"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            validate(root, items, x, &format!("{at}[{i}]"), out);
        }
    }
}

/// The document's route for a concrete path: (template, collection).
fn route<'a>(doc: &'a Value, path: &str) -> (&'a str, Option<String>) {
    let path = path.split('?').next().unwrap();
    let segs: Vec<&str> = path.split('/').collect();
    let mut best: Option<(&str, usize, Option<String>)> = None;
    for template in doc["paths"].as_object().unwrap().keys() {
        let t: Vec<&str> = template.split('/').collect();
        if t.len() != segs.len() {
            continue;
        }
        let mut literal = 0;
        let mut collection = None;
        let ok = t.iter().zip(&segs).all(|(a, b)| {
            if a.starts_with('{') {
                if *a == "{collection}" {
                    collection = Some((*b).to_owned());
                }
                true
            } else {
                literal += 1;
                a == b
            }
        });
        if ok && best.as_ref().is_none_or(|(_, l, _)| literal > *l) {
            best = Some((template, literal, collection));
        }
    }
    let (t, _, c) = best.unwrap_or_else(|| panic!("{path} is not in the OpenAPI document"));
    (t, c)
}

async fn fetch(c: &common::Client, p: &str) -> Out {
    send(c, Method::GET, p, &[], Vec::new()).await
}

/// Checks a real response against the document; returns how many checks.
fn conforms(doc: &Value, method: &str, path: &str, out: &Out) {
    let (template, collection) = route(doc, path);
    let op = &doc["paths"][template][method];
    assert!(op.is_object(), "{method} {template} is not documented");
    let resp = &op["responses"][out.status.to_string()];
    assert!(
        resp.is_object(),
        "{method} {path}: status {} is not documented: {}",
        out.status,
        out.body
    );
    let ctype = out
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    if ctype != "application/json" {
        assert!(
            resp["content"][&ctype].is_object(),
            "{method} {path}: {ctype} not documented"
        );
        return;
    }
    let v: Value = serde_json::from_str(&out.body).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut schema = resp["content"]["application/json"]["schema"].clone();
    if out.status == 200 {
        if let (Some(items), Some(c)) = (op.get("x-canary-item-schemas"), collection) {
            let item = json!({ "$ref": items[&c].as_str().expect("collection item schema") });
            schema = if v.is_array() {
                json!({ "type": "array", "items": item })
            } else {
                item
            };
        }
    }
    let mut problems = Vec::new();
    validate(doc, &schema, &v, "$", &mut problems);
    assert!(
        problems.is_empty(),
        "{method} {path} ({}):\n{}",
        out.status,
        problems.join("\n")
    );
}

#[test]
fn the_document_names_every_registry_route_and_the_registrys_vocabularies() {
    let d = doc();
    assert_eq!(d["openapi"], "3.1.0");
    let paths: BTreeSet<&str> = d["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for (method, p) in [
        ("get", "/api/v1/openapi.json"),
        ("get", "/api/v1/registry/session"),
        ("get", "/api/v1/registry/{collection}"),
        ("get", "/api/v1/registry/{collection}/{id}"),
        ("put", "/api/v1/registry/{collection}/{id}"),
        ("post", "/api/v1/registry/incidents"),
        ("post", "/api/v1/registry/acts"),
        ("post", "/api/v1/registry/{collection}/{id}/status"),
        ("post", "/api/v1/registry/evidence"),
        ("get", "/api/v1/registry/export"),
        ("post", "/api/v1/registry/import"),
        ("get", "/api/v1/countries"),
        ("get", "/api/v1/measurements"),
        ("post", "/api/v1/submit"),
    ] {
        assert!(paths.contains(p), "{p} missing");
        assert!(d["paths"][p][method].is_object(), "{method} {p} missing");
    }
    fn codes<T: std::fmt::Display>(all: &[T]) -> Vec<Value> {
        all.iter().map(|t| Value::String(t.to_string())).collect()
    }
    use canary_registry::*;
    for (name, expected) in [
        ("Visibility", codes(Visibility::ALL)),
        ("Status", codes(Status::ALL)),
        ("Role", codes(Role::ALL)),
        ("ActType", codes(ActType::ALL)),
        ("Right", codes(Right::ALL)),
        ("PlacePrecision", codes(PlacePrecision::ALL)),
        ("InvocationRole", codes(InvocationRole::ALL)),
        ("Mechanism", codes(Mechanism::ALL)),
        ("Implementation", codes(Implementation::ALL)),
        ("CustodyAction", codes(CustodyAction::ALL)),
        ("LegalStatus", codes(LegalStatus::ALL)),
        ("InstrumentType", codes(InstrumentType::ALL)),
        ("SourceConnection", codes(SourceConnection::ALL)),
        ("ActorKind", codes(ActorKind::ALL)),
        ("PerpetratorType", codes(PerpetratorType::ALL)),
        ("Degree", codes(Degree::ALL)),
    ] {
        assert_eq!(
            d["components"]["schemas"][name]["enum"].as_array().unwrap(),
            &expected,
            "{name}"
        );
    }
}

#[test]
fn the_validator_rejects_what_the_schemas_forbid() {
    let d = doc();
    let s = |n: &str| json!({ "$ref": format!("#/components/schemas/{n}") });
    let cases: &[(&str, &str, Value, bool)] = &[
        ("a redacted field", "Sensitive", json!("redacted"), true),
        (
            "a sealed field",
            "Sensitive",
            json!({"sealed": "v1:1:AAAA"}),
            true,
        ),
        ("a clear field", "Sensitive", json!({"clear": "x"}), true),
        (
            "another string is no sensitive field",
            "Sensitive",
            json!("hello"),
            false,
        ),
        ("a fuzzy month", "FuzzyDate", json!("2023-07"), true),
        ("no 13th month", "FuzzyDate", json!("2023-13"), false),
        ("an unknown status", "Status", json!("archived"), false),
        (
            "an unknown property",
            "Organisation",
            json!({"id": "org_a", "name": "A", "name_km": null, "x": 1}),
            false,
        ),
        (
            "a missing property",
            "Organisation",
            json!({"id": "org_a", "name": "A"}),
            false,
        ),
        (
            "an organisation",
            "Organisation",
            json!({"id": "org_a", "name": "A", "name_km": null}),
            true,
        ),
    ];
    for (why, schema, v, ok) in cases {
        let mut p = Vec::new();
        validate(&d, &s(schema), v, "$", &mut p);
        assert_eq!(p.is_empty(), *ok, "{why}: {p:?}");
    }
}

#[tokio::test]
async fn real_responses_match_the_document() {
    let d = doc();
    let f = fx::start(true).await;
    let analyst = Who {
        role: Some(Role::Analyst),
        org: Some("alpha"),
    };
    let anon = Who {
        role: None,
        org: None,
    }
    .client(&f.server)
    .await;
    let mut c = analyst.client(&f.server).await;
    let token = fx::api_token(&mut c).await.unwrap();
    let json_h = [
        ("content-type", "application/json"),
        ("x-csrf-token", token.as_str()),
    ];
    let mut checked = 0;
    let mut check = |method: &str, path: &str, out: &Out| {
        conforms(&d, method, path, out);
        checked += 1;
    };

    // Reads, for the analyst (with sensitive fields opened) and anonymous.
    let mut paths = vec![
        "/api/v1/registry/session".to_owned(),
        "/api/v1/registry/export?format=json".to_owned(),
    ];
    for col in canary_registry::io::CSV_FILES {
        paths.push(format!("/api/v1/registry/{}", col.trim_end_matches(".csv")));
    }
    let r = f
        .recs
        .iter()
        .find(|r| r.org == "alpha" && r.case == "private")
        .unwrap();
    for (col, id) in [
        ("incidents", &r.incident),
        ("actors", &r.actor),
        ("sources", &r.source),
        ("laws", &r.law),
        ("provisions", &r.provision),
        ("evidence", &r.evidence),
        ("recommendations", &r.recommendation),
        ("benchmarks", &r.benchmark),
        ("acts", &r.act),
    ] {
        paths.push(format!("/api/v1/registry/{col}/{id}"));
    }
    paths.push("/api/v1/registry/assessments/asm_alpha_private".into());
    paths.push("/api/v1/registry/organisations/org_alpha".into());
    for p in &paths {
        let out = fetch(&c, p).await;
        assert!(out.status == 200, "{p}: {}", out.body);
        check("get", p, &out);
        let out = fetch(&anon, p).await;
        check("get", p, &out); // 200 or a documented 404
    }
    // Errors are documented too.
    for p in [
        "/api/v1/registry/nonsense",
        "/api/v1/registry/incidents/inc_missing",
        "/api/v1/registry/incidents/NOT-AN-ID",
        "/api/v1/registry/export?format=xml",
        "/api/v1/registry/incidents?from=yesterday",
    ] {
        let out = fetch(&c, p).await;
        assert!(out.status >= 400, "{p}");
        check("get", p, &out);
    }

    // Writes.
    let out = send(&c, Method::POST, "/api/v1/registry/incidents", &json_h,
        br#"{"title":"Blogger summoned","start":"2024-02","exact_place":"SECRETAPIPLACE","rights_affected":["iccpr_19"]}"#.to_vec()).await;
    assert_eq!(out.status, 201, "{}", out.body);
    assert!(!out.body.contains("SECRETAPIPLACE"));
    check("post", "/api/v1/registry/incidents", &out);
    let created: Value = serde_json::from_str(&out.body).unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let put_path = format!("/api/v1/registry/incidents/{id}");
    let out = send(&c, Method::PUT, &put_path, &[json_h[0], json_h[1], ("if-match", "1")],
        br#"{"title":"Blogger summoned twice","start":"2024-02","change_summary":"second summons"}"#.to_vec()).await;
    assert_eq!(out.status, 200, "{}", out.body);
    check("put", &put_path, &out);
    let out = send(
        &c,
        Method::PUT,
        &put_path,
        &[json_h[0], json_h[1], ("if-match", "1")],
        br#"{"title":"stale","start":"2024-02"}"#.to_vec(),
    )
    .await;
    assert_eq!(
        out.status, 409,
        "a write based on version 1 after version 2: {}",
        out.body
    );
    check("put", &put_path, &out);
    let out = send(
        &c,
        Method::PUT,
        &put_path,
        &json_h,
        br#"{"title":"x","start":"2024-02","bogus":1}"#.to_vec(),
    )
    .await;
    assert_eq!(out.status, 400);
    check("put", &put_path, &out);
    let out = send(&c, Method::POST, "/api/v1/registry/acts", &json_h,
        format!(r#"{{"incident_id":"{id}","act_type":"summons","date":"2024-02-03","invocations":[{{"provision_id":"{}","role":"charged_under"}}]}}"#, r.provision).into_bytes()).await;
    assert_eq!(out.status, 201, "{}", out.body);
    check("post", "/api/v1/registry/acts", &out);
    let act: Value = serde_json::from_str(&out.body).unwrap();
    let act_path = format!(
        "/api/v1/registry/acts/{}",
        act["act"]["id"].as_str().unwrap()
    );
    let out = send(
        &c,
        Method::PUT,
        &act_path,
        &json_h,
        format!(r#"{{"incident_id":"{id}","act_type":"charge","description":"charged","invocations":[],"involvements":[{{"actor_id":"{}","degree":"executed","perpetrator_type":"police"}}]}}"#, r.actor).into_bytes(),
    )
    .await;
    assert_eq!(out.status, 200, "{}", out.body);
    check("put", &act_path, &out);
    let out = send(
        &c,
        Method::PUT,
        &act_path,
        &json_h,
        format!(r#"{{"incident_id":"{}","act_type":"charge"}}"#, r.incident).into_bytes(),
    )
    .await;
    assert_eq!(
        out.status, 400,
        "an act does not move to another incident: {}",
        out.body
    );
    check("put", &act_path, &out);
    let status_path = format!("/api/v1/registry/incidents/{id}/status");
    let out = send(
        &c,
        Method::POST,
        &status_path,
        &json_h,
        br#"{"to":"in_review"}"#.to_vec(),
    )
    .await;
    assert_eq!(out.status, 200, "{}", out.body);
    check("post", &status_path, &out);
    let out = send(
        &c,
        Method::POST,
        &status_path,
        &json_h,
        br#"{"to":"published"}"#.to_vec(),
    )
    .await;
    assert_eq!(out.status, 400, "not in the workflow graph: {}", out.body);
    check("post", &status_path, &out);
    let out = send(
        &c,
        Method::POST,
        &status_path,
        &json_h,
        br#"{"to":"verified"}"#.to_vec(),
    )
    .await;
    assert_eq!(out.status, 403, "analysts do not verify: {}", out.body);
    check("post", &status_path, &out);
    let out = send(
        &c,
        Method::POST,
        "/api/v1/registry/evidence?method=screenshot&linked_ids="
            .to_owned()
            .as_str(),
        &[
            ("content-type", "image/png"),
            ("x-csrf-token", &token),
            ("x-evidence-provenance", "SECRETAPIPROV"),
        ],
        b"\x89PNG fake".to_vec(),
    )
    .await;
    assert_eq!(out.status, 201, "{}", out.body);
    assert!(!out.body.contains("SECRETAPIPROV"));
    check("post", "/api/v1/registry/evidence", &out);
    let ev: Value = serde_json::from_str(&out.body).unwrap();
    assert_eq!(
        ev["evidence"]["sha256"],
        canary_registry::sha256_hex(b"\x89PNG fake")
    );
    assert_eq!(ev["custody"][0]["action"], "acquired");

    // Import: a new record of the analyst's organisation, with a clear
    // sensitive value that the server seals before storing it.
    let mut ds = canary_registry::Dataset::new();
    ds.organisations = f.server.store.registry_load().await.unwrap().organisations;
    let p = canary_registry::Principal::user(
        "analyst_alpha",
        "org_alpha",
        canary_registry::Role::Analyst,
    );
    let actor = canary_registry::Actor {
        meta: canary_registry::RecordMeta::new(
            canary_registry::EntityType::Actor,
            "actr_imported",
            &p,
            time::OffsetDateTime::now_utc(),
        )
        .unwrap(),
        kind: canary_registry::ActorKind::Person,
        name: "a teacher".into(),
        name_km: None,
        description: None,
        characteristics: vec![],
        asn: None,
        identity: Some(canary_registry::SensitiveField::clear("SECRETIMPORTED")),
        contact: None,
    };
    ds.actors.push(actor);
    let body = serde_json::to_vec(&ds).unwrap();
    let out = send(
        &c,
        Method::POST,
        "/api/v1/registry/import",
        &json_h,
        body.clone(),
    )
    .await;
    assert_eq!(out.status, 201, "{}", out.body);
    check("post", "/api/v1/registry/import", &out);
    let stored = f.server.store.registry_load().await.unwrap();
    let a = stored
        .actors
        .iter()
        .find(|a| a.meta.id == "actr_imported")
        .unwrap();
    assert_eq!(
        a.identity.as_ref().unwrap().state(),
        "sealed",
        "sealed before it was stored"
    );
    let out = send(
        &c,
        Method::POST,
        "/api/v1/registry/import",
        &json_h,
        br#"{"format":"canary-registry/1"}"#.to_vec(),
    )
    .await;
    assert_eq!(
        out.status, 400,
        "a dataset missing its collections: {}",
        out.body
    );
    check("post", "/api/v1/registry/import", &out);
    let out = send(
        &anon,
        Method::POST,
        "/api/v1/registry/import",
        &[("content-type", "application/json")],
        body,
    )
    .await;
    assert_eq!(out.status, 401);
    check("post", "/api/v1/registry/import", &out);

    let admin = Who {
        role: Some(Role::Admin),
        org: Some("alpha"),
    }
    .client(&f.server)
    .await;
    for p in [
        "/api/v1/registry/audit",
        "/api/v1/registry/audit?from_seq=2&limit=3",
    ] {
        let out = fetch(&admin, p).await;
        assert_eq!(out.status, 200);
        check("get", p, &out);
        let out = fetch(&c, p).await;
        assert_eq!(out.status, 403);
        check("get", p, &out);
    }
    assert!(f.server.store.registry_verify(None).await.unwrap().is_ok());
    eprintln!("{checked} responses validated against the OpenAPI document");
    assert!(checked > 60, "{checked}");
}

#[tokio::test]
async fn hostile_input_gets_a_clear_refusal_and_never_a_server_error() {
    let f = fx::start(true).await;
    for (name, org) in [("analyst_gamma", Some("org_gamma")), ("analyst_none", None)] {
        canary_web::accounts::create_user(
            &f.server.store,
            name,
            common::PASSWORD,
            Role::Analyst,
            org,
            &canary_web::accounts::PasswordParams::insecure_for_tests(),
        )
        .await
        .unwrap();
    }
    let mut c = Who {
        role: Some(Role::Analyst),
        org: Some("alpha"),
    }
    .client(&f.server)
    .await;
    let token = fx::api_token(&mut c).await.unwrap();
    let h = [
        ("content-type", "application/json"),
        ("x-csrf-token", token.as_str()),
    ];
    let inc = "inc_alpha_private";
    let long = "x".repeat(600);
    let tags: Vec<String> = (0..51).map(|i| format!("t{i}")).collect();
    let invs: Vec<Value> = (0..21)
        .map(|_| json!({"provision_id": "prov_alpha_private", "role": "charged_under"}))
        .collect();
    let cases: Vec<(&str, Method, String, Vec<u8>, u16)> = vec![
        ("not JSON", Method::POST, "/api/v1/registry/incidents".into(), b"{not json".to_vec(), 400),
        ("a title too long", Method::POST, "/api/v1/registry/incidents".into(), json!({"title": long, "start": "2024"}).to_string().into_bytes(), 400),
        ("an empty title", Method::POST, "/api/v1/registry/incidents".into(), br#"{"title":" ","start":"2024"}"#.to_vec(), 400),
        ("an impossible date", Method::POST, "/api/v1/registry/incidents".into(), br#"{"title":"t","start":"2023-13-45"}"#.to_vec(), 400),
        ("an end before the start", Method::POST, "/api/v1/registry/incidents".into(), br#"{"title":"t","start":"2024-05","end":"2023"}"#.to_vec(), 400),
        ("too many tags", Method::POST, "/api/v1/registry/incidents".into(), json!({"title": "t", "start": "2024", "tags": tags}).to_string().into_bytes(), 400),
        ("a bad country", Method::POST, "/api/v1/registry/incidents".into(), br#"{"title":"t","start":"2024","country":"Cambodia"}"#.to_vec(), 400),
        ("too many invocations", Method::POST, "/api/v1/registry/acts".into(), json!({"incident_id": inc, "act_type": "arrest", "invocations": invs}).to_string().into_bytes(), 400),
        ("a victim one cannot see", Method::POST, "/api/v1/registry/acts".into(), json!({"incident_id": inc, "act_type": "arrest", "victim_id": "actr_beta_private"}).to_string().into_bytes(), 400),
        ("a provision one cannot see", Method::POST, "/api/v1/registry/acts".into(), json!({"incident_id": inc, "act_type": "arrest", "invocations": [{"provision_id": "prov_beta_private", "role": "charged_under"}]}).to_string().into_bytes(), 400),
        ("an unknown act type", Method::POST, "/api/v1/registry/acts".into(), json!({"incident_id": inc, "act_type": "beheading"}).to_string().into_bytes(), 400),
        ("an over-long id", Method::GET, format!("/api/v1/registry/incidents/inc_{}", "a".repeat(90)), Vec::new(), 400),
        ("an id with odd bytes", Method::GET, "/registry/incidents/inc_%00%ff".into(), Vec::new(), 400),
        ("an unknown status", Method::POST, format!("/api/v1/registry/incidents/{inc}/status"), br#"{"to":"archived"}"#.to_vec(), 400),
        ("an empty move", Method::POST, format!("/api/v1/registry/incidents/{inc}/status"), b"{}".to_vec(), 400),
        ("an import that is not UTF-8", Method::POST, "/api/v1/registry/import".into(), vec![0xff, 0xfe, 0x00], 400),
        ("an import that does not validate", Method::POST, "/api/v1/registry/import".into(), br#"{"format":"other/9"}"#.to_vec(), 400),
        ("an import larger than its limit", Method::POST, "/api/v1/registry/import".into(), vec![b' '; 17 * 1024 * 1024], 413),
        ("an evidence file larger than its limit", Method::POST, "/api/v1/registry/evidence".into(), vec![0u8; 33 * 1024 * 1024], 413),
        ("an export in an unknown format", Method::GET, "/api/v1/registry/export?format=xml".into(), Vec::new(), 400),
        ("a CSV export of no collection", Method::GET, "/api/v1/registry/export?format=csv".into(), Vec::new(), 400),
    ];
    for (why, method, path, body, status) in cases {
        let out = send(&c, method, &path, &h, body).await;
        assert_eq!(
            out.status,
            status,
            "{why}: {}",
            &out.body[..out.body.len().min(300)]
        );
    }
    let mut put_headers = h.to_vec();
    put_headers.push(("if-match", "abc"));
    let out = send(
        &c,
        Method::PUT,
        &format!("/api/v1/registry/incidents/{inc}"),
        &put_headers,
        br#"{"title":"t","start":"2024"}"#.to_vec(),
    )
    .await;
    assert_eq!(out.status, 400, "a non-numeric if-match");
    let page = c.get("/registry/incidents/new").await;
    let csrf = common::Client::csrf(&page.body);
    let big = "y".repeat(300 * 1024);
    let out = c
        .post_form(
            "/registry/incidents/new",
            &[
                ("csrf", &csrf),
                ("title", "t"),
                ("start", "2024"),
                ("summary", &big),
            ],
        )
        .await;
    assert_eq!(out.status.as_u16(), 413, "a form body over its limit");
    let fields: Vec<(String, String)> =
        (0..20).map(|i| (format!("f{i}"), "v".to_owned())).collect();
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (ct, body) = fx::multipart(&refs, ("x.txt", "text/plain", b"x"));
    let out = send(
        &c,
        Method::POST,
        "/registry/evidence",
        &[("content-type", &ct)],
        body,
    )
    .await;
    assert_eq!(out.status, 400, "too many parts: {}", out.body);

    // Accounts whose organisation is not in the registry, or that have none.
    for (name, status) in [("analyst_gamma", 400), ("analyst_none", 403)] {
        let mut c = common::Client::new(&f.server);
        c.login(name, common::PASSWORD).await;
        let token = fx::api_token(&mut c).await.unwrap();
        let out = send(
            &c,
            Method::POST,
            "/api/v1/registry/incidents",
            &[
                ("content-type", "application/json"),
                ("x-csrf-token", &token),
            ],
            br#"{"title":"t","start":"2024"}"#.to_vec(),
        )
        .await;
        assert_eq!(out.status, status, "{name}: {}", out.body);
    }
    assert!(f.server.store.registry_verify(None).await.unwrap().is_ok());
}
