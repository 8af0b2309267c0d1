//! Import and export of a [`Dataset`]: one JSON document, or one CSV file
//! per collection (relationships as id columns). Both round-trip exactly.
//!
//! CSV cells: `null` is an empty cell; a string is written as is unless it
//! is empty or would read back as JSON (`12`, `true`, `[…]`, `"…"`), in
//! which case it is written as a JSON string; numbers, booleans, lists and
//! objects are written as JSON. Reading reverses this, so every value comes
//! back identical.
//!
//! [`export`] is the only way a principal gets data out: it builds the
//! principal's [`Dataset::view_for`] (so only readable records, redacted)
//! and appends an `export` entry to the audit log with the SHA-256 of what
//! was produced. Outside an evidence item's organisation that view has no
//! custody events and blanked acquisition details, only the chains' heads
//! (`custody_heads.csv`); see [`crate::policy`].

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::chain::AuditLog;
use crate::dataset::Dataset;
use crate::error::Error;
use crate::files::sha256_hex;
use crate::policy::Principal;
use crate::vocab::AuditAction;

/// Largest JSON document or CSV file accepted on import (bytes).
pub const MAX_IMPORT_BYTES: usize = 256 << 20;

/// The dataset as one pretty-printed JSON document.
pub fn to_json(ds: &Dataset) -> Result<String, Error> {
    Ok(serde_json::to_string_pretty(ds)?)
}

/// Parses and validates a JSON dataset (at most [`MAX_IMPORT_BYTES`]).
pub fn from_json(text: &str) -> Result<Dataset, Error> {
    if text.len() > MAX_IMPORT_BYTES {
        return Err(Error::TooLarge {
            what: "JSON dataset".into(),
            limit: MAX_IMPORT_BYTES as u64,
        });
    }
    let ds: Dataset = serde_json::from_str(text)?;
    ds.validate()?;
    Ok(ds)
}

fn encode_cell(v: &Value) -> Result<String, Error> {
    Ok(match v {
        Value::Null => String::new(),
        Value::String(s) if !s.is_empty() && serde_json::from_str::<Value>(s).is_err() => s.clone(),
        other => serde_json::to_string(other)?,
    })
}

fn decode_cell(s: &str) -> Value {
    if s.is_empty() {
        return Value::Null;
    }
    serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_owned()))
}

fn write_table<T: Serialize>(file: &str, rows: &[T]) -> Result<String, Error> {
    let csv_err = |e: csv::Error| Error::Csv {
        file: file.to_owned(),
        reason: e.to_string(),
    };
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let mut header: Option<Vec<String>> = None;
    for row in rows {
        let Value::Object(map) = serde_json::to_value(row)? else {
            return Err(Error::Csv {
                file: file.to_owned(),
                reason: "row is not an object".into(),
            });
        };
        if header.is_none() {
            let mut cols: Vec<String> = map.keys().cloned().collect();
            if let Some(i) = cols.iter().position(|c| c == "id") {
                let id = cols.remove(i);
                cols.insert(0, id);
            }
            w.write_record(cols.iter()).map_err(csv_err)?;
            header = Some(cols);
        }
        let Some(cols) = header.as_ref() else {
            continue;
        };
        if map.len() != cols.len() || !cols.iter().all(|c| map.contains_key(c)) {
            return Err(Error::Csv {
                file: file.to_owned(),
                reason: "rows have different columns".into(),
            });
        }
        let cells = cols
            .iter()
            .map(|c| encode_cell(&map[c]))
            .collect::<Result<Vec<_>, _>>()?;
        w.write_record(&cells).map_err(csv_err)?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Csv {
        file: file.to_owned(),
        reason: e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|e| Error::Csv {
        file: file.to_owned(),
        reason: e.to_string(),
    })
}

fn read_table<T: DeserializeOwned>(file: &str, text: &str) -> Result<Vec<T>, Error> {
    if text.len() > MAX_IMPORT_BYTES {
        return Err(Error::TooLarge {
            what: format!("CSV file {file}"),
            limit: MAX_IMPORT_BYTES as u64,
        });
    }
    let csv_err = |e: csv::Error| Error::Csv {
        file: file.to_owned(),
        reason: e.to_string(),
    };
    let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header: Vec<String> = r
        .headers()
        .map_err(csv_err)?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut rows = Vec::new();
    for (i, rec) in r.records().enumerate() {
        if i >= crate::dataset::MAX_RECORDS_PER_TYPE {
            return Err(Error::TooLarge {
                what: format!("CSV file {file} rows"),
                limit: crate::dataset::MAX_RECORDS_PER_TYPE as u64,
            });
        }
        let rec = rec.map_err(csv_err)?;
        let map: Map<String, Value> = header
            .iter()
            .zip(rec.iter())
            .map(|(k, v)| (k.clone(), decode_cell(v)))
            .collect();
        let row = serde_json::from_value(Value::Object(map)).map_err(|e| Error::Csv {
            file: file.to_owned(),
            reason: format!("row {}: {e}", i + 2),
        })?;
        rows.push(row);
    }
    Ok(rows)
}

macro_rules! tables {
    ($m:ident: $($field:ident),+) => {
        /// Names of the CSV files, one per collection.
        pub const CSV_FILES: &[&str] = &[$(concat!(stringify!($field), ".csv")),+];

        /// The dataset as CSV files (file name → content), one per
        /// collection, in [`CSV_FILES`] order. Empty collections give empty files.
        pub fn to_csv(ds: &Dataset) -> Result<BTreeMap<String, String>, Error> {
            let mut $m = BTreeMap::new();
            $( $m.insert(
                concat!(stringify!($field), ".csv").to_owned(),
                write_table(concat!(stringify!($field), ".csv"), &ds.$field)?,
            ); )+
            Ok($m)
        }

        /// Reads CSV files written by [`to_csv`] and validates the dataset.
        /// A missing file is an empty collection; an unknown file is an error.
        pub fn from_csv(files: &BTreeMap<String, String>) -> Result<Dataset, Error> {
            if let Some(unknown) = files.keys().find(|k| !CSV_FILES.contains(&k.as_str())) {
                return Err(Error::Csv { file: unknown.clone(), reason: "unknown file".into() });
            }
            let mut ds = Dataset::new();
            $( if let Some(text) = files.get(concat!(stringify!($field), ".csv")) {
                ds.$field = read_table(concat!(stringify!($field), ".csv"), text)?;
            } )+
            ds.validate()?;
            Ok(ds)
        }
    };
}

tables!(m: organisations, incidents, incident_links, acts, involvements, actors, sources,
    citations, laws, provisions, invocations, evidence, custody, custody_heads, recommendations,
    benchmarks, assessments);

/// Export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One `dataset.json`.
    Json,
    /// One CSV per collection.
    Csv,
}

/// The files of an export (name → content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// File name → content.
    pub files: BTreeMap<String, String>,
    /// SHA-256 over the files (name and content, length-prefixed, in name
    /// order), as recorded in the audit entry.
    pub sha256: String,
}

/// Exports what `p` may see of `ds`, redacted for `p`, and records the
/// export in `audit` (actor, format, row count, SHA-256 of the output).
pub fn export(
    ds: &Dataset,
    p: &Principal,
    format: ExportFormat,
    at: OffsetDateTime,
    audit: &mut AuditLog,
) -> Result<Export, Error> {
    let view = ds.view_for(p);
    let files = match format {
        ExportFormat::Json => BTreeMap::from([("dataset.json".to_owned(), to_json(&view)?)]),
        ExportFormat::Csv => to_csv(&view)?,
    };
    let mut digest_input = Vec::new();
    for (name, content) in &files {
        for part in [name.as_bytes(), content.as_bytes()] {
            digest_input.extend_from_slice(&(part.len() as u64).to_be_bytes());
            digest_input.extend_from_slice(part);
        }
    }
    let sha256 = sha256_hex(&digest_input);
    let fmt = match format {
        ExportFormat::Json => "json",
        ExportFormat::Csv => "csv",
    };
    audit.append(
        p.user_id().unwrap_or("anonymous"),
        AuditAction::Export,
        "dataset",
        at,
        format!("format={fmt} rows={} sha256={sha256}", view.len()),
    );
    Ok(Export { files, sha256 })
}
