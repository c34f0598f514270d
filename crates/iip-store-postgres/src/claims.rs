//! Idempotency keys, kept in the same transaction as the write they name (see
//! `migrations/0005_idempotency_keys.sql`). Case writes run one batch at a time under the
//! store-revision row's lock (`batch.rs`), so a key checked here cannot be taken meanwhile.

use iip_store::sealing::Keys;
use iip_store::{Claim, IDEMPOTENCY_KEY_SECONDS, Refused, StoreResult};
use sqlx::PgConnection;

use crate::backend;

/// The refusal a key already held gives this request, or `None` for a new key.
pub(crate) async fn held(conn: &mut PgConnection, claim: &Claim, keys: Option<&Keys>) -> StoreResult<Option<Refused>> {
    let (key, _) = claim.digests(keys);
    let stored: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT request_digest FROM idempotency_key WHERE key_digest = $1 AND created_at >= $2")
            .bind(key)
            .bind(claim.at - IDEMPOTENCY_KEY_SECONDS)
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend)?;
    Ok(stored.map(|request| claim.refusal(&request, keys)))
}

/// Keeps the key of a write just recorded, and forgets keys older than a day.
pub(crate) async fn keep(conn: &mut PgConnection, claim: &Claim, keys: Option<&Keys>) -> StoreResult<()> {
    sqlx::query("DELETE FROM idempotency_key WHERE created_at < $1")
        .bind(claim.at - IDEMPOTENCY_KEY_SECONDS)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    let (key, request) = claim.digests(keys);
    sqlx::query(
        "INSERT INTO idempotency_key (key_digest, org_id, request_digest, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (key_digest) DO UPDATE SET request_digest = excluded.request_digest, created_at = excluded.created_at",
    )
    .bind(key)
    .bind(&claim.org_id)
    .bind(request)
    .bind(claim.at)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}
