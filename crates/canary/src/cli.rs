//! The command line: every subcommand and flag, with the help a newcomer reads.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Canary measures internet censorship from volunteers' machines, documents
/// what is done to people online, and reports it — in English and Khmer.
///
/// Measurements use OONI's data format, so Canary reads OONI's published data
/// and OONI's tools can read Canary's.
#[derive(Debug, Parser)]
#[command(
    name = "canary",
    version,
    about,
    long_about,
    after_help = "Start here:\n  canary inspect examples/measurements.jsonl   read and check measurements\n\nRun `canary help <command>` for the details of one command."
)]
pub struct Cli {
    /// Say more about what is happening (repeat for more detail). Logs go to
    /// standard error; RUST_LOG overrides this.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read OONI measurement files and print a short summary of each
    /// measurement (test, URL, country and network, time, verdict).
    ///
    /// Accepts JSON Lines (one measurement per line, as OONI publishes them),
    /// single JSON documents and arrays, OONI explorer API responses and JSONC,
    /// plain or gzip-compressed (.gz); directories are read recursively. Every
    /// measurement is parsed and checked against OONI's data format. A bad
    /// entry (truncated line, wrong type, garbage) is reported with its file
    /// and line and does not stop the others.
    ///
    /// Exit status: 0 when every entry was readable, 1 when at least one entry
    /// was invalid, 2 when a file could not be opened.
    #[command(
        after_help = "Examples:\n  canary inspect examples/measurements.jsonl\n  canary inspect --json 2024-02-14.jsonl.gz | jq .blocking\n  canary inspect ~/ooni-data/"
    )]
    Inspect(InspectArgs),
}

/// Options of `canary inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Measurement files or directories to read.
    #[arg(required = true, value_name = "FILE_OR_DIR")]
    pub paths: Vec<PathBuf>,

    /// Print one JSON object per line (per measurement, invalid entry or
    /// skipped file) instead of the human summary.
    #[arg(long)]
    pub json: bool,

    /// Also list entries that are valid JSON but not measurements (API
    /// listings, analysis files, legacy YAML reports).
    #[arg(long)]
    pub show_skipped: bool,
}
