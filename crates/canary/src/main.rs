//! `canary`: measure internet censorship, document what is done to people
//! online, and report it.
//!
//! This binary is a thin layer: it parses the command line (`cli`), sets up
//! logging, and hands each subcommand to its module under `cmd/`, which glues
//! the library crates together.

mod cli;
mod cmd;
mod judge;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_logging(cli.verbose);
    match cmd::run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("canary: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// Logs go to stderr; `-v` shows more, `RUST_LOG` overrides both.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
