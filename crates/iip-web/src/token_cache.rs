//! Bearer tokens seen in the last second, so an integration's burst of requests does not
//! look its account up in the store for every one. An entry lives for `FRESH` only: a token
//! revoked or an account disabled by another process (`iip token revoke`, `iip user disable`)
//! stops working within that time; a disable through this server clears the cache at once.
//! Only tokens the store accepted are kept (a guessed token is never cached), and the map is
//! emptied when it grows past `MOST`, so its size is bounded whatever the traffic.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use iip_auth::Principal;

/// How long a token's account is trusted without asking the store again.
pub const FRESH: Duration = Duration::from_secs(1);

/// The most tokens kept at once.
const MOST: usize = 4096;

#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<Vec<u8>, (Principal, Instant)>>,
}

impl TokenCache {
    /// The account of a token hash the store accepted less than `FRESH` ago.
    pub fn get(&self, hash: &[u8]) -> Option<Principal> {
        let entries = self.entries.lock().ok()?;
        let (principal, at) = entries.get(hash)?;
        (at.elapsed() < FRESH).then(|| principal.clone())
    }

    pub fn remember(&self, hash: Vec<u8>, principal: &Principal) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MOST {
                entries.clear();
            }
            entries.insert(hash, (principal.clone(), Instant::now()));
        }
    }

    /// Forgets every token: after an account is disabled or changed here.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iip_auth::Role;

    fn someone() -> Principal {
        Principal {
            user_id: 7,
            role: Role::CaseWorker,
            org_id: "org-a".into(),
            display_name: "A".into(),
        }
    }

    #[test]
    fn a_token_is_trusted_for_a_second_and_forgotten_on_clear() {
        let cache = TokenCache::default();
        assert!(cache.get(b"h").is_none());
        cache.remember(b"h".to_vec(), &someone());
        assert_eq!(cache.get(b"h").map(|p| p.user_id), Some(7));
        assert!(cache.get(b"other").is_none());
        cache.clear();
        assert!(cache.get(b"h").is_none());
    }

    #[test]
    fn an_entry_older_than_fresh_is_not_used() {
        let cache = TokenCache::default();
        cache.remember(b"h".to_vec(), &someone());
        if let Ok(mut entries) = cache.entries.lock()
            && let Some(entry) = entries.get_mut(b"h".as_slice())
        {
            entry.1 = Instant::now() - FRESH;
        }
        assert!(cache.get(b"h").is_none());
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = TokenCache::default();
        for i in 0..(MOST + 10) {
            cache.remember(i.to_le_bytes().to_vec(), &someone());
        }
        assert!(cache.entries.lock().map(|e| e.len()).unwrap_or(usize::MAX) <= MOST);
    }
}
