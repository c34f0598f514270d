//! Consent to share: a case worker records that a participant lets a partner organization see
//! their record, for a purpose, from one date to another, until revoked; the partner's case
//! workers then see it (read only) while the consent is active, and not a moment longer.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use iip_domain::{Date, Id};
use iip_store::Store;
use minijinja::context;

use crate::auth::CurrentUser;
use crate::case::{Viewer, pathway_view};
use crate::{AppState, FormFields, WebError, csrf_form_allowing, internal};

fn not_found() -> WebError {
    WebError::NotFound("There is no participant with that id in your organization.".into())
}

/// The participant's row in the user's own organization.
async fn own_participant<S: Store>(
    state: &AppState<S>,
    user: &CurrentUser,
    participant_id: &str,
) -> Result<i64, WebError> {
    if !user.principal.role.works_with_participants() {
        return Err(WebError::Forbidden("Consents are recorded by case workers.".into()));
    }
    Id::parse(participant_id).map_err(|_| not_found())?;
    Ok(state
        .store
        .participant_record(&user.principal.org_id, participant_id)
        .await
        .map_err(internal)?
        .ok_or_else(not_found)?
        .row)
}

/// A consent form carrying a field it does not take: 422, the pathway page saying which.
async fn refuse_stray<S: Store>(
    state: &AppState<S>,
    user: &CurrentUser,
    participant_id: &str,
    stray: &crate::StrayField,
) -> Result<Response, WebError> {
    let page = crate::case::pathway_page(state, user, participant_id, Some(("consents", stray.errors()))).await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// `POST /participants/{id}/consents`: partner, purpose, valid from and to.
pub async fn record<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    Path(participant_id): Path<String>,
    form: FormFields,
) -> Result<Response, WebError> {
    let checked = csrf_form_allowing(
        form,
        &user,
        &["partner_org_id", "purpose", "scope", "valid_from", "valid_to"],
    )?;
    let row = own_participant(&state, &user, &participant_id).await?;
    // The participant is the address's and the recorder the session's, never the form's.
    let fields = match checked {
        Ok(fields) => fields,
        Err(stray) => return refuse_stray(&state, &user, &participant_id, &stray).await,
    };
    let field = |k: &str| fields.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let tree = crate::auth::org_tree(&state).await?;
    let partner = field("partner_org_id").unwrap_or_default();
    if !tree.contains(partner) || partner == user.principal.org_id {
        errors.push(("partner_org_id", "is not a partner organization in the store".into()));
    }
    let purpose = field("purpose").unwrap_or_default();
    if purpose.is_empty() || purpose.chars().count() > 200 || purpose.chars().any(char::is_control) {
        errors.push(("purpose", "is required, at most 200 characters".into()));
    }
    let date = |name: &'static str, errors: &mut Vec<(&'static str, String)>| match field(name).map(Date::parse) {
        None => None,
        Some(Ok(d)) => Some(d),
        Some(Err(e)) => {
            errors.push((name, e.0));
            None
        }
    };
    let scope = match field("scope").map(iip_store::ConsentScope::parse) {
        None => iip_store::ConsentScope::Record,
        Some(Ok(scope)) => scope,
        Some(Err(_)) => {
            errors.push(("scope", "is one of: record, pathway, referrals".into()));
            iip_store::ConsentScope::Record
        }
    };
    let from = date("valid_from", &mut errors).unwrap_or_else(Date::today);
    let to = date("valid_to", &mut errors);
    if to.is_some_and(|to| to < from) {
        errors.push(("valid_to", "is before the first day".into()));
    }
    if !errors.is_empty() {
        let map = errors
            .iter()
            .map(|(f, m)| ((*f).to_owned(), m.clone()))
            .collect::<HashMap<_, _>>();
        let page = crate::case::pathway_page(&state, &user, &participant_id, Some(("consents", map))).await?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let id = state
        .store
        .record_consent(
            row,
            &iip_store::NewConsent {
                partner_org_id: partner,
                purpose,
                scope,
                valid_from: from,
                valid_to: to,
                recorded_by: user.principal.user_id,
            },
        )
        .await
        .map_err(internal)?;
    let org = &user.principal.org_id;
    state
        .audit_participant(
            &user,
            org,
            &participant_id,
            "change",
            &format!("consent {id} recorded for {partner} ({})", scope.as_str()),
        )
        .await?;
    Ok(Redirect::to(&format!("/participants/{participant_id}#consents")).into_response())
}

/// `POST /participants/{id}/consents/{consent}/revoke`: the partner loses access at once.
pub async fn revoke<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    Path((participant_id, consent_id)): Path<(String, i64)>,
    form: FormFields,
) -> Result<Response, WebError> {
    let checked = csrf_form_allowing(form, &user, &[])?;
    let row = own_participant(&state, &user, &participant_id).await?;
    if let Err(stray) = checked {
        return refuse_stray(&state, &user, &participant_id, &stray).await;
    }
    if !state.store.revoke_consent(row, consent_id).await.map_err(internal)? {
        return Err(WebError::NotFound("There is no such consent to revoke.".into()));
    }
    let org = &user.principal.org_id;
    state
        .audit_participant(
            &user,
            org,
            &participant_id,
            "change",
            &format!("consent {consent_id} revoked"),
        )
        .await?;
    Ok(Redirect::to(&format!("/participants/{participant_id}#consents")).into_response())
}

/// `GET /shared`: records partners share with the user's organization, under active consents.
pub async fn list<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
) -> Result<Html<String>, WebError> {
    if !user.principal.role.works_with_participants() {
        return Err(WebError::Forbidden("Shared records are for case workers.".into()));
    }
    let shared = crate::sharing::shared_with(&state, &user.principal.org_id).await?;
    let orgs = state.store.organizations().await.map_err(internal)?;
    let name = |id: &str| {
        orgs.iter()
            .find(|o| o.org_id == id)
            .map_or_else(|| id.to_owned(), |o| o.name.clone())
    };
    let rows: Vec<_> = shared
        .iter()
        .filter(|s| s.scope.shows_pathway())
        .map(|s| {
            context! {
                owner => s.owner_org_id.clone(),
                owner_name => name(&s.owner_org_id),
                participant_id => s.participant_id.clone(),
                purpose => s.purpose.clone(),
                scope => s.scope.label(),
                until => s.valid_to.map(|d| d.to_string()),
            }
        })
        .collect();
    crate::pages::render(&state, "shared.html", context! { user => user.nav(), rows })
}

/// `GET /shared/{org}/{id}`: a partner's record, read only, while a consent is active.
pub async fn view<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    Path((owner, participant_id)): Path<(String, String)>,
) -> Result<Html<String>, WebError> {
    if !user.principal.role.works_with_participants() {
        return Err(WebError::Forbidden("Shared records are for case workers.".into()));
    }
    let shared = crate::sharing::shared_with(&state, &user.principal.org_id).await?;
    // The widest scope among the active consents; one for referrals only opens no pathway.
    let consent = shared
        .iter()
        .filter(|s| s.owner_org_id == owner && s.participant_id == participant_id && s.scope.shows_pathway())
        .min_by_key(|s| s.scope)
        .ok_or_else(|| WebError::NotFound("No active consent shares that record with your organization.".into()))?;
    pathway_view(&state, &user, &participant_id, None, &Viewer::Partner(consent)).await
}
