//! Login rate limiting: failures are counted per account and per client address over a
//! sliding window; past the limit, attempts are refused before any password is checked.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginLimiter {
    window: Duration,
    per_account: usize,
    per_address: usize,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl Default for LoginLimiter {
    /// 5 failures per account and 20 per address in 15 minutes.
    fn default() -> Self {
        Self::new(Duration::from_secs(15 * 60), 5, 20)
    }
}

impl LoginLimiter {
    pub fn new(window: Duration, per_account: usize, per_address: usize) -> Self {
        Self {
            window,
            per_account,
            per_address,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(account: &str, address: &str) -> [String; 2] {
        [format!("a:{}", account.trim().to_lowercase()), format!("i:{address}")]
    }

    /// `Some(wait)` when the account or the address is over its limit.
    pub fn blocked(&self, account: &str, address: &str, now: Instant) -> Option<Duration> {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let [by_account, by_address] = Self::keys(account, address);
        let mut wait = None;
        for (key, limit) in [(by_account, self.per_account), (by_address, self.per_address)] {
            if let Some(times) = failures.get_mut(&key) {
                times.retain(|t| now.duration_since(*t) < self.window);
                if times.len() >= limit
                    && let Some(oldest) = times.first()
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
        for key in Self::keys(account, address) {
            failures.entry(key).or_default().push(now);
        }
    }

    /// A successful login clears the account's failures (not the address's).
    pub fn succeeded(&self, account: &str, address: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let [by_account, _] = Self::keys(account, address);
        failures.remove(&by_account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_block_the_account_until_the_window_passes() {
        let limiter = LoginLimiter::new(Duration::from_secs(60), 5, 8);
        let t0 = Instant::now();
        for i in 0..5 {
            assert_eq!(limiter.blocked("Ana@x.org", "1.2.3.4", t0), None, "attempt {i}");
            limiter.failed("ana@x.org ", "1.2.3.4", t0);
        }
        let wait = limiter.blocked("ana@x.org", "5.6.7.8", t0 + Duration::from_secs(10));
        assert_eq!(wait, Some(Duration::from_secs(50)), "blocked from any address");
        assert_eq!(
            limiter.blocked("ana@x.org", "1.2.3.4", t0 + Duration::from_secs(61)),
            None
        );
        // The address limit catches one client trying many accounts.
        for i in 0..8 {
            limiter.failed(&format!("user{i}@x.org"), "9.9.9.9", t0);
        }
        assert!(limiter.blocked("someone@x.org", "9.9.9.9", t0).is_some());
        limiter.succeeded("user7@x.org", "9.9.9.9");
        assert!(
            limiter.blocked("user7@x.org", "9.9.9.9", t0).is_some(),
            "address still blocked"
        );
    }
}
