//! The funding simulator's page, CSV and API through the real router over a real store.

mod support;

use axum::http::StatusCode;
use iip_funding::plausible::{Sized, need_and_members};
use iip_funding::{Formula, MemberTable, NeedTable, Scenario};
use iip_store::Store;
use iip_web::router;

/// The router, signed in as a state analyst, and the session cookie.
struct App {
    router: axum::Router,
    cookie: String,
}

async fn app(with_funding: bool) -> (App, tempfile::TempDir) {
    let (mut state, store, dir) = support::state(1500).await;
    // Every consortium (level region) with its members, all of the same (unknown) size.
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
    assert!(units.len() >= 2, "the generated region has consortia");
    let (need, members) = need_and_members(&units, 11);
    support::add_user(&store, "state@test.iip", "state_analyst", "ca").await;
    support::add_user(&store, "worker@test.iip", "case_worker", "south-bay-adult-school").await;
    if with_funding {
        let (bn, b) = iip_funding::BASELINE_FORMULA;
        let (fname, f) = iip_funding::INTEGRATION_FORMULA;
        state = state.with_funding(Scenario {
            formula: Formula::parse(f, fname).expect("formula"),
            baseline: Some(Formula::parse(b, bn).expect("baseline")),
            need: NeedTable::parse(&need, "need.csv").expect("need"),
            members: Some(MemberTable::parse(&members, "members.csv").expect("members")),
        });
    }
    let router = router(state);
    let cookie = support::sign_in(&router, "state@test.iip").await;
    (App { router, cookie }, dir)
}

async fn get(app: &App, uri: &str) -> (StatusCode, String, String) {
    let response = support::send(&app.router, "GET", uri, Some(&app.cookie), None).await;
    let kind = response.header("content-type").to_owned();
    (response.status, kind, response.body)
}

async fn api(app: &App, query: &str) -> serde_json::Value {
    let (status, _, body) = get(app, &format!("/api/funding?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).expect("json")
}

fn allocations(json: &serde_json::Value) -> Vec<(String, i64)> {
    json["outcome"]["units"]
        .as_array()
        .expect("units")
        .iter()
        .map(|u| {
            (
                u["unit"].as_str().expect("id").to_owned(),
                u["allocation"].as_i64().expect("cents"),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_page_compares_both_formulas_and_the_exports_hold_the_same_figures() {
    let (app, _dir) = app(true).await;
    let (status, kind, page) = get(&app, "/funding").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(kind.starts_with("text/html"));
    assert!(page.contains("Integration: prior year, need and integration outcomes"));
    assert!(page.contains("Baseline: prior year and need"));
    assert!(page.contains("<svg") && page.contains("role=\"img\""), "a chart");
    assert!(page.contains("South Bay Consortium for Adult Education"));
    assert!(page.contains("class=\"member\""), "member rows");
    assert!(page.contains("href=\"/funding.csv?\""));

    let json = api(&app, "").await;
    let outcome = &json["outcome"];
    let budget = outcome["budget_cents"].as_i64().expect("budget");
    let units = outcome["units"].as_array().expect("units");
    let total: i64 = units.iter().map(|u| u["allocation"].as_i64().expect("cents")).sum();
    let baseline: i64 = units.iter().map(|u| u["baseline"].as_i64().expect("cents")).sum();
    assert_eq!(
        (total, baseline),
        (budget, budget),
        "both formulas add up to the budget"
    );
    for u in units {
        let members: i64 = u["members"]
            .as_array()
            .expect("members")
            .iter()
            .map(|m| m["allocation"].as_i64().expect("cents"))
            .sum();
        assert_eq!(members, u["allocation"].as_i64().expect("cents"), "{u}");
    }

    // The CSV holds the same allocations, unit by unit.
    let (status, kind, csv) = get(&app, "/funding.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.starts_with("text/csv"));
    let from_csv: Vec<(String, i64)> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[1].is_empty())
        .map(|f| {
            let (d, c) = f[4].split_once('.').expect("dollars");
            (
                f[0].to_owned(),
                d.parse::<i64>().expect("d") * 100 + c.parse::<i64>().expect("c"),
            )
        })
        .collect();
    assert_eq!(from_csv, allocations(&json));
}

#[tokio::test]
async fn weights_change_the_allocation_and_the_page_says_so() {
    let (app, _dir) = app(true).await;
    let formula = allocations(&api(&app, "").await);
    // w5 is any_milestone (1.5 in the formula): turned off and turned up, the money moves.
    let off = api(&app, "w5=0").await;
    assert_eq!(off["weights"][5].as_f64(), Some(0.0));
    let up = allocations(&api(&app, "w5=40").await);
    assert_ne!(allocations(&off), up);
    assert_ne!(formula, up);
    // The same weights as the formula give the formula's result.
    assert_eq!(allocations(&api(&app, "w5=1.5").await), formula);
    let (status, _, page) = get(&app, "/funding?w5=40&year=2024-25").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("formula: 1.5"), "the page shows the formula's weight");
    assert!(
        page.contains("href=\"/funding.csv?w5=40&amp;year=2024-25\""),
        "exports keep the weights"
    );
}

#[tokio::test]
async fn bad_parameters_get_400_and_an_unconfigured_server_404() {
    let (configured, _dir) = app(true).await;
    for query in [
        "w5=abc",
        "w5=-1",
        "w5=1e9",
        "w99=1",
        "nonsense=1",
        "year=20x4",
        "w5=NaN",
    ] {
        let (status, _, body) = get(&configured, &format!("/api/funding?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(body.contains("\"error\""), "{body}");
        let (status, _, page) = get(&configured, &format!("/funding?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(!page.contains("nonsense"), "the parameter is not echoed");
    }
    let (bare, _bare_dir) = app(false).await;
    let (status, _, page) = get(&bare, "/funding").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("--funding-need"), "{page}");
}

#[tokio::test]
async fn only_state_wide_roles_see_the_simulator() {
    let (app, _dir) = app(true).await;
    let worker = support::sign_in(&app.router, "worker@test.iip").await;
    for uri in ["/funding", "/funding.csv", "/api/funding"] {
        let response = support::send(&app.router, "GET", uri, Some(&worker), None).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{uri}");
        let anonymous = support::send(&app.router, "GET", uri, None, None).await;
        assert!(
            matches!(anonymous.status, StatusCode::SEE_OTHER | StatusCode::UNAUTHORIZED),
            "{uri}: {}",
            anonymous.status
        );
    }
}
