//! Account administration through the real router: invitations, welcome links, limits on
//! what an organization admin may do, disabling.

mod support;

use axum::http::StatusCode;
use iip_web::router;
use support::{add_user, csrf, send, sign_in};

#[tokio::test]
async fn an_admin_invites_a_colleague_who_chooses_a_password_and_signs_in() {
    let (state, store, _dir) = support::state(300).await;
    add_user(&store, "admin@test.iip", "org_admin", "south-bay-adult-school").await;
    add_user(&store, "worker@test.iip", "case_worker", "south-bay-adult-school").await;
    let router = router(state);
    let admin = sign_in(&router, "admin@test.iip").await;
    let token = csrf(&router, &admin).await;
    let page = send(&router, "GET", "/admin/users", Some(&admin), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("worker@test.iip"));
    assert!(
        !page.body.contains("value=\"system_admin\""),
        "an organization admin cannot make system admins"
    );

    // Limits: another organization, a role above theirs.
    for (form, field) in [
        (
            "email=x%40test.iip&name=X&role=case_worker&org_id=north-bay-adult-school",
            "Organization is not an organization you manage",
        ),
        (
            "email=x%40test.iip&name=X&role=system_admin&org_id=south-bay-adult-school",
            "Role is not a role you may give",
        ),
        (
            "email=not-an-email&name=X&role=case_worker&org_id=south-bay-adult-school",
            "Email is not an email address",
        ),
    ] {
        let r = send(
            &router,
            "POST",
            "/admin/users",
            Some(&admin),
            Some(&format!("csrf={token}&{form}")),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{form}");
        assert!(r.body.contains(field), "{field}");
    }

    let form =
        format!("csrf={token}&email=new%40test.iip&name=New+Colleague&role=case_worker&org_id=south-bay-adult-school");
    let created = send(&router, "POST", "/admin/users", Some(&admin), Some(&form)).await;
    assert_eq!(created.status, StatusCode::OK);
    let link = created
        .body
        .replace("&#x2f;", "/")
        .split("/welcome/")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("a welcome link")
        .to_owned();
    let again = send(&router, "POST", "/admin/users", Some(&admin), Some(&form)).await;
    assert!(again.body.contains("already has an account"));

    let welcome = send(&router, "GET", &format!("/welcome/{link}"), None, None).await;
    assert_eq!(welcome.status, StatusCode::OK);
    assert!(welcome.body.contains("Welcome, new@test.iip"));
    let mismatch = send(
        &router,
        "POST",
        &format!("/welcome/{link}"),
        None,
        Some("password=a+long+password+1&confirm=a+long+password+2"),
    )
    .await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    let short = send(
        &router,
        "POST",
        &format!("/welcome/{link}"),
        None,
        Some("password=short&confirm=short"),
    )
    .await;
    assert!(short.body.contains("at least 12 characters"));
    let chosen = format!("password={0}&confirm={0}", support::PASSWORD.replace(' ', "+"));
    let set = send(&router, "POST", &format!("/welcome/{link}"), None, Some(&chosen)).await;
    assert_eq!(set.status, StatusCode::SEE_OTHER);
    assert_eq!(set.header("location"), "/login");
    let colleague = sign_in(&router, "new@test.iip").await;
    assert_eq!(
        send(&router, "GET", "/participants", Some(&colleague), None)
            .await
            .status,
        StatusCode::OK
    );
    // Once only.
    assert_eq!(
        send(&router, "GET", &format!("/welcome/{link}"), None, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&router, "POST", &format!("/welcome/{link}"), None, Some(&chosen))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Disabling ends the colleague's session at once.
    let listing = send(&router, "GET", "/admin/users", Some(&admin), None).await;
    let id = listing
        .body
        .split("/admin/users/")
        .filter_map(|rest| rest.split('/').next())
        .filter_map(|id| id.parse::<i64>().ok())
        .max()
        .expect("a disable form");
    let r = send(
        &router,
        "POST",
        &format!("/admin/users/{id}/disable"),
        Some(&admin),
        Some(&format!("csrf={token}")),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        send(&router, "GET", "/participants", Some(&colleague), None)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn only_administrators_manage_accounts_and_only_within_reach() {
    let (state, store, _dir) = support::state(300).await;
    add_user(&store, "admin@test.iip", "org_admin", "south-bay-adult-school").await;
    add_user(&store, "other@test.iip", "case_worker", "north-bay-adult-school").await;
    add_user(&store, "worker@test.iip", "case_worker", "south-bay-adult-school").await;
    add_user(&store, "root@test.iip", "system_admin", "ca").await;
    let router = router(state);
    let worker = sign_in(&router, "worker@test.iip").await;
    assert_eq!(
        send(&router, "GET", "/admin/users", Some(&worker), None).await.status,
        StatusCode::FORBIDDEN
    );
    let admin = sign_in(&router, "admin@test.iip").await;
    let page = send(&router, "GET", "/admin/users", Some(&admin), None).await;
    assert!(
        !page.body.contains("other@test.iip"),
        "another organization's accounts are not listed"
    );
    let token = csrf(&router, &admin).await;
    let other = iip_store::AccountStore::user_by_email(&store, "other@test.iip")
        .await
        .expect("store")
        .expect("user");
    let r = send(
        &router,
        "POST",
        &format!("/admin/users/{}/disable", other.id),
        Some(&admin),
        Some(&format!("csrf={token}")),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "another organization's account is out of reach"
    );
    let root = sign_in(&router, "root@test.iip").await;
    let all = send(&router, "GET", "/admin/users", Some(&root), None).await;
    assert!(all.body.contains("other@test.iip") && all.body.contains("value=\"system_admin\""));
}

/// A bearer token's account is remembered for a second (`BEARER_TOKEN_FRESH`); disabling the
/// account through this server must not wait for that.
#[tokio::test]
async fn disabling_an_account_here_stops_its_bearer_token_at_once() {
    use axum::body::Body;
    use axum::http::Request;
    use iip_store::AccountStore;
    use tower::ServiceExt;

    let (state, store, _dir) = support::state(300).await;
    add_user(&store, "admin@test.iip", "org_admin", "south-bay-adult-school").await;
    add_user(&store, "worker@test.iip", "case_worker", "south-bay-adult-school").await;
    let worker = store
        .user_by_email("worker@test.iip")
        .await
        .expect("store")
        .expect("user");
    let token = iip_auth::random_token().expect("random");
    store
        .create_api_token(&token.hash, worker.id, "integration", 0, i64::MAX)
        .await
        .expect("token");
    let router = router(state);
    let api = |router: axum::Router| {
        let bearer = format!("Bearer {}", token.secret);
        async move {
            let request = Request::builder()
                .uri("/api/participants")
                .header("authorization", bearer)
                .body(Body::empty())
                .expect("request");
            router.oneshot(request).await.expect("response").status()
        }
    };
    assert_eq!(
        api(router.clone()).await,
        StatusCode::OK,
        "the token works (and is remembered)"
    );
    let admin = sign_in(&router, "admin@test.iip").await;
    let csrf_token = csrf(&router, &admin).await;
    let r = send(
        &router,
        "POST",
        &format!("/admin/users/{}/disable", worker.id),
        Some(&admin),
        Some(&format!("csrf={csrf_token}")),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        api(router.clone()).await,
        StatusCode::UNAUTHORIZED,
        "refused on the very next request, within the second the token was remembered"
    );
}
