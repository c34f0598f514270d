//! The funding-formula simulator (docs/funding.md): what a state formula with integration
//! outcomes would give every consortium, next to a baseline formula.
//!
//! Pure and deterministic: a [`Formula`] (TOML), the units' prior-year amounts and indicator
//! values go in; allocations in integer cents come out, adding up to the budget exactly, with
//! hold-harmless floors and growth caps respected. This crate knows no storage and no metrics
//! engine: callers hand it published (already suppressed) figures.

mod allocate;
mod formula;
mod need;

pub use allocate::{Allocation, AllocationError, Line, Simulation, simulate};
pub use formula::{Base, Formula, FormulaError, Indicator, IndicatorSource, Measure};
pub use need::{NeedError, NeedTable, Unit};

/// Money in integer cents.
pub type Cents = i64;

/// Formats cents as dollars: `123456` → `1234.56`.
pub fn dollars(cents: Cents) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}
