//! Field encryption: round-trips, binding to (entity, record, field), wrong
//! keys, tampering, rotation, key files, and no plaintext in errors or Debug.

mod common;

use canary_registry::*;
use common::*;
use proptest::prelude::*;

fn ring(id: u8, byte: u8) -> KeyRing {
    KeyRing::new(FieldKey::from_bytes(id, [byte; 32]))
}

fn ctx<'a>(record: &'a str, field: &'a str) -> FieldContext<'a> {
    FieldContext {
        entity: EntityType::Actor,
        record,
        field,
    }
}

#[test]
fn seal_then_open_gives_the_plaintext_back_and_the_serde_form_is_compact() {
    let r = ring(4, 1);
    for plain in ["", "Kak Sovannchhay", "ភូមិ ក, ឃុំ ខ", "line\nbreak \"quoted\""]
    {
        let sealed = SealedText::seal(plain, &r, ctx("actr_1", "identity")).unwrap();
        let text = sealed.to_string();
        assert!(text.starts_with("v1:4:"), "{text}");
        assert!(!text.contains(plain) || plain.is_empty());
        let parsed: SealedText = text.parse().unwrap();
        assert_eq!(parsed, sealed);
        assert_eq!(
            parsed.open(&r, ctx("actr_1", "identity")).unwrap().as_str(),
            plain
        );
        let json = serde_json::to_string(&SensitiveField::Sealed(sealed)).unwrap();
        assert_eq!(json, format!("{{\"sealed\":\"{text}\"}}"));
    }
}

#[test]
fn sealing_twice_uses_fresh_nonces() {
    let r = ring(1, 1);
    let a = SealedText::seal("same", &r, ctx("actr_1", "identity")).unwrap();
    let b = SealedText::seal("same", &r, ctx("actr_1", "identity")).unwrap();
    assert_ne!(a, b);
}

#[test]
fn a_ciphertext_opens_only_where_it_was_sealed_and_with_its_key() {
    let r = ring(1, 1);
    let sealed = SealedText::seal("SECRET", &r, ctx("actr_1", "identity")).unwrap();
    let other_entity = FieldContext {
        entity: EntityType::Source,
        record: "actr_1",
        field: "identity",
    };
    let cases: Vec<(&str, KeyRing, FieldContext<'_>)> = vec![
        (
            "wrong key with the same id",
            ring(1, 2),
            ctx("actr_1", "identity"),
        ),
        (
            "moved to another record",
            ring(1, 1),
            ctx("actr_2", "identity"),
        ),
        (
            "moved to another field",
            ring(1, 1),
            ctx("actr_1", "contact"),
        ),
        ("moved to another entity type", ring(1, 1), other_entity),
    ];
    for (name, key, c) in cases {
        let err = sealed.open(&key, c).expect_err(name);
        let msg = err.to_string();
        assert!(matches!(err, Error::Decrypt { .. }), "{name}: {err:?}");
        assert!(msg.contains("wrong key"), "{name}: {msg}");
        assert!(!msg.contains("SECRET"), "{name}: plaintext in error");
    }
    let err = sealed
        .open(&ring(9, 1), ctx("actr_1", "identity"))
        .unwrap_err();
    assert!(
        matches!(err, Error::UnknownKey { key_id: 1, .. }),
        "{err:?}"
    );
}

#[test]
fn any_altered_byte_of_a_sealed_value_is_rejected() {
    let r = ring(1, 1);
    let text = SealedText::seal("SECRET", &r, ctx("actr_1", "identity"))
        .unwrap()
        .to_string();
    let b64 = &text[5..];
    for i in 0..b64.len() {
        let mut chars: Vec<char> = b64.chars().collect();
        chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
        let altered = format!("v1:1:{}", chars.iter().collect::<String>());
        if let Ok(s) = altered.parse::<SealedText>() {
            assert!(s.open(&r, ctx("actr_1", "identity")).is_err(), "byte {i}");
        }
    }
}

#[test]
fn malformed_sealed_values_are_rejected_with_a_reason() {
    for (text, needle) in [
        ("", "expected v1"),
        ("v2:1:AAAA", "expected v1"),
        ("v1:300:AAAA", "0-255"),
        ("v1:1:!!!!", "base64"),
        ("v1:1:AAAA", "too short"),
    ] {
        let err = text.parse::<SealedText>().unwrap_err().to_string();
        assert!(err.contains(needle), "{text:?}: {err}");
    }
}

#[test]
fn a_rotated_ring_opens_old_values_and_seals_with_the_new_key() {
    let old = ring(1, 1);
    let mut a = actor("actr_1", ORG_A, Visibility::Private, Status::Draft);
    seal_record(&mut a, &old).unwrap();
    let rotated = KeyRing::new(FieldKey::from_bytes(2, [2; 32]))
        .with_older(FieldKey::from_bytes(1, [1; 32]))
        .unwrap();
    open_record(&mut a, &rotated).unwrap();
    assert_eq!(
        a.identity.as_ref().and_then(|f| f.as_clear()),
        Some("SECRET-victim-identity")
    );
    seal_record(&mut a, &rotated).unwrap();
    match &a.identity {
        Some(SensitiveField::Sealed(s)) => assert_eq!(s.key_id(), 2),
        other => panic!("{other:?}"),
    }
    assert!(KeyRing::new(FieldKey::from_bytes(2, [2; 32]))
        .with_older(FieldKey::from_bytes(2, [3; 32]))
        .is_err());
}

#[test]
fn a_dataset_sealed_with_one_key_gives_no_plaintext_with_another() {
    let mut ds = dataset();
    ds.seal_all(&ring(1, 1)).unwrap();
    let json = io::to_json(&ds).unwrap();
    for s in SECRETS {
        assert!(!json.contains(s), "{s} stored in clear");
    }
    let mut wrong = ds.clone();
    let err = wrong.open_all(&ring(1, 2)).unwrap_err();
    assert!(matches!(err, Error::Decrypt { .. }), "{err}");
    let after = io::to_json(&wrong).unwrap();
    for s in SECRETS {
        assert!(!after.contains(s));
    }
    ds.open_all(&ring(1, 1)).unwrap();
    assert_eq!(ds, dataset());
}

#[test]
fn key_text_forms_parse_and_bad_ones_are_refused_without_echo() {
    let hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let b64 = "ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu8zd7v8=";
    // (text, key id) — all the same 32 bytes
    for (text, id) in [
        (hex.to_owned(), 1),
        (format!("7:{hex}"), 7),
        (format!("  {hex}\n"), 1),
        (b64.to_owned(), 1),
        (format!("3:{}", b64.trim_end_matches('=')), 3),
    ] {
        let k = FieldKey::parse(&text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(k.id(), id);
        let reference = KeyRing::new(FieldKey::from_bytes(id, {
            let mut b = [0u8; 32];
            hex::decode_to_slice(hex, &mut b).unwrap();
            b
        }));
        let sealed = SealedText::seal("x", &KeyRing::new(k), ctx("actr_1", "f")).unwrap();
        assert_eq!(
            sealed
                .open(&reference, ctx("actr_1", "f"))
                .unwrap()
                .as_str(),
            "x",
            "{text:?}"
        );
    }
    let secretish = "deadbeef".repeat(7);
    for bad in ["", "abc", "300:00", &secretish, "x:00112233"] {
        let err = FieldKey::parse(bad).unwrap_err().to_string();
        assert!(
            bad.len() < 8 || !err.contains(bad),
            "error echoes the key: {err}"
        );
    }
}

#[test]
fn keys_load_from_files_and_the_environment_and_never_print() {
    let k = FieldKey::generate(5).unwrap();
    let text = k.to_key_file_text();
    assert!(!format!("{k:?}").contains(&text.as_str()[2..10]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("field.key");
    std::fs::write(&path, text.as_bytes()).unwrap();
    let from_file = FieldKey::from_file(&path).unwrap();
    assert_eq!(from_file.id(), 5);
    let sealed = SealedText::seal("x", &KeyRing::new(k), ctx("actr_1", "f")).unwrap();
    assert_eq!(
        sealed
            .open(&KeyRing::new(from_file), ctx("actr_1", "f"))
            .unwrap()
            .as_str(),
        "x"
    );

    std::fs::write(&path, vec![b'a'; 5000]).unwrap();
    assert!(matches!(
        FieldKey::from_file(&path),
        Err(Error::TooLarge { .. })
    ));
    assert!(FieldKey::from_file(dir.path().join("missing"))
        .unwrap_err()
        .to_string()
        .contains("missing"));

    let var = "CANARY_REGISTRY_TEST_KEY_UNSET_1f9c";
    assert!(FieldKey::from_env(var)
        .unwrap_err()
        .to_string()
        .contains(var));
}

#[test]
fn debug_output_never_shows_clear_text() {
    let f = SensitiveField::clear("SECRET-victim-identity");
    assert!(!format!("{f:?}").contains("SECRET"));
    let a = actor("actr_1", ORG_A, Visibility::Private, Status::Draft);
    assert!(!format!("{a:?}").contains("SECRET"));
}

proptest! {
    #[test]
    fn any_text_round_trips_through_sealing(plain in ".{0,200}", record in "actr_[a-z0-9]{1,20}", key in any::<[u8; 32]>(), id in any::<u8>()) {
        let r = KeyRing::new(FieldKey::from_bytes(id, key));
        let c = ctx(&record, "identity");
        let sealed = SealedText::seal(&plain, &r, c).unwrap();
        let back: SealedText = sealed.to_string().parse().unwrap();
        let opened = back.open(&r, c).unwrap();
        prop_assert_eq!(opened.as_str(), plain.as_str());
    }

    #[test]
    fn a_different_key_never_opens(plain in ".{0,64}", k1 in any::<[u8; 32]>(), k2 in any::<[u8; 32]>()) {
        prop_assume!(k1 != k2);
        let c = ctx("actr_1", "identity");
        let sealed = SealedText::seal(&plain, &KeyRing::new(FieldKey::from_bytes(1, k1)), c).unwrap();
        prop_assert!(sealed.open(&KeyRing::new(FieldKey::from_bytes(1, k2)), c).is_err());
    }
}

#[test]
fn revealing_sensitive_fields_is_allowed_per_role_and_audited() {
    let ring = ring(1, 1);
    let mut a = actor("actr_1", ORG_A, Visibility::Coalition, Status::Verified);
    seal_record(&mut a, &ring).unwrap();
    // (principal, outcome: Some(clear?) or None for forbidden, audit entries)
    let cases = [
        (user(ORG_A, Role::Analyst), Some(true), 2),
        (user(ORG_A, Role::Admin), Some(true), 2),
        (user(ORG_A, Role::Viewer), Some(false), 0),
        (user(ORG_B, Role::Admin), Some(false), 0),
        (Principal::Anonymous, None, 0),
    ];
    for (p, outcome, entries) in cases {
        let mut audit = AuditLog::new();
        let r = reveal(&a, &p, &ring, &mut audit, T0);
        match (outcome, r) {
            (None, Err(Error::Forbidden(_))) => {}
            (Some(clear), Ok(shown)) => {
                let state = shown.identity.as_ref().unwrap().state();
                assert_eq!(
                    state,
                    if clear { "clear" } else { "redacted" },
                    "{}",
                    p.describe()
                );
            }
            (o, r) => panic!("{}: expected {o:?}, got {r:?}", p.describe()),
        }
        assert_eq!(audit.entries().len(), entries, "{}", p.describe());
        if entries > 0 {
            let objects: Vec<&str> = audit.entries().iter().map(|e| e.object.as_str()).collect();
            assert_eq!(objects, vec!["actr_1.identity", "actr_1.contact"]);
            assert!(audit
                .entries()
                .iter()
                .all(|e| e.action == AuditAction::ReadSensitive));
            audit.verify().unwrap();
        }
    }
    // With the wrong key nothing is revealed and nothing is logged as read.
    let mut audit = AuditLog::new();
    let err = reveal(
        &a,
        &user(ORG_A, Role::Analyst),
        &super_wrong_ring(),
        &mut audit,
        T0,
    )
    .unwrap_err();
    assert!(matches!(err, Error::Decrypt { .. }));
    assert!(audit.entries().is_empty());
}

fn super_wrong_ring() -> KeyRing {
    ring(1, 99)
}
