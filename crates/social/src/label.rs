//! Canary's finer label per endpoint: outcome, layer and kind.
//!
//! OONI's keys for the messaging experiments say *whether* a service is
//! blocked; the label says *how*, per endpoint, with the same vocabulary as
//! Canary's web connectivity verdicts (and the lab's scenario table). The
//! experiments have no control measurement, so the label is read from the
//! failure and the step that failed: a refused connection may just be a
//! server that is down (`unknown`), whereas a timeout on connect, a reset
//! after a ClientHello or a DNS answer outside the service's network is
//! what censors do (`blocked`).

use serde::{Deserialize, Serialize};

/// Canary's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Reached.
    Ok,
    /// The network interfered.
    Blocked,
    /// The service failed for everyone (known only with a control).
    Down,
    /// No verdict on censorship can be given.
    Unknown,
}

/// The step that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// Name resolution.
    Dns,
    /// TCP connect.
    Tcp,
    /// TLS handshake.
    Tls,
    /// HTTP exchange.
    Http,
}

/// How it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// DNS: the name does not exist.
    Nxdomain,
    /// DNS: REFUSED.
    Refused,
    /// DNS: SERVFAIL.
    Servfail,
    /// DNS: no address.
    NoAnswer,
    /// No answer in time (DNS, TLS or HTTP).
    Timeout,
    /// DNS: a bogon address.
    Bogon,
    /// DNS: addresses outside the service's network.
    Inconsistent,
    /// Connection reset.
    Reset,
    /// TCP: SYNs unanswered.
    Blackhole,
    /// TCP: connection refused.
    RefusedConnection,
    /// The peer closed the connection unexpectedly.
    Eof,
    /// TLS: a certificate that does not verify for the name.
    Interception,
    /// TLS: another handshake failure.
    HandshakeFailure,
    /// Any other failure.
    Other,
}

/// The label of one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointLabel {
    /// The endpoint (`b_api`, `e3.whatsapp.net`, `149.154.175.50:80`, a URL...).
    pub endpoint: String,
    /// Outcome.
    pub outcome: Outcome,
    /// Failed step, when it failed.
    pub layer: Option<Layer>,
    /// How, when it failed.
    pub kind: Option<Kind>,
    /// The df-007 failure string, when it failed.
    pub failure: Option<String>,
}

impl EndpointLabel {
    /// An endpoint that was reached.
    pub fn ok(endpoint: impl Into<String>) -> Self {
        EndpointLabel {
            endpoint: endpoint.into(),
            outcome: Outcome::Ok,
            layer: None,
            kind: None,
            failure: None,
        }
    }

    /// An endpoint that failed at `layer` with `failure`.
    pub fn failed(endpoint: impl Into<String>, layer: Layer, failure: &str) -> Self {
        let (outcome, kind) = classify(layer, failure);
        EndpointLabel {
            endpoint: endpoint.into(),
            outcome,
            layer: Some(layer),
            kind: Some(kind),
            failure: Some(failure.to_string()),
        }
    }
}

/// The failure Canary records when a DNS answer lies outside the service's
/// network (not a df-007 string: OONI has none for it).
pub const DNS_INCONSISTENT: &str = "dns_inconsistent";

/// Outcome and kind of a failure at a layer.
pub fn classify(layer: Layer, failure: &str) -> (Outcome, Kind) {
    let timeout = failure.contains("timeout");
    let kind = match layer {
        Layer::Dns => match failure {
            "dns_nxdomain_error" => Kind::Nxdomain,
            "dns_refused_error" => Kind::Refused,
            "dns_servfail_error" | "dns_server_failure" => Kind::Servfail,
            "dns_no_answer" | "android_dns_cache_no_data" => Kind::NoAnswer,
            "dns_bogon_error" => Kind::Bogon,
            DNS_INCONSISTENT => Kind::Inconsistent,
            _ if timeout => Kind::Timeout,
            _ => Kind::Other,
        },
        Layer::Tcp => match failure {
            _ if timeout => Kind::Blackhole,
            "connection_reset" => Kind::Reset,
            "connection_refused" => Kind::RefusedConnection,
            _ => Kind::Other,
        },
        Layer::Tls => match failure {
            _ if timeout => Kind::Timeout,
            "connection_reset" => Kind::Reset,
            "eof_error" => Kind::Eof,
            "ssl_unknown_authority" | "ssl_invalid_hostname" | "ssl_invalid_certificate" => {
                Kind::Interception
            }
            _ => Kind::HandshakeFailure,
        },
        Layer::Http => match failure {
            _ if timeout => Kind::Timeout,
            "connection_reset" => Kind::Reset,
            "eof_error" => Kind::Eof,
            _ => Kind::Other,
        },
    };
    let outcome = match kind {
        Kind::RefusedConnection | Kind::Other => Outcome::Unknown,
        _ => Outcome::Blocked,
    };
    (outcome, kind)
}

/// Canary's verdict for a whole experiment: the endpoints' labels and a
/// summary (the first blocked endpoint's layer and kind; `ok` only when
/// every endpoint was reached).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialVerdict {
    /// Summary outcome.
    pub outcome: Outcome,
    /// Layer of the first blocked (else failed) endpoint.
    pub layer: Option<Layer>,
    /// Kind of the first blocked (else failed) endpoint.
    pub kind: Option<Kind>,
    /// Every endpoint's label.
    pub endpoints: Vec<EndpointLabel>,
}

impl SocialVerdict {
    /// Summarises endpoint labels: `blocked` if any endpoint is; else
    /// `unknown` if any failed; else `ok`.
    pub fn from_endpoints(endpoints: Vec<EndpointLabel>) -> Self {
        let pick = endpoints
            .iter()
            .find(|e| e.outcome == Outcome::Blocked)
            .or_else(|| endpoints.iter().find(|e| e.outcome != Outcome::Ok));
        let (outcome, layer, kind) = match pick {
            Some(e) => (e.outcome, e.layer, e.kind),
            None => (Outcome::Ok, None, None),
        };
        SocialVerdict {
            outcome,
            layer,
            kind,
            endpoints,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_map_to_outcome_and_kind_by_layer() {
        use Kind as K;
        use Layer as L;
        use Outcome::{Blocked, Unknown};
        let cases = [
            (L::Dns, "dns_nxdomain_error", Blocked, K::Nxdomain),
            (L::Dns, "dns_refused_error", Blocked, K::Refused),
            (L::Dns, "dns_servfail_error", Blocked, K::Servfail),
            (L::Dns, "dns_no_answer", Blocked, K::NoAnswer),
            (L::Dns, "generic_timeout_error", Blocked, K::Timeout),
            (L::Dns, DNS_INCONSISTENT, Blocked, K::Inconsistent),
            (L::Tcp, "generic_timeout_error", Blocked, K::Blackhole),
            (L::Tcp, "connection_reset", Blocked, K::Reset),
            (L::Tcp, "connection_refused", Unknown, K::RefusedConnection),
            (L::Tcp, "network_unreachable", Unknown, K::Other),
            (L::Tls, "connection_reset", Blocked, K::Reset),
            (L::Tls, "generic_timeout_error", Blocked, K::Timeout),
            (L::Tls, "ssl_unknown_authority", Blocked, K::Interception),
            (L::Tls, "ssl_failed_handshake", Blocked, K::HandshakeFailure),
            (L::Http, "eof_error", Blocked, K::Eof),
            (L::Http, "http_unexpected_status_code", Unknown, K::Other),
        ];
        for (layer, failure, outcome, kind) in cases {
            assert_eq!(
                classify(layer, failure),
                (outcome, kind),
                "{layer:?} {failure}"
            );
        }
    }

    #[test]
    fn the_summary_names_the_first_blocked_endpoint_and_is_ok_only_when_all_are() {
        let ok =
            SocialVerdict::from_endpoints(vec![EndpointLabel::ok("a"), EndpointLabel::ok("b")]);
        assert_eq!((ok.outcome, ok.layer, ok.kind), (Outcome::Ok, None, None));
        let mixed = SocialVerdict::from_endpoints(vec![
            EndpointLabel::ok("a"),
            EndpointLabel::failed("b", Layer::Tcp, "connection_refused"),
            EndpointLabel::failed("c", Layer::Tls, "connection_reset"),
        ]);
        assert_eq!(mixed.outcome, Outcome::Blocked);
        assert_eq!(
            (mixed.layer, mixed.kind),
            (Some(Layer::Tls), Some(Kind::Reset))
        );
        let refused = SocialVerdict::from_endpoints(vec![EndpointLabel::failed(
            "b",
            Layer::Tcp,
            "connection_refused",
        )]);
        assert_eq!(refused.outcome, Outcome::Unknown);
    }
}
