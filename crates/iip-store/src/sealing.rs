//! Identifying fields sealed for storage, the same way in every backend: each value under the
//! organization's data key, its associated data binding it to the identity table, its column,
//! its record and its organization; names also get keyed blind indexes for search. The
//! backends keep the SQL (where the wrapped keys and sealed bytes live); this keeps the crypto.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use iip_domain::Date;
use iip_domain::records::Identity;
use iip_vault::{DataKey, MasterKey, Place};

use crate::{StoreError, StoreResult};

/// The table every backend keeps identities in (part of each ciphertext's associated data).
pub const IDENTITY_TABLE: &str = "participant_identity";

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

    /// A data key unwrapped earlier.
    pub fn cached(&self, org_id: &str) -> Option<DataKey> {
        self.data
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(org_id)
            .cloned()
    }

    pub fn remember(&self, org_id: &str, key: &DataKey) {
        self.data
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(org_id.to_owned(), key.clone());
    }

    /// Drops a cached data key (its organization was forgotten).
    pub fn forget(&self, org_id: &str) {
        self.data.lock().unwrap_or_else(PoisonError::into_inner).remove(org_id);
    }

    /// Unwraps a stored data key; a different master key is refused with a clear message.
    pub fn unwrap(&self, org_id: &str, wrapped: &[u8]) -> StoreResult<DataKey> {
        self.master.unwrap_data_key(org_id, wrapped).map_err(|_| {
            StoreError::Backend("the master key does not open this store's data keys (a different key file?)".into())
        })
    }

    /// A fresh data key for an organization and its wrapped form, to store.
    pub fn create(&self, org_id: &str) -> StoreResult<(DataKey, Vec<u8>)> {
        self.master.new_data_key(org_id).map_err(vault)
    }
}

fn vault(e: iip_vault::VaultError) -> StoreError {
    StoreError::Corrupt(format!("identity: {e}"))
}

/// Refused when a store that keeps identities sealed is written without its master key.
pub fn key_needed() -> StoreError {
    StoreError::Backend(
        "this store keeps identities encrypted: give the master key (--key-file or IIP_MASTER_KEY)".into(),
    )
}

/// An identity as stored sealed: three ciphertexts and two blind indexes.
#[derive(Debug, Default)]
pub struct SealedIdentity {
    pub first_name: Option<Vec<u8>>,
    pub last_name: Option<Vec<u8>>,
    pub date_of_birth: Option<Vec<u8>>,
    pub first_name_index: Option<Vec<u8>>,
    pub last_name_index: Option<Vec<u8>>,
}

fn place<'a>(column: &'a str, record: i64, org_id: &'a str) -> Place<'a> {
    Place {
        table: IDENTITY_TABLE,
        column,
        record,
        org_id,
    }
}

pub fn seal(key: &DataKey, record: i64, org_id: &str, identity: &Identity) -> StoreResult<SealedIdentity> {
    let seal = |column: &str, value: Option<&str>| -> StoreResult<Option<Vec<u8>>> {
        value
            .map(|v| key.seal(&place(column, record, org_id), v).map_err(vault))
            .transpose()
    };
    let born = identity.date_of_birth.map(|d| d.to_string());
    Ok(SealedIdentity {
        first_name: seal("first_name", identity.first_name.as_deref())?,
        last_name: seal("last_name", identity.last_name.as_deref())?,
        date_of_birth: seal("date_of_birth", born.as_deref())?,
        first_name_index: identity.first_name.as_deref().map(|n| key.blind_index("first_name", n)),
        last_name_index: identity.last_name.as_deref().map(|n| key.blind_index("last_name", n)),
    })
}

/// The six identity columns as read: three in the clear, then three sealed.
#[derive(Debug, Default)]
pub struct StoredIdentity {
    pub clear: [Option<String>; 3],
    pub sealed: [Option<Vec<u8>>; 3],
}

impl StoredIdentity {
    pub fn is_sealed(&self) -> bool {
        self.sealed.iter().any(Option::is_some)
    }
}

/// Opens a stored identity: `key` is the organization's data key, needed when it is sealed.
pub fn open(key: Option<&DataKey>, record: i64, org_id: &str, stored: StoredIdentity) -> StoreResult<Identity> {
    let [mut first, mut last, mut born] = stored.clear;
    if stored.sealed.iter().any(Option::is_some) {
        let key = key.ok_or_else(|| {
            StoreError::Backend("identities are encrypted: give the master key (--key-file or IIP_MASTER_KEY)".into())
        })?;
        let [sealed_first, sealed_last, sealed_born] = stored.sealed;
        let open = |column: &str, value: Option<Vec<u8>>| -> StoreResult<Option<String>> {
            value
                .map(|v| key.open(&place(column, record, org_id), &v).map_err(vault))
                .transpose()
        };
        first = open("first_name", sealed_first)?;
        last = open("last_name", sealed_last)?;
        born = open("date_of_birth", sealed_born)?;
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
