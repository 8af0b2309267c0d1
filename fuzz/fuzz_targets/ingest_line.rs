//! Any JSON Lines line given to the ingest layer (explorer responses, bare
//! test keys, arrays...): outcomes, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = canary_ingest::parse_line(data);
});
