//! The SQLite store keeps a participant's pathway between its changes (`point.rs`). A kept
//! pathway must never outlive a change: one made through the store, one made by another
//! connection on the same file (an import beside the server), and a participant row id that
//! SQLite gives again after a deletion.

use std::sync::Arc;

use iip_domain::records::{Activity, Hours, Identity, Participant};
use iip_domain::{Date, Id, Program};
use iip_store::{CaseStore, Pathway, Store};
use iip_store_sqlite::SqliteStore;
use sqlx::{Connection, SqliteConnection};

fn id(raw: &str) -> Id {
    Id::parse(raw).expect("id")
}

fn day(y: i32, m: u8, d: u8) -> Date {
    Date::from_ymd(y, m, d).expect("date")
}

async fn read(store: &SqliteStore, org: &str, participant: &str) -> (i64, Arc<Pathway>) {
    let (record, pathway) = store
        .participant_with_pathway(org, participant)
        .await
        .expect("read")
        .expect("found");
    (record.row, pathway)
}

/// Runs one statement on a connection of its own, as another process would.
async fn elsewhere(path: &std::path::Path, sql: &str) {
    let url = format!("sqlite://{}", path.display());
    let mut conn = SqliteConnection::connect(&url).await.expect("connect");
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut conn)
        .await
        .expect("pragma");
    let done = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .expect("statement");
    assert!(done.rows_affected() > 0, "{sql} changed nothing");
    conn.close().await.expect("close");
}

#[tokio::test]
async fn a_kept_pathway_never_outlives_a_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cache.db");
    let store = SqliteStore::open(&path).await.expect("open");
    let package = iip_store_conformance::write_package(dir.path(), "demo", &iip_store_conformance::demo_files());
    let (summary, issues) = iip_store_conformance::import(&store, &package).await;
    assert!(summary.committed, "{issues:?}");

    // Read twice without a change: the second read is the kept pathway itself.
    let (row, first) = read(&store, "school", "p1").await;
    let (_, again) = read(&store, "school", "p1").await;
    assert!(Arc::ptr_eq(&first, &again), "an unchanged pathway is kept");
    assert_eq!(
        (first.activities.len(), first.milestones.len(), first.assessments.len()),
        (2, 1, 1)
    );

    // A write through the store.
    store
        .record_activity(&Activity {
            org_id: id("school"),
            participant_id: id("p1"),
            date: day(2025, 5, 6),
            program: Program::Esl,
            hours: Hours::from_hundredths(75).expect("hours"),
            element: None,
        })
        .await
        .expect("activity")
        .expect("recorded");
    let (_, after_write) = read(&store, "school", "p1").await;
    assert_eq!(after_write.activities.len(), 3);
    assert!(after_write.activities.iter().any(|a| a.hundredths == 75));

    // Another connection changes, adds and removes rows of every kind.
    elsewhere(
        &path,
        &format!("UPDATE activity SET hours_centi = 999 WHERE participant_row = {row} AND hours_centi = 75"),
    )
    .await;
    let (_, changed) = read(&store, "school", "p1").await;
    assert!(changed.activities.iter().any(|a| a.hundredths == 999), "{changed:?}");
    assert!(!changed.activities.iter().any(|a| a.hundredths == 75));

    elsewhere(
        &path,
        &format!(
            "INSERT INTO milestone (participant_row, date, milestone, element) \
             VALUES ({row}, '2025-06-01', 'civic.volunteered', 'civic')"
        ),
    )
    .await;
    let (_, added) = read(&store, "school", "p1").await;
    assert_eq!(added.milestones.len(), 2);

    elsewhere(&path, &format!("DELETE FROM assessment WHERE participant_row = {row}")).await;
    let (_, removed) = read(&store, "school", "p1").await;
    assert!(removed.assessments.is_empty());

    let item = store
        .add_pathway_item(
            row,
            iip_store::PathwayKind::Goal,
            "english",
            "Evening class",
            None,
            day(2025, 6, 2),
        )
        .await
        .expect("goal");
    elsewhere(
        &path,
        &format!("UPDATE pathway_item SET description = 'Morning class' WHERE id = {item}"),
    )
    .await;
    let (_, items) = read(&store, "school", "p1").await;
    assert_eq!(
        items.items.iter().map(|i| i.description.as_str()).collect::<Vec<_>>(),
        ["Morning class"]
    );

    // The last participant's row is deleted elsewhere and SQLite gives its id to the next
    // participant: the new one starts with an empty pathway, not the one kept for the old.
    let (last_row, old) = read(&store, "library", "L7").await;
    assert_eq!(old.activities.len(), 1);
    let highest: i64 = {
        let mut conn = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("connect");
        sqlx::query_scalar("SELECT max(id) FROM participant")
            .fetch_one(&mut conn)
            .await
            .expect("max")
    };
    assert_eq!(last_row, highest, "the demo's library participant is the last row");
    elsewhere(&path, &format!("DELETE FROM participant WHERE id = {last_row}")).await;
    store
        .create_participant(&Participant {
            org_id: id("library"),
            participant_id: id("L8"),
            person_key: None,
            identity: Identity::default(),
            gender: None,
            race_ethnicity: None,
            country_of_birth: None,
            primary_language: None,
            us_arrival_year: None,
            zip: None,
            barriers: Vec::new(),
        })
        .await
        .expect("create")
        .expect("created");
    let (new_row, fresh) = read(&store, "library", "L8").await;
    assert_eq!(new_row, last_row, "SQLite gave the deleted row's id again");
    assert_eq!(*fresh, Pathway::default(), "a new participant's pathway is empty");
    store.close().await;
}
