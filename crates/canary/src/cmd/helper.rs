//! `canary helper`: serve control measurements to probes.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use canary_helper::{server, Resolver, ServerConfig};

use crate::cli::HelperArgs;
use crate::cmd::probe::{asn_db, doh_server, net_options};

pub fn run(args: HelperArgs) -> anyhow::Result<ExitCode> {
    canary_netx::install_ring_provider();
    let resolver = match (&args.resolver, &args.doh) {
        (Some(addr), _) => Resolver::Udp(*addr),
        (None, Some(doh)) => {
            let (url, server) = doh_server(doh)?;
            Resolver::Doh { url, server }
        }
        (None, None) => Resolver::Udp("8.8.8.8:53".parse().context("default resolver")?),
    };
    let mut cfg = ServerConfig::new(resolver);
    let mut net = net_options(&args.net)?;
    // The helper is the control: give sites more time than the probe does.
    net.tcp_timeout = net.tcp_timeout.max(Duration::from_secs(15));
    net.http_timeout = net.http_timeout.max(Duration::from_secs(15));
    net.body_cap = cfg.net.body_cap;
    cfg.net = net;
    cfg.bogons = canary_ipinfo::Bogons::with_routable(&args.net.routable)?;
    cfg.asn_db = asn_db(args.net.asn_db.as_deref())?;
    cfg.max_in_flight = args.max_in_flight.max(1);
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let cert_pem =
                std::fs::read(cert).with_context(|| format!("--tls-cert {}", cert.display()))?;
            let key_pem =
                std::fs::read(key).with_context(|| format!("--tls-key {}", key.display()))?;
            Some(canary_helper::tls_config(&cert_pem, &key_pem)?)
        }
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let runtime = crate::cmd::multi_thread_runtime()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let srv = server::start(cfg, listener, tls)?;
        // The first line of standard output says where to reach the helper
        // (scripts and tests read it when the port was chosen by the OS).
        println!(
            "canary helper listening on {scheme}://{}/",
            srv.local_addr()
        );
        std::io::stdout().flush().ok();
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        eprintln!("canary: helper stopping");
        srv.shutdown().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
