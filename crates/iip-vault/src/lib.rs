//! Identities encrypted at rest.
//!
//! A **master key** (32 random bytes) is given to the process from a key file or the
//! environment, never stored in the database or the repository. Each organization has its own
//! **data key**, kept in the database only *wrapped* (sealed) by the master key. Identifying
//! fields are sealed with XChaCha20-Poly1305 under the organization's data key; the associated
//! data binds each ciphertext to its table, column, record and organization, so a ciphertext
//! moved to another row or organization does not open. **Blind indexes** (HMAC-SHA-256 under
//! a key derived from the data key) let the store find a name without decrypting every row.
//! Deleting an organization's data key makes all of its identities unrecoverable
//! (crypto-shredding) while aggregates, which never held them, stay as they were.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroize;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VaultError {
    #[error("the key must be 64 hexadecimal characters (32 bytes)")]
    BadKey,
    #[error("no randomness available from the operating system")]
    NoRandomness,
    #[error("a sealed value does not open with this key (wrong key, or the value was moved or altered)")]
    DoesNotOpen,
}

const NONCE: usize = 24;

fn random<const N: usize>() -> Result<[u8; N], VaultError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| VaultError::NoRandomness)?;
    Ok(bytes)
}

fn seal_with(key: &[u8; 32], plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, VaultError> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let nonce: [u8; NONCE] = random()?;
    let sealed = cipher
        .encrypt(&XNonce::from(nonce), Payload { msg: plaintext, aad })
        .map_err(|_| VaultError::DoesNotOpen)?;
    let mut out = Vec::with_capacity(NONCE + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

fn open_with(key: &[u8; 32], sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, VaultError> {
    if sealed.len() < NONCE + 16 {
        return Err(VaultError::DoesNotOpen);
    }
    let (nonce, body) = sealed.split_at(NONCE);
    let nonce: [u8; NONCE] = nonce.try_into().map_err(|_| VaultError::DoesNotOpen)?;
    XChaCha20Poly1305::new(key.into())
        .decrypt(&XNonce::from(nonce), Payload { msg: body, aad })
        .map_err(|_| VaultError::DoesNotOpen)
}

/// The process's master key. Never stored in the database; redacted in `Debug`.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    pub fn generate() -> Result<Self, VaultError> {
        random().map(Self)
    }

    /// From 64 hex characters (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Self, VaultError> {
        let text = text.trim();
        if text.len() != 64 {
            return Err(VaultError::BadKey);
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2).ok_or(VaultError::BadKey)?, 16)
                .map_err(|_| VaultError::BadKey)?;
        }
        Ok(Self(key))
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn wrap_aad(org_id: &str) -> Vec<u8> {
        format!("iip/data-key/v1/{org_id}").into_bytes()
    }

    /// A new data key for an organization, and its wrapped (storable) form.
    pub fn new_data_key(&self, org_id: &str) -> Result<(DataKey, Vec<u8>), VaultError> {
        let key = DataKey(random()?);
        let wrapped = seal_with(&self.0, &key.0, &Self::wrap_aad(org_id))?;
        Ok((key, wrapped))
    }

    /// Unwraps an organization's stored data key.
    pub fn unwrap_data_key(&self, org_id: &str, wrapped: &[u8]) -> Result<DataKey, VaultError> {
        let mut bytes = open_with(&self.0, wrapped, &Self::wrap_aad(org_id))?;
        let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| VaultError::DoesNotOpen)?;
        bytes.zeroize();
        Ok(DataKey(key))
    }

    /// Wraps an existing data key under this master key (key rotation).
    pub fn rewrap(&self, org_id: &str, key: &DataKey) -> Result<Vec<u8>, VaultError> {
        seal_with(&self.0, &key.0, &Self::wrap_aad(org_id))
    }
}

/// One organization's data key.
#[derive(Clone)]
pub struct DataKey([u8; 32]);

impl Drop for DataKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// Where a sealed value lives: the associated data that binds it there.
pub struct Place<'a> {
    pub table: &'a str,
    pub column: &'a str,
    pub record: i64,
    pub org_id: &'a str,
}

impl Place<'_> {
    fn aad(&self) -> Vec<u8> {
        format!("iip/v1|{}|{}|{}|{}", self.table, self.column, self.record, self.org_id).into_bytes()
    }
}

impl DataKey {
    pub fn seal(&self, place: &Place<'_>, plaintext: &str) -> Result<Vec<u8>, VaultError> {
        seal_with(&self.0, plaintext.as_bytes(), &place.aad())
    }

    pub fn open(&self, place: &Place<'_>, sealed: &[u8]) -> Result<String, VaultError> {
        let bytes = open_with(&self.0, sealed, &place.aad())?;
        String::from_utf8(bytes).map_err(|_| VaultError::DoesNotOpen)
    }

    /// A keyed, deterministic index of a normalized value (lower case, single spaces): equal
    /// names give equal indexes within one organization and nothing readable to a thief.
    pub fn blind_index(&self, column: &str, value: &str) -> Vec<u8> {
        let normalized = normalize(value);
        let mut derive = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable_key());
        derive.update(b"iip/blind-index/v1/");
        derive.update(column.as_bytes());
        let index_key = derive.finalize().into_bytes();
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&index_key).unwrap_or_else(|_| unreachable_key());
        mac.update(normalized.as_bytes());
        mac.finalize().into_bytes()[..16].to_vec()
    }
}

impl MasterKey {
    /// A keyed digest of `value` exactly as given (no normalization), for `purpose`: lets a
    /// store recognise a repeated request without keeping anything a thief could test guesses
    /// against.
    pub fn keyed_digest(&self, purpose: &str, value: &[u8]) -> Vec<u8> {
        let mut derive = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable_key());
        derive.update(b"iip/keyed-digest/v1/");
        derive.update(purpose.as_bytes());
        let purpose_key = derive.finalize().into_bytes();
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&purpose_key).unwrap_or_else(|_| unreachable_key());
        mac.update(value);
        mac.finalize().into_bytes().to_vec()
    }
}

/// The unkeyed form of [`MasterKey::keyed_digest`], for a store that holds no key (and so
/// keeps identities in the clear anyway).
pub fn plain_digest(purpose: &str, value: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    let mut hash = Sha256::new();
    hash.update(b"iip/keyed-digest/v1/");
    hash.update(purpose.as_bytes());
    hash.update([0u8]);
    hash.update(value);
    hash.finalize().to_vec()
}

/// HMAC takes keys of any length; this is never reached.
fn unreachable_key() -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(&[0u8; 32]).unwrap_or_else(|_| unreachable_key())
}

/// Lower case, trimmed, inner whitespace collapsed to one space.
pub fn normalize(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(record: i64, org_id: &str) -> Place<'_> {
        Place {
            table: "participant_identity",
            column: "first_name",
            record,
            org_id,
        }
    }

    #[test]
    fn sealed_values_open_only_in_their_place_and_with_their_key() {
        let master = MasterKey::generate().expect("key");
        let (key, wrapped) = master.new_data_key("org-a").expect("data key");
        let sealed = key.seal(&place(1, "org-a"), "María").expect("seal");
        assert!(
            !sealed.windows(5).any(|w| w == "María".as_bytes()),
            "no plaintext inside"
        );
        assert_eq!(key.open(&place(1, "org-a"), &sealed).expect("open"), "María");
        assert_ne!(
            sealed,
            key.seal(&place(1, "org-a"), "María").expect("seal"),
            "a fresh nonce each time"
        );
        // Moved to another record or organization, or altered: it does not open.
        assert_eq!(key.open(&place(2, "org-a"), &sealed), Err(VaultError::DoesNotOpen));
        assert_eq!(key.open(&place(1, "org-b"), &sealed), Err(VaultError::DoesNotOpen));
        let mut altered = sealed.clone();
        altered[30] ^= 1;
        assert_eq!(key.open(&place(1, "org-a"), &altered), Err(VaultError::DoesNotOpen));
        // The wrapped data key opens only with the master key and for its organization.
        let again = master.unwrap_data_key("org-a", &wrapped).expect("unwrap");
        assert_eq!(again.open(&place(1, "org-a"), &sealed).expect("open"), "María");
        assert!(master.unwrap_data_key("org-b", &wrapped).is_err());
        let other = MasterKey::generate().expect("key");
        assert!(other.unwrap_data_key("org-a", &wrapped).is_err());
        // Rotation: the same data key wrapped by a new master key.
        let rewrapped = other.rewrap("org-a", &again).expect("rewrap");
        let rotated = other.unwrap_data_key("org-a", &rewrapped).expect("unwrap");
        assert_eq!(rotated.open(&place(1, "org-a"), &sealed).expect("open"), "María");
    }

    #[test]
    fn blind_indexes_match_normalized_names_per_organization() {
        let master = MasterKey::generate().expect("key");
        let (a, _) = master.new_data_key("org-a").expect("key");
        let (b, _) = master.new_data_key("org-b").expect("key");
        assert_eq!(
            a.blind_index("last_name", "  Nguyen "),
            a.blind_index("last_name", "NGUYEN")
        );
        assert_ne!(
            a.blind_index("last_name", "Nguyen"),
            a.blind_index("last_name", "Nguyễn")
        );
        assert_ne!(
            a.blind_index("last_name", "Nguyen"),
            b.blind_index("last_name", "Nguyen"),
            "per organization"
        );
        assert_ne!(
            a.blind_index("last_name", "Nguyen"),
            a.blind_index("first_name", "Nguyen"),
            "per column"
        );
        assert_eq!(a.blind_index("last_name", "Nguyen").len(), 16);
    }

    #[test]
    fn keys_read_back_from_hex_and_bad_keys_are_refused() {
        let key = MasterKey::generate().expect("key");
        let text = key.to_hex();
        assert_eq!(MasterKey::from_hex(&format!("{text}\n")).expect("hex").to_hex(), text);
        assert_eq!(MasterKey::from_hex("abc").map(|_| ()), Err(VaultError::BadKey));
        assert_eq!(
            MasterKey::from_hex(&"zz".repeat(32)).map(|_| ()),
            Err(VaultError::BadKey)
        );
        assert_eq!(format!("{key:?}"), "MasterKey(<redacted>)");
    }
}
