//! CSV export of any table of serialisable rows.
//!
//! Each row is turned into JSON and flattened: nested objects become
//! dotted columns (`verdict.outcome`), arrays are joined with `;`. The
//! header is the union of the columns in order of first appearance. Cells
//! that a spreadsheet would run as a formula (starting with `=`, `+`, `-`,
//! `@`, tab or CR) are prefixed with `'`.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::WebError;

fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => flatten_map(prefix, map, out),
        Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|i| match i {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            out.push((prefix.to_owned(), parts.join(";")));
        }
        Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        Value::Null => out.push((prefix.to_owned(), String::new())),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

fn flatten_map(prefix: &str, map: &Map<String, Value>, out: &mut Vec<(String, String)>) {
    for (k, v) in map {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        flatten(&key, v, out);
    }
}

/// Neutralises spreadsheet formulas.
pub fn defuse(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

/// The rows as CSV text with a header line.
pub fn to_csv<T: Serialize>(rows: &[T]) -> Result<String, WebError> {
    let mut flat: Vec<Vec<(String, String)>> = Vec::with_capacity(rows.len());
    let mut header: Vec<String> = Vec::new();
    for row in rows {
        let v =
            serde_json::to_value(row).map_err(|e| WebError::invalid("export", e.to_string()))?;
        let mut cells = Vec::new();
        match &v {
            Value::Object(map) => flatten_map("", map, &mut cells),
            other => flatten("value", other, &mut cells),
        }
        for (k, _) in &cells {
            if !header.contains(k) {
                header.push(k.clone());
            }
        }
        flat.push(cells);
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| WebError::invalid("export", e.to_string());
    if !header.is_empty() {
        w.write_record(&header).map_err(csv_err)?;
    }
    for cells in flat {
        let record: Vec<String> = header
            .iter()
            .map(|h| {
                cells
                    .iter()
                    .find(|(k, _)| k == h)
                    .map(|(_, v)| defuse(v))
                    .unwrap_or_default()
            })
            .collect();
        w.write_record(&record).map_err(csv_err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| WebError::invalid("export", e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| WebError::invalid("export", e.to_string()))
}
