//! Group commit for case work on PostgreSQL. Each write used to be a transaction of its own
//! that moved the store revision, so writers queued on the revision row's lock one commit
//! (one log flush) at a time. Writes now wait in one queue; a task runs whatever has gathered
//! (up to `BATCH`) in one transaction on a connection of its own, moves the revision once at
//! the end (its row's lock held to the commit keeps commits in revision order across
//! servers), commits once and then answers every waiter. A refused write writes nothing and the
//! others go on; if a write of the batch fails, each is retried alone, so one bad write
//! cannot sink the rest (`iip_store::batch::commit_batch`).

use std::sync::OnceLock;

use iip_store::batch::{CaseWrite, Transact, Untrusted, commit_batch};
use iip_store::sealing::Keys;
use iip_store::{StoreError, WriteResult};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

use crate::{PgStore, backend, case, claims};

/// The most writes one commit carries.
const BATCH: usize = 256;

/// A store's write queue; its task starts with the first write and ends with the store.
pub(crate) struct WriteQueue {
    /// A connection of its own: batches do not queue for the pool behind the requests
    /// that wait for them.
    pool: PgPool,
    sender: OnceLock<mpsc::UnboundedSender<CaseWrite>>,
}

impl WriteQueue {
    pub(crate) fn new(options: PgConnectOptions) -> Self {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(crate::ACQUIRE_TIMEOUT)
            .connect_lazy_with(options);
        Self {
            pool,
            sender: OnceLock::new(),
        }
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }
}

async fn run(pool: PgPool, keys: Option<Arc<Keys>>, mut receiver: mpsc::UnboundedReceiver<CaseWrite>) {
    let writer = Writer { pool, keys };
    let mut batch = Vec::with_capacity(BATCH);
    while receiver.recv_many(&mut batch, BATCH).await > 0 {
        commit_batch(&mut batch, &writer).await;
    }
}

/// The queue task's connection and keys.
struct Writer {
    pool: PgPool,
    keys: Option<Arc<Keys>>,
}

impl Transact<CaseWrite> for Writer {
    fn transact(&self, jobs: &mut [CaseWrite]) -> impl Future<Output = Result<(), StoreError>> + Send {
        write(&self.pool, self.keys.as_deref(), jobs)
    }
}

/// One transaction for the batch; each recorded write takes the next revision. The revision
/// row is locked last, as every other writer of the store does (an import moves it at its
/// end): taken first, a batch inserting a row an import holds would wait on the import while
/// the import waited on the revision row.
async fn write(pool: &PgPool, keys: Option<&Keys>, batch: &mut [CaseWrite]) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    // Recorded writes are numbered 1, 2, … here and moved past the store's revision below.
    let mut recorded = 0;
    for job in batch.iter_mut() {
        match run_one(job, keys, &mut tx, recorded + 1).await {
            Ok(true) => recorded += 1,
            Ok(false) => {}
            Err(untrusted) => return Err(untrusted.into_batch_error()),
        }
    }
    if recorded > 0 {
        let last: i64 =
            sqlx::query_scalar("UPDATE store_revision SET revision = revision + $1 WHERE id = 1 RETURNING revision")
                .bind(recorded)
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
        for job in batch.iter_mut() {
            job.shift_revision(last - recorded);
        }
    }
    crate::commit(tx).await
}

/// Runs one write as revision `revision`: `Ok(true)` when it was recorded, `Ok(false)` when
/// refused (nothing written), `Err` when the transaction can no longer be trusted. The
/// write's idempotency key is taken first (a key already held refuses it), and let go of
/// if the write is refused.
async fn run_one(
    job: &mut CaseWrite,
    keys: Option<&Keys>,
    conn: &mut PgConnection,
    revision: i64,
) -> Result<bool, Untrusted> {
    if let Some(claim) = job.claim() {
        match claims::take(conn, claim, keys).await {
            Err(e) => return Err(Untrusted(e)),
            Ok(Some(refusal)) => {
                job.refuse(refusal);
                return Ok(false);
            }
            Ok(None) => {}
        }
    }
    let recorded = match job {
        CaseWrite::Participant(p, _, reply) => reply.keep(case::create_participant(keys, conn, p, revision).await),
        CaseWrite::Activity(a, _, reply) => reply.keep(case::record_activity(conn, a, revision).await),
        CaseWrite::Milestone(m, _, reply) => reply.keep(case::record_milestone(conn, m, revision).await),
        CaseWrite::Assessment(s, _, reply) => reply.keep(case::record_assessment(conn, s, revision).await),
    }?;
    if let (false, Some(claim)) = (recorded, job.claim()) {
        claims::release(conn, claim, keys).await.map_err(Untrusted)?;
    }
    Ok(recorded)
}

impl PgStore {
    /// Queues a write and waits for the commit that holds it.
    pub(crate) async fn batch<F>(
        &self,
        write: impl FnOnce(oneshot::Sender<WriteResult<F>>) -> CaseWrite,
    ) -> WriteResult<F> {
        let stopped = || StoreError::Backend("the store's writer has stopped".into());
        let sender = self.writes.sender.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            tokio::spawn(run(self.writes.pool.clone(), self.keys.clone(), receiver));
            sender
        });
        let (done, outcome) = oneshot::channel();
        sender.send(write(done)).map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }
}
