//! A [`Document`] as typst markup. Every piece of text reaches typst as an
//! escaped string literal (`#"…"`), never as markup, so data cannot inject
//! typst code.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use canary_report::{Anchor, Block, Chart, Document, Inline, Lang, Shape};

/// Chart box size in points (fits A4 with 2 cm margins).
const CHART_W: f64 = 470.0;
const CHART_H: f64 = 190.0;

/// `s` as a typst string literal.
fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Label names typst accepts and we generate: `[A-Za-z0-9_.:-]`.
fn label_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 200
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b))
}

/// Ids and hashes have no spaces: a zero-width space after `_`, `-`, `.`
/// and every 16 characters lets typst break them inside table cells.
fn breakable(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    let mut run = 0;
    for c in s.chars() {
        out.push(c);
        run += 1;
        if matches!(c, '_' | '-' | '.' | '/') || run >= 16 {
            out.push('\u{200B}');
            run = 0;
        }
    }
    out
}

fn pt(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}pt")
}

struct Ctx {
    anchors: BTreeSet<String>,
}

fn collect_anchors(doc: &Document) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut visit = |v: &[Inline]| {
        for i in v {
            if let Inline::Anchor { id, .. } = i {
                if label_ok(id) {
                    out.insert(id.clone());
                }
            }
        }
    };
    for s in &doc.sections {
        for b in &s.blocks {
            match b {
                Block::Para(v) | Block::Numbered(_, v) => visit(v),
                Block::Table { rows, .. } => {
                    for r in rows {
                        for c in r {
                            visit(c);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}

fn inlines(out: &mut String, v: &[Inline], ctx: &Ctx) {
    for i in v {
        match i {
            Inline::Text(s) => {
                let _ = write!(out, "#{}", lit(s));
            }
            Inline::Strong(s) => {
                let _ = write!(out, "#strong({})", lit(s));
            }
            Inline::Code(s) => {
                let _ = write!(
                    out,
                    "#text(font: \"DejaVu Sans Mono\", size: 0.78em, {})",
                    lit(&breakable(s))
                );
            }
            Inline::Figure { value, query, .. } => {
                let target = format!("q{query}");
                if ctx.anchors.contains(&target) {
                    let _ = write!(
                        out,
                        "#link(label({}), text(fill: rgb(\"#0072b2\"), weight: \"bold\", {}))",
                        lit(&target),
                        lit(&value.to_string())
                    );
                } else {
                    let _ = write!(out, "#strong({})", lit(&value.to_string()));
                }
            }
            Inline::Anchor { id, text } => {
                if label_ok(id) {
                    let _ = write!(out, "#[#box({})#label({})]", lit(text), lit(id));
                } else {
                    let _ = write!(out, "#{}", lit(text));
                }
            }
            Inline::Link { text, href } => {
                if let Some(id) = href.strip_prefix('#') {
                    if ctx.anchors.contains(id) {
                        let _ = write!(out, "#link(label({}), {})", lit(id), lit(text));
                    } else {
                        let _ = write!(out, "#{}", lit(text));
                    }
                } else if href.starts_with("https://") || href.starts_with("http://") {
                    let _ = write!(
                        out,
                        "#link({}, text(size: 0.85em, {}))",
                        lit(href),
                        lit(text)
                    );
                } else {
                    let _ = write!(out, "#{}", lit(text));
                }
            }
        }
    }
}

fn content(v: &[Inline], ctx: &Ctx) -> String {
    let mut s = String::from("[");
    inlines(&mut s, v, ctx);
    s.push(']');
    s
}

fn chart(out: &mut String, c: &Chart) {
    if c.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "#figure(kind: image, supplement: none, caption: {}, box(width: {}, height: {})[",
        lit(&c.title),
        pt(CHART_W),
        pt(CHART_H)
    );
    for s in c.draw(CHART_W, CHART_H) {
        match s {
            Shape::Rect { x, y, w, h, color } => {
                let _ = writeln!(
                    out,
                    "#place(top + left, dx: {}, dy: {}, rect(width: {}, height: {}, fill: rgb({}), stroke: none))",
                    pt(x),
                    pt(y),
                    pt(w),
                    pt(h),
                    lit(&color)
                );
            }
            Shape::Line {
                points,
                color,
                width,
            } => {
                if points.len() < 2 {
                    continue;
                }
                let mut segs = Vec::with_capacity(points.len());
                for (i, (x, y)) in points.iter().enumerate() {
                    let f = if i == 0 { "curve.move" } else { "curve.line" };
                    segs.push(format!("{f}(({}, {}))", pt(*x), pt(*y)));
                }
                let _ = writeln!(
                    out,
                    "#place(top + left, curve(stroke: {} + rgb({}), {}))",
                    pt(width),
                    lit(&color),
                    segs.join(", ")
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
                let box_w = 120.0;
                let (dx, align) = match anchor {
                    Anchor::Start => (x, "left"),
                    Anchor::Middle => (x - box_w / 2.0, "center"),
                    Anchor::End => (x - box_w, "right"),
                };
                let _ = writeln!(
                    out,
                    "#place(top + left, dx: {}, dy: {}, box(width: {}, align({align}, text(size: {}, fill: rgb({}), {}))))",
                    pt(dx),
                    pt(y - size * 1.1),
                    pt(box_w),
                    pt(size),
                    lit(&color),
                    lit(&text)
                );
            }
        }
    }
    out.push_str("])\n");
}

fn block(out: &mut String, b: &Block, ctx: &Ctx) {
    match b {
        Block::Heading(h) => {
            let _ = writeln!(out, "#heading(level: 3, {})", lit(h));
        }
        Block::Para(v) => {
            let _ = writeln!(out, "#par({})", content(v, ctx));
        }
        Block::Numbered(n, v) => {
            let _ = writeln!(
                out,
                "#grid(columns: (2.2em, 1fr), column-gutter: 0.4em, strong({}), {})\n#v(0.5em)",
                lit(&format!("{n}.")),
                content(v, ctx)
            );
        }
        Block::KeyFigures(items) => {
            // the number above its label: the numbers of a row share a
            // baseline whatever the labels' lengths
            out.push_str("#grid(columns: (1fr, 1fr, 1fr), gutter: 6pt,\n");
            for (label, f) in items {
                let _ = writeln!(
                    out,
                    "  block(width: 100%, inset: 6pt, radius: 3pt, stroke: 0.5pt + luma(180), breakable: false)[#text(size: 1.6em, {})\\ #text(size: 0.8em, fill: luma(90), {})],",
                    content(std::slice::from_ref(f), ctx),
                    lit(label)
                );
            }
            out.push_str(")\n");
        }
        Block::Table { header, rows } => {
            let cols = header.len().max(rows.first().map_or(1, Vec::len)).max(1);
            let _ = writeln!(
                out,
                "#block(width: 100%, text(size: 0.85em, table(columns: {cols}, stroke: (x: none, y: 0.4pt + luma(200)), inset: 4pt, align: left,"
            );
            if header.iter().any(|h| !h.is_empty()) {
                let cells: Vec<String> = header
                    .iter()
                    .map(|h| format!("strong({})", lit(h)))
                    .collect();
                let _ = writeln!(out, "  table.header({}),", cells.join(", "));
            }
            for r in rows {
                let mut cells: Vec<String> = r.iter().map(|c| content(c, ctx)).collect();
                while cells.len() < cols {
                    cells.push("[]".into());
                }
                cells.truncate(cols);
                let _ = writeln!(out, "  {},", cells.join(", "));
            }
            out.push_str(")))\n");
        }
        Block::Chart(c) => chart(out, c),
        Block::NoData(s) => {
            let _ = writeln!(
                out,
                "#par(text(fill: luma(100), style: \"italic\", {}))",
                lit(s)
            );
        }
        Block::Warning(s) => {
            let _ = writeln!(
                out,
                "#block(stroke: (left: 3pt + rgb(\"#9a3412\")), inset: (left: 8pt, y: 4pt), text(fill: rgb(\"#9a3412\"), weight: \"bold\", {}))",
                lit(s)
            );
        }
    }
}

/// The typst source of a document (what [`crate::render_pdf`] compiles);
/// `date` is the document date (none when `None`).
pub fn typst_source(doc: &Document, date: Option<time::Date>) -> String {
    let ctx = Ctx {
        anchors: collect_anchors(doc),
    };
    let mut out = String::new();
    let date = match date {
        Some(d) => format!(
            "datetime(year: {}, month: {}, day: {})",
            d.year(),
            u8::from(d.month()),
            d.day()
        ),
        None => "none".into(),
    };
    let _ = writeln!(
        out,
        "#set document(title: {}, author: \"Canary\", date: {date})",
        lit(&doc.title)
    );
    // Khmer stacks subscripts and vowel signs above and below the line:
    // it needs more leading than Latin
    let (fonts, lang, leading) = match doc.lang {
        Lang::Km => ("(\"Noto Sans Khmer\", \"Libertinus Serif\")", "km", "1.1em"),
        Lang::En => (
            "(\"Libertinus Serif\", \"Noto Sans Khmer\")",
            "en",
            "0.75em",
        ),
    };
    let _ = writeln!(
        out,
        "#set text(font: {fonts}, size: 10pt, lang: \"{lang}\", fallback: true)"
    );
    let _ = writeln!(out, "#set par(leading: {leading}, spacing: 1em)");
    out.push_str("#show heading.where(level: 2): it => block(above: 1.6em, below: 0.8em, stroke: (bottom: 1.2pt + rgb(\"#0072b2\")), inset: (bottom: 3pt), width: 100%, text(size: 1.3em, weight: \"bold\", it.body))\n");
    out.push_str("#show heading.where(level: 3): it => block(above: 1.2em, below: 0.6em, text(size: 1.08em, weight: \"bold\", it.body))\n");
    let short_hash: String = doc.content_hash.chars().take(16).collect();
    let footer = format!(
        "context align(center, text(size: 7.5pt, fill: luma(110), [#{} #counter(page).display(\"1 / 1\", both: true)]))",
        lit(&format!("Canary · sha256:{short_hash}… · "))
    );
    match &doc.watermark {
        Some(w) => {
            let _ = writeln!(
                out,
                "#set page(paper: \"a4\", margin: (x: 2cm, top: 2.2cm, bottom: 2cm), footer: {footer}, header: align(center, text(size: 8pt, fill: rgb(\"#8a1c1c\"), weight: \"bold\", {w})), background: rotate(-35deg, text(size: 26pt, fill: rgb(180, 0, 0, 40), weight: \"bold\", {w})))",
                w = lit(w)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "#set page(paper: \"a4\", margin: (x: 2cm, y: 2cm), footer: {footer})"
            );
        }
    }
    let _ = writeln!(
        out,
        "#block(below: 1em, text(size: 18pt, weight: \"bold\", {}))",
        lit(&doc.title)
    );
    out.push_str("#v(0.3em)\n");
    for m in &doc.meta {
        let _ = writeln!(out, "#par(text(fill: luma(80), {}))", lit(m));
    }
    if let Some(w) = &doc.watermark {
        let _ = writeln!(
            out,
            "#block(width: 100%, inset: 6pt, stroke: 1.5pt + rgb(\"#8a1c1c\"), fill: rgb(\"#fde8e8\"), align(center, text(fill: rgb(\"#8a1c1c\"), weight: \"bold\", {})))",
            lit(w)
        );
    }
    for s in &doc.sections {
        let _ = writeln!(out, "#heading(level: 2, {})", lit(&s.title));
        for b in &s.blocks {
            block(&mut out, b, &ctx);
        }
    }
    out
}
