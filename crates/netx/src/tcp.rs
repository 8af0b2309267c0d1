//! TCP connect measurements (OONI df-005 `tcp_connect`).

use std::net::SocketAddr;
use std::time::Instant;

use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout_at;

use crate::events::NetEvent;
use crate::failure;
use crate::Options;

/// The record of one TCP connect attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct TcpConnect {
    /// Destination address.
    pub addr: SocketAddr,
    /// Start, in seconds since the measurement's zero instant.
    pub t0: f64,
    /// End (connected, or failed).
    pub t: f64,
    /// df-007 failure string, `None` when connected.
    pub failure: Option<String>,
    /// The `connect` network event.
    pub event: NetEvent,
}

impl TcpConnect {
    /// True when the connection was established.
    pub fn success(&self) -> bool {
        self.failure.is_none()
    }
}

/// Connects to `addr` from `opts.bind` (if set) within `opts.tcp_timeout`.
///
/// Returns the record and, on success, the connected stream.
pub async fn connect(opts: &Options, addr: SocketAddr) -> (TcpConnect, Option<TcpStream>) {
    let t0 = opts.now();
    let deadline = Instant::now() + opts.tcp_timeout;
    let attempt = async {
        let local = opts.local_for(addr)?;
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .map_err(|e| failure::classify_io_error(&e))?;
        socket
            .bind(local)
            .map_err(|e| failure::classify_io_error(&e))?;
        socket
            .connect(addr)
            .await
            .map_err(|e| failure::classify_io_error(&e))
    };
    let result = match timeout_at(deadline.into(), attempt).await {
        Err(_) => Err(failure::GENERIC_TIMEOUT.to_string()),
        Ok(r) => r,
    };
    let t = opts.now();
    let (failure, stream) = match result {
        Ok(stream) => {
            // Measurements are request/response: do not delay small writes.
            let _ = stream.set_nodelay(true);
            (None, Some(stream))
        }
        Err(f) => (Some(f), None),
    };
    tracing::debug!(%addr, ?failure, "tcp connect");
    let event = NetEvent {
        operation: "connect",
        address: Some(addr.to_string()),
        proto: Some("tcp"),
        num_bytes: None,
        failure: failure.clone(),
        t0,
        t,
    };
    (
        TcpConnect {
            addr,
            t0,
            t,
            failure,
            event,
        },
        stream,
    )
}
