//! `iip encode` (at each partner) and `iip link` (at the hub): privacy-preserving record
//! linkage. Names and birth dates leave the partner only as keyed encodings (CLKs); the hub,
//! without the secret, links them and writes a `person_key` for every person found at more
//! than one organization, so the metrics count each person once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use iip_linkage::{Clk, DEFAULT_FLIP_PROBABILITY, DEFAULT_THRESHOLD, Encoder, Identity};

const IDENTIFYING: [&str; 3] = ["first_name", "last_name", "date_of_birth"];
const CLK_COLUMN: &str = "x_clk";

#[derive(clap::Args)]
pub struct EncodeArgs {
    /// The consortium's linkage secret (a file of at least 16 bytes), shared by the partners, never by the hub.
    #[arg(long)]
    pub secret: PathBuf,
    /// Where to write the encoded package.
    #[arg(long)]
    pub out: PathBuf,
    /// The probability with which every bit of an encoding is flipped at random, afresh each
    /// time (hardening against frequency attacks, docs/privacy.md); 0 turns it off.
    #[arg(long, default_value_t = DEFAULT_FLIP_PROBABILITY)]
    pub bit_flips: f64,
    /// The partner's exchange package.
    pub dir: PathBuf,
}

#[derive(clap::Args)]
pub struct LinkArgs {
    /// Dice coefficient at or above which two encodings are the same person.
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    pub threshold: f64,
    /// Where to write the packages with their person_key columns filled.
    #[arg(long)]
    pub out: PathBuf,
    /// Encoded packages (from `iip encode`).
    #[arg(required = true)]
    pub packages: Vec<PathBuf>,
}

fn copy_other_files(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        if entry.file_type()?.is_file() && name != "participants.csv" && name.to_string_lossy().ends_with(".csv") {
            std::fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}

fn reader(path: &Path) -> anyhow::Result<csv::Reader<std::fs::File>> {
    csv::ReaderBuilder::new()
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))
}

pub fn encode(args: EncodeArgs) -> anyhow::Result<ExitCode> {
    if !(0.0..0.5).contains(&args.bit_flips) {
        anyhow::bail!(
            "--bit-flips: {} is not a probability from 0 up to (not including) 0.5",
            args.bit_flips
        );
    }
    let secret = std::fs::read(&args.secret).with_context(|| format!("cannot read {}", args.secret.display()))?;
    let encoder = Encoder::new(&secret)
        .context("the linkage secret must hold at least 16 bytes")?
        .with_bit_flips(args.bit_flips)
        .context("no randomness from the system for the bit flips")?;
    let input = args.dir.join("participants.csv");
    let mut rows = reader(&input)?;
    let header: Vec<String> = rows
        .headers()?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_owned())
        .collect();
    let at = |name: &str| header.iter().position(|h| h == name);
    let kept: Vec<usize> = (0..header.len())
        .filter(|i| {
            !IDENTIFYING.contains(&header[*i].as_str()) && header[*i] != "person_key" && header[*i] != CLK_COLUMN
        })
        .collect();
    copy_other_files(&args.dir, &args.out)?;
    let mut out = csv::Writer::from_path(args.out.join("participants.csv"))?;
    let mut names: Vec<&str> = kept.iter().map(|i| header[*i].as_str()).collect();
    names.push(CLK_COLUMN);
    out.write_record(&names)?;
    let mut count = 0u64;
    for record in rows.records() {
        let record = record.with_context(|| format!("{}: a row cannot be read", input.display()))?;
        let field = |name: &str| {
            at(name)
                .and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let clk = encoder.encode(&Identity {
            first_name: field("first_name"),
            last_name: field("last_name"),
            date_of_birth: field("date_of_birth"),
        });
        let mut row: Vec<String> = kept
            .iter()
            .map(|i| record.get(*i).unwrap_or_default().to_owned())
            .collect();
        row.push(clk.to_hex());
        out.write_record(&row)?;
        count += 1;
    }
    out.flush()?;
    println!(
        "encoded {count} participants into {} (no names or birth dates; person_key left to the hub)",
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn link(args: LinkArgs) -> anyhow::Result<ExitCode> {
    if !(0.0..=1.0).contains(&args.threshold) {
        bail!("--threshold is a Dice coefficient from 0 to 1");
    }
    // Every package's participants, with their encodings, by organization (one side each).
    struct Package {
        dir: PathBuf,
        header: Vec<String>,
        rows: Vec<csv::StringRecord>,
    }
    let mut packages = Vec::new();
    let mut sides: BTreeMap<(usize, String), Vec<(usize, Clk)>> = BTreeMap::new();
    for (p, dir) in args.packages.iter().enumerate() {
        let path = dir.join("participants.csv");
        let mut input = reader(&path)?;
        let header: Vec<String> = input.headers()?.iter().map(str::to_owned).collect();
        let clk_at = header.iter().position(|h| h == CLK_COLUMN).with_context(|| {
            format!(
                "{}: no {CLK_COLUMN} column (encode the package with `iip encode` first)",
                path.display()
            )
        })?;
        let org_at = header
            .iter()
            .position(|h| h == "org_id")
            .with_context(|| format!("{}: no org_id column", path.display()))?;
        let mut rows = Vec::new();
        for (i, record) in input.records().enumerate() {
            let record = record?;
            let clk = Clk::from_hex(record.get(clk_at).unwrap_or_default())
                .with_context(|| format!("{}:{}: {CLK_COLUMN}: not an encoding", path.display(), i + 2))?;
            sides
                .entry((p, record.get(org_at).unwrap_or_default().to_owned()))
                .or_default()
                .push((i, clk));
            rows.push(record);
        }
        packages.push(Package {
            dir: dir.clone(),
            header,
            rows,
        });
    }
    let keys: Vec<&(usize, String)> = sides.keys().collect();
    let clks: Vec<Vec<Clk>> = sides
        .values()
        .map(|v| v.iter().map(|(_, c)| c.clone()).collect())
        .collect();
    let groups = iip_linkage::group(&clks, args.threshold);
    // A person_key for every group with records at two organizations or more.
    let mut size: BTreeMap<usize, usize> = BTreeMap::new();
    for g in groups.iter().flatten() {
        *size.entry(*g).or_default() += 1;
    }
    let mut person_key: BTreeMap<(usize, usize), String> = BTreeMap::new();
    for ((side, records), side_groups) in keys.iter().zip(sides.values()).zip(&groups) {
        for ((row, _), g) in records.iter().zip(side_groups) {
            if size[g] > 1 {
                person_key.insert((side.0, *row), format!("L{g:08}"));
            }
        }
    }
    for (p, package) in packages.iter().enumerate() {
        let name = package
            .dir
            .file_name()
            .map_or_else(|| format!("package-{p}"), |n| n.to_string_lossy().into_owned());
        let out_dir = args.out.join(&name);
        copy_other_files(&package.dir, &out_dir)?;
        let mut out = csv::Writer::from_path(out_dir.join("participants.csv"))?;
        let kept: Vec<usize> = (0..package.header.len())
            .filter(|i| package.header[*i] != CLK_COLUMN)
            .collect();
        let mut header: Vec<&str> = kept.iter().map(|i| package.header[*i].as_str()).collect();
        header.push("person_key");
        out.write_record(&header)?;
        for (i, record) in package.rows.iter().enumerate() {
            let mut row: Vec<&str> = kept.iter().map(|c| record.get(*c).unwrap_or_default()).collect();
            row.push(person_key.get(&(p, i)).map_or("", String::as_str));
            out.write_record(&row)?;
        }
        out.flush()?;
    }
    let linked = size.values().filter(|s| **s > 1).count();
    println!(
        "linked {} records into {linked} persons found at two organizations or more (threshold {}); wrote {}",
        person_key.len(),
        args.threshold,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
