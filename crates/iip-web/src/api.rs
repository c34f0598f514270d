//! The JSON API. `GET /api/metrics` returns exactly what `iip report --format json` prints for
//! the same year, scope, metrics and breakdowns: one engine, one suppression.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use iip_domain::ProgramYear;
use iip_metrics::{Dimension, MetricSet};
use iip_store::Store;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::{AppState, WebError};

/// `year`, `scope`, `metric` (comma-separated ids; default: the core metrics) and `by` (up to
/// two comma-separated breakdowns), shared by the API and the metrics page.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MetricsParams {
    pub year: Option<String>,
    pub scope: Option<String>,
    pub metric: Option<String>,
    pub by: Option<String>,
}

fn list(raw: Option<&str>) -> Vec<&str> {
    raw.map(|r| r.split(',').map(str::trim).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default()
}

impl MetricsParams {
    pub fn year(&self, default: ProgramYear) -> Result<ProgramYear, WebError> {
        match self.year.as_deref().filter(|y| !y.is_empty()) {
            Some(raw) => ProgramYear::parse(raw).map_err(|e| WebError::BadRequest(format!("year: {e}"))),
            None => Ok(default),
        }
    }

    pub fn metric_set(&self, all: &MetricSet, framework: &iip_framework::Framework) -> Result<MetricSet, WebError> {
        let ids = list(self.metric.as_deref());
        if ids.is_empty() {
            return MetricSet::core(framework).map_err(|e| WebError::Internal(e.to_string()));
        }
        all.select(&ids).map_err(WebError::BadRequest)
    }

    /// Exactly the documented grammar: empty, or one or two dimension names joined by a comma,
    /// with no spaces and no empty item (what the OpenAPI document promises, so a client
    /// sending anything else learns it rather than getting an answer to another question).
    pub fn by(&self) -> Result<Vec<Dimension>, WebError> {
        let raw = self.by.as_deref().unwrap_or("");
        if raw.is_empty() {
            return Ok(Vec::new());
        }
        let names: Vec<&str> = raw.split(',').collect();
        if names.len() > 2 {
            return Err(WebError::BadRequest("by: at most two breakdowns".into()));
        }
        names
            .into_iter()
            .map(|d| {
                if d.is_empty() || d.trim() != d {
                    return Err(WebError::BadRequest(
                        "by: comma-separated dimension names, without spaces or empty items".into(),
                    ));
                }
                Dimension::parse(d).map_err(|e| WebError::BadRequest(format!("by: {e}")))
            })
            .collect()
    }

    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref().filter(|s| !s.is_empty())
    }
}

/// API errors as JSON: `{"error": "..."}`. Messages carry no participant values.
pub struct ApiError(WebError);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = match &self.0 {
            WebError::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            WebError::Forbidden(m) => (StatusCode::FORBIDDEN, m.clone()),
            WebError::NotFound(m) => (StatusCode::NOT_FOUND, m.clone()),
            WebError::Internal(detail) => {
                tracing::error!(error = %detail, "api request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error".to_owned())
            }
            WebError::Unavailable(detail) => {
                tracing::warn!(error = %detail, "store unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the store is unavailable; nothing was written: retry".to_owned(),
                )
            }
            WebError::InDoubt(detail) => {
                tracing::warn!(error = %detail, "store lost during a commit");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the store was lost while the write was being committed: it may or may not be recorded; \
                     send it again with the same Idempotency-Key (without one, read the record first)"
                        .to_owned(),
                )
            }
        };
        let mut response = (status, Json(serde_json::json!({ "error": message }))).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("5"),
            );
        }
        response
    }
}

impl From<WebError> for ApiError {
    fn from(e: WebError) -> Self {
        ApiError(e)
    }
}

pub async fn metrics<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    params: Result<Query<MetricsParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| WebError::BadRequest(e.body_text()))?;
    let tree = crate::auth::org_tree(&state).await?;
    let access = user.access(&tree);
    // Unknown scopes answer 404 from the engine; known ones outside the view 403.
    let report = compute(&state, &params, |scope| access.scope(scope)).await?;
    if params.scope().is_some_and(|s| !access.scope(s)) {
        return Err(WebError::Forbidden("That scope is outside your view.".into()).into());
    }
    Ok(Json(report).into_response())
}

/// Runs the engine for `params` (through the server's report cache); used by the API and the
/// metrics page. Suppression is always decided over every scope, then the rows of the asked
/// scope (or of every scope) that `keep` accepts are taken: only those are copied out of the
/// cached report.
pub async fn compute<S: Store>(
    state: &AppState<S>,
    params: &MetricsParams,
    keep: impl Fn(&str) -> bool,
) -> Result<iip_metrics::Report, WebError> {
    let year = params.year(state.default_year)?;
    let set = params.metric_set(&state.metrics, &state.framework)?;
    let by = params.by()?;
    let full = state.report(&set, &iip_metrics::Query { year, by }).await?;
    let asked = params.scope();
    if let Some(scope) = asked
        && !full.rows.iter().any(|r| r.scope_id == scope)
    {
        return Err(WebError::NotFound("That scope is not in this store.".into()));
    }
    Ok(iip_metrics::Report {
        year: full.year,
        framework_version: full.framework_version.clone(),
        metrics_version: full.metrics_version.clone(),
        by: full.by.clone(),
        rows: full
            .rows
            .iter()
            .filter(|r| asked.is_none_or(|scope| r.scope_id == scope) && keep(&r.scope_id))
            .cloned()
            .collect(),
    })
}
