//! [`ModelError`]: the one error type of this crate.

/// Everything that can go wrong when reading or interpreting OONI data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The text is not JSON, or a field has a type this model does not
    /// accept (serde_json's message names the line and column).
    #[error("invalid OONI measurement JSON: {0}")]
    Json(#[from] serde_json::Error),

    /// The `test_keys` object does not match the typed form chosen by
    /// `test_name`.
    #[error("invalid test_keys for test_name {test_name:?}: {source}")]
    TestKeys {
        /// The sibling `test_name`.
        test_name: String,
        /// What serde reported.
        #[source]
        source: serde_json::Error,
    },

    /// A `{"format": "base64", "data": …}` value (or another base64 field)
    /// does not decode.
    #[error("invalid base64 in {what}: {source}")]
    Base64 {
        /// Which field held it.
        what: &'static str,
        /// The decoder's complaint.
        #[source]
        source: base64::DecodeError,
    },

    /// A binary value uses an encoding other than `"base64"`.
    #[error("unsupported binary encoding {format:?} in {what} (only \"base64\" is defined)")]
    UnsupportedEncoding {
        /// Which field held it.
        what: &'static str,
        /// The `format` it declared.
        format: String,
    },

    /// A timestamp is not `"YYYY-MM-DD hh:mm:ss"` (UTC).
    #[error("invalid timestamp {value:?} in {field}: expected \"YYYY-MM-DD hh:mm:ss\" (UTC)")]
    Timestamp {
        /// Which field held it.
        field: &'static str,
        /// The text found.
        value: String,
    },

    /// A field needed for the requested operation is absent or `null`.
    #[error("{field} is absent or null")]
    Missing {
        /// The missing field.
        field: &'static str,
    },
}
