//! Progress for the commands that can take a while (`import`, `reanalyse`,
//! `seed kh`, `registry import|export|rekey`, `verify`, `probe`, and
//! `analyse`/`inspect` writing to a file): drawn on standard error when it
//! is a terminal, nothing at all otherwise, so that logs, pipes and scripts
//! see only the results.
//!
//! Every function returns a bar; off a terminal it is hidden and every call
//! on it does nothing, so a command never asks whether it is interactive:
//!
//! ```text
//! let bar = progress::counter("measurements read");
//! for m in measurements { bar.inc(1); … }
//! bar.finish_and_clear();
//!
//! let step = progress::steps("reading kh.json");
//! …
//! step.set_message("importing into the registry");
//! ```

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressFinish, ProgressStyle};

/// How often a [`steps`] spinner turns while a step runs.
const TICK: Duration = Duration::from_millis(120);

/// `bar` on a terminal, else a hidden one. A bar dropped unfinished (the
/// command failed) clears itself, so the error is not printed after it.
fn on_terminal(bar: impl FnOnce() -> ProgressBar) -> ProgressBar {
    if std::io::stderr().is_terminal() {
        bar().with_finish(ProgressFinish::AndClear)
    } else {
        ProgressBar::hidden()
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// A count of `what` without a known total: `⠙ [00:00:04] 12034 measurements read`.
pub fn counter(what: &str) -> ProgressBar {
    on_terminal(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(style("{spinner} [{elapsed_precise}] {pos} {msg}"));
        bar.set_message(what.to_owned());
        bar
    })
}

/// A count for a command whose results go to standard output (`analyse`,
/// `inspect`): drawn only while they go to a file or a pipe, since on the
/// terminal the results themselves show the progress and a counter would
/// tangle with them.
pub fn counter_beside_output(what: &str) -> ProgressBar {
    if std::io::stdout().is_terminal() {
        ProgressBar::hidden()
    } else {
        counter(what)
    }
}

/// A count towards a known total: `⠙ [00:01:10] ████░░ 40/120 URLs  3 anomalies`.
pub fn bar(total: u64, unit: &str) -> ProgressBar {
    on_terminal(|| {
        let bar = ProgressBar::new(total);
        bar.set_style(style(&format!(
            "{{spinner}} [{{elapsed_precise}}] {{bar:30}} {{pos}}/{{len}} {unit}  {{msg}}"
        )));
        bar
    })
}

/// One step after another, the current one named, for work that reports
/// no count (one transaction, one file): `⠙ [00:00:02] sealing sensitive fields`.
pub fn steps(first: &str) -> ProgressBar {
    on_terminal(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(style("{spinner} [{elapsed_precise}] {msg}"));
        bar.set_message(first.to_owned());
        bar.enable_steady_tick(TICK);
        bar
    })
}
