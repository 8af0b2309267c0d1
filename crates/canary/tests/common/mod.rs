//! Running `canary helper` and `canary probe` as real processes against the
//! censorship lab.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use canary_lab::Lab;

/// A `canary helper` child process on the control vantage, killed on drop.
pub struct Helper {
    child: Child,
    /// Where it listens.
    pub url: String,
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a helper for `lab` and waits until it says where it listens.
pub fn start_helper(lab: &Lab) -> Helper {
    let mut child = Command::new(env!("CARGO_BIN_EXE_canary"))
        .args(["helper", "--listen", "127.0.0.3:0", "--bind", "127.0.0.3"])
        .args(["--resolver", &lab.control_resolver_addr().to_string()])
        .args(["--ca-file", lab.ca_pem_path().to_str().expect("utf-8")])
        .args(["--routable", lab.routable_cidr()])
        .args([
            "--tcp-timeout",
            "2",
            "--tls-timeout",
            "2",
            "--http-timeout",
            "3",
            "--dns-timeout",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("helper starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("helper says where it listens");
    let url = line
        .trim()
        .rsplit(' ')
        .next()
        .expect("an address")
        .to_string();
    assert!(url.starts_with("http://127.0.0.3:"), "{line}");
    Helper { child, url }
}

/// A `canary probe` command on the censored vantage of `lab`, asking
/// `helper`, with short timeouts; add targets and output options.
pub fn probe_command(lab: &Lab, helper: &Helper) -> Command {
    probe_command_with_tcp_timeout(lab, helper, "1")
}

/// The same, with the given TCP timeout (seconds).
pub fn probe_command_with_tcp_timeout(lab: &Lab, helper: &Helper, tcp_timeout: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_canary"));
    cmd.arg("probe")
        .args(["--bind", "127.0.0.2", "--no-system-resolver"])
        .args(["--resolver", &lab.isp_resolver_addr().to_string()])
        .args(["--ca-file", lab.ca_pem_path().to_str().expect("utf-8")])
        .args(["--routable", lab.routable_cidr()])
        .args([
            "--fingerprints",
            lab.fingerprints_path().to_str().expect("utf-8"),
        ])
        .args(["--helper", &helper.url])
        .args([
            "--tcp-timeout",
            tcp_timeout,
            "--tls-timeout",
            "1",
            "--http-timeout",
            "3",
            "--dns-timeout",
            "1",
        ])
        .stderr(Stdio::piped());
    cmd
}

/// The JSON lines of a file.
pub fn json_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .expect("output written")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}
