//! `canary inspect`: read measurement files, check each measurement, and print
//! a one-line summary per measurement (or JSON lines with `--json`).

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::Context;
use canary_ingest::{Entry, Location, Outcome};
use canary_model::Measurement;
use serde_json::{json, Value};

use crate::cli::InspectArgs;

/// Counts for the closing line and the exit status.
#[derive(Default)]
struct Tally {
    files: usize,
    measurements: usize,
    web_connectivity: usize,
    with_issues: usize,
    invalid: usize,
    skipped: usize,
}

pub fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let paths = canary_ingest::expand_paths(&args.paths).context("listing inputs")?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut tally = Tally {
        files: paths.len(),
        ..Tally::default()
    };
    let mut unreadable_files = 0;
    let bar = crate::cmd::progress::counter_beside_output("entries read");
    for entries in crate::cmd::open_each(&paths, &mut unreadable_files, &bar) {
        for entry in entries {
            bar.inc(1);
            if let Err(err) = report(&mut out, &args, &mut tally, entry) {
                if err.kind() == io::ErrorKind::BrokenPipe {
                    return Ok(ExitCode::SUCCESS);
                }
                return Err(err).context("writing output");
            }
        }
    }
    bar.finish_and_clear();
    let closing = format!(
        "{} measurement{} ({} web_connectivity, {} with issues), {} invalid, {} skipped, in {} file{}",
        tally.measurements,
        plural(tally.measurements),
        tally.web_connectivity,
        tally.with_issues,
        tally.invalid,
        tally.skipped,
        tally.files,
        plural(tally.files),
    );
    let written = if args.json {
        out.flush()
    } else {
        writeln!(out, "{closing}").and_then(|()| out.flush())
    };
    match written {
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        other => other.context("writing output")?,
    }
    if args.json {
        eprintln!("{closing}");
    }
    Ok(if unreadable_files > 0 {
        ExitCode::from(2)
    } else if tally.invalid > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn report(
    out: &mut impl Write,
    args: &InspectArgs,
    tally: &mut Tally,
    entry: Entry,
) -> io::Result<()> {
    let Entry { location, outcome } = entry;
    match outcome {
        Outcome::Measurement(m) => {
            tally.measurements += 1;
            let summary = Summary::of(&m);
            if summary.test_name == "web_connectivity" {
                tally.web_connectivity += 1;
            }
            if !summary.issues.is_empty() {
                tally.with_issues += 1;
            }
            if args.json {
                let mut v = summary.to_json();
                v["status"] = json!("ok");
                v["location"] = location_json(&location);
                writeln!(out, "{v}")
            } else {
                writeln!(out, "{location}  {}", summary.line())?;
                for issue in &summary.issues {
                    writeln!(out, "    warning: {issue}")?;
                }
                Ok(())
            }
        }
        Outcome::Invalid(err) => {
            tally.invalid += 1;
            if args.json {
                let v = json!({
                    "status": "invalid",
                    "location": location_json(&location),
                    "error": err.to_string(),
                });
                writeln!(out, "{v}")
            } else {
                writeln!(out, "{location}  INVALID: {err}")
            }
        }
        Outcome::NotMeasurement(why) => {
            tally.skipped += 1;
            if !args.show_skipped {
                return Ok(());
            }
            if args.json {
                let v = json!({
                    "status": "skipped",
                    "location": location_json(&location),
                    "reason": why,
                });
                writeln!(out, "{v}")
            } else {
                writeln!(out, "{location}  skipped: {why}")
            }
        }
    }
}

fn location_json(location: &Location) -> Value {
    json!({
        "file": location.path.to_string_lossy(),
        "line": location.line,
        "index": location.index,
    })
}

/// What `inspect` shows of one measurement.
struct Summary {
    test_name: String,
    test_version: Option<String>,
    input: Option<String>,
    probe_cc: Option<String>,
    probe_asn: Option<String>,
    start_time: Option<String>,
    /// The measurement's own verdict keys, as recorded by the probe that made
    /// it (inspect shows; `canary analyse` recomputes).
    verdict: Vec<(String, Value)>,
    issues: Vec<String>,
}

impl Summary {
    fn of(m: &Measurement) -> Summary {
        Summary {
            test_name: m.test_name().to_string(),
            test_version: m.test_version.get().cloned(),
            input: m.input_str().map(str::to_string),
            probe_cc: m.probe_cc.get().cloned(),
            probe_asn: m.probe_asn.get().cloned(),
            start_time: m.measurement_start_time.get().cloned(),
            verdict: recorded_verdict(m),
            issues: m.validate().iter().map(ToString::to_string).collect(),
        }
    }

    fn line(&self) -> String {
        let mut parts = vec![match &self.test_version {
            Some(v) => format!("{} {v}", self.test_name),
            None => self.test_name.clone(),
        }];
        parts.push(self.input.clone().unwrap_or_else(|| "-".into()));
        parts.push(format!(
            "{} {}",
            self.probe_cc.as_deref().unwrap_or("??"),
            self.probe_asn.as_deref().unwrap_or("AS?")
        ));
        parts.push(self.start_time.clone().unwrap_or_else(|| "-".into()));
        if !self.verdict.is_empty() {
            let verdict: Vec<String> = self
                .verdict
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => format!("{k}={s}"),
                    other => format!("{k}={other}"),
                })
                .collect();
            parts.push(verdict.join(" "));
        }
        parts.join("  ")
    }

    fn to_json(&self) -> Value {
        let verdict: serde_json::Map<String, Value> = self.verdict.iter().cloned().collect();
        json!({
            "test_name": self.test_name,
            "test_version": self.test_version,
            "input": self.input,
            "probe_cc": self.probe_cc,
            "probe_asn": self.probe_asn,
            "measurement_start_time": self.start_time,
            "verdict": verdict,
            "issues": self.issues,
        })
    }
}

/// The verdict keys the measurement itself carries: `blocking` and
/// `accessible` for web_connectivity, and the `*_blocking` / `*_status` keys
/// other tests use.
fn recorded_verdict(m: &Measurement) -> Vec<(String, Value)> {
    if let Some(wc) = m.web_connectivity() {
        return vec![
            (
                "blocking".to_string(),
                serde_json::to_value(&wc.blocking).unwrap_or(Value::Null),
            ),
            (
                "accessible".to_string(),
                serde_json::to_value(wc.accessible).unwrap_or(Value::Null),
            ),
        ];
    }
    let Ok(Value::Object(keys)) = serde_json::to_value(&m.test_keys) else {
        return Vec::new();
    };
    keys.into_iter()
        .filter(|(k, v)| {
            (k.ends_with("_blocking") || k.ends_with("_status") || k == "accessible")
                && !v.is_object()
                && !v.is_array()
        })
        .collect()
}
