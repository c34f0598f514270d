//! The service directory and the partnerships between organizations: who offers what, in
//! which languages, where, and to whom (including "regardless of immigration status"). Not
//! personal data, so every signed-in role may search it; the agreements are listed for the
//! organizations a user works for.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use iip_directory::{Partnership, Service, ServiceQuery};
use iip_domain::Date;
use iip_store::Store;
use minijinja::context;
use serde::Deserialize;

use crate::api::ApiError;
use crate::auth::CurrentUser;
use crate::{AppState, WebError, internal};

/// The search form's fields, as the page and the API take them.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SearchParams {
    pub element: Option<String>,
    pub language: Option<String>,
    pub area: Option<String>,
    /// `true`/`on` for services open regardless of immigration status.
    pub regardless_of_status: Option<String>,
    pub free: Option<String>,
    pub q: Option<String>,
}

fn flag(raw: Option<&str>) -> Result<bool, WebError> {
    match raw {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("on") | Some("1") => Ok(true),
        Some(_) => Err(WebError::BadRequest(
            "regardless_of_status and free take true or false.".into(),
        )),
    }
}

/// A filter as sent (no trimming: the OpenAPI document's patterns and lengths hold exactly);
/// empty is no filter.
fn bounded(field: &Option<String>, name: &str) -> Result<Option<String>, WebError> {
    match field.as_deref().filter(|v| !v.is_empty()) {
        Some(v) if v.chars().count() > 100 || v.chars().any(char::is_control) => {
            Err(WebError::BadRequest(format!("{name} is at most 100 characters.")))
        }
        other => Ok(other.map(str::to_owned)),
    }
}

impl SearchParams {
    fn query(&self, framework: &iip_framework::Framework) -> Result<ServiceQuery, WebError> {
        let element = bounded(&self.element, "element")?;
        if element.as_deref().is_some_and(|e| framework.element(e).is_none()) {
            return Err(WebError::BadRequest(
                "element is not an element of the framework.".into(),
            ));
        }
        let language = bounded(&self.language, "language")?;
        if language
            .as_deref()
            .is_some_and(|l| iip_domain::records::LanguageCode::parse(l).is_err())
        {
            return Err(WebError::BadRequest(
                "language is an ISO 639-1 code (two lower-case letters).".into(),
            ));
        }
        Ok(ServiceQuery {
            element,
            language,
            area: bounded(&self.area, "area")?,
            regardless_of_status: flag(self.regardless_of_status.as_deref())?,
            free: flag(self.free.as_deref())?,
            text: bounded(&self.q, "q")?,
        })
    }
}

type Params = Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>;

fn params(raw: Params) -> Result<SearchParams, WebError> {
    raw.map(|Query(p)| p).map_err(|e| WebError::BadRequest(e.body_text()))
}

async fn search<S: Store>(state: &AppState<S>, query: &ServiceQuery) -> Result<Vec<Service>, WebError> {
    let services = state.store.services().await.map_err(internal)?;
    Ok(iip_directory::service::search(&services, query)
        .into_iter()
        .cloned()
        .collect())
}

/// `GET /directory`: the search form and its results.
pub async fn page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    raw: Params,
) -> Result<Html<String>, WebError> {
    let params = params(raw)?;
    let query = params.query(&state.framework)?;
    let found = search(&state, &query).await?;
    let orgs = state.store.organization_records().await.map_err(internal)?;
    let names: HashMap<&str, &str> = orgs.iter().map(|o| (o.org_id.as_str(), o.name.as_str())).collect();
    let element_name = |id: &str| {
        state
            .framework
            .element(id)
            .map_or_else(|| id.to_owned(), |e| iip_framework::localized(&e.name, "en").to_owned())
    };
    let results: Vec<_> = found
        .iter()
        .map(|s| {
            context! {
                id => s.service_id.as_str(),
                name => s.name.clone(),
                org => names.get(s.org_id.as_str()).copied().unwrap_or(s.org_id.as_str()),
                description => s.description.clone(),
                elements => s.elements.iter().map(|e| element_name(e)).collect::<Vec<_>>(),
                languages => s.languages.join(", "),
                eligibility => s.eligibility.clone(),
                regardless => s.regardless_of_status,
                cost => if s.free { "Free".to_owned() } else { s.fees.clone().unwrap_or_else(|| "Fees apply".to_owned()) },
                schedule => s.schedule.clone(),
                places => s.locations.iter().filter_map(|l| l.city.clone()).collect::<Vec<_>>().join(", "),
                areas => s.areas.join(", "),
            }
        })
        .collect();
    let mut areas: Vec<String> = orgs
        .iter()
        .flat_map(|o| o.area.iter().chain(o.areas_served.iter()).cloned())
        .collect();
    areas.sort();
    areas.dedup();
    let partnerships = partnerships_for(&state, &user).await?;
    crate::pages::render(
        &state,
        "directory.html",
        context! {
            user => user.nav(),
            results,
            count => found.len(),
            elements => state.framework.elements.iter().map(|e| context! { id => e.id.clone(), name => iip_framework::localized(&e.name, "en") }).collect::<Vec<_>>(),
            languages => LANGUAGES.iter().map(|(code, name)| context! { code => *code, name => *name }).collect::<Vec<_>>(),
            areas,
            q => context! {
                element => query.element.clone().unwrap_or_default(),
                language => query.language.clone().unwrap_or_default(),
                area => query.area.clone().unwrap_or_default(),
                regardless => query.regardless_of_status,
                free => query.free,
                text => query.text.clone().unwrap_or_default(),
            },
            partnerships,
        },
    )
}

/// Languages the search offers by name (any ISO 639-1 code works in the API).
const LANGUAGES: &[(&str, &str)] = &[
    ("en", "English"),
    ("es", "Spanish"),
    ("vi", "Vietnamese"),
    ("zh", "Chinese"),
    ("tl", "Tagalog"),
    ("ko", "Korean"),
    ("hi", "Hindi"),
    ("fa", "Persian"),
    ("ar", "Arabic"),
    ("ru", "Russian"),
    ("uk", "Ukrainian"),
];

/// Agreements of the user's organization (every agreement for state-wide roles), with whether
/// each is in force today.
async fn partnerships_for<S: Store>(
    state: &AppState<S>,
    user: &CurrentUser,
) -> Result<Vec<minijinja::Value>, WebError> {
    let tree = crate::auth::org_tree(state).await?;
    let access = user.access(&tree);
    let all = state.store.partnerships().await.map_err(internal)?;
    let names: HashMap<String, String> = state
        .store
        .organizations()
        .await
        .map_err(internal)?
        .into_iter()
        .map(|o| (o.org_id, o.name))
        .collect();
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let today = Date::today();
    let visible = |p: &&Partnership| access.scope(p.org_id.as_str()) || access.scope(p.partner_org_id.as_str());
    Ok(all
        .iter()
        .filter(visible)
        .map(|p| {
            context! {
                id => p.partnership_id.as_str(),
                kind => p.kind.as_str().replace('_', " "),
                between => name(p.org_id.as_str()),
                and => name(p.partner_org_id.as_str()),
                scope => p.scope.clone(),
                from => p.start_date.to_string(),
                to => p.end_date.map(|d| d.to_string()),
                status => if p.active_on(today) { "in force" } else if p.start_date > today { "not yet" } else { "ended" },
            }
        })
        .collect())
}

/// `GET /api/services`: the same search as JSON.
pub async fn api<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    _user: CurrentUser,
    raw: Params,
) -> Result<Response, ApiError> {
    let params = params(raw)?;
    let query = params.query(&state.framework)?;
    let found = search(&state, &query).await?;
    Ok(Json(serde_json::json!({ "services": found })).into_response())
}

/// `GET /directory.json`: the whole directory as an HSDS 3 organization package.
pub async fn hsds<S: Store>(State(state): State<Arc<AppState<S>>>, _user: CurrentUser) -> Result<Response, ApiError> {
    let organizations = state.store.organization_records().await.map_err(internal)?;
    let services = state.store.services().await.map_err(internal)?;
    let document = iip_directory::hsds::export_json(&organizations, &services).map_err(internal)?;
    Ok(Json(document).into_response())
}
