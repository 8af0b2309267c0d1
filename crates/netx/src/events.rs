//! Low-level network events (OONI df-008 `network_events`).

/// One low-level network event: a connect, a read, a write, a TLS handshake
/// boundary or an HTTP milestone, with its timing relative to the
/// measurement's zero instant.
#[derive(Clone, Debug, PartialEq)]
pub struct NetEvent {
    /// df-008 operation name: `connect`, `read`, `write`, `read_from`,
    /// `write_to`, `tls_handshake_start`, `tls_handshake_done`,
    /// `http_transaction_start`, `http_first_response_byte`,
    /// `http_transaction_done`, ...
    pub operation: &'static str,
    /// Remote `ip:port` the event concerns, when there is one.
    pub address: Option<String>,
    /// `tcp` or `udp`, when the event is about a socket.
    pub proto: Option<&'static str>,
    /// Bytes moved by a read or a write.
    pub num_bytes: Option<u64>,
    /// df-007 failure string, when the operation failed.
    pub failure: Option<String>,
    /// Start, in seconds since the measurement's zero instant.
    pub t0: f64,
    /// End, in seconds since the measurement's zero instant.
    pub t: f64,
}

impl NetEvent {
    /// An instantaneous milestone event (`t0 == t`) with no address.
    pub fn milestone(operation: &'static str, t: f64) -> Self {
        NetEvent {
            operation,
            address: None,
            proto: None,
            num_bytes: None,
            failure: None,
            t0: t,
            t,
        }
    }
}
