pub mod audit;
pub mod backup;
pub mod bench_engine;
pub mod bench_linkage;
pub mod demo;
pub mod forget;
pub mod funding;
pub mod generate;
pub mod import;
pub mod keys;
pub mod linkage;
pub mod report;
pub mod serve;
pub mod token;
pub mod user;

use std::sync::Arc;

use anyhow::Context;
use iip_framework::Framework;
use iip_store_sqlite::SqliteStore;

use crate::StoreArgs;

pub fn load_framework(args: &StoreArgs) -> anyhow::Result<Arc<Framework>> {
    let framework = match &args.framework {
        Some(path) => Framework::load(path)?,
        None => Framework::builtin()?,
    };
    Ok(Arc::new(framework))
}

/// The master key, from IIP_MASTER_KEY or the key file, if either is given.
pub fn master_key(args: &StoreArgs) -> anyhow::Result<Option<iip_vault::MasterKey>> {
    if let Ok(hex) = std::env::var("IIP_MASTER_KEY")
        && !hex.trim().is_empty()
    {
        return Ok(Some(iip_vault::MasterKey::from_hex(&hex).context("IIP_MASTER_KEY")?));
    }
    let Some(path) = &args.key_file else { return Ok(None) };
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the key file {}", path.display()))?;
    Ok(Some(
        iip_vault::MasterKey::from_hex(&text).with_context(|| format!("the key file {}", path.display()))?,
    ))
}

pub async fn open_store(args: &StoreArgs) -> anyhow::Result<SqliteStore> {
    SqliteStore::open_with_key(&args.db, master_key(args)?)
        .await
        .with_context(|| format!("cannot open the database {}", args.db.display()))
}

/// Says so when identities are about to be kept in the clear.
pub fn warn_if_clear(args: &StoreArgs) {
    if args.key_file.is_none() && std::env::var("IIP_MASTER_KEY").is_err() {
        eprintln!(
            "warning: no master key (--key-file or IIP_MASTER_KEY): names and birth dates are stored in the clear; run `iip keys init --key-file FILE --db {}`",
            args.db.display()
        );
    }
}

pub fn init_tracing(default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
