//! `iip bench-footprint`: the analytics memory footprint at a size no store here can hold
//! (docs/scaling.md). Synthetic facts in the mix of the generated demo region (per person:
//! 1.08 records, 17 activity sessions over three program years, a milestone, 0.6 scores)
//! are fed straight into the metrics engine's snapshot, the same `FactSink` a store's scan
//! fills, without a store; then one core query runs. Prints the peak memory and the bytes
//! per person, to extrapolate from measured sizes to a national one.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use iip_domain::facts::{ActivityFact, AssessmentFact, FactSink, MilestoneFact, OrgNode, ParticipantFact};
use iip_domain::{Date, Gender, Level, Program, ProgramYear, RaceEthnicity, Sector};
use iip_generate::rng::Rng;
use iip_metrics::{MetricSet, Query, Snapshot};

use super::bench_engine::peak_rss;

#[derive(clap::Args)]
pub struct Args {
    /// People to simulate.
    #[arg(long, default_value_t = 1_000_000)]
    pub persons: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

const REGIONS: usize = 70;
const MEMBERS_PER_REGION: usize = 12;
const LANGUAGES: &[&str] = &["es", "vi", "zh", "tl", "ar", "ko", "ru", "fa", "hy", "pt", "so", "en"];

fn org_nodes() -> Vec<OrgNode> {
    let node = |id: String, level: Level, parent: Option<String>| OrgNode {
        name: id.clone(),
        org_id: id,
        sector: Sector::Education,
        level,
        parent_id: parent,
    };
    let mut orgs = vec![node("us".into(), Level::Federal, None)];
    for r in 0..REGIONS {
        orgs.push(node(format!("r{r}"), Level::Region, Some("us".into())));
        for m in 0..MEMBERS_PER_REGION {
            orgs.push(node(format!("r{r}m{m}"), Level::Local, Some(format!("r{r}"))));
        }
    }
    orgs
}

/// Each record's facts come from its own seed, so the two passes (records first, then their
/// activities, milestones and scores, as a store streams them) agree.
fn record_rng(seed: u64, row: i64) -> Rng {
    Rng::new(seed ^ (row as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let framework = iip_framework::Framework::builtin()?;
    let milestones: Vec<String> = framework
        .elements
        .iter()
        .flat_map(|e| e.milestones.iter().map(|m| m.id.clone()))
        .collect();
    let first_day = Date::from_ymd(2022, 7, 1).context("date")?.day_number();
    let start = Instant::now();
    let mut snapshot = Snapshot::new(&framework);
    for org in org_nodes() {
        snapshot.organization(org);
    }
    // Records: 8 % of people are served by a second member, linked by person_key.
    let mut rng = Rng::new(args.seed);
    let mut rows: Vec<(i64, u64)> = Vec::with_capacity((args.persons as f64 * 1.08) as usize);
    let mut row = 0i64;
    for person in 0..args.persons {
        let records = if rng.chance(8) { 2 } else { 1 };
        let region = rng.below(REGIONS as u64);
        for _ in 0..records {
            row += 1;
            let mut r = record_rng(args.seed, row);
            snapshot.participant(ParticipantFact {
                row,
                org_id: format!("r{region}m{}", r.below(MEMBERS_PER_REGION as u64)),
                participant_id: format!("p{row}"),
                person_key: (records == 2).then(|| format!("k{person}")),
                gender: Some(Gender::ALL[r.below(Gender::ALL.len() as u64) as usize]),
                race_ethnicity: Some(RaceEthnicity::ALL[r.below(RaceEthnicity::ALL.len() as u64) as usize]),
                country_of_birth: None,
                primary_language: Some(LANGUAGES[r.below(LANGUAGES.len() as u64) as usize].to_owned()),
                us_arrival_year: Some(1990 + r.below(35) as i32),
                birth_year: Some(1950 + r.below(55) as i32),
                barriers: Vec::new(),
            });
            rows.push((row, person));
        }
    }
    let (mut activities, mut milestone_count, mut scores) = (0u64, 0u64, 0u64);
    for &(row, _) in &rows {
        let mut r = record_rng(args.seed, row);
        let sessions = r.below(31) as i32;
        let mut day = first_day + r.below(700) as i32;
        for _ in 0..sessions {
            day += 1 + r.below(4) as i32;
            snapshot.activity(ActivityFact {
                participant_row: row,
                day,
                program: Program::ALL[r.below(Program::ALL.len() as u64) as usize],
                hundredths: 100 + 50 * r.below(6) as u32,
            });
            activities += 1;
        }
        for _ in 0..r.below(3) {
            snapshot.milestone(MilestoneFact {
                participant_row: row,
                day: first_day + r.below(1000) as i32,
                milestone: milestones[r.below(milestones.len() as u64) as usize].clone(),
            });
            milestone_count += 1;
        }
        if r.chance(60) {
            snapshot.assessment(AssessmentFact {
                participant_row: row,
                day: first_day + r.below(1000) as i32,
                instrument: "casas_reading".into(),
                score: 180.0 + r.below(60) as f64,
            });
            scores += 1;
        }
    }
    drop(rows);
    let built = start.elapsed();
    let core = MetricSet::core(&framework)?;
    let year = ProgramYear::parse("2023-24").context("year")?;
    let query_start = Instant::now();
    let report = iip_metrics::report(&snapshot, &framework.version, &core, &Query { year, by: vec![] }, None)?;
    let queried = query_start.elapsed();
    let peak = peak_rss();
    let kib: f64 = peak.trim_end_matches(" kB").trim().parse().unwrap_or(0.0);
    println!(
        "{} persons, {} records, {activities} activities, {milestone_count} milestones, {scores} scores",
        snapshot.persons(),
        snapshot.records()
    );
    println!(
        "snapshot built in {:.1} s; core suite over {} rows in {:.2} s; peak memory (VmHWM) {peak}; {:.0} bytes per person",
        built.as_secs_f64(),
        report.rows.len(),
        queried.as_secs_f64(),
        kib * 1024.0 / args.persons.max(1) as f64
    );
    Ok(ExitCode::SUCCESS)
}
