//! The registry commands as a user runs them: `canary admin gen-key`,
//! `canary seed kh`, `canary registry export|import`, `canary verify`
//! against real SQLite files, tampered with behind Canary's back.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use canary_registry::evidence::{acquire, Acquisition};
use canary_registry::{io, seed, CustodyAction, Dataset, ObjectStore, Principal, Role};
use serde_json::Value;

/// The clear text of the seed's one sensitive field: must never appear in
/// a database file, an error or a public export.
fn secret() -> String {
    let mut ds = seed::kh();
    let mut out = None;
    for a in &mut ds.actors {
        if let Some(s) = a.identity.as_ref().and_then(|f| f.as_clear()) {
            out = Some(s.to_owned());
        }
    }
    out.expect("the seed has one identity in clear")
}

fn canary(dir: &Path, args: &[&str]) -> Output {
    canary_with_stdin(dir, args, None)
}

fn canary_with_stdin(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_canary"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("CANARY_FIELD_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("canary runs");
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("canary finishes")
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_str(&ok(o)).expect("JSON output")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn gen_key(dir: &Path, name: &str) -> PathBuf {
    ok(&canary(dir, &["admin", "gen-key", "--output", name]));
    dir.join(name)
}

fn file_contains(path: &Path, needle: &str) -> bool {
    let bytes = std::fs::read(path).expect("readable");
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn gen_key_writes_an_owner_only_key_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let key = gen_key(dir.path(), "field.key");
    let text = std::fs::read_to_string(&key).unwrap();
    assert!(
        canary_registry::FieldKey::parse(&text).is_ok(),
        "a key file"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let again = canary(dir.path(), &["admin", "gen-key", "--output", "field.key"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text_of_stderr(&again).contains("never overwritten"));
    assert_eq!(std::fs::read_to_string(&key).unwrap(), text, "untouched");
}

fn text_of_stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn seed_needs_a_key_for_its_sensitive_field_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let secret = secret();
    let refused = canary(d, &["seed", "kh", "--database", "a.db"]);
    assert_eq!(refused.status.code(), Some(2));
    let message = text_of_stderr(&refused);
    assert!(message.contains("actr_minor_2021.identity") && message.contains("--key-file"));
    assert!(!message.contains(&secret));

    let key = gen_key(d, "field.key");
    let key = key.to_str().unwrap();
    let first = json(&canary(
        d,
        &[
            "seed",
            "kh",
            "--database",
            "a.db",
            "--key-file",
            key,
            "--json",
        ],
    ));
    let total = seed::kh().len() as u64;
    assert_eq!(first["changed"], total);
    assert_eq!(first["sensitive"], "sealed");
    assert_eq!(first["collections"]["incidents"]["inserted"], 12);
    let second = json(&canary(
        d,
        &[
            "seed",
            "kh",
            "--database",
            "a.db",
            "--key-file",
            key,
            "--json",
        ],
    ));
    assert_eq!(second["changed"], 0);
    assert_eq!(second["collections"]["incidents"]["unchanged"], 12);
    assert!(!file_contains(&d.join("a.db"), &secret), "sealed at rest");

    // The key may come from the environment instead.
    let key_text = std::fs::read_to_string(key).unwrap();
    let from_env = Command::new(env!("CARGO_BIN_EXE_canary"))
        .args(["seed", "kh", "--database", "b.db", "--json"])
        .current_dir(d)
        .env("CANARY_FIELD_KEY", key_text.trim())
        .output()
        .unwrap();
    assert_eq!(json(&from_env)["sensitive"], "sealed");

    let redacted = json(&canary(
        d,
        &[
            "seed",
            "kh",
            "--database",
            "c.db",
            "--without-sensitive",
            "--json",
        ],
    ));
    assert_eq!(redacted["sensitive"], "redacted");
    assert_eq!(redacted["changed"], total);
}

fn read_dataset(path: &Path) -> Dataset {
    if path.is_dir() {
        let mut files = std::collections::BTreeMap::new();
        for e in std::fs::read_dir(path).unwrap() {
            let e = e.unwrap();
            files.insert(
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            );
        }
        io::from_csv(&files).unwrap()
    } else {
        io::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
    }
}

#[test]
fn exports_in_json_and_csv_import_into_a_fresh_database_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = gen_key(d, "field.key");
    let key = key.to_str().unwrap();
    ok(&canary(
        d,
        &["seed", "kh", "--database", "a.db", "--key-file", key],
    ));
    let secret = secret();
    for (format, out) in [("json", "public.json"), ("csv", "public-csv")] {
        let summary = json(&canary(
            d,
            &[
                "registry",
                "export",
                "--database",
                "a.db",
                "--format",
                format,
                "--output",
                out,
                "--json",
            ],
        ));
        let exported = read_dataset(&d.join(out));
        assert_eq!(summary["rows"], exported.len() as u64);
        assert_eq!(summary["for"], "anonymous");
        assert_eq!(summary["sha256"].as_str().map(str::len), Some(64));
        assert!(!exported.incidents.is_empty());
        assert!(
            exported.incidents.iter().all(|i| i.meta.is_public()),
            "the public view has published records only"
        );
        let fresh = format!("fresh-{format}.db");
        let imported = json(&canary(
            d,
            &["registry", "import", out, "--database", &fresh, "--json"],
        ));
        assert_eq!(imported["changed"], exported.len() as u64);
        let again = json(&canary(
            d,
            &["registry", "import", out, "--database", &fresh, "--json"],
        ));
        assert_eq!(again["changed"], 0, "idempotent");
        // The public view cannot go back over the full records it came from.
        let back = canary(d, &["registry", "import", out, "--database", "a.db"]);
        let stderr = String::from_utf8_lossy(&back.stderr);
        assert!(!back.status.success(), "{stderr}");
        assert!(
            stderr.contains("export made for another reader") && stderr.contains("fresh database"),
            "the refusal says why and what to do: {stderr}"
        );
        let back = format!("back-{format}.json");
        ok(&canary(
            d,
            &[
                "registry",
                "export",
                "--database",
                &fresh,
                "--output",
                &back,
            ],
        ));
        assert_eq!(read_dataset(&d.join(&back)), exported, "{format}");
    }
    assert!(!file_contains(&d.join("public.json"), &secret));

    // An analyst of the owning organisation sees more, and with --reveal
    // and the key reads the sensitive field; each read is audited.
    ok(&canary_with_stdin(
        d,
        &[
            "admin",
            "create-user",
            "--database",
            "a.db",
            "--name",
            "dara",
            "--role",
            "analyst",
            "--org",
            seed::SEED_ORG,
            "--password-stdin",
        ],
        Some("a long enough passphrase\n"),
    ));
    let before = json(&canary(d, &["verify", "--database", "a.db", "--json"]))["audit_entries"]
        .as_u64()
        .unwrap();
    ok(&canary(
        d,
        &[
            "registry",
            "export",
            "--database",
            "a.db",
            "--output",
            "dara.json",
            "--as",
            "dara",
            "--reveal",
            "--key-file",
            key,
        ],
    ));
    let dara = read_dataset(&d.join("dara.json"));
    assert!(dara.incidents.len() > read_dataset(&d.join("public.json")).incidents.len());
    assert!(
        file_contains(&d.join("dara.json"), &secret),
        "revealed to its reader"
    );
    let after = json(&canary(d, &["verify", "--database", "a.db", "--json"]));
    assert_eq!(after["ok"], true);
    assert_eq!(
        after["audit_entries"].as_u64().unwrap(),
        before + 2,
        "one read_sensitive and one export entry"
    );

    // A wrong key opens nothing and writes nothing.
    let wrong = gen_key(d, "wrong.key");
    let failed = canary(
        d,
        &[
            "registry",
            "export",
            "--database",
            "a.db",
            "--output",
            "wrong.json",
            "--as",
            "dara",
            "--reveal",
            "--key-file",
            wrong.to_str().unwrap(),
        ],
    );
    assert_eq!(failed.status.code(), Some(2));
    let message = text_of_stderr(&failed);
    assert!(
        message.contains("cannot open sealed field identity"),
        "{message}"
    );
    assert!(!message.contains(&secret));
    assert!(!d.join("wrong.json").exists());
    let checked = canary(
        d,
        &[
            "verify",
            "--database",
            "a.db",
            "--key-file",
            wrong.to_str().unwrap(),
        ],
    );
    assert_eq!(checked.status.code(), Some(1));
    assert!(text(&checked).contains("BROKEN sensitive actr_minor_2021"));
    assert!(!text(&checked).contains(&secret));
}

/// The seed plus three evidence items (files in `evidence`), each with a
/// custody chain of three events.
fn dataset_with_evidence(evidence: &Path) -> Dataset {
    let mut ds = seed::kh();
    let objects = ObjectStore::new(evidence);
    let p = Principal::user("u_dara", seed::SEED_ORG, Role::Analyst);
    let t = time::macros::datetime!(2026-11-29 10:00 UTC);
    for id in ["ev_a", "ev_b", "ev_c", "ev_d"] {
        let (item, first) = acquire(
            &objects,
            format!("<html>{id}</html>").as_bytes(),
            Acquisition {
                id: id.into(),
                by: &p,
                at: t,
                media_type: "text/html".into(),
                acquired_from: None,
                method: "test".into(),
            },
        )
        .unwrap();
        let second = first.next(CustodyAction::Viewed, "u_sok", t, "looked");
        let third = second.next(CustodyAction::Verified, "u_sok", t, "hash ok");
        ds.evidence.push(item);
        ds.custody.extend([first, second, third]);
    }
    ds
}

fn sqlite3(db: &Path, sql: &str) {
    let o = Command::new("sqlite3").arg(db).arg(sql).output().unwrap();
    assert!(o.status.success(), "{sql}: {}", text_of_stderr(&o));
}

#[test]
fn verify_passes_then_names_every_item_tampered_with_in_the_database_file() {
    if Command::new("sqlite3").arg("-version").output().is_err() {
        eprintln!("skipping: the sqlite3 command is not installed (apt-get install sqlite3)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let evidence = d.join("evidence");
    let ds = dataset_with_evidence(&evidence);
    std::fs::write(d.join("with-evidence.json"), io::to_json(&ds).unwrap()).unwrap();
    let key = gen_key(d, "field.key");
    let imported = json(&canary(
        d,
        &[
            "registry",
            "import",
            "with-evidence.json",
            "--key-file",
            key.to_str().unwrap(),
            "--database",
            "r.db",
            "--json",
        ],
    ));
    assert_eq!(imported["collections"]["custody"]["inserted"], 12);
    let good = ok(&canary(
        d,
        &["verify", "--database", "r.db", "--evidence-dir", "evidence"],
    ));
    assert!(good.starts_with("OK: "), "{good}");
    assert!(good.contains("4 custody chains (12 events)"), "{good}");
    let heads = ok(&canary(d, &["verify", "--database", "r.db", "--json"]));
    std::fs::write(d.join("heads.json"), heads).unwrap();
    let anchored = ok(&canary(
        d,
        &["verify", "--database", "r.db", "--anchors", "heads.json"],
    ));
    assert!(anchored.starts_with("OK: "), "{anchored}");

    let db = d.join("r.db");
    let incident = &ds.incidents[0].meta.id;
    sqlite3(
        &db,
        &format!(
            "DROP TRIGGER registry_custody_no_update; DROP TRIGGER registry_custody_no_delete; \
             UPDATE registry_custody SET details = 'nothing happened' WHERE item = 'ev_a' AND seq = 1; \
             INSERT INTO registry_custody (item, seq, action, actor, at, details, prev_hash, entry_hash) \
               SELECT item, 3, 'viewed', 'u_x', at, 'forged', entry_hash, entry_hash \
               FROM registry_custody WHERE item = 'ev_b' AND seq = 2; \
             DELETE FROM registry_custody WHERE item = 'ev_c' AND seq = 2; \
             UPDATE registry_records SET body = REPLACE(body, '\"title\":\"', '\"title\":\"Not ') \
               WHERE id = '{incident}';"
        ),
    );
    let broken = canary(
        d,
        &["verify", "--database", "r.db", "--evidence-dir", "evidence"],
    );
    assert_eq!(broken.status.code(), Some(1), "{}", text(&broken));
    let out = text(&broken);
    for needle in [
        "BROKEN custody ev_a: chain ev_a broken at position 1",
        "BROKEN custody ev_b: chain ev_b broken at position 3",
        "BROKEN custody ev_c: chain ev_c broken at position 2",
        &format!("BROKEN record {incident}:"),
    ] {
        assert!(out.contains(needle), "{needle:?} not in:\n{out}");
    }
    assert!(
        !out.contains("ev_d"),
        "the untouched item is not named:\n{out}"
    );
    let anchored = text(&canary(
        d,
        &["verify", "--database", "r.db", "--anchors", "heads.json"],
    ));
    assert!(
        anchored.contains("BROKEN custody ev_c: entry 2 of the saved head is gone"),
        "{anchored}"
    );
    let report = json_any(&canary(d, &["verify", "--database", "r.db", "--json"]));
    assert_eq!(report["ok"], false);
    assert_eq!(report["problems"].as_array().unwrap().len(), 4);
}

/// JSON on stdout whatever the exit status.
fn json_any(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).expect("JSON output")
}

/// `canary serve` killed on drop.
struct Serve(std::process::Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_demo_seeds_the_registry_redacted_without_a_key_and_sealed_with_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = gen_key(d, "field.key");
    for (db, key) in [("nokey.db", None), ("key.db", Some(key.to_str().unwrap()))] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_canary"));
        cmd.args([
            "serve",
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--database",
            db,
        ])
        .current_dir(d)
        .env_remove("CANARY_FIELD_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        if let Some(k) = key {
            cmd.args(["--key-file", k]);
        }
        let mut server = Serve(cmd.spawn().unwrap());
        let stdout = server.0.stdout.take().unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        assert!(
            line.starts_with("canary serve: http://127.0.0.1:"),
            "{line}"
        );
        drop(server);
        let out = format!("{db}.json");
        ok(&canary(
            d,
            &["registry", "export", "--database", db, "--output", &out],
        ));
        let public = read_dataset(&d.join(&out));
        assert!(!public.incidents.is_empty(), "{db}: incidents at once");
        let good = ok(&canary(d, &["verify", "--database", db]));
        assert!(good.starts_with("OK: "), "{good}");
        let expected = if key.is_some() { "sealed" } else { "redacted" };
        // The minor's identity is never public; the stored form says how it was kept.
        let again = json(&canary(
            d,
            &[
                "seed",
                "kh",
                "--database",
                db,
                "--without-sensitive",
                "--json",
            ],
        ));
        assert_eq!(again["changed"], 0, "{db}: the demo loaded the seed");
        assert!(!file_contains(&d.join(db), &secret()));
        let stored_form = file_contains(&d.join(db), "\"identity\":{\"sealed\"");
        assert_eq!(stored_form, expected == "sealed", "{db}");
    }
}

#[test]
fn rekey_reseals_under_the_new_key_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let old = gen_key(d, "old.key");
    let old = old.to_str().unwrap();
    ok(&canary(
        d,
        &["admin", "gen-key", "--id", "2", "--output", "new.key"],
    ));
    ok(&canary(
        d,
        &["seed", "kh", "--database", "k.db", "--key-file", old],
    ));
    // A wrong old key: nothing changes.
    let wrong = gen_key(d, "wrong.key");
    let failed = canary(
        d,
        &[
            "registry",
            "rekey",
            "--database",
            "k.db",
            "--key-file",
            "new.key",
            "--old-key-file",
            wrong.to_str().unwrap(),
        ],
    );
    assert_eq!(failed.status.code(), Some(2), "{}", text(&failed));
    ok(&canary(
        d,
        &["verify", "--database", "k.db", "--key-file", old],
    ));
    // The right one: the one sealed record moves to key 2.
    let out = ok(&canary(
        d,
        &[
            "registry",
            "rekey",
            "--database",
            "k.db",
            "--key-file",
            "new.key",
            "--old-key-file",
            old,
            "--by",
            "u_admin",
        ],
    ));
    assert!(out.contains("1 record(s) re-sealed with key 2"), "{out}");
    let again = ok(&canary(
        d,
        &[
            "registry",
            "rekey",
            "--database",
            "k.db",
            "--key-file",
            "new.key",
            "--old-key-file",
            old,
        ],
    ));
    assert!(again.contains("0 record(s)"), "{again}");
    ok(&canary(
        d,
        &["verify", "--database", "k.db", "--key-file", "new.key"],
    ));
    let with_old = canary(d, &["verify", "--database", "k.db", "--key-file", old]);
    assert_eq!(with_old.status.code(), Some(1));
    assert!(
        text(&with_old).contains("no key with id 2"),
        "{}",
        text(&with_old)
    );
    // The seed is still idempotent over the re-sealed record.
    let seeded = json(&canary(
        d,
        &[
            "seed",
            "kh",
            "--database",
            "k.db",
            "--key-file",
            "new.key",
            "--json",
        ],
    ));
    assert_eq!(seeded["changed"], 0);
    assert_eq!(seeded["collections"]["actors"]["older"], 1);
}
