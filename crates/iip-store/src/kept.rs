//! A bounded in-memory map for what a server keeps between requests (a participant's pathway,
//! its JSON): by participant row, each value with a tag that says whether it is still current
//! (a version, the value it was made from). Bounded by an estimate of the bytes held: past the
//! budget it starts afresh, which is simple and keeps no order to maintain on every hit.

use std::collections::HashMap;
use std::sync::Mutex;

pub struct Kept<Tag, V> {
    most_bytes: usize,
    inner: Mutex<Inner<Tag, V>>,
}

struct Inner<Tag, V> {
    values: HashMap<i64, (Tag, V, usize)>,
    bytes: usize,
}

impl<Tag, V: Clone> Kept<Tag, V> {
    /// Holds at most about `most_bytes` (as the sizes given to [`Kept::keep`] count them).
    pub fn new(most_bytes: usize) -> Self {
        Self {
            most_bytes,
            inner: Mutex::new(Inner {
                values: HashMap::new(),
                bytes: 0,
            }),
        }
    }

    /// The value kept for `row` if `current` says its tag is still current.
    pub fn get(&self, row: i64, current: impl FnOnce(&Tag) -> bool) -> Option<V> {
        let inner = self.inner.lock().ok()?;
        match inner.values.get(&row) {
            Some((tag, value, _)) if current(tag) => Some(value.clone()),
            _ => None,
        }
    }

    /// Keeps `value` for `row` (replacing what was kept), `bytes` its estimated size. A value
    /// larger than the whole budget is not kept.
    pub fn keep(&self, row: i64, tag: Tag, value: V, bytes: usize) {
        if bytes > self.most_bytes {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else { return };
        if let Some((_, _, before)) = inner.values.remove(&row) {
            inner.bytes -= before;
        }
        if inner.bytes + bytes > self.most_bytes {
            inner.values.clear();
            inner.bytes = 0;
        }
        inner.bytes += bytes;
        inner.values.insert(row, (tag, value, bytes));
    }

    /// Forgets everything.
    pub fn clear(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.values.clear();
            inner.bytes = 0;
        }
    }

    /// Values kept and their estimated bytes.
    pub fn held(&self) -> (usize, usize) {
        self.inner
            .lock()
            .map_or((0, 0), |inner| (inner.values.len(), inner.bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_tag_finds_nothing_and_a_replaced_value_is_counted_once() {
        let kept: Kept<i64, &str> = Kept::new(100);
        kept.keep(1, 7, "a", 10);
        assert_eq!(kept.get(1, |v| *v == 7), Some("a"));
        assert_eq!(kept.get(1, |v| *v == 8), None, "another version");
        assert_eq!(kept.get(2, |_| true), None);
        kept.keep(1, 8, "b", 30);
        assert_eq!(kept.held(), (1, 30));
        assert_eq!(kept.get(1, |v| *v == 8), Some("b"));
    }

    #[test]
    fn past_the_budget_it_starts_afresh_and_never_holds_more() {
        let kept: Kept<i64, u32> = Kept::new(100);
        for row in 0..10 {
            kept.keep(row, 0, 0, 30);
            let (_, bytes) = kept.held();
            assert!(bytes <= 100, "{bytes}");
        }
        // Three of 30 fit; the fourth starts afresh (rows 3, 6 and 9 did): row 9 alone is left.
        assert_eq!(kept.held(), (1, 30));
        assert_eq!(kept.get(9, |_| true), Some(0));
        assert_eq!(kept.get(0, |_| true), None);
        kept.keep(99, 0, 1, 101);
        assert_eq!(kept.get(99, |_| true), None, "larger than the budget: not kept");
        kept.clear();
        assert_eq!(kept.held(), (0, 0));
    }
}
