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

/// The area × element table of a `/gaps` page: `(area, cells)` per row, as the page shows them.
fn page_heat_table(body: &str) -> Vec<(String, Vec<String>)> {
    let table = body
        .split(r#"<table class="heat-table">"#)
        .nth(1)
        .and_then(|rest| rest.split("</table>").next())
        .expect("the heat map's table");
    let tbody = table.split("<tbody>").nth(1).expect("tbody");
    tbody
        .split(r#"<tr><th scope="row">"#)
        .skip(1)
        .map(|row| {
            let (area, rest) = row.split_once("</th>").expect("row head");
            let cells = rest
                .split("<td>")
                .skip(1)
                .filter_map(|c| c.split("</td>").next())
                .map(str::to_owned)
                .collect();
            (area.to_owned(), cells)
        })
        .collect()
}

#[tokio::test]
async fn the_heat_map_is_in_the_api_and_its_csv_agrees_with_the_page() {
    let (router, _dir) = region().await;
    for email in ["state@test.iip", "north@test.iip"] {
        let analyst = sign_in(&router, email).await;
        let api = send(&router, "GET", "/api/gaps", Some(&analyst), None).await;
        let json: serde_json::Value = serde_json::from_str(&api.body).expect("json");
        let heat = &json["heat_map"];
        let elements: Vec<&str> = heat["elements"]
            .as_array()
            .expect("elements")
            .iter()
            .filter_map(|e| e.as_str())
            .collect();
        assert_eq!(elements.len(), 8, "{heat}");
        let rows = heat["rows"].as_array().expect("rows");
        assert!(!rows.is_empty());
        assert_eq!(heat["areas"].as_array().map(Vec::len), Some(rows.len()));
        let from_api: Vec<(String, Vec<String>)> = rows
            .iter()
            .map(|r| {
                let cells = r["cells"]
                    .as_array()
                    .expect("cells")
                    .iter()
                    .map(|c| {
                        let score = c["score"].as_f64().expect("score");
                        if score > 0.0 {
                            format!("{score:.2}")
                        } else {
                            "0".to_owned()
                        }
                    })
                    .collect();
                (r["area"].as_str().expect("area").to_owned(), cells)
            })
            .collect();
        // Some square has a gap, and the planted one (Tagalog health in San Jose) among them.
        assert!(from_api.iter().any(|(_, cells)| cells.iter().any(|c| c != "0")));

        let page = send(&router, "GET", "/gaps", Some(&analyst), None).await;
        assert!(page.body.contains(r#"href="/gaps.csv?table=heatmap""#));
        assert_eq!(page_heat_table(&page.body), from_api, "{email}: page = API");

        let csv = send(&router, "GET", "/gaps.csv?table=heatmap", Some(&analyst), None).await;
        assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
        assert!(csv.header("content-type").starts_with("text/csv"));
        assert!(csv.header("content-disposition").contains("gaps-heatmap.csv"));
        let mut lines = csv.body.lines();
        assert_eq!(lines.next(), Some(format!("area,{}", elements.join(",")).as_str()));
        let from_csv: Vec<(String, Vec<String>)> = lines
            .map(|line| {
                let mut fields = line.split(',').map(str::to_owned);
                let area = fields.next().expect("area");
                (area, fields.collect())
            })
            .collect();
        assert_eq!(from_csv, from_api, "{email}: CSV = API = page");
    }
    let state = sign_in(&router, "state@test.iip").await;
    let csv = send(&router, "GET", "/gaps.csv?table=heatmap", Some(&state), None).await;
    assert!(csv.body.contains("San Jose,"), "{}", csv.body);
    let bad = send(&router, "GET", "/gaps.csv?table=pie", Some(&state), None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let signed_out = send(&router, "GET", "/gaps.csv?table=heatmap", None, None).await;
    assert_ne!(signed_out.status, StatusCode::OK);
    assert!(!signed_out.body.contains("San Jose"));
}
