//! The real OONI measurements of the four experiments in `../shared/data`
//! re-analysed: the OONI verdict keys Canary recomputes from the records
//! must equal the ones the probe wrote, and every difference is listed in
//! [`EXPLAINED`] with the reason. Skips (with a message) when the data
//! folder is absent; the data is read, never copied into the repository.

use std::path::PathBuf;

use canary_social::endpoints::{facebook_builtin_asn_db, Endpoints};
use canary_social::{facebook, signal, telegram, whatsapp, Records};
use serde_json::{Map, Value};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ooni-samples")
}

/// A sample: its file name, test name and version, and test keys.
struct Sample {
    file: String,
    test_name: String,
    test_keys: Value,
}

fn load() -> Option<Vec<Sample>> {
    let dir = data_dir();
    if !dir.is_dir() {
        eprintln!("skipping: {} not found", dir.display());
        return None;
    }
    let mut out = Vec::new();
    let wanted = ["facebook_messenger", "whatsapp", "telegram", "signal"];
    for sub in [
        "explorer-api-fixtures/measurement_meta",
        "backend-fastpath-tests",
    ] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(outer) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            // Explorer fixtures hold the measurement as a string in body.raw_measurement.
            let measurement = match outer.get("body").and_then(Value::as_str) {
                Some(body) => serde_json::from_str::<Value>(body)
                    .ok()
                    .and_then(|b| {
                        b.get("raw_measurement")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .and_then(|raw| serde_json::from_str::<Value>(&raw).ok()),
                None => Some(outer),
            };
            let Some(m) = measurement else { continue };
            let test_name = m
                .get("test_name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if !wanted.contains(&test_name.as_str()) {
                continue;
            }
            out.push(Sample {
                file: path
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                test_name,
                test_keys: m.get("test_keys").cloned().unwrap_or(Value::Null),
            });
        }
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    Some(out)
}

/// Endpoints for re-analysis: today's defaults plus the hosts older
/// versions measured (URLs without records are left out of the verdict).
fn endpoints() -> Endpoints {
    let mut e = Endpoints::default();
    for old in [
        "https://textsecure-service.whispersystems.org/",
        "https://cdn.signal.org/",
        "https://cdn2.signal.org/",
        "https://api.directory.signal.org/",
    ] {
        e.signal.urls.push(old.to_string());
    }
    e
}

/// The verdict keys of each experiment.
fn verdict_keys(test_name: &str) -> &'static [&'static str] {
    match test_name {
        "facebook_messenger" => &[
            "facebook_dns_blocking",
            "facebook_tcp_blocking",
            "facebook_b_api_dns_consistent",
            "facebook_b_api_reachable",
            "facebook_b_graph_dns_consistent",
            "facebook_b_graph_reachable",
            "facebook_edge_dns_consistent",
            "facebook_edge_reachable",
            "facebook_external_cdn_dns_consistent",
            "facebook_external_cdn_reachable",
            "facebook_scontent_cdn_dns_consistent",
            "facebook_scontent_cdn_reachable",
            "facebook_star_dns_consistent",
            "facebook_star_reachable",
            "facebook_stun_dns_consistent",
            "facebook_stun_reachable",
        ],
        "whatsapp" => &[
            "registration_server_status",
            "registration_server_failure",
            "whatsapp_endpoints_status",
            "whatsapp_endpoints_blocked",
            "whatsapp_endpoints_dns_inconsistent",
            "whatsapp_web_status",
            "whatsapp_web_failure",
        ],
        "telegram" => &[
            "telegram_http_blocking",
            "telegram_tcp_blocking",
            "telegram_web_status",
            "telegram_web_failure",
        ],
        "signal" => &["signal_backend_status", "signal_backend_failure"],
        _ => &[],
    }
}

fn recompute(sample: &Sample, e: &Endpoints) -> Map<String, Value> {
    let records = Records::from_test_keys(&sample.test_keys);
    let mut out = Map::new();
    match sample.test_name.as_str() {
        "facebook_messenger" => {
            facebook::analyse(&records, &e.facebook, &facebook_builtin_asn_db())
                .merge_into(&mut out)
        }
        "whatsapp" => whatsapp::analyse(&records, &e.whatsapp).merge_into(&mut out),
        "telegram" => telegram::analyse(&records, &e.telegram).merge_into(&mut out),
        "signal" => signal::analyse(&records, &e.signal).merge_into(&mut out),
        _ => {}
    }
    out
}

/// Differences between OONI's keys and Canary's, each with its reason:
/// (file name fragment, key, OONI's value, Canary's value, why).
const EXPLAINED: &[(&str, &str, &str, &str, &str)] = &[
    ("01202003044cadd4e9b30806be0e72a6e05e161a", "facebook_dns_blocking", "true", "false",
     "The engine (2020, experiment v0.5.0) compared the AS of every answer with AS32934, CNAME answers included, whose AS is 0; every A answer here is 157.240.194.x, Facebook's own network. Canary checks A/AAAA answers only, so the names are consistent."),
    ("01202003044cadd4e9b30806be0e72a6e05e161a", "facebook_b_api_dns_consistent", "false", "true",
     "The engine (2020, experiment v0.5.0) compared the AS of every answer with AS32934, CNAME answers included, whose AS is 0; every A answer here is 157.240.194.x, Facebook's own network. Canary checks A/AAAA answers only, so the names are consistent."),
    ("01202003044cadd4e9b30806be0e72a6e05e161a", "facebook_b_graph_dns_consistent", "false", "true",
     "The engine (2020, experiment v0.5.0) compared the AS of every answer with AS32934, CNAME answers included, whose AS is 0; every A answer here is 157.240.194.x, Facebook's own network. Canary checks A/AAAA answers only, so the names are consistent."),
    ("01202003044cadd4e9b30806be0e72a6e05e161a", "facebook_edge_dns_consistent", "false", "true",
     "The engine (2020, experiment v0.5.0) compared the AS of every answer with AS32934, CNAME answers included, whose AS is 0; every A answer here is 157.240.194.x, Facebook's own network. Canary checks A/AAAA answers only, so the names are consistent."),
    ("01202003044cadd4e9b30806be0e72a6e05e161a", "facebook_external_cdn_dns_consistent", "false", "true",
     "The engine (2020, experiment v0.5.0) compared the AS of every answer with AS32934, CNAME answers included, whose AS is 0; every A answer here is 157.240.194.x, Facebook's own network. Canary checks A/AAAA answers only, so the names are consistent."),
    ("01202003044cadd4e9b30806be0e72a6e05e161a", "facebook_scontent_cdn_dns_consistent", "false", "true",
     "The engine (2020, experiment v0.5.0) compared the AS of every answer with AS32934, CNAME answers included, whose AS is 0; every A answer here is 157.240.194.x, Facebook's own network. Canary checks A/AAAA answers only, so the names are consistent."),
    ("01202003044cadd4e9b30806be0e72a6e05e161a", "facebook_star_dns_consistent", "false", "true",
     "The engine (2020, experiment v0.5.0) compared the AS of every answer with AS32934, CNAME answers included, whose AS is 0; every A answer here is 157.240.194.x, Facebook's own network. Canary checks A/AAAA answers only, so the names are consistent."),
    ("01202003044cadd4e9b30806be0e72a6e05e161a", "facebook_stun_dns_consistent", "false", "true",
     "The engine (2020, experiment v0.5.0) compared the AS of every answer with AS32934, CNAME answers included, whose AS is 0; every A answer here is 157.240.194.x, Facebook's own network. Canary checks A/AAAA answers only, so the names are consistent."),
    ("whatsapp.json", "whatsapp_web_status", "\"blocked\"", "\"ok\"",
     "whatsapp v0.9.0 still failed on HTTP error statuses (here 400 for https and 403 for http://web.whatsapp.com/); since v0.10 OONI ignores the status (only network errors block), which Canary implements."),
    ("whatsapp.json", "whatsapp_web_failure", "\"http_unexpected_status_code\"", "null",
     "whatsapp v0.9.0 still failed on HTTP error statuses (here 400 for https and 403 for http://web.whatsapp.com/); since v0.10 OONI ignores the status (only network errors block), which Canary implements."),
];

#[test]
fn real_ooni_samples_reanalyse_to_the_same_verdict_keys() {
    let Some(samples) = load() else { return };
    let e = endpoints();
    let mut seen = std::collections::BTreeSet::new();
    let mut unexplained = Vec::new();
    let mut compared = 0;
    let mut used = vec![false; EXPLAINED.len()];
    for s in &samples {
        seen.insert(s.test_name.clone());
        let ours = recompute(s, &e);
        for key in verdict_keys(&s.test_name) {
            let Some(theirs) = s.test_keys.get(*key) else {
                continue;
            };
            compared += 1;
            let mine = ours.get(*key).cloned().unwrap_or(Value::Null);
            // Lists are compared as sets (OONI appends in completion order).
            let same = match (theirs, &mine) {
                (Value::Array(a), Value::Array(b)) => {
                    let mut a: Vec<String> = a.iter().map(Value::to_string).collect();
                    let mut b: Vec<String> = b.iter().map(Value::to_string).collect();
                    a.sort();
                    b.sort();
                    a == b
                }
                (a, b) => a == b,
            };
            if same {
                continue;
            }
            let (theirs_s, mine_s) = (theirs.to_string(), mine.to_string());
            let explained = EXPLAINED.iter().position(|(file, k, t, m, _)| {
                s.file.contains(file) && k == key && *t == theirs_s && *m == mine_s
            });
            if let Some(i) = explained {
                used[i] = true;
            } else {
                unexplained.push(format!(
                    "{} {}: OONI {} Canary {}",
                    s.file, key, theirs, mine
                ));
            }
        }
    }
    eprintln!(
        "compared {compared} verdict keys over {} samples",
        samples.len()
    );
    assert!(
        unexplained.is_empty(),
        "unexplained differences:\n{}",
        unexplained.join("\n")
    );
    for (row, used) in EXPLAINED.iter().zip(used) {
        assert!(used, "stale explanation (the difference is gone): {row:?}");
    }
    for name in ["facebook_messenger", "whatsapp", "telegram", "signal"] {
        assert!(seen.contains(name), "no sample of {name}");
    }
}

#[test]
fn real_ooni_test_keys_round_trip_through_the_typed_keys_unchanged() {
    let Some(samples) = load() else { return };
    fn round<T: serde::de::DeserializeOwned + serde::Serialize>(v: &Value) -> Value {
        let typed: T = serde_json::from_value(v.clone()).unwrap();
        serde_json::to_value(typed).unwrap()
    }
    for s in &samples {
        let back = match s.test_name.as_str() {
            "facebook_messenger" => round::<facebook::FacebookMessengerTestKeys>(&s.test_keys),
            "whatsapp" => round::<whatsapp::WhatsappTestKeys>(&s.test_keys),
            "telegram" => round::<telegram::TelegramTestKeys>(&s.test_keys),
            "signal" => round::<signal::SignalTestKeys>(&s.test_keys),
            _ => continue,
        };
        // Keys OONI omitted come back as null (Option); nothing else changes.
        let Value::Object(orig) = &s.test_keys else {
            panic!("{}: test_keys not an object", s.file)
        };
        let Value::Object(back) = back else {
            panic!("not an object")
        };
        for (k, v) in orig {
            assert_eq!(back.get(k), Some(v), "{}: {k}", s.file);
        }
        for (k, v) in &back {
            assert!(
                orig.contains_key(k) || v.is_null(),
                "{}: invented {k}",
                s.file
            );
        }
    }
}
