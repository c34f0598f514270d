//! Partnerships between organizations, the service directory, closed-loop referrals and the
//! community gap analysis: the seed's vertical and horizontal integration made workable.
//!
//! Pure: no SQL, no HTTP. Stores persist these records (`iip_store::DirectoryStore`); the web
//! app and the CLI render them. Every count that leaves through `referral_metrics` or `gaps` has
//! been through small-cell suppression.

pub mod community;
pub mod gaps;
pub mod hsds;
pub mod partnership;
pub mod referral;
pub mod referral_metrics;
pub mod referral_views;
pub mod service;
pub mod suppress;

pub use gaps::{CommunityFigure, NeedSignal};
pub use partnership::{Partnership, PartnershipKind};
pub use referral::{NewReferral, Referral, ReferralEvent, ReferralStatus, Side, TransitionError};
pub use service::{Location, Service, ServiceQuery, search};
