//! Conversion of netx results into OONI data-format records
//! ([`canary_model`] types), ready to be placed in a measurement's
//! `test_keys`.
//!
//! Conventions follow what OONI probes write: `failure` is an explicit
//! `null` on success, times are seconds since the measurement's zero,
//! bodies are text when UTF-8 and `{"format":"base64"}` otherwise, the
//! `headers` map keeps the first value of each name while `headers_list`
//! keeps every pair in order. `transaction_id` and `tags` are left absent
//! for the caller (the probe) to fill.

use canary_model as model;
use canary_model::{Body, Failure, HeaderValue, Nullable};
use serde_json::Number;

use crate::dns::{Answer, DnsLookup};
use crate::events::NetEvent;
use crate::fetch::FetchOutcome;
use crate::http::{HttpProtocol, HttpTransaction};
use crate::tcp::TcpConnect;
use crate::tls::TlsHandshake;

/// Key of the leaf SPKI SHA-256 extra in a TLS handshake record.
pub const SPKI_EXTRA_KEY: &str = "x_leaf_spki_sha256";

fn secs(t: f64) -> Nullable<Number> {
    Number::from_f64(t).map_or(Nullable::Null, Nullable::Present)
}

fn failure(f: &Option<String>) -> Nullable<Failure> {
    f.as_deref().map(Failure::from).into()
}

impl DnsLookup {
    /// The df-002 record of this lookup (late replies are not included:
    /// see [`DnsLookup::duplicate_records`]).
    pub fn to_record(&self) -> model::DnsQuery {
        use base64::Engine as _;
        model::DnsQuery {
            hostname: self.hostname.clone().into(),
            query_type: self.query_type.as_str().to_string().into(),
            engine: self.engine.as_str().to_string().into(),
            resolver_hostname: Nullable::Null,
            resolver_port: Nullable::Null,
            resolver_address: self.resolver_address.clone().unwrap_or_default().into(),
            failure: failure(&self.failure),
            answers: self
                .answers
                .iter()
                .map(answer_record)
                .collect::<Vec<_>>()
                .into(),
            raw_response: self
                .raw_response
                .as_ref()
                .map(|raw| base64::engine::general_purpose::STANDARD.encode(raw))
                .into(),
            rcode: self.rcode.map(i64::from).into(),
            t0: secs(self.t0),
            t: secs(self.t),
            ..Default::default()
        }
    }

    /// The late, duplicate and invalid replies as df-002 records, for
    /// OONI's `x_dns_duplicate_responses`.
    pub fn duplicate_records(&self) -> Vec<model::DnsQuery> {
        self.late_replies.iter().map(DnsLookup::to_record).collect()
    }

    /// The df-008 records of the lookup's socket events.
    pub fn event_records(&self) -> Vec<model::NetworkEvent> {
        self.events.iter().map(NetEvent::to_record).collect()
    }
}

fn answer_record(a: &Answer) -> model::DnsAnswer {
    let mut rec = model::DnsAnswer {
        answer_type: a.answer_type().to_string().into(),
        ttl: a.ttl().map(Number::from).into(),
        ..Default::default()
    };
    match a {
        Answer::A { ip, .. } => rec.ipv4 = ip.to_string().into(),
        Answer::Aaaa { ip, .. } => rec.ipv6 = ip.to_string().into(),
        Answer::Cname { hostname, .. } => rec.hostname = hostname.clone().into(),
    }
    rec
}

impl NetEvent {
    /// The df-008 record of this event.
    pub fn to_record(&self) -> model::NetworkEvent {
        model::NetworkEvent {
            operation: self.operation.to_string().into(),
            address: self
                .address
                .clone()
                .map_or(Nullable::Absent, Nullable::Present),
            proto: self
                .proto
                .map_or(Nullable::Absent, |p| Nullable::Present(p.to_string())),
            num_bytes: self.num_bytes.map_or(Nullable::Absent, |n| {
                Nullable::Present(i64::try_from(n).unwrap_or(i64::MAX))
            }),
            failure: failure(&self.failure),
            t0: secs(self.t0),
            t: secs(self.t),
            ..Default::default()
        }
    }
}

impl TcpConnect {
    /// The df-005 record of this connect.
    pub fn to_record(&self) -> model::TcpConnect {
        model::TcpConnect {
            ip: self.addr.ip().to_string().into(),
            port: self.addr.port().into(),
            status: model::TcpConnectStatus {
                success: self.success().into(),
                failure: failure(&self.failure),
                ..Default::default()
            }
            .into(),
            t0: secs(self.t0),
            t: secs(self.t),
            ..Default::default()
        }
    }
}

impl TlsHandshake {
    /// The df-006 record of this handshake, with the leaf's SPKI SHA-256 as
    /// the extra key [`SPKI_EXTRA_KEY`].
    pub fn to_record(&self) -> model::TlsHandshake {
        let mut rec = model::TlsHandshake {
            address: self.address.to_string().into(),
            server_name: self.server_name.clone().into(),
            tls_version: self.tls_version.clone().unwrap_or_default().into(),
            cipher_suite: self.cipher_suite.clone().unwrap_or_default().into(),
            negotiated_protocol: self.negotiated_protocol.clone().unwrap_or_default().into(),
            peer_certificates: self
                .peer_certificates
                .iter()
                .map(|der| model::PeerCertificate::from_der(der))
                .collect::<Vec<_>>()
                .into(),
            no_tls_verify: false.into(),
            failure: failure(&self.failure),
            network: "tcp".to_string().into(),
            t0: secs(self.t0),
            t: secs(self.t),
            ..Default::default()
        };
        if let Some(pin) = &self.leaf_spki_sha256 {
            rec.extra.insert(
                SPKI_EXTRA_KEY.into(),
                serde_json::Value::String(pin.clone()),
            );
        }
        rec
    }

    /// The df-008 records of the handshake's milestones.
    pub fn event_records(&self) -> Vec<model::NetworkEvent> {
        self.events.iter().map(NetEvent::to_record).collect()
    }
}

fn header_list(headers: &[(String, String)]) -> model::HeaderList {
    headers
        .iter()
        .map(|(k, v)| (Body::from(k.as_str()), Body::from(v.as_str())))
        .collect()
}

fn header_map(headers: &[(String, String)]) -> model::HeaderMap {
    let mut map = model::HeaderMap::new();
    for (k, v) in headers {
        map.entry(k.clone())
            .or_insert_with(|| HeaderValue::from(v.as_str()));
    }
    map
}

impl HttpTransaction {
    /// The df-001 record of this round trip. When no response arrived the
    /// response is written the way OONI does: code 0, `null` body, no headers.
    pub fn to_record(&self) -> model::HttpTransaction {
        let request = model::HttpRequest {
            url: self.request.url.to_string().into(),
            method: self.request.method.clone().into(),
            headers_list: header_list(&self.request.headers).into(),
            headers: header_map(&self.request.headers).into(),
            body: Body::from_bytes(&self.request.body).into(),
            body_is_truncated: false.into(),
            tor: model::TorInfo {
                is_tor: false.into(),
                exit_ip: Nullable::Null,
                exit_name: Nullable::Null,
                ..Default::default()
            }
            .into(),
            x_transport: "tcp".to_string().into(),
            ..Default::default()
        };
        let response = match self.status {
            Some(code) => model::HttpResponse {
                code: i64::from(code).into(),
                headers_list: header_list(&self.response_headers).into(),
                headers: header_map(&self.response_headers).into(),
                body: Body::from_bytes(&self.body).into(),
                body_is_truncated: self.body_is_truncated.into(),
                ..Default::default()
            },
            None => model::HttpResponse {
                code: 0i64.into(),
                headers_list: Vec::new().into(),
                headers: model::HeaderMap::new().into(),
                body: Nullable::Null,
                body_is_truncated: false.into(),
                ..Default::default()
            },
        };
        let alpn = match (self.status, self.protocol) {
            (None, _) => String::new(),
            (Some(_), HttpProtocol::Http2) => "h2".into(),
            (Some(_), HttpProtocol::Http1) => "http/1.1".into(),
        };
        model::HttpTransaction {
            request: request.into(),
            response: response.into(),
            failure: failure(&self.failure),
            address: self
                .address
                .map(|a| a.to_string())
                .unwrap_or_default()
                .into(),
            alpn: alpn.into(),
            network: "tcp".to_string().into(),
            t0: secs(self.t0),
            t: secs(self.t),
            ..Default::default()
        }
    }

    /// The df-008 records of the round trip's milestones.
    pub fn event_records(&self) -> Vec<model::NetworkEvent> {
        self.events.iter().map(NetEvent::to_record).collect()
    }
}

impl FetchOutcome {
    /// The `requests` records, newest first.
    pub fn request_records(&self) -> Vec<model::HttpTransaction> {
        self.requests
            .iter()
            .map(HttpTransaction::to_record)
            .collect()
    }

    /// The `tcp_connect` records, in order.
    pub fn tcp_connect_records(&self) -> Vec<model::TcpConnect> {
        self.tcp_connect.iter().map(TcpConnect::to_record).collect()
    }

    /// The `tls_handshakes` records, in order.
    pub fn tls_handshake_records(&self) -> Vec<model::TlsHandshake> {
        self.tls_handshakes
            .iter()
            .map(TlsHandshake::to_record)
            .collect()
    }

    /// All `network_events` of the fetch, sorted by start time.
    pub fn event_records(&self) -> Vec<model::NetworkEvent> {
        let mut events: Vec<&NetEvent> = self
            .tcp_connect
            .iter()
            .map(|c| &c.event)
            .chain(self.tls_handshakes.iter().flat_map(|h| h.events.iter()))
            .chain(self.requests.iter().flat_map(|r| r.events.iter()))
            .collect();
        events.sort_by(|a, b| a.t0.total_cmp(&b.t0));
        events.into_iter().map(NetEvent::to_record).collect()
    }
}
