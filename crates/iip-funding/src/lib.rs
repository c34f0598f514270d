//! The funding-formula simulator (docs/funding.md): what a state formula with integration
//! outcomes would give every consortium, next to a baseline formula.
//!
//! Pure and deterministic: a [`Formula`] (TOML), the units' prior-year amounts and indicator
//! values go in; allocations in integer cents come out, adding up to the budget exactly, with
//! hold-harmless floors and growth caps respected. This crate knows no storage and no metrics
//! engine: callers hand it published (already suppressed) figures.

mod allocate;
mod formula;
mod members;
mod need;
pub mod plausible;
mod scenario;

pub use allocate::{Allocation, AllocationError, Line, Simulation, simulate};
pub use formula::{Base, Formula, FormulaError, Indicator, IndicatorSource, Measure, MemberRule};
pub use members::{Member, MemberTable};
pub use need::{NeedError, NeedTable, Unit};
pub use scenario::{Figure, Figures, MemberResult, Outcome, PartChange, Scenario, ScenarioError, UnitResult, run};

/// The shipped formulas (`funding/*.toml`), built in so the demo needs no files.
pub const BASELINE_FORMULA: (&str, &str) = ("funding/baseline.toml", include_str!("../../../funding/baseline.toml"));
pub const INTEGRATION_FORMULA: (&str, &str) = (
    "funding/integration.toml",
    include_str!("../../../funding/integration.toml"),
);

/// Money in integer cents.
pub type Cents = i64;

/// Formats cents as dollars: `123456` → `1234.56`.
pub fn dollars(cents: Cents) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}
