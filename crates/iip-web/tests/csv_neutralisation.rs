//! Every CSV the web serves is safe to open in a spreadsheet: `/dashboard.csv` and
//! `/metrics.csv` (through `iip_metrics::output::write_csv`) and `/funding.csv` (through
//! `iip_funding::Outcome::write_csv`) neutralise text cells that start with `= + - @`, a tab
//! or a carriage return, and keep numbers as numbers.

mod support;

use std::sync::Arc;

use axum::http::StatusCode;
use iip_domain::{Date, ProgramYear};
use iip_exchange::{ImportOptions, Issue, import_package};
use iip_framework::Framework;
use iip_funding::{MemberResult, Outcome, UnitResult};
use iip_store_sqlite::SqliteStore;
use iip_web::{AppState, router};

const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// RFC 4180 reader for the test: the fields of every record.
fn read_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

/// No cell starts with a formula character, except numbers.
fn assert_no_formula(text: &str) {
    for cell in read_csv(text).iter().flatten() {
        let number = cell.parse::<f64>().is_ok() && !cell.contains(['e', 'E', 'i', 'n', 'N']);
        assert!(number || !cell.starts_with(TRIGGERS), "{cell:?} in\n{text}");
    }
}

/// A store with organization `-A1` (the one formula character an id can start with) named
/// `=HYPERLINK(…)`, twelve participants with 12 hours each, and a state analyst signed in.
async fn app() -> (axum::Router, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let package = dir.path().join("pkg");
    std::fs::create_dir(&package).expect("mkdir");
    let organizations = "org_id,name,sector,level,parent_id,area\n\
        ca,State Office,public,state,,\n\
        -A1,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",education,local,ca,@SUM(1)\n";
    let mut participants = String::from("org_id,participant_id,first_name,gender\n");
    let mut activities = String::from("org_id,participant_id,date,program,hours\n");
    for i in 0..12 {
        let gender = if i % 2 == 0 { "female" } else { "male" };
        participants.push_str(&format!("-A1,p{i},+cmd,{gender}\n"));
        activities.push_str(&format!("-A1,p{i},2024-09-01,esl,12\n"));
    }
    for (file, text) in [
        ("organizations.csv", organizations),
        ("participants.csv", participants.as_str()),
        ("activities.csv", activities.as_str()),
    ] {
        std::fs::write(package.join(file), text).expect("write");
    }
    let store = SqliteStore::open(&dir.path().join("t.db")).await.expect("open");
    let framework = Framework::builtin().expect("framework");
    let mut issues: Vec<Issue> = Vec::new();
    let options = ImportOptions {
        skip_invalid: false,
        today: Date::today(),
    };
    let summary = import_package(&store, &framework, &package, options, &mut issues)
        .await
        .expect("import");
    assert!(summary.committed, "{issues:?}");
    let year = ProgramYear::parse("2024-25").expect("year");
    let state = AppState::new(store.clone(), Arc::new(framework), year).expect("state");
    support::add_user(&store, "analyst@test.iip", "state_analyst", "ca").await;
    let router = router(state);
    let cookie = support::sign_in(&router, "analyst@test.iip").await;
    (router, cookie, dir)
}

#[tokio::test]
async fn dashboard_and_metrics_csv_neutralise_an_organization_id_and_never_show_its_name() {
    let (router, cookie, _dir) = app().await;
    let dashboard = support::send(
        &router,
        "GET",
        "/dashboard.csv?scope=-A1&year=2024-25",
        Some(&cookie),
        None,
    )
    .await;
    assert_eq!(dashboard.status, StatusCode::OK, "{}", dashboard.body);
    let cells = read_csv(&dashboard.body);
    assert_eq!(cells[0][0], "scope_id");
    assert!(cells.len() > 1, "{}", dashboard.body);
    for row in &cells[1..] {
        assert_eq!(row[0], "'-A1", "{row:?}");
    }
    let participants = cells
        .iter()
        .find(|r| r[1] == "participants")
        .expect("the participants row");
    assert_eq!(participants[2], "12", "numbers stay numbers");
    assert_no_formula(&dashboard.body);
    assert!(!dashboard.body.contains("HYPERLINK") && !dashboard.body.contains("+cmd"));

    let metrics = support::send(
        &router,
        "GET",
        "/metrics.csv?metric=participants&scope=-A1&by=gender&year=2024-25",
        Some(&cookie),
        None,
    )
    .await;
    assert_eq!(metrics.status, StatusCode::OK, "{}", metrics.body);
    let cells = read_csv(&metrics.body);
    assert_eq!(cells[0][..3], ["scope_id", "metric", "gender"]);
    assert!(cells[1..].iter().all(|r| r[0] == "'-A1"), "{}", metrics.body);
    assert_no_formula(&metrics.body);
    assert!(!metrics.body.contains("HYPERLINK") && !metrics.body.contains("SUM"));
}

#[test]
fn the_funding_csv_neutralises_unit_and_member_names_and_keeps_negative_money() {
    let outcome = Outcome {
        formula: "test".into(),
        baseline: None,
        budget_cents: 100_000,
        units: vec![UnitResult {
            unit: "=HYPERLINK(\"http://x\",\"y\")".into(),
            prior: 60_000,
            baseline: Some(60_000),
            allocation: 50_000,
            change_vs_prior: -10_000,
            change_vs_baseline: Some(-10_000),
            driver: "@SUM(1)".into(),
            driver_part: None,
            changes: Vec::new(),
            limit: String::new(),
            masked_inputs: 0,
            members: vec![MemberResult {
                member: "+cmd".into(),
                prior: 30_000,
                baseline: None,
                allocation: 20_000,
                limit: String::new(),
            }],
        }],
        masked_inputs: 0,
    };
    let mut out = Vec::new();
    outcome.write_csv(&mut out).expect("csv");
    let text = String::from_utf8(out).expect("utf-8");
    let cells = read_csv(&text);
    assert_eq!(cells[1][0], "'=HYPERLINK(\"http://x\",\"y\")", "{text}");
    assert_eq!(cells[1][7], "'@SUM(1)", "{text}");
    assert_eq!(cells[2][1], "'+cmd", "{text}");
    assert!(cells[1][5].starts_with('-'), "a negative change stays a number: {text}");
    assert!(cells[1][5].parse::<f64>().is_ok(), "{text}");
    assert_no_formula(&text);
}
