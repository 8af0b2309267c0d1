//! Optional kernel-level variants of some scenarios, in a private Linux
//! network namespace (needs root, `ip` and `iptables`).
//!
//! The rootless lab imitates the censor in user space. Here the kernel's
//! netfilter plays the censor instead, which also offers what user space
//! cannot: a reset sent in answer to the SYN itself (`connect()` fails with
//! "connection refused" for the censored vantage only). The thread that
//! calls [`enter_private_network_namespace`] (and every thread and child
//! process it starts afterwards, such as the lab's runtime or a `canary`
//! CLI under test) lives in a fresh namespace with only a loopback
//! interface; rules added there vanish with it and never touch the host.
//!
//! ```no_run
//! use canary_lab::netns::{enter_private_network_namespace, KernelCensor, KERNEL_SCENARIOS};
//! use canary_lab::Lab;
//!
//! enter_private_network_namespace().expect("root, ip and iptables");
//! let lab = Lab::start().unwrap();
//! let censor = KernelCensor::new(lab.censored_source()).unwrap();
//! let refused = censor.apply(&lab, &KERNEL_SCENARIOS[0]).unwrap();
//! // Measure refused.url from 127.0.0.2: connect() is refused; from 127.0.0.3 it works.
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::process::Command;

use serde::Serialize;

use crate::scenario::{Expected, ExpectedBlocking, Kind, Layer, Outcome, Scenario};
use crate::{Lab, LabError};

/// What netfilter does to the censored vantage's packets to a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KernelAction {
    /// Answer the SYN with a reset: `connect()` is refused.
    ResetSyn,
    /// Drop SYNs: `connect()` times out.
    DropSyn,
    /// Answer a data packet containing the site's host name (the HTTP Host
    /// header, or the SNI of a ClientHello) with a reset.
    ResetOnHostName,
}

/// A kernel-censored scenario: an uncensored lab row's site, with a netfilter rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KernelScenario {
    /// Unique name.
    pub name: &'static str,
    /// What the row shows.
    pub description: &'static str,
    /// The lab row whose site the rule targets (an uncensored row).
    pub site_row: &'static str,
    /// The rule.
    pub action: KernelAction,
    /// The verdict an analysis must reach.
    pub expect: Expected,
}

const fn blocked(blocking: ExpectedBlocking, layer: Layer, kind: Kind) -> Expected {
    Expected {
        blocking,
        accessible: Some(false),
        outcome: Outcome::Blocked,
        layer: Some(layer),
        kind: Some(kind),
    }
}

/// The kernel-censored rows.
pub const KERNEL_SCENARIOS: &[KernelScenario] = &[
    KernelScenario {
        name: "kernel_tcp_refused",
        description:
            "Netfilter answers the censored vantage's SYN with a reset: connection refused.",
        site_row: "ok_http",
        action: KernelAction::ResetSyn,
        expect: blocked(ExpectedBlocking::TcpIp, Layer::Tcp, Kind::RefusedConnection),
    },
    KernelScenario {
        name: "kernel_tcp_blackhole",
        description: "Netfilter drops the censored vantage's SYNs: connect times out.",
        site_row: "ok_http",
        action: KernelAction::DropSyn,
        expect: blocked(ExpectedBlocking::TcpIp, Layer::Tcp, Kind::Blackhole),
    },
    KernelScenario {
        name: "kernel_http_host_reset",
        description: "Netfilter resets a cleartext request carrying the site's Host.",
        site_row: "ok_http",
        action: KernelAction::ResetOnHostName,
        expect: blocked(ExpectedBlocking::HttpFailure, Layer::Http, Kind::Reset),
    },
    KernelScenario {
        name: "kernel_tls_sni_reset",
        description: "Netfilter resets a ClientHello carrying the site's SNI.",
        site_row: "ok_https",
        action: KernelAction::ResetOnHostName,
        expect: blocked(ExpectedBlocking::HttpFailure, Layer::Tls, Kind::Reset),
    },
];

fn run(program: &str, args: &[&str]) -> Result<(), LabError> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| LabError::Netns(format!("cannot run {program}: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(LabError::Netns(format!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Moves the calling thread into a new, empty network namespace and brings
/// its loopback interface up. Threads and processes started by this thread
/// afterwards share the namespace; the rest of the process does not.
#[cfg(target_os = "linux")]
pub fn enter_private_network_namespace() -> Result<(), LabError> {
    // SAFETY: unshare(2) with CLONE_NEWNET only changes the calling thread's
    // network namespace; it takes no pointers.
    let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
    if rc != 0 {
        return Err(LabError::Netns(format!(
            "unshare(CLONE_NEWNET): {} (root needed)",
            std::io::Error::last_os_error()
        )));
    }
    run("ip", &["link", "set", "lo", "up"])
}

/// Not available outside Linux.
#[cfg(not(target_os = "linux"))]
pub fn enter_private_network_namespace() -> Result<(), LabError> {
    Err(LabError::Unsupported("network namespaces (Linux)"))
}

/// Adds netfilter rules (in the calling thread's namespace) that censor
/// the censored vantage only.
#[derive(Debug)]
pub struct KernelCensor {
    censored: Ipv4Addr,
}

impl KernelCensor {
    /// Checks that `iptables` works here.
    pub fn new(censored: Ipv4Addr) -> Result<KernelCensor, LabError> {
        run("iptables", &["-w", "-S", "OUTPUT"])?;
        Ok(KernelCensor { censored })
    }

    /// Applies `row`'s rule to its site in `lab`; returns the scenario to measure.
    pub fn apply(&self, lab: &Lab, row: &KernelScenario) -> Result<Scenario, LabError> {
        let site = lab
            .scenario(row.site_row)
            .ok_or_else(|| LabError::Config(format!("no lab row {}", row.site_row)))?;
        let ip = lab
            .resolve(&site.host)
            .ok_or_else(|| LabError::Config(format!("{} does not resolve", site.host)))?;
        let to = SocketAddr::from((ip, site.port));
        match row.action {
            KernelAction::ResetSyn => self.syn(to, &["REJECT", "--reject-with", "tcp-reset"])?,
            KernelAction::DropSyn => self.syn(to, &["DROP"])?,
            KernelAction::ResetOnHostName => self.reset_on_string(to, &site.host)?,
        }
        Ok(Scenario {
            name: row.name.to_owned(),
            description: row.description.to_owned(),
            expect: row.expect,
            ..site.clone()
        })
    }

    fn base(&self, to: SocketAddr) -> Vec<String> {
        vec![
            "-w".into(),
            "-A".into(),
            "OUTPUT".into(),
            "-s".into(),
            self.censored.to_string(),
            "-d".into(),
            to.ip().to_string(),
            "-p".into(),
            "tcp".into(),
            "--dport".into(),
            to.port().to_string(),
        ]
    }

    fn syn(&self, to: SocketAddr, target: &[&str]) -> Result<(), LabError> {
        let mut args = self.base(to);
        args.extend(["--tcp-flags", "SYN,ACK,RST", "SYN", "-j"].map(String::from));
        args.extend(target.iter().map(|s| s.to_string()));
        run(
            "iptables",
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        )
    }

    fn reset_on_string(&self, to: SocketAddr, needle: &str) -> Result<(), LabError> {
        let mut args = self.base(to);
        args.extend(
            [
                "-m",
                "string",
                "--algo",
                "bm",
                "--string",
                needle,
                "-j",
                "REJECT",
                "--reject-with",
                "tcp-reset",
            ]
            .map(String::from),
        );
        run(
            "iptables",
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        )
    }
}
