//! What the analyst asks for: country, period, language, template, edition.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, Time};

use crate::error::ReportError;

/// Default word limit of a UPR stakeholder submission by one organisation
/// (OHCHR guidelines: 2,815 words individual, 5,630 joint).
pub const UPR_WORD_LIMIT_INDIVIDUAL: u32 = 2815;
/// Word limit of a joint UPR stakeholder submission.
pub const UPR_WORD_LIMIT_JOINT: u32 = 5630;
/// Longest period one report covers, in days (a UPR cycle is under 5 years).
pub const MAX_RANGE_DAYS: i64 = 10 * 366;

/// Language of the report text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    En,
    /// Khmer.
    Km,
}

impl Lang {
    /// BCP 47 code (`en`, `km`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Km => "km",
        }
    }
}

impl std::str::FromStr for Lang {
    type Err = ReportError;
    fn from_str(s: &str) -> Result<Self, ReportError> {
        match s.to_ascii_lowercase().as_str() {
            "en" => Ok(Lang::En),
            "km" => Ok(Lang::Km),
            other => Err(ReportError::bad(
                "--lang",
                format!("{other:?} is not a report language (en or km)"),
            )),
        }
    }
}

/// Which document to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Template {
    /// The monitoring report: summary, website blocking, incidents,
    /// recommendations, methodology, data appendix.
    Country,
    /// A UPR stakeholder-submission draft in numbered paragraphs, with a
    /// word count against [`ReportOptions::word_limit`].
    Upr,
}

impl std::str::FromStr for Template {
    type Err = ReportError;
    fn from_str(s: &str) -> Result<Self, ReportError> {
        match s {
            "country" => Ok(Template::Country),
            "upr" => Ok(Template::Upr),
            other => Err(ReportError::bad(
                "--template",
                format!("{other:?} is not a template (country or upr)"),
            )),
        }
    }
}

/// Who the report is for, which decides which registry records enter it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Edition {
    /// Only records that are published (visibility *and* status), as an
    /// anonymous reader sees them.
    Public,
    /// Everything organisation `org_id` may read (its private and
    /// confidential records included, sensitive fields still redacted);
    /// every page carries an "organisation-internal" watermark.
    OrgInternal(String),
}

/// The options of one report. Two calls with equal options over equal
/// data give byte-identical output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportOptions {
    /// ISO 3166-1 alpha-2 country code (`KH`).
    pub country: String,
    /// First day covered (inclusive, UTC).
    pub from: Date,
    /// Last day covered (inclusive, UTC).
    pub to: Date,
    /// Language.
    pub lang: Lang,
    /// Country report or UPR submission.
    pub template: Template,
    /// Public or organisation-internal.
    pub edition: Edition,
    /// Word limit shown (and warned about) in the UPR template.
    pub word_limit: u32,
    /// Name of the submitting organisation(s), printed in the header.
    pub author: String,
    /// Date printed as the report's date (and the PDF's creation date).
    /// `None` prints none: the bytes then depend only on data and options.
    pub generated_on: Option<Date>,
    /// Base URL of the Canary web UI (`https://canary.example.org`): when
    /// set, every figure's query is also given as an API URL under it.
    pub api_base: Option<String>,
}

impl ReportOptions {
    /// Options for a public English country report with the UPR
    /// individual word limit, no date and no API base.
    pub fn new(country: &str, from: Date, to: Date) -> Self {
        ReportOptions {
            country: country.to_owned(),
            from,
            to,
            lang: Lang::En,
            template: Template::Country,
            edition: Edition::Public,
            word_limit: UPR_WORD_LIMIT_INDIVIDUAL,
            author: "Canary".to_owned(),
            generated_on: None,
            api_base: None,
        }
    }

    /// Checks the options: a known ISO 3166-1 country code (upper-cased
    /// here), `from <= to`, a period of at most [`MAX_RANGE_DAYS`], a
    /// non-zero word limit, bounded free text. Called by
    /// [`crate::gather`].
    pub fn validate(&mut self) -> Result<(), ReportError> {
        let cc = self.country.trim().to_ascii_uppercase();
        if cc.len() != 2 || !cc.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ReportError::bad(
                "--country",
                format!(
                    "{:?} is not a two-letter ISO 3166-1 country code (e.g. KH)",
                    truncate(&self.country, 40)
                ),
            ));
        }
        if !ISO_3166_ALPHA2.split(' ').any(|c| c == cc) {
            return Err(ReportError::bad(
                "--country",
                format!("{cc} is not an assigned ISO 3166-1 country code"),
            ));
        }
        self.country = cc;
        if self.from > self.to {
            return Err(ReportError::bad(
                "--from/--to",
                format!(
                    "the period is empty: --from {} is after --to {}",
                    self.from, self.to
                ),
            ));
        }
        let days = (self.to - self.from).whole_days() + 1;
        if days > MAX_RANGE_DAYS {
            return Err(ReportError::bad(
                "--from/--to",
                format!("the period is {days} days long; at most {MAX_RANGE_DAYS} are allowed"),
            ));
        }
        if self.word_limit == 0 {
            return Err(ReportError::bad("--word-limit", "must be at least 1"));
        }
        if self.author.len() > 500 {
            return Err(ReportError::bad("--author", "longer than 500 bytes"));
        }
        if let Some(base) = &self.api_base {
            if base.len() > 500 || !(base.starts_with("https://") || base.starts_with("http://")) {
                return Err(ReportError::bad(
                    "--api-base",
                    "must be an http(s) URL of at most 500 bytes",
                ));
            }
        }
        if let Edition::OrgInternal(org) = &self.edition {
            if org.is_empty() || org.len() > 80 {
                return Err(ReportError::bad(
                    "--edition",
                    "an organisation-internal edition needs an organisation id (org_…)",
                ));
            }
        }
        Ok(())
    }

    /// Start of the period as an instant (00:00 UTC of `from`).
    pub fn from_instant(&self) -> OffsetDateTime {
        self.from.with_time(Time::MIDNIGHT).assume_utc()
    }

    /// End of the period as an exclusive instant (00:00 UTC of the day after `to`).
    pub fn to_instant_exclusive(&self) -> OffsetDateTime {
        let next = self.to.next_day().unwrap_or(self.to);
        next.with_time(Time::MIDNIGHT).assume_utc()
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// The officially assigned ISO 3166-1 alpha-2 codes.
const ISO_3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI \
BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ \
DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU \
GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA \
LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA \
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB \
SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW \
TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// The country's name in the report language (the code when unknown).
pub fn country_name(cc: &str, lang: Lang) -> String {
    let known: &[(&str, &str, &str)] = &[
        ("KH", "Cambodia", "កម្ពុជា"),
        ("TH", "Thailand", "ថៃ"),
        ("VN", "Viet Nam", "វៀតណាម"),
        ("LA", "Lao PDR", "ឡាវ"),
        ("MM", "Myanmar", "មីយ៉ាន់ម៉ា"),
    ];
    known
        .iter()
        .find(|(c, _, _)| *c == cc)
        .map(|(_, en, km)| match lang {
            Lang::En => (*en).to_owned(),
            Lang::Km => (*km).to_owned(),
        })
        .unwrap_or_else(|| cc.to_owned())
}
