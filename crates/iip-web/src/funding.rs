//! The funding-formula simulator on the web: `/funding` (page), `/funding.csv` and
//! `/api/funding` (the same figures), with the formula's weights adjustable by query
//! parameters `w0`, `w1`, … in the formula's order. Only published figures enter.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use iip_domain::ProgramYear;
use iip_framework::Framework;
use iip_funding::{Figure, Figures, Outcome, Scenario};
use iip_metrics::{MetricSet, Report, Snapshot};
use iip_store::Store;
use minijinja::context;
use serde::Serialize;

use crate::api::ApiError;
use crate::auth::CurrentUser;
use crate::chart::{Change, change_chart};
use crate::{AppState, WebError};

/// The published report's totals as the simulator's figures.
pub struct ReportFigures<'a>(pub &'a Report);

impl Figures for ReportFigures<'_> {
    fn figure(&self, scope: &str, metric: &str) -> Option<Figure> {
        self.0.get(scope, metric).map(|row| Figure {
            count: row.numerator.filter(|_| !row.suppressed),
            rate: row.rate,
        })
    }
}

/// Every metric a scenario reads, and `participants` (the per-participant measure's base).
pub fn metrics_read(scenario: &Scenario) -> BTreeSet<String> {
    let mut ids: BTreeSet<String> = scenario.formula.metrics().into_iter().map(String::from).collect();
    if let Some(b) = &scenario.baseline {
        ids.extend(b.metrics().into_iter().map(String::from));
    }
    ids.insert("participants".into());
    ids
}

#[derive(Debug, thiserror::Error)]
pub enum PublishedError {
    #[error("{0}")]
    UnknownMetric(String),
    #[error(transparent)]
    Metrics(#[from] iip_metrics::MetricsError),
}

/// The suppressed totals of `metrics` over every scope: what a formula may read.
pub fn published_report(
    snapshot: &Snapshot,
    framework: &Framework,
    year: ProgramYear,
    metrics: &BTreeSet<String>,
) -> Result<Report, PublishedError> {
    let all = MetricSet::builtin(framework).map_err(|e| PublishedError::UnknownMetric(e.to_string()))?;
    let ids: Vec<&str> = metrics.iter().map(String::as_str).collect();
    let set = all.select(&ids).map_err(PublishedError::UnknownMetric)?;
    Ok(iip_metrics::report(
        snapshot,
        &framework.version,
        &set,
        &iip_metrics::Query { year, by: vec![] },
        None,
    )?)
}

/// `year` and the weights `w0`, `w1`, … (any left out keep the formula's).
struct Params {
    year: ProgramYear,
    weights: Vec<f64>,
    changed: bool,
}

fn params(raw: &[(String, String)], scenario: &Scenario, default_year: ProgramYear) -> Result<Params, WebError> {
    let mut year = default_year;
    let mut weights: Vec<f64> = scenario.formula.indicators.iter().map(|i| i.weight).collect();
    let mut changed = false;
    for (key, value) in raw {
        if key == "year" {
            if !value.is_empty() {
                year = ProgramYear::parse(value).map_err(|e| WebError::BadRequest(format!("year: {e}")))?;
            }
        } else if let Some(index) = key.strip_prefix('w').and_then(|i| i.parse::<usize>().ok()) {
            let slot = weights
                .get_mut(index)
                .ok_or_else(|| WebError::BadRequest(format!("{key}: the formula has no indicator {index}")))?;
            let weight = value
                .trim()
                .parse::<f64>()
                .map_err(|_| WebError::BadRequest(format!("{key}: a weight is a number")))?;
            changed |= weight != *slot;
            *slot = weight;
        } else {
            return Err(WebError::BadRequest(
                "an unknown parameter: this page takes year and the weights w0, w1, …".into(),
            ));
        }
    }
    Ok(Params { year, weights, changed })
}

fn scenario<S: Store>(state: &AppState<S>) -> Result<&Scenario, WebError> {
    state.funding.as_ref().ok_or_else(|| {
        WebError::NotFound(
            "The funding simulator is not set up on this server: start it with --funding-need (see docs/funding.md)."
                .into(),
        )
    })
}

/// Runs the scenario with the requested weights on the published figures of the year.
async fn outcome<S: Store>(state: &AppState<S>, raw: &[(String, String)]) -> Result<(Params, Outcome), WebError> {
    let base = scenario(state)?;
    let params = params(raw, base, state.default_year)?;
    let formula = base
        .formula
        .with_weights(&params.weights)
        .map_err(WebError::BadRequest)?;
    let scenario = Scenario {
        formula,
        ..base.clone()
    };
    let ids: Vec<String> = metrics_read(&scenario).into_iter().collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let set = state.metrics.select(&ids).map_err(WebError::Internal)?;
    let report = state
        .report(
            &set,
            &iip_metrics::Query {
                year: params.year,
                by: vec![],
            },
        )
        .await?;
    let outcome =
        iip_funding::run(&scenario, &ReportFigures(&report)).map_err(|e| WebError::Internal(e.to_string()))?;
    Ok((params, outcome))
}

type RawQuery = Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>;

fn raw(query: RawQuery) -> Result<Vec<(String, String)>, WebError> {
    query.map(|Query(q)| q).map_err(|e| WebError::BadRequest(e.body_text()))
}

#[derive(Serialize)]
struct Row {
    id: String,
    name: String,
    member: bool,
    prior: String,
    baseline: String,
    allocation: String,
    vs_prior: String,
    vs_baseline: String,
    driver: String,
    limit: String,
}

/// The simulator compares every consortium: state-wide roles only.
async fn allowed<S: Store>(state: &AppState<S>, user: &CurrentUser) -> Result<(), WebError> {
    let tree = crate::auth::org_tree(state).await?;
    if user.access(&tree).funding() {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "The funding simulator is for state analysts and system administrators.".into(),
        ))
    }
}

pub async fn page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<Html<String>, WebError> {
    allowed(&state, &user).await?;
    let raw = raw(query)?;
    let (params, outcome) = outcome(&state, &raw).await?;
    let base = scenario(&state)?;
    let orgs = state
        .store
        .organizations()
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let name = |id: &str| {
        orgs.iter()
            .find(|o| o.org_id == id)
            .map_or_else(|| id.to_owned(), |o| o.name.clone())
    };
    let maybe = |c: Option<i64>| c.map(money).unwrap_or_default();
    let driver = |u: &iip_funding::UnitResult| {
        u.driver_part
            .as_ref()
            .map(|p| format!("{} {}", part_name(&p.part, &state.metrics), signed(p.cents)))
            .unwrap_or_default()
    };
    let mut rows = Vec::new();
    for u in &outcome.units {
        rows.push(Row {
            id: u.unit.clone(),
            name: name(&u.unit),
            member: false,
            prior: money(u.prior),
            baseline: maybe(u.baseline),
            allocation: money(u.allocation),
            vs_prior: signed(u.change_vs_prior),
            vs_baseline: u.change_vs_baseline.map(signed).unwrap_or_default(),
            driver: driver(u),
            limit: u.limit.clone(),
        });
        for m in &u.members {
            rows.push(Row {
                id: m.member.clone(),
                name: name(&m.member),
                member: true,
                prior: money(m.prior),
                baseline: maybe(m.baseline),
                allocation: money(m.allocation),
                vs_prior: signed(m.allocation - m.prior),
                vs_baseline: m.baseline.map(|b| signed(m.allocation - b)).unwrap_or_default(),
                driver: String::new(),
                limit: m.limit.clone(),
            });
        }
    }
    let chart = outcome.baseline.as_ref().map(|baseline| {
        let changes: Vec<Change> = outcome
            .units
            .iter()
            .map(|u| Change {
                label: name(&u.unit),
                cents: u.change_vs_baseline.unwrap_or(0),
            })
            .collect();
        change_chart(
            "Change against the baseline formula, by consortium",
            &format!(
                "{} compared with {baseline}, program year {}. Bars right of the line gain, left lose.",
                outcome.formula, params.year
            ),
            &changes,
        )
    });
    let indicators: Vec<_> = base
        .formula
        .indicators
        .iter()
        .zip(&params.weights)
        .enumerate()
        .map(|(i, (indicator, weight))| {
            context! { key => format!("w{i}"), name => part_name(&indicator.label(), &state.metrics), label => indicator.label(), weight => weight.to_string(), original => indicator.weight.to_string() }
        })
        .collect();
    let query: String = raw
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    crate::pages::render(
        &state,
        "funding.html",
        context! {
            year => params.year.to_string(),
            formula => outcome.formula.clone(),
            baseline => outcome.baseline.clone(),
            budget => money(outcome.budget_cents),
            masked => outcome.masked_inputs,
            changed => params.changed,
            indicators,
            rows => minijinja::Value::from(minijinja::value::Serde(&rows)),
            chart,
            query,
            user => user.nav(),
        },
    )
}

/// A part of a formula in words: "Need: adult population", a metric's name, "Base".
fn part_name(label: &str, metrics: &MetricSet) -> String {
    if let Some(column) = label.strip_prefix("need:") {
        return format!("Need: {}", column.replace('_', " "));
    }
    if let Some(metric) = label.strip_prefix("metric:") {
        let (id, measure) = match metric.rsplit_once(':') {
            Some((id, "rate")) => (id, " (rate)"),
            Some((id, "per_participant")) => (id, " (per participant)"),
            _ => (metric, ""),
        };
        let name = metrics
            .get(id)
            .map_or_else(|| id.to_owned(), |m| iip_framework::localized(&m.name, "en").to_owned());
        return format!("{name}{measure}");
    }
    match label {
        "base" => "Base (prior year)".to_owned(),
        "remainder" => "Remainder".to_owned(),
        other => other.to_owned(),
    }
}

/// Dollars with thousands separators: 123456789 cents → "$1,234,567.89".
fn money(cents: i64) -> String {
    let sign = if cents < 0 { "−" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}${}.{:02}", crate::chart::thousands(abs / 100), abs % 100)
}

fn signed(cents: i64) -> String {
    if cents > 0 {
        format!("+{}", money(cents))
    } else {
        money(cents)
    }
}

pub(crate) fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

pub async fn csv<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<Response, WebError> {
    allowed(&state, &user).await?;
    let (params, outcome) = outcome(&state, &raw(query)?).await?;
    let mut body = Vec::new();
    outcome
        .write_csv(&mut body)
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"funding-{}.csv\"", params.year),
            ),
        ],
        body,
    )
        .into_response())
}

pub async fn api<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<Response, ApiError> {
    allowed(&state, &user).await?;
    let (params, outcome) = outcome(&state, &raw(query)?).await?;
    Ok(
        Json(serde_json::json!({ "year": params.year.to_string(), "weights": params.weights, "outcome": outcome }))
            .into_response(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_grouped_and_signed() {
        assert_eq!(money(123_456_789), "$1,234,567.89");
        assert_eq!(money(-5), "−$0.05");
        assert_eq!(signed(100_000), "+$1,000.00");
        assert_eq!(signed(0), "$0.00");
    }
}
