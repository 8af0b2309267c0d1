//! Any bytes given to the test-list parser and the ASN table parser: a list
//! or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = canary_lists::parse(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = canary_ipinfo::AsnDb::parse(text);
    }
});
