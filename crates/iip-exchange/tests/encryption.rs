//! Identities encrypted at rest, through the real importer and store: nothing identifying is
//! readable in the raw database file, the right key opens everything, a wrong or missing key
//! opens nothing, and names are still found by their blind indexes.

use iip_domain::Date;
use iip_exchange::{ImportOptions, Issue, import_package};
use iip_framework::Framework;
use iip_generate::{GeneratorConfig, generate};
use iip_store::{CaseStore, IdentityStore, Store};
use iip_store_sqlite::SqliteStore;
use iip_vault::MasterKey;

async fn import(store: &SqliteStore, package: &std::path::Path) {
    let framework = Framework::builtin().expect("framework");
    let mut issues: Vec<Issue> = Vec::new();
    let options = ImportOptions {
        skip_invalid: false,
        today: Date::today(),
    };
    let summary = import_package(store, &framework, package, options, &mut issues)
        .await
        .expect("import");
    assert!(summary.committed, "{issues:?}");
}

#[tokio::test]
async fn the_raw_file_holds_no_name_or_birth_date_and_only_the_key_opens_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let package = dir.path().join("package");
    generate(GeneratorConfig { people: 400, seed: 5 }, &package).expect("generate");
    let key = MasterKey::generate().expect("key");
    let path = dir.path().join("sealed.db");
    let store = SqliteStore::open_with_key(&path, Some(key.clone()))
        .await
        .expect("open");
    import(&store, &package).await;

    // The same package in the clear has the same content digest: sealing changes nothing else.
    let clear = SqliteStore::open(&dir.path().join("clear.db")).await.expect("open");
    import(&clear, &package).await;
    assert_eq!(
        store.content_digest().await.expect("digest"),
        clear.content_digest().await.expect("digest")
    );

    // Every identifying value of the package, read back from the raw file (and its WAL).
    store.close().await;
    let mut raw = std::fs::read(&path).expect("db file");
    if let Ok(wal) = std::fs::read(dir.path().join("sealed.db-wal")) {
        raw.extend(wal);
    }
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let participants = std::fs::read_to_string(package.join("participants.csv")).expect("participants");
    let header: Vec<&str> = participants.lines().next().expect("header").split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).expect("column");
    let (first, last, born) = (column("first_name"), column("last_name"), column("date_of_birth"));
    // Organization rows are public and stored in the clear: a name that is also part of a city
    // ("Rosa" in "Santa Rosa") proves nothing either way.
    let public = std::fs::read_to_string(package.join("organizations.csv")).expect("organizations");
    let mut checked = 0;
    for line in participants.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        for value in [fields[first], fields[last], fields[born]] {
            if value.len() >= 4 && !public.contains(value) {
                assert!(!raw.contains(value), "an identifying value is readable in the file");
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "{checked} values checked");
    // The check itself works: the store kept in the clear does show the names.
    clear.close().await;
    let clear_raw = String::from_utf8_lossy(&std::fs::read(dir.path().join("clear.db")).expect("db")).into_owned()
        + &String::from_utf8_lossy(&std::fs::read(dir.path().join("clear.db-wal")).unwrap_or_default());
    let sample = participants
        .lines()
        .nth(1)
        .expect("a row")
        .split(',')
        .nth(last)
        .expect("a last name");
    assert!(
        clear_raw.contains(sample),
        "the clear store holds the name the sealed one hides"
    );

    // The right key opens; the wrong key and no key do not.
    let record_line = participants.lines().nth(1).expect("a participant");
    let fields: Vec<&str> = record_line.split(',').collect();
    let (org, id) = (fields[column("org_id")], fields[column("participant_id")]);
    let reopened = SqliteStore::open_with_key(&path, Some(key)).await.expect("open");
    let record = reopened
        .participant_record(org, id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(record.participant.identity.last_name.as_deref(), Some(fields[last]));
    let found = reopened
        .search_participants(org, fields[last], 500)
        .await
        .expect("search");
    assert!(
        found.iter().any(|p| p.participant_id == id),
        "found by the blind index of the last name"
    );
    let full = format!("{} {}", fields[first], fields[last]);
    let found = reopened
        .search_participants(org, &full.to_uppercase(), 500)
        .await
        .expect("search");
    assert!(
        found.iter().any(|p| p.participant_id == id),
        "found by first and last name, any case"
    );
    let wrong = SqliteStore::open_with_key(&path, Some(MasterKey::generate().expect("key")))
        .await
        .expect("open");
    assert!(
        wrong.participant_record(org, id).await.is_err(),
        "a wrong key opens nothing"
    );
    let none = SqliteStore::open(&path).await.expect("open");
    assert!(none.participant_record(org, id).await.is_err(), "no key opens nothing");
    // And a store that keeps identities sealed refuses to take any in the clear.
    let err = import_package(
        &none,
        &Framework::builtin().expect("framework"),
        &package,
        ImportOptions {
            skip_invalid: false,
            today: Date::today(),
        },
        &mut Vec::new(),
    )
    .await;
    assert!(err.is_err(), "importing identities without the key is refused");
}

#[tokio::test]
async fn rotation_rewraps_the_keys_and_forgetting_leaves_the_facts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let package = dir.path().join("package");
    generate(GeneratorConfig { people: 200, seed: 6 }, &package).expect("generate");
    let old = MasterKey::generate().expect("key");
    let path = dir.path().join("s.db");
    let store = SqliteStore::open_with_key(&path, Some(old.clone()))
        .await
        .expect("open");
    import(&store, &package).await;
    let participants = std::fs::read_to_string(package.join("participants.csv")).expect("participants");
    let rows: Vec<Vec<String>> = participants
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    let (a, b) = (
        &rows[0],
        rows.iter().find(|r| r[0] != rows[0][0]).expect("another organization"),
    );

    let new = MasterKey::generate().expect("key");
    let mut seen = Vec::new();
    let rotated = store
        .rotate_master_key(&new, |done, total| seen.push((done, total)))
        .await
        .expect("rotate");
    assert!(rotated >= 2 && seen.last() == Some(&(rotated, rotated)), "{seen:?}");
    let with_new = SqliteStore::open_with_key(&path, Some(new.clone()))
        .await
        .expect("open");
    assert!(with_new.participant_record(&a[0], &a[1]).await.expect("read").is_some());
    let with_old = SqliteStore::open_with_key(&path, Some(old)).await.expect("open");
    assert!(
        with_old.participant_record(&a[0], &a[1]).await.is_err(),
        "the retired key opens nothing"
    );

    let before = with_new.counts().await.expect("counts");
    assert!(with_new.forget_participant(&a[0], &a[1]).await.expect("forget"));
    let record = with_new
        .participant_record(&a[0], &a[1])
        .await
        .expect("read")
        .expect("still a participant");
    assert!(record.participant.identity.is_empty(), "no name or birth date left");
    let removed = with_new.forget_organization(&b[0]).await.expect("forget");
    assert!(removed > 0);
    let after = with_new.counts().await.expect("counts");
    assert_eq!(
        (
            after.participants,
            after.activities,
            after.milestones,
            after.assessments
        ),
        (
            before.participants,
            before.activities,
            before.milestones,
            before.assessments
        ),
        "the facts the metrics count are untouched"
    );
    assert!(
        with_new
            .participant_record(&b[0], &b[1])
            .await
            .expect("read")
            .expect("found")
            .participant
            .identity
            .is_empty()
    );
    // Other organizations' identities still open.
    let c = rows
        .iter()
        .find(|r| r[0] != a[0] && r[0] != b[0] && r.get(4).is_some_and(|n| !n.is_empty()));
    if let Some(c) = c {
        let record = with_new
            .participant_record(&c[0], &c[1])
            .await
            .expect("read")
            .expect("found");
        assert!(!record.participant.identity.is_empty());
    }
}
