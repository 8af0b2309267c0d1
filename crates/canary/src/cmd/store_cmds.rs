//! `canary import` and `canary reanalyse`: putting measurements into the
//! store with their verdicts, and recomputing every verdict after a rules
//! change.
//!
//! `canary reanalyse` re-judges both kinds of stored measurement from their
//! raw JSON, a thousand at a time: web connectivity with `canary-analysis`
//! (the `--fingerprints` and other verdict options apply), then the social
//! tests (`facebook_messenger`, `whatsapp`, `telegram`, `signal`,
//! `canary_account_check`) with the collector's own judging
//! ([`canary_web::collector::social_verdict`]: `canary-social`'s rules, the
//! same code that judged them on arrival). The summary (`--json`: a
//! `social` object beside the web-connectivity counts) says how many
//! verdicts changed, per test name for the social ones:
//!
//! ```text
//! $ canary reanalyse --database canary.db
//! re-analysed with rules canary-rules-1: 0 verdicts changed, 4 unchanged, 0 unreadable
//! social measurements re-judged with rules canary-social/1: 2 verdicts changed (canary_account_check 1, facebook_messenger 1), 0 unchanged, 0 unreadable
//!          1  canary_account_check telegram blocked platform_restriction
//!          1  facebook_messenger blocked tcp blackhole
//! ```

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Context;
use canary_ingest::{Outcome, Raw};
use canary_store::social::{SocialVerdictRow, ACCOUNT_TEST_NAME};
use canary_store::{NewMeasurement, Store};
use serde_json::json;

use crate::cli::{ImportArgs, ReanalyseArgs};
use crate::cmd::progress;
use crate::judge::AnalysisJudge;

/// Measurements written per transaction.
const BATCH: usize = 1000;

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
    let rt = crate::cmd::multi_thread_runtime()?;
    let store = rt.block_on(args.database.open())?;
    let bar = progress::counter("measurements read");
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
    for entries in crate::cmd::open_each(&paths, &mut unreadable, &bar) {
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
                bar.inc(1);
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
                                bar.suspend(|| {
                                    eprintln!("canary: {}: not stored: {err}", entry.location)
                                });
                            }
                        }
                        if batch.len() >= BATCH {
                            flush(&mut batch, &mut tally)?;
                        }
                    }
                    Outcome::Invalid(err) => {
                        tally.invalid += 1;
                        bar.suspend(|| eprintln!("canary: {}: {err}", entry.location));
                    }
                    Outcome::NotMeasurement(_) => tally.skipped += 1,
                }
            }
        }
    }
    flush(&mut batch, &mut tally)?;
    bar.finish_and_clear();
    rt.block_on(store.close());
    let summary = json!({
        "inserted": tally.inserted,
        "duplicates": tally.duplicates,
        "invalid": tally.invalid,
        "rejected": tally.rejected,
        "skipped": tally.skipped,
        "database": args.database.shown(),
    });
    if args.json {
        println!("{summary}");
    } else {
        println!(
            "{} measurements stored in {} ({} already there), {} invalid, {} rejected, {} skipped",
            tally.inserted,
            args.database.shown(),
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
    let restriction =
        canary_web::collector::load_restriction_fingerprints(&args.restriction_fingerprints)
            .context("loading restriction fingerprints")?;
    let rt = crate::cmd::multi_thread_runtime()?;
    let store = rt.block_on(args.database.open())?;
    let web = reanalyse_web(&rt, &store, &judge)?;
    let social = reanalyse_social(&rt, &store, &restriction)?;
    rt.block_on(store.close());
    if args.json {
        println!(
            "{}",
            json!({
                "rules_version": canary_analysis::RULES_VERSION,
                "changed": web.changed,
                "unchanged": web.unchanged,
                "unreadable": web.unreadable,
                "verdicts": web.labels,
                "social": {
                    "rules_version": canary_web::collector::SOCIAL_RULES_VERSION,
                    "changed": social.changed,
                    "unchanged": social.unchanged,
                    "unreadable": social.unreadable,
                    "changed_by_test": social.changed_by_test,
                    "verdicts": social.labels,
                },
            })
        );
    } else {
        println!(
            "re-analysed with rules {}: {} verdicts changed, {} unchanged, {} unreadable",
            canary_analysis::RULES_VERSION,
            web.changed,
            web.unchanged,
            web.unreadable
        );
        web.print_labels();
        let by_test = social
            .changed_by_test
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        println!(
            "social measurements re-judged with rules {}: {} verdicts changed{}, {} unchanged, {} unreadable",
            canary_web::collector::SOCIAL_RULES_VERSION,
            social.changed,
            if by_test.is_empty() {
                String::new()
            } else {
                format!(" ({by_test})")
            },
            social.unchanged,
            social.unreadable
        );
        social.print_labels();
    }
    Ok(if web.unreadable + social.unreadable > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// What re-judging one kind of stored measurement did.
#[derive(Default)]
struct Rejudged {
    changed: u64,
    unchanged: u64,
    unreadable: u64,
    /// Changed verdicts per test name (social measurements, several tests).
    changed_by_test: BTreeMap<String, u64>,
    /// How many of each new verdict, by [`label`].
    labels: BTreeMap<String, u64>,
}

impl Rejudged {
    fn print_labels(&self) {
        for (label, n) in &self.labels {
            println!("  {n:>8}  {label}");
        }
    }
}

/// A verdict's parts that it has, in order, space-separated: `blocked dns
/// nxdomain`, `telegram blocked tcp blackhole`.
fn label(parts: impl IntoIterator<Item = Option<String>>) -> String {
    parts.into_iter().flatten().collect::<Vec<_>>().join(" ")
}

/// Re-judges every stored web_connectivity measurement from its raw JSON
/// with this version's rules, [`BATCH`] at a time. A measurement that no
/// longer parses keeps its verdict and is counted unreadable, with the
/// reason on stderr.
fn reanalyse_web(
    rt: &tokio::runtime::Runtime,
    store: &Store,
    judge: &AnalysisJudge,
) -> anyhow::Result<Rejudged> {
    let bar = progress::counter("measurements re-analysed");
    let mut tally = Rejudged::default();
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
                    let label = label([
                        Some(v.outcome.as_str().to_string()),
                        v.layer.clone(),
                        v.kind.clone(),
                    ]);
                    *tally.labels.entry(label).or_default() += 1;
                    verdicts.push((row.id.clone(), v));
                }
                Err(err) => {
                    tally.unreadable += 1;
                    bar.suspend(|| eprintln!("canary: stored measurement {}: {err}", row.id));
                }
            }
        }
        let report = rt
            .block_on(store.replace_verdicts(&verdicts))
            .context("writing verdicts")?;
        tally.changed += report.changed;
        tally.unchanged += report.unchanged;
        bar.inc(rows.len() as u64);
    }
    bar.finish_and_clear();
    Ok(tally)
}

/// Re-judges every stored social measurement (`facebook_messenger`,
/// `whatsapp`, `telegram`, `signal`, `canary_account_check`) from its raw
/// JSON with the server's current rules and `restriction` fingerprints,
/// [`BATCH`] at a time. A
/// measurement that no longer passes the collector's checks keeps its
/// verdict and is counted unreadable, with the reason on stderr.
fn reanalyse_social(
    rt: &tokio::runtime::Runtime,
    store: &Store,
    restriction: &canary_social::restriction::Fingerprints,
) -> anyhow::Result<Rejudged> {
    let bar = progress::counter("social measurements re-judged");
    let mut tally = Rejudged::default();
    let mut after: Option<String> = None;
    loop {
        let rows = rt
            .block_on(store.social_raw_batch(after.as_deref(), BATCH as u32))
            .context("reading social measurements from the database")?;
        let Some(last) = rows.last() else { break };
        after = Some(last.id.clone());
        // Grouped by test, one replacement per test, so that the changes
        // are counted per test name.
        let mut by_test: BTreeMap<String, Vec<(String, SocialVerdictRow)>> = BTreeMap::new();
        for row in &rows {
            match canary_web::collector::social_verdict_with(&row.raw_json, restriction) {
                Ok(v) => {
                    let test = if v.account.is_some() {
                        ACCOUNT_TEST_NAME.to_string()
                    } else {
                        v.service.clone()
                    };
                    let label = label([
                        Some(test.clone()),
                        v.account.as_ref().map(|a| a.platform.clone()),
                        Some(v.outcome.as_str().to_string()),
                        v.layer.clone(),
                        v.kind.clone(),
                    ]);
                    *tally.labels.entry(label).or_default() += 1;
                    by_test.entry(test).or_default().push((row.id.clone(), v));
                }
                Err(refusal) => {
                    tally.unreadable += 1;
                    bar.suspend(|| {
                        eprintln!(
                            "canary: stored social measurement {}: {}",
                            row.id, refusal.reason
                        );
                    });
                }
            }
        }
        for (test, verdicts) in &by_test {
            let report = rt
                .block_on(store.replace_social_verdicts(verdicts))
                .context("writing social verdicts")?;
            tally.changed += report.changed;
            tally.unchanged += report.unchanged;
            if report.changed > 0 {
                *tally.changed_by_test.entry(test.clone()).or_default() += report.changed;
            }
        }
        bar.inc(rows.len() as u64);
    }
    bar.finish_and_clear();
    Ok(tally)
}
