//! `iip`: the one binary. Each subcommand lives in its own module under `commands/`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;

// The server allocates a little for every request on two threads at once; glibc's allocator
// spent a quarter of the server's time in `perf` under load (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "iip",
    version,
    about = "Immigrant Integration Pathway: import partner data, measure integration, serve dashboards"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options shared by every command that opens the store.
#[derive(clap::Args, Clone)]
pub struct StoreArgs {
    /// SQLite database file (created if missing), or a PostgreSQL URL (postgres://user@host/db).
    #[arg(long, env = "IIP_DB", default_value = "iip.db")]
    pub db: PathBuf,
    /// Framework file; the built-in framework/iip.toml when omitted.
    #[arg(long, env = "IIP_FRAMEWORK")]
    pub framework: Option<PathBuf>,
    /// The master key file (64 hex characters; `iip keys init` makes one). IIP_MASTER_KEY
    /// may hold the key itself. Without a key, identities are kept in the clear.
    #[arg(long, env = "IIP_KEY_FILE")]
    pub key_file: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Import an exchange-format package (a directory of CSV files).
    Import(commands::import::Args),
    /// Write a realistic synthetic package.
    Generate(commands::generate::Args),
    /// Print metrics for a program year: every scope, optionally broken down.
    Report(commands::report::Args),
    /// Serve the web application.
    Serve(commands::serve::Args),
    /// Generate a demo package, import it into a fresh database and serve it.
    Demo(commands::demo::Args),
    /// Funding-formula simulator: allocations by a formula next to a baseline.
    #[command(subcommand)]
    Funding(commands::funding::Command),
    /// The service directory (HSDS 3) and community figures.
    #[command(subcommand)]
    Directory(commands::directory::Command),
    /// Accounts: add, list, disable.
    #[command(subcommand)]
    User(commands::user::Command),
    /// At a partner: replace names and birth dates by keyed encodings for linkage.
    Encode(commands::linkage::EncodeArgs),
    /// At the hub: link encoded packages and write a person_key per person.
    Link(commands::linkage::LinkArgs),
    /// A consistent copy of the SQLite store while it is in use.
    Backup(commands::backup::BackupArgs),
    /// Restore a backup into a new store file (never over an existing one).
    Restore(commands::backup::RestoreArgs),
    /// Check a store: its integrity (SQLite integrity_check, PostgreSQL amcheck) and the audit chain.
    Check(StoreArgs),
    /// Bring a store's schema up to this version (start-up does it too) and list the migrations.
    Migrate(StoreArgs),
    /// Keys for identities encrypted at rest: create the master key, seal a store.
    #[command(subcommand)]
    Keys(commands::keys::Command),
    /// Make a participant's or an organization's identifying data unrecoverable.
    #[command(subcommand)]
    Forget(commands::forget::Command),
    /// The audit log of identifying data: verify the hash chain, list entries.
    #[command(subcommand)]
    Audit(commands::audit::Command),
    /// API tokens for integrations: create, revoke.
    #[command(subcommand)]
    Token(commands::token::Command),
    /// Time the metrics engine on a store (see docs/benchmarks.md).
    #[command(hide = true)]
    BenchEngine(commands::bench_engine::Args),
    /// The metrics snapshot's memory at a simulated size (see docs/scaling.md).
    #[command(hide = true)]
    BenchFootprint(commands::bench_footprint::Args),
    /// Time the linkage matcher on generated encodings (see docs/benchmarks.md).
    #[command(hide = true)]
    BenchLinkage(commands::bench_linkage::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Import(args) => commands::import::run(args).await,
            Command::Generate(args) => commands::generate::run(args),
            Command::Report(args) => commands::report::run(args).await,
            Command::Serve(args) => commands::serve::run(args).await,
            Command::Demo(args) => commands::demo::run(args).await,
            Command::BenchEngine(args) => commands::bench_engine::run(args).await,
            Command::BenchFootprint(args) => commands::bench_footprint::run(args).await,
            Command::BenchLinkage(args) => commands::bench_linkage::run(args),
            Command::Funding(command) => commands::funding::run(command).await,
            Command::User(command) => commands::user::run(command).await,
            Command::Directory(command) => commands::directory::run(command).await,
            Command::Token(command) => commands::token::run(command).await,
            Command::Audit(command) => commands::audit::run(command).await,
            Command::Keys(command) => commands::keys::run(command).await,
            Command::Backup(args) => commands::backup::backup(args).await,
            Command::Restore(args) => commands::backup::restore(args).await,
            Command::Migrate(args) => commands::migrate::run(args).await,
            Command::Check(args) => commands::check::run(args).await,
            Command::Encode(args) => commands::linkage::encode(args),
            Command::Link(args) => commands::linkage::link(args),
            Command::Forget(command) => commands::forget::run(command).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
