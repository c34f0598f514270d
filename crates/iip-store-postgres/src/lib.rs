//! The PostgreSQL store, for production: the same behaviour as the SQLite store (one
//! conformance suite runs against both), migrations embedded in the binary, tenant tables
//! hash-partitioned by organization. This crate is the only place that holds PostgreSQL SQL.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use iip_domain::facts::{ActivityFact, AssessmentFact, FactSink, MilestoneFact, OrgNode, ParticipantFact};
use iip_domain::records::{Activity, Assessment, MilestoneRecord, Organization, Participant};
use iip_domain::{Date, Gender, Level, Program, RaceEthnicity, Sector};
use iip_store::codec::{ContentDigest, join_barriers, score_text, split_barriers};
use iip_store::sealing::Keys;
use iip_store::{IdentityStore, ImportSession, Store, StoreError, StoreResult, TableCounts, Written};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row, Transaction};

mod accounts;
mod audit;
mod batch;
mod case;
mod claims;
mod directory;
mod identity;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A connection that is gone (server down, network cut) is a transient outage the web layer
/// answers with 503; everything else is a plain backend error.
pub(crate) fn backend(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => {
            StoreError::Unavailable(e.to_string())
        }
        // The server going down or coming up: class 08 (connection exception) and class 57
        // (operator intervention: admin_shutdown, crash_shutdown, cannot_connect_now, …).
        sqlx::Error::Database(db) if db.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57")) => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Backend(e.to_string()),
    }
}

/// Commits, telling a commit whose answer never came (the connection dropped on the way:
/// the server may have committed) from one that failed before it was sent.
pub(crate) async fn commit(tx: sqlx::Transaction<'static, sqlx::Postgres>) -> StoreResult<()> {
    tx.commit().await.map_err(|e| match backend(e) {
        StoreError::Unavailable(detail) => StoreError::InDoubt(detail),
        other => other,
    })
}

/// Whether a database URL names PostgreSQL (anything else is a SQLite file).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

#[derive(Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
    /// The master key and unwrapped data keys; `None`: identities in the clear.
    pub(crate) keys: Option<Arc<Keys>>,
    /// The group-commit queue of the audit log (`audit.rs`).
    pub(crate) audits: Arc<audit::AuditQueue>,
    /// The group-commit queue of case work (`batch.rs`).
    pub(crate) writes: Arc<batch::WriteQueue>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("encrypted", &self.keys.is_some())
            .finish_non_exhaustive()
    }
}

/// Dates cross the wire as ISO text: one format on both backends, no date crate in the store.
pub(crate) fn date(raw: &str) -> StoreResult<Date> {
    Date::parse(raw).map_err(|e| StoreError::Corrupt(format!("date {e}")))
}

/// With the server down, a request waits this long for a connection, then answers 503.
pub(crate) const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

impl PgStore {
    /// Connects and brings the schema up to date (`iip migrate` does only this).
    pub async fn connect(url: &str, master: Option<iip_vault::MasterKey>) -> StoreResult<Self> {
        let options: PgConnectOptions = url.parse().map_err(backend)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            // With the server down, a request waits this long for a connection, then answers
            // 503: fast enough for a client to retry elsewhere or later, long enough not to
            // refuse work while 16 connections are merely busy.
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone())
            .await
            .map_err(backend)?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(Self {
            pool,
            keys: master.map(Keys::new),
            audits: Arc::new(audit::AuditQueue::new(options.clone())),
            writes: Arc::new(batch::WriteQueue::new(options)),
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

    pub(crate) async fn write(&self) -> StoreResult<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(backend)
    }

    async fn participant_digest_lines(&self) -> StoreResult<Vec<String>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let rows = sqlx::query(concat!(
            "SELECT p.id, p.org_id, p.org_id || '|' || p.participant_id || '|' || coalesce(p.person_key, '') || '|' || \
             coalesce(p.gender, '') || '|' || coalesce(p.race_ethnicity, '') || '|' || coalesce(p.country_of_birth, '') || '|' || \
             coalesce(p.primary_language, '') || '|' || coalesce(p.us_arrival_year::text, '') || '|' || coalesce(p.zip, '') || '|' || \
             p.barriers, ",
            identity::identity_columns!(),
            " FROM participant p LEFT JOIN participant_identity i ON i.org_id = p.org_id AND i.participant_row = p.id"
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
        Ok(lines)
    }

    /// Deleted rows stay in the table's pages as dead versions until vacuumed; a forgotten
    /// identity or destroyed data key must not.
    async fn vacuum_identities(&self) -> StoreResult<()> {
        sqlx::query("VACUUM participant_identity, org_key, referral, referral_event")
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn lines(&self, query: &'static str) -> StoreResult<Vec<String>> {
        sqlx::query_scalar::<_, String>(query)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)
    }
}

/// Sorted in Rust, byte-wise: the server's collation must not change the digest.
fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort_unstable();
    lines
}

impl IdentityStore for PgStore {
    /// Whether the store holds data keys (its identities are, or are to be, encrypted).
    async fn holds_data_keys(&self) -> StoreResult<bool> {
        let any: Option<i32> = sqlx::query_scalar("SELECT 1 FROM org_key LIMIT 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        Ok(any.is_some())
    }

    /// Re-wraps every organization's data key under `new`, in one transaction.
    async fn rotate_master_key<F: FnMut(u64, u64) + Send>(
        &self,
        new: &iip_vault::MasterKey,
        mut progress: F,
    ) -> StoreResult<u64> {
        let Some(keys) = self.keys.as_deref() else {
            return Err(StoreError::Backend("rotation needs the current master key".into()));
        };
        let mut tx = self.write().await?;
        let rows = sqlx::query("SELECT org_id, wrapped FROM org_key ORDER BY org_id FOR UPDATE")
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
        let total = rows.len() as u64;
        for (done, row) in rows.iter().enumerate() {
            let org: String = row.get(0);
            let data = keys.unwrap(&org, &row.get::<Vec<u8>, _>(1))?;
            let rewrapped = new
                .rewrap(&org, &data)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query("UPDATE org_key SET wrapped = $1 WHERE org_id = $2")
                .bind(rewrapped)
                .bind(&org)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            progress(done as u64 + 1, total);
        }
        crate::commit(tx).await?;
        Ok(total)
    }

    /// Forgets a participant's identity; their activities and outcomes stay.
    async fn forget_participant(&self, org_id: &str, participant_id: &str) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "DELETE FROM participant_identity WHERE org_id = $1 AND participant_row = \
             (SELECT id FROM participant WHERE org_id = $1 AND participant_id = $2)",
        )
        .bind(org_id)
        .bind(participant_id)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        // Their referrals (notes, reasons) go too.
        directory::forget_participant(&mut tx, org_id, participant_id).await?;
        crate::commit(tx).await?;
        self.vacuum_identities().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Crypto-shreds an organization: its data key and sealed identities are deleted.
    async fn forget_organization(&self, org_id: &str) -> StoreResult<u64> {
        let mut tx = self.write().await?;
        let removed = sqlx::query("DELETE FROM participant_identity WHERE org_id = $1")
            .bind(org_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .rows_affected();
        sqlx::query("DELETE FROM org_key WHERE org_id = $1")
            .bind(org_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        // Its services, agreements and referrals sent or received go too.
        directory::forget_organization(&mut tx, org_id).await?;
        crate::commit(tx).await?;
        if let Some(keys) = self.keys.as_deref() {
            keys.forget(org_id);
        }
        self.vacuum_identities().await?;
        Ok(removed)
    }

    async fn seal_clear_identities(&self) -> StoreResult<u64> {
        let Some(keys) = self.keys.as_deref() else {
            return Err(StoreError::Backend("sealing needs the master key".into()));
        };
        let mut tx = self.write().await?;
        let rows = sqlx::query(concat!(
            "SELECT i.participant_row, i.org_id, ",
            identity::identity_columns!(),
            " FROM participant_identity i \
             WHERE i.first_name IS NOT NULL OR i.last_name IS NOT NULL OR i.date_of_birth IS NOT NULL FOR UPDATE"
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
        crate::commit(tx).await?;
        self.vacuum_identities().await?;
        Ok(rows.len() as u64)
    }
}

impl Store for PgStore {
    type Import = PgImport;

    async fn begin_import(&self, package: &str) -> StoreResult<PgImport> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let import_id: i64 = sqlx::query_scalar("INSERT INTO import_run (package) VALUES ($1) RETURNING id")
            .bind(package)
            .fetch_one(&mut *tx)
            .await
            .map_err(backend)?;
        Ok(PgImport {
            tx,
            import_id,
            keys: self.keys.clone(),
        })
    }

    async fn organizations(&self) -> StoreResult<Vec<OrgNode>> {
        let rows = sqlx::query("SELECT org_id, name, sector, level, parent_id FROM organization ORDER BY org_id")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|row| {
                let sector: String = row.get(2);
                let level: String = row.get(3);
                Ok(OrgNode {
                    org_id: row.get(0),
                    name: row.get(1),
                    sector: Sector::parse(&sector)
                        .map_err(|e| StoreError::Corrupt(format!("organization sector {e}")))?,
                    level: Level::parse(&level).map_err(|e| StoreError::Corrupt(format!("organization level {e}")))?,
                    parent_id: row.get(4),
                })
            })
            .collect()
    }

    async fn scan_facts<S: FactSink>(&self, sink: &mut S) -> StoreResult<()> {
        for org in self.organizations().await? {
            sink.organization(org);
        }
        let mut rows = sqlx::query(concat!(
            "SELECT ",
            participant_fact_columns!(),
            " FROM participant ORDER BY id"
        ))
        .fetch(&self.pool);
        while let Some(row) = rows.try_next().await.map_err(backend)? {
            sink.participant(participant_fact(&row)?);
        }
        drop(rows);
        // Dates become day numbers in SQL: the engine never parses 20 million date strings.
        let mut rows = sqlx::query(
            "SELECT participant_row, date - DATE '1970-01-01', program, hours_centi * occurrences FROM activity \
             ORDER BY participant_row, date",
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
            "SELECT participant_row, date - DATE '1970-01-01', milestone FROM milestone ORDER BY participant_row, date",
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
            "SELECT participant_row, date - DATE '1970-01-01', instrument, score FROM assessment \
             ORDER BY participant_row, date",
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
        sqlx::query_scalar("SELECT revision FROM store_revision WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)
    }

    async fn latest_activity_date(&self) -> StoreResult<Option<Date>> {
        let latest: Option<String> = sqlx::query_scalar("SELECT MAX(date)::text FROM activity")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        latest.as_deref().map(date).transpose()
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
        // The same lines as the SQLite store, so equal contents give equal digests on both.
        let mut digest = ContentDigest::default();
        digest.section(sorted(
            self.lines(
                "SELECT org_id || '|' || name || '|' || sector || '|' || level || '|' || coalesce(parent_id, '') || '|' || \
                 coalesce(area, '') || '|' || coalesce(areas_served, '') FROM organization",
            )
            .await?,
        ));
        digest.section(sorted(self.participant_digest_lines().await?));
        digest.section(sorted(
            self.lines(
                "SELECT p.org_id || '|' || p.participant_id || '|' || a.date::text || '|' || a.program || '|' || \
                 a.hours_centi || '|' || a.element || '|' || a.occurrences FROM activity a \
                 JOIN participant p ON p.org_id = a.org_id AND p.id = a.participant_row",
            )
            .await?,
        ));
        digest.section(sorted(
            self.lines(
                "SELECT p.org_id || '|' || p.participant_id || '|' || m.date::text || '|' || m.milestone FROM milestone m \
                 JOIN participant p ON p.org_id = m.org_id AND p.id = m.participant_row",
            )
            .await?,
        ));
        let rows = sqlx::query(
            "SELECT p.org_id || '|' || p.participant_id || '|' || s.date::text || '|' || s.instrument, s.score \
             FROM assessment s JOIN participant p ON p.org_id = s.org_id AND p.id = s.participant_row",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        digest.section(sorted(
            rows.iter()
                .map(|r| format!("{}|{}", r.get::<String, _>(0), score_text(r.get(1))))
                .collect(),
        ));
        // The directory: agreements, then services.
        for section in iip_store::directory_codec::digest_sections(self).await? {
            digest.section(section);
        }
        Ok(digest.finish())
    }

    /// Every B-tree index of the schema checked with `amcheck` (`bt_index_check`: each page's
    /// order and structure) and every table read through; without the extension (it needs a
    /// superuser to create), the tables only.
    async fn integrity_check(&self) -> StoreResult<Result<(), String>> {
        let amcheck = sqlx::query("CREATE EXTENSION IF NOT EXISTS amcheck")
            .execute(&self.pool)
            .await
            .is_ok();
        if amcheck {
            let checked = sqlx::query(
                "SELECT bt_index_check(c.oid) FROM pg_class c JOIN pg_am am ON am.oid = c.relam \
                 WHERE c.relkind = 'i' AND am.amname = 'btree' AND c.relnamespace = 'public'::regnamespace",
            )
            .execute(&self.pool)
            .await;
            if let Err(e) = checked {
                return Ok(Err(e.to_string()));
            }
        }
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT relname::text FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        for table in tables {
            let read = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM \"{table}\"")))
                .execute(&self.pool)
                .await;
            if let Err(e) = read {
                return Ok(Err(format!("{table}: {e}")));
            }
        }
        Ok(Ok(()))
    }

    async fn close(&self) {
        self.audits.close().await;
        self.writes.close().await;
        self.pool.close().await;
    }
}

/// The participant columns [`participant_fact`] reads, in order (a macro so queries stay literals).
macro_rules! participant_fact_columns {
    () => {
        "id, org_id, participant_id, person_key, gender, race_ethnicity, country_of_birth, \
         primary_language, us_arrival_year, birth_year, barriers"
    };
}
pub(crate) use participant_fact_columns;

pub(crate) fn participant_fact(row: &PgRow) -> StoreResult<ParticipantFact> {
    let corrupt = |what: &str, e: iip_domain::InvalidValue| StoreError::Corrupt(format!("participant {what} {e}"));
    let gender: Option<&str> = row.get(4);
    let race: Option<&str> = row.get(5);
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
        barriers: split_barriers(row.get(10)).map_err(|e| corrupt("barriers", e))?,
    })
}

pub struct PgImport {
    tx: Transaction<'static, Postgres>,
    import_id: i64,
    keys: Option<Arc<Keys>>,
}

/// Identical activities of one batch, folded into one row with how many there were:
/// PostgreSQL refuses to upsert the same row twice in one statement.
fn fold_activities<'a>(known: &[(i64, &'a Activity)]) -> Vec<(i64, &'a Activity, i64)> {
    let mut folded: Vec<(i64, &Activity, i64)> = Vec::with_capacity(known.len());
    let mut seen: HashMap<(i64, String, &str, u32, &str), usize> = HashMap::new();
    for (row, a) in known {
        let key = (
            *row,
            a.date.to_string(),
            a.program.as_str(),
            a.hours.hundredths(),
            a.element.as_deref().unwrap_or(""),
        );
        match seen.get(&key) {
            Some(&at) => folded[at].2 += 1,
            None => {
                seen.insert(key, folded.len());
                folded.push((*row, a, 1));
            }
        }
    }
    folded
}

impl ImportSession for PgImport {
    async fn upsert_organization(&mut self, org: &Organization) -> StoreResult<Written> {
        let previous: Option<Option<i64>> =
            sqlx::query_scalar("SELECT last_import FROM organization WHERE org_id = $1")
                .bind(org.org_id.as_str())
                .fetch_optional(&mut *self.tx)
                .await
                .map_err(backend)?;
        if previous == Some(Some(self.import_id)) {
            return Ok(Written::DuplicateInPackage);
        }
        sqlx::query(
            "INSERT INTO organization (org_id, name, sector, level, parent_id, area, areas_served, last_import) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
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
            sqlx::query_scalar("SELECT last_import FROM participant WHERE org_id = $1 AND participant_id = $2")
                .bind(p.org_id.as_str())
                .bind(p.participant_id.as_str())
                .fetch_optional(&mut *self.tx)
                .await
                .map_err(backend)?;
        if previous == Some(Some(self.import_id)) {
            return Ok(Written::DuplicateInPackage);
        }
        if previous.is_none() {
            let org_known: Option<i32> = sqlx::query_scalar("SELECT 1 FROM organization WHERE org_id = $1")
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
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
        .bind(join_barriers(&p.barriers))
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
        let (orgs, ids): (Vec<String>, Vec<String>) = batch
            .iter()
            .map(|a| (a.org_id.to_string(), a.participant_id.to_string()))
            .unzip();
        let rows: HashMap<(String, String), i64> = sqlx::query(
            "SELECT p.org_id, p.participant_id, p.id FROM participant p \
             JOIN (SELECT DISTINCT * FROM UNNEST($1::text[], $2::text[])) AS k (org_id, participant_id) \
               ON p.org_id = k.org_id AND p.participant_id = k.participant_id",
        )
        .bind(&orgs)
        .bind(&ids)
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

        // ...and one statement writes the known ones, identical rows folded with their count.
        let known: Vec<(i64, &Activity)> = resolved
            .iter()
            .zip(batch)
            .filter_map(|(row, a)| row.map(|row| (row, a)))
            .collect();
        let folded = fold_activities(&known);
        if !folded.is_empty() {
            let orgs: Vec<&str> = folded.iter().map(|(_, a, _)| a.org_id.as_str()).collect();
            let participant_rows: Vec<i64> = folded.iter().map(|(row, _, _)| *row).collect();
            let dates: Vec<String> = folded.iter().map(|(_, a, _)| a.date.to_string()).collect();
            let programs: Vec<&str> = folded.iter().map(|(_, a, _)| a.program.as_str()).collect();
            let hours: Vec<i64> = folded.iter().map(|(_, a, _)| i64::from(a.hours.hundredths())).collect();
            let elements: Vec<&str> = folded
                .iter()
                .map(|(_, a, _)| a.element.as_deref().unwrap_or(""))
                .collect();
            let counts: Vec<i64> = folded.iter().map(|(_, _, n)| *n).collect();
            sqlx::query(
                "INSERT INTO activity (org_id, participant_row, date, program, hours_centi, element, occurrences, \
                 seen_in_import, last_import) \
                 SELECT o, r, d::date, p, h, e, n, n, $8 FROM UNNEST($1::text[], $2::bigint[], $3::text[], \
                 $4::text[], $5::bigint[], $6::text[], $7::bigint[]) AS b (o, r, d, p, h, e, n) \
                 ON CONFLICT (org_id, participant_row, date, program, hours_centi, element) DO UPDATE SET \
                 seen_in_import = CASE WHEN activity.last_import = excluded.last_import \
                     THEN activity.seen_in_import + excluded.seen_in_import ELSE excluded.seen_in_import END, \
                 occurrences = GREATEST(activity.occurrences, CASE WHEN activity.last_import = excluded.last_import \
                     THEN activity.seen_in_import + excluded.seen_in_import ELSE excluded.seen_in_import END), \
                 last_import = excluded.last_import",
            )
            .bind(&orgs)
            .bind(&participant_rows)
            .bind(&dates)
            .bind(&programs)
            .bind(&hours)
            .bind(&elements)
            .bind(&counts)
            .bind(self.import_id)
            .execute(&mut *self.tx)
            .await
            .map_err(backend)?;
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
            "INSERT INTO milestone (org_id, participant_row, date, milestone, element, last_import) \
             SELECT org_id, id, $1::date, $2, $3, $4 FROM participant WHERE org_id = $5 AND participant_id = $6 \
             ON CONFLICT (org_id, participant_row, milestone, date) DO UPDATE SET last_import = excluded.last_import",
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
            "INSERT INTO assessment (org_id, participant_row, date, instrument, score, last_import) \
             SELECT org_id, id, $1::date, $2, $3, $4 FROM participant WHERE org_id = $5 AND participant_id = $6 \
             ON CONFLICT (org_id, participant_row, date, instrument) DO UPDATE SET score = excluded.score, \
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
        crate::commit(self.tx).await
    }

    async fn rollback(self) -> StoreResult<()> {
        self.tx.rollback().await.map_err(backend)
    }
}
