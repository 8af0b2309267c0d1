//! From what netx saw to OONI's archival records (df-001, df-002, df-005,
//! df-006, df-008), scrubbing the probe's own addresses on the way.

use std::collections::BTreeMap;
use std::sync::Arc;

use canary_ipinfo::AsnDb;
use canary_model as model;
use canary_model::{Body, HeaderValue, Nullable};
use canary_netx as netx;
use serde_json::Number;

/// Converts netx records into model records.
pub struct Recorder {
    scrubber: netx::Scrubber,
    asn_db: Option<Arc<AsnDb>>,
}

fn num(x: f64) -> Nullable<Number> {
    // Round to microseconds: enough for network timings, and short in JSON.
    let rounded = (x * 1e6).round() / 1e6;
    Number::from_f64(rounded).map_or(Nullable::Null, Nullable::Present)
}

fn failure(f: &Option<String>, scrubber: &netx::Scrubber) -> Nullable<model::Failure> {
    match f {
        Some(s) => Nullable::Present(model::Failure::from(scrubber.scrub(s).as_ref())),
        None => Nullable::Null,
    }
}

fn tags(tags: &[String]) -> Nullable<Vec<String>> {
    Nullable::Present(tags.to_vec())
}

impl Recorder {
    /// A recorder that removes `own` addresses from every string and body.
    pub fn new(own: &[String], asn_db: Option<Arc<AsnDb>>) -> Self {
        Recorder {
            scrubber: netx::Scrubber::new(own.iter().cloned()),
            asn_db,
        }
    }

    /// The scrubber in use.
    pub fn scrubber(&self) -> &netx::Scrubber {
        &self.scrubber
    }

    fn text(&self, s: &str) -> String {
        self.scrubber.scrub(s).into_owned()
    }

    fn body(&self, bytes: &[u8]) -> Body {
        Body::from_bytes(&self.scrubber.scrub_bytes(bytes))
    }

    /// One lookup (and, for UDP, none of its late replies: see
    /// [`Recorder::late_replies`]).
    pub fn dns(&self, lookup: &netx::DnsLookup, tag_list: &[String]) -> model::DnsQuery {
        let answers = lookup
            .answers
            .iter()
            .map(|a| self.answer(a))
            .collect::<Vec<_>>();
        let raw = lookup.raw_response.as_ref().map(|r| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(r)
        });
        model::DnsQuery {
            hostname: lookup.hostname.clone().into(),
            query_type: lookup.query_type.as_str().to_string().into(),
            engine: lookup.engine.as_str().to_string().into(),
            resolver_address: self
                .text(lookup.resolver_address.as_deref().unwrap_or(""))
                .into(),
            failure: failure(&lookup.failure, &self.scrubber),
            answers: answers.into(),
            raw_response: raw.into(),
            rcode: lookup.rcode.map(i64::from).into(),
            t0: num(lookup.t0),
            t: num(lookup.t),
            tags: tags(tag_list),
            ..Default::default()
        }
    }

    /// The late and duplicate UDP replies of a lookup (OONI's
    /// `x_dns_duplicate_responses`).
    pub fn late_replies(
        &self,
        lookup: &netx::DnsLookup,
        tag_list: &[String],
    ) -> Vec<model::DnsQuery> {
        lookup
            .late_replies
            .iter()
            .map(|late| self.dns(late, tag_list))
            .collect()
    }

    fn answer(&self, a: &netx::Answer) -> model::DnsAnswer {
        let mut out = model::DnsAnswer {
            answer_type: a.answer_type().to_string().into(),
            ttl: a.ttl().map(Number::from).into(),
            ..Default::default()
        };
        match a {
            netx::Answer::A { ip, .. } => out.ipv4 = ip.to_string().into(),
            netx::Answer::Aaaa { ip, .. } => out.ipv6 = ip.to_string().into(),
            netx::Answer::Cname { hostname, .. } => out.hostname = hostname.clone().into(),
        }
        if let Some(ip) = a.ip() {
            let network = self.asn_db.as_ref().and_then(|db| db.lookup(ip));
            out.asn = network.map_or(0, |n| n.asn).into();
            out.as_org_name = network.map_or(String::new(), |n| n.name.clone()).into();
        }
        out
    }

    /// One TCP connect.
    pub fn tcp(&self, c: &netx::TcpConnect, tag_list: &[String]) -> model::TcpConnect {
        model::TcpConnect {
            ip: c.addr.ip().to_string().into(),
            port: c.addr.port().into(),
            status: model::TcpConnectStatus {
                success: c.success().into(),
                failure: failure(&c.failure, &self.scrubber),
                ..Default::default()
            }
            .into(),
            t0: num(c.t0),
            t: num(c.t),
            tags: tags(tag_list),
            ..Default::default()
        }
    }

    /// One TLS handshake, with the peer's chain and, as a Canary extension,
    /// the leaf's SPKI SHA-256 (`x_spki_sha256`).
    pub fn tls(&self, h: &netx::TlsHandshake, tag_list: &[String]) -> model::TlsHandshake {
        let mut out = model::TlsHandshake {
            address: h.address.to_string().into(),
            server_name: h.server_name.clone().into(),
            tls_version: h.tls_version.clone().into(),
            cipher_suite: h.cipher_suite.clone().into(),
            negotiated_protocol: h.negotiated_protocol.clone().unwrap_or_default().into(),
            peer_certificates: h
                .peer_certificates
                .iter()
                .map(|der| model::PeerCertificate::from_der(der))
                .collect::<Vec<_>>()
                .into(),
            no_tls_verify: false.into(),
            failure: failure(&h.failure, &self.scrubber),
            network: "tcp".to_string().into(),
            t0: num(h.t0),
            t: num(h.t),
            tags: tags(tag_list),
            ..Default::default()
        };
        if let Some(spki) = &h.leaf_spki_sha256 {
            out.extra.insert(
                "x_spki_sha256".into(),
                serde_json::Value::String(spki.clone()),
            );
        }
        out
    }

    /// One HTTP round trip (df-001), body capped as received.
    pub fn http(&self, tx: &netx::HttpTransaction, tag_list: &[String]) -> model::HttpTransaction {
        let request_headers: Vec<(Body, Body)> = tx
            .request
            .headers
            .iter()
            .map(|(k, v)| (Body::from(k.as_str()), Body::from(self.text(v))))
            .collect();
        let response = tx.status.map(|code| {
            let list: Vec<(Body, Body)> = tx
                .response_headers
                .iter()
                .map(|(k, v)| (Body::from(k.as_str()), Body::from(self.text(v))))
                .collect();
            model::HttpResponse {
                code: i64::from(code).into(),
                headers_list: list.into(),
                headers: header_map(&tx.response_headers, &self.scrubber).into(),
                body: self.body(&tx.body).into(),
                body_is_truncated: tx.body_is_truncated.into(),
                ..Default::default()
            }
        });
        let response = response.unwrap_or_else(|| model::HttpResponse {
            code: 0.into(),
            headers_list: Vec::new().into(),
            headers: BTreeMap::new().into(),
            body: Nullable::Null,
            body_is_truncated: false.into(),
            ..Default::default()
        });
        model::HttpTransaction {
            request: model::HttpRequest {
                url: tx.request.url.to_string().into(),
                method: tx.request.method.clone().into(),
                headers_list: request_headers.into(),
                headers: header_map(&tx.request.headers, &self.scrubber).into(),
                body: Body::from("").into(),
                body_is_truncated: false.into(),
                ..Default::default()
            }
            .into(),
            response: response.into(),
            failure: failure(&tx.failure, &self.scrubber),
            address: tx.address.map(|a| a.to_string()).into(),
            alpn: match tx.protocol {
                netx::HttpProtocol::Http2 => "h2".to_string(),
                netx::HttpProtocol::Http1 => "http/1.1".to_string(),
            }
            .into(),
            network: "tcp".to_string().into(),
            t0: num(tx.t0),
            t: num(tx.t),
            tags: tags(tag_list),
            ..Default::default()
        }
    }

    /// Low-level events (df-008).
    pub fn event(&self, e: &netx::NetEvent, tag_list: &[String]) -> model::NetworkEvent {
        model::NetworkEvent {
            operation: e.operation.to_string().into(),
            address: e.address.as_deref().map(|a| self.text(a)).into(),
            proto: e.proto.map(str::to_string).into(),
            num_bytes: e
                .num_bytes
                .map(|n| i64::try_from(n).unwrap_or(i64::MAX))
                .into(),
            failure: failure(&e.failure, &self.scrubber),
            t0: num(e.t0),
            t: num(e.t),
            tags: tags(tag_list),
            ..Default::default()
        }
    }
}

/// OONI's `headers` map: one entry per name, the first value kept.
fn header_map(
    headers: &[(String, String)],
    scrubber: &netx::Scrubber,
) -> BTreeMap<String, HeaderValue> {
    let mut map = BTreeMap::new();
    for (k, v) in headers {
        map.entry(k.clone())
            .or_insert_with(|| HeaderValue::from(scrubber.scrub(v).as_ref()));
    }
    map
}
