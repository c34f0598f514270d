//! The audit chain: each entry's hash is SHA-256 over the previous hash and the entry's
//! fields, length-prefixed so no two different entries hash alike. Editing, inserting or
//! deleting a past entry changes every hash after it.

use sha2::{Digest, Sha256};

pub use iip_domain::audit::AuditEvent;

/// The hash that precedes the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

pub fn chain_hash(prev: &[u8], event: &AuditEvent) -> Vec<u8> {
    let mut hasher = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    field(prev);
    field(&event.at.to_be_bytes());
    field(&event.user_id.map_or(-1, |u| u).to_be_bytes());
    field(event.org_id.as_bytes());
    field(event.action.as_bytes());
    field(event.subject.as_bytes());
    field(event.reason.as_bytes());
    hasher.finalize().to_vec()
}

/// Where a stored chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBroken {
    #[error("audit entry {id}: it does not follow the entry before it (an entry was removed, inserted or reordered)")]
    Link { id: i64 },
    #[error("audit entry {id}: its contents do not match its hash (the entry was edited)")]
    Content { id: i64 },
}

/// Checks a run of stored entries `(id, event, prev_hash, hash)`, continuing from `prev`
/// (the hash of the entry before the run, or [`GENESIS`]); returns the last hash.
pub fn verify<'a>(
    mut prev: Vec<u8>,
    entries: impl IntoIterator<Item = (i64, &'a AuditEvent, &'a [u8], &'a [u8])>,
) -> Result<Vec<u8>, ChainBroken> {
    for (id, event, stored_prev, hash) in entries {
        if stored_prev != prev.as_slice() {
            return Err(ChainBroken::Link { id });
        }
        if chain_hash(&prev, event) != hash {
            return Err(ChainBroken::Content { id });
        }
        prev = hash.to_vec();
    }
    Ok(prev)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(subject: &str) -> AuditEvent {
        AuditEvent {
            at: 1,
            user_id: Some(7),
            org_id: "org".into(),
            action: "read".into(),
            subject: subject.into(),
            reason: "pathway page".into(),
        }
    }

    fn chain(events: &[AuditEvent]) -> Vec<(i64, AuditEvent, Vec<u8>, Vec<u8>)> {
        let mut prev = GENESIS.to_vec();
        events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let hash = chain_hash(&prev, e);
                let entry = (i as i64 + 1, e.clone(), prev.clone(), hash.clone());
                prev = hash;
                entry
            })
            .collect()
    }

    fn check(entries: &[(i64, AuditEvent, Vec<u8>, Vec<u8>)]) -> Result<Vec<u8>, ChainBroken> {
        verify(
            GENESIS.to_vec(),
            entries.iter().map(|(id, e, p, h)| (*id, e, p.as_slice(), h.as_slice())),
        )
    }

    #[test]
    fn an_intact_chain_verifies_and_every_tampering_is_caught() {
        let entries = chain(&[
            event("participant:org/a"),
            event("participant:org/b"),
            event("participant:org/c"),
        ]);
        assert!(check(&entries).is_ok());
        let mut edited = entries.clone();
        edited[1].1.subject = "participant:org/z".into();
        assert_eq!(check(&edited), Err(ChainBroken::Content { id: 2 }));
        let mut removed = entries.clone();
        removed.remove(1);
        assert_eq!(check(&removed), Err(ChainBroken::Link { id: 3 }));
        let mut swapped = entries.clone();
        swapped.swap(0, 1);
        assert_eq!(check(&swapped), Err(ChainBroken::Link { id: 2 }));
        // Length prefixes: moving a character between fields changes the hash.
        let a = AuditEvent {
            org_id: "ab".into(),
            action: "c".into(),
            ..event("s")
        };
        let b = AuditEvent {
            org_id: "a".into(),
            action: "bc".into(),
            ..event("s")
        };
        assert_ne!(chain_hash(&GENESIS, &a), chain_hash(&GENESIS, &b));
    }
}
