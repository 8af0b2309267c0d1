//! The verdict, wired in: the analysis crate's pure function applied to a
//! measurement's records, written back into its test keys.

use anyhow::Context as _;
use canary_analysis::fingerprints::FingerprintDb;
use canary_analysis::netutil::IpPrefix;
use canary_analysis::verdict::{analyse_web_connectivity, Context, Verdict};
use canary_model::{Measurement, Nullable};
use canary_store::{Outcome as StoredOutcome, StoredVerdict};

/// The key under which Canary's finer label is stored in `test_keys`.
pub const X_CANARY: &str = "x_canary";

/// Judges web_connectivity measurements with the analysis rules.
pub struct AnalysisJudge {
    fingerprints: FingerprintDb,
    routable: Vec<IpPrefix>,
}

impl AnalysisJudge {
    /// A judge with these fingerprints and routable ranges.
    pub fn new(fingerprints: FingerprintDb, routable: &[String]) -> anyhow::Result<Self> {
        let routable = routable
            .iter()
            .map(|r| {
                r.parse::<IpPrefix>()
                    .map_err(|e| anyhow::anyhow!("--routable {r}: {e}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(AnalysisJudge {
            fingerprints,
            routable,
        })
    }

    /// The judge `--fingerprints` and `--routable` ask for.
    pub fn from_args(args: &crate::cli::VerdictArgs) -> anyhow::Result<Self> {
        AnalysisJudge::new(fingerprints(&args.fingerprints)?, &args.routable)
    }

    /// The verdict of a measurement, if it is a web_connectivity one.
    pub fn verdict(&self, m: &Measurement) -> Option<Verdict> {
        let tk = m.web_connectivity()?;
        let cc = m.probe_cc.get().map_or("ZZ", String::as_str);
        let mut ctx = Context::new(cc, &self.fingerprints);
        if let Some(input) = m.input_str() {
            ctx = ctx.with_input(input);
        }
        if let Some(v) = m.test_version.get() {
            ctx = ctx.with_test_version(v);
        }
        for p in &self.routable {
            ctx = ctx.with_routable(*p);
        }
        Some(analyse_web_connectivity(tk, &ctx))
    }
}

impl canary_probe::Judge for AnalysisJudge {
    fn judge(&self, m: &mut Measurement) {
        let Some(v) = self.verdict(m) else {
            return;
        };
        let Some(tk) = m.web_connectivity_mut() else {
            return;
        };
        tk.blocking = match v.blocking.clone() {
            Some(b) => Nullable::Present(b),
            None => Nullable::Null,
        };
        tk.accessible = v.accessible.into();
        if let Some(diff) = &v.http_diff {
            tk.body_proportion = diff
                .body_proportion
                .and_then(serde_json::Number::from_f64)
                .into();
            tk.body_length_match = diff.body_length_match.into();
            tk.status_code_match = diff.status_code_match.into();
            tk.headers_match = diff.headers_match.into();
            tk.title_match = diff.title_match.into();
        }
        if let Ok(value) = serde_json::to_value(&v) {
            tk.extra.insert(X_CANARY.to_string(), value);
        }
    }
}

impl AnalysisJudge {
    /// The verdict in the store's form. Tests the analysis does not cover
    /// yet are stored as `unknown`, saying so.
    pub fn stored_verdict(&self, m: &Measurement) -> StoredVerdict {
        let Some(v) = self.verdict(m) else {
            return StoredVerdict {
                rules_version: canary_analysis::RULES_VERSION.to_string(),
                blocking: None,
                accessible: None,
                outcome: StoredOutcome::Unknown,
                layer: None,
                kind: None,
                confirmed: false,
                fingerprint: None,
                explanation: format!(
                    "This version of Canary does not analyse {} measurements yet.",
                    m.test_name()
                ),
                rules_fired: Vec::new(),
            };
        };
        let json = serde_json::to_value(&v).unwrap_or_default();
        let text = |k: &str| json[k].as_str().map(str::to_string);
        StoredVerdict {
            rules_version: v.rules_version.clone(),
            blocking: v.blocking.clone(),
            accessible: v.accessible,
            outcome: text("outcome")
                .and_then(|o| o.parse().ok())
                .unwrap_or(StoredOutcome::Unknown),
            layer: text("layer"),
            kind: text("kind"),
            confirmed: v.confirmed,
            fingerprint: v.fingerprint.clone(),
            explanation: v.explanation.clone(),
            rules_fired: v.rule_ids.clone(),
        }
    }
}

/// Canary's fingerprints plus those in `extra` files (OONI's CSV format).
pub fn fingerprints(extra: &[std::path::PathBuf]) -> anyhow::Result<FingerprintDb> {
    let mut db = FingerprintDb::canary_default();
    for path in extra {
        let file = std::fs::File::open(path)
            .with_context(|| format!("--fingerprints {}", path.display()))?;
        let more = FingerprintDb::from_reader(std::io::BufReader::new(file))
            .with_context(|| format!("--fingerprints {}", path.display()))?;
        db.merge(more)
            .with_context(|| format!("--fingerprints {}", path.display()))?;
    }
    Ok(db)
}
