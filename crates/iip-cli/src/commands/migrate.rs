//! `iip migrate`: opens the store, which applies every migration this binary carries that the
//! store lacks (each in its own transaction), then lists them.

use std::process::ExitCode;

use crate::StoreArgs;

pub async fn run(args: StoreArgs) -> anyhow::Result<ExitCode> {
    let where_ = super::display_db(&args.db);
    let migrations = match super::open(&args).await? {
        super::Opened::Sqlite(store) => {
            let list = store.migrations().await?;
            iip_store::Store::close(&store).await;
            list
        }
        super::Opened::Postgres(store) => {
            let list = store.migrations().await?;
            iip_store::Store::close(&store).await;
            list
        }
    };
    for (version, description, applied) in &migrations {
        println!(
            "{version:04} {description}: {}",
            if *applied { "applied" } else { "PENDING" }
        );
    }
    let pending = migrations.iter().filter(|m| !m.2).count();
    println!(
        "{where_}: schema at version {}, {pending} pending",
        migrations.iter().filter(|m| m.2).map(|m| m.0).max().unwrap_or(0)
    );
    Ok(if pending == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
