//! `iip audit`: the append-only, hash-chained audit log of identifying data.

use std::process::ExitCode;

use iip_auth::audit::{GENESIS, verify};
use iip_store::AuditStore;

use super::with_store;
use crate::StoreArgs;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Prove the chain: every entry follows the one before and matches its hash.
    Verify(Args),
    /// Print the latest entries (ids only, never names).
    List(ListArgs),
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long, default_value_t = 50)]
    pub last: u32,
}

/// Reads the log in pages and checks it; the number of entries on success.
pub async fn verify_store<S: AuditStore>(store: &S) -> anyhow::Result<Result<u64, iip_auth::audit::ChainBroken>> {
    let (mut after, mut prev, mut count) = (0, GENESIS.to_vec(), 0u64);
    loop {
        let page = store.audit_events(after, 10_000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        count += page.len() as u64;
        match verify(
            prev,
            page.iter()
                .map(|e| (e.id, &e.event, e.prev_hash.as_slice(), e.hash.as_slice())),
        ) {
            Ok(hash) => prev = hash,
            Err(broken) => return Ok(Err(broken)),
        }
    }
    Ok(Ok(count))
}

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Verify(args) => {
            let result = with_store!(&args.store, |store| {
                let result = verify_store(&store).await?;
                store.close().await;
                result
            });
            match result {
                Ok(count) => {
                    println!("audit log intact: {count} entries, every one chained to the one before");
                    Ok(ExitCode::SUCCESS)
                }
                Err(broken) => {
                    eprintln!("audit log BROKEN: {broken}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::List(args) => {
            let mut all = Vec::new();
            with_store!(&args.store, |store| {
                let mut after = 0;
                loop {
                    let page = store.audit_events(after, 10_000).await?;
                    let Some(last) = page.last() else { break };
                    after = last.id;
                    all.extend(page);
                    let keep = all.len().saturating_sub(args.last as usize);
                    all.drain(..keep);
                }
                store.close().await;
            });
            for e in all {
                println!(
                    "{}\t{}\tuser {}\t{}\t{}\t{}\t{}",
                    e.id,
                    e.event.at,
                    e.event.user_id.map_or_else(|| "-".to_owned(), |u| u.to_string()),
                    e.event.org_id,
                    e.event.action,
                    e.event.subject,
                    e.event.reason
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
