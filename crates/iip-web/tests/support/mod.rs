//! Shared by the web test binaries: a real store filled by the importer, accounts, and
//! requests through the real router with a session cookie.
#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use iip_domain::{Date, ProgramYear};
use iip_exchange::{ImportOptions, Issue, import_package};
use iip_framework::Framework;
use iip_generate::{GeneratorConfig, generate};
use iip_store::{AccountStore, NewUser};
use iip_store_sqlite::SqliteStore;
use iip_web::AppState;
use tower::ServiceExt;

pub const PASSWORD: &str = "a long test password";

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

/// A store with a generated region of `people` (none when 0) and the state it serves.
pub async fn state(people: u64) -> (AppState<SqliteStore>, SqliteStore, tempfile::TempDir) {
    state_seeded(people, 3).await
}

pub async fn state_seeded(people: u64, seed: u64) -> (AppState<SqliteStore>, SqliteStore, tempfile::TempDir) {
    // Server errors show in a failing test's output.
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("error")
        .try_init();
    let dir = tempfile::tempdir().expect("tempdir");
    let framework = Framework::builtin().expect("framework");
    let store = SqliteStore::open(&dir.path().join("t.db")).await.expect("open");
    if people > 0 {
        let package = dir.path().join("package");
        generate(GeneratorConfig { people, seed }, &package).expect("generate");
        let mut issues: Vec<Issue> = Vec::new();
        let options = ImportOptions {
            skip_invalid: false,
            today: Date::today(),
        };
        let summary = import_package(&store, &framework, &package, options, &mut issues)
            .await
            .expect("import");
        assert!(summary.committed, "{issues:?}");
    }
    let year = ProgramYear::parse("2024-25").expect("year");
    let state = AppState::new(store.clone(), Arc::new(framework), year).expect("state");
    (state, store, dir)
}

pub async fn add_user(store: &SqliteStore, email: &str, role: &str, org: &str) {
    let hash = iip_auth::hash_password(PASSWORD).expect("hash");
    store
        .create_user(&NewUser {
            email,
            display_name: "Test User",
            org_id: org,
            role,
            password_hash: &hash,
        })
        .await
        .expect("store")
        .expect("a new email");
}

pub async fn send(
    router: &axum::Router,
    method: &str,
    uri: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> Response {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let body = match form {
        Some(form) => {
            request = request.header("content-type", "application/x-www-form-urlencoded");
            Body::from(form.to_owned())
        }
        None => Body::empty(),
    };
    let response = router
        .clone()
        .oneshot(request.body(body).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24).await.expect("body");
    Response {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).expect("utf-8"),
    }
}

/// Signs in and returns the `name=value` of the session cookie.
pub async fn sign_in(router: &axum::Router, email: &str) -> String {
    let form = format!(
        "email={}&password={}",
        email.replace('@', "%40"),
        PASSWORD.replace(' ', "+")
    );
    let response = send(router, "POST", "/login", None, Some(&form)).await;
    assert_eq!(
        response.status,
        StatusCode::SEE_OTHER,
        "sign-in of {email}: {}",
        response.body
    );
    response
        .header("set-cookie")
        .split(';')
        .next()
        .expect("session cookie")
        .to_owned()
}

/// The CSRF token of the session, as the pages carry it.
pub async fn csrf(router: &axum::Router, cookie: &str) -> String {
    let page = send(router, "GET", "/framework", Some(cookie), None).await;
    page.body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a csrf token on the page")
        .to_owned()
}

/// [`state`] with the generated region's service directory stored too.
pub async fn state_with_directory(people: u64) -> (AppState<SqliteStore>, SqliteStore, tempfile::TempDir) {
    use iip_store::DirectoryStore;
    let (state, store, dir) = state(people).await;
    let stored = store
        .put_services(&iip_generate::services(people))
        .await
        .expect("store");
    assert!(stored.is_ok(), "the generated services name known organizations");
    (state, store, dir)
}

/// The funding simulator over every consortium of the store (as tests/funding.rs builds it).
pub async fn funding_scenario(store: &SqliteStore) -> iip_funding::Scenario {
    use iip_funding::plausible::{Sized, need_and_members};
    use iip_funding::{Formula, MemberTable, NeedTable};
    use iip_store::Store;
    let orgs = store.organizations().await.expect("orgs");
    let units: Vec<Sized> = orgs
        .iter()
        .filter(|o| o.level == iip_domain::Level::Region)
        .map(|o| Sized {
            id: o.org_id.clone(),
            served: None,
            members: orgs
                .iter()
                .filter(|m| m.parent_id.as_deref() == Some(o.org_id.as_str()))
                .map(|m| (m.org_id.clone(), None))
                .collect(),
        })
        .collect();
    let (need, members) = need_and_members(&units, 11);
    let (bn, b) = iip_funding::BASELINE_FORMULA;
    let (fname, f) = iip_funding::INTEGRATION_FORMULA;
    iip_funding::Scenario {
        formula: Formula::parse(f, fname).expect("formula"),
        baseline: Some(Formula::parse(b, bn).expect("baseline")),
        need: NeedTable::parse(&need, "need.csv").expect("need"),
        members: Some(MemberTable::parse(&members, "members.csv").expect("members")),
    }
}
