//! Shared test harness: a real server on loopback over a fresh SQLite
//! store, and a small HTTP client that keeps cookies by hand.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Once;

use canary_store::Store;
use canary_web::accounts::{create_user, PasswordParams, Role};
use canary_web::{serve, ServerHandle, WebConfig};
use reqwest::header::{HeaderMap, COOKIE, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::StatusCode;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestServer {
    pub handle: ServerHandle,
    pub store: Store,
    pub base: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestServer {
    /// Wraps a server started elsewhere (e.g. over PostgreSQL).
    pub fn from_parts(handle: ServerHandle, store: Store) -> TestServer {
        let base = format!("http://{}", handle.local_addr());
        TestServer {
            handle,
            store,
            base,
            _dir: None,
        }
    }
}

fn install_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("canary_web=warn")),
            )
            .with_test_writer()
            .try_init();
    });
}

pub fn test_config(store: Store) -> WebConfig {
    let mut cfg = WebConfig::new(store);
    cfg.password_params = PasswordParams::insecure_for_tests();
    cfg
}

/// A server over a fresh SQLite store; `demo` loads the demo dataset.
pub async fn start_with(demo: bool, tweak: impl FnOnce(&mut WebConfig)) -> TestServer {
    install_provider();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("canary.db");
    let store = Store::open(path.to_str().unwrap()).await.unwrap();
    if demo {
        canary_web::demo::load(&store).await.unwrap();
    }
    let mut cfg = test_config(store.clone());
    tweak(&mut cfg);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = serve(cfg, listener).await.unwrap();
    let base = format!("http://{}", handle.local_addr());
    TestServer {
        handle,
        store,
        base,
        _dir: Some(dir),
    }
}

pub async fn start(demo: bool) -> TestServer {
    start_with(demo, |_| {}).await
}

impl TestServer {
    pub async fn add_user(&self, name: &str, role: Role) {
        create_user(
            &self.store,
            name,
            PASSWORD,
            role,
            Some("Test org"),
            &PasswordParams::insecure_for_tests(),
        )
        .await
        .unwrap();
    }
}

/// A valid demo web_connectivity measurement (a blockpage) as JSON, with
/// `uid` as its measurement_uid: what a probe would submit.
pub fn blockpage_measurement(uid: &str) -> serde_json::Value {
    static TEMPLATE: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    let template = TEMPLATE.get_or_init(|| {
        let (ms, _) = canary_web::demo::dataset().unwrap();
        let blocked = ms
            .iter()
            .find(|m| m.verdict.kind.as_deref() == Some("blockpage_ip"))
            .unwrap();
        serde_json::from_slice(&blocked.raw_json).unwrap()
    });
    let mut v = template.clone();
    v["measurement_uid"] = serde_json::json!(uid);
    v
}

pub fn shared_data() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    p.is_dir().then_some(p)
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

/// A browser-like client: keeps cookies, does not follow redirects.
pub struct Client {
    http: reqwest::Client,
    pub base: String,
    pub cookies: BTreeMap<String, String>,
    pub accept_language: Option<String>,
}

impl Client {
    pub fn new(server: &TestServer) -> Client {
        install_provider();
        Client {
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .no_proxy()
                .build()
                .unwrap(),
            base: server.base.clone(),
            cookies: BTreeMap::new(),
            accept_language: None,
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, headers: &HeaderMap) {
        for v in headers.get_all(SET_COOKIE) {
            let text = v.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() || text.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Resp {
        let mut req = req;
        if !self.cookies.is_empty() {
            req = req.header(COOKIE, self.cookie_header());
        }
        if let Some(al) = &self.accept_language {
            req = req.header("accept-language", al);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        self.keep(&headers);
        let body = resp.text().await.unwrap();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        let url = format!("{}{}", self.base, path);
        let req = self.http.get(url);
        self.send(req).await
    }

    pub async fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> Resp {
        let url = format!("{}{}", self.base, path);
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in form {
            ser.append_pair(k, v);
        }
        let req = self
            .http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(ser.finish());
        self.send(req).await
    }

    pub async fn post_body(&mut self, path: &str, body: Vec<u8>) -> Resp {
        let url = format!("{}{}", self.base, path);
        let req = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body);
        self.send(req).await
    }

    /// The CSRF token of the last form rendered in `html`.
    pub fn csrf(html: &str) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = html.rfind(marker).expect("a form with a csrf field") + marker.len();
        html[start..start + 64].to_owned()
    }

    pub async fn login(&mut self, name: &str, password: &str) -> Resp {
        let page = self.get("/login").await;
        let csrf = Client::csrf(&page.body);
        self.post_form(
            "/login",
            &[("name", name), ("password", password), ("csrf", &csrf)],
        )
        .await
    }
}
