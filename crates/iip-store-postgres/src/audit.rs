//! The audit log on PostgreSQL: appends take a transaction-scoped advisory lock, so
//! concurrent appends from any number of servers still form one chain; a trigger refuses
//! edits, deletions and truncation.

use iip_domain::audit::{AuditEvent, StoredAuditEvent};
use iip_store::{AuditStore, StoreResult};
use sqlx::Row;

use crate::{PgStore, backend};

/// The hash before the first entry.
const GENESIS: [u8; 32] = [0; 32];

/// The advisory lock key that serialises appends ("IIPAUDIT" in ASCII).
const AUDIT_LOCK: i64 = 0x4949_5041_5544_4954;

impl AuditStore for PgStore {
    async fn append_audit(&self, event: &AuditEvent, chain: fn(&[u8], &AuditEvent) -> Vec<u8>) -> StoreResult<()> {
        let mut tx = self.write().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(AUDIT_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let prev: Option<Vec<u8>> = sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        let prev = prev.unwrap_or_else(|| GENESIS.to_vec());
        let hash = chain(&prev, event);
        sqlx::query(
            "INSERT INTO audit_log (at, user_id, org_id, action, subject, reason, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
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
        crate::commit(tx).await
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
