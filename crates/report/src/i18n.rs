//! The en/km catalog: every string a report prints that is not data.
//!
//! Khmer strings were written for this project by a non-native writer;
//! the coalition's Khmer speakers should review them (as for the
//! registry's vocabularies).

use crate::options::Lang;

macro_rules! catalog {
    ($( $(#[$m:meta])* $key:ident => $en:literal, $km:literal; )+) => {
        /// A catalog key.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum T { $($key),+ }

        impl T {
            /// Every key.
            pub const ALL: &'static [T] = &[$(T::$key),+];
        }

        /// The text of `key` in `lang`.
        pub fn t(lang: Lang, key: T) -> &'static str {
            match (lang, key) {
                $( (Lang::En, T::$key) => $en, (Lang::Km, T::$key) => $km, )+
            }
        }
    };
}

catalog! {
    Title => "Internet censorship and digital rights in {country}", "ការចាប់ពិនិត្យអ៊ីនធឺណិត និងសិទ្ធិឌីជីថលនៅ{country}";
    UprTitle => "Stakeholder submission to the Universal Periodic Review: {country}", "របាយការណ៍ភាគីពាក់ព័ន្ធ ជូនការត្រួតពិនិត្យតាមកាលកំណត់ជាសកល (UPR)៖ {country}";
    Period => "Period", "រយៈពេល";
    PreparedBy => "Prepared by", "រៀបចំដោយ";
    Date => "Date", "កាលបរិច្ឆេទ";
    ContentHash => "Content hash", "កូដផ្ទៀងផ្ទាត់ខ្លឹមសារ";
    Watermark => "ORGANISATION-INTERNAL — NOT FOR PUBLICATION", "ឯកសារផ្ទៃក្នុងអង្គការ — មិនសម្រាប់ផ្សព្វផ្សាយ";
    Summary => "Summary", "សេចក្តីសង្ខេប";
    Websites => "Website blocking", "ការបិទគេហទំព័រ";
    Incidents => "Incidents", "ឧប្បត្តិហេតុ";
    Recommendations => "Recommendations and benchmarks", "អនុសាសន៍ និងគោលដៅវាស់វែង";
    Methodology => "Methodology", "វិធីសាស្ត្រ";
    Appendix => "Data appendix", "ឧបសម្ព័ន្ធទិន្នន័យ";
    NoData => "No data for this period.", "គ្មានទិន្នន័យសម្រាប់រយៈពេលនេះទេ។";
    RegistryEmpty => "Nothing is documented yet: the registry this report was made from holds no incidents, laws or recommendations.", "មិនទាន់មានអ្វីត្រូវបានកត់ត្រានៅឡើយទេ៖ បញ្ជីឯកសារដែលរបាយការណ៍នេះប្រើ មិនមានឧប្បត្តិហេតុ ច្បាប់ ឬអនុសាសន៍ណាមួយទេ។";
    FigSitesTested => "Websites tested", "គេហទំព័រដែលបានធ្វើតេស្ត";
    FigSitesBlocked => "Websites blocked at the end of the period", "គេហទំព័រដែលត្រូវបានបិទ នៅចុងរយៈពេល";
    FigNetworksMeasured => "Networks (ISPs) measured", "បណ្តាញ (ISP) ដែលបានវាស់";
    FigNetworksBlocking => "ISPs blocking at least one website", "ISP ដែលបិទគេហទំព័រយ៉ាងហោចណាស់មួយ";
    FigMeasurements => "Measurements", "ការវាស់វែង";
    FigBlockedMeasurements => "Measurements showing blocking", "ការវាស់វែងដែលបង្ហាញការបិទ";
    FigEvents => "Blocking events detected", "ព្រឹត្តិការណ៍បិទដែលបានរកឃើញ";
    FigIncidents => "Incidents documented", "ឧប្បត្តិហេតុដែលបានកត់ត្រា";
    FigActs => "Acts (arrests, charges, orders…)", "សកម្មភាព (ការចាប់ខ្លួន ការចោទប្រកាន់ បទបញ្ជា…)";
    FigPeople => "People affected (named only where published)", "មនុស្សដែលរងផលប៉ះពាល់ (បញ្ចេញឈ្មោះតែករណីបានផ្សព្វផ្សាយ)";
    ByCategory => "Blocked websites by category", "គេហទំព័រដែលត្រូវបានបិទ តាមប្រភេទ";
    ByIsp => "Measurements and blocking per ISP", "ការវាស់វែង និងការបិទ តាម ISP";
    ByMethod => "How websites are blocked", "របៀបដែលគេហទំព័រត្រូវបានបិទ";
    ShareOverTime => "Share of measurements showing blocking, over time", "ភាគរយនៃការវាស់វែងដែលបង្ហាញការបិទ តាមពេលវេលា";
    SharePerIsp => "Share of measurements showing blocking, per ISP", "ភាគរយនៃការវាស់វែងដែលបង្ហាញការបិទ តាម ISP";
    BlockedList => "Websites blocked at the end of the period", "គេហទំព័រដែលត្រូវបានបិទ នៅចុងរយៈពេល";
    Events => "Detected blocking events", "ព្រឹត្តិការណ៍បិទដែលបានរកឃើញ";
    ActsByType => "Acts by type", "សកម្មភាព តាមប្រភេទ";
    ActsByMonth => "Acts by month", "សកម្មភាព តាមខែ";
    ActsByLaw => "Laws and provisions invoked", "ច្បាប់ និងមាត្រាដែលត្រូវបានយកមកប្រើ";
    CaseSummaries => "Case summaries", "សេចក្តីសង្ខេបករណី";
    Domain => "Domain", "ដែន";
    Category => "Category", "ប្រភេទ";
    Network => "Network", "បណ្តាញ";
    Method => "Method", "វិធី";
    Since => "Since", "ចាប់ពី";
    Confirmed => "Confirmed", "បានបញ្ជាក់";
    ConfirmedYes => "yes", "បាទ/ចាស";
    ConfirmedNo => "no", "ទេ";
    Measurement => "Measurement", "ការវាស់វែង";
    Count => "Count", "ចំនួន";
    Share => "Blocked share", "ភាគរយបិទ";
    Start => "Start", "ចាប់ផ្តើម";
    End => "End", "បញ្ចប់";
    Ongoing => "ongoing", "កំពុងបន្ត";
    Layer => "Layer", "ស្រទាប់";
    Confidence => "Confidence", "កម្រិតទំនុកចិត្ត";
    ActType => "Act type", "ប្រភេទសកម្មភាព";
    Month => "Month", "ខែ";
    LawProvision => "Law and provision", "ច្បាប់ និងមាត្រា";
    Acts => "Acts", "សកម្មភាព";
    Victims => "Affected", "អ្នករងផលប៉ះពាល់";
    Provisions => "Provisions invoked", "មាត្រាដែលបានយកមកប្រើ";
    Sources => "Sources", "ប្រភព";
    Unverified => "some facts unverified", "ព័ត៌មានខ្លះមិនទាន់ផ្ទៀងផ្ទាត់";
    Restricted => "not public", "មិនមែនសាធារណៈ";
    Citation => "Reference", "ឯកសារយោង";
    Text => "Text", "ខ្លឹមសារ";
    Response => "Response", "ចម្លើយតប";
    Status => "Latest assessment", "ការវាយតម្លៃចុងក្រោយ";
    NotAssessed => "not assessed", "មិនទាន់វាយតម្លៃ";
    Evidence => "Evidence", "ភស្តុតាង";
    Queries => "Queries behind the figures", "សំណួរនៅពីក្រោយតួលេខ";
    Query => "Query", "សំណួរ";
    Parameters => "Parameters", "ប៉ារ៉ាម៉ែត្រ";
    MeasurementIds => "Measurement ids", "លេខសម្គាល់ការវាស់វែង";
    EvidenceItems => "Evidence items (SHA-256)", "ភស្តុតាង (SHA-256)";
    AndMore => "and {n} more", "និង {n} ទៀត";
    Uncategorised => "Uncategorised", "គ្មានប្រភេទ";
    MethodIntro => "Volunteers run Canary's probe on their own internet connections. For each website, the probe resolves the name with the ISP's resolver, connects, performs the TLS handshake and fetches the page; a control server outside the censored network does the same at the same time. Comparing the two, rules decide whether the site is reachable, down for everyone, or blocked, at which layer (DNS, TCP, TLS or HTTP) and how.", "អ្នកស្ម័គ្រចិត្តដំណើរការកម្មវិធីវាស់ Canary លើការតភ្ជាប់អ៊ីនធឺណិតរបស់ខ្លួន។ សម្រាប់គេហទំព័រនីមួយៗ កម្មវិធីស្វែងរកអាសយដ្ឋានតាមរយៈ DNS របស់ ISP ភ្ជាប់ ធ្វើការផ្ទៀងផ្ទាត់ TLS និងទាញយកទំព័រ ហើយម៉ាស៊ីនត្រួតពិនិត្យនៅក្រៅបណ្តាញដែលត្រូវបានចាប់ពិនិត្យ ធ្វើដូចគ្នាក្នុងពេលតែមួយ។ ដោយប្រៀបធៀបលទ្ធផលទាំងពីរ ច្បាប់វិនិច្ឆ័យកំណត់ថាគេហទំព័រអាចចូលបាន ខូចសម្រាប់គ្រប់គ្នា ឬត្រូវបានបិទ នៅស្រទាប់ណា (DNS, TCP, TLS ឬ HTTP) និងដោយរបៀបណា។";
    MethodConfirm => "A blocking verdict is confirmed when the answer matches a known blockpage fingerprint (a blockpage's text or an address known to serve blockpages). Unconfirmed verdicts can be false positives (a site's own outage, a CDN answering differently, a flaky connection): a site is counted as blocked only when its latest decisive measurement on that network shows blocking, and events are detected on series of measurements, not single ones.", "ការវិនិច្ឆ័យថាត្រូវបានបិទ ត្រូវបានបញ្ជាក់ នៅពេលចម្លើយត្រូវនឹងស្នាមសម្គាល់ទំព័របិទដែលគេស្គាល់ (អត្ថបទនៃទំព័របិទ ឬអាសយដ្ឋានដែលគេដឹងថាបង្ហាញទំព័របិទ)។ ការវិនិច្ឆ័យដែលមិនទាន់បញ្ជាក់ អាចជាការវិនិច្ឆ័យខុស (គេហទំព័រខូចខ្លួនឯង CDN ឆ្លើយខុសគ្នា ឬការតភ្ជាប់មិនល្អ)៖ គេហទំព័រត្រូវបានរាប់ថាត្រូវបានបិទ លុះត្រាតែការវាស់វែងសម្រេចចុងក្រោយលើបណ្តាញនោះបង្ហាញការបិទ ហើយព្រឹត្តិការណ៍ត្រូវបានរកឃើញពីស៊េរីនៃការវាស់វែង មិនមែនពីការវាស់វែងតែមួយទេ។";
    MethodLimits => "Limits: only websites on the test lists, only networks where volunteers measured, and only the days they measured, are covered. Incidents come from the documentation registry: only published records enter a public report; unverified facts are marked as such.", "ដែនកំណត់៖ គ្របដណ្តប់តែគេហទំព័រក្នុងបញ្ជីតេស្ត តែបណ្តាញដែលអ្នកស្ម័គ្រចិត្តបានវាស់ និងតែថ្ងៃដែលពួកគេបានវាស់ប៉ុណ្ណោះ។ ឧប្បត្តិហេតុមកពីបញ្ជីឯកសារ៖ មានតែកំណត់ត្រាដែលបានផ្សព្វផ្សាយទេ ដែលចូលក្នុងរបាយការណ៍សាធារណៈ ហើយព័ត៌មានដែលមិនទាន់ផ្ទៀងផ្ទាត់ត្រូវបានសម្គាល់។";
    RulesVersions => "Verdict rules versions", "កំណែនៃច្បាប់វិនិច្ឆ័យ";
    Fingerprints => "Blockpage fingerprints matched", "ស្នាមសម្គាល់ទំព័របិទដែលត្រូវគ្នា";
    Software => "Measurement software", "កម្មវិធីវាស់វែង";
    None => "none", "គ្មាន";
    WordCount => "Word count: {n} of {limit}", "ចំនួនពាក្យ៖ {n} ក្នុងចំណោម {limit}";
    WordCountKm => "(Khmer text: words counted between spaces, an underestimate; OHCHR counts the English text)", "(អត្ថបទខ្មែរ៖ រាប់ពាក្យតាមចន្លោះ ដែលតិចជាងការពិត។ OHCHR រាប់អត្ថបទភាសាអង់គ្លេស)";
    OverLimit => "Over the limit by {n} words: shorten before submitting.", "លើសកំណត់ {n} ពាក្យ៖ សូមកាត់បន្ថយមុនពេលដាក់ស្នើ។";
    UprIntro => "Introduction", "សេចក្តីផ្តើម";
    UprBlocking => "Blocking of websites", "ការបិទគេហទំព័រ";
    UprActs => "Acts against online expression", "សកម្មភាពប្រឆាំងនឹងការបញ្ចេញមតិតាមអនឡាញ";
    UprPrevious => "Implementation of previous recommendations", "ការអនុវត្តអនុសាសន៍មុនៗ";
    UprRecs => "Recommendations", "អនុសាសន៍";
    KeyWords => "Key words", "ពាក្យគន្លឹះ";
    KeyWordsList => "freedom of expression; internet censorship; website blocking; online expression; right to privacy", "សេរីភាពបញ្ចេញមតិ; ការចាប់ពិនិត្យអ៊ីនធឺណិត; ការបិទគេហទំព័រ; ការបញ្ចេញមតិតាមអនឡាញ; សិទ្ធិឯកជនភាព";
    UprIntroText => "This submission by {author} covers {country} from {from} to {to}. It draws on network measurements collected with Canary and on incidents documented from public sources; every figure can be checked against the listed queries and measurement ids.", "របាយការណ៍នេះដោយ {author} គ្របដណ្តប់ {country} ចាប់ពី {from} ដល់ {to}។ វាផ្អែកលើការវាស់វែងបណ្តាញដែលប្រមូលដោយ Canary និងឧប្បត្តិហេតុដែលបានកត់ត្រាពីប្រភពសាធារណៈ។ តួលេខនីមួយៗអាចផ្ទៀងផ្ទាត់បានជាមួយសំណួរ និងលេខសម្គាល់ការវាស់វែងដែលបានរាយ។";
    UprBlockingText => "Of {tested} websites tested, {blocked} were blocked at the end of the period on at least one network; {isps} of {networks} networks measured blocked at least one website. {confirmed} blocked (website, network) pairs were confirmed by a known blockpage.", "ក្នុងចំណោមគេហទំព័រ {tested} ដែលបានធ្វើតេស្ត {blocked} ត្រូវបានបិទនៅចុងរយៈពេល លើបណ្តាញយ៉ាងហោចណាស់មួយ។ បណ្តាញ {isps} ក្នុងចំណោម {networks} ដែលបានវាស់ បានបិទគេហទំព័រយ៉ាងហោចណាស់មួយ។ គូ (គេហទំព័រ បណ្តាញ) ចំនួន {confirmed} ត្រូវបានបញ្ជាក់ដោយទំព័របិទដែលគេស្គាល់។";
    UprNoBlocking => "No network measurements were collected for the period.", "គ្មានការវាស់វែងបណ្តាញត្រូវបានប្រមូលសម្រាប់រយៈពេលនេះទេ។";
    UprActsText => "{incidents} incidents involving {acts} acts were documented, affecting {people} people.", "ឧប្បត្តិហេតុចំនួន {incidents} ដែលមានសកម្មភាព {acts} ត្រូវបានកត់ត្រា ដែលប៉ះពាល់ដល់មនុស្ស {people} នាក់។";
    UprPreviousText => "Recommendation {paragraph} ({symbol}), made by {states}: {text} Response: {response}. Status: {status}.", "អនុសាសន៍ {paragraph} ({symbol}) ដែលផ្តល់ដោយ {states}៖ {text} ចម្លើយតប៖ {response}។ ស្ថានភាព៖ {status}។";
    UprRecText => "Implement recommendation {paragraph} ({symbol}), as recommended previously, and report on the measures taken.", "អនុវត្តអនុសាសន៍ {paragraph} ({symbol}) ដូចដែលបានផ្តល់អនុសាសន៍ពីមុន ហើយរាយការណ៍អំពីវិធានការដែលបានអនុវត្ត។";
    UprRecUnblock => "End the blocking of the {blocked} websites listed in the annex and publish any blocking orders with their legal basis.", "បញ្ឈប់ការបិទគេហទំព័រចំនួន {blocked} ដែលបានរាយក្នុងឧបសម្ព័ន្ធ ហើយផ្សព្វផ្សាយបទបញ្ជាបិទណាមួយ ព្រមទាំងមូលដ្ឋានច្បាប់របស់វា។";
    UprRecLaws => "Amend or repeal the provisions used against online expression ({provisions}) to bring them in line with article 19 of the ICCPR.", "ធ្វើវិសោធនកម្ម ឬលុបចោលមាត្រាដែលត្រូវបានប្រើប្រឆាំងនឹងការបញ្ចេញមតិតាមអនឡាញ ({provisions}) ដើម្បីឱ្យស្របនឹងមាត្រា ១៩ នៃកតិកាសញ្ញា ICCPR។";
    Annex => "Annex: data", "ឧបសម្ព័ន្ធ៖ ទិន្នន័យ";
}

/// `t` with `{name}` placeholders replaced.
pub fn tf(lang: Lang, key: T, args: &[(&str, &str)]) -> String {
    let mut s = t(lang, key).to_owned();
    for (k, v) in args {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

/// Citizen Lab category label (the code itself when unknown).
pub fn category_label(code: &str, lang: Lang) -> String {
    let table: &[(&str, &str, &str)] = &[
        ("ALDR", "Alcohol and drugs", "គ្រឿងស្រវឹង និងគ្រឿងញៀន"),
        ("REL", "Religion", "សាសនា"),
        ("PORN", "Pornography", "អាសអាភាស"),
        ("PROV", "Provocative attire", "សម្លៀកបំពាក់ញុះញង់"),
        ("POLR", "Political criticism", "ការរិះគន់នយោបាយ"),
        ("HUMR", "Human rights issues", "បញ្ហាសិទ្ធិមនុស្ស"),
        ("ENV", "Environment", "បរិស្ថាន"),
        ("MILX", "Terrorism and militants", "ភេរវកម្ម និងក្រុមប្រដាប់អាវុធ"),
        ("HATE", "Hate speech", "ពាក្យសម្តីញុះញង់ឱ្យស្អប់"),
        ("NEWS", "News media", "ប្រព័ន្ធផ្សព្វផ្សាយព័ត៌មាន"),
        ("XED", "Sex education", "ការអប់រំផ្លូវភេទ"),
        ("PUBH", "Public health", "សុខភាពសាធារណៈ"),
        ("GMB", "Gambling", "ល្បែងស៊ីសង"),
        (
            "ANON",
            "Anonymisation and circumvention tools",
            "ឧបករណ៍អនាមិក និងការជៀសវាង",
        ),
        ("DATE", "Online dating", "ការណាត់ជួបតាមអនឡាញ"),
        ("GRP", "Social networking", "បណ្តាញសង្គម"),
        ("LGBT", "LGBTQ+", "LGBTQ+"),
        ("FILE", "File sharing", "ការចែករំលែកឯកសារ"),
        ("HACK", "Hacking tools", "ឧបករណ៍លួចចូលប្រព័ន្ធ"),
        ("COMT", "Communication tools", "ឧបករណ៍ទំនាក់ទំនង"),
        ("MMED", "Media sharing", "ការចែករំលែកមេឌៀ"),
        ("HOST", "Hosting and blogging", "សេវាផ្ទុក និងប្លុក"),
        ("SRCH", "Search engines", "ម៉ាស៊ីនស្វែងរក"),
        ("GAME", "Gaming", "ហ្គេម"),
        ("CULTR", "Culture", "វប្បធម៌"),
        ("ECON", "Economics", "សេដ្ឋកិច្ច"),
        ("GOVT", "Government", "រដ្ឋាភិបាល"),
        ("COMM", "E-commerce", "ពាណិជ្ជកម្មអេឡិចត្រូនិក"),
        ("CTRL", "Control content", "ខ្លឹមសារត្រួតពិនិត្យ"),
        ("IGO", "Intergovernmental organisations", "អង្គការអន្តររដ្ឋាភិបាល"),
        ("MISC", "Miscellaneous", "ផ្សេងៗ"),
    ];
    table
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, en, km)| match lang {
            Lang::En => format!("{en} ({code})"),
            Lang::Km => format!("{km} ({code})"),
        })
        .unwrap_or_else(|| code.to_owned())
}

/// Label of a blocking method (`dns` / `nxdomain`).
pub fn method_label(layer: &str, kind: &str, lang: Lang) -> String {
    let kinds: &[(&str, &str, &str)] = &[
        (
            "nxdomain",
            "the name does not exist (NXDOMAIN)",
            "ឈ្មោះមិនមាន (NXDOMAIN)",
        ),
        (
            "blockpage_ip",
            "answer points to a blockpage",
            "ចម្លើយចង្អុលទៅទំព័របិទ",
        ),
        ("bogon", "answer is a private address", "ចម្លើយជាអាសយដ្ឋានឯកជន"),
        (
            "inconsistent",
            "answer differs from the control",
            "ចម្លើយខុសពីការត្រួតពិនិត្យ",
        ),
        ("no_answer", "no answer", "គ្មានចម្លើយ"),
        ("reset", "connection reset", "ការតភ្ជាប់ត្រូវបានកាត់"),
        ("timeout", "timeout", "អស់ពេល"),
        ("refused", "connection refused", "ការតភ្ជាប់ត្រូវបានបដិសេធ"),
        ("blockpage", "a blockpage is served", "ទំព័របិទត្រូវបានបង្ហាញ"),
        ("diff", "page differs from the control", "ទំព័រខុសពីការត្រួតពិនិត្យ"),
        ("certificate", "invalid certificate", "វិញ្ញាបនបត្រមិនត្រឹមត្រូវ"),
    ];
    let k = kinds
        .iter()
        .find(|(c, _, _)| *c == kind)
        .map(|(_, en, km)| match lang {
            Lang::En => (*en).to_owned(),
            Lang::Km => (*km).to_owned(),
        })
        .unwrap_or_else(|| kind.to_owned());
    let layer = if layer.is_empty() { "?" } else { layer };
    format!("{}: {k}", layer.to_ascii_uppercase())
}
