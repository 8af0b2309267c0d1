//! Plain data going into and coming out of the store.

use std::fmt;
use std::str::FromStr;

use canary_model::{Blocking, Measurement};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Date, OffsetDateTime};

use crate::StoreError;

/// Longest accepted raw measurement, in bytes (uncompressed).
pub const MAX_RAW_BYTES: usize = 16 * 1024 * 1024;
/// Longest accepted measurement id, in bytes.
pub const MAX_ID_BYTES: usize = 256;
/// Longest accepted short text field (names, versions, codes, domain), in bytes.
pub const MAX_FIELD_BYTES: usize = 1024;
/// Longest accepted long text field (input URL, explanation), in bytes.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;

/// Canary's coarse label of one measurement.
///
/// `Ok` and `Blocked` are *decisive*: only they decide whether a site is
/// "blocked now" (see [`crate::Store::blocked_now`]). `Down` (the site failed
/// for the control too) and `Unknown` (the probe could not decide) are
/// counted but never start or end a run of blocking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The site was reachable and looked like the control's.
    Ok,
    /// Blocking was seen at some layer.
    Blocked,
    /// The site was down for everyone (the control failed too).
    Down,
    /// The measurement could not decide.
    Unknown,
}

impl Outcome {
    /// The stored text form: `ok`, `blocked`, `down`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Blocked => "blocked",
            Outcome::Down => "down",
            Outcome::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        match s {
            "ok" => Ok(Outcome::Ok),
            "blocked" => Ok(Outcome::Blocked),
            "down" => Ok(Outcome::Down),
            "unknown" => Ok(Outcome::Unknown),
            other => Err(StoreError::invalid(
                "outcome",
                format!("{other:?} is not one of ok, blocked, down, unknown"),
            )),
        }
    }
}

/// A verdict as stored: plain data, independent of the analysis crate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredVerdict {
    /// Version of the rules that produced it (`RULES_VERSION`).
    pub rules_version: String,
    /// OONI-compatible `blocking`: `None` is JSON `null` (undecided),
    /// `Some(Blocking::NotBlocked)` is `false`.
    pub blocking: Option<Blocking>,
    /// OONI-compatible `accessible` (`None` is `null`).
    pub accessible: Option<bool>,
    /// Canary's coarse label.
    pub outcome: Outcome,
    /// Where blocking was seen (`dns`, `tcp`, `tls`, `http`), if anywhere.
    pub layer: Option<String>,
    /// How (`nxdomain`, `reset`, `blockpage`, …), if blocked.
    pub kind: Option<String>,
    /// A blockpage fingerprint confirmed the blocking.
    pub confirmed: bool,
    /// Name of the fingerprint that matched, if any.
    pub fingerprint: Option<String>,
    /// One sentence a non-engineer understands.
    pub explanation: String,
    /// Ids of the rules that fired, in order.
    pub rules_fired: Vec<String>,
}

/// One measurement ready to be stored: the raw OONI JSON, the fields the
/// views index, and its verdict.
///
/// Build it with [`NewMeasurement::from_measurement`] or fill the fields
/// yourself (the benchmark does). The store validates every field on insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMeasurement {
    /// `measurement_uid`, else [`content_id`] of the raw JSON.
    pub id: String,
    /// OONI `report_id`.
    pub report_id: Option<String>,
    /// OONI `test_name` (`web_connectivity`).
    pub test_name: String,
    /// OONI `test_version`.
    pub test_version: Option<String>,
    /// The measured input (a URL for web_connectivity).
    pub input: Option<String>,
    /// Lower-case host of `input`, when it is a URL.
    pub domain: Option<String>,
    /// Two upper-case letters (`ZZ` when unknown).
    pub probe_cc: String,
    /// The probe's ASN (0 when unknown).
    pub probe_asn: u32,
    /// The probe network's name (also recorded in `networks`).
    pub probe_network_name: Option<String>,
    /// The resolver's ASN.
    pub resolver_asn: Option<u32>,
    /// When the measurement started (UTC).
    pub measurement_start_time: OffsetDateTime,
    /// `ooniprobe-cli`, `canary`, …
    pub software_name: Option<String>,
    /// The software's version.
    pub software_version: Option<String>,
    /// Citizen Lab category of the input, when a test list knows it.
    pub category_code: Option<String>,
    /// The measurement exactly as received; stored zstd-compressed and given
    /// back byte for byte.
    pub raw_json: Vec<u8>,
    /// The current verdict.
    pub verdict: StoredVerdict,
}

impl NewMeasurement {
    /// Extracts the indexed fields from a parsed measurement.
    ///
    /// `raw` must be the bytes `m` was parsed from (they are what is kept);
    /// the id is `measurement_uid` when present, else [`content_id`]`(raw)`.
    /// Fails when `measurement_start_time` is missing or malformed.
    pub fn from_measurement(
        m: &Measurement,
        raw: &[u8],
        category_code: Option<String>,
        verdict: StoredVerdict,
    ) -> Result<NewMeasurement, StoreError> {
        let id = match m.measurement_uid.get() {
            Some(uid) if !uid.is_empty() => uid.clone(),
            _ => content_id(raw)?,
        };
        let start = m
            .measurement_start_time_utc()
            .map_err(|e| StoreError::invalid(format!("measurement {id}"), e.to_string()))?;
        let input = m.input_str().map(str::to_owned);
        let domain = input.as_deref().and_then(domain_of);
        Ok(NewMeasurement {
            report_id: m.report_id.get().cloned(),
            test_name: m.test_name().to_owned(),
            test_version: m.test_version.get().cloned(),
            domain,
            input,
            probe_cc: m.probe_cc.get().cloned().unwrap_or_else(|| "ZZ".to_owned()),
            probe_asn: m.probe_asn_number().unwrap_or(0),
            probe_network_name: m.probe_network_name.get().cloned(),
            resolver_asn: m.resolver_asn_number(),
            measurement_start_time: start,
            software_name: m.software_name.get().cloned(),
            software_version: m.software_version.get().cloned(),
            category_code,
            raw_json: raw.to_vec(),
            verdict,
            id,
        })
    }
}

/// The lower-case host of a URL (`https://Example.org/x` → `example.org`),
/// or `None` when `input` is not a URL with a host.
pub fn domain_of(input: &str) -> Option<String> {
    let url = url::Url::parse(input).ok()?;
    url.host_str()
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
}

/// The id of a measurement without `measurement_uid`: SHA-256 (hex) of its
/// canonical JSON (object keys sorted, no insignificant whitespace), so the
/// same document re-imported with other formatting gets the same id.
pub fn content_id(raw: &[u8]) -> Result<String, StoreError> {
    let value: serde_json::Value = serde_json::from_slice(raw)
        .map_err(|e| StoreError::invalid("raw measurement", format!("not JSON: {e}")))?;
    let mut canonical = Vec::with_capacity(raw.len());
    write_canonical(&value, &mut canonical)?;
    Ok(hex::encode(Sha256::digest(&canonical)))
}

fn write_canonical(value: &serde_json::Value, out: &mut Vec<u8>) -> Result<(), StoreError> {
    use serde_json::Value;
    let json_err = |e: serde_json::Error| StoreError::invalid("raw measurement", e.to_string());
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, key).map_err(json_err)?;
                out.push(b':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out)?;
                }
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(v, out)?;
            }
            out.push(b']');
        }
        scalar => serde_json::to_writer(&mut *out, scalar).map_err(json_err)?,
    }
    Ok(())
}

/// What [`crate::Store::insert_batch`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsertReport {
    /// Measurements newly stored.
    pub inserted: u64,
    /// Measurements whose id was already stored (or repeated in the batch):
    /// left untouched.
    pub duplicates: u64,
}

/// What [`crate::Store::replace_verdicts`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplaceReport {
    /// Verdicts that differed from the stored one and were replaced (the old
    /// one goes to `verdict_history`).
    pub changed: u64,
    /// Verdicts identical to the stored one (nothing written).
    pub unchanged: u64,
    /// Ids not in the store.
    pub missing: u64,
}

/// Narrows the country, domain and ASN views.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filters {
    /// Only this probe ASN.
    pub asn: Option<u32>,
    /// Only this Citizen Lab category code.
    pub category: Option<String>,
    /// Only measurements started at or after this instant.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub from: Option<OffsetDateTime>,
    /// Only measurements started strictly before this instant.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub to: Option<OffsetDateTime>,
}

/// Selects measurements for [`crate::Store::list_measurements`] and events
/// for [`crate::Store::events`]. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// Probe country (`KH`).
    pub country: Option<String>,
    /// Probe ASN.
    pub asn: Option<u32>,
    /// Domain (`example.org`).
    pub domain: Option<String>,
    /// Citizen Lab category (measurements only).
    pub category: Option<String>,
    /// Outcome of the current verdict (measurements only).
    pub outcome: Option<Outcome>,
    /// Start at or after (events: ending at or after, or ongoing).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub from: Option<OffsetDateTime>,
    /// Start strictly before.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub to: Option<OffsetDateTime>,
}

/// A site blocked now on one network (see [`crate::Store::blocked_now`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockedSite {
    /// The blocked domain.
    pub domain: String,
    /// The network (probe ASN).
    pub asn: u32,
    /// The network's name, when known.
    pub network_name: Option<String>,
    /// Start of the current run of blocked verdicts.
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
    /// Time of the latest blocked measurement.
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
    /// Layer of the latest blocked verdict.
    pub layer: Option<String>,
    /// Kind of the latest blocked verdict.
    pub kind: Option<String>,
    /// At least one verdict of the run was confirmed by a fingerprint.
    pub confirmed: bool,
    /// Id of the latest blocked measurement.
    pub last_measurement_id: String,
    /// Blocked measurements in the current run.
    pub measurements: u64,
}

/// One day of a country's blocked-share series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharePoint {
    /// The UTC day.
    #[serde(with = "iso_date")]
    pub day: Date,
    /// Measurements that day (all outcomes).
    pub tested: u64,
    /// Of which blocked.
    pub blocked: u64,
    /// Of which ok.
    pub ok: u64,
    /// Of the blocked, confirmed by a fingerprint.
    pub confirmed: u64,
}

/// One cell of a domain or ASN timeline: measurements of one day, network,
/// outcome and layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelinePoint {
    /// The UTC day.
    #[serde(with = "iso_date")]
    pub day: Date,
    /// The probe ASN.
    pub asn: u32,
    /// The outcome.
    pub outcome: Outcome,
    /// The layer (blocked outcomes only).
    pub layer: Option<String>,
    /// How many measurements.
    pub measurements: u64,
}

/// One network's line in a [`CountrySummary`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkSummary {
    /// The ASN.
    pub asn: u32,
    /// Its name, when known.
    pub name: Option<String>,
    /// Measurements from it in the window.
    pub measurements: u64,
    /// Sites blocked now on it.
    pub sites_blocked: u64,
}

/// The head of a country page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountrySummary {
    /// The country.
    pub country: String,
    /// Measurements in the window.
    pub measurements: u64,
    /// Of which blocked.
    pub blocked_measurements: u64,
    /// Distinct domains measured in the window.
    pub sites_tested: u64,
    /// Distinct domains blocked now on at least one network.
    pub sites_blocked: u64,
    /// Every network measured in the window, by ASN.
    pub networks: Vec<NetworkSummary>,
}

/// A stored measurement's indexed fields and current verdict (no raw JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasurementInfo {
    /// The id.
    pub id: String,
    /// OONI `report_id`.
    pub report_id: Option<String>,
    /// OONI `test_name`.
    pub test_name: String,
    /// OONI `test_version`.
    pub test_version: Option<String>,
    /// The input URL.
    pub input: Option<String>,
    /// Host of the input.
    pub domain: Option<String>,
    /// Probe country.
    pub probe_cc: String,
    /// Probe ASN.
    pub probe_asn: u32,
    /// Probe network name.
    pub probe_network_name: Option<String>,
    /// Resolver ASN.
    pub resolver_asn: Option<u32>,
    /// Start (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub measurement_start_time: OffsetDateTime,
    /// Software name.
    pub software_name: Option<String>,
    /// Software version.
    pub software_version: Option<String>,
    /// Citizen Lab category.
    pub category_code: Option<String>,
    /// When the store received it.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// The current verdict.
    pub verdict: StoredVerdict,
}

/// A stored measurement with its raw JSON (see [`crate::Store::measurement`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredMeasurement {
    /// Fields and verdict.
    #[serde(flatten)]
    pub info: MeasurementInfo,
    /// The raw measurement, byte for byte as received (UTF-8 JSON text).
    pub raw_json: String,
}

/// A verdict that reanalysis replaced (see [`crate::Store::verdict_history`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoricVerdict {
    /// Rules version that produced it.
    pub rules_version: String,
    /// Its OONI `blocking` text (`false`, `dns`, …; `None` for `null`).
    pub blocking: Option<String>,
    /// Its outcome.
    pub outcome: Outcome,
    /// Its layer.
    pub layer: Option<String>,
    /// Its kind.
    pub kind: Option<String>,
    /// Whether it was confirmed.
    pub confirmed: bool,
    /// When it was replaced.
    #[serde(with = "time::serde::rfc3339")]
    pub replaced_at: OffsetDateTime,
}

/// A raw measurement for reanalysis (see [`crate::Store::raw_batch`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMeasurement {
    /// The id.
    pub id: String,
    /// The bytes as received.
    pub raw_json: Vec<u8>,
}

/// A network name (see [`crate::Store::upsert_network`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    /// The ASN.
    pub asn: u32,
    /// Its name.
    pub name: String,
}

/// A detected blocking event (CUSUM change point, see the analysis crate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockingEvent {
    /// Country.
    pub country: String,
    /// Probe ASN.
    pub asn: u32,
    /// Domain.
    pub domain: String,
    /// Layer (`dns`, `tcp`, `tls`, `http`).
    pub layer: String,
    /// Start of the event.
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    /// End, `None` while ongoing.
    #[serde(with = "time::serde::rfc3339::option")]
    pub end: Option<OffsetDateTime>,
    /// Detector confidence in [0, 1].
    pub confidence: f64,
    /// Measurements that make up the event.
    pub measurement_ids: Vec<String>,
}

pub(crate) mod iso_date {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
        time::macros::format_description!("[year]-[month]-[day]");

    pub fn serialize<S: Serializer>(day: &Date, s: S) -> Result<S::Ok, S::Error> {
        let text = day.format(FORMAT).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let text = String::deserialize(d)?;
        Date::parse(&text, FORMAT).map_err(serde::de::Error::custom)
    }
}
