//! Charts as inline SVG, drawn on the server: they need no JavaScript.
//!
//! Every label goes through the catalog; every text is XML-escaped.

use std::collections::BTreeMap;
use std::fmt::Write;

use canary_store::{Outcome, SharePoint, TimelinePoint};
use time::Date;

use crate::i18n::Lang;

const W: f64 = 800.0;
const H: f64 = 260.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 48.0;

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn day_label(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// The blocked share per day as a bar chart (`<svg class="chart">`), with
/// a y axis in percent and the first, middle and last day on the x axis.
/// An empty series gives a chart frame with the "no data" message.
pub fn share_chart(points: &[SharePoint], lang: Lang) -> String {
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let mut s = String::new();
    let title = escape(lang.t("share_title"));
    let _ = write!(
        s,
        r#"<svg class="chart" role="img" aria-label="{title}" viewBox="0 0 {W} {H}" width="100%" xmlns="http://www.w3.org/2000/svg"><title>{title}</title>"#
    );
    let _ = write!(
        s,
        r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#bbb"/>"##
    );
    for pct in [0u32, 25, 50, 75, 100] {
        let y = TOP + plot_h * (1.0 - f64::from(pct) / 100.0);
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{tx}" y="{ty:.1}" font-size="11" text-anchor="end" fill="#333">{pct}</text>"##,
            x2 = LEFT + plot_w,
            tx = LEFT - 6.0,
            ty = y + 4.0
        );
    }
    if points.is_empty() {
        let _ = write!(
            s,
            r##"<text x="{x}" y="{y}" font-size="14" text-anchor="middle" fill="#555">{msg}</text>"##,
            x = LEFT + plot_w / 2.0,
            y = TOP + plot_h / 2.0,
            msg = escape(lang.t("chart_no_data"))
        );
    } else {
        let n = points.len() as f64;
        let step = plot_w / n;
        let bar = (step * 0.8).max(1.0);
        for (i, p) in points.iter().enumerate() {
            let share = if p.tested == 0 {
                0.0
            } else {
                p.blocked as f64 / p.tested as f64
            };
            let h = plot_h * share;
            let x = LEFT + step * i as f64 + (step - bar) / 2.0;
            let y = TOP + plot_h - h;
            let _ = write!(
                s,
                r##"<rect class="bar" x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{h:.1}" fill="#c0392b"><title>{day}: {b}/{t}</title></rect>"##,
                day = day_label(p.day),
                b = p.blocked,
                t = p.tested
            );
        }
        let mut ticks = vec![0, points.len() / 2, points.len() - 1];
        ticks.dedup();
        for i in ticks {
            let x = LEFT + step * (i as f64 + 0.5);
            let _ = write!(
                s,
                r##"<text x="{x:.1}" y="{y}" font-size="11" text-anchor="middle" fill="#333">{d}</text>"##,
                y = TOP + plot_h + 16.0,
                d = day_label(points[i].day)
            );
        }
    }
    let _ = write!(
        s,
        r##"<text x="{x}" y="{y}" font-size="12" text-anchor="middle" fill="#111">{label}</text>"##,
        x = LEFT + plot_w / 2.0,
        y = H - 8.0,
        label = escape(lang.t("chart_axis_day"))
    );
    let _ = write!(
        s,
        r##"<text x="14" y="{y}" font-size="12" text-anchor="middle" fill="#111" transform="rotate(-90 14 {y})">{label}</text>"##,
        y = TOP + plot_h / 2.0,
        label = escape(lang.t("chart_axis_share"))
    );
    s.push_str("</svg>");
    s
}

/// Per-layer timeline: one row per layer (DNS, TCP, TLS, HTTP) and one for
/// accessible measurements, one column per day; a cell's darkness is that
/// layer's share of the day's measurements.
pub fn layer_timeline(points: &[TimelinePoint], lang: Lang) -> String {
    const ROWS: [(&str, &str); 5] = [
        ("dns", "layer_dns"),
        ("tcp", "layer_tcp"),
        ("tls", "layer_tls"),
        ("http", "layer_http"),
        ("ok", "outcome_ok"),
    ];
    let mut per_day: BTreeMap<Date, (u64, BTreeMap<&str, u64>)> = BTreeMap::new();
    for p in points {
        let e = per_day.entry(p.day).or_default();
        e.0 += p.measurements;
        let row = match (p.outcome, p.layer.as_deref()) {
            (Outcome::Ok, _) => Some("ok"),
            (Outcome::Blocked, Some(l)) => ROWS.iter().find(|(k, _)| *k == l).map(|(k, _)| *k),
            _ => None,
        };
        if let Some(r) = row {
            *e.1.entry(r).or_default() += p.measurements;
        }
    }
    let label_w = 140.0;
    let row_h = 28.0;
    let height = TOP + row_h * ROWS.len() as f64 + BOTTOM;
    let plot_w = W - label_w - RIGHT;
    let title = escape(lang.t("timeline_title"));
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart timeline" role="img" aria-label="{title}" viewBox="0 0 {W} {height}" width="100%" xmlns="http://www.w3.org/2000/svg"><title>{title}</title>"#
    );
    for (r, (_, key)) in ROWS.iter().enumerate() {
        let y = TOP + row_h * r as f64;
        let _ = write!(
            s,
            r##"<text x="{x}" y="{ty:.1}" font-size="12" text-anchor="end" fill="#111">{label}</text><rect x="{label_w}" y="{y:.1}" width="{plot_w}" height="{h:.1}" fill="#f4f4f4"/>"##,
            x = label_w - 8.0,
            ty = y + row_h / 2.0 + 4.0,
            label = escape(lang.t(key)),
            h = row_h - 4.0
        );
    }
    if per_day.is_empty() {
        let _ = write!(
            s,
            r##"<text x="{x}" y="{y}" font-size="14" text-anchor="middle" fill="#555">{msg}</text>"##,
            x = label_w + plot_w / 2.0,
            y = TOP + row_h * 2.5,
            msg = escape(lang.t("chart_no_data"))
        );
    } else {
        let n = per_day.len() as f64;
        let step = plot_w / n;
        for (i, (day, (total, rows))) in per_day.iter().enumerate() {
            for (r, (k, _)) in ROWS.iter().enumerate() {
                let count = rows.get(k).copied().unwrap_or(0);
                if count == 0 || *total == 0 {
                    continue;
                }
                let share = count as f64 / *total as f64;
                let colour = if *k == "ok" { "#27ae60" } else { "#c0392b" };
                let _ = write!(
                    s,
                    r##"<rect class="cell" x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{colour}" fill-opacity="{o:.2}"><title>{d}: {count}/{total}</title></rect>"##,
                    x = label_w + step * i as f64,
                    y = TOP + row_h * r as f64,
                    w = step.max(1.0),
                    h = row_h - 4.0,
                    o = 0.15 + 0.85 * share,
                    d = day_label(*day)
                );
            }
        }
        let days: Vec<&Date> = per_day.keys().collect();
        let mut ticks = vec![0, days.len() / 2, days.len() - 1];
        ticks.dedup();
        for i in ticks {
            let _ = write!(
                s,
                r##"<text x="{x:.1}" y="{y}" font-size="11" text-anchor="middle" fill="#333">{d}</text>"##,
                x = label_w + step * (i as f64 + 0.5),
                y = TOP + row_h * ROWS.len() as f64 + 14.0,
                d = day_label(*days[i])
            );
        }
    }
    let _ = write!(
        s,
        r##"<text x="{x}" y="{y}" font-size="12" text-anchor="middle" fill="#111">{label}</text></svg>"##,
        x = label_w + plot_w / 2.0,
        y = height - 8.0,
        label = escape(lang.t("chart_axis_day"))
    );
    s
}
