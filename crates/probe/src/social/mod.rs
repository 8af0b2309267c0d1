//! Social media and messaging experiments, and the restricted-page check.
//!
//! | function | `test_name` | what it measures |
//! |---|---|---|
//! | [`measure_facebook_messenger`] | `facebook_messenger` (ts-019) | DNS (is every answer in Facebook's AS?) and TCP to Messenger's services |
//! | [`measure_whatsapp`] | `whatsapp` (ts-018) | TCP to the chat endpoints on each port; GET of the registration service and of WhatsApp Web |
//! | [`measure_telegram`] | `telegram` (ts-020) | HTTP POST in cleartext to the data centres on each port; GET of Telegram Web |
//! | [`measure_signal`] | `signal` (ts-029) | GET of Signal's service URLs, TLS verified against Signal's own roots; DNS of the uptime host (recorded, not judged) |
//! | [`measure_account`] | `canary_account_check` | a public page from the probe and from the test helper: reachable, network-blocked or platform-restricted |
//!
//! Every step is recorded as web connectivity records are (df-002 queries,
//! df-005 TCP, df-006 TLS, df-001 requests, df-008 events), each record
//! tagged `endpoint=<name>`, the whole measurement scrubbed of the probe's
//! addresses. The OONI verdict keys and Canary's per-endpoint label
//! (`x_canary`) are computed from those records by the pure
//! `canary_social` crate — the same code the server runs to re-analyse
//! them — so the measurement compares with OONI's data.
//!
//! What is measured is data ([`canary_social::Endpoints`]): the real
//! services by default, or an override file (the censorship lab's stand-ins).
//!
//! # Example (what `canary probe --suite social --accounts FILE` does)
//!
//! ```no_run
//! # async fn demo(cfg: canary_probe::ProbeConfig, lists: Vec<canary_probe::Target>)
//! # -> Result<(), canary_probe::ProbeError> {
//! use canary_probe::social::{self, Suite};
//!
//! let plan = social::suite(Suite::Social, lists);        // URLs + experiments
//! let endpoints = social::load_endpoints(None)?;          // or Some(path): an override
//! for exp in &plan.experiments {
//!     let run = social::new_run(&cfg, exp.test_name());
//!     let m = exp.measure(&cfg, &run, &endpoints).await?;
//!     println!("{}", m.to_json_string().unwrap());
//! }
//! // plan.websites go to experiment::measure / runner::run as today.
//! let fingerprints = social::load_fingerprints(&[])?;
//! let run = social::new_run(&cfg, social::ACCOUNT_TEST_NAME);
//! for row in social::load_accounts(std::path::Path::new("accounts.csv"))? {
//!     let m = social::measure_account(&cfg, &run, &row, &fingerprints).await?;
//!     println!("{}", m.to_json_string().unwrap());
//! }
//! # Ok(()) }
//! ```
//!
//! # `canary_account_check` test keys
//!
//! | key | meaning |
//! |---|---|
//! | `platform`, `owner`, `category` | from the accounts file |
//! | `queries`, `tcp_connect`, `tls_handshakes`, `requests`, `network_events` | the probe's fetch (redirects followed) |
//! | `probe_view` | what the probe saw: `failure`, `failed_layer`, `status`, `final_url`, `title`, `body_sha256` |
//! | `control_view` | the same from the test helper (`null` without one) |
//! | `control_failure` | why there is no control view |
//! | `account_status` | `reachable`, `network_blocked`, `platform_restricted`, `down` or `unknown` |
//! | `restriction_fingerprint` | the matched fingerprint's id (platform restriction) |
//! | `x_canary` | the verdict: status, fingerprint, layer, kind and the reason in one sentence |

mod common;

pub use common::SocialRun;

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use canary_model::Measurement;
use canary_netx as netx;
use canary_social::endpoints::{
    facebook_builtin_asn_db, FacebookEndpoints, SignalEndpoints, TelegramEndpoints,
    WhatsappEndpoints,
};
use canary_social::restriction::{self, AccountRow, Fingerprints};
use canary_social::{Endpoints, Layer, Records};
use serde_json::Value;

use crate::experiment::RunContext;
use crate::{ProbeConfig, ProbeError, Target};

/// The `test_name` of the restricted-page check.
pub const ACCOUNT_TEST_NAME: &str = "canary_account_check";
/// Its `test_version`.
pub const ACCOUNT_TEST_VERSION: &str = "0.1.0";

/// `facebook_messenger`: DNS and TCP to Messenger's services.
pub async fn measure_facebook_messenger(
    cfg: &ProbeConfig,
    run: &RunContext,
    endpoints: &FacebookEndpoints,
) -> Result<Measurement, ProbeError> {
    let mut s = SocialRun::start(cfg);
    let mut set = tokio::task::JoinSet::new();
    for svc in endpoints.services.clone() {
        let s2 = s.clone_for_task();
        set.spawn(async move {
            let mut s2 = s2;
            let ips = s2.resolve(&svc.key, &svc.host).await;
            if let Some(port) = svc.port {
                s2.connect_any(&svc.key, &ips, port).await;
            }
            s2
        });
    }
    while let Some(done) = set.join_next().await {
        if let Ok(part) = done {
            s.absorb(part);
        }
    }
    let mut keys = s.test_keys();
    let records = Records::from_test_keys(&Value::Object(keys.clone()));
    let builtin;
    let db = match &cfg.asn_db {
        Some(db) => db.as_ref(),
        None => {
            builtin = facebook_builtin_asn_db();
            &builtin
        }
    };
    canary_social::facebook::analyse(&records, endpoints, db).merge_into(&mut keys);
    s.finish(
        run,
        canary_social::facebook::TEST_NAME,
        canary_social::facebook::TEST_VERSION,
        None,
        keys,
    )
}

/// `whatsapp`: the chat endpoints, the registration service and WhatsApp Web.
pub async fn measure_whatsapp(
    cfg: &ProbeConfig,
    run: &RunContext,
    endpoints: &WhatsappEndpoints,
) -> Result<Measurement, ProbeError> {
    use canary_social::whatsapp::{REGISTRATION, WEB};
    let mut s = SocialRun::start(cfg);
    let mut set = tokio::task::JoinSet::new();
    for ep in endpoints.endpoints.clone() {
        let s2 = s.clone_for_task();
        set.spawn(async move {
            let mut s2 = s2;
            let ips = match ep.host.parse::<IpAddr>() {
                Ok(ip) => vec![ip],
                Err(_) => s2.resolve(&ep.host, &ep.host).await,
            };
            for port in &ep.ports {
                s2.connect_any(&ep.host, &ips, *port).await;
            }
            s2
        });
    }
    for (name, url) in [
        (REGISTRATION, endpoints.registration_url.clone()),
        (WEB, endpoints.web_url.clone()),
    ] {
        let s2 = s.clone_for_task();
        set.spawn(async move {
            let mut s2 = s2;
            s2.get(name, &url).await;
            s2
        });
    }
    while let Some(done) = set.join_next().await {
        if let Ok(part) = done {
            s.absorb(part);
        }
    }
    let mut keys = s.test_keys();
    let records = Records::from_test_keys(&Value::Object(keys.clone()));
    canary_social::whatsapp::analyse(&records, endpoints).merge_into(&mut keys);
    s.finish(
        run,
        canary_social::whatsapp::TEST_NAME,
        canary_social::whatsapp::TEST_VERSION,
        None,
        keys,
    )
}

/// `telegram`: POSTs to the data centres and Telegram Web.
pub async fn measure_telegram(
    cfg: &ProbeConfig,
    run: &RunContext,
    endpoints: &TelegramEndpoints,
) -> Result<Measurement, ProbeError> {
    let mut s = SocialRun::start(cfg);
    let mut set = tokio::task::JoinSet::new();
    for dc in endpoints.datacenters.clone() {
        let Ok(ip) = dc.host.parse::<IpAddr>() else {
            return Err(ProbeError::Url(format!(
                "telegram data centre {:?} is not an IP address",
                dc.host
            )));
        };
        for port in dc.ports.clone() {
            let s2 = s.clone_for_task();
            let name = canary_social::telegram::dc_endpoint(&dc.host, port);
            set.spawn(async move {
                let mut s2 = s2;
                s2.post_empty(&name, SocketAddr::new(ip, port)).await;
                s2
            });
        }
    }
    {
        let s2 = s.clone_for_task();
        let url = endpoints.web_url.clone();
        set.spawn(async move {
            let mut s2 = s2;
            s2.get(canary_social::telegram::WEB, &url).await;
            s2
        });
    }
    while let Some(done) = set.join_next().await {
        if let Ok(part) = done {
            s.absorb(part);
        }
    }
    let mut keys = s.test_keys();
    let records = Records::from_test_keys(&Value::Object(keys.clone()));
    canary_social::telegram::analyse(&records, endpoints).merge_into(&mut keys);
    s.finish(
        run,
        canary_social::telegram::TEST_NAME,
        canary_social::telegram::TEST_VERSION,
        None,
        keys,
    )
}

/// `signal`: HTTPS to Signal's service URLs, verified against Signal's own
/// roots (or the override's `ca_pem`).
pub async fn measure_signal(
    cfg: &ProbeConfig,
    run: &RunContext,
    endpoints: &SignalEndpoints,
) -> Result<Measurement, ProbeError> {
    let roots = netx::TrustRoots::from_pem(endpoints.ca_pem().as_bytes())
        .map_err(|e| ProbeError::Internal(format!("signal roots: {e}")))?;
    let mut signal_cfg = cfg.clone();
    signal_cfg.net.roots = roots;
    let mut s = SocialRun::start(&signal_cfg);
    let mut set = tokio::task::JoinSet::new();
    for url in endpoints.urls.clone() {
        let s2 = s.clone_for_task();
        set.spawn(async move {
            let mut s2 = s2;
            s2.get(&url, &url).await;
            s2
        });
    }
    {
        let s2 = s.clone_for_task();
        let host = endpoints.uptime_host.clone();
        set.spawn(async move {
            let mut s2 = s2;
            s2.resolve("uptime", &host).await;
            s2
        });
    }
    while let Some(done) = set.join_next().await {
        if let Ok(part) = done {
            s.absorb(part);
        }
    }
    let mut keys = s.test_keys();
    let records = Records::from_test_keys(&Value::Object(keys.clone()));
    canary_social::signal::analyse(&records, endpoints).merge_into(&mut keys);
    s.finish(
        run,
        canary_social::signal::TEST_NAME,
        canary_social::signal::TEST_VERSION,
        None,
        keys,
    )
}

/// Which of the four experiments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocialExperiment {
    /// `facebook_messenger`.
    FacebookMessenger,
    /// `whatsapp`.
    Whatsapp,
    /// `telegram`.
    Telegram,
    /// `signal`.
    Signal,
}

impl SocialExperiment {
    /// All four, in the order a suite runs them.
    pub const ALL: [SocialExperiment; 4] = [
        SocialExperiment::FacebookMessenger,
        SocialExperiment::Whatsapp,
        SocialExperiment::Telegram,
        SocialExperiment::Signal,
    ];

    /// The OONI `test_name`.
    pub fn test_name(self) -> &'static str {
        match self {
            SocialExperiment::FacebookMessenger => canary_social::facebook::TEST_NAME,
            SocialExperiment::Whatsapp => canary_social::whatsapp::TEST_NAME,
            SocialExperiment::Telegram => canary_social::telegram::TEST_NAME,
            SocialExperiment::Signal => canary_social::signal::TEST_NAME,
        }
    }

    /// Runs this experiment against `endpoints`.
    pub async fn measure(
        self,
        cfg: &ProbeConfig,
        run: &RunContext,
        endpoints: &Endpoints,
    ) -> Result<Measurement, ProbeError> {
        match self {
            SocialExperiment::FacebookMessenger => {
                measure_facebook_messenger(cfg, run, &endpoints.facebook).await
            }
            SocialExperiment::Whatsapp => measure_whatsapp(cfg, run, &endpoints.whatsapp).await,
            SocialExperiment::Telegram => measure_telegram(cfg, run, &endpoints.telegram).await,
            SocialExperiment::Signal => measure_signal(cfg, run, &endpoints.signal).await,
        }
    }
}

/// What `canary probe --suite` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Suite {
    /// Web connectivity of the test lists' URLs (today's default).
    #[default]
    Websites,
    /// The four messaging experiments, plus web connectivity of the test
    /// lists' social-media URLs.
    Social,
    /// Both.
    All,
}

impl FromStr for Suite {
    type Err = ProbeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "websites" => Ok(Suite::Websites),
            "social" => Ok(Suite::Social),
            "all" => Ok(Suite::All),
            other => Err(ProbeError::Url(format!(
                "suite {other:?}: expected websites, social or all"
            ))),
        }
    }
}

/// Host names (and their subdomains) of social media and messaging
/// platforms, for picking the test lists' social-media URLs.
pub const SOCIAL_DOMAINS: &[&str] = &[
    "facebook.com",
    "fb.com",
    "fbcdn.net",
    "messenger.com",
    "instagram.com",
    "whatsapp.com",
    "whatsapp.net",
    "youtube.com",
    "youtu.be",
    "twitter.com",
    "x.com",
    "t.co",
    "tiktok.com",
    "telegram.org",
    "t.me",
    "signal.org",
    "line.me",
    "viber.com",
    "linkedin.com",
    "reddit.com",
    "threads.net",
    "bsky.app",
    "discord.com",
    "snapchat.com",
    "vk.com",
    "wechat.com",
];

/// The Citizen Lab category of social networking sites.
pub const SOCIAL_CATEGORY: &str = "GRP";

/// Whether a test-list target is a social-media URL: category `GRP`, or a
/// host under one of [`SOCIAL_DOMAINS`].
pub fn is_social_target(target: &Target) -> bool {
    if target.category_code.as_deref() == Some(SOCIAL_CATEGORY) {
        return true;
    }
    let Some(host) = url::Url::parse(&target.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
    else {
        return false;
    };
    SOCIAL_DOMAINS
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

/// What a suite runs: the web connectivity targets and the experiments.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SuitePlan {
    /// URLs for web connectivity.
    pub websites: Vec<Target>,
    /// Messaging experiments.
    pub experiments: Vec<SocialExperiment>,
}

/// The plan of `suite` over the test lists' `targets`: `websites` keeps
/// them all, `social` keeps the social-media ones and adds the four
/// experiments, `all` keeps them all and adds the experiments.
pub fn suite(suite: Suite, targets: Vec<Target>) -> SuitePlan {
    match suite {
        Suite::Websites => SuitePlan {
            websites: targets,
            experiments: Vec::new(),
        },
        Suite::Social => SuitePlan {
            websites: targets.into_iter().filter(is_social_target).collect(),
            experiments: SocialExperiment::ALL.to_vec(),
        },
        Suite::All => SuitePlan {
            websites: targets,
            experiments: SocialExperiment::ALL.to_vec(),
        },
    }
}

/// A run for one experiment: as [`crate::runner::new_run`], with the
/// experiment's name in the report id as OONI writes it
/// (`..._facebookmessenger_...`, `..._canaryaccountcheck_...`).
pub fn new_run(cfg: &ProbeConfig, test_name: &str) -> RunContext {
    let mut run = crate::runner::new_run(cfg);
    run.report_id = run.report_id.replacen(
        "_webconnectivity_",
        &format!("_{}_", test_name.replace('_', "")),
        1,
    );
    run
}

/// Reads a data file of at most [`canary_social::MAX_DATA_BYTES`].
fn read_bounded(path: &std::path::Path) -> Result<String, ProbeError> {
    use std::io::Read;
    let file = std::fs::File::open(path)
        .map_err(|e| ProbeError::Url(format!("{}: {e}", path.display())))?;
    let mut text = String::new();
    file.take(canary_social::MAX_DATA_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .map_err(|e| ProbeError::Url(format!("{}: {e}", path.display())))?;
    if text.len() > canary_social::MAX_DATA_BYTES {
        return Err(ProbeError::Url(format!(
            "{}: larger than {} bytes",
            path.display(),
            canary_social::MAX_DATA_BYTES
        )));
    }
    Ok(text)
}

/// The endpoints to measure: the real services, or an override file
/// (`--social-endpoints FILE`; the lab writes one per row).
pub fn load_endpoints(path: Option<&std::path::Path>) -> Result<Endpoints, ProbeError> {
    match path {
        None => Ok(Endpoints::default()),
        Some(p) => Endpoints::from_json(&read_bounded(p)?)
            .map_err(|e| ProbeError::Url(format!("{}: {e}", p.display()))),
    }
}

/// The rows of an accounts CSV (`--accounts FILE`: platform,url,owner,category).
pub fn load_accounts(path: &std::path::Path) -> Result<Vec<AccountRow>, ProbeError> {
    restriction::parse_accounts(&read_bounded(path)?)
        .map_err(|e| ProbeError::Url(format!("{}: {e}", path.display())))
}

/// Canary's restriction fingerprints, extended by the user's files.
pub fn load_fingerprints(extra: &[std::path::PathBuf]) -> Result<Fingerprints, ProbeError> {
    let mut fps = Fingerprints::builtin();
    for p in extra {
        let more = Fingerprints::from_json(&read_bounded(p)?)
            .map_err(|e| ProbeError::Url(format!("{}: {e}", p.display())))?;
        fps.extend(more);
    }
    Ok(fps)
}

/// Fetches one page of the accounts file from the probe and (through the
/// test helper) from the control, and classifies it. Network failures are
/// recorded; an error means the row cannot be measured at all.
pub async fn measure_account(
    cfg: &ProbeConfig,
    run: &RunContext,
    row: &AccountRow,
    fingerprints: &Fingerprints,
) -> Result<Measurement, ProbeError> {
    let url =
        url::Url::parse(&row.url).map_err(|e| ProbeError::Url(format!("{}: {e}", row.url)))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ProbeError::Url(format!("{}: not an http(s) URL", row.url)));
    }
    let mut s = SocialRun::start(cfg);
    let control_task = cfg.helper.clone().map(|helper| {
        let req = crate::control::request(url.as_str(), &cfg.request_headers(), &[]);
        tokio::spawn(async move { crate::control::ask(&helper, &req).await })
    });
    let fetched = s.get("page", url.as_str()).await;
    let probe_view = common::page_view(&fetched, &s);
    let (control_view, control_failure, client_ip) = match control_task {
        None => (
            None,
            Some("unknown_failure: no test helper configured".to_string()),
            None,
        ),
        Some(task) => match task.await {
            Ok(Ok(mut resp)) => {
                let ip = match resp.extra.remove(crate::experiment::X_CLIENT_IP) {
                    Some(Value::String(ip)) => Some(ip),
                    _ => None,
                };
                (Some(common::control_view(&resp)), None, ip)
            }
            Ok(Err(f)) => (None, Some(f), None),
            Err(_) => (
                None,
                Some("unknown_failure: control task failed".into()),
                None,
            ),
        },
    };
    if let Some(ip) = client_ip {
        s.add_own_address(ip);
    }
    let verdict = restriction::classify(
        &row.platform,
        Some(&probe_view),
        control_view.as_ref(),
        fingerprints,
    );
    let mut keys = s.test_keys();
    let mut put = |k: &str, v: Value| {
        keys.insert(k.to_string(), v);
    };
    put("platform", Value::String(row.platform.clone()));
    put("owner", Value::String(row.owner.clone()));
    put("category", Value::String(row.category.clone()));
    put(
        "probe_view",
        serde_json::to_value(&probe_view).unwrap_or(Value::Null),
    );
    put(
        "control_view",
        serde_json::to_value(&control_view).unwrap_or(Value::Null),
    );
    put(
        "control_failure",
        control_failure.map_or(Value::Null, Value::String),
    );
    put(
        "account_status",
        serde_json::to_value(verdict.status).unwrap_or(Value::Null),
    );
    put(
        "restriction_fingerprint",
        verdict
            .fingerprint
            .clone()
            .map_or(Value::Null, Value::String),
    );
    put(
        "x_canary",
        serde_json::to_value(&verdict).unwrap_or(Value::Null),
    );
    let category = (!row.category.is_empty()).then(|| row.category.clone());
    s.finish(
        run,
        ACCOUNT_TEST_NAME,
        ACCOUNT_TEST_VERSION,
        Some((row.url.clone(), category)),
        keys,
    )
}

/// The layer a failed fetch stopped at, from its records.
pub(crate) fn failed_layer(failure: &str, fetch: &netx::FetchOutcome) -> Layer {
    if failure.starts_with("dns_") {
        Layer::Dns
    } else if !fetch.tcp_connect.is_empty() && fetch.tcp_connect.iter().all(|c| !c.success()) {
        Layer::Tcp
    } else if !fetch.tls_handshakes.is_empty() && fetch.tls_handshakes.iter().all(|h| !h.success())
    {
        Layer::Tls
    } else {
        Layer::Http
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_experiment_names_its_own_report() {
        let cfg = ProbeConfig::new("127.0.0.1:9".parse().unwrap());
        for (name, part) in [
            ("facebook_messenger", "_facebookmessenger_"),
            ("signal", "_signal_"),
            (ACCOUNT_TEST_NAME, "_canaryaccountcheck_"),
        ] {
            let run = new_run(&cfg, name);
            assert!(run.report_id.contains(part), "{}", run.report_id);
            assert!(
                !run.report_id.contains("webconnectivity"),
                "{}",
                run.report_id
            );
        }
    }

    #[test]
    fn data_files_load_and_bad_or_huge_ones_are_refused_with_their_path() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        assert_eq!(load_endpoints(None).unwrap(), Endpoints::default());
        let e = write(
            "e.json",
            r#"{"telegram": {"datacenters": [{"host": "127.1.8.1", "ports": [8080]}], "web_url": "https://web.test/"}}"#,
        );
        assert_eq!(
            load_endpoints(Some(&e)).unwrap().telegram.datacenters[0].ports,
            [8080]
        );
        let a = write(
            "a.csv",
            "platform,url,owner,category\ntelegram,https://t.me/s/c,C,NEWS\n",
        );
        assert_eq!(load_accounts(&a).unwrap().len(), 1);
        let f = write(
            "f.json",
            r#"{"fingerprints": [{"id": "vk.blocked", "platform": "vk", "location": "body", "pattern": "access restricted"}]}"#,
        );
        assert_eq!(
            load_fingerprints(&[f]).unwrap().list().len(),
            Fingerprints::builtin().list().len() + 1
        );
        let bad = write("bad.json", "{");
        let err = load_endpoints(Some(&bad)).unwrap_err().to_string();
        assert!(err.contains("bad.json"), "{err}");
        let huge = write("huge.csv", &"x".repeat(canary_social::MAX_DATA_BYTES + 10));
        assert!(load_accounts(&huge)
            .unwrap_err()
            .to_string()
            .contains("larger"));
        assert!(load_accounts(&dir.path().join("missing.csv")).is_err());
    }

    #[tokio::test]
    async fn an_account_row_that_is_not_a_web_page_is_refused_before_any_traffic() {
        let cfg = ProbeConfig::new("127.0.0.1:9".parse().unwrap());
        let run = crate::runner::new_run(&cfg);
        for url in ["ftp://files.example/", "not a url", "https://"] {
            let row = AccountRow {
                platform: "x".into(),
                url: url.into(),
                owner: "o".into(),
                category: "c".into(),
            };
            let r = measure_account(&cfg, &run, &row, &Fingerprints::builtin()).await;
            assert!(matches!(r, Err(ProbeError::Url(_))), "{url}: {r:?}");
        }
    }

    #[test]
    fn suites_choose_targets_and_experiments() {
        let t = |url: &str, cat: Option<&str>| Target {
            url: url.into(),
            category_code: cat.map(str::to_string),
        };
        let targets = vec![
            t("https://www.facebook.com/", Some("GRP")),
            t("https://news.example/", Some("NEWS")),
            t("https://t.me/s/channel", None),
            t("https://forum.example/", Some("GRP")),
            t("https://notfacebook.com.example/", None),
        ];
        let plan = suite(Suite::Social, targets.clone());
        let urls: Vec<&str> = plan.websites.iter().map(|t| t.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://www.facebook.com/",
                "https://t.me/s/channel",
                "https://forum.example/"
            ]
        );
        assert_eq!(plan.experiments.len(), 4);
        assert_eq!(suite(Suite::Websites, targets.clone()).experiments, vec![]);
        assert_eq!(suite(Suite::Websites, targets.clone()).websites.len(), 5);
        assert_eq!(suite(Suite::All, targets).websites.len(), 5);
        for (s, want) in [
            ("websites", Suite::Websites),
            ("social", Suite::Social),
            ("all", Suite::All),
        ] {
            assert_eq!(s.parse::<Suite>().unwrap(), want);
        }
        assert!("everything".parse::<Suite>().is_err());
    }
}
