//! One module per subcommand; each turns parsed arguments into work.

mod inspect;

use std::process::ExitCode;

use crate::cli::Command;

/// Runs one subcommand and returns the process exit status.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Inspect(args) => inspect::run(args),
    }
}
