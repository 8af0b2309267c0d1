//! One test per social row ([`canary_lab::SOCIAL_SCENARIOS`]): with plain
//! clients bound to the censored (127.0.0.2) and control (127.0.0.3)
//! sources, every stand-in host of the row is shown to behave as the row
//! says for the censored vantage, and normally for the control. The
//! experiments themselves are driven through the lab by the probe's tests.

mod common;

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use canary_lab::social::RESTRICTION_NOTICE;
use canary_lab::{
    Lab, SocialCensor, SocialExperiment, SocialScenario, BLOCKPAGE_IP, SOCIAL_SCENARIOS,
};
use common::*;
use hickory_proto::op::ResponseCode;

/// Every social row has a test below.
const TESTED: &[&str] = &[
    "facebook_ok",
    "facebook_dns_tampered",
    "facebook_tcp_blocked",
    "facebook_tls_sni_reset",
    "facebook_one_endpoint_blocked",
    "whatsapp_ok",
    "whatsapp_dns_tampered",
    "whatsapp_tcp_blocked",
    "whatsapp_tls_sni_reset",
    "whatsapp_one_endpoint_blocked",
    "telegram_ok",
    "telegram_dns_tampered",
    "telegram_tcp_blocked",
    "telegram_tls_sni_reset",
    "telegram_one_endpoint_blocked",
    "signal_ok",
    "signal_dns_tampered",
    "signal_tcp_blocked",
    "signal_tls_sni_reset",
    "signal_one_endpoint_blocked",
    "account_platform_restricted",
    "account_network_blocked",
];

#[test]
fn every_social_row_is_tested() {
    let names: Vec<&str> = SOCIAL_SCENARIOS.iter().map(|s| s.name).collect();
    assert_eq!(names, TESTED);
}

fn social<'a>(lab: &'a Lab, name: &str) -> &'a SocialScenario {
    lab.social_scenario(name)
        .unwrap_or_else(|| panic!("no social row {name}"))
}

/// Checks every host of a row from both vantages.
async fn check(name: &str) {
    let lab = start();
    let row = social(&lab, name).clone();
    assert!(!row.hosts.is_empty());
    let ca = [lab.ca_der().clone()];
    for h in &row.hosts {
        let what = format!("{name}/{}", h.role);
        // DNS: the control resolver is honest to the control vantage...
        let control = tcp_query(lab.control_resolver_addr(), CONTROL, &h.host).await;
        assert_eq!(control, Some(Answer::ok(&[h.ip])), "{what}: control DNS");
        // ...the ISP resolver lies to the censored one only when the row says so.
        let censored = tcp_query(lab.isp_resolver_addr(), CENSORED, &h.host).await;
        let want = match (row.censor, h.censored, row.experiment) {
            (SocialCensor::DnsTampered, true, SocialExperiment::FacebookMessenger) => {
                Answer::ok(&[BLOCKPAGE_IP])
            }
            (SocialCensor::DnsTampered, true, _) => Answer::code(ResponseCode::NXDomain),
            _ => Answer::ok(&[h.ip]),
        };
        assert_eq!(censored, Some(want), "{what}: censored DNS");
        if h.port == 0 {
            continue; // DNS-only (STUN)
        }
        let to = SocketAddr::new(IpAddr::V4(h.ip), h.port);
        // TCP.
        let blackholed = h.censored
            && matches!(
                row.censor,
                SocialCensor::TcpBlackhole | SocialCensor::OneEndpointBlackhole
            );
        let (c, took) = timed(connect(CENSORED, to, SILENCE)).await;
        if blackholed {
            let err = c.expect_err("SYNs from the censored vantage go unanswered");
            assert_eq!(err.kind(), ErrorKind::TimedOut, "{what}: {err}");
            assert!(took >= SILENCE, "{what}: {took:?}");
        } else {
            c.unwrap_or_else(|e| panic!("{what}: censored connect: {e}"));
        }
        connect(CONTROL, to, SILENCE)
            .await
            .unwrap_or_else(|e| panic!("{what}: control connect: {e}"));
        // TLS: reset on the host's SNI for the censored vantage only.
        if h.tls {
            for (source, reset) in [
                (
                    CENSORED,
                    h.censored && row.censor == SocialCensor::TlsSniReset,
                ),
                (CONTROL, false),
            ] {
                if source == CENSORED && blackholed {
                    continue;
                }
                let tcp = connect(source, to, Duration::from_secs(5)).await.unwrap();
                let r = tls(tcp, &h.host, &ca, &[b"http/1.1"], Duration::from_secs(5)).await;
                if reset {
                    let err = r.expect_err("reset");
                    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{what}: {err}");
                } else {
                    r.unwrap_or_else(|e| panic!("{what}: TLS from {source}: {e}"));
                }
            }
        }
        // HTTP: the page (or, for the platform row, its notice).
        let scheme = if h.tls { "https" } else { "http" };
        let url = format!("{scheme}://{}:{}/", h.host, h.port);
        let control_page = fetch_at(&lab, CONTROL, &url, to, h.tls).await.unwrap();
        assert_eq!(control_page.status, 200, "{what}");
        assert!(!control_page.text().contains(RESTRICTION_NOTICE), "{what}");
        let interfered = blackholed || (h.censored && row.censor == SocialCensor::TlsSniReset);
        if !interfered {
            let censored_page = fetch_at(&lab, CENSORED, &url, to, h.tls).await.unwrap();
            assert_eq!(censored_page.status, 200, "{what}");
            let restricted = h.censored && row.censor == SocialCensor::PlatformRestriction;
            assert_eq!(
                censored_page.text().contains(RESTRICTION_NOTICE),
                restricted,
                "{what}: the notice goes to the censored vantage only on the platform row"
            );
        }
    }
    // The endpoint file (or accounts row) names the row's hosts.
    let file = std::fs::read_to_string(&row.endpoints_path).unwrap();
    for h in &row.hosts {
        let named = if row.experiment == SocialExperiment::Telegram && h.role.starts_with("dc") {
            h.ip.to_string()
        } else {
            h.host.clone()
        };
        if h.role != "stun" || row.experiment == SocialExperiment::FacebookMessenger {
            assert!(
                file.contains(&named),
                "{name}: {} not in the endpoint file",
                named
            );
        }
    }
    if row.experiment != SocialExperiment::Account {
        let v: serde_json::Value = serde_json::from_str(&file).unwrap();
        assert!(v.is_object(), "{name}");
    }
}

#[test]
fn the_lab_asn_table_puts_facebooks_stand_ins_in_as32934_and_accounts_list_both_rows() {
    let lab = start();
    let tsv = std::fs::read_to_string(lab.asn_db_path()).unwrap();
    let row = social(&lab, "facebook_ok");
    let ip = row.hosts.iter().find(|h| h.role == "edge").unwrap().ip;
    let line = tsv.lines().find(|l| !l.starts_with('#')).unwrap();
    let cols: Vec<&str> = line.split('\t').collect();
    let (lo, hi): (std::net::Ipv4Addr, std::net::Ipv4Addr) =
        (cols[0].parse().unwrap(), cols[1].parse().unwrap());
    assert!(lo <= ip && ip <= hi && cols[2] == "32934", "{line}");
    assert!(
        !(lo <= BLOCKPAGE_IP && BLOCKPAGE_IP <= hi),
        "the blockpage server is not Facebook's"
    );
    let csv = std::fs::read_to_string(lab.accounts_csv_path()).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    for name in ["account_platform_restricted", "account_network_blocked"] {
        let host = &social(&lab, name).hosts[0].host;
        assert!(csv.contains(host.as_str()), "{csv}");
    }
}

macro_rules! row_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                check(stringify!($name)).await;
            }
        )*
    };
}

row_tests!(
    facebook_ok,
    facebook_dns_tampered,
    facebook_tcp_blocked,
    facebook_tls_sni_reset,
    facebook_one_endpoint_blocked,
    whatsapp_ok,
    whatsapp_dns_tampered,
    whatsapp_tcp_blocked,
    whatsapp_tls_sni_reset,
    whatsapp_one_endpoint_blocked,
    telegram_ok,
    telegram_dns_tampered,
    telegram_tcp_blocked,
    telegram_tls_sni_reset,
    telegram_one_endpoint_blocked,
    signal_ok,
    signal_dns_tampered,
    signal_tcp_blocked,
    signal_tls_sni_reset,
    signal_one_endpoint_blocked,
    account_platform_restricted,
    account_network_blocked,
);
