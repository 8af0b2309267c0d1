//! English and Khmer message catalogs and language negotiation.
//!
//! Every string the UI shows comes from `i18n/en.json` or `i18n/km.json`
//! (flat `key → text` objects, embedded at compile time). Templates read
//! them as `tr.key`; an unknown key fails the render (strict undefined), so
//! the page tests catch a missing translation.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Serialize;

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English (the default).
    En,
    /// Khmer.
    Km,
}

/// The English catalog source (the explorer's strings).
pub const EN_JSON: &str = include_str!("../i18n/en.json");
/// The Khmer catalog source (the explorer's strings).
pub const KM_JSON: &str = include_str!("../i18n/km.json");

/// Every English catalog part, by file: the explorer's, then one per UI
/// area (registry, social media, reports). Keys are unique across parts.
pub const EN_PARTS: &[(&str, &str)] = &[
    ("en.json", EN_JSON),
    ("registry.en.json", include_str!("../i18n/registry.en.json")),
    ("social.en.json", include_str!("../i18n/social.en.json")),
    ("report.en.json", include_str!("../i18n/report.en.json")),
];
/// Every Khmer catalog part, in the same order as [`EN_PARTS`].
pub const KM_PARTS: &[(&str, &str)] = &[
    ("km.json", KM_JSON),
    ("registry.km.json", include_str!("../i18n/registry.km.json")),
    ("social.km.json", include_str!("../i18n/social.km.json")),
    ("report.km.json", include_str!("../i18n/report.km.json")),
];

/// A parsed catalog: key → text.
pub type Catalog = BTreeMap<String, String>;

fn parse(parts: &[(&str, &str)]) -> Catalog {
    // The catalogs are compiled in and checked by the tests; a broken part
    // is a build defect, shown as empty rather than a panic at run time.
    let mut out = Catalog::new();
    for (_, src) in parts {
        let part: Catalog = serde_json::from_str(src).unwrap_or_default();
        out.extend(part);
    }
    out
}

impl Lang {
    /// All languages, in switch order.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Km];

    /// `en` or `km`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Km => "km",
        }
    }

    /// Parses `en`/`km` (any case, region suffix ignored: `km-KH`).
    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "km" => Some(Lang::Km),
            _ => None,
        }
    }

    /// This language's catalog.
    pub fn catalog(self) -> &'static Catalog {
        static EN: OnceLock<Catalog> = OnceLock::new();
        static KM: OnceLock<Catalog> = OnceLock::new();
        match self {
            Lang::En => EN.get_or_init(|| parse(EN_PARTS)),
            Lang::Km => KM.get_or_init(|| parse(KM_PARTS)),
        }
    }

    /// The text for `key`, or the key itself when missing (never empty).
    pub fn t(self, key: &str) -> &str {
        self.catalog().get(key).map(String::as_str).unwrap_or(key)
    }

    /// The best language for an `Accept-Language` header: the supported
    /// language with the highest q-value (ties: first listed), else English.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',').take(32) {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .filter(|q| q.is_finite())
                .unwrap_or(1.0);
            if let Some(lang) = Lang::from_code(tag) {
                if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, lang));
                }
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::En)
    }
}
