//! Downloading test lists over HTTPS into a [`ListStore`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::{list_name, parse, ListError, ListStore};

/// Where and how to download lists.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// The folder URL that holds `<cc>.csv` and `global.csv` (ends with `/`).
    pub base_url: url::Url,
    /// The largest list accepted, in bytes.
    pub max_bytes: usize,
}

impl FetchConfig {
    /// The Citizen Lab repository's `lists/` folder, where the lists are
    /// published.
    pub const DEFAULT_BASE_URL: &'static str =
        "https://raw.githubusercontent.com/citizenlab/test-lists/master/lists/";

    /// A configuration for `base_url` (a trailing `/` is added if missing).
    pub fn new(base_url: &str) -> Result<Self, ListError> {
        let with_slash = if base_url.ends_with('/') {
            base_url.to_string()
        } else {
            format!("{base_url}/")
        };
        let base_url = url::Url::parse(&with_slash).map_err(|e| ListError::Download {
            url: base_url.to_string(),
            reason: format!("bad URL: {e}"),
        })?;
        Ok(FetchConfig {
            base_url,
            max_bytes: 16 << 20,
        })
    }
}

/// An HTTPS client that trusts the Mozilla roots, or only the certificates in
/// `ca_file` (PEM) when given — for labs and private mirrors. With `local`,
/// its connections leave from that source address (multi-homed hosts).
pub fn http_client(
    ca_file: Option<&Path>,
    timeout: Duration,
    local: Option<std::net::IpAddr>,
) -> Result<reqwest::Client, ListError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let io = |e: rustls_pki_types::pem::Error| ListError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::other(e.to_string()),
            };
            for cert in CertificateDer::pem_file_iter(path).map_err(io)? {
                roots.add(cert.map_err(io)?).map_err(|e| ListError::Io {
                    path: path.to_path_buf(),
                    source: std::io::Error::other(e.to_string()),
                })?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ListError::Download {
            url: String::new(),
            reason: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .timeout(timeout)
        .local_address(local)
        .user_agent(concat!("canary/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ListError::Download {
            url: String::new(),
            reason: e.to_string(),
        })
}

/// What one list update did.
#[derive(Debug, Clone)]
pub struct Updated {
    /// `global` or the country code, lower case.
    pub name: String,
    /// Where the list is now stored.
    pub path: PathBuf,
    /// How many usable URLs it has.
    pub entries: usize,
    /// How many rows were skipped as bad.
    pub skipped_rows: usize,
}

impl ListStore {
    /// Downloads the lists of `countries` (plus `global`), checks that each is
    /// a valid test list, and replaces the local copies. Nothing is replaced
    /// for a list whose download or check failed.
    pub async fn update(
        &self,
        client: &reqwest::Client,
        config: &FetchConfig,
        countries: &[String],
    ) -> Result<Vec<Updated>, ListError> {
        let mut names = vec!["global".to_string()];
        for c in countries {
            let name = list_name(c)?;
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let mut done = Vec::new();
        for name in names {
            let bytes = download(client, config, &name).await?;
            let url = config
                .base_url
                .join(&format!("{name}.csv"))
                .map(String::from);
            let list = parse(bytes.as_slice()).map_err(|e| ListError::Invalid {
                url: url.clone().unwrap_or_default(),
                reason: e.to_string(),
            })?;
            if list.entries.is_empty() {
                return Err(ListError::Invalid {
                    url: url.unwrap_or_default(),
                    reason: "it has no usable URL".into(),
                });
            }
            let path = self.store(&name, &bytes)?;
            done.push(Updated {
                name,
                path,
                entries: list.entries.len(),
                skipped_rows: list.problems.len(),
            });
        }
        Ok(done)
    }
}

async fn download(
    client: &reqwest::Client,
    config: &FetchConfig,
    name: &str,
) -> Result<Vec<u8>, ListError> {
    let url = config
        .base_url
        .join(&format!("{name}.csv"))
        .map_err(|e| ListError::Download {
            url: config.base_url.to_string(),
            reason: e.to_string(),
        })?;
    let fail = |reason: String| ListError::Download {
        url: url.to_string(),
        reason,
    };
    let mut response = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| fail(error_chain(&e)))?;
    let status = response.status();
    if !status.is_success() {
        let hint = if status == reqwest::StatusCode::NOT_FOUND && name != "global" {
            format!(" (is there a test list for {}?)", name.to_uppercase())
        } else {
            String::new()
        };
        return Err(fail(format!("HTTP {status}{hint}")));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| fail(error_chain(&e)))? {
        if body.len() + chunk.len() > config.max_bytes {
            return Err(ListError::TooLarge {
                url: url.to_string(),
                limit: config.max_bytes,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// An error and its causes on one line (reqwest hides the useful part in
/// `source()`).
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
