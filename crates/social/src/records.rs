//! Lenient views of the records in a measurement's `test_keys`.
//!
//! OONI's social experiments have been written by several engines over ten
//! years (MK's `status: {"failure": false}`, requests without a URL, answers
//! with or without `asn`), so these views read JSON values field by field
//! and keep what every version agrees on; anything unexpected is skipped,
//! never a panic. Canary's own records add a tag `endpoint=<name>` that
//! attributes each record to the endpoint it measured.

use std::net::IpAddr;

use serde_json::Value;

/// Most records of each kind read from one measurement.
pub const MAX_RECORDS: usize = 4096;

/// The tag prefix Canary uses to attribute a record to an endpoint.
pub const ENDPOINT_TAG: &str = "endpoint=";

/// One DNS answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The address of an A/AAAA answer (`None` for CNAME and others).
    pub ip: Option<IpAddr>,
    /// The AS number the recorder annotated, when present and non-zero.
    pub asn: Option<u32>,
}

/// One DNS query (df-002).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    /// The name asked.
    pub hostname: String,
    /// `A`, `AAAA`, ...
    pub query_type: String,
    /// The failure, if any.
    pub failure: Option<String>,
    /// The answers.
    pub answers: Vec<Answer>,
    /// Tags.
    pub tags: Vec<String>,
}

/// One TCP connect (df-005).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tcp {
    /// The address connected to.
    pub ip: Option<IpAddr>,
    /// The port.
    pub port: u16,
    /// Whether it connected.
    pub success: bool,
    /// The failure, if any.
    pub failure: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
}

/// One TLS handshake (df-006).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tls {
    /// `ip:port`, when recorded.
    pub address: Option<String>,
    /// The SNI.
    pub server_name: String,
    /// The failure, if any.
    pub failure: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
}

/// One HTTP transaction (df-001).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// The method, when recorded.
    pub method: Option<String>,
    /// The URL, when recorded.
    pub url: Option<String>,
    /// The host: from the URL, else from the `Host` header (without port).
    pub host: Option<String>,
    /// The failure, if any.
    pub failure: Option<String>,
    /// The response status, when a response came.
    pub status: Option<u16>,
    /// Tags.
    pub tags: Vec<String>,
}

/// The records of one measurement.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Records {
    /// `queries`.
    pub queries: Vec<Query>,
    /// `tcp_connect`.
    pub tcp: Vec<Tcp>,
    /// `tls_handshakes`.
    pub tls: Vec<Tls>,
    /// `requests` (newest first, as OONI writes them).
    pub requests: Vec<Request>,
}

/// A df-007 failure from any of the forms engines wrote: a string, `null`,
/// `false` (MK: no failure), `true` (a failure without a name).
pub fn failure_of(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Bool(true)) => Some("unknown_failure".into()),
        _ => None,
    }
}

fn tags_of(v: &Value) -> Vec<String> {
    v.get("tags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .take(32)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn list<'a>(keys: &'a Value, name: &str) -> impl Iterator<Item = &'a Value> {
    keys.get(name)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .take(MAX_RECORDS)
}

fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// `host` without a trailing `:port` (IPv6 in brackets kept bare).
pub fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    }
}

fn request_of(v: &Value) -> Request {
    let req = v.get("request").unwrap_or(&Value::Null);
    let url = str_of(req, "url");
    let host_from_url = url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_string()));
    let host_header = || {
        if let Some(list) = req.get("headers_list").and_then(Value::as_array) {
            for pair in list {
                let name = pair.get(0).and_then(Value::as_str).unwrap_or("");
                if name.eq_ignore_ascii_case("host") {
                    return pair.get(1).and_then(Value::as_str).map(str::to_string);
                }
            }
        }
        req.get("headers").and_then(Value::as_object).and_then(|h| {
            h.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("host"))
                .and_then(|(_, v)| v.as_str().map(str::to_string))
        })
    };
    let host = host_from_url.or_else(|| host_header().map(|h| strip_port(&h).to_string()));
    let status = v
        .get("response")
        .and_then(|r| r.get("code"))
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| *c > 0);
    Request {
        method: str_of(req, "method"),
        url,
        host: host.map(|h| h.to_ascii_lowercase()),
        failure: failure_of(v.get("failure")),
        status,
        tags: tags_of(v),
    }
}

impl Records {
    /// Reads the records of a `test_keys` object (missing lists are empty).
    pub fn from_test_keys(keys: &Value) -> Self {
        let queries = list(keys, "queries")
            .map(|q| Query {
                hostname: str_of(q, "hostname")
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
                query_type: str_of(q, "query_type").unwrap_or_default(),
                failure: failure_of(q.get("failure")),
                answers: q
                    .get("answers")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .take(256)
                    .map(|a| Answer {
                        ip: a
                            .get("ipv4")
                            .or_else(|| a.get("ipv6"))
                            .and_then(Value::as_str)
                            .and_then(|s| s.parse().ok()),
                        asn: a
                            .get("asn")
                            .and_then(Value::as_u64)
                            .and_then(|n| u32::try_from(n).ok())
                            .filter(|n| *n != 0),
                    })
                    .collect(),
                tags: tags_of(q),
            })
            .collect();
        let tcp = list(keys, "tcp_connect")
            .map(|t| {
                let status = t.get("status").unwrap_or(&Value::Null);
                let failure = failure_of(status.get("failure"));
                let success = status
                    .get("success")
                    .and_then(Value::as_bool)
                    .unwrap_or(failure.is_none());
                Tcp {
                    ip: t
                        .get("ip")
                        .and_then(Value::as_str)
                        .and_then(|s| s.parse().ok()),
                    port: t
                        .get("port")
                        .and_then(Value::as_u64)
                        .and_then(|p| u16::try_from(p).ok())
                        .unwrap_or(0),
                    success,
                    failure,
                    tags: tags_of(t),
                }
            })
            .collect();
        let tls = list(keys, "tls_handshakes")
            .map(|h| Tls {
                address: str_of(h, "address"),
                server_name: str_of(h, "server_name")
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
                failure: failure_of(h.get("failure")),
                tags: tags_of(h),
            })
            .collect();
        let requests = list(keys, "requests").map(request_of).collect();
        Records {
            queries,
            tcp,
            tls,
            requests,
        }
    }

    /// Whether any record carries Canary's endpoint tags (then attribution
    /// is by tag, else by host name and address).
    pub fn tagged(&self) -> bool {
        let has = |tags: &[String]| tags.iter().any(|t| t.starts_with(ENDPOINT_TAG));
        self.queries.iter().any(|q| has(&q.tags))
            || self.tcp.iter().any(|t| has(&t.tags))
            || self.requests.iter().any(|r| has(&r.tags))
    }
}

/// Whether `tags` attribute a record to `endpoint`.
pub fn has_endpoint(tags: &[String], endpoint: &str) -> bool {
    tags.iter()
        .any(|t| t.strip_prefix(ENDPOINT_TAG) == Some(endpoint))
}

/// The outcome of one URL target (a GET or POST with its DNS, TCP and TLS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetResult {
    /// The target's failure (the first failing request's), if any.
    pub failure: Option<String>,
    /// The step that failed, when it failed.
    pub layer: Option<crate::Layer>,
    /// The newest response's status, when a response came.
    pub status: Option<u16>,
    /// Whether any record of the target was found.
    pub measured: bool,
}

impl Records {
    /// DNS queries of `host` (by tag `endpoint` when the records are tagged).
    pub fn queries_for(&self, endpoint: &str, host: &str) -> Vec<&Query> {
        let host = host.to_ascii_lowercase();
        if self.tagged() {
            self.queries
                .iter()
                .filter(|q| has_endpoint(&q.tags, endpoint))
                .collect()
        } else {
            self.queries.iter().filter(|q| q.hostname == host).collect()
        }
    }

    /// TCP connects of an endpoint on `port`: by tag, else to one of `ips`.
    pub fn tcp_for(&self, endpoint: &str, ips: &[IpAddr], port: u16) -> Vec<&Tcp> {
        let tagged = self.tagged();
        self.tcp
            .iter()
            .filter(|t| t.port == port)
            .filter(|t| {
                if tagged {
                    has_endpoint(&t.tags, endpoint)
                } else {
                    t.ip.is_some_and(|ip| ips.contains(&ip))
                }
            })
            .collect()
    }

    /// The outcome of fetching `url` (requests by tag, else by host).
    pub fn target(&self, endpoint: &str, url: &str) -> TargetResult {
        let parsed = url::Url::parse(url).ok();
        let host = parsed
            .as_ref()
            .and_then(|u| u.host_str())
            .map(|h| h.trim_matches(['[', ']']).to_ascii_lowercase())
            .unwrap_or_default();
        let port = parsed
            .as_ref()
            .and_then(url::Url::port_or_known_default)
            .unwrap_or(443);
        let https = parsed.as_ref().is_some_and(|u| u.scheme() == "https");
        let tagged = self.tagged();
        let requests: Vec<&Request> = self
            .requests
            .iter()
            .filter(|r| {
                if tagged {
                    has_endpoint(&r.tags, endpoint)
                } else {
                    // Same host, and the same scheme when the URL was recorded
                    // (old engines fetched http:// and https:// of one host).
                    r.host.as_deref() == Some(host.as_str())
                        && r.url.as_deref().is_none_or(|u| {
                            u.split_once(':').map(|(s, _)| s)
                                == parsed.as_ref().map(url::Url::scheme)
                        })
                }
            })
            .collect();
        let queries = self.queries_for(endpoint, &host);
        let ips: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => addresses(&queries),
        };
        let tcp = self.tcp_for(endpoint, &ips, port);
        let tls: Vec<&Tls> = self
            .tls
            .iter()
            .filter(|h| {
                if tagged {
                    has_endpoint(&h.tags, endpoint)
                } else {
                    h.server_name == host
                }
            })
            .collect();
        let newest = requests.first();
        let status = newest.and_then(|r| r.status);
        let dns_failed = host.parse::<IpAddr>().is_err() && !queries.is_empty() && ips.is_empty();
        let tcp_failed = !tcp.is_empty() && tcp.iter().all(|t| !t.success);
        let tls_failed = https && !tls.is_empty() && tls.iter().all(|h| h.failure.is_some());
        let first_failure = |it: &mut dyn Iterator<Item = Option<String>>| it.flatten().next();
        // A target fails when any of its requests failed: one redirect chain
        // fails at its newest hop, and old engines measured some URLs twice.
        let failure = match newest {
            Some(_) => requests.iter().find_map(|r| r.failure.clone()),
            None if dns_failed => first_failure(&mut queries.iter().map(|q| q.failure.clone()))
                .or_else(|| Some("dns_no_answer".into())),
            None if tcp_failed => first_failure(&mut tcp.iter().map(|t| t.failure.clone())),
            None if tls_failed => first_failure(&mut tls.iter().map(|h| h.failure.clone())),
            None => None,
        };
        let measured =
            newest.is_some() || !queries.is_empty() || !tcp.is_empty() || !tls.is_empty();
        let layer = failure.as_deref().map(|f| {
            if dns_failed || f.starts_with("dns_") || f == "android_dns_cache_no_data" {
                crate::Layer::Dns
            } else if tcp_failed {
                crate::Layer::Tcp
            } else if tls_failed || f.starts_with("ssl_") {
                crate::Layer::Tls
            } else {
                crate::Layer::Http
            }
        });
        TargetResult {
            failure,
            layer,
            status,
            measured,
        }
    }
}

/// Every A/AAAA address the queries answered.
pub fn addresses(queries: &[&Query]) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for q in queries {
        for a in &q.answers {
            if let Some(ip) = a.ip {
                if !out.contains(&ip) {
                    out.push(ip);
                }
            }
        }
    }
    out
}

/// The first failure of the queries (the one to report when no address came).
pub fn dns_failure(queries: &[&Query]) -> String {
    queries
        .iter()
        .find_map(|q| q.failure.clone())
        .unwrap_or_else(|| "dns_no_answer".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_engine_form_of_failure_is_read() {
        let cases = [
            (json!("connection_reset"), Some("connection_reset")),
            (json!(null), None),
            (json!(false), None),
            (json!(true), Some("unknown_failure")),
            (json!(3), None),
        ];
        for (v, want) in cases {
            assert_eq!(failure_of(Some(&v)).as_deref(), want, "{v}");
        }
        assert_eq!(failure_of(None), None);
    }

    #[test]
    fn a_request_without_url_takes_its_host_from_the_host_header() {
        let keys = json!({"requests": [
            {"request": {"headers_list": [["Host", "149.154.171.5:443"]]}, "failure": null,
             "response": {"code": 404}},
            {"request": {"url": "https://Web.Telegram.org/", "method": "GET"}, "failure": "eof_error"}
        ]});
        let r = Records::from_test_keys(&keys);
        assert_eq!(r.requests[0].host.as_deref(), Some("149.154.171.5"));
        assert_eq!(r.requests[0].status, Some(404));
        assert_eq!(r.requests[1].host.as_deref(), Some("web.telegram.org"));
        assert_eq!(r.requests[1].failure.as_deref(), Some("eof_error"));
    }

    #[test]
    fn hostile_records_are_skipped_not_fatal() {
        let keys = json!({"queries": "nope", "tcp_connect": [1, {"ip": "x", "port": 70000}],
                          "tls_handshakes": [null], "requests": [{"request": 5}]});
        let r = Records::from_test_keys(&keys);
        assert!(r.queries.is_empty());
        assert_eq!(r.tcp.len(), 2);
        assert!(r.tcp.iter().all(|t| t.ip.is_none() && t.port == 0));
        assert_eq!(r.tls.len(), 1);
        assert_eq!(r.requests[0].host, None);
    }

    #[test]
    fn ports_are_stripped_from_hosts() {
        for (h, want) in [
            ("a.test:80", "a.test"),
            ("a.test", "a.test"),
            ("[::1]:443", "::1"),
            ("::1", "::1"),
        ] {
            assert_eq!(strip_port(h), want);
        }
    }
}
