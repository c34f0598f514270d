//! Crash durability: 8 clients write through the JSON API, each write with an
//! `Idempotency-Key`, while the server is killed with SIGKILL at random moments, 25 times
//! (IIP_CRASH_RESTARTS for more), on SQLite and on PostgreSQL; on PostgreSQL the database
//! itself is also crashed (`pg_ctlcluster … stop -m immediate`) and once held down for 10 s,
//! when IIP_TEST_POSTGRES_CLUSTER names the local cluster. A write whose answer was lost
//! (or refused with 503) is sent again with the same key by the next incarnation of the
//! server, as a real integration would. Afterwards every acknowledged write is in the store,
//! none twice (a write recorded before its answer was lost comes back as a replay, not a
//! second record), nothing answered "nothing was written" had been written, and the store
//! passes its integrity check (`iip check`). The history checker is tested in `iip-harness`.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use iip_harness::history::{History, Outcome};
use iip_harness::http::call_with;
use iip_harness::server::Server;
use iip_store::Store;

mod support;
use support::{Database, iip, text};

/// Kills per backend: 25 in the gate; IIP_CRASH_RESTARTS raises it for the long run.
fn restarts() -> u64 {
    std::env::var("IIP_CRASH_RESTARTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(25)
}
const CLIENTS: u64 = 8;
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

/// One write, sent until it is answered: its history key (also its `Idempotency-Key`), its
/// path and its body.
#[derive(Clone, Debug)]
struct Write {
    key: String,
    path: String,
    body: String,
    /// A send was answered 503, nothing written.
    refused: bool,
    /// A send's outcome is unknown (its answer lost, or "may or may not be recorded").
    doubtful: bool,
}

/// What the clients saw, over every round.
#[derive(Debug, Default)]
struct Tally {
    history: History,
    /// 5xx other than 503.
    server_errors: u64,
    /// Writes sent again after a lost answer or a 503.
    resent: u64,
    /// Resent writes answered as replays: recorded before their first answer was lost.
    replays: u64,
    /// Replays of a write first answered "nothing was written": must stay 0.
    refused_but_recorded: u64,
    /// 503s, and the slowest of them.
    unavailable: u64,
    slowest_503: Duration,
    /// 503s without Retry-After: must stay 0.
    no_retry_after: u64,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.history.merge(other.history);
        self.server_errors += other.server_errors;
        self.resent += other.resent;
        self.replays += other.replays;
        self.refused_but_recorded += other.refused_but_recorded;
        self.unavailable += other.unavailable;
        self.slowest_503 = self.slowest_503.max(other.slowest_503);
        self.no_retry_after += other.no_retry_after;
    }
}

/// A writing client that outlives server restarts. Each round it first sends again, with the
/// same key, every write it has no acknowledgement for; then it takes in a participant of
/// its own and records activity sessions for it, one day after another.
struct Client {
    id: u64,
    token: String,
    pending: VecDeque<Write>,
    tally: Tally,
}

impl Client {
    fn new(id: u64, token: &str) -> Self {
        Self {
            id,
            token: token.to_owned(),
            pending: VecDeque::new(),
            tally: Tally::default(),
        }
    }

    /// The `n`th new write of a round: the intake first, then sessions on successive days.
    fn write(&self, round: u64, n: i32) -> Write {
        let participant = format!("{PREFIX}r{round}-c{}", self.id);
        if n == 0 {
            return Write {
                key: participant.clone(),
                path: "/api/participants".into(),
                body: format!(r#"{{"participant_id":"{participant}"}}"#),
                refused: false,
                doubtful: false,
            };
        }
        let first = iip_domain::Date::from_ymd(2020, 1, 1).expect("date").day_number();
        let date = iip_domain::Date::from_day_number(first + n - 1).expect("date");
        Write {
            key: format!("{participant}/{date}"),
            path: format!("/api/participants/{participant}/activities"),
            body: format!(r#"{{"date":"{date}","program":"esl","hours":"1"}}"#),
            refused: false,
            doubtful: false,
        }
    }

    /// The pending write's last send has an unknown outcome: a replay later may be of it.
    fn sent_in_doubt(&mut self) {
        if let Some(front) = self.pending.front_mut() {
            front.doubtful = true;
        }
    }

    /// Writes until told to stop or the server is gone; with `settle`, only sends again what
    /// is pending.
    fn round(mut self, address: &str, round: u64, stop: &AtomicBool, settle: bool) -> Self {
        let mut n = 0;
        let mut first_send = true;
        while !stop.load(Ordering::SeqCst) {
            let write = match self.pending.front() {
                Some(w) => w.clone(),
                // At most 2 000 days of sessions a round (far more than a round writes).
                None if settle || n > 2_000 => break,
                None => {
                    let w = self.write(round, n);
                    n += 1;
                    first_send = true;
                    self.pending.push_back(w.clone());
                    w
                }
            };
            if !first_send {
                self.tally.resent += 1;
            }
            first_send = false;
            let started = Instant::now();
            let headers = [("Idempotency-Key", write.key.as_str())];
            let answer = call_with(address, "POST", &write.path, Some(&self.token), &headers, &write.body);
            let history = &mut self.tally.history;
            match answer {
                Ok(answer) if answer.status == 201 => {
                    if answer.header("idempotent-replayed").is_some() {
                        self.tally.replays += 1;
                        self.tally.refused_but_recorded += u64::from(write.refused && !write.doubtful);
                    }
                    history.record(write.key, Outcome::Acknowledged);
                    self.pending.pop_front();
                    first_send = true;
                }
                Ok(answer) if answer.status == 503 => {
                    self.tally.unavailable += 1;
                    self.tally.slowest_503 = self.tally.slowest_503.max(started.elapsed());
                    self.tally.no_retry_after += u64::from(answer.header("retry-after").is_none());
                    // "May or may not be recorded" (the commit's answer was lost) is not a refusal.
                    let in_doubt = answer.body.contains("may or may not");
                    history.record(write.key, if in_doubt { Outcome::Unknown } else { Outcome::Refused });
                    if let Some(front) = self.pending.front_mut() {
                        front.refused |= !in_doubt;
                        front.doubtful |= in_doubt;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Ok(answer) if answer.status >= 500 => {
                    self.tally.server_errors += 1;
                    history.record(write.key, Outcome::Unknown);
                    self.sent_in_doubt();
                }
                Ok(answer) => panic!("{}: unexpected {}: {}", write.key, answer.status, answer.body),
                // Refused before anything was sent: the server is gone; nothing to record.
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
                Err(_) => {
                    history.record(write.key, Outcome::Unknown);
                    self.sent_in_doubt();
                }
            }
        }
        self
    }
}

/// SplitMix64: the kill moments, the same on every run.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The local PostgreSQL cluster the tests may crash (`15 main`), from
/// IIP_TEST_POSTGRES_CLUSTER; `None` leaves the database alone.
fn cluster() -> Option<Vec<String>> {
    let named = std::env::var("IIP_TEST_POSTGRES_CLUSTER").ok()?;
    let parts: Vec<String> = named.split_whitespace().map(str::to_owned).collect();
    (parts.len() == 2).then_some(parts)
}

fn pg_ctlcluster(cluster: &[String], action: &[&str]) {
    let out = std::process::Command::new("pg_ctlcluster")
        .args(cluster)
        .args(action)
        .output()
        .expect("pg_ctlcluster runs");
    assert!(out.status.success(), "pg_ctlcluster {action:?}: {}", text(&out.stderr));
}

/// How the database is crashed in a round, if it is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum DatabaseCrash {
    None,
    /// `stop -m immediate` (no shutdown checkpoint: crash recovery at the next start), then
    /// started again at once, or after `Duration`.
    Immediate(Duration),
}

/// Kills the server `restarts()` times under load, then lets every client send what is still
/// pending; on PostgreSQL every fifth round crashes the database as well (the first time
/// holding it down for 10 s).
fn crash_under_load(db: &str, key: &str, token: &str, database_crashes: bool) -> Tally {
    let bin = Path::new(env!("CARGO_BIN_EXE_iip"));
    let mut clients: Vec<Client> = (0..CLIENTS).map(|id| Client::new(id, token)).collect();
    let mut seed = 0x1ee7;
    let cluster = cluster().filter(|_| database_crashes);
    let mut database_crashed = 0;
    for round in 0..=restarts() {
        let settle = round == restarts();
        let server = Server::start(bin, &["--db", db, "--key-file", key]).expect("the server restarts");
        let stop = Arc::new(AtomicBool::new(false));
        let running: Vec<_> = clients
            .drain(..)
            .map(|client| {
                let (address, stop) = (server.address.clone(), stop.clone());
                std::thread::spawn(move || client.round(&address, round, &stop, settle))
            })
            .collect();
        let crash = match &cluster {
            Some(_) if round % 5 == 4 && !settle => {
                DatabaseCrash::Immediate(Duration::from_secs(if database_crashed == 0 { 10 } else { 0 }))
            }
            _ => DatabaseCrash::None,
        };
        if settle {
            // The last round only sends again what is pending; it ends when the clients do.
            for handle in running {
                clients.push(handle.join().expect("client"));
            }
            server.kill9();
            break;
        }
        std::thread::sleep(Duration::from_millis(50 + next(&mut seed) % 250));
        if let (DatabaseCrash::Immediate(down), Some(cluster)) = (crash, &cluster) {
            pg_ctlcluster(cluster, &["stop", "-m", "immediate"]);
            std::thread::sleep(down);
            pg_ctlcluster(cluster, &["start"]);
            database_crashed += 1;
            // The server was not restarted: it reconnects by itself and writes go on.
            std::thread::sleep(Duration::from_millis(500));
        }
        server.kill9();
        stop.store(true, Ordering::SeqCst);
        for handle in running {
            clients.push(handle.join().expect("client"));
        }
    }
    let mut tally = Tally::default();
    for client in clients {
        assert!(client.pending.is_empty(), "client {}: {:?}", client.id, client.pending);
        tally.add(client.tally);
    }
    assert_eq!(tally.server_errors, 0, "no 5xx other than 503 under crashes");
    assert_eq!(tally.no_retry_after, 0, "every 503 says when to retry");
    assert_eq!(
        tally.refused_but_recorded, 0,
        "a 503 that said nothing was written had written nothing"
    );
    if cluster.is_some() {
        assert!(database_crashed >= 1, "the database was crashed");
        // Fail fast: while the database is down (10 s once), a request answers within the
        // pool's 2 s wait for a connection, not when the database is back.
        assert!(
            tally.slowest_503 < Duration::from_secs(8),
            "a 503 came after {:?}",
            tally.slowest_503
        );
        eprintln!(
            "database crashed {database_crashed} times (stop -m immediate; once held down 10 s): {} answers 503 \
             with Retry-After, the slowest in {} ms",
            tally.unavailable,
            tally.slowest_503.as_millis()
        );
    } else if database_crashes {
        eprintln!("database crashes SKIPPED: set IIP_TEST_POSTGRES_CLUSTER (\"15 main\") to crash the local cluster");
    }
    tally
}

/// The history keys of what the store holds: each test participant, and each of its
/// sessions (a session recorded twice appears twice).
async fn stored_keys<S: Store>(store: &S, org: &str) -> Vec<String> {
    let stored = store.search_participants(org, PREFIX, u32::MAX).await.expect("list");
    let mut keys: Vec<String> = Vec::new();
    for participant in &stored {
        let pid = participant.participant_id.as_str();
        keys.push(pid.to_owned());
        let record = store
            .participant_record(org, pid)
            .await
            .expect("record")
            .expect("listed");
        let pathway = store.pathway(record.row).await.expect("pathway");
        keys.extend(pathway.activities.iter().map(|a| format!("{pid}/{}", a.date)));
    }
    keys
}

async fn verify<S: Store>(store: S, org: &str, tally: &Tally) {
    assert_eq!(store.integrity_check().await.expect("check"), Ok(()));
    let keys = stored_keys(&store, org).await;
    let summary = tally
        .history
        .check(keys.iter().map(String::as_str))
        .unwrap_or_else(|v| panic!("{v:?}"));
    eprintln!(
        "{} restarts, {CLIENTS} clients: {} writes acknowledged, {} answers lost or refused and sent again with \
         their key ({} of them replays of a write already recorded), {} still unknown; 0 lost, 0 twice",
        restarts(),
        summary.acknowledged,
        tally.resent,
        tally.replays,
        summary.unknown
    );
    assert_eq!(
        summary.unknown + summary.refused,
        0,
        "every write was settled: {summary:?}"
    );
    assert!(
        summary.acknowledged as u64 >= restarts() * CLIENTS,
        "the load really ran: {summary:?}"
    );
    assert!(
        tally.resent > 0,
        "some answers were lost and the writes sent again: {tally:?}"
    );
    store.close().await;
}

/// Prepares the store at `db`, crashes the server under load, runs `iip check`; returns the
/// organization, the master key and what the clients saw.
fn crash(db: &str, dir: &Path, database_crashes: bool) -> (String, iip_vault::MasterKey, Tally) {
    let key_path = dir.join("master.key");
    let key = key_path.to_str().expect("utf-8");
    assert!(iip(&["keys", "init", "--key-file", key]).status.success());
    let (org, token) = prepare(db, key, dir);
    let tally = crash_under_load(db, key, &token, database_crashes);
    let checked = iip(&["check", "--db", db, "--key-file", key]);
    assert!(
        checked.status.success(),
        "{}{}",
        text(&checked.stdout),
        text(&checked.stderr)
    );
    let master = iip_vault::MasterKey::from_hex(&std::fs::read_to_string(&key_path).expect("key")).expect("key");
    (org, master, tally)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_every_acknowledged_write_through_repeated_kills() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("crash.db");
    let db = db.to_str().expect("utf-8").to_owned();
    let (org, key, history) = {
        let (db, dir) = (db.clone(), dir.path().to_owned());
        tokio::task::spawn_blocking(move || crash(&db, &dir, false))
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
        tokio::task::spawn_blocking(move || crash(&url, &dir, true))
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
            let mut clients: Vec<Client> = (0..CLIENTS).map(|id| Client::new(id, &token)).collect();
            let mut last = None;
            for round in 0..4 {
                // The last round sends again what the shutdowns left unanswered, if anything.
                let settle = round == 3;
                let server = Server::start(bin, &["--db", &db, "--key-file", &key]).expect("the server starts");
                let stop = Arc::new(AtomicBool::new(false));
                let mut running: Vec<_> = clients
                    .drain(..)
                    .map(|client| {
                        let (address, stop) = (server.address.clone(), stop.clone());
                        std::thread::spawn(move || client.round(&address, 100 + round, &stop, settle))
                    })
                    .collect();
                if settle {
                    for handle in running.drain(..) {
                        clients.push(handle.join().expect("client"));
                    }
                } else {
                    std::thread::sleep(Duration::from_millis(300));
                }
                last = server.terminate(Duration::from_secs(20));
                stop.store(true, Ordering::SeqCst);
                for handle in running {
                    clients.push(handle.join().expect("client"));
                }
                assert!(last.is_some_and(|s| s.success()), "round {round}: exit {last:?}");
            }
            let mut tally = Tally::default();
            for client in clients {
                tally.add(client.tally);
            }
            assert_eq!(tally.server_errors, 0, "no 5xx while shutting down");
            (tally.history, last)
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
    let stored = stored_keys(&store, &org).await;
    let summary = history
        .check(stored.iter().map(String::as_str))
        .unwrap_or_else(|v| panic!("{v:?}"));
    eprintln!(
        "graceful shutdown, 3 rounds, {CLIENTS} clients: {} acknowledged, {} unknown ({} present), 0 lost",
        summary.acknowledged, summary.unknown, summary.unknown_present
    );
    assert_eq!(summary.unknown, 0, "a graceful shutdown leaves no answer lost");
    assert!(
        summary.acknowledged >= 3 * CLIENTS as usize,
        "the load really ran: {summary:?}"
    );
    store.close().await;
}
