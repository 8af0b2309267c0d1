//! One module per subcommand; each turns parsed arguments into work.

mod analyse;
mod helper;
mod inspect;
mod lists;
mod probe;

use std::process::ExitCode;

use crate::cli::Command;

/// Runs one subcommand and returns the process exit status.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Inspect(args) => inspect::run(args),
        Command::Analyse(args) => analyse::run(args),
        Command::Probe(args) => probe::run(args),
        Command::Helper(args) => helper::run(args),
        Command::Lists(command) => lists::run(command),
    }
}
