//! Closed-loop referrals. States follow the HL7 SDOH Clinical Care referral flow:
//! requested → accepted or rejected → in progress or on hold → completed, failed or cancelled.
//! Every change records who made it, when, and why: a change without a reason is refused.

use iip_domain::{Date, Id, InvalidValue};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    Requested,
    Accepted,
    Rejected,
    InProgress,
    OnHold,
    Completed,
    Failed,
    Cancelled,
}

/// Which side of a referral may make a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The organization that sent the referral.
    Sender,
    /// The organization it was sent to.
    Receiver,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("a referral that is {from} cannot become {to}")]
    NotAllowed { from: ReferralStatus, to: ReferralStatus },
    #[error("only the {0} of a referral may mark it {1}")]
    WrongSide(&'static str, ReferralStatus),
    #[error("a reason is required to mark a referral {0}")]
    ReasonRequired(ReferralStatus),
}

impl ReferralStatus {
    pub const ALL: &'static [ReferralStatus] = &[
        Self::Requested,
        Self::Accepted,
        Self::Rejected,
        Self::InProgress,
        Self::OnHold,
        Self::Completed,
        Self::Failed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::InProgress => "in_progress",
            Self::OnHold => "on_hold",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// The words a page shows.
    pub fn label(self) -> &'static str {
        match self {
            Self::Requested => "Requested",
            Self::Accepted => "Accepted",
            Self::Rejected => "Rejected",
            Self::InProgress => "In progress",
            Self::OnHold => "On hold",
            Self::Completed => "Completed",
            Self::Failed => "Failed",
            Self::Cancelled => "Cancelled",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::ALL.iter().copied().find(|s| s.as_str() == raw).ok_or_else(|| {
            InvalidValue::new(format!(
                "{raw:?} is not one of: requested, accepted, rejected, in_progress, on_hold, completed, failed, cancelled"
            ))
        })
    }

    /// No change follows a terminal state.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Rejected | Self::Completed | Self::Failed | Self::Cancelled)
    }

    /// The states a referral in this state may move to.
    pub fn next(self) -> &'static [ReferralStatus] {
        use ReferralStatus::*;
        match self {
            Requested => &[Accepted, Rejected, Cancelled],
            Accepted => &[InProgress, OnHold, Completed, Failed, Cancelled],
            InProgress => &[OnHold, Completed, Failed, Cancelled],
            OnHold => &[InProgress, Failed, Cancelled],
            Rejected | Completed | Failed | Cancelled => &[],
        }
    }

    /// Who may move a referral into this state: the sender withdraws (cancels), the receiver
    /// answers and reports progress.
    pub fn decided_by(self) -> Side {
        match self {
            Self::Cancelled | Self::Requested => Side::Sender,
            _ => Side::Receiver,
        }
    }

    /// Every change needs a reason (who and when are recorded with it), so each step of the
    /// loop, and above all a refusal, failure or withdrawal, carries an explanation.
    pub fn needs_reason(self) -> bool {
        self != Self::Requested
    }

    /// Checks one change made by `side`.
    pub fn check(self, to: ReferralStatus, side: Side, reason: Option<&str>) -> Result<(), TransitionError> {
        if !self.next().contains(&to) {
            return Err(TransitionError::NotAllowed { from: self, to });
        }
        if to.decided_by() != side {
            let who = match to.decided_by() {
                Side::Sender => "sender",
                Side::Receiver => "receiver",
            };
            return Err(TransitionError::WrongSide(who, to));
        }
        if to.needs_reason() && reason.is_none_or(|r| r.trim().is_empty()) {
            return Err(TransitionError::ReasonRequired(to));
        }
        Ok(())
    }
}

impl std::fmt::Display for ReferralStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A referral as a case worker makes it. `participant_id` is the sender's local id: the
/// receiver reaches the record only through the participant's consent.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReferral {
    pub from_org_id: Id,
    pub participant_id: Id,
    pub to_org_id: Id,
    pub service_id: Option<Id>,
    /// The framework element the referral is for.
    pub element: String,
    /// What the participant needs, for the receiver. Never identifying by rule of the form.
    pub note: Option<String>,
    pub by_user: i64,
    /// Unix seconds.
    pub at: i64,
}

/// One change of state: who, when, why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReferralEvent {
    pub status: ReferralStatus,
    /// Unix seconds.
    pub at: i64,
    pub by_user: Option<i64>,
    pub by_org_id: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Referral {
    pub id: i64,
    pub from_org_id: String,
    pub participant_id: String,
    pub to_org_id: String,
    pub service_id: Option<String>,
    pub element: String,
    pub note: Option<String>,
    pub status: ReferralStatus,
    /// The milestone recorded when it completed with an outcome.
    pub outcome_milestone: Option<String>,
    /// Oldest first; the first is always `requested`.
    pub events: Vec<ReferralEvent>,
}

pub const SECONDS_PER_DAY: i64 = 86_400;

impl Referral {
    pub fn requested_at(&self) -> i64 {
        self.events.first().map_or(0, |e| e.at)
    }

    /// When it first reached `status`, if it did.
    pub fn reached(&self, status: ReferralStatus) -> Option<i64> {
        self.events.iter().find(|e| e.status == status).map(|e| e.at)
    }

    pub fn requested_on(&self) -> Date {
        date_of(self.requested_at())
    }

    /// Waiting for an answer for more than `days` days at `now`.
    pub fn unanswered(&self, now: i64, days: u32) -> bool {
        self.status == ReferralStatus::Requested && now - self.requested_at() > i64::from(days) * SECONDS_PER_DAY
    }

    pub fn side_of(&self, org_id: &str) -> Option<Side> {
        if self.from_org_id == org_id {
            Some(Side::Sender)
        } else if self.to_org_id == org_id {
            Some(Side::Receiver)
        } else {
            None
        }
    }
}

/// The calendar day (UTC) of a Unix time.
pub fn date_of(unix_seconds: i64) -> Date {
    let days = unix_seconds.div_euclid(SECONDS_PER_DAY);
    i32::try_from(days)
        .ok()
        .and_then(Date::from_day_number)
        .unwrap_or_else(|| Date::from_ymd(1970, 1, 1).unwrap_or_else(Date::today))
}

#[cfg(test)]
mod tests {
    use super::ReferralStatus::*;
    use super::*;

    #[test]
    fn the_hl7_flow_is_the_only_way_through() {
        let why = Some("Intake call done");
        assert_eq!(Requested.check(Accepted, Side::Receiver, why), Ok(()));
        assert_eq!(Accepted.check(InProgress, Side::Receiver, why), Ok(()));
        assert_eq!(InProgress.check(OnHold, Side::Receiver, why), Ok(()));
        assert_eq!(OnHold.check(InProgress, Side::Receiver, why), Ok(()));
        assert_eq!(InProgress.check(Completed, Side::Receiver, why), Ok(()));
        assert_eq!(
            Requested.check(Completed, Side::Receiver, why),
            Err(TransitionError::NotAllowed {
                from: Requested,
                to: Completed
            })
        );
        for terminal in [Rejected, Completed, Failed, Cancelled] {
            assert!(terminal.is_terminal());
            for to in ReferralStatus::ALL {
                assert!(terminal.check(*to, Side::Receiver, Some("x")).is_err());
                assert!(terminal.check(*to, Side::Sender, Some("x")).is_err());
            }
        }
    }

    #[test]
    fn each_side_makes_its_own_changes_and_every_change_carries_a_reason() {
        assert_eq!(
            Requested.check(Accepted, Side::Sender, Some("x")),
            Err(TransitionError::WrongSide("receiver", Accepted))
        );
        assert_eq!(
            Requested.check(Cancelled, Side::Receiver, Some("no")),
            Err(TransitionError::WrongSide("sender", Cancelled))
        );
        assert_eq!(
            Requested.check(Rejected, Side::Receiver, Some(" ")),
            Err(TransitionError::ReasonRequired(Rejected))
        );
        assert_eq!(
            Requested.check(Rejected, Side::Receiver, Some("Full until March")),
            Ok(())
        );
        assert_eq!(Requested.check(Cancelled, Side::Sender, Some("Moved away")), Ok(()));
        // Not only refusals: every step of the flow needs its reason.
        for (from, to) in [
            (Requested, Accepted),
            (Accepted, InProgress),
            (Accepted, OnHold),
            (InProgress, Completed),
            (OnHold, InProgress),
        ] {
            assert_eq!(
                from.check(to, Side::Receiver, None),
                Err(TransitionError::ReasonRequired(to)),
                "{from} -> {to}"
            );
            assert_eq!(
                from.check(to, Side::Receiver, Some("")),
                Err(TransitionError::ReasonRequired(to))
            );
            assert_eq!(from.check(to, Side::Receiver, Some("Seen on Monday")), Ok(()));
        }
        for to in ReferralStatus::ALL.iter().filter(|s| **s != Requested) {
            assert!(to.needs_reason(), "{to}");
        }
    }

    #[test]
    fn codes_round_trip_and_unanswered_counts_whole_days() {
        for status in ReferralStatus::ALL {
            assert_eq!(ReferralStatus::parse(status.as_str()), Ok(*status));
        }
        assert!(ReferralStatus::parse("done").is_err());
        let referral = Referral {
            id: 1,
            from_org_id: "a".into(),
            participant_id: "p".into(),
            to_org_id: "b".into(),
            service_id: None,
            element: "health".into(),
            note: None,
            status: Requested,
            outcome_milestone: None,
            events: vec![ReferralEvent {
                status: Requested,
                at: 10 * SECONDS_PER_DAY,
                by_user: Some(1),
                by_org_id: "a".into(),
                reason: None,
            }],
        };
        assert!(!referral.unanswered(17 * SECONDS_PER_DAY, 7));
        assert!(referral.unanswered(17 * SECONDS_PER_DAY + 1, 7));
        assert_eq!(referral.requested_on(), Date::parse("1970-01-11").expect("date"));
        assert_eq!(referral.side_of("b"), Some(Side::Receiver));
        assert_eq!(referral.side_of("c"), None);
    }
}
