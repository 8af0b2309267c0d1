//! The store on the command line: `--database` ([`DatabaseArgs`]) opened
//! with a bounded wait, shown without its password, and the paths derived
//! from it.
//!
//! Every command that uses the store flattens [`DatabaseArgs`] into its
//! options and opens it here, so they all accept the same URLs, give up on
//! an unanswering server after the same time, name the database the same
//! way in their errors and never print a password. A command that does one
//! thing with the store hands it to [`DatabaseArgs::with_store`], which
//! also closes it:
//!
//! ```text
//! let report = args.database.with_store(async |store| {
//!     store.registry_verify(None).await.context("reading the registry")
//! })?;
//! ```
//!
//! Commands that only read refuse a SQLite file that is not there
//! ([`DatabaseArgs::require_existing`]) instead of creating an empty one
//! for a mistyped path.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use canary_store::Store;

use crate::cli::DatabaseArgs;

/// How long the command line waits for the database before giving up (a
/// typo in a PostgreSQL URL should not look like a hang).
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);

impl DatabaseArgs {
    /// The database URL as it may be shown: without its password.
    pub fn shown(&self) -> String {
        match url::Url::parse(&self.url) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("***"));
                u.to_string()
            }
            _ => self.url.clone(),
        }
    }

    /// Opens the store (a SQLite file, created if missing, or a PostgreSQL
    /// URL), failing after [`OPEN_TIMEOUT`] without an answer.
    pub async fn open(&self) -> anyhow::Result<Store> {
        let name = self.shown();
        match tokio::time::timeout(OPEN_TIMEOUT, Store::open(&self.url)).await {
            Ok(opened) => opened.with_context(|| format!("opening the database {name}")),
            Err(_) => bail!(
                "opening the database {name}: no answer within {} s",
                OPEN_TIMEOUT.as_secs()
            ),
        }
    }

    /// Opens the store on a runtime of this thread, runs `work` with it,
    /// then closes it whatever `work` returned.
    pub fn with_store<T>(
        &self,
        work: impl AsyncFnOnce(&Store) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        crate::cmd::runtime()?.block_on(async {
            let store = self.open().await?;
            let result = work(&store).await;
            store.close().await;
            result
        })
    }

    /// For commands that only read: refuses a SQLite file that does not
    /// exist rather than creating an empty database for a mistyped path.
    pub fn require_existing(&self) -> anyhow::Result<()> {
        match self.sqlite_path() {
            Some(path) if !path.exists() => bail!(
                "no database at {} (check --database; `canary seed kh` or `canary serve` create one)",
                path.display()
            ),
            _ => Ok(()),
        }
    }

    /// The evidence folder `serve` uses by default: `canary-evidence` beside
    /// a SQLite database file, or in the working directory for PostgreSQL.
    pub fn default_evidence_dir(&self) -> PathBuf {
        let Some(path) = self.sqlite_path() else {
            return PathBuf::from("canary-evidence");
        };
        match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.join("canary-evidence"),
            _ => PathBuf::from("canary-evidence"),
        }
    }

    /// The SQLite file the URL names, if it names one.
    fn sqlite_path(&self) -> Option<&Path> {
        let database = self.url.as_str();
        if database.starts_with("postgres://") || database.starts_with("postgresql://") {
            return None;
        }
        let path = database
            .strip_prefix("sqlite://")
            .or_else(|| database.strip_prefix("sqlite:"))
            .unwrap_or(database);
        (!path.is_empty() && path != ":memory:").then(|| Path::new(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database(url: &str) -> DatabaseArgs {
        DatabaseArgs {
            url: url.to_owned(),
        }
    }

    #[test]
    fn the_evidence_folder_sits_beside_a_sqlite_file_else_in_the_working_directory() {
        for (url, expected) in [
            ("canary.db", "canary-evidence"),
            (
                "/var/lib/canary/canary.db",
                "/var/lib/canary/canary-evidence",
            ),
            ("sqlite:data/c.db", "data/canary-evidence"),
            ("sqlite:///srv/c.db", "/srv/canary-evidence"),
            ("sqlite::memory:", "canary-evidence"),
            ("postgres://canary@db/canary", "canary-evidence"),
        ] {
            assert_eq!(
                database(url).default_evidence_dir(),
                PathBuf::from(expected),
                "{url}"
            );
        }
    }

    #[test]
    fn read_only_commands_refuse_a_missing_sqlite_file_but_not_other_urls() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("typo.db");
        let missing = missing.to_str().unwrap();
        for url in [missing.to_owned(), format!("sqlite:{missing}")] {
            let err = database(&url).require_existing().unwrap_err().to_string();
            assert!(err.contains("no database at"), "{err}");
        }
        std::fs::write(dir.path().join("there.db"), b"").unwrap();
        let there = dir.path().join("there.db");
        assert!(database(there.to_str().unwrap()).require_existing().is_ok());
        assert!(database("postgres://canary@db/canary")
            .require_existing()
            .is_ok());
        assert!(database("sqlite::memory:").require_existing().is_ok());
    }

    #[test]
    fn a_password_in_the_url_is_never_shown() {
        for (url, shown) in [
            (
                "postgres://canary:s3cret@db:5432/canary",
                "postgres://canary:***@db:5432/canary",
            ),
            ("postgres://canary@db/canary", "postgres://canary@db/canary"),
            ("canary.db", "canary.db"),
            ("sqlite:data/c.db", "sqlite:data/c.db"),
        ] {
            assert_eq!(database(url).shown(), shown, "{url}");
        }
    }
}
