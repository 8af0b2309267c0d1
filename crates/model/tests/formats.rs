//! Specification of each sub-format with small hand-written inputs.

use canary_model::{
    Blocking, Body, DnsConsistency, Failure, HeaderValue, Input, Measurement, ModelError, Nullable,
    PeerCertificate, TestKeys, ValidationIssue, WebConnectivityTestKeys,
};
use serde_json::{json, Value};

fn round_trip(text: &str) -> (Measurement, Value) {
    let m = Measurement::from_json_str(text).unwrap();
    let back = m.to_value().unwrap();
    let orig: Value = serde_json::from_str(text).unwrap();
    assert_eq!(back, orig, "round trip of {text}");
    (m, back)
}

// ---------------------------------------------------------------- Body

#[test]
fn body_forms_decode_to_their_bytes() {
    let cases: &[(&str, Body, &[u8])] = &[
        (r#""hello""#, Body::Text("hello".into()), b"hello"),
        (r#""""#, Body::Text(String::new()), b""),
        (
            r#"{"format":"base64","data":"AP8="}"#,
            Body::Base64("AP8=".into()),
            &[0, 255],
        ),
        (
            r#"{"data":"aGk=","format":"base64"}"#,
            Body::Base64("aGk=".into()),
            b"hi",
        ),
        // Real data has unpadded base64 (web_connectivity_b64_incorrect.json).
        (
            r#"{"format":"base64","data":"aGk"}"#,
            Body::Base64("aGk".into()),
            b"hi",
        ),
    ];
    for (text, want, bytes) in cases {
        let body: Body = serde_json::from_str(text).unwrap();
        assert_eq!(&body, want, "{text}");
        assert_eq!(body.bytes().unwrap().as_ref(), *bytes, "{text}");
        // Written back exactly (the base64 text is not re-encoded).
        let back: Value = serde_json::to_value(&body).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(text).unwrap(), "{text}");
    }
}

#[test]
fn body_with_invalid_base64_parses_but_bytes_reports_it() {
    let body: Body = serde_json::from_str(r#"{"format":"base64","data":"!!!"}"#).unwrap();
    assert!(matches!(body.bytes(), Err(ModelError::Base64 { .. })));
    assert_eq!(body.to_text_lossy(), None);
}

#[test]
fn body_rejects_malformed_binary_objects() {
    let cases = [
        (
            r#"{"format":"hex","data":"00"}"#,
            "unsupported binary format",
        ),
        (r#"{"format":"base64"}"#, "missing field `data`"),
        (r#"{"data":"AA=="}"#, "missing field `format`"),
        (
            r#"{"format":"base64","data":"AA==","x":1}"#,
            "unexpected key",
        ),
        (r#"{"format":"base64","data":1}"#, "invalid type"),
        ("42", "invalid type"),
        ("true", "invalid type"),
    ];
    for (text, msg) in cases {
        let err = serde_json::from_str::<Body>(text).unwrap_err().to_string();
        assert!(err.contains(msg), "{text}: {err}");
    }
}

#[test]
fn body_from_bytes_chooses_text_for_utf8_and_base64_otherwise() {
    assert_eq!(
        Body::from_bytes("ស្វាគមន៍".as_bytes()),
        Body::Text("ស្វាគមន៍".into())
    );
    let b = Body::from_bytes(&[0xc3, 0x28]);
    assert_eq!(b, Body::Base64("wyg=".into()));
    assert_eq!(b.to_text_lossy().unwrap(), "\u{fffd}(");
}

#[test]
fn header_values_may_be_text_binary_or_lists() {
    let cases: &[(&str, HeaderValue)] = &[
        (r#""nginx""#, HeaderValue::One(Body::Text("nginx".into()))),
        (
            r#"{"format":"base64","data":"aGk="}"#,
            HeaderValue::One(Body::Base64("aGk=".into())),
        ),
        (
            r#"["a",{"format":"base64","data":"AA=="}]"#,
            HeaderValue::Many(vec![Body::Text("a".into()), Body::Base64("AA==".into())]),
        ),
    ];
    for (text, want) in cases {
        let v: HeaderValue = serde_json::from_str(text).unwrap();
        assert_eq!(&v, want);
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
    }
    assert!(serde_json::from_str::<HeaderValue>("3").is_err());
}

#[test]
fn http_header_lookup_is_case_insensitive_and_prefers_the_ordered_list() {
    let tk = WebConnectivityTestKeys::from_json_str(
        r#"{"requests":[{"request":{"url":"http://x/","headers":{"Host":"x"}},
            "response":{"code":302,
              "headers_list":[["location",{"format":"base64","data":"aHR0cDovL3kv"}]],
              "headers":{"Location":"ignored","Server":"nginx"}}}]}"#,
    )
    .unwrap();
    let resp = tk.requests()[0].response.get().unwrap();
    assert_eq!(
        resp.header("LOCATION").unwrap().bytes().unwrap().as_ref(),
        b"http://y/"
    );
    assert_eq!(resp.header("server").and_then(Body::as_text), Some("nginx"));
    assert!(resp.header("x-missing").is_none());
    let req = tk.requests()[0].request.get().unwrap();
    assert_eq!(req.header("host").and_then(Body::as_text), Some("x"));
}

// ---------------------------------------------------------------- Failure

#[test]
fn failure_strings_map_to_variants_and_back() {
    let cases = [
        ("dns_nxdomain_error", Failure::DnsNxdomainError),
        ("dns_no_answer", Failure::DnsNoAnswer),
        ("dns_refused_error", Failure::DnsRefusedError),
        ("dns_servfail_error", Failure::DnsServfailError),
        ("dns_server_failure", Failure::DnsServerFailure),
        ("dns_name_error", Failure::DnsNameError),
        ("dns_bogon_error", Failure::DnsBogonError),
        ("android_dns_cache_no_data", Failure::AndroidDnsCacheNoData),
        ("connection_refused", Failure::ConnectionRefused),
        ("connection_reset", Failure::ConnectionReset),
        ("eof_error", Failure::EofError),
        ("generic_timeout_error", Failure::GenericTimeoutError),
        ("host_unreachable", Failure::HostUnreachable),
        ("network_unreachable", Failure::NetworkUnreachable),
        ("ssl_invalid_hostname", Failure::SslInvalidHostname),
        ("ssl_unknown_authority", Failure::SslUnknownAuthority),
        ("ssl_invalid_certificate", Failure::SslInvalidCertificate),
        ("ssl_failed_handshake", Failure::SslFailedHandshake),
        ("interrupted", Failure::Interrupted),
    ];
    for (s, want) in cases {
        assert_eq!(Failure::from(s), want, "{s}");
        assert_eq!(s.parse::<Failure>().unwrap(), want, "{s}");
        assert_eq!(want.as_str(), s);
        assert_eq!(want.to_string(), s);
        assert_eq!(serde_json::to_value(&want).unwrap(), json!(s));
        assert_eq!(serde_json::from_value::<Failure>(json!(s)).unwrap(), want);
    }
}

#[test]
fn every_known_failure_round_trips_through_its_string() {
    for f in Failure::KNOWN {
        assert_eq!(&Failure::from(f.as_str()), f);
        assert!(!matches!(f, Failure::Unknown(_)));
    }
}

#[test]
fn unknown_failures_are_kept_verbatim() {
    let cases = [
        "unknown_failure: dial tcp [scrubbed]: connect: no route to host",
        "ssl_error: error:14007086:SSL routines",
        "Connection_Reset", // case matters
        "",
    ];
    for s in cases {
        let f = Failure::from(s);
        assert_eq!(f, Failure::Unknown(s.to_owned()));
        assert_eq!(f.as_str(), s);
        assert_eq!(serde_json::to_value(&f).unwrap(), json!(s));
    }
}

#[test]
fn failure_classifiers() {
    assert!(Failure::DnsNxdomainError.is_nxdomain());
    assert!(Failure::AndroidDnsCacheNoData.is_nxdomain());
    assert!(!Failure::DnsNoAnswer.is_nxdomain());
    assert!(Failure::SslUnknownAuthority.is_tls());
    assert!(!Failure::ConnectionReset.is_tls());
}

// ---------------------------------------------------------------- Blocking

#[test]
fn blocking_values_are_typed_and_unknown_strings_kept() {
    let cases: &[(&str, Nullable<Blocking>)] = &[
        ("false", Nullable::Present(Blocking::NotBlocked)),
        ("null", Nullable::Null),
        (r#""dns""#, Nullable::Present(Blocking::Dns)),
        (r#""tcp_ip""#, Nullable::Present(Blocking::TcpIp)),
        (
            r#""http-failure""#,
            Nullable::Present(Blocking::HttpFailure),
        ),
        (r#""http-diff""#, Nullable::Present(Blocking::HttpDiff)),
        (r#""tls""#, Nullable::Present(Blocking::Other("tls".into()))),
    ];
    for (text, want) in cases {
        let tk =
            WebConnectivityTestKeys::from_json_str(&format!(r#"{{"blocking":{text}}}"#)).unwrap();
        assert_eq!(&tk.blocking, want, "{text}");
        let back = serde_json::to_value(&tk).unwrap();
        assert_eq!(
            back["blocking"],
            serde_json::from_str::<Value>(text).unwrap()
        );
    }
    let absent = WebConnectivityTestKeys::from_json_str("{}").unwrap();
    assert!(absent.blocking.is_absent());
    assert!(Blocking::HttpDiff.is_anomaly() && !Blocking::NotBlocked.is_anomaly());
    assert_eq!(Blocking::NotBlocked.to_string(), "false");
}

#[test]
fn blocking_rejects_true_and_non_strings() {
    for text in ["true", "1", "[]", "{}"] {
        let err = WebConnectivityTestKeys::from_json_str(&format!(r#"{{"blocking":{text}}}"#));
        assert!(err.is_err(), "{text} must be rejected");
    }
}

#[test]
fn dns_consistency_values() {
    for (text, want) in [
        ("consistent", DnsConsistency::Consistent),
        ("inconsistent", DnsConsistency::Inconsistent),
        (
            "reverse_match",
            DnsConsistency::Other("reverse_match".into()),
        ),
    ] {
        let v: DnsConsistency = serde_json::from_value(json!(text)).unwrap();
        assert_eq!(v, want);
        assert_eq!(v.as_str(), text);
    }
}

// ---------------------------------------------------------------- absent vs null, numbers

#[test]
fn absent_null_and_present_stay_distinct() {
    let cases: &[(&str, Nullable<Input>)] = &[
        (r#"{"test_name":"x"}"#, Nullable::Absent),
        (r#"{"test_name":"x","input":null}"#, Nullable::Null),
        (
            r#"{"test_name":"x","input":"https://a/"}"#,
            Nullable::Present(Input::Single("https://a/".into())),
        ),
        (
            r#"{"test_name":"x","input":["a.com","b.net"]}"#,
            Nullable::Present(Input::Multiple(vec!["a.com".into(), "b.net".into()])),
        ),
    ];
    for (text, want) in cases {
        let (m, _) = round_trip(text);
        assert_eq!(&m.input, want, "{text}");
    }
}

#[test]
fn nested_null_and_absent_fields_survive() {
    let text = r#"{"test_name":"web_connectivity","test_keys":{
        "queries":[{"hostname":"a","failure":null,"answers":null,"resolver_port":null}],
        "tcp_connect":null}}"#;
    let (m, _) = round_trip(text);
    let tk = m.web_connectivity().unwrap();
    let q = &tk.queries()[0];
    assert!(q.failure.is_null() && q.answers.is_null() && q.t0.is_absent());
    assert!(tk.tcp_connect.is_null() && tk.requests.is_absent());
}

#[test]
fn integers_and_floats_keep_their_json_form() {
    let text = r#"{"test_name":"web_connectivity","test_runtime":2,"test_keys":{
        "body_proportion":1,"x_th_runtime":120000000,
        "queries":[{"t0":0,"t":0.5,"answers":[{"ttl":300}]}],
        "tcp_connect":[{"ip":"1.1.1.1","port":443,"t0":1.0,"t":2}]}}"#;
    let (m, back) = round_trip(text);
    assert_eq!(back["test_runtime"].to_string(), "2");
    assert_eq!(back["test_keys"]["tcp_connect"][0]["t0"].to_string(), "1.0");
    assert_eq!(
        m.web_connectivity()
            .unwrap()
            .body_proportion
            .get()
            .unwrap()
            .as_f64(),
        Some(1.0)
    );
}

#[test]
fn unknown_keys_are_preserved_at_every_level() {
    let text = r#"{"test_name":"web_connectivity","bucket_date":"2024-01-01","x_top":[1],
      "test_keys":{"x_new":true,
        "queries":[{"hostname":"a","x_q":1,"answers":[{"answer_type":"A","ipv4":"1.2.3.4","x_a":{}}]}],
        "tcp_connect":[{"ip":"1.2.3.4","port":80,"status":{"success":true,"failure":null,"x_s":0}}],
        "tls_handshakes":[{"address":"1.2.3.4:443","outer_server_name":"o","peer_certificates":[{"data":"MAA=","format":"base64","x_c":1}]}],
        "requests":[{"request":{"url":"http://a/","x_r":1},"response":{"code":200,"x_p":2},"x_t":3}],
        "control":{"dns":{"addrs":[],"x_d":1},"x_c":"y","http_request":{"status_code":200,"x_h":0}},
        "x_control_request":{"http_request":"http://a/","x_extra":1}}}"#;
    let (m, _) = round_trip(text);
    assert_eq!(m.extra.len(), 2);
    let tk = m.web_connectivity().unwrap();
    assert!(tk.extra.contains_key("x_new"));
    assert!(tk.queries()[0].extra.contains_key("x_q"));
    assert!(tk.control.get().unwrap().extra.contains_key("x_c"));
    assert!(tk.tls_handshakes()[0]
        .extra
        .contains_key("outer_server_name"));
}

// ---------------------------------------------------------------- wrong types are errors

#[test]
fn fields_of_the_wrong_type_are_errors_not_defaults() {
    let cases = [
        (
            r#"{"test_name":"web_connectivity","test_keys":{"tcp_connect":[{"port":"443"}]}}"#,
            "invalid type: string \"443\", expected u16",
        ),
        (
            r#"{"test_name":"web_connectivity","test_keys":{"queries":{}}}"#,
            "invalid type",
        ),
        (
            r#"{"test_name":"web_connectivity","test_keys":{"queries":[{"answers":[{"asn":"x"}]}]}}"#,
            "invalid type",
        ),
        (
            r#"{"test_name":"web_connectivity","test_keys":{"tcp_connect":[{"port":70000}]}}"#,
            "invalid value",
        ),
        (
            r#"{"test_name":"web_connectivity","test_keys":"oops"}"#,
            "invalid type",
        ),
        (
            r#"{"test_keys":{"accessible":"yes"},"test_name":"web_connectivity"}"#,
            "invalid type",
        ),
        (r#"{"probe_asn":38623}"#, "invalid type"),
        (r#"{"input":{"url":"x"}}"#, "invalid type"),
        (r#"{"test_runtime":"1.5"}"#, "invalid type"),
        (r#"{"test_name":"a","test_name":"b"}"#, "duplicate field"),
        (r#"{"x":1,"x":2}"#, "duplicate key"),
        ("[]", "invalid type"),
        ("{} trailing", "trailing characters"),
        ("{", "EOF"),
    ];
    for (text, msg) in cases {
        let err = Measurement::from_json_str(text).unwrap_err().to_string();
        assert!(err.contains(msg), "{text}: {err}");
        // The generic serde path rejects it too (a Value cannot hold
        // duplicate keys, so those cases do not apply).
        if let (Ok(v), false) = (
            serde_json::from_str::<Value>(text),
            msg.starts_with("duplicate"),
        ) {
            assert!(Measurement::from_value(v).is_err(), "{text} via from_value");
        }
    }
}

#[test]
fn deeply_nested_input_is_an_error_not_a_stack_overflow() {
    let deep = format!(r#"{{"x":{}{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
    let err = Measurement::from_json_str(&deep).unwrap_err().to_string();
    assert!(err.contains("recursion limit"), "{err}");
    let deep_tk = format!(
        r#"{{"test_keys":{{"x":{}{}}},"test_name":"web_connectivity"}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(Measurement::from_json_str(&deep_tk).is_err());
}

// ---------------------------------------------------------------- test_keys dispatch

#[test]
fn test_keys_are_typed_by_test_name_in_any_key_order() {
    let orders = [
        r#"{"test_name":"web_connectivity","test_keys":{"blocking":"dns","requests":[]}}"#,
        r#"{"test_keys":{"blocking":"dns","requests":[]},"test_name":"web_connectivity"}"#,
    ];
    for text in orders {
        for m in [
            Measurement::from_json_str(text).unwrap(),
            Measurement::from_slice(text.as_bytes()).unwrap(),
            Measurement::from_value(serde_json::from_str(text).unwrap()).unwrap(),
            serde_json::from_str::<Measurement>(text).unwrap(),
        ] {
            let tk = m.web_connectivity().expect("typed");
            assert_eq!(tk.blocking.get(), Some(&Blocking::Dns));
            assert_eq!(tk.requests.get().map(Vec::len), Some(0));
        }
    }
}

#[test]
fn other_experiments_keep_json_test_keys() {
    let text = r#"{"test_keys":{"telegram_tcp_blocking":false},"test_name":"telegram"}"#;
    let (m, _) = round_trip(text);
    assert!(m.web_connectivity().is_none());
    assert_eq!(
        m.test_keys.get().and_then(TestKeys::as_other),
        Some(&json!({"telegram_tcp_blocking": false}))
    );
}

#[test]
fn null_or_missing_test_keys_and_test_name() {
    let (m, _) = round_trip(r#"{"test_name":"web_connectivity","test_keys":null}"#);
    assert!(m.test_keys.is_null());
    let (m, _) = round_trip(r#"{"test_keys":{"a":1}}"#);
    assert_eq!(
        m.test_keys.get().and_then(TestKeys::as_other),
        Some(&json!({"a":1}))
    );
    let (m, _) = round_trip(r#"{"test_name":null,"test_keys":{"a":1}}"#);
    assert!(m.test_name.is_null() && m.test_keys.get().is_some());
}

#[test]
fn test_keys_from_value_reports_the_test_name() {
    let err = TestKeys::from_value("web_connectivity", json!({"queries": 3})).unwrap_err();
    assert!(
        matches!(err, ModelError::TestKeys { ref test_name, .. } if test_name == "web_connectivity")
    );
    let ok = TestKeys::from_value("dnscheck", json!({"queries": 3})).unwrap();
    assert_eq!(
        ok.get().and_then(TestKeys::as_other),
        Some(&json!({"queries": 3}))
    );
}

#[test]
fn typed_test_keys_of_another_crate_decode_on_demand() {
    #[derive(serde::Deserialize)]
    struct Signal {
        signal_backend_status: String,
    }
    impl canary_model::TypedTestKeys for Signal {
        const TEST_NAME: &'static str = "signal";
    }
    let m = Measurement::from_json_str(
        r#"{"test_name":"signal","test_keys":{"signal_backend_status":"blocked"}}"#,
    )
    .unwrap();
    assert_eq!(
        m.test_keys_as::<Signal>()
            .unwrap()
            .unwrap()
            .signal_backend_status,
        "blocked"
    );
    let wc =
        Measurement::from_json_str(r#"{"test_name":"web_connectivity","test_keys":{}}"#).unwrap();
    assert!(wc.test_keys_as::<Signal>().unwrap().is_none());
    assert!(wc
        .test_keys_as::<WebConnectivityTestKeys>()
        .unwrap()
        .is_some());
    let bad = Measurement::from_json_str(r#"{"test_name":"signal","test_keys":{}}"#).unwrap();
    assert!(matches!(
        bad.test_keys_as::<Signal>(),
        Err(ModelError::TestKeys { .. })
    ));
}

// ---------------------------------------------------------------- accessors

#[test]
fn asn_numbers() {
    let cases = [
        ("AS38623", Some(38623)),
        ("AS0", Some(0)),
        ("as13335", Some(13335)),
        ("AS", None),
        ("38623", None),
        ("AS-1", None),
        ("AS99999999999", None),
        ("AS12a", None),
    ];
    for (s, want) in cases {
        let m = Measurement {
            probe_asn: s.to_owned().into(),
            ..Default::default()
        };
        assert_eq!(m.probe_asn_number(), want, "{s}");
    }
}

#[test]
fn timestamps_parse_as_utc() {
    let m = Measurement {
        measurement_start_time: String::from("2024-02-14 09:06:17").into(),
        test_start_time: String::from("2015-03-30T21:12:14Z").into(),
        ..Default::default()
    };
    assert_eq!(
        m.measurement_start_time_utc().unwrap().unix_timestamp(),
        1_707_901_577
    );
    assert_eq!(
        m.test_start_time_utc().unwrap().unix_timestamp(),
        1_427_749_934
    );
    for bad in [
        "2024-02-14",
        "2024-13-01 00:00:00",
        "yesterday",
        "2024-02-14 09:06:17+07:00",
    ] {
        let m = Measurement {
            measurement_start_time: String::from(bad).into(),
            ..Default::default()
        };
        assert!(
            matches!(
                m.measurement_start_time_utc(),
                Err(ModelError::Timestamp { .. })
            ),
            "{bad}"
        );
    }
    assert!(matches!(
        Measurement::default().measurement_start_time_utc(),
        Err(ModelError::Missing {
            field: "measurement_start_time"
        })
    ));
}

#[test]
fn peer_certificates_decode_to_der() {
    let der = [0x30u8, 0x03, 0x02, 0x01, 0x01];
    let cert = PeerCertificate::from_der(&der);
    assert_eq!(cert.der().unwrap(), der);
    let json = serde_json::to_value(&cert).unwrap();
    assert_eq!(json, json!({"data": "MAMCAQE=", "format": "base64"}));
    let odd: PeerCertificate =
        serde_json::from_value(json!({"data": "MAA=", "format": "pem"})).unwrap();
    assert!(matches!(
        odd.der(),
        Err(ModelError::UnsupportedEncoding { .. })
    ));
    let none: PeerCertificate = serde_json::from_value(json!({"format": "base64"})).unwrap();
    assert!(matches!(none.der(), Err(ModelError::Missing { .. })));
}

#[test]
fn dns_raw_response_and_addresses() {
    let tk = WebConnectivityTestKeys::from_json_str(
        r#"{"queries":[{"raw_response":"q82BgA==","answers":[
            {"answer_type":"CNAME","hostname":"x"},{"answer_type":"A","ipv4":"1.2.3.4"},
            {"answer_type":"AAAA","ipv6":"::1"}]}]}"#,
    )
    .unwrap();
    let q = &tk.queries()[0];
    assert_eq!(
        q.raw_response_bytes().unwrap().unwrap(),
        [0xab, 0xcd, 0x81, 0x80]
    );
    assert_eq!(q.addresses().collect::<Vec<_>>(), ["1.2.3.4", "::1"]);
}

#[test]
fn explorer_url_uses_the_measurement_uid() {
    let m = Measurement {
        measurement_uid: String::from("20230706183840.201925_PK_webconnectivity_19f5e0d803cbaea7")
            .into(),
        ..Default::default()
    };
    assert_eq!(
        m.explorer_url().unwrap(),
        "https://explorer.ooni.org/m/20230706183840.201925_PK_webconnectivity_19f5e0d803cbaea7"
    );
}

// ---------------------------------------------------------------- validation

fn valid() -> Value {
    json!({
        "test_name": "web_connectivity", "test_version": "0.4.3",
        "software_name": "canary", "software_version": "0.1.0",
        "probe_cc": "KH", "probe_asn": "AS38623", "probe_ip": "127.0.0.1",
        "measurement_start_time": "2024-02-14 09:06:17", "test_start_time": "2024-02-14 09:06:00",
        "input": "https://www.example.org/path?q=1", "test_runtime": 1.2, "test_keys": {}
    })
}

#[test]
fn a_well_formed_measurement_has_no_issue() {
    let m = Measurement::from_value(valid()).unwrap();
    assert_eq!(m.validate(), vec![]);
    let mut unknown_country = valid();
    unknown_country["probe_cc"] = json!("ZZ");
    unknown_country.as_object_mut().unwrap().remove("probe_ip");
    assert_eq!(
        Measurement::from_value(unknown_country).unwrap().validate(),
        vec![]
    );
}

#[test]
fn each_semantic_problem_is_reported() {
    let cases: Vec<(&str, Value, ValidationIssue)> = vec![
        (
            "test_name",
            Value::Null,
            ValidationIssue::Missing { field: "test_name" },
        ),
        (
            "software_name",
            Value::Null,
            ValidationIssue::Missing {
                field: "software_name",
            },
        ),
        (
            "test_keys",
            Value::Null,
            ValidationIssue::Missing { field: "test_keys" },
        ),
        (
            "probe_cc",
            json!("Kh"),
            ValidationIssue::InvalidProbeCc { value: "Kh".into() },
        ),
        (
            "probe_cc",
            json!("KHM"),
            ValidationIssue::InvalidProbeCc {
                value: "KHM".into(),
            },
        ),
        (
            "probe_asn",
            json!("38623"),
            ValidationIssue::InvalidProbeAsn {
                value: "38623".into(),
            },
        ),
        (
            "probe_asn",
            json!("as38623"),
            ValidationIssue::InvalidProbeAsn {
                value: "as38623".into(),
            },
        ),
        (
            "measurement_start_time",
            json!("2024-02-14T09:06:17Z"),
            ValidationIssue::InvalidTimestamp {
                field: "measurement_start_time",
                value: "2024-02-14T09:06:17Z".into(),
            },
        ),
        (
            "test_start_time",
            json!("14/02/2024"),
            ValidationIssue::InvalidTimestamp {
                field: "test_start_time",
                value: "14/02/2024".into(),
            },
        ),
        (
            "input",
            json!("example.org"),
            ValidationIssue::InputNotUrl {
                value: "example.org".into(),
            },
        ),
        (
            "input",
            json!("https:// x"),
            ValidationIssue::InputNotUrl {
                value: "https:// x".into(),
            },
        ),
        (
            "input",
            json!("https://"),
            ValidationIssue::InputNotUrl {
                value: "https://".into(),
            },
        ),
        (
            "input",
            Value::Null,
            ValidationIssue::Missing { field: "input" },
        ),
        (
            "probe_ip",
            json!("203.0.113.5"),
            ValidationIssue::ProbeIpNotScrubbed {
                value: "203.0.113.5".into(),
            },
        ),
        (
            "test_runtime",
            json!(-1),
            ValidationIssue::InvalidTestRuntime { value: "-1".into() },
        ),
    ];
    for (field, value, want) in cases {
        let mut v = valid();
        v[field] = value.clone();
        let issues = Measurement::from_value(v).unwrap().validate();
        assert_eq!(issues, vec![want.clone()], "{field} = {value}");
        assert!(!want.to_string().is_empty());
    }
}

#[test]
fn contradictory_web_connectivity_verdicts_are_reported() {
    let cases: &[(Value, Value, Option<&str>)] = &[
        (json!(false), json!(true), None),
        (json!(false), json!(false), None),
        (Value::Null, Value::Null, None),
        (json!("dns"), json!(false), None),
        (json!("dns"), json!(true), Some("\"dns\"")),
        (json!("http-diff"), json!(true), Some("\"http-diff\"")),
        (Value::Null, json!(true), Some("null")),
    ];
    for (blocking, accessible, want) in cases {
        let mut v = valid();
        v["test_keys"] = json!({"blocking": blocking, "accessible": accessible});
        let issues = Measurement::from_value(v).unwrap().validate();
        let want: Vec<ValidationIssue> = want
            .iter()
            .map(|b| ValidationIssue::ContradictoryVerdict {
                blocking: b.to_string(),
            })
            .collect();
        assert_eq!(issues, want, "blocking={blocking} accessible={accessible}");
    }
}

#[test]
fn input_need_not_be_a_url_for_other_experiments() {
    let mut v = valid();
    v["test_name"] = json!("meek_fronted_requests_test");
    v["input"] = json!(["a0.awsstatic.com", "d2cly7j4zqgua7.cloudfront.net"]);
    assert_eq!(Measurement::from_value(v).unwrap().validate(), vec![]);
}

// ---------------------------------------------------------------- TCP, events, control

#[test]
fn tcp_connect_outcomes() {
    let tk = WebConnectivityTestKeys::from_json_str(
        r#"{"tcp_connect":[
          {"ip":"1.1.1.1","port":443,"status":{"success":true,"failure":null,"blocked":false},"t0":0.1,"t":0.2},
          {"ip":"2.2.2.2","port":80,"status":{"success":false,"failure":"connection_refused","blocked":true}},
          {"ip":"3.3.3.3","port":80}]}"#,
    )
    .unwrap();
    let tcp = tk.tcp_connects();
    let outcomes: Vec<(bool, Option<&Failure>, Option<bool>)> = tcp
        .iter()
        .map(|c| {
            (
                c.succeeded(),
                c.failure(),
                c.status.get().and_then(|s| s.blocked.value()),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            (true, None, Some(false)),
            (false, Some(&Failure::ConnectionRefused), Some(true)),
            (false, None, None),
        ]
    );
    assert_eq!(canary_model::seconds(tcp[0].t.get().unwrap()), 0.2);
}

#[test]
fn network_events_keep_operation_bytes_and_failure() {
    let tk = WebConnectivityTestKeys::from_json_str(
        r#"{"network_events":[
          {"operation":"connect","address":"1.1.1.1:443","proto":"tcp","failure":null,"t":0.01},
          {"operation":"read","num_bytes":517,"failure":null,"t0":0.02,"t":0.03,"transaction_id":1,"tags":["classic"]},
          {"operation":"read","failure":"eof_error","t":0.5}]}"#,
    )
    .unwrap();
    let ev = tk.network_events();
    assert_eq!(ev.len(), 3);
    assert_eq!(ev[0].operation.get().map(String::as_str), Some("connect"));
    assert_eq!(ev[1].num_bytes.value(), Some(517));
    assert_eq!(ev[1].tags.get().unwrap(), &["classic"]);
    assert_eq!(ev[2].failure.get(), Some(&Failure::EofError));
}

#[test]
fn control_response_is_typed() {
    let c: canary_model::ControlResponse = serde_json::from_value(json!({
        "dns": {"failure": "dns_name_error", "addrs": []},
        "tcp_connect": {"1.1.1.1:443": {"status": false, "failure": "generic_timeout_error"}},
        "tls_handshake": {"1.1.1.1:443": {"server_name": "a.org", "status": true, "failure": null}},
        "quic_handshake": {},
        "http_request": {"body_length": -1, "failure": "unknown_error", "title": "",
                         "headers": {}, "status_code": -1, "discovered_h3_endpoint": ""},
        "http3_request": null,
        "ip_info": {"1.1.1.1": {"asn": 13335, "flags": 11}}
    }))
    .unwrap();
    assert!(c.dns.get().unwrap().failure.get().unwrap().is_nxdomain());
    let tcp = &c.tcp_connect.get().unwrap()["1.1.1.1:443"];
    assert_eq!(tcp.status.value(), Some(false));
    assert_eq!(tcp.failure.get(), Some(&Failure::GenericTimeoutError));
    assert_eq!(
        c.tls_handshake.get().unwrap()["1.1.1.1:443"].status.value(),
        Some(true)
    );
    let http = c.http_request.get().unwrap();
    assert_eq!(
        (http.status_code.value(), http.body_length.value()),
        (Some(-1), Some(-1))
    );
    assert!(c.http3_request.is_null());
    let info = &c.ip_info.get().unwrap()["1.1.1.1"];
    assert_eq!(
        (info.asn.value(), info.flags.value()),
        (Some(13335), Some(11))
    );
    assert!(c.extra.is_empty());
}

#[test]
fn control_request_is_typed() {
    let r: canary_model::ControlRequest = serde_json::from_value(json!({
        "http_request": "https://a.org/",
        "http_request_headers": {"User-Agent": ["Mozilla/5.0"], "Accept": ["*/*"]},
        "tcp_connect": ["1.1.1.1:443", "[::1]:443"],
        "x_quic_enabled": false
    }))
    .unwrap();
    assert_eq!(
        r.http_request.get().map(String::as_str),
        Some("https://a.org/")
    );
    assert_eq!(
        r.http_request_headers.get().unwrap()["User-Agent"],
        ["Mozilla/5.0"]
    );
    assert_eq!(r.tcp_connect.get().unwrap().len(), 2);
    assert_eq!(r.x_quic_enabled.value(), Some(false));
}
