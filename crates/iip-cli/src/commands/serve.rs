use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use iip_domain::{Date, ProgramYear};
use iip_store::Store;
use iip_web::AppState;

use super::{init_tracing, load_framework, open_store};
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
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    init_tracing("info");
    let framework = load_framework(&args.store)?;
    let store = open_store(&args.store).await?;
    serve(store, framework, args.addr, args.year.as_deref()).await
}

pub async fn serve(
    store: iip_store_sqlite::SqliteStore,
    framework: std::sync::Arc<iip_framework::Framework>,
    addr: SocketAddr,
    year: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let default_year = match year {
        Some(raw) => ProgramYear::parse(raw).context("--year")?,
        None => ProgramYear::containing(store.latest_activity_date().await?.unwrap_or_else(Date::today)),
    };
    let state = AppState::new(store.clone(), framework, default_year)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    println!("IIP is serving on http://{local}/  (program year {default_year}; Ctrl-C stops)");
    tracing::info!(%local, "listening");
    iip_web::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
