//! `signal` (OONI ts-029): HTTPS to Signal's service hosts, verified against
//! Signal's own root certificates.
//!
//! OONI's semantics (v0.2), recomputed from the records:
//! `signal_backend_status` is `"blocked"` when any service URL failed (DNS,
//! TCP, TLS — including a certificate that does not chain to Signal's CA —
//! or I/O; the HTTP status is ignored), with one failure in
//! `signal_backend_failure`. The `uptime` lookup is recorded, never judged.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::endpoints::SignalEndpoints;
use crate::label::EndpointLabel;
use crate::records::Records;
use crate::SocialVerdict;

/// The `test_name`.
pub const TEST_NAME: &str = "signal";
/// The `test_version` Canary writes (OONI's current semantics).
pub const TEST_VERSION: &str = "0.2.5";

/// Typed `signal` test keys; records and unknown keys stay in `extra`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SignalTestKeys {
    /// `"ok"` or `"blocked"`.
    #[serde(default)]
    pub signal_backend_status: Option<String>,
    /// A failing URL's failure (the first in endpoint order).
    #[serde(default)]
    pub signal_backend_failure: Option<String>,
    /// Canary's label (absent in OONI's measurements).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_canary: Option<SocialVerdict>,
    /// Every other key, as found.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl canary_model::TypedTestKeys for SignalTestKeys {
    const TEST_NAME: &'static str = TEST_NAME;
}

impl SignalTestKeys {
    /// Writes the verdict keys (and Canary's label) into `test_keys`.
    pub fn merge_into(&self, test_keys: &mut Map<String, Value>) {
        if let Ok(Value::Object(m)) = serde_json::to_value(self) {
            test_keys.extend(m);
        }
    }
}

/// Recomputes the verdict keys from `records`. URLs with no record at all
/// (not measured by this engine's version) are left out of the verdict.
pub fn analyse(records: &Records, endpoints: &SignalEndpoints) -> SignalTestKeys {
    let mut labels = Vec::new();
    let mut failure = None;
    for url in &endpoints.urls {
        let t = records.target(url, url);
        if !t.measured {
            continue;
        }
        match (&t.failure, t.layer) {
            (Some(f), Some(layer)) => {
                failure.get_or_insert_with(|| f.clone());
                labels.push(EndpointLabel::failed(url, layer, f));
            }
            _ => labels.push(EndpointLabel::ok(url)),
        }
    }
    SignalTestKeys {
        signal_backend_status: Some(if failure.is_some() { "blocked" } else { "ok" }.into()),
        signal_backend_failure: failure,
        x_canary: Some(SocialVerdict::from_endpoints(labels)),
        extra: Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Kind, Layer, Outcome};
    use serde_json::json;

    fn eps() -> SignalEndpoints {
        SignalEndpoints {
            urls: vec![
                "https://chat.sg.test/".into(),
                "https://storage.sg.test/".into(),
            ],
            uptime_host: "uptime.sg.test".into(),
            ca_pem: None,
        }
    }

    #[test]
    fn any_failing_service_url_blocks_the_backend_and_status_codes_do_not() {
        let tk = json!({
            "tls_handshakes": [{"server_name": "storage.sg.test", "failure": "ssl_unknown_authority"}],
            "requests": [
                {"request": {"url": "https://chat.sg.test/"}, "failure": null, "response": {"code": 404}},
                {"request": {"url": "https://storage.sg.test/"}, "failure": "ssl_unknown_authority"}]});
        let k = analyse(&Records::from_test_keys(&tk), &eps());
        assert_eq!(k.signal_backend_status.as_deref(), Some("blocked"));
        assert_eq!(
            k.signal_backend_failure.as_deref(),
            Some("ssl_unknown_authority")
        );
        let c = k.x_canary.unwrap();
        assert_eq!(
            (c.outcome, c.layer, c.kind),
            (Outcome::Blocked, Some(Layer::Tls), Some(Kind::Interception))
        );
    }

    #[test]
    fn the_uptime_lookup_is_never_judged() {
        let tk = json!({
            "queries": [{"hostname": "uptime.sg.test", "query_type": "A", "failure": "dns_nxdomain_error"}],
            "requests": [
                {"request": {"url": "https://chat.sg.test/"}, "failure": null, "response": {"code": 200}},
                {"request": {"url": "https://storage.sg.test/"}, "failure": null, "response": {"code": 200}}]});
        let k = analyse(&Records::from_test_keys(&tk), &eps());
        assert_eq!(k.signal_backend_status.as_deref(), Some("ok"));
        assert_eq!(k.signal_backend_failure, None);
    }
}
