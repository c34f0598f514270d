//! Page handlers: thin, one per page.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use iip_domain::ProgramYear;
use iip_framework::localized;
use iip_metrics::{MetricSet, Query as MetricsQuery};
use iip_store::Store;
use minijinja::context;
use serde::{Deserialize, Serialize};

use crate::api::MetricsParams;
use crate::auth::CurrentUser;
use crate::chart::{Bar, bar_chart};
use crate::{AppState, WebError};

#[derive(Deserialize)]
pub struct DashboardQuery {
    scope: Option<String>,
    year: Option<String>,
}

#[derive(Serialize)]
struct MetricView {
    label: String,
    metric: String,
    numerator: Option<u64>,
    denominator: Option<u64>,
    rate: Option<String>,
    suppressed: bool,
}

#[derive(Serialize)]
struct ScopeView {
    org_id: String,
    name: String,
    sector: String,
    level: String,
    depth: usize,
    adults_served: Option<u64>,
    participants: Option<u64>,
}

pub(crate) fn render(
    state: &AppState<impl Store>,
    name: &str,
    ctx: minijinja::Value,
) -> Result<Html<String>, WebError> {
    state
        .templates
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map(Html)
        .map_err(|e| WebError::Internal(format!("template {name}: {e}")))
}

fn metric_label(set: &MetricSet, metric: &str, lang: &str) -> String {
    set.get(metric)
        .map(|m| localized(&m.name, lang).to_owned())
        .unwrap_or_else(|| metric.to_owned())
}

pub async fn dashboard<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    Query(query): Query<DashboardQuery>,
) -> Result<Html<String>, WebError> {
    let year = match query.year.as_deref().filter(|y| !y.is_empty()) {
        Some(raw) => ProgramYear::parse(raw).map_err(|e| WebError::BadRequest(e.to_string()))?,
        None => state.default_year,
    };
    let orgs = state
        .store
        .organizations()
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    if orgs.is_empty() {
        return render(
            &state,
            "dashboard.html",
            context! { empty => true, year => year.to_string(), user => user.nav() },
        );
    }
    let core = MetricSet::core(&state.framework).map_err(|e| WebError::Internal(e.to_string()))?;
    let report = state.report(&core, &MetricsQuery { year, by: vec![] }).await?;

    // Scopes in hierarchy order, top-level organizations first.
    let orgs = &orgs;
    let mut ordered = Vec::with_capacity(orgs.len());
    let mut stack: Vec<(usize, usize)> = orgs
        .iter()
        .enumerate()
        .filter(|(_, o)| {
            o.parent_id
                .as_ref()
                .is_none_or(|p| !orgs.iter().any(|x| &x.org_id == p))
        })
        .map(|(i, _)| (i, 0))
        .rev()
        .collect();
    while let Some((index, depth)) = stack.pop() {
        if ordered.iter().any(|(i, _)| *i == index) {
            continue;
        }
        ordered.push((index, depth));
        let children: Vec<usize> = orgs
            .iter()
            .enumerate()
            .filter(|(_, o)| o.parent_id.as_deref() == Some(orgs[index].org_id.as_str()))
            .map(|(i, _)| i)
            .collect();
        stack.extend(children.into_iter().rev().map(|i| (i, depth + 1)));
    }
    // Only the scopes within the user's view; suppression was decided over all of them.
    let tree = crate::auth::org_tree(&state).await?;
    let access = user.access(&tree);
    ordered.retain(|&(i, _)| access.scope(&orgs[i].org_id));
    let Some(&(first, first_depth)) = ordered.first() else {
        return Err(WebError::Forbidden(
            "Your account sees no organization in this store.".into(),
        ));
    };
    for entry in &mut ordered {
        entry.1 -= first_depth.min(entry.1);
    }
    let scopes: Vec<ScopeView> = ordered
        .iter()
        .map(|&(i, depth)| {
            let org = &orgs[i];
            let count = |metric| report.get(&org.org_id, metric).and_then(|r| r.numerator);
            ScopeView {
                org_id: org.org_id.clone(),
                name: org.name.clone(),
                sector: org.sector.as_str().replace('_', " "),
                level: org.level.to_string(),
                depth,
                adults_served: count("adults_served"),
                participants: count("participants"),
            }
        })
        .collect();

    let selected = match query.scope.as_deref().filter(|s| !s.is_empty()) {
        Some(scope) => {
            let org = orgs
                .iter()
                .find(|o| o.org_id == scope)
                .ok_or_else(|| WebError::NotFound("That organization is not in this store.".into()))?;
            if !access.scope(scope) {
                return Err(WebError::Forbidden("That organization is outside your view.".into()));
            }
            org
        }
        None => orgs
            .iter()
            .find(|o| o.org_id == user.principal.org_id && access.scope(&o.org_id))
            .unwrap_or(&orgs[first]),
    };
    // Trends: the same core metrics over the last three program years.
    let mut trend = Vec::new();
    let mut trend_bars = Vec::new();
    let mut trend_year = year.previous().previous();
    for _ in 0..3 {
        let yearly = state
            .report(
                &core,
                &MetricsQuery {
                    year: trend_year,
                    by: vec![],
                },
            )
            .await?;
        let row = |metric| yearly.get(&selected.org_id, metric);
        trend.push(context! {
            year => trend_year.to_string(),
            adults_served => row("adults_served").and_then(|r| r.numerator),
            participants => row("participants").and_then(|r| r.numerator),
            any_milestone => row("any_milestone").and_then(|r| r.rate).map(|r| format!("{:.1}%", r * 100.0)),
        });
        trend_bars.push(Bar {
            label: trend_year.to_string(),
            value: row("any_milestone").and_then(|r| r.rate),
        });
        trend_year = ProgramYear::starting(trend_year.first_day().year() + 1);
    }
    let trend_chart = crate::chart::bar_chart_with_id(
        "trend",
        "Share of participants with any milestone, by program year",
        &format!(
            "{}, the three program years to {year}. Suppressed values are marked and not drawn.",
            selected.name
        ),
        &trend_bars,
    );
    // Where the scope sits: its parents, as far up as the user may see.
    let mut breadcrumb = Vec::new();
    let mut parent = selected.parent_id.clone();
    while let Some(id) = parent.filter(|id| access.scope(id)) {
        let Some(org) = orgs.iter().find(|o| o.org_id == id) else {
            break;
        };
        breadcrumb.insert(0, context! { org_id => org.org_id.clone(), name => org.name.clone() });
        parent = org.parent_id.clone();
        if breadcrumb.len() > orgs.len() {
            break;
        }
    }
    let metrics: Vec<MetricView> = report
        .scope(&selected.org_id)
        .map(|row| MetricView {
            label: metric_label(&core, &row.metric, "en"),
            metric: row.metric.clone(),
            numerator: row.numerator,
            denominator: row.denominator,
            rate: row.rate.map(|r| format!("{:.1}%", r * 100.0)),
            suppressed: row.suppressed,
        })
        .collect();
    let bars: Vec<Bar> = metrics
        .iter()
        .filter(|m| m.metric.starts_with("element."))
        .map(|m| Bar {
            label: m.label.clone(),
            value: report.get(&selected.org_id, &m.metric).and_then(|r| r.rate),
        })
        .collect();
    let chart = bar_chart(
        "Share of participants with a milestone, by element",
        &format!(
            "Program year {year}, {}. Suppressed values are marked and not drawn.",
            selected.name
        ),
        &bars,
    );
    render(
        &state,
        "dashboard.html",
        context! {
            empty => false,
            year => year.to_string(),
            framework_version => state.framework.version.clone(),
            selected => context! { org_id => selected.org_id.clone(), name => selected.name.clone() },
            scopes => minijinja::Value::from(minijinja::value::Serde(&scopes)),
            metrics => minijinja::Value::from(minijinja::value::Serde(&metrics)),
            chart,
            threshold => iip_metrics::SUPPRESSION_THRESHOLD,
            user => user.nav(),
            trend,
            trend_chart,
            breadcrumb,
        },
    )
}

/// `GET /dashboard.csv`: the metrics table of the dashboard for the same scope and year,
/// suppressed the same way (the report's CSV form).
pub async fn dashboard_csv<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    Query(query): Query<DashboardQuery>,
) -> Result<Response, WebError> {
    let year = match query.year.as_deref().filter(|y| !y.is_empty()) {
        Some(raw) => ProgramYear::parse(raw).map_err(|e| WebError::BadRequest(e.to_string()))?,
        None => state.default_year,
    };
    let scope = query
        .scope
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| user.principal.org_id.clone());
    let tree = crate::auth::org_tree(&state).await?;
    if !tree.contains(&scope) {
        return Err(WebError::NotFound("That organization is not in this store.".into()));
    }
    if !user.access(&tree).scope(&scope) {
        return Err(WebError::Forbidden("That organization is outside your view.".into()));
    }
    let report = crate::api::compute(
        &state,
        &MetricsParams {
            year: Some(year.to_string()),
            scope: Some(scope.clone()),
            metric: None,
            by: None,
        },
        |_| true,
    )
    .await?;
    csv_response(&report, &format!("iip-{scope}-{year}.csv"))
}

/// A suppressed report as a CSV download.
pub(crate) fn csv_response(report: &iip_metrics::Report, filename: &str) -> Result<Response, WebError> {
    let mut body = Vec::new();
    iip_metrics::output::write_csv(&mut body, report).map_err(|e| WebError::Internal(e.to_string()))?;
    let safe: String = filename
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{safe}\"")),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct FrameworkQuery {
    lang: Option<String>,
}

pub async fn framework<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: Option<CurrentUser>,
    Query(query): Query<FrameworkQuery>,
) -> Result<Html<String>, WebError> {
    let lang = match query.lang.as_deref() {
        Some("es") => "es",
        _ => "en",
    };
    let elements: Vec<_> = state
        .framework
        .elements
        .iter()
        .map(|e| {
            let entries = |list: &[iip_framework::Entry]| {
                list.iter()
                    .map(|m| context! { id => m.id.clone(), name => localized(&m.name, lang), description => localized(&m.description, lang) })
                    .collect::<Vec<_>>()
            };
            context! {
                id => e.id.clone(),
                name => localized(&e.name, lang),
                description => localized(&e.description, lang),
                indicators => entries(&e.indicators),
                milestones => entries(&e.milestones),
            }
        })
        .collect();
    render(
        &state,
        "framework.html",
        context! { lang, version => state.framework.version.clone(), elements, user => user.map(|u| u.nav()) },
    )
}

#[derive(Serialize)]
struct GroupView {
    label: String,
    numerator: Option<u64>,
    denominator: Option<u64>,
    rate: Option<String>,
    value: Option<String>,
    suppressed: bool,
}

/// "All" for a total, else the groups joined: "female · 25 34".
fn group_label(row: &iip_metrics::MetricRow) -> String {
    if row.groups.is_total() {
        return "All".to_owned();
    }
    let groups: Vec<String> = row.groups.0.iter().map(|(_, g)| g.replace('_', " ")).collect();
    groups.join(" · ")
}

/// One metric at one scope, optionally broken down: the explorer of every built-in metric.
pub async fn metrics<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    params: Result<Query<MetricsParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Html<String>, WebError> {
    let Query(mut params) = params.map_err(|e| WebError::BadRequest(e.body_text()))?;
    let metric_id = params
        .metric
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "participants".to_owned());
    let metric = state
        .metrics
        .get(&metric_id)
        .ok_or_else(|| WebError::BadRequest("Choose a metric from the list.".into()))?
        .clone();
    let by = params.by()?;
    if by.len() > 1 {
        return Err(WebError::BadRequest(
            "This page shows one breakdown at a time; the API takes two.".into(),
        ));
    }
    params.metric = Some(metric_id.clone());
    let year = params.year(state.default_year)?;
    let full = crate::api::compute(
        &state,
        &MetricsParams {
            scope: None,
            ..params.clone()
        },
        |_| true,
    )
    .await?;
    let tree = crate::auth::org_tree(&state).await?;
    let access = user.access(&tree);
    let scopes: Vec<String> = {
        let mut seen: Vec<String> = Vec::new();
        for row in &full.rows {
            if seen.last() != Some(&row.scope_id) && access.scope(&row.scope_id) {
                seen.push(row.scope_id.clone());
            }
        }
        seen
    };
    let scope = params
        .scope()
        .map(str::to_owned)
        .or_else(|| scopes.iter().find(|s| **s == user.principal.org_id).cloned())
        .or_else(|| scopes.first().cloned())
        .unwrap_or_default();
    if !scopes.contains(&scope) {
        if full.rows.iter().any(|r| r.scope_id == scope) {
            return Err(WebError::Forbidden("That scope is outside your view.".into()));
        }
        return Err(WebError::NotFound("That scope is not in this store.".into()));
    }
    let percent = |r: f64| format!("{:.1}%", r * 100.0);
    let groups: Vec<GroupView> = full
        .scope(&scope)
        .map(|row| GroupView {
            label: group_label(row),
            numerator: row.numerator,
            denominator: row.denominator,
            rate: row.rate.map(percent),
            value: row.value.map(|v| format!("{v:.1}")),
            suppressed: row.suppressed,
        })
        .collect();
    let bars: Vec<Bar> = full
        .scope(&scope)
        .filter(|row| !row.groups.is_total() || row.groups.0.is_empty())
        .map(|row| Bar {
            label: group_label(row),
            value: row.rate,
        })
        .collect();
    let chart = (metric.kind == iip_metrics::Kind::Rate).then(|| {
        bar_chart(
            localized(&metric.name, "en"),
            &format!("Program year {year}, scope {scope}. Suppressed values are marked and not drawn."),
            &bars,
        )
    });
    render(
        &state,
        "metrics.html",
        context! {
            year => year.to_string(),
            metrics => state.metrics.metrics.iter().map(|m| context! { id => m.id.clone(), name => localized(&m.name, "en") }).collect::<Vec<_>>(),
            metric => context! { id => metric.id.clone(), name => localized(&metric.name, "en"), description => localized(&metric.description, "en"), threshold => metric.threshold },
            scopes,
            scope,
            dimensions => iip_metrics::Dimension::ALL.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
            by => by.first().map(|d| d.as_str()).unwrap_or(""),
            groups => minijinja::Value::from(minijinja::value::Serde(&groups)),
            chart,
            user => user.nav(),
        },
    )
}

/// `GET /metrics.csv`: the metrics page's table (one metric, one scope, its breakdown) as CSV.
pub async fn metrics_csv<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    params: Result<Query<MetricsParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, WebError> {
    let Query(mut params) = params.map_err(|e| WebError::BadRequest(e.body_text()))?;
    let scope = params
        .scope()
        .map_or_else(|| user.principal.org_id.clone(), str::to_owned);
    let tree = crate::auth::org_tree(&state).await?;
    let report = crate::api::compute(
        &state,
        &MetricsParams {
            scope: Some(scope.clone()),
            ..params.clone()
        },
        |_| true,
    )
    .await?;
    if !user.access(&tree).scope(&scope) {
        return Err(WebError::Forbidden("That scope is outside your view.".into()));
    }
    params.scope = Some(scope.clone());
    let year = params.year(state.default_year)?;
    csv_response(&report, &format!("iip-{scope}-{year}.csv"))
}
