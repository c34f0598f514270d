//! A whole simulation as users see it: a formula next to a baseline, over the need table,
//! with members where the formula has a member rule, the change against the prior year and
//! the baseline, and what drove each change. The CLI and the web page both call [`run`].

use std::collections::BTreeSet;
use std::io::Write;

use serde::Serialize;

use crate::members::member_formula;
use crate::{
    AllocationError, Cents, Formula, IndicatorSource, Measure, MemberTable, NeedTable, Simulation, Unit, dollars,
    simulate,
};

/// A published (already suppressed) total of the metrics engine at one scope.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Figure {
    /// `None` when the figure is masked.
    pub count: Option<u64>,
    pub rate: Option<f64>,
}

/// Where published figures come from: the caller's suppressed report.
pub trait Figures {
    /// The total of `metric` at `scope`; `None` when the scope is not in the store.
    fn figure(&self, scope: &str, metric: &str) -> Option<Figure>;
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("the need table has no column {column:?} (formula {formula:?})")]
    MissingNeedColumn { column: String, formula: String },
    #[error("{0} is not a scope of the store")]
    UnknownScope(String),
    #[error("formula {0:?} shares allocations among members: give a member table (member_id, unit_id, prior_year)")]
    NoMemberTable(String),
    #[error("unit {0} has no members in the member table")]
    NoMembers(String),
    #[error("{formula}: {source}")]
    Allocation {
        formula: String,
        #[source]
        source: AllocationError,
    },
}

/// The inputs of a simulation: everything but the published figures.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub formula: Formula,
    pub baseline: Option<Formula>,
    pub need: NeedTable,
    pub members: Option<MemberTable>,
}

/// How one part (the base, or an indicator) moved a unit's money against the baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartChange {
    pub part: String,
    pub cents: Cents,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberResult {
    pub member: String,
    pub prior: Cents,
    pub baseline: Option<Cents>,
    pub allocation: Cents,
    pub limit: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitResult {
    pub unit: String,
    pub prior: Cents,
    pub baseline: Option<Cents>,
    pub allocation: Cents,
    pub change_vs_prior: Cents,
    pub change_vs_baseline: Option<Cents>,
    /// The part that moved the allocation most in the direction it moved against the
    /// baseline, with its amount ("" when nothing moved by a dollar or more).
    pub driver: String,
    /// The same part and amount, when there is one.
    pub driver_part: Option<PartChange>,
    /// Every part's change against the baseline, largest first.
    pub changes: Vec<PartChange>,
    /// "floor", "cap" or "".
    pub limit: String,
    /// How many of this unit's inputs were masked figures, counted as 0.
    pub masked_inputs: usize,
    pub members: Vec<MemberResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub formula: String,
    pub baseline: Option<String>,
    pub budget_cents: Cents,
    pub units: Vec<UnitResult>,
    /// Masked figures counted as 0, across units and members.
    pub masked_inputs: usize,
}

/// One indicator column per indicator of `formula`, for `units`. Masked figures count as 0
/// and are recorded in `masked` as `scope:metric`: a masked count never moves money.
pub fn indicator_values(
    formula: &Formula,
    units: &[Unit],
    figures: &dyn Figures,
    masked: &mut BTreeSet<String>,
) -> Result<Vec<Vec<f64>>, ScenarioError> {
    let mut out = Vec::with_capacity(formula.indicators.len());
    for indicator in &formula.indicators {
        let mut column = Vec::with_capacity(units.len());
        for unit in units {
            let value = match &indicator.source {
                IndicatorSource::Need(name) => {
                    *unit.values.get(name).ok_or_else(|| ScenarioError::MissingNeedColumn {
                        column: name.clone(),
                        formula: formula.name.clone(),
                    })?
                }
                IndicatorSource::Metric(id, measure) => metric_value(figures, &unit.id, id, *measure, masked)?,
            };
            column.push(value);
        }
        out.push(column);
    }
    Ok(out)
}

fn metric_value(
    figures: &dyn Figures,
    scope: &str,
    metric: &str,
    measure: Measure,
    masked: &mut BTreeSet<String>,
) -> Result<f64, ScenarioError> {
    let figure = figures
        .figure(scope, metric)
        .ok_or_else(|| ScenarioError::UnknownScope(scope.to_owned()))?;
    let participants = figures.figure(scope, "participants").and_then(|f| f.count);
    if figure.count.is_none() || (measure == Measure::PerParticipant && participants.is_none()) {
        masked.insert(format!("{scope}:{metric}"));
    }
    Ok(match measure {
        Measure::Count => figure.count.unwrap_or(0) as f64,
        Measure::Rate => figure.rate.filter(|_| figure.count.is_some()).unwrap_or(0.0),
        Measure::PerParticipant => match (figure.count, participants) {
            (Some(n), Some(p)) if p > 0 => n as f64 / p as f64,
            _ => 0.0,
        },
    })
}

/// Allocates `formula` over the need table, then among members where it has a member rule.
fn allocate(
    formula: &Formula,
    scenario: &Scenario,
    figures: &dyn Figures,
    masked: &mut BTreeSet<String>,
) -> Result<(Simulation, Vec<Option<Simulation>>), ScenarioError> {
    let failed = |name: &str| {
        let formula = name.to_owned();
        move |source| ScenarioError::Allocation { formula, source }
    };
    let units = &scenario.need.units;
    let values = indicator_values(formula, units, figures, masked)?;
    let simulation = simulate(formula, units, &values).map_err(failed(&formula.name))?;
    let Some(rule) = &formula.members else {
        return Ok((simulation, vec![None; units.len()]));
    };
    let table = scenario
        .members
        .as_ref()
        .ok_or_else(|| ScenarioError::NoMemberTable(formula.name.clone()))?;
    let mut members = Vec::with_capacity(units.len());
    for line in &simulation.lines {
        let of = table.of(&line.unit);
        if of.is_empty() {
            return Err(ScenarioError::NoMembers(line.unit.clone()));
        }
        let mut sub = member_formula(rule, &line.unit, line.allocation);
        // Members cannot all be held above what their consortium itself received: the member
        // floor is at most the consortium's own ratio, less a cent a member for rounding.
        let prior_total: Cents = of.iter().map(|m| m.prior).sum();
        if let Some(h) = sub.hold_harmless.as_mut()
            && prior_total > 0
        {
            let room = (line.allocation - of.len() as Cents).max(0) as f64 / prior_total as f64;
            *h = h.min(room);
        }
        let values = indicator_values(&sub, &of, figures, masked)?;
        members.push(Some(simulate(&sub, &of, &values).map_err(failed(&sub.name))?));
    }
    Ok((simulation, members))
}

fn limit(at_floor: bool, at_cap: bool) -> String {
    if at_floor {
        "floor"
    } else if at_cap {
        "cap"
    } else {
        ""
    }
    .to_owned()
}

/// Runs the scenario on published `figures`.
pub fn run(scenario: &Scenario, figures: &dyn Figures) -> Result<Outcome, ScenarioError> {
    let mut masked = BTreeSet::new();
    let (main, main_members) = allocate(&scenario.formula, scenario, figures, &mut masked)?;
    let base = scenario
        .baseline
        .as_ref()
        .map(|b| allocate(b, scenario, figures, &mut masked))
        .transpose()?;
    let units = main
        .lines
        .iter()
        .enumerate()
        .map(|(u, line)| {
            let before = base.as_ref().map(|(b, _)| &b.lines[u]);
            let changes = part_changes(line, before);
            let net = before.map_or(0, |b| line.allocation - b.allocation);
            let driver_part = changes
                .iter()
                .find(|c| c.cents.signum() == net.signum() && c.cents.abs() >= 100)
                .cloned();
            let driver = driver_part
                .as_ref()
                .map(|c| {
                    format!(
                        "{} {}{}",
                        c.part,
                        if c.cents >= 0 { "+" } else { "-" },
                        dollars(c.cents.abs())
                    )
                })
                .unwrap_or_default();
            let base_members = base.as_ref().and_then(|(_, m)| m[u].as_ref());
            let members = main_members[u]
                .iter()
                .flat_map(|s| &s.lines)
                .enumerate()
                .map(|(i, m)| MemberResult {
                    member: m.unit.clone(),
                    prior: m.prior,
                    baseline: base_members.map(|b| b.lines[i].allocation),
                    allocation: m.allocation,
                    limit: limit(m.at_floor, m.at_cap),
                })
                .collect::<Vec<_>>();
            let scopes: Vec<&str> = std::iter::once(line.unit.as_str())
                .chain(members.iter().map(|m| m.member.as_str()))
                .collect();
            UnitResult {
                unit: line.unit.clone(),
                prior: line.prior,
                baseline: before.map(|b| b.allocation),
                allocation: line.allocation,
                change_vs_prior: line.allocation - line.prior,
                change_vs_baseline: before.map(|b| line.allocation - b.allocation),
                driver,
                driver_part,
                changes,
                limit: limit(line.at_floor, line.at_cap),
                masked_inputs: masked
                    .iter()
                    .filter(|m| m.rsplit_once(':').is_some_and(|(scope, _)| scopes.contains(&scope)))
                    .count(),
                members,
            }
        })
        .collect();
    Ok(Outcome {
        formula: main.formula,
        baseline: base.map(|(b, _)| b.formula),
        budget_cents: main.budget,
        units,
        masked_inputs: masked.len(),
    })
}

/// Each part's money in `line` less its money in `before` (0 where a formula lacks the
/// part), largest change first; parts that did not move by a cent are left out.
fn part_changes(line: &crate::Line, before: Option<&crate::Line>) -> Vec<PartChange> {
    let Some(before) = before else {
        return Vec::new();
    };
    let mut labels: Vec<&String> = line.parts.iter().map(|(l, _)| l).collect();
    for (l, _) in &before.parts {
        if !labels.contains(&l) {
            labels.push(l);
        }
    }
    let part = |of: &crate::Line, label: &str| {
        of.parts
            .iter()
            .filter(|(x, _)| x == label)
            .map(|(_, v)| *v)
            .sum::<f64>()
    };
    let mut changes: Vec<PartChange> = labels
        .into_iter()
        .map(|l| PartChange {
            part: l.clone(),
            cents: (part(line, l) - part(before, l)).round() as Cents,
        })
        .filter(|c| c.cents != 0)
        .collect();
    changes.sort_by(|a, b| b.cents.abs().cmp(&a.cents.abs()).then(a.part.cmp(&b.part)));
    changes
}

impl Outcome {
    /// The CSV form: one row per unit, then one per member of it (with `member_id` set).
    pub fn write_csv(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(
            out,
            "unit_id,member_id,prior_year,baseline,allocation,change_vs_prior,change_vs_baseline,driver,limit,masked_inputs"
        )?;
        let money = |c: Option<Cents>| c.map(dollars).unwrap_or_default();
        for u in &self.units {
            writeln!(
                out,
                "{},,{},{},{},{},{},{},{},{}",
                csv_field(&u.unit),
                dollars(u.prior),
                money(u.baseline),
                dollars(u.allocation),
                dollars(u.change_vs_prior),
                money(u.change_vs_baseline),
                csv_field(&u.driver),
                u.limit,
                u.masked_inputs
            )?;
            for m in &u.members {
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},,{},",
                    csv_field(&u.unit),
                    csv_field(&m.member),
                    dollars(m.prior),
                    money(m.baseline),
                    dollars(m.allocation),
                    dollars(m.allocation - m.prior),
                    money(m.baseline.map(|b| m.allocation - b)),
                    m.limit
                )?;
            }
        }
        Ok(())
    }
}

/// Quotes a field when it needs it, and neutralises a leading formula character so a
/// spreadsheet never evaluates it: the text-cell rule of `iip_domain::csv_safe::text_field`
/// (`= + - @`, tab, carriage return), repeated here because this crate is pure and depends on
/// no other IIP crate; `iip_domain::csv_safe`'s tests pin the rule.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{Base, Indicator, MemberRule};

    struct Table(BTreeMap<(String, String), Figure>);

    impl Figures for Table {
        fn figure(&self, scope: &str, metric: &str) -> Option<Figure> {
            self.0.get(&(scope.to_owned(), metric.to_owned())).copied()
        }
    }

    fn figures(rows: &[(&str, &str, Option<u64>)]) -> Table {
        Table(
            rows.iter()
                .map(|(s, m, c)| ((s.to_string(), m.to_string()), Figure { count: *c, rate: None }))
                .collect(),
        )
    }

    fn unit(id: &str, prior: Cents, need: f64) -> Unit {
        Unit {
            id: id.into(),
            prior,
            values: BTreeMap::from([("adults".to_owned(), need)]),
        }
    }

    fn formula(metric: Option<&str>) -> Formula {
        let mut indicators = vec![Indicator {
            source: IndicatorSource::Need("adults".into()),
            weight: 1.0,
            cap: None,
        }];
        if let Some(m) = metric {
            indicators.push(Indicator {
                source: IndicatorSource::Metric(m.into(), Measure::Count),
                weight: 1.0,
                cap: None,
            });
        }
        Formula {
            name: metric.map_or("baseline", |_| "integration").into(),
            budget: 100_000,
            budget_vs_prior: None,
            cola: 0.0,
            base: Base::PriorYearShare(0.5),
            indicators,
            hold_harmless: None,
            growth_cap: None,
            members: None,
        }
    }

    #[test]
    fn a_worked_comparison_by_hand_with_members_and_a_masked_figure() {
        // Budget $1,000. Base: half the prior year: A $200, B $300; $500 left.
        // Baseline: need 1:1 → $250 each → A $450, B $550.
        // Integration: $250 by need (1:1) → $125 each; $250 by milestones A 30, B masked
        // (counts as 0) → A $250, B $0. A = 200 + 125 + 250 = $575, B = 300 + 125 = $425.
        // A's change against the baseline, +$125: need −$125, milestones +$250 → driver
        // the milestones; B's −$125: need −$125, milestones 0 → driver the need.
        let need = NeedTable {
            units: vec![unit("a", 40_000, 1.0), unit("b", 60_000, 1.0)],
        };
        // Members of A share its allocation: 50 % of their prior year, the rest by
        // participants (a1 20, a2 masked). a1 prior $300 → base $150, a2 $100 → $50.
        // Integration: A $575 → $375 left → all to a1: a1 $525, a2 $50. Baseline: A $450
        // → $250 left → a1 $400, a2 $50.
        let members = MemberTable {
            members: vec![
                crate::Member {
                    id: "a1".into(),
                    unit: "a".into(),
                    prior: 30_000,
                },
                crate::Member {
                    id: "a2".into(),
                    unit: "a".into(),
                    prior: 10_000,
                },
                crate::Member {
                    id: "b1".into(),
                    unit: "b".into(),
                    prior: 60_000,
                },
            ],
        };
        let rule = MemberRule {
            prior_year_share: 0.5,
            metric: Some(("participants".into(), Measure::Count)),
            hold_harmless: None,
        };
        let scenario = Scenario {
            formula: Formula {
                members: Some(rule.clone()),
                ..formula(Some("any_milestone"))
            },
            baseline: Some(Formula {
                members: Some(rule),
                ..formula(None)
            }),
            need,
            members: Some(members),
        };
        let published = figures(&[
            ("a", "any_milestone", Some(30)),
            ("b", "any_milestone", None),
            ("a", "participants", Some(40)),
            ("b", "participants", Some(50)),
            ("a1", "participants", Some(20)),
            ("a2", "participants", None),
            ("b1", "participants", Some(50)),
        ]);
        let outcome = run(&scenario, &published).expect("runs");
        let a = &outcome.units[0];
        let b = &outcome.units[1];
        assert_eq!((a.allocation, a.baseline), (57_500, Some(45_000)));
        assert_eq!((b.allocation, b.baseline), (42_500, Some(55_000)));
        assert_eq!(a.driver, "metric:any_milestone +250.00");
        assert_eq!(b.driver, "need:adults -125.00");
        assert_eq!(
            a.changes,
            [
                PartChange {
                    part: "metric:any_milestone".into(),
                    cents: 25_000
                },
                PartChange {
                    part: "need:adults".into(),
                    cents: -12_500
                },
            ]
        );
        let members: Vec<(Cents, Option<Cents>)> = a.members.iter().map(|m| (m.allocation, m.baseline)).collect();
        assert_eq!(members, [(52_500, Some(40_000)), (5_000, Some(5_000))]);
        assert_eq!(b.members[0].allocation, 42_500);
        // b:any_milestone and a2:participants were masked (each counted once).
        assert_eq!((a.masked_inputs, b.masked_inputs, outcome.masked_inputs), (1, 1, 2));

        let mut csv = Vec::new();
        outcome.write_csv(&mut csv).expect("csv");
        let csv = String::from_utf8(csv).expect("utf-8");
        assert!(
            csv.contains("\na,,400.00,450.00,575.00,175.00,125.00,metric:any_milestone +250.00,,1\n"),
            "{csv}"
        );
        assert!(csv.contains("\na,a1,300.00,400.00,525.00,225.00,125.00,,,\n"), "{csv}");
    }

    #[test]
    fn a_member_rule_without_a_member_table_is_refused_by_name() {
        let scenario = Scenario {
            formula: Formula {
                members: Some(MemberRule {
                    prior_year_share: 1.0,
                    metric: None,
                    hold_harmless: None,
                }),
                ..formula(None)
            },
            baseline: None,
            need: NeedTable {
                units: vec![unit("a", 1, 1.0)],
            },
            members: None,
        };
        let err = run(&scenario, &figures(&[])).expect_err("no member table");
        assert!(err.to_string().contains("give a member table"), "{err}");
    }

    #[test]
    fn spreadsheet_formulas_are_neutralised() {
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
