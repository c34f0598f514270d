//! Consent to share through the real router: a partner's case worker sees a participant's
//! record only under an active consent naming their organization, read only, and loses it the
//! moment the consent ends or is revoked.

mod support;

use axum::http::StatusCode;
use iip_store::{AuditStore, CaseStore};
use iip_web::router;
use support::{add_user, csrf, send, sign_in};

#[tokio::test]
async fn a_partner_sees_a_record_only_while_the_participant_consents() {
    let (state, store, _dir) = support::state(300).await;
    add_user(&store, "owner@test.iip", "case_worker", "south-bay-adult-school").await;
    add_user(&store, "partner@test.iip", "case_worker", "south-bay-cbo").await;
    add_user(&store, "third@test.iip", "case_worker", "north-bay-cbo").await;
    let router = router(state);
    let owner = sign_in(&router, "owner@test.iip").await;
    let token = csrf(&router, &owner).await;
    let intake = format!("csrf={token}&participant_id=c-1&first_name=Amina&last_name=Yusuf");
    assert_eq!(
        send(&router, "POST", "/participants", Some(&owner), Some(&intake))
            .await
            .status,
        StatusCode::SEE_OTHER
    );

    let partner = sign_in(&router, "partner@test.iip").await;
    let shared = "/shared/south-bay-adult-school/c-1";
    assert_eq!(
        send(&router, "GET", shared, Some(&partner), None).await.status,
        StatusCode::NOT_FOUND,
        "no consent yet"
    );

    // A consent that ended yesterday, one for another partner, one not yet begun: none opens it.
    for (partner_org, from, to) in [
        ("south-bay-cbo", "2020-01-01", "2021-01-01"),
        ("north-bay-adult-school", "2020-01-01", ""),
        ("south-bay-cbo", "2099-01-01", ""),
    ] {
        let form =
            format!("csrf={token}&partner_org_id={partner_org}&purpose=referral&valid_from={from}&valid_to={to}");
        let r = send(&router, "POST", "/participants/c-1/consents", Some(&owner), Some(&form)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    assert_eq!(
        send(&router, "GET", shared, Some(&partner), None).await.status,
        StatusCode::NOT_FOUND
    );

    let bad = format!("csrf={token}&partner_org_id=nowhere&purpose=&valid_to=2000-01-01");
    let r = send(&router, "POST", "/participants/c-1/consents", Some(&owner), Some(&bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("partner org id is not a partner organization"),
        "{}",
        r.body
    );

    let form =
        format!("csrf={token}&partner_org_id=south-bay-cbo&purpose=health+insurance+referral&valid_from=2024-01-01");
    assert_eq!(
        send(&router, "POST", "/participants/c-1/consents", Some(&owner), Some(&form))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let page = send(&router, "GET", shared, Some(&partner), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Amina Yusuf") && page.body.contains("health insurance referral"));
    assert!(
        page.body.contains("Read only") && !page.body.contains("Record milestone"),
        "no forms for a partner"
    );
    let list = send(&router, "GET", "/shared", Some(&partner), None).await;
    assert!(list.body.contains("/shared/south-bay-adult-school/c-1"));
    // The partner cannot write to it, nor reach it through their own organization's pages.
    let partner_token = csrf(&router, &partner).await;
    let write = format!("csrf={partner_token}&milestone=civic.volunteered&date=2024-10-01");
    assert_eq!(
        send(
            &router,
            "POST",
            "/participants/c-1/milestones",
            Some(&partner),
            Some(&write)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&router, "GET", "/participants/c-1", Some(&partner), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // A third organization, named by no consent, sees nothing.
    let third = sign_in(&router, "third@test.iip").await;
    assert_eq!(
        send(&router, "GET", shared, Some(&third), None).await.status,
        StatusCode::NOT_FOUND
    );

    // Revoked: gone at once.
    let owner_page = send(&router, "GET", "/participants/c-1", Some(&owner), None).await;
    let consent_id = owner_page
        .body
        .split("/consents/")
        .filter_map(|rest| rest.split('/').next())
        .filter_map(|id| id.parse::<i64>().ok())
        .max()
        .expect("a revocable consent");
    let r = send(
        &router,
        "POST",
        &format!("/participants/c-1/consents/{consent_id}/revoke"),
        Some(&owner),
        Some(&format!("csrf={token}")),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        send(&router, "GET", shared, Some(&partner), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        !send(&router, "GET", "/shared", Some(&partner), None)
            .await
            .body
            .contains("c-1")
    );

    // The partner's read is in the audit log with the consent that allowed it.
    let events = store.audit_events(0, 1000).await.expect("audit");
    assert!(events.iter().any(|e| e.event.org_id == "south-bay-cbo"
        && e.event.action == "read"
        && e.event.subject == "participant:south-bay-adult-school/c-1"
        && e.event.reason == format!("shared record: consent {consent_id}")));
}

#[tokio::test]
async fn a_consents_scope_decides_what_the_partner_sees() {
    let (state, store, _dir) = support::state(300).await;
    add_user(&store, "owner@test.iip", "case_worker", "south-bay-adult-school").await;
    add_user(&store, "cbo@test.iip", "case_worker", "south-bay-cbo").await;
    add_user(&store, "college@test.iip", "case_worker", "south-bay-college").await;
    let router = router(state);
    let owner = sign_in(&router, "owner@test.iip").await;
    let token = csrf(&router, &owner).await;
    let intake = format!("csrf={token}&participant_id=s-1&first_name=Layla&last_name=Haddad");
    assert_eq!(
        send(&router, "POST", "/participants", Some(&owner), Some(&intake))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let need = format!("csrf={token}&element=health&description=Needs+a+clinic+near+home");
    assert_eq!(
        send(&router, "POST", "/participants/s-1/needs", Some(&owner), Some(&need))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // The pathway without the name for the community organization; referrals only for the
    // college (both have a data-sharing agreement in force with the school).
    for (partner, scope) in [("south-bay-cbo", "pathway"), ("south-bay-college", "referrals")] {
        let form =
            format!("csrf={token}&partner_org_id={partner}&purpose=referral&scope={scope}&valid_from=2024-01-01");
        let r = send(&router, "POST", "/participants/s-1/consents", Some(&owner), Some(&form)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let bad = format!("csrf={token}&partner_org_id=south-bay-cbo&purpose=x&scope=everything");
    assert_eq!(
        send(&router, "POST", "/participants/s-1/consents", Some(&owner), Some(&bad))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let shared = "/shared/south-bay-adult-school/s-1";
    let cbo = sign_in(&router, "cbo@test.iip").await;
    let page = send(&router, "GET", shared, Some(&cbo), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Needs a clinic near home"), "the pathway is shared");
    assert!(
        !page.body.contains("Layla") && !page.body.contains("Haddad"),
        "the name is not"
    );
    assert!(page.body.contains("Name withheld"));
    let college = sign_in(&router, "college@test.iip").await;
    assert_eq!(
        send(&router, "GET", shared, Some(&college), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        !send(&router, "GET", "/shared", Some(&college), None)
            .await
            .body
            .contains("s-1")
    );
    // The owner sees each consent's scope.
    let owner_page = send(&router, "GET", "/participants/s-1", Some(&owner), None).await;
    assert!(
        owner_page.body.contains("the pathway, without the name")
            && owner_page.body.contains("referrals to the partner only")
    );
    let consents = store
        .consents(
            store
                .participant_record("south-bay-adult-school", "s-1")
                .await
                .expect("store")
                .expect("record")
                .row,
        )
        .await
        .expect("consents");
    assert_eq!(
        consents.iter().map(|c| c.scope).collect::<Vec<_>>(),
        [iip_store::ConsentScope::Pathway, iip_store::ConsentScope::Referrals]
    );
}
