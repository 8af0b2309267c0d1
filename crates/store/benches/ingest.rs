//! Ingest throughput and country-page latency, on SQLite and PostgreSQL.
//!
//! ```sh
//! cargo bench -p canary-store --bench ingest                 # 1,000,000, SQLite
//! eval "$(scripts/start-postgres)"                            # + PostgreSQL
//! CANARY_BENCH_N=10000000 cargo bench -p canary-store --bench ingest
//! ```
//!
//! Environment: `CANARY_BENCH_N` (measurements, default 1,000,000),
//! `CANARY_BENCH_BATCH` (per transaction, default 10,000),
//! `CANARY_BENCH_SHUFFLED` (set: measurements at random times instead of in
//! time order),
//! `CANARY_BENCH_BACKENDS` (`sqlite,postgres`; PostgreSQL needs
//! `CANARY_TEST_POSTGRES_URL`), `CANARY_BENCH_DIR` (where the SQLite file
//! goes, default a temp dir), `CANARY_BENCH_KEEP` (set: keep the SQLite
//! file and the PostgreSQL database, e.g. for the web crate's
//! `country_page` bench), `CANARY_BENCH_REPEATS` (runs per query, default 50), `CANARY_BENCH_REUSE` (a kept database's path or
//! URL: skip the ingest and time only the queries over it).
//!
//! Synthetic data: 2,000 domains x 5 Cambodian networks over 90 days, in
//! time order (a random (domain, network) pair per measurement), a
//! ~2 KB web_connectivity-like raw document each; 7% of (domain, network)
//! pairs are censored from a random day (half of them lifted later), the
//! rest show 1% false-positive blocks, 2% down, 1% unknown.

use std::time::{Duration, Instant};

use canary_store::{Blocking, Filters, NewMeasurement, Outcome, Store, StoredVerdict};
use sqlx::Connection;
use time::OffsetDateTime;

const DOMAINS: u64 = 2_000;
const ASNS: [u32; 5] = [38623, 17976, 24560, 9902, 131178];
const DAYS: u64 = 90;
const START: i64 = 1_717_200_000; // 2024-06-01
const INGEST_TARGET: f64 = 20_000.0;
const P99_TARGET_MS: f64 = 200.0;
const CATEGORIES: [&str; 6] = ["NEWS", "HUMR", "POLR", "LGBT", "COMT", "GRP"];

/// splitmix64: deterministic, dependency-free.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

struct PairPlan {
    censored_from: Option<u64>,
    censored_until: Option<u64>,
}

fn plan(pair: u64) -> PairPlan {
    let h = mix(pair ^ 0xC0FFEE);
    if h % 100 < 7 {
        let from = mix(h) % DAYS;
        let until = mix(h ^ 1)
            .is_multiple_of(2)
            .then(|| from + 1 + mix(h ^ 2) % (DAYS - from));
        PairPlan {
            censored_from: Some(from),
            censored_until: until,
        }
    } else {
        PairPlan {
            censored_from: None,
            censored_until: None,
        }
    }
}

/// Measurement `i` of `n`: measurements arrive in time order over the 90
/// days (as from the collector, or an OONI daily file), each for a random
/// (domain, network) pair; with `shuffled`, at a random time instead.
fn synthetic(i: u64, n: u64, shuffled: bool) -> NewMeasurement {
    let h = mix(i);
    let pair = h % (DOMAINS * ASNS.len() as u64);
    let domain_no = pair / ASNS.len() as u64;
    let asn = ASNS[(pair % ASNS.len() as u64) as usize];
    let span = DAYS * 86_400;
    let offset = if shuffled {
        mix(h) % span
    } else {
        (u128::from(i) * u128::from(span) / u128::from(n.max(1))) as u64
    };
    let t = START + offset as i64;
    let day = ((t - START) / 86_400) as u64;
    let p = plan(pair);
    let roll = mix(h ^ 7) % 1000;
    let censored =
        p.censored_from.is_some_and(|f| day >= f) && p.censored_until.is_none_or(|u| day < u);
    let (outcome, layer, kind) = if censored && roll < 900 {
        match domain_no % 3 {
            0 => (Outcome::Blocked, Some("dns"), Some("blockpage_ip")),
            1 => (Outcome::Blocked, Some("tls"), Some("reset")),
            _ => (Outcome::Blocked, Some("http"), Some("blockpage")),
        }
    } else if roll < 10 {
        (Outcome::Blocked, Some("tcp"), Some("timeout"))
    } else if roll < 30 {
        (Outcome::Down, None, None)
    } else if roll < 40 {
        (Outcome::Unknown, None, None)
    } else {
        (Outcome::Ok, None, None)
    };
    let domain = format!("site{domain_no:04}.example.org");
    let when = OffsetDateTime::from_unix_timestamp(t).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let uid = format!("{}.{:06}_KH_webconnectivity_{:016x}", t, i % 1_000_000, h);
    let answer = if layer == Some("dns") {
        "36.37.242.94"
    } else {
        "93.184.216.34"
    };
    let raw = format!(
        r#"{{"annotations":{{"architecture":"amd64","engine_name":"canary","platform":"linux"}},"data_format_version":"0.2.0","input":"https://{domain}/","measurement_start_time":"{ts}","measurement_uid":"{uid}","probe_asn":"AS{asn}","probe_cc":"KH","probe_ip":"127.0.0.1","probe_network_name":"Network {asn}","report_id":"20240601T000000Z_webconnectivity_KH_{asn}_n1_{h:x}","resolver_asn":"AS{asn}","resolver_ip":"10.0.{r}.1","software_name":"canary","software_version":"0.1.0","test_keys":{{"agent":"redirect","client_resolver":"10.0.{r}.1","queries":[{{"answers":[{{"answer_type":"A","ipv4":"{answer}","ttl":300}}],"engine":"system","failure":null,"hostname":"{domain}","query_type":"A","resolver_address":"","t":0.{h16:05}}}],"tcp_connect":[{{"ip":"{answer}","port":443,"status":{{"blocked":false,"failure":null,"success":true}},"t":0.1{r}}}],"tls_handshakes":[{{"address":"{answer}:443","cipher_suite":"TLS_AES_128_GCM_SHA256","failure":null,"negotiated_protocol":"h2","server_name":"{domain}","t":0.2{r},"tls_version":"TLSv1.3"}}],"requests":[{{"failure":null,"request":{{"headers":{{"Accept":"text/html","User-Agent":"Mozilla/5.0"}},"method":"GET","url":"https://{domain}/"}},"response":{{"body":"<html><head><title>Site {domain_no}</title></head><body>{body}</body></html>","code":200,"headers":{{"Content-Type":"text/html","Server":"nginx"}}}},"t":0.3{r}}}],"control":{{"dns":{{"addrs":["93.184.216.34"],"failure":null}},"http_request":{{"body_length":{len},"failure":null,"status_code":200,"title":"Site {domain_no}"}},"tcp_connect":{{"93.184.216.34:443":{{"failure":null,"status":true}}}}}},"blocking":{blocking},"accessible":{accessible}}},"test_name":"web_connectivity","test_runtime":0.{r}5,"test_start_time":"{ts}","test_version":"0.4.3"}}"#,
        ts = when
            .format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]"
            ))
            .unwrap_or_default(),
        r = h % 97,
        h16 = h % 100_000,
        body = "lorem ipsum dolor sit amet ".repeat(8 + (h % 8) as usize),
        len = 1000 + h % 5000,
        blocking = match layer {
            Some("dns") => "\"dns\"",
            Some(_) => "\"http-failure\"",
            None => "false",
        },
        accessible = outcome == Outcome::Ok,
    );
    NewMeasurement {
        id: uid,
        report_id: Some(format!(
            "20240601T000000Z_webconnectivity_KH_{asn}_n1_{h:x}"
        )),
        test_name: "web_connectivity".into(),
        test_version: Some("0.4.3".into()),
        input: Some(format!("https://{domain}/")),
        domain: Some(domain),
        probe_cc: "KH".into(),
        probe_asn: asn,
        probe_network_name: Some(format!("Network {asn}")),
        resolver_asn: Some(asn),
        measurement_start_time: when,
        software_name: Some("canary".into()),
        software_version: Some("0.1.0".into()),
        category_code: Some(CATEGORIES[(domain_no % 6) as usize].into()),
        raw_json: raw.into_bytes(),
        verdict: StoredVerdict {
            rules_version: "1".into(),
            blocking: match layer {
                Some("dns") => Some(Blocking::Dns),
                Some(_) => Some(Blocking::HttpFailure),
                None => Some(Blocking::NotBlocked),
            },
            accessible: Some(outcome == Outcome::Ok),
            outcome,
            layer: layer.map(str::to_owned),
            kind: kind.map(str::to_owned),
            confirmed: layer == Some("dns") && roll.is_multiple_of(2),
            fingerprint: (layer == Some("dns")).then(|| "dns_kh_viettel".to_owned()),
            explanation: format!("Synthetic verdict: {outcome}."),
            rules_fired: vec![format!("synthetic.{outcome}")],
        },
    }
}

/// CPU time (user + system) this process has used so far, from
/// `/proc/self/stat` (Linux; clock ticks of 1/100 s), or `None`.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_comm = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    // fields 14 and 15 of the file: utime, stime (here 11 and 12)
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

async fn time_query<F, Fut, T>(name: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, canary_store::StoreError>>,
{
    let repeats = env_u64("CANARY_BENCH_REPEATS", 50).max(1) as usize;
    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let t = Instant::now();
        if let Err(e) = f().await {
            println!("  {name}: ERROR {e}");
            return;
        }
        times.push(t.elapsed());
    }
    times.sort();
    let (p50, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
    println!(
        "  {name:<44} p50 {p50:8.1} ms   p99 {p99:8.1} ms   p99/target {:.2}",
        p99 / P99_TARGET_MS
    );
}

async fn run(store: &Store, n: u64, batch: u64, shuffled: bool) {
    println!(
        "== {} : ingest {n} measurements, {batch} per transaction, {}",
        store.backend_name(),
        if shuffled {
            "random time order"
        } else {
            "in time order"
        }
    );
    let mut in_store = Duration::ZERO;
    let mut cpu_in_store = Duration::ZERO;
    let (mut inserted, mut blocked, mut raw_bytes) = (0u64, 0u64, 0u64);
    let wall = Instant::now();
    let mut i = 0;
    while i < n {
        let end = (i + batch).min(n);
        let rows: Vec<NewMeasurement> = (i..end).map(|k| synthetic(k, n, shuffled)).collect();
        blocked += rows
            .iter()
            .filter(|m| m.verdict.outcome == Outcome::Blocked)
            .count() as u64;
        raw_bytes += rows.iter().map(|m| m.raw_json.len() as u64).sum::<u64>();
        let t = Instant::now();
        let cpu_before = cpu_time();
        match store.insert_batch(&rows).await {
            Ok(r) => inserted += r.inserted,
            Err(e) => {
                println!("  insert failed: {e}");
                return;
            }
        }
        in_store += t.elapsed();
        if let (Some(a), Some(b)) = (cpu_before, cpu_time()) {
            cpu_in_store += b.saturating_sub(a);
        }
        i = end;
        if i % (n / 10).max(batch) < batch {
            println!(
                "  {i:>10} stored, {:>8.0}/s so far",
                i as f64 / in_store.as_secs_f64()
            );
        }
    }
    let rate = inserted as f64 / in_store.as_secs_f64();
    println!(
        "  inserted {inserted} ({:.1}% blocked, avg raw {} B) in {:.1} s in the store ({:.1} s wall incl. generation)",
        100.0 * blocked as f64 / n as f64,
        raw_bytes / n.max(1),
        in_store.as_secs_f64(),
        wall.elapsed().as_secs_f64()
    );
    println!(
        "  INGEST {}: {rate:.0} measurements/s  (target {INGEST_TARGET:.0}/s, ratio {:.2})",
        store.backend_name(),
        rate / INGEST_TARGET
    );
    if !cpu_in_store.is_zero() {
        println!(
            "  this process used {:.1} CPU-s while storing ({:.0} measurements per CPU-second); \
             a shared machine may give it less than a core (PostgreSQL's own CPU is not counted)",
            cpu_in_store.as_secs_f64(),
            inserted as f64 / cpu_in_store.as_secs_f64()
        );
    }
    let again: Vec<NewMeasurement> = (0..batch.min(n))
        .map(|k| synthetic(k, n, shuffled))
        .collect();
    let t = Instant::now();
    if let Ok(r) = store.insert_batch(&again).await {
        println!(
            "  re-import of {} known measurements: {} inserted, {} duplicates, {:.0}/s",
            again.len(),
            r.inserted,
            r.duplicates,
            again.len() as f64 / t.elapsed().as_secs_f64()
        );
    }

    let t = Instant::now();
    match store.optimize().await {
        Ok(()) => println!(
            "  optimize (statistics) after import: {:.1} s",
            t.elapsed().as_secs_f64()
        ),
        Err(e) => println!("  optimize failed: {e}"),
    }
    time_queries(store).await;
}

/// The country page's queries over whatever `store` holds (the synthetic
/// data's window: 90 days from `START`).
async fn time_queries(store: &Store) {
    println!(
        "  country page over {} stored, {} runs each:",
        store.count().await.unwrap_or(0),
        env_u64("CANARY_BENCH_REPEATS", 50)
    );
    let all = Filters::default();
    let end = OffsetDateTime::from_unix_timestamp(START + (DAYS * 86_400) as i64)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    // "the last 30 days" as the UI asks it: from a start, up to now
    let last30 = Filters {
        from: Some(end - time::Duration::days(30)),
        ..Filters::default()
    };
    // a past window: an end bound takes the per-pair index path
    let past = Filters {
        from: Some(end - time::Duration::days(60)),
        to: Some(end - time::Duration::days(30)),
        ..Filters::default()
    };
    let one_isp = Filters {
        asn: Some(ASNS[0]),
        ..Filters::default()
    };
    match store.blocked_now("KH", &all).await {
        Ok(b) => println!("  (blocked now: {} (domain, network) pairs)", b.len()),
        Err(e) => println!("  blocked_now failed: {e}"),
    }
    time_query("blocked_now(KH, all time)", || {
        store.blocked_now("KH", &all)
    })
    .await;
    time_query("blocked_now(KH, last 30 days)", || {
        store.blocked_now("KH", &last30)
    })
    .await;
    time_query("blocked_now(KH, one ISP)", || {
        store.blocked_now("KH", &one_isp)
    })
    .await;
    time_query("blocked_now(KH, past 30-day window)", || {
        store.blocked_now("KH", &past)
    })
    .await;
    time_query("blocked_share_series(KH, all time)", || {
        store.blocked_share_series("KH", &all)
    })
    .await;
    time_query("blocked_share_series(KH, last 30 days)", || {
        store.blocked_share_series("KH", &last30)
    })
    .await;
    time_query("country_summary(KH, all time)", || {
        store.country_summary("KH", &all)
    })
    .await;
    time_query("country_summary(KH, last 30 days)", || {
        store.country_summary("KH", &last30)
    })
    .await;
    time_query("country_summary(KH, past 30-day window)", || {
        store.country_summary("KH", &past)
    })
    .await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if let Ok(url) = std::env::var("CANARY_BENCH_REUSE") {
        // only the queries, over a database kept by an earlier run
        match Store::open(&url).await {
            Ok(store) => {
                println!("== {} : queries over {url}", store.backend_name());
                time_queries(&store).await;
            }
            Err(e) => println!("cannot open {url}: {e}"),
        }
        return;
    }
    let n = env_u64("CANARY_BENCH_N", 1_000_000);
    let batch = env_u64("CANARY_BENCH_BATCH", 10_000).max(1);
    let shuffled = std::env::var("CANARY_BENCH_SHUFFLED").is_ok();
    let backends =
        std::env::var("CANARY_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    if backends.contains("sqlite") {
        let dir = match std::env::var("CANARY_BENCH_DIR") {
            Ok(d) => tempfile::tempdir_in(d),
            Err(_) => tempfile::tempdir(),
        };
        let dir = match dir {
            Ok(d) => d,
            Err(e) => {
                println!("cannot create a temp dir: {e}");
                return;
            }
        };
        let path = dir.path().join("bench.db");
        match Store::open(&path.display().to_string()).await {
            Ok(store) => {
                run(&store, n, batch, shuffled).await;
                store.close().await;
                let size: u64 = std::fs::read_dir(dir.path())
                    .map(|d| {
                        d.flatten()
                            .filter_map(|e| e.metadata().ok())
                            .map(|m| m.len())
                            .sum()
                    })
                    .unwrap_or(0);
                println!("  SQLite files: {:.0} MB", size as f64 / 1e6);
                if std::env::var("CANARY_BENCH_KEEP").is_ok() {
                    println!("  kept: {}", dir.keep().join("bench.db").display());
                }
            }
            Err(e) => println!("cannot open SQLite: {e}"),
        }
    }
    if backends.contains("postgres") {
        let Ok(admin) = std::env::var("CANARY_TEST_POSTGRES_URL") else {
            println!("skipping PostgreSQL: CANARY_TEST_POSTGRES_URL not set");
            return;
        };
        let name = format!("canary_bench_{}", std::process::id());
        let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await else {
            println!("cannot connect to {admin}");
            return;
        };
        if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
        {
            println!("cannot create the bench database: {e}");
            return;
        }
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        match Store::open(&format!("{base}/{name}")).await {
            Ok(store) => {
                run(&store, n, batch, shuffled).await;
                store.close().await;
            }
            Err(e) => println!("cannot open PostgreSQL: {e}"),
        }
        if std::env::var("CANARY_BENCH_KEEP").is_err() {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await;
        }
    }
}
