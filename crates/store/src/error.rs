//! The one error type of this crate.

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL is neither a SQLite path nor a `postgres://` URL.
    #[error("invalid database URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given, credentials replaced by `***`.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// A measurement, verdict, event or filter was refused before reaching
    /// the database (bad country code, oversized field, …).
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was refused (`measurement <id>`, `filter`, …).
        what: String,
        /// Why.
        reason: String,
    },
    /// The database returned something the schema does not allow
    /// (an unknown outcome, a raw measurement that does not decompress).
    #[error("corrupt row {id:?}: {reason}")]
    Corrupt {
        /// The row's id.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Applying the embedded migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any database error (connection, constraint, timeout, …).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    pub(crate) fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Self {
        StoreError::Invalid {
            what: what.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn corrupt(id: impl Into<String>, reason: impl Into<String>) -> Self {
        StoreError::Corrupt {
            id: id.into(),
            reason: reason.into(),
        }
    }
}
