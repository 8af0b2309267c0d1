//! `canary report`: a country report or a UPR submission draft, in English
//! or Khmer, as HTML or PDF, from the store and the registry.

use std::process::ExitCode;

use anyhow::{bail, Context};
use canary_report::{Edition, ReportOptions};

use crate::cli::ReportArgs;
use crate::cmd::store_cmds::open_store;

fn date(s: &str, what: &str) -> anyhow::Result<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, format).with_context(|| format!("{what} {s}: use YYYY-MM-DD"))
}

/// The registry dataset: the built-in Cambodia seed, or a JSON export.
fn registry(source: &str) -> anyhow::Result<canary_registry::Dataset> {
    if source == "seed" {
        return Ok(canary_registry::seed::kh());
    }
    let text = std::fs::read_to_string(source).with_context(|| format!("--registry {source}"))?;
    canary_registry::io::from_json(&text).with_context(|| format!("--registry {source}"))
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
    let dataset = registry(&args.registry)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let data = runtime.block_on(async {
        let store = open_store(&args.database).await?;
        let data = canary_report::gather(&store, &dataset, &options).await;
        store.close().await;
        anyhow::Ok(data?)
    })?;
    for warning in &data.warnings {
        eprintln!("canary: warning: {warning}");
    }
    let bytes = if pdf {
        render_pdf(&data, &options)?
    } else {
        canary_report::render_html(&data, &options).into_bytes()
    };
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
