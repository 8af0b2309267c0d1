//! The helper's HTTP(S) server: bounded, load-shedding, and silent about who
//! asks.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use canary_model::ControlRequest;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio_rustls::TlsAcceptor;

use crate::{measure, HelperError, ServerConfig};

/// A running helper.
pub struct Server {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting and waits for the accept loop to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Runs until the accept loop ends (it only ends on shutdown).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn json(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

async fn handle(
    cfg: Arc<ServerConfig>,
    permits: Arc<Semaphore>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/") => {
            return text(
                StatusCode::OK,
                "Canary test helper. POST an OONI web_connectivity control request (JSON) to /.\n",
            )
        }
        (&Method::POST, "/") => {}
        (_, "/") => return text(StatusCode::METHOD_NOT_ALLOWED, "use POST\n"),
        _ => return text(StatusCode::NOT_FOUND, "not found\n"),
    }
    // Shed load instead of queueing: a busy helper answers 503 at once, and
    // the probe records a control failure and moves on.
    let Ok(_permit) = permits.clone().try_acquire_owned() else {
        return text(StatusCode::SERVICE_UNAVAILABLE, "busy, try again later\n");
    };
    let body = match tokio::time::timeout(
        cfg.read_timeout,
        Limited::new(req.into_body(), cfg.max_request_bytes).collect(),
    )
    .await
    {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(_)) => {
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request larger than {} bytes\n", cfg.max_request_bytes),
            )
        }
        Err(_) => return text(StatusCode::REQUEST_TIMEOUT, "request body too slow\n"),
    };
    let request: ControlRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return text(
                StatusCode::BAD_REQUEST,
                format!("not a control request: {e}\n"),
            )
        }
    };
    let answer = tokio::time::timeout(
        cfg.request_timeout,
        measure::answer(&cfg, &request, Some(peer.ip())),
    )
    .await;
    match answer {
        Ok(Ok(response)) => match serde_json::to_vec(&response) {
            Ok(bytes) => json(StatusCode::OK, bytes),
            Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
        },
        Ok(Err(HelperError::BadRequest(why))) => text(StatusCode::BAD_REQUEST, format!("{why}\n")),
        Ok(Err(other)) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{other}\n")),
        Err(_) => text(StatusCode::GATEWAY_TIMEOUT, "measurement took too long\n"),
    }
}

/// Starts the helper on `listener` (plain HTTP, or HTTPS when `tls` is
/// given) and returns at once.
pub fn start(
    cfg: ServerConfig,
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> Result<Server, HelperError> {
    let local_addr = listener.local_addr().map_err(HelperError::Io)?;
    let cfg = Arc::new(cfg);
    let permits = Arc::new(Semaphore::new(cfg.max_in_flight));
    let connections = Arc::new(Semaphore::new(cfg.max_connections));
    let acceptor = tls.map(TlsAcceptor::from);
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = stopped.wait_for(|s| *s) => return,
                a = listener.accept() => a,
            };
            let Ok((tcp, peer)) = accepted else {
                // Out of file descriptors and the like: back off briefly.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let Ok(conn_permit) = connections.clone().try_acquire_owned() else {
                drop(tcp);
                continue;
            };
            let (cfg, permits, acceptor) = (cfg.clone(), permits.clone(), acceptor.clone());
            tokio::spawn(async move {
                let _conn_permit = conn_permit;
                let service = hyper::service::service_fn(move |req| {
                    let (cfg, permits) = (cfg.clone(), permits.clone());
                    async move { Ok::<_, Infallible>(handle(cfg, permits, peer, req).await) }
                });
                let mut builder =
                    hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                builder
                    .http1()
                    .timer(TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(10))
                    .max_buf_size(64 * 1024);
                match acceptor {
                    Some(acceptor) => {
                        let Ok(Ok(tls)) =
                            tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp))
                                .await
                        else {
                            return;
                        };
                        let _ = builder.serve_connection(TokioIo::new(tls), service).await;
                    }
                    None => {
                        let _ = builder.serve_connection(TokioIo::new(tcp), service).await;
                    }
                }
            });
        }
    });
    Ok(Server {
        local_addr,
        stop,
        task,
    })
}
