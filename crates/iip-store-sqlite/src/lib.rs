//! The embedded SQLite store: one file, WAL journal, migrations embedded in the binary.
//! This crate is the only place that holds SQLite SQL.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use iip_domain::facts::{ActivityFact, AssessmentFact, FactSink, MilestoneFact, OrgNode, ParticipantFact};
use iip_domain::records::{Activity, Assessment, MilestoneRecord, Organization, Participant};
use iip_domain::{Date, Gender, Program, RaceEthnicity};
use iip_store::{IdentityStore, ImportSession, Store, StoreError, StoreResult, TableCounts, Written};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, Transaction};

mod accounts;
mod audit;
mod batch;
mod case;
mod claims;
mod directory;
mod identity;
mod point;

pub use iip_store::sealing::Keys;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

fn backend(e: sqlx::Error) -> StoreError {
    // SQLITE_FULL (13): the disk (or the file's quota) is full. The transaction rolled back, so
    // nothing was written: an outage to wait out (503), not a fault of the request.
    if let sqlx::Error::Database(db) = &e
        && db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| code & 0xff == 13)
    {
        return StoreError::Unavailable(format!("the disk is full: {db}"));
    }
    StoreError::Backend(e.to_string())
}

#[derive(Clone)]
pub struct SqliteStore {
    /// Readers: several connections, each reading its own snapshot of the WAL.
    pub(crate) pool: SqlitePool,
    /// The one connection that writes. SQLite has one writer at a time; queueing writers here
    /// (in order, without spinning) rather than in SQLite's busy handler (which sleeps and
    /// retries) keeps write latency flat under load.
    pub(crate) writer: SqlitePool,
    /// The group-commit queue of case work and audit entries (`batch.rs`, `audit.rs`).
    pub(crate) writes: Arc<batch::WriteQueue>,
    /// The master key and unwrapped data keys; `None`: identities in the clear.
    pub(crate) keys: Option<Arc<Keys>>,
    /// Connections for the point reads of every request (`point.rs`).
    pub(crate) readers: Arc<point::Readers>,
    /// The connection for batches of audit entries alone (`audit.rs`).
    pub(crate) appender: Arc<audit::Appender>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("encrypted", &self.keys.is_some())
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the store with a master key: identities are sealed under per-organization data
    /// keys on the way in and opened on the way out.
    pub async fn open_with_key(path: &Path, master: Option<iip_vault::MasterKey>) -> StoreResult<Self> {
        let mut store = Self::open(path).await?;
        store.keys = master.map(Keys::new);
        Ok(store)
    }

    /// Moves the write-ahead log into the file and empties it, so nothing deleted lingers there.
    async fn scrub(&self) -> StoreResult<()> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.writer)
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// Writes a consistent copy of the whole store to `target` (which must not exist) while
    /// readers and writers go on: SQLite's `VACUUM INTO` reads one snapshot of the database.
    /// Sealed identities stay sealed in the copy; the master key is not in it.
    pub async fn backup_to(&self, target: &Path) -> StoreResult<()> {
        if target.exists() {
            return Err(StoreError::Backend(format!("{} exists already", target.display())));
        }
        let target = target
            .to_str()
            .ok_or_else(|| StoreError::Backend("the backup path is not UTF-8".into()))?;
        // A read: on a reader connection, so writers go on meanwhile.
        sqlx::query("VACUUM INTO ?")
            .bind(target)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit returns only after the write-ahead log reached the disk, so an
            // acknowledged write survives a power cut, not only a crash of the process. Group
            // commit (`batch.rs`) pays the flush once per batch.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Deleted and overwritten content is zeroed, not left in free pages.
            .pragma("secure_delete", "on")
            .busy_timeout(Duration::from_secs(10));
        Self::connect(options).await
    }

    /// Opens a database from a `sqlite:` URL or a plain path.
    pub async fn open_url(url: &str) -> StoreResult<Self> {
        if url.starts_with("sqlite:") {
            // The point readers open the file by its path: a database only in memory would be
            // a different one for each of them.
            if url.contains(":memory:") || url.contains("mode=memory") {
                return Err(StoreError::Backend(
                    "an in-memory SQLite database is not supported: give a file".into(),
                ));
            }
            let options = SqliteConnectOptions::from_str(url)
                .map_err(backend)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true);
            Self::connect(options).await
        } else {
            Self::open(Path::new(url)).await
        }
    }

    async fn connect(options: SqliteConnectOptions) -> StoreResult<Self> {
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            // A COMMIT that failed (a full disk) leaves the connection inside its transaction,
            // and every later BEGIN would fail: close such a connection, open a fresh one.
            .after_release(|conn, _| Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(conn)) }))
            .connect_with(options.clone())
            .await
            .map_err(backend)?;
        // Checked rather than trusted: an option string could have turned it down.
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&writer)
            .await
            .map_err(backend)?;
        if synchronous < 2 {
            return Err(StoreError::Backend(format!(
                "SQLite runs with synchronous={synchronous}; acknowledged writes need FULL (2)"
            )));
        }
        MIGRATOR
            .run(&writer)
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let readers = Arc::new(point::Readers::new(options.get_filename().to_path_buf()));
        let appender = audit::Appender::new(options.get_filename().to_path_buf());
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(backend)?;
        Ok(Self {
            pool,
            writer,
            writes: batch::queue(),
            keys: None,
            readers,
            appender,
        })
    }

    /// The migrations this binary knows and whether each is applied: `(version, description, applied)`.
    pub async fn migrations(&self) -> StoreResult<Vec<(i64, String, bool)>> {
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        Ok(MIGRATOR
            .iter()
            .map(|m| (m.version, m.description.to_string(), applied.contains(&m.version)))
            .collect())
    }

    /// A transaction that takes the write lock at once (`BEGIN IMMEDIATE`): a deferred one
    /// that reads first and then writes cannot wait for another writer and fails as "database
    /// is locked"; this one waits (busy timeout) and then runs.
    pub(crate) async fn write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(backend)
    }

    /// Every participant as a line of the content digest, identities opened: the digest
    /// compares content, whichever nonces sealed it.
    async fn participant_digest_lines(&self) -> StoreResult<Vec<String>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let rows = sqlx::query(concat!(
            "SELECT p.id, p.org_id, p.org_id || '|' || p.participant_id || '|' || ifnull(p.person_key, '') || '|' || \
             ifnull(p.gender, '') || '|' || ifnull(p.race_ethnicity, '') || '|' || ifnull(p.country_of_birth, '') || '|' || \
             ifnull(p.primary_language, '') || '|' || ifnull(p.us_arrival_year, '') || '|' || ifnull(p.zip, '') || '|' || \
             p.barriers, ",
            identity::identity_columns!(),
            " FROM participant p LEFT JOIN participant_identity i ON i.participant_row = p.id"
        ))
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
        let mut lines = Vec::with_capacity(rows.len());
        for row in &rows {
            let org: String = row.get(1);
            let identity = identity::read(self.keys.as_deref(), &mut conn, row, 3, row.get(0), &org).await?;
            lines.push(format!(
                "{}|{}|{}|{}",
                row.get::<String, _>(2),
                identity.first_name.unwrap_or_default(),
                identity.last_name.unwrap_or_default(),
                identity.date_of_birth.map(|d| d.to_string()).unwrap_or_default()
            ));
        }
        lines.sort();
        Ok(lines)
    }
}

impl IdentityStore for SqliteStore {
    /// Seals every identity still in the clear (after `iip keys init` on an existing store),
    /// then rewrites the file so no clear copy survives in free pages or the WAL.
    async fn seal_clear_identities(&self) -> StoreResult<u64> {
        let Some(keys) = self.keys.as_deref() else {
            return Err(StoreError::Backend("sealing needs the master key".into()));
        };
        let mut tx = self.write().await?;
        let rows = sqlx::query(concat!(
            "SELECT p.id, p.org_id, ",
            identity::identity_columns!(),
            " FROM participant_identity i JOIN participant p ON p.id = i.participant_row \
             WHERE i.first_name IS NOT NULL OR i.last_name IS NOT NULL OR i.date_of_birth IS NOT NULL"
        ))
        .fetch_all(&mut *tx)
        .await
        .map_err(backend)?;
        for row in &rows {
            let (id, org): (i64, String) = (row.get(0), row.get(1));
            let clear = identity::read(None, &mut tx, row, 2, id, &org).await?;
            identity::write(Some(keys), &mut tx, id, &org, &clear).await?;
        }
        // Referral notes and reasons written in the clear are sealed with them.
        directory::seal_clear_texts(keys, &mut tx).await?;
        tx.commit().await.map_err(backend)?;
        sqlx::query("VACUUM").execute(&self.writer).await.map_err(backend)?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.writer)
            .await
            .map_err(backend)?;
        Ok(rows.len() as u64)
    }

    /// Re-wraps every organization's data key under `new` (the identities themselves are not
    /// touched), in one transaction; `progress` is told after each organization.
    async fn rotate_master_key<F: FnMut(u64, u64) + Send>(
        &self,
        new: &iip_vault::MasterKey,
        mut progress: F,
    ) -> StoreResult<u64> {
        let Some(keys) = self.keys.as_deref() else {
            return Err(StoreError::Backend("rotation needs the current master key".into()));
        };
        let mut tx = self.write().await?;
        let rows = sqlx::query("SELECT org_id, wrapped FROM org_key ORDER BY org_id")
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
        let total = rows.len() as u64;
        for (done, row) in rows.iter().enumerate() {
            let org: String = row.get(0);
            let wrapped: Vec<u8> = row.get(1);
            let data = keys.master().unwrap_data_key(&org, &wrapped).map_err(|_| {
                StoreError::Backend("the current master key does not open this store's data keys".into())
            })?;
            let rewrapped = new
                .rewrap(&org, &data)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query("UPDATE org_key SET wrapped = ? WHERE org_id = ?")
                .bind(rewrapped)
                .bind(&org)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            progress(done as u64 + 1, total);
        }
        tx.commit().await.map_err(backend)?;
        self.scrub().await?;
        Ok(total)
    }

    /// Forgets a participant's identity (names, birth date): the sealed row is deleted and
    /// zeroed; the participant's activities and outcomes stay, so aggregates do not change.
    async fn forget_participant(&self, org_id: &str, participant_id: &str) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "DELETE FROM participant_identity WHERE participant_row = \
             (SELECT id FROM participant WHERE org_id = ? AND participant_id = ?)",
        )
        .bind(org_id)
        .bind(participant_id)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        // Their referrals (notes, reasons) go too.
        directory::forget_participant(&mut tx, org_id, participant_id).await?;
        tx.commit().await.map_err(backend)?;
        self.scrub().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Crypto-shreds an organization: its data key is destroyed, so every identity it sealed
    /// (in this file and in any copy of it) can no longer be opened; its sealed rows are
    /// deleted too. Aggregates do not change. Returns the identities removed.
    async fn forget_organization(&self, org_id: &str) -> StoreResult<u64> {
        let mut tx = self.write().await?;
        let removed = sqlx::query(
            "DELETE FROM participant_identity WHERE participant_row IN (SELECT id FROM participant WHERE org_id = ?)",
        )
        .bind(org_id)
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .rows_affected();
        sqlx::query("DELETE FROM org_key WHERE org_id = ?")
            .bind(org_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        // Its services, agreements and referrals sent or received go too.
        directory::forget_organization(&mut tx, org_id).await?;
        tx.commit().await.map_err(backend)?;
        if let Some(keys) = self.keys.as_deref() {
            keys.forget(org_id);
        }
        self.scrub().await?;
        Ok(removed)
    }

    /// Whether the store holds data keys (its identities are, or are to be, encrypted).
    async fn holds_data_keys(&self) -> StoreResult<bool> {
        let any: Option<i64> = sqlx::query_scalar("SELECT 1 FROM org_key LIMIT 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        Ok(any.is_some())
    }
}

impl Store for SqliteStore {
    type Import = SqliteImport;

    async fn begin_import(&self, package: &str) -> StoreResult<SqliteImport> {
        let mut tx = self.write().await?;
        let import_id: i64 = sqlx::query_scalar("INSERT INTO import_run (package) VALUES (?) RETURNING id")
            .bind(package)
            .fetch_one(&mut *tx)
            .await
            .map_err(backend)?;
        Ok(SqliteImport {
            tx,
            import_id,
            keys: self.keys.clone(),
        })
    }

    async fn organizations(&self) -> StoreResult<Vec<OrgNode>> {
        self.readers.organizations()
    }

    async fn scan_facts<S: FactSink>(&self, sink: &mut S) -> StoreResult<()> {
        for org in self.organizations().await? {
            sink.organization(org);
        }
        // Dates become day numbers in SQL: the engine never parses 20 million date strings.
        let mut rows = sqlx::query(
            "SELECT id, org_id, participant_id, person_key, gender, race_ethnicity, country_of_birth, \
             primary_language, us_arrival_year, birth_year, barriers FROM participant ORDER BY id",
        )
        .fetch(&self.pool);
        while let Some(row) = rows.try_next().await.map_err(backend)? {
            sink.participant(participant_fact(&row)?);
        }
        drop(rows);
        let mut rows = sqlx::query(
            "SELECT participant_row, CAST(julianday(date) - 2440587.5 AS INTEGER), program, \
             hours_centi * occurrences FROM activity ORDER BY participant_row, date",
        )
        .fetch(&self.pool);
        while let Some(row) = rows.try_next().await.map_err(backend)? {
            let program: &str = row.get(2);
            sink.activity(ActivityFact {
                participant_row: row.get(0),
                day: row.get(1),
                program: Program::parse(program).map_err(|e| StoreError::Corrupt(format!("activity program {e}")))?,
                hundredths: u32::try_from(row.get::<i64, _>(3))
                    .map_err(|_| StoreError::Corrupt("activity hours out of range".into()))?,
            });
        }
        drop(rows);
        let mut rows = sqlx::query(
            "SELECT participant_row, CAST(julianday(date) - 2440587.5 AS INTEGER), milestone FROM milestone \
             ORDER BY participant_row, date",
        )
        .fetch(&self.pool);
        while let Some(row) = rows.try_next().await.map_err(backend)? {
            sink.milestone(MilestoneFact {
                participant_row: row.get(0),
                day: row.get(1),
                milestone: row.get(2),
            });
        }
        drop(rows);
        let mut rows = sqlx::query(
            "SELECT participant_row, CAST(julianday(date) - 2440587.5 AS INTEGER), instrument, score \
             FROM assessment ORDER BY participant_row, date",
        )
        .fetch(&self.pool);
        while let Some(row) = rows.try_next().await.map_err(backend)? {
            sink.assessment(AssessmentFact {
                participant_row: row.get(0),
                day: row.get(1),
                instrument: row.get(2),
                score: row.get(3),
            });
        }
        Ok(())
    }

    async fn revision(&self) -> StoreResult<i64> {
        self.readers.revision()
    }

    async fn latest_activity_date(&self) -> StoreResult<Option<Date>> {
        let latest: Option<String> = sqlx::query_scalar("SELECT MAX(date) FROM activity")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        latest
            .map(|raw| Date::parse(&raw).map_err(|e| StoreError::Corrupt(format!("activity date {e}"))))
            .transpose()
    }

    async fn counts(&self) -> StoreResult<TableCounts> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM organization), (SELECT COUNT(*) FROM participant), \
             (SELECT COUNT(*) FROM participant_identity), (SELECT COUNT(*) FROM activity), \
             (SELECT COUNT(*) FROM milestone), (SELECT COUNT(*) FROM assessment)",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        let n = |i: usize| row.get::<i64, _>(i).max(0) as u64;
        Ok(TableCounts {
            organizations: n(0),
            participants: n(1),
            identities: n(2),
            activities: n(3),
            milestones: n(4),
            assessments: n(5),
        })
    }

    async fn content_digest(&self) -> StoreResult<String> {
        // Every fact column, no bookkeeping (import ids, row ids), in a stable order.
        const QUERIES: &[&str] = &[
            "SELECT org_id || '|' || name || '|' || sector || '|' || level || '|' || ifnull(parent_id, '') || '|' || ifnull(area, '') || '|' || ifnull(areas_served, '') FROM organization ORDER BY 1",
            "PARTICIPANTS",
            "SELECT p.org_id || '|' || p.participant_id || '|' || a.date || '|' || a.program || '|' || a.hours_centi || '|' || a.element || '|' || a.occurrences FROM activity a JOIN participant p ON p.id = a.participant_row ORDER BY 1",
            "SELECT p.org_id || '|' || p.participant_id || '|' || m.date || '|' || m.milestone FROM milestone m JOIN participant p ON p.id = m.participant_row ORDER BY 1",
            "SELECT p.org_id || '|' || p.participant_id || '|' || s.date || '|' || s.instrument || '|' || s.score FROM assessment s JOIN participant p ON p.id = s.participant_row ORDER BY 1",
        ];
        let mut digest = iip_store::codec::ContentDigest::default();
        for query in QUERIES {
            let rows = if *query == "PARTICIPANTS" {
                self.participant_digest_lines().await?
            } else {
                sqlx::query_scalar::<_, String>(*query)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?
            };
            digest.section(rows);
        }
        // The directory: agreements, then services.
        for section in iip_store::directory_codec::digest_sections(self).await? {
            digest.section(section);
        }
        Ok(digest.finish())
    }

    /// `PRAGMA integrity_check`: `Ok(())` when the file is sound, else what SQLite found.
    async fn integrity_check(&self) -> StoreResult<Result<(), String>> {
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        Ok(if rows == ["ok"] { Ok(()) } else { Err(rows.join("; ")) })
    }

    async fn close(&self) {
        self.readers.close();
        self.appender.close();
        self.pool.close().await;
        self.writer.close().await;
    }
}

pub struct SqliteImport {
    tx: Transaction<'static, Sqlite>,
    import_id: i64,
    keys: Option<Arc<Keys>>,
}

fn participant_fact(row: &sqlx::sqlite::SqliteRow) -> StoreResult<ParticipantFact> {
    let corrupt = |what: &str, e: iip_domain::InvalidValue| StoreError::Corrupt(format!("participant {what} {e}"));
    let gender: Option<&str> = row.get(4);
    let race: Option<&str> = row.get(5);
    let barriers: &str = row.get(10);
    Ok(ParticipantFact {
        row: row.get(0),
        org_id: row.get(1),
        participant_id: row.get(2),
        person_key: row.get(3),
        gender: gender
            .map(Gender::parse)
            .transpose()
            .map_err(|e| corrupt("gender", e))?,
        race_ethnicity: race
            .map(RaceEthnicity::parse)
            .transpose()
            .map_err(|e| corrupt("race_ethnicity", e))?,
        country_of_birth: row.get(6),
        primary_language: row.get(7),
        us_arrival_year: row.get(8),
        birth_year: row.get(9),
        barriers: iip_store::codec::split_barriers(barriers).map_err(|e| corrupt("barriers", e))?,
    })
}

fn join_barriers(participant: &Participant) -> String {
    iip_store::codec::join_barriers(&participant.barriers)
}

impl ImportSession for SqliteImport {
    async fn upsert_organization(&mut self, org: &Organization) -> StoreResult<Written> {
        let previous: Option<Option<i64>> = sqlx::query_scalar("SELECT last_import FROM organization WHERE org_id = ?")
            .bind(org.org_id.as_str())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(backend)?;
        if previous == Some(Some(self.import_id)) {
            return Ok(Written::DuplicateInPackage);
        }
        sqlx::query(
            "INSERT INTO organization (org_id, name, sector, level, parent_id, area, areas_served, last_import) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (org_id) DO UPDATE SET name = excluded.name, sector = excluded.sector, \
             level = excluded.level, parent_id = excluded.parent_id, area = excluded.area, \
             areas_served = excluded.areas_served, last_import = excluded.last_import",
        )
        .bind(org.org_id.as_str())
        .bind(&org.name)
        .bind(org.sector.as_str())
        .bind(org.level.as_str())
        .bind(org.parent_id.as_ref().map(|p| p.as_str()))
        .bind(org.area.as_deref())
        .bind(iip_store::directory_codec::join_areas(&org.areas_served))
        .bind(self.import_id)
        .execute(&mut *self.tx)
        .await
        .map_err(backend)?;
        Ok(Written::Stored)
    }

    async fn upsert_partnership(&mut self, partnership: &iip_directory::Partnership) -> StoreResult<Written> {
        self.write_partnership(partnership).await
    }

    async fn organization_parents(&mut self) -> StoreResult<Vec<(String, Option<String>)>> {
        let rows = sqlx::query("SELECT org_id, parent_id FROM organization")
            .fetch_all(&mut *self.tx)
            .await
            .map_err(backend)?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn upsert_participant(&mut self, p: &Participant) -> StoreResult<Written> {
        let previous: Option<Option<i64>> =
            sqlx::query_scalar("SELECT last_import FROM participant WHERE org_id = ? AND participant_id = ?")
                .bind(p.org_id.as_str())
                .bind(p.participant_id.as_str())
                .fetch_optional(&mut *self.tx)
                .await
                .map_err(backend)?;
        if previous == Some(Some(self.import_id)) {
            return Ok(Written::DuplicateInPackage);
        }
        if previous.is_none() {
            let org_known: Option<i64> = sqlx::query_scalar("SELECT 1 FROM organization WHERE org_id = ?")
                .bind(p.org_id.as_str())
                .fetch_optional(&mut *self.tx)
                .await
                .map_err(backend)?;
            if org_known.is_none() {
                return Ok(Written::UnknownParent);
            }
        }
        let row: i64 = sqlx::query_scalar(
            "INSERT INTO participant (org_id, participant_id, person_key, gender, race_ethnicity, \
             country_of_birth, primary_language, us_arrival_year, zip, barriers, birth_year, last_import) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (org_id, participant_id) DO UPDATE SET person_key = excluded.person_key, \
             gender = excluded.gender, race_ethnicity = excluded.race_ethnicity, \
             country_of_birth = excluded.country_of_birth, primary_language = excluded.primary_language, \
             us_arrival_year = excluded.us_arrival_year, zip = excluded.zip, barriers = excluded.barriers, \
             birth_year = excluded.birth_year, last_import = excluded.last_import \
             RETURNING id",
        )
        .bind(p.org_id.as_str())
        .bind(p.participant_id.as_str())
        .bind(p.person_key.as_ref().map(|k| k.as_str()))
        .bind(p.gender.map(|g| g.as_str()))
        .bind(p.race_ethnicity.map(|r| r.as_str()))
        .bind(p.country_of_birth.as_ref().map(|c| c.as_str()))
        .bind(p.primary_language.as_ref().map(|l| l.as_str()))
        .bind(p.us_arrival_year)
        .bind(p.zip.as_ref().map(|z| z.as_str()))
        .bind(join_barriers(p))
        .bind(p.identity.date_of_birth.map(|d| d.year()))
        .bind(self.import_id)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(backend)?;
        identity::write(self.keys.as_deref(), &mut self.tx, row, p.org_id.as_str(), &p.identity).await?;
        Ok(Written::Stored)
    }

    async fn add_activities(&mut self, batch: &[Activity]) -> StoreResult<Vec<Written>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        // One query resolves every participant of the batch...
        let mut keys: Vec<(&str, &str)> = batch
            .iter()
            .map(|a| (a.org_id.as_str(), a.participant_id.as_str()))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let mut lookup = QueryBuilder::<Sqlite>::new(
            "SELECT org_id, participant_id, id FROM participant WHERE (org_id, participant_id) IN (",
        );
        lookup.push_values(&keys, |mut row, (org, id)| {
            row.push_bind(org.to_string()).push_bind(id.to_string());
        });
        lookup.push(")");
        let rows: HashMap<(String, String), i64> = lookup
            .build()
            .fetch_all(&mut *self.tx)
            .await
            .map_err(backend)?
            .iter()
            .map(|r| ((r.get(0), r.get(1)), r.get(2)))
            .collect();
        let resolved: Vec<Option<i64>> = batch
            .iter()
            .map(|a| rows.get(&(a.org_id.to_string(), a.participant_id.to_string())).copied())
            .collect();

        // ...and one statement writes the known ones. Rows of one statement are upserted in
        // order, so identical rows in the batch count their occurrences as separate rows do.
        let known: Vec<(i64, &Activity)> = resolved
            .iter()
            .zip(batch)
            .filter_map(|(row, a)| row.map(|row| (row, a)))
            .collect();
        if !known.is_empty() {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO activity (participant_row, date, program, hours_centi, element, last_import) ",
            );
            let import_id = self.import_id;
            insert.push_values(&known, |mut row, (participant_row, a)| {
                row.push_bind(*participant_row)
                    .push_bind(a.date.to_string())
                    .push_bind(a.program.as_str())
                    .push_bind(i64::from(a.hours.hundredths()))
                    .push_bind(a.element.clone().unwrap_or_default())
                    .push_bind(import_id);
            });
            insert.push(
                " ON CONFLICT (participant_row, date, program, hours_centi, element) DO UPDATE SET \
                 seen_in_import = CASE WHEN activity.last_import = excluded.last_import \
                     THEN activity.seen_in_import + 1 ELSE 1 END, \
                 occurrences = MAX(activity.occurrences, CASE WHEN activity.last_import = excluded.last_import \
                     THEN activity.seen_in_import + 1 ELSE 1 END), \
                 last_import = excluded.last_import",
            );
            insert.build().execute(&mut *self.tx).await.map_err(backend)?;
        }
        Ok(resolved
            .iter()
            .map(|row| {
                if row.is_some() {
                    Written::Stored
                } else {
                    Written::UnknownParent
                }
            })
            .collect())
    }

    async fn add_milestone(&mut self, m: &MilestoneRecord) -> StoreResult<Written> {
        let result = sqlx::query(
            "INSERT INTO milestone (participant_row, date, milestone, element, last_import) \
             SELECT id, ?, ?, ?, ? FROM participant WHERE org_id = ? AND participant_id = ? \
             ON CONFLICT (participant_row, milestone, date) DO UPDATE SET last_import = excluded.last_import",
        )
        .bind(m.date.to_string())
        .bind(&m.milestone)
        .bind(&m.element)
        .bind(self.import_id)
        .bind(m.org_id.as_str())
        .bind(m.participant_id.as_str())
        .execute(&mut *self.tx)
        .await
        .map_err(backend)?;
        Ok(if result.rows_affected() == 0 {
            Written::UnknownParent
        } else {
            Written::Stored
        })
    }

    async fn upsert_assessment(&mut self, s: &Assessment) -> StoreResult<Written> {
        let result = sqlx::query(
            "INSERT INTO assessment (participant_row, date, instrument, score, last_import) \
             SELECT id, ?, ?, ?, ? FROM participant WHERE org_id = ? AND participant_id = ? \
             ON CONFLICT (participant_row, date, instrument) DO UPDATE SET score = excluded.score, \
             last_import = excluded.last_import",
        )
        .bind(s.date.to_string())
        .bind(s.instrument.as_str())
        .bind(s.score)
        .bind(self.import_id)
        .bind(s.org_id.as_str())
        .bind(s.participant_id.as_str())
        .execute(&mut *self.tx)
        .await
        .map_err(backend)?;
        Ok(if result.rows_affected() == 0 {
            Written::UnknownParent
        } else {
            Written::Stored
        })
    }

    async fn commit(mut self) -> StoreResult<()> {
        sqlx::query("UPDATE store_revision SET revision = revision + 1 WHERE id = 1")
            .execute(&mut *self.tx)
            .await
            .map_err(backend)?;
        self.tx.commit().await.map_err(backend)
    }

    async fn rollback(self) -> StoreResult<()> {
        self.tx.rollback().await.map_err(backend)
    }
}
