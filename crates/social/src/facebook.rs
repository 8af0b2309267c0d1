//! `facebook_messenger` (OONI ts-019): are Messenger's service endpoints
//! resolved to Facebook's own network, and do they accept TCP connections?
//!
//! OONI's semantics, recomputed from the records:
//!
//! * `facebook_<svc>_dns_consistent` is `true` when the name resolved and
//!   every A/AAAA answer belongs to Facebook's AS (32934), `false` when it did
//!   not resolve or an answer lies outside (the DNS lies);
//! * `facebook_<svc>_reachable` is `true` when a connect to one of its
//!   (consistent) addresses succeeded, `false` when all failed, `null` when
//!   not tried (DNS-only STUN, or inconsistent DNS);
//! * `facebook_dns_blocking` / `facebook_tcp_blocking`: any service
//!   inconsistent / unreachable.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use canary_ipinfo::AsnDb;

use crate::endpoints::FacebookEndpoints;
use crate::label::{EndpointLabel, Layer, DNS_INCONSISTENT};
use crate::records::{addresses, dns_failure, Records};
use crate::SocialVerdict;

/// The `test_name`.
pub const TEST_NAME: &str = "facebook_messenger";
/// The `test_version` Canary writes (OONI's current semantics).
pub const TEST_VERSION: &str = "0.2.1";

/// Typed `facebook_messenger` test keys. The per-service keys
/// (`facebook_<svc>_dns_consistent`, `facebook_<svc>_reachable`) depend on
/// the endpoint list, so they live in `extra` with the records; read them
/// with [`FacebookMessengerTestKeys::dns_consistent`] and
/// [`FacebookMessengerTestKeys::reachable`]. Unknown keys are kept.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FacebookMessengerTestKeys {
    /// Some service's DNS answer was inconsistent (or failed).
    #[serde(default)]
    pub facebook_dns_blocking: Option<bool>,
    /// Some service's TCP connect failed.
    #[serde(default)]
    pub facebook_tcp_blocking: Option<bool>,
    /// Canary's label (absent in OONI's measurements).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_canary: Option<SocialVerdict>,
    /// Every other key (records, per-service keys), as found.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl canary_model::TypedTestKeys for FacebookMessengerTestKeys {
    const TEST_NAME: &'static str = TEST_NAME;
}

impl FacebookMessengerTestKeys {
    /// `facebook_<key>_dns_consistent`.
    pub fn dns_consistent(&self, key: &str) -> Option<bool> {
        self.extra
            .get(&format!("facebook_{key}_dns_consistent"))
            .and_then(Value::as_bool)
    }

    /// `facebook_<key>_reachable`.
    pub fn reachable(&self, key: &str) -> Option<bool> {
        self.extra
            .get(&format!("facebook_{key}_reachable"))
            .and_then(Value::as_bool)
    }

    /// Writes the verdict keys (and Canary's label) into `test_keys`.
    pub fn merge_into(&self, test_keys: &mut Map<String, Value>) {
        if let Ok(Value::Object(m)) = serde_json::to_value(self) {
            test_keys.extend(m);
        }
    }
}

/// Recomputes the verdict keys from `records`. `asn_db` says which AS an
/// answer belongs to when the record carries no `asn` (use
/// [`crate::endpoints::facebook_builtin_asn_db`] without a full table).
pub fn analyse(
    records: &Records,
    endpoints: &FacebookEndpoints,
    asn_db: &AsnDb,
) -> FacebookMessengerTestKeys {
    let mut keys = FacebookMessengerTestKeys {
        facebook_dns_blocking: Some(false),
        facebook_tcp_blocking: Some(false),
        ..Default::default()
    };
    let mut labels = Vec::new();
    for svc in &endpoints.services {
        let queries: Vec<_> = records
            .queries_for(&svc.key, &svc.host)
            .into_iter()
            .filter(|q| matches!(q.query_type.as_str(), "A" | "AAAA" | ""))
            .collect();
        let ips = addresses(&queries);
        let outside = queries.iter().flat_map(|q| &q.answers).any(|a| match a.ip {
            Some(ip) => a.asn.unwrap_or_else(|| asn_db.asn(ip)) != endpoints.asn,
            None => false,
        });
        let dns_key = format!("facebook_{}_dns_consistent", svc.key);
        let tcp_key = format!("facebook_{}_reachable", svc.key);
        if ips.is_empty() || outside {
            keys.facebook_dns_blocking = Some(true);
            keys.extra.insert(dns_key, Value::Bool(false));
            keys.extra.insert(tcp_key, Value::Null);
            let failure = if ips.is_empty() {
                dns_failure(&queries)
            } else {
                DNS_INCONSISTENT.to_string()
            };
            labels.push(EndpointLabel::failed(&svc.key, Layer::Dns, &failure));
            continue;
        }
        keys.extra.insert(dns_key, Value::Bool(true));
        let Some(port) = svc.port else {
            keys.extra.insert(tcp_key, Value::Null);
            labels.push(EndpointLabel::ok(&svc.key));
            continue;
        };
        let tcp = records.tcp_for(&svc.key, &ips, port);
        if tcp.is_empty() {
            keys.extra.insert(tcp_key, Value::Null);
            labels.push(EndpointLabel::ok(&svc.key));
        } else if tcp.iter().any(|t| t.success) {
            keys.extra.insert(tcp_key, Value::Bool(true));
            labels.push(EndpointLabel::ok(&svc.key));
        } else {
            keys.facebook_tcp_blocking = Some(true);
            keys.extra.insert(tcp_key, Value::Bool(false));
            let failure = tcp
                .iter()
                .find_map(|t| t.failure.clone())
                .unwrap_or_else(|| "unknown_failure".into());
            labels.push(EndpointLabel::failed(&svc.key, Layer::Tcp, &failure));
        }
    }
    keys.x_canary = Some(SocialVerdict::from_endpoints(labels));
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Kind, Outcome};
    use serde_json::json;

    fn fb_db() -> AsnDb {
        AsnDb::parse("157.240.0.0\t157.240.255.255\t32934\tUS\tFACEBOOK\n").unwrap()
    }

    fn one_service() -> FacebookEndpoints {
        FacebookEndpoints {
            asn: 32934,
            services: vec![
                crate::endpoints::FacebookService {
                    key: "stun".into(),
                    host: "stun.fb.test".into(),
                    port: None,
                },
                crate::endpoints::FacebookService {
                    key: "edge".into(),
                    host: "edge.fb.test".into(),
                    port: Some(443),
                },
            ],
        }
    }

    fn query(host: &str, ip: &str) -> Value {
        json!({"hostname": host, "query_type": "A", "failure": null,
               "answers": [{"answer_type": "A", "ipv4": ip}]})
    }

    #[test]
    fn services_in_facebooks_network_that_connect_are_consistent_and_reachable() {
        let tk = json!({"queries": [query("stun.fb.test", "157.240.1.1"), query("edge.fb.test", "157.240.1.2")],
                        "tcp_connect": [{"ip": "157.240.1.2", "port": 443, "status": {"success": true, "failure": null}}]});
        let k = analyse(&Records::from_test_keys(&tk), &one_service(), &fb_db());
        assert_eq!(
            (k.facebook_dns_blocking, k.facebook_tcp_blocking),
            (Some(false), Some(false))
        );
        assert_eq!(k.dns_consistent("edge"), Some(true));
        assert_eq!(k.reachable("edge"), Some(true));
        assert_eq!(k.reachable("stun"), None, "STUN is DNS-only");
        assert_eq!(k.x_canary.unwrap().outcome, Outcome::Ok);
    }

    #[test]
    fn an_answer_outside_facebooks_network_is_dns_blocking_and_not_connected() {
        let tk = json!({"queries": [query("stun.fb.test", "157.240.1.1"), query("edge.fb.test", "10.10.10.1")]});
        let k = analyse(&Records::from_test_keys(&tk), &one_service(), &fb_db());
        assert_eq!(k.facebook_dns_blocking, Some(true));
        assert_eq!(k.facebook_tcp_blocking, Some(false));
        assert_eq!(k.dns_consistent("edge"), Some(false));
        assert_eq!(k.extra.get("facebook_edge_reachable"), Some(&Value::Null));
        let c = k.x_canary.unwrap();
        assert_eq!(
            (c.outcome, c.layer, c.kind),
            (Outcome::Blocked, Some(Layer::Dns), Some(Kind::Inconsistent))
        );
    }

    #[test]
    fn an_asn_in_the_record_wins_over_the_table() {
        let tk = json!({"queries": [query("stun.fb.test", "157.240.1.1"),
            {"hostname": "edge.fb.test", "query_type": "A", "answers": [{"ipv4": "198.51.100.1", "asn": 32934}]}]});
        let k = analyse(&Records::from_test_keys(&tk), &one_service(), &fb_db());
        assert_eq!(k.dns_consistent("edge"), Some(true));
    }

    #[test]
    fn a_failed_connect_is_tcp_blocking_labelled_by_its_failure() {
        let tk = json!({"queries": [query("stun.fb.test", "157.240.1.1"), query("edge.fb.test", "157.240.1.2")],
                        "tcp_connect": [{"ip": "157.240.1.2", "port": 443, "status": {"success": false, "failure": "generic_timeout_error"}}]});
        let k = analyse(&Records::from_test_keys(&tk), &one_service(), &fb_db());
        assert_eq!(k.facebook_tcp_blocking, Some(true));
        assert_eq!(k.reachable("edge"), Some(false));
        let c = k.x_canary.unwrap();
        assert_eq!((c.layer, c.kind), (Some(Layer::Tcp), Some(Kind::Blackhole)));
    }

    #[test]
    fn nxdomain_is_dns_blocking() {
        let tk = json!({"queries": [query("stun.fb.test", "157.240.1.1"),
            {"hostname": "edge.fb.test", "query_type": "A", "failure": "dns_nxdomain_error", "answers": null}]});
        let k = analyse(&Records::from_test_keys(&tk), &one_service(), &fb_db());
        assert_eq!(k.facebook_dns_blocking, Some(true));
        let c = k.x_canary.unwrap();
        assert_eq!(c.kind, Some(Kind::Nxdomain));
    }

    #[test]
    fn typed_keys_are_lossless() {
        let v = json!({"facebook_dns_blocking": false, "facebook_tcp_blocking": true,
                       "facebook_edge_reachable": false, "queries": [], "unknown": {"a": 1}});
        let k: FacebookMessengerTestKeys = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(k.reachable("edge"), Some(false));
        assert_eq!(serde_json::to_value(&k).unwrap(), v);
    }
}
