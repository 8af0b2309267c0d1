//! The architecture invariants of ARCHITECTURE.md, checked against
//! `cargo metadata` and the crates' sources.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Crates whose presence in a dependency tree means I/O, async or a clock
/// that a pure crate must not have.
const IMPURE_CRATES: &[&str] = &[
    "tokio",
    "async-std",
    "smol",
    "mio",
    "socket2",
    "hyper",
    "reqwest",
    "ureq",
    "rustls",
    "tokio-rustls",
    "hickory-proto",
    "hickory-resolver",
    "sqlx",
    "axum",
    "rand",
    "getrandom",
];

/// Crates that must stay pure (no I/O, no async, no clock).
const PURE: &[&str] = &[
    "canary-model",
    "canary-analysis",
    "canary-ipinfo",
    "canary-social",
];

/// Source patterns a pure crate must not contain. (`std::net`'s address
/// types are plain data and allowed; its sockets are not.)
const IMPURE_SOURCE_PATTERNS: &[&str] = &[
    "std::fs",
    "TcpStream",
    "TcpListener",
    "UdpSocket",
    "to_socket_addrs",
    "std::process",
    "std::thread",
    "SystemTime::now",
    "Instant::now",
    "async fn",
    "tokio::",
    "File::open",
];

/// Crates only the binary may use.
const BINARY_ONLY: &[&str] = &["anyhow", "clap", "indicatif"];

struct Metadata {
    /// Workspace package name -> manifest directory.
    members: BTreeMap<String, PathBuf>,
    /// Package id -> package name.
    names: BTreeMap<String, String>,
    /// Package id -> ids of its normal (non-dev, non-build) dependencies.
    normal_deps: BTreeMap<String, Vec<String>>,
    /// Workspace package name -> (dependency name, kind) as declared.
    declared: BTreeMap<String, Vec<(String, String)>>,
    /// Workspace package name -> package id.
    ids: BTreeMap<String, String>,
}

fn metadata() -> Metadata {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata emits JSON");
    let workspace: BTreeSet<&str> = meta["workspace_members"]
        .as_array()
        .expect("workspace_members")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut m = Metadata {
        members: BTreeMap::new(),
        names: BTreeMap::new(),
        normal_deps: BTreeMap::new(),
        declared: BTreeMap::new(),
        ids: BTreeMap::new(),
    };
    for pkg in meta["packages"].as_array().expect("packages") {
        let id = pkg["id"].as_str().expect("id").to_string();
        let name = pkg["name"].as_str().expect("name").to_string();
        if workspace.contains(id.as_str()) {
            let manifest = PathBuf::from(pkg["manifest_path"].as_str().expect("manifest"));
            m.members
                .insert(name.clone(), manifest.parent().expect("dir").to_path_buf());
            m.ids.insert(name.clone(), id.clone());
            let deps = pkg["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .map(|d| {
                    let kind = d["kind"].as_str().unwrap_or("normal").to_string();
                    (d["name"].as_str().expect("dep name").to_string(), kind)
                })
                .collect();
            m.declared.insert(name.clone(), deps);
        }
        m.names.insert(id, name);
    }
    for node in meta["resolve"]["nodes"].as_array().expect("resolve") {
        let id = node["id"].as_str().expect("id").to_string();
        let deps = node["deps"]
            .as_array()
            .expect("deps")
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .is_some_and(|kinds| kinds.iter().any(|k| k["kind"].is_null()))
            })
            .map(|d| d["pkg"].as_str().expect("pkg").to_string())
            .collect();
        m.normal_deps.insert(id, deps);
    }
    m
}

/// Names of every crate in the normal dependency tree of `package`.
fn normal_tree(m: &Metadata, package: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![m.ids[package].clone()];
    while let Some(id) = stack.pop() {
        for dep in m.normal_deps.get(&id).into_iter().flatten() {
            if seen.insert(dep.clone()) {
                stack.push(dep.clone());
            }
        }
    }
    seen.iter().map(|id| m.names[id].clone()).collect()
}

fn rust_sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn pure_crates_have_no_io_async_or_network_crate_in_their_dependency_tree() {
    let m = metadata();
    for pure in PURE {
        if !m.members.contains_key(*pure) {
            continue;
        }
        let tree = normal_tree(&m, pure);
        let bad: Vec<&&str> = IMPURE_CRATES
            .iter()
            .filter(|c| tree.contains(**c))
            .collect();
        assert!(
            bad.is_empty(),
            "{pure} must stay pure but depends on {bad:?}"
        );
    }
}

#[test]
fn pure_crates_sources_do_no_io_and_read_no_clock() {
    let m = metadata();
    for pure in PURE {
        let Some(dir) = m.members.get(*pure) else {
            continue;
        };
        for file in rust_sources(&dir.join("src")) {
            let text = std::fs::read_to_string(&file).expect("readable source");
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for pattern in IMPURE_SOURCE_PATTERNS {
                    assert!(
                        !code.contains(pattern),
                        "{}:{}: `{pattern}` in a pure crate ({pure})",
                        file.display(),
                        n + 1
                    );
                }
            }
        }
    }
}

#[test]
fn only_the_binary_uses_anyhow_clap_and_progress_bars() {
    let m = metadata();
    for (name, deps) in &m.declared {
        if name == "canary" {
            continue;
        }
        for (dep, kind) in deps {
            if kind == "normal" {
                assert!(
                    !BINARY_ONLY.contains(&dep.as_str()),
                    "library crate {name} depends on {dep}, which only the binary may use"
                );
            }
        }
    }
}

#[test]
fn no_library_depends_on_the_binary_and_the_lab_is_for_tests_only() {
    let m = metadata();
    for (name, deps) in &m.declared {
        for (dep, kind) in deps {
            assert_ne!(dep, "canary", "{name} depends on the binary crate");
            if dep == "canary-lab" && name != "canary" {
                assert_eq!(
                    kind, "dev",
                    "{name} depends on canary-lab as a {kind} dependency; the lab is for tests"
                );
            }
        }
    }
}

#[test]
fn one_rustls_crypto_provider_ring_and_never_aws_lc() {
    let m = metadata();
    let mut all = BTreeSet::new();
    for member in m.members.keys() {
        all.extend(normal_tree(&m, member));
    }
    for forbidden in [
        "aws-lc-rs",
        "aws-lc-sys",
        "openssl",
        "openssl-sys",
        "native-tls",
    ] {
        assert!(
            !all.contains(forbidden),
            "{forbidden} is in the dependency graph; Canary uses ring as its only crypto provider"
        );
    }
}
