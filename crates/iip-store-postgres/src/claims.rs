//! Idempotency keys, taken in the same transaction as the write they name (see
//! `migrations/0005_idempotency_keys.sql`). The key is taken first: a concurrent write with
//! the same key waits on the row until the first commits (then it is a replay) or rolls back
//! (then it writes).

use iip_store::sealing::Keys;
use iip_store::{Claim, IDEMPOTENCY_KEY_SECONDS, Refused, StoreResult};
use sqlx::{Postgres, Transaction};

use crate::backend;

/// Takes the key for this transaction, or answers the refusal a key already held gives this
/// request (the caller then rolls back). Keys older than a day are forgotten on the way.
pub(crate) async fn take(
    tx: &mut Transaction<'static, Postgres>,
    claim: Option<&Claim>,
    keys: Option<&Keys>,
) -> StoreResult<Option<Refused>> {
    let Some(claim) = claim else {
        return Ok(None);
    };
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
    .fetch_optional(&mut **tx)
    .await
    .map_err(backend)?;
    if taken.is_some() {
        sqlx::query("DELETE FROM idempotency_key WHERE created_at < $1")
            .bind(expired)
            .execute(&mut **tx)
            .await
            .map_err(backend)?;
        return Ok(None);
    }
    let stored: Vec<u8> = sqlx::query_scalar("SELECT request_digest FROM idempotency_key WHERE key_digest = $1")
        .bind(&key)
        .fetch_one(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(Some(claim.refusal(&stored, keys)))
}
