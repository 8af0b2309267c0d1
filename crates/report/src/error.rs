//! The crate's one error type.

use thiserror::Error;

/// Why a report could not be gathered or rendered.
#[derive(Debug, Error)]
pub enum ReportError {
    /// An option is wrong (unknown country, empty date range, …); the message
    /// says which and why, in words an analyst understands.
    #[error("bad report option {option}: {message}")]
    BadOption {
        /// The option (`--country`, `--from`/`--to`, `--word-limit`, …).
        option: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The store failed to answer a query.
    #[error("store query {query} failed: {source}")]
    Store {
        /// The query that failed.
        query: &'static str,
        /// The store's error.
        #[source]
        source: canary_store::StoreError,
    },
    /// The registry dataset is inconsistent.
    #[error("registry dataset: {0}")]
    Registry(#[from] canary_registry::Error),
    /// Rendering failed (PDF back-end errors come through here too).
    #[error("rendering failed: {0}")]
    Render(String),
}

impl ReportError {
    pub(crate) fn bad(option: &'static str, message: impl Into<String>) -> Self {
        ReportError::BadOption {
            option,
            message: message.into(),
        }
    }

    pub(crate) fn store(query: &'static str) -> impl FnOnce(canary_store::StoreError) -> Self {
        move |source| ReportError::Store { query, source }
    }
}
