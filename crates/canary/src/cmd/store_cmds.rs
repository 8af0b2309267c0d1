//! `canary import` and `canary reanalyse`: putting measurements into the
//! store with their verdicts, and recomputing every verdict after a rules
//! change.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use canary_ingest::{Outcome, Raw};
use canary_store::{NewMeasurement, Store};
use serde_json::json;

use crate::cli::{ImportArgs, ReanalyseArgs};
use crate::judge::AnalysisJudge;

/// Measurements written per transaction.
const BATCH: usize = 1000;

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn spinner(what: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {pos} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_message(what.to_string());
    Some(bar)
}

/// How long the command line waits for the database before giving up (a
/// typo in a PostgreSQL URL should not look like a hang).
const OPEN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The database URL as it may be shown: without its password.
pub fn shown(database: &str) -> String {
    match url::Url::parse(database) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => database.to_string(),
    }
}

/// Opens the store named by `--database` (a SQLite file or a PostgreSQL URL).
pub async fn open_store(database: &str) -> anyhow::Result<Store> {
    let name = shown(database);
    match tokio::time::timeout(OPEN_TIMEOUT, Store::open(database)).await {
        Ok(opened) => opened.with_context(|| format!("opening the database {name}")),
        Err(_) => anyhow::bail!(
            "opening the database {name}: no answer within {} s",
            OPEN_TIMEOUT.as_secs()
        ),
    }
}

#[derive(Default)]
struct ImportTally {
    inserted: u64,
    duplicates: u64,
    invalid: u64,
    skipped: u64,
    rejected: u64,
}

pub fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let judge = AnalysisJudge::from_args(&args.verdict)?;
    let paths = canary_ingest::expand_paths(&args.paths).context("listing inputs")?;
    let rt = runtime()?;
    let store = rt.block_on(open_store(&args.database))?;
    let bar = spinner("measurements read");
    let mut tally = ImportTally::default();
    let mut unreadable = 0;
    let mut batch: Vec<NewMeasurement> = Vec::with_capacity(BATCH);
    let flush = |batch: &mut Vec<NewMeasurement>, tally: &mut ImportTally| -> anyhow::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let report = rt
            .block_on(store.insert_batch(batch))
            .context("writing to the database")?;
        tally.inserted += report.inserted;
        tally.duplicates += report.duplicates;
        batch.clear();
        Ok(())
    };
    for path in &paths {
        let entries = match canary_ingest::open(path) {
            Ok(e) => e,
            Err(err) => {
                eprintln!("canary: {err}");
                unreadable += 1;
                continue;
            }
        };
        for raw in entries.raw() {
            let (items, raw_line) = match raw {
                Raw::Entry(e) => (vec![e], None),
                Raw::Line { location, bytes } => {
                    let entries = canary_ingest::parse_raw_line(&location, &bytes);
                    (entries, Some(bytes))
                }
            };
            let single = items.len() == 1;
            for entry in items {
                if let Some(bar) = &bar {
                    bar.inc(1);
                }
                match entry.outcome {
                    Outcome::Measurement(m) => {
                        // The raw bytes are kept as received when the line
                        // held exactly this measurement.
                        let raw = match (&raw_line, single) {
                            (Some(bytes), true) => bytes.clone(),
                            _ => m.to_json_string().context("serializing")?.into_bytes(),
                        };
                        let category = m
                            .annotations
                            .get()
                            .and_then(|a| a.get("category_code").cloned());
                        let verdict = judge.stored_verdict(&m);
                        match NewMeasurement::from_measurement(&m, &raw, category, verdict) {
                            Ok(new) => batch.push(new),
                            Err(err) => {
                                tally.rejected += 1;
                                eprintln!("canary: {}: not stored: {err}", entry.location);
                            }
                        }
                        if batch.len() >= BATCH {
                            flush(&mut batch, &mut tally)?;
                        }
                    }
                    Outcome::Invalid(err) => {
                        tally.invalid += 1;
                        eprintln!("canary: {}: {err}", entry.location);
                    }
                    Outcome::NotMeasurement(_) => tally.skipped += 1,
                }
            }
        }
    }
    flush(&mut batch, &mut tally)?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    rt.block_on(store.close());
    let summary = json!({
        "inserted": tally.inserted,
        "duplicates": tally.duplicates,
        "invalid": tally.invalid,
        "rejected": tally.rejected,
        "skipped": tally.skipped,
        "database": shown(&args.database),
    });
    if args.json {
        println!("{summary}");
    } else {
        println!(
            "{} measurements stored in {} ({} already there), {} invalid, {} rejected, {} skipped",
            tally.inserted,
            args.database,
            tally.duplicates,
            tally.invalid,
            tally.rejected,
            tally.skipped
        );
    }
    Ok(if unreadable > 0 {
        ExitCode::from(2)
    } else if tally.invalid + tally.rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn reanalyse(args: ReanalyseArgs) -> anyhow::Result<ExitCode> {
    let judge = AnalysisJudge::from_args(&args.verdict)?;
    let rt = runtime()?;
    let store = rt.block_on(open_store(&args.database))?;
    let bar = spinner("measurements re-analysed");
    let (mut changed, mut unchanged, mut unreadable) = (0u64, 0u64, 0u64);
    let mut labels: BTreeMap<String, u64> = BTreeMap::new();
    let mut after: Option<String> = None;
    loop {
        let rows = rt
            .block_on(store.raw_batch(after.as_deref(), BATCH as u32))
            .context("reading from the database")?;
        let Some(last) = rows.last() else { break };
        after = Some(last.id.clone());
        let mut verdicts = Vec::with_capacity(rows.len());
        for row in &rows {
            match canary_model::Measurement::from_slice(&row.raw_json) {
                Ok(m) => {
                    let v = judge.stored_verdict(&m);
                    let label = [
                        Some(v.outcome.as_str().to_string()),
                        v.layer.clone(),
                        v.kind.clone(),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                    *labels.entry(label).or_default() += 1;
                    verdicts.push((row.id.clone(), v));
                }
                Err(err) => {
                    unreadable += 1;
                    eprintln!("canary: stored measurement {}: {err}", row.id);
                }
            }
        }
        let report = rt
            .block_on(store.replace_verdicts(&verdicts))
            .context("writing verdicts")?;
        changed += report.changed;
        unchanged += report.unchanged;
        if let Some(bar) = &bar {
            bar.inc(rows.len() as u64);
        }
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    rt.block_on(store.close());
    if args.json {
        println!(
            "{}",
            json!({"rules_version": canary_analysis::RULES_VERSION, "changed": changed, "unchanged": unchanged, "unreadable": unreadable, "verdicts": labels})
        );
    } else {
        println!(
            "re-analysed with rules {}: {changed} verdicts changed, {unchanged} unchanged, {unreadable} unreadable",
            canary_analysis::RULES_VERSION
        );
        for (label, n) in &labels {
            println!("  {n:>8}  {label}");
        }
    }
    Ok(if unreadable > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
