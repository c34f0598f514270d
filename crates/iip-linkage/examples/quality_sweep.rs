//! Linkage quality at scale: `cargo run --release -p iip-linkage --example quality_sweep --
//! N [SEED]`. Generates N records a side at half overlap (the quality test's generator),
//! encodes them, and prints precision and recall by threshold, then what the false and the
//! missed links at the default threshold were (by the names' and the birth dates' Dice).
use std::collections::{BTreeMap, HashSet};

use iip_linkage::{DEFAULT_FLIP_PROBABILITY, DEFAULT_THRESHOLD, Encoder, candidates, solve_greedy, synthetic};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let seed: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(20261201);
    let overlap = n / 2;
    let (left, right) = synthetic::world(seed, n, overlap);
    // FLIPS=0 for encodings without bit flips; seeded, so every run gives the same figures.
    let flips: f64 = std::env::var("FLIPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_FLIP_PROBABILITY);
    let encoder = Encoder::new(b"consortium test secret, 32 bytes!")
        .expect("secret")
        .with_seeded_bit_flips(flips, [7; 32]);
    let l: Vec<_> = left.iter().map(|p| encoder.encode(p)).collect();
    let r: Vec<_> = right.iter().map(|p| encoder.encode(p)).collect();
    // Above 0.5: at 0.5 or below a field may score nothing, so nothing is pruned.
    let lowest = 0.55;
    let started = std::time::Instant::now();
    let found = candidates(&l, &r, lowest);
    println!(
        "{n} a side: {} candidates at {lowest} in {:.1?}",
        found.len(),
        started.elapsed()
    );
    let link = |threshold: f64| {
        let kept: Vec<_> = found.iter().copied().filter(|c| c.score >= threshold).collect();
        solve_greedy(&kept, n, n)
    };
    for threshold in [0.55, 0.575, 0.6, 0.625, 0.65, 0.7, 0.75] {
        let links = link(threshold);
        let ok = links.iter().filter(|x| x.left == x.right && x.left < overlap).count();
        println!(
            "threshold {threshold:.3}: {:6} links, precision {:.4}, recall {:.4}",
            links.len(),
            ok as f64 / links.len().max(1) as f64,
            ok as f64 / overlap as f64
        );
    }
    let kind = |a: usize, b: usize| {
        let (names, date) = l[a].field_dice(&r[b]);
        let tenth = |x: f64| (x * 10.0).floor() / 10.0;
        match date {
            Some(date) => format!("names {:.1}, date {:.1}", tenth(names), tenth(date)),
            None => format!("names {:.1}, no date", tenth(names)),
        }
    };
    let links = link(DEFAULT_THRESHOLD);
    let mut false_links = BTreeMap::<String, usize>::new();
    for x in links.iter().filter(|x| !(x.left == x.right && x.left < overlap)) {
        *false_links.entry(kind(x.left, x.right)).or_default() += 1;
    }
    println!("false links at {DEFAULT_THRESHOLD}: {false_links:?}");
    let linked: HashSet<_> = links.iter().filter(|x| x.left == x.right).map(|x| x.left).collect();
    let mut missed = BTreeMap::<String, usize>::new();
    for i in (0..overlap).filter(|i| !linked.contains(i)) {
        *missed.entry(kind(i, i)).or_default() += 1;
    }
    println!("missed at {DEFAULT_THRESHOLD}: {missed:?}");
}
