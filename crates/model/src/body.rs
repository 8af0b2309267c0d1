//! [`Body`] and [`HeaderValue`]: OONI's "maybe binary" strings (df-001).
//!
//! HTTP bodies and header values are written as a plain JSON string when they
//! are valid UTF-8, and as `{"format": "base64", "data": "…"}` otherwise.
//! Both forms are kept exactly as written (the base64 text is not re-encoded,
//! so odd padding survives a round trip); [`Body::bytes`] decodes on demand.

use std::borrow::Cow;
use std::fmt;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ModelError;

/// Standard alphabet; tolerant of missing padding and trailing bits, as real
/// probes have produced both.
pub(crate) const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Decodes standard base64, accepting absent padding.
pub(crate) fn decode_base64(what: &'static str, data: &str) -> Result<Vec<u8>, ModelError> {
    LENIENT_BASE64
        .decode(data)
        .map_err(|source| ModelError::Base64 { what, source })
}

/// An HTTP body (or header value) as OONI writes it.
///
/// ```
/// use canary_model::Body;
///
/// let text: Body = serde_json::from_str(r#""<html>""#).unwrap();
/// assert_eq!(text.bytes().unwrap().as_ref(), b"<html>");
///
/// let binary: Body = serde_json::from_str(r#"{"format":"base64","data":"AP8="}"#).unwrap();
/// assert_eq!(binary.bytes().unwrap().as_ref(), &[0x00, 0xff]);
///
/// // Building from bytes picks the form OONI would write.
/// assert_eq!(Body::from_bytes(b"hi"), Body::Text("hi".into()));
/// assert_eq!(Body::from_bytes(&[0xff]), Body::Base64("/w==".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Body {
    /// A JSON string: the bytes were valid UTF-8.
    Text(String),
    /// `{"format":"base64","data":…}`: the base64 text, as written.
    Base64(String),
}

impl Body {
    /// Builds the form OONI writes: text when the bytes are UTF-8, base64
    /// otherwise.
    pub fn from_bytes(bytes: &[u8]) -> Body {
        match std::str::from_utf8(bytes) {
            Ok(s) => Body::Text(s.to_owned()),
            Err(_) => Body::Base64(base64::engine::general_purpose::STANDARD.encode(bytes)),
        }
    }

    /// The raw bytes (decoding base64 when needed).
    ///
    /// # Errors
    /// [`ModelError::Base64`] when the base64 text does not decode.
    pub fn bytes(&self) -> Result<Cow<'_, [u8]>, ModelError> {
        match self {
            Body::Text(s) => Ok(Cow::Borrowed(s.as_bytes())),
            Body::Base64(data) => decode_base64("body", data).map(Cow::Owned),
        }
    }

    /// The text, when the value was written as a plain string.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Body::Text(s) => Some(s),
            Body::Base64(_) => None,
        }
    }

    /// The text, decoding base64 and replacing invalid UTF-8 with U+FFFD;
    /// `None` only when the base64 is invalid.
    pub fn to_text_lossy(&self) -> Option<Cow<'_, str>> {
        match self {
            Body::Text(s) => Some(Cow::Borrowed(s)),
            Body::Base64(data) => decode_base64("body", data)
                .ok()
                .map(|b| Cow::Owned(String::from_utf8_lossy(&b).into_owned())),
        }
    }
}

impl From<&str> for Body {
    fn from(s: &str) -> Self {
        Body::Text(s.to_owned())
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::Text(s)
    }
}

impl Serialize for Body {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Body::Text(s) => serializer.serialize_str(s),
            Body::Base64(data) => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("format", "base64")?;
                map.serialize_entry("data", data)?;
                map.end()
            }
        }
    }
}

/// Reads `{"format":"base64","data":…}`; any other key or format is an error.
fn body_from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Body, A::Error> {
    let mut format: Option<String> = None;
    let mut data: Option<String> = None;
    while let Some(key) = map.next_key::<Cow<'de, str>>()? {
        match key.as_ref() {
            "format" if format.is_none() => format = Some(map.next_value()?),
            "data" if data.is_none() => data = Some(map.next_value()?),
            "format" | "data" => {
                return Err(de::Error::custom(format_args!(
                    "duplicate key {key:?} in binary value"
                )))
            }
            other => {
                return Err(de::Error::custom(format_args!(
                    "unexpected key {other:?} in binary value (expected \"format\" and \"data\")"
                )))
            }
        }
    }
    match (format.as_deref(), data) {
        (Some("base64"), Some(data)) => Ok(Body::Base64(data)),
        (Some(other), Some(_)) => Err(de::Error::custom(format_args!(
            "unsupported binary format {other:?} (only \"base64\" is defined)"
        ))),
        (None, _) => Err(de::Error::missing_field("format")),
        (_, None) => Err(de::Error::missing_field("data")),
    }
}

struct BodyVisitor;

impl<'de> Visitor<'de> for BodyVisitor {
    type Value = Body;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or {\"format\":\"base64\",\"data\":…}")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Body, E> {
        Ok(Body::Text(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Body, E> {
        Ok(Body::Text(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Body, A::Error> {
        body_from_map(map)
    }
}

impl<'de> Deserialize<'de> for Body {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BodyVisitor)
    }
}

/// A value of a `headers` map: one (maybe binary) string, or a list of them
/// (some experiments, e.g. http_header_field_manipulation, write lists).
///
/// ```
/// use canary_model::HeaderValue;
///
/// let one: HeaderValue = serde_json::from_str(r#""nginx""#).unwrap();
/// assert_eq!(one.first_text(), Some("nginx"));
/// let many: HeaderValue = serde_json::from_str(r#"["a","b"]"#).unwrap();
/// assert_eq!(many.values().len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HeaderValue {
    /// A single value.
    One(Body),
    /// A list of values.
    Many(Vec<Body>),
}

impl HeaderValue {
    /// All values, in order.
    pub fn values(&self) -> &[Body] {
        match self {
            HeaderValue::One(b) => std::slice::from_ref(b),
            HeaderValue::Many(v) => v,
        }
    }

    /// The first value, if any.
    pub fn first(&self) -> Option<&Body> {
        self.values().first()
    }

    /// The first value when it is plain text.
    pub fn first_text(&self) -> Option<&str> {
        self.first().and_then(Body::as_text)
    }
}

impl From<&str> for HeaderValue {
    fn from(s: &str) -> Self {
        HeaderValue::One(Body::from(s))
    }
}

impl Serialize for HeaderValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            HeaderValue::One(b) => b.serialize(serializer),
            HeaderValue::Many(v) => v.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for HeaderValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = HeaderValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a header value: string, base64 object, or list of those")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HeaderValue, E> {
                Ok(HeaderValue::One(Body::Text(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<HeaderValue, E> {
                Ok(HeaderValue::One(Body::Text(v)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<HeaderValue, A::Error> {
                body_from_map(map).map(HeaderValue::One)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<HeaderValue, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(b) = seq.next_element::<Body>()? {
                    out.push(b);
                }
                Ok(HeaderValue::Many(out))
            }
        }
        deserializer.deserialize_any(V)
    }
}
