//! Charts as geometry: [`Chart::draw`] lays a chart out as rectangles,
//! lines and text in a box of a given size, so the HTML back-end (SVG) and
//! the PDF back-end (native typst shapes) draw the same picture.

use serde::{Deserialize, Serialize};

/// Bars or lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChartKind {
    /// One bar per label (first series only).
    Bar,
    /// One line per series over the labels.
    Line,
}

/// One series of values, aligned with [`Chart::labels`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartSeries {
    /// Legend name.
    pub name: String,
    /// Values.
    pub values: Vec<f64>,
}

/// A chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    /// Title (also the accessible name).
    pub title: String,
    /// Kind.
    pub kind: ChartKind,
    /// X-axis labels.
    pub labels: Vec<String>,
    /// Series.
    pub series: Vec<ChartSeries>,
    /// Values are percentages (axis 0–100 at most, `%` ticks).
    pub percent: bool,
}

/// Where a text is anchored horizontally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Anchor {
    /// Left edge at x.
    Start,
    /// Centre at x.
    Middle,
    /// Right edge at x.
    End,
}

/// A drawing primitive, in points from the top-left corner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Shape {
    /// A filled rectangle.
    Rect {
        /// Left.
        x: f64,
        /// Top.
        y: f64,
        /// Width.
        w: f64,
        /// Height.
        h: f64,
        /// `#rrggbb`.
        color: String,
    },
    /// A polyline.
    Line {
        /// Points.
        points: Vec<(f64, f64)>,
        /// `#rrggbb`.
        color: String,
        /// Stroke width.
        width: f64,
    },
    /// A text; `y` is the baseline.
    Text {
        /// x.
        x: f64,
        /// Baseline y.
        y: f64,
        /// Content.
        text: String,
        /// Font size.
        size: f64,
        /// Anchor.
        anchor: Anchor,
        /// `#rrggbb`.
        color: String,
    },
}

/// Series colours (colour-blind-safe, Okabe–Ito).
pub const PALETTE: &[&str] = &[
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#f0e442", "#000000",
    "#999999",
];

const AXIS: &str = "#555555";
const GRID: &str = "#dddddd";

/// The top of the y axis: four equal steps of 1, 2 or 5 × 10^k (counts:
/// whole steps; percentages may also step by 2.5 and stop at 100).
fn nice_max(v: f64, percent: bool) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return if percent { 20.0 } else { 4.0 };
    }
    let raw = v / 4.0;
    let mut mag = 10f64.powf(raw.log10().floor());
    if !percent {
        mag = mag.max(1.0);
    }
    let steps: &[f64] = if percent {
        &[1.0, 2.0, 2.5, 5.0, 10.0]
    } else {
        &[1.0, 2.0, 5.0, 10.0]
    };
    let step = steps
        .iter()
        .map(|s| s * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let top = step * 4.0;
    if percent {
        top.min(100.0)
    } else {
        top
    }
}

fn fmt_tick(v: f64, percent: bool) -> String {
    let s = if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    };
    if percent {
        format!("{s}%")
    } else {
        s
    }
}

impl Chart {
    /// Whether there is nothing to draw.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() || self.series.iter().all(|s| s.values.is_empty())
    }

    /// The chart laid out in a `width` × `height` box (points), with its
    /// axes, ticks, bars or lines and legend. Deterministic: the same chart
    /// gives the same shapes.
    pub fn draw(&self, width: f64, height: f64) -> Vec<Shape> {
        let mut out = Vec::new();
        let legend_rows = if self.kind == ChartKind::Line && self.series.len() > 1 {
            1.0
        } else {
            0.0
        };
        let (left, right, top) = (44.0, 8.0, 8.0);
        let bottom = 30.0 + legend_rows * 16.0;
        let (pw, ph) = (
            (width - left - right).max(10.0),
            (height - top - bottom).max(10.0),
        );
        let max = self
            .series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max);
        let ymax = nice_max(max, self.percent);
        let y_of = |v: f64| top + ph - (v.clamp(0.0, ymax) / ymax) * ph;
        // grid and y ticks
        for i in 0..=4 {
            let v = ymax * f64::from(i) / 4.0;
            let y = y_of(v);
            out.push(Shape::Line {
                points: vec![(left, y), (left + pw, y)],
                color: if i == 0 { AXIS } else { GRID }.into(),
                width: if i == 0 { 1.0 } else { 0.5 },
            });
            out.push(Shape::Text {
                x: left - 4.0,
                y: y + 3.0,
                text: fmt_tick(v, self.percent),
                size: 8.0,
                anchor: Anchor::End,
                color: AXIS.into(),
            });
        }
        let n = self.labels.len().max(1);
        let slot = pw / n as f64;
        // label every k-th so labels do not collide (about 40 pt each)
        let every = ((40.0 / slot).ceil() as usize).max(1);
        for (i, label) in self.labels.iter().enumerate() {
            if i % every != 0 {
                continue;
            }
            out.push(Shape::Text {
                x: left + slot * (i as f64 + 0.5),
                y: top + ph + 12.0,
                text: label.clone(),
                size: 8.0,
                anchor: Anchor::Middle,
                color: AXIS.into(),
            });
        }
        match self.kind {
            ChartKind::Bar => {
                if let Some(s) = self.series.first() {
                    for (i, v) in s.values.iter().enumerate().take(n) {
                        let v = if v.is_finite() { *v } else { 0.0 };
                        let y = y_of(v);
                        let bw = (slot * 0.7).max(1.0);
                        out.push(Shape::Rect {
                            x: left + slot * i as f64 + (slot - bw) / 2.0,
                            y,
                            w: bw,
                            h: (top + ph - y).max(0.0),
                            color: PALETTE[0].into(),
                        });
                        if slot >= 18.0 {
                            out.push(Shape::Text {
                                x: left + slot * (i as f64 + 0.5),
                                y: y - 2.0,
                                text: fmt_tick((v * 10.0).round() / 10.0, self.percent),
                                size: 7.0,
                                anchor: Anchor::Middle,
                                color: AXIS.into(),
                            });
                        }
                    }
                }
            }
            ChartKind::Line => {
                for (si, s) in self.series.iter().enumerate() {
                    let color = PALETTE[si % PALETTE.len()];
                    let points: Vec<(f64, f64)> = s
                        .values
                        .iter()
                        .enumerate()
                        .take(n)
                        .map(|(i, v)| {
                            let v = if v.is_finite() { *v } else { 0.0 };
                            (left + slot * (i as f64 + 0.5), y_of(v))
                        })
                        .collect();
                    if points.len() == 1 {
                        let (x, y) = points[0];
                        out.push(Shape::Rect {
                            x: x - 2.0,
                            y: y - 2.0,
                            w: 4.0,
                            h: 4.0,
                            color: color.into(),
                        });
                    } else if !points.is_empty() {
                        out.push(Shape::Line {
                            points,
                            color: color.into(),
                            width: if si == 0 { 2.0 } else { 1.0 },
                        });
                    }
                }
                if legend_rows > 0.0 {
                    let y = height - 6.0;
                    let mut x = left;
                    for (si, s) in self.series.iter().enumerate() {
                        out.push(Shape::Rect {
                            x,
                            y: y - 7.0,
                            w: 8.0,
                            h: 8.0,
                            color: PALETTE[si % PALETTE.len()].into(),
                        });
                        out.push(Shape::Text {
                            x: x + 11.0,
                            y,
                            text: s.name.clone(),
                            size: 8.0,
                            anchor: Anchor::Start,
                            color: AXIS.into(),
                        });
                        x += 16.0 + 5.5 * s.name.chars().count() as f64;
                    }
                }
            }
        }
        out
    }
}
