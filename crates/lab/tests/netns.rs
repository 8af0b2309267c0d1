//! Kernel-censored scenarios in a private network namespace. These need
//! root, `ip` and `iptables`; without them each test prints why it skips.

mod common;

use std::io::ErrorKind;
use std::time::Duration;

use canary_lab::netns::{
    enter_private_network_namespace, KernelCensor, KernelScenario, KERNEL_SCENARIOS,
};
use canary_lab::{Lab, Scenario};
use common::*;

/// Runs `body` on a fresh thread inside a private network namespace, with a
/// lab and a kernel censor; skips (with a message) where that is impossible.
fn in_private_netns<F>(test: &'static str, body: F)
where
    F: FnOnce(&Lab, &KernelCensor, &tokio::runtime::Runtime) + Send + 'static,
{
    let thread = std::thread::spawn(move || {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipping {test}: network namespaces need root");
            return;
        }
        if let Err(e) = enter_private_network_namespace() {
            eprintln!("skipping {test}: {e}");
            return;
        }
        let lab = Lab::start().expect("lab starts inside the namespace");
        let censor = match KernelCensor::new(lab.censored_source()) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("skipping {test}: {e}");
                return;
            }
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        body(&lab, &censor, &rt);
    });
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
}

fn kernel_row(name: &str) -> &'static KernelScenario {
    KERNEL_SCENARIOS.iter().find(|r| r.name == name).unwrap()
}

fn apply(lab: &Lab, censor: &KernelCensor, name: &str) -> Scenario {
    censor.apply(lab, kernel_row(name)).expect("rule applied")
}

#[test]
fn every_kernel_row_is_tested() {
    let tested = [
        "kernel_tcp_refused",
        "kernel_tcp_blackhole",
        "kernel_http_host_reset",
        "kernel_tls_sni_reset",
    ];
    let rows: Vec<&str> = KERNEL_SCENARIOS.iter().map(|r| r.name).collect();
    assert_eq!(rows, tested);
}

#[test]
fn kernel_tcp_refused() {
    in_private_netns("kernel_tcp_refused", |lab, censor, rt| {
        let s = apply(lab, censor, "kernel_tcp_refused");
        rt.block_on(async {
            let to = endpoint(lab, &s.host, s.port);
            let (r, took) = timed(connect(CENSORED, to, Duration::from_secs(5))).await;
            assert_eq!(
                r.map(|_| ()).map_err(|e| e.kind()),
                Err(ErrorKind::ConnectionRefused)
            );
            assert!(took < Duration::from_secs(1), "refused at once: {took:?}");
            assert_eq!(fetch(lab, CONTROL, &s.url).await.unwrap().status, 200);
        });
    });
}

#[test]
fn kernel_tcp_blackhole() {
    in_private_netns("kernel_tcp_blackhole", |lab, censor, rt| {
        let s = apply(lab, censor, "kernel_tcp_blackhole");
        rt.block_on(async {
            let to = endpoint(lab, &s.host, s.port);
            let err = connect(CENSORED, to, SILENCE).await.expect_err("dropped");
            assert_eq!(err.kind(), ErrorKind::TimedOut);
            // The rootless blackhole looks the same to a client.
            let hole = lab.scenario("tcp_blackhole").unwrap();
            let err = connect(CENSORED, endpoint(lab, &hole.host, hole.port), SILENCE)
                .await
                .expect_err("dropped");
            assert_eq!(err.kind(), ErrorKind::TimedOut);
            assert_eq!(fetch(lab, CONTROL, &s.url).await.unwrap().status, 200);
        });
    });
}

#[test]
fn kernel_http_host_reset() {
    in_private_netns("kernel_http_host_reset", |lab, censor, rt| {
        let s = apply(lab, censor, "kernel_http_host_reset");
        rt.block_on(async {
            let err = fetch(lab, CENSORED, &s.url).await.expect_err("reset");
            assert!(
                has_io_kind(err.as_ref(), ErrorKind::ConnectionReset),
                "{err:?}"
            );
            // The rootless Host reset looks the same to a client.
            let user = lab.scenario("http_host_reset").unwrap();
            let err = fetch(lab, CENSORED, &user.url).await.expect_err("reset");
            assert!(
                has_io_kind(err.as_ref(), ErrorKind::ConnectionReset),
                "{err:?}"
            );
            assert_eq!(fetch(lab, CONTROL, &s.url).await.unwrap().status, 200);
        });
    });
}

#[test]
fn kernel_tls_sni_reset() {
    in_private_netns("kernel_tls_sni_reset", |lab, censor, rt| {
        let s = apply(lab, censor, "kernel_tls_sni_reset");
        rt.block_on(async {
            let ca = [lab.ca_der().clone()];
            let tcp = connect(
                CENSORED,
                endpoint(lab, &s.host, s.port),
                Duration::from_secs(5),
            )
            .await
            .unwrap();
            let err = tls(tcp, &s.host, &ca, &[b"http/1.1"], Duration::from_secs(5))
                .await
                .expect_err("reset");
            assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
            assert_eq!(fetch(lab, CONTROL, &s.url).await.unwrap().status, 200);
        });
    });
}

#[test]
fn kernel_rules_stay_inside_the_namespace() {
    let marker = std::sync::Arc::new(std::sync::Mutex::new(None));
    let seen = std::sync::Arc::clone(&marker);
    in_private_netns(
        "kernel_rules_stay_inside_the_namespace",
        move |lab, censor, _rt| {
            let s = apply(lab, censor, "kernel_tcp_refused");
            *seen.lock().unwrap() = Some(lab.resolve(&s.host).unwrap().to_string());
        },
    );
    let Some(ip) = marker.lock().unwrap().clone() else {
        return;
    };
    // This thread is still in the host's namespace: the rule is not there.
    let out = std::process::Command::new("iptables")
        .args(["-w", "-S", "OUTPUT"])
        .output()
        .unwrap();
    let rules = String::from_utf8_lossy(&out.stdout);
    assert!(
        !rules.contains(&ip),
        "rule leaked into the host namespace:\n{rules}"
    );
}
