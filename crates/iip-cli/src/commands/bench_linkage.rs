//! `iip bench-linkage` (hidden): times our matcher on generated encodings and writes them for
//! anonlink to match the same (scripts/bench-linkage, docs/benchmarks.md).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use iip_linkage::{
    DEFAULT_FLIP_PROBABILITY, DEFAULT_THRESHOLD, Encoder, KernelStats, Link, candidates_all_pairs, candidates_counted,
    candidates_record_level_all_pairs, candidates_record_level_counted, solve_greedy, synthetic,
};

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
    /// Write the record-level candidates and links to PREFIX-candidates.txt and
    /// PREFIX-links.txt (`left right score`, best first), to compare with other builds and
    /// with anonlink.
    #[arg(long, value_name = "PREFIX")]
    pub write_pairs: Option<PathBuf>,
    /// Also run the plain all-pairs kernels and fail unless they find exactly the same
    /// candidates (slow: N × M comparisons one by one, twice).
    #[arg(long)]
    pub check_all_pairs: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let overlap = args.people / 2;
    let (left, right) = synthetic::world(args.seed, args.people, overlap);
    // The default bit flips, seeded so that every build and run encodes the same bits.
    let encoder = Encoder::new(b"benchmark secret, never a real one")
        .ok_or_else(|| anyhow::anyhow!("secret"))?
        .with_seeded_bit_flips(DEFAULT_FLIP_PROBABILITY, [7; 32]);
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
    let quality = |links: &[Link]| {
        let true_links = links.iter().filter(|l| l.left == l.right && l.left < overlap).count();
        (
            true_links as f64 / links.len().max(1) as f64,
            true_links as f64 / overlap as f64,
        )
    };
    let started = Instant::now();
    let (found, stats) = candidates_record_level_counted(&left, &right, args.threshold);
    let kernel_s = started.elapsed().as_secs_f64();
    let links = solve_greedy(&found, left.len(), right.len());
    let total_s = started.elapsed().as_secs_f64();
    let (precision, recall) = quality(&links);
    println!(
        "iip record-level: {} x {} at {}: {} candidates, kernel {kernel_s:.2} s (1 thread): {}, with solving {total_s:.2} s, precision {precision:.4}, recall {recall:.4} (encoding {:.0} records/s)",
        args.people,
        args.people,
        args.threshold,
        found.len(),
        rates(&stats, kernel_s),
        2.0 * args.people as f64 / encode_s
    );
    if let Some(prefix) = &args.write_pairs {
        write_pairs(prefix, "candidates", &found)?;
        write_pairs(prefix, "links", &links)?;
    }
    if args.check_all_pairs {
        let started = Instant::now();
        let plain = candidates_record_level_all_pairs(&left, &right, args.threshold);
        let plain_s = started.elapsed().as_secs_f64();
        anyhow::ensure!(
            plain == found,
            "record level: the all-pairs kernel finds other candidates"
        );
        println!(
            "  all-pairs record-level kernel: the same {} candidates, {plain_s:.2} s ({:.1} M comparisons/s)",
            plain.len(),
            stats.pairs as f64 / plain_s / 1e6
        );
    }
    let started = Instant::now();
    let (found, stats) = candidates_counted(&left, &right, DEFAULT_THRESHOLD);
    let field_kernel_s = started.elapsed().as_secs_f64();
    let links = solve_greedy(&found, left.len(), right.len());
    let field_s = started.elapsed().as_secs_f64();
    let (precision, recall) = quality(&links);
    println!(
        "iip field-level (default): at {DEFAULT_THRESHOLD}: {} candidates, kernel {field_kernel_s:.2} s: {}, with solving {field_s:.2} s, precision {precision:.4}, recall {recall:.4}",
        found.len(),
        rates(&stats, field_kernel_s),
    );
    if args.check_all_pairs {
        let started = Instant::now();
        let plain = candidates_all_pairs(&left, &right, DEFAULT_THRESHOLD);
        let plain_s = started.elapsed().as_secs_f64();
        anyhow::ensure!(
            plain == found,
            "field level: the all-pairs kernel finds other candidates"
        );
        println!(
            "  all-pairs field-level kernel: the same {} candidates, {plain_s:.2} s ({:.1} M comparisons/s)",
            plain.len(),
            stats.pairs as f64 / plain_s / 1e6
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Pairs considered per second (N × M over the kernel's time: the like-for-like figure with
/// anonlink, which compares every pair), and what the kernel actually compared.
fn rates(stats: &KernelStats, seconds: f64) -> String {
    let share = |n: u64| 100.0 * n as f64 / stats.pairs.max(1) as f64;
    format!(
        "{:.1} M pairs considered/s; compared {:.1} % of the pairs ({:.1} M comparisons/s; the others skipped by popcount), {:.1} % to the last word (the others left after the first words)",
        stats.pairs as f64 / seconds / 1e6,
        share(stats.compared),
        stats.compared as f64 / seconds / 1e6,
        share(stats.compared_whole),
    )
}

fn write_pairs(prefix: &Path, what: &str, links: &[Link]) -> anyhow::Result<()> {
    let mut name = prefix.as_os_str().to_owned();
    name.push(format!("-{what}.txt"));
    let mut file = std::io::BufWriter::new(std::fs::File::create(PathBuf::from(name))?);
    for link in links {
        writeln!(file, "{} {} {}", link.left, link.right, link.score)?;
    }
    file.flush()?;
    Ok(())
}
