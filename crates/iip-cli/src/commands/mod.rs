pub mod audit;
pub mod bench_engine;
pub mod demo;
pub mod funding;
pub mod generate;
pub mod import;
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

pub async fn open_store(args: &StoreArgs) -> anyhow::Result<SqliteStore> {
    SqliteStore::open(&args.db)
        .await
        .with_context(|| format!("cannot open the database {}", args.db.display()))
}

pub fn init_tracing(default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
