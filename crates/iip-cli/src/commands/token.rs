//! `iip token`: bearer tokens for integrations, each acting as one account.

use std::process::ExitCode;

use anyhow::{Context, bail};
use iip_auth::random_token;
use iip_store::AccountStore;

use super::with_store;
use crate::StoreArgs;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create a token for an account; it is shown once.
    Create(TokenArgs),
    /// Revoke an account's tokens of that name.
    Revoke(TokenArgs),
}

#[derive(clap::Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The account the token acts as.
    #[arg(long)]
    pub email: String,
    /// What the token is for (shown when listing, used to revoke).
    #[arg(long)]
    pub name: String,
    /// Days the token is valid (create only): 1 to 366. Make a new one before it ends.
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u16).range(1..=366))]
    pub days: u16,
}

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    let (Command::Create(args) | Command::Revoke(args)) = &command;
    if args.name.trim().is_empty() || args.name.chars().count() > 100 {
        bail!("--name: 1 to 100 characters");
    }
    with_store!(&args.store, |store| {
        let Some(user) = store.user_by_email(&args.email).await? else {
            bail!("no account has that email");
        };
        match command {
            Command::Create(args) => {
                let token = random_token().context("no randomness for a token")?;
                let now = iip_web::auth::unix_now();
                let expires_at = now + i64::from(args.days) * 86_400;
                store
                    .create_api_token(&token.hash, user.id, args.name.trim(), now, expires_at)
                    .await?;
                println!("token for {} ({}), shown once:", args.email, user.role);
                println!("{}", token.secret);
                println!("use it as: Authorization: Bearer <token>");
                let ends = iip_domain::Date::from_day_number((expires_at / 86_400) as i32)
                    .map_or_else(|| format!("in {} days", args.days), |d| d.to_string());
                println!("valid for {} days, until {ends} (UTC)", args.days);
            }
            Command::Revoke(args) => {
                let revoked = store.revoke_api_tokens(user.id, args.name.trim()).await?;
                println!("revoked {revoked} token(s) named {:?}", args.name.trim());
            }
        }
        store.close().await;
    });
    Ok(ExitCode::SUCCESS)
}
