//! `whatsapp` (OONI ts-018): the chat endpoints, the registration service
//! and WhatsApp Web.
//!
//! OONI's semantics (v0.11), recomputed from the records:
//!
//! * `whatsapp_endpoints_status` is `"blocked"` only when **every** endpoint
//!   failed on every port; one working endpoint makes it `"ok"`;
//! * `whatsapp_endpoints_blocked` lists the endpoints that failed on all of
//!   their ports (both 443 and 5222 by default);
//! * `registration_server_status` / `whatsapp_web_status` are `"blocked"`
//!   on any DNS, TCP, TLS or I/O failure (the HTTP status is ignored), with
//!   the failure in `registration_server_failure` / `whatsapp_web_failure`;
//! * `whatsapp_endpoints_dns_inconsistent` is always empty (OONI dropped the
//!   check).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::endpoints::WhatsappEndpoints;
use crate::label::{EndpointLabel, Layer};
use crate::records::{addresses, dns_failure, Records};
use crate::SocialVerdict;

/// The `test_name`.
pub const TEST_NAME: &str = "whatsapp";
/// The `test_version` Canary writes (OONI's current semantics).
pub const TEST_VERSION: &str = "0.11.0";
/// Endpoint name (tag) of the registration service.
pub const REGISTRATION: &str = "registration";
/// Endpoint name (tag) of WhatsApp Web.
pub const WEB: &str = "web";

/// Typed `whatsapp` test keys; records and unknown keys stay in `extra`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct WhatsappTestKeys {
    /// `"ok"` or `"blocked"`.
    #[serde(default)]
    pub registration_server_status: Option<String>,
    /// The registration fetch's failure.
    #[serde(default)]
    pub registration_server_failure: Option<String>,
    /// `"ok"` or `"blocked"` (all endpoints failed).
    #[serde(default)]
    pub whatsapp_endpoints_status: Option<String>,
    /// Endpoints failing on every port.
    #[serde(default)]
    pub whatsapp_endpoints_blocked: Option<Vec<String>>,
    /// Always empty in current OONI.
    #[serde(default)]
    pub whatsapp_endpoints_dns_inconsistent: Option<Vec<String>>,
    /// `"ok"` or `"blocked"`.
    #[serde(default)]
    pub whatsapp_web_status: Option<String>,
    /// The web fetch's failure.
    #[serde(default)]
    pub whatsapp_web_failure: Option<String>,
    /// Canary's label (absent in OONI's measurements).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_canary: Option<SocialVerdict>,
    /// Every other key, as found.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl canary_model::TypedTestKeys for WhatsappTestKeys {
    const TEST_NAME: &'static str = TEST_NAME;
}

impl WhatsappTestKeys {
    /// Writes the verdict keys (and Canary's label) into `test_keys`.
    pub fn merge_into(&self, test_keys: &mut Map<String, Value>) {
        if let Ok(Value::Object(m)) = serde_json::to_value(self) {
            test_keys.extend(m);
        }
    }
}

fn status(failure: &Option<String>) -> Option<String> {
    Some(if failure.is_some() { "blocked" } else { "ok" }.to_string())
}

/// Recomputes the verdict keys from `records`.
pub fn analyse(records: &Records, endpoints: &WhatsappEndpoints) -> WhatsappTestKeys {
    let mut labels = Vec::new();
    let mut blocked = Vec::new();
    let mut any_ok = false;
    for ep in &endpoints.endpoints {
        let queries = records.queries_for(&ep.host, &ep.host);
        let ips: Vec<_> = match ep.host.parse() {
            Ok(ip) => vec![ip],
            Err(_) => addresses(&queries),
        };
        if ips.is_empty() {
            blocked.push(ep.host.clone());
            labels.push(EndpointLabel::failed(
                &ep.host,
                Layer::Dns,
                &dns_failure(&queries),
            ));
            continue;
        }
        let mut failure = None;
        let mut ok_ports = 0;
        for port in &ep.ports {
            let tcp = records.tcp_for(&ep.host, &ips, *port);
            if tcp.iter().any(|t| t.success) {
                ok_ports += 1;
            } else if failure.is_none() {
                failure = Some(
                    tcp.iter()
                        .find_map(|t| t.failure.clone())
                        .unwrap_or_else(|| "unknown_failure".into()),
                );
            }
        }
        any_ok |= ok_ports > 0;
        match failure {
            Some(f) if ok_ports == 0 => {
                blocked.push(ep.host.clone());
                labels.push(EndpointLabel::failed(&ep.host, Layer::Tcp, &f));
            }
            Some(f) => {
                // One port works: OONI does not list it; Canary says which port failed.
                labels.push(EndpointLabel::failed(&ep.host, Layer::Tcp, &f));
            }
            None => labels.push(EndpointLabel::ok(&ep.host)),
        }
    }
    let registration = records.target(REGISTRATION, &endpoints.registration_url);
    let web = records.target(WEB, &endpoints.web_url);
    for (name, t) in [(REGISTRATION, &registration), (WEB, &web)] {
        labels.push(match (&t.failure, t.layer) {
            (Some(f), Some(layer)) => EndpointLabel::failed(name, layer, f),
            _ => EndpointLabel::ok(name),
        });
    }
    WhatsappTestKeys {
        registration_server_status: status(&registration.failure),
        registration_server_failure: registration.failure.clone(),
        whatsapp_endpoints_status: Some(if any_ok { "ok" } else { "blocked" }.into()),
        whatsapp_endpoints_blocked: Some(blocked),
        whatsapp_endpoints_dns_inconsistent: Some(Vec::new()),
        whatsapp_web_status: status(&web.failure),
        whatsapp_web_failure: web.failure.clone(),
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

    fn eps() -> WhatsappEndpoints {
        WhatsappEndpoints {
            endpoints: vec![
                HostPorts {
                    host: "e1.wa.test".into(),
                    ports: vec![443, 5222],
                },
                HostPorts {
                    host: "e2.wa.test".into(),
                    ports: vec![443, 5222],
                },
            ],
            registration_url: "https://v.wa.test/v2/register".into(),
            web_url: "https://web.wa.test/".into(),
        }
    }

    fn q(host: &str, ip: &str) -> Value {
        json!({"hostname": host, "query_type": "A", "answers": [{"ipv4": ip}]})
    }

    fn tcp(ip: &str, port: u16, failure: Option<&str>) -> Value {
        json!({"ip": ip, "port": port, "status": {"success": failure.is_none(), "failure": failure}})
    }

    fn get(url: &str, failure: Option<&str>, code: u16) -> Value {
        json!({"request": {"method": "GET", "url": url}, "failure": failure, "response": {"code": code}})
    }

    #[test]
    fn endpoints_are_blocked_only_when_all_fail_and_each_listed_when_both_ports_fail() {
        let to = Some("generic_timeout_error");
        let cases = [
            ("all ok", [None, None, None, None], "ok", vec![]),
            ("one port of e1", [to, None, None, None], "ok", vec![]),
            (
                "both ports of e1",
                [to, to, None, None],
                "ok",
                vec!["e1.wa.test"],
            ),
            (
                "everything",
                [to, to, to, to],
                "blocked",
                vec!["e1.wa.test", "e2.wa.test"],
            ),
        ];
        for (name, f, want_status, want_blocked) in cases {
            let tk = json!({"queries": [q("e1.wa.test", "198.51.100.1"), q("e2.wa.test", "198.51.100.2")],
                "tcp_connect": [tcp("198.51.100.1", 443, f[0]), tcp("198.51.100.1", 5222, f[1]),
                                tcp("198.51.100.2", 443, f[2]), tcp("198.51.100.2", 5222, f[3])],
                "requests": [get("https://v.wa.test/v2/register", None, 200), get("https://web.wa.test/", None, 200)]});
            let k = analyse(&Records::from_test_keys(&tk), &eps());
            assert_eq!(
                k.whatsapp_endpoints_status.as_deref(),
                Some(want_status),
                "{name}"
            );
            assert_eq!(
                k.whatsapp_endpoints_blocked.unwrap(),
                want_blocked,
                "{name}"
            );
        }
    }

    #[test]
    fn registration_and_web_are_blocked_on_network_errors_but_not_on_status_codes() {
        let tk = json!({"queries": [q("e1.wa.test", "198.51.100.1"), q("e2.wa.test", "198.51.100.2")],
            "tcp_connect": [tcp("198.51.100.1", 443, None)],
            "requests": [get("https://v.wa.test/v2/register", None, 405),
                         {"request": {"url": "https://web.wa.test/"}, "failure": "connection_reset"}],
            "tls_handshakes": [{"server_name": "web.wa.test", "failure": "connection_reset"}]});
        let k = analyse(&Records::from_test_keys(&tk), &eps());
        assert_eq!(k.registration_server_status.as_deref(), Some("ok"));
        assert_eq!(k.registration_server_failure, None);
        assert_eq!(k.whatsapp_web_status.as_deref(), Some("blocked"));
        assert_eq!(k.whatsapp_web_failure.as_deref(), Some("connection_reset"));
        let c = k.x_canary.unwrap();
        let web = c.endpoints.iter().find(|e| e.endpoint == WEB).unwrap();
        assert_eq!(
            (web.outcome, web.layer, web.kind),
            (Outcome::Blocked, Some(Layer::Tls), Some(Kind::Reset))
        );
    }
}
