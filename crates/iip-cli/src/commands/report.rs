use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use iip_domain::ProgramYear;
use iip_framework::Framework;
use iip_metrics::{Dimension, MetricSet, Query, Report, output};

use super::{load_framework, with_store};
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
    /// Report only this scope: an organization (with everything below it), or a roll-up such
    /// as sector:education or level:county.
    #[arg(long)]
    pub scope: Option<String>,
    /// Metric definitions: a TOML file or a directory of them, or `all` for every built-in
    /// set. Default: the core metrics (metrics/core.toml).
    #[arg(long)]
    pub metrics: Option<String>,
    /// Only these metric ids (comma-separated), in this order; without --metrics they are
    /// looked up in every built-in set.
    #[arg(long, value_delimiter = ',')]
    pub metric: Vec<String>,
    /// Break down by up to two of: gender, age_group, race_ethnicity, primary_language,
    /// region_of_birth, years_in_us, program_area, sector (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub by: Vec<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

/// The metric set a `--metrics` value names.
pub fn metric_set(framework: &Framework, metrics: Option<&str>, only: &[String]) -> anyhow::Result<MetricSet> {
    let set = match metrics {
        None if only.is_empty() => MetricSet::core(framework)?,
        None => MetricSet::builtin(framework)?,
        Some("all") => MetricSet::builtin(framework)?,
        Some(path) => MetricSet::load(&PathBuf::from(path), framework)?,
    };
    if only.is_empty() {
        return Ok(set);
    }
    let ids: Vec<&str> = only.iter().map(String::as_str).collect();
    set.select(&ids).map_err(anyhow::Error::msg)
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let year = ProgramYear::parse(&args.year).context("--year")?;
    let by = args
        .by
        .iter()
        .map(|d| Dimension::parse(d))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)
        .context("--by")?;
    let framework = load_framework(&args.store)?;
    let set = metric_set(&framework, args.metrics.as_deref(), &args.metric)?;
    let snapshot = with_store!(&args.store, |store| {
        let snapshot = iip_web::load_snapshot(&store, &framework).await?;
        store.close().await;
        snapshot
    });
    let query = Query { year, by };
    let report = iip_metrics::report(&snapshot, &framework.version, &set, &query, args.scope.as_deref())?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Csv => output::write_csv(&mut out, &report)?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        Format::Table => writeln!(out, "{}", table(&report))?,
    }
    Ok(ExitCode::SUCCESS)
}

fn count_text(count: Option<u64>) -> String {
    count.map(|n| n.to_string()).unwrap_or_default()
}

fn table(report: &Report) -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    let mut header = vec!["scope".to_owned(), "metric".to_owned()];
    header.extend(report.by.iter().cloned());
    header.extend(["count", "of", "rate", "median days"].map(String::from));
    table.set_header(header);
    for row in &report.rows {
        let shown = |value: String| if row.suppressed { "—".to_owned() } else { value };
        let mut cells = vec![row.scope_id.clone(), row.metric.clone()];
        cells.extend(row.groups.0.iter().map(|(_, g)| g.clone()));
        cells.push(shown(count_text(row.numerator)));
        cells.push(if row.denominator.is_none() && !row.suppressed {
            String::new()
        } else {
            shown(count_text(row.denominator))
        });
        cells.push(
            row.rate
                .map(|r| format!("{:.1}%", r * 100.0))
                .unwrap_or_else(|| shown(String::new())),
        );
        cells.push(row.value.map(|v| format!("{v:.1}")).unwrap_or_default());
        table.add_row(cells);
    }
    table
}
