//! The social experiments and the account check, end to end through the
//! censorship lab: the probe measures from the censored vantage (binding
//! 127.0.0.2, the ISP resolver, the lab CA, the lab's ASN table) with the
//! lab's endpoint override files standing in for the services, a real test
//! helper measures from the control vantage, and every social row of
//! `canary_lab::SOCIAL_SCENARIOS` must give its expected OONI keys and
//! Canary label.

use std::sync::Arc;
use std::time::Duration;

use canary_lab::{Lab, SocialExperiment as LabExperiment, SOCIAL_SCENARIOS};
use canary_probe::social::{measure_account, SocialExperiment};
use canary_probe::{runner, HelperConfig, ProbeConfig};
use canary_social::restriction::{parse_accounts, Fingerprints};
use canary_social::Endpoints;
use serde_json::Value;

fn probe_config(lab: &Lab) -> ProbeConfig {
    let mut cfg = ProbeConfig::new(lab.isp_resolver_addr());
    cfg.system_resolver = false;
    cfg.bogons = canary_ipinfo::Bogons::with_routable(&[lab.routable_cidr()]).unwrap();
    cfg.net.bind = Some(lab.censored_source().into());
    cfg.net.roots = canary_netx::TrustRoots::from_pem(lab.ca_pem().as_bytes()).unwrap();
    cfg.net.dns_timeout = Duration::from_secs(2);
    cfg.net.dns_late_window = Duration::from_millis(100);
    cfg.net.tcp_timeout = Duration::from_millis(1500);
    cfg.net.tls_timeout = Duration::from_secs(3);
    cfg.net.http_timeout = Duration::from_secs(5);
    let tsv = std::fs::read_to_string(lab.asn_db_path()).unwrap();
    cfg.asn_db = Some(Arc::new(canary_ipinfo::AsnDb::parse(&tsv).unwrap()));
    cfg
}

fn experiment(e: LabExperiment) -> Option<SocialExperiment> {
    match e {
        LabExperiment::FacebookMessenger => Some(SocialExperiment::FacebookMessenger),
        LabExperiment::Whatsapp => Some(SocialExperiment::Whatsapp),
        LabExperiment::Telegram => Some(SocialExperiment::Telegram),
        LabExperiment::Signal => Some(SocialExperiment::Signal),
        LabExperiment::Account => None,
    }
}

fn json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

/// Checks a measurement's keys against a row's expectation; returns the problems.
fn problems(name: &str, keys: &Value, row: &canary_lab::SocialScenario) -> Vec<String> {
    let mut out = Vec::new();
    for (k, want) in row.expect.ooni {
        let want: Value = serde_json::from_str(want).unwrap();
        let got = keys.get(*k).cloned().unwrap_or(Value::Null);
        if got != want {
            out.push(format!("{name}: {k} = {got}, expected {want}"));
        }
    }
    let canary = keys.get("x_canary").cloned().unwrap_or(Value::Null);
    let outcome_key = if row.experiment == LabExperiment::Account {
        None
    } else {
        Some("outcome")
    };
    if let Some(ok) = outcome_key {
        if canary.get(ok) != Some(&json(&row.expect.outcome)) {
            out.push(format!(
                "{name}: outcome {:?}, expected {:?}",
                canary.get(ok),
                row.expect.outcome
            ));
        }
    }
    for (k, want) in [
        ("layer", json(&row.expect.layer)),
        ("kind", json(&row.expect.kind)),
    ] {
        let got = canary.get(k).cloned().unwrap_or(Value::Null);
        if got != want {
            out.push(format!("{name}: x_canary.{k} = {got}, expected {want}"));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_social_row_gives_its_ooni_keys_and_canary_label() {
    canary_netx::install_ring_provider();
    let lab = Lab::start().unwrap();
    let cfg = Arc::new(probe_config(&lab));
    let run = runner::new_run(&cfg);
    let mut set = tokio::task::JoinSet::new();
    for row in lab.social_scenarios().iter().cloned() {
        let Some(exp) = experiment(row.experiment) else {
            continue;
        };
        let text = std::fs::read_to_string(&row.endpoints_path).unwrap();
        let endpoints = Endpoints::from_json(&text).unwrap();
        let (cfg, run) = (cfg.clone(), run.clone());
        set.spawn(async move {
            let m = exp.measure(&cfg, &run, &endpoints).await.unwrap();
            (row, m)
        });
    }
    let mut all = Vec::new();
    let mut measured = 0;
    while let Some(done) = set.join_next().await {
        let (row, m) = done.unwrap();
        measured += 1;
        assert_eq!(
            m.test_name(),
            experiment(row.experiment).unwrap().test_name()
        );
        let text = m.to_json_string().unwrap();
        assert!(
            !text.contains("127.0.0.2"),
            "{}: the probe's address leaked",
            row.name
        );
        let value = m.to_value().unwrap();
        let keys = value.get("test_keys").cloned().unwrap();
        all.extend(problems(&row.name, &keys, &row));
        // The measurement reads back as the experiment's typed keys.
        let typed = match row.experiment {
            LabExperiment::FacebookMessenger => m
                .test_keys_as::<canary_social::facebook::FacebookMessengerTestKeys>()
                .unwrap()
                .and_then(|k| k.x_canary),
            LabExperiment::Whatsapp => m
                .test_keys_as::<canary_social::whatsapp::WhatsappTestKeys>()
                .unwrap()
                .and_then(|k| k.x_canary),
            LabExperiment::Telegram => m
                .test_keys_as::<canary_social::telegram::TelegramTestKeys>()
                .unwrap()
                .and_then(|k| k.x_canary),
            LabExperiment::Signal => m
                .test_keys_as::<canary_social::signal::SignalTestKeys>()
                .unwrap()
                .and_then(|k| k.x_canary),
            LabExperiment::Account => None,
        };
        assert!(
            typed.is_some(),
            "{}: typed keys with Canary's label",
            row.name
        );
        if row.name == "whatsapp_one_endpoint_blocked" {
            let e1 = &row.hosts.iter().find(|h| h.role == "e1").unwrap().host;
            assert_eq!(keys["whatsapp_endpoints_blocked"], serde_json::json!([e1]));
        }
        // The records carry the endpoint tags the analysis attributes by.
        let tagged = keys["tcp_connect"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(keys["requests"].as_array().into_iter().flatten())
            .all(|r| r["tags"].to_string().contains("endpoint="));
        assert!(tagged, "{}: untagged records", row.name);
    }
    assert_eq!(measured, SOCIAL_SCENARIOS.len() - 2);
    assert!(all.is_empty(), "{}", all.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restricted_pages_are_platform_restriction_and_blocked_pages_network_blocking() {
    canary_netx::install_ring_provider();
    let lab = Lab::start().unwrap();
    // A real test helper on the control vantage.
    let mut hcfg =
        canary_helper::ServerConfig::new(canary_helper::Resolver::Udp(lab.control_resolver_addr()));
    hcfg.net.bind = Some(lab.control_source().into());
    hcfg.net.roots = canary_netx::TrustRoots::from_pem(lab.ca_pem().as_bytes()).unwrap();
    hcfg.bogons = canary_ipinfo::Bogons::with_routable(&[lab.routable_cidr()]).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let helper = canary_helper::server::start(hcfg, listener, None).unwrap();
    let mut cfg = probe_config(&lab);
    cfg.helper = Some(HelperConfig {
        url: url::Url::parse(&format!("http://{}/", helper.local_addr())).unwrap(),
        timeout: Duration::from_secs(20),
        client: reqwest::Client::builder().build().unwrap(),
    });
    let run = runner::new_run(&cfg);
    let rows = parse_accounts(&std::fs::read_to_string(lab.accounts_csv_path()).unwrap()).unwrap();
    assert_eq!(rows.len(), 2);
    let fps = Fingerprints::builtin();
    let mut all = Vec::new();
    for account in &rows {
        let row = lab
            .social_scenarios()
            .iter()
            .find(|s| account.owner.contains(&format!("({})", s.name)))
            .unwrap();
        let m = measure_account(&cfg, &run, account, &fps).await.unwrap();
        assert_eq!(m.test_name(), "canary_account_check");
        let value = m.to_value().unwrap();
        let keys = value.get("test_keys").cloned().unwrap();
        all.extend(problems(&row.name, &keys, row));
        // The evidence of both vantages is stored.
        assert!(
            keys["control_view"]["status"] == 200,
            "{}: {}",
            row.name,
            keys["control_view"]
        );
        if row.name == "account_platform_restricted" {
            assert_eq!(keys["control_view"]["title"], "Free Press KH");
            assert_eq!(keys["probe_view"]["status"], 200);
            assert_eq!(keys["probe_view"]["title"], "Telegram");
        } else {
            assert_eq!(keys["probe_view"]["failure"], "connection_reset");
            assert_eq!(keys["probe_view"]["failed_layer"], "tls");
        }
        assert!(!m.to_json_string().unwrap().contains("127.0.0.2"));
    }
    helper.shutdown().await;
    assert!(all.is_empty(), "{}", all.join("\n"));
}
