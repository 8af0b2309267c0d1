//! `telegram` (OONI ts-020): the data centres (HTTP POST in cleartext on 80
//! and 443) and Telegram Web.
//!
//! OONI's semantics (v0.3), recomputed from the records:
//!
//! * `telegram_http_blocking` is `true` unless some POST to a data centre
//!   got a response (any status);
//! * `telegram_tcp_blocking` is `true` unless some connect to a data centre
//!   succeeded;
//! * `telegram_web_status` is `"blocked"` when fetching Telegram Web failed
//!   (DNS, TCP, TLS or I/O; the status code is ignored), with the failure in
//!   `telegram_web_failure`.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::endpoints::TelegramEndpoints;
use crate::label::{EndpointLabel, Layer};
use crate::records::{strip_port, Records};
use crate::SocialVerdict;

/// The `test_name`.
pub const TEST_NAME: &str = "telegram";
/// The `test_version` Canary writes (OONI's current semantics).
pub const TEST_VERSION: &str = "0.3.1";
/// Endpoint name (tag) of Telegram Web.
pub const WEB: &str = "web";

/// Typed `telegram` test keys; records and unknown keys stay in `extra`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TelegramTestKeys {
    /// No POST to a data centre got a response.
    #[serde(default)]
    pub telegram_http_blocking: Option<bool>,
    /// No connect to a data centre succeeded.
    #[serde(default)]
    pub telegram_tcp_blocking: Option<bool>,
    /// `"ok"` or `"blocked"`.
    #[serde(default)]
    pub telegram_web_status: Option<String>,
    /// Telegram Web's failure.
    #[serde(default)]
    pub telegram_web_failure: Option<String>,
    /// Canary's label (absent in OONI's measurements).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_canary: Option<SocialVerdict>,
    /// Every other key, as found.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl canary_model::TypedTestKeys for TelegramTestKeys {
    const TEST_NAME: &'static str = TEST_NAME;
}

impl TelegramTestKeys {
    /// Writes the verdict keys (and Canary's label) into `test_keys`.
    pub fn merge_into(&self, test_keys: &mut Map<String, Value>) {
        if let Ok(Value::Object(m)) = serde_json::to_value(self) {
            test_keys.extend(m);
        }
    }
}

/// The endpoint name of a data-centre address and port (`149.154.175.50:80`).
pub fn dc_endpoint(host: &str, port: u16) -> String {
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(_)) => format!("[{host}]:{port}"),
        _ => format!("{host}:{port}"),
    }
}

/// Recomputes the verdict keys from `records`.
pub fn analyse(records: &Records, endpoints: &TelegramEndpoints) -> TelegramTestKeys {
    let web_host = url::Url::parse(&endpoints.web_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    // A data-centre request: POSTed, or addressed to an IP literal (old
    // engines recorded neither method nor URL, only the Host header).
    let dc_requests: Vec<_> = records
        .requests
        .iter()
        .filter(|r| r.host != web_host)
        .filter(|r| {
            r.method.as_deref() == Some("POST")
                || r.host
                    .as_deref()
                    .is_some_and(|h| strip_port(h).parse::<IpAddr>().is_ok())
        })
        .collect();
    let mut dc_ips: Vec<IpAddr> = endpoints
        .datacenters
        .iter()
        .filter_map(|d| d.host.parse().ok())
        .collect();
    dc_ips.extend(
        dc_requests
            .iter()
            .filter_map(|r| r.host.as_deref().and_then(|h| h.parse::<IpAddr>().ok())),
    );
    let http_ok = dc_requests.iter().any(|r| r.failure.is_none());
    let tcp_ok = records
        .tcp
        .iter()
        .any(|t| t.success && t.ip.is_some_and(|ip| dc_ips.contains(&ip)));
    let mut labels = Vec::new();
    let tagged = records.tagged();
    for dc in &endpoints.datacenters {
        for port in &dc.ports {
            let name = dc_endpoint(&dc.host, *port);
            let ip: Option<IpAddr> = dc.host.parse().ok();
            let tcp = records.tcp_for(&name, ip.as_slice(), *port);
            let request = records.requests.iter().find(|r| {
                if tagged {
                    crate::records::has_endpoint(&r.tags, &name)
                } else {
                    r.url
                        .as_deref()
                        .and_then(|u| url::Url::parse(u).ok())
                        .is_some_and(|u| {
                            u.host_str() == Some(dc.host.as_str())
                                && u.port_or_known_default() == Some(*port)
                        })
                }
            });
            let label = if !tcp.is_empty() && tcp.iter().all(|t| !t.success) {
                let f = tcp
                    .iter()
                    .find_map(|t| t.failure.clone())
                    .unwrap_or_else(|| "unknown_failure".into());
                EndpointLabel::failed(&name, Layer::Tcp, &f)
            } else if let Some(f) = request.and_then(|r| r.failure.clone()) {
                EndpointLabel::failed(&name, Layer::Http, &f)
            } else {
                EndpointLabel::ok(&name)
            };
            labels.push(label);
        }
    }
    let web = records.target(WEB, &endpoints.web_url);
    labels.push(match (&web.failure, web.layer) {
        (Some(f), Some(layer)) => EndpointLabel::failed(WEB, layer, f),
        _ => EndpointLabel::ok(WEB),
    });
    TelegramTestKeys {
        telegram_http_blocking: Some(!http_ok),
        telegram_tcp_blocking: Some(!(tcp_ok || http_ok)),
        telegram_web_status: Some(
            if web.failure.is_some() {
                "blocked"
            } else {
                "ok"
            }
            .into(),
        ),
        telegram_web_failure: web.failure,
        x_canary: Some(SocialVerdict::from_endpoints(labels)),
        extra: Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::HostPorts;
    use crate::{Kind, Outcome};
    use serde_json::json;

    fn eps() -> TelegramEndpoints {
        TelegramEndpoints {
            datacenters: vec![
                HostPorts {
                    host: "198.51.100.1".into(),
                    ports: vec![80, 443],
                },
                HostPorts {
                    host: "198.51.100.2".into(),
                    ports: vec![80, 443],
                },
            ],
            web_url: "https://web.tg.test/".into(),
        }
    }

    fn tcp(ip: &str, port: u16, failure: Option<&str>) -> Value {
        json!({"ip": ip, "port": port, "status": {"success": failure.is_none(), "failure": failure}})
    }

    fn post(ip: &str, port: u16, failure: Option<&str>) -> Value {
        let url = if port == 80 {
            format!("http://{ip}/")
        } else {
            format!("http://{ip}:{port}/")
        };
        json!({"request": {"method": "POST", "url": url}, "failure": failure,
               "response": {"code": if failure.is_none() { 404 } else { 0 }}})
    }

    #[test]
    fn one_answering_data_centre_is_enough_and_tcp_blocking_needs_every_connect_to_fail() {
        let to = Some("generic_timeout_error");
        let rst = Some("connection_reset");
        // (name, dc1:80, dc1:443 connect, post failure, want http, want tcp)
        let cases = [
            ("all answer", None, None, None, false, false),
            ("connect ok, POST reset", None, None, rst, true, false),
            ("no connect", to, to, to, true, true),
        ];
        for (name, c80, c443, p, want_http, want_tcp) in cases {
            let tk = json!({
                "tcp_connect": [tcp("198.51.100.1", 80, c80), tcp("198.51.100.1", 443, c443),
                                tcp("198.51.100.2", 80, c80), tcp("198.51.100.2", 443, c443)],
                "requests": [post("198.51.100.1", 80, p), post("198.51.100.1", 443, p),
                             post("198.51.100.2", 80, p), post("198.51.100.2", 443, p),
                             {"request": {"method": "GET", "url": "https://web.tg.test/"}, "failure": null, "response": {"code": 200}}]});
            let k = analyse(&Records::from_test_keys(&tk), &eps());
            assert_eq!(k.telegram_http_blocking, Some(want_http), "{name}");
            assert_eq!(k.telegram_tcp_blocking, Some(want_tcp), "{name}");
            assert_eq!(k.telegram_web_status.as_deref(), Some("ok"), "{name}");
        }
    }

    #[test]
    fn one_blackholed_data_centre_is_not_blocking_for_ooni_but_labelled_by_canary() {
        let to = Some("generic_timeout_error");
        let tk = json!({
            "tcp_connect": [tcp("198.51.100.1", 80, to), tcp("198.51.100.1", 443, to),
                            tcp("198.51.100.2", 80, None), tcp("198.51.100.2", 443, None)],
            "requests": [post("198.51.100.1", 80, to), post("198.51.100.2", 80, None)]});
        let k = analyse(&Records::from_test_keys(&tk), &eps());
        assert_eq!(
            (k.telegram_http_blocking, k.telegram_tcp_blocking),
            (Some(false), Some(false))
        );
        let c = k.x_canary.unwrap();
        assert_eq!(
            (c.outcome, c.layer, c.kind),
            (Outcome::Blocked, Some(Layer::Tcp), Some(Kind::Blackhole))
        );
        assert_eq!(c.endpoints[0].endpoint, "198.51.100.1:80");
    }

    #[test]
    fn a_web_failure_is_web_blocking() {
        let tk = json!({"queries": [{"hostname": "web.tg.test", "query_type": "A", "failure": "dns_nxdomain_error"}],
            "requests": [{"request": {"method": "GET", "url": "https://web.tg.test/"}, "failure": "dns_nxdomain_error"}]});
        let k = analyse(&Records::from_test_keys(&tk), &eps());
        assert_eq!(k.telegram_web_status.as_deref(), Some("blocked"));
        assert_eq!(
            k.telegram_web_failure.as_deref(),
            Some("dns_nxdomain_error")
        );
        let web = k.x_canary.unwrap().endpoints.pop().unwrap();
        assert_eq!(
            (web.layer, web.kind),
            (Some(Layer::Dns), Some(Kind::Nxdomain))
        );
    }
}
