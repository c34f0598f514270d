//! Identifying fields on their way in and out of `participant_identity`: sealed under the
//! organization's data key when the store has a master key, in the clear otherwise (a store
//! that holds data keys refuses to write clear identities).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use iip_domain::Date;
use iip_domain::records::Identity;
use iip_store::{StoreError, StoreResult};
use iip_vault::{DataKey, MasterKey, Place};
use sqlx::{Row, SqliteConnection};

use crate::backend;

const TABLE: &str = "participant_identity";

/// The master key and the data keys unwrapped so far.
pub struct Keys {
    master: MasterKey,
    data: Mutex<HashMap<String, DataKey>>,
}

impl Keys {
    pub fn new(master: MasterKey) -> Arc<Self> {
        Arc::new(Self {
            master,
            data: Mutex::new(HashMap::new()),
        })
    }

    pub fn master(&self) -> &MasterKey {
        &self.master
    }

    /// Drops a cached data key (its organization was forgotten).
    pub fn forget(&self, org_id: &str) {
        self.data.lock().unwrap_or_else(PoisonError::into_inner).remove(org_id);
    }
}

fn vault(e: iip_vault::VaultError) -> StoreError {
    StoreError::Corrupt(format!("identity: {e}"))
}

/// The organization's data key, created (and stored wrapped) on first use.
pub(crate) async fn data_key(keys: &Keys, conn: &mut SqliteConnection, org_id: &str) -> StoreResult<DataKey> {
    if let Some(key) = keys.data.lock().unwrap_or_else(PoisonError::into_inner).get(org_id) {
        return Ok(key.clone());
    }
    let wrapped: Option<Vec<u8>> = sqlx::query_scalar("SELECT wrapped FROM org_key WHERE org_id = ?")
        .bind(org_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    let key = match wrapped {
        Some(wrapped) => keys.master.unwrap_data_key(org_id, &wrapped).map_err(|_| {
            StoreError::Backend("the master key does not open this store's data keys (a different key file?)".into())
        })?,
        None => {
            let (key, wrapped) = keys.master.new_data_key(org_id).map_err(vault)?;
            sqlx::query("INSERT INTO org_key (org_id, wrapped, created_at) VALUES (?, ?, strftime('%s', 'now'))")
                .bind(org_id)
                .bind(wrapped)
                .execute(&mut *conn)
                .await
                .map_err(backend)?;
            key
        }
    };
    keys.data
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(org_id.to_owned(), key.clone());
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
    let dob = identity.date_of_birth.map(|d| d.to_string());
    let Some(keys) = keys else {
        if store_has_data_keys(conn).await? {
            return Err(StoreError::Backend(
                "this store keeps identities encrypted: give the master key (--key-file or IIP_MASTER_KEY)".into(),
            ));
        }
        sqlx::query(
            "INSERT INTO participant_identity (participant_row, first_name, last_name, date_of_birth) \
             VALUES (?, ?, ?, ?) ON CONFLICT (participant_row) DO UPDATE SET \
             first_name = excluded.first_name, last_name = excluded.last_name, date_of_birth = excluded.date_of_birth",
        )
        .bind(row)
        .bind(identity.first_name.as_deref())
        .bind(identity.last_name.as_deref())
        .bind(dob)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
        return Ok(());
    };
    let key = data_key(keys, conn, org_id).await?;
    let seal = |column: &str, value: Option<&str>| -> StoreResult<Option<Vec<u8>>> {
        value
            .map(|v| {
                key.seal(
                    &Place {
                        table: TABLE,
                        column,
                        record: row,
                        org_id,
                    },
                    v,
                )
                .map_err(vault)
            })
            .transpose()
    };
    let first = seal("first_name", identity.first_name.as_deref())?;
    let last = seal("last_name", identity.last_name.as_deref())?;
    let born = seal("date_of_birth", dob.as_deref())?;
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
    .bind(first)
    .bind(last)
    .bind(born)
    .bind(identity.first_name.as_deref().map(|n| key.blind_index("first_name", n)))
    .bind(identity.last_name.as_deref().map(|n| key.blind_index("last_name", n)))
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
    let plain = |i: usize| row.get::<Option<String>, _>(at + i);
    let sealed = |i: usize| row.get::<Option<Vec<u8>>, _>(at + i + 3);
    let (mut first, mut last, mut born) = (plain(0), plain(1), plain(2));
    if sealed(0).is_some() || sealed(1).is_some() || sealed(2).is_some() {
        let keys = keys.ok_or_else(|| {
            StoreError::Backend("identities are encrypted: give the master key (--key-file or IIP_MASTER_KEY)".into())
        })?;
        let key = data_key(keys, conn, org_id).await?;
        let open = |column: &str, value: Option<Vec<u8>>| -> StoreResult<Option<String>> {
            value
                .map(|v| {
                    key.open(
                        &Place {
                            table: TABLE,
                            column,
                            record,
                            org_id,
                        },
                        &v,
                    )
                    .map_err(vault)
                })
                .transpose()
        };
        first = open("first_name", sealed(0))?;
        last = open("last_name", sealed(1))?;
        born = open("date_of_birth", sealed(2))?;
    }
    Ok(Identity {
        first_name: first,
        last_name: last,
        date_of_birth: born
            .as_deref()
            .map(Date::parse)
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("date_of_birth {e}")))?,
    })
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
