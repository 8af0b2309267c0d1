//! The registry on the command line: `canary seed kh`, `canary verify`,
//! `canary registry export|import`, `canary admin gen-key`, and the field
//! key that `serve` uses too.
//!
//! The field key seals sensitive fields before they reach the database and
//! opens them for readers allowed to see them; it lives in a file (or the
//! `CANARY_FIELD_KEY` environment variable), never in the database.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use canary_registry::{
    can_read, io as rio, open_record, reveal, seed, AuditLog, Dataset, ExportFormat, FieldKey,
    KeyRing, Principal, Record, Role,
};
use canary_store::registry::ImportReport;
use canary_store::Store;
use serde_json::json;
use time::OffsetDateTime;

use crate::cli::{
    DatabaseArgs, GenKeyArgs, KeyArgs, RegistryCommand, RegistryExportArgs, RegistryImportArgs,
    RegistryRekeyArgs, SeedArgs, SeedCommand, VerifyArgs,
};
use crate::cmd::progress;

/// The environment variable holding the field key text.
pub const KEY_ENV: &str = "CANARY_FIELD_KEY";

/// Most files read from a CSV folder.
const MAX_CSV_FILES: usize = 64;

/// The key ring from `--key-file` (and `--old-key-file`s), else from
/// `CANARY_FIELD_KEY`, else `None`.
pub fn key_ring(args: &KeyArgs) -> anyhow::Result<Option<KeyRing>> {
    let Some(path) = &args.key_file else {
        if std::env::var_os(KEY_ENV).is_none() {
            return Ok(None);
        }
        let key = FieldKey::from_env(KEY_ENV).with_context(|| format!("reading {KEY_ENV}"))?;
        return Ok(Some(KeyRing::new(key)));
    };
    let mut ring = KeyRing::new(read_key_file(path)?);
    for old in &args.old_key_file {
        ring = ring
            .with_older(read_key_file(old)?)
            .with_context(|| format!("adding {}", old.display()))?;
    }
    Ok(Some(ring))
}

/// One field key file (made by `canary admin gen-key`).
fn read_key_file(path: &Path) -> anyhow::Result<FieldKey> {
    FieldKey::from_file(path).with_context(|| format!("reading the key file {}", path.display()))
}

/// Runs `$f(&mut collection, args…)?` on every top-level record collection.
macro_rules! each_record_vec {
    ($ds:expr, $f:ident ( $($arg:expr),* )) => {{
        $f(&mut $ds.incidents $(, $arg)*)?;
        $f(&mut $ds.actors $(, $arg)*)?;
        $f(&mut $ds.sources $(, $arg)*)?;
        $f(&mut $ds.laws $(, $arg)*)?;
        $f(&mut $ds.provisions $(, $arg)*)?;
        $f(&mut $ds.evidence $(, $arg)*)?;
        $f(&mut $ds.recommendations $(, $arg)*)?;
        $f(&mut $ds.benchmarks $(, $arg)*)?;
    }};
}

fn list_clear<R: Record>(v: &mut [R], out: &mut Vec<String>) -> anyhow::Result<()> {
    for r in v {
        let id = r.meta().id.clone();
        for (field, value) in r.sensitive_fields_mut() {
            if value.as_clear().is_some() {
                out.push(format!("{id}.{field}"));
            }
        }
    }
    Ok(())
}

fn redact_clear<R: Record>(v: &mut [R]) -> anyhow::Result<()> {
    for r in v {
        for (_, value) in r.sensitive_fields_mut() {
            if value.as_clear().is_some() {
                value.redact();
            }
        }
    }
    Ok(())
}

/// Sensitive fields in clear, as `record.field`.
fn clear_fields(ds: &mut Dataset) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    each_record_vec!(ds, list_clear(&mut out));
    Ok(out)
}

/// What was done with the sensitive fields of a dataset before storing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sensitive {
    /// There were none in clear.
    None,
    /// Sealed with the key.
    Sealed,
    /// Replaced by the redaction placeholder (no key was given).
    Redacted,
}

impl Sensitive {
    fn as_str(self) -> &'static str {
        match self {
            Sensitive::None => "none",
            Sensitive::Sealed => "sealed",
            Sensitive::Redacted => "redacted",
        }
    }
}

/// Makes a dataset fit for the store: seals clear fields with `ring`;
/// without a ring, redacts them when `redact_without_key`, else fails with
/// a message naming them (never their content).
pub fn protect(
    ds: &mut Dataset,
    ring: Option<&KeyRing>,
    redact_without_key: bool,
) -> anyhow::Result<Sensitive> {
    let clear = clear_fields(ds)?;
    if clear.is_empty() {
        return Ok(Sensitive::None);
    }
    match ring {
        Some(ring) => {
            ds.seal_all(ring).context("sealing sensitive fields")?;
            Ok(Sensitive::Sealed)
        }
        None if redact_without_key => {
            each_record_vec!(ds, redact_clear());
            Ok(Sensitive::Redacted)
        }
        None => bail!(
            "{} sensitive field(s) are in clear ({}); they are only stored sealed: give \
             --key-file FILE (create one with `canary admin gen-key --output FILE`) or set \
             {KEY_ENV}",
            clear.len(),
            clear.join(", ")
        ),
    }
}

/// Loads `seed::kh()` into the store (sealed with `ring`, or redacted
/// without one when `redact_without_key`). Idempotent.
pub async fn seed_kh(
    store: &Store,
    ring: Option<&KeyRing>,
    redact_without_key: bool,
) -> anyhow::Result<(ImportReport, Sensitive)> {
    let mut ds = seed::kh();
    let sensitive = protect(&mut ds, ring, redact_without_key)?;
    let report = store
        .registry_import(&ds, seed::SEED_USER, OffsetDateTime::now_utc())
        .await
        .context("storing the registry")?;
    Ok((report, sensitive))
}

/// What an import into the registry did (`seed kh`, `registry import`):
/// with `--json` one object (database, rows changed, what became of the
/// sensitive fields, counts per collection), else `headline` and a line per
/// collection touched.
fn print_import(
    report: &ImportReport,
    database: &DatabaseArgs,
    sensitive: Sensitive,
    json: bool,
    headline: &str,
) {
    if json {
        println!(
            "{}",
            json!({
                "database": database.shown(),
                "changed": report.changed(),
                "sensitive": sensitive.as_str(),
                "collections": report.collections,
            })
        );
        return;
    }
    println!("{headline}");
    for (name, c) in &report.collections {
        if c.inserted + c.updated + c.unchanged == 0 {
            continue;
        }
        println!(
            "  {name:<16} {:>5} added {:>5} updated {:>5} unchanged",
            c.inserted, c.updated, c.unchanged
        );
    }
}

/// `canary seed …`
pub fn seed(command: SeedCommand) -> anyhow::Result<ExitCode> {
    let SeedCommand::Kh(args) = command;
    seed_cmd(args)
}

fn seed_cmd(args: SeedArgs) -> anyhow::Result<ExitCode> {
    let ring = key_ring(&args.key)?;
    let step = progress::steps("loading the Cambodia registry");
    let (report, sensitive) = args
        .database
        .with_store(async |store| seed_kh(store, ring.as_ref(), args.without_sensitive).await)?;
    step.finish_and_clear();
    let headline = format!(
        "canary: Cambodia registry in {}: {} rows added or updated (sensitive fields {})",
        args.database.shown(),
        report.changed(),
        sensitive.as_str()
    );
    print_import(&report, &args.database, sensitive, args.json, &headline);
    Ok(ExitCode::SUCCESS)
}

fn check_opens<R: Record + Clone>(
    v: &mut [R],
    ring: &KeyRing,
    problems: &mut Vec<(String, String)>,
) -> anyhow::Result<()> {
    for r in v.iter() {
        let mut copy = r.clone();
        if let Err(e) = open_record(&mut copy, ring) {
            problems.push((r.meta().id.clone(), e.to_string()));
        }
    }
    Ok(())
}

/// `canary verify`: exit 0 when all is well, 1 when anything is broken.
pub fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let ring = match &args.key_file {
        Some(path) => Some(KeyRing::new(read_key_file(path)?)),
        None => None,
    };
    args.database.require_existing()?;
    if let Some(dir) = &args.evidence_dir {
        if !dir.is_dir() {
            bail!("--evidence-dir {}: not a folder", dir.display());
        }
    }
    let anchors = match &args.anchors {
        Some(path) => Some(read_anchors(path)?),
        None => None,
    };
    let step = progress::steps("checking the registry");
    let (mut report, heads, mut ds) = args.database.with_store(async |store| {
        let mut report = store
            .registry_verify(args.evidence_dir.as_deref())
            .await
            .context("reading the registry")?;
        if let Some(anchors) = &anchors {
            let problems = store
                .registry_check_anchors(anchors)
                .await
                .context("checking the saved heads")?;
            report.problems.extend(problems);
        }
        let heads = store.registry_chain_heads().await?;
        // Rows that do not parse are in the report already.
        let ds = store.registry_load().await.unwrap_or_default();
        anyhow::Ok((report, heads, ds))
    })?;
    step.finish_and_clear();
    if let Some(ring) = &ring {
        let mut bad = Vec::new();
        each_record_vec!(ds, check_opens(ring, &mut bad));
        for (item, message) in bad {
            report.problems.push(canary_store::registry::Problem {
                area: "sensitive".into(),
                item,
                message,
            });
        }
    }
    if args.json {
        println!(
            "{}",
            json!({
                "ok": report.is_ok(),
                "database": args.database.shown(),
                "records": report.records,
                "custody_chains": report.custody_chains,
                "custody_events": report.custody_events,
                "audit_entries": report.audit_entries,
                "evidence_files": report.evidence_files,
                "problems": report.problems,
                "heads": heads,
            })
        );
    } else {
        for p in &report.problems {
            println!("BROKEN {} {}: {}", p.area, p.item, p.message);
        }
        let files = if args.evidence_dir.is_some() {
            format!(", {} evidence files", report.evidence_files)
        } else {
            String::new()
        };
        let summary = format!(
            "{} records, {} custody chains ({} events), {} audit entries{files}",
            report.records, report.custody_chains, report.custody_events, report.audit_entries
        );
        if report.is_ok() {
            println!("OK: {summary}");
        } else {
            println!("{} problem(s) in {summary}", report.problems.len());
        }
    }
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Heads saved by an earlier `canary verify --json` (its `heads`), or a
/// JSON list of heads.
fn read_anchors(path: &Path) -> anyhow::Result<Vec<canary_registry::ChainHead>> {
    let text = read_bounded(path)?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("--anchors {}: not JSON", path.display()))?;
    let heads = match value {
        serde_json::Value::Object(mut o) => o.remove("heads").unwrap_or_default(),
        other => other,
    };
    serde_json::from_value(heads).with_context(|| {
        format!(
            "--anchors {}: expected the output of `canary verify --json` or a list of heads",
            path.display()
        )
    })
}

/// `canary admin gen-key`: a new key file, owner-only, never overwriting.
pub fn gen_key(args: GenKeyArgs) -> anyhow::Result<ExitCode> {
    let key = FieldKey::generate(args.id).context("generating a key")?;
    let text = key.to_key_file_text();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&args.output).with_context(|| {
        format!(
            "creating {} (an existing key file is never overwritten)",
            args.output.display()
        )
    })?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", args.output.display()))?;
    println!(
        "canary: wrote field key {} to {}; keep it outside the database and back it up \
         (without it sealed fields cannot be read), then pass it with --key-file",
        args.id,
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `canary registry …`
pub fn run(command: RegistryCommand) -> anyhow::Result<ExitCode> {
    match command {
        RegistryCommand::Export(args) => export(args),
        RegistryCommand::Import(args) => import(args),
        RegistryCommand::Rekey(args) => rekey(args),
    }
}

fn reveal_all<R: Record + Clone>(
    v: &mut [R],
    p: &Principal,
    ring: &KeyRing,
    log: &mut AuditLog,
    at: OffsetDateTime,
) -> anyhow::Result<()> {
    for r in v.iter_mut() {
        if can_read(p, r.meta()) {
            *r = reveal(r, p, ring, log, at)?;
        }
    }
    Ok(())
}

async fn principal(store: &Store, name: Option<&str>) -> anyhow::Result<Principal> {
    let Some(name) = name else {
        return Ok(Principal::Anonymous);
    };
    let Some((user, _)) = store.user_by_name(name).await? else {
        bail!("--as {name}: no such user (see `canary admin create-user`)");
    };
    if user.disabled {
        bail!("--as {name}: the account is disabled");
    }
    let role: Role = user
        .role
        .parse()
        .with_context(|| format!("--as {name}: role {}", user.role))?;
    let Some(org) = user.org.filter(|o| o.starts_with("org_")) else {
        bail!("--as {name}: the user belongs to no registry organisation (org_…)");
    };
    Ok(Principal::user(user.name, org, role))
}

fn export(args: RegistryExportArgs) -> anyhow::Result<ExitCode> {
    let format = match args.format.as_str() {
        "json" => ExportFormat::Json,
        "csv" => ExportFormat::Csv,
        other => bail!("--format {other}: use json or csv"),
    };
    args.database.require_existing()?;
    let ring = key_ring(&args.key)?;
    if args.reveal && ring.is_none() {
        bail!("--reveal needs the field key: --key-file FILE or {KEY_ENV}");
    }
    if args.output.exists() && format == ExportFormat::Json {
        bail!(
            "{} exists: an export never overwrites",
            args.output.display()
        );
    }
    let step = progress::steps("exporting the registry");
    let (files, sha256, rows, who) = args.database.with_store(async |store| {
        let p = principal(store, args.as_user.as_deref()).await?;
        let mut ds = store
            .registry_load()
            .await
            .context("reading the registry")?;
        let now = OffsetDateTime::now_utc();
        let mut log = AuditLog::new();
        if args.reveal {
            if let Some(ring) = &ring {
                each_record_vec!(ds, reveal_all(&p, ring, &mut log, now));
            }
        }
        let out = rio::export(&ds, &p, format, now, &mut log).context("exporting")?;
        let rows = ds.view_for(&p).len();
        store
            .registry_audit_append_all(log.entries())
            .await
            .context("recording the export in the audit log")?;
        anyhow::Ok((out.files, out.sha256, rows, p.describe()))
    })?;
    step.finish_and_clear();
    write_export(&args.output, format, &files)?;
    if args.json {
        println!(
            "{}",
            json!({
                "output": args.output.display().to_string(),
                "format": args.format,
                "for": who,
                "rows": rows,
                "sha256": sha256,
                "files": files.keys().collect::<Vec<_>>(),
            })
        );
    } else {
        println!(
            "canary: exported {rows} rows for {who} to {} (sha256 {sha256}, recorded in the audit log)",
            args.output.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn create_new(path: &Path, content: &str) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("creating {} (never overwritten)", path.display()))?;
    std::io::Write::write_all(&mut f, content.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

fn write_export(
    output: &Path,
    format: ExportFormat,
    files: &BTreeMap<String, String>,
) -> anyhow::Result<()> {
    match format {
        ExportFormat::Json => {
            let Some(content) = files.get("dataset.json") else {
                bail!("the export produced no dataset.json");
            };
            create_new(output, content)
        }
        ExportFormat::Csv => {
            std::fs::create_dir_all(output)
                .with_context(|| format!("creating the folder {}", output.display()))?;
            for (name, content) in files {
                create_new(&output.join(name), content)?;
            }
            Ok(())
        }
    }
}

fn read_bounded(path: &Path) -> anyhow::Result<String> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut text = String::new();
    file.take(rio::MAX_IMPORT_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("reading {} (UTF-8 text expected)", path.display()))?;
    if text.len() > rio::MAX_IMPORT_BYTES {
        bail!(
            "{} is larger than {} bytes",
            path.display(),
            rio::MAX_IMPORT_BYTES
        );
    }
    Ok(text)
}

/// Reads a JSON export or a folder of CSV files, validated.
pub fn read_dataset(path: &Path) -> anyhow::Result<Dataset> {
    if path.is_dir() {
        let mut files = BTreeMap::new();
        let entries =
            std::fs::read_dir(path).with_context(|| format!("listing {}", path.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("listing {}", path.display()))?;
            let p: PathBuf = entry.path();
            if p.extension().and_then(|e| e.to_str()) != Some("csv") {
                continue;
            }
            if files.len() >= MAX_CSV_FILES {
                bail!("{}: more than {MAX_CSV_FILES} CSV files", path.display());
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            files.insert(name, read_bounded(&p)?);
        }
        if files.is_empty() {
            bail!("{}: no CSV files", path.display());
        }
        rio::from_csv(&files)
            .with_context(|| format!("reading the CSV files in {}", path.display()))
    } else {
        let text = read_bounded(path)?;
        rio::from_json(&text).with_context(|| format!("reading {}", path.display()))
    }
}

fn import(args: RegistryImportArgs) -> anyhow::Result<ExitCode> {
    let ring = key_ring(&args.key)?;
    let step = progress::steps(&format!("reading {}", args.path.display()));
    let mut ds = read_dataset(&args.path)?;
    step.set_message("sealing the sensitive fields");
    let sensitive = protect(&mut ds, ring.as_ref(), false)?;
    step.set_message("importing into the registry");
    let report = args.database.with_store(async |store| {
        store
            .registry_import(&ds, &args.by, OffsetDateTime::now_utc())
            .await
            .context("importing into the registry")
    })?;
    step.finish_and_clear();
    let headline = format!(
        "canary: imported {} into {}: {} rows added or updated",
        args.path.display(),
        args.database.shown(),
        report.changed()
    );
    print_import(&report, &args.database, sensitive, args.json, &headline);
    Ok(ExitCode::SUCCESS)
}

/// The records of `v` with a field sealed under another key than the
/// ring's current one, opened, sealed again under the current key, with a
/// new version recording it.
fn resealed<R: Record + Clone>(
    v: &[R],
    ring: &KeyRing,
    by: &str,
    at: OffsetDateTime,
) -> anyhow::Result<Vec<R>> {
    let mut out = Vec::new();
    for r in v {
        let mut copy = r.clone();
        let stale = copy.sensitive_fields_mut().into_iter().any(|(_, f)| {
            matches!(f, canary_registry::SensitiveField::Sealed(s) if s.key_id() != ring.current_id())
        });
        if !stale {
            continue;
        }
        open_record(&mut copy, ring)?;
        canary_registry::seal_record(&mut copy, ring)?;
        let meta = copy.meta_mut();
        meta.versions.push(canary_registry::Version {
            n: meta.version() + 1,
            by: by.to_owned(),
            at,
            change_summary: format!("sensitive fields re-sealed with key {}", ring.current_id()),
        });
        out.push(copy);
    }
    Ok(out)
}

fn rekey(args: RegistryRekeyArgs) -> anyhow::Result<ExitCode> {
    args.database.require_existing()?;
    let Some(ring) = key_ring(&args.key)? else {
        bail!("give the new key with --key-file and the old one(s) with --old-key-file");
    };
    let step = progress::steps("re-sealing the sensitive fields");
    let changed = args.database.with_store(async |store| {
        let ds = store
            .registry_load()
            .await
            .context("reading the registry")?;
        let at = OffsetDateTime::now_utc();
        let mut batch = store.registry_batch().await?;
        let mut changed = 0usize;
        macro_rules! reseal {
            ($($field:ident),+) => {$(
                for r in resealed(&ds.$field, &ring, &args.by, at)? {
                    batch.put_record(&r).await.context("writing a re-sealed record")?;
                    changed += 1;
                }
            )+};
        }
        reseal!(
            incidents,
            actors,
            sources,
            laws,
            provisions,
            evidence,
            recommendations,
            benchmarks
        );
        if changed == 0 {
            // dropped unused: its connection goes back before the pool closes
            return anyhow::Ok(0);
        }
        batch
            .audit_append(
                &args.by,
                canary_registry::AuditAction::Edit,
                "dataset",
                at,
                &format!(
                    "rekey: {changed} record(s) re-sealed with key {}",
                    ring.current_id()
                ),
            )
            .await?;
        batch.commit().await?;
        anyhow::Ok(changed)
    })?;
    step.finish_and_clear();
    if args.json {
        println!(
            "{}",
            json!({
                "database": args.database.shown(),
                "key_id": ring.current_id(),
                "resealed": changed,
            })
        );
    } else {
        println!(
            "canary: {changed} record(s) re-sealed with key {} in {}",
            ring.current_id(),
            args.database.shown()
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clear_fields_are_sealed_with_a_key_redacted_on_request_else_refused_by_name() {
        let ring = KeyRing::new(FieldKey::from_bytes(1, [3; 32]));
        let mut sealed = seed::kh();
        assert_eq!(
            protect(&mut sealed, Some(&ring), false).unwrap(),
            Sensitive::Sealed
        );
        assert!(clear_fields(&mut sealed).unwrap().is_empty());
        assert_eq!(protect(&mut sealed, None, false).unwrap(), Sensitive::None);

        let mut redacted = seed::kh();
        assert_eq!(
            protect(&mut redacted, None, true).unwrap(),
            Sensitive::Redacted
        );
        assert!(clear_fields(&mut redacted).unwrap().is_empty());

        let mut refused = seed::kh();
        let names = clear_fields(&mut refused).unwrap();
        assert!(!names.is_empty());
        let err = protect(&mut refused, None, false).unwrap_err().to_string();
        assert!(
            err.contains(&names[0]) && err.contains("--key-file"),
            "{err}"
        );
    }
}
