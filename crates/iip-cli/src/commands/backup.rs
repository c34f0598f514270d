//! `iip backup` and `iip restore` for the SQLite store: an online, consistent copy while the
//! server keeps running, and a checked restore that never overwrites a store by accident.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use iip_store::Store;
use iip_store_sqlite::SqliteStore;

#[derive(clap::Args)]
pub struct BackupArgs {
    /// The store to copy (it may be in use).
    #[arg(long, env = "IIP_DB", default_value = "iip.db")]
    pub db: PathBuf,
    /// The backup file to write (must not exist).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// The backup file.
    #[arg(long)]
    pub from: PathBuf,
    /// Where to restore it (must not exist: move the old store away first).
    #[arg(long)]
    pub db: PathBuf,
}

/// Backups of a PostgreSQL store are PostgreSQL's own: pg_dump / pg_basebackup.
fn sqlite_only(db: &std::path::Path) -> anyhow::Result<()> {
    if db.to_str().is_some_and(iip_store_postgres::is_postgres_url) {
        bail!("iip backup and iip restore work on a SQLite file; back up PostgreSQL with pg_dump (docs/scaling.md)");
    }
    Ok(())
}

pub async fn backup(args: BackupArgs) -> anyhow::Result<ExitCode> {
    sqlite_only(&args.db)?;
    let store = SqliteStore::open(&args.db)
        .await
        .with_context(|| format!("cannot open {}", args.db.display()))?;
    store.backup_to(&args.out).await?;
    let digest = store.revision().await?;
    store.close().await;
    let copy = SqliteStore::open(&args.out).await?;
    if let Err(problem) = copy.integrity_check().await? {
        bail!("the backup {} fails its integrity check: {problem}", args.out.display());
    }
    copy.close().await;
    println!(
        "backed up {} to {} (store revision {digest}, integrity ok); identities stay sealed, the master key is not in it",
        args.db.display(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    sqlite_only(&args.db)?;
    if args.db.exists() {
        bail!(
            "{} exists: move it away first (a restore never overwrites a store)",
            args.db.display()
        );
    }
    if !args.from.is_file() {
        bail!("{} is not a backup file", args.from.display());
    }
    std::fs::copy(&args.from, &args.db).with_context(|| format!("cannot write {}", args.db.display()))?;
    let store = SqliteStore::open(&args.db).await?;
    if let Err(problem) = store.integrity_check().await? {
        store.close().await;
        let _ = std::fs::remove_file(&args.db);
        bail!("the backup fails its integrity check, nothing restored: {problem}");
    }
    let revision = store.revision().await?;
    store.close().await;
    println!(
        "restored {} from {} (store revision {revision}, integrity ok)",
        args.db.display(),
        args.from.display()
    );
    Ok(ExitCode::SUCCESS)
}
