//! Both catalogs have the same keys, none empty; every template string
//! goes through the catalog; every `tr.key` a template uses exists.

use std::collections::BTreeSet;

use canary_web::all_templates;
use canary_web::i18n::{Lang, EN_PARTS, KM_PARTS};

fn keys(src: &str) -> BTreeSet<String> {
    let v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(src).unwrap();
    assert!(
        v.values()
            .all(|t| t.as_str().is_some_and(|s| !s.trim().is_empty())),
        "no empty text"
    );
    v.keys().cloned().collect()
}

/// The keys of every part of a catalog; a key defined in two parts fails.
fn all_keys(parts: &[(&str, &str)]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (file, src) in parts {
        for k in keys(src) {
            assert!(out.insert(k.clone()), "{file}: key {k} is defined twice");
        }
    }
    out
}

#[test]
fn english_and_khmer_catalogs_have_the_same_keys() {
    let en = all_keys(EN_PARTS);
    let km = all_keys(KM_PARTS);
    let only_en: Vec<_> = en.difference(&km).collect();
    let only_km: Vec<_> = km.difference(&en).collect();
    assert!(
        only_en.is_empty() && only_km.is_empty(),
        "en only {only_en:?}, km only {only_km:?}"
    );
}

#[test]
fn khmer_catalog_is_written_in_khmer() {
    let technical = [
        "site_name",
        "lang_code",
        "layer_dns",
        "layer_http",
        "layer_none",
        "col_asn",
        "export_csv",
        "export_json",
        "verdict_ooni_blocking",
        "verdict_ooni_accessible",
        "footer_api",
    ];
    for (k, text) in Lang::Km.catalog() {
        if technical.contains(&k.as_str()) {
            continue;
        }
        assert!(
            text.chars().any(|c| ('\u{1780}'..='\u{17FF}').contains(&c)),
            "km {k:?} = {text:?} has no Khmer"
        );
        assert_ne!(
            Some(text),
            Lang::En.catalog().get(k),
            "km {k:?} is untranslated"
        );
    }
}

/// Text between tags, with template tags and expressions removed.
fn visible_text(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = src;
    // drop {# #}, {% %}, {{ }}
    let mut stripped = String::new();
    while let Some(i) = rest.find('{') {
        stripped.push_str(&rest[..i]);
        let after = &rest[i..];
        let end = if after.starts_with("{{") {
            after.find("}}").map(|e| e + 2)
        } else if after.starts_with("{%") {
            after.find("%}").map(|e| e + 2)
        } else if after.starts_with("{#") {
            after.find("#}").map(|e| e + 2)
        } else {
            Some(1)
        };
        let end = end.expect("closed template tag");
        rest = &after[end..];
    }
    stripped.push_str(rest);
    // text outside < >
    let mut in_tag = false;
    let mut cur = String::new();
    for ch in stripped.chars() {
        match ch {
            '<' => {
                in_tag = true;
                if !cur.trim().is_empty() {
                    out.push(cur.trim().to_owned());
                }
                cur.clear();
            }
            '>' => in_tag = false,
            c if !in_tag => cur.push(c),
            _ => {}
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_owned());
    }
    out
}

#[test]
fn templates_show_no_text_outside_the_catalog() {
    // punctuation, units and codes are allowed; words are not
    let allowed = |t: &str| {
        let words: Vec<&str> = t
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| !w.is_empty())
            .collect();
        words
            .iter()
            .all(|w| ["AS", "HTTP", "SNI", "B", "JSON", "doctype", "html"].contains(w))
    };
    for (name, src) in all_templates() {
        for t in visible_text(src) {
            assert!(
                allowed(&t),
                "{name}: literal text {t:?} bypasses the catalog"
            );
        }
    }
}

#[test]
fn every_catalog_key_used_by_a_template_exists() {
    let en = all_keys(EN_PARTS);
    for (name, src) in all_templates() {
        let mut rest = src;
        while let Some(i) = rest.find("tr.") {
            let tail = &rest[i + 3..];
            let key: String = tail
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            assert!(en.contains(&key), "{name}: tr.{key} is not in the catalog");
            rest = tail;
        }
    }
}

#[test]
fn accept_language_negotiation() {
    let cases = [
        ("km", Lang::Km),
        ("km-KH,km;q=0.9,en;q=0.8", Lang::Km),
        ("en-US,en;q=0.9,km;q=0.8", Lang::En),
        ("fr, km;q=0.5", Lang::Km),
        ("fr, de", Lang::En),
        ("km;q=0, en;q=0.1", Lang::En),
        ("", Lang::En),
        ("km;q=abc", Lang::Km),
        (";;;,,,=", Lang::En),
    ];
    for (header, want) in cases {
        assert_eq!(Lang::from_accept_language(header), want, "{header:?}");
    }
}

#[test]
fn every_verdict_kind_has_a_plain_words_label() {
    // canary_analysis::verdict::Kind, by its serde name
    let kinds = [
        "nxdomain",
        "refused",
        "servfail",
        "no_answer",
        "timeout",
        "bogon",
        "inconsistent",
        "injection",
        "blockpage_ip",
        "reset",
        "blackhole",
        "refused_connection",
        "eof",
        "interception",
        "handshake_failure",
        "blockpage",
        "diff",
        "redirect_to_blockpage",
        "server_side",
        "throttling",
        "other",
    ];
    for k in kinds {
        let key = format!("kind_{k}");
        for lang in Lang::ALL {
            assert!(lang.catalog().contains_key(&key), "{lang:?} lacks {key}");
        }
    }
}
