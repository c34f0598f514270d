use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use iip_generate::{GeneratorConfig, generate};

#[derive(clap::Args)]
pub struct Args {
    /// How many people to generate (about 10% are also served by a second agency).
    #[arg(long, default_value_t = 5000)]
    pub participants: u64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output directory (created if missing; files in it are overwritten).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let counts = generate(
        GeneratorConfig {
            people: args.participants,
            seed: args.seed,
        },
        &args.out,
    )
    .with_context(|| format!("cannot write the package to {}", args.out.display()))?;
    eprintln!(
        "wrote {}: {} organizations, {} participant records, {} activities, {} milestones, {} assessments",
        args.out.display(),
        counts.organizations,
        counts.participants,
        counts.activities,
        counts.milestones,
        counts.assessments
    );
    Ok(ExitCode::SUCCESS)
}
