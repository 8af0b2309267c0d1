//! The CUSUM detector on a real OONI series: womenonwaves.org measured from
//! Brazil, Nov 2018 – Sep 2019 (911 web_connectivity measurements, 535
//! anomalies), from ooni/backend's detector test data. The file lives outside
//! the repository (`<repo>/../shared/data`); the test skips when it is absent.

use std::collections::BTreeMap;
use std::path::PathBuf;

use canary_analysis::events::{detect_events, HourPoint, SeriesState};

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// "YYYY-MM-DD hh:mm:ss" → hours since the epoch.
fn unix_hour(ts: &str) -> i64 {
    let n = |a: usize, b: usize| ts[a..b].parse::<i64>().unwrap();
    days_from_civil(n(0, 4), n(5, 7), n(8, 10)) * 24 + n(11, 13)
}

fn hour_to_date(h: i64) -> String {
    // Inverse of days_from_civil, for readable assertions.
    let z = h.div_euclid(24) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}h", h.rem_euclid(24))
}

fn load() -> Option<Vec<HourPoint>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(
        "../../../shared/data/ooni-samples/backend-fastpath-tests/detector_query_ww_BR_2018.json",
    );
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipping: {} not found", path.display());
        return None;
    };
    let rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(rows.len(), 911);
    // Hour → (anomalies, measurements, ids). `anomaly` is true for 535 rows,
    // false for 17 and null for 359; null rows come from months with no
    // blocking at all and are OONI's "no anomaly", so only `true` counts.
    let mut hours: BTreeMap<i64, (u32, u32, Vec<String>)> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        let ts = r["measurement_start_time"].as_str().unwrap();
        let e = hours.entry(unix_hour(ts)).or_default();
        e.0 += u32::from(r["anomaly"] == serde_json::Value::Bool(true));
        e.1 += 1;
        e.2.push(format!("row{i}@{ts}"));
    }
    Some(
        hours
            .into_iter()
            .map(|(h, (a, n, ids))| HourPoint {
                hour: h,
                blocked: f64::from(a) / f64::from(n),
                measurement_ids: ids,
            })
            .collect(),
    )
}

/// What the detector finds, and why it is right:
///
/// * Nov 2018 – Feb 2019: the site is reachable. Some hours are anomalous,
///   but an isolated anomaly adds 0.65 to the upward sum and each clean hour
///   removes 0.35, so the sum never nears the threshold of 7: no event.
///   The series is sparse (one to three measurements a day) and every gap
///   over 24 h decays the sums, while each anomaly pulls the "ok" sum down
///   by 0.65: the detector never gathers 7 worth of evidence of "ok" either,
///   and stays in the *unknown* state until March.
/// * From 2019-03-05 20h anomalies dominate (68% of the hours from then on).
///   The upward sum crosses 7 a week later, on 2019-03-12 13h, and the
///   change-time estimate dates the onset to the first hour of that run of
///   evidence: 2019-03-05 20h. Because the first state the detector could
///   establish is "blocked", OONI's detector would stay silent here; Canary
///   reports the event, flagged `from_unknown_state`.
/// * Until the data ends (2019-09-27) there is never a clean stretch long
///   enough to clear it: each blocked hour takes 0.65 from the recovery sum
///   while a clean hour adds only 0.35, so the short clean runs of late June
///   2019 do not reach 7. The event is still ongoing at the end.
#[test]
fn womenonwaves_in_brazil_2018_2019() {
    let Some(points) = load() else { return };
    assert_eq!(points.len(), 817, "hours with at least one measurement");
    let before_march: Vec<&HourPoint> = points
        .iter()
        .filter(|p| p.hour < unix_hour("2019-03-01 00:00:00"))
        .collect();
    let sporadic = before_march.iter().filter(|p| p.blocked > 0.0).count();
    assert!(
        sporadic > 10,
        "the quiet months do contain isolated anomalies ({sporadic} hours)"
    );

    let d = detect_events(&points).unwrap();
    assert_eq!(
        d.events.len(),
        1,
        "{:?}",
        d.events
            .iter()
            .map(|e| hour_to_date(e.start_hour))
            .collect::<Vec<_>>()
    );
    let e = &d.events[0];
    assert_eq!(hour_to_date(e.start_hour), "2019-03-05 20h");
    assert_eq!(hour_to_date(e.detected_hour), "2019-03-12 13h");
    assert!(
        e.from_unknown_state,
        "blocking was the first state the detector could establish"
    );
    let quiet: Vec<HourPoint> = before_march.iter().map(|p| (*p).clone()).collect();
    let q = detect_events(&quiet).unwrap();
    assert!(q.events.is_empty());
    assert_eq!(
        q.final_state,
        SeriesState::Unknown,
        "the quiet months never proved 'ok'"
    );
    assert_eq!(e.end_hour, None, "still blocked when the data ends");
    assert_eq!(d.final_state, SeriesState::Blocked);
    assert!(
        (0.6..0.75).contains(&e.confidence),
        "confidence {}",
        e.confidence
    );
    assert_eq!(e.hours_with_data, 657);
    assert_eq!(
        e.measurement_ids.len(),
        741,
        "every measurement from the onset on"
    );
    assert!(
        e.measurement_ids[0].ends_with("@2019-03-05 20:58:46")
            || e.measurement_ids[0].contains("2019-03-05 20:")
    );
}
