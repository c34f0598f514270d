use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use iip_domain::{Date, ProgramYear};
use iip_funding::{Formula, MemberTable, NeedTable, Scenario};
use iip_store::Store;
use iip_web::AppState;

use super::{init_tracing, load_framework, with_store};
use crate::StoreArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long, env = "IIP_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Program year shown by default; the year of the latest activity when omitted.
    #[arg(long)]
    pub year: Option<String>,
    #[command(flatten)]
    pub funding: FundingArgs,
    /// A referral still unanswered after this many days is flagged to its receiver.
    #[arg(long, env = "IIP_REFERRAL_FLAG_DAYS", default_value_t = 7)]
    pub referral_flag_days: u32,
}

/// The funding simulator's page (`/funding`): on when a need table is given.
#[derive(clap::Args)]
pub struct FundingArgs {
    /// Need table for /funding (unit_id, prior_year, need columns; docs/funding.md).
    #[arg(long)]
    pub funding_need: Option<PathBuf>,
    /// Member table for formulas with a [members] rule (member_id, unit_id, prior_year).
    #[arg(long, requires = "funding_need")]
    pub funding_members: Option<PathBuf>,
    /// The formula of the page; the built-in funding/integration.toml when omitted.
    #[arg(long, requires = "funding_need")]
    pub funding_formula: Option<PathBuf>,
    /// The baseline; the built-in funding/baseline.toml when omitted.
    #[arg(long, requires = "funding_need")]
    pub funding_baseline: Option<PathBuf>,
}

impl FundingArgs {
    pub fn scenario(&self) -> anyhow::Result<Option<Scenario>> {
        let Some(need) = &self.funding_need else {
            return Ok(None);
        };
        let formula = |path: &Option<PathBuf>, (name, builtin): (&str, &str)| -> anyhow::Result<Formula> {
            Ok(match path {
                Some(p) => {
                    let source = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
                    Formula::parse(&source, &p.display().to_string())?
                }
                None => Formula::parse(builtin, name)?,
            })
        };
        Ok(Some(Scenario {
            formula: formula(&self.funding_formula, iip_funding::INTEGRATION_FORMULA)?,
            baseline: Some(formula(&self.funding_baseline, iip_funding::BASELINE_FORMULA)?),
            need: NeedTable::load(need)?,
            members: self.funding_members.as_deref().map(MemberTable::load).transpose()?,
        }))
    }
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    init_tracing("info");
    let framework = load_framework(&args.store)?;
    let funding = args.funding.scenario()?;
    with_store!(&args.store, |store| {
        if super::master_key(&args.store)?.is_none() {
            if store.holds_data_keys().await? {
                anyhow::bail!(
                    "this store's identities are encrypted: give its master key (--key-file or IIP_MASTER_KEY)"
                );
            }
            super::warn_if_clear(&args.store);
        }
        serve(
            store,
            framework,
            args.addr,
            args.year.as_deref(),
            funding,
            args.referral_flag_days,
        )
        .await
    })
}

pub async fn serve<S: Store>(
    store: S,
    framework: std::sync::Arc<iip_framework::Framework>,
    addr: SocketAddr,
    year: Option<&str>,
    funding: Option<Scenario>,
    referral_flag_days: u32,
) -> anyhow::Result<ExitCode> {
    let default_year = match year {
        Some(raw) => ProgramYear::parse(raw).context("--year")?,
        None => ProgramYear::containing(store.latest_activity_date().await?.unwrap_or_else(Date::today)),
    };
    // Cookies are marked Secure unless the server only listens on loopback (plain-HTTP
    // development and the demo); behind a TLS proxy, serve on loopback and set IIP_SECURE_COOKIES=1.
    let secure_cookies = !addr.ip().is_loopback() || std::env::var("IIP_SECURE_COOKIES").is_ok_and(|v| v == "1");
    let mut state = AppState::new(store.clone(), framework, default_year)?
        .with_auth(iip_web::auth::AuthConfig {
            secure_cookies,
            // Behind a TLS proxy that appends the client's address: IIP_TRUSTED_PROXY=1.
            trust_forwarded_for: std::env::var("IIP_TRUSTED_PROXY").is_ok_and(|v| v == "1"),
            ..Default::default()
        })
        .with_referral_flag_days(referral_flag_days);
    if let Some(scenario) = funding {
        state = state.with_funding(scenario);
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    println!("IIP is serving on http://{local}/  (program year {default_year}; Ctrl-C stops)");
    tracing::info!(%local, "listening");
    iip_web::serve(listener, state, shutdown_signal()).await?;
    // Every write acknowledged has committed; closing checkpoints SQLite's WAL into the file.
    store.close().await;
    // Not println!: a closed stdout (a supervisor that stopped reading) must not panic here.
    let _ = writeln!(
        std::io::stdout(),
        "IIP stopped: requests in flight finished, store closed"
    );
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM (what systemd, Docker and Kubernetes send): stop accepting, let the
/// requests in flight finish, then return.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing the requests in flight");
}
