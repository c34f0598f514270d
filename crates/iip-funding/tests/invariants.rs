//! Property tests of the allocation's invariants: exact totals, floors, caps, monotonicity.

use std::collections::BTreeMap;

use iip_funding::{Base, Formula, Indicator, IndicatorSource, Unit, simulate};
use proptest::prelude::*;

fn unit(id: usize, prior: i64) -> Unit {
    Unit {
        id: format!("u{id}"),
        prior,
        values: BTreeMap::new(),
    }
}

prop_compose! {
    fn case()(n in 2usize..8)(
        priors in prop::collection::vec(0i64..50_000_000, n),
        values in prop::collection::vec(prop::collection::vec(0u32..10_000, n), 1..4),
        weights in prop::collection::vec(1u32..10, 3),
        caps in prop::collection::vec(prop::option::of(0.2f64..1.0), 3),
        share in prop::option::of(0.0f64..1.0),
        hold in prop::option::of(0.5f64..1.0),
        growth in prop::option::of(1.0f64..1.5),
        budget_factor in 0.8f64..1.6,
        cola in 0.0f64..0.05,
    ) -> (Formula, Vec<Unit>, Vec<Vec<f64>>) {
        let units: Vec<Unit> = priors.iter().enumerate().map(|(i, p)| unit(i, *p)).collect();
        let prior_total: i64 = priors.iter().sum::<i64>().max(100_000);
        let indicators = values
            .iter()
            .enumerate()
            .map(|(i, _)| Indicator {
                source: IndicatorSource::Need(format!("x{i}")),
                weight: f64::from(weights[i]),
                cap: caps[i],
            })
            .collect();
        let formula = Formula {
            name: "p".into(),
            budget: (prior_total as f64 * budget_factor) as i64,
            budget_vs_prior: None,
            cola,
            base: share.map_or(Base::None, Base::PriorYearShare),
            indicators,
            hold_harmless: hold,
            growth_cap: growth,
            members: None,
        };
        let values = values.iter().map(|v| v.iter().map(|x| f64::from(*x)).collect()).collect();
        (formula, units, values)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn allocations_add_up_and_respect_floors_and_caps((formula, units, values) in case()) {
        let Ok(sim) = simulate(&formula, &units, &values) else {
            // Infeasible limits are refused, never half-applied.
            let floors: i64 = units.iter().map(|u| formula.hold_harmless.map_or(0, |h| (u.prior as f64 * h).ceil() as i64)).sum();
            let caps: Option<i64> = units.iter().map(|u| formula.growth_cap.filter(|_| u.prior > 0).map(|g| (u.prior as f64 * g).floor() as i64)).sum();
            prop_assert!(floors > formula.budget || caps.is_some_and(|c| c < formula.budget));
            return Ok(());
        };
        let total: i64 = sim.lines.iter().map(|l| l.allocation).sum();
        prop_assert_eq!(total, formula.budget);
        for line in &sim.lines {
            prop_assert!(line.allocation >= 0);
            if let Some(h) = formula.hold_harmless {
                prop_assert!(line.allocation >= (line.prior as f64 * h).ceil() as i64, "floor: {:?}", line);
            }
            if let Some(g) = formula.growth_cap.filter(|_| line.prior > 0) {
                prop_assert!(line.allocation <= (line.prior as f64 * g).floor() as i64, "cap: {:?}", line);
            }
        }
    }

    #[test]
    fn more_of_a_weighted_indicator_never_lowers_the_allocation(
        (formula, units, values) in case(),
        who in 0usize..8,
        which in 0usize..3,
        extra in 1u32..5_000,
    ) {
        let who = who % units.len();
        let which = which % values.len();
        let Ok(before) = simulate(&formula, &units, &values) else { return Ok(()) };
        let mut more = values.clone();
        more[which][who] += f64::from(extra);
        let after = simulate(&formula, &units, &more).expect("same limits, still feasible");
        prop_assert!(
            after.lines[who].allocation >= before.lines[who].allocation,
            "{} went from {} to {}",
            units[who].id,
            before.lines[who].allocation,
            after.lines[who].allocation
        );
    }
}

#[test]
fn a_worked_example_by_hand() {
    // Budget $1,000; base 50 % of the prior year; one need indicator; no limits.
    // Priors $400 and $600 → bases $200 and $300; pool $500 shared 1:3 → $125 and $375.
    let formula = Formula {
        name: "w".into(),
        budget: 100_000,
        budget_vs_prior: None,
        cola: 0.0,
        base: Base::PriorYearShare(0.5),
        indicators: vec![Indicator {
            source: IndicatorSource::Need("adults".into()),
            weight: 1.0,
            cap: None,
        }],
        hold_harmless: None,
        growth_cap: None,
        members: None,
    };
    let units = vec![unit(0, 40_000), unit(1, 60_000)];
    let sim = simulate(&formula, &units, &[vec![1.0, 3.0]]).expect("feasible");
    assert_eq!(sim.lines[0].allocation, 32_500);
    assert_eq!(sim.lines[1].allocation, 67_500);
    // With a 95 % hold-harmless floor, unit 1 may not fall below $570 — it does not — and
    // unit 0's floor is $380, so it rises to $380 and unit 1 gets the rest, $620.
    let held = Formula {
        hold_harmless: Some(0.95),
        ..formula
    };
    let sim = simulate(&held, &units, &[vec![1.0, 3.0]]).expect("feasible");
    assert_eq!((sim.lines[0].allocation, sim.lines[1].allocation), (38_000, 62_000));
    assert!(sim.lines[0].at_floor && !sim.lines[1].at_floor);
}

mod members {
    use std::collections::BTreeMap;

    use iip_funding::{
        Base, Figure, Figures, Formula, Indicator, IndicatorSource, Measure, Member, MemberRule, MemberTable,
        NeedTable, Scenario, Unit, run,
    };
    use proptest::prelude::*;

    #[derive(Debug)]
    struct Counts(BTreeMap<String, Option<u64>>);

    impl Figures for Counts {
        fn figure(&self, scope: &str, _metric: &str) -> Option<Figure> {
            Some(Figure {
                count: self.0.get(scope).copied().flatten(),
                rate: None,
            })
        }
    }

    prop_compose! {
        fn world()(units in 1usize..5, per in 1usize..5)(
            priors in prop::collection::vec(prop::collection::vec(0i64..5_000_000, per), units),
            counts in prop::collection::vec(prop::option::of(0u64..500), units * per),
            need in prop::collection::vec(0u32..1000, units),
            share in 0.0f64..1.0,
            hold in prop::option::of(0.5f64..1.0),
            budget_factor in 0.9f64..1.3,
        ) -> (Scenario, Counts) {
            let mut members = Vec::new();
            let mut counts_by = BTreeMap::new();
            let mut need_units = Vec::new();
            for (u, member_priors) in priors.iter().enumerate() {
                for (m, prior) in member_priors.iter().enumerate() {
                    let id = format!("u{u}m{m}");
                    counts_by.insert(id.clone(), counts[u * member_priors.len() + m]);
                    members.push(Member { id, unit: format!("u{u}"), prior: *prior });
                }
                need_units.push(Unit {
                    id: format!("u{u}"),
                    prior: member_priors.iter().sum(),
                    values: BTreeMap::from([("adults".to_owned(), f64::from(need[u]))]),
                });
            }
            let formula = Formula {
                name: "m".into(),
                budget: 0,
                budget_vs_prior: Some(budget_factor),
                cola: 0.0,
                base: Base::PriorYearShare(0.8),
                indicators: vec![Indicator { source: IndicatorSource::Need("adults".into()), weight: 1.0, cap: None }],
                hold_harmless: hold,
                growth_cap: None,
                members: Some(MemberRule {
                    prior_year_share: share,
                    metric: Some(("participants".into(), Measure::Count)),
                    hold_harmless: hold,
                }),
            };
            let scenario = Scenario {
                formula,
                baseline: None,
                need: NeedTable { units: need_units },
                members: Some(MemberTable { members }),
            };
            (scenario, Counts(counts_by))
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn members_share_their_consortium_exactly_and_keep_their_floors((scenario, counts) in world()) {
            let outcome = match run(&scenario, &counts) {
                Ok(outcome) => outcome,
                // Only the consortium-level floors can be infeasible (budget below them);
                // the member split never is.
                Err(e) => {
                    prop_assert!(e.to_string().starts_with("m: the hold-harmless floors"), "{}", e);
                    return Ok(());
                }
            };
            let table = scenario.members.as_ref().expect("members");
            for unit in &outcome.units {
                let total: i64 = unit.members.iter().map(|m| m.allocation).sum();
                prop_assert_eq!(total, unit.allocation, "{}", unit.unit);
                let prior_total: i64 = table.of(&unit.unit).iter().map(|m| m.prior).sum();
                if let (Some(h), true) = (scenario.formula.members.as_ref().and_then(|r| r.hold_harmless), prior_total > 0) {
                    let room = (unit.allocation - unit.members.len() as i64).max(0) as f64 / prior_total as f64;
                    let floor = h.min(room);
                    for m in &unit.members {
                        prop_assert!(m.allocation >= (m.prior as f64 * floor).ceil() as i64, "{:?}", m);
                    }
                }
            }
        }
    }
}
