//! The pages through the real router over a real SQLite store filled by the importer.

mod support;

use axum::http::StatusCode;
use iip_web::router;

struct Page {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

/// The router over a real store, signed in as a state analyst (who sees every aggregate), or
/// as a system admin when the store is empty.
pub struct TestApp {
    router: axum::Router,
    cookie: String,
}

async fn app(people: u64) -> (TestApp, tempfile::TempDir) {
    let (state, store, dir) = support::state_seeded(people, 1).await;
    let (org, role) = if people > 0 {
        ("ca", "state_analyst")
    } else {
        ("none", "system_admin")
    };
    support::add_user(&store, "analyst@test.iip", role, org).await;
    let router = router(state);
    let cookie = support::sign_in(&router, "analyst@test.iip").await;
    (TestApp { router, cookie }, dir)
}

async fn get(app: &TestApp, uri: &str) -> Page {
    let response = support::send(&app.router, "GET", uri, Some(&app.cookie), None).await;
    Page {
        status: response.status,
        headers: response.headers,
        body: response.body,
    }
}

fn assert_security_headers(page: &Page) {
    let header = |name: &str| {
        page.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let csp = header("content-security-policy");
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("x-frame-options"), "DENY");
    assert_eq!(header("referrer-policy"), "same-origin");
    assert_eq!(
        header("cache-control"),
        "no-store",
        "no cache keeps a page of personal data"
    );
}

/// Every integer shown in a table cell: none may be a small count.
fn cell_numbers(body: &str) -> Vec<u64> {
    body.split("<td>")
        .skip(1)
        .filter_map(|cell| cell.split('<').next()?.trim().parse().ok())
        .collect()
}

#[tokio::test]
async fn dashboard_shows_suppressed_metrics_with_a_chart_and_strict_headers() {
    let (app, dir) = app(600).await;
    let page = get(&app, "/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_security_headers(&page);
    assert!(
        page.body.contains("<svg") && page.body.contains("role=\"img\""),
        "chart"
    );
    assert!(page.body.contains("<title id=\"chart-title\">"));
    assert!(page.body.contains("data-metric=\"element.civic\""));
    let numbers = cell_numbers(&page.body);
    assert!(!numbers.is_empty());
    assert!(
        numbers.iter().all(|n| *n == 0 || *n >= 10),
        "small count shown: {numbers:?}"
    );
    // At 600 people some member cells must be small, and they are shown as suppressed.
    assert!(page.body.contains("suppressed: fewer than 10"));

    // No name from the package appears in any page.
    let participants = std::fs::read_to_string(dir.path().join("package/participants.csv")).expect("read");
    let scoped = get(&app, "/?scope=south-bay&year=2024-25").await;
    assert_eq!(scoped.status, StatusCode::OK);
    assert!(scoped.body.contains("South Bay Consortium for Adult Education</h1>"));
    for line in participants.lines().skip(1).take(50) {
        let fields: Vec<&str> = line.split(',').collect();
        for name in [fields[3], fields[4]] {
            let needle = format!(">{name}<");
            assert!(
                !page.body.contains(&needle) && !scoped.body.contains(&needle),
                "name {name} shown"
            );
        }
    }
}

#[tokio::test]
async fn bad_input_gets_4xx_with_headers_and_nothing_echoed() {
    let (app, _dir) = app(200).await;
    let unknown = get(&app, "/?scope=nobody").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_security_headers(&unknown);
    let bad_year = get(&app, "/?year=%3Cscript%3Ealert(1)%3C/script%3E").await;
    assert_eq!(bad_year.status, StatusCode::BAD_REQUEST);
    assert!(!bad_year.body.contains("<script>"), "{}", bad_year.body);
    let missing = get(&app, "/no/such/page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_security_headers(&missing);
}

#[tokio::test]
async fn framework_page_in_english_and_spanish() {
    let (app, _dir) = app(0).await;
    let en = get(&app, "/framework").await;
    assert_eq!(en.status, StatusCode::OK);
    for id in [
        "english",
        "education",
        "economic",
        "credentials",
        "health",
        "civic",
        "navigation",
        "social",
    ] {
        assert!(en.body.contains(&format!("id=\"{id}\"")), "{id}");
    }
    let es = get(&app, "/framework?lang=es").await;
    assert!(es.body.contains("<html lang=\"es\">"));
    assert!(es.body.contains("Dominio del idioma inglés"));
}

#[tokio::test]
async fn an_empty_store_renders_guidance() {
    let (app, _dir) = app(0).await;
    let page = get(&app, "/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("holds no organizations yet"));
    assert_eq!(get(&app, "/healthz").await.body, "ok");
    let css = get(&app, "/static/app.css").await;
    assert_eq!(css.status, StatusCode::OK);
    let caching = css
        .headers
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(caching.starts_with("public"), "static files stay cacheable: {caching}");
}

#[tokio::test]
async fn the_metrics_api_returns_suppressed_json_and_clear_errors() {
    let (app, _dir) = app(600).await;
    let api = get(
        &app,
        "/api/metrics?year=2024-25&scope=south-bay&metric=participants,element.civic&by=gender",
    )
    .await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    assert_security_headers(&api);
    let json: serde_json::Value = serde_json::from_str(&api.body).expect("json");
    assert_eq!(json["by"], serde_json::json!(["gender"]));
    let rows = json["rows"].as_array().expect("rows");
    assert!(rows.iter().all(|r| r["scope_id"] == "south-bay"));
    assert!(rows.iter().any(|r| r["groups"]["gender"] == "female"));
    for row in rows {
        for field in ["numerator", "denominator"] {
            if let Some(n) = row[field].as_u64() {
                assert!(n == 0 || n >= 10, "a small count left the API: {row}");
            }
        }
        if row["suppressed"] == true {
            assert!(row["numerator"].is_null() && row["rate"].is_null(), "{row}");
        }
    }
    for (uri, status) in [
        ("/api/metrics?by=shoe_size", StatusCode::BAD_REQUEST),
        ("/api/metrics?metric=no.such.metric", StatusCode::BAD_REQUEST),
        ("/api/metrics?by=gender,age_group,sector", StatusCode::BAD_REQUEST),
        ("/api/metrics?year=20x4", StatusCode::BAD_REQUEST),
        ("/api/metrics?scope=nobody", StatusCode::NOT_FOUND),
    ] {
        let page = get(&app, uri).await;
        assert_eq!(page.status, status, "{uri}: {}", page.body);
        let json: serde_json::Value = serde_json::from_str(&page.body).expect("errors are json");
        assert!(json["error"].as_str().is_some_and(|e| !e.is_empty()), "{uri}");
    }
}

#[tokio::test]
async fn the_metrics_page_picks_a_metric_a_scope_and_a_breakdown() {
    let (app, _dir) = app(600).await;
    let page = get(&app, "/metrics?metric=element.civic&scope=ca&by=age_group&year=2024-25").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_security_headers(&page);
    assert!(
        page.body.contains("<option value=\"element.civic\" selected>"),
        "metric selected"
    );
    assert!(
        page.body.contains("<option value=\"age_group\" selected>"),
        "breakdown selected"
    );
    assert!(page.body.contains("role=\"img\""), "a rate metric has a chart");
    assert!(page.body.contains(">25 34<"), "age groups are listed");
    for n in cell_numbers(&page.body) {
        assert!(n == 0 || n >= 10, "small count {n} on the page");
    }
    let median = get(&app, "/metrics?metric=days_to_first_milestone").await;
    assert_eq!(median.status, StatusCode::OK);
    assert!(median.body.contains("Median days"));
    assert_eq!(get(&app, "/metrics?metric=nope").await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_dashboard_shows_trends_a_breadcrumb_and_downloads_what_it_shows() {
    let (app, _dir) = app(600).await;
    let page = get(&app, "/?scope=south-bay-adult-school&year=2024-25").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("aria-label=\"Where this organization sits\""));
    assert!(
        page.body.contains(">South Bay Consortium for Adult Education</a>"),
        "the parent in the breadcrumb"
    );
    for year in ["2022-23", "2023-24", "2024-25"] {
        assert!(page.body.contains(&format!(">{year}</a></th>")), "{year} in the trend");
    }
    assert!(
        page.body.contains("id=\"trend-title\""),
        "a second chart with its own ids"
    );
    let csv = get(&app, "/dashboard.csv?scope=south-bay-adult-school&year=2024-25").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/csv"))
    );
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "scope_id,metric,numerator,denominator,rate,suppressed");
    assert_eq!(lines.len(), 12, "the 11 core metrics of the table");
    // The CSV holds the same figures as the page's table.
    for line in &lines[1..] {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields[0], "south-bay-adult-school");
        if let Ok(n) = fields[2].parse::<u64>() {
            assert!(n == 0 || n >= 10, "{line}");
            assert!(page.body.contains(&format!("<td>{n}</td>")), "{line} on the page");
        } else {
            assert_eq!(fields[5], "true", "{line}");
        }
    }
    assert_eq!(
        get(&app, "/dashboard.csv?scope=nobody").await.status,
        StatusCode::NOT_FOUND
    );
    let by_gender = get(
        &app,
        "/metrics.csv?metric=element.civic&scope=south-bay&by=gender&year=2024-25",
    )
    .await;
    assert_eq!(by_gender.status, StatusCode::OK);
    assert!(
        by_gender.body.starts_with("scope_id,metric,gender,numerator"),
        "{}",
        by_gender.body
    );
    assert!(
        by_gender
            .body
            .lines()
            .skip(1)
            .all(|l| l.starts_with("south-bay,element.civic,"))
    );
}
