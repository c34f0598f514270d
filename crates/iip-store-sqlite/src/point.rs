//! Point reads on the calling thread, through rusqlite. sqlx runs every SQLite statement on
//! its connection's own thread and sends each row back through a channel: two thread switches
//! a statement and more a row. Under load on two cores those switches cost more than the
//! reads themselves (perf: two thirds of the server's time in the scheduler). The reads every
//! request makes — the store revision, the organization tree, a participant's record and
//! pathway — are lookups by key that SQLite answers from its page cache in microseconds, so
//! they run here directly, on idle connections kept for the purpose. In WAL mode a reader
//! never waits for the writer, and these connections refuse to write (`query_only`).
//!
//! A participant's pathway is kept between its changes (`PathwayCache`): each participant
//! has a version (table `pathway_version`) that triggers move with every change to the
//! pathway's rows (migration 0016), so a kept pathway is used only while the version read
//! with the record still says it is current.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iip_domain::facts::OrgNode;
use iip_domain::{Date, Level, Sector};
use iip_store::{
    ActivityEntry, AssessmentEntry, MilestoneEntry, Pathway, PathwayItem, PathwayKind, StoreError, StoreResult,
};
use rusqlite::{Connection, OpenFlags, OptionalExtension};

/// Connections kept idle at most (one per thread that reads at once, and a few spare).
const MOST_IDLE: usize = 16;

/// The pathways kept hold about this much at most (a 90-row pathway is about 9 kB: some
/// 3 500 of them); past it the cache starts afresh.
const MOST_PATHWAY_BYTES: usize = 32 << 20;

pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    pathways: PathwayCache,
}

/// Pathways read since their last change, by participant row, with the version they were
/// read at. Only the pathway is kept (activities, milestones, assessments, needs and goals),
/// never the record's identity: names and dates of birth stay sealed in the store.
type PathwayCache = iip_store::kept::Kept<i64, Arc<Pathway>>;

/// A rusqlite connection to the store's file, used by one thread at a time, that waits for
/// another writer as the sqlx connections do.
pub(crate) fn connect(path: &std::path::Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    Ok(conn)
}

pub(crate) fn failed(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(code, _) = &e
        && code.code == rusqlite::ErrorCode::DiskFull
    {
        return StoreError::Unavailable(format!("the disk is full: {e}"));
    }
    StoreError::Backend(e.to_string())
}

fn date(raw: &str) -> StoreResult<Date> {
    Date::parse(raw).map_err(|e| StoreError::Corrupt(format!("date {e}")))
}

impl Readers {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            idle: Mutex::new(Vec::new()),
            pathways: PathwayCache::new(MOST_PATHWAY_BYTES),
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = connect(&self.path)?;
        conn.pragma_update(None, "query_only", true)?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(conn)
    }

    /// Runs `read` on an idle connection (opening one if none is idle) and keeps it for later.
    fn with<T>(&self, read: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some(conn) => conn,
            None => self.open().map_err(failed)?,
        };
        // One read transaction for the whole call: the statements see one state, and the page
        // cache, which SQLite empties when a transaction starts after another connection's
        // commit, is emptied once rather than once a statement.
        let outcome = conn.unchecked_transaction().map_err(failed).and_then(|transaction| {
            let outcome = read(&transaction)?;
            transaction.commit().map_err(failed)?;
            Ok(outcome)
        });
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MOST_IDLE
        {
            idle.push(conn);
        }
        outcome
    }

    /// Closes the idle connections and forgets kept pathways (the store is closing; a later
    /// read opens afresh).
    pub(crate) fn close(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
        self.pathways.clear();
    }

    pub(crate) fn revision(&self) -> StoreResult<i64> {
        self.with(|conn| {
            conn.prepare_cached("SELECT revision FROM store_revision WHERE id = 1")
                .and_then(|mut s| s.query_row([], |r| r.get(0)))
                .map_err(failed)
        })
    }

    /// Every organization, by id.
    pub(crate) fn organizations(&self) -> StoreResult<Vec<OrgNode>> {
        self.with(|conn| {
            let mut statement = conn
                .prepare_cached("SELECT org_id, name, sector, level, parent_id FROM organization ORDER BY org_id")
                .map_err(failed)?;
            let mut rows = statement.query([]).map_err(failed)?;
            let mut organizations = Vec::new();
            while let Some(r) = rows.next().map_err(failed)? {
                let sector: String = r.get(2).map_err(failed)?;
                let level: String = r.get(3).map_err(failed)?;
                organizations.push(OrgNode {
                    org_id: r.get(0).map_err(failed)?,
                    name: r.get(1).map_err(failed)?,
                    sector: Sector::parse(&sector)
                        .map_err(|e| StoreError::Corrupt(format!("organization sector {e}")))?,
                    level: Level::parse(&level).map_err(|e| StoreError::Corrupt(format!("organization level {e}")))?,
                    parent_id: r.get(4).map_err(failed)?,
                });
            }
            Ok(organizations)
        })
    }

    /// A participant's row of one organization: its columns and stored identity.
    pub(crate) fn participant(&self, org_id: &str, participant_id: &str) -> StoreResult<Option<ParticipantRow>> {
        self.with(|conn| participant(conn, org_id, participant_id))
    }

    pub(crate) fn pathway(&self, participant_row: i64) -> StoreResult<Pathway> {
        self.with(|conn| pathway(conn, participant_row))
    }

    /// A participant's row and pathway in one read transaction: one state, one emptying of
    /// the page cache. The pathway comes from the cache when the row's version says the kept
    /// one is current; the version and the rows are read in the same transaction, so a kept
    /// pathway is always the one stored at its version.
    pub(crate) fn participant_with_pathway(
        &self,
        org_id: &str,
        participant_id: &str,
    ) -> StoreResult<Option<(ParticipantRow, Arc<Pathway>)>> {
        self.with(|conn| {
            let Some(found) = participant(conn, org_id, participant_id)? else {
                return Ok(None);
            };
            let version = found.pathway_version;
            if let Some(kept) = version.and_then(|v| self.pathways.get(found.row, |at| *at == v)) {
                return Ok(Some((found, kept)));
            }
            let pathway = Arc::new(pathway(conn, found.row)?);
            if let Some(version) = version {
                let bytes = pathway.approx_bytes();
                self.pathways.keep(found.row, version, Arc::clone(&pathway), bytes);
            }
            Ok(Some((found, pathway)))
        })
    }
}

fn participant(conn: &Connection, org_id: &str, participant_id: &str) -> StoreResult<Option<ParticipantRow>> {
    conn.prepare_cached(concat!(
        "SELECT p.id, p.org_id, p.participant_id, p.person_key, p.gender, p.race_ethnicity, \
         p.country_of_birth, p.primary_language, p.us_arrival_year, p.zip, p.barriers, v.version, ",
        crate::identity::identity_columns!(),
        " FROM participant p LEFT JOIN participant_identity i ON i.participant_row = p.id \
         LEFT JOIN pathway_version v ON v.participant_row = p.id WHERE p.org_id = ? AND p.participant_id = ?"
    ))
    .and_then(|mut s| {
        s.query_row((org_id, participant_id), |r| {
            Ok(ParticipantRow {
                row: r.get(0)?,
                columns: iip_store::codec::ParticipantColumns {
                    org_id: r.get(1)?,
                    participant_id: r.get(2)?,
                    person_key: r.get(3)?,
                    gender: r.get(4)?,
                    race_ethnicity: r.get(5)?,
                    country_of_birth: r.get(6)?,
                    primary_language: r.get(7)?,
                    us_arrival_year: r.get(8)?,
                    zip: r.get(9)?,
                    barriers: r.get(10)?,
                },
                pathway_version: r.get(11)?,
                identity: iip_store::sealing::StoredIdentity {
                    clear: [r.get(12)?, r.get(13)?, r.get(14)?],
                    sealed: [r.get(15)?, r.get(16)?, r.get(17)?],
                },
            })
        })
        .optional()
    })
    .map_err(failed)
}

fn pathway(conn: &Connection, participant_row: i64) -> StoreResult<Pathway> {
    let mut pathway = Pathway::default();
    let mut activities = conn
        .prepare_cached(
            "SELECT date, program, hours_centi, element, occurrences FROM activity \
             WHERE participant_row = ? ORDER BY date, id",
        )
        .map_err(failed)?;
    let mut rows = activities.query([participant_row]).map_err(failed)?;
    while let Some(r) = rows.next().map_err(failed)? {
        let day: String = r.get(0).map_err(failed)?;
        let element: String = r.get(3).map_err(failed)?;
        let hundredths: i64 = r.get(2).map_err(failed)?;
        let occurrences: i64 = r.get(4).map_err(failed)?;
        let entry = ActivityEntry {
            date: date(&day)?,
            program: r.get(1).map_err(failed)?,
            hundredths: u32::try_from(hundredths).map_err(|_| StoreError::Corrupt("hours".into()))?,
            element: (!element.is_empty()).then_some(element),
        };
        for _ in 0..occurrences.clamp(1, 1000) {
            pathway.activities.push(entry.clone());
        }
    }
    let mut milestones = conn
        .prepare_cached(
            "SELECT date, milestone, element, delivered_by FROM milestone WHERE participant_row = ? \
             ORDER BY date, id",
        )
        .map_err(failed)?;
    let mut rows = milestones.query([participant_row]).map_err(failed)?;
    while let Some(r) = rows.next().map_err(failed)? {
        let day: String = r.get(0).map_err(failed)?;
        pathway.milestones.push(MilestoneEntry {
            date: date(&day)?,
            milestone: r.get(1).map_err(failed)?,
            element: r.get(2).map_err(failed)?,
            delivered_by: r.get(3).map_err(failed)?,
        });
    }
    let mut assessments = conn
        .prepare_cached(
            "SELECT date, instrument, score FROM assessment WHERE participant_row = ? ORDER BY date, instrument",
        )
        .map_err(failed)?;
    let mut rows = assessments.query([participant_row]).map_err(failed)?;
    while let Some(r) = rows.next().map_err(failed)? {
        let day: String = r.get(0).map_err(failed)?;
        pathway.assessments.push(AssessmentEntry {
            date: date(&day)?,
            instrument: r.get(1).map_err(failed)?,
            score: r.get(2).map_err(failed)?,
        });
    }
    let mut items = conn
        .prepare_cached(
            "SELECT id, kind, element, description, target_date, created_on FROM pathway_item \
             WHERE participant_row = ? ORDER BY element, kind, id",
        )
        .map_err(failed)?;
    let mut rows = items.query([participant_row]).map_err(failed)?;
    while let Some(r) = rows.next().map_err(failed)? {
        let kind: String = r.get(1).map_err(failed)?;
        let target: Option<String> = r.get(4).map_err(failed)?;
        let created: String = r.get(5).map_err(failed)?;
        pathway.items.push(PathwayItem {
            id: r.get(0).map_err(failed)?,
            kind: if kind == "goal" {
                PathwayKind::Goal
            } else {
                PathwayKind::Need
            },
            element: r.get(2).map_err(failed)?,
            description: r.get(3).map_err(failed)?,
            target_date: target.as_deref().map(date).transpose()?,
            created_on: date(&created)?,
        });
    }
    Ok(pathway)
}

/// A participant's stored row, before its identity is opened.
pub(crate) struct ParticipantRow {
    pub(crate) row: i64,
    pub(crate) columns: iip_store::codec::ParticipantColumns,
    /// Moves with every change to the participant's pathway (migration 0016); `None` (no
    /// version row) keeps nothing.
    pub(crate) pathway_version: Option<i64>,
    pub(crate) identity: iip_store::sealing::StoredIdentity,
}
