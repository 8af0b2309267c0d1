//! `canary report`: a country report or a UPR submission draft, in English
//! or Khmer, as HTML or PDF, from the store and the registry.
//!
//! The registry (`--registry`) is by default the one kept in `--database`
//! (`store`), the same one `canary serve` shows and its `/reports` form
//! uses; `seed` is the built-in Cambodia dataset and anything else a JSON
//! export. When the stored registry is empty the report is still made
//! (a measurements-only report is legitimate) and its incident and
//! recommendation sections say that nothing is documented yet; a warning on
//! standard error says how to load the Cambodia dataset (`canary seed kh`).
//! A report made from the stored registry is appended to its audit log
//! (action `export`, the report's name, edition and SHA-256) before it is
//! written, as `canary serve`'s `/reports` does.

use std::process::ExitCode;

use anyhow::{bail, Context};
use canary_registry::AuditAction;
use canary_report::{Edition, ReportOptions};

use crate::cli::ReportArgs;

fn date(s: &str, what: &str) -> anyhow::Result<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, format).with_context(|| format!("{what} {s}: use YYYY-MM-DD"))
}

/// Largest registry JSON export read with `--registry FILE` (bytes).
const MAX_REGISTRY_FILE: u64 = 256 * 1024 * 1024;

/// Where the registry comes from.
enum RegistrySource {
    /// The registry kept in `--database`.
    Store,
    /// A dataset read before the store is opened: the built-in Cambodia
    /// seed, or a JSON export.
    Given(Box<canary_registry::Dataset>),
}

fn registry(source: &str) -> anyhow::Result<RegistrySource> {
    match source {
        "store" => Ok(RegistrySource::Store),
        "seed" => Ok(RegistrySource::Given(Box::new(canary_registry::seed::kh()))),
        path => {
            use std::io::Read;
            let file = std::fs::File::open(path).with_context(|| format!("--registry {path}"))?;
            let mut text = String::new();
            file.take(MAX_REGISTRY_FILE + 1)
                .read_to_string(&mut text)
                .with_context(|| format!("--registry {path}"))?;
            if text.len() as u64 > MAX_REGISTRY_FILE {
                bail!("--registry {path}: larger than {MAX_REGISTRY_FILE} bytes");
            }
            let dataset = canary_registry::io::from_json(&text)
                .with_context(|| format!("--registry {path}"))?;
            Ok(RegistrySource::Given(Box::new(dataset)))
        }
    }
}

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let mut options = ReportOptions::new(
        &args.country,
        date(&args.from, "--from")?,
        date(&args.to, "--to")?,
    );
    options.lang = args.lang.parse()?;
    options.template = args.template.parse()?;
    if let Some(limit) = args.word_limit {
        options.word_limit = limit;
    }
    if let Some(author) = &args.author {
        options.author = author.clone();
    }
    if let Some(org) = &args.internal_edition_for {
        options.edition = Edition::OrgInternal(org.clone());
    }
    if let Some(day) = &args.generated_on {
        options.generated_on = Some(date(day, "--generated-on")?);
    }
    options.api_base = args.api_base.clone();
    let pdf = match args.format.as_str() {
        "html" => false,
        "pdf" => true,
        other => bail!("--format {other}: use html or pdf"),
    };
    if pdf && !cfg!(feature = "pdf") {
        bail!("this canary was built without PDF support: rebuild with `cargo build --release --features pdf`, or use --format html");
    }
    let source = registry(&args.registry)?;
    let bytes = args.database.with_store(async |store| {
        let from_store = matches!(source, RegistrySource::Store);
        let dataset = match source {
            RegistrySource::Given(d) => *d,
            // an empty registry is reported by gather (a warning and
            // "nothing documented yet" in the registry sections)
            RegistrySource::Store => store
                .registry_load()
                .await
                .with_context(|| format!("reading the registry in {}", args.database.shown()))?,
        };
        let data = canary_report::gather(store, &dataset, &options).await?;
        for warning in &data.warnings {
            eprintln!("canary: warning: {warning}");
        }
        let bytes = if pdf {
            render_pdf(&data, &options)?
        } else {
            canary_report::render_html(&data, &options).into_bytes()
        };
        if from_store {
            // the stored registry's records left the database: audited
            // like any export, before the report is written
            store
                .registry_audit_append(
                    AUDIT_ACTOR,
                    AuditAction::Export,
                    &report_name(&options, pdf),
                    time::OffsetDateTime::now_utc(),
                    &audit_details(&options, pdf, &bytes),
                )
                .await
                .context("recording the report in the registry's audit log")?;
        }
        anyhow::Ok(bytes)
    })?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "canary: report written to {} ({} bytes)",
                path.display(),
                bytes.len()
            );
        }
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(&bytes)
                .context("writing the report")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The audit log's actor for reports made on the command line (whoever
/// can open the database).
const AUDIT_ACTOR: &str = "command line";

/// What the report is: template, country, period, language, edition, format.
fn report_name(o: &ReportOptions, pdf: bool) -> String {
    let template = match o.template {
        canary_report::Template::Country => "report",
        canary_report::Template::Upr => "upr",
    };
    let internal = match o.edition {
        Edition::Public => "",
        Edition::OrgInternal(_) => "-internal",
    };
    format!(
        "canary-{template}-{}-{}-{}-{}{internal}.{}",
        o.country.to_ascii_uppercase(),
        o.from,
        o.to,
        o.lang.code(),
        if pdf { "pdf" } else { "html" }
    )
}

/// How the report was made and the SHA-256 of its bytes.
fn audit_details(o: &ReportOptions, pdf: bool, bytes: &[u8]) -> String {
    let edition = match &o.edition {
        Edition::Public => "public".to_owned(),
        Edition::OrgInternal(org) => format!("internal:{org}"),
    };
    format!(
        "report from the command line: edition={edition} lang={} format={} bytes={} sha256={}",
        o.lang.code(),
        if pdf { "pdf" } else { "html" },
        bytes.len(),
        canary_report::sha256_hex(bytes),
    )
}

#[cfg(feature = "pdf")]
fn render_pdf(
    data: &canary_report::ReportData,
    options: &ReportOptions,
) -> anyhow::Result<Vec<u8>> {
    Ok(canary_report_pdf::render_pdf(data, options)?)
}

#[cfg(not(feature = "pdf"))]
fn render_pdf(
    _data: &canary_report::ReportData,
    _options: &ReportOptions,
) -> anyhow::Result<Vec<u8>> {
    bail!("this canary was built without PDF support")
}
