//! The observation records shared by many experiments (OONI data formats
//! df-001 HTTP, df-002 DNS, df-005 TCP connect, df-006 TLS handshake,
//! df-008 network events).
//!
//! Times (`t0`, `t`) are seconds since the measurement started; they are
//! kept as [`serde_json::Number`] because real data mixes `1` and `1.0`, and
//! an `f64` would write `1` back as `1.0`. Use [`seconds`] to read one.

use std::collections::BTreeMap;

use serde_json::Number;

use crate::body::decode_base64;
use crate::{Body, Failure, HeaderValue, ModelError, Nullable};

/// Reads a JSON number of seconds (or any number) as `f64`.
pub fn seconds(n: &Number) -> f64 {
    n.as_f64().unwrap_or(f64::NAN)
}

ooni_object! {
    /// One DNS lookup (df-002), an element of `queries`.
    ///
    /// ```
    /// use canary_model::DnsQuery;
    ///
    /// let q: DnsQuery = serde_json::from_str(r#"{"hostname":"example.com","query_type":"A",
    ///   "failure":null,"answers":[{"answer_type":"A","ipv4":"93.184.216.34","asn":15133}]}"#).unwrap();
    /// assert_eq!(q.addresses().collect::<Vec<_>>(), ["93.184.216.34"]);
    /// assert!(q.failure.is_null());
    /// ```
    pub struct DnsQuery {
        /// The name looked up.
        hostname: String,
        /// `A`, `AAAA`, `CNAME`, `ANY`, `NS`, …
        query_type: String,
        /// `system`, `getaddrinfo`, `udp`, `tcp`, `dot`, `doh`, …
        engine: String,
        /// The resolver's host name (legacy).
        resolver_hostname: String,
        /// The resolver's port (legacy, a string).
        resolver_port: String,
        /// The resolver's address (`8.8.8.8:53`, a DoH URL, or empty for the system resolver).
        resolver_address: String,
        /// `null` on success.
        failure: Failure,
        /// The records received.
        answers: Vec<DnsAnswer>,
        /// The raw DNS reply, base64 (see [`DnsQuery::raw_response_bytes`]).
        raw_response: String,
        /// The DNS response code.
        rcode: i64,
        /// Start time (s).
        t0: Number,
        /// End time (s).
        t: Number,
        /// Groups events of one flow.
        transaction_id: i64,
        /// Free-form tags (v0.5: `classic`, `depth=0`, …).
        tags: Vec<String>,
    }
}

impl DnsQuery {
    /// The IPv4 and IPv6 addresses among the answers.
    pub fn addresses(&self) -> impl Iterator<Item = &str> {
        self.answers
            .get()
            .into_iter()
            .flatten()
            .filter_map(DnsAnswer::address)
    }

    /// The decoded `raw_response`, if present.
    ///
    /// # Errors
    /// [`ModelError::Base64`] when it is not valid base64.
    pub fn raw_response_bytes(&self) -> Result<Option<Vec<u8>>, ModelError> {
        self.raw_response
            .get()
            .map(|s| decode_base64("queries[].raw_response", s))
            .transpose()
    }
}

ooni_object! {
    /// One DNS record in `queries[].answers` (df-002).
    pub struct DnsAnswer {
        /// `A`, `AAAA`, `CNAME`, `NS`, …
        answer_type: String,
        /// Set for `A` records.
        ipv4: String,
        /// Set for `AAAA` records.
        ipv6: String,
        /// Set for `CNAME`/`NS`/… records.
        hostname: String,
        /// The address's AS number, looked up by the probe (0 = unknown).
        asn: u32,
        /// The AS organisation name.
        as_org_name: String,
        /// Time to live (often `null`).
        ttl: Number,
    }
}

impl DnsAnswer {
    /// The `ipv4` or `ipv6` address, whichever is set.
    pub fn address(&self) -> Option<&str> {
        self.ipv4.get().or(self.ipv6.get()).map(String::as_str)
    }
}

ooni_object! {
    /// One TCP connect attempt (df-005), an element of `tcp_connect`.
    pub struct TcpConnect {
        /// The IP address connected to.
        ip: String,
        /// The port connected to.
        port: u16,
        /// The outcome.
        status: TcpConnectStatus,
        /// Start time (s).
        t0: Number,
        /// End time (s).
        t: Number,
        /// Groups events of one flow.
        transaction_id: i64,
        /// Free-form tags.
        tags: Vec<String>,
    }
}

impl TcpConnect {
    /// True when the connect succeeded.
    pub fn succeeded(&self) -> bool {
        self.status
            .get()
            .and_then(|s| s.success.value())
            .unwrap_or(false)
    }

    /// The failure, if the connect failed.
    pub fn failure(&self) -> Option<&Failure> {
        self.status.get().and_then(|s| s.failure.get())
    }
}

ooni_object! {
    /// The `status` of a [`TcpConnect`].
    pub struct TcpConnectStatus {
        /// True when the connect succeeded.
        success: bool,
        /// `null` on success.
        failure: Failure,
        /// v0.4: the control connected but the probe did not.
        blocked: bool,
    }
}

ooni_object! {
    /// One TLS handshake (df-006), an element of `tls_handshakes`.
    pub struct TlsHandshake {
        /// `ip:port` of the peer.
        address: String,
        /// The SNI sent.
        server_name: String,
        /// `TLSv1.3`, …
        tls_version: String,
        /// `TLS_AES_128_GCM_SHA256`, …
        cipher_suite: String,
        /// The ALPN protocol agreed (`h2`, `http/1.1`, or empty).
        negotiated_protocol: String,
        /// The chain as sent by the server, leaf first.
        peer_certificates: Vec<PeerCertificate>,
        /// True when certificate verification was disabled.
        no_tls_verify: bool,
        /// `null` on success.
        failure: Failure,
        /// `tcp` or `udp` (QUIC).
        network: String,
        /// Start time (s).
        t0: Number,
        /// End time (s).
        t: Number,
        /// Groups events of one flow.
        transaction_id: i64,
        /// Free-form tags.
        tags: Vec<String>,
    }
}

impl TlsHandshake {
    /// The DER bytes of every certificate, leaf first.
    ///
    /// # Errors
    /// The first certificate that does not decode.
    pub fn certificates_der(&self) -> Result<Vec<Vec<u8>>, ModelError> {
        self.peer_certificates
            .get()
            .into_iter()
            .flatten()
            .map(PeerCertificate::der)
            .collect()
    }
}

ooni_object! {
    /// One certificate of `peer_certificates`: `{"format":"base64","data":…}`
    /// holding DER.
    pub struct PeerCertificate {
        /// The encoded DER.
        data: String,
        /// The encoding (always `base64` in practice).
        format: String,
    }
}

impl PeerCertificate {
    /// Builds the record for DER bytes.
    pub fn from_der(der: &[u8]) -> PeerCertificate {
        use base64::Engine as _;
        PeerCertificate {
            data: base64::engine::general_purpose::STANDARD.encode(der).into(),
            format: String::from("base64").into(),
            extra: Default::default(),
        }
    }

    /// The DER bytes.
    ///
    /// # Errors
    /// [`ModelError::Missing`] without `data`, [`ModelError::UnsupportedEncoding`]
    /// when `format` is not `base64`, [`ModelError::Base64`] when it does not decode.
    pub fn der(&self) -> Result<Vec<u8>, ModelError> {
        let data = self.data.get().ok_or(ModelError::Missing {
            field: "peer_certificates[].data",
        })?;
        match self.format.get().map(String::as_str) {
            None | Some("base64") => decode_base64("peer_certificates[].data", data),
            Some(other) => Err(ModelError::UnsupportedEncoding {
                what: "peer_certificates[]",
                format: other.to_owned(),
            }),
        }
    }
}

ooni_object! {
    /// One low-level I/O event (df-008), an element of `network_events`.
    pub struct NetworkEvent {
        /// `connect`, `read`, `write`, `tls_handshake_start`, `http_transaction_done`, …
        operation: String,
        /// `ip:port`, when relevant.
        address: String,
        /// `tcp`, `udp`.
        proto: String,
        /// Bytes read or written.
        num_bytes: i64,
        /// `null` on success.
        failure: Failure,
        /// Start time (s).
        t0: Number,
        /// End time (s).
        t: Number,
        /// Groups events of one flow.
        transaction_id: i64,
        /// Free-form tags.
        tags: Vec<String>,
    }
}

/// A `headers` map: name → value(s).
pub type HeaderMap = BTreeMap<String, HeaderValue>;

/// A `headers_list`: `[name, value]` pairs in wire order (either side may be binary).
pub type HeaderList = Vec<(Body, Body)>;

fn find_header<'a>(
    list: &'a Nullable<HeaderList>,
    map: &'a Nullable<HeaderMap>,
    name: &str,
) -> Option<&'a Body> {
    if let Some(list) = list.get() {
        if let Some((_, v)) = list
            .iter()
            .find(|(k, _)| k.as_text().is_some_and(|k| k.eq_ignore_ascii_case(name)))
        {
            return Some(v);
        }
    }
    map.get()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.first())
}

ooni_object! {
    /// One HTTP round trip (df-001), an element of `requests` (newest first).
    pub struct HttpTransaction {
        /// What was sent.
        request: HttpRequest,
        /// What came back (`null` when nothing did).
        response: HttpResponse,
        /// `null` on success.
        failure: Failure,
        /// `ip:port` used.
        address: String,
        /// The ALPN protocol.
        alpn: String,
        /// `tcp` or `udp`.
        network: String,
        /// Start time (s).
        t0: Number,
        /// End time (s).
        t: Number,
        /// Groups events of one flow.
        transaction_id: i64,
        /// Free-form tags.
        tags: Vec<String>,
    }
}

ooni_object! {
    /// The request half of an [`HttpTransaction`].
    pub struct HttpRequest {
        /// The URL requested.
        url: String,
        /// `GET`, …
        method: String,
        /// Headers in wire order.
        headers_list: HeaderList,
        /// Headers as a map.
        headers: HeaderMap,
        /// The request body.
        body: Body,
        /// True when the stored body was cut.
        body_is_truncated: bool,
        /// Tor-related details (legacy).
        tor: TorInfo,
        /// `tcp` or `quic` (legacy probe-engine).
        x_transport: String,
    }
}

impl HttpRequest {
    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&Body> {
        find_header(&self.headers_list, &self.headers, name)
    }
}

ooni_object! {
    /// The `tor` details of an [`HttpRequest`] (legacy).
    pub struct TorInfo {
        /// True when the request went through Tor.
        is_tor: bool,
        /// The Tor exit IP.
        exit_ip: String,
        /// The Tor exit name.
        exit_name: String,
    }
}

ooni_object! {
    /// The response half of an [`HttpTransaction`].
    pub struct HttpResponse {
        /// The status code.
        code: i64,
        /// Headers in wire order.
        headers_list: HeaderList,
        /// Headers as a map.
        headers: HeaderMap,
        /// The body (capped by the probe).
        body: Body,
        /// True when the stored body was cut at the probe's cap.
        body_is_truncated: bool,
    }
}

impl HttpResponse {
    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&Body> {
        find_header(&self.headers_list, &self.headers, name)
    }
}
