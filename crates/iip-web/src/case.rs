//! A case worker's pages: the organization's participants, intake, and each participant's
//! pathway across the eight elements, where activities, milestones, assessments, needs and
//! goals are recorded. Every record goes through the exchange format's own rules, and every
//! page is limited, on the server, to the signed-in user's organization.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use iip_domain::facts::FactSink;
use iip_domain::{Date, Id};
use iip_exchange::parse;
use iip_framework::localized;
use iip_store::{PathwayKind, Recorded, Refused, Store};
use minijinja::context;
use serde::Serialize;

use crate::auth::CurrentUser;
use crate::{AppState, FormFields, StrayField, WebError, csrf_form_allowing, internal};

/// Case work is for case workers and organization admins, within their organization.
fn case_worker(user: &CurrentUser) -> Result<&str, WebError> {
    if user.principal.role.works_with_participants() {
        Ok(&user.principal.org_id)
    } else {
        Err(WebError::Forbidden(
            "Participant records are for case workers of the participant's organization.".into(),
        ))
    }
}

fn render(
    state: &AppState<impl Store>,
    user: &CurrentUser,
    name: &str,
    ctx: minijinja::Value,
) -> Result<Html<String>, WebError> {
    crate::pages::render(state, name, context! { user => user.nav(), ..ctx })
}

#[derive(Serialize)]
struct ListRow {
    participant_id: String,
    name: String,
    language: String,
    last_activity: String,
}

fn full_name(first: Option<&str>, last: Option<&str>) -> String {
    let name = [first, last].into_iter().flatten().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        "(no name recorded)".into()
    } else {
        name
    }
}

/// `GET /participants`: the organization's participants, first by id.
pub async fn list<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
) -> Result<Html<String>, WebError> {
    participants_page(&state, &user, "", None).await
}

/// `POST /participants/search`: by id or name. A name is searched by POST so that it never
/// appears in a URL, a browser history or an access log.
pub async fn search<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    form: FormFields,
) -> Result<Response, WebError> {
    let fields = match csrf_form_allowing(form, &user, &["q"])? {
        Ok(fields) => fields,
        Err(stray) => {
            let page = participants_page(&state, &user, "", Some(&stray)).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let q = fields.get("q").map_or("", |q| q.trim());
    Ok(participants_page(&state, &user, q, None).await?.into_response())
}

async fn participants_page<S: Store>(
    state: &AppState<S>,
    user: &CurrentUser,
    q: &str,
    stray: Option<&StrayField>,
) -> Result<Html<String>, WebError> {
    let org = case_worker(user)?;
    if q.chars().count() > 100 {
        return Err(WebError::BadRequest("Search for at most 100 characters.".into()));
    }
    let reason = if q.is_empty() {
        "participant list"
    } else {
        "participant search"
    };
    state
        .audit(
            Some(user.principal.user_id),
            org,
            "search",
            &format!("participants:{org}"),
            reason,
        )
        .await?;
    let found = state.store.search_participants(org, q, 200).await.map_err(internal)?;
    let rows: Vec<ListRow> = found
        .iter()
        .map(|p| ListRow {
            participant_id: p.participant_id.clone(),
            name: full_name(p.first_name.as_deref(), p.last_name.as_deref()),
            language: p.primary_language.clone().unwrap_or_default(),
            last_activity: p.last_activity.map(|d| d.to_string()).unwrap_or_default(),
        })
        .collect();
    let org_name = org_name(state, org).await?;
    render(
        state,
        user,
        "participants.html",
        context! { q, org_name, rows => minijinja::Value::from(minijinja::value::Serde(&rows)), shown => rows.len(), limit => 200, stray => stray.map(StrayField::view) },
    )
}

async fn org_name<S: Store>(state: &AppState<S>, org: &str) -> Result<String, WebError> {
    Ok(state
        .store
        .organizations()
        .await
        .map_err(internal)?
        .into_iter()
        .find(|o| o.org_id == org)
        .map_or_else(|| org.to_owned(), |o| o.name))
}

/// The intake form's choices, from the exchange format's code lists.
fn intake_choices() -> minijinja::Value {
    context! {
        genders => ["female", "male", "nonbinary"],
        races => ["asian", "black", "filipino", "hispanic", "native_american", "pacific_islander", "white", "multiple"],
        barriers => BARRIERS,
    }
}

/// The barriers the intake form offers, one checkbox each (`barrier_<code>`).
const BARRIERS: [&str; 4] = ["english_learner", "low_income", "low_literacy", "cultural_barriers"];

/// The intake form's fields, besides the barriers' checkboxes. `org_id` is taken only as the
/// account's own organization (or empty): the organization is the account's, never the form's.
const INTAKE_FIELDS: &[&str] = &[
    "org_id",
    "participant_id",
    "first_name",
    "last_name",
    "date_of_birth",
    "gender",
    "race_ethnicity",
    "country_of_birth",
    "primary_language",
    "us_arrival_year",
    "zip",
    "person_key",
];

pub async fn new_form<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
) -> Result<Html<String>, WebError> {
    case_worker(&user)?;
    render(
        &state,
        &user,
        "participant_new.html",
        context! { values => HashMap::<String, String>::new(), errors => HashMap::<String, String>::new(), choices => intake_choices() },
    )
}

/// Field errors as `column → message` for the template, joined when a field has several.
fn errors_by_field(errors: &[(&'static str, String)]) -> HashMap<String, String> {
    let mut by: HashMap<String, String> = HashMap::new();
    for (field, message) in errors {
        let key = if field.is_empty() { "form" } else { field };
        by.entry(key.to_owned())
            .and_modify(|m| {
                m.push_str("; ");
                m.push_str(message);
            })
            .or_insert_with(|| message.clone());
    }
    by
}

pub async fn create<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    form: FormFields,
) -> Result<Response, WebError> {
    let org = case_worker(&user)?.to_owned();
    let checkboxes = BARRIERS.map(|b| format!("barrier_{b}"));
    let allowed: Vec<&str> = INTAKE_FIELDS
        .iter()
        .copied()
        .chain(checkboxes.iter().map(String::as_str))
        .collect();
    // Barriers arrive as one checkbox each.
    let with_barriers = |mut fields: HashMap<String, String>| {
        let barriers: Vec<&str> = BARRIERS
            .into_iter()
            .filter(|b| fields.contains_key(&format!("barrier_{b}")))
            .collect();
        fields.insert("barriers".into(), barriers.join(";"));
        fields
    };
    // Only the form's own fields. The organization is the account's: a form naming another
    // (or anything else the form does not take) is refused, as the API does; naming the
    // account's own (or none) changes nothing.
    let checked = csrf_form_allowing(form, &user, &allowed)?.and_then(|fields| {
        match fields.get("org_id").map(|named| named.trim()) {
            Some(named) if !named.is_empty() && named != org => Err(StrayField::set_by_server("org_id", fields)),
            _ => Ok(fields),
        }
    });
    let mut fields = match checked {
        Ok(fields) => with_barriers(fields),
        Err(stray) => {
            let page = render(
                &state,
                &user,
                "participant_new.html",
                context! { values => with_barriers(stray.fields.clone()), errors => HashMap::<String, String>::new(), stray => stray.view(), choices => intake_choices() },
            )?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    fields.insert("org_id".into(), org.clone());
    if fields.get("participant_id").is_none_or(|v| v.trim().is_empty()) {
        let token = iip_auth::random_token().ok_or_else(|| internal("no randomness"))?;
        fields.insert("participant_id".into(), format!("p-{}", &token.secret[..10]));
    }
    let invalid = |errors: HashMap<String, String>, fields: &HashMap<String, String>| -> Result<Response, WebError> {
        let page = render(
            &state,
            &user,
            "participant_new.html",
            context! { values => fields, errors, choices => intake_choices() },
        )?;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    let participant = match parse::participant(&fields, Date::today()) {
        Ok(p) => p,
        Err(errors) => return invalid(errors_by_field(&errors), &fields),
    };
    // Readers keep the snapshot until this write's fact is applied.
    let _writing = state.writing();
    // Audited as attempted: the entry is queued with the write, so one group commit carries
    // both, and no committed intake is left without its entry by a crash between two commits.
    let (created, audited) = tokio::join!(
        state.store.create_participant(&participant),
        state.audit_participant(
            &user,
            &org,
            participant.participant_id.as_str(),
            "create",
            "intake form"
        )
    );
    let recorded = match created.map_err(internal)? {
        Ok(recorded) => recorded,
        // A replay needs an idempotency key, which pages do not send.
        Err(Refused::Duplicate | Refused::Replayed | Refused::KeyReused) => {
            audited?;
            let errors = HashMap::from([(
                "participant_id".to_owned(),
                "is already used in your organization".to_owned(),
            )]);
            return invalid(errors, &fields);
        }
        Err(Refused::Unknown) => return Err(WebError::Forbidden("Your organization is not in the store.".into())),
    };
    state.apply(recorded, |snapshot, fact| snapshot.participant(fact)).await;
    audited.map_err(WebError::after_write)?;
    tracing::info!(user_id = user.principal.user_id, "participant created");
    Ok(Redirect::to(&format!("/participants/{}", participant.participant_id.as_str())).into_response())
}

#[derive(Serialize)]
struct Event {
    date: String,
    kind: &'static str,
    text: String,
    element: String,
}

#[derive(Serialize)]
struct ElementView {
    id: String,
    name: String,
    needs: Vec<String>,
    goals: Vec<(String, String)>,
    activities: Vec<String>,
    milestones: Vec<String>,
    self_first: Option<String>,
    self_latest: Option<String>,
}

/// The participant's pathway page, with errors of a form that was just refused.
/// Who is looking at a pathway: the participant's own organization, or a partner under an
/// active consent (read only).
pub(crate) enum Viewer<'a> {
    Owner,
    Partner(&'a iip_store::SharedRecord),
}

pub(crate) async fn pathway_page<S: Store>(
    state: &AppState<S>,
    user: &CurrentUser,
    participant_id: &str,
    refused: Option<(&str, HashMap<String, String>)>,
) -> Result<Html<String>, WebError> {
    pathway_view(state, user, participant_id, refused, &Viewer::Owner).await
}

pub(crate) async fn pathway_view<S: Store>(
    state: &AppState<S>,
    user: &CurrentUser,
    participant_id: &str,
    refused: Option<(&str, HashMap<String, String>)>,
    viewer: &Viewer<'_>,
) -> Result<Html<String>, WebError> {
    case_worker(user)?;
    let org = match viewer {
        Viewer::Owner => user.principal.org_id.as_str(),
        Viewer::Partner(shared) => shared.owner_org_id.as_str(),
    };
    let reason = match viewer {
        Viewer::Owner => "pathway page".to_owned(),
        Viewer::Partner(shared) => format!("shared record: consent {}", shared.consent_id),
    };
    let not_found = || WebError::NotFound("There is no participant with that id in your organization.".into());
    Id::parse(participant_id).map_err(|_| not_found())?;
    let (record, pathway) = state
        .store
        .participant_with_pathway(org, participant_id)
        .await
        .map_err(internal)?
        .ok_or_else(not_found)?;
    state
        .audit_participant(user, org, participant_id, "read", &reason)
        .await?;
    let framework = &state.framework;
    let milestone_name = |id: &str| {
        framework
            .milestone(id)
            .map_or_else(|| id.to_owned(), |m| localized(&m.name, "en").to_owned())
    };
    let hours = |h: u32| format!("{}.{:02} h", h / 100, h % 100);
    let achieved = crate::referrals::achieved_with(state, &pathway.milestones).await?;
    let elements: Vec<ElementView> = framework
        .elements
        .iter()
        .map(|e| {
            let instrument = format!("iip_self.{}", e.id);
            let scores: Vec<&iip_store::AssessmentEntry> = pathway
                .assessments
                .iter()
                .filter(|a| a.instrument == instrument)
                .collect();
            let score = |a: &&iip_store::AssessmentEntry| format!("{:.0}% on {}", a.score * 100.0, a.date);
            ElementView {
                id: e.id.clone(),
                name: localized(&e.name, "en").to_owned(),
                needs: pathway
                    .items
                    .iter()
                    .filter(|i| i.element == e.id && i.kind == PathwayKind::Need)
                    .map(|i| i.description.clone())
                    .collect(),
                goals: pathway
                    .items
                    .iter()
                    .filter(|i| i.element == e.id && i.kind == PathwayKind::Goal)
                    .map(|i| {
                        (
                            i.description.clone(),
                            i.target_date.map(|d| d.to_string()).unwrap_or_default(),
                        )
                    })
                    .collect(),
                activities: pathway
                    .activities
                    .iter()
                    .filter(|a| a.element.as_deref() == Some(e.id.as_str()))
                    .map(|a| format!("{} · {} · {}", a.date, a.program, hours(a.hundredths)))
                    .collect(),
                milestones: pathway
                    .milestones
                    .iter()
                    .zip(&achieved)
                    .filter(|(m, _)| m.element == e.id)
                    .map(|(m, with)| format!("{} · {}{with}", m.date, milestone_name(&m.milestone)))
                    .collect(),
                self_first: (scores.len() > 1).then(|| scores.first().map(score)).flatten(),
                self_latest: scores.last().map(score),
            }
        })
        .collect();
    let mut timeline: Vec<Event> = Vec::new();
    timeline.extend(pathway.activities.iter().map(|a| Event {
        date: a.date.to_string(),
        kind: "Activity",
        text: format!("{} · {}", a.program, hours(a.hundredths)),
        element: a.element.clone().unwrap_or_default(),
    }));
    timeline.extend(pathway.milestones.iter().zip(&achieved).map(|(m, with)| Event {
        date: m.date.to_string(),
        kind: "Milestone",
        text: format!("{}{with}", milestone_name(&m.milestone)),
        element: m.element.clone(),
    }));
    timeline.extend(pathway.assessments.iter().map(|a| Event {
        date: a.date.to_string(),
        kind: "Assessment",
        text: format!("{} · {}", a.instrument, a.score),
        element: String::new(),
    }));
    timeline.extend(pathway.items.iter().map(|i| Event {
        date: i.created_on.to_string(),
        kind: if i.kind == PathwayKind::Goal {
            "Goal set"
        } else {
            "Need noted"
        },
        text: i.description.clone(),
        element: i.element.clone(),
    }));
    timeline.sort_by(|a, b| b.date.cmp(&a.date));
    let p = &record.participant;
    let milestone_groups: Vec<_> = framework
        .elements
        .iter()
        .map(|e| {
            context! {
                name => localized(&e.name, "en"),
                milestones => e.milestones.iter().map(|m| context! { id => m.id.clone(), name => localized(&m.name, "en") }).collect::<Vec<_>>(),
            }
        })
        .collect();
    let (refused_form, errors) = refused.unwrap_or(("", HashMap::new()));
    // The owner sees and manages the participant's consents; a partner does not.
    let (consents, partners) = match viewer {
        Viewer::Partner(_) => (Vec::new(), Vec::new()),
        Viewer::Owner => {
            let orgs = state.store.organizations().await.map_err(internal)?;
            let name = |id: &str| {
                orgs.iter()
                    .find(|o| o.org_id == id)
                    .map_or_else(|| id.to_owned(), |o| o.name.clone())
            };
            let today = Date::today();
            let agreements = state.store.partnerships().await.map_err(internal)?;
            // A consent shares nothing without a data-sharing agreement in force: say so.
            let agreed = |partner: &str| {
                iip_directory::partnership::in_force(
                    &agreements,
                    iip_directory::PartnershipKind::DataSharing,
                    org,
                    partner,
                    today,
                )
            };
            let consents = state
                .store
                .consents(record.row)
                .await
                .map_err(internal)?
                .into_iter()
                .map(|c| {
                    context! {
                        unshared => c.active_on(today) && !agreed(&c.partner_org_id),
                        id => c.id,
                        partner => name(&c.partner_org_id),
                        purpose => c.purpose.clone(),
                        scope => c.scope.label(),
                        from => c.valid_from.to_string(),
                        to => c.valid_to.map(|d| d.to_string()),
                        status => if c.revoked { "revoked" } else if c.active_on(today) { "active" } else if c.valid_from > today { "not yet" } else { "expired" },
                        revocable => !c.revoked,
                    }
                })
                .collect::<Vec<_>>();
            let partners = orgs
                .iter()
                .filter(|o| o.org_id != org)
                .map(|o| context! { id => o.org_id.clone(), name => o.name.clone() })
                .collect::<Vec<_>>();
            (consents, partners)
        }
    };
    let overall: Vec<&iip_store::AssessmentEntry> = pathway
        .assessments
        .iter()
        .filter(|a| a.instrument == "iip_self.overall")
        .collect();
    let self_overall = overall.last().map(|a| {
        let first = (overall.len() > 1)
            .then(|| {
                overall
                    .first()
                    .map(|f| format!(" (first: {:.0}% on {})", f.score * 100.0, f.date))
            })
            .flatten()
            .unwrap_or_default();
        format!("{:.0}% on {}{first}", a.score * 100.0, a.date)
    });
    let (referrals, referral_services) =
        crate::referrals::for_pathway(state, &user.principal.org_id, org, participant_id).await?;
    // Offer the participant's own language first when we have it.
    let suggested_lang = match p.primary_language.as_ref().map(|l| l.as_str()) {
        Some("zh") => "zh-CN",
        Some(code) if iip_i18n::LANGUAGES.iter().any(|(c, _)| *c == code) => code,
        _ => "en",
    };
    render(
        state,
        user,
        "pathway.html",
        context! {
            participant_id => p.participant_id.as_str(),
            name => match viewer {
                Viewer::Partner(s) if !s.scope.shows_identity() => "Name withheld (the consent covers the pathway only)".to_owned(),
                _ => full_name(p.identity.first_name.as_deref(), p.identity.last_name.as_deref()),
            },
            language => p.primary_language.as_ref().map(|l| l.as_str().to_owned()),
            arrival => p.us_arrival_year,
            barriers => p.barriers.iter().map(|b| b.as_str().replace('_', " ")).collect::<Vec<_>>(),
            elements => minijinja::Value::from(minijinja::value::Serde(&elements)),
            timeline => minijinja::Value::from(minijinja::value::Serde(&timeline)),
            milestone_groups,
            element_choices => framework.elements.iter().map(|e| context! { id => e.id.clone(), name => localized(&e.name, "en") }).collect::<Vec<_>>(),
            programs => ["esl", "abe", "ase", "cte", "citizenship", "el_civics", "workforce", "other"],
            today => Date::today().to_string(),
            refused_form,
            errors,
            self_overall,
            suggested_lang,
            languages => iip_i18n::LANGUAGES.to_vec(),
            shared => match viewer {
                Viewer::Owner => None,
                Viewer::Partner(s) => Some(context! { owner => org_name(state, &s.owner_org_id).await?, purpose => s.purpose.clone(), until => s.valid_to.map(|d| d.to_string()) }),
            },
            consents => consents,
            partners => partners,
            referrals,
            referral_services,
        },
    )
}

pub async fn pathway<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    Path(participant_id): Path<String>,
) -> Result<Html<String>, WebError> {
    pathway_page(&state, &user, &participant_id, None).await
}

/// `POST /participants/{id}/{milestones|activities|assessments|needs|goals}`.
pub async fn record<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    Path((participant_id, kind)): Path<(String, String)>,
    form: FormFields,
) -> Result<Response, WebError> {
    let org = case_worker(&user)?.to_owned();
    // Each form's fields, as pathway.html posts them.
    let allowed: Option<&[&str]> = match kind.as_str() {
        "milestones" => Some(&["milestone", "date"]),
        "activities" => Some(&["program", "hours", "element", "date"]),
        "assessments" => Some(&["instrument", "score", "date"]),
        "needs" => Some(&["element", "description"]),
        "goals" => Some(&["element", "description", "target_date"]),
        _ => None,
    };
    let checked = csrf_form_allowing(form, &user, allowed.unwrap_or_default())?;
    let not_found = || WebError::NotFound("There is no participant with that id in your organization.".into());
    Id::parse(&participant_id).map_err(|_| not_found())?;
    let record = state
        .store
        .participant_record(&org, &participant_id)
        .await
        .map_err(internal)?
        .ok_or_else(not_found)?;
    // The organization and participant come from the server, never from the form: a form
    // naming either (or any field it does not take) is refused, not overwritten.
    if allowed.is_none() {
        return Err(WebError::NotFound("There is no such record to add.".into()));
    }
    let mut fields = match checked {
        Ok(fields) => fields,
        Err(stray) => {
            let page = pathway_page(&state, &user, &participant_id, Some((&kind, stray.errors()))).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    fields.insert("org_id".into(), org.clone());
    fields.insert("participant_id".into(), participant_id.clone());
    let today = Date::today();
    let framework = &state.framework;
    let refused = |form: &str, errors: &[(&'static str, String)]| (form.to_owned(), errors_by_field(errors));
    // Readers keep the snapshot until this write's fact is applied.
    let _writing = state.writing();
    let write = async {
        let outcome: Result<(), (String, HashMap<String, String>)> = match kind.as_str() {
            "milestones" => match parse::milestone(&fields, today, framework) {
                Ok(m) => match state.store.record_milestone(&m).await.map_err(internal)? {
                    Ok(r) => {
                        state.apply(r, |s, f| s.milestone(f)).await;
                        Ok(())
                    }
                    Err(_) => Err(refused(
                        "milestones",
                        &[("milestone", "is already recorded on that date".into())],
                    )),
                },
                Err(e) => Err(refused("milestones", &e)),
            },
            "activities" => match parse::activity(&fields, today, framework) {
                Ok(a) => match state.store.record_activity(&a).await.map_err(internal)? {
                    Ok(r) => {
                        state.apply(r, |s, f| s.activity(f)).await;
                        Ok(())
                    }
                    Err(_) => Err(refused(
                        "activities",
                        &[("", "the participant is not in the store".into())],
                    )),
                },
                Err(e) => Err(refused("activities", &e)),
            },
            "assessments" => match parse::assessment(&fields, today) {
                Ok(a) => match state.store.record_assessment(&a).await.map_err(internal)? {
                    Ok(r) => {
                        apply_assessment(&state, r).await;
                        Ok(())
                    }
                    Err(_) => Err(refused(
                        "assessments",
                        &[("", "the participant is not in the store".into())],
                    )),
                },
                Err(e) => Err(refused("assessments", &e)),
            },
            "needs" | "goals" => {
                let item = if kind == "goals" {
                    PathwayKind::Goal
                } else {
                    PathwayKind::Need
                };
                match pathway_item(&fields, framework, today, item) {
                    Ok((element, description, target)) => {
                        state
                            .store
                            .add_pathway_item(record.row, item, &element, &description, target, today)
                            .await
                            .map_err(internal)?;
                        Ok(())
                    }
                    Err(e) => Err(refused(&kind, &e)),
                }
            }
            _ => return Err(WebError::NotFound("There is no such record to add.".into())),
        };
        Ok::<_, WebError>(outcome)
    };
    // Audited as attempted, with the write in one group commit (see `create`).
    let reason = format!("pathway form: {kind}");
    let (outcome, audited) = tokio::join!(
        write,
        state.audit_participant(&user, &org, &participant_id, "change", &reason)
    );
    let outcome = outcome?;
    match outcome {
        Ok(()) => {
            audited.map_err(WebError::after_write)?;
            tracing::info!(user_id = user.principal.user_id, record = %kind, "recorded");
            Ok(Redirect::to(&format!("/participants/{participant_id}#{kind}")).into_response())
        }
        Err((form, errors)) => {
            audited?;
            let page = pathway_page(&state, &user, &participant_id, Some((&form, errors))).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

pub(crate) async fn apply_assessment<S: Store>(
    state: &AppState<S>,
    recorded: Recorded<iip_domain::facts::AssessmentFact>,
) {
    state.apply(recorded, |s, f| s.assessment(f)).await;
}

/// A need or goal: an element of the framework, a description, and for goals a target date.
fn pathway_item(
    fields: &HashMap<String, String>,
    framework: &iip_framework::Framework,
    today: Date,
    kind: PathwayKind,
) -> Result<(String, String, Option<Date>), parse::FieldErrors> {
    let field = |name: &str| fields.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let mut errors = Vec::new();
    let element = match field("element") {
        Some(e) if framework.element(e).is_some() => Some(e.to_owned()),
        Some(_) => {
            errors.push(("element", "is not an element of the framework".to_owned()));
            None
        }
        None => {
            errors.push(("element", "is required".to_owned()));
            None
        }
    };
    let description = field("description").unwrap_or_default();
    if description.chars().count() > 300 || description.chars().any(char::is_control) {
        errors.push(("description", "is at most 300 characters on one line".to_owned()));
    }
    if kind == PathwayKind::Goal && description.is_empty() {
        errors.push(("description", "is required for a goal".to_owned()));
    }
    let target = match field("target_date").map(Date::parse) {
        None => None,
        Some(Ok(d)) if d >= today => Some(d),
        Some(Ok(_)) => {
            errors.push(("target_date", "is in the past".to_owned()));
            None
        }
        Some(Err(e)) => {
            errors.push(("target_date", e.0));
            None
        }
    };
    match (errors.is_empty(), element) {
        (true, Some(element)) => Ok((element, description.to_owned(), target)),
        _ => Err(errors),
    }
}
