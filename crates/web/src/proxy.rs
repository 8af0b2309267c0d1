//! Who is really asking, when the server sits behind a reverse proxy.
//!
//! Behind nginx or Caddy every connection comes from the proxy (often
//! `127.0.0.1`), so per-source rate limits and login throttling would put
//! every visitor in one bucket. The proxy says who its client was in
//! `X-Forwarded-For` (or the standard `Forwarded: for=`, RFC 7239), but
//! anyone can send those headers, so they are believed **only when the TCP
//! peer is one of the configured trusted proxies** ([`Cidr`]); with no
//! trusted proxy (the default) they are ignored entirely.
//!
//! The client is found with the usual right-to-left walk: each proxy
//! appends the address it saw, so the rightmost entry that is not itself a
//! trusted proxy is the client; entries to its left were written by the
//! client and are never looked at. `X-Forwarded-For` is used when present,
//! else `Forwarded`: configure the proxy to set `X-Forwarded-For` (nginx:
//! `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;`; Caddy
//! does it by default). Anything unusable — a header over
//! [`MAX_HEADER_BYTES`], more than [`MAX_HOPS`] trusted hops, a malformed,
//! `unknown` or obfuscated (`_hidden`) node — falls back to the peer
//! address. Values are never logged: they may hold a volunteer's address.
//!
//! The result is meant only to be hashed (the server keys its buckets by a
//! keyed hash of it): it is never stored, logged or put in an error.
//!
//! ```
//! use axum::http::HeaderMap;
//! use canary_web::proxy::{client_ip, Cidr};
//!
//! let trusted: Vec<Cidr> = vec!["127.0.0.1/32".parse()?];
//! let mut headers = HeaderMap::new();
//! headers.insert("x-forwarded-for", "203.0.113.9, 127.0.0.1".parse()?);
//! // From the proxy: its client is believed (the trusted hop is skipped).
//! assert_eq!(client_ip("127.0.0.1".parse()?, &headers, &trusted), "203.0.113.9".parse::<std::net::IpAddr>()?);
//! // From anyone else: the header is ignored.
//! assert_eq!(client_ip("198.51.100.4".parse()?, &headers, &trusted), "198.51.100.4".parse::<std::net::IpAddr>()?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use axum::http::header::{HeaderMap, HeaderName};

use crate::WebError;

/// Longest forwarding header considered (all its lines together, in
/// bytes); a longer one is ignored.
pub const MAX_HEADER_BYTES: usize = 2048;

/// Most entries examined from the right of a forwarding header; a chain of
/// more trusted hops than this is ignored.
pub const MAX_HOPS: usize = 16;

/// Longest node (`for=` value or `X-Forwarded-For` entry), in bytes.
const MAX_NODE_BYTES: usize = 64;

/// Longest `--trusted-proxy` value, in bytes.
const MAX_CIDR_BYTES: usize = 64;

/// An IP network such as `127.0.0.1/32` or `fd00::/8`: the address of a
/// reverse proxy whose forwarding headers are believed. A bare address
/// means that one host. Host bits are cleared (`10.1.2.3/8` is `10.0.0.0/8`);
/// an IPv4-mapped IPv6 network is stored as the IPv4 one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// The network of `addr` with `prefix` bits (at most 32 for IPv4, 128
    /// for IPv6).
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Self, WebError> {
        let (addr, prefix) = match addr {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) if prefix >= 96 => (IpAddr::V4(v4), prefix - 96),
                _ => (addr, prefix),
            },
            v4 => (v4, prefix),
        };
        let network = match addr {
            IpAddr::V4(v4) if prefix <= 32 => {
                IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask32(prefix)))
            }
            IpAddr::V6(v6) if prefix <= 128 => {
                IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask128(prefix)))
            }
            _ => {
                return Err(WebError::invalid(
                    "trusted proxy",
                    format!("prefix /{prefix} is too long for {addr}"),
                ))
            }
        };
        Ok(Cidr { network, prefix })
    }

    /// The network address (host bits cleared).
    pub fn network(&self) -> IpAddr {
        self.network
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` is in this network (an IPv4-mapped IPv6 address counts
    /// as its IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                u32::from(ip) & mask32(self.prefix) == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                u128::from(ip) & mask128(self.prefix) == u128::from(net)
            }
            _ => false,
        }
    }
}

fn mask32(prefix: u8) -> u32 {
    u32::MAX
        .checked_shl(32 - u32::from(prefix.min(32)))
        .unwrap_or(0)
}

fn mask128(prefix: u8) -> u128 {
    u128::MAX
        .checked_shl(128 - u32::from(prefix.min(128)))
        .unwrap_or(0)
}

impl FromStr for Cidr {
    type Err = WebError;

    /// Parses `ADDR/PREFIX` or a bare `ADDR`.
    fn from_str(s: &str) -> Result<Self, WebError> {
        let bad = |reason: &str| WebError::invalid("trusted proxy", reason.to_owned());
        let s = s.trim();
        if s.is_empty() || s.len() > MAX_CIDR_BYTES {
            return Err(bad(
                "expected an address or network such as 127.0.0.1/32 or ::1/128",
            ));
        }
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| bad("expected an IP address before the '/' (e.g. 127.0.0.1/32)"))?;
        let prefix = match prefix {
            None => match addr {
                IpAddr::V4(_) => 32,
                IpAddr::V6(_) => 128,
            },
            Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => p
                .parse()
                .map_err(|_| bad("the prefix length is a number from 0 to 128"))?,
            Some(_) => return Err(bad("the prefix length is a number from 0 to 128")),
        };
        Cidr::new(addr, prefix)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

fn is_trusted(ip: IpAddr, trusted: &[Cidr]) -> bool {
    trusted.iter().any(|c| c.contains(ip))
}

/// One hop of a forwarding chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    /// A known address.
    Ip(IpAddr),
    /// `unknown` or an obfuscated identifier (`_hidden`): a hop that did
    /// not say who it was.
    Opaque,
}

/// Parses one node: `192.0.2.1`, `192.0.2.1:8080`, `2001:db8::1`,
/// `[2001:db8::1]`, `[2001:db8::1]:8080`, `unknown` or `_obfuscated`
/// (ports may be obfuscated too). `None` when it is none of these.
fn parse_node(s: &str) -> Option<Node> {
    let s = s.trim();
    if s.is_empty() || s.len() > MAX_NODE_BYTES {
        return None;
    }
    if s.eq_ignore_ascii_case("unknown") {
        return Some(Node::Opaque);
    }
    if let Some(rest) = s.strip_prefix('_') {
        return is_obfuscated(rest).then_some(Node::Opaque);
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (inner, after) = rest.split_once(']')?;
        let ip: Ipv6Addr = inner.parse().ok()?;
        if !after.is_empty() && !is_port(after.strip_prefix(':')?) {
            return None;
        }
        return Some(Node::Ip(IpAddr::V6(ip).to_canonical()));
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(Node::Ip(ip.to_canonical()));
    }
    let (host, port) = s.split_once(':')?;
    let ip: Ipv4Addr = host.parse().ok()?;
    is_port(port).then_some(Node::Ip(IpAddr::V4(ip)))
}

fn is_obfuscated(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn is_port(s: &str) -> bool {
    match s.strip_prefix('_') {
        Some(obf) => is_obfuscated(obf),
        None => (1..=5).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// All lines of a header joined by `,`, or `None` when absent; `Some(Err)`
/// when it is too long or not visible ASCII.
fn header_text(headers: &HeaderMap, name: &HeaderName) -> Option<Result<String, ()>> {
    let mut values = headers.get_all(name).iter().peekable();
    values.peek()?;
    let mut out = String::new();
    for v in values {
        let Ok(text) = v.to_str() else {
            return Some(Err(()));
        };
        if out.len() + text.len() + 1 > MAX_HEADER_BYTES {
            return Some(Err(()));
        }
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(text);
    }
    Some(Ok(out))
}

/// Splits on `sep` outside double quotes (RFC 7230 quoted strings, with
/// backslash escapes).
fn split_unquoted(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&s[start..]);
    parts
}

/// The value of `key` in one `Forwarded` element (`for=…;proto=…`),
/// unquoted; `Err` when the element is malformed or names `key` twice.
fn forwarded_param(element: &str, key: &str) -> Result<Option<String>, ()> {
    let mut found = None;
    for pair in split_unquoted(element, ';') {
        let pair = pair.trim();
        if pair.is_empty() {
            continue;
        }
        let (k, v) = pair.split_once('=').ok_or(())?;
        if !k.trim().eq_ignore_ascii_case(key) {
            continue;
        }
        if found.is_some() {
            return Err(());
        }
        let v = v.trim();
        let value = match v.strip_prefix('"') {
            Some(rest) => {
                let inner = rest.strip_suffix('"').ok_or(())?;
                let mut out = String::with_capacity(inner.len());
                let mut chars = inner.chars();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => out.push(chars.next().ok_or(())?),
                        '"' => return Err(()),
                        c => out.push(c),
                    }
                }
                out
            }
            None if v.contains('"') => return Err(()),
            None => v.to_owned(),
        };
        found = Some(value);
    }
    Ok(found)
}

/// The forwarding chain, left (client) to right (nearest proxy): the
/// total number of entries, and the rightmost [`MAX_HOPS`]` + 1` as raw
/// node strings (`None` for a `Forwarded` element without a usable `for=`;
/// elements are only read when the walk reaches them).
/// `X-Forwarded-For` when present, else `Forwarded`.
/// `None`: no forwarding header. `Some(Err)`: too long or not ASCII.
#[allow(clippy::type_complexity)]
fn chain(headers: &HeaderMap) -> Option<Result<(usize, Vec<Option<String>>), ()>> {
    static XFF: HeaderName = HeaderName::from_static("x-forwarded-for");
    let (text, forwarded) = match header_text(headers, &XFF) {
        Some(text) => (text, false),
        None => (header_text(headers, &axum::http::header::FORWARDED)?, true),
    };
    Some(text.map(|t| {
        let entries = if forwarded {
            split_unquoted(&t, ',')
        } else {
            t.split(',').collect()
        };
        let skip = entries.len().saturating_sub(MAX_HOPS + 1);
        let nodes = entries[skip..]
            .iter()
            .map(|e| {
                if forwarded {
                    forwarded_param(e, "for").ok().flatten()
                } else {
                    Some((*e).to_owned())
                }
            })
            .collect();
        (entries.len(), nodes)
    }))
}

/// The address to key per-source limits by: the TCP `peer`, or — only when
/// the peer is in `trusted` — the client its forwarding headers name (the
/// rightmost entry that is not itself a trusted proxy). Falls back to the
/// peer whenever the headers are absent or unusable (see the module docs).
/// Hash the result; never store or log it.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let peer = peer.to_canonical();
    if !is_trusted(peer, trusted) {
        return peer;
    }
    let (count, nodes) = match chain(headers) {
        None => return peer,
        Some(Ok(chain)) => chain,
        Some(Err(())) => {
            tracing::debug!("forwarding header unusable; keying by the proxy's address");
            return peer;
        }
    };
    let mut nearest = peer;
    for raw in nodes.iter().rev().take(MAX_HOPS) {
        match raw.as_deref().and_then(parse_node) {
            Some(Node::Ip(ip)) if is_trusted(ip, trusted) => nearest = ip,
            Some(Node::Ip(ip)) => return ip,
            Some(Node::Opaque) => return peer,
            None => {
                tracing::debug!("forwarding header malformed; keying by the proxy's address");
                return peer;
            }
        }
    }
    if count > MAX_HOPS {
        tracing::debug!("forwarding chain too long; keying by the proxy's address");
        return peer;
    }
    // Every hop is a trusted proxy: the request came from one of them.
    nearest
}

/// Whether a trusted proxy says the client reached it over HTTPS
/// (`X-Forwarded-Proto: https`, else `proto=https` in the rightmost
/// `Forwarded` element). Always `false` when `peer` is not trusted.
pub fn forwarded_https(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> bool {
    static XFP: HeaderName = HeaderName::from_static("x-forwarded-proto");
    if !is_trusted(peer.to_canonical(), trusted) {
        return false;
    }
    if let Some(text) = header_text(headers, &XFP) {
        return match text {
            Ok(t) => t
                .rsplit(',')
                .next()
                .is_some_and(|p| p.trim().eq_ignore_ascii_case("https")),
            Err(()) => false,
        };
    }
    match header_text(headers, &axum::http::header::FORWARDED) {
        Some(Ok(t)) => split_unquoted(&t, ',')
            .last()
            .and_then(|e| forwarded_param(e, "proto").ok().flatten())
            .is_some_and(|p| p.eq_ignore_ascii_case("https")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (what it pins, TCP peer, trusted proxies, request headers, expected)
    type Case<'a, T> = (&'a str, &'a str, &'a [Cidr], &'a [(&'a str, &'a str)], T);

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn cidrs_parse_contain_and_refuse_garbage() {
        let cases: &[(&str, Option<&str>)] = &[
            ("127.0.0.1/32", Some("127.0.0.1/32")),
            ("127.0.0.1", Some("127.0.0.1/32")),
            (" 10.1.2.3/8 ", Some("10.0.0.0/8")),
            ("0.0.0.0/0", Some("0.0.0.0/0")),
            ("::1", Some("::1/128")),
            ("fd00:1::5/16", Some("fd00::/16")),
            ("::ffff:192.168.1.1/120", Some("192.168.1.0/24")),
            ("127.0.0.1/33", None),
            ("::1/129", None),
            ("127.0.0.1/", None),
            ("127.0.0.1/-1", None),
            ("127.0.0.1/+8", None),
            ("127.0.0.1/0008", None),
            ("localhost", None),
            ("", None),
            ("1.2.3.4/8/8", None),
            (&"9".repeat(200), None),
        ];
        for (input, want) in cases {
            let got = input.parse::<Cidr>().ok().map(|c| c.to_string());
            assert_eq!(got.as_deref(), *want, "{input:?}");
        }
        let net: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains(ip("10.255.0.1")));
        assert!(net.contains(ip("::ffff:10.0.0.1")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(!net.contains(ip("::a00:1")));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        let all: Cidr = "::/0".parse().unwrap();
        assert!(all.contains(ip("::1")));
        assert!(!all.contains(ip("127.0.0.1")), "an IPv6 net holds no IPv4");
    }

    #[test]
    fn nodes_of_every_documented_shape() {
        let cases: &[(&str, Option<Node>)] = &[
            ("192.0.2.60", Some(Node::Ip(ip("192.0.2.60")))),
            (" 192.0.2.60 ", Some(Node::Ip(ip("192.0.2.60")))),
            ("192.0.2.60:4711", Some(Node::Ip(ip("192.0.2.60")))),
            ("192.0.2.60:_port", Some(Node::Ip(ip("192.0.2.60")))),
            ("2001:db8:cafe::17", Some(Node::Ip(ip("2001:db8:cafe::17")))),
            (
                "[2001:db8:cafe::17]",
                Some(Node::Ip(ip("2001:db8:cafe::17"))),
            ),
            (
                "[2001:db8:cafe::17]:4711",
                Some(Node::Ip(ip("2001:db8:cafe::17"))),
            ),
            ("::ffff:192.0.2.1", Some(Node::Ip(ip("192.0.2.1")))),
            ("unknown", Some(Node::Opaque)),
            ("UNKNOWN", Some(Node::Opaque)),
            ("_hidden", Some(Node::Opaque)),
            ("_SEVKISEK", Some(Node::Opaque)),
            ("_", None),
            ("_bad node", None),
            ("", None),
            ("garbage", None),
            ("192.0.2.300", None),
            ("192.0.2.60:", None),
            ("192.0.2.60:123456", None),
            ("192.0.2.60:http", None),
            ("[192.0.2.60]", None),
            ("[2001:db8::1", None),
            ("[2001:db8::1]4711", None),
            ("2001:db8::1:4711:", None),
            (&"1".repeat(100), None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_node(input), *want, "{input:?}");
        }
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_hop_and_only_from_a_trusted_peer() {
        let lo: Vec<Cidr> = vec!["127.0.0.1/32".parse().unwrap()];
        let two: Vec<Cidr> = vec![
            "127.0.0.1/32".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
            "fd00::/8".parse().unwrap(),
        ];
        let proxy = "127.0.0.1";
        let stranger = "198.51.100.7";
        let many_trusted = vec!["10.0.0.1"; MAX_HOPS].join(", ");
        let too_many = format!("203.0.113.1, {many_trusted}");
        let just_enough = format!("203.0.113.1, {}", vec!["10.0.0.1"; MAX_HOPS - 1].join(","));
        let garbage_left = format!("{}, 203.0.113.1", vec!["junk"; 200].join(","));
        let huge = format!("{}203.0.113.1", " ".repeat(MAX_HEADER_BYTES));
        #[rustfmt::skip]
        let cases: &[Case<&str>] = &[
            ("no trusted proxy: headers ignored", proxy, &[], &[("x-forwarded-for", "203.0.113.1")], proxy),
            ("untrusted peer: headers ignored", stranger, &lo, &[("x-forwarded-for", "203.0.113.1")], stranger),
            ("untrusted peer: Forwarded ignored", stranger, &lo, &[("forwarded", "for=203.0.113.1")], stranger),
            ("trusted peer, no header", proxy, &lo, &[], proxy),
            ("one hop", proxy, &lo, &[("x-forwarded-for", "203.0.113.1")], "203.0.113.1"),
            ("spoofed entries left of the client are ignored", proxy, &lo, &[("x-forwarded-for", "1.1.1.1, 2.2.2.2, 203.0.113.1")], "203.0.113.1"),
            ("trusted hops are skipped", proxy, &two, &[("x-forwarded-for", "1.1.1.1, 203.0.113.1, 10.0.0.2, 10.9.9.9")], "203.0.113.1"),
            ("all hops trusted: the farthest", proxy, &two, &[("x-forwarded-for", "10.0.0.3, 10.0.0.2")], "10.0.0.3"),
            ("several header lines are one list", proxy, &lo, &[("x-forwarded-for", "1.1.1.1"), ("x-forwarded-for", "203.0.113.1")], "203.0.113.1"),
            ("IPv6", proxy, &lo, &[("x-forwarded-for", "2001:db8::5")], "2001:db8::5"),
            ("IPv6 bracketed with port", proxy, &lo, &[("x-forwarded-for", "[2001:db8::5]:443")], "2001:db8::5"),
            ("IPv4 with port", proxy, &lo, &[("x-forwarded-for", "203.0.113.1:5555")], "203.0.113.1"),
            ("IPv4-mapped IPv6 peer is trusted", "::ffff:127.0.0.1", &lo, &[("x-forwarded-for", "203.0.113.1")], "203.0.113.1"),
            ("IPv6 proxy", "fd00::1", &two, &[("x-forwarded-for", "203.0.113.1, fd00::2")], "203.0.113.1"),
            ("garbage: the peer", proxy, &lo, &[("x-forwarded-for", "not-an-ip")], proxy),
            ("empty entry: the peer", proxy, &lo, &[("x-forwarded-for", "203.0.113.1,,")], proxy),
            ("empty header: the peer", proxy, &lo, &[("x-forwarded-for", "")], proxy),
            ("garbage left of the client is never read", proxy, &lo, &[("x-forwarded-for", &garbage_left)], "203.0.113.1"),
            ("unknown: the peer", proxy, &lo, &[("x-forwarded-for", "1.1.1.1, unknown")], proxy),
            ("too many trusted hops: the peer", proxy, &two, &[("x-forwarded-for", &too_many)], proxy),
            ("as many hops as allowed", proxy, &two, &[("x-forwarded-for", &just_enough)], "203.0.113.1"),
            ("oversized header: the peer", proxy, &lo, &[("x-forwarded-for", &huge)], proxy),
            ("Forwarded for=", proxy, &lo, &[("forwarded", "for=203.0.113.1;proto=https;by=127.0.0.1")], "203.0.113.1"),
            ("Forwarded elements, rightmost untrusted", proxy, &two, &[("forwarded", "for=1.1.1.1, for=203.0.113.1, for=10.0.0.2")], "203.0.113.1"),
            ("Forwarded quoted IPv6 with port", proxy, &lo, &[("forwarded", "For=\"[2001:db8:cafe::17]:4711\"")], "2001:db8:cafe::17"),
            ("Forwarded quoted comma does not split", proxy, &lo, &[("forwarded", "for=1.1.1.1;host=\"a,b\", for=203.0.113.1")], "203.0.113.1"),
            ("Forwarded obfuscated: the peer", proxy, &lo, &[("forwarded", "for=_hidden")], proxy),
            ("Forwarded unknown: the peer", proxy, &lo, &[("forwarded", "for=unknown")], proxy),
            ("Forwarded element without for: the peer", proxy, &lo, &[("forwarded", "proto=https")], proxy),
            ("Forwarded twice for: the peer", proxy, &lo, &[("forwarded", "for=1.1.1.1;for=203.0.113.1")], proxy),
            ("Forwarded unterminated quote: the peer", proxy, &lo, &[("forwarded", "for=\"203.0.113.1")], proxy),
            ("Forwarded garbage: the peer", proxy, &lo, &[("forwarded", "garbage")], proxy),
            ("Forwarded too many hops: the peer", proxy, &two, &[("forwarded", &format!("for=203.0.113.1, {}", vec!["for=10.0.0.1"; MAX_HOPS].join(",")))], proxy),
            ("Forwarded long spoofed prefix is never read", proxy, &lo, &[("forwarded", &format!("{}, for=203.0.113.1", vec!["x"; 100].join(",")))], "203.0.113.1"),
            ("X-Forwarded-For wins over Forwarded", proxy, &lo, &[("forwarded", "for=1.1.1.1"), ("x-forwarded-for", "203.0.113.1")], "203.0.113.1"),
        ];
        for (name, peer, trusted, hs, want) in cases {
            let got = client_ip(ip(peer), &headers(hs), trusted);
            assert_eq!(got, ip(want), "{name}");
        }
    }

    #[test]
    fn https_is_believed_only_from_a_trusted_proxy() {
        let lo: Vec<Cidr> = vec!["127.0.0.1/32".parse().unwrap()];
        #[rustfmt::skip]
        let cases: &[Case<bool>] = &[
            ("trusted, https", "127.0.0.1", &lo, &[("x-forwarded-proto", "https")], true),
            ("trusted, HTTPS", "127.0.0.1", &lo, &[("x-forwarded-proto", "HTTPS")], true),
            ("trusted, http", "127.0.0.1", &lo, &[("x-forwarded-proto", "http")], false),
            ("trusted, nearest hop said http", "127.0.0.1", &lo, &[("x-forwarded-proto", "https, http")], false),
            ("trusted, no header", "127.0.0.1", &lo, &[], false),
            ("untrusted peer", "198.51.100.7", &lo, &[("x-forwarded-proto", "https")], false),
            ("no trusted proxy", "127.0.0.1", &[], &[("x-forwarded-proto", "https")], false),
            ("Forwarded proto", "127.0.0.1", &lo, &[("forwarded", "for=1.1.1.1;proto=https")], true),
            ("Forwarded proto of the nearest element", "127.0.0.1", &lo, &[("forwarded", "proto=https, for=1.1.1.1;proto=http")], false),
            ("Forwarded garbage", "127.0.0.1", &lo, &[("forwarded", "proto")], false),
        ];
        for (name, peer, trusted, hs, want) in cases {
            assert_eq!(
                forwarded_https(ip(peer), &headers(hs), trusted),
                *want,
                "{name}"
            );
        }
    }
}
