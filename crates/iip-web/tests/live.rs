//! Concurrent writes and reads through one server: the snapshot, kept current fact by fact
//! (in whatever order the writes commit), ends equal to one rebuilt from the store.

mod support;

use std::sync::Arc;

use axum::http::StatusCode;
use iip_domain::ProgramYear;
use iip_framework::Framework;
use iip_web::{AppState, router};
use serde_json::json;
use tower::ServiceExt;

async fn post_json(router: &axum::Router, uri: &str, token: &str, body: serde_json::Value) -> StatusCode {
    let request = axum::http::Request::post(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .expect("request");
    router.clone().oneshot(request).await.expect("response").status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_leave_the_same_metrics_as_a_fresh_snapshot() {
    let (state, store, _dir) = support::state(600).await;
    support::add_user(&store, "worker@test.iip", "case_worker", "south-bay-adult-school").await;
    support::add_user(&store, "state@test.iip", "state_analyst", "ca").await;
    let router = router(state);
    let worker = {
        let user = iip_store::AccountStore::user_by_email(&store, "worker@test.iip")
            .await
            .expect("store")
            .expect("user");
        let token = iip_auth::random_token().expect("random");
        iip_store::AccountStore::create_api_token(&store, &token.hash, user.id, "t", 0, i64::MAX)
            .await
            .expect("token");
        token.secret
    };
    let analyst = support::sign_in(&router, "state@test.iip").await;
    let metrics = "/api/metrics?year=2024-25&metric=adults_served,participants,any_milestone,element.civic";
    // Warm the snapshot, so the writes below are applied fact by fact.
    let warm = support::send(&router, "GET", metrics, Some(&analyst), None).await;
    assert_eq!(warm.status, StatusCode::OK);
    let served = |body: &str| {
        serde_json::from_str::<serde_json::Value>(body).expect("json")["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["scope_id"] == "ca" && r["metric"] == "adults_served")
            .and_then(|r| r["numerator"].as_u64())
            .expect("the state's adults served is shown")
    };
    let before = served(&warm.body);

    let mut tasks = Vec::new();
    for i in 0..24 {
        let (router, worker, analyst) = (router.clone(), worker.clone(), analyst.clone());
        tasks.push(tokio::spawn(async move {
            let id = format!("live-{i}");
            assert_eq!(
                post_json(&router, "/api/participants", &worker, json!({ "participant_id": id })).await,
                StatusCode::CREATED
            );
            let activity = json!({ "date": "2024-10-02", "program": "esl", "hours": 12, "element": "english" });
            assert_eq!(
                post_json(
                    &router,
                    &format!("/api/participants/{id}/activities"),
                    &worker,
                    activity
                )
                .await,
                StatusCode::CREATED
            );
            let milestone = json!({ "date": "2024-12-02", "milestone": "civic.voter_registered" });
            assert_eq!(
                post_json(
                    &router,
                    &format!("/api/participants/{id}/milestones"),
                    &worker,
                    milestone
                )
                .await,
                StatusCode::CREATED
            );
            let read = support::send(&router, "GET", metrics, Some(&analyst), None).await;
            assert_eq!(read.status, StatusCode::OK);
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    let live = support::send(&router, "GET", metrics, Some(&analyst), None).await;

    // A second server over the same store builds its snapshot from scratch.
    let fresh_state = AppState::new(
        store.clone(),
        Arc::new(Framework::builtin().expect("framework")),
        ProgramYear::parse("2024-25").expect("year"),
    )
    .expect("state");
    let fresh_router = router_for(fresh_state);
    let fresh_cookie = support::sign_in(&fresh_router, "state@test.iip").await;
    let fresh = support::send(&fresh_router, "GET", metrics, Some(&fresh_cookie), None).await;
    let rows = |body: &str| serde_json::from_str::<serde_json::Value>(body).expect("json")["rows"].clone();
    assert_eq!(rows(&live.body), rows(&fresh.body), "live snapshot = rebuilt snapshot");
    assert_eq!(served(&fresh.body), before + 24, "the 24 new people count");
}

fn router_for(state: AppState<iip_store_sqlite::SqliteStore>) -> axum::Router {
    router(state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_that_miss_the_report_cache_at_once_wait_for_one_computation() {
    let (state, _store, _dir) = support::state(300).await;
    let state = Arc::new(state);
    let framework = Framework::builtin().expect("framework");
    let set = Arc::new(iip_metrics::MetricSet::builtin(&framework).expect("metrics"));
    let query = Arc::new(iip_metrics::Query {
        year: ProgramYear::parse("2024-25").expect("year"),
        by: vec![],
    });
    let before = state.reports_computed();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (state, set, query) = (Arc::clone(&state), Arc::clone(&set), Arc::clone(&query));
        tasks.push(tokio::spawn(async move {
            state.report(&set, &query).await.map(|r| r.rows.len())
        }));
    }
    let mut sizes = Vec::new();
    for task in tasks {
        sizes.push(task.await.expect("task").expect("report"));
    }
    assert!(sizes.iter().all(|&n| n > 0 && n == sizes[0]), "{sizes:?}");
    assert_eq!(
        state.reports_computed() - before,
        1,
        "sixteen requests, one computation"
    );
}
