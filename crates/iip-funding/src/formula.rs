//! Formula files: the budget, the base, the indicators and their weights, the limits.

use serde::Deserialize;

use crate::Cents;

#[derive(Debug, thiserror::Error)]
pub enum FormulaError {
    #[error("{path}:{line}: {message}")]
    Invalid { path: String, line: usize, message: String },
}

/// What each unit is guaranteed before indicators share out the rest.
#[derive(Debug, Clone, PartialEq)]
pub enum Base {
    /// Nothing: everything is shared by the indicators.
    None,
    /// This share of the prior-year amount (after the cost-of-living adjustment).
    PriorYearShare(f64),
    /// The same amount for every unit.
    Floor(Cents),
}

/// Where an indicator's values come from.
#[derive(Debug, Clone, PartialEq)]
pub enum IndicatorSource {
    /// A column of the need table (census-style figures the user brings).
    Need(String),
    /// A metric of the metrics engine, at each unit's scope.
    Metric(String, Measure),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// The metric's count (its numerator).
    Count,
    /// The metric's rate (numerator over denominator).
    Rate,
    /// The count per participant of the unit (numerator over the unit's `participants`).
    PerParticipant,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    pub source: IndicatorSource,
    /// Share of the indicator-driven money this indicator distributes (weights are
    /// normalized to add up to 1).
    pub weight: f64,
    /// At most this share of the indicator's money goes to one unit; the excess is shared
    /// among the others in proportion.
    pub cap: Option<f64>,
}

impl Indicator {
    pub fn label(&self) -> String {
        match &self.source {
            IndicatorSource::Need(column) => format!("need:{column}"),
            IndicatorSource::Metric(id, Measure::Count) => format!("metric:{id}"),
            IndicatorSource::Metric(id, Measure::Rate) => format!("metric:{id}:rate"),
            IndicatorSource::Metric(id, Measure::PerParticipant) => format!("metric:{id}:per_participant"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    pub name: String,
    /// The budget in cents; ignored when `budget_vs_prior` is given.
    pub budget: Cents,
    /// The budget as a multiple of the units' prior-year total (1.04 = 4 % more).
    pub budget_vs_prior: Option<f64>,
    /// Cost-of-living adjustment applied to prior-year amounts (0.03 = 3 %).
    pub cola: f64,
    pub base: Base,
    pub indicators: Vec<Indicator>,
    /// No unit receives less than this multiple of its prior-year amount (hold harmless).
    pub hold_harmless: Option<f64>,
    /// No unit receives more than this multiple of its prior-year amount.
    pub growth_cap: Option<f64>,
    /// How a unit's allocation is shared among its members, when given.
    pub members: Option<MemberRule>,
}

/// How a consortium's allocation is shared among its members: a share of each member's
/// prior-year amount first, then one published figure of the member's scope; no member below
/// `hold_harmless` times its prior-year amount.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRule {
    pub prior_year_share: f64,
    /// A metric of the member's scope, as count, rate or per participant.
    pub metric: Option<(String, Measure)>,
    pub hold_harmless: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFormula {
    name: String,
    #[serde(default)]
    budget: Option<f64>,
    #[serde(default)]
    budget_vs_prior: Option<f64>,
    #[serde(default)]
    cola: f64,
    #[serde(default)]
    base: Option<RawBase>,
    #[serde(rename = "indicator", default)]
    indicators: Vec<RawIndicator>,
    #[serde(default)]
    hold_harmless: Option<f64>,
    #[serde(default)]
    growth_cap: Option<f64>,
    #[serde(default)]
    members: Option<toml::Spanned<RawMembers>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMembers {
    #[serde(default)]
    prior_year_share: f64,
    metric: Option<String>,
    measure: Option<String>,
    hold_harmless: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBase {
    prior_year_share: Option<f64>,
    floor: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    need: Option<String>,
    metric: Option<String>,
    #[serde(default)]
    measure: Option<String>,
    weight: toml::Spanned<f64>,
    #[serde(default)]
    cap: Option<f64>,
}

fn measure(name: Option<&str>) -> Result<Measure, String> {
    match name {
        None | Some("count") => Ok(Measure::Count),
        Some("rate") => Ok(Measure::Rate),
        Some("per_participant") => Ok(Measure::PerParticipant),
        Some(other) => Err(format!("measure {other:?} is not one of: count, rate, per_participant")),
    }
}

fn cents(dollars: f64) -> Cents {
    (dollars * 100.0).round() as Cents
}

impl Formula {
    /// Parses a formula; `path` only names the file in errors.
    pub fn parse(source: &str, path: &str) -> Result<Self, FormulaError> {
        let at = |offset: usize, message: String| FormulaError::Invalid {
            path: path.to_owned(),
            line: source[..offset.min(source.len())].matches('\n').count() + 1,
            message,
        };
        let raw: RawFormula =
            toml::from_str(source).map_err(|e| at(e.span().map_or(0, |s| s.start), e.message().to_owned()))?;
        let budget = match (raw.budget, raw.budget_vs_prior) {
            (Some(b), None) if b.is_finite() && b > 0.0 && b < 1e13 => cents(b),
            (None, Some(f)) if (0.1..=10.0).contains(&f) => 0,
            _ => {
                return Err(at(
                    0,
                    "give either budget (a positive amount in dollars) or budget_vs_prior (0.1 to 10), not both".into(),
                ));
            }
        };
        if !(0.0..=0.5).contains(&raw.cola) {
            return Err(at(0, "cola must be a fraction from 0 to 0.5 (0.03 = 3 %)".into()));
        }
        let base = match raw.base {
            None => Base::None,
            Some(RawBase {
                prior_year_share: Some(share),
                floor: None,
            }) if (0.0..=1.0).contains(&share) => Base::PriorYearShare(share),
            Some(RawBase {
                prior_year_share: None,
                floor: Some(floor),
            }) if floor >= 0.0 && floor.is_finite() => Base::Floor(cents(floor)),
            Some(_) => {
                return Err(at(
                    0,
                    "[base] takes either prior_year_share (0 to 1) or floor (dollars), not both".into(),
                ));
            }
        };
        let mut indicators = Vec::with_capacity(raw.indicators.len());
        for raw in raw.indicators {
            let offset = raw.weight.span().start;
            let weight = *raw.weight.get_ref();
            if !(weight.is_finite() && weight > 0.0) {
                return Err(at(offset, "an indicator's weight must be positive".into()));
            }
            if raw.cap.is_some_and(|c| !(c > 0.0 && c <= 1.0)) {
                return Err(at(
                    offset,
                    "cap is a share of the indicator's money, above 0 and at most 1".into(),
                ));
            }
            let source = match (raw.need, raw.metric, raw.measure.as_deref()) {
                (Some(column), None, None) => IndicatorSource::Need(column),
                (None, Some(metric), name) => {
                    IndicatorSource::Metric(metric, measure(name).map_err(|m| at(offset, m))?)
                }
                _ => {
                    return Err(at(
                        offset,
                        "an [[indicator]] has either need = \"column\" or metric = \"id\" (with an optional measure)"
                            .into(),
                    ));
                }
            };
            indicators.push(Indicator {
                source,
                weight,
                cap: raw.cap,
            });
        }
        if indicators.is_empty() && matches!(base, Base::None) {
            return Err(at(0, "a formula needs a base or at least one [[indicator]]".into()));
        }
        if let (Some(floor), Some(cap)) = (raw.hold_harmless, raw.growth_cap)
            && floor > cap
        {
            return Err(at(0, "hold_harmless must not exceed growth_cap".into()));
        }
        if raw.hold_harmless.is_some_and(|h| !(0.0..=2.0).contains(&h))
            || raw.growth_cap.is_some_and(|g| !(1.0..=10.0).contains(&g))
        {
            return Err(at(
                0,
                "hold_harmless is from 0 to 2 and growth_cap from 1 to 10 (multiples of the prior year)".into(),
            ));
        }
        let members = match raw.members {
            None => None,
            Some(spanned) => {
                let offset = spanned.span().start;
                let m = spanned.into_inner();
                if !(0.0..=1.0).contains(&m.prior_year_share) {
                    return Err(at(offset, "[members] prior_year_share is from 0 to 1".into()));
                }
                if m.hold_harmless.is_some_and(|h| !(0.0..=1.0).contains(&h)) {
                    return Err(at(
                        offset,
                        "[members] hold_harmless is from 0 to 1 (a multiple of the prior year)".into(),
                    ));
                }
                if m.metric.is_none() && m.measure.is_some() {
                    return Err(at(offset, "[members] measure needs a metric".into()));
                }
                let metric = match m.metric {
                    Some(id) => Some((id, measure(m.measure.as_deref()).map_err(|e| at(offset, e))?)),
                    None => None,
                };
                if metric.is_none() && m.prior_year_share == 0.0 {
                    return Err(at(
                        offset,
                        "[members] needs a prior_year_share above 0 or a metric".into(),
                    ));
                }
                Some(MemberRule {
                    prior_year_share: m.prior_year_share,
                    metric,
                    hold_harmless: m.hold_harmless,
                })
            }
        };
        Ok(Formula {
            name: raw.name,
            budget,
            budget_vs_prior: raw.budget_vs_prior,
            cola: raw.cola,
            base,
            indicators,
            hold_harmless: raw.hold_harmless,
            growth_cap: raw.growth_cap,
            members,
        })
    }

    /// The same formula with other indicator weights (in the formula's order): what the web
    /// page's sliders change. A weight of 0 turns an indicator off.
    pub fn with_weights(&self, weights: &[f64]) -> Result<Self, String> {
        if weights.len() != self.indicators.len() {
            return Err(format!(
                "the formula has {} indicators, not {}",
                self.indicators.len(),
                weights.len()
            ));
        }
        if let Some(w) = weights.iter().find(|w| !(w.is_finite() && (0.0..=1000.0).contains(*w))) {
            return Err(format!("a weight is a number from 0 to 1000, not {w}"));
        }
        if weights.iter().all(|w| *w == 0.0) && self.base == Base::None {
            return Err("at least one weight must be above 0 when the formula has no base".into());
        }
        let mut formula = self.clone();
        for (indicator, w) in formula.indicators.iter_mut().zip(weights) {
            indicator.weight = *w;
        }
        Ok(formula)
    }

    /// The metric ids the formula reads from the metrics engine (its member rule's too).
    pub fn metrics(&self) -> Vec<&str> {
        self.indicators
            .iter()
            .filter_map(|i| match &i.source {
                IndicatorSource::Metric(id, _) => Some(id.as_str()),
                IndicatorSource::Need(_) => None,
            })
            .chain(
                self.members
                    .iter()
                    .filter_map(|m| m.metric.as_ref().map(|(id, _)| id.as_str())),
            )
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_formula_parses_and_bad_ones_name_the_line() {
        let ok = "name = \"t\"\nbudget = 1000.50\ncola = 0.03\nhold_harmless = 1.0\ngrowth_cap = 1.2\n\
                  [base]\nprior_year_share = 0.9\n[[indicator]]\nneed = \"adults\"\nweight = 2\n\
                  [[indicator]]\nmetric = \"element.civic\"\nmeasure = \"rate\"\nweight = 1\ncap = 0.5\n";
        let formula = Formula::parse(ok, "f.toml").expect("valid");
        assert_eq!(formula.budget, 100_050);
        assert_eq!(formula.base, Base::PriorYearShare(0.9));
        assert_eq!(formula.metrics(), ["element.civic"]);
        let bad = "name = \"t\"\nbudget = 10\n[[indicator]]\nneed = \"adults\"\nweight = -1\n";
        let err = Formula::parse(bad, "f.toml").expect_err("negative weight").to_string();
        assert!(
            err.starts_with("f.toml:5: an indicator's weight must be positive"),
            "{err}"
        );
        let bad = "name = \"t\"\nbudget = 10\n[[indicator]]\nmetric = \"m\"\nmeasure = \"median\"\nweight = 1\n";
        assert!(
            Formula::parse(bad, "f.toml")
                .expect_err("measure")
                .to_string()
                .contains("f.toml:6: measure")
        );
    }
}
