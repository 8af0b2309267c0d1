//! Small, pure network helpers: bogon ranges, IP prefixes, URL host
//! extraction and certificate SPKI fingerprints.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// An IP prefix such as `127.0.0.0/8` or `2001:db8::/32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IpPrefix {
    /// Network address.
    pub addr: IpAddr,
    /// Prefix length in bits.
    pub len: u8,
}

impl IpPrefix {
    /// Build a prefix; `None` when `len` exceeds the address size.
    pub fn new(addr: IpAddr, len: u8) -> Option<Self> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (len <= max).then_some(IpPrefix { addr, len })
    }

    /// True when `ip` lies inside the prefix (IPv4-mapped IPv6 addresses are
    /// compared as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = if self.len == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(self.len))
                };
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = if self.len == 0 {
                    0
                } else {
                    u128::MAX << (128 - u32::from(self.len))
                };
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpPrefix {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not an IP prefix"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match l {
            Some(l) => l
                .trim()
                .parse::<u8>()
                .map_err(|_| format!("{s:?}: bad prefix length"))?,
            None => max,
        };
        IpPrefix::new(addr, len).ok_or_else(|| format!("{s:?}: prefix length above {max}"))
    }
}

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// True for addresses that are not routable on the public Internet
/// (private, shared, loopback, link-local, documentation, multicast,
/// reserved…), following OONI's bogon list — the one list Canary keeps, in
/// `canary-ipinfo`.
pub fn is_bogon(ip: IpAddr) -> bool {
    static BOGONS: std::sync::OnceLock<canary_ipinfo::Bogons> = std::sync::OnceLock::new();
    BOGONS
        .get_or_init(canary_ipinfo::Bogons::default)
        .is_bogon(ip)
}

/// The host of an absolute URL (`scheme://[user@]host[:port]/…`), lower-cased,
/// without IPv6 brackets. `None` when the text is not such a URL.
pub fn url_host(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(stripped) = hostport.strip_prefix('[') {
        stripped.split(']').next()?
    } else {
        hostport.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The port of an absolute URL: the explicit one, else 80 for `http` and
/// 443 for `https`.
pub fn url_port(url: &str) -> Option<u16> {
    let scheme = url_scheme(url)?;
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let port = if let Some(stripped) = hostport.strip_prefix('[') {
        stripped.split_once("]:").map(|(_, p)| p)
    } else {
        hostport.split_once(':').map(|(_, p)| p)
    };
    match port {
        Some(p) => p.parse().ok(),
        None => match scheme.as_str() {
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        },
    }
}

/// The scheme of an absolute URL, lower-cased.
pub fn url_scheme(url: &str) -> Option<String> {
    url.split_once("://").map(|(s, _)| s.to_ascii_lowercase())
}

/// Split `"ip:port"` / `"[v6]:port"` into its parts.
pub fn split_endpoint(ep: &str) -> Option<(IpAddr, u16)> {
    let (host, port) = ep.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Some((host.parse().ok()?, port.parse().ok()?))
}

/// Read one DER TLV at the start of `data`: (tag, header+content length,
/// content range). Bounded: rejects lengths beyond the input.
fn der_tlv(data: &[u8]) -> Option<(u8, usize, std::ops::Range<usize>)> {
    let tag = *data.first()?;
    let first = *data.get(1)? as usize;
    let (len, hdr) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *data.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = hdr.checked_add(len)?;
    (end <= data.len()).then_some((tag, end, hdr..end))
}

/// Hex SHA-256 of a certificate's SubjectPublicKeyInfo (the whole SPKI DER
/// element), `None` when the DER is not a certificate. The same value
/// Canary's test helper records as `x_spki_sha256`.
pub fn spki_sha256_hex(cert_der: &[u8]) -> Option<String> {
    let (tag, _, cert) = der_tlv(cert_der)?;
    if tag != 0x30 {
        return None;
    }
    let cert = &cert_der[cert];
    let (tag, _, tbs) = der_tlv(cert)?;
    if tag != 0x30 {
        return None;
    }
    let mut rest = &cert[tbs];
    // [0] version (optional), serial, signature, issuer, validity, subject, spki
    let mut index = 0;
    loop {
        let (tag, total, _) = der_tlv(rest)?;
        if index == 0 && tag == 0xa0 {
            rest = &rest[total..];
            continue;
        }
        if index == 5 {
            if tag != 0x30 {
                return None;
            }
            let digest = Sha256::digest(&rest[..total]);
            return Some(hex::encode(digest));
        }
        index += 1;
        rest = &rest[total..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bogons() {
        let cases = [
            ("10.10.34.35", true),
            ("10.10.10.1", true),
            ("127.0.0.1", true),
            ("100.64.1.1", true),
            ("169.254.0.1", true),
            ("192.0.2.1", true),
            ("0.0.0.0", true),
            ("255.255.255.255", true),
            ("224.0.0.1", true),
            ("36.37.242.94", false),
            ("8.8.8.8", false),
            ("172.32.0.1", false),
            ("::1", true),
            ("fe80::1", true),
            ("fd00::1", true),
            ("2001:db8::1", true),
            ("::ffff:10.0.0.1", true),
            ("2a00:1450:4002:403::200e", false),
        ];
        for (ip, want) in cases {
            assert_eq!(is_bogon(ip.parse().unwrap()), want, "{ip}");
        }
    }

    #[test]
    fn prefixes() {
        let p: IpPrefix = "127.0.0.0/8".parse().unwrap();
        assert!(p.contains("127.1.2.3".parse().unwrap()));
        assert!(!p.contains("128.0.0.1".parse().unwrap()));
        assert!(p.contains("::ffff:127.0.0.9".parse().unwrap()));
        let one: IpPrefix = "10.0.0.1".parse().unwrap();
        assert_eq!(one.len, 32);
        assert!("10.0.0.0/33".parse::<IpPrefix>().is_err());
        assert!("nonsense/8".parse::<IpPrefix>().is_err());
        let all: IpPrefix = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("1.2.3.4".parse().unwrap()));
    }

    #[test]
    fn url_parts() {
        let cases = [
            ("https://www.example.com/a?b", Some("www.example.com")),
            ("http://User@Example.COM:8080/", Some("example.com")),
            ("http://[2001:db8::1]:80/x", Some("2001:db8::1")),
            ("http://1.2.3.4", Some("1.2.3.4")),
            ("not a url", None),
            ("http:///path", None),
        ];
        for (u, want) in cases {
            assert_eq!(url_host(u).as_deref(), want, "{u}");
        }
        assert_eq!(
            split_endpoint("[::1]:443"),
            Some(("::1".parse().unwrap(), 443))
        );
        assert_eq!(
            split_endpoint("1.2.3.4:80"),
            Some(("1.2.3.4".parse().unwrap(), 80))
        );
        assert_eq!(split_endpoint("1.2.3.4"), None);
    }

    #[test]
    fn spki_of_garbage_is_none() {
        assert_eq!(spki_sha256_hex(b""), None);
        assert_eq!(spki_sha256_hex(&[0x30, 0x82, 0xff, 0xff]), None);
        assert_eq!(spki_sha256_hex(&[0x30, 0x03, 0x30, 0x01, 0x00]), None);
    }
}
