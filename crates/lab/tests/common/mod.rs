//! Plain clients for the lab's own tests: raw DNS messages over UDP/TCP,
//! TCP connects and TLS handshakes from a chosen source address, and a
//! hyper client. They share no code with the lab's servers, so a lab bug
//! cannot hide behind a matching client bug.
#![allow(dead_code)]

use std::error::Error;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use canary_lab::{Lab, CENSORED_SOURCE, CONTROL_SOURCE};
use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use http_body_util::BodyExt;
use hyper::header::{HeaderMap, HOST, LOCATION};
use hyper::{Request, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};

pub type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// The probe's side.
pub const CENSORED: Ipv4Addr = CENSORED_SOURCE;
/// The helper's side.
pub const CONTROL: Ipv4Addr = CONTROL_SOURCE;
/// How long a test waits for something that must not happen.
pub const SILENCE: Duration = Duration::from_millis(1200);

pub fn start() -> Lab {
    Lab::start().expect("the lab starts")
}

// ---------------------------------------------------------------- DNS

/// A decoded DNS reply: response code and A addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub code: ResponseCode,
    pub ips: Vec<Ipv4Addr>,
}

impl Answer {
    pub fn ok(ips: &[Ipv4Addr]) -> Self {
        Answer {
            code: ResponseCode::NoError,
            ips: ips.to_vec(),
        }
    }
    pub fn code(code: ResponseCode) -> Self {
        Answer { code, ips: vec![] }
    }
}

fn query_bytes(id: u16, name: &str) -> Vec<u8> {
    let mut m = Message::query();
    m.metadata.id = id;
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(
        Name::from_ascii(format!("{name}.")).unwrap(),
        RecordType::A,
    ));
    m.to_vec().unwrap()
}

fn decode(bytes: &[u8], id: u16) -> Answer {
    let m = Message::from_vec(bytes).expect("a DNS message");
    assert_eq!(m.metadata.id, id, "reply id");
    let ips = m
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect();
    Answer {
        code: m.metadata.response_code,
        ips,
    }
}

/// Sends one A query over UDP from `source`, and collects every reply that
/// arrives within `window` (stopping early after `max` replies).
pub async fn udp_replies(
    server: SocketAddr,
    source: Ipv4Addr,
    name: &str,
    max: usize,
    window: Duration,
) -> Vec<Answer> {
    let socket = UdpSocket::bind(SocketAddrV4::new(source, 0)).await.unwrap();
    let id = 0x5a17;
    socket
        .send_to(&query_bytes(id, name), server)
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + window;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 4096];
    while out.len() < max {
        match tokio::time::timeout_at(deadline, socket.recv_from(&mut buf)).await {
            Ok(Ok((n, from))) => {
                assert_eq!(from, server, "reply from the server asked");
                out.push(decode(&buf[..n], id));
            }
            Ok(Err(e)) => panic!("udp recv: {e}"),
            Err(_) => break,
        }
    }
    out
}

/// One A query over UDP; `None` if no reply within [`SILENCE`].
pub async fn udp_query(server: SocketAddr, source: Ipv4Addr, name: &str) -> Option<Answer> {
    udp_replies(server, source, name, 1, SILENCE)
        .await
        .into_iter()
        .next()
}

/// One A query over TCP; `None` if no reply within [`SILENCE`].
pub async fn tcp_query(server: SocketAddr, source: Ipv4Addr, name: &str) -> Option<Answer> {
    let mut stream = connect(source, server, SILENCE)
        .await
        .expect("dns tcp connect");
    let id = 0x7cb1;
    let q = query_bytes(id, name);
    let mut frame = (q.len() as u16).to_be_bytes().to_vec();
    frame.extend_from_slice(&q);
    stream.write_all(&frame).await.unwrap();
    let read = async {
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await?;
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut msg).await?;
        Ok::<_, io::Error>(msg)
    };
    match tokio::time::timeout(SILENCE, read).await {
        Ok(Ok(msg)) => Some(decode(&msg, id)),
        Ok(Err(e)) => panic!("dns tcp read: {e}"),
        Err(_) => None,
    }
}

// ---------------------------------------------------------------- TCP / TLS

/// A TCP connection from `source` (the vantage) to `to`.
pub async fn connect(source: Ipv4Addr, to: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::V4(SocketAddrV4::new(source, 0)))?;
    match tokio::time::timeout(timeout, socket.connect(to)).await {
        Ok(r) => r,
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out")),
    }
}

/// The address a lab URL's host truly resolves to, with the URL's port.
pub fn endpoint(lab: &Lab, host: &str, port: u16) -> SocketAddr {
    let ip = lab
        .resolve(host)
        .unwrap_or_else(|| panic!("{host} is a lab name"));
    SocketAddr::new(IpAddr::V4(ip), port)
}

pub fn roots(certs: &[CertificateDer<'static>]) -> rustls::RootCertStore {
    let mut store = rustls::RootCertStore::empty();
    for c in certs {
        store.add(c.clone()).unwrap();
    }
    store
}

pub fn pem_cert(path: &std::path::Path) -> CertificateDer<'static> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_file(path).expect("a PEM certificate")
}

/// A TLS client handshake over `stream` with SNI `sni`, trusting `trusted`, offering `alpn`.
pub async fn tls<S>(
    stream: S,
    sni: &str,
    trusted: &[CertificateDer<'static>],
    alpn: &[&[u8]],
    timeout: Duration,
) -> io::Result<tokio_rustls::client::TlsStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots(trusted))
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let name = ServerName::try_from(sni.to_owned()).unwrap();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    match tokio::time::timeout(timeout, connector.connect(name, stream)).await {
        Ok(r) => r,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "TLS handshake timed out",
        )),
    }
}

/// The leaf certificate a TLS stream saw.
pub fn leaf<S>(tls: &tokio_rustls::client::TlsStream<S>) -> CertificateDer<'static> {
    tls.get_ref()
        .1
        .peer_certificates()
        .expect("peer certificates")[0]
        .clone()
        .into_owned()
}

/// (issuer common name, subject public key bytes) of a certificate.
pub fn issuer_and_key(cert: &CertificateDer<'_>) -> (String, Vec<u8>) {
    let (_, x) = x509_parser::parse_x509_certificate(cert.as_ref()).unwrap();
    let cn = x
        .issuer()
        .iter_common_name()
        .next()
        .and_then(|c| c.as_str().ok())
        .unwrap_or_default()
        .to_owned();
    (cn, x.public_key().raw.to_vec())
}

// ---------------------------------------------------------------- HTTP

/// A response as a plain client saw it.
#[derive(Debug)]
pub struct Got {
    pub status: u16,
    pub version: Version,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Got {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn title(&self) -> Option<String> {
        let t = self.text();
        let start = t.find("<title>")? + 7;
        let end = t[start..].find("</title>")? + start;
        Some(t[start..end].to_owned())
    }
}

/// One GET over an established stream (HTTP/1.1, or h2 when `h2`).
pub async fn get_over<S>(io: S, host: &str, port: u16, h2: bool) -> Res<Got>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(io);
    let response = if h2 {
        let (mut sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await?;
        tokio::spawn(conn);
        let req = Request::get(format!("https://{host}:{port}/"))
            .body(http_body_util::Empty::<Bytes>::new())?;
        sender.send_request(req).await?
    } else {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await?;
        tokio::spawn(conn);
        let req = Request::get("/")
            .header(HOST, format!("{host}:{port}"))
            .body(http_body_util::Empty::<Bytes>::new())?;
        sender.send_request(req).await?
    };
    let status = response.status().as_u16();
    let version = response.version();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await?.to_bytes();
    Ok(Got {
        status,
        version,
        headers,
        body,
    })
}

/// Parses `scheme://host:port/...` of a lab URL.
pub fn split_url(url: &str) -> (bool, String, u16) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let authority = rest.split('/').next().unwrap();
    let (host, port) = authority.rsplit_once(':').unwrap();
    (scheme == "https", host.to_owned(), port.parse().unwrap())
}

/// GET `url` from `source`, connecting to the host's true address (or `to`),
/// trusting the lab CA, over HTTP/1.1.
pub async fn fetch(lab: &Lab, source: Ipv4Addr, url: &str) -> Res<Got> {
    let (https, host, port) = split_url(url);
    fetch_at(lab, source, url, endpoint(lab, &host, port), https).await
}

/// Like [`fetch`], but connecting to `to` whatever the host resolves to.
pub async fn fetch_at(
    lab: &Lab,
    source: Ipv4Addr,
    url: &str,
    to: SocketAddr,
    https: bool,
) -> Res<Got> {
    let (_, host, port) = split_url(url);
    let stream = connect(source, to, Duration::from_secs(5)).await?;
    if https {
        let tls = tls(
            stream,
            &host,
            &[lab.ca_der().clone()],
            &[b"http/1.1"],
            Duration::from_secs(5),
        )
        .await?;
        get_over(tls, &host, port, false).await
    } else {
        get_over(stream, &host, port, false).await
    }
}

/// Follows redirects from `url` (at most 10 hops); returns every hop's
/// (url, status) and the last response or the error that ended the chain.
pub async fn follow(lab: &Lab, source: Ipv4Addr, url: &str) -> (Vec<(String, u16)>, Res<Got>) {
    let mut hops = Vec::new();
    let mut current = url.to_owned();
    for _ in 0..10 {
        let got = match fetch(lab, source, &current).await {
            Ok(g) => g,
            Err(e) => return (hops, Err(e)),
        };
        hops.push((current.clone(), got.status));
        match got.headers.get(LOCATION).and_then(|v| v.to_str().ok()) {
            Some(next) if (300..400).contains(&got.status) => current = next.to_owned(),
            _ => return (hops, Ok(got)),
        }
    }
    (hops, Err("too many redirects".into()))
}

/// Whether an error (anywhere in its source chain) is an I/O error of `kind`.
pub fn has_io_kind(e: &(dyn Error + 'static), kind: io::ErrorKind) -> bool {
    let mut cur: Option<&(dyn Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            if io.kind() == kind {
                return true;
            }
        }
        cur = err.source();
    }
    false
}

/// Times a future.
pub async fn timed<F: std::future::Future>(f: F) -> (F::Output, Duration) {
    let start = Instant::now();
    let out = f.await;
    (out, start.elapsed())
}
