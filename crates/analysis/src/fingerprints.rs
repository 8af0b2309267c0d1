//! Blockpage fingerprints: known answers and pages that censors serve.
//!
//! A *fingerprint* says "if you see this pattern in this place, the response
//! came from a censor (or, for scope [`Scope::Fp`], from an ordinary server
//! that merely looks like one)". The format is OONI's
//! [blocking-fingerprints](https://github.com/ooni/blocking-fingerprints) CSV:
//!
//! ```text
//! name,scope,other_names,location_found,pattern_type,pattern,confidence_no_fp,expected_countries,source,exp_url,notes
//! ```
//!
//! * `location_found` is `dns` (a DNS answer: an IP address or a hostname),
//!   `body` (the HTTP response body) or `header.<name>` (an HTTP header value);
//! * `pattern_type` is `full`, `prefix`, `contains` or `regexp`. Regular
//!   expressions are real regular expressions here (OONI's fastpath searches
//!   them as literal text), and header `contains` rows do match (the fastpath
//!   never matches them);
//! * scope `fp` marks known **false positives**: when an `fp` row matches a
//!   location, the other rows matching that same location are *suppressed*
//!   (a body matching an `fp` row is not a blockpage);
//! * a match is *confirmed* for a country exactly as in OONI: the country is
//!   in `expected_countries`, or the scope is `isp` or `nat`
//!   ([`Fingerprint::is_confirmed`]).
//!
//! Matching is fast whatever the number of rows: per location, one sampled
//! pass over the text finds every `contains` literal together with the
//! literals that the regular expressions require; a regular expression runs
//! only when its required literals are present (the few without any run as one
//! [`regex::bytes::RegexSet`]), and `prefix`/`full` rows are compared with
//! the start of the text. The result is exactly that of testing every row on
//! its own (`tests/fingerprints_fast_equals_naive.rs` checks it).
//!
//! Canary ships its own default set, written for Canary, including the known
//! Cambodian DNS blockpage addresses and the Canary lab's blockpage marker
//! ([`FingerprintDb::canary_default`]). More rows (e.g. OONI's files) can be
//! added with [`FingerprintDb::merge`]. This module never opens files: the
//! caller does, and hands over a `&str` or an [`std::io::Read`].
//!
//! ```
//! use canary_analysis::fingerprints::FingerprintDb;
//!
//! let csv = "name,scope,other_names,location_found,pattern_type,pattern,confidence_no_fp,expected_countries,source,exp_url,notes\n\
//!            my.kh_page,isp,,body,regexp,Blocked by [A-Z]+ order,7,KH,me,,\n";
//! let mut db = FingerprintDb::canary_default();
//! db.merge(FingerprintDb::from_csv_str(csv).unwrap()).unwrap();
//!
//! let body = b"<html><h1>Blocked by MPTC order</h1></html>";
//! let m = db.match_http(body, [("Server", "nginx")]);
//! assert_eq!(m.blockpages[0].name, "my.kh_page");
//! assert!(m.confirmed("KH").is_some());
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Read;
use std::net::IpAddr;
use std::str::FromStr;

use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use serde::{Deserialize, Serialize};

use crate::scan::{Literal, LiteralScanner, MIN_SAMPLED_LEN};
use crate::AnalysisError;

/// Largest fingerprint CSV accepted by [`FingerprintDb::from_reader`] (bytes).
pub const MAX_CSV_BYTES: u64 = 16 * 1024 * 1024;
/// Largest number of rows accepted in one CSV.
pub const MAX_ROWS: usize = 100_000;
/// Longest pattern accepted (bytes).
pub const MAX_PATTERN_BYTES: usize = 4096;
/// Compiled-size limit for one regular expression (bytes of program).
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Compiled-size limit for the set of all regular expressions of a location.
const REGEX_SET_SIZE_LIMIT: usize = 64 << 20;

/// The CSV columns, in OONI's order.
pub const CSV_COLUMNS: [&str; 11] = [
    "name",
    "scope",
    "other_names",
    "location_found",
    "pattern_type",
    "pattern",
    "confidence_no_fp",
    "expected_countries",
    "source",
    "exp_url",
    "notes",
];

/// Canary's own default fingerprints (authored for Canary, not copied).
const CANARY_DEFAULT_CSV: &str = include_str!("../data/canary_fingerprints.csv");

/// Who deploys the blocking that a fingerprint recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Nation-wide blocking (a national gateway or regulator's page).
    Nat,
    /// One ISP's blocking.
    Isp,
    /// A commercial filtering product (may be deployed anywhere).
    Prod,
    /// An institution's filter (school, office).
    Inst,
    /// A vague blocking word: suggestive, not proof.
    Vbw,
    /// A known false positive: an ordinary page that resembles a blockpage.
    Fp,
    /// Injected blockpage (allowed by OONI's validator).
    Injb,
    /// A provider-level page (allowed by OONI's validator).
    Prov,
}

impl Scope {
    /// The CSV spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Nat => "nat",
            Scope::Isp => "isp",
            Scope::Prod => "prod",
            Scope::Inst => "inst",
            Scope::Vbw => "vbw",
            Scope::Fp => "fp",
            Scope::Injb => "injb",
            Scope::Prov => "prov",
        }
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "nat" => Scope::Nat,
            "isp" => Scope::Isp,
            "prod" => Scope::Prod,
            "inst" => Scope::Inst,
            "vbw" => Scope::Vbw,
            "fp" => Scope::Fp,
            "injb" => Scope::Injb,
            "prov" => Scope::Prov,
            other => {
                return Err(format!(
                    "unknown scope {other:?} (expected nat, isp, prod, inst, vbw, fp, injb or prov)"
                ))
            }
        })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a fingerprint's pattern is looked for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// A DNS answer (IP address or hostname), matched exactly.
    Dns,
    /// The HTTP response body.
    Body,
    /// The value of the named HTTP response header (name lower-cased).
    Header(String),
}

impl Location {
    /// The CSV spelling (`dns`, `body`, `header.<name>`).
    pub fn to_csv(&self) -> String {
        match self {
            Location::Dns => "dns".to_string(),
            Location::Body => "body".to_string(),
            Location::Header(h) => format!("header.{h}"),
        }
    }
}

impl FromStr for Location {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "dns" => Ok(Location::Dns),
            "body" => Ok(Location::Body),
            other => match other.strip_prefix("header.") {
                Some(name) if is_header_token(name) => {
                    Ok(Location::Header(name.to_ascii_lowercase()))
                }
                Some(name) => Err(format!("invalid header name {name:?} in location_found")),
                None => Err(format!(
                    "unknown location_found {other:?} (expected dns, body or header.<name>)"
                )),
            },
        }
    }
}

fn is_header_token(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// How a pattern is compared with the text at its location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PatternType {
    /// The whole text equals the pattern.
    Full,
    /// The text starts with the pattern.
    Prefix,
    /// The text contains the pattern.
    Contains,
    /// The regular expression (Rust `regex` syntax, close to RE2) matches somewhere.
    Regexp,
}

impl FromStr for PatternType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "full" => PatternType::Full,
            "prefix" => PatternType::Prefix,
            "contains" => PatternType::Contains,
            "regexp" => PatternType::Regexp,
            other => {
                return Err(format!(
                    "unknown pattern_type {other:?} (expected full, prefix, contains or regexp)"
                ))
            }
        })
    }
}

/// One fingerprint row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Unique name, e.g. `canary.kh_dns_viettel`.
    pub name: String,
    /// Who deploys it.
    pub scope: Scope,
    /// Names of the same fingerprint in other databases.
    pub other_names: Vec<String>,
    /// Where the pattern is looked for.
    pub location: Location,
    /// How the pattern is compared.
    pub pattern_type: PatternType,
    /// The pattern. For DNS rows it is normalised (canonical IP text, or a
    /// lower-cased hostname without trailing dot).
    pub pattern: String,
    /// Self-assessed confidence that this is not a false positive (0–10).
    pub confidence_no_fp: Option<u8>,
    /// Countries where a match is confirmed blocking (upper-case ISO codes).
    pub expected_countries: Vec<String>,
    /// Where the row comes from.
    pub source: String,
    /// An example measurement URL.
    pub exp_url: String,
    /// Free-text notes.
    pub notes: String,
}

impl Fingerprint {
    /// OONI's rule: a match is confirmed blocking in `cc` when `cc` is one of
    /// the expected countries, or when the scope is `isp` or `nat`.
    pub fn is_confirmed(&self, cc: &str) -> bool {
        matches!(self.scope, Scope::Isp | Scope::Nat)
            || self
                .expected_countries
                .iter()
                .any(|c| c.eq_ignore_ascii_case(cc))
    }
}

/// Normalise a DNS answer or DNS pattern: canonical IP text, or a
/// lower-cased hostname without the trailing dot.
pub fn normalize_dns_answer(answer: &str) -> String {
    let t = answer.trim();
    match t.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => t.trim_end_matches('.').to_ascii_lowercase(),
    }
}

/// What a literal found by the scanner means.
#[derive(Debug, Clone)]
enum Target {
    /// Fingerprint `row` (pattern type `contains`) is this literal.
    Row(usize),
    /// Required set `set` of gated regular expression `regex` is present.
    Gate { regex: usize, set: u8 },
}

/// A regular expression that only runs when its required literals were seen.
#[derive(Debug, Clone)]
struct GatedRegex {
    regex: Regex,
    row: usize,
    /// Bit mask with one bit per required set.
    full: u8,
}

/// Compiled matcher for one HTTP location.
///
/// One pass of a [`LiteralScanner`] finds every `contains` literal (exact
/// bytes) and every literal that a regular-expression row requires
/// ([`crate::literals`], up to ASCII case). A regular expression then runs
/// only on a text in which each of its required sets was seen; the few with
/// no required literal run on every text as one [`RegexSet`]. `prefix` and
/// `full` rows are compared directly with the start of the text.
#[derive(Debug, Clone)]
struct TextMatcher {
    scanner: Option<LiteralScanner>,
    /// Per scanner literal: what finding it means.
    targets: Vec<Vec<Target>>,
    /// `prefix` and `full` rows: (pattern, row, type).
    anchored: Vec<(Box<[u8]>, usize, PatternType)>,
    gated: Vec<GatedRegex>,
    always: Option<RegexSet>,
    /// Per index of `always`: the fingerprint.
    always_rows: Vec<usize>,
}

impl TextMatcher {
    fn build(rows: &[(usize, &Fingerprint)]) -> Result<Self, String> {
        let mut index: HashMap<(bool, Vec<u8>), usize> = HashMap::new();
        let mut literals: Vec<Literal> = Vec::new();
        let mut targets: Vec<Vec<Target>> = Vec::new();
        let mut add = |exact: bool, bytes: &[u8], target: Target| {
            let id = *index.entry((exact, bytes.to_vec())).or_insert_with(|| {
                literals.push(Literal {
                    bytes: bytes.to_vec(),
                    exact,
                });
                targets.push(Vec::new());
                targets.len() - 1
            });
            if let Some(t) = targets.get_mut(id) {
                t.push(target);
            }
        };
        let mut anchored = Vec::new();
        let mut gated = Vec::new();
        let mut always_sources: Vec<&str> = Vec::new();
        let mut always_rows = Vec::new();
        for &(idx, fp) in rows {
            match fp.pattern_type {
                PatternType::Contains => add(true, fp.pattern.as_bytes(), Target::Row(idx)),
                PatternType::Prefix | PatternType::Full => {
                    anchored.push((fp.pattern.as_bytes().into(), idx, fp.pattern_type));
                }
                PatternType::Regexp => {
                    let required = crate::literals::required_literals(&fp.pattern, MIN_SAMPLED_LEN);
                    if required.is_empty() {
                        always_sources.push(&fp.pattern);
                        always_rows.push(idx);
                        continue;
                    }
                    let regex = RegexBuilder::new(&fp.pattern)
                        .size_limit(REGEX_SIZE_LIMIT)
                        .build()
                        .map_err(|e| {
                            format!("cannot build regular expression {:?}: {e}", fp.name)
                        })?;
                    let regex_id = gated.len();
                    let mut full = 0u8;
                    for (set, literals) in required.iter().enumerate().take(8) {
                        full |= 1 << set;
                        for lit in literals {
                            let target = Target::Gate {
                                regex: regex_id,
                                set: set as u8,
                            };
                            add(false, lit, target);
                        }
                    }
                    gated.push(GatedRegex {
                        regex,
                        row: idx,
                        full,
                    });
                }
            }
        }
        let scanner = if literals.is_empty() {
            None
        } else {
            Some(LiteralScanner::new(literals)?)
        };
        let always = if always_sources.is_empty() {
            None
        } else {
            Some(
                RegexSetBuilder::new(&always_sources)
                    .size_limit(REGEX_SET_SIZE_LIMIT)
                    .dfa_size_limit(REGEX_SET_SIZE_LIMIT)
                    .build()
                    .map_err(|e| format!("cannot build regular-expression set: {e}"))?,
            )
        };
        Ok(TextMatcher {
            scanner,
            targets,
            anchored,
            gated,
            always,
            always_rows,
        })
    }

    /// Push the indexes of every fingerprint matching `hay` into `out`.
    fn find(&self, hay: &[u8], scratch: &mut Scratch, out: &mut Vec<usize>) {
        for (pattern, idx, kind) in &self.anchored {
            let hit = match kind {
                PatternType::Full => hay == &pattern[..],
                _ => hay.starts_with(pattern),
            };
            if hit {
                out.push(*idx);
            }
        }
        scratch.gates.clear();
        scratch.gates.resize(self.gated.len(), 0);
        if let Some(scanner) = &self.scanner {
            scratch.found.clear();
            scanner.scan(hay, &mut scratch.seen, &mut scratch.found);
            for &id in &scratch.found {
                for target in self.targets.get(id as usize).into_iter().flatten() {
                    match *target {
                        Target::Row(idx) => out.push(idx),
                        Target::Gate { regex, set } => {
                            if let Some(g) = scratch.gates.get_mut(regex) {
                                *g |= 1 << set;
                            }
                        }
                    }
                }
            }
        }
        for (g, mask) in self.gated.iter().zip(&scratch.gates) {
            if *mask == g.full && g.regex.is_match(hay) {
                out.push(g.row);
            }
        }
        if let Some(set) = &self.always {
            for i in set.matches(hay).iter() {
                if let Some(&idx) = self.always_rows.get(i) {
                    out.push(idx);
                }
            }
        }
    }

    /// Heap bytes of the literal scanner.
    fn literal_memory_usage(&self) -> usize {
        self.scanner
            .as_ref()
            .map_or(0, LiteralScanner::memory_usage)
    }
}

/// Reusable buffers for one `match_http` call.
#[derive(Debug, Default)]
struct Scratch {
    seen: Vec<bool>,
    found: Vec<u32>,
    gates: Vec<u8>,
}

/// The result of matching an HTTP response against the database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HttpMatches<'a> {
    /// Blockpage fingerprints that matched (not suppressed by an `fp` row).
    pub blockpages: Vec<&'a Fingerprint>,
    /// Scope-`fp` rows that matched: this response resembles a known ordinary page.
    pub false_positives: Vec<&'a Fingerprint>,
    /// Blockpage rows that matched but were overruled by an `fp` row at the same location.
    pub suppressed: Vec<&'a Fingerprint>,
}

impl<'a> HttpMatches<'a> {
    /// True when at least one (unsuppressed) blockpage fingerprint matched.
    pub fn is_blockpage(&self) -> bool {
        !self.blockpages.is_empty()
    }

    /// The first matching blockpage fingerprint that is confirmed for `cc`.
    pub fn confirmed(&self, cc: &str) -> Option<&'a Fingerprint> {
        self.blockpages.iter().copied().find(|f| f.is_confirmed(cc))
    }
}

/// A compiled, immutable set of fingerprints.
///
/// Build it once (parsing and compiling ~2,000 rows takes milliseconds) and
/// share it; all matching methods take `&self`.
#[derive(Debug, Clone, Default)]
pub struct FingerprintDb {
    rows: Vec<Fingerprint>,
    dns: HashMap<String, Vec<usize>>,
    body: Option<TextMatcher>,
    headers: BTreeMap<String, TextMatcher>,
}

impl FingerprintDb {
    /// An empty database.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Canary's own default fingerprints (embedded in the binary).
    ///
    /// It includes the Cambodian DNS blockpage addresses `36.37.242.94`
    /// (Viettel Cambodia, AS38623) and `10.10.10.1` (a pfBlockerNG-style
    /// sinkhole), the Canary lab's blockpage marker `canary-lab-blockpage`,
    /// a few generic blockpage phrases and known look-alike pages.
    pub fn canary_default() -> Self {
        // The embedded CSV is part of this crate and checked by the unit tests;
        // it cannot fail at run time unless the crate itself is broken.
        #[allow(clippy::expect_used)]
        Self::from_csv_str(CANARY_DEFAULT_CSV).expect("embedded Canary fingerprint CSV is valid")
    }

    /// Parse fingerprints from CSV text in OONI's format.
    ///
    /// The header row must name at least the columns `name`, `scope`,
    /// `location_found`, `pattern_type` and `pattern` (any order; the other
    /// [`CSV_COLUMNS`] are optional). A bad row gives
    /// [`AnalysisError::FingerprintRow`] with its line number and the reason.
    pub fn from_csv_str(text: &str) -> Result<Self, AnalysisError> {
        if text.len() as u64 > MAX_CSV_BYTES {
            return Err(AnalysisError::FingerprintInput(format!(
                "CSV is {} bytes, more than the {MAX_CSV_BYTES}-byte limit",
                text.len()
            )));
        }
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(text.as_bytes());
        let headers = rdr
            .headers()
            .map_err(|e| AnalysisError::FingerprintRow {
                line: 1,
                reason: format!("unreadable header: {e}"),
            })?
            .clone();
        let col = |name: &str| headers.iter().position(|h| h.trim() == name);
        let required = ["name", "scope", "location_found", "pattern_type", "pattern"];
        for r in required {
            if col(r).is_none() {
                return Err(AnalysisError::FingerprintRow {
                    line: 1,
                    reason: format!("header lacks the required column {r:?}"),
                });
            }
        }
        let cols: Vec<Option<usize>> = CSV_COLUMNS.iter().map(|c| col(c)).collect();
        let mut rows = Vec::new();
        let mut names: HashMap<String, u64> = HashMap::new();
        for record in rdr.records() {
            let record = record.map_err(|e| AnalysisError::FingerprintRow {
                line: e.position().map(|p| p.line()).unwrap_or(0),
                reason: format!("malformed CSV: {e}"),
            })?;
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            if rows.len() >= MAX_ROWS {
                return Err(AnalysisError::FingerprintRow {
                    line,
                    reason: format!("more than {MAX_ROWS} rows"),
                });
            }
            let field = |i: usize| -> &str {
                cols[i]
                    .and_then(|c| record.get(c))
                    .map(str::trim)
                    .unwrap_or("")
            };
            let fp = parse_row(&field)
                .map_err(|reason| AnalysisError::FingerprintRow { line, reason })?;
            if let Some(first) = names.insert(fp.name.clone(), line) {
                return Err(AnalysisError::FingerprintRow {
                    line,
                    reason: format!("duplicate name {:?} (first seen on line {first})", fp.name),
                });
            }
            rows.push(fp);
        }
        Self::from_rows(rows)
    }

    /// Read CSV from any reader, at most [`MAX_CSV_BYTES`] bytes, then parse
    /// it like [`FingerprintDb::from_csv_str`].
    pub fn from_reader<R: Read>(reader: R) -> Result<Self, AnalysisError> {
        let mut buf = Vec::new();
        reader
            .take(MAX_CSV_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|e| AnalysisError::FingerprintInput(format!("read failed: {e}")))?;
        if buf.len() as u64 > MAX_CSV_BYTES {
            return Err(AnalysisError::FingerprintInput(format!(
                "CSV is larger than the {MAX_CSV_BYTES}-byte limit"
            )));
        }
        let text = String::from_utf8(buf).map_err(|e| {
            AnalysisError::FingerprintInput(format!(
                "CSV is not UTF-8 (first bad byte at offset {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        Self::from_csv_str(&text)
    }

    /// Build a database from already-typed rows (names must be unique).
    pub fn from_rows(rows: Vec<Fingerprint>) -> Result<Self, AnalysisError> {
        let mut db = FingerprintDb {
            rows,
            ..Self::default()
        };
        db.rebuild()?;
        Ok(db)
    }

    /// Add the rows of `other`. A row of `other` with the same name **and**
    /// location as an existing row replaces it (so a user file can correct a
    /// default). Names are only unique per location: OONI's DNS and HTTP
    /// files reuse a few names (e.g. `ooni.th_9`) for different rows.
    pub fn merge(&mut self, other: FingerprintDb) -> Result<(), AnalysisError> {
        let mut by_key: HashMap<(String, Location), usize> = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, f)| ((f.name.clone(), f.location.clone()), i))
            .collect();
        for fp in other.rows {
            let key = (fp.name.clone(), fp.location.clone());
            match by_key.get(&key) {
                Some(&i) => self.rows[i] = fp,
                None => {
                    by_key.insert(key, self.rows.len());
                    self.rows.push(fp);
                }
            }
        }
        self.rebuild()
    }

    fn rebuild(&mut self) -> Result<(), AnalysisError> {
        let mut dns: HashMap<String, Vec<usize>> = HashMap::new();
        let mut body_rows = Vec::new();
        let mut header_rows: BTreeMap<String, Vec<(usize, &Fingerprint)>> = BTreeMap::new();
        for (i, fp) in self.rows.iter().enumerate() {
            match &fp.location {
                Location::Dns => dns
                    .entry(normalize_dns_answer(&fp.pattern))
                    .or_default()
                    .push(i),
                Location::Body => body_rows.push((i, fp)),
                Location::Header(h) => header_rows.entry(h.clone()).or_default().push((i, fp)),
            }
        }
        let err = |reason: String| AnalysisError::FingerprintInput(reason);
        let body = if body_rows.is_empty() {
            None
        } else {
            Some(TextMatcher::build(&body_rows).map_err(err)?)
        };
        let mut headers = BTreeMap::new();
        for (name, rows) in header_rows {
            headers.insert(name, TextMatcher::build(&rows).map_err(err)?);
        }
        self.dns = dns;
        self.body = body;
        self.headers = headers;
        Ok(())
    }

    /// Heap bytes used by the compiled literal scanners.
    pub fn matcher_memory_usage(&self) -> usize {
        self.body
            .iter()
            .chain(self.headers.values())
            .map(TextMatcher::literal_memory_usage)
            .sum()
    }

    /// All rows, in load order.
    pub fn rows(&self) -> &[Fingerprint] {
        &self.rows
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Look a row up by name (the first one, if a name is used at several locations).
    pub fn get(&self, name: &str) -> Option<&Fingerprint> {
        self.rows.iter().find(|f| f.name == name)
    }

    /// DNS fingerprints equal to `answer` (an IP address or a hostname;
    /// compared after [`normalize_dns_answer`]). Scope-`fp` rows are left out.
    pub fn match_dns(&self, answer: &str) -> Vec<&Fingerprint> {
        self.dns
            .get(&normalize_dns_answer(answer))
            .map(|ids| {
                ids.iter()
                    .map(|&i| &self.rows[i])
                    .filter(|f| f.scope != Scope::Fp)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Match an HTTP response: its body bytes and its `(name, value)` headers
    /// (names in any case; a header may appear several times).
    pub fn match_http<I, N, V>(&self, body: &[u8], headers: I) -> HttpMatches<'_>
    where
        I: IntoIterator<Item = (N, V)>,
        N: AsRef<str>,
        V: AsRef<str>,
    {
        let mut result = HttpMatches::default();
        let mut hits = Vec::new();
        let mut scratch = Scratch::default();
        if let Some(m) = &self.body {
            m.find(body, &mut scratch, &mut hits);
            self.classify(&mut hits, &mut result);
        }
        for (name, value) in headers {
            let name = name.as_ref().to_ascii_lowercase();
            if let Some(m) = self.headers.get(&name) {
                m.find(value.as_ref().as_bytes(), &mut scratch, &mut hits);
                self.classify(&mut hits, &mut result);
            }
        }
        result.blockpages.dedup_by(|a, b| a.name == b.name);
        result
    }

    /// Sort the hits of one location into blockpages / false positives / suppressed.
    fn classify<'a>(&'a self, hits: &mut Vec<usize>, out: &mut HttpMatches<'a>) {
        hits.sort_unstable();
        hits.dedup();
        let any_fp = hits.iter().any(|&i| self.rows[i].scope == Scope::Fp);
        for &i in hits.iter() {
            let fp = &self.rows[i];
            if fp.scope == Scope::Fp {
                push_unique(&mut out.false_positives, fp);
            } else if any_fp {
                push_unique(&mut out.suppressed, fp);
            } else {
                push_unique(&mut out.blockpages, fp);
            }
        }
        hits.clear();
    }
}

fn push_unique<'a>(v: &mut Vec<&'a Fingerprint>, fp: &'a Fingerprint) {
    if !v.iter().any(|f| std::ptr::eq(*f, fp)) {
        v.push(fp);
    }
}

/// Validate and type one CSV row. `field(i)` returns column `CSV_COLUMNS[i]`.
fn parse_row<'r>(field: &dyn Fn(usize) -> &'r str) -> Result<Fingerprint, String> {
    let name = field(0);
    if name.is_empty() {
        return Err("empty name".into());
    }
    if name.len() > 200 {
        return Err(format!("name longer than 200 bytes ({})", name.len()));
    }
    let scope: Scope = field(1).parse()?;
    let other_names = split_list(field(2));
    let location: Location = field(3).parse()?;
    let pattern_type: PatternType = field(4).parse()?;
    let raw_pattern = field(5);
    if raw_pattern.is_empty() {
        return Err(format!("fingerprint {name:?} has an empty pattern"));
    }
    if raw_pattern.len() > MAX_PATTERN_BYTES {
        return Err(format!(
            "pattern is {} bytes, more than the {MAX_PATTERN_BYTES}-byte limit",
            raw_pattern.len()
        ));
    }
    let pattern = match (&location, pattern_type) {
        (Location::Dns, PatternType::Full) => normalize_dns_answer(raw_pattern),
        (Location::Dns, other) => {
            return Err(format!(
                "DNS fingerprints must use pattern_type full, not {other:?}"
            ))
        }
        (_, PatternType::Regexp) => {
            let compile = |p: &str| {
                regex::bytes::RegexBuilder::new(p)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .map(|_| ())
            };
            if (raw_pattern.contains("\\b") || raw_pattern.contains("\\B"))
                && !raw_pattern.contains("-u")
            {
                // A Unicode word boundary cannot run in the regex crate's
                // DFAs: it drags the whole RegexSet to a ~10x slower engine.
                tracing::warn!(
                    fingerprint = name,
                    "regexp uses a Unicode word boundary; prefer (?-u:\\b) for speed"
                );
            }
            match compile(raw_pattern) {
                Ok(()) => raw_pattern.to_string(),
                Err(e) => {
                    // RE2 and Python (where OONI's rows come from) read a `{`
                    // that does not open a repetition as a literal brace;
                    // Rust's regex rejects it. Escape such braces and retry.
                    let escaped = escape_literal_braces(raw_pattern);
                    if escaped != raw_pattern && compile(&escaped).is_ok() {
                        escaped
                    } else {
                        let msg = e.to_string();
                        let last = msg.lines().last().unwrap_or("").trim().to_string();
                        return Err(format!(
                            "invalid regular expression {raw_pattern:?}: {last}"
                        ));
                    }
                }
            }
        }
        _ => raw_pattern.to_string(),
    };
    let confidence_no_fp = match field(6) {
        "" => None,
        s => match s.parse::<u8>() {
            Ok(v) if v <= 10 => Some(v),
            _ => return Err(format!("confidence_no_fp {s:?} is not an integer 0..=10")),
        },
    };
    let mut expected_countries = Vec::new();
    for cc in split_list(field(7)) {
        if cc.len() != 2 || !cc.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(format!(
                "expected_countries entry {cc:?} is not a two-letter country code"
            ));
        }
        expected_countries.push(cc.to_ascii_uppercase());
    }
    Ok(Fingerprint {
        name: name.to_string(),
        scope,
        other_names,
        location,
        pattern_type,
        pattern,
        confidence_no_fp,
        expected_countries,
        source: field(8).to_string(),
        exp_url: field(9).to_string(),
        notes: field(10).to_string(),
    })
}

/// Escape every `{` that does not open a `{n}`, `{n,}` or `{n,m}` repetition
/// after something repeatable, and every `}` that does not close one.
fn escape_literal_braces(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 4);
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            out.push(c);
            if let Some(&n) = chars.get(i + 1) {
                out.push(n);
            }
            i += 2;
            continue;
        }
        if in_class {
            if c == ']' {
                in_class = false;
            }
            out.push(c);
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                out.push(c);
            }
            '{' => {
                let repeatable = i > 0 && !matches!(chars[i - 1], '(' | '|');
                let close = chars[i + 1..]
                    .iter()
                    .position(|&x| x == '}')
                    .map(|k| i + 1 + k);
                let valid = close.is_some_and(|j| {
                    let inner: String = chars[i + 1..j].iter().collect();
                    let mut parts = inner.splitn(2, ',');
                    let lo = parts.next().unwrap_or("");
                    let hi = parts.next();
                    !lo.is_empty()
                        && lo.bytes().all(|b| b.is_ascii_digit())
                        && hi.is_none_or(|h| h.bytes().all(|b| b.is_ascii_digit()))
                });
                match (repeatable && valid, close) {
                    (true, Some(j)) => {
                        out.extend(&chars[i..=j]);
                        i = j + 1;
                        continue;
                    }
                    _ => out.push_str("\\{"),
                }
            }
            '}' => out.push_str("\\}"),
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "name,scope,other_names,location_found,pattern_type,pattern,confidence_no_fp,expected_countries,source,exp_url,notes\n";

    fn db(rows: &str) -> FingerprintDb {
        FingerprintDb::from_csv_str(&format!("{HEADER}{rows}")).unwrap()
    }

    #[test]
    fn the_embedded_default_set_loads_and_has_the_cambodian_rows() {
        let d = FingerprintDb::canary_default();
        let viettel = d.match_dns("36.37.242.94");
        assert_eq!(viettel.len(), 1);
        assert_eq!(viettel[0].scope, Scope::Isp);
        assert!(viettel[0].is_confirmed("KH"));
        let sinkhole = d.match_dns("10.10.10.1");
        assert_eq!(sinkhole.len(), 1);
        assert_eq!(sinkhole[0].scope, Scope::Prod);
        assert!(sinkhole[0].is_confirmed("KH"));
        assert!(
            !sinkhole[0].is_confirmed("TH"),
            "a prod row is confirmed only where expected"
        );
        let lab = d.match_http(
            b"<p>canary-lab-blockpage</p>",
            std::iter::empty::<(&str, &str)>(),
        );
        assert!(lab.confirmed("ZZ").is_some());
        assert!(d.rows().iter().all(|f| f.name.starts_with("canary.")));
    }

    #[test]
    fn the_default_set_recognises_generic_blockpages_and_known_look_alikes() {
        let d = FingerprintDb::canary_default();
        let none = || std::iter::empty::<(&str, &str)>();
        // (page, expected blockpage row, expected fp row)
        let cases: &[(&str, Option<&str>, Option<&str>)] = &[
            ("<p>This website has been blocked by order of the Ministry.</p>", Some("canary.gen_blocked_by_authority"), None),
            ("<p>The page is blocked under Article 12.</p>", Some("canary.gen_blocked_by_authority"), None),
            ("<h1>ACCESS TO THIS SITE HAS BEEN RESTRICTED</h1>", Some("canary.gen_access_restricted"), None),
            ("<title>KH-ISP | Site Blocked</title>", Some("canary.gen_title_site_blocked"), None),
            ("<title>Daily news</title><p>Our page is blocked-free</p>", None, None),
            ("<p>The domain is blockedly fine</p>", None, None),
            (
                "<div id=\"cf-error-details\">Access to this site has been restricted</div>",
                None,
                Some("canary.fp_cloudflare_error_page"),
            ),
            (
                "<html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1><hr><address>Apache/2.4.41 Server</address>",
                None,
                Some("canary.fp_apache_forbidden"),
            ),
        ];
        for (page, blockpage, fp) in cases {
            let m = d.match_http(page.as_bytes(), none());
            assert_eq!(
                m.blockpages.first().map(|f| f.name.as_str()),
                *blockpage,
                "{page}"
            );
            assert_eq!(
                m.false_positives.first().map(|f| f.name.as_str()),
                *fp,
                "{page}"
            );
            if fp.is_some() {
                assert!(!m.is_blockpage(), "{page}");
            }
        }
    }

    #[test]
    fn bad_rows_are_reported_with_their_line_and_reason() {
        let cases: &[(&str, &str, u64, &str)] = &[
            (
                "unknown scope",
                "a,planet,,body,contains,x,5,,,,\n",
                2,
                "unknown scope",
            ),
            (
                "unknown location",
                "a,isp,,cookie,contains,x,5,,,,\n",
                2,
                "unknown location_found",
            ),
            (
                "bad header name",
                "a,isp,,header.,contains,x,5,,,,\n",
                2,
                "invalid header name",
            ),
            (
                "unknown pattern type",
                "a,isp,,body,glob,x,5,,,,\n",
                2,
                "unknown pattern_type",
            ),
            (
                "empty pattern",
                "a,isp,,body,contains,,5,,,,\n",
                2,
                "empty pattern",
            ),
            (
                "dns contains",
                "a,isp,,dns,contains,1.2.3.4,5,,,,\n",
                2,
                "must use pattern_type full",
            ),
            (
                "broken regexp",
                "a,isp,,body,regexp,(unclosed,5,,,,\n",
                2,
                "invalid regular expression",
            ),
            (
                "confidence 11",
                "a,isp,,body,contains,x,11,,,,\n",
                2,
                "confidence_no_fp",
            ),
            (
                "bad country",
                "a,isp,,body,contains,x,5,KHM,,,\n",
                2,
                "two-letter",
            ),
            (
                "empty name",
                ",isp,,body,contains,x,5,,,,\n",
                2,
                "empty name",
            ),
            (
                "duplicate on line 3",
                "a,isp,,body,contains,x,5,,,,\na,isp,,body,contains,y,5,,,,\n",
                3,
                "duplicate name",
            ),
            (
                "short row on line 3",
                "a,isp,,body,contains,x,5,,,,\nb,isp\n",
                3,
                "malformed CSV",
            ),
        ];
        for (what, rows, line, reason) in cases {
            let err = FingerprintDb::from_csv_str(&format!("{HEADER}{rows}")).unwrap_err();
            match &err {
                AnalysisError::FingerprintRow { line: l, reason: r } => {
                    assert_eq!(l, line, "{what}: {err}");
                    assert!(r.contains(reason), "{what}: {r:?} lacks {reason:?}");
                }
                other => panic!("{what}: unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn a_header_without_required_columns_is_rejected() {
        let err = FingerprintDb::from_csv_str("name,scope\na,isp\n").unwrap_err();
        assert!(err.to_string().contains("location_found"), "{err}");
    }

    #[test]
    fn oversized_and_non_utf8_readers_are_rejected() {
        let big = std::io::repeat(b'a').take(MAX_CSV_BYTES + 10);
        assert!(matches!(
            FingerprintDb::from_reader(big),
            Err(AnalysisError::FingerprintInput(_))
        ));
        let bad = [HEADER.as_bytes(), b"a,isp,,body,contains,\xff,5,,,,\n"].concat();
        let err = FingerprintDb::from_reader(&bad[..]).unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");
    }

    #[test]
    fn dns_fingerprints_match_answers_exactly_after_normalisation() {
        let d = db("ip4,isp,,dns,full,36.37.242.94,5,KH,,,\n\
                    ip6,nat,,dns,full,2001:DB8::0:1,5,,,,\n\
                    host,nat,,dns,full,Block.Example.,5,,,,\n");
        let cases: &[(&str, Option<&str>)] = &[
            ("36.37.242.94", Some("ip4")),
            (" 36.37.242.94 ", Some("ip4")),
            ("36.37.242.9", None),
            ("136.37.242.94", None),
            ("2001:db8::1", Some("ip6")),
            ("2001:0db8:0000::0001", Some("ip6")),
            ("block.example", Some("host")),
            ("BLOCK.EXAMPLE.", Some("host")),
            ("notblock.example", None),
        ];
        for (answer, want) in cases {
            let got = d.match_dns(answer).first().map(|f| f.name.as_str());
            assert_eq!(got, *want, "answer {answer:?}");
        }
    }

    #[test]
    fn http_fingerprints_match_each_pattern_type_at_each_location() {
        let d = db("b_contains,isp,,body,contains,Access Denied by ISP,5,,,,\n\
                    b_prefix,isp,,body,prefix,<html><!-- filter,5,,,,\n\
                    b_full,isp,,body,full,blocked,5,,,,\n\
                    b_re,nat,,body,regexp,blocked under (law|decree) [0-9]+,5,,,,\n\
                    h_loc_prefix,isp,,header.location,prefix,http://block.example/,5,,,,\n\
                    h_loc_contains,isp,,header.location,contains,/blocked.html,5,,,,\n\
                    h_server_full,prod,,header.server,full,FilterBox,5,KH,,,\n");
        let none: [(&str, &str); 0] = [];
        type Case<'a> = (&'a str, &'a [u8], &'a [(&'a str, &'a str)], &'a [&'a str]);
        let cases: &[Case] = &[
            (
                "contains in the middle",
                b"xx Access Denied by ISP yy",
                &none,
                &["b_contains"],
            ),
            (
                "contains is case-sensitive",
                b"access denied by isp",
                &none,
                &[],
            ),
            (
                "prefix at start",
                b"<html><!-- filter v2 -->",
                &none,
                &["b_prefix"],
            ),
            ("prefix not at start", b" <html><!-- filter", &none, &[]),
            ("full equal", b"blocked", &none, &["b_full"]),
            ("full is not contains", b"blocked!", &none, &[]),
            (
                "regexp is a real regexp",
                b"site blocked under decree 42 today",
                &none,
                &["b_re"],
            ),
            (
                "regexp is not literal text",
                b"blocked under (law|decree) [0-9]+",
                &none,
                &[],
            ),
            (
                "header prefix, any name case",
                b"",
                &[("Location", "http://block.example/?u=1")],
                &["h_loc_prefix"],
            ),
            (
                "header contains works (OONI never matches these)",
                b"",
                &[("location", "https://isp.example/blocked.html")],
                &["h_loc_contains"],
            ),
            (
                "header full",
                b"",
                &[("SERVER", "FilterBox")],
                &["h_server_full"],
            ),
            (
                "header full needs equality",
                b"",
                &[("server", "FilterBox/2")],
                &[],
            ),
            (
                "header patterns do not look at other headers",
                b"",
                &[("x-location", "http://block.example/")],
                &[],
            ),
            (
                "body patterns do not look at headers",
                b"",
                &[("x-note", "Access Denied by ISP")],
                &[],
            ),
        ];
        for (what, body, headers, want) in cases {
            let m = d.match_http(body, headers.iter().copied());
            let got: Vec<&str> = m.blockpages.iter().map(|f| f.name.as_str()).collect();
            assert_eq!(&got, want, "{what}");
        }
    }

    #[test]
    fn a_false_positive_row_suppresses_blockpage_rows_at_the_same_location_only() {
        let d = db("vague,vbw,,body,contains,Access denied,5,,,,\n\
                    apache,fp,,body,regexp,You don.t have permission to access .* on this server,5,,,,\n\
                    loc,isp,,header.location,contains,/blocked,5,,,,\n");
        let body = b"<h1>Access denied</h1>You don't have permission to access /x on this server";
        let m = d.match_http(body, [("Location", "http://isp/blocked")]);
        let names = |v: &Vec<&Fingerprint>| v.iter().map(|f| f.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&m.false_positives), ["apache"]);
        assert_eq!(names(&m.suppressed), ["vague"]);
        assert_eq!(
            names(&m.blockpages),
            ["loc"],
            "the header match is not overruled by a body fp row"
        );
        let m = d.match_http(
            b"<h1>Access denied</h1>",
            std::iter::empty::<(&str, &str)>(),
        );
        assert_eq!(names(&m.blockpages), ["vague"]);
    }

    #[test]
    fn is_confirmed_follows_ooni() {
        let d = db("n,nat,,body,contains,a,5,,,,\n\
                    i,isp,,body,contains,b,5,,,,\n\
                    p,prod,,body,contains,c,5,\"KH,TH\",,,\n\
                    v,vbw,,body,contains,d,5,,,,\n");
        let cases = [
            ("n", "RU", true),
            ("i", "KH", true),
            ("p", "KH", true),
            ("p", "th", true),
            ("p", "VN", false),
            ("v", "KH", false),
        ];
        for (name, cc, want) in cases {
            assert_eq!(
                d.get(name).unwrap().is_confirmed(cc),
                want,
                "{name} in {cc}"
            );
        }
    }

    #[test]
    fn merge_adds_rows_and_replaces_rows_with_the_same_name() {
        let mut a = db("x,isp,,body,contains,old,5,,,,\ny,isp,,dns,full,1.2.3.4,5,,,,\n");
        let b = db("x,isp,,body,contains,new,5,,,,\nz,isp,,dns,full,5.6.7.8,5,,,,\n");
        a.merge(b).unwrap();
        assert_eq!(a.len(), 3);
        let none = std::iter::empty::<(&str, &str)>();
        assert!(a.match_http(b"old", none.clone()).blockpages.is_empty());
        assert_eq!(a.match_http(b"new", none).blockpages[0].name, "x");
        assert_eq!(a.match_dns("5.6.7.8")[0].name, "z");
        assert_eq!(a.match_dns("1.2.3.4")[0].name, "y");
    }

    #[test]
    fn braces_that_are_not_repetitions_are_literal_as_in_re2() {
        let cases = [
            (r#"{"msg":.*"id":"#, r#"\{"msg":.*"id":"#.to_string()),
            ("a{2}", "a{2}".to_string()),
            ("a{2,}b{1,3}", "a{2,}b{1,3}".to_string()),
            ("x{y}", r"x\{y\}".to_string()),
            ("[{]", "[{]".to_string()),
            (r"\{", r"\{".to_string()),
        ];
        for (input, want) in cases {
            assert_eq!(escape_literal_braces(input), want, "{input}");
        }
        let d = db("j,fp,,body,regexp,\"{\"\"msg\"\":.*\"\"id\"\":\",5,,,,\n");
        let m = d.match_http(
            br#"{"msg": "x", "id": 1}"#,
            std::iter::empty::<(&str, &str)>(),
        );
        assert_eq!(m.false_positives.len(), 1);
    }

    proptest::proptest! {
        #[test]
        fn hostile_csv_never_panics(body in ".{0,400}", pattern in ".{0,40}") {
            let _ = FingerprintDb::from_csv_str(&format!("{HEADER}{body}"));
            let row = format!("{HEADER}x,isp,,body,regexp,\"{}\",5,,,,\n", pattern.replace('"', "\"\""));
            if let Ok(d) = FingerprintDb::from_csv_str(&row) {
                let _ = d.match_http(body.as_bytes(), [("Server", pattern.as_str())]);
            }
            let _ = escape_literal_braces(&pattern);
        }
    }

    #[test]
    fn literals_shared_by_several_rows_report_every_row() {
        let d = db("a,isp,,body,contains,blocked,5,,,,\nb,nat,,body,contains,blocked,5,,,,\nc,nat,,body,full,blocked,5,,,,\n");
        let m = d.match_http(b"blocked", std::iter::empty::<(&str, &str)>());
        let got: Vec<&str> = m.blockpages.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(got, ["a", "b", "c"]);
    }
}
