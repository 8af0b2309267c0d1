//! `Measurement::from_slice` types `test_keys` by the document's own
//! top-level `test_name`, wherever the keys sit and whatever text inside
//! `test_keys` looks like a `test_name`: the result is always the same as
//! parsing into a `serde_json::Value` first and typing that.

use canary_model::Measurement;

fn same_as_via_value(name: &str, text: &str) {
    let direct = Measurement::from_slice(text.as_bytes());
    let via_value = serde_json::from_str::<serde_json::Value>(text)
        .map_err(|e| e.to_string())
        .and_then(|v| Measurement::from_value(v).map_err(|e| e.to_string()));
    match (direct, via_value) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b, "{name}: typed differently");
            assert_eq!(
                a.web_connectivity().is_some(),
                b.web_connectivity().is_some(),
                "{name}"
            );
        }
        (Err(_), Err(_)) => {}
        (a, b) => panic!("{name}: direct {a:?} but via Value {b:?}"),
    }
}

#[test]
fn test_keys_are_typed_by_the_top_level_test_name_in_every_key_order() {
    let wc_keys = r#"{"blocking":false,"accessible":true,"requests":[]}"#;
    let cases: &[(&str, String)] = &[
        (
            "test_name after test_keys (probe-cli order)",
            format!(r#"{{"input":"https://a.example/","test_keys":{wc_keys},"test_name":"web_connectivity"}}"#),
        ),
        (
            "test_name before test_keys",
            format!(r#"{{"test_name":"web_connectivity","test_keys":{wc_keys}}}"#),
        ),
        (
            "a nested test_name after the top-level one",
            r#"{"test_name":"web_connectivity","test_keys":{"blocking":false,"x":{"test_name":"telegram"}}}"#.to_string(),
        ),
        (
            "a nested test_name and a later top-level one",
            r#"{"test_keys":{"x":{"test_name":"telegram"}},"test_name":"web_connectivity"}"#.to_string(),
        ),
        (
            "a test_name-looking string inside a body",
            r#"{"test_keys":{"requests":[{"response":{"body":"\"test_name\":\"telegram\""}}]},"test_name":"web_connectivity"}"#.to_string(),
        ),
        (
            "an escaped top-level test_name",
            format!(r#"{{"test_keys":{wc_keys},"test_name":"web_conn\u0065ctivity"}}"#),
        ),
        (
            "a null test_name",
            format!(r#"{{"test_keys":{wc_keys},"test_name":null}}"#),
        ),
        ("no test_name at all", format!(r#"{{"test_keys":{wc_keys}}}"#)),
        (
            "only a nested test_name",
            r#"{"test_keys":{"x":{"test_name":"web_connectivity"}}}"#.to_string(),
        ),
        (
            "whitespace around the colon",
            format!("{{\"test_keys\":{wc_keys}, \"test_name\" :\t\"web_connectivity\" }}"),
        ),
        (
            "invalid JSON after a plausible test_name",
            format!(r#"{{"test_keys":{wc_keys},"test_name":"web_connectivity""#),
        ),
    ];
    for (name, text) in cases {
        same_as_via_value(name, text);
    }
}

#[test]
fn a_duplicate_top_level_test_name_is_an_error_whatever_the_order() {
    let wc_keys = r#"{"blocking":false}"#;
    for text in [
        format!(
            r#"{{"test_name":"telegram","test_keys":{wc_keys},"test_name":"web_connectivity"}}"#
        ),
        format!(
            r#"{{"test_keys":{wc_keys},"test_name":"web_connectivity","test_name":"web_connectivity"}}"#
        ),
    ] {
        let err = Measurement::from_slice(text.as_bytes()).expect_err(&text);
        assert!(err.to_string().contains("duplicate"), "{text}: {err}");
    }
}
