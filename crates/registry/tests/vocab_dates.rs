//! Vocabularies (stable codes, English and Khmer labels) and dates with precision.

use std::str::FromStr;

use canary_registry::*;

fn is_khmer(s: &str) -> bool {
    s.chars().any(|c| ('\u{1780}'..='\u{17FF}').contains(&c))
}

macro_rules! check_vocab {
    ($($t:ty),+) => {{
        let mut n = 0;
        $(
            let mut codes = std::collections::HashSet::new();
            for term in <$t>::ALL {
                let code = term.as_str();
                assert!(codes.insert(code), "{} code {code} repeated", stringify!($t));
                assert_eq!(serde_json::to_string(term).unwrap(), format!("\"{code}\""));
                assert_eq!(<$t>::from_str(code).unwrap(), *term);
                assert_eq!(serde_json::from_str::<$t>(&format!("\"{code}\"")).unwrap(), *term);
                assert!(code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{code}");
                assert!(!term.label_en().is_empty());
                assert!(is_khmer(term.label_km()), "{} {code}: Khmer label {:?}", stringify!($t), term.label_km());
                assert_eq!(term.label("km"), term.label_km());
                assert_eq!(term.label("en"), term.label_en());
                n += 1;
            }
            assert!(<$t>::from_str("no_such_term").unwrap_err().to_string().contains("no_such_term"));
        )+
        n
    }};
}

#[test]
fn every_vocabulary_term_has_a_stable_code_and_both_labels() {
    let n = check_vocab!(
        Visibility,
        Status,
        Role,
        DatePrecision,
        PlacePrecision,
        Right,
        ActType,
        IncidentLinkKind,
        Degree,
        PerpetratorType,
        ActorKind,
        VictimCharacteristic,
        CaseStage,
        Verdict,
        LegalStatus,
        InstrumentType,
        InvocationRole,
        SourceConnection,
        Reliability,
        Mechanism,
        RecResponse,
        Implementation,
        CustodyAction,
        AuditAction,
        EntityType
    );
    assert!(n > 120, "{n} terms");
}

#[test]
fn the_act_vocabulary_covers_the_issue_list() {
    let codes: Vec<&str> = ActType::ALL.iter().map(|a| a.as_str()).collect();
    for needed in [
        "arrest",
        "summons",
        "charge",
        "pretrial_detention",
        "conviction",
        "fine",
        "threat_harassment",
        "physical_attack",
        "account_suspension",
        "content_takedown",
        "website_blocking",
        "outlet_closure",
        "data_demand",
        "interception_surveillance",
        "internet_shutdown",
    ] {
        assert!(codes.contains(&needed), "{needed}");
    }
}

#[test]
fn dates_parse_print_and_normalise_by_precision() {
    // (text, precision, normalised calendar date)
    let cases = [
        ("2023-07-17", DatePrecision::Exact, "2023-07-17"),
        ("2023-07", DatePrecision::Month, "2023-07-01"),
        ("2015", DatePrecision::Year, "2015-01-01"),
        ("~2023-07-17", DatePrecision::Estimate, "2023-07-17"),
        ("2024-02-29", DatePrecision::Exact, "2024-02-29"),
    ];
    for (text, precision, date) in cases {
        let d: FuzzyDate = text.parse().unwrap();
        assert_eq!(d.precision(), precision, "{text}");
        assert_eq!(d.date().to_string(), date, "{text}");
        assert_eq!(d.to_string(), text);
        assert_eq!(serde_json::to_string(&d).unwrap(), format!("\"{text}\""));
        assert_eq!(
            serde_json::from_str::<FuzzyDate>(&format!("\"{text}\"")).unwrap(),
            d
        );
    }
    assert_eq!(
        FuzzyDate::new(2023, 7, 17, DatePrecision::Month).unwrap(),
        FuzzyDate::month(2023, 7).unwrap()
    );
    assert!(FuzzyDate::year(2015).unwrap() < FuzzyDate::exact(2015, 3, 1).unwrap());
}

#[test]
fn malformed_dates_are_rejected() {
    for bad in [
        "",
        "23",
        "2023-7",
        "2023-07-1",
        "2023-13",
        "2023-02-30",
        "2023-00-10",
        "~2023",
        "~2023-07",
        "2023/07/17",
        "2023-07-17T00:00",
        " 2023",
        "+2023",
        "٢٠٢٣",
        "2023-07-17-01",
        "0999",
        "~~2023-01-01",
    ] {
        let err = bad.parse::<FuzzyDate>();
        assert!(err.is_err(), "{bad:?} accepted");
    }
}

#[test]
fn new_ids_are_prefixed_random_and_valid() {
    let a = new_id(EntityType::Incident).unwrap();
    let b = new_id(EntityType::Incident).unwrap();
    assert_ne!(a, b);
    assert!(a.starts_with("inc_") && a.len() == 36, "{a}");
    meta::check_id("inc_", &a).unwrap();
    for (prefix, bad) in [
        ("inc_", "inc_"),
        ("inc_", "act_1"),
        ("inc_", "inc_Ä"),
        ("inc_", "inc_a b"),
    ] {
        assert!(meta::check_id(prefix, bad).is_err(), "{bad}");
    }
    assert!(meta::check_id("inc_", &format!("inc_{}", "a".repeat(80))).is_err());
}
