//! The metrics CSV (`iip report --format csv`, `/dashboard.csv`, `/metrics.csv`) never hands a
//! spreadsheet a formula: text fields that start with `= + - @`, a tab or a carriage return get
//! a leading apostrophe, numbers stay numbers, and the file reads back as the same cells.

use iip_domain::{Date, ProgramYear};
use iip_exchange::{ImportOptions, Issue, import_package};
use iip_framework::Framework;
use iip_metrics::output::write_csv;
use iip_metrics::{Groups, MetricRow, MetricSet, Query, Report, Snapshot};
use iip_store::Store;
use iip_store_sqlite::SqliteStore;

/// RFC 4180 reader for the test: fields of every record.
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

fn row(scope: &str, metric: &str, groups: &[(&str, &str)], numerator: Option<u64>) -> MetricRow {
    MetricRow {
        scope_id: scope.to_owned(),
        metric: metric.to_owned(),
        groups: Groups(groups.iter().map(|(d, g)| (d.to_string(), g.to_string())).collect()),
        numerator,
        denominator: numerator.map(|n| n * 2),
        rate: numerator.map(|_| 0.5),
        value: None,
        suppressed: numerator.is_none(),
    }
}

#[test]
fn planted_formulas_in_scopes_and_group_labels_are_neutralised() {
    let hyperlink = "=HYPERLINK(\"http://x\",\"y\")";
    let report = Report {
        year: ProgramYear::parse("2024-25").expect("year"),
        framework_version: "test".into(),
        metrics_version: "test".into(),
        by: vec!["primary_language".into()],
        rows: vec![
            row(hyperlink, "participants", &[("primary_language", "+cmd")], Some(20)),
            row("-A1", "participants", &[("primary_language", "@SUM(1)")], None),
            row("school", "participants", &[("primary_language", "\tx")], Some(30)),
            row("school", "participants", &[("primary_language", "es")], Some(10)),
        ],
    };
    let mut out = Vec::new();
    write_csv(&mut out, &report).expect("csv");
    let text = String::from_utf8(out).expect("utf-8");
    let cells = read_csv(&text);
    assert_eq!(
        cells[0],
        [
            "scope_id",
            "metric",
            "primary_language",
            "numerator",
            "denominator",
            "rate",
            "suppressed"
        ]
    );
    assert_eq!(
        cells[1],
        [
            "'=HYPERLINK(\"http://x\",\"y\")",
            "participants",
            "'+cmd",
            "20",
            "40",
            "0.5000",
            "false"
        ]
    );
    assert_eq!(cells[2], ["'-A1", "participants", "'@SUM(1)", "", "", "", "true"]);
    assert_eq!(cells[3][2], "'\tx");
    assert_eq!(
        cells[4],
        ["school", "participants", "es", "10", "20", "0.5000", "false"]
    );
    // No cell of the file starts with a formula character.
    for cell in cells.iter().flatten() {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "{cell:?} in\n{text}"
        );
    }
}

#[tokio::test]
async fn an_imported_organization_id_starting_with_a_dash_is_neutralised_and_its_name_never_shown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let package = dir.path().join("pkg");
    std::fs::create_dir(&package).expect("mkdir");
    let organizations = "org_id,name,sector,level,parent_id\n\
        state,State Office,public,state,\n\
        -A1,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",education,local,state\n";
    let mut participants = String::from("org_id,participant_id\n");
    let mut activities = String::from("org_id,participant_id,date,program,hours\n");
    for i in 0..12 {
        participants.push_str(&format!("-A1,p{i}\n"));
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
        today: Date::from_ymd(2026, 11, 24).expect("date"),
    };
    let summary = import_package(&store, &framework, &package, options, &mut issues)
        .await
        .expect("import");
    assert!(summary.committed, "{issues:?}");

    let mut snapshot = Snapshot::new(&framework);
    store.scan_facts(&mut snapshot).await.expect("scan");
    let set = MetricSet::core(&framework).expect("core");
    let query = Query {
        year: ProgramYear::parse("2024-25").expect("year"),
        by: Vec::new(),
    };
    let report = iip_metrics::report(&snapshot, &framework.version, &set, &query, None).expect("report");
    let mut out = Vec::new();
    write_csv(&mut out, &report).expect("csv");
    let text = String::from_utf8(out).expect("utf-8");
    let cells = read_csv(&text);
    let scopes: Vec<&str> = cells[1..].iter().map(|r| r[0].as_str()).collect();
    assert!(scopes.contains(&"'-A1"), "{scopes:?}");
    assert!(!scopes.contains(&"-A1"), "{scopes:?}");
    let participants = cells
        .iter()
        .find(|r| r[0] == "'-A1" && r[1] == "participants")
        .expect("the participants row of -A1");
    assert_eq!(participants[2], "12", "numbers are written as they are");
    assert!(!text.contains("HYPERLINK"), "names are not in the metrics CSV:\n{text}");
    for cell in cells.iter().flatten() {
        assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{cell:?}");
    }
}
