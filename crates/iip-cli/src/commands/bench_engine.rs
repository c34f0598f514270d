//! `iip bench-engine`: times the metrics engine on a store (see docs/benchmarks.md and
//! scripts/bench-metrics). Figures go to stdout; nothing here runs in the tests' timing.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use iip_domain::Program;
use iip_domain::ProgramYear;
use iip_domain::facts::{ActivityFact, FactSink, MilestoneFact};
use iip_metrics::{Dimension, MetricSet, Query, Snapshot};
use iip_store::Store;

use super::{load_framework, open_sqlite};
use crate::StoreArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long, default_value = "2024-25")]
    pub year: String,
    /// How many times each query runs; the best and the median are printed.
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
    /// Time (a) only, for profiling.
    #[arg(long)]
    pub only_core: bool,
}

fn timed<T>(repeat: usize, mut run: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut times = Vec::with_capacity(repeat);
    let mut last = None;
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        last = Some(run());
        times.push(start.elapsed());
    }
    times.sort();
    let result = last.expect("ran at least once");
    (times[0], times[times.len() / 2], result)
}

pub fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l[6..].trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let year = ProgramYear::parse(&args.year).context("--year")?;
    let framework = load_framework(&args.store)?;
    let core = MetricSet::core(&framework)?;
    let store = open_sqlite(&args.store, "bench-engine").await?;
    let start = Instant::now();
    let mut snapshot: Snapshot = iip_web::load_snapshot(&store, &framework).await?;
    store.close().await;
    println!(
        "snapshot: {} persons, {} records, {} activities, built from the store in {:.2} s",
        snapshot.persons(),
        snapshot.records(),
        snapshot.activities(),
        start.elapsed().as_secs_f64()
    );
    let start = Instant::now();
    let _ = iip_metrics::report(&snapshot, &framework.version, &core, &Query { year, by: vec![] }, None)?;
    println!(
        "(a, cold) first core-suite query, every scope (materializes the year's totals, scope lists and sets): {:.3} s",
        start.elapsed().as_secs_f64()
    );

    let plain = Query { year, by: vec![] };
    let (best, median, report) = timed(args.repeat, || {
        iip_metrics::report(&snapshot, &framework.version, &core, &plain, None)
    });
    let report = report?;
    let scopes = report
        .rows
        .iter()
        .map(|r| r.scope_id.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    println!(
        "(a) core suite, every scope, on the maintained snapshot ({scopes} scopes, {} rows): best {:.4} s, median {:.4} s",
        report.rows.len(),
        best.as_secs_f64(),
        median.as_secs_f64()
    );
    if args.only_core {
        return Ok(ExitCode::SUCCESS);
    }
    let two = Query {
        year,
        by: vec![Dimension::Gender, Dimension::AgeGroup],
    };
    let (best, median, report) = timed(args.repeat, || {
        iip_metrics::report(&snapshot, &framework.version, &core, &two, None)
    });
    println!(
        "(b) core suite by gender x age_group ({} rows): best {:.3} s, median {:.3} s",
        report?.rows.len(),
        best.as_secs_f64(),
        median.as_secs_f64()
    );

    // An incremental update: one more milestone for the first record, applied to the live
    // snapshot, then the civic figure of every scope recomputed from it.
    let civic = core.select(&["element.civic"]).map_err(anyhow::Error::msg)?;
    let day = year.first_day().day_number() + 30;
    let start = Instant::now();
    snapshot.milestone(MilestoneFact {
        participant_row: 1,
        day,
        milestone: "civic.voter_registered".into(),
    });
    let applied = start.elapsed();
    let report = iip_metrics::report(&snapshot, &framework.version, &civic, &plain, None)?;
    let total = start.elapsed();
    println!(
        "incremental: apply one milestone {:.3} ms; with the metric recomputed for every scope {:.1} ms ({} rows)",
        applied.as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3,
        report.rows.len()
    );
    // An activity for the same record: its scopes' lists change in place and their evaluated
    // sets are dropped, so the next full core suite recomputes those scopes only.
    let start = Instant::now();
    snapshot.activity(ActivityFact {
        participant_row: 1,
        day,
        program: Program::Esl,
        hundredths: 300,
    });
    let applied = start.elapsed();
    let report = iip_metrics::report(&snapshot, &framework.version, &core, &plain, None)?;
    let total = start.elapsed();
    println!(
        "incremental: apply one activity {:.3} ms; with the whole core suite recomputed for every scope {:.1} ms ({} rows)",
        applied.as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3,
        report.rows.len()
    );
    println!("peak memory (VmHWM): {}", peak_rss());
    Ok(ExitCode::SUCCESS)
}
