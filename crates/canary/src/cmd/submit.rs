//! Uploading measurements to a collector (`canary serve`), with a queue on
//! disk so nothing is lost while the collector is unreachable (blocked,
//! down, or the volunteer offline): every measurement is written to the
//! queue first and removed only once the collector has acknowledged it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use crate::cli::SubmitArgs;

/// What became of one upload attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// Stored by the collector (new or already there); removed from the queue.
    Accepted,
    /// Refused for a reason that will not change (4xx); moved aside.
    Rejected(String),
    /// Not reachable now (network error, 5xx, 429); kept for later.
    Later(String),
}

/// A collector and the queue folder that feeds it.
pub struct Uploader {
    client: reqwest::Client,
    endpoint: url::Url,
    queue: PathBuf,
}

/// Where measurements wait for upload unless told otherwise.
pub fn default_queue() -> PathBuf {
    crate::cmd::probe::default_lists_dir()
        .parent()
        .map_or_else(|| PathBuf::from("canary-queue"), |p| p.join("queue"))
}

impl Uploader {
    /// An uploader to the collector at `base` (e.g. `https://canary.example/`),
    /// queueing in `queue`.
    pub fn new(
        base: &str,
        queue: PathBuf,
        ca_file: Option<&Path>,
        bind: Option<std::net::IpAddr>,
    ) -> anyhow::Result<Self> {
        let base = url::Url::parse(base).with_context(|| format!("collector URL {base}"))?;
        let endpoint = base
            .join("api/v1/submit")
            .with_context(|| format!("collector URL {base}"))?;
        std::fs::create_dir_all(queue.join("rejected"))
            .with_context(|| format!("creating the queue {}", queue.display()))?;
        let client = crate::cmd::probe::api_client(ca_file, Duration::from_secs(30), bind)?;
        Ok(Uploader {
            client,
            endpoint,
            queue,
        })
    }

    /// The queue folder.
    pub fn queue(&self) -> &Path {
        &self.queue
    }

    /// Puts one measurement (a JSON line) in the queue, durably (written to
    /// a temporary name, synced, then renamed).
    pub fn enqueue(&self, json: &str) -> anyhow::Result<PathBuf> {
        use std::io::Write;
        let name = format!(
            "{:020}-{:08x}.json",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
            std::process::id()
        );
        let path = self.queue.join(&name);
        let tmp = self.queue.join(format!(".{name}.tmp"));
        let mut f = std::fs::File::create(&tmp)
            .with_context(|| format!("writing to the queue {}", self.queue.display()))?;
        f.write_all(json.as_bytes())
            .and_then(|()| f.sync_all())
            .with_context(|| format!("writing to the queue {}", self.queue.display()))?;
        std::fs::rename(&tmp, &path)
            .with_context(|| format!("writing to the queue {}", self.queue.display()))?;
        Ok(path)
    }

    /// The queued measurements, oldest first.
    pub fn pending(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.queue)
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        p.extension().is_some_and(|x| x == "json")
                            && p.file_name()
                                .and_then(|n| n.to_str())
                                .is_some_and(|n| !n.starts_with('.'))
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }

    /// Uploads one queued file and settles it.
    pub async fn send(&self, path: &Path) -> Sent {
        let body = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => return Sent::Later(e.to_string()),
        };
        let response = self
            .client
            .post(self.endpoint.clone())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            Err(e) => return Sent::Later(e.to_string()),
        };
        let status = response.status();
        if status.is_success() {
            let _ = std::fs::remove_file(path);
            return Sent::Accepted;
        }
        let reason = response.text().await.unwrap_or_default();
        if status.is_client_error() && status.as_u16() != 429 {
            if let Some(name) = path.file_name() {
                let aside = self.queue.join("rejected").join(name);
                let _ = std::fs::rename(path, &aside);
                let _ = std::fs::write(aside.with_extension("reason.txt"), &reason);
            }
            return Sent::Rejected(format!("HTTP {}: {}", status.as_u16(), reason.trim()));
        }
        Sent::Later(format!("HTTP {}", status.as_u16()))
    }

    /// Uploads everything queued, oldest first, stopping at the first
    /// "later" (the collector is unreachable: no point hammering it).
    /// Returns (accepted, rejected, still queued).
    pub async fn flush(&self) -> (usize, usize, usize) {
        let (mut accepted, mut rejected) = (0, 0);
        let pending = self.pending();
        for (i, path) in pending.iter().enumerate() {
            match self.send(path).await {
                Sent::Accepted => accepted += 1,
                Sent::Rejected(reason) => {
                    rejected += 1;
                    eprintln!("canary: the collector refused {}: {reason}", path.display());
                }
                Sent::Later(why) => {
                    tracing::info!("collector unreachable ({why}); measurements stay queued");
                    return (accepted, rejected, pending.len() - i);
                }
            }
        }
        (accepted, rejected, 0)
    }
}

/// `canary submit`: upload what is queued (and optionally files).
pub fn run(args: SubmitArgs) -> anyhow::Result<ExitCode> {
    canary_netx::install_ring_provider();
    let queue = args.queue.clone().unwrap_or_else(default_queue);
    let uploader = Uploader::new(&args.to, queue, args.ca_file.as_deref(), None)?;
    for file in &args.files {
        for entry in canary_ingest::open(file)? {
            match entry.outcome {
                canary_ingest::Outcome::Measurement(m) => {
                    uploader.enqueue(&m.to_json_string().context("serializing")?)?;
                }
                canary_ingest::Outcome::Invalid(err) => {
                    eprintln!("canary: {}: {err}", entry.location);
                }
                canary_ingest::Outcome::NotMeasurement(_) => {}
            }
        }
    }
    let runtime = crate::cmd::runtime()?;
    let (accepted, rejected, left) = runtime.block_on(uploader.flush());
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "uploaded": accepted,
                "refused": rejected,
                "queued": left,
                "queue": uploader.queue().display().to_string(),
            })
        );
    } else {
        println!(
            "{accepted} measurements uploaded, {rejected} refused by the collector, {left} still queued in {}",
            uploader.queue().display()
        );
    }
    Ok(if left > 0 || rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
