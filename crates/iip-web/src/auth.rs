//! Sign-in, sessions and the checks every request passes: who is asking (a server-side
//! session from an HttpOnly, SameSite=Strict cookie), whether a form came from our own pages
//! (a per-session CSRF token, and the browser's Origin / Sec-Fetch-Site), and what they may
//! see (`iip_auth::Access`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Form, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use iip_auth::{Access, OrgTree, Principal, Role, random_token, token_hash, verify_or_decoy};
use iip_store::{SessionLimits, Store};
use minijinja::context;
use serde::Deserialize;

use crate::{AppState, WebError};

/// The session cookie's name on loopback development over plain HTTP.
pub const SESSION_COOKIE: &str = "iip_session";
/// Its name when cookies are `Secure`: browsers keep a `__Host-` cookie only if it is Secure,
/// has `Path=/` and no `Domain`, and was set over HTTPS, so neither a sibling subdomain nor a
/// plain-HTTP page can plant or overwrite it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-iip_session";

/// How sessions behave on this server.
#[derive(Debug, Clone, Copy)]
pub struct AuthConfig {
    pub limits: SessionLimits,
    /// Mark the cookie `Secure` and name it `__Host-iip_session` (on whenever the server is
    /// reached over HTTPS).
    pub secure_cookies: bool,
    /// Behind a reverse proxy every connection comes from the proxy: take the client's address
    /// for rate limiting from the last `X-Forwarded-For` entry (the one the proxy appended).
    /// Off by default, since a client could otherwise choose its own address.
    pub trust_forwarded_for: bool,
}

impl AuthConfig {
    /// The session cookie's name: [`SECURE_SESSION_COOKIE`] with `secure_cookies`, else
    /// [`SESSION_COOKIE`]. Only that name is read back.
    pub fn session_cookie(&self) -> &'static str {
        if self.secure_cookies {
            SECURE_SESSION_COOKIE
        } else {
            SESSION_COOKIE
        }
    }

    /// The `Set-Cookie` value for the session cookie: `value` for `max_age` seconds (an empty
    /// value and 0 to clear it), host-only (`Path=/`, no `Domain`), HttpOnly, SameSite=Strict,
    /// and Secure with `secure_cookies`.
    fn set_session_cookie(&self, value: &str, max_age: i64) -> String {
        let secure = if self.secure_cookies { "; Secure" } else { "" };
        format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
            self.session_cookie()
        )
    }
}

impl Default for AuthConfig {
    /// 30 minutes idle, 12 hours at most.
    fn default() -> Self {
        Self {
            limits: SessionLimits {
                idle: 30 * 60,
                absolute: 12 * 60 * 60,
            },
            secure_cookies: false,
            trust_forwarded_for: false,
        }
    }
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The signed-in user of a request, with their session's CSRF token.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub principal: Principal,
    pub csrf: String,
}

impl CurrentUser {
    /// The user's rights over the current organization tree.
    pub fn access<'a>(&'a self, tree: &'a OrgTree) -> Access<'a> {
        Access {
            principal: &self.principal,
            tree,
        }
    }

    /// Refuses a form whose CSRF token is not this session's (compared in constant time).
    pub fn check_csrf(&self, sent: &str) -> Result<(), WebError> {
        let (a, b) = (self.csrf.as_bytes(), sent.as_bytes());
        let same = !a.is_empty() && a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
        if same {
            Ok(())
        } else {
            Err(WebError::Forbidden(
                "This form has expired. Go back, reload the page and try again.".into(),
            ))
        }
    }

    /// What the base template shows: the name, role and the links the role may follow.
    pub fn nav(&self) -> minijinja::Value {
        let role = self.principal.role;
        context! {
            name => self.principal.display_name.clone(),
            role => role.label(),
            csrf => self.csrf.clone(),
            participants => role.works_with_participants(),
            funding => matches!(role, Role::StateAnalyst | Role::SystemAdmin),
            users => matches!(role, Role::OrgAdmin | Role::SystemAdmin),
        }
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Why a request has no user: pages send people to sign in, the API answers 401.
pub enum Unauthenticated {
    Page(String),
    Api,
}

impl IntoResponse for Unauthenticated {
    fn into_response(self) -> Response {
        match self {
            Unauthenticated::Page(next) => {
                Redirect::to(&format!("/login?next={}", crate::funding::urlencode(&next))).into_response()
            }
            Unauthenticated::Api => (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                axum::Json(serde_json::json!({ "error": "sign in first (session cookie or bearer token)" })),
            )
                .into_response(),
        }
    }
}

fn principal(user: iip_store::UserRecord) -> Option<Principal> {
    Some(Principal {
        user_id: user.id,
        role: Role::parse(&user.role).ok()?,
        org_id: user.org_id,
        display_name: user.display_name,
    })
}

async fn session_user<S: Store>(state: &AppState<S>, headers: &HeaderMap) -> Result<Option<CurrentUser>, WebError> {
    // An integration's bearer token acts as its account; it carries no ambient credential, so
    // it needs no CSRF token (and has none: its forms would be refused).
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        let bearer = bearer.trim();
        if bearer.len() != 64 || !bearer.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let hash = token_hash(bearer);
        let known = match state.tokens.get(&hash) {
            Some(principal) => Some(principal),
            None => {
                let user = state
                    .store
                    .api_token_user(&hash, unix_now())
                    .await
                    .map_err(crate::internal)?;
                let principal = user.and_then(principal);
                if let Some(p) = &principal {
                    state.tokens.remember(hash.clone(), p);
                }
                principal
            }
        };
        return Ok(known.map(|principal| CurrentUser {
            principal,
            csrf: String::new(),
        }));
    }
    // Only the configured name: with secure cookies a plain `iip_session` (which a sibling
    // subdomain or a plain-HTTP page could have planted) is never read.
    let Some(token) = cookie(headers, state.auth.session_cookie()).filter(|t| t.len() == 64) else {
        return Ok(None);
    };
    let Some(session) = state
        .store
        .session(&token_hash(&token), unix_now(), state.auth.limits)
        .await
        .map_err(crate::internal)?
    else {
        return Ok(None);
    };
    Ok(principal(session.user).map(|principal| CurrentUser {
        principal,
        csrf: session.csrf,
    }))
}

impl<S: Store> FromRequestParts<Arc<AppState<S>>> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState<S>>) -> Result<Self, Response> {
        match session_user(state, &parts.headers).await {
            Ok(Some(user)) => Ok(user),
            Ok(None) if parts.uri.path().starts_with("/api/") => Err(Unauthenticated::Api.into_response()),
            Ok(None) => {
                let next = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
                Err(Unauthenticated::Page(next).into_response())
            }
            Err(e) if parts.uri.path().starts_with("/api/") => Err(crate::api::ApiError::from(e).into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

impl<S: Store> axum::extract::OptionalFromRequestParts<Arc<AppState<S>>> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState<S>>) -> Result<Option<Self>, Response> {
        let api = parts.uri.path().starts_with("/api/");
        session_user(state, &parts.headers).await.map_err(|e| {
            if api {
                crate::api::ApiError::from(e).into_response()
            } else {
                e.into_response()
            }
        })
    }
}

/// The client's address for rate limiting ("unknown" when the server runs without it, as in
/// tests through the router): the proxy's last `X-Forwarded-For` entry when it is trusted.
fn client_address(config: &AuthConfig, headers: &HeaderMap, parts: &axum::http::Extensions) -> String {
    if config.trust_forwarded_for {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|a| !a.is_empty())
            .and_then(|a| a.parse::<std::net::IpAddr>().ok());
        if let Some(address) = forwarded {
            return address.to_string();
        }
    }
    parts
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string())
}

/// Only a local path may follow sign-in: never another site (no open redirect).
fn local_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && n.len() < 512 => n.to_owned(),
        _ => "/".to_owned(),
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

pub async fn login_page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Query(query): Query<LoginQuery>,
) -> Result<Html<String>, WebError> {
    crate::pages::render(
        &state,
        "login.html",
        context! { next => local_next(query.next.as_deref()), error => None::<String> },
    )
}

/// The sign-in form's fields.
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

pub async fn login<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    form: crate::FormFields,
) -> Result<Response, WebError> {
    let mut fields = match crate::read_form_allowing(form, &["email", "password", "next"])? {
        Ok(fields) => fields,
        Err(stray) => {
            let page = crate::pages::render(
                &state,
                "login.html",
                context! { next => "/", error => format!("{} {}.", stray.field, stray.message) },
            )?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let (Some(email), Some(password)) = (fields.remove("email"), fields.remove("password")) else {
        return Err(WebError::BadRequest("Give an email and a password.".into()));
    };
    let form = LoginForm {
        email,
        password,
        next: fields.remove("next"),
    };
    let address = client_address(&state.auth, &headers, &extensions);
    let next = local_next(form.next.as_deref());
    let now = Instant::now();
    if let Some(wait) = state.limiter.blocked(&form.email, &address, now) {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let page = crate::pages::render(
            &state,
            "login.html",
            context! { next, error => format!("Too many attempts. Try again in {minutes} minutes.") },
        )?;
        return Ok((
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, wait.as_secs().max(1).to_string())],
            page,
        )
            .into_response());
    }
    let account = state
        .store
        .user_by_email(&form.email)
        .await
        .map_err(crate::internal)?
        .filter(|u| !u.disabled && Role::parse(&u.role).is_ok());
    let password = form.password.clone();
    let stored = account.as_ref().map(|u| u.password_hash.clone());
    // Argon2 takes tens of milliseconds of CPU: off the async workers.
    let valid = tokio::task::spawn_blocking(move || verify_or_decoy(stored.as_deref(), &password))
        .await
        .map_err(crate::internal)?;
    let Some(account) = account.filter(|_| valid) else {
        state.limiter.failed(&form.email, &address, now);
        tracing::info!(address = %address, "sign-in refused");
        let page = crate::pages::render(
            &state,
            "login.html",
            context! { next, error => "That email and password do not match an active account." },
        )?;
        return Ok((StatusCode::UNAUTHORIZED, page).into_response());
    };
    state.limiter.succeeded(&form.email, &address);
    // A new session at every sign-in (the old one, if any, ends): no session fixation.
    if let Some(old) = cookie(&headers, state.auth.session_cookie()) {
        let _ = state.store.delete_session(&token_hash(&old)).await;
    }
    let (Some(token), Some(csrf)) = (random_token(), random_token()) else {
        return Err(WebError::Internal("no randomness for a session token".into()));
    };
    state
        .store
        .create_session(&token.hash, account.id, &csrf.secret, unix_now())
        .await
        .map_err(crate::internal)?;
    tracing::info!(user_id = account.id, "signed in");
    let mut response = Redirect::to(&next).into_response();
    let value = state.auth.set_session_cookie(&token.secret, state.auth.limits.absolute);
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, WebError> {
    let Form(form) = form.map_err(|_| WebError::BadRequest("The form is incomplete.".into()))?;
    user.check_csrf(&form.csrf)?;
    if let Some(token) = cookie(&headers, state.auth.session_cookie()) {
        state
            .store
            .delete_session(&token_hash(&token))
            .await
            .map_err(crate::internal)?;
    }
    let mut response = Redirect::to("/login").into_response();
    // The same name and attributes as at sign-in, or the browser keeps the cookie.
    if let Ok(value) = HeaderValue::from_str(&state.auth.set_session_cookie("", 0)) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// Refuses state-changing requests that a browser says came from another site. Browsers send
/// `Sec-Fetch-Site` (and `Origin`) on every form post; clients without them (curl, an
/// integration with a bearer token) are not browsers and carry no ambient cookie risk.
/// Without `Sec-Fetch-Site`, an `Origin` must name the host the request was sent to: the
/// `Host` header, or the request URI's authority where there is none (HTTP/2's `:authority`,
/// an absolute-form request line); with neither, an `Origin` cannot be checked and is refused.
pub async fn same_origin_writes(request: axum::extract::Request, next: Next) -> Response {
    let method = request.method().clone();
    if method != Method::GET && method != Method::HEAD && method != Method::OPTIONS {
        let headers = request.headers();
        let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let host = match headers.get(header::HOST) {
            Some(host) => host.to_str().ok().map(str::to_owned),
            None => request.uri().authority().map(|a| a.as_str().to_owned()),
        };
        // The browser's own word wins; without it, a present Origin must name this host.
        let cross_site = matches!(site, Some(s) if s != "same-origin" && s != "none");
        let origin_mismatch = site.is_none()
            && match (origin, host.as_deref()) {
                (None, _) => false,
                (Some("null"), _) | (Some(_), None) => true,
                (Some(origin), Some(host)) => origin.split_once("://").map(|(_, h)| h) != Some(host),
            };
        if cross_site || origin_mismatch {
            return WebError::Forbidden("Requests from other sites are refused.".into()).into_response();
        }
    }
    next.run(request).await
}

/// The organization tree as the store has it now.
/// The organization tree, read again only when the store revision has moved: organizations
/// change only through imports, and every import moves it (another process's too). A tree
/// read after a newer import than the revision it is kept under is newer, never older.
pub async fn org_tree<S: Store>(state: &AppState<S>) -> Result<Arc<OrgTree>, WebError> {
    let revision = state.store.revision().await.map_err(crate::internal)?;
    if let Ok(kept) = state.org_tree.lock()
        && let Some((seen, tree)) = kept.as_ref()
        && *seen == revision
    {
        return Ok(tree.clone());
    }
    let orgs = state.store.organizations().await.map_err(crate::internal)?;
    let tree = Arc::new(OrgTree::new(orgs.into_iter().map(|o| (o.org_id, o.parent_id))));
    if let Ok(mut kept) = state.org_tree.lock() {
        *kept = Some((revision, tree.clone()));
    }
    Ok(tree)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_follow_sign_in() {
        assert_eq!(local_next(Some("/participants?q=a")), "/participants?q=a");
        for hostile in ["//evil.example", "https://evil.example", "/\\evil.example", "evil"] {
            assert_eq!(local_next(Some(hostile)), "/", "{hostile}");
        }
        assert_eq!(local_next(None), "/");
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; iip_session=abc; b=2"));
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn with_secure_cookies_only_the_host_prefixed_cookie_reaches_the_session_lookup() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; iip_session=planted; __Host-iip_session=real"),
        );
        let loopback = AuthConfig::default();
        let secure = AuthConfig {
            secure_cookies: true,
            ..AuthConfig::default()
        };
        let read = |config: &AuthConfig, headers: &HeaderMap| cookie(headers, config.session_cookie());
        assert_eq!(read(&loopback, &headers).as_deref(), Some("planted"));
        assert_eq!(read(&secure, &headers).as_deref(), Some("real"));
        headers.insert(header::COOKIE, HeaderValue::from_static("iip_session=planted"));
        assert_eq!(read(&secure, &headers), None);
        assert_eq!(loopback.session_cookie(), "iip_session");
        assert_eq!(secure.session_cookie(), "__Host-iip_session");
        assert_eq!(
            secure.set_session_cookie("", 0),
            "__Host-iip_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure"
        );
    }
}
