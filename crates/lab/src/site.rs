//! The lab's web servers: HTTP/1.1, HTTPS (h2 and http/1.1), and the
//! censor's interference with connections from the censored vantage.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use hyper::header::{HeaderValue, CONTENT_TYPE, HOST, LOCATION};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

use crate::net::{reset, Prefixed, Throttled};
use crate::pki::Pki;
use crate::{Vantage, BLOCKPAGE_MARKER};

/// Largest ClientHello or request head the censor reads before deciding.
const MAX_INSPECT: usize = 16 * 1024;
/// How long the censor waits for a ClientHello or request head.
const INSPECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest life of one lab connection.
const CONN_LIFETIME: Duration = Duration::from_secs(120);
/// How long a "dropped" connection is held before the lab closes it.
const DROP_HOLD: Duration = Duration::from_secs(60);
/// Most connections one listener serves at once.
const MAX_CONNECTIONS: usize = 2048;

/// What the censor does to one host name for the censored vantage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostCensor {
    None,
    SniReset,
    SniDrop,
    HostReset,
    Blockpage,
    RedirectToBlockpage,
    InterceptUntrusted,
    InterceptOtherKey,
}

/// A page a lab site serves.
#[derive(Debug)]
pub(crate) struct Page {
    /// Extra response headers (name, value).
    pub headers: Vec<(String, String)>,
    /// The HTML body.
    pub body: Bytes,
}

/// What a host answers.
#[derive(Debug, Clone)]
pub(crate) enum Content {
    /// `200 OK` with this page.
    Page(Arc<Page>),
    /// A redirect.
    Redirect {
        status: StatusCode,
        location: String,
    },
    /// The censor's blockpage (for the blockpage server itself).
    Blockpage,
    /// `200 OK` with one page for the control and another for the censored
    /// vantage (a platform's own country restriction: not the censor).
    PageByVantage {
        control: Arc<Page>,
        censored: Arc<Page>,
    },
}

/// One host name served by a listener.
#[derive(Debug, Clone)]
pub(crate) struct HostEntry {
    pub content: Content,
    pub censor: HostCensor,
    /// The site's own server answers 403 to the censored vantage.
    pub forbid_censored: bool,
    /// Delay before the response starts.
    pub delay: Option<Duration>,
}

/// What the censor does to every connection to a listener, for the censored vantage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnCensor {
    None,
    ResetOnFirstData,
    Throttle(u64),
}

/// Everything one listener needs to serve.
#[derive(Debug)]
pub(crate) struct SiteSpec {
    tls: bool,
    conn: ConnCensor,
    hosts: HashMap<String, HostEntry>,
    /// Served for unknown hosts (the blockpage server answers every name).
    fallback: Option<HostEntry>,
    /// Whether some host has a Host-reset censor (then the censor reads request heads).
    inspect_host: bool,
}

impl SiteSpec {
    /// A listener's sites: `hosts` by lower-case name, `fallback` for any other name.
    pub fn new(
        tls: bool,
        conn: ConnCensor,
        hosts: HashMap<String, HostEntry>,
        fallback: Option<HostEntry>,
    ) -> Self {
        let inspect_host = hosts
            .values()
            .chain(fallback.as_ref())
            .any(|h| h.censor == HostCensor::HostReset);
        SiteSpec {
            tls,
            conn,
            hosts,
            fallback,
            inspect_host,
        }
    }

    fn lookup(&self, host: &str) -> Option<&HostEntry> {
        self.hosts
            .get(&crate::dns::normalise(host))
            .or(self.fallback.as_ref())
    }
}

/// Lab-wide settings the sites share.
pub(crate) struct Shared {
    pub pki: Arc<Pki>,
    pub censored: IpAddr,
    /// Where the censor redirects to (`http://blockpage.canary-lab.test:PORT/`).
    pub blockpage_url: String,
}

/// Accepts and serves connections until the runtime stops.
pub(crate) async fn serve(listener: TcpListener, spec: Arc<SiteSpec>, shared: Arc<Shared>) {
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // E.g. out of file descriptors: back off instead of spinning.
                tracing::warn!(error = %e, "lab site: accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&limit).try_acquire_owned() else {
            tracing::warn!(%peer, "lab site: too many connections, closing");
            continue;
        };
        let spec = Arc::clone(&spec);
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let _ =
                tokio::time::timeout(CONN_LIFETIME, connection(stream, peer, spec, shared)).await;
            drop(permit);
        });
    }
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    spec: Arc<SiteSpec>,
    shared: Arc<Shared>,
) {
    let censored = Vantage::of(peer.ip(), shared.censored) == Vantage::Censored;
    let rate = match spec.conn {
        ConnCensor::ResetOnFirstData if censored => {
            // Wait (bounded) for the client's first bytes, then reset.
            let mut first = [0u8; 1];
            let _ = tokio::time::timeout(INSPECT_TIMEOUT, stream.peek(&mut first)).await;
            tracing::debug!(%peer, "lab censor: reset at first data");
            reset(stream);
            return;
        }
        ConnCensor::Throttle(rate) if censored => Some(rate),
        _ => None,
    };
    if spec.tls {
        let (hello, sni) = match read_client_hello(&mut stream).await {
            Ok(x) => x,
            Err(e) => {
                tracing::debug!(%peer, error = %e, "lab site: no usable ClientHello");
                return;
            }
        };
        let censor = match (censored, sni.as_deref().and_then(|h| spec.lookup(h))) {
            (true, Some(entry)) => entry.censor,
            _ => HostCensor::None,
        };
        let config: Arc<ServerConfig> = match censor {
            HostCensor::SniReset => {
                tracing::debug!(%peer, ?sni, "lab censor: reset after ClientHello");
                reset(stream);
                return;
            }
            HostCensor::SniDrop => {
                tracing::debug!(%peer, ?sni, "lab censor: drop after ClientHello");
                hold(stream).await;
                return;
            }
            HostCensor::InterceptUntrusted => Arc::clone(&shared.pki.untrusted),
            HostCensor::InterceptOtherKey => Arc::clone(&shared.pki.other_key),
            _ => Arc::clone(&shared.pki.site),
        };
        let io = Throttled::new(Prefixed::new(hello, stream), rate);
        match TlsAcceptor::from(config).accept(io).await {
            Ok(tls) => http(tls, censored, spec, shared).await,
            Err(e) => tracing::debug!(%peer, error = %e, "lab site: TLS handshake failed"),
        }
    } else {
        let mut head = Vec::new();
        if censored && spec.inspect_host {
            let host;
            (head, host) = match read_request_head(&mut stream).await {
                Ok(x) => x,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "lab site: no usable request head");
                    return;
                }
            };
            let entry = host.as_deref().and_then(|h| spec.lookup(h));
            if entry.map(|e| e.censor) == Some(HostCensor::HostReset) {
                tracing::debug!(%peer, ?host, "lab censor: reset after HTTP request");
                reset(stream);
                return;
            }
        }
        http(
            Throttled::new(Prefixed::new(head, stream), rate),
            censored,
            spec,
            shared,
        )
        .await;
    }
}

/// Reads until a complete ClientHello is buffered; returns the raw bytes
/// (to replay to the real TLS server) and the SNI, if any.
async fn read_client_hello(stream: &mut TcpStream) -> io::Result<(Vec<u8>, Option<String>)> {
    let mut acceptor = rustls::server::Acceptor::default();
    let mut raw = Vec::new();
    let mut chunk = [0u8; 4096];
    let work = async {
        loop {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "closed before ClientHello",
                ));
            }
            raw.extend_from_slice(&chunk[..n]);
            if raw.len() > MAX_INSPECT {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "ClientHello too large",
                ));
            }
            let mut rest = &chunk[..n];
            while !rest.is_empty() {
                if acceptor.read_tls(&mut rest)? == 0 {
                    break;
                }
            }
            match acceptor.accept() {
                Ok(Some(accepted)) => {
                    let sni = accepted.client_hello().server_name().map(str::to_owned);
                    return Ok(sni);
                }
                Ok(None) => continue,
                Err((e, _alert)) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
        }
    };
    let sni = tokio::time::timeout(INSPECT_TIMEOUT, work)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no ClientHello in time"))??;
    Ok((raw, sni))
}

/// Reads until the end of an HTTP/1 request head; returns the raw bytes and the Host.
async fn read_request_head(stream: &mut TcpStream) -> io::Result<(Vec<u8>, Option<String>)> {
    let mut raw = Vec::new();
    let mut chunk = [0u8; 2048];
    let work = async {
        loop {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "closed before request head",
                ));
            }
            raw.extend_from_slice(&chunk[..n]);
            if let Some(end) = find(&raw, b"\r\n\r\n") {
                return Ok(host_header(&raw[..end]));
            }
            if raw.len() > MAX_INSPECT {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "request head too large",
                ));
            }
        }
    };
    let host = tokio::time::timeout(INSPECT_TIMEOUT, work)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no request head in time"))??;
    Ok((raw, host))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The Host header of a request head, without its port.
fn host_header(head: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(head);
    text.split("\r\n").skip(1).find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("host")
            .then(|| strip_port(value.trim()).to_owned())
    })
}

fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    }
}

/// Reads and discards what the client sends, never answering (bounded).
async fn hold(mut stream: TcpStream) {
    let mut sink = [0u8; 4096];
    let mut total = 0usize;
    let _ = tokio::time::timeout(DROP_HOLD, async {
        while let Ok(n) = stream.read(&mut sink).await {
            total += n;
            if n == 0 || total > (1 << 20) {
                break;
            }
        }
    })
    .await;
}

async fn http<I>(io: I, censored: bool, spec: Arc<SiteSpec>, shared: Arc<Shared>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| {
        let spec = Arc::clone(&spec);
        let shared = Arc::clone(&shared);
        async move { Ok::<_, Infallible>(respond(req, censored, &spec, &shared).await) }
    });
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    if let Err(e) = builder.serve_connection(TokioIo::new(io), service).await {
        tracing::debug!(error = %e, "lab site: connection ended with an error");
    }
}

async fn respond<B>(
    req: Request<B>,
    censored: bool,
    spec: &SiteSpec,
    shared: &Shared,
) -> Response<LabBody> {
    let host = req.uri().host().map(str::to_owned).or_else(|| {
        req.headers()
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .map(|h| strip_port(h).to_owned())
    });
    let Some(entry) = host.as_deref().and_then(|h| spec.lookup(h)) else {
        return plain(StatusCode::NOT_FOUND, "no such lab host\n");
    };
    if censored {
        match entry.censor {
            HostCensor::Blockpage => return blockpage(),
            HostCensor::RedirectToBlockpage => {
                return redirect(StatusCode::FOUND, &shared.blockpage_url)
            }
            _ => {}
        }
        if entry.forbid_censored {
            return forbidden();
        }
    }
    if let Some(delay) = entry.delay {
        tokio::time::sleep(delay).await;
    }
    match &entry.content {
        Content::Page(page) => page_response(page),
        Content::PageByVantage {
            control,
            censored: for_censored,
        } => page_response(if censored { for_censored } else { control }),
        Content::Redirect { status, location } => redirect(*status, location),
        Content::Blockpage => blockpage(),
    }
}

fn page_response(page: &Page) -> Response<LabBody> {
    let mut response = Response::new(LabBody::sized(page.body.clone()));
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    for (name, value) in &page.headers {
        if let (Ok(n), Ok(v)) = (
            hyper::header::HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            headers.insert(n, v);
        }
    }
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response<LabBody> {
    let mut r = Response::new(LabBody::sized(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn redirect(status: StatusCode, location: &str) -> Response<LabBody> {
    let mut r = Response::new(LabBody::sized(Bytes::new()));
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::try_from(location) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// The censor's blockpage: `200 OK`, its own title and headers, sent chunked
/// (no Content-Length), so that it shares no uncommon header with any site.
pub(crate) fn blockpage_html() -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><title>Access Restricted</title></head>\n<body>\
         <h1>This website has been blocked</h1>\n<p>Access to this website is restricted \
         in accordance with an order of the competent authority.</p>\n\
         <!-- {BLOCKPAGE_MARKER} -->\n</body></html>\n"
    )
}

fn blockpage() -> Response<LabBody> {
    let mut r = Response::new(LabBody::chunked(Bytes::from(blockpage_html())));
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
    h.insert("x-lab-censor", HeaderValue::from_static("blockpage"));
    r
}

fn forbidden() -> Response<LabBody> {
    let body = "<!DOCTYPE html>\n<html><head><title>403 Forbidden</title></head>\n<body>\
                <h1>Forbidden</h1><p>This service is not available in your country.</p>\
                </body></html>\n";
    let mut r = Response::new(LabBody::sized(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = StatusCode::FORBIDDEN;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
    r
}

/// A response body sent in one piece, with or without a known length.
pub(crate) struct LabBody {
    data: Option<Bytes>,
    sized: bool,
}

impl LabBody {
    fn sized(data: Bytes) -> Self {
        LabBody {
            data: Some(data),
            sized: true,
        }
    }
    fn chunked(data: Bytes) -> Self {
        LabBody {
            data: Some(data),
            sized: false,
        }
    }
}

impl Body for LabBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(
            self.data
                .take()
                .filter(|d| !d.is_empty())
                .map(|d| Ok(Frame::data(d))),
        )
    }

    fn is_end_stream(&self) -> bool {
        self.sized && self.data.as_ref().is_none_or(|d| d.is_empty())
    }

    fn size_hint(&self) -> SizeHint {
        match (&self.data, self.sized) {
            (Some(d), true) => SizeHint::with_exact(d.len() as u64),
            (None, true) => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_header_is_found_case_insensitively_without_port() {
        let cases: [(&[u8], Option<&str>); 4] = [
            (
                b"GET / HTTP/1.1\r\nHost: a.canary-lab.test:8080\r\nAccept: */*",
                Some("a.canary-lab.test"),
            ),
            (
                b"GET / HTTP/1.1\r\nhOsT:b.canary-lab.test",
                Some("b.canary-lab.test"),
            ),
            (b"GET / HTTP/1.1\r\nAccept: */*", None),
            (b"\xff\xfe garbage", None),
        ];
        for (head, want) in cases {
            assert_eq!(host_header(head).as_deref(), want);
        }
    }

    #[test]
    fn the_blockpage_carries_the_marker() {
        assert!(blockpage_html().contains(BLOCKPAGE_MARKER));
    }
}
