//! Matching at the hub: every pair of CLKs from two sides scored by Dice, pairs at or above
//! the threshold kept, then assigned one to one, best first (greedy, as anonlink does).

use crate::Clk;
use crate::kernel::{self, KernelStats};

/// A linked pair: indexes into the two sides and their score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    pub left: usize,
    pub right: usize,
    pub score: f64,
}

/// Pairs scoring at least `threshold` ([`Clk::dice`], names and birth date apart), best first
/// (ties by indexes). The tiled kernel of `kernel.rs`: the same pairs and scores as
/// [`candidates_all_pairs`].
pub fn candidates(left: &[Clk], right: &[Clk], threshold: f64) -> Vec<Link> {
    kernel::field_level(left, right, threshold).0
}

/// [`candidates`], with what the kernel did.
pub fn candidates_counted(left: &[Clk], right: &[Clk], threshold: f64) -> (Vec<Link>, KernelStats) {
    kernel::field_level(left, right, threshold)
}

/// Record-level Dice over the whole 1024 bits (what anonlink computes), best first: for
/// comparing kernels on the same encodings. The threshold test is exact in integers:
/// 2·|a∧b|·q ≥ p·(|a|+|b|) for threshold p/q, q = 10 000. The tiled kernel, pruned by
/// popcount: the same pairs and scores as [`candidates_record_level_all_pairs`].
pub fn candidates_record_level(left: &[Clk], right: &[Clk], threshold: f64) -> Vec<Link> {
    kernel::record_level(left, right, threshold).0
}

/// [`candidates_record_level`], with what the kernel did (pairs compared after pruning).
pub fn candidates_record_level_counted(left: &[Clk], right: &[Clk], threshold: f64) -> (Vec<Link>, KernelStats) {
    kernel::record_level(left, right, threshold)
}

/// The reference for [`candidates`]: every pair scored one by one.
pub fn candidates_all_pairs(left: &[Clk], right: &[Clk], threshold: f64) -> Vec<Link> {
    let mut found = Vec::new();
    for (i, a) in left.iter().enumerate() {
        for (j, b) in right.iter().enumerate() {
            let score = a.dice(b);
            if score >= threshold {
                found.push(Link {
                    left: i,
                    right: j,
                    score,
                });
            }
        }
    }
    sort_best_first(&mut found);
    found
}

/// The reference for [`candidates_record_level`]: every pair compared one by one.
pub fn candidates_record_level_all_pairs(left: &[Clk], right: &[Clk], threshold: f64) -> Vec<Link> {
    let q: u64 = 10_000;
    let p = (threshold.clamp(0.0, 1.0) * q as f64).round() as u64;
    let mut found = Vec::new();
    for (i, a) in left.iter().enumerate() {
        for (j, b) in right.iter().enumerate() {
            let total = u64::from(a.ones + b.ones);
            let common: u32 = a.words.iter().zip(&b.words).map(|(x, y)| (x & y).count_ones()).sum();
            if total > 0 && 2 * u64::from(common) * q >= p * total {
                found.push(Link {
                    left: i,
                    right: j,
                    score: 2.0 * f64::from(common) / total as f64,
                });
            }
        }
    }
    sort_best_first(&mut found);
    found
}

/// Best first: score descending, then left, then right index.
pub(crate) fn sort_best_first(found: &mut [Link]) {
    found.sort_by(|x, y| {
        y.score
            .total_cmp(&x.score)
            .then(x.left.cmp(&y.left))
            .then(x.right.cmp(&y.right))
    });
}

/// Greedy one-to-one over candidates already sorted best first.
pub fn solve_greedy(candidates: &[Link], left: usize, right: usize) -> Vec<Link> {
    let (mut used_left, mut used_right) = (vec![false; left], vec![false; right]);
    candidates
        .iter()
        .filter(|l| {
            let free = !used_left[l.left] && !used_right[l.right];
            if free {
                used_left[l.left] = true;
                used_right[l.right] = true;
            }
            free
        })
        .copied()
        .collect()
}

/// One to one: the best remaining pair first, each record used once.
pub fn link_one_to_one(left: &[Clk], right: &[Clk], threshold: f64) -> Vec<Link> {
    solve_greedy(&candidates(left, right, threshold), left.len(), right.len())
}

/// Groups records of several sides (one per organization) into persons: every pair of sides
/// is linked one to one and linked records are joined (union-find). Returns, per side and
/// record, a group number; records alone in their group are nobody else's.
pub fn group(sides: &[Vec<Clk>], threshold: f64) -> Vec<Vec<usize>> {
    let offsets: Vec<usize> = sides
        .iter()
        .scan(0, |at, side| {
            let start = *at;
            *at += side.len();
            Some(start)
        })
        .collect();
    let total: usize = sides.iter().map(Vec::len).sum();
    let mut parent: Vec<usize> = (0..total).collect();
    fn root(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for a in 0..sides.len() {
        for b in a + 1..sides.len() {
            for link in link_one_to_one(&sides[a], &sides[b], threshold) {
                let (x, y) = (
                    root(&mut parent, offsets[a] + link.left),
                    root(&mut parent, offsets[b] + link.right),
                );
                if x != y {
                    parent[x.max(y)] = x.min(y);
                }
            }
        }
    }
    sides
        .iter()
        .enumerate()
        .map(|(s, side)| (0..side.len()).map(|i| root(&mut parent, offsets[s] + i)).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Encoder, Identity};

    fn clk(encoder: &Encoder, first: &str, last: &str, dob: &str) -> Clk {
        encoder.encode(&Identity {
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            date_of_birth: Some(dob.into()),
        })
    }

    #[test]
    fn candidates_equal_the_float_test_and_links_are_one_to_one() {
        let e = Encoder::new(b"a test secret of enough length").expect("secret");
        let left = vec![
            clk(&e, "Ana", "Cruz", "1980-01-02"),
            clk(&e, "Lan", "Tran", "1975-05-06"),
            clk(&e, "Ana", "Cruz", "1980-01-03"),
        ];
        let right = vec![
            clk(&e, "Ana", "Cruz", "1980-01-02"),
            clk(&e, "Lan", "Tran", "1975-06-05"),
        ];
        for threshold in [0.5, 0.71, 0.9] {
            let found = candidates(&left, &right, threshold);
            let expected = left
                .iter()
                .flat_map(|a| right.iter().map(move |b| a.dice(b)))
                .filter(|d| *d >= threshold - 1e-12)
                .count();
            assert_eq!(found.len(), expected, "{threshold}");
            assert!(found.windows(2).all(|w| w[0].score >= w[1].score), "best first");
        }
        let links = link_one_to_one(&left, &right, 0.71);
        assert_eq!(
            links.iter().map(|l| (l.left, l.right)).collect::<Vec<_>>(),
            [(0, 0), (1, 1)]
        );
    }

    #[test]
    fn a_person_at_three_organizations_is_one_group() {
        let e = Encoder::new(b"a test secret of enough length").expect("secret");
        let lan = || clk(&e, "Lan", "Tran", "1975-05-06");
        let sides = vec![
            vec![lan(), clk(&e, "Ana", "Cruz", "1980-01-02")],
            vec![clk(&e, "Omar", "Haddad", "1969-11-30"), lan()],
            vec![lan()],
        ];
        let groups = group(&sides, 0.71);
        assert_eq!(groups[0][0], groups[1][1]);
        assert_eq!(groups[0][0], groups[2][0]);
        assert_ne!(groups[0][1], groups[1][0]);
        assert_ne!(groups[0][0], groups[0][1]);
    }
}
