//! Round-trip properties of the string-like vocabularies.

use canary_model::{Body, Failure, HeaderValue};
use proptest::prelude::*;
use serde_json::Value;

fn any_failure_string() -> impl Strategy<Value = String> {
    prop_oneof![
        // Known strings, possibly altered.
        proptest::sample::select(Failure::KNOWN.to_vec()).prop_map(|f| f.as_str().to_owned()),
        proptest::sample::select(Failure::KNOWN.to_vec()).prop_map(|f| format!("{f} ")),
        "unknown_failure: [ -~]{0,40}",
        any::<String>(),
    ]
}

fn any_body() -> impl Strategy<Value = Body> {
    prop_oneof![
        any::<String>().prop_map(Body::Text),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| Body::from_bytes(&b)),
    ]
}

proptest! {
    #[test]
    fn failure_string_round_trips(s in any_failure_string()) {
        let f = Failure::from(s.as_str());
        prop_assert_eq!(f.as_str(), s.as_str());
        prop_assert_eq!(f.to_string(), s.clone());
        let json = serde_json::to_string(&f).unwrap();
        prop_assert_eq!(serde_json::from_str::<Failure>(&json).unwrap(), f.clone());
        prop_assert_eq!(serde_json::from_str::<Value>(&json).unwrap(), Value::String(s));
        // Unknown never shadows a known variant.
        if let Failure::Unknown(u) = &f {
            prop_assert!(Failure::KNOWN.iter().all(|k| k.as_str() != u));
        }
    }

    #[test]
    fn body_serde_round_trips_and_keeps_bytes(body in any_body()) {
        let json = serde_json::to_string(&body).unwrap();
        let back: Body = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, &body);
        prop_assert_eq!(back.bytes().unwrap(), body.bytes().unwrap());
    }

    #[test]
    fn body_from_bytes_returns_the_same_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let body = Body::from_bytes(&bytes);
        let decoded = body.bytes().unwrap();
        prop_assert_eq!(decoded.as_ref(), bytes.as_slice());
        prop_assert_eq!(matches!(body, Body::Text(_)), std::str::from_utf8(&bytes).is_ok());
    }

    #[test]
    fn header_values_round_trip(values in proptest::collection::vec(any_body(), 0..4), single in any_body()) {
        for hv in [HeaderValue::Many(values.clone()), HeaderValue::One(single.clone())] {
            let json = serde_json::to_string(&hv).unwrap();
            prop_assert_eq!(serde_json::from_str::<HeaderValue>(&json).unwrap(), hv);
        }
    }
}
