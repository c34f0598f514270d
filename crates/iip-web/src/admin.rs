//! Account administration: organization admins manage their organization's accounts, system
//! admins every organization's. A new account gets a one-time welcome link to choose its own
//! password; nobody ever sees or sends someone else's password.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use iip_auth::{Role, hash_password, hash_password_for, random_token, token_hash};
use iip_store::{NewUser, Store};
use minijinja::context;
use serde::Serialize;

use crate::auth::{CurrentUser, unix_now};
use crate::{AppState, FormFields, WebError, csrf_form, csrf_form_allowing, internal, read_form_allowing};

/// A welcome link lasts three days.
const INVITE_SECONDS: i64 = 3 * 24 * 60 * 60;

#[derive(Serialize)]
struct AccountView {
    id: i64,
    email: String,
    name: String,
    role: String,
    org_id: String,
    disabled: bool,
    is_me: bool,
}

/// The organizations whose accounts the user manages.
async fn managed_orgs<S: Store>(state: &AppState<S>, user: &CurrentUser) -> Result<Vec<(String, String)>, WebError> {
    let tree = crate::auth::org_tree(state).await?;
    let access = user.access(&tree);
    Ok(state
        .store
        .organizations()
        .await
        .map_err(internal)?
        .into_iter()
        .filter(|o| access.manage_users(&o.org_id))
        .map(|o| (o.org_id, o.name))
        .collect())
}

fn admin_only(user: &CurrentUser) -> Result<(), WebError> {
    if matches!(user.principal.role, Role::OrgAdmin | Role::SystemAdmin) {
        Ok(())
    } else {
        Err(WebError::Forbidden("Accounts are managed by administrators.".into()))
    }
}

async fn users_page<S: Store>(
    state: &AppState<S>,
    user: &CurrentUser,
    invite: Option<(String, String)>,
    errors: HashMap<String, String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    admin_only(user)?;
    let orgs = managed_orgs(state, user).await?;
    let scope = (user.principal.role == Role::OrgAdmin).then_some(user.principal.org_id.as_str());
    let accounts: Vec<AccountView> = state
        .store
        .users(scope)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|u| AccountView {
            is_me: u.id == user.principal.user_id,
            id: u.id,
            email: u.email,
            name: u.display_name,
            role: Role::parse(&u.role).map_or(u.role.clone(), |r| r.label().to_owned()),
            org_id: u.org_id,
            disabled: u.disabled,
        })
        .collect();
    let tree = crate::auth::org_tree(state).await?;
    let access = user.access(&tree);
    let roles: Vec<_> = Role::ALL
        .into_iter()
        .filter(|r| access.may_grant(*r))
        .map(|r| context! { id => r.as_str(), label => r.label() })
        .collect();
    let page = crate::pages::render(
        state,
        "users.html",
        context! {
            user => user.nav(),
            accounts => minijinja::Value::from(minijinja::value::Serde(&accounts)),
            orgs => orgs.iter().map(|(id, name)| context! { id, name }).collect::<Vec<_>>(),
            roles,
            invite => invite.map(|(email, url)| context! { email, url }),
            errors,
        },
    )?;
    Ok((status, page).into_response())
}

pub async fn list<S: Store>(State(state): State<Arc<AppState<S>>>, user: CurrentUser) -> Result<Response, WebError> {
    users_page(&state, &user, None, HashMap::new(), StatusCode::OK).await
}

/// `POST /admin/users`: a new account in a managed organization, and its welcome link.
pub async fn create<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    headers: HeaderMap,
    form: FormFields,
) -> Result<Response, WebError> {
    let checked = csrf_form_allowing(form, &user, &["email", "name", "role", "org_id"])?;
    admin_only(&user)?;
    // Nothing else: whether the account is disabled, its password, id and creator are the
    // server's to set.
    let fields = match checked {
        Ok(fields) => fields,
        Err(stray) => return users_page(&state, &user, None, stray.errors(), StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let get = |k: &str| fields.get(k).map_or("", |v| v.trim());
    let (email, name, org, role) = (get("email"), get("name"), get("org_id"), get("role"));
    let mut errors = HashMap::new();
    if !(3..=254).contains(&email.len())
        || !email.contains('@')
        || email.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        errors.insert("email".to_owned(), "is not an email address".to_owned());
    }
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        errors.insert("name".to_owned(), "is 1 to 100 characters".to_owned());
    }
    let tree = crate::auth::org_tree(&state).await?;
    let access = user.access(&tree);
    if !tree.contains(org) || !access.manage_users(org) {
        errors.insert("org_id".to_owned(), "is not an organization you manage".to_owned());
    }
    match Role::parse(role) {
        Ok(r) if access.may_grant(r) => {}
        _ => {
            errors.insert("role".to_owned(), "is not a role you may give".to_owned());
        }
    }
    if !errors.is_empty() {
        return users_page(&state, &user, None, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    // A password nobody knows until the new colleague chooses theirs.
    let placeholder = random_token().ok_or_else(|| internal("no randomness"))?;
    let hash = tokio::task::spawn_blocking(move || hash_password(&placeholder.secret))
        .await
        .map_err(internal)?
        .map_err(internal)?;
    let created = state
        .store
        .create_user(&NewUser {
            email,
            display_name: name,
            org_id: org,
            role,
            password_hash: &hash,
        })
        .await
        .map_err(internal)?;
    let Some(id) = created else {
        let errors = HashMap::from([("email".to_owned(), "already has an account".to_owned())]);
        return users_page(&state, &user, None, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let token = random_token().ok_or_else(|| internal("no randomness"))?;
    let now = unix_now();
    state
        .store
        .create_invite(&token.hash, id, now, now + INVITE_SECONDS)
        .await
        .map_err(internal)?;
    tracing::info!(user_id = user.principal.user_id, new_user_id = id, "account created");
    let url = format!(
        "{}/welcome/{}",
        crate::selfassess::origin(&state, &headers),
        token.secret
    );
    users_page(
        &state,
        &user,
        Some((email.to_owned(), url)),
        HashMap::new(),
        StatusCode::OK,
    )
    .await
}

/// `POST /admin/users/{id}/disable`: ends the account's sessions and tokens' use.
pub async fn disable<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    Path(id): Path<i64>,
    form: FormFields,
) -> Result<Response, WebError> {
    csrf_form(form, &user)?;
    admin_only(&user)?;
    let target = state
        .store
        .user_by_id(id)
        .await
        .map_err(internal)?
        .ok_or_else(|| WebError::NotFound("There is no such account.".into()))?;
    let tree = crate::auth::org_tree(&state).await?;
    if !user.access(&tree).manage_users(&target.org_id) {
        return Err(WebError::NotFound("There is no such account.".into()));
    }
    if target.id == user.principal.user_id {
        return Err(WebError::BadRequest("You cannot disable your own account.".into()));
    }
    state.store.set_user_disabled(target.id, true).await.map_err(internal)?;
    state.forget_tokens();
    tracing::info!(
        user_id = user.principal.user_id,
        disabled_user_id = target.id,
        "account disabled"
    );
    Ok(Redirect::to("/admin/users").into_response())
}

fn welcome_page<S: Store>(
    state: &AppState<S>,
    token: &str,
    email: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let page = crate::pages::render(state, "welcome.html", context! { token, email, error })?;
    Ok((status, page).into_response())
}

fn valid_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `GET /welcome/{token}`: choose a password.
pub async fn welcome<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    let account = if valid_token(&token) {
        state
            .store
            .invite_user(&token_hash(&token), unix_now())
            .await
            .map_err(internal)?
    } else {
        None
    };
    match account {
        Some(account) => welcome_page(&state, &token, Some(&account.email), None, StatusCode::OK),
        None => welcome_page(&state, "", None, None, StatusCode::NOT_FOUND),
    }
}

/// `POST /welcome/{token}`: sets the password, once, then on to sign in.
pub async fn set_password<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Path(token): Path<String>,
    form: FormFields,
) -> Result<Response, WebError> {
    let checked = read_form_allowing(form, &["password", "confirm"])?;
    let now = unix_now();
    let hash = token_hash(&token);
    let account = if valid_token(&token) {
        state.store.invite_user(&hash, now).await.map_err(internal)?
    } else {
        None
    };
    let Some(account) = account else {
        return welcome_page(&state, "", None, None, StatusCode::NOT_FOUND);
    };
    // The password, twice: the account, its role and organization are the link's.
    let fields = match checked {
        Ok(fields) => fields,
        Err(stray) => {
            let message = format!("Not saved: {} {}.", stray.field, stray.message);
            return welcome_page(
                &state,
                &token,
                Some(&account.email),
                Some(&message),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let password = fields.get("password").cloned().unwrap_or_default();
    if fields.get("confirm") != Some(&password) {
        return welcome_page(
            &state,
            &token,
            Some(&account.email),
            Some("The two passwords differ."),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    // Refused too when built from the account's own email or name.
    let context = [account.email.clone(), account.display_name.clone()];
    let hashed =
        tokio::task::spawn_blocking(move || hash_password_for(&password, &[context[0].as_str(), context[1].as_str()]))
            .await
            .map_err(internal)?;
    let hashed = match hashed {
        Ok(h) => h,
        Err(e) => {
            let message = e.to_string();
            return welcome_page(
                &state,
                &token,
                Some(&account.email),
                Some(&message),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    if !state.store.use_invite(&hash, now).await.map_err(internal)? {
        return welcome_page(&state, "", None, None, StatusCode::NOT_FOUND);
    }
    state.store.set_password(account.id, &hashed).await.map_err(internal)?;
    tracing::info!(user_id = account.id, "password chosen");
    let mut response = Redirect::to("/login").into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(response)
}
