//! The control request: asking the test helper to measure the same URL from
//! outside the censored network (OONI's test-helper protocol).

use std::collections::BTreeMap;

use canary_model::{ControlRequest, ControlResponse};

use crate::HelperConfig;

/// Largest helper answer accepted.
pub const MAX_CONTROL_RESPONSE_BYTES: usize = 4 << 20;

/// The helper's answer, or why there is none (a df-007-style failure
/// string, recorded as `control_failure`).
pub type ControlResult = Result<ControlResponse, String>;

/// Builds the request OONI's helpers understand: the URL, the headers the
/// probe sends, and every `ip:port` the probe is about to connect to.
pub fn request(url: &str, headers: &[(String, String)], endpoints: &[String]) -> ControlRequest {
    let mut http_request_headers = BTreeMap::new();
    for (k, v) in headers {
        http_request_headers
            .entry(k.clone())
            .or_insert_with(Vec::new)
            .push(v.clone());
    }
    ControlRequest {
        http_request: url.to_string().into(),
        http_request_headers: http_request_headers.into(),
        tcp_connect: endpoints.to_vec().into(),
        x_quic_enabled: false.into(),
        ..Default::default()
    }
}

/// Sends the control request and reads the answer (bounded in time and
/// size). A busy helper (HTTP 503) is asked again after a short pause, as
/// long as the time allowed lasts.
pub async fn ask(helper: &HelperConfig, request: &ControlRequest) -> ControlResult {
    let attempts = async {
        let mut pause = std::time::Duration::from_millis(200);
        loop {
            match ask_once(helper, request).await {
                Err(e) if e == BUSY => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(std::time::Duration::from_secs(3));
                }
                other => return other,
            }
        }
    };
    match tokio::time::timeout(helper.timeout, attempts).await {
        Ok(result) => result,
        Err(_) => Err("generic_timeout_error".to_string()),
    }
}

/// The failure recorded when the helper stays busy.
const BUSY: &str = "http_request_failed: HTTP 503";

async fn ask_once(helper: &HelperConfig, request: &ControlRequest) -> ControlResult {
    let send = async {
        let mut response = helper
            .client
            .post(helper.url.clone())
            .json(request)
            .send()
            .await
            .map_err(|e| classify(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("http_request_failed: HTTP {}", status.as_u16()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e))? {
            if body.len() + chunk.len() > MAX_CONTROL_RESPONSE_BYTES {
                return Err("unknown_failure: control response too large".to_string());
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice::<ControlResponse>(&body)
            .map_err(|e| format!("unknown_failure: control response is not valid: {e}"))
    };
    send.await
}

/// A df-007-style string for a client error (the helper's address is never
/// the probe's, so nothing here needs scrubbing; the caller scrubs anyway).
fn classify(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "generic_timeout_error".into();
    }
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return canary_netx::failure::classify_io_error(io);
        }
        source = e.source();
    }
    if err.is_connect() {
        return "connection_refused".into();
    }
    format!("unknown_failure: {err}")
}
