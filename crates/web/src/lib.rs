//! # canary-web: `canary serve`
//!
//! One HTTP server for three audiences:
//!
//! * **probes** submit measurements to the **collector**
//!   (`POST /api/v1/submit`, one OONI JSON document or JSONL). A
//!   submission is size-capped, rate-limited per source (a keyed hash of
//!   the address: the address itself is never stored or logged; behind a
//!   reverse proxy, see [`proxy`] and [`WebConfig::trusted_proxies`]),
//!   `probe_ip`-scrubbed, schema-checked, and its verdict is recomputed
//!   from the raw records by `canary-analysis` (web_connectivity) or
//!   `canary-social` (facebook_messenger, whatsapp, telegram, signal,
//!   canary_account_check); the submitter's own verdict is never trusted. `201` means committed to the store
//!   before the answer; a replay gets `200` with `"status":"duplicate"`;
//!   a bad submission gets a 4xx JSON body with the reason.
//! * **readers** use the server-rendered **explorer**, in English and
//!   Khmer, which works without JavaScript (charts are inline SVG): the
//!   overview (`/`), a country (`/country/KH`: sites blocked now, on which
//!   networks, since when, how, confirmed or not; the blocked share over
//!   time; filters by category, ASN and dates), a site (`/domain/{d}`) and
//!   a network (`/asn/{n}`) with per-layer timelines and blocking events,
//!   and a measurement (`/measurement/{id}`: the verdict in plain words, the
//!   records behind it, the raw JSON to download). The language comes from
//!   `?lang=en|km` (remembered in a cookie), else the cookie, else
//!   `Accept-Language`; Khmer text uses the Noto Sans Khmer font the server
//!   ships. Every table is exported by the **JSON API** (`/api/v1/…`,
//!   `?format=csv` for CSV).
//! * **staff** log in (`/login`; argon2id hashes, HttpOnly SameSite
//!   session cookies, CSRF tokens on every form, throttled failures) and
//!   administrators manage users (`/admin/users`). Members document
//!   incidents in the **registry** (`/registry/…`, module `registry_ui`:
//!   every read through the registry's policy, reveals and exports audited)
//!   and analysts make **reports** (`/reports`). What needs an account
//!   is set by [`AccessPolicy`]: by default the explorer is public and
//!   administration is not.
//!
//! ## Example
//!
//! ```no_run
//! use canary_web::{serve, WebConfig};
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = canary_store::Store::open("canary.db").await?;
//! canary_web::demo::load(&store).await?; // optional: synthetic demo data
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! let server = serve(WebConfig::new(store), listener).await?;
//! println!("http://{}/country/KH", server.local_addr());
//! server.wait().await;
//! # Ok(()) }
//! ```
//!
//! ## Routes
//!
//! | route | what |
//! |---|---|
//! | `GET /`, `/country/{cc}`, `/domain/{d}`, `/asn/{n}`, `/measurement/{id}` | explorer pages (`?lang=`, filters `asn`, `category`, `from`, `to` as `YYYY-MM-DD`) |
//! | `GET /measurement/{id}/raw`, `/api/v1/measurements/{id}/raw` | raw JSON download |
//! | `GET /api/v1/countries`, `/api/v1/countries/{cc}/{blocked,series,summary,networks}`, `/api/v1/domains/{d}`, `/api/v1/asns/{n}`, `/api/v1/measurements[/{id}]`, `/api/v1/events` | JSON (default) or CSV (`?format=csv`) |
//! | `GET /api/v1/countries/{cc}/social[/series]`, `/api/v1/countries/{cc}/restricted`, `/api/v1/social/{id}/raw` | social-media panel data, JSON or CSV |
//! | `POST /api/v1/submit` | collector |
//! | `GET /registry/incidents[/{id}]`, `/registry/laws[/{id}]`, `/registry/recommendations`, evidence pages and forms | registry (see the `registry_ui` module for the full table) |
//! | `/api/v1/registry/…`, `GET /api/v1/openapi.json` | registry JSON API and its OpenAPI document |
//! | `GET,POST /reports` | reports for analysts and admins |
//! | `GET,POST /login`, `POST /logout`, `GET,POST /admin/users`, `POST /admin/users/{id}` | accounts |
//! | `GET /assets/style.css`, `/assets/fonts/NotoSansKhmer-Regular.ttf`, `/healthz` | assets |
//!
//! Every response carries a strict Content-Security-Policy (no scripts at
//! all), `X-Content-Type-Options: nosniff` and `Referrer-Policy:
//! no-referrer`; every request is time-limited and every body size-capped.

#![deny(missing_docs)]

pub mod accounts;
pub mod chart;
pub mod collector;
pub mod demo;
mod error;
pub mod export;
pub mod i18n;
pub mod proxy;
mod ratelimit;
pub mod records;
mod registry_ui;
mod report_ui;
mod server;
mod social_ui;

pub use error::WebError;
pub use server::{
    all_templates, format_time, serve, AccessPolicy, PdfRenderer, ServerHandle, Stats, WebConfig,
    KHMER_FONT, TEMPLATES,
};
