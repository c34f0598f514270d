//! `iip check`: the store's own integrity check (SQLite `PRAGMA integrity_check`, PostgreSQL
//! `amcheck` over every index) and the audit log's hash chain. Exit status 1 on any problem.

use std::process::ExitCode;

use super::with_store;
use crate::StoreArgs;

pub async fn run(args: StoreArgs) -> anyhow::Result<ExitCode> {
    let where_ = super::display_db(&args.db);
    let (integrity, chain, counts) = with_store!(&args, |store| {
        let integrity = store.integrity_check().await?;
        let chain = super::audit::verify_store(&store).await?;
        let counts = store.counts().await?;
        store.close().await;
        (integrity, chain, counts)
    });
    let mut sound = true;
    match integrity {
        Ok(()) => println!("{where_}: integrity ok"),
        Err(problem) => {
            sound = false;
            eprintln!("{where_}: integrity check FAILED: {problem}");
        }
    }
    match chain {
        Ok(entries) => println!("audit log intact: {entries} entries"),
        Err(broken) => {
            sound = false;
            eprintln!("audit log BROKEN: {broken}");
        }
    }
    println!(
        "{} organizations, {} participants, {} activities, {} milestones, {} assessments",
        counts.organizations, counts.participants, counts.activities, counts.milestones, counts.assessments
    );
    Ok(if sound { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
