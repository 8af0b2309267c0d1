//! Controlled vocabularies, each with a stable snake_case code (its serde
//! and CSV form) and English and Khmer display labels.
//!
//! Khmer labels were written for this project by a non-native writer and
//! should be reviewed by the coalition's Khmer-speaking members; terms we are
//! least sure of say so in their doc comment ("Khmer to review").

use crate::error::Error;

/// Declares a vocabulary enum: serde code, English and Khmer labels,
/// `ALL`, `as_str`, `Display`, `FromStr`.
macro_rules! vocabulary {
    (
        $(#[$m:meta])*
        $name:ident {
            $( $(#[$vm:meta])* $variant:ident = $code:literal, $en:literal, $km:literal; )+
        }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $(
                #[doc = $en]
                $(#[$vm])*
                #[serde(rename = $code)]
                $variant,
            )+
        }

        impl $name {
            /// Every term, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code (serde and CSV form).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// English display label.
            pub fn label_en(self) -> &'static str {
                match self { $($name::$variant => $en),+ }
            }

            /// Khmer display label.
            pub fn label_km(self) -> &'static str {
                match self { $($name::$variant => $km),+ }
            }

            /// Display label in a language ("km" for Khmer, anything else English).
            pub fn label(self, lang: &str) -> &'static str {
                if lang == "km" { self.label_km() } else { self.label_en() }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                match s {
                    $($code => Ok($name::$variant),)+
                    other => Err(Error::invalid(
                        stringify!($name),
                        format!("unknown term {other:?}"),
                    )),
                }
            }
        }
    };
}

vocabulary! {
    /// Who may see a record besides its owning organisation.
    Visibility {
        Private = "private", "Private to the organisation", "ឯកជន (សម្រាប់តែអង្គការ)";
        Coalition = "coalition", "Shared with the coalition", "ចែករំលែកក្នុងសម្ព័ន្ធ";
        Published = "published", "Public", "សាធារណៈ";
    }
}

vocabulary! {
    /// Editorial workflow state of a record.
    Status {
        Draft = "draft", "Draft", "សេចក្តីព្រាង";
        InReview = "in_review", "In review", "កំពុងពិនិត្យ";
        Verified = "verified", "Verified", "បានផ្ទៀងផ្ទាត់";
        Published = "published", "Published", "បានផ្សព្វផ្សាយ";
    }
}

vocabulary! {
    /// A user's role inside their organisation.
    Role {
        Viewer = "viewer", "Viewer", "អ្នកមើល";
        Analyst = "analyst", "Analyst", "អ្នកវិភាគ";
        Admin = "admin", "Administrator", "អ្នកគ្រប់គ្រង";
    }
}

vocabulary! {
    /// How precise a date is.
    DatePrecision {
        Exact = "exact", "Exact day", "ថ្ងៃច្បាស់លាស់";
        Month = "month", "Month", "ខែ";
        Year = "year", "Year", "ឆ្នាំ";
        Estimate = "estimate", "Estimated day", "ថ្ងៃប៉ាន់ស្មាន";
    }
}

vocabulary! {
    /// The finest level of a place that may be shown publicly.
    PlacePrecision {
        Country = "country", "Country", "ប្រទេស";
        Province = "province", "Province or capital", "ខេត្ត ឬរាជធានី";
        District = "district", "District", "ស្រុក ឬខណ្ឌ";
        Commune = "commune", "Commune", "ឃុំ ឬសង្កាត់";
        Exact = "exact", "Exact location", "ទីតាំងច្បាស់លាស់";
    }
}

vocabulary! {
    /// Rights affected or restricted (ICCPR and Constitution of Cambodia articles).
    Right {
        Iccpr17 = "iccpr_17", "ICCPR art. 17 (privacy)", "កតិកាសញ្ញា ICCPR មាត្រា ១៧ (ឯកជនភាព)";
        Iccpr19 = "iccpr_19", "ICCPR art. 19 (expression)", "កតិកាសញ្ញា ICCPR មាត្រា ១៩ (សេរីភាពបញ្ចេញមតិ)";
        Iccpr21 = "iccpr_21", "ICCPR art. 21 (assembly)", "កតិកាសញ្ញា ICCPR មាត្រា ២១ (សេរីភាពជួបប្រជុំ)";
        Iccpr22 = "iccpr_22", "ICCPR art. 22 (association)", "កតិកាសញ្ញា ICCPR មាត្រា ២២ (សេរីភាពសមាគម)";
        Const40 = "constitution_40", "Constitution art. 40 (privacy of correspondence)", "រដ្ឋធម្មនុញ្ញ មាត្រា ៤០ (អាថ៌កំបាំងនៃការឆ្លើយឆ្លង)";
        Const41 = "constitution_41", "Constitution art. 41 (expression, press)", "រដ្ឋធម្មនុញ្ញ មាត្រា ៤១ (សេរីភាពបញ្ចេញមតិ និងសារព័ត៌មាន)";
    }
}

vocabulary! {
    /// Type of an act: one thing done to one victim.
    ActType {
        Arrest = "arrest", "Arrest", "ការចាប់ខ្លួន";
        Summons = "summons", "Summons", "ការកោះហៅ";
        Charge = "charge", "Charge", "ការចោទប្រកាន់";
        PretrialDetention = "pretrial_detention", "Pre-trial detention", "ការឃុំខ្លួនបណ្តោះអាសន្ន";
        Conviction = "conviction", "Conviction", "ការផ្តន្ទាទោស";
        Fine = "fine", "Fine", "ការពិន័យជាប្រាក់";
        ThreatHarassment = "threat_harassment", "Threat or harassment", "ការគំរាមកំហែង ឬការយាយី";
        PhysicalAttack = "physical_attack", "Physical attack", "ការវាយប្រហារលើរាងកាយ";
        AccountSuspension = "account_suspension", "Account suspension", "ការផ្អាកគណនី";
        ContentTakedown = "content_takedown", "Content takedown", "ការលុបខ្លឹមសារ";
        /// Khmer to review: "បិទ" (close) is the common word for blocking in press usage.
        WebsiteBlocking = "website_blocking", "Website or domain blocking", "ការបិទគេហទំព័រ ឬដែន";
        OutletClosure = "outlet_closure", "Outlet closure or licence revocation", "ការបិទប្រព័ន្ធផ្សព្វផ្សាយ ឬការដកហូតអាជ្ញាប័ណ្ណ";
        DataDemand = "data_demand", "Data demand", "ការទាមទារទិន្នន័យ";
        InterceptionSurveillance = "interception_surveillance", "Interception or surveillance", "ការស្ទាក់ចាប់ ឬការឃ្លាំមើល";
        /// Khmer to review ("throttling" rendered as slowing the speed).
        InternetShutdown = "internet_shutdown", "Internet shutdown or throttling", "ការផ្តាច់ ឬការបន្ថយល្បឿនអ៊ីនធឺណិត";
    }
}

vocabulary! {
    /// How incidents relate (ESF "chain of events").
    IncidentLinkKind {
        FollowUp = "follow_up", "Follow-up", "ការតាមដានបន្ត";
        Retaliation = "retaliation", "Retaliation", "ការសងសឹក";
        SameCampaign = "same_campaign", "Same campaign", "យុទ្ធនាការតែមួយ";
    }
}

vocabulary! {
    /// Degree of an actor's involvement in an act.
    Degree {
        Ordered = "ordered", "Ordered", "បានបញ្ជា";
        /// Extension of the brief's list: a body that asked another to act
        /// (e.g. a ministry requesting a regulator's blocking order).
        Requested = "requested", "Requested", "បានស្នើសុំ";
        Executed = "executed", "Executed", "បានអនុវត្ត";
        Complicit = "complicit", "Complicit", "សមគំនិត";
    }
}

vocabulary! {
    /// Kind of perpetrator in an involvement.
    PerpetratorType {
        Court = "court", "Court", "តុលាការ";
        Prosecutor = "prosecutor", "Prosecutor", "ព្រះរាជអាជ្ញា";
        Police = "police", "Police", "នគរបាល";
        Government = "government", "Head of government or cabinet", "រាជរដ្ឋាភិបាល";
        Ministry = "ministry", "Ministry", "ក្រសួង";
        /// Khmer to review.
        Regulator = "regulator", "Regulator", "និយ័តករ";
        Isp = "isp", "Internet service provider", "ក្រុមហ៊ុនផ្តល់សេវាអ៊ីនធឺណិត";
        Platform = "platform", "Online platform", "វេទិកាអនឡាញ";
        Unknown = "unknown", "Unknown", "មិនស្គាល់";
    }
}

vocabulary! {
    /// What kind of actor.
    ActorKind {
        Person = "person", "Person", "បុគ្គល";
        Group = "group", "Group of people", "ក្រុមមនុស្ស";
        Organisation = "organisation", "Organisation", "អង្គការ";
        Outlet = "outlet", "Media outlet", "ស្ថាប័នសារព័ត៌មាន";
        StateBody = "state_body", "State body", "ស្ថាប័នរដ្ឋ";
        Company = "company", "Company", "ក្រុមហ៊ុន";
    }
}

vocabulary! {
    /// Characteristics of a victim at the time of the act.
    VictimCharacteristic {
        Journalist = "journalist", "Journalist", "អ្នកសារព័ត៌មាន";
        HumanRightsDefender = "human_rights_defender", "Human rights defender", "អ្នកការពារសិទ្ធិមនុស្ស";
        Opposition = "opposition", "Political opposition", "បក្សប្រឆាំង";
        UnionLeader = "union_leader", "Union leader", "មេដឹកនាំសហជីព";
        Student = "student", "Student", "សិស្ស និស្សិត";
        Teacher = "teacher", "Teacher", "គ្រូបង្រៀន";
        Minor = "minor", "Minor (under 18)", "អនីតិជន";
        Vendor = "vendor", "Vendor or trader", "អ្នកលក់ដូរ";
        Ordinary = "ordinary_user", "Ordinary social media user", "អ្នកប្រើប្រាស់បណ្តាញសង្គមធម្មតា";
    }
}

vocabulary! {
    /// Stage of a court case.
    CaseStage {
        Investigation = "investigation", "Investigation", "ការស៊ើបអង្កេត";
        Trial = "trial", "Trial", "ការជំនុំជម្រះ";
        Appeal = "appeal", "Appeal", "ការប្តឹងឧទ្ធរណ៍";
        /// Khmer to review (Supreme Court appeal, "ប្តឹងសាទុក្ខ").
        Cassation = "cassation", "Supreme Court", "ការប្តឹងសាទុក្ខ";
        Closed = "closed", "Closed", "បានបិទសំណុំរឿង";
    }
}

vocabulary! {
    /// Outcome of a court case.
    Verdict {
        Convicted = "convicted", "Convicted", "ត្រូវបានផ្តន្ទាទោស";
        Acquitted = "acquitted", "Acquitted", "រួចទោស";
        Dismissed = "dismissed", "Charges dropped or dismissed", "ទម្លាក់ការចោទប្រកាន់";
        Pending = "pending", "Pending", "មិនទាន់សម្រេច";
    }
}

vocabulary! {
    /// Status of a law or provision.
    LegalStatus {
        Draft = "draft", "Draft", "សេចក្តីព្រាង";
        Adopted = "adopted", "Adopted, not in operation", "បានអនុម័ត តែមិនទាន់អនុវត្ត";
        InForce = "in_force", "In force", "ជាធរមាន";
        Amended = "amended", "Amended", "បានធ្វើវិសោធនកម្ម";
        Repealed = "repealed", "Repealed", "បានលុបចោល";
    }
}

vocabulary! {
    /// Type of legal instrument.
    InstrumentType {
        Constitution = "constitution", "Constitution", "រដ្ឋធម្មនុញ្ញ";
        Law = "law", "Law", "ច្បាប់";
        Code = "code", "Code", "ក្រម";
        SubDecree = "sub_decree", "Sub-decree", "អនុក្រឹត្យ";
        Prakas = "prakas", "Prakas (ministerial regulation)", "ប្រកាស";
        DraftLaw = "draft_law", "Draft law", "សេចក្តីព្រាងច្បាប់";
    }
}

vocabulary! {
    /// Role a provision plays in an act.
    InvocationRole {
        ChargedUnder = "charged_under", "Charged under", "ចោទប្រកាន់តាម";
        CitedInOrder = "cited_in_order", "Cited in an order", "យោងក្នុងបទបញ្ជា";
        ConvictedUnder = "convicted_under", "Convicted under", "ផ្តន្ទាទោសតាម";
        /// Khmer to review.
        Reclassified = "reclassified", "Charge reclassified to", "ប្តូរបទចោទទៅជា";
        Justification = "justification", "Cited as justification", "លើកឡើងជាហេតុផល";
    }
}

vocabulary! {
    /// How a source is connected to the information.
    SourceConnection {
        Media = "media", "News media", "ប្រព័ន្ធផ្សព្វផ្សាយ";
        NgoReport = "ngo_report", "NGO report", "របាយការណ៍អង្គការ";
        OfficialDocument = "official_document", "Official document", "ឯកសារផ្លូវការ";
        UnDocument = "un_document", "UN document", "ឯកសារអង្គការសហប្រជាជាតិ";
        Measurement = "measurement", "Network measurement", "ទិន្នន័យវាស់វែងបណ្តាញ";
        Witness = "witness", "Witness", "សាក្សី";
        Victim = "victim", "Victim", "ជនរងគ្រោះ";
    }
}

vocabulary! {
    /// How far a source can be relied on.
    Reliability {
        High = "high", "High", "ខ្ពស់";
        Medium = "medium", "Medium", "មធ្យម";
        Low = "low", "Low", "ទាប";
        Unknown = "unknown", "Unknown", "មិនដឹង";
    }
}

vocabulary! {
    /// UN mechanism issuing a recommendation.
    Mechanism {
        Upr = "upr", "Universal Periodic Review", "ការត្រួតពិនិត្យតាមកាលកំណត់ជាសកល (UPR)";
        SpecialRapporteur = "special_rapporteur", "Special Rapporteur", "អ្នករាយការណ៍ពិសេស";
        TreatyBody = "treaty_body", "Treaty body", "គណៈកម្មាធិការសន្ធិសញ្ញា";
    }
}

vocabulary! {
    /// The State's response to a recommendation.
    RecResponse {
        Supported = "supported", "Supported", "គាំទ្រ";
        Noted = "noted", "Noted", "កត់សម្គាល់";
    }
}

vocabulary! {
    /// Implementation status in an assessment.
    Implementation {
        NotImplemented = "not_implemented", "Not implemented", "មិនទាន់អនុវត្ត";
        Partly = "partly_implemented", "Partly implemented", "អនុវត្តបានមួយផ្នែក";
        Fully = "fully_implemented", "Fully implemented", "អនុវត្តពេញលេញ";
    }
}

vocabulary! {
    /// An action on an evidence item, recorded in its custody chain.
    CustodyAction {
        Acquired = "acquired", "Acquired", "បានទទួល";
        Viewed = "viewed", "Viewed", "បានមើល";
        Copied = "copied", "Working copy made", "បានចម្លង";
        Exported = "exported", "Exported", "បាននាំចេញ";
        Shared = "shared", "Shared", "បានចែករំលែក";
        Verified = "verified", "Hash verified", "បានផ្ទៀងផ្ទាត់";
        Annotated = "annotated", "Annotated", "បានកត់ចំណាំ";
    }
}

vocabulary! {
    /// An action recorded in the audit log.
    AuditAction {
        ReadSensitive = "read_sensitive", "Read a sensitive field", "អានព័ត៌មានរសើប";
        Export = "export", "Export", "នាំចេញ";
        Import = "import", "Import", "នាំចូល";
        Create = "create", "Create", "បង្កើត";
        Edit = "edit", "Edit", "កែប្រែ";
        Delete = "delete", "Delete", "លុប";
        StatusChange = "status_change", "Status change", "ប្តូរស្ថានភាព";
        VisibilityChange = "visibility_change", "Visibility change", "ប្តូរកម្រិតបង្ហាញ";
    }
}

vocabulary! {
    /// Entity types that carry [`crate::RecordMeta`] (used in ids, AAD and audit entries).
    EntityType {
        Incident = "incident", "Incident", "ឧប្បត្តិហេតុ";
        Actor = "actor", "Actor", "តួអង្គ";
        Source = "source", "Source", "ប្រភព";
        Law = "law", "Law", "ច្បាប់";
        Provision = "provision", "Provision", "មាត្រា";
        Evidence = "evidence", "Evidence item", "ភស្តុតាង";
        Recommendation = "recommendation", "Recommendation", "អនុសាសន៍";
        Benchmark = "benchmark", "Benchmark", "គោលដៅវាស់វែង";
    }
}

impl EntityType {
    /// The id prefix of this entity type (`inc_`, `actr_`…).
    pub fn id_prefix(self) -> &'static str {
        match self {
            EntityType::Incident => "inc_",
            EntityType::Actor => "actr_",
            EntityType::Source => "src_",
            EntityType::Law => "law_",
            EntityType::Provision => "prov_",
            EntityType::Evidence => "ev_",
            EntityType::Recommendation => "rec_",
            EntityType::Benchmark => "bm_",
        }
    }
}
