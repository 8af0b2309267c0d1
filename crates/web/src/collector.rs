//! The collector's pure part: from submitted bytes to measurements ready to
//! store, with `probe_ip` scrubbed and the verdict recomputed.
//!
//! A submission is one JSON measurement, or JSONL (one per line). Each is
//! checked in this order, and the first problem refuses the submission
//! with its reason (nothing is stored): JSON syntax; `web_connectivity`
//! only; `probe_ip` scrubbed (the submitter-declared address is replaced by
//! `127.0.0.1` everywhere it appears as a string value); the model's
//! schema checks ([`canary_model::Measurement::validate`]); the verdict is
//! then recomputed from the raw records by `canary-analysis` — the
//! submitter's own `blocking`/`accessible` are never used.

use std::collections::HashMap;
use std::net::IpAddr;

use canary_analysis::fingerprints::FingerprintDb;
use canary_analysis::verdict::{analyse_web_connectivity, Context, Verdict};
use canary_model::Measurement;
use canary_store::{domain_of, NewMeasurement, Outcome, StoredVerdict};
use serde::Serialize;
use serde_json::Value;

/// The scrubbed address.
pub const SCRUBBED_IP: &str = "127.0.0.1";

/// Why a submission was refused: an HTTP status and a reason for the
/// submitter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// HTTP status (400, 413, 422, 429).
    #[serde(skip)]
    pub status: u16,
    /// Machine-readable code (`malformed_json`, `invalid_measurement`, …).
    pub error: &'static str,
    /// What was wrong, in words.
    pub reason: String,
    /// 1-based line of a JSONL submission, when it is about one line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

impl Refusal {
    fn new(status: u16, error: &'static str, reason: impl Into<String>) -> Self {
        Refusal {
            status,
            error,
            reason: reason.into(),
            line: None,
        }
    }
    fn at(mut self, line: Option<usize>) -> Self {
        self.line = line;
        self
    }
}

/// Converts an analysis verdict into the store's plain form.
pub fn stored_verdict(v: &Verdict) -> StoredVerdict {
    fn text<T: Serialize>(x: &T) -> Option<String> {
        serde_json::to_value(x)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    }
    let outcome = text(&v.outcome)
        .and_then(|s| s.parse::<Outcome>().ok())
        .unwrap_or(Outcome::Unknown);
    StoredVerdict {
        rules_version: v.rules_version.clone(),
        blocking: v.blocking.clone(),
        accessible: v.accessible,
        outcome,
        layer: v.layer.as_ref().and_then(text),
        kind: v.kind.as_ref().and_then(text),
        confirmed: v.confirmed,
        fingerprint: v.fingerprint.clone(),
        explanation: v.explanation.clone(),
        rules_fired: v.rule_ids.clone(),
    }
}

/// Replaces every string value equal to `ip`, or containing it as a whole
/// token, by `127.0.0.1`. Returns how many strings changed.
fn scrub_value(value: &mut Value, ip: &str) -> usize {
    match value {
        Value::String(s) => {
            if s.contains(ip) {
                let replaced = replace_token(s, ip);
                if replaced != *s {
                    *s = replaced;
                    return 1;
                }
            }
            0
        }
        Value::Array(items) => items.iter_mut().map(|v| scrub_value(v, ip)).sum(),
        Value::Object(map) => map.values_mut().map(|v| scrub_value(v, ip)).sum(),
        _ => 0,
    }
}

/// Replaces `ip` in `s` where it is not part of a longer address
/// (`10.0.0.1` must not touch `10.0.0.12`; `10.0.0.1:53` is replaced).
fn replace_token(s: &str, ip: &str) -> String {
    let v6 = ip.contains(':');
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find(ip) {
        let before = rest[..pos].chars().next_back();
        let tail = &rest[pos + ip.len()..];
        let mut after = tail.chars();
        let (a1, a2) = (after.next(), after.next());
        let longer = if v6 {
            let addr = |c: char| c.is_ascii_hexdigit() || c == ':';
            before.is_some_and(addr) || a1.is_some_and(addr)
        } else {
            let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
            digit(before) || before == Some('.') || digit(a1) || (a1 == Some('.') && digit(a2))
        };
        out.push_str(&rest[..pos]);
        out.push_str(if longer { ip } else { SCRUBBED_IP });
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// Scrubs `probe_ip` from one measurement's JSON. Returns the bytes to
/// store: the original bytes when nothing needed scrubbing, else the
/// re-serialised document.
pub fn scrub(raw: &[u8]) -> Result<Vec<u8>, Refusal> {
    let mut value: Value = serde_json::from_slice(raw)
        .map_err(|e| Refusal::new(400, "malformed_json", format!("not JSON: {e}")))?;
    let Some(obj) = value.as_object_mut() else {
        return Err(Refusal::new(
            400,
            "malformed_json",
            "a measurement is a JSON object",
        ));
    };
    let declared = match obj.get("probe_ip") {
        None | Some(Value::Null) => return Ok(raw.to_vec()),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(_) => {
            return Err(Refusal::new(
                422,
                "invalid_measurement",
                "probe_ip must be a string",
            ))
        }
    };
    if declared == SCRUBBED_IP {
        return Ok(raw.to_vec());
    }
    obj.insert("probe_ip".into(), Value::String(SCRUBBED_IP.into()));
    // Only an actual address is searched for elsewhere: an arbitrary string
    // (empty, "a") would rewrite unrelated text.
    if declared.parse::<IpAddr>().is_ok() {
        scrub_value(&mut value, &declared);
    }
    serde_json::to_vec(&value)
        .map_err(|e| Refusal::new(400, "malformed_json", format!("cannot re-encode: {e}")))
}

/// Everything the collector needs to turn bytes into measurements.
#[derive(Debug, Clone, Copy)]
pub struct Prepare<'a> {
    /// Blockpage fingerprints for the verdicts.
    pub fingerprints: &'a FingerprintDb,
    /// Citizen Lab category per domain (from a test list), if known.
    pub categories: &'a HashMap<String, String>,
    /// Most measurements in one JSONL submission.
    pub max_batch: usize,
}

/// Parses, scrubs, validates and analyses one measurement.
pub fn prepare_one(raw: &[u8], p: &Prepare<'_>) -> Result<NewMeasurement, Refusal> {
    let scrubbed = scrub(raw)?;
    let m = Measurement::from_slice(&scrubbed).map_err(|e| {
        Refusal::new(
            422,
            "invalid_measurement",
            format!("not an OONI measurement: {e}"),
        )
    })?;
    if m.test_name() != "web_connectivity" {
        return Err(Refusal::new(
            422,
            "unsupported_test",
            format!(
                "test_name {:?}: this collector accepts web_connectivity only",
                m.test_name()
            ),
        ));
    }
    let issues = m.validate();
    if !issues.is_empty() {
        let reasons: Vec<String> = issues.iter().take(10).map(|i| i.to_string()).collect();
        return Err(Refusal::new(422, "invalid_measurement", reasons.join("; ")));
    }
    let Some(tk) = m.web_connectivity() else {
        return Err(Refusal::new(
            422,
            "invalid_measurement",
            "web_connectivity test_keys are missing",
        ));
    };
    let cc = m.probe_cc.get().map(String::as_str).unwrap_or("ZZ");
    let mut ctx = Context::new(cc, p.fingerprints);
    if let Some(input) = m.input_str() {
        ctx = ctx.with_input(input);
    }
    if let Some(v) = m.test_version.get() {
        ctx = ctx.with_test_version(v);
    }
    let verdict = stored_verdict(&analyse_web_connectivity(tk, &ctx));
    let category = m
        .input_str()
        .and_then(domain_of)
        .and_then(|d| p.categories.get(&d).cloned());
    NewMeasurement::from_measurement(&m, &scrubbed, category, verdict)
        .map_err(|e| Refusal::new(422, "invalid_measurement", e.to_string()))
}

/// Splits a submission into measurements: one JSON document, or JSONL.
/// All or nothing: the first bad line refuses the whole submission.
pub fn prepare_submission(body: &[u8], p: &Prepare<'_>) -> Result<Vec<NewMeasurement>, Refusal> {
    let text_start = body.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = text_start else {
        return Err(Refusal::new(400, "empty", "the submission is empty"));
    };
    if body[start] != b'{' {
        return Err(Refusal::new(
            400,
            "malformed_json",
            "expected a JSON object or JSON lines",
        ));
    }
    // A single (possibly pretty-printed) document?
    if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
        return Ok(vec![prepare_one(body, p)?]);
    }
    let lines: Vec<(usize, &[u8])> = body
        .split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, l)| l.iter().any(|b| !b.is_ascii_whitespace()))
        .map(|(i, l)| (i + 1, l))
        .collect();
    if lines.len() > p.max_batch {
        return Err(Refusal::new(
            413,
            "batch_too_large",
            format!(
                "{} measurements; at most {} per submission",
                lines.len(),
                p.max_batch
            ),
        ));
    }
    lines
        .into_iter()
        .map(|(n, line)| prepare_one(line, p).map_err(|r| r.at(Some(n))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::replace_token;

    #[test]
    fn replace_token_replaces_whole_addresses_only() {
        let cases = [
            ("10.0.0.1", "10.0.0.1", "127.0.0.1"),
            ("10.0.0.1", "10.0.0.1:53", "127.0.0.1:53"),
            ("10.0.0.1", "10.0.0.12", "10.0.0.12"),
            ("10.0.0.1", "110.0.0.1", "110.0.0.1"),
            ("10.0.0.1", "10.0.0.1.5", "10.0.0.1.5"),
            ("10.0.0.1", "at 10.0.0.1. Then", "at 127.0.0.1. Then"),
            (
                "10.0.0.1",
                "[10.0.0.1] and 10.0.0.1",
                "[127.0.0.1] and 127.0.0.1",
            ),
            ("2001:db8::1", "[2001:db8::1]:443", "[127.0.0.1]:443"),
            ("2001:db8::1", "2001:db8::1f", "2001:db8::1f"),
        ];
        for (ip, input, want) in cases {
            assert_eq!(replace_token(input, ip), want, "{ip} in {input}");
        }
    }
}
