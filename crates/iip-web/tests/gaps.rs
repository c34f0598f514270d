//! The community gap analysis and the referral metrics through the real router: a generated
//! region whose directory leaves Tagalog- and Vietnamese-speaking health navigation without a
//! service, page, CSV and API agreeing, each analyst seeing their own areas.

mod support;

use axum::http::StatusCode;
use iip_store::DirectoryStore;
use iip_web::router;
use support::{add_user, send, sign_in};

async fn region() -> (axum::Router, tempfile::TempDir) {
    let (state, store, dir) = support::state_with_directory(600).await;
    let community = iip_generate::community_csv(600, 3);
    let figures = iip_directory::community::read("community.csv", community.as_bytes()).expect("figures");
    store.put_community_figures(&figures).await.expect("store");
    add_user(&store, "state@test.iip", "state_analyst", "ca").await;
    add_user(&store, "north@test.iip", "consortium_analyst", "north-bay").await;
    (router(state), dir)
}

#[tokio::test]
async fn the_planted_gap_is_found_and_page_csv_and_api_agree() {
    let (router, _dir) = region().await;
    let analyst = sign_in(&router, "state@test.iip").await;
    let api = send(&router, "GET", "/api/gaps", Some(&analyst), None).await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    let json: serde_json::Value = serde_json::from_str(&api.body).expect("json");
    let gaps = json["gaps"].as_array().expect("gaps");
    // Ranked largest first.
    let scores: Vec<f64> = gaps.iter().filter_map(|g| g["gap_score"].as_f64()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    // The planted gap: health navigation for Tagalog speakers has no service in any city,
    // while the county office serves Spanish speakers' health everywhere.
    let no_service = |element: &str, language: &str, area: &str| {
        gaps.iter().find(|g| {
            g["element"] == element && g["language"] == language && g["area"] == area && g["capacity_level"] == "none"
        })
    };
    let first = no_service("health", "tl", "San Jose").expect("the planted gap");
    assert_eq!(first["services"], 0);
    for city in [
        "San Jose",
        "Santa Clara",
        "Milpitas",
        "Santa Rosa",
        "Petaluma",
        "Sonoma",
    ] {
        assert!(no_service("health", "es", city).is_none(), "{city}");
    }
    let sentence = first["sentence"].as_str().expect("sentence");
    assert_eq!(
        sentence,
        "Tagalog-speaking health navigation in San Jose: high need, no service"
    );
    // No need count from 1 to 9 anywhere.
    for cell in json["cells"].as_array().expect("cells") {
        if let Some(n) = cell["need_count"].as_u64() {
            assert!(n == 0 || n >= 10, "{cell}");
        }
    }

    let page = send(&router, "GET", "/gaps", Some(&analyst), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(sentence) && page.body.contains("<svg"));
    let csv = send(&router, "GET", "/gaps.csv", Some(&analyst), None).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.header("content-type").starts_with("text/csv"));
    assert!(csv.body.contains(sentence));
    assert_eq!(csv.body.lines().count(), gaps.len() + 1);
}

#[tokio::test]
async fn a_consortium_analyst_sees_the_gaps_of_their_own_areas_only() {
    let (router, _dir) = region().await;
    let north = sign_in(&router, "north@test.iip").await;
    let api = send(&router, "GET", "/api/gaps", Some(&north), None).await;
    let json: serde_json::Value = serde_json::from_str(&api.body).expect("json");
    let areas: Vec<&str> = json["gaps"]
        .as_array()
        .expect("gaps")
        .iter()
        .filter_map(|g| g["area"].as_str())
        .collect();
    assert!(!areas.is_empty());
    assert!(
        areas
            .iter()
            .all(|a| ["Santa Rosa", "Petaluma", "Sonoma", "Sonoma County"].contains(a)),
        "{areas:?}"
    );
    assert_eq!(
        send(&router, "GET", "/api/gaps", None, None).await.status,
        StatusCode::UNAUTHORIZED
    );
}
