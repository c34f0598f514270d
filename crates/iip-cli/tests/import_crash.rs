//! Crash atomicity of `iip import` (RELIABILITY.md, "Imports": a kill -9 during an import leaves
//! all or none of it). A store that already holds an earlier import is copied; the real binary
//! imports a larger generated package into each copy and is SIGKILLed at a seeded moment spread
//! over the measured duration of a full import, plus once right after it reports the commit
//! (while it closes the store). After each kill `iip check` must pass and the store must equal,
//! by counts, content digest and revision, either the earlier store (none of the package) or a
//! reference copy that imported the package to completion (all of it). Rerunning the import on
//! the killed store then ends equal to the reference. SQLite always; PostgreSQL with fewer
//! kills when a server is usable (IIP_TEST_POSTGRES, see `support::Database`).

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use iip_store::{Store, TableCounts};

mod support;
use support::{Database, admin_url, iip, psql, text};

/// SplitMix64: the kill moments, the same on every run.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `kills` fractions of a full import's duration, one in each of `kills` equal slices of
/// [0.03, 0.97]: spread over the whole import, seeded.
fn moments(kills: u32, seed: u64) -> Vec<f64> {
    let mut state = seed;
    (0..kills)
        .map(|i| {
            let jitter = (next(&mut state) % 1000) as f64 / 1000.0;
            0.03 + 0.94 * (f64::from(i) + jitter) / f64::from(kills)
        })
        .collect()
}

/// What a store holds, as far as "all or none" is concerned.
#[derive(Debug, Clone, PartialEq)]
struct State {
    /// The counts line `iip check` prints.
    checked: String,
    counts: TableCounts,
    digest: String,
    /// Grows by one with every committed import.
    revision: i64,
}

impl State {
    /// The same content (a rerun after a committed import adds a revision, not content).
    fn same_content(&self, other: &State) -> bool {
        self.checked == other.checked && self.counts == other.counts && self.digest == other.digest
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(future)
}

async fn read<S: Store>(store: S) -> (TableCounts, String, i64) {
    let counts = store.counts().await.expect("counts");
    let digest = store.content_digest().await.expect("digest");
    let revision = store.revision().await.expect("revision");
    store.close().await;
    (counts, digest, revision)
}

/// Where the stores live: fresh copies of the store holding the earlier import.
trait Backend {
    fn name(&self) -> &'static str;
    /// A new store holding exactly what the earlier store holds; its `--db`.
    fn copy_of_base(&mut self, tag: &str) -> String;
    /// A store holding what the earlier store holds, to read the "none" state from.
    fn none(&mut self) -> String {
        self.copy_of_base("none")
    }
    /// Removes a copy that is no longer needed.
    fn discard(&mut self, db: &str);
    /// After a kill: wait until nothing of the killed process can still change the store.
    fn settle(&self, db: &str);
    fn open_and_read(&self, db: &str, key: &iip_vault::MasterKey) -> (TableCounts, String, i64);
}

struct Sqlite {
    dir: PathBuf,
    base: PathBuf,
}

impl Backend for Sqlite {
    fn name(&self) -> &'static str {
        "SQLite"
    }

    fn copy_of_base(&mut self, tag: &str) -> String {
        let copy = self.dir.join(format!("{tag}.db"));
        std::fs::copy(&self.base, &copy).expect("copy the store");
        // The earlier import's process closed the store, so its WAL is checkpointed; copy it
        // anyway if one is left, so the copy is the same store.
        let wal = self.base.with_extension("db-wal");
        if wal.exists() {
            std::fs::copy(&wal, copy.with_extension("db-wal")).expect("copy the WAL");
        }
        copy.to_str().expect("utf-8").to_owned()
    }

    fn settle(&self, _db: &str) {}

    fn discard(&mut self, db: &str) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{db}{suffix}"));
        }
    }

    fn open_and_read(&self, db: &str, key: &iip_vault::MasterKey) -> (TableCounts, String, i64) {
        block_on(async {
            let store = iip_store_sqlite::SqliteStore::open_with_key(Path::new(db), Some(key.clone()))
                .await
                .expect("open the store");
            read(store).await
        })
    }
}

struct Postgres {
    /// Holds the earlier import; the template of every copy. Dropped last.
    base: Database,
    base_name: String,
    copies: Vec<String>,
}

impl Postgres {
    fn url(&self, name: &str) -> String {
        let url = self.base.url(None);
        let (server, _) = url.rsplit_once('/').expect("a database URL");
        format!("{server}/{name}")
    }

    /// Sessions other than ours on `name`.
    fn sessions(name: &str) -> u64 {
        psql(
            &admin_url(),
            &format!("SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"),
        )
        .expect("pg_stat_activity")
        .trim()
        .parse()
        .expect("a count")
    }
}

impl Backend for Postgres {
    fn name(&self) -> &'static str {
        "PostgreSQL"
    }

    fn copy_of_base(&mut self, tag: &str) -> String {
        let name = format!("{}_{tag}", self.base_name);
        // A template must have no sessions: the last process's may still be closing.
        let started = Instant::now();
        loop {
            let created = psql(
                &admin_url(),
                &format!("CREATE DATABASE {name} TEMPLATE {}", self.base_name),
            );
            match created {
                Ok(_) => break,
                Err(e) if started.elapsed() < Duration::from_secs(20) => {
                    assert!(e.contains("being accessed by other users"), "{e}");
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("cannot copy {}: {e}", self.base_name),
            }
        }
        self.copies.push(name.clone());
        self.url(&name)
    }

    /// The earlier store itself: copying waits for the sessions reading it to end.
    fn none(&mut self) -> String {
        self.base.url(None)
    }

    fn discard(&mut self, db: &str) {
        let (_, name) = db.rsplit_once('/').expect("a database URL");
        let dropped = psql(&admin_url(), &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        assert!(dropped.is_ok(), "cannot drop {name}: {dropped:?}");
        self.copies.retain(|copy| copy != name);
    }

    /// The killed client's server session may still be running a statement, even a COMMIT
    /// sent just before the kill: wait until the server has ended it.
    fn settle(&self, db: &str) {
        let (_, name) = db.rsplit_once('/').expect("a database URL");
        let started = Instant::now();
        while Self::sessions(name) > 0 {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the killed import's session on {name} never ended"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn open_and_read(&self, db: &str, key: &iip_vault::MasterKey) -> (TableCounts, String, i64) {
        block_on(async {
            let store = iip_store_postgres::PgStore::connect(db, Some(key.clone()))
                .await
                .expect("connect");
            read(store).await
        })
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        for name in &self.copies {
            let _ = psql(&admin_url(), &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// The files and key of one run.
struct Setup {
    dir: tempfile::TempDir,
    key_file: String,
    key: iip_vault::MasterKey,
    earlier: String,
    package: String,
    /// The package's organizations, partnerships, participants and activities only.
    part: String,
}

fn setup(earlier_people: u32, package_people: u32) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = |name: &str| dir.path().join(name).to_str().expect("utf-8").to_owned();
    let (key_file, earlier, package) = (path("master.key"), path("earlier"), path("package"));
    let keys = iip(&["keys", "init", "--key-file", &key_file]);
    assert!(keys.status.success(), "{}", text(&keys.stderr));
    for (out, people, seed) in [(&earlier, earlier_people, "1"), (&package, package_people, "2")] {
        let people = people.to_string();
        let generated = iip(&["generate", "--participants", &people, "--seed", seed, "--out", out]);
        assert!(generated.status.success(), "{}", text(&generated.stderr));
    }
    let part = path("part");
    std::fs::create_dir(&part).expect("the part's directory");
    for file in [
        "organizations.csv",
        "partnerships.csv",
        "participants.csv",
        "activities.csv",
    ] {
        std::fs::copy(Path::new(&package).join(file), Path::new(&part).join(file)).expect("copy a file");
    }
    let key = iip_vault::MasterKey::from_hex(&std::fs::read_to_string(&key_file).expect("key")).expect("key");
    Setup {
        dir,
        key_file,
        key,
        earlier,
        package,
        part,
    }
}

/// `iip import` of `package` into `db`, running; its stderr lines arrive on the receiver.
fn spawn_import(db: &str, key_file: &str, package: &str) -> (Child, Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_iip"))
        .args(["import", "--db", db, "--key-file", key_file, package])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start iip import");
    let stderr = child.stderr.take().expect("stderr");
    let (lines, received) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    (child, received)
}

/// Imports `package` into `db` to completion; how long the process ran.
fn import_fully(db: &str, key_file: &str, package: &str) -> Duration {
    let started = Instant::now();
    let (mut child, lines) = spawn_import(db, key_file, package);
    let status = child.wait().expect("wait for iip import");
    let elapsed = started.elapsed();
    let said: Vec<String> = lines.try_iter().collect();
    assert!(status.success(), "iip import into {db}: {status}\n{}", said.join("\n"));
    elapsed
}

/// `iip check` passes (integrity and audit chain) and the store's counts, digest, revision.
fn observe(backend: &dyn Backend, db: &str, setup: &Setup) -> State {
    let checked = iip(&["check", "--db", db, "--key-file", &setup.key_file]);
    let stdout = text(&checked.stdout);
    assert!(
        checked.status.success(),
        "iip check on {db} failed:\n{stdout}{}",
        text(&checked.stderr)
    );
    let counts_line = stdout
        .lines()
        .find(|l| l.contains(" participants, "))
        .unwrap_or_else(|| panic!("no counts in the check output:\n{stdout}"))
        .to_owned();
    let (counts, digest, revision) = backend.open_and_read(db, &setup.key);
    State {
        checked: counts_line,
        counts,
        digest,
        revision,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    None,
    All,
}

/// None of the package, all of it, or what the store holds instead.
fn classify(state: &State, none: &State, all: &State) -> Result<Outcome, String> {
    if state == none {
        Ok(Outcome::None)
    } else if state == all {
        Ok(Outcome::All)
    } else {
        Err(format!(
            "the store holds part of the import (neither none nor all of it)\n  \
             now: {state:?}\n  none (before): {none:?}\n  all (reference): {all:?}"
        ))
    }
}

/// Reruns the import to completion on the killed store `db` and asserts it ends equal to the
/// reference; the run's duration.
fn rerun(backend: &mut dyn Backend, db: &str, setup: &Setup, all: &State, what: &str) -> Duration {
    let took = import_fully(db, &setup.key_file, &setup.package);
    let rerun = observe(backend, db, setup);
    assert!(
        rerun.same_content(all),
        "{what}: the rerun to completion differs from the reference\n  rerun: {rerun:?}\n  reference: {all:?}"
    );
    eprintln!("{what}: rerun to completion on that store ({took:.2?}): equal to the reference");
    took
}

/// The whole exercise on one backend: a reference import, then `kills` timed kills and one
/// right after the commit, each followed by the all-or-none check. A store left with none of
/// the package takes the next kill as it is (so every import after the first runs on a killed
/// store); one left with all of it is rerun to completion and replaced by a fresh copy. The
/// store of the last timed kills is rerun to completion too.
fn exercise(backend: &mut dyn Backend, setup: &Setup, kills: u32, seed: u64) {
    let started = Instant::now();
    let name = backend.name();
    let base = backend.none();
    let none = observe(backend, &base, setup);

    let reference = backend.copy_of_base("all");
    let full = import_fully(&reference, &setup.key_file, &setup.package);
    // Every run to completion times a full import again: the kills follow the (lower) median,
    // so a busier or quieter machine moves the moments with it.
    let mut durations = vec![full];
    let all = observe(backend, &reference, setup);
    eprintln!(
        "{name}: before the import {}; a full import took {full:.2?} and gave {}",
        none.checked, all.checked
    );
    assert_ne!(none.counts, all.counts, "the package adds rows to the earlier store");
    assert_ne!(
        none.digest, all.digest,
        "the package changes the earlier store's content"
    );
    assert_eq!(all.revision, none.revision + 1, "one committed import, one revision");

    // The check tells a part from none and all: the package's first four files alone (what a
    // kill would leave if each file were committed on its own) are neither.
    let part_db = backend.copy_of_base("part");
    import_fully(&part_db, &setup.key_file, &setup.part);
    let part = observe(backend, &part_db, setup);
    let told = classify(&part, &none, &all);
    assert!(told.is_err(), "{name}: a partial import passed for {told:?}: {part:?}");
    // The whole package over that part ends equal to the reference too; and it times a full
    // import on a warm store (the reference run is often slower, its caches cold).
    durations.push(rerun(
        backend,
        &part_db,
        setup,
        &all,
        &format!("{name}: the partial store"),
    ));
    backend.discard(&part_db);

    let mut outcomes = Vec::new();
    let mut landed = 0;
    let mut reruns = 0;
    let mut copies = 0;
    let mut fresh = |backend: &mut dyn Backend| {
        copies += 1;
        backend.copy_of_base(&format!("k{copies}"))
    };
    let mut db = String::new();
    // Kills the store `db` has been through since it was copied (all of them left none).
    let mut killed_on_db = 0;
    let plan: Vec<Option<f64>> = moments(kills, seed).into_iter().map(Some).chain([None]).collect();
    for (i, fraction) in plan.into_iter().enumerate() {
        if fraction.is_none() && killed_on_db > 0 {
            // The store the timed kills left with none of the package, perhaps killed several
            // times over, takes the whole import; the post-commit kill gets a fresh copy.
            let what = format!("{name}: the store after {killed_on_db} kills");
            durations.push(rerun(backend, &db, setup, &all, &what));
            reruns += 1;
            backend.discard(&db);
            db = String::new();
            killed_on_db = 0;
        }
        if db.is_empty() {
            db = fresh(backend);
        }
        let (mut child, lines) = spawn_import(&db, &setup.key_file, &setup.package);
        let began = Instant::now();
        durations.sort();
        let full = durations[(durations.len() - 1) / 2];
        let moment = match fraction {
            Some(fraction) => {
                std::thread::sleep(full.mul_f64(fraction));
                format!(
                    "{fraction:.3} of a full import ({:.2?} of {full:.2?})",
                    full.mul_f64(fraction)
                )
            }
            // Right after it reports the commit: while it closes the store (SQLite checkpoints).
            None => loop {
                match lines.recv_timeout(Duration::from_secs(120)) {
                    Ok(line) if line.starts_with("imported ") => {
                        break "right after the commit was reported".to_owned();
                    }
                    Ok(_) => {}
                    Err(RecvTimeoutError::Timeout) => panic!("{name}: the import never reported its commit"),
                    Err(RecvTimeoutError::Disconnected) => {
                        panic!("{name}: the import ended without reporting a commit")
                    }
                }
            },
        };
        let finished_before = child.try_wait().expect("try_wait").is_some();
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("wait");
        let at = began.elapsed();
        let killed = status.signal() == Some(SIGKILL);
        // An import may also finish between the look and the kill (the kill then finds a
        // process already gone): it exited on its own, successfully.
        assert!(
            killed || finished_before || status.success(),
            "{name} kill {i}: neither killed nor finished: {status}"
        );
        if killed {
            landed += 1;
        } else {
            assert!(
                status.success(),
                "{name} kill {i}: the import failed on its own: {status}"
            );
        }
        backend.settle(&db);
        let state = observe(backend, &db, setup);
        let what = format!("{name} kill {i} at {moment}");
        let outcome = classify(&state, &none, &all).unwrap_or_else(|part| panic!("{what}: {part}"));
        eprintln!(
            "{what}, {at:.2?} after the start, after {killed_on_db} earlier kills on this store: {} -> {outcome:?}",
            if killed { "killed" } else { "had already finished" }
        );
        if fraction.is_none() {
            // SQLite checkpoints as it closes, so the kill lands; PostgreSQL has nothing left
            // to do after its commit, and the process may be gone before the kill is sent.
            // Either way a reported commit is kept.
            assert!(
                killed || name == "PostgreSQL",
                "{name}: the import had exited before the post-commit kill"
            );
            assert_eq!(outcome, Outcome::All, "{what}: a reported commit is kept");
        }
        if !killed {
            assert_eq!(outcome, Outcome::All, "{what}: a finished import is all there");
        }
        outcomes.push(outcome);
        match outcome {
            Outcome::None => killed_on_db += 1,
            Outcome::All => {
                // Importing the package again over it changes nothing.
                durations.push(rerun(backend, &db, setup, &all, &format!("{name} kill {i}")));
                reruns += 1;
                backend.discard(&db);
                db = String::new();
                killed_on_db = 0;
            }
        }
    }
    if !db.is_empty() {
        backend.discard(&db);
    }
    let nones = outcomes.iter().filter(|o| **o == Outcome::None).count();
    let alls = outcomes.len() - nones;
    eprintln!(
        "{name}: {} kills ({landed} while running): {nones} none, {alls} all, never a part; {reruns} reruns after kills to \
         completion, each equal to the reference; {:.1?} in all",
        outcomes.len(),
        started.elapsed()
    );
    assert!(
        landed > kills / 2,
        "{name}: only {landed} of {} kills hit a running import; the timing is off",
        outcomes.len()
    );
    assert!(nones > 0, "{name}: no kill landed before the commit");
}

/// SIGKILL's number (9 on every Unix this runs on).
const SIGKILL: i32 = 9;

#[test]
fn sqlite_import_killed_at_random_moments_leaves_all_or_none_of_it() {
    let setup = setup(500, 2000);
    let earlier = setup.dir.path().join("earlier.db");
    let earlier_db = earlier.to_str().expect("utf-8");
    import_fully(earlier_db, &setup.key_file, &setup.earlier);
    let mut backend = Sqlite {
        dir: setup.dir.path().to_owned(),
        base: earlier.clone(),
    };
    exercise(&mut backend, &setup, 10, 0x1a2b);
}

#[test]
fn postgres_import_killed_at_random_moments_leaves_all_or_none_of_it() {
    let Some(base) = Database::create("import_crash") else {
        return;
    };
    let setup = setup(150, 500);
    let url = base.url(None);
    import_fully(&url, &setup.key_file, &setup.earlier);
    let base_name = url.rsplit_once('/').expect("a database URL").1.to_owned();
    let mut backend = Postgres {
        base,
        base_name,
        copies: Vec::new(),
    };
    exercise(&mut backend, &setup, 5, 0x3c4d);
}
