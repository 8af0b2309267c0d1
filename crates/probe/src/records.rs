//! From what netx saw to OONI's archival records: netx's own conversion,
//! plus what only the probe knows — the tags that place each record in the
//! experiment's steps, and the networks (ASNs) of DNS answers.
//!
//! Scrubbing is not done here: the whole measurement is scrubbed at once
//! when it is assembled (strings and base64 payloads alike).

use std::net::IpAddr;
use std::sync::Arc;

use canary_ipinfo::AsnDb;
use canary_model as model;
use canary_model::Nullable;
use canary_netx as netx;

/// Converts netx records into model records.
pub struct Recorder {
    asn_db: Option<Arc<AsnDb>>,
}

fn tags(list: &[String]) -> Nullable<Vec<String>> {
    Nullable::Present(list.to_vec())
}

impl Recorder {
    /// A recorder that annotates DNS answers with `asn_db` when given.
    pub fn new(asn_db: Option<Arc<AsnDb>>) -> Self {
        Recorder { asn_db }
    }

    fn annotate(&self, q: &mut model::DnsQuery) {
        let Some(db) = &self.asn_db else {
            return;
        };
        for answer in q.answers.get_mut().into_iter().flatten() {
            let ip = answer.address().and_then(|a| a.parse::<IpAddr>().ok());
            if let Some(ip) = ip {
                let network = db.lookup(ip);
                answer.asn = network.map_or(0, |n| n.asn).into();
                answer.as_org_name = network.map_or(String::new(), |n| n.name.clone()).into();
            }
        }
    }

    /// One lookup (its late replies go to [`Recorder::late_replies`]).
    pub fn dns(&self, lookup: &netx::DnsLookup, tag_list: &[String]) -> model::DnsQuery {
        let mut q = lookup.to_record();
        self.annotate(&mut q);
        q.tags = tags(tag_list);
        q
    }

    /// The late and duplicate UDP replies of a lookup (OONI's
    /// `x_dns_duplicate_responses`).
    pub fn late_replies(
        &self,
        lookup: &netx::DnsLookup,
        tag_list: &[String],
    ) -> Vec<model::DnsQuery> {
        lookup
            .duplicate_records()
            .into_iter()
            .map(|mut q| {
                self.annotate(&mut q);
                q.tags = tags(tag_list);
                q
            })
            .collect()
    }

    /// One TCP connect.
    pub fn tcp(&self, c: &netx::TcpConnect, tag_list: &[String]) -> model::TcpConnect {
        let mut r = c.to_record();
        r.tags = tags(tag_list);
        r
    }

    /// One TLS handshake, with the peer's chain and the leaf's SPKI hash.
    pub fn tls(&self, h: &netx::TlsHandshake, tag_list: &[String]) -> model::TlsHandshake {
        let mut r = h.to_record();
        r.tags = tags(tag_list);
        r
    }

    /// One HTTP round trip (df-001), body capped as received.
    pub fn http(&self, tx: &netx::HttpTransaction, tag_list: &[String]) -> model::HttpTransaction {
        let mut r = tx.to_record();
        r.tags = tags(tag_list);
        r
    }

    /// Low-level events (df-008).
    pub fn event(&self, e: &netx::NetEvent, tag_list: &[String]) -> model::NetworkEvent {
        let mut r = e.to_record();
        r.tags = tags(tag_list);
        r
    }
}
