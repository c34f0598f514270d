//! `iip keys`: the master key for identities encrypted at rest.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use iip_store::Store;

use super::with_opened;
use iip_vault::MasterKey;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create a master key file (readable by its owner only) and, with --db, seal every
    /// identity the store still keeps in the clear.
    Init(InitArgs),
    /// Make a new master key and re-wrap every organization's data key under it.
    Rotate(RotateArgs),
}

#[derive(clap::Args)]
pub struct RotateArgs {
    /// The current master key file.
    #[arg(long)]
    pub key_file: PathBuf,
    /// Where to write the new master key (must not exist).
    #[arg(long)]
    pub new_key_file: PathBuf,
    #[arg(long)]
    pub db: PathBuf,
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
    let args = match command {
        Command::Init(args) => args,
        Command::Rotate(args) => return rotate(args).await,
    };
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
        let sealed = with_opened!(super::open_db(db, Some(key)).await?, |store| {
            let sealed = store.seal_clear_identities().await?;
            store.close().await;
            sealed
        });
        println!("sealed {sealed} identities in {}", super::display_db(db));
    }
    Ok(ExitCode::SUCCESS)
}

async fn rotate(args: RotateArgs) -> anyhow::Result<ExitCode> {
    let current = MasterKey::from_hex(&std::fs::read_to_string(&args.key_file)?)
        .with_context(|| format!("the key file {}", args.key_file.display()))?;
    with_opened!(super::open_db(&args.db, Some(current)).await?, |store| {
        rotate_store(&store, &args).await
    })
}

async fn rotate_store(store: &impl Store, args: &RotateArgs) -> anyhow::Result<ExitCode> {
    let new = create_key_file(&args.new_key_file)?;
    let bar = indicatif::ProgressBar::new(0);
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let result = store
        .rotate_master_key(&new, |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await;
    bar.finish_and_clear();
    store.close().await;
    match result {
        Ok(count) => {
            println!(
                "re-wrapped {count} organization keys under {}; BACK IT UP, then retire {}",
                args.new_key_file.display(),
                args.key_file.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            // Nothing changed: the store still opens with the current key.
            let _ = std::fs::remove_file(&args.new_key_file);
            Err(e.into())
        }
    }
}
