//! The `iip` binary on PostgreSQL: migrate, import, report and serve chosen by the database
//! URL, with the same figures as SQLite; a connection lost mid-request answers 503 and writes
//! nothing. The server comes from IIP_TEST_POSTGRES (default
//! postgres://postgres@127.0.0.1:5432/test); without one the test says it was skipped.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod support;
use support::{Database, iip, psql, text};

/// A TCP relay to PostgreSQL that a test can cut (every connection closed, new ones refused,
/// as when the network or the server goes away) and restore on the same port.
struct Proxy {
    port: u16,
    cut: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("address").port();
        let cut = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (flag, streams) = (cut.clone(), open.clone());
        std::thread::spawn(move || {
            let mut listener = Some(listener);
            loop {
                if flag.load(Ordering::SeqCst) {
                    listener = None;
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
                let Some(active) = listener.as_ref() else {
                    listener = TcpListener::bind(("127.0.0.1", port)).ok();
                    continue;
                };
                active.set_nonblocking(true).expect("nonblocking");
                match active.accept() {
                    Ok((client, _)) => {
                        let Ok(server) = TcpStream::connect(target) else {
                            continue;
                        };
                        client.set_nonblocking(false).expect("blocking");
                        let mut kept = streams.lock().expect("lock");
                        kept.push(client.try_clone().expect("clone"));
                        kept.push(server.try_clone().expect("clone"));
                        relay(client.try_clone().expect("clone"), server.try_clone().expect("clone"));
                        relay(server, client);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self { port, cut, open }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for stream in self.open.lock().expect("lock").drain(..) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn relay(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(std::net::Shutdown::Both);
    });
}

/// One JSON request with a bearer token: the status and the body.
fn call(address: &str, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    let answer = iip_harness::http::call(address, method, path, Some(token), body).expect("an answer");
    (answer.status, answer.body)
}

fn report(db: &str, key: &str) -> String {
    let out = iip(&[
        "report",
        "--db",
        db,
        "--key-file",
        key,
        "--year",
        "2024-25",
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn postgres_serves_what_sqlite_serves_and_a_lost_connection_answers_503_without_a_partial_write() {
    let Some(database) = Database::create("serve") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = |name: &str| dir.path().join(name).to_str().expect("utf-8").to_owned();
    let (package, key, sqlite, pg) = (path("package"), path("master.key"), path("t.db"), database.url(None));
    let generated = iip(&["generate", "--participants", "300", "--seed", "3", "--out", &package]);
    assert!(generated.status.success(), "{}", text(&generated.stderr));
    assert!(iip(&["keys", "init", "--key-file", &key]).status.success());

    let migrated = iip(&["migrate", "--db", &pg]);
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    assert!(
        text(&migrated.stdout).contains("0001 init: applied"),
        "{}",
        text(&migrated.stdout)
    );
    for db in [&sqlite, &pg] {
        let imported = iip(&["import", "--db", db, "--key-file", &key, &package]);
        assert!(imported.status.success(), "{}", text(&imported.stderr));
    }
    let figures = report(&pg, &key);
    assert!(figures.lines().count() > 10, "{figures}");
    assert_eq!(figures, report(&sqlite, &key), "the same figures from both backends");
    // Names never reach PostgreSQL in the clear.
    let participants = std::fs::read_to_string(dir.path().join("package/participants.csv")).expect("participants");
    let last_name = participants
        .lines()
        .nth(1)
        .and_then(|l| l.split(',').nth(4))
        .expect("a last name");
    let stored = psql(&pg, "SELECT string_agg(t::text, ' ') FROM participant_identity t").expect("rows");
    assert!(
        stored.len() > 100 && !stored.contains(last_name),
        "{last_name} is stored in the clear"
    );

    let orgs = std::fs::read_to_string(dir.path().join("package/organizations.csv")).expect("organizations");
    let org = orgs
        .lines()
        .find(|l| l.split(',').nth(3) == Some("local"))
        .and_then(|l| l.split(',').next())
        .expect("a local organization");
    let token = support::case_worker_token(&pg, Some(&key), "cw@example.org", org);

    let target: SocketAddr = "127.0.0.1:5432".parse().expect("address");
    let proxy = Proxy::start(target);
    let through_proxy = database.url(Some(proxy.port));
    let server = iip_harness::server::Server::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_iip")),
        &["--db", &through_proxy, "--key-file", &key],
    )
    .expect("the server starts");
    let address = server.address.clone();

    let (status, body) = call(
        &address,
        "POST",
        "/api/participants",
        &token,
        r#"{"participant_id":"pg-1"}"#,
    );
    assert_eq!(status, 201, "{body}");
    let activity = r#"{"date":"2025-01-15","program":"esl","hours":"2"}"#;
    let (status, body) = call(&address, "POST", "/api/participants/pg-1/activities", &token, activity);
    assert_eq!(status, 201, "{body}");

    proxy.cut();
    let (status, body) = call(&address, "POST", "/api/participants/pg-1/activities", &token, activity);
    assert_eq!(status, 503, "a lost connection is an outage to retry: {body}");
    assert!(body.contains("nothing was written"), "{body}");
    let (status, _) = call(&address, "GET", "/api/participants/pg-1", &token, "");
    assert_eq!(status, 503);

    proxy.restore();
    let (status, body) = call(&address, "GET", "/api/participants/pg-1", &token, "");
    assert_eq!(status, 200, "the server recovers once PostgreSQL is back: {body}");
    let sessions = psql(
        &pg,
        "SELECT sum(a.occurrences) FROM activity a JOIN participant p ON p.id = a.participant_row \
         WHERE p.participant_id = 'pg-1'",
    )
    .expect("count");
    assert_eq!(sessions.trim(), "1", "the refused write left nothing behind");
    let (status, body) = call(&address, "POST", "/api/participants/pg-1/activities", &token, activity);
    assert_eq!(status, 201, "{body}");
    server.kill9();
}
