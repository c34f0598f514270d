//! The comparison kernels behind [`crate::candidates`] and [`crate::candidates_record_level`]:
//! the same pairs and scores as comparing every pair one by one (`*_all_pairs`), found faster.
//!
//! - **Structure of arrays.** The right side is stored in blocks of [`LANES`] records, word by
//!   word: word `k` of eight records is one contiguous `[u64; 8]`. Comparing one left record
//!   with a block is then rounds of AND, popcount and add over eight lanes, which the compiler
//!   turns into vector instructions (`vpandq`/`vpopcntq`/`vpaddq` with `-C target-cpu=native`
//!   on AVX-512, byte-wise bit tricks on 128-bit registers in the portable build), and the
//!   threshold test is done for the eight lanes at once, in integers.
//! - **Stages.** Part of the words is compared first; with the popcounts of the rest that
//!   bounds the score (the rest can share at most the smaller side's bits), and a block where
//!   no lane can reach the threshold is left there. Most pairs are different people and stop
//!   at the first stage. Record level: the first `CUT` words, then the rest; field level: the
//!   birth-date words, then the first [`NAME_CUT`] name words, then the other name words.
//! - **Tiling.** Left records are taken [`LEFT_BLOCK`] at a time and compared with the right
//!   side one chunk of [`RIGHT_CHUNK`] blocks (32 KiB, in L1) at a time, so the right side is
//!   read from memory once per left block instead of once per left record.
//! - **Pruning by popcount (record level).** Dice ≤ 2·min(|a|,|b|)/(|a|+|b|): the right side is
//!   sorted by popcount and each left record is compared only with the band of right records
//!   whose popcount leaves the threshold reachable (an exact integer test); the left side is
//!   sorted too, so that a left block's bands overlap.
//!
//! Every test is exact (integers, or the same floating-point expression as [`Clk::dice`] for
//! the pairs that pass a conservative integer filter), so the candidates are exactly those of
//! the pairwise loops; the tests below check it on random data.

// Loops over the eight lanes index several arrays alike (`for lane in 0..LANES`), which is
// what the compiler turns into one vector operation per line.
#![allow(clippy::needless_range_loop)]

use crate::Clk;
use crate::clk::{DATE_CEILING, DATE_FLOOR, NAME_WORDS, NAMES_CEILING, NAMES_FLOOR, NO_DATE_FACTOR, WORDS};
use crate::matching::{Link, sort_best_first};

/// Records per block: one word of eight records is one 512-bit vector.
const LANES: usize = 8;
/// Left records compared with one right chunk while it is in cache (measured: 512 ran 15 %
/// faster than 64 at 100 000 a side; the chunk is fetched from L2 or L3 once per left block).
const LEFT_BLOCK: usize = 512;
/// Right blocks per chunk: 32 × 8 records × 128 bytes = 32 KiB, which stays in a 48 KiB L1
/// (64 blocks ran a third slower).
const RIGHT_CHUNK: usize = 32;
/// Record-level thresholds are p/Q in integers (as before: p = round(threshold · Q)).
const Q: u64 = 10_000;

// `and_count` takes words two at a time.
const _: () = assert!(NAME_WORDS.is_multiple_of(2) && WORDS.is_multiple_of(2) && NAME_CUT.is_multiple_of(2));

type Block = [[u64; LANES]; WORDS];

/// What a kernel did: the pairs of the problem (N × M), the pairs it compared at all (the
/// others were skipped by popcount), and those it compared whole (past the first stage).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelStats {
    pub pairs: u64,
    pub compared: u64,
    pub compared_whole: u64,
}

/// One side's CLKs in blocks of [`LANES`] records, word-major (structure of arrays); the last
/// block is padded with empty filters.
fn blocked<'a>(clks: impl ExactSizeIterator<Item = &'a Clk>) -> Vec<Block> {
    let mut blocks = vec![[[0u64; LANES]; WORDS]; clks.len().div_ceil(LANES)];
    for (slot, clk) in clks.enumerate() {
        let block = &mut blocks[slot / LANES];
        for (column, word) in block.iter_mut().zip(&clk.words) {
            column[slot % LANES] = *word;
        }
    }
    blocks
}

/// One value per record, in blocks of [`LANES`], the last block padded with `pad`.
fn lanes(values: impl ExactSizeIterator<Item = u64>, pad: u64) -> Vec<[u64; LANES]> {
    let mut out = vec![[pad; LANES]; values.len().div_ceil(LANES)];
    for (slot, value) in values.enumerate() {
        out[slot / LANES][slot % LANES] = value;
    }
    out
}

/// |a ∧ b| over the given words (an even number) for the eight records of a block.
///
/// `all_ones` is `u64::MAX` hidden from the optimiser (`black_box`): masking the running sums
/// with it every two words changes nothing, but keeps the compiler from treating each lane's
/// sum as a horizontal reduction over the words (gathers, shuffles); it then vectorises across
/// the eight lanes instead, one vector per word.
#[inline(always)]
fn and_count(a: &[u64], columns: &[[u64; LANES]], all_ones: u64) -> [u64; LANES] {
    let mut acc = [0u64; LANES];
    for (words, cols) in a.chunks_exact(2).zip(columns.chunks_exact(2)) {
        for (lane, sum) in acc.iter_mut().enumerate() {
            let first = u64::from((words[0] & cols[0][lane]).count_ones());
            let second = u64::from((words[1] & cols[1][lane]).count_ones());
            *sum = (*sum + first + second) & all_ones;
        }
    }
    acc
}

/// A count that later stages use again, passed through memory (`black_box`) with AVX-512:
/// otherwise the compiler splits its vector into pieces and shuffles them at every use (the
/// field-level scan ran 20 % faster so); without AVX-512 the round trip costs more than it saves.
#[inline(always)]
fn settle(count: [u64; LANES]) -> [u64; LANES] {
    if cfg!(target_feature = "avx512f") {
        std::hint::black_box(count)
    } else {
        count
    }
}

/// Record level: the first `CUT` words are compared first; a block where no lane can reach the
/// threshold even if every remaining bit of the smaller side were in common is left there.
/// Where popcount is one vector instruction (AVX-512 VPOPCNTDQ) a word costs little against
/// the test and its branch, so the first stage is longer (measured: 10 words there, 6 where
/// popcount is emulated; 2 % and 7 % of the blocks go on to the second stage at 0.8).
const CUT: usize = if cfg!(target_feature = "avx512vpopcntdq") {
    10
} else {
    6
};

/// The popcount of the words from `cut` on.
fn rest_ones(clk: &Clk, cut: usize) -> u64 {
    clk.words[cut..].iter().map(|w| u64::from(w.count_ones())).sum()
}

/// A left record as the record-level scan needs it.
struct Probe<'a> {
    words: &'a [u64; WORDS],
    rest: u64,
    ones: u64,
    /// The threshold is p/Q.
    p: u64,
}

/// Per-lane values of a block of the right side.
#[derive(Clone, Copy)]
struct BlockOnes {
    /// |b| (padding: more than can pass).
    ones: [u64; LANES],
    rest: [u64; LANES],
}

/// One left record against consecutive blocks: pushes (slot from the first block, |a∧b|) of
/// every lane with 2Q·|a∧b| ≥ p·(|a|+|b|); returns the lanes compared whole. Not inlined, so
/// that the compiler vectorises this loop on its own terms.
#[inline(never)]
fn scan_record_level<const CUT: usize>(
    a: &Probe,
    blocks: &[Block],
    ones: &[BlockOnes],
    all_ones: u64,
    hits: &mut Vec<(usize, u64)>,
) -> u64 {
    const { assert!(CUT.is_multiple_of(2) && CUT <= WORDS) };
    let two_q = 2 * Q;
    let (first, second) = a.words.split_at(CUT);
    let mut whole = 0;
    for (b, (block, lanes)) in blocks.iter().zip(ones).enumerate() {
        let (first_columns, second_columns) = block.split_at(CUT);
        let head = and_count(first, first_columns, all_ones);
        let mut reachable = 0u32;
        for lane in 0..LANES {
            let best = head[lane] + a.rest.min(lanes.rest[lane]);
            reachable |= u32::from(two_q * best >= a.p * (a.ones + lanes.ones[lane])) << lane;
        }
        if reachable == 0 {
            continue;
        }
        whole += LANES as u64;
        let tail = and_count(second, second_columns, all_ones);
        let mut common = [0u64; LANES];
        let mut passed = 0u32;
        for lane in 0..LANES {
            common[lane] = head[lane] + tail[lane];
            passed |= u32::from(two_q * common[lane] >= a.p * (a.ones + lanes.ones[lane])) << lane;
        }
        while passed != 0 {
            let lane = passed.trailing_zeros() as usize;
            passed &= passed - 1;
            hits.push((b * LANES + lane, common[lane]));
        }
    }
    whole
}

/// Record-level Dice (whole filter) at or above `threshold`, best first.
pub(crate) fn record_level(left: &[Clk], right: &[Clk], threshold: f64) -> (Vec<Link>, KernelStats) {
    record_level_cut::<CUT>(left, right, threshold)
}

/// [`record_level`] with the first stage ending at word `CUT` (the tests try several).
fn record_level_cut<const CUT: usize>(left: &[Clk], right: &[Clk], threshold: f64) -> (Vec<Link>, KernelStats) {
    let p = (threshold.clamp(0.0, 1.0) * Q as f64).round() as u64;
    let two_q = 2 * Q;
    let all_ones = std::hint::black_box(u64::MAX);
    let m = right.len();
    // The right side sorted by popcount (ties by index), so a band of popcounts is a range.
    let mut by_ones: Vec<usize> = (0..m).collect();
    by_ones.sort_by_key(|&j| (right[j].ones, j));
    let ones: Vec<u64> = by_ones.iter().map(|&j| u64::from(right[j].ones)).collect();
    let blocks = blocked(by_ones.iter().map(|&j| &right[j]));
    // |b| per lane (padding: too many to ever pass, unless p = 0) and the popcount after the cut.
    let padded_ones = lanes(ones.iter().copied(), 1 << 40);
    let mut block_ones = vec![
        BlockOnes {
            ones: [0; LANES],
            rest: [0; LANES]
        };
        blocks.len()
    ];
    for (b, (lanes, ones)) in block_ones.iter_mut().zip(padded_ones).enumerate() {
        lanes.ones = ones;
        for (lane, &j) in by_ones.iter().enumerate().skip(b * LANES).take(LANES) {
            lanes.rest[lane - b * LANES] = rest_ones(&right[j], CUT);
        }
    }
    // The right records a left record of popcount x can reach: 2·min(x,y)·Q ≥ p·(x+y), an
    // interval of y; as block indexes.
    let band = |x: u64| -> (usize, usize) {
        let lo = ones.partition_point(|&y| y < x && y * (two_q - p) < p * x);
        let hi = ones.partition_point(|&y| y <= x || x * (two_q - p) >= p * y);
        if lo >= hi {
            (0, 0)
        } else {
            (lo / LANES, hi.div_ceil(LANES))
        }
    };
    let mut order: Vec<usize> = (0..left.len()).collect();
    order.sort_by_key(|&i| (left[i].ones, i));
    let (mut found, mut hits) = (Vec::new(), Vec::new());
    let (mut compared, mut whole) = (0u64, 0u64);
    for group in order.chunks(LEFT_BLOCK) {
        let bands: Vec<(usize, usize)> = group.iter().map(|&i| band(u64::from(left[i].ones))).collect();
        let start = bands.iter().filter(|b| b.0 < b.1).map(|b| b.0).min().unwrap_or(0);
        let end = bands.iter().map(|b| b.1).max().unwrap_or(0);
        for chunk in (start..end).step_by(RIGHT_CHUNK) {
            let chunk_end = (chunk + RIGHT_CHUNK).min(end);
            for (&i, &(lo, hi)) in group.iter().zip(&bands) {
                let (lo, hi) = (lo.max(chunk), hi.min(chunk_end));
                if lo >= hi {
                    continue;
                }
                compared += ((hi - lo) * LANES) as u64;
                let a = &left[i];
                let x = u64::from(a.ones);
                let probe = Probe {
                    words: &a.words,
                    rest: rest_ones(a, CUT),
                    ones: x,
                    p,
                };
                hits.clear();
                whole += scan_record_level::<CUT>(&probe, &blocks[lo..hi], &block_ones[lo..hi], all_ones, &mut hits);
                for &(offset, common) in &hits {
                    let slot = lo * LANES + offset;
                    // Not padding, and not two empty filters (Dice 0/0).
                    if let Some(&y) = ones.get(slot)
                        && x + y > 0
                    {
                        found.push(Link {
                            left: i,
                            right: by_ones[slot],
                            score: 2.0 * common as f64 / (x + y) as f64,
                        });
                    }
                }
            }
        }
    }
    sort_best_first(&mut found);
    let stats = KernelStats {
        pairs: (left.len() * m) as u64,
        compared,
        compared_whole: whole,
    };
    (found, stats)
}

/// The integer filter of the field-level score: can names with (at most) `cn` bits in common
/// out of `tn` and dates with `cd` out of `td` reach the threshold? Each field weight is at
/// most 1, so a score of t needs each field's weight at least 2t − 1 (names alone: t / the
/// no-date factor), that is each Dice at least a bound; the bounds are rounded down, so the
/// filter is never false for a pair whose [`Clk::dice`] reaches the threshold.
#[derive(Clone, Copy)]
struct FieldFilter {
    /// ⌊Q × the least Dice⌋ − 2 (at least 0) of the names and the date with a date, and of
    /// the names without one.
    names: u64,
    date: u64,
    alone: u64,
}

impl FieldFilter {
    fn new(threshold: f64) -> Self {
        // NaN: `min` gives 1.5, out of reach, as nothing passes `score >= NaN`.
        let t = threshold.min(1.5);
        let least = |weight: f64, floor: f64, ceiling: f64| {
            let dice = if weight > 1.0 {
                2.0 // out of reach
            } else {
                floor + weight.max(0.0) * (ceiling - floor)
            };
            let scaled = if weight <= 0.0 {
                0.0
            } else {
                (dice * Q as f64).floor() - 2.0
            };
            scaled.max(0.0) as u64
        };
        Self {
            names: least(2.0 * t - 1.0, NAMES_FLOOR, NAMES_CEILING),
            date: least(2.0 * t - 1.0, DATE_FLOOR, DATE_CEILING),
            alone: least(t / NO_DATE_FACTOR, NAMES_FLOOR, NAMES_CEILING),
        }
    }

    #[inline(always)]
    fn reaches(self, cn: u64, cd: u64, tn: u64, td: u64, with_date: bool) -> bool {
        let names = 2 * Q * cn >= self.names * tn;
        let date = 2 * Q * cd >= self.date * td;
        let alone = 2 * Q * cn >= self.alone * tn;
        (with_date & names & date) | (!with_date & alone)
    }
}

/// Field level: the name words compared after the birth date, before the rest of the names.
const NAME_CUT: usize = 4;

/// Per-lane popcounts of a block (field level): names, birth date, names after [`NAME_CUT`].
#[derive(Clone, Copy)]
struct FieldOnes {
    names: [u64; LANES],
    date: [u64; LANES],
    names_rest: [u64; LANES],
}

/// One left record against consecutive blocks (field level): pushes the slot (from the first
/// block) of every lane that passes the integer filter; returns the lanes compared whole.
#[inline(never)]
fn scan_field_level(
    a: &Clk,
    blocks: &[Block],
    ones: &[FieldOnes],
    filter: FieldFilter,
    all_ones: u64,
    hits: &mut Vec<usize>,
) -> u64 {
    let (names, date) = a.words.split_at(NAME_WORDS);
    let (names_head, names_tail) = names.split_at(NAME_CUT);
    let (an, ad) = (u64::from(a.name_ones), u64::from(a.date_ones));
    let a_rest = rest_ones(a, NAME_CUT) - ad;
    let mut whole = 0;
    for (b, (block, lanes)) in blocks.iter().zip(ones).enumerate() {
        let (name_columns, date_columns) = block.split_at(NAME_WORDS);
        let (head_columns, tail_columns) = name_columns.split_at(NAME_CUT);
        let (bn, bd) = (&lanes.names, &lanes.date);
        // The birth dates, and at best every name bit of the smaller side.
        let cd = settle(and_count(date, date_columns, all_ones));
        let mut reachable = 0u32;
        for lane in 0..LANES {
            let with_date = (ad > 0) & (bd[lane] > 0);
            let reached = filter.reaches(an.min(bn[lane]), cd[lane], an + bn[lane], ad + bd[lane], with_date);
            reachable |= u32::from(reached) << lane;
        }
        if reachable == 0 {
            continue;
        }
        // The first name words, and at best the rest of the smaller side's.
        let head = settle(and_count(names_head, head_columns, all_ones));
        let mut reachable = 0u32;
        for lane in 0..LANES {
            let with_date = (ad > 0) & (bd[lane] > 0);
            let best = head[lane] + a_rest.min(lanes.names_rest[lane]);
            let reached = filter.reaches(best, cd[lane], an + bn[lane], ad + bd[lane], with_date);
            reachable |= u32::from(reached) << lane;
        }
        if reachable == 0 {
            continue;
        }
        whole += LANES as u64;
        let tail = and_count(names_tail, tail_columns, all_ones);
        let mut passed = 0u32;
        for lane in 0..LANES {
            let with_date = (ad > 0) & (bd[lane] > 0);
            let cn = head[lane] + tail[lane];
            let reached = filter.reaches(cn, cd[lane], an + bn[lane], ad + bd[lane], with_date);
            passed |= u32::from(reached) << lane;
        }
        while passed != 0 {
            let lane = passed.trailing_zeros() as usize;
            passed &= passed - 1;
            hits.push(b * LANES + lane);
        }
    }
    whole
}

/// Field-level scores ([`Clk::dice`]) at or above `threshold`, best first: the lanes that pass
/// the integer filter are scored by `Clk::dice` itself.
pub(crate) fn field_level(left: &[Clk], right: &[Clk], threshold: f64) -> (Vec<Link>, KernelStats) {
    let filter = FieldFilter::new(threshold);
    let all_ones = std::hint::black_box(u64::MAX);
    let blocks = blocked(right.iter());
    let names = lanes(right.iter().map(|c| u64::from(c.name_ones)), 0);
    let date = lanes(right.iter().map(|c| u64::from(c.date_ones)), 0);
    let names_rest = lanes(right.iter().map(|c| rest_ones(c, NAME_CUT) - u64::from(c.date_ones)), 0);
    let ones: Vec<FieldOnes> = names
        .into_iter()
        .zip(date)
        .zip(names_rest)
        .map(|((names, date), names_rest)| FieldOnes {
            names,
            date,
            names_rest,
        })
        .collect();
    let (mut found, mut hits) = (Vec::new(), Vec::new());
    let mut whole = 0u64;
    for group in (0..left.len()).step_by(LEFT_BLOCK) {
        for chunk in (0..blocks.len()).step_by(RIGHT_CHUNK) {
            let range = chunk..(chunk + RIGHT_CHUNK).min(blocks.len());
            for (i, a) in left.iter().enumerate().skip(group).take(LEFT_BLOCK) {
                hits.clear();
                whole += scan_field_level(
                    a,
                    &blocks[range.clone()],
                    &ones[range.clone()],
                    filter,
                    all_ones,
                    &mut hits,
                );
                for &offset in &hits {
                    let j = chunk * LANES + offset;
                    if let Some(other) = right.get(j) {
                        let score = a.dice(other);
                        if score >= threshold {
                            found.push(Link {
                                left: i,
                                right: j,
                                score,
                            });
                        }
                    }
                }
            }
        }
    }
    sort_best_first(&mut found);
    let stats = KernelStats {
        pairs: (left.len() * right.len()) as u64,
        compared: (left.len() * blocks.len() * LANES) as u64,
        compared_whole: whole,
    };
    (found, stats)
}

#[cfg(test)]
mod tests {
    use crate::{
        Clk, Encoder, candidates, candidates_all_pairs, candidates_record_level, candidates_record_level_all_pairs,
        synthetic,
    };

    /// SplitMix64.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn clk(words: &[u64; super::WORDS]) -> Clk {
        let hex: String = words.iter().map(|w| format!("{w:016x}")).collect();
        Clk::from_hex(&hex).expect("256 hex digits")
    }

    /// Filters of every density (empty and full included), each region on its own.
    fn random(rng: &mut Rng) -> Clk {
        let density = [0, 0, 2, 10, 25, 25, 40, 60, 100][rng.below(9) as usize];
        let dateless = rng.below(6) == 0;
        let mut words = [0u64; super::WORDS];
        for (k, word) in words.iter_mut().enumerate() {
            if dateless && k >= super::NAME_WORDS {
                continue;
            }
            for bit in 0..64 {
                if rng.below(100) < density {
                    *word |= 1 << bit;
                }
            }
        }
        clk(&words)
    }

    /// A copy with a few bits flipped (or none), so that there are pairs at every score.
    fn near(rng: &mut Rng, of: &Clk) -> Clk {
        let mut words = of.words;
        for _ in 0..rng.below(40) {
            let bit = rng.below(crate::BITS as u64);
            words[(bit / 64) as usize] ^= 1 << (bit % 64);
        }
        clk(&words)
    }

    fn sides(rng: &mut Rng, n: usize, m: usize) -> (Vec<Clk>, Vec<Clk>) {
        let left: Vec<Clk> = (0..n).map(|_| random(rng)).collect();
        let right = (0..m)
            .map(|_| match (left.is_empty(), rng.below(3)) {
                (false, 0 | 1) => {
                    let of = &left[rng.below(n as u64) as usize];
                    near(rng, of)
                }
                _ => random(rng),
            })
            .collect();
        (left, right)
    }

    fn check(left: &[Clk], right: &[Clk], thresholds: &[f64], what: &str) {
        for &t in thresholds {
            let plain = candidates_record_level_all_pairs(left, right, t);
            assert_eq!(
                candidates_record_level(left, right, t),
                plain,
                "record level, {what}, threshold {t}"
            );
            let plain = candidates_all_pairs(left, right, t);
            assert_eq!(candidates(left, right, t), plain, "field level, {what}, threshold {t}");
        }
    }

    /// Thresholds at the edges: below 0, 0, the smallest steps, scores that pairs reach exactly,
    /// 1, above 1, NaN.
    fn thresholds(left: &[Clk], right: &[Clk], rng: &mut Rng) -> Vec<f64> {
        let mut out = vec![
            -1.0,
            0.0,
            1e-9,
            0.00005,
            0.0001,
            0.3,
            0.5,
            0.71,
            0.8,
            0.85,
            0.99995,
            1.0,
            1.5,
            f64::NAN,
        ];
        if !left.is_empty() && !right.is_empty() {
            for _ in 0..4 {
                let a = &left[rng.below(left.len() as u64) as usize];
                let b = &right[rng.below(right.len() as u64) as usize];
                let common: u32 = a.words.iter().zip(&b.words).map(|(x, y)| (x & y).count_ones()).sum();
                if a.ones + b.ones > 0 {
                    out.push(2.0 * f64::from(common) / f64::from(a.ones + b.ones));
                }
                out.push(a.dice(b));
            }
        }
        out
    }

    #[test]
    fn kernels_equal_all_pairs_on_random_filters() {
        let mut rng = Rng(20261202);
        for (n, m) in [
            (0, 0),
            (0, 5),
            (5, 0),
            (1, 1),
            (3, 17),
            (8, 8),
            (9, 7),
            (64, 65),
            (65, 300),
            (150, 700),
            (1100, 40),
        ] {
            let (left, right) = sides(&mut rng, n, m);
            let thresholds = thresholds(&left, &right, &mut rng);
            check(&left, &right, &thresholds, &format!("{n} x {m}"));
            check(&right, &left, &thresholds, &format!("{m} x {n}, swapped"));
        }
    }

    #[test]
    fn kernels_equal_all_pairs_on_encoded_records() {
        let (left, right) = synthetic::world(7, 400, 200);
        let encoder = Encoder::new(b"kernel test secret, 32 bytes long").expect("secret");
        let left: Vec<Clk> = left.iter().map(|p| encoder.encode(p)).collect();
        let right: Vec<Clk> = right.iter().map(|p| encoder.encode(p)).collect();
        let mut rng = Rng(5);
        let mut thresholds = thresholds(&left, &right, &mut rng);
        thresholds.extend([0.6, 0.65, crate::DEFAULT_THRESHOLD, 0.75, 0.9]);
        check(&left, &right, &thresholds, "encoded 400 x 400");
        let (found, stats) = crate::candidates_record_level_counted(&left, &right, 0.8);
        assert!(!found.is_empty());
        assert!(stats.compared <= stats.pairs + 8 * 400, "{stats:?}");
        assert!(
            stats.compared_whole < stats.pairs / 4,
            "most pairs stop at the first stage: {stats:?}"
        );
        let (_, stats) = crate::candidates_counted(&left, &right, crate::DEFAULT_THRESHOLD);
        assert!(stats.compared_whole < stats.pairs / 2, "{stats:?}");
    }
}
