//! The audit log on PostgreSQL, appended by group commit. An append waits in the store's
//! audit queue; one task appends whatever has gathered (up to `BATCH`) in one transaction
//! and answers every waiter after its commit, so a busy server flushes PostgreSQL's log once
//! for many entries rather than once each. The transaction takes an advisory lock, so
//! appends from any number of servers still form one chain; a trigger refuses edits,
//! deletions and truncation.

use std::sync::OnceLock;

use iip_domain::audit::{AuditEvent, StoredAuditEvent};
use iip_store::{AuditStore, StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};
use tokio::sync::{mpsc, oneshot};

use crate::{PgStore, backend};

/// The hash before the first entry.
const GENESIS: [u8; 32] = [0; 32];

/// The advisory lock key that serialises appends ("IIPAUDIT" in ASCII).
const AUDIT_LOCK: i64 = 0x4949_5041_5544_4954;

/// The most entries one commit carries.
const BATCH: usize = 256;

type Chain = fn(&[u8], &AuditEvent) -> Vec<u8>;

/// An entry waiting for the commit that holds it.
struct Pending {
    event: AuditEvent,
    chain: Chain,
    done: oneshot::Sender<StoreResult<()>>,
}

/// A store's audit queue; its task starts with the first append and ends with the store.
pub(crate) struct AuditQueue {
    /// A connection of its own: appends do not queue for the pool behind the requests
    /// that wait for them.
    pool: PgPool,
    sender: OnceLock<mpsc::UnboundedSender<Pending>>,
}

impl AuditQueue {
    pub(crate) fn new(options: PgConnectOptions) -> Self {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(crate::ACQUIRE_TIMEOUT)
            .connect_lazy_with(options);
        Self {
            pool,
            sender: OnceLock::new(),
        }
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }
}

async fn run(pool: PgPool, mut receiver: mpsc::UnboundedReceiver<Pending>) {
    let mut batch = Vec::with_capacity(BATCH);
    while receiver.recv_many(&mut batch, BATCH).await > 0 {
        let committed = append(&pool, &batch).await;
        for pending in batch.drain(..) {
            let _ = pending.done.send(committed.clone());
        }
    }
}

/// Appends the entries in one transaction, each chained to the one before.
async fn append(pool: &PgPool, entries: &[Pending]) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(backend)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(AUDIT_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    let prev: Option<Vec<u8>> = sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
    let mut prev = prev.unwrap_or_else(|| GENESIS.to_vec());
    // One statement for the batch (8 parameters an entry: 256 entries stay far below
    // PostgreSQL's 65 535); ids follow the order of the VALUES rows.
    let mut insert = sqlx::QueryBuilder::<sqlx::Postgres>::new(
        "INSERT INTO audit_log (at, user_id, org_id, action, subject, reason, prev_hash, hash) ",
    );
    let rows: Vec<(&AuditEvent, Vec<u8>, Vec<u8>)> = entries
        .iter()
        .map(|Pending { event, chain, .. }| {
            let hash = chain(&prev, event);
            (event, std::mem::replace(&mut prev, hash.clone()), hash)
        })
        .collect();
    insert.push_values(rows, |mut row, (event, before, hash)| {
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
    crate::commit(tx).await
}

impl AuditStore for PgStore {
    async fn append_audit(&self, event: &AuditEvent, chain: Chain) -> StoreResult<()> {
        let sender = self.audits.sender.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            tokio::spawn(run(self.audits.pool.clone(), receiver));
            sender
        });
        let (done, answer) = oneshot::channel();
        sender
            .send(Pending {
                event: event.clone(),
                chain,
                done,
            })
            .map_err(|_| StoreError::Backend("the store's audit writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Backend("the store's audit writer has stopped".into()))?
    }

    async fn audit_events(&self, after_id: i64, limit: u32) -> StoreResult<Vec<StoredAuditEvent>> {
        let rows = sqlx::query(
            "SELECT id, at, user_id, org_id, action, subject, reason, prev_hash, hash FROM audit_log \
             WHERE id > $1 ORDER BY id LIMIT $2",
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
