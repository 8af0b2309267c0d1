//! Demo data for the report tests: a store with a year of measurements
//! from three networks (a scenario table of blocked and open sites) and
//! the seed registry with recommendations of every visibility.

#![allow(dead_code)]

pub mod figures;

use canary_registry::{
    seed, Assessment, Dataset, EntityType, FuzzyDate, Implementation, Incident, Mechanism,
    Organisation, Place, Principal, RecResponse, Recommendation, RecordMeta, Role, Status,
    Visibility,
};
use canary_store::{BlockingEvent, NewMeasurement, Outcome, Store, StoredVerdict};
use time::macros::datetime;
use time::{Date, Duration, Month};

/// ASNs from the documentation range (RFC 5398) with demo names.
pub const NETWORKS: &[(u32, &str)] = &[
    (64500, "Demo ISP A"),
    (64501, "Demo ISP B"),
    (64502, "Demo ISP C"),
];

/// One demo site: domain, category, and per network the day blocking
/// starts (`None`: never) with its layer, kind and whether a fingerprint
/// confirms it.
pub struct Site {
    pub domain: &'static str,
    pub category: &'static str,
    pub blocked_from: [Option<(u8, u8)>; 3],
    pub layer: &'static str,
    pub kind: &'static str,
    pub confirmed: bool,
}

pub const SITES: &[Site] = &[
    Site {
        domain: "news-one.example",
        category: "NEWS",
        blocked_from: [Some((3, 1)), Some((3, 15)), None],
        layer: "dns",
        kind: "blockpage_ip",
        confirmed: true,
    },
    Site {
        domain: "news-two.example",
        category: "NEWS",
        blocked_from: [Some((7, 1)), None, None],
        layer: "http",
        kind: "blockpage",
        confirmed: true,
    },
    Site {
        domain: "critic.example",
        category: "POLR",
        blocked_from: [None, Some((7, 20)), Some((8, 1))],
        layer: "tls",
        kind: "reset",
        confirmed: false,
    },
    Site {
        domain: "rights.example",
        category: "HUMR",
        blocked_from: [Some((10, 1)), Some((10, 1)), Some((10, 1))],
        layer: "dns",
        kind: "nxdomain",
        confirmed: false,
    },
    Site {
        domain: "social.example",
        category: "GRP",
        blocked_from: [None, None, None],
        layer: "",
        kind: "",
        confirmed: false,
    },
    Site {
        domain: "search.example",
        category: "SRCH",
        blocked_from: [None, None, None],
        layer: "",
        kind: "",
        confirmed: false,
    },
    Site {
        domain: "gamble.example",
        category: "GMB",
        blocked_from: [Some((1, 1)), Some((1, 1)), Some((1, 1))],
        layer: "dns",
        kind: "blockpage_ip",
        confirmed: true,
    },
];

fn measurement(site: &Site, net: usize, day: Date, seq: u32) -> NewMeasurement {
    let (asn, name) = NETWORKS[net];
    let blocked = site.blocked_from[net].is_some_and(|(m, d)| {
        Date::from_calendar_date(2023, Month::try_from(m).expect("month"), d).expect("date") <= day
    });
    // one measurement in nine of an open site fails for everyone
    let down = !blocked && seq % 9 == 4;
    let ts = format!(
        "{:04}-{:02}-{:02} {:02}:00:00",
        day.year(),
        u8::from(day.month()),
        day.day(),
        8 + net * 2
    );
    let uid = format!(
        "{:04}{:02}{:02}T{:02}0000_KH_webconnectivity_{:03}_{}",
        day.year(),
        u8::from(day.month()),
        day.day(),
        8 + net * 2,
        seq,
        site.domain
    );
    let raw = format!(
        r#"{{"measurement_uid":"{uid}","test_name":"web_connectivity","test_version":"0.4.3","input":"https://{}/","probe_cc":"KH","probe_asn":"AS{asn}","probe_network_name":"{name}","measurement_start_time":"{ts}","software_name":"canary","software_version":"0.1.0"}}"#,
        site.domain
    );
    let m = canary_model::Measurement::from_slice(raw.as_bytes()).expect("demo measurement parses");
    let verdict = if blocked {
        StoredVerdict {
            rules_version: "1".into(),
            blocking: None,
            accessible: Some(false),
            outcome: Outcome::Blocked,
            layer: Some(site.layer.into()),
            kind: Some(site.kind.into()),
            confirmed: site.confirmed,
            fingerprint: site.confirmed.then(|| "demo_blockpage".to_owned()),
            explanation: "demo: blocked".into(),
            rules_fired: vec![format!("{}.{}", site.layer, site.kind)],
        }
    } else {
        StoredVerdict {
            rules_version: "1".into(),
            blocking: None,
            accessible: Some(!down),
            outcome: if down { Outcome::Down } else { Outcome::Ok },
            layer: None,
            kind: None,
            confirmed: false,
            fingerprint: None,
            explanation: "demo: reachable".into(),
            rules_fired: vec![],
        }
    };
    NewMeasurement::from_measurement(&m, raw.as_bytes(), Some(site.category.into()), verdict)
        .expect("demo measurement is valid")
}

/// A SQLite store in `dir` with 2023's demo measurements (every site on
/// every network every 7 days) and two blocking events.
pub async fn demo_store(dir: &std::path::Path) -> Store {
    let url = format!("sqlite://{}?mode=rwc", dir.join("demo.db").display());
    let store = Store::open(&url).await.expect("store opens");
    let mut batch = Vec::new();
    let mut day = Date::from_calendar_date(2023, Month::January, 2).expect("date");
    let mut seq = 0;
    while day.year() == 2023 {
        for site in SITES {
            for net in 0..NETWORKS.len() {
                batch.push(measurement(site, net, day, seq));
                seq += 1;
            }
        }
        day += Duration::days(7);
    }
    store.insert_batch(&batch).await.expect("insert");
    for (asn, name) in NETWORKS {
        store.upsert_network(*asn, name).await.expect("network");
    }
    let events = vec![
        BlockingEvent {
            country: "KH".into(),
            asn: 64500,
            domain: "news-one.example".into(),
            layer: "dns".into(),
            start: datetime!(2023-03-06 08:00 UTC),
            end: None,
            confidence: 0.97,
            measurement_ids: vec!["20230306T080000_KH_webconnectivity_x".into()],
        },
        BlockingEvent {
            country: "KH".into(),
            asn: 64502,
            domain: "critic.example".into(),
            layer: "tls".into(),
            start: datetime!(2023-08-07 12:00 UTC),
            end: Some(datetime!(2023-12-25 12:00 UTC)),
            confidence: 0.81,
            measurement_ids: vec![],
        },
    ];
    store.upsert_events(&events).await.expect("events");
    store
}

pub const ORG: &str = "org_demo_ngo";
pub const CONFIDENTIAL_MARKER: &str = "CONFIDENTIAL-CASE-MARKER";
pub const UNPUBLISHED_MARKER: &str = "UNPUBLISHED-REC-MARKER";
pub const PUBLISHED_REC_TEXT: &str = "Repeal or amend the demo provisions on online expression.";

fn meta(entity: EntityType, id: &str, visibility: Visibility, status: Status) -> RecordMeta {
    let admin = Principal::user("u_admin", ORG, Role::Admin);
    let mut m = RecordMeta::new(entity, id, &admin, datetime!(2026-11-01 00:00 UTC)).expect("meta");
    m.visibility = visibility;
    m.status = status;
    m
}

/// The seed registry plus an organisation with: a published
/// recommendation with two assessments, an unpublished recommendation,
/// and a private confidential incident in 2023.
pub fn demo_registry() -> Dataset {
    let mut ds = seed::kh();
    ds.organisations.push(Organisation {
        id: ORG.into(),
        name: "Demo NGO".into(),
        name_km: None,
    });
    ds.recommendations.push(Recommendation {
        meta: meta(
            EntityType::Recommendation,
            "rec_demo_published",
            Visibility::Published,
            Status::Published,
        ),
        mechanism: Mechanism::Upr,
        document_symbol: "A/HRC/00/0".into(),
        paragraph: "110.1".into(),
        cycle: Some(3),
        date: Some("2019-07".parse().expect("date")),
        recommending_states: vec!["Demoland".into()],
        text: PUBLISHED_REC_TEXT.into(),
        themes: vec!["expression".into()],
        response: Some(RecResponse::Supported),
        verified: true,
        unverified_note: None,
    });
    ds.recommendations.push(Recommendation {
        meta: meta(
            EntityType::Recommendation,
            "rec_demo_draft",
            Visibility::Coalition,
            Status::InReview,
        ),
        mechanism: Mechanism::Upr,
        document_symbol: "A/HRC/00/0".into(),
        paragraph: "110.2".into(),
        cycle: Some(3),
        date: None,
        recommending_states: vec![],
        text: UNPUBLISHED_MARKER.into(),
        themes: vec![],
        response: None,
        verified: false,
        unverified_note: None,
    });
    for (id, date, status) in [
        ("asm_demo_1", "2021-01", Implementation::NotImplemented),
        ("asm_demo_2", "2023-06", Implementation::Partly),
    ] {
        ds.assessments.push(Assessment {
            id: id.into(),
            target_id: "rec_demo_published".into(),
            date: date.parse::<FuzzyDate>().expect("date"),
            status,
            assessed_by: ORG.into(),
            note: format!("demo assessment {id}"),
            evidence_ids: vec![
                "inc_2023_demo_confidential".into(),
                "event:news-one.example".into(),
            ],
        });
    }
    let mut m = meta(
        EntityType::Incident,
        "inc_2023_demo_confidential",
        Visibility::Private,
        Status::Draft,
    );
    m.confidential = true;
    ds.incidents.push(Incident {
        meta: m,
        title: CONFIDENTIAL_MARKER.into(),
        title_km: None,
        summary: "A confidential case recorded by the demo NGO.".into(),
        start: "2023-05-02".parse().expect("date"),
        end: None,
        place: Place::country("KH"),
        rights_affected: vec![],
        tags: vec![],
        verified: false,
        unverified_note: None,
    });
    ds.validate().expect("demo registry is valid");
    ds
}
