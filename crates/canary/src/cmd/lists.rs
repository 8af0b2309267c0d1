//! `canary lists`: download and show the Citizen Lab test lists.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use canary_lists::{FetchConfig, ListStore};
use serde_json::json;

use crate::cli::{ListsCommand, ListsShowArgs, ListsUpdateArgs};
use crate::cmd::probe::default_lists_dir;

pub fn run(command: ListsCommand) -> anyhow::Result<ExitCode> {
    match command {
        ListsCommand::Update(args) => update(args),
        ListsCommand::Show(args) => show(args),
    }
}

fn update(args: ListsUpdateArgs) -> anyhow::Result<ExitCode> {
    canary_netx::install_ring_provider();
    let store = ListStore::new(args.lists_dir.clone().unwrap_or_else(default_lists_dir));
    let config = FetchConfig::new(&args.base_url)?;
    let client = canary_lists::http_client(args.ca_file.as_deref(), Duration::from_secs(60), None)?;
    let runtime = crate::cmd::runtime()?;
    let updated = runtime.block_on(store.update(&client, &config, &args.country))?;
    if args.json {
        let rows: Vec<_> = updated
            .iter()
            .map(|u| json!({"list": u.name, "path": u.path, "urls": u.entries, "skipped_rows": u.skipped_rows}))
            .collect();
        println!("{}", serde_json::Value::Array(rows));
    } else {
        for u in &updated {
            println!(
                "{}: {} URLs ({} bad rows skipped) -> {}",
                u.name,
                u.entries,
                u.skipped_rows,
                u.path.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show(args: ListsShowArgs) -> anyhow::Result<ExitCode> {
    let store = ListStore::new(args.lists_dir.clone().unwrap_or_else(default_lists_dir));
    let entries = store.load_country(&args.country)?;
    let mut by_category: BTreeMap<String, usize> = BTreeMap::new();
    for e in &entries {
        *by_category.entry(e.category_code.clone()).or_default() += 1;
    }
    if args.json {
        println!(
            "{}",
            json!({"country": args.country.to_uppercase(), "urls": entries.len(), "by_category": by_category})
        );
    } else {
        println!(
            "{} + global: {} URLs",
            args.country.to_uppercase(),
            entries.len()
        );
        for (cat, n) in &by_category {
            println!("  {cat:<6} {n}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
