//! The content-addressed evidence store: originals are never overwritten,
//! every read re-checks the hash, reads and writes are bounded; intake and
//! working copies leave custody entries.

mod common;

use canary_registry::evidence::{acquire, derive_working_copy, Acquisition};
use canary_registry::*;
use common::*;

#[test]
fn objects_are_stored_under_their_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let store = ObjectStore::new(dir.path());
    let cases: &[&[u8]] = &[b"", b"screenshot", &[0u8; 200_000], "ការបិទ".as_bytes()];
    for bytes in cases {
        let s = store.put(bytes).unwrap();
        assert_eq!(s.sha256, sha256_hex(bytes));
        assert_eq!(s.size, bytes.len() as u64);
        let path = store.path_for(&s.sha256).unwrap();
        let rel = path
            .strip_prefix(dir.path())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert_eq!(
            rel,
            format!("objects/{}/{}", &s.sha256[..2], &s.sha256[2..])
        );
        assert_eq!(store.get(&s.sha256, 1 << 20).unwrap(), *bytes);
    }
    // Known vector: SHA-256("abc").
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn storing_the_same_bytes_again_leaves_the_original_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let store = ObjectStore::new(dir.path());
    let first = store.put(b"original").unwrap();
    assert!(first.created);
    let path = store.path_for(&first.sha256).unwrap();
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
    let again = store.put(b"original").unwrap();
    assert!(!again.created);
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        modified
    );
    assert!(
        std::fs::metadata(&path).unwrap().permissions().readonly(),
        "originals are read-only"
    );
    // No temporary files are left behind.
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );
}

#[test]
fn a_corrupted_object_is_reported_on_read_and_on_re_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = ObjectStore::new(dir.path());
    let s = store.put(b"original").unwrap();
    let path = store.path_for(&s.sha256).unwrap();
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&path, perms).unwrap();
    std::fs::write(&path, b"tampered").unwrap();
    let err = store.get(&s.sha256, 1024).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains(&s.sha256));
    assert!(matches!(store.put(b"original"), Err(Error::Corrupt { .. })));
}

#[test]
fn bounds_and_bad_names_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = ObjectStore::new(dir.path());
    let big = vec![1u8; 4096];
    assert!(matches!(
        store.put_reader(&big[..], 4095),
        Err(Error::TooLarge { .. })
    ));
    assert!(store.put_reader(&big[..], 4096).is_ok());
    let s = sha256_hex(&big);
    assert!(matches!(store.get(&s, 100), Err(Error::TooLarge { .. })));
    for bad in ["", "../../etc/passwd", &"A".repeat(64), &"a".repeat(63)] {
        assert!(
            matches!(store.get(bad, 10), Err(Error::Invalid { .. })),
            "{bad:?}"
        );
    }
    assert!(matches!(
        store.get(&sha256_hex(b"never stored"), 10),
        Err(Error::ObjectNotFound(_))
    ));
}

#[test]
fn intake_and_working_copies_are_linked_and_logged() {
    let dir = tempfile::tempdir().unwrap();
    let store = ObjectStore::new(dir.path());
    let analyst = user(ORG_A, Role::Analyst);
    let acq = |id: &str| Acquisition {
        id: id.into(),
        by: &analyst,
        at: T0,
        media_type: "image/png".into(),
        acquired_from: Some("https://example.invalid/post".into()),
        method: "screenshot".into(),
    };
    let (original, first) = acquire(&store, b"full screenshot", acq("ev_orig")).unwrap();
    assert_eq!(original.kind, EvidenceKind::Original);
    assert_eq!(first.action, CustodyAction::Acquired);
    assert!(first.details.contains(&original.sha256));
    let (copy, copied, copy_first) = derive_working_copy(
        &store,
        &original,
        &first,
        b"cropped",
        "cropped to the post",
        acq("ev_crop"),
    )
    .unwrap();
    assert_eq!(
        copy.kind,
        EvidenceKind::WorkingCopy {
            derived_from: "ev_orig".into(),
            derivation: "cropped to the post".into()
        }
    );
    verify_chain(&[first.clone(), copied.clone()]).unwrap();
    assert_eq!(copied.action, CustodyAction::Copied);
    assert!(copied.details.contains("ev_crop"));
    verify_chain(&[copy_first]).unwrap();
    // The original is still there, unchanged.
    assert_eq!(
        store.get(&original.sha256, 1024).unwrap(),
        b"full screenshot"
    );

    // A viewer cannot take evidence in; nothing is written for them.
    let viewer = user(ORG_A, Role::Viewer);
    let before = std::fs::read_dir(dir.path().join("objects"))
        .unwrap()
        .count();
    let denied = Acquisition {
        by: &viewer,
        ..acq("ev_denied")
    };
    assert!(matches!(
        acquire(&store, b"new bytes", denied),
        Err(Error::Forbidden(_))
    ));
    assert_eq!(
        std::fs::read_dir(dir.path().join("objects"))
            .unwrap()
            .count(),
        before
    );
    // A custody event of another item is refused as the original's last event.
    assert!(derive_working_copy(
        &store,
        &original,
        &copied.clone().next(CustodyAction::Viewed, "u", T0, ""),
        b"x",
        "y",
        acq("ev_x")
    )
    .is_ok());
    let foreign = CustodyEvent::first("ev_other", CustodyAction::Acquired, "u", T0, "");
    assert!(derive_working_copy(&store, &original, &foreign, b"x", "y", acq("ev_y")).is_err());
}
