//! A stand-alone `canary serve` for development and the load test, until
//! the CLI wires [`canary_web::serve`] in.
//!
//! ```text
//! cargo run -p canary-web --example serve -- [--listen 127.0.0.1:8080] [--database canary.db] [--demo] [--no-rate-limit]
//! cargo run -p canary-web --example serve -- template            # a valid measurement with uid __UID__
//! cargo run -p canary-web --example serve -- check DB ACKED_IDS  # every acknowledged id stored once
//! ```

use std::collections::HashSet;
use std::process::ExitCode;

use canary_store::Store;
use canary_web::{serve, WebConfig};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run().await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("template") => {
            let (ms, _) = canary_web::demo::dataset()?;
            let m = ms
                .iter()
                .find(|m| m.verdict.kind.as_deref() == Some("blockpage_ip"))
                .ok_or("no blocked demo measurement")?;
            let mut v: serde_json::Value = serde_json::from_slice(&m.raw_json)?;
            v["measurement_uid"] = serde_json::json!("__UID__");
            println!("{}", serde_json::to_string(&v)?);
            return Ok(ExitCode::SUCCESS);
        }
        Some("check") => {
            let db = args.get(1).ok_or("check DB ACKED_IDS")?;
            let acked = std::fs::read_to_string(args.get(2).ok_or("check DB ACKED_IDS")?)?;
            let store = Store::open(db).await?;
            let mut seen = HashSet::new();
            let (mut missing, mut twice) = (0u64, 0u64);
            for id in acked.lines().map(str::trim).filter(|l| !l.is_empty()) {
                if !seen.insert(id.to_owned()) {
                    twice += 1;
                }
                if store.measurement(id).await?.is_none() {
                    missing += 1;
                    eprintln!("missing: {id}");
                }
            }
            let stored = store.count().await?;
            println!(
                "acknowledged (2xx, stored): {}  acknowledged twice: {twice}  missing after restart: {missing}  rows in store: {stored}",
                seen.len()
            );
            return Ok(
                if missing == 0 && twice == 0 && stored >= seen.len() as u64 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                },
            );
        }
        _ => {}
    }
    let mut listen = "127.0.0.1:8080".to_owned();
    let mut database = "canary.db".to_owned();
    let (mut demo, mut no_limit) = (false, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--listen" => listen = it.next().ok_or("--listen ADDR:PORT")?.clone(),
            "--database" => database = it.next().ok_or("--database URL")?.clone(),
            "--demo" => demo = true,
            "--no-rate-limit" => no_limit = true,
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    let store = Store::open(&database).await?;
    if demo {
        let r = canary_web::demo::load(&store).await?;
        eprintln!(
            "demo dataset: {} new, {} already there",
            r.inserted, r.duplicates
        );
    }
    let mut cfg = WebConfig::new(store);
    if no_limit {
        cfg.submit_burst = u32::MAX;
        cfg.submit_per_second = 1e9;
    }
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let server = serve(cfg, listener).await?;
    eprintln!("listening on http://{}", server.local_addr());
    server.wait().await;
    Ok(ExitCode::SUCCESS)
}
