//! Social-media results: service reachability (`facebook_messenger`,
//! `whatsapp`, `telegram`, `signal`) and restricted pages/accounts
//! (`canary_account_check`).
//!
//! The collector stores each such measurement with
//! [`Store::insert_social_batch`]: the raw JSON (zstd, like web
//! connectivity's), the indexed fields, and the verdict the server
//! recomputed ([`SocialVerdictRow`]: Canary's label with one row per
//! endpoint, OONI's verdict keys, and for account checks what each vantage
//! saw). Three questions are asked of them, with the filter conventions of
//! the web-connectivity views ([`Filters`]: ASN, `from` inclusive, `to`
//! exclusive; `category` narrows account checks):
//!
//! * [`Store::social_series`]: per service × network × UTC day, how many
//!   measurements, how many reached the service, how many were blocked;
//! * [`Store::social_latest`]: per service × network, the latest state
//!   (with its endpoints), since when it is blocked, when it was last ok;
//! * [`Store::restricted_pages`]: every page/account seen restricted, per
//!   network and kind of restriction (**network blocking** by the ISP, or
//!   **platform restriction** after a legal demand to the platform), first
//!   and last time seen so, and whether that is still its latest state.
//!
//! [`Store::social_verdict`] reads one measurement's stored verdict back
//! (what its page shows); [`Store::replace_social_verdicts`] rewrites
//! verdicts when the rules improve (`canary reanalyse`).
//!
//! | table | one row per |
//! |---|---|
//! | `social_measurements` | measurement: indexed fields, raw JSON (zstd), service, Canary's outcome/layer/kind, OONI's keys (JSON) and headline (`ooni_blocked`) |
//! | `social_endpoints` | endpoint of a messaging measurement: outcome, layer, kind, failure |
//! | `social_accounts` | account check: platform, URL, owner, category, status, fingerprint, what the probe and the control saw |
//!
//! ## Performance (measured)
//!
//! A year of one country (179,100 measurements: 4 services × 10 networks ×
//! 6 a day, and 50 pages × 10 networks every other day), release build, on
//! the shared 2-core development machine; median of 7 runs, in ms:
//!
//! | query | SQLite: all / last 30 days / one ASN | PostgreSQL: all / last 30 days / one ASN |
//! |---|---|---|
//! | [`Store::social_series`] | 191 / 26 / 16 | 229 / 28 / 65 |
//! | [`Store::social_latest`] | 188 / 13 / 18 | 192 / 72 / 121 |
//! | [`Store::restricted_pages`] | 59 / 16 / 11 | 169 / 57 / 106 |
//!
//! Ingest ran at 11,600 (SQLite) and 8,500 (PostgreSQL) measurements/s in
//! batches of 5,000.
//!
//! ```
//! use canary_store::social::{NewSocialMeasurement, SocialVerdictRow};
//! use canary_store::{Filters, Outcome, Store};
//! use time::macros::datetime;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Store::open("sqlite::memory:").await?;
//! let mut verdict = SocialVerdictRow::new("telegram", Outcome::Blocked, "Telegram Web timed out at TCP.");
//! verdict.layer = Some("tcp".into());
//! verdict.kind = Some("blackhole".into());
//! verdict.ooni_blocked = Some(true);
//! let m = NewSocialMeasurement {
//!     id: "20261129T100000Z_telegram_KH_38623_n1_x".into(),
//!     test_name: "telegram".into(),
//!     probe_cc: "KH".into(),
//!     probe_asn: 38623,
//!     probe_network_name: Some("Viettel (Cambodia)".into()),
//!     measurement_start_time: datetime!(2026-11-29 10:00 UTC),
//!     raw_json: br#"{"test_name":"telegram"}"#.to_vec(),
//!     ..NewSocialMeasurement::new(verdict)
//! };
//! assert_eq!(store.insert_social_batch(&[m.clone()]).await?.inserted, 1);
//! assert_eq!(store.insert_social_batch(&[m]).await?.duplicates, 1); // idempotent
//! let now = store.social_latest("KH", &Filters::default()).await?;
//! assert_eq!((now[0].service.as_str(), now[0].outcome), ("telegram", Outcome::Blocked));
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::{Database, Encode, QueryBuilder, Type};
use time::{Date, OffsetDateTime};
use tracing::debug;

use crate::store::{
    check_country, check_len, decompress, insert_probe_networks, to_asn, with_backend, Backend,
    BeginWrite, SECONDS_PER_DAY,
};
use crate::types::{
    Filters, InsertReport, Outcome, RawMeasurement, ReplaceReport, MAX_FIELD_BYTES, MAX_ID_BYTES,
    MAX_RAW_BYTES, MAX_TEXT_BYTES,
};
use crate::{content_id, Store, StoreError};

/// The `test_name` of the restricted-page check.
pub const ACCOUNT_TEST_NAME: &str = "canary_account_check";
/// The four messaging tests, in the order the panel lists them.
pub const SERVICE_TESTS: [&str; 4] = ["facebook_messenger", "whatsapp", "telegram", "signal"];
/// The account statuses a check can have.
pub const ACCOUNT_STATUSES: [&str; 5] = [
    "reachable",
    "network_blocked",
    "platform_restricted",
    "down",
    "unknown",
];
/// The statuses that mean "restricted" ([`Store::restricted_pages`]).
pub const RESTRICTED_STATUSES: [&str; 2] = ["network_blocked", "platform_restricted"];
/// Most endpoints stored per measurement.
pub const MAX_ENDPOINTS: usize = 512;
/// Most groups (service × network, page × network × status) one query
/// returns.
pub const MAX_GROUPS: usize = 10_000;
/// Most OONI keys stored per measurement (their JSON at most
/// [`MAX_TEXT_BYTES`]).
pub const MAX_OONI_KEYS: usize = 64;

const ZSTD_LEVEL: i32 = 3;
const ROWS_PER_STATEMENT: usize = 400;

/// Canary's label of one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointResult {
    /// The endpoint (`b_api`, `e1.whatsapp.net`, `149.154.175.50:80`, a URL…).
    pub endpoint: String,
    /// Its outcome.
    pub outcome: Outcome,
    /// The failed step (`dns`, `tcp`, `tls`, `http`).
    pub layer: Option<String>,
    /// How it failed (`nxdomain`, `blackhole`, `reset`…).
    pub kind: Option<String>,
    /// The df-007 failure string.
    pub failure: Option<String>,
}

/// What one vantage saw of a page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageSeen {
    /// The failure (df-007), when no response came; for the control, also
    /// why there is no control view.
    pub failure: Option<String>,
    /// The final HTTP status.
    pub status: Option<u16>,
    /// The URL after redirects.
    pub final_url: Option<String>,
    /// The page title.
    pub title: Option<String>,
}

/// The verdict of an account/page check, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountResult {
    /// The platform (`facebook`, `telegram`, `x`…).
    pub platform: String,
    /// The page's URL.
    pub url: String,
    /// Whose page (a label).
    pub owner: Option<String>,
    /// A category (free text).
    pub category: Option<String>,
    /// One of [`ACCOUNT_STATUSES`].
    pub status: String,
    /// The matched restriction fingerprint (platform restriction).
    pub fingerprint: Option<String>,
    /// For network blocking: the layer.
    pub layer: Option<String>,
    /// For network blocking: the kind.
    pub kind: Option<String>,
    /// One sentence on why.
    pub reason: String,
    /// What the probe (inside the country) saw.
    pub probe: PageSeen,
    /// What the control (the test helper, outside) saw.
    pub control: PageSeen,
}

/// The verdict the server computed for a social measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocialVerdictRow {
    /// Version of the rules (`canary-social`'s analysis).
    pub rules_version: String,
    /// The service: the test name of a messaging test, the platform of an
    /// account check.
    pub service: String,
    /// Canary's summary outcome.
    pub outcome: Outcome,
    /// Its layer.
    pub layer: Option<String>,
    /// Its kind.
    pub kind: Option<String>,
    /// OONI's headline: does any of OONI's keys say blocked?
    pub ooni_blocked: Option<bool>,
    /// OONI's verdict keys as recomputed (`telegram_http_blocking`…).
    pub ooni_keys: Map<String, Value>,
    /// One sentence a non-engineer understands.
    pub explanation: String,
    /// Every endpoint's label (messaging tests).
    pub endpoints: Vec<EndpointResult>,
    /// The account check's verdict (only for `canary_account_check`).
    pub account: Option<AccountResult>,
}

impl SocialVerdictRow {
    /// A verdict with no keys, endpoints or account, rules version `1`.
    pub fn new(
        service: impl Into<String>,
        outcome: Outcome,
        explanation: impl Into<String>,
    ) -> Self {
        SocialVerdictRow {
            rules_version: "1".into(),
            service: service.into(),
            outcome,
            layer: None,
            kind: None,
            ooni_blocked: None,
            ooni_keys: Map::new(),
            explanation: explanation.into(),
            endpoints: Vec::new(),
            account: None,
        }
    }
}

/// One social measurement ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSocialMeasurement {
    /// `measurement_uid`, else [`content_id`] of the raw JSON.
    pub id: String,
    /// OONI `report_id`.
    pub report_id: Option<String>,
    /// `facebook_messenger`, `whatsapp`, `telegram`, `signal` or
    /// [`ACCOUNT_TEST_NAME`].
    pub test_name: String,
    /// `test_version`.
    pub test_version: Option<String>,
    /// `input` (the page's URL for account checks).
    pub input: Option<String>,
    /// Two upper-case letters.
    pub probe_cc: String,
    /// The probe's ASN (0 when unknown).
    pub probe_asn: u32,
    /// The probe network's name.
    pub probe_network_name: Option<String>,
    /// When it started (UTC).
    pub measurement_start_time: OffsetDateTime,
    /// `software_name`.
    pub software_name: Option<String>,
    /// `software_version`.
    pub software_version: Option<String>,
    /// The measurement as received (scrubbed); kept compressed and given
    /// back byte for byte.
    pub raw_json: Vec<u8>,
    /// The server's verdict.
    pub verdict: SocialVerdictRow,
}

impl NewSocialMeasurement {
    /// A measurement with only its verdict set (fill the rest with struct
    /// update syntax): country `ZZ`, ASN 0, started at the Unix epoch.
    pub fn new(verdict: SocialVerdictRow) -> Self {
        NewSocialMeasurement {
            id: String::new(),
            report_id: None,
            test_name: String::new(),
            test_version: None,
            input: None,
            probe_cc: "ZZ".into(),
            probe_asn: 0,
            probe_network_name: None,
            measurement_start_time: OffsetDateTime::UNIX_EPOCH,
            software_name: None,
            software_version: None,
            raw_json: Vec::new(),
            verdict,
        }
    }

    /// Extracts the indexed fields from a parsed measurement. `raw` must be
    /// the bytes `m` was parsed from; the id is `measurement_uid`, else
    /// [`content_id`]`(raw)`.
    pub fn from_measurement(
        m: &canary_model::Measurement,
        raw: &[u8],
        verdict: SocialVerdictRow,
    ) -> Result<Self, StoreError> {
        let id = match m.measurement_uid.get() {
            Some(uid) if !uid.is_empty() => uid.clone(),
            _ => content_id(raw)?,
        };
        let start = m
            .measurement_start_time_utc()
            .map_err(|e| StoreError::invalid(format!("measurement {id}"), e.to_string()))?;
        Ok(NewSocialMeasurement {
            report_id: m.report_id.get().cloned(),
            test_name: m.test_name().to_owned(),
            test_version: m.test_version.get().cloned(),
            input: m.input_str().map(str::to_owned),
            probe_cc: m.probe_cc.get().cloned().unwrap_or_else(|| "ZZ".to_owned()),
            probe_asn: m.probe_asn_number().unwrap_or(0),
            probe_network_name: m.probe_network_name.get().cloned(),
            measurement_start_time: start,
            software_name: m.software_name.get().cloned(),
            software_version: m.software_version.get().cloned(),
            raw_json: raw.to_vec(),
            verdict,
            id,
        })
    }
}

/// One UTC day of one service on one network ([`Store::social_series`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceDay {
    /// The service (test name).
    pub service: String,
    /// The network.
    pub asn: u32,
    /// The network's name, when known.
    pub network_name: Option<String>,
    /// The day.
    #[serde(with = "crate::types::iso_date")]
    pub day: Date,
    /// Measurements that day.
    pub measurements: u64,
    /// Of which reached the service (`ok`).
    pub reachable: u64,
    /// Of which were blocked.
    pub blocked: u64,
    /// `reachable / measurements`.
    pub share_reachable: f64,
}

/// The latest state of one service on one network ([`Store::social_latest`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceState {
    /// The service (test name).
    pub service: String,
    /// The network.
    pub asn: u32,
    /// The network's name, when known.
    pub network_name: Option<String>,
    /// Measurements in the window.
    pub measurements: u64,
    /// The latest measurement's id.
    pub measurement_id: String,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
    /// Its outcome.
    pub outcome: Outcome,
    /// Its layer.
    pub layer: Option<String>,
    /// Its kind.
    pub kind: Option<String>,
    /// OONI's headline for it.
    pub ooni_blocked: Option<bool>,
    /// OONI's keys of it.
    pub ooni_keys: Map<String, Value>,
    /// Its endpoints that were blocked.
    pub blocked_endpoints: Vec<String>,
    /// Every endpoint's label.
    pub endpoints: Vec<EndpointResult>,
    /// When blocked now: the first blocked measurement after the last ok one.
    #[serde(with = "time::serde::rfc3339::option")]
    pub blocked_since: Option<OffsetDateTime>,
    /// The last time the service was reached in the window.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_ok: Option<OffsetDateTime>,
}

/// A page seen restricted on one network, one way ([`Store::restricted_pages`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestrictedPage {
    /// The platform.
    pub platform: String,
    /// The page.
    pub url: String,
    /// Whose page.
    pub owner: Option<String>,
    /// Its category.
    pub category: Option<String>,
    /// `network_blocked` (the ISP) or `platform_restricted` (the platform).
    pub status: String,
    /// The network (the probe's vantage).
    pub asn: u32,
    /// The network's name, when known.
    pub network_name: Option<String>,
    /// First time seen so in the window.
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
    /// Last time seen so in the window.
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
    /// Measurements that saw it so.
    pub measurements: u64,
    /// Whether the page's latest check on this network (in the window) says so.
    pub current: bool,
    /// The status of that latest check.
    pub latest_status: String,
    /// The latest check restricting it: its matched fingerprint.
    pub fingerprint: Option<String>,
    /// … its layer (network blocking).
    pub layer: Option<String>,
    /// … its kind (network blocking).
    pub kind: Option<String>,
    /// … the reason in one sentence.
    pub reason: String,
    /// … what the probe saw.
    pub probe: PageSeen,
    /// … what the control saw.
    pub control: PageSeen,
    /// … its measurement id.
    pub measurement_id: String,
}

/// A stored social measurement's head and raw JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSocialMeasurement {
    /// Its id.
    pub id: String,
    /// Its test.
    pub test_name: String,
    /// Country.
    pub probe_cc: String,
    /// Network.
    pub probe_asn: u32,
    /// Start.
    #[serde(with = "time::serde::rfc3339")]
    pub measurement_start_time: OffsetDateTime,
    /// The raw JSON, byte for byte as stored.
    pub raw_json: String,
}

fn validate(m: &NewSocialMeasurement) -> Result<(), StoreError> {
    let what = format!(
        "measurement {}",
        m.id.chars().take(MAX_ID_BYTES).collect::<String>()
    );
    let fail = |reason: String| Err(StoreError::invalid(what.clone(), reason));
    if m.id.is_empty() {
        return fail("empty id".into());
    }
    check_len(&what, &m.id, MAX_ID_BYTES)?;
    if m.id.chars().any(char::is_control) {
        return fail("id contains control characters".into());
    }
    check_country(&what, &m.probe_cc)?;
    let v = &m.verdict;
    let messaging = SERVICE_TESTS.contains(&m.test_name.as_str());
    if !messaging && m.test_name != ACCOUNT_TEST_NAME {
        return fail(format!("test_name {:?} is not a social test", m.test_name));
    }
    if messaging != v.account.is_none() {
        return fail("an account result belongs to account checks only".into());
    }
    if v.service.is_empty() {
        return fail("empty service".into());
    }
    for field in [
        Some(&m.test_name),
        m.report_id.as_ref(),
        m.test_version.as_ref(),
        m.probe_network_name.as_ref(),
        m.software_name.as_ref(),
        m.software_version.as_ref(),
        Some(&v.rules_version),
        Some(&v.service),
        v.layer.as_ref(),
        v.kind.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        check_len(&what, field, MAX_FIELD_BYTES)?;
    }
    if let Some(input) = &m.input {
        check_len(&what, input, MAX_TEXT_BYTES)?;
    }
    check_len(&what, &v.explanation, MAX_TEXT_BYTES)?;
    if v.ooni_keys.len() > MAX_OONI_KEYS {
        return fail(format!("more than {MAX_OONI_KEYS} OONI keys"));
    }
    if v.endpoints.len() > MAX_ENDPOINTS {
        return fail(format!("more than {MAX_ENDPOINTS} endpoints"));
    }
    for e in &v.endpoints {
        for field in [Some(&e.endpoint), e.layer.as_ref(), e.kind.as_ref()]
            .into_iter()
            .flatten()
        {
            check_len(&what, field, MAX_TEXT_BYTES)?;
        }
        if let Some(f) = &e.failure {
            check_len(&what, f, MAX_TEXT_BYTES)?;
        }
    }
    if let Some(a) = &v.account {
        if !ACCOUNT_STATUSES.contains(&a.status.as_str()) {
            return fail(format!("account status {:?}", a.status));
        }
        if a.url.is_empty() || a.platform.is_empty() {
            return fail("an account check needs a platform and a URL".into());
        }
        for field in [
            Some(&a.platform),
            a.fingerprint.as_ref(),
            a.layer.as_ref(),
            a.kind.as_ref(),
            a.owner.as_ref(),
            a.category.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            check_len(&what, field, MAX_FIELD_BYTES)?;
        }
        for field in [
            Some(&a.url),
            Some(&a.reason),
            a.probe.failure.as_ref(),
            a.probe.final_url.as_ref(),
            a.probe.title.as_ref(),
            a.control.failure.as_ref(),
            a.control.final_url.as_ref(),
            a.control.title.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            check_len(&what, field, MAX_TEXT_BYTES)?;
        }
    }
    if m.measurement_start_time.unix_timestamp() < 0 {
        return fail("measurement_start_time before 1970".into());
    }
    if m.raw_json.len() > MAX_RAW_BYTES {
        return fail(format!(
            "raw measurement is {} bytes, at most {MAX_RAW_BYTES} allowed",
            m.raw_json.len()
        ));
    }
    if std::str::from_utf8(&m.raw_json).is_err() {
        return fail("raw measurement is not UTF-8".into());
    }
    Ok(())
}

struct Prepared<'a> {
    m: &'a NewSocialMeasurement,
    start: i64,
    raw_zstd: Vec<u8>,
    raw_len: i64,
    ooni_keys: String,
}

fn prepare<'a>(m: &'a NewSocialMeasurement) -> Result<Prepared<'a>, StoreError> {
    let raw_zstd = zstd::bulk::compress(&m.raw_json, ZSTD_LEVEL)
        .map_err(|e| StoreError::invalid("batch", format!("zstd: {e}")))?;
    let ooni_keys = serde_json::to_string(&m.verdict.ooni_keys)
        .map_err(|e| StoreError::invalid(format!("measurement {}", m.id), e.to_string()))?;
    check_len(
        &format!("OONI keys of {}", m.id),
        &ooni_keys,
        MAX_TEXT_BYTES,
    )?;
    Ok(Prepared {
        m,
        start: m.measurement_start_time.unix_timestamp(),
        raw_zstd,
        raw_len: m.raw_json.len() as i64,
        ooni_keys,
    })
}

fn opt_bool(v: Option<bool>) -> Option<i16> {
    v.map(i16::from)
}

fn status_of(s: Option<u16>) -> Option<i64> {
    s.map(i64::from)
}

fn time_of(id: &str, seconds: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(seconds)
        .map_err(|e| StoreError::corrupt(id, format!("time {seconds}: {e}")))
}

fn day_of(value: i64) -> Result<Date, StoreError> {
    let t = value
        .checked_mul(SECONDS_PER_DAY)
        .ok_or_else(|| StoreError::corrupt(value.to_string(), "day out of range"))?;
    Ok(time_of(&value.to_string(), t)?.date())
}

fn outcome_of(id: &str, s: &str) -> Result<Outcome, StoreError> {
    s.parse()
        .map_err(|_| StoreError::corrupt(id, format!("outcome {s:?}")))
}

fn keys_of(id: &str, text: &str) -> Result<Map<String, Value>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::corrupt(id, format!("ooni_keys: {e}")))
}

fn status_u16(v: Option<i64>) -> Option<u16> {
    v.and_then(|s| u16::try_from(s).ok())
}

/// `AND <alias>.col …` for the filters (ASN, window). `category` is applied
/// by the account queries only.
fn push_filters<DB: Database>(qb: &mut QueryBuilder<DB>, alias: &str, f: &Filters)
where
    for<'q> i64: Encode<'q, DB> + Type<DB>,
{
    if let Some(asn) = f.asn {
        qb.push(format_args!(" AND {alias}.probe_asn = "))
            .push_bind(i64::from(asn));
    }
    if let Some(from) = f.from {
        qb.push(format_args!(" AND {alias}.measurement_start_time >= "))
            .push_bind(from.unix_timestamp());
    }
    if let Some(to) = f.to {
        qb.push(format_args!(" AND {alias}.measurement_start_time < "))
            .push_bind(to.unix_timestamp());
    }
}

fn check_query(country: &str, f: &Filters) -> Result<(), StoreError> {
    check_country("country", country)?;
    if let Some(c) = &f.category {
        check_len("filter category", c, MAX_FIELD_BYTES)?;
    }
    Ok(())
}

const MESSAGING_IN: &str = "('facebook_messenger', 'whatsapp', 'telegram', 'signal')";

#[derive(sqlx::FromRow)]
struct LatestRow {
    seq: i64,
    id: String,
    service: String,
    probe_asn: i64,
    measurement_start_time: i64,
    outcome: String,
    layer: Option<String>,
    kind: Option<String>,
    ooni_blocked: Option<i16>,
    ooni_keys: String,
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: String,
    measurement_seq: i64,
    probe_asn: i64,
    platform: String,
    url: String,
    owner: Option<String>,
    category: Option<String>,
    status: String,
    fingerprint: Option<String>,
    layer: Option<String>,
    kind: Option<String>,
    reason: String,
    probe_failure: Option<String>,
    probe_status: Option<i64>,
    probe_final_url: Option<String>,
    probe_title: Option<String>,
    control_failure: Option<String>,
    control_status: Option<i64>,
    control_final_url: Option<String>,
    control_title: Option<String>,
}

impl AccountRow {
    fn into_result(self) -> AccountResult {
        AccountResult {
            platform: self.platform,
            url: self.url,
            owner: self.owner,
            category: self.category,
            status: self.status,
            fingerprint: self.fingerprint,
            layer: self.layer,
            kind: self.kind,
            reason: self.reason,
            probe: PageSeen {
                failure: self.probe_failure,
                status: status_u16(self.probe_status),
                final_url: self.probe_final_url,
                title: self.probe_title,
            },
            control: PageSeen {
                failure: self.control_failure,
                status: status_u16(self.control_status),
                final_url: self.control_final_url,
                title: self.control_title,
            },
        }
    }
}

/// Reads the verdict stored for the social measurement `$seq` (id `$id`,
/// for errors) through `$conn` (a pool or `&mut *tx`), inside a
/// `with_backend!` body: its head, endpoints in order, account result.
/// One definition for [`Store::social_verdict`] and
/// [`Store::replace_social_verdicts`].
macro_rules! read_stored_verdict {
    ($conn:expr, $id:expr, $seq:expr) => {{
        let (id, seq): (&str, i64) = ($id, $seq);
        type Head = (
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<i16>,
            String,
            String,
        );
        let head: Head = sqlx::query_as(
            "SELECT service, rules_version, outcome, layer, kind, ooni_blocked, ooni_keys, \
             explanation FROM social_measurements WHERE seq = $1",
        )
        .bind(seq)
        .fetch_one($conn)
        .await?;
        type Ep = (
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let eps: Vec<Ep> = sqlx::query_as(
            "SELECT endpoint, outcome, layer, kind, failure FROM social_endpoints \
             WHERE measurement_seq = $1 ORDER BY position",
        )
        .bind(seq)
        .fetch_all($conn)
        .await?;
        let account: Option<AccountRow> = sqlx::query_as(
            "SELECT s.id, m.measurement_seq, m.probe_asn, m.platform, m.url, m.owner, \
             m.category, m.status, m.fingerprint, m.layer, m.kind, m.reason, \
             m.probe_failure, m.probe_status, m.probe_final_url, m.probe_title, \
             m.control_failure, m.control_status, m.control_final_url, m.control_title \
             FROM social_accounts m JOIN social_measurements s ON s.seq = m.measurement_seq \
             WHERE m.measurement_seq = $1",
        )
        .bind(seq)
        .fetch_optional($conn)
        .await?;
        let (service, rules_version, outcome, layer, kind, ooni_blocked, keys, explanation) = head;
        SocialVerdictRow {
            rules_version,
            service,
            outcome: outcome_of(id, &outcome)?,
            layer,
            kind,
            ooni_blocked: ooni_blocked.map(|b| b != 0),
            ooni_keys: keys_of(id, &keys)?,
            explanation,
            endpoints: eps
                .into_iter()
                .map(|(endpoint, outcome, layer, kind, failure)| {
                    Ok(EndpointResult {
                        outcome: outcome_of(id, &outcome)?,
                        endpoint,
                        layer,
                        kind,
                        failure,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            account: account.map(AccountRow::into_result),
        }
    }};
}

impl Store {
    /// Stores social measurements in ONE transaction (all or nothing),
    /// committed before returning. Idempotent: an id already stored (or
    /// repeated in the batch) is a duplicate and changes nothing. Every
    /// measurement is validated before anything is written. The probe's
    /// network name is recorded in `networks` when the ASN has none yet.
    pub async fn insert_social_batch(
        &self,
        batch: &[NewSocialMeasurement],
    ) -> Result<InsertReport, StoreError> {
        let mut seen = HashSet::with_capacity(batch.len());
        let mut rows = Vec::with_capacity(batch.len());
        let mut duplicates = 0u64;
        for m in batch {
            validate(m)?;
            if !seen.insert(m.id.as_str()) {
                duplicates += 1;
                continue;
            }
            rows.push(prepare(m)?);
        }
        if rows.is_empty() {
            return Ok(InsertReport {
                inserted: 0,
                duplicates,
            });
        }
        let received_at = OffsetDateTime::now_utc().unix_timestamp();
        let inserted = with_backend!(self, pool, Db => {
            let mut tx = pool.begin_write().await?;
            let mut fresh: HashMap<String, i64> = HashMap::with_capacity(rows.len());
            for chunk in rows.chunks(ROWS_PER_STATEMENT / 2) {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO social_measurements (id, report_id, test_name, test_version, \
                     input, probe_cc, probe_asn, probe_network_name, measurement_start_time, day, \
                     software_name, software_version, service, rules_version, outcome, layer, \
                     kind, ooni_blocked, ooni_keys, explanation, raw_zstd, raw_len, received_at) ",
                );
                qb.push_values(chunk, |mut b, r| {
                    let m = r.m;
                    let v = &m.verdict;
                    b.push_bind(m.id.clone())
                        .push_bind(m.report_id.clone())
                        .push_bind(m.test_name.clone())
                        .push_bind(m.test_version.clone())
                        .push_bind(m.input.clone())
                        .push_bind(m.probe_cc.clone())
                        .push_bind(i64::from(m.probe_asn))
                        .push_bind(m.probe_network_name.clone())
                        .push_bind(r.start)
                        .push_bind(r.start.div_euclid(SECONDS_PER_DAY))
                        .push_bind(m.software_name.clone())
                        .push_bind(m.software_version.clone())
                        .push_bind(v.service.clone())
                        .push_bind(v.rules_version.clone())
                        .push_bind(v.outcome.as_str())
                        .push_bind(v.layer.clone())
                        .push_bind(v.kind.clone())
                        .push_bind(opt_bool(v.ooni_blocked))
                        .push_bind(r.ooni_keys.clone())
                        .push_bind(v.explanation.clone())
                        .push_bind(r.raw_zstd.clone())
                        .push_bind(r.raw_len)
                        .push_bind(received_at);
                });
                qb.push(" ON CONFLICT (id) DO NOTHING RETURNING id, seq");
                let ids: Vec<(String, i64)> = qb.build_query_as().fetch_all(&mut *tx).await?;
                fresh.extend(ids);
            }
            let new_rows: Vec<(i64, &Prepared<'_>)> = rows
                .iter()
                .filter_map(|r| fresh.get(&r.m.id).map(|seq| (*seq, r)))
                .collect();
            let endpoints: Vec<(i64, usize, &EndpointResult)> = new_rows
                .iter()
                .flat_map(|(seq, r)| {
                    r.m.verdict.endpoints.iter().enumerate().map(move |(i, e)| (*seq, i, e))
                })
                .collect();
            for chunk in endpoints.chunks(ROWS_PER_STATEMENT) {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO social_endpoints (measurement_seq, position, endpoint, outcome, \
                     layer, kind, failure) ",
                );
                qb.push_values(chunk, |mut b, (seq, i, e)| {
                    b.push_bind(*seq)
                        .push_bind(*i as i64)
                        .push_bind(e.endpoint.clone())
                        .push_bind(e.outcome.as_str())
                        .push_bind(e.layer.clone())
                        .push_bind(e.kind.clone())
                        .push_bind(e.failure.clone());
                });
                qb.build().execute(&mut *tx).await?;
            }
            let accounts: Vec<(i64, &Prepared<'_>, &AccountResult)> = new_rows
                .iter()
                .filter_map(|(seq, r)| r.m.verdict.account.as_ref().map(|a| (*seq, *r, a)))
                .collect();
            for chunk in accounts.chunks(ROWS_PER_STATEMENT / 2) {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO social_accounts (measurement_seq, probe_cc, probe_asn, \
                     measurement_start_time, platform, url, owner, category, status, fingerprint, \
                     layer, kind, reason, probe_failure, probe_status, probe_final_url, \
                     probe_title, control_failure, control_status, control_final_url, \
                     control_title) ",
                );
                qb.push_values(chunk, |mut b, (seq, r, a)| {
                    b.push_bind(*seq)
                        .push_bind(r.m.probe_cc.clone())
                        .push_bind(i64::from(r.m.probe_asn))
                        .push_bind(r.start)
                        .push_bind(a.platform.clone())
                        .push_bind(a.url.clone())
                        .push_bind(a.owner.clone())
                        .push_bind(a.category.clone())
                        .push_bind(a.status.clone())
                        .push_bind(a.fingerprint.clone())
                        .push_bind(a.layer.clone())
                        .push_bind(a.kind.clone())
                        .push_bind(a.reason.clone())
                        .push_bind(a.probe.failure.clone())
                        .push_bind(status_of(a.probe.status))
                        .push_bind(a.probe.final_url.clone())
                        .push_bind(a.probe.title.clone())
                        .push_bind(a.control.failure.clone())
                        .push_bind(status_of(a.control.status))
                        .push_bind(a.control.final_url.clone())
                        .push_bind(a.control.title.clone());
                });
                qb.build().execute(&mut *tx).await?;
            }
            let mut networks: BTreeMap<i64, &str> = BTreeMap::new();
            for (_, r) in &new_rows {
                if let (Some(name), true) = (r.m.probe_network_name.as_deref(), r.m.probe_asn != 0) {
                    networks.insert(i64::from(r.m.probe_asn), name);
                }
            }
            insert_probe_networks(&mut tx, &networks, received_at).await?;
            tx.commit().await?;
            new_rows.len() as u64
        });
        let report = InsertReport {
            inserted,
            duplicates: duplicates + (rows.len() as u64 - inserted),
        };
        debug!(
            inserted = report.inserted,
            duplicates = report.duplicates,
            "insert_social_batch"
        );
        Ok(report)
    }

    /// Number of stored social measurements.
    pub async fn social_count(&self) -> Result<u64, StoreError> {
        let n: i64 = with_backend!(self, pool, Db => {
            sqlx::query_scalar("SELECT COUNT(*) FROM social_measurements").fetch_one(pool).await?
        });
        Ok(n.max(0) as u64)
    }

    /// One social measurement with its raw JSON, byte for byte.
    pub async fn social_measurement(
        &self,
        id: &str,
    ) -> Result<Option<StoredSocialMeasurement>, StoreError> {
        check_len("measurement id", id, MAX_ID_BYTES)?;
        type Row = (String, String, i64, i64, Vec<u8>, i64);
        let row: Option<Row> = with_backend!(self, pool, Db => {
            sqlx::query_as(
                "SELECT test_name, probe_cc, probe_asn, measurement_start_time, raw_zstd, raw_len \
                 FROM social_measurements WHERE id = $1",
            )
            .bind(id.to_owned())
            .fetch_optional(pool)
            .await?
        });
        let Some((test_name, probe_cc, asn, start, zstd, len)) = row else {
            return Ok(None);
        };
        let raw = decompress(id, &zstd, len)?;
        let raw_json =
            String::from_utf8(raw).map_err(|_| StoreError::corrupt(id, "raw JSON is not UTF-8"))?;
        Ok(Some(StoredSocialMeasurement {
            id: id.to_owned(),
            test_name,
            probe_cc,
            probe_asn: to_asn(asn)?,
            measurement_start_time: time_of(id, start)?,
            raw_json,
        }))
    }

    /// The verdict stored for a social measurement: what was decided when
    /// it arrived or by the last `canary reanalyse` (with its rules
    /// version), row for row; `None` when `id` is not a stored social
    /// measurement. Read in one transaction (never half of a reanalysis).
    pub async fn social_verdict(&self, id: &str) -> Result<Option<SocialVerdictRow>, StoreError> {
        check_len("measurement id", id, MAX_ID_BYTES)?;
        with_backend!(self, pool, Db => {
            let mut tx = pool.begin().await?;
            let seq: Option<i64> =
                sqlx::query_scalar("SELECT seq FROM social_measurements WHERE id = $1")
                    .bind(id.to_owned())
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(seq) = seq else {
                return Ok(None);
            };
            let verdict = read_stored_verdict!(&mut *tx, id, seq);
            tx.commit().await?;
            Ok(Some(verdict))
        })
    }

    /// Up to `limit` (at most 10,000) raw social measurements with ids
    /// greater than `after`, in id order: the cursor for re-judging stored
    /// measurements when the rules improve (with
    /// [`Store::replace_social_verdicts`]).
    pub async fn social_raw_batch(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RawMeasurement>, StoreError> {
        self.raw_batch_of(
            "SELECT id, raw_zstd, raw_len FROM social_measurements WHERE id > $1 \
             ORDER BY id LIMIT $2",
            after,
            limit,
        )
        .await
    }

    /// Replaces stored social verdicts by recomputed ones, in ONE
    /// transaction (all or nothing, each validated first). A verdict equal
    /// to the stored one (summary, OONI keys, endpoints, account result) is
    /// left alone; an id not stored is counted as missing.
    pub async fn replace_social_verdicts(
        &self,
        verdicts: &[(String, SocialVerdictRow)],
    ) -> Result<ReplaceReport, StoreError> {
        let mut report = ReplaceReport::default();
        with_backend!(self, pool, Db => {
            let mut tx = pool.begin_write().await?;
            for (id, v) in verdicts {
                check_len("measurement id", id, MAX_ID_BYTES)?;
                let row: Option<(i64, String, String)> = sqlx::query_as(
                    "SELECT seq, test_name, probe_cc FROM social_measurements WHERE id = $1",
                )
                .bind(id.clone())
                .fetch_optional(&mut *tx)
                .await?;
                let Some((seq, test_name, probe_cc)) = row else {
                    report.missing += 1;
                    continue;
                };
                let check = NewSocialMeasurement {
                    id: id.clone(),
                    test_name,
                    probe_cc,
                    ..NewSocialMeasurement::new(v.clone())
                };
                validate(&check)?;
                let stored = read_stored_verdict!(&mut *tx, id, seq);
                if &stored == v {
                    report.unchanged += 1;
                    continue;
                }
                let keys = serde_json::to_string(&v.ooni_keys)
                    .map_err(|e| StoreError::invalid(format!("measurement {id}"), e.to_string()))?;
                check_len(&format!("OONI keys of {id}"), &keys, MAX_TEXT_BYTES)?;
                sqlx::query(
                    "UPDATE social_measurements SET service = $1, rules_version = $2, \
                     outcome = $3, layer = $4, kind = $5, ooni_blocked = $6, ooni_keys = $7, \
                     explanation = $8 WHERE seq = $9",
                )
                .bind(v.service.clone())
                .bind(v.rules_version.clone())
                .bind(v.outcome.as_str())
                .bind(v.layer.clone())
                .bind(v.kind.clone())
                .bind(opt_bool(v.ooni_blocked))
                .bind(keys)
                .bind(v.explanation.clone())
                .bind(seq)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM social_endpoints WHERE measurement_seq = $1")
                    .bind(seq)
                    .execute(&mut *tx)
                    .await?;
                for (i, e) in v.endpoints.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO social_endpoints (measurement_seq, position, endpoint, \
                         outcome, layer, kind, failure) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(seq)
                    .bind(i as i64)
                    .bind(e.endpoint.clone())
                    .bind(e.outcome.as_str())
                    .bind(e.layer.clone())
                    .bind(e.kind.clone())
                    .bind(e.failure.clone())
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some(a) = &v.account {
                    sqlx::query(
                        "UPDATE social_accounts SET platform = $1, url = $2, owner = $3, \
                         category = $4, status = $5, fingerprint = $6, layer = $7, kind = $8, \
                         reason = $9, probe_failure = $10, probe_status = $11, \
                         probe_final_url = $12, probe_title = $13, control_failure = $14, \
                         control_status = $15, control_final_url = $16, control_title = $17 \
                         WHERE measurement_seq = $18",
                    )
                    .bind(a.platform.clone())
                    .bind(a.url.clone())
                    .bind(a.owner.clone())
                    .bind(a.category.clone())
                    .bind(a.status.clone())
                    .bind(a.fingerprint.clone())
                    .bind(a.layer.clone())
                    .bind(a.kind.clone())
                    .bind(a.reason.clone())
                    .bind(a.probe.failure.clone())
                    .bind(status_of(a.probe.status))
                    .bind(a.probe.final_url.clone())
                    .bind(a.probe.title.clone())
                    .bind(a.control.failure.clone())
                    .bind(status_of(a.control.status))
                    .bind(a.control.final_url.clone())
                    .bind(a.control.title.clone())
                    .bind(seq)
                    .execute(&mut *tx)
                    .await?;
                }
                report.changed += 1;
            }
            tx.commit().await?;
        });
        Ok(report)
    }

    async fn network_names(&self, asns: &[i64]) -> Result<HashMap<i64, String>, StoreError> {
        if asns.is_empty() {
            return Ok(HashMap::new());
        }
        let mut out = HashMap::new();
        for chunk in asns.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<(i64, String)> = with_backend!(self, pool, Db => {
                let mut qb = QueryBuilder::<Db>::new("SELECT asn, name FROM networks WHERE asn IN (");
                let mut sep = qb.separated(", ");
                for a in chunk {
                    sep.push_bind(*a);
                }
                qb.push(")");
                qb.build_query_as().fetch_all(pool).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// Per service × network × UTC day of `country`: measurements, how
    /// many reached the service (`ok`) and how many were blocked, for the
    /// four messaging tests. Ordered by service, ASN, day; days without
    /// measurements are absent.
    pub async fn social_series(
        &self,
        country: &str,
        filters: &Filters,
    ) -> Result<Vec<ServiceDay>, StoreError> {
        check_query(country, filters)?;
        let rows: Vec<(String, i64, i64, i64, i64, i64)> = with_backend!(self, pool, Db => {
            let mut qb = QueryBuilder::<Db>::new(
                "SELECT m.service, m.probe_asn, m.day, COUNT(*), \
                 CAST(SUM(CASE WHEN m.outcome = 'ok' THEN 1 ELSE 0 END) AS BIGINT), \
                 CAST(SUM(CASE WHEN m.outcome = 'blocked' THEN 1 ELSE 0 END) AS BIGINT) \
                 FROM social_measurements m WHERE m.probe_cc = ",
            );
            qb.push_bind(country.to_owned());
            qb.push(format_args!(" AND m.test_name IN {MESSAGING_IN}"));
            push_filters(&mut qb, "m", filters);
            qb.push(" GROUP BY m.service, m.probe_asn, m.day ORDER BY m.service, m.probe_asn, m.day");
            qb.push(" LIMIT ").push_bind(MAX_GROUPS as i64 * 10);
            qb.build_query_as().fetch_all(pool).await?
        });
        let asns: Vec<i64> = rows
            .iter()
            .map(|r| r.1)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let names = self.network_names(&asns).await?;
        rows.into_iter()
            .map(|(service, asn, day, n, ok, blocked)| {
                let (n, ok, blocked) = (n.max(0) as u64, ok.max(0) as u64, blocked.max(0) as u64);
                Ok(ServiceDay {
                    network_name: names.get(&asn).cloned(),
                    asn: to_asn(asn)?,
                    day: day_of(day)?,
                    measurements: n,
                    reachable: ok,
                    blocked,
                    share_reachable: if n == 0 { 0.0 } else { ok as f64 / n as f64 },
                    service,
                })
            })
            .collect()
    }

    /// Per service × network of `country` (messaging tests): the latest
    /// measurement in the window with its endpoints, the number of
    /// measurements, the last time the service was reached and — when the
    /// latest is blocked — the first blocked measurement after that.
    /// Ordered by service, then ASN.
    pub async fn social_latest(
        &self,
        country: &str,
        filters: &Filters,
    ) -> Result<Vec<ServiceState>, StoreError> {
        check_query(country, filters)?;
        type Agg = (String, i64, i64, Option<i64>);
        let aggs: Vec<Agg> = with_backend!(self, pool, Db => {
            let mut qb = QueryBuilder::<Db>::new(
                "SELECT m.service, m.probe_asn, COUNT(*), \
                 MAX(CASE WHEN m.outcome = 'ok' THEN m.measurement_start_time END) \
                 FROM social_measurements m WHERE m.probe_cc = ",
            );
            qb.push_bind(country.to_owned());
            qb.push(format_args!(" AND m.test_name IN {MESSAGING_IN}"));
            push_filters(&mut qb, "m", filters);
            qb.push(" GROUP BY m.service, m.probe_asn ORDER BY m.service, m.probe_asn LIMIT ");
            qb.push_bind(MAX_GROUPS as i64);
            qb.build_query_as().fetch_all(pool).await?
        });
        // The latest measurement of each group: the group's newest time,
        // joined back through the index (ties: the last stored wins).
        let latest: Vec<LatestRow> = with_backend!(self, pool, Db => {
            let mut qb = QueryBuilder::<Db>::new(
                "SELECT m.seq, m.id, m.service, m.probe_asn, m.measurement_start_time, m.outcome, \
                 m.layer, m.kind, m.ooni_blocked, m.ooni_keys FROM social_measurements m JOIN \
                 (SELECT n.test_name, n.service, n.probe_asn, MAX(n.measurement_start_time) AS t \
                 FROM social_measurements n WHERE n.probe_cc = ",
            );
            qb.push_bind(country.to_owned());
            qb.push(format_args!(" AND n.test_name IN {MESSAGING_IN}"));
            push_filters(&mut qb, "n", filters);
            qb.push(
                " GROUP BY n.test_name, n.service, n.probe_asn) g ON m.test_name = g.test_name \
                 AND m.service = g.service AND m.probe_asn = g.probe_asn \
                 AND m.measurement_start_time = g.t WHERE m.probe_cc = ",
            );
            qb.push_bind(country.to_owned());
            qb.push(" LIMIT ").push_bind(MAX_GROUPS as i64 * 4);
            qb.build_query_as().fetch_all(pool).await?
        });
        let mut newest: HashMap<(String, i64), LatestRow> = HashMap::new();
        for r in latest {
            let key = (r.service.clone(), r.probe_asn);
            if newest.get(&key).is_none_or(|o| o.seq < r.seq) {
                newest.insert(key, r);
            }
        }
        let latest: Vec<LatestRow> = newest.into_values().collect();
        let seqs: Vec<i64> = latest.iter().map(|r| r.seq).collect();
        let mut endpoints: HashMap<i64, Vec<EndpointResult>> = HashMap::new();
        for chunk in seqs.chunks(ROWS_PER_STATEMENT) {
            type E = (
                i64,
                String,
                String,
                Option<String>,
                Option<String>,
                Option<String>,
            );
            let rows: Vec<E> = with_backend!(self, pool, Db => {
                let mut qb = QueryBuilder::<Db>::new(
                    "SELECT measurement_seq, endpoint, outcome, layer, kind, failure \
                     FROM social_endpoints WHERE measurement_seq IN (",
                );
                let mut sep = qb.separated(", ");
                for s in chunk {
                    sep.push_bind(*s);
                }
                qb.push(") ORDER BY measurement_seq, position");
                qb.build_query_as().fetch_all(pool).await?
            });
            for (seq, endpoint, outcome, layer, kind, failure) in rows {
                let outcome = outcome_of(&endpoint, &outcome)?;
                endpoints.entry(seq).or_default().push(EndpointResult {
                    endpoint,
                    outcome,
                    layer,
                    kind,
                    failure,
                });
            }
        }
        let asns: Vec<i64> = aggs
            .iter()
            .map(|a| a.1)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let names = self.network_names(&asns).await?;
        let mut by_group: HashMap<(String, i64), LatestRow> = latest
            .into_iter()
            .map(|r| ((r.service.clone(), r.probe_asn), r))
            .collect();
        let mut out = Vec::with_capacity(aggs.len());
        for (service, asn, n, last_ok) in aggs {
            let Some(row) = by_group.remove(&(service.clone(), asn)) else {
                continue;
            };
            let outcome = outcome_of(&row.id, &row.outcome)?;
            let blocked_since = if outcome == Outcome::Blocked {
                let first: Option<i64> = with_backend!(self, pool, Db => {
                    let mut qb = QueryBuilder::<Db>::new(
                        "SELECT MIN(m.measurement_start_time) FROM social_measurements m \
                         WHERE m.probe_cc = ",
                    );
                    qb.push_bind(country.to_owned());
                    qb.push(" AND m.test_name = ").push_bind(service.clone());
                    qb.push(" AND m.service = ").push_bind(service.clone());
                    qb.push(" AND m.probe_asn = ").push_bind(asn);
                    qb.push(" AND m.outcome = 'blocked'");
                    if let Some(ok) = last_ok {
                        qb.push(" AND m.measurement_start_time > ").push_bind(ok);
                    }
                    push_filters(&mut qb, "m", filters);
                    qb.build_query_scalar().fetch_one(pool).await?
                });
                first.map(|t| time_of(&row.id, t)).transpose()?
            } else {
                None
            };
            let eps = endpoints.remove(&row.seq).unwrap_or_default();
            out.push(ServiceState {
                network_name: names.get(&asn).cloned(),
                asn: to_asn(asn)?,
                measurements: n.max(0) as u64,
                last_seen: time_of(&row.id, row.measurement_start_time)?,
                outcome,
                layer: row.layer,
                kind: row.kind,
                ooni_blocked: row.ooni_blocked.map(|b| b != 0),
                ooni_keys: keys_of(&row.id, &row.ooni_keys)?,
                blocked_endpoints: eps
                    .iter()
                    .filter(|e| e.outcome == Outcome::Blocked)
                    .map(|e| e.endpoint.clone())
                    .collect(),
                endpoints: eps,
                blocked_since,
                last_ok: last_ok.map(|t| time_of(&row.id, t)).transpose()?,
                measurement_id: row.id,
                service,
            });
        }
        Ok(out)
    }

    /// Every page/account of `country` seen restricted (network-blocked or
    /// platform-restricted) in the window: one row per page × network ×
    /// status, with the first and last time seen so, how many checks saw
    /// it so, whether the page's latest check on that network still says
    /// so, and the evidence of the latest check that did (what the probe
    /// and the control saw, the matched fingerprint or the failure).
    /// `filters.category` narrows to the accounts file's category. Ordered
    /// by status, platform, URL, ASN.
    pub async fn restricted_pages(
        &self,
        country: &str,
        filters: &Filters,
    ) -> Result<Vec<RestrictedPage>, StoreError> {
        check_query(country, filters)?;
        let restricted = "('network_blocked', 'platform_restricted')";
        type Agg = (String, i64, String, i64, i64, i64);
        let aggs: Vec<Agg> = with_backend!(self, pool, Db => {
            let mut qb = QueryBuilder::<Db>::new(
                "SELECT m.url, m.probe_asn, m.status, MIN(m.measurement_start_time), \
                 MAX(m.measurement_start_time), COUNT(*) FROM social_accounts m WHERE m.probe_cc = ",
            );
            qb.push_bind(country.to_owned());
            qb.push(format_args!(" AND m.status IN {restricted}"));
            push_filters(&mut qb, "m", filters);
            if let Some(c) = &filters.category {
                qb.push(" AND m.category = ").push_bind(c.clone());
            }
            qb.push(" GROUP BY m.url, m.probe_asn, m.status ORDER BY m.status, m.url, m.probe_asn LIMIT ");
            qb.push_bind(MAX_GROUPS as i64);
            qb.build_query_as().fetch_all(pool).await?
        });
        // The latest check of each (page, network, status), and of each
        // (page, network) whatever its status: the group's newest time,
        // joined back through the index (ties: the last stored wins).
        let latest = |by_status: bool| {
            let filters = filters.clone();
            let country = country.to_owned();
            async move {
                let group = if by_status {
                    "n.url, n.probe_asn, n.status"
                } else {
                    "n.url, n.probe_asn"
                };
                let rows: Vec<AccountRow> = with_backend!(self, pool, Db => {
                    let mut qb = QueryBuilder::<Db>::new(format!(
                        "SELECT s.id, m.measurement_seq, m.probe_asn, m.platform, m.url, \
                         m.owner, m.category, m.status, m.fingerprint, m.layer, m.kind, m.reason, \
                         m.probe_failure, m.probe_status, m.probe_final_url, m.probe_title, \
                         m.control_failure, m.control_status, m.control_final_url, m.control_title \
                         FROM social_accounts m JOIN (SELECT {group}, \
                         MAX(n.measurement_start_time) AS t FROM social_accounts n WHERE n.probe_cc = "
                    ));
                    qb.push_bind(country.clone());
                    if by_status {
                        qb.push(format_args!(" AND n.status IN {restricted}"));
                    }
                    push_filters(&mut qb, "n", &filters);
                    if let Some(c) = &filters.category {
                        qb.push(" AND n.category = ").push_bind(c.clone());
                    }
                    qb.push(format_args!(
                        " GROUP BY {group}) g ON m.url = g.url AND m.probe_asn = g.probe_asn \
                         AND m.measurement_start_time = g.t{} \
                         JOIN social_measurements s ON s.seq = m.measurement_seq WHERE m.probe_cc = ",
                        if by_status { " AND m.status = g.status" } else { "" }
                    ));
                    qb.push_bind(country.clone());
                    if let Some(c) = &filters.category {
                        qb.push(" AND m.category = ").push_bind(c.clone());
                    }
                    qb.push(" LIMIT ").push_bind(MAX_GROUPS as i64 * 4);
                    qb.build_query_as().fetch_all(pool).await?
                });
                Ok::<_, StoreError>(rows)
            }
        };
        // keeps the last stored row of each key
        fn newest<K: std::hash::Hash + Eq>(
            rows: Vec<AccountRow>,
            key: impl Fn(&AccountRow) -> K,
        ) -> HashMap<K, AccountRow> {
            let mut out: HashMap<K, AccountRow> = HashMap::new();
            for r in rows {
                let k = key(&r);
                if out
                    .get(&k)
                    .is_none_or(|o| o.measurement_seq < r.measurement_seq)
                {
                    out.insert(k, r);
                }
            }
            out
        }
        let mut evidence = newest(latest(true).await?, |r| {
            (r.url.clone(), r.probe_asn, r.status.clone())
        });
        let current: HashMap<(String, i64), String> =
            newest(latest(false).await?, |r| (r.url.clone(), r.probe_asn))
                .into_iter()
                .map(|(k, r)| (k, r.status))
                .collect();
        let asns: Vec<i64> = aggs
            .iter()
            .map(|a| a.1)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let names = self.network_names(&asns).await?;
        let mut out = Vec::with_capacity(aggs.len());
        for (url, asn, status, first, last, n) in aggs {
            let Some(e) = evidence.remove(&(url.clone(), asn, status.clone())) else {
                continue;
            };
            let latest_status = current
                .get(&(url.clone(), asn))
                .cloned()
                .unwrap_or_else(|| status.clone());
            out.push(RestrictedPage {
                platform: e.platform,
                owner: e.owner,
                category: e.category,
                current: latest_status == status,
                latest_status,
                network_name: names.get(&asn).cloned(),
                asn: to_asn(asn)?,
                first_seen: time_of(&e.id, first)?,
                last_seen: time_of(&e.id, last)?,
                measurements: n.max(0) as u64,
                fingerprint: e.fingerprint,
                layer: e.layer,
                kind: e.kind,
                reason: e.reason,
                probe: PageSeen {
                    failure: e.probe_failure,
                    status: status_u16(e.probe_status),
                    final_url: e.probe_final_url,
                    title: e.probe_title,
                },
                control: PageSeen {
                    failure: e.control_failure,
                    status: status_u16(e.control_status),
                    final_url: e.control_final_url,
                    title: e.control_title,
                },
                measurement_id: e.id,
                status,
                url,
            });
        }
        Ok(out)
    }
}
