//! `canary probe`: measure URLs and write OONI measurements.

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use canary_probe::runner::{self, Outcome};
use canary_probe::{social, DohConfig, HelperConfig, ProbeConfig, Target};
use tokio::sync::{mpsc, watch};

use crate::cli::{NetArgs, ProbeArgs};
use crate::judge::AnalysisJudge;

/// Where `canary lists update` keeps lists unless told otherwise.
pub fn default_lists_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("canary").join("test-lists")
}

fn secs(s: f64, what: &str) -> anyhow::Result<Duration> {
    if !(s.is_finite() && s > 0.0 && s <= 3600.0) {
        bail!("{what} must be between 0 and 3600 seconds, not {s}");
    }
    Ok(Duration::from_secs_f64(s))
}

/// The measurement options common to the probe and the helper.
pub fn net_options(net: &NetArgs) -> anyhow::Result<canary_netx::Options> {
    let mut opts = canary_netx::Options {
        bind: net.bind,
        dns_timeout: secs(net.dns_timeout, "--dns-timeout")?,
        tcp_timeout: secs(net.tcp_timeout, "--tcp-timeout")?,
        tls_timeout: secs(net.tls_timeout, "--tls-timeout")?,
        http_timeout: secs(net.http_timeout, "--http-timeout")?,
        ..canary_netx::Options::default()
    };
    if let Some(ca) = &net.ca_file {
        opts.roots = canary_netx::TrustRoots::from_pem_file(ca)
            .with_context(|| format!("--ca-file {}", ca.display()))?;
    }
    Ok(opts)
}

/// Loads `--asn-db`.
pub fn asn_db(path: Option<&Path>) -> anyhow::Result<Option<Arc<canary_ipinfo::AsnDb>>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("--asn-db {}", path.display()))?;
    let db = canary_ipinfo::AsnDb::parse(&text)
        .with_context(|| format!("--asn-db {}", path.display()))?;
    Ok(Some(Arc::new(db)))
}

/// `--doh URL` (probe and helper): the URL and the address its server is
/// reached at: an IP host as it is, a name looked up once, here, with the
/// system resolver.
pub fn doh_server(doh: &str) -> anyhow::Result<(url::Url, std::net::SocketAddr)> {
    let url = url::Url::parse(doh).with_context(|| format!("--doh {doh}"))?;
    let host = url
        .host_str()
        .context("--doh URL without host")?
        .to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let server = match host.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
        Ok(ip) => std::net::SocketAddr::new(ip, port),
        Err(_) => std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
            .with_context(|| format!("resolving the --doh server {host}"))?
            .next()
            .with_context(|| format!("the --doh server {host} has no address"))?,
    };
    Ok((url, server))
}

/// An HTTPS client for non-measurement traffic (the helper, uploads),
/// leaving from the measurement source address when one is set, so the
/// helper sees the same network the probe measures.
pub fn api_client(
    ca_file: Option<&Path>,
    timeout: Duration,
    bind: Option<std::net::IpAddr>,
) -> anyhow::Result<reqwest::Client> {
    canary_lists::http_client(ca_file, timeout, bind).context("building the HTTPS client")
}

fn targets(args: &ProbeArgs) -> anyhow::Result<Vec<Target>> {
    let mut out: Vec<Target> = args.urls.iter().map(Target::url).collect();
    for path in &args.list {
        let file =
            std::fs::File::open(path).with_context(|| format!("--list {}", path.display()))?;
        let list = canary_lists::parse(std::io::BufReader::new(file))
            .with_context(|| format!("--list {}", path.display()))?;
        for problem in &list.problems {
            eprintln!("canary: {}: skipped {problem}", path.display());
        }
        out.extend(list.entries.into_iter().map(|e| Target {
            url: e.url,
            category_code: Some(e.category_code),
        }));
    }
    if let Some(cc) = &args.country {
        let dir = args.lists_dir.clone().unwrap_or_else(default_lists_dir);
        let entries = canary_lists::ListStore::new(dir).load_country(cc)?;
        out.extend(entries.into_iter().map(|e| Target {
            url: e.url,
            category_code: Some(e.category_code),
        }));
    }
    let mut seen = HashSet::new();
    out.retain(|t| seen.insert(t.url.clone()));
    Ok(out)
}

/// The inputs already measured in an output file (for --resume).
fn measured_inputs(path: &Path) -> anyhow::Result<HashSet<String>> {
    let mut done = HashSet::new();
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(done),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    for line in std::io::BufReader::new(file).lines() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        // A line cut short by an earlier crash is simply measured again.
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
            if let Some(input) = v.get("input").and_then(|i| i.as_str()) {
                done.insert(input.to_string());
            }
        }
    }
    Ok(done)
}

pub fn run(args: ProbeArgs) -> anyhow::Result<ExitCode> {
    canary_netx::install_ring_provider();
    let suite: social::Suite = args
        .suite
        .parse()
        .map_err(|e: canary_probe::ProbeError| anyhow::anyhow!("--suite: {e}"))?;
    let plan = social::suite(suite, targets(&args)?);
    let mut targets = plan.websites;
    let mut experiments = plan.experiments;
    if !args.experiment.is_empty() {
        let mut chosen = Vec::new();
        for name in &args.experiment {
            let exp = social::SocialExperiment::ALL
                .into_iter()
                .find(|e| e.test_name() == name)
                .with_context(|| {
                    format!(
                        "--experiment {name}: use facebook_messenger, whatsapp, telegram or signal"
                    )
                })?;
            if !chosen.contains(&exp) {
                chosen.push(exp);
            }
        }
        experiments = chosen;
    }
    let endpoints = social::load_endpoints(args.social_endpoints.as_deref())?;
    let accounts = match &args.accounts {
        Some(path) => social::load_accounts(path)?,
        None => Vec::new(),
    };
    let restriction_fingerprints = social::load_fingerprints(&args.restriction_fingerprints)?;
    if targets.is_empty() && experiments.is_empty() && accounts.is_empty() {
        bail!("nothing to measure: give URLs, --list FILE, --country CC, --suite social or --accounts FILE");
    }
    let mut net = net_options(&args.net)?;
    net.body_cap = args.body_cap;
    let mut cfg = ProbeConfig::new(
        *args
            .resolver
            .first()
            .context("at least one --resolver is needed")?,
    );
    cfg.udp_resolvers = args.resolver.clone();
    cfg.system_resolver = !args.no_system_resolver;
    cfg.bogons = canary_ipinfo::Bogons::with_routable(&args.net.routable)?;
    cfg.asn_db = asn_db(args.net.asn_db.as_deref())?;
    if let Some(cc) = &args.probe_cc {
        let cc = cc.trim().to_ascii_uppercase();
        if cc.len() != 2 || !cc.bytes().all(|b| b.is_ascii_uppercase()) {
            bail!("--probe-cc {cc}: use a two-letter country code, e.g. KH");
        }
        cfg.probe_cc = cc;
    }
    if let Some(asn) = &args.probe_asn {
        let n = canary_model::parse_asn(asn)
            .with_context(|| format!("--probe-asn {asn}: use the form AS38623"))?;
        cfg.probe_asn = format!("AS{n}");
    }
    if let Some(bind) = args.net.bind {
        cfg.own_addresses.push(bind);
    }
    let client_timeout = secs(args.helper_timeout, "--helper-timeout")?;
    if let Some(helper) = &args.helper {
        cfg.helper = Some(HelperConfig {
            url: url::Url::parse(helper).with_context(|| format!("--helper {helper}"))?,
            timeout: client_timeout,
            client: api_client(args.net.ca_file.as_deref(), client_timeout, args.net.bind)?,
        });
    } else {
        eprintln!(
            "canary: warning: no --helper given; without a control measurement most verdicts stay undecided"
        );
    }
    if let Some(doh) = &args.doh {
        let (url, server) = doh_server(doh)?;
        cfg.doh = Some(DohConfig { url, server });
    }
    cfg.net = net;
    cfg.judge = Arc::new(AnalysisJudge::new(
        crate::judge::fingerprints(&args.fingerprints)?,
        &args.net.routable,
    )?);

    let mut output: Box<dyn Write + Send> = match &args.output {
        Some(path) => {
            if args.resume {
                let done = measured_inputs(path)?;
                let before = targets.len();
                targets.retain(|t| !done.contains(&t.url));
                eprintln!(
                    "canary: resuming: {} of {before} URLs already measured in {}",
                    before - targets.len(),
                    path.display()
                );
            } else if path.exists() {
                bail!(
                    "{} already exists: use --resume to continue it, or choose another file",
                    path.display()
                );
            }
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening {}", path.display()))?;
            Box::new(std::io::BufWriter::new(file))
        }
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };

    let runtime = crate::cmd::multi_thread_runtime()?;
    let cfg = Arc::new(cfg);
    let total = targets.len() + experiments.len() + accounts.len();
    let context = runner::new_run(&cfg);
    let (tx, mut rx) = mpsc::channel::<Outcome>(64);
    let (stop_tx, stop_rx) = watch::channel(false);
    let concurrency = args.concurrency.max(1);
    let bar = crate::cmd::progress::bar(total as u64, "URLs");

    let uploader = match &args.submit {
        Some(base) => Some(Arc::new(crate::cmd::submit::Uploader::new(
            base,
            args.queue
                .clone()
                .unwrap_or_else(crate::cmd::submit::default_queue),
            args.net.ca_file.as_deref(),
            args.net.bind,
        )?)),
        None => None,
    };
    let bar_outside = bar.clone();
    let result: anyhow::Result<(usize, usize, usize, bool)> = runtime.block_on(async move {
        // The messaging experiments and the page checks run beside the
        // websites and report through the same channel.
        let mut extra = tokio::task::JoinSet::new();
        let endpoints = Arc::new(endpoints);
        let restriction_fingerprints = Arc::new(restriction_fingerprints);
        for exp in experiments {
            let (cfg, endpoints, tx) = (cfg.clone(), endpoints.clone(), tx.clone());
            extra.spawn(async move {
                let run = social::new_run(&cfg, exp.test_name());
                let outcome = match exp.measure(&cfg, &run, &endpoints).await {
                    Ok(m) => Outcome::Measured(Box::new(m)),
                    Err(error) => Outcome::Failed {
                        target: Target::url(exp.test_name()),
                        error,
                    },
                };
                let _ = tx.send(outcome).await;
            });
        }
        if !accounts.is_empty() {
            let (cfg, fps, tx) = (cfg.clone(), restriction_fingerprints.clone(), tx.clone());
            extra.spawn(async move {
                let run = social::new_run(&cfg, social::ACCOUNT_TEST_NAME);
                for row in accounts {
                    let outcome = match social::measure_account(&cfg, &run, &row, &fps).await {
                        Ok(m) => Outcome::Measured(Box::new(m)),
                        Err(error) => Outcome::Failed {
                            target: Target::url(row.url.clone()),
                            error,
                        },
                    };
                    if tx.send(outcome).await.is_err() {
                        return;
                    }
                }
            });
        }
        let run = tokio::spawn(runner::run(cfg, context, targets, concurrency, tx, stop_rx));
        // Uploads go through the queue on disk: a measurement is queued as
        // soon as it is written, and sent whenever the collector answers.
        let wake = Arc::new(tokio::sync::Notify::new());
        let (done_tx, mut done_rx) = watch::channel(false);
        let upload_task = uploader.clone().map(|up| {
            let wake = wake.clone();
            tokio::spawn(async move {
                let mut totals = (0usize, 0usize);
                loop {
                    let finished = tokio::select! {
                        _ = wake.notified() => false,
                        _ = tokio::time::sleep(Duration::from_secs(30)) => false,
                        _ = done_rx.wait_for(|d| *d) => true,
                    };
                    let (accepted, rejected, _) = up.flush().await;
                    totals.0 += accepted;
                    totals.1 += rejected;
                    if finished {
                        return totals;
                    }
                }
            })
        });
        let mut ctrl_c = Box::pin(tokio::signal::ctrl_c());
        let (mut written, mut anomalies, mut failed, mut interrupted) = (0usize, 0usize, 0usize, false);
        loop {
            tokio::select! {
                _ = &mut ctrl_c, if !interrupted => {
                    interrupted = true;
                    let _ = stop_tx.send(true);
                    bar.suspend(|| eprintln!("canary: stopping; every finished measurement is kept (use --resume to continue)"));
                }
                outcome = rx.recv() => {
                    let Some(outcome) = outcome else { break };
                    match outcome {
                        Outcome::Measured(m) => {
                            let line = m.to_json_string().context("serializing a measurement")?;
                            writeln!(output, "{line}").context("writing a measurement")?;
                            output.flush().context("writing a measurement")?;
                            if let Some(up) = &uploader {
                                up.enqueue(&line)?;
                                wake.notify_one();
                            }
                            written += 1;
                            let summary = summary(&m);
                            if summary.1 {
                                anomalies += 1;
                            }
                            if bar.is_hidden() {
                                // no terminal: one log line per measurement
                                eprintln!("[{written}/{total}] {}", summary.0);
                            } else {
                                bar.inc(1);
                                bar.set_message(format!("{anomalies} anomalies"));
                            }
                        }
                        Outcome::Failed { target, error } => {
                            failed += 1;
                            bar.inc(1);
                            bar.suspend(|| eprintln!("canary: {}: {error}", target.url));
                        }
                    }
                }
            }
        }
        let _ = run.await;
        extra.abort_all();
        if let (Some(task), Some(up)) = (upload_task, &uploader) {
            let _ = done_tx.send(true);
            if let Ok((accepted, rejected)) = task.await {
                let left = up.pending().len();
                bar.suspend(|| eprintln!(
                    "canary: {accepted} measurements uploaded, {rejected} refused by the collector, {left} queued in {}{}",
                    up.queue().display(),
                    if left > 0 { " (`canary submit --to URL` sends them later)" } else { "" }
                ));
            }
        }
        Ok((written, anomalies, failed, interrupted))
    });
    bar_outside.finish_and_clear();
    let (written, anomalies, failed, interrupted) = result?;
    eprintln!(
        "canary: {written} measurement{} written ({anomalies} with an anomaly), {failed} URL{} not measurable{}",
        if written == 1 { "" } else { "s" },
        if failed == 1 { "" } else { "s" },
        if interrupted { ", stopped early" } else { "" }
    );
    Ok(if interrupted {
        ExitCode::from(130)
    } else if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// One line about a measurement for the log, and whether it is an anomaly.
fn summary(m: &canary_model::Measurement) -> (String, bool) {
    let input = m.input_str().unwrap_or("-");
    let Some(tk) = m.web_connectivity() else {
        return (input.to_string(), false);
    };
    let label = tk
        .extra
        .get(crate::judge::X_CANARY)
        .map(|v| {
            let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
            let mut parts = vec![field("outcome")];
            for k in ["layer", "kind"] {
                let f = field(k);
                if !f.is_empty() {
                    parts.push(f);
                }
            }
            parts.join(" ")
        })
        .unwrap_or_default();
    let anomaly = tk
        .blocking
        .get()
        .is_some_and(canary_model::Blocking::is_anomaly);
    (format!("{input}  {label}"), anomaly)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_doh_server_given_by_address_is_used_as_it_is_on_its_port_or_443() {
        for (doh, server) in [
            ("https://9.9.9.9/dns-query", "9.9.9.9:443"),
            ("https://127.0.0.1:8053/dns-query", "127.0.0.1:8053"),
            ("https://[::1]/dns-query", "[::1]:443"),
            ("https://[2620:fe::fe]:8443/dns-query", "[2620:fe::fe]:8443"),
            ("http://127.0.0.1/dns-query", "127.0.0.1:80"),
        ] {
            let (url, addr) = doh_server(doh).unwrap();
            assert_eq!(url.as_str(), doh);
            assert_eq!(addr, server.parse().unwrap(), "{doh}");
        }
    }

    #[test]
    fn a_doh_server_given_by_name_is_looked_up_with_the_system_resolver() {
        let (_, addr) = doh_server("https://localhost:8053/dns-query").unwrap();
        assert!(addr.ip().is_loopback(), "{addr}");
        assert_eq!(addr.port(), 8053);
    }

    #[test]
    fn a_doh_url_that_cannot_be_used_is_a_clear_error() {
        for (doh, says) in [
            ("dns.example/dns-query", "--doh dns.example/dns-query"),
            ("data:text/plain,hello", "--doh URL without host"),
        ] {
            let err = format!("{:#}", doh_server(doh).unwrap_err());
            assert!(err.contains(says), "{doh}: {err}");
        }
    }
}
