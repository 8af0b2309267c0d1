//! What the four experiments measure, as data.
//!
//! [`Endpoints::default`] holds the real endpoints of OONI's specifications
//! (ts-019 facebook_messenger, ts-018 whatsapp, ts-020 telegram, ts-029
//! signal). [`Endpoints::from_json`] reads an override: a JSON object with
//! any of the four sections `facebook`, `whatsapp`, `telegram`, `signal`;
//! a section that is present replaces the default section entirely, a
//! missing one keeps it. The censorship lab writes such a file so that its
//! own names (`b-api.facebook-ok.canary-lab.test`) stand in for the services.
//!
//! ```
//! use canary_social::Endpoints;
//!
//! let e = Endpoints::from_json(r#"{
//!   "signal": {"urls": ["https://chat.signal.example:8443/"], "uptime_host": "uptime.signal.example"}
//! }"#).unwrap();
//! assert_eq!(e.signal.urls, ["https://chat.signal.example:8443/"]);
//! assert_eq!(e.telegram, Endpoints::default().telegram); // untouched
//! ```

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::SocialError;

/// Facebook's autonomous system (OONI: answers outside it are inconsistent).
pub const FACEBOOK_ASN: u32 = 32934;

/// Signal's own root certificate(s), PEM (see `data/signal-ca.pem`).
pub const SIGNAL_CA_PEM: &str = include_str!("../data/signal-ca.pem");

/// Networks of AS32934 in the iptoasn TSV format, used when no full ASN
/// table is given (see `data/facebook-asn.tsv`).
pub const FACEBOOK_ASN_TSV: &str = include_str!("../data/facebook-asn.tsv");

/// Most endpoints one experiment may list.
pub const MAX_ENDPOINTS: usize = 256;

/// Every experiment's endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Endpoints {
    /// `facebook_messenger`.
    pub facebook: FacebookEndpoints,
    /// `whatsapp`.
    pub whatsapp: WhatsappEndpoints,
    /// `telegram`.
    pub telegram: TelegramEndpoints,
    /// `signal`.
    pub signal: SignalEndpoints,
}

/// One Facebook service: resolved, and (with a port) connected to over TCP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacebookService {
    /// The key in OONI's test keys: `b_api` gives `facebook_b_api_dns_consistent`
    /// and `facebook_b_api_reachable`.
    pub key: String,
    /// The host name resolved.
    pub host: String,
    /// The TCP port connected to; `None` for a DNS-only service (STUN).
    #[serde(default)]
    pub port: Option<u16>,
}

/// The `facebook_messenger` endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FacebookEndpoints {
    /// The AS every answer must belong to ([`FACEBOOK_ASN`]).
    pub asn: u32,
    /// The services.
    pub services: Vec<FacebookService>,
}

impl Default for FacebookEndpoints {
    fn default() -> Self {
        let svc = |key: &str, host: &str, port: Option<u16>| FacebookService {
            key: key.into(),
            host: host.into(),
            port,
        };
        FacebookEndpoints {
            asn: FACEBOOK_ASN,
            services: vec![
                svc("stun", "stun.fbsbx.com", None),
                svc("b_api", "b-api.facebook.com", Some(443)),
                svc("b_graph", "b-graph.facebook.com", Some(443)),
                svc("edge", "edge-mqtt.facebook.com", Some(443)),
                svc("external_cdn", "external.xx.fbcdn.net", Some(443)),
                svc("scontent_cdn", "scontent.xx.fbcdn.net", Some(443)),
                svc("star", "star.c10r.facebook.com", Some(443)),
            ],
        }
    }
}

/// A host and the TCP ports it is measured on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostPorts {
    /// Host name or IP address.
    pub host: String,
    /// Ports.
    pub ports: Vec<u16>,
}

/// The `whatsapp` endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WhatsappEndpoints {
    /// The chat endpoints (OONI: e1..e16.whatsapp.net on 443 and 5222).
    pub endpoints: Vec<HostPorts>,
    /// The registration service (GET; only network errors count).
    pub registration_url: String,
    /// WhatsApp Web (GET; only network errors count).
    pub web_url: String,
}

impl Default for WhatsappEndpoints {
    fn default() -> Self {
        WhatsappEndpoints {
            endpoints: (1..=16)
                .map(|i| HostPorts {
                    host: format!("e{i}.whatsapp.net"),
                    ports: vec![443, 5222],
                })
                .collect(),
            registration_url: "https://v.whatsapp.net/v2/register".into(),
            web_url: "https://web.whatsapp.com/".into(),
        }
    }
}

/// The `telegram` endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelegramEndpoints {
    /// Data-centre addresses, each POSTed to in cleartext HTTP on each port
    /// (OONI: six addresses on 80 and 443; 443 without TLS).
    pub datacenters: Vec<HostPorts>,
    /// Telegram Web (GET over HTTPS).
    pub web_url: String,
}

impl Default for TelegramEndpoints {
    fn default() -> Self {
        TelegramEndpoints {
            datacenters: [
                "149.154.175.50",
                "149.154.167.51",
                "149.154.175.100",
                "149.154.167.91",
                "149.154.171.5",
                "95.161.76.100",
            ]
            .iter()
            .map(|ip| HostPorts {
                host: (*ip).into(),
                ports: vec![80, 443],
            })
            .collect(),
            web_url: "https://web.telegram.org/".into(),
        }
    }
}

/// The `signal` endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalEndpoints {
    /// Service URLs fetched over HTTPS, verified against [`SignalEndpoints::ca_pem`].
    pub urls: Vec<String>,
    /// Looked up and recorded, never judged (as OONI does).
    pub uptime_host: String,
    /// Root certificates (PEM) the service hosts must chain to; `None`:
    /// Signal's own ([`SIGNAL_CA_PEM`]).
    pub ca_pem: Option<String>,
}

impl Default for SignalEndpoints {
    fn default() -> Self {
        SignalEndpoints {
            urls: [
                "https://chat.signal.org/",
                "https://storage.signal.org/",
                "https://cdsi.signal.org/",
                "https://sfu.voip.signal.org/",
            ]
            .iter()
            .map(|u| (*u).to_string())
            .collect(),
            uptime_host: "uptime.signal.org".into(),
            ca_pem: None,
        }
    }
}

impl SignalEndpoints {
    /// The roots to verify against (the override's, or Signal's own).
    pub fn ca_pem(&self) -> &str {
        self.ca_pem.as_deref().unwrap_or(SIGNAL_CA_PEM)
    }
}

fn bad(msg: String) -> SocialError {
    SocialError::Endpoints(msg)
}

fn check_count(what: &str, n: usize) -> Result<(), SocialError> {
    if n == 0 {
        return Err(bad(format!("{what}: empty")));
    }
    if n > MAX_ENDPOINTS {
        return Err(bad(format!("{what}: {n} entries, at most {MAX_ENDPOINTS}")));
    }
    Ok(())
}

fn check_host(what: &str, host: &str) -> Result<(), SocialError> {
    let ok = !host.is_empty()
        && host.len() <= 253
        && (host.parse::<IpAddr>().is_ok()
            || host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'));
    if ok {
        Ok(())
    } else {
        Err(bad(format!(
            "{what}: {host:?} is not a host name or address"
        )))
    }
}

fn check_ports(what: &str, ports: &[u16]) -> Result<(), SocialError> {
    if ports.is_empty() || ports.len() > 16 || ports.contains(&0) {
        return Err(bad(format!("{what}: 1 to 16 non-zero ports expected")));
    }
    Ok(())
}

fn check_url(what: &str, text: &str, https_only: bool) -> Result<(), SocialError> {
    let url = url::Url::parse(text).map_err(|e| bad(format!("{what}: {text:?}: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if !https_only => {}
        other => return Err(bad(format!("{what}: {text:?}: scheme {other} not allowed"))),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad(format!("{what}: {text:?}: no host")));
    }
    Ok(())
}

impl Endpoints {
    /// Reads an override file (see the module documentation) and checks it.
    pub fn from_json(text: &str) -> Result<Self, SocialError> {
        crate::check_size(text, SocialError::Endpoints)?;
        let e: Endpoints = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        e.validate()?;
        Ok(e)
    }

    /// The endpoints as pretty JSON (the override format).
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into())
    }

    /// Checks counts, host names, ports and URLs.
    pub fn validate(&self) -> Result<(), SocialError> {
        let fb = &self.facebook;
        check_count("facebook.services", fb.services.len())?;
        for s in &fb.services {
            if s.key.is_empty()
                || !s
                    .key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                return Err(bad(format!("facebook.services: bad key {:?}", s.key)));
            }
            check_host("facebook.services", &s.host)?;
            if s.port == Some(0) {
                return Err(bad("facebook.services: port 0".into()));
            }
        }
        let wa = &self.whatsapp;
        check_count("whatsapp.endpoints", wa.endpoints.len())?;
        for hp in &wa.endpoints {
            check_host("whatsapp.endpoints", &hp.host)?;
            check_ports("whatsapp.endpoints", &hp.ports)?;
        }
        check_url("whatsapp.registration_url", &wa.registration_url, false)?;
        check_url("whatsapp.web_url", &wa.web_url, false)?;
        let tg = &self.telegram;
        check_count("telegram.datacenters", tg.datacenters.len())?;
        for hp in &tg.datacenters {
            if hp.host.parse::<IpAddr>().is_err() {
                return Err(bad(format!(
                    "telegram.datacenters: {:?} is not an IP address",
                    hp.host
                )));
            }
            check_ports("telegram.datacenters", &hp.ports)?;
        }
        check_url("telegram.web_url", &tg.web_url, false)?;
        let sg = &self.signal;
        check_count("signal.urls", sg.urls.len())?;
        for u in &sg.urls {
            check_url("signal.urls", u, true)?;
        }
        check_host("signal.uptime_host", &sg.uptime_host)?;
        if !sg.ca_pem().contains("-----BEGIN CERTIFICATE-----") {
            return Err(bad("signal.ca_pem: no CERTIFICATE block".into()));
        }
        Ok(())
    }
}

/// The built-in table of Facebook's networks (AS32934), for when no full
/// IP-to-ASN table is available.
pub fn facebook_builtin_asn_db() -> canary_ipinfo::AsnDb {
    // The table is compiled in and tested; a parse failure would be a bug
    // caught by `the_builtin_facebook_table_parses`, so an empty table is an
    // acceptable fallback that never panics.
    canary_ipinfo::AsnDb::parse(FACEBOOK_ASN_TSV).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_endpoints_of_ooni_specs_and_valid() {
        let e = Endpoints::default();
        e.validate().unwrap();
        assert_eq!(e.facebook.services.len(), 7);
        assert_eq!(e.facebook.asn, 32934);
        assert!(e
            .facebook
            .services
            .iter()
            .any(|s| s.key == "stun" && s.port.is_none()));
        assert_eq!(e.whatsapp.endpoints.len(), 16);
        assert!(e.whatsapp.endpoints.iter().all(|h| h.ports == [443, 5222]));
        assert_eq!(e.telegram.datacenters.len(), 6);
        assert!(e.telegram.datacenters.iter().all(|h| h.ports == [80, 443]));
        assert!(e.signal.ca_pem().contains("BEGIN CERTIFICATE"));
    }

    #[test]
    fn the_default_endpoints_round_trip_through_the_override_format() {
        let e = Endpoints::default();
        assert_eq!(Endpoints::from_json(&e.to_json_pretty()).unwrap(), e);
    }

    #[test]
    fn the_builtin_facebook_table_parses_and_knows_facebook_addresses() {
        let db = canary_ipinfo::AsnDb::parse(FACEBOOK_ASN_TSV).unwrap();
        assert_eq!(db.asn("157.240.20.35".parse().unwrap()), FACEBOOK_ASN);
        assert_eq!(db.asn("2a03:2880:f10d::1".parse().unwrap()), FACEBOOK_ASN);
        assert_eq!(db.asn("8.8.8.8".parse().unwrap()), 0);
    }

    #[test]
    fn hostile_override_files_are_refused_with_a_reason() {
        let cases = [
            ("not json", "expected"),
            (r#"{"bogus": 1}"#, "unknown field"),
            (r#"{"facebook": {"services": []}}"#, "empty"),
            (
                r#"{"facebook": {"services": [{"key": "B API", "host": "x.test", "port": 443}]}}"#,
                "bad key",
            ),
            (
                r#"{"whatsapp": {"endpoints": [{"host": "a b", "ports": [443]}], "registration_url": "https://r.test/", "web_url": "https://w.test/"}}"#,
                "not a host",
            ),
            (
                r#"{"whatsapp": {"endpoints": [{"host": "e.test", "ports": [0]}], "registration_url": "https://r.test/", "web_url": "https://w.test/"}}"#,
                "non-zero ports",
            ),
            (
                r#"{"telegram": {"datacenters": [{"host": "dc.test", "ports": [80]}], "web_url": "https://w.test/"}}"#,
                "not an IP",
            ),
            (
                r#"{"signal": {"urls": ["http://chat.test/"], "uptime_host": "u.test"}}"#,
                "scheme http",
            ),
            (
                r#"{"signal": {"urls": ["https://chat.test/"], "uptime_host": "u.test", "ca_pem": "nothing"}}"#,
                "CERTIFICATE",
            ),
        ];
        for (text, want) in cases {
            let err = Endpoints::from_json(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
        let huge = " ".repeat(crate::MAX_DATA_BYTES + 1);
        assert!(Endpoints::from_json(&huge)
            .unwrap_err()
            .to_string()
            .contains("bytes"));
    }
}
