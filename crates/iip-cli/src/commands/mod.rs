pub mod audit;
pub mod backup;
pub mod bench_engine;
pub mod bench_footprint;
pub mod bench_linkage;
pub mod check;
pub mod demo;
pub mod demo_region;
pub mod directory;
pub mod forget;
pub mod funding;
pub mod generate;
pub mod import;
pub mod keys;
pub mod linkage;
pub mod migrate;
pub mod report;
pub mod serve;
pub mod token;
pub mod user;

use std::sync::Arc;

use anyhow::Context;
use iip_framework::Framework;
use iip_store_postgres::PgStore;
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

/// The store `--db` names: a SQLite file, or PostgreSQL for a `postgres://` URL.
pub enum Opened {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// The PostgreSQL URL `--db` names, if it names one.
pub fn postgres_url(args: &StoreArgs) -> Option<&str> {
    args.db.to_str().filter(|db| iip_store_postgres::is_postgres_url(db))
}

/// Opens the store `--db` names (migrating it to this version's schema).
pub async fn open(args: &StoreArgs) -> anyhow::Result<Opened> {
    open_db(&args.db, master_key(args)?).await
}

/// Opens a SQLite file or a `postgres://` URL with an optional master key.
pub async fn open_db(db: &std::path::Path, key: Option<iip_vault::MasterKey>) -> anyhow::Result<Opened> {
    let url = db.to_str().filter(|db| iip_store_postgres::is_postgres_url(db));
    Ok(match url {
        // The URL may hold a password: the message names the server only.
        Some(url) => Opened::Postgres(
            PgStore::connect(url, key)
                .await
                .with_context(|| format!("cannot open the PostgreSQL database {}", display_db(db)))?,
        ),
        None => Opened::Sqlite(
            SqliteStore::open_with_key(db, key)
                .await
                .with_context(|| format!("cannot open the database {}", db.display()))?,
        ),
    })
}

/// Runs `$body` with `$store` bound to the opened store, whichever backend it is: the body
/// is generic code over `Store`, compiled once per backend.
macro_rules! with_store {
    ($args:expr, |$store:ident| $body:block) => {
        $crate::commands::with_opened!($crate::commands::open($args).await?, |$store| $body)
    };
}
pub(crate) use with_store;

/// [`with_store!`] for a store opened already.
macro_rules! with_opened {
    ($opened:expr, |$store:ident| $body:block) => {
        match $opened {
            $crate::commands::Opened::Sqlite($store) => {
                #[allow(unused_imports)]
                use iip_store::{IdentityStore as _, Store as _};
                $body
            }
            $crate::commands::Opened::Postgres($store) => {
                #[allow(unused_imports)]
                use iip_store::{IdentityStore as _, Store as _};
                $body
            }
        }
    };
}
pub(crate) use with_opened;

/// `--db` for messages: a URL loses its user and password.
pub fn display_db(db: &std::path::Path) -> String {
    match db.to_str().filter(|db| iip_store_postgres::is_postgres_url(db)) {
        Some(url) => match url.split_once("://").and_then(|(_, rest)| rest.rsplit_once('@')) {
            Some((_, host)) => format!("postgres://{host}"),
            None => url.to_owned(),
        },
        None => db.display().to_string(),
    }
}

/// Opens a SQLite store only, for the commands that work on the file itself.
pub async fn open_sqlite(args: &StoreArgs, command: &str) -> anyhow::Result<SqliteStore> {
    if postgres_url(args).is_some() {
        anyhow::bail!("{command} works on a SQLite file; for PostgreSQL see docs/scaling.md (pg_dump, pg_restore)");
    }
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
