//! A small two-organisation dataset touching every entity type, every
//! visibility and every sensitive field, for tests.
#![allow(dead_code)]

use canary_registry::*;
use time::macros::datetime;
use time::OffsetDateTime;

pub const T0: OffsetDateTime = datetime!(2024-05-01 09:00 UTC);
pub const ORG_A: &str = "org_a";
pub const ORG_B: &str = "org_b";
/// Every secret written into the fixture; none may appear where a reader lacks the right.
pub const SECRETS: &[&str] = &[
    "SECRET-victim-identity",
    "SECRET-victim-contact",
    "SECRET-village-location",
    "SECRET-source-identity",
    "SECRET-source-contact",
    "SECRET-provenance",
];

pub fn user(org: &str, role: Role) -> Principal {
    Principal::user(format!("u_{org}_{role}"), org, role)
}

pub fn meta(id: &str, org: &str, visibility: Visibility, status: Status) -> RecordMeta {
    RecordMeta {
        id: id.into(),
        org: org.into(),
        visibility,
        status,
        confidential: false,
        versions: vec![Version {
            n: 1,
            by: format!("u_{org}_analyst"),
            at: T0,
            change_summary: "created".into(),
        }],
        status_history: vec![],
    }
}

fn published(id: &str, org: &str) -> RecordMeta {
    meta(id, org, Visibility::Published, Status::Published)
}

pub fn incident(id: &str, org: &str, visibility: Visibility, status: Status) -> Incident {
    Incident {
        meta: meta(id, org, visibility, status),
        title: format!("title of {id}"),
        title_km: Some("ចំណងជើង".into()),
        summary: "summary, with a comma and \"quotes\"\nand a new line".into(),
        start: FuzzyDate::exact(2023, 7, 12).unwrap(),
        end: Some(FuzzyDate::month(2023, 8).unwrap()),
        place: Place {
            country: "KH".into(),
            area: Some("Siem Reap province".into()),
            precision: PlacePrecision::Province,
            exact: Some(SensitiveField::clear(if org == ORG_A {
                "SECRET-village-location"
            } else {
                "org B's own village"
            })),
        },
        rights_affected: vec![Right::Iccpr19, Right::Const41],
        tags: vec![
            "12".into(),
            "".into(),
            "true".into(),
            "null".into(),
            "[x".into(),
        ],
        verified: false,
        unverified_note: Some("date of arrest to check".into()),
    }
}

pub fn actor(id: &str, org: &str, visibility: Visibility, status: Status) -> Actor {
    Actor {
        meta: meta(id, org, visibility, status),
        kind: ActorKind::Person,
        name: "a journalist".into(),
        name_km: None,
        description: Some("reporter".into()),
        characteristics: vec![VictimCharacteristic::Journalist],
        asn: None,
        identity: Some(SensitiveField::clear("SECRET-victim-identity")),
        contact: Some(SensitiveField::clear("SECRET-victim-contact")),
    }
}

/// Org A owns one record of each visibility (private draft, coalition in
/// review, published) with sensitive fields; org B owns a published
/// incident and a private one. Every entity type is present.
pub fn dataset() -> Dataset {
    let mut ds = Dataset::new();
    ds.organisations = vec![
        Organisation {
            id: ORG_A.into(),
            name: "NGO A".into(),
            name_km: Some("អង្គការ ក".into()),
        },
        Organisation {
            id: ORG_B.into(),
            name: "NGO B".into(),
            name_km: None,
        },
    ];
    ds.incidents = vec![
        incident("inc_a_private", ORG_A, Visibility::Private, Status::Draft),
        incident(
            "inc_a_coalition",
            ORG_A,
            Visibility::Coalition,
            Status::InReview,
        ),
        incident(
            "inc_a_published",
            ORG_A,
            Visibility::Published,
            Status::Published,
        ),
        incident(
            "inc_b_published",
            ORG_B,
            Visibility::Published,
            Status::Published,
        ),
        incident(
            "inc_b_private",
            ORG_B,
            Visibility::Private,
            Status::Verified,
        ),
    ];
    ds.incident_links = vec![
        IncidentLink {
            from: "inc_a_published".into(),
            to: "inc_a_private".into(),
            kind: IncidentLinkKind::Retaliation,
            note: None,
        },
        IncidentLink {
            from: "inc_b_published".into(),
            to: "inc_a_published".into(),
            kind: IncidentLinkKind::SameCampaign,
            note: Some("both in July".into()),
        },
    ];
    ds.actors = vec![
        actor("actr_a_private", ORG_A, Visibility::Private, Status::Draft),
        actor(
            "actr_a_published",
            ORG_A,
            Visibility::Published,
            Status::Published,
        ),
        Actor {
            meta: published("actr_trc", ORG_B),
            kind: ActorKind::StateBody,
            name: "Telecommunication Regulator of Cambodia".into(),
            name_km: None,
            description: None,
            characteristics: vec![],
            asn: None,
            identity: None,
            contact: None,
        },
    ];
    ds.acts = vec![
        Act {
            id: "act_a_1".into(),
            incident_id: "inc_a_published".into(),
            act_type: ActType::WebsiteBlocking,
            victim_id: Some("actr_a_private".into()),
            date: Some(FuzzyDate::estimate(2023, 7, 17).unwrap()),
            stated_reason: Some("to sow confusion".into()),
            description: "blocked".into(),
            extension: Some(ActExtension::BlockingOrder(BlockingOrder {
                issuer: "TRC".into(),
                reference: Some("letter 123".into()),
                date: Some(FuzzyDate::exact(2023, 7, 12).unwrap()),
                targets: vec!["example.org".into()],
                isps: vec![IspRef {
                    name: "Metfone".into(),
                    asn: Some(38623),
                }],
                measurement_ids: vec!["20230717T000000Z_webconnectivity_KH_38623_n1_abc".into()],
                event_ids: vec!["evt_42".into()],
            })),
        },
        Act {
            id: "act_a_2".into(),
            incident_id: "inc_a_private".into(),
            act_type: ActType::Conviction,
            victim_id: Some("actr_a_published".into()),
            date: Some(FuzzyDate::year(2021).unwrap()),
            stated_reason: None,
            description: "convicted".into(),
            extension: Some(ActExtension::CourtCase(CourtCase {
                court: Some("Phnom Penh Municipal Court".into()),
                case_number: Some("1234".into()),
                stage: CaseStage::Appeal,
                hearings: vec![Hearing {
                    date: FuzzyDate::exact(2021, 3, 1).unwrap(),
                    note: "first hearing".into(),
                }],
                verdict: Some(Verdict::Convicted),
                sentence: Some("2 years".into()),
                appeal: Some("lodged".into()),
            })),
        },
        Act {
            id: "act_b_1".into(),
            incident_id: "inc_b_published".into(),
            act_type: ActType::ContentTakedown,
            victim_id: None,
            date: None,
            stated_reason: None,
            description: "page removed".into(),
            extension: Some(ActExtension::RemovalRequest(RemovalRequest {
                platform: "Facebook".into(),
                sender: "Ministry of Information".into(),
                recipient: "Meta".into(),
            })),
        },
    ];
    ds.involvements = vec![Involvement {
        act_id: "act_a_1".into(),
        actor_id: "actr_trc".into(),
        degree: Degree::Ordered,
        perpetrator_type: PerpetratorType::Regulator,
        note: None,
    }];
    ds.sources = vec![
        Source {
            meta: meta(
                "src_a_witness",
                ORG_A,
                Visibility::Coalition,
                Status::Verified,
            ),
            publication: "interview".into(),
            title: None,
            url: None,
            published: None,
            connection: SourceConnection::Witness,
            reliability: Reliability::High,
            language: "km".into(),
            consent_to_publish: false,
            identity: Some(SensitiveField::clear("SECRET-source-identity")),
            contact: Some(SensitiveField::clear("SECRET-source-contact")),
        },
        Source {
            meta: published("src_ooni", ORG_B),
            publication: "OONI".into(),
            title: Some("report".into()),
            url: Some("https://example.invalid/report".into()),
            published: Some(FuzzyDate::exact(2022, 12, 23).unwrap()),
            connection: SourceConnection::Measurement,
            reliability: Reliability::High,
            language: "en".into(),
            consent_to_publish: true,
            identity: None,
            contact: None,
        },
    ];
    ds.citations = vec![
        Citation {
            source_id: "src_a_witness".into(),
            record_id: "inc_a_published".into(),
            note: None,
        },
        Citation {
            source_id: "src_ooni".into(),
            record_id: "act_a_1".into(),
            note: Some("measurements".into()),
        },
    ];
    ds.laws = vec![Law {
        meta: published("law_pc", ORG_B),
        code: "PC".into(),
        name_en: "Criminal Code".into(),
        name_km: None,
        instrument_type: InstrumentType::Code,
        summary_en: None,
        adopted: Some(FuzzyDate::year(2009).unwrap()),
        legal_status: LegalStatus::InForce,
        verified: true,
        unverified_note: None,
    }];
    ds.provisions = vec![Provision {
        meta: published("prov_pc_495", ORG_B),
        law_id: "law_pc".into(),
        article: "495".into(),
        paraphrase_en: "incitement".into(),
        paraphrase_km: None,
        legal_status: LegalStatus::InForce,
        rights_restricted: vec![Right::Iccpr19],
        verified: true,
        unverified_note: None,
    }];
    ds.invocations = vec![ProvisionInvocation {
        act_id: "act_a_2".into(),
        provision_id: "prov_pc_495".into(),
        role: InvocationRole::ConvictedUnder,
        date: Some(FuzzyDate::month(2021, 8).unwrap()),
        note: None,
    }];
    let e0 = CustodyEvent::first(
        "ev_a_shot",
        CustodyAction::Acquired,
        "u_org_a_analyst",
        T0,
        "sha256=…",
    );
    let e1 = e0.next(CustodyAction::Viewed, "u_org_a_admin", T0, "");
    ds.evidence = vec![EvidenceItem {
        meta: meta("ev_a_shot", ORG_A, Visibility::Coalition, Status::Verified),
        sha256: sha256_hex(b"screenshot"),
        size: 10,
        media_type: "image/png".into(),
        kind: EvidenceKind::Original,
        acquired_at: T0,
        acquired_from: Some("https://example.invalid/post".into()),
        acquired_by: "u_org_a_analyst".into(),
        method: "browser screenshot".into(),
        provenance: Some(SensitiveField::clear("SECRET-provenance")),
        linked_ids: vec!["inc_a_published".into(), "inc_a_private".into()],
    }];
    ds.custody = vec![e0, e1];
    ds.recommendations = vec![Recommendation {
        meta: published("rec_upr_118_22", ORG_B),
        mechanism: Mechanism::Upr,
        document_symbol: "A/HRC/26/16".into(),
        paragraph: "118.22".into(),
        cycle: Some(2),
        date: Some(FuzzyDate::year(2014).unwrap()),
        recommending_states: vec!["Portugal".into()],
        text: "revoke provisions".into(),
        themes: vec!["expression".into()],
        response: Some(RecResponse::Noted),
        verified: false,
        unverified_note: Some("check text".into()),
    }];
    ds.benchmarks = vec![Benchmark {
        meta: published("bm_1", ORG_B),
        source_document: "SR report".into(),
        text: "reform laws".into(),
        theme: None,
        verified: false,
        unverified_note: None,
    }];
    ds.assessments = vec![Assessment {
        id: "asm_1".into(),
        target_id: "rec_upr_118_22".into(),
        date: FuzzyDate::year(2024).unwrap(),
        status: Implementation::NotImplemented,
        assessed_by: ORG_A.into(),
        note: "still used".into(),
        evidence_ids: vec![
            "inc_a_published".into(),
            "inc_a_private".into(),
            "evt_42".into(),
        ],
    }];
    ds
}
