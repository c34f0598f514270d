//! The live metrics state of a server: the engine's snapshot kept current, and a small cache
//! of suppressed reports.
//!
//! Writes made through this server hand their fact to [`Live::apply`], which applies facts in
//! revision order (a write that commits second may arrive first). While such writes are in
//! flight, readers use the snapshot as it is rather than rebuilding it from the store; when
//! the store's revision moved and no write of ours is in flight, another process changed the
//! store and the snapshot is rebuilt. A write no fact can express (a replaced score) drops the
//! snapshot, and the next reader rebuilds it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use iip_framework::Framework;
use iip_metrics::{MetricSet, Query, Report, Snapshot};
use iip_store::{Recorded, Store, StoreError};
use tokio::sync::{RwLock, RwLockReadGuard};

type PendingFact = Box<dyn FnOnce(&mut Snapshot) + Send + Sync>;

pub(crate) struct Loaded {
    /// The store revision the snapshot reflects.
    seen: i64,
    snapshot: Snapshot,
    /// Facts of revisions after `seen` that arrived before the revision just after `seen`.
    pending: BTreeMap<i64, PendingFact>,
}

/// A read view of the snapshot and the revision it reflects.
pub struct View<'a>(RwLockReadGuard<'a, Loaded>);

impl View<'_> {
    pub fn revision(&self) -> i64 {
        self.0.seen
    }
}

impl std::ops::Deref for View<'_> {
    type Target = Snapshot;

    fn deref(&self) -> &Snapshot {
        &self.0.snapshot
    }
}

type ReportKey = (i64, iip_domain::ProgramYear, Vec<String>, Vec<String>);

#[derive(Default)]
pub struct Live {
    slot: RwLock<Option<Loaded>>,
    in_flight: AtomicUsize,
    reports: Mutex<Vec<(ReportKey, Arc<Report>)>>,
    /// Held while a report is computed: requests that miss the cache at once (the first after
    /// a write) wait for one computation instead of each running it on the runtime's threads.
    computing: tokio::sync::Mutex<()>,
    /// How many reports were computed (not served from the cache) since start.
    computed: AtomicUsize,
}

/// Held while a write of this server is between its store call and its `apply`.
pub struct Writing<'a>(&'a AtomicUsize);

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How many suppressed reports are kept (per revision, year, metrics and breakdowns).
const CACHED_REPORTS: usize = 64;

/// Builds the metrics engine's snapshot from every fact of the store.
pub async fn load_snapshot<S: Store>(store: &S, framework: &Framework) -> Result<Snapshot, StoreError> {
    let mut snapshot = Snapshot::new(framework);
    store.scan_facts(&mut snapshot).await?;
    Ok(snapshot)
}

impl Live {
    /// Call before a store write whose fact will be applied: readers then do not rebuild
    /// the snapshot for the revision this write is about to add.
    pub fn writing(&self) -> Writing<'_> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        Writing(&self.in_flight)
    }

    /// The snapshot, current with the store (see the module documentation).
    pub async fn view<S: Store>(&self, store: &S, framework: &Framework) -> Result<View<'_>, StoreError> {
        let revision = store.revision().await?;
        let usable = |slot: &Option<Loaded>, in_flight: usize| {
            slot.as_ref()
                .is_some_and(|l| l.seen == revision || (l.seen < revision && in_flight > 0) || l.seen > revision)
        };
        {
            let guard = self.slot.read().await;
            if usable(&guard, self.in_flight.load(Ordering::SeqCst)) {
                return RwLockReadGuard::try_map(guard, Option::as_ref)
                    .map(View)
                    .map_err(|_| StoreError::Corrupt("snapshot vanished".into()));
            }
        }
        let mut slot = self.slot.write().await;
        if !usable(&slot, self.in_flight.load(Ordering::SeqCst)) {
            let snapshot = load_snapshot(store, framework).await?;
            // Facts of later revisions that arrived meanwhile still apply after the rebuild.
            let mut pending = slot.take().map(|l| l.pending).unwrap_or_default();
            pending.retain(|r, _| *r > revision);
            let mut loaded = Loaded {
                seen: revision,
                snapshot,
                pending,
            };
            drain(&mut loaded);
            *slot = Some(loaded);
        }
        RwLockReadGuard::try_map(slot.downgrade(), Option::as_ref)
            .map(View)
            .map_err(|_| StoreError::Corrupt("snapshot vanished".into()))
    }

    /// Applies a write of this server to the snapshot, in revision order.
    pub async fn apply<F: Send + Sync + 'static>(
        &self,
        recorded: Recorded<F>,
        push: impl FnOnce(&mut Snapshot, F) + Send + Sync + 'static,
    ) {
        let mut slot = self.slot.write().await;
        let Some(loaded) = slot.as_mut() else { return };
        if recorded.revision <= loaded.seen {
            return; // a rebuild already read it from the store
        }
        match recorded.fact {
            None => *slot = None,
            Some(fact) => {
                loaded
                    .pending
                    .insert(recorded.revision, Box::new(move |s| push(s, fact)));
                drain(loaded);
            }
        }
    }

    /// A suppressed report over every scope, cached for the snapshot's revision.
    pub async fn report<S: Store>(
        &self,
        store: &S,
        framework: &Framework,
        set: &MetricSet,
        query: &Query,
    ) -> Result<Arc<Report>, crate::WebError> {
        let view = self.view(store, framework).await.map_err(crate::internal)?;
        let key: ReportKey = (
            view.revision(),
            query.year,
            set.metrics.iter().map(|m| m.id.clone()).collect(),
            query.by.iter().map(|d| d.as_str().to_owned()).collect(),
        );
        if let Some(report) = self.cached(&key) {
            return Ok(report);
        }
        let _computing = self.computing.lock().await;
        if let Some(report) = self.cached(&key) {
            return Ok(report);
        }
        self.computed.fetch_add(1, Ordering::Relaxed);
        let report = Arc::new(
            iip_metrics::report(&view, &framework.version, set, query, None)
                .map_err(|e| crate::WebError::BadRequest(e.to_string()))?,
        );
        let mut cache = self.reports.lock().unwrap_or_else(PoisonError::into_inner);
        cache.retain(|(k, _)| k.0 >= key.0);
        if cache.len() >= CACHED_REPORTS {
            cache.remove(0);
        }
        cache.push((key, Arc::clone(&report)));
        Ok(report)
    }

    /// How many reports were computed rather than served from the cache.
    pub fn reports_computed(&self) -> usize {
        self.computed.load(Ordering::Relaxed)
    }

    fn cached(&self, key: &ReportKey) -> Option<Arc<Report>> {
        let cache = self.reports.lock().unwrap_or_else(PoisonError::into_inner);
        cache
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, report)| Arc::clone(report))
    }
}

/// Applies the pending facts that follow `seen` without a gap.
fn drain(loaded: &mut Loaded) {
    while let Some(fact) = loaded.pending.remove(&(loaded.seen + 1)) {
        fact(&mut loaded.snapshot);
        loaded.seen += 1;
    }
    // Anything at or below `seen` was read from the store by a rebuild.
    let seen = loaded.seen;
    loaded.pending.retain(|r, _| *r > seen);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_apply_in_revision_order_whatever_order_they_arrive_in() {
        let framework = Framework::builtin().expect("framework");
        let mut loaded = Loaded {
            seen: 5,
            snapshot: Snapshot::new(&framework),
            pending: BTreeMap::new(),
        };
        let order = Arc::new(Mutex::new(Vec::new()));
        for revision in [8, 7, 6] {
            let order = Arc::clone(&order);
            loaded
                .pending
                .insert(revision, Box::new(move |_| order.lock().expect("lock").push(revision)));
            drain(&mut loaded);
        }
        assert_eq!(*order.lock().expect("lock"), [6, 7, 8]);
        assert_eq!(loaded.seen, 8);
        assert!(loaded.pending.is_empty());
    }
}
