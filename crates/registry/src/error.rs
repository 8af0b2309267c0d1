//! The crate's one error type.

/// Everything that can go wrong in the registry domain layer.
///
/// Messages name the record, field or file involved and never contain
/// plaintext of a sensitive field or key material.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value did not parse (a date, an id, a vocabulary term, a sealed field…).
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was being parsed, e.g. "date", "key file".
        what: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// A workflow move that the state machine does not allow.
    #[error("illegal status transition {from} -> {to} for {record}")]
    IllegalTransition {
        /// Record id.
        record: String,
        /// Current status (snake_case).
        from: &'static str,
        /// Requested status (snake_case).
        to: &'static str,
    },
    /// The principal may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A sealed field could not be opened: wrong key, or the ciphertext was
    /// altered or moved to another record/field.
    #[error("cannot open sealed field {field} of {entity} {record} with key {key_id}: wrong key, or the value was altered or moved")]
    Decrypt {
        /// Entity type (snake_case).
        entity: &'static str,
        /// Record id.
        record: String,
        /// Field name.
        field: String,
        /// Key id written in the sealed value.
        key_id: u8,
    },
    /// A sealed value names a key id that the key ring does not hold.
    #[error("no key with id {key_id} in the key ring (sealed field {field} of {record})")]
    UnknownKey {
        /// Key id written in the sealed value.
        key_id: u8,
        /// Record id.
        record: String,
        /// Field name.
        field: String,
    },
    /// A field is still sealed where clear text was needed, or is redacted.
    #[error("field {field} of {record} is {state}, not clear text")]
    NotClear {
        /// Record id.
        record: String,
        /// Field name.
        field: String,
        /// "sealed" or "redacted".
        state: &'static str,
    },
    /// The operating system's random generator failed.
    #[error("random generator failed: {0}")]
    Random(String),
    /// Encryption failed (should not happen for in-memory buffers).
    #[error("encryption failed for field {field} of {record}")]
    Encrypt {
        /// Record id.
        record: String,
        /// Field name.
        field: String,
    },
    /// A dataset is internally inconsistent (duplicate id, dangling reference…).
    #[error("inconsistent dataset: {0}")]
    Dataset(String),
    /// An input exceeded a size or count bound.
    #[error("{what} exceeds the limit of {limit}")]
    TooLarge {
        /// What was too large.
        what: String,
        /// The limit.
        limit: u64,
    },
    /// A stored evidence object does not hash to its name.
    #[error("evidence object {expected} is corrupt: its content hashes to {actual}")]
    Corrupt {
        /// The SHA-256 the object is stored under.
        expected: String,
        /// The SHA-256 of what was read.
        actual: String,
    },
    /// An evidence object is not in the store.
    #[error("evidence object {0} not found")]
    ObjectNotFound(String),
    /// File-system error, with the path involved.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done ("read", "write", "create directory"…).
        op: &'static str,
        /// The path.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// JSON encoding or decoding failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// CSV encoding or decoding failed.
    #[error("csv {file}: {reason}")]
    Csv {
        /// The CSV file (entity) name.
        file: String,
        /// Why.
        reason: String,
    },
}

impl Error {
    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        Error::Invalid {
            what,
            reason: reason.into(),
        }
    }
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
