//! Privacy: removing the probe's own addresses from what is published.

use std::borrow::Cow;

/// The replacement OONI uses for scrubbed addresses.
pub const SCRUBBED: &str = "[scrubbed]";

/// Replaces every occurrence of the probe's own IP address strings with
/// `[scrubbed]` in strings, bytes and JSON values.
///
/// Matching is plain substring matching, longest address first, so a short
/// address cannot break a longer one apart; an address embedded in a longer
/// token is scrubbed too (over-scrubbing is the safe side).
#[derive(Clone, Debug, Default)]
pub struct Scrubber {
    needles: Vec<String>,
}

impl Scrubber {
    /// A scrubber for the given addresses (as strings; empty ones ignored).
    pub fn new<I, S>(addresses: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut needles: Vec<String> = addresses
            .into_iter()
            .map(Into::into)
            .filter(|s| !s.trim().is_empty())
            .collect();
        needles.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        needles.dedup();
        Scrubber { needles }
    }

    /// True when there is nothing to scrub.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// The text with every address replaced.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !self.needles.iter().any(|n| text.contains(n.as_str())) {
            return Cow::Borrowed(text);
        }
        let mut out = text.to_string();
        for needle in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), SCRUBBED);
            }
        }
        Cow::Owned(out)
    }

    /// The bytes with every address replaced (for bodies that are not UTF-8).
    pub fn scrub_bytes(&self, data: &[u8]) -> Vec<u8> {
        let mut out = data.to_vec();
        for needle in &self.needles {
            let needle = needle.as_bytes();
            if needle.is_empty() || out.len() < needle.len() {
                continue;
            }
            let mut result = Vec::with_capacity(out.len());
            let mut i = 0;
            while i < out.len() {
                if out[i..].starts_with(needle) {
                    result.extend_from_slice(SCRUBBED.as_bytes());
                    i += needle.len();
                } else {
                    result.push(out[i]);
                    i += 1;
                }
            }
            out = result;
        }
        out
    }

    /// Scrubs every string (keys included) of a JSON value in place, e.g. a
    /// whole serialized measurement before submission.
    ///
    /// Binary payloads in OONI's `{"format": "base64", "data": ...}` form
    /// (bodies that are not UTF-8, certificates) are decoded, scrubbed as
    /// bytes and re-encoded, so an address inside a binary body does not
    /// escape through base64.
    pub fn scrub_json(&self, value: &mut serde_json::Value) {
        if self.is_empty() {
            return;
        }
        match value {
            serde_json::Value::String(s) => {
                if let Cow::Owned(new) = self.scrub(s) {
                    *s = new;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_json(v)),
            serde_json::Value::Object(map) => {
                self.scrub_base64_payload(map);
                let entries = std::mem::take(map);
                for (k, mut v) in entries {
                    self.scrub_json(&mut v);
                    map.insert(self.scrub(&k).into_owned(), v);
                }
            }
            _ => {}
        }
    }

    fn scrub_base64_payload(&self, map: &mut serde_json::Map<String, serde_json::Value>) {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::STANDARD;
        if map.get("format").and_then(|f| f.as_str()) != Some("base64") {
            return;
        }
        let Some(serde_json::Value::String(data)) = map.get_mut("data") else {
            return;
        };
        let Ok(bytes) = engine.decode(data.as_bytes()) else {
            return;
        };
        let scrubbed = self.scrub_bytes(&bytes);
        if scrubbed != bytes {
            *data = engine.encode(scrubbed);
        }
    }

    /// True when `text` still contains one of the addresses.
    pub fn leaks(&self, text: &str) -> bool {
        self.needles.iter().any(|n| text.contains(n.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_every_occurrence_in_strings() {
        let s = Scrubber::new(["203.0.113.7", "2001:db8::7"]);
        let cases = [
            (
                "connect 203.0.113.7:443 failed",
                "connect [scrubbed]:443 failed",
            ),
            ("203.0.113.7 and 203.0.113.7", "[scrubbed] and [scrubbed]"),
            ("[2001:db8::7]:80", "[[scrubbed]]:80"),
            ("nothing here", "nothing here"),
            ("203.0.113.70 is longer", "[scrubbed]0 is longer"),
        ];
        for (input, want) in cases {
            assert_eq!(s.scrub(input), want, "{input}");
        }
    }

    #[test]
    fn longer_addresses_are_scrubbed_before_their_prefixes() {
        let s = Scrubber::new(["10.0.0.1", "10.0.0.12"]);
        assert_eq!(s.scrub("ip=10.0.0.12"), "ip=[scrubbed]");
    }

    #[test]
    fn scrubs_bytes_and_json_including_keys() {
        let s = Scrubber::new(["198.51.100.9"]);
        assert_eq!(
            s.scrub_bytes(b"\xffx198.51.100.9y"),
            b"\xffx[scrubbed]y".to_vec()
        );
        let mut v = serde_json::json!({"198.51.100.9:80": {"failure": "from 198.51.100.9", "n": 1}, "list": ["198.51.100.9"]});
        s.scrub_json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"[scrubbed]:80": {"failure": "from [scrubbed]", "n": 1}, "list": ["[scrubbed]"]})
        );
        assert!(!s.leaks(&v.to_string()));
    }

    #[test]
    fn addresses_inside_base64_payloads_are_scrubbed_too() {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::STANDARD;
        let s = Scrubber::new(["198.51.100.9"]);
        let body = b"\xff\xfe your address is 198.51.100.9 \x00";
        let mut v = serde_json::json!({
            "body": {"format": "base64", "data": engine.encode(body)},
            "other": {"format": "hex", "data": "198.51.100.9"},
            "broken": {"format": "base64", "data": "not base64!"}
        });
        s.scrub_json(&mut v);
        let data = v["body"]["data"].as_str().unwrap();
        let decoded = engine.decode(data).unwrap();
        assert_eq!(
            decoded,
            b"\xff\xfe your address is [scrubbed] \x00".to_vec()
        );
        assert_eq!(
            v["other"]["data"], "[scrubbed]",
            "plain strings still scrubbed"
        );
        assert_eq!(
            v["broken"]["data"], "not base64!",
            "undecodable data left as is"
        );
    }

    #[test]
    fn empty_scrubber_changes_nothing() {
        let s = Scrubber::new(Vec::<String>::new());
        assert!(s.is_empty());
        assert!(matches!(s.scrub("1.2.3.4"), Cow::Borrowed(_)));
    }
}
