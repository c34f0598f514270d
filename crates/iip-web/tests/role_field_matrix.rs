//! The role × field matrix (docs: shared RELIABILITY.md "Role × field matrix"; OWASP ASVS 5.0
//! V8.2.1–V8.2.3, function, object and field-level authorization; mass assignment).
//!
//! Three tables, each run through the real router over a real store:
//!
//! - `reads()`: every JSON read route × every role. For each cell the status the product
//!   defines, the keys an answer may hold (an allowlist: a key nobody declared fails) and the
//!   keys and values it must never hold: credentials, keys and account internals for everyone;
//!   names, birth dates, immigration status, free text and identifiers of individuals for the
//!   roles that see aggregates only; the other organization's canaries for everyone. Canary
//!   strings in every text field check values, not only keys; positive controls show the
//!   case-work roles do see their own organization's canaries, so the scan can fail.
//! - `json_writes()`: every JSON write route, a valid body plus one forbidden or unknown field
//!   (`org_id`, `role`, `id`, `created_by`, …), by every role: 422 naming the field (403 for the
//!   roles that may not write there at all) and the store unchanged; then the valid body alone
//!   succeeds and the store changes, so the comparison can fail.
//! - `form_posts()`: the same for the HTML forms where an `org_id` or `role` could be smuggled.
//!   Where the product accepts such a form today the case is listed in `KNOWN` (a violation of
//!   the rule, reported, not hidden): it must still not reach the other organization, change
//!   any account's role or organization, or sign anyone in with more than their own role.

mod support;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use iip_directory::{NewReferral, Referral};
use iip_domain::{Date, Id};
use iip_store::{
    AccountStore, CaseStore, Consent, ConsentScope, DirectoryStore, NewConsent, NewUser, ParticipantRecord, Pathway,
    ReferralFilter, Store, TableCounts,
};
use iip_store_sqlite::SqliteStore;
use iip_web::router;
use serde_json::{Value, json};
use tower::ServiceExt;

const A: &str = "south-bay-adult-school";
const B: &str = "north-bay-adult-school";

// ---------------------------------------------------------------------------------------
// Roles.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    CaseWorker,
    OrgAdmin,
    ConsortiumAnalyst,
    StateAnalyst,
    SystemAdmin,
}

/// Every role of the product, in the order of the tables' status columns.
const ROLES: [Role; 5] = [
    Role::CaseWorker,
    Role::OrgAdmin,
    Role::ConsortiumAnalyst,
    Role::StateAnalyst,
    Role::SystemAdmin,
];

impl Role {
    fn id(self) -> &'static str {
        match self {
            Role::CaseWorker => "case_worker",
            Role::OrgAdmin => "org_admin",
            Role::ConsortiumAnalyst => "consortium_analyst",
            Role::StateAnalyst => "state_analyst",
            Role::SystemAdmin => "system_admin",
        }
    }

    fn org(self) -> &'static str {
        match self {
            Role::CaseWorker | Role::OrgAdmin => A,
            Role::ConsortiumAnalyst => "south-bay",
            Role::StateAnalyst | Role::SystemAdmin => "ca",
        }
    }

    fn email(self) -> &'static str {
        match self {
            Role::CaseWorker => "cw@matrix.test",
            Role::OrgAdmin => "admin@matrix.test",
            Role::ConsortiumAnalyst => "consortium@matrix.test",
            Role::StateAnalyst => "state@matrix.test",
            Role::SystemAdmin => "root@matrix.test",
        }
    }

    /// Works with its own organization's participant records; the others see aggregates.
    fn case_work(self) -> bool {
        matches!(self, Role::CaseWorker | Role::OrgAdmin)
    }
}

// ---------------------------------------------------------------------------------------
// Canaries: unique strings in every text field of each organization's participant.

struct Person {
    org: &'static str,
    pid: &'static str,
    first: &'static str,
    last: &'static str,
    dob: &'static str,
    person_key: &'static str,
    need: &'static str,
    goal: &'static str,
    purpose: &'static str,
    note: &'static str,
    /// The partner the participant consents to share with, and its service for the referral.
    partner: &'static str,
    service: &'static str,
}

impl Person {
    fn values(&self) -> [&'static str; 9] {
        [
            self.pid,
            self.first,
            self.last,
            self.dob,
            self.person_key,
            self.need,
            self.goal,
            self.purpose,
            self.note,
        ]
    }
}

const PA: Person = Person {
    org: A,
    pid: "mx-canary-a-7d21",
    first: "CANARY-A-FIRST-3e9b",
    last: "CANARY-A-LAST-b04c",
    dob: "1931-07-13",
    person_key: "pk-canary-a-61f0",
    need: "CANARY-A-NEED-5a7e",
    goal: "CANARY-A-GOAL-e2d3",
    purpose: "CANARY-A-PURPOSE-0c4f",
    note: "CANARY-A-NOTE-9b18",
    partner: "south-bay-cbo",
    service: "south-bay-cbo-citizenship",
};

const PB: Person = Person {
    org: B,
    pid: "mx-canary-b-44e0",
    first: "CANARY-B-FIRST-d9a2",
    last: "CANARY-B-LAST-17cb",
    dob: "1932-08-14",
    person_key: "pk-canary-b-8e35",
    need: "CANARY-B-NEED-2f6d",
    goal: "CANARY-B-GOAL-a0b9",
    purpose: "CANARY-B-PURPOSE-7713",
    note: "CANARY-B-NOTE-c5e1",
    partner: "north-bay-cbo",
    service: "north-bay-cbo-citizenship",
};

// ---------------------------------------------------------------------------------------
// The fields.

/// Never in any answer to anyone: credentials, keys, account internals, and immigration
/// status (off by default; never a field of these answers).
const SECRET_KEYS: &str = "\
    password password_hash token token_hash secret session session_id csrf data_key org_key wrapped \
    sealed_first_name sealed_last_name sealed_date_of_birth sealed_note sealed_reason first_name_index \
    last_name_index blind_index hash prev_hash user_id by_user recorded_by created_by display_name role \
    immigration_status";

/// Individual-level fields: names, birth dates, identifiers of individuals, free text and
/// the records of one person. Only the case-work roles of the participant's organization.
const PERSON_KEYS: &str = "\
    participant participants participant_id person_key first_name last_name date_of_birth birth_year zip \
    us_arrival_year country_of_birth barriers activities milestones assessments needs goals target_date \
    created_on note purpose reason consents referrals";

/// The words of a list of keys.
fn words(list: &'static str) -> Vec<&'static str> {
    list.split_whitespace().collect()
}

/// The keys `role` must never receive.
fn never_keys(role: Role) -> Vec<&'static str> {
    let mut keys = words(SECRET_KEYS);
    if !role.case_work() {
        keys.extend(words(PERSON_KEYS));
    }
    keys
}

const LIST_KEYS: &str = "\
    participants participant_id first_name last_name primary_language last_activity";

const RECORD_KEYS: &str = "\
    participant participant_id person_key first_name last_name date_of_birth gender race_ethnicity \
    country_of_birth primary_language us_arrival_year zip barriers activities date program hours element \
    milestones milestone assessments instrument score needs goals description target_date created_on";

/// The report; `groups` names a row's group by breakdown (dimension).
const METRIC_KEYS: &str = "\
    year framework_version metrics_version by rows scope_id metric numerator denominator value rate \
    suppressed groups gender age_group primary_language";

const GAP_KEYS: &str = "\
    threshold cells gaps heat_map unplaced_needs rank area element element_name language language_name \
    need_count need_level need_score population services services_in_other_languages capacity_level \
    capacity_score acceptance_rate median_days_to_acceptance gap_score sentence areas element_names \
    elements max_score rows score";

const REFERRAL_METRIC_KEYS: &str = "\
    window first_day last_day threshold rows breakdown group sent accepted completed acceptance_rate \
    completion_rate median_days_to_acceptance median_days_to_completion";

const SERVICE_KEYS: &str = "\
    services service_id org_id name description elements languages areas eligibility fees free \
    regardless_of_status schedule email url locations location_id address city region postal_code \
    latitude longitude";

/// HSDS 3: organizations, their services, locations, taxonomy attributes.
const HSDS_KEYS: &str = "\
    id name description parent_organization_id organization_identifiers identifier identifier_scheme \
    identifier_type organization_id attributes link_entity link_id taxonomy_term taxonomy_term_id code \
    taxonomy taxonomy_detail taxonomy_id version value services service_id status \
    eligibility_description fees_description cost_options option amount amount_description currency \
    languages schedules service_areas service_at_locations location location_id location_type \
    external_identifier external_identifier_type addresses address_1 address_type city country \
    postal_code state_province";

const FUNDING_KEYS: &str = "\
    year weights outcome baseline budget_cents formula masked_inputs units unit allocation prior limit \
    change_vs_baseline change_vs_prior changes cents part driver driver_part members member";

/// The keys of a refusal.
const ERROR_KEYS: &str = "error";

// ---------------------------------------------------------------------------------------
// The read matrix.

struct Read {
    /// The route as the OpenAPI document (or the router) writes it.
    pattern: &'static str,
    method: &'static str,
    /// `{a}` / `{b}`: the canary participant of A / of B.
    uri: &'static str,
    body: Option<&'static str>,
    /// Case worker, org admin, consortium analyst, state analyst, system admin.
    status: [u16; 5],
    /// The keys a 2xx answer may hold.
    keys: &'static str,
    /// Values a case-work role must see in a 2xx answer (own organization's canaries).
    shows: &'static [&'static str],
}

const CASE_WORK_ONLY: [u16; 5] = [200, 200, 403, 403, 403];
const EVERYONE: [u16; 5] = [200; 5];
const STATE_WIDE_ONLY: [u16; 5] = [403, 403, 403, 200, 200];

fn read(pattern: &'static str, uri: &'static str, status: [u16; 5], keys: &'static str) -> Read {
    Read {
        pattern,
        method: "GET",
        uri,
        body: None,
        status,
        keys,
        shows: &[],
    }
}

fn reads() -> Vec<Read> {
    vec![
        read("/api/participants", "/api/participants", CASE_WORK_ONLY, LIST_KEYS),
        Read {
            method: "POST",
            body: Some(r#"{"q":"CANARY-A"}"#),
            shows: &[PA.pid, PA.first, PA.last],
            ..read(
                "/api/participants/search",
                "/api/participants/search",
                CASE_WORK_ONLY,
                LIST_KEYS,
            )
        },
        // Both organizations' canaries start so: only A's may come back.
        Read {
            method: "POST",
            body: Some(r#"{"q":"CANARY"}"#),
            shows: &[PA.first],
            ..read(
                "/api/participants/search",
                "/api/participants/search",
                CASE_WORK_ONLY,
                LIST_KEYS,
            )
        },
        Read {
            shows: &[PA.pid, PA.first, PA.last, PA.dob, PA.person_key, PA.need, PA.goal],
            ..read(
                "/api/participants/{participant_id}",
                "/api/participants/{a}",
                CASE_WORK_ONLY,
                RECORD_KEYS,
            )
        },
        // Another organization's participant: 404, as an id that does not exist.
        read(
            "/api/participants/{participant_id}",
            "/api/participants/{b}",
            [404, 404, 403, 403, 403],
            RECORD_KEYS,
        ),
        read("/api/metrics", "/api/metrics", EVERYONE, METRIC_KEYS),
        read(
            "/api/metrics",
            "/api/metrics?by=gender,age_group",
            EVERYONE,
            METRIC_KEYS,
        ),
        read(
            "/api/metrics",
            "/api/metrics?scope=south-bay-adult-school&by=primary_language",
            EVERYONE,
            METRIC_KEYS,
        ),
        read(
            "/api/metrics",
            "/api/metrics?scope=north-bay",
            [403, 403, 403, 200, 200],
            METRIC_KEYS,
        ),
        read("/api/gaps", "/api/gaps", EVERYONE, GAP_KEYS),
        read(
            "/api/referrals/metrics",
            "/api/referrals/metrics",
            EVERYONE,
            REFERRAL_METRIC_KEYS,
        ),
        read("/api/services", "/api/services", EVERYONE, SERVICE_KEYS),
        read("/directory.json", "/directory.json", EVERYONE, HSDS_KEYS),
        read("/api/funding", "/api/funding", STATE_WIDE_ONLY, FUNDING_KEYS),
    ]
}

// ---------------------------------------------------------------------------------------
// The JSON write matrix.

struct JsonWrite {
    pattern: &'static str,
    uri: &'static str,
    /// A valid body; `n` makes it unique.
    valid: fn(usize) -> Value,
    /// Fields the body may not carry, each with the value an attacker would send.
    smuggled: &'static [(&'static str, &'static str)],
    /// The valid body alone, by A's case worker.
    control: u16,
    /// Whether the control changes the store.
    changes: bool,
}

/// A day of the 2024-25 program year, distinct for each `n` (under 300).
fn day(n: usize) -> String {
    let start = Date::parse("2024-07-01").expect("a date").day_number();
    let offset = i32::try_from(n % 300).expect("small");
    Date::from_day_number(start + offset).expect("a date").to_string()
}

const FOREIGN_ORG: (&str, &str) = ("org_id", B);
const OWN_ORG: (&str, &str) = ("org_id", A);
const ROLE_FIELD: (&str, &str) = ("role", "system_admin");
const UNKNOWN: (&str, &str) = ("shoe_size", "9");

fn json_writes() -> Vec<JsonWrite> {
    const RECORD_SMUGGLED: &[(&str, &str)] = &[
        FOREIGN_ORG,
        OWN_ORG,
        ("participant_id", PB.pid),
        ROLE_FIELD,
        ("id", "1"),
        ("created_by", "1"),
        ("user_id", "1"),
        UNKNOWN,
    ];
    vec![
        JsonWrite {
            pattern: "/api/participants",
            uri: "/api/participants",
            valid: |n| json!({ "participant_id": format!("mx-json-{n}"), "first_name": "Json", "primary_language": "es" }),
            smuggled: &[
                FOREIGN_ORG,
                OWN_ORG,
                ROLE_FIELD,
                ("id", "1"),
                ("created_by", "1"),
                ("user_id", "1"),
                ("recorded_by", "1"),
                UNKNOWN,
            ],
            control: 201,
            changes: true,
        },
        JsonWrite {
            pattern: "/api/participants/{participant_id}/activities",
            uri: "/api/participants/{a}/activities",
            valid: |n| json!({ "date": day(n), "program": "esl", "hours": 2.5, "element": "english" }),
            smuggled: RECORD_SMUGGLED,
            control: 201,
            changes: true,
        },
        JsonWrite {
            pattern: "/api/participants/{participant_id}/milestones",
            uri: "/api/participants/{a}/milestones",
            valid: |n| json!({ "date": day(n), "milestone": "civic.voter_registered" }),
            smuggled: RECORD_SMUGGLED,
            control: 201,
            changes: true,
        },
        JsonWrite {
            pattern: "/api/participants/{participant_id}/assessments",
            uri: "/api/participants/{a}/assessments",
            valid: |n| json!({ "date": day(n), "instrument": "casas_reading", "score": 215 }),
            smuggled: RECORD_SMUGGLED,
            control: 201,
            changes: true,
        },
        // A read by POST (a name never goes in a URL): nothing to change, but the same rule.
        JsonWrite {
            pattern: "/api/participants/search",
            uri: "/api/participants/search",
            valid: |_| json!({ "q": "CANARY" }),
            smuggled: &[FOREIGN_ORG, ROLE_FIELD, ("id", "1"), UNKNOWN],
            control: 200,
            changes: false,
        },
    ]
}

/// A JSON refusal names the field: in `fields`, or first in the message.
fn names_field(answer: &Value, field: &str) -> bool {
    answer["fields"][field].is_string()
        || answer["error"]
            .as_str()
            .is_some_and(|e| e.starts_with(&format!("{field} ")))
}

// ---------------------------------------------------------------------------------------
// The form matrix.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// A's case worker, signed in.
    Worker,
    /// A's org admin, signed in.
    Admin,
    /// Nobody signed in: the form's link or password is the credential.
    Anonymous,
}

/// What a case needs made fresh before it, so an accepted case cannot spoil the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fixture {
    None,
    /// An active consent of A's participant (`{consent}`).
    Consent,
    /// A requested referral from A (`{referral}`).
    Referral,
    /// An open welcome link of the invitee (`{invite}`).
    Invite,
    /// An open self-assessment link of A's participant (`{link}`).
    Link,
}

struct FormPost {
    /// The route as `router()` writes it.
    route: &'static str,
    /// `{a}`, `{consent}`, `{referral}`, `{invite}`, `{link}` filled per case.
    uri: &'static str,
    who: Who,
    fixture: Fixture,
    valid: fn(usize) -> Vec<(&'static str, String)>,
    smuggled: &'static [(&'static str, &'static str)],
    /// The valid form alone.
    control: u16,
}

/// VIOLATIONS of the rule, as the product answers today (reported; not hidden): none now.
/// A form listed here would still be checked for reaching nothing of the other organization,
/// changing no account's organization or role, and a sign-in giving only the account's own
/// role. When a form starts refusing (422, nothing changed), the test says so: take it out of
/// here. (form as in `form_posts()`, fields, status observed.) Every form takes only its own
/// fields (`csrf_form_allowing` / `read_form_allowing` in src/lib.rs) and is held to 422.
const KNOWN: &[(&str, &[&str], u16)] = &[];

/// Refusals with the product's own message (the rest must name the field).
const REFUSED: &[(&str, &str, &str)] = &[
    ("/participants", "org_id", "the organization is set by the server"),
    (
        "/admin/users",
        "org_id",
        "Organization is not an organization you manage",
    ),
    ("/admin/users", "role", "Role is not a role you may give"),
];

fn form_posts() -> Vec<FormPost> {
    const PATHWAY: &[(&str, &str)] = &[
        FOREIGN_ORG,
        ("participant_id", PB.pid),
        ROLE_FIELD,
        ("created_by", "1"),
        UNKNOWN,
    ];
    let record = |route: &'static str, uri: &'static str, valid: fn(usize) -> Vec<(&'static str, String)>| FormPost {
        route,
        uri,
        who: Who::Worker,
        fixture: Fixture::None,
        valid,
        smuggled: PATHWAY,
        control: 303,
    };
    vec![
        FormPost {
            route: "/participants",
            uri: "/participants",
            who: Who::Worker,
            fixture: Fixture::None,
            valid: |n| {
                vec![
                    ("participant_id", format!("mx-form-{n}")),
                    ("first_name", "Form".into()),
                ]
            },
            smuggled: &[FOREIGN_ORG, ROLE_FIELD, ("created_by", "1"), UNKNOWN],
            control: 303,
        },
        record(
            "/participants/{participant_id}/{record}",
            "/participants/{a}/milestones",
            |n| vec![("milestone", "civic.voter_registered".into()), ("date", day(n))],
        ),
        record(
            "/participants/{participant_id}/{record}",
            "/participants/{a}/activities",
            |n| {
                vec![
                    ("date", day(n)),
                    ("program", "esl".into()),
                    ("hours", "1.5".into()),
                    ("element", "english".into()),
                ]
            },
        ),
        record(
            "/participants/{participant_id}/{record}",
            "/participants/{a}/assessments",
            |n| {
                vec![
                    ("date", day(n)),
                    ("instrument", "casas_reading".into()),
                    ("score", "215".into()),
                ]
            },
        ),
        record(
            "/participants/{participant_id}/{record}",
            "/participants/{a}/needs",
            |n| vec![("element", "health".into()), ("description", format!("form need {n}"))],
        ),
        record(
            "/participants/{participant_id}/{record}",
            "/participants/{a}/goals",
            |n| {
                vec![
                    ("element", "economic".into()),
                    ("description", format!("form goal {n}")),
                    ("target_date", "2099-01-01".into()),
                ]
            },
        ),
        FormPost {
            smuggled: &[
                FOREIGN_ORG,
                ("participant_id", PB.pid),
                ROLE_FIELD,
                ("recorded_by", "1"),
                UNKNOWN,
            ],
            ..record(
                "/participants/{participant_id}/consents",
                "/participants/{a}/consents",
                |n| {
                    vec![
                        ("partner_org_id", "south-bay-library".into()),
                        ("purpose", format!("form consent {n}")),
                        ("valid_from", "2024-01-01".into()),
                    ]
                },
            )
        },
        FormPost {
            fixture: Fixture::Consent,
            smuggled: &[FOREIGN_ORG, ("participant_id", PB.pid), ROLE_FIELD, UNKNOWN],
            ..record(
                "/participants/{participant_id}/consents/{consent_id}/revoke",
                "/participants/{a}/consents/{consent}/revoke",
                |_| Vec::new(),
            )
        },
        FormPost {
            smuggled: &[
                FOREIGN_ORG,
                ("from_org_id", B),
                ("participant_id", PB.pid),
                ROLE_FIELD,
                ("created_by", "1"),
                UNKNOWN,
            ],
            ..record(
                "/participants/{participant_id}/referrals",
                "/participants/{a}/referrals",
                |n| {
                    vec![
                        ("service_id", PA.service.into()),
                        ("element", "credentials".into()),
                        ("note", format!("form referral {n}")),
                    ]
                },
            )
        },
        FormPost {
            fixture: Fixture::Referral,
            smuggled: &[FOREIGN_ORG, ("by_org_id", B), ROLE_FIELD, ("by_user", "1"), UNKNOWN],
            ..record("/referrals/{id}/status", "/referrals/{referral}/status", |n| {
                vec![("status", "cancelled".into()), ("reason", format!("form {n}"))]
            })
        },
        FormPost {
            smuggled: &[FOREIGN_ORG, ("participant_id", PB.pid), ROLE_FIELD, UNKNOWN],
            control: 200,
            ..record(
                "/participants/{participant_id}/self-assessment",
                "/participants/{a}/self-assessment",
                |_| vec![("lang", "es".into())],
            )
        },
        FormPost {
            route: "/admin/users",
            uri: "/admin/users",
            who: Who::Admin,
            fixture: Fixture::None,
            valid: |n| {
                vec![
                    ("email", format!("form-{n}@matrix.test")),
                    ("name", "Form".into()),
                    ("role", "case_worker".into()),
                    ("org_id", A.into()),
                ]
            },
            smuggled: &[
                FOREIGN_ORG,
                ROLE_FIELD,
                ("role", "state_analyst"),
                ("disabled", "1"),
                ("password_hash", "x"),
                ("id", "1"),
                ("created_by", "1"),
                UNKNOWN,
            ],
            control: 200,
        },
        FormPost {
            route: "/login",
            uri: "/login",
            who: Who::Anonymous,
            fixture: Fixture::None,
            valid: |_| {
                vec![
                    ("email", "login@matrix.test".into()),
                    ("password", support::PASSWORD.into()),
                ]
            },
            smuggled: &[ROLE_FIELD, ("org_id", "ca"), UNKNOWN],
            control: 303,
        },
        FormPost {
            route: "/welcome/{token}",
            uri: "/welcome/{invite}",
            who: Who::Anonymous,
            fixture: Fixture::Invite,
            valid: |_| {
                vec![
                    ("password", "a long matrix password".into()),
                    ("confirm", "a long matrix password".into()),
                ]
            },
            smuggled: &[ROLE_FIELD, FOREIGN_ORG, UNKNOWN],
            control: 303,
        },
        FormPost {
            route: "/s/{token}",
            uri: "/s/{link}",
            who: Who::Anonymous,
            fixture: Fixture::Link,
            valid: |_| {
                let mut fields = vec![("lang", "en".to_owned())];
                fields.extend(iip_i18n::QUESTIONS.iter().map(|q| (q.id, "3".to_owned())));
                fields
            },
            smuggled: &[FOREIGN_ORG, ("participant_id", PB.pid), UNKNOWN],
            control: 200,
        },
    ]
}

// ---------------------------------------------------------------------------------------
// The application, its accounts and the seeded participants.

struct App {
    router: axum::Router,
    store: SqliteStore,
    _dir: tempfile::TempDir,
    /// Per role, in `ROLES` order: a bearer token, a session cookie and its CSRF token.
    tokens: Vec<String>,
    cookies: Vec<String>,
    csrfs: Vec<String>,
    /// Never in any answer: password hashes, token secrets and hashes, session ids, CSRF
    /// tokens, account emails and display names.
    secrets: Vec<String>,
    a_row: i64,
    a_worker_id: i64,
    invitee_id: i64,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `application/x-www-form-urlencoded`.
fn encode(fields: &[(&str, String)]) -> String {
    let enc = |text: &str| {
        let mut out = String::new();
        for b in text.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(char::from(b)),
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A JSON request with a bearer token; the status and the body's text.
async fn call(
    router: &axum::Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<String>,
) -> (StatusCode, String) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let response = router
        .clone()
        .oneshot(request.body(body.map(Body::from).unwrap_or_default()).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 26).await.expect("body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn fill(uri: &str) -> String {
    uri.replace("{a}", PA.pid).replace("{b}", PB.pid)
}

async fn add_account(store: &SqliteStore, email: &str, role: &str, org: &str, n: usize) -> (i64, Vec<String>) {
    let hash = iip_auth::hash_password(support::PASSWORD).expect("hash");
    let name = format!("CANARY-USER-{n}-9c1d");
    let id = store
        .create_user(&NewUser {
            email,
            display_name: &name,
            org_id: org,
            role,
            password_hash: &hash,
        })
        .await
        .expect("store")
        .expect("a new email");
    (id, vec![hash, email.to_owned(), name])
}

async fn api_token(store: &SqliteStore, user_id: i64) -> iip_auth::Token {
    let token = iip_auth::random_token().expect("random");
    store
        .create_api_token(&token.hash, user_id, "matrix", 0, i64::MAX)
        .await
        .expect("token");
    token
}

/// A participant with every kind of object, its text fields the person's canaries: the record,
/// an activity, a milestone and an assessment through the API; a need, a goal, a consent and a
/// referral through the forms.
async fn seed(router: &axum::Router, token: &str, cookie: &str, csrf: &str, p: &Person) {
    let intake = json!({
        "participant_id": p.pid,
        "person_key": p.person_key,
        "first_name": p.first,
        "last_name": p.last,
        "date_of_birth": p.dob,
        "gender": "female",
        "primary_language": "es",
        "us_arrival_year": 2019,
        "zip": "95112",
        "barriers": "low_income",
    });
    let (status, body) = call(
        router,
        "POST",
        "/api/participants",
        Some(token),
        Some(intake.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "seeding {}: {body}", p.pid);
    for (kind, record) in [
        (
            "activities",
            json!({ "date": "2024-09-03", "program": "esl", "hours": 3.5, "element": "english" }),
        ),
        (
            "milestones",
            json!({ "date": "2024-10-01", "milestone": "civic.volunteered" }),
        ),
        (
            "assessments",
            json!({ "date": "2024-09-03", "instrument": "casas_reading", "score": 212 }),
        ),
    ] {
        let uri = format!("/api/participants/{}/{kind}", p.pid);
        let (status, body) = call(router, "POST", &uri, Some(token), Some(record.to_string())).await;
        assert_eq!(status, StatusCode::CREATED, "seeding {kind}: {body}");
    }
    for (kind, fields) in [
        (
            "needs",
            vec![("element", "english".to_owned()), ("description", p.need.to_owned())],
        ),
        (
            "goals",
            vec![
                ("element", "credentials".to_owned()),
                ("description", p.goal.to_owned()),
                ("target_date", "2099-06-30".to_owned()),
            ],
        ),
        (
            "consents",
            vec![
                ("partner_org_id", p.partner.to_owned()),
                ("purpose", p.purpose.to_owned()),
                ("valid_from", "2024-01-01".to_owned()),
            ],
        ),
        (
            "referrals",
            vec![
                ("service_id", p.service.to_owned()),
                ("element", "credentials".to_owned()),
                ("note", p.note.to_owned()),
            ],
        ),
    ] {
        let mut form = vec![("csrf", csrf.to_owned())];
        form.extend(fields);
        let uri = format!("/participants/{}/{kind}", p.pid);
        let reply = support::send(router, "POST", &uri, Some(cookie), Some(&encode(&form))).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "seeding {kind}: {}", reply.body);
    }
}

async fn app() -> App {
    let (state, store, dir) = support::state_with_directory(300).await;
    let community = iip_generate::community_csv(300, 3);
    let figures = iip_directory::community::read("community.csv", community.as_bytes()).expect("figures");
    store.put_community_figures(&figures).await.expect("store");
    let state = state.with_funding(support::funding_scenario(&store).await);

    let mut secrets = Vec::new();
    let mut ids = Vec::new();
    for (n, role) in ROLES.iter().enumerate() {
        let (id, more) = add_account(&store, role.email(), role.id(), role.org(), n).await;
        ids.push(id);
        secrets.extend(more);
    }
    let (b_worker, more) = add_account(&store, "b-cw@matrix.test", "case_worker", B, 10).await;
    secrets.extend(more);
    let (_, more) = add_account(&store, "login@matrix.test", "case_worker", A, 11).await;
    secrets.extend(more);
    let (invitee_id, more) = add_account(&store, "invitee@matrix.test", "case_worker", A, 12).await;
    secrets.extend(more);

    let router = router(state);
    let (mut tokens, mut cookies, mut csrfs) = (Vec::new(), Vec::new(), Vec::new());
    for (role, id) in ROLES.iter().zip(&ids) {
        let token = api_token(&store, *id).await;
        let cookie = support::sign_in(&router, role.email()).await;
        let csrf = support::csrf(&router, &cookie).await;
        secrets.extend([
            hex(&token.hash),
            token.secret.clone(),
            cookie.split_once('=').expect("name=value").1.to_owned(),
            csrf.clone(),
        ]);
        tokens.push(token.secret);
        cookies.push(cookie);
        csrfs.push(csrf);
    }
    let b_token = api_token(&store, b_worker).await;
    let b_cookie = support::sign_in(&router, "b-cw@matrix.test").await;
    let b_csrf = support::csrf(&router, &b_cookie).await;
    secrets.extend([hex(&b_token.hash), b_token.secret.clone(), b_csrf.clone()]);

    seed(&router, &tokens[0], &cookies[0], &csrfs[0], &PA).await;
    seed(&router, &b_token.secret, &b_cookie, &b_csrf, &PB).await;
    let a_row = store
        .participant_record(A, PA.pid)
        .await
        .expect("store")
        .expect("A's participant")
        .row;
    App {
        router,
        store,
        _dir: dir,
        tokens,
        cookies,
        csrfs,
        secrets,
        a_row,
        a_worker_id: ids[0],
        invitee_id,
    }
}

impl App {
    /// The values `role` must never receive.
    fn never_values(&self, role: Role) -> Vec<&str> {
        let mut values: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        values.extend(PB.values());
        if !role.case_work() {
            values.extend(PA.values());
        }
        values
    }
}

// ---------------------------------------------------------------------------------------
// What the store holds, to compare before and after a refused write.

#[derive(Debug, PartialEq)]
struct Side {
    participants: Vec<String>,
    record: ParticipantRecord,
    pathway: Pathway,
    consents: Vec<Consent>,
    referrals: Vec<Referral>,
}

#[derive(Debug, PartialEq)]
struct Held {
    counts: TableCounts,
    a: Side,
    b: Side,
    /// Every account: id, email, organization, role, disabled.
    accounts: Vec<(i64, String, String, String, bool)>,
    password_hashes: Vec<String>,
}

async fn side(store: &SqliteStore, p: &Person) -> Side {
    let record = store
        .participant_record(p.org, p.pid)
        .await
        .expect("store")
        .expect("the canary participant");
    Side {
        participants: store
            .search_participants(p.org, "", 100_000)
            .await
            .expect("search")
            .into_iter()
            .map(|s| s.participant_id)
            .collect(),
        pathway: store.pathway(record.row).await.expect("pathway"),
        consents: store.consents(record.row).await.expect("consents"),
        referrals: store
            .referrals(ReferralFilter::Organization(p.org))
            .await
            .expect("referrals"),
        record,
    }
}

async fn held(store: &SqliteStore) -> Held {
    let users = store.users(None).await.expect("users");
    Held {
        counts: store.counts().await.expect("counts"),
        a: side(store, &PA).await,
        b: side(store, &PB).await,
        accounts: users
            .iter()
            .map(|u| (u.id, u.email.clone(), u.org_id.clone(), u.role.clone(), u.disabled))
            .collect(),
        password_hashes: users.into_iter().map(|u| u.password_hash).collect(),
    }
}

impl Held {
    /// What differs, by part (the parts hold personal data: never printed whole).
    fn changes(&self, after: &Held) -> Vec<&'static str> {
        let mut parts = Vec::new();
        for (changed, part) in [
            (self.counts != after.counts, "row counts"),
            (self.a.participants != after.a.participants, "A's participants"),
            (self.a.record != after.a.record, "A's record"),
            (self.a.pathway != after.a.pathway, "A's pathway"),
            (self.a.consents != after.a.consents, "A's consents"),
            (self.a.referrals != after.a.referrals, "A's referrals"),
            (self.b != after.b, "B's objects"),
            (self.accounts != after.accounts, "accounts"),
            (self.password_hashes != after.password_hashes, "passwords"),
        ] {
            if changed {
                parts.push(part);
            }
        }
        parts
    }

    /// Nothing of B's changed, and no existing account changed organization or role; every
    /// new account is a case worker of A (what the valid form asked for).
    fn confined_to_a(&self, after: &Held) -> Result<(), String> {
        if self.b != after.b {
            return Err("B's objects changed".into());
        }
        for account in &after.accounts {
            match self.accounts.iter().find(|a| a.0 == account.0) {
                Some(before) if (&before.2, &before.3) != (&account.2, &account.3) => {
                    return Err(format!("account {} now {} {}", account.0, account.2, account.3));
                }
                None if (account.2.as_str(), account.3.as_str()) != (A, "case_worker") => {
                    return Err(format!("a new account {} {}", account.2, account.3));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// The scan.

/// Every object key anywhere in `value`.
fn walk<'a>(value: &'a Value, keys: &mut BTreeSet<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                keys.insert(key.as_str());
                walk(inner, keys);
            }
        }
        Value::Array(items) => items.iter().for_each(|inner| walk(inner, keys)),
        _ => {}
    }
}

/// What is wrong with one answer: keys beyond `allowed`, keys in `never`, values in `values`.
fn scan(body: &str, allowed: &[&str], never: &[&str], values: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    let json: Value = match serde_json::from_str(body) {
        Ok(json) => json,
        Err(e) => return vec![format!("not JSON ({e})")],
    };
    let mut keys = BTreeSet::new();
    walk(&json, &mut keys);
    for key in keys {
        if never.contains(&key) {
            problems.push(format!("forbidden key {key:?}"));
        } else if !allowed.contains(&key) {
            problems.push(format!("undeclared key {key:?}"));
        }
    }
    for value in values {
        if body.contains(value) {
            problems.push(format!("forbidden value {value:?}"));
        }
    }
    problems
}

#[test]
fn the_scan_finds_nested_keys_undeclared_keys_and_values() {
    let body = json!({ "rows": [{ "groups": { "x": [{ "password_hash": "h" }] }, "note": "CANARY-1" }] }).to_string();
    let problems = scan(&body, &["rows", "groups", "x"], &["password_hash"], &["CANARY-1"]);
    assert!(
        problems.contains(&"forbidden key \"password_hash\"".to_owned()),
        "{problems:?}"
    );
    assert!(problems.contains(&"undeclared key \"note\"".to_owned()), "{problems:?}");
    assert!(
        problems.contains(&"forbidden value \"CANARY-1\"".to_owned()),
        "{problems:?}"
    );
    assert_eq!(scan("{\"rows\":[]}", &["rows"], &[], &[]), Vec::<String>::new());
    assert_eq!(scan("<html>", &[], &[], &[]).len(), 1, "not JSON fails too");
}

#[test]
fn the_matrix_covers_every_role_and_contradicts_itself_nowhere() {
    // The product's roles are the matrix's.
    let product: BTreeSet<&str> = iip_auth::Role::ALL.iter().map(|r| r.as_str()).collect();
    let matrix: BTreeSet<&str> = ROLES.iter().map(|r| r.id()).collect();
    assert_eq!(product, matrix);
    for role in ROLES {
        let parsed = iip_auth::Role::parse(role.id()).expect("a role");
        assert_eq!(parsed.works_with_participants(), role.case_work(), "{role:?}");
    }
    // A role given a route's answer is not declared to see a key it must never see.
    for route in reads() {
        for (i, role) in ROLES.iter().enumerate() {
            if route.status[i] == 200 {
                let never = never_keys(*role);
                let clash: Vec<_> = words(route.keys).into_iter().filter(|k| never.contains(k)).collect();
                assert!(clash.is_empty(), "{} for {role:?}: {clash:?}", route.uri);
            }
        }
    }
}

#[tokio::test]
async fn every_json_route_is_in_the_matrix() {
    let (state, _store, _dir) = support::state(0).await;
    let router = router(state);
    let (status, document) = call(&router, "GET", "/api/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let document: Value = serde_json::from_str(&document).expect("json");
    let mut documented: BTreeSet<(String, String)> = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().expect("paths") {
        for method in operations.as_object().expect("operations").keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    // Not in the OpenAPI document, but JSON all the same.
    documented.insert(("GET".into(), "/directory.json".into()));
    documented.remove(&("GET".to_owned(), "/api/openapi.json".to_owned()));
    let mut declared: BTreeSet<(String, String)> = reads()
        .iter()
        .map(|r| (r.method.to_owned(), r.pattern.to_owned()))
        .collect();
    declared.extend(json_writes().iter().map(|w| ("POST".to_owned(), w.pattern.to_owned())));
    assert_eq!(
        documented, declared,
        "every JSON route has a row in reads() or json_writes() of tests/role_field_matrix.rs"
    );
}

// ---------------------------------------------------------------------------------------
// The tests.

#[tokio::test]
async fn no_role_receives_a_field_or_value_it_may_not_see() {
    let app = app().await;
    let mut problems = Vec::new();
    let (mut cells, mut keys_checked, mut values_checked, mut controls) = (0, 0, 0, 0);
    let routes = reads();
    for route in &routes {
        for (i, role) in ROLES.iter().enumerate() {
            let uri = fill(route.uri);
            let (status, body) = call(
                &app.router,
                route.method,
                &uri,
                Some(&app.tokens[i]),
                route.body.map(str::to_owned),
            )
            .await;
            cells += 1;
            let at = format!("{role:?} {} {uri}", route.method);
            if status.as_u16() != route.status[i] {
                problems.push(format!("{at}: {status}, declared {}", route.status[i]));
            }
            let never = never_keys(*role);
            let values = app.never_values(*role);
            let allowed = words(if status.is_success() { route.keys } else { ERROR_KEYS });
            keys_checked += never.len();
            values_checked += values.len();
            problems.extend(
                scan(&body, &allowed, &never, &values)
                    .into_iter()
                    .map(|p| format!("{at} → {status}: {p}")),
            );
            if status.is_success() && role.case_work() {
                for shown in route.shows {
                    controls += 1;
                    if !body.contains(shown) {
                        problems.push(format!("control: {at} does not show its own {shown:?}"));
                    }
                }
            }
        }
    }
    eprintln!(
        "role × field matrix (reads): {} roles × {} routes = {cells} answers; {keys_checked} forbidden-key \
         and {values_checked} forbidden-value checks; {controls} positive controls; problems = {}",
        ROLES.len(),
        routes.len(),
        problems.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn json_bodies_naming_a_forbidden_or_unknown_field_get_422_and_change_nothing() {
    let app = app().await;
    let mut problems = Vec::new();
    let (mut cases, mut n) = (0, 0);
    for route in json_writes() {
        let uri = fill(route.uri);
        for (field, value) in route.smuggled {
            for (i, role) in ROLES.iter().enumerate() {
                n += 1;
                let mut body = (route.valid)(n);
                if let Value::Object(map) = &mut body {
                    map.insert((*field).to_owned(), Value::String((*value).to_owned()));
                }
                let before = held(&app.store).await;
                let (status, text) =
                    call(&app.router, "POST", &uri, Some(&app.tokens[i]), Some(body.to_string())).await;
                let after = held(&app.store).await;
                cases += 1;
                let at = format!("{role:?} POST {uri} with {field}");
                let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                if role.case_work() {
                    if status != StatusCode::UNPROCESSABLE_ENTITY || !names_field(&answer, field) {
                        problems.push(format!("{at}: {status} {text}, expected 422 naming {field}"));
                    }
                } else if status != StatusCode::FORBIDDEN
                    && !(status == StatusCode::UNPROCESSABLE_ENTITY && names_field(&answer, field))
                {
                    // The search reads its body before the role: 422 naming the field is a
                    // refusal too.
                    problems.push(format!("{at}: {status} {text}, expected 403 (or 422 naming {field})"));
                }
                let changed = before.changes(&after);
                if !changed.is_empty() {
                    problems.push(format!("{at}: the store changed: {changed:?}"));
                }
                let never: Vec<&str> = words(SECRET_KEYS).into_iter().filter(|k| k != field).collect();
                problems.extend(
                    scan(&text, &[], &never, &app.never_values(*role))
                        .into_iter()
                        .filter(|p| !p.starts_with("undeclared key"))
                        .map(|p| format!("{at}: {p}")),
                );
            }
        }
        // The body was valid but for the smuggled field: alone, it is recorded.
        n += 1;
        let before = held(&app.store).await;
        let (status, text) = call(
            &app.router,
            "POST",
            &uri,
            Some(&app.tokens[0]),
            Some((route.valid)(n).to_string()),
        )
        .await;
        let after = held(&app.store).await;
        if status.as_u16() != route.control || before.changes(&after).is_empty() == route.changes {
            problems.push(format!(
                "control: POST {uri} with a valid body → {status} {text}; changed {:?}",
                before.changes(&after)
            ));
        }
    }
    eprintln!(
        "role × field matrix (JSON writes): {cases} smuggled-field requests ({} routes × their fields × {} roles); \
         problems = {}",
        json_writes().len(),
        ROLES.len(),
        problems.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Makes what a form case needs fresh; the path with it filled in.
async fn fresh(app: &App, post: &FormPost) -> String {
    let now = iip_web::auth::unix_now();
    let mut uri = fill(post.uri);
    match post.fixture {
        Fixture::None => {}
        Fixture::Consent => {
            let id = app
                .store
                .record_consent(
                    app.a_row,
                    &NewConsent {
                        partner_org_id: "south-bay-college",
                        purpose: "matrix consent",
                        scope: ConsentScope::Record,
                        valid_from: Date::parse("2024-01-01").expect("date"),
                        valid_to: None,
                        recorded_by: app.a_worker_id,
                    },
                )
                .await
                .expect("consent");
            uri = uri.replace("{consent}", &id.to_string());
        }
        Fixture::Referral => {
            let id = app
                .store
                .create_referral(&NewReferral {
                    from_org_id: Id::parse(A).expect("id"),
                    participant_id: Id::parse(PA.pid).expect("id"),
                    to_org_id: Id::parse(PA.partner).expect("id"),
                    service_id: Some(Id::parse(PA.service).expect("id")),
                    element: "credentials".into(),
                    note: None,
                    by_user: app.a_worker_id,
                    at: now,
                })
                .await
                .expect("store")
                .expect("a referral");
            uri = uri.replace("{referral}", &id.to_string());
        }
        Fixture::Invite => {
            let token = iip_auth::random_token().expect("random");
            app.store
                .create_invite(&token.hash, app.invitee_id, now, now + 3600)
                .await
                .expect("invite");
            uri = uri.replace("{invite}", &token.secret);
        }
        Fixture::Link => {
            let token = iip_auth::random_token().expect("random");
            app.store
                .create_self_assessment_link(app.a_row, &token.hash, now, now + 3600)
                .await
                .expect("link");
            uri = uri.replace("{link}", &token.secret);
        }
    }
    uri
}

/// Posts `fields` as `who` (with the session's CSRF token).
async fn post_form(app: &App, who: Who, uri: &str, fields: &[(&str, String)]) -> support::Response {
    let i = match who {
        Who::Worker => Some(0),
        Who::Admin => Some(1),
        Who::Anonymous => None,
    };
    let mut form = Vec::new();
    if let Some(i) = i {
        form.push(("csrf", app.csrfs[i].clone()));
    }
    form.extend(fields.iter().cloned());
    let cookie = i.map(|i| app.cookies[i].as_str());
    support::send(&app.router, "POST", uri, cookie, Some(&encode(&form))).await
}

#[tokio::test]
async fn forms_smuggling_an_organization_or_a_role_are_refused_and_change_nothing() {
    let app = app().await;
    let mut problems = Vec::new();
    let mut known_seen = Vec::new();
    let (mut cases, mut n) = (0, 100);
    let posts = form_posts();
    for post in &posts {
        for (field, value) in post.smuggled {
            n += 1;
            let uri = fresh(&app, post).await;
            let mut fields = (post.valid)(n);
            match fields.iter_mut().find(|(k, _)| k == field) {
                Some(existing) => existing.1 = (*value).to_owned(),
                None => fields.push((field, (*value).to_owned())),
            }
            let before = held(&app.store).await;
            let reply = post_form(&app, post.who, &uri, &fields).await;
            let after = held(&app.store).await;
            cases += 1;
            let at = format!("{:?} POST {uri} with {field}={value}", post.who);
            let changed = before.changes(&after);
            let refused = reply.status == StatusCode::UNPROCESSABLE_ENTITY && changed.is_empty();
            let known = KNOWN
                .iter()
                .find(|(uri, fields, _)| *uri == post.uri && fields.contains(field))
                .map(|k| k.2);
            let message = REFUSED
                .iter()
                .find(|(uri, f, _)| *uri == post.uri && f == field)
                .map(|r| r.2);
            if refused {
                let named = match message {
                    Some(m) => reply.body.contains(m),
                    None => reply.body.contains(field) || reply.body.contains(&field.replace('_', " ")),
                };
                if !named {
                    problems.push(format!("{at}: 422 without naming {field}"));
                }
                if known.is_some() {
                    eprintln!("now refused, take it out of KNOWN: {} {field}", post.uri);
                }
            } else if let Some(observed) = known {
                known_seen.push(format!("{} {field}", post.uri));
                if reply.status.as_u16() != observed {
                    problems.push(format!("{at}: {} (known violation was {observed})", reply.status));
                }
                if let Err(e) = before.confined_to_a(&after) {
                    problems.push(format!("{at}: {e}"));
                }
            } else {
                problems.push(format!(
                    "{at}: {} (location {:?}), changed {changed:?}; expected 422 and no change",
                    reply.status,
                    reply.header("location")
                ));
            }
            // Whatever the answer, signing in never gives more than the account's own role.
            if post.route == "/login" && reply.status == StatusCode::SEE_OTHER {
                let cookie = reply.header("set-cookie").split(';').next().unwrap_or("").to_owned();
                for page in ["/admin/users", "/funding"] {
                    let r = support::send(&app.router, "GET", page, Some(&cookie), None).await;
                    if r.status != StatusCode::FORBIDDEN {
                        problems.push(format!("{at}: then GET {page} → {}", r.status));
                    }
                }
            }
        }
        // The form was valid but for the smuggled field: alone, it goes through.
        n += 1;
        let uri = fresh(&app, post).await;
        let reply = post_form(&app, post.who, &uri, &(post.valid)(n)).await;
        if reply.status.as_u16() != post.control {
            problems.push(format!(
                "control: {:?} POST {uri} with a valid form → {} (expected {})",
                post.who, reply.status, post.control
            ));
        }
    }
    eprintln!(
        "role × field matrix (forms): {cases} smuggled-field posts over {} forms; known violations still \
         present = {} ({}); problems = {}",
        posts.len(),
        known_seen.len(),
        known_seen.join(", "),
        problems.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
