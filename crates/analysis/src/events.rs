//! Blocking events: when did blocking start, and when did it end?
//!
//! Single measurements are noisy: a flaky network or a busy server looks
//! like blocking once in a while. An *event* is a sustained change, found by
//! a two-sided, state-aware CUSUM detector like the one of OONI's pipeline v5
//! (`oonipipeline/analysis/detector.py`, after Basseville & Nikiforov 1993,
//! §2.2.5). It runs over one series — one (country, network, domain, layer)
//! — of hourly "blocked" scores in `[0, 1]` (e.g. the share of that hour's
//! measurements judged blocked):
//!
//! * reference means μ0 = 0 (accessible) and μ1 = 0.7 (blocked), so the drift
//!   per step is `v/2 = 0.35` with `v = μ1 − μ0`, and the alarm threshold is
//!   `h = EDD·v/2 = 20·0.7/2 = 7`;
//! * in state *ok* only the upward sum runs: `s⁺ = max(0, s⁺ + y − μ0 − v/2)`;
//!   when it passes `h`, blocking has started. In state *blocked* only the
//!   downward sum runs: `s⁻ = max(0, s⁻ − (y − μ1) − v/2)`; when it passes
//!   `h`, blocking has ended. Before any state is known both run, and the
//!   first crossing sets the state;
//! * when a series goes silent for more than 24 h, both sums decay with a
//!   48 h half-life before the next point, so stale evidence fades.
//!
//! Unlike OONI's detector, which stays silent when the *first* state it
//! learns is "blocked", Canary reports that as an event too (flagged
//! [`BlockingEvent::from_unknown_state`]): for a newly monitored network, or
//! a sparsely measured one that never gathered enough evidence of being
//! accessible, "blocked since we could tell" is exactly what a report needs.
//!
//! An event's `start` is the CUSUM change-time estimate — the first hour of
//! the run of evidence that crossed the threshold, not the (later) hour the
//! alarm fired (`detected`). Its `end` is estimated the same way from the
//! recovery run, and is `None` while the event is ongoing.
//!
//! ```
//! use canary_analysis::events::{detect_events, HourPoint};
//!
//! // 30 quiet hours, then 30 blocked hours.
//! let points: Vec<HourPoint> = (0..60)
//!     .map(|h| HourPoint::new(h, if h < 30 { 0.0 } else { 1.0 }, [format!("m{h}")]))
//!     .collect();
//! let found = detect_events(&points).unwrap();
//! assert_eq!(found.events.len(), 1);
//! assert_eq!(found.events[0].start_hour, 30);
//! assert_eq!(found.events[0].end_hour, None); // still blocked
//! ```

use serde::{Deserialize, Serialize};

use crate::{AnalysisError, RULES_VERSION};

/// One hour of one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HourPoint {
    /// Hours since the Unix epoch (`unix_seconds / 3600`).
    pub hour: i64,
    /// Blocked score in `[0, 1]` for that hour.
    pub blocked: f64,
    /// Ids of the measurements behind the score. A point with no ids carries
    /// no evidence and is skipped (like OONI's weight-0 observations).
    pub measurement_ids: Vec<String>,
}

impl HourPoint {
    /// Convenience constructor.
    pub fn new<I, S>(hour: i64, blocked: f64, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        HourPoint {
            hour,
            blocked,
            measurement_ids: ids.into_iter().map(Into::into).collect(),
        }
    }
}

/// Detector parameters. [`CusumParams::default`] is OONI's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CusumParams {
    /// Mean score when accessible.
    pub mu0: f64,
    /// Mean score when blocked.
    pub mu1: f64,
    /// Expected detection delay in steps; sets `h = edd·(mu1−mu0)/2`.
    pub edd: f64,
    /// Silence longer than this (hours) triggers decay.
    pub gap_hours: f64,
    /// Half-life of the decay (hours).
    pub half_life_hours: f64,
}

impl Default for CusumParams {
    fn default() -> Self {
        CusumParams {
            mu0: 0.0,
            mu1: 0.7,
            edd: 20.0,
            gap_hours: 24.0,
            half_life_hours: 48.0,
        }
    }
}

impl CusumParams {
    /// `v = mu1 − mu0`.
    pub fn v(&self) -> f64 {
        self.mu1 - self.mu0
    }
    /// Alarm threshold `h = edd·v/2`.
    pub fn h(&self) -> f64 {
        self.edd * self.v() / 2.0
    }
}

/// What the detector believes about a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesState {
    /// Not enough evidence yet.
    Unknown,
    /// Accessible.
    Ok,
    /// Blocked.
    Blocked,
}

/// A sustained period of blocking in one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockingEvent {
    /// Estimated first blocked hour.
    pub start_hour: i64,
    /// Estimated first accessible hour again; `None` while ongoing.
    pub end_hour: Option<i64>,
    /// Hour at which the onset alarm fired.
    pub detected_hour: i64,
    /// Hour at which the recovery alarm fired; `None` while ongoing.
    pub cleared_hour: Option<i64>,
    /// True when blocking was the first state the detector could establish
    /// for the series (it had not yet gathered enough evidence of "ok");
    /// OONI's detector would emit nothing here.
    pub from_unknown_state: bool,
    /// Mean blocked score of the event's hours: 1.0 = every measurement
    /// blocked. A plain, explainable strength of evidence.
    pub confidence: f64,
    /// Number of hours with measurements inside the event.
    pub hours_with_data: usize,
    /// Ids of every measurement inside the event, in time order.
    pub measurement_ids: Vec<String>,
    /// Rule set version.
    pub rules_version: String,
    /// Rules that fired (`cusum_onset`, `cusum_initial_blocked`, `cusum_recovery`).
    pub rule_ids: Vec<String>,
}

/// Detector output for one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// Events in time order; at most the last one is ongoing.
    pub events: Vec<BlockingEvent>,
    /// State after the last point.
    pub final_state: SeriesState,
    /// Upward sum after the last point.
    pub s_pos: f64,
    /// Downward sum after the last point.
    pub s_neg: f64,
}

/// Run the detector with OONI's parameters.
pub fn detect_events(points: &[HourPoint]) -> Result<Detection, AnalysisError> {
    detect_events_with(&CusumParams::default(), points)
}

/// Run the detector over one series. Points must be sorted by strictly
/// increasing `hour` and scores must lie in `[0, 1]`; otherwise an
/// [`AnalysisError::InvalidInput`] names the offending point.
pub fn detect_events_with(
    params: &CusumParams,
    points: &[HourPoint],
) -> Result<Detection, AnalysisError> {
    let valid = |x: f64| x.is_finite();
    if !(valid(params.mu0)
        && valid(params.mu1)
        && params.mu1 > params.mu0
        && params.edd > 0.0
        && params.gap_hours >= 0.0
        && params.half_life_hours > 0.0)
    {
        return Err(AnalysisError::InvalidInput(format!(
            "CUSUM parameters out of range: {params:?}"
        )));
    }
    for (i, p) in points.iter().enumerate() {
        if !(p.blocked.is_finite() && (0.0..=1.0).contains(&p.blocked)) {
            return Err(AnalysisError::InvalidInput(format!(
                "point {i} (hour {}): blocked score {} is not in [0, 1]",
                p.hour, p.blocked
            )));
        }
        if i > 0 && p.hour <= points[i - 1].hour {
            return Err(AnalysisError::InvalidInput(format!(
                "point {i}: hour {} does not follow hour {} (points must be sorted, one per hour)",
                p.hour,
                points[i - 1].hour
            )));
        }
    }

    let v = params.v();
    let h = params.h();
    let mut state = SeriesState::Unknown;
    let (mut s_pos, mut s_neg) = (0.0f64, 0.0f64);
    // Index of the first point of the current run of each sum (where it
    // last left zero): the change-time estimate.
    let (mut pos_run, mut neg_run): (Option<usize>, Option<usize>) = (None, None);
    let mut last_hour: Option<i64> = None;
    // Open event: (index of start point, detected hour, from_first).
    let mut open: Option<(usize, i64, bool)> = None;
    let mut events = Vec::new();

    for (i, p) in points.iter().enumerate() {
        if p.measurement_ids.is_empty() {
            continue;
        }
        if let Some(last) = last_hour {
            let gap = (p.hour - last) as f64;
            if gap > params.gap_hours {
                let decay = 0.5f64.powf(gap / params.half_life_hours);
                s_pos *= decay;
                s_neg *= decay;
            }
        }
        last_hour = Some(p.hour);
        let y = p.blocked;
        let step_pos = |s: f64| (s + (y - params.mu0) - v / 2.0).max(0.0);
        let step_neg = |s: f64| (s - (y - params.mu1) - v / 2.0).max(0.0);
        let track = |run: &mut Option<usize>, before: f64, after: f64| {
            if after <= 0.0 {
                *run = None;
            } else if before <= 0.0 || run.is_none() {
                *run = Some(i);
            }
        };
        match state {
            SeriesState::Unknown => {
                let (np, nn) = (step_pos(s_pos), step_neg(s_neg));
                track(&mut pos_run, s_pos, np);
                track(&mut neg_run, s_neg, nn);
                s_pos = np;
                s_neg = nn;
                if s_pos > h {
                    state = SeriesState::Blocked;
                    open = Some((pos_run.unwrap_or(i), p.hour, true));
                    (s_pos, s_neg, pos_run, neg_run) = (0.0, 0.0, None, None);
                } else if s_neg > h {
                    state = SeriesState::Ok;
                    (s_pos, s_neg, pos_run, neg_run) = (0.0, 0.0, None, None);
                }
            }
            SeriesState::Ok => {
                let np = step_pos(s_pos);
                track(&mut pos_run, s_pos, np);
                s_pos = np;
                s_neg = 0.0;
                if s_pos > h {
                    state = SeriesState::Blocked;
                    open = Some((pos_run.unwrap_or(i), p.hour, false));
                    (s_pos, s_neg, pos_run, neg_run) = (0.0, 0.0, None, None);
                }
            }
            SeriesState::Blocked => {
                let nn = step_neg(s_neg);
                track(&mut neg_run, s_neg, nn);
                s_neg = nn;
                s_pos = 0.0;
                if s_neg > h {
                    state = SeriesState::Ok;
                    let end_idx = neg_run.unwrap_or(i);
                    if let Some((start_idx, detected, first)) = open.take() {
                        events.push(make_event(
                            points,
                            start_idx,
                            Some((end_idx, p.hour)),
                            detected,
                            first,
                        ));
                    }
                    (s_pos, s_neg, pos_run, neg_run) = (0.0, 0.0, None, None);
                }
            }
        }
    }
    if let Some((start_idx, detected, first)) = open {
        events.push(make_event(points, start_idx, None, detected, first));
    }
    Ok(Detection {
        events,
        final_state: state,
        s_pos,
        s_neg,
    })
}

fn make_event(
    points: &[HourPoint],
    start_idx: usize,
    end: Option<(usize, i64)>,
    detected_hour: i64,
    from_first: bool,
) -> BlockingEvent {
    let stop = end.map(|(e, _)| e).unwrap_or(points.len());
    let inside: Vec<&HourPoint> = points[start_idx..stop.max(start_idx)]
        .iter()
        .filter(|p| !p.measurement_ids.is_empty())
        .collect();
    let confidence = if inside.is_empty() {
        0.0
    } else {
        inside.iter().map(|p| p.blocked).sum::<f64>() / inside.len() as f64
    };
    let mut rule_ids = vec![if from_first {
        "cusum_initial_blocked".to_string()
    } else {
        "cusum_onset".to_string()
    }];
    if end.is_some() {
        rule_ids.push("cusum_recovery".to_string());
    }
    BlockingEvent {
        start_hour: points[start_idx].hour,
        end_hour: end.map(|(e, _)| points[e].hour),
        detected_hour,
        cleared_hour: end.map(|(_, c)| c),
        from_unknown_state: from_first,
        confidence,
        hours_with_data: inside.len(),
        measurement_ids: inside
            .iter()
            .flat_map(|p| p.measurement_ids.iter().cloned())
            .collect(),
        rules_version: RULES_VERSION.to_string(),
        rule_ids,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn series(spec: &[(i64, f64)]) -> Vec<HourPoint> {
        spec.iter()
            .map(|&(h, b)| HourPoint::new(h, b, [format!("m{h}")]))
            .collect()
    }

    fn run(values: &[f64]) -> Vec<HourPoint> {
        series(
            &values
                .iter()
                .enumerate()
                .map(|(i, &b)| (i as i64, b))
                .collect::<Vec<_>>(),
        )
    }

    fn repeat(v: f64, n: usize) -> Vec<f64> {
        vec![v; n]
    }

    #[test]
    fn the_threshold_is_seven_and_the_drift_is_0_35() {
        let p = CusumParams::default();
        assert!((p.h() - 7.0).abs() < 1e-12);
        assert!((p.v() / 2.0 - 0.35).abs() < 1e-12);
    }

    #[test]
    fn onset_after_a_quiet_period_is_dated_to_its_first_blocked_hour() {
        let values = [repeat(0.0, 30), repeat(1.0, 30)].concat();
        let d = detect_events(&run(&values)).unwrap();
        assert_eq!(d.events.len(), 1);
        let e = &d.events[0];
        assert_eq!(e.start_hour, 30);
        // 0.65 per blocked hour: the sum passes 7 on the 11th blocked hour.
        assert_eq!(e.detected_hour, 40);
        assert_eq!(e.end_hour, None);
        assert!(!e.from_unknown_state);
        assert_eq!(e.rule_ids, ["cusum_onset"]);
        assert_eq!(e.hours_with_data, 30);
        assert_eq!(e.measurement_ids.first().map(String::as_str), Some("m30"));
        assert!((e.confidence - 1.0).abs() < 1e-12);
        assert_eq!(d.final_state, SeriesState::Blocked);
    }

    #[test]
    fn recovery_closes_the_event_at_its_first_accessible_hour() {
        let values = [repeat(0.0, 30), repeat(1.0, 40), repeat(0.0, 40)].concat();
        let d = detect_events(&run(&values)).unwrap();
        assert_eq!(d.events.len(), 1);
        let e = &d.events[0];
        assert_eq!((e.start_hour, e.end_hour), (30, Some(70)));
        // 0.35 per accessible hour: in IEEE doubles twenty steps sum to
        // 7.000000000000002 > 7, so the alarm fires on the 20th accessible
        // hour — exactly as in OONI's Python detector.
        assert_eq!(e.cleared_hour, Some(89));
        assert_eq!(e.hours_with_data, 40);
        assert_eq!(e.rule_ids, ["cusum_onset", "cusum_recovery"]);
        assert_eq!(d.final_state, SeriesState::Ok);
    }

    #[test]
    fn blocked_from_the_first_observation_is_an_event_too() {
        let d = detect_events(&run(&repeat(1.0, 50))).unwrap();
        assert_eq!(d.events.len(), 1);
        assert!(d.events[0].from_unknown_state);
        assert_eq!(d.events[0].start_hour, 0);
        assert_eq!(d.events[0].rule_ids, ["cusum_initial_blocked"]);
    }

    #[test]
    fn isolated_failures_in_a_healthy_series_are_not_events() {
        // One blocked hour in every four: mean 0.25 < drift 0.35.
        let values: Vec<f64> = (0..500)
            .map(|i| if i % 4 == 0 { 1.0 } else { 0.0 })
            .collect();
        let d = detect_events(&run(&values)).unwrap();
        assert!(d.events.is_empty(), "{:?}", d.events);
        assert_eq!(d.final_state, SeriesState::Ok);
    }

    #[test]
    fn flapping_yields_separate_events_only_for_sustained_periods() {
        // Quiet, blocked 30 h, quiet 40 h, blocked 30 h, quiet 40 h.
        let values = [
            repeat(0.0, 30),
            repeat(1.0, 30),
            repeat(0.0, 40),
            repeat(1.0, 30),
            repeat(0.0, 40),
        ]
        .concat();
        let d = detect_events(&run(&values)).unwrap();
        let spans: Vec<(i64, Option<i64>)> = d
            .events
            .iter()
            .map(|e| (e.start_hour, e.end_hour))
            .collect();
        assert_eq!(spans, [(30, Some(60)), (100, Some(130))]);
        // Rapid flapping (2 h on, 2 h off: mean 0.5) inside a blocked period keeps it open.
        let values = [
            repeat(0.0, 30),
            repeat(1.0, 20),
            [1.0, 1.0, 0.0, 0.0].repeat(20),
        ]
        .concat();
        let d = detect_events(&run(&values)).unwrap();
        assert_eq!(d.events.len(), 1);
        assert_eq!(d.events[0].end_hour, None);
    }

    #[test]
    fn a_long_silence_makes_old_evidence_fade() {
        // Quiet, then 8 blocked hours (sum 5.2 < 7), then a 10-day gap, then
        // 4 blocked hours. Without decay 5.2 + 2.6 = 7.8 would fire; with the
        // 48 h half-life the old 5.2 is worth 5.2·2^-5 ≈ 0.16, so no event yet.
        let mut spec: Vec<(i64, f64)> = (0..30).map(|h| (h, 0.0)).collect();
        spec.extend((30..38).map(|h| (h, 1.0)));
        spec.extend((278..282).map(|h| (h, 1.0)));
        let d = detect_events(&series(&spec)).unwrap();
        assert!(d.events.is_empty(), "{:?}", d.events);
        // The same without the gap fires.
        let mut spec: Vec<(i64, f64)> = (0..30).map(|h| (h, 0.0)).collect();
        spec.extend((30..42).map(|h| (h, 1.0)));
        assert_eq!(detect_events(&series(&spec)).unwrap().events.len(), 1);
    }

    #[test]
    fn sparse_data_within_a_day_is_not_decayed() {
        // One measurement every 6 hours: gaps below 24 h keep full weight.
        let mut spec: Vec<(i64, f64)> = (0..30).map(|i| (i * 6, 0.0)).collect();
        spec.extend((30..45).map(|i| (i * 6, 1.0)));
        let d = detect_events(&series(&spec)).unwrap();
        assert_eq!(d.events.len(), 1);
        assert_eq!(d.events[0].start_hour, 180);
    }

    #[test]
    fn points_without_measurements_carry_no_evidence() {
        let mut pts = run(&[repeat(0.0, 30), repeat(1.0, 30)].concat());
        for p in pts.iter_mut().skip(30) {
            p.measurement_ids.clear();
        }
        assert!(detect_events(&pts).unwrap().events.is_empty());
    }

    #[test]
    fn invalid_series_are_rejected_with_the_offending_point() {
        let cases: &[(&str, Vec<HourPoint>, &str)] = &[
            ("score above one", series(&[(0, 0.0), (1, 1.5)]), "point 1"),
            ("NaN score", series(&[(0, f64::NAN)]), "point 0"),
            ("unsorted", series(&[(5, 0.0), (4, 0.0)]), "does not follow"),
            (
                "duplicate hour",
                series(&[(5, 0.0), (5, 0.0)]),
                "does not follow",
            ),
        ];
        for (what, pts, needle) in cases {
            let err = detect_events(pts).unwrap_err().to_string();
            assert!(err.contains(needle), "{what}: {err}");
        }
    }

    proptest! {
        #[test]
        fn an_all_zero_series_has_no_event(n in 0usize..400, step in 1i64..72) {
            let pts = series(&(0..n as i64).map(|i| (i * step, 0.0)).collect::<Vec<_>>());
            prop_assert!(detect_events(&pts).unwrap().events.is_empty());
        }

        #[test]
        fn a_long_all_one_series_has_exactly_one_ongoing_event(n in 12usize..400) {
            let d = detect_events(&run(&repeat(1.0, n))).unwrap();
            prop_assert_eq!(d.events.len(), 1);
            prop_assert_eq!(d.events[0].end_hour, None);
            prop_assert_eq!(d.events[0].start_hour, 0);
        }

        #[test]
        fn events_are_ordered_disjoint_and_cover_only_their_measurements(
            values in proptest::collection::vec(prop_oneof![Just(0.0), Just(1.0), 0.0f64..=1.0], 0..300)
        ) {
            let d = detect_events(&run(&values)).unwrap();
            let mut prev_end = i64::MIN;
            for (k, e) in d.events.iter().enumerate() {
                prop_assert!(e.start_hour >= prev_end);
                prop_assert!(e.detected_hour >= e.start_hour);
                prop_assert!((0.0..=1.0).contains(&e.confidence));
                match e.end_hour {
                    Some(end) => { prop_assert!(end > e.start_hour); prev_end = end; }
                    None => prop_assert_eq!(k, d.events.len() - 1),
                }
                for id in &e.measurement_ids {
                    let h: i64 = id[1..].parse().unwrap();
                    prop_assert!(h >= e.start_hour && e.end_hour.is_none_or(|end| h < end));
                }
            }
        }

        #[test]
        fn the_detector_is_deterministic(values in proptest::collection::vec(0.0f64..=1.0, 0..200)) {
            let pts = run(&values);
            prop_assert_eq!(detect_events(&pts).unwrap(), detect_events(&pts).unwrap());
        }
    }
}
