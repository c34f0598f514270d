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
//!
//! [`suppress`] works on one set of figures and the equations between them. Figures released
//! together to different audiences (overlapping views) go through [`suppress_release`]
//! instead, which knows what each figure counts and adds pairs of close figures, the linear
//! system over the finest cells and feasible ranges (rules 4 to 6 there).

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
        tries: TRIES,
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
    /// How many complements are tried against the system before the smallest is taken.
    tries: usize,
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
        candidates.iter().copied().take(self.tries).find(|&c| {
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

// --- Figures released together --------------------------------------------------------------

/// What a figure counts: indices of the atoms (the finest disjoint cells, never published)
/// whose people it adds up, sorted, without repeats.
pub type Population = Vec<u32>;

/// Figures that are released together, each described by the people it counts.
///
/// Atoms are the finest cells anyone could ask about (for referrals: sender × receiver ×
/// element); each figure counts a set of them. A reader who sees several figures can add and
/// subtract them as vectors over the atoms, whatever view or breakdown each comes from, so the
/// figures of every view are decided here at once.
#[derive(Debug, Clone, Copy)]
pub struct Release<'a> {
    /// How many people each atom holds.
    pub atoms: &'a [u64],
    /// Every figure: published ones, and hidden ones (never published, protected when small,
    /// such as a sender's own referrals or a cross-tabulation cell).
    pub populations: &'a [Population],
    /// `hidden[c]` marks a figure that is never published (it comes back masked).
    pub hidden: &'a [bool],
    /// Totals and their parts (indices into `populations`), for rule 2.
    pub equations: &'a [Equation],
    pub threshold: u64,
}

/// Systems over more atoms than this are not solved (rule 2 and the pair rule still hold).
pub const MAX_ATOMS: usize = 2_000;

/// Which of `release.populations` must not be shown. Rules 1 to 3 of this module, over every
/// figure at once, and two more:
///
/// 4. **Pairs**: two published figures whose populations differ by 1 to `threshold − 1`
///    people (one nested in the other, such as the state's figure and a consortium's, or two
///    that overlap) are never both shown; the smaller is masked. What separates them becomes
///    a hidden figure, protected like any small one.
/// 5. **Systems over atoms**: a figure is determined when its population, as a vector over
///    the atoms, lies in the span of the shown figures' populations. Every withheld figure and
///    every small hidden one (each small atom among them) must not be; while one is, a shown
///    figure without which it would not be (one sharing an equation with it first, then the
///    smallest) is masked too, and everything is checked again.
/// 6. **Feasible ranges**: with the atoms non-negative, every withheld figure and every small
///    hidden one can take values at least `threshold` apart given the shown figures (a linear
///    program); otherwise a shown figure that bounds it is masked too.
///
/// Figures with the same population are one figure: they are masked alike.
pub fn suppress_release(release: &Release<'_>) -> Vec<bool> {
    let k = release.threshold;
    let atoms = release.atoms;
    let n = release.populations.len();
    let mut populations: Vec<Population> = release
        .populations
        .iter()
        .map(|p| {
            let mut p: Population = p.iter().copied().filter(|&a| (a as usize) < atoms.len()).collect();
            p.sort_unstable();
            p.dedup();
            p
        })
        .collect();
    let mut hidden: Vec<bool> = (0..n)
        .map(|c| release.hidden.get(c).copied().unwrap_or(false))
        .collect();
    // One figure per population, published in preference to hidden.
    let mut index: HashMap<Population, usize> = HashMap::new();
    for pass in [false, true] {
        for (c, p) in populations.iter().enumerate().filter(|(c, _)| hidden[*c] == pass) {
            index.entry(p.clone()).or_insert(c);
        }
    }
    let canonical: Vec<usize> = populations.iter().map(|p| index.get(p).copied().unwrap_or(0)).collect();
    for c in 0..n {
        hidden[c] = hidden[canonical[c]];
    }
    let count = |p: &[u32]| p.iter().map(|&a| atoms[a as usize]).sum::<u64>();
    let counts: Vec<u64> = populations.iter().map(|p| count(p)).collect();
    let published: Vec<bool> = (0..n).map(|c| canonical[c] == c && !hidden[c]).collect();
    let pairs = close_pairs(&populations, &counts, &published, atoms, k);
    // More hidden figures: each small atom, and what separates the figures of a close pair.
    let mut extra: Vec<Population> = (0..atoms.len() as u32)
        .filter(|&a| is_small(atoms[a as usize], k))
        .map(|a| vec![a])
        .collect();
    for &(a, b) in &pairs {
        extra.push(minus(&populations[a], &populations[b]));
        extra.push(minus(&populations[b], &populations[a]));
    }
    let mut canonical = canonical;
    for p in extra {
        if p.is_empty() || index.contains_key(&p) {
            continue;
        }
        index.insert(p.clone(), populations.len());
        canonical.push(populations.len());
        populations.push(p);
        hidden.push(true);
    }
    let counts: Vec<u64> = populations.iter().map(|p| count(p)).collect();
    let equations: Vec<Equation> = release
        .equations
        .iter()
        .map(|eq| {
            eq.iter()
                .copied()
                .filter(|&c| c < n)
                .map(|c| canonical[c])
                .collect::<Vec<_>>()
        })
        .filter(|eq| eq.len() >= 3 || (eq.len() == 2 && eq[0] != eq[1]))
        .collect();
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); populations.len()];
    for eq in &equations {
        for &c in eq {
            neighbours[c].extend(eq.iter().copied().filter(|&o| o != c));
        }
    }
    for list in &mut neighbours {
        list.sort_unstable();
        list.dedup();
    }
    let figures: Vec<bool> = (0..populations.len()).map(|c| canonical[c] == c).collect();
    let mut cells = Cells {
        counts: &counts,
        hidden: &hidden,
        masked: (0..populations.len())
            .map(|c| hidden[c] || is_small(counts[c], k))
            .collect(),
        threshold: k,
        equations: &equations,
        tries: 0,
    };
    // Masking only ever widens what a reader can infer, so a figure found wide stays wide.
    let mut wide = vec![false; populations.len()];
    loop {
        loop {
            let before = cells.masked.clone();
            cells.protect_each_equation();
            for &(a, b) in &pairs {
                if !cells.masked[a] && !cells.masked[b] {
                    let key = |c: usize| (counts[c], std::cmp::Reverse(c));
                    let smaller = if key(a) <= key(b) { a } else { b };
                    cells.masked[smaller] = true;
                }
            }
            if atoms.len() <= MAX_ATOMS {
                widen_by_system(&mut cells, &populations, &figures, atoms.len(), &neighbours);
            }
            if cells.masked == before {
                break;
            }
        }
        if atoms.len() > MAX_BOUNDED_ATOMS
            || !widen_by_bounds(&mut cells, &populations, &figures, atoms.len(), &neighbours, &mut wide)
        {
            break;
        }
    }
    (0..n).map(|c| cells.masked[canonical[c]]).collect()
}

/// Systems over more atoms than this are not bounded (rule 6); the other rules still hold.
pub const MAX_BOUNDED_ATOMS: usize = 600;

/// Rule 6 once: the least and greatest value of every withheld figure (and small hidden one)
/// not yet known to be wide, over non-negative atoms that give the shown figures their
/// values. For each whose range is narrower than the threshold, the smallest shown figure
/// that bounds it (a non-zero dual, one sharing an equation with it first) is masked too.
/// Returns whether anything was masked.
fn widen_by_bounds(
    cells: &mut Cells<'_>,
    populations: &[Population],
    figures: &[bool],
    dims: usize,
    neighbours: &[Vec<usize>],
    wide: &mut [bool],
) -> bool {
    let mut span = Span::new(dims);
    for c in 0..populations.len() {
        if figures[c] && !cells.masked[c] && !populations[c].is_empty() {
            span.add(c, &populations[c]);
        }
    }
    // The independent shown figures are the constraints (the others follow from them).
    let rows: Vec<usize> = span.basis.clone();
    let Some(bounds) = Bounds::new(
        &rows
            .iter()
            .map(|&c| (populations[c].as_slice(), cells.counts[c] as f64))
            .collect::<Vec<_>>(),
        dims,
    ) else {
        return false;
    };
    let k = cells.threshold as f64;
    let mut given_up: Vec<usize> = Vec::new();
    for q in 0..populations.len() {
        if wide[q] || !figures[q] || populations[q].is_empty() || !cells.protected(&cells.masked, q) {
            continue;
        }
        let (low, high, binding) = bounds.range(&populations[q]);
        if high - low >= k - 1e-6 {
            wide[q] = true;
            continue;
        }
        let binding: Vec<usize> = binding.into_iter().map(|r| rows[r]).collect();
        if binding.iter().any(|c| given_up.contains(c)) {
            continue; // this round's masking may widen it already: look again next round
        }
        let near = |c: usize| neighbours[q].binary_search(&c).is_ok();
        let pick = binding
            .iter()
            .copied()
            .filter(|&c| cells.available(c))
            .min_by_key(|&c| (!near(c), cells.counts[c], c))
            .or_else(|| {
                // No bounding figure found (numerically): the smallest shown figure sharing
                // an atom with it.
                rows.iter()
                    .copied()
                    .filter(|&c| cells.available(c) && shares_an_atom(&populations[c], &populations[q]))
                    .min_by_key(|&c| (!near(c), cells.counts[c], c))
            });
        if let Some(c) = pick {
            cells.masked[c] = true;
            given_up.push(c);
        }
    }
    !given_up.is_empty()
}

fn shares_an_atom(a: &[u32], b: &[u32]) -> bool {
    a.iter().any(|x| b.binary_search(x).is_ok())
}

/// Non-negative atoms giving independent figures their values: `A x = b`, `x ≥ 0`, as a
/// simplex tableau in a feasible basis. The columns after the atoms are the first phase's
/// artificial ones, kept: they hold the basis inverse, whence the duals.
struct Bounds {
    tableau: Vec<Vec<f64>>,
    basis: Vec<usize>,
    atoms: usize,
}

impl Bounds {
    /// `None` when the first phase does not find the (known) feasible point: numerically lost.
    fn new(rows: &[(&[u32], f64)], atoms: usize) -> Option<Self> {
        let m = rows.len();
        let mut tableau: Vec<Vec<f64>> = rows
            .iter()
            .enumerate()
            .map(|(i, (population, value))| {
                let mut t = vec![0.0; atoms + m + 1];
                for &a in *population {
                    t[a as usize] = 1.0;
                }
                t[atoms + i] = 1.0;
                t[atoms + m] = *value;
                t
            })
            .collect();
        let mut basis: Vec<usize> = (atoms..atoms + m).collect();
        let cost: Vec<f64> = (0..atoms + m).map(|j| if j >= atoms { 1.0 } else { 0.0 }).collect();
        let infeasibility = simplex(&mut tableau, &mut basis, &cost, atoms + m)?;
        if infeasibility.abs() > 1e-6 {
            return None;
        }
        // Artificials still in the basis (at zero) leave it: the rows are independent.
        for i in 0..m {
            if basis[i] >= atoms
                && let Some(j) = (0..atoms).find(|&j| tableau[i][j].abs() > 1e-9)
            {
                pivot(&mut tableau, i, j);
                basis[i] = j;
            }
        }
        Some(Self { tableau, basis, atoms })
    }

    /// The least and greatest number of people `population` can hold, and the rows whose
    /// duals are non-zero at either end (the figures that bound it).
    fn range(&self, population: &[u32]) -> (f64, f64, Vec<usize>) {
        let m = self.tableau.len();
        let mut binding = Vec::new();
        let mut solve = |sign: f64| -> Option<f64> {
            let mut cost = vec![0.0; self.atoms + m];
            for &a in population {
                cost[a as usize] = sign;
            }
            let (mut tableau, mut basis) = (self.tableau.clone(), self.basis.clone());
            let value = simplex(&mut tableau, &mut basis, &cost, self.atoms)?;
            for i in 0..m {
                let dual: f64 = basis
                    .iter()
                    .zip(&tableau)
                    .map(|(&b, row)| cost[b] * row[self.atoms + i])
                    .sum();
                if dual.abs() > 1e-9 && !binding.contains(&i) {
                    binding.push(i);
                }
            }
            Some(sign * value)
        };
        let low = solve(1.0).unwrap_or(0.0);
        let high = solve(-1.0).unwrap_or(f64::INFINITY);
        binding.sort_unstable();
        (low, high, binding)
    }
}

/// Pivots the tableau on row `r`, column `j`.
fn pivot(tableau: &mut [Vec<f64>], r: usize, j: usize) {
    let lead = tableau[r][j];
    for x in tableau[r].iter_mut() {
        *x /= lead;
    }
    let row = tableau[r].clone();
    for (i, other) in tableau.iter_mut().enumerate() {
        let f = other[j];
        if i != r && f.abs() > 1e-12 {
            for (x, y) in other.iter_mut().zip(&row) {
                *x -= f * y;
            }
        }
    }
}

/// Minimises `cost · x` over the tableau (rows `[coefficients | value]`, `basis` their basic
/// columns), letting only columns below `usable` enter; Bland's rule, so it never cycles.
/// `None` when unbounded.
fn simplex(tableau: &mut [Vec<f64>], basis: &mut [usize], cost: &[f64], usable: usize) -> Option<f64> {
    let Some(width) = tableau.first().map(|r| r.len() - 1) else {
        return Some(0.0);
    };
    loop {
        let reduced = |j: usize| {
            cost[j]
                - basis
                    .iter()
                    .zip(tableau.iter())
                    .map(|(&b, row)| cost[b] * row[j])
                    .sum::<f64>()
        };
        let Some(enter) = (0..usable).find(|&j| !basis.contains(&j) && reduced(j) < -1e-9) else {
            return Some(
                basis
                    .iter()
                    .zip(tableau.iter())
                    .map(|(&b, row)| cost[b] * row[width])
                    .sum(),
            );
        };
        let leave = (0..tableau.len())
            .filter(|&i| tableau[i][enter] > 1e-9)
            .min_by(|&a, &b| {
                let ra = tableau[a][width] / tableau[a][enter];
                let rb = tableau[b][width] / tableau[b][enter];
                if (ra - rb).abs() > 1e-9 {
                    ra.total_cmp(&rb)
                } else {
                    basis[a].cmp(&basis[b])
                }
            })?;
        pivot(tableau, leave, enter);
        basis[leave] = enter;
    }
}

/// `a` without the atoms of `b`.
fn minus(a: &[u32], b: &[u32]) -> Population {
    a.iter().copied().filter(|x| b.binary_search(x).is_err()).collect()
}

/// How many people are in one population and not the other, counted up to `limit`.
fn distance(a: &[u32], b: &[u32], atoms: &[u64], limit: u64) -> u64 {
    let (mut i, mut j, mut d) = (0, 0, 0u64);
    while (i < a.len() || j < b.len()) && d < limit {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => {
                d += atoms[*x as usize];
                i += 1;
            }
            (Some(x), None) => {
                d += atoms[*x as usize];
                i += 1;
            }
            (_, Some(y)) => {
                d += atoms[*y as usize];
                j += 1;
            }
            (None, None) => break,
        }
    }
    d
}

/// Published figures of at least `threshold` whose populations differ by 1 to `threshold − 1`
/// people, as `(smaller index, larger index)` pairs. (A small figure is masked anyway.)
fn close_pairs(
    populations: &[Population],
    counts: &[u64],
    published: &[bool],
    atoms: &[u64],
    threshold: u64,
) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..published.len())
        .filter(|&c| published[c] && counts[c] >= threshold)
        .collect();
    order.sort_unstable_by_key(|&c| (counts[c], c));
    let mut pairs = Vec::new();
    for (i, &a) in order.iter().enumerate() {
        for &b in &order[i + 1..] {
            if counts[b] - counts[a] >= threshold {
                break;
            }
            let d = distance(&populations[a], &populations[b], atoms, threshold);
            if is_small(d, threshold) {
                pairs.push((a.min(b), a.max(b)));
            }
        }
    }
    pairs.sort_unstable();
    pairs
}

/// Rule 5 once: masks, for each protected figure the shown ones determine, one shown figure
/// that frees it. Returns whether anything was masked.
fn widen_by_system(
    cells: &mut Cells<'_>,
    populations: &[Population],
    figures: &[bool],
    dims: usize,
    neighbours: &[Vec<usize>],
) -> bool {
    let mut span = Span::new(dims);
    for c in 0..populations.len() {
        if figures[c] && !cells.masked[c] && !populations[c].is_empty() {
            span.add(c, &populations[c]);
        }
    }
    let mut freed = vec![false; span.basis.len()];
    let mut fallback: Option<(usize, Vec<f64>)> = None;
    let mut changed = false;
    for q in 0..populations.len() {
        if !figures[q] || populations[q].is_empty() || !cells.protected(&cells.masked, q) {
            continue;
        }
        let Some(lambda) = span.coordinates(&populations[q]) else {
            continue;
        };
        if lambda.iter().zip(&freed).any(|(l, f)| *f && l.abs() > EPS) {
            continue; // a figure masked this round frees it already
        }
        let near = |c: usize| neighbours[q].binary_search(&c).is_ok();
        // A basis figure no other shown figure can stand in for, on which q depends.
        let best = (0..span.basis.len())
            .filter(|&j| span.coloop[j] && lambda[j].abs() > EPS && cells.available(span.basis[j]))
            .min_by_key(|&j| {
                let c = span.basis[j];
                (!near(c), cells.counts[c], c)
            });
        match best {
            Some(j) => {
                cells.masked[span.basis[j]] = true;
                freed[j] = true;
                changed = true;
            }
            None if fallback.is_none() => fallback = Some((q, lambda)),
            None => {}
        }
    }
    if !changed && let Some((q, lambda)) = fallback {
        // No single figure frees q: give up the smallest one it rests on (or one standing in
        // for it), and look again next round.
        let on: Vec<usize> = (0..lambda.len()).filter(|&j| lambda[j].abs() > EPS).collect();
        let mut involved: Vec<usize> = on.iter().map(|&j| span.basis[j]).collect();
        for (c, coefficients) in &span.dependents {
            if coefficients.iter().any(|(j, t)| t.abs() > EPS && on.contains(j)) {
                involved.push(*c);
            }
        }
        let near = |c: usize| neighbours[q].binary_search(&c).is_ok();
        if let Some(c) = involved
            .into_iter()
            .filter(|&c| cells.available(c))
            .min_by_key(|&c| (!near(c), cells.counts[c], c))
        {
            cells.masked[c] = true;
            changed = true;
        }
    }
    changed
}

/// Residuals below this are zero: the vector lies in the span.
const RESIDUAL: f64 = 1e-7;

/// The span of shown figures' populations over the atoms, in reduced row echelon form, with
/// each reduced row written in terms of the figures that make up the basis.
struct Span {
    dims: usize,
    /// Reduced rows (dense over the atoms) and their pivot columns.
    rows: Vec<Vec<f64>>,
    pivot: Vec<usize>,
    /// `rows[i] = Σ_j mix[i][j] · population of basis[j]`.
    mix: Vec<Vec<f64>>,
    /// The figures of the basis.
    basis: Vec<usize>,
    /// Whether no other shown figure depends on basis figure j (so masking it shrinks the span).
    coloop: Vec<bool>,
    /// Shown figures outside the basis, with their coordinates over it.
    dependents: Vec<(usize, Vec<(usize, f64)>)>,
}

impl Span {
    fn new(dims: usize) -> Self {
        Self {
            dims,
            rows: Vec::new(),
            pivot: Vec::new(),
            mix: Vec::new(),
            basis: Vec::new(),
            coloop: Vec::new(),
            dependents: Vec::new(),
        }
    }

    /// The residual of `population` after the reduced rows, and the factor of each row.
    fn reduce(&self, population: &[u32]) -> (Vec<f64>, Vec<f64>) {
        let mut v = vec![0.0; self.dims];
        for &a in population {
            v[a as usize] = 1.0;
        }
        // Each row is zero at the other rows' pivots, so the factors are v's own values there.
        let factors: Vec<f64> = self.pivot.iter().map(|&p| v[p]).collect();
        for (row, &f) in self.rows.iter().zip(&factors) {
            if f.abs() > EPS {
                for (x, r) in v.iter_mut().zip(row) {
                    *x -= f * r;
                }
            }
        }
        (v, factors)
    }

    /// Σ factors[i] · mix[i]: coordinates over the basis figures.
    fn combine(&self, factors: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.basis.len()];
        for (mix, &f) in self.mix.iter().zip(factors) {
            if f.abs() > EPS {
                for (o, m) in out.iter_mut().zip(mix) {
                    *o += f * m;
                }
            }
        }
        out
    }

    /// The coordinates of `population` over the basis figures, when the span holds it.
    fn coordinates(&self, population: &[u32]) -> Option<Vec<f64>> {
        let (residual, factors) = self.reduce(population);
        residual
            .iter()
            .all(|x| x.abs() <= RESIDUAL)
            .then(|| self.combine(&factors))
    }

    fn add(&mut self, figure: usize, population: &[u32]) {
        let (residual, factors) = self.reduce(population);
        let Some((column, lead)) = residual
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, x)| x.abs() > RESIDUAL)
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()).then(b.0.cmp(&a.0)))
        else {
            let coordinates = self.combine(&factors);
            let mut sparse = Vec::new();
            for (j, t) in coordinates.into_iter().enumerate() {
                if t.abs() > EPS {
                    self.coloop[j] = false;
                    sparse.push((j, t));
                }
            }
            self.dependents.push((figure, sparse));
            return;
        };
        let row: Vec<f64> = residual.iter().map(|x| x / lead).collect();
        let mut mix = self.combine(&factors);
        for m in &mut mix {
            *m = -*m / lead;
        }
        mix.push(1.0 / lead);
        for other in &mut self.mix {
            other.push(0.0);
        }
        for (r, other) in self.rows.iter_mut().enumerate() {
            let g = other[column];
            if g.abs() > EPS {
                for (x, y) in other.iter_mut().zip(&row) {
                    *x -= g * y;
                }
                other[column] = 0.0;
                for (x, y) in self.mix[r].iter_mut().zip(&mix) {
                    *x -= g * y;
                }
            }
        }
        self.rows.push(row);
        self.pivot.push(column);
        self.mix.push(mix);
        self.basis.push(figure);
        self.coloop.push(true);
    }
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
            tries: TRIES,
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

    fn release(atoms: &[u64], populations: &[Vec<u32>], equations: &[Equation]) -> Vec<bool> {
        suppress_release(&Release {
            atoms,
            populations,
            hidden: &vec![false; populations.len()],
            equations,
            threshold: 10,
        })
    }

    #[test]
    fn nested_figures_a_few_apart_are_not_both_shown() {
        // The state's 53 and the north's 50: the south's 3 would be 53 − 50. The smaller goes;
        // the 3 (atom 1) is then neither shown nor determined, and its range is 0–53.
        let masked = release(&[50, 3], &[vec![0, 1], vec![0]], &[]);
        assert_eq!(masked, [false, true]);
        // Ten apart is fine.
        assert_eq!(release(&[50, 10], &[vec![0, 1], vec![0]], &[]), [false, false]);
    }

    #[test]
    fn the_same_people_are_one_figure_masked_alike() {
        // Two views' figures over the same atoms, and a small part of one: both go together.
        let populations = [vec![0, 1], vec![1, 0], vec![1], vec![0]];
        let masked = release(&[4, 20], &populations, &[vec![0, 2, 3]]);
        assert_eq!(masked, [false, false, true, true]);
    }

    #[test]
    fn a_withheld_figure_bounded_narrowly_takes_one_more_with_it() {
        // Atoms x 3, y 10, z 1, w 7. T = x + y = 13, U = y + z = 11, V = x + w = 10 are shown;
        // X, Y, Z, W withheld (Y as X's complement). No equation exposes X and the system pins
        // nothing, but with the atoms non-negative y ≥ 3 (w = y − 3) and y ≤ 11, so x is 2–10:
        // eight wide. One of the shown totals goes too.
        let populations = [vec![0, 1], vec![1, 2], vec![0, 3], vec![0], vec![1], vec![2], vec![3]];
        let equations = vec![vec![0, 3, 4], vec![1, 4, 5], vec![2, 3, 6]];
        let masked = release(&[3, 10, 1, 7], &populations, &equations);
        assert!(masked[3..].iter().all(|&m| m), "{masked:?}");
        assert!(masked[..3].iter().any(|&m| m), "{masked:?}");
        // Whatever stays shown leaves every withheld figure at least 10 wide.
        let shown: Vec<(&[u32], f64)> = (0..3)
            .filter(|&c| !masked[c])
            .map(|c| (populations[c].as_slice(), [13.0, 11.0, 10.0][c]))
            .collect();
        let bounds = Bounds::new(&shown, 4).expect("feasible");
        for p in &populations[3..] {
            let (low, high, _) = bounds.range(p);
            assert!(high - low >= 10.0 - 1e-9, "{p:?}: {low}–{high}");
        }
    }

    #[test]
    fn the_span_knows_what_the_shown_figures_determine() {
        // Shown: {0, 1}, {1, 2} and {0, 1} again. {0, 1} is determined, {0} alone is not.
        let mut span = Span::new(3);
        span.add(0, &[0, 1]);
        span.add(1, &[1, 2]);
        span.add(2, &[0, 1]);
        assert!(span.coordinates(&[0]).is_none());
        assert!(span.coordinates(&[0, 1]).is_some());
        // Figure 2 repeats figure 0: neither is indispensable; figure 1 is.
        assert_eq!(span.coloop, [false, true]);
    }
}
