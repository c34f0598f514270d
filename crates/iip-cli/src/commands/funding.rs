//! `iip funding`: the funding-formula simulator (docs/funding.md).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use iip_domain::{Level, ProgramYear};
use iip_funding::{Formula, MemberTable, NeedTable, Scenario, dollars};
use iip_metrics::Report;
use iip_web::funding::ReportFigures;

use super::report::Format;
use super::{load_framework, with_store};
use crate::StoreArgs;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Allocate a budget by a formula, next to a baseline formula.
    Simulate(SimulateArgs),
    /// Write a plausible need table (census-style figures) for the store's consortia.
    Need(NeedArgs),
}

#[derive(clap::Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long)]
    pub formula: PathBuf,
    /// The formula to compare with (for example funding/baseline.toml).
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// CSV: unit_id, prior_year (dollars) and the need columns the formulas name.
    #[arg(long)]
    pub need: PathBuf,
    /// CSV: member_id, unit_id, prior_year — for formulas with a [members] rule.
    #[arg(long)]
    pub members: Option<PathBuf>,
    #[arg(long)]
    pub year: String,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(clap::Args)]
pub struct NeedArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long)]
    pub year: String,
    #[arg(long)]
    pub out: PathBuf,
    /// Also write a member table (each consortium's prior-year amount shared among its members).
    #[arg(long)]
    pub members_out: Option<PathBuf>,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Simulate(args) => simulate_command(args).await,
        Command::Need(args) => need_command(args).await,
    }
}

fn load_formula(path: &PathBuf) -> anyhow::Result<Formula> {
    let source = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Formula::parse(&source, &path.display().to_string())?)
}

/// The published report the formulas read: only shown figures ever enter an allocation.
async fn published(store: &StoreArgs, year: ProgramYear, metrics: &BTreeSet<String>) -> anyhow::Result<Report> {
    let framework = load_framework(store)?;
    let snapshot = with_store!(store, |store| {
        let snapshot = iip_web::load_snapshot(&store, &framework).await?;
        store.close().await;
        snapshot
    });
    Ok(iip_web::funding::published_report(
        &snapshot, &framework, year, metrics,
    )?)
}

async fn simulate_command(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    let year = ProgramYear::parse(&args.year).context("--year")?;
    let scenario = Scenario {
        formula: load_formula(&args.formula)?,
        baseline: args.baseline.as_ref().map(load_formula).transpose()?,
        need: NeedTable::load(&args.need)?,
        members: args.members.as_deref().map(MemberTable::load).transpose()?,
    };
    let report = published(&args.store, year, &iip_web::funding::metrics_read(&scenario)).await?;
    let outcome = iip_funding::run(&scenario, &ReportFigures(&report))?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(
                &mut out,
                &serde_json::json!({ "year": year.to_string(), "outcome": outcome }),
            )?;
            writeln!(out)?;
        }
        Format::Csv => outcome.write_csv(&mut out)?,
        Format::Table => {
            let mut table = comfy_table::Table::new();
            table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
            table.set_header([
                "unit",
                "prior year",
                "baseline",
                "allocation",
                "vs prior",
                "vs baseline",
                "driver",
                "limit",
            ]);
            let money = |c: Option<i64>| c.map(dollars).unwrap_or_default();
            for u in &outcome.units {
                table.add_row([
                    u.unit.clone(),
                    dollars(u.prior),
                    money(u.baseline),
                    dollars(u.allocation),
                    dollars(u.change_vs_prior),
                    money(u.change_vs_baseline),
                    u.driver.clone(),
                    u.limit.clone(),
                ]);
                for m in &u.members {
                    table.add_row([
                        format!("  {}", m.member),
                        dollars(m.prior),
                        money(m.baseline),
                        dollars(m.allocation),
                        dollars(m.allocation - m.prior),
                        money(m.baseline.map(|b| m.allocation - b)),
                        String::new(),
                        m.limit.clone(),
                    ]);
                }
            }
            writeln!(
                out,
                "{}: budget {}\n{table}",
                outcome.formula,
                dollars(outcome.budget_cents)
            )?;
            if outcome.masked_inputs > 0 {
                writeln!(out, "suppressed figures counted as 0: {}", outcome.masked_inputs)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn need_command(args: NeedArgs) -> anyhow::Result<ExitCode> {
    let year = ProgramYear::parse(&args.year).context("--year")?;
    let (need, members) = plausible_inputs(&args.store, year, args.seed).await?;
    std::fs::write(&args.out, need).with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!("wrote {}", args.out.display());
    if let Some(path) = &args.members_out {
        std::fs::write(path, members).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Plausible need and member tables (CSV text) for the store's consortia (organizations at
/// level region) and their members, scaled by published sizes only.
pub async fn plausible_inputs(store: &StoreArgs, year: ProgramYear, seed: u64) -> anyhow::Result<(String, String)> {
    let orgs = with_store!(store, |opened| {
        let orgs = opened.organizations().await?;
        opened.close().await;
        orgs
    });
    let report = published(store, year, &BTreeSet::from(["adults_served".to_owned()])).await?;
    let served = |id: &str| report.get(id, "adults_served").and_then(|r| r.numerator);
    let units: Vec<iip_funding::plausible::Sized> = orgs
        .iter()
        .filter(|o| o.level == Level::Region)
        .map(|o| iip_funding::plausible::Sized {
            id: o.org_id.clone(),
            served: served(&o.org_id),
            members: orgs
                .iter()
                .filter(|m| m.parent_id.as_deref() == Some(o.org_id.as_str()))
                .map(|m| (m.org_id.clone(), served(&m.org_id)))
                .collect(),
        })
        .collect();
    if units.is_empty() {
        bail!("the store has no organizations at level region (consortia)");
    }
    Ok(iip_funding::plausible::need_and_members(&units, seed))
}
