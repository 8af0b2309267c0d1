//! Any web_connectivity test keys given to the verdict: a verdict, never a
//! panic, whatever the records say.
#![no_main]

use canary_analysis::fingerprints::FingerprintDb;
use canary_analysis::verdict::{analyse_web_connectivity, Context};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(tk) = canary_model::WebConnectivityTestKeys::from_json_str(text) {
        let db = FingerprintDb::canary_default();
        let ctx = Context::new("KH", &db);
        let _ = analyse_web_connectivity(&tk, &ctx);
    }
});
