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
pub struct Untrusted;

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
            Err(_) => Err(Untrusted),
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

    /// Sends the answer: the write's own outcome if its batch committed, else the failure.
    pub fn finish(self, committed: &Result<(), StoreError>) {
        match self {
            CaseWrite::Participant(_, _, reply) => reply.finish(committed),
            CaseWrite::Activity(_, _, reply) => reply.finish(committed),
            CaseWrite::Milestone(_, _, reply) => reply.finish(committed),
            CaseWrite::Assessment(_, _, reply) => reply.finish(committed),
        }
    }
}
