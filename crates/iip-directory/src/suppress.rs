//! Small-cell suppression for the directory's outputs: counts and the equations that link them
//! in, masked flags out. The same rules as `iip-metrics`' suppression, without its snapshot:
//!
//! 1. **Primary**: a count from 1 to `threshold − 1` is masked. Zero is shown.
//! 2. **Complementary**: in every equation (a total and the parts that add up to it) either
//!    nothing is masked or at least two figures are, and when the total is shown the masked
//!    parts add up to at least the threshold. Otherwise the next smallest shown non-zero part
//!    is masked too (passing over a part whose masking the other equations would undo; the
//!    total only when no part is left), until every equation holds.
//! 3. **Systems**: equations that are safe one by one can pin a value together (two unknowns,
//!    two independent equations). Masked figures are solved for as a linear system; while the
//!    system determines one, the smallest shown figure that frees it (one sharing an equation
//!    with it first) is masked too, and everything is checked again.
//!
//! **Hidden cells** are figures that are never published but that a reader can put into
//! equations, such as the cells of a cross-tabulation whose margins are published: they are
//! unknowns everywhere, and protected (must not be determinable) only when they are small.

use std::collections::HashMap;

/// A total and its parts: cell indices, the total first.
pub type Equation = Vec<usize>;

/// Whether `count` is a small cell: from 1 to `threshold − 1`.
pub fn is_small(count: u64, threshold: u64) -> bool {
    (1..threshold).contains(&count)
}

/// Which of `counts` must not be shown, given the equations that link them.
///
/// Indices in `equations` that are out of range are ignored. Zeros are never masked: they are
/// shown, and masking one would protect nothing.
pub fn suppress(counts: &[u64], equations: &[Equation], threshold: u64) -> Vec<bool> {
    suppress_with_hidden(counts, &vec![false; counts.len()], equations, threshold)
}

/// [`suppress`] where `hidden[c]` marks a cell that is never published (it comes back masked).
/// Only published cells are given up as complements.
pub fn suppress_with_hidden(counts: &[u64], hidden: &[bool], equations: &[Equation], threshold: u64) -> Vec<bool> {
    let hidden: Vec<bool> = (0..counts.len())
        .map(|c| hidden.get(c).copied().unwrap_or(false))
        .collect();
    let equations: Vec<Equation> = equations
        .iter()
        .map(|eq| eq.iter().copied().filter(|&c| c < counts.len()).collect::<Vec<_>>())
        .filter(|eq| eq.len() >= 2)
        .collect();
    let mut cells = Cells {
        counts,
        hidden: &hidden,
        masked: counts
            .iter()
            .zip(&hidden)
            .map(|(&n, &h)| h || is_small(n, threshold))
            .collect(),
        threshold,
        equations: &equations,
    };
    loop {
        cells.protect_each_equation();
        let determined = cells.determined(&cells.masked, None);
        let Some(&cell) = determined.first() else {
            break;
        };
        let Some(give_up) = cells.freeing(&[cell]) else {
            break;
        };
        cells.masked[give_up] = true;
    }
    cells.masked
}

/// How many figures are tried, smallest first, for one that leaves nothing determined.
const TRIES: usize = 8;

struct Cells<'a> {
    counts: &'a [u64],
    hidden: &'a [bool],
    /// Unknown to a reader: withheld or hidden.
    masked: Vec<bool>,
    threshold: u64,
    equations: &'a [Equation],
}

impl Cells<'_> {
    /// A figure whose value must not follow from the others (under `masked`): every withheld
    /// published figure, and hidden ones that are small.
    fn protected(&self, masked: &[bool], c: usize) -> bool {
        masked[c] && (!self.hidden[c] || is_small(self.counts[c], self.threshold))
    }

    /// A published figure that may still be given up.
    fn available(&self, c: usize) -> bool {
        !self.masked[c] && self.counts[c] > 0
    }

    /// Protected figures the equations determine together (under `masked`), in index order;
    /// with `focus`, only in the systems holding one of those cells.
    fn determined(&self, masked: &[bool], focus: Option<&[usize]>) -> Vec<usize> {
        determined_by_system(masked, self.equations, focus)
            .into_iter()
            .filter(|&c| self.protected(masked, c))
            .collect()
    }

    /// Of `candidates` (in order of preference), the first whose masking leaves none of
    /// `watch` nor itself determined.
    fn first_safe(&self, candidates: &[usize], watch: &[usize]) -> Option<usize> {
        candidates.iter().copied().take(TRIES).find(|&c| {
            let mut trial = self.masked.clone();
            trial[c] = true;
            let mut focus = watch.to_vec();
            focus.push(c);
            let determined = self.determined(&trial, Some(&focus));
            !focus.iter().any(|f| determined.contains(f))
        })
    }

    /// The figure to give up for a determined `cell`: the smallest shown non-zero figure of its
    /// system that frees it.
    fn freeing(&self, cell: &[usize]) -> Option<usize> {
        let mut candidates: Vec<usize> = self
            .equations
            .iter()
            .filter(|eq| eq.iter().any(|c| self.masked[*c]))
            .flat_map(|eq| eq.iter().copied())
            .filter(|&c| self.available(c))
            .collect();
        candidates.sort_unstable_by_key(|&c| (self.counts[c], c));
        candidates.dedup();
        // Prefer the figures that share an equation with the cell.
        let (near, far): (Vec<usize>, Vec<usize>) = candidates.into_iter().partition(|c| {
            self.equations
                .iter()
                .any(|eq| eq.contains(c) && cell.iter().any(|x| eq.contains(x)))
        });
        let ordered: Vec<usize> = near.into_iter().chain(far).collect();
        self.first_safe(&ordered, cell).or_else(|| ordered.first().copied())
    }

    /// Whether an equation gives a protected figure away: it is the only unknown, or the
    /// unknown parts under a shown total add up to less than the threshold.
    fn exposed(&self, eq: &[usize]) -> bool {
        let unknown: Vec<usize> = eq.iter().copied().filter(|&c| self.masked[c]).collect();
        let Some(&first) = unknown.first() else {
            return false;
        };
        let lone = unknown.len() == 1 && self.protected(&self.masked, first);
        let narrow = !self.masked[eq[0]] && {
            let parts = || unknown.iter().copied().filter(|&c| c != eq[0]);
            parts().any(|c| self.protected(&self.masked, c))
                && parts().map(|c| self.counts[c]).sum::<u64>() < self.threshold
        };
        lone || narrow
    }

    /// Rule 2 over every equation until none changes. The complement is the smallest shown
    /// non-zero part whose masking does not let the system determine it or the equation's
    /// other unknowns (a part equal to a published figure elsewhere would not protect
    /// anything); failing that the smallest part, and the total only when no part is left.
    fn protect_each_equation(&mut self) {
        loop {
            let mut changed = false;
            for eq in self.equations {
                if !self.exposed(eq) {
                    continue;
                }
                let mut parts: Vec<usize> = eq[1..].iter().copied().filter(|&c| self.available(c)).collect();
                parts.sort_unstable_by_key(|&c| (self.counts[c], c));
                let watch: Vec<usize> = eq.iter().copied().filter(|&c| self.masked[c]).collect();
                let pick = self
                    .first_safe(&parts, &watch)
                    .or_else(|| parts.first().copied())
                    .or_else(|| self.available(eq[0]).then_some(eq[0]));
                if let Some(c) = pick {
                    self.masked[c] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }
}

const EPS: f64 = 1e-9;

/// Masked cells whose value the equations determine together, in index order. Gauss–Jordan
/// elimination over the masked unknowns, one connected system at a time (with `focus`, only
/// the systems holding one of its cells): an unknown is pinned when its reduced row has no
/// other entry.
fn determined_by_system(masked: &[bool], equations: &[Equation], focus: Option<&[usize]>) -> Vec<usize> {
    // Systems: masked cells joined by the equations they share.
    let mut system_of: HashMap<usize, usize> = HashMap::new();
    let mut systems: Vec<(Vec<usize>, Vec<usize>)> = Vec::new(); // (unknowns, equations)
    for (e, eq) in equations.iter().enumerate() {
        let unknowns: Vec<usize> = eq.iter().copied().filter(|&c| masked[c]).collect();
        if unknowns.is_empty() {
            continue;
        }
        let mut joined: Vec<usize> = unknowns.iter().filter_map(|c| system_of.get(c).copied()).collect();
        joined.sort_unstable();
        joined.dedup();
        let target = match joined.first() {
            Some(&s) => s,
            None => {
                systems.push((Vec::new(), Vec::new()));
                systems.len() - 1
            }
        };
        for &other in joined.iter().skip(1) {
            let (cells, eqs) = std::mem::take(&mut systems[other]);
            for &c in &cells {
                system_of.insert(c, target);
            }
            systems[target].0.extend(cells);
            systems[target].1.extend(eqs);
        }
        for c in unknowns {
            if system_of.insert(c, target).is_none() {
                systems[target].0.push(c);
            }
        }
        systems[target].1.push(e);
    }
    let mut determined = Vec::new();
    let wanted = |unknowns: &[usize]| focus.is_none_or(|f| f.iter().any(|c| unknowns.contains(c)));
    for (unknowns, eqs) in systems.into_iter().filter(|s| !s.0.is_empty() && wanted(&s.0)) {
        let column: HashMap<usize, usize> = unknowns.iter().enumerate().map(|(j, &c)| (c, j)).collect();
        let rows: Vec<Vec<f64>> = eqs
            .iter()
            .map(|&e| {
                let mut row = vec![0.0; unknowns.len()];
                for (k, c) in equations[e].iter().enumerate() {
                    if let Some(&j) = column.get(c) {
                        row[j] += if k == 0 { 1.0 } else { -1.0 };
                    }
                }
                row
            })
            .collect();
        for j in pinned(rows, unknowns.len()) {
            determined.push(unknowns[j]);
        }
    }
    determined.sort_unstable();
    determined
}

/// The columns of `rows` whose value the system fixes: after Gauss–Jordan elimination, the
/// pivots whose row holds nothing else.
fn pinned(mut rows: Vec<Vec<f64>>, columns: usize) -> Vec<usize> {
    let mut pivots: Vec<(usize, usize)> = Vec::new(); // (row, column)
    let mut next = 0;
    for col in 0..columns {
        let Some(best) = (next..rows.len())
            .filter(|&r| rows[r][col].abs() > EPS)
            .max_by(|&a, &b| rows[a][col].abs().total_cmp(&rows[b][col].abs()))
        else {
            continue;
        };
        rows.swap(next, best);
        let lead = rows[next][col];
        for v in rows[next].iter_mut() {
            *v /= lead;
        }
        let pivot_row = rows[next].clone();
        for (r, row) in rows.iter_mut().enumerate() {
            let factor = row[col];
            if r != next && factor.abs() > EPS {
                for (v, p) in row.iter_mut().zip(&pivot_row) {
                    *v -= factor * p;
                }
            }
        }
        pivots.push((next, col));
        next += 1;
    }
    pivots
        .into_iter()
        .filter(|&(r, col)| rows[r].iter().enumerate().all(|(j, v)| j == col || v.abs() <= EPS))
        .map(|(_, col)| col)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(counts: &[u64], masked: &[bool]) -> Vec<Option<u64>> {
        counts.iter().zip(masked).map(|(&n, &m)| (!m).then_some(n)).collect()
    }

    #[test]
    fn small_cells_are_masked_and_zero_is_shown() {
        let counts = [0, 1, 9, 10, 250];
        let masked = suppress(&counts, &[], 10);
        assert_eq!(shown(&counts, &masked), [Some(0), None, None, Some(10), Some(250)]);
        // A threshold of 1 masks nothing.
        assert!(suppress(&counts, &[], 1).iter().all(|m| !m));
    }

    #[test]
    fn a_lone_masked_part_takes_the_next_smallest_with_it() {
        // 40 = 3 + 12 + 25 + 0: 3 is small; alone it would be 40 − 12 − 25. The smallest shown
        // non-zero part is 12 (the zero is skipped): 3 + 12 = 15 ≥ 10.
        let counts = [40, 3, 12, 25, 0];
        let masked = suppress(&counts, &[vec![0, 1, 2, 3, 4]], 10);
        assert_eq!(shown(&counts, &masked), [Some(40), None, None, Some(25), Some(0)]);
    }

    #[test]
    fn masked_parts_under_a_shown_total_reach_the_threshold() {
        // 30 = 2 + 3 + 11 + 14: 2 and 3 are masked but add up to 5: anyone knows each is 1–4.
        // The next smallest, 11, goes too: 2 + 3 + 11 = 16.
        let counts = [30, 2, 3, 11, 14];
        let masked = suppress(&counts, &[vec![0, 1, 2, 3, 4]], 10);
        assert_eq!(shown(&counts, &masked), [Some(30), None, None, None, Some(14)]);
    }

    #[test]
    fn a_small_total_with_one_part_is_masked_with_it() {
        // 4 = 4 + 0: both small or zero; the zero part stays shown, the total and part masked.
        let counts = [4, 4, 0];
        let masked = suppress(&counts, &[vec![0, 1, 2]], 10);
        assert_eq!(shown(&counts, &masked), [None, None, Some(0)]);
    }

    #[test]
    fn equations_together_that_pin_a_value_are_widened() {
        // a = x + y (30 = 5 + 25), b = x + z (35 = 5 + 30), c = y + z (55 = 25 + 30). With x, y,
        // z masked every equation holds two masked figures, yet x = (a + b − c) / 2. Only x = 5 is
        // small; the first equation gives up y = 25, the second z = 30. The system then pins x, y
        // and z; the smallest figure beside them, a = 30, goes too, and then x = a − y and the
        // rest leave one degree of freedom: nothing is pinned.
        let counts = [30, 5, 25, 35, 30, 55];
        let equations = vec![vec![0, 1, 2], vec![3, 1, 4], vec![5, 2, 4]];
        let masked = suppress(&counts, &equations, 10);
        assert_eq!(shown(&counts, &masked), [None, None, None, Some(35), None, Some(55)]);
        assert!(determined_by_system(&masked, &equations, None).is_empty());
    }

    #[test]
    fn the_solver_finds_exactly_the_pinned_unknowns() {
        // x + y = k1 and x − y = k2 pin both; x + y = k alone pins none; x = k pins x.
        assert_eq!(pinned(vec![vec![1.0, 1.0], vec![1.0, -1.0]], 2), [0, 1]);
        assert!(pinned(vec![vec![1.0, 1.0]], 2).is_empty());
        assert_eq!(pinned(vec![vec![1.0, 0.0, 0.0], vec![0.0, 1.0, 1.0]], 3), [0]);
    }

    #[test]
    fn hidden_cells_of_a_cross_tab_are_protected_when_small() {
        // Partners a, b take only health referrals, c only english: the cross-tab cells
        // x_ah = 3, x_bh = 12, x_ce = 10 are never published, but anyone who knows whom each
        // partner serves can write health = x_ah + x_bh, a = x_ah, b = x_bh, c = x_ce,
        // english = x_ce. Cells: 0 overall 25, 1 a 3, 2 b 12, 3 c 10, 4 health 15,
        // 5 english 10, 6 x_ah, 7 x_bh, 8 x_ce.
        let counts = [25, 3, 12, 10, 15, 10, 3, 12, 10];
        let hidden = [false, false, false, false, false, false, true, true, true];
        let equations = vec![
            vec![0, 1, 2, 3],
            vec![0, 4, 5],
            vec![4, 6, 7],
            vec![5, 8],
            vec![1, 6],
            vec![2, 7],
            vec![3, 8],
        ];
        let masked = suppress_with_hidden(&counts, &hidden, &equations, 10);
        // a = 3 is small and alone in the partner equation. Its smallest complement there is
        // c = 10, but c = x_ce = english is public, so a = 25 − 12 − 10 would still follow:
        // c is passed over. b = 12 works: a + b = 15 = health, one degree of freedom left.
        // x_ce is then known (english), but it is large: nothing to protect.
        assert_eq!(
            shown(&counts[..6], &masked[..6]),
            [Some(25), None, None, Some(10), Some(15), Some(10)]
        );
        assert!(masked[6..].iter().all(|&m| m), "hidden cells stay hidden");
        let cells = Cells {
            counts: &counts,
            hidden: &hidden,
            masked: masked.clone(),
            threshold: 10,
            equations: &equations,
        };
        let pinned = cells.determined(&masked, None);
        assert!(pinned.is_empty(), "{pinned:?}");
    }

    #[test]
    fn a_large_hidden_cell_may_be_known() {
        // total 30 = x 30, hidden and large: nothing to protect, nothing masked.
        let masked = suppress_with_hidden(&[30, 30], &[false, true], &[vec![0, 1]], 10);
        assert_eq!(masked, [false, true]);
    }

    #[test]
    fn out_of_range_indices_are_ignored() {
        let masked = suppress(&[20, 5, 15], &[vec![0, 1, 2, 7]], 10);
        assert_eq!(masked, [false, true, true]);
    }
}
