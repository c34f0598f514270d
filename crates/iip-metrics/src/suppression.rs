//! Small-cell suppression, the one module every output goes through.
//!
//! 1. **Primary**: a count from 1 to threshold−1 is masked (10 by default, 3 for survey-based
//!    metrics); a rate is masked when its numerator or its denominator is. Zero is shown.
//! 2. **Complementary**: figures that add up are linked by *equations* — a total and its
//!    groups, a parent scope and its children, the roots and the sector roll-ups, a level
//!    roll-up and its organizations. In every equation, either nothing is masked, or at least
//!    two figures are, and when the total is shown the masked parts add up to at least the
//!    threshold (so subtraction yields neither a masked value nor a narrow range). The engine
//!    masks the next smallest non-zero part until that holds everywhere.
//! 3. Masked groups of a breakdown are published together as an `all_masked` group when their
//!    sum reaches the threshold and the total is shown (it is then derivable anyway).

use std::collections::HashMap;

use crate::engine::{Dimension, ScopeDef};
use crate::snapshot::Snapshot;

/// The key of a total (no group) in a breakdown position.
pub(crate) const ALL: u16 = u16::MAX;

/// One raw figure: scope, metric, breakdown key, and its counts.
#[derive(Debug, Clone)]
pub(crate) struct Cell {
    pub scope: u32,
    pub metric: u16,
    pub key: [u16; 2],
    pub num: u64,
    pub den: Option<u64>,
    pub value: Option<f64>,
    pub threshold: u64,
    pub masked: bool,
}

impl Cell {
    fn is_small(&self, count: u64) -> bool {
        (1..self.threshold).contains(&count)
    }

    /// The count that decides which complementary cell to give up: the smallest loses least.
    fn size(&self) -> u64 {
        self.den.unwrap_or(self.num)
    }
}

/// Each equation lists cell indices; the first is the total (masked last, if at all).
pub(crate) type Equations = Vec<Vec<usize>>;

/// The additive relations between the cells of a query.
pub(crate) fn equations(
    snapshot: &Snapshot,
    scopes: &[(String, ScopeDef)],
    dims: &[(Dimension, Vec<String>)],
    cells: &[Cell],
) -> Equations {
    let index: HashMap<(u32, u16, [u16; 2]), usize> = cells
        .iter()
        .enumerate()
        .map(|(i, c)| ((c.scope, c.metric, c.key), i))
        .collect();
    let metrics = cells.iter().map(|c| c.metric).max().map_or(0, |m| m + 1);
    let mut keys: Vec<[u16; 2]> = vec![[ALL, ALL]];
    for (d, (_, values)) in dims.iter().enumerate() {
        let mut more = Vec::new();
        for key in &keys {
            for v in 0..values.len() as u16 {
                let mut k = *key;
                k[d] = v;
                more.push(k);
            }
        }
        keys.extend(more);
    }
    let mut equations = Equations::new();
    let mut add = |members: Vec<Option<usize>>| {
        // A missing total or part is a zero: known, so it drops out of the equation.
        let eq: Vec<usize> = members.into_iter().flatten().collect();
        if eq.len() >= 2 {
            equations.push(eq);
        }
    };

    // Within a scope: the groups of a partition add up to their total.
    for s in 0..scopes.len() as u32 {
        for m in 0..metrics {
            for (d, (dim, values)) in dims.iter().enumerate() {
                if !dim.is_partition() {
                    continue;
                }
                let others: Vec<u16> = match dims.get(1 - d) {
                    Some((_, other)) if dims.len() == 2 => std::iter::once(ALL).chain(0..other.len() as u16).collect(),
                    _ => vec![ALL],
                };
                for other in others {
                    let at = |v: u16| {
                        let mut key = [ALL, ALL];
                        key[d] = v;
                        if dims.len() == 2 {
                            key[1 - d] = other;
                        }
                        index.get(&(s, m, key)).copied()
                    };
                    let mut eq = vec![at(ALL)];
                    eq.extend((0..values.len() as u16).map(at));
                    add(eq);
                }
            }
        }
    }

    // Across scopes, for every metric and group.
    let scope_of_org: HashMap<u32, u32> = scopes
        .iter()
        .enumerate()
        .filter_map(|(s, (_, def))| match def {
            ScopeDef::Org(o) => Some((*o, s as u32)),
            _ => None,
        })
        .collect();
    let org_scope = |o: u32| scope_of_org.get(&o).copied();
    let mut families: Vec<Vec<u32>> = Vec::new();
    for (o, org) in snapshot.orgs.iter().enumerate() {
        if org.children.is_empty() {
            continue;
        }
        let mut family: Vec<u32> = org_scope(o as u32).into_iter().collect();
        family.extend(org.children.iter().filter_map(|&c| org_scope(c)));
        families.push(family);
    }
    let roots: Vec<u32> = (0..snapshot.orgs.len() as u32)
        .filter(|&o| snapshot.orgs[o as usize].parent.is_none())
        .filter_map(org_scope)
        .collect();
    let sectors: Vec<u32> = scopes
        .iter()
        .enumerate()
        .filter(|(_, (_, d))| matches!(d, ScopeDef::Sector(_)))
        .map(|(s, _)| s as u32)
        .collect();
    if !sectors.is_empty() {
        families.push(roots.iter().chain(&sectors).copied().collect());
    }
    // A sector roll-up holds its organizations' own records; for an organization without
    // children that is exactly its scope. (Others' own records are never published: leaving
    // them out only makes the equation stricter.)
    for &s in &sectors {
        let ScopeDef::Sector(sector) = scopes[s as usize].1 else {
            continue;
        };
        let mut family = vec![s];
        family.extend(
            snapshot
                .orgs
                .iter()
                .enumerate()
                .filter(|(_, o)| o.sector == sector && o.children.is_empty())
                .filter_map(|(o, _)| org_scope(o as u32)),
        );
        families.push(family);
    }
    for (s, (_, def)) in scopes.iter().enumerate() {
        let ScopeDef::Level(level) = def else { continue };
        let mut family = vec![s as u32];
        for (o, org) in snapshot.orgs.iter().enumerate() {
            let mut above = org.parent;
            let mut nested = false;
            while let Some(a) = above {
                nested |= snapshot.orgs[a as usize].level == *level;
                above = snapshot.orgs[a as usize].parent;
            }
            if org.level == *level && !nested {
                family.extend(org_scope(o as u32));
            }
        }
        families.push(family);
    }
    for family in &families {
        for m in 0..metrics {
            for key in &keys {
                add(family.iter().map(|&s| index.get(&(s, m, *key)).copied()).collect());
            }
        }
    }
    equations
}

/// Marks every cell that must not be shown.
pub(crate) fn suppress(cells: &mut [Cell], equations: &Equations) {
    for cell in cells.iter_mut() {
        cell.masked = cell.is_small(cell.num) || cell.den.is_some_and(|d| cell.is_small(d));
    }
    // Components of the system that may have changed since they were last solved: all of
    // them at first, then those holding a figure masked in the round before.
    let mut focus: Option<Vec<bool>> = None;
    loop {
        let before: Vec<bool> = cells.iter().map(|c| c.masked).collect();
        protect_each_equation(cells, equations);
        // One equation at a time is not enough: several together can pin a value (two
        // unknowns, two independent equations). Solve them as a system and, for every masked
        // figure it determines, give up one more figure beside it; then check again.
        let changed_since: Option<Vec<bool>> = focus.take().map(|mut f| {
            for (c, was) in before.iter().enumerate() {
                f[c] |= cells[c].masked != *was;
            }
            f
        });
        let determined = determined_by_system(cells, equations, changed_since.as_deref());
        let before: Vec<bool> = cells.iter().map(|c| c.masked).collect();
        if determined.is_empty() {
            break;
        }
        let mut widened = false;
        for (cell, component) in determined {
            // Prefer a neighbour in the cell's own equations; when those are all masked
            // already, the value is pinned by shown figures further away in its system:
            // give up the smallest of those.
            let pick = equations
                .iter()
                .filter(|eq| eq.contains(&cell))
                .filter_map(|eq| pick_complement(cells, eq))
                .min_by_key(|&c| (cells[c].size(), c))
                .or_else(|| {
                    component
                        .iter()
                        .flat_map(|&e| equations[e].iter().copied())
                        .filter(|&c| !cells[c].masked && cells[c].size() > 0)
                        .min_by_key(|&c| (cells[c].size(), c))
                });
            if let Some(c) = pick {
                cells[c].masked = true;
                widened = true;
            }
        }
        if !widened {
            break;
        }
        focus = Some(cells.iter().zip(&before).map(|(c, was)| c.masked != *was).collect());
    }
}

/// The smallest shown non-zero part of an equation, else its total if shown and non-zero.
fn pick_complement(cells: &[Cell], eq: &[usize]) -> Option<usize> {
    eq[1..]
        .iter()
        .copied()
        .filter(|&c| !cells[c].masked && cells[c].size() > 0)
        .min_by_key(|&c| (cells[c].size(), c))
        .or_else(|| (!cells[eq[0]].masked && cells[eq[0]].size() > 0).then_some(eq[0]))
}

/// In every equation: no masked figure alone, and masked parts under a shown total adding up
/// to at least the threshold.
fn protect_each_equation(cells: &mut [Cell], equations: &Equations) {
    loop {
        let mut changed = false;
        for eq in equations {
            let (mut masked, mut masked_parts) = (0usize, 0u64);
            for (k, &c) in eq.iter().enumerate() {
                if cells[c].masked {
                    masked += 1;
                    if k > 0 {
                        masked_parts += cells[c].size();
                    }
                }
            }
            if masked == 0 {
                continue;
            }
            let total = &cells[eq[0]];
            let exposed = masked == 1 || (!total.masked && masked_parts < total.threshold);
            if exposed && let Some(c) = pick_complement(cells, eq) {
                cells[c].masked = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

/// Systems larger than this many masked figures are not solved exactly (the per-equation
/// rules still hold for them). A two-way breakdown of one metric over every scope of a
/// generated region makes systems of about 1 000 unknowns.
const MAX_SYSTEM: usize = 20_000;

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

/// Masked cells whose value follows from the equations taken together (Gaussian elimination
/// over the masked unknowns, component by component).
/// With `focus`, only components holding a cell marked in it are solved (the others were
/// solved before and have not changed).
fn determined_by_system(cells: &[Cell], equations: &Equations, focus: Option<&[bool]>) -> Vec<(usize, Vec<usize>)> {
    // Connected components of masked cells, linked by shared equations.
    let mut parent: Vec<usize> = (0..cells.len()).collect();
    let mut rows: Vec<&Vec<usize>> = Vec::new();
    let mut row_equation: Vec<usize> = Vec::new();
    for (e, eq) in equations.iter().enumerate() {
        let mut masked = eq.iter().copied().filter(|&c| cells[c].masked);
        let Some(first) = masked.next() else { continue };
        for other in masked {
            let (a, b) = (find(&mut parent, first), find(&mut parent, other));
            if a != b {
                parent[a] = b;
            }
        }
        rows.push(eq);
        row_equation.push(e);
    }
    let mut components: HashMap<usize, (Vec<usize>, Vec<usize>)> = HashMap::new();
    for c in (0..cells.len()).filter(|&c| cells[c].masked) {
        let root = find(&mut parent, c);
        components.entry(root).or_default().0.push(c);
    }
    for (r, eq) in rows.iter().enumerate() {
        let Some(first) = eq.iter().copied().find(|&c| cells[c].masked) else {
            continue;
        };
        let root = find(&mut parent, first);
        if let Some(component) = components.get_mut(&root) {
            component.1.push(r);
        }
    }
    let work: Vec<(Vec<usize>, Vec<usize>)> = components
        .into_values()
        .filter(|(unknowns, component_rows)| {
            unknowns.len() <= MAX_SYSTEM
                && !component_rows.is_empty()
                && focus.is_none_or(|focus| unknowns.iter().any(|&c| focus[c]))
        })
        .collect();
    let solve = |(unknowns, component_rows): &(Vec<usize>, Vec<usize>)| -> Vec<(usize, Vec<usize>)> {
        let column: HashMap<usize, usize> = unknowns.iter().enumerate().map(|(i, &c)| (c, i)).collect();
        let equations: Vec<SparseRow> = component_rows
            .iter()
            .map(|&r| {
                let mut row: SparseRow = Vec::new();
                for (k, &c) in rows[r].iter().enumerate() {
                    if let Some(&j) = column.get(&c) {
                        row.push((j, if k == 0 { 1.0 } else { -1.0 }));
                    }
                }
                row.sort_by_key(|e| e.0);
                row.dedup_by(|later, kept| {
                    if later.0 == kept.0 {
                        kept.1 += later.1;
                        true
                    } else {
                        false
                    }
                });
                row.retain(|e| e.1.abs() > EPS);
                row
            })
            .collect();
        let pinned = pinned_unknowns(equations);
        if pinned.is_empty() {
            return Vec::new();
        }
        let component_equations: Vec<usize> = component_rows.iter().map(|&r| row_equation[r]).collect();
        pinned
            .into_iter()
            .map(|j| (unknowns[j], component_equations.clone()))
            .collect()
    };
    // Components are independent: large systems are shared between two threads.
    let size: usize = work.iter().map(|w| w.0.len()).sum();
    let mut determined: Vec<(usize, Vec<usize>)> = if size > 2_000 && work.len() > 1 {
        let (left, right) = work.split_at(work.len() / 2);
        std::thread::scope(|scope| {
            let other = scope.spawn(|| left.iter().flat_map(solve).collect::<Vec<_>>());
            let mut mine: Vec<_> = right.iter().flat_map(solve).collect();
            // A panic in the other half must not pass for "nothing determined".
            mine.extend(other.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
            mine
        })
    } else {
        work.iter().flat_map(solve).collect()
    };
    determined.sort_unstable_by_key(|d| d.0);
    determined
}

const EPS: f64 = 1e-9;

/// A sparse equation over the unknowns: `(column, coefficient)`, sorted by column.
type SparseRow = Vec<(usize, f64)>;

/// `a - factor * b`, both sorted.
fn subtract(a: &SparseRow, factor: f64, b: &SparseRow) -> SparseRow {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let take = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x.0 == y.0 => {
                i += 1;
                j += 1;
                (x.0, x.1 - factor * y.1)
            }
            (Some(x), Some(y)) if x.0 < y.0 => {
                i += 1;
                *x
            }
            (Some(x), None) => {
                i += 1;
                *x
            }
            (_, Some(y)) => {
                j += 1;
                (y.0, -factor * y.1)
            }
            (None, None) => break,
        };
        if take.1.abs() > EPS {
            out.push(take);
        }
    }
    out
}

fn coefficient(row: &SparseRow, column: usize) -> Option<f64> {
    row.binary_search_by_key(&column, |e| e.0).ok().map(|i| row[i].1)
}

/// Gauss–Jordan elimination on sparse rows, keeping every pivot row fully reduced; returns
/// the unknowns whose pivot row has no other entry: the values the system pins down.
#[inline(never)]
fn pinned_unknowns(equations: Vec<SparseRow>) -> Vec<usize> {
    let mut pivots: Vec<(usize, SparseRow)> = Vec::new(); // (pivot column, row)
    let mut pivot_of: HashMap<usize, usize> = HashMap::new(); // column -> index in pivots
    for mut row in equations {
        // Reduce by the existing pivots (they are reduced, so one pass suffices).
        let hits: Vec<usize> = row.iter().filter_map(|e| pivot_of.get(&e.0).copied()).collect();
        for p in hits {
            let (column, ref pivot_row) = pivots[p];
            if let Some(factor) = coefficient(&row, column) {
                row = subtract(&row, factor, pivot_row);
            }
        }
        let Some(&(column, lead)) = row.iter().max_by(|a, b| a.1.abs().total_cmp(&b.1.abs())) else {
            continue; // dependent on the rows before
        };
        for entry in &mut row {
            entry.1 /= lead;
        }
        for (_, other) in pivots.iter_mut() {
            if let Some(factor) = coefficient(other, column) {
                *other = subtract(other, factor, &row);
            }
        }
        pivot_of.insert(column, pivots.len());
        pivots.push((column, row));
    }
    pivots
        .into_iter()
        .filter(|(_, row)| row.len() == 1)
        .map(|(column, _)| column)
        .collect()
}

/// The `all_masked` figure of one breakdown equation: the masked groups together, when the
/// total is shown and the sum is itself not small.
pub(crate) fn all_masked(cells: &[Cell], eq: &[usize]) -> Option<(u64, Option<u64>)> {
    let total = &cells[*eq.first()?];
    if total.masked {
        return None;
    }
    let masked: Vec<&Cell> = eq[1..].iter().map(|&c| &cells[c]).filter(|c| c.masked).collect();
    if masked.is_empty() {
        return None;
    }
    let num: u64 = masked.iter().map(|c| c.num).sum();
    let den = total.den.map(|_| masked.iter().filter_map(|c| c.den).sum::<u64>());
    let small = |n: u64| (1..total.threshold).contains(&n);
    (!small(num) && !den.is_some_and(small) && den.is_none_or(|d| d > 0) && (den.is_some() || num > 0))
        .then_some((num, den))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equations_together_can_pin_a_value_and_are_then_widened() {
        // a = x + y and b = x + z with x, y, z masked look safe one by one, but with c = y + z
        // shown too: x = (a + b - c) / 2. Cells: a=30, x=5, y=25, b=35, z=30, c=55.
        let mut cells: Vec<Cell> = [30, 5, 25, 35, 30, 55].iter().map(|&n| cell(n)).collect();
        for c in [1, 2, 4] {
            cells[c].threshold = 100; // force x, y, z masked by the primary rule
        }
        let equations = vec![vec![0, 1, 2], vec![3, 1, 4], vec![5, 2, 4]];
        for c in [1, 2, 4] {
            cells[c].masked = true;
        }
        let determined: Vec<usize> = determined_by_system(&cells, &equations, None)
            .into_iter()
            .map(|d| d.0)
            .collect();
        assert_eq!(determined, vec![1, 2, 4]);
        suppress(&mut cells, &equations);
        assert!(determined_by_system(&cells, &equations, None).is_empty());
    }

    fn cell(num: u64) -> Cell {
        Cell {
            scope: 0,
            metric: 0,
            key: [ALL, ALL],
            num,
            den: None,
            value: None,
            threshold: 10,
            masked: false,
        }
    }

    fn masked_after(values: &[u64]) -> Vec<bool> {
        let mut cells: Vec<Cell> = values.iter().map(|&n| cell(n)).collect();
        let eq: Vec<usize> = (0..cells.len()).collect();
        suppress(&mut cells, &vec![eq]);
        cells.iter().map(|c| c.masked).collect()
    }

    #[test]
    fn counts_one_to_nine_are_hidden_zero_and_ten_are_shown() {
        assert_eq!(masked_after(&[9]), [true]);
        assert_eq!(masked_after(&[1]), [true]);
        assert_eq!(masked_after(&[0]), [false]);
        assert_eq!(masked_after(&[10]), [false]);
    }

    #[test]
    fn a_lone_masked_group_takes_the_next_smallest_with_it() {
        // total 100 = 60 + 25 + 12 + 3: the 3 alone would be 100 - 60 - 25 - 12.
        assert_eq!(masked_after(&[100, 60, 25, 12, 3]), [false, false, false, true, true]);
        // Zeros protect nothing: the 12 is taken, not the 0.
        assert_eq!(masked_after(&[75, 60, 0, 12, 3]), [false, false, false, true, true]);
    }

    #[test]
    fn masked_parts_must_add_up_to_the_threshold() {
        // 1 and 2 are both masked, but 23 - 20 = 3 would leave only (1, 2) or (2, 1): the 20
        // goes too, so the masked parts sum to 23.
        assert_eq!(masked_after(&[23, 20, 1, 2]), [false, true, true, true]);
    }

    #[test]
    fn when_no_part_can_be_given_up_the_total_goes() {
        // 5 = 0 + 5: the part is masked, nothing else is non-zero, so the total hides.
        assert_eq!(masked_after(&[5, 0, 5]), [true, false, true]);
        assert_eq!(masked_after(&[15, 0, 15]), [false, false, false]);
    }

    #[test]
    fn rates_hide_when_either_side_is_small() {
        let mut cells = vec![Cell {
            den: Some(40),
            num: 5,
            ..cell(0)
        }];
        suppress(&mut cells, &Vec::new());
        assert!(cells[0].masked);
        let mut cells = vec![Cell {
            den: Some(9),
            num: 0,
            ..cell(0)
        }];
        suppress(&mut cells, &Vec::new());
        assert!(
            cells[0].masked,
            "a small denominator hides the rate even when the numerator is 0"
        );
    }

    #[test]
    fn all_masked_sums_only_when_large_enough() {
        let mut cells: Vec<Cell> = [100, 60, 25, 9, 6].iter().map(|&n| cell(n)).collect();
        let eq: Vec<usize> = (0..cells.len()).collect();
        suppress(&mut cells, &vec![eq.clone()]);
        assert_eq!(all_masked(&cells, &eq), Some((15, None)));
        let mut cells: Vec<Cell> = [100, 60, 30, 10, 0].iter().map(|&n| cell(n)).collect();
        suppress(&mut cells, &vec![eq.clone()]);
        assert_eq!(all_masked(&cells, &eq), None, "nothing masked");
    }
}
