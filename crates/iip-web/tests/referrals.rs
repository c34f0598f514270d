//! Closed-loop referrals and the directory through the real router: a case worker refers a
//! participant to a partner's service under the participant's consent; the partner answers
//! through the HL7 SDOH states; the outcome lands on the pathway; the receiver sees who was
//! referred only while consent and a data-sharing agreement are in force.

mod support;

use axum::http::StatusCode;
use iip_directory::{NewReferral, ReferralEvent, ReferralStatus};
use iip_domain::{Date, Id, ProgramYear};
use iip_store::{CaseStore, DirectoryStore, Store};
use iip_web::router;
use support::{add_user, csrf, send, sign_in};

const SCHOOL: &str = "south-bay-adult-school";
const CBO: &str = "south-bay-cbo";

/// The program year of today, where the web flow's referrals and outcome milestones land.
fn this_year() -> String {
    ProgramYear::containing(Date::today()).to_string()
}

/// Sent, accepted and completed of all referrals a user's figures cover this year.
async fn referral_counts(router: &axum::Router, cookie: &str) -> (Option<u64>, Option<u64>, Option<u64>) {
    let r = send(
        router,
        "GET",
        &format!("/api/referrals/metrics?year={}", this_year()),
        Some(cookie),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let json: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    let overall = &json["rows"][0];
    assert_eq!(overall["group"], "all", "{overall}");
    (
        overall["sent"].as_u64(),
        overall["accepted"].as_u64(),
        overall["completed"].as_u64(),
    )
}

/// `(numerator, denominator)` of one metric at one scope this year, as `/api/metrics` gives it.
async fn metric_at(router: &axum::Router, cookie: &str, scope: &str, metric: &str) -> (Option<u64>, Option<u64>) {
    let r = send(
        router,
        "GET",
        &format!("/api/metrics?year={}&metric={metric}", this_year()),
        Some(cookie),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let json: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    let row = json["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["scope_id"] == scope && r["metric"] == metric)
        .cloned()
        .unwrap_or_else(|| panic!("{scope} {metric} in {}", r.body));
    (row["numerator"].as_u64(), row["denominator"].as_u64())
}

/// A referral from the school to the partner, recorded directly in the store.
async fn stored_referral(store: &iip_store_sqlite::SqliteStore, participant: &str, at: i64) -> i64 {
    let referral = NewReferral {
        from_org_id: Id::parse(SCHOOL).expect("id"),
        participant_id: Id::parse(participant).expect("id"),
        to_org_id: Id::parse(CBO).expect("id"),
        service_id: Some(Id::parse("south-bay-cbo-citizenship").expect("id")),
        element: "credentials".into(),
        note: None,
        by_user: 1,
        at,
    };
    store.create_referral(&referral).await.expect("store").expect("created")
}

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
    add_user(&store, "cbo@test.iip", "case_worker", CBO).await;
    add_user(&store, "library@test.iip", "case_worker", "south-bay-library").await;
    add_user(&store, "other@test.iip", "case_worker", "north-bay-cbo").await;
    add_user(&store, "state@test.iip", "state_analyst", "ca").await;
    // Enough this year that no figure below is withheld: 12 of the school's participants with
    // 12 hours and a credentials milestone, and 12 referrals to the partner, completed.
    let people = store.search_participants(SCHOOL, "", 12).await.expect("search");
    assert_eq!(people.len(), 12);
    let now = iip_web::auth::unix_now();
    for person in &people {
        let id = stored_referral(&store, &person.participant_id, now - 3_600).await;
        let mut from = ReferralStatus::Requested;
        for (status, at) in [
            (ReferralStatus::Accepted, now - 1_800),
            (ReferralStatus::Completed, now - 600),
        ] {
            let event = ReferralEvent {
                status,
                at,
                by_user: None,
                by_org_id: CBO.into(),
                reason: Some("Seen".into()),
            };
            assert!(store.change_referral(id, from, &event, None).await.expect("store"));
            from = status;
        }
    }
    let router = router(state);
    let owner = sign_in(&router, "owner@test.iip").await;
    let token = csrf(&router, &owner).await;
    let today = Date::today();
    for person in &people {
        let pid = &person.participant_id;
        for (what, form) in [
            (
                "activities",
                format!("csrf={token}&program=esl&hours=12&element=english&date={today}"),
            ),
            (
                "milestones",
                format!("csrf={token}&milestone=credentials.work_authorization&date={today}"),
            ),
        ] {
            let r = send(
                &router,
                "POST",
                &format!("/participants/{pid}/{what}"),
                Some(&owner),
                Some(&form),
            )
            .await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        }
    }
    let intake = format!("csrf={token}&participant_id=r-1&first_name=Amina&last_name=Yusuf");
    assert_eq!(
        send(&router, "POST", "/participants", Some(&owner), Some(&intake))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let hours = format!("csrf={token}&program=esl&hours=12&element=english&date={today}");
    let r = send(
        &router,
        "POST",
        "/participants/r-1/activities",
        Some(&owner),
        Some(&hours),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let analyst = sign_in(&router, "state@test.iip").await;
    let milestones_before = metric_at(&router, &analyst, SCHOOL, "any_milestone").await;
    let credentials_before = metric_at(&router, &analyst, SCHOOL, "element.credentials").await;
    assert_eq!(milestones_before, (Some(12), Some(13)), "r-1 served, no milestone yet");
    assert_eq!(credentials_before, (Some(12), Some(13)));
    let cbo = sign_in(&router, "cbo@test.iip").await;
    assert_eq!(referral_counts(&router, &owner).await, (Some(12), Some(12), Some(12)));
    assert_eq!(referral_counts(&router, &cbo).await, (Some(12), Some(12), Some(12)));

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
    // The next step's form asks for a reason and says which state it was made against.
    assert!(
        page.body.contains(r#"name="reason" maxlength="500" required"#)
            && page.body.contains(r#"name="from" value="requested""#),
        "{}",
        page.body
    );
    // Wrong side, wrong order, missing reason: refused and nothing changes.
    for (cookie, form) in [
        (owner.clone(), format!("csrf={token}&status=accepted&reason=x")),
        (cbo.clone(), format!("csrf={cbo_token}&status=cancelled&reason=x")),
        (cbo.clone(), format!("csrf={cbo_token}&status=completed&reason=x")),
        (cbo.clone(), format!("csrf={cbo_token}&status=rejected&reason=+")),
        (cbo.clone(), format!("csrf={cbo_token}&status=accepted")),
        (
            cbo.clone(),
            format!("csrf={cbo_token}&from=requested&status=accepted&reason="),
        ),
        (cbo.clone(), format!("csrf={cbo_token}&status=nonsense&reason=x")),
    ] {
        assert_eq!(step(cookie, form).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // A missing reason is a field error, beside the field.
    let no_reason = step(cbo.clone(), format!("csrf={cbo_token}&from=requested&status=accepted")).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        no_reason.body.contains(r#"aria-invalid="true""#)
            && no_reason
                .body
                .contains(r#"<p id="r-reason-note" class="error">Reason is required"#),
        "{}",
        no_reason.body
    );
    let stored = store.referral(id).await.expect("store").expect("referral");
    assert_eq!(stored.status, ReferralStatus::Requested);
    assert_eq!(stored.events.len(), 1);

    for form in [
        format!("csrf={cbo_token}&from=requested&status=accepted&reason=Intake+call+done"),
        format!("csrf={cbo_token}&from=accepted&status=in_progress&reason=First+appointment+booked"),
        format!(
            "csrf={cbo_token}&from=in_progress&status=completed&reason=Oath+taken&milestone=credentials.naturalized"
        ),
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
    // Every change: who (organization and user), when, and why.
    assert!(
        stored
            .events
            .iter()
            .skip(1)
            .all(|e| e.by_org_id == CBO && e.by_user.is_some() && e.at > 0)
    );
    let reasons: Vec<_> = stored.events.iter().skip(1).map(|e| e.reason.as_deref()).collect();
    assert_eq!(
        reasons,
        [
            Some("Intake call done"),
            Some("First appointment booked"),
            Some("Oath taken")
        ]
    );
    // A finished referral takes no further step.
    assert_eq!(
        step(
            cbo.clone(),
            format!("csrf={cbo_token}&from=completed&status=failed&reason=late")
        )
        .await
        .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // The outcome is a milestone on the sender's record naming the partner that delivered it,
    // shown on both organizations' views.
    let record = store
        .participant_record(SCHOOL, "r-1")
        .await
        .expect("store")
        .expect("record");
    let pathway = store.pathway(record.row).await.expect("pathway");
    let outcome = pathway
        .milestones
        .iter()
        .find(|m| m.milestone == "credentials.naturalized")
        .expect("the outcome milestone");
    assert_eq!(outcome.delivered_by.as_deref(), Some(CBO), "both organizations known");
    let partner_name = store
        .organizations()
        .await
        .expect("store")
        .into_iter()
        .find(|o| o.org_id == CBO)
        .expect("the partner")
        .name;
    let achieved = format!("achieved with {partner_name}");
    let owner_view = send(&router, "GET", "/participants/r-1", Some(&owner), None).await;
    assert!(
        owner_view.body.contains("Completed")
            && owner_view.body.contains("outcome credentials.naturalized")
            && owner_view.body.contains(&achieved),
        "{}",
        owner_view.body
    );
    let shared_view = send(&router, "GET", "/shared/south-bay-adult-school/r-1", Some(&cbo), None).await;
    assert_eq!(shared_view.status, StatusCode::OK);
    assert!(
        shared_view.body.contains(&format!("/referrals/{id}"))
            && shared_view.body.contains("Completed")
            && shared_view.body.contains(&achieved),
        "{}",
        shared_view.body
    );
    // A milestone the school recorded itself names no partner.
    assert!(
        pathway
            .milestones
            .iter()
            .filter(|m| m.milestone != "credentials.naturalized")
            .all(|m| m.delivered_by.is_none())
    );

    // And in the metrics: the referral counts as sent, accepted and completed for both sides,
    // and its outcome raises the sender's milestone figures.
    assert_eq!(referral_counts(&router, &owner).await, (Some(13), Some(13), Some(13)));
    assert_eq!(referral_counts(&router, &cbo).await, (Some(13), Some(13), Some(13)));
    assert_eq!(
        metric_at(&router, &analyst, SCHOOL, "any_milestone").await,
        (Some(13), Some(13)),
        "before: {milestones_before:?}"
    );
    assert_eq!(
        metric_at(&router, &analyst, SCHOOL, "element.credentials").await,
        (Some(13), Some(13)),
        "before: {credentials_before:?}"
    );

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

/// RELIABILITY.md: 50 simultaneous attempts at the same state change (accepting one referral)
/// have exactly one winner; the 49 others are told of the conflict (409), and one event is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn fifty_simultaneous_accepts_of_one_referral_have_one_winner_and_49_conflicts() {
    let (state, store, _dir) = support::state_with_directory(300).await;
    add_user(&store, "cbo@test.iip", "case_worker", CBO).await;
    let person = store.search_participants(SCHOOL, "", 1).await.expect("search");
    let participant = person.first().expect("a participant").participant_id.clone();
    let id = stored_referral(&store, &participant, iip_web::auth::unix_now() - 60).await;
    let router = router(state);
    let cbo = sign_in(&router, "cbo@test.iip").await;
    let token = csrf(&router, &cbo).await;
    let page = send(&router, "GET", &format!("/referrals/{id}"), Some(&cbo), None).await;
    assert!(page.body.contains(r#"name="from" value="requested""#), "{}", page.body);

    let start = std::sync::Arc::new(tokio::sync::Barrier::new(50));
    let mut tasks = Vec::new();
    for n in 0..50 {
        let (router, cbo, start) = (router.clone(), cbo.clone(), start.clone());
        let form = format!("csrf={token}&from=requested&status=accepted&reason=Intake+booked+{n}");
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            send(
                &router,
                "POST",
                &format!("/referrals/{id}/status"),
                Some(&cbo),
                Some(&form),
            )
            .await
        }));
    }
    let mut won = 0;
    let mut conflicts = 0;
    for task in tasks {
        let r = task.await.expect("task");
        match r.status {
            StatusCode::SEE_OTHER => won += 1,
            StatusCode::CONFLICT => {
                assert!(
                    r.body
                        .contains("someone changed this referral a moment ago, it is now Accepted"),
                    "{}",
                    r.body
                );
                conflicts += 1;
            }
            other => panic!("{other}: {}", r.body),
        }
    }
    assert_eq!((won, conflicts), (1, 49));
    let stored = store.referral(id).await.expect("store").expect("referral");
    assert_eq!(stored.status, ReferralStatus::Accepted);
    assert_eq!(
        stored
            .events
            .iter()
            .filter(|e| e.status == ReferralStatus::Accepted)
            .count(),
        1,
        "exactly one accepted event"
    );
    assert_eq!(stored.events.len(), 2);

    // A page shown before the change answers with the conflict too, whatever step it chose;
    // and the same change sent again without the page's state is the same conflict.
    for form in [
        format!("csrf={token}&from=requested&status=rejected&reason=Full"),
        format!("csrf={token}&status=accepted&reason=Again"),
    ] {
        let r = send(
            &router,
            "POST",
            &format!("/referrals/{id}/status"),
            Some(&cbo),
            Some(&form),
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{form}: {}", r.body);
    }
    // Against the state it is in, the next step goes through.
    let next = format!("csrf={token}&from=accepted&status=in_progress&reason=First+class");
    let r = send(
        &router,
        "POST",
        &format!("/referrals/{id}/status"),
        Some(&cbo),
        Some(&next),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        store.referral(id).await.expect("store").expect("referral").events.len(),
        3
    );
}

/// A consent for referrals only: the receiver sees who is referred and the note on the
/// referral, and nothing more: no link to a shared record, which is not there (404).
#[tokio::test]
async fn a_referrals_only_consent_shows_the_person_and_note_on_the_referral_and_no_shared_record() {
    let (state, store, _dir) = support::state_with_directory(300).await;
    add_user(&store, "owner@test.iip", "case_worker", SCHOOL).await;
    add_user(&store, "cbo@test.iip", "case_worker", CBO).await;
    let router = router(state);
    let owner = sign_in(&router, "owner@test.iip").await;
    let token = csrf(&router, &owner).await;
    let intake = format!("csrf={token}&participant_id=r-only&first_name=Lan&last_name=Nguyen");
    let r = send(&router, "POST", "/participants", Some(&owner), Some(&intake)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let consent = format!("csrf={token}&partner_org_id={CBO}&purpose=referral&scope=referrals&valid_from=2024-01-01");
    let r = send(
        &router,
        "POST",
        "/participants/r-only/consents",
        Some(&owner),
        Some(&consent),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let refer = format!("csrf={token}&service_id=south-bay-cbo-citizenship&element=credentials&note=Needs+N-400+help");
    let r = send(
        &router,
        "POST",
        "/participants/r-only/referrals",
        Some(&owner),
        Some(&refer),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let pathway = send(&router, "GET", "/participants/r-only", Some(&owner), None).await;
    let id = newest_referral(&pathway.body);
    let consents = store
        .consents(
            store
                .participant_record(SCHOOL, "r-only")
                .await
                .expect("store")
                .expect("record")
                .row,
        )
        .await
        .expect("consents");
    assert_eq!(
        consents.iter().map(|c| c.scope).collect::<Vec<_>>(),
        [iip_store::ConsentScope::Referrals]
    );

    let cbo = sign_in(&router, "cbo@test.iip").await;
    let inbox = send(&router, "GET", "/referrals", Some(&cbo), None).await;
    assert!(inbox.body.contains("r-only"), "{}", inbox.body);
    let page = send(&router, "GET", &format!("/referrals/{id}"), Some(&cbo), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<dd>r-only</dd>") && page.body.contains("Needs N-400 help"),
        "{}",
        page.body
    );
    // No link to a shared record (the menu's "Shared with us" list aside).
    assert!(
        !page.body.contains("/shared/") && !page.body.contains("(shared record)"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("withheld: the participant"), "{}", page.body);
    let shared = send(
        &router,
        "GET",
        "/shared/south-bay-adult-school/r-only",
        Some(&cbo),
        None,
    )
    .await;
    assert_eq!(shared.status, StatusCode::NOT_FOUND, "{}", shared.body);
    assert!(!shared.body.contains("Nguyen"));
}
