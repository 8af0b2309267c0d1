//! Restricted pages, channels and accounts: ISP blocking or the platform's
//! own country restriction?
//!
//! When a platform complies with a legal demand it keeps serving the page,
//! but in the country it serves a notice instead ("This content isn't
//! available in your country", "withheld in ... in response to a legal
//! demand", "This channel can't be displayed because it violated local
//! laws"). A network block looks different: the page never arrives (DNS,
//! TCP, TLS or HTTP failure) or the ISP's blockpage arrives. The
//! [`classify`]er compares the probe's view of a page with the control's and
//! says which, with the evidence — a distinction the coalition needs when it
//! writes to a platform (about its compliance) or to the UN (about the
//! state's ISPs).
//!
//! [`Fingerprints::builtin`] are Canary's fingerprints of the notices
//! (`data/restriction-fingerprints.json`); users add theirs with
//! [`Fingerprints::from_json`] and [`Fingerprints::extend`]. The accounts to
//! check come from a CSV ([`parse_accounts`]): `platform,url,owner,category`.

use serde::{Deserialize, Serialize};

use crate::label::{classify as classify_failure, Kind, Layer};
use crate::SocialError;

/// The built-in fingerprint file.
pub const BUILTIN_FINGERPRINTS: &str = include_str!("../data/restriction-fingerprints.json");

/// Most fingerprints in one list.
pub const MAX_FINGERPRINTS: usize = 10_000;
/// Most accounts in one CSV.
pub const MAX_ACCOUNTS: usize = 10_000;
/// Bytes of a body searched for fingerprints.
pub const MAX_BODY_SEARCHED: usize = 1 << 20;

/// Where a fingerprint is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// The response body.
    Body,
    /// The page title.
    Title,
    /// The URL after redirects.
    FinalUrl,
}

/// One fingerprint of a platform's restriction notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fingerprint {
    /// Unique id, `platform.what`.
    pub id: String,
    /// The platform (`facebook`, `youtube`, `x`, `tiktok`, `telegram`...),
    /// or `*` for any.
    pub platform: String,
    /// Where to look.
    pub location: Location,
    /// Text to find (case-insensitive; typographic apostrophes match plain ones).
    pub pattern: String,
    /// What the notice is, for people.
    #[serde(default)]
    pub note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FingerprintFile {
    #[serde(default)]
    #[allow(dead_code)]
    version: u32,
    #[serde(default)]
    #[allow(dead_code)]
    about: String,
    fingerprints: Vec<Fingerprint>,
}

/// A list of fingerprints.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fingerprints {
    list: Vec<Fingerprint>,
}

/// Lower-cases and folds typographic apostrophes, as patterns are matched.
pub fn normalise(text: &str) -> String {
    text.to_lowercase()
        .replace(['\u{2019}', '\u{2018}', '`'], "'")
}

impl Fingerprints {
    /// Canary's own fingerprints.
    pub fn builtin() -> Self {
        // Compiled in and tested (`the_builtin_fingerprints_load`); an empty
        // list is the never-panicking fallback.
        Self::from_json(BUILTIN_FINGERPRINTS).unwrap_or_default()
    }

    /// Reads a fingerprint file (`{"fingerprints": [...]}`, as the built-in one).
    pub fn from_json(text: &str) -> Result<Self, SocialError> {
        crate::check_size(text, SocialError::Fingerprints)?;
        let file: FingerprintFile =
            serde_json::from_str(text).map_err(|e| SocialError::Fingerprints(e.to_string()))?;
        if file.fingerprints.len() > MAX_FINGERPRINTS {
            return Err(SocialError::Fingerprints(format!(
                "{} fingerprints, at most {MAX_FINGERPRINTS}",
                file.fingerprints.len()
            )));
        }
        let mut list = Vec::with_capacity(file.fingerprints.len());
        for mut fp in file.fingerprints {
            if fp.id.trim().is_empty() || fp.platform.trim().is_empty() {
                return Err(SocialError::Fingerprints(
                    "a fingerprint without id or platform".into(),
                ));
            }
            if fp.pattern.trim().chars().count() < 6 {
                return Err(SocialError::Fingerprints(format!(
                    "{}: pattern shorter than 6 characters would match ordinary pages",
                    fp.id
                )));
            }
            fp.pattern = normalise(&fp.pattern);
            fp.platform = fp.platform.to_ascii_lowercase();
            list.push(fp);
        }
        Ok(Fingerprints { list })
    }

    /// Adds `other`'s fingerprints (a later one with the same id replaces the earlier).
    pub fn extend(&mut self, other: Fingerprints) {
        for fp in other.list {
            self.list.retain(|f| f.id != fp.id);
            self.list.push(fp);
        }
    }

    /// The fingerprints.
    pub fn list(&self) -> &[Fingerprint] {
        &self.list
    }

    /// The first fingerprint of `platform` (or `*`) that `view` matches.
    pub fn find(&self, platform: &str, view: &PageView) -> Option<&Fingerprint> {
        let platform = platform.to_ascii_lowercase();
        let mut end = view.body.len().min(MAX_BODY_SEARCHED);
        while !view.body.is_char_boundary(end) {
            end -= 1;
        }
        let body = normalise(&view.body[..end]);
        let title = view.title.as_deref().map(normalise).unwrap_or_default();
        let final_url = view.final_url.as_deref().map(normalise).unwrap_or_default();
        self.list.iter().find(|fp| {
            (fp.platform == platform || fp.platform == "*")
                && match fp.location {
                    Location::Body => body.contains(&fp.pattern),
                    Location::Title => title.contains(&fp.pattern),
                    Location::FinalUrl => final_url.contains(&fp.pattern),
                }
        })
    }
}

/// The text of a page's first `<title>` (whitespace collapsed, at most 256
/// characters), searched in the first 64 KiB.
pub fn extract_title(body: &str) -> Option<String> {
    let mut end = body.len().min(64 * 1024);
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    let head = &body[..end];
    let lower = head.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let stop = start + lower[start..].find("</title")?;
    let title: String = head[start..stop]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    Some(title.chars().take(256).collect())
}

/// What one vantage saw of a page: the evidence the verdict rests on.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PageView {
    /// The failure (df-007), when no response came.
    #[serde(default)]
    pub failure: Option<String>,
    /// The step that failed, when it failed.
    #[serde(default)]
    pub failed_layer: Option<Layer>,
    /// The final response's status.
    #[serde(default)]
    pub status: Option<u16>,
    /// The URL after redirects.
    #[serde(default)]
    pub final_url: Option<String>,
    /// The page title.
    #[serde(default)]
    pub title: Option<String>,
    /// SHA-256 of the body, hex.
    #[serde(default)]
    pub body_sha256: Option<String>,
    /// The body (as text, possibly truncated); not serialised (the request
    /// records hold it).
    #[serde(skip)]
    pub body: String,
}

impl PageView {
    /// Whether a response came.
    pub fn responded(&self) -> bool {
        self.failure.is_none() && self.status.is_some()
    }
}

/// The verdict of an account/page check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Both vantages reached the page, and it was not a restriction notice.
    Reachable,
    /// The network kept the page from the probe (the control reached it): ISP blocking.
    NetworkBlocked,
    /// The page came, but as the platform's restriction notice for this
    /// country (the control got the page): a legal demand to the platform.
    PlatformRestricted,
    /// Unavailable from both vantages (removed, down, or restricted everywhere).
    Down,
    /// Cannot tell (no control, or an unexplained difference).
    Unknown,
}

/// The classifier's answer, with what it rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountVerdict {
    /// The verdict.
    pub status: AccountStatus,
    /// The matched restriction fingerprint's id.
    pub fingerprint: Option<String>,
    /// For network blocking: the layer.
    pub layer: Option<Layer>,
    /// For network blocking: the kind.
    pub kind: Option<Kind>,
    /// One sentence on why.
    pub reason: String,
}

fn verdict(status: AccountStatus, reason: String) -> AccountVerdict {
    AccountVerdict {
        status,
        fingerprint: None,
        layer: None,
        kind: None,
        reason,
    }
}

/// Classifies a page of `platform` from the probe's and the control's views.
pub fn classify(
    platform: &str,
    probe: Option<&PageView>,
    control: Option<&PageView>,
    fingerprints: &Fingerprints,
) -> AccountVerdict {
    use AccountStatus as S;
    let Some(probe) = probe else {
        return verdict(S::Unknown, "the probe did not measure the page".into());
    };
    let control_ok = control.is_some_and(PageView::responded);
    if !probe.responded() {
        let failure = probe
            .failure
            .clone()
            .unwrap_or_else(|| "unknown_failure".into());
        return match control {
            None => verdict(
                S::Unknown,
                format!("the probe failed ({failure}) and there is no control"),
            ),
            Some(_) if !control_ok => verdict(
                S::Down,
                format!("the probe ({failure}) and the control both failed"),
            ),
            Some(_) => {
                let layer = probe.failed_layer.unwrap_or(Layer::Http);
                let (_, kind) = classify_failure(layer, &failure);
                AccountVerdict {
                    status: S::NetworkBlocked,
                    fingerprint: None,
                    layer: Some(layer),
                    kind: Some(kind),
                    reason: format!(
                        "the probe failed ({failure}) where the control reached the page"
                    ),
                }
            }
        };
    }
    if let Some(fp) = fingerprints.find(platform, probe) {
        let everywhere = control
            .and_then(|c| fingerprints.find(platform, c))
            .is_some();
        let (status, reason) = if everywhere {
            (
                S::Down,
                format!(
                    "the control saw the same notice ({}): not country-specific",
                    fp.id
                ),
            )
        } else if control.is_none() {
            (
                S::PlatformRestricted,
                format!(
                    "the probe got the platform's notice ({}); no control to compare",
                    fp.id
                ),
            )
        } else {
            (S::PlatformRestricted, format!("the probe got the platform's restriction notice ({}); the control got the page", fp.id))
        };
        return AccountVerdict {
            status,
            fingerprint: Some(fp.id.clone()),
            layer: None,
            kind: None,
            reason,
        };
    }
    let probe_status = probe.status.unwrap_or(0);
    match control {
        Some(c) if c.responded() => {
            let control_status = c.status.unwrap_or(0);
            if (probe_status >= 400) != (control_status >= 400) {
                verdict(
                    S::Unknown,
                    format!("HTTP {probe_status} at the probe, {control_status} at the control, and no known notice"),
                )
            } else if probe_status >= 400 {
                verdict(S::Down, format!("HTTP {probe_status} at both vantages"))
            } else {
                verdict(S::Reachable, "both vantages got the page".into())
            }
        }
        _ if probe_status >= 400 => verdict(
            S::Unknown,
            format!("HTTP {probe_status} at the probe, no control"),
        ),
        _ => verdict(S::Reachable, "the probe got the page".into()),
    }
}

/// One row of an accounts file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    /// The platform, lower case (`x` for twitter).
    pub platform: String,
    /// The public page's URL.
    pub url: String,
    /// Whose page it is (a label, e.g. an organisation's name).
    pub owner: String,
    /// A category (free text, e.g. a Citizen Lab code).
    pub category: String,
}

/// Reads an accounts CSV: `platform,url,owner,category`, with or without that
/// header. URLs must be http(s); at most [`MAX_ACCOUNTS`] rows.
pub fn parse_accounts(text: &str) -> Result<Vec<AccountRow>, SocialError> {
    crate::check_size(text, |r| SocialError::Accounts { line: 0, reason: r })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = u64::try_from(i).unwrap_or(u64::MAX).saturating_add(1);
        let bad = |reason: String| SocialError::Accounts { line, reason };
        let record = record.map_err(|e| bad(e.to_string()))?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        if i == 0
            && record
                .get(0)
                .is_some_and(|f| f.eq_ignore_ascii_case("platform"))
        {
            continue;
        }
        if record.len() != 4 {
            return Err(bad(format!(
                "{} fields, expected platform,url,owner,category",
                record.len()
            )));
        }
        if out.len() >= MAX_ACCOUNTS {
            return Err(bad(format!("more than {MAX_ACCOUNTS} accounts")));
        }
        let field = |k: usize| record.get(k).unwrap_or_default().to_string();
        let mut platform = field(0).to_ascii_lowercase();
        if platform == "twitter" {
            platform = "x".into();
        }
        if platform.is_empty()
            || platform.len() > 32
            || !platform
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(bad(format!("platform {platform:?} is not a word")));
        }
        let url = field(1);
        let parsed = url::Url::parse(&url).map_err(|e| bad(format!("url {url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(bad(format!("url {url:?} is not an http(s) URL")));
        }
        let (owner, category) = (field(2), field(3));
        if owner.chars().count() > 200 || category.chars().count() > 64 {
            return Err(bad("owner (200) or category (64) too long".into()));
        }
        out.push(AccountRow {
            platform,
            url,
            owner,
            category,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(status: u16, title: &str, body: &str) -> PageView {
        PageView {
            status: Some(status),
            title: Some(title.into()),
            body: body.into(),
            ..PageView::default()
        }
    }

    fn failed(failure: &str, layer: Layer) -> PageView {
        PageView {
            failure: Some(failure.into()),
            failed_layer: Some(layer),
            ..PageView::default()
        }
    }

    #[test]
    fn titles_are_extracted_case_insensitively_and_bounded() {
        let cases = [
            (
                "<html><TITLE lang=en>  Free\n Press </title>",
                Some("Free Press"),
            ),
            ("<title></title>", Some("")),
            ("<p>no title</p>", None),
            ("<title>unterminated", None),
        ];
        for (body, want) in cases {
            assert_eq!(extract_title(body).as_deref(), want, "{body}");
        }
        let long = format!("<title>{}</title>", "a".repeat(1000));
        assert_eq!(extract_title(&long).map(|t| t.len()), Some(256));
    }

    #[test]
    fn the_builtin_fingerprints_load_and_cover_the_five_platforms() {
        let fps = Fingerprints::from_json(BUILTIN_FINGERPRINTS).unwrap();
        for platform in ["facebook", "youtube", "x", "tiktok", "telegram"] {
            assert!(
                fps.list().iter().any(|f| f.platform == platform),
                "{platform}"
            );
        }
    }

    #[test]
    fn each_platforms_notice_is_recognised_and_ordinary_pages_are_not() {
        let fps = Fingerprints::builtin();
        let cases = [
            ("facebook", "<div>This content isn\u{2019}t available in your country</div>", Some("facebook.country_unavailable")),
            ("facebook", "<p>We've restricted access because of a legal restriction in Cambodia.</p>", Some("facebook.legal_restriction")),
            ("youtube", "This content is not available on this country domain due to a legal complaint from the government.", Some("youtube.government_complaint")),
            ("x", "@someone's account has been withheld in Cambodia in response to a legal demand.", Some("x.withheld")),
            ("tiktok", "This account is not available in your region", Some("tiktok.region_unavailable")),
            ("telegram", "This channel can't be displayed because it violated local laws.", Some("telegram.local_laws")),
            ("telegram", "<h1>Free Press KH</h1><p>Latest posts</p>", None),
            ("youtube", "This content isn't available in your country", None),
        ];
        for (platform, body, want) in cases {
            let got = fps
                .find(platform, &ok(200, "", body))
                .map(|f| f.id.as_str());
            assert_eq!(got, want, "{platform}: {body}");
        }
    }

    #[test]
    fn the_verdict_tells_platform_restriction_from_network_blocking() {
        use AccountStatus as S;
        let fps = Fingerprints::builtin();
        let page = ok(200, "Free Press KH", "<h1>Free Press KH</h1>");
        let notice = ok(
            200,
            "Telegram",
            "This channel can't be displayed because it violated local laws.",
        );
        let cases = [
            (
                "restricted for the probe only",
                Some(notice.clone()),
                Some(page.clone()),
                S::PlatformRestricted,
            ),
            (
                "notice for both",
                Some(notice.clone()),
                Some(notice.clone()),
                S::Down,
            ),
            (
                "reset for the probe only",
                Some(failed("connection_reset", Layer::Tls)),
                Some(page.clone()),
                S::NetworkBlocked,
            ),
            (
                "failed for both",
                Some(failed("generic_timeout_error", Layer::Tcp)),
                Some(failed("connection_refused", Layer::Tcp)),
                S::Down,
            ),
            (
                "failed without control",
                Some(failed("connection_reset", Layer::Tls)),
                None,
                S::Unknown,
            ),
            (
                "reached by both",
                Some(page.clone()),
                Some(page.clone()),
                S::Reachable,
            ),
            (
                "403 at the probe only",
                Some(ok(403, "Forbidden", "no")),
                Some(page.clone()),
                S::Unknown,
            ),
            ("not measured", None, Some(page), S::Unknown),
        ];
        for (name, probe, control, want) in cases {
            let v = classify("telegram", probe.as_ref(), control.as_ref(), &fps);
            assert_eq!(v.status, want, "{name}: {}", v.reason);
        }
        let v = classify(
            "telegram",
            Some(&failed("connection_reset", Layer::Tls)),
            Some(&ok(200, "", "")),
            &fps,
        );
        assert_eq!((v.layer, v.kind), (Some(Layer::Tls), Some(Kind::Reset)));
    }

    #[test]
    fn user_fingerprints_extend_and_replace_the_builtin_ones() {
        let mut fps = Fingerprints::builtin();
        let n = fps.list().len();
        fps.extend(Fingerprints::from_json(r#"{"fingerprints": [
            {"id": "facebook.country_unavailable", "platform": "facebook", "location": "body", "pattern": "pas disponible dans votre pays"},
            {"id": "vk.blocked", "platform": "vk", "location": "title", "pattern": "Access restricted"}]}"#).unwrap());
        assert_eq!(fps.list().len(), n + 1);
        assert!(fps
            .find(
                "facebook",
                &ok(200, "", "Ce contenu n'est pas disponible dans votre pays")
            )
            .is_some());
        assert!(fps.find("vk", &ok(200, "ACCESS RESTRICTED", "")).is_some());
        for bad in [
            r#"{"fingerprints": [{"id": "a", "platform": "x", "location": "body", "pattern": "no"}]}"#,
            r#"{"fingerprints": [{"id": "", "platform": "x", "location": "body", "pattern": "long enough"}]}"#,
            r#"{"fingerprints": [{"id": "a", "platform": "x", "location": "headers", "pattern": "long enough"}]}"#,
        ] {
            assert!(Fingerprints::from_json(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn accounts_csv_is_read_with_or_without_header_and_hostile_rows_are_refused() {
        let rows = parse_accounts("platform,url,owner,category\nTwitter, https://x.com/someone ,Someone,HUMR\n\nfacebook,https://www.facebook.com/page,\"Org, KH\",NEWS\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].platform, "x");
        assert_eq!(rows[0].url, "https://x.com/someone");
        assert_eq!(rows[1].owner, "Org, KH");
        assert_eq!(
            parse_accounts("telegram,https://t.me/s/chan,Chan,NEWS")
                .unwrap()
                .len(),
            1
        );
        let cases = [
            ("facebook,https://f.test/\n", "fields"),
            ("facebook,ftp://f.test/,o,c\n", "not an http"),
            ("face book,https://f.test/,o,c\n", "not a word"),
            ("facebook,not a url,o,c\n", "url"),
        ];
        for (text, want) in cases {
            let err = parse_accounts(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
    }
}
