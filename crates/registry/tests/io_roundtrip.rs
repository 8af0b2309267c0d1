//! Import/export: exact round-trips, redaction in exports, audit of exports,
//! hostile input rejected with a clear error.

mod common;

use std::collections::BTreeMap;

use canary_registry::io::{from_csv, from_json, to_csv, to_json, CSV_FILES};
use canary_registry::*;
use common::*;

fn fixtures() -> Vec<(&'static str, Dataset)> {
    let mut sealed = dataset();
    sealed
        .seal_all(&KeyRing::new(FieldKey::from_bytes(3, [9; 32])))
        .unwrap();
    vec![
        ("seed dataset", seed::kh()),
        ("two-organisation fixture", dataset()),
        ("fixture with sealed fields", sealed),
        ("empty dataset", Dataset::new()),
    ]
}

#[test]
fn json_round_trip_is_exact() {
    for (name, ds) in fixtures() {
        ds.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
        let text = to_json(&ds).unwrap();
        let back = from_json(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(back, ds, "{name}");
        assert_eq!(
            to_json(&back).unwrap(),
            text,
            "{name}: second write differs"
        );
    }
}

#[test]
fn csv_round_trip_is_exact() {
    for (name, ds) in fixtures() {
        let files = to_csv(&ds).unwrap();
        assert_eq!(
            files.len(),
            CSV_FILES.len(),
            "{name}: one file per collection"
        );
        let back = from_csv(&files).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(back, ds, "{name}");
    }
}

#[test]
fn csv_puts_id_first_and_relationships_as_id_columns() {
    let files = to_csv(&dataset()).unwrap();
    let first_line = |f: &str| files[f].lines().next().unwrap_or("").to_owned();
    assert!(
        first_line("incidents.csv").starts_with("id,"),
        "{}",
        first_line("incidents.csv")
    );
    for (file, column) in [
        ("acts.csv", "incident_id"),
        ("acts.csv", "victim_id"),
        ("involvements.csv", "actor_id"),
        ("provisions.csv", "law_id"),
        ("invocations.csv", "provision_id"),
        ("citations.csv", "record_id"),
        ("custody.csv", "prev_hash"),
        ("assessments.csv", "target_id"),
    ] {
        assert!(
            first_line(file).split(',').any(|c| c == column),
            "{file} lacks {column}"
        );
    }
}

#[test]
fn csv_strings_that_look_like_json_keep_their_type() {
    // The fixture's tags are "12", "", "true", "null" and "[x": the tags
    // column holds a JSON list, so check a plain string column instead.
    let mut ds = dataset();
    for (i, text) in ["12", "", "true", "null", "[x", "\"quoted\"", " 7", "ស្រុក"]
        .iter()
        .enumerate()
    {
        ds.incidents[i % 5].title = (*text).to_owned();
        let back = from_csv(&to_csv(&ds).unwrap()).unwrap();
        assert_eq!(back.incidents[i % 5].title, *text);
    }
}

#[test]
fn import_rejects_inconsistent_or_hostile_input() {
    let good = to_json(&dataset()).unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "dangling victim reference",
            good.replace(
                "\"victim_id\": \"actr_a_private\"",
                "\"victim_id\": \"actr_nobody\"",
            ),
            "actr_nobody",
        ),
        (
            "duplicate id",
            good.replace("inc_b_private", "inc_b_published"),
            "duplicate id",
        ),
        (
            "unknown organisation",
            good.replace("\"org\": \"org_b\"", "\"org\": \"org_zz\""),
            "org_zz",
        ),
        (
            "bad id syntax",
            good.replace("\"inc_a_private\"", "\"inc_A private\""),
            "is not inc_",
        ),
        (
            "unknown top-level field",
            good.replacen('{', "{\"extra\": 1,", 1),
            "unknown field",
        ),
        (
            "wrong format tag",
            good.replace("canary-registry/1", "canary-registry/9"),
            "format",
        ),
        (
            "bad date",
            good.replace("\"2023-07-12\"", "\"2023-13-12\""),
            "month",
        ),
        (
            "bad vocabulary term",
            good.replace("\"website_blocking\"", "\"nuked\""),
            "unknown variant",
        ),
        (
            "bad sealed value",
            good.replace(
                "\"clear\": \"SECRET-provenance\"",
                "\"sealed\": \"v1:1:AAAA\"",
            ),
            "too short",
        ),
        (
            "incident ending before it starts",
            good.replace("\"end\": \"2023-08\"", "\"end\": \"2022-08\""),
            "ends before it starts",
        ),
        ("not JSON", "{".to_owned(), "json"),
    ];
    for (name, text, needle) in cases {
        assert!(text != good, "{name}: case did not change the input");
        let err = from_json(&text).expect_err(name).to_string();
        assert!(err.contains(needle), "{name}: {err}");
    }
}

#[test]
fn csv_import_rejects_unknown_files_and_bad_rows() {
    let mut files = to_csv(&dataset()).unwrap();
    files.insert("passwords.csv".into(), "a\n1\n".into());
    assert!(from_csv(&files)
        .unwrap_err()
        .to_string()
        .contains("passwords.csv"));

    let mut files = to_csv(&dataset()).unwrap();
    let acts = files["acts.csv"].replace("website_blocking", "nuked");
    files.insert("acts.csv".into(), acts);
    let err = from_csv(&files).unwrap_err().to_string();
    assert!(err.contains("acts.csv") && err.contains("row 2"), "{err}");

    let mut files = BTreeMap::new();
    files.insert(
        "acts.csv".to_owned(),
        "id,incident_id\n\"unterminated\n".to_owned(),
    );
    assert!(from_csv(&files).is_err());
}

fn all_text(files: &BTreeMap<String, String>) -> String {
    files.values().cloned().collect::<Vec<_>>().join("\n")
}

#[test]
fn exports_show_each_principal_only_what_they_may_see() {
    let ds = dataset();
    // (principal, incidents expected, may see org A's secrets)
    let cases = [
        (
            "anonymous",
            Principal::Anonymous,
            vec!["inc_a_published", "inc_b_published"],
            false,
        ),
        (
            "org B admin",
            user(ORG_B, Role::Admin),
            vec![
                "inc_a_coalition",
                "inc_a_published",
                "inc_b_published",
                "inc_b_private",
            ],
            false,
        ),
        (
            "org A viewer",
            user(ORG_A, Role::Viewer),
            vec![
                "inc_a_private",
                "inc_a_coalition",
                "inc_a_published",
                "inc_b_published",
            ],
            false,
        ),
        (
            "org A analyst",
            user(ORG_A, Role::Analyst),
            vec![
                "inc_a_private",
                "inc_a_coalition",
                "inc_a_published",
                "inc_b_published",
            ],
            true,
        ),
    ];
    for (name, p, expected, secrets) in cases {
        for format in [ExportFormat::Json, ExportFormat::Csv] {
            let mut audit = AuditLog::new();
            let out = export(&ds, &p, format, T0, &mut audit).unwrap();
            let text = all_text(&out.files);
            let back = match format {
                ExportFormat::Json => from_json(&out.files["dataset.json"]),
                ExportFormat::Csv => from_csv(&out.files),
            }
            .unwrap_or_else(|e| panic!("{name}: export does not re-import: {e}"));
            let ids: Vec<&str> = back.incidents.iter().map(|i| i.meta.id.as_str()).collect();
            assert_eq!(ids, expected, "{name} {format:?}");
            for s in SECRETS {
                assert_eq!(text.contains(s), secrets, "{name} {format:?}: secret {s}");
            }
            if !secrets {
                assert!(!text.contains("v1:"), "{name}: ciphertext leaked");
            }
            // The audit log records the export with the hash of what was produced.
            assert_eq!(audit.entries().len(), 1);
            let entry = &audit.entries()[0];
            assert_eq!(entry.action, AuditAction::Export);
            assert_eq!(entry.actor, p.user_id().unwrap_or("anonymous"));
            assert!(entry.details.contains(&out.sha256), "{}", entry.details);
            audit.verify().unwrap();
        }
    }
}

#[test]
fn view_drops_relationships_to_invisible_records() {
    let view = dataset().view_for(&Principal::Anonymous);
    view.validate().unwrap();
    // act_a_1's victim is private to org A: the act stays, the link goes.
    let act = view.acts.iter().find(|a| a.id == "act_a_1").unwrap();
    assert_eq!(act.victim_id, None);
    // act_a_2 belongs to a private incident: gone, and its invocation with it.
    assert!(view.acts.iter().all(|a| a.id != "act_a_2"));
    assert!(view.invocations.is_empty());
    // the retaliation link points at a private incident: gone.
    assert_eq!(view.incident_links.len(), 1);
    // the assessment keeps external event ids and public incidents only.
    assert_eq!(
        view.assessments[0].evidence_ids,
        vec!["inc_a_published", "evt_42"]
    );
    // coalition evidence and its custody chain are not public.
    assert!(view.evidence.is_empty() && view.custody.is_empty());
    // the witness source is coalition-only; its citation goes too.
    assert!(view
        .citations
        .iter()
        .all(|c| c.source_id != "src_a_witness"));
    // histories name no documenter.
    for i in &view.incidents {
        assert!(i
            .meta
            .versions
            .iter()
            .all(|v| v.by == policy::REDACTED_USER));
    }
}

#[test]
fn view_of_a_coalition_member_keeps_custody_chains_verifiable() {
    let view = dataset().view_for(&user(ORG_B, Role::Viewer));
    assert_eq!(view.evidence.len(), 1);
    assert_eq!(view.evidence[0].provenance, Some(SensitiveField::Redacted));
    assert_eq!(view.evidence[0].linked_ids, vec!["inc_a_published"]);
    view.verify_custody().unwrap();
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any text in any string field survives CSV exactly (commas,
        /// quotes, new lines, JSON look-alikes, Khmer, empty strings).
        #[test]
        fn any_text_survives_csv(title in ".{0,40}", summary in "[\"\\[\\]{},\n0-9a-z ]{0,20}", tag in "(true|false|null|[0-9]{1,3}|\"x\"|)") {
            let mut ds = dataset();
            ds.incidents[0].title = title;
            ds.incidents[0].summary = summary;
            ds.incidents[0].tags = vec![tag.clone()];
            ds.incidents[1].unverified_note = Some(tag);
            let back = from_csv(&to_csv(&ds).unwrap()).unwrap();
            prop_assert_eq!(back, ds);
        }
    }
}
