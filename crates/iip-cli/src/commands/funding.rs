//! `iip funding`: the funding-formula simulator (docs/funding.md).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use iip_domain::{Level, ProgramYear};
use iip_funding::{Formula, IndicatorSource, Measure, NeedTable, Simulation, dollars, simulate};
use iip_metrics::{MetricSet, Query, Report};

use super::report::Format;
use super::{load_framework, open_store};
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
    let all = MetricSet::builtin(&framework)?;
    let ids: Vec<&str> = metrics.iter().map(String::as_str).collect();
    let set = all.select(&ids).map_err(anyhow::Error::msg)?;
    let store = open_store(store).await?;
    let snapshot = iip_web::load_snapshot(&store, &framework).await?;
    store.close().await;
    Ok(iip_metrics::report(
        &snapshot,
        &framework.version,
        &set,
        &Query { year, by: vec![] },
        None,
    )?)
}

/// One indicator's values for every unit; masked figures count as 0 and are named.
fn values(
    formula: &Formula,
    need: &NeedTable,
    report: &Report,
    masked: &mut BTreeSet<String>,
) -> anyhow::Result<Vec<Vec<f64>>> {
    let mut out = Vec::new();
    for indicator in &formula.indicators {
        let mut column = Vec::with_capacity(need.units.len());
        for unit in &need.units {
            let value = match &indicator.source {
                IndicatorSource::Need(name) => match unit.values.get(name) {
                    Some(v) => *v,
                    None => bail!("the need table has no column {name:?} (formula {})", formula.name),
                },
                IndicatorSource::Metric(id, measure) => {
                    let Some(row) = report.get(&unit.id, id) else {
                        bail!("unit {} is not a scope of the store", unit.id);
                    };
                    let participants = report.get(&unit.id, "participants").and_then(|r| r.numerator);
                    if row.suppressed || (*measure == Measure::PerParticipant && participants.is_none()) {
                        masked.insert(format!("{}:{id}", unit.id));
                    }
                    match measure {
                        Measure::Count => row.numerator.unwrap_or(0) as f64,
                        Measure::Rate => row.rate.unwrap_or(0.0),
                        Measure::PerParticipant => match (row.numerator, participants) {
                            (Some(n), Some(p)) if p > 0 => n as f64 / p as f64,
                            _ => 0.0,
                        },
                    }
                }
            };
            column.push(value);
        }
        out.push(column);
    }
    Ok(out)
}

async fn simulate_command(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    let year = ProgramYear::parse(&args.year).context("--year")?;
    let formula = load_formula(&args.formula)?;
    let baseline = args.baseline.as_ref().map(load_formula).transpose()?;
    let need = NeedTable::load(&args.need)?;
    let mut metrics: BTreeSet<String> = formula.metrics().into_iter().map(String::from).collect();
    if let Some(b) = &baseline {
        metrics.extend(b.metrics().into_iter().map(String::from));
    }
    metrics.insert("participants".into());
    let report = published(&args.store, year, &metrics).await?;
    let mut masked = BTreeSet::new();
    let run = |f: &Formula, masked: &mut BTreeSet<String>| -> anyhow::Result<Simulation> {
        let values = values(f, &need, &report, masked)?;
        Ok(simulate(f, &need.units, &values)?)
    };
    let main = run(&formula, &mut masked)?;
    let base = baseline.as_ref().map(|b| run(b, &mut masked)).transpose()?;
    let rows = compare(&main, base.as_ref(), &masked);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(
                &mut out,
                &serde_json::json!({ "year": year.to_string(), "formula": main.formula, "baseline": base.as_ref().map(|b| b.formula.clone()), "budget_cents": main.budget, "units": rows }),
            )?;
            writeln!(out)?;
        }
        Format::Csv => {
            writeln!(
                out,
                "unit_id,prior_year,baseline,allocation,change_vs_prior,change_vs_baseline,driver,limit,masked_inputs"
            )?;
            for r in &rows {
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{}",
                    r.unit,
                    dollars(r.prior),
                    r.baseline.map(dollars).unwrap_or_default(),
                    dollars(r.allocation),
                    dollars(r.allocation - r.prior),
                    r.baseline.map(|b| dollars(r.allocation - b)).unwrap_or_default(),
                    r.driver,
                    r.limit,
                    r.masked_inputs
                )?;
            }
        }
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
            for r in &rows {
                table.add_row([
                    r.unit.clone(),
                    dollars(r.prior),
                    r.baseline.map(dollars).unwrap_or_default(),
                    dollars(r.allocation),
                    dollars(r.allocation - r.prior),
                    r.baseline.map(|b| dollars(r.allocation - b)).unwrap_or_default(),
                    r.driver.clone(),
                    r.limit.clone(),
                ]);
            }
            writeln!(out, "{}: budget {}\n{table}", main.formula, dollars(main.budget))?;
            if !masked.is_empty() {
                writeln!(out, "suppressed figures counted as 0: {}", masked.len())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(serde::Serialize)]
struct Compared {
    unit: String,
    prior: i64,
    baseline: Option<i64>,
    allocation: i64,
    /// The part (base or indicator) whose money changed most against the baseline.
    driver: String,
    limit: String,
    masked_inputs: usize,
}

fn compare(main: &Simulation, base: Option<&Simulation>, masked: &BTreeSet<String>) -> Vec<Compared> {
    main.lines
        .iter()
        .enumerate()
        .map(|(u, line)| {
            let before = base.map(|b| &b.lines[u]);
            let labels: BTreeSet<&String> = line
                .parts
                .iter()
                .map(|(l, _)| l)
                .chain(before.into_iter().flat_map(|b| b.parts.iter().map(|(l, _)| l)))
                .collect();
            let part = |lines: Option<&iip_funding::Line>, label: &str| {
                lines
                    .and_then(|l| l.parts.iter().find(|(x, _)| x == label))
                    .map_or(0.0, |(_, v)| *v)
            };
            let driver = labels
                .into_iter()
                .map(|l| (l, part(Some(line), l) - part(before, l)))
                .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
                .filter(|(_, d)| d.abs() >= 1.0)
                .map(|(l, d)| {
                    format!(
                        "{l} {}{}",
                        if d >= 0.0 { "+" } else { "-" },
                        dollars(d.abs().round() as i64)
                    )
                })
                .unwrap_or_default();
            Compared {
                unit: line.unit.clone(),
                prior: line.prior,
                baseline: before.map(|b| b.allocation),
                allocation: line.allocation,
                driver,
                limit: if line.at_floor {
                    "floor"
                } else if line.at_cap {
                    "cap"
                } else {
                    ""
                }
                .to_owned(),
                masked_inputs: masked
                    .iter()
                    .filter(|m| m.split(':').next() == Some(line.unit.as_str()))
                    .count(),
            }
        })
        .collect()
}

async fn need_command(args: NeedArgs) -> anyhow::Result<ExitCode> {
    let year = ProgramYear::parse(&args.year).context("--year")?;
    let store = open_store(&args.store).await?;
    use iip_store::Store;
    let orgs = store.organizations().await?;
    store.close().await;
    let units: Vec<String> = orgs
        .iter()
        .filter(|o| o.level == Level::Region)
        .map(|o| o.org_id.clone())
        .collect();
    if units.is_empty() {
        bail!("the store has no organizations at level region (consortia)");
    }
    let metrics = BTreeSet::from(["adults_served".to_owned()]);
    let report = published(&args.store, year, &metrics).await?;
    let mut state = args.seed;
    let mut noise = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        0.75 + ((state >> 33) % 1000) as f64 / 2000.0
    };
    let mut out = std::fs::File::create(&args.out).with_context(|| format!("cannot write {}", args.out.display()))?;
    writeln!(
        out,
        "unit_id,prior_year,adult_population,unemployed,immigrants,no_diploma,limited_english"
    )?;
    for unit in units {
        // Plausible census-style figures scaled by the consortium's published size (a
        // masked size counts as a small consortium): never derived from hidden counts.
        let served = report
            .get(&unit, "adults_served")
            .and_then(|r| r.numerator)
            .unwrap_or(10)
            .max(10) as f64;
        let adults = (served * 40.0 * noise()).round();
        writeln!(
            out,
            "{unit},{:.2},{},{},{},{},{}",
            served * 1450.0 * noise(),
            adults,
            (adults * 0.06 * noise()).round(),
            (adults * 0.27 * noise()).round(),
            (adults * 0.16 * noise()).round(),
            (adults * 0.09 * noise()).round(),
        )?;
    }
    eprintln!("wrote {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}
