//! The web_connectivity test-helper exchange: [`ControlRequest`] (what the
//! probe POSTs, recorded as `x_control_request`) and [`ControlResponse`]
//! (what the helper answers, recorded as `control`).
//!
//! ```
//! use canary_model::ControlResponse;
//!
//! let c: ControlResponse = serde_json::from_str(r#"{
//!   "dns": {"failure": null, "addrs": ["93.184.216.34"]},
//!   "tcp_connect": {"93.184.216.34:443": {"status": true, "failure": null}},
//!   "http_request": {"body_length": 1256, "failure": null, "title": "Example Domain",
//!                    "headers": {"Server": "ECS"}, "status_code": 200},
//!   "x_new_field": 1
//! }"#).unwrap();
//! let dns = c.dns.get().unwrap();
//! assert_eq!(dns.addrs.get().unwrap()[0], "93.184.216.34");
//! assert!(c.extra.contains_key("x_new_field"));
//! ```

use std::collections::BTreeMap;

use crate::archival::HeaderMap;
use crate::Failure;

ooni_object! {
    /// The test helper's answer (`test_keys.control`).
    pub struct ControlResponse {
        /// The helper's DNS lookup of the URL's host.
        dns: ControlDns,
        /// `"ip:port"` → connect outcome.
        tcp_connect: BTreeMap<String, ControlTcpConnect>,
        /// `"ip:port"` → TLS outcome (v0.5 helpers).
        tls_handshake: BTreeMap<String, ControlTlsHandshake>,
        /// `"ip:port"` → QUIC outcome (v0.5 helpers).
        quic_handshake: BTreeMap<String, ControlTlsHandshake>,
        /// The helper's fetch of the URL.
        http_request: ControlHttpRequest,
        /// The helper's HTTP/3 fetch, if any.
        http3_request: ControlHttpRequest,
        /// IP → information (v0.5 helpers).
        ip_info: BTreeMap<String, ControlIpInfo>,
    }
}

ooni_object! {
    /// `control.dns`.
    pub struct ControlDns {
        /// `null` on success; `dns_name_error`, `dns_server_failure`, …
        failure: Failure,
        /// Addresses resolved (the helper uses DoH).
        addrs: Vec<String>,
    }
}

ooni_object! {
    /// One entry of `control.tcp_connect`.
    pub struct ControlTcpConnect {
        /// True when the helper connected.
        status: bool,
        /// `null` on success.
        failure: Failure,
    }
}

ooni_object! {
    /// One entry of `control.tls_handshake` / `control.quic_handshake`.
    pub struct ControlTlsHandshake {
        /// The SNI used.
        server_name: String,
        /// True when the handshake (and verification) worked.
        status: bool,
        /// `null` on success.
        failure: Failure,
    }
}

ooni_object! {
    /// `control.http_request`: the helper's fetch.
    pub struct ControlHttpRequest {
        /// Body length, `-1` on failure.
        body_length: i64,
        /// Alt-Svc h3 endpoint found, if any.
        discovered_h3_endpoint: String,
        /// `null` on success.
        failure: Failure,
        /// The page `<title>`.
        title: String,
        /// One value per header.
        headers: HeaderMap,
        /// The status code, `-1` on failure.
        status_code: i64,
    }
}

ooni_object! {
    /// One entry of `control.ip_info`.
    pub struct ControlIpInfo {
        /// The AS number (0 = unknown).
        asn: u32,
        /// Bits: 1 resolved by probe, 2 by helper, 4 bogon, 8 valid for the domain (TLS worked).
        flags: i64,
    }
}

ooni_object! {
    /// The request sent to the helper (`test_keys.x_control_request`).
    pub struct ControlRequest {
        /// The URL to measure.
        http_request: String,
        /// Headers the helper should copy (UA, Accept, Accept-Language).
        http_request_headers: BTreeMap<String, Vec<String>>,
        /// `ip:port` endpoints the helper should try.
        tcp_connect: Vec<String>,
        /// True to ask for QUIC checks.
        x_quic_enabled: bool,
    }
}
