use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use iip_domain::ProgramYear;
use iip_metrics::{MetricRow, Report, core_report};
use iip_store::Store;

use super::{load_framework, open_store};
use crate::StoreArgs;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Program year, e.g. 2024-25 (July 1 to June 30).
    #[arg(long)]
    pub year: String,
    /// Report only this organization (with everything below it) as a scope.
    #[arg(long)]
    pub scope: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let year = ProgramYear::parse(&args.year).context("--year")?;
    let framework = load_framework(&args.store)?;
    let store = open_store(&args.store).await?;
    let facts = store.window_facts(year.first_day(), year.last_day()).await?;
    let report = core_report(&facts, &framework, year, args.scope.as_deref())?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Csv => write_csv(&mut out, &report)?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        Format::Table => writeln!(out, "{}", table(&report))?,
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn rate_text(row: &MetricRow) -> String {
    row.rate.map(|r| format!("{r:.4}")).unwrap_or_default()
}

fn count_text(count: Option<u64>) -> String {
    count.map(|n| n.to_string()).unwrap_or_default()
}

/// `scope_id,metric,numerator,denominator,rate,suppressed`; ids never need quoting.
pub fn write_csv(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    writeln!(out, "scope_id,metric,numerator,denominator,rate,suppressed")?;
    for row in &report.rows {
        writeln!(
            out,
            "{},{},{},{},{},{}",
            row.scope_id,
            row.metric,
            count_text(row.numerator),
            count_text(row.denominator),
            rate_text(row),
            row.suppressed
        )?;
    }
    Ok(())
}

fn table(report: &Report) -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["scope", "metric", "count", "of", "rate"]);
    for row in &report.rows {
        let shown = |value: String| if row.suppressed { "—".to_owned() } else { value };
        table.add_row([
            row.scope_id.clone(),
            row.metric.clone(),
            shown(count_text(row.numerator)),
            if row.denominator.is_none() && !row.suppressed {
                String::new()
            } else {
                shown(count_text(row.denominator))
            },
            row.rate
                .map(|r| format!("{:.1}%", r * 100.0))
                .unwrap_or_else(|| shown(String::new())),
        ]);
    }
    table
}
