//! Required literals of a regular expression: text that every match must
//! contain, so a body that lacks it need not be searched with the regex.
//!
//! The fingerprint matcher ([`crate::fingerprints`]) adds these literals to
//! its one Aho-Corasick pass (which compares ASCII letters without regard to
//! case) and runs a regular expression only on a body in which each of its
//! required sets was seen. The extraction is *sound*: whatever it returns,
//! every match of the regex contains, up to ASCII case, at least one literal
//! of every returned set. When it cannot tell, it returns nothing and the
//! regex simply runs on every body.
//!
//! ```text
//! (?i-u)(site|page)\s+(has\s+been|is)\s+blocked
//!   → [["blocked"], ["page", "site"]]   (with min_len 3: "is" is too short)
//! ```

use regex_syntax::hir::{Class, Hir, HirKind};

/// Most alternatives in one set (a longer disjunction gates nothing).
const MAX_ALTERNATIVES: usize = 64;
/// Most sets kept per regex (the ones with the longest shortest member).
const MAX_SETS: usize = 4;

/// A conjunction of disjunctions: every match contains, up to ASCII case,
/// one literal of each set. Empty when nothing useful is known.
pub(crate) type Required = Vec<Vec<Vec<u8>>>;

/// The required literal sets of `pattern` (Rust `regex` syntax, parsed as
/// `regex::bytes` does) whose every literal is at least `min_len` bytes
/// long. A pattern that does not parse gives no sets.
pub(crate) fn required_literals(pattern: &str, min_len: usize) -> Required {
    let Ok(hir) = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(pattern)
    else {
        return Vec::new();
    };
    let mut sets = required(&hir, min_len);
    for set in &mut sets {
        set.sort();
        set.dedup();
    }
    sets.sort_by_key(|s| std::cmp::Reverse(shortest(s)));
    sets.dedup();
    sets.truncate(MAX_SETS);
    sets
}

fn shortest(set: &[Vec<u8>]) -> usize {
    set.iter().map(Vec::len).min().unwrap_or(0)
}

/// The exact text `hir` matches, when it matches exactly one text up to
/// ASCII case (letters are returned lower-cased).
fn as_literal(hir: &Hir) -> Option<Vec<u8>> {
    match hir.kind() {
        HirKind::Literal(lit) => Some(lit.0.to_vec()),
        HirKind::Class(class) => single_byte(class).map(|b| vec![b]),
        HirKind::Capture(cap) => as_literal(&cap.sub),
        HirKind::Concat(children) => {
            let mut out = Vec::new();
            for c in children {
                out.extend(as_literal(c)?);
            }
            Some(out)
        }
        _ => None,
    }
}

/// A class matching one ASCII byte, or one ASCII letter in either case.
fn single_byte(class: &Class) -> Option<u8> {
    let mut members: Vec<u32> = Vec::new();
    let mut add = |lo: u32, hi: u32| {
        if hi - lo >= 2 || members.len() > 2 {
            return false;
        }
        members.extend(lo..=hi);
        members.len() <= 2
    };
    let fits = match class {
        Class::Bytes(c) => c
            .ranges()
            .iter()
            .all(|r| add(u32::from(r.start()), u32::from(r.end()))),
        Class::Unicode(c) => c
            .ranges()
            .iter()
            .all(|r| add(u32::from(r.start()), u32::from(r.end()))),
    };
    if !fits {
        return None;
    }
    let bytes: Vec<u8> = members
        .iter()
        .map(|&m| u8::try_from(m).ok().filter(u8::is_ascii))
        .collect::<Option<_>>()?;
    match bytes[..] {
        [b] => Some(b),
        [a, b] if a != b && a.eq_ignore_ascii_case(&b) => Some(a.to_ascii_lowercase()),
        _ => None,
    }
}

fn required(hir: &Hir, min_len: usize) -> Required {
    let usable = |set: &[Vec<u8>]| {
        !set.is_empty() && set.len() <= MAX_ALTERNATIVES && shortest(set) >= min_len.max(1)
    };
    if let Some(lit) = as_literal(hir) {
        let set = vec![lit];
        return if usable(&set) { vec![set] } else { Vec::new() };
    }
    match hir.kind() {
        HirKind::Concat(children) => {
            let mut sets = Vec::new();
            let mut run: Vec<u8> = Vec::new();
            let flush = |run: &mut Vec<u8>, sets: &mut Required| {
                let set = vec![std::mem::take(run)];
                if usable(&set) {
                    sets.push(set);
                }
            };
            for c in children {
                match as_literal(c) {
                    Some(lit) => run.extend(lit),
                    None => {
                        flush(&mut run, &mut sets);
                        sets.extend(required(c, min_len));
                    }
                }
            }
            flush(&mut run, &mut sets);
            sets
        }
        HirKind::Alternation(children) => {
            let mut union = Vec::new();
            for c in children {
                let best = required(c, min_len).into_iter().max_by_key(|s| shortest(s));
                match best {
                    Some(set) => union.extend(set),
                    None => return Vec::new(),
                }
            }
            union.sort();
            union.dedup();
            if usable(&union) {
                vec![union]
            } else {
                Vec::new()
            }
        }
        HirKind::Repetition(rep) if rep.min >= 1 => required(&rep.sub, min_len),
        HirKind::Capture(cap) => required(&cap.sub, min_len),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(r: &Required) -> Vec<Vec<String>> {
        r.iter()
            .map(|s| {
                s.iter()
                    .map(|l| String::from_utf8_lossy(l).into_owned())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn required_literal_sets_by_pattern() {
        let cases: &[(&str, &[&[&str]])] = &[
            ("plain text", &[&["plain text"]]),
            ("URL .* Sp.*er Gate", &[&["er Gate"], &["URL "], &[" Sp"]]),
            ("ab", &[]),
            ("a.*b", &[]),
            ("(?i-u)blocked", &[&["blocked"]]),
            ("(?i)K9", &[]),
            (
                "(?i-u)(site|page)\\s+(has\\s+been|is)\\s+blocked",
                &[&["blocked"], &["page", "site"]],
            ),
            ("(foo|x)bar", &[&["bar"]]),
            ("(foo|bar)?baz", &[&["baz"]]),
            ("(abc)+", &[&["abc"]]),
            ("(abc)*", &[]),
            (
                "<title>[^<]{0,60}blocked</title>",
                &[&["blocked</title>"], &["<title>"]],
            ),
            ("\\bfree\\b", &[&["free"]]),
            ("(", &[]),
        ];
        for (pattern, want) in cases {
            let got = strs(&required_literals(pattern, 3));
            let want: Vec<Vec<String>> = want
                .iter()
                .map(|s| s.iter().map(|x| x.to_string()).collect())
                .collect();
            assert_eq!(got, want, "{pattern}");
        }
    }

    #[test]
    fn literals_shorter_than_min_len_are_left_out() {
        let p = "(?i-u)(site|page)\\s+(has\\s+been|is)\\s+blocked";
        assert_eq!(strs(&required_literals(p, 7)), [["blocked"]]);
        assert!(required_literals(p, 8).is_empty());
    }
}
