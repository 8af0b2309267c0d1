//! Reading OONI measurements from files, whatever shape they come in.
//!
//! OONI data reaches Canary in several shapes: JSON Lines (one measurement per
//! line, as in OONI's S3 buckets and as `canary probe` writes), a single JSON
//! document (pretty-printed, as in OONI's test fixtures), a JSON array, an
//! explorer API response (`{"status", "contentType", "body"}` whose `body` is a
//! JSON *string* holding `raw_measurement`, itself a JSON string), a bare
//! web_connectivity `test_keys` object, JSONC with `//` comment lines, and any
//! of these gzip-compressed. This crate turns all of them into a stream of
//! [`Entry`]s, each naming the file and line it came from, so that one bad line
//! never stops the others from being processed.
//!
//! # Example
//!
//! ```no_run
//! use canary_ingest::{open, Outcome};
//!
//! for entry in open("measurements.jsonl.gz".as_ref()).expect("readable file") {
//!     match entry.outcome {
//!         Outcome::Measurement(m) => println!("{}: {}", entry.location, m.test_name()),
//!         Outcome::Invalid(err) => eprintln!("{}: {err}", entry.location),
//!         Outcome::NotMeasurement(why) => eprintln!("{}: skipped: {why}", entry.location),
//!     }
//! }
//! ```
//!
//! Every read is bounded: a line longer than [`Limits::max_line_bytes`] or a
//! document larger than [`Limits::max_document_bytes`] is reported as invalid
//! instead of being held in memory.

#![deny(missing_docs)]

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use canary_model::Measurement;
use serde_json::Value;

/// What can go wrong opening or reading a file as a whole.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A directory could not be listed.
    #[error("{path}: cannot list directory: {source}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

/// Why one entry of a file is not a usable measurement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// The bytes are not valid JSON (e.g. a truncated line or binary garbage).
    #[error("invalid JSON: {0}")]
    Json(String),
    /// Valid JSON that does not fit the OONI data format (e.g. a wrong type).
    #[error("not a valid OONI measurement: {0}")]
    Model(String),
    /// The entry is larger than the configured limit.
    #[error("too large: more than {limit} bytes")]
    TooLarge {
        /// The limit that was exceeded, in bytes.
        limit: u64,
    },
    /// Reading failed part-way (e.g. a corrupt gzip stream).
    #[error("read error: {0}")]
    Read(String),
}

/// Bounds on what one file may make us hold in memory.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest JSON Lines line accepted.
    pub max_line_bytes: u64,
    /// Largest single JSON document accepted.
    pub max_document_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_bytes: 64 << 20,
            max_document_bytes: 256 << 20,
        }
    }
}

/// Where an entry came from: a file and a 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file (as given, or as found in a directory).
    pub path: PathBuf,
    /// The line where the entry starts (1-based).
    pub line: usize,
    /// For documents that hold several measurements (a JSON array), the
    /// 0-based index in the document.
    pub index: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.path.display(), self.line)?;
        if let Some(i) = self.index {
            write!(f, "[{i}]")?;
        }
        Ok(())
    }
}

/// What one entry turned out to be.
#[derive(Debug)]
pub enum Outcome {
    /// A measurement that parsed into the typed model.
    Measurement(Box<Measurement>),
    /// Bad input: it should have been a measurement and is not.
    Invalid(EntryError),
    /// Valid input that is not a measurement (an API listing, an analysis
    /// file, a legacy YAML report): skipped, with the reason.
    NotMeasurement(String),
}

/// One entry of a file.
#[derive(Debug)]
pub struct Entry {
    /// Where it came from.
    pub location: Location,
    /// What it is.
    pub outcome: Outcome,
}

/// Opens a file (plain or gzip, detected by content) with default limits.
pub fn open(path: &Path) -> Result<Entries, IngestError> {
    open_with(path, Limits::default())
}

/// Opens a file (plain or gzip, detected by content) with the given limits.
pub fn open_with(path: &Path, limits: Limits) -> Result<Entries, IngestError> {
    let io_err = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    let mut buffered = BufReader::with_capacity(256 << 10, file);
    let is_gzip = buffered
        .fill_buf()
        .map_err(io_err)?
        .starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn BufRead + Send> = if is_gzip {
        Box::new(BufReader::with_capacity(
            256 << 10,
            flate2::bufread::MultiGzDecoder::new(buffered),
        ))
    } else {
        Box::new(buffered)
    };
    let name = path.to_string_lossy().to_lowercase();
    let yaml = [".yaml", ".yml", ".yaml.gz", ".yml.gz"]
        .iter()
        .any(|ext| name.ends_with(ext));
    Ok(Entries::new(path.to_path_buf(), reader, limits, yaml))
}

/// Reads entries from any buffered reader (already decompressed); `path` is
/// only used to name the source in locations.
pub fn from_reader(path: PathBuf, reader: Box<dyn BufRead + Send>, limits: Limits) -> Entries {
    Entries::new(path, reader, limits, false)
}

/// File name endings that [`expand_paths`] picks up inside directories.
pub const MEASUREMENT_EXTENSIONS: &[&str] = &[
    ".json",
    ".jsonl",
    ".jsonc",
    ".json.gz",
    ".jsonl.gz",
    ".yaml",
    ".yml",
];

/// Expands directories (recursively, in name order) into the measurement
/// files they contain; plain files are kept as given, whatever their name.
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, IngestError> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut out)?;
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), IngestError> {
    let dir_err = |source| IngestError::Dir {
        path: dir.to_path_buf(),
        source,
    };
    let mut children: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(dir_err)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(dir_err)?;
    children.sort();
    for child in children {
        if child.is_dir() {
            walk(&child, out)?;
        } else {
            let name = child.to_string_lossy().to_lowercase();
            if MEASUREMENT_EXTENSIONS.iter().any(|ext| name.ends_with(ext)) {
                out.push(child);
            }
        }
    }
    Ok(())
}

enum Mode {
    /// Nothing read yet.
    Start,
    /// One JSON document per line.
    Lines,
    /// Finished.
    Done,
}

/// Iterator over the entries of one file. Created by [`open`].
pub struct Entries {
    path: PathBuf,
    reader: Box<dyn BufRead + Send>,
    limits: Limits,
    yaml: bool,
    line_no: usize,
    mode: Mode,
    /// Entries already decoded (from an array or a whole document) that have
    /// not been handed out yet.
    pending: std::vec::IntoIter<Entry>,
}

impl Entries {
    fn new(path: PathBuf, reader: Box<dyn BufRead + Send>, limits: Limits, yaml: bool) -> Self {
        Entries {
            path,
            reader,
            limits,
            yaml,
            line_no: 0,
            mode: Mode::Start,
            pending: Vec::new().into_iter(),
        }
    }

    fn location(&self, line: usize, index: Option<usize>) -> Location {
        Location {
            path: self.path.clone(),
            line,
            index,
        }
    }

    fn entry(&self, line: usize, outcome: Outcome) -> Entry {
        Entry {
            location: self.location(line, None),
            outcome,
        }
    }

    /// Reads the next line into `buf` (without the newline), bounded by the
    /// line limit. Returns `None` at end of input.
    fn next_line(&mut self, buf: &mut Vec<u8>) -> Option<Result<(), EntryError>> {
        buf.clear();
        let limit = self.limits.max_line_bytes;
        let mut too_long = false;
        let mut read_any = false;
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.mode = Mode::Done;
                    return Some(Err(EntryError::Read(e.to_string())));
                }
            };
            if chunk.is_empty() {
                break;
            }
            read_any = true;
            let (part, found_newline) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (&chunk[..i], true),
                None => (chunk, false),
            };
            if !too_long {
                if (buf.len() + part.len()) as u64 > limit {
                    too_long = true;
                    buf.clear();
                } else {
                    buf.extend_from_slice(part);
                }
            }
            let consumed = part.len() + usize::from(found_newline);
            self.reader.consume(consumed);
            if found_newline {
                break;
            }
        }
        if !read_any {
            return None;
        }
        self.line_no += 1;
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        if too_long {
            return Some(Err(EntryError::TooLarge { limit }));
        }
        Some(Ok(()))
    }

    /// Decides between JSON Lines and a whole document from the first
    /// meaningful line, and produces the first entry.
    fn start(&mut self) -> Option<Raw> {
        if self.yaml {
            self.mode = Mode::Done;
            return Some(Raw::Entry(self.entry(
                1,
                Outcome::NotMeasurement(
                    "legacy YAML report format (OONI, before 2017) is not supported".into(),
                ),
            )));
        }
        let mut prefix: Vec<u8> = Vec::new();
        let mut buf = Vec::new();
        loop {
            if let Err(e) = self.next_line(&mut buf)? {
                // The mode is still undecided: the next call starts again
                // from the following line.
                let line = self.line_no;
                return Some(Raw::Entry(self.entry(line, Outcome::Invalid(e))));
            }
            let trimmed = buf.trim_ascii();
            if trimmed.is_empty() || trimmed.starts_with(b"//") {
                prefix.push(b'\n');
                continue;
            }
            let first_line = self.line_no;
            // A line that is a complete JSON value on its own means JSON Lines;
            // otherwise the line begins a multi-line document.
            if serde_json::from_slice::<serde::de::IgnoredAny>(trimmed).is_ok() {
                self.mode = Mode::Lines;
                return Some(Raw::Line {
                    location: self.location(first_line, None),
                    bytes: trimmed.to_vec(),
                });
            }
            return self.read_document(first_line, prefix, buf).map(Raw::Entry);
        }
    }

    /// Locates the outcomes of one line or document, returns the first and
    /// keeps the others for the following calls.
    fn hand_out(&mut self, line: usize, outcomes: Vec<Outcome>) -> Option<Entry> {
        let mut entries = self.located(line, outcomes).into_iter();
        let first = entries.next();
        self.pending = entries;
        first
    }

    fn located(&self, line: usize, outcomes: Vec<Outcome>) -> Vec<Entry> {
        let many = outcomes.len() > 1;
        outcomes
            .into_iter()
            .enumerate()
            .map(|(i, outcome)| Entry {
                location: self.location(line, many.then_some(i)),
                outcome,
            })
            .collect()
    }

    fn read_document(
        &mut self,
        first_line: usize,
        prefix: Vec<u8>,
        first: Vec<u8>,
    ) -> Option<Entry> {
        let limit = self.limits.max_document_bytes;
        let mut doc = prefix;
        doc.extend_from_slice(&first);
        doc.push(b'\n');
        // Comment lines (JSONC) are blanked rather than removed, so that
        // serde_json's line numbers stay those of the file.
        let mut rest = Vec::new();
        let mut limited = (&mut self.reader).take(limit.saturating_sub(doc.len() as u64) + 1);
        if let Err(e) = limited.read_to_end(&mut rest) {
            self.mode = Mode::Done;
            return Some(self.entry(
                first_line,
                Outcome::Invalid(EntryError::Read(e.to_string())),
            ));
        }
        if (doc.len() + rest.len()) as u64 > limit {
            self.mode = Mode::Done;
            return Some(self.entry(first_line, Outcome::Invalid(EntryError::TooLarge { limit })));
        }
        for line in rest.split(|&b| b == b'\n') {
            if !line.trim_ascii().starts_with(b"//") {
                doc.extend_from_slice(line);
            }
            doc.push(b'\n');
        }
        let outcomes = match serde_json::from_slice::<Value>(&doc) {
            Ok(value) => classify_value(value),
            Err(e) => vec![Outcome::Invalid(EntryError::Json(e.to_string()))],
        };
        self.mode = Mode::Done;
        self.hand_out(first_line, outcomes)
    }
}

/// One unit of work from a file: a JSON Lines line still to be parsed (with
/// [`parse_line`], on any thread), or an entry already decoded.
#[derive(Debug)]
pub enum Raw {
    /// A line of a JSON Lines file, not parsed yet.
    Line {
        /// Where it came from.
        location: Location,
        /// The line, without its newline and surrounding white space.
        bytes: Vec<u8>,
    },
    /// An entry already decoded (documents, bad lines, skipped files).
    Entry(Entry),
}

impl Entries {
    /// The same file, handing out JSON Lines lines unparsed so that a
    /// caller can parse them in parallel.
    pub fn raw(self) -> RawEntries {
        RawEntries(self)
    }

    fn next_raw(&mut self) -> Option<Raw> {
        if let Some(entry) = self.pending.next() {
            return Some(Raw::Entry(entry));
        }
        match self.mode {
            Mode::Start => self.start(),
            Mode::Done => None,
            Mode::Lines => {
                let mut buf = Vec::new();
                loop {
                    if let Err(e) = self.next_line(&mut buf)? {
                        let line = self.line_no;
                        return Some(Raw::Entry(self.entry(line, Outcome::Invalid(e))));
                    }
                    let trimmed = buf.trim_ascii();
                    if trimmed.is_empty() || trimmed.starts_with(b"//") {
                        continue;
                    }
                    return Some(Raw::Line {
                        location: self.location(self.line_no, None),
                        bytes: trimmed.to_vec(),
                    });
                }
            }
        }
    }
}

impl Iterator for Entries {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        match self.next_raw()? {
            Raw::Entry(entry) => Some(entry),
            Raw::Line { location, bytes } => {
                let outcomes = parse_line(&bytes);
                self.hand_out(location.line, outcomes)
            }
        }
    }
}

/// [`Entries`] that hand out JSON Lines lines unparsed; see [`Entries::raw`].
pub struct RawEntries(Entries);

impl Iterator for RawEntries {
    type Item = Raw;

    fn next(&mut self) -> Option<Raw> {
        self.0.next_raw()
    }
}

/// Turns one raw line into its entries (usually one), located at `location`
/// (an array on one line yields one entry per element, indexed).
pub fn parse_raw_line(location: &Location, bytes: &[u8]) -> Vec<Entry> {
    let outcomes = parse_line(bytes);
    let many = outcomes.len() > 1;
    outcomes
        .into_iter()
        .enumerate()
        .map(|(i, outcome)| Entry {
            location: Location {
                path: location.path.clone(),
                line: location.line,
                index: many.then_some(i),
            },
            outcome,
        })
        .collect()
}

/// Parses one JSON Lines line. The common case (a plain measurement) goes
/// straight into the typed model; anything else is looked at as a value.
pub fn parse_line(bytes: &[u8]) -> Vec<Outcome> {
    if let Ok(m) = Measurement::from_slice(bytes) {
        if m.test_keys.is_present() && !m.test_name().is_empty() {
            return vec![Outcome::Measurement(Box::new(m))];
        }
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) => classify_value(value),
        Err(e) => vec![Outcome::Invalid(EntryError::Json(e.to_string()))],
    }
}

/// Keys that only web_connectivity `test_keys` carry at top level; an object
/// with some of them and no `test_name` is a bare `test_keys` object.
const BARE_TEST_KEYS_MARKERS: &[&str] = &[
    "queries",
    "tcp_connect",
    "requests",
    "control",
    "control_failure",
    "dns_experiment_failure",
    "x_blocking_flags",
];

/// Turns one JSON value into the measurements it holds (or why it holds none).
pub fn classify_value(value: Value) -> Vec<Outcome> {
    match value {
        Value::Array(items) => {
            let n = items.len();
            let outcomes: Vec<Outcome> = items.into_iter().flat_map(classify_value).collect();
            if outcomes
                .iter()
                .all(|o| matches!(o, Outcome::NotMeasurement(_)))
            {
                vec![Outcome::NotMeasurement(format!(
                    "a JSON array of {n} items, none of them a measurement"
                ))]
            } else {
                outcomes
            }
        }
        Value::Object(ref map) => {
            if map.contains_key("test_name") && map.contains_key("test_keys") {
                return vec![typed(value)];
            }
            // An explorer API response: {"status","contentType","body": "<json>"}.
            if let (Some(Value::String(body)), true) = (map.get("body"), map.contains_key("status"))
            {
                return match serde_json::from_str::<Value>(body) {
                    Ok(inner) => classify_api_body(inner),
                    Err(e) => vec![Outcome::Invalid(EntryError::Json(format!(
                        "explorer response body: {e}"
                    )))],
                };
            }
            if map.contains_key("raw_measurement") {
                return classify_api_body(value);
            }
            if !map.contains_key("test_name")
                && BARE_TEST_KEYS_MARKERS.iter().any(|k| map.contains_key(*k))
            {
                let mut wrapper = serde_json::Map::new();
                wrapper.insert("test_name".into(), Value::String("web_connectivity".into()));
                wrapper.insert("test_keys".into(), value);
                return vec![typed(Value::Object(wrapper))];
            }
            if map.contains_key("test_name") {
                return vec![Outcome::NotMeasurement(
                    "has a test_name but no test_keys (a metadata row, not a measurement)".into(),
                )];
            }
            let mut keys: Vec<&str> = map.keys().map(String::as_str).take(4).collect();
            keys.sort_unstable();
            vec![Outcome::NotMeasurement(format!(
                "a JSON object with keys {} is not an OONI measurement",
                keys.join(", ")
            ))]
        }
        other => vec![Outcome::Invalid(EntryError::Model(format!(
            "expected a JSON object, found {}",
            json_type(&other)
        )))],
    }
}

fn classify_api_body(inner: Value) -> Vec<Outcome> {
    match inner.get("raw_measurement") {
        Some(Value::String(raw)) => match serde_json::from_str::<Value>(raw) {
            Ok(m) => classify_value(m),
            Err(e) => vec![Outcome::Invalid(EntryError::Json(format!(
                "raw_measurement: {e}"
            )))],
        },
        Some(Value::Object(_)) => inner
            .get("raw_measurement")
            .cloned()
            .map(classify_value)
            .unwrap_or_default(),
        _ => {
            let what = if inner.get("results").is_some() {
                "an explorer API search listing (metadata only, no raw measurements)"
            } else if inner.get("result").is_some() {
                "an explorer API aggregation (counts, no measurements)"
            } else {
                "an explorer API response without a raw_measurement"
            };
            vec![Outcome::NotMeasurement(what.into())]
        }
    }
}

fn typed(value: Value) -> Outcome {
    match Measurement::from_value(value) {
        Ok(m) => Outcome::Measurement(Box::new(m)),
        Err(e) => Outcome::Invalid(EntryError::Model(e.to_string())),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
