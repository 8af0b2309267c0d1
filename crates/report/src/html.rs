//! [`render_html`]: one self-contained HTML file (inline CSS, inline SVG
//! charts, the Khmer font embedded as a `data:` URL when the text has
//! Khmer), deterministic to the byte.

use std::fmt::Write as _;

use base64::Engine as _;

use crate::chart::{Anchor, Chart, Shape};
use crate::data::ReportData;
use crate::layout::{layout, Block, Document, Inline};
use crate::options::ReportOptions;

/// Noto Sans Khmer Regular (SIL OFL 1.1): the web UI's copy
/// (`crates/web/assets/fonts`, licence in its `OFL.txt`), shared rather
/// than committed twice.
pub const KHMER_FONT_REGULAR: &[u8] =
    include_bytes!("../../web/assets/fonts/NotoSansKhmer-Regular.ttf");
/// Noto Sans Khmer Bold (SIL OFL 1.1, see `assets/fonts/OFL.txt`).
pub const KHMER_FONT_BOLD: &[u8] = include_bytes!("../assets/fonts/NotoSansKhmer-Bold.ttf");

/// Whether `s` has a character of the Khmer blocks (U+1780–U+17FF, U+19E0–U+19FF).
pub fn has_khmer(s: &str) -> bool {
    s.chars()
        .any(|c| ('\u{1780}'..='\u{17FF}').contains(&c) || ('\u{19E0}'..='\u{19FF}').contains(&c))
}

/// Escapes text for HTML element content and attribute values.
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

/// Only `http(s)`, `mailto` and in-page links are emitted as links.
fn safe_href(href: &str) -> Option<&str> {
    let lower = href.to_ascii_lowercase();
    (lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || href.starts_with('#'))
    .then_some(href)
}

const CSS: &str = r#"
:root{--ink:#1d1d1f;--muted:#555;--rule:#d0d0d0;--accent:#0072b2;--warn:#9a3412}
*{box-sizing:border-box}
body{margin:0 auto;max-width:60rem;padding:2rem 1.5rem;color:var(--ink);
 font-family:"Noto Sans","Noto Sans Khmer","Segoe UI",Arial,sans-serif;line-height:1.55;font-size:15px}
:lang(km){font-family:"Noto Sans Khmer","Noto Sans",sans-serif;line-height:1.9}
h1{font-size:1.7rem;line-height:1.3;margin:0 0 .4rem}
h2{font-size:1.3rem;border-bottom:2px solid var(--accent);padding-bottom:.2rem;margin-top:2.2rem}
h3{font-size:1.05rem;margin:1.4rem 0 .5rem}
.meta{color:var(--muted);margin:0}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.9em}
th,td{border-bottom:1px solid var(--rule);padding:.3rem .4rem;text-align:left;vertical-align:top}
th{background:#f3f6f9}
td.n,th.n{text-align:right}
code{font-family:"DejaVu Sans Mono",Consolas,monospace;font-size:.85em;word-break:break-all}
a.fig{color:var(--accent);font-weight:600;text-decoration:none;border-bottom:1px dotted var(--accent)}
dl.key{display:grid;grid-template-columns:repeat(auto-fill,minmax(13rem,1fr));gap:.6rem;margin:1rem 0}
dl.key div{border:1px solid var(--rule);border-radius:6px;padding:.6rem .8rem}
dl.key dt{color:var(--muted);font-size:.85em}
dl.key dd{margin:0;font-size:1.6rem}
p.nodata{color:var(--muted);font-style:italic}
p.warning{color:var(--warn);font-weight:600;border-left:4px solid var(--warn);padding-left:.6rem}
p.num{display:flex;gap:.8rem}p.num span.pn{min-width:2rem;font-weight:600}
figure{margin:.5rem 0 1.2rem}figcaption{font-size:.85em;color:var(--muted)}
svg text{font-family:"Noto Sans","Noto Sans Khmer",sans-serif}
.banner{background:#fde8e8;color:#8a1c1c;border:2px solid #8a1c1c;padding:.5rem;text-align:center;font-weight:700}
.watermark{position:fixed;top:45%;left:-10%;width:120%;text-align:center;transform:rotate(-30deg);
 font-size:2.6rem;font-weight:700;color:rgba(180,0,0,.12);pointer-events:none;z-index:10}
footer{margin-top:3rem;color:var(--muted);font-size:.8em;border-top:1px solid var(--rule);padding-top:.5rem}
@media print{.watermark{position:fixed}h2{break-after:avoid}table{break-inside:auto}}
"#;

/// Renders the report as one self-contained HTML document.
///
/// Every figure is an `<a class="fig" data-figure="KEY" href="#qN">`
/// linking to query `qN` in the data appendix. The bytes depend only on
/// `data` and `options` (no clock is read).
pub fn render_html(data: &ReportData, options: &ReportOptions) -> String {
    let doc = layout(data, options);
    render_document(&doc)
}

/// Renders a laid-out [`Document`] (see [`layout`]).
pub fn render_document(doc: &Document) -> String {
    let mut body = String::new();
    if let Some(w) = &doc.watermark {
        let _ = write!(
            body,
            "<div class=\"banner\" data-watermark>{0}</div>\n<div class=\"watermark\" aria-hidden=\"true\">{0}</div>\n",
            escape(w)
        );
    }
    let _ = write!(body, "<header>\n<h1>{}</h1>\n", escape(&doc.title));
    for m in &doc.meta {
        let _ = writeln!(body, "<p class=\"meta\">{}</p>", escape(m));
    }
    body.push_str("</header>\n<nav><ol>\n");
    for s in &doc.sections {
        let _ = writeln!(
            body,
            "<li><a href=\"#{}\">{}</a></li>",
            escape(&s.id),
            escape(&s.title)
        );
    }
    body.push_str("</ol></nav>\n");
    for s in &doc.sections {
        let _ = writeln!(
            body,
            "<section id=\"{}\">\n<h2>{}</h2>",
            escape(&s.id),
            escape(&s.title)
        );
        for b in &s.blocks {
            block(&mut body, b, doc);
        }
        body.push_str("</section>\n");
    }
    let _ = writeln!(
        body,
        "<footer>Canary · sha256:{}</footer>",
        escape(&doc.content_hash)
    );

    let mut out = String::with_capacity(body.len() + 200_000);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"canary-report\">\n\
         <meta name=\"content-hash\" content=\"{}\">\n<title>{}</title>\n<style>",
        doc.lang.code(),
        escape(&doc.content_hash),
        escape(&doc.title)
    );
    if has_khmer(&body) {
        let b64 = base64::engine::general_purpose::STANDARD;
        let _ = write!(
            out,
            "@font-face{{font-family:\"Noto Sans Khmer\";font-weight:400;src:url(data:font/ttf;base64,{}) format(\"truetype\")}}\n\
             @font-face{{font-family:\"Noto Sans Khmer\";font-weight:700;src:url(data:font/ttf;base64,{}) format(\"truetype\")}}\n",
            b64.encode(KHMER_FONT_REGULAR),
            b64.encode(KHMER_FONT_BOLD)
        );
    }
    out.push_str(CSS);
    out.push_str("</style>\n</head>\n<body>\n");
    out.push_str(&body);
    out.push_str("</body>\n</html>\n");
    out
}

fn inlines(out: &mut String, v: &[Inline]) {
    for i in v {
        match i {
            Inline::Text(s) => out.push_str(&escape(s)),
            Inline::Strong(s) => {
                let _ = write!(out, "<strong>{}</strong>", escape(s));
            }
            Inline::Code(s) => {
                let _ = write!(out, "<code>{}</code>", escape(s));
            }
            Inline::Figure { key, value, query } => {
                let _ = write!(
                    out,
                    "<a class=\"fig\" data-figure=\"{}\" data-query=\"q{query}\" href=\"#q{query}\">{value}</a>",
                    escape(key)
                );
            }
            Inline::Anchor { id, text } => {
                let _ = write!(out, "<span id=\"{}\">{}</span>", escape(id), escape(text));
            }
            Inline::Link { text, href } => match safe_href(href) {
                Some(h) => {
                    let _ = write!(
                        out,
                        "<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>",
                        escape(h),
                        escape(text)
                    );
                }
                None => out.push_str(&escape(text)),
            },
        }
    }
}

fn is_number_cell(c: &[Inline]) -> bool {
    matches!(c, [Inline::Figure { .. }])
}

fn block(out: &mut String, b: &Block, doc: &Document) {
    match b {
        Block::Heading(h) => {
            let _ = writeln!(out, "<h3>{}</h3>", escape(h));
        }
        Block::Para(v) => {
            out.push_str("<p>");
            inlines(out, v);
            out.push_str("</p>\n");
        }
        Block::Numbered(n, v) => {
            let _ = write!(
                out,
                "<p class=\"num\" id=\"para-{n}\"><span class=\"pn\">{n}.</span><span>"
            );
            inlines(out, v);
            out.push_str("</span></p>\n");
        }
        Block::KeyFigures(items) => {
            out.push_str("<dl class=\"key\">\n");
            for (label, f) in items {
                let _ = write!(out, "<div><dt>{}</dt><dd>", escape(label));
                inlines(out, std::slice::from_ref(f));
                out.push_str("</dd></div>\n");
            }
            out.push_str("</dl>\n");
        }
        Block::Table { header, rows } => {
            out.push_str("<table>\n");
            if header.iter().any(|h| !h.is_empty()) {
                out.push_str("<thead><tr>");
                for (i, h) in header.iter().enumerate() {
                    let num = rows
                        .first()
                        .is_some_and(|r| r.get(i).is_some_and(|c| is_number_cell(c)));
                    let _ = write!(
                        out,
                        "<th{}>{}</th>",
                        if num { " class=\"n\"" } else { "" },
                        escape(h)
                    );
                }
                out.push_str("</tr></thead>\n");
            }
            out.push_str("<tbody>\n");
            for r in rows {
                out.push_str("<tr>");
                for c in r {
                    out.push_str(if is_number_cell(c) {
                        "<td class=\"n\">"
                    } else {
                        "<td>"
                    });
                    inlines(out, c);
                    out.push_str("</td>");
                }
                out.push_str("</tr>\n");
            }
            out.push_str("</tbody></table>\n");
        }
        Block::Chart(c) => chart_svg(out, c),
        Block::NoData(s) => {
            let _ = writeln!(out, "<p class=\"nodata\" data-nodata>{}</p>", escape(s));
        }
        Block::Warning(s) => {
            let _ = writeln!(out, "<p class=\"warning\" role=\"alert\">{}</p>", escape(s));
        }
    }
    let _ = doc;
}

fn num(v: f64) -> String {
    // one decimal is plenty at screen resolution; fixed formatting keeps
    // the bytes reproducible
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}

/// The chart as an inline `<svg>` (640 × 240 user units, scalable).
pub fn chart_svg(out: &mut String, c: &Chart) {
    if c.is_empty() {
        return;
    }
    let (w, h) = (640.0, 240.0);
    let _ = write!(
        out,
        "<figure>\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" width=\"100%\" role=\"img\" aria-label=\"{}\">\n",
        num(w),
        num(h),
        escape(&c.title)
    );
    for s in c.draw(w, h) {
        match s {
            Shape::Rect { x, y, w, h, color } => {
                let _ = writeln!(
                    out,
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>",
                    num(x),
                    num(y),
                    num(w),
                    num(h),
                    escape(&color)
                );
            }
            Shape::Line {
                points,
                color,
                width,
            } => {
                let pts: Vec<String> = points
                    .iter()
                    .map(|(x, y)| format!("{},{}", num(*x), num(*y)))
                    .collect();
                let _ = writeln!(
                    out,
                    "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"/>",
                    pts.join(" "),
                    escape(&color),
                    num(width)
                );
            }
            Shape::Text {
                x,
                y,
                text,
                size,
                anchor,
                color,
            } => {
                let a = match anchor {
                    Anchor::Start => "start",
                    Anchor::Middle => "middle",
                    Anchor::End => "end",
                };
                let _ = writeln!(
                    out,
                    "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{a}\" fill=\"{}\">{}</text>",
                    num(x),
                    num(y),
                    num(size),
                    escape(&color),
                    escape(&text)
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "</svg>\n<figcaption>{}</figcaption>\n</figure>",
        escape(&c.title)
    );
}
