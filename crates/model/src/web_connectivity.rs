//! The `test_keys` of web_connectivity (OONI spec ts-017), v0.4 and v0.5.
//!
//! ```
//! use canary_model::{Blocking, WebConnectivityTestKeys};
//!
//! let tk = WebConnectivityTestKeys::from_json_str(r#"{
//!   "queries": [], "tcp_connect": [], "requests": [],
//!   "blocking": "dns", "accessible": false, "x_dns_flags": 4
//! }"#).unwrap();
//! assert_eq!(tk.blocking.get(), Some(&Blocking::Dns));
//! assert_eq!(tk.accessible.value(), Some(false));
//! ```

use std::collections::BTreeMap;

use serde_json::Number;

use crate::archival::{DnsQuery, HttpTransaction, NetworkEvent, TcpConnect, TlsHandshake};
use crate::control::{ControlRequest, ControlResponse};
use crate::{Blocking, DnsConsistency, Failure, ModelError};

ooni_object! {
    /// web_connectivity `test_keys`. Unknown keys land in `extra`.
    pub struct WebConnectivityTestKeys {
        /// `redirect` (v0.4 follows redirects itself).
        agent: String,
        /// The resolver address as seen by the whoami service.
        client_resolver: String,
        /// Unused (always `null` in modern data).
        retries: i64,
        /// Unused (always `null`).
        socksproxy: String,
        /// DNS lookups (df-002).
        queries: Vec<DnsQuery>,
        /// TCP connects (df-005).
        tcp_connect: Vec<TcpConnect>,
        /// TLS handshakes (df-006).
        tls_handshakes: Vec<TlsHandshake>,
        /// Low-level I/O events (df-008).
        network_events: Vec<NetworkEvent>,
        /// HTTP round trips, newest (last redirect hop) first (df-001).
        requests: Vec<HttpTransaction>,
        /// The test helper's answer.
        control: ControlResponse,
        /// `null` when the helper answered.
        control_failure: Failure,
        /// The request sent to the helper (v0.5).
        x_control_request: ControlRequest,
        /// The probe's DNS failure.
        dns_experiment_failure: Failure,
        /// `consistent` / `inconsistent` with the control.
        dns_consistency: DnsConsistency,
        /// The probe's HTTP failure.
        http_experiment_failure: Failure,
        /// `body_proportion > 0.7`.
        body_length_match: bool,
        /// min/max of the two body lengths.
        body_proportion: Number,
        /// Same status code as the control.
        status_code_match: bool,
        /// An uncommon header name appears on both sides.
        headers_match: bool,
        /// The long words of both titles match.
        title_match: bool,
        /// The verdict (`null` = undecided).
        blocking: Blocking,
        /// True when the site was reachable.
        accessible: bool,
        /// v0.4 bit flags describing the analysis.
        x_status: i64,
        /// v0.5: 1 bogon, 2 unexpected failure, 4 unexpected addresses.
        x_dns_flags: i64,
        /// v0.5: 1 DNS, 2 TCP/IP, 4 TLS, 8 HTTP failure, 16 HTTP diff, 32 success.
        x_blocking_flags: i64,
        /// v0.5: reasons for a null/null verdict.
        x_null_null_flags: i64,
        /// v0.5: which resolver really answered (whoami lookups).
        x_dns_whoami: DnsWhoami,
        /// v0.5: observations of the DNS-over-UDP resolver.
        x_do53: ObservationSet,
        /// v0.5: observations of the DoH resolver.
        x_doh: ObservationSet,
        /// v0.5: late/duplicate DNS replies (evidence of injection).
        x_dns_duplicate_responses: Vec<DnsQuery>,
        /// v0.5: how the flow that fetched the page was chosen.
        x_conn_priority_log: Vec<ConnPriorityLogEntry>,
        /// v0.4: DNS step duration (ns).
        x_dns_runtime: Number,
        /// v0.4: test-helper step duration (ns).
        x_th_runtime: Number,
        /// v0.4: TCP/TLS step duration (ns).
        x_tcptls_runtime: Number,
        /// v0.4: HTTP step duration (ns).
        x_http_runtime: Number,
    }
}

impl WebConnectivityTestKeys {
    /// Parses a bare `test_keys` object (not wrapped in a measurement).
    ///
    /// # Errors
    /// [`ModelError::Json`] for invalid JSON or a field of the wrong type.
    pub fn from_json_str(s: &str) -> Result<Self, ModelError> {
        Ok(serde_json::from_str(s)?)
    }

    /// The DNS lookups, or an empty slice.
    pub fn queries(&self) -> &[DnsQuery] {
        self.queries.get().map_or(&[], Vec::as_slice)
    }

    /// The TCP connects, or an empty slice.
    pub fn tcp_connects(&self) -> &[TcpConnect] {
        self.tcp_connect.get().map_or(&[], Vec::as_slice)
    }

    /// The TLS handshakes, or an empty slice.
    pub fn tls_handshakes(&self) -> &[TlsHandshake] {
        self.tls_handshakes.get().map_or(&[], Vec::as_slice)
    }

    /// The HTTP round trips (newest first), or an empty slice.
    pub fn requests(&self) -> &[HttpTransaction] {
        self.requests.get().map_or(&[], Vec::as_slice)
    }

    /// The network events, or an empty slice.
    pub fn network_events(&self) -> &[NetworkEvent] {
        self.network_events.get().map_or(&[], Vec::as_slice)
    }
}

ooni_object! {
    /// `x_dns_whoami` (v0.5).
    pub struct DnsWhoami {
        /// Answers seen through the system resolver.
        system_v4: Vec<WhoamiEntry>,
        /// Resolver `ip:port` → answers seen through it over UDP.
        udp_v4: BTreeMap<String, Vec<WhoamiEntry>>,
    }
}

ooni_object! {
    /// One whoami answer.
    pub struct WhoamiEntry {
        /// The resolver address the whoami service saw.
        address: String,
    }
}

ooni_object! {
    /// The observations of one extra resolver (`x_do53`, `x_doh`, v0.5).
    pub struct ObservationSet {
        /// Low-level I/O events.
        network_events: Vec<NetworkEvent>,
        /// DNS lookups.
        queries: Vec<DnsQuery>,
        /// HTTP round trips (DoH).
        requests: Vec<HttpTransaction>,
        /// TCP connects.
        tcp_connect: Vec<TcpConnect>,
        /// TLS handshakes.
        tls_handshakes: Vec<TlsHandshake>,
    }
}

ooni_object! {
    /// One line of `x_conn_priority_log` (v0.5).
    pub struct ConnPriorityLogEntry {
        /// The log message.
        msg: String,
        /// When (s).
        t: Number,
    }
}
