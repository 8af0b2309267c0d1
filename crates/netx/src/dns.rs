//! DNS measurements: UDP (with late-reply capture), TCP, DNS-over-HTTPS and
//! the system resolver.
//!
//! Every lookup returns a [`DnsLookup`] whatever happens: a failure is data,
//! not an error. The raw reply bytes are kept so the published record can be
//! re-parsed later by anyone.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Instant;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{DNSClass, Name, RData, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, UdpSocket};
use tokio::time::timeout_at;

use crate::events::NetEvent;
use crate::failure;
use crate::Options;

/// Largest UDP datagram read (the maximum a UDP payload can be).
pub const MAX_DATAGRAM: usize = 65_535;

/// The record type asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QueryType {
    /// IPv4 addresses.
    A,
    /// IPv6 addresses.
    Aaaa,
    /// Both families at once: only for the system resolver (getaddrinfo).
    Any,
}

impl QueryType {
    /// The OONI string: `A`, `AAAA` or `ANY`.
    pub fn as_str(self) -> &'static str {
        match self {
            QueryType::A => "A",
            QueryType::Aaaa => "AAAA",
            QueryType::Any => "ANY",
        }
    }

    fn record_type(self) -> RecordType {
        match self {
            QueryType::A => RecordType::A,
            QueryType::Aaaa => RecordType::AAAA,
            QueryType::Any => RecordType::ANY,
        }
    }
}

/// How a lookup was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DnsEngine {
    /// Plain DNS over UDP.
    Udp,
    /// Plain DNS over TCP (2-byte length prefix).
    Tcp,
    /// DNS over HTTPS (RFC 8484).
    Doh,
    /// The operating system's resolver (getaddrinfo).
    System,
}

impl DnsEngine {
    /// The OONI engine string: `udp`, `tcp`, `doh`, `getaddrinfo`.
    pub fn as_str(self) -> &'static str {
        match self {
            DnsEngine::Udp => "udp",
            DnsEngine::Tcp => "tcp",
            DnsEngine::Doh => "doh",
            DnsEngine::System => "getaddrinfo",
        }
    }
}

/// One answer record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// An A record.
    A {
        /// The address.
        ip: Ipv4Addr,
        /// TTL in seconds (`None` for getaddrinfo, which hides it).
        ttl: Option<u32>,
    },
    /// An AAAA record.
    Aaaa {
        /// The address.
        ip: Ipv6Addr,
        /// TTL in seconds (`None` for getaddrinfo).
        ttl: Option<u32>,
    },
    /// A CNAME record.
    Cname {
        /// The target name, without the trailing dot.
        hostname: String,
        /// TTL in seconds.
        ttl: Option<u32>,
    },
}

impl Answer {
    /// The address carried by an A/AAAA answer.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Answer::A { ip, .. } => Some(IpAddr::V4(*ip)),
            Answer::Aaaa { ip, .. } => Some(IpAddr::V6(*ip)),
            Answer::Cname { .. } => None,
        }
    }

    /// `A`, `AAAA` or `CNAME`.
    pub fn answer_type(&self) -> &'static str {
        match self {
            Answer::A { .. } => "A",
            Answer::Aaaa { .. } => "AAAA",
            Answer::Cname { .. } => "CNAME",
        }
    }

    /// The TTL, when known.
    pub fn ttl(&self) -> Option<u32> {
        match self {
            Answer::A { ttl, .. } | Answer::Aaaa { ttl, .. } | Answer::Cname { ttl, .. } => *ttl,
        }
    }
}

/// The result of one DNS lookup (OONI df-002 `queries` entry).
#[derive(Clone, Debug, PartialEq)]
pub struct DnsLookup {
    /// How the lookup was made.
    pub engine: DnsEngine,
    /// The resolver: `ip:port` for UDP/TCP, the URL for DoH, `None` for the
    /// system resolver.
    pub resolver_address: Option<String>,
    /// The name looked up.
    pub hostname: String,
    /// The record type asked for.
    pub query_type: QueryType,
    /// Start, in seconds since the measurement's zero instant.
    pub t0: f64,
    /// End (first usable reply, or failure), same clock.
    pub t: f64,
    /// df-007 failure string, `None` on success.
    pub failure: Option<String>,
    /// Response code of the reply, when a reply was parsed.
    pub rcode: Option<u16>,
    /// The reply exactly as received (not for the system resolver).
    pub raw_response: Option<Vec<u8>>,
    /// Answers in the order of the reply (A, AAAA and CNAME records only).
    pub answers: Vec<Answer>,
    /// Answer records that were not recorded because of `max_dns_answers`.
    pub answers_dropped: usize,
    /// UDP only: datagrams received after the first valid reply (late or
    /// duplicate replies: evidence of injection), and invalid datagrams
    /// (garbage, wrong ID or question) received at any time; each with its
    /// own timing, raw bytes and failure. Capped at `max_dns_late_replies`.
    pub late_replies: Vec<DnsLookup>,
    /// Datagrams not recorded in `late_replies` because of the cap.
    pub late_replies_dropped: usize,
    /// Low-level events (UDP/TCP reads and writes).
    pub events: Vec<NetEvent>,
}

impl DnsLookup {
    fn new(
        opts: &Options,
        engine: DnsEngine,
        resolver: Option<String>,
        hostname: &str,
        qtype: QueryType,
    ) -> Self {
        let t = opts.now();
        DnsLookup {
            engine,
            resolver_address: resolver,
            hostname: hostname.to_string(),
            query_type: qtype,
            t0: t,
            t,
            failure: None,
            rcode: None,
            raw_response: None,
            answers: Vec::new(),
            answers_dropped: 0,
            late_replies: Vec::new(),
            late_replies_dropped: 0,
            events: Vec::new(),
        }
    }

    /// The A/AAAA addresses of the answers, in order, without duplicates.
    pub fn addresses(&self) -> Vec<IpAddr> {
        let mut out: Vec<IpAddr> = Vec::new();
        for ip in self.answers.iter().filter_map(Answer::ip) {
            if !out.contains(&ip) {
                out.push(ip);
            }
        }
        out
    }

    fn fail(mut self, opts: &Options, failure: String) -> Self {
        self.t = opts.now();
        self.failure = Some(failure);
        self
    }
}

/// Builds a recursive query for `hostname`/`qtype` with a random ID; returns
/// the wire bytes and the parsed message (to match replies against).
pub fn build_query(hostname: &str, qtype: QueryType) -> Result<(Vec<u8>, Message), String> {
    let name = parse_name(hostname)?;
    let mut msg = Message::query();
    msg.metadata.recursion_desired = true;
    msg.add_query(Query::query(name, qtype.record_type()));
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    msg.set_edns(edns);
    let bytes = msg
        .to_vec()
        .map_err(|e| failure::unknown(&format!("cannot encode DNS query: {e}")))?;
    Ok((bytes, msg))
}

fn parse_name(hostname: &str) -> Result<Name, String> {
    let trimmed = hostname.trim_end_matches('.');
    if trimmed.is_empty() || trimmed.len() > 253 {
        return Err(failure::unknown("invalid hostname"));
    }
    let mut name = Name::from_utf8(trimmed)
        .or_else(|_| Name::from_ascii(trimmed))
        .map_err(|_| failure::unknown("invalid hostname"))?;
    name.set_fqdn(true);
    Ok(name)
}

/// What a received DNS message turned out to be.
#[derive(Debug)]
pub struct ParsedReply {
    /// The rcode.
    pub rcode: u16,
    /// Recorded answers.
    pub answers: Vec<Answer>,
    /// Answers beyond the cap.
    pub answers_dropped: usize,
    /// df-007 failure implied by the reply (rcode, or no answer of the asked type).
    pub failure: Option<String>,
}

/// Parses `raw` as the reply to `query`. `Err` holds the failure string of
/// an unusable datagram: garbage (`dns_server_misbehaving`) or a reply to
/// another query (`dns_reply_with_wrong_query_id`).
pub fn parse_reply(raw: &[u8], query: &Message, max_answers: usize) -> Result<ParsedReply, String> {
    let reply = Message::from_vec(raw).map_err(|_| failure::DNS_SERVER_MISBEHAVING.to_string())?;
    if reply.metadata.message_type != MessageType::Response
        || reply.metadata.op_code != OpCode::Query
    {
        return Err(failure::DNS_SERVER_MISBEHAVING.to_string());
    }
    if reply.metadata.id != query.metadata.id {
        return Err(failure::DNS_WRONG_QUERY_ID.to_string());
    }
    let asked = query.queries.first();
    let echoed = reply.queries.first();
    let same_question = match (asked, echoed) {
        (Some(a), Some(e)) => {
            reply.queries.len() == 1
                && a.name == e.name
                && a.query_type == e.query_type
                && e.query_class == DNSClass::IN
        }
        _ => false,
    };
    if !same_question {
        return Err(failure::DNS_WRONG_QUERY_ID.to_string());
    }
    let rcode = u16::from(reply.metadata.response_code);
    let mut answers = Vec::new();
    let mut answers_dropped = 0;
    for record in &reply.answers {
        let answer = match &record.data {
            RData::A(a) => Answer::A {
                ip: a.0,
                ttl: Some(record.ttl),
            },
            RData::AAAA(a) => Answer::Aaaa {
                ip: a.0,
                ttl: Some(record.ttl),
            },
            RData::CNAME(c) => Answer::Cname {
                hostname: c.0.to_utf8().trim_end_matches('.').to_string(),
                ttl: Some(record.ttl),
            },
            _ => continue,
        };
        if answers.len() < max_answers {
            answers.push(answer);
        } else {
            answers_dropped += 1;
        }
    }
    let wanted = asked.map(|q| q.query_type).unwrap_or(RecordType::A);
    let has_wanted = reply.answers.iter().any(|r| r.record_type() == wanted);
    let failure = if rcode != 0 {
        Some(failure::classify_rcode(rcode))
    } else if !has_wanted {
        Some(failure::DNS_NO_ANSWER.to_string())
    } else {
        None
    };
    Ok(ParsedReply {
        rcode,
        answers,
        answers_dropped,
        failure,
    })
}

impl DnsLookup {
    fn apply(&mut self, raw: &[u8], parsed: ParsedReply) {
        self.raw_response = Some(raw.to_vec());
        self.rcode = Some(parsed.rcode);
        self.answers = parsed.answers;
        self.answers_dropped = parsed.answers_dropped;
        self.failure = parsed.failure;
    }
}

/// Looks `hostname` up over UDP at `resolver`, then keeps listening for
/// `opts.dns_late_window` to record late and duplicate replies.
///
/// Replies whose ID or question do not match, and datagrams that do not
/// parse, never become the answer: they are recorded in `late_replies` and,
/// if nothing valid arrives before `opts.dns_timeout`, their failure string
/// becomes the lookup's failure.
pub async fn lookup_udp(
    opts: &Options,
    resolver: SocketAddr,
    hostname: &str,
    qtype: QueryType,
) -> DnsLookup {
    lookup_udp_early(opts, resolver, hostname, qtype, None).await
}

/// [`lookup_udp`], and as soon as the first valid reply is in, a copy of the
/// lookup so far is sent on `first`, so the caller can go on measuring while
/// this keeps listening for late replies (OONI's v0.5 does the same). When
/// the lookup fails, `first` is dropped unsent and the result comes back at
/// once.
pub async fn lookup_udp_early(
    opts: &Options,
    resolver: SocketAddr,
    hostname: &str,
    qtype: QueryType,
    mut first: Option<tokio::sync::oneshot::Sender<DnsLookup>>,
) -> DnsLookup {
    let mut out = DnsLookup::new(
        opts,
        DnsEngine::Udp,
        Some(resolver.to_string()),
        hostname,
        qtype,
    );
    let started = Instant::now();
    let deadline = started + opts.dns_timeout;
    let (query_bytes, query) = match build_query(hostname, qtype) {
        Ok(q) => q,
        Err(f) => return out.fail(opts, f),
    };
    let local = match opts.local_for(resolver) {
        Ok(local) => local,
        Err(f) => return out.fail(opts, f),
    };
    let socket = match UdpSocket::bind(local).await {
        Ok(s) => s,
        Err(e) => return out.fail(opts, failure::classify_io_error(&e)),
    };
    if let Err(e) = socket.connect(resolver).await {
        return out.fail(opts, failure::classify_io_error(&e));
    }
    let t0 = opts.now();
    let sent = socket.send(&query_bytes).await;
    out.events.push(NetEvent {
        operation: "write_to",
        address: Some(resolver.to_string()),
        proto: Some("udp"),
        num_bytes: sent.as_ref().ok().map(|n| *n as u64),
        failure: sent.as_ref().err().map(failure::classify_io_error),
        t0,
        t: opts.now(),
    });
    if let Err(e) = sent {
        return out.fail(opts, failure::classify_io_error(&e));
    }

    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut answered = false;
    let mut invalid_failure: Option<String> = None;
    let mut until = deadline;
    let mut datagrams: u64 = 0;
    loop {
        let t0 = opts.now();
        let received = match timeout_at(until.into(), socket.recv(&mut buf)).await {
            Err(_elapsed) => break,
            Ok(r) => r,
        };
        let n = match received {
            Ok(n) => n,
            Err(e) => {
                // An ICMP error (e.g. port unreachable) on a connected socket.
                let f = failure::classify_io_error(&e);
                out.events.push(NetEvent {
                    operation: "read_from",
                    address: Some(resolver.to_string()),
                    proto: Some("udp"),
                    num_bytes: None,
                    failure: Some(f.clone()),
                    t0,
                    t: opts.now(),
                });
                if !answered {
                    out.t = opts.now();
                    out.failure = Some(f);
                    return out;
                }
                break;
            }
        };
        let now = opts.now();
        datagrams += 1;
        // One write plus one read per recorded reply; a flood of datagrams
        // is counted in `late_replies_dropped`, not logged.
        if out.events.len() < 2 + opts.max_dns_late_replies {
            out.events.push(NetEvent {
                operation: "read_from",
                address: Some(resolver.to_string()),
                proto: Some("udp"),
                num_bytes: Some(n as u64),
                failure: None,
                t0,
                t: now,
            });
        }
        if answered && out.late_replies.len() >= opts.max_dns_late_replies {
            out.late_replies_dropped += 1;
            continue;
        }
        let raw = &buf[..n];
        let parsed = parse_reply(raw, &query, opts.max_dns_answers);
        let first_valid = !answered && parsed.is_ok();
        if first_valid {
            if let Ok(p) = parsed {
                out.apply(raw, p);
            }
            out.t = now;
            answered = true;
            if let Some(tx) = first.take() {
                // The receiver may be gone (a caller that stopped caring): fine.
                let _ = tx.send(out.clone());
            }
            until = Instant::now() + opts.dns_late_window;
            continue;
        }
        // A late/duplicate valid reply, or an invalid datagram.
        let mut extra = DnsLookup::new(
            opts,
            DnsEngine::Udp,
            Some(resolver.to_string()),
            hostname,
            qtype,
        );
        extra.t0 = out.t0;
        extra.t = now;
        match parsed {
            Ok(p) => extra.apply(raw, p),
            Err(f) => {
                extra.raw_response = Some(raw.to_vec());
                extra.failure = Some(f.clone());
                invalid_failure = Some(f);
            }
        }
        if out.late_replies.len() < opts.max_dns_late_replies {
            out.late_replies.push(extra);
        } else {
            out.late_replies_dropped += 1;
        }
    }
    if !answered {
        out.t = opts.now();
        out.failure = Some(invalid_failure.unwrap_or_else(|| failure::GENERIC_TIMEOUT.to_string()));
    }
    tracing::debug!(%resolver, hostname, datagrams, failure = ?out.failure, "udp lookup");
    out
}

/// Looks `hostname` up over TCP at `resolver` (RFC 1035 §4.2.2 framing).
/// The whole exchange, connect included, is bounded by `opts.dns_timeout`.
pub async fn lookup_tcp(
    opts: &Options,
    resolver: SocketAddr,
    hostname: &str,
    qtype: QueryType,
) -> DnsLookup {
    let mut out = DnsLookup::new(
        opts,
        DnsEngine::Tcp,
        Some(resolver.to_string()),
        hostname,
        qtype,
    );
    let deadline = Instant::now() + opts.dns_timeout;
    let (query_bytes, query) = match build_query(hostname, qtype) {
        Ok(q) => q,
        Err(f) => return out.fail(opts, f),
    };
    let exchange = async {
        let local = opts.local_for(resolver)?;
        let socket = if resolver.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .map_err(|e| failure::classify_io_error(&e))?;
        socket
            .bind(local)
            .map_err(|e| failure::classify_io_error(&e))?;
        let mut stream = socket
            .connect(resolver)
            .await
            .map_err(|e| failure::classify_io_error(&e))?;
        let len =
            u16::try_from(query_bytes.len()).map_err(|_| failure::unknown("query too long"))?;
        let mut framed = Vec::with_capacity(query_bytes.len() + 2);
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(&query_bytes);
        stream
            .write_all(&framed)
            .await
            .map_err(|e| failure::classify_io_error(&e))?;
        let mut len_buf = [0u8; 2];
        stream
            .read_exact(&mut len_buf)
            .await
            .map_err(|e| failure::classify_io_error(&e))?;
        let reply_len = usize::from(u16::from_be_bytes(len_buf));
        let mut reply = vec![0u8; reply_len];
        stream
            .read_exact(&mut reply)
            .await
            .map_err(|e| failure::classify_io_error(&e))?;
        Ok::<Vec<u8>, String>(reply)
    };
    match timeout_at(deadline.into(), exchange).await {
        Err(_) => out.fail(opts, failure::GENERIC_TIMEOUT.to_string()),
        Ok(Err(f)) => out.fail(opts, f),
        Ok(Ok(raw)) => {
            out.t = opts.now();
            match parse_reply(&raw, &query, opts.max_dns_answers) {
                Ok(p) => out.apply(&raw, p),
                Err(f) => {
                    out.raw_response = Some(raw);
                    out.failure = Some(f);
                }
            }
            out
        }
    }
}

/// Largest DoH reply body read (a DNS message cannot be larger).
pub const MAX_DOH_BODY: usize = 65_535;

/// Looks `hostname` up with DNS over HTTPS (RFC 8484: POST of an
/// `application/dns-message`) at `url`, connecting to `server` (the DoH
/// server's address, resolved beforehand by the caller) with SNI = the URL's
/// host. The certificate must verify against `opts.roots`; the whole
/// exchange is bounded by `opts.dns_timeout`.
pub async fn lookup_doh(
    opts: &Options,
    url: &url::Url,
    server: SocketAddr,
    hostname: &str,
    qtype: QueryType,
) -> DnsLookup {
    let mut out = DnsLookup::new(opts, DnsEngine::Doh, Some(url.to_string()), hostname, qtype);
    let deadline = Instant::now() + opts.dns_timeout;
    let (query_bytes, query) = match build_query(hostname, qtype) {
        Ok(q) => q,
        Err(f) => return out.fail(opts, f),
    };
    let Some(sni) = url.host_str().map(str::to_string) else {
        return out.fail(opts, failure::unknown("DoH URL without host"));
    };
    if url.scheme() != "https" {
        return out.fail(opts, failure::unknown("DoH URL must be https"));
    }
    let mut sub = opts.clone();
    sub.body_cap = MAX_DOH_BODY;
    let exchange = async {
        let (tcp, stream) = crate::tcp::connect(&sub, server).await;
        let mut events = vec![tcp.event];
        let Some(stream) = stream else {
            return (
                events,
                Err(tcp.failure.unwrap_or_else(|| failure::unknown("connect"))),
            );
        };
        let (tls, stream) =
            crate::tls::handshake(&sub, stream, &sni, crate::tls::DEFAULT_ALPN).await;
        events.extend(tls.events.iter().cloned());
        let Some(stream) = stream else {
            return (
                events,
                Err(tls.failure.unwrap_or_else(|| failure::unknown("tls"))),
            );
        };
        let protocol = crate::http::HttpProtocol::from_alpn(tls.negotiated_protocol.as_deref());
        let request = crate::http::HttpRequest {
            method: "POST".into(),
            url: url.clone(),
            headers: vec![
                ("Content-Type".into(), "application/dns-message".into()),
                ("Accept".into(), "application/dns-message".into()),
            ],
            body: query_bytes.clone(),
        };
        let tx = crate::http::round_trip(&sub, stream, Some(server), protocol, &request).await;
        events.extend(tx.events.iter().cloned());
        if let Some(f) = tx.failure {
            return (events, Err(f));
        }
        // A DoH server that does not answer 200 misbehaves as a DNS server.
        if tx.status != Some(200) {
            return (events, Err(failure::DNS_SERVER_MISBEHAVING.to_string()));
        }
        if tx.body_is_truncated {
            return (events, Err(failure::DNS_SERVER_MISBEHAVING.to_string()));
        }
        (events, Ok(tx.body))
    };
    match timeout_at(deadline.into(), exchange).await {
        Err(_) => out.fail(opts, failure::GENERIC_TIMEOUT.to_string()),
        Ok((events, result)) => {
            out.events = events;
            match result {
                Err(f) => out.fail(opts, f),
                Ok(raw) => {
                    out.t = opts.now();
                    match parse_reply(&raw, &query, opts.max_dns_answers) {
                        Ok(p) => out.apply(&raw, p),
                        Err(f) => {
                            out.raw_response = Some(raw);
                            out.failure = Some(f);
                        }
                    }
                    out
                }
            }
        }
    }
}

/// Resolves `hostname` with the operating system's resolver (getaddrinfo),
/// bounded by `opts.dns_timeout`. Recorded as engine `getaddrinfo`, query
/// type `ANY`, answers without TTL. The source address option does not
/// apply: the OS resolver chooses its own sockets.
pub async fn lookup_system(opts: &Options, hostname: &str) -> DnsLookup {
    let mut out = DnsLookup::new(opts, DnsEngine::System, None, hostname, QueryType::Any);
    let deadline = Instant::now() + opts.dns_timeout;
    let target = format!("{}:0", hostname.trim_end_matches('.'));
    match timeout_at(deadline.into(), tokio::net::lookup_host(target)).await {
        Err(_) => out.fail(opts, failure::GENERIC_TIMEOUT.to_string()),
        Ok(Err(e)) => {
            let f = classify_gai_error(&e);
            out.fail(opts, f)
        }
        Ok(Ok(addrs)) => {
            out.t = opts.now();
            for addr in addrs {
                let answer = match addr.ip() {
                    IpAddr::V4(ip) => Answer::A { ip, ttl: None },
                    IpAddr::V6(ip) => Answer::Aaaa { ip, ttl: None },
                };
                if out.answers.contains(&answer) {
                    continue;
                }
                if out.answers.len() < opts.max_dns_answers {
                    out.answers.push(answer);
                } else {
                    out.answers_dropped += 1;
                }
            }
            if out.answers.is_empty() {
                out.failure = Some(failure::DNS_NO_ANSWER.to_string());
            }
            out
        }
    }
}

/// Maps a getaddrinfo error (as reported by the standard library, whose
/// message carries `gai_strerror` text) to a df-007 string.
fn classify_gai_error(err: &std::io::Error) -> String {
    let text = err.to_string();
    let cases = [
        ("Name or service not known", failure::DNS_NXDOMAIN),
        ("nodename nor servname", failure::DNS_NXDOMAIN),
        ("No address associated", failure::DNS_NO_ANSWER),
        ("Temporary failure", failure::DNS_TEMPORARY_FAILURE),
        ("Non-recoverable", failure::DNS_NON_RECOVERABLE),
    ];
    for (needle, name) in cases {
        if text.contains(needle) {
            return name.to_string();
        }
    }
    if err.raw_os_error().is_some() {
        return failure::classify_io_error(err);
    }
    failure::unknown("getaddrinfo failed")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply_to(query: &Message, edit: impl FnOnce(&mut Message)) -> Vec<u8> {
        let mut reply = Message::response(query.metadata.id, OpCode::Query);
        reply.add_queries(query.queries.clone());
        edit(&mut reply);
        reply.to_vec().unwrap()
    }

    #[test]
    fn a_reply_to_our_question_is_accepted_with_its_answers() {
        let (_, query) = build_query("example.org", QueryType::A).unwrap();
        let name = query.queries[0].name.clone();
        let raw = reply_to(&query, |r| {
            r.add_answer(hickory_proto::rr::Record::from_rdata(
                name,
                300,
                RData::A(hickory_proto::rr::rdata::A(Ipv4Addr::new(192, 0, 2, 1))),
            ));
        });
        let parsed = parse_reply(&raw, &query, 10).unwrap();
        assert_eq!(parsed.failure, None);
        assert_eq!(
            parsed.answers,
            vec![Answer::A {
                ip: Ipv4Addr::new(192, 0, 2, 1),
                ttl: Some(300)
            }]
        );
    }

    #[test]
    fn unusable_datagrams_are_classified_not_accepted() {
        let (query_bytes, query) = build_query("example.org", QueryType::A).unwrap();
        let mut wrong_id = Message::response(query.metadata.id.wrapping_add(1), OpCode::Query);
        wrong_id.add_queries(query.queries.clone());
        let mut other_question = Message::response(query.metadata.id, OpCode::Query);
        other_question.add_query(Query::query(
            Name::from_ascii("other.example.").unwrap(),
            RecordType::A,
        ));
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "garbage",
                b"\x00\x01garbage".to_vec(),
                failure::DNS_SERVER_MISBEHAVING,
            ),
            ("empty", Vec::new(), failure::DNS_SERVER_MISBEHAVING),
            (
                "our own query echoed",
                query_bytes.clone(),
                failure::DNS_SERVER_MISBEHAVING,
            ),
            (
                "wrong id",
                wrong_id.to_vec().unwrap(),
                failure::DNS_WRONG_QUERY_ID,
            ),
            (
                "other question",
                other_question.to_vec().unwrap(),
                failure::DNS_WRONG_QUERY_ID,
            ),
        ];
        for (what, raw, want) in cases {
            let got = parse_reply(&raw, &query, 10).err();
            assert_eq!(got.as_deref(), Some(want), "{what}");
        }
    }

    #[test]
    fn rcodes_and_empty_answers_become_failures() {
        let (_, query) = build_query("example.org", QueryType::Aaaa).unwrap();
        let cases = [
            (
                hickory_proto::op::ResponseCode::NXDomain,
                failure::DNS_NXDOMAIN,
            ),
            (
                hickory_proto::op::ResponseCode::Refused,
                failure::DNS_REFUSED,
            ),
            (
                hickory_proto::op::ResponseCode::ServFail,
                failure::DNS_SERVFAIL,
            ),
            (
                hickory_proto::op::ResponseCode::NoError,
                failure::DNS_NO_ANSWER,
            ),
        ];
        for (rcode, want) in cases {
            let raw = reply_to(&query, |r| r.metadata.response_code = rcode);
            let parsed = parse_reply(&raw, &query, 10).unwrap();
            assert_eq!(parsed.failure.as_deref(), Some(want), "{rcode:?}");
        }
    }

    #[test]
    fn invalid_hostnames_fail_without_sending() {
        for bad in ["", ".", &"a".repeat(300)] {
            assert!(build_query(bad, QueryType::A).is_err(), "{bad:?}");
        }
    }
}
