//! The JSON API for case work, for integrations (a bearer token acting as one account) and
//! scripts: the same operations, rules and access checks as the pages. Bodies are JSON
//! objects whose keys are the exchange format's columns; the organization always comes from
//! the account and the participant from the URL.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use iip_domain::facts::FactSink;
use iip_domain::{Date, Id};
use iip_exchange::{parse, spec};
use iip_store::{Claim, Refused, Store};
use serde_json::{Map, Value, json};

use crate::auth::CurrentUser;
use crate::{AppState, WebError, internal};

/// A refusal before any work: a status and a JSON body (small, unlike a `Response`).
struct Fail(StatusCode, Value);

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        answer(self.0, self.1)
    }
}

/// An API answer: JSON with a status.
fn answer(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

fn error(status: StatusCode, message: &str) -> Response {
    answer(status, json!({ "error": message }))
}

fn web_error(e: WebError) -> Response {
    crate::api::ApiError::from(e).into_response()
}

/// Field errors of a refused record: 422 with every field named.
fn invalid(errors: &[(&'static str, String)]) -> Response {
    answer(StatusCode::UNPROCESSABLE_ENTITY, field_errors(errors))
}

fn field_errors(errors: &[(&'static str, String)]) -> Value {
    let fields: Map<String, Value> = errors
        .iter()
        .map(|(f, m)| {
            (
                (if f.is_empty() { "record" } else { f }).to_string(),
                Value::String(m.clone()),
            )
        })
        .collect();
    json!({ "error": "the record is not valid", "fields": fields })
}

/// A JSON object as form fields: strings and numbers only, keys from the file's columns, and
/// never the keys the server sets.
fn fields(
    body: Result<Json<Map<String, Value>>, JsonRejection>,
    file: &spec::FileSpec,
    server_keys: &[&str],
) -> Result<HashMap<String, String>, Fail> {
    let Json(object) = body.map_err(|e| Fail(e.status(), json!({ "error": e.body_text() })))?;
    let mut out = HashMap::new();
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    for (key, value) in object {
        let Some(column) = file.columns.iter().find(|c| c.name == key) else {
            return Err(Fail(
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "error": format!("{key:.64} is not a field of {}", file.name) }),
            ));
        };
        if server_keys.contains(&column.name) {
            errors.push((column.name, "is set by the server, not the request".into()));
            continue;
        }
        match value {
            Value::Null => {}
            Value::String(s) => {
                out.insert(key, s);
            }
            Value::Number(n) => {
                out.insert(key, n.to_string());
            }
            _ => errors.push((column.name, "must be a string or a number".into())),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Fail(StatusCode::UNPROCESSABLE_ENTITY, field_errors(&errors)))
    }
}

fn case_worker(user: &CurrentUser) -> Result<String, Fail> {
    if user.principal.role.works_with_participants() {
        Ok(user.principal.org_id.clone())
    } else {
        Err(Fail(
            StatusCode::FORBIDDEN,
            json!({ "error": "participant records are for case workers of the participant's organization" }),
        ))
    }
}

fn summary_json(p: &iip_store::ParticipantSummary) -> Value {
    json!({
        "participant_id": p.participant_id,
        "first_name": p.first_name,
        "last_name": p.last_name,
        "primary_language": p.primary_language,
        "last_activity": p.last_activity.map(|d| d.to_string()),
    })
}

/// `GET /api/participants`: the first 200 participants of the account's organization.
pub async fn list<S: Store>(State(state): State<Arc<AppState<S>>>, user: CurrentUser) -> Response {
    search_for(&state, &user, "").await
}

/// `POST /api/participants/search` `{"q": "…"}`: by id prefix or name (a name never goes in a URL).
pub async fn search<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    body: Result<Json<Map<String, Value>>, JsonRejection>,
) -> Response {
    let Json(object) = match body {
        Ok(b) => b,
        Err(e) => return error(e.status(), &e.body_text()),
    };
    if let Some(key) = object.keys().find(|k| *k != "q") {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("{key:.64} is not a search field (q)"),
        );
    }
    let q = match object.get("q") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(q)) if q.chars().count() <= 100 => q.clone(),
        Some(_) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "q is a string of at most 100 characters",
            );
        }
    };
    search_for(&state, &user, &q).await
}

async fn search_for<S: Store>(state: &AppState<S>, user: &CurrentUser, q: &str) -> Response {
    let org = match case_worker(user) {
        Ok(org) => org,
        Err(r) => return r.into_response(),
    };
    let reason = if q.is_empty() {
        "api: participant list"
    } else {
        "api: participant search"
    };
    if let Err(e) = state
        .audit(
            Some(user.principal.user_id),
            &org,
            "search",
            &format!("participants:{org}"),
            reason,
        )
        .await
    {
        return web_error(e);
    }
    match state.store.search_participants(&org, q, 200).await {
        Ok(found) => answer(
            StatusCode::OK,
            json!({ "participants": found.iter().map(summary_json).collect::<Vec<_>>() }),
        ),
        Err(e) => web_error(internal(e)),
    }
}

/// The `Idempotency-Key` request header (IETF draft-ietf-httpapi-idempotency-key-header):
/// a write sent again with the same key, after its answer was lost, is recognised and not
/// recorded twice. The key is scoped to the organization and kept for a day, as keyed
/// digests of the key and of `request` (the parsed fields, so the same record sent with
/// another spelling of a number is the same request).
fn claim(headers: &HeaderMap, org: &str, path: &str, fields: &HashMap<String, String>) -> Result<Option<Claim>, Fail> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let bad = || {
        Fail(
            StatusCode::BAD_REQUEST,
            json!({ "error": "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID, say), optionally in double quotes" }),
        )
    };
    let text = value.to_str().map_err(|_| bad())?.trim();
    let key = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    let sorted: std::collections::BTreeMap<&String, &String> = fields.iter().collect();
    let request = format!("POST {path}\n{}", serde_json::to_string(&sorted).unwrap_or_default());
    Ok(Some(Claim::new(org, key, &request, crate::auth::unix_now())))
}

/// The answer to a write sent again with its idempotency key: the first answer, marked.
fn replayed(first: Response) -> Response {
    let mut response = first;
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

fn key_reused() -> Response {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "that Idempotency-Key was used for a different request; use a new key for a new record",
    )
}

/// `POST /api/participants`: intake, by the exchange format's rules.
pub async fn create<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    headers: HeaderMap,
    body: Result<Json<Map<String, Value>>, JsonRejection>,
) -> Response {
    let org = match case_worker(&user) {
        Ok(org) => org,
        Err(r) => return r.into_response(),
    };
    let mut fields = match fields(body, &spec::PARTICIPANTS, &["org_id"]) {
        Ok(f) => f,
        Err(r) => return r.into_response(),
    };
    let claim = match claim(&headers, &org, "/api/participants", &fields) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    fields.insert("org_id".into(), org);
    let participant = match parse::participant(&fields, Date::today()) {
        Ok(p) => p,
        Err(errors) => return invalid(&errors),
    };
    // Readers keep the snapshot until this write's fact is applied.
    let _writing = state.writing();
    let created = || {
        answer(
            StatusCode::CREATED,
            json!({ "participant_id": participant.participant_id.as_str() }),
        )
    };
    match state.store.create_participant_once(&participant, claim.as_ref()).await {
        Ok(Err(Refused::Replayed)) => replayed(created()),
        Ok(Err(Refused::KeyReused)) => key_reused(),
        Ok(Ok(recorded)) => {
            state.apply(recorded, |s, f| s.participant(f)).await;
            let subject = format!(
                "participant:{}/{}",
                user.principal.org_id,
                participant.participant_id.as_str()
            );
            if let Err(e) = state
                .audit(
                    Some(user.principal.user_id),
                    &user.principal.org_id,
                    "create",
                    &subject,
                    "api: intake",
                )
                .await
            {
                return web_error(e.after_write());
            }
            created()
        }
        Ok(Err(Refused::Duplicate)) => error(
            StatusCode::CONFLICT,
            "participant_id is already used in your organization",
        ),
        Ok(Err(Refused::Unknown)) => error(StatusCode::FORBIDDEN, "your organization is not in the store"),
        Err(e) => web_error(internal(e)),
    }
}

/// `GET /api/participants/{id}`: the record and its pathway.
pub async fn get<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    Path(participant_id): Path<String>,
) -> Response {
    let org = match case_worker(&user) {
        Ok(org) => org,
        Err(r) => return r.into_response(),
    };
    let not_found = || {
        error(
            StatusCode::NOT_FOUND,
            "no participant with that id in your organization",
        )
    };
    if Id::parse(&participant_id).is_err() {
        return not_found();
    }
    // The read is audited as it is attempted, while the record and pathway are read; nothing
    // is answered unless the entry was committed. (An id the organization does not have is on
    // the log as an attempt, and answers 404.)
    let read = state.store.participant_with_pathway(&org, &participant_id);
    let (audited, read) = tokio::join!(
        state.audit_participant(&user, &org, &participant_id, "read", "api: participant"),
        read
    );
    let (record, pathway) = match read {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(),
        Err(e) => return web_error(internal(e)),
    };
    if let Err(e) = audited {
        return web_error(e);
    }
    let body = state.record_json(&record, &pathway);
    (
        StatusCode::OK,
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// `POST /api/participants/{id}/{activities|milestones|assessments}`.
pub async fn record<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    user: CurrentUser,
    Path((participant_id, kind)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Json<Map<String, Value>>, JsonRejection>,
) -> Response {
    let org = match case_worker(&user) {
        Ok(org) => org,
        Err(r) => return r.into_response(),
    };
    let file = match kind.as_str() {
        "activities" => &spec::ACTIVITIES,
        "milestones" => &spec::MILESTONES,
        "assessments" => &spec::ASSESSMENTS,
        _ => {
            return error(
                StatusCode::NOT_FOUND,
                "records are activities, milestones or assessments",
            );
        }
    };
    let not_found = || {
        error(
            StatusCode::NOT_FOUND,
            "no participant with that id in your organization",
        )
    };
    if Id::parse(&participant_id).is_err() {
        return not_found();
    }
    // No separate lookup first: the write itself refuses a participant the organization does
    // not have (404), in the same transaction, without reading (or decrypting) the record.
    let mut fields = match fields(body, file, &["org_id", "participant_id"]) {
        Ok(f) => f,
        Err(r) => return r.into_response(),
    };
    let claim = match claim(
        &headers,
        &org,
        &format!("/api/participants/{participant_id}/{kind}"),
        &fields,
    ) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    fields.insert("org_id".into(), org);
    fields.insert("participant_id".into(), participant_id);
    let (today, framework) = (Date::today(), &state.framework);
    let created = || answer(StatusCode::CREATED, json!({ "recorded": kind }));
    let refused = |r: Refused| match r {
        Refused::Duplicate => error(StatusCode::CONFLICT, "that record exists already"),
        Refused::Unknown => not_found(),
        Refused::Replayed => replayed(created()),
        Refused::KeyReused => key_reused(),
    };
    // Readers keep the snapshot until this write's fact is applied.
    let _writing = state.writing();
    let subject = format!("participant:{}/{}", user.principal.org_id, fields["participant_id"]);
    let reason = format!("api: {kind}");
    let audit = || {
        state.audit(
            Some(user.principal.user_id),
            &user.principal.org_id,
            "change",
            &subject,
            &reason,
        )
    };
    // The change is audited as it is attempted: the entry is queued with the write, so the
    // same group commit nearly always carries both (one disk flush for the pair, not one
    // each; the writer may take the write before the entry is queued, and then the entry
    // goes in the next commit), and an attempt that is refused (a duplicate, an unknown
    // participant) is on the log too.
    match kind.as_str() {
        "activities" => match parse::activity(&fields, today, framework) {
            Err(e) => invalid(&e),
            Ok(a) => {
                let (written, audited) = tokio::join!(state.store.record_activity_once(&a, claim.as_ref()), audit());
                settle(written, audited, refused, created(), |r| {
                    state.apply(r, |s, f| s.activity(f))
                })
                .await
            }
        },
        "milestones" => match parse::milestone(&fields, today, framework) {
            Err(e) => invalid(&e),
            Ok(m) => {
                let (written, audited) = tokio::join!(state.store.record_milestone_once(&m, claim.as_ref()), audit());
                settle(written, audited, refused, created(), |r| {
                    state.apply(r, |s, f| s.milestone(f))
                })
                .await
            }
        },
        _ => match parse::assessment(&fields, today) {
            Err(e) => invalid(&e),
            Ok(a) => {
                let (written, audited) = tokio::join!(state.store.record_assessment_once(&a, claim.as_ref()), audit());
                settle(written, audited, refused, created(), |r| {
                    crate::case::apply_assessment(&state, r)
                })
                .await
            }
        },
    }
}

/// The answer to a write and its audit entry, run together. A recorded write reaches the
/// metrics snapshot even when its audit entry failed (the write is in the store), and the
/// request then fails: a change that cannot be audited is not acknowledged.
async fn settle<F, Applied: std::future::Future<Output = ()>>(
    written: iip_store::WriteResult<F>,
    audited: Result<(), WebError>,
    refused: impl FnOnce(Refused) -> Response,
    created: Response,
    apply: impl FnOnce(iip_store::Recorded<F>) -> Applied,
) -> Response {
    match written {
        Err(e) => web_error(internal(e)),
        Ok(Err(r)) => match audited {
            Ok(()) => refused(r),
            Err(e) => web_error(e),
        },
        Ok(Ok(recorded)) => {
            apply(recorded).await;
            match audited {
                Ok(()) => created,
                Err(e) => web_error(e.after_write()),
            }
        }
    }
}
