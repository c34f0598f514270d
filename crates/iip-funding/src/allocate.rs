//! The allocation: base, indicator shares, limits, then exact cents.

use serde::Serialize;

use crate::formula::{Base, Formula};
use crate::{Cents, Unit};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AllocationError {
    #[error("indicator {0} has {1} values for {2} units")]
    Shape(String, usize, usize),
    #[error("the hold-harmless floors need {floors} cents but the budget is {budget}")]
    FloorsExceedBudget { floors: Cents, budget: Cents },
    #[error("every unit is at its growth cap ({caps} cents) and the budget ({budget}) is larger")]
    CapsBelowBudget { caps: Cents, budget: Cents },
}

/// One unit's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    pub unit: String,
    pub prior: Cents,
    pub allocation: Cents,
    /// What the base, then each indicator (by label), contributed, in cents before rounding,
    /// scaled like the unit's whole amount when a limit applied.
    pub parts: Vec<(String, f64)>,
    pub at_floor: bool,
    pub at_cap: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Simulation {
    pub formula: String,
    pub budget: Cents,
    pub lines: Vec<Line>,
}

pub type Allocation = Simulation;

/// Shares of one indicator: proportional to the values (equal when all are 0), none above
/// `cap`, the excess shared among the others in proportion.
fn shares(values: &[f64], cap: Option<f64>) -> Vec<f64> {
    let n = values.len();
    let total: f64 = values.iter().sum();
    let mut shares: Vec<f64> = if total > 0.0 {
        values.iter().map(|v| v / total).collect()
    } else {
        vec![1.0 / n as f64; n]
    };
    let Some(cap) = cap.filter(|c| *c * n as f64 >= 1.0) else {
        return shares;
    };
    let mut fixed = vec![false; n];
    loop {
        let over: Vec<usize> = (0..n).filter(|&u| !fixed[u] && shares[u] > cap + 1e-15).collect();
        if over.is_empty() {
            return shares;
        }
        for &u in &over {
            fixed[u] = true;
            shares[u] = cap;
        }
        let left = 1.0 - fixed.iter().filter(|f| **f).count() as f64 * cap;
        let free_total: f64 = (0..n).filter(|&u| !fixed[u]).map(|u| values[u].max(0.0)).sum();
        let free = (0..n).filter(|&u| !fixed[u]).count() as f64;
        for u in (0..n).filter(|&u| !fixed[u]) {
            shares[u] = if free_total > 0.0 {
                left * values[u] / free_total
            } else {
                left / free
            };
        }
    }
}

/// Runs `formula` for `units`; `values[i][u]` is indicator `i` for unit `u` (need columns and
/// published metric figures, resolved by the caller).
pub fn simulate(formula: &Formula, units: &[Unit], values: &[Vec<f64>]) -> Result<Simulation, AllocationError> {
    let n = units.len();
    for (indicator, column) in formula.indicators.iter().zip(values) {
        if column.len() != n {
            return Err(AllocationError::Shape(indicator.label(), column.len(), n));
        }
    }
    let budget_cents: Cents = match formula.budget_vs_prior {
        Some(factor) => (units.iter().map(|u| u.prior as f64).sum::<f64>() * factor).round() as Cents,
        None => formula.budget,
    };
    let budget = budget_cents as f64;
    let adjusted: Vec<f64> = units.iter().map(|u| u.prior as f64 * (1.0 + formula.cola)).collect();
    let mut base: Vec<f64> = match formula.base {
        Base::None => vec![0.0; n],
        Base::PriorYearShare(share) => adjusted.iter().map(|a| a * share).collect(),
        Base::Floor(floor) => vec![floor as f64; n],
    };
    // Bases larger than the budget shrink together.
    let base_total: f64 = base.iter().sum();
    if base_total > budget {
        for b in &mut base {
            *b *= budget / base_total;
        }
    }
    let pool = budget - base.iter().sum::<f64>();
    let weight_total: f64 = formula.indicators.iter().map(|i| i.weight).sum();
    let mut parts: Vec<Vec<(String, f64)>> = (0..n).map(|u| vec![("base".to_owned(), base[u])]).collect();
    for (indicator, column) in formula.indicators.iter().zip(values) {
        let money = if weight_total > 0.0 {
            pool * indicator.weight / weight_total
        } else {
            0.0
        };
        for (u, share) in shares(column, indicator.cap).into_iter().enumerate() {
            parts[u].push((indicator.label(), money * share));
        }
    }
    if formula.indicators.is_empty() && pool > 0.0 {
        // No indicators: what the base leaves is shared like the base.
        let total: f64 = base.iter().sum();
        for (u, p) in parts.iter_mut().enumerate() {
            let share = if total > 0.0 { base[u] / total } else { 1.0 / n as f64 };
            p.push(("remainder".to_owned(), pool * share));
        }
    }
    let formula_amount: Vec<f64> = parts.iter().map(|p| p.iter().map(|(_, v)| v).sum()).collect();

    // Limits: floors and caps in whole cents, fixed one round at a time; the free units share
    // what is left in proportion to their formula amounts.
    let floor: Vec<Cents> = units
        .iter()
        .map(|u| {
            formula
                .hold_harmless
                .map_or(0, |h| (u.prior as f64 * h).ceil() as Cents)
        })
        .collect();
    let cap: Vec<Option<Cents>> = units
        .iter()
        .map(|u| {
            formula
                .growth_cap
                .filter(|_| u.prior > 0)
                .map(|g| (u.prior as f64 * g).floor() as Cents)
        })
        .collect();
    let floors: Cents = floor.iter().sum();
    if floors > budget_cents {
        return Err(AllocationError::FloorsExceedBudget {
            floors,
            budget: budget_cents,
        });
    }
    if let Some(caps) = cap.iter().copied().sum::<Option<Cents>>()
        && caps < budget_cents
    {
        return Err(AllocationError::CapsBelowBudget {
            caps,
            budget: budget_cents,
        });
    }
    // Limits: every unit gets its formula amount times one common factor λ, clamped to its
    // floor and cap; λ is found by bisection so that the clamped amounts add up to the budget.
    // (Clamping is monotone, so more of an indicator never lowers a unit's amount.)
    let clamp = |u: usize, x: f64| -> f64 {
        let x = x.max(floor[u] as f64);
        cap[u].map_or(x, |c| x.min(c as f64))
    };
    let mut weights = formula_amount.clone();
    let reachable = |w: &[f64]| -> f64 {
        (0..n)
            .map(|u| {
                if w[u] > 0.0 {
                    cap[u].map_or(f64::INFINITY, |c| c as f64)
                } else {
                    clamp(u, 0.0)
                }
            })
            .sum()
    };
    if reachable(&weights) < budget {
        // The units the formula favours are all capped: share the rest evenly.
        weights = vec![1.0; n];
    }
    let total_at = |lambda: f64| -> f64 { (0..n).map(|u| clamp(u, lambda * weights[u])).sum() };
    let mut hi = 1.0;
    while total_at(hi) < budget && hi < 1e30 {
        hi *= 2.0;
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if total_at(mid) < budget {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let mut amount: Vec<f64> = (0..n).map(|u| clamp(u, hi * weights[u])).collect();
    // Bisection leaves a sliver of a cent: trim it from (or add it to) the free units.
    let excess = amount.iter().sum::<f64>() - budget;
    let free: Vec<usize> = (0..n)
        .filter(|&u| amount[u] > floor[u] as f64 && cap[u].is_none_or(|c| amount[u] < c as f64))
        .collect();
    if !free.is_empty() {
        let free_total: f64 = free.iter().map(|&u| amount[u]).sum();
        for &u in &free {
            amount[u] -= excess * amount[u] / free_total.max(f64::MIN_POSITIVE);
        }
    }
    let fixed: Vec<Option<Cents>> = (0..n)
        .map(|u| {
            if amount[u] <= floor[u] as f64 {
                amount[u] = floor[u] as f64;
                Some(floor[u])
            } else if cap[u].is_some_and(|c| amount[u] >= c as f64) {
                amount[u] = cap[u].unwrap_or_default() as f64;
                cap[u]
            } else {
                None
            }
        })
        .collect();

    // Largest remainder: whole cents down, then the cents left to the largest fractions.
    let mut cents: Vec<Cents> = amount.iter().map(|a| a.floor() as Cents).collect();
    let mut left = budget_cents - cents.iter().sum::<Cents>();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        (amount[b] - amount[b].floor())
            .total_cmp(&(amount[a] - amount[a].floor()))
            .then(a.cmp(&b))
    });
    // A sliver of float error can leave a cent too many: take it from the smallest fractions
    // among units above their floors.
    while left < 0 {
        let Some(&u) = order.iter().rev().find(|&&u| cents[u] > floor[u]) else {
            break;
        };
        cents[u] -= 1;
        left += 1;
    }
    // Fixed units sit exactly on a whole-cent limit: the cents go to the free ones (to anyone
    // not at a cap if none is free).
    let mut takers: Vec<usize> = order.iter().copied().filter(|&u| fixed[u].is_none()).collect();
    if takers.is_empty() {
        takers = order
            .iter()
            .copied()
            .filter(|&u| cap[u].is_none_or(|c| cents[u] < c))
            .collect();
    }
    let mut i = 0;
    while left > 0 && !takers.is_empty() {
        cents[takers[i % takers.len()]] += 1;
        left -= 1;
        i += 1;
    }
    let lines = units
        .iter()
        .enumerate()
        .map(|(u, unit)| {
            let scale = if formula_amount[u] > 0.0 {
                amount[u] / formula_amount[u]
            } else {
                0.0
            };
            Line {
                unit: unit.id.clone(),
                prior: unit.prior,
                allocation: cents[u],
                parts: parts[u].iter().map(|(l, v)| (l.clone(), v * scale)).collect(),
                at_floor: fixed[u].is_some() && fixed[u] == Some(floor[u]) && formula.hold_harmless.is_some(),
                at_cap: fixed[u].is_some() && fixed[u] == cap[u],
            }
        })
        .collect();
    Ok(Simulation {
        formula: formula.name.clone(),
        budget: budget_cents,
        lines,
    })
}
