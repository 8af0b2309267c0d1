//! Find which of many literals occur in a text, in one pass.
//!
//! [`LiteralScanner`] answers "which of these ~1,500 literals occur anywhere
//! in this body?" — the question the fingerprint matcher asks of every HTTP
//! response. A classic automaton (Aho-Corasick) walks the text one byte at a
//! time through a chain of dependent table lookups, which on the 2-core
//! machines Canary runs on tops out near 300 MB/s. This scanner instead
//! samples the text: it looks only at the aligned 4-byte words (offsets 0, 4,
//! 8, …), lower-cases each word with a few integer operations, and checks a
//! small bit set of hashed *anchors*.
//!
//! Every literal of 7 bytes or more registers four anchors: its four
//! overlapping 4-byte windows starting at one chosen offset `o` (windows
//! `o`, `o+1`, `o+2`, `o+3`). Wherever the literal occurs, exactly one of
//! these windows starts at a multiple of 4, so the literal cannot be missed.
//! The offset is chosen to make the anchors rare (windows that other
//! literals share, or made of the most common HTML bytes, are avoided), so a
//! typical body verifies very few candidates. Literals shorter than 7 bytes
//! (a handful in OONI's files) are found by a plain substring search each
//! when case does not matter for them (exact, or no ASCII letter), and the
//! rest by a small case-insensitive Aho-Corasick automaton.
//!
//! Anchors are compared without regard to ASCII case; each candidate is then
//! verified exactly (for fingerprint literals) or ignoring ASCII case (for
//! the literals a case-insensitive regular expression requires).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::collections::HashMap;

/// Literals shorter than this go to the fallback automaton.
pub(crate) const MIN_SAMPLED_LEN: usize = 7;
/// Bits of the anchor hash (the bit set is 2^BITS bits).
const BITS: u32 = 18;

/// One literal to look for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Literal {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// `true`: the bytes must be equal; `false`: equal up to ASCII case.
    pub exact: bool,
}

#[derive(Debug, Clone, Copy)]
struct Anchor {
    key: u32,
    literal: u32,
    /// Offset of the anchor window inside the literal.
    offset: u32,
}

/// A compiled set of literals (see the module documentation).
#[derive(Debug, Clone)]
pub(crate) struct LiteralScanner {
    literals: Vec<Literal>,
    /// One bit per anchor hash.
    bits: Vec<u64>,
    /// Anchors sorted by hash; those with hash `h` are
    /// `anchors[starts[h]..starts[h + 1]]`.
    starts: Vec<u32>,
    anchors: Vec<Anchor>,
    /// Literals shorter than [`MIN_SAMPLED_LEN`] compared exactly (or with
    /// no ASCII letter, where case cannot matter): one substring search each,
    /// stopping at the first occurrence, (finder, literal id).
    short_exact: Vec<(memchr::memmem::Finder<'static>, u32)>,
    /// The other short literals, as (automaton, literal ids).
    short: Option<(AhoCorasick, Vec<u32>)>,
}

/// ASCII-lower-case the four bytes of `x`, leaving other bytes alone.
#[inline]
fn lower4(x: u32) -> u32 {
    const ONES: u32 = 0x0101_0101;
    let low7 = x & 0x7f7f_7f7f;
    let at_least_a = low7.wrapping_add((0x80 - u32::from(b'A')) * ONES);
    let above_z = low7.wrapping_add((0x80 - u32::from(b'Z') - 1) * ONES);
    let upper = at_least_a & !above_z & !x & 0x8080_8080;
    x | (upper >> 2)
}

#[inline]
fn hash(key: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B1) >> (32 - BITS)) as usize
}

fn key_of(window: &[u8]) -> u32 {
    let mut w = [0u8; 4];
    for (d, s) in w.iter_mut().zip(window) {
        *d = *s;
    }
    lower4(u32::from_le_bytes(w))
}

/// How common a byte is in web pages (higher: more common).
fn commonness(b: u8) -> u32 {
    match b.to_ascii_lowercase() {
        b' ' | b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' | b'<' | b'>' | b'/'
        | b'"' | b'=' => 3,
        b'a'..=b'z' | b'\n' | b'\r' | b'\t' | b'.' | b'-' | b':' | b';' | b'\'' => 2,
        _ => 0,
    }
}

impl LiteralScanner {
    /// Compile `literals` (none may be empty).
    pub(crate) fn new(literals: Vec<Literal>) -> Result<Self, String> {
        if literals.iter().any(|l| l.bytes.is_empty()) {
            return Err("empty literal".into());
        }
        if u32::try_from(literals.len()).is_err() {
            return Err("too many literals".into());
        }
        // How many literals share each window: shared windows make poor anchors.
        let mut shared: HashMap<u32, u32> = HashMap::new();
        for l in literals.iter().filter(|l| l.bytes.len() >= MIN_SAMPLED_LEN) {
            for w in l.bytes.windows(4) {
                *shared.entry(key_of(w)).or_default() += 1;
            }
        }
        let score = |w: &[u8]| -> u32 {
            let k = key_of(w);
            shared.get(&k).copied().unwrap_or(0) * 8 + w.iter().map(|&b| commonness(b)).sum::<u32>()
        };
        let mut anchors = Vec::new();
        let mut short_patterns = Vec::new();
        let mut short_ids = Vec::new();
        let mut short_exact = Vec::new();
        for (id, l) in literals.iter().enumerate() {
            let id = id as u32;
            let b = &l.bytes;
            if b.len() < MIN_SAMPLED_LEN && (l.exact || !b.iter().any(u8::is_ascii_alphabetic)) {
                short_exact.push((memchr::memmem::Finder::new(b).into_owned(), id));
                continue;
            }
            if b.len() < MIN_SAMPLED_LEN {
                short_patterns.push(b.clone());
                short_ids.push(id);
                continue;
            }
            let best = (0..=b.len() - MIN_SAMPLED_LEN)
                .min_by_key(|&o| (0..4).map(|j| score(&b[o + j..o + j + 4])).sum::<u32>())
                .unwrap_or(0);
            for j in 0..4 {
                let off = best + j;
                anchors.push(Anchor {
                    key: key_of(&b[off..off + 4]),
                    literal: id,
                    offset: off as u32,
                });
            }
        }
        anchors.sort_by_key(|a| (hash(a.key), a.key, a.literal, a.offset));
        let mut bits = vec![0u64; 1 << (BITS - 6)];
        let mut starts = vec![0u32; (1 << BITS) + 1];
        for a in &anchors {
            let h = hash(a.key);
            bits[h >> 6] |= 1 << (h & 63);
            starts[h + 1] += 1;
        }
        for h in 0..1 << BITS {
            starts[h + 1] += starts[h];
        }
        let short = if short_patterns.is_empty() {
            None
        } else {
            let ac = AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .ascii_case_insensitive(true)
                .build(&short_patterns)
                .map_err(|e| format!("cannot build the short-literal matcher: {e}"))?;
            Some((ac, short_ids))
        };
        Ok(LiteralScanner {
            literals,
            bits,
            starts,
            anchors,
            short_exact,
            short,
        })
    }

    /// Heap bytes used.
    pub(crate) fn memory_usage(&self) -> usize {
        self.bits.len() * 8
            + self.starts.len() * 4
            + self.anchors.len() * std::mem::size_of::<Anchor>()
            + self.literals.iter().map(|l| l.bytes.len()).sum::<usize>()
            + self
                .short_exact
                .iter()
                .map(|(f, _)| f.needle().len() * 2 + 64)
                .sum::<usize>()
            + self.short.as_ref().map_or(0, |(ac, _)| ac.memory_usage())
    }

    /// Does literal `id` occur at `start` in `hay`?
    #[inline]
    fn occurs_at(&self, id: u32, start: usize, hay: &[u8]) -> bool {
        let Some(l) = self.literals.get(id as usize) else {
            return false;
        };
        let Some(end) = start.checked_add(l.bytes.len()) else {
            return false;
        };
        match hay.get(start..end) {
            Some(text) if l.exact => text == &l.bytes[..],
            Some(text) => text.eq_ignore_ascii_case(&l.bytes),
            None => false,
        }
    }

    /// Push the id (index in the list given to [`LiteralScanner::new`]) of
    /// every literal occurring in `hay` into `found`, each once, in no
    /// particular order. `seen` is scratch space, reset here.
    pub(crate) fn scan(&self, hay: &[u8], seen: &mut Vec<bool>, found: &mut Vec<u32>) {
        seen.clear();
        seen.resize(self.literals.len(), false);
        let mut mark = |id: u32, seen: &mut Vec<bool>| {
            if let Some(s) = seen.get_mut(id as usize) {
                if !*s {
                    *s = true;
                    found.push(id);
                }
            }
        };
        if !self.anchors.is_empty() {
            for (c, chunk) in hay.chunks_exact(4).enumerate() {
                let key = lower4(u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]));
                let h = hash(key);
                let hit = self
                    .bits
                    .get(h >> 6)
                    .is_some_and(|w| (w >> (h & 63)) & 1 != 0);
                if !hit {
                    continue;
                }
                let (Some(&from), Some(&to)) = (self.starts.get(h), self.starts.get(h + 1)) else {
                    continue;
                };
                let Some(candidates) = self.anchors.get(from as usize..to as usize) else {
                    continue;
                };
                for a in candidates {
                    if a.key != key || seen.get(a.literal as usize) != Some(&false) {
                        continue;
                    }
                    let Some(start) = (c * 4).checked_sub(a.offset as usize) else {
                        continue;
                    };
                    if self.occurs_at(a.literal, start, hay) {
                        mark(a.literal, seen);
                    }
                }
            }
        }
        for (finder, id) in &self.short_exact {
            if seen.get(*id as usize) == Some(&false) && finder.find(hay).is_some() {
                mark(*id, seen);
            }
        }
        if let Some((ac, ids)) = &self.short {
            for m in ac.find_overlapping_iter(hay) {
                let Some(&id) = ids.get(m.pattern().as_usize()) else {
                    continue;
                };
                if seen.get(id as usize) == Some(&false) && self.occurs_at(id, m.start(), hay) {
                    mark(id, seen);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(literals: &[Literal], hay: &[u8]) -> Vec<u32> {
        let mut out = Vec::new();
        for (i, l) in literals.iter().enumerate() {
            let n = l.bytes.len();
            let hit = n <= hay.len()
                && (0..=hay.len() - n).any(|s| {
                    let t = &hay[s..s + n];
                    if l.exact {
                        t == &l.bytes[..]
                    } else {
                        t.eq_ignore_ascii_case(&l.bytes)
                    }
                });
            if hit {
                out.push(i as u32);
            }
        }
        out
    }

    fn scan_sorted(s: &LiteralScanner, hay: &[u8]) -> Vec<u32> {
        let (mut seen, mut found) = (Vec::new(), Vec::new());
        s.scan(hay, &mut seen, &mut found);
        found.sort_unstable();
        found
    }

    #[test]
    fn lower4_lowers_ascii_letters_only() {
        for b in 0..=255u8 {
            let x = u32::from_le_bytes([b, b'Q', 0xC3, b'@']);
            let want = u32::from_le_bytes([b.to_ascii_lowercase(), b'q', 0xC3, b'@']);
            assert_eq!(lower4(x), want, "byte {b:#x}");
        }
    }

    #[test]
    fn literals_are_found_at_every_alignment_and_case() {
        let lits = vec![
            Literal {
                bytes: b"Access Denied".to_vec(),
                exact: true,
            },
            Literal {
                bytes: b"blocked".to_vec(),
                exact: false,
            },
            Literal {
                bytes: b"BUSY".to_vec(),
                exact: true,
            },
            Literal {
                bytes: b"url".to_vec(),
                exact: false,
            },
            Literal {
                bytes: b"Access Denied".to_vec(),
                exact: false,
            },
        ];
        let s = LiteralScanner::new(lits.clone()).unwrap();
        for pad in 0..9 {
            for text in [
                "Access Denied",
                "ACCESS DENIED",
                "BLOCKED",
                "busy",
                "BUSY",
                "my URL",
                "end",
            ] {
                let hay = format!("{}{text}{}", "x".repeat(pad), "y".repeat(pad % 3));
                assert_eq!(
                    scan_sorted(&s, hay.as_bytes()),
                    naive(&lits, hay.as_bytes()),
                    "{hay:?}"
                );
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn the_scanner_finds_exactly_what_a_naive_search_finds(
            words in proptest::collection::vec("[a-cA-C ]{1,9}", 1..12),
            exact in proptest::collection::vec(proptest::bool::ANY, 12),
            parts in proptest::collection::vec((0..12usize, proptest::bool::ANY, "[a-cx ]{0,6}"), 0..10),
        ) {
            let mut hay = String::new();
            for (i, flip, junk) in &parts {
                hay.push_str(junk);
                let w = &words[i % words.len()];
                if *flip {
                    hay.extend(w.chars().map(|c| if c.is_ascii_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }));
                } else {
                    hay.push_str(w);
                }
            }
            let lits: Vec<Literal> = words
                .iter()
                .zip(&exact)
                .map(|(w, e)| Literal { bytes: w.as_bytes().to_vec(), exact: *e })
                .collect();
            let s = LiteralScanner::new(lits.clone()).unwrap();
            proptest::prop_assert_eq!(scan_sorted(&s, hay.as_bytes()), naive(&lits, hay.as_bytes()));
        }
    }
}
