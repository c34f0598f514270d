//! Group commit of case work, the parts both backends share: the queued writes and where
//! each one's answer goes. A backend's writer takes whatever writes have gathered, runs them
//! in one transaction (a refused write writes nothing, so the others go on), commits once,
//! and then answers every waiter: a write is acknowledged only after the commit that holds it.

use iip_domain::facts::{ActivityFact, AssessmentFact, MilestoneFact, ParticipantFact};
use iip_domain::records::{Activity, Assessment, MilestoneRecord, Participant};
use tokio::sync::oneshot;

use crate::{Claim, Refused, StoreError, WriteResult};

/// A write of the batch failed: its transaction can no longer be trusted, and the batch is
/// not committed.
#[derive(Debug)]
pub struct Untrusted(pub StoreError);

impl Untrusted {
    /// The batch's error: the store out of reach stays `Unavailable` (503, and no write is
    /// retried alone: each would wait for the store in turn); any other failure is a fault
    /// of one write, and the batch's writes are retried alone.
    pub fn into_batch_error(self) -> StoreError {
        match self.0 {
            unavailable @ StoreError::Unavailable(_) => unavailable,
            _ => StoreError::Backend("a write of the batch failed".into()),
        }
    }
}

/// A queued job, answered once the batch that holds it has committed (or failed).
pub trait Queued {
    fn finish(self, committed: &Result<(), StoreError>);
}

/// What runs a batch of `J` in one transaction: a backend's writer.
pub trait Transact<J> {
    fn transact(&self, jobs: &mut [J]) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Runs a gathered batch in one transaction (`writer`) and answers every job. If one write
/// failed (a backend error), each is retried alone so that it cannot sink the rest; never
/// when the store is out of reach (each would wait for it in turn: once a retry finds it out
/// of reach, the rest are failed at once) or when the commit's outcome is unknown (a retry
/// could record a committed write twice).
pub async fn commit_batch<J: Queued>(batch: &mut Vec<J>, writer: &impl Transact<J>) {
    let committed = writer.transact(batch.as_mut_slice()).await;
    if !matches!(committed, Err(StoreError::Backend(_))) || batch.len() == 1 {
        for job in batch.drain(..) {
            job.finish(&committed);
        }
        return;
    }
    let mut out_of_reach: Option<StoreError> = None;
    for mut job in batch.drain(..) {
        let committed = match &out_of_reach {
            Some(failure) => Err(failure.clone()),
            None => writer.transact(std::slice::from_mut(&mut job)).await,
        };
        if let Err(failure @ StoreError::Unavailable(_)) = &committed {
            out_of_reach.get_or_insert_with(|| failure.clone());
        }
        job.finish(&committed);
    }
}

/// Where a write's outcome goes once its batch has committed (or failed).
pub struct Reply<F> {
    done: oneshot::Sender<WriteResult<F>>,
    outcome: Option<WriteResult<F>>,
}

impl<F> Reply<F> {
    pub fn new(done: oneshot::Sender<WriteResult<F>>) -> Self {
        Self { done, outcome: None }
    }

    /// Keeps the write's outcome for the answer: `Ok(true)` when it was recorded, `Ok(false)`
    /// when refused.
    pub fn keep(&mut self, outcome: WriteResult<F>) -> Result<bool, Untrusted> {
        let result = match &outcome {
            Ok(Ok(_)) => Ok(true),
            Ok(Err(_)) => Ok(false),
            Err(e) => Err(Untrusted(e.clone())),
        };
        self.outcome = Some(outcome);
        result
    }

    fn shift_revision(&mut self, by: i64) {
        if let Some(Ok(Ok(recorded))) = &mut self.outcome {
            recorded.revision += by;
        }
    }

    fn finish(self, committed: &Result<(), StoreError>) {
        let outcome = match (committed, self.outcome) {
            (Ok(()), Some(outcome)) => outcome,
            (Ok(()), None) => Err(StoreError::Backend("the write did not run".into())),
            // The write's own error says more than the batch's.
            (Err(_), Some(Err(own))) => Err(own),
            // The batch's error as it was: a full disk stays `Unavailable` (503), not a fault.
            (Err(e), _) => Err(e.clone()),
        };
        let _ = self.done.send(outcome);
    }
}

/// A case write waiting in a backend's queue, with its idempotency key and its answer.
pub enum CaseWrite {
    Participant(Box<Participant>, Option<Claim>, Reply<ParticipantFact>),
    Activity(Activity, Option<Claim>, Reply<ActivityFact>),
    Milestone(MilestoneRecord, Option<Claim>, Reply<MilestoneFact>),
    Assessment(Assessment, Option<Claim>, Reply<AssessmentFact>),
}

impl CaseWrite {
    pub fn claim(&self) -> Option<&Claim> {
        match self {
            CaseWrite::Participant(_, claim, _)
            | CaseWrite::Activity(_, claim, _)
            | CaseWrite::Milestone(_, claim, _)
            | CaseWrite::Assessment(_, claim, _) => claim.as_ref(),
        }
    }

    /// Answers `refusal` (an idempotency key already held) without running the write.
    pub fn refuse(&mut self, refusal: Refused) {
        match self {
            CaseWrite::Participant(_, _, reply) => reply.outcome = Some(Ok(Err(refusal))),
            CaseWrite::Activity(_, _, reply) => reply.outcome = Some(Ok(Err(refusal))),
            CaseWrite::Milestone(_, _, reply) => reply.outcome = Some(Ok(Err(refusal))),
            CaseWrite::Assessment(_, _, reply) => reply.outcome = Some(Ok(Err(refusal))),
        }
    }

    /// Adds `by` to the revision of a recorded write: for a backend that numbers its batch's
    /// writes 1, 2, … and learns the revision they follow only when it moves the revision,
    /// at the end of the transaction.
    pub fn shift_revision(&mut self, by: i64) {
        match self {
            CaseWrite::Participant(_, _, reply) => reply.shift_revision(by),
            CaseWrite::Activity(_, _, reply) => reply.shift_revision(by),
            CaseWrite::Milestone(_, _, reply) => reply.shift_revision(by),
            CaseWrite::Assessment(_, _, reply) => reply.shift_revision(by),
        }
    }
}

impl Queued for CaseWrite {
    /// Sends the answer: the write's own outcome if its batch committed, else the failure.
    fn finish(self, committed: &Result<(), StoreError>) {
        match self {
            CaseWrite::Participant(_, _, reply) => reply.finish(committed),
            CaseWrite::Activity(_, _, reply) => reply.finish(committed),
            CaseWrite::Milestone(_, _, reply) => reply.finish(committed),
            CaseWrite::Assessment(_, _, reply) => reply.finish(committed),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A job that writes down the answer it got.
    struct Job<'a>(&'a Mutex<Vec<Result<(), StoreError>>>);

    impl Queued for Job<'_> {
        fn finish(self, committed: &Result<(), StoreError>) {
            self.0.lock().expect("lock").push(committed.clone());
        }
    }

    /// Answers each transaction with the next of `answers`, counting the writes it was given.
    struct Script {
        answers: Mutex<Vec<Result<(), StoreError>>>,
        sizes: Mutex<Vec<usize>>,
    }

    impl<'a> Transact<Job<'a>> for Script {
        fn transact(&self, jobs: &mut [Job<'a>]) -> impl Future<Output = Result<(), StoreError>> + Send {
            self.sizes.lock().expect("lock").push(jobs.len());
            let answer = self.answers.lock().expect("lock").remove(0);
            async move { answer }
        }
    }

    fn run(answers: Vec<Result<(), StoreError>>, jobs: usize) -> (Vec<usize>, Vec<Result<(), StoreError>>) {
        let answered = Mutex::new(Vec::new());
        let script = Script {
            answers: Mutex::new(answers),
            sizes: Mutex::new(Vec::new()),
        };
        let mut batch: Vec<Job> = (0..jobs).map(|_| Job(&answered)).collect();
        block_on(commit_batch(&mut batch, &script));
        assert!(batch.is_empty(), "every job is answered and leaves the batch");
        (
            script.sizes.into_inner().expect("lock"),
            answered.into_inner().expect("lock"),
        )
    }

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(future)
    }

    fn backend() -> Result<(), StoreError> {
        Err(StoreError::Backend("bad write".into()))
    }

    fn out_of_reach() -> Result<(), StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }

    #[test]
    fn a_committed_batch_answers_every_job_with_one_transaction() {
        let (sizes, answered) = run(vec![Ok(())], 3);
        assert_eq!(sizes, vec![3]);
        assert_eq!(answered.len(), 3);
        assert!(answered.iter().all(Result::is_ok));
    }

    #[test]
    fn one_bad_write_is_retried_alone_and_the_rest_commit() {
        let (sizes, answered) = run(vec![backend(), Ok(()), backend(), Ok(())], 3);
        assert_eq!(sizes, vec![3, 1, 1, 1]);
        assert!(answered[0].is_ok() && answered[2].is_ok());
        assert!(matches!(answered[1], Err(StoreError::Backend(_))));
    }

    #[test]
    fn a_store_out_of_reach_is_not_waited_for_once_per_write() {
        // The batch's write fails, the first retry finds the store gone: the other two are
        // answered 503 at once, without a transaction (each would wait for a connection).
        let (sizes, answered) = run(vec![backend(), out_of_reach()], 3);
        assert_eq!(sizes, vec![3, 1]);
        assert_eq!(answered.len(), 3);
        assert!(answered.iter().all(|a| matches!(a, Err(StoreError::Unavailable(_)))));
    }

    #[test]
    fn a_batch_that_could_not_reach_the_store_or_whose_commit_is_in_doubt_is_not_retried() {
        let (sizes, answered) = run(vec![out_of_reach()], 4);
        assert_eq!(sizes, vec![4]);
        assert!(answered.iter().all(|a| matches!(a, Err(StoreError::Unavailable(_)))));
        let (sizes, answered) = run(vec![Err(StoreError::InDoubt("commit lost".into()))], 2);
        assert_eq!(sizes, vec![2]);
        assert!(answered.iter().all(|a| matches!(a, Err(StoreError::InDoubt(_)))));
    }

    #[test]
    fn a_failed_write_keeps_the_store_out_of_reach_as_the_batch_error() {
        let error = Untrusted(StoreError::Unavailable("gone".into())).into_batch_error();
        assert!(matches!(error, StoreError::Unavailable(_)));
        let error = Untrusted(StoreError::Backend("constraint".into())).into_batch_error();
        assert!(matches!(error, StoreError::Backend(_)));
    }
}
