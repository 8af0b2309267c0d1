//! The lab's one error type.

use std::io;

/// Everything that can go wrong while starting or driving the lab.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A socket could not be created, bound or configured.
    #[error("lab socket {what}: {source}")]
    Socket {
        /// Which socket and which step (e.g. "bind 127.1.1.4:0").
        what: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The lab's certificate authority or a leaf certificate could not be made.
    #[error("lab certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    /// A rustls configuration was rejected.
    #[error("lab TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// Writing the CA certificate file (or another lab file) failed.
    #[error("lab file {path}: {source}")]
    File {
        /// The file the lab tried to write.
        path: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The configuration asks for something the lab cannot build.
    #[error("lab configuration: {0}")]
    Config(String),
    /// The lab's runtime thread could not be started or died during start-up.
    #[error("lab runtime: {0}")]
    Runtime(String),
    /// A network namespace or netfilter step failed (see [`crate::netns`]).
    #[error("lab network namespace: {0}")]
    Netns(String),
    /// This platform lacks a kernel feature a scenario needs (e.g. SO_ATTACH_REUSEPORT_CBPF).
    #[error("lab needs {0}, which this platform does not offer")]
    Unsupported(&'static str),
}

impl LabError {
    /// Wraps an I/O error from a socket operation, naming the operation.
    pub(crate) fn socket(what: impl Into<String>, source: io::Error) -> Self {
        LabError::Socket {
            what: what.into(),
            source,
        }
    }
}
