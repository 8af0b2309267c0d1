//! Runs a censorship lab until standard input closes, for trying the probe
//! and the helper by hand:
//!
//! ```text
//! cargo run -p canary-lab -- [--bulk ROW=COUNT]... [--throttle BYTES_PER_SECOND]
//! ```
//!
//! It prints a JSON summary (resolvers, CA file, vantage addresses, every
//! scenario URL with its expected verdict) on standard output, then serves
//! until standard input reaches end of file (Ctrl-D).

use std::io::Read;
use std::process::ExitCode;

use canary_lab::{Lab, LabConfig};

fn parse(args: &[String]) -> Result<LabConfig, String> {
    let mut config = LabConfig::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = || {
            it.clone()
                .next()
                .cloned()
                .ok_or(format!("{arg} needs a value"))
        };
        match arg.as_str() {
            "--bulk" => {
                let v = value()?;
                let (row, count) = v
                    .split_once('=')
                    .ok_or(format!("--bulk {v}: expected ROW=COUNT"))?;
                let count: usize = count
                    .parse()
                    .map_err(|_| format!("--bulk {v}: COUNT is not a number"))?;
                if count > 50_000 {
                    return Err(format!("--bulk {v}: at most 50000 sites per row"));
                }
                config.bulk.push((row.to_owned(), count));
                it.next();
            }
            "--throttle" => {
                let v = value()?;
                config.throttle_bytes_per_second = v
                    .parse()
                    .map_err(|_| format!("--throttle {v}: not a number"))?;
                it.next();
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(config)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse(&args) {
        Ok(c) => c,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("canary-lab: {msg}");
            }
            eprintln!("usage: canary-lab [--bulk ROW=COUNT]... [--throttle BYTES_PER_SECOND]");
            return ExitCode::from(2);
        }
    };
    let lab = match Lab::start_with(config) {
        Ok(lab) => lab,
        Err(e) => {
            eprintln!("canary-lab: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", lab.summary_json());
    eprintln!("canary-lab: running; close standard input (Ctrl-D) to stop");
    let mut sink = [0u8; 256];
    while let Ok(n) = std::io::stdin().read(&mut sink) {
        if n == 0 {
            break;
        }
    }
    drop(lab);
    ExitCode::SUCCESS
}
