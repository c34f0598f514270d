//! The conformance suite against the embedded SQLite store.

use iip_store_conformance::Backend;
use iip_store_sqlite::SqliteStore;
use iip_vault::MasterKey;

struct Sqlite {
    dir: tempfile::TempDir,
}

impl Sqlite {
    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("conformance.db")
    }
}

impl Backend for Sqlite {
    type S = SqliteStore;

    async fn open(&self, key: Option<MasterKey>) -> SqliteStore {
        SqliteStore::open_with_key(&self.path(), key)
            .await
            .expect("open SQLite")
    }

    async fn raw_contents(&self) -> String {
        let mut raw = std::fs::read(self.path()).expect("database file");
        if let Ok(wal) = std::fs::read(self.dir.path().join("conformance.db-wal")) {
            raw.extend(wal);
        }
        String::from_utf8_lossy(&raw).into_owned()
    }
}

async fn fresh() -> Option<Sqlite> {
    Some(Sqlite {
        dir: tempfile::tempdir().expect("tempdir"),
    })
}

iip_store_conformance::conformance_tests!(fresh);
