//! The partnership side of the store: the service directory, agreements between
//! organizations, community figures, and closed-loop referrals.

use std::future::Future;

use iip_directory::{
    CommunityFigure, NeedSignal, NewReferral, Partnership, Referral, ReferralEvent, ReferralStatus, Service,
};
use iip_domain::records::{MilestoneRecord, Organization};

use crate::{Refused, StoreResult};

/// Which referrals to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferralFilter<'a> {
    /// Every referral (for metrics).
    All,
    /// Sent by or sent to this organization.
    Organization(&'a str),
    /// Of one participant of the sending organization.
    Participant { org_id: &'a str, participant_id: &'a str },
}

pub trait DirectoryStore {
    /// Every organization with its area and the areas it serves.
    fn organization_records(&self) -> impl Future<Output = StoreResult<Vec<Organization>>> + Send;

    /// Adds or replaces services by `service_id` (locations replaced with them), in one
    /// transaction. Every service's organization must exist: `Err(Refused::Unknown)` otherwise,
    /// and nothing is written.
    fn put_services(&self, services: &[Service]) -> impl Future<Output = StoreResult<Result<u64, Refused>>> + Send;

    /// The whole directory, by organization then service id.
    fn services(&self) -> impl Future<Output = StoreResult<Vec<Service>>> + Send;

    /// Adds or replaces agreements by `partnership_id`, in one transaction; both organizations
    /// must exist (`Err(Refused::Unknown)`, nothing written).
    fn put_partnerships(
        &self,
        partnerships: &[Partnership],
    ) -> impl Future<Output = StoreResult<Result<u64, Refused>>> + Send;

    fn partnerships(&self) -> impl Future<Output = StoreResult<Vec<Partnership>>> + Send;

    /// Replaces every community figure with these.
    fn put_community_figures(&self, figures: &[CommunityFigure]) -> impl Future<Output = StoreResult<u64>> + Send;

    fn community_figures(&self) -> impl Future<Output = StoreResult<Vec<CommunityFigure>>> + Send;

    /// One signal per participant record and element with a pathway need in that element or a
    /// latest `iip_self.<element>` self-assessment score below `iip_directory::gaps::LOW_SELF_SCORE`.
    fn need_signals(&self) -> impl Future<Output = StoreResult<Vec<NeedSignal>>> + Send;

    /// Records a referral with its first event (`requested`). `Err(Refused::Unknown)` when the
    /// participant is not one of `from_org_id`'s, or the receiving organization (or the service,
    /// when named) does not exist.
    fn create_referral(&self, referral: &NewReferral)
    -> impl Future<Output = StoreResult<Result<i64, Refused>>> + Send;

    /// Moves a referral from `from` to `event.status`, appending the event (and the outcome
    /// milestone, when given), only if it is still in `from`: `false` when another change got
    /// there first or the referral does not exist. Transition rules are the caller's
    /// (`ReferralStatus::check`).
    fn change_referral(
        &self,
        id: i64,
        from: ReferralStatus,
        event: &ReferralEvent,
        outcome_milestone: Option<&str>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Names `delivered_by` as the organization that delivered `milestone` (the outcome of a
    /// referral it received), on the milestone the sender recorded for the participant that
    /// day. Only a milestone not credited yet is: `false` when there is no such milestone, it
    /// names a deliverer already, or `delivered_by` is not a known organization.
    fn credit_milestone(
        &self,
        milestone: &MilestoneRecord,
        delivered_by: &str,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    fn referral(&self, id: i64) -> impl Future<Output = StoreResult<Option<Referral>>> + Send;

    /// Referrals with their events, newest first.
    fn referrals(&self, filter: ReferralFilter<'_>) -> impl Future<Output = StoreResult<Vec<Referral>>> + Send;
}

/// The community gap analysis over everything the store holds (suppression decided on the
/// whole); the web app then keeps the areas in a user's view.
pub async fn gap_report<S: DirectoryStore + Sync>(
    store: &S,
    threshold: u64,
) -> StoreResult<iip_directory::gaps::GapReport> {
    let organizations = store.organization_records().await?;
    let needs = store.need_signals().await?;
    let community = store.community_figures().await?;
    let services = store.services().await?;
    let referrals = store.referrals(ReferralFilter::All).await?;
    Ok(iip_directory::gaps::analyse(&iip_directory::gaps::GapInput {
        organizations: &organizations,
        needs: &needs,
        community: &community,
        services: &services,
        referrals: &referrals,
        threshold,
    }))
}
