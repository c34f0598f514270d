//! The conformance suite against PostgreSQL, on a fresh database per test. The server comes
//! from IIP_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/test). Without one,
//! each test says it was skipped and why; under CI (CI=true) a missing server fails.

use std::sync::atomic::{AtomicUsize, Ordering};

use iip_store::Store;
use iip_store_conformance::{Backend, Facts};
use iip_store_postgres::PgStore;
use iip_vault::MasterKey;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const PREFIX: &str = "iip_conformance_";

fn admin_url() -> String {
    std::env::var("IIP_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// The URL of another database on the same server.
fn database_url(admin: &str, database: &str) -> String {
    let (server, _) = admin.rsplit_once('/').unwrap_or((admin, ""));
    format!("{server}/{database}")
}

struct Postgres {
    database: String,
    url: String,
    admin: String,
}

impl Backend for Postgres {
    type S = PgStore;

    async fn open(&self, key: Option<MasterKey>) -> PgStore {
        PgStore::connect(&self.url, key).await.expect("connect to PostgreSQL")
    }

    /// Every row of every table (partitions included) as PostgreSQL prints it.
    async fn raw_contents(&self) -> String {
        let mut conn = PgConnection::connect(&self.url).await.expect("connect");
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT relname::text FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace",
        )
        .fetch_all(&mut conn)
        .await
        .expect("tables");
        let mut raw = String::new();
        for table in tables {
            let rows: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT string_agg(t::text, E'\\n') FROM \"{table}\" t"
            )))
            .fetch_one(&mut conn)
            .await
            .expect("rows");
            raw.push_str(&rows.unwrap_or_default());
            raw.push('\n');
        }
        raw
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let (admin, database) = (self.admin.clone(), self.database.clone());
        // Drop runs outside async code: a small runtime of its own removes the database.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    if let Ok(mut conn) = PgConnection::connect(&admin).await {
                        let drop = format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
                        let _ = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&mut conn).await;
                    }
                });
            }
        })
        .join();
    }
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

async fn fresh() -> Option<Postgres> {
    let admin = admin_url();
    let mut conn = match PgConnection::connect(&admin).await {
        Ok(conn) => conn,
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true and PostgreSQL is not reachable at {admin}: {e}");
            }
            eprintln!(
                "SKIPPED: PostgreSQL is not reachable at {admin} ({e}); start it (pg_ctlcluster 15 main start) or set IIP_TEST_POSTGRES"
            );
            return None;
        }
    };
    let database = format!(
        "{PREFIX}{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{database}\"")))
        .execute(&mut conn)
        .await
        .expect("create the test database");
    Some(Postgres {
        url: database_url(&admin, &database),
        database,
        admin,
    })
}

iip_store_conformance::conformance_tests!(fresh);

/// The same package on both backends: the same content digest and the same facts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_hold_the_same_content_for_the_same_package() {
    let Some(postgres) = fresh().await else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let package = iip_store_conformance::write_package(dir.path(), "demo", &iip_store_conformance::demo_files());
    let sqlite = iip_store_sqlite::SqliteStore::open(&dir.path().join("s.db"))
        .await
        .expect("sqlite");
    let pg = postgres.open(None).await;
    for store_summary in [
        iip_store_conformance::import(&sqlite, &package).await,
        iip_store_conformance::import(&pg, &package).await,
    ] {
        assert!(store_summary.0.committed, "{:?}", store_summary.1);
    }
    assert_eq!(
        sqlite.content_digest().await.expect("digest"),
        pg.content_digest().await.expect("digest")
    );
    assert_eq!(Facts::of(&sqlite).await.portable(), Facts::of(&pg).await.portable());
    assert_eq!(
        sqlite.counts().await.expect("counts"),
        pg.counts().await.expect("counts")
    );
    pg.close().await;
}
