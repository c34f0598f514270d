//! `iip bench-linkage` (hidden): times our matcher on generated encodings and writes them for
//! anonlink to match the same (scripts/bench-linkage, docs/benchmarks.md).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use iip_linkage::{DEFAULT_THRESHOLD, Encoder, candidates, candidates_record_level, solve_greedy, synthetic};

#[derive(clap::Args)]
pub struct Args {
    /// Records on each side (half of them the same people).
    #[arg(long, default_value_t = 10_000)]
    pub people: usize,
    /// Record-level Dice threshold for the kernel comparison (anonlink's usual 0.8).
    #[arg(long, default_value_t = 0.8)]
    pub threshold: f64,
    /// Where to write left.hex, right.hex (one CLK per line) for anonlink.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let overlap = args.people / 2;
    let (left, right) = synthetic::world(args.seed, args.people, overlap);
    let encoder = Encoder::new(b"benchmark secret, never a real one").ok_or_else(|| anyhow::anyhow!("secret"))?;
    let started = Instant::now();
    let left: Vec<_> = left.iter().map(|p| encoder.encode(p)).collect();
    let right: Vec<_> = right.iter().map(|p| encoder.encode(p)).collect();
    let encode_s = started.elapsed().as_secs_f64();
    std::fs::create_dir_all(&args.out)?;
    for (name, clks) in [("left.hex", &left), ("right.hex", &right)] {
        let mut file = std::io::BufWriter::new(std::fs::File::create(args.out.join(name))?);
        for clk in clks {
            writeln!(file, "{}", clk.to_hex())?;
        }
    }
    let quality = |links: &[iip_linkage::Link]| {
        let true_links = links.iter().filter(|l| l.left == l.right && l.left < overlap).count();
        (
            true_links as f64 / links.len().max(1) as f64,
            true_links as f64 / overlap as f64,
        )
    };
    let comparisons = (args.people * args.people) as f64;
    let started = Instant::now();
    let found = candidates_record_level(&left, &right, args.threshold);
    let kernel_s = started.elapsed().as_secs_f64();
    let links = solve_greedy(&found, left.len(), right.len());
    let total_s = started.elapsed().as_secs_f64();
    let (precision, recall) = quality(&links);
    println!(
        "iip record-level: {} x {} at {}: {} candidates, kernel {kernel_s:.2} s ({:.1} M comparisons/s, 1 thread), with solving {total_s:.2} s, precision {precision:.4}, recall {recall:.4} (encoding {:.0} records/s)",
        args.people,
        args.people,
        args.threshold,
        found.len(),
        comparisons / kernel_s / 1e6,
        2.0 * args.people as f64 / encode_s
    );
    let started = Instant::now();
    let found = candidates(&left, &right, DEFAULT_THRESHOLD);
    let links = solve_greedy(&found, left.len(), right.len());
    let field_s = started.elapsed().as_secs_f64();
    let (precision, recall) = quality(&links);
    println!(
        "iip field-level (default): at {DEFAULT_THRESHOLD}: {} candidates, {field_s:.2} s ({:.1} M comparisons/s), precision {precision:.4}, recall {recall:.4}",
        found.len(),
        comparisons / field_s / 1e6
    );
    Ok(ExitCode::SUCCESS)
}
