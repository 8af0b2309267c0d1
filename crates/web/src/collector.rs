//! The collector's pure part: from submitted bytes to measurements ready to
//! store, with `probe_ip` scrubbed and the verdict recomputed.
//!
//! A submission is one JSON measurement, or JSONL (one per line). Each is
//! checked in this order, and the first problem refuses the submission
//! with its reason (nothing is stored): JSON syntax; a supported test
//! ([`SUPPORTED_TESTS`]: `web_connectivity`, the four messaging tests
//! `facebook_messenger`, `whatsapp`, `telegram`, `signal`, and Canary's
//! restricted-page check `canary_account_check`); `probe_ip` scrubbed (the
//! submitter-declared address is replaced by `127.0.0.1` everywhere it
//! appears as a string value); the model's schema checks
//! ([`canary_model::Measurement::validate`]) and the test's own (records
//! are lists, at least one network record, an account check names its
//! platform and page); the verdict is then recomputed from the raw records
//! — by `canary-analysis` for web connectivity, by `canary-social` for the
//! others — and the submitter's own verdict keys (`blocking`,
//! `telegram_tcp_blocking`, `account_status`, `x_canary`…) are never used.
//!
//! ## What a social measurement is judged against
//!
//! OONI's measurements (no endpoint tags) are judged against the real
//! services' endpoints ([`canary_social::Endpoints::default`]). Canary's
//! probe tags every record with the endpoint it measured
//! (`endpoint=<name>`), so its measurements are judged against the
//! endpoints their records name (the real ones, or a lab's stand-ins):
//! what was measured is data, how it is judged is the server's rules
//! (Facebook's AS is always AS32934). An account check is re-classified
//! from the probe's own records (status, final URL, title and body of the
//! page) and the control's view, with the server's restriction
//! fingerprints ([`crate::WebConfig::restriction_fingerprints`]: Canary's
//! built-in ones, [`builtin_restriction_fingerprints`], extended by the
//! operator's files with [`load_restriction_fingerprints`]). A page whose
//! notice only an operator's fingerprint knows is judged a platform
//! restriction by that server, and reachable by one without it.
//!
//! [`store_submission`] stores what [`prepare_submission`] returns:
//! web-connectivity measurements in one transaction, social ones in
//! another, each committed before it returns (a failure between the two
//! leaves the first committed; a retry is idempotent).

use std::collections::HashMap;
use std::io::Read;
use std::net::IpAddr;
use std::path::Path;
use std::sync::OnceLock;

use canary_analysis::fingerprints::FingerprintDb;
use canary_analysis::verdict::{analyse_web_connectivity, Context, Verdict};
use canary_model::Measurement;
use canary_social::restriction::Fingerprints;
use canary_store::social::{NewSocialMeasurement, SocialVerdictRow, ACCOUNT_TEST_NAME};
use canary_store::{
    domain_of, InsertReport, NewMeasurement, Outcome, Store, StoreError, StoredVerdict,
};
use serde::Serialize;
use serde_json::Value;

use crate::WebError;

/// Every `test_name` the collector accepts.
pub const SUPPORTED_TESTS: [&str; 6] = [
    "web_connectivity",
    "facebook_messenger",
    "whatsapp",
    "telegram",
    "signal",
    ACCOUNT_TEST_NAME,
];

/// The rules version stored with every social verdict: `canary reanalyse`
/// reports it, and it changes when `canary-social`'s judging does.
pub const SOCIAL_RULES_VERSION: &str = social::RULES_VERSION;

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
    pub(crate) fn new(status: u16, error: &'static str, reason: impl Into<String>) -> Self {
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
    /// Platform-restriction notices, for account checks.
    pub restriction_fingerprints: &'a Fingerprints,
    /// Citizen Lab category per domain (from a test list), if known.
    pub categories: &'a HashMap<String, String>,
    /// Most measurements in one JSONL submission.
    pub max_batch: usize,
}

/// One measurement ready to store: web connectivity or social.
#[derive(Debug, Clone, PartialEq)]
pub enum Prepared {
    /// `web_connectivity`, with its recomputed verdict.
    Web(Box<NewMeasurement>),
    /// A messaging test or an account check, with its recomputed verdict.
    Social(Box<NewSocialMeasurement>),
}

impl Prepared {
    /// The measurement's id.
    pub fn id(&self) -> &str {
        match self {
            Prepared::Web(m) => &m.id,
            Prepared::Social(m) => &m.id,
        }
    }
}

/// Parses, scrubs, validates and analyses one measurement.
pub fn prepare_one(raw: &[u8], p: &Prepare<'_>) -> Result<Prepared, Refusal> {
    let scrubbed = scrub(raw)?;
    let m = Measurement::from_slice(&scrubbed).map_err(|e| {
        Refusal::new(
            422,
            "invalid_measurement",
            format!("not an OONI measurement: {e}"),
        )
    })?;
    if !SUPPORTED_TESTS.contains(&m.test_name()) {
        return Err(Refusal::new(
            422,
            "unsupported_test",
            format!(
                "test_name {:?}: this collector accepts {}",
                m.test_name(),
                SUPPORTED_TESTS.join(", ")
            ),
        ));
    }
    let issues = m.validate();
    if !issues.is_empty() {
        let reasons: Vec<String> = issues.iter().take(10).map(|i| i.to_string()).collect();
        return Err(Refusal::new(422, "invalid_measurement", reasons.join("; ")));
    }
    if m.test_name() != "web_connectivity" {
        let verdict = social::analyse(&m, p.restriction_fingerprints)?;
        return NewSocialMeasurement::from_measurement(&m, &scrubbed, verdict)
            .map(|m| Prepared::Social(Box::new(m)))
            .map_err(|e| Refusal::new(422, "invalid_measurement", e.to_string()));
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
        .map(|m| Prepared::Web(Box::new(m)))
        .map_err(|e| Refusal::new(422, "invalid_measurement", e.to_string()))
}

/// Recomputes the verdict of a stored social measurement (its raw JSON,
/// already scrubbed) with the current rules and Canary's built-in
/// restriction fingerprints: what `canary reanalyse` needs for
/// [`canary_store::Store::replace_social_verdicts`]. The same checks as a
/// submission; a measurement that no longer passes them is refused with
/// the reason. [`social_verdict_with`] takes the fingerprints.
pub fn social_verdict(raw: &[u8]) -> Result<SocialVerdictRow, Refusal> {
    social_verdict_with(raw, builtin_restriction_fingerprints())
}

/// [`social_verdict`] with these restriction fingerprints (a server's
/// [`crate::WebConfig::restriction_fingerprints`]).
pub fn social_verdict_with(
    raw: &[u8],
    restriction_fingerprints: &Fingerprints,
) -> Result<SocialVerdictRow, Refusal> {
    let m = Measurement::from_slice(raw).map_err(|e| {
        Refusal::new(
            422,
            "invalid_measurement",
            format!("not an OONI measurement: {e}"),
        )
    })?;
    social::analyse(&m, restriction_fingerprints)
}

/// Canary's built-in restriction fingerprints (compiled in, read once).
pub fn builtin_restriction_fingerprints() -> &'static Fingerprints {
    static F: OnceLock<Fingerprints> = OnceLock::new();
    F.get_or_init(Fingerprints::builtin)
}

/// Largest restriction-fingerprint file [`load_restriction_fingerprints`]
/// reads, in bytes (canary-social's limit for its data files).
pub const MAX_FINGERPRINT_FILE_BYTES: usize = canary_social::MAX_DATA_BYTES;
/// Most files [`load_restriction_fingerprints`] takes.
pub const MAX_FINGERPRINT_FILES: usize = 16;

/// Canary's built-in restriction fingerprints extended by each file in
/// turn (`{"fingerprints": [{"id", "platform", "location", "pattern",
/// "note"}]}`, as `canary probe --restriction-fingerprints` reads; a
/// fingerprint with the id of an earlier one replaces it): what
/// `canary serve --restriction-fingerprints FILE` puts in
/// [`crate::WebConfig::restriction_fingerprints`]. Each file is at most
/// [`MAX_FINGERPRINT_FILE_BYTES`], at most [`MAX_FINGERPRINT_FILES`]
/// files; an unreadable, oversized or invalid file is an error naming it
/// (nothing is half-loaded).
pub fn load_restriction_fingerprints<P: AsRef<Path>>(
    paths: &[P],
) -> Result<Fingerprints, WebError> {
    if paths.len() > MAX_FINGERPRINT_FILES {
        return Err(WebError::Config(format!(
            "{} restriction-fingerprint files, at most {MAX_FINGERPRINT_FILES}",
            paths.len()
        )));
    }
    let mut all = builtin_restriction_fingerprints().clone();
    for path in paths {
        let path = path.as_ref();
        let fail = |why: String| {
            WebError::Config(format!(
                "restriction fingerprints {}: {why}",
                path.display()
            ))
        };
        let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
        let mut bytes = Vec::new();
        file.take(MAX_FINGERPRINT_FILE_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| fail(e.to_string()))?;
        if bytes.len() > MAX_FINGERPRINT_FILE_BYTES {
            return Err(fail(format!(
                "larger than the {MAX_FINGERPRINT_FILE_BYTES} bytes accepted"
            )));
        }
        let text = String::from_utf8(bytes).map_err(|_| fail("not UTF-8 text".into()))?;
        let more = Fingerprints::from_json(&text).map_err(|e| fail(e.to_string()))?;
        all.extend(more);
    }
    Ok(all)
}

/// Stores a prepared submission: web-connectivity measurements in one
/// transaction, social ones in another, each committed before returning.
/// The report adds both.
pub async fn store_submission(
    store: &Store,
    batch: &[Prepared],
) -> Result<InsertReport, StoreError> {
    let mut web = Vec::new();
    let mut social = Vec::new();
    for m in batch {
        match m {
            Prepared::Web(w) => web.push(w.as_ref().clone()),
            Prepared::Social(s) => social.push(s.as_ref().clone()),
        }
    }
    let mut report = InsertReport::default();
    if !web.is_empty() {
        let r = store.insert_batch(&web).await?;
        report.inserted += r.inserted;
        report.duplicates += r.duplicates;
    }
    if !social.is_empty() {
        let r = store.insert_social_batch(&social).await?;
        report.inserted += r.inserted;
        report.duplicates += r.duplicates;
    }
    Ok(report)
}

/// Splits a submission into measurements: one JSON document, or JSONL.
/// All or nothing: the first bad line refuses the whole submission.
pub fn prepare_submission(body: &[u8], p: &Prepare<'_>) -> Result<Vec<Prepared>, Refusal> {
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

/// Server-side verdicts of the social tests (see the module docs).
mod social {
    use std::net::SocketAddr;
    use std::sync::OnceLock;

    use canary_model::{Body, Measurement};
    use canary_social::endpoints::{
        facebook_builtin_asn_db, FacebookEndpoints, FacebookService, HostPorts, SignalEndpoints,
        TelegramEndpoints, WhatsappEndpoints, FACEBOOK_ASN,
    };
    use canary_social::records::{has_endpoint, Records, ENDPOINT_TAG, MAX_RECORDS};
    use canary_social::restriction::{self, AccountStatus, AccountVerdict, Fingerprints, PageView};
    use canary_social::{Endpoints, SocialVerdict};
    use canary_store::social::{
        AccountResult, EndpointResult, PageSeen, SocialVerdictRow, ACCOUNT_TEST_NAME, SERVICE_TESTS,
    };
    use canary_store::Outcome;
    use serde::Serialize;
    use serde_json::{Map, Value};

    use super::Refusal;

    /// The rules version stored with social verdicts.
    pub const RULES_VERSION: &str = "canary-social/1";
    /// Longest text kept from a submitted field (titles, URLs, reasons).
    const MAX_TEXT: usize = 2048;
    /// Most endpoints taken from one measurement's tags.
    const MAX_TAGGED: usize = 256;
    /// Most ports per tagged host.
    const MAX_PORTS: usize = 8;

    fn invalid(reason: impl Into<String>) -> Refusal {
        Refusal::new(422, "invalid_measurement", reason)
    }

    fn clip(s: &str) -> String {
        s.chars().take(MAX_TEXT).collect()
    }

    fn text<T: Serialize>(x: &T) -> Option<String> {
        serde_json::to_value(x)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    }

    fn outcome(o: canary_social::Outcome) -> Outcome {
        match o {
            canary_social::Outcome::Ok => Outcome::Ok,
            canary_social::Outcome::Blocked => Outcome::Blocked,
            canary_social::Outcome::Down => Outcome::Down,
            canary_social::Outcome::Unknown => Outcome::Unknown,
        }
    }

    fn defaults() -> &'static Endpoints {
        static E: OnceLock<Endpoints> = OnceLock::new();
        E.get_or_init(Endpoints::default)
    }

    fn asn_db() -> &'static canary_ipinfo::AsnDb {
        static D: OnceLock<canary_ipinfo::AsnDb> = OnceLock::new();
        D.get_or_init(facebook_builtin_asn_db)
    }

    fn tag(tags: &[String]) -> Option<&str> {
        tags.iter().find_map(|t| t.strip_prefix(ENDPOINT_TAG))
    }

    fn push_unique(list: &mut Vec<String>, item: &str) {
        if list.len() < MAX_TAGGED && !list.iter().any(|x| x == item) {
            list.push(item.to_owned());
        }
    }

    /// The URL first requested for `endpoint` (requests are newest first).
    fn first_url(r: &Records, endpoint: &str) -> Option<String> {
        r.requests
            .iter()
            .rev()
            .find(|q| has_endpoint(&q.tags, endpoint))
            .and_then(|q| q.url.clone())
    }

    /// The checks every social measurement passes: test keys are an
    /// object, record lists are lists (bounded), and a messaging test has
    /// at least one network record.
    fn test_keys(m: &Measurement) -> Result<&Value, Refusal> {
        let keys = m
            .test_keys
            .get()
            .and_then(|k| k.as_other())
            .filter(|k| k.is_object())
            .ok_or_else(|| invalid("test_keys must be a JSON object"))?;
        let mut records = 0;
        for list in ["queries", "tcp_connect", "tls_handshakes", "requests"] {
            match keys.get(list) {
                None | Some(Value::Null) => {}
                Some(Value::Array(a)) if a.len() <= MAX_RECORDS => records += a.len(),
                Some(Value::Array(a)) => {
                    return Err(invalid(format!(
                        "test_keys.{list}: {} records, at most {MAX_RECORDS}",
                        a.len()
                    )))
                }
                Some(_) => return Err(invalid(format!("test_keys.{list} must be a list"))),
            }
        }
        if records == 0 {
            return Err(invalid(format!(
                "{}: no network records (queries, tcp_connect, tls_handshakes, requests): nothing to judge",
                m.test_name()
            )));
        }
        Ok(keys)
    }

    fn facebook_endpoints(r: &Records) -> FacebookEndpoints {
        if !r.tagged() {
            return defaults().facebook.clone();
        }
        let mut services: Vec<FacebookService> = Vec::new();
        for q in &r.queries {
            if let Some(key) = tag(&q.tags) {
                if services.len() < MAX_TAGGED && !services.iter().any(|s| s.key == key) {
                    services.push(FacebookService {
                        key: key.to_owned(),
                        host: q.hostname.clone(),
                        port: None,
                    });
                }
            }
        }
        for t in &r.tcp {
            if let Some(key) = tag(&t.tags) {
                if let Some(s) = services.iter_mut().find(|s| s.key == key) {
                    s.port.get_or_insert(t.port);
                }
            }
        }
        FacebookEndpoints {
            // The rule is the server's: Facebook's own AS, whatever was measured.
            asn: FACEBOOK_ASN,
            services,
        }
    }

    fn whatsapp_endpoints(r: &Records) -> WhatsappEndpoints {
        use canary_social::whatsapp::{REGISTRATION, WEB};
        let d = &defaults().whatsapp;
        if !r.tagged() {
            return d.clone();
        }
        let mut hosts: Vec<String> = Vec::new();
        let chat = |t: &str| t != REGISTRATION && t != WEB;
        for q in &r.queries {
            if let Some(t) = tag(&q.tags).filter(|t| chat(t)) {
                push_unique(&mut hosts, t);
            }
        }
        for t in &r.tcp {
            if let Some(t) = tag(&t.tags).filter(|t| chat(t)) {
                push_unique(&mut hosts, t);
            }
        }
        let endpoints = hosts
            .into_iter()
            .map(|host| {
                let mut ports: Vec<u16> = Vec::new();
                for t in r.tcp.iter().filter(|t| has_endpoint(&t.tags, &host)) {
                    if !ports.contains(&t.port) && ports.len() < MAX_PORTS {
                        ports.push(t.port);
                    }
                }
                HostPorts { host, ports }
            })
            .collect();
        WhatsappEndpoints {
            endpoints,
            registration_url: first_url(r, REGISTRATION)
                .unwrap_or_else(|| d.registration_url.clone()),
            web_url: first_url(r, WEB).unwrap_or_else(|| d.web_url.clone()),
        }
    }

    fn telegram_endpoints(r: &Records) -> TelegramEndpoints {
        let d = &defaults().telegram;
        if !r.tagged() {
            return d.clone();
        }
        let mut dcs: Vec<HostPorts> = Vec::new();
        let tags = r
            .tcp
            .iter()
            .map(|t| &t.tags)
            .chain(r.requests.iter().map(|q| &q.tags));
        for tags in tags {
            let Some(addr) = tag(tags).and_then(|t| t.parse::<SocketAddr>().ok()) else {
                continue;
            };
            let host = addr.ip().to_string();
            if dcs.iter().map(|d| d.ports.len()).sum::<usize>() >= MAX_TAGGED {
                break;
            }
            if let Some(dc) = dcs.iter_mut().find(|d| d.host == host) {
                if !dc.ports.contains(&addr.port()) {
                    dc.ports.push(addr.port());
                }
            } else if dcs.len() < MAX_TAGGED {
                dcs.push(HostPorts {
                    host,
                    ports: vec![addr.port()],
                });
            }
        }
        TelegramEndpoints {
            datacenters: dcs,
            web_url: first_url(r, canary_social::telegram::WEB)
                .unwrap_or_else(|| d.web_url.clone()),
        }
    }

    fn signal_endpoints(r: &Records) -> SignalEndpoints {
        let d = &defaults().signal;
        if !r.tagged() {
            return d.clone();
        }
        let mut urls: Vec<String> = Vec::new();
        let tags = r
            .requests
            .iter()
            .rev()
            .map(|q| &q.tags)
            .chain(r.queries.iter().map(|q| &q.tags))
            .chain(r.tcp.iter().map(|t| &t.tags))
            .chain(r.tls.iter().map(|t| &t.tags));
        for tags in tags {
            if let Some(t) = tag(tags).filter(|t| url::Url::parse(t).is_ok()) {
                push_unique(&mut urls, t);
            }
        }
        let uptime_host = r
            .queries
            .iter()
            .find(|q| has_endpoint(&q.tags, "uptime"))
            .map(|q| q.hostname.clone())
            .unwrap_or_else(|| d.uptime_host.clone());
        SignalEndpoints {
            urls,
            uptime_host,
            ca_pem: None,
        }
    }

    /// OONI's keys of a typed result, without Canary's label and records.
    fn ooni_keys<T: Serialize>(keys: &T) -> Map<String, Value> {
        match serde_json::to_value(keys) {
            Ok(Value::Object(mut m)) => {
                m.remove("x_canary");
                m
            }
            _ => Map::new(),
        }
    }

    fn explain(test: &str, v: &SocialVerdict) -> String {
        let blocked: Vec<&str> = v
            .endpoints
            .iter()
            .filter(|e| e.outcome == canary_social::Outcome::Blocked)
            .map(|e| e.endpoint.as_str())
            .take(5)
            .collect();
        let layer = v.layer.as_ref().and_then(text).unwrap_or_default();
        let kind = v.kind.as_ref().and_then(text).unwrap_or_default();
        match v.outcome {
            canary_social::Outcome::Ok => format!(
                "{test}: every one of the {} endpoints measured was reached.",
                v.endpoints.len()
            ),
            canary_social::Outcome::Blocked => format!(
                "{test}: blocked at the {layer} layer ({kind}) on {}.",
                clip(&blocked.join(", "))
            ),
            _ => format!("{test}: an endpoint failed ({layer} {kind}) in a way that does not show censorship."),
        }
    }

    fn endpoints_of(v: &SocialVerdict) -> Vec<EndpointResult> {
        v.endpoints
            .iter()
            .map(|e| EndpointResult {
                endpoint: clip(&e.endpoint),
                outcome: outcome(e.outcome),
                layer: e.layer.as_ref().and_then(text),
                kind: e.kind.as_ref().and_then(text),
                failure: e.failure.as_deref().map(clip),
            })
            .collect()
    }

    fn is_true(keys: &Map<String, Value>, k: &str) -> bool {
        keys.get(k) == Some(&Value::Bool(true))
    }

    fn is_blocked(keys: &Map<String, Value>, k: &str) -> bool {
        keys.get(k).and_then(Value::as_str) == Some("blocked")
    }

    /// The recomputed verdict of a social measurement.
    pub fn analyse(
        m: &Measurement,
        fingerprints: &Fingerprints,
    ) -> Result<SocialVerdictRow, Refusal> {
        if m.test_name() == ACCOUNT_TEST_NAME {
            return account(m, fingerprints);
        }
        if !SERVICE_TESTS.contains(&m.test_name()) {
            return Err(Refusal::new(
                422,
                "unsupported_test",
                format!("test_name {:?} is not a social test", m.test_name()),
            ));
        }
        let keys = test_keys(m)?;
        let r = Records::from_test_keys(keys);
        let test = m.test_name();
        let (ooni, label, measured) = match test {
            "facebook_messenger" => {
                let e = facebook_endpoints(&r);
                let measured = e
                    .services
                    .iter()
                    .any(|s| !r.queries_for(&s.key, &s.host).is_empty());
                let k = canary_social::facebook::analyse(&r, &e, asn_db());
                (ooni_keys(&k), k.x_canary, measured)
            }
            "whatsapp" => {
                use canary_social::whatsapp::{REGISTRATION, WEB};
                let e = whatsapp_endpoints(&r);
                let measured = r.target(REGISTRATION, &e.registration_url).measured
                    || r.target(WEB, &e.web_url).measured
                    || e.endpoints.iter().any(|ep| {
                        !r.queries_for(&ep.host, &ep.host).is_empty()
                            || r.tcp.iter().any(|t| {
                                has_endpoint(&t.tags, &ep.host)
                                    || t.ip.is_some_and(|ip| ip.to_string() == ep.host)
                            })
                    });
                let k = canary_social::whatsapp::analyse(&r, &e);
                (ooni_keys(&k), k.x_canary, measured)
            }
            "telegram" => {
                let e = telegram_endpoints(&r);
                let dcs: Vec<&str> = e.datacenters.iter().map(|d| d.host.as_str()).collect();
                let is_dc = |ip: &str| dcs.contains(&ip);
                let measured = r.target(canary_social::telegram::WEB, &e.web_url).measured
                    || r.tcp
                        .iter()
                        .any(|t| t.ip.is_some_and(|ip| is_dc(&ip.to_string())))
                    || r.requests
                        .iter()
                        .any(|q| q.host.as_deref().is_some_and(is_dc));
                let k = canary_social::telegram::analyse(&r, &e);
                (ooni_keys(&k), k.x_canary, measured)
            }
            "signal" => {
                // Only measured URLs are judged: no label means nothing measured.
                let k = canary_social::signal::analyse(&r, &signal_endpoints(&r));
                (ooni_keys(&k), k.x_canary, true)
            }
            other => {
                return Err(Refusal::new(
                    422,
                    "unsupported_test",
                    format!("test_name {other:?} is not a social test"),
                ))
            }
        };
        if !measured {
            return Err(invalid(format!(
                "{test}: none of the service's endpoints was measured"
            )));
        }
        let Some(label) = label.filter(|l| !l.endpoints.is_empty()) else {
            return Err(invalid(format!(
                "{test}: none of the service's endpoints was measured"
            )));
        };
        let ooni_blocked = match test {
            "facebook_messenger" => {
                is_true(&ooni, "facebook_dns_blocking") || is_true(&ooni, "facebook_tcp_blocking")
            }
            "whatsapp" => {
                is_blocked(&ooni, "whatsapp_endpoints_status")
                    || is_blocked(&ooni, "registration_server_status")
                    || is_blocked(&ooni, "whatsapp_web_status")
            }
            "telegram" => {
                is_true(&ooni, "telegram_http_blocking")
                    || is_true(&ooni, "telegram_tcp_blocking")
                    || is_blocked(&ooni, "telegram_web_status")
            }
            _ => is_blocked(&ooni, "signal_backend_status"),
        };
        Ok(SocialVerdictRow {
            rules_version: RULES_VERSION.into(),
            service: test.to_owned(),
            outcome: outcome(label.outcome),
            layer: label.layer.as_ref().and_then(text),
            kind: label.kind.as_ref().and_then(text),
            ooni_blocked: Some(ooni_blocked),
            ooni_keys: ooni,
            explanation: explain(test, &label),
            endpoints: endpoints_of(&label),
            account: None,
        })
    }

    fn str_key(keys: &Value, k: &str) -> Option<String> {
        keys.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(clip)
    }

    /// What the probe saw of the page, from its own records.
    fn probe_view(keys: &Value, r: &Records, url: &str) -> PageView {
        let tagged = r.tagged();
        let target = r.target("page", url);
        // The newest request of the page (OONI order: newest first), with its body.
        let raw = keys
            .get("requests")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .take(MAX_RECORDS)
            .zip(&r.requests)
            .find(|(_, q)| !tagged || has_endpoint(&q.tags, "page"));
        let body = raw
            .and_then(|(v, _)| v.get("response")?.get("body").cloned())
            .and_then(|b| serde_json::from_value::<Body>(b).ok())
            .and_then(|b| b.to_text_lossy().map(|t| t.into_owned()))
            .unwrap_or_default();
        PageView {
            failure: target.failure.clone(),
            failed_layer: target.layer,
            status: target.status,
            final_url: raw.and_then(|(_, q)| q.url.as_deref().map(clip)),
            title: restriction::extract_title(&body),
            body_sha256: None,
            body,
        }
    }

    fn seen(v: &PageView) -> PageSeen {
        PageSeen {
            failure: v.failure.as_deref().map(clip),
            status: v.status,
            final_url: v.final_url.as_deref().map(clip),
            title: v.title.as_deref().map(clip),
        }
    }

    fn account(m: &Measurement, fingerprints: &Fingerprints) -> Result<SocialVerdictRow, Refusal> {
        let keys = m
            .test_keys
            .get()
            .and_then(|k| k.as_other())
            .filter(|k| k.is_object())
            .ok_or_else(|| invalid("test_keys must be a JSON object"))?;
        for list in ["queries", "tcp_connect", "tls_handshakes", "requests"] {
            match keys.get(list) {
                None | Some(Value::Null) => {}
                Some(Value::Array(a)) if a.len() <= MAX_RECORDS => {}
                Some(_) => {
                    return Err(invalid(format!(
                        "test_keys.{list} must be a list of at most {MAX_RECORDS} records"
                    )))
                }
            }
        }
        let platform = str_key(keys, "platform")
            .map(|p| p.to_ascii_lowercase())
            .filter(|p| p.len() <= 64)
            .ok_or_else(|| invalid("canary_account_check: test_keys.platform is missing"))?;
        let url = m
            .input_str()
            .filter(|u| {
                url::Url::parse(u)
                    .is_ok_and(|p| matches!(p.scheme(), "http" | "https") && p.host_str().is_some())
            })
            .map(clip)
            .ok_or_else(|| invalid("canary_account_check: input must be the page's http(s) URL"))?;
        let r = Records::from_test_keys(keys);
        let probe = probe_view(keys, &r, &url);
        let control: Option<PageView> = keys
            .get("control_view")
            .filter(|v| v.is_object())
            .map(|v| serde_json::from_value(v.clone()))
            .transpose()
            .map_err(|e| invalid(format!("canary_account_check: control_view: {e}")))?;
        let v: AccountVerdict =
            restriction::classify(&platform, Some(&probe), control.as_ref(), fingerprints);
        let status = text(&v.status).unwrap_or_else(|| "unknown".into());
        let (outcome, kind) = match v.status {
            AccountStatus::Reachable => (Outcome::Ok, None),
            AccountStatus::NetworkBlocked => (Outcome::Blocked, v.kind.as_ref().and_then(text)),
            // Not the network: the platform's notice. Unavailable in the
            // country all the same; the status says who did it.
            AccountStatus::PlatformRestricted => {
                (Outcome::Blocked, Some("platform_restriction".to_owned()))
            }
            AccountStatus::Down => (Outcome::Down, None),
            AccountStatus::Unknown => (Outcome::Unknown, None),
        };
        let mut ooni = Map::new();
        ooni.insert("account_status".into(), Value::String(status.clone()));
        ooni.insert(
            "restriction_fingerprint".into(),
            v.fingerprint.clone().map_or(Value::Null, Value::String),
        );
        let control_seen = match &control {
            Some(c) => seen(c),
            None => PageSeen {
                failure: str_key(keys, "control_failure")
                    .or_else(|| Some("no control view".into())),
                ..PageSeen::default()
            },
        };
        let layer = v.layer.as_ref().and_then(text);
        Ok(SocialVerdictRow {
            rules_version: RULES_VERSION.into(),
            service: platform.clone(),
            outcome,
            layer: layer.clone(),
            kind: kind.clone(),
            ooni_blocked: None,
            ooni_keys: ooni,
            explanation: clip(&v.reason),
            endpoints: Vec::new(),
            account: Some(AccountResult {
                platform,
                url,
                owner: str_key(keys, "owner"),
                category: str_key(keys, "category"),
                status,
                fingerprint: v.fingerprint.as_deref().map(clip),
                layer,
                kind: v.kind.as_ref().and_then(text),
                reason: clip(&v.reason),
                probe: seen(&probe),
                control: control_seen,
            }),
        })
    }
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
