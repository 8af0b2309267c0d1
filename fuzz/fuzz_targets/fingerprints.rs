//! Any text given to the fingerprint loader: a database or an error naming
//! the row, never a panic; a loaded database matches any body and answer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(db) = canary_analysis::fingerprints::FingerprintDb::from_csv_str(text) {
        let _ = db.match_dns(text);
        let _ = db.match_http(data, [("server", "x")]);
    }
});
