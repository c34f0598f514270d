//! `iip directory`: an HSDS 3 package another directory produced imports (its organizations
//! added), the directory exports as JSON and CSV and imports back the same, a malformed package
//! is refused with the place named and nothing stored, community figures and the gap analysis.

mod support;

use std::path::Path;

use support::{iip, text};

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8")
}

fn fresh_store(dir: &Path, name: &str) -> std::path::PathBuf {
    let package = dir.join(format!("{name}-package"));
    let db = dir.join(format!("{name}.db"));
    let generate = iip(&[
        "generate",
        "--participants",
        "300",
        "--seed",
        "4",
        "--out",
        path(&package),
    ]);
    assert!(generate.status.success(), "{}", text(&generate.stderr));
    let import = iip(&["import", "--db", path(&db), path(&package)]);
    assert!(import.status.success(), "{}", text(&import.stderr));
    db
}

fn listed(db: &Path) -> String {
    let out = iip(&["directory", "list", "--db", path(db)]);
    text(&out.stdout)
}

#[test]
fn hsds_packages_import_and_export_both_ways() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = fresh_store(dir.path(), "a");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../iip-directory/tests/hsds");

    // Malformed: refused, the place named, nothing stored.
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, r#"[{"id": "x", "name": 7}]"#).expect("write");
    let out = iip(&["directory", "import", "--db", path(&db), path(&broken)]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("was not imported") && stderr.contains("[0]"),
        "{stderr}"
    );
    assert!(listed(&db).is_empty());

    // Another directory's package: its organizations join the store.
    let other = fixtures.join("other_directory.json");
    let out = iip(&["directory", "import", "--db", path(&db), path(&other)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("imported") && said.contains("added"), "{said}");
    let first = listed(&db);
    assert!(!first.is_empty());
    let tabular = iip(&[
        "directory",
        "import",
        "--db",
        path(&db),
        path(&fixtures.join("other_tabular")),
    ]);
    assert!(tabular.status.success(), "{}", text(&tabular.stderr));

    // Out as JSON and CSV; the JSON back into a second store gives the same directory.
    let json = dir.path().join("directory.json");
    let out = iip(&[
        "directory",
        "export",
        "--db",
        path(&db),
        "--format",
        "json",
        path(&json),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let document: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).expect("read")).expect("json");
    assert!(document.as_array().is_some_and(|orgs| !orgs.is_empty()));
    let csv = dir.path().join("tabular");
    let out = iip(&["directory", "export", "--db", path(&db), "--format", "csv", path(&csv)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(csv.join("services.csv").exists() && csv.join("datapackage.json").exists());

    let second = fresh_store(dir.path(), "b");
    let out = iip(&["directory", "import", "--db", path(&second), path(&json)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(listed(&second), listed(&db));
    let third = fresh_store(dir.path(), "c");
    let out = iip(&["directory", "import", "--db", path(&third), path(&csv)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(listed(&third), listed(&db));
}

#[test]
fn community_figures_feed_the_gap_analysis_and_bad_rows_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = fresh_store(dir.path(), "g");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "area,language,population\nSan Jose,tl,12000\nMilpitas,tl,lots\n").expect("write");
    let out = iip(&["directory", "community", "--db", path(&db), path(&bad)]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("bad.csv:3: population: is not a whole number"),
        "{}",
        text(&out.stderr)
    );

    let good = dir.path().join("community.csv");
    std::fs::write(&good, "area,language,population\nSan Jose,tl,40000\nMilpitas,es,2000\n").expect("write");
    let out = iip(&["directory", "community", "--db", path(&db), path(&good)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("stored 2 community figures"));
    let out = iip(&["directory", "gaps", "--db", path(&db)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    assert!(csv.starts_with("rank,"), "{csv}");
    // No service in the store at all: Tagalog-speaking San Jose lacks every element.
    assert!(
        csv.contains("Tagalog-speaking health navigation in San Jose: high need, no service"),
        "{csv}"
    );
}

/// `iip demo --no-serve` prepares the demo region and exits: the store it leaves holds the
/// directory, the agreements between organizations, and referrals in each of the eight HL7
/// SDOH states (the browser tests rely on them; this needs no browser).
#[tokio::test]
async fn the_demo_prepares_referrals_in_every_state_partnerships_and_services_without_serving() {
    use sqlx::Row;

    let dir = tempfile::tempdir().expect("tempdir");
    let demo = dir.path().join("demo");
    let out = iip(&[
        "demo",
        "--dir",
        path(&demo),
        "--participants",
        "400",
        "--seed",
        "7",
        "--addr",
        "127.0.0.1:0",
        "--no-serve",
    ]);
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}\n{}", text(&out.stderr));
    assert!(!said.contains("http://"), "it does not serve: {said}");
    assert!(said.contains("referrals in every state"), "{said}");

    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(demo.join("iip.db"))
        .read_only(true);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("the demo database");
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool).await.expect(sql) }
    };
    let by_state: std::collections::BTreeMap<String, i64> =
        sqlx::query("SELECT status, COUNT(*) FROM referral GROUP BY status")
            .fetch_all(&pool)
            .await
            .expect("referrals")
            .iter()
            .map(|row| (row.get::<String, _>(0), row.get::<i64, _>(1)))
            .collect();
    for state in iip_directory::ReferralStatus::ALL {
        assert!(
            by_state.get(state.as_str()).is_some_and(|n| *n > 0),
            "a referral {state}: {by_state:?}"
        );
    }
    assert_eq!(by_state.len(), 8, "{by_state:?}");
    // Each history starts with its request and ends in the referral's state.
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM referral r WHERE r.status <> (SELECT e.status FROM referral_event e \
             WHERE e.referral_id = r.id ORDER BY e.id DESC LIMIT 1) OR 'requested' <> (SELECT e.status \
             FROM referral_event e WHERE e.referral_id = r.id ORDER BY e.id LIMIT 1)"
        )
        .await,
        0
    );
    assert!(count("SELECT COUNT(*) FROM partnership").await > 0);
    assert!(
        count("SELECT COUNT(*) FROM partnership WHERE end_date IS NULL").await > 0,
        "agreements in force"
    );
    assert!(count("SELECT COUNT(*) FROM service").await > 0);
    assert!(
        count("SELECT COUNT(DISTINCT org_id) FROM service").await > 1,
        "services of several organizations"
    );
    pool.close().await;
}
