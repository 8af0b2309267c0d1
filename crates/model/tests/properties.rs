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

/// Keys the model names (so that typed paths meet values of every type),
/// plus a few it does not.
const KEYS: &[&str] = &[
    "input",
    "probe_asn",
    "probe_cc",
    "test_runtime",
    "annotations",
    "extensions",
    "queries",
    "answers",
    "failure",
    "blocking",
    "accessible",
    "t0",
    "t",
    "port",
    "ip",
    "status",
    "success",
    "tcp_connect",
    "requests",
    "request",
    "response",
    "body",
    "headers",
    "headers_list",
    "format",
    "data",
    "control",
    "dns",
    "addrs",
    "http_request",
    "ip_info",
    "asn",
    "ttl",
    "peer_certificates",
    "tls_handshakes",
    "x_dns_whoami",
    "x_unknown",
    "zz",
];

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u16>().prop_map(Value::from),
        (-1e9f64..1e9).prop_map(Value::from),
        proptest::sample::select(vec!["dns", "base64", "AA==", "connection_reset", "", "x"])
            .prop_map(Value::from),
        "[ -~]{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((proptest::sample::select(KEYS), inner), 0..6).prop_map(
                |kvs| Value::Object(kvs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            ),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Whatever JSON comes in: either a clear error, or a lossless parse.
    /// Never a panic, never a silently changed document.
    #[test]
    fn arbitrary_measurements_are_rejected_or_round_trip(
        test_name in proptest::sample::select(vec!["web_connectivity", "telegram"]),
        test_keys in any_json(),
        top in proptest::collection::btree_map(proptest::sample::select(KEYS), any_json(), 0..4),
        keys_first in any::<bool>(),
    ) {
        let mut obj = serde_json::Map::new();
        let tk = ("test_keys".to_owned(), test_keys);
        let tn = ("test_name".to_owned(), Value::from(test_name));
        let (a, b) = if keys_first { (tk, tn) } else { (tn, tk) };
        obj.insert(a.0, a.1);
        obj.insert(b.0, b.1);
        for (k, v) in top {
            obj.insert(k.to_owned(), v);
        }
        let value = Value::Object(obj);
        let text = serde_json::to_string(&value).unwrap();
        match canary_model::Measurement::from_json_str(&text) {
            Ok(m) => {
                // float_roundtrip: text → f64 → text is exact, so the value
                // read back equals the one written.
                let reread: Value = serde_json::from_str(&text).unwrap();
                prop_assert_eq!(&reread, &value);
                prop_assert_eq!(m.to_value().unwrap(), value.clone());
                let written = m.to_json_string().unwrap();
                prop_assert_eq!(serde_json::from_str::<Value>(&written).unwrap(), value.clone());
                prop_assert_eq!(canary_model::Measurement::from_value(value).unwrap(), m);
            }
            Err(e) => {
                prop_assert!(!e.to_string().is_empty());
                prop_assert!(canary_model::Measurement::from_value(value).is_err());
            }
        }
    }
}
