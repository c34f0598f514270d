use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use iip_domain::{Date, ProgramYear};
use iip_funding::{Formula, MemberTable, NeedTable, Scenario};
use iip_generate::{GeneratorConfig, generate};
use iip_store::{AccountStore as _, Store};
use iip_store_sqlite::SqliteStore;

use super::{init_tracing, load_framework};
use crate::StoreArgs;

#[derive(clap::Args)]
pub struct Args {
    /// Working directory for the demo package and database (recreated on each run).
    #[arg(long, default_value = "iip-demo")]
    pub dir: PathBuf,
    #[arg(long, default_value_t = 5000)]
    pub participants: u64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[arg(long, env = "IIP_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Prepare the demo and exit without serving.
    #[arg(long)]
    pub no_serve: bool,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    init_tracing("info");
    let package = args.dir.join("package");
    let db = args.dir.join("iip.db");
    for stale in ["iip.db", "iip.db-wal", "iip.db-shm"] {
        let path = args.dir.join(stale);
        if path.exists() {
            std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    let counts = generate(
        GeneratorConfig {
            people: args.participants,
            seed: args.seed,
        },
        &package,
    )
    .with_context(|| format!("cannot write the demo package to {}", package.display()))?;
    println!(
        "generated {} people ({} participant records, {} activities) in {}",
        args.participants,
        counts.participants,
        counts.activities,
        package.display()
    );
    // Identities encrypted at rest from the start: a master key is made on the first run.
    let key_file = args.dir.join("master.key");
    let key = if key_file.exists() {
        super::master_key(&StoreArgs {
            db: db.clone(),
            framework: None,
            key_file: Some(key_file.clone()),
        })?
        .context("the demo key")?
    } else {
        let key = super::keys::create_key_file(&key_file)?;
        println!(
            "created the master key {} — identities are encrypted with it; BACK IT UP (for real data: apart from the database)",
            key_file.display()
        );
        key
    };
    let store_args = StoreArgs {
        db: db.clone(),
        framework: None,
        key_file: Some(key_file.clone()),
    };
    let framework = load_framework(&store_args)?;
    let store = SqliteStore::open_with_key(&db, Some(key)).await?;
    let summary = super::import::import(&store, &framework, &package, false, None).await?;
    if !summary.committed {
        bail!("the generated demo package did not import; this is a bug");
    }
    let stored = store.counts().await?;
    println!("imported into {} ({} participants)", db.display(), stored.participants);
    println!("try: iip report --db {} --year 2024-25 --format csv", db.display());
    let year = ProgramYear::containing(store.latest_activity_date().await?.unwrap_or_else(Date::today));
    demo_accounts(&store).await?;
    let case_worker = store
        .user_by_email("caseworker@demo.iip")
        .await?
        .context("the demo case worker")?
        .id;
    let region =
        super::demo_region::seed(&store, &framework, &args.dir, args.participants, args.seed, case_worker).await?;
    println!(
        "directory: {} services, {} community figures in {}, {} referrals in every state (see /directory, /referrals, /gaps)",
        region.services,
        region.community,
        args.dir.join("community.csv").display(),
        region.referrals
    );
    let funding = demo_funding(&store_args, &args.dir, year).await?;
    if args.no_serve {
        store.close().await;
        return Ok(ExitCode::SUCCESS);
    }
    super::serve::serve(store, framework, args.addr, None, Some(funding), 7).await
}

/// One account per role (and a second case worker at another organization), with random
/// passwords printed once, so a newcomer sees every view within a minute.
async fn demo_accounts(store: &SqliteStore) -> anyhow::Result<()> {
    const ACCOUNTS: &[(&str, &str, &str, &str)] = &[
        (
            "caseworker@demo.iip",
            "Ana Case Worker",
            "south-bay-adult-school",
            "case_worker",
        ),
        (
            "orgadmin@demo.iip",
            "Omar Org Admin",
            "south-bay-adult-school",
            "org_admin",
        ),
        (
            "caseworker2@demo.iip",
            "Bao Case Worker",
            "north-bay-adult-school",
            "case_worker",
        ),
        (
            "consortium@demo.iip",
            "Carmen Consortium Analyst",
            "south-bay",
            "consortium_analyst",
        ),
        ("state@demo.iip", "Sam State Analyst", "ca", "state_analyst"),
        ("admin@demo.iip", "Ada System Admin", "ca", "system_admin"),
    ];
    println!("demo accounts (sign in at /login; passwords are new on every run):");
    for (email, name, org, role) in ACCOUNTS {
        let account = super::user::Account { email, name, org, role };
        let password = super::user::add(store, &account, None)
            .await?
            .context("a generated password")?;
        println!("  {role:<19} {email:<22} {password}");
    }
    Ok(())
}

/// Plausible need and member tables for the demo region, written beside the database, and
/// the shipped baseline and integration formulas: the /funding page compares them.
async fn demo_funding(store: &StoreArgs, dir: &Path, year: ProgramYear) -> anyhow::Result<Scenario> {
    let (need, members) = super::funding::plausible_inputs(store, year, 7).await?;
    for (name, text) in [("need.csv", &need), ("members.csv", &members)] {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "funding simulator: {} and {} (see /funding)",
        dir.join("need.csv").display(),
        dir.join("members.csv").display()
    );
    let (baseline_name, baseline) = iip_funding::BASELINE_FORMULA;
    let (formula_name, formula) = iip_funding::INTEGRATION_FORMULA;
    Ok(Scenario {
        formula: Formula::parse(formula, formula_name)?,
        baseline: Some(Formula::parse(baseline, baseline_name)?),
        need: NeedTable::parse(&need, "need.csv")?,
        members: Some(MemberTable::parse(&members, "members.csv")?),
    })
}
