//! Test harness: one store per test, on SQLite (a temp file) or on a fresh
//! PostgreSQL database created in the cluster named by
//! `CANARY_TEST_POSTGRES_URL` (see `scripts/start-postgres`).

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use canary_store::{Blocking, NewMeasurement, Outcome, Store, StoredVerdict};
use sqlx::Connection;
use time::OffsetDateTime;

pub const PG_ENV: &str = "CANARY_TEST_POSTGRES_URL";

pub struct Harness {
    pub store: Store,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>, // (admin URL, database name)
}

static NEXT_DB: AtomicU32 = AtomicU32::new(0);

impl Harness {
    pub async fn sqlite() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("canary.db").display());
        let store = Store::open(&url).await.unwrap();
        Harness {
            store,
            url,
            _dir: Some(dir),
            pg: None,
        }
    }

    /// `None` (after printing why) when `CANARY_TEST_POSTGRES_URL` is unset;
    /// panics when it is set but the server cannot be used.
    pub async fn postgres(test: &str) -> Option<Harness> {
        let Ok(admin) = std::env::var(PG_ENV) else {
            eprintln!("skipping: {PG_ENV} not set");
            return None;
        };
        let name = format!(
            "canary_t_{}_{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::SeqCst),
            test
        );
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("{PG_ENV} is set but PostgreSQL is unreachable: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        let url = replace_database(&admin, &name);
        let store = Store::open(&url).await.unwrap();
        Some(Harness {
            store,
            url,
            _dir: None,
            pg: Some((admin, name)),
        })
    }

    pub async fn finish(self) {
        self.store.close().await;
        if let Some((admin, name)) = self.pg {
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await
            .unwrap();
        }
    }
}

/// `postgres://u@h:p/db?x` with `db` replaced by `name`.
pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Declares each case twice: `sqlite::case` and `postgres::case`.
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let h = $crate::common::Harness::sqlite().await;
                    super::$case(&h).await;
                    h.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    let Some(h) = $crate::common::Harness::postgres(stringify!($case)).await
                    else { return };
                    super::$case(&h).await;
                    h.finish().await;
                }
            )*
        }
    };
}

pub fn at(text: &str) -> OffsetDateTime {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    time::PrimitiveDateTime::parse(text, format)
        .unwrap()
        .assume_utc()
}

pub fn verdict(outcome: Outcome, layer: Option<&str>, confirmed: bool) -> StoredVerdict {
    StoredVerdict {
        rules_version: "1".into(),
        blocking: match (outcome, layer) {
            (Outcome::Blocked, Some("dns")) => Some(Blocking::Dns),
            (Outcome::Blocked, Some("tcp")) => Some(Blocking::TcpIp),
            (Outcome::Blocked, _) => Some(Blocking::HttpFailure),
            (Outcome::Ok | Outcome::Down, _) => Some(Blocking::NotBlocked),
            (Outcome::Unknown, _) => None,
        },
        accessible: match outcome {
            Outcome::Ok => Some(true),
            Outcome::Blocked => Some(false),
            _ => None,
        },
        outcome,
        layer: layer.map(str::to_owned),
        kind: layer.map(|l| format!("{l}-kind")),
        confirmed,
        fingerprint: confirmed.then(|| "fp-1".to_owned()),
        explanation: format!("{outcome} at {layer:?}"),
        rules_fired: vec!["rule.a".into(), format!("rule.{outcome}")],
    }
}

/// A measurement with a small raw JSON document naming its id.
pub fn measurement(
    id: &str,
    cc: &str,
    asn: u32,
    domain: &str,
    when: &str,
    v: StoredVerdict,
) -> NewMeasurement {
    let input = format!("https://{domain}/");
    let raw = serde_json::json!({
        "measurement_uid": id, "test_name": "web_connectivity", "input": input,
        "probe_cc": cc, "probe_asn": format!("AS{asn}"), "measurement_start_time": when,
    });
    NewMeasurement {
        id: id.into(),
        report_id: Some(format!("report-{id}")),
        test_name: "web_connectivity".into(),
        test_version: Some("0.4.3".into()),
        input: Some(input),
        domain: Some(domain.into()),
        probe_cc: cc.into(),
        probe_asn: asn,
        probe_network_name: Some(format!("Net {asn}")),
        resolver_asn: Some(asn),
        measurement_start_time: at(when),
        software_name: Some("canary".into()),
        software_version: Some("0.1.0".into()),
        category_code: None,
        raw_json: serde_json::to_vec(&raw).unwrap(),
        verdict: v,
    }
}
