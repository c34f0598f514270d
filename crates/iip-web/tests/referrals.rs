//! Closed-loop referrals and the directory through the real router: a case worker refers a
//! participant to a partner's service under the participant's consent; the partner answers
//! through the HL7 SDOH states; the outcome lands on the pathway; the receiver sees who was
//! referred only while consent and a data-sharing agreement are in force.

mod support;

use axum::http::StatusCode;
use iip_directory::{NewReferral, ReferralStatus};
use iip_domain::Id;
use iip_store::{CaseStore, DirectoryStore};
use iip_web::router;
use support::{add_user, csrf, send, sign_in};

const SCHOOL: &str = "south-bay-adult-school";

/// The number of the newest referral linked from a page.
fn newest_referral(body: &str) -> i64 {
    body.split("/referrals/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter_map(|id| id.parse::<i64>().ok())
        .max()
        .expect("a referral link")
}

#[tokio::test]
async fn a_referral_runs_the_whole_loop_and_its_outcome_lands_on_the_pathway() {
    let (state, store, _dir) = support::state_with_directory(300).await;
    add_user(&store, "owner@test.iip", "case_worker", SCHOOL).await;
    add_user(&store, "cbo@test.iip", "case_worker", "south-bay-cbo").await;
    add_user(&store, "library@test.iip", "case_worker", "south-bay-library").await;
    add_user(&store, "other@test.iip", "case_worker", "north-bay-cbo").await;
    let router = router(state);
    let owner = sign_in(&router, "owner@test.iip").await;
    let token = csrf(&router, &owner).await;
    let intake = format!("csrf={token}&participant_id=r-1&first_name=Amina&last_name=Yusuf");
    assert_eq!(
        send(&router, "POST", "/participants", Some(&owner), Some(&intake))
            .await
            .status,
        StatusCode::SEE_OTHER
    );

    // No consent to share with the partner yet: refused, with the reason on the form.
    let refer = format!("csrf={token}&service_id=south-bay-cbo-citizenship&element=credentials&note=N-400+help");
    let r = send(
        &router,
        "POST",
        "/participants/r-1/referrals",
        Some(&owner),
        Some(&refer),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("needs the participant&#x27;s active consent")
            || r.body.contains("needs the participant's active consent"),
        "{}",
        r.body
    );
    // A service of one's own organization, or none, is no referral.
    let own = format!("csrf={token}&service_id=south-bay-adult-school-esl");
    assert_eq!(
        send(&router, "POST", "/participants/r-1/referrals", Some(&owner), Some(&own))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    for partner in ["south-bay-cbo", "south-bay-library"] {
        let consent = format!("csrf={token}&partner_org_id={partner}&purpose=referral&valid_from=2024-01-01");
        let r = send(
            &router,
            "POST",
            "/participants/r-1/consents",
            Some(&owner),
            Some(&consent),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let r = send(
        &router,
        "POST",
        "/participants/r-1/referrals",
        Some(&owner),
        Some(&refer),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // The owner is told which consent shares nothing (the library's agreement has ended).
    let consents = send(&router, "GET", "/participants/r-1", Some(&owner), None).await;
    assert_eq!(
        consents.body.matches("not shared: no data-sharing agreement").count(),
        1
    );
    let pathway = send(&router, "GET", "/participants/r-1", Some(&owner), None).await;
    let id = newest_referral(&pathway.body);
    assert!(pathway.body.contains("Requested"));

    // The receiver sees who is referred (consent + data-sharing agreement in force).
    let cbo = sign_in(&router, "cbo@test.iip").await;
    let cbo_token = csrf(&router, &cbo).await;
    let inbox = send(&router, "GET", "/referrals", Some(&cbo), None).await;
    assert!(
        inbox.body.contains(&format!("/referrals/{id}")) && inbox.body.contains("r-1"),
        "{}",
        inbox.body
    );
    let page = send(&router, "GET", &format!("/referrals/{id}"), Some(&cbo), None).await;
    assert!(
        page.body.contains("N-400 help") && page.body.contains("/shared/south-bay-adult-school/r-1"),
        "{}",
        page.body
    );

    let step = |cookie: String, form: String| {
        let router = router.clone();
        async move {
            send(
                &router,
                "POST",
                &format!("/referrals/{id}/status"),
                Some(&cookie),
                Some(&form),
            )
            .await
        }
    };
    // Wrong side, wrong order, missing reason: refused and nothing changes.
    for (cookie, form) in [
        (owner.clone(), format!("csrf={token}&status=accepted")),
        (cbo.clone(), format!("csrf={cbo_token}&status=cancelled&reason=x")),
        (cbo.clone(), format!("csrf={cbo_token}&status=completed")),
        (cbo.clone(), format!("csrf={cbo_token}&status=rejected&reason=+")),
        (cbo.clone(), format!("csrf={cbo_token}&status=nonsense")),
    ] {
        assert_eq!(step(cookie, form).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let stored = store.referral(id).await.expect("store").expect("referral");
    assert_eq!(stored.status, ReferralStatus::Requested);
    assert_eq!(stored.events.len(), 1);

    for form in [
        format!("csrf={cbo_token}&status=accepted"),
        format!("csrf={cbo_token}&status=in_progress&reason=First+appointment+booked"),
        format!("csrf={cbo_token}&status=completed&milestone=credentials.naturalized"),
    ] {
        let r = step(cbo.clone(), form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let stored = store.referral(id).await.expect("store").expect("referral");
    assert_eq!(stored.status, ReferralStatus::Completed);
    assert_eq!(stored.outcome_milestone.as_deref(), Some("credentials.naturalized"));
    let states: Vec<_> = stored.events.iter().map(|e| e.status).collect();
    assert_eq!(
        states,
        [
            ReferralStatus::Requested,
            ReferralStatus::Accepted,
            ReferralStatus::InProgress,
            ReferralStatus::Completed
        ]
    );
    assert!(
        stored
            .events
            .iter()
            .skip(1)
            .all(|e| e.by_org_id == "south-bay-cbo" && e.by_user.is_some())
    );
    assert_eq!(stored.events[2].reason.as_deref(), Some("First appointment booked"));
    // A finished referral takes no further step.
    assert_eq!(
        step(cbo.clone(), format!("csrf={cbo_token}&status=failed&reason=late"))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // The outcome is a milestone on the sender's record, shown on both organizations' views.
    let record = store
        .participant_record(SCHOOL, "r-1")
        .await
        .expect("store")
        .expect("record");
    let pathway = store.pathway(record.row).await.expect("pathway");
    assert!(
        pathway
            .milestones
            .iter()
            .any(|m| m.milestone == "credentials.naturalized")
    );
    let owner_view = send(&router, "GET", "/participants/r-1", Some(&owner), None).await;
    assert!(owner_view.body.contains("Completed") && owner_view.body.contains("outcome credentials.naturalized"));
    let shared_view = send(&router, "GET", "/shared/south-bay-adult-school/r-1", Some(&cbo), None).await;
    assert_eq!(shared_view.status, StatusCode::OK);
    assert!(shared_view.body.contains(&format!("/referrals/{id}")) && shared_view.body.contains("Completed"));

    // A third organization does not even learn the referral exists.
    let other = sign_in(&router, "other@test.iip").await;
    assert_eq!(
        send(&router, "GET", &format!("/referrals/{id}"), Some(&other), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // The library's data-sharing agreement ended in June 2024: consent alone shares nothing.
    let to_library = format!("csrf={token}&service_id=south-bay-library-digital&element=navigation&note=Phone+setup");
    assert_eq!(
        send(
            &router,
            "POST",
            "/participants/r-1/referrals",
            Some(&owner),
            Some(&to_library)
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    let library = sign_in(&router, "library@test.iip").await;
    let inbox = send(&router, "GET", "/referrals", Some(&library), None).await;
    assert!(
        inbox.body.contains("withheld (no active consent)") && !inbox.body.contains("r-1"),
        "{}",
        inbox.body
    );
    let library_id = newest_referral(&inbox.body);
    let page = send(
        &router,
        "GET",
        &format!("/referrals/{library_id}"),
        Some(&library),
        None,
    )
    .await;
    assert!(!page.body.contains("Phone setup") && !page.body.contains("r-1"));
    assert_eq!(
        send(
            &router,
            "GET",
            "/shared/south-bay-adult-school/r-1",
            Some(&library),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn unanswered_referrals_are_flagged_after_the_configured_days() {
    let (state, store, _dir) = support::state_with_directory(300).await;
    add_user(&store, "cbo@test.iip", "case_worker", "south-bay-cbo").await;
    let person = store.search_participants(SCHOOL, "", 1).await.expect("search");
    let participant = &person.first().expect("a participant").participant_id;
    let now = iip_web::auth::unix_now();
    for days_ago in [3, 10] {
        let referral = NewReferral {
            from_org_id: Id::parse(SCHOOL).expect("id"),
            participant_id: Id::parse(participant).expect("id"),
            to_org_id: Id::parse("south-bay-cbo").expect("id"),
            service_id: Some(Id::parse("south-bay-cbo-benefits").expect("id")),
            element: "navigation".into(),
            note: None,
            by_user: 1,
            at: now - days_ago * 86_400,
        };
        store.create_referral(&referral).await.expect("store").expect("created");
    }
    let router = router(state.with_referral_flag_days(5));
    let cbo = sign_in(&router, "cbo@test.iip").await;
    let inbox = send(&router, "GET", "/referrals", Some(&cbo), None).await;
    assert_eq!(inbox.body.matches("class=\"flagged\"").count(), 1, "{}", inbox.body);
    assert!(
        inbox
            .body
            .contains("1 referral to your organization is waiting for an answer for more than 5 days")
    );
}

#[tokio::test]
async fn the_directory_searches_by_element_language_area_and_eligibility() {
    let (state, store, _dir) = support::state_with_directory(300).await;
    add_user(&store, "analyst@test.iip", "consortium_analyst", "south-bay").await;
    let router = router(state);
    let analyst = sign_in(&router, "analyst@test.iip").await;
    let page = send(
        &router,
        "GET",
        "/directory?element=health&language=es",
        Some(&analyst),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Health coverage enrollment assistance"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Welcome circles"));
    let tagalog_health = send(
        &router,
        "GET",
        "/api/services?element=health&language=tl",
        Some(&analyst),
        None,
    )
    .await;
    assert_eq!(tagalog_health.status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&tagalog_health.body).expect("json");
    assert_eq!(
        json["services"].as_array().map(Vec::len),
        Some(0),
        "the planted gap: no Tagalog health service"
    );
    let area = send(
        &router,
        "GET",
        "/api/services?area=Santa+Clara&regardless_of_status=true",
        Some(&analyst),
        None,
    )
    .await;
    let json: serde_json::Value = serde_json::from_str(&area.body).expect("json");
    let services = json["services"].as_array().expect("services");
    assert!(!services.is_empty());
    assert!(services.iter().all(|s| s["regardless_of_status"] == true));
    // The analyst sees the consortium's agreements, the ended one marked so.
    assert!(page.body.contains("south-bay-share-library") && page.body.contains("ended"));
    for bad in [
        "/api/services?element=nope",
        "/api/services?language=Tagalog",
        "/api/services?free=maybe",
        "/api/services?element=+health",
        "/api/services?free=true+",
    ] {
        let r = send(&router, "GET", bad, Some(&analyst), None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.body.contains("error"));
    }
    assert_eq!(
        send(&router, "GET", "/api/services", None, None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn completed_referrals_count_in_the_referral_metrics_of_both_sides() {
    let (state, store, _dir) = support::state_with_directory(300).await;
    add_user(&store, "owner@test.iip", "case_worker", SCHOOL).await;
    add_user(&store, "cbo@test.iip", "case_worker", "south-bay-cbo").await;
    add_user(&store, "state@test.iip", "state_analyst", "ca").await;
    let people = store.search_participants(SCHOOL, "", 14).await.expect("search");
    assert_eq!(people.len(), 14);
    let now = iip_web::auth::unix_now();
    let day = 86_400;
    // 14 referrals: 12 accepted after 2 days and completed after 10, 2 left requested.
    for (i, person) in people.iter().enumerate() {
        let referral = NewReferral {
            from_org_id: Id::parse(SCHOOL).expect("id"),
            participant_id: Id::parse(&person.participant_id).expect("id"),
            to_org_id: Id::parse("south-bay-cbo").expect("id"),
            service_id: Some(Id::parse("south-bay-cbo-citizenship").expect("id")),
            element: "credentials".into(),
            note: None,
            by_user: 1,
            at: now - 30 * day,
        };
        let id = store.create_referral(&referral).await.expect("store").expect("created");
        if i < 12 {
            let mut from = ReferralStatus::Requested;
            for (status, after) in [(ReferralStatus::Accepted, 2), (ReferralStatus::Completed, 10)] {
                let event = iip_directory::ReferralEvent {
                    status,
                    at: now - 30 * day + after * day,
                    by_user: None,
                    by_org_id: "south-bay-cbo".into(),
                    reason: None,
                };
                assert!(store.change_referral(id, from, &event, None).await.expect("store"));
                from = status;
            }
        }
    }
    let year = iip_domain::ProgramYear::containing(iip_domain::Date::today()).to_string();
    let router = router(state);
    for email in ["owner@test.iip", "cbo@test.iip", "state@test.iip"] {
        let cookie = sign_in(&router, email).await;
        let r = send(
            &router,
            "GET",
            &format!("/api/referrals/metrics?year={year}"),
            Some(&cookie),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let json: serde_json::Value = serde_json::from_str(&r.body).expect("json");
        let overall = &json["rows"][0];
        assert_eq!(overall["group"], "all", "{overall}");
        assert_eq!(
            (
                overall["sent"].as_u64(),
                overall["accepted"].as_u64(),
                overall["completed"].as_u64()
            ),
            (Some(14), Some(12), Some(12)),
            "{email}: {overall}"
        );
        assert_eq!(overall["median_days_to_acceptance"].as_f64(), Some(2.0));
        assert_eq!(overall["median_days_to_completion"].as_f64(), Some(10.0));
        let page = send(
            &router,
            "GET",
            &format!("/referrals/metrics?year={year}"),
            Some(&cookie),
            None,
        )
        .await;
        assert!(
            page.body.contains("<td>14</td>") && page.body.contains("<td>12</td>"),
            "{}",
            page.body
        );
    }
    // A year without referrals shows zeros, and a bad year is refused.
    let state_analyst = sign_in(&router, "state@test.iip").await;
    let empty = send(
        &router,
        "GET",
        "/api/referrals/metrics?year=2001-02",
        Some(&state_analyst),
        None,
    )
    .await;
    let json: serde_json::Value = serde_json::from_str(&empty.body).expect("json");
    assert_eq!(json["rows"][0]["sent"].as_u64(), Some(0));
    let bad = send(
        &router,
        "GET",
        "/api/referrals/metrics?year=next",
        Some(&state_analyst),
        None,
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
