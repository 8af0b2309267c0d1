//! The records behind a verdict, pulled out of a raw `web_connectivity`
//! measurement for the measurement page: what the probe's resolver
//! answered, which connections and handshakes failed, what the HTTP
//! requests returned, and what the control saw. Bounded: at most
//! [`MAX_ITEMS`] of each, every string cut at [`MAX_CHARS`].

use canary_analysis::httpdiff::extract_title;
use serde::Serialize;
use serde_json::Value;

/// Most records of each kind shown.
pub const MAX_ITEMS: usize = 32;
/// Longest string shown, in characters.
pub const MAX_CHARS: usize = 300;

/// One DNS lookup.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DnsRecord {
    /// Name looked up.
    pub hostname: String,
    /// Resolver engine (`udp`, `getaddrinfo`, …).
    pub engine: String,
    /// Failure string, if the lookup failed.
    pub failure: Option<String>,
    /// Addresses or names answered.
    pub answers: Vec<String>,
}

/// One TCP connection or TLS handshake.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConnRecord {
    /// `ip:port`.
    pub address: String,
    /// SNI (TLS only).
    pub server_name: String,
    /// Failure string, if it failed.
    pub failure: Option<String>,
}

/// One HTTP request (probe or control).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HttpRecord {
    /// Requested URL.
    pub url: String,
    /// Failure string, if it failed.
    pub failure: Option<String>,
    /// Response status.
    pub status: Option<i64>,
    /// Response body length in bytes.
    pub body_length: Option<i64>,
    /// Page title.
    pub title: String,
}

/// Everything the measurement page lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Records {
    /// Probe DNS lookups.
    pub dns: Vec<DnsRecord>,
    /// Addresses the control resolved.
    pub control_dns: Vec<String>,
    /// Control DNS failure.
    pub control_dns_failure: Option<String>,
    /// Probe TCP connections.
    pub tcp: Vec<ConnRecord>,
    /// Probe TLS handshakes.
    pub tls: Vec<ConnRecord>,
    /// Probe HTTP requests.
    pub http: Vec<HttpRecord>,
    /// The control's HTTP request.
    pub control_http: HttpRecord,
}

fn cut(s: &str) -> String {
    s.chars().take(MAX_CHARS).collect()
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .map(cut)
        .unwrap_or_default()
}

fn failure(v: &Value) -> Option<String> {
    v.get("failure").and_then(Value::as_str).map(cut)
}

fn list<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .take(MAX_ITEMS)
}

fn body_text(body: &Value) -> Option<String> {
    match body {
        Value::String(s) => Some(s.clone()),
        // base64 (binary) bodies are not shown
        _ => None,
    }
}

/// Extracts the records from a raw measurement (any shape: missing parts
/// are simply empty).
pub fn extract(raw: &Value) -> Records {
    let null = Value::Null;
    let tk = raw.get("test_keys").unwrap_or(&null);
    let mut r = Records::default();
    for q in list(tk, "queries") {
        let answers = list(q, "answers")
            .filter_map(|a| {
                a.get("ipv4")
                    .or_else(|| a.get("ipv6"))
                    .or_else(|| a.get("hostname"))
                    .and_then(Value::as_str)
                    .map(cut)
            })
            .collect();
        r.dns.push(DnsRecord {
            hostname: text(q, "hostname"),
            engine: text(q, "engine"),
            failure: failure(q),
            answers,
        });
    }
    for t in list(tk, "tcp_connect") {
        let ip = text(t, "ip");
        let port = t.get("port").and_then(Value::as_i64).unwrap_or(0);
        let status = t.get("status").unwrap_or(&null);
        r.tcp.push(ConnRecord {
            address: if ip.contains(':') {
                format!("[{ip}]:{port}")
            } else {
                format!("{ip}:{port}")
            },
            server_name: String::new(),
            failure: failure(status),
        });
    }
    for t in list(tk, "tls_handshakes") {
        r.tls.push(ConnRecord {
            address: text(t, "address"),
            server_name: text(t, "server_name"),
            failure: failure(t),
        });
    }
    for q in list(tk, "requests") {
        let resp = q.get("response").unwrap_or(&null);
        let body = resp.get("body").and_then(body_text);
        r.http.push(HttpRecord {
            url: q
                .get("request")
                .map(|req| text(req, "url"))
                .unwrap_or_default(),
            failure: failure(q),
            status: resp.get("code").and_then(Value::as_i64),
            body_length: body.as_ref().map(|b| b.len() as i64),
            title: body
                .map(|b| cut(&extract_title(b.as_bytes())))
                .unwrap_or_default(),
        });
    }
    let control = tk.get("control").unwrap_or(&null);
    if let Some(dns) = control.get("dns") {
        r.control_dns = list(dns, "addrs")
            .filter_map(Value::as_str)
            .map(cut)
            .collect();
        r.control_dns_failure = failure(dns);
    }
    if let Some(h) = control.get("http_request") {
        r.control_http = HttpRecord {
            url: String::new(),
            failure: failure(h),
            status: h.get("status_code").and_then(Value::as_i64),
            body_length: h.get("body_length").and_then(Value::as_i64),
            title: text(h, "title"),
        };
    }
    r
}
