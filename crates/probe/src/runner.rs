//! Measuring many URLs at once, in bounded parallel, stopping cleanly.

use std::sync::Arc;

use canary_model::Measurement;
use ring::rand::SecureRandom;
use time::OffsetDateTime;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;

use crate::experiment::{measure, RunContext};
use crate::{ProbeConfig, ProbeError, Target};

/// What became of one target.
#[derive(Debug)]
pub enum Outcome {
    /// The finished measurement.
    Measured(Box<Measurement>),
    /// The target could not be measured at all (e.g. not a URL).
    Failed {
        /// The target.
        target: Target,
        /// Why.
        error: ProbeError,
    },
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunSummary {
    /// Targets whose outcome was sent.
    pub finished: usize,
    /// Targets not started or abandoned because the run was stopped.
    pub abandoned: usize,
}

/// A new run: an OONI-style report id and the start time.
pub fn new_run(cfg: &ProbeConfig) -> RunContext {
    let start = OffsetDateTime::now_utc();
    let asn = cfg.probe_asn.trim_start_matches("AS");
    let report_id = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z_webconnectivity_{}_{}_n1_{}",
        start.year(),
        u8::from(start.month()),
        start.day(),
        start.hour(),
        start.minute(),
        start.second(),
        cfg.probe_cc,
        asn,
        random_id(16)
    );
    RunContext {
        report_id,
        test_start_time: start,
    }
}

/// `n` random letters and digits.
fn random_id(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = vec![0u8; n];
    // SystemRandom only fails when the OS has no entropy source at all; a
    // zeroed id is still a valid (if less unique) report id then.
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// Measures `targets` with at most `concurrency` in flight, sending each
/// outcome to `out` as soon as it is known. When `stop` turns true, no new
/// target is started and the ones in flight are abandoned; every outcome
/// already sent stays sent.
pub async fn run(
    cfg: Arc<ProbeConfig>,
    context: RunContext,
    targets: Vec<Target>,
    concurrency: usize,
    out: mpsc::Sender<Outcome>,
    mut stop: watch::Receiver<bool>,
) -> RunSummary {
    let total = targets.len();
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let context = Arc::new(context);
    let mut set = JoinSet::new();
    let mut finished = 0;
    let mut stopped = *stop.borrow();
    for target in targets {
        if stopped {
            break;
        }
        let permit = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => { stopped = true; break; }
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        // Reap what is done, so the set does not grow with the list.
        while let Some(done) = set.try_join_next() {
            finished += usize::from(matches!(done, Ok(true)));
        }
        let (cfg, context, out) = (cfg.clone(), context.clone(), out.clone());
        set.spawn(async move {
            let outcome = match measure(&cfg, &context, &target).await {
                Ok(m) => Outcome::Measured(Box::new(m)),
                Err(error) => Outcome::Failed { target, error },
            };
            drop(permit);
            out.send(outcome).await.is_ok()
        });
    }
    if stopped {
        // Stopped while starting targets: what is in flight is abandoned too.
        set.abort_all();
    }
    loop {
        tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s), if !stopped => {
                stopped = true;
                set.abort_all();
            }
            done = set.join_next() => match done {
                Some(r) => finished += usize::from(matches!(r, Ok(true))),
                None => break,
            },
        }
    }
    RunSummary {
        finished,
        abandoned: total - finished.min(total),
    }
}
