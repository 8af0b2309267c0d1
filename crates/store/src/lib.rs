//! # canary-store: measurements, verdicts and events over SQLite or PostgreSQL
//!
//! Every byte of SQL in Canary lives in this crate. The collector
//! (`canary serve`) and `canary import` write measurements here with their
//! verdicts; the web UI and the reports ask it the same questions: which
//! sites are blocked now in a country, on which networks, since when, how;
//! the blocked share over time; a domain's or a network's timeline; one
//! measurement with its verdict and raw JSON.
//!
//! One [`Store`] speaks to either backend with the same queries:
//!
//! * **SQLite** (the default): one file, WAL journal, `synchronous=FULL`
//!   (an accepted measurement survives a `kill -9` and a power cut; the
//!   cost, one fsync per transaction, is paid once per batch on import),
//!   foreign keys on, 30 s busy timeout. No setup.
//! * **PostgreSQL** (`postgres://user@host:port/db`): for many probes and
//!   large archives; every statement is bounded by a 120 s
//!   `statement_timeout`.
//!
//! The schema (`migrations/sqlite`, `migrations/postgres`, kept column for
//! column in step) is applied by [`Store::open`].
//!
//! ## Data model
//!
//! | table | one row per | notes |
//! |---|---|---|
//! | `measurements` | measurement | `seq` (internal integer key, arrival order) and `id` (unique: OONI `measurement_uid`, else [`content_id`], the SHA-256 of the canonical JSON); the indexed fields (`probe_cc`, `probe_asn`, `domain`, `measurement_start_time`, `category_code`, …); the raw JSON zstd-compressed (`raw_zstd`, `raw_len`); copies of the current verdict's `outcome` and `confirmed` so the blocked-now look-ups are index-only; **no IP address column** (submissions are anonymous: the collector scrubs `probe_ip` before the raw JSON reaches the store) |
//! | `verdicts` | measurement (`measurement_seq`) | the current verdict ([`StoredVerdict`]): OONI `blocking`/`accessible`, Canary's `outcome`/`layer`/`kind`, `confirmed`, `fingerprint`, `explanation`, `rules_fired` (JSON), `rules_version` |
//! | `verdict_history` | replaced verdict | what [`Store::replace_verdicts`] overwrote, with its `rules_version` ([`Store::verdict_history`]) |
//! | `networks` | ASN | name: from an operator ([`Store::upsert_network`]) or the first probe that named it |
//! | `pairs` | (country, ASN, domain) | every combination ever measured: the domain's category and the times of the latest measurement, latest `ok` and latest `blocked` one, and the current blocked run (`run_since`, `run_len`, `run_confirmed`: the blocked measurements after the latest `ok`; empty when not blocked now), all kept by ingest and reanalysis: the driver of [`Store::blocked_now`] |
//! | `daily_stats` | (country, UTC day, ASN, category, outcome, layer) | measurement and confirmed counts, kept by ingest and reanalysis: the series, summaries and ASN timelines read these instead of millions of rows |
//! | `blocking_events` | (country, ASN, domain, layer, start) | detected events (CUSUM), ongoing while `end_time` is NULL |
//!
//! Indexes: `measurements (probe_cc, domain, probe_asn, measurement_start_time,
//! outcome, confirmed)` for the per-site look-ups, `(probe_cc,
//! measurement_start_time)` for a country's newest measurements, `(domain,
//! measurement_start_time)` for domain pages; events by country, domain
//! and ASN.
//!
//! Instants are stored as Unix seconds (UTC) and days as Unix days, both
//! `BIGINT`, so every query is one text for both backends.
//!
//! ## Guarantees
//!
//! * **Idempotent ingest**: a measurement id is unique; storing it again
//!   (another import of the same file) changes nothing and is reported as
//!   a duplicate ([`InsertReport`]).
//! * **Durable acceptance**: [`Store::insert_one`] and
//!   [`Store::insert_batch`] commit before they return.
//! * **Bounded**: fields, raw measurements ([`MAX_RAW_BYTES`]), pages
//!   ([`MAX_PAGE`]) and statement time are bounded; bad input is an
//!   [`StoreError::Invalid`], never a panic; every value reaches SQL as a
//!   bound parameter.
//! * **Fast country pages**: "blocked now" without an end date reads the
//!   runs kept in `pairs` (a partial index holds only the pairs blocked
//!   now; with a start date, only runs that began before it are clipped in
//!   the index); with an end date it looks up each site's latest
//!   measurement and walks its run in the index. Series and
//!   counts come from `daily_stats`. Call [`Store::optimize`] after a
//!   large import.
//! * **Raw kept**: [`Store::measurement`] and [`Store::raw_batch`] give the
//!   raw JSON back byte for byte, so `canary reanalyse` can recompute
//!   verdicts ([`Store::replace_verdicts`]).
//!
//! ## Performance (measured; `benches/ingest.rs`)
//!
//! On the 2-core development machine, synthetic web_connectivity
//! measurements (2 KB raw, 2,000 domains x 5 networks, 90 days, in time
//! order, 10,000 per transaction). The 10 M ingest ran while three other
//! builds did; the older table below was measured under load 4–9.
//!
//! Now (16 KiB pages, 256 MiB cache, WAL checkpoints every 64 MiB, zstd
//! level 1, each batch inserted in index order, each pair's current run
//! kept in `pairs`), measured on a quiet machine; queries are p50 / p99
//! over 300 runs (`CANARY_BENCH_REPEATS=300`; with 50 runs the p99 is the
//! first query on each pooled connection, whose page cache is still cold):
//!
//! | | SQLite 1 M | SQLite 10 M | PostgreSQL 1 M | PostgreSQL 10 M |
//! |---|---|---|---|---|
//! | ingest, measurements/s (wall) | 20,250 | 7,899 (loaded machine) | 18,045 | 15,304 |
//! | `blocked_now`, up to now, ms | — | 4.2 / 8.5 | 8.9 / 14.0 | 6.6 / 9.6 |
//! | `blocked_now`, last 30 days, ms | — | 4.2 / 6.4 | 10.6 / 16.5 | 7.7 / 10.2 |
//! | `blocked_now`, a past 30-day window (`to` set), ms | — | 55 / 79 | 109 / 163 | 140 / 214 |
//! | `country_summary`, up to now, ms | 9.6 / 23.2 | 11.2 / 17.0 | 14.5 / 23.2 | 12.8 / 19.6 |
//! | `country_summary`, a past 30-day window, ms | 57.5 / 84.6 | 115 / 162 | 141 / 184 | 182 / 262 |
//! | the country page over HTTP (Khmer, no filter), ms | — | 21.3 / 30.2 | — | 20.8 / 28.6 |
//! | the country page over HTTP, a past 30-day window, ms | — | 112 / 161 | — | 194 / 266 |
//!
//! The 10 M SQLite database takes 15.1 GB (1.5 KB per measurement), the
//! PostgreSQL one about 20 GB. A window with an end date costs one index
//! look-up per (domain, network) of the country (10,000 here); on
//! PostgreSQL at 10 M its p99 is above 200 ms.
//!
//! Before that tuning (and before the runs were kept), at 1 M and 10 M:
//!
//! | | SQLite 1 M | SQLite 10 M | PostgreSQL 1 M | PostgreSQL 10 M | PostgreSQL 10 M |
//! |---|---|---|---|---|
//! | ingest, measurements/s (wall) | 6,700 | 5,300 | 10,900 | 10,800 |
//! | ingest, per CPU-second of the writer process | — | 11,100 | — | 44,900 (+ the server's) |
//! | `blocked_now`, up to now, p50 / p99 ms | 15 / 22 | 80 / 229 | 26 / 33 | 161 / 215 |
//! | `blocked_now`, last 30 days, p50 / p99 ms | 12 / 16 | 54 / 109 | 31 / 43 | 59 / 163 |
//! | `blocked_share_series`, p50 / p99 ms | 5 / 13 | 21 / 40 | 4 / 17 | 4 / 57 |
//! | `country_summary`, up to now, p50 / p99 ms | 32 / 58 | 154 / 265 | 41 / 64 | 174 / 259 |
//! | `country_summary`, last 30 days, p50 / p99 ms | 16 / 42 | 47 / 131 | 28 / 61 | 82 / 177 |
//! | `blocked_now`, a past window (`to` set), p50 / p99 ms | 94 / 187 | 657 / 1659 | 579 / 1135 | 1306 / 2475 |
//!
//! Windows with an end date look up every (domain, network) in the index
//! and are the slow case. The SQLite database took 1.6 KB per measurement
//! (2.1 KB of raw JSON each, zstd-compressed, plus indexes).
//!
//! ## Example
//!
//! ```
//! use canary_store::{Filters, NewMeasurement, Outcome, Store, StoredVerdict};
//! use time::macros::datetime;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Store::open("sqlite::memory:").await?;
//! let raw = br#"{"measurement_uid":"20240214090617.123_KH_webconnectivity_0123",
//!   "test_name":"web_connectivity","input":"https://blocked.example/",
//!   "probe_cc":"KH","probe_asn":"AS38623","measurement_start_time":"2024-02-14 09:06:17"}"#;
//! let m = canary_model::Measurement::from_slice(raw)?;
//! let verdict = StoredVerdict {
//!     rules_version: "1".into(),
//!     blocking: Some(canary_model::Blocking::Dns),
//!     accessible: Some(false),
//!     outcome: Outcome::Blocked,
//!     layer: Some("dns".into()),
//!     kind: Some("blockpage_ip".into()),
//!     confirmed: true,
//!     fingerprint: Some("dns_kh_viettel".into()),
//!     explanation: "The ISP's resolver answered a known blockpage address.".into(),
//!     rules_fired: vec!["dns.blockpage_ip".into()],
//! };
//! let new = NewMeasurement::from_measurement(&m, raw, Some("NEWS".into()), verdict)?;
//! assert!(store.insert_one(&new).await?); // committed
//! assert!(!store.insert_one(&new).await?); // idempotent
//!
//! let blocked = store.blocked_now("KH", &Filters::default()).await?;
//! assert_eq!(blocked[0].domain, "blocked.example");
//! assert_eq!(blocked[0].since, datetime!(2024-02-14 09:06:17 UTC));
//! let stored = store.measurement(&new.id).await?.expect("stored");
//! assert_eq!(stored.raw_json.as_bytes(), raw); // byte for byte
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod accounts;
mod error;
mod queries;
pub mod registry;
pub mod social;
mod store;
mod types;

pub use canary_model::Blocking;
pub use error::StoreError;
pub use queries::{MAX_EVENT_MEASUREMENTS, MAX_PAGE};
pub use store::Store;
pub use types::{
    content_id, domain_of, BlockedSite, BlockingEvent, CountrySummary, Filters, HistoricVerdict,
    InsertReport, MeasurementInfo, Network, NetworkSummary, NewMeasurement, Outcome,
    RawMeasurement, ReplaceReport, Selection, SharePoint, StoredMeasurement, StoredVerdict,
    TimelinePoint, MAX_FIELD_BYTES, MAX_ID_BYTES, MAX_RAW_BYTES, MAX_TEXT_BYTES,
};
