//! Community gap analysis (`/gaps`, `/gaps.csv`, `/gaps.csv?table=heatmap`, `/api/gaps`) and
//! referral metrics (`/referrals/metrics`, `/api/referrals/metrics`): need against capacity
//! by area, element and language, and how referrals fare, both suppressed before they leave
//! `iip_directory`.
//! Users see the areas (and referrals) of the organizations in their view.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use iip_directory::gaps::GapReport;
use iip_directory::referral_metrics::ReferralReport;
use iip_directory::referral_views::{self, OrgNode, View};
use iip_domain::ProgramYear;
use iip_store::{ReferralFilter, Store};
use minijinja::context;
use serde::Deserialize;

use crate::api::ApiError;
use crate::auth::CurrentUser;
use crate::chart::{HeatSquare, heat_map};
use crate::{AppState, WebError, internal};

/// The threshold of every published count (PRODUCT.md §5).
const THRESHOLD: u64 = iip_metrics::SUPPRESSION_THRESHOLD;

/// The analysis over every area (suppression decided on the whole), then the areas in the
/// user's view kept.
async fn report_for<S: Store>(state: &AppState<S>, user: &CurrentUser) -> Result<GapReport, WebError> {
    let mut report = iip_store::directory::gap_report(&state.store, THRESHOLD)
        .await
        .map_err(internal)?;
    let organizations = state.store.organization_records().await.map_err(internal)?;
    let tree = crate::auth::org_tree(state).await?;
    let access = user.access(&tree);
    if !access.scope(&format!("sector:{}", iip_domain::Sector::Public)) {
        // Not a state-wide role: the areas where organizations in the user's view are.
        let areas: HashSet<String> = organizations
            .iter()
            .filter(|o| access.scope(o.org_id.as_str()))
            .flat_map(|o| o.area.iter().chain(o.areas_served.iter()))
            .map(|a| a.trim().to_lowercase())
            .collect();
        let keep = |area: &str| areas.contains(&area.trim().to_lowercase());
        report.cells.retain(|c| keep(&c.area));
        report.gaps.retain(|g| keep(&g.cell.area));
        for (rank, gap) in report.gaps.iter_mut().enumerate() {
            gap.rank = rank + 1;
        }
        report.heat_map.rows.retain(|r| keep(&r.area));
        report.heat_map.areas.retain(|a| keep(a));
        report.unplaced_needs = None;
    }
    Ok(report)
}

/// `GET /gaps`: the ranked gaps, a heat map by area × element, and the table behind it.
pub async fn page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
) -> Result<Html<String>, WebError> {
    let report = report_for(&state, &user).await?;
    let max = report.heat_map.max_score;
    let shade = |score: f64| -> u8 {
        if score <= 0.0 || max <= 0.0 {
            0
        } else {
            1 + ((score / max) * 3.0).round().clamp(0.0, 3.0) as u8
        }
    };
    let rows: Vec<(String, Vec<HeatSquare>)> = report
        .heat_map
        .rows
        .iter()
        .map(|row| {
            let squares = row
                .cells
                .iter()
                .map(|c| HeatSquare {
                    shade: shade(c.score),
                    label: if c.score > 0.0 {
                        format!("{:.1}", c.score)
                    } else {
                        "–".to_owned()
                    },
                })
                .collect();
            (row.area.clone(), squares)
        })
        .collect();
    // Short column heads (the element ids, capitalised) so they fit above a square.
    let heads: Vec<String> = report
        .heat_map
        .elements
        .iter()
        .map(|e| {
            let mut chars = e.chars();
            chars
                .next()
                .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
        })
        .collect();
    let chart = heat_map(
        "Gaps by area and element",
        "The largest gap score over the languages of each area and element; darker is a larger gap, a dash is none. The same figures are in the table below.",
        &heads,
        &rows,
    );
    let table: Vec<_> = report
        .heat_map
        .rows
        .iter()
        .map(|row| context! { area => row.area.clone(), cells => row.cells.iter().map(|c| heat_score(c.score)).collect::<Vec<_>>() })
        .collect();
    let gaps: Vec<_> = report
        .gaps
        .iter()
        .take(50)
        .map(|g| {
            context! {
                rank => g.rank,
                sentence => g.cell.sentence.clone(),
                need_count => g.cell.need_count,
                population => g.cell.population,
                services => g.cell.services,
                need_level => g.cell.need_level.as_str(),
                capacity_level => g.cell.capacity_level.as_str(),
                score => format!("{:.2}", g.cell.gap_score),
            }
        })
        .collect();
    crate::pages::render(
        &state,
        "gaps.html",
        context! {
            user => user.nav(),
            gaps,
            total => report.gaps.len(),
            chart,
            elements => report.heat_map.element_names.clone(),
            table,
        },
    )
}

/// A square of the heat map as the page's table and the CSV write it: the score to two
/// decimals, "0" for no gap.
fn heat_score(score: f64) -> String {
    if score > 0.0 {
        format!("{score:.2}")
    } else {
        "0".to_owned()
    }
}

/// The heat map as CSV, the page's table: one row per area, one column per element (by id),
/// each the largest gap score over the area's languages. Area names come from imports, so
/// every field is formula-neutralised.
fn heat_map_csv(report: &GapReport) -> String {
    let field = iip_domain::csv_safe::text_field;
    let mut out = std::iter::once("area".to_owned())
        .chain(report.heat_map.elements.iter().map(|e| field(e)))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for row in &report.heat_map.rows {
        let line: Vec<String> = std::iter::once(field(&row.area))
            .chain(row.cells.iter().map(|c| field(&heat_score(c.score))))
            .collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

#[derive(Debug, Default, Deserialize)]
pub struct CsvParams {
    /// `gaps` (the ranked list, the default) or `heatmap` (area × element).
    pub table: Option<String>,
}

/// `GET /gaps.csv`: the ranked list, or with `?table=heatmap` the area × element heat map;
/// formula-neutralised, suppressed like the page (the same report).
pub async fn csv<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    raw: Result<Query<CsvParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, WebError> {
    let Query(params) = raw.map_err(|e| WebError::BadRequest(e.body_text()))?;
    let heat = match params.table.as_deref().filter(|t| !t.is_empty()) {
        None | Some("gaps") => false,
        Some("heatmap") => true,
        Some(other) => {
            return Err(WebError::BadRequest(format!(
                "table: {other:?} is not one of: gaps, heatmap"
            )));
        }
    };
    let report = report_for(&state, &user).await?;
    let (name, body) = if heat {
        ("gaps-heatmap.csv", heat_map_csv(&report))
    } else {
        ("gaps.csv", iip_directory::gaps::to_csv(&report))
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response())
}

/// `GET /api/gaps`: the whole report (cells, ranked gaps, heat map) as JSON.
pub async fn api<S: Store>(State(state): State<Arc<AppState<S>>>, user: CurrentUser) -> Result<Response, ApiError> {
    Ok(Json(report_for(&state, &user).await?).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct YearParams {
    pub year: Option<String>,
}

/// The referrals a user's figures cover: those their organization sent or received (case
/// workers), those sent from organizations in their view (analysts), or all (state-wide roles).
/// Every view is suppressed together (`iip_directory::referral_views`), so no two users'
/// figures can be subtracted to reveal a small count.
async fn referral_report<S: Store>(
    state: &AppState<S>,
    user: &CurrentUser,
    params: &YearParams,
) -> Result<ReferralReport, WebError> {
    let year = match params.year.as_deref().filter(|y| !y.is_empty()) {
        Some(raw) => ProgramYear::parse(raw).map_err(|e| WebError::BadRequest(format!("year: {e}")))?,
        None => state.default_year,
    };
    let organizations = state.store.organization_records().await.map_err(internal)?;
    let orgs: Vec<OrgNode> = organizations.iter().map(OrgNode::from).collect();
    let tree = crate::auth::org_tree(state).await?;
    let access = user.access(&tree);
    let org = user.principal.org_id.as_str();
    let view = if user.principal.role.works_with_participants() {
        View::Organization(org.to_owned())
    } else if access.scope(&format!("sector:{}", iip_domain::Sector::Public)) {
        View::State
    } else {
        View::Subtree(org.to_owned())
    };
    let referrals = state.store.referrals(ReferralFilter::All).await.map_err(internal)?;
    Ok(referral_views::referral_report(
        &referrals, &orgs, year, THRESHOLD, &view,
    ))
}

fn year_params(
    raw: Result<Query<YearParams>, axum::extract::rejection::QueryRejection>,
) -> Result<YearParams, WebError> {
    raw.map(|Query(p)| p).map_err(|e| WebError::BadRequest(e.body_text()))
}

/// `GET /referrals/metrics`: sent, accepted, completed and days to each, by element, partner
/// and sector.
pub async fn referral_page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    raw: Result<Query<YearParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Html<String>, WebError> {
    let params = year_params(raw)?;
    let report = referral_report(&state, &user, &params).await?;
    let names: HashMap<String, String> = state
        .store
        .organizations()
        .await
        .map_err(internal)?
        .into_iter()
        .map(|o| (o.org_id, o.name))
        .collect();
    let rows: Vec<_> = report
        .rows
        .iter()
        .map(|r| {
            let group = match r.breakdown {
                iip_directory::referral_metrics::Breakdown::Partner => {
                    names.get(&r.group).cloned().unwrap_or_else(|| r.group.clone())
                }
                iip_directory::referral_metrics::Breakdown::Element => iip_directory::gaps::element_name(&r.group),
                _ => r.group.replace('_', " "),
            };
            context! {
                breakdown => format!("{:?}", r.breakdown),
                group,
                sent => r.sent, accepted => r.accepted, completed => r.completed,
                acceptance => r.acceptance_rate.map(|v| format!("{:.0}%", v * 100.0)),
                completion => r.completion_rate.map(|v| format!("{:.0}%", v * 100.0)),
                to_accept => r.median_days_to_acceptance,
                to_complete => r.median_days_to_completion,
            }
        })
        .collect();
    let year = params
        .year
        .clone()
        .filter(|y| !y.is_empty())
        .unwrap_or_else(|| state.default_year.to_string());
    crate::pages::render(
        &state,
        "referral_metrics.html",
        context! { user => user.nav(), rows, year, own => user.principal.role.works_with_participants() },
    )
}

/// `GET /api/referrals/metrics`: the same figures as JSON.
pub async fn referral_api<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    raw: Result<Query<YearParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let params = year_params(raw)?;
    Ok(Json(referral_report(&state, &user, &params).await?).into_response())
}
