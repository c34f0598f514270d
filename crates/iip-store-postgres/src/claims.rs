//! Idempotency keys, taken in the same transaction as the write they name (see
//! `migrations/0005_idempotency_keys.sql`). The key is taken first: a concurrent write with
//! the same key (from another server's batch) waits on the row until the first commits (then
//! it is a replay) or lets go of it (then it writes). A write refused after its key was taken
//! lets go of the key in the same transaction, so a refusal keeps no key, as before batches.

use iip_store::sealing::Keys;
use iip_store::{Claim, IDEMPOTENCY_KEY_SECONDS, Refused, StoreResult};
use sqlx::PgConnection;

use crate::backend;

/// Takes the key for this transaction, or answers the refusal a key already held gives this
/// request (nothing is then written). Keys older than a day are forgotten on the way.
pub(crate) async fn take(conn: &mut PgConnection, claim: &Claim, keys: Option<&Keys>) -> StoreResult<Option<Refused>> {
    let expired = claim.at - IDEMPOTENCY_KEY_SECONDS;
    let (key, request) = claim.digests(keys);
    let taken: Option<i32> = sqlx::query_scalar(
        "INSERT INTO idempotency_key (key_digest, org_id, request_digest, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (key_digest) DO UPDATE SET request_digest = excluded.request_digest, created_at = excluded.created_at \
         WHERE idempotency_key.created_at < $5 RETURNING 1",
    )
    .bind(&key)
    .bind(&claim.org_id)
    .bind(&request)
    .bind(claim.at)
    .bind(expired)
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    if taken.is_some() {
        sqlx::query("DELETE FROM idempotency_key WHERE created_at < $1")
            .bind(expired)
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
        return Ok(None);
    }
    let stored: Vec<u8> = sqlx::query_scalar("SELECT request_digest FROM idempotency_key WHERE key_digest = $1")
        .bind(&key)
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(Some(claim.refusal(&stored, keys)))
}

/// Lets go of a key this transaction took for a write that was then refused. (A key it
/// replaced had expired: forgetting it is what the next write would have done.)
pub(crate) async fn release(conn: &mut PgConnection, claim: &Claim, keys: Option<&Keys>) -> StoreResult<()> {
    let (key, _) = claim.digests(keys);
    sqlx::query("DELETE FROM idempotency_key WHERE key_digest = $1")
        .bind(key)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(())
}
