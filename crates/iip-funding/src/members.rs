//! Members: the organizations of a consortium that share its allocation (a formula's
//! `[members]` rule), with their prior-year amounts from a member table.

use crate::formula::{Base, Formula, Indicator, IndicatorSource, MemberRule};
use crate::need::NeedError;
use crate::{Cents, Unit};

/// One member: its id (a scope of the store), its consortium and its prior-year amount.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub id: String,
    pub unit: String,
    pub prior: Cents,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct MemberTable {
    pub members: Vec<Member>,
}

impl MemberTable {
    /// Parses CSV with the columns `member_id`, `unit_id` and `prior_year` (dollars); every
    /// problem is reported with its line and column.
    pub fn parse(source: &str, path: &str) -> Result<Self, NeedError> {
        let mut reader = csv::ReaderBuilder::new().from_reader(source.trim_start_matches('\u{feff}').as_bytes());
        let unreadable = |e: csv::Error| NeedError::Unreadable {
            path: path.to_owned(),
            message: e.to_string(),
        };
        let headers = reader.headers().map_err(unreadable)?.clone();
        let column = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .ok_or_else(|| NeedError::Invalid {
                    path: path.to_owned(),
                    line: 1,
                    column: name.to_owned(),
                    message: "required column is missing".into(),
                })
        };
        let (member_at, unit_at, prior_at) = (column("member_id")?, column("unit_id")?, column("prior_year")?);
        if let Some(extra) = headers
            .iter()
            .find(|h| !["member_id", "unit_id", "prior_year"].contains(h))
        {
            return Err(NeedError::Invalid {
                path: path.to_owned(),
                line: 1,
                column: extra.to_owned(),
                message: "is not a column of a member table (member_id, unit_id, prior_year)".into(),
            });
        }
        let mut members: Vec<Member> = Vec::new();
        for record in reader.records() {
            let record = record.map_err(unreadable)?;
            let line = record.position().map_or(0, |p| p.line());
            let invalid = |column: &str, message: String| NeedError::Invalid {
                path: path.to_owned(),
                line,
                column: column.to_owned(),
                message,
            };
            let field = |at: usize| record.get(at).unwrap_or_default().trim();
            let (id, unit) = (field(member_at), field(unit_at));
            if id.is_empty() {
                return Err(invalid("member_id", "must not be empty".into()));
            }
            if unit.is_empty() {
                return Err(invalid("unit_id", "must not be empty".into()));
            }
            if members.iter().any(|m| m.id == id) {
                return Err(invalid("member_id", format!("{id:?} appears twice")));
            }
            let prior = match field(prior_at).parse::<f64>() {
                Ok(v) if (0.0..1e13).contains(&v) => (v * 100.0).round() as Cents,
                _ => {
                    return Err(invalid(
                        "prior_year",
                        format!("{:?} is not an amount of 0 or more", field(prior_at)),
                    ));
                }
            };
            members.push(Member {
                id: id.to_owned(),
                unit: unit.to_owned(),
                prior,
            });
        }
        Ok(Self { members })
    }

    pub fn load(path: &std::path::Path) -> Result<Self, NeedError> {
        let shown = path.display().to_string();
        let source = std::fs::read_to_string(path).map_err(|e| NeedError::Unreadable {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        Self::parse(&source, &shown)
    }

    /// The members of `unit`, as units of a member-level allocation.
    pub fn of(&self, unit: &str) -> Vec<Unit> {
        self.members
            .iter()
            .filter(|m| m.unit == unit)
            .map(|m| Unit {
                id: m.id.clone(),
                prior: m.prior,
                values: Default::default(),
            })
            .collect()
    }
}

/// The member rule as a formula of its own: the consortium's allocation is the budget, the
/// members' prior-year shares the base, the member metric the one indicator, the member
/// hold-harmless the floor. The same allocation (exact cents, floors) then applies.
pub fn member_formula(rule: &MemberRule, unit: &str, allocation: Cents) -> Formula {
    Formula {
        name: format!("members of {unit}"),
        budget: allocation,
        budget_vs_prior: None,
        cola: 0.0,
        base: if rule.prior_year_share > 0.0 {
            Base::PriorYearShare(rule.prior_year_share)
        } else {
            Base::None
        },
        indicators: rule
            .metric
            .iter()
            .map(|(id, measure)| Indicator {
                source: IndicatorSource::Metric(id.clone(), *measure),
                weight: 1.0,
                cap: None,
            })
            .collect(),
        hold_harmless: rule.hold_harmless,
        growth_cap: None,
        members: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_tables_parse_and_errors_name_line_and_column() {
        let table =
            MemberTable::parse("member_id,unit_id,prior_year\na1,a,10.25\na2,a,5\nb1,b,1\n", "m.csv").expect("valid");
        assert_eq!(table.of("a").iter().map(|u| u.prior).collect::<Vec<_>>(), [1025, 500]);
        let err = MemberTable::parse("member_id,unit_id,prior_year\na1,a,-1\n", "m.csv").expect_err("negative");
        assert_eq!(
            err.to_string(),
            "m.csv:2: prior_year: \"-1\" is not an amount of 0 or more"
        );
        let err = MemberTable::parse("member_id,unit_id,prior_year,name\n", "m.csv").expect_err("extra");
        assert!(err.to_string().starts_with("m.csv:1: name:"), "{err}");
        let err = MemberTable::parse("member_id,unit_id,prior_year\na1,a,1\na1,b,2\n", "m.csv").expect_err("twice");
        assert!(err.to_string().starts_with("m.csv:3: member_id"), "{err}");
    }
}
