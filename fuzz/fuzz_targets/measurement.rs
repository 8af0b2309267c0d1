//! Any bytes given to the measurement parser: an error or a measurement,
//! never a panic; and a parsed measurement serializes and parses back to the
//! same JSON value.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = canary_model::Measurement::from_slice(data) {
        let _ = m.validate();
        let value = m.to_value().expect("a parsed measurement serializes");
        let again = canary_model::Measurement::from_value(value.clone())
            .expect("a serialized measurement parses");
        assert_eq!(again.to_value().expect("serializes"), value);
    }
});
