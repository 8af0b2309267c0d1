//! The messaging experiments and the page check through the CLI: `canary
//! probe` and `canary helper` as real processes against the lab's stand-ins
//! for Facebook, WhatsApp, Telegram and Signal, and end to end through
//! `canary serve` (collector, store, the country page's social panel).

mod common;

use canary_lab::{Lab, SocialExperiment};
use serde_json::{json, Value};

fn test_name(e: SocialExperiment) -> Option<&'static str> {
    match e {
        SocialExperiment::FacebookMessenger => Some("facebook_messenger"),
        SocialExperiment::Whatsapp => Some("whatsapp"),
        SocialExperiment::Telegram => Some("telegram"),
        SocialExperiment::Signal => Some("signal"),
        SocialExperiment::Account => None,
    }
}

#[test]
fn every_social_row_gives_its_ooni_keys_and_label_through_the_cli() {
    let lab = Lab::start().expect("lab");
    let helper = common::start_helper(&lab);
    let dir = tempfile::tempdir().expect("tempdir");
    let rows: Vec<_> = lab
        .social_scenarios()
        .iter()
        .filter_map(|r| test_name(r.experiment).map(|t| (r.clone(), t)))
        .collect();
    assert!(rows.len() >= 20, "{} rows", rows.len());
    let problems: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = rows
            .iter()
            .map(|(row, test)| {
                let (lab, helper, dir) = (&lab, &helper, dir.path());
                scope.spawn(move || {
                    let out = dir.join(format!("{}.jsonl", row.name));
                    let output = common::probe_command(lab, helper)
                        .args(["--experiment", test])
                        .args([
                            "--social-endpoints",
                            row.endpoints_path.to_str().expect("utf-8"),
                        ])
                        .args(["--asn-db", lab.asn_db_path().to_str().expect("utf-8")])
                        .args(["--output", out.to_str().expect("utf-8")])
                        .output()
                        .expect("probe runs");
                    assert!(
                        output.status.success(),
                        "{}: {}",
                        row.name,
                        String::from_utf8_lossy(&output.stderr)
                    );
                    let ms = common::json_lines(&out);
                    assert_eq!(ms.len(), 1, "{}: one measurement", row.name);
                    let m = &ms[0];
                    let mut wrong = Vec::new();
                    if m["test_name"] != *test {
                        wrong.push(format!("{}: test_name {}", row.name, m["test_name"]));
                    }
                    let keys = &m["test_keys"];
                    for (k, want) in row.expect.ooni {
                        let want: Value = serde_json::from_str(want).expect("expected JSON");
                        let got = keys.get(*k).cloned().unwrap_or(Value::Null);
                        if got != want {
                            wrong.push(format!("{}: {k} = {got}, expected {want}", row.name));
                        }
                    }
                    let label = &keys["x_canary"];
                    let expect = serde_json::to_value(row.expect).expect("serialisable");
                    for k in ["outcome", "layer", "kind"] {
                        if label[k] != expect[k] {
                            wrong.push(format!(
                                "{}: x_canary.{k} = {}, expected {}",
                                row.name, label[k], expect[k]
                            ));
                        }
                    }
                    if m.to_string().contains("127.0.0.2") {
                        wrong.push(format!("{}: the probe's address leaked", row.name));
                    }
                    wrong
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("row thread"))
            .collect()
    });
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn account_pages_are_told_apart_platform_restriction_from_network_blocking() {
    let lab = Lab::start().expect("lab");
    let helper = common::start_helper(&lab);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("accounts.jsonl");
    let output = common::probe_command(&lab, &helper)
        .args([
            "--accounts",
            lab.accounts_csv_path().to_str().expect("utf-8"),
        ])
        .args(["--output", out.to_str().expect("utf-8")])
        .output()
        .expect("probe runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let statuses: Vec<(String, String)> = common::json_lines(&out)
        .iter()
        .map(|m| {
            assert_eq!(m["test_name"], "canary_account_check");
            (
                m["input"].as_str().unwrap_or_default().to_string(),
                m["test_keys"]["account_status"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    for row in lab
        .social_scenarios()
        .iter()
        .filter(|r| r.experiment == SocialExperiment::Account)
    {
        let url = row
            .account_csv_row
            .as_deref()
            .and_then(|r| r.split(',').nth(1))
            .expect("an account row has a URL");
        let want = if row.name.contains("restricted") {
            "platform_restricted"
        } else {
            "network_blocked"
        };
        let got = statuses
            .iter()
            .find(|(u, _)| u == url)
            .map(|(_, s)| s.as_str());
        assert_eq!(got, Some(want), "{}: {statuses:?}", row.name);
    }
}

/// A `canary serve` child process over a fresh database, killed on drop.
struct Server {
    child: std::process::Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(db: &std::path::Path) -> Server {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_canary"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database"])
        .arg(db)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
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

/// A plain HTTP/1.1 GET on loopback; returns (status, body).
fn get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
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

/// End to end: `canary probe --suite social --submit` against the lab
/// (Telegram's data centres blackholed, the other services fine; a channel
/// restricted by the platform, a page reset by the ISP) uploads to
/// `canary serve`, which re-judges every measurement; the country page's
/// social panel then shows Telegram blocked on the probe's network and the
/// two pages each in its own table: platform restriction, network blocking.
#[test]
fn probe_submit_serve_the_social_panel_shows_blocking_and_restriction_apart() {
    const ASN: &str = "AS64496";
    let lab = Lab::start().expect("lab");
    let helper = common::start_helper(&lab);
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(&dir.path().join("canary.db"));
    // One override file for the whole suite: each service from one lab row.
    let mut endpoints = serde_json::Map::new();
    for row in [
        "facebook_ok",
        "whatsapp_ok",
        "telegram_tcp_blocked",
        "signal_ok",
    ] {
        let scenario = lab.social_scenario(row).expect("a social row");
        let Value::Object(part) =
            serde_json::from_str(&scenario.endpoints_json).expect("endpoints JSON")
        else {
            panic!("{row}: endpoints are an object")
        };
        endpoints.extend(part);
    }
    assert_eq!(endpoints.len(), 4, "{endpoints:?}");
    let endpoints_path = dir.path().join("endpoints.json");
    std::fs::write(&endpoints_path, Value::Object(endpoints).to_string()).expect("write");
    let out = dir.path().join("social.jsonl");
    let output = common::probe_command(&lab, &helper)
        .args(["--suite", "social"])
        .args([
            "--social-endpoints",
            endpoints_path.to_str().expect("utf-8"),
        ])
        .args(["--asn-db", lab.asn_db_path().to_str().expect("utf-8")])
        .args([
            "--accounts",
            lab.accounts_csv_path().to_str().expect("utf-8"),
        ])
        .args(["--probe-cc", "KH", "--probe-asn", ASN])
        .args(["--submit", &format!("http://{}/", server.addr)])
        .args(["--queue", dir.path().join("queue").to_str().expect("utf-8")])
        .args(["--output", out.to_str().expect("utf-8")])
        .output()
        .expect("probe runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let measured = common::json_lines(&out).len();
    assert!(
        measured >= 6,
        "four experiments and the account rows: {measured}"
    );

    // Every measurement arrived and was re-judged by the server.
    let (status, body) = get(&server.addr, "/api/v1/countries/KH/social");
    assert_eq!(status, 200, "{body}");
    let states: Value = serde_json::from_str(&body).expect("JSON");
    let state = |service: &str| {
        states
            .as_array()
            .expect("rows")
            .iter()
            .find(|s| s["service"] == service)
            .cloned()
            .unwrap_or_else(|| panic!("{service} missing: {states}"))
    };
    let telegram = state("telegram");
    assert_eq!(telegram["asn"], 64496);
    assert_eq!(
        (&telegram["outcome"], &telegram["layer"], &telegram["kind"]),
        (&json!("blocked"), &json!("tcp"), &json!("blackhole")),
        "{telegram}"
    );
    assert_eq!(telegram["ooni_keys"]["telegram_tcp_blocking"], true);
    for service in ["facebook_messenger", "whatsapp", "signal"] {
        assert_eq!(state(service)["outcome"], "ok", "{}", state(service));
    }
    let (_, body) = get(&server.addr, "/api/v1/countries/KH/restricted");
    let pages: Value = serde_json::from_str(&body).expect("JSON");
    let statuses: Vec<(String, String)> = pages
        .as_array()
        .expect("rows")
        .iter()
        .map(|p| {
            (
                p["status"].as_str().unwrap_or_default().to_owned(),
                p["url"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let url_of = |name: &str| {
        lab.social_scenario(name)
            .and_then(|r| r.account_csv_row.clone())
            .and_then(|r| r.split(',').nth(1).map(str::to_owned))
            .expect("an account row has a URL")
    };
    let restricted = url_of("account_platform_restricted");
    let blocked = url_of("account_network_blocked");
    assert!(
        statuses.contains(&("platform_restricted".into(), restricted.clone())),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&("network_blocked".into(), blocked.clone())),
        "{statuses:?}"
    );

    // The country page: Telegram on the probe's network, and each page in
    // the table that says who restricted it.
    let (status, page) = get(&server.addr, "/country/KH");
    assert_eq!(status, 200);
    let html = page.replace("&#x2f;", "/");
    let row = html
        .split("<tr class=\"service telegram\">")
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .expect("a Telegram row");
    assert!(
        row.contains("AS64496") && row.contains("outcome blocked"),
        "{row}"
    );
    // The row links to the measurement's own page, which names the
    // blackholed data centres and OONI's keys.
    let link = row
        .split("href=\"/measurement/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a link to the measurement");
    let (status, detail) = get(&server.addr, &format!("/measurement/{link}?lang=en"));
    assert_eq!(status, 200, "{detail}");
    for want in [
        "<code>telegram</code>",
        "<tr class=\"endpoint blocked\">",
        "The connection was silently dropped",
        "<code>telegram_tcp_blocking</code></td><td><code>true</code>",
    ] {
        assert!(detail.contains(want), "the measurement page lacks {want:?}");
    }
    let (status, raw) = get(&server.addr, &format!("/measurement/{link}/raw"));
    assert_eq!(status, 200);
    let raw: Value = serde_json::from_str(&raw).expect("the raw JSON");
    assert_eq!(raw["test_name"], "telegram");
    let platform_at = html
        .find("Restricted by the platform")
        .expect("platform table");
    let network_at = html
        .find("Blocked by the network (ISP)")
        .expect("network table");
    let restricted_at = html.find(&restricted).expect("restricted page listed");
    let blocked_at = html.find(&blocked).expect("blocked page listed");
    assert!(
        platform_at < restricted_at && restricted_at < network_at && network_at < blocked_at,
        "the restricted page under platform restriction, the blocked one under network blocking"
    );
}

/// Every messaging row of the lab, measured by `canary probe --submit`
/// (each row from its own network number), is judged by the server exactly
/// as the lab's table expects: the server rebuilds what was measured from
/// the records' endpoint tags and recomputes OONI's keys and Canary's label.
#[test]
fn every_social_row_is_judged_by_the_server_as_the_table_expects() {
    let lab = Lab::start().expect("lab");
    let helper = common::start_helper(&lab);
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(&dir.path().join("canary.db"));
    let submit = format!("http://{}/", server.addr);
    let rows: Vec<_> = lab
        .social_scenarios()
        .iter()
        .filter_map(|r| test_name(r.experiment).map(|t| (r.clone(), t)))
        .enumerate()
        .map(|(i, (row, test))| (65000 + i as u32, row, test))
        .collect();
    std::thread::scope(|scope| {
        for (asn, row, test) in &rows {
            let (lab, helper, dir, submit) = (&lab, &helper, dir.path(), &submit);
            scope.spawn(move || {
                let output = common::probe_command(lab, helper)
                    .args(["--experiment", test])
                    .args([
                        "--social-endpoints",
                        row.endpoints_path.to_str().expect("utf-8"),
                    ])
                    .args(["--asn-db", lab.asn_db_path().to_str().expect("utf-8")])
                    .args(["--probe-cc", "KH", "--probe-asn", &format!("AS{asn}")])
                    .args(["--submit", submit])
                    .args([
                        "--queue",
                        dir.join(format!("queue-{asn}")).to_str().expect("utf-8"),
                    ])
                    .args([
                        "--output",
                        dir.join(format!("{asn}.jsonl")).to_str().expect("utf-8"),
                    ])
                    .output()
                    .expect("probe runs");
                assert!(
                    output.status.success(),
                    "{}: {}",
                    row.name,
                    String::from_utf8_lossy(&output.stderr)
                );
            });
        }
    });
    let (status, body) = get(&server.addr, "/api/v1/countries/KH/social");
    assert_eq!(status, 200, "{body}");
    let states: Value = serde_json::from_str(&body).expect("JSON");
    let mut wrong = Vec::new();
    for (asn, row, test) in &rows {
        let Some(state) = states
            .as_array()
            .expect("rows")
            .iter()
            .find(|s| s["asn"] == *asn)
        else {
            wrong.push(format!("{}: not stored", row.name));
            continue;
        };
        if state["service"] != *test {
            wrong.push(format!("{}: service {}", row.name, state["service"]));
        }
        for (k, want) in row.expect.ooni {
            let want: Value = serde_json::from_str(want).expect("expected JSON");
            let got = state["ooni_keys"].get(*k).cloned().unwrap_or(Value::Null);
            if got != want {
                wrong.push(format!("{}: {k} = {got}, expected {want}", row.name));
            }
        }
        let expect = serde_json::to_value(row.expect).expect("serialisable");
        for k in ["outcome", "layer", "kind"] {
            if state[k] != expect[k] {
                wrong.push(format!(
                    "{}: server's {k} = {}, expected {}",
                    row.name, state[k], expect[k]
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
