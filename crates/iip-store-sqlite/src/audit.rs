//! The audit log on SQLite, appended by group commit: an append waits in the store's write
//! queue (`batch.rs`) with the case writes, and the commit that carries them carries it too,
//! chained to the entry before. Under load one commit carries many entries and writes; an
//! append still returns only once its entry is committed. The table's triggers refuse edits
//! and deletions.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use iip_domain::audit::{AuditEvent, StoredAuditEvent};
use iip_store::{AuditStore, StoreError, StoreResult};
use sqlx::{Row, SqliteConnection};
use tokio::sync::oneshot;

use crate::point::failed;
use crate::{SqliteStore, backend};

/// The hash before the first entry.
const GENESIS: [u8; 32] = [0; 32];

pub(crate) type Chain = fn(&[u8], &AuditEvent) -> Vec<u8>;

/// An entry waiting for the commit that holds it.
pub(crate) struct Pending {
    pub(crate) event: AuditEvent,
    pub(crate) chain: Chain,
    pub(crate) done: oneshot::Sender<StoreResult<()>>,
}

/// Appends a batch's entries at the end of its transaction, each chained to the one before.
/// Every append runs on the one writer connection inside a transaction, so the head read
/// here is the chain's head.
pub(crate) async fn append(tx: &mut SqliteConnection, entries: &[&Pending]) -> StoreResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let prev: Option<Vec<u8>> = sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
    let mut prev = prev.unwrap_or_else(|| GENESIS.to_vec());
    // One statement per chunk rather than per entry: each statement is a round trip to the
    // connection's thread. 8 values a row keeps a chunk well under SQLite's variable limit.
    for chunk in entries.chunks(CHUNK) {
        let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(INSERT);
        let hashes = chained(&mut prev, chunk.iter().map(|p| (&p.event, p.chain)));
        insert.push_values(chunk.iter().zip(hashes), |mut row, (pending, (before, hash))| {
            let event = &pending.event;
            row.push_bind(event.at)
                .push_bind(event.user_id)
                .push_bind(event.org_id.clone())
                .push_bind(event.action.clone())
                .push_bind(event.subject.clone())
                .push_bind(event.reason.clone())
                .push_bind(before)
                .push_bind(hash);
        });
        insert.build().execute(&mut *tx).await.map_err(backend)?;
    }
    Ok(())
}

/// Entries per INSERT statement.
const CHUNK: usize = 128;

const INSERT: &str = "INSERT INTO audit_log (at, user_id, org_id, action, subject, reason, prev_hash, hash) ";

/// Each entry's hash and the one before it, from the chain's head `prev` (left at the last).
fn chained<'a>(prev: &mut Vec<u8>, entries: impl Iterator<Item = (&'a AuditEvent, Chain)>) -> Vec<(Vec<u8>, Vec<u8>)> {
    entries
        .map(|(event, chain)| {
            let hash = chain(prev, event);
            (std::mem::replace(prev, hash.clone()), hash)
        })
        .collect()
}

/// A batch of audit entries alone (what every audited read queues) is committed on a
/// connection of its own through rusqlite, the whole transaction in one hop to a blocking
/// thread, instead of a round trip to sqlx's connection thread for each of its five
/// statements. The write queue's task awaits it, so it never competes with the writer
/// connection for SQLite's write lock; it waits (busy timeout) for another process's writer.
pub(crate) struct Appender {
    path: PathBuf,
    conn: Mutex<Option<rusqlite::Connection>>,
}

impl Appender {
    pub(crate) fn new(path: PathBuf) -> Arc<Self> {
        Arc::new(Self {
            path,
            conn: Mutex::new(None),
        })
    }

    fn open(&self) -> rusqlite::Result<rusqlite::Connection> {
        let conn = crate::point::connect(&self.path)?;
        // As the writer connection: a commit returns once the log is on the disk.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "secure_delete", true)?;
        Ok(conn)
    }

    /// Appends `entries` in one transaction and commits.
    pub(crate) async fn append(self: &Arc<Self>, entries: Vec<(AuditEvent, Chain)>) -> StoreResult<()> {
        let appender = Arc::clone(self);
        tokio::task::spawn_blocking(move || appender.append_now(&entries))
            .await
            .map_err(|e| StoreError::Backend(format!("the audit append stopped: {e}")))?
    }

    fn append_now(&self, entries: &[(AuditEvent, Chain)]) -> StoreResult<()> {
        let mut held = self
            .conn
            .lock()
            .map_err(|_| StoreError::Backend("the audit connection is poisoned".into()))?;
        let conn = match held.take() {
            Some(conn) => conn,
            None => self.open().map_err(failed)?,
        };
        let outcome = Self::transact(&conn, entries);
        // A connection whose transaction failed is closed (a failed COMMIT can leave it inside
        // the transaction); the next batch opens a fresh one.
        if outcome.is_ok() {
            *held = Some(conn);
        }
        outcome
    }

    fn transact(conn: &rusqlite::Connection, entries: &[(AuditEvent, Chain)]) -> StoreResult<()> {
        let tx =
            rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate).map_err(failed)?;
        let prev: Option<Vec<u8>> = tx
            .prepare_cached("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
            .and_then(|mut s| rusqlite::OptionalExtension::optional(s.query_row([], |r| r.get(0))))
            .map_err(failed)?;
        let mut prev = prev.unwrap_or_else(|| GENESIS.to_vec());
        let hashes = chained(&mut prev, entries.iter().map(|(event, chain)| (event, *chain)));
        {
            let mut insert = tx
                .prepare_cached(&format!("{INSERT}VALUES (?, ?, ?, ?, ?, ?, ?, ?)"))
                .map_err(failed)?;
            for ((event, _), (before, hash)) in entries.iter().zip(hashes) {
                insert
                    .execute(rusqlite::params![
                        event.at,
                        event.user_id,
                        event.org_id,
                        event.action,
                        event.subject,
                        event.reason,
                        before,
                        hash
                    ])
                    .map_err(failed)?;
            }
        }
        tx.commit().map_err(failed)
    }

    /// Closes the connection (the store is closing; a later append opens afresh).
    pub(crate) fn close(&self) {
        if let Ok(mut held) = self.conn.lock() {
            *held = None;
        }
    }
}

impl AuditStore for SqliteStore {
    async fn append_audit(&self, event: &AuditEvent, chain: Chain) -> StoreResult<()> {
        let (done, answer) = oneshot::channel();
        let pending = Pending {
            event: event.clone(),
            chain,
            done,
        };
        self.queue(crate::batch::Job::Audit(pending))?;
        answer
            .await
            .map_err(|_| StoreError::Backend("the store's writer has stopped".into()))?
    }

    async fn audit_events(&self, after_id: i64, limit: u32) -> StoreResult<Vec<StoredAuditEvent>> {
        let rows = sqlx::query(
            "SELECT id, at, user_id, org_id, action, subject, reason, prev_hash, hash FROM audit_log \
             WHERE id > ? ORDER BY id LIMIT ?",
        )
        .bind(after_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        Ok(rows
            .iter()
            .map(|r| StoredAuditEvent {
                id: r.get(0),
                event: AuditEvent {
                    at: r.get(1),
                    user_id: r.get(2),
                    org_id: r.get(3),
                    action: r.get(4),
                    subject: r.get(5),
                    reason: r.get(6),
                },
                prev_hash: r.get(7),
                hash: r.get(8),
            })
            .collect())
    }
}
