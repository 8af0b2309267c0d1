//! The registry fixture shared by the registry tests: a real server on
//! loopback over a fresh SQLite store holding records of two
//! organisations at every visibility, each with sensitive fields whose
//! clear text is a distinctive marker, and users of every role in each
//! organisation.
#![allow(dead_code)]

use canary_registry::*;
use canary_web::accounts::{create_user, PasswordParams, Role as WebRole};
use time::macros::datetime;
use time::OffsetDateTime;

use crate::common::{start_with, Client, TestServer, PASSWORD};

pub const ORGS: [&str; 2] = ["alpha", "beta"];

/// The visibility cases: (name, visibility, status). `pubdraft` is
/// published visibility but still a draft: not public.
pub const CASES: [(&str, Visibility, Status); 4] = [
    ("private", Visibility::Private, Status::Draft),
    ("coalition", Visibility::Coalition, Status::InReview),
    ("published", Visibility::Published, Status::Published),
    ("pubdraft", Visibility::Published, Status::Draft),
];

pub const ROLES: [WebRole; 3] = [WebRole::Viewer, WebRole::Analyst, WebRole::Admin];

/// One record set: ids and markers of one organisation × case.
#[derive(Debug, Clone)]
pub struct Rec {
    pub org: &'static str,
    pub case: &'static str,
    pub visibility: Visibility,
    pub status: Status,
    pub incident: String,
    pub act: String,
    pub actor: String,
    pub source: String,
    pub law: String,
    pub provision: String,
    pub evidence: String,
    pub recommendation: String,
    pub benchmark: String,
    pub domain: String,
    /// A marker that appears in the non-sensitive fields (title) only.
    pub title_marker: String,
    /// Clear texts of the sensitive fields (exact place, identities,
    /// contacts, provenance).
    pub secrets: Vec<String>,
}

impl Rec {
    pub fn new(
        org: &'static str,
        case: &'static str,
        visibility: Visibility,
        status: Status,
    ) -> Rec {
        let k = format!("{org}_{case}");
        Rec {
            org,
            case,
            visibility,
            status,
            incident: format!("inc_{k}"),
            act: format!("act_{k}"),
            actor: format!("actr_{k}"),
            source: format!("src_{k}"),
            law: format!("law_{k}"),
            provision: format!("prov_{k}"),
            evidence: format!("ev_{k}"),
            recommendation: format!("rec_{k}"),
            benchmark: format!("bm_{k}"),
            domain: format!("blocked-{org}-{case}.example"),
            title_marker: format!("TITLEMARK{org}{case}"),
            secrets: ["PLACE", "IDENT", "CONTACT", "SRCIDENT", "PROVEN"]
                .iter()
                .map(|s| format!("SECRET{s}{org}{case}"))
                .collect(),
        }
    }

    pub fn org_id(&self) -> String {
        format!("org_{}", self.org)
    }

    /// Every id of the set, for "no forbidden id in any body".
    pub fn ids(&self) -> Vec<&str> {
        vec![
            &self.incident,
            &self.act,
            &self.actor,
            &self.source,
            &self.law,
            &self.provision,
            &self.evidence,
            &self.recommendation,
            &self.benchmark,
        ]
    }
}

pub fn recs() -> Vec<Rec> {
    let mut out = Vec::new();
    for org in ORGS {
        for (case, vis, status) in CASES {
            out.push(Rec::new(org, case, vis, status));
        }
    }
    out
}

const AT: OffsetDateTime = datetime!(2024-03-01 09:00 UTC);

fn meta(id: &str, r: &Rec) -> RecordMeta {
    let by = Principal::user(format!("admin_{}", r.org), r.org_id(), Role::Admin);
    let entity = match &id[..id.find('_').unwrap_or(0) + 1] {
        "inc_" => EntityType::Incident,
        "actr_" => EntityType::Actor,
        "src_" => EntityType::Source,
        "law_" => EntityType::Law,
        "prov_" => EntityType::Provision,
        "ev_" => EntityType::Evidence,
        "rec_" => EntityType::Recommendation,
        _ => EntityType::Benchmark,
    };
    let mut m = RecordMeta::new(entity, id, &by, AT).unwrap();
    let path: &[Status] = match r.status {
        Status::Draft => &[],
        Status::InReview => &[Status::InReview],
        Status::Verified => &[Status::InReview, Status::Verified],
        Status::Published => &[Status::InReview, Status::Verified, Status::Published],
    };
    for s in path {
        m.transition(*s, &by, AT).unwrap();
    }
    m.set_visibility(r.visibility, &by, AT).unwrap();
    m
}

/// The dataset of every record set (clear: seal before storing).
pub fn dataset(recs: &[Rec]) -> Dataset {
    let mut ds = Dataset::new();
    for org in ORGS {
        ds.organisations.push(Organisation {
            id: format!("org_{org}"),
            name: format!("Org {org}"),
            name_km: Some(format!("អង្គការ {org}")),
        });
    }
    for r in recs {
        let date = FuzzyDate::exact(2023, 7, 17).unwrap();
        ds.incidents.push(Incident {
            meta: meta(&r.incident, r),
            title: format!("Incident {}", r.title_marker),
            title_km: Some(format!("ឧប្បត្តិហេតុ {}", r.title_marker)),
            summary: format!("Summary of {}", r.incident),
            start: date,
            end: None,
            place: Place {
                country: "KH".into(),
                area: Some("Phnom Penh".into()),
                precision: PlacePrecision::Province,
                exact: Some(SensitiveField::clear(r.secrets[0].clone())),
            },
            rights_affected: vec![Right::Iccpr19],
            tags: vec![],
            verified: false,
            unverified_note: None,
        });
        ds.actors.push(Actor {
            meta: meta(&r.actor, r),
            kind: ActorKind::Person,
            name: format!("a journalist {}", r.case),
            name_km: None,
            description: None,
            characteristics: vec![VictimCharacteristic::Journalist],
            asn: None,
            identity: Some(SensitiveField::clear(r.secrets[1].clone())),
            contact: Some(SensitiveField::clear(r.secrets[2].clone())),
        });
        ds.sources.push(Source {
            meta: meta(&r.source, r),
            publication: "interview".into(),
            title: Some(format!("Interview {}", r.case)),
            url: None,
            published: Some(date),
            connection: SourceConnection::Witness,
            reliability: Reliability::High,
            language: "km".into(),
            consent_to_publish: false,
            identity: Some(SensitiveField::clear(r.secrets[3].clone())),
            contact: None,
        });
        ds.laws.push(Law {
            meta: meta(&r.law, r),
            code: format!("L{}{}", r.org, r.case),
            name_en: format!("Law of {}", r.title_marker),
            name_km: None,
            instrument_type: InstrumentType::Law,
            summary_en: None,
            adopted: Some(FuzzyDate::year(2015).unwrap()),
            legal_status: LegalStatus::InForce,
            verified: true,
            unverified_note: None,
        });
        ds.provisions.push(Provision {
            meta: meta(&r.provision, r),
            law_id: r.law.clone(),
            article: "41".into(),
            paraphrase_en: format!("Provision of {}", r.title_marker),
            paraphrase_km: None,
            legal_status: LegalStatus::InForce,
            rights_restricted: vec![Right::Iccpr19],
            verified: true,
            unverified_note: None,
        });
        ds.acts.push(Act {
            id: r.act.clone(),
            incident_id: r.incident.clone(),
            act_type: ActType::WebsiteBlocking,
            victim_id: Some(r.actor.clone()),
            date: Some(date),
            stated_reason: None,
            description: format!("Order against {}", r.domain),
            extension: Some(ActExtension::BlockingOrder(BlockingOrder {
                issuer: "Ministry".into(),
                reference: Some(format!("REF-{}", r.title_marker)),
                date: Some(date),
                targets: vec![r.domain.clone()],
                isps: vec![],
                measurement_ids: vec![format!("m_{}_{}", r.org, r.case)],
                event_ids: vec![],
            })),
        });
        ds.invocations.push(ProvisionInvocation {
            act_id: r.act.clone(),
            provision_id: r.provision.clone(),
            role: InvocationRole::CitedInOrder,
            date: Some(date),
            note: None,
        });
        ds.citations.push(Citation {
            source_id: r.source.clone(),
            record_id: r.incident.clone(),
            note: None,
        });
        let sha = sha256_hex(r.evidence.as_bytes());
        ds.evidence.push(EvidenceItem {
            meta: meta(&r.evidence, r),
            sha256: sha.clone(),
            size: r.evidence.len() as u64,
            media_type: "text/plain".into(),
            kind: EvidenceKind::Original,
            acquired_at: AT,
            acquired_from: None,
            acquired_by: format!("admin_{}", r.org),
            method: "fixture".into(),
            provenance: Some(SensitiveField::clear(r.secrets[4].clone())),
            linked_ids: vec![r.incident.clone()],
        });
        ds.custody.push(CustodyEvent::first(
            r.evidence.clone(),
            CustodyAction::Acquired,
            format!("admin_{}", r.org),
            AT,
            format!("sha256={sha}"),
        ));
        ds.recommendations.push(Recommendation {
            meta: meta(&r.recommendation, r),
            mechanism: Mechanism::Upr,
            document_symbol: "A/HRC/41/17".into(),
            paragraph: format!("110.{}", r.case.len()),
            cycle: Some(3),
            date: None,
            recommending_states: vec!["Norway".into()],
            text: format!("Recommendation {}", r.title_marker),
            themes: vec![],
            response: Some(RecResponse::Noted),
            verified: true,
            unverified_note: None,
        });
        ds.benchmarks.push(Benchmark {
            meta: meta(&r.benchmark, r),
            source_document: "A/HRC/48/79".into(),
            text: format!("Benchmark {}", r.title_marker),
            theme: None,
            verified: true,
            unverified_note: None,
        });
        ds.assessments.push(Assessment {
            id: format!("asm_{}_{}", r.org, r.case),
            target_id: r.recommendation.clone(),
            date: FuzzyDate::exact(2024, 1, 1).unwrap(),
            status: Implementation::NotImplemented,
            assessed_by: r.org_id(),
            note: format!("Assessed {}", r.title_marker),
            evidence_ids: vec![r.incident.clone()],
        });
    }
    ds.validate().unwrap();
    ds
}

pub fn key_ring() -> KeyRing {
    KeyRing::new(FieldKey::from_bytes(1, [7u8; 32]))
}

pub struct Fixture {
    pub server: TestServer,
    pub recs: Vec<Rec>,
    pub evidence_dir: tempfile::TempDir,
}

/// The login name of a user: `<role>_<org>`.
pub fn user_name(role: WebRole, org: &str) -> String {
    format!("{}_{org}", role.as_str())
}

/// A server with the fixture loaded; `keys` gives it the field keys.
pub async fn start(keys: bool) -> Fixture {
    let evidence_dir = tempfile::tempdir().unwrap();
    let dir = evidence_dir.path().to_owned();
    let server = start_with(false, |cfg| {
        if keys {
            cfg.registry_keys = Some(std::sync::Arc::new(key_ring()));
        }
        cfg.evidence_dir = Some(dir);
    })
    .await;
    let recs = recs();
    let mut ds = dataset(&recs);
    ds.seal_all(&key_ring()).unwrap();
    server
        .store
        .registry_import(&ds, "fixture", AT)
        .await
        .unwrap();
    let objects = ObjectStore::new(evidence_dir.path());
    for r in &recs {
        objects.put(r.evidence.as_bytes()).unwrap();
    }
    for org in ORGS {
        for role in ROLES {
            create_user(
                &server.store,
                &user_name(role, org),
                PASSWORD,
                role,
                Some(&format!("org_{org}")),
                &PasswordParams::insecure_for_tests(),
            )
            .await
            .unwrap();
        }
    }
    Fixture {
        server,
        recs,
        evidence_dir,
    }
}

/// Who is asking: `None` is anonymous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Who {
    pub role: Option<WebRole>,
    pub org: Option<&'static str>,
}

impl Who {
    pub fn all() -> Vec<Who> {
        let mut v = vec![Who {
            role: None,
            org: None,
        }];
        for org in ORGS {
            for role in ROLES {
                v.push(Who {
                    role: Some(role),
                    org: Some(org),
                });
            }
        }
        v
    }

    pub fn label(&self) -> String {
        match (self.role, self.org) {
            (Some(r), Some(o)) => user_name(r, o),
            _ => "anonymous".into(),
        }
    }

    // The expected policy, written out as the registry's access table
    // (crates/registry/src/policy.rs) says it, independently of the code.

    /// May read the record set's records?
    pub fn reads(&self, r: &Rec) -> bool {
        match self.org {
            None => r.visibility == Visibility::Published && r.status == Status::Published,
            Some(o) if o == r.org => true,
            Some(_) => r.visibility != Visibility::Private,
        }
    }

    /// May see the sensitive fields in clear (given the server has keys)?
    pub fn reads_secrets(&self, r: &Rec) -> bool {
        self.org == Some(r.org) && matches!(self.role, Some(WebRole::Analyst | WebRole::Admin))
    }

    /// May edit the record set's records?
    pub fn writes(&self, r: &Rec) -> bool {
        self.org == Some(r.org)
            && match self.role {
                Some(WebRole::Admin) => true,
                Some(WebRole::Analyst) => matches!(r.status, Status::Draft | Status::InReview),
                _ => false,
            }
    }

    /// May create records (analyst or admin of some organisation)?
    pub fn creates(&self) -> bool {
        matches!(self.role, Some(WebRole::Analyst | WebRole::Admin))
    }

    /// A logged-in client for this principal.
    pub async fn client(&self, server: &TestServer) -> Client {
        let mut c = Client::new(server);
        if let (Some(r), Some(o)) = (self.role, self.org) {
            let resp = c.login(&user_name(r, o), PASSWORD).await;
            assert_eq!(resp.status.as_u16(), 303, "login {}", self.label());
        }
        c
    }
}

/// The CSRF token the API wants from this client (`None` when anonymous).
pub async fn api_token(c: &mut Client) -> Option<String> {
    let r = c.get("/api/v1/registry/session").await;
    assert_eq!(r.status.as_u16(), 200);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    v["csrf_token"].as_str().map(str::to_owned)
}

/// A response.
pub struct Out {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

/// Any request with the client's cookies (the common client has only
/// GET and two kinds of POST).
pub async fn send(
    c: &Client,
    method: reqwest::Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Out {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let mut req = http.request(method, format!("{}{}", c.base, path));
    if !c.cookies.is_empty() {
        let cookie = c
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        req = req.header("cookie", cookie);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.body(body).send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.text().await.unwrap();
    Out {
        status,
        headers,
        body,
    }
}

/// A multipart/form-data body from fields and one file.
pub fn multipart(fields: &[(&str, &str)], file: (&str, &str, &[u8])) -> (String, Vec<u8>) {
    let boundary = "canarytestboundary7d9f";
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    let (name, ctype, data) = file;
    b.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {ctype}\r\n\r\n"
        )
        .as_bytes(),
    );
    b.extend_from_slice(data);
    b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), b)
}
