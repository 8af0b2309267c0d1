//! [`Measurement`]: one OONI measurement (data format df-000) with its
//! `test_keys` typed by `test_name` ([`TestKeys`]).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Number, Value};
use time::OffsetDateTime;

use crate::{ModelError, Nullable, WebConnectivityTestKeys};

/// The `input` of a measurement: usually a URL, a list for a few legacy
/// experiments (meek_fronted_requests_test), or `null` for experiments
/// without input.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Input {
    /// A single string (a URL for web_connectivity).
    Single(String),
    /// A list of strings.
    Multiple(Vec<String>),
}

impl Input {
    /// The string, when the input is a single one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Input::Single(s) => Some(s),
            Input::Multiple(_) => None,
        }
    }
}

impl From<&str> for Input {
    fn from(s: &str) -> Self {
        Input::Single(s.to_owned())
    }
}

impl Serialize for Input {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Input::Single(s) => serializer.serialize_str(s),
            Input::Multiple(v) => v.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Input {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Input;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Input, E> {
                Ok(Input::Single(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Input, E> {
                Ok(Input::Single(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Input, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(Input::Multiple(out))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// The `test_keys` of a measurement, typed according to `test_name`.
///
/// Only web_connectivity has a typed form today; every other experiment is
/// kept as a [`serde_json::Value`] (losslessly). Another crate can give an
/// experiment a typed form without changing this enum by implementing
/// [`TypedTestKeys`] and calling [`Measurement::test_keys_as`]; a typed form
/// that every crate needs should become a new variant here (the enum is
/// `#[non_exhaustive]`) plus one arm in [`TestKeysSeed`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TestKeys {
    /// `test_name == "web_connectivity"`.
    WebConnectivity(Box<WebConnectivityTestKeys>),
    /// Any other experiment, kept as JSON.
    Other(Value),
}

impl TestKeys {
    /// Types a `test_keys` JSON value for the given `test_name`.
    ///
    /// # Errors
    /// [`ModelError::TestKeys`] when the value does not fit the typed form.
    pub fn from_value(test_name: &str, value: Value) -> Result<Nullable<TestKeys>, ModelError> {
        TestKeysSeed { test_name }
            .deserialize(value)
            .map_err(|source| ModelError::TestKeys {
                test_name: test_name.to_owned(),
                source,
            })
    }

    /// The web_connectivity form, if that is what this is.
    pub fn as_web_connectivity(&self) -> Option<&WebConnectivityTestKeys> {
        match self {
            TestKeys::WebConnectivity(tk) => Some(tk),
            TestKeys::Other(_) => None,
        }
    }

    /// The untyped JSON, if this is [`TestKeys::Other`].
    pub fn as_other(&self) -> Option<&Value> {
        match self {
            TestKeys::Other(v) => Some(v),
            TestKeys::WebConnectivity(_) => None,
        }
    }

    /// The keys as JSON.
    ///
    /// # Errors
    /// Only if serialization fails (it does not for values built by this crate).
    pub fn to_value(&self) -> Result<Value, ModelError> {
        Ok(match self {
            TestKeys::Other(v) => v.clone(),
            TestKeys::WebConnectivity(tk) => serde_json::to_value(tk)?,
        })
    }
}

impl Serialize for TestKeys {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            TestKeys::WebConnectivity(tk) => tk.serialize(serializer),
            TestKeys::Other(v) => v.serialize(serializer),
        }
    }
}

/// A typed `test_keys` form that a crate defines for one experiment.
///
/// ```
/// use canary_model::{Measurement, Nullable, TypedTestKeys};
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct TelegramKeys { telegram_tcp_blocking: Option<bool> }
/// impl TypedTestKeys for TelegramKeys { const TEST_NAME: &'static str = "telegram"; }
///
/// let m = Measurement::from_json_str(
///     r#"{"test_name":"telegram","test_keys":{"telegram_tcp_blocking":false}}"#).unwrap();
/// let keys = m.test_keys_as::<TelegramKeys>().unwrap().unwrap();
/// assert_eq!(keys.telegram_tcp_blocking, Some(false));
/// ```
pub trait TypedTestKeys: DeserializeOwned {
    /// The `test_name` these keys belong to.
    const TEST_NAME: &'static str;
}

impl TypedTestKeys for WebConnectivityTestKeys {
    const TEST_NAME: &'static str = "web_connectivity";
}

/// Deserializes `test_keys` into the form chosen by `test_name`
/// (`null` gives [`Nullable::Null`]).
#[derive(Debug, Clone, Copy)]
pub struct TestKeysSeed<'a> {
    /// The sibling `test_name`.
    pub test_name: &'a str,
}

impl<'de> DeserializeSeed<'de> for TestKeysSeed<'_> {
    type Value = Nullable<TestKeys>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        match self.test_name {
            "web_connectivity" => Ok(
                Option::<WebConnectivityTestKeys>::deserialize(deserializer)?
                    .map(|tk| TestKeys::WebConnectivity(Box::new(tk)))
                    .into(),
            ),
            _ => Ok(match Value::deserialize(deserializer)? {
                Value::Null => Nullable::Null,
                v => Nullable::Present(TestKeys::Other(v)),
            }),
        }
    }
}

/// One OONI measurement (df-000 base keys). Unknown keys land in `extra`.
///
/// Parsing then serializing gives back the same JSON value (absent and
/// `null` stay distinct, `1` stays `1` and `1.0` stays `1.0`).
///
/// ```
/// use canary_model::{Blocking, Measurement};
///
/// let text = r#"{
///   "measurement_start_time": "2024-01-08 10:00:00", "probe_asn": "AS30722",
///   "probe_cc": "IT", "probe_ip": "127.0.0.1", "input": "https://example.org/",
///   "test_keys": {"blocking": false, "accessible": true, "queries": []},
///   "test_name": "web_connectivity", "test_runtime": 1.5, "bucket_date": "2024-01-08"
/// }"#;
/// let m = Measurement::from_json_str(text).unwrap();
/// assert_eq!(m.probe_asn_number(), Some(30722));
/// assert_eq!(m.web_connectivity().unwrap().blocking.get(), Some(&Blocking::NotBlocked));
/// assert_eq!(m.extra["bucket_date"], "2024-01-08");
/// let original: serde_json::Value = serde_json::from_str(text).unwrap();
/// assert_eq!(m.to_value().unwrap(), original);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Measurement {
    /// Free-form string annotations (engine_name, platform, network_type, …).
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub annotations: Nullable<BTreeMap<String, String>>,
    /// `"0.2.0"` for modern data.
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub data_format_version: Nullable<String>,
    /// Versions of the data-format extensions used (`{"dnst":0, …}`).
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub extensions: Nullable<BTreeMap<String, i64>>,
    /// Legacy unique ID.
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub id: Nullable<String>,
    /// What was measured (a URL for web_connectivity).
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub input: Nullable<Input>,
    /// Legacy input hashes.
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub input_hashes: Nullable<Vec<String>>,
    /// UTC, `"YYYY-MM-DD hh:mm:ss"` (see [`Measurement::measurement_start_time_utc`]).
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub measurement_start_time: Nullable<String>,
    /// Assigned by the collector, e.g. `20230706183840.201925_PK_webconnectivity_19f5e0d803cbaea7`.
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub measurement_uid: Nullable<String>,
    /// Legacy command-line options.
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub options: Nullable<Vec<String>>,
    /// `"AS<number>"` (see [`Measurement::probe_asn_number`]).
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub probe_asn: Nullable<String>,
    /// Two-letter country code, `"ZZ"` when unknown.
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub probe_cc: Nullable<String>,
    /// `"127.0.0.1"` once scrubbed.
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub probe_ip: Nullable<String>,
    /// The probe network's name.
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub probe_network_name: Nullable<String>,
    /// The report this measurement belongs to.
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub report_id: Nullable<String>,
    /// The resolver's `"AS<number>"`.
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub resolver_asn: Nullable<String>,
    /// The resolver's IP address.
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub resolver_ip: Nullable<String>,
    /// The resolver network's name.
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub resolver_network_name: Nullable<String>,
    /// `ooniprobe-cli`, `ooniprobe-android`, `miniooni`, …
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub software_name: Nullable<String>,
    /// The software's version.
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub software_version: Nullable<String>,
    /// Test helpers used (shapes vary across versions).
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub test_helpers: Nullable<Map<String, Value>>,
    /// The experiment's results, typed by `test_name`.
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub test_keys: Nullable<TestKeys>,
    /// `web_connectivity`, `telegram`, …
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub test_name: Nullable<String>,
    /// Duration in seconds.
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub test_runtime: Nullable<Number>,
    /// UTC, `"YYYY-MM-DD hh:mm:ss"`.
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub test_start_time: Nullable<String>,
    /// The experiment's version (`0.4.3`, `0.5.28`, …).
    #[serde(skip_serializing_if = "Nullable::is_absent")]
    pub test_version: Nullable<String>,
    /// Keys this model does not name (`bucket_date`, `probe_city`, …), verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Finds `test_name` without building anything (used to type `test_keys`
/// in one pass even when `test_keys` comes first, as in probe-cli output).
#[derive(Deserialize)]
struct TestNamePeek {
    #[serde(default)]
    test_name: Option<String>,
}

/// Parses `bytes` as one measurement, typing `test_keys` as `hint` says.
fn parse_with_hint(bytes: &[u8], hint: Option<&str>) -> Result<Measurement, ModelError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let m = MeasurementSeed {
        test_name_hint: hint,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(m)
}

/// The value of the last `"test_name": "…"` in the text, if it is a short
/// string without escapes: a guess, to be checked against the parse.
fn guess_test_name(bytes: &[u8]) -> Option<&str> {
    const KEY: &[u8] = b"\"test_name\"";
    let at = memchr::memmem::rfind(bytes, KEY)? + KEY.len();
    let rest = bytes.get(at..)?;
    let rest = rest.trim_ascii_start().strip_prefix(b":")?;
    let rest = rest.trim_ascii_start().strip_prefix(b"\"")?;
    let end = rest
        .iter()
        .take(64)
        .position(|&b| b == b'"' || b == b'\\')?;
    if rest[end] != b'"' {
        return None;
    }
    std::str::from_utf8(&rest[..end]).ok()
}

impl Measurement {
    /// Parses one measurement from JSON text.
    ///
    /// # Errors
    /// [`ModelError::Json`] for invalid JSON or a field whose type the model
    /// does not accept (the message names line and column).
    pub fn from_json_str(s: &str) -> Result<Measurement, ModelError> {
        Measurement::from_slice(s.as_bytes())
    }

    /// Parses one measurement from JSON bytes (UTF-8).
    ///
    /// # Errors
    /// As [`Measurement::from_json_str`].
    pub fn from_slice(bytes: &[u8]) -> Result<Measurement, ModelError> {
        // Fast path: guess `test_name` from its last `"test_name":"…"` in the
        // text (top-level `test_name` follows `test_keys` in probe output, so
        // it is the last one) and parse once. The guess is only trusted when
        // the parsed document's own `test_name` is exactly the guess;
        // otherwise (no key, a nested one, escapes, a wrong guess) the slow
        // path below decides, so the result never depends on the guess.
        if let Some(guess) = guess_test_name(bytes) {
            if let Ok(m) = parse_with_hint(bytes, Some(guess)) {
                if m.test_name.get().map(String::as_str) == Some(guess) {
                    return Ok(m);
                }
            }
        }
        // Slow path: one full pass to find the top-level `test_name`.
        let hint = serde_json::from_slice::<TestNamePeek>(bytes)
            .ok()
            .and_then(|p| p.test_name);
        parse_with_hint(bytes, hint.as_deref())
    }

    /// Builds a measurement from a JSON value.
    ///
    /// # Errors
    /// As [`Measurement::from_json_str`].
    pub fn from_value(value: Value) -> Result<Measurement, ModelError> {
        Ok(serde_json::from_value(value)?)
    }

    /// The measurement as a JSON value.
    ///
    /// # Errors
    /// Only if serialization fails (it does not for values built by this crate).
    pub fn to_value(&self) -> Result<Value, ModelError> {
        Ok(serde_json::to_value(self)?)
    }

    /// The measurement as compact JSON text (one JSONL line, without newline).
    ///
    /// # Errors
    /// As [`Measurement::to_value`].
    pub fn to_json_string(&self) -> Result<String, ModelError> {
        Ok(serde_json::to_string(self)?)
    }

    /// The test name, or `""` when absent.
    pub fn test_name(&self) -> &str {
        self.test_name.get().map_or("", String::as_str)
    }

    /// The web_connectivity keys, when this is a web_connectivity measurement.
    pub fn web_connectivity(&self) -> Option<&WebConnectivityTestKeys> {
        self.test_keys.get().and_then(TestKeys::as_web_connectivity)
    }

    /// Mutable web_connectivity keys.
    pub fn web_connectivity_mut(&mut self) -> Option<&mut WebConnectivityTestKeys> {
        match self.test_keys.get_mut() {
            Some(TestKeys::WebConnectivity(tk)) => Some(tk),
            _ => None,
        }
    }

    /// Decodes `test_keys` into a crate-defined typed form.
    ///
    /// Returns `Ok(None)` when `test_name` is not `T::TEST_NAME` or the keys
    /// are absent/`null`.
    ///
    /// # Errors
    /// [`ModelError::TestKeys`] when the keys do not fit `T`.
    pub fn test_keys_as<T: TypedTestKeys>(&self) -> Result<Option<T>, ModelError> {
        if self.test_name() != T::TEST_NAME {
            return Ok(None);
        }
        let Some(tk) = self.test_keys.get() else {
            return Ok(None);
        };
        let value = tk.to_value()?;
        serde_json::from_value(value)
            .map(Some)
            .map_err(|source| ModelError::TestKeys {
                test_name: T::TEST_NAME.to_owned(),
                source,
            })
    }

    /// The input when it is a single string (a URL for web_connectivity).
    pub fn input_str(&self) -> Option<&str> {
        self.input.get().and_then(Input::as_str)
    }

    /// The probe's AS number (`"AS30722"` → `30722`).
    pub fn probe_asn_number(&self) -> Option<u32> {
        self.probe_asn.get().and_then(|s| parse_asn(s))
    }

    /// The resolver's AS number.
    pub fn resolver_asn_number(&self) -> Option<u32> {
        self.resolver_asn.get().and_then(|s| parse_asn(s))
    }

    /// `measurement_start_time` as a UTC timestamp.
    ///
    /// # Errors
    /// [`ModelError::Missing`] or [`ModelError::Timestamp`].
    pub fn measurement_start_time_utc(&self) -> Result<OffsetDateTime, ModelError> {
        parse_utc("measurement_start_time", &self.measurement_start_time)
    }

    /// `test_start_time` as a UTC timestamp.
    ///
    /// # Errors
    /// [`ModelError::Missing`] or [`ModelError::Timestamp`].
    pub fn test_start_time_utc(&self) -> Result<OffsetDateTime, ModelError> {
        parse_utc("test_start_time", &self.test_start_time)
    }

    /// The OONI Explorer page of this measurement, when it has a
    /// `measurement_uid`.
    pub fn explorer_url(&self) -> Option<String> {
        self.measurement_uid
            .get()
            .map(|uid| format!("https://explorer.ooni.org/m/{uid}"))
    }
}

/// Parses `"AS1234"` (also `"as1234"`) into `1234`.
pub fn parse_asn(s: &str) -> Option<u32> {
    let digits = s.strip_prefix("AS").or_else(|| s.strip_prefix("as"))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

const OONI_TIME: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
const ISO_TIME: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// Parses an OONI timestamp: `"YYYY-MM-DD hh:mm:ss"` (UTC). The API's
/// `"YYYY-MM-DDThh:mm:ssZ"` is accepted too.
///
/// # Errors
/// [`ModelError::Timestamp`] for any other text.
pub fn parse_ooni_time(field: &'static str, value: &str) -> Result<OffsetDateTime, ModelError> {
    time::PrimitiveDateTime::parse(value, OONI_TIME)
        .or_else(|_| time::PrimitiveDateTime::parse(value, ISO_TIME))
        .map(time::PrimitiveDateTime::assume_utc)
        .map_err(|_| ModelError::Timestamp {
            field,
            value: value.to_owned(),
        })
}

fn parse_utc(field: &'static str, v: &Nullable<String>) -> Result<OffsetDateTime, ModelError> {
    let s = v.get().ok_or(ModelError::Missing { field })?;
    parse_ooni_time(field, s)
}

/// A map key, borrowed from the input when possible.
pub(crate) struct Key<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// Deserializes a [`Measurement`], optionally told the `test_name` up front
/// so that `test_keys` can be typed directly even when it comes first.
#[derive(Debug, Clone, Copy, Default)]
pub struct MeasurementSeed<'a> {
    /// The `test_name` the document is known to carry, if any.
    pub test_name_hint: Option<&'a str>,
}

impl<'de> DeserializeSeed<'de> for MeasurementSeed<'_> {
    type Value = Measurement;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Measurement, D::Error> {
        deserializer.deserialize_map(MeasurementVisitor {
            test_name_hint: self.test_name_hint,
        })
    }
}

impl<'de> Deserialize<'de> for Measurement {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        MeasurementSeed::default().deserialize(deserializer)
    }
}

struct MeasurementVisitor<'a> {
    test_name_hint: Option<&'a str>,
}

fn set<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
    slot: &mut Nullable<T>,
    name: &'static str,
    map: &mut A,
) -> Result<(), A::Error> {
    if !slot.is_absent() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = map.next_value()?;
    Ok(())
}

impl<'de> Visitor<'de> for MeasurementVisitor<'_> {
    type Value = Measurement;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an OONI measurement object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Measurement, A::Error> {
        let mut m = Measurement::default();
        // test_keys seen before test_name and without a hint: typed later.
        let mut buffered: Option<Value> = None;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match key.as_ref() {
                "annotations" => set(&mut m.annotations, "annotations", &mut map)?,
                "data_format_version" => {
                    set(&mut m.data_format_version, "data_format_version", &mut map)?
                }
                "extensions" => set(&mut m.extensions, "extensions", &mut map)?,
                "id" => set(&mut m.id, "id", &mut map)?,
                "input" => set(&mut m.input, "input", &mut map)?,
                "input_hashes" => set(&mut m.input_hashes, "input_hashes", &mut map)?,
                "measurement_start_time" => set(
                    &mut m.measurement_start_time,
                    "measurement_start_time",
                    &mut map,
                )?,
                "measurement_uid" => set(&mut m.measurement_uid, "measurement_uid", &mut map)?,
                "options" => set(&mut m.options, "options", &mut map)?,
                "probe_asn" => set(&mut m.probe_asn, "probe_asn", &mut map)?,
                "probe_cc" => set(&mut m.probe_cc, "probe_cc", &mut map)?,
                "probe_ip" => set(&mut m.probe_ip, "probe_ip", &mut map)?,
                "probe_network_name" => {
                    set(&mut m.probe_network_name, "probe_network_name", &mut map)?
                }
                "report_id" => set(&mut m.report_id, "report_id", &mut map)?,
                "resolver_asn" => set(&mut m.resolver_asn, "resolver_asn", &mut map)?,
                "resolver_ip" => set(&mut m.resolver_ip, "resolver_ip", &mut map)?,
                "resolver_network_name" => set(
                    &mut m.resolver_network_name,
                    "resolver_network_name",
                    &mut map,
                )?,
                "software_name" => set(&mut m.software_name, "software_name", &mut map)?,
                "software_version" => set(&mut m.software_version, "software_version", &mut map)?,
                "test_helpers" => set(&mut m.test_helpers, "test_helpers", &mut map)?,
                "test_name" => set(&mut m.test_name, "test_name", &mut map)?,
                "test_runtime" => set(&mut m.test_runtime, "test_runtime", &mut map)?,
                "test_start_time" => set(&mut m.test_start_time, "test_start_time", &mut map)?,
                "test_version" => set(&mut m.test_version, "test_version", &mut map)?,
                "test_keys" => {
                    if !m.test_keys.is_absent() || buffered.is_some() {
                        return Err(de::Error::duplicate_field("test_keys"));
                    }
                    let name = m
                        .test_name
                        .get()
                        .map(String::as_str)
                        .or(self.test_name_hint);
                    match name {
                        Some(test_name) => {
                            m.test_keys = map.next_value_seed(TestKeysSeed { test_name })?;
                        }
                        None => buffered = Some(map.next_value()?),
                    }
                }
                _ => {
                    let value: Value = map.next_value()?;
                    if m.extra.insert(key.into_owned(), value).is_some() {
                        return Err(de::Error::custom("duplicate key in measurement"));
                    }
                }
            }
        }
        if let (Some(hint), Some(name)) = (self.test_name_hint, m.test_name.get()) {
            if hint != name {
                return Err(de::Error::custom(format_args!(
                    "test_name {name:?} differs from the expected {hint:?}"
                )));
            }
        }
        if let Some(value) = buffered {
            let test_name = m.test_name.get().map_or("", String::as_str);
            m.test_keys = TestKeysSeed { test_name }
                .deserialize(value)
                .map_err(|e| de::Error::custom(format_args!("test_keys: {e}")))?;
        }
        Ok(m)
    }
}
