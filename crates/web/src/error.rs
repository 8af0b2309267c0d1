//! The one error type of this crate.

use canary_store::StoreError;

/// Everything that can go wrong in the web server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    /// The store refused or failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A configuration value is unusable.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A template failed to render (a bug: every template is tested).
    #[error("template: {0}")]
    Template(#[from] minijinja::Error),
    /// A password could not be hashed.
    #[error("password hashing: {0}")]
    Password(String),
    /// Input refused (bad account name, weak password, unknown role, …).
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was refused.
        what: String,
        /// Why.
        reason: String,
    },
    /// The socket failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

impl WebError {
    pub(crate) fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Self {
        WebError::Invalid {
            what: what.into(),
            reason: reason.into(),
        }
    }
}
