//! What an IP address is: a bogon or a routable address, and which network
//! (autonomous system) it belongs to.
//!
//! Both the probe and the test helper need this, and so does analysis: a DNS
//! answer of `10.10.34.35` to a censored name is a *bogon* (an address that
//! cannot be a public web server), a classic sign of DNS tampering; and two
//! answers in the same AS usually mean the same operator, not tampering.
//!
//! - [`Bogons`] classifies addresses with the usual reserved ranges, minus the
//!   ranges a deployment declares routable (a lab on 127.0.0.0/8, an intranet).
//! - [`AsnDb`] maps addresses to AS numbers and names from a table in the
//!   iptoasn TSV format (`range_start range_end AS_number country_code
//!   AS_description`).
//!
//! The crate is pure: it parses text it is given and answers questions; it
//! opens no file and no socket.
//!
//! # Example
//!
//! ```
//! use canary_ipinfo::{AsnDb, Bogons};
//!
//! let bogons = Bogons::default();
//! assert!(bogons.is_bogon("10.10.34.35".parse().unwrap()));
//! assert!(!bogons.is_bogon("36.37.242.94".parse().unwrap()));
//!
//! let db = AsnDb::parse("36.37.0.0\t36.37.255.255\t38623\tKH\tVIETTEL-KH\n").unwrap();
//! let net = db.lookup("36.37.242.94".parse().unwrap()).unwrap();
//! assert_eq!((net.asn, net.name.as_str()), (38623, "VIETTEL-KH"));
//! ```

#![deny(missing_docs)]

use std::net::IpAddr;

use ipnet::IpNet;

/// Errors of this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpInfoError {
    /// A CIDR that does not parse.
    #[error("`{0}` is not a CIDR range (e.g. 127.0.0.0/8)")]
    Cidr(String),
    /// A row of an ASN table that does not parse.
    #[error("ASN table line {line}: {reason}")]
    AsnRow {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
}

/// Reserved ranges that are never a public server's address (after OONI's
/// list): private, loopback, link-local, shared, documentation, benchmarking,
/// multicast and reserved ranges.
pub const BOGON_RANGES: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "255.255.255.255/32",
    "::/128",
    "::1/128",
    "::ffff:0:0/96",
    "100::/64",
    "2001:10::/28",
    "2001:db8::/32",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
];

/// Classifies addresses as bogons, with deployment-specific exceptions.
#[derive(Debug, Clone)]
pub struct Bogons {
    bogons: Vec<IpNet>,
    routable: Vec<IpNet>,
}

impl Default for Bogons {
    fn default() -> Self {
        let bogons = BOGON_RANGES.iter().filter_map(|r| r.parse().ok()).collect();
        Bogons {
            bogons,
            routable: Vec::new(),
        }
    }
}

impl Bogons {
    /// The default ranges, except `routable` ones, which are treated as
    /// public addresses (`--routable 127.0.0.0/8` for a lab on loopback).
    pub fn with_routable<S: AsRef<str>>(routable: &[S]) -> Result<Self, IpInfoError> {
        let mut b = Bogons::default();
        for r in routable {
            let r = r.as_ref();
            let net: IpNet = r
                .parse()
                .or_else(|_| r.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| IpInfoError::Cidr(r.to_string()))?;
            b.routable.push(net);
        }
        Ok(b)
    }

    /// True when `ip` is in a bogon range and not declared routable. An
    /// IPv4-mapped IPv6 address is judged as the IPv4 address it maps.
    pub fn is_bogon(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        if self.routable.iter().any(|n| n.contains(&ip)) {
            return false;
        }
        self.bogons.iter().any(|n| n.contains(&ip))
    }

    /// The ranges declared routable.
    pub fn routable(&self) -> &[IpNet] {
        &self.routable
    }
}

/// `::ffff:a.b.c.d` → `a.b.c.d`; other addresses unchanged.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// A network an address belongs to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Network {
    /// The AS number (0: not routed / unknown).
    pub asn: u32,
    /// Two-letter country code of the AS registration.
    pub country: String,
    /// The AS's name, e.g. `VIETTEL-KH`.
    pub name: String,
}

#[derive(Debug, Clone)]
struct Range {
    start: u128,
    end: u128,
    network: Network,
}

/// An IP-to-ASN table (the iptoasn TSV format: `range_start range_end
/// AS_number country_code AS_description`, tab-separated, IPv4 and IPv6).
#[derive(Debug, Clone, Default)]
pub struct AsnDb {
    ranges: Vec<Range>,
}

fn key(ip: IpAddr) -> u128 {
    match canonical(ip) {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

impl AsnDb {
    /// Parses a whole table. Rows with AS number 0 ("Not routed") are kept
    /// out. A malformed row is an error naming its line.
    pub fn parse(text: &str) -> Result<Self, IpInfoError> {
        let mut ranges = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |reason: String| IpInfoError::AsnRow {
                line: line_no,
                reason,
            };
            let mut cols = line.splitn(5, '\t');
            let mut next = |what: &str| {
                cols.next()
                    .map(str::trim)
                    .ok_or_else(|| bad(format!("missing {what}")))
            };
            let start: IpAddr = next("range_start")?
                .parse()
                .map_err(|_| bad("range_start is not an IP address".into()))?;
            let end: IpAddr = next("range_end")?
                .parse()
                .map_err(|_| bad("range_end is not an IP address".into()))?;
            let asn: u32 = next("AS_number")?
                .trim_start_matches("AS")
                .parse()
                .map_err(|_| bad("AS_number is not a number".into()))?;
            let country = next("country_code")?.to_string();
            let name = next("AS_description").unwrap_or("").to_string();
            if start.is_ipv4() != end.is_ipv4() {
                return Err(bad(
                    "range_start and range_end are of different families".into()
                ));
            }
            let (start, end) = (key(start), key(end));
            if start > end {
                return Err(bad("range_start is after range_end".into()));
            }
            if asn == 0 {
                continue;
            }
            ranges.push(Range {
                start,
                end,
                network: Network { asn, country, name },
            });
        }
        ranges.sort_by_key(|r| (r.start, r.end));
        Ok(AsnDb { ranges })
    }

    /// The network `ip` belongs to, if the table knows it.
    pub fn lookup(&self, ip: IpAddr) -> Option<&Network> {
        let k = key(ip);
        // The last range starting at or before k; ranges in the table do not
        // overlap, so it is the only candidate.
        let idx = self.ranges.partition_point(|r| r.start <= k);
        let candidate = self.ranges.get(idx.checked_sub(1)?)?;
        (k <= candidate.end).then_some(&candidate.network)
    }

    /// The AS number of `ip`, 0 when unknown (OONI's convention).
    pub fn asn(&self, ip: IpAddr) -> u32 {
        self.lookup(ip).map_or(0, |n| n.asn)
    }

    /// Number of ranges.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// True when the table is empty.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn bogons_are_the_reserved_ranges_and_public_addresses_are_not() {
        let b = Bogons::default();
        for bogon in [
            "10.10.34.35",
            "127.0.0.2",
            "192.168.1.1",
            "172.16.5.4",
            "100.64.1.1",
            "169.254.1.1",
            "0.0.0.0",
            "203.0.113.7",
            "224.0.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(b.is_bogon(ip(bogon)), "{bogon} is a bogon");
        }
        for public in [
            "36.37.242.94",
            "8.8.8.8",
            "104.18.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!b.is_bogon(ip(public)), "{public} is public");
        }
    }

    #[test]
    fn routable_ranges_stop_being_bogons_but_the_rest_stay() {
        let b = Bogons::with_routable(&["127.0.0.0/8", "10.1.2.3"]).unwrap();
        assert!(!b.is_bogon(ip("127.0.1.5")));
        assert!(!b.is_bogon(ip("10.1.2.3")));
        assert!(b.is_bogon(ip("10.1.2.4")));
        assert!(b.is_bogon(ip("192.168.0.1")));
        assert_eq!(
            Bogons::with_routable(&["not-a-cidr"]).unwrap_err(),
            IpInfoError::Cidr("not-a-cidr".into())
        );
    }

    const TABLE: &str = "1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n\
                         1.0.1.0\t1.0.3.255\t0\tNone\tNot routed\n\
                         36.37.0.0\t36.37.255.255\t38623\tKH\tVIETTEL-KH Viettel (Cambodia)\n\
                         2606:4700::\t2606:4700:ffff:ffff:ffff:ffff:ffff:ffff\t13335\tUS\tCLOUDFLARENET\n";

    #[test]
    fn asn_lookup_finds_the_range_and_misses_gaps_and_unrouted_space() {
        let db = AsnDb::parse(TABLE).unwrap();
        assert_eq!(db.len(), 3);
        assert_eq!(db.asn(ip("1.0.0.1")), 13335);
        assert_eq!(db.asn(ip("1.0.0.255")), 13335);
        assert_eq!(db.asn(ip("1.0.2.1")), 0, "not routed");
        assert_eq!(db.asn(ip("36.37.242.94")), 38623);
        assert_eq!(db.asn(ip("36.38.0.0")), 0, "gap");
        assert_eq!(db.asn(ip("2606:4700::6810:1")), 13335);
        assert_eq!(db.asn(ip("::ffff:36.37.1.1")), 38623);
        let n = db.lookup(ip("36.37.1.1")).unwrap();
        assert_eq!(n.name, "VIETTEL-KH Viettel (Cambodia)");
        assert_eq!(n.country, "KH");
    }

    #[test]
    fn a_bad_asn_row_is_named_by_line() {
        for (text, line) in [
            (
                "1.0.0.0\t1.0.0.255\t13335\tUS\tX\nnot-an-ip\t1.1.1.1\t1\tUS\tY\n",
                2,
            ),
            ("1.0.0.0\t1.0.0.255\tASX\tUS\tX\n", 1),
            ("1.0.0.9\t1.0.0.1\t5\tUS\tX\n", 1),
            ("1.0.0.0\t::1\t5\tUS\tX\n", 1),
            ("1.0.0.0\n", 1),
        ] {
            match AsnDb::parse(text) {
                Err(IpInfoError::AsnRow { line: l, .. }) => assert_eq!(l, line, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    proptest! {
        #[test]
        fn every_address_inside_a_range_maps_to_it(a in any::<u8>(), b in any::<u8>()) {
            let db = AsnDb::parse(TABLE).unwrap();
            let addr = IpAddr::V4(Ipv4Addr::new(36, 37, a, b));
            prop_assert_eq!(db.asn(addr), 38623);
        }

        #[test]
        fn classification_never_panics(bits in any::<u128>(), v4 in any::<u32>()) {
            let b = Bogons::default();
            let _ = b.is_bogon(IpAddr::V6(Ipv6Addr::from(bits)));
            let _ = b.is_bogon(IpAddr::V4(Ipv4Addr::from(v4)));
        }
    }
}
