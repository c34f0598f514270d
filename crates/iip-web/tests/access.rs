//! Accounts and access through the real router over a real store: sign-in, sessions,
//! CSRF, rate limiting, and that nobody reaches what is not theirs by changing a URL.

mod support;

use axum::http::StatusCode;
use iip_store::AccountStore;
use iip_web::router;
use support::{add_user, csrf, send, sign_in};

const SCHOOL: &str = "south-bay-adult-school";
const OTHER_SCHOOL: &str = "north-bay-adult-school";

async fn app() -> (axum::Router, iip_store_sqlite::SqliteStore, tempfile::TempDir) {
    let (state, store, dir) = support::state(1500).await;
    add_user(&store, "worker@test.iip", "case_worker", SCHOOL).await;
    add_user(&store, "other@test.iip", "case_worker", OTHER_SCHOOL).await;
    add_user(&store, "consortium@test.iip", "consortium_analyst", "south-bay").await;
    add_user(&store, "state@test.iip", "state_analyst", "ca").await;
    (router(state), store, dir)
}

fn adults_served(json: &str) -> Option<u64> {
    let json: serde_json::Value = serde_json::from_str(json).expect("json");
    json["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["metric"] == "adults_served")
        .and_then(|r| r["numerator"].as_u64())
}

#[tokio::test]
async fn sign_in_sets_a_strict_cookie_and_sign_out_ends_the_session() {
    let (router, _store, _dir) = app().await;
    let wrong = send(
        &router,
        "POST",
        "/login",
        None,
        Some("email=worker%40test.iip&password=not+it+at+all"),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("do not match an active account"));
    let unknown = send(
        &router,
        "POST",
        "/login",
        None,
        Some("email=nobody%40test.iip&password=not+it+at+all"),
    )
    .await;
    assert_eq!(
        unknown.body, wrong.body,
        "the same answer whether or not the account exists"
    );

    let form = format!(
        "email=worker%40test.iip&password={}&next=%2Fparticipants",
        support::PASSWORD.replace(' ', "+")
    );
    let login = send(&router, "POST", "/login", None, Some(&form)).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    assert_eq!(login.header("location"), "/participants");
    let set_cookie = login.header("set-cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(flag), "{set_cookie}");
    }
    let cookie = set_cookie.split(';').next().expect("cookie").to_owned();
    assert_eq!(
        send(&router, "GET", "/participants", Some(&cookie), None).await.status,
        StatusCode::OK
    );

    // Signing in again rotates the session: the old cookie stops working.
    let again = send(&router, "POST", "/login", Some(&cookie), Some(&form)).await;
    let rotated = again.header("set-cookie").split(';').next().expect("cookie").to_owned();
    assert_ne!(rotated, cookie);
    assert_eq!(
        send(&router, "GET", "/participants", Some(&cookie), None).await.status,
        StatusCode::SEE_OTHER
    );

    // Sign-out needs the session's CSRF token, then ends the session on the server.
    let token = csrf(&router, &rotated).await;
    let forged = send(&router, "POST", "/logout", Some(&rotated), Some("csrf=forged")).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let out = send(
        &router,
        "POST",
        "/logout",
        Some(&rotated),
        Some(&format!("csrf={token}")),
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let after = send(&router, "GET", "/participants", Some(&rotated), None).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.header("location"), "/login?next=%2Fparticipants");
    // Never an open redirect.
    let form = format!(
        "email=worker%40test.iip&password={}&next=%2F%2Fevil.example",
        support::PASSWORD.replace(' ', "+")
    );
    assert_eq!(
        send(&router, "POST", "/login", None, Some(&form))
            .await
            .header("location"),
        "/"
    );
}

#[tokio::test]
async fn repeated_failures_are_rate_limited_even_with_the_right_password() {
    let (router, _store, _dir) = app().await;
    for _ in 0..5 {
        let r = send(
            &router,
            "POST",
            "/login",
            None,
            Some("email=worker%40test.iip&password=wrong+password+here"),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let form = format!(
        "email=worker%40test.iip&password={}",
        support::PASSWORD.replace(' ', "+")
    );
    let blocked = send(&router, "POST", "/login", None, Some(&form)).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(blocked.header("retry-after").parse::<u64>().is_ok_and(|s| s > 0));
    // Another account is not locked by this one's failures.
    assert!(!sign_in(&router, "other@test.iip").await.is_empty());
}

#[tokio::test]
async fn idle_sessions_expire_and_disabled_accounts_lose_theirs() {
    let (router, store, _dir) = app().await;
    let user = store
        .user_by_email("worker@test.iip")
        .await
        .expect("store")
        .expect("user");
    // A session last used two hours ago (the idle limit is 30 minutes).
    let token = iip_auth::random_token().expect("random");
    let two_hours_ago = iip_web::auth::unix_now() - 7200;
    store
        .create_session(&token.hash, user.id, "c", two_hours_ago)
        .await
        .expect("session");
    let stale = format!("iip_session={}", token.secret);
    assert_eq!(
        send(&router, "GET", "/participants", Some(&stale), None).await.status,
        StatusCode::SEE_OTHER
    );

    let cookie = sign_in(&router, "worker@test.iip").await;
    store.set_user_disabled(user.id, true).await.expect("disable");
    assert_eq!(
        send(&router, "GET", "/participants", Some(&cookie), None).await.status,
        StatusCode::SEE_OTHER
    );
    let form = format!(
        "email=worker%40test.iip&password={}",
        support::PASSWORD.replace(' ', "+")
    );
    assert_eq!(
        send(&router, "POST", "/login", None, Some(&form)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_case_worker_records_a_pathway_and_the_metrics_count_it_at_once() {
    let (router, store, _dir) = app().await;
    let worker = sign_in(&router, "worker@test.iip").await;
    let token = csrf(&router, &worker).await;
    let metrics = format!("/api/metrics?scope={SCHOOL}&year=2024-25&metric=adults_served");
    let before = adults_served(&send(&router, "GET", &metrics, Some(&worker), None).await.body).expect("shown");

    // Intake with a bad field: refused with the field named, nothing stored.
    let bad = format!("csrf={token}&participant_id=web-1&first_name=Lan&date_of_birth=1990-02-30");
    let refused = send(&router, "POST", "/participants", Some(&worker), Some(&bad)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("Date of birth is not a real calendar date"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("aria-invalid=\"true\""));
    let missing = send(&router, "GET", "/participants/web-1", Some(&worker), None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let good = format!(
        "csrf={token}&participant_id=web-1&first_name=Lan&last_name=Nguyen&date_of_birth=1990-02-03&primary_language=vi&barrier_english_learner=on"
    );
    let created = send(&router, "POST", "/participants", Some(&worker), Some(&good)).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(created.header("location"), "/participants/web-1");
    let again = send(&router, "POST", "/participants", Some(&worker), Some(&good)).await;
    assert!(again.body.contains("is already used in your organization"));
    // Both intakes are on the audit log as attempts: the one that took and the refused repeat.
    let entries = |action: &'static str| {
        let store = store.clone();
        async move {
            iip_store::AuditStore::audit_events(&store, 0, u32::MAX)
                .await
                .expect("audit")
                .into_iter()
                .filter(|e| e.event.action == action && e.event.subject.ends_with("/web-1"))
                .map(|e| e.event.reason)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(entries("create").await, ["intake form", "intake form"]);

    let activity = format!("csrf={token}&program=esl&hours=12&element=english&date=2024-09-10");
    let r = send(
        &router,
        "POST",
        "/participants/web-1/activities",
        Some(&worker),
        Some(&activity),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let milestone = format!("csrf={token}&milestone=civic.voter_registered&date=2024-10-01");
    let r = send(
        &router,
        "POST",
        "/participants/web-1/milestones",
        Some(&worker),
        Some(&milestone),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        entries("change").await,
        ["pathway form: activities", "pathway form: milestones"]
    );
    let goal = format!("csrf={token}&element=economic&description=Find+work+as+a+nurse+aide&target_date=2031-01-01");
    assert_eq!(
        send(&router, "POST", "/participants/web-1/goals", Some(&worker), Some(&goal))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let future = format!("csrf={token}&milestone=civic.voter_registered&date=2099-01-01");
    let r = send(
        &router,
        "POST",
        "/participants/web-1/milestones",
        Some(&worker),
        Some(&future),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("is in the future"), "{}", r.body);

    let page = send(&router, "GET", "/participants/web-1", Some(&worker), None).await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "Lan Nguyen",
        "Registered to vote",
        "Find work as a nurse aide",
        "by 2031-01-01",
        "esl · 12.00 h",
    ] {
        assert!(page.body.contains(text), "{text} on the pathway page");
    }
    let list = send(
        &router,
        "POST",
        "/participants/search",
        Some(&worker),
        Some(&format!("csrf={token}&q=nguy")),
    )
    .await;
    assert!(list.body.contains("/participants/web-1"), "found by name");

    // The new person counts at once: one more adult served at the school.
    let after = adults_served(&send(&router, "GET", &metrics, Some(&worker), None).await.body).expect("shown");
    assert_eq!(after, before + 1);
}

#[tokio::test]
async fn nobody_reaches_another_organizations_people_by_changing_the_url() {
    let (router, _store, _dir) = app().await;
    let worker = sign_in(&router, "worker@test.iip").await;
    let token = csrf(&router, &worker).await;
    let form = format!("csrf={token}&participant_id=secret-1&first_name=Maria&last_name=Lopez");
    assert_eq!(
        send(&router, "POST", "/participants", Some(&worker), Some(&form))
            .await
            .status,
        StatusCode::SEE_OTHER
    );

    let other = sign_in(&router, "other@test.iip").await;
    let other_token = csrf(&router, &other).await;
    let page = send(&router, "GET", "/participants/secret-1", Some(&other), None).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.body.contains("Maria") && !page.body.contains("Lopez"));
    let write = format!("csrf={other_token}&milestone=civic.voter_registered&date=2024-10-01");
    let r = send(
        &router,
        "POST",
        "/participants/secret-1/milestones",
        Some(&other),
        Some(&write),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let search = send(
        &router,
        "POST",
        "/participants/search",
        Some(&other),
        Some(&format!("csrf={other_token}&q=Maria")),
    )
    .await;
    assert!(
        !search.body.contains("secret-1"),
        "search stays within the organization"
    );
    // A form naming another organization is refused, and nothing is created anywhere.
    let sneaky = format!("csrf={other_token}&participant_id=mine-1&org_id={SCHOOL}");
    let refused = send(&router, "POST", "/participants", Some(&other), Some(&sneaky)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("is set by the server"), "{}", refused.body);
    assert_eq!(
        send(&router, "GET", "/participants/mine-1", Some(&other), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&router, "GET", "/participants/mine-1", Some(&worker), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Analysts see aggregates, not people.
    let analyst = sign_in(&router, "consortium@test.iip").await;
    assert_eq!(
        send(&router, "GET", "/participants", Some(&analyst), None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&router, "GET", "/participants/secret-1", Some(&analyst), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn aggregates_are_limited_to_the_users_scope() {
    let (router, _store, _dir) = app().await;
    let analyst = sign_in(&router, "consortium@test.iip").await;
    let mine = send(&router, "GET", "/api/metrics?year=2024-25", Some(&analyst), None).await;
    assert_eq!(mine.status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&mine.body).expect("json");
    let scopes: std::collections::BTreeSet<&str> = json["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["scope_id"].as_str())
        .collect();
    assert!(scopes.contains("south-bay") && scopes.contains(SCHOOL));
    assert!(scopes.iter().all(|s| s.starts_with("south-bay")), "{scopes:?}");
    for uri in [
        "/api/metrics?scope=north-bay",
        "/api/metrics?scope=sector:public",
        "/?scope=north-bay",
        "/metrics?scope=ca",
    ] {
        assert_eq!(
            send(&router, "GET", uri, Some(&analyst), None).await.status,
            StatusCode::FORBIDDEN,
            "{uri}"
        );
    }
    let dashboard = send(&router, "GET", "/", Some(&analyst), None).await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(dashboard.body.contains("South Bay Consortium") && !dashboard.body.contains("North Bay"));
    let state = sign_in(&router, "state@test.iip").await;
    assert_eq!(
        send(&router, "GET", "/api/metrics?scope=sector:public", Some(&state), None)
            .await
            .status,
        StatusCode::OK
    );
    // Signed out, nothing but the public pages.
    for uri in ["/", "/metrics", "/participants"] {
        assert_eq!(
            send(&router, "GET", uri, None, None).await.status,
            StatusCode::SEE_OTHER,
            "{uri}"
        );
    }
    assert_eq!(
        send(&router, "GET", "/api/metrics", None, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&router, "GET", "/framework", None, None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn cross_site_form_posts_are_refused() {
    let (router, _store, _dir) = app().await;
    let worker = sign_in(&router, "worker@test.iip").await;
    let token = csrf(&router, &worker).await;
    let request = axum::http::Request::post("/participants")
        .header("cookie", &worker)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://evil.example")
        .body(axum::body::Body::from(format!("csrf={token}&participant_id=x-1")))
        .expect("request");
    let response = tower::ServiceExt::oneshot(router.clone(), request)
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let no_token = send(
        &router,
        "POST",
        "/participants",
        Some(&worker),
        Some("participant_id=x-2"),
    )
    .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    assert_eq!(
        send(&router, "GET", "/participants/x-2", Some(&worker), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// A sign-in through a proxy: `X-Forwarded-For` as the proxy sends it.
async fn login_via_proxy(router: &axum::Router, forwarded_for: &str, email: &str, password: &str) -> StatusCode {
    use tower::ServiceExt;
    let form = format!(
        "email={}&password={}",
        email.replace('@', "%40"),
        password.replace(' ', "+")
    );
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-forwarded-for", forwarded_for)
        .body(axum::body::Body::from(form))
        .expect("request");
    router.clone().oneshot(request).await.expect("response").status()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_is_limited_on_its_own_and_cannot_choose_its_address() {
    for trusted in [false, true] {
        let (state, store, _dir) = support::state(0).await;
        add_user(&store, "worker@test.iip", "case_worker", SCHOOL).await;
        let auth = iip_web::auth::AuthConfig {
            trust_forwarded_for: trusted,
            ..Default::default()
        };
        let router = router(state.with_auth(auth));
        // 20 failures from one client (each on a different account, so only the address
        // limit can trip), whatever it writes in front of the proxy's entry.
        for n in 0..20 {
            let spoofed = format!("198.51.100.{n}, 203.0.113.7");
            let status = login_via_proxy(&router, &spoofed, &format!("nobody{n}@test.iip"), "wrong").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        let same_client = login_via_proxy(&router, "203.0.113.7", "worker@test.iip", support::PASSWORD).await;
        assert_eq!(same_client, StatusCode::TOO_MANY_REQUESTS, "trusted={trusted}");
        let other_client = login_via_proxy(&router, "203.0.113.8", "worker@test.iip", support::PASSWORD).await;
        if trusted {
            assert_eq!(
                other_client,
                StatusCode::SEE_OTHER,
                "another client behind the proxy signs in"
            );
        } else {
            assert_eq!(
                other_client,
                StatusCode::TOO_MANY_REQUESTS,
                "untrusted, the header is ignored: one address for everyone"
            );
        }
    }
}
