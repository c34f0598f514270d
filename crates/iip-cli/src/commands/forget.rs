//! `iip forget`: make a participant's or an organization's identifying data unrecoverable,
//! leaving the aggregate history as it was.

use std::process::ExitCode;

use anyhow::bail;
use iip_store::AuditStore;

use super::with_store;
use crate::StoreArgs;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Delete a participant's names and birth date (zeroed in the file); activities and
    /// outcomes stay, so the metrics do not change.
    Participant(ParticipantArgs),
    /// Destroy an organization's data key and its sealed identities (crypto-shredding: no copy
    /// of the database can open them any more).
    Organization(OrganizationArgs),
}

#[derive(clap::Args)]
pub struct ParticipantArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long)]
    pub org: String,
    #[arg(long)]
    pub participant: String,
}

#[derive(clap::Args)]
pub struct OrganizationArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long)]
    pub org: String,
}

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    let (args, org, subject) = match &command {
        Command::Participant(a) => (
            &a.store,
            a.org.clone(),
            format!("participant:{}/{}", a.org, a.participant),
        ),
        Command::Organization(a) => (&a.store, a.org.clone(), format!("organization:{}", a.org)),
    };
    let message = with_store!(args, |store| {
        let message = match &command {
            Command::Participant(a) => {
                if !store.forget_participant(&a.org, &a.participant).await? {
                    bail!("no identity is stored for that participant");
                }
                format!("forgot the identity of {}/{}", a.org, a.participant)
            }
            Command::Organization(a) => {
                let removed = store.forget_organization(&a.org).await?;
                format!("destroyed the data key of {} and {removed} sealed identities", a.org)
            }
        };
        let event = iip_domain::audit::AuditEvent {
            at: iip_web::auth::unix_now(),
            user_id: None,
            org_id: org,
            action: "forget".into(),
            subject,
            reason: "iip forget (command line)".into(),
        };
        store.append_audit(&event, iip_auth::audit::chain_hash).await?;
        store.close().await;
        message
    });
    println!("{message}; the metrics are unchanged");
    Ok(ExitCode::SUCCESS)
}
