//! What the long-running commands show, and what scripts can read from
//! the others:
//!
//! - `import`, `reanalyse`, `seed kh`, `registry import|export|rekey` and
//!   `verify` draw a progress line on standard error when it is a terminal,
//!   and nothing at all when it is a pipe or a file (logs stay clean);
//!   warnings print on their own lines above it, not through it;
//! - `analyse` and `inspect` count on the terminal only while their results
//!   go to a file or a pipe (on screen the results are the progress);
//! - every count a script would read is offered as one JSON object with
//!   `--json`, including `registry rekey` and `submit`.
//!
//! The terminal is a pseudo-terminal from util-linux `script`; without it
//! that half is skipped with a message.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn measurements() -> String {
    repo_root()
        .join("examples/measurements.jsonl")
        .to_str()
        .expect("utf-8 path")
        .to_owned()
}

fn canary(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_canary"))
        .args(args)
        .current_dir(dir)
        .env_remove("CANARY_FIELD_KEY")
        .env_remove("RUST_LOG")
        .output()
        .expect("canary runs")
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
    let out = ok(o);
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not one JSON object ({e}): {out}"))
}

/// The long-running commands, in an order that works in a fresh folder:
/// measurements and the registry into one database, its public export
/// into a second one.
fn long_running() -> Vec<(&'static str, Vec<String>)> {
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        (
            "import",
            args(&["import", "--database", "c.db", &measurements()]),
        ),
        ("reanalyse", args(&["reanalyse", "--database", "c.db"])),
        (
            "seed kh",
            args(&["seed", "kh", "--without-sensitive", "--database", "c.db"]),
        ),
        (
            "registry export",
            args(&[
                "registry",
                "export",
                "--database",
                "c.db",
                "--format",
                "json",
                "--output",
                "public.json",
            ]),
        ),
        (
            "registry import",
            args(&["registry", "import", "--database", "d.db", "public.json"]),
        ),
        ("verify", args(&["verify", "--database", "c.db"])),
    ]
}

#[test]
fn without_a_terminal_long_running_commands_draw_no_progress() {
    let dir = tempfile::tempdir().unwrap();
    for (name, args) in long_running() {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = canary(dir.path(), &args);
        ok(&out);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains('\r') && !stderr.contains('\u{1b}') && !stderr.contains("[00:00:"),
            "{name}: progress drawn on a pipe: {stderr:?}"
        );
    }
}

/// Whether util-linux `script`, which runs a command on a pseudo-terminal,
/// is here; says the test is skipped when it is not.
fn pseudo_terminal() -> bool {
    let found = Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("util-linux"));
    if !found {
        eprintln!("skipping: util-linux `script` (a pseudo-terminal) not found");
    }
    found
}

/// `args` (quoted for the shell) as one command line for `script`.
fn shell_line(args: impl IntoIterator<Item = String>) -> String {
    std::iter::once(env!("CARGO_BIN_EXE_canary").to_owned())
        .chain(args)
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs a shell command line with standard input, output and error on a
/// pseudo-terminal in `dir`; returns whether it succeeded and what the
/// terminal showed.
fn on_terminal(dir: &Path, line: &str) -> (bool, String) {
    let out = Command::new("script")
        .args([
            "--quiet",
            "--return",
            "--flush",
            "--command",
            line,
            "/dev/null",
        ])
        .current_dir(dir)
        .env("TERM", "xterm")
        .env_remove("CANARY_FIELD_KEY")
        .env_remove("RUST_LOG")
        .output()
        .expect("script runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A progress line was drawn (`⠁ [00:00:00] 3 measurements read`).
fn drew_progress(shown: &str) -> bool {
    shown.contains("[00:00:")
}

#[test]
fn on_a_terminal_long_running_commands_draw_progress_then_clear_it() {
    if !pseudo_terminal() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, args) in long_running() {
        let (success, shown) = on_terminal(dir.path(), &shell_line(args));
        assert!(success, "{name}: {shown}");
        // drawn, then erased (ESC [2K) before the result is printed
        assert!(
            drew_progress(&shown) && shown.contains("\u{1b}[2K"),
            "{name}: no progress on a terminal: {shown:?}"
        );
    }
}

#[test]
fn on_a_terminal_warnings_print_on_their_own_lines_not_through_the_progress_line() {
    if !pseudo_terminal() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(measurements()).unwrap();
    let mixed = format!("{}{{\"truncated\": \n", good);
    std::fs::write(dir.path().join("mixed.jsonl"), mixed).unwrap();
    let (_, shown) = on_terminal(
        dir.path(),
        &shell_line(
            [
                "import",
                "--database",
                "c.db",
                "mixed.jsonl",
                "missing.jsonl",
            ]
            .map(String::from),
        ),
    );
    assert!(drew_progress(&shown), "{shown:?}");
    let warnings: Vec<&str> = shown
        .split(['\r', '\n'])
        .filter(|segment| segment.contains("canary: "))
        .collect();
    assert!(
        warnings.iter().any(|w| w.contains("mixed.jsonl:5"))
            && warnings.iter().any(|w| w.contains("missing.jsonl")),
        "both warnings shown: {shown:?}"
    );
    for warning in warnings {
        assert!(
            !warning.contains("measurements read"),
            "a warning printed through the progress line: {warning:?}"
        );
    }
}

#[test]
fn analyse_and_inspect_count_on_a_terminal_only_while_their_results_go_elsewhere() {
    if !pseudo_terminal() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for command in ["analyse", "inspect"] {
        let args = || [command, "--json", &measurements()].map(String::from);
        let (success, shown) = on_terminal(dir.path(), &shell_line(args()));
        assert!(success, "{command}: {shown}");
        assert!(
            !drew_progress(&shown),
            "{command}: a counter through its results: {shown:?}"
        );
        let to_file = format!("{} > {command}.jsonl", shell_line(args()));
        let (success, shown) = on_terminal(dir.path(), &to_file);
        assert!(success, "{command}: {shown}");
        assert!(
            drew_progress(&shown),
            "{command}: no progress while writing to a file: {shown:?}"
        );
        let written = std::fs::read_to_string(dir.path().join(format!("{command}.jsonl"))).unwrap();
        assert_eq!(written.lines().count(), 4, "{command}: {written}");
    }
}

#[test]
fn rekey_counts_what_it_resealed_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&canary(d, &["admin", "gen-key", "--output", "old.key"]));
    ok(&canary(
        d,
        &["admin", "gen-key", "--id", "2", "--output", "new.key"],
    ));
    ok(&canary(
        d,
        &["seed", "kh", "--database", "k.db", "--key-file", "old.key"],
    ));
    let rekey = |d: &Path| {
        json(&canary(
            d,
            &[
                "registry",
                "rekey",
                "--database",
                "k.db",
                "--key-file",
                "new.key",
                "--old-key-file",
                "old.key",
                "--json",
            ],
        ))
    };
    let first = rekey(d);
    assert_eq!(first["key_id"], 2, "{first}");
    assert_eq!(first["database"], "k.db", "{first}");
    assert!(first["resealed"].as_u64().unwrap() >= 1, "{first}");
    let again = rekey(d);
    assert_eq!(
        again["resealed"], 0,
        "nothing left under the old key: {again}"
    );
}

#[test]
fn submit_counts_what_it_uploaded_refused_and_kept_as_json() {
    let dir = tempfile::tempdir().unwrap();
    // A loopback port nobody listens on: every upload waits in the queue.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let queue = dir.path().join("queue");
    let out = canary(
        dir.path(),
        &[
            "submit",
            "--to",
            &format!("http://{closed}/"),
            "--queue",
            queue.to_str().unwrap(),
            "--json",
            &measurements(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "measurements left in the queue: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(
        (&counts["uploaded"], &counts["refused"], &counts["queued"]),
        (&Value::from(0), &Value::from(0), &Value::from(4)),
        "{counts}"
    );
    assert_eq!(counts["queue"], queue.to_str().unwrap(), "{counts}");
}

#[test]
fn every_command_whose_counts_a_script_reads_offers_json() {
    let dir = tempfile::tempdir().unwrap();
    let help = |sub: &[&str]| {
        let mut args = sub.to_vec();
        args.push("--help");
        ok(&canary(dir.path(), &args))
    };
    for sub in [
        &["inspect"][..],
        &["analyse"],
        &["import"],
        &["reanalyse"],
        &["seed", "kh"],
        &["verify"],
        &["registry", "export"],
        &["registry", "import"],
        &["registry", "rekey"],
        &["lists", "update"],
        &["lists", "show"],
        &["submit"],
    ] {
        assert!(help(sub).contains("--json"), "{sub:?} has no --json");
    }
}
