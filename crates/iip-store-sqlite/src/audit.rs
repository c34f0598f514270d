//! The audit log on SQLite, appended by group commit: an append waits in the store's write
//! queue (`batch.rs`) with the case writes, and the commit that carries them carries it too,
//! chained to the entry before. Under load one commit carries many entries and writes; an
//! append still returns only once its entry is committed. The table's triggers refuse edits
//! and deletions.

use iip_domain::audit::{AuditEvent, StoredAuditEvent};
use iip_store::{AuditStore, StoreError, StoreResult};
use sqlx::{Row, SqliteConnection};
use tokio::sync::oneshot;

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
        let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO audit_log (at, user_id, org_id, action, subject, reason, prev_hash, hash) ",
        );
        let mut hashes = Vec::with_capacity(chunk.len());
        for Pending { event, chain, .. } in chunk {
            let hash = chain(&prev, event);
            hashes.push((std::mem::replace(&mut prev, hash.clone()), hash));
        }
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
