//! Redirect-following fetch: every hop measured and recorded.
//!
//! For each hop the host is resolved through a caller-supplied resolver (so
//! the probe decides which DNS engine's answers to use), each address is
//! tried in turn (TCP connect, then TLS for `https`), and the request is
//! sent over the first connection that works. Every hop becomes its own
//! [`HttpTransaction`]; as in OONI's `requests`, the newest comes first.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};

use url::Url;

use crate::failure;
use crate::http::{round_trip, HttpProtocol, HttpRequest, HttpTransaction};
use crate::tcp::TcpConnect;
use crate::tls::{TlsHandshake, DEFAULT_ALPN};
use crate::Options;

/// Most redirects followed (as browsers and OONI do).
pub const MAX_REDIRECTS: usize = 10;
/// Most cookies kept by the jar of one fetch.
pub const MAX_COOKIES: usize = 64;

/// Everything a fetch measured.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct FetchOutcome {
    /// One transaction per hop, newest first.
    pub requests: Vec<HttpTransaction>,
    /// Every TCP connect attempted, in order.
    pub tcp_connect: Vec<TcpConnect>,
    /// Every TLS handshake attempted, in order.
    pub tls_handshakes: Vec<TlsHandshake>,
    /// The failure that ended the fetch (`None` when the last hop got a
    /// final response and its body).
    pub failure: Option<String>,
}

impl FetchOutcome {
    /// The last hop's transaction (the first of `requests`).
    pub fn last(&self) -> Option<&HttpTransaction> {
        self.requests.first()
    }
}

/// True for the status codes that redirect: 301, 302, 303, 307, 308.
pub fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// A minimal cookie jar: `name=value` pairs per exact host, enough to get
/// through the cookie-setting redirect loops many sites use.
#[derive(Clone, Debug, Default)]
struct CookieJar {
    cookies: Vec<(String, String, String)>,
}

impl CookieJar {
    fn store(&mut self, host: &str, set_cookie: &str) {
        let Some(pair) = set_cookie.split(';').next() else {
            return;
        };
        let Some((name, value)) = pair.split_once('=') else {
            return;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() {
            return;
        }
        self.cookies.retain(|(h, n, _)| !(h == host && n == name));
        if self.cookies.len() < MAX_COOKIES {
            self.cookies
                .push((host.to_string(), name.to_string(), value.to_string()));
        }
    }

    fn header(&self, host: &str) -> Option<String> {
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .filter(|(h, _, _)| h == host)
            .map(|(_, n, v)| format!("{n}={v}"))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }
}

/// GETs `url` with `headers`, following up to [`MAX_REDIRECTS`] redirects.
///
/// `resolve` is called with each hop's host name (never for IP literals)
/// and returns the addresses to try, or a df-007 failure string (e.g.
/// `dns_nxdomain_error`), which is then recorded as the hop's failure.
/// Each hop's `Host` header is set from its URL; other headers are sent
/// unchanged on every hop, plus a `Cookie` header from the cookie jar.
pub async fn fetch<R, Fut>(
    opts: &Options,
    url: &Url,
    headers: &[(String, String)],
    mut resolve: R,
) -> FetchOutcome
where
    R: FnMut(String) -> Fut,
    Fut: Future<Output = Result<Vec<IpAddr>, String>>,
{
    let mut out = FetchOutcome::default();
    let mut jar = CookieJar::default();
    let mut current = url.clone();
    let base_headers: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("host") && !k.eq_ignore_ascii_case("cookie"))
        .cloned()
        .collect();
    for hop in 0..=MAX_REDIRECTS {
        let host = current.host_str().unwrap_or_default().to_string();
        let mut hop_headers = vec![("Host".to_string(), HttpRequest::host_header(&current))];
        hop_headers.extend(base_headers.iter().cloned());
        if let Some(cookie) = jar.header(&host) {
            hop_headers.push(("Cookie".into(), cookie));
        }
        let request = HttpRequest::get(current.clone(), hop_headers);
        let tx = fetch_one(opts, &request, &mut resolve, &mut out).await;
        let status = tx.status;
        let location = tx.response_header("Location").map(str::to_string);
        for (k, v) in &tx.response_headers {
            if k.eq_ignore_ascii_case("set-cookie") {
                jar.store(&host, v);
            }
        }
        out.failure = tx.failure.clone();
        out.requests.insert(0, tx);
        if out.failure.is_some() {
            return out;
        }
        let (Some(code), Some(location)) = (status, location) else {
            return out;
        };
        if !is_redirect(code) {
            return out;
        }
        if hop == MAX_REDIRECTS {
            out.failure = Some(failure::unknown(&format!(
                "stopped after {MAX_REDIRECTS} redirects"
            )));
            return out;
        }
        match current.join(&location) {
            Ok(next) if matches!(next.scheme(), "http" | "https") => current = next,
            _ => {
                out.failure = Some(failure::unknown("invalid redirect location"));
                return out;
            }
        }
    }
    out
}

async fn fetch_one<R, Fut>(
    opts: &Options,
    request: &HttpRequest,
    resolve: &mut R,
    out: &mut FetchOutcome,
) -> HttpTransaction
where
    R: FnMut(String) -> Fut,
    Fut: Future<Output = Result<Vec<IpAddr>, String>>,
{
    let url = &request.url;
    let https = match url.scheme() {
        "https" => true,
        "http" => false,
        _ => {
            return HttpTransaction::failed_before_sending(
                opts,
                request.clone(),
                failure::unknown("unsupported URL scheme"),
            )
        }
    };
    let Some(port) = url.port_or_known_default() else {
        return HttpTransaction::failed_before_sending(
            opts,
            request.clone(),
            failure::unknown("URL without port"),
        );
    };
    let addrs: Vec<IpAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
        Some(url::Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
        Some(url::Host::Domain(name)) => match resolve(name.to_string()).await {
            Ok(addrs) if addrs.is_empty() => {
                return HttpTransaction::failed_before_sending(
                    opts,
                    request.clone(),
                    failure::DNS_NO_ANSWER.into(),
                )
            }
            Ok(addrs) => addrs,
            Err(f) => return HttpTransaction::failed_before_sending(opts, request.clone(), f),
        },
        None => {
            return HttpTransaction::failed_before_sending(
                opts,
                request.clone(),
                failure::unknown("URL without host"),
            )
        }
    };
    let sni = url
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let mut last_failure = failure::unknown("no address to connect to");
    for ip in addrs {
        let addr = SocketAddr::new(ip, port);
        let (tcp, stream) = crate::tcp::connect(opts, addr).await;
        let tcp_failure = tcp.failure.clone();
        out.tcp_connect.push(tcp);
        let Some(stream) = stream else {
            last_failure = tcp_failure.unwrap_or(last_failure);
            continue;
        };
        if !https {
            return round_trip(opts, stream, Some(addr), HttpProtocol::Http1, request).await;
        }
        let (tls, stream) = crate::tls::handshake(opts, stream, &sni, DEFAULT_ALPN).await;
        let tls_failure = tls.failure.clone();
        let protocol = HttpProtocol::from_alpn(tls.negotiated_protocol.as_deref());
        out.tls_handshakes.push(tls);
        let Some(stream) = stream else {
            last_failure = tls_failure.unwrap_or(last_failure);
            continue;
        };
        return round_trip(opts, stream, Some(addr), protocol, request).await;
    }
    HttpTransaction::failed_before_sending(opts, request.clone(), last_failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_jar_keeps_last_value_per_host_and_name() {
        let mut jar = CookieJar::default();
        jar.store("a.example", "sid=1; Path=/; HttpOnly");
        jar.store("a.example", "sid=2");
        jar.store("a.example", "lang=km");
        jar.store("b.example", "other=x");
        jar.store("a.example", "no-equals-sign");
        assert_eq!(jar.header("a.example").as_deref(), Some("sid=2; lang=km"));
        assert_eq!(jar.header("c.example"), None);
    }

    #[test]
    fn only_redirect_statuses_redirect() {
        for code in [301, 302, 303, 307, 308] {
            assert!(is_redirect(code), "{code}");
        }
        for code in [200, 204, 300, 304, 305, 400, 500] {
            assert!(!is_redirect(code), "{code}");
        }
    }
}
