//! The storage boundary. Every backend (SQLite now, PostgreSQL next) implements [`Store`];
//! the importer, the metrics and the web app are generic over it. No SQL lives here.

use std::future::Future;

use iip_domain::Date;
use iip_domain::facts::{FactSink, OrgNode};
use iip_domain::records::{Activity, Assessment, MilestoneRecord, Organization, Participant};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened, migrated or queried. The message is the backend's and
    /// never carries participant values: queries bind them as parameters.
    #[error("storage error: {0}")]
    Backend(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What happened to one record offered to an import session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Stored (inserted, or already present with the same content).
    Stored,
    /// The same key already appeared earlier in this import: a duplicate in the package.
    DuplicateInPackage,
    /// The organization or participant it refers to is not known.
    UnknownParent,
}

/// Row counts per table, for summaries and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableCounts {
    pub organizations: u64,
    pub participants: u64,
    pub identities: u64,
    pub activities: u64,
    pub milestones: u64,
    pub assessments: u64,
}

pub trait Store: Clone + Send + Sync + 'static {
    type Import: ImportSession;

    /// Starts an all-or-nothing import: nothing is visible to readers until `commit`.
    fn begin_import(&self, package: &str) -> impl Future<Output = StoreResult<Self::Import>> + Send;

    fn organizations(&self) -> impl Future<Output = StoreResult<Vec<OrgNode>>> + Send;

    /// Streams every fact to `sink`: organizations, then participants, then activities,
    /// milestones and assessments. Builds the metrics engine's in-memory snapshot.
    fn scan_facts<S: FactSink>(&self, sink: &mut S) -> impl Future<Output = StoreResult<()>> + Send;

    /// A number that grows with every committed change: readers holding derived state (the
    /// metrics snapshot) compare it to know when to refresh.
    fn revision(&self) -> impl Future<Output = StoreResult<i64>> + Send;

    /// The date of the latest activity, if any: the default program year to show.
    fn latest_activity_date(&self) -> impl Future<Output = StoreResult<Option<Date>>> + Send;

    fn counts(&self) -> impl Future<Output = StoreResult<TableCounts>> + Send;

    /// A digest of every stored fact (not bookkeeping): equal digests mean equal data.
    fn content_digest(&self) -> impl Future<Output = StoreResult<String>> + Send;
}

/// One import in progress, inside a single transaction.
pub trait ImportSession: Send {
    fn upsert_organization(&mut self, org: &Organization) -> impl Future<Output = StoreResult<Written>> + Send;

    /// Every organization's `(org_id, parent_id)`, including those written in this session.
    fn organization_parents(&mut self) -> impl Future<Output = StoreResult<Vec<(String, Option<String>)>>> + Send;

    fn upsert_participant(&mut self, participant: &Participant) -> impl Future<Output = StoreResult<Written>> + Send;

    /// Adds a batch of activities in one round trip; one outcome per activity, in order.
    fn add_activities(&mut self, batch: &[Activity]) -> impl Future<Output = StoreResult<Vec<Written>>> + Send;

    fn add_milestone(&mut self, milestone: &MilestoneRecord) -> impl Future<Output = StoreResult<Written>> + Send;

    fn upsert_assessment(&mut self, assessment: &Assessment) -> impl Future<Output = StoreResult<Written>> + Send;

    fn commit(self) -> impl Future<Output = StoreResult<()>> + Send;

    fn rollback(self) -> impl Future<Output = StoreResult<()>> + Send;
}
