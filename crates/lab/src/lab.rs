//! Starting and stopping a lab: building the world from the scenario table.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use hyper::StatusCode;
use rustls_pki_types::CertificateDer;
use socket2::Socket;

use crate::dns::{DnsRule, Resolver, Role, Zone};
use crate::net::{self, Blackhole};
use crate::pki::Pki;
use crate::scenario::{host_for, CensorAction, Scenario, ScenarioSpec, ServerBehaviour, SCENARIOS};
use crate::site::{ConnCensor, Content, HostCensor, HostEntry, Page, Shared, SiteSpec};
use crate::{
    LabError, BLOCKPAGE_HOST, BLOCKPAGE_IP, BOGON_ANSWER, CENSORED_SOURCE, CONTROL_RESOLVER_IP,
    CONTROL_SOURCE, INJECTED_ANSWER, ISP_RESOLVER_IP, ROUTABLE_CIDR,
};

/// Most `LabConfig::bulk` entries (each gets its own listener and address).
const MAX_BULK_ROWS: usize = 200;
/// Most bulk sites in one lab.
const MAX_BULK_SITES: usize = 100_000;

/// How a lab is built. `LabConfig::default()` is what the scenario table's
/// expected verdicts assume.
#[derive(Debug, Clone)]
pub struct LabConfig {
    /// Source address of the censored vantage (default [`CENSORED_SOURCE`]).
    pub censored_source: Ipv4Addr,
    /// Byte rate of the `throttled` scenario (default 32 KiB/s: a probe's
    /// 512 KiB body cap then takes 16 s, beyond a 10 s HTTP timeout).
    pub throttle_bytes_per_second: u64,
    /// Delay before the `ok_slow` site answers (default 500 ms).
    pub slow_delay: Duration,
    /// Delay between the forged and the true DNS answer (default 80 ms).
    pub injection_delay: Duration,
    /// Body size of the large pages (default 1 MiB).
    pub large_body_bytes: usize,
    /// The bogon address answered in `dns_bogon` (default [`BOGON_ANSWER`];
    /// must be a loopback or unspecified address: the lab never points anyone
    /// at an address outside this machine).
    pub bogon_answer: Ipv4Addr,
    /// Extra sites for benchmarks: `(scenario name, count)` adds `count`
    /// sites that behave like that row, sharing one listener
    /// (redirect-chain rows cannot be copied).
    pub bulk: Vec<(String, usize)>,
}

impl Default for LabConfig {
    fn default() -> Self {
        LabConfig {
            censored_source: CENSORED_SOURCE,
            throttle_bytes_per_second: 32 * 1024,
            slow_delay: Duration::from_millis(500),
            injection_delay: Duration::from_millis(80),
            large_body_bytes: 1 << 20,
            bogon_answer: BOGON_ANSWER,
            bulk: Vec::new(),
        }
    }
}

/// What a running lab tells its users.
struct Info {
    scenarios: Vec<Scenario>,
    bulk: Vec<Scenario>,
    zone: HashMap<String, Ipv4Addr>,
    isp_resolver: SocketAddr,
    control_resolver: SocketAddr,
    blockpage_url: String,
    social: Vec<crate::social::SocialScenario>,
}

/// A running censorship lab. Dropping it stops every server and closes every socket.
///
/// See the crate documentation for an example.
pub struct Lab {
    info: Info,
    config: LabConfig,
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    ca_path: PathBuf,
    untrusted_ca_path: PathBuf,
    fingerprints_path: PathBuf,
    asn_path: PathBuf,
    accounts_path: PathBuf,
    _dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Lab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lab")
            .field("isp_resolver", &self.info.isp_resolver)
            .field("control_resolver", &self.info.control_resolver)
            .field("ca_path", &self.ca_path)
            .field("scenarios", &self.info.scenarios.len())
            .field("bulk", &self.info.bulk.len())
            .finish()
    }
}

impl Lab {
    /// Starts a lab with the default configuration (blocking; works from plain
    /// `#[test]`s and from inside a tokio runtime: the lab runs its own
    /// runtime on its own thread).
    pub fn start() -> Result<Lab, LabError> {
        Lab::start_with(LabConfig::default())
    }

    /// Starts a lab with `config`.
    pub fn start_with(config: LabConfig) -> Result<Lab, LabError> {
        validate(&config)?;
        let pki = Arc::new(Pki::generate()?);
        let dir = tempfile::Builder::new()
            .prefix("canary-lab-")
            .tempdir()
            .map_err(|e| LabError::File {
                path: "temporary directory".into(),
                source: e,
            })?;
        let ca_path = dir.path().join("lab-ca.pem");
        let untrusted_ca_path = dir.path().join("censor-ca.pem");
        let fingerprints_path = dir.path().join("lab-fingerprints.csv");
        let fingerprints = fingerprints_csv();
        for (path, content) in [
            (&ca_path, &pki.ca_pem),
            (&untrusted_ca_path, &pki.untrusted_ca_pem),
            (&fingerprints_path, &fingerprints),
        ] {
            std::fs::write(path, content).map_err(|e| LabError::File {
                path: path.display().to_string(),
                source: e,
            })?;
        }
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let thread_pki = Arc::clone(&pki);
        let thread_config = config.clone();
        let thread = std::thread::Builder::new()
            .name("canary-lab".into())
            .spawn(move || run(thread_config, thread_pki, ready_tx, shutdown_rx))
            .map_err(|e| LabError::Runtime(format!("cannot spawn the lab thread: {e}")))?;
        let mut info = match ready_rx.recv() {
            Ok(Ok(info)) => info,
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => {
                let _ = thread.join();
                return Err(LabError::Runtime(
                    "the lab thread died during start-up".into(),
                ));
            }
        };
        let (asn_path, accounts_path) =
            crate::social::write_files(dir.path(), &mut info.social, &pki.ca_pem)?;
        tracing::debug!(scenarios = info.scenarios.len(), "canary lab started");
        Ok(Lab {
            info,
            config,
            ca_pem: pki.ca_pem.clone(),
            ca_der: pki.ca_der.clone(),
            ca_path,
            untrusted_ca_path,
            fingerprints_path,
            asn_path,
            accounts_path,
            _dir: dir,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        })
    }

    /// Stops the lab now (same as dropping it).
    pub fn stop(self) {}

    /// The scenario table with this lab's URLs, in table order.
    pub fn scenarios(&self) -> &[Scenario] {
        &self.info.scenarios
    }

    /// One scenario by name.
    pub fn scenario(&self, name: &str) -> Option<&Scenario> {
        self.info.scenarios.iter().find(|s| s.name == name)
    }

    /// The extra sites asked for with [`LabConfig::bulk`].
    pub fn bulk_sites(&self) -> &[Scenario] {
        &self.info.bulk
    }

    /// The scenarios (and bulk sites) as pretty JSON, for golden files.
    pub fn scenarios_json(&self) -> String {
        let all: Vec<&Scenario> = self.info.scenarios.iter().chain(&self.info.bulk).collect();
        serde_json::to_string_pretty(&all).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// Everything a process outside Rust needs to use this lab, as pretty
    /// JSON: resolver addresses, CA files, vantage addresses, the routable
    /// network, the blockpage URL, and the scenarios (and bulk sites).
    pub fn summary_json(&self) -> String {
        let value = serde_json::json!({
            "isp_resolver": self.info.isp_resolver.to_string(),
            "control_resolver": self.info.control_resolver.to_string(),
            "ca_file": self.ca_path.display().to_string(),
            "censor_ca_file": self.untrusted_ca_path.display().to_string(),
            "fingerprints_file": self.fingerprints_path.display().to_string(),
            "censored_source": self.censored_source().to_string(),
            "control_source": self.control_source().to_string(),
            "routable": ROUTABLE_CIDR,
            "blockpage_url": self.info.blockpage_url,
            "scenarios": self.info.scenarios,
            "bulk_sites": self.info.bulk,
            "asn_db_file": self.asn_path.display().to_string(),
            "accounts_file": self.accounts_path.display().to_string(),
            "social_scenarios": self.info.social,
        });
        serde_json::to_string_pretty(&value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// Path of the lab CA certificate (PEM): give it to the probe and helper as `--ca-file`.
    pub fn ca_pem_path(&self) -> &Path {
        &self.ca_path
    }

    /// The lab CA certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The lab CA certificate, DER (e.g. for a rustls `RootCertStore`).
    pub fn ca_der(&self) -> &CertificateDer<'static> {
        &self.ca_der
    }

    /// Path of a blocking-fingerprint file (OONI's CSV format) that names the
    /// lab censor's blockpage server address (a DNS fingerprint) and its
    /// blockpage marker (a body fingerprint): give it to the analysis
    /// (`--fingerprints`) so that `dns_blockpage_ip` is recognised as a
    /// known blockpage address, as 36.37.242.94 is in Cambodia.
    pub fn fingerprints_path(&self) -> &Path {
        &self.fingerprints_path
    }

    /// Path of the censor's own (untrusted) interception CA, PEM.
    pub fn untrusted_ca_pem_path(&self) -> &Path {
        &self.untrusted_ca_path
    }

    /// The ISP resolver (UDP and TCP on the same port): the censored vantage's resolver.
    pub fn isp_resolver_addr(&self) -> SocketAddr {
        self.info.isp_resolver
    }

    /// The honest resolver (UDP and TCP on the same port): the control's resolver.
    pub fn control_resolver_addr(&self) -> SocketAddr {
        self.info.control_resolver
    }

    /// Source address the probe must bind (the censored vantage).
    pub fn censored_source(&self) -> Ipv4Addr {
        self.config.censored_source
    }

    /// Source address the helper should bind (the control vantage).
    pub fn control_source(&self) -> Ipv4Addr {
        CONTROL_SOURCE
    }

    /// The lab's "public internet" to declare routable (`127.1.0.0/16`).
    pub fn routable_cidr(&self) -> &'static str {
        ROUTABLE_CIDR
    }

    /// The censor's blockpage URL (where `http_redirect_to_blockpage` sends the probe).
    pub fn blockpage_url(&self) -> &str {
        &self.info.blockpage_url
    }

    /// The true address of a lab name (what the control resolver answers).
    pub fn resolve(&self, host: &str) -> Option<Ipv4Addr> {
        self.info.zone.get(&crate::dns::normalise(host)).copied()
    }

    /// The social rows ([`crate::social::SOCIAL_SCENARIOS`]) with their hosts
    /// and endpoint files.
    pub fn social_scenarios(&self) -> &[crate::social::SocialScenario] {
        &self.info.social
    }

    /// One social row by name.
    pub fn social_scenario(&self, name: &str) -> Option<&crate::social::SocialScenario> {
        self.info.social.iter().find(|s| s.name == name)
    }

    /// The lab's IP-to-ASN table (iptoasn TSV, for `--asn-db`): Facebook's
    /// stand-ins are in AS32934.
    pub fn asn_db_path(&self) -> &Path {
        &self.asn_path
    }

    /// The accounts CSV of the account rows (for `--accounts`).
    pub fn accounts_csv_path(&self) -> &Path {
        &self.accounts_path
    }

    /// The configuration this lab was started with.
    pub fn config(&self) -> &LabConfig {
        &self.config
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::warn!("the lab thread panicked while stopping");
            }
        }
    }
}

/// The lab censor's fingerprints, in OONI's blocking-fingerprints CSV format.
fn fingerprints_csv() -> String {
    format!(
        "name,scope,other_names,location_found,pattern_type,pattern,confidence_no_fp,expected_countries,source,exp_url,notes\n\
         canary_lab.dns_blockpage_server,isp,,dns,full,{BLOCKPAGE_IP},10,ZZ,canary-lab,,\"Address of the Canary lab censor's blockpage server (crates/lab).\"\n\
         canary_lab.http_blockpage,isp,,body,contains,{},10,ZZ,canary-lab,,\"Marker in the Canary lab censor's blockpage (crates/lab).\"\n",
        crate::BLOCKPAGE_MARKER
    )
}

fn validate(config: &LabConfig) -> Result<(), LabError> {
    if !config.censored_source.is_loopback() {
        return Err(LabError::Config(format!(
            "censored_source {} is not a loopback address",
            config.censored_source
        )));
    }
    if config.censored_source == CONTROL_SOURCE {
        return Err(LabError::Config(
            "censored_source must differ from the control source".into(),
        ));
    }
    if !(config.bogon_answer.is_loopback() || config.bogon_answer.is_unspecified()) {
        return Err(LabError::Config(format!(
            "bogon_answer {} must stay on this machine (loopback or 0.0.0.0)",
            config.bogon_answer
        )));
    }
    if config.throttle_bytes_per_second == 0 {
        return Err(LabError::Config(
            "throttle_bytes_per_second must be > 0".into(),
        ));
    }
    if config.bulk.len() > MAX_BULK_ROWS {
        return Err(LabError::Config(format!(
            "bulk: at most {MAX_BULK_ROWS} entries"
        )));
    }
    let total: usize = config.bulk.iter().map(|(_, n)| *n).sum();
    if total > MAX_BULK_SITES {
        return Err(LabError::Config(format!(
            "bulk: {total} sites, at most {MAX_BULK_SITES}"
        )));
    }
    for (name, _) in &config.bulk {
        match crate::scenario::spec(name) {
            None => {
                return Err(LabError::Config(format!(
                    "bulk: no scenario named {name:?}"
                )))
            }
            Some(s) if s.server == ServerBehaviour::RedirectChain => {
                return Err(LabError::Config(format!(
                    "bulk: {name} is a redirect chain and cannot be copied"
                )))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

type Ready = std::sync::mpsc::Sender<Result<Info, LabError>>;

/// The lab thread: builds the world inside its runtime, reports, serves until shutdown.
fn run(
    config: LabConfig,
    pki: Arc<Pki>,
    ready: Ready,
    shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("canary-lab-worker")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(LabError::Runtime(format!(
                "cannot build the runtime: {e}"
            ))));
            return;
        }
    };
    runtime.block_on(async move {
        match build(&config, pki).await {
            Ok((info, keep)) => {
                let _ = ready.send(Ok(info));
                let _ = shutdown.await;
                drop(keep);
            }
            Err(e) => {
                let _ = ready.send(Err(e));
            }
        }
    });
    runtime.shutdown_timeout(Duration::from_secs(2));
}

/// Sockets that must stay open while the lab runs but are not served.
struct Keep {
    _blackholes: Vec<Blackhole>,
}

fn bind_dns(ip: Ipv4Addr) -> Result<(std::net::UdpSocket, Socket), LabError> {
    let mut last = None;
    for _ in 0..64 {
        let udp = std::net::UdpSocket::bind(SocketAddrV4::new(ip, 0))
            .map_err(|e| LabError::socket(format!("bind udp {ip}:0"), e))?;
        let port = udp
            .local_addr()
            .map_err(|e| LabError::socket("local_addr", e))?
            .port();
        match net::tcp_listener(SocketAddrV4::new(ip, port), 128, false) {
            Ok(tcp) => {
                udp.set_nonblocking(true)
                    .map_err(|e| LabError::socket("udp nonblocking", e))?;
                return Ok((udp, tcp));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(LabError::socket(
        format!("bind tcp {ip} on the udp port"),
        last.unwrap_or_else(|| std::io::Error::other("no attempt made")),
    ))
}

/// One listener's worth of sites: a scenario row, or a row's bulk copies.
struct Group {
    spec: &'static ScenarioSpec,
    /// Names of the scenarios, one per URL.
    names: Vec<String>,
    /// Host of each URL.
    hosts: Vec<String>,
    bulk: bool,
}

fn groups(config: &LabConfig) -> Vec<Group> {
    let mut out: Vec<Group> = SCENARIOS
        .iter()
        .map(|spec| Group {
            spec,
            names: vec![spec.name.to_owned()],
            hosts: vec![host_for(spec.name, None)],
            bulk: false,
        })
        .collect();
    for (name, count) in &config.bulk {
        let Some(spec) = crate::scenario::spec(name) else {
            continue;
        };
        let (names, hosts) = (0..*count)
            .map(|k| {
                let n = format!("{:04}", k + 1);
                (format!("{name}_bulk_{n}"), host_for(spec.name, Some(&n)))
            })
            .unzip();
        out.push(Group {
            spec,
            names,
            hosts,
            bulk: true,
        });
    }
    out
}

fn page(name: &str, index: usize, len: usize) -> Page {
    let title = format!("Canary Lab site {index}: {name} independent news");
    let mut body = format!(
        "<!DOCTYPE html>\n<html><head><title>{title}</title></head>\n<body><h1>{title}</h1>\n"
    );
    let paragraph = format!(
        "<p>Story {index} of the {name} site. Reporting from the lab's loopback internet, \
         where every byte is produced by canary-lab for tests.</p>\n"
    );
    while body.len() + paragraph.len() + 16 < len {
        body.push_str(&paragraph);
    }
    body.push_str("</body></html>\n");
    let mut headers = vec![
        ("x-canary-site".to_owned(), name.to_owned()),
        ("x-canary-site-index".to_owned(), index.to_string()),
    ];
    if index.is_multiple_of(3) {
        headers.push(("x-served-by".to_owned(), format!("lab-edge-{}", index % 7)));
    }
    Page {
        headers,
        body: Bytes::from(body),
    }
}

fn dns_rule(action: CensorAction, bogon: Ipv4Addr) -> Option<DnsRule> {
    Some(match action {
        CensorAction::DnsNxdomain => DnsRule::Nxdomain,
        CensorAction::DnsRefused => DnsRule::Refused,
        CensorAction::DnsServfail => DnsRule::Servfail,
        CensorAction::DnsNoAnswer => DnsRule::NoAnswer,
        CensorAction::DnsNoReply => DnsRule::NoReply,
        CensorAction::DnsBlockpageIp => DnsRule::Answer(BLOCKPAGE_IP),
        CensorAction::DnsBogon => DnsRule::Answer(bogon),
        CensorAction::DnsInjection => DnsRule::Inject(INJECTED_ANSWER),
        _ => return None,
    })
}

fn host_censor(action: CensorAction) -> HostCensor {
    match action {
        CensorAction::TlsSniReset => HostCensor::SniReset,
        CensorAction::TlsSniDrop => HostCensor::SniDrop,
        CensorAction::HttpHostReset => HostCensor::HostReset,
        CensorAction::HttpBlockpage => HostCensor::Blockpage,
        CensorAction::HttpRedirectToBlockpage => HostCensor::RedirectToBlockpage,
        CensorAction::TlsInterceptUntrustedCa => HostCensor::InterceptUntrusted,
        CensorAction::TlsInterceptTrustedCaOtherKey => HostCensor::InterceptOtherKey,
        _ => HostCensor::None,
    }
}

fn blockpage_spec() -> SiteSpec {
    SiteSpec::new(
        false,
        ConnCensor::None,
        HashMap::new(),
        Some(HostEntry {
            content: Content::Blockpage,
            censor: HostCensor::None,
            forbid_censored: false,
            delay: None,
        }),
    )
}

async fn build(config: &LabConfig, pki: Arc<Pki>) -> Result<(Info, Keep), LabError> {
    let censored = config.censored_source;
    let mut zone = Zone::default();
    let mut listeners: Vec<(Socket, SiteSpec)> = Vec::new();
    let mut keep = Keep {
        _blackholes: Vec::new(),
    };

    // The censor's blockpage host, for redirects.
    let bp = net::tcp_listener(SocketAddrV4::new(BLOCKPAGE_IP, 0), 1024, false)
        .map_err(|e| LabError::socket(format!("bind {BLOCKPAGE_IP}:0"), e))?;
    let bp_port = net::local_port(&bp).map_err(|e| LabError::socket("local_addr", e))?;
    let blockpage_url = format!("http://{BLOCKPAGE_HOST}:{bp_port}/");
    zone.names.insert(BLOCKPAGE_HOST.to_owned(), BLOCKPAGE_IP);
    listeners.push((bp, blockpage_spec()));

    let mut scenarios = Vec::new();
    let mut bulk = Vec::new();
    for (index, group) in groups(config).into_iter().enumerate() {
        let spec = group.spec;
        let ip = crate::vantage::site_ip(index);
        // The socket (and, for DNS redirection to the blockpage server, its twin there).
        let socket = match spec.censor {
            CensorAction::TcpBlackhole => {
                let (serving, hole) = Blackhole::bind(ip, censored)?;
                keep._blackholes.push(hole);
                serving
            }
            CensorAction::DnsBlockpageIp | CensorAction::DnsInjection => {
                let twin_ip = if spec.censor == CensorAction::DnsInjection {
                    INJECTED_ANSWER
                } else {
                    BLOCKPAGE_IP
                };
                let (site, twin) = net::tcp_listener_pair(ip, twin_ip)?;
                listeners.push((twin, blockpage_spec()));
                site
            }
            _ => net::tcp_listener(SocketAddrV4::new(ip, 0), 1024, false)
                .map_err(|e| LabError::socket(format!("bind {ip}:0"), e))?,
        };
        let port = net::local_port(&socket).map_err(|e| LabError::socket("local_addr", e))?;
        let scheme = spec.scheme.as_str();
        let url_of = |host: &str| format!("{scheme}://{host}:{port}/");

        // Hosts served by this listener, and which of them the censor targets.
        let mut entries = HashMap::new();
        let mut targets = Vec::new();
        let plain_entry = |content: Content| HostEntry {
            content,
            censor: HostCensor::None,
            forbid_censored: spec.server == ServerBehaviour::ForbidsCensoredVantage,
            delay: (spec.server == ServerBehaviour::Slow).then_some(config.slow_delay),
        };
        let body_len = |k: usize| match spec.server {
            ServerBehaviour::LargeBody => config.large_body_bytes,
            _ => 1800 + 97 * ((index + k) % 211),
        };
        if spec.server == ServerBehaviour::RedirectChain {
            let hops = [
                group.hosts[0].clone(),
                host_for(spec.name, Some("2")),
                host_for(spec.name, Some("3")),
            ];
            entries.insert(
                hops[0].clone(),
                plain_entry(Content::Redirect {
                    status: StatusCode::MOVED_PERMANENTLY,
                    location: url_of(&hops[1]),
                }),
            );
            entries.insert(
                hops[1].clone(),
                plain_entry(Content::Redirect {
                    status: StatusCode::FOUND,
                    location: url_of(&hops[2]),
                }),
            );
            entries.insert(
                hops[2].clone(),
                plain_entry(Content::Page(Arc::new(page(spec.name, index, body_len(0))))),
            );
            targets.push(hops[2].clone());
            for h in &hops {
                zone.names.insert(h.clone(), ip);
            }
        } else {
            for (k, host) in group.hosts.iter().enumerate() {
                let name = &group.names[k];
                entries.insert(
                    host.clone(),
                    plain_entry(Content::Page(Arc::new(page(
                        name,
                        index * 1000 + k,
                        body_len(k),
                    )))),
                );
                targets.push(host.clone());
                zone.names.insert(host.clone(), ip);
            }
        }
        for target in &targets {
            if let Some(rule) = dns_rule(spec.censor, config.bogon_answer) {
                zone.rules.insert(target.clone(), rule);
            }
            if let Some(entry) = entries.get_mut(target) {
                entry.censor = host_censor(spec.censor);
            }
        }
        let conn = match spec.censor {
            CensorAction::TcpReset => ConnCensor::ResetOnFirstData,
            CensorAction::Throttle => ConnCensor::Throttle(config.throttle_bytes_per_second),
            _ => ConnCensor::None,
        };
        for (k, host) in group.hosts.iter().enumerate() {
            let scenario = Scenario {
                name: group.names[k].clone(),
                description: spec.description.to_owned(),
                url: url_of(host),
                host: host.clone(),
                port,
                server: spec.server,
                censor: spec.censor,
                expect: spec.expect,
            };
            if group.bulk {
                bulk.push(scenario);
            } else {
                scenarios.push(scenario);
            }
        }
        if spec.server == ServerBehaviour::Down {
            // Nobody listens: the port is closed and connections are refused.
            drop(socket);
            continue;
        }
        listeners.push((
            socket,
            SiteSpec::new(spec.scheme == crate::Scheme::Https, conn, entries, None),
        ));
    }

    // The social rows: stand-ins for the messaging services and a platform.
    let social = crate::social::build(&mut zone, &mut listeners, &mut keep._blackholes, censored)?;

    // Resolvers.
    let zone = Arc::new(zone);
    let mut resolvers = Vec::new();
    for (ip, role) in [
        (ISP_RESOLVER_IP, Role::Isp),
        (CONTROL_RESOLVER_IP, Role::Control),
    ] {
        let (udp, tcp) = bind_dns(ip)?;
        let addr = udp
            .local_addr()
            .map_err(|e| LabError::socket("local_addr", e))?;
        let resolver = Arc::new(Resolver {
            zone: Arc::clone(&zone),
            role,
            censored: censored.into(),
            injection_delay: config.injection_delay,
        });
        let udp =
            tokio::net::UdpSocket::from_std(udp).map_err(|e| LabError::socket("tokio udp", e))?;
        let tcp = net::into_tokio(tcp).map_err(|e| LabError::socket("tokio tcp", e))?;
        tokio::spawn(Arc::clone(&resolver).serve_udp(udp));
        tokio::spawn(resolver.serve_tcp(tcp));
        resolvers.push(addr);
    }

    let shared = Arc::new(Shared {
        pki,
        censored: censored.into(),
        blockpage_url: blockpage_url.clone(),
    });
    for (socket, spec) in listeners {
        let listener =
            net::into_tokio(socket).map_err(|e| LabError::socket("tokio listener", e))?;
        tokio::spawn(crate::site::serve(
            listener,
            Arc::new(spec),
            Arc::clone(&shared),
        ));
    }

    let info = Info {
        scenarios,
        bulk,
        zone: zone.names.clone(),
        isp_resolver: resolvers[0],
        control_resolver: resolvers[1],
        blockpage_url,
        social,
    };
    Ok((info, keep))
}
