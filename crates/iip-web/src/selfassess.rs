//! The participant's self-assessment: a case worker makes a one-time link (and its QR code);
//! the participant opens it on a phone, with no account, in English, Spanish, Vietnamese,
//! Simplified Chinese or Tagalog, and answers two or three questions per element. The scores
//! (0–1 per element and overall) are stored as assessments `iip_self.<element>` and
//! `iip_self.overall`, which the pathway page shows first and latest.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use iip_auth::{random_token, token_hash};
use iip_domain::records::Assessment;
use iip_domain::{Date, Id};
use iip_i18n::{LANGUAGES, QUESTIONS, SCALE, Translations};
use iip_store::Store;
use minijinja::context;
use serde::Deserialize;

use crate::auth::{CurrentUser, unix_now};
use crate::{AppState, FormFields, WebError, csrf_form_allowing, internal, read_form_allowing};

/// A link lasts a week.
const LINK_SECONDS: i64 = 7 * 24 * 60 * 60;

/// `POST /participants/{id}/self-assessment`: a new one-time link, shown once with its QR code.
pub async fn create_link<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(participant_id): Path<String>,
    form: FormFields,
) -> Result<Response, WebError> {
    let checked = csrf_form_allowing(form, &user, &["lang"])?;
    if !user.principal.role.works_with_participants() {
        return Err(WebError::Forbidden(
            "Self-assessment links are made by case workers.".into(),
        ));
    }
    let not_found = || WebError::NotFound("There is no participant with that id in your organization.".into());
    Id::parse(&participant_id).map_err(|_| not_found())?;
    let record = state
        .store
        .participant_record(&user.principal.org_id, &participant_id)
        .await
        .map_err(internal)?
        .ok_or_else(not_found)?;
    // The participant is the address's, never the form's.
    let fields = match checked {
        Ok(fields) => fields,
        Err(stray) => {
            let page = crate::case::pathway_page(
                &state,
                &user,
                &participant_id,
                Some(("self-assessment", stray.errors())),
            )
            .await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let token = random_token().ok_or_else(|| internal("no randomness"))?;
    let now = unix_now();
    state
        .store
        .create_self_assessment_link(record.row, &token.hash, now, now + LINK_SECONDS)
        .await
        .map_err(internal)?;
    let url = format!("{}/s/{}", origin(&state, &headers), token.secret);
    let lang = fields
        .get("lang")
        .map(String::as_str)
        .filter(|l| LANGUAGES.iter().any(|(code, _)| code == l))
        .unwrap_or("en");
    let url = if lang == "en" {
        url
    } else {
        format!("{url}?lang={lang}")
    };
    state
        .audit_participant(
            &user,
            &user.principal.org_id,
            &participant_id,
            "change",
            "self-assessment link",
        )
        .await?;
    tracing::info!(user_id = user.principal.user_id, "self-assessment link created");
    Ok(crate::pages::render(
        &state,
        "self_assessment_link.html",
        context! {
            user => user.nav(),
            participant_id,
            url => url.clone(),
            qr => qr_svg(&url)?,
            days => LINK_SECONDS / 86_400,
        },
    )?
    .into_response())
}

/// `scheme://host` of this server as the request reached it (for links given to people).
pub(crate) fn origin<S: Store>(state: &AppState<S>, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)))
        .unwrap_or("localhost");
    let scheme = if state.auth.secure_cookies { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// The link as an accessible inline SVG QR code (no style attributes, so the CSP holds).
fn qr_svg(url: &str) -> Result<String, WebError> {
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(internal)?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(220, 220)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    let start = svg.find("<svg").unwrap_or(0);
    Ok(svg[start..].replacen(
        "<svg",
        "<svg role=\"img\" aria-label=\"QR code of the self-assessment link\" class=\"qr\"",
        1,
    ))
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// The language: the one asked for in the address, else the browser's, else English.
fn language(asked: Option<&str>, headers: &HeaderMap) -> &'static str {
    if let Some(code) = asked
        && let Some((known, _)) = LANGUAGES.iter().find(|(c, _)| c.eq_ignore_ascii_case(code))
    {
        return known;
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Translations::negotiate(accept)
}

fn valid_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Every message the page uses, in `lang`.
fn page_context(
    t: &Translations,
    lang: &str,
    token: &str,
    answers: &BTreeMap<String, u8>,
    missing: &[&str],
) -> minijinja::Value {
    let text = |id: &str| t.get(lang, id);
    let elements: Vec<_> = iip_i18n::ELEMENTS
        .iter()
        .map(|element| {
            let questions: Vec<_> = QUESTIONS
                .iter()
                .filter(|q| q.element == *element)
                .map(|q| context! { id => q.id, text => text(q.id), answer => answers.get(q.id).copied(), missing => missing.contains(&q.id) })
                .collect();
            context! { id => *element, heading => text(&format!("sa-element-{element}")), questions }
        })
        .collect();
    context! {
        lang,
        token,
        languages => LANGUAGES.iter().map(|(code, name)| context! { code => *code, name => *name }).collect::<Vec<_>>(),
        scale => SCALE.iter().enumerate().map(|(value, id)| context! { value, label => text(id) }).collect::<Vec<_>>(),
        elements,
        title => text("sa-title"),
        intro => text("sa-intro"),
        submit => text("sa-submit"),
        language_label => text("sa-language"),
        required => (!missing.is_empty()).then(|| text("sa-required")),
        privacy => text("privacy-note"),
        skip => text("nav-skip"),
    }
}

fn expired(state: &AppState<impl Store>, lang: &str) -> Result<Response, WebError> {
    let page = crate::pages::render(
        state,
        "self_assessment_done.html",
        context! { lang, title => state.translations.get(lang, "sa-title"), message => state.translations.get(lang, "sa-expired") },
    )?;
    Ok((StatusCode::NOT_FOUND, page).into_response())
}

/// `GET /s/{token}`: the questionnaire.
pub async fn form<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(query): Query<LangQuery>,
) -> Result<Response, WebError> {
    let lang = language(query.lang.as_deref(), &headers);
    if !valid_token(&token)
        || state
            .store
            .self_assessment_link(&token_hash(&token), unix_now())
            .await
            .map_err(internal)?
            .is_none()
    {
        return expired(&state, lang);
    }
    let ctx = page_context(&state.translations, lang, &token, &BTreeMap::new(), &[]);
    Ok(crate::pages::render(&state, "self_assessment.html", ctx)?.into_response())
}

/// `POST /s/{token}`: scores the answers and stores them as assessments; the link is then used.
pub async fn submit<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Path(token): Path<String>,
    form: FormFields,
) -> Result<Response, WebError> {
    // The language and the answers, nothing else: the participant is the link's.
    let allowed: Vec<&str> = std::iter::once("lang").chain(QUESTIONS.iter().map(|q| q.id)).collect();
    let (fields, stray) = match read_form_allowing(form, &allowed)? {
        Ok(fields) => (fields, None),
        Err(stray) => (stray.fields.clone(), Some(stray)),
    };
    let lang = language(fields.get("lang").map(String::as_str), &headers);
    if !valid_token(&token) {
        return expired(&state, lang);
    }
    let hash = token_hash(&token);
    let now = unix_now();
    let Some(linked) = state.store.self_assessment_link(&hash, now).await.map_err(internal)? else {
        return expired(&state, lang);
    };
    // Answers 0..=4; anything else counts as unanswered.
    let answers: BTreeMap<String, u8> = QUESTIONS
        .iter()
        .filter_map(|q| {
            let value = fields.get(q.id)?.trim().parse::<u8>().ok()?;
            (value <= iip_i18n::MAX_ANSWER).then(|| (q.id.to_owned(), value))
        })
        .collect();
    let missing: Vec<&str> = QUESTIONS
        .iter()
        .map(|q| q.id)
        .filter(|id| !answers.contains_key(*id))
        .collect();
    if let Some(stray) = stray {
        let ctx = page_context(&state.translations, lang, &token, &answers, &missing);
        let page = crate::pages::render(
            &state,
            "self_assessment.html",
            context! { stray => stray.view(), ..ctx },
        )?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let scores = match iip_i18n::score(&answers) {
        Ok(scores) if missing.is_empty() => scores,
        _ => {
            let ctx = page_context(&state.translations, lang, &token, &answers, &missing);
            let page = crate::pages::render(&state, "self_assessment.html", ctx)?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let (org_id, participant_id) = (
        Id::parse(&linked.org_id).map_err(internal)?,
        Id::parse(&linked.participant_id).map_err(internal)?,
    );
    let today = Date::today();
    let results = scores
        .elements
        .iter()
        .map(|(element, score)| (format!("iip_self.{element}"), *score))
        .chain(std::iter::once(("iip_self.overall".to_owned(), scores.overall)));
    // Readers keep the snapshot until this write's fact is applied.
    let _writing = state.writing();
    for (instrument, score) in results {
        let assessment = Assessment {
            org_id: org_id.clone(),
            participant_id: participant_id.clone(),
            date: today,
            instrument: Id::parse(&instrument).map_err(internal)?,
            score: (score * 1000.0).round() / 1000.0,
        };
        if let Ok(recorded) = state.store.record_assessment(&assessment).await.map_err(internal)? {
            crate::case::apply_assessment(&state, recorded).await;
        }
    }
    // Recorded first, then the link is spent: a repeated submission replaces the same scores.
    state
        .store
        .use_self_assessment_link(&hash, now)
        .await
        .map_err(internal)?;
    state
        .audit(
            None,
            &linked.org_id,
            "change",
            &format!("participant:{}/{}", linked.org_id, linked.participant_id),
            "self-assessment answered",
        )
        .await?;
    tracing::info!("self-assessment recorded");
    Ok(crate::pages::render(
        &state,
        "self_assessment_done.html",
        context! { lang, title => state.translations.get(lang, "sa-title"), message => state.translations.get(lang, "sa-thanks") },
    )?
    .into_response())
}
