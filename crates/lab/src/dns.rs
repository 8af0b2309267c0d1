//! The lab's resolvers: an honest one for the control and an "ISP resolver"
//! that tampers per name with queries from the censored vantage, both over
//! UDP and TCP on the same OS-chosen port.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

use crate::Vantage;

/// Largest DNS message the lab reads (UDP datagram or TCP frame).
const MAX_MESSAGE: usize = 4096;
/// Queries served on one TCP connection before the lab closes it.
const MAX_TCP_QUERIES: usize = 64;
/// How long a TCP connection may stay idle.
const TCP_IDLE: Duration = Duration::from_secs(10);
/// How long the lab holds a TCP query it will never answer.
const NO_REPLY_HOLD: Duration = Duration::from_secs(60);
/// TTL of every lab answer.
const TTL: u32 = 60;

/// What the resolver does for one name, to the censored vantage only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DnsRule {
    /// Answer NXDOMAIN (ISP resolver).
    Nxdomain,
    /// Answer REFUSED (ISP resolver).
    Refused,
    /// Answer SERVFAIL (ISP resolver).
    Servfail,
    /// Answer NOERROR without records (ISP resolver).
    NoAnswer,
    /// Never answer (ISP resolver).
    NoReply,
    /// Answer this address instead of the true one (ISP resolver).
    Answer(Ipv4Addr),
    /// On path: over UDP, a forged answer with this address first, the true
    /// answer after the injection delay (any lab resolver).
    Inject(Ipv4Addr),
}

/// The lab's zone: the true addresses, and the censor's rules.
#[derive(Debug, Default)]
pub(crate) struct Zone {
    /// True A records (lower-case names without the trailing dot).
    pub names: HashMap<String, Ipv4Addr>,
    /// Tampering rules by name.
    pub rules: HashMap<String, DnsRule>,
}

/// Which resolver a server plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The censored vantage's resolver: applies every rule.
    Isp,
    /// The honest resolver: only on-path injection reaches its replies.
    Control,
}

/// What to send back for one query.
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    /// One reply.
    Now(Vec<u8>),
    /// Nothing at all.
    Nothing,
    /// A forged reply now and the true one later.
    Inject { forged: Vec<u8>, truth: Vec<u8> },
}

#[derive(Clone, Copy)]
enum Transport {
    Udp,
    Tcp,
}

/// A running resolver's shared settings.
pub(crate) struct Resolver {
    pub zone: Arc<Zone>,
    pub role: Role,
    pub censored: IpAddr,
    pub injection_delay: Duration,
}

impl Resolver {
    fn reply(&self, query: &[u8], peer: IpAddr, transport: Transport) -> Reply {
        let request = match Message::from_vec(query) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(%peer, error = %e, "lab dns: undecodable query dropped");
                return Reply::Nothing;
            }
        };
        if request.metadata.message_type != MessageType::Query
            || request.metadata.op_code != OpCode::Query
            || request.queries.len() != 1
        {
            return encode(error_reply(&request, ResponseCode::FormErr));
        }
        let question = &request.queries[0];
        let name = normalise(&question.name().to_ascii());
        let qtype = question.query_type();
        let truth = self.honest(&request, &name, qtype);
        if Vantage::of(peer, self.censored) == Vantage::Control {
            return encode(truth);
        }
        match (self.zone.rules.get(&name).copied(), self.role) {
            (Some(DnsRule::Inject(forged)), _) => match transport {
                Transport::Udp if qtype == RecordType::A => {
                    let fake = answer_reply(&request, Some(forged));
                    match (fake.to_vec(), truth.to_vec()) {
                        (Ok(forged), Ok(truth)) => Reply::Inject { forged, truth },
                        _ => Reply::Nothing,
                    }
                }
                _ => encode(truth),
            },
            (Some(rule), Role::Isp) => match rule {
                DnsRule::Nxdomain => encode(error_reply(&request, ResponseCode::NXDomain)),
                DnsRule::Refused => encode(error_reply(&request, ResponseCode::Refused)),
                DnsRule::Servfail => encode(error_reply(&request, ResponseCode::ServFail)),
                DnsRule::NoAnswer => encode(answer_reply(&request, None)),
                DnsRule::NoReply => Reply::Nothing,
                DnsRule::Answer(ip) => {
                    let ip = (qtype == RecordType::A).then_some(ip);
                    encode(answer_reply(&request, ip))
                }
                DnsRule::Inject(_) => encode(truth),
            },
            _ => encode(truth),
        }
    }

    fn honest(&self, request: &Message, name: &str, qtype: RecordType) -> Message {
        match self.zone.names.get(name) {
            Some(ip) => answer_reply(request, (qtype == RecordType::A).then_some(*ip)),
            None if in_lab_domain(name) => error_reply(request, ResponseCode::NXDomain),
            // The lab is not a recursive resolver of the real internet.
            None => error_reply(request, ResponseCode::Refused),
        }
    }

    /// Serves UDP queries until the runtime stops.
    pub async fn serve_udp(self: Arc<Self>, socket: UdpSocket) {
        let socket = Arc::new(socket);
        let mut buf = vec![0u8; MAX_MESSAGE];
        loop {
            let (n, peer) = match socket.recv_from(&mut buf).await {
                Ok(x) => x,
                Err(e) => {
                    tracing::debug!(error = %e, "lab dns: udp recv failed");
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
            };
            match self.reply(&buf[..n], peer.ip(), Transport::Udp) {
                Reply::Now(bytes) => send(&socket, &bytes, peer).await,
                Reply::Nothing => {}
                Reply::Inject { forged, truth } => {
                    send(&socket, &forged, peer).await;
                    let socket = Arc::clone(&socket);
                    let delay = self.injection_delay;
                    tokio::spawn(async move {
                        tokio::time::sleep(delay).await;
                        send(&socket, &truth, peer).await;
                    });
                }
            }
        }
    }

    /// Serves TCP queries (2-byte length prefix) until the runtime stops.
    pub async fn serve_tcp(self: Arc<Self>, listener: TcpListener) {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    let me = Arc::clone(&self);
                    tokio::spawn(async move { me.tcp_connection(stream, peer).await });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "lab dns: tcp accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }

    async fn tcp_connection(&self, mut stream: TcpStream, peer: SocketAddr) {
        for _ in 0..MAX_TCP_QUERIES {
            let mut len = [0u8; 2];
            match tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut len)).await {
                Ok(Ok(_)) => {}
                _ => return,
            }
            let len = usize::from(u16::from_be_bytes(len));
            if len == 0 || len > MAX_MESSAGE {
                tracing::debug!(%peer, len, "lab dns: tcp frame length out of bounds");
                return;
            }
            let mut query = vec![0u8; len];
            match tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut query)).await {
                Ok(Ok(_)) => {}
                _ => return,
            }
            match self.reply(&query, peer.ip(), Transport::Tcp) {
                Reply::Now(bytes) | Reply::Inject { truth: bytes, .. } => {
                    let Ok(n) = u16::try_from(bytes.len()) else {
                        return;
                    };
                    let mut frame = n.to_be_bytes().to_vec();
                    frame.extend_from_slice(&bytes);
                    if stream.write_all(&frame).await.is_err() {
                        return;
                    }
                }
                Reply::Nothing => {
                    // Hold the connection open without answering, until the
                    // client gives up (or a bounded time passes).
                    let mut sink = [0u8; 512];
                    let _ = tokio::time::timeout(NO_REPLY_HOLD, async {
                        while let Ok(n) = stream.read(&mut sink).await {
                            if n == 0 {
                                break;
                            }
                        }
                    })
                    .await;
                    return;
                }
            }
        }
    }
}

async fn send(socket: &UdpSocket, bytes: &[u8], peer: SocketAddr) {
    if let Err(e) = socket.send_to(bytes, peer).await {
        tracing::debug!(%peer, error = %e, "lab dns: udp send failed");
    }
}

fn encode(message: Message) -> Reply {
    match message.to_vec() {
        Ok(bytes) => Reply::Now(bytes),
        Err(e) => {
            tracing::warn!(error = %e, "lab dns: could not encode a reply");
            Reply::Nothing
        }
    }
}

fn base_reply(request: &Message, code: ResponseCode) -> Message {
    let mut reply = Message::response(request.metadata.id, request.metadata.op_code);
    reply.metadata.recursion_desired = request.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    reply.metadata.response_code = code;
    reply.add_queries(request.queries.iter().cloned());
    reply
}

fn error_reply(request: &Message, code: ResponseCode) -> Message {
    base_reply(request, code)
}

fn answer_reply(request: &Message, ip: Option<Ipv4Addr>) -> Message {
    let mut reply = base_reply(request, ResponseCode::NoError);
    if let (Some(ip), Some(q)) = (ip, request.queries.first()) {
        reply.add_answer(Record::from_rdata(q.name().clone(), TTL, RData::A(A(ip))));
    }
    reply
}

/// Lower-case, without the trailing dot.
pub(crate) fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn in_lab_domain(name: &str) -> bool {
    name == crate::LAB_DOMAIN || name.ends_with(&format!(".{}", crate::LAB_DOMAIN))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;
    use hickory_proto::rr::Name;

    const CENSORED: IpAddr = IpAddr::V4(crate::CENSORED_SOURCE);
    const CONTROL: IpAddr = IpAddr::V4(crate::CONTROL_SOURCE);
    const SITE: Ipv4Addr = Ipv4Addr::new(127, 1, 1, 9);
    const OTHER: Ipv4Addr = Ipv4Addr::new(127, 1, 2, 1);

    fn resolver(role: Role, rule: Option<DnsRule>) -> Resolver {
        let mut zone = Zone::default();
        zone.names.insert("site.canary-lab.test".into(), SITE);
        if let Some(rule) = rule {
            zone.rules.insert("site.canary-lab.test".into(), rule);
        }
        Resolver {
            zone: Arc::new(zone),
            role,
            censored: CENSORED,
            injection_delay: Duration::from_millis(1),
        }
    }

    fn query(name: &str, qtype: RecordType) -> Vec<u8> {
        let mut m = Message::query();
        m.metadata.id = 4242;
        m.metadata.recursion_desired = true;
        m.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
        m.to_vec().unwrap()
    }

    fn decode(reply: Reply) -> (ResponseCode, Vec<Ipv4Addr>) {
        let Reply::Now(bytes) = reply else {
            panic!("expected one reply, got {reply:?}")
        };
        addrs(&bytes)
    }

    fn addrs(bytes: &[u8]) -> (ResponseCode, Vec<Ipv4Addr>) {
        let m = Message::from_vec(bytes).unwrap();
        assert_eq!(m.metadata.id, 4242);
        assert_eq!(m.metadata.message_type, MessageType::Response);
        let ips = m
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::A(a) => Some(a.0),
                _ => None,
            })
            .collect();
        (m.metadata.response_code, ips)
    }

    #[test]
    fn isp_rules_touch_only_the_censored_vantage() {
        use DnsRule::*;
        let cases = [
            (Nxdomain, ResponseCode::NXDomain, vec![]),
            (Refused, ResponseCode::Refused, vec![]),
            (Servfail, ResponseCode::ServFail, vec![]),
            (NoAnswer, ResponseCode::NoError, vec![]),
            (Answer(OTHER), ResponseCode::NoError, vec![OTHER]),
        ];
        for (rule, code, ips) in cases {
            let r = resolver(Role::Isp, Some(rule));
            let q = query("site.canary-lab.test.", RecordType::A);
            assert_eq!(
                decode(r.reply(&q, CENSORED, Transport::Udp)),
                (code, ips),
                "{rule:?}"
            );
            assert_eq!(
                decode(r.reply(&q, CONTROL, Transport::Udp)),
                (ResponseCode::NoError, vec![SITE]),
                "{rule:?} from control"
            );
        }
    }

    #[test]
    fn the_control_resolver_ignores_resolver_side_rules() {
        let r = resolver(Role::Control, Some(DnsRule::Nxdomain));
        let q = query("site.canary-lab.test.", RecordType::A);
        assert_eq!(
            decode(r.reply(&q, CENSORED, Transport::Udp)),
            (ResponseCode::NoError, vec![SITE])
        );
    }

    #[test]
    fn no_reply_means_silence_for_the_censored_vantage_only() {
        let r = resolver(Role::Isp, Some(DnsRule::NoReply));
        let q = query("site.canary-lab.test.", RecordType::A);
        assert_eq!(r.reply(&q, CENSORED, Transport::Udp), Reply::Nothing);
        assert!(matches!(
            r.reply(&q, CONTROL, Transport::Udp),
            Reply::Now(_)
        ));
    }

    #[test]
    fn injection_forges_first_then_tells_the_truth_over_udp_only() {
        for role in [Role::Isp, Role::Control] {
            let r = resolver(role, Some(DnsRule::Inject(OTHER)));
            let q = query("site.canary-lab.test.", RecordType::A);
            let Reply::Inject { forged, truth } = r.reply(&q, CENSORED, Transport::Udp) else {
                panic!("expected an injection")
            };
            assert_eq!(addrs(&forged), (ResponseCode::NoError, vec![OTHER]));
            assert_eq!(addrs(&truth), (ResponseCode::NoError, vec![SITE]));
            assert_eq!(
                decode(r.reply(&q, CENSORED, Transport::Tcp)),
                (ResponseCode::NoError, vec![SITE])
            );
        }
    }

    #[test]
    fn honest_answers_follow_the_zone() {
        let r = resolver(Role::Isp, None);
        let cases = [
            (
                "site.canary-lab.test.",
                RecordType::A,
                ResponseCode::NoError,
                vec![SITE],
            ),
            (
                "SITE.Canary-Lab.Test.",
                RecordType::A,
                ResponseCode::NoError,
                vec![SITE],
            ),
            (
                "site.canary-lab.test.",
                RecordType::AAAA,
                ResponseCode::NoError,
                vec![],
            ),
            (
                "nope.canary-lab.test.",
                RecordType::A,
                ResponseCode::NXDomain,
                vec![],
            ),
            ("example.org.", RecordType::A, ResponseCode::Refused, vec![]),
        ];
        for (name, qtype, code, ips) in cases {
            let q = query(name, qtype);
            assert_eq!(
                decode(r.reply(&q, CENSORED, Transport::Udp)),
                (code, ips),
                "{name} {qtype}"
            );
        }
    }

    #[test]
    fn hostile_bytes_get_no_reply_and_no_panic() {
        let r = resolver(Role::Isp, None);
        for junk in [
            &b""[..],
            &b"\x00"[..],
            &[0xffu8; 11][..],
            &[0x12u8; 300][..],
        ] {
            let reply = r.reply(junk, CENSORED, Transport::Udp);
            assert!(matches!(reply, Reply::Nothing | Reply::Now(_)));
        }
    }
}
