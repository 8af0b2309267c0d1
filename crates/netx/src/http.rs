//! HTTP round trips (OONI df-001 `requests`) over a stream netx opened.
//!
//! hyper 1's low-level client connection is driven directly over the TCP or
//! TLS stream the caller measured, so the HTTP record belongs to exactly that
//! connection: no pool, no hidden retries, no hidden redirects. HTTP/2 is
//! used when ALPN negotiated `h2`, HTTP/1.1 otherwise.
//!
//! Bounds: headers are limited by `Options::max_header_bytes`, the body by
//! `Options::body_cap` (what is beyond is not read and `body_is_truncated`
//! is set) and the whole exchange by `Options::http_timeout`. A body that
//! never ends or trickles stops at the cap or at the timeout, with
//! `generic_timeout_error`, keeping what was read.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::timeout_at;
use url::Url;

use crate::events::NetEvent;
use crate::failure;
use crate::Options;

/// Which HTTP version to speak over the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpProtocol {
    /// HTTP/1.1.
    Http1,
    /// HTTP/2 (only after ALPN `h2`).
    Http2,
}

impl HttpProtocol {
    /// `Http2` when the negotiated ALPN protocol is `h2`, else `Http1`.
    pub fn from_alpn(negotiated: Option<&str>) -> Self {
        if negotiated == Some("h2") {
            HttpProtocol::Http2
        } else {
            HttpProtocol::Http1
        }
    }
}

/// The request to send.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Absolute URL; its path and query form the request target.
    pub url: Url,
    /// Headers in the order to send them. A `Host` header is added from the
    /// URL when missing (HTTP/2 sends it as `:authority` instead).
    pub headers: Vec<(String, String)>,
    /// Request body (empty for GET).
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// A GET of `url` with `headers`.
    pub fn get(url: Url, headers: Vec<(String, String)>) -> Self {
        HttpRequest {
            method: "GET".into(),
            url,
            headers,
            body: Vec::new(),
        }
    }

    /// The `Host` value for the URL: host, plus the port when not the default.
    pub fn host_header(url: &Url) -> String {
        let host = url.host_str().unwrap_or_default();
        match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        }
    }

    fn headers_with_host(&self) -> Vec<(String, String)> {
        let mut headers = self.headers.clone();
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            headers.insert(0, ("Host".into(), Self::host_header(&self.url)));
        }
        headers
    }
}

/// The record of one HTTP round trip.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpTransaction {
    /// The request as sent (headers include the `Host` actually used).
    pub request: HttpRequest,
    /// The peer the request went to, when known.
    pub address: Option<SocketAddr>,
    /// `HTTP/1.1` or `h2`.
    pub protocol: HttpProtocol,
    /// Start, in seconds since the measurement's zero instant.
    pub t0: f64,
    /// End: body done, or failure.
    pub t: f64,
    /// When the response head arrived.
    pub t_first_byte: Option<f64>,
    /// df-007 failure string; a response may be present together with a
    /// failure (e.g. a body that timed out after the headers).
    pub failure: Option<String>,
    /// The response status code, when a response head arrived.
    pub status: Option<u16>,
    /// Response headers with duplicates, names in canonical `Content-Type`
    /// form (as OONI writes them). HTTP/1.1: in wire order, read from the
    /// response head as received. HTTP/2: in hyper's order (grouped by name).
    pub response_headers: Vec<(String, String)>,
    /// The body bytes read (at most `body_cap`).
    pub body: Vec<u8>,
    /// True when the body was longer than `body_cap`.
    pub body_is_truncated: bool,
    /// HTTP milestones: `http_transaction_start`,
    /// `http_first_response_byte`, `http_transaction_done`.
    pub events: Vec<NetEvent>,
}

impl HttpTransaction {
    /// A transaction that failed before anything was sent (DNS, TCP or TLS
    /// failure on the way), as OONI records it.
    pub fn failed_before_sending(opts: &Options, request: HttpRequest, failure: String) -> Self {
        let t = opts.now();
        HttpTransaction {
            request,
            address: None,
            protocol: HttpProtocol::Http1,
            t0: t,
            t,
            t_first_byte: None,
            failure: Some(failure),
            status: None,
            response_headers: Vec::new(),
            body: Vec::new(),
            body_is_truncated: false,
            events: Vec::new(),
        }
    }

    /// The first response header value named `name` (case-insensitive).
    pub fn response_header(&self, name: &str) -> Option<&str> {
        self.response_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Go's canonical MIME header form (`content-type` → `Content-Type`), which
/// is what OONI's records contain.
pub fn canonical_header_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        if upper {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        upper = c == '-';
    }
    out
}

/// Classifies a hyper error by walking its sources for an I/O error.
pub fn classify_hyper_error(err: &hyper::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return failure::classify_io_error(io);
        }
        source = e.source();
    }
    if err.is_incomplete_message() {
        return failure::EOF_ERROR.into();
    }
    if err.is_timeout() {
        return failure::GENERIC_TIMEOUT.into();
    }
    failure::unknown(&err.to_string())
}

/// Sends `request` over `stream` with `protocol` and records the exchange.
///
/// `address` is the peer, recorded as is. The whole exchange (handshake,
/// request, response head and body) is bounded by `opts.http_timeout`.
pub async fn round_trip<S>(
    opts: &Options,
    stream: S,
    address: Option<SocketAddr>,
    protocol: HttpProtocol,
    request: &HttpRequest,
) -> HttpTransaction
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let t0 = opts.now();
    let deadline = Instant::now() + opts.http_timeout;
    let mut sent_request = request.clone();
    sent_request.headers = request.headers_with_host();
    let mut tx = HttpTransaction {
        request: sent_request,
        address,
        protocol,
        t0,
        t: t0,
        t_first_byte: None,
        failure: None,
        status: None,
        response_headers: Vec::new(),
        body: Vec::new(),
        body_is_truncated: false,
        events: vec![NetEvent::milestone("http_transaction_start", t0)],
    };

    let http_request = match build_request(&tx.request, protocol) {
        Ok(r) => r,
        Err(f) => return done(opts, tx, Some(f)),
    };
    let head = Arc::new(Mutex::new(HeadCapture::new(opts.max_header_bytes)));
    // The connection task is aborted when this function returns, so nothing
    // keeps reading from the peer after the record is closed.
    let (response, conn_task) = match protocol {
        HttpProtocol::Http1 => {
            // Censors' middleboxes write sloppy HTTP; accept what browsers
            // accept so the blockpage is recorded, not a parse error.
            let handshake = hyper::client::conn::http1::Builder::new()
                .allow_spaces_after_header_name_in_responses(true)
                .allow_obsolete_multiline_headers_in_responses(true)
                .max_buf_size(opts.max_header_bytes.max(8192))
                .handshake::<_, Full<Bytes>>(TokioIo::new(HeadTap {
                    inner: stream,
                    head: Arc::clone(&head),
                }));
            let (mut sender, conn) = match timeout_at(deadline.into(), handshake).await {
                Err(_) => return done(opts, tx, Some(failure::GENERIC_TIMEOUT.into())),
                Ok(Err(e)) => return done(opts, tx, Some(classify_hyper_error(&e))),
                Ok(Ok(pair)) => pair,
            };
            let task = AbortOnDrop(tokio::spawn(async move {
                let _ = conn.await;
            }));
            (
                timeout_at(deadline.into(), sender.send_request(http_request)).await,
                task,
            )
        }
        HttpProtocol::Http2 => {
            let handshake = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
                .max_header_list_size(u32::try_from(opts.max_header_bytes).unwrap_or(u32::MAX))
                .handshake::<_, Full<Bytes>>(TokioIo::new(stream));
            let (mut sender, conn) = match timeout_at(deadline.into(), handshake).await {
                Err(_) => return done(opts, tx, Some(failure::GENERIC_TIMEOUT.into())),
                Ok(Err(e)) => return done(opts, tx, Some(classify_hyper_error(&e))),
                Ok(Ok(pair)) => pair,
            };
            let task = AbortOnDrop(tokio::spawn(async move {
                let _ = conn.await;
            }));
            (
                timeout_at(deadline.into(), sender.send_request(http_request)).await,
                task,
            )
        }
    };
    let response = match response {
        Err(_) => return done(opts, tx, Some(failure::GENERIC_TIMEOUT.into())),
        Ok(Err(e)) => return done(opts, tx, Some(classify_hyper_error(&e))),
        Ok(Ok(r)) => r,
    };
    let first_byte = opts.now();
    tx.t_first_byte = Some(first_byte);
    tx.events
        .push(NetEvent::milestone("http_first_response_byte", first_byte));
    tx.status = Some(response.status().as_u16());
    let from_wire = match protocol {
        HttpProtocol::Http1 => head
            .lock()
            .ok()
            .and_then(|h| h.headers(response.status().as_u16()))
            .filter(|list| list.len() == response.headers().len()),
        HttpProtocol::Http2 => None,
    };
    tx.response_headers = from_wire.unwrap_or_else(|| {
        response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    canonical_header_name(k.as_str()),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect()
    });

    let mut body = response.into_body();
    let mut body_failure = None;
    loop {
        let frame = match timeout_at(deadline.into(), body.frame()).await {
            Err(_) => {
                body_failure = Some(failure::GENERIC_TIMEOUT.to_string());
                break;
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                body_failure = Some(classify_hyper_error(&e));
                break;
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        let room = opts.body_cap.saturating_sub(tx.body.len());
        if data.len() > room {
            tx.body.extend_from_slice(&data[..room]);
            tx.body_is_truncated = true;
            break;
        }
        tx.body.extend_from_slice(&data);
    }
    drop(body);
    drop(conn_task);
    done(opts, tx, body_failure)
}

/// The first HTTP/1.1 response head read from a stream, copied as it
/// passes (at most `limit` bytes; a longer head is not kept).
#[derive(Debug)]
struct HeadCapture {
    bytes: Vec<u8>,
    limit: usize,
    complete: bool,
    overflow: bool,
}

impl HeadCapture {
    fn new(limit: usize) -> Self {
        HeadCapture {
            bytes: Vec::new(),
            limit,
            complete: false,
            overflow: false,
        }
    }

    fn feed(&mut self, data: &[u8]) {
        if self.complete || self.overflow {
            return;
        }
        let scan_from = self.bytes.len().saturating_sub(3);
        let take = data.len().min(self.limit.saturating_sub(self.bytes.len()));
        self.bytes.extend_from_slice(&data[..take]);
        if let Some(end) = head_end(&self.bytes, scan_from) {
            self.bytes.truncate(end);
            self.complete = true;
        } else if take < data.len() {
            self.overflow = true;
            self.bytes = Vec::new();
        }
    }

    /// The headers of the captured head, if it is complete and is the head
    /// of the response with `status` (not an interim 1xx).
    fn headers(&self, status: u16) -> Option<Vec<(String, String)>> {
        if !self.complete {
            return None;
        }
        parse_head(&self.bytes, status)
    }
}

/// Index just past the blank line ending a head (`\r\n\r\n` or `\n\n`),
/// searching from `from`.
fn head_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        if bytes[i] == b'\n' {
            match (bytes.get(i + 1), bytes.get(i + 2)) {
                (Some(b'\n'), _) => return Some(i + 2),
                (Some(b'\r'), Some(b'\n')) => return Some(i + 3),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// Parses a response head into `(name, value)` pairs in wire order; `None`
/// when it is not the head of a response with `status`.
fn parse_head(head: &[u8], status: u16) -> Option<Vec<(String, String)>> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let code: u16 = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    if code != status {
        return None;
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            // Obsolete line folding: a continuation of the previous value.
            let (_, value) = out.last_mut()?;
            value.push(' ');
            value.push_str(line.trim());
            continue;
        }
        let (name, value) = line.split_once(':')?;
        out.push((canonical_header_name(name.trim()), value.trim().to_string()));
    }
    Some(out)
}

/// A stream wrapper that shows the bytes it reads to a [`HeadCapture`].
struct HeadTap<S> {
    inner: S,
    head: Arc<Mutex<HeadCapture>>,
}

impl<S: AsyncRead + Unpin> AsyncRead for HeadTap<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &res {
            if let Ok(mut head) = self.head.lock() {
                head.feed(&buf.filled()[before..]);
            }
        }
        res
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for HeadTap<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn build_request(
    request: &HttpRequest,
    protocol: HttpProtocol,
) -> Result<http::Request<Full<Bytes>>, String> {
    let method = http::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| failure::unknown("invalid HTTP method"))?;
    let uri: http::Uri = match protocol {
        HttpProtocol::Http1 => {
            let mut target = request.url.path().to_string();
            if let Some(q) = request.url.query() {
                target.push('?');
                target.push_str(q);
            }
            target.parse()
        }
        HttpProtocol::Http2 => {
            let mut url = request.url.clone();
            url.set_fragment(None);
            url.as_str().parse()
        }
    }
    .map_err(|_| failure::unknown("invalid request target"))?;
    let mut builder = http::Request::builder().method(method).uri(uri);
    for (name, value) in &request.headers {
        // HTTP/2 carries the host in :authority; a Host header is dropped.
        if protocol == HttpProtocol::Http2 && name.eq_ignore_ascii_case("host") {
            continue;
        }
        builder = builder.header(name.as_str(), value.as_str());
    }
    if protocol == HttpProtocol::Http2 {
        builder = builder.version(http::Version::HTTP_2);
    }
    builder
        .body(Full::new(Bytes::from(request.body.clone())))
        .map_err(|_| failure::unknown("invalid request header"))
}

fn done(opts: &Options, mut tx: HttpTransaction, failure: Option<String>) -> HttpTransaction {
    tx.t = opts.now();
    tx.failure = failure;
    let mut ev = NetEvent::milestone("http_transaction_done", tx.t);
    ev.failure = tx.failure.clone();
    tx.events.push(ev);
    tracing::debug!(url = %tx.request.url, status = ?tx.status, failure = ?tx.failure, bytes = tx.body.len(), "http round trip");
    tx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_canonicalised_like_go() {
        let cases = [
            ("content-type", "Content-Type"),
            ("x-xss-protection", "X-Xss-Protection"),
            ("SERVER", "Server"),
            ("cf-ray", "Cf-Ray"),
        ];
        for (raw, want) in cases {
            assert_eq!(canonical_header_name(raw), want);
        }
    }

    #[test]
    fn response_heads_are_parsed_in_wire_order() {
        let head = b"HTTP/1.1 302 Found\r\nset-cookie: a=1\r\nLocation: /x\r\nSet-Cookie: b=2\r\nX-Folded: one\r\n  two\r\n\r\n";
        let got = parse_head(head, 302).unwrap();
        let want: Vec<(String, String)> = [
            ("Set-Cookie", "a=1"),
            ("Location", "/x"),
            ("Set-Cookie", "b=2"),
            ("X-Folded", "one two"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(got, want);
        assert_eq!(
            parse_head(head, 200),
            None,
            "an interim or other response is not used"
        );
        assert_eq!(parse_head(b"garbage", 200), None);
    }

    #[test]
    fn head_capture_stops_at_the_blank_line_and_gives_up_past_the_limit() {
        /// (what, successive reads, limit, expected head length)
        type Case<'a> = (&'a str, Vec<&'a [u8]>, usize, Option<usize>);
        let cases: Vec<Case> = vec![
            (
                "one read",
                vec![b"HTTP/1.1 200 OK\r\nA: b\r\n\r\nBODY"],
                1024,
                Some(25),
            ),
            (
                "split across reads",
                vec![b"HTTP/1.1 200 OK\r\nA: b\r", b"\n", b"\r", b"\nBODY"],
                1024,
                Some(25),
            ),
            (
                "LF only",
                vec![b"HTTP/1.1 200 OK\nA: b\n\nBODY"],
                1024,
                Some(22),
            ),
            (
                "too long",
                vec![b"HTTP/1.1 200 OK\r\nA: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\n\r\n"],
                20,
                None,
            ),
        ];
        for (what, reads, limit, want_len) in cases {
            let mut cap = HeadCapture::new(limit);
            for r in reads {
                cap.feed(r);
            }
            assert_eq!(cap.complete.then_some(cap.bytes.len()), want_len, "{what}");
        }
    }

    #[test]
    fn host_header_is_added_only_when_missing() {
        let url = Url::parse("http://example.org:8080/a?b=c").unwrap();
        let req = HttpRequest::get(url.clone(), vec![("User-Agent".into(), "x".into())]);
        assert_eq!(
            req.headers_with_host()[0],
            ("Host".into(), "example.org:8080".into())
        );
        let req = HttpRequest::get(url, vec![("host".into(), "other.example".into())]);
        assert_eq!(
            req.headers_with_host(),
            vec![("host".into(), "other.example".into())]
        );
    }

    #[test]
    fn http1_uses_origin_form_and_http2_absolute_form() {
        let url = Url::parse("https://example.org/p?q=1#frag").unwrap();
        let req = HttpRequest::get(url, vec![]);
        let h1 = build_request(&req, HttpProtocol::Http1).unwrap();
        assert_eq!(h1.uri().to_string(), "/p?q=1");
        let h2 = build_request(&req, HttpProtocol::Http2).unwrap();
        assert_eq!(h2.uri().to_string(), "https://example.org/p?q=1");
    }
}
