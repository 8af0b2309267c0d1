//! `canary serve` and `canary admin create-user`, run as real processes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(db: &str, demo: bool) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_canary"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--database", db]);
    if demo {
        cmd.arg("--demo");
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("serve says where it listens");
    let addr = line
        .trim()
        .trim_start_matches("canary serve: http://")
        .trim_end_matches('/')
        .to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{line}");
    Server { child, addr }
}

/// A plain HTTP/1.1 GET; returns (status, body).
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read");
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status line");
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn serve_demo_shows_the_country_page_and_the_api_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("canary.db");
    let server = start(db.to_str().expect("utf-8"), true);
    let (status, page) = get(&server.addr, "/country/KH");
    assert_eq!(status, 200);
    assert!(page.contains("<svg"), "the country page has its chart");
    let (status, km) = get(&server.addr, "/country/KH?lang=km");
    assert_eq!(status, 200);
    assert!(
        km.chars().any(|c| ('\u{1780}'..='\u{17FF}').contains(&c)),
        "Khmer text"
    );
    let (status, api) = get(&server.addr, "/api/v1/countries/KH/blocked");
    assert_eq!(status, 200);
    assert!(api.contains("\"domain\""), "{api}");
}

#[test]
fn an_imported_file_is_served_by_the_explorer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("canary.db");
    let db = db.to_str().expect("utf-8");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let status = Command::new(env!("CARGO_BIN_EXE_canary"))
        .args(["import", "--database", db])
        .arg(root.join("examples/measurements.jsonl"))
        .stdout(Stdio::null())
        .status()
        .expect("import runs");
    assert!(status.success());
    let server = start(db, false);
    let (status, page) = get(&server.addr, "/country/KH");
    assert_eq!(status, 200);
    assert!(
        page.contains("news.example.net"),
        "the DNS-blocked example site is listed"
    );
}

#[test]
fn create_user_reads_the_password_from_stdin_and_refuses_duplicates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("canary.db");
    let db = db.to_str().expect("utf-8");
    let create = || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_canary"))
            .args([
                "admin",
                "create-user",
                "--name",
                "sokha",
                "--role",
                "admin",
                "--org",
                "Example NGO",
            ])
            .args(["--password-stdin", "--database", db])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("create-user runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"a long enough passphrase\n")
            .expect("write");
        child.wait_with_output().expect("finishes")
    };
    let first = create();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("created admin sokha"));
    let second = create();
    assert_eq!(
        second.status.code(),
        Some(2),
        "a second user with the same name is refused"
    );
}

/// Counts the files waiting in a queue folder.
fn queued(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn measurements_wait_in_the_queue_while_the_collector_is_unreachable_and_arrive_later() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = dir.path().join("queue");
    let queue_arg = queue.to_str().expect("utf-8");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let example = root.join("examples/measurements.jsonl");

    // Nothing listens on port 1: the upload fails, the measurements stay.
    let offline = Command::new(env!("CARGO_BIN_EXE_canary"))
        .args([
            "submit",
            "--to",
            "http://127.0.0.1:1/",
            "--queue",
            queue_arg,
        ])
        .arg(&example)
        .output()
        .expect("submit runs");
    assert_eq!(offline.status.code(), Some(1), "not everything was sent");
    assert_eq!(queued(&queue), 4, "all four measurements wait");

    // The collector is back: the queue empties into it.
    let db = dir.path().join("canary.db");
    let server = start(db.to_str().expect("utf-8"), false);
    let online = Command::new(env!("CARGO_BIN_EXE_canary"))
        .args([
            "submit",
            "--to",
            &format!("http://{}/", server.addr),
            "--queue",
            queue_arg,
        ])
        .output()
        .expect("submit runs");
    // The collector takes web_connectivity and the social tests, but it
    // judges them itself from their records: the example's telegram
    // measurement has none (no queries, connects or requests), so it is
    // refused with that reason and set aside; the queue itself is empty.
    let text = String::from_utf8_lossy(&online.stdout);
    assert!(
        text.starts_with("3 measurements uploaded, 1 refused by the collector, 0 still queued"),
        "{text}{}",
        String::from_utf8_lossy(&online.stderr)
    );
    assert_eq!(online.status.code(), Some(1), "a refusal is reported");
    assert_eq!(queued(&queue), 0);
    assert_eq!(
        queued(&queue.join("rejected")),
        1,
        "the refused one is kept aside"
    );
    let (status, page) = get(&server.addr, "/country/KH");
    assert_eq!(status, 200);
    assert!(
        page.contains("news.example.net"),
        "the uploaded measurements are served"
    );
}
