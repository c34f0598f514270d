//! The audit log on SQLite, appended by group commit: every append waits in one queue, and a
//! single task writes whatever has gathered (up to `BATCH`) in one transaction on the writer
//! connection, chaining each entry to the one before, then answers every waiter. Under load
//! one commit carries many entries; an append still returns only once its entry is committed.
//! The table's triggers refuse edits and deletions.

use std::sync::{Arc, OnceLock};

use iip_domain::audit::{AuditEvent, StoredAuditEvent};
use iip_store::{AuditStore, StoreError, StoreResult};
use sqlx::{Row, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::{SqliteStore, backend};

/// The hash before the first entry.
const GENESIS: [u8; 32] = [0; 32];

/// The most entries one commit carries.
const BATCH: usize = 512;

type Chain = fn(&[u8], &AuditEvent) -> Vec<u8>;

struct Pending {
    event: AuditEvent,
    chain: Chain,
    done: oneshot::Sender<StoreResult<()>>,
}

/// The queue of a store's appends; its task starts with the first append.
#[derive(Default)]
pub(crate) struct AuditQueue {
    sender: OnceLock<mpsc::UnboundedSender<Pending>>,
}

impl AuditQueue {
    fn sender(&self, writer: &SqlitePool) -> &mpsc::UnboundedSender<Pending> {
        self.sender.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            tokio::spawn(run(writer.clone(), receiver));
            sender
        })
    }
}

async fn run(writer: SqlitePool, mut receiver: mpsc::UnboundedReceiver<Pending>) {
    let mut batch = Vec::with_capacity(BATCH);
    while receiver.recv_many(&mut batch, BATCH).await > 0 {
        let outcome = write(&writer, &batch).await;
        for pending in batch.drain(..) {
            let _ = pending.done.send(outcome.clone());
        }
    }
}

async fn write(writer: &SqlitePool, batch: &[Pending]) -> StoreResult<()> {
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
    let prev: Option<Vec<u8>> = sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
    let mut prev = prev.unwrap_or_else(|| GENESIS.to_vec());
    for Pending { event, chain, .. } in batch {
        let hash = chain(&prev, event);
        sqlx::query(
            "INSERT INTO audit_log (at, user_id, org_id, action, subject, reason, prev_hash, hash) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(event.at)
        .bind(event.user_id)
        .bind(&event.org_id)
        .bind(&event.action)
        .bind(&event.subject)
        .bind(&event.reason)
        .bind(&prev)
        .bind(&hash)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        prev = hash;
    }
    tx.commit().await.map_err(backend)
}

impl AuditStore for SqliteStore {
    async fn append_audit(&self, event: &AuditEvent, chain: Chain) -> StoreResult<()> {
        let (done, answer) = oneshot::channel();
        let pending = Pending {
            event: event.clone(),
            chain,
            done,
        };
        let stopped = || StoreError::Backend("the audit log writer has stopped".into());
        self.audit.sender(&self.writer).send(pending).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
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

pub(crate) fn queue() -> Arc<AuditQueue> {
    Arc::new(AuditQueue::default())
}
