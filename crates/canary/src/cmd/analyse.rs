//! `canary analyse`: recompute verdicts for stored or downloaded
//! measurements, in parallel, and summarise them.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::sync::mpsc;

use anyhow::Context;
use canary_ingest::{Entry, Outcome, Raw};
use serde_json::{json, Value};

use crate::cli::AnalyseArgs;
use crate::judge::AnalysisJudge;

/// Lines handed to a worker at once.
const BATCH: usize = 256;

/// What one entry contributed to the output and the summary.
struct Row {
    /// The line to print (human or JSON), if any.
    text: Option<String>,
    kind: RowKind,
}

enum RowKind {
    Judged {
        label: String,
        recorded: Option<String>,
        recomputed: Option<String>,
    },
    NotAnalysed(String),
    Invalid,
    Skipped,
}

/// The counts behind the closing table.
#[derive(Default)]
struct Summary {
    labels: BTreeMap<String, usize>,
    not_analysed: BTreeMap<String, usize>,
    invalid: usize,
    skipped: usize,
    compared: usize,
    agreed: usize,
    disagreements: BTreeMap<(String, String), usize>,
}

impl Summary {
    fn add(&mut self, row: &RowKind) {
        match row {
            RowKind::Judged {
                label,
                recorded,
                recomputed,
            } => {
                *self.labels.entry(label.clone()).or_default() += 1;
                if let Some(recorded) = recorded {
                    self.compared += 1;
                    let recomputed = recomputed.clone().unwrap_or_else(|| "null".into());
                    if *recorded == recomputed {
                        self.agreed += 1;
                    } else {
                        *self
                            .disagreements
                            .entry((recorded.clone(), recomputed))
                            .or_default() += 1;
                    }
                }
            }
            RowKind::NotAnalysed(test) => *self.not_analysed.entry(test.clone()).or_default() += 1,
            RowKind::Invalid => self.invalid += 1,
            RowKind::Skipped => self.skipped += 1,
        }
    }

    fn judged(&self) -> usize {
        self.labels.values().sum()
    }

    fn table(&self) -> String {
        let mut out = String::new();
        let judged = self.judged();
        out.push_str(&format!(
            "{judged} web_connectivity measurement{} analysed, {} of other tests not analysed, {} invalid, {} skipped\n",
            if judged == 1 { "" } else { "s" },
            self.not_analysed.values().sum::<usize>(),
            self.invalid,
            self.skipped
        ));
        if judged > 0 {
            out.push_str("\n  count  share   verdict (outcome layer kind)\n");
            let mut rows: Vec<(&String, &usize)> = self.labels.iter().collect();
            rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (label, n) in rows {
                out.push_str(&format!(
                    "  {n:>5}  {:>5.1}%  {label}\n",
                    100.0 * *n as f64 / judged as f64
                ));
            }
        }
        if self.compared > 0 {
            out.push_str(&format!(
                "\nOONI blocking recomputed from the records agrees with the value the probe recorded in {} of {} measurements ({:.1}%)\n",
                self.agreed,
                self.compared,
                100.0 * self.agreed as f64 / self.compared as f64
            ));
            for ((recorded, recomputed), n) in &self.disagreements {
                out.push_str(&format!(
                    "  {n:>5}  recorded {recorded}, recomputed {recomputed}\n"
                ));
            }
        }
        for (test, n) in &self.not_analysed {
            out.push_str(&format!(
                "  ({n} {test} measurement{} not analysed by this version)\n",
                if *n == 1 { "" } else { "s" }
            ));
        }
        out
    }
}

fn blocking_str(v: &Value) -> Option<String> {
    match v {
        Value::Bool(false) => Some("false".into()),
        Value::String(s) => Some(s.clone()),
        Value::Null => Some("null".into()),
        _ => None,
    }
}

fn judge_entry(judge: &AnalysisJudge, entry: Entry, json_out: bool) -> Row {
    let Entry { location, outcome } = entry;
    match outcome {
        Outcome::Measurement(m) => {
            let Some(verdict) = judge.verdict(&m) else {
                let test = m.test_name().to_string();
                let text = json_out.then(|| {
                    json!({"location": location_json(&location), "status": "not_analysed", "test_name": test}).to_string()
                });
                return Row {
                    text,
                    kind: RowKind::NotAnalysed(test),
                };
            };
            let recorded = m
                .web_connectivity()
                .filter(|tk| !tk.blocking.is_absent())
                .and_then(|tk| serde_json::to_value(&tk.blocking).ok())
                .and_then(|v| blocking_str(&v));
            let verdict_json = serde_json::to_value(&verdict).unwrap_or(Value::Null);
            let recomputed = blocking_str(&verdict_json["blocking"]);
            let s = |k: &str| verdict_json[k].as_str().unwrap_or("").to_string();
            let label = [s("outcome"), s("layer"), s("kind")]
                .into_iter()
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            let text = if json_out {
                json!({
                    "location": location_json(&location),
                    "status": "analysed",
                    "input": m.input_str(),
                    "probe_cc": m.probe_cc.get(),
                    "probe_asn": m.probe_asn.get(),
                    "measurement_start_time": m.measurement_start_time.get(),
                    "recorded": {"blocking": recorded, "accessible": m.web_connectivity().and_then(|tk| tk.accessible.value())},
                    "verdict": verdict_json,
                })
                .to_string()
            } else {
                let confirmed = if verdict.confirmed {
                    format!(
                        " [confirmed: {}]",
                        verdict.fingerprint.as_deref().unwrap_or("?")
                    )
                } else {
                    String::new()
                };
                format!(
                    "{location}  {}  blocking={} (recorded {})  {label}{confirmed}\n    {}",
                    m.input_str().unwrap_or("-"),
                    recomputed.as_deref().unwrap_or("?"),
                    recorded.as_deref().unwrap_or("-"),
                    verdict.explanation
                )
            };
            Row {
                text: Some(text),
                kind: RowKind::Judged {
                    label,
                    recorded,
                    recomputed,
                },
            }
        }
        Outcome::Invalid(err) => Row {
            text: Some(if json_out {
                json!({"location": location_json(&location), "status": "invalid", "error": err.to_string()}).to_string()
            } else {
                format!("{location}  INVALID: {err}")
            }),
            kind: RowKind::Invalid,
        },
        Outcome::NotMeasurement(_) => Row {
            text: None,
            kind: RowKind::Skipped,
        },
    }
}

fn location_json(location: &canary_ingest::Location) -> Value {
    json!({"file": location.path.to_string_lossy(), "line": location.line, "index": location.index})
}

/// Work for one thread: raw items in, rows out, in order.
fn work(judge: &AnalysisJudge, batch: Vec<Raw>, json_out: bool) -> Vec<Row> {
    let mut rows = Vec::with_capacity(batch.len());
    for raw in batch {
        match raw {
            Raw::Entry(entry) => rows.push(judge_entry(judge, entry, json_out)),
            Raw::Line { location, bytes } => {
                for entry in canary_ingest::parse_raw_line(&location, &bytes) {
                    rows.push(judge_entry(judge, entry, json_out));
                }
            }
        }
    }
    rows
}

pub fn run(args: AnalyseArgs) -> anyhow::Result<ExitCode> {
    let judge = AnalysisJudge::from_args(&args.verdict)?;
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let paths = canary_ingest::expand_paths(&args.paths).context("listing inputs")?;
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut summary = Summary::default();
    let mut unreadable = 0;
    let json_out = args.json;
    let bar = crate::cmd::progress::counter_beside_output("entries analysed");

    let result: anyhow::Result<()> = std::thread::scope(|scope| {
        // Batches go to the workers through one shared queue; results come
        // back tagged with their sequence number and are printed in order.
        let (work_tx, work_rx) = mpsc::sync_channel::<(u64, Vec<Raw>)>(threads * 2);
        let work_rx = std::sync::Arc::new(std::sync::Mutex::new(work_rx));
        let (done_tx, done_rx) = mpsc::sync_channel::<(u64, Vec<Row>)>(threads * 2);
        for _ in 0..threads.max(1) {
            let (work_rx, done_tx, judge) = (work_rx.clone(), done_tx.clone(), &judge);
            scope.spawn(move || loop {
                let next = work_rx.lock().map(|rx| rx.recv());
                let Ok(Ok((seq, batch))) = next else { return };
                if done_tx.send((seq, work(judge, batch, json_out))).is_err() {
                    return;
                }
            });
        }
        drop(done_tx);
        let reader_bar = bar.clone();
        let reader = scope.spawn(move || {
            let mut unreadable = 0;
            let mut seq = 0u64;
            let mut batch = Vec::with_capacity(BATCH);
            'read: for entries in crate::cmd::open_each(&paths, &mut unreadable, &reader_bar) {
                for raw in entries.raw() {
                    batch.push(raw);
                    if batch.len() == BATCH {
                        if work_tx.send((seq, std::mem::take(&mut batch))).is_err() {
                            break 'read;
                        }
                        seq += 1;
                    }
                }
            }
            if !batch.is_empty() {
                let _ = work_tx.send((seq, batch));
            }
            unreadable
        });
        let mut pending: HashMap<u64, Vec<Row>> = HashMap::new();
        let mut next = 0u64;
        for (seq, rows) in done_rx {
            pending.insert(seq, rows);
            while let Some(rows) = pending.remove(&next) {
                bar.inc(rows.len() as u64);
                for row in rows {
                    summary.add(&row.kind);
                    if let Some(text) = row.text {
                        writeln!(out, "{text}")?;
                    }
                }
                next += 1;
            }
        }
        unreadable = reader
            .join()
            .map_err(|_| anyhow::anyhow!("the reader thread failed"))?;
        Ok(())
    });
    bar.finish_and_clear();
    match result {
        Err(e)
            if e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe) =>
        {
            return Ok(ExitCode::SUCCESS)
        }
        other => other?,
    }
    let table = summary.table();
    if json_out {
        out.flush().context("writing output")?;
        eprint!("{table}");
    } else {
        writeln!(out, "\n{table}").and_then(|()| out.flush()).ok();
    }
    Ok(if unreadable > 0 {
        ExitCode::from(2)
    } else if summary.invalid > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
