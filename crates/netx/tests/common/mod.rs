//! Tiny loopback servers for the netx tests. Every server binds 127.0.0.1
//! on a port chosen by the OS and lives as long as the test's runtime.

#![allow(dead_code)]

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use canary_netx::{Options, TrustRoots};
use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::{rdata, RData, Record};
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

/// Options with short timeouts, for tests: long enough that a loaded
/// machine does not turn a loopback success into a timeout, short enough
/// that hostile cases end quickly.
pub fn opts() -> Options {
    Options {
        dns_timeout: Duration::from_millis(600),
        dns_late_window: Duration::from_millis(150),
        tcp_timeout: Duration::from_millis(800),
        tls_timeout: Duration::from_millis(800),
        http_timeout: Duration::from_millis(800),
        body_cap: 64 * 1024,
        ..Options::default()
    }
}

/// Upper bound for a hostile case: the longest timeout plus slack for a
/// loaded machine. A case that hangs past its timeout fails this.
pub const BUDGET: Duration = Duration::from_millis(2000);

// ---------------------------------------------------------------- DNS

/// How the fake DNS server answers.
#[derive(Clone, Debug)]
pub enum Dns {
    /// A records for every query (AAAA queries get no answer).
    Answer(Vec<Ipv4Addr>),
    /// An error rcode and no answers.
    Rcode(ResponseCode),
    /// Random-looking bytes that are not a DNS message.
    Garbage,
    /// A header claiming 65535 answers followed by nothing.
    HugeCount,
    /// `n` A records in one datagram.
    Many(usize),
    /// A forged reply at once, then the true reply after `delay_ms` (as an
    /// on-path injector racing the real resolver would produce).
    Injection {
        forged: Ipv4Addr,
        real: Ipv4Addr,
        delay_ms: u64,
    },
    /// A reply with the wrong ID, then nothing.
    WrongId,
    /// The same valid reply `n` times in a row (a duplicate flood).
    Flood(usize),
    /// Never answers.
    Silent,
}

fn reply_for(query: &Message, behaviour: &Dns, ips: &[Ipv4Addr]) -> Vec<u8> {
    let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
    reply.metadata.recursion_desired = query.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    reply.add_queries(query.queries.clone());
    if let Dns::Rcode(code) = behaviour {
        reply.metadata.response_code = *code;
    }
    if let Some(q) = query.queries.first() {
        if q.query_type == hickory_proto::rr::RecordType::A {
            for ip in ips {
                reply.add_answer(Record::from_rdata(
                    q.name.clone(),
                    60,
                    RData::A(rdata::A(*ip)),
                ));
            }
        }
    }
    reply.to_vec().unwrap()
}

/// Builds the bytes the server sends for one query (several datagrams for
/// the injection case, with a delay before each).
pub fn dns_replies(query_bytes: &[u8], behaviour: &Dns) -> Vec<(u64, Vec<u8>)> {
    let Ok(query) = Message::from_vec(query_bytes) else {
        return vec![];
    };
    match behaviour {
        Dns::Answer(ips) => vec![(0, reply_for(&query, behaviour, ips))],
        Dns::Rcode(_) => vec![(0, reply_for(&query, behaviour, &[]))],
        Dns::Garbage => vec![(0, b"\x13\x37 this is not DNS at all \xff\xfe".to_vec())],
        Dns::HugeCount => {
            let mut bytes = query_bytes.to_vec();
            bytes[2] |= 0x80; // QR = response
            bytes[6] = 0xff; // ANCOUNT = 65535
            bytes[7] = 0xff;
            vec![(0, bytes)]
        }
        Dns::Many(n) => {
            let ips: Vec<Ipv4Addr> = (0..*n)
                .map(|i| Ipv4Addr::from(0x0a00_0000u32 + i as u32))
                .collect();
            vec![(0, reply_for(&query, behaviour, &ips))]
        }
        Dns::Injection {
            forged,
            real,
            delay_ms,
        } => vec![
            (0, reply_for(&query, behaviour, &[*forged])),
            (*delay_ms, reply_for(&query, behaviour, &[*real])),
        ],
        Dns::WrongId => {
            let mut other = query.clone();
            other.metadata.id = query.metadata.id.wrapping_add(1);
            vec![(
                0,
                reply_for(
                    &other,
                    &Dns::Answer(vec![]),
                    &[Ipv4Addr::new(192, 0, 2, 66)],
                ),
            )]
        }
        Dns::Flood(n) => {
            let reply = reply_for(&query, behaviour, &[Ipv4Addr::new(192, 0, 2, 77)]);
            vec![(0, reply); *n]
        }
        Dns::Silent => vec![],
    }
}

/// A UDP DNS server; returns its address and a receiver of the client
/// addresses it saw.
pub async fn udp_dns(
    behaviour: Dns,
) -> (SocketAddr, tokio::sync::mpsc::UnboundedReceiver<SocketAddr>) {
    let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let addr = socket.local_addr().unwrap();
    let (seen_tx, seen_rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65_535];
        loop {
            let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
                return;
            };
            let _ = seen_tx.send(peer);
            let replies = dns_replies(&buf[..n], &behaviour);
            let socket = Arc::clone(&socket);
            tokio::spawn(async move {
                for (delay, bytes) in replies {
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    let _ = socket.send_to(&bytes, peer).await;
                }
            });
        }
    });
    (addr, seen_rx)
}

/// A TCP DNS server (2-byte length framing).
pub async fn tcp_dns(behaviour: Dns) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let behaviour = behaviour.clone();
            tokio::spawn(async move {
                let mut len = [0u8; 2];
                if stream.read_exact(&mut len).await.is_err() {
                    return;
                }
                let mut query = vec![0u8; u16::from_be_bytes(len) as usize];
                if stream.read_exact(&mut query).await.is_err() {
                    return;
                }
                for (delay, bytes) in dns_replies(&query, &behaviour) {
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
                    framed.extend_from_slice(&bytes);
                    let _ = stream.write_all(&framed).await;
                }
                tokio::time::sleep(Duration::from_secs(5)).await;
            });
        }
    });
    addr
}

// ---------------------------------------------------------------- PKI

/// A test certificate authority.
pub struct Pki {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Pki {
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Pki { issuer }
    }

    pub fn ca_pem(&self) -> String {
        self.issuer.pem()
    }

    pub fn roots(&self) -> TrustRoots {
        TrustRoots::from_pem(self.ca_pem().as_bytes()).unwrap()
    }

    /// A leaf for `names`, chain = [leaf, CA]; `expired` sets validity in 2001.
    pub fn leaf(
        &self,
        names: &[&str],
        expired: bool,
    ) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        if expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        }
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let chain = vec![cert.der().clone(), self.issuer.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        (chain, key)
    }
}

pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    alpn: &[&str],
) -> Arc<rustls::ServerConfig> {
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    Arc::new(config)
}

// ---------------------------------------------------------------- HTTP

/// The test web application (same for plain and TLS servers):
/// `/` hello; `/headers` echoes request headers; `/redirect/N` redirects
/// N times then lands on `/`; `/loop` redirects to itself; `/relative`
/// redirects with a relative Location; `/cookie` sets a cookie and
/// redirects to `/headers`; `/big` 1 MiB; `/dns-query` a DoH endpoint
/// answering 192.0.2.53.
async fn app(req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let version = format!("{:?}", req.version());
    let path = req.uri().path().to_string();
    let mut headers_text = String::new();
    for (k, v) in req.headers() {
        headers_text.push_str(&format!("{}: {}\n", k, v.to_str().unwrap_or("?")));
    }
    if let Some(host) = req.uri().authority() {
        headers_text.push_str(&format!(":authority: {host}\n"));
    }
    let method = req.method().clone();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut res = Response::builder()
        .header("X-Version", version)
        .header("Set-Cookie", "a=1")
        .header("Set-Cookie", "b=2");
    let body: Vec<u8> = if path == "/" {
        b"<html><title>hello</title></html>".to_vec()
    } else if path == "/headers" {
        headers_text.into_bytes()
    } else if let Some(n) = path.strip_prefix("/redirect/") {
        let n: u32 = n.parse().unwrap_or(0);
        let to = if n <= 1 {
            "/".to_string()
        } else {
            format!("/redirect/{}", n - 1)
        };
        res = res.status(302).header("Location", to);
        Vec::new()
    } else if path == "/loop" {
        res = res.status(302).header("Location", "/loop");
        Vec::new()
    } else if path == "/relative" {
        res = res.status(301).header("Location", "headers");
        Vec::new()
    } else if path == "/cookie" {
        res = res
            .status(303)
            .header("Location", "/headers")
            .header("Set-Cookie", "session=s3cr3t; Path=/");
        Vec::new()
    } else if path == "/big" {
        vec![b'x'; 1024 * 1024]
    } else if path == "/dns-query" && method == hyper::Method::POST {
        res = res.header("Content-Type", "application/dns-message");
        dns_replies(&body, &Dns::Answer(vec![Ipv4Addr::new(192, 0, 2, 53)]))
            .into_iter()
            .next()
            .map(|(_, b)| b)
            .unwrap_or_default()
    } else {
        res = res.status(404);
        b"not found".to_vec()
    };
    Ok(res.body(Full::new(Bytes::from(body))).unwrap())
}

async fn serve_app<S>(io: S)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(io), hyper::service::service_fn(app))
        .await;
}

/// A plain HTTP server (HTTP/1.1) running [`app`]; reports peers it saw.
pub async fn http_server() -> (SocketAddr, tokio::sync::mpsc::UnboundedReceiver<SocketAddr>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (seen_tx, seen_rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((stream, peer)) = listener.accept().await else {
                return;
            };
            let _ = stream.set_nodelay(true);
            let _ = seen_tx.send(peer);
            tokio::spawn(serve_app(stream));
        }
    });
    (addr, seen_rx)
}

/// A TLS server running [`app`] with the given certificate and ALPN list.
pub async fn https_server(config: Arc<rustls::ServerConfig>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let _ = stream.set_nodelay(true);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(stream).await {
                    serve_app(tls).await;
                }
            });
        }
    });
    addr
}

/// What a raw (hand-written, hostile) TCP server does with each connection.
#[derive(Clone, Copy, Debug)]
pub enum Raw {
    /// Reads what comes, then resets the connection (SO_LINGER 0).
    ResetAfterRead,
    /// Reads what comes, then closes cleanly.
    CloseAfterRead,
    /// Reads what comes and never writes.
    Silent,
    /// Reads what comes, answers with bytes that are neither TLS nor HTTP.
    Junk,
    /// A HTTP/1.1 response head then a body that never ends.
    EndlessBody,
    /// A HTTP/1.1 response head then one body byte every `ms` milliseconds.
    Trickle { ms: u64 },
    /// A HTTP/1.1 response with 1 MiB of headers.
    HugeHeaders,
    /// A HTTP/1.1 response whose duplicate headers are interleaved with others.
    InterleavedHeaders,
    /// A sloppy middlebox blockpage: a space before a colon, a folded header.
    SloppyBlockpage,
}

pub async fn raw_server(kind: Raw) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(raw_conn(stream, kind));
        }
    });
    addr
}

async fn raw_conn(mut stream: TcpStream, kind: Raw) {
    let mut buf = vec![0u8; 16 * 1024];
    let _ = tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf)).await;
    match kind {
        Raw::ResetAfterRead => {
            let _ = stream.set_zero_linger();
            drop(stream);
        }
        Raw::CloseAfterRead => {
            let _ = stream.shutdown().await;
        }
        Raw::Silent => tokio::time::sleep(Duration::from_secs(10)).await,
        Raw::Junk => {
            let _ = stream
                .write_all(b"HTTP/1.0 400 nope\r\n\r\n\x00\x01garbage")
                .await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        Raw::EndlessBody => {
            if stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
                .await
                .is_err()
            {
                return;
            }
            let chunk = vec![b'a'; 16 * 1024];
            while stream.write_all(&chunk).await.is_ok() {}
        }
        Raw::Trickle { ms } => {
            if stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
                .await
                .is_err()
            {
                return;
            }
            loop {
                if stream.write_all(b"z").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
        }
        Raw::SloppyBlockpage => {
            let _ = stream
                .write_all(b"HTTP/1.1 403 Forbidden\r\nServer : censor-box\r\nX-Reason: blocked by\r\n order 42\r\nContent-Length: 7\r\n\r\nblocked")
                .await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        Raw::InterleavedHeaders => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nset-cookie: a=1\r\nX-Between: yes\r\nSet-Cookie: b=2\r\nContent-Length: 2\r\n\r\nok")
                .await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        Raw::HugeHeaders => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n").await;
            let line = format!("X-Filler: {}\r\n", "f".repeat(1000));
            for _ in 0..1024 {
                if stream.write_all(line.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// A port on 127.0.0.1 with nothing listening (bound, then released).
pub async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr
}

pub fn ok_request_headers() -> Vec<(String, String)> {
    vec![
        ("User-Agent".into(), "canary-test/1".into()),
        ("Accept".into(), "text/html".into()),
        ("Accept-Language".into(), "km,en;q=0.8".into()),
    ]
}

pub fn is_reply(m: &Message) -> bool {
    m.metadata.message_type == MessageType::Response
}
