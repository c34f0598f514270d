//! Group commit for case work and the audit log. SQLite has one writer; rather than each
//! request opening its own transaction and committing alone, every write and audit entry waits
//! in one queue and a single task runs whatever has gathered (up to `BATCH`) in one
//! transaction, moves the store revision once, commits once, and then answers every waiter. A write is acknowledged only after the commit
//! that holds it. A refused write (duplicate, unknown participant) writes nothing and the
//! others go on; if the batch fails, each of its writes is retried alone, so one bad write
//! cannot sink the rest.

use std::sync::{Arc, OnceLock};

use iip_store::batch::{CaseWrite, Queued, Transact, Untrusted, commit_batch};
use iip_store::sealing::Keys;
use iip_store::{StoreError, WriteResult};
use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::{SqliteStore, audit, backend, case, claims};

/// The most writes one commit carries.
const BATCH: usize = 512;

pub(crate) enum Job {
    /// An audit entry: appended after the batch's case writes, in the same commit.
    Audit(audit::Pending),
    Case(CaseWrite),
}

impl Job {
    /// Runs the write as revision `revision`: `Ok(true)` when it was recorded, `Ok(false)`
    /// when refused (nothing written), `Err` when the transaction can no longer be trusted.
    /// A write with an idempotency key already held is refused before it runs; a recorded
    /// write's key is kept in the same transaction.
    async fn run(
        &mut self,
        keys: Option<&Keys>,
        conn: &mut SqliteConnection,
        revision: i64,
    ) -> Result<bool, Untrusted> {
        let Job::Case(write) = self else { return Ok(false) };
        if let Some(claim) = write.claim() {
            match claims::held(conn, claim, keys).await {
                Err(e) => return Err(Untrusted(e)),
                Ok(Some(refusal)) => {
                    write.refuse(refusal);
                    return Ok(false);
                }
                Ok(None) => {}
            }
        }
        let recorded = match write {
            CaseWrite::Participant(p, _, reply) => reply.keep(case::create_participant(keys, conn, p, revision).await),
            CaseWrite::Activity(a, _, reply) => reply.keep(case::record_activity(conn, a, revision).await),
            CaseWrite::Milestone(m, _, reply) => reply.keep(case::record_milestone(conn, m, revision).await),
            CaseWrite::Assessment(s, _, reply) => reply.keep(case::record_assessment(conn, s, revision).await),
        }?;
        if let (true, Some(claim)) = (recorded, write.claim()) {
            claims::keep(conn, claim, keys).await.map_err(Untrusted)?;
        }
        Ok(recorded)
    }
}

impl Queued for Job {
    fn finish(self, committed: &Result<(), StoreError>) {
        match self {
            Job::Audit(pending) => {
                let _ = pending.done.send(committed.clone());
            }
            Job::Case(write) => write.finish(committed),
        }
    }
}

/// A store's write queue; its task starts with the first write.
#[derive(Default)]
pub(crate) struct WriteQueue {
    sender: OnceLock<mpsc::UnboundedSender<Job>>,
}

pub(crate) fn queue() -> Arc<WriteQueue> {
    Arc::new(WriteQueue::default())
}

async fn run(writer: Writer, mut receiver: mpsc::UnboundedReceiver<Job>) {
    let mut batch = Vec::with_capacity(BATCH);
    while receiver.recv_many(&mut batch, BATCH).await > 0 {
        commit_batch(&mut batch, &writer).await;
    }
}

/// The queue task's connections and keys.
struct Writer {
    writer: SqlitePool,
    keys: Option<Arc<Keys>>,
    /// Batches of audit entries alone.
    appender: Arc<audit::Appender>,
}

impl Transact<Job> for Writer {
    async fn transact(&self, jobs: &mut [Job]) -> Result<(), StoreError> {
        if jobs.iter().all(|job| matches!(job, Job::Audit(_))) {
            let entries = jobs
                .iter()
                .filter_map(|job| match job {
                    Job::Audit(pending) => Some((pending.event.clone(), pending.chain)),
                    Job::Case(_) => None,
                })
                .collect();
            return self.appender.append(entries).await;
        }
        write(&self.writer, self.keys.as_deref(), jobs).await
    }
}

/// One transaction for the batch (with case writes); each recorded write takes the next
/// revision.
async fn write(writer: &SqlitePool, keys: Option<&Keys>, batch: &mut [Job]) -> Result<(), StoreError> {
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
    let base: i64 = sqlx::query_scalar("SELECT revision FROM store_revision WHERE id = 1")
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
    let mut revision = base;
    for job in batch.iter_mut() {
        match job.run(keys, &mut tx, revision + 1).await {
            Ok(true) => revision += 1,
            Ok(false) => {}
            Err(untrusted) => return Err(untrusted.into_batch_error()),
        }
    }
    let entries: Vec<&audit::Pending> = batch
        .iter()
        .filter_map(|job| match job {
            Job::Audit(pending) => Some(pending),
            _ => None,
        })
        .collect();
    audit::append(&mut tx, &entries).await?;
    if revision > base {
        sqlx::query("UPDATE store_revision SET revision = ? WHERE id = 1")
            .bind(revision)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
    }
    tx.commit().await.map_err(backend)
}

impl SqliteStore {
    /// Puts a job in the write queue (starting its task with the first).
    pub(crate) fn queue(&self, job: Job) -> Result<(), StoreError> {
        let sender = self.writes.sender.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            let writer = Writer {
                writer: self.writer.clone(),
                keys: self.keys.clone(),
                appender: Arc::clone(&self.appender),
            };
            tokio::spawn(run(writer, receiver));
            sender
        });
        sender
            .send(job)
            .map_err(|_| StoreError::Backend("the store's writer has stopped".into()))
    }

    /// Queues a write and waits for the commit that holds it.
    pub(crate) async fn batch<F>(
        &self,
        write: impl FnOnce(oneshot::Sender<WriteResult<F>>) -> CaseWrite,
    ) -> WriteResult<F> {
        let (done, outcome) = oneshot::channel();
        self.queue(Job::Case(write(done)))?;
        outcome
            .await
            .map_err(|_| StoreError::Backend("the store's writer has stopped".into()))?
    }
}
