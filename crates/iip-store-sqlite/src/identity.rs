//! Identifying fields on their way in and out of `participant_identity`: sealed under the
//! organization's data key when the store has a master key (`iip_store::sealing`), in the
//! clear otherwise (a store that holds data keys refuses to write clear identities).

use iip_domain::records::Identity;
use iip_store::StoreResult;
use iip_store::sealing::{self, Keys, StoredIdentity};
use iip_vault::DataKey;
use sqlx::{Row, SqliteConnection};

use crate::backend;

/// The organization's data key, created (and stored wrapped) on first use.
pub(crate) async fn data_key(keys: &Keys, conn: &mut SqliteConnection, org_id: &str) -> StoreResult<DataKey> {
    if let Some(key) = keys.cached(org_id) {
        return Ok(key);
    }
    let wrapped: Option<Vec<u8>> = sqlx::query_scalar("SELECT wrapped FROM org_key WHERE org_id = ?")
        .bind(org_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    let key = match wrapped {
        Some(wrapped) => keys.unwrap(org_id, &wrapped)?,
        None => {
            let (key, wrapped) = keys.create(org_id)?;
            sqlx::query("INSERT INTO org_key (org_id, wrapped, created_at) VALUES (?, ?, strftime('%s', 'now'))")
                .bind(org_id)
                .bind(wrapped)
                .execute(&mut *conn)
                .await
                .map_err(backend)?;
            key
        }
    };
    keys.remember(org_id, &key);
    Ok(key)
}

async fn store_has_data_keys(conn: &mut SqliteConnection) -> StoreResult<bool> {
    let any: Option<i64> = sqlx::query_scalar("SELECT 1 FROM org_key LIMIT 1")
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(any.is_some())
}

/// Writes (or replaces) a participant's identity.
pub(crate) async fn write(
    keys: Option<&Keys>,
    conn: &mut SqliteConnection,
    row: i64,
    org_id: &str,
    identity: &Identity,
) -> StoreResult<()> {
    if identity.is_empty() {
        sqlx::query("DELETE FROM participant_identity WHERE participant_row = ?")
            .bind(row)
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
        return Ok(());
    }
    let Some(keys) = keys else {
        if store_has_data_keys(conn).await? {
            return Err(sealing::key_needed());
        }
        sqlx::query(
            "INSERT INTO participant_identity (participant_row, first_name, last_name, date_of_birth) \
             VALUES (?, ?, ?, ?) ON CONFLICT (participant_row) DO UPDATE SET \
             first_name = excluded.first_name, last_name = excluded.last_name, date_of_birth = excluded.date_of_birth",
        )
        .bind(row)
        .bind(identity.first_name.as_deref())
        .bind(identity.last_name.as_deref())
        .bind(identity.date_of_birth.map(|d| d.to_string()))
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
        return Ok(());
    };
    let key = data_key(keys, conn, org_id).await?;
    let sealed = sealing::seal(&key, row, org_id, identity)?;
    sqlx::query(
        "INSERT INTO participant_identity (participant_row, first_name, last_name, date_of_birth, \
         sealed_first_name, sealed_last_name, sealed_date_of_birth, first_name_index, last_name_index) \
         VALUES (?, NULL, NULL, NULL, ?, ?, ?, ?, ?) ON CONFLICT (participant_row) DO UPDATE SET \
         first_name = NULL, last_name = NULL, date_of_birth = NULL, \
         sealed_first_name = excluded.sealed_first_name, sealed_last_name = excluded.sealed_last_name, \
         sealed_date_of_birth = excluded.sealed_date_of_birth, first_name_index = excluded.first_name_index, \
         last_name_index = excluded.last_name_index",
    )
    .bind(row)
    .bind(sealed.first_name)
    .bind(sealed.last_name)
    .bind(sealed.date_of_birth)
    .bind(sealed.first_name_index)
    .bind(sealed.last_name_index)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

/// The identity columns every read selects, in this order (a macro so queries stay literals).
macro_rules! identity_columns {
    () => {
        "i.first_name, i.last_name, i.date_of_birth, i.sealed_first_name, i.sealed_last_name, i.sealed_date_of_birth"
    };
}
pub(crate) use identity_columns;

/// Reads an identity from a row whose columns `at..at + 6` are `identity_columns!()`.
pub(crate) async fn read(
    keys: Option<&Keys>,
    conn: &mut SqliteConnection,
    row: &sqlx::sqlite::SqliteRow,
    at: usize,
    record: i64,
    org_id: &str,
) -> StoreResult<Identity> {
    let stored = StoredIdentity {
        clear: [0, 1, 2].map(|i| row.get::<Option<String>, _>(at + i)),
        sealed: [3, 4, 5].map(|i| row.get::<Option<Vec<u8>>, _>(at + i)),
    };
    let key = match keys {
        Some(keys) if stored.is_sealed() => Some(data_key(keys, conn, org_id).await?),
        _ => None,
    };
    sealing::open(key.as_ref(), record, org_id, stored)
}

/// The blind index of a searched name, for one organization (`None` without keys).
pub(crate) async fn search_index(
    keys: Option<&Keys>,
    conn: &mut SqliteConnection,
    org_id: &str,
    column: &str,
    value: &str,
) -> StoreResult<Option<Vec<u8>>> {
    let Some(keys) = keys else { return Ok(None) };
    let key = data_key(keys, conn, org_id).await?;
    Ok(Some(key.blind_index(column, value)))
}
