//! The Cambodia seed dataset: consistent, sourced, written in our own words,
//! honest about what is unverified, and safe to publish.

use std::collections::HashSet;

use canary_registry::*;

#[test]
fn seed_dataset_is_consistent_and_deterministic() {
    let ds = seed::kh();
    ds.validate().unwrap();
    assert_eq!(ds, seed::kh());
    for (name, min) in [
        ("incidents", 12),
        ("acts", 20),
        ("laws", 10),
        ("provisions", 25),
        ("sources", 20),
        ("actors", 20),
        ("benchmarks", 2),
    ] {
        let n = ds.counts().into_iter().find(|(k, _)| *k == name).unwrap().1;
        assert!(n >= min, "{name}: {n}");
    }
}

#[test]
fn every_incident_law_and_provision_cites_a_source() {
    let ds = seed::kh();
    let cited: HashSet<&str> = ds.citations.iter().map(|c| c.record_id.as_str()).collect();
    let records = ds
        .incidents
        .iter()
        .map(|r| &r.meta.id)
        .chain(ds.laws.iter().map(|r| &r.meta.id))
        .chain(ds.benchmarks.iter().map(|r| &r.meta.id))
        .chain(ds.provisions.iter().map(|r| &r.meta.id));
    for id in records {
        assert!(cited.contains(id.as_str()), "{id} has no source");
    }
    for s in &ds.sources {
        assert!(!s.publication.is_empty());
        if let Some(url) = &s.url {
            assert!(url.starts_with("https://"), "{url}");
        }
    }
    for i in &ds.incidents {
        assert!(
            ds.acts.iter().any(|a| a.incident_id == i.meta.id),
            "{} has no act",
            i.meta.id
        );
    }
}

#[test]
fn unverified_facts_are_flagged_and_not_published() {
    let ds = seed::kh();
    let mut flagged = Vec::new();
    macro_rules! check {
        ($v:expr) => {
            for r in &$v {
                assert_eq!(r.verified, r.unverified_note.is_none(), "{}", r.meta.id);
                if r.verified {
                    assert!(r.meta.is_public(), "{}", r.meta.id);
                } else {
                    assert_eq!(
                        (r.meta.visibility, r.meta.status),
                        (Visibility::Coalition, Status::InReview),
                        "{}",
                        r.meta.id
                    );
                    flagged.push(r.meta.id.clone());
                }
            }
        };
    }
    check!(ds.incidents);
    check!(ds.laws);
    check!(ds.provisions);
    check!(ds.benchmarks);
    for id in [
        "law_kh_telecom",           // promulgation number
        "law_kh_prakas_170",        // day of signature
        "law_kh_nig",               // sub-decree number
        "prov_kh_nig_13",           // content of the article
        "inc_2015_kong_raya",       // year of arrest inferred
        "inc_2020_ny_nak",          // year inferred
        "bm_sr2022_draconian_laws", // list of benchmarks not retrieved
    ] {
        assert!(
            flagged.contains(&id.to_owned()),
            "{id} should be flagged unverified"
        );
    }
    // Telecom Law art. 93: content not found, so not seeded.
    assert!(ds
        .provisions
        .iter()
        .all(|p| !(p.law_id == "law_kh_telecom" && p.article == "93")));
}

#[test]
fn key_facts_are_recorded_as_reported() {
    let ds = seed::kh();
    let incident = |id: &str| ds.incidents.iter().find(|i| i.meta.id == id).unwrap();
    // (incident, start as reported)
    for (id, start) in [
        ("inc_2018_kheang_navy", "2018-05-12"),
        ("inc_2018_ban_samphy", "2018-05-19"),
        ("inc_2020_rong_chhun", "2020-07-31"),
        ("inc_2021_nig_subdecree", "2021-02-16"),
        ("inc_2023_vod_closure", "2023-02-12"),
        ("inc_2023_trc_blocking", "2023-07-12"),
        ("inc_2015_kong_raya", "2015"),
    ] {
        assert_eq!(incident(id).start.to_string(), start, "{id}");
    }
    let law = |id: &str| ds.laws.iter().find(|l| l.meta.id == id).unwrap();
    assert_eq!(
        law("law_kh_telecom").adopted.unwrap().to_string(),
        "2015-12-17",
        "signed 2015, not 2018"
    );
    assert_eq!(law("law_kh_nig").legal_status, LegalStatus::Adopted);
    assert_eq!(
        law("law_kh_draft_cybercrime").legal_status,
        LegalStatus::Draft
    );
    // Lese-majeste arrests invoke art. 437 bis; the 2023 order was the TRC's at the ministry's request.
    for act in ["act_2018_kheang_navy_arrest", "act_2018_ban_samphy_arrest"] {
        assert!(ds
            .invocations
            .iter()
            .any(|i| i.act_id == act && i.provision_id == "prov_kh_pc_437bis"));
    }
    let trc: Vec<(&str, Degree)> = ds
        .involvements
        .iter()
        .filter(|i| i.act_id == "act_2023_trc_blocking_1")
        .map(|i| (i.actor_id.as_str(), i.degree))
        .collect();
    assert_eq!(
        trc,
        vec![
            ("actr_trc", Degree::Ordered),
            ("actr_moinf", Degree::Requested),
            ("actr_isps_kh", Degree::Executed)
        ]
    );
    let isps: Vec<Option<u32>> = ds
        .actors
        .iter()
        .filter(|a| a.kind == ActorKind::Company)
        .map(|a| a.asn)
        .collect();
    assert_eq!(isps, vec![Some(38623), Some(17976)]);
}

#[test]
fn the_public_export_never_names_the_minor() {
    let ds = seed::kh();
    let mut audit = AuditLog::new();
    let out = export(
        &ds,
        &Principal::Anonymous,
        ExportFormat::Json,
        seed::SEED_AT,
        &mut audit,
    )
    .unwrap();
    let text = &out.files["dataset.json"];
    assert!(!text.contains("Sovannchhay"));
    assert!(text.contains("A 16-year-old"));
    let ring = KeyRing::new(FieldKey::from_bytes(1, [5; 32]));
    let mut sealed = ds.clone();
    sealed.seal_all(&ring).unwrap();
    assert!(
        !io::to_json(&sealed).unwrap().contains("Sovannchhay"),
        "sealed at rest"
    );
}

/// Reads the project's facts file (outside the repository) when present and
/// checks that no paraphrase of it was copied verbatim into the dataset.
#[test]
fn paraphrases_are_our_own_words() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/kh-legal-facts.md");
    let Ok(facts) = std::fs::read_to_string(&path) else {
        eprintln!("skipping: {} not found", path.display());
        return;
    };
    let ds = seed::kh();
    let ours: Vec<String> = ds
        .provisions
        .iter()
        .map(|p| p.paraphrase_en.clone())
        .chain(ds.incidents.iter().map(|i| i.summary.clone()))
        .chain(ds.laws.iter().filter_map(|l| l.summary_en.clone()))
        .collect();
    let mut checked = 0;
    for line in facts.lines().filter(|l| l.starts_with('|')) {
        for cell in line.split('|').map(str::trim).filter(|c| c.len() >= 40) {
            checked += 1;
            for text in &ours {
                assert!(!text.contains(cell), "copied from the facts file: {cell:?}");
            }
        }
    }
    assert!(checked > 10, "facts table not found in {}", path.display());
}
