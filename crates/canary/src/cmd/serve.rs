//! `canary serve` and `canary admin`: the collector, the explorer and its
//! users.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use canary_web::accounts::{PasswordParams, Role};
use canary_web::{serve, WebConfig};

use crate::cli::{AdminCommand, CreateUserArgs, ServeArgs};

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let fingerprints = crate::judge::fingerprints(&args.fingerprints)?;
    let restriction_fingerprints =
        canary_web::collector::load_restriction_fingerprints(&args.restriction_fingerprints)
            .context("loading restriction fingerprints")?;
    let ring = crate::cmd::registry::key_ring(&args.key)?;
    let evidence_dir = args
        .evidence_dir
        .clone()
        .unwrap_or_else(|| args.database.default_evidence_dir());
    crate::cmd::multi_thread_runtime()?.block_on(async move {
        let store = args.database.open().await?;
        if args.demo {
            let report = canary_web::demo::load(&store)
                .await
                .context("loading the demo dataset")?;
            eprintln!(
                "canary: demo dataset loaded ({} measurements added, {} already there)",
                report.inserted, report.duplicates
            );
            let (registry, sensitive) =
                crate::cmd::registry::seed_kh(&store, ring.as_ref(), true).await?;
            eprintln!(
                "canary: demo registry loaded ({} rows added or updated; sensitive fields {})",
                registry.changed(),
                match sensitive {
                    crate::cmd::registry::Sensitive::Sealed => "sealed with the key",
                    crate::cmd::registry::Sensitive::Redacted => "redacted: no key given",
                    crate::cmd::registry::Sensitive::None => "none",
                }
            );
        }
        let mut config = WebConfig::new(store);
        config.fingerprints = Arc::new(fingerprints);
        config.restriction_fingerprints = Arc::new(restriction_fingerprints);
        config.cookie_secure = args.cookie_secure;
        config.trusted_proxies = args.trusted_proxies.clone();
        config.registry_keys = ring.map(Arc::new);
        config.evidence_dir = Some(evidence_dir);
        #[cfg(feature = "pdf")]
        {
            config.pdf = Some(canary_web::PdfRenderer(Arc::new(|data, options| {
                canary_report_pdf::render_pdf(data, options)
            })));
        }
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let server = serve(config, listener).await?;
        // The first line says where to look (scripts read it when the port
        // was chosen by the OS).
        println!("canary serve: http://{}/", server.local_addr());
        std::io::stdout().flush().ok();
        if args.demo {
            eprintln!("canary: try http://{}/country/KH", server.local_addr());
        }
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        eprintln!("canary: stopping");
        server.shutdown().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn admin(command: AdminCommand) -> anyhow::Result<ExitCode> {
    match command {
        AdminCommand::CreateUser(args) => create_user(args),
        AdminCommand::GenKey(args) => crate::cmd::registry::gen_key(args),
    }
}

fn read_password(args: &CreateUserArgs) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if !args.password_stdin && stdin.is_terminal() {
        bail!("give the password on standard input with --password-stdin (it is never taken from the command line, where other users could see it)");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        bail!("the password on standard input is empty");
    }
    Ok(password)
}

fn create_user(args: CreateUserArgs) -> anyhow::Result<ExitCode> {
    let role = match args.role.as_str() {
        "viewer" => Role::Viewer,
        "analyst" => Role::Analyst,
        "admin" => Role::Admin,
        other => bail!("--role {other}: use viewer, analyst or admin"),
    };
    let password = read_password(&args)?;
    let user = args.database.with_store(async |store| {
        canary_web::accounts::create_user(
            store,
            &args.name,
            &password,
            role,
            args.org.as_deref(),
            &PasswordParams::owasp(),
        )
        .await
        .context("creating the user")
    })?;
    println!(
        "created {} {} in {}",
        role,
        user.name,
        args.database.shown()
    );
    Ok(ExitCode::SUCCESS)
}
