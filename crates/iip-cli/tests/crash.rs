//! Crash durability: clients write through the JSON API while the server is killed with
//! SIGKILL at random moments, 25 times (IIP_CRASH_RESTARTS for more), on SQLite and on PostgreSQL. Afterwards every
//! acknowledged write is in the store, none twice, nothing refused, and the store passes its
//! integrity check (`iip check`). The checker itself is tested in `iip-harness`.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use iip_harness::history::{History, Outcome};
use iip_harness::http::call;
use iip_harness::server::Server;
use iip_store::{CaseStore, Store};

mod support;
use support::{Database, iip, text};

/// Kills per backend: 25 in the gate; IIP_CRASH_RESTARTS raises it for the long run.
fn restarts() -> u64 {
    std::env::var("IIP_CRASH_RESTARTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(25)
}
const CLIENTS: u64 = 4;
const PREFIX: &str = "crash-";

/// A store with a package, a case worker and a token: `(org, token)`.
fn prepare(db: &str, key: &str, dir: &Path) -> (String, String) {
    let package = dir.join("package");
    let package = package.to_str().expect("utf-8");
    let generated = iip(&["generate", "--participants", "200", "--seed", "11", "--out", package]);
    assert!(generated.status.success(), "{}", text(&generated.stderr));
    let imported = iip(&["import", "--db", db, "--key-file", key, package]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    let orgs = std::fs::read_to_string(dir.join("package/organizations.csv")).expect("organizations");
    let org = orgs
        .lines()
        .find(|l| l.split(',').nth(3) == Some("local"))
        .and_then(|l| l.split(',').next())
        .expect("a local organization")
        .to_owned();
    let token = support::case_worker_token(db, Some(key), "crash@example.org", &org);
    (org, token)
}

/// One client: creates participants `crash-r{round}-c{client}-{n}` until told to stop.
fn client(address: String, token: String, round: u64, id: u64, stop: Arc<AtomicBool>) -> (History, u64) {
    let mut history = History::default();
    let mut server_errors = 0;
    for n in 0.. {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let key = format!("{PREFIX}r{round}-c{id}-{n}");
        let body = format!(r#"{{"participant_id":"{key}"}}"#);
        match call(&address, "POST", "/api/participants", Some(&token), &body) {
            Ok(answer) => match answer.status {
                201 | 409 => history.record(key, Outcome::Acknowledged),
                503 => history.record(key, Outcome::Refused),
                status if status >= 500 => {
                    server_errors += 1;
                    history.record(key, Outcome::Unknown);
                }
                status => panic!("{key}: unexpected {status}: {}", answer.body),
            },
            // Refused before anything was sent: the server is gone; nothing to record.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
            Err(_) => history.record(key, Outcome::Unknown),
        }
    }
    (history, server_errors)
}

/// SplitMix64: the kill moments, the same on every run.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Kills the server `restarts()` times under load; returns the merged history.
fn crash_under_load(db: &str, key: &str, token: &str) -> History {
    let bin = Path::new(env!("CARGO_BIN_EXE_iip"));
    let mut history = History::default();
    let mut server_errors = 0;
    let mut seed = 0x1ee7;
    for round in 0..restarts() {
        let server = Server::start(bin, &["--db", db, "--key-file", key]).expect("the server restarts");
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|id| {
                let (address, token, stop) = (server.address.clone(), token.to_owned(), stop.clone());
                std::thread::spawn(move || client(address, token, round, id, stop))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(50 + next(&mut seed) % 250));
        server.kill9();
        stop.store(true, Ordering::SeqCst);
        for handle in clients {
            let (seen, errors) = handle.join().expect("client");
            history.merge(seen);
            server_errors += errors;
        }
    }
    assert_eq!(server_errors, 0, "no 5xx other than 503 under crashes");
    history
}

async fn verify<S: Store>(store: S, org: &str, history: &History) {
    assert_eq!(store.integrity_check().await.expect("check"), Ok(()));
    let stored = store.search_participants(org, PREFIX, u32::MAX).await.expect("list");
    let keys: Vec<&str> = stored.iter().map(|p| p.participant_id.as_str()).collect();
    let summary = history.check(keys.iter().copied()).unwrap_or_else(|v| panic!("{v:?}"));
    eprintln!(
        "{} restarts: {} acknowledged, {} unknown ({} present), {} refused; 0 lost",
        restarts(),
        summary.acknowledged,
        summary.unknown,
        summary.unknown_present,
        summary.refused
    );
    assert!(
        summary.acknowledged as u64 >= restarts() * CLIENTS,
        "the load really ran: {summary:?}"
    );
    store.close().await;
}

/// Prepares the store at `db`, crashes the server under load, runs `iip check`; returns the
/// organization, the master key and the history.
fn crash(db: &str, dir: &Path) -> (String, iip_vault::MasterKey, History) {
    let key_path = dir.join("master.key");
    let key = key_path.to_str().expect("utf-8");
    assert!(iip(&["keys", "init", "--key-file", key]).status.success());
    let (org, token) = prepare(db, key, dir);
    let history = crash_under_load(db, key, &token);
    let checked = iip(&["check", "--db", db, "--key-file", key]);
    assert!(
        checked.status.success(),
        "{}{}",
        text(&checked.stdout),
        text(&checked.stderr)
    );
    let master = iip_vault::MasterKey::from_hex(&std::fs::read_to_string(&key_path).expect("key")).expect("key");
    (org, master, history)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_every_acknowledged_write_through_repeated_kills() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("crash.db");
    let db = db.to_str().expect("utf-8").to_owned();
    let (org, key, history) = {
        let (db, dir) = (db.clone(), dir.path().to_owned());
        tokio::task::spawn_blocking(move || crash(&db, &dir))
            .await
            .expect("crash run")
    };
    let store = iip_store_sqlite::SqliteStore::open_with_key(Path::new(&db), Some(key))
        .await
        .expect("open");
    verify(store, &org, &history).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_every_acknowledged_write_through_repeated_kills() {
    let Some(database) = tokio::task::spawn_blocking(|| Database::create("crash"))
        .await
        .expect("create")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let url = database.url(None);
    let (org, key, history) = {
        let (url, dir) = (url.clone(), dir.path().to_owned());
        tokio::task::spawn_blocking(move || crash(&url, &dir))
            .await
            .expect("crash run")
    };
    let store = iip_store_postgres::PgStore::connect(&url, Some(key))
        .await
        .expect("connect");
    verify(store, &org, &history).await;
    drop(database);
}

/// Graceful shutdown: SIGTERM under write load. The server stops accepting, finishes what is in
/// flight, closes the store and exits 0; every acknowledged write is there, SQLite's WAL is
/// checkpointed into the file, and the store passes `iip check`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_finishes_in_flight_writes_and_exits_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db_path = dir.path().join("graceful.db");
    let db = db_path.to_str().expect("utf-8").to_owned();
    let key_path = dir.path().join("master.key");
    let key = key_path.to_str().expect("utf-8").to_owned();
    assert!(iip(&["keys", "init", "--key-file", &key]).status.success());
    let (org, token) = prepare(&db, &key, dir.path());
    let bin = Path::new(env!("CARGO_BIN_EXE_iip"));
    let (history, status) = {
        let (db, key) = (db.clone(), key.clone());
        tokio::task::spawn_blocking(move || {
            let mut history = History::default();
            let mut last = None;
            for round in 0..3 {
                let server = Server::start(bin, &["--db", &db, "--key-file", &key]).expect("the server starts");
                let stop = Arc::new(AtomicBool::new(false));
                let clients: Vec<_> = (0..CLIENTS)
                    .map(|id| {
                        let (address, token, stop) = (server.address.clone(), token.clone(), stop.clone());
                        std::thread::spawn(move || client(address, token, 100 + round, id, stop))
                    })
                    .collect();
                std::thread::sleep(Duration::from_millis(300));
                last = server.terminate(Duration::from_secs(20));
                stop.store(true, Ordering::SeqCst);
                for handle in clients {
                    let (seen, errors) = handle.join().expect("client");
                    assert_eq!(errors, 0, "no 5xx while shutting down");
                    history.merge(seen);
                }
                assert!(last.is_some_and(|s| s.success()), "round {round}: exit {last:?}");
            }
            (history, last)
        })
        .await
        .expect("shutdown run")
    };
    assert!(status.is_some_and(|s| s.success()));
    let wal = dir.path().join("graceful.db-wal");
    assert!(
        std::fs::metadata(&wal).map_or(true, |m| m.len() == 0),
        "the WAL is checkpointed into the database at shutdown"
    );
    let checked = iip(&["check", "--db", &db, "--key-file", &key]);
    assert!(
        checked.status.success(),
        "{}{}",
        text(&checked.stdout),
        text(&checked.stderr)
    );
    let master = iip_vault::MasterKey::from_hex(&std::fs::read_to_string(&key_path).expect("key")).expect("key");
    let store = iip_store_sqlite::SqliteStore::open_with_key(&db_path, Some(master))
        .await
        .expect("open");
    let stored = store.search_participants(&org, PREFIX, u32::MAX).await.expect("list");
    let summary = history
        .check(stored.iter().map(|p| p.participant_id.as_str()))
        .unwrap_or_else(|v| panic!("{v:?}"));
    eprintln!(
        "graceful shutdown, 3 rounds: {} acknowledged, {} unknown ({} present), 0 lost",
        summary.acknowledged, summary.unknown, summary.unknown_present
    );
    assert!(
        summary.acknowledged >= 3 * CLIENTS as usize,
        "the load really ran: {summary:?}"
    );
    store.close().await;
}
