//! The audit log on SQLite: appended under the write lock, so concurrent appends still form
//! one chain; the table's triggers refuse edits and deletions.

use iip_domain::audit::{AuditEvent, StoredAuditEvent};
use iip_store::{AuditStore, StoreResult};
use sqlx::Row;

use crate::{SqliteStore, backend};

/// The hash before the first entry.
const GENESIS: [u8; 32] = [0; 32];

impl AuditStore for SqliteStore {
    async fn append_audit(&self, event: &AuditEvent, chain: fn(&[u8], &AuditEvent) -> Vec<u8>) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let prev: Option<Vec<u8>> = sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        let prev = prev.unwrap_or_else(|| GENESIS.to_vec());
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
        tx.commit().await.map_err(backend)
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
