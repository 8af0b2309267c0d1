//! One module per subcommand; each turns parsed arguments into work.

mod analyse;
mod database;
mod helper;
mod inspect;
mod lists;
mod probe;
mod progress;
mod registry;
mod report;
mod serve;
mod store_cmds;
mod submit;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::Command;

/// Runs one subcommand and returns the process exit status.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Inspect(args) => inspect::run(args),
        Command::Analyse(args) => analyse::run(args),
        Command::Import(args) => store_cmds::import(args),
        Command::Serve(args) => serve::run(args),
        Command::Submit(args) => submit::run(args),
        Command::Report(args) => report::run(args),
        Command::Admin(command) => serve::admin(command),
        Command::Reanalyse(args) => store_cmds::reanalyse(args),
        Command::Probe(args) => probe::run(*args),
        Command::Helper(args) => helper::run(args),
        Command::Lists(command) => lists::run(command),
        Command::Seed(command) => registry::seed(command),
        Command::Verify(args) => registry::verify(args),
        Command::Registry(command) => registry::run(command),
    }
}

/// A runtime on this thread, for commands that do one thing after another
/// (open the store, read or write, close it).
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// A runtime with a worker per core, for commands that serve, measure or
/// judge many things at once.
pub fn multi_thread_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// The measurement files, opened one after another. A file that cannot be
/// opened is named on standard error (above the command's progress `bar`)
/// and counted in `unreadable` (the commands exit with status 2 then); the
/// others are still read.
pub fn open_each<'a>(
    paths: &'a [PathBuf],
    unreadable: &'a mut usize,
    bar: &'a indicatif::ProgressBar,
) -> impl Iterator<Item = canary_ingest::Entries> + 'a {
    paths
        .iter()
        .filter_map(move |path| match canary_ingest::open(path) {
            Ok(entries) => Some(entries),
            Err(err) => {
                bar.suspend(|| eprintln!("canary: {err}"));
                *unreadable += 1;
                None
            }
        })
}
