//! Citizen Lab test lists: parsing, merging, and keeping local copies fresh.
//!
//! The [Citizen Lab test lists](https://github.com/citizenlab/test-lists) are
//! the URLs that OONI and Canary probes measure: one CSV per country (`kh.csv`
//! for Cambodia) plus `global.csv`, with the columns
//! `url,category_code,category_description,date_added,source,notes`.
//!
//! - [`parse`] reads one CSV, keeping good rows and naming bad ones.
//! - [`merge`] combines a country list with the global list, country first,
//!   without duplicates.
//! - [`ListStore`] keeps downloaded lists in a local folder; with the `fetch`
//!   module, [`ListStore::update`] downloads them over HTTPS, checks them and
//!   replaces the local copies atomically, so a failed download never leaves a
//!   half-written list behind.
//!
//! # Example
//!
//! ```
//! let csv = "url,category_code,category_description,date_added,source,notes\n\
//!            https://www.cambodiadaily.com/,NEWS,News Media,2016-09-17,cchr,\n";
//! let list = canary_lists::parse(csv.as_bytes()).unwrap();
//! assert_eq!(list.entries[0].category_code, "NEWS");
//! assert!(list.problems.is_empty());
//! ```

#![deny(missing_docs)]

mod fetch;

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

pub use fetch::{http_client, FetchConfig};

/// The header every test list starts with.
pub const COLUMNS: [&str; 6] = [
    "url",
    "category_code",
    "category_description",
    "date_added",
    "source",
    "notes",
];

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// The CSV does not start with the test-list header.
    #[error("not a Citizen Lab test list: expected the header `{expected}`, found `{found}`")]
    Header {
        /// The header a test list has.
        expected: String,
        /// What the file has instead.
        found: String,
    },
    /// The CSV could not be read at all.
    #[error("CSV error: {0}")]
    Csv(#[from] csv::Error),
    /// A country code that is not two ASCII letters (or `global`).
    #[error("`{0}` is not a country code: use two letters, e.g. KH")]
    CountryCode(String),
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// No local copy of a list: it must be downloaded first.
    #[error("no local test list for {country} in {dir}: run `canary lists update --country {country}` first")]
    Missing {
        /// The list's country code (or `global`).
        country: String,
        /// Where it was looked for.
        dir: PathBuf,
    },
    /// Downloading a list failed.
    #[error("downloading {url}: {reason}")]
    Download {
        /// What was requested.
        url: String,
        /// Why it failed.
        reason: String,
    },
    /// A downloaded list is larger than allowed.
    #[error("downloading {url}: more than {limit} bytes")]
    TooLarge {
        /// What was requested.
        url: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// A list downloaded but is not a valid test list.
    #[error("downloaded {url} is not a valid test list: {reason}")]
    Invalid {
        /// What was requested.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// One URL of a test list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// The URL to measure.
    pub url: String,
    /// Citizen Lab category code, e.g. `NEWS`, `HUMR`, `POLR`, `GRP`.
    pub category_code: String,
    /// The category's name, e.g. `News Media`.
    pub category_description: String,
    /// When the URL was added (`YYYY-MM-DD`).
    pub date_added: String,
    /// Who added it.
    pub source: String,
    /// Free-form notes.
    pub notes: String,
}

/// A row that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// The 1-based line in the file (the header is line 1).
    pub line: u64,
    /// What is wrong with it.
    pub reason: String,
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// A parsed list: the usable entries and the rows that were skipped.
#[derive(Debug, Clone, Default)]
pub struct TestList {
    /// Usable entries, in file order.
    pub entries: Vec<Entry>,
    /// Rows that were skipped, with the reason.
    pub problems: Vec<RowProblem>,
}

/// Parses a test-list CSV. The header must be the test-list header; a row
/// with a bad URL or the wrong number of fields is skipped and named in
/// [`TestList::problems`]; the other rows are kept.
pub fn parse(reader: impl Read) -> Result<TestList, ListError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let header: Vec<String> = csv
        .headers()?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    if header != COLUMNS {
        return Err(ListError::Header {
            expected: COLUMNS.join(","),
            found: header.join(","),
        });
    }
    let mut list = TestList::default();
    for (i, record) in csv.records().enumerate() {
        // Line numbers: the header is line 1, so row i is line i + 2 (for
        // rows without embedded newlines, which is all real lists).
        let line = record
            .as_ref()
            .ok()
            .and_then(|r| r.position().map(|p| p.line()))
            .unwrap_or(i as u64 + 2);
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                list.problems.push(RowProblem {
                    line,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        if record.len() != COLUMNS.len() {
            list.problems.push(RowProblem {
                line,
                reason: format!("expected {} fields, found {}", COLUMNS.len(), record.len()),
            });
            continue;
        }
        let field = |i: usize| record.get(i).unwrap_or("").trim().to_string();
        let url = field(0);
        if let Err(reason) = check_url(&url) {
            list.problems.push(RowProblem { line, reason });
            continue;
        }
        list.entries.push(Entry {
            url,
            category_code: field(1),
            category_description: field(2),
            date_added: field(3),
            source: field(4),
            notes: field(5),
        });
    }
    Ok(list)
}

/// A URL a probe can measure: http or https with a host.
fn check_url(raw: &str) -> Result<(), String> {
    let url = url::Url::parse(raw).map_err(|e| format!("bad URL `{raw}`: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("URL `{raw}` is not http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("URL `{raw}` has no host"));
    }
    Ok(())
}

/// The key two entries are duplicates by: the URL with scheme and host
/// lower-cased.
fn dedup_key(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(u) => u.to_string(),
        Err(_) => raw.to_string(),
    }
}

/// Combines lists in priority order (country first, then global): the first
/// occurrence of a URL wins, so a country's own category for a URL is kept.
pub fn merge<'a>(lists: impl IntoIterator<Item = &'a [Entry]>) -> Vec<Entry> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for list in lists {
        for entry in list {
            if seen.insert(dedup_key(&entry.url)) {
                out.push(entry.clone());
            }
        }
    }
    out
}

/// Normalises a country code: `kh`/`KH` → `kh`; `global`/`ZZ` → `global`.
pub fn list_name(country: &str) -> Result<String, ListError> {
    let lower = country.trim().to_ascii_lowercase();
    if lower == "global" || lower == "zz" {
        return Ok("global".into());
    }
    if lower.len() == 2 && lower.bytes().all(|b| b.is_ascii_lowercase()) {
        return Ok(lower);
    }
    Err(ListError::CountryCode(country.to_string()))
}

/// A folder of downloaded lists, one `<cc>.csv` per country plus `global.csv`.
#[derive(Debug, Clone)]
pub struct ListStore {
    dir: PathBuf,
}

impl ListStore {
    /// A store in `dir` (created on the first update).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ListStore { dir: dir.into() }
    }

    /// The store's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the list for `country` (or `global`) is kept.
    pub fn path(&self, country: &str) -> Result<PathBuf, ListError> {
        Ok(self.dir.join(format!("{}.csv", list_name(country)?)))
    }

    /// Reads one stored list.
    pub fn load_one(&self, country: &str) -> Result<TestList, ListError> {
        let path = self.path(country)?;
        let file = std::fs::File::open(&path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                ListError::Missing {
                    country: list_name(country).unwrap_or_default().to_uppercase(),
                    dir: self.dir.clone(),
                }
            } else {
                ListError::Io {
                    path: path.clone(),
                    source,
                }
            }
        })?;
        parse(std::io::BufReader::new(file))
    }

    /// The URLs to measure for `country`: its own list, then the global list,
    /// without duplicates.
    pub fn load_country(&self, country: &str) -> Result<Vec<Entry>, ListError> {
        let own = self.load_one(country)?;
        let global = self.load_one("global")?;
        Ok(merge([own.entries.as_slice(), global.entries.as_slice()]))
    }

    /// Writes a list's bytes atomically (a temporary file, then a rename).
    pub fn store(&self, country: &str, bytes: &[u8]) -> Result<PathBuf, ListError> {
        let path = self.path(country)?;
        let io = |source| ListError::Io {
            path: self.dir.clone(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let tmp = self.dir.join(format!(
            ".{}.tmp",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("list")
        ));
        std::fs::write(&tmp, bytes).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "url,category_code,category_description,date_added,source,notes\n";

    #[test]
    fn rows_with_bad_urls_or_field_counts_are_named_and_others_kept() {
        let csv = format!(
            "{HEADER}https://ok.example/,NEWS,News Media,2020-01-01,x,\n\
             not a url,NEWS,News Media,2020-01-01,x,\n\
             ftp://files.example/,NEWS,News Media,2020-01-01,x,\n\
             https://short.example/,NEWS\n\
             http://second.example/path?q=1,HUMR,Human Rights Issues,2021-02-02,y,\"a, quoted note\"\n"
        );
        let list = parse(csv.as_bytes()).unwrap();
        let urls: Vec<&str> = list.entries.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(
            urls,
            ["https://ok.example/", "http://second.example/path?q=1"]
        );
        assert_eq!(list.entries[1].notes, "a, quoted note");
        let lines: Vec<u64> = list.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [3, 4, 5]);
        assert!(list.problems[1].reason.contains("not http or https"));
        assert!(list.problems[2].reason.contains("expected 6 fields"));
    }

    #[test]
    fn a_file_that_is_not_a_test_list_is_refused() {
        for not_a_list in ["<html><body>404</body></html>", "a,b,c\n1,2,3\n", ""] {
            let err = parse(not_a_list.as_bytes()).unwrap_err();
            assert!(
                matches!(err, ListError::Header { .. }),
                "{not_a_list:?}: {err}"
            );
        }
    }

    #[test]
    fn merge_keeps_the_country_entry_and_drops_later_duplicates() {
        let entry = |url: &str, cat: &str| Entry {
            url: url.into(),
            category_code: cat.into(),
            category_description: String::new(),
            date_added: String::new(),
            source: String::new(),
            notes: String::new(),
        };
        let country = vec![entry("https://www.Example.org/", "NEWS")];
        let global = vec![
            entry("https://www.example.org/", "GRP"),
            entry("https://other.example/", "GRP"),
        ];
        let merged = merge([country.as_slice(), global.as_slice()]);
        let got: Vec<(&str, &str)> = merged
            .iter()
            .map(|e| (e.url.as_str(), e.category_code.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("https://www.Example.org/", "NEWS"),
                ("https://other.example/", "GRP")
            ]
        );
    }

    #[test]
    fn country_codes_are_two_letters_or_global() {
        assert_eq!(list_name("KH").unwrap(), "kh");
        assert_eq!(list_name("global").unwrap(), "global");
        assert_eq!(list_name("ZZ").unwrap(), "global");
        for bad in ["KHM", "k", "../etc", "k1", ""] {
            assert!(list_name(bad).is_err(), "{bad}");
        }
    }
}
