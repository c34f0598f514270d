//! The JSON API with bearer tokens through the real router: the same rules and access checks
//! as the pages, clear 4xx answers to hostile input, and the OpenAPI document.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use iip_store::AccountStore;
use iip_web::router;
use serde_json::{Value, json};
use tower::ServiceExt;

struct Api {
    router: axum::Router,
    store: iip_store_sqlite::SqliteStore,
    _dir: tempfile::TempDir,
}

async fn api() -> Api {
    let (state, store, dir) = support::state(300).await;
    support::add_user(&store, "worker@test.iip", "case_worker", "south-bay-adult-school").await;
    support::add_user(&store, "other@test.iip", "case_worker", "north-bay-adult-school").await;
    support::add_user(&store, "analyst@test.iip", "consortium_analyst", "south-bay").await;
    Api {
        router: router(state),
        store,
        _dir: dir,
    }
}

impl Api {
    async fn token(&self, email: &str) -> String {
        let user = self.store.user_by_email(email).await.expect("store").expect("user");
        let token = iip_auth::random_token().expect("random");
        self.store
            .create_api_token(&token.hash, user.id, "test", 0, i64::MAX)
            .await
            .expect("token");
        token.secret
    }

    async fn call(&self, method: &str, uri: &str, token: Option<&str>, body: Option<Body>) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(body.unwrap_or_default()).expect("request"))
            .await
            .expect("response");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 24).await.expect("body");
        let json = serde_json::from_slice(&bytes).unwrap_or_else(|_| json!({ "raw": String::from_utf8_lossy(&bytes) }));
        (status, json)
    }

    async fn post(&self, uri: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call("POST", uri, Some(token), Some(Body::from(body.to_string())))
            .await
    }
}

#[tokio::test]
async fn an_integration_records_a_pathway_with_a_token() {
    let api = api().await;
    let token = api.token("worker@test.iip").await;
    let (status, created) = api
        .post(
            "/api/participants",
            &token,
            json!({ "participant_id": "api-1", "first_name": "Rosa", "last_name": "Diaz", "us_arrival_year": 2018, "primary_language": "es", "barriers": "low_income;english_learner" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["participant_id"], "api-1");
    let (status, _) = api
        .post("/api/participants", &token, json!({ "participant_id": "api-1" }))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    for (kind, body) in [
        (
            "activities",
            json!({ "date": "2024-09-03", "program": "esl", "hours": 3.5, "element": "english" }),
        ),
        (
            "milestones",
            json!({ "date": "2024-11-20", "milestone": "health.insurance_enrolled" }),
        ),
        (
            "assessments",
            json!({ "date": "2024-09-03", "instrument": "casas_reading", "score": 212 }),
        ),
    ] {
        let (status, answer) = api.post(&format!("/api/participants/api-1/{kind}"), &token, body).await;
        assert_eq!(status, StatusCode::CREATED, "{kind}: {answer}");
    }
    let (status, again) = api
        .post(
            "/api/participants/api-1/milestones",
            &token,
            json!({ "date": "2024-11-20", "milestone": "health.insurance_enrolled" }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");

    let (status, record) = api.call("GET", "/api/participants/api-1", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(record["participant"]["first_name"], "Rosa");
    assert_eq!(
        record["participant"]["barriers"],
        json!(["english_learner", "low_income"])
    );
    assert_eq!(record["activities"][0]["hours"], 3.5);
    assert_eq!(record["milestones"][0]["element"], "health");
    assert_eq!(record["assessments"][0]["score"], 212.0);

    let (status, found) = api
        .post("/api/participants/search", &token, json!({ "q": "diaz" }))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["participants"][0]["participant_id"], "api-1");
    let (status, all) = api.call("GET", "/api/participants", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(all["participants"].as_array().is_some_and(|p| p.len() > 1));
}

#[tokio::test]
async fn records_break_the_exchange_rules_with_every_field_named() {
    let api = api().await;
    let token = api.token("worker@test.iip").await;
    api.post("/api/participants", &token, json!({ "participant_id": "api-2" }))
        .await;
    let (status, answer) = api
        .post(
            "/api/participants/api-2/activities",
            &token,
            json!({ "date": "2024-02-30", "program": "yoga", "hours": 30 }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["date", "program", "hours"] {
        assert!(answer["fields"][field].is_string(), "{field} named: {answer}");
    }
    let (status, answer) = api
        .post(
            "/api/participants",
            &token,
            json!({ "participant_id": "api-3", "org_id": "north-bay-adult-school" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["fields"]["org_id"], "is set by the server, not the request");
    let (status, answer) = api
        .post(
            "/api/participants",
            &token,
            json!({ "participant_id": "api-4", "shoe_size": 9 }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|e| e.contains("shoe_size is not a field of participants.csv"))
    );
    let (status, answer) = api
        .post("/api/participants", &token, json!({ "participant_id": ["a"] }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["fields"]["participant_id"], "must be a string or a number");
    let (status, _) = api
        .post(
            "/api/participants",
            &token,
            json!({ "participant_id": "api-5", "first_name": "A", "date_of_birth": "1990-13-01" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn hostile_input_gets_4xx_and_a_message_never_5xx() {
    let api = api().await;
    let token = api.token("worker@test.iip").await;
    let cases: Vec<(&str, Body)> = vec![
        ("malformed JSON", Body::from("{\"participant_id\": ")),
        ("not an object", Body::from("[1, 2, 3]")),
        (
            "huge number",
            Body::from("{\"participant_id\": \"x\", \"us_arrival_year\": 1e400}"),
        ),
        (
            "invalid UTF-8",
            Body::from(vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}']),
        ),
        (
            "oversized",
            Body::from(format!("{{\"participant_id\": \"{}\"}}", "x".repeat(200_000))),
        ),
    ];
    for (what, body) in cases {
        let (status, answer) = api.call("POST", "/api/participants", Some(&token), Some(body)).await;
        assert!(status.is_client_error(), "{what}: {status} {answer}");
        assert!(answer.to_string().len() > 2, "{what}: a message");
    }
    let request = Request::post("/api/participants")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "text/plain")
        .body(Body::from("{}"))
        .expect("request");
    let response = api.router.clone().oneshot(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, _) = api
        .call("GET", "/api/participants/..%2F..%2Fetc", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api.post("/api/participants/api-x/shoes", &token, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn tokens_act_as_their_account_and_nothing_more() {
    let api = api().await;
    let worker = api.token("worker@test.iip").await;
    api.post(
        "/api/participants",
        &worker,
        json!({ "participant_id": "api-6", "first_name": "Ngoc" }),
    )
    .await;
    let other = api.token("other@test.iip").await;
    let (status, _) = api.call("GET", "/api/participants/api-6", Some(&other), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api
        .post(
            "/api/participants/api-6/milestones",
            &other,
            json!({ "date": "2024-11-20", "milestone": "civic.volunteered" }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, found) = api
        .post("/api/participants/search", &other, json!({ "q": "Ngoc" }))
        .await;
    assert_eq!(found["participants"], json!([]));
    let analyst = api.token("analyst@test.iip").await;
    let (status, _) = api.call("GET", "/api/participants", Some(&analyst), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, report) = api.call("GET", "/api/metrics?year=2024-25", Some(&analyst), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(report["rows"].as_array().is_some_and(|r| {
        r.iter()
            .all(|r| r["scope_id"].as_str().is_some_and(|s| s.starts_with("south-bay")))
    }));

    let (status, _) = api.call("GET", "/api/participants", Some(&"0".repeat(64)), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = api.call("GET", "/api/participants", Some("short"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let user = api
        .store
        .user_by_email("worker@test.iip")
        .await
        .expect("store")
        .expect("user");
    assert_eq!(api.store.revoke_api_tokens(user.id, "test").await.expect("revoke"), 1);
    // Revoked in the store (as `iip token revoke` does from another process): the server
    // trusted the token it just checked for at most BEARER_TOKEN_FRESH, then refuses it.
    tokio::time::sleep(iip_web::BEARER_TOKEN_FRESH).await;
    let (status, _) = api.call("GET", "/api/participants", Some(&worker), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_openapi_document_matches_its_snapshot_and_the_router() {
    let api = api().await;
    let (status, document) = api.call("GET", "/api/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK, "served without signing in");
    assert_eq!(document["openapi"], "3.1.0");
    let snapshot = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/openapi.json");
    let pretty = serde_json::to_string_pretty(&document).expect("json") + "\n";
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(snapshot, &pretty).expect("write snapshot");
    }
    let expected = std::fs::read_to_string(snapshot).expect("the snapshot (UPDATE_SNAPSHOTS=1 writes it)");
    assert_eq!(
        pretty, expected,
        "the API changed: review, then UPDATE_SNAPSHOTS=1 cargo test -p iip-web --test api"
    );

    // Every documented path answers something other than the router's fallback, and every
    // /api route of the router is documented.
    let token = api.token("worker@test.iip").await;
    let paths = document["paths"].as_object().expect("paths");
    for (path, operations) in paths {
        let uri = path.replace("{participant_id}", "nobody");
        for method in operations.as_object().expect("operations").keys() {
            let body = (method == "post").then(|| Body::from("{}"));
            let (status, answer) = api.call(&method.to_uppercase(), &uri, Some(&token), body).await;
            assert!(status != StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                !answer.to_string().contains("There is no page at this address"),
                "{method} {path}: the router's fallback answered"
            );
        }
    }
    let source = include_str!("../src/lib.rs");
    for line in source.lines().filter(|l| l.contains(".route(\"/api/")) {
        let path = line.split('"').nth(1).expect("a path");
        if path.contains("{record}") {
            for record in ["activities", "milestones", "assessments"] {
                let documented = path.replace("{record}", record);
                assert!(paths.contains_key(&documented), "{documented} is documented");
            }
        } else {
            assert!(paths.contains_key(path), "{path} is documented");
        }
    }
}

impl Api {
    /// A POST with an `Idempotency-Key`: the status, whether it was a replay, the body.
    async fn post_once(&self, uri: &str, token: &str, key: &str, body: Value) -> (StatusCode, bool, Value) {
        let request = Request::builder()
            .method("POST")
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(Body::from(body.to_string()))
            .expect("request");
        let response = self.router.clone().oneshot(request).await.expect("response");
        let status = response.status();
        let replayed = response.headers().get("idempotent-replayed").is_some();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 24).await.expect("body");
        (status, replayed, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn a_write_sent_again_with_its_idempotency_key_is_recorded_once() {
    let api = api().await;
    let token = api.token("worker@test.iip").await;
    let intake = json!({ "participant_id": "once-1" });
    let (status, replayed, _) = api
        .post_once("/api/participants", &token, "intake-1", intake.clone())
        .await;
    assert_eq!((status, replayed), (StatusCode::CREATED, false));
    let (status, replayed, body) = api.post_once("/api/participants", &token, "intake-1", intake).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, true), "{body}");
    assert_eq!(body["participant_id"], "once-1", "the first answer again");

    let uri = "/api/participants/once-1/activities";
    let session = json!({ "date": "2025-02-03", "program": "esl", "hours": "2" });
    for attempt in 0..3 {
        let (status, replayed, body) = api.post_once(uri, &token, "\"a-1\"", session.clone()).await;
        assert_eq!((status, replayed), (StatusCode::CREATED, attempt > 0), "{body}");
    }
    // The same session spelled another way is the same request.
    let same = json!({ "date": "2025-02-03", "program": "esl", "hours": 2 });
    let (status, replayed, _) = api.post_once(uri, &token, "a-1", same).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, true));
    let other = json!({ "date": "2025-02-04", "program": "esl", "hours": "2" });
    let (status, _, body) = api.post_once(uri, &token, "a-1", other.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"].as_str().unwrap_or("").contains("Idempotency-Key"),
        "{body}"
    );
    // Without a key, a second identical session counts again (as the pages do).
    let (status, _) = api.post(uri, &token, session).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, record) = api.call("GET", "/api/participants/once-1", Some(&token), None).await;
    assert_eq!(record["activities"].as_array().map(Vec::len), Some(2), "{record}");

    for bad in ["", "\"\"", &"k".repeat(256), "two words", "caf\u{e9}"] {
        let request = Request::builder()
            .method("POST")
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .header(
                "idempotency-key",
                axum::http::HeaderValue::from_bytes(bad.as_bytes()).expect("header"),
            )
            .body(Body::from(other.to_string()))
            .expect("request");
        let response = api.router.clone().oneshot(request).await.expect("response");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad:?}");
    }
    // Keys are per organization: another organization's a-1 is its own.
    let other_org = api.token("other@test.iip").await;
    let (status, replayed, _) = api
        .post_once(
            "/api/participants",
            &other_org,
            "intake-1",
            json!({ "participant_id": "once-1" }),
        )
        .await;
    assert_eq!((status, replayed), (StatusCode::CREATED, false));
}

#[tokio::test]
async fn query_parameters_outside_their_documented_grammar_are_refused() {
    let api = api().await;
    let token = api.token("analyst@test.iip").await;
    let (status, _) = api
        .call("GET", "/api/metrics?by=gender,age_group", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    for query in [
        "by=%0D",
        "by=gender,",
        "by=,gender",
        "by=gender,,age_group",
        "by=%20gender",
        "by=gender,age_group,language",
        "year=2024-25%0A",
        "year=%202024-25",
    ] {
        let (status, body) = api
            .call("GET", &format!("/api/metrics?{query}"), Some(&token), None)
            .await;
        let start: String = body.to_string().chars().take(200).collect();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {start}");
    }
}
