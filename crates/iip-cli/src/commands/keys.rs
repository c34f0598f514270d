//! `iip keys`: the master key for identities encrypted at rest.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use iip_store_sqlite::SqliteStore;
use iip_vault::MasterKey;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create a master key file (readable by its owner only) and, with --db, seal every
    /// identity the store still keeps in the clear.
    Init(InitArgs),
}

#[derive(clap::Args)]
pub struct InitArgs {
    #[arg(long)]
    pub key_file: PathBuf,
    /// A store whose clear identities to seal with the (new or existing) key.
    #[arg(long)]
    pub db: Option<PathBuf>,
}

/// Writes a new key file, refusing to replace one (losing a key loses every identity).
pub fn create_key_file(path: &std::path::Path) -> anyhow::Result<MasterKey> {
    if path.exists() {
        bail!(
            "{} exists already; it is not replaced (without it the identities it sealed cannot be read)",
            path.display()
        );
    }
    let key = MasterKey::generate()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    writeln!(file, "{}", key.to_hex())?;
    Ok(key)
}

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    let Command::Init(args) = command;
    let key = if args.key_file.exists() && args.db.is_some() {
        let text = std::fs::read_to_string(&args.key_file)?;
        MasterKey::from_hex(&text).with_context(|| format!("the key file {}", args.key_file.display()))?
    } else {
        let key = create_key_file(&args.key_file)?;
        println!("created the master key {}", args.key_file.display());
        println!(
            "BACK IT UP somewhere safe and apart from the database: without it no name or birth date can be read."
        );
        key
    };
    if let Some(db) = &args.db {
        let store = SqliteStore::open_with_key(db, Some(key)).await?;
        let sealed = store.seal_clear_identities().await?;
        store.close().await;
        println!("sealed {sealed} identities in {}", db.display());
    }
    Ok(ExitCode::SUCCESS)
}
