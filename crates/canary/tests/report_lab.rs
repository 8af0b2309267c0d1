//! A report over real probe-vs-lab data: `canary helper` and `canary probe`
//! measure lab scenarios (blocked by DNS, TCP, TLS and a blockpage; open
//! sites too) from two networks, `canary import` stores the measurements,
//! the Cambodia registry is kept in the same database, and `canary report`
//! writes the report in English and Khmer (and as PDF with the `pdf`
//! feature). Every figure must equal the store's (or the registry's) own
//! answer to the same question, and every blocked lab site must be listed
//! on both networks with the layer and kind the lab's table expects.

mod common;
#[path = "../../report/tests/common/figures.rs"]
mod figures;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

use canary_lab::{Lab, Scenario};
use canary_registry::{FieldKey, KeyRing};
use canary_report::{Lang, ReportOptions};
use serde_json::Value;
use time::{Date, Duration, OffsetDateTime};

/// The lab rows measured: one per blocking layer (DNS twice: a plain
/// NXDOMAIN and the censor's blockpage address), and open sites.
const ROWS: &[&str] = &[
    "ok_http",
    "ok_https",
    "dns_nxdomain",
    "dns_blockpage_ip",
    "tcp_blackhole",
    "tls_sni_reset",
    "http_blockpage",
];

/// How a blocked site is listed: layer, kind, confirmed.
type Listed = (Option<String>, Option<String>, bool);

/// The two networks the probe claims to measure from.
const NETWORKS: &[&str] = &["AS38623", "AS131178"];

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn host(row: &Scenario) -> String {
    row.host.clone()
}

/// The lab's expected Canary label of a row: (outcome, layer, kind).
fn expected_label(row: &Scenario) -> (String, Option<String>, Option<String>) {
    let e = serde_json::to_value(row.expect).expect("serialisable");
    let s = |v: &Value| v.as_str().map(str::to_owned);
    (
        s(&e["outcome"]).expect("an outcome"),
        s(&e["layer"]),
        s(&e["kind"]),
    )
}

fn canary(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_canary"))
        .args(args)
        .output()
        .expect("canary runs")
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Measures the rows from each network and stores them in `db`.
fn measure_and_import(lab: &Lab, dir: &Path, db: &str) {
    let helper = common::start_helper(lab);
    let urls: Vec<String> = ROWS
        .iter()
        .map(|r| lab.scenario(r).expect("a lab row").url.clone())
        .collect();
    let mut files = Vec::new();
    for asn in NETWORKS {
        let out = dir.join(format!("{asn}.jsonl"));
        let run = common::probe_command(lab, &helper)
            .args(["--probe-cc", "KH", "--probe-asn", asn])
            .args(["--output", out.to_str().expect("utf-8")])
            .args(&urls)
            .output()
            .expect("probe runs");
        ok(&run, "probe");
        assert_eq!(common::json_lines(&out).len(), ROWS.len(), "{asn}");
        files.push(out.to_str().expect("utf-8").to_owned());
    }
    let fingerprints = lab.fingerprints_path();
    let mut import = vec![
        "import",
        "--database",
        db,
        "--fingerprints",
        fingerprints.to_str().expect("utf-8"),
        "--routable",
        lab.routable_cidr(),
    ];
    import.extend(files.iter().map(String::as_str));
    ok(&canary(&import), "import");
}

fn day(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[test]
fn a_report_over_lab_measurements_states_exactly_what_the_store_holds() {
    let lab = Lab::start().expect("lab starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir
        .path()
        .join("canary.db")
        .to_str()
        .expect("utf-8")
        .to_owned();
    measure_and_import(&lab, dir.path(), &db);
    let rt = runtime();
    let store = rt.block_on(async {
        let store = canary_store::Store::open(&db).await.expect("store");
        let ring = KeyRing::new(FieldKey::generate(1).expect("key"));
        let mut seed = canary_registry::seed::kh();
        seed.seal_all(&ring).expect("sealed");
        store
            .registry_import(&seed, "seed", canary_registry::seed::SEED_AT)
            .await
            .expect("registry stored");
        store
    });
    let registry = rt.block_on(store.registry_load()).expect("registry");

    // The measurements were made just now: the period is yesterday and today (UTC).
    let to = OffsetDateTime::now_utc().date();
    let from = to - Duration::days(1);
    for (code, lang) in [("en", Lang::En), ("km", Lang::Km)] {
        let out = canary(&[
            "report",
            "--country",
            "KH",
            "--from",
            &day(from),
            "--to",
            &day(to),
            "--lang",
            code,
            "--database",
            &db,
        ]);
        ok(&out, "report");
        let html = String::from_utf8(out.stdout).expect("utf-8");
        let mut o = ReportOptions::new("KH", from, to);
        o.lang = lang;

        // Every figure shown is the store's (or registry's) direct answer.
        let shown = figures::html_figures(&html);
        assert!(shown.len() >= 15, "{code}: {} figures", shown.len());
        for (key, value) in &shown {
            let want = rt.block_on(figures::expected(&store, &registry, &o, key));
            assert_eq!(*value, want, "{code}: figure {key}");
        }
        let fig: BTreeMap<&str, u64> = shown.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        // What the lab did, seen through the report.
        let blocked_rows: Vec<&Scenario> = ROWS
            .iter()
            .map(|r| lab.scenario(r).expect("row"))
            .filter(|r| expected_label(r).0 == "blocked")
            .collect();
        assert_eq!(
            blocked_rows.len(),
            5,
            "the rows chosen: five blocked, two open"
        );
        assert_eq!(fig["summary.sites_tested"], ROWS.len() as u64);
        assert_eq!(fig["summary.sites_blocked"], blocked_rows.len() as u64);
        assert_eq!(fig["summary.networks_measured"], NETWORKS.len() as u64);
        assert_eq!(fig["summary.networks_blocking"], NETWORKS.len() as u64);
        assert_eq!(
            fig["summary.measurements"],
            (ROWS.len() * NETWORKS.len()) as u64
        );

        // The report's data: the same bytes as the CLI wrote, and every
        // blocked lab site on both networks with the lab's layer and kind.
        let data = rt
            .block_on(canary_report::gather(&store, &registry, &o))
            .expect("gather");
        assert!(
            html == canary_report::render_html(&data, &o),
            "{code}: the CLI's report is the library's"
        );
        let listed: BTreeMap<(String, u32), Listed> = data
            .websites
            .blocked
            .iter()
            .map(|b| {
                (
                    (b.domain.clone(), b.asn),
                    (b.layer.clone(), b.kind.clone(), b.confirmed),
                )
            })
            .collect();
        let mut want = BTreeMap::new();
        for row in &blocked_rows {
            let (_, layer, kind) = expected_label(row);
            for asn in NETWORKS {
                let asn: u32 = asn[2..].parse().expect("ASN");
                // the lab's fingerprints recognise its blockpage (by DNS
                // answer and by body), nothing else
                let confirmed = matches!(row.name.as_str(), "dns_blockpage_ip" | "http_blockpage");
                want.insert((host(row), asn), (layer.clone(), kind.clone(), confirmed));
            }
        }
        assert_eq!(listed, want, "{code}: the blocked list is the lab's");
        for row in &blocked_rows {
            assert!(html.contains(&host(row)), "{code}: {} listed", row.name);
        }
        let open: BTreeSet<String> = ROWS
            .iter()
            .map(|r| lab.scenario(r).expect("row"))
            .filter(|r| expected_label(r).0 == "ok")
            .map(host)
            .collect();
        assert_eq!(open.len(), 2);
        assert!(data
            .websites
            .blocked
            .iter()
            .all(|b| !open.contains(&b.domain)));
        // every blocked measurement behind the list is in the appendix
        for b in &data.websites.blocked {
            assert!(
                html.contains(&b.measurement_id),
                "{code}: {}",
                b.measurement_id
            );
        }
        if lang == Lang::Km {
            let khmer = html
                .chars()
                .filter(|c| ('\u{1780}'..='\u{17FF}').contains(c))
                .count();
            assert!(khmer > 100, "the Khmer report is in Khmer");
        }
    }

    #[cfg(feature = "pdf")]
    for code in ["en", "km"] {
        let path = dir.path().join(format!("lab-{code}.pdf"));
        let out = canary(&[
            "report",
            "--country",
            "KH",
            "--from",
            &day(from),
            "--to",
            &day(to),
            "--lang",
            code,
            "--format",
            "pdf",
            "--output",
            path.to_str().expect("utf-8"),
            "--database",
            &db,
        ]);
        ok(&out, "PDF report");
        let bytes = std::fs::read(&path).expect("PDF written");
        assert!(bytes.starts_with(b"%PDF-"), "{code}: a PDF");
    }
    rt.block_on(store.close());
}
