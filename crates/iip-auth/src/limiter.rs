//! Login rate limiting: failures are counted over a sliding window for three keys, and past
//! any key's limit attempts are refused before any password is checked:
//!
//! - the account from one client address, tightly (5 by default): one client guessing at an
//!   account is stopped quickly, and it locks out only itself;
//! - the account from all addresses together, loosely (25 by default, so at most 100 an hour, ASVS 2.2.1): a guessing attack
//!   spread over many addresses is still capped, while one attacker's address cannot lock the
//!   account's owner out;
//! - the client address over all accounts (20 by default): one client trying many accounts.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginLimiter {
    window: Duration,
    per_account_address: usize,
    per_account: usize,
    per_address: usize,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl Default for LoginLimiter {
    /// In 15 minutes: 5 failures for an account from one address, 25 for an account from all
    /// addresses, 20 from an address over all accounts.
    fn default() -> Self {
        Self::new(Duration::from_secs(15 * 60), 5, 25, 20)
    }
}

impl LoginLimiter {
    pub fn new(window: Duration, per_account_address: usize, per_account: usize, per_address: usize) -> Self {
        Self {
            window,
            per_account_address,
            per_account,
            per_address,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// The keys of an attempt, with their limits: (account, address), account, address.
    fn keys(&self, account: &str, address: &str) -> [(String, usize); 3] {
        let account = account.trim().to_lowercase();
        [
            (format!("p:{address} {account}"), self.per_account_address),
            (format!("a:{account}"), self.per_account),
            (format!("i:{address}"), self.per_address),
        ]
    }

    /// `Some(wait)` when the account from this address, the account, or the address is over
    /// its limit.
    pub fn blocked(&self, account: &str, address: &str, now: Instant) -> Option<Duration> {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut wait = None;
        for (key, limit) in self.keys(account, address) {
            if let Some(times) = failures.get_mut(&key) {
                times.retain(|t| now.duration_since(*t) < self.window);
                // The oldest failure that keeps the key at its limit: when it leaves the
                // window, the key is under the limit again.
                if times.len() >= limit
                    && let Some(oldest) = times.get(times.len() - limit)
                {
                    let left = self.window.saturating_sub(now.duration_since(*oldest));
                    wait = Some(wait.map_or(left, |w: Duration| w.max(left)));
                }
            }
        }
        wait
    }

    pub fn failed(&self, account: &str, address: &str, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Bound the memory an attacker can make us hold.
        if failures.len() > 100_000 {
            failures.retain(|_, times| times.last().is_some_and(|t| now.duration_since(*t) < self.window));
        }
        for (key, limit) in self.keys(account, address) {
            let times = failures.entry(key).or_default();
            times.push(now);
            // Only the last `limit` failures decide anything.
            if times.len() > limit {
                times.drain(..times.len() - limit);
            }
        }
    }

    /// A successful login clears the failures of the account from this address (its owner's
    /// typos); not the account's across addresses, which may be an attack elsewhere that the
    /// owner's sign-in must not reset, nor the address's.
    pub fn succeeded(&self, account: &str, address: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let [(pair, _), _, _] = self.keys(account, address);
        failures.remove(&pair);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_block_the_account_from_that_address_until_the_window_passes() {
        let limiter = LoginLimiter::new(Duration::from_secs(60), 5, 50, 8);
        let t0 = Instant::now();
        for i in 0..5 {
            assert_eq!(limiter.blocked("Ana@x.org", "1.2.3.4", t0), None, "attempt {i}");
            limiter.failed("ana@x.org ", "1.2.3.4", t0);
        }
        let later = t0 + Duration::from_secs(10);
        assert_eq!(
            limiter.blocked("ANA@x.org", "1.2.3.4", later),
            Some(Duration::from_secs(50)),
            "blocked from that address, whatever the case of the email"
        );
        // Another address is not: one attacker cannot lock the owner out.
        assert_eq!(limiter.blocked("ana@x.org", "5.6.7.8", later), None);
        assert_eq!(
            limiter.blocked("ana@x.org", "1.2.3.4", t0 + Duration::from_secs(61)),
            None
        );
    }

    #[test]
    fn an_attack_spread_over_many_addresses_hits_the_account_limit() {
        let limiter = LoginLimiter::new(Duration::from_secs(60), 5, 50, 20);
        let t0 = Instant::now();
        // 50 failures from 25 addresses, 2 each: under the per-address limits.
        for n in 0..50 {
            let address = format!("10.0.0.{}", n / 2);
            assert_eq!(limiter.blocked("ana@x.org", &address, t0), None, "attempt {n}");
            limiter.failed("ana@x.org", &address, t0);
        }
        let wait = limiter.blocked("ana@x.org", "192.0.2.99", t0 + Duration::from_secs(5));
        assert_eq!(wait, Some(Duration::from_secs(55)), "blocked from a clean address too");
        // The owner signing in elsewhere does not reset the account's count.
        limiter.succeeded("ana@x.org", "192.0.2.99");
        assert!(limiter.blocked("ana@x.org", "192.0.2.100", t0).is_some());
        // Other accounts are untouched.
        assert_eq!(limiter.blocked("bo@x.org", "192.0.2.99", t0), None);
        assert_eq!(
            limiter.blocked("ana@x.org", "192.0.2.99", t0 + Duration::from_secs(60)),
            None
        );
    }

    #[test]
    fn one_address_trying_many_accounts_is_blocked_and_a_success_clears_only_its_own_pair() {
        let limiter = LoginLimiter::new(Duration::from_secs(60), 5, 50, 8);
        let t0 = Instant::now();
        for i in 0..8 {
            limiter.failed(&format!("user{i}@x.org"), "9.9.9.9", t0);
        }
        assert!(limiter.blocked("someone@x.org", "9.9.9.9", t0).is_some());
        assert_eq!(limiter.blocked("someone@x.org", "8.8.8.8", t0), None);
        limiter.succeeded("user7@x.org", "9.9.9.9");
        assert!(
            limiter.blocked("user7@x.org", "9.9.9.9", t0).is_some(),
            "address still blocked"
        );
        // The owner's own typos are forgiven by their sign-in.
        for _ in 0..4 {
            limiter.failed("ana@x.org", "1.2.3.4", t0);
        }
        limiter.succeeded("ana@x.org", "1.2.3.4");
        limiter.failed("ana@x.org", "1.2.3.4", t0);
        assert_eq!(limiter.blocked("ana@x.org", "1.2.3.4", t0), None);
    }

    #[test]
    fn a_key_stays_blocked_while_its_last_failures_are_in_the_window() {
        let limiter = LoginLimiter::new(Duration::from_secs(60), 5, 50, 20);
        let t0 = Instant::now();
        for s in 0..10 {
            limiter.failed("ana@x.org", "1.2.3.4", t0 + Duration::from_secs(s * 5));
        }
        // The fifth-last failure (at 25 s) leaves the window at 85 s.
        let at = t0 + Duration::from_secs(50);
        assert_eq!(
            limiter.blocked("ana@x.org", "1.2.3.4", at),
            Some(Duration::from_secs(35))
        );
    }
}
