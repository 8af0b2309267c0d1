//! Addresses of the lab's loopback "internet" and the two vantage points.
//!
//! Linux routes the whole of 127.0.0.0/8 to the loopback interface, so any
//! address in it can be bound without root. The lab uses that to give every
//! actor its own address:
//!
//! | who | address |
//! |---|---|
//! | censored vantage (the probe binds its sockets here) | [`CENSORED_SOURCE`] 127.0.0.2 |
//! | control vantage (the test helper binds here) | [`CONTROL_SOURCE`] 127.0.0.3 |
//! | ISP resolver / control resolver | [`ISP_RESOLVER_IP`] 127.1.0.53 / [`CONTROL_RESOLVER_IP`] 127.1.0.54 |
//! | scenario sites | 127.1.1.N, one address per scenario |
//! | the censor's blockpage server | [`BLOCKPAGE_IP`] 127.1.2.1 |
//! | the address an on-path DNS injector forges | [`INJECTED_ANSWER`] 127.1.2.2 |
//!
//! The lab's "public internet" is [`ROUTABLE_CIDR`] (127.1.0.0/16): tell the
//! probe and the helper to treat it as routable (`--routable 127.1.0.0/16`)
//! so that [`BOGON_ANSWER`] (127.0.0.1, outside it) is still a bogon to them.

use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};

/// The DNS zone every lab name lives in.
pub const LAB_DOMAIN: &str = "canary-lab.test";
/// Source address of the censored vantage (the probe).
pub const CENSORED_SOURCE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
/// Source address of the control vantage (the test helper).
pub const CONTROL_SOURCE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
/// Address of the ISP resolver (the censored vantage's resolver).
pub const ISP_RESOLVER_IP: Ipv4Addr = Ipv4Addr::new(127, 1, 0, 53);
/// Address of the honest control resolver.
pub const CONTROL_RESOLVER_IP: Ipv4Addr = Ipv4Addr::new(127, 1, 0, 54);
/// Address of the censor's blockpage server.
pub const BLOCKPAGE_IP: Ipv4Addr = Ipv4Addr::new(127, 1, 2, 1);
/// The forged address an on-path injector answers in `dns_injection`. It
/// serves the same blockpage as [`BLOCKPAGE_IP`] but is not in the lab's
/// fingerprint file, as a field injector's addresses are usually unknown.
pub const INJECTED_ANSWER: Ipv4Addr = Ipv4Addr::new(127, 1, 2, 2);
/// Name of the censor's blockpage host (resolves to [`BLOCKPAGE_IP`] for everyone).
pub const BLOCKPAGE_HOST: &str = "blockpage.canary-lab.test";
/// The address a tampering resolver answers in the bogon scenario.
/// It lies outside [`ROUTABLE_CIDR`], so probes that treat only the lab
/// network as routable classify it as a bogon (loopback), as they would 127.0.0.1 in the field.
pub const BOGON_ANSWER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
/// The lab's "public internet": every site, resolver and blockpage address lies inside it.
pub const ROUTABLE_CIDR: &str = "127.1.0.0/16";
/// A marker contained in every blockpage the lab's censor serves; analysis
/// fingerprints can match it.
pub const BLOCKPAGE_MARKER: &str = "canary-lab-blockpage";

/// Which side of the lab a connection or a DNS query comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vantage {
    /// Traffic from the censored source address: the censor interferes.
    Censored,
    /// Any other source: the lab behaves like the real, uncensored internet.
    Control,
}

impl Vantage {
    /// Classifies a peer address: `censored` is the censored vantage's
    /// source address; every other address is the control vantage.
    pub fn of(peer: IpAddr, censored: IpAddr) -> Vantage {
        if peer == censored {
            Vantage::Censored
        } else {
            Vantage::Control
        }
    }
}

/// The address of the `n`-th scenario site (`n` from 0): 127.1.1.1, 127.1.1.2, ...
/// then 127.1.3.x, 127.1.4.x (127.1.2.0/24 is the censor's own range).
pub(crate) fn site_ip(n: usize) -> Ipv4Addr {
    let block = n / 250;
    let host = (n % 250) as u8 + 1;
    let third = if block == 0 {
        1
    } else {
        (block + 2).min(255) as u8
    };
    Ipv4Addr::new(127, 1, third, host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_censored_source_is_the_censored_vantage() {
        let censored = IpAddr::V4(CENSORED_SOURCE);
        let cases = [
            (CENSORED_SOURCE, Vantage::Censored),
            (CONTROL_SOURCE, Vantage::Control),
            (Ipv4Addr::LOCALHOST, Vantage::Control),
        ];
        for (peer, want) in cases {
            assert_eq!(Vantage::of(IpAddr::V4(peer), censored), want, "{peer}");
        }
    }

    #[test]
    fn site_addresses_skip_the_censor_range() {
        assert_eq!(site_ip(0), Ipv4Addr::new(127, 1, 1, 1));
        assert_eq!(site_ip(249), Ipv4Addr::new(127, 1, 1, 250));
        assert_eq!(site_ip(250), Ipv4Addr::new(127, 1, 3, 1));
        assert_eq!(site_ip(500), Ipv4Addr::new(127, 1, 4, 1));
    }
}
