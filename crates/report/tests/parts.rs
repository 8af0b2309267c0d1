//! Specification of the parts: the en/km catalog, chart geometry, query
//! links and escaping.

use std::collections::BTreeSet;

use canary_report::i18n::{t, T};
use canary_report::*;

fn placeholders(s: &str) -> BTreeSet<String> {
    s.split('{')
        .skip(1)
        .filter_map(|p| p.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

#[test]
fn every_catalog_entry_exists_in_both_languages_with_the_same_placeholders() {
    for &key in T::ALL {
        let (en, km) = (t(Lang::En, key), t(Lang::Km, key));
        assert!(!en.is_empty() && !km.is_empty(), "{key:?}");
        assert_eq!(placeholders(en), placeholders(km), "{key:?}: placeholders");
        assert!(has_khmer(km), "{key:?}: the Khmer text is Khmer: {km:?}");
        assert!(!has_khmer(en), "{key:?}: the English text is not Khmer");
    }
}

#[test]
fn chart_axes_have_readable_ticks() {
    let cases: &[(&str, bool, &[f64], &[&str])] = &[
        (
            "small counts step by whole numbers",
            false,
            &[1.0, 3.0, 2.0],
            &["0", "1", "2", "3", "4"],
        ),
        (
            "counts of 5 round up to 8",
            false,
            &[5.0],
            &["0", "2", "4", "6", "8"],
        ),
        (
            "large counts",
            false,
            &[1092.0],
            &["0", "500", "1000", "1500", "2000"],
        ),
        (
            "percentages stop at 100",
            true,
            &[97.0],
            &["0%", "25%", "50%", "75%", "100%"],
        ),
        (
            "small percentages",
            true,
            &[36.8],
            &["0%", "10%", "20%", "30%", "40%"],
        ),
        (
            "nothing measured",
            true,
            &[0.0, 0.0],
            &["0%", "5%", "10%", "15%", "20%"],
        ),
        (
            "NaN is ignored",
            false,
            &[f64::NAN, 2.0],
            &["0", "1", "2", "3", "4"],
        ),
    ];
    for (name, percent, values, ticks) in cases {
        let chart = Chart {
            title: "t".into(),
            kind: ChartKind::Bar,
            labels: (0..values.len()).map(|i| i.to_string()).collect(),
            series: vec![ChartSeries {
                name: "s".into(),
                values: values.to_vec(),
            }],
            percent: *percent,
        };
        let shapes = chart.draw(640.0, 240.0);
        let y_ticks: Vec<String> = shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Text {
                    text,
                    anchor: Anchor::End,
                    ..
                } => Some(text.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(y_ticks, *ticks, "{name}");
        for s in &shapes {
            if let Shape::Rect { x, y, w, h, .. } = s {
                for v in [x, y, w, h] {
                    assert!(v.is_finite() && *v >= 0.0 && *v <= 640.0, "{name}: {s:?}");
                }
            }
        }
        assert_eq!(shapes, chart.draw(640.0, 240.0), "{name}: deterministic");
    }
}

#[test]
fn line_charts_have_one_polyline_per_series_and_a_legend() {
    let chart = Chart {
        title: "share".into(),
        kind: ChartKind::Line,
        labels: vec!["2023-01".into(), "2023-02".into(), "2023-03".into()],
        series: vec![
            ChartSeries {
                name: "KH".into(),
                values: vec![1.0, 2.0, 3.0],
            },
            ChartSeries {
                name: "AS64500".into(),
                values: vec![0.0, 5.0, 9.0],
            },
        ],
        percent: true,
    };
    let shapes = chart.draw(640.0, 240.0);
    let lines = shapes
        .iter()
        .filter(|s| matches!(s, Shape::Line { points, .. } if points.len() == 3))
        .count();
    assert_eq!(lines, 2);
    assert!(shapes
        .iter()
        .any(|s| matches!(s, Shape::Text { text, .. } if text == "AS64500")));
    let mut svg = String::new();
    chart_svg(&mut svg, &chart);
    assert_eq!(
        svg.matches("<polyline").count(),
        2 + 5,
        "two series and five grid lines"
    );
    let mut empty = String::new();
    chart_svg(
        &mut empty,
        &Chart {
            labels: vec![],
            ..chart
        },
    );
    assert!(empty.is_empty(), "an empty chart draws nothing");
}

#[test]
fn store_queries_link_to_the_web_api_with_escaped_parameters() {
    let cases = [
        (
            QueryRef::new(
                "store.blocked_now",
                [
                    ("country", "KH".into()),
                    ("from", "2023-01-01".into()),
                    ("to", "2023-12-31".into()),
                ],
            ),
            Some("/api/v1/countries/KH/blocked?from=2023-01-01&to=2023-12-31"),
        ),
        (
            QueryRef::new(
                "store.blocked_now",
                [("country", "KH".into()), ("category", "A&B C".into())],
            ),
            Some("/api/v1/countries/KH/blocked?category=A%26B%20C"),
        ),
        (
            QueryRef::new("store.blocked_share_series", [("country", "KH".into())]),
            Some("/api/v1/countries/KH/series"),
        ),
        (
            QueryRef::new("registry.incidents", [("country", "KH".into())]),
            None,
        ),
    ];
    for (q, want) in cases {
        assert_eq!(q.api_path().as_deref(), want, "{q:?}");
    }
}

#[test]
fn html_escaping_neutralises_markup() {
    let cases = [
        (
            "<script>alert(1)</script>",
            "&lt;script&gt;alert(1)&lt;/script&gt;",
        ),
        ("\" onmouseover=\"x", "&quot; onmouseover=&quot;x"),
        ("a & b", "a &amp; b"),
        ("it's", "it&#39;s"),
        ("កម្ពុជា", "កម្ពុជា"),
    ];
    for (input, want) in cases {
        assert_eq!(escape(input), want);
    }
}
