//! The social rows of the lab: stand-ins for Messenger, WhatsApp, Telegram
//! and Signal, and for a platform's public pages, each with a censor.
//!
//! The real services' names cannot exist in the lab, so every row has its
//! own set of lab hosts (`facebook-dns-tampered-edge.canary-lab.test`, one
//! listener and address per endpoint, so the censor can act on one endpoint
//! of several) and an **endpoint override file** in the format of
//! `canary_social::Endpoints` that makes them stand in for the services
//! (`Lab::social_scenario(..).endpoints_path`). Facebook's stand-ins live in
//! 127.1.7.0/24, which the lab's ASN table (`Lab::asn_db_path`, iptoasn TSV,
//! for `--asn-db`) maps to Facebook's AS32934; everything else in
//! 127.1.8.0/24. The account rows come with an accounts CSV
//! (`Lab::accounts_csv_path`).
//!
//! [`SOCIAL_SCENARIOS`] is the table; every row is exercised from both
//! vantages by `tests/social.rs`, and end to end by the probe's tests.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use socket2::Socket;

use crate::dns::{DnsRule, Zone};
use crate::net::{self, Blackhole};
use crate::scenario::{Kind, Layer, Outcome};
use crate::site::{ConnCensor, Content, HostCensor, HostEntry, Page, SiteSpec};
use crate::{LabError, BLOCKPAGE_IP, LAB_DOMAIN};

/// Which experiment a social row is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SocialExperiment {
    /// `facebook_messenger`.
    FacebookMessenger,
    /// `whatsapp`.
    Whatsapp,
    /// `telegram`.
    Telegram,
    /// `signal`.
    Signal,
    /// `canary_account_check` (restricted pages and accounts).
    Account,
}

/// What the censor (or the platform) does in a social row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SocialCensor {
    /// Nothing.
    None,
    /// The ISP resolver lies about every name of the service: the
    /// blockpage server's address for Facebook (outside AS32934, which is
    /// what facebook_messenger checks), NXDOMAIN for the others.
    DnsTampered,
    /// SYNs to every endpoint are dropped.
    TcpBlackhole,
    /// A ClientHello with an endpoint's SNI is reset (every TLS endpoint).
    TlsSniReset,
    /// SYNs to the first endpoint only are dropped; the others work.
    OneEndpointBlackhole,
    /// Not the network: the platform serves its legal-restriction notice
    /// to the censored vantage (the control gets the page).
    PlatformRestriction,
}

/// The verdict a row must produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SocialExpected {
    /// OONI's verdict keys, `(key, JSON value)`; for accounts, Canary's
    /// `account_status` and `restriction_fingerprint`.
    pub ooni: &'static [(&'static str, &'static str)],
    /// Canary's summary outcome.
    pub outcome: Outcome,
    /// Canary's layer.
    pub layer: Option<Layer>,
    /// Canary's kind.
    pub kind: Option<Kind>,
}

/// One row of the social table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SocialSpec {
    /// Unique snake_case name.
    pub name: &'static str,
    /// The experiment.
    pub experiment: SocialExperiment,
    /// The interference.
    pub censor: SocialCensor,
    /// The expected verdict.
    pub expect: SocialExpected,
    /// What the row shows.
    pub description: &'static str,
}

/// One endpoint host of a running social row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SocialHost {
    /// Its role (`b_api`, `e1`, `registration`, `dc1`, `web`, `chat`, `page`...).
    pub role: String,
    /// Its lab name.
    pub host: String,
    /// Its address.
    pub ip: Ipv4Addr,
    /// Its port.
    pub port: u16,
    /// Whether it speaks TLS.
    pub tls: bool,
    /// Whether the censor acts on it.
    pub censored: bool,
}

/// A social row of a running lab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SocialScenario {
    /// The row's name.
    pub name: String,
    /// What the row shows.
    pub description: String,
    /// The experiment.
    pub experiment: SocialExperiment,
    /// The interference.
    pub censor: SocialCensor,
    /// The hosts standing in for the service.
    pub hosts: Vec<SocialHost>,
    /// The endpoint override (canary_social::Endpoints JSON); for account
    /// rows, the accounts CSV row instead.
    pub endpoints_json: String,
    /// Where `endpoints_json` is written.
    pub endpoints_path: PathBuf,
    /// For account rows: `platform,url,owner,category`.
    pub account_csv_row: Option<String>,
    /// The expected verdict.
    pub expect: SocialExpected,
}

const fn exp(
    ooni: &'static [(&'static str, &'static str)],
    outcome: Outcome,
    layer: Option<Layer>,
    kind: Option<Kind>,
) -> SocialExpected {
    SocialExpected {
        ooni,
        outcome,
        layer,
        kind,
    }
}

use Outcome::{Blocked, Ok as Fine};
use SocialCensor as C;
use SocialExperiment as E;

const fn row(
    name: &'static str,
    experiment: SocialExperiment,
    censor: SocialCensor,
    expect: SocialExpected,
    description: &'static str,
) -> SocialSpec {
    SocialSpec {
        name,
        experiment,
        censor,
        expect,
        description,
    }
}

/// The social rows.
pub const SOCIAL_SCENARIOS: &[SocialSpec] = &[
    row("facebook_ok", E::FacebookMessenger, C::None,
        exp(&[("facebook_dns_blocking", "false"), ("facebook_tcp_blocking", "false"),
              ("facebook_b_api_dns_consistent", "true"), ("facebook_b_api_reachable", "true"),
              ("facebook_edge_reachable", "true"), ("facebook_stun_dns_consistent", "true")],
            Fine, None, None),
        "Messenger's stand-ins resolve into AS32934 and accept connections from both vantages."),
    row("facebook_dns_tampered", E::FacebookMessenger, C::DnsTampered,
        exp(&[("facebook_dns_blocking", "true"), ("facebook_tcp_blocking", "false"),
              ("facebook_b_api_dns_consistent", "false"), ("facebook_b_api_reachable", "null")],
            Blocked, Some(Layer::Dns), Some(Kind::Inconsistent)),
        "The ISP resolver answers the blockpage server's address, outside AS32934, for every Messenger name."),
    row("facebook_tcp_blocked", E::FacebookMessenger, C::TcpBlackhole,
        exp(&[("facebook_dns_blocking", "false"), ("facebook_tcp_blocking", "true"),
              ("facebook_b_api_reachable", "false"), ("facebook_edge_reachable", "false")],
            Blocked, Some(Layer::Tcp), Some(Kind::Blackhole)),
        "SYNs to every Messenger endpoint are dropped."),
    row("facebook_tls_sni_reset", E::FacebookMessenger, C::TlsSniReset,
        exp(&[("facebook_dns_blocking", "false"), ("facebook_tcp_blocking", "false")],
            Fine, None, None),
        "ClientHellos with Messenger's names are reset, but facebook_messenger only connects over TCP: \
         neither OONI's test nor Canary's port of it can see an SNI block (a documented blind spot)."),
    row("facebook_one_endpoint_blocked", E::FacebookMessenger, C::OneEndpointBlackhole,
        exp(&[("facebook_tcp_blocking", "true"), ("facebook_b_api_reachable", "false"),
              ("facebook_edge_reachable", "true")],
            Blocked, Some(Layer::Tcp), Some(Kind::Blackhole)),
        "Only b-api's SYNs are dropped: one failing service is enough for facebook_tcp_blocking."),
    row("whatsapp_ok", E::Whatsapp, C::None,
        exp(&[("whatsapp_endpoints_status", "\"ok\""), ("whatsapp_endpoints_blocked", "[]"),
              ("registration_server_status", "\"ok\""), ("whatsapp_web_status", "\"ok\"")],
            Fine, None, None),
        "WhatsApp's endpoints, registration service and web stand-ins work from both vantages."),
    row("whatsapp_dns_tampered", E::Whatsapp, C::DnsTampered,
        exp(&[("whatsapp_endpoints_status", "\"blocked\""),
              ("registration_server_status", "\"blocked\""),
              ("registration_server_failure", "\"dns_nxdomain_error\""),
              ("whatsapp_web_status", "\"blocked\""), ("whatsapp_web_failure", "\"dns_nxdomain_error\"")],
            Blocked, Some(Layer::Dns), Some(Kind::Nxdomain)),
        "The ISP resolver says none of WhatsApp's names exist."),
    row("whatsapp_tcp_blocked", E::Whatsapp, C::TcpBlackhole,
        exp(&[("whatsapp_endpoints_status", "\"blocked\""),
              ("registration_server_status", "\"blocked\""),
              ("registration_server_failure", "\"generic_timeout_error\""),
              ("whatsapp_web_status", "\"blocked\"")],
            Blocked, Some(Layer::Tcp), Some(Kind::Blackhole)),
        "SYNs to every WhatsApp endpoint, the registration service and the web are dropped."),
    row("whatsapp_tls_sni_reset", E::Whatsapp, C::TlsSniReset,
        exp(&[("whatsapp_endpoints_status", "\"ok\""),
              ("registration_server_status", "\"blocked\""),
              ("registration_server_failure", "\"connection_reset\""),
              ("whatsapp_web_status", "\"blocked\""), ("whatsapp_web_failure", "\"connection_reset\"")],
            Blocked, Some(Layer::Tls), Some(Kind::Reset)),
        "ClientHellos with the registration and web names are reset; the TCP endpoints still connect."),
    row("whatsapp_one_endpoint_blocked", E::Whatsapp, C::OneEndpointBlackhole,
        exp(&[("whatsapp_endpoints_status", "\"ok\""),
              ("registration_server_status", "\"ok\""), ("whatsapp_web_status", "\"ok\"")],
            Blocked, Some(Layer::Tcp), Some(Kind::Blackhole)),
        "SYNs to e1 only are dropped: OONI says the endpoints are ok (one works) and lists e1 as blocked; \
         Canary's label says which endpoint and how."),
    row("telegram_ok", E::Telegram, C::None,
        exp(&[("telegram_http_blocking", "false"), ("telegram_tcp_blocking", "false"),
              ("telegram_web_status", "\"ok\""), ("telegram_web_failure", "null")],
            Fine, None, None),
        "Telegram's data-centre stand-ins answer POSTs and the web stand-in works from both vantages."),
    row("telegram_dns_tampered", E::Telegram, C::DnsTampered,
        exp(&[("telegram_http_blocking", "false"), ("telegram_tcp_blocking", "false"),
              ("telegram_web_status", "\"blocked\""), ("telegram_web_failure", "\"dns_nxdomain_error\"")],
            Blocked, Some(Layer::Dns), Some(Kind::Nxdomain)),
        "The ISP resolver says Telegram Web does not exist (the data centres are addresses: no DNS to tamper with)."),
    row("telegram_tcp_blocked", E::Telegram, C::TcpBlackhole,
        exp(&[("telegram_http_blocking", "true"), ("telegram_tcp_blocking", "true"),
              ("telegram_web_status", "\"blocked\""), ("telegram_web_failure", "\"generic_timeout_error\"")],
            Blocked, Some(Layer::Tcp), Some(Kind::Blackhole)),
        "SYNs to every data centre and to Telegram Web are dropped."),
    row("telegram_tls_sni_reset", E::Telegram, C::TlsSniReset,
        exp(&[("telegram_http_blocking", "false"), ("telegram_tcp_blocking", "false"),
              ("telegram_web_status", "\"blocked\""), ("telegram_web_failure", "\"connection_reset\"")],
            Blocked, Some(Layer::Tls), Some(Kind::Reset)),
        "ClientHellos with Telegram Web's name are reset; the cleartext data centres still answer."),
    row("telegram_one_endpoint_blocked", E::Telegram, C::OneEndpointBlackhole,
        exp(&[("telegram_http_blocking", "false"), ("telegram_tcp_blocking", "false"),
              ("telegram_web_status", "\"ok\"")],
            Blocked, Some(Layer::Tcp), Some(Kind::Blackhole)),
        "SYNs to one data centre of two are dropped: not blocking for OONI (one answers), labelled by Canary."),
    row("signal_ok", E::Signal, C::None,
        exp(&[("signal_backend_status", "\"ok\""), ("signal_backend_failure", "null")],
            Fine, None, None),
        "Signal's service stand-ins verify against the roots in the override file and answer both vantages."),
    row("signal_dns_tampered", E::Signal, C::DnsTampered,
        exp(&[("signal_backend_status", "\"blocked\""), ("signal_backend_failure", "\"dns_nxdomain_error\"")],
            Blocked, Some(Layer::Dns), Some(Kind::Nxdomain)),
        "The ISP resolver says Signal's service names do not exist."),
    row("signal_tcp_blocked", E::Signal, C::TcpBlackhole,
        exp(&[("signal_backend_status", "\"blocked\""), ("signal_backend_failure", "\"generic_timeout_error\"")],
            Blocked, Some(Layer::Tcp), Some(Kind::Blackhole)),
        "SYNs to every Signal service are dropped."),
    row("signal_tls_sni_reset", E::Signal, C::TlsSniReset,
        exp(&[("signal_backend_status", "\"blocked\""), ("signal_backend_failure", "\"connection_reset\"")],
            Blocked, Some(Layer::Tls), Some(Kind::Reset)),
        "ClientHellos with Signal's service names are reset."),
    row("signal_one_endpoint_blocked", E::Signal, C::OneEndpointBlackhole,
        exp(&[("signal_backend_status", "\"blocked\""), ("signal_backend_failure", "\"generic_timeout_error\"")],
            Blocked, Some(Layer::Tcp), Some(Kind::Blackhole)),
        "SYNs to one Signal service of two are dropped: any failing service blocks the backend."),
    row("account_platform_restricted", E::Account, C::PlatformRestriction,
        exp(&[("account_status", "\"platform_restricted\""),
              ("restriction_fingerprint", "\"telegram.local_laws\"")],
            Fine, None, None),
        "The platform itself serves its 'violated local laws' notice to the censored vantage and the channel \
         to the control: platform restriction, not ISP blocking."),
    row("account_network_blocked", E::Account, C::TlsSniReset,
        exp(&[("account_status", "\"network_blocked\""), ("restriction_fingerprint", "null")],
            Blocked, Some(Layer::Tls), Some(Kind::Reset)),
        "The ISP resets ClientHellos with the platform's name: network blocking, not the platform."),
];

/// Looks a social row up by name.
pub fn social_spec(name: &str) -> Option<&'static SocialSpec> {
    SOCIAL_SCENARIOS.iter().find(|s| s.name == name)
}

/// Facebook's stand-ins live here (AS32934 in the lab's ASN table).
pub const FACEBOOK_NET: [u8; 3] = [127, 1, 7];
/// Every other social stand-in lives here.
pub const SOCIAL_NET: [u8; 3] = [127, 1, 8];

/// The lab's ASN table (iptoasn TSV): Facebook's stand-ins in AS32934.
pub(crate) fn asn_tsv() -> String {
    let [a, b, c] = FACEBOOK_NET;
    format!(
        "# Canary lab: Facebook's stand-ins belong to Facebook's AS.\n\
         {a}.{b}.{c}.0\t{a}.{b}.{c}.255\t32934\tZZ\tFACEBOOK-CANARY-LAB\n"
    )
}

/// The text the lab platform serves to the censored vantage in
/// `account_platform_restricted` (written for the lab, in the manner of
/// Telegram's channel-preview notice).
pub const RESTRICTION_NOTICE: &str =
    "This channel can't be displayed because it violated local laws.";

struct Alloc {
    next_fb: u8,
    next_other: u8,
}

impl Alloc {
    fn ip(&mut self, facebook: bool) -> Result<Ipv4Addr, LabError> {
        let (net, n) = if facebook {
            (FACEBOOK_NET, &mut self.next_fb)
        } else {
            (SOCIAL_NET, &mut self.next_other)
        };
        if *n >= 250 {
            return Err(LabError::Config("too many social lab hosts".into()));
        }
        *n += 1;
        Ok(Ipv4Addr::new(net[0], net[1], net[2], *n))
    }
}

fn page(title: &str, text: &str) -> Arc<Page> {
    Arc::new(Page {
        headers: vec![("x-canary-site".into(), title.to_owned())],
        body: Bytes::from(format!(
            "<!DOCTYPE html>\n<html><head><title>{title}</title></head>\n<body><h1>{title}</h1>\n<p>{text}</p>\n</body></html>\n"
        )),
    })
}

/// Hosts of one row: (role, tls, facebook network, listens, censored).
fn roles(spec: &SocialSpec) -> Vec<(&'static str, bool, bool, bool)> {
    match spec.experiment {
        E::FacebookMessenger => vec![
            ("stun", false, true, false),
            // TLS listeners, so that the SNI row's censor has something to
            // act on (the experiment itself only connects over TCP).
            ("b_api", true, true, true),
            ("edge", true, true, true),
        ],
        E::Whatsapp => vec![
            ("e1", false, false, true),
            ("e2", false, false, true),
            ("registration", true, false, true),
            ("web", true, false, true),
        ],
        E::Telegram => vec![
            ("dc1", false, false, true),
            ("dc2", false, false, true),
            ("web", true, false, true),
        ],
        E::Signal => vec![("chat", true, false, true), ("storage", true, false, true)],
        E::Account => vec![("page", true, false, true)],
    }
}

/// Whether the censor acts on the `index`-th host with role `role`.
fn targeted(spec: &SocialSpec, index: usize, role: &str, tls: bool) -> bool {
    match spec.censor {
        C::None => false,
        C::DnsTampered => !role.starts_with("dc"),
        C::TcpBlackhole => role != "stun",
        C::TlsSniReset => tls,
        C::OneEndpointBlackhole => {
            // The first endpoint that accepts connections.
            let first = if spec.experiment == E::FacebookMessenger {
                1
            } else {
                0
            };
            index == first
        }
        C::PlatformRestriction => role == "page",
    }
}

/// Builds the social rows' hosts into the lab's zone and listeners.
pub(crate) fn build(
    zone: &mut Zone,
    listeners: &mut Vec<(Socket, SiteSpec)>,
    blackholes: &mut Vec<Blackhole>,
    censored: Ipv4Addr,
) -> Result<Vec<SocialScenario>, LabError> {
    let mut alloc = Alloc {
        next_fb: 0,
        next_other: 0,
    };
    let mut out = Vec::new();
    for spec in SOCIAL_SCENARIOS {
        let mut hosts = Vec::new();
        for (index, (role, tls, facebook, listens)) in roles(spec).into_iter().enumerate() {
            let ip = alloc.ip(facebook)?;
            let host = format!(
                "{}-{}.{LAB_DOMAIN}",
                spec.name.replace('_', "-"),
                role.replace('_', "-")
            );
            let censor_here = targeted(spec, index, role, tls);
            zone.names.insert(host.clone(), ip);
            if censor_here && spec.censor == C::DnsTampered {
                let rule = if spec.experiment == E::FacebookMessenger {
                    DnsRule::Answer(BLOCKPAGE_IP)
                } else {
                    DnsRule::Nxdomain
                };
                zone.rules.insert(host.clone(), rule);
            }
            let mut port = 0;
            if listens {
                let blackhole =
                    censor_here && matches!(spec.censor, C::TcpBlackhole | C::OneEndpointBlackhole);
                let socket = if blackhole {
                    let (serving, hole) = Blackhole::bind(ip, censored)?;
                    blackholes.push(hole);
                    serving
                } else {
                    net::tcp_listener(SocketAddrV4::new(ip, 0), 1024, false)
                        .map_err(|e| LabError::socket(format!("bind {ip}:0"), e))?
                };
                port = net::local_port(&socket).map_err(|e| LabError::socket("local_addr", e))?;
                let title = format!("Canary Lab {} {role}", spec.name);
                let content = if spec.censor == C::PlatformRestriction && role == "page" {
                    Content::PageByVantage {
                        control: page(
                            "Free Press KH",
                            "Latest posts of the Free Press KH channel.",
                        ),
                        censored: page("Telegram", RESTRICTION_NOTICE),
                    }
                } else {
                    Content::Page(page(&title, "A stand-in for a social media service."))
                };
                let entry = HostEntry {
                    content,
                    censor: if censor_here && spec.censor == C::TlsSniReset {
                        HostCensor::SniReset
                    } else {
                        HostCensor::None
                    },
                    forbid_censored: false,
                    delay: None,
                };
                let mut entries = HashMap::new();
                entries.insert(host.clone(), entry.clone());
                // Data centres are asked by address (Host: ip:port): any name is served.
                let fallback = role.starts_with("dc").then_some(entry);
                listeners.push((
                    socket,
                    SiteSpec::new(tls, ConnCensor::None, entries, fallback),
                ));
            }
            hosts.push(SocialHost {
                role: role.to_owned(),
                host,
                ip,
                port,
                tls,
                censored: censor_here,
            });
        }
        let (endpoints_json, account_csv_row) = endpoints_for(spec, &hosts);
        out.push(SocialScenario {
            name: spec.name.to_owned(),
            description: spec.description.to_owned(),
            experiment: spec.experiment,
            censor: spec.censor,
            hosts,
            endpoints_json,
            endpoints_path: PathBuf::new(),
            account_csv_row,
            expect: spec.expect,
        });
    }
    Ok(out)
}

fn url_of(h: &SocialHost) -> String {
    let scheme = if h.tls { "https" } else { "http" };
    format!("{scheme}://{}:{}/", h.host, h.port)
}

/// The override file (canary_social::Endpoints format) making a row's
/// hosts stand in for the service; the lab CA is given as Signal's roots
/// later, when the file is written.
fn endpoints_for(spec: &SocialSpec, hosts: &[SocialHost]) -> (String, Option<String>) {
    let by = |role: &str| hosts.iter().find(|h| h.role == role);
    let value = match spec.experiment {
        E::FacebookMessenger => serde_json::json!({"facebook": {
            "asn": 32934,
            "services": hosts.iter().map(|h| serde_json::json!({
                "key": h.role, "host": h.host,
                "port": if h.role == "stun" { None } else { Some(h.port) }
            })).collect::<Vec<_>>()
        }}),
        E::Whatsapp => serde_json::json!({"whatsapp": {
            "endpoints": hosts.iter().filter(|h| h.role.starts_with('e'))
                .map(|h| serde_json::json!({"host": h.host, "ports": [h.port]})).collect::<Vec<_>>(),
            "registration_url": by("registration").map(|h| format!("{}v2/register", url_of(h))),
            "web_url": by("web").map(url_of),
        }}),
        E::Telegram => serde_json::json!({"telegram": {
            "datacenters": hosts.iter().filter(|h| h.role.starts_with("dc"))
                .map(|h| serde_json::json!({"host": h.ip.to_string(), "ports": [h.port]})).collect::<Vec<_>>(),
            "web_url": by("web").map(url_of),
        }}),
        E::Signal => serde_json::json!({"signal": {
            "urls": hosts.iter().map(url_of).collect::<Vec<_>>(),
            "uptime_host": format!("{}-uptime.{LAB_DOMAIN}", spec.name.replace('_', "-")),
            "ca_pem": "LAB_CA_PEM",
        }}),
        E::Account => {
            let row = by("page").map(|h| {
                format!(
                    "telegram,{}s/free-press-kh,Free Press KH ({}),NEWS",
                    url_of(h),
                    spec.name
                )
            });
            return (String::new(), row);
        }
    };
    (
        serde_json::to_string_pretty(&value).unwrap_or_default(),
        None,
    )
}

/// Writes each row's endpoint file (with the lab CA as Signal's roots),
/// the ASN table and the accounts CSV into `dir`.
pub(crate) fn write_files(
    dir: &Path,
    rows: &mut [SocialScenario],
    ca_pem: &str,
) -> Result<(PathBuf, PathBuf), LabError> {
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text).map_err(|e| LabError::File {
            path: path.display().to_string(),
            source: e,
        })
    };
    let ca_json = serde_json::to_string(ca_pem).unwrap_or_default();
    let mut accounts = String::from("platform,url,owner,category\n");
    for row in rows.iter_mut() {
        if let Some(line) = &row.account_csv_row {
            accounts.push_str(line);
            accounts.push('\n');
            row.endpoints_path = dir.join(format!("social-{}.csv", row.name));
            write(
                &row.endpoints_path,
                &format!("platform,url,owner,category\n{line}\n"),
            )?;
            continue;
        }
        row.endpoints_json = row.endpoints_json.replace("\"LAB_CA_PEM\"", &ca_json);
        row.endpoints_path = dir.join(format!("social-{}.json", row.name));
        write(&row.endpoints_path, &row.endpoints_json)?;
    }
    let asn = dir.join("lab-asn.tsv");
    write(&asn, &asn_tsv())?;
    let acc = dir.join("lab-accounts.csv");
    write(&acc, &accounts)?;
    Ok((asn, acc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn social_names_are_unique_and_every_experiment_has_the_five_required_rows() {
        let mut seen = HashSet::new();
        for s in SOCIAL_SCENARIOS {
            assert!(seen.insert(s.name), "duplicate {}", s.name);
        }
        for prefix in ["facebook", "whatsapp", "telegram", "signal"] {
            for suffix in [
                "ok",
                "dns_tampered",
                "tcp_blocked",
                "tls_sni_reset",
                "one_endpoint_blocked",
            ] {
                let name = format!("{prefix}_{suffix}");
                assert!(social_spec(&name).is_some(), "missing {name}");
            }
        }
        assert!(social_spec("account_platform_restricted").is_some());
        assert!(social_spec("account_network_blocked").is_some());
    }

    #[test]
    fn expected_ooni_values_are_json() {
        for s in SOCIAL_SCENARIOS {
            for (k, v) in s.expect.ooni {
                assert!(
                    serde_json::from_str::<serde_json::Value>(v).is_ok(),
                    "{} {k}",
                    s.name
                );
            }
        }
    }
}
