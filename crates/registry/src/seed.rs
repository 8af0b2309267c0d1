//! `canary seed kh`: a Cambodia dataset written for this project from
//! public reporting (the project's `kh-legal-facts.md`), in our own words.
//!
//! * Laws and provisions restricting digital rights, with paraphrases
//!   (never legal text) and the rights they restrict. Khmer names are left
//!   empty: the facts file gives none and we do not invent legal names.
//! * Incidents: prosecutions over Facebook posts, outlet closures, blocking
//!   orders and DNS blocking seen in measurements, as acts against victims,
//!   perpetrators' involvements and the provisions invoked.
//! * Special Rapporteur benchmarks quoted in the facts file.
//! * Sources for every record: publication, title, date, reliability. URLs
//!   only where the facts give them exactly; otherwise none.
//!
//! Facts the research marks unverified are `verified: false` with an
//! `unverified_note`, and such records are shared with the coalition
//! (status in review) rather than published. Telecom Law art. 93 is left
//! out on purpose: its content was not found. Everything named here was
//! reported publicly; the one minor is not named publicly (his name is a
//! sensitive field, sealed by the store and redacted in public views).

use time::macros::datetime;
use time::OffsetDateTime;

use crate::crypto::SensitiveField;
use crate::dataset::Dataset;
use crate::dates::FuzzyDate;
use crate::entities::*;
use crate::meta::{RecordMeta, Version};
use crate::vocab::*;

/// Owner of the seed records.
pub const SEED_ORG: &str = "org_canary_seed";
/// User id written in the seed records' first version.
pub const SEED_USER: &str = "seed";
/// Time written in the seed records' first version.
pub const SEED_AT: OffsetDateTime = datetime!(2026-11-29 00:00 UTC);

fn meta(id: &str, verified: bool) -> RecordMeta {
    RecordMeta {
        id: id.to_owned(),
        org: SEED_ORG.to_owned(),
        visibility: if verified {
            Visibility::Published
        } else {
            Visibility::Coalition
        },
        status: if verified {
            Status::Published
        } else {
            Status::InReview
        },
        confidential: false,
        versions: vec![Version {
            n: 1,
            by: SEED_USER.to_owned(),
            at: SEED_AT,
            change_summary: "seeded from public reporting (canary seed kh)".to_owned(),
        }],
        status_history: Vec::new(),
    }
}

/// Parses a date literal of this module. The literals are constants
/// checked by the test suite; an unparsable one is a programming error.
fn d(s: &str) -> FuzzyDate {
    match s.parse() {
        Ok(d) => d,
        Err(e) => panic!("seed date literal {s:?}: {e}"),
    }
}

fn note(s: &str) -> Option<String> {
    Some(s.to_owned())
}

struct Builder {
    ds: Dataset,
}

impl Builder {
    #[allow(clippy::too_many_arguments)]
    fn source(
        &mut self,
        id: &str,
        publication: &str,
        title: Option<&str>,
        url: Option<&str>,
        published: Option<&str>,
        connection: SourceConnection,
        reliability: Reliability,
    ) {
        self.ds.sources.push(Source {
            meta: meta(id, true),
            publication: publication.to_owned(),
            title: title.map(str::to_owned),
            url: url.map(str::to_owned),
            published: published.map(d),
            connection,
            reliability,
            language: "en".to_owned(),
            consent_to_publish: true,
            identity: None,
            contact: None,
        });
    }

    fn cite(&mut self, source: &str, record: &str, what: &str) {
        self.ds.citations.push(Citation {
            source_id: source.to_owned(),
            record_id: record.to_owned(),
            note: if what.is_empty() { None } else { note(what) },
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn law(
        &mut self,
        id: &str,
        code: &str,
        name: &str,
        instrument_type: InstrumentType,
        adopted: Option<&str>,
        status: LegalStatus,
        summary: &str,
        unverified: Option<&str>,
    ) {
        self.ds.laws.push(Law {
            meta: meta(id, unverified.is_none()),
            code: code.to_owned(),
            name_en: name.to_owned(),
            name_km: None,
            instrument_type,
            summary_en: note(summary),
            adopted: adopted.map(d),
            legal_status: status,
            verified: unverified.is_none(),
            unverified_note: unverified.map(str::to_owned),
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn provision(
        &mut self,
        id: &str,
        law: &str,
        article: &str,
        paraphrase: &str,
        status: LegalStatus,
        rights: &[Right],
        unverified: Option<&str>,
    ) {
        self.ds.provisions.push(Provision {
            meta: meta(id, unverified.is_none()),
            law_id: law.to_owned(),
            article: article.to_owned(),
            paraphrase_en: paraphrase.to_owned(),
            paraphrase_km: None,
            legal_status: status,
            rights_restricted: rights.to_vec(),
            verified: unverified.is_none(),
            unverified_note: unverified.map(str::to_owned),
        });
    }

    fn actor(
        &mut self,
        id: &str,
        kind: ActorKind,
        name: &str,
        description: &str,
        characteristics: &[VictimCharacteristic],
        asn: Option<u32>,
    ) {
        self.ds.actors.push(Actor {
            meta: meta(id, true),
            kind,
            name: name.to_owned(),
            name_km: None,
            description: if description.is_empty() {
                None
            } else {
                note(description)
            },
            characteristics: characteristics.to_vec(),
            asn,
            identity: None,
            contact: None,
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn incident(
        &mut self,
        id: &str,
        title: &str,
        summary: &str,
        start: &str,
        end: Option<&str>,
        rights: &[Right],
        tags: &[&str],
        unverified: Option<&str>,
    ) {
        self.ds.incidents.push(Incident {
            meta: meta(id, unverified.is_none()),
            title: title.to_owned(),
            title_km: None,
            summary: summary.to_owned(),
            start: d(start),
            end: end.map(d),
            place: Place::country("KH"),
            rights_affected: rights.to_vec(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            verified: unverified.is_none(),
            unverified_note: unverified.map(str::to_owned),
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn act(
        &mut self,
        id: &str,
        incident: &str,
        act_type: ActType,
        victim: Option<&str>,
        date: Option<&str>,
        stated_reason: Option<&str>,
        description: &str,
        extension: Option<ActExtension>,
    ) {
        self.ds.acts.push(Act {
            id: id.to_owned(),
            incident_id: incident.to_owned(),
            act_type,
            victim_id: victim.map(str::to_owned),
            date: date.map(d),
            stated_reason: stated_reason.map(str::to_owned),
            description: description.to_owned(),
            extension,
        });
    }

    fn involve(&mut self, act: &str, actor: &str, degree: Degree, ty: PerpetratorType) {
        self.ds.involvements.push(Involvement {
            act_id: act.to_owned(),
            actor_id: actor.to_owned(),
            degree,
            perpetrator_type: ty,
            note: None,
        });
    }

    fn invoke(
        &mut self,
        act: &str,
        provision: &str,
        role: InvocationRole,
        date: Option<&str>,
        what: Option<&str>,
    ) {
        self.ds.invocations.push(ProvisionInvocation {
            act_id: act.to_owned(),
            provision_id: provision.to_owned(),
            role,
            date: date.map(d),
            note: what.map(str::to_owned),
        });
    }
}

fn court_case(stage: CaseStage, verdict: Option<Verdict>, sentence: Option<&str>) -> ActExtension {
    ActExtension::CourtCase(CourtCase {
        court: None,
        case_number: None,
        stage,
        hearings: Vec::new(),
        verdict,
        sentence: sentence.map(str::to_owned),
        appeal: None,
    })
}

/// The Cambodia seed dataset (see the module documentation).
pub fn kh() -> Dataset {
    let mut b = Builder { ds: Dataset::new() };
    b.ds.organisations.push(Organisation {
        id: SEED_ORG.to_owned(),
        name: "Canary seed dataset (public sources)".to_owned(),
        name_km: Some("ទិន្នន័យដំបូងរបស់ Canary (ប្រភពសាធារណៈ)".to_owned()),
    });

    sources(&mut b);
    laws(&mut b);
    actors(&mut b);
    incidents(&mut b);

    // UN Special Rapporteur benchmarks (only those quoted in the facts).
    let bm_note = "wording as quoted in secondary reporting of the August 2022 benchmarks; \
                   the full list of 20 was not retrieved; check against the Special Rapporteur's report";
    for (id, text, theme) in [
        (
            "bm_sr2022_draconian_laws",
            "Desist from applying and reform draconian laws.",
            "legal reform",
        ),
        (
            "bm_sr2022_release_hrds",
            "Release detained human rights defenders and political dissidents and drop the charges.",
            "detention",
        ),
    ] {
        b.ds.benchmarks.push(Benchmark {
            meta: meta(id, false),
            source_document: "UN Special Rapporteur on the situation of human rights in Cambodia, benchmarks (August 2022)".to_owned(),
            text: text.to_owned(),
            theme: note(theme),
            verified: false,
            unverified_note: note(bm_note),
        });
        b.cite("src_un_news_2023_sr", id, "benchmarks and their October 2023 assessment");
    }
    b.ds
}

fn sources(b: &mut Builder) {
    use Reliability::*;
    use SourceConnection::*;
    b.source(
        "src_ooni_2022_kh",
        "OONI, with Sinar Project and Advocacy & Policy Institute",
        Some("The State of Internet Censorship in Cambodia"),
        Some("https://ooni.org/post/2022-state-of-internet-censorship-cambodia/"),
        Some("2022-12-23"),
        NgoReport,
        High,
    );
    b.source(
        "src_ooni_finding_2023_kh",
        "OONI Explorer",
        None,
        Some("https://explorer.ooni.org/findings/373150675601"),
        Some("2023"),
        Measurement,
        High,
    );
    b.source(
        "src_srlaw_telecom",
        "SR Law",
        Some("Briefing on the Telecom Law in Cambodia"),
        None,
        None,
        NgoReport,
        Medium,
    );
    b.source(
        "src_licadho_telecom_2016",
        "LICADHO",
        Some("Law on Telecommunications: A Legal Analysis"),
        None,
        Some("2016-03"),
        NgoReport,
        High,
    );
    b.source(
        "src_eui_dti_prakas170",
        "European University Institute, Digital Trade Integration database",
        None,
        None,
        None,
        NgoReport,
        Medium,
    );
    b.source(
        "src_ppp_nig_2021",
        "Phnom Penh Post",
        Some("National internet gateway gets PM stamp of approval"),
        None,
        Some("2021-02"),
        Media,
        Medium,
    );
    b.source(
        "src_nikkei_nig_postponed",
        "Nikkei Asia (syndicated)",
        None,
        None,
        Some("2022-02"),
        Media,
        Medium,
    );
    b.source(
        "src_cso_nig_2021",
        "Joint statement of Cambodian civil-society organisations (via CCHR)",
        None,
        None,
        Some("2021-02-19"),
        NgoReport,
        High,
    );
    b.source(
        "src_cambodiadaily_fb_charges",
        "Cambodia Daily",
        Some("Facebook users may face charges"),
        None,
        None,
        Media,
        Medium,
    );
    b.source(
        "src_ppp_mocking_pm",
        "Phnom Penh Post",
        Some("Capital court charges man over mocking PM Facebook post"),
        None,
        Some("2020-12"),
        Media,
        Medium,
    );
    b.source(
        "src_ppp_lese_majeste_2018",
        "Phnom Penh Post",
        None,
        None,
        Some("2018-05"),
        Media,
        Medium,
    );
    b.source(
        "src_ppp_second_lese_majeste",
        "Phnom Penh Post",
        Some("Second man charged under lese majeste law"),
        None,
        Some("2018-05"),
        Media,
        Medium,
    );
    b.source(
        "src_hrw_2020_04_10",
        "Human Rights Watch",
        None,
        None,
        Some("2020-04-10"),
        NgoReport,
        High,
    );
    b.source(
        "src_fidh_lango_2015",
        "FIDH / Observatory for the Protection of Human Rights Defenders",
        Some("The dangers of LANGO"),
        None,
        Some("2015-07"),
        NgoReport,
        High,
    );
    b.source(
        "src_cambodiadaily_soe_2020",
        "Cambodia Daily",
        Some("Cambodia adopts law to allow emergency powers"),
        None,
        Some("2020-04"),
        Media,
        Medium,
    );
    b.source(
        "src_restofworld_cybersec_2023",
        "Rest of World",
        None,
        None,
        Some("2023"),
        Media,
        Medium,
    );
    b.source(
        "src_icj_accessnow_2023_10_02",
        "International Commission of Jurists and Access Now",
        None,
        None,
        Some("2023-10-02"),
        NgoReport,
        High,
    );
    b.source(
        "src_greenleaf_pdp_2023",
        "Privacy Laws & Business (G. Greenleaf)",
        None,
        None,
        Some("2023"),
        NgoReport,
        Medium,
    );
    b.source(
        "src_khmertimes_fb_arrest",
        "Khmer Times",
        Some("Facebook arrest sparks alarm"),
        None,
        Some("2015"),
        Media,
        Medium,
    );
    b.source(
        "src_fotn_2016_kh",
        "Freedom House",
        Some("Freedom on the Net 2016: Cambodia"),
        None,
        Some("2016"),
        NgoReport,
        High,
    );
    b.source(
        "src_cambojanews_rithy",
        "CamboJA News",
        None,
        None,
        Some("2020-10"),
        Media,
        Medium,
    );
    b.source(
        "src_cambojanews_rong_chhun",
        "CamboJA News",
        None,
        None,
        Some("2020-08"),
        Media,
        Medium,
    );
    b.source(
        "src_bhrrc_rong_chhun_2021",
        "Business & Human Rights Resource Centre",
        None,
        None,
        Some("2021-08"),
        NgoReport,
        Medium,
    );
    b.source(
        "src_cambojanews_kak_2021",
        "CamboJA News",
        None,
        None,
        Some("2021-11"),
        Media,
        Medium,
    );
    b.source(
        "src_ap_vod_2023",
        "Associated Press",
        None,
        None,
        Some("2023-02"),
        Media,
        High,
    );
    b.source(
        "src_rsf_2023_blocking",
        "Reporters Without Borders",
        None,
        None,
        Some("2023-07"),
        NgoReport,
        High,
    );
    b.source(
        "src_voa_trc_letter_2023",
        "Voice of America (via CamboJA News)",
        None,
        None,
        Some("2023-07"),
        Media,
        Medium,
    );
    b.source(
        "src_un_news_2023_sr",
        "UN News",
        Some("UN rights expert urges key reforms in Cambodia"),
        None,
        Some("2023-10-09"),
        UnDocument,
        High,
    );
}

fn laws(b: &mut Builder) {
    use InstrumentType as It;
    use LegalStatus as Ls;
    use Right::*;

    b.law(
        "law_kh_constitution",
        "CONST",
        "Constitution of the Kingdom of Cambodia",
        It::Constitution,
        Some("1993"),
        Ls::InForce,
        "The 1993 Constitution, amended several times (including in February 2018).",
        None,
    );
    b.provision(
        "prov_kh_const_40",
        "law_kh_constitution",
        "40",
        "Protects the privacy of the home and the secrecy of correspondence, including mail and telephone.",
        Ls::InForce,
        &[Iccpr17, Const40],
        None,
    );
    b.provision(
        "prov_kh_const_41",
        "law_kh_constitution",
        "41",
        "Guarantees freedom of expression, of the press, of publication and of assembly, but forbids using them against others' honour, good custom, public order or national security.",
        Ls::InForce,
        &[Iccpr19, Iccpr21, Const41],
        None,
    );
    b.provision(
        "prov_kh_const_49",
        "law_kh_constitution",
        "49",
        "Added in 2018: requires every citizen to uphold the national interest and to refrain from any act that affects it.",
        Ls::InForce,
        &[Iccpr19, Iccpr22],
        None,
    );
    for s in ["src_ooni_2022_kh"] {
        for r in [
            "law_kh_constitution",
            "prov_kh_const_41",
            "prov_kh_const_49",
        ] {
            b.cite(s, r, "");
        }
    }
    b.cite(
        "src_ooni_2022_kh",
        "prov_kh_const_40",
        "privacy of correspondence",
    );

    b.law(
        "law_kh_telecom",
        "TEL",
        "Law on Telecommunications",
        It::Law,
        Some("2015-12-17"),
        Ls::InForce,
        "Regulates the telecom sector and gives the Ministry of Posts and Telecommunications (MPTC) broad powers over operators, data and inspections. Passed by the National Assembly in November 2015 and signed on 17 December 2015 (not 2018, as sometimes reported).",
        Some("promulgation (royal kram) number not confirmed"),
    );
    let tel: &[(&str, &str, &str, &[Right])] = &[
        ("prov_kh_tel_6", "6", "Obliges operators and anyone 'involved' to hand telecom and ICT service data to the ministry.", &[Iccpr17, Const40]),
        ("prov_kh_tel_66", "66", "Forbids telecom activity that might affect public order or security.", &[Iccpr19]),
        ("prov_kh_tel_70_71", "70-71", "Gives officials who inspect the telecom sector the powers of judicial police.", &[Iccpr17, Iccpr19]),
        ("prov_kh_tel_80", "80", "Punishes with 7 to 15 years in prison setting up or using telecom equipment in a way that leads to 'national insecurity'.", &[Iccpr19]),
        ("prov_kh_tel_97", "97", "Permits secret listening to and recording of communications when an undefined 'legitimate authority' approves.", &[Iccpr17, Const40]),
    ];
    for (id, art, text, rights) in tel {
        b.provision(id, "law_kh_telecom", art, text, Ls::InForce, rights, None);
        b.cite("src_licadho_telecom_2016", id, "");
    }
    b.cite("src_srlaw_telecom", "law_kh_telecom", "promulgation date");
    b.cite(
        "src_fotn_2016_kh",
        "law_kh_telecom",
        "adoption by the National Assembly",
    );

    b.law(
        "law_kh_prakas_170",
        "PRAKAS-170",
        "Inter-Ministerial Prakas No. 170 on publication controls of websites and social media processing via the internet (Ministries of Information, Interior, and Posts and Telecommunications)",
        It::Prakas,
        Some("2018-05"),
        Ls::InForce,
        "Joint regulation of three ministries on online content.",
        Some("day of signature in May 2018 not confirmed (recorded to the month)"),
    );
    b.provision(
        "prov_kh_prakas170_cl6",
        "law_kh_prakas_170",
        "clause 6",
        "Puts the Ministry of Information in charge of online content and of acting against publications it deems illegal.",
        Ls::InForce,
        &[Iccpr19],
        None,
    );
    b.provision(
        "prov_kh_prakas170_cl7",
        "law_kh_prakas_170",
        "clause 7",
        "Lets the telecom ministry block or shut websites and pages on grounds such as incitement or national security, and requires ISPs to install monitoring and blocking tools.",
        Ls::InForce,
        &[Iccpr17, Iccpr19],
        None,
    );
    for r in [
        "law_kh_prakas_170",
        "prov_kh_prakas170_cl6",
        "prov_kh_prakas170_cl7",
    ] {
        b.cite("src_eui_dti_prakas170", r, "");
    }

    b.law(
        "law_kh_nig",
        "NIG",
        "Sub-decree on the Establishment of the National Internet Gateway",
        It::SubDecree,
        Some("2021-02-16"),
        Ls::Adopted,
        "Routes all international internet traffic through a state-designated gateway operator. Operators had 12 months to connect; implementation was postponed in February 2022; an operator was reportedly designated in 2025.",
        Some("sub-decree number (reported as 23) not confirmed"),
    );
    b.provision(
        "prov_kh_nig_6",
        "law_kh_nig",
        "6",
        "Requires the gateway operator to block or cut connections that affect national revenue, security, social order, dignity, culture, traditions or customs.",
        Ls::Adopted,
        &[Iccpr19],
        None,
    );
    b.provision(
        "prov_kh_nig_12",
        "law_kh_nig",
        "12",
        "Sets operator duties regarding revenue, safety and public order, including verifying users' identities.",
        Ls::Adopted,
        &[Iccpr17, Iccpr19],
        None,
    );
    b.provision(
        "prov_kh_nig_13",
        "law_kh_nig",
        "13",
        "Criticised by 45 civil-society groups as vague and restrictive.",
        Ls::Adopted,
        &[],
        Some("content of the article not verified"),
    );
    b.provision(
        "prov_kh_nig_14",
        "law_kh_nig",
        "14",
        "Requires keeping technical records, IP addresses and traffic routes for 12 months and reporting to the authorities.",
        Ls::Adopted,
        &[Iccpr17],
        None,
    );
    for r in [
        "law_kh_nig",
        "prov_kh_nig_6",
        "prov_kh_nig_12",
        "prov_kh_nig_14",
    ] {
        b.cite("src_ooni_2022_kh", r, "");
    }
    b.cite("src_ppp_nig_2021", "law_kh_nig", "signature date");
    b.cite("src_nikkei_nig_postponed", "law_kh_nig", "postponement");
    b.cite(
        "src_cso_nig_2021",
        "prov_kh_nig_13",
        "civil-society criticism",
    );

    b.law(
        "law_kh_criminal_code",
        "PC",
        "Criminal Code of the Kingdom of Cambodia",
        It::Code,
        Some("2009"),
        Ls::InForce,
        "The 2009 Criminal Code; its defamation, insult, incitement and (since 2018) lese-majeste articles are the ones most used against online speech.",
        None,
    );
    let pc: &[(&str, &str, &str, &[Right], &str)] = &[
        ("prov_kh_pc_305", "305", "Makes public defamation of a person or institution an offence punished by a fine.", &[Iccpr19], "src_cambodiadaily_fb_charges"),
        ("prov_kh_pc_307", "307", "Makes public insult an offence punished by a fine.", &[Iccpr19], "src_cambodiadaily_fb_charges"),
        ("prov_kh_pc_425", "425", "Punishes spreading false information that suggests a danger; used against 'fake news'.", &[Iccpr19], "src_ooni_2022_kh"),
        ("prov_kh_pc_437bis", "437 bis", "Inserted in February 2018 (in effect from March 2018): insulting the King by any means, media included, is punished by 1 to 5 years in prison and a fine.", &[Iccpr19], "src_ppp_lese_majeste_2018"),
        ("prov_kh_pc_453", "453", "Punishes plotting against the State with 5 to 10 years in prison.", &[Iccpr19, Iccpr21, Iccpr22], "src_ooni_2022_kh"),
        ("prov_kh_pc_494_495", "494-495", "Punish incitement to commit a felony or to disturb social security, by speech, writing or any medium, with 6 months to 2 years in prison.", &[Iccpr19], "src_hrw_2020_04_10"),
        ("prov_kh_pc_496", "496", "Punishes incitement to discrimination.", &[Iccpr19], "src_ppp_mocking_pm"),
    ];
    b.cite(
        "src_ooni_2022_kh",
        "law_kh_criminal_code",
        "articles used against online speech",
    );
    for (id, art, text, rights, src) in pc {
        b.provision(
            id,
            "law_kh_criminal_code",
            art,
            text,
            Ls::InForce,
            rights,
            None,
        );
        b.cite(src, id, "");
    }

    b.law(
        "law_kh_lango",
        "LANGO",
        "Law on Associations and Non-Governmental Organizations",
        It::Law,
        Some("2015-08"),
        Ls::InForce,
        "Regulates the registration and conduct of associations and NGOs.",
        None,
    );
    b.provision(
        "prov_kh_lango_8_9",
        "law_kh_lango",
        "8-9",
        "Make registration with the Interior Ministry compulsory, allow refusal on vague grounds, and ban unregistered groups from operating.",
        Ls::InForce,
        &[Iccpr22],
        None,
    );
    b.provision(
        "prov_kh_lango_24",
        "law_kh_lango",
        "24",
        "Requires NGOs to stay 'politically neutral', a term the law leaves undefined.",
        Ls::InForce,
        &[Iccpr19, Iccpr22],
        None,
    );
    for r in ["law_kh_lango", "prov_kh_lango_8_9", "prov_kh_lango_24"] {
        b.cite("src_fidh_lango_2015", r, "");
    }

    b.law(
        "law_kh_state_of_emergency",
        "SOE",
        "Law on the Management of the Nation in a State of Emergency",
        It::Law,
        Some("2020-04"),
        Ls::InForce,
        "Emergency powers law adopted during the COVID-19 pandemic; no emergency had been declared under it by the time of the sources.",
        None,
    );
    b.provision(
        "prov_kh_soe_5",
        "law_kh_state_of_emergency",
        "5",
        "During a declared emergency, allows surveillance of telecommunications, control of media and social media, and bans on information that could cause 'fear'.",
        Ls::InForce,
        &[Iccpr17, Iccpr19, Iccpr21],
        None,
    );
    b.cite(
        "src_cambodiadaily_soe_2020",
        "law_kh_state_of_emergency",
        "",
    );
    b.cite("src_ooni_2022_kh", "prov_kh_soe_5", "");

    b.law(
        "law_kh_draft_cybercrime",
        "CYBERCRIME",
        "Draft Law on Cybercrime (Ministry of Interior)",
        It::DraftLaw,
        None,
        Ls::Draft,
        "Drafted from 2012; a 2020 draft leaked. It would require retention of traffic data and create offences for computer use causing 'fear' and for false statements harming national security.",
        None,
    );
    b.provision(
        "prov_kh_draft_cybercrime_2020",
        "law_kh_draft_cybercrime",
        "8, 12, 32-33, 40, 45 (2020 draft)",
        "Traffic-data retention for the authorities; offences for computer use causing fear or intimidation and for false statements harming public safety or national security.",
        Ls::Draft,
        &[Iccpr17, Iccpr19],
        None,
    );
    b.cite("src_ooni_2022_kh", "law_kh_draft_cybercrime", "");
    b.cite("src_ooni_2022_kh", "prov_kh_draft_cybercrime_2020", "");

    b.law(
        "law_kh_draft_cybersecurity",
        "CYBERSEC",
        "Draft Law on Cybersecurity (Ministry of Posts and Telecommunications)",
        It::DraftLaw,
        Some("2022-09"),
        Ls::Draft,
        "A draft dated September 2022 would let the authorities seize systems and copy data in 'critical' incidents and give inspectors broad powers.",
        None,
    );
    b.cite(
        "src_restofworld_cybersec_2023",
        "law_kh_draft_cybersecurity",
        "",
    );
    b.cite(
        "src_icj_accessnow_2023_10_02",
        "law_kh_draft_cybersecurity",
        "",
    );

    b.law(
        "law_kh_draft_ati",
        "ATI",
        "Draft Law on Access to Information",
        It::DraftLaw,
        None,
        Ls::Draft,
        "Drafts of 2019-2020 with a narrow scope and wide exemptions.",
        None,
    );
    b.cite("src_ooni_2022_kh", "law_kh_draft_ati", "");

    b.law(
        "law_kh_draft_pdp",
        "PDP",
        "Draft Law on Personal Data Protection (Ministry of Posts and Telecommunications)",
        It::DraftLaw,
        Some("2022"),
        Ls::Draft,
        "First drafted in 2022 and put to consultation in 2023.",
        None,
    );
    b.provision(
        "prov_kh_draft_pdp_2",
        "law_kh_draft_pdp",
        "2",
        "Leaves public authorities outside the law's scope, so state processing of personal data goes unchecked.",
        Ls::Draft,
        &[Iccpr17],
        None,
    );
    b.cite("src_greenleaf_pdp_2023", "law_kh_draft_pdp", "");
    b.cite("src_greenleaf_pdp_2023", "prov_kh_draft_pdp_2", "");
}

/// (id, kind, public name, description, characteristics, ASN)
type ActorRow = (
    &'static str,
    ActorKind,
    &'static str,
    &'static str,
    &'static [VictimCharacteristic],
    Option<u32>,
);

fn actors(b: &mut Builder) {
    use ActorKind::*;
    use VictimCharacteristic as Vc;
    let list: &[ActorRow] = &[
        (
            "actr_kong_raya",
            Person,
            "Kong Raya",
            "Student",
            &[Vc::Student, Vc::Ordinary],
            None,
        ),
        (
            "actr_kheang_navy",
            Person,
            "Kheang Navy",
            "School principal",
            &[Vc::Teacher],
            None,
        ),
        (
            "actr_ban_samphy",
            Person,
            "Ban Samphy",
            "Barber",
            &[Vc::Ordinary],
            None,
        ),
        (
            "actr_sovann_rithy",
            Person,
            "Sovann Rithy",
            "Director of the online outlet TVFB",
            &[Vc::Journalist],
            None,
        ),
        ("actr_tvfb", Outlet, "TVFB", "Online news outlet", &[], None),
        (
            "actr_rong_chhun",
            Person,
            "Rong Chhun",
            "Union leader",
            &[Vc::UnionLeader, Vc::HumanRightsDefender],
            None,
        ),
        (
            "actr_ny_nak",
            Person,
            "Ny Nak",
            "Online vendor",
            &[Vc::Vendor, Vc::Ordinary],
            None,
        ),
        (
            "actr_minor_2021",
            Person,
            "A 16-year-old, son of an opposition party official",
            "Minor; not named in Canary's public views",
            &[Vc::Minor, Vc::Student],
            None,
        ),
        (
            "actr_voa_khmer",
            Outlet,
            "VOA Khmer",
            "Khmer service of Voice of America",
            &[],
            None,
        ),
        (
            "actr_rfa",
            Outlet,
            "Radio Free Asia (RFA)",
            "Including its Khmer service",
            &[],
            None,
        ),
        (
            "actr_vod",
            Outlet,
            "Voice of Democracy (VOD)",
            "Independent outlet run by the Cambodian Center for Independent Media (CCIM)",
            &[],
            None,
        ),
        (
            "actr_phnom_penh_post",
            Outlet,
            "Phnom Penh Post",
            "Newspaper",
            &[],
            None,
        ),
        (
            "actr_monorom",
            Outlet,
            "Monorom.info",
            "News website",
            &[],
            None,
        ),
        (
            "actr_cambodia_daily",
            Outlet,
            "Cambodia Daily",
            "News outlet",
            &[],
            None,
        ),
        (
            "actr_kamnotra",
            Outlet,
            "Kamnotra",
            "Public-information website run by CCIM",
            &[],
            None,
        ),
        (
            "actr_government",
            StateBody,
            "Royal Government of Cambodia",
            "Authority not further specified in the sources",
            &[],
            None,
        ),
        (
            "actr_prime_minister",
            StateBody,
            "Prime Minister of Cambodia",
            "Office holder at the time of the act",
            &[],
            None,
        ),
        (
            "actr_moinf",
            StateBody,
            "Ministry of Information",
            "",
            &[],
            None,
        ),
        (
            "actr_trc",
            StateBody,
            "Telecommunication Regulator of Cambodia (TRC)",
            "",
            &[],
            None,
        ),
        (
            "actr_isps_kh",
            Group,
            "Internet service providers in Cambodia",
            "ISPs collectively; individual ISPs not named in the sources",
            &[],
            None,
        ),
        (
            "actr_metfone",
            Company,
            "Metfone (Viettel Cambodia)",
            "Mobile operator and ISP",
            &[],
            Some(38623),
        ),
        (
            "actr_cellcard",
            Company,
            "Cellcard (CamGSM)",
            "Mobile operator and ISP",
            &[],
            Some(17976),
        ),
    ];
    for (id, kind, name, desc, chars, asn) in list {
        b.actor(id, *kind, name, desc, chars, *asn);
    }
    if let Some(minor) =
        b.ds.actors
            .iter_mut()
            .find(|a| a.meta.id == "actr_minor_2021")
    {
        minor.identity = Some(SensitiveField::clear("Kak Sovannchhay"));
    }
}

fn incidents(b: &mut Builder) {
    use ActType as At;
    use Degree::*;
    use InvocationRole as Ir;
    use PerpetratorType as Pt;
    use Right::*;

    // 2015-2016: Kong Raya
    b.incident(
        "inc_2015_kong_raya",
        "Student jailed over a Facebook post calling for a 'colour revolution'",
        "A university student was arrested over a Facebook post urging a 'colour revolution' and, in March 2016, sentenced to 18 months in prison for incitement under the Criminal Code.",
        "2015",
        Some("2016-03"),
        &[Iccpr19],
        &["facebook", "incitement"],
        Some("year of arrest inferred from reporting of the 2016 sentence; the Criminal Code article of the incitement charge is not given in the sources"),
    );
    b.act(
        "act_2015_kong_raya_arrest",
        "inc_2015_kong_raya",
        At::Arrest,
        Some("actr_kong_raya"),
        Some("2015"),
        Some("Facebook post calling for a 'colour revolution'"),
        "Arrest over the post.",
        None,
    );
    b.act(
        "act_2016_kong_raya_conviction",
        "inc_2015_kong_raya",
        At::Conviction,
        Some("actr_kong_raya"),
        Some("2016-03"),
        Some("incitement (Criminal Code; article not given in the sources)"),
        "Sentenced to 18 months in prison.",
        Some(court_case(
            CaseStage::Trial,
            Some(Verdict::Convicted),
            Some("18 months' imprisonment"),
        )),
    );
    b.cite("src_khmertimes_fb_arrest", "inc_2015_kong_raya", "arrest");
    b.cite("src_fotn_2016_kh", "inc_2015_kong_raya", "sentence");

    // 2018: lese-majeste arrests
    b.incident(
        "inc_2018_kheang_navy",
        "School principal arrested for lese-majeste over a Facebook comment",
        "The first arrest under the new lese-majeste article: a school principal was detained over a Facebook comment that blamed the King for the dissolution of the main opposition party.",
        "2018-05-12",
        None,
        &[Iccpr19],
        &["facebook", "lese-majeste"],
        None,
    );
    b.act(
        "act_2018_kheang_navy_arrest",
        "inc_2018_kheang_navy",
        At::Arrest,
        Some("actr_kheang_navy"),
        Some("2018-05-12"),
        Some("Facebook comment deemed insulting to the King"),
        "Arrested; charged with insulting the King.",
        None,
    );
    b.invoke(
        "act_2018_kheang_navy_arrest",
        "prov_kh_pc_437bis",
        Ir::ChargedUnder,
        Some("2018-05"),
        None,
    );
    b.cite("src_ppp_lese_majeste_2018", "inc_2018_kheang_navy", "");

    b.incident(
        "inc_2018_ban_samphy",
        "Barber arrested for sharing a post deemed insulting to the King",
        "A barber was arrested for sharing on Facebook a post considered insulting to the King, and charged under the lese-majeste article.",
        "2018-05-19",
        None,
        &[Iccpr19],
        &["facebook", "lese-majeste"],
        None,
    );
    b.act(
        "act_2018_ban_samphy_arrest",
        "inc_2018_ban_samphy",
        At::Arrest,
        Some("actr_ban_samphy"),
        Some("2018-05-19"),
        Some("shared a Facebook post deemed insulting to the King"),
        "Arrested and charged with insulting the King.",
        None,
    );
    b.invoke(
        "act_2018_ban_samphy_arrest",
        "prov_kh_pc_437bis",
        Ir::ChargedUnder,
        Some("2018-05"),
        None,
    );
    b.cite("src_ppp_second_lese_majeste", "inc_2018_ban_samphy", "");

    // 2018 election blocking
    b.incident(
        "inc_2018_election_blocking",
        "Independent news sites blocked around the July 2018 election",
        "On the government's order, ISPs blocked independent and foreign news sites, among them VOA Khmer, RFA Khmer, Voice of Democracy, the Phnom Penh Post and Monorom.info, around the July 2018 general election.",
        "2018-07-27",
        Some("2018-07-28"),
        &[Iccpr19, Const41],
        &["blocking", "election"],
        Some("number of blocked sites reported as 15 to 17"),
    );
    for (n, victim) in [
        "actr_voa_khmer",
        "actr_rfa",
        "actr_vod",
        "actr_phnom_penh_post",
        "actr_monorom",
    ]
    .iter()
    .enumerate()
    {
        let id = format!("act_2018_election_blocking_{}", n + 1);
        b.act(
            &id,
            "inc_2018_election_blocking",
            At::WebsiteBlocking,
            Some(victim),
            Some("2018-07-27"),
            None,
            "Website blocked by ISPs on a government order.",
            Some(ActExtension::BlockingOrder(BlockingOrder {
                issuer: "Government of Cambodia (issuing authority not named in the sources)"
                    .to_owned(),
                reference: None,
                date: None,
                targets: Vec::new(),
                isps: Vec::new(),
                measurement_ids: Vec::new(),
                event_ids: Vec::new(),
            })),
        );
        b.involve(&id, "actr_government", Ordered, Pt::Government);
        b.involve(&id, "actr_isps_kh", Executed, Pt::Isp);
    }
    b.cite("src_ooni_2022_kh", "inc_2018_election_blocking", "");

    // 2020: Sovann Rithy / TVFB
    b.incident(
        "inc_2020_sovann_rithy",
        "Online outlet director jailed and outlet licence revoked for quoting the Prime Minister",
        "The director of the online outlet TVFB was arrested after quoting the Prime Minister in a Facebook post; the Ministry of Information revoked TVFB's licence. He was later sentenced to 18 months for incitement, part of it suspended.",
        "2020-04",
        Some("2020-10"),
        &[Iccpr19, Const41],
        &["facebook", "incitement", "journalist", "licence"],
        None,
    );
    b.act(
        "act_2020_rithy_arrest",
        "inc_2020_sovann_rithy",
        At::Arrest,
        Some("actr_sovann_rithy"),
        Some("2020-04"),
        Some("incitement"),
        "Arrested over a Facebook post quoting the Prime Minister.",
        None,
    );
    b.invoke(
        "act_2020_rithy_arrest",
        "prov_kh_pc_494_495",
        Ir::ChargedUnder,
        Some("2020-04"),
        None,
    );
    b.act(
        "act_2020_tvfb_licence",
        "inc_2020_sovann_rithy",
        At::OutletClosure,
        Some("actr_tvfb"),
        Some("2020-04"),
        None,
        "Ministry of Information revoked the outlet's media licence.",
        None,
    );
    b.involve("act_2020_tvfb_licence", "actr_moinf", Ordered, Pt::Ministry);
    b.act(
        "act_2020_rithy_conviction",
        "inc_2020_sovann_rithy",
        At::Conviction,
        Some("actr_sovann_rithy"),
        Some("2020-10"),
        Some("incitement"),
        "Sentenced to 18 months in prison, partly suspended.",
        Some(court_case(
            CaseStage::Trial,
            Some(Verdict::Convicted),
            Some("18 months' imprisonment, partly suspended"),
        )),
    );
    b.invoke(
        "act_2020_rithy_conviction",
        "prov_kh_pc_494_495",
        Ir::ConvictedUnder,
        Some("2020-10"),
        None,
    );
    b.cite("src_cambojanews_rithy", "inc_2020_sovann_rithy", "");
    b.cite(
        "src_hrw_2020_04_10",
        "inc_2020_sovann_rithy",
        "arrest and charge",
    );

    // 2020-2021: Rong Chhun
    b.incident(
        "inc_2020_rong_chhun",
        "Union leader imprisoned over comments on the border",
        "A union leader was arrested after commenting on the border with Vietnam on RFA and on social media; in August 2021 he was sentenced to 2 years in prison for incitement.",
        "2020-07-31",
        Some("2021-08"),
        &[Iccpr19, Iccpr22],
        &["incitement", "union", "border"],
        None,
    );
    b.act(
        "act_2020_rong_chhun_arrest",
        "inc_2020_rong_chhun",
        At::Arrest,
        Some("actr_rong_chhun"),
        Some("2020-07-31"),
        Some("incitement over comments on the border"),
        "Arrested over his comments.",
        None,
    );
    b.invoke(
        "act_2020_rong_chhun_arrest",
        "prov_kh_pc_494_495",
        Ir::ChargedUnder,
        Some("2020-08"),
        Some("reported as article 495"),
    );
    b.act(
        "act_2021_rong_chhun_conviction",
        "inc_2020_rong_chhun",
        At::Conviction,
        Some("actr_rong_chhun"),
        Some("2021-08"),
        Some("incitement"),
        "Sentenced to 2 years in prison.",
        Some(court_case(
            CaseStage::Trial,
            Some(Verdict::Convicted),
            Some("2 years' imprisonment"),
        )),
    );
    b.invoke(
        "act_2021_rong_chhun_conviction",
        "prov_kh_pc_494_495",
        Ir::ConvictedUnder,
        Some("2021-08"),
        Some("reported as article 495"),
    );
    b.cite(
        "src_cambojanews_rong_chhun",
        "inc_2020_rong_chhun",
        "arrest and charge",
    );
    b.cite(
        "src_bhrrc_rong_chhun_2021",
        "inc_2020_rong_chhun",
        "sentence",
    );

    // 2020: Ny Nak
    b.incident(
        "inc_2020_ny_nak",
        "Online vendor detained over a Facebook joke about a state of emergency",
        "An online vendor was charged with public insult, incitement and incitement to discrimination over a joking Facebook post about a state of emergency, and held in pre-trial detention.",
        "2020-12",
        None,
        &[Iccpr19],
        &["facebook", "incitement", "insult"],
        Some("year inferred from the context of the report"),
    );
    b.act(
        "act_2020_ny_nak_charge",
        "inc_2020_ny_nak",
        At::Charge,
        Some("actr_ny_nak"),
        Some("2020-12"),
        Some("joking Facebook post about a state of emergency"),
        "Charged by the capital's court.",
        None,
    );
    b.invoke(
        "act_2020_ny_nak_charge",
        "prov_kh_pc_307",
        Ir::ChargedUnder,
        Some("2020-12"),
        None,
    );
    b.invoke(
        "act_2020_ny_nak_charge",
        "prov_kh_pc_494_495",
        Ir::ChargedUnder,
        Some("2020-12"),
        Some("reported as article 494"),
    );
    b.invoke(
        "act_2020_ny_nak_charge",
        "prov_kh_pc_496",
        Ir::ChargedUnder,
        Some("2020-12"),
        None,
    );
    b.act(
        "act_2020_ny_nak_detention",
        "inc_2020_ny_nak",
        At::PretrialDetention,
        Some("actr_ny_nak"),
        Some("2020-12"),
        None,
        "Held in pre-trial detention.",
        None,
    );
    b.cite("src_ppp_mocking_pm", "inc_2020_ny_nak", "");

    // 2021: a minor
    b.incident(
        "inc_2021_minor_telegram",
        "16-year-old son of an opposition official jailed over private messages",
        "A 16-year-old was arrested over messages in a private Telegram group and shares on Facebook, and in November 2021 sentenced to 8 months in prison, part of it suspended, for incitement and insulting public officials.",
        "2021-06",
        Some("2021-11"),
        &[Iccpr17, Iccpr19],
        &["telegram", "facebook", "minor", "incitement"],
        None,
    );
    b.act(
        "act_2021_minor_arrest",
        "inc_2021_minor_telegram",
        At::Arrest,
        Some("actr_minor_2021"),
        Some("2021-06"),
        Some("messages in a private Telegram group and Facebook shares"),
        "Arrested.",
        None,
    );
    b.act(
        "act_2021_minor_conviction",
        "inc_2021_minor_telegram",
        At::Conviction,
        Some("actr_minor_2021"),
        Some("2021-11"),
        Some("incitement and insulting public officials (articles not given in the sources)"),
        "Sentenced to 8 months in prison, part suspended.",
        Some(court_case(
            CaseStage::Trial,
            Some(Verdict::Convicted),
            Some("8 months' imprisonment, partly suspended"),
        )),
    );
    b.cite("src_cambojanews_kak_2021", "inc_2021_minor_telegram", "");

    // 2021: National Internet Gateway
    b.incident(
        "inc_2021_nig_subdecree",
        "National Internet Gateway sub-decree signed",
        "The government adopted a sub-decree routing all internet traffic through a national gateway whose operator must block connections on broad grounds and keep traffic records; ISPs had 12 months to connect. Implementation was postponed in February 2022.",
        "2021-02-16",
        None,
        &[Iccpr17, Iccpr19],
        &["national_internet_gateway", "surveillance"],
        None,
    );
    b.act("act_2021_nig_adoption", "inc_2021_nig_subdecree", At::InterceptionSurveillance, Some("actr_isps_kh"), Some("2021-02-16"), None, "Sub-decree obliging every ISP to route traffic through the gateway, which may block connections and must keep traffic records.", None);
    b.involve(
        "act_2021_nig_adoption",
        "actr_government",
        Ordered,
        Pt::Government,
    );
    for p in ["prov_kh_nig_6", "prov_kh_nig_12", "prov_kh_nig_14"] {
        b.invoke(
            "act_2021_nig_adoption",
            p,
            Ir::CitedInOrder,
            Some("2021-02-16"),
            Some("provision of the sub-decree itself"),
        );
    }
    b.cite("src_ppp_nig_2021", "inc_2021_nig_subdecree", "");
    b.cite(
        "src_cso_nig_2021",
        "inc_2021_nig_subdecree",
        "civil-society reaction",
    );
    b.cite(
        "src_nikkei_nig_postponed",
        "inc_2021_nig_subdecree",
        "postponement",
    );

    // 2022: DNS blocking seen in measurements
    b.incident(
        "inc_2022_dns_blocking",
        "DNS-based blocking measured on two mobile networks",
        "OONI and iMAP measurements from January to June 2022 found 43 of 1,730 tested sites blocked on Metfone/Viettel (AS38623) and Cellcard/CamGSM (AS17976), with DNS answers pointing to 36.37.242.94 or 10.10.10.1.",
        "2022-01",
        Some("2022-06"),
        &[Iccpr19],
        &["blocking", "dns", "measurement"],
        None,
    );
    for (id, isp) in [
        ("act_2022_dns_blocking_metfone", "actr_metfone"),
        ("act_2022_dns_blocking_cellcard", "actr_cellcard"),
    ] {
        b.act(
            id,
            "inc_2022_dns_blocking",
            At::WebsiteBlocking,
            None,
            Some("2022-01"),
            None,
            "DNS answers for blocked sites redirected to 36.37.242.94 or 10.10.10.1.",
            None,
        );
        b.involve(id, isp, Executed, Pt::Isp);
    }
    b.cite("src_ooni_2022_kh", "inc_2022_dns_blocking", "measurements");

    // 2023: Voice of Democracy
    b.incident(
        "inc_2023_vod_closure",
        "Voice of Democracy's licence revoked",
        "The Prime Minister ordered the revocation of the media licence of Voice of Democracy over a news report he objected to; the outlet closed.",
        "2023-02-12",
        Some("2023-02-13"),
        &[Iccpr19, Const41],
        &["licence", "outlet_closure", "journalism"],
        None,
    );
    b.act(
        "act_2023_vod_licence",
        "inc_2023_vod_closure",
        At::OutletClosure,
        Some("actr_vod"),
        Some("2023-02-12"),
        Some("a news report the Prime Minister objected to"),
        "Licence revoked; the outlet stopped publishing.",
        None,
    );
    b.involve(
        "act_2023_vod_licence",
        "actr_prime_minister",
        Ordered,
        Pt::Government,
    );
    b.involve("act_2023_vod_licence", "actr_moinf", Executed, Pt::Ministry);
    b.cite("src_ap_vod_2023", "inc_2023_vod_closure", "");

    // 2023: TRC blocking order
    b.incident(
        "inc_2023_trc_blocking",
        "Regulator orders ISPs to block the Cambodia Daily, RFA and Kamnotra",
        "At the Ministry of Information's request, the telecom regulator (TRC) ordered ISPs on 12 July 2023 to block nine domains and accounts of the Cambodia Daily, Radio Free Asia and Kamnotra; blocking was measured from 17 July 2023.",
        "2023-07-12",
        None,
        &[Iccpr19, Const41],
        &["blocking", "election", "measurement"],
        None,
    );
    for (n, victim) in ["actr_cambodia_daily", "actr_rfa", "actr_kamnotra"]
        .iter()
        .enumerate()
    {
        let id = format!("act_2023_trc_blocking_{}", n + 1);
        b.act(&id, "inc_2023_trc_blocking", At::WebsiteBlocking, Some(victim), Some("2023-07-17"), Some("accused of sowing confusion and harming the government's honour"), "Domains and accounts ordered blocked; blocking seen in measurements from 17 July 2023.", Some(ActExtension::BlockingOrder(BlockingOrder {
            issuer: "Telecommunication Regulator of Cambodia (TRC)".to_owned(),
            reference: None,
            date: Some(d("2023-07-12")),
            targets: Vec::new(),
            isps: Vec::new(),
            measurement_ids: Vec::new(),
            event_ids: Vec::new(),
        })));
        b.involve(&id, "actr_trc", Ordered, Pt::Regulator);
        b.involve(&id, "actr_moinf", Requested, Pt::Ministry);
        b.involve(&id, "actr_isps_kh", Executed, Pt::Isp);
    }
    b.cite(
        "src_ooni_finding_2023_kh",
        "inc_2023_trc_blocking",
        "measurements",
    );
    b.cite("src_rsf_2023_blocking", "inc_2023_trc_blocking", "");
    b.cite(
        "src_voa_trc_letter_2023",
        "inc_2023_trc_blocking",
        "the order",
    );
}
