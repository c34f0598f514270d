//! The web application: server-rendered, accessible pages over the store and the metrics.
//! No JavaScript, no external requests; every figure shown has passed suppression.

mod admin;
mod api;
mod api_case;
pub mod auth;
mod case;
mod chart;
mod complete;
mod consent;
mod directory;
pub mod funding;
mod gaps;
pub mod live;
pub mod openapi;
mod pages;
mod record_json;
mod referrals;
mod selfassess;
mod sharing;
mod token_cache;

/// How long this server trusts a bearer token it checked without asking the store again.
pub use token_cache::FRESH as BEARER_TOKEN_FRESH;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use iip_domain::ProgramYear;
use iip_framework::Framework;
use iip_metrics::{MetricSet, Snapshot};
use iip_store::Store;
use minijinja::Environment;
use tower_http::set_header::SetResponseHeaderLayer;

pub struct AppState<S> {
    pub store: S,
    pub framework: Arc<Framework>,
    /// Every built-in metric definition; the core set is the first file's.
    pub metrics: Arc<MetricSet>,
    /// The year shown when the request names none.
    pub default_year: ProgramYear,
    templates: Environment<'static>,
    /// The metrics engine's snapshot, kept current, and a cache of suppressed reports.
    live: live::Live,
    pub auth: auth::AuthConfig,
    limiter: iip_auth::LoginLimiter,
    translations: iip_i18n::Translations,
    /// The funding simulator's formula, baseline, need and member tables, when configured.
    funding: Option<iip_funding::Scenario>,
    /// A referral still unanswered after this many days is flagged.
    pub referral_flag_days: u32,
    /// Bearer tokens the store accepted in the last second.
    tokens: token_cache::TokenCache,
    /// The organization tree as of a store revision (see [`auth::org_tree`]).
    pub(crate) org_tree: std::sync::Mutex<Option<(i64, Arc<iip_auth::OrgTree>)>>,
    /// Pathways' JSON kept between their changes (`record_json.rs`).
    pathway_json: record_json::PathwayJson,
}

impl<S: Store> AppState<S> {
    pub fn new(store: S, framework: Arc<Framework>, default_year: ProgramYear) -> Result<Self, WebError> {
        let metrics = MetricSet::builtin(&framework).map_err(|e| WebError::Internal(e.to_string()))?;
        Ok(Self {
            store,
            framework,
            metrics: Arc::new(metrics),
            default_year,
            templates: templates().map_err(|e| WebError::Internal(e.to_string()))?,
            live: live::Live::default(),
            auth: auth::AuthConfig::default(),
            limiter: iip_auth::LoginLimiter::default(),
            translations: iip_i18n::Translations::load().map_err(|e| WebError::Internal(e.to_string()))?,
            funding: None,
            referral_flag_days: 7,
            tokens: token_cache::TokenCache::default(),
            org_tree: std::sync::Mutex::new(None),
            pathway_json: record_json::PathwayJson::default(),
        })
    }

    /// The JSON of a participant's record as `GET /api/participants/{id}` answers it.
    pub(crate) fn record_json(
        &self,
        record: &iip_store::ParticipantRecord,
        pathway: &Arc<iip_store::Pathway>,
    ) -> String {
        self.pathway_json.record(record.row, &record.participant, pathway)
    }

    /// Stops trusting every remembered bearer token (an account was disabled here).
    pub fn forget_tokens(&self) {
        self.tokens.clear();
    }

    /// Serves the funding simulator (`/funding`) for this scenario.
    pub fn with_funding(mut self, scenario: iip_funding::Scenario) -> Self {
        self.funding = Some(scenario);
        self
    }

    pub fn with_referral_flag_days(mut self, days: u32) -> Self {
        self.referral_flag_days = days;
        self
    }

    pub fn with_auth(mut self, auth: auth::AuthConfig) -> Self {
        self.auth = auth;
        self
    }

    /// Call before a store write whose fact this server will apply (see `live`).
    pub fn writing(&self) -> live::Writing<'_> {
        self.live.writing()
    }

    /// Applies a write of this server to the metrics snapshot.
    pub async fn apply<F: Send + Sync + 'static>(
        &self,
        recorded: iip_store::Recorded<F>,
        push: impl FnOnce(&mut Snapshot, F) + Send + Sync + 'static,
    ) {
        self.live.apply(recorded, push).await;
    }

    /// The current snapshot (rebuilt when another process changed the store).
    pub async fn snapshot(&self) -> Result<live::View<'_>, WebError> {
        self.live.view(&self.store, &self.framework).await.map_err(internal)
    }

    /// Appends to the audit log; a request whose access cannot be recorded fails (fail closed).
    pub async fn audit(
        &self,
        user_id: Option<i64>,
        org_id: &str,
        action: &str,
        subject: &str,
        reason: &str,
    ) -> Result<(), WebError> {
        let event = iip_domain::audit::AuditEvent {
            at: auth::unix_now(),
            user_id,
            org_id: org_id.to_owned(),
            action: action.to_owned(),
            subject: subject.to_owned(),
            reason: reason.to_owned(),
        };
        self.store
            .append_audit(&event, iip_auth::audit::chain_hash)
            .await
            .map_err(internal)
    }

    /// Audits what a signed-in user did to a participant record of `owner_org`.
    pub(crate) async fn audit_participant(
        &self,
        user: &auth::CurrentUser,
        owner_org: &str,
        participant_id: &str,
        action: &str,
        reason: &str,
    ) -> Result<(), WebError> {
        let subject = format!("participant:{owner_org}/{participant_id}");
        self.audit(
            Some(user.principal.user_id),
            &user.principal.org_id,
            action,
            &subject,
            reason,
        )
        .await
    }

    /// A suppressed report over every scope, cached per store revision.
    pub async fn report(
        &self,
        set: &MetricSet,
        query: &iip_metrics::Query,
    ) -> Result<Arc<iip_metrics::Report>, WebError> {
        self.live.report(&self.store, &self.framework, set, query).await
    }

    /// How many reports this server computed rather than served from its cache.
    pub fn reports_computed(&self) -> usize {
        self.live.reports_computed()
    }
}

pub use live::load_snapshot;

fn templates() -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.add_template("base.html", include_str!("../templates/base.html"))?;
    env.add_template("dashboard.html", include_str!("../templates/dashboard.html"))?;
    env.add_template("framework.html", include_str!("../templates/framework.html"))?;
    env.add_template("metrics.html", include_str!("../templates/metrics.html"))?;
    env.add_template("funding.html", include_str!("../templates/funding.html"))?;
    env.add_template("login.html", include_str!("../templates/login.html"))?;
    env.add_template("users.html", include_str!("../templates/users.html"))?;
    env.add_template("shared.html", include_str!("../templates/shared.html"))?;
    env.add_template("directory.html", include_str!("../templates/directory.html"))?;
    env.add_template("referrals.html", include_str!("../templates/referrals.html"))?;
    env.add_template("referral.html", include_str!("../templates/referral.html"))?;
    env.add_template("gaps.html", include_str!("../templates/gaps.html"))?;
    env.add_template(
        "referral_metrics.html",
        include_str!("../templates/referral_metrics.html"),
    )?;
    env.add_template("welcome.html", include_str!("../templates/welcome.html"))?;
    env.add_template("participants.html", include_str!("../templates/participants.html"))?;
    env.add_template(
        "participant_new.html",
        include_str!("../templates/participant_new.html"),
    )?;
    env.add_template("pathway.html", include_str!("../templates/pathway.html"))?;
    env.add_template(
        "participant_base.html",
        include_str!("../templates/participant_base.html"),
    )?;
    env.add_template(
        "self_assessment.html",
        include_str!("../templates/self_assessment.html"),
    )?;
    env.add_template(
        "self_assessment_done.html",
        include_str!("../templates/self_assessment_done.html"),
    )?;
    env.add_template(
        "self_assessment_link.html",
        include_str!("../templates/self_assessment_link.html"),
    )?;
    Ok(env)
}

const STYLESHEET: &str = include_str!("../static/app.css");
const FAVICON: &str = include_str!("../static/favicon.svg");

/// Strict headers on every response: no inline scripts, no framing, no sniffing, no referrer.
const SECURITY_HEADERS: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
];

pub fn router<S: Store>(state: AppState<S>) -> Router {
    let mut router = Router::new()
        .route("/", get(pages::dashboard::<S>))
        .route("/dashboard.csv", get(pages::dashboard_csv::<S>))
        .route("/metrics.csv", get(pages::metrics_csv::<S>))
        .route("/framework", get(pages::framework::<S>))
        .route("/metrics", get(pages::metrics::<S>))
        .route("/api/metrics", get(api::metrics::<S>))
        .route(
            "/api/participants",
            get(api_case::list::<S>).post(api_case::create::<S>),
        )
        .route("/api/participants/search", post(api_case::search::<S>))
        .route("/api/participants/{participant_id}", get(api_case::get::<S>))
        .route(
            "/api/participants/{participant_id}/{record}",
            post(api_case::record::<S>),
        )
        .route("/api/openapi.json", get(openapi::document))
        .route("/login", get(auth::login_page::<S>).post(auth::login::<S>))
        .route("/logout", post(auth::logout::<S>))
        .route("/admin/users", get(admin::list::<S>).post(admin::create::<S>))
        .route("/admin/users/{id}/disable", post(admin::disable::<S>))
        .route(
            "/welcome/{token}",
            get(admin::welcome::<S>).post(admin::set_password::<S>),
        )
        .route("/participants", get(case::list::<S>).post(case::create::<S>))
        .route("/participants/new", get(case::new_form::<S>))
        .route("/participants/search", post(case::search::<S>))
        .route("/participants/{participant_id}", get(case::pathway::<S>))
        .route(
            "/participants/{participant_id}/self-assessment",
            post(selfassess::create_link::<S>),
        )
        .route("/participants/{participant_id}/consents", post(consent::record::<S>))
        .route(
            "/participants/{participant_id}/consents/{consent_id}/revoke",
            post(consent::revoke::<S>),
        )
        .route("/participants/{participant_id}/referrals", post(referrals::create::<S>))
        .route("/referrals", get(referrals::list::<S>))
        .route("/referrals/metrics", get(gaps::referral_page::<S>))
        .route("/api/referrals/metrics", get(gaps::referral_api::<S>))
        .route("/gaps", get(gaps::page::<S>))
        .route("/gaps.csv", get(gaps::csv::<S>))
        .route("/api/gaps", get(gaps::api::<S>))
        .route("/referrals/{id}", get(referrals::view::<S>))
        .route("/referrals/{id}/status", post(referrals::change::<S>))
        .route("/directory", get(directory::page::<S>))
        .route("/directory.json", get(directory::hsds::<S>))
        .route("/api/services", get(directory::api::<S>))
        .route("/shared", get(consent::list::<S>))
        .route("/shared/{org_id}/{participant_id}", get(consent::view::<S>))
        .route("/participants/{participant_id}/{record}", post(case::record::<S>))
        .route("/s/{token}", get(selfassess::form::<S>).post(selfassess::submit::<S>))
        .route("/funding", get(funding::page::<S>))
        .route("/funding.csv", get(funding::csv::<S>))
        .route("/api/funding", get(funding::api::<S>))
        .route("/static/app.css", get(stylesheet))
        .route("/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(complete::writes_to_completion))
        .layer(axum::middleware::from_fn(auth::same_origin_writes))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(64 * 1024))
        .with_state(Arc::new(state));
    // Pages and API answers carry personal data: no cache keeps them (static files say otherwise).
    router = router.layer(SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    ));
    for (name, value) in SECURITY_HEADERS {
        router = router.layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    router
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}

async fn favicon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(simple_error_page("Not found", "There is no page at this address.")),
    )
        .into_response()
}

/// A page for errors that must not depend on the template engine.
fn simple_error_page(title: &str, message: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · IIP</title>\
         <link rel=\"stylesheet\" href=\"/static/app.css\"><link rel=\"icon\" href=\"/favicon.svg\"></head><body><main><h1>{title}</h1><p>{message}</p>\
         <p><a href=\"/\">Back to the dashboard</a></p></main></body></html>"
    )
}

/// A server-side failure; its detail is logged, never shown.
pub(crate) fn internal<E: std::fmt::Display + 'static>(e: E) -> WebError {
    // A store that cannot be reached is an outage to wait out (503), not a fault of ours.
    match (&e as &dyn std::any::Any).downcast_ref() {
        Some(iip_store::StoreError::Unavailable(detail)) => return WebError::Unavailable(detail.clone()),
        Some(iip_store::StoreError::InDoubt(detail)) => return WebError::InDoubt(detail.clone()),
        _ => {}
    }
    WebError::Internal(e.to_string())
}

/// A form body as fields, or why it could not be read.
pub(crate) type FormFields =
    Result<axum::extract::Form<std::collections::HashMap<String, String>>, axum::extract::rejection::FormRejection>;

/// The fields of a form.
pub(crate) fn read_form(form: FormFields) -> Result<std::collections::HashMap<String, String>, WebError> {
    form.map(|axum::extract::Form(f)| f)
        .map_err(|_| WebError::BadRequest("The form could not be read.".into()))
}

/// The fields of a form from a signed-in user, after checking its CSRF token.
pub(crate) fn csrf_form(
    form: FormFields,
    user: &auth::CurrentUser,
) -> Result<std::collections::HashMap<String, String>, WebError> {
    let fields = read_form(form)?;
    user.check_csrf(fields.get("csrf").map_or("", String::as_str))?;
    Ok(fields)
}

/// A field a form does not take: refused (422, nothing written) on the form's own page, never
/// ignored or overwritten (shared RELIABILITY.md: unknown or forbidden fields give 422).
#[derive(Debug, Clone)]
pub(crate) struct StrayField {
    /// The field's name as posted (at most 64 characters of it).
    pub field: String,
    /// What the page says after the name: "is set by the server: leave it out", or "is not a
    /// field of this form".
    pub message: &'static str,
    /// The form as posted, for a page that shows the values back.
    pub fields: std::collections::HashMap<String, String>,
}

impl StrayField {
    /// `field`, which the server sets, named by the form `fields`.
    pub(crate) fn set_by_server(field: &str, fields: std::collections::HashMap<String, String>) -> Self {
        Self {
            field: field.chars().take(64).collect(),
            message: "is set by the server: leave it out",
            fields,
        }
    }

    /// `{ field, message }`, for a template.
    pub(crate) fn view(&self) -> minijinja::Value {
        minijinja::context! { field => self.field.clone(), message => self.message }
    }

    /// `field → message`, as the forms' error maps hold it.
    pub(crate) fn errors(&self) -> std::collections::HashMap<String, String> {
        std::collections::HashMap::from([(self.field.clone(), self.message.to_owned())])
    }
}

/// Fields the server alone sets (from the session, the address or the store): a form naming
/// one is told so.
const SERVER_SET_FIELDS: &[&str] = &[
    "org_id",
    "participant_id",
    "from_org_id",
    "to_org_id",
    "by_org_id",
    "by_user",
    "user_id",
    "recorded_by",
    "created_by",
    "created_on",
    "id",
    "row",
];

/// The fields of a form that takes `allowed` (besides `csrf`), or the first other field it
/// carries, by name.
pub(crate) fn allowing(
    fields: std::collections::HashMap<String, String>,
    allowed: &[&str],
) -> Result<std::collections::HashMap<String, String>, StrayField> {
    let stray = fields
        .keys()
        .filter(|k| k.as_str() != "csrf" && !allowed.contains(&k.as_str()))
        .min()
        .cloned();
    let Some(key) = stray else {
        return Ok(fields);
    };
    if SERVER_SET_FIELDS.contains(&key.as_str()) {
        return Err(StrayField::set_by_server(&key, fields));
    }
    Err(StrayField {
        field: key.chars().take(64).collect(),
        message: "is not a field of this form",
        fields,
    })
}

/// The fields of a form without a session (its link or password is the credential), when it
/// carries only `allowed` ones; else the stray field, for the form's page to refuse it.
pub(crate) fn read_form_allowing(
    form: FormFields,
    allowed: &[&str],
) -> Result<Result<std::collections::HashMap<String, String>, StrayField>, WebError> {
    Ok(allowing(read_form(form)?, allowed))
}

/// `csrf_form`, for a form that takes `allowed` fields (besides `csrf`): the CSRF token is
/// checked first (403), then any other field is the stray one, for the form's page to refuse
/// with 422 before anything is written.
pub(crate) fn csrf_form_allowing(
    form: FormFields,
    user: &auth::CurrentUser,
    allowed: &[&str],
) -> Result<Result<std::collections::HashMap<String, String>, StrayField>, WebError> {
    Ok(allowing(csrf_form(form, user)?, allowed))
}

/// Errors a handler can return. Messages shown to users carry no data values.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("internal error")]
    Internal(String),
    /// The store cannot be reached for now; nothing was written.
    #[error("unavailable")]
    Unavailable(String),
    /// The store was lost while a write was being committed: it may or may not be recorded.
    #[error("unavailable, outcome unknown")]
    InDoubt(String),
}

impl WebError {
    /// This error, for a request whose write is already recorded (an audit entry after it
    /// failed): an outage must then not say that nothing was written.
    pub(crate) fn after_write(self) -> Self {
        match self {
            WebError::Unavailable(detail) => WebError::InDoubt(detail),
            other => other,
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            WebError::BadRequest(m) => (StatusCode::BAD_REQUEST, "Bad request", m.clone()),
            WebError::Forbidden(m) => (StatusCode::FORBIDDEN, "Not allowed", m.clone()),
            WebError::NotFound(m) => (StatusCode::NOT_FOUND, "Not found", m.clone()),
            WebError::Internal(detail) => {
                tracing::error!(error = %detail, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The error has been logged.".to_owned(),
                )
            }
            WebError::Unavailable(detail) => {
                tracing::warn!(error = %detail, "store unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Temporarily unavailable",
                    "The database cannot be reached just now; nothing was saved. Try again in a moment.".to_owned(),
                )
            }
            WebError::InDoubt(detail) => {
                tracing::warn!(error = %detail, "store lost during a commit");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Temporarily unavailable",
                    "The database was lost just as this was being saved: it may or may not have been. \
                     In a moment, look at the record before entering it again."
                        .to_owned(),
                )
            }
        };
        let mut response = (status, Html(simple_error_page(title, &html_escape(&message)))).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("5"),
            );
        }
        response
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Serves the application on `listener` until `shutdown` completes.
pub async fn serve<S: Store>(
    listener: tokio::net::TcpListener,
    state: AppState<S>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
