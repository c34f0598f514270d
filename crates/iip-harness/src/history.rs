//! The client history of a crash test. Each write carries a unique key; a client records
//! what it learned of each: acknowledged (a 2xx, or a 409 saying it exists already: a retry
//! of an earlier write), refused (a 4xx or 503 that promises nothing was written) or unknown
//! (the connection died before an answer). After the crashes, the store's keys must hold:
//! every acknowledged write present, none present twice, no refused write present, and unknown
//! outcomes present at most once.

use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Acknowledged,
    Refused,
    Unknown,
}

#[derive(Debug, Default, Clone)]
pub struct History {
    outcomes: HashMap<String, Outcome>,
}

/// What a check found wrong, with the keys concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// Acknowledged writes missing from the store: lost.
    Lost(Vec<String>),
    /// Keys stored more than once.
    Duplicated(Vec<String>),
    /// Writes the server said it did not make, present anyway.
    RefusedButPresent(Vec<String>),
    /// Keys in the store that no client ever sent.
    Unexpected(Vec<String>),
}

/// The figures of a history that checked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub acknowledged: usize,
    pub refused: usize,
    pub unknown: usize,
    /// Unknown outcomes found present (the write landed, its answer was lost).
    pub unknown_present: usize,
}

impl History {
    /// Records what a client learned of `key`. A later, surer answer wins: an unknown write
    /// retried and acknowledged is acknowledged.
    pub fn record(&mut self, key: impl Into<String>, outcome: Outcome) {
        let entry = self.outcomes.entry(key.into()).or_insert(outcome);
        if *entry == Outcome::Unknown || outcome == Outcome::Acknowledged {
            *entry = outcome;
        }
    }

    pub fn merge(&mut self, other: History) {
        for (key, outcome) in other.outcomes {
            self.record(key, outcome);
        }
    }

    pub fn len(&self) -> usize {
        self.outcomes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }

    /// Checks the keys the store holds (one entry per stored row) against the history.
    pub fn check<'a>(&self, stored: impl IntoIterator<Item = &'a str>) -> Result<Summary, Violation> {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut duplicated = Vec::new();
        let mut unexpected = Vec::new();
        for key in stored {
            if !seen.insert(key) {
                duplicated.push(key.to_owned());
            }
            if !self.outcomes.contains_key(key) {
                unexpected.push(key.to_owned());
            }
        }
        if !duplicated.is_empty() {
            duplicated.sort();
            return Err(Violation::Duplicated(duplicated));
        }
        if !unexpected.is_empty() {
            unexpected.sort();
            return Err(Violation::Unexpected(unexpected));
        }
        let mut summary = Summary::default();
        let (mut lost, mut refused_present) = (Vec::new(), Vec::new());
        for (key, outcome) in &self.outcomes {
            let present = seen.contains(key.as_str());
            match outcome {
                Outcome::Acknowledged => {
                    summary.acknowledged += 1;
                    if !present {
                        lost.push(key.clone());
                    }
                }
                Outcome::Refused => {
                    summary.refused += 1;
                    if present {
                        refused_present.push(key.clone());
                    }
                }
                Outcome::Unknown => {
                    summary.unknown += 1;
                    summary.unknown_present += usize::from(present);
                }
            }
        }
        if !lost.is_empty() {
            lost.sort();
            return Err(Violation::Lost(lost));
        }
        if !refused_present.is_empty() {
            refused_present.sort();
            return Err(Violation::RefusedButPresent(refused_present));
        }
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(entries: &[(&str, Outcome)]) -> History {
        let mut h = History::default();
        for (key, outcome) in entries {
            h.record(*key, *outcome);
        }
        h
    }

    #[test]
    fn a_sound_history_checks_out_with_its_figures() {
        let h = history(&[
            ("a", Outcome::Acknowledged),
            ("b", Outcome::Acknowledged),
            ("c", Outcome::Unknown),
            ("d", Outcome::Unknown),
            ("e", Outcome::Refused),
        ]);
        assert_eq!(
            h.check(["a", "b", "c"]),
            Ok(Summary {
                acknowledged: 2,
                refused: 1,
                unknown: 2,
                unknown_present: 1
            })
        );
    }

    #[test]
    fn a_lost_acknowledged_write_fails() {
        let h = history(&[("a", Outcome::Acknowledged), ("b", Outcome::Acknowledged)]);
        assert_eq!(h.check(["a"]), Err(Violation::Lost(vec!["b".into()])));
        assert_eq!(h.check([]), Err(Violation::Lost(vec!["a".into(), "b".into()])));
    }

    #[test]
    fn a_write_stored_twice_fails_even_when_its_outcome_was_unknown() {
        let h = history(&[("a", Outcome::Acknowledged), ("u", Outcome::Unknown)]);
        assert_eq!(h.check(["a", "u", "u"]), Err(Violation::Duplicated(vec!["u".into()])));
        assert_eq!(h.check(["a", "a"]), Err(Violation::Duplicated(vec!["a".into()])));
    }

    #[test]
    fn a_refused_write_that_landed_fails() {
        let h = history(&[("a", Outcome::Refused)]);
        assert_eq!(h.check(["a"]), Err(Violation::RefusedButPresent(vec!["a".into()])));
    }

    #[test]
    fn a_key_no_client_sent_fails() {
        let h = history(&[("a", Outcome::Acknowledged)]);
        assert_eq!(h.check(["a", "z"]), Err(Violation::Unexpected(vec!["z".into()])));
    }

    #[test]
    fn a_retry_that_is_acknowledged_upgrades_an_unknown_outcome() {
        let mut h = history(&[("a", Outcome::Unknown)]);
        h.record("a", Outcome::Acknowledged);
        assert_eq!(h.check([]), Err(Violation::Lost(vec!["a".into()])));
        // ...and an acknowledgement is never downgraded by a later unknown.
        h.record("a", Outcome::Unknown);
        assert_eq!(h.check([]), Err(Violation::Lost(vec!["a".into()])));
        let mut merged = History::default();
        merged.merge(h);
        assert_eq!(merged.check(["a"]).map(|s| s.acknowledged), Ok(1));
    }
}
