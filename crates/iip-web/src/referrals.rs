//! Closed-loop referrals: a case worker refers a participant to a partner's service; the
//! partner answers and reports progress through the HL7 SDOH states; a completed referral's
//! outcome becomes a milestone on the participant's record, so it counts as §5 says.
//!
//! The receiving organization sees who was referred only while the participant's consent to
//! share with it is active (and a data-sharing agreement, see `sharing`); otherwise the
//! referral shows its element, service and state, and "withheld" for the person and the note.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use iip_directory::{NewReferral, Referral, ReferralEvent, ReferralStatus, Side};
use iip_domain::facts::FactSink;
use iip_domain::records::MilestoneRecord;
use iip_domain::{Date, Id};
use iip_store::{ReferralFilter, Store};
use minijinja::context;

use crate::auth::{CurrentUser, unix_now};
use crate::{AppState, FormFields, WebError, csrf_form_allowing, internal};

fn case_worker(user: &CurrentUser) -> Result<&str, WebError> {
    if user.principal.role.works_with_participants() {
        Ok(&user.principal.org_id)
    } else {
        Err(WebError::Forbidden(
            "Referrals are made and answered by case workers.".into(),
        ))
    }
}

fn no_referral() -> WebError {
    WebError::NotFound("There is no referral with that number for your organization.".into())
}

/// Organization names by id.
async fn org_names<S: Store>(state: &AppState<S>) -> Result<HashMap<String, String>, WebError> {
    Ok(state
        .store
        .organizations()
        .await
        .map_err(internal)?
        .into_iter()
        .map(|o| (o.org_id, o.name))
        .collect())
}

/// Whether the receiving organization may see who a referral is about today (any consent
/// scope), and whether it may open the pathway too.
async fn receiver_may_see<S: Store>(state: &AppState<S>, referral: &Referral) -> Result<(bool, bool), WebError> {
    let shared = crate::sharing::shared_with(state, &referral.to_org_id).await?;
    let mut matching = shared
        .iter()
        .filter(|s| s.owner_org_id == referral.from_org_id && s.participant_id == referral.participant_id)
        .peekable();
    let any = matching.peek().is_some();
    Ok((any, matching.any(|s| s.scope.shows_pathway())))
}

fn when(at: i64) -> String {
    iip_directory::referral::date_of(at).to_string()
}

/// A referral as a page shows it to `viewer_org`.
fn referral_view(
    referral: &Referral,
    names: &HashMap<String, String>,
    services: &HashMap<String, String>,
    viewer_org: &str,
    may_see_person: bool,
    flag_days: u32,
    now: i64,
) -> minijinja::Value {
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let side = referral.side_of(viewer_org);
    let person = match side {
        Some(Side::Sender) => Some(referral.participant_id.clone()),
        _ if may_see_person => Some(referral.participant_id.clone()),
        _ => None,
    };
    let history: Vec<_> = referral
        .events
        .iter()
        .map(|e| {
            context! {
                status => e.status.label(),
                on => when(e.at),
                by => name(&e.by_org_id),
                reason => e.reason.clone(),
            }
        })
        .collect();
    context! {
        id => referral.id,
        from => name(&referral.from_org_id),
        from_org => referral.from_org_id.clone(),
        to => name(&referral.to_org_id),
        service => referral.service_id.as_ref().map(|s| services.get(s).cloned().unwrap_or_else(|| s.clone())),
        element => referral.element.clone(),
        status => referral.status.label(),
        status_code => referral.status.as_str(),
        requested_on => referral.requested_on().to_string(),
        person,
        note => person_visible(side, may_see_person).then(|| referral.note.clone()).flatten(),
        outcome => referral.outcome_milestone.clone(),
        unanswered => referral.unanswered(now, flag_days),
        history,
    }
}

fn person_visible(side: Option<Side>, may_see_person: bool) -> bool {
    side == Some(Side::Sender) || may_see_person
}

async fn service_names<S: Store>(state: &AppState<S>) -> Result<HashMap<String, String>, WebError> {
    Ok(state
        .store
        .services()
        .await
        .map_err(internal)?
        .into_iter()
        .map(|s| (s.service_id.as_str().to_owned(), s.name))
        .collect())
}

/// The referrals section of a pathway page: the participant's referrals as the owner sees
/// them (with the services one may refer to), or those sent to a partner viewing the record.
pub(crate) async fn for_pathway<S: Store>(
    state: &AppState<S>,
    viewer_org: &str,
    owner_org: &str,
    participant_id: &str,
) -> Result<(Vec<minijinja::Value>, Vec<minijinja::Value>), WebError> {
    let names = org_names(state).await?;
    let services = state.store.services().await.map_err(internal)?;
    let service_names: HashMap<String, String> = services
        .iter()
        .map(|s| (s.service_id.as_str().to_owned(), s.name.clone()))
        .collect();
    let now = unix_now();
    let referrals = state
        .store
        .referrals(ReferralFilter::Participant {
            org_id: owner_org,
            participant_id,
        })
        .await
        .map_err(internal)?;
    let shown = referrals
        .iter()
        .filter(|r| viewer_org == owner_org || r.to_org_id == viewer_org)
        .map(|r| {
            referral_view(
                r,
                &names,
                &service_names,
                viewer_org,
                true,
                state.referral_flag_days,
                now,
            )
        })
        .collect();
    let choices = if viewer_org == owner_org {
        services
            .iter()
            .filter(|s| s.org_id.as_str() != owner_org)
            .map(|s| {
                let org = names.get(s.org_id.as_str()).cloned().unwrap_or_else(|| s.org_id.as_str().to_owned());
                context! { id => s.service_id.as_str(), name => format!("{} — {org}", s.name), elements => s.elements.clone() }
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok((shown, choices))
}

/// For each milestone of a pathway, " · achieved with <partner>" when a partner delivered it
/// (the outcome of a referral it received), "" otherwise.
pub(crate) async fn achieved_with<S: Store>(
    state: &AppState<S>,
    milestones: &[iip_store::MilestoneEntry],
) -> Result<Vec<String>, WebError> {
    if milestones.iter().all(|m| m.delivered_by.is_none()) {
        return Ok(vec![String::new(); milestones.len()]);
    }
    let names = org_names(state).await?;
    Ok(milestones
        .iter()
        .map(|m| {
            m.delivered_by.as_deref().map_or_else(String::new, |org| {
                format!(" · achieved with {}", names.get(org).map_or(org, String::as_str))
            })
        })
        .collect())
}

/// `POST /participants/{id}/referrals`: service, element, note.
pub async fn create<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    Path(participant_id): Path<String>,
    form: FormFields,
) -> Result<Response, WebError> {
    let org = case_worker(&user)?.to_owned();
    let checked = csrf_form_allowing(form, &user, &["service_id", "element", "note"])?;
    let not_found = || WebError::NotFound("There is no participant with that id in your organization.".into());
    let participant = Id::parse(&participant_id).map_err(|_| not_found())?;
    let record = state
        .store
        .participant_record(&org, &participant_id)
        .await
        .map_err(internal)?
        .ok_or_else(not_found)?;
    // The sender, the participant and the user are the session's and the address's, never the
    // form's: a form naming one (or any field it does not take) is refused.
    let fields = match checked {
        Ok(fields) => fields,
        Err(stray) => {
            let page =
                crate::case::pathway_page(&state, &user, &participant_id, Some(("referrals", stray.errors()))).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let field = |k: &str| fields.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let services = state.store.services().await.map_err(internal)?;
    let service = field("service_id").and_then(|id| services.iter().find(|s| s.service_id.as_str() == id));
    let service = match service {
        Some(s) if s.org_id.as_str() != org => Some(s),
        _ => {
            errors.push(("service_id", "is not a partner's service in the directory".into()));
            None
        }
    };
    let element = field("element")
        .map(str::to_owned)
        .or_else(|| service.and_then(|s| s.elements.first().cloned()));
    let element = match element {
        Some(e) if state.framework.elements.iter().any(|x| x.id == e) => Some(e),
        _ => {
            errors.push(("element", "is not an element of the framework".into()));
            None
        }
    };
    let note = field("note").map(str::to_owned);
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > 500 || n.chars().any(char::is_control))
    {
        errors.push(("note", "is at most 500 characters, without control characters".into()));
    }
    if let Some(service) = service {
        let today = Date::today();
        let consented = state
            .store
            .consents(record.row)
            .await
            .map_err(internal)?
            .iter()
            .any(|c| c.partner_org_id == service.org_id.as_str() && c.active_on(today));
        if !consented {
            errors.push((
                "service_id",
                "needs the participant's active consent to share with that organization: record it first".into(),
            ));
        }
    }
    let (Some(service), Some(element), true) = (service, element, errors.is_empty()) else {
        let map = errors
            .into_iter()
            .map(|(f, m)| (f.to_owned(), m))
            .collect::<HashMap<_, _>>();
        let page = crate::case::pathway_page(&state, &user, &participant_id, Some(("referrals", map))).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let new = NewReferral {
        from_org_id: Id::parse(&org).map_err(internal)?,
        participant_id: participant,
        to_org_id: service.org_id.clone(),
        service_id: Some(service.service_id.clone()),
        element,
        note,
        by_user: user.principal.user_id,
        at: unix_now(),
    };
    let id = match state.store.create_referral(&new).await.map_err(internal)? {
        Ok(id) => id,
        Err(_) => return Err(not_found()),
    };
    state
        .audit_participant(
            &user,
            &org,
            &participant_id,
            "change",
            &format!("referral {id} sent to {}", service.org_id),
        )
        .await?;
    Ok(Redirect::to(&format!("/participants/{participant_id}#referrals")).into_response())
}

/// `GET /referrals`: what the user's organization sent and received, unanswered ones flagged.
pub async fn list<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
) -> Result<Html<String>, WebError> {
    let org = case_worker(&user)?.to_owned();
    let referrals = state
        .store
        .referrals(ReferralFilter::Organization(&org))
        .await
        .map_err(internal)?;
    let names = org_names(&state).await?;
    let services = service_names(&state).await?;
    let shared = crate::sharing::shared_with(&state, &org).await?;
    let now = unix_now();
    let view = |r: &Referral| {
        let may_see = shared
            .iter()
            .any(|s| s.owner_org_id == r.from_org_id && s.participant_id == r.participant_id);
        referral_view(r, &names, &services, &org, may_see, state.referral_flag_days, now)
    };
    let received: Vec<_> = referrals.iter().filter(|r| r.to_org_id == org).map(view).collect();
    let sent: Vec<_> = referrals.iter().filter(|r| r.from_org_id == org).map(view).collect();
    let unanswered = referrals
        .iter()
        .filter(|r| r.to_org_id == org && r.unanswered(now, state.referral_flag_days))
        .count();
    crate::pages::render(
        &state,
        "referrals.html",
        context! {
            user => user.nav(),
            received,
            sent,
            unanswered,
            flag_days => state.referral_flag_days,
        },
    )
}

/// The referral, when the user's organization sent or received it.
async fn visible_referral<S: Store>(state: &AppState<S>, org: &str, id: i64) -> Result<Referral, WebError> {
    let referral = state
        .store
        .referral(id)
        .await
        .map_err(internal)?
        .ok_or_else(no_referral)?;
    if referral.side_of(org).is_none() {
        return Err(no_referral());
    }
    Ok(referral)
}

/// `GET /referrals/{id}`: its history and, for the side whose turn it is, the next steps.
pub async fn view<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    let org = case_worker(&user)?.to_owned();
    referral_page(&state, &user, &org, id, Refusal::default()).await
}

/// Why a change was not made, as the referral's page shows it: a message, and the field it is
/// about (shown beside that field).
#[derive(Default)]
struct Refusal {
    problem: Option<String>,
    errors: HashMap<&'static str, String>,
}

async fn referral_page<S: Store>(
    state: &AppState<S>,
    user: &CurrentUser,
    org: &str,
    id: i64,
    refusal: Refusal,
) -> Result<Html<String>, WebError> {
    let referral = visible_referral(state, org, id).await?;
    let side = referral.side_of(org);
    let (receiver_sees, pathway_shared) = receiver_may_see(state, &referral).await?;
    let may_see = side == Some(Side::Sender) || receiver_sees;
    if may_see {
        state
            .audit_participant(
                user,
                &referral.from_org_id,
                &referral.participant_id,
                "read",
                &format!("referral {id}"),
            )
            .await?;
    }
    let names = org_names(state).await?;
    let services = service_names(state).await?;
    let next: Vec<_> = referral
        .status
        .next()
        .iter()
        .filter(|s| side == Some(s.decided_by()))
        .map(|s| context! { code => s.as_str(), label => s.label() })
        .collect();
    let milestones: Vec<_> = state
        .framework
        .elements
        .iter()
        .filter(|e| e.id == referral.element)
        .flat_map(|e| e.milestones.iter())
        .map(|m| context! { id => m.id.clone(), name => iip_framework::localized(&m.name, "en").to_owned() })
        .collect();
    crate::pages::render(
        state,
        "referral.html",
        context! {
            user => user.nav(),
            r => referral_view(&referral, &names, &services, org, may_see, state.referral_flag_days, unix_now()),
            shared_link => side == Some(Side::Receiver) && pathway_shared,
            own_link => side == Some(Side::Sender),
            next,
            milestones,
            problem => refusal.problem,
            errors => refusal.errors,
        },
    )
}

/// `POST /referrals/{id}/status`: status, reason (required for every change), a milestone
/// when it completes, and `from`, the state the page showed. A change that lost a race (the
/// referral moved on from `from`, or another change got there first) answers 409 Conflict
/// with the referral as it is now; a change the rules refuse answers 422.
pub async fn change<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    Path(id): Path<i64>,
    form: FormFields,
) -> Result<Response, WebError> {
    let org = case_worker(&user)?.to_owned();
    // The organization and the user changing it are the session's, never the form's.
    let checked = csrf_form_allowing(form, &user, &["status", "from", "reason", "milestone"])?;
    let referral = visible_referral(&state, &org, id).await?;
    let side = referral.side_of(&org).ok_or_else(no_referral)?;
    let (state_ref, user_ref, org_ref) = (&*state, &user, org.as_str());
    let answer = |status: StatusCode, refusal: Refusal| async move {
        let page = referral_page(state_ref, user_ref, org_ref, id, refusal).await?;
        Ok::<Response, WebError>((status, page).into_response())
    };
    let refuse = |message: String| {
        answer(
            StatusCode::UNPROCESSABLE_ENTITY,
            Refusal {
                problem: Some(message),
                errors: HashMap::new(),
            },
        )
    };
    let fields = match checked {
        Ok(fields) => fields,
        Err(stray) => return refuse(format!("Not saved: {} {}.", stray.field, stray.message)).await,
    };
    let field = |k: &str| fields.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let conflict = |now: ReferralStatus| {
        answer(
            StatusCode::CONFLICT,
            Refusal {
                problem: Some(format!(
                    "Not saved: someone changed this referral a moment ago, it is now {}. Here is its state now; choose the next step again.",
                    now.label()
                )),
                errors: HashMap::new(),
            },
        )
    };
    let to = match field("status").map(ReferralStatus::parse) {
        Some(Ok(to)) => to,
        _ => return refuse("Choose the referral's new state.".into()).await,
    };
    // The state the request was made against: the page's, or the stored one when not sent.
    let from = match field("from").map(ReferralStatus::parse) {
        None => referral.status,
        Some(Ok(from)) => from,
        Some(Err(_)) => return refuse("The referral's state on the page is not one of its states.".into()).await,
    };
    // Moved on since the page was shown (or the very change was just made by someone else).
    if from != referral.status || (to == referral.status && field("from").is_none()) {
        return conflict(referral.status).await;
    }
    let reason = field("reason").map(str::to_owned);
    let Some(reason) = reason else {
        let mut errors = HashMap::new();
        errors.insert(
            "reason",
            "is required: say why the referral changes (who and when are recorded with it).".into(),
        );
        return answer(
            StatusCode::UNPROCESSABLE_ENTITY,
            Refusal {
                problem: Some("Not saved: give a reason for the change.".into()),
                errors,
            },
        )
        .await;
    };
    if reason.chars().count() > 500 || reason.chars().any(char::is_control) {
        let mut errors = HashMap::new();
        errors.insert(
            "reason",
            "is at most 500 characters, without control characters.".into(),
        );
        return answer(
            StatusCode::UNPROCESSABLE_ENTITY,
            Refusal {
                problem: Some("Not saved: the reason is at most 500 characters.".into()),
                errors,
            },
        )
        .await;
    }
    if let Err(e) = referral.status.check(to, side, Some(&reason)) {
        return refuse(format!("{e}.")).await;
    }
    let milestone = match field("milestone") {
        Some(m) if to == ReferralStatus::Completed => match state.framework.milestone(m) {
            Some(found) if found.id.starts_with(&format!("{}.", referral.element)) => Some(found.id.clone()),
            _ => return refuse("That milestone is not one of the referral's element.".into()).await,
        },
        _ => None,
    };
    let event = ReferralEvent {
        status: to,
        at: unix_now(),
        by_user: Some(user.principal.user_id),
        by_org_id: org.clone(),
        reason: Some(reason),
    };
    if !state
        .store
        .change_referral(id, referral.status, &event, milestone.as_deref())
        .await
        .map_err(internal)?
    {
        // Lost the race: another change of the same state committed first.
        let now = state
            .store
            .referral(id)
            .await
            .map_err(internal)?
            .map_or(referral.status, |r| r.status);
        return conflict(now).await;
    }
    state
        .audit(
            Some(user.principal.user_id),
            &org,
            "change",
            &format!("referral:{id}"),
            &format!("referral {id} {}", to.as_str()),
        )
        .await?;
    if let Some(milestone) = milestone {
        record_outcome(&state, &referral, &milestone).await?;
    }
    Ok(Redirect::to(&format!("/referrals/{id}")).into_response())
}

/// The completed referral's outcome, as a milestone on the sender's record of the participant
/// (the receiver may hold none), credited to the receiver that delivered it: it then counts
/// for the person wherever they participate, and shows whom it was achieved with.
async fn record_outcome<S: Store>(state: &AppState<S>, referral: &Referral, milestone: &str) -> Result<(), WebError> {
    let record = MilestoneRecord {
        org_id: Id::parse(&referral.from_org_id).map_err(internal)?,
        participant_id: Id::parse(&referral.participant_id).map_err(internal)?,
        date: Date::today(),
        milestone: milestone.to_owned(),
        element: referral.element.clone(),
    };
    {
        let _writing = state.writing();
        // A milestone already recorded that day for the person is the same outcome: nothing to add.
        if let Ok(recorded) = state.store.record_milestone(&record).await.map_err(internal)? {
            state.apply(recorded, |s, f| s.milestone(f)).await;
        }
    }
    // Both organizations known: the milestone names the partner that delivered it.
    state
        .store
        .credit_milestone(&record, &referral.to_org_id)
        .await
        .map_err(internal)?;
    Ok(())
}
