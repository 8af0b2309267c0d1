//! HTTP-diff heuristics: does the probe's page look like the control's?
//!
//! When a probe fetches a page over plain HTTP, a censor can answer in the
//! site's place. Web Connectivity compares the probe's final response with
//! the one the control (test helper) fetched from an uncensored network, using
//! four cheap signals (OONI ts-017 and probe-cli's code, which is the
//! reference where it differs from the spec text):
//!
//! * [`body_proportion`] — `min/max` of the two body lengths, only when both
//!   are positive and the probe's body was not truncated; the bodies "match"
//!   when the proportion is **> 0.7** ([`body_length_match`]);
//! * [`status_code_match`] — equal status codes; unknown (`None`) when either
//!   is ≤ 0, and unknown when they differ while the control itself did not get
//!   a 2xx (v0.5 rule; v0.4 only excused a 5xx control — see [`DiffRules`]);
//! * [`headers_match`] — the lower-cased header **names**, minus
//!   [`COMMON_HEADERS`], share at least one name;
//! * [`title_match`] — every title word of ≥ 5 bytes (lower-cased) appears in
//!   both titles (the code's rule; the spec text says "any word").
//!
//! **No diff** iff `status_code_match && (body_length_match || headers_match
//! || title_match)`, where unknown counts as false ([`HttpDiff::no_diff`]).
//!
//! Inputs are plain values ([`HttpSide`]) so the same code serves the probe,
//! the importer and the tests. [`extract_title`] pulls a `<title>` out of raw
//! HTML bytes, bounded and forgiving.
//!
//! ```
//! use canary_analysis::httpdiff::{extract_title, title_match, status_code_match};
//!
//! let title = extract_title(b"<html><HEAD><Title>\n  Phnom Penh &amp; Post </title>");
//! assert_eq!(title, "Phnom Penh & Post");
//! assert_eq!(title_match("Phnom Penh Post", "phnom penh post"), Some(true));
//! assert_eq!(status_code_match(403, 200), Some(false)); // probe blocked, control fine
//! assert_eq!(status_code_match(200, 503), None); // the control failed: no opinion
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The 25 header names that almost every server sends; they say nothing
/// about whether two responses come from the same site.
pub const COMMON_HEADERS: [&str; 25] = [
    "date",
    "content-type",
    "server",
    "cache-control",
    "vary",
    "set-cookie",
    "location",
    "expires",
    "x-powered-by",
    "content-encoding",
    "last-modified",
    "accept-ranges",
    "pragma",
    "x-frame-options",
    "etag",
    "x-content-type-options",
    "age",
    "via",
    "p3p",
    "x-xss-protection",
    "content-language",
    "cf-ray",
    "strict-transport-security",
    "link",
    "x-varnish",
];

/// Bodies "match" when their length proportion is strictly above this.
pub const BODY_PROPORTION_THRESHOLD: f64 = 0.7;
/// Title words shorter than this (in bytes) are ignored.
pub const MIN_TITLE_WORD_BYTES: usize = 5;
/// [`extract_title`] looks for `<title>` only in this many leading bytes.
pub const TITLE_SCAN_LIMIT: usize = 1 << 20;
/// [`extract_title`] keeps at most this many bytes of raw title.
pub const TITLE_MAX_BYTES: usize = 2048;

/// Which generation of OONI's rules to follow where they differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffRules {
    /// Web Connectivity v0.4 (`httpanalysis.go`): differing status codes are
    /// excused only when the control got a 5xx; headers also match when the
    /// full name sets are equal.
    V04,
    /// Web Connectivity v0.5 (`minipipeline/httpdiff.go`): differing status
    /// codes are excused whenever the control did not get a 2xx.
    #[default]
    V05,
}

/// One side (probe or control) of the comparison.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpSide {
    /// HTTP status code; ≤ 0 means "no response".
    pub status_code: i64,
    /// Body length in bytes; ≤ 0 means "no body / unknown".
    pub body_length: i64,
    /// True when the body was cut at the probe's size limit.
    pub body_truncated: bool,
    /// Response header names (any case, duplicates allowed).
    pub header_names: Vec<String>,
    /// The page title (e.g. from [`extract_title`]); empty when none.
    pub title: String,
}

/// The outcome of the four heuristics; `None` = not applicable / unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpDiff {
    /// `min/max` of the body lengths.
    pub body_proportion: Option<f64>,
    /// `body_proportion > 0.7`.
    pub body_length_match: Option<bool>,
    /// Status codes equal (with OONI's caveats).
    pub status_code_match: Option<bool>,
    /// At least one uncommon header name on both sides.
    pub headers_match: Option<bool>,
    /// Every long title word on both sides.
    pub title_match: Option<bool>,
}

impl HttpDiff {
    /// OONI's decision: the pages are "the same" iff the status codes match
    /// and at least one of body length, headers or title matches. Unknown
    /// counts as false.
    pub fn no_diff(&self) -> bool {
        self.status_code_match == Some(true)
            && (self.body_length_match == Some(true)
                || self.headers_match == Some(true)
                || self.title_match == Some(true))
    }
}

/// `min/max` of the two body lengths, or `None` when either is ≤ 0 or the
/// probe's body was truncated (its real length is unknown).
pub fn body_proportion(probe_len: i64, control_len: i64, probe_truncated: bool) -> Option<f64> {
    if probe_len <= 0 || control_len <= 0 || probe_truncated {
        return None;
    }
    let (lo, hi) = if probe_len <= control_len {
        (probe_len, control_len)
    } else {
        (control_len, probe_len)
    };
    Some(lo as f64 / hi as f64)
}

/// `proportion > 0.7`, or `None` when the proportion is unknown.
pub fn body_length_match(proportion: Option<f64>) -> Option<bool> {
    proportion.map(|p| p > BODY_PROPORTION_THRESHOLD)
}

/// Status-code match under the v0.5 rule (see [`status_code_match_with`]).
pub fn status_code_match(probe: i64, control: i64) -> Option<bool> {
    status_code_match_with(DiffRules::V05, probe, control)
}

/// Status-code match: `None` when either code is ≤ 0, or when the codes
/// differ and the control's code is not 2xx (v0.5) / is 5xx (v0.4).
pub fn status_code_match_with(rules: DiffRules, probe: i64, control: i64) -> Option<bool> {
    if probe <= 0 || control <= 0 {
        return None;
    }
    if probe == control {
        return Some(true);
    }
    let excused = match rules {
        DiffRules::V04 => control / 100 == 5,
        DiffRules::V05 => control / 100 != 2,
    };
    if excused {
        None
    } else {
        Some(false)
    }
}

fn is_common_header(lower: &str) -> bool {
    COMMON_HEADERS.contains(&lower)
}

/// True when at least one header name outside [`COMMON_HEADERS`] appears on
/// both sides (names compared lower-cased). Always `Some` — the caller
/// decides applicability (both sides need a response; see [`http_diff`]).
pub fn headers_match<P, C, S1, S2>(probe: P, control: C) -> Option<bool>
where
    P: IntoIterator<Item = S1>,
    C: IntoIterator<Item = S2>,
    S1: AsRef<str>,
    S2: AsRef<str>,
{
    let mut seen: BTreeMap<String, u8> = BTreeMap::new();
    for n in probe {
        let n = n.as_ref().to_ascii_lowercase();
        if !is_common_header(&n) {
            *seen.entry(n).or_default() |= 1;
        }
    }
    for n in control {
        let n = n.as_ref().to_ascii_lowercase();
        if !is_common_header(&n) {
            *seen.entry(n).or_default() |= 2;
        }
    }
    Some(seen.values().any(|&v| v == 3))
}

/// The v0.4 variant: also true when the full lower-cased name sets are equal.
fn headers_match_v04(probe: &[String], control: &[String]) -> Option<bool> {
    let set = |v: &[String]| {
        v.iter()
            .map(|s| s.to_ascii_lowercase())
            .collect::<std::collections::BTreeSet<_>>()
    };
    if set(probe) == set(control) {
        return Some(true);
    }
    headers_match(probe, control)
}

/// The words of a title that count: split on whitespace, ≥ 5 bytes,
/// lower-cased.
pub fn long_title_words(title: &str) -> std::collections::BTreeSet<String> {
    normalize_title(title)
        .split_whitespace()
        .filter(|w| w.len() >= MIN_TITLE_WORD_BYTES)
        .map(str::to_lowercase)
        .collect()
}

/// True when every long word of either title appears in both. `None` when
/// the probe's title is empty (nothing to compare).
pub fn title_match(probe: &str, control: &str) -> Option<bool> {
    if normalize_title(probe).is_empty() {
        return None;
    }
    Some(long_title_words(probe) == long_title_words(control))
}

/// Run all four heuristics with the v0.5 rules.
pub fn http_diff(probe: &HttpSide, control: &HttpSide) -> HttpDiff {
    http_diff_with(DiffRules::V05, probe, control)
}

/// Run all four heuristics. Headers and title are compared only when both
/// sides got a response (status > 0); the title also needs an untruncated
/// probe body.
pub fn http_diff_with(rules: DiffRules, probe: &HttpSide, control: &HttpSide) -> HttpDiff {
    let body_proportion =
        body_proportion(probe.body_length, control.body_length, probe.body_truncated);
    let both_answered = probe.status_code > 0 && control.status_code > 0;
    let headers_match = if !both_answered {
        None
    } else {
        match rules {
            DiffRules::V04 => headers_match_v04(&probe.header_names, &control.header_names),
            DiffRules::V05 => headers_match(&probe.header_names, &control.header_names),
        }
    };
    let title_match = if !both_answered || probe.body_truncated {
        None
    } else {
        title_match(&probe.title, &control.title)
    };
    HttpDiff {
        body_proportion,
        body_length_match: body_length_match(body_proportion),
        status_code_match: status_code_match_with(rules, probe.status_code, control.status_code),
        headers_match,
        title_match,
    }
}

/// Decode the common HTML entities and collapse whitespace.
pub fn normalize_title(raw: &str) -> String {
    let decoded = decode_entities(raw);
    let mut out = String::with_capacity(decoded.len());
    for w in decoded.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        let end = tail
            .char_indices()
            .take(12)
            .find(|&(_, c)| c == ';')
            .map(|(i, _)| i);
        let decoded = end.and_then(|e| decode_entity(&tail[1..e]).map(|c| (c, e)));
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &tail[e + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        return char::from_u32(code).filter(|c| *c != '\0');
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "ndash" => '–',
        "mdash" => '—',
        "laquo" => '«',
        "raquo" => '»',
        "copy" => '©',
        "reg" => '®',
        "hellip" => '…',
        "rsquo" => '’',
        "lsquo" => '‘',
        "rdquo" => '”',
        "ldquo" => '“',
        _ => return None,
    })
}

fn find_ci(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len())
        .find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

/// Extract the first `<title>` of an HTML document.
///
/// Case-insensitive, tolerant of attributes (`<title lang="km">`), bounded
/// (looks at the first [`TITLE_SCAN_LIMIT`] bytes and keeps at most
/// [`TITLE_MAX_BYTES`] bytes of title), decodes the common HTML entities and
/// numeric references, collapses whitespace, and replaces invalid UTF-8.
/// Returns an empty string when there is no title.
pub fn extract_title(html: &[u8]) -> String {
    let hay = &html[..html.len().min(TITLE_SCAN_LIMIT)];
    let mut from = 0;
    let start = loop {
        let Some(i) = find_ci(hay, b"<title", from) else {
            return String::new();
        };
        let after = i + b"<title".len();
        match hay.get(after) {
            Some(b'>') => break after + 1,
            Some(c) if c.is_ascii_whitespace() || *c == b'/' => {
                match hay[after..].iter().position(|&b| b == b'>') {
                    Some(gt) => break after + gt + 1,
                    None => return String::new(),
                }
            }
            Some(_) => from = after, // e.g. <titlebar>
            None => return String::new(),
        }
    };
    let end = find_ci(hay, b"</title", start).unwrap_or(hay.len());
    let raw = &hay[start..end.min(start + TITLE_MAX_BYTES)];
    normalize_title(&String::from_utf8_lossy(raw))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn body_proportion_cases() {
        let cases: &[(&str, i64, i64, bool, Option<f64>)] = &[
            ("equal lengths", 100, 100, false, Some(1.0)),
            ("probe shorter", 50, 100, false, Some(0.5)),
            ("probe longer", 100, 50, false, Some(0.5)),
            ("probe empty", 0, 100, false, None),
            ("control failed (-1)", 100, -1, false, None),
            ("probe truncated", 100, 100, true, None),
        ];
        for (what, p, c, t, want) in cases {
            assert_eq!(body_proportion(*p, *c, *t), *want, "{what}");
        }
        assert_eq!(
            body_length_match(Some(0.7)),
            Some(false),
            "0.7 is not > 0.7"
        );
        assert_eq!(body_length_match(Some(0.71)), Some(true));
        assert_eq!(body_length_match(None), None);
    }

    #[test]
    fn status_code_match_cases() {
        let cases: &[(&str, DiffRules, i64, i64, Option<bool>)] = &[
            ("same 200", DiffRules::V05, 200, 200, Some(true)),
            ("same 404", DiffRules::V05, 404, 404, Some(true)),
            (
                "probe blocked 403, control 200",
                DiffRules::V05,
                403,
                200,
                Some(false),
            ),
            (
                "control 404 differs: excused in v0.5",
                DiffRules::V05,
                200,
                404,
                None,
            ),
            (
                "control 404 differs: not excused in v0.4",
                DiffRules::V04,
                200,
                404,
                Some(false),
            ),
            (
                "control 503: excused in both",
                DiffRules::V04,
                200,
                503,
                None,
            ),
            (
                "control 301 differs: excused in v0.5",
                DiffRules::V05,
                200,
                301,
                None,
            ),
            ("no probe response", DiffRules::V05, 0, 200, None),
            ("no control response", DiffRules::V05, 200, -1, None),
        ];
        for (what, rules, p, c, want) in cases {
            assert_eq!(status_code_match_with(*rules, *p, *c), *want, "{what}");
        }
    }

    #[test]
    fn headers_match_cases() {
        let cases: &[(&str, &[&str], &[&str], bool)] = &[
            (
                "shared uncommon header",
                &["Date", "X-Site-Id"],
                &["x-site-id", "Server"],
                true,
            ),
            (
                "only common headers shared",
                &["Date", "Server", "Content-Type"],
                &["date", "server"],
                false,
            ),
            ("no headers at all", &[], &[], false),
            ("uncommon headers differ", &["X-A"], &["X-B"], false),
        ];
        for (what, p, c, want) in cases {
            assert_eq!(headers_match(p.iter(), c.iter()), Some(*want), "{what}");
        }
        // v0.4 extra rule: identical full name sets match even if all common.
        let side = |names: &[&str]| HttpSide {
            status_code: 200,
            header_names: names.iter().map(|s| s.to_string()).collect(),
            ..HttpSide::default()
        };
        let (p, c) = (side(&["Date", "Server"]), side(&["server", "date"]));
        assert_eq!(
            http_diff_with(DiffRules::V04, &p, &c).headers_match,
            Some(true)
        );
        assert_eq!(
            http_diff_with(DiffRules::V05, &p, &c).headers_match,
            Some(false)
        );
    }

    #[test]
    fn title_match_follows_the_code_not_the_spec() {
        let cases: &[(&str, &str, &str, Option<bool>)] = &[
            (
                "same title",
                "Cambodia Daily News",
                "Cambodia Daily News",
                Some(true),
            ),
            (
                "case and order do not matter",
                "News Cambodia",
                "cambodia NEWS",
                Some(true),
            ),
            (
                "short words are ignored",
                "Daily a of News",
                "News",
                Some(false),
            ),
            (
                "long words in any order",
                "Phnom Penh: Daily Report",
                "Report Daily Phnom Penh:",
                Some(true),
            ),
            (
                "one shared long word is not enough",
                "Cambodia Daily",
                "Cambodia Blocked",
                Some(false),
            ),
            ("no long words on either side", "Hi", "Yo", Some(true)),
            ("empty probe title", "", "Cambodia", None),
        ];
        for (what, p, c, want) in cases {
            assert_eq!(title_match(p, c), *want, "{what}");
        }
    }

    #[test]
    fn decision_requires_status_and_one_other_signal() {
        let base = HttpDiff {
            status_code_match: Some(true),
            ..HttpDiff::default()
        };
        let cases = [
            ("status only", base, false),
            (
                "status + body",
                HttpDiff {
                    body_length_match: Some(true),
                    ..base
                },
                true,
            ),
            (
                "status + headers",
                HttpDiff {
                    headers_match: Some(true),
                    ..base
                },
                true,
            ),
            (
                "status + title",
                HttpDiff {
                    title_match: Some(true),
                    ..base
                },
                true,
            ),
            (
                "unknown status + all others",
                HttpDiff {
                    status_code_match: None,
                    body_length_match: Some(true),
                    headers_match: Some(true),
                    title_match: Some(true),
                    body_proportion: None,
                },
                false,
            ),
        ];
        for (what, d, want) in cases {
            assert_eq!(d.no_diff(), want, "{what}");
        }
    }

    #[test]
    fn http_diff_skips_headers_and_title_without_responses() {
        let probe = HttpSide {
            status_code: 0,
            title: "x".into(),
            ..HttpSide::default()
        };
        let control = HttpSide {
            status_code: 200,
            body_length: 10,
            ..HttpSide::default()
        };
        let d = http_diff(&probe, &control);
        assert_eq!(
            (d.headers_match, d.title_match, d.status_code_match),
            (None, None, None)
        );
        let truncated = HttpSide {
            status_code: 200,
            body_length: 10,
            body_truncated: true,
            title: "Hello World".into(),
            ..HttpSide::default()
        };
        let control = HttpSide {
            status_code: 200,
            body_length: 10,
            title: "Hello World".into(),
            ..HttpSide::default()
        };
        assert_eq!(http_diff(&truncated, &control).title_match, None);
    }

    #[test]
    fn extract_title_cases() {
        let cases: &[(&str, &[u8], &str)] = &[
            ("plain", b"<html><title>Hello</title>", "Hello"),
            ("upper case tags", b"<TITLE>Hello</TITLE>", "Hello"),
            ("attributes", b"<title lang=\"km\" >Hello</title>", "Hello"),
            (
                "whitespace collapsed",
                b"<title>\n  Hello \t  World\n</title>",
                "Hello World",
            ),
            (
                "entities",
                b"<title>A &amp; B &lt;C&gt; &#39;d&#x27; &quot;e&quot;&nbsp;f</title>",
                "A & B <C> 'd' \"e\" f",
            ),
            (
                "unknown entity kept",
                b"<title>&bogus; &amp</title>",
                "&bogus; &amp",
            ),
            ("no title", b"<html><body>hi</body>", ""),
            (
                "titlebar is not title",
                b"<titlebar>x</titlebar><title>Real</title>",
                "Real",
            ),
            ("unterminated tag", b"<title", ""),
            (
                "unterminated title takes the rest",
                b"<title>Rest of page",
                "Rest of page",
            ),
            (
                "invalid utf-8 replaced",
                b"<title>ok \xff ok</title>",
                "ok \u{fffd} ok",
            ),
            ("khmer", "<title>ព័ត៌មាន</title>".as_bytes(), "ព័ត៌មាន"),
            (
                "first title wins",
                b"<title>One</title><title>Two</title>",
                "One",
            ),
        ];
        for (what, html, want) in cases {
            assert_eq!(extract_title(html), *want, "{what}");
        }
        let long = format!("<title>{}</title>", "a".repeat(10_000));
        assert_eq!(extract_title(long.as_bytes()).len(), TITLE_MAX_BYTES);
    }

    fn names() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec(
            prop_oneof![
                proptest::sample::select(COMMON_HEADERS.to_vec()).prop_map(str::to_string),
                "[A-Za-z][A-Za-z0-9-]{0,12}",
            ],
            0..8,
        )
    }

    proptest! {
        #[test]
        fn body_proportion_is_symmetric_and_in_unit_range(a in -5i64..1_000_000, b in -5i64..1_000_000) {
            let p = body_proportion(a, b, false);
            prop_assert_eq!(p, body_proportion(b, a, false));
            if let Some(p) = p {
                prop_assert!(p > 0.0 && p <= 1.0);
            } else {
                prop_assert!(a <= 0 || b <= 0);
            }
        }

        #[test]
        fn headers_match_is_symmetric(p in names(), c in names()) {
            prop_assert_eq!(headers_match(&p, &c), headers_match(&c, &p));
        }

        #[test]
        fn adding_a_common_header_never_changes_headers_match(p in names(), c in names(), i in 0usize..25, side in any::<bool>()) {
            let before = headers_match(&p, &c);
            let (mut p2, mut c2) = (p.clone(), c.clone());
            let extra = COMMON_HEADERS[i].to_ascii_uppercase();
            if side { p2.push(extra) } else { c2.push(extra) }
            prop_assert_eq!(before, headers_match(&p2, &c2));
        }

        #[test]
        fn title_match_is_reflexive_and_symmetric(a in "[a-zA-Z ]{1,40}", b in "[a-zA-Z ]{1,40}") {
            if !a.trim().is_empty() {
                prop_assert_eq!(title_match(&a, &a), Some(true));
            }
            if !a.trim().is_empty() && !b.trim().is_empty() {
                prop_assert_eq!(title_match(&a, &b), title_match(&b, &a));
            }
        }

        #[test]
        fn extract_title_never_panics_and_is_bounded(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let t = extract_title(&bytes);
            prop_assert!(t.len() <= TITLE_MAX_BYTES * 3);
            prop_assert!(!t.starts_with(' ') && !t.ends_with(' '));
        }

        #[test]
        fn status_code_match_equal_positive_codes_always_match(code in 1i64..1000) {
            prop_assert_eq!(status_code_match(code, code), Some(true));
        }
    }
}
