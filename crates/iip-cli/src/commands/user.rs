//! `iip user`: accounts. `iip user add` creates the first administrator; administrators
//! then add others (here or, later, in the web app).

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::{Context, bail};
use iip_auth::{Role, hash_password_for, random_token};
use iip_store::{AccountStore, NewUser, Store};

use super::with_store;
use crate::StoreArgs;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create an account. Without --password-stdin a strong password is generated and shown once.
    Add(AddArgs),
    /// List the accounts (no password data).
    List(ListArgs),
    /// Disable an account and end its sessions.
    Disable(EmailArgs),
}

#[derive(clap::Args)]
pub struct AddArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub name: String,
    /// The organization the account belongs to (an org_id in the store).
    #[arg(long)]
    pub org: String,
    /// case_worker, org_admin, consortium_analyst, state_analyst or system_admin.
    #[arg(long)]
    pub role: String,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(clap::Args)]
pub struct EmailArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long)]
    pub email: String,
}

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Add(args) => {
            let password = if args.password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("cannot read the password")?;
                Some(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            let account = Account {
                email: &args.email,
                name: &args.name,
                org: &args.org,
                role: &args.role,
            };
            let shown = with_store!(&args.store, |store| {
                let shown = add(&store, &account, password).await?;
                store.close().await;
                shown
            });
            if let Some(password) = shown {
                println!("created {} ({}) at {}", args.email, args.role, args.org);
                println!("password (shown once): {password}");
                if !std::io::stdout().is_terminal() {
                    eprintln!("note: the password went to standard output; keep that output private");
                }
            } else {
                println!("created {} ({}) at {}", args.email, args.role, args.org);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::List(args) => {
            let users = with_store!(&args.store, |store| {
                let users = store.users(None).await?;
                store.close().await;
                users
            });
            for u in users {
                println!(
                    "{}\t{}\t{}\t{}{}",
                    u.email,
                    u.role,
                    u.org_id,
                    u.display_name,
                    if u.disabled { "\t(disabled)" } else { "" }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Disable(args) => {
            with_store!(&args.store, |store| {
                let Some(user) = store.user_by_email(&args.email).await? else {
                    bail!("no account has that email");
                };
                store.set_user_disabled(user.id, true).await?;
                store.close().await;
            });
            println!("disabled {} and ended its sessions", args.email);
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub struct Account<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub org: &'a str,
    pub role: &'a str,
}

/// Creates the account; returns the generated password when none was given.
pub async fn add<S: Store>(
    store: &S,
    account: &Account<'_>,
    password: Option<String>,
) -> anyhow::Result<Option<String>> {
    let role = Role::parse(account.role).map_err(anyhow::Error::msg)?;
    let email = account.email.trim();
    if !(3..=254).contains(&email.len())
        || !email.contains('@')
        || email.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        bail!("--email: not an email address");
    }
    if account.name.trim().is_empty() || account.name.chars().count() > 100 {
        bail!("--name: 1 to 100 characters");
    }
    let orgs = store.organizations().await?;
    if role != Role::SystemAdmin && !orgs.iter().any(|o| o.org_id == account.org) {
        bail!(
            "--org: {:?} is not an organization in the store (import the organizations first; only a system_admin may be created before)",
            account.org
        );
    }
    let generated = password.is_none();
    let password = match password {
        Some(p) => p,
        None => random_token()
            .map(|t| t.secret[..24].to_owned())
            .context("no randomness for a password")?,
    };
    let hash = hash_password_for(&password, &[email, account.name])?;
    let created = store
        .create_user(&NewUser {
            email,
            display_name: account.name.trim(),
            org_id: account.org,
            role: role.as_str(),
            password_hash: &hash,
        })
        .await?;
    if created.is_none() {
        bail!("an account with that email exists already");
    }
    Ok(generated.then_some(password))
}
